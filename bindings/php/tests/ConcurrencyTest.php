<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\Client;
use PHPUnit\Framework\TestCase;

/**
 * PHP runs one request per process without threads, so the library's
 * single-flight (one request however many threads ask) cannot be exercised
 * across threads here. What holds in PHP: one client (and the one-shot
 * cache) serves every call in its process with one request, and processes
 * running side by side each work on their own, with a cache each.
 */
final class ConcurrencyTest extends TestCase
{
    public function testOneClientCalledRepeatedlyMakesOneRequest(): void
    {
        $client = new Client(LocalServer::auth0(LocalServer::unique('fault=stall&stall_ms=300&expires_in=3600')));
        $before = LocalServer::stats()['auth0'];
        $tokens = [];
        for ($i = 0; $i < 16; $i++) {
            $tokens[] = match ($i % 3) {
                0 => $client->token(),
                1 => substr($client->getAuthorizationHeader(), 7),
                default => $client->getAccessToken()->getToken(),
            };
        }
        self::assertCount(1, array_unique($tokens));
        self::assertSame(1, LocalServer::stats()['auth0'] - $before);
    }

    public function testEightProcessesAtOnceEachGetAToken(): void
    {
        $n = 8;
        $config = LocalServer::json(LocalServer::cobuilder(LocalServer::unique('fault=stall&stall_ms=300&expires_in=3600')));
        $before = LocalServer::stats()['cobuilder'];
        $start = microtime(true);
        $running = [];
        for ($i = 0; $i < $n; $i++) {
            $proc = Proc::start([PHP_BINARY, __DIR__ . '/scripts/token.php'], ['BEARER_TEST_CONFIG' => $config], null, $pipes);
            $running[] = [$proc, $pipes];
        }
        $tokens = [];
        foreach ($running as [$proc, $pipes]) {
            $r = Proc::finish($proc, $pipes);
            self::assertSame(0, $r['exit'], $r['err']);
            $tokens[] = trim($r['out']);
        }
        $elapsed = microtime(true) - $start;
        fwrite(STDERR, sprintf("\n[concurrency] %d processes, %d tokens, %.2f s (one after another: >= %.1f s)\n", $n, count($tokens), $elapsed, $n * 0.3));

        foreach ($tokens as $token) {
            self::assertMatchesRegularExpression('/^\S{20,}$/', $token);
        }
        // A cache per process: each process asked once, and the stalls overlapped.
        self::assertSame($n, LocalServer::stats()['cobuilder'] - $before);
        self::assertLessThan($n * 0.3, $elapsed);
    }
}
