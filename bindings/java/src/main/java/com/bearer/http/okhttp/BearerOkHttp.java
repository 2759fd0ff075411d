package com.bearer.http.okhttp;

import com.bearer.BearerClient;
import com.bearer.BearerException;
import com.bearer.http.TokenRefusal;
import java.io.IOException;
import java.util.Objects;
import okhttp3.Authenticator;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.Route;
import okhttp3.internal.http.UnrepeatableRequestBody;

/**
 * OkHttp 3: an application {@link Interceptor} that sends every request with
 * the client's token, and an {@link Authenticator} that, when the API refuses
 * it, reports the refusal and answers with the same request and a new token.
 * Register one object as both:
 *
 * <pre>{@code
 * BearerOkHttp bearer = new BearerOkHttp(client);
 * OkHttpClient http = new OkHttpClient.Builder().addInterceptor(bearer).authenticator(bearer).build();
 * }</pre>
 *
 * <p>OkHttp follows redirects below the application interceptor and drops
 * {@code Authorization} itself when a redirect changes scheme, host or port.
 * The authenticator retries once: a 401 after an earlier 401 goes back as is.
 * OkHttp 3.13 replays every request body except those marked
 * {@code UnrepeatableRequestBody} (its own streamed ones); so does this.
 * When no token can be had the call fails with a {@link TokenUnavailableException}
 * (an {@code IOException} whose cause is the {@link BearerException}).
 */
public final class BearerOkHttp implements Interceptor, Authenticator {
    private final BearerClient client;
    private final boolean retryOnRefusal;

    /** An interceptor and authenticator that retries once after a refusal. */
    public BearerOkHttp(BearerClient client) {
        this(client, true);
    }

    /**
     * @param retryOnRefusal false to report a refusal but return the 401
     *     instead of sending the request again
     */
    public BearerOkHttp(BearerClient client, boolean retryOnRefusal) {
        this.client = Objects.requireNonNull(client, "client");
        this.retryOnRefusal = retryOnRefusal;
    }

    /** {@code builder.addInterceptor(this).authenticator(this)}. */
    public OkHttpClient.Builder install(OkHttpClient.Builder builder) {
        return builder.addInterceptor(this).authenticator(this);
    }

    @Override
    public Response intercept(Interceptor.Chain chain) throws IOException {
        Request request = chain.request();
        return chain.proceed(request.newBuilder()
                .header(TokenRefusal.AUTHORIZATION, TokenRefusal.header(token()))
                .build());
    }

    private String token() throws TokenUnavailableException {
        try {
            return client.getToken();
        } catch (BearerException e) {
            throw new TokenUnavailableException(e);
        }
    }

    /**
     * No token could be had, so the request was not sent; {@link #getCause()}
     * and {@link #getProblem()} are the {@link BearerException}. An
     * {@code IOException} because OkHttp 3 hands only those to an enqueued
     * call's {@code Callback.onFailure} (any other exception ends on its
     * dispatcher thread and the callback never runs).
     */
    public static final class TokenUnavailableException extends IOException {
        private static final long serialVersionUID = 1L;

        TokenUnavailableException(BearerException problem) {
            super(problem.getMessage(), problem);
        }

        /** The problem the library reported. */
        public BearerException getProblem() {
            return (BearerException) getCause();
        }
    }

    @Override
    public Request authenticate(Route route, Response response) throws IOException {
        for (Response prior = response.priorResponse(); prior != null; prior = prior.priorResponse()) {
            if (prior.code() == 401) {
                return null; // this was the retry
            }
        }
        Request request = response.request();
        String token = TokenRefusal.tokenOf(request.header(TokenRefusal.AUTHORIZATION));
        if (token == null || !TokenRefusal.isRefusal(response.code(), response.headers("WWW-Authenticate"))) {
            return null;
        }
        boolean replayable = request.body() == null || !(request.body() instanceof UnrepeatableRequestBody);
        String next;
        try {
            next = TokenRefusal.afterRefusal(client, token, retryOnRefusal, replayable);
        } catch (BearerException e) {
            throw new TokenUnavailableException(e);
        }
        if (next == null) {
            return null;
        }
        return request.newBuilder().header(TokenRefusal.AUTHORIZATION, TokenRefusal.header(next)).build();
    }

    @Override
    public String toString() {
        return "BearerOkHttp[" + client + ", retryOnRefusal=" + retryOnRefusal + "]";
    }
}
