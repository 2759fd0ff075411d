<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\BearerException;
use Bearer\DeviceLogin;
use Bearer\ProblemException;
use Bearer\Status;
use PHPUnit\Framework\TestCase;

/**
 * The device authorization grant (RFC 8628) against the local server. The
 * user's side (POST /_device?user_code=...&action=...) is a child PHP
 * process, since poll() blocks this one; the cancel from another thread is
 * a POSIX timer's thread (CancelTimer).
 */
final class DeviceLoginTest extends TestCase
{
    /** @return array<string, string> */
    private static function config(string $deviceQuery = 'interval=0'): array
    {
        $base = LocalServer::url();

        return [
            'client_id' => 'native-client',
            'grant_type' => 'device_code',
            'device_authorization_url' => "$base/oauth/device/code?$deviceQuery",
            'token_url' => "$base/oauth/token",
            'audience' => 'https://beeapp.open-cosmos.com',
            'scope' => 'openid offline_access',
        ];
    }

    /** The user's action on the server, now. */
    private static function act(string $userCode, string $action): void
    {
        $url = LocalServer::url() . '/_device?' . http_build_query(['user_code' => $userCode, 'action' => $action]);
        $context = stream_context_create(['http' => ['method' => 'POST', 'ignore_errors' => true]]);
        $body = file_get_contents($url, false, $context);
        self::assertNotFalse($body);
        self::assertMatchesRegularExpression('~^HTTP/1\.[01] 2\d\d~', $http_response_header[0] ?? '', (string) $body);
    }

    /**
     * The user's action from a child process, after $delay seconds: the
     * poll is under way by then.
     *
     * @return array{0: resource, 1: array<int, resource>}
     */
    private static function actLater(string $userCode, string $action, float $delay): array
    {
        $url = LocalServer::url() . '/_device?' . http_build_query(['user_code' => $userCode, 'action' => $action]);
        $code = sprintf(
            'usleep(%d); $b = file_get_contents(%s, false, stream_context_create(["http" => ["method" => "POST", "ignore_errors" => true]])); echo $http_response_header[0] ?? "no answer", "\n";',
            (int) ($delay * 1e6),
            var_export($url, true),
        );
        $proc = Proc::start([PHP_BINARY, '-r', $code], [], null, $pipes);

        return [$proc, $pipes];
    }

    /** @param array{0: resource, 1: array<int, resource>} $child */
    private static function assertActed(array $child): void
    {
        $r = Proc::finish($child[0], $child[1]);
        self::assertSame(0, $r['exit'], $r['err']);
        self::assertMatchesRegularExpression('~^HTTP/1\.[01] 2\d\d~', $r['out'], $r['err']);
    }

    private static function pollProblem(DeviceLogin $login): ProblemException
    {
        try {
            $login->poll();
        } catch (ProblemException $e) {
            return $e;
        }
        self::fail('no ProblemException');
    }

    public function testStartGivesTheUserCode(): void
    {
        $before = LocalServer::stats();
        $login = DeviceLogin::start(LocalServer::json(self::config()));
        self::assertMatchesRegularExpression('/^[A-Z]{4}-[A-Z]{4}$/', $login->userCode());
        self::assertSame(LocalServer::url() . '/activate', $login->verificationUri());
        self::assertSame(LocalServer::url() . '/activate?user_code=' . $login->userCode(), $login->verificationUriComplete());
        self::assertSame(900, $login->expiresIn());
        self::assertSame(0, $login->interval());
        self::assertSame(1, LocalServer::stats()['device'] - $before['device']);
        self::assertSame(0, LocalServer::stats()['device_polls'] - $before['device_polls'], 'no poll yet');
        self::assertStringNotContainsString('device_code', print_r($login, true));
        $login->close();
        $login->close();
        self::assertTrue($login->isClosed());
    }

    public function testApprovedFromAnotherProcessWhilePolling(): void
    {
        $login = DeviceLogin::start(self::config());
        $before = LocalServer::stats()['device_polls'];
        $child = self::actLater($login->userCode(), 'approve', 0.3);
        $started = microtime(true);
        try {
            $token = $login->poll();
        } finally {
            self::assertActed($child);
        }
        self::assertGreaterThan(0.25, microtime(true) - $started, 'the poll waited for the user');
        self::assertNotSame('', $token->getToken());
        self::assertNotSame('', (string) $token->getRefreshToken());
        self::assertSame('Bearer', $token->getTokenType());
        self::assertGreaterThanOrEqual(2, LocalServer::stats()['device_polls'] - $before, 'polled before and after the approval');
        $login->close();
    }

