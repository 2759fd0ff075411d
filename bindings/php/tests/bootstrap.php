<?php

declare(strict_types=1);

require dirname(__DIR__) . '/autoload.php';
require dirname(__DIR__) . '/tools/flatten-header.php';

spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Bearer\\Tests\\')) {
        $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, 13)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
