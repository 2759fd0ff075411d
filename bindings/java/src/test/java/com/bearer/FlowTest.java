package com.bearer;

import static com.bearer.AuthServer.browse;
import static com.bearer.AuthServer.param;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The user flows against the local server, which signs a test user in
 * without asking: the test plays the browser, reading the server's redirect
 * itself (the same cases as tests/flows.rs and tests/c/bearer_test.c).
 */
class FlowTest {
    private final AuthServer server = AuthServer.get();

    private static void assertProblem(BearerException e, String type, int status, BearerStatus code) {
        assertEquals(type, e.getType(), e::toString);
        assertEquals(status, e.getStatus(), e::toString);
        assertEquals(code, e.getCode(), e::toString);
        assertEquals(e.getTitle() + ": " + e.getDetail(), e.getMessage());
    }

    /** The claims of a JWT. */
    private static Map<String, Object> claims(String jwt) {
        String payload = jwt.split("\\.")[1];
        return Json.parseObject(new String(Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8));
    }

    @Test
    void authorizationCodeWithPkceSignsTheUserIn() {
        Map<String, Object> config = server.nativeApp();
        long exchanges = server.stat("auth0");
        AuthorizationRequest request = Bearer.authorizeStart(config);
        assertTrue(request.getUrl().startsWith(server.base + "/authorize?"), request.getUrl());
        assertEquals("code", request.getResponseType());
        assertEquals(AuthServer.APP_REDIRECT, request.getRedirectUri());
        assertEquals("code", param(request.getUrl(), "response_type"));
        assertEquals("S256", param(request.getUrl(), "code_challenge_method"));
        assertEquals(request.getState(), param(request.getUrl(), "state"));
        assertEquals(43, request.getState().length(), "256 bits of state");
        assertTrue(request.getCodeVerifier().isPresent());
        assertTrue(request.getNonce().isPresent());

        String redirect = browse(request.getUrl());
        assertTrue(redirect.startsWith(AuthServer.APP_REDIRECT + "?code="), redirect);
        TokenResponse token = Bearer.authorizeComplete(config, request, redirect);
        assertEquals("Bearer", token.getTokenType());
        assertTrue(token.getExpiresIn().orElse(0) > 0);
        String idToken = token.getIdToken().orElseThrow(() -> new AssertionError("openid gives an ID token"));
        assertEquals(request.getNonce().get(), claims(idToken).get("nonce"));
        assertEquals(claims(token.getAccessToken()).get("sub"), claims(idToken).get("sub"));
        assertFalse(token.getRefreshToken().isPresent(), "no offline_access, no refresh token");
        assertEquals(exchanges + 1, server.stat("auth0"));
    }

    @Test
    void theRequestSurvivesARoundTripThroughItsJson() {
        String config = AuthServer.json(server.nativeApp());
        AuthorizationRequest request = Bearer.authorizeStart(config);
        String kept = request.toJson();
        Map<String, Object> members = Json.parseObject(kept);
        assertEquals(java.util.List.of("url", "response_type", "redirect_uri", "state", "code_verifier", "nonce"),
                java.util.List.copyOf(members.keySet()));

        AuthorizationRequest restored = AuthorizationRequest.fromJson(kept);
        assertEquals(kept, restored.toJson());
        assertEquals(request.getUrl(), restored.getUrl());
        assertEquals(request.getState(), restored.getState());
        assertEquals(request.getCodeVerifier(), restored.getCodeVerifier());
        assertEquals(request.getNonce(), restored.getNonce());

        // Completing with the JSON string works as with the object.
        TokenResponse token = Bearer.authorizeComplete(config, kept, browse(restored.getUrl()));
        assertTrue(token.getIdToken().isPresent());

        String shown = restored.toString();
        assertTrue(shown.contains(AuthServer.APP_REDIRECT), shown);
        assertFalse(shown.contains(restored.getState()), shown);
        assertFalse(shown.contains(restored.getCodeVerifier().get()), shown);
        assertFalse(shown.contains(restored.getNonce().get()), shown);
        assertFalse(token.toString().contains(token.getIdToken().get()));
    }

