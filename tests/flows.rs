//! The user flows of the DataCosmos v2 page end to end over real HTTP: the
//! test plays the browser (following the authorization server's redirect by
//! hand) against the local server's `/authorize` and `/oauth/token`.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use bearer::authorize::{self, AuthorizationRequest};
use bearer::local_server::{self, LocalAuthServer};
use bearer::{Client, Config, LoopbackLogin, ProblemKind, http};
use common::*;
use serde_json::{Value, json};

/// A redirect URI nobody listens on: the test reads the redirect itself.
const APP_REDIRECT: &str = "http://127.0.0.1:9/callback";

fn native_config(server: &LocalAuthServer, grant_type: &str) -> Value {
    json!({
        "client_id": local_server::NATIVE_CLIENT_ID,
        "audience": local_server::DEMO_AUDIENCE,
        "grant_type": grant_type,
        "redirect_uri": APP_REDIRECT,
        "authorize_url": server.authorize_url(),
        "token_url": server.auth0_token_url(),
    })
}

fn config(value: &Value) -> Config {
    Config::from_json(&value.to_string()).expect("a valid configuration")
}

/// What a browser does with the authorize URL: the server signs the test
/// user in and answers with a redirect, whose target this returns.
fn browse(url: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent
        .get(url)
        .call()
        .expect("the authorization server answers");
    assert_eq!(
        response.status().as_u16(),
        302,
        "a redirect back to the app"
    );
    response
        .headers()
        .get("location")
        .expect("a Location")
        .to_str()
        .unwrap()
        .to_owned()
}

fn complete(
    config: &Config,
    request: &AuthorizationRequest,
    redirect: &str,
) -> Result<bearer::Token, bearer::Problem> {
    let agent = http::agent_for(config).unwrap();
    authorize::complete(&agent, config, request, redirect)
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[test]
fn authorization_code_with_pkce_signs_the_user_in() {
    let server = server();
    let config = config(&native_config(&server, "authorization_code"));
    let request = authorize::start(&config).unwrap();

    let url = &request.url;
    assert!(url.starts_with(&server.authorize_url()));
    assert_eq!(query_param(url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query_param(url, "scope").as_deref(),
        Some("openid profile email")
    );
    assert_eq!(
        query_param(url, "audience").as_deref(),
        Some(local_server::DEMO_AUDIENCE)
    );
    assert_eq!(
        query_param(url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_param(url, "state").unwrap().len(),
        43,
        "256 bits of state"
    );
    assert!(request.code_verifier.is_some() && request.nonce.is_some());

    let token = complete(&config, &request, &browse(url)).unwrap();
    assert_eq!(claims(&token.access_token)["sub"], local_server::TEST_USER);
    let id_token = claims(token.id_token.as_deref().expect("openid gives an ID token"));
    assert_eq!(id_token["nonce"], request.nonce.as_ref().unwrap().expose());
    assert!(
        token.refresh_token.is_none(),
        "no offline_access, no refresh token"
    );
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn a_confidential_client_exchanges_the_code_with_its_secret() {
    let server = server();
    let mut value = native_config(&server, "authorization_code");
    value["client_id"] = local_server::AUTH0_CLIENT_ID.into();
    value["client_secret"] = local_server::AUTH0_CLIENT_SECRET.into();
    value["client_auth"] = "client_secret_basic".into();
    let config = config(&value);
    let request = authorize::start(&config).unwrap();
    let redirect = browse(&request.url);
    let token = complete(&config, &request, &redirect).unwrap();
    assert_eq!(claims(&token.access_token)["sub"], local_server::TEST_USER);

    let problem = complete(&config, &request, &redirect).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidGrant);
    let shown = format!("{problem} {problem:?} {}", problem.to_json());
    assert!(!shown.contains(local_server::AUTH0_CLIENT_SECRET));
    let verifier = request.code_verifier.as_ref().unwrap().expose();
    assert!(!shown.contains(verifier));
}

#[test]
fn the_request_survives_a_round_trip_through_its_json() {
    let server = server();
    let config = config(&native_config(&server, "authorization_code"));
    let request = authorize::start(&config).unwrap();
    let kept: Value = serde_json::from_str(&request.to_json()).unwrap();
    assert_eq!(
        member_names(&request.to_json()),
        [
            "url",
            "response_type",
            "redirect_uri",
            "state",
            "code_verifier",
            "nonce"
        ]
    );
    let restored = AuthorizationRequest::from_json(&kept.to_string()).unwrap();
    complete(&config, &restored, &browse(&restored.url)).unwrap();
    assert!(format!("{restored:?}").contains("REDACTED"));
    assert!(!format!("{restored:?}").contains(restored.state.expose()));
}

#[test]
fn a_wrong_or_missing_state_is_refused_before_any_exchange() {
    let server = server();
    let config = config(&native_config(&server, "authorization_code"));
    let request = authorize::start(&config).unwrap();
    let redirect = browse(&request.url);
    let state = query_param(&redirect, "state").unwrap();

    let forged = redirect.replace(&state, "forged-state");
    let problem = complete(&config, &request, &forged).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidCallback);
    assert_eq!(problem.extensions()["reason"], "state_mismatch");

    let code = query_param(&redirect, "code").unwrap();
    let stateless = format!("{APP_REDIRECT}?code={code}");
    let problem = complete(&config, &request, &stateless).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidCallback);
    assert!(problem.detail().contains("no state"));

    let elsewhere = redirect.replace("127.0.0.1:9", "127.0.0.1:10");
    let problem = complete(&config, &request, &elsewhere).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidCallback);

    let empty_code = format!("{APP_REDIRECT}?code=&state={state}");
    let problem = complete(&config, &request, &empty_code).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidCallback);
    assert_eq!(server.auth0_requests(), 0, "nothing was exchanged");
}

