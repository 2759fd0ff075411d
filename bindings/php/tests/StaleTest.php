<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\BearerException;
use Bearer\Client;
use Bearer\ProblemException;
use Bearer\Status;
use PHPUnit\Framework\TestCase;

/**
 * Serve-stale: a failed refresh of a still-valid token returns that token,
 * and its problem waits in takeRefreshProblem(), once.
 */
final class StaleTest extends TestCase
{
    /** A 4 s token is due for refresh 3.4-3.6 s after issue and served until 3.92 s. */
    private const DUE = 3.65;

    private static function sleepUntil(float $moment): void
    {
        $left = $moment - hrtime(true) / 1e9;
        if ($left > 0) {
            usleep((int) ($left * 1e6));
        }
    }

    public function testAFailedRefreshServesTheCachedTokenAndReportsOnce(): void
    {
        $own = LocalServer::start();
        try {
            $config = ['token_url' => $own['url'] . '/oauth/token' . LocalServer::unique('expires_in=4')] + LocalServer::auth0();
            $client = new Client($config);
            $token = $client->token();
            $issued = hrtime(true) / 1e9;
            $expiresAt = $client->tokenResponse()['expires_at'];
        } finally {
            // The refresh that is due next cannot succeed.
            LocalServer::stop($own);
        }

        self::sleepUntil($issued + self::DUE);
        self::assertSame($token, $client->token());
        $problem = $client->takeRefreshProblem();
        self::assertInstanceOf(ProblemException::class, $problem);
        self::assertSame('urn:bearer:problem:unreachable', $problem->getType());
        self::assertSame(Status::UNAVAILABLE, $problem->getCode());
        self::assertSame($expiresAt, $problem->getExtensions()['serving_cached_token_until']);
        self::assertSame($problem->getTitle() . ': ' . $problem->getDetail(), $problem->getMessage());
        self::assertNull($client->takeRefreshProblem());

        self::sleepUntil($issued + 4.1);
        try {
            $client->token();
            self::fail('an expired token was served');
        } catch (ProblemException $e) {
            self::assertSame('urn:bearer:problem:unreachable', $e->getType());
            self::assertSame(Status::UNAVAILABLE, $e->getCode());
        }
    }

    public function testAHealthyClientHasNoRefreshProblem(): void
    {
        $client = new Client(LocalServer::auth0(LocalServer::unique()));
        $client->token();
        self::assertNull($client->takeRefreshProblem());
        $client->close();
        $this->expectException(BearerException::class);
        $this->expectExceptionMessage('this Bearer\Client is closed');
        $client->takeRefreshProblem();
    }
}
