package com.bearer;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A configuration and its cached token. The token is fetched on first use
 * and again shortly before it expires; in between, calls cost no request.
 * One client may be shared by any number of threads: when many ask for an
 * expired token at once, one request goes out and all get its result.
 *
 * <pre>{@code
 * try (BearerClient client = BearerClient.fromFile(Path.of("credentials.json"))) {
 *     request.setHeader("Authorization", client.getAuthorizationHeader());
 * }
 * }</pre>
 *
 * <p>A configuration with {@code "grant_type": "refresh_token"} and a user's
 * {@code refresh_token} makes a client that refreshes instead, following the
 * server's rotation ({@link TokenResponse#getRefreshToken()} is the current one).
 *
 * <p>{@link #close()} frees the native handle; it waits for calls in progress
 * and may be called more than once. A client that is never closed is freed by
 * a {@link Cleaner} once unreachable, but closing is what makes it prompt.
 */
public final class BearerClient implements AutoCloseable {
    private final NativeHandle handle;
    private final Cleaner.Cleanable cleanable;

    private BearerClient(byte[] config) {
        Native.load();
        this.handle = new NativeHandle(Native.clientNew(config), Native::clientFree, "BearerClient");
        this.cleanable = NativeHandle.CLEANER.register(this, handle);
    }

    /**
     * A client for a credentials JSON in either seed shape. No request is made
     * until a token is asked for.
     *
     * @throws BearerException (INVALID_CONFIG) when the configuration is refused
     * @throws NullPointerException when {@code configJson} is null
     */
    public static BearerClient fromJson(String configJson) {
        return new BearerClient(Bearer.encode(configJson));
    }

    /** A client for a configuration given as a map, written as JSON. */
    public static BearerClient fromMap(Map<String, ?> config) {
        return new BearerClient(Bearer.encode(Json.write(Objects.requireNonNull(config, "config"))));
    }

    /**
     * A client for a credentials file such as the seed's
     * {@code data_cosmos_api_credentials.json}. The bytes go to the library as
     * they are, so a file that is not UTF-8 is its invalid-argument problem.
     */
    public static BearerClient fromFile(Path credentialsFile) throws IOException {
        Objects.requireNonNull(credentialsFile, "credentialsFile");
        return new BearerClient(Bearer.checkBytes(Files.readAllBytes(credentialsFile)));
    }

    /** A builder for the Auth0 shape, or the Cobuilder shape after {@link Builder#cobuilder()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A valid access token: the cached one while fresh, else a new one. */
    public String getToken() {
        return Native.text(call(Native::clientToken));
    }

    /** The token response for a valid token ({@code expiresIn} counts down while cached). */
    public TokenResponse getTokenResponse() {
        return TokenResponse.parse(call(Native::clientTokenResponse));
    }

    /**
     * Why the last refresh failed while the cached token was served, if it did.
     * A token due for refresh but still valid is returned by {@link #getToken()}
     * even when its refresh fails (serve-stale); the failure is kept here, once
     * per run of failures. The exception is returned, not thrown; its extensions
     * carry {@code serving_cached_token_until} (unix seconds) and its code is
     * the status the failed refresh would have returned (e.g.
     * {@link BearerStatus#UNAVAILABLE}).
     *
     * @throws IllegalStateException when the client is closed
     */
    public Optional<BearerException> takeRefreshProblem() {
        return Optional.ofNullable(call(Native::clientTakeRefreshProblem));
    }

    /** The {@code Authorization} header value for a valid token, e.g. {@code Bearer eyJ...}. */
    public String getAuthorizationHeader() {
        return Native.text(call(Native::clientAuthorizationHeader));
    }

    /**
     * Tells the client that an API refused {@code token} (an HTTP 401 with
     * {@code WWW-Authenticate: Bearer error="invalid_token"}, or a bare 401):
     * compare-and-invalidate. The cached token is dropped (in memory and in a
     * shared store) only if it is still {@code token}, so a late refusal of a
     * token already replaced does nothing; at most one drop per client every
     * two seconds. The next {@link #getToken()} fetches a new token when this
     * returns true. The HTTP integrations under {@code com.bearer.http} call it
     * for you.
     *
     * @return whether the token was dropped
     * @throws NullPointerException when {@code token} is null
     * @throws IllegalStateException when the client is closed
     */
    public boolean tokenRefused(String token) {
        byte[] bytes = Bearer.encode(token, "token", "token");
        return call(pointer -> Native.clientTokenRefused(pointer, bytes));
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return handle.isFreed();
    }

    /** Frees the native client, after calls in progress finish. Later calls fail; a second close does nothing. */
    @Override
    public void close() {
        cleanable.clean();
    }

    @Override
    public String toString() {
        return isClosed() ? "BearerClient[closed]" : "BearerClient[open]";
    }

    private <T> T call(NativeHandle.Call<T> call) {
        try {
            return handle.call(call);
        } finally {
            // The cleaner must not free the handle while the native call runs.
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Builds the credentials JSON from typed values, escaping them properly,
     * and a client from it. Unset values are left out, so the library's own
     * message names a missing key. Keys are those of the Auth0 shape
     * ({@code client_id}, {@code client_secret}, {@code audience},
     * {@code grant_type}) unless {@link #cobuilder()} picks the Cobuilder ones
     * ({@code clientId}, {@code clientSecret}, {@code audienceUrl}).
     */
    public static final class Builder {
        private boolean cobuilder;
        private String clientId;
        private String clientSecret;
        private String audience;
        private final Map<String, Object> options = new LinkedHashMap<>();
        private final Map<String, Object> extraParams = new LinkedHashMap<>();

        private Builder() {}

        /** Use the Cobuilder key names. */
        public Builder cobuilder() {
            this.cobuilder = true;
            return this;
        }

        public Builder clientId(String clientId) {
            this.clientId = clientId;
            return this;
        }

        public Builder clientSecret(String clientSecret) {
            this.clientSecret = clientSecret;
            return this;
        }

        /** The API the token is for ({@code audience}, or {@code audienceUrl} for Cobuilder). */
        public Builder audience(String audience) {
            this.audience = audience;
            return this;
        }

        /** The token endpoint; defaults to the shape's public one. */
        public Builder tokenUrl(String tokenUrl) {
            return option("token_url", tokenUrl);
        }

        public Builder scope(String scope) {
            return option("scope", scope);
        }

        /** {@code client_secret_post} (default) or {@code client_secret_basic}. */
        public Builder clientAuth(String clientAuth) {
            return option("client_auth", clientAuth);
        }

        /** Request body encoding: {@code json} (default) or {@code form} (Auth0 only). */
        public Builder body(String body) {
            return option("body", body);
        }

        /** The overall deadline of a token request (default 30 s). */
        public Builder timeout(Duration timeout) {
            return option("timeout_ms", timeout == null ? null : timeout.toMillis());
        }

        /** PEM roots to trust instead of the bundled Mozilla roots. */
        public Builder caFile(Path caFile) {
            return option("ca_file", caFile == null ? null : caFile.toString());
        }

        /** {@code http://user:pass@host:port}; else the environment's proxy. */
        public Builder proxy(String proxy) {
            return option("proxy", proxy);
        }

        /** An extra field for the token request, e.g. Auth0's {@code organization}. */
        public Builder extraParam(String name, String value) {
            Objects.requireNonNull(name, "name");
            if (value == null) {
                extraParams.remove(name);
            } else {
                extraParams.put(name, value);
            }
            return this;
        }

        private Builder option(String key, Object value) {
            if (value == null) {
                options.remove(key);
            } else {
                options.put(key, value);
            }
            return this;
        }

        /** The credentials JSON this builder describes (it holds the secret: do not log it). */
        public String toJson() {
            Map<String, Object> config = new LinkedHashMap<>();
            putIfSet(config, cobuilder ? "clientId" : "client_id", clientId);
            putIfSet(config, cobuilder ? "clientSecret" : "client_secret", clientSecret);
            putIfSet(config, cobuilder ? "audienceUrl" : "audience", audience);
            if (!cobuilder) {
                config.put("grant_type", "client_credentials");
            }
            config.putAll(options);
            if (!extraParams.isEmpty()) {
                config.put("extra_params", extraParams);
            }
            return Json.write(config);
        }

        private static void putIfSet(Map<String, Object> config, String key, String value) {
            if (value != null) {
                config.put(key, value);
            }
        }

        /**
         * A client for this configuration.
         *
         * @throws BearerException (INVALID_CONFIG) when the library refuses it
         */
        public BearerClient build() {
            return fromJson(toJson());
        }

        @Override
        public String toString() {
            return "BearerClient.Builder[" + (cobuilder ? "cobuilder" : "auth0") + ", clientId=" + clientId + "]";
        }
    }
}
