//! Regression tests for defects an adversarial review reproduced: each
//! failed before its fix. The user-flow and loopback ones are in
//! `tests/flows.rs`.

mod common;

use std::ffi::{CStr, CString, c_char};
use std::process::Command;
use std::ptr;

use bearer::ffi::{self, BearerClient, BearerStatus};
use bearer::local_server;
use bearer::{Client, Config, ProblemKind};
use common::*;
use serde_json::Value;

/// `bearer_client_new` then `bearer_client_authorization_header`: the status
/// and the header or the problem JSON.
fn ffi_authorization_header(config: &Value) -> (BearerStatus, String) {
    let config = CString::new(config.to_string()).unwrap();
    let mut client: *mut BearerClient = ptr::null_mut();
    let mut out: *mut c_char = ptr::null_mut();
    let mut problem: *mut c_char = ptr::null_mut();
    // SAFETY: a NUL-terminated config and valid out-pointers; each string
    // bearer returns is read once and freed once.
    unsafe {
        let status = ffi::bearer_client_new(config.as_ptr(), &mut client, ptr::null_mut());
        assert_eq!(status, BearerStatus::Ok);
        let status = ffi::bearer_client_authorization_header(client, &mut out, &mut problem);
        ffi::bearer_client_free(client);
        let text = if status == BearerStatus::Ok {
            out
        } else {
            problem
        };
        let owned = CStr::from_ptr(text).to_str().unwrap().to_owned();
        ffi::bearer_string_free(text);
        (status, owned)
    }
}

