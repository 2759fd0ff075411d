#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine, when missing, and
# runs every test: formatting, lints, the Rust suites, the C programs under
# valgrind and the sanitizers, the header check and each binding's suite.
# Usage: tests/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: C (gcc brings libasan, libubsan and nm) and valgrind for
# the C programs; each binding's runtime and test framework (Mono and NUnit,
# JDK and JUnit 5, PHP with FFI and PHPUnit, Ruby with ruby-ffi and minitest,
# Python with pytest).
packages=(gcc g++ valgrind git
    mono-devel nunit-console
    default-jdk-headless junit5
    php-cli php-cgi phpunit
    ruby ruby-ffi ruby-minitest
    python3 python3-pytest python3-pip python3-setuptools python3-wheel)
need=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
        || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install a Rust toolchain (1.88 or newer) with rustup" >&2
    exit 1
fi
if command -v rustup >/dev/null; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test (Rust suites, C programs under valgrind and the sanitizers, header check)"
cargo test --locked
echo "== release build of the library and the bearer command, for the bindings"
cargo build --locked --release
for binding in csharp java php ruby python; do
    echo "== bindings/$binding"
    "bindings/$binding/test.sh"
done
