"""Shared fixtures: one local authorization server per test session, and
the "browser" of the sign-in tests.

The server is the project's own `bearer serve --port 0`; it prints
`listening on http://127.0.0.1:PORT` first and counts requests per endpoint
at /_stats (auth0, cobuilder, authorize, refresh, discovery), which the
tests read key by key, as deltas.
"""

import contextlib
import itertools
import json
import os
import pathlib
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid

import pytest

HERE = pathlib.Path(__file__).resolve().parent
BINDING = HERE.parent
ROOT = BINDING.parent.parent
SERVER_BIN = pathlib.Path(os.environ.get("BEARER_SERVER_BIN", ROOT / "target" / "release" / "bearer"))

# Import the package from the source tree even without PYTHONPATH=src.
sys.path.insert(0, str(BINDING / "src"))

# Loopback only: never let a proxy from the environment see these requests.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_unique = itertools.count()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A browser that stops at the redirect, so that the test reads it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_browser = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

#: The app's redirect URI in the code and implicit tests: nothing listens
#: there, the test takes the redirect's Location itself.
APP_REDIRECT = "http://127.0.0.1:9/callback"


def browse(url: str) -> str:
    """What a browser does with an authorize URL: the server signs the test
    user in and answers 302; returns the Location it redirects to."""
    try:
        with _browser.open(url, timeout=10) as resp:
            raise AssertionError(f"expected a redirect, got {resp.status}")
    except urllib.error.HTTPError as exc:
        with exc:
            assert exc.code == 302, f"expected a redirect, got {exc.code}"
            return exc.headers["Location"]


def get(url: str):
    """A plain GET without following redirects: (status, body text)."""
    try:
        with _browser.open(url, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode("utf-8", "replace")


def post(url: str) -> int:
    """An empty POST (the test user's action at the local server): its status."""
    req = urllib.request.Request(url, data=b"", method="POST")
    try:
        with _browser.open(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


class Server:
    def __init__(self, base: str) -> None:
        self.base = base

    def stats(self) -> dict:
        with _opener.open(self.base + "/_stats", timeout=5) as resp:
            return json.loads(resp.read())

    def url(self, shape: str = "auth0", **query) -> str:
        """A token URL with a unique query, so the library caches it apart
        (its cache key includes the URL) and tests do not share tokens."""
        path = "/oauth/token" if shape == "auth0" else "/authentication/api/v1/oauth2/token"
        query.setdefault("t", f"{uuid.uuid4().hex[:8]}{next(_unique)}")
        return self.base + path + "?" + "&".join(f"{k}={v}" for k, v in query.items())

    def auth0(self, **overrides) -> dict:
        query = overrides.pop("query", {})
        cfg = {
            "client_id": "demo-client",
            "client_secret": "demo-secret",
            "audience": "https://beeapp.open-cosmos.com",
            "grant_type": "client_credentials",
            "token_url": self.url("auth0", **query),
        }
        cfg.update(overrides)
        return cfg

    def cobuilder(self, **overrides) -> dict:
        query = overrides.pop("query", {})
        cfg = {
            "clientId": "cobuilder-client",
            "clientSecret": "cobuilder-secret",
            "audienceUrl": "https://api.cobuilder.com",
            "token_url": self.url("cobuilder", **query),
        }
        cfg.update(overrides)
        return cfg

    def native(self, grant_type: str = "authorization_code", **overrides) -> dict:
        """The public client of a native or single-page app (PKCE, no
        secret); a None override drops the key."""
        cfg = {
            "client_id": "native-client",
            "grant_type": grant_type,
            "audience": "https://beeapp.open-cosmos.com",
            "redirect_uri": APP_REDIRECT,
            "authorize_url": self.base + "/authorize",
            "token_url": self.base + "/oauth/token",
        }
        cfg.update(overrides)
        return {k: v for k, v in cfg.items() if v is not None}

    def config(self, shape: str, **overrides) -> dict:
        return self.auth0(**overrides) if shape == "auth0" else self.cobuilder(**overrides)


TLS = ROOT / "tests" / "tls"
KEYS = ROOT / "tests" / "keys"


class TlsServer(Server):
    """A `bearer serve` with `--tls-cert`: its plain base, ``https`` (a
    listener that asks no certificate) and ``mtls`` (one that requires a
    client certificate), each ``https://127.0.0.1:PORT``."""

    def __init__(self, base: str, https: str, mtls: str) -> None:
        super().__init__(base)
        self.https = https
        self.mtls = mtls


@contextlib.contextmanager
def local_server(tls: bool = False):
    """Runs a `bearer serve --port 0` of its own for the block and yields its
    Server: the suite's shared one, a test's own (to stop), tests/stress.py.
    With ``tls``, it also serves HTTPS and mutual TLS (a :class:`TlsServer`)."""
    if not SERVER_BIN.is_file():
        pytest.exit(f"{SERVER_BIN} is missing: run `cargo build --release` in {ROOT}", returncode=2)
    args = [str(SERVER_BIN), "serve", "--port", "0"]
    if tls:
        args += ["--tls-cert", str(TLS / "server.pem"), "--tls-key", str(TLS / "server.key")]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            pytest.exit(f"bearer serve did not start (first line: {line!r})", returncode=2)
        base = line[len(prefix):].rstrip("/")
        if tls:
            found = {}
            for line in proc.stdout:
                for key, start in (("https", "https listening on "), ("mtls", "mutual-TLS listening on ")):
                    if line.startswith(start):
                        found[key] = line[len(start):].strip().rstrip("/")
                if len(found) == 2:
                    break
            else:
                pytest.exit("bearer serve --tls-cert did not print its HTTPS listeners", returncode=2)
        # Keep reading whatever else it prints, so a full pipe never blocks it.
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield TlsServer(base, found["https"], found["mtls"]) if tls else Server(base)
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()


@pytest.fixture(scope="session")
def server():
    with local_server() as s:
        yield s


@pytest.fixture(scope="session")
def tls_server():
    with local_server(tls=True) as s:
        yield s


@pytest.fixture(params=["auth0", "cobuilder"])
def shape(request):
    return request.param
