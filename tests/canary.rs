//! A canary secret never appears anywhere: not in a problem's JSON, `Display`
//! or `Debug`, not in the `Debug` of a config or client, not in what the C
//! ABI writes to `problem_out`, not on the CLI's stdout or stderr; neither
//! as it is, nor form- or percent-encoded, nor inside a Basic credential.

mod common;

use std::ffi::{CStr, CString, c_char};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::ptr;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bearer::ffi::{self, BearerClient, BearerStatus};
use bearer::local_server::{self, LocalAuthServer};
use bearer::{Client, Config, ProblemKind};
use common::*;
use serde_json::{Value, json};

/// A secret nothing else could contain by chance.
const CANARY: &str = "canary-SECRET-7f3a9c2e1b";
/// One that form- and percent-encoding change, so a redaction that knows
/// only the raw secret misses the body `client_secret=canary%2B7f3a...`.
const ENCODED_CANARY: &str = "canary+7f3a/9c&2e=1b";
const CANARIES: [&str; 2] = [CANARY, ENCODED_CANARY];
/// One that JSON escapes (`\"`, `\\`), as a JSON request body carries it.
const QUOTED_CANARY: &str = "canary\"7f3a\\9c2e1b";
/// Secrets given as JSON numbers.
const NUMBER_CANARIES: [u64; 2] = [123_456_789, 738_291_645];

/// How one request is made: the seed shape, client authentication and body.
#[derive(Clone, Copy, Debug)]
struct Variant {
    cobuilder: bool,
    client_auth: &'static str,
    body: &'static str,
}

const VARIANTS: [Variant; 6] = [
    Variant::auth0("client_secret_post", "json"),
    Variant::auth0("client_secret_post", "form"),
    Variant::auth0("client_secret_basic", "json"),
    Variant::auth0("client_secret_basic", "form"),
    Variant::cobuilder("client_secret_post"),
    Variant::cobuilder("client_secret_basic"),
];

impl Variant {
    const fn auth0(client_auth: &'static str, body: &'static str) -> Variant {
        Variant {
            cobuilder: false,
            client_auth,
            body,
        }
    }

    const fn cobuilder(client_auth: &'static str) -> Variant {
        Variant {
            cobuilder: true,
            client_auth,
            body: "json",
        }
    }

    fn client_id(self) -> &'static str {
        if self.cobuilder {
            local_server::COBUILDER_CLIENT_ID
        } else {
            local_server::AUTH0_CLIENT_ID
        }
    }

    fn secret_key(self) -> &'static str {
        if self.cobuilder {
            "clientSecret"
        } else {
            "client_secret"
        }
    }

    fn audience_key(self) -> &'static str {
        if self.cobuilder {
            "audienceUrl"
        } else {
            "audience"
        }
    }

    /// The variant's config for `server`, with the right secret.
    fn config(self, server: &LocalAuthServer) -> Value {
        let config = if self.cobuilder {
            cobuilder_config(server)
        } else {
            with(auth0_config(server), "body", self.body)
        };
        with(config, "client_auth", self.client_auth)
    }

    /// The variant's config with `secret` as the client secret.
    fn config_with_secret(self, server: &LocalAuthServer, secret: &str) -> Value {
        with(self.config(server), self.secret_key(), secret)
    }
}

/// Every form in which `secret` must never be seen.
fn forbidden_forms(client_id: &str, secret: &str) -> Vec<String> {
    let form = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    // RFC 3986 percent-encoding, with upper- or lowercase hex digits.
    let percent = |text: &str, upper: bool| {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(byte).to_string()
                }
                _ if upper => format!("%{byte:02X}"),
                _ => format!("%{byte:02x}"),
            })
            .collect::<String>()
    };
    // Unpadded, so that an unpadded encoding is caught as well.
    let base64 = |text: String| STANDARD.encode(text).trim_end_matches('=').to_owned();
    // As a JSON string or a Rust `Debug` string holds the text, without quotes.
    let json = |text: &str| {
        let quoted = serde_json::to_string(text).unwrap();
        quoted[1..quoted.len() - 1].to_owned()
    };
    let debug = |text: &str| {
        let quoted = format!("{text:?}");
        quoted[1..quoted.len() - 1].to_owned()
    };
    let encoded = [
        secret.to_owned(),
        form(secret),
        percent(secret, true),
        percent(secret, false),
        base64(format!("{client_id}:{secret}")),
        base64(format!("{}:{}", form(client_id), form(secret))),
    ];
    // A JSON request body escapes the secret once; a problem's JSON or
    // `Debug` escapes what it holds once more.
    let mut forms = Vec::new();
    for text in encoded {
        let once = json(&text);
        forms.extend([json(&once), debug(&once), debug(&text), once, text]);
    }
    forms.sort();
    forms.dedup();
    forms
}

