package com.bearer;

import java.io.ByteArrayOutputStream;
import java.util.Map;
import java.util.Objects;

/**
 * One-shot calls: a token for a credentials JSON (either seed shape), served
 * from a process-wide cache while it is fresh. Programs that keep running
 * usually hold a {@link BearerClient} instead. Also the two halves of a
 * user's sign-in in a web app ({@link #authorizeStart}, {@link #authorizeComplete});
 * a native app or script uses {@link BearerLogin}.
 *
 * <pre>{@code
 * String token = Bearer.fetchToken(Files.readString(Path.of("credentials.json")));
 * }</pre>
 */
public final class Bearer {
    private Bearer() {}

    /**
     * An access token for {@code configJson}.
     *
     * @throws BearerException when the configuration is refused or the endpoint fails
     * @throws NullPointerException when {@code configJson} is null
     */
    public static String fetchToken(String configJson) {
        return fetchToken(encode(configJson));
    }

    /** As {@link #fetchToken(String)}, for a configuration given as a map (written as JSON). */
    public static String fetchToken(Map<String, ?> config) {
        return fetchToken(encode(Json.write(Objects.requireNonNull(config, "config"))));
    }

    /** The whole token response for {@code configJson}, from the same cache as {@link #fetchToken(String)}. */
    public static TokenResponse fetchTokenResponse(String configJson) {
        return fetchTokenResponse(encode(configJson));
    }

    /** As {@link #fetchTokenResponse(String)}, for a configuration given as a map. */
    public static TokenResponse fetchTokenResponse(Map<String, ?> config) {
        return fetchTokenResponse(encode(Json.write(Objects.requireNonNull(config, "config"))));
    }

    /**
     * {@link BearerClient#tokenRefused(String)} for the one-shot calls: an API
     * refused {@code token}, which {@link #fetchToken(String)} gave for
     * {@code configJson}. The process-wide cache drops it only if it is still
     * the current token, at most once every two seconds.
     *
     * @return whether the token was dropped
     * @throws NullPointerException when {@code configJson} or {@code token} is null
     */
    public static boolean tokenRefused(String configJson, String token) {
        return tokenRefused(encode(configJson), token);
    }

    /** As {@link #tokenRefused(String, String)}, for a configuration given as a map. */
    public static boolean tokenRefused(Map<String, ?> config, String token) {
        return tokenRefused(encode(Json.write(Objects.requireNonNull(config, "config"))), token);
    }

    /**
     * Starts a user's sign-in (Authorization Code with PKCE, or Implicit, as the
     * configuration's {@code grant_type} says): the authorize URL with a fresh
     * {@code state}, verifier and nonce. No request is made. Send the browser
     * to {@link AuthorizationRequest#getUrl()} and keep the request (its
     * {@link AuthorizationRequest#toJson() JSON} in the user's session, server
     * side: it is secret) until the browser comes back to the redirect URI.
     *
     * @throws BearerException (INVALID_CONFIG) when the configuration cannot start a sign-in
     */
    public static AuthorizationRequest authorizeStart(String configJson) {
        return authorizeStart(encode(configJson));
    }

    /** As {@link #authorizeStart(String)}, for a configuration given as a map. */
    public static AuthorizationRequest authorizeStart(Map<String, ?> config) {
        return authorizeStart(encode(Json.write(Objects.requireNonNull(config, "config"))));
    }

    /**
     * Finishes a sign-in from the URL the browser came back to: checks the
     * redirect URI and the {@code state}, then exchanges the code (or, for
     * Implicit, reads the token from the fragment).
     *
     * @param redirectUrl the full URL the browser was redirected to, query and fragment included
     * @throws BearerException {@code invalid-callback} (INVALID_ARGUMENT) for a wrong or missing
     *     state; {@code authorization-denied} (REJECTED) when the user declined;
     *     {@code invalid-grant} (REJECTED) for a used code or a wrong verifier
     */
    public static TokenResponse authorizeComplete(String configJson, AuthorizationRequest request,
            String redirectUrl) {
        return authorizeComplete(encode(configJson), Objects.requireNonNull(request, "request").toJson(),
                redirectUrl);
    }

