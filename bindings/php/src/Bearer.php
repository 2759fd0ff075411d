<?php

declare(strict_types=1);

namespace Bearer;

use Bearer\Internal\Native;

/**
 * Calls that keep no object. fetchToken*: tokens are still cached
 * process-wide by the library (keyed by a hash of the whole configuration),
 * so calling them on every request costs one token request per lifetime
 * per process. authorize*: a user's sign-in in two steps, across two HTTP
 * requests of a web app.
 */
final class Bearer
{
    private function __construct()
    {
    }

    /**
     * An access token for the seed's credentials JSON (either shape).
     *
     * @param array<string, mixed>|string $config
     * @throws ProblemException
     */
    public static function fetchToken(#[\SensitiveParameter] array|string $config): string
    {
        return Native::call('bearer_fetch_token', Native::configText($config));
    }

    /**
     * The whole token response for the configuration (see Client::tokenResponse()).
     *
     * @param array<string, mixed>|string $config
     * @return array<string, mixed>
     * @throws ProblemException
     */
    public static function fetchTokenResponse(#[\SensitiveParameter] array|string $config): array
    {
        $json = Native::call('bearer_fetch_token_response', Native::configText($config));

        return json_decode($json, true, 64, JSON_THROW_ON_ERROR);
    }

    /**
     * Client::tokenRefused() for the one-shot cache of fetchToken(): drops
     * the process-wide cached token for $config only if it is still $token.
     *
     * @param array<string, mixed>|string $config
     * @return bool whether a token was dropped
     * @throws ProblemException
     */
    public static function tokenRefused(#[\SensitiveParameter] array|string $config, #[\SensitiveParameter] string $token): bool
    {
        return Native::refused('bearer_token_refused', Native::configText($config), $token);
    }

    /**
     * Starts a user's sign-in (authorization code with PKCE, or implicit,
     * after the configuration's grant_type): no request is made, the
     * library only builds the authorize URL with a fresh state.
     *
     *     $request = Bearer::authorizeStart($config);
     *     $_SESSION['sign_in'] = $request->toJson();
     *     header('Location: ' . $request->getUrl());
     *
     * @param array<string, mixed>|string $config grant_type, client_id, redirect_uri, authorize_url, token_url, ...
     * @throws ProblemException for a configuration that cannot sign a user in
     */
    public static function authorizeStart(#[\SensitiveParameter] array|string $config): AuthorizationRequest
    {
        return AuthorizationRequest::fromJson(Native::call('bearer_authorize_start', Native::configText($config)));
    }

    /**
     * Finishes the sign-in from the URL the browser came back to (the
     * redirect_uri with its query or fragment): checks the state, then
     * exchanges the code or reads the implicit token.
     *
     * @param array<string, mixed>|string $config the configuration given to authorizeStart()
     * @param AuthorizationRequest|string $request the request kept since authorizeStart(), or its JSON
     * @param string $redirectUrl the full callback URL, e.g. the app's URL plus $_SERVER['QUERY_STRING']
     * @throws ProblemException invalid-callback (code 1) for a wrong state or URL; authorization-denied or
     *                          invalid-grant (code 3) when the user declined or the code was used
     */
    public static function authorizeComplete(
        #[\SensitiveParameter] array|string $config,
        #[\SensitiveParameter] AuthorizationRequest|string $request,
        #[\SensitiveParameter] string $redirectUrl,
    ): AccessToken {
        $json = Native::call(
            'bearer_authorize_complete',
            Native::configText($config),
            Native::text($request instanceof AuthorizationRequest ? $request->toJson() : $request, 'the authorization request'),
            Native::text($redirectUrl, 'the redirect URL'),
        );

        return new AccessToken(json_decode($json, true, 64, JSON_THROW_ON_ERROR));
    }

    /** The loaded library's version, e.g. "0.1.0". */
    public static function version(): string
    {
        return Native::version();
    }

    /**
     * Empties the process-wide one-shot cache and closes pooled connections
     * not held by a client. Optional; clients keep working.
     */
    public static function globalCleanup(): void
    {
        Native::globalCleanup();
    }

    /** "scope" when the opcache-preloaded FFI scope is in use, "cdef" when the header was loaded directly. */
    public static function ffiMode(): string
    {
        return Native::mode();
    }
}
