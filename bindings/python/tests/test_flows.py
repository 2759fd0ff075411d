"""The user flows end to end against the local server, the test playing the
browser (it stops at each redirect and reads the Location): authorization
code with PKCE, implicit, refresh through a client, the loopback login, and
their failures. Mirrors tests/flows.rs and tests/c/bearer_test.c."""

import base64
import gc
import json
import socket
import threading
import time
import urllib.parse

import pytest

import bearer
from bearer import ProblemError, Status
from conftest import APP_REDIRECT, browse, get


def param(url: str, name: str, part: str = "query"):
    values = urllib.parse.parse_qs(getattr(urllib.parse.urlsplit(url), part)).get(name)
    return values[0] if values else None


def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def secrets_absent(err: ProblemError, *secrets):
    shown = " ".join([str(err), repr(err), repr(err.args), json.dumps(err.to_dict())])
    for secret in secrets:
        assert secret not in shown


# --- authorization code with PKCE -------------------------------------------


def test_authorization_code_with_pkce_signs_the_user_in(server):
    cfg = server.native()
    request = bearer.authorize_start(cfg)
    assert isinstance(request, bearer.AuthorizationRequest)
    assert request.response_type == "code"
    assert request.redirect_uri == APP_REDIRECT
    assert len(request.state) == 43, "256 bits of state"
    assert request.code_verifier and request.nonce
    url = request.url
    assert url.startswith(server.base + "/authorize?")
    assert param(url, "response_type") == "code"
    assert param(url, "code_challenge_method") == "S256"
    assert param(url, "state") == request.state
    assert param(url, "redirect_uri") == APP_REDIRECT
    assert param(url, "audience") == "https://beeapp.open-cosmos.com"

    before = server.stats()
    redirect = browse(url)
    assert redirect.startswith(APP_REDIRECT + "?")
    assert param(redirect, "state") == request.state
    tokens = bearer.authorize_complete(cfg, request, redirect)
    after = server.stats()
    assert after["authorize"] - before["authorize"] == 1
    assert after["auth0"] - before["auth0"] == 1, "one code exchange"

    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] > 0 and tokens["expires_at"] > time.time()
    assert claims(tokens["access_token"])["sub"]
    assert claims(tokens["id_token"])["nonce"] == request.nonce
    assert "refresh_token" not in tokens, "no offline_access, no refresh token"


def test_the_request_survives_a_round_trip_through_its_json(server):
    cfg = server.native()
    request = bearer.authorize_start(cfg)
    text = request.to_json()
    assert list(json.loads(text)) == ["url", "response_type", "redirect_uri", "state", "code_verifier", "nonce"]
    restored = bearer.AuthorizationRequest.from_json(text)
    assert restored == request and restored.to_json() == text
    assert restored.to_dict() == json.loads(text)
    assert bearer.AuthorizationRequest.from_json(text.encode()) == request

    # The same request in each form it may come back from a session; the
    # server gives a new code for each visit of the same URL.
    for kept in (restored, text, request.to_dict()):
        tokens = bearer.authorize_complete(cfg, kept, browse(request.url))
        assert tokens["access_token"].count(".") == 2


def test_the_request_never_shows_its_secrets(server):
    request = bearer.authorize_start(server.native())
    shown = repr(request) + str(request)
    assert APP_REDIRECT in shown
    for secret in (request.state, request.code_verifier, request.nonce, request.url):
        assert secret not in shown


def test_a_confidential_client_exchanges_the_code_with_its_secret(server):
    cfg = server.native(client_id="demo-client", client_secret="demo-secret")
    request = bearer.authorize_start(cfg)
    redirect = browse(request.url)
    tokens = bearer.authorize_complete(cfg, request, redirect)
    assert claims(tokens["access_token"])["sub"]
    with pytest.raises(ProblemError) as exc:
        bearer.authorize_complete(cfg, request, redirect)
    assert exc.value.type == "urn:bearer:problem:invalid-grant"
    secrets_absent(exc.value, "demo-secret", request.code_verifier, param(redirect, "code"))


# --- implicit -----------------------------------------------------------------


