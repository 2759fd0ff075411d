package com.bearer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local authorization server ({@code target/release/bearer serve --port 0}),
 * started once for the whole suite and stopped when the JVM exits; a test
 * that stops a server starts its own.
 */
final class AuthServer {
    static final String AUTH0_PATH = "/oauth/token";
    static final String COBUILDER_PATH = "/authentication/api/v1/oauth2/token";

    private static AuthServer instance;
    private static final AtomicLong UNIQUE = new AtomicLong();

    private static AuthServer tlsInstance;

    final String base;
    /** With TLS ({@link #tls()}): the HTTPS listener that asks no certificate, and the mutual-TLS one. */
    final String httpsBase;
    final String mtlsBase;
    private final Process process;

    private AuthServer(Process process, String base) {
        this(process, base, null, null);
    }

    private AuthServer(Process process, String base, String httpsBase, String mtlsBase) {
        this.process = process;
        this.base = base;
        this.httpsBase = httpsBase;
        this.mtlsBase = mtlsBase;
    }

    /** The checkout root: -Dbearer.root (test.sh sets it), else ../.. of the working folder. */
    static Path root() {
        String root = System.getProperty("bearer.root");
        return (root != null ? Path.of(root) : Path.of("../..")).toAbsolutePath().normalize();
    }

