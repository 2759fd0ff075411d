#!/usr/bin/env bash
# Builds the JNI shim and build/bearer.jar (both libraries inside). Sourced by
# test.sh and bench.sh, which use the variables it sets (JAVA_HOME, HTTP_JARS,
# ROOT). The HTTP-client integrations compile against the Debian
# jars of Apache HttpClient 5 (libhttpclient5-java) and OkHttp 3
# (libokhttp-java); the jar needs them at run time only where those
# integrations are used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

source ../require-built.sh
ROOT=$root

if [[ -z ${JAVA_HOME:-} ]]; then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
fi

case "$(uname -m)" in
    x86_64 | amd64) ARCH=x86_64 ;;
    aarch64 | arm64) ARCH=aarch64 ;;
    *) ARCH=$(uname -m) ;;
esac
NATIVE_DIR=build/classes/com/bearer/native/linux-$ARCH

# The optional HTTP libraries, from Debian (override with HTTP_CLIENT_JARS).
JAVA_SHARE=/usr/share/java
HTTP_JARS=${HTTP_CLIENT_JARS:-$JAVA_SHARE/httpclient5.jar:$JAVA_SHARE/httpcore5.jar:$JAVA_SHARE/httpcore5-h2.jar:$JAVA_SHARE/slf4j-api.jar:$JAVA_SHARE/slf4j-nop.jar:$JAVA_SHARE/okhttp.jar:$JAVA_SHARE/okio.jar}
IFS=: read -ra jars <<<"$HTTP_JARS"
for jar in "${jars[@]}"; do
    if [[ ! -f $jar ]]; then
        echo "build.sh: $jar is missing; install the Debian packages libhttpclient5-java, libokhttp-java and libslf4j-java" >&2
        exit 1
    fi
done

rm -rf build
mkdir -p build/classes build/test-classes "$NATIVE_DIR"

echo "== shim"
gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -shared -fPIC \
    -I"$JAVA_HOME/include" -I"$JAVA_HOME/include/linux" -I"$ROOT/include" \
    -o "$NATIVE_DIR/libbearer_jni.so" src/main/c/bearer_jni.c -ldl
cp "$ROOT/target/release/libbearer.so" "$NATIVE_DIR/libbearer.so"

echo "== jar"
"$JAVA_HOME/bin/javac" --release 17 -Xlint:all -Werror -encoding UTF-8 -d build/classes \
    -cp "$HTTP_JARS" $(find src/main/java -name '*.java')
"$JAVA_HOME/bin/jar" --create --file build/bearer.jar -C build/classes .