#[test]
fn a_token_type_with_cr_lf_never_reaches_the_authorization_header() {
    let server = server();
    let injected = with_query(
        auth0_config(&server),
        "token_type=Bearer%0D%0AX-Injected%3A%20yes",
    );

    let problem = Client::from_json(&injected.to_string())
        .unwrap()
        .authorization_header()
        .unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidResponse);

    let (status, problem) = ffi_authorization_header(&injected);
    assert_eq!(status, BearerStatus::BadResponse);
    assert!(
        problem.contains("urn:bearer:problem:invalid-response"),
        "{problem}"
    );
    assert!(!problem.contains("X-Injected"), "{problem}");

    let output = bearer_command()
        .args(["header", "--credentials", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(injected.to_string().as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(output.status.code(), Some(BearerStatus::BadResponse as i32));
    assert!(output.stdout.is_empty(), "nothing printed as a header");

    // The schemes users meet still work, whatever their case.
    for (scheme, prefix) in [("bearer", "Bearer "), ("DPoP", "DPoP ")] {
        let config = with_query(auth0_config(&server), &format!("token_type={scheme}"));
        let (status, header) = ffi_authorization_header(&config);
        assert_eq!(status, BearerStatus::Ok, "{header}");
        assert!(header.starts_with(prefix), "{header}");
    }
}

#[test]
fn config_for_the_same_request_builds_equal_cache_keys() {
    // Guards the next tests: transport settings are not part of the token's key.
    let server = server();
    let plain = Config::from_json(&auth0_config(&server).to_string()).unwrap();
    let slow =
        Config::from_json(&with(auth0_config(&server), "timeout_ms", 600).to_string()).unwrap();
    assert_eq!(
        bearer::CacheKey::for_config(&plain),
        bearer::CacheKey::for_config(&slow)
    );
}

#[test]
fn extra_params_values_are_redacted_like_the_secret() {
    let server = server();
    for body in ["json", "form"] {
        let config = with(
            with(
                with_query(auth0_config(&server), "fault=echo"),
                "extra_params",
                serde_json::json!({"api_password": "pw: s3cret&more", "api_key": "k3y-k3y"}),
            ),
            "body",
            body,
        );
        let problem = Client::from_json(&config.to_string())
            .unwrap()
            .token()
            .unwrap_err()
            .to_json();
        assert!(problem.contains("[REDACTED]"), "{problem}");
        for shown in ["s3cret", "k3y-k3y", local_server::AUTH0_CLIENT_SECRET] {
            assert!(!problem.contains(shown), "{body}: {shown} in {problem}");
        }
    }
}

#[test]
fn a_one_letter_secret_leaves_bearers_own_words_and_the_endpoint_intact() {
    let server = server();
    let config = with(
        with_query(auth0_config(&server), "fault=oversize"),
        "client_secret",
        "b",
    );
    let problem = Client::from_json(&config.to_string())
        .unwrap()
        .token()
        .unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::ResponseTooLarge);
    assert_eq!(problem.detail(), "the answer is larger than 262144 bytes");
    assert_eq!(problem.instance(), server.auth0_token_url());
    assert_eq!(problem.type_uri(), "urn:bearer:problem:response-too-large");

    // What the server says is still scrubbed of it.
    let echo = with(
        with_query(auth0_config(&server), "fault=echo"),
        "client_secret",
        "b",
    );
    let problem = Client::from_json(&echo.to_string())
        .unwrap()
        .token()
        .unwrap_err();
    assert_eq!(problem.instance(), server.auth0_token_url());
    assert!(!problem.detail().contains('b'), "{}", problem.detail());
}

/// The one-shot call for `config`, and how long it took.
fn one_shot(config: &Value) -> (Result<String, bearer::Problem>, std::time::Duration) {
    let started = std::time::Instant::now();
    let outcome = bearer::fetch_token(&config.to_string()).map(|token| token.access_token.clone());
    (outcome, started.elapsed())
}

#[test]
fn one_shot_calls_keep_their_own_deadline() {
    let server = server();
    // Opaque tokens are never cached, so each call asks; each answer takes 1.5 s.
    let stalled = with_query(auth0_config(&server), "stall_ms=1500&opaque=1");
    let (patient, took) = one_shot(&with(stalled.clone(), "timeout_ms", 10_000));
    assert!(patient.is_ok(), "{patient:?}");
    assert!(took >= std::time::Duration::from_millis(1400), "{took:?}");
    let (hurried, took) = one_shot(&with(stalled, "timeout_ms", 600));
    assert_eq!(hurried.unwrap_err().kind(), ProblemKind::Timeout);
    assert!(took < std::time::Duration::from_millis(1400), "{took:?}");
}

#[test]
fn one_shot_calls_keep_their_own_proxy_and_ca_file() {
    let server = tls_server();
    let https = with(
        auth0_config(&server),
        "token_url",
        server.https_auth0_token_url(),
    );
    let dead_proxy = with(https.clone(), "proxy", "http://127.0.0.1:9");
    assert_eq!(
        one_shot(&dead_proxy).0.unwrap_err().kind(),
        ProblemKind::Unreachable
    );
    let untrusted = one_shot(&https).0.unwrap_err();
    assert!(
        untrusted.detail().contains("TLS"),
        "{untrusted}: not through the proxy"
    );
    let pinned = with(https, "ca_file", tls_file("ca.pem"));
    assert!(one_shot(&pinned).0.is_ok(), "the later ca_file is used");
    // The same request, however it travelled: one token, asked for once.
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn agents_for_distinct_proxies_do_not_pile_up() {
    // Proxies nothing listens on: building a client makes its agent, no request.
    let client_via = |proxy: String| {
        let config = serde_json::json!({
            "client_id": "id", "client_secret": "s",
            "token_url": "http://127.0.0.1:9/oauth/token",
            "proxy": proxy,
        });
        Client::from_json(&config.to_string()).unwrap()
    };
    let clients: Vec<_> = (0..300)
        .map(|n| client_via(format!("http://user:pw{n}@127.0.0.1:9")))
        .collect();
    // All in use: the shared ones are bounded, the rest are the clients' own.
    assert!(bearer::http::shared_agents() <= 64);
    drop(clients);
    // Unused now, they make room for the next.
    let _next = client_via("http://127.0.0.1:10".into());
    let kept = bearer::http::shared_agents();
    assert!(
        kept < 10,
        "{kept} agents kept (other tests' clients may hold a few)"
    );
}

#[test]
fn debug_of_config_and_client_shows_no_secret() {
    let config = serde_json::json!({
        "client_id": "id",
        "client_secret": "client-s3cret",
        "audience": "https://api.example.com",
        "token_url": "https://user:url-passw0rd@login.example.com/oauth/token?api_key=query-k3y",
        "extra_params": {"api_password": "extra-passw0rd", "organization": "org_1"},
        "proxy": "http://proxy-user:proxy-passw0rd@127.0.0.1:3128",
    });
    let parsed = Config::from_json(&config.to_string()).unwrap();
    let client = Client::new(parsed.clone()).unwrap();
    for shown in [
        format!("{parsed:?}"),
        format!("{client:?}"),
        format!("{client:#?}"),
    ] {
        for secret in [
            "client-s3cret",
            "url-passw0rd",
            "query-k3y",
            "extra-passw0rd",
            "org_1",
            "proxy-passw0rd",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("https://login.example.com/oauth/token"),
            "{shown}"
        );
        assert!(
            shown.contains("api_password"),
            "the keys are shown: {shown}"
        );
    }
}

#[test]
fn a_discovery_document_is_reused_only_with_the_trust_settings_it_was_fetched_with() {
    let server = tls_server();
    let config = |ca_file: Option<String>| {
        let mut config = serde_json::json!({
            "client_id": local_server::AUTH0_CLIENT_ID,
            "client_secret": local_server::AUTH0_CLIENT_SECRET,
            "audience": local_server::DEMO_AUDIENCE,
            "issuer": format!("{}/", server.https_base_url()),
        });
        if let Some(ca_file) = ca_file {
            config["ca_file"] = ca_file.into();
        }
        config.to_string()
    };
    Client::from_json(&config(Some(tls_file("ca.pem")))).expect("discovery through the test CA");
    // Without the CA the issuer is not trusted: its document, read by the
    // other configuration, is not taken on that one's word.
    let untrusted = Client::from_json(&config(None)).unwrap_err();
    assert_eq!(untrusted.kind(), ProblemKind::Unreachable, "{untrusted}");
    assert!(untrusted.detail().contains("TLS"), "{untrusted}");
    assert_eq!(server.discovery_requests(), 1);
}

/// Run as a child by the next test, with the panic hook Rust gives a process.
#[test]
fn panic_child() {
    if std::env::var_os("BEARER_PANIC_CHILD").is_none() {
        return;
    }
    // SAFETY: a valid out-pointer; the problem is freed once.
    unsafe {
        let mut problem: *mut c_char = ptr::null_mut();
        assert_eq!(ffi::bearer_test_panic(&mut problem), BearerStatus::Internal);
        ffi::bearer_string_free(problem);
    }
    // Outside the boundary the host's own hook still speaks.
    let _ = std::panic::catch_unwind(|| panic!("the host's own panic"));
}

#[test]
fn a_caught_panic_leaves_one_line_on_the_hosts_stderr() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "panic_child", "--nocapture", "--test-threads=1"])
        .env("BEARER_PANIC_CHILD", "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let ours: Vec<_> = stderr
        .lines()
        .filter(|line| line.starts_with("bearer:"))
        .collect();
    assert_eq!(ours.len(), 1, "{stderr}");
    assert!(ours[0].contains("BEARER_STATUS_INTERNAL"), "{stderr}");
    assert!(!stderr.contains("bearer_test_panic was called"), "{stderr}");
    assert!(stderr.contains("the host's own panic"), "{stderr}");
}
