package com.bearer.bench;

import com.bearer.BearerClient;
import com.bearer.http.apache.BearerExecHandler;
import com.bearer.http.jdk.BearerHttpClient;
import com.bearer.http.okhttp.BearerOkHttp;
import com.google.api.client.auth.oauth2.BearerToken;
import com.google.api.client.auth.oauth2.ClientCredentialsTokenRequest;
import com.google.api.client.auth.oauth2.ClientParametersAuthentication;
import com.google.api.client.auth.oauth2.Credential;
import com.google.api.client.auth.oauth2.TokenResponse;
import com.google.api.client.http.GenericUrl;
import com.google.api.client.http.HttpRequestFactory;
import com.google.api.client.http.javanet.NetHttpTransport;
import com.google.api.client.json.gson.GsonFactory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.io.entity.EntityUtils;

/**
 * Median wall time of one {@code GET /api/whoami} over a kept-alive
 * connection, for each HTTP client with a fixed Authorization header (the
 * floor) and with its bearer integration, and for the peer found in Debian
 * (Google's OAuth client {@code Credential} on google-http-client). Rows are
 * measured interleaved in rounds (a block of requests per row in turn), in one
 * run.
 */
public final class Bench {
    private static final int WARMUP = 2000;
    private static final int ROUNDS = 30;
    private static final int PER_ROUND = 200;

    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    static final class Row {
        final String name;
        final String floor;
        final Call call;
        final List<Long> samples = new ArrayList<>();

        Row(String name, String floor, Call call) {
            this.name = name;
            this.floor = floor;
            this.call = call;
        }

        double medianUs() {
            long[] sorted = samples.stream().mapToLong(Long::longValue).sorted().toArray();
            int n = sorted.length;
            return (n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0) / 1000.0;
        }
    }

    private Bench() {}

