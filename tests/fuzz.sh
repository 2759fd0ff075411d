#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of the parsers: the
# configuration, the token endpoint's answers and the sign-in callback. Each
# target runs FUZZ_SECONDS (default 15) from the committed corpus in
# tests/fuzz/corpus; a crash, a leak, a timeout or an out-of-memory fails.
# New inputs go to a scratch directory, so the checkout stays clean.
# Usage: tests/fuzz.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/fuzz"

seconds="${FUZZ_SECONDS:-15}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config token_response callback)

# cargo-fuzz passes nightly flags (-Zsanitizer); stable rustc takes them
# with RUSTC_BOOTSTRAP, and ships the AddressSanitizer runtime it needs.
export RUSTC_BOOTSTRAP=1
export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
fi

echo "== cargo fmt --check and clippy (the fuzzing feature's entry points)"
cargo fmt -- --check
(cd ../.. && cargo clippy --locked --lib --features fuzzing -- -D warnings)

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
echo "== cargo fuzz build"
if ! cargo fuzz build --fuzz-dir . >"$scratch/build.log" 2>&1; then
    cat "$scratch/build.log" >&2
    exit 1
fi
failed=()
for target in "${targets[@]}"; do
    echo "== fuzz $target for ${seconds}s"
    mkdir -p "$scratch/$target" artifacts/"$target"
    # -timeout: an input that takes 10 s is a hang in a parser.
    if ! cargo fuzz run --fuzz-dir . "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -detect_leaks=1 -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/" >"$scratch/$target.log" 2>&1; then
        tail -n 60 "$scratch/$target.log" >&2
        echo "fuzz target $target failed; reproducer in tests/fuzz/artifacts/$target/" >&2
        failed+=("$target")
        continue
    fi
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' \
        "$scratch/$target.log" || true
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing failed: ${failed[*]}" >&2
    exit 1
fi
