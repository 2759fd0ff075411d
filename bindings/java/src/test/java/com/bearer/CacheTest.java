package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Tokens are reused: one request per configuration while the token is fresh. */
class CacheTest {
    private final AuthServer server = AuthServer.get();

    @Test
    void clientCachesItsToken() {
        try (BearerClient client = BearerClient.fromMap(server.auth0("expires_in=3600"))) {
            long before = server.requests();
            String first = client.getToken();
            String second = client.getToken();
            assertEquals(first, second);
            assertEquals("Bearer " + first, client.getAuthorizationHeader());
            assertEquals(first, client.getTokenResponse().getAccessToken());
            assertEquals(before + 1, server.requests());
        }
    }

    @Test
    void oneShotCallsShareTheProcessCache() {
        String config = AuthServer.json(server.cobuilder(""));
        long before = server.requests();
        String first = Bearer.fetchToken(config);
        String second = Bearer.fetchToken(config);
        assertEquals(first, second);
        assertEquals(first, Bearer.fetchTokenResponse(config).getAccessToken());
        assertEquals(before + 1, server.requests());
    }

    @Test
    void twoClientsHaveTwoCaches() {
        Map<String, Object> config = server.auth0("");
        try (BearerClient a = BearerClient.fromMap(config); BearerClient b = BearerClient.fromMap(config)) {
            long before = server.requests();
            assertNotEquals(a.getToken(), b.getToken());
            assertEquals(before + 2, server.requests());
        }
    }

    @Test
    void expiredTokenIsNotReused() {
        // expires_in=0: the token is handed out but never cached.
        try (BearerClient client = BearerClient.fromMap(server.auth0("expires_in=0"))) {
            long before = server.requests();
            String first = client.getToken();
            String second = client.getToken();
            assertNotEquals(first, second);
            assertEquals(before + 2, server.requests());
        }
    }
}
