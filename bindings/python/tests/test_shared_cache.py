"""The host tier: processes with the same credentials share one token
through sealed files in a cache folder, so the server is asked once.

Each process here is a fresh interpreter (the library's memory cache is
per process), run one after the other; the server's counters say how many
token requests they made between them.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

BINDING = pathlib.Path(__file__).resolve().parents[1]

CHILD = """
import sys, bearer
with bearer.Client(sys.stdin.read()) as client:
    sys.stdout.write(client.token())
"""


def child_env(**extra):
    """The suite's environment (the library is found as the suite finds it),
    without a BEARER_CACHE of the caller's, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k != "BEARER_CACHE"}
    env.update(PYTHONPATH=str(BINDING / "src"), PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run_child(cfg, env):
    """A new Python process that makes a client from cfg and prints its token."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=json.dumps(cfg),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("eyJ")
    return out.stdout


def two_children_share(server, cfg, env):
    before = server.stats()["auth0"]
    first = run_child(cfg, env)
    second = run_child(cfg, env)
    same = first == second
    assert same, "the second process got a token of its own"
    assert server.stats()["auth0"] - before == 1


def test_two_processes_share_one_token_through_the_cache_folder(server):
    with tempfile.TemporaryDirectory(prefix="bearer-cache-") as tmp:
        folder = pathlib.Path(tmp) / "tokens"
        two_children_share(server, server.auth0(cache=f"file:{folder}"), child_env())
        assert folder.stat().st_mode & 0o777 == 0o700


def test_bearer_cache_turns_sharing_on_without_touching_the_config(server):
    cfg = server.auth0()
    assert "cache" not in cfg
    with tempfile.TemporaryDirectory(prefix="bearer-cache-") as tmp:
        folder = pathlib.Path(tmp) / "tokens"
        two_children_share(server, cfg, child_env(BEARER_CACHE=f"file:{folder}"))
        assert any(folder.iterdir())


class RedisServer:
    """A real redis-server of the test's own on a free loopback port."""

    def __init__(self):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.proc = subprocess.Popen(
            ["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self):
        import socket
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(2)
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING within 10 s")

    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self):
        """Stops the server by its PID and reaps it."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, 9)
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


def test_two_processes_share_one_token_through_redis(server):
    redis = RedisServer()
    try:
        cfg = server.auth0(cache=redis.url())
        with tempfile.TemporaryDirectory(prefix="bearer-host-a-") as host_a, \
                tempfile.TemporaryDirectory(prefix="bearer-host-b-") as host_b:
            before = server.stats()["auth0"]
            # Each child a host of its own: no shared files, only Redis.
            first = run_child(cfg, child_env(XDG_CACHE_HOME=host_a))
            second = run_child(cfg, child_env(XDG_CACHE_HOME=host_b))
            assert first == second, "the second process got a token of its own"
            assert server.stats()["auth0"] - before == 1
    finally:
        redis.stop()
