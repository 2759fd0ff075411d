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
            "endless",
            &|c: &mut Value| c["private_key_file"] = "/dev/zero".into(),
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

fn mtls_config(server: &LocalAuthServer, client_id: &str, auth: &str, cert: &str) -> Value {
    json!({
        "client_id": client_id,
        "client_auth": auth,
        "client_cert_file": tls_file(&format!("{cert}.pem")),
        "client_key_file": tls_file(&format!("{cert}.key")),
        "audience": local_server::DEMO_AUDIENCE,
        "ca_file": tls_file("ca.pem"),
        "token_url": server.mtls_auth0_token_url(),
    })
}

#[test]
fn mutual_tls_clients_authenticate_with_their_certificates() {
    let server = tls_server();
    for (client_id, auth, cert) in [
        (local_server::MTLS_CLIENT_ID, "tls_client_auth", "client"),
        (
            local_server::MTLS_SELF_SIGNED_CLIENT_ID,
            "self_signed_tls_client_auth",
            "self-signed",
        ),
    ] {
        let config = mtls_config(&server, client_id, auth, cert);
        let token = Client::from_json(&config.to_string())
            .unwrap()
            .token()
            .unwrap_or_else(|p| panic!("{auth}: {p}"));
        assert_eq!(
            claims(&token.access_token)["sub"],
            format!("{client_id}@clients")
        );
    }
}

#[test]
fn the_discovery_documents_mtls_alias_is_where_a_mutual_tls_client_asks() {
    let server = tls_server();
    let mut config = mtls_config(
        &server,
        local_server::MTLS_CLIENT_ID,
        "tls_client_auth",
        "client",
    );
    config.as_object_mut().unwrap().remove("token_url");
    config["issuer"] = format!("{}/", server.https_base_url()).into();
    // The plain HTTPS token endpoint asks for no certificate, so only the
    // alias can authenticate this client.
    let token = Client::from_json(&config.to_string()).unwrap().token();
    assert!(token.is_ok(), "{token:?}");
}

#[test]
fn a_certificate_that_is_not_the_clients_is_refused() {
    let server = tls_server();
    // Another client's certificate: the handshake is fine, the client is not.
    let wrong = mtls_config(
        &server,
        local_server::MTLS_CLIENT_ID,
        "tls_client_auth",
        "self-signed",
    );
    let problem = Client::from_json(&wrong.to_string())
        .unwrap()
        .token()
        .unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::Unauthorized, "{problem}");
    // A certificate no one registered: the handshake itself fails.
    let mut stranger = mtls_config(
        &server,
        local_server::MTLS_CLIENT_ID,
        "tls_client_auth",
        "client",
    );
    stranger["client_cert_file"] = tls_file("server.pem").into();
    stranger["client_key_file"] = tls_file("server.key").into();
    let problem = Client::from_json(&stranger.to_string())
        .unwrap()
        .token()
        .unwrap_err();
    assert_ne!(problem.kind(), ProblemKind::Internal, "{problem}");
    // The HTTPS endpoint that asks for no certificate cannot tell who it is.
    let mut unasked = mtls_config(
        &server,
        local_server::MTLS_CLIENT_ID,
        "tls_client_auth",
        "client",
    );
    unasked["token_url"] = server.https_auth0_token_url().into();
    let problem = Client::from_json(&unasked.to_string())
        .unwrap()
        .token()
        .unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::Unauthorized, "{problem}");
    let shown = problem.to_json();
    let key = std::fs::read_to_string(tls_file("client.key")).unwrap();
    assert!(!shown.contains(key.lines().nth(1).unwrap()), "{shown}");
}

#[test]
fn mutual_tls_settings_are_checked() {
    let server = tls_server();
    let base = mtls_config(
        &server,
        local_server::MTLS_CLIENT_ID,
        "tls_client_auth",
        "client",
    );
    for (remove, key) in [
        ("client_key_file", "client_key_file"),
        ("client_cert_file", "client_cert_file"),
    ] {
        let mut config = base.clone();
        config.as_object_mut().unwrap().remove(remove);
        let problem = Config::from_json(&config.to_string()).unwrap_err();
        assert_eq!(problem.extensions()["key"], key, "{problem}");
    }
    let mut neither = base.clone();
    neither.as_object_mut().unwrap().remove("client_key_file");
    neither.as_object_mut().unwrap().remove("client_cert_file");
    let problem = Config::from_json(&neither.to_string()).unwrap_err();
    assert_eq!(problem.extensions()["key"], "client_cert_file");
    let mut endless = base.clone();
    endless["client_cert_file"] = "/dev/zero".into();
    let problem = Config::from_json(&endless.to_string()).unwrap_err();
    assert_eq!(problem.extensions()["key"], "client_cert_file");
    assert!(problem.detail().contains("1 MiB"), "{problem}");
    let mut not_a_key = base.clone();
    not_a_key["client_key_file"] = tls_file("client.pem").into();
    let problem = Config::from_json(&not_a_key.to_string()).unwrap_err();
    assert_eq!(problem.extensions()["key"], "client_key_file");
    let mut with_secret = base;
    with_secret["client_secret"] = "s".into();
    let problem = Config::from_json(&with_secret.to_string()).unwrap_err();
    assert_eq!(problem.extensions()["key"], "client_secret");
}

#[test]
fn clients_without_a_secret_share_the_host_tier_too() {
    let server = tls_server();
    let folder = Folder::new("client-auth-host");
    for mut config in [
        jwt_config(&server, "ec.key"),
        mtls_config(
            &server,
            local_server::MTLS_CLIENT_ID,
            "tls_client_auth",
            "client",
        ),
    ] {
        config["cache"] = folder.setting().into();
        let before = server.auth0_requests();
        // Two processes' clients: one request for both, sealed with the key.
        let first = Client::from_json(&config.to_string())
            .unwrap()
            .token()
            .unwrap();
        let second = Client::from_json(&config.to_string())
            .unwrap()
            .token()
            .unwrap();
        assert_eq!(first.access_token, second.access_token);
        assert_eq!(server.auth0_requests() - before, 1);
    }
    assert_eq!(folder.entries().len(), 2, "one entry per client");
}
