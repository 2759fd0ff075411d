"""Each upstream and local failure as a ProblemError with the library's
type, status and code; the message is "title: detail"; no secret anywhere."""

import json
import pickle
import time

import pytest

import bearer
from bearer import ProblemError, Status

#: The secret of the wrong-secret, echo and throttling tests; the lead's
#: check greps the whole test log for it, so no assertion may print it.
CANARY = "canary-SECRET-7f3a9c2e1b"


def check(err: ProblemError, *, type_, status, code, secret):
    assert err.type == type_
    assert err.status == status
    assert err.code == code and isinstance(err.code, Status)
    assert str(err) == f"{err.title}: {err.detail}"
    assert err.title and err.detail
    assert isinstance(err.extensions, dict)
    assert isinstance(err, bearer.BearerError)
    for name, text in (("str", str(err)), ("repr", repr(err)), ("args", repr(err.args)),
                       ("to_dict", json.dumps(err.to_dict()))):
        # pytest.fail, not assert: assert's report would print the secret.
        if secret in text:
            pytest.fail(f"the secret appears in the error's {name}", pytrace=False)


def fail_both_ways(cfg):
    """The one-shot error and the client's error, which must agree."""
    with pytest.raises(ProblemError) as one_shot:
        bearer.fetch_token(cfg)
    with bearer.Client(cfg) as client:  # upstream errors surface on use
        with pytest.raises(ProblemError) as from_client:
            client.authorization_header()
    assert one_shot.value.to_dict()["type"] == from_client.value.type
    return one_shot.value


def test_401_unauthorized(server):
    err = fail_both_ways(server.auth0(client_secret=CANARY))
    check(err, type_="urn:bearer:problem:unauthorized", status=401, code=Status.REJECTED, secret=CANARY)
    assert err.extensions["upstream_status"] == 401


def test_401_with_the_briefs_wrong_secret(server):
    err = fail_both_ways(server.auth0(client_secret="wrong"))
    check(err, type_="urn:bearer:problem:unauthorized", status=401, code=Status.REJECTED, secret="wrong")


def test_403_forbidden(server):
    err = fail_both_ways(server.auth0(audience="https://other"))
    check(err, type_="urn:bearer:problem:forbidden", status=403, code=Status.REJECTED, secret="demo-secret")


def test_400_cobuilder_problem_is_passed_through(server):
    err = fail_both_ways(server.cobuilder(audienceUrl="https://nope"))
    check(
        err,
        type_="https://tools.ietf.org/html/rfc9110#section-15.5.1",
        status=400,
        code=Status.REJECTED,
        secret="cobuilder-secret",
    )
    assert err.title == "Invalid audience"


def test_429_rate_limited(server):
    # retries 0: waiting out Retry-After (7 s) three times would test nothing more.
    err = fail_both_ways(server.auth0(client_secret=CANARY, retries=0, query={"fault": "rate_limit"}))
    check(err, type_="urn:bearer:problem:rate-limited", status=429, code=Status.RATE_LIMITED, secret=CANARY)
    assert err.extensions["retry_after"] == 7


def test_a_429_opens_a_throttling_window(server):
    cfg = server.auth0(client_secret=CANARY, retries=0, query={"fault": "rate_limit"})
    with bearer.Client(cfg) as client:
        before = server.stats()["auth0"]
        with pytest.raises(ProblemError) as first:
            client.token()
        started = time.monotonic()
        with pytest.raises(ProblemError) as second:
            client.token()
        took = time.monotonic() - started
        after = server.stats()["auth0"]
    for err in (first.value, second.value):
        check(err, type_="urn:bearer:problem:rate-limited", status=429, code=Status.RATE_LIMITED, secret=CANARY)
    assert took < 0.5, f"the throttled call took {took:.2f} s"
    assert 1 <= second.value.extensions["retry_after"] <= 7
    assert after - before == 1, "the throttled call reached the server"


def test_server_echoing_the_request_does_not_leak_the_secret(server):
    with pytest.raises(ProblemError) as exc:
        bearer.fetch_token(server.auth0(client_secret=CANARY, query={"fault": "echo"}))
    check(exc.value, type_=exc.value.type, status=exc.value.status, code=exc.value.code, secret=CANARY)


def test_missing_key(server):
    cfg = server.auth0()
    del cfg["client_secret"]
    for call in (bearer.fetch_token, bearer.fetch_token_response, bearer.Client):
        with pytest.raises(ProblemError) as exc:
            call(cfg)
        check(exc.value, type_="urn:bearer:problem:invalid-config", status=400, code=Status.INVALID_CONFIG,
              secret="demo-secret")
        assert exc.value.extensions["key"] == "client_secret"
        assert exc.value.instance == "#/client_secret"


def test_non_http_url_is_invalid_config(server):
    with pytest.raises(ProblemError) as exc:
        bearer.Client(server.auth0(token_url="ftp://x/oauth/token"))
    check(exc.value, type_="urn:bearer:problem:invalid-config", status=400, code=Status.INVALID_CONFIG,
          secret="demo-secret")


def test_plain_http_to_a_remote_host_is_insecure(server):
    for call in (bearer.fetch_token, bearer.Client):
        with pytest.raises(ProblemError) as exc:
            call(server.auth0(token_url="http://example.com/oauth/token"))
        check(exc.value, type_="urn:bearer:problem:insecure-url", status=400, code=Status.INVALID_CONFIG,
              secret="demo-secret")


def test_internal_error_from_a_caught_panic():
    with pytest.raises(ProblemError) as exc:
        bearer._native.test_panic()
    check(exc.value, type_="urn:bearer:problem:internal", status=500, code=Status.INTERNAL, secret="demo-secret")


def test_problem_error_pickles(server):
    with pytest.raises(ProblemError) as exc:
        bearer.fetch_token(server.auth0(audience="https://other"))
    copy = pickle.loads(pickle.dumps(exc.value))
    assert type(copy) is ProblemError
    assert copy.to_dict() == exc.value.to_dict()
    assert copy.code == exc.value.code and str(copy) == str(exc.value)
