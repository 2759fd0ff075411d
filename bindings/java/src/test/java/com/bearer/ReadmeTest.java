package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's examples, exactly as written: every ```java block with a
 * main method is compiled against the jar (and the HTTP libraries, for the
 * integrations' examples) and run in a child JVM, in a folder holding the
 * credentials files it reads (pointing at the local server).
 */
class ReadmeTest {
    private static final Pattern BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern CLASS = Pattern.compile("public class (\\w+)");
    private final AuthServer server = AuthServer.get();

    private static List<String> programs() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        List<String> programs = new ArrayList<>();
        Matcher m = BLOCK.matcher(readme);
        while (m.find()) {
            if (m.group(1).contains("public static void main")) {
                programs.add(m.group(1));
            }
        }
        return programs;
    }

    private static String run(Path dir, String source) throws Exception {
        return run(dir, source, null);
    }

    /** The class path for the HTTP-client examples: the jar, the test classes and the Debian jars. */
    private static String httpClassPath() {
        String jars = System.getProperty("bearer.httpJars", "");
        return jars.isEmpty() ? AuthServer.classPath() : AuthServer.classPath() + java.io.File.pathSeparator + jars;
    }

    /**
     * Compiles and runs one example; {@code browser}, when given, is handed
     * the program's first output line (while it runs) and plays the user.
     */
    private static String run(Path dir, String source, java.util.function.Consumer<String> browser)
            throws Exception {
        return run(dir, source, browser, AuthServer.classPath());
    }

    private static String run(Path dir, String source, java.util.function.Consumer<String> browser,
            String classPath, String... args) throws Exception {
        Matcher name = CLASS.matcher(source);
        assertTrue(name.find(), "no public class in\n" + source);
        Path file = dir.resolve(name.group(1) + ".java");
        Files.writeString(file, source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, "-cp", classPath, "-d", dir.toString(),
                file.toString()), "README example does not compile");
        List<String> command = new ArrayList<>(List.of(AuthServer.java(),
                "-cp", classPath + java.io.File.pathSeparator + dir, name.group(1)));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        java.io.InputStream stdout = process.getInputStream();
        String first = "";
        if (browser != null) {
            java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
            for (int b = stdout.read(); b != -1 && b != '\n'; b = stdout.read()) {
                line.write(b);
            }
            first = line.toString(StandardCharsets.UTF_8) + "\n";
            browser.accept(first.trim());
        }
        String out = first + new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), out);
        return out.trim();
    }

    @Test
    void examplesRunAsWritten(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("cobuilder_credentials.json"), AuthServer.json(server.cobuilder("")));
        Files.writeString(dir.resolve("data_cosmos_api_credentials.json"), AuthServer.json(server.auth0("")));
        Files.writeString(dir.resolve("native_app.json"), AuthServer.json(server.nativeApp("redirect_uri", null)));
        Files.writeString(dir.resolve("device_app.json"), AuthServer.json(server.deviceApp("interval=0")));
        List<String> programs = programs();
        assertEquals(7, programs.size(), "README java examples with a main method");

        long before = server.stats().get("cobuilder");
        String token = run(dir, programs.get(0));
        assertTrue(token.matches("[A-Za-z0-9._-]{20,}"), "first example printed: " + token);
        assertEquals(before + 1, server.stats().get("cobuilder"));

        String header = run(dir, programs.get(1));
        assertTrue(header.startsWith("Authorization: Bearer ey"), "second example printed: " + header);

        // The HTTP-client examples (Apache, OkHttp, java.net.http) call the protected resource.
        for (int i = 2; i < 5; i++) {
            String answer = run(dir, programs.get(i), null, httpClassPath(), server.base + "/api/whoami");
            assertTrue(answer.contains("\"sub\":\"demo-client@clients\""), "example " + i + " printed: " + answer);
        }

        String login = run(dir, programs.get(5), line -> {
            assertTrue(line.startsWith("Open " + server.base + "/authorize?"), line);
            AuthServer.Answer page = AuthServer.get(AuthServer.browse(line.substring("Open ".length())));
            assertEquals(200, page.status, page.body);
        });
        assertTrue(login.endsWith("Signed in, ID token: true"), "third example printed: " + login);

        String device = run(dir, programs.get(6), line -> {
            String prefix = "Open " + server.base + "/activate and enter ";
            assertTrue(line.startsWith(prefix), line);
            server.device(line.substring(prefix.length()), "approve");
        });
        assertTrue(device.endsWith("Signed in, refresh token: true"), "device example printed: " + device);
    }
}