    /** As {@link #authorizeComplete(String, AuthorizationRequest, String)}, with the request's kept JSON. */
    public static TokenResponse authorizeComplete(String configJson, String requestJson, String redirectUrl) {
        return authorizeComplete(encode(configJson), requestJson, redirectUrl);
    }

    /** As {@link #authorizeComplete(String, AuthorizationRequest, String)}, for a configuration map. */
    public static TokenResponse authorizeComplete(Map<String, ?> config, AuthorizationRequest request,
            String redirectUrl) {
        return authorizeComplete(encode(Json.write(Objects.requireNonNull(config, "config"))),
                Objects.requireNonNull(request, "request").toJson(), redirectUrl);
    }

    /** As {@link #authorizeComplete(String, String, String)}, for a configuration map. */
    public static TokenResponse authorizeComplete(Map<String, ?> config, String requestJson, String redirectUrl) {
        return authorizeComplete(encode(Json.write(Objects.requireNonNull(config, "config"))), requestJson,
                redirectUrl);
    }

    /** The version of the loaded libbearer, e.g. {@code 0.1.0}. */
    public static String version() {
        Native.load();
        return Native.text(Native.version());
    }

    /**
     * Empties the process-wide token cache and closes pooled connections not
     * held by a client. Optional; useful before exit under a leak checker.
     */
    public static void globalCleanup() {
        Native.load();
        Native.globalCleanup();
    }

    /** Makes the library panic inside its guard: always throws the INTERNAL problem. For tests. */
    static void testPanic() {
        Native.load();
        Native.testPanic();
    }

    private static String fetchToken(byte[] config) {
        Native.load();
        return Native.text(Native.fetchToken(config));
    }

    private static TokenResponse fetchTokenResponse(byte[] config) {
        Native.load();
        return TokenResponse.parse(Native.fetchTokenResponse(config));
    }

    private static boolean tokenRefused(byte[] config, String token) {
        byte[] bytes = encode(token, "token", "token");
        Native.load();
        return Native.tokenRefused(config, bytes);
    }

    private static AuthorizationRequest authorizeStart(byte[] config) {
        Native.load();
        return AuthorizationRequest.fromNative(Native.text(Native.authorizeStart(config)));
    }

    private static TokenResponse authorizeComplete(byte[] config, String requestJson, String redirectUrl) {
        byte[] request = encode(requestJson, "requestJson", "authorization request");
        byte[] redirect = encode(redirectUrl, "redirectUrl", "redirect URL");
        Native.load();
        return TokenResponse.parse(Native.authorizeComplete(config, request, redirect));
    }

    /**
     * A configuration as the bytes the library reads. UTF-8, except that a
     * lone surrogate is written as the (invalid) bytes of its code unit, so
     * that text that is not Unicode reaches the library and comes back as its
     * invalid-argument problem instead of being silently replaced by '?'.
     *
     * @throws NullPointerException for null
     * @throws IllegalArgumentException for a NUL character, which a C string cannot carry
     */
    static byte[] encode(String text) {
        return encode(text, "configJson", "configuration");
    }

    /** As {@link #encode(String)}, naming {@code parameter} and {@code what} in the errors. */
    static byte[] encode(String text, String parameter, String what) {
        Objects.requireNonNull(text, parameter);
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == 0) {
                throw new IllegalArgumentException(
                        what + " contains a NUL character at index " + i + ", which C strings cannot carry");
            }
            int cp = c;
            if (Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                cp = Character.toCodePoint(c, text.charAt(++i));
            }
            if (cp < 0x80) {
                out.write(cp);
            } else if (cp < 0x800) {
                out.write(0xC0 | (cp >> 6));
                out.write(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out.write(0xE0 | (cp >> 12));
                out.write(0x80 | ((cp >> 6) & 0x3F));
                out.write(0x80 | (cp & 0x3F));
            } else {
                out.write(0xF0 | (cp >> 18));
                out.write(0x80 | ((cp >> 12) & 0x3F));
                out.write(0x80 | ((cp >> 6) & 0x3F));
                out.write(0x80 | (cp & 0x3F));
            }
        }
        return out.toByteArray();
    }

    /** Raw configuration bytes (from a file) as given, refusing NUL. */
    static byte[] checkBytes(byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                throw new IllegalArgumentException(
                        "configuration contains a NUL byte at offset " + i + ", which C strings cannot carry");
            }
        }
        return bytes;
    }
}
