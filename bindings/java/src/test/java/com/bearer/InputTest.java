package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input is refused clearly: Java's own errors for null, the library's problems for the rest. */
class InputTest {
    private final AuthServer server = AuthServer.get();

    private static void assertProblem(BearerException e, String type, BearerStatus code) {
        assertEquals(type, e.getType(), e::toString);
        assertEquals(code, e.getCode(), e::toString);
        assertEquals(e.getTitle() + ": " + e.getDetail(), e.getMessage());
    }

    @Test
    void nullIsRefusedByJava() {
        assertThrows(NullPointerException.class, () -> Bearer.fetchToken((String) null));
        assertThrows(NullPointerException.class, () -> Bearer.fetchToken((Map<String, ?>) null));
        assertThrows(NullPointerException.class, () -> Bearer.fetchTokenResponse((String) null));
        assertThrows(NullPointerException.class, () -> BearerClient.fromJson(null));
        assertThrows(NullPointerException.class, () -> BearerClient.fromMap(null));
        assertThrows(NullPointerException.class, () -> BearerClient.fromFile(null));
    }

    @Test
    void nullThroughTheShimIsInvalidArgument() {
        Native.load();
        BearerException e = assertThrows(BearerException.class, () -> Native.fetchToken(null));
        assertProblem(e, "urn:bearer:problem:invalid-argument", BearerStatus.INVALID_ARGUMENT);
        e = assertThrows(BearerException.class, () -> Native.clientNew(null));
        assertEquals(BearerStatus.INVALID_ARGUMENT, e.getCode());
        e = assertThrows(BearerException.class, () -> Native.clientToken(0));
        assertEquals(BearerStatus.INVALID_ARGUMENT, e.getCode());
        Native.clientFree(0); // NULL is allowed and does nothing
    }

    @Test
    void emptyIsInvalidConfig() {
        assertProblem(assertThrows(BearerException.class, () -> Bearer.fetchToken("")),
                "urn:bearer:problem:invalid-config", BearerStatus.INVALID_CONFIG);
        assertProblem(assertThrows(BearerException.class, () -> BearerClient.fromJson("")),
                "urn:bearer:problem:invalid-config", BearerStatus.INVALID_CONFIG);
    }

    @Test
    void malformedIsInvalidConfig() {
        for (String text : new String[] {"{", "[]", "null", "{\"client_id\":1}", "not json"}) {
            BearerException e = assertThrows(BearerException.class, () -> BearerClient.fromJson(text), text);
            assertProblem(e, "urn:bearer:problem:invalid-config", BearerStatus.INVALID_CONFIG);
        }
    }

    @Test
    void loneSurrogateIsInvalidArgument() {
        // A Java string cannot hold invalid UTF-8, but a lone surrogate is not Unicode either;
        // it reaches the library as invalid bytes and comes back as invalid-argument.
        String config = AuthServer.json(server.auth0("", "client_id", "demo\uD800client"));
        assertProblem(assertThrows(BearerException.class, () -> Bearer.fetchToken(config)),
                "urn:bearer:problem:invalid-argument", BearerStatus.INVALID_ARGUMENT);
    }

    @Test
    void invalidUtf8FileIsInvalidArgument(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("credentials.json");
        Files.write(file, new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'});
        assertProblem(assertThrows(BearerException.class, () -> BearerClient.fromFile(file)),
                "urn:bearer:problem:invalid-argument", BearerStatus.INVALID_ARGUMENT);
    }

    @Test
    void nulCharacterIsRefused() {
        String config = AuthServer.json(server.auth0("")) + "\0trailing";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bearer.fetchToken(config));
        assertTrue(e.getMessage().contains("NUL"), e.getMessage());
    }

    @Test
    void mapValuesMustBeJson() {
        assertThrows(IllegalArgumentException.class, () -> Bearer.fetchToken(Map.of("client_id", new Object())));
    }

    @Test
    void closedClientIsRefused() {
        BearerClient client = BearerClient.fromMap(server.auth0(""));
        assertFalse(client.isClosed());
        client.close();
        assertTrue(client.isClosed());
        assertEquals("BearerClient[closed]", client.toString());
        IllegalStateException e = assertThrows(IllegalStateException.class, client::getToken);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, client::getAuthorizationHeader);
        assertThrows(IllegalStateException.class, client::getTokenResponse);
    }

    @Test
    void closeTwiceIsHarmless() {
        BearerClient client = BearerClient.fromMap(server.auth0(""));
        client.getToken();
        client.close();
        client.close();
        assertTrue(client.isClosed());
    }

    @Test
    void unclosedClientsAreFreedByTheCleaner() throws Exception {
        // Nothing to observe from Java but the absence of a crash; the memory test
        // covers leaks. Abandon clients, collect, and keep working.
        for (int i = 0; i < 1000; i++) {
            BearerClient.fromMap(server.auth0(""));
        }
        System.gc();
        Thread.sleep(100);
        System.gc();
        try (BearerClient client = BearerClient.fromMap(server.auth0(""))) {
            assertTrue(client.getToken().startsWith("ey"));
        }
    }
}