    public function testDeniedIsAuthorizationDenied(): void
    {
        $login = DeviceLogin::start(self::config());
        $child = self::actLater($login->userCode(), 'deny', 0.2);
        try {
            $e = self::pollProblem($login);
        } finally {
            self::assertActed($child);
        }
        self::assertSame('urn:bearer:problem:authorization-denied', $e->getType(), $e->getMessage());
        self::assertSame(Status::REJECTED, $e->getBearerStatus());
        $login->close();
    }

    public function testAnExpiredCodeIsDeviceCodeExpired(): void
    {
        $login = DeviceLogin::start(self::config('interval=0&expires_in=1'));
        self::assertSame(1, $login->expiresIn());
        $started = microtime(true);
        $e = self::pollProblem($login);
        self::assertLessThan(5.0, microtime(true) - $started);
        self::assertSame('urn:bearer:problem:device-code-expired', $e->getType(), $e->getMessage());
        self::assertSame(Status::REJECTED, $e->getBearerStatus());
        $login->close();
    }

    public function testCancelFromAnotherThreadEndsThePollAtOnce(): void
    {
        $login = DeviceLogin::start(self::config('interval=1'));
        $timer = CancelTimer::cancel($login, 0.3);
        $started = microtime(true);
        try {
            $e = self::pollProblem($login);
        } finally {
            $took = microtime(true) - $started;
            // The timer's thread may still be returning from bearer_device_cancel.
            usleep(50_000);
            $timer->delete();
        }
        self::assertGreaterThan(0.25, $took, 'the poll was under way');
        self::assertLessThan(0.9, $took, 'and ended at the cancel, not at the next interval');
        self::assertCancelled($e);
        // Every later poll is cancelled too, at once.
        $started = microtime(true);
        self::assertCancelled(self::pollProblem($login));
        self::assertLessThan(0.2, microtime(true) - $started);
        $login->close();
    }

    public function testCancelBeforePollingAndWhenClosed(): void
    {
        $login = DeviceLogin::start(self::config());
        $before = LocalServer::stats()['device_polls'];
        $login->cancel();
        self::assertCancelled(self::pollProblem($login));
        self::assertSame($before, LocalServer::stats()['device_polls'], 'no request after cancel()');
        $login->close();
        $login->cancel();
        try {
            $login->poll();
            self::fail('polled a closed login');
        } catch (ProblemException $e) {
            self::fail('a problem instead of the closed error: ' . $e->getMessage());
        } catch (BearerException $e) {
            self::assertSame('this Bearer\DeviceLogin is closed', $e->getMessage());
        }
    }

    private static function assertCancelled(ProblemException $e): void
    {
        self::assertSame('urn:bearer:problem:cancelled', $e->getType(), $e->getMessage());
        self::assertSame(Status::CANCELLED, $e->getBearerStatus());
        self::assertSame(Status::CANCELLED, $e->getCode());
    }

    /** The only slow test: slow_down adds 5 s to the interval. */
    public function testSlowDownIsHonoured(): void
    {
        $login = DeviceLogin::start(self::config());
        self::act($login->userCode(), 'slow_down');
        self::act($login->userCode(), 'approve');
        $started = microtime(true);
        $token = $login->poll();
        $took = microtime(true) - $started;
        self::assertGreaterThanOrEqual(4.5, $took, 'waited out the slow_down');
        self::assertLessThan(8.0, $took);
        self::assertNotSame('', $token->getToken());
        $login->close();
    }

    /** An issuer instead: its discovery document names the device endpoint (and the token endpoint). */
    public function testTheIssuersDiscoveryNamesTheDeviceEndpoint(): void
    {
        $config = self::config();
        unset($config['device_authorization_url'], $config['token_url']);
        $before = LocalServer::stats();
        $login = DeviceLogin::start(['issuer' => LocalServer::url() . '/'] + $config);
        self::assertSame(1, LocalServer::stats()['device'] - $before['device']);
        self::act($login->userCode(), 'approve');
        // The server's default interval (5 s) was asked for; approved first, the first poll succeeds.
        self::assertSame(5, $login->interval());
        self::assertNotSame('', $login->poll()->getToken());
        $login->close();
    }

    public function testNoDeviceEndpointIsInvalidConfig(): void
    {
        $config = self::config();
        unset($config['device_authorization_url']);
        try {
            DeviceLogin::start($config);
            self::fail('no ProblemException');
        } catch (ProblemException $e) {
            self::assertSame('urn:bearer:problem:invalid-config', $e->getType(), $e->getMessage());
            self::assertSame(Status::INVALID_CONFIG, $e->getBearerStatus());
            self::assertSame('device_authorization_url', $e->getExtensions()['key'] ?? null, $e->getMessage());
        }
    }
}
