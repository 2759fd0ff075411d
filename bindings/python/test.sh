#!/usr/bin/env bash
# Runs the Python binding's test suite against target/release/libbearer.so
# and a local `bearer serve`. Needs Debian's python3 and python3-pytest
# (python3-pip, python3-setuptools and python3-wheel for the wheel test).
set -euo pipefail
cd "$(dirname "$0")"

source ../require-built.sh

# Debian's interpreter: it is the one python3-pytest is installed for (a
# python3 earlier on PATH, e.g. from pyenv, may lack pytest).
py=/usr/bin/python3
if ! "$py" -m pytest --version >/dev/null 2>&1; then
    echo "pytest is missing for $py: apt-get install python3-pytest" >&2
    exit 1
fi

# Nothing to compile (ctypes); keep every by-product in the git-ignored build/.
mkdir -p build
export PYTHONPATH="$PWD/src"
export PYTHONPYCACHEPREFIX="$PWD/build/pycache"
unset BEARER_LIBRARY
exec "$py" -m pytest -o cache_dir=build/pytest-cache -ra "$@"
