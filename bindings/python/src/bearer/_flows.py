"""The user flows: a web app's sign-in in two calls, and a native app's or a
script's sign-in through a listener on 127.0.0.1 (RFC 8252).

As everywhere in this package, the library does the OAuth work (state,
PKCE, nonce, the callback checks, the code exchange); this module marshals.
"""

import collections.abc
import ctypes
import datetime
import json
import math
from typing import Any, Dict, Mapping, Optional, Union

from . import _native
from ._client import Config, _encode
from ._errors import ProblemError
from ._handle import NativeHandle

__all__ = ["AuthorizationRequest", "LoopbackLogin", "authorize_start", "authorize_complete"]

# bearer_login_wait takes an unsigned int of milliseconds (about 49.7 days).
_MAX_WAIT_MS = 0xFFFFFFFF


def _text(value: Union[str, bytes, bytearray, memoryview], what: str) -> bytes:
    """A str or bytes argument as the bytes of a C string.

    Like a configuration, the text goes to the library unchecked (it reports
    invalid UTF-8 or a URL that does not answer the request itself); only
    None, other types and an embedded NUL are refused here.
    """
    if value is None:
        raise TypeError(f"{what} must be a str, not None")
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    else:
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if b"\0" in data:
        raise ValueError(f"{what} contains a NUL character")
    return data


class AuthorizationRequest:
    """A sign-in in progress, from :func:`authorize_start`.

    Send the browser to :attr:`url`; keep the rest until it comes back. It
    holds secrets (``state``, ``code_verifier``, ``nonce``), so store it
    server side or in the user's session, e.g. as :meth:`to_json`, and
    never in a page. ``repr`` shows only the ``redirect_uri``.
    """

    __slots__ = ("_json", "_data")

    def __init__(self, text: str, data: Dict[str, Any]) -> None:
        # Private: use authorize_start() or from_json().
        self._json = text
        self._data = data

    @classmethod
    def from_json(cls, text: Union[str, bytes]) -> "AuthorizationRequest":
        """The request back from :meth:`to_json` (e.g. out of a session).

        Raises ``ValueError`` for text that is not a JSON object; the
        members themselves are checked by :func:`authorize_complete`.
        """
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8")
        if not isinstance(text, str):
            raise TypeError(f"from_json needs a str, not {type(text).__name__}")
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("an authorization request is a JSON object")
        return cls(text, data)

    def to_json(self) -> str:
        """The request as the library wrote it: secret, keep it server side."""
        return self._json

    def to_dict(self) -> Dict[str, Any]:
        """The request's members as a new dict (for a session that stores dicts)."""
        return dict(self._data)

    @property
    def url(self) -> str:
        """The authorize URL to send the user's browser to."""
        return self._data.get("url")

    @property
    def state(self) -> str:
        """The random ``state`` the callback must carry back."""
        return self._data.get("state")

    @property
    def redirect_uri(self) -> str:
        """Where the authorization server sends the browser back."""
        return self._data.get("redirect_uri")

    @property
    def response_type(self) -> str:
        """``"code"`` (authorization code) or ``"token"`` (implicit)."""
        return self._data.get("response_type")

    @property
    def code_verifier(self) -> Optional[str]:
        """The PKCE verifier (authorization code only), else ``None``."""
        return self._data.get("code_verifier")

    @property
    def nonce(self) -> Optional[str]:
        """The OpenID ``nonce`` the ID token must carry, else ``None``."""
        return self._data.get("nonce")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AuthorizationRequest):
            return NotImplemented
        return self._data == other._data

    __hash__ = None  # mutable-looking value object; equality only

    def __repr__(self) -> str:
        # Never state, verifier or nonce (nor the url, which carries state).
        return f"<bearer.AuthorizationRequest redirect_uri={self.redirect_uri!r}>"


def authorize_start(config: Config) -> AuthorizationRequest:
    """Starts a sign-in for ``config``'s ``grant_type`` (``authorization_code``
    with PKCE, or ``implicit``) and ``redirect_uri``, with a fresh ``state``."""
    lib = _native.load()
    text = _native.call(lib.bearer_authorize_start, _encode(config))
    return AuthorizationRequest(text, json.loads(text))


