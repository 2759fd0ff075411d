# Sourced by each binding's test.sh: sets $root to the checkout and stops
# unless the release library and the bearer command have been built.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for built in "$root/target/release/libbearer.so" "$root/target/release/bearer"; do
    if [ ! -f "$built" ]; then
        echo "$built is missing: run 'cargo build --locked --release' in $root first" >&2
        exit 1
    fi
done
