#!/usr/bin/env bash
# Builds the C# binding with Mono's mcs into build/ and runs its NUnit suite against
# the real library and a local authorization server (started by the tests).
# Needs the Debian packages mono-devel and nunit-console (libnunit-cil-dev comes with it).
set -euo pipefail
cd "$(dirname "$0")"

source ../require-built.sh
lib="$root/target/release/libbearer.so"
for tool in mcs mono nunit-console; do
    if ! command -v "$tool" >/dev/null; then
        echo "test.sh: $tool is missing; install the Debian packages mono-devel nunit-console" >&2
        exit 1
    fi
done
nunit_dir=/usr/lib/cli/nunit.framework-2.6.3
nunit_framework=$(ls "$nunit_dir"/nunit.framework.dll 2>/dev/null || ls /usr/lib/cli/nunit.framework-*/nunit.framework.dll | head -n1)

rm -rf build
mkdir -p build/runtimes/linux-x64/native runtimes/linux-x64/native
# The package layout ships the library in runtimes/linux-x64/native/; a restore puts that
# folder next to Bearer.dll, which is where the binding looks after BEARER_LIBRARY.
cp "$lib" runtimes/linux-x64/native/libbearer.so
cp "$lib" build/runtimes/linux-x64/native/libbearer.so

mcs -nologo -target:library -unsafe -optimize+ -warn:4 -warnaserror+ -doc:build/Bearer.xml \
    -out:build/Bearer.dll src/Bearer/*.cs
# The HttpClient handler is an assembly of its own, so Bearer.dll needs no System.Net.Http
# (Debian: libmono-system-net-http4.0-cil, which mono-devel brings).
mcs -nologo -target:library -optimize+ -warn:4 -warnaserror+ -doc:build/Bearer.Http.xml \
    -r:build/Bearer.dll -r:System.Net.Http -out:build/Bearer.Http.dll src/Bearer.Http/*.cs
mcs -nologo -r:build/Bearer.dll -r:System.Core -out:build/LookupProbe.exe tests/LookupProbe/Probe.cs
mcs -nologo -r:build/Bearer.dll -out:build/SharedCacheProbe.exe tests/SharedCacheProbe/Probe.cs
cp "$nunit_framework" build/
mcs -nologo -target:library -r:build/Bearer.dll -r:build/Bearer.Http.dll -r:build/nunit.framework.dll \
    -r:System.Core -r:System.Net.Http -out:build/Bearer.Tests.dll tests/Bearer.Tests/*.cs
# The stress program that bindings/valgrind.sh runs under memcheck.
mcs -nologo -r:build/Bearer.dll -r:build/nunit.framework.dll -r:System.Core \
    -out:build/Bearer.Stress.exe tests/Stress/Stress.cs tests/Bearer.Tests/Support.cs

# -noshadow: run the assemblies where they are, so "next to Bearer.dll" means build/.
cd build
exec nunit-console -nologo -noshadow -labels -nothread Bearer.Tests.dll -xml=TestResult.xml
