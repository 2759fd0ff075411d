//! The fleet tier: processes of several hosts share a token through one
//! Redis, and fall back to each host's files when Redis is down. Every
//! process is a real `bearer` run, every host a folder of its own
//! (`XDG_CACHE_HOME`), and the Redis a real `redis-server` on a free
//! loopback port, stopped by its PID when the test ends.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bearer::Secret;
use bearer::local_server;
use bearer::shared::SharedStore;
use bearer::shared::fleet::FleetStore;
use common::*;
use serde_json::Value;

/// A `redis-server` of the test's own; killed by its PID when dropped.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start() -> RedisServer {
        RedisServer::start_on(free_port())
    }

    fn start_on(port: u16) -> RedisServer {
        RedisServer::start_with(port, &[])
    }

    /// Waits for the server's "Ready to accept connections", then for PING.
    fn start_with(port: u16, extra: &[&str]) -> RedisServer {
        let mut child = Command::new("redis-server")
            .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (apt-get install redis-server)");
        let stdout = child.stdout.take().unwrap();
        let server = RedisServer { child, port };
        let (ready, seen) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("Ready to accept connections") {
                    let _ = ready.send(());
                }
            }
        });
        seen.recv_timeout(Duration::from_secs(10))
            .expect("redis-server is ready within 10 s");
        assert_eq!(server.command(&["PING"]), "+PONG");
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// One command's first reply line, over a raw socket (inline protocol).
    fn command(&self, args: &[&str]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .write_all(format!("{}\r\n", args.join(" ")).as_bytes())
            .unwrap();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).unwrap();
        line.trim_end().to_owned()
    }

    /// A connection for the test to look with; no answer waited on long.
    fn client(&self) -> redis::Connection {
        let connection = redis::Client::open(self.url())
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(5))
            .unwrap();
        connection
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        connection
    }

    fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg("*")
            .query(&mut self.client())
            .unwrap();
        keys.sort();
        keys
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A host: a cache home of its own, so a host tier of its own.
struct Host(PathBuf);

impl Host {
    fn new(test: &str, n: usize) -> Host {
        let path = test_cache_home().join(format!("redis-{test}-{n}"));
        let _ = std::fs::remove_dir_all(&path);
        Host(path)
    }

