"""Bad inputs are refused clearly; closed clients fail clearly."""

import gc
import json

import pytest

import bearer
from bearer import ProblemError, Status

CALLS = [bearer.fetch_token, bearer.fetch_token_response, bearer.Client]


@pytest.mark.parametrize("call", CALLS)
def test_none_is_a_type_error(call):
    with pytest.raises(TypeError, match="not None"):
        call(None)


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("value", [42, ["client_id"], object()])
def test_other_types_are_type_errors(call, value):
    with pytest.raises(TypeError):
        call(value)


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("text", ["", "{", "[]", "null", b"", "   "])
def test_empty_and_malformed_text_is_invalid_config(call, text):
    with pytest.raises(ProblemError) as exc:
        call(text)
    assert exc.value.code == Status.INVALID_CONFIG
    assert exc.value.type == "urn:bearer:problem:invalid-config"
    assert exc.value.status == 400


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("raw", [b"\xff\xfe{}", b'{"client_id":"\xc3"}', "{\ud800}"])
def test_invalid_utf8_reaches_the_library(call, raw):
    with pytest.raises(ProblemError) as exc:
        call(raw)
    assert exc.value.code == Status.INVALID_ARGUMENT
    assert exc.value.type == "urn:bearer:problem:invalid-argument"
    assert exc.value.status == 400


@pytest.mark.parametrize("call", CALLS)
def test_nul_character_is_refused_before_c_truncates_it(call, server):
    with pytest.raises(ValueError, match="NUL"):
        call(json.dumps(server.auth0()) + "\0garbage")


def test_unknown_key_is_named(server):
    with pytest.raises(ProblemError) as exc:
        bearer.Client(server.auth0(client_secrt="x"))
    assert exc.value.code == Status.INVALID_CONFIG
    assert exc.value.extensions.get("key") == "client_secrt"


def test_closed_client_raises_a_clear_error(server):
    client = bearer.Client(server.auth0())
    client.token()
    client.close()
    assert client.closed
    for method in (client.token, client.token_response, client.authorization_header):
        with pytest.raises(bearer.ClientClosedError, match="^client is closed$") as exc:
            method()
        assert isinstance(exc.value, bearer.BearerError)
        assert isinstance(exc.value, ValueError)
    with pytest.raises(bearer.ClientClosedError):
        with client:
            pass
    with pytest.raises(bearer.ClientClosedError):
        bearer.BearerAuth(client)(type("R", (), {"headers": {}})())


def test_close_twice_is_harmless(server):
    client = bearer.Client(server.auth0())
    client.close()
    client.close()
    client.__del__()  # the backstop after an explicit close frees nothing
    assert client.closed


def test_with_block_closes(server):
    with bearer.Client(server.auth0()) as client:
        assert not client.closed
    assert client.closed
    with pytest.raises(bearer.ClientClosedError):
        client.token()


def test_garbage_collection_frees_an_unclosed_client(server):
    for _ in range(100):
        client = bearer.Client(server.auth0(query={"expires_in": 60, "t": "gc"}))
        client.token()
        del client
    gc.collect()


def test_repr_never_shows_the_config(server):
    client = bearer.Client(server.auth0())
    assert "demo-secret" not in repr(client) and "open" in repr(client)
    client.close()
    assert "closed" in repr(client)


def test_bearer_auth_needs_a_client():
    with pytest.raises(TypeError):
        bearer.BearerAuth("a token")