    @Test
    void aKeptRequestThatIsNotOneIsRefusedByJava() {
        assertThrows(IllegalArgumentException.class, () -> AuthorizationRequest.fromJson("{"));
        assertThrows(IllegalArgumentException.class, () -> AuthorizationRequest.fromJson("{\"url\":\"x\"}"));
        assertThrows(NullPointerException.class, () -> AuthorizationRequest.fromJson(null));
        Map<String, Object> config = server.nativeApp();
        AuthorizationRequest request = Bearer.authorizeStart(config);
        assertThrows(NullPointerException.class, () -> Bearer.authorizeComplete(config, request, null));
        assertThrows(NullPointerException.class,
                () -> Bearer.authorizeComplete(config, (AuthorizationRequest) null, "http://127.0.0.1:9/"));
        // A JSON string that is not a request goes to the library, which refuses it.
        BearerException e = assertThrows(BearerException.class,
                () -> Bearer.authorizeComplete(config, "{}", AuthServer.APP_REDIRECT + "?code=x&state=y"));
        assertEquals(BearerStatus.INVALID_ARGUMENT, e.getCode(), e::toString);
    }

    @Test
    void aWrongStateIsRefusedBeforeAnyExchange() {
        Map<String, Object> config = server.nativeApp();
        AuthorizationRequest request = Bearer.authorizeStart(config);
        String redirect = browse(request.getUrl());
        long exchanges = server.stat("auth0");

        String forged = redirect.replace(param(redirect, "state"), "forged-state");
        BearerException e = assertThrows(BearerException.class,
                () -> Bearer.authorizeComplete(config, request, forged));
        assertProblem(e, "urn:bearer:problem:invalid-callback", 400, BearerStatus.INVALID_ARGUMENT);
        assertEquals("state_mismatch", e.getExtensions().get("reason"));

        String stateless = AuthServer.APP_REDIRECT + "?code=" + param(redirect, "code");
        e = assertThrows(BearerException.class, () -> Bearer.authorizeComplete(config, request, stateless));
        assertProblem(e, "urn:bearer:problem:invalid-callback", 400, BearerStatus.INVALID_ARGUMENT);

        String elsewhere = redirect.replace("127.0.0.1:9", "127.0.0.1:10");
        e = assertThrows(BearerException.class, () -> Bearer.authorizeComplete(config, request, elsewhere));
        assertEquals("urn:bearer:problem:invalid-callback", e.getType());
        assertEquals(exchanges, server.stat("auth0"), "nothing was exchanged");
    }

    @Test
    void aCodeWorksOnce() {
        Map<String, Object> config = server.nativeApp();
        AuthorizationRequest request = Bearer.authorizeStart(config);
        String redirect = browse(request.getUrl());
        Bearer.authorizeComplete(config, request, redirect);
        BearerException e = assertThrows(BearerException.class,
                () -> Bearer.authorizeComplete(config, request, redirect));
        assertProblem(e, "urn:bearer:problem:invalid-grant", 403, BearerStatus.REJECTED);
        assertEquals("invalid_grant", e.getExtensions().get("error"));
        String shown = e + " " + e.getExtensions() + " " + e.getInstance();
        assertFalse(shown.contains(param(redirect, "code")), "the code is redacted: " + shown);
        assertFalse(shown.contains(request.getCodeVerifier().get()), shown);
    }

    @Test
    void aConfidentialClientExchangesTheCodeWithItsSecret() {
        Map<String, Object> config = server.nativeApp("client_id", "demo-client", "client_secret", "demo-secret");
        AuthorizationRequest request = Bearer.authorizeStart(config);
        String redirect = browse(request.getUrl());
        assertTrue(Bearer.authorizeComplete(config, request, redirect).getAccessToken().length() > 20);
        BearerException e = assertThrows(BearerException.class,
                () -> Bearer.authorizeComplete(config, request, redirect));
        assertEquals("urn:bearer:problem:invalid-grant", e.getType());
        assertFalse((e + " " + e.getExtensions()).contains("demo-secret"));
    }