/// One error path: a config and what must come of it.
struct Case {
    name: String,
    config: String,
    forbidden: Vec<String>,
    kind: ProblemKind,
    status: u16,
    /// Text the library's problem detail must contain.
    detail: Option<&'static str>,
}

impl Case {
    fn new(name: impl Into<String>, config: impl ToString, kind: ProblemKind) -> Case {
        Case {
            name: name.into(),
            config: config.to_string(),
            forbidden: Vec::new(),
            kind,
            status: kind.default_status(),
            detail: None,
        }
    }

    fn hiding(mut self, client_id: &str, secret: &str) -> Case {
        self.forbidden.extend(forbidden_forms(client_id, secret));
        self
    }

    fn status(mut self, status: u16) -> Case {
        self.status = status;
        self
    }

    fn detail(mut self, detail: &'static str) -> Case {
        self.detail = Some(detail);
        self
    }

    /// Asserts that no forbidden form is in `text`, which came from
    /// `surface`, nor in any string of it when it is JSON.
    fn assert_clean(&self, surface: &str, text: &str) {
        for needle in &self.forbidden {
            assert!(
                !text.contains(needle.as_str()),
                "{}: {surface} shows the secret as {needle:?}:\n{text}",
                self.name
            );
        }
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            self.assert_clean_value(surface, &value);
        }
    }

    fn assert_clean_value(&self, surface: &str, value: &Value) {
        match value {
            Value::String(text) => self.assert_clean(surface, text),
            Value::Array(items) => {
                for item in items {
                    self.assert_clean_value(surface, item);
                }
            }
            Value::Object(members) => {
                for (name, member) in members {
                    self.assert_clean(surface, name);
                    self.assert_clean_value(surface, member);
                }
            }
            _ => {}
        }
    }

    /// Runs the config through the library, the C ABI (one-shot and client
    /// handle) and the CLI; each must fail as expected and show no secret.
    fn check(&self) {
        assert!(!self.forbidden.is_empty(), "{}: nothing to hide", self.name);
        let name = &self.name;

        // The library.
        let problem = match Config::from_json(&self.config) {
            Err(problem) => {
                let again = Client::from_json(&self.config).expect_err(name);
                assert_eq!(again.to_json(), problem.to_json(), "{name}");
                problem
            }
            Ok(config) => {
                self.assert_clean("Debug of the Config", &format!("{config:?}"));
                self.assert_clean("Debug of the Config", &format!("{config:#?}"));
                match Client::new(config) {
                    Err(problem) => problem,
                    Ok(client) => {
                        self.assert_clean("Debug of the Client", &format!("{client:?}"));
                        self.assert_clean("Debug of the Client", &format!("{client:#?}"));
                        let problem = client.token().expect_err(name);
                        self.assert_clean("Debug of the Client", &format!("{client:#?}"));
                        problem
                    }
                }
            }
        };
        assert_eq!(problem.kind(), self.kind, "{name}: {problem}");
        assert_eq!(problem.status(), self.status, "{name}: {problem}");
        if let Some(detail) = self.detail {
            assert!(problem.detail().contains(detail), "{name}: {problem}");
        }
        self.assert_clean("to_json()", &problem.to_json());
        self.assert_clean("Display", &problem.to_string());
        self.assert_clean("Debug", &format!("{problem:?}"));
        self.assert_clean("Debug", &format!("{problem:#?}"));
        let status = BearerStatus::from(self.kind);

        // The C ABI, one-shot and through a client handle.
        for (surface, outcome) in [
            ("bearer_fetch_token", ffi_fetch_token(&self.config)),
            ("bearer_client_token", ffi_client_token(&self.config)),
        ] {
            let (got, problem_json) = outcome;
            assert_eq!(got, status, "{name}: {surface}: {problem_json}");
            self.assert_clean(surface, &problem_json);
            let ffi_problem: Value = serde_json::from_str(&problem_json).unwrap();
            assert_eq!(ffi_problem["type"], problem.type_uri(), "{name}: {surface}");
            assert_eq!(ffi_problem["status"], self.status, "{name}: {surface}");
        }

        // The CLI, reading the same config from standard input.
        let output = run_with_stdin(&["token", "--credentials", "-"], &self.config);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        self.assert_clean("CLI stdout", &stdout);
        self.assert_clean("CLI stderr", &stderr);
        assert_eq!(
            output.status.code(),
            Some(status as i32),
            "{name}: {stderr}"
        );
        assert_eq!(stdout, "", "{name}");
        let cli_problem: Value = serde_json::from_str(stderr.trim_end()).unwrap();
        assert_eq!(cli_problem["type"], problem.type_uri(), "{name}: CLI");
    }
}

