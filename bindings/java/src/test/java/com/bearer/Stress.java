package com.bearer;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A few thousand mixed calls through the binding, for bindings/valgrind.sh:
 * clients made and closed, tokens, token responses, headers, one-shot
 * fetches, every kind of error, authorizeStart, device sign-ins (cancelled,
 * denied, misconfigured), and threads sharing one client. Prints what it did; exits 1 on any unexpected outcome.
 *
 * <pre>java -cp build/bearer.jar:build/test-classes com.bearer.Stress</pre>
 */
public final class Stress {
    static final String CANARY = "canary-SECRET-7f3a9c2e1b";
    static final int THREADS = 4;

    private Stress() {
    }

    interface Op {
        void run() throws Exception;
    }

    static void check(boolean condition, String what) {
        if (!condition) {
            throw new IllegalStateException(what);
        }
    }

    static void expectProblem(Op call, BearerStatus code, String typeSuffix) throws Exception {
        try {
            call.run();
        } catch (BearerException e) {
            check(!(e.getMessage() + e.getExtensions() + e).contains(CANARY), "the secret crossed the boundary");
            check(e.getCode() == code, "code " + e.getCode() + ", expected " + code + ": " + e.getMessage());
            check(e.getType().endsWith(typeSuffix), "type " + e.getType() + ", expected *" + typeSuffix);
            return;
        }
        throw new IllegalStateException("no problem raised, expected " + typeSuffix);
    }

