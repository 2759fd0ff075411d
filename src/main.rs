//! `bearer`: the command-line face of the library.
//!
//! `bearer token` is a drop-in for the seed's `curl ... | jq -r .access_token`
//! line; failures print the problem JSON on stderr and exit with the status
//! number of the C ABI (1 to 8).

use std::io::{Read, Write};
use std::process::ExitCode;

use bearer::config::Grant;
use bearer::ffi::BearerStatus;
use bearer::local_server::{self, LocalAuthServer};
use bearer::{Client, Config, LoopbackLogin, Problem, ProblemKind};
use serde_json::{Value, json};

const USAGE: &str = "\
bearer: OAuth 2.0 access tokens from the credentials JSON of the seed pages

usage:
  bearer token  [--credentials FILE] [--token-url URL] [--json]
                    print the access token (--json: the whole token response)
  bearer header [--credentials FILE] [--token-url URL]
                    print the Authorization header value, \"Bearer <token>\"
  bearer login  [--credentials FILE] [--timeout SECONDS] [--no-browser]
                    sign a user in (authorization code with PKCE, loopback
                    redirect): print and open the authorize URL, wait for the
                    browser to come back, print the token response
  bearer demo       start the bundled local authorization server and show both
                    seed shapes working, with no credentials of your own
  bearer serve [--port PORT] [--tls-cert PEM --tls-key PEM [--tls-port PORT]]
                    run the local authorization server until interrupted;
                    with a certificate and key, HTTPS too on a second port
  bearer version

FILE defaults to data_cosmos_api_credentials.json; \"-\" reads standard input.
On failure the problem-details JSON goes to stderr and the exit code is the
C ABI's status number (2 = invalid configuration, 3 = rejected, ...).
";

/// The exit code for wrong usage (sysexits' EX_USAGE).
const USAGE_EXIT: u8 = 64;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, options)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(USAGE_EXIT);
    };
    let outcome = match command.as_str() {
        "token" | "header" => Options::parse(options).map(|options| print_token(command, &options)),
        "login" => Options::parse(options).map(|options| login(&options)),
        "demo" => Ok(demo()),
        "serve" => Options::parse(options).and_then(|options| serve(&options)),
        "version" | "--version" | "-V" => {
            println!("bearer {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown command \"{other}\"")),
    };
    match outcome {
        Ok(code) => code,
        Err(usage_error) => {
            eprintln!("bearer: {usage_error}\n\n{USAGE}");
            ExitCode::from(USAGE_EXIT)
        }
    }
}

#[derive(Default)]
struct Options {
    credentials: Option<String>,
    token_url: Option<String>,
    json: bool,
    port: u16,
    timeout_seconds: Option<u64>,
    no_browser: bool,
    tls_cert: Option<String>,
    tls_key: Option<String>,
    tls_port: Option<u16>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .cloned()
                    .ok_or_else(|| format!("{arg} needs a value"))
            };
            match arg.as_str() {
                "--credentials" | "-c" => options.credentials = Some(value()?),
                "--token-url" => options.token_url = Some(value()?),
                "--json" => options.json = true,
                "--no-browser" => options.no_browser = true,
                "--timeout" => {
                    options.timeout_seconds = Some(
                        value()?
                            .parse()
                            .map_err(|_| "--timeout needs a number of seconds".to_owned())?,
                    )
                }
                "--port" => {
                    options.port = value()?
                        .parse()
                        .map_err(|_| "--port needs a number from 0 to 65535".to_owned())?
                }
                "--tls-cert" => options.tls_cert = Some(value()?),
                "--tls-key" => options.tls_key = Some(value()?),
                "--tls-port" => {
                    options.tls_port = Some(
                        value()?
                            .parse()
                            .map_err(|_| "--tls-port needs a number from 0 to 65535".to_owned())?,
                    )
                }
                other => return Err(format!("unknown option \"{other}\"")),
            }
        }
        Ok(options)
    }
}

