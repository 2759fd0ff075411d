"""The HTTP-client integrations against the local server's protected
resource: requests (bearer.BearerAuth), httpx.Client and httpx.AsyncClient
(bearer.httpx.BearerAuth). Each test runs for every integration, with a
fresh client (each client has its own two-second refusal window).

The server counts token requests (``auth0``), requests under /api/ (``api``)
and invalid_token answers (``api_refused``) at /_stats.
"""

import asyncio
import json
import threading
import urllib.parse
import urllib.request

import pytest

import bearer
from conftest import local_server

requests = pytest.importorskip("requests")  # Debian: python3-requests
httpx = pytest.importorskip("httpx")  # Debian: python3-httpx
import bearer.httpx  # noqa: E402  (after the skip: it imports httpx)

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
N = 16

#: Every header these clients send; a retry marker would be something else.
PLAIN_HEADERS = {
    "host", "user-agent", "accept", "accept-encoding", "connection",
    "authorization", "content-length", "content-type", "transfer-encoding",
}


def revoke(server):
    """Every token issued so far is refused from now on."""
    req = urllib.request.Request(server.base + "/_revoke", data=b"", method="POST")
    with _opener.open(req, timeout=5):
        pass


def delta(before, after):
    return {k: after[k] - before[k] for k in ("auth0", "api", "api_refused")}


def chunks():
    """A body that can be read once (sent chunked)."""
    yield b"read "
    yield b"once"


async def achunks():
    yield b"read "
    yield b"once"


class Requests:
    name = "requests"

    def __init__(self, client, retry=True):
        self.auth = bearer.BearerAuth(client, retry=retry)
        self.session = self.new_session()

    def new_session(self):
        session = requests.Session()
        session.trust_env = False  # no proxy, no netrc
        session.auth = self.auth
        return session

    def call(self, method, url, body=None, stream=False, session=None, files=None):
        data = chunks() if stream else body
        r = (session or self.session).request(method, url, data=data, files=files, timeout=10)
        return r.status_code, r.json() if r.headers.get("content-type") == "application/json" else None

    def concurrent(self, url, n):
        sessions = [self.new_session() for _ in range(n)]
        return run_threads(n, lambda i: self.call("GET", url, session=sessions[i]))


class HttpxSync:
    name = "httpx"

    def __init__(self, client, retry=True):
        self.auth = bearer.httpx.BearerAuth(client, retry=retry)
        self.http = httpx.Client(auth=self.auth, follow_redirects=True, trust_env=False, timeout=10)

    def call(self, method, url, body=None, stream=False, files=None):
        r = self.http.request(method, url, content=chunks() if stream else body, files=files)
        return r.status_code, r.json() if r.headers.get("content-type") == "application/json" else None

    def concurrent(self, url, n):
        return run_threads(n, lambda i: self.call("GET", url))


class HttpxAsync:
    name = "httpx-async"

    def __init__(self, client, retry=True):
        self.auth = bearer.httpx.BearerAuth(client, retry=retry)

    def _http(self):
        return httpx.AsyncClient(auth=self.auth, follow_redirects=True, trust_env=False, timeout=10)

    @staticmethod
    def _result(r):
        return r.status_code, r.json() if r.headers.get("content-type") == "application/json" else None

    def call(self, method, url, body=None, stream=False, files=None):
        async def go():
            async with self._http() as http:
                content = achunks() if stream else body
                return self._result(await http.request(method, url, content=content, files=files))

        return asyncio.run(go())

    def concurrent(self, url, n):
        async def go():
            async with self._http() as http:
                return [self._result(r) for r in await asyncio.gather(*(http.get(url) for _ in range(n)))]

        return asyncio.run(go())


