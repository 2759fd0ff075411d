package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Compare-and-invalidate: {@code tokenRefused} on a client and for the one-shot cache. */
class RefusedTest {
    private final AuthServer server = AuthServer.get();

    @Test
    void currentTokenIsDroppedOnce() {
        try (BearerClient client = BearerClient.fromMap(server.auth0(""))) {
            String old = client.getToken();
            assertTrue(client.tokenRefused(old));
            long before = server.stat("auth0");
            String next = client.getToken();
            assertNotEquals(old, next);
            assertEquals(before + 1, server.stat("auth0"));
            assertFalse(client.tokenRefused(old), "a token already replaced is not dropped again");
            assertEquals(next, client.getToken());
        }
    }

    @Test
    void secondRefusalWithinTwoSecondsDropsNothing() {
        try (BearerClient client = BearerClient.fromMap(server.auth0(""))) {
            String first = client.getToken();
            assertTrue(client.tokenRefused(first));
            String second = client.getToken();
            assertNotEquals(first, second);
            assertFalse(client.tokenRefused(second), "inside the two-second window");
            assertEquals(second, client.getToken());
        }
    }

    @Test
    void oneShotCache() {
        Map<String, Object> config = server.auth0("");
        String old = Bearer.fetchToken(config);
        assertTrue(Bearer.tokenRefused(config, old));
        String next = Bearer.fetchToken(AuthServer.json(config));
        assertNotEquals(old, next);
        assertFalse(Bearer.tokenRefused(AuthServer.json(config), old));
        assertEquals(next, Bearer.fetchToken(config));
    }

    @Test
    void nullTokenIsAnArgumentError() {
        try (BearerClient client = BearerClient.fromMap(server.auth0(""))) {
            assertThrows(NullPointerException.class, () -> client.tokenRefused(null));
        }
        assertThrows(NullPointerException.class, () -> Bearer.tokenRefused(server.auth0(""), null));
        assertThrows(NullPointerException.class, () -> Bearer.tokenRefused((String) null, "x"));
    }

    @Test
    void tokenRefusedOnAClosedClient() {
        BearerClient client = BearerClient.fromMap(server.auth0(""));
        client.close();
        assertThrows(IllegalStateException.class, () -> client.tokenRefused("x"));
    }

    /** The jar works without Apache HttpClient or OkHttp on the class path. */
    @Test
    void jarLoadsWithoutHttpLibraries() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(AuthServer.java(), "-cp", AuthServer.classPath(),
                NoHttpLibrariesProbe.class.getName(), AuthServer.json(server.auth0("")));
        builder.redirectErrorStream(true);
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), out);
        assertEquals("no okhttp3, no org.apache.hc; token, refused true", out.trim());
    }
}
