//! `bearer`: the command-line face of the library.
//!
//! `bearer token` is a drop-in for the seed's `curl ... | jq -r .access_token`
//! line; failures print the problem JSON on stderr and exit with the status
//! number of the C ABI (1 to 8).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bearer::cache_setting::{CACHE_ENV, CacheSetting, default_folder};
use bearer::config::Grant;
use bearer::ffi::BearerStatus;
use bearer::local_server::{self, LocalAuthServer};
use bearer::{Client, Config, DeviceLogin, LoopbackLogin, Problem, ProblemKind, Refusal};
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueHint};
use clap_complete::Shell;
use serde_json::{Value, json};

/// The exit code for wrong usage (sysexits' EX_USAGE).
const USAGE_EXIT: u8 = 64;

/// The seed pages' file name, looked for in the working directory.
const DEFAULT_CREDENTIALS: &str = "data_cosmos_api_credentials.json";

/// How long `bearer login` waits for the browser unless told otherwise.
const LOGIN_TIMEOUT_SECONDS: u64 = 300;

/// The end of the help of bearer, token, header and login.
const NOTES: &str = "\
--credentials FILE defaults to data_cosmos_api_credentials.json in the
working directory; \"-\" reads standard input.

On failure the problem-details JSON goes to stderr and the exit code is the
C ABI's status number: 1 invalid argument, 2 invalid configuration,
3 rejected, 4 rate limited, 5 unavailable, 6 timeout, 7 bad response,
8 internal. Wrong usage exits 64.";

/// OAuth 2.0 access tokens from the credentials JSON of the seed pages.
#[derive(Parser)]
#[command(name = "bearer", version, after_help = NOTES)]
// No command is wrong usage, as before clap: the help goes to stderr, exit 64.
#[command(arg_required_else_help = true)]
// The last of a repeated option wins, as with the hand-written parser.
#[command(args_override_self = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the access token, one line
    #[command(after_help = NOTES)]
    Token {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        cache: CacheChoice,
        /// Print the whole token response as one JSON line instead
        #[arg(long)]
        json: bool,
    },
    /// Print the Authorization header value, "Bearer <token>"
    #[command(after_help = NOTES)]
    Header {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        cache: CacheChoice,
    },
    /// Say that an API refused a token (a 401): the next run gets a new one
    ///
    /// Reads the token, or the whole "Bearer ..." header value, on standard
    /// input (never from the command line, where other users could see it).
    /// The kept token is dropped only if it is still that token, and at most
    /// once every 2 seconds; prints "dropped", "not current" or "too soon".
    #[command(verbatim_doc_comment)]
    #[command(after_help = NOTES)]
    Refused {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        cache: CacheChoice,
    },
    /// Show or remove the tokens kept for other runs
    ///
    /// Entries are sealed with the credentials that made them: the list
    /// shows each entry's name and when it expires, never a token.
    #[command(verbatim_doc_comment)]
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Sign a user in and print the token response JSON
    ///
    /// Authorization code with PKCE and a loopback redirect: prints the
    /// authorize URL on stderr and opens it in a browser, waits for the
    /// browser to come back to 127.0.0.1, then prints the token response.
    // Verbatim: clap would join the lines, and it wraps no help text here.
    #[command(verbatim_doc_comment)]
    #[command(after_help = NOTES)]
    Login(LoginArgs),
    /// Show both seed shapes working on a bundled local server
    ///
    /// Starts the local authorization server on 127.0.0.1 and gets tokens
    /// from it for both credential shapes: no credentials of your own,
    /// nothing else contacted.
    #[command(verbatim_doc_comment)]
    Demo,
    /// Run the local authorization server until interrupted
    ///
    /// Prints "listening on http://127.0.0.1:PORT" first, then the token
    /// endpoints; with a certificate and key, HTTPS too on a second port,
    /// and on a third, HTTPS that requires a client certificate.
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
    /// Print "bearer <version>"
    Version,
    /// Print a shell completion script
    ///
    /// For bash, for example:
    ///   bearer completions bash > ~/.local/share/bash-completion/completions/bearer
    #[command(verbatim_doc_comment)]
    Completions {
        #[arg(value_name = "SHELL")]
        shell: Shell,
    },
    /// Print the manual page (roff)
    ///
    /// For example: bearer man > bearer.1 && man -l bearer.1
    #[command(verbatim_doc_comment)]
    Man,
}

