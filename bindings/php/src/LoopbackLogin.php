<?php

declare(strict_types=1);

namespace Bearer;

use Bearer\Internal\Native;
use Bearer\Internal\OwnsHandle;
use FFI\CData;

/**
 * A native app's or a script's sign-in (RFC 8252): the library listens on
 * 127.0.0.1, the user opens getUrl() in a browser, and wait() takes the one
 * redirect, answers the browser with a short page and exchanges the code.
 *
 *     $login = LoopbackLogin::start($config);   // no redirect_uri: an ephemeral port
 *     echo 'Open ', $login->getUrl(), "\n";
 *     $token = $login->wait(120);               // AccessToken
 *
 * wait() blocks the whole PHP process (PHP has no other thread to run).
 * The listener is closed by close() or, at the latest, when the object is
 * destroyed.
 */
final class LoopbackLogin
{
    /** Largest wait the C ABI takes: an unsigned int of milliseconds. */
    private const MAX_MS = 4_294_967_295;

    use OwnsHandle;

    private function __construct(?CData $handle, private readonly string $url)
    {
        $this->handle = $handle;
    }

    /**
     * Starts listening and builds the authorize URL (authorization code
     * with PKCE). A redirect_uri http://127.0.0.1:PORT/path in the
     * configuration fixes the port; without one the port is ephemeral and
     * the path /callback.
     *
     * @param array<string, mixed>|string $config client_id, audience, authorize_url, token_url, ...
     * @throws ProblemException for a bad configuration or a port that cannot be bound
     */
    public static function start(#[\SensitiveParameter] array|string $config): self
    {
        [$handle, $url] = Native::loginStart(Native::configText($config));

        return new self($handle, $url);
    }

    /** The URL to open in the user's browser. */
    public function getUrl(): string
    {
        return $this->url;
    }

    /** Where the browser will be sent back: http://127.0.0.1:PORT/path, read from the URL. */
    public function getRedirectUri(): ?string
    {
        parse_str((string) parse_url($this->url, PHP_URL_QUERY), $query);
        $uri = $query['redirect_uri'] ?? null;

        return is_string($uri) ? $uri : null;
    }

    /**
     * Waits for the browser's redirect and returns the token. A login
     * completes once; waiting again is an invalid-argument problem.
     *
     * @param float $seconds how long to wait, e.g. 120 for a person, at most about 49 days
     * @throws ProblemException timeout (code 6) when no redirect came in time; the problems of
     *                          Bearer::authorizeComplete() for a bad or declined redirect
     * @throws BearerException when closed
     * @throws \ValueError for a negative or too long wait
     */
    public function wait(float $seconds = 120.0): AccessToken
    {
        $ms = round($seconds * 1000);
        if (!($ms >= 0 && $ms <= self::MAX_MS)) {
            throw new \ValueError(sprintf('the wait must be between 0 and %d seconds, not %s', intdiv(self::MAX_MS, 1000), $seconds));
        }
        $json = Native::call('bearer_login_wait', $this->live(), (int) $ms);

        return new AccessToken(json_decode($json, true, 64, JSON_THROW_ON_ERROR));
    }


    /** @return array<string, mixed> */
    public function __debugInfo(): array
    {
        return ['redirect_uri' => $this->getRedirectUri(), 'closed' => $this->isClosed()];
    }

    private static function freeHandle(CData $handle): void
    {
        Native::loginFree($handle);
    }
}
