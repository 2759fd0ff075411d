package com.bearer.http.jdk;

import com.bearer.BearerClient;
import com.bearer.http.TokenRefusal;
import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;

/**
 * {@code java.net.http.HttpClient}, which has no interceptors: a client that
 * wraps another, sends every request with the bearer client's token and, when
 * the API refuses it, reports the refusal and sends the request once more
 * with a new token. It is an {@link HttpClient}, so code written for one
 * takes it unchanged.
 *
 * <pre>{@code
 * HttpClient http = BearerHttpClient.wrap(HttpClient.newHttpClient(), client);
 * }</pre>
 *
 * <p>Redirects: the JDK's own client (17) copies {@code Authorization} to a
 * redirect on another host, so the wrapped client must not follow redirects
 * ({@link HttpClient.Redirect#NEVER}, the JDK's default; {@link #wrap} refuses
 * another). This client follows them instead, with the policy given to
 * {@link #wrap(HttpClient, BearerClient, HttpClient.Redirect, boolean)} (the
 * JDK's rules: {@code NORMAL} never goes from https to http; 303, and a POST
 * answered 301 or 302, become a GET without body; at most five hops), and
 * sends the token only to the origin (scheme, host, port) of the request.
 *
 * <p>A body is replayed when the request has none or it comes from
 * {@code BodyPublishers.ofString}, {@code ofByteArray}, {@code ofByteArrays},
 * {@code ofFile} or {@code noBody}. {@code ofInputStream}, {@code fromPublisher}
 * and {@code concat} may not give the same bytes twice, so after a refusal of
 * such a request the 401 goes back to the caller (the refusal is reported).
 *
 * <p>{@code sendAsync} runs the exchange on the wrapped client's executor (a
 * pool of daemon threads when it has none), since getting a token may block.
 * Push promises are not accepted.
 */
