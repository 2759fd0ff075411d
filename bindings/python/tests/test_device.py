"""The device authorization grant (RFC 8628) against the local server: the
test plays the user on their phone (``POST /_device?user_code=...&action=``
approve, deny or slow_down) while the binding polls.

Every device URL carries ``interval=0`` (or 1) so that the polls are quick;
only the slow_down test waits, the 5 s that slow_down adds.
"""

import asyncio
import threading
import time
import json
import re
import urllib.parse

import pytest

import bearer
from bearer import ProblemError, Status
from conftest import post


def device_config(server, **query) -> dict:
    query.setdefault("interval", 0)
    return {
        "client_id": "native-client",
        "grant_type": "device_code",
        "device_authorization_url": server.base + "/oauth/device/code?" + urllib.parse.urlencode(query),
        "token_url": server.base + "/oauth/token",
        "audience": "https://beeapp.open-cosmos.com",
        "scope": "openid offline_access",
    }


def user(server, login: bearer.DeviceLogin, action: str) -> None:
    """What the user does at the verification URI."""
    query = urllib.parse.urlencode({"user_code": login.user_code, "action": action})
    assert post(f"{server.base}/_device?{query}") < 300


def later(seconds: float, fn, *args) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), fn(*args)), daemon=True)
    thread.start()
    return thread


def test_start_shows_the_codes(server):
    before = server.stats()
    with bearer.DeviceLogin.start(device_config(server)) as login:
        assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", login.user_code)
        assert login.verification_uri == server.base + "/activate"
        assert login.verification_uri_complete == server.base + "/activate?user_code=" + login.user_code
        assert login.expires_in == 900
        assert login.interval == 0
        assert login.user_code not in repr(login)
    assert server.stats()["device"] - before["device"] == 1


def test_approved_from_another_thread_gives_tokens(server):
    before = server.stats()
    with bearer.DeviceLogin.start(device_config(server)) as login:
        approver = later(0.2, user, server, login, "approve")
        tokens = login.poll()
        approver.join()
    assert tokens["access_token"].startswith("eyJ") and tokens["refresh_token"]
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    after = server.stats()
    assert after["device"] - before["device"] == 1
    assert after["device_polls"] - before["device_polls"] >= 2  # pending, then the tokens


def test_approved_before_the_first_poll(server):
    with bearer.DeviceLogin.start(device_config(server, interval=1)) as login:
        user(server, login, "approve")
        assert "refresh_token" in login.poll()


def test_the_device_url_may_come_from_the_issuers_discovery(server):
    cfg = device_config(server)
    del cfg["device_authorization_url"], cfg["token_url"]
    cfg["issuer"] = server.base + "/"
    with bearer.DeviceLogin.start(cfg) as login:
        assert login.verification_uri == server.base + "/activate"
        user(server, login, "approve")  # before the first poll: no wait for the interval
        assert "refresh_token" in login.poll()


def test_denied_is_authorization_denied(server):
    with bearer.DeviceLogin.start(device_config(server)) as login:
        later(0.1, user, server, login, "deny")
        with pytest.raises(ProblemError) as info:
            login.poll()
    assert info.value.type == "urn:bearer:problem:authorization-denied"
    assert info.value.code == Status.REJECTED


def test_expired_codes_are_device_code_expired(server):
    with bearer.DeviceLogin.start(device_config(server, expires_in=1)) as login:
        assert login.expires_in == 1
        with pytest.raises(ProblemError) as info:
            login.poll()
    assert info.value.type == "urn:bearer:problem:device-code-expired"
    assert info.value.code == Status.REJECTED


def test_cancel_from_another_thread_ends_the_poll_at_once(server):
    with bearer.DeviceLogin.start(device_config(server, interval=1)) as login:
        cancelled_at = []
        later(0.3, lambda: (cancelled_at.append(time.monotonic()), login.cancel()))
        with pytest.raises(ProblemError) as info:
            login.poll()
        returned = time.monotonic()
        assert info.value.type == "urn:bearer:problem:cancelled"
        assert info.value.code == Status.CANCELLED == 9
        assert returned - cancelled_at[0] < 0.5
        # Every later poll is cancelled too.
        with pytest.raises(ProblemError) as again:
            login.poll()
        assert again.value.code == Status.CANCELLED


