<?php

declare(strict_types=1);

namespace Bearer\Tests;

use PHPUnit\Framework\TestCase;

/**
 * The php-fpm setup: ffi.enable=preload and opcache.preload=preload.php,
 * with the scope "BEARER" loaded by ffi.preload (the header from
 * bin/bearer-ffi-header; needed when started as root) or by preload.php's
 * FFI::load (when not root). The CLI allows FFI anyway, so the library path
 * is made useless at request time (BEARER_LIBRARY=/missing): only the
 * preloaded scope can then reach the library. php-cgi, when installed, is
 * a non-CLI SAPI where ffi.enable=preload really refuses FFI to
 * non-preloaded code, as under php-fpm.
 */
final class PreloadTest extends TestCase
{
    private static ?string $header = null;

    private static function isRoot(): bool
    {
        return function_exists('posix_geteuid') ? posix_geteuid() === 0 : trim((string) shell_exec('id -u')) === '0';
    }

    /** The ffi.preload header, written by bin/bearer-ffi-header into build/. */
    private static function ffiHeader(): string
    {
        if (self::$header === null) {
            $r = Proc::run([PHP_BINARY, dirname(__DIR__) . '/bin/bearer-ffi-header'], ['BEARER_LIBRARY' => null]);
            self::assertSame(0, $r['exit'], $r['err']);
            self::assertStringStartsWith("#define FFI_SCOPE \"BEARER\"\n#define FFI_LIB \"/", $r['out']);
            @mkdir(dirname(__DIR__) . '/build');
            self::$header = dirname(__DIR__) . '/build/bearer-ffi.h';
            file_put_contents(self::$header, $r['out']);
        }

        return self::$header;
    }

    /** @return list<string> */
    private static function ini(bool $ffiPreload): array
    {
        $ini = ['-d', 'opcache.enable=1', '-d', 'opcache.enable_cli=1', '-d', 'opcache.preload=' . dirname(__DIR__) . '/preload.php', '-d', 'ffi.enable=preload'];
        if (self::isRoot()) {
            $ini = array_merge($ini, ['-d', 'opcache.preload_user=root']);
        }
        if ($ffiPreload) {
            $ini = array_merge($ini, ['-d', 'ffi.preload=' . self::ffiHeader()]);
        }

        return $ini;
    }

    /**
     * @param list<string> $command
     * @param array<string, string|null> $env
     * @return array<string, mixed>
     */
    private static function report(array $command, array $env = []): array
    {
        $config = LocalServer::json(LocalServer::cobuilder(LocalServer::unique()));
        $r = Proc::run($command, $env + ['BEARER_TEST_CONFIG' => $config]);
        self::assertSame(0, $r['exit'], $r['out'] . $r['err']);
        $line = trim((string) strrchr("\n" . trim($r['out']), "\n"));
        $report = json_decode($line, true, 8, JSON_THROW_ON_ERROR);
        self::assertArrayNotHasKey('error', $report, $r['out'] . $r['err']);

        return $report;
    }

    /** @param array<string, mixed> $report */
    private static function assertScopeUsed(array $report): void
    {
        self::assertTrue($report['preloaded'], 'classes preloaded');
        self::assertSame('scope', $report['mode']);
        self::assertNull($report['library']);
        self::assertMatchesRegularExpression('/^\S{20,}$/', $report['token']);
        self::assertStringStartsWith('Bearer ', $report['header']);
    }

    public function testCliWithFfiPreloadHeader(): void
    {
        $script = __DIR__ . '/scripts/preloaded.php';
        $report = self::report(array_merge([PHP_BINARY], self::ini(true), [$script]), ['BEARER_LIBRARY' => '/missing/libbearer.so']);
        self::assertScopeUsed($report);
    }

    public function testCliWithFfiLoadInPreloadScript(): void
    {
        $command = array_merge([PHP_BINARY], self::ini(false), [__DIR__ . '/scripts/preloaded.php']);
        if (self::isRoot()) {
            // As root, preloading forks to opcache.preload_user and FFI::load() is refused; run as nobody.
            $runuser = trim((string) shell_exec('command -v runuser'));
            if ($runuser === '') {
                self::markTestSkipped('root without runuser: the FFI::load() path needs a non-root user');
            }
            $command = array_merge([$runuser, '-u', 'nobody', '--', PHP_BINARY], array_slice(self::ini(false), 0, -2), [__DIR__ . '/scripts/preloaded.php']);
        }
        self::assertScopeUsed(self::report($command));
    }

    private static function phpCgi(): string
    {
        $cgi = trim((string) shell_exec('command -v php-cgi'));
        if ($cgi === '') {
            self::markTestSkipped('php-cgi is not installed (Debian package php8.2-cgi)');
        }

        return $cgi;
    }

    public function testNonCliSapiRefusesFfiExceptThroughThePreloadedBinding(): void
    {
        $cgi = self::phpCgi();
        $report = self::report(array_merge([$cgi, '-q'], self::ini(true), [__DIR__ . '/scripts/preloaded.php']), ['BEARER_LIBRARY' => '/missing/libbearer.so']);
        self::assertStringContainsString('FFI API is restricted by "ffi.enable"', $report['script_ffi']);
        self::assertScopeUsed($report);
    }

    public function testNonCliSapiWithoutPreloadFailsClearly(): void
    {
        $cgi = self::phpCgi();
        $r = Proc::run([$cgi, '-q', '-d', 'ffi.enable=preload', '-d', 'auto_prepend_file=' . dirname(__DIR__) . '/autoload.php', __DIR__ . '/scripts/preloaded.php'], ['BEARER_TEST_CONFIG' => '{}']);
        $report = json_decode(trim($r['out']), true, 8, JSON_THROW_ON_ERROR);
        self::assertStringContainsString('Bearer\BearerException: cannot load ', $report['error']);
        self::assertStringContainsString('preload.php', $report['error']);
    }
}
