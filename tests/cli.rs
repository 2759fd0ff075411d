//! The `bearer` binary: the drop-in for the seeds' `curl ... | jq` lines.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use bearer::ffi::BearerStatus;
use bearer::local_server;
use common::*;
use serde_json::Value;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// A file under the temporary directory, unique to this process and test,
/// removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(test: &str, content: &str) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("bearer-cli-{}-{test}.json", std::process::id()));
        std::fs::write(&path, content).expect("the temporary file is written");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("the temporary path is UTF-8")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn run(args: &[&str]) -> Output {
    run_with_stdin(args, "")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// The one line of stdout, after checking the run succeeded quietly.
fn one_line(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(output));
    assert_eq!(stderr(output), "");
    let out = stdout(output);
    assert!(out.ends_with('\n'), "{out:?}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out:?}");
    lines[0].to_owned()
}

/// Asserts `text` is a three-part JWT the local server issued for `audience`.
fn assert_jwt_for(text: &str, audience: &str) {
    let parts: Vec<&str> = text.split('.').collect();
    assert_eq!(parts.len(), 3, "{text:?}");
    assert!(parts.iter().all(|part| !part.is_empty()), "{text:?}");
    assert_eq!(claims(text)["aud"], audience, "{text:?}");
}

/// The problem JSON that is all of stderr, on one line.
fn problem_on_stderr(output: &Output) -> Value {
    let err = stderr(output);
    assert_eq!(err.lines().count(), 1, "{err:?}");
    serde_json::from_str(err.trim_end()).expect("stderr is one problem JSON")
}

fn without_token_url(mut config: Value) -> Value {
    config
        .as_object_mut()
        .expect("a config is an object")
        .remove("token_url")
        .expect("it had a token_url");
    config
}

#[test]
fn token_prints_one_line_with_a_jwt() {
    let server = server();
    let file = TempFile::new("token_prints_one_line", &auth0_config(&server).to_string());
    let output = run(&["token", "--credentials", file.path()]);
    assert_jwt_for(&one_line(&output), local_server::DEMO_AUDIENCE);
    assert_eq!(server.auth0_requests(), 1);
    assert_eq!(server.cobuilder_requests(), 0);
}

