#!/usr/bin/env bash
# Runs the PHP binding's suite against target/release/{libbearer.so,bearer}.
# Needs Debian's php8.2-cli, phpunit and php-guzzlehttp-guzzle (php8.2-cgi optional). Usage: ./test.sh
set -euo pipefail
cd "$(dirname "$0")"

source ../require-built.sh
command -v php >/dev/null || { echo "php is missing (Debian: php8.2-cli)" >&2; exit 1; }
command -v phpunit >/dev/null || { echo "phpunit is missing (Debian: phpunit)" >&2; exit 1; }
php -r 'exit(extension_loaded("ffi") ? 0 : 1);' || { echo "the PHP ffi extension is missing" >&2; exit 1; }
# The HTTP integrations' tests use Guzzle 7 (and the PSR-18 interfaces it pulls in).
[ -f /usr/share/php/GuzzleHttp/autoload.php ] || { echo "Guzzle is missing (Debian: php-guzzlehttp-guzzle)" >&2; exit 1; }

rm -rf build && mkdir -p build
# ffi.enable=preload is the CLI default; stated so a site php.ini cannot turn FFI off.
exec php -d ffi.enable=preload -d zend.assertions=1 "$(command -v phpunit)" --testdox "$@"
