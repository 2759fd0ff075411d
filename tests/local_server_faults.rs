//! The local server's fault knobs and its HTTPS listener at the HTTP level:
//! what each knob makes the server send, seen by a plain socket or ureq.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bearer::local_server::{
    AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, COBUILDER_AUDIENCE, COBUILDER_CLIENT_ID,
    COBUILDER_CLIENT_SECRET, DEMO_AUDIENCE, LocalAuthServer,
};
use serde_json::{Value, json};
use ureq::tls::{Certificate, RootCerts, TlsConfig};

const CA_PEM: &[u8] = include_bytes!("tls/ca.pem");
const OTHER_CA_PEM: &[u8] = include_bytes!("tls/other-ca.pem");
const SERVER_PEM: &[u8] = include_bytes!("tls/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("tls/server.key");

fn server() -> LocalAuthServer {
    LocalAuthServer::start().expect("the local server starts")
}

fn tls_server() -> LocalAuthServer {
    LocalAuthServer::start_tls(SERVER_PEM, SERVER_KEY).expect("the TLS server starts")
}

fn auth0_body() -> String {
    json!({
        "grant_type": "client_credentials",
        "client_id": AUTH0_CLIENT_ID,
        "client_secret": AUTH0_CLIENT_SECRET,
        "audience": DEMO_AUDIENCE,
    })
    .to_string()
}

fn cobuilder_body() -> String {
    json!({
        "clientId": COBUILDER_CLIENT_ID,
        "clientSecret": COBUILDER_CLIENT_SECRET,
        "audienceUrl": COBUILDER_AUDIENCE,
    })
    .to_string()
}

fn agent_with(tls: Option<TlsConfig>) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)));
    if let Some(tls) = tls {
        config = config.tls_config(tls);
    }
    config.build().into()
}

fn agent() -> ureq::Agent {
    agent_with(None)
}

/// Trusts only this PEM's certificates.
fn trusting(pem: &[u8]) -> ureq::Agent {
    let ca = Certificate::from_pem(pem).expect("a PEM certificate");
    agent_with(Some(
        TlsConfig::builder()
            .root_certs(RootCerts::Specific(Arc::new(vec![ca])))
            .build(),
    ))
}

struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The `Date` header, unix seconds.
    fn date(&self) -> i64 {
        parse_http_date(self.header("date").expect("a Date header"))
    }
}

fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("an HTTP answer");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.body_mut().read_to_string().unwrap(),
    }
}

fn post_with(agent: &ureq::Agent, url: &str, body: &str) -> Answer {
    read(
        agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body),
    )
}

fn post(url: &str, body: &str) -> Answer {
    post_with(&agent(), url, body)
}

