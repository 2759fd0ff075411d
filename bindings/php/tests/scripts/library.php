<?php

// Prints where the binding loaded the library from, or the error.
declare(strict_types=1);

require dirname(__DIR__, 2) . '/autoload.php';

try {
    echo json_encode([
        'candidates' => Bearer\Internal\Library::candidates(),
        'version' => Bearer\Bearer::version(),
        'mode' => Bearer\Bearer::ffiMode(),
        'library' => Bearer\Internal\Native::library(),
    ], JSON_UNESCAPED_SLASHES);
} catch (Bearer\BearerException $e) {
    fwrite(STDERR, get_class($e) . ': ' . $e->getMessage() . "\n");
    exit(3);
}
