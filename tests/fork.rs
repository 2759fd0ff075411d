//! After `fork()`, a child uses none of its parent's pooled connections or
//! flights: every token a process gets is for the credentials it presented,
//! and a flight in progress in the parent does not hold the child back.
//!
//! A child runs only bearer calls and then `_exit`s with a code that says
//! what it saw: it prints nothing (a lock on stdout may have been held by
//! another test thread at the fork) and runs no destructors.

mod common;

use std::time::{Duration, Instant};

use bearer::local_server::{self, LocalAuthServer};
use bearer::{Client, Config};
use common::{exit_code, fork};
use serde_json::{Value, json};

const ROUNDS: usize = 5;
const CHILDREN: usize = 4;
const CALLS: usize = 30;

fn client_config(server: &LocalAuthServer, id: &str, secret: &str, query: &str) -> Config {
    let config = json!({
        "client_id": id,
        "client_secret": secret,
        "audience": local_server::DEMO_AUDIENCE,
        "token_url": format!("{}{query}", server.auth0_token_url()),
        "timeout_ms": 5000,
    });
    Config::from_json(&config.to_string()).unwrap()
}

fn configs(server: &LocalAuthServer) -> [(Config, &'static str); 2] {
    [
        (
            client_config(
                server,
                local_server::AUTH0_CLIENT_ID,
                local_server::AUTH0_CLIENT_SECRET,
                "",
            ),
            local_server::AUTH0_CLIENT_ID,
        ),
        (
            client_config(
                server,
                local_server::AUTH0_SECOND_CLIENT_ID,
                local_server::AUTH0_SECOND_CLIENT_SECRET,
                "",
            ),
            local_server::AUTH0_SECOND_CLIENT_ID,
        ),
    ]
}

/// Whose token it is: the local server's client tokens say `<id>@clients`.
fn holder(token: &str) -> Option<String> {
    let claims: Value = common::claims(token);
    claims["sub"]
        .as_str()?
        .strip_suffix("@clients")
        .map(str::to_owned)
}

/// `CALLS` fresh clients, alternating between the two credentials; each
/// call fetches, over whatever connection this process's pool has.
/// Returns how many calls failed or got another client's token.
fn fetch_alternating(configs: &[(Config, &'static str); 2], offset: usize) -> usize {
    (0..CALLS)
        .filter(|call| {
            let (config, id) = &configs[(call + offset) % 2];
            let outcome = Client::new(config.clone()).and_then(|client| client.token());
            !matches!(outcome, Ok(token) if holder(&token.access_token).as_deref() == Some(id))
        })
        .count()
}

#[test]
fn parent_and_children_each_get_their_own_clients_tokens_after_a_pooled_request() {
    let server = common::server();
    let configs = configs(&server);
    for round in 0..ROUNDS {
        // A kept-alive connection in the shared pool, as the fork finds it.
        let pooled = Client::new(configs[0].0.clone()).unwrap();
        pooled.token().unwrap();
        let connections_before = server.connections();

        let children: Vec<_> = (0..CHILDREN)
            .map(|child| {
                let (configs, pooled) = (&configs, &pooled);
                fork(move || {
                    // The parent's client: its token stays, its connection does not.
                    let cached = pooled.token().map(|token| token.access_token.clone());
                    let wrong = fetch_alternating(configs, child);
                    let cached_ok = cached.is_ok_and(|token| {
                        holder(&token).as_deref() == Some(local_server::AUTH0_CLIENT_ID)
                    });
                    i32::try_from(wrong).unwrap_or(100) + if cached_ok { 0 } else { 101 }
                })
            })
            .collect();
        let parent_wrong = fetch_alternating(&configs, 1);
        for pid in children {
            assert_eq!(
                exit_code(pid),
                0,
                "round {round}: a child got a failure or another client's token \
                 (101 or more: the inherited cached token was lost)"
            );
        }
        assert_eq!(
            parent_wrong, 0,
            "round {round}: the parent got a failure or another client's token"
        );
        assert!(
            server.connections() > connections_before,
            "the children made connections of their own"
        );
    }
}

#[test]
fn the_parents_pooled_connection_outlives_its_children() {
    let server = common::server();
    let config = client_config(
        &server,
        local_server::AUTH0_CLIENT_ID,
        local_server::AUTH0_CLIENT_SECRET,
        "?opaque=1",
    );
    let client = Client::new(config.clone()).unwrap();
    client.token().unwrap();
    let connections = server.connections();
    let child = fork(|| {
        // Fetches on a connection of its own, drops the client (and with it
        // the copy of the parent's socket), and exits normally.
        let child_client = Client::new(config.clone()).unwrap();
        let fetched = child_client.token().is_ok() && client.token().is_ok();
        drop(child_client);
        i32::from(!fetched)
    });
    assert_eq!(exit_code(child), 0);
    // Opaque tokens are not cached: this is a fetch, on the parent's
    // kept-alive connection, which the child neither used nor shut down.
    let before_parent = server.connections();
    client.token().unwrap();
    assert_eq!(
        server.connections(),
        before_parent,
        "the parent's pooled connection is still alive"
    );
    assert_eq!(
        before_parent,
        connections + 1,
        "the child made one connection"
    );
}

#[test]
fn a_child_forked_during_a_parent_threads_fetch_gets_its_own_token_in_time() {
    let server = common::server();
    // Each fetch takes 1.5 s; the deadline is 5 s.
    let config = client_config(
        &server,
        local_server::AUTH0_CLIENT_ID,
        local_server::AUTH0_CLIENT_SECRET,
        "?stall_ms=1500",
    );
    let client = Client::new(config).unwrap();
    std::thread::scope(|scope| {
        let in_flight = scope.spawn(|| client.token());
        let started = Instant::now();
        while server.auth0_requests() == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "no request went out"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // The parent's flight is in progress; the thread flying it does not
        // exist in the child.
        let child = fork(|| {
            let started = Instant::now();
            let got = client.token();
            let in_time = started.elapsed() < Duration::from_millis(4500);
            match got {
                Ok(token) if in_time && holder(&token.access_token).is_some() => 0,
                Ok(_) => 1,
                Err(_) => 2,
            }
        });
        assert_eq!(
            exit_code(child),
            0,
            "the child's own fetch came back with a token before its deadline"
        );
        in_flight
            .join()
            .unwrap()
            .expect("the parent's fetch lands too");
    });
    assert_eq!(server.auth0_requests(), 2, "one fetch each");
}

#[test]
fn a_child_forked_while_a_parent_thread_holds_a_shared_lock_does_not_keep_it() {
    use bearer::shared::SharedStore;
    use bearer::shared::file::FileStore;
    let server = common::server();
    let folder = common::test_cache_home().join("fork-lock");
    let _ = std::fs::remove_dir_all(&folder);
    let mut config = client_config(
        &server,
        local_server::AUTH0_CLIENT_ID,
        local_server::AUTH0_CLIENT_SECRET,
        "?stall_ms=600",
    );
    config.cache = bearer::cache_setting::CacheSetting::File(folder.clone());
    let client = Client::new(config).unwrap();
    // The child waits on this pipe, alive, until the parent has looked.
    let mut pipe = [0; 2];
    // SAFETY: a valid array of two descriptors.
    assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0);
    let child = std::thread::scope(|scope| {
        let fetching = scope.spawn(|| client.token());
        let started = Instant::now();
        while server.auth0_requests() == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "no request went out"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // The parent's thread holds the entry's lock for its fetch now.
        let child = fork(|| {
            let mut byte = 0u8;
            // SAFETY: reads one byte from the pipe into a valid buffer.
            unsafe { libc::read(pipe[0], (&mut byte as *mut u8).cast(), 1) };
            0
        });
        fetching.join().unwrap().expect("the parent's fetch lands");
        child
    });
    // The fetch is over: its lock must be free although the child lives on.
    let store = FileStore::open(&folder).unwrap();
    let names: Vec<String> = store
        .list()
        .unwrap()
        .into_iter()
        .map(|entry| entry.name)
        .collect();
    assert_eq!(names.len(), 1);
    let free = store
        .lock(&names[0], Duration::ZERO, Duration::ZERO)
        .unwrap()
        .is_some();
    // SAFETY: writes one byte to the pipe; closes our ends.
    unsafe {
        libc::write(pipe[1], b"x".as_ptr().cast(), 1);
        libc::close(pipe[0]);
        libc::close(pipe[1]);
    }
    assert_eq!(exit_code(child), 0);
    assert!(free, "the child kept the lock its parent's thread took");
    let _ = std::fs::remove_dir_all(&folder);
}
