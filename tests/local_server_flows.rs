//! The local server's user flows at the HTTP level: `/authorize` (code with
//! PKCE, implicit), the code and refresh grants, and discovery.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bearer::local_server::{
    self, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, DEMO_AUDIENCE, LocalAuthServer, NATIVE_CLIENT_ID,
    TEST_USER, WEB_REDIRECT_URI,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

const LOOPBACK_REDIRECT: &str = "http://127.0.0.1:53682/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// A state with characters that must be percent-encoded on the way back.
const STATE: &str = "a b&c=d/é+%";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into()
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn url_with(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    format!("{base}?{}", query.finish())
}

struct Answer {
    status: u16,
    location: Option<String>,
    cache_control: Option<String>,
    content_type: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The redirect's parameters: the query or the fragment after `prefix`.
    fn redirect_params(&self, prefix: &str) -> Vec<(String, String)> {
        assert_eq!(self.status, 302, "{}", self.body);
        let location = self.location.as_deref().expect("a Location header");
        let rest = location
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{location} does not start with {prefix}"));
        form_urlencoded::parse(rest.as_bytes())
            .into_owned()
            .collect()
    }
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("an HTTP answer");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let (location, cache_control, content_type) = (
        header("location"),
        header("cache-control"),
        header("content-type"),
    );
    Answer {
        status: response.status().as_u16(),
        location,
        cache_control,
        content_type,
        body: response.body_mut().read_to_string().unwrap(),
    }
}

fn get(url: &str) -> Answer {
    answer(agent().get(url).call())
}

fn post_form(url: &str, pairs: &[(&str, &str)]) -> Answer {
    answer(agent().post(url).send_form(pairs.iter().copied()))
}

fn post_form_basic(url: &str, id: &str, secret: &str, pairs: &[(&str, &str)]) -> Answer {
    let basic = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
    answer(
        agent()
            .post(url)
            .header("Authorization", &basic)
            .send_form(pairs.iter().copied()),
    )
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Runs `/authorize` for the native client with PKCE; returns the code.
fn native_code(server: &LocalAuthServer, scope: &str, redirect_uri: &str) -> String {
    let url = url_with(
        &server.authorize_url(),
        &[
            ("response_type", "code"),
            ("client_id", NATIVE_CLIENT_ID),
            ("redirect_uri", redirect_uri),
            ("scope", scope),
            ("state", STATE),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ],
    );
    let params = get(&url).redirect_params(&format!("{redirect_uri}?"));
    assert_eq!(param(&params, "state"), Some(STATE));
    param(&params, "code").expect("a code").to_string()
}

fn exchange(server: &LocalAuthServer, code: &str, redirect_uri: &str, verifier: &str) -> Answer {
    post_form(
        &server.auth0_token_url(),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", NATIVE_CLIENT_ID),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
    )
}

fn assert_oauth_error(answer: &Answer, status: u16, error: &str, description: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["error"], error, "{}", answer.body);
    assert_eq!(body["error_description"], description, "{}", answer.body);
}

#[test]
fn code_flow_with_pkce_runs_end_to_end() {
    let server = LocalAuthServer::start().unwrap();
    let url = url_with(
        &server.authorize_url(),
        &[
            ("response_type", "code"),
            ("client_id", NATIVE_CLIENT_ID),
            ("redirect_uri", LOOPBACK_REDIRECT),
            ("audience", DEMO_AUDIENCE),
            ("scope", "openid profile offline_access"),
            ("state", STATE),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ],
    );
    let redirect = get(&url);
    assert_eq!(redirect.status, 302);
    assert_eq!(redirect.body, "");
    assert_eq!(redirect.cache_control.as_deref(), Some("no-store"));
    let location = redirect.location.as_deref().unwrap();
    assert!(
        location.contains("&state=a%20b%26c%3Dd%2F%C3%A9%2B%25"),
        "{location}"
    );
    let params = redirect.redirect_params(&format!("{LOOPBACK_REDIRECT}?"));
    assert_eq!(param(&params, "state"), Some(STATE));
    let code = param(&params, "code").unwrap();
    assert!(code.len() >= 32, "{code}");

    let tokens = exchange(&server, code, LOOPBACK_REDIRECT, VERIFIER);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.content_type.as_deref(), Some("application/json"));
    assert_eq!(tokens.cache_control.as_deref(), Some("no-store"));
    let body = tokens.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86400);
    assert_eq!(body["scope"], "openid profile offline_access");
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );

    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], TEST_USER);
    assert_eq!(access["aud"], DEMO_AUDIENCE);
    assert_eq!(access["iss"], server.issuer());
    assert_eq!(access["scope"], "openid profile offline_access");
    assert!(access.get("gty").is_none(), "{access}");
    let lifetime = access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 86400);

    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], server.issuer());
    assert_eq!(id["sub"], TEST_USER);
    assert_eq!(id["aud"], NATIVE_CLIENT_ID);
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert!(id["exp"].as_i64().unwrap() > id["iat"].as_i64().unwrap());

    assert_eq!(server.authorize_requests(), 1);
    assert_eq!(server.auth0_requests(), 1);
    assert_eq!(server.refresh_requests(), 0);
}

