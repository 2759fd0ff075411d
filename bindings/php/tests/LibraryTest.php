<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\BearerException;
use Bearer\Internal\Library;
use PHPUnit\Framework\TestCase;

/** The library is loaded once per process, so each case runs in a child. */
final class LibraryTest extends TestCase
{
    private static function child(array $env, string $script = __DIR__ . '/scripts/library.php'): array
    {
        return Proc::run([PHP_BINARY, $script], $env);
    }

    public function testMissingBearerLibraryIsNamed(): void
    {
        $missing = sys_get_temp_dir() . '/no-such-dir-' . getmypid() . '/libbearer.so';
        $r = self::child(['BEARER_LIBRARY' => $missing]);
        self::assertSame(3, $r['exit'], $r['out'] . $r['err']);
        self::assertStringContainsString('Bearer\BearerException: libbearer not found; tried: ' . $missing, $r['err']);
        self::assertStringContainsString('BEARER_LIBRARY', $r['err']);
    }

    public function testBearerLibraryIsUsed(): void
    {
        $dir = sys_get_temp_dir() . '/bearer-lib-' . getmypid();
        @mkdir($dir);
        $lib = $dir . '/' . Library::fileName();
        copy(LocalServer::checkout() . '/target/release/libbearer.so', $lib);
        try {
            $r = self::child(['BEARER_LIBRARY' => $lib]);
            self::assertSame(0, $r['exit'], $r['err']);
            $info = json_decode($r['out'], true, 8, JSON_THROW_ON_ERROR);
            self::assertSame($lib, $info['library']);
            self::assertSame('cdef', $info['mode']);
        } finally {
            @unlink($lib);
            @rmdir($dir);
        }
    }

    public function testDefaultOrderIsPackageThenReleaseThenDebug(): void
    {
        $r = self::child(['BEARER_LIBRARY' => null]);
        self::assertSame(0, $r['exit'], $r['err']);
        $info = json_decode($r['out'], true, 8, JSON_THROW_ON_ERROR);
        $package = dirname(__DIR__);
        $checkout = LocalServer::checkout();
        self::assertSame([
            $package . '/lib/libbearer.so',
            $checkout . '/target/release/libbearer.so',
            $checkout . '/target/debug/libbearer.so',
        ], $info['candidates']);
        $expected = is_file($package . '/lib/libbearer.so') ? $package . '/lib/libbearer.so' : $checkout . '/target/release/libbearer.so';
        self::assertSame($expected, $info['library']);
    }

    public function testPackagedCopyComesBeforeTheCheckout(): void
    {
        // A copy of the package (as Composer installs it) with lib/ inside.
        $dir = sys_get_temp_dir() . '/bearer-pkg-' . getmypid() . '-' . bin2hex(random_bytes(3));
        $src = dirname(__DIR__);
        foreach (['src', 'src/Internal', 'lib', 'tests', 'tests/scripts'] as $sub) {
            mkdir("$dir/$sub", 0700, true);
        }
        foreach (array_merge(['autoload.php', 'bearer.h', 'tests/scripts/library.php'], array_map(static fn ($f) => substr($f, strlen($src) + 1), glob("$src/src/{,Internal/}*.php", GLOB_BRACE) ?: [])) as $file) {
            copy("$src/$file", "$dir/$file");
        }
        copy(LocalServer::checkout() . '/target/release/libbearer.so', "$dir/lib/libbearer.so");
        try {
            $r = self::child(['BEARER_LIBRARY' => null], "$dir/tests/scripts/library.php");
            self::assertSame(0, $r['exit'], $r['err']);
            $info = json_decode($r['out'], true, 8, JSON_THROW_ON_ERROR);
            self::assertSame("$dir/lib/libbearer.so", $info['library']);
        } finally {
            exec('rm -rf ' . escapeshellarg($dir));
        }
    }

    public function testNoCandidateNamesEveryPathTried(): void
    {
        $tried = ['/nonexistent/a/libbearer.so', '/nonexistent/b/libbearer.so', '/nonexistent/c/libbearer.so'];
        try {
            Library::locate($tried);
            self::fail('no exception');
        } catch (BearerException $e) {
            self::assertSame('libbearer not found; tried: ' . implode(', ', $tried) . " (set BEARER_LIBRARY to the library's path)", $e->getMessage());
        }
    }
}
