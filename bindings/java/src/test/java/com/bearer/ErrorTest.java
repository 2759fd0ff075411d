package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every failure arrives as a BearerException with the library's problem, never showing the secret. */
class ErrorTest {
    /** The secret of the wrong-secret, echo and throttling tests; the whole test log is searched for it. */
    private static final String SECRET = "canary-SECRET-7f3a9c2e1b";
    private final AuthServer server = AuthServer.get();

    /** The exception for a one-shot call and for a client, which must agree on everything. */
    private BearerException fail(Map<String, Object> config) {
        BearerException oneShot = assertThrows(BearerException.class, () -> Bearer.fetchToken(AuthServer.json(config)));
        BearerException client = assertThrows(BearerException.class, () -> {
            try (BearerClient c = BearerClient.fromMap(config)) {
                c.getToken();
            }
        });
        assertEquals(oneShot.getType(), client.getType());
        assertEquals(oneShot.getCode(), client.getCode());
        assertEquals(oneShot.getStatus(), client.getStatus());
        return client;
    }

    private static void assertProblem(BearerException e, String type, int status, BearerStatus code) {
        assertEquals(type, e.getType(), e::toString);
        assertEquals(status, e.getStatus(), e::toString);
        assertEquals(code, e.getCode(), e::toString);
        assertEquals(e.getTitle() + ": " + e.getDetail(), e.getMessage());
        assertFalse(e.getTitle().isEmpty());
        assertNoSecret(e);
    }

    private static void assertNoSecret(BearerException e) {
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        String[] texts = {e.getMessage(), e.toString(), e.getDetail(), e.getInstance(),
            String.valueOf(e.getExtensions()), trace.toString()};
        // The messages name the rendering, never its text: that would print the secret.
        for (int i = 0; i < texts.length; i++) {
            for (String secret : new String[] {SECRET, "demo-secret", "cobuilder-secret"}) {
                assertFalse(texts[i].contains(secret), "rendering " + i + " shows a secret");
            }
        }
    }

    @Test
    void unauthorized() {
        BearerException e = fail(server.auth0("", "client_secret", SECRET));
        assertProblem(e, "urn:bearer:problem:unauthorized", 401, BearerStatus.REJECTED);
        assertEquals(401L, e.getExtensions().get("upstream_status"));
        assertTrue(e.getInstance().contains("/oauth/token"), e.getInstance());
    }

    @Test
    void forbidden() {
        BearerException e = fail(server.auth0("", "audience", "https://other"));
        assertProblem(e, "urn:bearer:problem:forbidden", 403, BearerStatus.REJECTED);
    }

    @Test
    void cobuilderInvalidAudienceIsPassedThrough() {
        BearerException e = fail(server.cobuilder("", "audienceUrl", "https://nope"));
        assertProblem(e, "https://tools.ietf.org/html/rfc9110#section-15.5.1", 400, BearerStatus.REJECTED);
        assertEquals("Invalid audience", e.getTitle());
    }

    /** retries 0: waiting out Retry-After (7 s) three times would test nothing more. */
    private Map<String, Object> rateLimitedConfig() {
        return server.auth0("fault=rate_limit", "client_secret", SECRET, "retries", 0);
    }

    @Test
    void rateLimited() {
        BearerException e = fail(rateLimitedConfig());
        assertProblem(e, "urn:bearer:problem:rate-limited", 429, BearerStatus.RATE_LIMITED);
        assertEquals(7L, e.getExtensions().get("retry_after"));
    }

    @Test
    void a429OpensAThrottlingWindow() {
        try (BearerClient client = BearerClient.fromMap(rateLimitedConfig())) {
            long before = server.stat("auth0");
            assertProblem(assertThrows(BearerException.class, client::getToken),
                    "urn:bearer:problem:rate-limited", 429, BearerStatus.RATE_LIMITED);
            long started = System.nanoTime();
            BearerException second = assertThrows(BearerException.class, client::getToken);
            double took = (System.nanoTime() - started) / 1e9;
            assertProblem(second, "urn:bearer:problem:rate-limited", 429, BearerStatus.RATE_LIMITED);
            assertTrue(took < 0.5, () -> "the throttled call took " + took + " s");
            long retryAfter = (Long) second.getExtensions().get("retry_after");
            assertTrue(retryAfter >= 1 && retryAfter <= 7, () -> "retry_after " + retryAfter);
            assertEquals(1, server.stat("auth0") - before, "the throttled call reached the server");
        }
    }

