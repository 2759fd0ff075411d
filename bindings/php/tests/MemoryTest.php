<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\Bearer;
use Bearer\Client;
use Bearer\ProblemException;
use PHPUnit\Framework\TestCase;

/**
 * Every string the library returns must be freed, on success and failure.
 * A leak of one 1 KB string per call would add about 100 MB over these
 * calls; the bound is far below that and far above allocator noise.
 */
final class MemoryTest extends TestCase
{
    private const WARMUP = 10_000;
    private const CALLS = 100_000;
    private const RSS_BOUND = 6 * 1024 * 1024;
    private const PHP_BOUND = 1024 * 1024;

    private static function rss(): int
    {
        $status = (string) file_get_contents('/proc/self/status');
        if (!preg_match('/^VmRSS:\s+(\d+)\s+kB/m', $status, $m)) {
            self::markTestSkipped('no VmRSS in /proc/self/status');
        }

        return (int) $m[1] * 1024;
    }

    private static function calls(Client $client, string $oneShot, string $signIn, int $n): void
    {
        for ($i = 0; $i < $n; $i++) {
            switch ($i % 10) {
                case 0: $client->token(); break;
                case 1:
                    $client->getAuthorizationHeader();
                    $client->tokenRefused('not-the-current-token');
                    break;
                case 2: $client->tokenResponse(); break;
                case 3: $client->getAccessToken(); break;
                case 4: Bearer::fetchToken($oneShot); break;
                case 5:
                    try {
                        Bearer::fetchToken('{"client_id":"x"');
                    } catch (ProblemException) {
                    }
                    try {
                        Bearer::tokenRefused('{"client_id":"x"', 'x');
                    } catch (ProblemException) {
                    }
                    break;
                case 6:
                    try {
                        new Client('{"client_id":"demo-client"}');
                    } catch (ProblemException) {
                    }
                    break;
                case 7:
                    (new Client($oneShot))->close();
                    break;
                case 8: Bearer::authorizeStart($signIn); break;
                default:
                    // A forged state: refused before any request, a problem string each time.
                    try {
                        Bearer::authorizeComplete($signIn, Bearer::authorizeStart($signIn), 'http://127.0.0.1:9/callback?code=c&state=forged');
                    } catch (ProblemException) {
                    }
            }
        }
    }

    public function testMemoryStaysFlat(): void
    {
        $client = new Client(LocalServer::auth0(LocalServer::unique('expires_in=3600')));
        $oneShot = LocalServer::json(LocalServer::cobuilder(LocalServer::unique('expires_in=3600')));
        $signIn = LocalServer::json([
            'client_id' => 'native-client',
            'grant_type' => 'authorization_code',
            'redirect_uri' => 'http://127.0.0.1:9/callback',
            'authorize_url' => LocalServer::url() . '/authorize',
            'token_url' => LocalServer::url() . '/oauth/token',
        ]);
        $before = LocalServer::stats();

        self::calls($client, $oneShot, $signIn, self::WARMUP);
        gc_collect_cycles();
        $rss0 = self::rss();
        $php0 = memory_get_usage();
        $t0 = microtime(true);

        self::calls($client, $oneShot, $signIn, self::CALLS);
        gc_collect_cycles();
        $elapsed = microtime(true) - $t0;
        $rss1 = self::rss();
        $php1 = memory_get_usage();

        fwrite(STDERR, sprintf(
            "\n[memory] %d calls after %d warm-up in %.1f s (%.1f us/call): VmRSS %.1f MiB -> %.1f MiB (%+.0f KiB); memory_get_usage %d -> %d bytes (%+d)\n",
            self::CALLS, self::WARMUP, $elapsed, $elapsed * 1e6 / self::CALLS,
            $rss0 / 1048576, $rss1 / 1048576, ($rss1 - $rss0) / 1024, $php0, $php1, $php1 - $php0,
        ));

        $after = LocalServer::stats();
        self::assertSame(1, $after['auth0'] - $before['auth0'], 'the client fetched once');
        self::assertSame(1, $after['cobuilder'] - $before['cobuilder'], 'the one-shot cache fetched once');
        self::assertSame($before['authorize'], $after['authorize'], 'starting and refusing a sign-in make no request');
        self::assertLessThan(self::RSS_BOUND, $rss1 - $rss0);
        self::assertLessThan(self::PHP_BOUND, $php1 - $php0);
        $client->close();
    }
}
