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

    /** @var resource|null the test's own redis-server, if it started one */
    private $redis = null;

    protected function setUp(): void
    {
        $this->dir = sys_get_temp_dir() . '/bearer-cache-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($this->dir, 0700);
    }

    protected function tearDown(): void
    {
        $this->stopRedis();
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

    /**
     * Starts a real redis-server of the test's own on a free loopback port
     * (stopped by its PID in tearDown, passed or failed) and returns its URL.
     */
    private function startRedis(): string
    {
        $probe = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        self::assertNotFalse($probe, $errstr);
        $name = (string) stream_socket_get_name($probe, false);
        fclose($probe);
        $port = (int) substr($name, strrpos($name, ':') + 1);
        $command = ['/usr/bin/redis-server', '--port', (string) $port, '--bind', '127.0.0.1',
            '--save', '', '--appendonly', 'no'];
        $null = ['file', '/dev/null', 'w'];
        $proc = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => $null, 2 => $null], $pipes);
        self::assertIsResource($proc, 'redis-server starts');
        $this->redis = $proc;
        $deadline = microtime(true) + 10;
        while (microtime(true) < $deadline) {
            $sock = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 1);
            if ($sock !== false) {
                stream_set_timeout($sock, 2);
                fwrite($sock, "PING\r\n");
                $reply = fgets($sock);
                fclose($sock);
                if (is_string($reply) && str_starts_with($reply, '+PONG')) {
                    return "redis://127.0.0.1:$port/0";
                }
            }
            self::assertTrue(proc_get_status($proc)['running'], 'redis-server exited early');
            usleep(50_000);
        }
        self::fail('redis-server did not answer PING within 10 s');
    }

    private function stopRedis(): void
    {
        if ($this->redis === null) {
            return;
        }
        $pid = proc_get_status($this->redis)['pid'];
        if (function_exists('posix_kill')) {
            posix_kill($pid, 15);
        } else {
            proc_terminate($this->redis, 15);
        }
        proc_close($this->redis);
        $this->redis = null;
    }

    public function testTwoProcessesShareOneTokenThroughRedis(): void
    {
        $url = $this->startRedis();
        $config = LocalServer::json(LocalServer::auth0(LocalServer::unique()) + ['cache' => $url]);
        // Each child a host of its own: no shared files, only Redis.
        mkdir($hostA = $this->dir . '/host-a', 0700);
        mkdir($hostB = $this->dir . '/host-b', 0700);
        $before = LocalServer::stats()['auth0'];
        $first = self::childToken($config, ['BEARER_CACHE' => null, 'XDG_CACHE_HOME' => $hostA]);
        $second = self::childToken($config, ['BEARER_CACHE' => null, 'XDG_CACHE_HOME' => $hostB]);
        self::assertTrue($first === $second, 'the second process got a token of its own');
        self::assertSame(1, LocalServer::stats()['auth0'] - $before);
    }
}
