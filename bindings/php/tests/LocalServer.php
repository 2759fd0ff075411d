<?php

declare(strict_types=1);

namespace Bearer\Tests;

/**
 * One `bearer serve --port 0` for the whole suite, started on first use and
 * stopped when PHP exits; start() makes another one that a test can stop.
 * Its first stdout line names the port.
 */
final class LocalServer
{
    private static ?string $url = null;
    /** @var resource|null */
    private static $process = null;

    public static function checkout(): string
    {
        return dirname(__DIR__, 3);
    }

    public static function url(): string
    {
        if (self::$url !== null) {
            return self::$url;
        }
        $server = self::start();
        self::$process = $server['process'];
        register_shutdown_function(static function () use ($server): void {
            self::stop($server);
        });

        return self::$url = $server['url'];
    }

    /** @var array{http: string, https: string, mtls: string}|null */
    private static ?array $tls = null;

    /**
     * One `bearer serve --port 0 --tls-cert tests/tls/server.pem --tls-key
     * tests/tls/server.key` for the whole suite, started on first use: its
     * plain listener, its HTTPS listener that asks no certificate, and its
     * mutual-TLS listener that requires one (base URLs, no trailing slash).
     *
     * @return array{http: string, https: string, mtls: string}
     */
    public static function tls(): array
    {
        if (self::$tls !== null) {
            return self::$tls;
        }
        $tls = self::checkout() . '/tests/tls';
        $server = self::start(['--tls-cert', "$tls/server.pem", '--tls-key', "$tls/server.key"], 'mutual-TLS listening on');
        register_shutdown_function(static function () use ($server): void {
            self::stop($server);
        });
        $text = (string) file_get_contents($server['log']);
        preg_match('~^https listening on (https://127\.0\.0\.1:\d+)~m', $text, $https);
        preg_match('~^mutual-TLS listening on (https://127\.0\.0\.1:\d+)~m', $text, $mtls);

        return self::$tls = ['http' => $server['url'], 'https' => $https[1], 'mtls' => $mtls[1]];
    }

    /**
     * Starts a `bearer serve --port 0` of its own; stop it with stop().
     *
     * @param list<string> $args more arguments for `bearer serve`
     * @param string $readyLine with $args, wait for a line starting so (the last listener's)
     * @return array{process: resource, url: string, log: string}
     */
    public static function start(array $args = [], string $readyLine = ''): array
    {
        $bin = self::checkout() . '/target/release/bearer';
        if (!is_executable($bin)) {
            throw new \RuntimeException("$bin is missing: run `cargo build --release` in " . self::checkout());
        }
        $log = tempnam(sys_get_temp_dir(), 'bearer-serve-');
        $proc = proc_open([$bin, 'serve', '--port', '0', ...$args], [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']], $pipes);
        if (!is_resource($proc)) {
            throw new \RuntimeException("cannot start $bin");
        }
        $deadline = microtime(true) + 10;
        while (microtime(true) < $deadline) {
            $text = (string) file_get_contents($log);
            $first = strtok($text, "\n");
            if ($first !== false && preg_match('~^listening on (http://127\.0\.0\.1:\d+)~', $first, $m)
                && ($readyLine === '' || preg_match('~^' . preg_quote($readyLine, '~') . ' \S+\n~m', $text) === 1)) {
                return ['process' => $proc, 'url' => $m[1], 'log' => $log];
            }
            usleep(20_000);
        }
        $text = (string) file_get_contents($log);
        self::stop(['process' => $proc, 'url' => '', 'log' => $log]);
        throw new \RuntimeException('the local server did not start: ' . $text);
    }

    /** @param array{process: resource, url: string, log: string} $server */
    public static function stop(array $server): void
    {
        if (is_resource($server['process'])) {
            proc_terminate($server['process']);
            proc_close($server['process']);
        }
        @unlink($server['log']);
    }

    /**
     * Requests counted by the server: auth0 and cobuilder (token requests),
     * authorize, refresh, discovery. Compare deltas of the keys a test means.
     *
     * @return array<string, int>
     */
    public static function stats(): array
    {
        $json = file_get_contents(self::url() . '/_stats');

        return json_decode((string) $json, true, 8, JSON_THROW_ON_ERROR);
    }

    /** A query string that gives a test its own cache entry (the cache key includes the token URL). */
    public static function unique(string $query = ''): string
    {
        static $n = 0;
        $n++;

        return '?' . ($query !== '' ? $query . '&' : '') . 't=' . getmypid() . '-' . $n . '-' . bin2hex(random_bytes(4));
    }

    /** @return array<string, string> */
    public static function auth0(string $query = ''): array
    {
        return [
            'client_id' => 'demo-client',
            'client_secret' => 'demo-secret',
            'audience' => 'https://beeapp.open-cosmos.com',
            'grant_type' => 'client_credentials',
            'token_url' => self::url() . '/oauth/token' . $query,
        ];
    }

    /** @return array<string, string> */
    public static function cobuilder(string $query = ''): array
    {
        return [
            'clientId' => 'cobuilder-client',
            'clientSecret' => 'cobuilder-secret',
            'audienceUrl' => 'https://api.cobuilder.com',
            'token_url' => self::url() . '/authentication/api/v1/oauth2/token' . $query,
        ];
    }

    /** @param array<string, mixed> $config */
    public static function json(array $config): string
    {
        return json_encode($config, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
    }
}
