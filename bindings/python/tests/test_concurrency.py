"""Threads share one client and one request; the GIL is not held while
the library waits, so threads really wait together."""

import threading
import time

import bearer

THREADS = 8
STALL_S = 0.3
# stall_ms only takes effect together with fault=stall (then answers normally).
STALL = {"fault": "stall", "stall_ms": int(STALL_S * 1000)}


def run_threads(target, n=THREADS):
    """Starts n threads at once; returns (results, errors, elapsed seconds)."""
    barrier = threading.Barrier(n + 1)
    results, errors = [None] * n, []

    def worker(i):
        barrier.wait()
        try:
            results[i] = target(i)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.monotonic()
    for t in threads:
        t.join(30)
    return results, errors, time.monotonic() - start


def test_threads_on_one_client_share_one_request(server, capsys):
    cfg = server.auth0(query=STALL)
    spans = [None] * THREADS
    with bearer.Client(cfg) as client:
        before = server.stats()["auth0"]

        def call(i):
            start = time.monotonic()
            token = client.token()
            spans[i] = (start, time.monotonic())
            return token

        results, errors, elapsed = run_threads(call)
        after = server.stats()["auth0"]
    assert not errors
    assert len(set(results)) == 1 and results[0].startswith("eyJ")
    assert after - before == 1
    # Every thread entered the call before the first one came back: had the
    # GIL been held during the foreign call they would have run one by one.
    assert max(s for s, _ in spans) < min(e for _, e in spans)
    with capsys.disabled():
        print(f"\n{THREADS} threads, one client, stall {STALL_S}s: {elapsed:.3f}s, 1 request")
    assert elapsed < 2 * STALL_S


def test_threads_on_separate_clients_run_in_parallel(server, capsys):
    """Eight different token URLs: eight requests, yet about one stall of
    time in total, which only holds if ctypes released the GIL."""
    clients = [bearer.Client(server.auth0(query=STALL)) for _ in range(THREADS)]
    try:
        before = server.stats()["auth0"]
        results, errors, elapsed = run_threads(lambda i: clients[i].token())
        after = server.stats()["auth0"]
    finally:
        for c in clients:
            c.close()
    assert not errors
    assert after - before == THREADS
    assert all(r.startswith("eyJ") for r in results)
    with capsys.disabled():
        print(f"\n{THREADS} threads, {THREADS} clients, stall {STALL_S}s: {elapsed:.3f}s")
    assert elapsed < 3 * STALL_S  # serialised it would be 8 x 0.3 s


def test_one_shot_calls_from_threads_share_one_request(server):
    cfg = server.cobuilder(query=STALL)
    before = server.stats()["cobuilder"]
    results, errors, elapsed = run_threads(lambda i: bearer.fetch_token(cfg))
    after = server.stats()["cobuilder"]
    assert not errors
    assert len(set(results)) == 1
    assert after - before == 1
    assert elapsed < 2 * STALL_S


def test_waiters_share_a_failure_too(server):
    cfg = server.auth0(client_secret="wrong", query=STALL)
    with bearer.Client(cfg) as client:
        before = server.stats()["auth0"]
        results, errors, _ = run_threads(lambda i: client.token())
        after = server.stats()["auth0"]
    assert len(errors) == THREADS
    assert all(isinstance(e, bearer.ProblemError) and e.status == 401 for e in errors)
    assert after - before == 1


def test_close_waits_for_calls_in_flight(server):
    """Freeing a handle another thread uses would crash the process; close()
    waits for those calls instead, and later calls raise ClientClosedError."""
    client = bearer.Client(server.auth0(query=STALL))
    results, errors = [], []

    def call():
        try:
            results.append(client.token())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(STALL_S / 3)  # they are inside the library now
    client.close()
    for t in threads:
        t.join(10)
    assert not errors and len(results) == 4
    assert client.closed
