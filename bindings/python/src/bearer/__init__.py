"""OAuth 2.0 access tokens behind one cached call.

A thin ctypes binding of libbearer: the library parses the credentials
JSON, caches the token, joins concurrent requests and maps every failure to
one RFC 9457 problem without the secret; this package only marshals.

    import bearer

    with bearer.Client(credentials) as client:
        headers = {"Authorization": client.authorization_header()}
"""

from ._client import (
    BearerAuth,
    Client,
    fetch_token,
    fetch_token_response,
    global_cleanup,
    version,
)
from ._errors import (
    BearerError,
    ClientClosedError,
    LibraryNotFoundError,
    ProblemError,
    Status,
)

__all__ = [
    "BearerAuth",
    "BearerError",
    "Client",
    "ClientClosedError",
    "LibraryNotFoundError",
    "ProblemError",
    "Status",
    "fetch_token",
    "fetch_token_response",
    "global_cleanup",
    "version",
]

__version__ = "0.1.0"

# Tracebacks and reprs name the public module, not the private one.
for _cls in (BearerAuth, Client, BearerError, ClientClosedError, LibraryNotFoundError, ProblemError, Status):
    _cls.__module__ = __name__
del _cls
