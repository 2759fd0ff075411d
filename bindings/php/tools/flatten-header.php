<?php
// Regenerates bearer.h (the declarations PHP's FFI parser reads) from the C
// header: php tools/flatten-header.php ../../include/bearer.h > bearer.h
declare(strict_types=1);

/**
 * PHP's FFI parser knows C declarations only: no preprocessor, no comments.
 * This keeps what a C compiler sees (C, not C++) and drops everything else.
 */
function bearer_flatten_header(string $c): string
{
    $c = preg_replace('~/\*.*?\*/~s', '', $c);
    $c = preg_replace('~//[^\n]*~', '', $c);
    $out = [];
    $skip = 0;
    foreach (explode("\n", $c) as $line) {
        $t = trim($line);
        if (preg_match('/^#\s*ifdef\s+__cplusplus\b/', $t)) {
            $skip++;
            continue;
        }
        if ($skip > 0) {
            if (preg_match('/^#\s*endif\b/', $t)) {
                $skip--;
            }
            continue;
        }
        if ($t === '' || $t[0] === '#') {
            continue;
        }
        $out[] = rtrim($line);
    }
    $text = implode("\n", $out) . "\n";
    // One declaration per paragraph keeps the file readable.
    return preg_replace('/;\n(?=\S)/', ";\n\n", $text);
}

if (PHP_SAPI === 'cli' && realpath($_SERVER['SCRIPT_FILENAME'] ?? '') === __FILE__) {
    $src = $argv[1] ?? dirname(__DIR__, 3) . '/include/bearer.h';
    fwrite(STDOUT, bearer_flatten_header((string) file_get_contents($src)));
}
