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
}