    @Test
    void anEchoedRequestDoesNotShowTheSecret() {
        BearerException e = fail(server.auth0("fault=echo", "client_secret", SECRET));
        assertNoSecret(e);
    }

    @Test
    void serverErrorIsUnavailable() {
        BearerException e = fail(server.auth0("fault=server_error"));
        assertEquals(BearerStatus.UNAVAILABLE, e.getCode());
        assertNoSecret(e);
    }

    @Test
    void garbageIsBadResponse() {
        BearerException e = fail(server.auth0("fault=garbage"));
        assertEquals(BearerStatus.BAD_RESPONSE, e.getCode());
    }

    @Test
    void missingKeyAtConstruction() {
        Map<String, Object> config = server.auth0("", "client_secret", null);
        BearerException e = assertThrows(BearerException.class, () -> BearerClient.fromMap(config));
        assertProblem(e, "urn:bearer:problem:invalid-config", 400, BearerStatus.INVALID_CONFIG);
        assertEquals("client_secret", e.getExtensions().get("key"));
        assertEquals("#/client_secret", e.getInstance());
        BearerException oneShot = assertThrows(BearerException.class, () -> Bearer.fetchToken(config));
        assertEquals(e.getMessage(), oneShot.getMessage());
    }

    @Test
    void builderWithoutSecretNamesTheKey() {
        BearerException e = assertThrows(BearerException.class,
                () -> BearerClient.builder().clientId("demo-client").audience("a").build());
        assertEquals("client_secret", e.getExtensions().get("key"));
        assertEquals(BearerStatus.INVALID_CONFIG, e.getCode());
    }

    @Test
    void unsupportedScheme() {
        long before = server.requests();
        Map<String, Object> config = server.auth0("", "client_secret", SECRET, "token_url", "ftp://x/oauth/token");
        BearerException e = assertThrows(BearerException.class, () -> BearerClient.fromMap(config));
        assertProblem(e, "urn:bearer:problem:invalid-config", 400, BearerStatus.INVALID_CONFIG);
        assertEquals(before, server.requests());
    }

    @Test
    void plainHttpToAnotherHost() {
        Map<String, Object> config = server.auth0("", "client_secret", SECRET,
                "token_url", "http://example.com/oauth/token");
        BearerException e = assertThrows(BearerException.class, () -> Bearer.fetchToken(config));
        assertEquals("urn:bearer:problem:insecure-url", e.getType());
        assertEquals(BearerStatus.INVALID_CONFIG, e.getCode());
        assertEquals(e.getTitle() + ": " + e.getDetail(), e.getMessage());
        assertNoSecret(e);
    }

    @Test
    void unknownKeyIsNamed() {
        BearerException e = assertThrows(BearerException.class,
                () -> BearerClient.fromMap(server.auth0("", "client_secrett", "x")));
        assertEquals(BearerStatus.INVALID_CONFIG, e.getCode());
        assertTrue(e.getMessage().contains("client_secrett"), e.getMessage());
    }

    @Test
    void panicInsideTheLibraryIsInternal() {
        BearerException e = assertThrows(BearerException.class, Bearer::testPanic);
        assertEquals(BearerStatus.INTERNAL, e.getCode());
        assertEquals("urn:bearer:problem:internal", e.getType());
        assertEquals(500, e.getStatus());
    }

    @Test
    void extensionsAreReadOnly() {
        BearerException e = assertThrows(BearerException.class,
                () -> Bearer.fetchToken(server.auth0("", "client_secret", null)));
        assertThrows(UnsupportedOperationException.class, () -> e.getExtensions().put("x", 1));
    }
}
