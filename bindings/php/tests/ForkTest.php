<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\Bearer;
use Bearer\Client;
use Bearer\ProblemException;
use PHPUnit\Framework\TestCase;

/**
 * After pcntl_fork(), a child uses none of its parent's pooled connections:
 * the shape of a PHP-FPM master that warmed up with opcache.preload, or a
 * worker script that forks. Every token a process gets is for the client it
 * asked as, while parent and children fetch at once.
 *
 * @requires extension pcntl
 */
final class ForkTest extends TestCase
{
    private const ROUNDS = 3;
    private const CHILDREN = 4;
    private const CALLS = 20;

    public function testParentAndForkedChildrenEachGetTheirOwnClientsTokens(): void
    {
        for ($round = 0; $round < self::ROUNDS; $round++) {
            // One kept-alive connection in the shared pool, as the fork finds it.
            $pooled = new Client(LocalServer::auth0(LocalServer::unique()));
            $parentsToken = $pooled->token();
            $children = [];
            for ($child = 0; $child < self::CHILDREN; $child++) {
                $children[] = self::fork(function () use ($pooled, $parentsToken, $child): int {
                    // The cached token stays valid in the child.
                    $code = $pooled->token() === $parentsToken ? 0 : 100;

                    return $code + self::wrongTokens($child);
                });
            }
            $parentWrong = self::wrongTokens(1);
            $codes = array_map(self::exitCode(...), $children);
            self::assertSame(array_fill(0, self::CHILDREN, 0), $codes, "round $round: children saw failures or others' tokens (100+: the cached token was lost)");
            self::assertSame(0, $parentWrong, "round $round: the parent got another client's token");
        }
    }

    public function testOneShotCallsInAForkedChildFetchOnConnectionsOfTheirOwn(): void
    {
        $config = LocalServer::auth0(LocalServer::unique('opaque=1'));
        Bearer::fetchToken($config); // a pooled connection, and a one-shot client for it
        $before = LocalServer::stats();
        $pid = self::fork(static function () use ($config): int {
            for ($i = 0; $i < 3; $i++) {
                if (strlen(Bearer::fetchToken($config)) < 10) {
                    return 1;
                }
            }

            return 0;
        });
        self::assertSame(0, self::exitCode($pid));
        $after = LocalServer::stats();
        // Opaque tokens are not cached: three fetches on one new connection
        // (the other new one is the second look at the counters).
        self::assertSame(3, $after['auth0'] - $before['auth0']);
        self::assertSame(2, $after['connections'] - $before['connections']);
    }

    /** CALLS fresh clients, alternating between two credentials: calls that failed or got another client's token. */
    private static function wrongTokens(int $offset): int
    {
        $wrong = 0;
        for ($call = 0; $call < self::CALLS; $call++) {
            $config = LocalServer::auth0(LocalServer::unique());
            if (($call + $offset) % 2 === 1) {
                $config['client_id'] = 'm2m-second';
                $config['client_secret'] = 'm2m-second-secret';
            }
            try {
                $wrong += self::holder((new Client($config))->token()) === $config['client_id'] ? 0 : 1;
            } catch (ProblemException) {
                $wrong++;
            }
        }

        return $wrong;
    }

    /** Whose token it is: the local server's client tokens say "<id>@clients". */
    private static function holder(string $token): string
    {
        $payload = strtr(explode('.', $token)[1], '-_', '+/');
        $claims = json_decode((string) base64_decode($payload), true, 8, JSON_THROW_ON_ERROR);

        return preg_replace('/@clients$/', '', $claims['sub']);
    }

    private static function fork(\Closure $child): int
    {
        return Fork::run($child);
    }

    private static function exitCode(int $pid): int
    {
        return Fork::exitCode($pid);
    }
}