#[test]
fn token_url_on_the_command_line_completes_the_seed_file() {
    let server = server();
    // The seed's data_cosmos_api_credentials.json has no token_url.
    let seed = without_token_url(auth0_config(&server));
    let file = TempFile::new("token_url_on_the_command_line", &seed.to_string());
    let output = run(&[
        "token",
        "--credentials",
        file.path(),
        "--token-url",
        &server.auth0_token_url(),
    ]);
    assert_jwt_for(&one_line(&output), local_server::DEMO_AUDIENCE);
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn the_token_url_option_overrides_the_files() {
    let server = server();
    let config = with(
        auth0_config(&server),
        "token_url",
        "http://127.0.0.1:9/nowhere",
    );
    let file = TempFile::new("the_token_url_option_overrides", &config.to_string());
    let output = run(&[
        "token",
        "-c",
        file.path(),
        "--token-url",
        &server.auth0_token_url(),
    ]);
    assert_jwt_for(&one_line(&output), local_server::DEMO_AUDIENCE);
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn credentials_dash_reads_standard_input() {
    let server = server();
    let seed = without_token_url(auth0_config(&server)).to_string();
    let output = run_with_stdin(
        &[
            "token",
            "--credentials",
            "-",
            "--token-url",
            &server.auth0_token_url(),
        ],
        &seed,
    );
    assert_jwt_for(&one_line(&output), local_server::DEMO_AUDIENCE);
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn the_credentials_file_defaults_to_the_seeds_name_in_the_working_directory() {
    let server = server();
    let dir = std::env::temp_dir().join(format!("bearer-cli-{}-default-file", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = TempFile(dir.join("data_cosmos_api_credentials.json"));
    std::fs::write(&file.0, auth0_config(&server).to_string()).unwrap();
    let output = bearer_command()
        .arg("token")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    drop(file);
    let _ = std::fs::remove_dir(&dir);
    assert_jwt_for(&one_line(&output), local_server::DEMO_AUDIENCE);
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn json_prints_the_token_response() {
    let server = server();
    let file = TempFile::new("json_prints", &auth0_config(&server).to_string());
    let before = unix_now();
    let output = run(&["token", "--credentials", file.path(), "--json"]);
    let after = unix_now();
    let response: Value = serde_json::from_str(&one_line(&output)).expect("one JSON line");
    assert_jwt_for(
        response["access_token"].as_str().expect("access_token"),
        local_server::DEMO_AUDIENCE,
    );
    assert_eq!(response["token_type"], "Bearer");
    let expires_in = response["expires_in"].as_u64().expect("expires_in");
    assert!((86_390..=86_400).contains(&expires_in), "{expires_in}");
    let expires_at = response["expires_at"].as_u64().expect("expires_at");
    assert!(
        (before + 86_400..=after + 86_400).contains(&expires_at),
        "{expires_at} not in {before}..{after} + 1 day"
    );
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn header_prints_the_authorization_value() {
    let server = server();
    let file = TempFile::new("header_prints", &auth0_config(&server).to_string());
    let line = one_line(&run(&["header", "--credentials", file.path()]));
    let token = line
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("{line:?}"));
    assert_jwt_for(token, local_server::DEMO_AUDIENCE);
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn the_cobuilder_shape_works_the_same() {
    let server = server();
    let config = cobuilder_config(&server);
    let file = TempFile::new("cobuilder_shape", &config.to_string());
    let token = one_line(&run(&["token", "--credentials", file.path()]));
    assert_jwt_for(&token, local_server::COBUILDER_AUDIENCE);

    let header = one_line(&run(&["header", "--credentials", file.path()]));
    let token = header
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("{header:?}"));
    assert_jwt_for(token, local_server::COBUILDER_AUDIENCE);

    let response: Value = serde_json::from_str(&one_line(&run(&[
        "token",
        "--credentials",
        file.path(),
        "--json",
    ])))
    .unwrap();
    assert_jwt_for(
        response["access_token"].as_str().unwrap(),
        local_server::COBUILDER_AUDIENCE,
    );
    assert_eq!(response["token_type"], "Bearer");
    // A bare Cobuilder token gets its lifetime from the JWT's exp claim.
    let expires_in = response["expires_in"].as_u64().unwrap();
    assert!((3_590..=3_600).contains(&expires_in), "{expires_in}");

    let seed = TempFile::new(
        "cobuilder_shape_seed",
        &without_token_url(config).to_string(),
    );
    let token = one_line(&run(&[
        "token",
        "--credentials",
        seed.path(),
        "--token-url",
        &server.cobuilder_token_url(),
    ]));
    assert_jwt_for(&token, local_server::COBUILDER_AUDIENCE);

    // Four runs, one request: the host tier keeps the token between them.
    assert_eq!(server.cobuilder_requests(), 1);
    assert_eq!(server.auth0_requests(), 0);
}

#[test]
fn a_wrong_secret_exits_3_with_one_problem_on_stderr() {
    let server = server();
    let config = with(auth0_config(&server), "client_secret", "wrong-secret");
    let file = TempFile::new("a_wrong_secret", &config.to_string());
    for command in ["token", "header"] {
        let output = run(&[command, "--credentials", file.path()]);
        assert_eq!(output.status.code(), Some(BearerStatus::Rejected as i32));
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(stdout(&output), "");
        let problem = problem_on_stderr(&output);
        assert_eq!(problem["type"], "urn:bearer:problem:unauthorized");
        assert_eq!(problem["status"], 401);
        assert_eq!(problem["instance"], server.auth0_token_url());
        assert!(!stderr(&output).contains("wrong-secret"));
    }
    assert_eq!(server.auth0_requests(), 2);
}

#[test]
fn a_missing_file_exits_2_with_a_problem_naming_it() {
    let path = std::env::temp_dir().join(format!(
        "bearer-cli-{}-no-such-credentials.json",
        std::process::id()
    ));
    let path = path.to_str().unwrap();
    assert!(!Path::new(path).exists());
    let output = run(&["token", "--credentials", path]);
    assert_eq!(
        output.status.code(),
        Some(BearerStatus::InvalidConfig as i32)
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    let problem = problem_on_stderr(&output);
    assert_eq!(problem["type"], "urn:bearer:problem:invalid-config");
    assert_eq!(problem["status"], 400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("\"{path}\"")), "{detail}");
}

#[test]
fn a_file_that_is_not_a_config_exits_2() {
    let file = TempFile::new("not_a_config", "client_id=demo-client\n");
    let output = run(&["token", "--credentials", file.path()]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    let problem = problem_on_stderr(&output);
    assert_eq!(problem["type"], "urn:bearer:problem:invalid-config");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{problem}"
    );
}

/// The first line of clap's message, after checking `args` were wrong usage:
/// exit 64, nothing on stdout, clap's error and its one-line hint on stderr.
fn usage_error(args: &[&str]) -> String {
    let output = run(args);
    assert_eq!(output.status.code(), Some(64), "{args:?}");
    assert_eq!(stdout(&output), "", "{args:?}");
    let err = stderr(&output);
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    assert_eq!(
        err.lines().last(),
        Some("For more information, try '--help'."),
        "{args:?}: {err}"
    );
    err.lines().next().unwrap().to_owned()
}

#[test]
fn wrong_usage_exits_64_with_clap_s_error_on_stderr() {
    assert_eq!(
        usage_error(&["frobnicate"]),
        "error: unrecognized subcommand 'frobnicate'"
    );
    assert_eq!(
        usage_error(&["token", "--frobnicate"]),
        "error: unexpected argument '--frobnicate' found"
    );
    assert_eq!(
        usage_error(&["token", "extra"]),
        "error: unexpected argument 'extra' found"
    );
    assert_eq!(
        usage_error(&["header", "--credentials"]),
        "error: a value is required for '--credentials <FILE>' but none was supplied"
    );
    // token's --json is not header's.
    assert_eq!(
        usage_error(&["header", "--json"]),
        "error: unexpected argument '--json' found"
    );
    for port in ["--port", "--tls-port"] {
        let args = [
            "serve",
            port,
            "notanumber",
            "--tls-cert",
            "c",
            "--tls-key",
            "k",
        ];
        let first = usage_error(&args);
        assert!(
            first.starts_with(&format!(
                "error: invalid value 'notanumber' for '{port} <PORT>'"
            )),
            "{first}"
        );
    }
    assert!(
        usage_error(&["serve", "--port", "65536"]).contains("'--port <PORT>'"),
        "out of range"
    );
    assert!(
        usage_error(&["login", "--timeout", "18446744073709551616"])
            .contains("'--timeout <SECONDS>'"),
        "beyond u64"
    );
}

#[test]
fn the_tls_certificate_and_key_go_together() {
    for args in [
        &["serve", "--tls-cert", "x.pem"][..],
        &["serve", "--tls-key", "x.key"],
        &["serve", "--tls-port", "8443"],
        &["serve", "--tls-port", "8443", "--tls-key", "x.key"],
    ] {
        let first = usage_error(args);
        assert_eq!(
            first, "error: the following required arguments were not provided:",
            "{args:?}"
        );
    }
}

#[test]
fn no_command_is_wrong_usage_with_the_help_on_stderr() {
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(64));
    assert_eq!(stdout(&output), "");
    let err = stderr(&output);
    assert!(err.contains("Usage: bearer <COMMAND>"), "{err}");
    for command in ["token", "header", "login", "demo", "serve", "completions"] {
        assert!(err.contains(&format!("\n  {command} ")), "{command}: {err}");
    }
}

/// `bearer ARGS`, which must end by itself: a run that serves or waits for
/// a browser is killed and fails the test instead of hanging it.
fn run_ending(args: &[&str]) -> Output {
    let mut child = Reaped(
        bearer_command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the bearer binary starts"),
    );
    let (mut out, mut err) = (
        child.0.stdout.take().unwrap(),
        child.0.stderr.take().unwrap(),
    );
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let err_reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            err.read_to_end(&mut bytes).map(|_| bytes)
        });
        let mut bytes = Vec::new();
        let out = out.read_to_end(&mut bytes).map(|_| bytes);
        let _ = sender.send((out, err_reader.join()));
    });
    // Both pipes close when it exits.
    let (out, err) = receiver
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("bearer {args:?} did not end"));
    Output {
        status: child.0.wait().unwrap(),
        stdout: out.unwrap(),
        stderr: err.unwrap().unwrap(),
    }
}