/// Checks every case, a few at a time (the timeouts would add up otherwise).
fn check_all(cases: Vec<Case>) {
    assert!(!cases.is_empty());
    let queue = Mutex::new(cases.into_iter());
    std::thread::scope(|scope| {
        for _ in 0..6 {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap().next();
                    match next {
                        Some(case) => case.check(),
                        None => break,
                    }
                }
            });
        }
    });
}

/// Takes a string bearer returned, freeing it.
fn take_string(text: *mut c_char) -> Option<String> {
    if text.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string bearer returned and nobody freed.
    let owned = unsafe { CStr::from_ptr(text) }
        .to_str()
        .expect("bearer returns UTF-8")
        .to_owned();
    // SAFETY: returned by bearer, freed once.
    unsafe { ffi::bearer_string_free(text) };
    Some(owned)
}

/// `bearer_fetch_token`: the status and the problem JSON (there must be one).
fn ffi_fetch_token(config: &str) -> (BearerStatus, String) {
    let config = CString::new(config).unwrap();
    let mut token: *mut c_char = ptr::null_mut();
    let mut problem: *mut c_char = ptr::null_mut();
    // SAFETY: a NUL-terminated config and two valid out-pointers.
    let status = unsafe { ffi::bearer_fetch_token(config.as_ptr(), &mut token, &mut problem) };
    assert_eq!(take_string(token), None, "no token on failure");
    (status, take_string(problem).expect("a problem on failure"))
}

/// `bearer_client_new` then `bearer_client_token`: the status of the first
/// that fails and its problem JSON.
fn ffi_client_token(config: &str) -> (BearerStatus, String) {
    let config = CString::new(config).unwrap();
    let mut client: *mut BearerClient = ptr::null_mut();
    let mut problem: *mut c_char = ptr::null_mut();
    // SAFETY: a NUL-terminated config and two valid out-pointers.
    let status = unsafe { ffi::bearer_client_new(config.as_ptr(), &mut client, &mut problem) };
    if status != BearerStatus::Ok {
        assert!(client.is_null());
        return (status, take_string(problem).expect("a problem on failure"));
    }
    assert!(problem.is_null());
    let mut token: *mut c_char = ptr::null_mut();
    // SAFETY: a live handle and two valid out-pointers.
    let status = unsafe { ffi::bearer_client_token(client, &mut token, &mut problem) };
    // SAFETY: the handle from bearer_client_new, freed once.
    unsafe { ffi::bearer_client_free(client) };
    assert_eq!(take_string(token), None, "no token on failure");
    (status, take_string(problem).expect("a problem on failure"))
}

