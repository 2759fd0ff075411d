#!/usr/bin/env bash
# The added cost per API request of each binding's HTTP-client integration,
# one language after another: every table compares, in one run, the same
# HTTP client with a fixed Authorization header (the floor), the client
# through bearer, and the language's best-known peer where it installs here.
# Needs the release build (cargo build --release). Usage: bindings/bench.sh [LANGUAGE...]
set -euo pipefail
cd "$(dirname "$0")"
source ./require-built.sh
languages=("$@")
[ ${#languages[@]} -gt 0 ] || languages=(csharp java php ruby python)
for language in "${languages[@]}"; do
    echo
    "./$language/bench.sh"
done
