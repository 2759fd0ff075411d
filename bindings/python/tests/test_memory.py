"""100,000 calls keep the process's memory flat: every string the library
returns is freed, on the success and the problem path alike."""

import gc
import json
import time

import pytest

import bearer

WARMUP = 10_000
CALLS = 100_000
# Each of the four operations runs 25,000 times and returns a string of
# 350 bytes (token) to 2 KB (problem): leaking any one kind alone grows RSS
# by about 9 MiB (token) to 60 MiB (problem). Measured noise here is ~0.
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
    with bearer.Client(server.auth0()) as client:
        ops = [
            client.token,
            client.authorization_header,
            client.token_response,
            lambda: bearer.fetch_token(bad),
        ]

        def run(n):
            errors = 0
            for i in range(n):
                try:
                    ops[i % 4]()
                except bearer.ProblemError:
                    errors += 1
            assert errors == n // 4

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
