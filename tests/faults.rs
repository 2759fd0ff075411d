//! The fault matrix: every way a token endpoint can misbehave, against the
//! real client and the local server. Each case must end in a correct token
//! or a clear problem within the call's deadline: never a hang, never a
//! crash. Also retries, the throttling window and serve-stale.

mod common;

use std::time::{Duration, Instant};

use bearer::local_server::LocalAuthServer;
use bearer::{Client, Problem, ProblemKind};
use common::*;
use serde_json::Value;

/// The deadline every case runs under, and the slack its timing may take
/// beyond it (a loaded 2-core machine, process scheduling).
const DEADLINE_MS: u64 = 3000;
const SLACK: Duration = Duration::from_millis(1500);

fn client(config: &Value) -> Client {
    Client::from_json(&config.to_string()).expect("a valid configuration")
}

/// One call under the deadline: its outcome and how long it took, which
/// must be within the deadline whatever happened.
fn call(client: &Client) -> (Result<String, Problem>, Duration) {
    let started = Instant::now();
    let outcome = client.token().map(|token| token.access_token.clone());
    let took = started.elapsed();
    assert!(
        took <= Duration::from_millis(DEADLINE_MS) + SLACK,
        "the call took {took:?}, past its {DEADLINE_MS} ms deadline"
    );
    (outcome, took)
}

fn failure(config: &Value) -> (Problem, Duration) {
    let (outcome, took) = call(&client(config));
    (outcome.expect_err("the call should fail"), took)
}

fn with_deadline(config: Value) -> Value {
    with(config, "timeout_ms", DEADLINE_MS)
}

/// The seed's Auth0 configuration under the deadline, with the server's
/// switches `query`.
fn auth0_faulted(server: &LocalAuthServer, query: &str) -> Value {
    with_deadline(with_query(auth0_config(server), query))
}

