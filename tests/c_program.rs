//! The C test programs, built against the committed header and the built
//! library: the C program under valgrind and again under AddressSanitizer
//! and UndefinedBehaviorSanitizer (zero errors, zero leaks), and a stress
//! program, 64 threads on one client, under both.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use serde_json::Value;

/// gcc's AddressSanitizer (with LeakSanitizer, its default) and
/// UndefinedBehaviorSanitizer; any report ends the program with a failure.
const SANITIZE: &[&str] = &[
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
];

/// target/debug (or release), where cargo put libbearer.so next to this test's deps/.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>")
        .to_owned()
}

/// `cargo test` builds only the rlib; the C program needs the cdylib of
/// this very source, so build it (a no-op when it is current).
fn build_cdylib() {
    let profile = target_dir()
        .file_name()
        .expect("a profile folder")
        .to_owned();
    let mut cargo = Command::new(env!("CARGO"));
    // cargo sets these for this test, the outer cargo had none of them, and
    // ring's build script reruns when one changes: without this, this build
    // and the next outer one would each rebuild ring, rustls and bearer.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_EXE_")
            || matches!(
                &*name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_TARGET_TMPDIR"
                    | "CARGO_RUSTC_CURRENT_DIR"
                    | "OUT_DIR"
            )
        {
            cargo.env_remove(&*name);
        }
    }
    cargo.args([
        "build",
        "--lib",
        "--manifest-path",
        concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
    ]);
    if profile == "release" {
        cargo.arg("--release");
    }
    assert!(
        cargo.status().expect("cargo runs").success(),
        "cargo build --lib"
    );
}

/// Builds tests/c/`source` with `extra` flags into `output`.
fn compile(source: &str, extra: &[&str], output: &Path) {
    compile_with(source, extra, &[], output);
}

/// [`compile`], linked to `libraries` (`-lcurl`) too.
fn compile_with(source: &str, extra: &[&str], libraries: &[&str], output: &Path) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = target_dir();
    build_cdylib();
    assert!(
        target.join("libbearer.so").exists(),
        "libbearer.so is built in {}",
        target.display()
    );
    let status = Command::new("cc")
        .arg("-std=c11")
        .args(extra)
        .args([
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
            "-g",
            "-pthread",
        ])
        .arg("-I")
        .arg(root.join("include"))
        .arg(root.join("tests/c").join(source))
        .arg("-L")
        .arg(&target)
        .arg(format!("-Wl,-rpath,{}", target.display()))
        .arg("-lbearer")
        .args(libraries)
        .arg("-o")
        .arg(output)
        .status()
        .unwrap_or_else(|error| panic!("cc runs: {error}"));
    assert!(status.success(), "cc compiled tests/c/{source}");
}

/// Builds tests/c/`source` with the sanitizers into target/<profile>/`name`,
/// and fails unless the executable really calls into both runtimes: a build
/// that silently lost them would pass everything.
fn compile_sanitized(source: &str, name: &str) -> PathBuf {
    compile_sanitized_with(source, name, &[])
}

/// [`compile_sanitized`], linked to `libraries` too.
fn compile_sanitized_with(source: &str, name: &str, libraries: &[&str]) -> PathBuf {
    let program = target_dir().join(name);
    compile_with(source, SANITIZE, libraries, &program);
    let output = Command::new("nm")
        .arg("-D")
        .arg(&program)
        .output()
        .expect("nm runs (binutils comes with gcc)");
    let symbols = String::from_utf8_lossy(&output.stdout);
    assert!(
        symbols
            .lines()
            .any(|line| line.trim_end().ends_with(" __asan_init")),
        "{name} is built with AddressSanitizer:\n{symbols}"
    );
    assert!(
        symbols.contains(" __ubsan_handle_"),
        "{name} is built with UndefinedBehaviorSanitizer:\n{symbols}"
    );
    program
}

/// A sanitized program, its options set here whatever the environment
/// says: leak detection on, stop at the first report.
fn sanitized(program: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        .env_remove("LSAN_OPTIONS");
    command
}

fn run_sanitized(program: &Path, args: &[&str]) -> Output {
    sanitized(program)
        .args(args)
        .output()
        .expect("the sanitized program runs")
}

/// No sanitizer said anything.
fn assert_no_report(stderr: &str) {
    for report in ["AddressSanitizer", "LeakSanitizer", "runtime error:"] {
        assert!(!stderr.contains(report), "{stderr}");
    }
}