/// What `bearer ARGS` printed, after checking it went to stdout, quietly,
/// with exit 0.
fn help(args: &[&str]) -> String {
    let output = run_ending(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        stderr(&output)
    );
    assert_eq!(stderr(&output), "", "{args:?}");
    stdout(&output)
}

#[test]
fn help_prints_the_usage_on_stdout() {
    for args in [&["help"][..], &["--help"], &["-h"]] {
        let out = help(args);
        assert!(out.contains("Usage: bearer <COMMAND>"), "{args:?}: {out}");
        for command in [
            "token",
            "header",
            "login",
            "demo",
            "serve",
            "version",
            "completions",
            "man",
        ] {
            assert!(out.contains(&format!("\n  {command} ")), "{command}: {out}");
        }
        assert!(out.contains("problem-details JSON goes to stderr"), "{out}");
    }
}

#[test]
fn the_readme_shows_the_help_as_printed() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("the README is there");
    let (_, block) = readme
        .split_once("    $ bearer --help\n")
        .expect("the README shows bearer --help");
    // The indented block, blank lines included, up to the next paragraph.
    let shown: String = block
        .lines()
        .take_while(|line| line.is_empty() || line.starts_with("    "))
        .map(|line| format!("{}\n", line.strip_prefix("    ").unwrap_or(line)))
        .collect();
    assert_eq!(shown.trim_end(), help(&["--help"]).trim_end());
}

