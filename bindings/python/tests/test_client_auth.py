"""Client authentication without a shared secret, against the real library
and a `bearer serve` with TLS: private_key_jwt (RFC 7523) and mutual TLS
(RFC 8705).

The binding marshals nothing new (the keys go in the configuration as
today); these tests show that the library's answers reach Python intact:
the tokens, the ``unauthorized`` refusals and the ``invalid-config``
problems naming the key, and that no line of a key file is ever in a
problem.
"""

import base64
import json

import pytest

import bearer
from conftest import KEYS, TLS

AUDIENCE = "https://beeapp.open-cosmos.com"


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def key_lines(*paths) -> list:
    """The lines of key files that are key material (not the PEM armour)."""
    lines = []
    for path in paths:
        lines += [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("-----")]
    assert lines
    return lines


def assert_shows_no_key(problem: bearer.ProblemError, *paths) -> None:
    shown = "\n".join([str(problem), repr(problem), json.dumps(problem.to_dict())])
    for line in key_lines(*paths):
        assert line not in shown


def problem_of(config) -> bearer.ProblemError:
    """The problem a client raises for ``config``, when built or at its first
    token (the library may check a configuration at either)."""
    with pytest.raises(bearer.ProblemError) as info:
        with bearer.Client(config) as client:
            client.token()
    return info.value


# --- private_key_jwt ---------------------------------------------------------


def jwt_config(server, key: str = "rsa.key", **overrides) -> dict:
    cfg = {
        "client_id": "jwt-client",
        "client_auth": "private_key_jwt",
        "private_key_file": str(KEYS / key),
        "audience": AUDIENCE,
        # The assertion's aud is this URL, which the server compares with its
        # own token endpoint: no query (configurations differ by key instead).
        "token_url": server.base + "/oauth/token",
    }
    cfg.update(overrides)
    return {k: v for k, v in cfg.items() if v is not None}


@pytest.mark.parametrize(
    "key, alg",
    [("rsa.key", None), ("rsa.key", "PS256"), ("rsa-pkcs1.key", None), ("ec.key", None), ("ec-sec1.key", "ES256")],
)
def test_private_key_jwt_gets_a_token_and_signs_anew_each_time(server, key, alg):
    before = server.stats()["auth0"]
    with bearer.Client(jwt_config(server, key, assertion_alg=alg, key_id="test-key-1")) as client:
        first = client.token()
        assert claims(first)["sub"] == "jwt-client@clients"
        # A second request needs a fresh assertion: a replayed jti is refused.
        assert client.token_refused(first) is True
        second = client.token()
    assert second != first and claims(second)["sub"] == "jwt-client@clients"
    assert server.stats()["auth0"] - before == 2


def test_private_key_jwt_one_shot(server):
    resp = bearer.fetch_token_response(json.dumps(jwt_config(server, "ec.key")))
    assert claims(resp["access_token"])["sub"] == "jwt-client@clients"


def test_private_key_jwt_audience_may_be_the_issuer(server):
    cfg = jwt_config(server, "ec.key", issuer=server.base + "/", assertion_audience="issuer")
    assert claims(bearer.fetch_token(cfg))["sub"] == "jwt-client@clients"


def test_a_key_the_server_does_not_know_is_unauthorized(server):
    problem = problem_of(jwt_config(server, "other.key"))
    assert problem.type == "urn:bearer:problem:unauthorized"
    assert problem.code == bearer.Status.REJECTED
    assert_shows_no_key(problem, KEYS / "other.key")


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"private_key_file": str(KEYS / "encrypted.key")}, "private_key_file"),
        ({"private_key_file": str(KEYS / "missing.key")}, "private_key_file"),
        ({"private_key_file": str(KEYS / "rsa.pub")}, "private_key_file"),
        ({"assertion_alg": "ES256"}, "assertion_alg"),
        ({"client_secret": "demo-secret"}, "client_secret"),
    ],
    ids=["encrypted", "missing", "public-key", "alg-mismatch", "with-secret"],
)
def test_private_key_jwt_config_problems_name_the_key(server, overrides, key):
    before = server.stats()["auth0"]
    problem = problem_of(jwt_config(server, **overrides))
    assert problem.type == "urn:bearer:problem:invalid-config"
    assert problem.code == bearer.Status.INVALID_CONFIG
    assert problem.extensions["key"] == key
    assert_shows_no_key(problem, KEYS / "rsa.key", KEYS / "encrypted.key")
    assert server.stats()["auth0"] == before  # refused before any request


# --- mutual TLS --------------------------------------------------------------


def mtls_config(base: str, client_id: str = "mtls-client", cert: str = "client", **overrides) -> dict:
    cfg = {
        "client_id": client_id,
        "client_auth": "self_signed_tls_client_auth" if client_id == "mtls-self-signed" else "tls_client_auth",
        "client_cert_file": str(TLS / f"{cert}.pem"),
        "client_key_file": str(TLS / f"{cert}.key"),
        "audience": AUDIENCE,
        "ca_file": str(TLS / "ca.pem"),
        "token_url": base + "/oauth/token",
    }
    cfg.update(overrides)
    return {k: v for k, v in cfg.items() if v is not None}


def test_tls_client_auth_gets_a_token(tls_server):
    with bearer.Client(mtls_config(tls_server.mtls)) as client:
        assert claims(client.token())["sub"] == "mtls-client@clients"


def test_self_signed_tls_client_auth_gets_a_token(tls_server):
    cfg = mtls_config(tls_server.mtls, "mtls-self-signed", "self-signed")
    assert claims(bearer.fetch_token(cfg))["sub"] == "mtls-self-signed@clients"


def test_mtls_follows_the_discovery_documents_alias(tls_server):
    cfg = mtls_config(tls_server.mtls, token_url=None, issuer=tls_server.https + "/")
    with bearer.Client(cfg) as client:
        assert claims(client.token())["sub"] == "mtls-client@clients"


def test_mtls_with_another_clients_certificate_is_unauthorized(tls_server):
    problem = problem_of(mtls_config(tls_server.mtls, cert="self-signed"))
    assert problem.type == "urn:bearer:problem:unauthorized"
    assert problem.code == bearer.Status.REJECTED
    assert_shows_no_key(problem, TLS / "self-signed.key")


def test_mtls_on_a_listener_that_asks_no_certificate_is_unauthorized(tls_server):
    problem = problem_of(mtls_config(tls_server.https))
    assert problem.type == "urn:bearer:problem:unauthorized"
    assert problem.code == bearer.Status.REJECTED
    assert_shows_no_key(problem, TLS / "client.key")


def test_a_certificate_without_its_key_is_invalid_config(tls_server):
    problem = problem_of(mtls_config(tls_server.mtls, client_key_file=None))
    assert problem.type == "urn:bearer:problem:invalid-config"
    assert problem.code == bearer.Status.INVALID_CONFIG
    assert problem.extensions["key"] == "client_key_file"
