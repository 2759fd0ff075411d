"""Exceptions and the status enum.

The library does all error mapping and secret scrubbing; these classes only
carry its problem JSON into Python, so every language reports alike.
"""

import enum
import json
from typing import Any, Dict, Optional, Union

__all__ = [
    "Status",
    "BearerError",
    "ProblemError",
    "ClientClosedError",
    "LibraryNotFoundError",
]


class Status(enum.IntEnum):
    """Mirrors ``BEARER_STATUS_*`` in ``include/bearer.h`` (checked by the tests)."""

    OK = 0
    INVALID_ARGUMENT = 1
    INVALID_CONFIG = 2
    REJECTED = 3
    RATE_LIMITED = 4
    UNAVAILABLE = 5
    TIMEOUT = 6
    BAD_RESPONSE = 7
    INTERNAL = 8
    CANCELLED = 9


class BearerError(Exception):
    """Base of every exception this package raises."""


class ClientClosedError(BearerError, ValueError):
    """A closed :class:`bearer.Client` (or :class:`bearer.LoopbackLogin`,
    with the message ``login is closed``) was used.

    A ``ValueError`` too, like the one ``io`` raises for a closed file.
    """

    def __init__(self, message: str = "client is closed") -> None:
        super().__init__(message)


class LibraryNotFoundError(BearerError, OSError):
    """``libbearer.so`` could not be found or loaded.

    ``paths`` lists every location tried, in order, so the message says
    where to put the library or what to set ``BEARER_LIBRARY`` to.
    """

    def __init__(self, message: str, paths=()) -> None:
        super().__init__(message)
        self.paths = list(paths)

    def __str__(self) -> str:
        return str(self.args[0])


def _code(status: int) -> Union[Status, int]:
    # A newer library may add statuses; keep the number rather than fail.
    try:
        return Status(status)
    except ValueError:
        return status


class ProblemError(BearerError):
    """A failure reported by the library as an RFC 9457 problem.

    ``str(e)`` is ``"title: detail"``. ``code`` is the :class:`Status` the
    C call returned; ``type``, ``title``, ``status``, ``detail``,
    ``instance`` and ``extensions`` come from the problem JSON. The library
    has already removed the client secret from all of them.
    """

    type: str
    title: str
    status: int
    detail: str
    instance: str
    extensions: Dict[str, Any]
    code: Union[Status, int]

    def __init__(self, code: int, problem: Dict[str, Any]) -> None:
        self.code = _code(code)
        self.type = str(problem.get("type", "about:blank"))
        self.title = str(problem.get("title", ""))
        self.status = int(problem.get("status", 0) or 0)
        self.detail = str(problem.get("detail", ""))
        self.instance = str(problem.get("instance", ""))
        ext = problem.get("extensions")
        self.extensions = dict(ext) if isinstance(ext, dict) else {}
        super().__init__(f"{self.title}: {self.detail}")

    @classmethod
    def _from_json(cls, code: int, text: Optional[str]) -> "ProblemError":
        """Builds the error from the library's problem string.

        The library always writes valid JSON; the fallback only keeps a
        broken promise from turning into a second, less useful exception.
        """
        try:
            problem = json.loads(text) if text is not None else None
        except ValueError:
            problem = None
        if not isinstance(problem, dict):
            problem = {
                "type": "urn:bearer:problem:internal",
                "title": "Unreadable problem",
                "status": 500,
                "detail": f"bearer returned status {int(code)} without a readable problem",
                "instance": "",
                "extensions": {},
            }
        return cls(code, problem)

    def to_dict(self) -> Dict[str, Any]:
        """The problem as the library wrote it (without ``code``)."""
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": self.instance,
            "extensions": dict(self.extensions),
        }

    def __reduce__(self):
        # Exceptions pickle through self.args; ours are built from a dict.
        return (type(self), (int(self.code), self.to_dict()))

    def __repr__(self) -> str:
        code = self.code.name if isinstance(self.code, Status) else self.code
        return (
            f"{type(self).__name__}(code={code}, type={self.type!r}, "
            f"status={self.status}, title={self.title!r}, detail={self.detail!r})"
        )
