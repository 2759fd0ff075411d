"""100,000 calls keep the process's memory flat: every string the library
returns is freed, on the success and the problem path alike (authorize_start
is in the mix too: it needs no network)."""

import gc
import json
import time

import pytest

import bearer

WARMUP = 10_000
CALLS = 100_000
# Each of the five operations runs 20,000 times and returns a string of
# 350 bytes (token) to 2 KB (problem): leaking any one kind alone grows RSS
# by about 7 MiB (token) to 40 MiB (problem). Measured noise here is ~0.
BOUND_MIB = 6


def rss_kib() -> int:
    gc.collect()
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    pytest.skip("no VmRSS in /proc/self/status")


def test_memory_stays_flat(server, capsys):
    # invalid-config naming a long unknown key: a ~2 KB problem string each time
    bad = json.dumps(dict(server.auth0(), **{"k" * 800: 1}))
    sign_in = json.dumps(server.native())  # a ~500 B request JSON each time
    with bearer.Client(server.auth0()) as client:
        ops = [
            client.token,
            client.authorization_header,
            client.token_response,
            lambda: bearer.fetch_token(bad),
            lambda: bearer.authorize_start(sign_in),
        ]

        def run(n):
            errors = 0
            for i in range(n):
                try:
                    ops[i % 5]()
                except bearer.ProblemError:
                    errors += 1
            assert errors == n // 5

        run(WARMUP)
        before = rss_kib()
        start = time.monotonic()
        run(CALLS)
        elapsed = time.monotonic() - start
        after = rss_kib()
    growth = after - before
    with_output = (
        f"\nmemory: {CALLS} calls after {WARMUP} warm-up; VmRSS before {before} KiB, "
        f"after {after} KiB, growth {growth} KiB ({growth / 1024:.2f} MiB, bound {BOUND_MIB} MiB); "
        f"{elapsed:.2f} s ({elapsed / CALLS * 1e6:.1f} us/call)"
    )
    with capsys.disabled():  # show the figures in the normal test output
        print(with_output)
    assert growth < BOUND_MIB * 1024, with_output