public final class BearerHttpClient extends HttpClient {
    private static final Set<String> REPLAYABLE = Set.of(
            "jdk.internal.net.http.RequestPublishers$StringPublisher",
            "jdk.internal.net.http.RequestPublishers$ByteArrayPublisher",
            "jdk.internal.net.http.RequestPublishers$IterablePublisher",
            "jdk.internal.net.http.RequestPublishers$FilePublisher",
            "jdk.internal.net.http.RequestPublishers$EmptyPublisher");
    private static final int MAX_REDIRECTS = 5;
    private static final ExecutorService ASYNC = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "bearer-http-async");
        thread.setDaemon(true);
        return thread;
    });

    private final HttpClient inner;
    private final BearerClient client;
    private final Redirect redirects;
    private final boolean retryOnRefusal;

    private BearerHttpClient(HttpClient inner, BearerClient client, Redirect redirects, boolean retryOnRefusal) {
        this.inner = Objects.requireNonNull(inner, "inner");
        this.client = Objects.requireNonNull(client, "client");
        this.redirects = Objects.requireNonNull(redirects, "redirects");
        this.retryOnRefusal = retryOnRefusal;
        if (inner.followRedirects() != Redirect.NEVER) {
            throw new IllegalArgumentException("the wrapped HttpClient follows redirects (" + inner.followRedirects()
                    + ") and would send the token to other hosts; build it with followRedirects(Redirect.NEVER)"
                    + " and pass the policy to BearerHttpClient.wrap");
        }
    }

    /** {@code inner} with bearer tokens; redirects are not followed, a refusal is retried once. */
    public static BearerHttpClient wrap(HttpClient inner, BearerClient client) {
        return new BearerHttpClient(inner, client, Redirect.NEVER, true);
    }

    /**
     * @param inner a client that does not follow redirects
     * @param redirects the redirects this client follows (token only to the request's origin)
     * @param retryOnRefusal false to report a refusal but return the 401
     *     instead of sending the request again
     * @throws IllegalArgumentException when {@code inner} follows redirects
     */
    public static BearerHttpClient wrap(HttpClient inner, BearerClient client, Redirect redirects,
            boolean retryOnRefusal) {
        return new BearerHttpClient(inner, client, redirects, retryOnRefusal);
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(handler, "handler");
        URI origin = request.uri();
        HttpRequest hop = request;
        boolean retried = false;
        String token = null;
        for (int hops = 0; ; ) {
            boolean ours = TokenRefusal.sameOrigin(hop.uri(), origin);
            if (ours && token == null) {
                token = client.getToken();
            }
            HttpRequest sent = ours ? withToken(hop, token) : withoutToken(hop);
            boolean mayRetry = ours && !retried;
            HttpResponse<Object> response = inner.send(sent, info -> subscriber(info, handler, mayRetry));
            Object body = response.body();
            if (body instanceof Buffered) {
                byte[] bytes = ((Buffered) body).bytes;
                String next = TokenRefusal.afterRefusal(client, token, retryOnRefusal, replayable(hop));
                if (next != null) {
                    token = next;
                    retried = true;
                    continue;
                }
                return new Response<>(response, replay(response, handler, bytes));
            }
            if (body instanceof Discarded) {
                HttpRequest target = redirect(hop, response);
                if (target != null && ++hops <= MAX_REDIRECTS) {
                    if (!TokenRefusal.sameOrigin(target.uri(), origin)) {
                        token = null;
                    }
                    hop = target;
                    continue;
                }
                // Not followed after all: the caller gets the 3xx, its body read by its own handler.
                return new Response<>(response, replay(response, handler, ((Discarded) body).bytes));
            }
            return cast(response);
        }
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request,
            HttpResponse.BodyHandler<T> handler) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(handler, "handler");
        Executor executor = inner.executor().orElse(ASYNC);
        return CompletableFuture.supplyAsync(() -> {
            try {
                return send(request, handler);
            } catch (IOException e) {
                throw new CompletionException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CompletionException(e);
            }
        }, executor);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request,
            HttpResponse.BodyHandler<T> handler, HttpResponse.PushPromiseHandler<T> pushPromiseHandler) {
        return sendAsync(request, handler);
    }

    /**
     * What reads a body: the caller's handler, except for a refusal that may
     * be retried (buffered, to be handed over if it is not) and a redirect
     * this client follows (buffered too, for the same reason).
     */
    private <T> HttpResponse.BodySubscriber<Object> subscriber(HttpResponse.ResponseInfo info,
            HttpResponse.BodyHandler<T> handler, boolean mayRetry) {
        if (mayRetry && TokenRefusal.isRefusal(info.statusCode(), info.headers().allValues("WWW-Authenticate"))) {
            return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofByteArray(), Buffered::new);
        }
        if (redirects != Redirect.NEVER && isRedirect(info.statusCode())
                && info.headers().firstValue("Location").isPresent()) {
            return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofByteArray(),
                    Discarded::new);
        }
        return HttpResponse.BodySubscribers.mapping(handler.apply(info), body -> body);
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    /** The next hop for a redirect response, or null when the policy says no. */
    private HttpRequest redirect(HttpRequest hop, HttpResponse<?> response) {
        URI target;
        try {
            target = hop.uri().resolve(response.headers().firstValue("Location").orElseThrow());
        } catch (IllegalArgumentException e) {
            return null;
        }
        String scheme = target.getScheme() == null ? "" : target.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return null;
        }
        if (redirects == Redirect.NORMAL && hop.uri().getScheme().equalsIgnoreCase("https") && scheme.equals("http")) {
            return null;
        }
        int status = response.statusCode();
        HttpRequest.Builder next = HttpRequest.newBuilder(hop, (name, value) -> true).uri(target);
        if (status == 303 || ((status == 301 || status == 302) && hop.method().equals("POST"))) {
            next.GET();
        } else if ((status == 307 || status == 308) && !replayable(hop)) {
            return null;
        }
        return next.build();
    }

    private static HttpRequest withToken(HttpRequest request, String token) {
        return HttpRequest.newBuilder(request, (name, value) -> true)
                .setHeader(TokenRefusal.AUTHORIZATION, TokenRefusal.header(token))
                .build();
    }

    private static HttpRequest withoutToken(HttpRequest request) {
        if (request.headers().firstValue(TokenRefusal.AUTHORIZATION).isEmpty()) {
            return request;
        }
        return HttpRequest.newBuilder(request, (name, value) -> !name.equalsIgnoreCase(TokenRefusal.AUTHORIZATION))
                .build();
    }

    /** Whether the request's body gives the same bytes when sent again (see the class comment). */
    static boolean replayable(HttpRequest request) {
        Optional<HttpRequest.BodyPublisher> body = request.bodyPublisher();
        return body.isEmpty() || REPLAYABLE.contains(body.get().getClass().getName());
    }

    /** The caller's handler fed the bytes already read. */
    private static <T> T replay(HttpResponse<?> response, HttpResponse.BodyHandler<T> handler, byte[] bytes)
            throws IOException {
        HttpResponse.ResponseInfo info = new HttpResponse.ResponseInfo() {
            @Override
            public int statusCode() {
                return response.statusCode();
            }

            @Override
            public HttpHeaders headers() {
                return response.headers();
            }

            @Override
            public HttpClient.Version version() {
                return response.version();
            }
        };
        HttpResponse.BodySubscriber<T> subscriber = handler.apply(info);
        subscriber.onSubscribe(new Flow.Subscription() {
            private boolean done;

            @Override
            public void request(long n) {
                if (n > 0 && !done) {
                    done = true;
                    if (bytes.length > 0) {
                        subscriber.onNext(List.of(ByteBuffer.wrap(bytes)));
                    }
                    subscriber.onComplete();
                }
            }

            @Override
            public void cancel() {
                done = true;
            }
        });
        try {
            return subscriber.getBody().toCompletableFuture().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the response body", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(e.getCause());
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> HttpResponse<T> cast(HttpResponse<Object> response) {
        return (HttpResponse<T>) (HttpResponse<?>) response;
    }

    /** A body held back: a refusal that may be retried. */
    private static final class Buffered {
        final byte[] bytes;

        Buffered(byte[] bytes) {
            this.bytes = bytes;
        }
    }

    /** A body held back: a redirect this client follows. */
    private static final class Discarded {
        final byte[] bytes;

        Discarded(byte[] bytes) {
            this.bytes = bytes;
        }
    }

    /** A response whose body was read by the caller's handler after the fact. */
    private static final class Response<T> implements HttpResponse<T> {
        private final HttpResponse<?> response;
        private final T body;

        Response(HttpResponse<?> response, T body) {
            this.response = response;
            this.body = body;
        }

        @Override
        public int statusCode() {
            return response.statusCode();
        }

        @Override
        public HttpRequest request() {
            return response.request();
        }

        @Override
        public Optional<HttpResponse<T>> previousResponse() {
            return Optional.empty();
        }

        @Override
        public HttpHeaders headers() {
            return response.headers();
        }

        @Override
        public T body() {
            return body;
        }

        @Override
        public Optional<SSLSession> sslSession() {
            return response.sslSession();
        }

        @Override
        public URI uri() {
            return response.uri();
        }

        @Override
        public HttpClient.Version version() {
            return response.version();
        }
    }

    // Everything else is the wrapped client's.

    @Override
    public Optional<CookieHandler> cookieHandler() {
        return inner.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
        return inner.connectTimeout();
    }

    /** The redirects this client follows (the wrapped one follows none). */
    @Override
    public Redirect followRedirects() {
        return redirects;
    }

    @Override
    public Optional<ProxySelector> proxy() {
        return inner.proxy();
    }

    @Override
    public SSLContext sslContext() {
        return inner.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
        return inner.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
        return inner.authenticator();
    }

    @Override
    public HttpClient.Version version() {
        return inner.version();
    }

    @Override
    public Optional<Executor> executor() {
        return inner.executor();
    }

    @Override
    public String toString() {
        return "BearerHttpClient[" + inner + ", " + client + ", redirects=" + redirects + ", retryOnRefusal="
                + retryOnRefusal + "]";
    }
}