fn get(url: &str) -> Answer {
    read(agent().get(url).call())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as unix seconds; panics
/// on anything else, so a wrong format fails the test.
fn parse_http_date(text: &str) -> i64 {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let fields: Vec<&str> = text.split(' ').collect();
    assert_eq!(fields.len(), 6, "IMF-fixdate: {text}");
    assert!(fields[0].len() == 4 && fields[0].ends_with(','), "{text}");
    assert_eq!(fields[5], "GMT", "{text}");
    assert_eq!(fields[1].len(), 2, "two-digit day: {text}");
    let day: i64 = fields[1].parse().unwrap();
    let month = MONTHS.iter().position(|&m| m == fields[2]).unwrap() as i64 + 1;
    let year: i64 = fields[3].parse().unwrap();
    let hms: Vec<i64> = fields[4].split(':').map(|f| f.parse().unwrap()).collect();
    // Days from civil (H. Hinnant), independent of the server's code.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    assert_eq!(
        &fields[0][..3],
        weekday,
        "the weekday fits the date: {text}"
    );
    days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn assert_near(actual: i64, expected: i64, what: &str) {
    assert!(
        (actual - expected).abs() <= 3,
        "{what}: {actual}, expected about {expected}"
    );
}

/// A raw request to `addr`, for what ureq would hide.
fn raw_request(addr: SocketAddr, path: &str, body: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    stream
}

/// Reads up to the end of the head; returns it and the body bytes read with it.
fn read_head(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return (String::from_utf8(buf).unwrap(), rest);
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the head ended early");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .expect("a Content-Length")
        .parse()
        .unwrap()
}

#[test]
fn fail_first_gives_three_503s_then_tokens_counted_per_path_and_query() {
    let server = server();
    let url = format!(
        "{}?fault=unavailable&fail_first=3",
        server.auth0_token_url()
    );
    let statuses: Vec<u16> = (0..5).map(|_| post(&url, &auth0_body()).status).collect();
    assert_eq!(statuses, [503, 503, 503, 200, 200]);
    assert!(post(&url, &auth0_body()).json()["access_token"].is_string());
    // Another query is another count; the same on the other endpoint too.
    let other = format!("{url}&expires_in=60");
    assert_eq!(post(&other, &auth0_body()).status, 503);
    let cobuilder = format!(
        "{}?fault=unavailable&fail_first=3",
        server.cobuilder_token_url()
    );
    assert_eq!(post(&cobuilder, &cobuilder_body()).status, 503);
    assert_eq!(server.auth0_requests(), 7, "faults are counted too");
    assert_eq!(server.cobuilder_requests(), 1);
}

#[test]
fn fail_after_answers_then_fails() {
    let server = server();
    let url = format!(
        "{}?fault=unavailable&fail_after=2",
        server.auth0_token_url()
    );
    let statuses: Vec<u16> = (0..4).map(|_| post(&url, &auth0_body()).status).collect();
    assert_eq!(statuses, [200, 200, 503, 503]);
    // With both: the window between them.
    let window = format!(
        "{}?fault=unavailable&fail_after=1&fail_first=2",
        server.auth0_token_url()
    );
    let statuses: Vec<u16> = (0..3)
        .map(|_| post(&window, &auth0_body()).status)
        .collect();
    assert_eq!(statuses, [200, 503, 200]);
}

#[test]
fn one_429_then_success() {
    let server = server();
    let url = format!("{}?fault=rate_limit&fail_first=1", server.auth0_token_url());
    let first = post(&url, &auth0_body());
    assert_eq!(first.status, 429);
    assert_eq!(first.header("retry-after"), Some("7"));
    assert_eq!(first.json()["error"], "too_many_requests");
    let second = post(&url, &auth0_body());
    assert_eq!(second.status, 200, "{}", second.body);
    assert!(second.json()["access_token"].is_string());
    // fail_first=0: the fault never applies.
    let never = format!("{}?fault=rate_limit&fail_first=0", server.auth0_token_url());
    assert_eq!(post(&never, &auth0_body()).status, 200);
}

#[test]
fn unavailable_and_bad_gateway_answer_as_a_proxy_would() {
    let server = server();
    let unavailable = post(
        &format!("{}?fault=unavailable", server.auth0_token_url()),
        &auth0_body(),
    );
    assert_eq!(unavailable.status, 503);
    assert_eq!(unavailable.header("content-type"), Some("text/html"));
    assert!(
        unavailable
            .body
            .contains("<h1>503 Service Temporarily Unavailable</h1>")
    );
    assert_eq!(
        unavailable.header("retry-after"),
        None,
        "no Retry-After unless asked"
    );
    let bad_gateway = post(
        &format!("{}?fault=bad_gateway", server.cobuilder_token_url()),
        &cobuilder_body(),
    );
    assert_eq!(bad_gateway.status, 502);
    assert_eq!(bad_gateway.header("content-type"), Some("text/html"));
    assert!(bad_gateway.body.contains("<h1>502 Bad Gateway</h1>"));
}

#[test]
fn retry_after_in_seconds_or_as_a_date() {
    let server = server();
    let url = |query: &str| format!("{}?{query}", server.auth0_token_url());
    let limited = post(&url("fault=rate_limit&retry_after=120"), &auth0_body());
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("120"));
    let unavailable = post(&url("fault=unavailable&retry_after=30"), &auth0_body());
    assert_eq!(unavailable.status, 503);
    assert_eq!(unavailable.header("retry-after"), Some("30"));

    for query in [
        "fault=unavailable&retry_after=30&retry_after_date=1",
        "fault=rate_limit&retry_after=30&retry_after_date=1",
    ] {
        let answer = post(&url(query), &auth0_body());
        let date = parse_http_date(answer.header("retry-after").unwrap());
        assert_eq!(date - answer.date(), 30, "{query}");
    }
    // The date follows the server's clock, offset included.
    let skewed = post(
        &url("fault=rate_limit&retry_after_date=1&date_offset=-600"),
        &auth0_body(),
    );
    let retry_at = parse_http_date(skewed.header("retry-after").unwrap());
    assert_eq!(retry_at - skewed.date(), 7);
    assert_near(retry_at, now() - 600 + 7, "Retry-After date");
}

