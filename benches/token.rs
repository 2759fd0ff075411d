//! `cargo bench --bench token`: the figures the README reports.
//!
//! 1. A cached token through the C ABI (`bearer_client_token` plus
//!    `bearer_string_free`), ns per call: median over batches.
//! 2. A cache miss, a full fetch through the C ABI over a kept-alive
//!    loopback connection to the local authorization server, µs per fetch,
//!    beside a raw-socket HTTP floor: the same request bytes written to a
//!    plain `TcpStream` and the answer read by Content-Length, against the
//!    same server. The two alternate request by request.
//!
//! 3. The fork check alone: one `PerProcess::get` of a value made in this
//!    process, the check the cache makes on every cached get, measured
//!    beside (1) so that the two share the run's conditions.
//!
//! 4. The host tier: a memory hit of a client whose `cache` is a folder,
//!    beside (1), which must stay within 10 % of it; and a host-tier hit
//!    with an empty memory tier (the entry read, opened and parsed), µs.
//!
//! 5. The fleet tier, when `redis-server` is installed: a Redis-tier hit
//!    with an empty memory tier beside a plain Redis `GET` of a value of
//!    the same size on one connection, both against a `redis-server` this
//!    run starts on a free loopback port.
//! 6. Economy: token requests the local server counts for what users run:
//!    the seed's shell loop (`bearer token` 20 times), 8 forked worker
//!    processes making 5 one-shot calls each, and 3 hosts of 4 such
//!    workers, per tier.
//!
//! Targets: cached get <= 100 ns; fork check a few ns; miss <= 1.3 x the
//! floor; memory hit with a host tier within 1.1 x of (1); host-tier hit
//! <= 25 µs.

use std::ffi::{CString, c_char};
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::ptr;
use std::time::{Duration, Instant};

use bearer::ffi::{
    BearerClient, BearerStatus, bearer_client_free, bearer_client_new, bearer_client_token,
    bearer_string_free,
};
use bearer::fork::PerProcess;
use bearer::local_server::{self, LocalAuthServer};
use bearer::{CacheKey, Client, Config, Token, TokenCache};
use serde_json::json;
use std::sync::Arc;

const CACHED_BATCHES: usize = 201;
const CACHED_BATCH_CALLS: u32 = 10_000;
const MISS_FETCHES: usize = 3000;

