package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The device authorization grant (RFC 8628) against the local server, the
 * test playing the user on {@code POST /_device}. Every case polls with
 * {@code interval=0} (or 1) so that it is fast, except slow_down, which
 * waits its 5 s.
 */
class DeviceTest {
    /** The server makes a random code per device sign-in, e.g. ABCD-EFGH. */
    private static final String USER_CODE = "[A-Z]{4}-[A-Z]{4}";
    private final AuthServer server = AuthServer.get();

    /** The user acts from another thread, {@code delayMs} after the poll was started. */
    private Thread later(long delayMs, Runnable user) {
        Thread thread = new Thread(() -> {
            try {
                Thread.sleep(delayMs);
            } catch (InterruptedException e) {
                return;
            }
            user.run();
        }, "device-user");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void assertProblem(BearerException e, String type, BearerStatus code) {
        assertEquals(type, e.getType(), e::getMessage);
        assertEquals(code, e.getCode(), e::getMessage);
        assertEquals(e.getTitle() + ": " + e.getDetail(), e.getMessage());
    }

    private static double since(long started) {
        return (System.nanoTime() - started) / 1e9;
    }

    @Test
    void startShowsTheCode() {
        long before = server.stat("device");
        try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=0"))) {
            String code = device.getUserCode();
            assertTrue(code.matches(USER_CODE), code);
            assertEquals(server.base + "/activate", device.getVerificationUri());
            assertEquals(server.base + "/activate?user_code=" + code,
                    device.getVerificationUriComplete().orElseThrow());
            assertEquals(900, device.getExpiresIn());
            assertEquals(0, device.getInterval());
            assertEquals("BearerDevice[user_code=" + code + "]", device.toString());
        }
        assertEquals(before + 1, server.stat("device"));
    }

    @Test
    void startFromJson() {
        try (BearerDevice device = BearerDevice.start(AuthServer.json(server.deviceApp("interval=0")))) {
            assertTrue(device.getUserCode().matches(USER_CODE), device.getUserCode());
        }
    }

    @Test
    void startFromTheIssuersDiscoveryDocument() {
        // No device_authorization_url or token_url: both come from /.well-known/openid-configuration.
        long before = server.stat("device");
        try (BearerDevice device = BearerDevice.start(server.deviceApp("",
                "device_authorization_url", null, "token_url", null, "issuer", server.base + "/"))) {
            assertTrue(device.getUserCode().matches(USER_CODE), device.getUserCode());
            assertEquals(server.base + "/activate", device.getVerificationUri());
            assertEquals(5, device.getInterval());
        }
        assertEquals(before + 1, server.stat("device"));
    }

