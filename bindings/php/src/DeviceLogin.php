<?php

declare(strict_types=1);

namespace Bearer;

use Bearer\Internal\Native;
use Bearer\Internal\OwnsHandle;
use FFI\CData;

/**
 * Signing in without a browser on this machine: the device authorization
 * grant (RFC 8628). start() asks the server for a code, the user enters
 * userCode() at verificationUri() on another device (or opens
 * verificationUriComplete()), and poll() waits until they approve.
 *
 *     $login = DeviceLogin::start($config);      // grant_type "device_code"
 *     echo 'Open ', $login->verificationUri(), ' and enter ', $login->userCode(), "\n";
 *     $token = $login->poll();                   // the token response
 *
 * poll() blocks the whole PHP process (PHP has no other thread to run),
 * asking the token endpoint every interval() seconds (5 more after each
 * slow_down) until the user approves, denies or the code expires.
 * The handle is freed by close() or, at the latest, when the object is
 * destroyed.
 */
final class DeviceLogin
{
    use OwnsHandle;

    /**
     * @param array<string, mixed> $authorization what the server answered, as the library gives it
     */
    private function __construct(?CData $handle, private readonly array $authorization)
    {
        $this->handle = $handle;
    }

    /**
     * Asks the device authorization endpoint for a user code. The
     * configuration has "grant_type": "device_code" and a
     * "device_authorization_url", or an "issuer" whose discovery document
     * names one.
     *
     * @param array<string, mixed>|string $config client_id, grant_type, device_authorization_url, token_url, audience, scope, ...
     * @throws ProblemException for a bad configuration (invalid-config) or a server that refuses
     */
    public static function start(#[\SensitiveParameter] array|string $config): self
    {
        [$handle, $json] = Native::deviceStart(Native::configText($config));
        try {
            $authorization = json_decode($json, true, 16, JSON_THROW_ON_ERROR);
            if (!is_array($authorization)) {
                throw new \JsonException('not an object');
            }
        } catch (\JsonException $e) {
            Native::deviceFree($handle);
            throw new BearerException('the library answered the device authorization with no readable JSON: ' . $e->getMessage(), Status::INTERNAL, $e);
        }

        return new self($handle, $authorization);
    }

    /** The code the user enters, e.g. "ABCD-EFGH". */
    public function userCode(): string
    {
        return (string) ($this->authorization['user_code'] ?? '');
    }

    /** Where the user enters the code. */
    public function verificationUri(): string
    {
        return (string) ($this->authorization['verification_uri'] ?? '');
    }

    /** The verification URI with the code in it (for a link or a QR code), when the server gave one. */
    public function verificationUriComplete(): ?string
    {
        $uri = $this->authorization['verification_uri_complete'] ?? null;

        return is_string($uri) ? $uri : null;
    }

    /** Seconds the code was valid for when the server answered. */
    public function expiresIn(): int
    {
        return (int) ($this->authorization['expires_in'] ?? 0);
    }

    /** Seconds between polls, as the server asked. */
    public function interval(): int
    {
        return (int) ($this->authorization['interval'] ?? 0);
    }

    /**
     * Waits until the user approves and returns the token response, as
     * LoopbackLogin::wait() does (a refresh token with offline_access).
     *
     * @throws ProblemException authorization-denied (code 3) when the user declines,
     *                          device-code-expired (code 3) when the code expired first,
     *                          cancelled (code 9, Status::CANCELLED) after cancel()
     * @throws BearerException when closed
     */
    public function poll(): AccessToken
    {
        $json = Native::call('bearer_device_poll', $this->live());

        return new AccessToken(json_decode($json, true, 64, JSON_THROW_ON_ERROR));
    }

    /**
     * Makes a poll in progress, and every later poll, end with the
     * cancelled problem (Status::CANCELLED). Harmless when closed.
     */
    public function cancel(): void
    {
        if ($this->handle !== null) {
            Native::ffi()->bearer_device_cancel($this->handle);
        }
    }

    /** @return array<string, mixed> */
    public function __debugInfo(): array
    {
        return [
            'user_code' => $this->userCode(),
            'verification_uri' => $this->verificationUri(),
            'expires_in' => $this->expiresIn(),
            'interval' => $this->interval(),
            'closed' => $this->isClosed(),
        ];
    }

    private static function freeHandle(CData $handle): void
    {
        Native::deviceFree($handle);
    }
}