#[test]
fn every_command_has_help_and_help_runs_nothing() {
    let server = server();
    let file = TempFile::new("help_runs_nothing", &auth0_config(&server).to_string());
    let token_url = server.auth0_token_url();
    let source = ["--credentials", file.path(), "--token-url", &token_url];
    for flag in ["--help", "-h"] {
        for command in ["token", "header"] {
            // Before or after options that would otherwise fetch a token.
            let before = help(&[&[command, flag][..], &source].concat());
            let after = help(&[&[command][..], &source, &[flag]].concat());
            assert_eq!(before, after);
            assert!(
                before.contains(&format!("Usage: bearer {command} [OPTIONS]")),
                "{before}"
            );
            assert!(before.contains("--credentials <FILE>"), "{before}");
            assert!(before.contains(DEFAULT_CREDENTIALS), "{before}");
            assert_eq!(before.contains("--json"), command == "token", "{before}");
        }
        // Without the flag this prints the URL on stderr and times out.
        let login = help(&[
            "login",
            flag,
            "--no-browser",
            "--timeout",
            "0",
            "-c",
            file.path(),
        ]);
        assert!(login.contains("Usage: bearer login [OPTIONS]"), "{login}");
        assert!(login.contains("--timeout <SECONDS>"), "{login}");

        let demo = help(&["demo", flag]);
        assert!(demo.contains("Usage: bearer demo"), "{demo}");
        assert!(!demo.contains("token:"), "the demo ran: {demo}");

        let serve = help(&["serve", "--port", "0", flag]);
        assert!(serve.contains("Usage: bearer serve [OPTIONS]"), "{serve}");
        assert!(
            !serve.lines().any(|line| line.starts_with("listening on ")),
            "it served: {serve}"
        );

        for command in ["version", "completions", "man"] {
            let out = help(&[command, flag]);
            assert!(out.contains(&format!("Usage: bearer {command}")), "{out}");
        }
    }
    // `help COMMAND` is `COMMAND --help`.
    assert_eq!(help(&["help", "login"]), help(&["login", "--help"]));
    assert_eq!(server.auth0_requests(), 0, "nothing was contacted");
    assert_eq!(server.cobuilder_requests(), 0);
}

const DEFAULT_CREDENTIALS: &str = "data_cosmos_api_credentials.json";

#[test]
fn the_last_of_a_repeated_option_wins() {
    let server = server();
    let file = TempFile::new("last_repeated_option", &auth0_config(&server).to_string());
    let output = run(&[
        "token",
        "--json",
        "-c",
        "/nonexistent/credentials.json",
        "--credentials",
        file.path(),
        "--json",
    ]);
    let response: Value = serde_json::from_str(&one_line(&output)).expect("one JSON line");
    assert_jwt_for(
        response["access_token"].as_str().unwrap(),
        local_server::DEMO_AUDIENCE,
    );
    assert_eq!(server.auth0_requests(), 1);
}

