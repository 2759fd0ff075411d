"""After os.fork(), a child uses none of its parent's pooled connections:
the shape of gunicorn or Celery with preload. Every token a process gets is
for the client it asked as, while parent and children fetch at once."""

import base64
import json
import os

import bearer

ROUNDS = 3
CHILDREN = 4
CALLS = 20

SECOND = {"client_id": "m2m-second", "client_secret": "m2m-second-secret"}


def holder(token: str) -> str:
    """Whose token it is: the local server's client tokens say `<id>@clients`."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims["sub"].removesuffix("@clients")


def wrong_tokens(server, offset: int) -> int:
    """CALLS fresh clients, alternating between two credentials: how many
    calls failed or got another client's token."""
    wrong = 0
    for call in range(CALLS):
        overrides = SECOND if (call + offset) % 2 else {}
        cfg = server.auth0(**overrides)
        try:
            with bearer.Client(cfg) as client:
                token = client.token()
            wrong += holder(token) != cfg["client_id"]
        except bearer.ProblemError:
            wrong += 1
    return wrong


def test_parent_and_forked_children_each_get_their_own_clients_tokens(server):
    for round_ in range(ROUNDS):
        # One kept-alive connection in the shared pool, as the fork finds it.
        pooled = bearer.Client(server.auth0())
        parents_token = pooled.token()
        children = []
        for child in range(CHILDREN):
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    # The cached token stays valid in the child.
                    code = 100 if pooled.token() != parents_token else 0
                    code += wrong_tokens(server, child)
                finally:
                    os._exit(min(code, 255))
            children.append(pid)
        parent_wrong = wrong_tokens(server, 1)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
        assert codes == [0] * CHILDREN, f"round {round_}: children saw {codes} (100+: the cached token was lost)"
        assert parent_wrong == 0, f"round {round_}: the parent got {parent_wrong} wrong tokens"
        # The parent's own connection still serves it after its children exit.
        with bearer.Client(server.auth0()) as after:
            assert holder(after.token()) == "demo-client"
        pooled.close()


def test_one_shot_calls_in_a_forked_child_fetch_on_connections_of_its_own(server):
    cfg = server.auth0(query={"opaque": "1"})
    bearer.fetch_token(cfg)  # a pooled connection, and a one-shot client for cfg
    before = server.stats()
    pid = os.fork()
    if pid == 0:
        try:
            ok = all(bearer.fetch_token(cfg) for _ in range(3))
        finally:
            os._exit(0 if ok else 1)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    after = server.stats()
    # Opaque tokens are not cached: three fetches, on one new connection
    # (the other new one is this second look at the counters).
    assert after["auth0"] - before["auth0"] == 3
    assert after["connections"] - before["connections"] == 2
