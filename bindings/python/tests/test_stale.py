"""Serve-stale: a failed refresh of a still-valid token returns that token,
and its problem waits in take_refresh_problem, once."""

import time

import pytest

import bearer
from bearer import ProblemError, Status
from conftest import local_server

#: A 4 s token is due for refresh 3.4-3.6 s after issue and served until
#: 3.92 s; 3.65 s is between the two.
LIFETIME = {"expires_in": 4}
DUE = 3.65


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def test_a_failed_refresh_serves_the_cached_token_and_reports_once():
    with local_server() as own:
        client = bearer.Client(own.auth0(query=LIFETIME))
        token = client.token()
        issued = time.monotonic()
        expires_at = client.token_response()["expires_at"]
    # The server is gone: the refresh that is due now cannot succeed.
    with client:
        sleep_until(issued + DUE)
        assert client.token() == token
        problem = client.take_refresh_problem()
        assert isinstance(problem, ProblemError)
        assert problem.type == "urn:bearer:problem:unreachable"
        assert problem.code == Status.UNAVAILABLE
        assert problem.extensions["serving_cached_token_until"] == expires_at
        assert str(problem) == f"{problem.title}: {problem.detail}"
        assert client.take_refresh_problem() is None

        sleep_until(issued + 4.1)
        with pytest.raises(ProblemError) as expired:
            client.token()
        assert expired.value.type == "urn:bearer:problem:unreachable"
        assert expired.value.code == Status.UNAVAILABLE


def test_a_healthy_client_has_no_refresh_problem(server):
    with bearer.Client(server.auth0()) as client:
        client.token()
        assert client.take_refresh_problem() is None
    with pytest.raises(bearer.ClientClosedError):
        client.take_refresh_problem()