#[test]
fn without_openid_or_offline_access_there_is_no_id_or_refresh_token() {
    let server = LocalAuthServer::start().unwrap();
    // A redirect URI with a query keeps it; the code is appended with '&'.
    let redirect_uri = "http://localhost:8123/cb?app=1";
    let code = {
        let url = url_with(
            &server.authorize_url(),
            &[
                ("response_type", "code"),
                ("client_id", NATIVE_CLIENT_ID),
                ("redirect_uri", redirect_uri),
                ("code_challenge", &challenge(VERIFIER)),
                ("code_challenge_method", "S256"),
            ],
        );
        let params = get(&url).redirect_params(&format!("{redirect_uri}&"));
        assert_eq!(param(&params, "state"), None);
        param(&params, "code").unwrap().to_string()
    };
    let body = exchange(&server, &code, redirect_uri, VERIFIER).json();
    assert!(body.get("id_token").is_none(), "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body.get("scope").is_none(), "{body}");
    let access = claims(body["access_token"].as_str().unwrap());
    // No audience asked: Auth0's userinfo audience.
    assert_eq!(access["aud"], format!("{}/userinfo", server.base_url()));
}

#[test]
fn a_code_is_good_for_one_use_only() {
    let server = LocalAuthServer::start().unwrap();
    let code = native_code(&server, "openid", LOOPBACK_REDIRECT);
    let first = exchange(&server, &code, LOOPBACK_REDIRECT, VERIFIER);
    assert_eq!(first.status, 200, "{}", first.body);
    let again = exchange(&server, &code, LOOPBACK_REDIRECT, VERIFIER);
    assert_oauth_error(&again, 403, "invalid_grant", "Invalid authorization code");
    let unknown = exchange(&server, "no-such-code", LOOPBACK_REDIRECT, VERIFIER);
    assert_oauth_error(&unknown, 403, "invalid_grant", "Invalid authorization code");
}

#[test]
fn a_wrong_code_verifier_fails_pkce_and_uses_the_code_up() {
    let server = LocalAuthServer::start().unwrap();
    let code = native_code(&server, "openid", LOOPBACK_REDIRECT);
    let wrong = "x".repeat(43);
    let answer = exchange(&server, &code, LOOPBACK_REDIRECT, &wrong);
    assert_oauth_error(&answer, 403, "invalid_grant", "Failed PKCE verification");
    let retry = exchange(&server, &code, LOOPBACK_REDIRECT, VERIFIER);
    assert_oauth_error(&retry, 403, "invalid_grant", "Invalid authorization code");

    // No verifier at all.
    let code = native_code(&server, "openid", LOOPBACK_REDIRECT);
    let answer = post_form(
        &server.auth0_token_url(),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", NATIVE_CLIENT_ID),
            ("code", &code),
            ("redirect_uri", LOOPBACK_REDIRECT),
        ],
    );
    assert_oauth_error(&answer, 403, "invalid_grant", "Failed PKCE verification");

    // A malformed verifier (too short) is a bad request.
    let code = native_code(&server, "openid", LOOPBACK_REDIRECT);
    let answer = exchange(&server, &code, LOOPBACK_REDIRECT, "short");
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["error"], "invalid_request");
}

#[test]
fn a_different_redirect_uri_at_the_token_endpoint_is_refused() {
    let server = LocalAuthServer::start().unwrap();
    let code = native_code(&server, "openid", LOOPBACK_REDIRECT);
    let answer = exchange(&server, &code, "http://127.0.0.1:53682/other", VERIFIER);
    assert_oauth_error(&answer, 403, "invalid_grant", "Unauthorized redirect_uri");
}

