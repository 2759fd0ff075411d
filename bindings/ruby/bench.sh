#!/usr/bin/env bash
# Median wall time per GET /api/whoami over a kept-alive connection, against
# a local `bearer serve`: each HTTP client with a fixed Authorization header
# (the floor), the same client through bearer, and the oauth2 gem as a peer.
# Not part of test.sh. The peer and Faraday's kept-alive adapter come from
# Debian (ruby-oauth2, ruby-net-http-persistent); they are installed with
# apt-get when missing and this runs as root, else their rows are left out.
set -euo pipefail
cd "$(dirname "$0")"
source ../require-built.sh

missing=()
ruby -e 'require "oauth2"' 2>/dev/null || missing+=(ruby-oauth2)
ruby -e 'require "net/http/persistent"' 2>/dev/null || missing+=(ruby-net-http-persistent)
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 \
            || echo "could not install ${missing[*]}; their rows are left out" >&2
    else
        echo "not root: ${missing[*]} not installed; their rows are left out" >&2
    fi
fi

exec ruby -Ilib -Itest bench/bench.rb "$@"
