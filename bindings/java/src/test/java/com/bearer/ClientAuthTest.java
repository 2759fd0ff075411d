package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Client authentication without a shared secret, against the local server:
 * private_key_jwt (RFC 7523) with the keys of {@code tests/keys}, and mutual
 * TLS (RFC 8705) with the certificates of {@code tests/tls}. Every refusal
 * is checked to show no line of the key file.
 */
class ClientAuthTest {
    private static final String AUDIENCE = "https://beeapp.open-cosmos.com";
    private final AuthServer server = AuthServer.get();

    private static String key(String name) {
        return AuthServer.root().resolve("tests/keys").resolve(name).toString();
    }

    private static String tlsFile(String name) {
        return AuthServer.root().resolve("tests/tls").resolve(name).toString();
    }

    /** The private_key_jwt configuration of jwt-client with {@code keyFile}, with overrides (null removes). */
    private Map<String, Object> jwt(String keyFile, Object... overrides) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("client_id", "jwt-client");
        config.put("client_auth", "private_key_jwt");
        config.put("private_key_file", key(keyFile));
        config.put("audience", AUDIENCE);
        config.put("token_url", server.base + AuthServer.AUTH0_PATH);
        return apply(config, overrides);
    }

    /** A mutual-TLS configuration: {@code clientId} with the certificate and key {@code cert}.pem/.key. */
    private static Map<String, Object> mtls(AuthServer tls, String clientId, String clientAuth, String cert,
            Object... overrides) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("client_id", clientId);
        config.put("client_auth", clientAuth);
        config.put("client_cert_file", tlsFile(cert + ".pem"));
        config.put("client_key_file", tlsFile(cert + ".key"));
        config.put("audience", AUDIENCE);
        config.put("ca_file", tlsFile("ca.pem"));
        config.put("token_url", tls.mtlsBase + AuthServer.AUTH0_PATH);
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

    /** The payload of a JWT access token. */
    private static Map<String, Object> claims(String token) {
        String[] parts = token.split("\\.");
        assertEquals(3, parts.length, "not a JWT");
        return Json.parseObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
    }

    /** A client's token for {@code config}: its subject must be {@code sub}. */
    private static void assertToken(Map<String, Object> config, String sub) {
        try (BearerClient client = BearerClient.fromMap(config)) {
            assertEquals(sub, claims(client.getToken()).get("sub"));
        }
    }

    /** The failure of a one-shot call and of a client, which agree. */
    private static BearerException refusal(Map<String, Object> config) {
        BearerException oneShot = assertThrows(BearerException.class, () -> Bearer.fetchToken(config));
        BearerException client = assertThrows(BearerException.class, () -> {
            try (BearerClient c = BearerClient.fromMap(config)) {
                c.getToken();
            }
        });
        assertEquals(oneShot.getType(), client.getType());
        assertEquals(oneShot.getCode(), client.getCode());
        assertEquals(oneShot.getExtensions().get("key"), client.getExtensions().get("key"));
        return client;
    }

    /** Every rendering of {@code e}: message, toString, members, extensions, stack trace. */
    private static List<String> renderings(BearerException e) {
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        return List.of(e.getMessage(), e.toString(), e.getTitle(), e.getDetail(), e.getInstance(),
                String.valueOf(e.getExtensions()), trace.toString());
    }

    /** No line of any private key file (its header and footer aside) shows in any rendering of {@code e}. */
    private static void assertNoKeyMaterial(BearerException e) throws Exception {
        List<String> lines = new ArrayList<>();
        for (Path dir : List.of(AuthServer.root().resolve("tests/keys"), AuthServer.root().resolve("tests/tls"))) {
            try (var files = Files.list(dir)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    String name = file.getFileName().toString();
                    if (name.endsWith(".key")) {
                        for (String line : Files.readAllLines(file)) {
                            if (!line.isBlank() && !line.startsWith("-----")) {
                                lines.add(line.trim());
                            }
                        }
                    }
                }
            }
        }
        assertFalse(lines.isEmpty(), "no key lines read");
        List<String> texts = renderings(e);
        for (int i = 0; i < texts.size(); i++) {
            for (String line : lines) {
                // Never print the line itself: say which rendering showed key material.
                assertFalse(texts.get(i).contains(line), "rendering " + i + " shows a line of a key file");
            }
        }
        assertFalse(e.getMessage().contains("PRIVATE KEY"), "the message shows a PEM header");
    }

    private static void assertUnauthorized(BearerException e) throws Exception {
        assertEquals("urn:bearer:problem:unauthorized", e.getType(), e::getMessage);
        assertEquals(BearerStatus.REJECTED, e.getCode());
        assertEquals(3, e.getCode().code());
        assertEquals(401, e.getStatus());
        assertNoKeyMaterial(e);
    }

    private static void assertInvalidConfig(BearerException e, String key) throws Exception {
        assertEquals("urn:bearer:problem:invalid-config", e.getType(), e::getMessage);
        assertEquals(BearerStatus.INVALID_CONFIG, e.getCode());
        assertEquals(key, e.getExtensions().get("key"), e::getMessage);
        assertNoKeyMaterial(e);
    }

    @Test
    void theKeyCheckCatchesALineOfAKey() throws Exception {
        String line = Files.readAllLines(Path.of(key("rsa.key"))).get(3);
        BearerException leaky = new BearerException(BearerStatus.INVALID_CONFIG, "urn:bearer:problem:invalid-config",
                "Invalid configuration", 400, "bad key near " + line, "#/private_key_file", null);
        assertThrows(org.opentest4j.AssertionFailedError.class, () -> assertNoKeyMaterial(leaky));
    }

    // private_key_jwt

    @Test
    void privateKeyJwtWithRsa() {
        assertToken(jwt("rsa.key"), "jwt-client@clients");
    }

    @Test
    void privateKeyJwtWithPkcs1Rsa() {
        assertToken(jwt("rsa-pkcs1.key"), "jwt-client@clients");
    }

    @Test
    void privateKeyJwtWithEc() {
        assertToken(jwt("ec.key"), "jwt-client@clients");
    }

    @Test
    void privateKeyJwtWithSec1Ec() {
        assertToken(jwt("ec-sec1.key", "assertion_alg", "ES256"), "jwt-client@clients");
    }

    @Test
    void privateKeyJwtWithPs256AndKeyId() {
        assertToken(jwt("rsa.key", "assertion_alg", "PS256", "key_id", "test-key"), "jwt-client@clients");
    }

    @Test
    void privateKeyJwtOneShot() {
        assertEquals("jwt-client@clients", claims(Bearer.fetchToken(jwt("ec.key"))).get("sub"));
    }

    @Test
    void privateKeyJwtWithTheIssuerAsAudience() {
        assertToken(jwt("rsa.key", "assertion_audience", "issuer", "issuer", server.base + "/"),
                "jwt-client@clients");
    }

    @Test
    void aFreshAssertionForEveryRequest() {
        // The server refuses a replayed jti: a second token request succeeds only with a new assertion.
        try (BearerClient client = BearerClient.fromMap(jwt("rsa.key"))) {
            long before = server.stat("auth0");
            String first = client.getToken();
            assertTrue(client.tokenRefused(first), "the refused token was not dropped");
            String second = client.getToken();
            assertEquals(before + 2, server.stat("auth0"), "two token requests");
            assertEquals("jwt-client@clients", claims(second).get("sub"));
            assertNotEquals(first, second);
        }
    }

    @Test
    void aKeyTheServerDoesNotKnowIsUnauthorized() throws Exception {
        assertUnauthorized(refusal(jwt("other.key")));
    }

    @Test
    void anEncryptedKeyIsInvalidConfig() throws Exception {
        assertInvalidConfig(refusal(jwt("encrypted.key")), "private_key_file");
    }

    @Test
    void aMissingKeyFileIsInvalidConfig() throws Exception {
        BearerException e = refusal(jwt("no-such.key"));
        assertInvalidConfig(e, "private_key_file");
    }

    @Test
    void aPublicKeyIsInvalidConfig() throws Exception {
        assertInvalidConfig(refusal(jwt("rsa.pub")), "private_key_file");
        assertInvalidConfig(refusal(jwt("ec.pub")), "private_key_file");
    }

    @Test
    void anAlgorithmThatDoesNotSuitTheKeyIsInvalidConfig() throws Exception {
        assertInvalidConfig(refusal(jwt("rsa.key", "assertion_alg", "ES256")), "assertion_alg");
    }

    @Test
    void aSecretBesideTheKeyIsInvalidConfig() throws Exception {
        BearerException e = refusal(jwt("rsa.key", "client_secret", "demo-secret"));
        assertInvalidConfig(e, "client_secret");
        for (String text : renderings(e)) {
            assertFalse(text.contains("demo-secret"), "a rendering shows the secret");
        }
    }

    // Mutual TLS

    @Test
    void tlsClientAuth() {
        AuthServer tls = AuthServer.tls();
        assertToken(mtls(tls, "mtls-client", "tls_client_auth", "client"), "mtls-client@clients");
    }

    @Test
    void selfSignedTlsClientAuth() {
        AuthServer tls = AuthServer.tls();
        assertToken(mtls(tls, "mtls-self-signed", "self_signed_tls_client_auth", "self-signed"),
                "mtls-self-signed@clients");
    }

    @Test
    void mtlsEndpointAliasesFromDiscovery() {
        // The issuer is the HTTPS listener that asks no certificate (it would refuse the client);
        // its discovery document names the mutual-TLS listener in mtls_endpoint_aliases.
        AuthServer tls = AuthServer.tls();
        assertToken(mtls(tls, "mtls-client", "tls_client_auth", "client",
                "token_url", null, "issuer", tls.httpsBase + "/"), "mtls-client@clients");
    }

    @Test
    void anotherCertificateIsUnauthorized() throws Exception {
        AuthServer tls = AuthServer.tls();
        assertUnauthorized(refusal(mtls(tls, "mtls-client", "tls_client_auth", "self-signed")));
    }

    @Test
    void noCertificateAskedIsUnauthorized() throws Exception {
        AuthServer tls = AuthServer.tls();
        assertUnauthorized(refusal(mtls(tls, "mtls-client", "tls_client_auth", "client",
                "token_url", tls.httpsBase + AuthServer.AUTH0_PATH)));
    }

    @Test
    void aCertificateWithoutItsKeyIsInvalidConfig() throws Exception {
        AuthServer tls = AuthServer.tls();
        assertInvalidConfig(refusal(mtls(tls, "mtls-client", "tls_client_auth", "client",
                "client_key_file", null)), "client_key_file");
    }
}
