"""What every HTTP-client integration does alike, and the one for requests.

The rules (the same in every binding): set ``Authorization`` on every
attempt from the client's cache; on a 401 that refuses the token (a Bearer
challenge with ``error="invalid_token"``, a Bearer challenge without an
error, or no challenge at all) report the refused token with
``token_refused`` and try once more with the new token, if it differs and
the body can be sent again. Everything else passes through untouched.
"""

import re
from typing import Optional

from ._client import Client

__all__ = ["BearerAuth", "is_refusal", "token_of"]

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(r"\s*(" + _TOKEN + r")\s*=\s*(\"(?:[^\"\\]|\\.)*\"|" + _TOKEN + r")\s*(?:,|$)")
_SCHEME = re.compile(r"[\s,]*(" + _TOKEN + r")(?:\s+|$|(?=,))")
_TOKEN68 = re.compile(r"\s*[A-Za-z0-9\-._~+/]+=*\s*(?:,|$)")


def challenges(value: str):
    """The challenges of a ``WWW-Authenticate`` value (RFC 9110 §11.6.1),
    several header lines joined by commas: ``[(scheme lowercased, {param: value})]``."""
    found = []
    pos, end = 0, len(value)
    while pos < end:
        m = _SCHEME.match(value, pos)
        if not m:
            break  # unreadable rest: keep what was read
        params = {}
        found.append((m[1].lower(), params))
        pos = m.end()
        t = _TOKEN68.match(value, pos)
        if t and not _PARAM.match(value, pos):
            pos = t.end()
            continue
        while True:
            p = _PARAM.match(value, pos)
            if not p:
                break
            v = p[2]
            if v.startswith('"'):
                v = re.sub(r"\\(.)", r"\1", v[1:-1])
            params[p[1].lower()] = v
            pos = p.end()
    return found


def is_refusal(status: int, www_authenticate: Optional[str]) -> bool:
    """Whether a response refuses the token it was sent with: a 401 with no
    challenge, or with a Bearer challenge whose ``error`` is missing or
    ``invalid_token``. A 401 naming another error (``invalid_request``), or
    only other schemes, and every other status are no refusal."""
    if status != 401:
        return False
    if not www_authenticate or not www_authenticate.strip():
        return True
    for scheme, params in challenges(www_authenticate):
        if scheme == "bearer":
            return params.get("error", "invalid_token") == "invalid_token"
    return False


def token_of(header: Optional[str]) -> Optional[str]:
    """The token in an ``Authorization: Bearer <token>`` value, else None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _check_client(client) -> None:
    if not isinstance(client, Client):
        raise TypeError(f"BearerAuth needs a bearer.Client, not {type(client).__name__}")


class BearerAuth:
    """Sets ``Authorization: Bearer <token>`` on a ``requests`` request, and
    retries once with a new token when the API refuses the old one.

    Follows ``requests.auth.AuthBase`` (``session.auth = BearerAuth(client)``)
    without importing requests at load: anything with a ``headers`` mapping
    gets its header. The token comes from the client's cache, so this costs
    no request while the token is fresh. With ``retry=False`` a refused
    token is still reported (the next request gets a new one) and the 401
    goes back to the caller.
    """

    def __init__(self, client: Client, retry: bool = True) -> None:
        _check_client(client)
        self.client = client
        self.retry = bool(retry)

    def __call__(self, r):
        r.headers["Authorization"] = self.client.authorization_header()
        register = getattr(r, "register_hook", None)
        if register is not None:
            register("response", self._handle_401)
        return r

    def _handle_401(self, r, **kwargs):
        """The response hook. requests also calls it for each redirect it
        follows (the hooks travel with the copied request); a hop whose
        Authorization was stripped (another host) carries no token and
        passes through, so a token never follows a redirect elsewhere."""
        if r.status_code != 401:
            return r
        req = r.request
        sent = req.headers.get("Authorization")
        token = token_of(sent)
        if token is None or getattr(req, "_bearer_retried", False):
            return r
        if not is_refusal(401, r.headers.get("WWW-Authenticate")):
            return r
        self.client.token_refused(token)
        connection = getattr(r, "connection", None)  # the adapter that sent it
        if not self.retry or connection is None or not _replayable(req):
            return r
        header = self.client.authorization_header()
        if header == sent:
            return r  # the 2-second window kept the refused token: no second try
        r.content  # read and free the connection for the retry
        r.close()
        prep = req.copy()
        prep._bearer_retried = True  # on the object, never on the wire
        prep.headers["Authorization"] = header
        position = getattr(req, "_body_position", None)
        if isinstance(position, int) and hasattr(prep.body, "seek"):
            prep.body.seek(position)
        from requests.cookies import extract_cookies_to_jar

        extract_cookies_to_jar(prep._cookies, req, r.raw)
        prep.prepare_cookies(prep._cookies)
        new = connection.send(prep, **kwargs)
        new.history.append(r)
        new.request = prep
        return new

    def __repr__(self) -> str:
        return f"BearerAuth({self.client!r})"


def _replayable(req) -> bool:
    """Whether a requests PreparedRequest's body can be sent again: none,
    bytes or text, or a file requests recorded a start position for."""
    body = req.body
    if body is None or isinstance(body, (bytes, str)):
        return True
    return isinstance(getattr(req, "_body_position", None), int) and hasattr(body, "seek")