#[test]
fn completions_are_printed_for_every_shell() {
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0), "{}", stderr(&bash));
    let script = stdout(&bash);
    assert!(script.contains("--credentials"), "{script}");
    let file = TempFile::new("completions.bash", &script);
    let checked = Command::new("bash")
        .args(["-n", file.path()])
        .output()
        .expect("bash runs");
    assert!(checked.status.success(), "{}", stderr(&checked));

    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let output = run(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let out = stdout(&output);
        assert!(
            out.contains("bearer") && out.contains("token-url"),
            "{shell}: {out}"
        );
    }
    assert!(usage_error(&["completions", "tcsh"]).contains("invalid value 'tcsh'"));
}

#[test]
fn man_prints_a_manual_page() {
    let output = run(&["man"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let page = stdout(&output);
    assert!(page.contains(".TH bearer 1"), "{page}");
    assert!(page.contains("completions"), "{page}");
}

#[test]
fn demo_shows_both_shapes_and_no_secret() {
    let output = run(&["demo"]);
    let (out, err) = (stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(0), "{out}\n{err}");

    let tokens: Vec<&str> = out
        .lines()
        .filter_map(|line| line.strip_prefix("   token:"))
        .map(str::trim)
        .collect();
    assert_eq!(tokens.len(), 2, "{out}");
    assert_jwt_for(tokens[0], local_server::DEMO_AUDIENCE);
    assert_jwt_for(tokens[1], local_server::COBUILDER_AUDIENCE);
    assert!(out.contains(&format!("Authorization: Bearer {}", tokens[0])));
    assert!(out.contains(&format!("Authorization: Bearer {}", tokens[1])));
    assert_eq!(
        out.matches("the same token, from the cache").count(),
        2,
        "{out}"
    );
    assert_eq!(
        out.matches("(requests to the endpoint so far: 1)").count(),
        2,
        "{out}"
    );

    let problem = out
        .lines()
        .find_map(|line| line.strip_prefix("   problem: "))
        .unwrap_or_else(|| panic!("no problem line in {out}"));
    let problem: Value = serde_json::from_str(problem).unwrap();
    assert_eq!(problem["type"], "urn:bearer:problem:unauthorized");
    assert_eq!(problem["status"], 401);

    for secret in [
        local_server::AUTH0_CLIENT_SECRET,
        local_server::COBUILDER_CLIENT_SECRET,
        "not-the-secret",
    ] {
        assert!(!out.contains(secret), "{secret} in stdout:\n{out}");
        assert!(!err.contains(secret), "{secret} in stderr:\n{err}");
    }
}

/// Kills and reaps the child when dropped, so a failing test leaves no server.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("bearer serve accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn serve_answers_on_the_port_it_prints() {
    let mut child = Reaped(
        bearer_command()
            .args(["serve", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("bearer serve starts"),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").unwrap();
    let base_url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first:?}"))
        .to_owned();
    let port: u16 = base_url
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{base_url:?}"))
        .parse()
        .unwrap();
    assert_ne!(port, 0);
    let auth0_line = lines.next().unwrap().unwrap();
    assert_eq!(
        auth0_line,
        format!("auth0 token endpoint: {base_url}/oauth/token")
    );

    let health = http_get(port, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200 "), "{health}");
    assert!(health.ends_with("\r\n\r\nok"), "{health}");

    let config = serde_json::json!({
        "client_id": local_server::AUTH0_CLIENT_ID,
        "client_secret": local_server::AUTH0_CLIENT_SECRET,
        "audience": local_server::DEMO_AUDIENCE,
        "token_url": format!("{base_url}/oauth/token"),
    });
    let token = bearer::Client::from_json(&config.to_string())
        .unwrap()
        .token()
        .unwrap();
    assert_eq!(
        claims(&token.access_token)["aud"],
        local_server::DEMO_AUDIENCE
    );
    let stats = http_get(port, "/_stats");
    assert!(stats.contains("{\"auth0\":1,\"cobuilder\":0,"), "{stats}");

    child.0.kill().expect("the server is killed");
    let status = child.0.wait().expect("the server is reaped");
    assert!(!status.success(), "it ran until killed: {status}");
}

#[test]
fn version_prints_the_package_version() {
    for flag in ["version", "--version", "-V"] {
        assert_eq!(
            one_line(&run(&[flag])),
            format!("bearer {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

/// `bearer login --timeout TIMEOUT`, with the test as the browser: the
/// tokens it prints.
fn login_through_the_browser(timeout: &str) -> Value {
    let server = server();
    let credentials = serde_json::json!({
        "client_id": local_server::NATIVE_CLIENT_ID,
        "audience": local_server::DEMO_AUDIENCE,
        "authorize_url": server.authorize_url(),
        "token_url": server.auth0_token_url(),
    });
    let mut child = bearer_command()
        .args([
            "login",
            "--credentials",
            "-",
            "--no-browser",
            "--timeout",
            timeout,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(credentials.to_string().as_bytes())
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert_ne!(stderr.read_line(&mut line).unwrap(), 0, "no URL printed");
        if let Some(url) = line.trim().strip_prefix("http") {
            break format!("http{url}");
        }
    };
    // The browser: the server signs the test user in and redirects to the
    // listener, which answers with a page.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let authorized = agent.get(&url).call().unwrap();
    let callback = authorized.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = agent
        .get(&callback)
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(page.contains("You are signed in"));

    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}", output.status);
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn login_prints_the_url_waits_for_the_browser_and_prints_the_tokens() {
    let tokens = login_through_the_browser("20");
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["sub"],
        local_server::TEST_USER
    );
    assert!(tokens["id_token"].is_string());
}

#[test]
fn login_takes_the_largest_timeout() {
    let tokens = login_through_the_browser(&u64::MAX.to_string());
    assert!(tokens["access_token"].is_string());
}

#[test]
fn login_without_a_browser_coming_back_times_out_with_status_6() {
    let server = server();
    let credentials = serde_json::json!({
        "client_id": local_server::NATIVE_CLIENT_ID,
        "authorize_url": server.authorize_url(),
        "token_url": server.auth0_token_url(),
    });
    let output = run_with_stdin(
        &[
            "login",
            "--credentials",
            "-",
            "--no-browser",
            "--timeout",
            "0",
        ],
        &credentials.to_string(),
    );
    assert_eq!(output.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&output.stderr).contains("urn:bearer:problem:timeout"));
}

#[test]
fn refused_drops_the_kept_token_so_the_next_run_gets_a_new_one() {
    let server = server();
    let file = TempFile::new("refused", &auth0_config(&server).to_string());
    let folder = test_cache_home().join("cli-refused");
    let _ = std::fs::remove_dir_all(&folder);
    let cache = format!("file:{}", folder.display());
    let token = |args: &[&str]| {
        one_line(&run(&[
            &["token", "--credentials", file.path(), "--cache", &cache],
            args,
        ]
        .concat()))
    };
    let refused = |stdin: &str| {
        one_line(&run_with_stdin(
            &["refused", "--credentials", file.path(), "--cache", &cache],
            stdin,
        ))
    };
    let first = token(&[]);
    assert_eq!(token(&[]), first, "kept for the next run");
    server.revoke_tokens();
    assert_eq!(refused(&format!("{first}\n")), "dropped");
    let second = token(&[]);
    assert_ne!(second, first);
    // Late, and as a header value: the kept token is another one now.
    assert_eq!(refused(&format!("Bearer {first}")), "not current");
    assert_eq!(refused(&second), "too soon");
    assert_eq!(token(&[]), second);
    assert_eq!(server.auth0_requests(), 2);

    let from_stdin = run_with_stdin(&["refused", "--credentials", "-"], &second);
    assert_eq!(from_stdin.status.code(), Some(64));
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn login_device_prints_the_code_and_waits_for_its_approval() {
    use std::io::{BufRead, BufReader};
    let server = server();
    let config = serde_json::json!({
        "client_id": local_server::NATIVE_CLIENT_ID,
        "device_authorization_url": format!("{}?interval=0", server.device_authorization_url()),
        "token_url": server.auth0_token_url(),
        "audience": local_server::DEMO_AUDIENCE,
    });
    let file = TempFile::new("login_device", &config.to_string());
    let mut child = bearer_command()
        .args([
            "login",
            "--device",
            "--no-browser",
            "--credentials",
            file.path(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut shown = Vec::new();
    let code = loop {
        let line = lines.next().expect("the code is printed").unwrap();
        shown.push(line.clone());
        if shown.len() >= 2 && shown[shown.len() - 2] == "and enter the code" {
            break line.trim().to_owned();
        }
    };
    assert!(
        shown.iter().any(|line| line.trim().ends_with("/activate")),
        "{shown:?}"
    );
    assert!(server.device_action(&code, "approve"), "{code}");
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let token: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(token["access_token"].is_string());
}