fn main() {
    let server = LocalAuthServer::start().expect("the local server starts");
    let cached = cached_get_ns(&server, &auth0_config(server.auth0_token_url()));
    let folder = std::env::temp_dir().join(format!("bearer-bench-{}", std::process::id()));
    let mut with_file_tier = auth0_config(format!("{}?tier=file", server.auth0_token_url()));
    with_file_tier["cache"] = format!("file:{}", folder.display()).into();
    let cached_file_tier = cached_get_ns(&server, &with_file_tier);
    let host_hit = host_tier_hit_us(&with_file_tier);
    let _ = std::fs::remove_dir_all(&folder);
    let redis = Redis::start();
    let fleet = redis.as_ref().map(|redis| {
        let mut config = auth0_config(format!("{}?tier=redis", server.auth0_token_url()));
        config["cache"] = redis.url().into();
        Handle::new(&config).token(); // stores the entry
        let hit = host_tier_hit_us(&config);
        (hit, redis.plain_get_us())
    });
    let fork_check = fork_check_ns();
    let (miss, floor) = miss_and_floor_us(&server);
    let economy = economy(&server, redis.as_ref());
    let ratio = miss / floor;

    println!(
        "bearer {} benchmark (release build, loopback)",
        env!("CARGO_PKG_VERSION")
    );
    println!(
        "cached get via C ABI:      {cached:8.1} ns/call  (median of {CACHED_BATCHES} batches of {CACHED_BATCH_CALLS}; target <= 100 ns: {})",
        verdict(cached <= 100.0)
    );
    println!(
        "  ... client with host tier:{cached_file_tier:7.1} ns/call  ({:.2} x; target <= 1.10 x: {})",
        cached_file_tier / cached,
        verdict(cached_file_tier <= 1.1 * cached)
    );
    println!(
        "host-tier hit, memory empty:{host_hit:7.1} us/call  (median of {HOST_HITS}; target <= 25 us: {})",
        verdict(host_hit <= 25.0)
    );
    match fleet {
        Some((hit, get)) => println!(
            "redis-tier hit, memory empty:{hit:6.1} us/call  (plain GET {get:.1} us: {:.2} x; target <= 1.50 x: {})",
            hit / get,
            verdict(hit <= 1.5 * get)
        ),
        None => println!("redis-tier hit:            skipped (no redis-server on PATH)"),
    }
    println!(
        "fork check (PerProcess):   {fork_check:8.1} ns/call  (median of {CACHED_BATCHES} batches of {CACHED_BATCH_CALLS}; target a few ns: {})",
        verdict(fork_check <= 5.0)
    );
    println!(
        "cache-miss fetch via C ABI:{miss:8.1} us/fetch (median of {} fetches)",
        MISS_FETCHES
    );
    println!(
        "raw-socket HTTP floor:     {floor:8.1} us/req   (median of {} requests)",
        MISS_FETCHES
    );
    println!(
        "miss / floor:              {ratio:8.2} x        (target <= 1.30 x: {})",
        verdict(ratio <= 1.3)
    );
    println!("token requests (goal 1 with a shared tier):");
    for (what, counts) in economy {
        let counts: Vec<String> = ["memory", "file", "redis"]
            .iter()
            .zip(counts)
            .map(|(tier, count)| format!("{tier} {count:>3}"))
            .collect();
        println!("  {what:<46} {}", counts.join("   "));
    }
}

