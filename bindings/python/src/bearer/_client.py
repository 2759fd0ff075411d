"""The Python surface: Client and the one-shot calls."""

import collections.abc
import ctypes
import json
from typing import Any, Dict, Mapping, Optional, Union

from . import _native
from ._errors import ProblemError
from ._handle import NativeHandle

__all__ = ["Client", "fetch_token", "fetch_token_response", "token_refused", "version", "global_cleanup"]

Config = Union[Mapping[str, Any], str, bytes, bytearray, memoryview]


def _encode(config: Config) -> bytes:
    """Turns a configuration into the bytes handed to the library.

    Only ``None`` and wrong types are refused here; empty, malformed or
    non-UTF-8 text goes to the library, which answers with the same
    problem in every language. Bytes pass through untouched for that reason.
    """
    if config is None:
        raise TypeError("config must be a dict or a JSON str/bytes, not None")
    if isinstance(config, str):
        # surrogatepass: a lone surrogate reaches the library as invalid
        # UTF-8 and comes back as its invalid-argument problem.
        data = config.encode("utf-8", "surrogatepass")
    elif isinstance(config, (bytes, bytearray, memoryview)):
        data = bytes(config)
    elif isinstance(config, collections.abc.Mapping):
        data = json.dumps(dict(config)).encode("utf-8")
    else:
        raise TypeError(f"config must be a dict or a JSON str/bytes, not {type(config).__name__}")
    if b"\0" in data:
        # A C string would end there and the library would read less than given.
        raise ValueError("config contains a NUL character")
    return data


def fetch_token(config: Config) -> str:
    """An access token for ``config``, from the process-wide cache while fresh.

    For scripts that keep no client: the cache still saves a request.
    """
    lib = _native.load()
    return _native.call(lib.bearer_fetch_token, _encode(config))


def fetch_token_response(config: Config) -> Dict[str, Any]:
    """The whole token response (``access_token``, ``token_type``,
    ``expires_in``, ``expires_at``, and ``scope`` when given) as a dict."""
    lib = _native.load()
    return json.loads(_native.call(lib.bearer_fetch_token_response, _encode(config)))


def _token(token: Union[str, bytes]) -> bytes:
    """A token argument as C-string bytes; None and other types are a TypeError."""
    if token is None:
        raise TypeError("token must be a str, not None")
    if isinstance(token, str):
        data = token.encode("utf-8", "surrogatepass")
    elif isinstance(token, (bytes, bytearray, memoryview)):
        data = bytes(token)
    else:
        raise TypeError(f"token must be a str, not {type(token).__name__}")
    if b"\0" in data:
        raise ValueError("token contains a NUL character")
    return data


def token_refused(config: Config, token: Union[str, bytes]) -> bool:
    """An API refused ``token`` (a 401), which :func:`fetch_token` gave for
    ``config``: the one-shot cache drops it if it is still the current token.

    Returns whether it was dropped: False for a token already replaced, and
    within two seconds of the last drop for this configuration.
    """
    lib = _native.load()
    return _native.refused(lib.bearer_token_refused, _encode(config), _token(token))


def version() -> str:
    """The loaded library's version, e.g. ``"0.1.0"``."""
    return _native.load().bearer_version().decode("utf-8")


def global_cleanup() -> None:
    """Empties the one-shot cache and closes pooled connections.

    Optional; for leak checkers at exit. Clients keep working.
    """
    _native.load().bearer_global_cleanup()


class Client(NativeHandle):
    """A configuration and its cached token; safe to share between threads.

    Concurrent callers of an expired token share one request. A
    configuration with ``"grant_type": "refresh_token"`` and a
    ``refresh_token`` (from a user's sign-in) gets its tokens by refreshing
    and follows the server's rotation of the refresh token. Close it with
    :meth:`close` or a ``with`` block; garbage collection closes it too, as
    a backstop.
    """

    _free_function = "bearer_client_free"
    _closed_message = "client is closed"

    def __init__(self, config: Config) -> None:
        super().__init__()
        data = _encode(config)
        lib = _native.load()
        handle = ctypes.c_void_p()
        problem = ctypes.c_void_p()
        status = lib.bearer_client_new(data, ctypes.byref(handle), ctypes.byref(problem))
        if status != 0:
            raise ProblemError._from_json(status, _native.take_string(problem))
        self._adopt(lib, handle.value)

    def token(self) -> str:
        """A valid access token: the cached one while fresh, else a new one."""
        return self._call(self._lib.bearer_client_token)

    def token_response(self) -> Dict[str, Any]:
        """The token response for a valid token, as a dict."""
        return json.loads(self._call(self._lib.bearer_client_token_response))

    def authorization_header(self) -> str:
        """The ``Authorization`` header value, ``"Bearer <token>"``."""
        return self._call(self._lib.bearer_client_authorization_header)

    def token_refused(self, token: Union[str, bytes]) -> bool:
        """An API refused ``token`` (a 401): the cache drops it, in every
        tier (memory, a shared file or Redis store), if it is still the
        current token, so that the next :meth:`token` fetches a new one.

        Returns whether it was dropped: False for a token already replaced
        (a late refusal), and within two seconds of this client's last drop.
        A refresh token is never dropped.
        """
        return self._call(self._lib.bearer_client_token_refused, _token(token), run=_native.refused)

    def take_refresh_problem(self) -> Optional[ProblemError]:
        """Why the last refresh failed while the cached token was served, or None.

        When a token is due for refresh but still valid and the refresh
        fails, :meth:`token` returns the cached token instead of raising
        (serve-stale); the failure is kept for this method, once per run of
        failures. The error is returned, not raised; its ``extensions``
        carry ``serving_cached_token_until`` (unix seconds). Its ``code``
        is the status the failed refresh would have returned (e.g.
        ``Status.UNAVAILABLE``).
        """
        return self._call(self._lib.bearer_client_take_refresh_problem, run=_native.take_refresh_problem)

    def __repr__(self) -> str:
        # Never the configuration: it holds the secret.
        return f"<bearer.Client {'closed' if self._handle is None else 'open'}>"