// Where the credentials come from, for token, header and login. (Not a doc
// comment: clap may take that for the about text of whoever flattens it.)
#[derive(Args)]
struct Source {
    /// The credentials JSON, as the seed pages write it
    // The default is told in NOTES: here it would make the line too long.
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = DEFAULT_CREDENTIALS,
        hide_default_value = true,
        value_hint = ValueHint::FilePath
    )]
    credentials: PathBuf,
    /// The token endpoint, instead of the file's token_url
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    token_url: Option<String>,
}

// Where token and header keep tokens between runs. (Not a doc comment, as
// for Source.)
#[derive(Args)]
struct CacheChoice {
    /// Keep the token in this run's memory only
    #[arg(long, conflicts_with = "cache")]
    no_cache: bool,
    /// Where to keep tokens: file, file:/DIR, redis://HOST:PORT/DB,
    /// rediss://..., memory [default: file, in $XDG_CACHE_HOME/bearer or
    /// ~/.cache/bearer]
    #[arg(long, value_name = "WHERE")]
    cache: Option<String>,
}

#[derive(Subcommand)]
enum CacheAction {
    /// List the entries: name, tier, expires in
    List {
        /// The store to look in [default: $BEARER_CACHE, else file]
        #[arg(long, value_name = "WHERE")]
        cache: Option<String>,
    },
    /// Remove every entry
    Clear {
        /// The store to clear [default: $BEARER_CACHE, else file]
        #[arg(long, value_name = "WHERE")]
        cache: Option<String>,
    },
}

#[derive(Args)]
struct LoginArgs {
    #[command(flatten)]
    source: Source,
    /// How long to wait for the browser to come back
    #[arg(long = "timeout", value_name = "SECONDS", default_value_t = LOGIN_TIMEOUT_SECONDS)]
    timeout_seconds: u64,
    /// Only print the URL; do not open a browser
    #[arg(long)]
    no_browser: bool,
    /// Sign in on another device (RFC 8628): print a code and the URL to
    /// enter it at, then wait until it is approved or expires (--timeout
    /// does not apply: the code's lifetime does)
    #[arg(long)]
    device: bool,
}

#[derive(Args)]
struct ServeArgs {
    /// The HTTP port on 127.0.0.1 (0: any free port)
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    port: u16,
    /// A PEM certificate chain: serve HTTPS too (with --tls-key)
    #[arg(long, value_name = "PEM", requires = "tls_key", value_hint = ValueHint::FilePath)]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, value_name = "PEM", requires = "tls_cert", value_hint = ValueHint::FilePath)]
    tls_key: Option<PathBuf>,
    /// The HTTPS port on 127.0.0.1 [default: any free port]
    #[arg(long, value_name = "PORT", requires = "tls_cert")]
    tls_port: Option<u16>,
}

