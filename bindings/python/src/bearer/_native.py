"""ctypes declarations of ``include/bearer.h`` and the library lookup.

Returned strings are declared ``c_void_p``, not ``c_char_p``: ctypes would
copy a ``c_char_p`` into ``bytes`` and drop the pointer, and the pointer is
needed to give the memory back with ``bearer_string_free``.

ctypes releases the GIL during every foreign call, so threads sharing one
client really wait on the library together (where its single-flight joins
them) instead of queueing on the interpreter.
"""

import ctypes
import os
import pathlib
import threading
from ctypes import POINTER, c_bool, c_char_p, c_int, c_uint, c_void_p
from typing import List, Optional, Tuple

from ._errors import LibraryNotFoundError, ProblemError

LIBRARY_NAME = "libbearer.so"
ENV_VAR = "BEARER_LIBRARY"

_p_out = POINTER(c_void_p)
_byref = ctypes.byref
_string_at = ctypes.string_at  # char ** / bearer_client ** / bearer_login ** / bearer_device ** out-parameters

#: The header's opaque handle types; each is a c_void_p here.
OPAQUE_TYPES = ("bearer_client", "bearer_login", "bearer_device")

#: Every function of bearer.h: name -> (restype, [(parameter name, argtype)]).
#: tests/test_drift.py compares this table, and the loaded functions, with
#: the header, so a change there fails the suite instead of crashing later.
SIGNATURES = {
    "bearer_version": (c_char_p, []),
    "bearer_string_free": (None, [("text", c_void_p)]),
    "bearer_global_cleanup": (None, []),
    "bearer_test_panic": (c_int, [("problem_out", _p_out)]),
    "bearer_client_new": (
        c_int,
        [("config_json", c_char_p), ("client_out", _p_out), ("problem_out", _p_out)],
    ),
    "bearer_client_token": (
        c_int,
        [("client", c_void_p), ("token_out", _p_out), ("problem_out", _p_out)],
    ),
    "bearer_client_token_response": (
        c_int,
        [("client", c_void_p), ("json_out", _p_out), ("problem_out", _p_out)],
    ),
    "bearer_client_authorization_header": (
        c_int,
        [("client", c_void_p), ("header_out", _p_out), ("problem_out", _p_out)],
    ),
    "bearer_client_take_refresh_problem": (
        c_int,
        [
            ("client", c_void_p),
            ("refresh_status_out", POINTER(c_int)),
            ("refresh_problem_out", _p_out),
            ("problem_out", _p_out),
        ],
    ),
    "bearer_client_token_refused": (
        c_int,
        [("client", c_void_p), ("token", c_char_p), ("dropped_out", POINTER(c_bool)), ("problem_out", _p_out)],
    ),
    "bearer_client_free": (None, [("client", c_void_p)]),
    "bearer_authorize_start": (
        c_int,
        [("config_json", c_char_p), ("request_out", _p_out), ("problem_out", _p_out)],
    ),
    "bearer_authorize_complete": (
        c_int,
        [
            ("config_json", c_char_p),
            ("request_json", c_char_p),
            ("redirect_url", c_char_p),
            ("json_out", _p_out),
            ("problem_out", _p_out),
        ],
    ),
    "bearer_login_start": (
        c_int,
        [("config_json", c_char_p), ("login_out", _p_out), ("url_out", _p_out), ("problem_out", _p_out)],
    ),
    "bearer_login_wait": (
        c_int,
        [("login", c_void_p), ("timeout_ms", c_uint), ("json_out", _p_out), ("problem_out", _p_out)],
    ),
    "bearer_login_free": (None, [("login", c_void_p)]),
    "bearer_device_start": (
        c_int,
        [("config_json", c_char_p), ("device_out", _p_out), ("json_out", _p_out), ("problem_out", _p_out)],
    ),
    "bearer_device_poll": (
        c_int,
        [("device", c_void_p), ("token_json_out", _p_out), ("problem_out", _p_out)],
    ),
    "bearer_device_cancel": (None, [("device", c_void_p)]),
    "bearer_device_free": (None, [("device", c_void_p)]),
    "bearer_fetch_token": (
        c_int,
        [("config_json", c_char_p), ("token_out", _p_out), ("problem_out", _p_out)],
    ),
    "bearer_fetch_token_response": (
        c_int,
        [("config_json", c_char_p), ("json_out", _p_out), ("problem_out", _p_out)],
    ),
    "bearer_token_refused": (
        c_int,
        [("config_json", c_char_p), ("token", c_char_p), ("dropped_out", POINTER(c_bool)), ("problem_out", _p_out)],
    ),
}


