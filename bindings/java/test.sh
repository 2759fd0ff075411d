#!/usr/bin/env bash
# Builds the JNI shim and the jar (libraries inside) into build/, then runs
# the JUnit 5 suite against that jar. Needs a JDK 17+, gcc and the Debian
# junit5 package; no Maven (Central is not needed). The HTTP-client
# integrations compile against the Debian jars of Apache HttpClient 5
# (libhttpclient5-java) and OkHttp 3 (libokhttp-java); the jar does not
# need them at run time unless those integrations are used.
set -euo pipefail
cd "$(dirname "$0")"

source ../require-built.sh
ROOT=$root

if [[ -z ${JAVA_HOME:-} ]]; then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
fi
JUNIT=${JUNIT_CONSOLE_JAR:-/usr/share/java/junit-platform-console-standalone.jar}
if [[ ! -f $JUNIT ]]; then
    echo "test.sh: $JUNIT is missing; install the Debian package junit5" >&2
    exit 1
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
        echo "test.sh: $jar is missing; install the Debian packages libhttpclient5-java, libokhttp-java and libslf4j-java" >&2
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

echo "== tests"
"$JAVA_HOME/bin/javac" --release 17 -Xlint:all,-processing -encoding UTF-8 -d build/test-classes \
    -cp "build/bearer.jar:$JUNIT:$HTTP_JARS" $(find src/test/java -name '*.java')

# -Xcheck:jni makes the JVM verify every JNI call the shim makes. A fixed,
# pre-touched heap keeps the Java heap's own growth out of the memory test's
# RSS figures, so what it measures is native memory.
"$JAVA_HOME/bin/java" -Xcheck:jni -Xms256m -Xmx256m -XX:+AlwaysPreTouch \
    -Dbearer.root="$ROOT" -jar "$JUNIT" \
    --class-path "build/bearer.jar:build/test-classes:$HTTP_JARS" \
    --scan-class-path build/test-classes \
    --fail-if-no-tests --disable-banner --disable-ansi-colors --details=tree
