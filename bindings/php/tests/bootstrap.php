<?php

declare(strict_types=1);

require dirname(__DIR__) . '/autoload.php';
require dirname(__DIR__) . '/tools/flatten-header.php';
// Guzzle 7 with PSR-7 and PSR-18, for tests/HttpTest.php (Debian: php-guzzlehttp-guzzle).
require_once '/usr/share/php/GuzzleHttp/autoload.php';

spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Bearer\\Tests\\')) {
        $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, 13)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
