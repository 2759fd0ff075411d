#!/usr/bin/env bash
# Runs each binding's stress program under valgrind's memcheck and fails on
# any memcheck error or definite/indirect leak with a frame in libbearer.so
# (or the Java shim, libbearer_jni.so), or when the stress program reports a
# failure or exits non-zero. The runtimes' own reports (JIT, GC, interpreter)
# are counted and shown as totals, not judged: they are not bearer's.
#
# Usage: bindings/valgrind.sh [csharp|java|php|ruby|python ...]   (default: all)
#        bindings/valgrind.sh --self-check
# Each binding's test.sh must have run first (C# and Java build the stress
# program with the rest of their tests). BEARER_STRESS_CALLS overrides the
# number of calls; BEARER_VALGRIND_TIMEOUT the seconds one binding may take.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/require-built.sh"
bindings="$root/bindings"
out="$root/target/valgrind"
mkdir -p "$out"
command -v valgrind >/dev/null || { echo "valgrind is missing (Debian: valgrind)" >&2; exit 1; }

# Counts the errors of one valgrind XML file; prints bearer's and exits 1
# when there is any. An error is bearer's when, in any of its stacks (where
# it happened; where the block was allocated or freed, which catches a
# runtime reading a string bearer freed), the innermost frame outside the C
# library and valgrind's allocator is in libbearer.so or libbearer_jni.so.
# Innermost, not anywhere: the Java shim calls back into the JVM to build
# exceptions, and the JVM's own stack banging and JIT bookkeeping then have
# the shim further down their stacks.
report() {
    python3 - "$@" <<'PY'
import sys
import xml.etree.ElementTree as ET

path, name = sys.argv[1], sys.argv[2]
OURS = ("/libbearer.so", "/libbearer_jni.so")
try:
    root = ET.parse(path).getroot()
except ET.ParseError as exc:
    print(f"valgrind {name}: unreadable or incomplete XML {path}: {exc}")
    sys.exit(1)
if root.find("status/state") is None or root.findall("status")[-1].findtext("state") != "FINISHED":
    print(f"valgrind {name}: the run did not finish")
    sys.exit(1)

SYSTEM = ("libc.so", "ld-linux", "vgpreload_", "libgcc_s.so")
LEAKS = {"Leak_DefinitelyLost", "Leak_IndirectlyLost"}


def ours(stack):
    for frame in stack.iter("frame"):
        obj = frame.findtext("obj", "")
        if not obj.rsplit("/", 1)[-1].startswith(SYSTEM):
            return obj.endswith(OURS)
    return False


totals = {"errors": 0, "leaks": 0}
mine = []
for error in root.iter("error"):
    kind = error.findtext("kind", "")
    if kind.startswith("Leak_"):
        if kind not in LEAKS:
            continue
        totals["leaks"] += 1
    else:
        totals["errors"] += 1
    if any(ours(stack) for stack in error.iter("stack")):
        mine.append((kind, error))

for kind, error in mine:
    what = error.findtext("what") or error.findtext("xwhat/text") or kind
    print(f"--- {kind}: {what}")
    for stack, aux in zip(error.findall("stack"), [None] + error.findall("auxwhat")):
        if aux is not None:
            print(f"  {aux.text}")
        for f in stack.iter("frame"):
            where = f.findtext("fn") or f.findtext("ip")
            src = f.findtext("file")
            loc = f"{src}:{f.findtext('line')}" if src else f.findtext("obj", "?")
            print(f"    {where}  ({loc})")
mine_errors = sum(1 for k, _ in mine if not k.startswith("Leak_"))
mine_leaks = len(mine) - mine_errors
print(f"valgrind {name}: {totals['errors']} errors and {totals['leaks']} definite/indirect leaks "
      f"in all; in libbearer frames: {mine_errors} errors, {mine_leaks} leaks")
sys.exit(1 if mine else 0)
PY
}

# Runs one binding's stress program under memcheck. $1 the binding, $2 the
# XML file, then the command; extra memcheck options come in $vg_extra.
under_valgrind() {
    local name=$1 xml=$2
    shift 2
    local start=$SECONDS status=0
    # --child-silent-after-fork: the local server is started by fork+exec
    # and stays out of the report. No --error-exitcode: runtimes report
    # their own errors; report() judges bearer's.
    timeout --kill-after=10 "${BEARER_VALGRIND_TIMEOUT:-240}" \
        valgrind --tool=memcheck --xml=yes --xml-file="$xml" --log-file="${xml%.xml}.log" \
        --child-silent-after-fork=yes --error-limit=no --num-callers=40 \
        --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect ${vg_extra:-} "$@" || status=$?
    echo "valgrind $name: exit $status after $((SECONDS - start)) s"
    [ "$status" -eq 124 ] && echo "valgrind $name: timed out" >&2
    local verdict=0
    report "$xml" "$name" || verdict=1
    [ "$status" -eq 0 ] || verdict=1
    return $verdict
}

