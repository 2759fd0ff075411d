<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\Bearer;
use Bearer\Client;
use PHPUnit\Framework\TestCase;

/** Compare-and-invalidate: tokenRefused() drops the cached token only while it is still the refused one. */
final class TokenRefusedTest extends TestCase
{
    public function testTheCurrentTokenIsDroppedAndALateRefusalOfItIsNot(): void
    {
        $client = new Client(LocalServer::auth0(LocalServer::unique()));
        $old = $client->token();
        self::assertTrue($client->tokenRefused($old));
        $new = $client->token();
        self::assertNotSame($old, $new);
        self::assertFalse($client->tokenRefused($old), 'already replaced');
        self::assertSame($new, $client->token());
    }

    public function testASecondDropWithinTwoSecondsDoesNothing(): void
    {
        $client = new Client(LocalServer::auth0(LocalServer::unique()));
        $before = LocalServer::stats();
        self::assertTrue($client->tokenRefused($client->token()));
        $second = $client->token();
        self::assertFalse($client->tokenRefused($second), 'within the window');
        self::assertSame($second, $client->token());
        self::assertSame(2, LocalServer::stats()['auth0'] - $before['auth0']);
    }

    public function testTheOneShotCacheToo(): void
    {
        $config = LocalServer::auth0(LocalServer::unique());
        $old = Bearer::fetchToken($config);
        self::assertTrue(Bearer::tokenRefused($config, $old));
        $new = Bearer::fetchToken($config);
        self::assertNotSame($old, $new);
        self::assertFalse(Bearer::tokenRefused(LocalServer::json($config), $old), 'already replaced');
        self::assertSame($new, Bearer::fetchToken($config));
    }

    public function testBadArguments(): void
    {
        $client = new Client(LocalServer::auth0(LocalServer::unique()));
        try {
            $client->tokenRefused(null); // @phpstan-ignore-line
            self::fail('no TypeError');
        } catch (\TypeError) {
        }
        $this->expectException(\ValueError::class);
        $client->tokenRefused("a\0b");
    }

    public function testAnUnknownTokenDropsNothing(): void
    {
        $client = new Client(LocalServer::auth0(LocalServer::unique()));
        $token = $client->token();
        self::assertFalse($client->tokenRefused('not-the-token'));
        self::assertSame($token, $client->token());
        $this->expectException(\Bearer\ProblemException::class);
        Bearer::tokenRefused('{}', 'x');
    }

    public function testAClosedClientThrows(): void
    {
        $client = new Client(LocalServer::auth0(LocalServer::unique()));
        $client->close();
        $this->expectException(\Bearer\BearerException::class);
        $client->tokenRefused('x');
    }
}
