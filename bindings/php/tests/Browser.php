<?php

declare(strict_types=1);

namespace Bearer\Tests;

/**
 * What a browser does, with redirects NOT followed: the test reads the
 * authorization server's Location itself (nothing listens on the app's
 * redirect URI).
 */
final class Browser
{
    /**
     * @return array{status: int, headers: list<string>, body: string}
     */
    public static function get(string $url): array
    {
        $context = stream_context_create(['http' => [
            'follow_location' => 0,
            'ignore_errors' => true,
            'timeout' => 10,
        ]]);
        $body = @file_get_contents($url, false, $context);
        $headers = $http_response_header ?? [];
        if ($body === false || $headers === []) {
            throw new \RuntimeException("GET $url failed: " . (error_get_last()['message'] ?? 'no answer'));
        }
        if (!preg_match('~^HTTP/\S+\s+(\d{3})~', $headers[0], $m)) {
            throw new \RuntimeException("GET $url: no status line");
        }

        return ['status' => (int) $m[1], 'headers' => $headers, 'body' => $body];
    }

    /** Opens the authorize URL and returns where the server redirects (302 Location). */
    public static function redirect(string $url): string
    {
        $r = self::get($url);
        if ($r['status'] !== 302) {
            throw new \RuntimeException("GET $url answered {$r['status']}, not 302: {$r['body']}");
        }
        foreach ($r['headers'] as $header) {
            if (preg_match('/^Location:\s*(\S+)/i', $header, $m)) {
                return $m[1];
            }
        }
        throw new \RuntimeException("GET $url: 302 without Location");
    }
}
