//! The host tier: processes of one host share a token through sealed files,
//! so the identity provider is asked once per token lifetime, however many
//! processes ask. Counted by the local server; every process is a real
//! `bearer` run.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use bearer::local_server;
use bearer::{Client, ProblemKind};
use common::*;
use serde_json::Value;

/// Starts `bearer token` on `config` with the host tier in `folder`, or
/// with `extra` options instead when there are some.
fn spawn_token(config: &Value, folder: &Folder, extra: &[&str]) -> std::process::Child {
    let cache = ["--cache".to_owned(), folder.setting()];
    spawn_with_stdin(
        bearer_command()
            .args(["token", "--credentials", "-"])
            .args(if extra.is_empty() { &cache[..] } else { &[] })
            .args(extra),
        &config.to_string(),
    )
}

#[test]
fn twenty_runs_of_the_seeds_shell_loop_ask_once() {
    let server = server();
    let folder = Folder::new("twenty-runs");
    let config = auth0_config(&server);
    let tokens: Vec<String> = (0..20)
        .map(|_| {
            token_line(
                &spawn_token(&config, &folder, &[])
                    .wait_with_output()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(server.auth0_requests(), 1);
    assert!(tokens.iter().all(|token| *token == tokens[0]));

    // Memory only: one request per run.
    for _ in 0..3 {
        token_line(
            &spawn_token(&config, &folder, &["--no-cache"])
                .wait_with_output()
                .unwrap(),
        );
    }
    assert_eq!(server.auth0_requests(), 4);
}

#[test]
fn sixteen_processes_started_together_on_a_slow_endpoint_ask_once() {
    let server = server();
    let folder = Folder::new("sixteen-together");
    let config = with_query(auth0_config(&server), "stall_ms=400");
    let children: Vec<_> = (0..16)
        .map(|_| spawn_token(&config, &folder, &[]))
        .collect();
    let tokens: Vec<String> = children
        .into_iter()
        .map(|child| token_line(&child.wait_with_output().unwrap()))
        .collect();
    assert_eq!(
        server.auth0_requests(),
        1,
        "one fetch for sixteen processes"
    );
    assert!(tokens.iter().all(|token| *token == tokens[0]));
}

#[test]
fn what_is_stored_shows_neither_the_token_nor_the_secret_nor_the_client_id() {
    let server = server();
    let folder = Folder::new("nothing-in-clear");
    let token = token_line(
        &spawn_token(&auth0_config(&server), &folder, &[])
            .wait_with_output()
            .unwrap(),
    );
    let entries = folder.entries();
    assert_eq!(entries.len(), 1);
    for path in &entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        for secret in [
            token.as_str(),
            local_server::AUTH0_CLIENT_SECRET,
            local_server::AUTH0_CLIENT_ID,
            &token[..20],
        ] {
            assert!(!name.contains(secret), "{name}");
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} is in {}",
                path.display()
            );
        }
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    let folder_mode = std::fs::metadata(&folder.0).unwrap().permissions().mode() & 0o777;
    assert_eq!(folder_mode, 0o700);
}

#[test]
fn another_client_in_the_same_folder_gets_its_own_entry() {
    let server = server();
    let folder = Folder::new("two-clients");
    let first = auth0_config(&server);
    let second = with(
        with(
            first.clone(),
            "client_id",
            local_server::AUTH0_SECOND_CLIENT_ID,
        ),
        "client_secret",
        local_server::AUTH0_SECOND_CLIENT_SECRET,
    );
    let one = token_line(
        &spawn_token(&first, &folder, &[])
            .wait_with_output()
            .unwrap(),
    );
    let two = token_line(
        &spawn_token(&second, &folder, &[])
            .wait_with_output()
            .unwrap(),
    );
    assert_ne!(one, two);
    assert_eq!(server.auth0_requests(), 2);
    assert_eq!(folder.entries().len(), 2);
    // A wrong secret is refused, and stores nothing for anyone to find.
    let wrong = with(first, "client_secret", "not-the-secret");
    let output = spawn_token(&wrong, &folder, &[])
        .wait_with_output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(folder.entries().len(), 2);
}

#[test]
fn a_corrupt_truncated_or_foreign_entry_is_a_miss_and_is_overwritten() {
    let server = server();
    let folder = Folder::new("corrupt");
    let config = auth0_config(&server);
    token_line(
        &spawn_token(&config, &folder, &[])
            .wait_with_output()
            .unwrap(),
    );
    let entry = folder.entries().pop().expect("one entry");
    let sealed = std::fs::read(&entry).unwrap();
    let mut requests = 1;
    for damaged in [
        b"not a sealed entry".to_vec(),
        sealed[..sealed.len() / 2].to_vec(),
        {
            let mut flipped = sealed.clone();
            *flipped.last_mut().unwrap() ^= 1;
            flipped
        },
        Vec::new(),
    ] {
        std::fs::write(&entry, &damaged).unwrap();
        token_line(
            &spawn_token(&config, &folder, &[])
                .wait_with_output()
                .unwrap(),
        );
        requests += 1;
        assert_eq!(server.auth0_requests(), requests, "a miss");
        assert_ne!(std::fs::read(&entry).unwrap(), damaged, "overwritten");
    }
    // Overwritten with a good one: the next run asks nothing.
    token_line(
        &spawn_token(&config, &folder, &[])
            .wait_with_output()
            .unwrap(),
    );
    assert_eq!(server.auth0_requests(), requests);
}

/// The problem a run printed on stderr.
fn problem(output: &Output) -> Value {
    serde_json::from_slice(&output.stderr).unwrap_or_else(|_| {
        panic!(
            "a problem on stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn a_symlinked_entry_is_refused_with_a_clear_problem() {
    let server = server();
    let folder = Folder::new("symlink");
    let config = auth0_config(&server);
    token_line(
        &spawn_token(&config, &folder, &[])
            .wait_with_output()
            .unwrap(),
    );
    let entry = folder.entries().pop().expect("one entry");
    let elsewhere = folder.0.join("elsewhere");
    std::fs::rename(&entry, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &entry).unwrap();
    let output = spawn_token(&config, &folder, &[])
        .wait_with_output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "invalid configuration");
    let problem = problem(&output);
    assert!(
        problem["detail"].as_str().unwrap().contains("symlink"),
        "{problem}"
    );
}

#[test]
fn a_folder_others_can_write_is_refused_with_a_clear_problem() {
    let folder = Folder::new("world-writable");
    std::fs::create_dir_all(&folder.0).unwrap();
    std::fs::set_permissions(&folder.0, std::fs::Permissions::from_mode(0o777)).unwrap();
    let config = serde_json::json!({
        "client_id": "id", "client_secret": "s",
        "token_url": "http://127.0.0.1:9/oauth/token",
        "cache": folder.setting(),
    });
    let problem = Client::from_json(&config.to_string()).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidConfig);
    assert!(problem.detail().contains("writable by others"), "{problem}");
    assert!(
        problem.detail().contains(&*folder.0.to_string_lossy()),
        "{problem}"
    );
}

#[test]
fn a_folder_of_another_user_is_refused_when_the_test_can_make_one() {
    // Only root can give a folder away; elsewhere there is nothing to test.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let folder = Folder::new("foreign");
    std::fs::create_dir_all(&folder.0).unwrap();
    std::fs::set_permissions(&folder.0, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&folder.0, Some(65534), Some(65534)).unwrap();
    let config = serde_json::json!({
        "client_id": "id", "client_secret": "s",
        "token_url": "http://127.0.0.1:9/oauth/token",
        "cache": folder.setting(),
    });
    let problem = Client::from_json(&config.to_string()).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::InvalidConfig);
    assert!(problem.detail().contains("another user"), "{problem}");
}

#[test]
fn clients_of_one_process_with_their_own_memory_share_through_the_folder() {
    let server = server();
    let folder = Folder::new("library");
    let config = with(auth0_config(&server), "cache", folder.setting()).to_string();
    let first = Client::from_json(&config).unwrap().token().unwrap();
    let second = Client::from_json(&config).unwrap().token().unwrap();
    assert_eq!(first.access_token, second.access_token);
    assert_eq!(server.auth0_requests(), 1);
    // The library's default is memory: nothing is shared without asking.
    let plain = auth0_config(&server).to_string();
    Client::from_json(&plain).unwrap().token().unwrap();
    Client::from_json(&plain).unwrap().token().unwrap();
    assert_eq!(server.auth0_requests(), 3);
}

#[test]
fn cache_list_shows_entries_without_tokens_and_clear_removes_them() {
    let server = server();
    let folder = Folder::new("list-clear");
    let token = token_line(
        &spawn_token(&auth0_config(&server), &folder, &[])
            .wait_with_output()
            .unwrap(),
    );
    let list = bearer_command()
        .args(["cache", "list", "--cache", &folder.setting()])
        .output()
        .unwrap();
    let listed = String::from_utf8(list.stdout).unwrap();
    assert!(list.status.success());
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("expires in"), "{listed}");
    assert!(!listed.contains(&token[..20]), "{listed}");
    let clear = bearer_command()
        .args(["cache", "clear", "--cache", &folder.setting()])
        .output()
        .unwrap();
    assert!(clear.status.success());
    assert!(folder.entries().is_empty());
}

