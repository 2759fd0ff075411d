//! Many threads, one expired token, one request.

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use bearer::Client;
use common::*;

const THREADS: usize = 32;

fn all_at_once<T: Send + 'static>(work: impl Fn() -> T + Send + Sync + 'static) -> Vec<T> {
    let work = Arc::new(work);
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (work, barrier) = (work.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                work()
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect()
}

#[test]
fn thirty_two_threads_at_expiry_cause_exactly_one_request() {
    let server = server();
    let config = with_query(
        auth0_config(&server),
        "expires_in=1&fault=stall&stall_ms=100",
    );
    let client = Arc::new(Client::from_json(&config.to_string()).unwrap());
    let first = client.token().unwrap();
    assert_eq!(server.auth0_requests(), 1);

    std::thread::sleep(Duration::from_millis(1000)); // past the refresh point
    let shared = client.clone();
    let tokens = all_at_once(move || shared.token().unwrap().access_token.clone());

    assert_eq!(server.auth0_requests(), 2, "one request for 32 threads");
    assert!(tokens.iter().all(|token| *token == tokens[0]));
    assert_ne!(tokens[0], first.access_token);
}

#[test]
fn waiters_share_a_failure_too() {
    let server = server();
    let config = with(
        with_query(auth0_config(&server), "fault=stall&stall_ms=300"),
        "client_secret",
        "wrong",
    );
    let client = Arc::new(Client::from_json(&config.to_string()).unwrap());
    let problems = all_at_once(move || client.token().unwrap_err().status());
    assert!(problems.iter().all(|status| *status == 401));
    assert_eq!(server.auth0_requests(), 1, "one request for 32 threads");
}

#[test]
fn the_one_shot_call_is_single_flight_as_well() {
    let server = server();
    let config = with_query(
        auth0_config(&server),
        "fault=stall&stall_ms=200&expires_in=60",
    )
    .to_string();
    let tokens = all_at_once(move || bearer::fetch_token(&config).unwrap().access_token.clone());
    assert!(tokens.iter().all(|token| *token == tokens[0]));
    assert_eq!(server.auth0_requests(), 1);
}