#[test]
fn a_code_works_once() {
    let server = server();
    let config = config(&native_config(&server, "authorization_code"));
    let request = authorize::start(&config).unwrap();
    let redirect = browse(&request.url);
    complete(&config, &request, &redirect).unwrap();
    let problem = complete(&config, &request, &redirect).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidGrant);
    assert_eq!(problem.status(), 403);
    assert_eq!(problem.extensions()["error"], "invalid_grant");
    let code = query_param(&redirect, "code").unwrap();
    assert!(!problem.to_json().contains(&code), "the code is redacted");
}

#[test]
fn a_wrong_verifier_fails_pkce() {
    let server = server();
    let config = config(&native_config(&server, "authorization_code"));
    let request = authorize::start(&config).unwrap();
    let redirect = browse(&request.url);
    let mut tampered: Value = serde_json::from_str(&request.to_json()).unwrap();
    tampered["code_verifier"] = "x".repeat(43).into();
    let tampered = AuthorizationRequest::from_json(&tampered.to_string()).unwrap();
    let problem = complete(&config, &tampered, &redirect).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidGrant);
    assert_eq!(problem.detail(), "Failed PKCE verification");
}

#[test]
fn a_declined_sign_in_is_an_authorization_denied_problem() {
    let server = server();
    let config = config(&native_config(&server, "authorization_code"));
    let request = authorize::start(&config).unwrap();
    let redirect = browse(&format!("{}&deny=1", request.url));
    let problem = complete(&config, &request, &redirect).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::AuthorizationDenied);
    assert_eq!(problem.status(), 403);
    assert_eq!(problem.extensions()["error"], "access_denied");
    assert_eq!(server.auth0_requests(), 0);
}

#[test]
fn the_implicit_flow_reads_the_token_from_the_fragment() {
    let server = server();
    let mut value = native_config(&server, "implicit");
    value["client_id"] = local_server::AUTH0_CLIENT_ID.into();
    let config = config(&value);
    let request = authorize::start(&config).unwrap();
    assert_eq!(
        query_param(&request.url, "response_type").as_deref(),
        Some("token")
    );
    assert!(request.code_verifier.is_none());
    let redirect = browse(&request.url);
    assert!(redirect.contains("#access_token="), "{redirect}");
    let token = complete(&config, &request, &redirect).unwrap();
    assert_eq!(token.token_type, "Bearer");
    assert!(token.expires_in().is_some_and(|left| left > 0));
    assert_eq!(
        server.auth0_requests(),
        0,
        "no token endpoint in the implicit flow"
    );

    let forged = redirect.replace("state=", "state=x");
    assert_eq!(
        complete(&config, &request, &forged).unwrap_err().kind(),
        ProblemKind::InvalidCallback
    );
}

