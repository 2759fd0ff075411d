package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** How libbearer is found, in child JVMs since the library is loaded once per process. */
class LookupTest {
    private static List<String> probe(String bearerLibrary) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(
                AuthServer.java(), "-cp", AuthServer.classPath(), LookupProbe.class.getName());
        if (bearerLibrary == null) {
            builder.environment().remove("BEARER_LIBRARY");
        } else {
            builder.environment().put("BEARER_LIBRARY", bearerLibrary);
        }
        builder.redirectErrorStream(true);
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), out);
        return out.lines().collect(java.util.stream.Collectors.toList());
    }

    @Test
    void missingBearerLibraryNamesThePath() throws Exception {
        List<String> lines = probe("/nonexistent/libbearer.so");
        assertEquals(2, lines.size(), lines.toString());
        String line = lines.get(0);
        assertTrue(line.startsWith("error "), line);
        assertTrue(line.contains("/nonexistent/libbearer.so"), line);
        assertTrue(line.contains("BEARER_LIBRARY"), line);
        assertEquals(line, lines.get(1), "the second call must report the same failure");
    }

    @Test
    void unloadableBearerLibraryGivesTheReason() throws Exception {
        String notALibrary = AuthServer.root().resolve("include/bearer.h").toString();
        String line = probe(notALibrary).get(0);
        assertTrue(line.startsWith("error "), line);
        assertTrue(line.contains("cannot load " + notALibrary), line);
    }

    @Test
    void bearerLibraryIsUsed() throws Exception {
        String release = AuthServer.root().resolve("target/release/libbearer.so").toString();
        assertEquals("loaded " + Bearer.version(), probe(release).get(0));
    }

    @Test
    void packagedCopyIsUsedByDefault() throws Exception {
        assertEquals("loaded " + Bearer.version(), probe(null).get(0));
    }
}
