package com.bearer;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * A native app's or script's sign-in (RFC 8252): a listener on 127.0.0.1
 * that takes the browser's one redirect and exchanges the code (PKCE S256).
 *
 * <pre>{@code
 * try (BearerLogin login = BearerLogin.start(config)) {
 *     Desktop.getDesktop().browse(URI.create(login.getUrl()));
 *     TokenResponse tokens = login.await(Duration.ofMinutes(2));
 * }
 * }</pre>
 *
 * <p>The configuration is the code-flow one; without a {@code redirect_uri}
 * the listener picks {@code http://127.0.0.1:<free port>/callback}.
 * {@link #await} blocks only the calling thread. {@link #close()} closes the
 * listener; it waits for an {@code await} in progress and may be called more
 * than once. A login never closed is freed by a {@link Cleaner} once
 * unreachable.
 */
public final class BearerLogin implements AutoCloseable {
    private final NativeHandle handle;
    private final Cleaner.Cleanable cleanable;
    private final String url;

    private BearerLogin(byte[] config) {
        Native.load();
        byte[][] urlOut = new byte[1][];
        this.handle = new NativeHandle(Native.loginStart(config, urlOut), Native::loginFree, "BearerLogin");
        this.cleanable = NativeHandle.CLEANER.register(this, handle);
        this.url = Native.text(urlOut[0]);
    }

    /**
     * Starts listening and builds the authorize URL.
     *
     * @throws BearerException (INVALID_CONFIG) when the configuration cannot sign a user in,
     *     or its {@code redirect_uri} is not an {@code http://127.0.0.1:PORT/path}
     * @throws NullPointerException when {@code configJson} is null
     */
    public static BearerLogin start(String configJson) {
        return new BearerLogin(Bearer.encode(configJson));
    }

    /** As {@link #start(String)}, for a configuration given as a map. */
    public static BearerLogin start(Map<String, ?> config) {
        return new BearerLogin(Bearer.encode(Json.write(Objects.requireNonNull(config, "config"))));
    }

    /** The authorize URL to open in the user's browser. It carries the state, so log it with care. */
    public String getUrl() {
        return url;
    }

    /**
     * Waits up to {@code timeout} (at most about 24 days; millisecond
     * precision) for the browser's redirect, answers the browser with a short
     * page, and exchanges the code. A request without this login's state
     * (forged, stale) gets a 400 and the wait goes on.
     *
     * @throws BearerException {@code timeout} (TIMEOUT) when no redirect came in
     *     time (the login goes on: await again); {@code invalid-callback}
     *     (INVALID_ARGUMENT) for a redirect with this login's state but no
     *     code; {@code invalid-argument}
     *     (INVALID_ARGUMENT) once the login has finished, successfully or not;
     *     {@code authorization-denied} (REJECTED) when the user declined
     * @throws IllegalStateException after {@link #close()}
     * @throws IllegalArgumentException for a negative timeout
     */
    public TokenResponse await(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative timeout " + timeout);
        }
        int millis;
        try {
            millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        } catch (ArithmeticException e) {
            millis = Integer.MAX_VALUE;
        }
        int ms = millis;
        try {
            return TokenResponse.parse(handle.call(pointer -> Native.loginWait(pointer, ms)));
        } finally {
            // The cleaner must not free the login while the native wait runs.
            Reference.reachabilityFence(this);
        }
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return handle.isFreed();
    }

    /** Closes the listener and frees the login. Later calls fail; a second close does nothing. */
    @Override
    public void close() {
        cleanable.clean();
    }

    /** Shows no secret (the URL carries the state). */
    @Override
    public String toString() {
        return isClosed() ? "BearerLogin[closed]" : "BearerLogin[open]";
    }
}
