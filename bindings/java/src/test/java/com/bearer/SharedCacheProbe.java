package com.bearer;

import java.nio.charset.StandardCharsets;

/**
 * Run in a child JVM by {@link SharedCacheTest}: makes a client from the
 * configuration on standard input and prints its token.
 */
public final class SharedCacheProbe {
    private SharedCacheProbe() {}

    public static void main(String[] args) throws Exception {
        String config = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        try (BearerClient client = BearerClient.fromJson(config)) {
            System.out.print(client.getToken());
        }
    }
}