/// `request` with another `nonce`, as a tampered or mixed-up session would hold.
fn with_nonce(request: &AuthorizationRequest, nonce: &str) -> AuthorizationRequest {
    let mut kept: Value = serde_json::from_str(&request.to_json()).unwrap();
    kept["nonce"] = nonce.into();
    AuthorizationRequest::from_json(&kept.to_string()).unwrap()
}

#[test]
fn an_id_token_with_another_nonce_is_refused_in_both_flows() {
    let server = server();
    // The code flow: the server's ID token carries the nonce sent, not this one.
    let config = config(&native_config(&server, "authorization_code"));
    let request = authorize::start(&config).unwrap();
    let signed_in = browse(&request.url);
    let problem = complete(&config, &with_nonce(&request, "another"), &signed_in).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidResponse);
    assert!(problem.detail().contains("nonce"), "{problem}");

    // An ID token for another sign-in, slipped into an implicit redirect.
    let code_request = authorize::start(&config).unwrap();
    let other = complete(&config, &code_request, &browse(&code_request.url)).unwrap();
    let other_id_token = other.id_token.expect("openid gives an ID token");
    let mut value = native_config(&server, "implicit");
    value["client_id"] = local_server::AUTH0_CLIENT_ID.into();
    value["scope"] = "openid".into();
    let implicit = self::config(&value);
    let request = authorize::start(&implicit).unwrap();
    assert!(request.nonce.is_some(), "openid sends a nonce");
    let redirect = format!("{}&id_token={other_id_token}", browse(&request.url));
    let problem = complete(&implicit, &request, &redirect).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidResponse, "{problem}");
    assert!(problem.detail().contains("nonce"), "{problem}");

    // The same ID token is accepted by the request that sent its nonce.
    let nonce = code_request.nonce.as_ref().unwrap().expose();
    let token = complete(&implicit, &with_nonce(&request, nonce), &redirect).unwrap();
    assert_eq!(token.id_token.as_deref(), Some(other_id_token.as_str()));
}

const ATTACKER: &str = "https://attacker.example";

/// `config` naming the local server as its issuer (RFC 9207), the endpoints
/// given, and `/authorize` told to send `iss` (Auth0 does not).
fn with_issuer(server: &LocalAuthServer, mut value: Value) -> Config {
    value["issuer"] = server.issuer().into();
    value["authorize_url"] = format!("{}?send_iss=1", server.authorize_url()).into();
    config(&value)
}

/// `redirect` with its `iss` (the last parameter, as the local server
/// writes it) replaced by `iss`, or removed.
fn with_iss(redirect: &str, iss: Option<&str>) -> String {
    let (rest, _) = redirect
        .split_once("&iss=")
        .expect("the redirect names its issuer");
    match iss {
        Some(iss) => format!(
            "{rest}&iss={}",
            form_urlencoded::byte_serialize(iss.as_bytes()).collect::<String>()
        ),
        None => rest.to_owned(),
    }
}

fn assert_refused_for_its_issuer(problem: &bearer::Problem, reason: &str) {
    assert_eq!(problem.kind(), ProblemKind::InvalidCallback, "{problem}");
    assert_eq!(problem.extensions()["reason"], reason, "{problem}");
}

