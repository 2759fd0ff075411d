<?php

declare(strict_types=1);

namespace Bearer;

/**
 * A token response, shaped like league/oauth2-client's AccessToken so code
 * written for that package reads the same. Immutable; the string form is
 * the token itself. var_dump() shows only the token's length, because the
 * token is a credential.
 */
final class AccessToken implements \Stringable
{
    private readonly string $token;
    private readonly ?int $expires;
    /** @var array<string, mixed> */
    private readonly array $values;

    /**
     * @param array<string, mixed> $response the token response JSON, decoded
     */
    public function __construct(array $response)
    {
        if (!isset($response['access_token']) || !is_string($response['access_token'])) {
            throw new BearerException('token response without access_token');
        }
        $this->token = $response['access_token'];
        $this->expires = isset($response['expires_at']) ? (int) $response['expires_at'] : null;
        unset($response['access_token'], $response['expires_at'], $response['expires_in']);
        $this->values = $response;
    }

    public function getToken(): string
    {
        return $this->token;
    }

    /** Expiry as unix seconds, or null when the lifetime is unknown. */
    public function getExpires(): ?int
    {
        return $this->expires;
    }

    public function hasExpired(): bool
    {
        return $this->expires !== null && $this->expires <= time();
    }

    /** "Bearer" as a rule. */
    public function getTokenType(): ?string
    {
        $type = $this->values['token_type'] ?? null;

        return is_string($type) ? $type : null;
    }

    public function getRefreshToken(): ?string
    {
        $refresh = $this->values['refresh_token'] ?? null;

        return is_string($refresh) ? $refresh : null;
    }

    /**
     * The other members of the response: token_type, scope, ...
     *
     * @return array<string, mixed>
     */
    public function getValues(): array
    {
        return $this->values;
    }

    public function __toString(): string
    {
        return $this->token;
    }

    /** @return array<string, mixed> */
    public function __debugInfo(): array
    {
        return [
            'token' => sprintf('[%d characters]', strlen($this->token)),
            'expires' => $this->expires,
            'values' => array_diff_key($this->values, ['refresh_token' => true, 'id_token' => true]),
        ];
    }
}
