<?php

declare(strict_types=1);

namespace Bearer\Tests;

use PHPUnit\Framework\TestCase;

/**
 * The host tier: processes with the same credentials share one token
 * through sealed files in a cache folder, so the server is asked once: the
 * shape of a php-fpm pool, whose workers each have a memory cache of their
 * own. Each child here is a fresh PHP process, run one after the other.
 */
final class SharedCacheTest extends TestCase
{
    private string $dir;

    protected function setUp(): void
    {
        $this->dir = sys_get_temp_dir() . '/bearer-cache-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($this->dir, 0700);
    }

    protected function tearDown(): void
    {
        exec('rm -rf ' . escapeshellarg($this->dir));
    }

    /**
     * A new PHP process that makes a client from $config and prints its token.
     *
     * @param array<string, string|null> $env
     */
    private static function childToken(string $config, array $env): string
    {
        $r = Proc::run([PHP_BINARY, __DIR__ . '/scripts/token.php'], ['BEARER_TEST_CONFIG' => $config] + $env);
        self::assertSame(0, $r['exit'], $r['err']);
        self::assertMatchesRegularExpression('/^eyJ\S+\n$/', $r['out'], 'the child printed no token');

        return $r['out'];
    }

    /** @param array<string, string|null> $env */
    private static function assertTwoProcessesShare(string $config, array $env): void
    {
        $before = LocalServer::stats()['auth0'];
        $first = self::childToken($config, $env);
        $second = self::childToken($config, $env);
        self::assertTrue($first === $second, 'the second process got a token of its own');
        self::assertSame(1, LocalServer::stats()['auth0'] - $before);
    }

    public function testTwoProcessesShareOneTokenThroughTheCacheFolder(): void
    {
        $folder = $this->dir . '/tokens';
        $config = LocalServer::auth0(LocalServer::unique()) + ['cache' => "file:$folder"];
        self::assertTwoProcessesShare(LocalServer::json($config), ['BEARER_CACHE' => null]);
        self::assertSame(0700, fileperms($folder) & 0777);
    }

    public function testBearerCacheTurnsSharingOnWithoutTouchingTheConfig(): void
    {
        $folder = $this->dir . '/tokens';
        $config = LocalServer::auth0(LocalServer::unique());
        self::assertArrayNotHasKey('cache', $config);
        self::assertTwoProcessesShare(LocalServer::json($config), ['BEARER_CACHE' => "file:$folder"]);
        self::assertNotEmpty(array_diff((array) scandir($folder), ['.', '..']));
    }
}