def test_the_implicit_flow_reads_the_token_from_the_fragment(server):
    cfg = {
        "client_id": "demo-client",
        "grant_type": "implicit",
        "redirect_uri": APP_REDIRECT,
        "authorize_url": server.base + "/authorize",
    }
    request = bearer.authorize_start(cfg)
    assert request.response_type == "token" and param(request.url, "response_type") == "token"
    assert request.code_verifier is None
    before = server.stats()["auth0"]
    redirect = browse(request.url)
    assert "#access_token=" in redirect
    tokens = bearer.authorize_complete(cfg, request, redirect)
    assert tokens["access_token"] == param(redirect, "access_token", "fragment")
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    assert server.stats()["auth0"] == before, "no token endpoint in the implicit flow"

    with pytest.raises(ProblemError) as exc:
        bearer.authorize_complete(cfg, request, redirect.replace("state=", "state=x"))
    assert exc.value.type == "urn:bearer:problem:invalid-callback"


# --- refresh through a client -----------------------------------------------------


def sign_in_offline(server) -> str:
    """Signs the test user in with offline_access; returns the refresh token."""
    cfg = server.native(scope="openid offline_access")
    request = bearer.authorize_start(cfg)
    tokens = bearer.authorize_complete(cfg, request, browse(request.url))
    return tokens["refresh_token"]


def refresh_config(server, refresh_token, **query):
    return {
        "client_id": "native-client",
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "token_url": server.url("auth0", **query),
    }


def test_a_client_refreshes_and_follows_rotation(server):
    first = sign_in_offline(server)
    before = server.stats()["refresh"]
    with bearer.Client(refresh_config(server, first, expires_in=2)) as client:
        a = client.token_response()
        assert client.token() == a["access_token"], "cached while fresh"
        assert server.stats()["refresh"] - before == 1
        rotated = a["refresh_token"]
        assert rotated != first, "the server rotated the refresh token"

        time.sleep(2.1)
        c = client.token_response()
        assert c["access_token"] != a["access_token"]
        assert server.stats()["refresh"] - before == 2, "the rotated token worked"

    # The first refresh token was used up by the rotation.
    with bearer.Client(refresh_config(server, first)) as stale:
        with pytest.raises(ProblemError) as exc:
            stale.token()
    assert exc.value.type == "urn:bearer:problem:invalid-grant"
    assert exc.value.code == Status.REJECTED
    secrets_absent(exc.value, first)


# --- the loopback login -----------------------------------------------------------


def loopback_config(server, **overrides):
    return server.native(redirect_uri=None, **overrides)


def test_the_loopback_login_takes_the_browsers_redirect(server):
    with bearer.LoopbackLogin(loopback_config(server)) as login:
        url = login.url
        assert url.startswith(server.base + "/authorize?")
        assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url
        callback = param(url, "redirect_uri")
        assert callback.endswith("/callback")

        seen = {}

        def browser():
            try:
                # A browser asks for a favicon too; it is not the callback.
                seen["favicon"] = get(callback.replace("/callback", "/favicon.ico"))[0]
                seen["page"] = get(browse(url))
            except BaseException as exc:  # reported by the main thread
                seen["error"] = exc

        thread = threading.Thread(target=browser)
        thread.start()
        tokens = login.wait(timeout=10)
        thread.join(10)
        assert "error" not in seen, seen.get("error")
        assert seen["favicon"] == 404
        status, page = seen["page"]
        assert status == 200 and "You are signed in" in page
        assert tokens["token_type"] == "Bearer" and claims(tokens["access_token"])["sub"]
        assert "id_token" in tokens

        with pytest.raises(ProblemError) as exc:
            login.wait(timeout=0.01)
        assert exc.value.code == Status.INVALID_ARGUMENT, "a login completes once"


def test_the_loopback_login_gives_up_after_its_timeout(server):
    with bearer.LoopbackLogin(loopback_config(server)) as login:
        started = time.monotonic()
        with pytest.raises(ProblemError) as exc:
            login.wait(timeout=0.2)
        assert time.monotonic() - started < 2
        assert exc.value.type == "urn:bearer:problem:timeout"
        assert exc.value.code == Status.TIMEOUT
        # A timeout does not finish the login: it can be waited on again.
        with pytest.raises(ProblemError) as again:
            login.wait(timeout=0)
        assert again.value.code == Status.TIMEOUT