/// The variant's config for `secret` with the fault switches in `query`, for
/// every variant and both canaries.
/// Cases for one fault; a throttling fault gets `retries: 0`, since waiting
/// out its `Retry-After` would only slow the test down.
fn fault_cases(server: &LocalAuthServer, query: &str, kind: ProblemKind) -> Vec<Case> {
    let mut cases = Vec::new();
    for variant in VARIANTS {
        for secret in CANARIES {
            let mut config = with_query(variant.config_with_secret(server, secret), query);
            if kind == ProblemKind::RateLimited {
                config = with(config, "retries", 0);
            }
            cases.push(
                Case::new(format!("{query} {variant:?} {secret}"), config, kind)
                    .hiding(variant.client_id(), secret),
            );
        }
    }
    cases
}

#[test]
fn the_forbidden_forms_include_the_encoded_and_basic_ones() {
    let forms = forbidden_forms("demo-client", ENCODED_CANARY);
    for expected in [
        ENCODED_CANARY,
        "canary%2B7f3a%2F9c%262e%3D1b",
        "canary%2b7f3a%2f9c%262e%3d1b",
        // base64("demo-client:canary%2B7f3a%2F9c%262e%3D1b"), as bearer sends it.
        "ZGVtby1jbGllbnQ6Y2FuYXJ5JTJCN2YzYSUyRjljJTI2MmUlM0QxYg",
    ] {
        assert!(forms.iter().any(|form| form == expected), "{expected}");
    }
    let forms = forbidden_forms("demo-client", QUOTED_CANARY);
    assert!(forms.iter().any(|form| form == r#"canary\"7f3a\\9c2e1b"#));
}

#[test]
fn the_check_catches_every_form_even_inside_json() {
    let case =
        Case::new("self-test", "{}", ProblemKind::Internal).hiding("demo-client", QUOTED_CANARY);
    let caught = |text: &str| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            case.assert_clean("self-test", text)
        }))
        .is_err()
    };
    for form in &case.forbidden {
        assert!(caught(&format!("before {form} after")), "{form}");
    }
    // Escaped once by a JSON body, then once more by a problem's JSON.
    let body = json!({ "client_secret": QUOTED_CANARY }).to_string();
    assert!(caught(&json!({ "detail": body }).to_string()));
    assert!(caught(&format!("{:?}", json!({ "detail": body }))));
    assert!(!caught("nothing to see"));
}

#[test]
fn a_wrong_secret_is_not_shown() {
    let server = server();
    let mut cases = Vec::new();
    for variant in VARIANTS {
        for secret in CANARIES {
            // The canary is the wrong secret here.
            let config = variant.config_with_secret(&server, secret);
            let case = if variant.cobuilder {
                // Cobuilder's own problem details, passed through.
                Case::new(
                    format!("wrong secret {variant:?} {secret}"),
                    config,
                    ProblemKind::UpstreamProblem,
                )
                .status(401)
                .detail("Invalid client credentials.")
            } else {
                Case::new(
                    format!("wrong secret {variant:?} {secret}"),
                    config,
                    ProblemKind::Unauthorized,
                )
            };
            cases.push(case.hiding(variant.client_id(), secret));
        }
    }
    check_all(cases);
    // Library, two C ABI calls and the CLI: four requests per case.
    assert_eq!(server.auth0_requests(), 4 * 4 * 2);
    assert_eq!(server.cobuilder_requests(), 4 * 2 * 2);
}

#[test]
fn the_echo_fault_really_echoes_the_secret() {
    // Without redaction the problem would hold what this answer holds.
    let server = server();
    let body = json!({
        "grant_type": "client_credentials",
        "client_id": local_server::AUTH0_CLIENT_ID,
        "client_secret": CANARY,
    })
    .to_string();
    let basic = format!("Basic {}", STANDARD.encode(format!("x:{ENCODED_CANARY}")));
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "POST /oauth/token?fault=echo HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Authorization: {basic}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr(),
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains(CANARY), "{answer}");
    assert!(answer.contains(&basic), "{answer}");
}

#[test]
fn an_echoed_request_is_redacted() {
    let server = server();
    let cases = fault_cases(&server, "fault=echo", ProblemKind::InvalidRequest)
        .into_iter()
        // Proof that the server did echo and the library did redact.
        .map(|case| case.detail("[REDACTED]"))
        .collect();
    check_all(cases);
}

