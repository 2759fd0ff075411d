<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\Bearer;
use Bearer\BearerException;
use Bearer\Client;
use Bearer\ProblemException;
use Bearer\Status;
use PHPUnit\Framework\TestCase;

final class ErrorTest extends TestCase
{
    /** The secret of the wrong-secret, echo and throttling tests; the whole test log is searched for it. */
    private const CANARY = 'canary-SECRET-7f3a9c2e1b';

    /** @param array<string, mixed>|string $config */
    private static function problem(array|string $config, bool $viaClient = false): ProblemException
    {
        try {
            if ($viaClient) {
                (new Client($config))->token();
            } else {
                Bearer::fetchToken($config);
            }
        } catch (ProblemException $e) {
            return $e;
        }
        self::fail('no ProblemException');
    }

    private static function assertProblem(ProblemException $e, string $type, int $status, int $code, string $secret = ''): void
    {
        self::assertInstanceOf(BearerException::class, $e);
        self::assertInstanceOf(\RuntimeException::class, $e);
        self::assertSame($type, $e->getType());
        self::assertSame($status, $e->getStatus());
        self::assertSame($code, $e->getCode());
        self::assertSame($code, $e->getBearerStatus());
        self::assertSame($e->getTitle() . ': ' . $e->getDetail(), $e->getMessage());
        self::assertNotSame('', $e->getTitle());
        self::assertSame($e->getProblem()['extensions'], $e->getExtensions());
        if ($secret !== '') {
            self::assertSecretAbsent($secret, $e->getMessage(), (string) $e, print_r($e, true), var_export($e->getProblem(), true), json_encode($e->getTrace()));
        }
    }

    /** Not assertStringNotContainsString: its failure message would print the secret. */
    private static function assertSecretAbsent(string $secret, string|false ...$texts): void
    {
        foreach ($texts as $i => $text) {
            self::assertFalse(str_contains((string) $text, $secret), "rendering $i contains the secret");
        }
    }

    public function testUnauthorized(): void
    {
        $secret = self::CANARY;
        foreach ([false, true] as $viaClient) {
            $e = self::problem(['client_secret' => $secret] + LocalServer::auth0(LocalServer::unique()), $viaClient);
            self::assertProblem($e, 'urn:bearer:problem:unauthorized', 401, Status::REJECTED, $secret);
            self::assertSame(401, $e->getExtensions()['upstream_status']);
            self::assertStringEndsWith('/oauth/token', $e->getInstance());
        }
    }

    public function testSecretStaysOutOfTracesEvenWithArgumentsRecorded(): void
    {
        $secret = self::CANARY;
        $script = __DIR__ . '/scripts/trace_args.php';
        $config = LocalServer::json(['client_secret' => $secret] + LocalServer::auth0(LocalServer::unique()));
        $r = Proc::run([PHP_BINARY, '-d', 'zend.exception_ignore_args=0', '-d', 'zend.exception_string_param_max_len=1000000', $script, $config]);
        self::assertSame(0, $r['exit'], $r['out'] . $r['err']);
        self::assertStringContainsString('Client authentication failed', $r['out']);
        self::assertStringContainsString('SensitiveParameterValue', $r['out']);
        self::assertSecretAbsent($secret, $r['out'] . $r['err']);
    }

    public function testForbidden(): void
    {
        $e = self::problem(['audience' => 'https://other'] + LocalServer::auth0(LocalServer::unique()));
        self::assertProblem($e, 'urn:bearer:problem:forbidden', 403, Status::REJECTED, 'demo-secret');
    }

    public function testCobuilderProblemIsPassedThrough(): void
    {
        $e = self::problem(['audienceUrl' => 'https://nope'] + LocalServer::cobuilder(LocalServer::unique()), true);
        self::assertProblem($e, 'https://tools.ietf.org/html/rfc9110#section-15.5.1', 400, Status::REJECTED, 'cobuilder-secret');
        self::assertSame('Invalid audience', $e->getTitle());
    }

    /**
     * retries 0: waiting out Retry-After (7 s) three times would test nothing more.
     *
     * @return array<string, mixed>
     */
    private static function rateLimited(): array
    {
        return ['client_secret' => self::CANARY, 'retries' => 0] + LocalServer::auth0(LocalServer::unique('fault=rate_limit'));
    }

    public function testRateLimited(): void
    {
        $e = self::problem(self::rateLimited());
        self::assertProblem($e, 'urn:bearer:problem:rate-limited', 429, Status::RATE_LIMITED, self::CANARY);
        self::assertSame(7, $e->getExtensions()['retry_after']);
    }

    public function testA429OpensAThrottlingWindow(): void
    {
        $client = new Client(self::rateLimited());
        $before = LocalServer::stats()['auth0'];
        $seen = [];
        $took = 0.0;
        foreach ([1, 2] as $call) {
            $started = microtime(true);
            try {
                $client->token();
                self::fail("call $call got a token");
            } catch (ProblemException $e) {
                $took = microtime(true) - $started;
                self::assertProblem($e, 'urn:bearer:problem:rate-limited', 429, Status::RATE_LIMITED, self::CANARY);
                $seen[] = $e;
            }
        }
        self::assertLessThan(0.5, $took, 'the throttled call waited');
        $retryAfter = $seen[1]->getExtensions()['retry_after'];
        self::assertGreaterThanOrEqual(1, $retryAfter);
        self::assertLessThanOrEqual(7, $retryAfter);
        self::assertSame(1, LocalServer::stats()['auth0'] - $before, 'the throttled call reached the server');
    }

    public function testEchoedRequestDoesNotLeakTheSecret(): void
    {
        foreach ([false, true] as $viaClient) {
            $e = self::problem(['client_secret' => self::CANARY] + LocalServer::auth0(LocalServer::unique('fault=echo')), $viaClient);
            self::assertProblem($e, $e->getType(), $e->getStatus(), $e->getCode(), self::CANARY);
        }
    }