def test_a_forged_callback_is_refused_and_the_login_goes_on(server):
    before = server.stats()["auth0"]
    with bearer.LoopbackLogin(loopback_config(server)) as login:
        forged = param(login.url, "redirect_uri") + "?code=stolen&state=forged"
        statuses = []

        # The forged request first, then the real browser: only the real
        # redirect ends the wait.
        def browser():
            statuses.append(get(forged)[0])
            statuses.append(get(browse(login.url))[0])

        thread = threading.Thread(target=browser)
        thread.start()
        tokens = login.wait(timeout=10)
        thread.join(10)
    assert statuses == [400, 200]
    assert tokens["access_token"].count(".") == 2
    assert server.stats()["auth0"] == before + 1, "only the real code is exchanged"


def test_close_twice_is_harmless_and_a_closed_login_fails_clearly(server):
    login = bearer.LoopbackLogin(loopback_config(server))
    assert not login.closed and "open" in repr(login)
    login.close()
    login.close()
    assert login.closed and "closed" in repr(login)
    assert login.url.startswith(server.base), "the url stays readable"
    with pytest.raises(bearer.ClientClosedError, match="login is closed"):
        login.wait(timeout=1)
    with pytest.raises(ValueError):
        with login:
            pass


def listener_port(login) -> int:
    return urllib.parse.urlsplit(param(login.url, "redirect_uri")).port


def refuses(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_close_and_garbage_collection_close_the_listener(server):
    login = bearer.LoopbackLogin(loopback_config(server))
    port = listener_port(login)
    assert not refuses(port)
    login.close()
    assert refuses(port)

    login = bearer.LoopbackLogin(loopback_config(server))
    port = listener_port(login)
    del login
    gc.collect()
    assert refuses(port), "__del__ freed the forgotten login"


def test_close_waits_for_a_wait_running_in_another_thread(server):
    login = bearer.LoopbackLogin(loopback_config(server))
    outcome = []

    def waiter():
        try:
            login.wait(timeout=0.5)
        except ProblemError as exc:
            outcome.append(exc.code)

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.1)
    started = time.monotonic()
    login.close()  # must not free the handle under the waiting thread
    assert time.monotonic() - started > 0.2
    thread.join(5)
    assert outcome == [Status.TIMEOUT]


# --- failures of authorize_complete ------------------------------------------------


def test_a_wrong_or_missing_state_is_refused_before_any_exchange(server):
    cfg = server.native()
    request = bearer.authorize_start(cfg)
    redirect = browse(request.url)
    before = server.stats()["auth0"]

    forged = redirect.replace(request.state, "forged-state")
    with pytest.raises(ProblemError) as exc:
        bearer.authorize_complete(cfg, request, forged)
    err = exc.value
    assert err.type == "urn:bearer:problem:invalid-callback"
    assert err.code == Status.INVALID_ARGUMENT and err.status == 400
    assert err.extensions["reason"] == "state_mismatch"
    secrets_absent(err, request.state, request.code_verifier)

    stateless = f"{APP_REDIRECT}?code={param(redirect, 'code')}"
    with pytest.raises(ProblemError) as exc:
        bearer.authorize_complete(cfg, request, stateless)
    assert exc.value.type == "urn:bearer:problem:invalid-callback"

    elsewhere = redirect.replace("127.0.0.1:9", "127.0.0.1:10")
    with pytest.raises(ProblemError) as exc:
        bearer.authorize_complete(cfg, request, elsewhere)
    assert exc.value.type == "urn:bearer:problem:invalid-callback"
    assert server.stats()["auth0"] == before, "nothing was exchanged"


def test_a_code_works_once(server):
    cfg = server.native()
    request = bearer.authorize_start(cfg)
    redirect = browse(request.url)
    bearer.authorize_complete(cfg, request, redirect)
    with pytest.raises(ProblemError) as exc:
        bearer.authorize_complete(cfg, request, redirect)
    err = exc.value
    assert err.type == "urn:bearer:problem:invalid-grant"
    assert err.code == Status.REJECTED and err.status == 403
    assert err.extensions["error"] == "invalid_grant"
    assert str(err) == f"{err.title}: {err.detail}"
    secrets_absent(err, param(redirect, "code"), request.code_verifier)