#[test]
fn a_code_callback_must_name_the_configured_issuer() {
    let server = server();
    let config = with_issuer(&server, native_config(&server, "authorization_code"));
    let request = authorize::start(&config).unwrap();
    let redirect = browse(&request.url);
    let issuer = form_urlencoded::byte_serialize(server.issuer().as_bytes()).collect::<String>();
    assert!(redirect.ends_with(&format!("&iss={issuer}")), "{redirect}");

    // A mix-up: another server's answer to this request, or this one's
    // answer claimed by another.
    let problem = complete(&config, &request, &with_iss(&redirect, Some(ATTACKER))).unwrap_err();
    assert_refused_for_its_issuer(&problem, "issuer_mismatch");
    let twice = format!("{redirect}&iss={ATTACKER}");
    assert_refused_for_its_issuer(
        &complete(&config, &request, &twice).unwrap_err(),
        "issuer_mismatch",
    );
    assert_eq!(server.auth0_requests(), 0, "nothing was exchanged");
    let token = complete(&config, &request, &redirect).unwrap();
    assert_eq!(claims(&token.access_token)["sub"], local_server::TEST_USER);

    // An error redirect from another server is not this server's refusal.
    let request = authorize::start(&config).unwrap();
    let denied = browse(&format!("{}&deny=1", request.url));
    let problem = complete(&config, &request, &with_iss(&denied, Some(ATTACKER))).unwrap_err();
    assert_refused_for_its_issuer(&problem, "issuer_mismatch");
    let problem = complete(&config, &request, &denied).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::AuthorizationDenied);

    // Without an issuer configured there is nothing to compare `iss` with.
    let mut value = native_config(&server, "authorization_code");
    value["authorize_url"] = format!("{}?send_iss=1", server.authorize_url()).into();
    let config = self::config(&value);
    let request = authorize::start(&config).unwrap();
    let problem = complete(&config, &request, &browse(&request.url)).unwrap_err();
    assert_refused_for_its_issuer(&problem, "issuer_unknown");
    assert!(problem.detail().contains("issuer"), "{problem}");
    assert_eq!(server.auth0_requests(), 1, "only the right issuer's code");
}

#[test]
fn an_implicit_callback_must_name_the_configured_issuer() {
    let server = server();
    let mut value = native_config(&server, "implicit");
    value["client_id"] = local_server::AUTH0_CLIENT_ID.into();
    let config = with_issuer(&server, value);
    let request = authorize::start(&config).unwrap();
    let redirect = browse(&request.url);
    assert!(
        redirect.contains('#') && redirect.contains("&iss="),
        "{redirect}"
    );
    let problem = complete(&config, &request, &with_iss(&redirect, Some(ATTACKER))).unwrap_err();
    assert_refused_for_its_issuer(&problem, "issuer_mismatch");
    let token = complete(&config, &request, &redirect).unwrap();
    assert_eq!(claims(&token.access_token)["sub"], local_server::TEST_USER);
}

#[test]
fn a_server_whose_discovery_document_promises_iss_must_send_it() {
    let server = server();
    server.support_iss();
    let value = json!({
        "client_id": local_server::NATIVE_CLIENT_ID,
        "grant_type": "authorization_code",
        "redirect_uri": APP_REDIRECT,
        "issuer": server.issuer(),
    });
    let mut config = config(&value);
    bearer::discovery::resolve(&mut config).unwrap();
    let request = authorize::start(&config).unwrap();
    let redirect = browse(&request.url);
    let problem = complete(&config, &request, &with_iss(&redirect, None)).unwrap_err();
    assert_refused_for_its_issuer(&problem, "issuer_missing");
    let problem = complete(&config, &request, &with_iss(&redirect, Some(ATTACKER))).unwrap_err();
    assert_refused_for_its_issuer(&problem, "issuer_mismatch");
    complete(&config, &request, &redirect).unwrap();
}

/// Signs the test user in with `offline_access` and returns the refresh token.
fn refresh_token(server: &LocalAuthServer) -> String {
    let mut value = native_config(server, "authorization_code");
    value["scope"] = "openid offline_access".into();
    let config = config(&value);
    let request = authorize::start(&config).unwrap();
    let token = complete(&config, &request, &browse(&request.url)).unwrap();
    token
        .refresh_token
        .expect("offline_access gives a refresh token")
}