    @Test
    void aWrongVerifierFailsPkce() {
        Map<String, Object> config = server.nativeApp();
        AuthorizationRequest request = Bearer.authorizeStart(config);
        String redirect = browse(request.getUrl());
        String tampered = request.toJson().replace(request.getCodeVerifier().get(), "x".repeat(43));
        assertEquals("x".repeat(43), AuthorizationRequest.fromJson(tampered).getCodeVerifier().get());
        BearerException e = assertThrows(BearerException.class,
                () -> Bearer.authorizeComplete(config, tampered, redirect));
        assertProblem(e, "urn:bearer:problem:invalid-grant", 403, BearerStatus.REJECTED);
        assertEquals("Failed PKCE verification", e.getDetail());
    }

    @Test
    void aDeclinedSignInIsAuthorizationDenied() {
        Map<String, Object> config = server.nativeApp();
        AuthorizationRequest request = Bearer.authorizeStart(config);
        String redirect = browse(request.getUrl() + "&deny=1");
        assertEquals("access_denied", param(redirect, "error"));
        long exchanges = server.stat("auth0");
        BearerException e = assertThrows(BearerException.class,
                () -> Bearer.authorizeComplete(config, request, redirect));
        assertProblem(e, "urn:bearer:problem:authorization-denied", 403, BearerStatus.REJECTED);
        assertEquals("access_denied", e.getExtensions().get("error"));
        assertEquals(exchanges, server.stat("auth0"));
    }

    @Test
    void theImplicitFlowReadsTheTokenFromTheFragment() {
        Map<String, Object> config = server.nativeApp("client_id", "demo-client", "grant_type", "implicit",
                "token_url", null, "audience", null);
        AuthorizationRequest request = Bearer.authorizeStart(config);
        assertEquals("token", request.getResponseType());
        assertEquals("token", param(request.getUrl(), "response_type"));
        assertFalse(request.getCodeVerifier().isPresent());
        long tokenRequests = server.requests();
        String redirect = browse(request.getUrl());
        assertTrue(redirect.contains("#access_token="), redirect);
        TokenResponse token = Bearer.authorizeComplete(config, request, redirect);
        assertEquals(param(redirect, "access_token"), token.getAccessToken());
        assertEquals("Bearer", token.getTokenType());
        assertTrue(token.getExpiresIn().orElse(0) > 0);
        assertEquals(tokenRequests, server.requests(), "no token endpoint in the implicit flow");

        String forged = redirect.replace("state=", "state=x");
        assertEquals("urn:bearer:problem:invalid-callback", assertThrows(BearerException.class,
                () -> Bearer.authorizeComplete(config, request, forged)).getType());
    }

    /** Signs the test user in with offline_access and returns the refresh token. */
    private String signInForRefreshToken() {
        Map<String, Object> config = server.nativeApp("scope", "openid offline_access");
        AuthorizationRequest request = Bearer.authorizeStart(config);
        TokenResponse token = Bearer.authorizeComplete(config, request, browse(request.getUrl()));
        return token.getRefreshToken().orElseThrow(() -> new AssertionError("offline_access gives a refresh token"));
    }

    private Map<String, Object> refreshConfig(String refreshToken, String query) {
        return Map.of("client_id", "native-client", "grant_type", "refresh_token", "refresh_token", refreshToken,
                "token_url", server.auth0Url(query));
    }

    @Test
    void aClientRefreshesAndFollowsRotation() throws Exception {
        String first = signInForRefreshToken();
        try (BearerClient client = BearerClient.fromMap(refreshConfig(first, "expires_in=2"))) {
            long refreshes = server.stat("refresh");
            TokenResponse a = client.getTokenResponse();
            TokenResponse b = client.getTokenResponse();
            assertEquals(a.getAccessToken(), b.getAccessToken(), "cached while fresh");
            assertEquals(refreshes + 1, server.stat("refresh"));
            String rotated = a.getRefreshToken().orElseThrow(() -> new AssertionError("the current refresh token"));
            assertNotEquals(first, rotated, "the server rotated the refresh token");
            assertFalse(a.toString().contains(rotated), a::toString);

            Thread.sleep(2100);
            TokenResponse c = client.getTokenResponse();
            assertNotEquals(a.getAccessToken(), c.getAccessToken());
            assertEquals(refreshes + 2, server.stat("refresh"), "the rotated token worked");
            assertEquals("Bearer " + c.getAccessToken(), client.getAuthorizationHeader());
        }
        // The first refresh token was used up by the rotation.
        try (BearerClient stale = BearerClient.fromMap(refreshConfig(first, "stale=1"))) {
            BearerException e = assertThrows(BearerException.class, stale::getToken);
            assertProblem(e, "urn:bearer:problem:invalid-grant", 403, BearerStatus.REJECTED);
            assertFalse((e + " " + e.getExtensions()).contains(first), "the refresh token is redacted");
        }
    }

