//! Every kind of failure ends in one clear problem, within the deadline.

mod common;

use std::time::{Duration, Instant};

use bearer::{Client, Problem, ProblemKind};
use common::*;
use serde_json::Value;

fn problem_for(config: &Value) -> Problem {
    match Client::from_json(&config.to_string()) {
        Ok(client) => client.token().expect_err("the fetch should fail"),
        Err(problem) => problem,
    }
}

#[test]
fn a_wrong_secret_is_auth0s_401_access_denied() {
    let server = server();
    let problem = problem_for(&with(auth0_config(&server), "client_secret", "wrong"));
    assert_eq!(problem.kind(), ProblemKind::Unauthorized);
    assert_eq!(problem.type_uri(), "urn:bearer:problem:unauthorized");
    assert_eq!(problem.status(), 401);
    assert_eq!(problem.detail(), "Unauthorized");
    assert_eq!(problem.extensions()["error"], "access_denied");
    assert_eq!(problem.instance(), server.auth0_token_url());
    assert_eq!(
        problem.to_string(),
        "Client authentication failed: Unauthorized"
    );
}

#[test]
fn an_audience_without_a_client_grant_is_403() {
    let server = server();
    let problem = problem_for(&with(
        auth0_config(&server),
        "audience",
        "https://other.example.com",
    ));
    assert_eq!(problem.kind(), ProblemKind::Forbidden);
    assert_eq!(problem.status(), 403);
    assert_eq!(problem.extensions()["error"], "access_denied");
    assert!(problem.detail().contains("client-grant"), "{problem}");
}

#[test]
fn an_invalid_request_is_400() {
    let server = server();
    let problem = problem_for(&with_query(auth0_config(&server), "fault=echo"));
    assert_eq!(problem.kind(), ProblemKind::InvalidRequest);
    assert_eq!(problem.status(), 400);
    assert_eq!(problem.extensions()["error"], "invalid_request");
}

#[test]
fn throttling_is_429_with_retry_after_in_extensions() {
    let server = server();
    let config = with(auth0_config(&server), "retries", 0);
    let problem = problem_for(&with_query(config, "fault=rate_limit"));
    assert_eq!(problem.kind(), ProblemKind::RateLimited);
    assert_eq!(problem.status(), 429);
    assert_eq!(problem.extensions()["retry_after"], 7);
    assert_eq!(problem.extensions()["error"], "too_many_requests");
}

#[test]
fn cobuilder_problem_details_pass_through_unchanged() {
    let server = server();
    let problem = problem_for(&with(cobuilder_config(&server), "clientSecret", "wrong"));
    assert_eq!(problem.kind(), ProblemKind::UpstreamProblem);
    assert_eq!(
        problem.type_uri(),
        "https://tools.ietf.org/html/rfc9110#section-15.5.2"
    );
    assert_eq!(problem.title(), "Unauthorized");
    assert_eq!(problem.status(), 401);
    assert_eq!(problem.detail(), "Invalid client credentials.");
    assert_eq!(problem.instance(), "/authentication/api/v1/oauth2/token");

    let problem = problem_for(&with(
        cobuilder_config(&server),
        "audienceUrl",
        "https://elsewhere.example",
    ));
    assert_eq!(problem.status(), 400);
    assert_eq!(problem.title(), "Invalid audience");
}

#[test]
fn a_closed_port_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let server = server();
    let config = with(
        auth0_config(&server),
        "token_url",
        format!("http://127.0.0.1:{port}/oauth/token"),
    );
    let problem = problem_for(&config);
    assert_eq!(problem.kind(), ProblemKind::Unreachable);
    assert_eq!(problem.status(), 502);
}

#[test]
fn a_stalled_server_times_out_within_the_deadline() {
    let server = server();
    let config = with(
        with_query(auth0_config(&server), "fault=stall&stall_ms=5000"),
        "timeout_ms",
        300,
    );
    let started = Instant::now();
    let problem = problem_for(&config);
    assert_eq!(problem.kind(), ProblemKind::Timeout);
    assert_eq!(problem.status(), 504);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn unreadable_answers_are_invalid_responses() {
    let server = server();
    for fault in ["garbage", "html", "empty"] {
        let problem = problem_for(&with_query(
            auth0_config(&server),
            &format!("fault={fault}"),
        ));
        assert_eq!(
            problem.kind(),
            ProblemKind::InvalidResponse,
            "{fault}: {problem}"
        );
        assert_eq!(problem.status(), 502);
    }
}

#[test]
fn an_oversize_answer_is_refused() {
    let server = server();
    let problem = problem_for(&with_query(auth0_config(&server), "fault=oversize"));
    assert_eq!(problem.kind(), ProblemKind::ResponseTooLarge, "{problem}");
}

#[test]
fn a_dropped_connection_is_unreachable() {
    let server = server();
    for fault in ["drop", "drop_mid_body"] {
        let problem = problem_for(&with_query(
            auth0_config(&server),
            &format!("fault={fault}"),
        ));
        assert_eq!(
            problem.kind(),
            ProblemKind::Unreachable,
            "{fault}: {problem}"
        );
    }
}

#[test]
fn a_server_error_is_an_upstream_error() {
    let server = server();
    let problem = problem_for(&with_query(auth0_config(&server), "fault=server_error"));
    assert_eq!(problem.kind(), ProblemKind::UpstreamError);
    assert_eq!(problem.status(), 502);
    assert_eq!(problem.extensions()["upstream_status"], 500);
}

#[test]
fn a_redirect_is_never_followed() {
    let server = server();
    let problem = problem_for(&with_query(auth0_config(&server), "fault=redirect"));
    assert_eq!(problem.kind(), ProblemKind::Redirected);
    assert_eq!(
        server.auth0_requests(),
        1,
        "the POST was not repeated at the Location"
    );
}

#[test]
fn caller_input_is_checked_before_any_request() {
    let server = server();
    let cases = [
        (
            r#"{"client_id":"a""#.to_owned(),
            ProblemKind::InvalidConfig,
            "not valid JSON",
        ),
        (
            r#"{"client_secret":"b"}"#.to_owned(),
            ProblemKind::InvalidConfig,
            "\"client_id\"",
        ),
        (
            with(auth0_config(&server), "tokenurl", "x").to_string(),
            ProblemKind::InvalidConfig,
            "did you mean \"token_url\"",
        ),
        (
            with(
                auth0_config(&server),
                "token_url",
                "http://login.open-cosmos.com/oauth/token",
            )
            .to_string(),
            ProblemKind::InsecureUrl,
            "http://",
        ),
        (
            with(auth0_config(&server), "ca_file", "/nonexistent/ca.pem").to_string(),
            ProblemKind::InvalidConfig,
            "ca_file",
        ),
    ];
    for (config, kind, detail) in cases {
        let problem = Client::from_json(&config).expect_err(&config);
        assert_eq!(problem.kind(), kind, "{config}");
        assert_eq!(problem.status(), 400);
        assert!(problem.detail().contains(detail), "{problem}");
    }
    assert_eq!(server.auth0_requests(), 0);
}

#[test]
fn every_problem_has_the_six_members() {
    let server = server();
    let problem = problem_for(&with(auth0_config(&server), "client_secret", "wrong"));
    assert_eq!(
        member_names(&problem.to_json()),
        [
            "type",
            "title",
            "status",
            "detail",
            "instance",
            "extensions"
        ]
    );
}
