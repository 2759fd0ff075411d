<?php

declare(strict_types=1);

namespace Bearer\Tests;

use PHPUnit\Framework\TestCase;

/** Runs the README's example as written, in a folder laid out as a Composer project. */
final class ReadmeTest extends TestCase
{
    private static function example(): string
    {
        $readme = (string) file_get_contents(dirname(__DIR__) . '/README.md');
        self::assertSame(1, preg_match('/```php\n(.*?)```/s', $readme, $m));

        return $m[1];
    }

    /** @return list<string> every ```php block */
    private static function blocks(): array
    {
        preg_match_all('/```php\n(.*?)```/s', (string) file_get_contents(dirname(__DIR__) . '/README.md'), $m);

        return $m[1];
    }

    /** @param array<string, string> $credentials */
    private static function runExample(array $credentials): string
    {
        $dir = sys_get_temp_dir() . '/bearer-readme-' . getmypid() . '-' . bin2hex(random_bytes(3));
        mkdir("$dir/vendor", 0700, true);
        try {
            file_put_contents("$dir/vendor/autoload.php", "<?php\nrequire " . var_export(dirname(__DIR__) . '/autoload.php', true) . ";\n");
            file_put_contents("$dir/example.php", self::example());
            file_put_contents("$dir/credentials.json", LocalServer::json($credentials));
            $r = Proc::run([PHP_BINARY, 'example.php'], [], $dir);
            self::assertSame(0, $r['exit'], $r['err']);
            self::assertSame('', $r['err']);

            return $r['out'];
        } finally {
            exec('rm -rf ' . escapeshellarg($dir));
        }
    }

    public function testExamplePrintsTheHeader(): void
    {
        self::assertMatchesRegularExpression('/^Bearer \S{20,}\n$/', self::runExample(LocalServer::cobuilder(LocalServer::unique())));
        self::assertMatchesRegularExpression('/^Bearer \S{20,}\n$/', self::runExample(LocalServer::auth0(LocalServer::unique())));
    }

    public function testExamplePrintsTheProblem(): void
    {
        $out = self::runExample(['clientSecret' => 'wrong'] + LocalServer::cobuilder(LocalServer::unique()));
        self::assertMatchesRegularExpression('/^[^:\n]+: .+\n$/', $out);
        self::assertStringNotContainsString('wrong', $out);
    }

    public function testEveryPhpBlockParses(): void
    {
        $blocks = self::blocks();
        self::assertGreaterThanOrEqual(5, count($blocks));
        $file = tempnam(sys_get_temp_dir(), 'bearer-readme-');
        try {
            foreach ($blocks as $code) {
                file_put_contents($file, str_starts_with($code, '<?php') ? $code : "<?php\n" . $code);
                $r = Proc::run([PHP_BINARY, '-l', $file]);
                self::assertSame(0, $r['exit'], $r['out'] . $r['err'] . $code);
            }
        } finally {
            @unlink($file);
        }
    }

    /** The Guzzle and PSR-18 blocks as written, with the local server's /api/ for api.example.com. */
    public function testHttpClientExamplesSendTheToken(): void
    {
        $blocks = array_values(array_filter(self::blocks(), static fn (string $b): bool => str_contains($b, 'https://api.example.com/')));
        self::assertCount(2, $blocks);
        foreach ($blocks as $code) {
            $dir = sys_get_temp_dir() . '/bearer-readme-' . getmypid() . '-' . bin2hex(random_bytes(3));
            mkdir("$dir/vendor", 0700, true);
            try {
                file_put_contents("$dir/vendor/autoload.php", "<?php\nrequire '/usr/share/php/GuzzleHttp/autoload.php';\nrequire " . var_export(dirname(__DIR__) . '/autoload.php', true) . ";\n");
                file_put_contents("$dir/example.php", str_replace('https://api.example.com/', LocalServer::url() . '/api/', $code));
                file_put_contents("$dir/credentials.json", LocalServer::json(LocalServer::auth0(LocalServer::unique())));
                $r = Proc::run([PHP_BINARY, 'example.php'], [], $dir);
                self::assertSame(0, $r['exit'], $r['err']);
                self::assertSame('', $r['err']);
                $seen = json_decode($r['out'], true, 8, JSON_THROW_ON_ERROR);
                self::assertSame(['sub' => 'demo-client@clients', 'path' => '/api/items'], array_intersect_key($seen, ['sub' => 1, 'path' => 1]));
            } finally {
                exec('rm -rf ' . escapeshellarg($dir));
            }
        }
    }