#[test]
fn an_echoed_json_escaped_secret_is_redacted() {
    let server = server();
    let mut cases = Vec::new();
    for variant in VARIANTS {
        let config = with_query(
            variant.config_with_secret(&server, QUOTED_CANARY),
            "fault=echo",
        );
        cases.push(
            Case::new(
                format!("echo {variant:?} {QUOTED_CANARY}"),
                config,
                ProblemKind::InvalidRequest,
            )
            .hiding(variant.client_id(), QUOTED_CANARY),
        );
    }
    check_all(cases);
}

#[test]
fn a_missing_client_grant_is_not_shown_with_the_secret() {
    // The server checks the secret before the audience, so the secret here
    // is the right one, and it is what must stay hidden.
    let server = server();
    let mut cases = Vec::new();
    for variant in VARIANTS {
        let secret = if variant.cobuilder {
            local_server::COBUILDER_CLIENT_SECRET
        } else {
            local_server::AUTH0_CLIENT_SECRET
        };
        let config = with(
            variant.config(&server),
            variant.audience_key(),
            "https://other.example.com",
        );
        let case = if variant.cobuilder {
            Case::new(
                format!("no grant {variant:?}"),
                config,
                ProblemKind::UpstreamProblem,
            )
            .status(400)
            .detail("Unknown audience")
        } else {
            Case::new(
                format!("no grant {variant:?}"),
                config,
                ProblemKind::Forbidden,
            )
            .detail("client-grant")
        };
        cases.push(case.hiding(variant.client_id(), secret));
    }
    check_all(cases);
}

#[test]
fn upstream_failures_do_not_show_the_secret() {
    let server = server();
    let mut cases = fault_cases(&server, "fault=rate_limit", ProblemKind::RateLimited);
    cases.extend(fault_cases(
        &server,
        "fault=server_error",
        ProblemKind::UpstreamError,
    ));
    cases.extend(fault_cases(
        &server,
        "fault=redirect",
        ProblemKind::Redirected,
    ));
    check_all(cases);
}

#[test]
fn unreadable_answers_do_not_show_the_secret() {
    let server = server();
    let mut cases = Vec::new();
    for fault in ["garbage", "html", "empty"] {
        cases.extend(fault_cases(
            &server,
            &format!("fault={fault}"),
            ProblemKind::InvalidResponse,
        ));
    }
    cases.extend(fault_cases(
        &server,
        "fault=oversize",
        ProblemKind::ResponseTooLarge,
    ));
    check_all(cases);
}

#[test]
fn broken_connections_do_not_show_the_secret() {
    let server = server();
    let mut cases = fault_cases(&server, "fault=drop", ProblemKind::Unreachable);
    cases.extend(fault_cases(
        &server,
        "fault=drop_mid_body",
        ProblemKind::Unreachable,
    ));
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    for variant in VARIANTS {
        for secret in CANARIES {
            let config = with(
                variant.config_with_secret(&server, secret),
                "token_url",
                format!("http://127.0.0.1:{closed_port}/oauth/token"),
            );
            cases.push(
                Case::new(
                    format!("closed port {variant:?} {secret}"),
                    config,
                    ProblemKind::Unreachable,
                )
                .hiding(variant.client_id(), secret),
            );
        }
    }
    check_all(cases);
}

#[test]
fn a_timeout_does_not_show_the_secret() {
    let server = server();
    let cases = fault_cases(&server, "fault=stall&stall_ms=3000", ProblemKind::Timeout)
        .into_iter()
        .map(|mut case| {
            let config: Value = serde_json::from_str(&case.config).unwrap();
            case.config = with(config, "timeout_ms", 200).to_string();
            case.detail("200 ms")
        })
        .collect();
    check_all(cases);
}