/// What each workload costs the identity provider, in requests, per tier:
/// memory only, the host tier (a folder per host), Redis (when running).
fn economy(server: &LocalAuthServer, redis: Option<&Redis>) -> Vec<(&'static str, Vec<u64>)> {
    let folder = std::env::temp_dir().join(format!("bearer-economy-{}", std::process::id()));
    let workloads: [(&'static str, usize, usize, usize, bool); 3] = [
        ("shell loop: bearer token x 20", 1, 20, 1, true),
        ("8 forked workers x 5 one-shot calls", 1, 8, 5, false),
        (
            "3 hosts x 4 forked workers x 5 one-shot calls",
            3,
            4,
            5,
            false,
        ),
    ];
    let mut tiers = vec!["memory".to_owned(), "file".to_owned()];
    tiers.extend(redis.map(Redis::url));
    let mut rows = Vec::new();
    for (row, (what, hosts, workers, calls, cli)) in workloads.into_iter().enumerate() {
        let mut counts = Vec::new();
        for (column, tier) in tiers.iter().enumerate() {
            let url = format!("{}?economy={row}-{column}", server.auth0_token_url());
            let config_for = |host: usize| {
                let mut config = auth0_config(url.clone());
                config["cache"] = match tier.as_str() {
                    "file" => format!("file:{}/host-{row}-{host}", folder.display()),
                    other => other.to_owned(),
                }
                .into();
                config.to_string()
            };
            let before = server.auth0_requests();
            if cli {
                for _ in 0..workers {
                    run_cli(&config_for(0));
                }
            } else {
                let configs: Vec<String> = (0..hosts).map(config_for).collect();
                fork_workers(&configs, workers, calls);
            }
            counts.push(server.auth0_requests() - before);
        }
        rows.push((what, counts));
    }
    let _ = std::fs::remove_dir_all(&folder);
    rows
}

/// One `bearer token` run on `config`.
fn run_cli(config: &str) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bearer"))
        .args(["token", "--credentials", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("bearer starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(config.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

/// `workers` forked processes per configuration (a host each), started
/// together, each making `calls` one-shot calls.
fn fork_workers(configs: &[String], workers: usize, calls: usize) {
    let mut children = Vec::new();
    for config in configs {
        for _ in 0..workers {
            // SAFETY: the child makes bearer calls and _exits.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                let ok = (0..calls).all(|_| bearer::fetch_token(config).is_ok());
                // SAFETY: ends the child without the parent's destructors.
                unsafe { libc::_exit(i32::from(!ok)) };
            }
            children.push(pid);
        }
    }
    for pid in children {
        let mut status = 0;
        // SAFETY: waits for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    }
}

/// A `redis-server` of this run's own, on a free loopback port.
struct Redis {
    child: std::process::Child,
    port: u16,
}

impl Redis {
    fn start() -> Option<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let mut child = std::process::Command::new("redis-server")
            .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        let stdout = child.stdout.take()?;
        let mut lines = BufReader::new(stdout).lines();
        lines
            .find(|line| {
                line.as_ref()
                    .is_ok_and(|line| line.contains("Ready to accept connections"))
            })?
            .ok()?;
        std::thread::spawn(move || lines.for_each(drop));
        Some(Redis { child, port })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// A plain `GET` of a value as large as the stored entry, on one
    /// connection: the floor of a Redis-tier hit.
    fn plain_get_us(&self) -> f64 {
        let client = redis::Client::open(self.url()).unwrap();
        let mut connection = client.get_connection().unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("bearer:v1:*")
            .query(&mut connection)
            .unwrap();
        let entry = keys.iter().find(|key| !key.ends_with(":lock")).unwrap();
        let size: usize = redis::cmd("STRLEN")
            .arg(entry)
            .query(&mut connection)
            .unwrap();
        let _: () = redis::cmd("SET")
            .arg("bench:plain")
            .arg(vec![7u8; size])
            .query(&mut connection)
            .unwrap();
        let mut per_call: Vec<f64> = (0..HOST_HITS)
            .map(|_| {
                let started = Instant::now();
                let value: Vec<u8> = redis::cmd("GET")
                    .arg("bench:plain")
                    .query(&mut connection)
                    .unwrap();
                black_box(value);
                micros(started.elapsed())
            })
            .collect();
        median(&mut per_call)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

struct Handle(*mut BearerClient);

impl Handle {
    fn new(config: &serde_json::Value) -> Handle {
        let config = CString::new(config.to_string()).unwrap();
        let mut client = ptr::null_mut();
        let status = unsafe { bearer_client_new(config.as_ptr(), &mut client, ptr::null_mut()) };
        assert_eq!(status, BearerStatus::Ok);
        Handle(client)
    }

    /// One token through the C ABI, freed as a C caller would.
    #[inline(always)]
    fn token(&self) {
        let mut token: *mut c_char = ptr::null_mut();
        let status = unsafe { bearer_client_token(self.0, &mut token, ptr::null_mut()) };
        assert_eq!(status, BearerStatus::Ok);
        unsafe { bearer_string_free(token) };
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        unsafe { bearer_client_free(self.0) }
    }
}

fn auth0_config(token_url: String) -> serde_json::Value {
    json!({
        "client_id": local_server::AUTH0_CLIENT_ID,
        "client_secret": local_server::AUTH0_CLIENT_SECRET,
        "audience": local_server::DEMO_AUDIENCE,
        "grant_type": "client_credentials",
        "token_url": token_url,
    })
}

fn cached_get_ns(server: &LocalAuthServer, config: &serde_json::Value) -> f64 {
    let before = server.auth0_requests();
    let client = Handle::new(config);
    client.token(); // the one fetch; everything after is the cache
    let mut per_call: Vec<f64> = (0..CACHED_BATCHES)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..CACHED_BATCH_CALLS {
                client.token();
            }
            started.elapsed().as_nanos() as f64 / f64::from(CACHED_BATCH_CALLS)
        })
        .collect();
    assert_eq!(
        server.auth0_requests(),
        before + 1,
        "every cached get was served from the cache"
    );
    median(&mut per_call)
}

const HOST_HITS: usize = 2000;

/// A memory tier that keeps nothing, so every get reads the host tier.
struct Forgetful;

impl TokenCache for Forgetful {
    fn get(&self, _: &CacheKey) -> Option<Arc<Token>> {
        None
    }

    fn put(&self, _: CacheKey, _: Arc<Token>) {}

    fn remove_if(&self, _: &CacheKey, _: &str) -> bool {
        false
    }
}

fn host_tier_hit_us(config: &serde_json::Value) -> f64 {
    let config = Config::from_json(&config.to_string()).unwrap();
    let client = Client::with_cache(config, Arc::new(Forgetful)).unwrap();
    client.token().unwrap(); // stored by the run above already
    let mut per_call: Vec<f64> = (0..HOST_HITS)
        .map(|_| {
            let started = Instant::now();
            black_box(client.token().unwrap());
            micros(started.elapsed())
        })
        .collect();
    median(&mut per_call)
}

fn fork_check_ns() -> f64 {
    let value: PerProcess<u64> = PerProcess::new();
    let make = |_: Option<&u64>| 7;
    value.get(make);
    let mut per_call: Vec<f64> = (0..CACHED_BATCHES)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..CACHED_BATCH_CALLS {
                black_box(black_box(&value).get(make));
            }
            started.elapsed().as_nanos() as f64 / f64::from(CACHED_BATCH_CALLS)
        })
        .collect();
    median(&mut per_call)
}

fn miss_and_floor_us(server: &LocalAuthServer) -> (f64, f64) {
    // Opaque tokens carry no lifetime, so every call is a fetch.
    let url = format!("{}?opaque=1", server.auth0_token_url());
    let client = Handle::new(&auth0_config(url));
    let mut raw = RawClient::connect(server);

    let (mut miss, mut floor) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        client.token(); // connect and warm up both paths
        raw.request();
    }
    let connections_before = server.connections();
    // One of each in turn: the scheduler's mood (same core or not) then
    // falls on both alike.
    for _ in 0..MISS_FETCHES {
        let started = Instant::now();
        client.token();
        miss.push(micros(started.elapsed()));
        let started = Instant::now();
        raw.request();
        floor.push(micros(started.elapsed()));
    }
    assert_eq!(
        server.connections(),
        connections_before,
        "both paths kept their one connection alive"
    );
    (median(&mut miss), median(&mut floor))
}

/// The least an HTTP client can do: write the request, read the answer.
struct RawClient {
    reader: BufReader<TcpStream>,
    request: Vec<u8>,
    body: Vec<u8>,
}

impl RawClient {
    fn connect(server: &LocalAuthServer) -> RawClient {
        let stream = TcpStream::connect(server.addr()).unwrap();
        stream.set_nodelay(true).unwrap();
        let body = json!({
            "grant_type": "client_credentials",
            "client_id": local_server::AUTH0_CLIENT_ID,
            "client_secret": local_server::AUTH0_CLIENT_SECRET,
            "audience": local_server::DEMO_AUDIENCE,
        })
        .to_string();
        let request = format!(
            "POST /oauth/token?opaque=1 HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            server.addr(),
            body.len()
        );
        RawClient {
            reader: BufReader::new(stream),
            request: request.into_bytes(),
            body: Vec::new(),
        }
    }

    fn request(&mut self) {
        self.reader.get_mut().write_all(&self.request).unwrap();
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        self.body.resize(length, 0);
        self.reader.read_exact(&mut self.body).unwrap();
        assert!(self.body.starts_with(b"{\"access_token\""));
    }
}

fn micros(elapsed: Duration) -> f64 {
    elapsed.as_nanos() as f64 / 1000.0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