fn refresh_config(server: &LocalAuthServer, refresh_token: &str, query: &str) -> Value {
    json!({
        "client_id": local_server::NATIVE_CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "token_url": format!("{}?{query}", server.auth0_token_url()),
    })
}

#[test]
fn a_client_refreshes_when_the_access_token_expires_and_follows_rotation() {
    let server = server();
    let first = refresh_token(&server);
    let client =
        Client::from_json(&refresh_config(&server, &first, "expires_in=2").to_string()).unwrap();
    let a = client.token().unwrap();
    let b = client.token().unwrap();
    assert_eq!(a.access_token, b.access_token, "cached while fresh");
    assert_eq!(server.refresh_requests(), 1);
    let rotated = a.refresh_token.clone().unwrap();
    assert_ne!(rotated, first, "the server rotated the refresh token");

    thread::sleep(Duration::from_millis(2100));
    let c = client.token().unwrap();
    assert_ne!(c.access_token, a.access_token);
    assert_eq!(server.refresh_requests(), 2, "the rotated token worked");

    // The first refresh token was used up by the rotation.
    let stale = Client::from_json(&refresh_config(&server, &first, "t=stale").to_string()).unwrap();
    let problem = stale.token().unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidGrant);
    assert!(!problem.to_json().contains(&first));
}

#[test]
fn threads_sharing_a_refreshing_client_send_one_refresh() {
    let server = server();
    let client = Arc::new(
        Client::from_json(
            &refresh_config(&server, &refresh_token(&server), "stall_ms=200").to_string(),
        )
        .unwrap(),
    );
    let gate = Arc::new(Barrier::new(16));
    let tokens: Vec<String> = (0..16)
        .map(|_| {
            let (client, gate) = (client.clone(), gate.clone());
            thread::spawn(move || {
                gate.wait();
                client.token().unwrap().access_token.clone()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect();
    assert!(tokens.windows(2).all(|pair| pair[0] == pair[1]));
    assert_eq!(server.refresh_requests(), 1);
}

#[test]
fn an_issuer_alone_is_enough_through_discovery() {
    let server = server();
    let value = json!({
        "client_id": local_server::NATIVE_CLIENT_ID,
        "grant_type": "authorization_code",
        "redirect_uri": APP_REDIRECT,
        "issuer": server.issuer(),
    });
    let mut config = config(&value);
    bearer::discovery::resolve(&mut config).unwrap();
    assert_eq!(config.token_url, server.auth0_token_url());
    assert_eq!(config.authorize_url, server.authorize_url());
    let request = authorize::start(&config).unwrap();
    complete(&config, &request, &browse(&request.url)).unwrap();

    let client_credentials = json!({
        "client_id": local_server::AUTH0_CLIENT_ID,
        "client_secret": local_server::AUTH0_CLIENT_SECRET,
        "audience": local_server::DEMO_AUDIENCE,
        "issuer": format!("{}t/", server.issuer()),
    });
    let problem = Client::from_json(&client_credentials.to_string()).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::UpstreamError, "{problem}");
}

#[test]
fn the_loopback_login_takes_the_browsers_redirect() {
    let server = server();
    let mut value = native_config(&server, "authorization_code");
    value.as_object_mut().unwrap().remove("redirect_uri");
    let login = LoopbackLogin::start(config(&value)).unwrap();
    assert!(login.redirect_uri().starts_with("http://127.0.0.1:"));
    assert!(login.redirect_uri().ends_with("/callback"));

    let url = login.url().to_owned();
    let browser = thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        // A browser asks for a favicon too; the listener must not take it
        // for the callback.
        let origin = query_param(&url, "redirect_uri")
            .unwrap()
            .replace("/callback", "");
        let favicon = agent.get(format!("{origin}/favicon.ico")).call().unwrap();
        assert_eq!(favicon.status().as_u16(), 404);
        let mut page = agent.get(browse(&url)).call().unwrap();
        (
            page.status().as_u16(),
            page.body_mut().read_to_string().unwrap(),
        )
    });
    let token = login.wait(Duration::from_secs(10)).unwrap();
    let (status, page) = browser.join().unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("You are signed in"));
    assert_eq!(claims(&token.access_token)["sub"], local_server::TEST_USER);

    let again = login.wait(Duration::from_millis(10)).unwrap_err();
    assert_eq!(again.kind(), ProblemKind::InvalidArgument);
}