    static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    public static void main(String[] args) throws Exception {
        int calls = Integer.parseInt(System.getenv().getOrDefault("BEARER_STRESS_CALLS", "3000"));
        AuthServer server = AuthServer.get();
        String dead = "http://127.0.0.1:" + closedPort() + "/oauth/token";
        String oneShot = AuthServer.json(server.cobuilder(""));
        BearerClient shared = BearerClient.fromMap(server.auth0(""));
        int[] cycles = {0};

        Map<String, Op> ops = new TreeMap<>();
        Map<String, Integer> cost = new TreeMap<>();
        ops.put("client", () -> {
            Map<String, Object> config = cycles[0]++ % 2 == 0 ? server.auth0("") : server.cobuilder("");
            try (BearerClient client = BearerClient.fromMap(config)) {
                String token = client.getToken();
                check(!token.isEmpty() && client.getToken().equals(token), "the client did not cache");
                check(client.getAuthorizationHeader().equals("Bearer " + token), "header");
                check(client.getTokenResponse().getAccessToken().equals(token), "token response");
            }
        });
        cost.put("client", 6);
        ops.put("shared", () -> {
            String token = shared.getToken();
            check(shared.getAuthorizationHeader().equals("Bearer " + token), "header");
            check(shared.getTokenResponse().getTokenType().equals("Bearer"), "token response");
        });
        cost.put("shared", 3);
        ops.put("one-shot", () -> check(
                Bearer.fetchToken(oneShot).equals(Bearer.fetchTokenResponse(oneShot).getAccessToken()), "one-shot"));
        cost.put("one-shot", 2);
        ops.put("refused", () -> {
            try (BearerClient client = BearerClient.fromMap(server.auth0(""))) {
                String token = client.getToken();
                check(client.tokenRefused(token), "the current token was not dropped");
                check(!client.tokenRefused(token), "a replaced token was dropped");
            }
            check(!Bearer.tokenRefused(oneShot, "not-the-token"), "one-shot dropped another token");
            expectProblem(() -> Bearer.tokenRefused("{\"client_id\": ", "x"), BearerStatus.INVALID_CONFIG,
                    ":invalid-config");
        });
        cost.put("refused", 3);
        ops.put("wrong-secret", () -> {
            String config = AuthServer.json(server.auth0("", "client_secret", CANARY));
            expectProblem(() -> Bearer.fetchToken(config), BearerStatus.REJECTED, ":unauthorized");
        });
        cost.put("wrong-secret", 1);
        ops.put("closed-port", () -> {
            Map<String, Object> config = server.auth0("", "token_url", dead, "timeout_ms", 2000);
            expectProblem(() -> {
                try (BearerClient client = BearerClient.fromMap(config)) {
                    client.getToken();
                }
            }, BearerStatus.UNAVAILABLE, ":unreachable");
        });
        cost.put("closed-port", 2);
        ops.put("invalid-config", () -> {
            expectProblem(() -> BearerClient.fromJson("{\"client_id\": "), BearerStatus.INVALID_CONFIG, ":invalid-config");
            String badKey = AuthServer.json(server.auth0("", "client_secrett", CANARY));
            expectProblem(() -> Bearer.fetchToken(badKey), BearerStatus.INVALID_CONFIG, ":invalid-config");
        });
        cost.put("invalid-config", 2);
        // A Java string cannot hold invalid UTF-8; a lone surrogate reaches the library as such.
        ops.put("invalid-utf8", () -> {
            String config = AuthServer.json(server.auth0("", "client_id", "demo\uD800client", "client_secret", CANARY));
            expectProblem(() -> Bearer.fetchToken(config), BearerStatus.INVALID_ARGUMENT, ":invalid-argument");
        });
        cost.put("invalid-utf8", 1);
        ops.put("authorize", () -> {
            Map<String, Object> config = server.nativeApp();
            AuthorizationRequest request = Bearer.authorizeStart(config);
            check(request.getUrl().startsWith(server.base + "/authorize?"), "authorize URL");
            String forged = AuthServer.APP_REDIRECT + "?code=x&state=not-" + request.getState();
            expectProblem(() -> Bearer.authorizeComplete(config, request, forged),
                    BearerStatus.INVALID_ARGUMENT, ":invalid-callback");
        });
        cost.put("authorize", 2);
        // The device flow: started and cancelled (before and during a poll), denied, and a bad configuration.
        int[] devices = {0};
        ops.put("device", () -> {
            try (BearerDevice device = BearerDevice.start(server.deviceApp("interval=0"))) {
                check(!device.getUserCode().isEmpty(), "user code");
                if (devices[0]++ % 2 == 0) {
                    device.cancel();
                    expectProblem(device::poll, BearerStatus.CANCELLED, ":cancelled");
                } else {
                    java.util.concurrent.CompletableFuture<TokenResponse> poll = device.pollAsync();
                    server.device(device.getUserCode(), "deny");
                    try {
                        poll.get(30, java.util.concurrent.TimeUnit.SECONDS);
                        throw new IllegalStateException("a denied device sign-in gave a token");
                    } catch (java.util.concurrent.ExecutionException e) {
                        check(e.getCause() instanceof BearerException
                                && ((BearerException) e.getCause()).getType().endsWith(":authorization-denied"),
                                "denied: " + e.getCause());
                    }
                }
            }
            expectProblem(() -> BearerDevice.start(server.deviceApp("", "device_authorization_url", null)),
                    BearerStatus.INVALID_CONFIG, ":invalid-config");
        });
        cost.put("device", 3);
        ops.put("threads", () -> {
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            List<Thread> pool = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Thread thread = new Thread(() -> {
                    try {
                        for (int n = 0; n < 5; n++) {
                            String token = shared.getToken();
                            check(shared.getAuthorizationHeader().equals("Bearer " + token), "header in a thread");
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                });
                pool.add(thread);
                thread.start();
            }
            for (Thread thread : pool) {
                thread.join(60_000);
            }
            if (!errors.isEmpty()) {
                throw new IllegalStateException(errors.peek());
            }
        });
        cost.put("threads", THREADS * 10);

        String[] mix = {"client", "shared", "shared", "one-shot", "wrong-secret", "closed-port", "invalid-config",
            "invalid-utf8", "authorize", "shared", "client", "wrong-secret", "one-shot", "shared", "refused",
            "device"};
        Map<String, Integer> counts = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        int done = 0;
        for (int i = 0; done < calls; i++) {
            String name = i % (mix.length * 8) == mix.length * 4 ? "threads" : mix[i % mix.length];
            try {
                ops.get(name).run();
            } catch (Exception e) {
                failures.add(name + ": " + e);
            }
            counts.merge(name, 1, Integer::sum);
            done += cost.get(name);
        }
        try {
            ops.get("threads").run();
        } catch (Exception e) {
            failures.add("threads: " + e);
        }
        done += cost.get("threads");
        shared.close();
        Bearer.globalCleanup();

        StringBuilder summary = new StringBuilder();
        counts.forEach((k, v) -> summary.append(summary.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
        System.out.println("java stress: " + done + " calls (" + summary + "), " + failures.size() + " unexpected");
        failures.stream().limit(10).forEach(line -> System.out.println("  " + line));
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}
