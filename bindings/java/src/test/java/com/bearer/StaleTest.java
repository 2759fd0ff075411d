package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Serve-stale: a failed refresh of a still-valid token returns that token, and its problem waits in takeRefreshProblem, once. */
class StaleTest {
    /** A 4 s token is due for refresh 3.4-3.6 s after issue and served until 3.92 s. */
    private static final long DUE_NANOS = 3_650_000_000L;

    private static void sleepUntil(long issued, long afterNanos) throws InterruptedException {
        long left = issued + afterNanos - System.nanoTime();
        if (left > 0) {
            Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
        }
    }

    @Test
    void aFailedRefreshServesTheCachedTokenAndReportsOnce() throws InterruptedException {
        AuthServer own = AuthServer.start();
        BearerClient client;
        String token;
        long issued;
        long expiresAt;
        try {
            client = BearerClient.fromMap(own.auth0("expires_in=4"));
            token = client.getToken();
            issued = System.nanoTime();
            expiresAt = client.getTokenResponse().getExpiresAt().orElseThrow().getEpochSecond();
        } finally {
            own.stop(); // the refresh that is due next cannot succeed
        }
        try (client) {
            sleepUntil(issued, DUE_NANOS);
            assertEquals(token, client.getToken());
            Optional<BearerException> taken = client.takeRefreshProblem();
            assertTrue(taken.isPresent(), "a refresh problem");
            BearerException problem = taken.get();
            assertEquals("urn:bearer:problem:unreachable", problem.getType());
            assertEquals(BearerStatus.UNAVAILABLE, problem.getCode());
            assertEquals(expiresAt, problem.getExtensions().get("serving_cached_token_until"));
            assertEquals(problem.getTitle() + ": " + problem.getDetail(), problem.getMessage());
            assertEquals(Optional.empty(), client.takeRefreshProblem());

            sleepUntil(issued, 4_100_000_000L);
            BearerException expired = assertThrows(BearerException.class, client::getToken);
            assertEquals("urn:bearer:problem:unreachable", expired.getType());
            assertEquals(BearerStatus.UNAVAILABLE, expired.getCode());
        }
    }

    @Test
    void aHealthyClientHasNoRefreshProblem() {
        Map<String, Object> config = AuthServer.get().auth0("");
        BearerClient client = BearerClient.fromMap(config);
        client.getToken();
        assertEquals(Optional.empty(), client.takeRefreshProblem());
        client.close();
        assertThrows(IllegalStateException.class, client::takeRefreshProblem);
    }
}