#[test]
fn a_code_issued_to_one_client_is_refused_to_another() {
    let server = LocalAuthServer::start().unwrap();
    let code = native_code(&server, "openid", LOOPBACK_REDIRECT);
    let answer = post_form(
        &server.auth0_token_url(),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", AUTH0_CLIENT_ID),
            ("client_secret", AUTH0_CLIENT_SECRET),
            ("code", &code),
            ("redirect_uri", LOOPBACK_REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    );
    assert_oauth_error(&answer, 403, "invalid_grant", "Invalid authorization code");
}

#[test]
fn the_public_client_must_not_send_a_secret_and_the_confidential_one_must() {
    let server = LocalAuthServer::start().unwrap();
    let code = native_code(&server, "openid", LOOPBACK_REDIRECT);
    let answer = post_form(
        &server.auth0_token_url(),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", NATIVE_CLIENT_ID),
            ("client_secret", "anything"),
            ("code", &code),
            ("redirect_uri", LOOPBACK_REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    );
    assert_oauth_error(&answer, 401, "access_denied", "Unauthorized");

    let answer = post_form(
        &server.auth0_token_url(),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", AUTH0_CLIENT_ID),
            ("code", "whatever"),
            ("redirect_uri", WEB_REDIRECT_URI),
        ],
    );
    assert_oauth_error(&answer, 401, "access_denied", "Unauthorized");
}

#[test]
fn the_native_client_must_use_pkce_with_s256() {
    let server = LocalAuthServer::start().unwrap();
    let base = [
        ("response_type", "code"),
        ("client_id", NATIVE_CLIENT_ID),
        ("redirect_uri", LOOPBACK_REDIRECT),
        ("state", "s1"),
    ];
    let plain = challenge(VERIFIER);
    for extra in [
        &[][..],
        &[("code_challenge", plain.as_str())][..],
        &[
            ("code_challenge", plain.as_str()),
            ("code_challenge_method", "plain"),
        ][..],
    ] {
        let pairs: Vec<_> = base.iter().chain(extra).copied().collect();
        let params = get(&url_with(&server.authorize_url(), &pairs))
            .redirect_params(&format!("{LOOPBACK_REDIRECT}?"));
        assert_eq!(
            param(&params, "error"),
            Some("invalid_request"),
            "{extra:?}"
        );
        assert!(param(&params, "error_description").is_some());
        assert_eq!(param(&params, "state"), Some("s1"));
    }
}

#[test]
fn an_unsupported_response_type_is_redirected_back() {
    let server = LocalAuthServer::start().unwrap();
    let url = url_with(
        &server.authorize_url(),
        &[
            ("response_type", "id_token"),
            ("client_id", AUTH0_CLIENT_ID),
            ("redirect_uri", WEB_REDIRECT_URI),
            ("state", "s2"),
        ],
    );
    let params = get(&url).redirect_params(&format!("{WEB_REDIRECT_URI}?"));
    assert_eq!(param(&params, "error"), Some("unsupported_response_type"));
    assert_eq!(param(&params, "state"), Some("s2"));
}

#[test]
fn deny_sends_access_denied_back_in_the_query_or_the_fragment() {
    let server = LocalAuthServer::start().unwrap();
    for (response_type, separator) in [("code", '?'), ("token", '#')] {
        let url = url_with(
            &server.authorize_url(),
            &[
                ("response_type", response_type),
                ("client_id", AUTH0_CLIENT_ID),
                ("redirect_uri", WEB_REDIRECT_URI),
                ("state", STATE),
                ("deny", "1"),
            ],
        );
        let answer = get(&url);
        let location = answer.location.clone().unwrap();
        assert!(
            location.contains(
                "error=access_denied&error_description=User%20did%20not%20authorize%20the%20request&state="
            ),
            "{location}"
        );
        let params = answer.redirect_params(&format!("{WEB_REDIRECT_URI}{separator}"));
        assert_eq!(param(&params, "error"), Some("access_denied"));
        assert_eq!(param(&params, "state"), Some(STATE));
        assert_eq!(param(&params, "code"), None);
        assert_eq!(param(&params, "access_token"), None);
    }
}

#[test]
fn implicit_puts_the_token_in_the_fragment() {
    let server = LocalAuthServer::start().unwrap();
    let redirect_uri = "http://[::1]:9000/implicit";
    let url = url_with(
        &server.authorize_url(),
        &[
            ("response_type", "token"),
            ("client_id", NATIVE_CLIENT_ID),
            ("redirect_uri", redirect_uri),
            ("audience", DEMO_AUDIENCE),
            ("scope", "openid offline_access"),
            ("state", STATE),
        ],
    );
    let answer = get(&url);
    assert_eq!(answer.body, "");
    let location = answer.location.clone().unwrap();
    assert!(
        location.starts_with(&format!("{redirect_uri}#access_token=")),
        "{location}"
    );
    assert!(
        location.contains("&token_type=Bearer&expires_in=7200&state="),
        "{location}"
    );
    let params = answer.redirect_params(&format!("{redirect_uri}#"));
    assert_eq!(param(&params, "state"), Some(STATE));
    assert_eq!(param(&params, "scope"), Some("openid offline_access"));
    assert_eq!(param(&params, "refresh_token"), None);
    let access = claims(param(&params, "access_token").unwrap());
    assert_eq!(access["sub"], TEST_USER);
    assert_eq!(access["aud"], DEMO_AUDIENCE);
    assert!(access.get("gty").is_none());

    // The lifetime switch rides on the authorize query.
    let url = format!(
        "{}&expires_in=60",
        url_with(
            &server.authorize_url(),
            &[
                ("response_type", "token"),
                ("client_id", NATIVE_CLIENT_ID),
                ("redirect_uri", redirect_uri),
            ],
        )
    );
    let params = get(&url).redirect_params(&format!("{redirect_uri}#"));
    assert_eq!(param(&params, "expires_in"), Some("60"));
    assert_eq!(param(&params, "state"), None);
    assert_eq!(param(&params, "scope"), None);
}

#[test]
fn refresh_tokens_rotate_and_the_old_one_is_refused() {
    let server = LocalAuthServer::start().unwrap();
    // The confidential client, without PKCE, authenticating with Basic.
    let url = url_with(
        &server.authorize_url(),
        &[
            ("response_type", "code"),
            ("client_id", AUTH0_CLIENT_ID),
            ("redirect_uri", WEB_REDIRECT_URI),
            ("audience", DEMO_AUDIENCE),
            ("scope", "openid offline_access"),
        ],
    );
    let params = get(&url).redirect_params(&format!("{WEB_REDIRECT_URI}?"));
    let code = param(&params, "code").unwrap();
    let tokens = post_form_basic(
        &server.auth0_token_url(),
        AUTH0_CLIENT_ID,
        AUTH0_CLIENT_SECRET,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", WEB_REDIRECT_URI),
        ],
    );
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let first = tokens.json()["refresh_token"].as_str().unwrap().to_string();

    let refresh = |token: &str, secret: &str| {
        post_form(
            &format!("{}?expires_in=2", server.auth0_token_url()),
            &[
                ("grant_type", "refresh_token"),
                ("client_id", AUTH0_CLIENT_ID),
                ("client_secret", secret),
                ("refresh_token", token),
            ],
        )
    };
    let wrong_secret = refresh(&first, "not-the-secret");
    assert_oauth_error(&wrong_secret, 401, "access_denied", "Unauthorized");

    let answer = refresh(&first, AUTH0_CLIENT_SECRET);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["expires_in"], 2);
    assert_eq!(body["scope"], "openid offline_access");
    let second = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], TEST_USER);
    assert_eq!(access["aud"], DEMO_AUDIENCE);
    assert_eq!(access["scope"], "openid offline_access");

    let replay = refresh(&first, AUTH0_CLIENT_SECRET);
    assert_oauth_error(
        &replay,
        403,
        "invalid_grant",
        "Unknown or invalid refresh token.",
    );
    let unknown = refresh("never-issued", AUTH0_CLIENT_SECRET);
    assert_eq!(unknown.status, 403);

    let third = refresh(&second, AUTH0_CLIENT_SECRET);
    assert_eq!(third.status, 200, "{}", third.body);
    assert_ne!(third.json()["refresh_token"].as_str().unwrap(), second);

    assert_eq!(server.refresh_requests(), 5);
    assert_eq!(server.auth0_requests(), 6);
    let stats: Value =
        serde_json::from_str(&get(&format!("{}/_stats", server.base_url())).body).unwrap();
    let connections = server.connections();
    assert_eq!(
        stats.to_string(),
        format!(
            r#"{{"auth0":6,"cobuilder":0,"authorize":1,"refresh":5,"discovery":0,"redirect_target":0,"connections":{connections},"api":0,"api_refused":0,"device":0,"device_polls":0}}"#
        )
    );
}

