<?php

declare(strict_types=1);

namespace Bearer\Internal;

use Bearer\BearerException;

/**
 * Where libbearer is looked for. Every path is absolute, so the working
 * directory and the dynamic loader's search path never choose the library.
 *
 * @internal
 */
final class Library
{
    /** The library's file name on this platform. */
    public static function fileName(): string
    {
        return match (PHP_OS_FAMILY) {
            'Windows' => 'bearer.dll',
            'Darwin' => 'libbearer.dylib',
            default => 'libbearer.so',
        };
    }

    /**
     * BEARER_LIBRARY alone when it is set, since a path given on purpose
     * must not be silently replaced by another copy; otherwise the copy this
     * package ships (lib/), then this checkout's target/release and
     * target/debug.
     *
     * @return list<string>
     */
    public static function candidates(): array
    {
        $env = getenv('BEARER_LIBRARY');
        if (is_string($env) && $env !== '') {
            return [$env];
        }
        $package = dirname(__DIR__, 2);
        $checkout = dirname($package, 2);
        $name = self::fileName();

        return [
            $package . '/lib/' . $name,
            $checkout . '/target/release/' . $name,
            $checkout . '/target/debug/' . $name,
        ];
    }

    /**
     * The first candidate that exists.
     *
     * @param list<string>|null $candidates
     * @throws BearerException naming every path tried
     */
    public static function locate(?array $candidates = null): string
    {
        $candidates ??= self::candidates();
        foreach ($candidates as $path) {
            if (is_file($path)) {
                return $path;
            }
        }
        throw new BearerException(
            'libbearer not found; tried: ' . implode(', ', $candidates)
            . ' (set BEARER_LIBRARY to the library\'s path)'
        );
    }
}
