package com.bearer;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A token with what the endpoint said about it. {@code expiresIn} is the
 * seconds left at the time of the call (not at issue), so a cached token
 * shows its remaining life.
 */
public final class TokenResponse {
    private final String accessToken;
    private final String tokenType;
    private final Long expiresIn;
    private final Long expiresAt;
    private final String scope;
    private final String refreshToken;
    private final String idToken;

    private TokenResponse(Map<String, Object> members) {
        this.accessToken = (String) members.get("access_token");
        Object type = members.get("token_type");
        this.tokenType = type instanceof String ? (String) type : "Bearer";
        this.expiresIn = number(members.get("expires_in"));
        this.expiresAt = number(members.get("expires_at"));
        this.scope = text(members.get("scope"));
        this.refreshToken = text(members.get("refresh_token"));
        this.idToken = text(members.get("id_token"));
    }

    static TokenResponse parse(byte[] utf8) {
        Map<String, Object> members = Json.parseObject(Native.text(utf8));
        if (!(members.get("access_token") instanceof String)) {
            throw new IllegalStateException("bearer returned a token response without access_token");
        }
        return new TokenResponse(members);
    }

    private static Long number(Object value) {
        return value instanceof Number ? ((Number) value).longValue() : null;
    }

    private static String text(Object value) {
        return value instanceof String ? (String) value : null;
    }

    /** The access token itself. */
    public String getAccessToken() {
        return accessToken;
    }

    /** Usually {@code Bearer}. */
    public String getTokenType() {
        return tokenType;
    }

    /** Seconds until expiry; empty when the lifetime is unknown (such a token is never cached). */
    public OptionalLong getExpiresIn() {
        return expiresIn == null ? OptionalLong.empty() : OptionalLong.of(expiresIn);
    }

    /** When the token expires; empty when unknown. */
    public Optional<Instant> getExpiresAt() {
        return expiresAt == null ? Optional.empty() : Optional.of(Instant.ofEpochSecond(expiresAt));
    }

    /** The granted scope, when the endpoint named one. */
    public Optional<String> getScope() {
        return Optional.ofNullable(scope);
    }

    /** A refresh token, when the endpoint sent one. */
    public Optional<String> getRefreshToken() {
        return Optional.ofNullable(refreshToken);
    }

    /** An ID token, when the endpoint sent one. */
    public Optional<String> getIdToken() {
        return Optional.ofNullable(idToken);
    }

    /** Shows the shape only: a token is a credential and does not belong in logs. */
    @Override
    public String toString() {
        return "TokenResponse[accessToken=<" + accessToken.length() + " chars>, tokenType=" + tokenType
                + ", expiresIn=" + expiresIn + ", expiresAt=" + expiresAt + ", scope=" + scope
                + ", refreshToken=" + shape(refreshToken) + ", idToken=" + shape(idToken) + "]";
    }

    private static String shape(String secret) {
        return secret == null ? "none" : "<" + secret.length() + " chars>";
    }
}
