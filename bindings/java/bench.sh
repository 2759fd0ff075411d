#!/usr/bin/env bash
# Median wall time per GET /api/whoami over a kept-alive connection: each
# HTTP client with a fixed Authorization header (the floor) against its
# bearer integration, and Google's OAuth client (the peer Debian has:
# libgoogle-oauth-client-java) against google-http-client with a fixed
# header. One run, rows interleaved in rounds. Not part of test.sh.
set -euo pipefail
cd "$(dirname "$0")"

source ./build.sh

PEER_JARS=/usr/share/java/google-oauth-client.jar:/usr/share/java/google-http-client.jar:/usr/share/java/google-http-client-gson.jar:/usr/share/java/gson.jar:/usr/share/java/guava.jar:/usr/share/java/opencensus-api.jar:/usr/share/java/opencensus-contrib-http-util.jar:/usr/share/java/grpc-context.jar
IFS=: read -ra jars <<<"$PEER_JARS"
# The peer comes from Debian; installed here when missing and run as root.
if [[ ! -f ${jars[0]} && $(id -u) == 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        libgoogle-oauth-client-java >&2
fi
for jar in "${jars[@]}"; do
    if [[ ! -f $jar ]]; then
        echo "bench.sh: $jar is missing; install the Debian package libgoogle-oauth-client-java" >&2
        exit 1
    fi
done

echo "== bench"
mkdir -p build/bench-classes
"$JAVA_HOME/bin/javac" --release 17 -Xlint:all -encoding UTF-8 -d build/bench-classes \
    -cp "build/bearer.jar:$HTTP_JARS:$PEER_JARS" $(find src/bench/java -name '*.java')
"$JAVA_HOME/bin/java" -Xms256m -Xmx256m \
    -cp "build/bearer.jar:build/bench-classes:$HTTP_JARS:$PEER_JARS" \
    com.bearer.bench.Bench "$ROOT/target/release/bearer"