# The calls each program makes under valgrind, sized so that all five take
# a few minutes on two cores (JVM and Mono start slowly under valgrind).
run() {
    local name=$1 xml="$out/$1.xml"
    vg_extra=""
    case "$name" in
    python)
        cd "$bindings/python"
        # pymalloc's arenas hide allocations from memcheck; malloc shows them.
        PYTHONMALLOC=malloc PYTHONPATH="$PWD/src" PYTHONDONTWRITEBYTECODE=1 \
            BEARER_STRESS_CALLS=${BEARER_STRESS_CALLS:-3000} \
            under_valgrind python "$xml" /usr/bin/python3 tests/stress.py
        ;;
    ruby)
        cd "$bindings/ruby"
        BEARER_STRESS_CALLS=${BEARER_STRESS_CALLS:-3000} \
            under_valgrind ruby "$xml" ruby -Ilib -Itest test/stress.rb
        ;;
    php)
        cd "$bindings/php"
        # The Zend allocator hides allocations from memcheck; keep FFI's
        # modules loaded so their frames have names.
        USE_ZEND_ALLOC=0 ZEND_DONT_UNLOAD_MODULES=1 \
            BEARER_STRESS_CALLS=${BEARER_STRESS_CALLS:-3000} \
            under_valgrind php "$xml" php -d ffi.enable=preload -d opcache.enable_cli=0 tests/stress.php
        ;;
    java)
        cd "$bindings/java"
        [ -f build/bearer.jar ] && [ -f build/test-classes/com/bearer/Stress.class ] \
            || { echo "bindings/java/build is missing: run bindings/java/test.sh first" >&2; return 1; }
        # JIT code is written and run from anonymous memory: --smc-check=all.
        vg_extra="--smc-check=all"
        BEARER_STRESS_CALLS=${BEARER_STRESS_CALLS:-2000} \
            under_valgrind java "$xml" java -Xcheck:jni -Xms64m -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
            -Dbearer.root="$root" -cp build/bearer.jar:build/test-classes com.bearer.Stress
        ;;
    csharp)
        cd "$bindings/csharp"
        [ -f build/Bearer.Stress.exe ] \
            || { echo "bindings/csharp/build is missing: run bindings/csharp/test.sh first" >&2; return 1; }
        vg_extra="--smc-check=all"
        BEARER_STRESS_CALLS=${BEARER_STRESS_CALLS:-2000} \
            under_valgrind csharp "$xml" mono --debug build/Bearer.Stress.exe
        ;;
    *)
        echo "unknown binding: $name (csharp, java, php, ruby, python)" >&2
        return 64
        ;;
    esac
}

# Proves that report() catches bearer's errors: a libbearer.so that wraps the
# real one, leaks a block per client and reads each string after freeing it.
# It has the real one's soname (the C# binding resolves [DllImport] by it) and
# forwards every other function to it through a jump.
self_check() {
    local dir="$out/self-check"
    rm -rf "$dir" && mkdir -p "$dir/real"
    cp "$root/target/release/libbearer.so" "$dir/real/libbearer.so"
    {
        cat <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#define FORWARD(name) \
    __attribute__((visibility("hidden"))) void *real_##name; \
    __asm__(".globl " #name "\n.type " #name ",@function\n" #name ":\n jmp *real_" #name "(%rip)\n");
static void *lib;
static void *real(const char *name) {
    if (lib == NULL) lib = dlopen(REAL_PATH, RTLD_NOW | RTLD_LOCAL);
    return dlsym(lib, name);
}
typedef int (*client_new_fn)(const char *, void **, char **);
typedef void (*string_free_fn)(char *);
static volatile uintptr_t kept;
int bearer_client_new(const char *config, void **client, char **problem) {
    kept = (uintptr_t)malloc(48) ^ UINTPTR_MAX; /* no pointer to it is kept: definitely lost */
    return ((client_new_fn)real("bearer_client_new"))(config, client, problem);
}
void bearer_string_free(char *s) {
    ((string_free_fn)real("bearer_string_free"))(s);
    if (s != NULL && *(volatile char *)s == 0x7f) abort(); /* read after free */
}
C
        local fns
        fns=$(nm -D --defined-only "$dir/real/libbearer.so" | awk '$2 == "T" && $3 ~ /^bearer_/ {print $3}' \
            | grep -vx -e bearer_client_new -e bearer_string_free)
        for fn in $fns; do echo "FORWARD($fn)"; done
        echo "__attribute__((constructor)) static void init(void) {"
        for fn in $fns; do echo "    real_$fn = real(\"$fn\");"; done
        echo "}"
    } >"$dir/leaky.c"
    gcc -shared -fPIC -O2 -g -Wl,-soname,libbearer.so -DREAL_PATH="\"$dir/real/libbearer.so\"" \
        -o "$dir/libbearer.so" "$dir/leaky.c" -ldl
    local verdict=0
    BEARER_LIBRARY="$dir/libbearer.so" BEARER_STRESS_CALLS=200 run python \
        >"$dir/report.txt" 2>&1 || verdict=$?
    if [ "$verdict" -eq 0 ] || ! grep -q "in libbearer frames: [1-9][0-9]* errors, [1-9][0-9]* leaks" "$dir/report.txt"; then
        cat "$dir/report.txt"
        echo "valgrind self-check: a leaking, use-after-free libbearer.so was NOT caught" >&2
        return 1
    fi
    grep "in libbearer frames" "$dir/report.txt" | sed 's/^/self-check: /'
    echo "valgrind self-check: a leaking, use-after-free libbearer.so is caught"
}

if [ "${1:-}" = "--self-check" ]; then
    self_check
    exit
fi
[ $# -gt 0 ] || set -- csharp java php ruby python
failed=()
for name in "$@"; do
    echo "== valgrind $name"
    (run "$name") || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "valgrind: failed for ${failed[*]} (reports in $out)" >&2
    exit 1
fi
