package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.bearer.HttpClients.Answer;
import com.bearer.HttpClients.Kind;
import com.bearer.http.TokenRefusal;
import com.bearer.http.jdk.BearerHttpClient;
import com.bearer.http.okhttp.BearerOkHttp;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every HTTP integration against the real library and the local server's
 * protected resource: the token attached, a refusal retried once with a new
 * token, everything else passed through, and no token sent to another origin.
 */
class HttpIntegrationTest {
    private static final int THREADS = 16;
    private static AuthServer other;
    private final AuthServer server = AuthServer.get();

    @BeforeAll
    static void startOther() {
        other = AuthServer.start();
    }

    @AfterAll
    static void stopOther() {
        other.stop();
    }

    private BearerClient client() {
        return BearerClient.fromMap(server.auth0(""));
    }

    private String api(String path) {
        return server.base + "/api/" + path;
    }

    /** POST /_revoke: every token issued so far is refused from now on. */
    private void revoke() throws IOException {
        HttpURLConnection connection = (HttpURLConnection) new URL(server.base + "/_revoke").openConnection();
        connection.setRequestMethod("POST");
        connection.setDoOutput(true);
        try (OutputStream out = connection.getOutputStream()) {
            out.write(new byte[0]);
        }
        try (InputStream in = connection.getInputStream()) {
            in.readAllBytes();
        }
        assertTrue(connection.getResponseCode() < 300, "revoke: " + connection.getResponseCode());
        connection.disconnect();
    }

    private static Map<String, Object> json(Answer answer) {
        return Json.parseObject(answer.body);
    }

    @SuppressWarnings("unchecked")
    private static long authorizationHeaders(Answer answer) {
        return ((List<Object>) json(answer).get("headers")).stream().filter("authorization"::equals).count();
    }