    /// The host tier's entries (not their locks).
    fn entries(&self) -> usize {
        std::fs::read_dir(self.0.join("bearer"))
            .map(|read| {
                read.flatten()
                    .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "entry"))
                    .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts `bearer token` on `config`, on `host`, with the fleet tier at `url`.
fn spawn_token(config: &Value, host: &Host, url: &str) -> Child {
    spawn_with_stdin(
        bearer_command().env("XDG_CACHE_HOME", &host.0).args([
            "token",
            "--credentials",
            "-",
            "--cache",
            url,
        ]),
        &config.to_string(),
    )
}

/// Starts `per_host` processes on each host at once; their tokens.
fn run_together(config: &Value, hosts: &[Host], per_host: usize, url: &str) -> Vec<String> {
    let children: Vec<Child> = hosts
        .iter()
        .flat_map(|host| (0..per_host).map(move |_| spawn_token(config, host, url)))
        .collect();
    children
        .into_iter()
        .map(|child| token_line(&child.wait_with_output().unwrap()))
        .collect()
}

/// Polls `done` every few milliseconds for at most `limit`.
fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn twenty_four_processes_on_three_hosts_started_together_ask_once() {
    let redis = RedisServer::start();
    let server = server();
    let config = with_query(auth0_config(&server), "stall_ms=400");
    let hosts: Vec<Host> = (0..3).map(|n| Host::new("economy", n)).collect();
    let tokens = run_together(&config, &hosts, 8, &redis.url());
    assert_eq!(server.auth0_requests(), 1, "one fetch for the fleet");
    assert!(tokens.iter().all(|token| *token == tokens[0]));
    assert!(
        hosts.iter().all(|host| host.entries() == 0),
        "Redis answered: nothing in the host tiers"
    );
    let keys = redis.keys();
    assert_eq!(keys.len(), 1, "one entry, its lock released: {keys:?}");
    assert!(keys[0].starts_with("bearer:v1:"), "{keys:?}");
}

#[test]
fn with_redis_down_each_host_asks_once_and_when_it_is_back_the_fleet_asks_once() {
    let redis = RedisServer::start();
    let (port, url) = (redis.port, redis.url());
    drop(redis);
    let server = server();
    let config = with_query(auth0_config(&server), "stall_ms=400");
    let hosts: Vec<Host> = (0..3).map(|n| Host::new("outage", n)).collect();
    let started = Instant::now();
    let tokens = run_together(&config, &hosts, 4, &url);
    assert_eq!(tokens.len(), 12, "every process got a token");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "within the deadline"
    );
    let during = server.auth0_requests();
    assert!(
        (1..=3).contains(&during),
        "at most one request per host: {during}"
    );
    assert!(
        hosts.iter().all(|host| host.entries() == 1),
        "host tiers kept it"
    );

    // Back (a new server on the same port): new processes use it at once.
    let redis = RedisServer::start_on(port);
    let more: Vec<Host> = (0..2).map(|n| Host::new("outage-after", n)).collect();
    let tokens = run_together(&config, &more, 4, &url);
    assert_eq!(
        server.auth0_requests(),
        during + 1,
        "once for the fleet again"
    );
    assert!(tokens.iter().all(|token| *token == tokens[0]));
    assert!(more.iter().all(|host| host.entries() == 0));
    assert_eq!(redis.keys().len(), 1);
}

#[test]
fn a_lock_holder_killed_mid_fetch_holds_the_others_back_for_its_lease_at_most() {
    let redis = RedisServer::start();
    let server = server();
    let host = Host::new("killed", 0);
    // The holder's lease is its timeout plus 2 s: 3.5 s. The same token
    // URL for both (it is part of the entry's name), so each fetch stalls.
    let lease = Duration::from_millis(3500);
    let fetch = Duration::from_secs(3);
    let config = with_query(auth0_config(&server), "stall_ms=3000");
    let mut holder = spawn_token(
        &with(config.clone(), "timeout_ms", 1500),
        &host,
        &redis.url(),
    );
    wait_for(Duration::from_secs(5), "the holder's request", || {
        server.auth0_requests() == 1
    });
    let locks: Vec<String> = redis
        .keys()
        .into_iter()
        .filter(|key| key.ends_with(":lock"))
        .collect();
    assert_eq!(locks.len(), 1, "the holder's lock");
    holder.kill().unwrap();
    let killed = Instant::now();
    let _ = holder.wait();

    // A patient process: its wait outlasts the dead holder's lease.
    let next = with(config, "timeout_ms", 8000);
    let token = token_line(
        &spawn_token(&next, &host, &redis.url())
            .wait_with_output()
            .unwrap(),
    );
    let waited = killed.elapsed();
    assert!(!token.is_empty());
    assert!(waited > lease, "the lease held it back: {waited:?}");
    assert!(
        waited < lease + fetch + Duration::from_millis(1500),
        "within the lease plus one fetch: {waited:?}"
    );
    assert_eq!(server.auth0_requests(), 2);
}

#[test]
fn what_redis_holds_shows_neither_the_token_nor_the_secret_nor_the_client_id() {
    let redis = RedisServer::start();
    let server = server();
    let host = Host::new("nothing-in-clear", 0);
    let config = auth0_config(&server);
    let token = token_line(
        &spawn_token(&config, &host, &redis.url())
            .wait_with_output()
            .unwrap(),
    );
    let keys = redis.keys();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let value: Vec<u8> = redis::cmd("GET")
        .arg(&keys[0])
        .query(&mut redis.client())
        .unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&keys[0])
        .query(&mut redis.client())
        .unwrap();
    assert!(ttl > 0, "kept for the token's lifetime: {ttl}");
    for secret in [
        token.as_str(),
        &token[..20],
        local_server::AUTH0_CLIENT_SECRET,
        local_server::AUTH0_CLIENT_ID,
    ] {
        assert!(!keys[0].contains(secret), "{}", keys[0]);
        assert!(
            !value.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the value"
        );
    }

    // A wrong secret has an entry of its own: it cannot read this one, so
    // it asks, is refused, and leaves this one as it was.
    let wrong = with(config, "client_secret", "not-the-secret");
    let output = spawn_token(&wrong, &host, &redis.url())
        .wait_with_output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(server.auth0_requests(), 2, "it asked: no token for it here");
    assert_eq!(redis.keys(), keys);
    let after: Vec<u8> = redis::cmd("GET")
        .arg(&keys[0])
        .query(&mut redis.client())
        .unwrap();
    assert_eq!(after, value);
}