def authorize_complete(
    config: Config,
    request: Union[AuthorizationRequest, str, bytes, Mapping[str, Any]],
    redirect_url: str,
) -> Dict[str, Any]:
    """Finishes a sign-in from the full URL the browser was redirected to.

    ``request`` is the :class:`AuthorizationRequest`, its JSON text or its
    dict. Returns the token response dict (``access_token``, ``token_type``,
    ``expires_in``, ``expires_at``, and ``scope``, ``refresh_token``,
    ``id_token`` when sent). A wrong or missing ``state`` raises the
    ``invalid-callback`` problem (code 1) before any exchange; a declined
    sign-in ``authorization-denied`` and a used code ``invalid-grant``
    (code 3).
    """
    if isinstance(request, AuthorizationRequest):
        request_json = request.to_json().encode("utf-8")
    elif isinstance(request, collections.abc.Mapping):
        request_json = json.dumps(dict(request)).encode("utf-8")
    else:
        request_json = _text(request, "request")
    lib = _native.load()
    text = _native.call(
        lib.bearer_authorize_complete, _encode(config), request_json, _text(redirect_url, "redirect_url")
    )
    return json.loads(text)


def _milliseconds(timeout: Union[float, int, datetime.timedelta]) -> int:
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
    ms = round(timeout * 1000) if math.isfinite(timeout) else -1
    if not 0 <= ms <= _MAX_WAIT_MS:
        raise ValueError(f"timeout must be between 0 and {_MAX_WAIT_MS // 1000} seconds, not {timeout}")
    return ms


class LoopbackLogin(NativeHandle):
    """A native app's or a script's sign-in (RFC 8252).

    The library listens on 127.0.0.1 (an ephemeral port and ``/callback``
    unless ``config`` has a ``redirect_uri`` ``http://127.0.0.1:PORT/path``)
    and builds the authorize URL (authorization code with PKCE). Open
    :attr:`url` in the user's browser, then :meth:`wait` takes the one
    redirect, answers the browser with a short page and exchanges the code::

        with bearer.LoopbackLogin(config) as login:
            webbrowser.open(login.url)
            tokens = login.wait(timeout=300)

    :meth:`close` (or the ``with`` block, or garbage collection as a
    backstop) closes the listener.
    """

    _free_function = "bearer_login_free"
    _closed_message = "login is closed"

    def __init__(self, config: Config) -> None:
        super().__init__()
        data = _encode(config)
        lib = _native.load()
        handle = ctypes.c_void_p()
        url = ctypes.c_void_p()
        problem = ctypes.c_void_p()
        status = lib.bearer_login_start(data, ctypes.byref(handle), ctypes.byref(url), ctypes.byref(problem))
        if status != 0:
            raise ProblemError._from_json(status, _native.take_string(problem))
        self._adopt(lib, handle.value)
        try:
            self._url = _native.take_string(url) or ""
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        """The authorize URL to open in the user's browser."""
        return self._url

    def wait(self, timeout: Union[float, datetime.timedelta] = 300.0) -> Dict[str, Any]:
        """Waits up to ``timeout`` seconds for the browser's redirect and
        returns the token response dict (as :func:`authorize_complete`).

        Only the calling thread blocks (the library runs without the GIL);
        Ctrl-C takes effect when the wait ends, so give a person minutes,
        not hours. No redirect in time raises the ``timeout`` problem
        (code 6) and the login can be waited on again; a finished login
        raises ``invalid-argument`` (code 1). :meth:`close` waits for a
        running wait, since the library forbids freeing a login in use.
        """
        return json.loads(self._call(self._lib.bearer_login_wait, _milliseconds(timeout)))

    def __repr__(self) -> str:
        # Not the url: it carries the state.
        return f"<bearer.LoopbackLogin {'closed' if self._handle is None else 'open'}>"
