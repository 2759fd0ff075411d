#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine, when missing, and
# runs every test: formatting, lints, the Rust suites and fault matrix, the C
# programs under valgrind and the sanitizers, the header check, each
# binding's suite, each binding's stress program under valgrind, and the
# fuzzers for a bounded time. Usage: tests/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: C (gcc brings libasan, libubsan and nm), valgrind and
# libcurl (the README's libcurl example) for the C programs; redis-server for the fleet tier's tests; each binding's
# runtime and test framework (Mono and NUnit, JDK and JUnit 5, PHP with FFI
# and PHPUnit, Ruby with ruby-ffi and minitest, Python with pytest), and the
# HTTP clients each binding's integrations attach tokens to (Apache
# HttpClient 5 and OkHttp; Guzzle with PHP's curl; Faraday; requests and
# httpx).
packages=(gcc g++ valgrind git redis-server libcurl4-openssl-dev
    mono-devel nunit-console
    default-jdk-headless junit5 libhttpclient5-java libokhttp-java
    php-cli php-cgi php-curl phpunit php-guzzlehttp-guzzle
    ruby ruby-ffi ruby-minitest ruby-faraday
    python3 python3-pytest python3-pip python3-setuptools python3-wheel
    python3-requests python3-httpx)
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

# Every line the suites print, in every language, goes to this log too: no
# test may print a canary secret, whatever it tests.
log=target/test-output.log
mkdir -p target

run_suites() {
    echo "== cargo fmt --check"
    cargo fmt --all -- --check
    echo "== cargo clippy --all-targets -- -D warnings"
    cargo clippy --locked --all-targets -- -D warnings
    echo "== cargo test (Rust suites, fault matrix, C program under valgrind and sanitizers, header check)"
    cargo test --locked
    echo "== release build of the library and the bearer command, for the bindings"
    cargo build --locked --release
    for binding in csharp java php ruby python; do
        echo "== bindings/$binding"
        "bindings/$binding/test.sh"
    done
    echo "== bindings under valgrind (each binding's stress program; first, that a leak is caught)"
    bindings/valgrind.sh --self-check
    bindings/valgrind.sh csharp java php ruby python
    echo "== fuzzing the parsers (tests/fuzz.sh, FUZZ_SECONDS per target)"
    tests/fuzz.sh
}

run_suites 2>&1 | tee "$log"

echo "== no output of any suite shows a canary secret"
# The canaries of tests/canary.rs, tests/c and the bindings' suites, raw or
# form-encoded.
canaries='canary-(SECRET|0f3c9a7d)|canary(\+|%2B)7f3a'
if grep -n -i -E "$canaries" "$log"; then
    echo "a canary secret appeared in the output above ($log)" >&2
    exit 1
fi
echo "== no output of any suite shows a line of a test private key"
# The keys of private_key_jwt and mutual TLS are secrets like the canaries:
# no base64 line of theirs may show anywhere in the output.
key_lines=$(mktemp)
# Whole lines only: a short last line could match anything.
grep -h -v -e '-----' tests/keys/*.key tests/tls/client.key tests/tls/self-signed.key \
    | awk 'length >= 40' > "$key_lines"
if grep -n -F -f "$key_lines" "$log"; then
    rm -f "$key_lines"
    echo "a line of a test private key appeared in the output above ($log)" >&2
    exit 1
fi
rm -f "$key_lines"
echo "== no shared cache entry the suites left holds a canary secret"
# The host tier's folders of the Rust suites (tests/common: bearer-tests-PID);
# entries are sealed, so not even a canary's bytes may show.
shopt -s nullglob
folders=("${TMPDIR:-/tmp}"/bearer-tests-*)
if [ ${#folders[@]} -gt 0 ] && grep -r -a -l -i -E "$canaries" "${folders[@]}"; then
    echo "a canary secret is stored in clear in a cache entry above" >&2
    exit 1
fi
rm -rf "${folders[@]}"