def candidates() -> Tuple[List[pathlib.Path], bool]:
    """The paths to try, in order, and whether they come from BEARER_LIBRARY.

    An explicit BEARER_LIBRARY is the only candidate: silently loading some
    other copy would hide a typo in the variable.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return [pathlib.Path(env)], True
    here = pathlib.Path(__file__).resolve().parent
    paths = [here / LIBRARY_NAME]
    # bindings/python/src/bearer/ -> the checkout root, when run from a clone.
    root = here.parents[3] if len(here.parents) > 3 else None
    if root is not None:
        paths += [root / "target" / "release" / LIBRARY_NAME, root / "target" / "debug" / LIBRARY_NAME]
    return paths, False


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_path: Optional[pathlib.Path] = None


def _declare(lib: ctypes.CDLL) -> None:
    for name, (restype, params) in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = [argtype for _, argtype in params]


def load() -> ctypes.CDLL:
    """The library, loaded and declared on first use (once per process)."""
    global _lib, _path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        paths, from_env = candidates()
        for path in paths:
            if not path.is_file():
                continue
            try:
                lib = ctypes.CDLL(str(path))
                _declare(lib)
            except (OSError, AttributeError) as exc:
                raise LibraryNotFoundError(
                    f"could not load the bearer library {path}: {exc}", [path]
                ) from exc
            _path = path
            _lib = lib
            return lib
        tried = ", ".join(str(p) for p in paths)
        if from_env:
            message = f"bearer library not found: {ENV_VAR} is set to {tried}, which does not exist"
        else:
            message = (
                f"bearer library not found; tried {tried}. "
                f"Set {ENV_VAR} to the path of {LIBRARY_NAME}, or build it with "
                f"`cargo build --release` in the bearer checkout"
            )
        raise LibraryNotFoundError(message, paths)


def library_path() -> pathlib.Path:
    """Where the loaded library came from (loads it if needed)."""
    load()
    assert _path is not None
    return _path


def take_string(ptr: c_void_p) -> Optional[str]:
    """Copies a string the library returned, then frees it (exactly once)."""
    address = ptr.value
    if not address:
        return None
    try:
        return ctypes.string_at(address).decode("utf-8")
    finally:
        (_lib or load()).bearer_string_free(ptr)
        ptr.value = None


def call(fn, *args) -> str:
    """Runs a ``bearer_status fn(args..., char **out, char **problem_out)``.

    Returns the copied out-string or raises the copied problem; both
    strings are freed before this returns, on every path.
    """
    # call_optional inlined: this is the path of every header and token.
    out = c_void_p()
    problem = c_void_p()
    try:
        status = fn(*args, _byref(out), _byref(problem))
        if status == 0:
            address = out.value
            return _string_at(address).decode("utf-8") if address else ""
        raise ProblemError._from_json(status, take_string(problem))
    finally:
        # Only one of them is ever set; freeing here covers a decode error.
        if out.value:
            (_lib or load()).bearer_string_free(out)
        if problem.value:
            take_string(problem)


def call_optional(fn, *args) -> Optional[str]:
    """As :func:`call`, for a function whose out-string may be NULL: None then."""
    out = c_void_p()
    problem = c_void_p()
    try:
        status = fn(*args, ctypes.byref(out), ctypes.byref(problem))
        if status == 0:
            return take_string(out)
        raise ProblemError._from_json(status, take_string(problem))
    finally:
        # Only one of them is ever set; freeing here covers a decode error.
        if out.value:
            take_string(out)
        if problem.value:
            take_string(problem)


def take_refresh_problem(fn, client) -> Optional[ProblemError]:
    """Runs ``bearer_client_take_refresh_problem``: the error of a refresh that
    failed while the cached token was served, with the status that refresh
    would have returned, or None."""
    refresh_status = c_int()
    text = call_optional(fn, client, ctypes.byref(refresh_status))
    return None if text is None else ProblemError._from_json(refresh_status.value, text)


def refused(fn, *args) -> bool:
    """Runs a ``bearer_status fn(args..., bool *dropped_out, char **problem_out)``
    (the two ``token_refused`` calls): whether the token was dropped."""
    dropped = c_bool(False)
    problem = c_void_p()
    try:
        status = fn(*args, ctypes.byref(dropped), ctypes.byref(problem))
        if status != 0:
            raise ProblemError._from_json(status, take_string(problem))
        return bool(dropped.value)
    finally:
        if problem.value:
            take_string(problem)


def test_panic() -> None:
    """Raises the ``internal`` problem from a panic caught inside the library.

    Exists so that the error path for ``BEARER_STATUS_INTERNAL`` is testable.
    """
    lib = load()
    problem = c_void_p()
    status = lib.bearer_test_panic(ctypes.byref(problem))
    raise ProblemError._from_json(status, take_string(problem))