#[test]
fn cache_list_and_clear_work_on_redis() {
    let redis = RedisServer::start();
    let server = server();
    let host = Host::new("list-clear", 0);
    let token = token_line(
        &spawn_token(&auth0_config(&server), &host, &redis.url())
            .wait_with_output()
            .unwrap(),
    );
    let list = bearer_command()
        .env("XDG_CACHE_HOME", &host.0)
        .args(["cache", "list", "--cache", &redis.url()])
        .output()
        .unwrap();
    assert!(list.status.success());
    let listed = String::from_utf8(list.stdout).unwrap();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("expires in"), "{listed}");
    assert!(listed.contains(&redis.url()), "{listed}");
    assert!(!listed.contains(&token[..20]), "{listed}");
    let clear = bearer_command()
        .env("XDG_CACHE_HOME", &host.0)
        .args(["cache", "clear", "--cache", &redis.url()])
        .output()
        .unwrap();
    assert!(clear.status.success());
    assert!(
        String::from_utf8(clear.stdout)
            .unwrap()
            .contains("removed 1 entries"),
    );
    assert!(redis.keys().is_empty());

    // Down: said so, not shown the host's files instead.
    let url = redis.url();
    drop(redis);
    let mut down = bearer_command()
        .env("XDG_CACHE_HOME", &host.0)
        .args(["cache", "list", "--cache", &url])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    down.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!down.wait().unwrap().success());
    assert!(stderr.contains("Redis"), "{stderr}");
}

#[test]
fn a_redis_that_never_answers_costs_a_bounded_wait_then_the_host_tier_serves() {
    // Connections are accepted (by the kernel) and never answered.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}/0", silent.local_addr().unwrap());
    let server = server();
    let hosts = [Host::new("silent", 0)];
    let started = Instant::now();
    let tokens = run_together(&auth0_config(&server), &hosts, 4, &url);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded: {:?}",
        started.elapsed()
    );
    assert!(tokens.iter().all(|token| *token == tokens[0]));
    assert_eq!(server.auth0_requests(), 1, "the host tier's lock held");
    assert_eq!(hosts[0].entries(), 1);
}

/// What `INFO stats` says of `field`.
fn stat(connection: &mut redis::Connection, field: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg("stats").query(connection).unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in {info}"))
}

/// The store a `redis://` setting opens, with `host`'s host tier.
fn fleet_store(redis: &RedisServer, host: &Host) -> FleetStore {
    FleetStore::open(&Secret::new(redis.url()), Some(host.0.join("bearer"))).unwrap()
}

#[test]
fn a_forked_child_connects_on_its_own_and_leaves_the_parents_connection_be() {
    let redis = RedisServer::start();
    let host = Host::new("fork", 0);
    let store = fleet_store(&redis, &host);
    let name = "ef".repeat(32);
    store
        .save(&name, b"sealed bytes", Duration::from_secs(60))
        .unwrap();
    let mut watcher = redis.client();
    let before = stat(&mut watcher, "total_connections_received");
    // SAFETY: the child only makes store calls and then _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let seen = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.load(&name).ok().flatten()
        }));
        let code = match seen {
            Ok(Some(bytes)) if bytes == b"sealed bytes" => 0,
            _ => 1,
        };
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    let after = stat(&mut watcher, "total_connections_received");
    assert_eq!(after, before + 1, "the child made a connection of its own");
    assert_eq!(
        store.load(&name).unwrap().as_deref(),
        Some(&b"sealed bytes"[..]),
        "the parent's connection still answers in step"
    );
    assert_eq!(
        stat(&mut watcher, "total_connections_received"),
        after,
        "over the connection it had"
    );
    assert_eq!(host.entries(), 0);
}

#[test]
fn a_lock_whose_lease_ran_out_is_not_released_over_its_next_holder() {
    let redis = RedisServer::start();
    let host = Host::new("lease", 0);
    let store = fleet_store(&redis, &host);
    let name = "0a".repeat(32);
    let lock_key = format!("bearer:v1:{name}:lock");
    let first = store
        .lock(&name, Duration::ZERO, Duration::from_millis(100))
        .unwrap()
        .expect("free");
    assert!(
        store
            .lock(&name, Duration::ZERO, Duration::from_secs(5))
            .unwrap()
            .is_none(),
        "held"
    );
    // Waits for the lease to run out, then takes the lock again.
    let second = store
        .lock(&name, Duration::from_secs(5), Duration::from_secs(5))
        .unwrap()
        .expect("free once the lease ran out");
    drop(first);
    let exists: u64 = redis::cmd("EXISTS")
        .arg(&lock_key)
        .query(&mut redis.client())
        .unwrap();
    assert_eq!(
        exists, 1,
        "the first holder's release left the second's lock"
    );
    drop(second);
    let exists: u64 = redis::cmd("EXISTS")
        .arg(&lock_key)
        .query(&mut redis.client())
        .unwrap();
    assert_eq!(exists, 0, "released");
    assert_eq!(host.entries(), 0);
}

