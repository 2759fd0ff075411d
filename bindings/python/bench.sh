#!/usr/bin/env bash
# Per-request cost of the HTTP-client integrations against their peers:
# GET /api/whoami on a local `bearer serve`, over one kept-alive connection,
# median wall time per request, all rows interleaved in rounds.
#
# The peers (requests-oauthlib and Authlib) come from PyPI into
# build/bench-venv, made with --system-site-packages so that every row runs
# on Debian's requests and httpx. Not part of test.sh.
set -euo pipefail
cd "$(dirname "$0")"

source ../require-built.sh

py=/usr/bin/python3
venv=build/bench-venv
if [ ! -x "$venv/bin/python" ]; then
    mkdir -p build
    "$py" -m venv --system-site-packages "$venv"
fi
if ! "$venv/bin/python" -c 'import requests_oauthlib, authlib' 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check requests-oauthlib authlib >&2
fi

export PYTHONPATH="$PWD/src"
export PYTHONPYCACHEPREFIX="$PWD/build/pycache"
# Both peers refuse plain http unless told; the local server is http on 127.0.0.1.
export OAUTHLIB_INSECURE_TRANSPORT=1 AUTHLIB_INSECURE_TRANSPORT=1
unset BEARER_LIBRARY
exec "$venv/bin/python" bench.py "$@"
