"""A few thousand mixed calls through the binding, for bindings/valgrind.sh:
clients made and closed, tokens, token responses, headers, one-shot
fetches, every kind of error, authorize_start, private_key_jwt clients,
device sign-ins (approved, and cancelled), and threads sharing one client. Prints what it did; exits 1 on any unexpected outcome.

    PYTHONPATH=src BEARER_STRESS_CALLS=3000 python3 tests/stress.py
"""

import os
import pathlib
import socket
import sys
import threading

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from conftest import APP_REDIRECT, KEYS, local_server, post  # noqa: E402

import bearer  # noqa: E402

CANARY = "canary-SECRET-7f3a9c2e1b"
THREADS = 4


def closed_port() -> int:
    """A loopback port nothing listens on: bound, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expect_problem(call, code, type_suffix):
    try:
        call()
    except bearer.ProblemError as err:
        text = f"{err} {err.to_dict()}"
        assert CANARY not in text, "the secret crossed the boundary"
        assert err.code == code, f"code {err.code!r}, expected {code!r}: {err}"
        assert err.type.endswith(type_suffix), f"type {err.type}, expected *{type_suffix}"
        return
    raise AssertionError(f"no problem raised, expected {type_suffix}")


def main() -> int:
    calls = int(os.environ.get("BEARER_STRESS_CALLS", "3000"))
    dead = f"http://127.0.0.1:{closed_port()}/oauth/token"
    counts, failures = {}, []

    with local_server() as server:
        shared = bearer.Client(server.auth0())

        def client_cycle():
            shape = "auth0" if counts.get("client", 0) % 2 == 0 else "cobuilder"
            with bearer.Client(server.config(shape)) as client:
                token = client.token()
                assert token and client.token() == token
                assert client.authorization_header() == "Bearer " + token
                assert client.token_response()["access_token"] == token

        def shared_calls():
            token = shared.token()
            assert shared.authorization_header() == "Bearer " + token
            assert shared.token_response()["token_type"] == "Bearer"

        def one_shot():
            cfg = server.cobuilder(query={"t": "one-shot"})
            assert bearer.fetch_token(cfg) == bearer.fetch_token_response(cfg)["access_token"]

        def wrong_secret():
            cfg = server.auth0(client_secret=CANARY)
            expect_problem(lambda: bearer.fetch_token(cfg), bearer.Status.REJECTED, ":unauthorized")

        def closed():
            cfg = server.auth0(token_url=dead, timeout_ms=2000)
            expect_problem(lambda: bearer.Client(cfg).token(), bearer.Status.UNAVAILABLE, ":unreachable")

        def invalid_config():
            expect_problem(lambda: bearer.Client('{"client_id": '), bearer.Status.INVALID_CONFIG, ":invalid-config")
            bad_key = dict(server.auth0(), client_secrett=CANARY)
            expect_problem(lambda: bearer.fetch_token(bad_key), bearer.Status.INVALID_CONFIG, ":invalid-config")

        def invalid_utf8():
            text = b'{"client_id": "\xff\xfe", "client_secret": "' + CANARY.encode() + b'"}'
            expect_problem(lambda: bearer.fetch_token(text), bearer.Status.INVALID_ARGUMENT, ":invalid-argument")

        def authorize():
            cfg = server.native()
            request = bearer.authorize_start(cfg)
            assert request.url.startswith(server.base + "/authorize?")
            forged = f"{APP_REDIRECT}?code=x&state=not-{request.state}"
            expect_problem(lambda: bearer.authorize_complete(cfg, request, forged),
                           bearer.Status.INVALID_ARGUMENT, ":invalid-callback")

        def refused():
            with bearer.Client(server.auth0()) as client:
                token = client.token()
                assert client.token_refused(token) is True
                assert client.token() != token
                assert client.token_refused(token) is False
            expect_problem(lambda: bearer.token_refused('{"client_id": ', token),
                           bearer.Status.INVALID_CONFIG, ":invalid-config")

        def jwt_config(key):
            return {
                "client_id": "jwt-client",
                "client_auth": "private_key_jwt",
                "private_key_file": str(KEYS / key),
                "audience": "https://beeapp.open-cosmos.com",
                "token_url": server.base + "/oauth/token",
            }

        def private_key_jwt():
            with bearer.Client(jwt_config("ec.key")) as client:
                token = client.token()
                assert client.token_refused(token) is True
                assert client.token() != token
            expect_problem(lambda: bearer.fetch_token(jwt_config("encrypted.key")),
                           bearer.Status.INVALID_CONFIG, ":invalid-config")

        device_cfg = {
            "client_id": "native-client",
            "grant_type": "device_code",
            "device_authorization_url": server.base + "/oauth/device/code?interval=0",
            "token_url": server.base + "/oauth/token",
            "audience": "https://beeapp.open-cosmos.com",
            "scope": "openid offline_access",
        }

        def device():
            with bearer.DeviceLogin.start(device_cfg) as login:
                assert post(f"{server.base}/_device?user_code={login.user_code}&action=approve") < 300
                assert "refresh_token" in login.poll()
            login = bearer.DeviceLogin.start(device_cfg)
            login.cancel()
            expect_problem(login.poll, bearer.Status.CANCELLED, ":cancelled")
            login.close()

        def threads():
            errors = []

            def work():
                try:
                    for _ in range(5):
                        token = shared.token()
                        assert shared.authorization_header() == "Bearer " + token
                except BaseException as exc:  # collected, reported below
                    errors.append(exc)

            pool = [threading.Thread(target=work) for _ in range(THREADS)]
            for t in pool:
                t.start()
            for t in pool:
                t.join(60)
            if errors:
                raise errors[0]

        # (operation, library calls it makes): a round is 54 calls.
        mix = [
            ("client", client_cycle, 6), ("shared", shared_calls, 3), ("shared", shared_calls, 3),
            ("one-shot", one_shot, 2), ("wrong-secret", wrong_secret, 1), ("closed-port", closed, 2),
            ("invalid-config", invalid_config, 2), ("invalid-utf8", invalid_utf8, 1),
            ("authorize", authorize, 2), ("shared", shared_calls, 3), ("client", client_cycle, 6),
            ("wrong-secret", wrong_secret, 1), ("one-shot", one_shot, 2), ("shared", shared_calls, 3),
            ("refused", refused, 5), ("device", device, 7), ("private-key-jwt", private_key_jwt, 6),
        ]
        done, i = 0, 0
        while done < calls:
            name, op, cost = mix[i % len(mix)]
            if i % (len(mix) * 8) == len(mix) * 4:
                name, op, cost = "threads", threads, THREADS * 10
            i += 1
            try:
                op()
            except BaseException as exc:  # counted; the run goes on
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
            counts[name] = counts.get(name, 0) + 1
            done += cost
        threads()
        shared.close()
        done += THREADS * 10

    bearer.global_cleanup()
    print(f"python stress: {done} calls ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}), "
          f"{len(failures)} unexpected")
    for line in failures[:10]:
        print("  " + line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