#[test]
fn the_loopback_login_gives_up_after_its_timeout() {
    let server = server();
    let mut value = native_config(&server, "authorization_code");
    value["redirect_uri"] = "http://127.0.0.1:0/done".into();
    let login = LoopbackLogin::start(config(&value)).unwrap();
    assert!(login.redirect_uri().ends_with("/done"));
    let started = std::time::Instant::now();
    let problem = login.wait(Duration::from_millis(300)).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// A GET as a browser makes it, bounded: the status and the page.
fn visit(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into();
    let mut page = agent.get(url).call().expect("the listener answers");
    let status = page.status().as_u16();
    (status, page.body_mut().read_to_string().unwrap())
}

#[test]
fn a_forged_callback_is_refused_and_the_login_goes_on() {
    let server = server();
    let login = LoopbackLogin::start(config(&native_config_on_loopback(&server))).unwrap();
    let callback = login.redirect_uri().to_owned();
    let url = login.url().to_owned();
    let browser = thread::spawn(move || {
        // Any local process (or a page guessing the port) can send these.
        let forged = [
            format!("{callback}?code=stolen&state=forged"),
            format!("{callback}?code=stolen"),
            format!("{callback}?error=access_denied&state=forged"),
        ];
        let refused: Vec<u16> = forged.iter().map(|url| visit(url).0).collect();
        (refused, visit(&browse(&url)))
    });
    let token = login.wait(Duration::from_secs(10)).unwrap();
    let (refused, (status, page)) = browser.join().unwrap();
    assert_eq!(refused, [400, 400, 400]);
    assert_eq!(status, 200);
    assert!(page.contains("You are signed in"));
    assert_eq!(claims(&token.access_token)["sub"], local_server::TEST_USER);
    assert_eq!(
        server.auth0_requests(),
        1,
        "only the real code is exchanged"
    );
}

#[test]
fn an_error_redirect_with_the_right_state_ends_the_login() {
    let server = server();
    let login = LoopbackLogin::start(config(&native_config_on_loopback(&server))).unwrap();
    let state = query_param(login.url(), "state").unwrap();
    let denied = format!("{}?error=access_denied&state={state}", login.redirect_uri());
    let browser = thread::spawn(move || visit(&denied).0);
    let problem = login.wait(Duration::from_secs(10)).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::AuthorizationDenied);
    assert_eq!(browser.join().unwrap(), 400);
    assert_eq!(server.auth0_requests(), 0);
}

/// A connection to the listener that sends its request head one byte every
/// 200 ms, for up to 8 s, until told to stop. It is connected on return.
fn slow_connection(redirect_uri: &str) -> (thread::JoinHandle<()>, Arc<AtomicBool>) {
    let authority = redirect_uri
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap();
    let mut stream = TcpStream::connect(authority).unwrap();
    stream.write_all(b"G").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let dripping = thread::spawn(move || {
        for _ in 0..40 {
            if stopped.load(Ordering::SeqCst) || stream.write_all(b"E").is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(200));
        }
    });
    (dripping, stop)
}

#[test]
fn a_slow_connection_does_not_hold_the_login_past_its_timeout() {
    let server = server();
    let login = LoopbackLogin::start(config(&native_config_on_loopback(&server))).unwrap();
    let (dripping, stop) = slow_connection(login.redirect_uri());
    let started = Instant::now();
    let problem = login.wait(Duration::from_millis(1500)).unwrap_err();
    let waited = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    dripping.join().unwrap();
    assert_eq!(problem.kind(), ProblemKind::Timeout);
    assert!(waited < Duration::from_millis(2200), "{waited:?}");
}