    public function testServerError(): void
    {
        $e = self::problem(LocalServer::auth0(LocalServer::unique('fault=server_error')));
        self::assertProblem($e, 'urn:bearer:problem:upstream-error', 502, Status::UNAVAILABLE, 'demo-secret');
    }

    public function testMissingKey(): void
    {
        $config = LocalServer::auth0();
        unset($config['client_secret']);
        foreach ([false, true] as $viaClient) {
            $e = self::problem($config, $viaClient);
            self::assertProblem($e, 'urn:bearer:problem:invalid-config', 400, Status::INVALID_CONFIG);
            self::assertSame('client_secret', $e->getExtensions()['key']);
            self::assertSame('#/client_secret', $e->getInstance());
        }
    }

    public function testBadUrls(): void
    {
        $before = LocalServer::stats();
        $e = self::problem(['token_url' => 'ftp://x/oauth/token'] + LocalServer::auth0());
        self::assertProblem($e, 'urn:bearer:problem:invalid-config', 400, Status::INVALID_CONFIG, 'demo-secret');
        $e = self::problem(['token_url' => 'http://example.com/oauth/token'] + LocalServer::auth0(), true);
        self::assertProblem($e, 'urn:bearer:problem:insecure-url', 400, Status::INVALID_CONFIG, 'demo-secret');
        $after = LocalServer::stats();
        foreach (['auth0', 'cobuilder', 'discovery'] as $key) {
            self::assertSame($before[$key], $after[$key], "no $key request");
        }
    }

    public function testClientConstructorRejectsABadConfigAtOnce(): void
    {
        try {
            new Client('{"client_id":"x"}');
            self::fail('no exception');
        } catch (ProblemException $e) {
            self::assertProblem($e, 'urn:bearer:problem:invalid-config', 400, Status::INVALID_CONFIG);
        }
    }

    /** @return array<string, array{string}> */
    public static function malformed(): array
    {
        return ['empty' => [''], 'truncated' => ['{'], 'not an object' => ['[1,2]'], 'not JSON' => ['client_id=x'], 'empty array' => ['[]']];
    }

    /** @dataProvider malformed */
    public function testMalformedConfig(string $config): void
    {
        self::assertProblem(self::problem($config), 'urn:bearer:problem:invalid-config', 400, Status::INVALID_CONFIG);
        self::assertProblem(self::problem($config, true), 'urn:bearer:problem:invalid-config', 400, Status::INVALID_CONFIG);
    }

    public function testInvalidUtf8IsAnInvalidArgument(): void
    {
        $config = "{\"client_id\":\"demo\xff\xfe\"}";
        self::assertProblem(self::problem($config), 'urn:bearer:problem:invalid-argument', 400, Status::INVALID_ARGUMENT);
        self::assertProblem(self::problem($config, true), 'urn:bearer:problem:invalid-argument', 400, Status::INVALID_ARGUMENT);
    }

    public function testNullIsATypeError(): void
    {
        $this->expectException(\TypeError::class);
        Bearer::fetchToken(null); // @phpstan-ignore-line
    }

    public function testNullIsATypeErrorForClients(): void
    {
        $this->expectException(\TypeError::class);
        new Client(null); // @phpstan-ignore-line
    }

    public function testNulByteIsAValueError(): void
    {
        // C would stop reading at the NUL and see another configuration.
        $this->expectException(\ValueError::class);
        Bearer::fetchToken(LocalServer::json(LocalServer::auth0()) . "\0garbage");
    }

    public function testUnencodableArrayIsAValueError(): void
    {
        $this->expectException(\ValueError::class);
        new Client(['client_id' => "demo\xff"] + LocalServer::auth0());
    }

    public function testClosedClient(): void
    {
        $client = new Client(LocalServer::auth0(LocalServer::unique()));
        self::assertFalse($client->isClosed());
        $client->token();
        $client->close();
        $client->close();
        self::assertTrue($client->isClosed());
        foreach (['token', 'getAuthorizationHeader', 'tokenResponse', 'getAccessToken', 'takeRefreshProblem'] as $method) {
            try {
                $client->$method();
                self::fail("$method worked on a closed client");
            } catch (BearerException $e) {
                self::assertNotInstanceOf(ProblemException::class, $e);
                self::assertSame('this Bearer\Client is closed', $e->getMessage());
            }
        }
        unset($client); // the destructor after close() is harmless too
        $this->addToAssertionCount(1);
    }

    public function testClientCannotBeCloned(): void
    {
        $client = new Client(LocalServer::auth0());
        $this->expectException(\Error::class);
        $copy = clone $client; // @phpstan-ignore-line
    }

    public function testInternalProblemFromAPanic(): void
    {
        $r = Proc::run([PHP_BINARY, __DIR__ . '/scripts/panic.php']);
        self::assertSame(0, $r['exit'], $r['err']);
        ['status' => $status, 'problem' => $json] = json_decode($r['out'], true, 8, JSON_THROW_ON_ERROR);
        // One line on stderr says a bug was caught; the panic's own message stays inside.
        self::assertStringContainsString('bearer: a bug was caught', $r['err']);
        self::assertStringNotContainsString('bearer_test_panic was called', $r['err']);
        $e = ProblemException::fromJson($json, $status);
        self::assertProblem($e, 'urn:bearer:problem:internal', 500, Status::INTERNAL);
    }

    public function testUnreadableProblemStillFails(): void
    {
        $e = ProblemException::fromJson(null, Status::TIMEOUT);
        self::assertSame(Status::TIMEOUT, $e->getCode());
        self::assertSame(500, $e->getStatus());
    }
}
