"""The device authorization grant (RFC 8628): signing in on a device
without a browser, or from a script over SSH.

The library asks for the codes, polls the token endpoint at the server's
pace (``slow_down`` included) and turns every outcome into a token
response or a problem; this module marshals, and gives ``asyncio`` a poll
that runs in a thread of its own.
"""

import asyncio
import ctypes
import json
import threading
from typing import Any, Dict, Optional

from . import _native
from ._client import Config, _encode
from ._errors import ClientClosedError, ProblemError
from ._handle import NativeHandle

__all__ = ["DeviceLogin"]


class DeviceLogin(NativeHandle):
    """A device sign-in in progress, from :meth:`DeviceLogin.start`.

    Show the user :attr:`verification_uri` and :attr:`user_code` (or
    :attr:`verification_uri_complete`, e.g. as a QR code), then
    :meth:`poll` until they approve::

        with bearer.DeviceLogin.start(config) as login:
            print("Open", login.verification_uri, "and enter", login.user_code)
            tokens = login.poll()

    :meth:`close` (or the ``with`` block, or garbage collection as a
    backstop) frees it; closing cancels a poll still running first.
    """

    _free_function = "bearer_device_free"
    _closed_message = "device login is closed"

    def __init__(self, _token: object = None) -> None:
        # Private: use DeviceLogin.start(config).
        if _token is not _START:
            raise TypeError("use bearer.DeviceLogin.start(config)")
        super().__init__()
        self._info: Dict[str, Any] = {}

    @classmethod
    def start(cls, config: Config) -> "DeviceLogin":
        """Asks the server for a device code and a user code.

        ``config`` names a public (or confidential) client, ``grant_type``
        ``device_code``, and ``device_authorization_url`` and ``token_url``
        (or an ``issuer`` whose discovery document names them). A bad
        configuration raises the ``invalid-config`` problem naming the key;
        a refusal by the server its problem.
        """
        data = _encode(config)
        lib = _native.load()
        self = cls(_START)
        handle = ctypes.c_void_p()
        out = ctypes.c_void_p()
        problem = ctypes.c_void_p()
        status = lib.bearer_device_start(data, ctypes.byref(handle), ctypes.byref(out), ctypes.byref(problem))
        if status != 0:
            raise ProblemError._from_json(status, _native.take_string(problem))
        self._adopt(lib, handle.value)
        try:
            self._info = json.loads(_native.take_string(out) or "{}")
        except BaseException:
            self.close()
            raise
        return self

    @property
    def user_code(self) -> str:
        """The code the user types at :attr:`verification_uri`."""
        return self._info.get("user_code")

    @property
    def verification_uri(self) -> str:
        """Where the user goes, on any device, to enter :attr:`user_code`."""
        return self._info.get("verification_uri")

    @property
    def verification_uri_complete(self) -> Optional[str]:
        """The same URL with the user code in it, when the server gave one,
        else ``None``."""
        return self._info.get("verification_uri_complete")

    @property
    def expires_in(self) -> int:
        """Seconds the codes were valid for when the sign-in started."""
        return self._info.get("expires_in")

    @property
    def interval(self) -> int:
        """Seconds between two polls, as the server asked at the start."""
        return self._info.get("interval")

    def poll(self) -> Dict[str, Any]:
        """Blocks until the user decides, polling the token endpoint every
        :attr:`interval` seconds (5 more after each ``slow_down``); returns
        the token response dict (``access_token``, ``token_type``,
        ``expires_in``, ``expires_at``, and ``refresh_token``, ``id_token``,
        ``scope`` when sent).

        Only the calling thread blocks (the library runs without the GIL).
        A denial raises the ``authorization-denied`` problem, expired codes
        ``device-code-expired`` (both code 3), and :meth:`cancel` from
        another thread the ``cancelled`` problem (code 9,
        :attr:`Status.CANCELLED`) at once, as does every later poll.
        """
        return json.loads(self._call(self._lib.bearer_device_poll))

    async def poll_async(self) -> Dict[str, Any]:
        """:meth:`poll` for ``asyncio``: the blocking poll runs in a thread
        of its own, never on the event loop. Cancelling the awaiting task
        cancels the poll (:meth:`cancel`) and raises
        ``asyncio.CancelledError`` once the thread has let go of the
        handle."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def settle(result, error) -> None:
            if future.cancelled():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def run() -> None:
            result = error = None
            try:
                result = self.poll()
            except BaseException as exc:  # handed to the awaiting task
                error = exc
            try:
                loop.call_soon_threadsafe(settle, result, error)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass

        # A thread of its own, not the loop's executor: a poll may block
        # for the codes' lifetime (minutes), and must not hold up the
        # interpreter's exit (a daemon thread).
        threading.Thread(target=run, name="bearer-device-poll", daemon=True).start()
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            self.cancel()
            # The library returns at once after a cancel; wait for the
            # thread's answer (without blocking the loop), so that a
            # close() right after this never waits on a poll still running.
            while not future.done():
                try:
                    await asyncio.shield(future)
                except (Exception, asyncio.CancelledError):  # its outcome, or another cancel
                    pass
            if not future.cancelled():
                future.exception()  # retrieved, so asyncio does not log it
            raise

    def cancel(self) -> None:
        """Makes a poll in progress (in any thread) raise the ``cancelled``
        problem at once, and every later poll too. Harmless on a closed
        login or when nothing polls."""
        with self._mutex:
            handle = self._handle
            if handle is None:
                return
            self._busy += 1
        try:
            self._lib.bearer_device_cancel(handle)
        finally:
            with self._mutex:
                self._busy -= 1
                if self._busy == 0:
                    self._cond.notify_all()

    def close(self) -> None:
        """Cancels a poll still running, waits for it to return, and frees
        the native handle. Idempotent; later calls raise
        :class:`ClientClosedError` (``device login is closed``)."""
        self.cancel()
        super().close()

    def __enter__(self) -> "DeviceLogin":
        if self._handle is None:
            raise ClientClosedError(self._closed_message)
        return self

    def __repr__(self) -> str:
        # Not the user code: whoever holds it can answer the sign-in.
        return f"<bearer.DeviceLogin {'closed' if self._handle is None else 'open'}>"


_START = object()
