<?php

declare(strict_types=1);

namespace Bearer\Http;

use Bearer\Client;
use Psr\Http\Client\ClientInterface;
use Psr\Http\Message\RequestInterface;
use Psr\Http\Message\ResponseInterface;

/**
 * PSR-18 decorator: sends each request through $inner (any PSR-18 client,
 * e.g. GuzzleHttp\Client) with `Authorization: Bearer <token>` from a
 * Bearer\Client; a 401 refusing that token is reported and the request is
 * sent once more with the new token when its body can be rewound.
 *
 * Redirects are $inner's business: Guzzle's sendRequest() follows none
 * (PSR-18), so the token goes only where the request goes. Needs
 * psr/http-client (Debian: php-psr-http-client); loaded only when used.
 */
final class BearerClient implements ClientInterface
{
    private readonly Authorizer $authorizer;

    /** @param bool $retryOnRefusal false: a refused token is still reported, but the 401 is returned */
    public function __construct(private readonly ClientInterface $inner, Client $bearer, bool $retryOnRefusal = true)
    {
        $this->authorizer = new Authorizer($bearer, $retryOnRefusal);
    }

    /**
     * @throws \Bearer\ProblemException when no token can be had (nothing is sent)
     * @throws \Psr\Http\Client\ClientExceptionInterface from $inner
     */
    public function sendRequest(RequestInterface $request): ResponseInterface
    {
        [$sent, $token] = $this->authorizer->attach($request);
        $response = $this->inner->sendRequest($sent);
        $again = $this->authorizer->retry($sent, $response, $token);

        return $again === null ? $response : $this->inner->sendRequest($again);
    }
}