#[test]
fn a_redirect_is_served_while_a_slow_connection_is_open() {
    let server = server();
    let login = LoopbackLogin::start(config(&native_config_on_loopback(&server))).unwrap();
    let (dripping, stop) = slow_connection(login.redirect_uri());
    let url = login.url().to_owned();
    let browser = thread::spawn(move || {
        let callback = browse(&url);
        let started = Instant::now();
        let (status, _) = visit(&callback);
        (status, started.elapsed())
    });
    let token = login.wait(Duration::from_secs(20)).unwrap();
    let (status, took) = browser.join().unwrap();
    stop.store(true, Ordering::SeqCst);
    dripping.join().unwrap();
    assert_eq!(status, 200);
    assert_eq!(claims(&token.access_token)["sub"], local_server::TEST_USER);
    assert!(
        took < Duration::from_secs(2),
        "the redirect waited {took:?}"
    );
}

#[test]
fn a_login_may_wait_without_limit() {
    let server = server();
    let login = LoopbackLogin::start(config(&native_config_on_loopback(&server))).unwrap();
    let url = login.url().to_owned();
    let (done, outcome) = mpsc::channel();
    thread::spawn(move || {
        // The test may have given up already; then nobody takes the outcome.
        let _ = done.send(login.wait(Duration::MAX));
    });
    let (status, _) = visit(&browse(&url));
    // Bounded here, so a listener that never answers fails the test.
    let token = outcome
        .recv_timeout(Duration::from_secs(10))
        .expect("the wait ends with the redirect")
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(claims(&token.access_token)["sub"], local_server::TEST_USER);
}

/// The native app's configuration, on an ephemeral loopback port.
fn native_config_on_loopback(server: &LocalAuthServer) -> Value {
    let mut value = native_config(server, "authorization_code");
    value.as_object_mut().unwrap().remove("redirect_uri");
    value
}

#[test]
fn user_flow_configurations_are_checked() {
    let server = server();
    let mut value = native_config(&server, "authorization_code");
    value["redirect_uri"] = "http://example.com/callback".into();
    let problem = Config::from_json(&value.to_string()).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InsecureUrl);

    let value = json!({"client_id": "x", "grant_type": "refresh_token"});
    let problem = Config::from_json(&value.to_string()).unwrap_err();
    assert_eq!(problem.extensions()["key"], "refresh_token");

    let value = json!({"client_id": "x", "grant_type": "authorization_code"});
    let problem = authorize::start(&config(&value)).unwrap_err();
    assert_eq!(problem.extensions()["key"], "redirect_uri");

    let problem = Client::from_json(&native_config(&server, "implicit").to_string()).unwrap_err();
    assert_eq!(problem.extensions()["key"], "grant_type");

    let mut value = native_config(&server, "authorization_code");
    value["redirect_uri"] = "https://app.example.com/callback".into();
    let problem = LoopbackLogin::start(config(&value)).unwrap_err();
    assert_eq!(problem.extensions()["key"], "redirect_uri");
}

#[test]
fn a_refresh_is_retried_only_when_the_server_did_not_take_it() {
    let server = server();
    let refresh = refresh_token(&server);
    // Cut off or failed halfway, the server may have rotated the token
    // already: a second try could only be refused, so none is made.
    for fault in ["drop_mid_body", "reset", "server_error", "bad_gateway"] {
        let config = refresh_config(&server, &refresh, &format!("fault={fault}"));
        let before = server.auth0_requests();
        let problem = Client::from_json(&config.to_string())
            .unwrap()
            .token()
            .unwrap_err();
        assert!(!problem.to_json().contains(&refresh), "{fault}");
        assert_eq!(server.auth0_requests() - before, 1, "{fault}: one attempt");
    }
    // A 503 says the request was not taken: retried, and it works.
    let config = refresh_config(&server, &refresh, "fault=unavailable&fail_first=1");
    let before = server.auth0_requests();
    let client = Client::from_json(&config.to_string()).unwrap();
    let token = client.token().expect("the retry refreshes");
    assert_ne!(
        token.refresh_token.as_deref(),
        Some(refresh.as_str()),
        "rotated"
    );
    assert_eq!(server.auth0_requests() - before, 2);
}

