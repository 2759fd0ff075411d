//! Compare-and-invalidate: an API refuses a token (401 `invalid_token`),
//! the caller says so with `token_refused`, and exactly one new token is
//! fetched however many callers saw the refusal. Against the local
//! server's protected resource, which refuses tokens `revoke_tokens` revoked.

mod common;

use std::sync::Arc;

use bearer::local_server::LocalAuthServer;
use bearer::{Client, ProblemKind, Refusal, token_refused};
use common::*;
use serde_json::Value;

/// The protected resource's status for a GET carrying `token`.
fn api_status(server: &LocalAuthServer, path: &str, token: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .get(server.api_url(path))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .expect("the resource answers")
        .status()
        .as_u16()
}

fn client(config: &Value) -> Client {
    Client::from_json(&config.to_string()).unwrap()
}

fn host_config(server: &LocalAuthServer, folder: &Folder) -> Value {
    with(auth0_config(server), "cache", folder.setting())
}

#[test]
fn a_revoked_token_is_dropped_once_and_replaced_by_one_new_token() {
    let server = server();
    let client = client(&auth0_config(&server));
    let first = client.token().unwrap();
    assert_eq!(api_status(&server, "whoami", &first.access_token), 200);

    server.revoke_tokens();
    assert_eq!(api_status(&server, "whoami", &first.access_token), 401);
    assert_eq!(
        client.token_refused(&first.access_token).unwrap(),
        Refusal::Dropped
    );
    // A late refusal of the same token: it is not the current one any more.
    assert_eq!(
        client.token_refused(&first.access_token).unwrap(),
        Refusal::NotCurrent
    );
    let second = client.token().unwrap();
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(api_status(&server, "whoami", &second.access_token), 200);
    assert_eq!(client.token().unwrap().access_token, second.access_token);
    assert_eq!(server.auth0_requests(), 2);
    // Refusing a token the client never had drops nothing either.
    assert_eq!(
        client.token_refused("not-a-token-it-had").unwrap(),
        Refusal::NotCurrent
    );
    assert_eq!(client.token().unwrap().access_token, second.access_token);
}

#[test]
fn sixteen_callers_refusing_one_token_cost_one_new_token() {
    let server = server();
    let client = Arc::new(client(&auth0_config(&server)));
    let revoked = client.token().unwrap().access_token.clone();
    server.revoke_tokens();
    let outcomes = refuse_together(&[client], &revoked, 16);
    let dropped = outcomes.iter().filter(|(r, _)| r.dropped()).count();
    assert_eq!(dropped, 1, "{outcomes:?}");
    let new = &outcomes[0].1;
    assert_ne!(*new, revoked);
    assert!(outcomes.iter().all(|(_, token)| token == new));
    assert_eq!(server.auth0_requests(), 2);
    assert_eq!(api_status(&server, "whoami", new), 200);
}

#[test]
fn an_api_that_refuses_every_token_forces_one_refresh_per_window() {
    let server = server();
    let client = client(&auth0_config(&server));
    let first = client.token().unwrap();
    assert_eq!(api_status(&server, "refuse", &first.access_token), 401);
    assert!(client.token_refused(&first.access_token).unwrap().dropped());
    let second = client.token().unwrap();
    assert_eq!(api_status(&server, "refuse", &second.access_token), 401);
    // Within two seconds of the last drop: this one stays.
    assert_eq!(
        client.token_refused(&second.access_token).unwrap(),
        Refusal::TooSoon
    );
    assert_eq!(client.token().unwrap().access_token, second.access_token);
    assert_eq!(server.auth0_requests(), 2);
}

