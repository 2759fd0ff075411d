//! Shared by the integration tests: configurations for the local server.
#![allow(dead_code)]

use bearer::local_server::{self, LocalAuthServer};
use serde_json::{Value, json};

pub fn server() -> LocalAuthServer {
    LocalAuthServer::start().expect("the local authorization server starts")
}

/// The seed's data_cosmos_api_credentials.json, pointed at the local server.
pub fn auth0_config(server: &LocalAuthServer) -> Value {
    json!({
        "client_id": local_server::AUTH0_CLIENT_ID,
        "client_secret": local_server::AUTH0_CLIENT_SECRET,
        "audience": local_server::DEMO_AUDIENCE,
        "grant_type": "client_credentials",
        "token_url": server.auth0_token_url(),
    })
}

/// The Cobuilder body, pointed at the local server.
pub fn cobuilder_config(server: &LocalAuthServer) -> Value {
    json!({
        "clientId": local_server::COBUILDER_CLIENT_ID,
        "clientSecret": local_server::COBUILDER_CLIENT_SECRET,
        "audienceUrl": local_server::COBUILDER_AUDIENCE,
        "token_url": server.cobuilder_token_url(),
    })
}

/// `config` with `query` appended to its token URL (the server's test switches).
pub fn with_query(mut config: Value, query: &str) -> Value {
    let url = config["token_url"]
        .as_str()
        .expect("has a token_url")
        .to_owned();
    config["token_url"] = format!("{url}?{query}").into();
    config
}

/// `config` with `key` set to `value`.
pub fn with(mut config: Value, key: &str, value: impl Into<Value>) -> Value {
    config[key] = value.into();
    config
}

/// The claims of a JWT the local server issued.
pub fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("the payload is base64url");
    serde_json::from_slice(&bytes).expect("the payload is JSON")
}

/// The member names of a JSON object, in order.
pub fn member_names(json: &str) -> Vec<String> {
    let value: Value = serde_json::from_str(json).expect("valid JSON");
    value
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect()
}

/// Runs the `bearer` command with `args`, `stdin` as its standard input.
pub fn run_with_stdin(args: &[&str], stdin: &str) -> std::process::Output {
    spawn_with_stdin(bearer_command().args(args), stdin)
        .wait_with_output()
        .expect("bearer runs to the end")
}

/// Starts `command` with `stdin` written to its standard input and its
/// output piped, without waiting for it.
pub fn spawn_with_stdin(command: &mut std::process::Command, stdin: &str) -> std::process::Child {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bearer binary starts");
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    // A run that stops before reading (wrong usage) closes the pipe first.
    if let Err(error) = written {
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::BrokenPipe,
            "stdin: {error}"
        );
    }
    child
}

/// The one line a successful run printed, trimmed; shows stderr otherwise.
pub fn token_line(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .trim()
        .to_owned()
}

/// The `bearer` command with the host tier in a folder of this test
/// process's own (never the user's `~/.cache`), and no `BEARER_CACHE`.
pub fn bearer_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bearer"));
    command
        .env("XDG_CACHE_HOME", test_cache_home())
        .env_remove("BEARER_CACHE");
    command
}

/// A folder for this test process's shared caches, under the temporary folder.
pub fn test_cache_home() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("bearer-tests-{}", std::process::id()))
}

/// A file of the committed test PKI (`tests/tls/`).
pub fn tls_file(name: &str) -> String {
    format!("{}/tests/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A local server that serves HTTPS too, with the test CA's certificate.
pub fn tls_server() -> LocalAuthServer {
    let read = |name| std::fs::read(tls_file(name)).expect("the test PKI is committed");
    LocalAuthServer::start_tls(&read("server.pem"), &read("server.key"))
        .expect("the TLS server starts")
}

/// Forks; the child runs `child` and exits with what it returns (0 = all well).
pub fn fork(child: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only runs bearer calls and then _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(99);
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    pid
}

pub fn exit_code(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: waits for our own child.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(
        libc::WIFEXITED(status),
        "child {pid} did not exit: {status}"
    );
    libc::WEXITSTATUS(status)
}

/// A cache folder of the test's own, removed when dropped.
pub struct Folder(pub std::path::PathBuf);

impl Folder {
    pub fn new(test: &str) -> Folder {
        let path = test_cache_home().join(test);
        let _ = std::fs::remove_dir_all(&path);
        Folder(path)
    }

    pub fn setting(&self) -> String {
        format!("file:{}", self.0.display())
    }

    /// The entries' files (not their locks).
    pub fn entries(&self) -> Vec<std::path::PathBuf> {
        let mut entries: Vec<std::path::PathBuf> = std::fs::read_dir(&self.0)
            .map(|read| read.flatten().map(|entry| entry.path()).collect())
            .unwrap_or_default();
        entries.retain(|path| path.extension().is_some_and(|ext| ext == "entry"));
        entries
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `callers` threads at once, spread over `clients`, each telling its client
/// that `refused` was refused and then asking for a token: what each
/// refusal did, and the token each got.
pub fn refuse_together(
    clients: &[std::sync::Arc<bearer::Client>],
    refused: &str,
    callers: usize,
) -> Vec<(bearer::Refusal, String)> {
    let start = std::sync::Arc::new(std::sync::Barrier::new(callers));
    (0..callers)
        .map(|i| {
            let client = clients[i % clients.len()].clone();
            let (start, refused) = (start.clone(), refused.to_owned());
            std::thread::spawn(move || {
                start.wait();
                let refusal = client.token_refused(&refused).unwrap();
                (refusal, client.token().unwrap().access_token.clone())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect()
}
