"""The lifecycle both native handles share: a client and a loopback login."""

import threading

from . import _native
from ._errors import ClientClosedError


class NativeHandle:
    """Owns one native handle and frees it exactly once: by :meth:`close`,
    a ``with`` block, or garbage collection as a backstop.

    The library forbids freeing a handle while another thread uses it; a
    Python user must not be able to crash the process that way, so calls
    are counted and :meth:`close` waits for the running ones. Subclasses
    name their free function and what a closed one is called.
    """

    _free_function = ""
    _closed_message = "client is closed"

    def __init__(self) -> None:
        # Set first so that __del__ and close() work when a subclass's
        # __init__ fails before it has a handle.
        self._handle = None
        self._busy = 0
        self._mutex = threading.Lock()  # entered directly on the hot path (a C-level with)
        self._cond = threading.Condition(self._mutex)

    def _adopt(self, lib, handle: int) -> None:
        self._lib = lib
        self._handle = handle

    def _call(self, fn, *args, run=_native.call):
        """Runs ``fn(handle, *args, &out, &problem)`` with the handle held,
        through ``run`` (:func:`_native.call` or :func:`_native.call_optional`)."""
        with self._mutex:
            handle = self._handle
            if handle is None:
                raise ClientClosedError(self._closed_message)
            self._busy += 1
        try:
            return run(fn, handle, *args)
        finally:
            with self._mutex:
                self._busy -= 1
                if self._busy == 0:
                    self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Frees the native handle. Idempotent; later calls raise
        :class:`ClientClosedError`. Waits for calls still running on it."""
        with self._cond:
            handle, self._handle = self._handle, None
            if handle is None:
                return
            while self._busy:
                self._cond.wait()
        getattr(self._lib, self._free_function)(handle)

    def __enter__(self):
        if self._handle is None:
            raise ClientClosedError(self._closed_message)
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        # Backstop only: no call can be running, since it would hold a reference.
        handle = getattr(self, "_handle", None)
        if handle:
            self._handle = None
            try:
                getattr(self._lib, self._free_function)(handle)
            except Exception:  # interpreter shutdown may have torn ctypes down
                pass