#[test]
fn a_403_insufficient_scope_is_not_a_refusal_of_the_token() {
    let server = server();
    let client = client(&auth0_config(&server));
    let token = client.token().unwrap();
    assert_eq!(api_status(&server, "admin/users", &token.access_token), 403);
    assert_eq!(api_status(&server, "whoami", &token.access_token), 200);
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn the_one_shot_call_drops_its_cached_token_too() {
    let server = server();
    let config = auth0_config(&server).to_string();
    let first = bearer::fetch_token(&config).unwrap();
    server.revoke_tokens();
    assert_eq!(
        token_refused(&config, &first.access_token).unwrap(),
        Refusal::Dropped
    );
    let second = bearer::fetch_token(&config).unwrap();
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(api_status(&server, "whoami", &second.access_token), 200);
    assert_eq!(
        token_refused(&config, &first.access_token).unwrap(),
        Refusal::NotCurrent
    );
    assert_eq!(server.auth0_requests(), 2);
    let bad = token_refused("{", "token").unwrap_err();
    assert_eq!(bad.kind(), ProblemKind::InvalidConfig);
}

#[test]
fn processes_of_one_host_refusing_one_token_cost_one_new_token() {
    let server = server();
    let folder = Folder::new("refusal-host");
    let config = host_config(&server, &folder);
    // Clients with memories of their own, as processes have.
    let clients: Vec<Arc<Client>> = (0..4).map(|_| Arc::new(client(&config))).collect();
    let revoked = clients[0].token().unwrap().access_token.clone();
    for client in &clients {
        assert_eq!(client.token().unwrap().access_token, revoked);
    }
    assert_eq!(server.auth0_requests(), 1);
    server.revoke_tokens();

    let outcomes = refuse_together(&clients, &revoked, 16);
    assert_eq!(server.auth0_requests(), 2, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|(r, _)| r.dropped()).count(), 1);
    let new = &outcomes[0].1;
    assert!(outcomes.iter().all(|(_, token)| token == new));
    assert_eq!(api_status(&server, "whoami", new), 200);

    // A late refusal from a process that missed all of it: replaced already.
    let late = client(&config);
    assert_eq!(late.token_refused(&revoked).unwrap(), Refusal::NotCurrent);
    assert_eq!(late.token().unwrap().access_token, *new);
    assert_eq!(server.auth0_requests(), 2);
}

#[test]
fn the_host_tier_keeps_its_window_across_processes() {
    let server = server();
    let folder = Folder::new("refusal-window");
    let config = host_config(&server, &folder);
    let one = client(&config);
    let two = client(&config);
    let first = one.token().unwrap();
    assert!(one.token_refused(&first.access_token).unwrap().dropped());
    let second = two.token().unwrap();
    assert_ne!(second.access_token, first.access_token);
    // Another process refuses the new token at once: the shared entry's
    // window keeps it, though this client never dropped one.
    assert_eq!(
        two.token_refused(&second.access_token).unwrap(),
        Refusal::TooSoon
    );
    assert_eq!(one.token().unwrap().access_token, second.access_token);
    assert_eq!(server.auth0_requests(), 2);
}

#[test]
fn the_protected_resource_answers_as_an_api_behind_auth0_does() {
    let server = server();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let challenge = |response: &ureq::http::Response<ureq::Body>| {
        response
            .headers()
            .get("www-authenticate")
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let bare = agent.get(server.api_url("whoami")).call().unwrap();
    assert_eq!(bare.status(), 401);
    assert_eq!(challenge(&bare).as_deref(), Some("Bearer realm=\"api\""));
    let unknown = agent
        .get(server.api_url("whoami"))
        .header("Authorization", "Bearer not.a.token")
        .call()
        .unwrap();
    assert_eq!(unknown.status(), 401);
    assert!(
        challenge(&unknown)
            .unwrap()
            .contains("error=\"invalid_token\"")
    );

    let token = client(&auth0_config(&server)).token().unwrap();
    let mut echoed = agent
        .post(server.api_url("orders"))
        .header("Authorization", token.authorization_header())
        .send("an order")
        .unwrap();
    assert_eq!(echoed.status(), 200);
    let echoed: Value = serde_json::from_str(&echoed.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(echoed["sub"], "demo-client@clients");
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["body"], "an order");
    let headers = echoed["headers"].as_array().unwrap();
    assert_eq!(headers.iter().filter(|h| *h == "authorization").count(), 1);

    let admin = agent
        .get(server.api_url("admin"))
        .header("Authorization", token.authorization_header())
        .call()
        .unwrap();
    assert_eq!(admin.status(), 403);
    assert!(
        challenge(&admin)
            .unwrap()
            .contains("error=\"insufficient_scope\"")
    );

    let mut open = agent.get(server.api_url("open")).call().unwrap();
    assert_eq!(open.status(), 200);
    assert!(
        open.body_mut()
            .read_to_string()
            .unwrap()
            .contains("\"authorization\":false")
    );
    let redirect = agent
        .get(server.api_url("redirect?to=http%3A%2F%2F127.0.0.1%3A9%2Fx"))
        .call()
        .unwrap();
    assert_eq!(redirect.status(), 302);
    assert_eq!(redirect.headers()["location"], "http://127.0.0.1:9/x");

    let revoke = format!("{}/_revoke", server.base_url());
    assert_eq!(agent.get(&revoke).call().unwrap().status(), 405);
    assert_eq!(agent.post(&revoke).send_empty().unwrap().status(), 200);
    assert_eq!(api_status(&server, "whoami", &token.access_token), 401);
    assert_eq!(server.api_requests(), 7);
}
