package com.bearer;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A sign-in in progress, from {@link Bearer#authorizeStart}: the URL to send
 * the browser to, and what {@link Bearer#authorizeComplete} needs to check the
 * browser's return ({@code state}) and redeem the code ({@code code_verifier},
 * {@code nonce}).
 *
 * <p>It is secret until the sign-in completes: keep {@link #toJson()} server
 * side (e.g. in the user's session) and restore it with {@link #fromJson}.
 * {@link #toString()} therefore shows only the redirect URI and response type,
 * never the state, verifier or nonce (the URL carries the state, too).
 */
public final class AuthorizationRequest {
    private final String json;
    private final String url;
    private final String responseType;
    private final String redirectUri;
    private final String state;
    private final String codeVerifier;
    private final String nonce;

    private AuthorizationRequest(String json, Map<String, Object> members) {
        this.json = json;
        this.url = required(members, "url");
        this.responseType = required(members, "response_type");
        this.redirectUri = required(members, "redirect_uri");
        this.state = required(members, "state");
        this.codeVerifier = optional(members, "code_verifier");
        this.nonce = optional(members, "nonce");
    }

    /** The request as the library wrote it. */
    static AuthorizationRequest fromNative(String json) {
        try {
            return fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("bearer returned an unreadable authorization request", e);
        }
    }

    /**
     * A request kept with {@link #toJson()}. The text is kept as given and is
     * what {@link Bearer#authorizeComplete} receives.
     *
     * @throws IllegalArgumentException when it is not a JSON object with
     *     {@code url}, {@code response_type}, {@code redirect_uri} and {@code state}
     * @throws NullPointerException for null
     */
    public static AuthorizationRequest fromJson(String json) {
        Objects.requireNonNull(json, "json");
        return new AuthorizationRequest(json, Json.parseObject(json));
    }

    private static String required(Map<String, Object> members, String name) {
        Object value = members.get(name);
        if (!(value instanceof String)) {
            throw new IllegalArgumentException("an authorization request needs a string \"" + name + "\"");
        }
        return (String) value;
    }

    private static String optional(Map<String, Object> members, String name) {
        Object value = members.get(name);
        if (value != null && !(value instanceof String)) {
            throw new IllegalArgumentException("\"" + name + "\" of an authorization request must be a string");
        }
        return (String) value;
    }

    /** The authorize URL: send the user's browser there. */
    public String getUrl() {
        return url;
    }

    /** {@code code} (Authorization Code) or {@code token} (Implicit). */
    public String getResponseType() {
        return responseType;
    }

    /** Where the browser comes back to. */
    public String getRedirectUri() {
        return redirectUri;
    }

    /** The anti-forgery value the browser must bring back. Secret. */
    public String getState() {
        return state;
    }

    /** The PKCE verifier (Authorization Code only). Secret. */
    public Optional<String> getCodeVerifier() {
        return Optional.ofNullable(codeVerifier);
    }

    /** The OpenID nonce the ID token must carry, when the scope has {@code openid}. Secret. */
    public Optional<String> getNonce() {
        return Optional.ofNullable(nonce);
    }

    /** The whole request as JSON, to keep until the browser comes back. Secret: do not log it. */
    public String toJson() {
        return json;
    }

    /** Shows no secret: only where the browser comes back to and the response type. */
    @Override
    public String toString() {
        return "AuthorizationRequest[redirectUri=" + redirectUri + ", responseType=" + responseType + "]";
    }
}