/// What `token` and `header` print.
#[derive(Clone, Copy)]
enum Shown {
    AccessToken,
    TokenJson,
    Header,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage(&error),
    };
    match cli.command {
        Command::Token {
            source,
            cache,
            json,
        } => print_token(
            &source,
            &cache,
            if json {
                Shown::TokenJson
            } else {
                Shown::AccessToken
            },
        ),
        Command::Header { source, cache } => print_token(&source, &cache, Shown::Header),
        Command::Refused { source, cache } => refused(&source, &cache),
        Command::Cache { action } => cache_command(&action),
        Command::Login(options) => login(&options),
        Command::Demo => demo(),
        Command::Serve(options) => serve(&options),
        Command::Version => {
            println!("bearer {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "bearer", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man => {
            let mut out = std::io::stdout().lock();
            match clap_mangen::Man::new(Cli::command()).render(&mut out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("bearer man: {error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `--help` and `--version` are answers, on stdout; anything else clap
/// stopped at is wrong usage, on stderr with clap's hint.
fn usage(error: &clap::Error) -> ExitCode {
    // Nothing better to do if the terminal is gone.
    let _ = error.print();
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
        _ => ExitCode::from(USAGE_EXIT),
    }
}

fn print_token(source: &Source, cache: &CacheChoice, shown: Shown) -> ExitCode {
    let result = read_credentials(source).and_then(|config_json| {
        let client = Client::from_json(&with_cache(&config_json, cache))?;
        let token = client.token()?;
        Ok(match shown {
            Shown::Header => token.authorization_header(),
            Shown::TokenJson => token.to_json(),
            Shown::AccessToken => token.access_token.clone(),
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

fn refused(source: &Source, cache: &CacheChoice) -> ExitCode {
    if source.credentials == Path::new("-") {
        eprintln!("bearer refused: the token comes on standard input; give --credentials a file");
        return ExitCode::from(USAGE_EXIT);
    }
    let result = read_credentials(source).and_then(|config_json| {
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin()
            .read_to_string(&mut line)
            .map_err(|error| {
                Problem::new(
                    ProblemKind::InvalidArgument,
                    format!("the token cannot be read from standard input: {error}"),
                )
            })?;
        let line = line.trim();
        // A header value's token follows its scheme.
        let token = line.rsplit_once(' ').map_or(line, |(_, token)| token);
        let client = Client::from_json(&with_cache(&config_json, cache))?;
        client.token_refused(token)
    });
    match result {
        Ok(refusal) => {
            println!(
                "{}",
                match refusal {
                    Refusal::Dropped => "dropped",
                    Refusal::NotCurrent => "not current",
                    Refusal::TooSoon => "too soon",
                }
            );
            ExitCode::SUCCESS
        }
        Err(problem) => fail(&problem),
    }
}

/// The credentials JSON, with `--token-url` applied.
fn read_credentials(source: &Source) -> Result<String, Problem> {
    let path = &source.credentials;
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(path).map(|content| text = content)
    };
    read.map_err(|error| {
        Problem::new(
            ProblemKind::InvalidConfig,
            format!(
                "the credentials file \"{}\" cannot be read: {error}",
                path.display()
            ),
        )
    })?;
    let Some(token_url) = &source.token_url else {
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

/// The credentials JSON with the store to use: `--no-cache` or `--cache`;
/// else the file's own `cache` key or `BEARER_CACHE`; else the host tier,
/// so that a shell loop asks the provider once per token lifetime.
fn with_cache(config_json: &str, choice: &CacheChoice) -> String {
    let chosen = match (&choice.cache, choice.no_cache) {
        (Some(value), _) => Some(value.clone()),
        (None, true) => Some("memory".to_owned()),
        (None, false) if std::env::var_os(CACHE_ENV).is_some_and(|v| !v.is_empty()) => None,
        (None, false) => default_folder().map(|_| "file".to_owned()),
    };
    match (serde_json::from_str::<Value>(config_json), chosen) {
        (Ok(Value::Object(mut members)), Some(chosen))
            if choice.cache.is_some() || choice.no_cache || !members.contains_key("cache") =>
        {
            members.insert("cache".into(), chosen.into());
            Value::Object(members).to_string()
        }
        // Otherwise as written: the library reports what is wrong with it.
        _ => config_json.to_owned(),
    }
}

/// `bearer cache list|clear`.
fn cache_command(action: &CacheAction) -> ExitCode {
    let (CacheAction::List { cache } | CacheAction::Clear { cache }) = action;
    let setting = match cache {
        Some(value) => CacheSetting::parse(value, "--cache"),
        None => CacheSetting::from_env().map(|setting| match setting {
            CacheSetting::Memory => {
                default_folder().map_or(CacheSetting::Memory, CacheSetting::File)
            }
            other => other,
        }),
    };
    let store = match setting.and_then(|setting| bearer::shared::open(&setting)) {
        Ok(Some(store)) => store,
        Ok(None) => {
            println!("memory: nothing is kept between runs");
            return ExitCode::SUCCESS;
        }
        Err(problem) => return fail(&problem),
    };
    let outcome = match action {
        CacheAction::List { .. } => store.list().map(|entries| {
            let now = bearer::token::unix_now();
            for entry in &entries {
                let expires = match entry.expires_at {
                    Some(at) if at > now => format!("expires in {} s", at - now),
                    Some(_) => "expired".to_owned(),
                    None => "no expiry".to_owned(),
                };
                println!(
                    "{}  {}  {expires}",
                    &entry.name[..16.min(entry.name.len())],
                    store.describe()
                );
            }
            eprintln!("{} entries in {}", entries.len(), store.describe());
        }),
        CacheAction::Clear { .. } => store
            .clear()
            .map(|removed| println!("removed {removed} entries from {}", store.describe())),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => fail(&problem),
    }
}

fn login(options: &LoginArgs) -> ExitCode {
    if options.device {
        return device_login(options);
    }
    let result = read_credentials(&options.source).and_then(|text| {
        let config = Config::from_json_for(&text, Grant::AuthorizationCode)?;
        let login = LoopbackLogin::start(config)?;
        let timeout = options.timeout_seconds;
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
    print_token_response(result)
}

/// A sign-in's outcome: the token response on stdout, or the problem.
fn print_token_response(result: Result<bearer::Token, Problem>) -> ExitCode {
    match result {
        Ok(token) => {
            println!("{}", token.to_json());
            ExitCode::SUCCESS
        }
        Err(problem) => fail(&problem),
    }
}

/// `bearer login --device`: the code and URL on stderr, the token response
/// on stdout once approved.
fn device_login(options: &LoginArgs) -> ExitCode {
    let result = read_credentials(&options.source).and_then(|text| {
        let mut config = Config::from_json_for(&text, Grant::DeviceCode)?;
        config.grant = Grant::DeviceCode;
        let login = DeviceLogin::start(config)?;
        eprintln!(
            "On any device, open\n  {}\nand enter the code\n  {}\nWaiting up to {} s for it to be approved ...",
            login.verification_uri, login.user_code, login.expires_in
        );
        if let Some(complete) = &login.verification_uri_complete
            && !options.no_browser
        {
            open_browser(complete);
        }
        login.poll()
    });
    print_token_response(result)
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

/// A server that cannot start is a failure exit (clap has checked that
/// the certificate and key come together).
fn serve(options: &ServeArgs) -> ExitCode {
    let port = options.port;
    let started = match options.tls_cert.as_ref().zip(options.tls_key.as_ref()) {
        None => LocalAuthServer::start_on(port),
        Some((cert, key)) => {
            let read = |path: &Path| {
                std::fs::read(path)
                    .map_err(|error| format!("cannot read \"{}\": {error}", path.display()))
            };
            let (cert_pem, key_pem) = match (read(cert), read(key)) {
                (Ok(cert_pem), Ok(key_pem)) => (cert_pem, key_pem),
                (Err(error), _) | (_, Err(error)) => {
                    eprintln!("bearer serve: {error}");
                    return ExitCode::FAILURE;
                }
            };
            let tls_port = options.tls_port.unwrap_or(0);
            LocalAuthServer::start_tls_on(port, tls_port, &cert_pem, &key_pem)
        }
    };
    let server = match started {
        Ok(server) => server,
        Err(error) => {
            eprintln!("bearer serve: cannot serve on 127.0.0.1: {error}");
            return ExitCode::FAILURE;
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
        println!("mutual-TLS listening on {}", server.mtls_base_url());
    }
    let _ = std::io::stdout().flush();
    server.serve_forever();
    ExitCode::SUCCESS
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
