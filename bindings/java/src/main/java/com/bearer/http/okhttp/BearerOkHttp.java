package com.bearer.http.okhttp;

import com.bearer.BearerClient;
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
                .header(TokenRefusal.AUTHORIZATION, TokenRefusal.header(client.getToken()))
                .build());
    }

    @Override
    public Request authenticate(Route route, Response response) {
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
        String next = TokenRefusal.afterRefusal(client, token, retryOnRefusal, replayable);
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