/// valgrind as the C programs run under it: any error or leak fails.
fn valgrind() -> Command {
    let mut valgrind = Command::new("valgrind");
    valgrind.args([
        "--quiet",
        "--error-exitcode=99",
        "--leak-check=full",
        "--show-leak-kinds=definite,indirect,possible",
        "--errors-for-leak-kinds=definite,indirect,possible",
        concat!(
            "--suppressions=",
            env!("CARGO_MANIFEST_DIR"),
            "/tests/c/valgrind.supp"
        ),
    ]);
    valgrind
}

/// The program's output, once it is known to have exited 0.
fn passed(output: &std::process::Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "status {:?}\n{stdout}\n{stderr}",
        output.status
    );
    (stdout, stderr)
}

/// The requests bearer_test.c makes, as its header comment lists them.
fn assert_c_program_requests(server: &bearer::local_server::LocalAuthServer) {
    assert_eq!(
        server.auth0_requests(),
        15,
        "one-shot, handle, wrong secret; code, same code, wrong verifier, code with the right iss, loopback, sign-in and refresh; a token and its failed refresh; the parent's, the child's and the parent's after a fork"
    );
    assert_eq!(
        server.cobuilder_requests(),
        2,
        "one-shot, and one for eight threads"
    );
}

#[test]
fn the_c_program_passes_under_valgrind_without_leaks() {
    let program = target_dir().join("bearer_c_test");
    compile("bearer_test.c", &[], &program);

    let server = common::server();
    let output = valgrind()
        .arg(&program)
        .arg(server.base_url())
        .output()
        .expect("valgrind runs (tests/run.sh installs it)");
    let (stdout, stderr) = passed(&output);
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    assert!(!stderr.contains("definitely lost"), "{stderr}");
    assert_c_program_requests(&server);
}

#[test]
fn the_c_program_passes_under_asan_and_ubsan_without_leaks() {
    let program = compile_sanitized("bearer_test.c", "bearer_c_test_sanitized");

    let server = common::server();
    let output = run_sanitized(&program, &[&server.base_url()]);
    let (stdout, stderr) = passed(&output);
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    assert_no_report(&stderr);
    assert_c_program_requests(&server);
}

/// tests/c/bearer_curl.c, the README's libcurl example: a refused token is
/// reported and the request retried once, against two local servers (two
/// origins), with a host tier in a folder of its own.
#[test]
fn the_libcurl_example_refreshes_a_refused_token_once_under_valgrind() {
    let program = target_dir().join("bearer_curl_test");
    compile_with("bearer_curl.c", &[], &["-lcurl"], &program);
    let server = common::server();
    let other_origin = common::server();
    let folder = common::test_cache_home().join("c-curl");
    let _ = std::fs::remove_dir_all(&folder);
    let output = valgrind()
        .arg(&program)
        .arg(server.base_url())
        .arg(other_origin.base_url())
        .arg(&folder)
        .output()
        .expect("valgrind runs");
    let (stdout, _) = passed(&output);
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    assert_eq!(
        server.auth0_requests(),
        10,
        "the ABI's refusal 2, the one-shot's 2, the host tier's 2, a revoked token 2, an API refusing every token 2"
    );
    assert_eq!(other_origin.auth0_requests(), 0);
    assert_eq!(other_origin.api_requests(), 1, "the redirect was followed");
    let _ = std::fs::remove_dir_all(&folder);
}

/// tests/c/bearer_auth.c: private_key_jwt, mutual TLS and the device
/// flow through the C ABI, each with its refusals, under AddressSanitizer
/// and UndefinedBehaviorSanitizer (valgrind cannot follow ring's assembly
/// in a TLS handshake's client signature, and reports its reads as
/// uninitialised).
#[test]
fn the_c_program_signs_in_without_a_secret_under_asan_and_ubsan() {
    let program = compile_sanitized_with("bearer_auth.c", "bearer_auth_sanitized", &["-lcurl"]);
    let server = common::tls_server();
    let output = run_sanitized(
        &program,
        &[
            &server.base_url(),
            &server.mtls_base_url(),
            env!("CARGO_MANIFEST_DIR"),
        ],
    );
    let (stdout, stderr) = passed(&output);
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    assert_no_report(&stderr);
    assert_eq!(
        server.auth0_requests() - server.device_polls(),
        6,
        "RS256 twice, ES256, an unknown key; a certificate, another client's"
    );
    assert!(server.device_polls() >= 3, "approved, declined, expired");
}

