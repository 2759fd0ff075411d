<?php

declare(strict_types=1);

namespace Bearer;

/**
 * A sign-in in progress, from Bearer::authorizeStart(): send the browser to
 * getUrl(), keep the whole object until it comes back, then hand it to
 * Bearer::authorizeComplete().
 *
 * The state, PKCE verifier and nonce are secrets: keep the object server
 * side, e.g. in $_SESSION (it serializes to its JSON) or as toJson() text.
 * var_dump() and print_r() show only the response type, the redirect URI
 * and the authorize endpoint without its query.
 */
final class AuthorizationRequest
{
    /** The library's JSON, kept as written so that toJson() gives it back unchanged. */
    private string $json;
    private string $url;
    private string $responseType;
    private string $redirectUri;
    private string $state;
    private ?string $codeVerifier;
    private ?string $nonce;

    private function __construct(#[\SensitiveParameter] string $json)
    {
        $this->load($json);
    }

    /**
     * Restores a request kept with toJson(). Only the shape is checked here;
     * the library checks the rest in Bearer::authorizeComplete().
     *
     * @throws \ValueError when the text is not the JSON of a request
     */
    public static function fromJson(#[\SensitiveParameter] string $json): self
    {
        return new self($json);
    }

    /** The authorize URL to send the user's browser to. */
    public function getUrl(): string
    {
        return $this->url;
    }

    /** "code" (authorization code with PKCE) or "token" (implicit). */
    public function getResponseType(): string
    {
        return $this->responseType;
    }

    public function getRedirectUri(): string
    {
        return $this->redirectUri;
    }

    /** The state the callback must carry back; also the session key some apps use. */
    public function getState(): string
    {
        return $this->state;
    }

    /** The PKCE verifier (code flow only). Secret. */
    public function getCodeVerifier(): ?string
    {
        return $this->codeVerifier;
    }

    /** The OpenID nonce the ID token must carry, when scope has "openid". */
    public function getNonce(): ?string
    {
        return $this->nonce;
    }

    /** The request as the library wrote it: store this, restore with fromJson(). Secret. */
    public function toJson(): string
    {
        return $this->json;
    }

    /** @return array<string, mixed> */
    public function __debugInfo(): array
    {
        return [
            'response_type' => $this->responseType,
            'redirect_uri' => $this->redirectUri,
            'authorize_url' => strtok($this->url, '?#'),
            'state' => '[redacted]',
            'code_verifier' => $this->codeVerifier === null ? null : '[redacted]',
            'nonce' => $this->nonce === null ? null : '[redacted]',
        ];
    }

    /**
     * Sessions serialize the object as its JSON, so $_SESSION['sign_in'] = $request works.
     *
     * @return array{json: string}
     */
    public function __serialize(): array
    {
        return ['json' => $this->json];
    }

    /** @param array<string, mixed> $data */
    public function __unserialize(array $data): void
    {
        $this->load(is_string($data['json'] ?? null) ? $data['json'] : '');
    }

    private function load(#[\SensitiveParameter] string $json): void
    {
        try {
            $r = json_decode($json, true, 8, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new \ValueError('not the JSON of an authorization request: ' . $e->getMessage());
        }
        foreach (['url', 'response_type', 'redirect_uri', 'state'] as $key) {
            if (!is_array($r) || !is_string($r[$key] ?? null)) {
                throw new \ValueError("not the JSON of an authorization request: no string \"$key\"");
            }
        }
        foreach (['code_verifier', 'nonce'] as $key) {
            if (isset($r[$key]) && !is_string($r[$key])) {
                throw new \ValueError("not the JSON of an authorization request: \"$key\" is not a string");
            }
        }
        $this->json = $json;
        $this->url = $r['url'];
        $this->responseType = $r['response_type'];
        $this->redirectUri = $r['redirect_uri'];
        $this->state = $r['state'];
        $this->codeVerifier = $r['code_verifier'] ?? null;
        $this->nonce = $r['nonce'] ?? null;
    }
}