def run_threads(n, fn):
    """fn(i) in n threads released together; their results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = []

    def work(i):
        try:
            barrier.wait(timeout=10)
            results[i] = fn(i)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


@pytest.fixture(params=[Requests, HttpxSync, HttpxAsync], ids=lambda kind: kind.name)
def kind(request):
    return request.param


@pytest.fixture
def client(server):
    with bearer.Client(server.auth0()) as c:
        yield c


@pytest.fixture(scope="module")
def other_server():
    """A second `bearer serve`: another port is another origin."""
    with local_server() as s:
        yield s


def test_the_token_is_attached_once(server, client, kind):
    http = kind(client)
    status, body = http.call("GET", server.base + "/api/whoami")
    assert status == 200
    assert body["sub"] == "demo-client@clients" and body["authorization"] is True
    assert body["headers"].count("authorization") == 1
    assert set(body["headers"]) <= PLAIN_HEADERS


def test_a_revoked_token_is_replaced_once_and_the_request_retried(server, client, kind):
    http = kind(client)
    assert http.call("GET", server.base + "/api/whoami")[0] == 200
    old = client.token()
    revoke(server)
    before = server.stats()
    status, body = http.call("GET", server.base + "/api/whoami")
    assert status == 200
    assert delta(before, server.stats()) == {"auth0": 1, "api": 2, "api_refused": 1}
    assert client.token() != old
    assert body["headers"].count("authorization") == 1
    assert set(body["headers"]) <= PLAIN_HEADERS  # no retry marker on the wire


def test_concurrent_requests_on_a_revoked_token_share_one_new_token(server, client, kind):
    http = kind(client)
    assert http.call("GET", server.base + "/api/whoami")[0] == 200
    revoke(server)
    before = server.stats()
    results = http.concurrent(server.base + "/api/whoami", N)
    assert [status for status, _ in results] == [200] * N
    after = server.stats()
    assert after["auth0"] - before["auth0"] == 1
    assert after["api"] - before["api"] == N + (after["api_refused"] - before["api_refused"])


def test_insufficient_scope_passes_through(server, client, kind):
    http = kind(client)
    client.token()
    before = server.stats()
    status, _ = http.call("GET", server.base + "/api/admin/users")
    assert status == 403
    assert delta(before, server.stats()) == {"auth0": 0, "api": 1, "api_refused": 0}


def test_a_refusal_on_the_retry_comes_back(server, client, kind):
    http = kind(client)
    client.token()
    before = server.stats()
    status, body = http.call("GET", server.base + "/api/refuse")
    assert status == 401 and body == {"error": "invalid_token"}
    assert delta(before, server.stats()) == {"auth0": 1, "api": 2, "api_refused": 2}


def test_a_post_body_is_sent_again_on_the_retry(server, client, kind):
    http = kind(client)
    client.token()
    revoke(server)
    before = server.stats()
    status, body = http.call("POST", server.base + "/api/items", body=b'{"name": "ok"}')
    assert status == 200
    assert body["method"] == "POST" and body["body"] == '{"name": "ok"}'
    assert delta(before, server.stats()) == {"auth0": 1, "api": 2, "api_refused": 1}


def test_an_uploaded_file_is_sent_again_on_the_retry(server, client, kind):
    import io

    http = kind(client)
    client.token()
    revoke(server)
    before = server.stats()
    status, body = http.call("POST", server.base + "/api/upload", files={"report": ("r.txt", io.BytesIO(b"file body"))})
    assert status == 200 and "file body" in body["body"] and 'name="report"' in body["body"]
    assert delta(before, server.stats()) == {"auth0": 1, "api": 2, "api_refused": 1}


def test_a_streamed_body_is_not_sent_twice(server, client, kind):
    http = kind(client)
    client.token()
    revoke(server)
    before = server.stats()
    status, body = http.call("POST", server.base + "/api/items", stream=True)
    assert status == 401 and body == {"error": "invalid_token"}
    # Reported all the same: the next request carries a new token.
    assert delta(before, server.stats()) == {"auth0": 0, "api": 1, "api_refused": 1}
    status, body = http.call("POST", server.base + "/api/items", stream=True)
    assert status == 200 and body["body"] == "read once"
    assert delta(before, server.stats()) == {"auth0": 1, "api": 2, "api_refused": 1}


def test_a_redirect_to_another_origin_drops_the_token(server, other_server, client, kind):
    http = kind(client)
    target = other_server.base + "/api/open"
    before = other_server.stats()
    status, body = http.call("GET", server.base + "/api/redirect?to=" + urllib.parse.quote(target, safe=""))
    assert status == 200
    assert body["path"] == "/api/open" and body["authorization"] is False
    assert other_server.stats()["api"] - before["api"] == 1
    # The same origin keeps it.
    status, body = http.call("GET", server.base + "/api/redirect?to=" + urllib.parse.quote(server.base + "/api/open", safe=""))
    assert status == 200 and body["authorization"] is True


def test_without_retry_the_refusal_is_reported_and_the_401_returned(server, client, kind):
    http = kind(client, retry=False)
    old = client.token()
    revoke(server)
    before = server.stats()
    status, body = http.call("GET", server.base + "/api/whoami")
    assert status == 401 and body == {"error": "invalid_token"}
    assert delta(before, server.stats()) == {"auth0": 0, "api": 1, "api_refused": 1}
    status, _ = http.call("GET", server.base + "/api/whoami")
    assert status == 200
    assert delta(before, server.stats()) == {"auth0": 1, "api": 2, "api_refused": 1}
    assert client.token() != old


def test_no_token_no_request(server, kind):
    with bearer.Client(server.auth0(client_secret="wrong")) as client:
        http = kind(client)
        before = server.stats()
        with pytest.raises(bearer.ProblemError) as exc:
            http.call("GET", server.base + "/api/whoami")
        assert exc.value.code == bearer.Status.REJECTED
        assert server.stats()["api"] - before["api"] == 0


def test_requests_rewinds_a_file_body_for_the_retry(server, client):
    import io

    http = Requests(client)
    client.token()
    revoke(server)
    before = server.stats()
    status, body = http.call("POST", server.base + "/api/items", body=io.BytesIO(b"from a file"))
    assert status == 200 and body["body"] == "from a file"
    assert delta(before, server.stats()) == {"auth0": 1, "api": 2, "api_refused": 1}


@pytest.mark.parametrize("kind", [Requests, HttpxSync, HttpxAsync], ids=lambda kind: kind.name)
def test_a_revoked_token_is_replaced_behind_a_same_origin_redirect(server, client, kind):
    http = kind(client)
    client.token()
    revoke(server)
    before = server.stats()
    status, body = http.call("GET", server.base + "/api/redirect?to=" + urllib.parse.quote(server.base + "/api/whoami", safe=""))
    assert status == 200 and body["path"] == "/api/whoami" and body["authorization"] is True
    after = server.stats()
    assert after["auth0"] - before["auth0"] == 1 and after["api_refused"] - before["api_refused"] == 1


def test_the_async_flow_fetches_a_token_off_the_event_loop(server):
    """The token server stalls 0.3 s; meanwhile the loop keeps running."""
    with bearer.Client(server.auth0(query={"fault": "stall", "stall_ms": 300})) as client:
        auth = bearer.httpx.BearerAuth(client)

        async def go():
            ticks = 0
            done = asyncio.Event()

            async def ticker():
                nonlocal ticks
                while not done.is_set():
                    ticks += 1
                    await asyncio.sleep(0.01)

            task = asyncio.ensure_future(ticker())
            async with httpx.AsyncClient(auth=auth, trust_env=False, timeout=10) as http:
                r = await http.get(server.base + "/api/whoami")
            done.set()
            await task
            return r.status_code, ticks

        status, ticks = asyncio.run(go())
        assert status == 200
        assert ticks >= 5  # a blocked loop would have ticked once
