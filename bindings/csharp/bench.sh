#!/usr/bin/env bash
# The cost BearerHandler adds per request: HttpClient with a fixed Authorization header (the
# floor) against HttpClient + BearerHandler, interleaved in rounds, against a local
# `bearer serve`. Not part of test.sh. Needs mono-devel and a built library and bearer command.
set -euo pipefail
cd "$(dirname "$0")"

source ../require-built.sh
out=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$out"
}
trap cleanup EXIT

mkdir -p "$out/runtimes/linux-x64/native"
cp "$root/target/release/libbearer.so" "$out/runtimes/linux-x64/native/"
mcs -nologo -target:library -unsafe -optimize+ -out:"$out/Bearer.dll" src/Bearer/*.cs
mcs -nologo -target:library -optimize+ -r:"$out/Bearer.dll" -r:System.Net.Http -out:"$out/Bearer.Http.dll" src/Bearer.Http/*.cs
mcs -nologo -optimize+ -r:"$out/Bearer.dll" -r:"$out/Bearer.Http.dll" -r:System.Net.Http -r:System.Core \
    -out:"$out/Bench.exe" bench/Bench.cs

exec 3< <("$root/target/release/bearer" serve --port 0 2>/dev/null)
server_pid=$!
read -r first <&3
port=${first##*:}
# Keep reading its output so that it never blocks on a full pipe.
cat <&3 >/dev/null &
BEARER_LIBRARY="$out/runtimes/linux-x64/native/libbearer.so" mono --optimize=all "$out/Bench.exe" "http://127.0.0.1:$port"