    /** The binding's jar and the test classes, for child JVMs (the launcher's own class path has neither). */
    static String classPath() {
        try {
            return Path.of(Native.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    + java.io.File.pathSeparator
                    + Path.of(AuthServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The java launcher of the running JVM. */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static synchronized AuthServer get() {
        if (instance == null) {
            instance = start();
        }
        return instance;
    }

    /**
     * The server with HTTPS ({@code tests/tls/server.pem}), started once: plain
     * HTTP at {@link #base}, HTTPS at {@link #httpsBase}, and mutual TLS (a
     * client certificate required) at {@link #mtlsBase}.
     */
    static synchronized AuthServer tls() {
        if (tlsInstance == null) {
            tlsInstance = start(true);
        }
        return tlsInstance;
    }

    /** A server of the caller's own, for a test that stops it; {@link #stop()} ends it. */
    static AuthServer start() {
        return start(false);
    }

    private static AuthServer start(boolean tls) {
        Path binary = root().resolve("target/release/bearer");
        List<String> command = new ArrayList<>(List.of(binary.toString(), "serve", "--port", "0"));
        if (tls) {
            command.addAll(List.of("--tls-cert", root().resolve("tests/tls/server.pem").toString(),
                    "--tls-key", root().resolve("tests/tls/server.key").toString()));
        }
        try {
            Process process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
            BufferedReader out = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            String prefix = "listening on ";
            if (first == null || !first.startsWith(prefix)) {
                process.destroyForcibly();
                throw new IllegalStateException("bearer serve said " + first);
            }
            String https = null;
            String mtls = null;
            while (tls && mtls == null) {
                String line = out.readLine();
                if (line == null) {
                    process.destroyForcibly();
                    throw new IllegalStateException("bearer serve --tls-cert named no mutual-TLS listener");
                }
                if (line.startsWith("https listening on ")) {
                    https = line.substring("https listening on ".length()).trim();
                } else if (line.startsWith("mutual-TLS listening on ")) {
                    mtls = line.substring("mutual-TLS listening on ".length()).trim();
                }
            }
            Thread drain = new Thread(() -> {
                try {
                    while (out.readLine() != null) {
                        // keep the pipe empty
                    }
                } catch (IOException e) {
                    // server gone
                }
            }, "bearer-serve-stdout");
            drain.setDaemon(true);
            drain.start();
            return new AuthServer(process, first.substring(prefix.length()).trim(), https, mtls);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + binary, e);
        }
    }

    /** A query string that makes a fresh cache entry in the library. */
    static String unique() {
        return "t=" + System.nanoTime() + "-" + UNIQUE.incrementAndGet();
    }

    String auth0Url(String query) {
        return base + AUTH0_PATH + "?" + (query.isEmpty() ? "" : query + "&") + unique();
    }

    String cobuilderUrl(String query) {
        return base + COBUILDER_PATH + "?" + (query.isEmpty() ? "" : query + "&") + unique();
    }

    /** The seed's Auth0 credentials against this server, with overrides (a null value removes a key). */
    Map<String, Object> auth0(String query, Object... overrides) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("client_id", "demo-client");
        config.put("client_secret", "demo-secret");
        config.put("audience", "https://beeapp.open-cosmos.com");
        config.put("grant_type", "client_credentials");
        config.put("token_url", auth0Url(query));
        return apply(config, overrides);
    }

    /** The Cobuilder credentials against this server. */
    Map<String, Object> cobuilder(String query, Object... overrides) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("clientId", "cobuilder-client");
        config.put("clientSecret", "cobuilder-secret");
        config.put("audienceUrl", "https://api.cobuilder.com");
        config.put("token_url", cobuilderUrl(query));
        return apply(config, overrides);
    }

    private static Map<String, Object> apply(Map<String, Object> config, Object... overrides) {
        for (int i = 0; i < overrides.length; i += 2) {
            if (overrides[i + 1] == null) {
                config.remove((String) overrides[i]);
            } else {
                config.put((String) overrides[i], overrides[i + 1]);
            }
        }
        return config;
    }

    static String json(Map<String, Object> config) {
        return Json.write(config);
    }

    /** Token requests so far, per endpoint: {@code auth0} and {@code cobuilder}. */
    Map<String, Long> stats() {
        try {
            HttpURLConnection connection = (HttpURLConnection) new URL(base + "/_stats").openConnection();
            try (InputStream in = connection.getInputStream()) {
                Map<String, Object> parsed = Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                Map<String, Long> counts = new LinkedHashMap<>();
                parsed.forEach((k, v) -> counts.put(k, ((Number) v).longValue()));
                return counts;
            } finally {
                connection.disconnect();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Token requests to both token endpoints (refreshes included; not authorize or discovery). */
    long requests() {
        Map<String, Long> stats = stats();
        return stats.get("auth0") + stats.get("cobuilder");
    }

    /** One counter of /_stats: auth0, cobuilder, authorize, refresh, discovery, device, device_polls. */
    long stat(String name) {
        Long value = stats().get(name);
        if (value == null) {
            throw new IllegalStateException("/_stats has no " + name);
        }
        return value;
    }

    /** A redirect URI nobody listens on: the tests read the redirect themselves. */
    static final String APP_REDIRECT = "http://127.0.0.1:9/callback";

    /** The public native client for the code flow (PKCE, no secret), with overrides. */
    Map<String, Object> nativeApp(Object... overrides) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("client_id", "native-client");
        config.put("grant_type", "authorization_code");
        config.put("audience", "https://beeapp.open-cosmos.com");
        config.put("redirect_uri", APP_REDIRECT);
        config.put("authorize_url", base + "/authorize");
        config.put("token_url", auth0Url(""));
        return apply(config, overrides);
    }

    /** The device authorization endpoint, with the server's switches ({@code interval=0}, {@code expires_in=1}). */
    String deviceUrl(String query) {
        return base + "/oauth/device/code" + (query.isEmpty() ? "" : "?" + query);
    }

    /** The public native client for the device flow (no secret), with overrides. */
    Map<String, Object> deviceApp(String query, Object... overrides) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("client_id", "native-client");
        config.put("grant_type", "device_code");
        config.put("device_authorization_url", deviceUrl(query));
        config.put("token_url", base + AUTH0_PATH);
        config.put("audience", "https://beeapp.open-cosmos.com");
        config.put("scope", "openid offline_access");
        return apply(config, overrides);
    }

    /** What the user does on the verification page: {@code approve}, {@code deny} or {@code slow_down}. */
    void device(String userCode, String action) {
        try {
            HttpURLConnection connection = (HttpURLConnection) new URL(base + "/_device?user_code="
                    + java.net.URLEncoder.encode(userCode, StandardCharsets.UTF_8) + "&action=" + action)
                    .openConnection();
            connection.setRequestMethod("POST");
            connection.setDoOutput(true);
            connection.getOutputStream().close();
            try {
                int status = connection.getResponseCode();
                if (status / 100 != 2) {
                    throw new IllegalStateException("POST /_device " + action + ": " + status);
                }
            } finally {
                connection.disconnect();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The status, Location and body of a GET that does not follow redirects. */
    static final class Answer {
        final int status;
        final String location;
        final String body;

        Answer(int status, String location, String body) {
            this.status = status;
            this.location = location;
            this.body = body;
        }
    }

    static Answer get(String url) {
        try {
            HttpURLConnection connection = (HttpURLConnection) new URL(url).openConnection();
            connection.setInstanceFollowRedirects(false);
            connection.setConnectTimeout(10_000);
            connection.setReadTimeout(10_000);
            try {
                int status = connection.getResponseCode();
                InputStream in = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
                String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
                if (in != null) {
                    in.close();
                }
                return new Answer(status, connection.getHeaderField("Location"), body);
            } finally {
                connection.disconnect();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + url, e);
        }
    }

    /**
     * What a browser does with an authorize URL: the server signs the test
     * user in and redirects; this returns where to.
     */
    static String browse(String authorizeUrl) {
        Answer answer = get(authorizeUrl);
        if (answer.status != 302 || answer.location == null) {
            throw new AssertionError("expected a redirect from " + authorizeUrl + ", got " + answer.status
                    + " " + answer.body);
        }
        return answer.location;
    }

    /** A parameter of a URL's query (or, for an implicit redirect, its fragment), decoded. */
    static String param(String url, String name) {
        int start = url.indexOf('?');
        int hash = url.indexOf('#');
        String params = url.substring(start >= 0 ? start + 1 : hash + 1);
        for (String pair : params.split("[&#]")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Stops this server and waits until it is gone. */
    void stop() {
        process.destroy();
        try {
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
