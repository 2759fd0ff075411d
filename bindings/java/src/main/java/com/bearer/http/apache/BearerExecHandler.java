package com.bearer.http.apache;

import com.bearer.BearerClient;
import com.bearer.http.TokenRefusal;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.net.URIAuthority;

/**
 * Apache HttpClient 5 (classic): an exec-chain handler that sends every
 * request with the client's token and, when the API refuses it, reports the
 * refusal and sends the request once more with a new token.
 *
 * <pre>{@code
 * CloseableHttpClient http = HttpClients.custom()
 *         .addExecInterceptorAfter(ChainElement.REDIRECT.name(), BearerExecHandler.NAME, new BearerExecHandler(client))
 *         .build();
 * }</pre>
 *
 * <p>Where it sits matters because HttpClient 5.2's {@code RedirectExec} copies
 * the original request's headers, {@code Authorization} included, to every
 * redirect, whatever its host. After {@code REDIRECT} (above), every hop passes
 * through this handler: it sends the token on hops to the original request's
 * origin (scheme, host, port) and removes {@code Authorization} from the
 * others. Added with {@code addExecInterceptorFirst} (needed when redirects are
 * disabled, since then there is no {@code REDIRECT} to follow) only the first
 * hop carries the token, and a 401 from a later hop is passed through.
 *
 * <p>The request handed in is never changed: each attempt is a copy.
 * A body is replayed when {@code entity.isRepeatable()}; otherwise the 401
 * goes back to the caller (the refusal is still reported).
 */
public final class BearerExecHandler implements ExecChainHandler {
    /** The name to register the handler under. */
    public static final String NAME = "bearer";

    private final BearerClient client;
    private final boolean retryOnRefusal;

    /** A handler that retries once after a refusal. */
    public BearerExecHandler(BearerClient client) {
        this(client, true);
    }

    /**
     * @param retryOnRefusal false to report a refusal but return the 401
     *     instead of sending the request again
     */
    public BearerExecHandler(BearerClient client, boolean retryOnRefusal) {
        this.client = Objects.requireNonNull(client, "client");
        this.retryOnRefusal = retryOnRefusal;
    }

    @Override
    public ClassicHttpResponse execute(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain)
            throws IOException, HttpException {
        if (!sameOrigin(request, scope.originalRequest)) {
            ClassicHttpRequest stripped = ClassicRequestBuilder.copy(request).build();
            stripped.removeHeaders(HttpHeaders.AUTHORIZATION);
            return chain.proceed(stripped, scope);
        }
        String token = client.getToken();
        ClassicHttpResponse response = chain.proceed(withToken(request, token), scope);
        if (response.getCode() != 401 || !TokenRefusal.isRefusal(401, challenges(response))
                || !answers(scope, token)) {
            return response;
        }
        HttpEntity entity = request.getEntity();
        boolean replayable = entity == null || entity.isRepeatable();
        String next = TokenRefusal.afterRefusal(client, token, retryOnRefusal, replayable);
        if (next == null) {
            return response;
        }
        EntityUtils.consume(response.getEntity());
        response.close();
        return chain.proceed(withToken(request, next), scope);
    }

    private static ClassicHttpRequest withToken(ClassicHttpRequest request, String token) {
        ClassicHttpRequest copy = ClassicRequestBuilder.copy(request).build();
        copy.setHeader(HttpHeaders.AUTHORIZATION, TokenRefusal.header(token));
        return copy;
    }

    /**
     * Whether the response answers the request that carried {@code token}: not
     * so when, below this handler, a redirect was followed to a hop sent
     * without it.
     */
    private static boolean answers(ExecChain.Scope scope, String token) {
        HttpRequest sent = scope.clientContext.getRequest();
        if (sent == null) {
            return true;
        }
        Header header = sent.getFirstHeader(HttpHeaders.AUTHORIZATION);
        return header != null && token.equals(TokenRefusal.tokenOf(header.getValue()));
    }

    private static List<String> challenges(ClassicHttpResponse response) {
        List<String> values = new ArrayList<>();
        for (Header header : response.getHeaders(HttpHeaders.WWW_AUTHENTICATE)) {
            values.add(header.getValue());
        }
        return values;
    }

    /**
     * Same scheme, host and port, read from the request's parts (no URI is
     * parsed). A request without an authority (a path, sent with
     * {@code execute(HttpHost, request)}) is the same origin only as another
     * one without: a redirect to an absolute URL does not get the token.
     */
    private static boolean sameOrigin(HttpRequest request, HttpRequest original) {
        if (original == null || original == request) {
            return true;
        }
        URIAuthority authority = request.getAuthority();
        URIAuthority originalAuthority = original.getAuthority();
        if (authority == null || originalAuthority == null) {
            return authority == null && originalAuthority == null;
        }
        String scheme = request.getScheme() == null ? "http" : request.getScheme();
        String originalScheme = original.getScheme() == null ? "http" : original.getScheme();
        return scheme.equalsIgnoreCase(originalScheme)
                && authority.getHostName().equalsIgnoreCase(originalAuthority.getHostName())
                && port(scheme, authority) == port(originalScheme, originalAuthority);
    }

    private static int port(String scheme, URIAuthority authority) {
        if (authority.getPort() >= 0) {
            return authority.getPort();
        }
        return scheme.equalsIgnoreCase("https") ? 443 : scheme.equalsIgnoreCase("http") ? 80 : -1;
    }

    @Override
    public String toString() {
        return "BearerExecHandler[" + client + ", retryOnRefusal=" + retryOnRefusal + "]";
    }
}
