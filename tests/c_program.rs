//! The C test program, built against the committed header and the built
//! library, run under valgrind: zero errors, zero leaks.

mod common;

use std::path::PathBuf;
use std::process::Command;

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

fn compile(compiler: &str, extra: &[&str], output: &PathBuf) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = target_dir();
    build_cdylib();
    assert!(
        target.join("libbearer.so").exists(),
        "libbearer.so is built in {}",
        target.display()
    );
    let status = Command::new(compiler)
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
        .arg(root.join("tests/c/bearer_test.c"))
        .arg("-L")
        .arg(&target)
        .arg(format!("-Wl,-rpath,{}", target.display()))
        .args(["-lbearer", "-o"])
        .arg(output)
        .status()
        .unwrap_or_else(|error| panic!("{compiler} runs: {error}"));
    assert!(
        status.success(),
        "{compiler} compiled tests/c/bearer_test.c"
    );
}

#[test]
fn the_c_program_passes_under_valgrind_without_leaks() {
    let program = target_dir().join("bearer_c_test");
    compile("cc", &["-std=c11"], &program);

    let server = common::server();
    let output = Command::new("valgrind")
        .args([
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
        ])
        .arg(&program)
        .arg(server.base_url())
        .output()
        .expect("valgrind runs (tests/run.sh installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "status {:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    assert!(!stderr.contains("definitely lost"), "{stderr}");
    assert_eq!(
        server.auth0_requests(),
        9,
        "one-shot, handle, wrong secret; code, same code, wrong verifier, loopback, sign-in and refresh"
    );
    assert_eq!(
        server.cobuilder_requests(),
        2,
        "one-shot, and one for eight threads"
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
