"""OAuth 2.0 access tokens behind one cached call.

A thin ctypes binding of libbearer: the library parses the credentials
JSON, caches the token, joins concurrent requests and maps every failure to
one RFC 9457 problem without the secret; this package only marshals.

    import bearer

    with bearer.Client(credentials) as client:
        headers = {"Authorization": client.authorization_header()}

With requests, ``session.auth = bearer.BearerAuth(client)``; with httpx,
``httpx.Client(auth=bearer.httpx.BearerAuth(client))`` (``bearer.httpx``
imports httpx; this package imports neither). Both retry once when the API
refuses a token (:meth:`Client.token_refused`).

Users sign in with :func:`authorize_start` / :func:`authorize_complete`
(a web app), :class:`LoopbackLogin` (a native app or a script) or
:class:`DeviceLogin` (a device without a browser, RFC 8628).
"""

from ._client import (
    Client,
    fetch_token,
    fetch_token_response,
    global_cleanup,
    token_refused,
    version,
)
from ._auth import BearerAuth
from ._flows import (
    AuthorizationRequest,
    LoopbackLogin,
    authorize_complete,
    authorize_start,
)
from ._device import DeviceLogin
from ._errors import (
    BearerError,
    ClientClosedError,
    LibraryNotFoundError,
    ProblemError,
    Status,
)

__all__ = [
    "AuthorizationRequest",
    "BearerAuth",
    "BearerError",
    "Client",
    "ClientClosedError",
    "DeviceLogin",
    "LibraryNotFoundError",
    "LoopbackLogin",
    "ProblemError",
    "Status",
    "authorize_complete",
    "authorize_start",
    "fetch_token",
    "fetch_token_response",
    "global_cleanup",
    "token_refused",
    "version",
]

__version__ = "0.1.0"

# Tracebacks and reprs name the public module, not the private one.
for _cls in (
    AuthorizationRequest,
    LoopbackLogin,
    BearerAuth,
    Client,
    DeviceLogin,
    BearerError,
    ClientClosedError,
    LibraryNotFoundError,
    ProblemError,
    Status,
):
    _cls.__module__ = __name__
for _fn in (authorize_start, authorize_complete, token_refused):
    _fn.__module__ = __name__
del _cls, _fn
