#!/usr/bin/env bash
# Runs the Ruby binding's test suite against target/release/libbearer.so and
# a local `bearer serve`. Needs Debian's ruby, ruby-ffi and ruby-minitest.
set -euo pipefail
cd "$(dirname "$0")"

source ../require-built.sh
for cmd in ruby gem; do
    command -v "$cmd" >/dev/null || { echo "missing $cmd: apt-get install ruby ruby-ffi ruby-minitest" >&2; exit 1; }
done
ruby -e 'require "ffi"; require "minitest"' 2>/dev/null \
    || { echo "missing ruby-ffi or ruby-minitest: apt-get install ruby-ffi ruby-minitest" >&2; exit 1; }
ruby -e 'require "faraday"' 2>/dev/null \
    || { echo "missing faraday (for the Faraday middleware's tests): apt-get install ruby-faraday" >&2; exit 1; }

# Tests load the library from the checkout, unless BEARER_LIBRARY says otherwise.
exec ruby -w -Ilib -Itest -e 'Dir["test/**/*_test.rb"].sort.each { |f| require File.expand_path(f) }' -- "$@"
