<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\AccessToken;
use Bearer\Bearer;
use Bearer\Client;
use PHPUnit\Framework\TestCase;

final class TokenTest extends TestCase
{
    public function testVersionMatchesTheHeader(): void
    {
        $h = (string) file_get_contents(LocalServer::checkout() . '/include/bearer.h');
        preg_match('/#define BEARER_VERSION "([^"]+)"/', $h, $m);
        self::assertSame($m[1], Bearer::version());
    }

    /** @return array<string, array{string}> */
    public static function shapes(): array
    {
        return ['auth0' => ['auth0'], 'cobuilder' => ['cobuilder']];
    }

    /** @dataProvider shapes */
    public function testOneShotForBothShapes(string $shape): void
    {
        $config = LocalServer::$shape(LocalServer::unique());
        $token = Bearer::fetchToken($config);
        self::assertMatchesRegularExpression('/^[A-Za-z0-9._~+\/=-]{20,}$/', $token);
        // Same configuration as JSON text: same cache entry, same token.
        self::assertSame($token, Bearer::fetchToken(LocalServer::json($config)));

        $response = Bearer::fetchTokenResponse($config);
        self::assertSame($token, $response['access_token']);
        self::assertSame('Bearer', $response['token_type']);
        self::assertIsInt($response['expires_in']);
        self::assertGreaterThan(0, $response['expires_in']);
        self::assertEqualsWithDelta(time() + $response['expires_in'], $response['expires_at'], 5);
    }

    /** @dataProvider shapes */
    public function testClientForBothShapes(string $shape): void
    {
        $client = new Client(LocalServer::json(LocalServer::$shape(LocalServer::unique())));
        $token = $client->token();
        self::assertNotSame('', $token);
        self::assertSame('Bearer ' . $token, $client->getAuthorizationHeader());

        $response = $client->tokenResponse();
        self::assertSame($token, $response['access_token']);
        self::assertSame('Bearer', $response['token_type']);
        self::assertArrayHasKey('expires_in', $response);
        self::assertArrayHasKey('expires_at', $response);

        $access = $client->getAccessToken();
        self::assertInstanceOf(AccessToken::class, $access);
        self::assertSame($token, $access->getToken());
        self::assertSame($token, (string) $access);
        self::assertSame($response['expires_at'], $access->getExpires());
        self::assertFalse($access->hasExpired());
        self::assertSame('Bearer', $access->getTokenType());
        self::assertSame('Bearer', $access->getValues()['token_type']);
        self::assertArrayNotHasKey('access_token', $access->getValues());
        self::assertStringNotContainsString($token, print_r($access, true));
        $client->close();
    }

    public function testScopeIsReturned(): void
    {
        $config = LocalServer::auth0(LocalServer::unique()) + ['scope' => 'read:data'];
        $response = Bearer::fetchTokenResponse($config);
        self::assertSame('read:data', $response['scope']);
    }

    public function testClientCachesItsToken(): void
    {
        $client = new Client(LocalServer::auth0(LocalServer::unique('expires_in=3600')));
        $before = LocalServer::stats()['auth0'];
        $first = $client->token();
        $second = $client->token();
        self::assertSame($first, $second);
        self::assertSame('Bearer ' . $first, $client->getAuthorizationHeader());
        self::assertSame($first, $client->getAccessToken()->getToken());
        self::assertSame(1, LocalServer::stats()['auth0'] - $before);
    }

    public function testOneShotCallsShareTheProcessCache(): void
    {
        $config = LocalServer::json(LocalServer::cobuilder(LocalServer::unique('expires_in=3600')));
        $before = LocalServer::stats()['cobuilder'];
        $first = Bearer::fetchToken($config);
        $second = Bearer::fetchToken($config);
        self::assertSame($first, $second);
        self::assertSame(1, LocalServer::stats()['cobuilder'] - $before);
    }

    public function testAShortLivedTokenIsRefreshed(): void
    {
        // Refreshed a tenth of its lifetime early: a 1 s token is fetched anew after it.
        $client = new Client(LocalServer::auth0(LocalServer::unique('expires_in=1')));
        $before = LocalServer::stats()['auth0'];
        $client->token();
        usleep(1_100_000);
        $client->token();
        self::assertSame(2, LocalServer::stats()['auth0'] - $before);
    }
}