#[test]
fn a_refused_config_does_not_show_the_secret() {
    let server = server();
    let mut cases = Vec::new();
    for variant in VARIANTS {
        for secret in CANARIES {
            let config = variant.config_with_secret(&server, secret);
            let id = variant.client_id();
            let case = |what: &str, config: Value, kind| {
                Case::new(format!("{what} {variant:?} {secret}"), config, kind).hiding(id, secret)
            };
            cases.push(case(
                "insecure URL",
                with(
                    config.clone(),
                    "token_url",
                    "http://example.com/oauth/token",
                ),
                ProblemKind::InsecureUrl,
            ));
            cases.push(case(
                "unknown key",
                with(config.clone(), "tokenurl", "https://example.com/"),
                ProblemKind::InvalidConfig,
            ));
            cases.push(case(
                "mistyped key",
                with(config.clone(), "timeout_ms", "x"),
                ProblemKind::InvalidConfig,
            ));
            // The secret under a misspelt key: the key is named, its value is not.
            let mut misspelt = config.clone();
            let members = misspelt.as_object_mut().unwrap();
            members.remove(variant.secret_key());
            members.insert(format!("{}s", variant.secret_key()), secret.into());
            cases.push(case(
                "misspelt secret key",
                misspelt,
                ProblemKind::InvalidConfig,
            ));
            // The other shape's secret key next to this shape's keys.
            let other = if variant.cobuilder {
                "client_secret"
            } else {
                "clientSecret"
            };
            cases.push(case(
                "mixed shapes",
                with(config.clone(), other, secret),
                ProblemKind::InvalidConfig,
            ));
            // The secret in a list instead of a string.
            cases.push(case(
                "secret in a list",
                with(config.clone(), variant.secret_key(), json!([secret])),
                ProblemKind::InvalidConfig,
            ));
            // Not JSON: cut off inside the secret, or the secret unquoted.
            let text = config.to_string();
            let cut = text.find(secret).unwrap() + secret.len();
            cases.push(
                Case::new(
                    format!("truncated JSON {variant:?} {secret}"),
                    &text[..cut],
                    ProblemKind::InvalidConfig,
                )
                .hiding(id, secret)
                .detail("not valid JSON"),
            );
            cases.push(
                Case::new(
                    format!("unquoted secret {variant:?} {secret}"),
                    text.replace(&format!("\"{secret}\""), secret),
                    ProblemKind::InvalidConfig,
                )
                .hiding(id, secret)
                .detail("not valid JSON"),
            );
        }
        // The secret as a number: the number is not shown.
        for number in NUMBER_CANARIES {
            cases.push(
                Case::new(
                    format!("numeric secret {variant:?} {number}"),
                    with(variant.config(&server), variant.secret_key(), number),
                    ProblemKind::InvalidConfig,
                )
                .hiding(variant.client_id(), &number.to_string())
                .detail("must be a string"),
            );
        }
    }
    check_all(cases);
    assert_eq!(server.auth0_requests(), 0);
    assert_eq!(server.cobuilder_requests(), 0);
}

#[test]
fn a_proxy_password_is_not_shown() {
    let server = server();
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut cases = Vec::new();
    for variant in VARIANTS {
        let config = with(
            variant.config(&server),
            "proxy",
            format!("http://proxy-user:{CANARY}@127.0.0.1:{closed_port}"),
        );
        cases.push(
            Case::new(
                format!("proxy {variant:?}"),
                config,
                ProblemKind::Unreachable,
            )
            .hiding("proxy-user", CANARY),
        );
    }
    check_all(cases);
}

#[test]
fn a_panic_at_the_boundary_is_an_internal_problem() {
    let mut problem: *mut c_char = ptr::null_mut();
    // SAFETY: a valid out-pointer.
    let status = unsafe { ffi::bearer_test_panic(&mut problem) };
    assert_eq!(status, BearerStatus::Internal);
    let problem = take_string(problem).expect("a problem");
    let problem: Value = serde_json::from_str(&problem).unwrap();
    assert_eq!(problem["type"], "urn:bearer:problem:internal");
    assert_eq!(problem["status"], 500);
    assert_eq!(
        problem["detail"],
        "bearer panicked; this is a bug, please report it"
    );
    // The panic's own message stays inside.
    assert!(!problem.to_string().contains("bearer_test_panic"));

    // SAFETY: NULL is allowed for problem_out.
    let status = unsafe { ffi::bearer_test_panic(ptr::null_mut()) };
    assert_eq!(status, BearerStatus::Internal);
}
