<?php

declare(strict_types=1);

namespace Bearer\Internal;

use Bearer\BearerException;
use Bearer\ProblemException;
use FFI;
use FFI\CData;

/**
 * The one place that talks to the C ABI. Every string the library returns
 * is copied into PHP and freed here with bearer_string_free, on success and
 * failure alike, so callers only ever see PHP values.
 *
 * @internal
 */
final class Native
{
    /** The FFI scope name that preload.php registers for php-fpm. */
    public const SCOPE = 'BEARER';

    private static ?FFI $ffi = null;
    private static ?string $library = null;

    /** bearer.h beside this package: the C header without preprocessor lines or comments. */
    public static function headerFile(): string
    {
        return dirname(__DIR__, 2) . '/bearer.h';
    }

    /**
     * The preloaded scope when there is one (php-fpm with ffi.enable=preload
     * allows nothing else), else the header loaded with FFI::cdef (CLI, or
     * ffi.enable=true).
     */
    public static function ffi(): FFI
    {
        if (self::$ffi !== null) {
            return self::$ffi;
        }
        try {
            self::$ffi = FFI::scope(self::SCOPE);
            self::$library = null;

            return self::$ffi;
        } catch (FFI\Exception) {
            // No preloaded scope: load the header ourselves below.
        }
        $header = @file_get_contents(self::headerFile());
        if ($header === false) {
            throw new BearerException('cannot read ' . self::headerFile());
        }
        $path = Library::locate();
        try {
            self::$ffi = FFI::cdef($header, $path);
        } catch (FFI\Exception $e) {
            $hint = str_contains($e->getMessage(), 'ffi.enable')
                ? ' (with ffi.enable=preload outside the CLI, load this package through preload.php; see README)'
                : '';
            throw new BearerException('cannot load ' . $path . ': ' . $e->getMessage() . $hint, 0, $e);
        }
        self::$library = $path;

        return self::$ffi;
    }

    /** "scope" when the preloaded FFI scope is in use, "cdef" otherwise. */
    public static function mode(): string
    {
        self::ffi();

        return self::$library === null ? 'scope' : 'cdef';
    }

    /** The library file loaded by FFI::cdef; null when the preloaded scope is used. */
    public static function library(): ?string
    {
        self::ffi();

        return self::$library;
    }

    /**
     * The header with "#define FFI_SCOPE" and "#define FFI_LIB" (the
     * library's absolute path, found now) that FFI::load and ffi.preload read.
     */
    public static function scopeHeader(): string
    {
        $header = @file_get_contents(self::headerFile());
        if ($header === false) {
            throw new BearerException('cannot read ' . self::headerFile());
        }
        $path = Library::locate();
        if (str_contains($path, '"') || str_contains($path, "\n")) {
            throw new BearerException('library path not usable in FFI_LIB: ' . $path);
        }

        return '#define FFI_SCOPE "' . self::SCOPE . "\"\n#define FFI_LIB \"" . $path . "\"\n" . $header;
    }

    /** Whether the scope "BEARER" is already loaded (by ffi.preload or an earlier preload()). */
    public static function hasScope(): bool
    {
        try {
            FFI::scope(self::SCOPE);

            return true;
        } catch (FFI\Exception) {
            return false;
        }
    }

    /**
     * For opcache.preload (see preload.php): registers the scope "BEARER"
     * unless ffi.preload did already. FFI::load wants a file, so the header
     * goes to a private temporary file that is removed once loaded.
     */
    public static function preload(): void
    {
        if (self::hasScope()) {
            return;
        }
        $text = self::scopeHeader();
        $file = tempnam(sys_get_temp_dir(), 'bearer-ffi-');
        if ($file === false) {
            throw new BearerException('cannot create a temporary file in ' . sys_get_temp_dir());
        }
        try {
            if (file_put_contents($file, $text) !== strlen($text)) {
                throw new BearerException('cannot write ' . $file);
            }
            FFI::load($file);
        } finally {
            @unlink($file);
        }
    }

    public static function version(): string
    {
        return (string) self::ffi()->bearer_version();
    }

    public static function globalCleanup(): void
    {
        self::ffi()->bearer_global_cleanup();
    }