    @Test
    void threadsSharingARefreshingClientSendOneRefresh() throws Exception {
        try (BearerClient client = BearerClient.fromMap(refreshConfig(signInForRefreshToken(), "stall_ms=200"))) {
            long refreshes = server.stat("refresh");
            java.util.concurrent.CyclicBarrier gate = new java.util.concurrent.CyclicBarrier(8);
            java.util.List<CompletableFuture<String>> tokens = new java.util.ArrayList<>();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
            try {
                for (int i = 0; i < 8; i++) {
                    tokens.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            gate.await();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        return client.getToken();
                    }, pool));
                }
                String first = tokens.get(0).get(10, TimeUnit.SECONDS);
                for (CompletableFuture<String> token : tokens) {
                    assertEquals(first, token.get(10, TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(refreshes + 1, server.stat("refresh"));
        }
    }

    /** The browser of a loopback login: authorize URL, then the listener; returns the listener's answer. */
    private static CompletableFuture<AuthServer.Answer> browser(String url) {
        return CompletableFuture.supplyAsync(() -> AuthServer.get(browse(url)));
    }

    @Test
    void theLoopbackLoginTakesTheBrowsersRedirect() throws Exception {
        Map<String, Object> config = server.nativeApp("redirect_uri", null);
        try (BearerLogin login = BearerLogin.start(config)) {
            String redirectUri = param(login.getUrl(), "redirect_uri");
            assertTrue(redirectUri.matches("http://127\\.0\\.0\\.1:\\d+/callback"), redirectUri);
            assertFalse(login.toString().contains(param(login.getUrl(), "state")));
            CompletableFuture<AuthServer.Answer> browser = browser(login.getUrl());
            TokenResponse token = login.await(Duration.ofSeconds(10));
            AuthServer.Answer page = browser.get(10, TimeUnit.SECONDS);
            assertEquals(200, page.status);
            assertTrue(page.body.contains("You are signed in"), page.body);
            assertTrue(token.getIdToken().isPresent());
            assertEquals(claims(token.getIdToken().get()).get("sub"), claims(token.getAccessToken()).get("sub"));

            // A login completes once.
            BearerException again = assertThrows(BearerException.class, () -> login.await(Duration.ofMillis(10)));
            assertEquals(BearerStatus.INVALID_ARGUMENT, again.getCode(), again::toString);
            assertEquals("urn:bearer:problem:invalid-argument", again.getType());
        }
    }

    @Test
    void theLoopbackLoginGivesUpAfterItsTimeoutAndMayBeAwaitedAgain() {
        try (BearerLogin login = BearerLogin.start(AuthServer.json(server.nativeApp("redirect_uri", null)))) {
            long started = System.nanoTime();
            BearerException e = assertThrows(BearerException.class, () -> login.await(Duration.ofMillis(200)));
            long elapsedMs = (System.nanoTime() - started) / 1_000_000;
            assertEquals("urn:bearer:problem:timeout", e.getType(), e::toString);
            assertEquals(BearerStatus.TIMEOUT, e.getCode());
            assertTrue(elapsedMs >= 150 && elapsedMs < 2000, "waited " + elapsedMs + " ms");

            // A timeout does not end the login: the user may still come back.
            CompletableFuture<AuthServer.Answer> browser = browser(login.getUrl());
            assertTrue(login.await(Duration.ofSeconds(10)).getAccessToken().length() > 20);
            assertEquals(200, browser.join().status);
        }
    }

    @Test
    void aForgedCallbackIsRefusedAndTheLoginGoesOn() throws Exception {
        try (BearerLogin login = BearerLogin.start(server.nativeApp("redirect_uri", null))) {
            String url = login.getUrl();
            String forged = param(url, "redirect_uri") + "?code=stolen&state=forged";
            long exchanges = server.stat("auth0");
            // The forged request first, then the real browser: only the real redirect ends the wait.
            CompletableFuture<AuthServer.Answer[]> browser = CompletableFuture.supplyAsync(
                    () -> new AuthServer.Answer[] {AuthServer.get(forged), AuthServer.get(browse(url))});
            TokenResponse token = login.await(Duration.ofSeconds(10));
            AuthServer.Answer[] answers = browser.get(10, TimeUnit.SECONDS);
            assertEquals(400, answers[0].status, "the forged callback is refused");
            assertEquals(200, answers[1].status);
            assertTrue(token.getAccessToken().length() > 20);
            assertEquals(exchanges + 1, server.stat("auth0"), "only the real code is exchanged");
        }
    }

    @Test
    void aLoginClosesOnceAndIsUnusableAfter() {
        BearerLogin login = BearerLogin.start(server.nativeApp("redirect_uri", null));
        String url = login.getUrl();
        assertFalse(login.isClosed());
        login.close();
        login.close();
        assertTrue(login.isClosed());
        assertEquals("BearerLogin[closed]", login.toString());
        assertEquals(url, login.getUrl());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> login.await(Duration.ofMillis(10)));
        assertEquals("BearerLogin is closed", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> {
            try (BearerLogin other = BearerLogin.start(server.nativeApp("redirect_uri", null))) {
                other.await(Duration.ofMillis(-1));
            }
        });
        assertThrows(NullPointerException.class, () -> BearerLogin.start((String) null));
    }