    public static void main(String[] args) throws Exception {
        Path binary = Path.of(args[0]);
        Process server = new ProcessBuilder(binary.toString(), "serve", "--port", "0")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::destroyForcibly));
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        if (first == null || !first.startsWith("listening on ")) {
            throw new IllegalStateException("bearer serve said " + first);
        }
        Thread drain = new Thread(() -> {
            try {
                while (out.readLine() != null) {
                    // keep the pipe empty
                }
            } catch (java.io.IOException e) {
                // gone
            }
        });
        drain.setDaemon(true);
        drain.start();
        String base = first.substring("listening on ".length()).trim();
        String url = base + "/api/whoami";
        String tokenUrl = base + "/oauth/token";
        String config = "{\"client_id\":\"demo-client\",\"client_secret\":\"demo-secret\","
                + "\"audience\":\"https://beeapp.open-cosmos.com\",\"token_url\":\"" + tokenUrl + "\"}";

        try (BearerClient client = BearerClient.fromJson(config)) {
            String fixed = "Bearer " + client.getToken();

            CloseableHttpClient apache = HttpClients.createDefault();
            CloseableHttpClient apacheBearer = HttpClients.custom()
                    .addExecInterceptorAfter(ChainElement.REDIRECT.name(), BearerExecHandler.NAME,
                            new BearerExecHandler(client))
                    .build();

            OkHttpClient ok = new OkHttpClient();
            BearerOkHttp bearer = new BearerOkHttp(client);
            OkHttpClient okBearer = new OkHttpClient.Builder().addInterceptor(bearer).authenticator(bearer).build();

            java.net.http.HttpClient jdk = java.net.http.HttpClient.newBuilder()
                    .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
            java.net.http.HttpClient jdkBearer = BearerHttpClient.wrap(java.net.http.HttpClient.newBuilder()
                    .version(java.net.http.HttpClient.Version.HTTP_1_1).build(), client);
            java.net.http.HttpRequest jdkFixedRequest = java.net.http.HttpRequest.newBuilder(URI.create(url))
                    .header("Authorization", fixed).build();
            java.net.http.HttpRequest jdkRequest = java.net.http.HttpRequest.newBuilder(URI.create(url)).build();

            // The peer gets its own token, with its own client-credentials request.
            NetHttpTransport transport = new NetHttpTransport();
            GsonFactory json = GsonFactory.getDefaultInstance();
            TokenResponse peerToken = new ClientCredentialsTokenRequest(transport, json, new GenericUrl(tokenUrl))
                    .setClientAuthentication(new ClientParametersAuthentication("demo-client", "demo-secret"))
                    .set("audience", "https://beeapp.open-cosmos.com")
                    .execute();
            Credential credential = new Credential.Builder(BearerToken.authorizationHeaderAccessMethod())
                    .setTransport(transport).setJsonFactory(json)
                    .setTokenServerUrl(new GenericUrl(tokenUrl))
                    .setClientAuthentication(new ClientParametersAuthentication("demo-client", "demo-secret"))
                    .build()
                    .setFromTokenResponse(peerToken);
            HttpRequestFactory google = transport.createRequestFactory();
            HttpRequestFactory googlePeer = transport.createRequestFactory(credential);
            GenericUrl googleUrl = new GenericUrl(url);

            List<Row> rows = new ArrayList<>();
            rows.add(new Row("Apache HttpClient 5 fixed header", null, () -> {
                HttpGet get = new HttpGet(url);
                get.setHeader("Authorization", fixed);
                apache.execute(get, response -> check(response.getCode(), EntityUtils.toString(response.getEntity())));
            }));
            rows.add(new Row("Apache HttpClient 5 + bearer", "Apache HttpClient 5 fixed header", () ->
                    apacheBearer.execute(new HttpGet(url),
                            response -> check(response.getCode(), EntityUtils.toString(response.getEntity())))));
            rows.add(new Row("OkHttp 3 fixed header", null, () -> {
                try (okhttp3.Response response = ok.newCall(new Request.Builder().url(url)
                        .header("Authorization", fixed).build()).execute()) {
                    check(response.code(), response.body().string());
                }
            }));
            rows.add(new Row("OkHttp 3 + bearer", "OkHttp 3 fixed header", () -> {
                try (okhttp3.Response response = okBearer.newCall(new Request.Builder().url(url).build()).execute()) {
                    check(response.code(), response.body().string());
                }
            }));
            rows.add(new Row("java.net.http fixed header", null, () -> {
                java.net.http.HttpResponse<String> r = jdk.send(jdkFixedRequest,
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                check(r.statusCode(), r.body());
            }));
            rows.add(new Row("java.net.http + bearer", "java.net.http fixed header", () -> {
                java.net.http.HttpResponse<String> r = jdkBearer.send(jdkRequest,
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                check(r.statusCode(), r.body());
            }));
            rows.add(new Row("google-http-client fixed header", null, () -> {
                com.google.api.client.http.HttpRequest request = google.buildGetRequest(googleUrl);
                request.getHeaders().setAuthorization(fixed);
                com.google.api.client.http.HttpResponse r = request.execute();
                try {
                    check(r.getStatusCode(), r.parseAsString());
                } finally {
                    r.disconnect();
                }
            }));
            rows.add(new Row("google-oauth-client Credential", "google-http-client fixed header", () -> {
                com.google.api.client.http.HttpResponse r = googlePeer.buildGetRequest(googleUrl).execute();
                try {
                    check(r.getStatusCode(), r.parseAsString());
                } finally {
                    r.disconnect();
                }
            }));

            for (Row row : rows) {
                for (int i = 0; i < WARMUP; i++) {
                    row.call.run();
                }
            }
            // Every other round runs the rows in reverse, so that no row always follows the same one.
            List<Row> reversed = new ArrayList<>(rows);
            java.util.Collections.reverse(reversed);
            for (int round = 0; round < ROUNDS; round++) {
                for (Row row : round % 2 == 0 ? rows : reversed) {
                    for (int i = 0; i < PER_ROUND; i++) {
                        long start = System.nanoTime();
                        row.call.run();
                        row.samples.add(System.nanoTime() - start);
                    }
                }
            }

            Map<String, Double> medians = new LinkedHashMap<>();
            for (Row row : rows) {
                medians.put(row.name, row.medianUs());
            }
            System.out.printf("%-36s %10s %9s %15s%n", "java integration", "us/request", "added us", "ratio to floor");
            for (Row row : rows) {
                double us = medians.get(row.name);
                double floor = row.floor == null ? us : medians.get(row.floor);
                System.out.printf("%-36s %10.1f %9.1f %15.2f%n", row.name, us, us - floor, us / floor);
            }
            System.out.println("(" + ROUNDS + " rounds x " + PER_ROUND + " = " + ROUNDS * PER_ROUND
                    + " requests per row after " + WARMUP + " warm-up; the peer's floor is google-http-client)");
            apache.close();
            apacheBearer.close();
        } finally {
            server.destroy();
        }
    }

    private static Object check(int status, String body) {
        if (status != 200) {
            throw new IllegalStateException("status " + status + ": " + body);
        }
        return null;
    }
}
