package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host tier: processes with the same credentials share one token
 * through sealed files in a cache folder, so the server is asked once. Each
 * child is a JVM of its own (the memory cache is per process), run one after
 * the other.
 */
class SharedCacheTest {
    private final AuthServer server = AuthServer.get();

    /**
     * A child JVM that makes a client from {@code config} and prints its
     * token; {@code bearerCache} is its BEARER_CACHE, or null for none.
     */
    private static String childToken(String config, String bearerCache, Path dir) throws Exception {
        return childToken(config, bearerCache, null, dir);
    }

    /** As above, with {@code xdgCacheHome} as the child's XDG_CACHE_HOME unless null. */
    private static String childToken(String config, String bearerCache, Path xdgCacheHome, Path dir)
            throws Exception {
        ProcessBuilder builder = new ProcessBuilder(
                AuthServer.java(), "-cp", AuthServer.classPath(), SharedCacheProbe.class.getName());
        builder.environment().remove("BEARER_CACHE");
        if (bearerCache != null) {
            builder.environment().put("BEARER_CACHE", bearerCache);
        }
        if (xdgCacheHome != null) {
            builder.environment().put("XDG_CACHE_HOME", xdgCacheHome.toString());
        }
        Path stderr = Files.createTempFile(dir, "child-", ".err");
        builder.redirectError(stderr.toFile());
        Process process = builder.start();
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write(config.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the child did not finish");
        assertEquals(0, process.exitValue(), () -> readString(stderr));
        assertTrue(out.startsWith("eyJ"), "the child printed no token");
        return out;
    }

    private static String readString(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private void assertTwoProcessesShare(Map<String, Object> config, String bearerCache, Path dir)
            throws Exception {
        String json = AuthServer.json(config);
        long before = server.stat("auth0");
        String first = childToken(json, bearerCache, dir);
        String second = childToken(json, bearerCache, dir);
        assertTrue(first.equals(second), "the second process got a token of its own");
        assertEquals(before + 1, server.stat("auth0"));
    }

    @Test
    void twoProcessesShareOneTokenThroughTheCacheFolder(@TempDir Path dir) throws Exception {
        Path folder = dir.resolve("tokens");
        assertTwoProcessesShare(server.auth0("", "cache", "file:" + folder), null, dir);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder)));
    }

    @Test
    void bearerCacheTurnsSharingOnWithoutTouchingTheConfig(@TempDir Path dir) throws Exception {
        Path folder = dir.resolve("tokens");
        Map<String, Object> config = server.auth0("");
        assertFalse(config.containsKey("cache"));
        assertTwoProcessesShare(config, "file:" + folder, dir);
        try (Stream<Path> entries = Files.list(folder)) {
            assertTrue(entries.findAny().isPresent(), "nothing was stored in the folder");
        }
    }

    /** Starts a real redis-server on {@code port}; waits until it answers PING. */
    private static Process startRedis(int port) throws Exception {
        Process redis = new ProcessBuilder(
                        "/usr/bin/redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                socket.setSoTimeout(2000);
                socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                byte[] reply = new byte[5];
                InputStream in = socket.getInputStream();
                int n = in.readNBytes(reply, 0, reply.length);
                if (n == 5 && new String(reply, StandardCharsets.US_ASCII).equals("+PONG")) {
                    return redis;
                }
            } catch (java.io.IOException e) {
                // not listening yet
            }
            if (!redis.isAlive()) {
                throw new AssertionError("redis-server exited with " + redis.exitValue());
            }
            Thread.sleep(50);
        }
        stopRedis(redis);
        throw new AssertionError("redis-server did not answer PING within 10 s");
    }

    /** Stops the server by its PID (SIGTERM) and reaps it. */
    private static void stopRedis(Process redis) throws InterruptedException {
        ProcessHandle.of(redis.pid()).ifPresent(ProcessHandle::destroy);
        if (!redis.waitFor(10, TimeUnit.SECONDS)) {
            redis.destroyForcibly();
            redis.waitFor();
        }
    }

    @Test
    void twoProcessesShareOneTokenThroughRedis(@TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Process redis = startRedis(port);
        try {
            String json = AuthServer.json(server.auth0("", "cache", "redis://127.0.0.1:" + port + "/0"));
            // Each child a host of its own: no shared files, only Redis.
            Path hostA = Files.createDirectory(dir.resolve("host-a"));
            Path hostB = Files.createDirectory(dir.resolve("host-b"));
            long before = server.stat("auth0");
            String first = childToken(json, null, hostA, dir);
            String second = childToken(json, null, hostB, dir);
            assertTrue(first.equals(second), "the second process got a token of its own");
            assertEquals(before + 1, server.stat("auth0"));
        } finally {
            stopRedis(redis);
        }
    }
}