#[test]
fn drip_sends_the_head_then_a_byte_every_drip_ms() {
    let server = server();
    // An opaque Cobuilder token is a short body: "<43 characters>".
    let mut stream = raw_request(
        server.addr(),
        "/authentication/api/v1/oauth2/token?opaque=1&fault=drip&drip_ms=10",
        &cobuilder_body(),
    );
    let started = Instant::now();
    let (head, mut body) = read_head(&mut stream);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let len = content_length(&head);
    assert_eq!(len, 45);
    assert!(body.len() < len, "the head comes before the body");
    let mut chunk = [0u8; 64];
    let mut reads = 0;
    while body.len() < len {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the body ended early");
        body.extend_from_slice(&chunk[..n]);
        reads += 1;
    }
    let took = started.elapsed();
    // Lower bounds only, which a loaded machine cannot break.
    assert!(
        took >= Duration::from_millis(10 * len as u64),
        "{len} bytes at 10 ms took {took:?}"
    );
    assert!(reads > 1, "the body came in pieces");
    let token: String = serde_json::from_slice(&body).unwrap();
    assert_eq!(token.len(), 43);
}

#[test]
fn drip_applies_to_auth0_through_ureq_with_the_right_length() {
    let server = server();
    let started = Instant::now();
    let answer = post(
        &format!("{}?fault=drip&drip_ms=1", server.auth0_token_url()),
        &auth0_body(),
    );
    let took = started.elapsed();
    assert_eq!(answer.status, 200);
    assert!(answer.json()["access_token"].is_string());
    let len = answer.body.len() as u64;
    assert_eq!(answer.header("content-length"), Some(&*len.to_string()));
    assert!(
        took >= Duration::from_millis(len),
        "{len} bytes in {took:?}"
    );
}