/// A test of the harness: built and run like the programs above, each
/// deliberate bug ends in its sanitizer's report and a failing status.
#[test]
fn the_sanitized_build_reports_a_heap_overflow_undefined_behaviour_and_a_leak() {
    let program = compile_sanitized("sanitizers_fire.c", "sanitizers_fire");
    for (bug, report) in [
        (
            "heap-overflow",
            "ERROR: AddressSanitizer: heap-buffer-overflow",
        ),
        ("undefined", "runtime error: signed integer overflow"),
        ("leak", "ERROR: LeakSanitizer: detected memory leaks"),
    ] {
        let output = run_sanitized(&program, &[bug]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{bug}: {:?}", output.status);
        assert!(stderr.contains(report), "{bug}:\n{stderr}");
    }
}

/// tests/c/bearer_stress.c, plain (for valgrind) or sanitized; built once
/// however many tests run it.
fn stress_program(sanitized: bool) -> &'static Path {
    static PLAIN: OnceLock<PathBuf> = OnceLock::new();
    static SANITIZED: OnceLock<PathBuf> = OnceLock::new();
    if sanitized {
        SANITIZED.get_or_init(|| compile_sanitized("bearer_stress.c", "bearer_stress_sanitized"))
    } else {
        PLAIN.get_or_init(|| {
            let program = target_dir().join("bearer_stress");
            compile("bearer_stress.c", &[], &program);
            program
        })
    }
}

/// What bearer_stress printed: "calls N errors N seconds S".
struct Stress {
    calls: u64,
    errors: u64,
    seconds: f64,
}

/// Runs bearer_stress on `config`, `threads` × `calls` calls and for
/// `min_seconds` at least, and checks that not one call failed.
fn stress(
    command: &mut Command,
    config: &Value,
    threads: u32,
    calls: u32,
    min_seconds: u32,
) -> Stress {
    let started = Instant::now();
    let output = command
        .arg(config.to_string())
        .arg(threads.to_string())
        .arg(calls.to_string())
        .arg(min_seconds.to_string())
        .output()
        .expect("bearer_stress runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let figure = |name: &str| -> &str {
        let mut words = stdout.split_whitespace();
        words.find(|word| *word == name);
        words
            .next()
            .unwrap_or_else(|| panic!("{name} in {stdout}\n{stderr}"))
    };
    let figures = Stress {
        calls: figure("calls").parse().expect("a count"),
        errors: figure("errors").parse().expect("a count"),
        seconds: figure("seconds").parse().expect("seconds"),
    };
    println!(
        "{threads} threads: {} calls, {} errors in {:.1} s ({:.1} s with start-up)",
        figures.calls,
        figures.errors,
        figures.seconds,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(figures.errors, 0, "{stdout}\n{stderr}");
    assert_no_report(&stderr);
    assert!(
        output.status.success(),
        "status {:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        figures.calls >= u64::from(threads) * u64::from(calls),
        "{stdout}"
    );
    figures
}

/// The Auth0 client, its tokens valid for `expires_in` seconds.
fn stress_config(server: &bearer::local_server::LocalAuthServer, expires_in: u32) -> Value {
    common::with_query(
        common::auth0_config(server),
        &format!("expires_in={expires_in}"),
    )
}

#[test]
fn sixty_four_threads_share_one_client_under_asan_and_ubsan() {
    let server = common::server();
    let program = stress_program(true);
    let config = stress_config(&server, 86_400);
    let figures = stress(&mut sanitized(program), &config, 64, 10_000, 0);
    assert_eq!(figures.calls, 640_000);
    assert_eq!(server.auth0_requests(), 1, "one token for 640,000 calls");
}

#[test]
fn sixty_four_threads_share_one_client_under_valgrind() {
    let server = common::server();
    let mut command = valgrind();
    command.arg(stress_program(false));
    let config = stress_config(&server, 86_400);
    let figures = stress(&mut command, &config, 64, 300, 0);
    assert_eq!(figures.calls, 19_200);
    assert_eq!(server.auth0_requests(), 1, "one token for 19,200 calls");
}

#[test]
fn sixty_four_threads_refresh_two_second_tokens_under_asan_and_ubsan() {
    let server = common::server();
    let program = stress_program(true);
    let config = stress_config(&server, 2);
    let figures = stress(&mut sanitized(program), &config, 64, 1_000, 6);
    assert!(figures.seconds >= 6.0, "ran {} s", figures.seconds);
    // A token lives 2 s, so covering 6 s takes 3 at least; a cache that
    // works refreshes about every 1.8 s, far below one request a second.
    let requests = server.auth0_requests();
    let most = 2 + figures.seconds as u64;
    println!("{requests} token requests in {:.1} s", figures.seconds);
    assert!(
        (3..=most).contains(&requests),
        "{requests} token requests in {} s",
        figures.seconds
    );
}

#[test]
fn the_header_compiles_as_cpp() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("c++")
        .args([
            "-x",
            "c++",
            "-std=c++17",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
            "-fsyntax-only",
        ])
        .arg(root.join("include/bearer.h"))
        .status()
        .expect("c++ runs");
    assert!(status.success());
}