#[test]
fn the_public_client_refreshes_without_a_secret() {
    let server = LocalAuthServer::start().unwrap();
    let code = native_code(&server, "offline_access", LOOPBACK_REDIRECT);
    let body = exchange(&server, &code, LOOPBACK_REDIRECT, VERIFIER).json();
    let token = body["refresh_token"].as_str().unwrap();
    let answer = post_form(
        &server.auth0_token_url(),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", NATIVE_CLIENT_ID),
            ("refresh_token", token),
        ],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    // Refresh tokens are bound to their client.
    let new_token = answer.json()["refresh_token"].as_str().unwrap().to_string();
    let stolen = post_form(
        &server.auth0_token_url(),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", AUTH0_CLIENT_ID),
            ("client_secret", AUTH0_CLIENT_SECRET),
            ("refresh_token", &new_token),
        ],
    );
    assert_eq!(stolen.status, 403, "{}", stolen.body);
}

#[test]
fn the_discovery_document_describes_the_server() {
    let server = LocalAuthServer::start().unwrap();
    let answer = get(&format!(
        "{}/.well-known/openid-configuration",
        server.base_url()
    ));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    let base = server.base_url();
    assert_eq!(
        answer.json(),
        serde_json::json!({
            "issuer": format!("{base}/"),
            "authorization_endpoint": server.authorize_url(),
            "token_endpoint": server.auth0_token_url(),
            "device_authorization_endpoint": server.device_authorization_url(),
            "response_types_supported": ["code", "token"],
            "grant_types_supported": [
                "authorization_code",
                "implicit",
                "refresh_token",
                "client_credentials",
                "urn:ietf:params:oauth:grant-type:device_code"
            ],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "client_secret_basic",
                "private_key_jwt",
                "tls_client_auth",
                "self_signed_tls_client_auth",
                "none"
            ],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
        })
    );
    assert_eq!(server.issuer(), format!("{base}/"));
    assert_eq!(server.discovery_requests(), 1);
}

