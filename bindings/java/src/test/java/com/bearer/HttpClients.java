package com.bearer;

import com.bearer.http.apache.BearerExecHandler;
import com.bearer.http.jdk.BearerHttpClient;
import com.bearer.http.okhttp.BearerOkHttp;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.function.BiFunction;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.internal.http.UnrepeatableRequestBody;
import okio.BufferedSink;
import okio.Okio;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.http.io.entity.StringEntity;

/** The same three requests through each HTTP integration, for {@link HttpIntegrationTest}. */
abstract class HttpClients implements AutoCloseable {
    /** A status and a body. */
    static final class Answer {
        final int status;
        final String body;

        Answer(int status, String body) {
            this.status = status;
            this.body = body;
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    /** Each integration, by name, made for a bearer client and a retry setting. */
    enum Kind {
        APACHE_AFTER_REDIRECT("Apache HttpClient 5, after REDIRECT", Apache::afterRedirect),
        APACHE_FIRST("Apache HttpClient 5, first", Apache::first),
        OKHTTP("OkHttp 3", OkHttp::new),
        JDK("java.net.http", Jdk::new);

        final String label;
        final BiFunction<BearerClient, Boolean, HttpClients> make;

        Kind(String label, BiFunction<BearerClient, Boolean, HttpClients> make) {
            this.label = label;
            this.make = make;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    abstract Answer get(String url) throws Exception;

    /** A POST whose body the library can send again. */
    abstract Answer post(String url, String body) throws Exception;

    /** A POST whose body is a stream that can be read once. */
    abstract Answer postOnce(String url, String body) throws Exception;

    @Override
    public abstract void close() throws IOException;

    static InputStream stream(String body) {
        return new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8));
    }

    static final class Apache extends HttpClients {
        private static final ContentType TEXT = ContentType.create("text/plain", StandardCharsets.UTF_8);
        private final CloseableHttpClient http;

        private Apache(CloseableHttpClient http) {
            this.http = http;
        }

        static HttpClients afterRedirect(BearerClient client, boolean retry) {
            return new Apache(org.apache.hc.client5.http.impl.classic.HttpClients.custom()
                    .addExecInterceptorAfter(ChainElement.REDIRECT.name(), BearerExecHandler.NAME,
                            new BearerExecHandler(client, retry))
                    .build());
        }

        static HttpClients first(BearerClient client, boolean retry) {
            return new Apache(org.apache.hc.client5.http.impl.classic.HttpClients.custom()
                    .addExecInterceptorFirst(BearerExecHandler.NAME, new BearerExecHandler(client, retry))
                    .build());
        }

        private Answer run(org.apache.hc.core5.http.ClassicHttpRequest request) throws IOException {
            return http.execute(request, response -> new Answer(response.getCode(),
                    response.getEntity() == null ? "" : EntityUtils.toString(response.getEntity())));
        }

        @Override
        Answer get(String url) throws IOException {
            return run(new HttpGet(url));
        }

        @Override
        Answer post(String url, String body) throws IOException {
            HttpPost post = new HttpPost(url);
            post.setEntity(new StringEntity(body, TEXT));
            return run(post);
        }

        @Override
        Answer postOnce(String url, String body) throws IOException {
            HttpPost post = new HttpPost(url);
            post.setEntity(new InputStreamEntity(stream(body), TEXT));
            return run(post);
        }

        @Override
        public void close() throws IOException {
            http.close();
        }
    }

    static final class OkHttp extends HttpClients {
        private static final MediaType TEXT = MediaType.get("text/plain; charset=utf-8");
        private final OkHttpClient http;

        OkHttp(BearerClient client, boolean retry) {
            BearerOkHttp bearer = new BearerOkHttp(client, retry);
            this.http = new OkHttpClient.Builder().addInterceptor(bearer).authenticator(bearer).build();
        }

        private Answer run(Request request) throws IOException {
            try (okhttp3.Response response = http.newCall(request).execute()) {
                return new Answer(response.code(), response.body() == null ? "" : response.body().string());
            }
        }

        @Override
        Answer get(String url) throws IOException {
            return run(new Request.Builder().url(url).build());
        }

        @Override
        Answer post(String url, String body) throws IOException {
            return run(new Request.Builder().url(url).post(RequestBody.create(TEXT, body)).build());
        }

        /** OkHttp's own mark for a body it must not send twice (as its streamed bodies carry). */
        private static final class OnceBody extends RequestBody implements UnrepeatableRequestBody {
            private final InputStream in;

            OnceBody(InputStream in) {
                this.in = in;
            }

            @Override
            public MediaType contentType() {
                return TEXT;
            }

            @Override
            public void writeTo(BufferedSink sink) throws IOException {
                sink.writeAll(Okio.source(in));
            }
        }

        @Override
        Answer postOnce(String url, String body) throws IOException {
            return run(new Request.Builder().url(url).post(new OnceBody(stream(body))).build());
        }

        @Override
        public void close() {
            http.dispatcher().executorService().shutdown();
            http.connectionPool().evictAll();
        }
    }

    static final class Jdk extends HttpClients {
        private final java.net.http.HttpClient http;

        Jdk(BearerClient client, boolean retry) {
            this.http = BearerHttpClient.wrap(java.net.http.HttpClient.newHttpClient(), client,
                    java.net.http.HttpClient.Redirect.NORMAL, retry);
        }

        private Answer run(java.net.http.HttpRequest request) throws IOException, InterruptedException {
            java.net.http.HttpResponse<String> response =
                    http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(), response.body());
        }

        @Override
        Answer get(String url) throws IOException, InterruptedException {
            return run(java.net.http.HttpRequest.newBuilder(URI.create(url)).build());
        }

        @Override
        Answer post(String url, String body) throws IOException, InterruptedException {
            return run(java.net.http.HttpRequest.newBuilder(URI.create(url))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build());
        }

        @Override
        Answer postOnce(String url, String body) throws IOException, InterruptedException {
            InputStream once = stream(body);
            return run(java.net.http.HttpRequest.newBuilder(URI.create(url))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofInputStream(() -> once)).build());
        }

        @Override
        public void close() {
            // java.net.http.HttpClient has no close in JDK 17.
        }
    }
}
