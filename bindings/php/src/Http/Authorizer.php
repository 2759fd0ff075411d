<?php

declare(strict_types=1);

namespace Bearer\Http;

use Bearer\Client;
use Psr\Http\Message\RequestInterface;
use Psr\Http\Message\ResponseInterface;

/**
 * What every HTTP integration here does around one request, on PSR-7
 * messages: set the Authorization header from the client's cached token,
 * and after a 401 that refuses that token, report it and say whether (and
 * with which request) to try once more.
 *
 * @internal used by BearerMiddleware and BearerClient
 */
final class Authorizer
{
    public function __construct(private readonly Client $client, private readonly bool $retryOnRefusal = true)
    {
    }

    /**
     * The request with `Authorization: Bearer <token>` (set, never added),
     * and the token it carries.
     *
     * @return array{0: RequestInterface, 1: string}
     * @throws \Bearer\ProblemException when no token can be had: the request is not sent
     */
    public function attach(RequestInterface $request): array
    {
        $token = $this->client->token();

        return [$request->withHeader('Authorization', 'Bearer ' . $token), $token];
    }

    /**
     * After $response to $sent (which carried $token): the request to send
     * once more, or null to hand $response back as it is.
     *
     * A 401 refusing the token (Bearer error="invalid_token", a Bearer
     * challenge without an error, or no challenge at all) is reported with
     * tokenRefused(). The retry carries the client's current token, only
     * when that differs from the refused one and the body can be sent again
     * (empty, or seekable: it is rewound). Everything else passes through.
     *
     * @throws \Bearer\ProblemException when the new token cannot be had
     */
    public function retry(RequestInterface $sent, ResponseInterface $response, string $token): ?RequestInterface
    {
        if ($response->getStatusCode() !== 401 || !self::refusesToken($response->getHeader('WWW-Authenticate'))) {
            return null;
        }
        $this->client->tokenRefused($token);
        if (!$this->retryOnRefusal || !self::rewind($sent)) {
            return null;
        }
        $fresh = $this->client->token();
        if ($fresh === $token) {
            return null; // not dropped (the two-second window): a second try would be refused alike
        }

        return $sent->withHeader('Authorization', 'Bearer ' . $fresh);
    }

    /** Whether the body can be sent again: empty, or seekable and now rewound. */
    private static function rewind(RequestInterface $request): bool
    {
        $body = $request->getBody();
        if ($body->getSize() === 0) {
            return true;
        }
        if (!$body->isSeekable()) {
            return false;
        }
        try {
            $body->rewind();
        } catch (\RuntimeException) {
            return false;
        }

        return true;
    }

    /**
     * Whether the WWW-Authenticate values of a 401 say the access token was
     * refused: none at all, a Bearer challenge without `error`, or one with
     * `error="invalid_token"`. Another error (invalid_request, ...) or only
     * other schemes: no.
     *
     * @param list<string> $values
     */
    public static function refusesToken(array $values): bool
    {
        $challenges = self::challenges($values);
        if ($challenges === []) {
            return true;
        }
        foreach ($challenges as [$scheme, $params]) {
            if (strcasecmp($scheme, 'Bearer') === 0) {
                return !isset($params['error']) || $params['error'] === 'invalid_token';
            }
        }

        return false;
    }

    /**
     * The challenges of WWW-Authenticate (RFC 9110 11.6.1), each as scheme
     * and its parameters (names lowercased); a token68 is left out.
     *
     * @param list<string> $values
     * @return list<array{0: string, 1: array<string, string>}>
     */
    public static function challenges(array $values): array
    {
        $token = '[!#$%&\'*+.^_`|~0-9A-Za-z-]+';
        $out = [];
        foreach ($values as $value) {
            // Comma-separated items, commas inside quoted strings kept.
            preg_match_all('/(?:[^,"]|"(?:[^"\\\\]|\\\\.)*")+/', $value, $items);
            foreach ($items[0] as $item) {
                $item = trim($item);
                if ($item === '') {
                    continue;
                }
                if (preg_match('/^(' . $token . ')(?:\s+(.*))?$/s', $item, $m) && !str_starts_with(ltrim($m[2] ?? ''), '=')) {
                    $out[] = [$m[1], []]; // a new challenge, maybe with its first parameter
                    $item = $m[2] ?? '';
                    if ($item === '') {
                        continue;
                    }
                }
                if ($out !== [] && preg_match('/^(' . $token . ')\s*=\s*(?:"((?:[^"\\\\]|\\\\.)*)"|(' . $token . '))$/s', $item, $p)) {
                    $out[count($out) - 1][1][strtolower($p[1])] = isset($p[3]) ? $p[3] : stripcslashes($p[2]);
                }
            }
        }

        return $out;
    }
}