    @Test
    void userFlowConfigurationsAreChecked() {
        BearerException e = assertThrows(BearerException.class,
                () -> Bearer.authorizeStart(server.nativeApp("redirect_uri", "http://example.com/callback")));
        assertProblem(e, "urn:bearer:problem:insecure-url", 400, BearerStatus.INVALID_CONFIG);

        e = assertThrows(BearerException.class, () -> Bearer.authorizeStart(server.nativeApp("redirect_uri", null)));
        assertEquals(BearerStatus.INVALID_CONFIG, e.getCode());
        assertEquals("redirect_uri", e.getExtensions().get("key"));

        e = assertThrows(BearerException.class, () -> BearerClient.fromMap(
                Map.of("client_id", "x", "grant_type", "refresh_token")));
        assertEquals("refresh_token", e.getExtensions().get("key"));

        e = assertThrows(BearerException.class, () -> BearerLogin.start(
                server.nativeApp("redirect_uri", "https://app.example.com/callback")));
        assertEquals(BearerStatus.INVALID_CONFIG, e.getCode());
        assertEquals("redirect_uri", e.getExtensions().get("key"));

        assertThrows(BearerException.class, () -> Bearer.authorizeStart(""));
        assertThrows(NullPointerException.class, () -> Bearer.authorizeStart((String) null));
        assertNull(param("http://127.0.0.1:9/callback?code=1", "state"));
    }

    @Test
    void nullsThroughTheShimAreInvalidArgument() {
        Native.load();
        assertEquals(BearerStatus.INVALID_ARGUMENT, assertThrows(BearerException.class,
                () -> Native.authorizeStart(null)).getCode());
        assertEquals(BearerStatus.INVALID_ARGUMENT, assertThrows(BearerException.class,
                () -> Native.authorizeComplete(null, null, null)).getCode());
        assertEquals(BearerStatus.INVALID_ARGUMENT, assertThrows(BearerException.class,
                () -> Native.loginStart(null, new byte[1][])).getCode());
        assertEquals(BearerStatus.INVALID_ARGUMENT, assertThrows(BearerException.class,
                () -> Native.loginWait(0, 10)).getCode());
        Native.loginFree(0); // NULL is allowed and does nothing
    }
}
