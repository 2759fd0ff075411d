#!/usr/bin/env bash
# Benchmark of the PHP HTTP integrations against a local `bearer serve`:
# median us per GET /api/whoami over a kept-alive connection, Guzzle with a
# fixed header vs the Guzzle middleware and the PSR-18 decorator. Needs
# php8.2-cli, php-guzzlehttp-guzzle and php8.2-curl. Usage: ./bench.sh
set -euo pipefail
cd "$(dirname "$0")"
source ../require-built.sh
exec php -d ffi.enable=preload -d zend.assertions=-1 bench/bench.php