    /**
     * Calls a function shaped f(input..., char **out, char **problem_out)
     * and returns the copied output, or throws the library's problem.
     *
     * @param string $function a bearer_* name
     * @param string|int|CData ...$inputs the configuration text, a handle, a request JSON, a URL, a timeout
     */
    public static function call(string $function, #[\SensitiveParameter] string|int|CData ...$inputs): string
    {
        $ffi = self::ffi();
        $out = $ffi->new('char*');
        $problem = $ffi->new('char*');
        $status = $ffi->$function(...[...$inputs, FFI::addr($out), FFI::addr($problem)]);

        return self::take($status, $out, $problem);
    }

    /**
     * Calls a compare-and-invalidate function shaped f(client or config,
     * token, bool *dropped_out, char **problem_out): whether it dropped.
     *
     * @param string $function bearer_client_token_refused or bearer_token_refused
     */
    public static function refused(string $function, #[\SensitiveParameter] string|CData $target, #[\SensitiveParameter] string $token): bool
    {
        $ffi = self::ffi();
        $dropped = $ffi->new('bool');
        $problem = $ffi->new('char*');
        $status = $ffi->$function($target, self::text($token, 'the token'), FFI::addr($dropped), FFI::addr($problem));
        if ($status !== 0) {
            self::take($status, $ffi->new('char*'), $problem);
        }
        $ffi->bearer_string_free($problem);

        return (bool) $dropped->cdata;
    }

    /** Makes a client handle for the configuration text. */
    public static function clientNew(#[\SensitiveParameter] string $config): CData
    {
        $ffi = self::ffi();
        $client = $ffi->new('bearer_client*');
        $problem = $ffi->new('char*');
        $status = $ffi->bearer_client_new($config, FFI::addr($client), FFI::addr($problem));
        if ($status !== 0) {
            self::take($status, $ffi->new('char*'), $problem);
        }

        return $client;
    }

    /**
     * The problem of a refresh that failed while the cached token was served,
     * with the status that refresh would have returned; null when none.
     */
    public static function clientTakeRefreshProblem(CData $client): ?ProblemException
    {
        $ffi = self::ffi();
        $refreshStatus = $ffi->new('bearer_status');
        $out = $ffi->new('char*');
        $problem = $ffi->new('char*');
        $status = $ffi->bearer_client_take_refresh_problem(
            $client,
            FFI::addr($refreshStatus),
            FFI::addr($out),
            FFI::addr($problem),
        );
        if ($status === 0 && FFI::isNull($out)) {
            return null;
        }

        return ProblemException::fromJson(self::take($status, $out, $problem), $refreshStatus->cdata);
    }

    public static function clientFree(CData $client): void
    {
        self::ffi()->bearer_client_free($client);
    }

    /**
     * Starts a loopback login for the configuration text.
     *
     * @return array{0: CData, 1: string} the bearer_login handle and the URL to open
     */
    public static function loginStart(#[\SensitiveParameter] string $config): array
    {
        $ffi = self::ffi();
        $login = $ffi->new('bearer_login*');
        $url = $ffi->new('char*');
        $problem = $ffi->new('char*');
        $status = $ffi->bearer_login_start($config, FFI::addr($login), FFI::addr($url), FFI::addr($problem));
        try {
            $text = self::take($status, $url, $problem);
        } catch (\Throwable $e) {
            // Only on success is the handle set; free it anyway should a URL be missing.
            if (!FFI::isNull($login)) {
                $ffi->bearer_login_free($login);
            }
            throw $e;
        }

        return [$login, $text];
    }

    public static function loginFree(CData $login): void
    {
        self::ffi()->bearer_login_free($login);
    }

    /**
     * Starts the device authorization grant for the configuration text.
     *
     * @return array{0: CData, 1: string} the bearer_device handle and the JSON of user_code, verification_uri, ...
     */
    public static function deviceStart(#[\SensitiveParameter] string $config): array
    {
        $ffi = self::ffi();
        $device = $ffi->new('bearer_device*');
        $json = $ffi->new('char*');
        $problem = $ffi->new('char*');
        $status = $ffi->bearer_device_start($config, FFI::addr($device), FFI::addr($json), FFI::addr($problem));
        try {
            $text = self::take($status, $json, $problem);
        } catch (\Throwable $e) {
            if (!FFI::isNull($device)) {
                $ffi->bearer_device_free($device);
            }
            throw $e;
        }

        return [$device, $text];
    }

    public static function deviceFree(CData $device): void
    {
        self::ffi()->bearer_device_free($device);
    }

    /** The text in $out on success; else throws the problem. Frees both either way. */
    private static function take(int $status, CData $out, CData $problem): string
    {
        $ffi = self::ffi();
        $text = FFI::isNull($out) ? null : FFI::string($out);
        $json = FFI::isNull($problem) ? null : FFI::string($problem);
        $ffi->bearer_string_free($out);
        $ffi->bearer_string_free($problem);
        if ($status !== 0 || $text === null) {
            throw ProblemException::fromJson($json, $status === 0 ? 8 : $status);
        }

        return $text;
    }

    /**
     * The configuration as the JSON text the library reads. A string is
     * passed as is (bytes and all: invalid UTF-8 comes back as the library's
     * invalid-argument problem); an array is encoded as JSON.
     *
     * @param array<string, mixed>|string $config
     * @throws \ValueError for a NUL byte (C would cut the text there) or an array JSON cannot encode
     */
    public static function configText(#[\SensitiveParameter] array|string $config): string
    {
        if (is_array($config)) {
            try {
                $config = json_encode($config, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION);
            } catch (\JsonException $e) {
                throw new \ValueError('the configuration array cannot be encoded as JSON: ' . $e->getMessage());
            }
        }
        return self::text($config, 'the configuration');
    }

    /**
     * Text passed to C as is; a NUL byte would cut it short there.
     *
     * @throws \ValueError for a NUL byte
     */
    public static function text(#[\SensitiveParameter] string $text, string $what): string
    {
        if (str_contains($text, "\0")) {
            throw new \ValueError($what . ' must not contain NUL bytes');
        }

        return $text;
    }
}