    /** The private_key_jwt block, with the test key and the local server for the placeholders. */
    public function testPrivateKeyJwtExampleSignsIn(): void
    {
        $code = array_values(array_filter(self::blocks(), static fn (string $b): bool => str_contains($b, "'private_key_jwt'")));
        self::assertCount(1, $code);
        $code = str_replace(
            ["'my-client'", '/etc/app/client.key', 'https://tenant.example.com/oauth/token'],
            ["'jwt-client'", LocalServer::checkout() . '/tests/keys/rsa.key', LocalServer::url() . '/oauth/token'],
            $code[0],
        );
        $file = tempnam(sys_get_temp_dir(), 'bearer-readme-');
        try {
            file_put_contents($file, "<?php\nrequire " . var_export(dirname(__DIR__) . '/autoload.php', true) . ";\n" . $code);
            $r = Proc::run([PHP_BINARY, $file]);
        } finally {
            @unlink($file);
        }
        self::assertSame(0, $r['exit'], $r['err']);
        self::assertSame('', $r['err']);
        self::assertMatchesRegularExpression('/^Bearer \S{20,}\n$/', $r['out']);
    }

    /** The device login block as written; this test is the user while the example polls. */
    public function testDeviceExampleSignsIn(): void
    {
        $code = array_values(array_filter(self::blocks(), static fn (string $b): bool => str_contains($b, 'DeviceLogin::start')));
        self::assertCount(1, $code);
        $dir = sys_get_temp_dir() . '/bearer-readme-' . getmypid() . '-' . bin2hex(random_bytes(3));
        mkdir("$dir/vendor", 0700, true);
        try {
            file_put_contents("$dir/vendor/autoload.php", "<?php\nrequire " . var_export(dirname(__DIR__) . '/autoload.php', true) . ";\n");
            file_put_contents("$dir/example.php", $code[0]);
            file_put_contents("$dir/device.json", LocalServer::json([
                'client_id' => 'native-client',
                'grant_type' => 'device_code',
                'device_authorization_url' => LocalServer::url() . '/oauth/device/code?interval=0',
                'token_url' => LocalServer::url() . '/oauth/token',
                'audience' => 'https://beeapp.open-cosmos.com',
                'scope' => 'openid offline_access',
            ]));
            $proc = Proc::start([PHP_BINARY, 'example.php'], [], $dir, $pipes);
            try {
                $first = (string) fgets($pipes[1]);
                if (preg_match('/^Open (\S+) and enter (\S+)\n$/', $first, $m) !== 1) {
                    proc_terminate($proc);
                    self::fail('no code from the example: ' . $first . stream_get_contents($pipes[2]));
                }
                self::assertSame(LocalServer::url() . '/activate', $m[1]);
                $context = stream_context_create(['http' => ['method' => 'POST', 'ignore_errors' => true]]);
                $body = file_get_contents(LocalServer::url() . '/_device?' . http_build_query(['user_code' => $m[2], 'action' => 'approve']), false, $context);
                self::assertNotFalse($body);
            } catch (\Throwable $e) {
                proc_terminate($proc);
                throw $e;
            } finally {
                $r = Proc::finish($proc, $pipes);
            }
            self::assertSame(0, $r['exit'], $r['err']);
            self::assertSame('', $r['err']);
            self::assertMatchesRegularExpression('/^\S{16,}\n$/', $r['out'], 'the refresh token');
        } finally {
            exec('rm -rf ' . escapeshellarg($dir));
        }
    }

    /** The loopback login block as written; this test is the browser while the example waits. */
    public function testLoopbackExampleSignsIn(): void
    {
        $code = array_values(array_filter(self::blocks(), static fn (string $b): bool => str_contains($b, 'LoopbackLogin::start')));
        self::assertCount(1, $code);
        $dir = sys_get_temp_dir() . '/bearer-readme-' . getmypid() . '-' . bin2hex(random_bytes(3));
        mkdir("$dir/vendor", 0700, true);
        try {
            file_put_contents("$dir/vendor/autoload.php", "<?php\nrequire " . var_export(dirname(__DIR__) . '/autoload.php', true) . ";\n");
            file_put_contents("$dir/example.php", $code[0]);
            file_put_contents("$dir/native_app.json", LocalServer::json([
                'client_id' => 'native-client',
                'grant_type' => 'authorization_code',
                'audience' => 'https://beeapp.open-cosmos.com',
                'scope' => 'openid offline_access',
                'authorize_url' => LocalServer::url() . '/authorize',
                'token_url' => LocalServer::url() . '/oauth/token',
            ]));
            $proc = Proc::start([PHP_BINARY, 'example.php'], [], $dir, $pipes);
            try {
                $first = (string) fgets($pipes[1]);
                if (preg_match('/^Open (\S+)\n$/', $first, $m) !== 1) {
                    proc_terminate($proc);
                    self::fail('no URL from the example: ' . $first . stream_get_contents($pipes[2]));
                }
                $page = Browser::get(Browser::redirect($m[1]));
            } catch (\Throwable $e) {
                proc_terminate($proc);
                throw $e;
            } finally {
                $r = Proc::finish($proc, $pipes);
            }
            self::assertSame(200, $page['status']);
            self::assertSame(0, $r['exit'], $r['err']);
            self::assertSame('', $r['err']);
            self::assertMatchesRegularExpression('/^\S{16,}\n$/', $r['out'], 'the refresh token');
        } finally {
            exec('rm -rf ' . escapeshellarg($dir));
        }
    }
}
