package com.bearer;

import com.bearer.http.TokenRefusal;
import java.util.List;

/**
 * Run by {@link RefusedTest} in a JVM whose class path is the jar and the test
 * classes only: the core, and the integrations' shared rules, work without
 * the HTTP libraries.
 */
public final class NoHttpLibrariesProbe {
    private NoHttpLibrariesProbe() {}

    public static void main(String[] args) throws Exception {
        for (String name : List.of("okhttp3.OkHttpClient", "org.apache.hc.client5.http.classic.ExecChainHandler")) {
            try {
                Class.forName(name);
                throw new AssertionError(name + " is on the class path");
            } catch (ClassNotFoundException expected) {
                // as it should be
            }
        }
        try (BearerClient client = BearerClient.fromJson(args[0])) {
            String token = client.getToken();
            if (!TokenRefusal.isRefusal(401, List.of())) {
                throw new AssertionError("a bare 401 is a refusal");
            }
            System.out.println("no okhttp3, no org.apache.hc; " + (token.isEmpty() ? "none" : "token")
                    + ", refused " + client.tokenRefused(token));
        }
    }
}
