#!/usr/bin/env bash
# Builds the JNI shim and the jar (libraries inside) into build/, then runs
# the JUnit 5 suite against that jar. Needs a JDK 17+, gcc and the Debian
# junit5 package; no Maven (Central is not needed). The HTTP-client
# integrations are tested against the Debian jars of Apache HttpClient 5 and
# OkHttp 3 (see build.sh).
set -euo pipefail
cd "$(dirname "$0")"

source ./build.sh

JUNIT=${JUNIT_CONSOLE_JAR:-/usr/share/java/junit-platform-console-standalone.jar}
if [[ ! -f $JUNIT ]]; then
    echo "test.sh: $JUNIT is missing; install the Debian package junit5" >&2
    exit 1
fi

echo "== tests"
"$JAVA_HOME/bin/javac" --release 17 -Xlint:all,-processing -encoding UTF-8 -d build/test-classes \
    -cp "build/bearer.jar:$JUNIT:$HTTP_JARS" $(find src/test/java -name '*.java')

# -Xcheck:jni makes the JVM verify every JNI call the shim makes. A fixed,
# pre-touched heap keeps the Java heap's own growth out of the memory test's
# RSS figures, so what it measures is native memory.
"$JAVA_HOME/bin/java" -Xcheck:jni -Xms256m -Xmx256m -XX:+AlwaysPreTouch \
    -Dbearer.root="$ROOT" -Dbearer.httpJars="$HTTP_JARS" -jar "$JUNIT" \
    --class-path "build/bearer.jar:build/test-classes:$HTTP_JARS" \
    --scan-class-path build/test-classes \
    --fail-if-no-tests --disable-banner --disable-ansi-colors --details=tree