fn print_token(command: &str, options: &Options) -> ExitCode {
    let result = read_credentials(options).and_then(|config_json| {
        let client = Client::from_json(&config_json)?;
        let token = client.token()?;
        Ok(match (command, options.json) {
            ("header", _) => token.authorization_header(),
            (_, true) => token.to_json(),
            _ => token.access_token.clone(),
        })
    });
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(problem) => fail(&problem),
    }
}

/// The credentials JSON, with `--token-url` applied.
fn read_credentials(options: &Options) -> Result<String, Problem> {
    let path = options
        .credentials
        .as_deref()
        .unwrap_or("data_cosmos_api_credentials.json");
    let mut text = String::new();
    let read = if path == "-" {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(path).map(|content| text = content)
    };
    read.map_err(|error| {
        Problem::new(
            ProblemKind::InvalidConfig,
            format!("the credentials file \"{path}\" cannot be read: {error}"),
        )
    })?;
    let Some(token_url) = &options.token_url else {
        return Ok(text);
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(mut members)) => {
            members.insert("token_url".into(), token_url.clone().into());
            Ok(Value::Object(members).to_string())
        }
        // Let the library report what is wrong with it.
        _ => Ok(text),
    }
}

/// How long `bearer login` waits for the browser unless told otherwise.
const LOGIN_TIMEOUT_SECONDS: u64 = 300;

fn login(options: &Options) -> ExitCode {
    let result = read_credentials(options).and_then(|text| {
        let config = Config::from_json_for(&text, Grant::AuthorizationCode)?;
        let login = LoopbackLogin::start(config)?;
        let timeout = options.timeout_seconds.unwrap_or(LOGIN_TIMEOUT_SECONDS);
        eprintln!(
            "Open this URL in a browser to sign in:\n  {}\nWaiting up to {timeout} s for the redirect to {} ...",
            login.url(),
            login.redirect_uri()
        );
        if !options.no_browser {
            open_browser(login.url());
        }
        login.wait(std::time::Duration::from_secs(timeout))
    });
    match result {
        Ok(token) => {
            println!("{}", token.to_json());
            ExitCode::SUCCESS
        }
        Err(problem) => fail(&problem),
    }
}