def test_a_wrong_verifier_fails_pkce(server):
    cfg = server.native()
    request = bearer.authorize_start(cfg)
    redirect = browse(request.url)
    tampered = dict(json.loads(request.to_json()), code_verifier="x" * 43)
    with pytest.raises(ProblemError) as exc:
        bearer.authorize_complete(cfg, json.dumps(tampered), redirect)
    assert exc.value.type == "urn:bearer:problem:invalid-grant"
    assert exc.value.code == Status.REJECTED
    assert exc.value.detail == "Failed PKCE verification"


def test_a_declined_sign_in_is_authorization_denied(server):
    cfg = server.native()
    request = bearer.authorize_start(cfg)
    before = server.stats()["auth0"]
    redirect = browse(request.url + "&deny=1")
    assert param(redirect, "error") == "access_denied"
    with pytest.raises(ProblemError) as exc:
        bearer.authorize_complete(cfg, request, redirect)
    err = exc.value
    assert err.type == "urn:bearer:problem:authorization-denied"
    assert err.status == 403 and err.code == Status.REJECTED
    assert err.extensions["error"] == "access_denied"
    assert server.stats()["auth0"] == before


# --- bad inputs ------------------------------------------------------------------------


def test_bad_arguments_are_refused_clearly(server):
    cfg = server.native()
    request = bearer.authorize_start(cfg)
    with pytest.raises(TypeError, match="not None"):
        bearer.authorize_start(None)
    with pytest.raises(TypeError, match="redirect_url"):
        bearer.authorize_complete(cfg, request, None)
    with pytest.raises(TypeError, match="request"):
        bearer.authorize_complete(cfg, None, APP_REDIRECT)
    with pytest.raises(ValueError, match="NUL"):
        bearer.authorize_complete(cfg, request, APP_REDIRECT + "\0")
    # What the library checks comes back as its problem.
    with pytest.raises(ProblemError) as exc:
        bearer.authorize_complete(cfg, "{}", APP_REDIRECT + "?code=x&state=y")
    assert exc.value.code == Status.INVALID_ARGUMENT
    with pytest.raises(ProblemError) as exc:
        bearer.authorize_complete(cfg, request, b"\xff")
    assert exc.value.code == Status.INVALID_ARGUMENT

    with pytest.raises(ValueError):
        bearer.AuthorizationRequest.from_json("[]")
    with pytest.raises(ValueError):
        bearer.AuthorizationRequest.from_json("{")


def test_user_flow_configurations_are_checked(server):
    with pytest.raises(ProblemError) as exc:
        bearer.authorize_start(server.native(redirect_uri=None))
    assert exc.value.code == Status.INVALID_CONFIG and exc.value.extensions["key"] == "redirect_uri"
    with pytest.raises(ProblemError) as exc:
        bearer.authorize_start(server.native(redirect_uri="http://example.com/callback"))
    assert exc.value.type == "urn:bearer:problem:insecure-url"
    with pytest.raises(ProblemError) as exc:
        bearer.LoopbackLogin(server.native(redirect_uri="https://app.example.com/callback"))
    assert exc.value.extensions["key"] == "redirect_uri"
    with pytest.raises(ProblemError) as exc:
        bearer.Client({"client_id": "x", "grant_type": "refresh_token"})
    assert exc.value.extensions["key"] == "refresh_token"


@pytest.mark.parametrize("timeout", [-1, float("nan"), float("inf"), 5_000_000])
def test_a_wait_out_of_range_is_a_value_error(server, timeout):
    with bearer.LoopbackLogin(loopback_config(server)) as login:
        with pytest.raises(ValueError, match="timeout"):
            login.wait(timeout=timeout)


def test_a_wait_takes_a_number_or_a_timedelta(server):
    import datetime

    with bearer.LoopbackLogin(loopback_config(server)) as login:
        with pytest.raises(TypeError):
            login.wait(timeout="10")
        with pytest.raises(ProblemError) as exc:
            login.wait(timeout=datetime.timedelta(milliseconds=50))
        assert exc.value.code == Status.TIMEOUT