#[test]
fn dropping_the_server_ends_a_drip_at_once() {
    let server = server();
    let mut stream = raw_request(
        server.addr(),
        "/oauth/token?fault=drip&drip_ms=1000",
        &auth0_body(),
    );
    let (head, mut body) = read_head(&mut stream);
    let len = content_length(&head);
    let started = Instant::now();
    drop(server);
    let dropped_in = started.elapsed();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    body.extend_from_slice(&rest);
    // The drip had minutes to go: ending within a few seconds is "at once".
    assert!(dropped_in < Duration::from_secs(3), "{dropped_in:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(body.len() < len, "{} of {len} bytes", body.len());
}

#[cfg(target_os = "linux")]
#[test]
fn reset_reads_the_request_then_resets_the_connection() {
    let server = server();
    let mut stream = raw_request(server.addr(), "/oauth/token?fault=reset", &auth0_body());
    let mut buf = [0u8; 256];
    let error = stream
        .read(&mut buf)
        .expect_err("no answer, and no orderly close");
    assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");
    assert_eq!(server.auth0_requests(), 1);
    // ureq sees it as a broken connection, not an answer.
    let error = agent()
        .post(&format!("{}?fault=reset", server.auth0_token_url()))
        .header("Content-Type", "application/json")
        .send(auth0_body().as_str())
        .expect_err("a reset is no answer");
    assert!(
        matches!(&error, ureq::Error::Io(e) if e.kind() == ErrorKind::ConnectionReset),
        "{error:?}"
    );
}

#[test]
fn content_type_relabels_a_normal_answer() {
    let server = server();
    let url = |query: &str| format!("{}?{query}", server.auth0_token_url());
    let html = post(&url("content_type=text/html"), &auth0_body());
    assert_eq!(html.status, 200);
    assert_eq!(html.header("content-type"), Some("text/html"));
    assert!(
        html.json()["access_token"].is_string(),
        "the body is a token"
    );
    let with_params = post(
        &url("content_type=text/plain%3B%20charset%3Dutf-8"),
        &auth0_body(),
    );
    assert_eq!(
        with_params.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let none = post(&url("content_type="), &auth0_body());
    assert_eq!(none.status, 200);
    assert_eq!(none.header("content-type"), None);
    assert!(none.json()["access_token"].is_string());
    let cobuilder = post(
        &format!("{}?content_type=text/html", server.cobuilder_token_url()),
        &cobuilder_body(),
    );
    assert_eq!(cobuilder.header("content-type"), Some("text/html"));
    assert!(cobuilder.json().is_string());
    // A value that would end the header line is refused.
    let injected = post(
        &url("content_type=text/html%0D%0AX-Evil:%201"),
        &auth0_body(),
    );
    assert_eq!(injected.status, 400);
    assert_eq!(injected.header("x-evil"), None);
}

#[test]
fn every_answer_has_a_date() {
    let server = server();
    let base = server.base_url();
    let answers = [
        post(&server.auth0_token_url(), &auth0_body()),
        post(&server.auth0_token_url(), "{}"),
        post(
            &format!("{}?fault=server_error", server.auth0_token_url()),
            "{}",
        ),
        post(&server.cobuilder_token_url(), &cobuilder_body()),
        get(&format!("{base}/healthz")),
        get(&format!("{base}/_stats")),
        get(&format!("{base}/nowhere")),
        get(&format!("{base}/.well-known/openid-configuration")),
    ];
    for answer in answers {
        assert_near(
            answer.date(),
            now(),
            &format!("Date of a {}", answer.status),
        );
    }
    // A request the server cannot frame gets one too.
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.write_all(b"NONSENSE\r\n\r\n").unwrap();
    let (head, _) = read_head(&mut stream);
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let date = head.lines().find_map(|l| l.strip_prefix("Date: ")).unwrap();
    assert_near(parse_http_date(date), now(), "Date of a rejected request");
}

#[test]
fn date_offset_moves_the_date_header_and_the_jwt_clock() {
    let server = server();
    for offset in [-3600_i64, 7200] {
        let answer = post(
            &format!("{}?date_offset={offset}", server.auth0_token_url()),
            &auth0_body(),
        );
        assert_eq!(answer.status, 200);
        assert_near(answer.date(), now() + offset, "Date");
        let token = answer.json();
        let claims = claims(token["access_token"].as_str().unwrap());
        let iat = claims["iat"].as_i64().unwrap();
        assert_near(iat, answer.date(), "iat on the server's clock");
        assert_eq!(claims["exp"].as_i64().unwrap() - iat, 86_400);
        assert_eq!(token["expires_in"], 86_400);
    }
    // Without expires_in, only exp against the server's Date tells the lifetime.
    let answer = post(
        &format!(
            "{}?date_offset=-86000&omit_expires_in=1&expires_in=600",
            server.auth0_token_url()
        ),
        &auth0_body(),
    );
    let token = answer.json();
    assert!(token.get("expires_in").is_none(), "{token}");
    let exp = claims(token["access_token"].as_str().unwrap())["exp"]
        .as_i64()
        .unwrap();
    assert!(exp < now(), "by the local clock the token looks expired");
    assert_near(exp - answer.date(), 600, "exp - Date");
    // Cobuilder's bare token follows the same clock.
    let cobuilder = post(
        &format!("{}?date_offset=-50", server.cobuilder_token_url()),
        &cobuilder_body(),
    );
    let iat = claims(cobuilder.json().as_str().unwrap())["iat"]
        .as_i64()
        .unwrap();
    assert_near(cobuilder.date(), now() - 50, "Cobuilder Date");
    assert_near(iat, cobuilder.date(), "Cobuilder iat");
}

#[test]
fn a_redirect_points_at_a_target_that_counts_who_follows() {
    let server = server();
    let redirected = post(
        &format!("{}?fault=redirect", server.auth0_token_url()),
        &auth0_body(),
    );
    assert_eq!(redirected.status, 302);
    let location = redirected.header("location").unwrap().to_string();
    assert_eq!(location, format!("{}/_redirect_target", server.base_url()));
    assert_eq!(server.redirect_target_requests(), 0);
    let temporary = post(
        &format!(
            "{}?fault=redirect&redirect_status=307",
            server.auth0_token_url()
        ),
        &auth0_body(),
    );
    assert_eq!(temporary.status, 307);
    assert_eq!(temporary.header("location"), Some(location.as_str()));

    // Following it: a token-looking answer, and the count shows it.
    let followed = post(&location, &auth0_body());
    assert_eq!(followed.status, 200);
    assert!(followed.json()["access_token"].is_string());
    assert_eq!(get(&location).status, 200);
    assert_eq!(server.redirect_target_requests(), 2);
    let stats = get(&format!("{}/_stats", server.base_url())).json();
    assert_eq!(stats["redirect_target"], 2);
    assert_eq!(
        server.auth0_requests(),
        2,
        "the target is not the token path"
    );
    let bad = post(
        &format!(
            "{}?fault=redirect&redirect_status=200",
            server.auth0_token_url()
        ),
        &auth0_body(),
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn bad_knob_values_are_refused() {
    let server = server();
    for query in [
        "fault=unavailable&fail_first=x",
        "retry_after=-1",
        "retry_after_date=maybe",
        "fault=drip&drip_ms=fast",
        "date_offset=1.5",
        "fault=teapot",
    ] {
        let answer = post(
            &format!("{}?{query}", server.auth0_token_url()),
            &auth0_body(),
        );
        assert_eq!(answer.status, 400, "{query}");
        assert!(
            answer.json()["error_description"]
                .as_str()
                .unwrap()
                .starts_with("Invalid test parameter"),
            "{query}: {}",
            answer.body
        );
    }
}

#[test]
fn tls_with_the_test_ca_serves_the_same_server() {
    let server = tls_server();
    let https = server.https_auth0_token_url();
    assert!(https.starts_with("https://127.0.0.1:"), "{https}");
    assert_ne!(server.tls_addr(), Some(server.addr()));
    let agent = trusting(CA_PEM);
    let answer = post_with(&agent, &https, &auth0_body());
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.json()["access_token"].is_string());
    assert_near(answer.date(), now(), "Date over TLS");
    // The certificate names localhost too; the knobs work over TLS.
    let port = server.tls_addr().unwrap().port();
    let by_name = post_with(
        &agent,
        &format!(
            "https://localhost:{port}/authentication/api/v1/oauth2/token?fault=unavailable&fail_first=1"
        ),
        &cobuilder_body(),
    );
    assert_eq!(by_name.status, 503);
    let redirected = post_with(&agent, &format!("{https}?fault=redirect"), &auth0_body());
    assert_eq!(
        redirected.header("location"),
        Some(&*format!("{}/_redirect_target", server.https_base_url()))
    );
    // Plain HTTP still answers, and both count in one place.
    assert_eq!(post(&server.auth0_token_url(), &auth0_body()).status, 200);
    assert_eq!(server.auth0_requests(), 3);
    assert_eq!(server.cobuilder_requests(), 1);
}

#[test]
fn tls_without_the_test_ca_is_untrusted() {
    let server = tls_server();
    for agent in [agent(), trusting(OTHER_CA_PEM)] {
        let error = agent
            .post(&server.https_auth0_token_url())
            .header("Content-Type", "application/json")
            .send(auth0_body().as_str())
            .expect_err("an untrusted certificate");
        let text = error.to_string();
        assert!(text.contains("UnknownIssuer"), "{text}");
    }
    assert_eq!(server.auth0_requests(), 0, "no request got through");
}

#[test]
fn the_library_trusts_the_endpoint_through_ca_file_only() {
    let server = tls_server();
    let ca_file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tls/ca.pem");
    let config = |ca: Option<&str>| {
        let mut config = json!({
            "client_id": AUTH0_CLIENT_ID,
            "client_secret": AUTH0_CLIENT_SECRET,
            "audience": DEMO_AUDIENCE,
            "grant_type": "client_credentials",
            "token_url": server.https_auth0_token_url(),
        });
        if let Some(ca) = ca {
            config["ca_file"] = ca.into();
        }
        config.to_string()
    };
    let client = bearer::Client::from_json(&config(Some(ca_file))).unwrap();
    assert!(client.token().unwrap().access_token.starts_with("eyJ"));
    let untrusted = bearer::Client::from_json(&config(None)).unwrap();
    untrusted
        .token()
        .expect_err("the test CA is not a default root");
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn dropping_a_tls_server_ends_idle_and_half_open_connections() {
    let server = tls_server();
    let tls_addr = server.tls_addr().unwrap();
    // One connection mid-handshake (no ClientHello), one idle after an answer.
    let mut silent = TcpStream::connect(tls_addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let agent = trusting(CA_PEM);
    let url = format!("{}/healthz", server.https_base_url());
    assert_eq!(read(agent.get(&url).call()).status, 200);
    let started = Instant::now();
    drop(server);
    let mut buf = [0u8; 16];
    assert!(matches!(silent.read(&mut buf), Ok(0) | Err(_)));
    // The silent peer would hold its handler for ever: it ended instead.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn start_tls_refuses_what_is_not_a_certificate_and_key() {
    let error = LocalAuthServer::start_tls(b"not a pem", SERVER_KEY).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let error = LocalAuthServer::start_tls(SERVER_PEM, CA_PEM).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
}

#[test]
fn bearer_serve_runs_https_with_a_certificate_and_key() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tls");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bearer"))
        .args(["serve", "--port", "0", "--tls-cert"])
        .arg(format!("{dir}/server.pem"))
        .arg("--tls-key")
        .arg(format!("{dir}/server.key"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().unwrap().unwrap();
    let first = next();
    assert!(
        first.starts_with("listening on http://127.0.0.1:"),
        "{first}"
    );
    let printed: Vec<String> = (0..5).map(|_| next()).collect();
    let https_token_url = printed[3]
        .strip_prefix("https auth0 token endpoint: ")
        .unwrap_or_else(|| panic!("{printed:?}"))
        .to_string();
    let answer = post_with(&trusting(CA_PEM), &https_token_url, &auth0_body());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.json()["access_token"].is_string());

    let refused = Command::new(env!("CARGO_BIN_EXE_bearer"))
        .args(["serve", "--tls-cert", "x.pem"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(64), "a usage error");
}