/// Best effort: the URL is printed anyway for machines without a desktop.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let has_desktop = cfg!(target_os = "macos")
        || std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if has_desktop {
        let _ = std::process::Command::new(opener)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

fn fail(problem: &Problem) -> ExitCode {
    eprintln!("{}", problem.to_json());
    ExitCode::from(BearerStatus::from(problem.kind()) as u8)
}

/// Err is a usage error; a server that cannot start is a failure exit.
fn serve(options: &Options) -> Result<ExitCode, String> {
    let port = options.port;
    let started = match (&options.tls_cert, &options.tls_key) {
        (None, None) if options.tls_port.is_none() => LocalAuthServer::start_on(port),
        (Some(cert), Some(key)) => {
            let read = |path: &str| {
                std::fs::read(path).map_err(|error| format!("cannot read \"{path}\": {error}"))
            };
            let (cert_pem, key_pem) = match (read(cert), read(key)) {
                (Ok(cert_pem), Ok(key_pem)) => (cert_pem, key_pem),
                (Err(error), _) | (_, Err(error)) => {
                    eprintln!("bearer serve: {error}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let tls_port = options.tls_port.unwrap_or(0);
            LocalAuthServer::start_tls_on(port, tls_port, &cert_pem, &key_pem)
        }
        _ => return Err("--tls-cert and --tls-key go together (and --tls-port with them)".into()),
    };
    let server = match started {
        Ok(server) => server,
        Err(error) => {
            eprintln!("bearer serve: cannot serve on 127.0.0.1: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    // The first line is read by the bindings' tests to find the port.
    println!("listening on {}", server.base_url());
    println!("auth0 token endpoint: {}", server.auth0_token_url());
    println!("cobuilder token endpoint: {}", server.cobuilder_token_url());
    if server.tls_addr().is_some() {
        println!("https listening on {}", server.https_base_url());
        println!(
            "https auth0 token endpoint: {}",
            server.https_auth0_token_url()
        );
        println!(
            "https cobuilder token endpoint: {}",
            server.https_cobuilder_token_url()
        );
    }
    let _ = std::io::stdout().flush();
    server.serve_forever();
    Ok(ExitCode::SUCCESS)
}

fn demo() -> ExitCode {
    let server = match LocalAuthServer::start() {
        Ok(server) => server,
        Err(error) => {
            eprintln!("bearer demo: cannot start the local server: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "bearer {} demo: a local authorization server on {} (nothing else is contacted)\n",
        env!("CARGO_PKG_VERSION"),
        server.base_url()
    );

    let auth0 = json!({
        "client_id": local_server::AUTH0_CLIENT_ID,
        "client_secret": local_server::AUTH0_CLIENT_SECRET,
        "audience": local_server::DEMO_AUDIENCE,
        "grant_type": "client_credentials",
        "token_url": server.auth0_token_url(),
    });
    let cobuilder = json!({
        "clientId": local_server::COBUILDER_CLIENT_ID,
        "clientSecret": local_server::COBUILDER_CLIENT_SECRET,
        "audienceUrl": local_server::COBUILDER_AUDIENCE,
        "token_url": server.cobuilder_token_url(),
    });
    let steps = [
        (
            "1. DataCosmos / Auth0 shape (data_cosmos_api_credentials.json)",
            &auth0,
            Endpoint::Auth0,
        ),
        (
            "2. Cobuilder shape ({clientId, clientSecret, audienceUrl})",
            &cobuilder,
            Endpoint::Cobuilder,
        ),
    ];
    for (title, config, endpoint) in steps {
        println!("{title}");
        println!("   config:  {}", redacted(config));
        let client = match Client::from_json(&config.to_string()) {
            Ok(client) => client,
            Err(problem) => return fail(&problem),
        };
        let (first, second) = match (client.token(), client.token()) {
            (Ok(first), Ok(second)) => (first, second),
            (Err(problem), _) | (_, Err(problem)) => return fail(&problem),
        };
        println!("   token:   {}", first.access_token);
        println!(
            "   header:  Authorization: {}",
            first.authorization_header()
        );
        println!(
            "   again:   {} (requests to the endpoint so far: {})\n",
            if first.access_token == second.access_token {
                "the same token, from the cache"
            } else {
                "a different token"
            },
            endpoint.requests(&server)
        );
    }

    println!("3. A wrong secret gives a problem, with the secret nowhere in it");
    let mut wrong = auth0.clone();
    wrong["client_secret"] = "not-the-secret".into();
    match Client::from_json(&wrong.to_string()).and_then(|client| client.token()) {
        Ok(_) => {
            eprintln!("bearer demo: the wrong secret was accepted");
            return ExitCode::FAILURE;
        }
        Err(problem) => println!("   problem: {}\n   message: {problem}", problem.to_json()),
    }
    ExitCode::SUCCESS
}

#[derive(Clone, Copy)]
enum Endpoint {
    Auth0,
    Cobuilder,
}

impl Endpoint {
    fn requests(self, server: &LocalAuthServer) -> u64 {
        match self {
            Endpoint::Auth0 => server.auth0_requests(),
            Endpoint::Cobuilder => server.cobuilder_requests(),
        }
    }
}

/// The config as JSON with its secret masked, for printing.
fn redacted(config: &Value) -> String {
    let mut shown = config.clone();
    for key in ["client_secret", "clientSecret"] {
        if shown.get(key).is_some() {
            shown[key] = "***".into();
        }
    }
    shown.to_string()
}
