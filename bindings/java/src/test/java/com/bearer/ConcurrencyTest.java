package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Threads sharing one client share one request. */
class ConcurrencyTest {
    private static final int THREADS = 16;
    private final AuthServer server = AuthServer.get();

    @Test
    void threadsShareOneRequest() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (BearerClient client = BearerClient.fromMap(server.auth0("stall_ms=300"))) {
            CountDownLatch ready = new CountDownLatch(THREADS);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                final int n = i;
                results.add(pool.submit(() -> {
                    ready.countDown();
                    start.await();
                    switch (n % 3) {
                        case 0: return client.getToken();
                        case 1: return client.getAuthorizationHeader().substring("Bearer ".length());
                        default: return client.getTokenResponse().getAccessToken();
                    }
                }));
            }
            assertTrue(ready.await(10, TimeUnit.SECONDS));
            long before = server.requests();
            long started = System.nanoTime();
            start.countDown();
            Set<String> tokens = new HashSet<>();
            for (Future<String> result : results) {
                tokens.add(result.get(30, TimeUnit.SECONDS));
            }
            long elapsedMs = (System.nanoTime() - started) / 1_000_000;
            assertEquals(1, tokens.size(), "tokens: " + tokens);
            assertEquals(before + 1, server.requests());
            // One stalled request, not sixteen in a row.
            assertTrue(elapsedMs < 3000, "took " + elapsedMs + " ms");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void closeWaitsForCallsInProgress() throws Exception {
        BearerClient client = BearerClient.fromMap(server.auth0("stall_ms=500"));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            long before = server.requests();
            Future<String> token = pool.submit(client::getToken);
            // The server counts a request on arrival, then stalls: the call is now in progress.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (server.requests() == before && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(before + 1, server.requests());
            client.close();
            assertTrue(token.get(10, TimeUnit.SECONDS).startsWith("ey"));
            assertTrue(client.isClosed());
        } finally {
            pool.shutdownNow();
        }
    }
}
