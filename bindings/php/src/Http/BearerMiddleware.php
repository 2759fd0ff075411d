<?php

declare(strict_types=1);

namespace Bearer\Http;

use Bearer\Client;
use GuzzleHttp\Promise\PromiseInterface;
use Psr\Http\Message\RequestInterface;
use Psr\Http\Message\ResponseInterface;

/**
 * Guzzle middleware: every request gets `Authorization: Bearer <token>`
 * from a Bearer\Client; a 401 refusing that token is reported and the
 * request is sent once more with the new token.
 *
 *     $stack = HandlerStack::create();
 *     $stack->push(BearerMiddleware::create($client), 'bearer');
 *     $http = new GuzzleHttp\Client(['handler' => $stack]);
 *
 * Pushed on the stack, it sits below Guzzle's redirect middleware, so it
 * sees each redirect Guzzle follows as a request of its own; it adds no
 * token to those (it cannot tell where the chain began), so the token never
 * follows a redirect to another origin. Needs guzzlehttp/guzzle 7 (Debian:
 * php-guzzlehttp-guzzle); this class is loaded only when used.
 */
final class BearerMiddleware
{
    private function __construct()
    {
    }

    /**
     * @param bool $retryOnRefusal false: a refused token is still reported, but the 401 is returned
     * @return callable(callable): callable the middleware, for HandlerStack::push()
     */
    public static function create(Client $client, bool $retryOnRefusal = true): callable
    {
        $authorizer = new Authorizer($client, $retryOnRefusal);

        return static function (callable $handler) use ($authorizer): callable {
            return static function (RequestInterface $request, array $options) use ($handler, $authorizer): PromiseInterface {
                if (!empty($options['__redirect_count'])) {
                    // A redirect Guzzle follows: sent as Guzzle made it, without our token.
                    return $handler($request, $options);
                }
                [$sent, $token] = $authorizer->attach($request);

                return $handler($sent, $options)->then(
                    static function (ResponseInterface $response) use ($handler, $options, $authorizer, $sent, $token) {
                        $again = $authorizer->retry($sent, $response, $token);

                        return $again === null ? $response : $handler($again, $options);
                    },
                );
            };
        };
    }
}
