package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * 100,000 calls leave the process size flat: every string the library returns
 * is freed, on success and on failure. A leak of even 1 KiB per call would
 * add about 100 MiB.
 */
class MemoryTest {
    private static final int WARM_UP = 10_000;
    private static final int CALLS = 100_000;
    // test.sh runs the JVM with a fixed, pre-touched heap, so growth here is native memory
    // (about 0.1 MiB); a 100-byte string leaked per call would add about 10 MiB.
    private static final long BOUND = 10L * 1024 * 1024;

    private final AuthServer server = AuthServer.get();

    private static long rss() throws Exception {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static void run(BearerClient client, String token, String badConfig, String signIn, String login,
            int calls) {
        for (int i = 0; i < calls; i++) {
            switch (i % 7) {
                case 0:
                    assertEquals(token, client.getToken());
                    break;
                case 1:
                    client.getAuthorizationHeader();
                    break;
                case 2:
                    client.getTokenResponse();
                    break;
                case 3:
                    try {
                        Bearer.fetchToken(badConfig);
                        throw new AssertionError("accepted a configuration without a secret");
                    } catch (BearerException e) {
                        // the problem string was copied and freed
                    }
                    break;
                case 4:
                    // A sign-in's start: a request JSON with fresh secrets, no network.
                    Bearer.authorizeStart(signIn);
                    break;
                case 5:
                    // A loopback login opened and closed: its URL copied, the handle freed.
                    try (BearerLogin opened = BearerLogin.start(login)) {
                        opened.getUrl();
                    }
                    break;
                default:
                    try {
                        BearerClient.fromJson("{");
                        throw new AssertionError("accepted malformed JSON");
                    } catch (BearerException e) {
                        // likewise
                    }
            }
        }
    }

    @Test
    void hundredThousandCallsStayFlat() throws Exception {
        String badConfig = AuthServer.json(server.auth0("", "client_secret", null));
        String signIn = AuthServer.json(server.nativeApp());
        String login = AuthServer.json(server.nativeApp("redirect_uri", null));
        try (BearerClient client = BearerClient.fromMap(server.auth0("expires_in=3600"))) {
            String token = client.getToken();
            long requests = server.requests();
            run(client, token, badConfig, signIn, login, WARM_UP);
            long before = rss();
            long started = System.nanoTime();
            run(client, token, badConfig, signIn, login, CALLS);
            double seconds = (System.nanoTime() - started) / 1e9;
            long after = rss();
            long growth = after - before;
            System.out.printf("memory: %,d calls, RSS before %.1f MiB, after %.1f MiB, growth %+.2f MiB"
                    + " (bound %d MiB), %.2f s%n", CALLS, before / 1048576.0, after / 1048576.0,
                    growth / 1048576.0, BOUND / 1048576, seconds);
            assertTrue(growth < BOUND, "RSS grew by " + growth + " bytes");
            assertEquals(requests, server.requests(), "the cached client made requests");
        }
        assertThrows(BearerException.class, () -> Bearer.fetchToken(badConfig));
    }
}