#[test]
fn a_stall_before_the_headers_ends_at_the_deadline() {
    let server = server();
    let config = auth0_faulted(&server, "fault=stall");
    let (problem, took) = failure(&config);
    assert_eq!(problem.kind(), ProblemKind::Timeout, "{problem}");
    assert!(took >= Duration::from_millis(DEADLINE_MS - 100), "{took:?}");
    // A stall is not retried: the deadline is spent.
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn a_connection_dropped_mid_body_is_retried_then_unreachable() {
    let server = server();
    let config = auth0_faulted(&server, "fault=drop_mid_body");
    let (problem, _) = failure(&config);
    assert_eq!(problem.kind(), ProblemKind::Unreachable, "{problem}");
    assert_eq!(server.auth0_requests(), 4, "one attempt and three retries");
    assert_eq!(problem.extensions()["attempts"], 4);
}

#[test]
fn unreadable_answers_are_problems_without_retry() {
    let server = server();
    for (fault, kind) in [
        ("oversize", ProblemKind::ResponseTooLarge),
        ("garbage", ProblemKind::InvalidResponse),
        ("html", ProblemKind::InvalidResponse),
        ("empty", ProblemKind::InvalidResponse),
    ] {
        let before = server.auth0_requests();
        let config = auth0_faulted(&server, &format!("fault={fault}"));
        let (problem, _) = failure(&config);
        assert_eq!(problem.kind(), kind, "{fault}: {problem}");
        assert_eq!(server.auth0_requests() - before, 1, "{fault}");
    }
}

#[test]
fn a_burst_of_server_errors_is_retried_with_backoff_up_to_the_limit() {
    let server = server();
    let config = auth0_faulted(&server, "fault=server_error");
    let (problem, _) = failure(&config);
    assert_eq!(problem.kind(), ProblemKind::UpstreamError, "{problem}");
    assert_eq!(server.auth0_requests(), 4);
    let (_, _) = problem_for_retries(&server, 0);
    assert_eq!(server.auth0_requests(), 5, "retries: 0 makes one attempt");
}

fn problem_for_retries(server: &LocalAuthServer, retries: u64) -> (Problem, Duration) {
    let config = with(
        auth0_faulted(server, "fault=server_error"),
        "retries",
        retries,
    );
    failure(&config)
}

#[test]
fn other_client_errors_are_never_retried() {
    let server = server();
    let (problem, _) = failure(&with(auth0_config(&server), "client_secret", "wrong"));
    assert_eq!(problem.kind(), ProblemKind::Unauthorized);
    let (problem, _) = failure(&with(auth0_config(&server), "audience", "https://other"));
    assert_eq!(problem.kind(), ProblemKind::Forbidden);
    assert_eq!(server.auth0_requests(), 2);
}

#[test]
fn a_retry_after_past_the_deadline_is_not_waited_for() {
    let server = server();
    // The server asks for 7 s; the call has 3.
    let config = auth0_faulted(&server, "fault=rate_limit");
    let (problem, took) = failure(&config);
    assert_eq!(problem.kind(), ProblemKind::RateLimited);
    assert_eq!(problem.extensions()["retry_after"], 7);
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn while_throttled_calls_fail_fast_without_a_request() {
    let server = server();
    let config = with(
        with_query(auth0_config(&server), "fault=rate_limit"),
        "retries",
        0,
    );
    let client = client(&config);
    let first = client.token().expect_err("throttled");
    for _ in 0..20 {
        let started = Instant::now();
        let again = client.token().expect_err("still throttled");
        assert!(started.elapsed() < Duration::from_millis(50));
        assert_eq!(again.kind(), ProblemKind::RateLimited);
        assert_eq!(again.detail(), first.detail());
        let left = again.extensions()["retry_after"].as_u64().unwrap();
        assert!((1..=7).contains(&left), "{again}");
    }
    assert_eq!(
        server.auth0_requests(),
        1,
        "the window holds every call back"
    );
}

#[test]
fn an_unresolvable_host_is_unreachable_within_the_deadline() {
    // .invalid never resolves (RFC 6761); nothing leaves the machine.
    let config = with_deadline(with(
        cobuilder_config(&server()),
        "token_url",
        "https://bearer-test.invalid/authentication/api/v1/oauth2/token",
    ));
    let (problem, _) = failure(&config);
    assert!(
        matches!(
            problem.kind(),
            ProblemKind::Unreachable | ProblemKind::Timeout
        ),
        "{problem}"
    );
}

#[test]
fn the_provider_down_while_the_cached_token_is_valid_serves_it() {
    let server = server();
    let config = with(
        with_query(auth0_config(&server), "expires_in=4"),
        "timeout_ms",
        1000,
    );
    let client = client(&config);
    let issued = Instant::now();
    let token = client.token().expect("a token");
    assert!(
        client.take_refresh_problem().is_none(),
        "nothing failed yet"
    );
    drop(server);
    // Due (3.4-3.6 s after issue) but not expired (4 s, less an 80 ms guard).
    std::thread::sleep(Duration::from_millis(3650).saturating_sub(issued.elapsed()));
    let stale = client.token().expect("the cached token, still valid");
    assert_eq!(stale.access_token, token.access_token);
    let reported = client
        .take_refresh_problem()
        .expect("the failure is reported");
    assert_eq!(reported.kind(), ProblemKind::Unreachable, "{reported}");
    assert_eq!(
        reported.extensions()["serving_cached_token_until"],
        token.expires_at.unwrap()
    );
    // The next call is served too, and there is nothing new to report.
    assert_eq!(
        client.token().expect("still served").access_token,
        token.access_token
    );
    assert!(client.take_refresh_problem().is_none());
    // Past expiry there is nothing to serve: the problem is the answer.
    std::thread::sleep(Duration::from_millis(4100).saturating_sub(issued.elapsed()));
    let problem = client.token().expect_err("expired, endpoint down");
    assert_eq!(problem.kind(), ProblemKind::Unreachable);
}

#[test]
fn a_due_token_is_refreshed_ahead_of_expiry() {
    let server = server();
    let client = client(&with_query(auth0_config(&server), "expires_in=2"));
    let first = client.token().expect("a token");
    std::thread::sleep(Duration::from_millis(1850));
    let second = client.token().expect("a new token");
    assert_ne!(first.access_token, second.access_token);
    assert_eq!(server.auth0_requests(), 2);
    assert!(client.take_refresh_problem().is_none());
}

#[test]
fn while_one_caller_refreshes_the_others_keep_the_valid_token() {
    let server = server();
    // Every answer takes 200 ms. The token is due 8.5-9 s after issue and
    // usable until 9.8 s; a refresh then gets half of what is left, enough.
    let config = with_query(auth0_config(&server), "expires_in=10&stall_ms=200");
    let client = std::sync::Arc::new(client(&config));
    let first = client.token().expect("a token");
    std::thread::sleep(Duration::from_millis(9050));
    let callers: Vec<_> = (0..16)
        .map(|_| {
            let (client, first) = (client.clone(), first.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                let token = client.token().expect("a valid token");
                (token.access_token != first.access_token, started.elapsed())
            })
        })
        .collect();
    let outcomes: Vec<(bool, Duration)> = callers.into_iter().map(|t| t.join().unwrap()).collect();
    let waited = Duration::from_millis(150);
    let refreshers: Vec<_> = outcomes
        .iter()
        .filter(|(_, took)| *took >= waited)
        .collect();
    assert_eq!(refreshers.len(), 1, "one caller refreshes: {outcomes:?}");
    assert!(refreshers[0].0, "it gets the new token: {outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter(|(_, took)| *took < waited)
            .all(|(renewed, _)| !renewed),
        "the others get the cached one at once: {outcomes:?}"
    );
    assert_eq!(
        server.auth0_requests(),
        2,
        "one refresh for sixteen callers"
    );
}

#[test]
fn a_slow_drip_of_the_body_ends_at_the_deadline_or_in_a_token() {
    let server = server();
    // An opaque Cobuilder token is about 45 bytes: 100 ms a byte cannot fit.
    let config = with_deadline(with_query(
        cobuilder_config(&server),
        "fault=drip&drip_ms=100&opaque=1",
    ));
    let (problem, took) = failure(&config);
    assert_eq!(problem.kind(), ProblemKind::Timeout, "{problem}");
    assert!(took >= Duration::from_millis(DEADLINE_MS - 100), "{took:?}");
    // 5 ms a byte can.
    let config = with_deadline(with_query(
        cobuilder_config(&server),
        "fault=drip&drip_ms=5&opaque=1",
    ));
    let (token, _) = call(&client(&config));
    assert!(!token.expect("a token").is_empty());
}

#[test]
fn a_token_under_the_wrong_content_type_is_still_read_by_its_body() {
    let server = server();
    for content_type in ["text/html", "text/plain", "application/octet-stream", ""] {
        let config = auth0_faulted(
            &server,
            &format!("content_type={}", content_type.replace('/', "%2F"),),
        );
        let (token, _) = call(&client(&config));
        assert_eq!(
            claims(&token.expect("the JSON body is a token"))["aud"],
            bearer::local_server::DEMO_AUDIENCE,
            "{content_type}"
        );
    }
    // An HTML page is not a token, whatever it is labelled.
    let config = auth0_faulted(&server, "fault=html&content_type=application%2Fjson");
    assert_eq!(failure(&config).0.kind(), ProblemKind::InvalidResponse);
}

#[test]
fn a_429_is_waited_out_when_its_retry_after_fits_the_deadline() {
    let server = server();
    for query in [
        "fault=rate_limit&retry_after=1&fail_first=1",
        "fault=rate_limit&retry_after=1&retry_after_date=1&fail_first=1",
    ] {
        let before = server.auth0_requests();
        let config = auth0_faulted(&server, query);
        let (token, took) = call(&client(&config));
        assert!(token.is_ok(), "{query}: {token:?}");
        assert!(
            took >= Duration::from_millis(900),
            "{query}: waited {took:?}"
        );
        assert_eq!(server.auth0_requests() - before, 2, "{query}");
    }
}

#[test]
fn a_burst_of_503s_ends_in_a_token_when_the_retries_outlast_it() {
    let server = server();
    let config = auth0_faulted(&server, "fault=unavailable&fail_first=3");
    let (token, _) = call(&client(&config));
    assert!(token.is_ok(), "{token:?}");
    assert_eq!(server.auth0_requests(), 4);
    // Five in a row outlast three retries.
    let config = auth0_faulted(&server, "fault=bad_gateway&fail_first=5");
    let (problem, _) = failure(&config);
    assert_eq!(problem.kind(), ProblemKind::UpstreamError);
    assert_eq!(problem.extensions()["upstream_status"], 502);
    assert_eq!(server.auth0_requests(), 8);
}

#[test]
fn a_reset_connection_is_retried_on_a_new_one() {
    let server = server();
    let config = auth0_faulted(&server, "fault=reset&fail_first=1");
    let (token, _) = call(&client(&config));
    assert!(token.is_ok(), "{token:?}");
    assert_eq!(server.auth0_requests(), 2);
    let config = auth0_faulted(&server, "fault=reset");
    let (problem, _) = failure(&config);
    assert_eq!(problem.kind(), ProblemKind::Unreachable, "{problem}");
}

#[test]
fn a_redirect_is_not_followed_so_the_secret_goes_nowhere_else() {
    let server = server();
    for status in [301, 302, 303, 307, 308] {
        let config = auth0_faulted(&server, &format!("fault=redirect&redirect_status={status}"));
        let (problem, _) = failure(&config);
        assert_eq!(problem.kind(), ProblemKind::Redirected, "{status}");
        assert_eq!(problem.extensions()["upstream_status"], status);
    }
    assert_eq!(server.redirect_target_requests(), 0, "nothing followed");
}

#[test]
fn tls_succeeds_with_the_ca_given_in_ca_file() {
    let server = tls_server();
    let config = with_deadline(with(
        with(
            auth0_config(&server),
            "token_url",
            server.https_auth0_token_url(),
        ),
        "ca_file",
        tls_file("ca.pem"),
    ));
    let (token, _) = call(&client(&config));
    assert!(token.is_ok(), "{token:?}");
}

#[test]
fn tls_with_an_untrusted_certificate_is_refused_before_anything_is_sent() {
    let server = tls_server();
    let https = with_deadline(with(
        auth0_config(&server),
        "token_url",
        server.https_auth0_token_url(),
    ));
    for config in [
        https.clone(),
        with(https.clone(), "ca_file", tls_file("other-ca.pem")),
    ] {
        let (problem, _) = failure(&config);
        assert_eq!(problem.kind(), ProblemKind::Unreachable, "{problem}");
        assert!(problem.detail().contains("TLS"), "{problem}");
    }
    assert_eq!(
        server.auth0_requests(),
        0,
        "no request crossed the handshake"
    );
}

#[test]
fn a_skewed_server_clock_does_not_shorten_or_stretch_the_token() {
    let server = server();
    for offset in [-7200, 7200] {
        let config = with_query(
            auth0_config(&server),
            &format!("date_offset={offset}&omit_expires_in=1&expires_in=600"),
        );
        let before = server.auth0_requests();
        let client = client(&config);
        let token = client.token().expect("a token");
        let expires_in = token.expires_in().expect("its lifetime is known");
        assert!((598..=600).contains(&expires_in), "{offset}: {expires_in}");
        client.token().expect("cached");
        assert_eq!(server.auth0_requests() - before, 1, "{offset}: cached");
    }
}

#[test]
fn a_stalled_refresh_gives_up_in_time_to_serve_the_cached_token() {
    let server = server();
    // The first answer is a token; the refresh stalls for 10 s. The call's
    // deadline is the default 30 s, yet the cached token must come back
    // before it expires (10 s after issue).
    let config = with_query(
        auth0_config(&server),
        "expires_in=10&fault=stall&fail_after=1",
    );
    let client = client(&config);
    let issued = Instant::now();
    let token = client.token().expect("a token");
    std::thread::sleep(Duration::from_millis(9050).saturating_sub(issued.elapsed()));
    let stale = client.token().expect("the cached token");
    assert_eq!(stale.access_token, token.access_token);
    assert!(
        issued.elapsed() < Duration::from_secs(10),
        "{:?}",
        issued.elapsed()
    );
    let reported = client.take_refresh_problem().expect("reported");
    assert_eq!(reported.kind(), ProblemKind::Timeout, "{reported}");
}

#[test]
fn a_retry_after_past_belief_is_neither_waited_for_nor_kept_for_long() {
    let server = server();
    let config = auth0_faulted(&server, "fault=rate_limit&retry_after=18446744073709551615");
    let client = client(&config);
    let (outcome, took) = call(&client);
    let problem = outcome.expect_err("throttled");
    assert_eq!(problem.kind(), ProblemKind::RateLimited);
    assert!(took < Duration::from_secs(1), "{took:?}");
    let again = client.token().expect_err("held back");
    let left = again.extensions()["retry_after"].as_u64().unwrap();
    assert!((599..=600).contains(&left), "{again}");
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn no_caller_waits_past_its_deadline_however_many_queue() {
    let server = server();
    // Every request stalls past the 1 s deadline; callers retry at once.
    let config = with(
        with_query(auth0_config(&server), "fault=stall"),
        "timeout_ms",
        1000,
    );
    let client = std::sync::Arc::new(client(&config));
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                (0..3)
                    .map(|_| {
                        let started = Instant::now();
                        let problem = client.token().expect_err("nothing arrives in time");
                        (problem.kind(), started.elapsed())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for caller in callers {
        for (kind, took) in caller.join().unwrap() {
            assert_eq!(kind, ProblemKind::Timeout);
            assert!(took < Duration::from_millis(1500), "a call took {took:?}");
        }
    }
}

#[test]
fn the_throttling_window_ends_when_retry_after_says() {
    let server = server();
    let config = with(
        with_query(auth0_config(&server), "fault=rate_limit&retry_after=1"),
        "retries",
        0,
    );
    let client = client(&config);
    client.token().expect_err("throttled");
    client.token().expect_err("held back");
    assert_eq!(server.auth0_requests(), 1);
    std::thread::sleep(Duration::from_millis(1100));
    client.token().expect_err("asked again, throttled again");
    assert_eq!(server.auth0_requests(), 2, "the window has passed");
}

#[test]
fn a_run_of_failed_refreshes_is_reported_once_and_a_success_ends_it() {
    let server = server();
    // A token, then two 503s, then tokens again.
    let config = with(
        with_query(
            auth0_config(&server),
            "expires_in=10&fault=unavailable&fail_after=1&fail_first=3",
        ),
        "retries",
        0,
    );
    let client = client(&config);
    let issued = Instant::now();
    let first = client.token().expect("a token");
    // Due at 8.5-9 s; usable until 9.8 s; retried a quarter of that apart.
    std::thread::sleep(Duration::from_millis(9050).saturating_sub(issued.elapsed()));
    assert_eq!(client.token().unwrap().access_token, first.access_token);
    assert_eq!(server.auth0_requests(), 2, "the first refresh failed");
    let reported = client.take_refresh_problem().expect("reported");
    assert_eq!(reported.extensions()["upstream_status"], 503);
    // The next try, once the backoff has passed, fails too: same run, no report.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(client.token().unwrap().access_token, first.access_token);
    assert_eq!(server.auth0_requests(), 3, "the second refresh failed");
    assert!(
        client.take_refresh_problem().is_none(),
        "one report per run"
    );
    // The third succeeds.
    std::thread::sleep(Duration::from_millis(200));
    let renewed = client.token().expect("a new token");
    assert_ne!(renewed.access_token, first.access_token);
    assert_eq!(server.auth0_requests(), 4);
    assert!(client.take_refresh_problem().is_none());
}
