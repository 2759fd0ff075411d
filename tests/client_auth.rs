//! `private_key_jwt` (RFC 7523 2.2): the client signs a fresh assertion
//! for every token request, and the local server checks it as a provider
//! does: signature, `iss`/`sub`, `aud`, `exp`/`iat`, and `jti` replays.

mod common;

use bearer::assertion::{AssertionAlg, SigningKey};
use bearer::local_server::{self, LocalAuthServer};
use bearer::{Client, Config, ProblemKind};
use common::*;
use serde_json::{Map, Value, json};

fn key_file(name: &str) -> String {
    format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn jwt_config(server: &LocalAuthServer, key: &str) -> Value {
    json!({
        "client_id": local_server::JWT_CLIENT_ID,
        "client_auth": "private_key_jwt",
        "private_key_file": key_file(key),
        "audience": local_server::DEMO_AUDIENCE,
        "token_url": server.auth0_token_url(),
    })
}

#[test]
fn each_key_and_algorithm_gets_a_token_with_a_fresh_assertion_every_time() {
    let server = server();
    for (key, alg) in [
        ("rsa.key", None),
        ("rsa.key", Some("PS256")),
        ("rsa-pkcs1.key", Some("RS256")),
        ("ec.key", None),
        ("ec-sec1.key", Some("ES256")),
    ] {
        let mut config = jwt_config(&server, key);
        if let Some(alg) = alg {
            config["assertion_alg"] = alg.into();
        }
        config["key_id"] = "test-key-1".into();
        let client = Client::from_json(&config.to_string()).unwrap();
        let first = client
            .token()
            .unwrap_or_else(|p| panic!("{key} {alg:?}: {p}"));
        assert_eq!(claims(&first.access_token)["sub"], "jwt-client@clients");
        // A second request signs anew: a replayed jti would be refused.
        assert!(client.token_refused(&first.access_token).unwrap().dropped());
        let second = client
            .token()
            .unwrap_or_else(|p| panic!("{key} {alg:?} again: {p}"));
        assert_ne!(second.access_token, first.access_token);
    }
    assert_eq!(server.auth0_requests(), 10);
}

#[test]
fn the_assertion_may_name_the_issuer_as_its_audience() {
    let server = server();
    let mut config = jwt_config(&server, "ec.key");
    config["issuer"] = server.issuer().into();
    config["assertion_audience"] = "issuer".into();
    let client = Client::from_json(&config.to_string()).unwrap();
    assert!(client.token().is_ok());
}

/// Posts a hand-made assertion; the server's status and error.
fn post_assertion(server: &LocalAuthServer, assertion: &str) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(server.auth0_token_url())
        .send_form([
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
            ("audience", local_server::DEMO_AUDIENCE),
        ])
        .unwrap();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap())
}

#[test]
fn the_server_refuses_assertions_a_provider_refuses() {
    let server = server();
    let key = SigningKey::load(key_file("rsa.key").as_ref(), None, None).unwrap();
    let now = bearer::token::unix_now() as i64;
    let good = || -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("iss".into(), local_server::JWT_CLIENT_ID.into());
        claims.insert("sub".into(), local_server::JWT_CLIENT_ID.into());
        claims.insert("aud".into(), server.auth0_token_url().into());
        claims.insert("jti".into(), format!("jti-{}", rand_suffix()).into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + 60).into());
        claims
    };
    let replayed = key.signed_jwt(&good()).unwrap();
    assert_eq!(post_assertion(&server, &replayed).0, 200);
    let (status, error) = post_assertion(&server, &replayed);
    assert_eq!(
        (status, error["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(error["error_description"].as_str().unwrap().contains("jti"));

    let with = |name: &str, value: Value| {
        let mut claims = good();
        claims.insert(name.into(), value);
        key.signed_jwt(&claims).unwrap()
    };
    for (case, assertion, says) in [
        (
            "wrong aud",
            with("aud", "https://elsewhere/oauth/token".into()),
            "aud",
        ),
        ("expired", with("exp", (now - 120).into()), "expired"),
        ("iat ahead", with("iat", (now + 600).into()), "future"),
        ("too long", with("exp", (now + 3600).into()), "5 minutes"),
        ("other client", with("iss", "demo-client".into()), "iss"),
    ] {
        let (status, error) = post_assertion(&server, &assertion);
        assert_eq!(status, 401, "{case}");
        let description = error["error_description"].as_str().unwrap();
        assert!(description.contains(says), "{case}: {description}");
    }
    let other = SigningKey::load(key_file("other.key").as_ref(), None, None).unwrap();
    let (status, error) = post_assertion(&server, &other.signed_jwt(&good()).unwrap());
    assert_eq!(status, 401);
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("signature")
    );
    let ps = SigningKey::load(
        key_file("rsa.key").as_ref(),
        Some(AssertionAlg::Ps256),
        None,
    )
    .unwrap();
    assert_eq!(
        post_assertion(&server, &ps.signed_jwt(&good()).unwrap()).0,
        200
    );
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[test]
fn a_refused_assertion_is_a_rejected_problem_without_the_key() {
    let server = server();
    let config = jwt_config(&server, "other.key");
    let problem = Client::from_json(&config.to_string())
        .unwrap()
        .token()
        .unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::Unauthorized);
    let shown = problem.to_json();
    let pem = std::fs::read_to_string(key_file("other.key")).unwrap();
    for line in pem.lines().filter(|line| !line.starts_with("-----")) {
        assert!(!shown.contains(line), "{shown}");
    }
    assert!(
        !shown.contains("eyJ"),
        "no assertion in the problem: {shown}"
    );
}

#[test]
fn a_bad_key_setting_is_an_invalid_config_problem_naming_the_key() {
    let server = server();
    let problem = |change: &dyn Fn(&mut Value)| {
        let mut config = jwt_config(&server, "rsa.key");
        change(&mut config);
        Config::from_json(&config.to_string()).unwrap_err()
    };
    for (case, change, key) in [
        (
            "encrypted",
            &(|c: &mut Value| c["private_key_file"] = key_file("encrypted.key").into())
                as &dyn Fn(&mut Value),
            "private_key_file",
        ),
        (
            "missing",
            &|c: &mut Value| c["private_key_file"] = key_file("none.key").into(),
            "private_key_file",
        ),
        (
            "not a key",
            &|c: &mut Value| c["private_key_file"] = key_file("rsa.pub").into(),
            "private_key_file",
        ),
        (
            "no key",
            &|c: &mut Value| {
                c.as_object_mut().unwrap().remove("private_key_file");
            },
            "private_key_file",
        ),
        (
            "wrong alg",
            &|c: &mut Value| c["assertion_alg"] = "ES256".into(),
            "assertion_alg",
        ),
        (
            "unknown alg",
            &|c: &mut Value| c["assertion_alg"] = "HS256".into(),
            "assertion_alg",
        ),
        (
            "and a secret",
            &|c: &mut Value| c["client_secret"] = "s".into(),
            "client_secret",
        ),
        (
            "issuer audience without issuer",
            &|c: &mut Value| c["assertion_audience"] = "issuer".into(),
            "assertion_audience",
        ),
        (
            "a key without private_key_jwt",
            &|c: &mut Value| {
                c.as_object_mut().unwrap().remove("client_auth");
                c["client_secret"] = "s".into();
            },
            "private_key_file",
        ),
    ] {
        let problem = problem(change);
        assert_eq!(problem.kind(), ProblemKind::InvalidConfig, "{case}");
        assert_eq!(
            problem.extensions().get("key").and_then(Value::as_str),
            Some(key),
            "{case}: {problem}"
        );
    }
}