#[test]
fn a_retry_after_seen_by_one_process_holds_back_the_others() {
    let server = server();
    let folder = Folder::new("retry-after");
    let config = with_query(auth0_config(&server), "fault=rate_limit&retry_after=30");
    let first = spawn_token(&config, &folder, &[])
        .wait_with_output()
        .unwrap();
    assert_eq!(first.status.code(), Some(4), "rate limited");
    assert_eq!(server.auth0_requests(), 1);
    // Other processes on the host are held back without asking.
    for _ in 0..3 {
        let later = spawn_token(&config, &folder, &[])
            .wait_with_output()
            .unwrap();
        assert_eq!(later.status.code(), Some(4));
        let problem = problem(&later);
        assert_eq!(problem["type"], "urn:bearer:problem:rate-limited");
        let left = problem["extensions"]["retry_after"].as_u64().unwrap();
        assert!((1..=30).contains(&left), "{problem}");
    }
    assert_eq!(server.auth0_requests(), 1, "nobody asked again");
}

#[test]
fn sixteen_processes_asking_after_expiry_cause_one_new_request() {
    let server = server();
    let folder = Folder::new("after-expiry");
    let config = with_query(auth0_config(&server), "expires_in=2&stall_ms=300");
    let old = token_line(
        &spawn_token(&config, &folder, &[])
            .wait_with_output()
            .unwrap(),
    );
    // The token's expiry is the event this test waits for.
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let children: Vec<_> = (0..16)
        .map(|_| spawn_token(&config, &folder, &[]))
        .collect();
    let tokens: Vec<String> = children
        .into_iter()
        .map(|child| token_line(&child.wait_with_output().unwrap()))
        .collect();
    assert_eq!(server.auth0_requests(), 2, "one new request for sixteen");
    assert!(
        tokens
            .iter()
            .all(|token| *token == tokens[0] && *token != old)
    );
}

#[test]
fn forked_workers_making_one_shot_calls_ask_once_through_the_host_tier() {
    let server = server();
    let folder = Folder::new("one-shot-workers");
    let config = with(auth0_config(&server), "cache", folder.setting()).to_string();
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let config = &config;
            fork(move || {
                let tokens: Vec<_> = (0..5)
                    .filter_map(|_| bearer::fetch_token(config).ok())
                    .collect();
                i32::from(tokens.len() != 5)
            })
        })
        .collect();
    for worker in workers {
        assert_eq!(exit_code(worker), 0);
    }
    assert_eq!(
        server.auth0_requests(),
        1,
        "six workers, thirty calls, one request"
    );
}