#[test]
fn a_connection_the_server_closed_is_replaced_not_taken_for_an_outage() {
    let redis = RedisServer::start();
    let port = redis.port;
    let host = Host::new("restart", 0);
    let store = fleet_store(&redis, &host);
    let name = "1b".repeat(32);
    assert!(
        store.load(&name).unwrap().is_none(),
        "a connection is idle now"
    );
    drop(redis);
    let redis = RedisServer::start_on(port);
    store
        .save(&name, b"sealed bytes", Duration::from_secs(60))
        .unwrap();
    assert_eq!(
        redis.keys(),
        [format!("bearer:v1:{name}")],
        "saved in Redis"
    );
    assert_eq!(host.entries(), 0, "not in the host tier");
}

#[test]
fn rediss_checks_the_servers_certificate_and_falls_back_when_it_is_not_trusted() {
    // TLS on one port, with a certificate of the test CA (not a public
    // root); plain text on another, for the test to look.
    let tls_port = free_port();
    let redis = RedisServer::start_with(
        free_port(),
        &[
            "--tls-port",
            &tls_port.to_string(),
            "--tls-cert-file",
            &tls_file("server.pem"),
            "--tls-key-file",
            &tls_file("server.key"),
            "--tls-ca-cert-file",
            &tls_file("ca.pem"),
            "--tls-auth-clients",
            "no",
        ],
    );
    let server = server();
    let host = Host::new("tls", 0);
    let url = format!("rediss://127.0.0.1:{tls_port}/0");
    let token = token_line(
        &spawn_token(&auth0_config(&server), &host, &url)
            .wait_with_output()
            .unwrap(),
    );
    assert!(!token.is_empty(), "a token all the same");
    assert!(
        redis.keys().is_empty(),
        "nothing sent to an unverified server"
    );
    assert_eq!(host.entries(), 1, "the host tier kept it");
    let list = bearer_command()
        .env("XDG_CACHE_HOME", &host.0)
        .args(["cache", "list", "--cache", &url])
        .output()
        .unwrap();
    assert!(!list.status.success());
    let said = String::from_utf8_lossy(&list.stderr);
    assert!(
        said.contains(&url) && said.contains("certificate"),
        "{said}"
    );
}

#[test]
fn a_process_tries_redis_again_after_its_backoff() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let host = Host::new("backoff", 0);
    let store = FleetStore::open(&Secret::new(url), Some(host.0.join("bearer"))).unwrap();
    let name = "2c".repeat(32);
    let failed = Instant::now();
    store
        .save(&name, b"sealed bytes", Duration::from_secs(60))
        .unwrap();
    assert_eq!(host.entries(), 1, "Redis down: the host tier");
    let redis = RedisServer::start_on(port);
    // Within the first backoff (1 s), Redis is not tried.
    let name_soon = "3d".repeat(32);
    store
        .save(&name_soon, b"sealed bytes", Duration::from_secs(60))
        .unwrap();
    if failed.elapsed() < Duration::from_millis(900) {
        assert!(redis.keys().is_empty(), "tried within the backoff");
        assert_eq!(host.entries(), 2);
    }
    let name_later = "4e".repeat(32);
    wait_for(Duration::from_secs(5), "Redis used again", || {
        store
            .save(&name_later, b"sealed bytes", Duration::from_secs(60))
            .unwrap();
        !redis.keys().is_empty()
    });
    assert!(
        failed.elapsed() >= Duration::from_secs(1),
        "after the backoff"
    );
    assert_eq!(redis.keys(), [format!("bearer:v1:{name_later}")]);
}

#[test]
fn clients_of_a_fleet_refusing_one_token_cost_one_new_token() {
    let redis = RedisServer::start();
    let server = server();
    let config = with(auth0_config(&server), "cache", redis.url()).to_string();
    // Clients with memories of their own, as the fleet's processes have.
    let clients: Vec<std::sync::Arc<bearer::Client>> = (0..4)
        .map(|_| std::sync::Arc::new(bearer::Client::from_json(&config).unwrap()))
        .collect();
    let revoked = clients[0].token().unwrap().access_token.clone();
    for client in &clients {
        assert_eq!(client.token().unwrap().access_token, revoked);
    }
    let outcomes = refuse_together(&clients, &revoked, 16);
    assert_eq!(server.auth0_requests(), 2, "{outcomes:?}");
    assert_eq!(
        outcomes
            .iter()
            .filter(|(refusal, _)| refusal.dropped())
            .count(),
        1
    );
    let new = &outcomes[0].1;
    assert_ne!(*new, revoked);
    assert!(outcomes.iter().all(|(_, token)| token == new));
    // Redis holds the new token's entry and the window's marker, no lock.
    assert_eq!(redis.keys().len(), 2, "{:?}", redis.keys());
    // The fleet's window: the new token, refused at once, stays.
    assert_eq!(
        clients[1].token_refused(new).unwrap(),
        bearer::Refusal::TooSoon
    );
    assert_eq!(clients[2].token().unwrap().access_token, *new);
    assert_eq!(server.auth0_requests(), 2);
}
