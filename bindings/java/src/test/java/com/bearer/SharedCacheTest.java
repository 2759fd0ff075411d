package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
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
        ProcessBuilder builder = new ProcessBuilder(
                AuthServer.java(), "-cp", AuthServer.classPath(), SharedCacheProbe.class.getName());
        builder.environment().remove("BEARER_CACHE");
        if (bearerCache != null) {
            builder.environment().put("BEARER_CACHE", bearerCache);
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
}
