"""bearer for httpx: ``httpx.Client(auth=bearer.httpx.BearerAuth(client))``.

Importing this module imports httpx; ``import bearer`` alone never does.
The same auth object serves ``httpx.Client`` and ``httpx.AsyncClient``.
"""

import threading
import time

import httpx
from httpx._multipart import MultipartStream

from ._auth import _check_client, is_refusal, token_of
from ._client import Client

__all__ = ["BearerAuth"]

#: The library refreshes a token at most 15% of its lifetime (at most 90 s)
#: before it expires; until 20% before, the cached token is served from
#: memory and the async flow asks for it without leaving the event loop.
_FRESH_SHARE = 0.8


class BearerAuth(httpx.Auth):
    """Sets ``Authorization: Bearer <token>`` on every attempt, and retries
    once with a new token when the API refuses the old one.

    A body given as bytes, text, a form, JSON or files that can be rewound
    is sent again; a streamed body (an iterator or generator) is not
    buffered: its 401 goes back to the caller, the refusal still reported,
    so that the next request gets the new token. With ``retry=False`` every
    refused token is reported and its 401 returned.

    httpx itself drops ``Authorization`` when ``follow_redirects=True``
    leads to another origin; a 401 from there is not taken for a refusal.
    """

    requires_request_body = False  # a streamed upload stays streamed
    requires_response_body = False  # the status and challenge are enough

    def __init__(self, client: Client, retry: bool = True) -> None:
        _check_client(client)
        self.client = client
        self.retry = bool(retry)
        self._lock = threading.Lock()
        self._fresh_until = 0.0  # unix seconds; the async flow's "cached in memory"

    # -- httpx.Client ---------------------------------------------------------

    def sync_auth_flow(self, request):
        sent = request.headers["Authorization"] = self.client.authorization_header()
        response = yield request
        token = self._refused_token(response, sent)
        if token is None:
            return
        self._fresh_until = 0.0
        self.client.token_refused(token)
        if not self.retry or not _replayable(request):
            return
        header = self.client.authorization_header()
        if header != sent:
            request.headers["Authorization"] = header
            yield request

    # -- httpx.AsyncClient ----------------------------------------------------

    async def async_auth_flow(self, request):
        sent = request.headers["Authorization"] = await self._header_async()
        response = yield request
        token = self._refused_token(response, sent)
        if token is None:
            return
        self._fresh_until = 0.0  # the cache is about to be emptied: fetch off the loop
        await _to_thread(self.client.token_refused, token)
        if not self.retry or not _replayable(request):
            return
        header = await self._header_async()
        if header != sent:
            request.headers["Authorization"] = header
            yield request

    async def _header_async(self) -> str:
        """The header without blocking the event loop: straight from the
        library while its token is surely cached in memory, else from a
        worker thread (a fetch or a refresh may wait on the network)."""
        if time.time() < self._fresh_until:
            return self.client.authorization_header()
        return await _to_thread(self._header_and_freshness)

    def _header_and_freshness(self) -> str:
        header = self.client.authorization_header()
        response = self.client.token_response()
        expires_at = response.get("expires_at")
        if token_of(header) == response.get("access_token") and isinstance(expires_at, (int, float)):
            now = time.time()
            with self._lock:
                self._fresh_until = now + (expires_at - now) * _FRESH_SHARE
        return header

    # -- both -----------------------------------------------------------------

    @staticmethod
    def _refused_token(response, sent: str):
        """The token a 401 refused, or None: only when the request that got
        the answer carried our header (after a redirect to another origin it
        carries none) and the challenge refuses the token."""
        if response.status_code != 401 or response.request.headers.get("Authorization") != sent:
            return None
        if not is_refusal(401, ", ".join(response.headers.get_list("www-authenticate"))):
            return None
        return token_of(sent)

    def __repr__(self) -> str:
        return f"bearer.httpx.BearerAuth({self.client!r})"


def _replayable(request) -> bool:
    """Whether httpx can send the request body again: none or in memory
    (bytes, text, form, JSON, a body already read), or multipart whose
    files are in memory or can be rewound (httpx rewinds them)."""
    if hasattr(request, "_content"):
        return True
    stream = request.stream
    if isinstance(stream, httpx.ByteStream):
        return True
    fields = getattr(stream, "fields", None)
    if isinstance(stream, MultipartStream) and fields is not None:
        for field in fields:
            file = getattr(field, "file", None)
            if file is not None and not isinstance(file, (str, bytes)) and not hasattr(file, "seek"):
                return False
        return True
    return False


async def _to_thread(fn, *args):
    """Runs a blocking call in a worker thread of the running loop's library
    (anyio serves asyncio and trio, as httpx does)."""
    try:
        import anyio.to_thread
    except ImportError:  # pragma: no cover - httpx's own dependencies bring anyio
        import asyncio

        return await asyncio.to_thread(fn, *args)
    return await anyio.to_thread.run_sync(fn, *args)
