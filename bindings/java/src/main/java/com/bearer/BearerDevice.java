package com.bearer;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A sign-in on a device without a browser (the device authorization grant,
 * RFC 8628): the user opens {@link #getVerificationUri()} on another device
 * and types {@link #getUserCode()}, while {@link #poll()} waits for the
 * answer.
 *
 * <pre>{@code
 * try (BearerDevice device = BearerDevice.start(config)) {
 *     System.out.println("Open " + device.getVerificationUri() + " and enter " + device.getUserCode());
 *     TokenResponse tokens = device.poll();
 * }
 * }</pre>
 *
 * <p>The configuration has {@code "grant_type": "device_code"} and a
 * {@code device_authorization_url} (or an {@code issuer} whose discovery
 * document names one). {@link #poll()} blocks the calling thread, asking the
 * token endpoint every {@link #getInterval()} seconds (5 more after a
 * {@code slow_down}); {@link #pollAsync()} does it on another thread, and
 * cancelling its future cancels the poll. {@link #cancel()} ends a poll in
 * progress at once, from any thread, and every later one. One poll at a
 * time: a second while one runs is an {@link IllegalStateException}.
 * {@link #close()} cancels a poll in progress, waits for it to return, and
 * frees the native handle; a device sign-in never closed is freed by a
 * {@link Cleaner} once unreachable.
 */
public final class BearerDevice implements AutoCloseable {
    private final NativeHandle handle;
    private final Cleaner.Cleanable cleanable;
    private final AtomicBoolean polling = new AtomicBoolean();
    private final String userCode;
    private final String verificationUri;
    private final String verificationUriComplete;
    private final long expiresIn;
    private final long interval;

    private BearerDevice(byte[] config) {
        Native.load();
        byte[][] jsonOut = new byte[1][];
        this.handle = new NativeHandle(Native.deviceStart(config, jsonOut), Native::deviceFree, "BearerDevice");
        this.cleanable = NativeHandle.CLEANER.register(this, handle);
        Map<String, Object> members = Json.parseObject(Native.text(jsonOut[0]));
        this.userCode = (String) members.get("user_code");
        this.verificationUri = (String) members.get("verification_uri");
        Object complete = members.get("verification_uri_complete");
        this.verificationUriComplete = complete instanceof String ? (String) complete : null;
        this.expiresIn = number(members.get("expires_in"));
        this.interval = number(members.get("interval"));
    }

    private static long number(Object value) {
        return value instanceof Number ? ((Number) value).longValue() : 0L;
    }

    /**
     * Asks the device authorization endpoint for a code to show the user.
     *
     * @throws BearerException {@code invalid-config} (INVALID_CONFIG) when the configuration
     *     cannot start a device sign-in (e.g. no {@code device_authorization_url} or
     *     {@code issuer}); the endpoint's refusal (REJECTED) or unavailability
     * @throws NullPointerException when {@code configJson} is null
     */
    public static BearerDevice start(String configJson) {
        return new BearerDevice(Bearer.encode(configJson));
    }

    /** As {@link #start(String)}, for a configuration given as a map. */
    public static BearerDevice start(Map<String, ?> config) {
        return new BearerDevice(Bearer.encode(Json.write(Objects.requireNonNull(config, "config"))));
    }

    /** The code the user types at the verification URI, e.g. {@code ABCD-EFGH}. */
    public String getUserCode() {
        return userCode;
    }

    /** Where the user goes to enter the code. */
    public String getVerificationUri() {
        return verificationUri;
    }

    /** The verification URI with the code in it (for a QR code), when the server gave one. */
    public Optional<String> getVerificationUriComplete() {
        return Optional.ofNullable(verificationUriComplete);
    }

    /** Seconds the code was valid for when it was issued. */
    public long getExpiresIn() {
        return expiresIn;
    }

    /** Seconds between two polls of the token endpoint, as the server asked. */
    public long getInterval() {
        return interval;
    }

    /**
     * Blocks the calling thread until the user approves (the token response,
     * with a refresh token when {@code offline_access} was asked for), denies,
     * or the code expires, or until {@link #cancel()}. Not interruptible:
     * call {@link #cancel()} to stop it.
     *
     * @throws BearerException {@code authorization-denied} (REJECTED) when the user declined;
     *     {@code device-code-expired} (REJECTED) when nobody answered in time;
     *     {@code cancelled} (CANCELLED) after {@link #cancel()} or {@link #close()}
     * @throws IllegalStateException after {@link #close()}, or while another poll runs
     */
    public TokenResponse poll() {
        if (!polling.compareAndSet(false, true)) {
            throw new IllegalStateException("BearerDevice is already polling");
        }
        try {
            return TokenResponse.parse(handle.call(Native::devicePoll));
        } finally {
            polling.set(false);
            // The cleaner must not free the handle while the native poll runs.
            Reference.reachabilityFence(this);
        }
    }

    /**
     * {@link #poll()} on a thread of its own (a daemon). Cancelling the future
     * (or completing it by other means, such as {@code orTimeout}) while the
     * poll runs cancels the poll; {@code get()} then throws a
     * {@link CancellationException}. A failure of the poll completes it
     * exceptionally with the {@link BearerException}.
     */
    public CompletableFuture<TokenResponse> pollAsync() {
        return pollAsync(task -> {
            Thread thread = new Thread(task, "bearer-device-poll");
            thread.setDaemon(true);
            thread.start();
        });
    }

    /** As {@link #pollAsync()}, with the blocking poll run by {@code executor}. */
    public CompletableFuture<TokenResponse> pollAsync(Executor executor) {
        Objects.requireNonNull(executor, "executor");
        CompletableFuture<TokenResponse> future = new CompletableFuture<>();
        AtomicBoolean returned = new AtomicBoolean();
        try {
            executor.execute(() -> {
                TokenResponse tokens = null;
                Throwable failure = null;
                try {
                    tokens = poll();
                } catch (Throwable e) {
                    failure = e;
                }
                // Set before completing, so that only a future finished from outside cancels the poll.
                returned.set(true);
                if (failure == null) {
                    future.complete(tokens);
                } else {
                    future.completeExceptionally(failure);
                }
            });
        } catch (RejectedExecutionException e) {
            future.completeExceptionally(e);
            return future;
        }
        future.whenComplete((tokens, failure) -> {
            if (!returned.get()) {
                cancel();
            }
        });
        return future;
    }

    /**
     * Makes a poll in progress throw the {@code cancelled} problem (CANCELLED)
     * at once, and every later poll too. Any thread; after {@link #close()} it
     * does nothing.
     */
    public void cancel() {
        handle.callIfLive(Native::deviceCancel);
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return handle.isFreed();
    }

    /** Cancels a poll in progress, waits for it, and frees the handle. A second close does nothing. */
    @Override
    public void close() {
        cancel();
        cleanable.clean();
    }

    /** The user code only (it is shown to the user anyway); the device code never leaves the library. */
    @Override
    public String toString() {
        return "BearerDevice[user_code=" + userCode + (isClosed() ? ", closed]" : "]");
    }
}