#[test]
fn unregistered_redirect_uris_and_unknown_clients_get_a_400_not_a_redirect() {
    let server = LocalAuthServer::start().unwrap();
    for (client_id, redirect_uri) in [
        (NATIVE_CLIENT_ID, "https://evil.example.com/callback"),
        (NATIVE_CLIENT_ID, "http://127.0.0.1.evil.example.com:80/cb"),
        (NATIVE_CLIENT_ID, "http://user@127.0.0.1:80/cb"),
        (NATIVE_CLIENT_ID, "http://127.0.0.1:80/cb#frag"),
        (NATIVE_CLIENT_ID, "http://127.0.0.1:80/cb\r\nX-Evil: 1"),
        (NATIVE_CLIENT_ID, "http://app.example.com/callback"),
        (AUTH0_CLIENT_ID, "https://app.example.com/callback/more"),
        ("unknown-client", WEB_REDIRECT_URI),
        (local_server::COBUILDER_CLIENT_ID, WEB_REDIRECT_URI),
    ] {
        let url = url_with(
            &server.authorize_url(),
            &[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("state", "s"),
            ],
        );
        let answer = get(&url);
        assert_eq!(answer.status, 400, "{client_id} {redirect_uri}");
        assert_eq!(answer.location, None);
        assert_eq!(answer.json()["error"], "invalid_request");
        assert!(answer.json()["error_description"].is_string());
    }
    assert_eq!(server.authorize_requests(), 9);
}

#[test]
fn client_credentials_are_unchanged() {
    let server = LocalAuthServer::start().unwrap();
    let answer = post_form(
        &server.auth0_token_url(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", AUTH0_CLIENT_ID),
            ("client_secret", AUTH0_CLIENT_SECRET),
            ("audience", DEMO_AUDIENCE),
        ],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert!(body.get("refresh_token").is_none());
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["gty"], "client-credentials");
    assert_eq!(access["sub"], format!("{AUTH0_CLIENT_ID}@clients"));

    let other = post_form(
        &server.auth0_token_url(),
        &[("grant_type", "password"), ("client_id", AUTH0_CLIENT_ID)],
    );
    assert_eq!(other.status, 400);
    assert_eq!(other.json()["error"], "unsupported_grant_type");
    assert_eq!(server.refresh_requests(), 0);
}
