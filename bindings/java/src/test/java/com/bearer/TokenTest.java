package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens for both seed shapes, one-shot and through a client. */
class TokenTest {
    private static final Pattern JWT = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");
    private final AuthServer server = AuthServer.get();

    @Test
    void versionMatchesHeader() throws Exception {
        String header = Files.readString(AuthServer.root().resolve("include/bearer.h"));
        assertTrue(header.contains("#define BEARER_VERSION \"" + Bearer.version() + "\""), Bearer.version());
    }

    @Test
    void oneShotAuth0() {
        String token = Bearer.fetchToken(AuthServer.json(server.auth0("")));
        assertTrue(JWT.matcher(token).matches(), token);
    }

    @Test
    void oneShotCobuilder() {
        long before = server.stats().get("cobuilder");
        String token = Bearer.fetchToken(AuthServer.json(server.cobuilder("")));
        assertFalse(token.isEmpty());
        assertEquals(before + 1, server.stats().get("cobuilder"));
    }

    @Test
    void oneShotFromMap() {
        assertFalse(Bearer.fetchToken(server.auth0("")).isEmpty());
    }

    @Test
    void oneShotTokenResponse() {
        long now = Instant.now().getEpochSecond();
        TokenResponse response = Bearer.fetchTokenResponse(AuthServer.json(server.auth0("expires_in=3600")));
        assertTrue(JWT.matcher(response.getAccessToken()).matches());
        assertEquals("Bearer", response.getTokenType());
        long expiresIn = response.getExpiresIn().orElseThrow();
        assertTrue(expiresIn > 3500 && expiresIn <= 3600, "expires_in " + expiresIn);
        long expiresAt = response.getExpiresAt().orElseThrow().getEpochSecond();
        assertTrue(Math.abs(expiresAt - (now + 3600)) <= 5, "expires_at " + expiresAt);
        assertFalse(response.toString().contains(response.getAccessToken()), "toString shows the token");
    }

    @Test
    void tokenResponseCarriesScope() {
        TokenResponse response = Bearer.fetchTokenResponse(server.auth0("", "scope", "read:data"));
        assertEquals("read:data", response.getScope().orElseThrow());
    }

    @Test
    void clientAuth0() {
        try (BearerClient client = BearerClient.fromJson(AuthServer.json(server.auth0("")))) {
            String token = client.getToken();
            assertTrue(JWT.matcher(token).matches(), token);
            assertEquals("Bearer " + token, client.getAuthorizationHeader());
            TokenResponse response = client.getTokenResponse();
            assertEquals(token, response.getAccessToken());
            assertEquals("Bearer", response.getTokenType());
            assertTrue(response.getExpiresIn().orElseThrow() > 86000);
            assertTrue(response.getExpiresAt().isPresent());
        }
    }

    @Test
    void clientCobuilder() {
        try (BearerClient client = BearerClient.fromMap(server.cobuilder(""))) {
            String token = client.getToken();
            assertFalse(token.isEmpty());
            assertEquals("Bearer " + token, client.getAuthorizationHeader());
            TokenResponse response = client.getTokenResponse();
            assertEquals(token, response.getAccessToken());
            long expiresIn = response.getExpiresIn().orElseThrow();
            assertTrue(expiresIn > 3500 && expiresIn <= 3600, "expires_in " + expiresIn);
        }
    }

    @Test
    void builderAuth0() {
        try (BearerClient client = BearerClient.builder()
                .clientId("demo-client")
                .clientSecret("demo-secret")
                .audience("https://beeapp.open-cosmos.com")
                .tokenUrl(server.auth0Url(""))
                .build()) {
            assertTrue(client.getAuthorizationHeader().startsWith("Bearer ey"));
        }
    }

    @Test
    void builderCobuilder() {
        try (BearerClient client = BearerClient.builder()
                .cobuilder()
                .clientId("cobuilder-client")
                .clientSecret("cobuilder-secret")
                .audience("https://api.cobuilder.com")
                .tokenUrl(server.cobuilderUrl(""))
                .build()) {
            assertFalse(client.getToken().isEmpty());
        }
    }

    @Test
    void builderEscapesValues() {
        String tricky = "q\"uote\\back/slash\nline\ttab\u0001ctl é € 😀 \u2028";
        String json = BearerClient.builder()
                .clientId(tricky)
                .clientSecret("s")
                .audience("a")
                .extraParam("organization", tricky)
                .toJson();
        Map<String, Object> parsed = Json.parseObject(json);
        assertEquals(tricky, parsed.get("client_id"));
        assertEquals(Map.of("organization", tricky), parsed.get("extra_params"));
        assertEquals("client_credentials", parsed.get("grant_type"));
    }

    @Test
    void builderDeliversAnEscapedSecretIntact() {
        // A secret full of characters that need escaping is valid JSON to the library and
        // reaches the server unchanged: the answer is "wrong secret", not "bad configuration".
        BearerException e = org.junit.jupiter.api.Assertions.assertThrows(BearerException.class, () -> {
            try (BearerClient client = BearerClient.builder()
                    .clientId("demo-client")
                    .clientSecret("x\"y\\z\n€😀")
                    .audience("https://beeapp.open-cosmos.com")
                    .tokenUrl(server.auth0Url(""))
                    .build()) {
                client.getToken();
            }
        });
        assertEquals(BearerStatus.REJECTED, e.getCode());
        assertEquals(401, e.getStatus());
    }

    @Test
    void clientFromFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("data_cosmos_api_credentials.json");
        Files.writeString(file, AuthServer.json(server.auth0("")), StandardCharsets.UTF_8);
        try (BearerClient client = BearerClient.fromFile(file)) {
            assertTrue(client.getToken().startsWith("ey"));
        }
    }
}
