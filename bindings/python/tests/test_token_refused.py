"""Compare-and-invalidate: an API refused a token, the cache drops it only
if it is still the current one, at most once per client every two seconds."""

import subprocess
import sys
import textwrap

import pytest

import bearer
from bearer._auth import is_refusal
from conftest import BINDING


def test_refusing_the_current_token_drops_it(server):
    with bearer.Client(server.auth0()) as client:
        old = client.token()
        before = server.stats()["auth0"]
        assert client.token_refused(old) is True
        new = client.token()
        assert new != old
        assert server.stats()["auth0"] - before == 1
        # A late refusal of the token already replaced drops nothing.
        assert client.token_refused(old) is False
        assert client.token() == new


def test_a_second_drop_within_two_seconds_does_nothing(server):
    with bearer.Client(server.auth0()) as client:
        assert client.token_refused(client.token()) is True
        second = client.token()
        assert client.token_refused(second) is False  # the window
        assert client.token() == second


def test_the_one_shot_cache_drops_a_refused_token(server):
    config = server.auth0()
    old = bearer.fetch_token(config)
    assert bearer.token_refused(config, old) is True
    new = bearer.fetch_token(config)
    assert new != old
    assert bearer.token_refused(config, old) is False


def test_bad_arguments(server):
    with bearer.Client(server.auth0()) as client:
        with pytest.raises(TypeError):
            client.token_refused(None)
        with pytest.raises(TypeError):
            client.token_refused(42)
        with pytest.raises(ValueError):
            client.token_refused("a\0b")
    with pytest.raises(bearer.ClientClosedError):
        client.token_refused("x")
    with pytest.raises(TypeError):
        bearer.token_refused(server.auth0(), None)
    with pytest.raises(TypeError):
        bearer.token_refused(None, "x")
    with pytest.raises(bearer.ProblemError) as exc:
        bearer.token_refused("{", "x")
    assert exc.value.code == bearer.Status.INVALID_CONFIG


@pytest.mark.parametrize(
    "status, challenge, refused",
    [
        (401, None, True),
        (401, 'Bearer realm="api"', True),
        (401, 'Bearer realm="api", error="invalid_token", error_description="expired, or revoked"', True),
        (401, "bearer error=invalid_token", True),
        (401, 'Basic realm="x", Bearer realm="api", error="invalid_token"', True),
        (401, 'Bearer realm="api", error="invalid_request"', False),
        (401, 'Basic realm="x"', False),
        (403, 'Bearer realm="api", error="insufficient_scope", scope="admin"', False),
        (403, None, False),
        (200, None, False),
    ],
)
def test_which_answers_refuse_the_token(status, challenge, refused):
    assert is_refusal(status, challenge) is refused


def test_bearer_loads_without_requests_and_httpx():
    script = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("requests", "httpx"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)

        sys.meta_path.insert(0, Block())
        import bearer

        class Request:
            headers = {}

        class Client(bearer.Client):
            def __init__(self):
                pass
            def authorization_header(self):
                return "Bearer t"

        assert bearer.BearerAuth(Client())(Request()).headers == {"Authorization": "Bearer t"}
        assert "requests" not in sys.modules and "httpx" not in sys.modules
        try:
            import bearer.httpx
        except ModuleNotFoundError as exc:
            assert exc.name == "httpx", exc
        else:
            raise AssertionError("bearer.httpx imported without httpx")
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=BINDING, env={"PYTHONPATH": str(BINDING / "src")},
        capture_output=True, text=True, timeout=30,
    )
    assert out.stdout.strip() == "ok", out.stderr
