//! The device authorization grant (RFC 8628) against the local server: the
//! user approves, declines, lets the code expire, or the server says to
//! slow down; and a poll is cancelled from another thread.

mod common;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bearer::local_server::{self, LocalAuthServer};
use bearer::{Config, DeviceLogin, ProblemKind};
use common::*;
use serde_json::{Value, json};

fn device_config(server: &LocalAuthServer, query: &str) -> Value {
    json!({
        "client_id": local_server::NATIVE_CLIENT_ID,
        "grant_type": "device_code",
        "device_authorization_url": format!("{}?{query}", server.device_authorization_url()),
        "token_url": server.auth0_token_url(),
        "audience": local_server::DEMO_AUDIENCE,
        "scope": "openid offline_access",
    })
}

fn start(config: &Value) -> DeviceLogin {
    DeviceLogin::start(Config::from_json(&config.to_string()).unwrap()).unwrap()
}

/// Polls on a thread of its own; the outcome and how long it took.
fn poll_in_background(
    login: Arc<DeviceLogin>,
) -> thread::JoinHandle<(Result<bearer::Token, bearer::Problem>, Duration)> {
    thread::spawn(move || {
        let started = Instant::now();
        let outcome = login.poll();
        (outcome, started.elapsed())
    })
}

#[test]
fn the_user_approves_on_another_device_and_the_poll_gets_the_tokens() {
    let server = server();
    let login = Arc::new(start(&device_config(&server, "interval=0")));
    let shown: Value = serde_json::from_str(&login.to_json()).unwrap();
    assert_eq!(shown["user_code"], login.user_code.as_str());
    assert!(login.user_code.len() == 9 && login.user_code.as_bytes()[4] == b'-');
    assert!(
        shown["verification_uri"]
            .as_str()
            .unwrap()
            .ends_with("/activate")
    );
    assert!(
        shown["verification_uri_complete"]
            .as_str()
            .unwrap()
            .ends_with(&login.user_code)
    );
    assert_eq!(shown["interval"], 0);
    assert!(
        !login.to_json().contains("device_code"),
        "the device code is a secret"
    );

    let polling = poll_in_background(login.clone());
    // Pending until the user acts: at least one poll is refused first.
    while server.device_polls() == 0 {
        thread::yield_now();
    }
    assert!(server.device_action(&login.user_code, "approve"));
    let (token, _) = polling.join().unwrap();
    let token = token.unwrap();
    assert_eq!(claims(&token.access_token)["sub"], local_server::TEST_USER);
    assert!(token.refresh_token.is_some(), "offline_access");
    assert!(token.id_token.is_some(), "openid");
    // The device code is used up.
    let again = login.poll().unwrap_err();
    assert_eq!(again.kind(), ProblemKind::InvalidGrant, "{again}");
}

#[test]
fn the_user_declines() {
    let server = server();
    let login = Arc::new(start(&device_config(&server, "interval=0")));
    assert!(server.device_action(&login.user_code, "deny"));
    let problem = login.poll().unwrap_err();
    assert_eq!(
        problem.kind(),
        ProblemKind::AuthorizationDenied,
        "{problem}"
    );
}

#[test]
fn a_code_nobody_approves_expires() {
    let server = server();
    let login = start(&device_config(&server, "interval=0&expires_in=1"));
    let started = Instant::now();
    let problem = login.poll().unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::DeviceCodeExpired, "{problem}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(problem.detail().contains(&login.user_code));
}

#[test]
fn a_poll_cancelled_from_another_thread_returns_at_once() {
    let server = server();
    let login = Arc::new(start(&device_config(&server, "interval=5")));
    let polling = poll_in_background(login.clone());
    while server.device_polls() == 0 {
        thread::yield_now();
    }
    login.cancel();
    let (outcome, took) = polling.join().unwrap();
    assert_eq!(outcome.unwrap_err().kind(), ProblemKind::Cancelled);
    assert!(
        took < Duration::from_secs(2),
        "{took:?}: not the 5 s interval"
    );
    assert_eq!(login.poll().unwrap_err().kind(), ProblemKind::Cancelled);
}

#[test]
fn slow_down_adds_five_seconds_to_the_interval() {
    let server = server();
    let login = Arc::new(start(&device_config(&server, "interval=0")));
    assert!(server.device_action(&login.user_code, "slow_down"));
    let polling = poll_in_background(login.clone());
    while server.device_polls() == 0 {
        thread::yield_now();
    }
    assert!(server.device_action(&login.user_code, "approve"));
    let (token, took) = polling.join().unwrap();
    assert!(token.is_ok(), "{token:?}");
    assert!(took >= Duration::from_millis(4900), "{took:?}");
    assert_eq!(server.device_polls(), 2, "slow_down, then the tokens");
}

#[test]
fn the_device_endpoint_comes_from_discovery_or_is_named() {
    let server = server();
    let mut config = device_config(&server, "");
    config
        .as_object_mut()
        .unwrap()
        .remove("device_authorization_url");
    config.as_object_mut().unwrap().remove("token_url");
    config["issuer"] = server.issuer().into();
    let login = start(&config);
    assert_eq!(login.interval, 5, "the server's default");

    config.as_object_mut().unwrap().remove("issuer");
    config["token_url"] = server.auth0_token_url().into();
    let problem = Config::from_json(&config.to_string()).unwrap_err();
    assert_eq!(problem.extensions()["key"], "device_authorization_url");
    // A device-code configuration is not for a token client.
    let problem = bearer::Client::from_json(&device_config(&server, "").to_string()).unwrap_err();
    assert_eq!(problem.extensions()["key"], "grant_type");
}