#[test]
fn clients_sharing_a_host_tier_follow_each_others_rotated_refresh_tokens() {
    let server = server();
    let first = refresh_token(&server);
    let folder = common::test_cache_home().join("rotation");
    let _ = std::fs::remove_dir_all(&folder);
    let mut value = refresh_config(&server, &first, "expires_in=2");
    value["cache"] = format!("file:{}", folder.display()).into();
    // Two clients with memories of their own, as two processes have.
    let one = Client::from_json(&value.to_string()).unwrap();
    let two = Client::from_json(&value.to_string()).unwrap();
    let a = one.token().unwrap();
    assert_eq!(two.token().unwrap().access_token, a.access_token, "shared");
    assert_eq!(server.refresh_requests(), 1);

    // The first refreshes again, while the second is idle: the server
    // rotates the refresh token the second last saw.
    thread::sleep(Duration::from_millis(2100));
    let b = one.token().unwrap();
    assert_eq!(server.refresh_requests(), 2);
    thread::sleep(Duration::from_millis(2100));
    // Both tokens have expired: the second refreshes with the refresh
    // token the first rotated to, read from the shared entry under its lock.
    let c = two.token().expect("the latest refresh token is used");
    assert_ne!(c.access_token, b.access_token);
    assert_eq!(server.refresh_requests(), 3);
    assert_eq!(one.token().unwrap().access_token, c.access_token);
    assert_eq!(server.refresh_requests(), 3);
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn a_refused_access_token_leaves_the_shared_refresh_token_in_place() {
    let server = server();
    let first = refresh_token(&server);
    let folder = common::test_cache_home().join("refusal-rotation");
    let _ = std::fs::remove_dir_all(&folder);
    let mut value = refresh_config(&server, &first, "");
    value["cache"] = format!("file:{}", folder.display()).into();
    let one = Client::from_json(&value.to_string()).unwrap();
    let a = one.token().unwrap();
    assert_eq!(server.refresh_requests(), 1, "the first refresh rotated it");
    assert!(one.token_refused(&a.access_token).unwrap().dropped());
    // A process that starts now knows only the refresh token it was
    // configured with, which the server has rotated away: it refreshes
    // with the one the shared entry kept.
    let two = Client::from_json(&value.to_string()).unwrap();
    let b = two.token().expect("the kept refresh token is used");
    assert_ne!(b.access_token, a.access_token);
    assert_eq!(server.refresh_requests(), 2);
    assert_eq!(one.token().unwrap().access_token, b.access_token);
    assert_eq!(server.refresh_requests(), 2);
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn a_private_key_jwt_client_exchanges_its_code_and_refreshes_with_assertions() {
    let server = server();
    let mut value = native_config(&server, "authorization_code");
    value["client_id"] = local_server::JWT_CLIENT_ID.into();
    value["client_auth"] = "private_key_jwt".into();
    value["private_key_file"] = format!("{}/tests/keys/ec.key", env!("CARGO_MANIFEST_DIR")).into();
    value["scope"] = "openid offline_access".into();
    let signed_in = config(&value);
    let request = authorize::start(&signed_in).unwrap();
    let token = complete(&signed_in, &request, &browse(&request.url)).unwrap();
    assert_eq!(
        claims(&token.access_token)["azp"],
        local_server::JWT_CLIENT_ID
    );

    value["grant_type"] = "refresh_token".into();
    value["refresh_token"] = token.refresh_token.clone().unwrap().into();
    let client = Client::from_json(&value.to_string()).unwrap();
    let refreshed = client
        .token()
        .expect("the refresh is authenticated by an assertion");
    assert_ne!(refreshed.access_token, token.access_token);
    assert_eq!(server.refresh_requests(), 1);

    // Without the assertion the code grant's client is not authenticated.
    let mut unsigned = value.clone();
    unsigned.as_object_mut().unwrap().remove("client_auth");
    unsigned.as_object_mut().unwrap().remove("private_key_file");
    let problem = Client::from_json(&unsigned.to_string())
        .unwrap()
        .token()
        .unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::Unauthorized);
}
