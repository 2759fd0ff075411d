<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\Internal\Native;
use Bearer\Status;
use PHPUnit\Framework\TestCase;

/** The binding's declarations must match include/bearer.h exactly. */
final class DriftTest extends TestCase
{
    private static function cHeader(): string
    {
        return (string) file_get_contents(dirname(__DIR__) . '/../../include/bearer.h');
    }

    /**
     * name => "return(param, param)" with whitespace normalised.
     *
     * @return array<string, string>
     */
    private static function functions(string $header): array
    {
        $text = bearer_flatten_header($header);
        preg_match_all('/([A-Za-z_][\w\s\*]*?)\b(bearer_\w+)\s*\(([^)]*)\)\s*;/', $text, $m, PREG_SET_ORDER);
        $out = [];
        foreach ($m as [, $ret, $name, $params]) {
            $norm = static fn (string $s): string => trim((string) preg_replace(['/\s+/', '/\s*(\*+)\s*/', '/\s*,\s*/'], [' ', ' $1', ', '], $s));
            $out[$name] = $norm($ret) . '(' . $norm($params) . ')';
        }
        ksort($out);

        return $out;
    }

    /** @return array<string, int> */
    private static function statuses(string $header): array
    {
        preg_match_all('/\bBEARER_STATUS_(\w+)\s*=\s*(\d+)/', $header, $m, PREG_SET_ORDER);
        $out = [];
        foreach ($m as [, $name, $value]) {
            $out[$name] = (int) $value;
        }

        return $out;
    }

    public function testCommittedHeaderIsTheFlattenedCHeader(): void
    {
        self::assertSame(
            bearer_flatten_header(self::cHeader()),
            file_get_contents(Native::headerFile()),
            'bearer.h is stale: php tools/flatten-header.php ../../include/bearer.h > bearer.h',
        );
    }

    public function testFunctionsAndParametersMatch(): void
    {
        $c = self::functions(self::cHeader());
        self::assertCount(23, $c);
        self::assertSame('bearer_status(const bearer_client *client, const char *token, bool *dropped_out, char **problem_out)', $c['bearer_client_token_refused']);
        self::assertSame('bearer_status(const char *config_json, const char *token, bool *dropped_out, char **problem_out)', $c['bearer_token_refused']);
        self::assertSame('bearer_status(const char *config_json, bearer_client **client_out, char **problem_out)', $c['bearer_client_new']);
        self::assertSame('bearer_status(const char *config_json, char **request_out, char **problem_out)', $c['bearer_authorize_start']);
        self::assertSame('bearer_status(const char *config_json, const char *request_json, const char *redirect_url, char **json_out, char **problem_out)', $c['bearer_authorize_complete']);
        self::assertSame('bearer_status(const char *config_json, bearer_login **login_out, char **url_out, char **problem_out)', $c['bearer_login_start']);
        self::assertSame('bearer_status(const bearer_login *login, unsigned int timeout_ms, char **json_out, char **problem_out)', $c['bearer_login_wait']);
        self::assertSame('void(bearer_login *login)', $c['bearer_login_free']);
        self::assertSame('bearer_status(const char *config_json, bearer_device **device_out, char **json_out, char **problem_out)', $c['bearer_device_start']);
        self::assertSame('bearer_status(const bearer_device *device, char **token_json_out, char **problem_out)', $c['bearer_device_poll']);
        self::assertSame('void(const bearer_device *device)', $c['bearer_device_cancel']);
        self::assertSame('void(bearer_device *device)', $c['bearer_device_free']);
        self::assertSame('bearer_status(const bearer_client *client, bearer_status *refresh_status_out, char **refresh_problem_out, char **problem_out)', $c['bearer_client_take_refresh_problem']);
        self::assertSame($c, self::functions((string) file_get_contents(Native::headerFile())));
    }

    public function testEveryFunctionTheBindingCallsIsDeclared(): void
    {
        $declared = self::functions(self::cHeader());
        $used = [];
        foreach (glob(dirname(__DIR__) . '/src/{,*/}*.php', GLOB_BRACE) ?: [] as $file) {
            // Calls: $ffi->bearer_x(...) and Native::call('bearer_x', ...) / Native::refused('bearer_x', ...).
            preg_match_all("/->(bearer_[a-z_]+)\\(|Native::(?:call|refused)\\(\\s*'(bearer_[a-z_]+)'/", (string) file_get_contents($file), $m);
            $used = array_merge($used, array_filter($m[1]), array_filter($m[2]));
        }
        $used = array_unique($used);
        self::assertNotEmpty($used);
        foreach ($used as $name) {
            self::assertArrayHasKey($name, $declared, "$name is called but not in include/bearer.h");
        }
        // Every function but the test hook is used by the binding.
        self::assertSame(['bearer_test_panic'], array_values(array_diff(array_keys($declared), $used)));
    }

    public function testOpaqueTypesMatch(): void
    {
        $pattern = '/\btypedef\s+struct\s+(\w+)\s+(\w+)\s*;/';
        preg_match_all($pattern, self::cHeader(), $c, PREG_SET_ORDER);
        preg_match_all($pattern, (string) file_get_contents(Native::headerFile()), $php, PREG_SET_ORDER);
        self::assertSame([['typedef struct bearer_client bearer_client;', 'bearer_client', 'bearer_client'], ['typedef struct bearer_device bearer_device;', 'bearer_device', 'bearer_device'], ['typedef struct bearer_login bearer_login;', 'bearer_login', 'bearer_login']], $c);
        self::assertSame($c, $php);
        foreach ($c as [, $name]) {
            // Opaque: FFI knows a pointer to it, never its size.
            self::assertSame(PHP_INT_SIZE, \FFI::sizeof(Native::ffi()->new($name . '*')));
        }
    }

    public function testStatusNumbersMatch(): void
    {
        $c = self::statuses(self::cHeader());
        self::assertCount(10, $c);
        self::assertSame(9, $c['CANCELLED']);
        $php = (new \ReflectionClass(Status::class))->getConstants();
        self::assertSame($c, $php);
        $ffi = Native::ffi();
        foreach ($c as $name => $value) {
            self::assertSame($value, $ffi->{'BEARER_STATUS_' . $name}, $name);
        }
    }
}