    /** The client has a token in its cache, so the deltas below count only what the request does. */
    private static void warm(BearerClient client) {
        client.getToken();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void tokenIsAttachedOnce(Kind kind) throws Exception {
        try (BearerClient client = client(); HttpClients http = kind.make.apply(client, true)) {
            Answer answer = http.get(api("whoami"));
            assertEquals(200, answer.status, answer.toString());
            assertEquals("demo-client@clients", json(answer).get("sub"));
            assertEquals(Boolean.TRUE, json(answer).get("authorization"));
            assertEquals(1, authorizationHeaders(answer), answer.body);
            // No retry marker either: no header the client did not ask for beyond the usual ones.
            assertFalse(answer.body.toLowerCase(java.util.Locale.ROOT).contains("retry"), answer.body);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void refusedTokenIsReplacedOnce(Kind kind) throws Exception {
        try (BearerClient client = client(); HttpClients http = kind.make.apply(client, true)) {
            String old = client.getToken();
            revoke();
            long auth0 = server.stat("auth0");
            long api = server.stat("api");
            Answer answer = http.get(api("whoami"));
            assertEquals(200, answer.status, answer.toString());
            assertEquals(1, authorizationHeaders(answer), answer.body);
            assertEquals(auth0 + 1, server.stat("auth0"), "one new token");
            assertEquals(api + 2, server.stat("api"), "the refused attempt and the retry");
            assertNotEquals(old, client.getToken());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void concurrentRefusalsShareOneNewToken(Kind kind) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (BearerClient client = client(); HttpClients http = kind.make.apply(client, true)) {
            warm(client);
            revoke();
            long auth0 = server.stat("auth0");
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Answer>> answers = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                answers.add(pool.submit(() -> {
                    start.await();
                    return http.get(api("whoami"));
                }));
            }
            start.countDown();
            for (Future<Answer> answer : answers) {
                Answer a = answer.get(30, TimeUnit.SECONDS);
                assertEquals(200, a.status, a.toString());
            }
            assertEquals(auth0 + 1, server.stat("auth0"), "one new token for " + THREADS + " refusals");
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void insufficientScopePassesThrough(Kind kind) throws Exception {
        try (BearerClient client = client(); HttpClients http = kind.make.apply(client, true)) {
            warm(client);
            long auth0 = server.stat("auth0");
            long api = server.stat("api");
            Answer answer = http.get(api("admin"));
            assertEquals(403, answer.status, answer.toString());
            assertEquals(auth0, server.stat("auth0"), "no new token");
            assertEquals(api + 1, server.stat("api"), "one attempt");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void refusalOfTheRetryIsReturned(Kind kind) throws Exception {
        try (BearerClient client = client(); HttpClients http = kind.make.apply(client, true)) {
            warm(client);
            long auth0 = server.stat("auth0");
            long api = server.stat("api");
            long refused = server.stat("api_refused");
            Answer answer = http.get(api("refuse"));
            assertEquals(401, answer.status, answer.toString());
            assertTrue(answer.body.contains("invalid_token"), answer.body);
            assertEquals(api + 2, server.stat("api"), "two attempts, not three");
            assertEquals(refused + 2, server.stat("api_refused"));
            assertEquals(auth0 + 1, server.stat("auth0"), "one new token");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void bodyIsReplayedOnTheRetry(Kind kind) throws Exception {
        try (BearerClient client = client(); HttpClients http = kind.make.apply(client, true)) {
            warm(client);
            revoke();
            long api = server.stat("api");
            String body = "{\"satellite\":\"é-1\",\"n\":42}";
            Answer answer = http.post(api("upload"), body);
            assertEquals(200, answer.status, answer.toString());
            assertEquals("POST", json(answer).get("method"));
            assertEquals(body, json(answer).get("body"));
            assertEquals(api + 2, server.stat("api"));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void streamedBodyIsNotReplayed(Kind kind) throws Exception {
        try (BearerClient client = client(); HttpClients http = kind.make.apply(client, true)) {
            String old = client.getToken();
            revoke();
            long api = server.stat("api");
            long auth0 = server.stat("auth0");
            Answer refused = http.postOnce(api("upload"), "read once");
            assertEquals(401, refused.status, refused.toString());
            assertEquals(api + 1, server.stat("api"), "not sent again");
            assertEquals(auth0, server.stat("auth0"), "no token fetched for a retry that cannot happen");
            // The refusal was reported: the next request gets a new token.
            Answer next = http.post(api("upload"), "again");
            assertEquals(200, next.status, next.toString());
            assertEquals("again", json(next).get("body"));
            assertEquals(auth0 + 1, server.stat("auth0"));
            assertNotEquals(old, client.getToken());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void crossOriginRedirectLosesTheToken(Kind kind) throws Exception {
        try (BearerClient client = client(); HttpClients http = kind.make.apply(client, true)) {
            String target = other.base + "/api/open";
            Answer answer = http.get(api("redirect?to=" + URLEncoder.encode(target, StandardCharsets.UTF_8)));
            assertEquals(200, answer.status, answer.toString());
            assertEquals("/api/open", json(answer).get("path"));
            assertEquals(Boolean.FALSE, json(answer).get("authorization"), answer.body);
        }
    }

    /** A redirect on the same origin keeps the token where the token reaches the hop at all. */
    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"APACHE_AFTER_REDIRECT", "OKHTTP", "JDK"})
    void sameOriginRedirectKeepsTheToken(Kind kind) throws Exception {
        try (BearerClient client = client(); HttpClients http = kind.make.apply(client, true)) {
            String target = api("whoami");
            Answer answer = http.get(api("redirect?to=" + URLEncoder.encode(target, StandardCharsets.UTF_8)));
            assertEquals(200, answer.status, answer.toString());
            assertEquals("demo-client@clients", json(answer).get("sub"));
            assertEquals(1, authorizationHeaders(answer), answer.body);
        }
    }

    /**
     * Added first, the handler sits above RedirectExec: redirects are followed
     * below it from the original request, without the token. The 401 such a
     * hop gets is not a refusal of the token, so it passes through.
     */
    @Test
    void apacheFirstSendsNoTokenOnRedirects() throws Exception {
        try (BearerClient client = client(); HttpClients http = Kind.APACHE_FIRST.make.apply(client, true)) {
            warm(client);
            long auth0 = server.stat("auth0");
            long api = server.stat("api");
            String target = api("whoami");
            Answer answer = http.get(api("redirect?to=" + URLEncoder.encode(target, StandardCharsets.UTF_8)));
            assertEquals(401, answer.status, answer.toString());
            assertEquals(api + 2, server.stat("api"), "the redirect and its hop, no retry");
            assertEquals(auth0, server.stat("auth0"), "nothing reported");
        }
    }

    /** A request given as a path with the target host apart gets the token too. */
    @Test
    void apacheRequestForAHost() throws Exception {
        try (BearerClient client = client();
                org.apache.hc.client5.http.impl.classic.CloseableHttpClient http =
                        org.apache.hc.client5.http.impl.classic.HttpClients.custom()
                                .addExecInterceptorAfter(org.apache.hc.client5.http.impl.ChainElement.REDIRECT.name(),
                                        com.bearer.http.apache.BearerExecHandler.NAME,
                                        new com.bearer.http.apache.BearerExecHandler(client))
                                .build()) {
            org.apache.hc.core5.http.HttpHost host = org.apache.hc.core5.http.HttpHost.create(server.base);
            String body = http.execute(host, new org.apache.hc.client5.http.classic.methods.HttpGet("/api/whoami"),
                    response -> org.apache.hc.core5.http.io.entity.EntityUtils.toString(response.getEntity()));
            assertEquals("demo-client@clients", Json.parseObject(body).get("sub"), body);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void retryOffReturnsTheRefusal(Kind kind) throws Exception {
        try (BearerClient client = client(); HttpClients http = kind.make.apply(client, false)) {
            warm(client);
            revoke();
            long auth0 = server.stat("auth0");
            long api = server.stat("api");
            Answer refused = http.get(api("whoami"));
            assertEquals(401, refused.status, refused.toString());
            assertEquals(api + 1, server.stat("api"));
            assertEquals(auth0, server.stat("auth0"));
            Answer next = http.get(api("whoami"));
            assertEquals(200, next.status, next.toString());
            assertEquals(auth0 + 1, server.stat("auth0"), "one new token");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void tokenFailureIsTheProblemException(Kind kind) throws Exception {
        try (BearerClient client = BearerClient.fromMap(server.auth0("", "client_secret", "wrong"));
                HttpClients http = kind.make.apply(client, true)) {
            long api = server.stat("api");
            Exception thrown = assertThrows(Exception.class, () -> http.get(api("whoami")));
            if (kind == Kind.OKHTTP) {
                // OkHttp passes on IOExceptions only; the problem is the cause.
                assertTrue(thrown instanceof BearerOkHttp.TokenUnavailableException, thrown.toString());
                thrown = (Exception) thrown.getCause();
            }
            BearerException e = assertInstanceOf(BearerException.class, thrown);
            assertEquals(BearerStatus.REJECTED, e.getCode());
            assertEquals(api, server.stat("api"), "no request without its token");
        }
    }

    /** An enqueued OkHttp call learns of a missing token through onFailure. */
    @Test
    void okHttpEnqueuedCallFailsWithTheProblem() throws Exception {
        try (BearerClient client = BearerClient.fromMap(server.auth0("", "client_secret", "wrong"))) {
            BearerOkHttp bearer = new BearerOkHttp(client);
            okhttp3.OkHttpClient http = bearer.install(new okhttp3.OkHttpClient.Builder()).build();
            java.util.concurrent.CompletableFuture<IOException> failure = new java.util.concurrent.CompletableFuture<>();
            http.newCall(new okhttp3.Request.Builder().url(api("whoami")).build()).enqueue(new okhttp3.Callback() {
                @Override
                public void onFailure(okhttp3.Call call, IOException e) {
                    failure.complete(e);
                }

                @Override
                public void onResponse(okhttp3.Call call, okhttp3.Response response) {
                    response.close();
                    failure.completeExceptionally(new AssertionError("sent without a token"));
                }
            });
            IOException e = failure.get(30, TimeUnit.SECONDS);
            assertEquals(BearerStatus.REJECTED,
                    ((BearerOkHttp.TokenUnavailableException) e).getProblem().getCode());
            http.dispatcher().executorService().shutdown();
        }
    }

    @Test
    void jdkWrapperRefusesAClientThatFollowsRedirects() {
        try (BearerClient client = client()) {
            java.net.http.HttpClient follows = java.net.http.HttpClient.newBuilder()
                    .followRedirects(java.net.http.HttpClient.Redirect.NORMAL).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BearerHttpClient.wrap(follows, client));
            assertTrue(e.getMessage().contains("NEVER"), e.getMessage());
        }
    }

    @Test
    void jdkWrapperSendAsync() throws Exception {
        try (BearerClient client = client()) {
            java.net.http.HttpClient http = BearerHttpClient.wrap(java.net.http.HttpClient.newHttpClient(), client);
            warm(client);
            revoke();
            java.net.http.HttpResponse<String> response = http.sendAsync(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(api("whoami"))).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), response.body());
        }
    }

    /**
     * Why each integration handles redirects as it does: what the libraries
     * themselves do with an Authorization header set on the request when a
     * redirect goes to another origin.
     */
    @Test
    void librariesOnTheirOwnWithACrossOriginRedirect() throws Exception {
        String url = api("redirect?to=" + URLEncoder.encode(other.base + "/api/open", StandardCharsets.UTF_8));
        String header = "Bearer not-a-real-token";

        // Apache HttpClient 5.2: RedirectExec copies the original request's headers to the new host.
        try (org.apache.hc.client5.http.impl.classic.CloseableHttpClient apache =
                org.apache.hc.client5.http.impl.classic.HttpClients.createDefault()) {
            org.apache.hc.client5.http.classic.methods.HttpGet get =
                    new org.apache.hc.client5.http.classic.methods.HttpGet(url);
            get.setHeader("Authorization", header);
            String body = apache.execute(get,
                    response -> org.apache.hc.core5.http.io.entity.EntityUtils.toString(response.getEntity()));
            assertEquals(Boolean.TRUE, Json.parseObject(body).get("authorization"), body);
        }

        // java.net.http (JDK 17) following redirects: the same.
        java.net.http.HttpClient jdk = java.net.http.HttpClient.newBuilder()
                .followRedirects(java.net.http.HttpClient.Redirect.NORMAL).build();
        String body = jdk.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                .header("Authorization", header).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertEquals(Boolean.TRUE, Json.parseObject(body).get("authorization"), body);

        // OkHttp 3 drops it.
        okhttp3.OkHttpClient ok = new okhttp3.OkHttpClient();
        try (okhttp3.Response response = ok.newCall(new okhttp3.Request.Builder().url(url)
                .header("Authorization", header).build()).execute()) {
            String okBody = response.body().string();
            assertEquals(Boolean.FALSE, Json.parseObject(okBody).get("authorization"), okBody);
        }
        ok.dispatcher().executorService().shutdown();
    }

    @Test
    void challengesAreRead() {
        assertTrue(TokenRefusal.isRefusal(401, List.of()));
        assertTrue(TokenRefusal.isRefusal(401, List.of("Bearer realm=\"api\"")));
        assertTrue(TokenRefusal.isRefusal(401, List.of(
                "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"expired, sorry\"")));
        assertTrue(TokenRefusal.isRefusal(401, List.of("Basic realm=\"x\", Bearer error=invalid_token")));
        assertTrue(TokenRefusal.isRefusal(401, List.of("Basic realm=\"x\"", "bearer")));
        assertFalse(TokenRefusal.isRefusal(401, List.of("Bearer realm=\"api\", error=\"invalid_request\"")));
        assertFalse(TokenRefusal.isRefusal(401, List.of("Basic realm=\"x\"")));
        assertFalse(TokenRefusal.isRefusal(403, List.of("Bearer error=\"insufficient_scope\", scope=\"admin\"")));
        assertFalse(TokenRefusal.isRefusal(200, List.of()));
    }
}
