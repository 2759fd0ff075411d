"""Tokens for both seed shapes, the token response, the header, caching."""

import json
import time

import bearer


def looks_like_jwt(token: str) -> bool:
    return token.startswith("eyJ") and token.count(".") == 2


def test_version_matches_header():
    assert bearer.version() == "0.1.0"


def test_one_shot_token(server, shape):
    token = bearer.fetch_token(server.config(shape))
    assert looks_like_jwt(token)


def test_one_shot_token_response(server, shape):
    before = time.time()
    resp = bearer.fetch_token_response(server.config(shape, query={"expires_in": 3600}))
    assert looks_like_jwt(resp["access_token"])
    assert resp["token_type"] == "Bearer"
    assert 0 < resp["expires_in"] <= 3600
    assert resp["expires_at"] >= int(before) + 3600 - 5


def test_client_token_response_and_header(server, shape):
    with bearer.Client(server.config(shape)) as client:
        token = client.token()
        assert looks_like_jwt(token)
        resp = client.token_response()
        assert resp["access_token"] == token
        assert resp["token_type"] == "Bearer"
        assert isinstance(resp["expires_in"], int) and resp["expires_in"] > 0
        assert isinstance(resp["expires_at"], int) and resp["expires_at"] > time.time()
        assert client.authorization_header() == "Bearer " + token


def test_config_as_json_text_and_bytes(server):
    text = json.dumps(server.auth0())
    with bearer.Client(text) as client:
        assert looks_like_jwt(client.token())
    with bearer.Client(text.encode()) as client:
        assert looks_like_jwt(client.token())
    assert looks_like_jwt(bearer.fetch_token(bytearray(json.dumps(server.cobuilder()).encode())))


def test_scope_is_in_the_response(server):
    resp = bearer.fetch_token_response(server.auth0(scope="read:images"))
    assert resp["scope"] == "read:images"


def test_client_caches_the_token(server, shape):
    key = "auth0" if shape == "auth0" else "cobuilder"
    with bearer.Client(server.config(shape)) as client:
        before = server.stats()[key]
        first = client.token()
        second = client.token()
        header = client.authorization_header()
        resp = client.token_response()
        after = server.stats()[key]
    assert first == second == resp["access_token"]
    assert header == "Bearer " + first
    assert after - before == 1


def test_one_shot_calls_share_a_process_wide_cache(server, shape):
    key = "auth0" if shape == "auth0" else "cobuilder"
    cfg = server.config(shape)
    before = server.stats()[key]
    first = bearer.fetch_token(cfg)
    second = bearer.fetch_token(json.dumps(cfg))  # same config, other form
    resp = bearer.fetch_token_response(cfg)
    after = server.stats()[key]
    assert first == second == resp["access_token"]
    assert after - before == 1


def test_bearer_auth_sets_the_header_on_a_request_like_object(server):
    class Request:  # what requests.PreparedRequest offers an AuthBase
        def __init__(self):
            self.headers = {"Accept": "application/json"}

    with bearer.Client(server.auth0()) as client:
        auth = bearer.BearerAuth(client)
        req = Request()
        assert auth(req) is req
        assert req.headers["Authorization"] == "Bearer " + client.token()
        assert req.headers["Accept"] == "application/json"
        assert "demo-secret" not in repr(auth)