def test_close_while_polling_cancels_the_poll(server):
    login = bearer.DeviceLogin.start(device_config(server, interval=1))
    errors = []

    def poll():
        try:
            login.poll()
        except ProblemError as exc:
            errors.append(exc)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.2)
    started = time.monotonic()
    login.close()
    assert time.monotonic() - started < 0.5
    poller.join(5)
    assert [e.code for e in errors] == [Status.CANCELLED]
    assert login.closed
    with pytest.raises(bearer.ClientClosedError, match="device login is closed"):
        login.poll()
    login.cancel()  # harmless
    login.close()  # twice is harmless


def test_slow_down_is_honoured(server):
    with bearer.DeviceLogin.start(device_config(server)) as login:
        user(server, login, "slow_down")
        # Approved once the slowed-down poll is under way; it still succeeds.
        later(1.0, user, server, login, "approve")
        started = time.monotonic()
        tokens = login.poll()
        elapsed = time.monotonic() - started
    assert "access_token" in tokens
    assert elapsed >= 4.5, f"slow_down adds 5 s, the poll took {elapsed:.2f} s"


def test_poll_async_gives_tokens(server):
    async def main():
        with bearer.DeviceLogin.start(device_config(server)) as login:
            ticks = 0
            task = asyncio.ensure_future(login.poll_async())
            for _ in range(3):  # the loop keeps running while the poll blocks
                await asyncio.sleep(0.05)
                ticks += 1
            await asyncio.get_running_loop().run_in_executor(None, user, server, login, "approve")
            return ticks, await asyncio.wait_for(task, 10)

    ticks, tokens = asyncio.run(main())
    assert ticks == 3 and tokens["refresh_token"]


def test_poll_async_raises_the_problem(server):
    async def main():
        with bearer.DeviceLogin.start(device_config(server)) as login:
            await asyncio.get_running_loop().run_in_executor(None, user, server, login, "deny")
            await login.poll_async()

    with pytest.raises(ProblemError) as info:
        asyncio.run(main())
    assert info.value.type == "urn:bearer:problem:authorization-denied"


def test_cancelling_the_task_cancels_the_poll(server):
    async def main():
        login = bearer.DeviceLogin.start(device_config(server, interval=1))
        task = asyncio.ensure_future(login.poll_async())
        await asyncio.sleep(0.2)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        took = time.monotonic() - started
        # The poll let go of the handle: close does not wait.
        closing = time.monotonic()
        login.close()
        return took, time.monotonic() - closing

    took, closing = asyncio.run(main())
    assert took < 0.5 and closing < 0.1


def test_timeout_of_poll_async_cancels_the_poll(server):
    async def main():
        with bearer.DeviceLogin.start(device_config(server, interval=1)) as login:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(login.poll_async(), 0.3)
            with pytest.raises(ProblemError) as info:
                login.poll()  # cancelled for good
            return info.value.code

    assert asyncio.run(main()) == Status.CANCELLED


def test_no_device_authorization_url_is_invalid_config(server):
    cfg = device_config(server)
    del cfg["device_authorization_url"]
    before = server.stats()["device"]
    with pytest.raises(ProblemError) as info:
        bearer.DeviceLogin.start(cfg)
    assert info.value.type == "urn:bearer:problem:invalid-config"
    assert info.value.code == Status.INVALID_CONFIG
    assert info.value.extensions["key"] == "device_authorization_url"
    assert server.stats()["device"] == before


def test_start_takes_json_text_and_refuses_none(server):
    with bearer.DeviceLogin.start(json.dumps(device_config(server))) as login:
        assert login.user_code
    with pytest.raises(TypeError):
        bearer.DeviceLogin.start(None)
    with pytest.raises(TypeError):
        bearer.DeviceLogin()
