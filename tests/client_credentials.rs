//! Client credentials against the local server, as the seeds' snippets do it.

mod common;

use std::sync::Arc;

use bearer::local_server;
use bearer::{Client, MemoryCache, fetch_token};
use common::*;
use serde_json::Value;

#[test]
fn the_seed_credentials_file_gets_a_token() {
    let server = server();
    let client = Client::from_json(&auth0_config(&server).to_string()).unwrap();
    let token = client.token().unwrap();
    assert_eq!(token.token_type, "Bearer");
    let claims = claims(&token.access_token);
    assert_eq!(claims["aud"], local_server::DEMO_AUDIENCE);
    assert_eq!(
        claims["sub"],
        format!("{}@clients", local_server::AUTH0_CLIENT_ID)
    );
    assert_eq!(token.expires_in(), Some(86400));
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn the_cobuilder_shape_gets_a_bare_token_as_json_string_or_plain_text() {
    let server = server();
    for query in ["", "plain=1"] {
        let config = with_query(cobuilder_config(&server), query);
        let token = Client::from_json(&config.to_string())
            .unwrap()
            .token()
            .unwrap();
        assert_eq!(
            claims(&token.access_token)["aud"],
            local_server::COBUILDER_AUDIENCE
        );
        // No expires_in in a bare answer: the JWT's exp gives the lifetime.
        let expires_in = token.expires_in().unwrap();
        assert!((3590..=3600).contains(&expires_in), "{expires_in}");
    }
    assert_eq!(server.cobuilder_requests(), 2);
}

#[test]
fn form_bodies_and_basic_authentication_work_too() {
    let server = server();
    for (body, auth) in [
        ("form", "client_secret_post"),
        ("form", "client_secret_basic"),
        ("json", "client_secret_basic"),
    ] {
        let config = with(
            with(auth0_config(&server), "body", body),
            "client_auth",
            auth,
        );
        let token = Client::from_json(&config.to_string()).unwrap().token();
        assert!(token.is_ok(), "{body} {auth}: {token:?}");
    }
    let cobuilder = with(
        cobuilder_config(&server),
        "client_auth",
        "client_secret_basic",
    );
    assert!(
        Client::from_json(&cobuilder.to_string())
            .unwrap()
            .token()
            .is_ok()
    );
}

#[test]
fn scope_and_extra_params_are_sent() {
    let server = server();
    let config = with(
        with(auth0_config(&server), "scope", "read:images write:orders"),
        "extra_params",
        serde_json::json!({"organization": "org_123"}),
    );
    let token = Client::from_json(&config.to_string())
        .unwrap()
        .token()
        .unwrap();
    assert_eq!(token.scope.as_deref(), Some("read:images write:orders"));
}

#[test]
fn a_client_caches_its_token_until_shortly_before_expiry() {
    let server = server();
    let client =
        Client::from_json(&with_query(auth0_config(&server), "expires_in=1").to_string()).unwrap();
    let first = client.token().unwrap();
    let again = client.token().unwrap();
    assert_eq!(first.access_token, again.access_token);
    assert_eq!(server.auth0_requests(), 1);
    std::thread::sleep(std::time::Duration::from_millis(950));
    let renewed = client.token().unwrap();
    assert_ne!(first.access_token, renewed.access_token);
    assert_eq!(server.auth0_requests(), 2);
}

#[test]
fn without_expires_in_the_jwt_exp_sets_the_lifetime() {
    let server = server();
    let config = with_query(auth0_config(&server), "omit_expires_in=1&expires_in=600");
    let client = Client::from_json(&config.to_string()).unwrap();
    let token = client.token().unwrap();
    assert!((590..=600).contains(&token.expires_in().unwrap()));
    client.token().unwrap();
    assert_eq!(server.auth0_requests(), 1, "cached by its exp claim");
}

#[test]
fn a_token_of_unknown_lifetime_is_never_cached() {
    let server = server();
    let client =
        Client::from_json(&with_query(auth0_config(&server), "opaque=1").to_string()).unwrap();
    let first = client.token().unwrap();
    let second = client.token().unwrap();
    assert_eq!(first.expires_at, None);
    assert_ne!(first.access_token, second.access_token);
    assert_eq!(server.auth0_requests(), 2);
}

#[test]
fn the_one_shot_call_shares_a_process_wide_cache() {
    let server = server();
    let config = auth0_config(&server).to_string();
    let first = fetch_token(&config).unwrap();
    let second = fetch_token(&config).unwrap();
    assert_eq!(first.access_token, second.access_token);
    assert_eq!(server.auth0_requests(), 1);

    // Another secret is another cache entry: it never reuses the right one's token.
    let wrong = with(auth0_config(&server), "client_secret", "wrong").to_string();
    assert!(fetch_token(&wrong).is_err());
    assert_eq!(server.auth0_requests(), 2);
}

#[test]
fn clients_can_share_one_cache() {
    let server = server();
    let cache = Arc::new(MemoryCache::new(16));
    let config = || bearer::Config::from_json(&auth0_config(&server).to_string()).unwrap();
    let first = Client::with_cache(config(), cache.clone()).unwrap();
    let second = Client::with_cache(config(), cache.clone()).unwrap();
    assert_eq!(
        first.token().unwrap().access_token,
        second.token().unwrap().access_token
    );
    assert_eq!(server.auth0_requests(), 1);
    assert_eq!(cache.len(), 1);
}

#[test]
fn the_token_response_json_has_the_documented_members() {
    let server = server();
    let client =
        Client::from_json(&with(auth0_config(&server), "scope", "read").to_string()).unwrap();
    let json = client.token().unwrap().to_json();
    let response: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        member_names(&json),
        [
            "access_token",
            "token_type",
            "expires_in",
            "expires_at",
            "scope"
        ]
    );
    assert_eq!(
        client.authorization_header().unwrap(),
        format!("Bearer {}", response["access_token"].as_str().unwrap())
    );
}

#[test]
fn connections_are_kept_alive_between_fetches() {
    let server = server();
    let client =
        Client::from_json(&with_query(auth0_config(&server), "opaque=1").to_string()).unwrap();
    for _ in 0..5 {
        client.token().unwrap();
    }
    assert_eq!(server.auth0_requests(), 5);
    assert_eq!(
        server.connections(),
        1,
        "one pooled connection served every fetch"
    );
}

#[test]
fn stall_ms_alone_delays_a_normal_answer() {
    let server = server();
    let client =
        Client::from_json(&with_query(auth0_config(&server), "stall_ms=300").to_string()).unwrap();
    let started = std::time::Instant::now();
    client.token().unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(server.auth0_requests(), 1);
}
