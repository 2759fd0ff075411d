<?php

declare(strict_types=1);

namespace Bearer;

use Bearer\Internal\Native;
use Bearer\Internal\OwnsHandle;
use FFI\CData;

/**
 * A configuration and its cached token. Keep one per set of credentials
 * for as long as the process lives: the token is fetched once and reused
 * until shortly before it expires. The cache lives in this process (under
 * php-fpm, in each worker); Bearer::fetchToken shares a process-wide one.
 *
 * The native handle is freed by close() or, at the latest, when the object
 * is destroyed.
 */
final class Client
{
    use OwnsHandle;

    /**
     * No request is made here; a bad configuration fails at once.
     *
     * @param array<string, mixed>|string $config the seed's credentials JSON (either shape), as text or decoded
     * @throws ProblemException for a malformed, incomplete or unsafe configuration
     * @throws \ValueError for a NUL byte or an array that cannot be encoded as JSON
     */
    public function __construct(#[\SensitiveParameter] array|string $config)
    {
        $this->handle = Native::clientNew(Native::configText($config));
    }

    /**
     * A valid access token, from the cache while it is fresh.
     *
     * @throws ProblemException
     */
    public function token(): string
    {
        return Native::call('bearer_client_token', $this->live());
    }

    /**
     * Reports that an API refused $token (a 401 with
     * `WWW-Authenticate: Bearer error="invalid_token"`, or a bare 401):
     * the cached token is dropped, here and in a shared store, only if it is
     * still $token, so a late refusal of a token already replaced does
     * nothing. At most one drop per client every two seconds. The next
     * token() then fetches a new one.
     *
     * @return bool whether a token was dropped
     * @throws ProblemException
     * @throws \ValueError for a NUL byte in $token
     */
    public function tokenRefused(#[\SensitiveParameter] string $token): bool
    {
        return Native::refused('bearer_client_token_refused', $this->live(), $token);
    }

    /**
     * The token with its expiry and the other members of the response, like
     * league/oauth2-client's getAccessToken().
     *
     * @throws ProblemException
     */
    public function getAccessToken(): AccessToken
    {
        return new AccessToken($this->tokenResponse());
    }

    /**
     * The Authorization header value, "Bearer <token>".
     *
     * @throws ProblemException
     */
    public function getAuthorizationHeader(): string
    {
        return Native::call('bearer_client_authorization_header', $this->live());
    }

    /**
     * The token response: access_token, token_type, expires_in (seconds
     * left), expires_at (unix seconds) and scope when there is one.
     *
     * @return array<string, mixed>
     * @throws ProblemException
     */
    public function tokenResponse(): array
    {
        $json = Native::call('bearer_client_token_response', $this->live());

        return json_decode($json, true, 64, JSON_THROW_ON_ERROR);
    }

    /**
     * Why the last refresh failed while the cached token was served, or null.
     *
     * A token due for refresh but still valid is returned by token() even
     * when its refresh fails (serve-stale); the failure is kept here, once
     * per run of failures. The exception is returned, not thrown; its
     * extensions carry serving_cached_token_until (unix seconds) and its
     * code is the status the failed refresh would have returned (e.g.
     * Status::UNAVAILABLE).
     *
     * @throws BearerException when the client is closed
     */
    public function takeRefreshProblem(): ?ProblemException
    {
        return Native::clientTakeRefreshProblem($this->live());
    }

    private static function freeHandle(CData $handle): void
    {
        Native::clientFree($handle);
    }
}
