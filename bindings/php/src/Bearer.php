<?php

declare(strict_types=1);

namespace Bearer;

use Bearer\Internal\Native;

/**
 * One-shot calls that keep no object: tokens are still cached process-wide
 * by the library (keyed by a hash of the whole configuration), so calling
 * these on every request costs one token request per lifetime per process.
 */
final class Bearer
{
    private function __construct()
    {
    }

    /**
     * An access token for the seed's credentials JSON (either shape).
     *
     * @param array<string, mixed>|string $config
     * @throws ProblemException
     */
    public static function fetchToken(#[\SensitiveParameter] array|string $config): string
    {
        return Native::call('bearer_fetch_token', Native::configText($config));
    }

    /**
     * The whole token response for the configuration (see Client::tokenResponse()).
     *
     * @param array<string, mixed>|string $config
     * @return array<string, mixed>
     * @throws ProblemException
     */
    public static function fetchTokenResponse(#[\SensitiveParameter] array|string $config): array
    {
        $json = Native::call('bearer_fetch_token_response', Native::configText($config));

        return json_decode($json, true, 64, JSON_THROW_ON_ERROR);
    }

    /** The loaded library's version, e.g. "0.1.0". */
    public static function version(): string
    {
        return Native::version();
    }

    /**
     * Empties the process-wide one-shot cache and closes pooled connections
     * not held by a client. Optional; clients keep working.
     */
    public static function globalCleanup(): void
    {
        Native::globalCleanup();
    }

    /** "scope" when the opcache-preloaded FFI scope is in use, "cdef" when the header was loaded directly. */
    public static function ffiMode(): string
    {
        return Native::mode();
    }
}
