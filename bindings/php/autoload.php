<?php

declare(strict_types=1);

// PSR-4 autoloader for use without Composer: require 'path/to/bindings/php/autoload.php';
spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Bearer\\')) {
        $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 7)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