    @Test
    void forgottenDevicesAreFreedByTheCleaner() throws Exception {
        // Nothing to observe from Java but the absence of a crash (valgrind.sh checks the frees).
        for (int i = 0; i < 50; i++) {
            BearerDevice.start(server.deviceApp("interval=0"));
        }
        System.gc();
        Thread.sleep(100);
        System.gc();
        try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=0"))) {
            device.cancel();
            assertEquals(BearerStatus.CANCELLED, assertThrows(BearerException.class, device::poll).getCode());
        }
    }

    @Test
    void approved() throws Exception {
        try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=0"))) {
            long polls = server.stat("device_polls");
            Thread user = later(200, () -> server.device(device.getUserCode(), "approve"));
            TokenResponse tokens = device.poll();
            user.join();
            assertTrue(tokens.getAccessToken().startsWith("ey"), "access token");
            assertTrue(tokens.getRefreshToken().isPresent(), "refresh token");
            assertTrue(server.stat("device_polls") > polls, "no device-code grant request");
        }
    }

    @Test
    void approvedAsync() throws Exception {
        try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=0"))) {
            CompletableFuture<TokenResponse> future = device.pollAsync();
            later(100, () -> server.device(device.getUserCode(), "approve"));
            TokenResponse tokens = future.get(10, TimeUnit.SECONDS);
            assertFalse(tokens.getAccessToken().isEmpty());
            assertTrue(tokens.getRefreshToken().isPresent());
        }
    }

    @Test
    void denied() {
        try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=0"))) {
            later(100, () -> server.device(device.getUserCode(), "deny"));
            BearerException e = assertThrows(BearerException.class, device::poll);
            assertProblem(e, "urn:bearer:problem:authorization-denied", BearerStatus.REJECTED);
        }
    }

    @Test
    void deniedAsyncFailsTheFuture() throws Exception {
        try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=0"))) {
            CompletableFuture<TokenResponse> future = device.pollAsync();
            later(100, () -> server.device(device.getUserCode(), "deny"));
            ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(10, TimeUnit.SECONDS));
            BearerException problem = (BearerException) e.getCause();
            assertProblem(problem, "urn:bearer:problem:authorization-denied", BearerStatus.REJECTED);
        }
    }

    @Test
    void expired() {
        try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=0&expires_in=1"))) {
            assertEquals(1, device.getExpiresIn());
            long started = System.nanoTime();
            BearerException e = assertThrows(BearerException.class, device::poll);
            assertProblem(e, "urn:bearer:problem:device-code-expired", BearerStatus.REJECTED);
            double took = since(started);
            assertTrue(took < 5, () -> "expiry noticed after " + took + " s");
        }
    }

    @Test
    void cancelledFromAnotherThread() {
        try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=1"))) {
            long[] cancelledAt = new long[1];
            later(300, () -> {
                cancelledAt[0] = System.nanoTime();
                device.cancel();
            });
            BearerException e = assertThrows(BearerException.class, device::poll);
            double late = since(cancelledAt[0]);
            assertProblem(e, "urn:bearer:problem:cancelled", BearerStatus.CANCELLED);
            assertEquals(9, e.getCode().code());
            assertTrue(late < 0.5, () -> "the poll returned " + late + " s after the cancel");

            // Every later poll is cancelled too, at once.
            long started = System.nanoTime();
            assertProblem(assertThrows(BearerException.class, device::poll), "urn:bearer:problem:cancelled",
                    BearerStatus.CANCELLED);
            assertTrue(since(started) < 0.5);
        }
    }

    @Test
    void cancellingTheFutureCancelsThePoll() throws Exception {
        try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=1"))) {
            CountDownLatch returned = new CountDownLatch(1);
            CompletableFuture<TokenResponse> future = device.pollAsync(task -> {
                Thread thread = new Thread(() -> {
                    task.run();
                    returned.countDown();
                });
                thread.setDaemon(true);
                thread.start();
            });
            Thread.sleep(300);
            assertTrue(future.cancel(true));
            assertThrows(CancellationException.class, future::get);
            assertTrue(returned.await(1, TimeUnit.SECONDS), "the native poll went on");
            assertProblem(assertThrows(BearerException.class, device::poll), "urn:bearer:problem:cancelled",
                    BearerStatus.CANCELLED);
        }
    }

    @Test
    void closeCancelsAPollInProgress() throws Exception {
        BearerDevice device = BearerDevice.start(server.deviceApp("interval=1"));
        CompletableFuture<TokenResponse> future = device.pollAsync();
        Thread.sleep(300);
        long started = System.nanoTime();
        device.close();
        assertTrue(since(started) < 0.5, "close waited for the poll to end by itself");
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(1, TimeUnit.SECONDS));
        assertProblem((BearerException) e.getCause(), "urn:bearer:problem:cancelled", BearerStatus.CANCELLED);
        assertTrue(device.isClosed());
        assertThrows(IllegalStateException.class, device::poll);
        device.cancel(); // nothing, once closed
        device.close(); // a second close does nothing
        assertEquals("BearerDevice[user_code=" + device.getUserCode() + ", closed]", device.toString());
    }

    @Test
    void onePollAtATime() throws Exception {
        try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=1"))) {
            CompletableFuture<TokenResponse> first = device.pollAsync();
            Thread.sleep(300);
            assertThrows(IllegalStateException.class, device::poll);
            device.cancel();
            ExecutionException e = assertThrows(ExecutionException.class, () -> first.get(1, TimeUnit.SECONDS));
            assertEquals(BearerStatus.CANCELLED, ((BearerException) e.getCause()).getCode());
        }
    }

    @Test
    void slowDownIsHonoured() {
        try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=0"))) {
            server.device(device.getUserCode(), "slow_down");
            server.device(device.getUserCode(), "approve");
            long started = System.nanoTime();
            TokenResponse tokens = device.poll();
            double took = since(started);
            assertNotNull(tokens.getAccessToken());
            assertTrue(took >= 4.5, () -> "slow_down added only " + took + " s");
        }
    }

    @Test
    void withoutADeviceAuthorizationUrl() {
        long before = server.stat("device");
        BearerException e = assertThrows(BearerException.class,
                () -> BearerDevice.start(server.deviceApp("", "device_authorization_url", null)));
        assertProblem(e, "urn:bearer:problem:invalid-config", BearerStatus.INVALID_CONFIG);
        assertEquals("device_authorization_url", e.getExtensions().get("key"));
        assertEquals(before, server.stat("device"));
    }

    @Test
    void nullConfiguration() {
        assertThrows(NullPointerException.class, () -> BearerDevice.start((String) null));
        assertThrows(NullPointerException.class, () -> BearerDevice.start((java.util.Map<String, ?>) null));
    }
}
