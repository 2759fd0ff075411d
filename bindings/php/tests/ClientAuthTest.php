<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\Bearer;
use Bearer\Client;
use Bearer\ProblemException;
use Bearer\Status;
use PHPUnit\Framework\TestCase;

/**
 * Client authentication without a shared secret, against the local server:
 * private_key_jwt (RFC 7523) and mutual TLS (RFC 8705). Nothing here prints
 * a key: failures name files and keys, never their lines.
 */
final class ClientAuthTest extends TestCase
{
    private const AUDIENCE = 'https://beeapp.open-cosmos.com';

    private static function keyFile(string $name): string
    {
        return LocalServer::checkout() . '/tests/keys/' . $name;
    }

    private static function tlsFile(string $name): string
    {
        return LocalServer::checkout() . '/tests/tls/' . $name;
    }

    /**
     * @param array<string, mixed> $more
     * @return array<string, mixed>
     */
    private static function jwt(string $key, array $more = []): array
    {
        return $more + [
            'client_id' => 'jwt-client',
            'client_auth' => 'private_key_jwt',
            'private_key_file' => self::keyFile($key),
            'audience' => self::AUDIENCE,
            // No query to keep tests apart: the assertion's aud is the token URL as written.
            'token_url' => LocalServer::url() . '/oauth/token',
        ];
    }

    /**
     * @param array<string, mixed> $more
     * @return array<string, mixed>
     */
    private static function mtls(string $clientId, string $cert, array $more = []): array
    {
        return $more + [
            'client_id' => $clientId,
            'client_auth' => $clientId === 'mtls-self-signed' ? 'self_signed_tls_client_auth' : 'tls_client_auth',
            'client_cert_file' => self::tlsFile("$cert.pem"),
            'client_key_file' => self::tlsFile("$cert.key"),
            'audience' => self::AUDIENCE,
            'ca_file' => self::tlsFile('ca.pem'),
            'token_url' => LocalServer::tls()['mtls'] . '/oauth/token',
        ];
    }

    /**
     * A token response from a client of its own (its own cache: the
     * one-shot cache of Bearer::fetchToken() would answer a second test
     * with the same configuration without a request).
     *
     * @param array<string, mixed> $config
     * @return array<string, mixed>
     */
    private static function fetch(array $config): array
    {
        $client = new Client($config);
        try {
            return $client->tokenResponse();
        } finally {
            $client->close();
        }
    }

    /** @return array<string, mixed> the payload of a JWT access token */
    private static function claims(string $token): array
    {
        $parts = explode('.', $token);
        self::assertCount(3, $parts, 'the local server issues JWTs');
        $json = base64_decode(strtr($parts[1], '-_', '+/'), true);
        self::assertIsString($json);

        return json_decode($json, true, 16, JSON_THROW_ON_ERROR);
    }

    /** @param array<string, mixed> $config */
    private static function problem(array $config): ProblemException
    {
        try {
            self::fetch($config);
        } catch (ProblemException $e) {
            return $e;
        }
        self::fail('no ProblemException');
    }

    /**
     * No line of a private key (the PEM armour aside) in any rendering of
     * the problem. Not assertStringNotContainsString: its failure message
     * would print the key.
     */
    private static function assertNoKeyMaterial(ProblemException $e, string ...$keyFiles): void
    {
        $texts = [$e->getMessage(), (string) $e, print_r($e, true), json_encode($e->getProblem(), JSON_UNESCAPED_SLASHES), var_export($e->getProblem(), true)];
        foreach ($keyFiles as $file) {
            $lines = array_filter(array_map('trim', file($file) ?: []), static fn (string $l): bool => $l !== '' && !str_starts_with($l, '-----'));
            self::assertNotEmpty($lines, basename($file) . ' has key lines');
            foreach ($lines as $n => $line) {
                foreach ($texts as $i => $text) {
                    self::assertFalse(str_contains((string) $text, $line), sprintf('rendering %d shows line %d of %s', $i, $n + 1, basename($file)));
                }
            }
        }
        self::assertFalse(str_contains($e->getMessage(), 'PRIVATE KEY'), 'the message shows PEM armour');
    }

    private static function assertInvalidConfig(ProblemException $e, string $key, string ...$keyFiles): void
    {
        self::assertSame('urn:bearer:problem:invalid-config', $e->getType(), $e->getMessage());
        self::assertSame(Status::INVALID_CONFIG, $e->getBearerStatus());
        self::assertSame(400, $e->getStatus());
        self::assertSame($key, $e->getExtensions()['key'] ?? null, $e->getMessage());
        self::assertNoKeyMaterial($e, ...$keyFiles);
    }

    private static function assertUnauthorized(ProblemException $e, string ...$keyFiles): void
    {
        self::assertSame('urn:bearer:problem:unauthorized', $e->getType(), $e->getMessage());
        self::assertSame(Status::REJECTED, $e->getBearerStatus());
        self::assertSame(401, $e->getStatus());
        self::assertNoKeyMaterial($e, ...$keyFiles);
    }

    /** @return array<string, array{string, array<string, string>}> */
    public static function signingKeys(): array
    {
        return [
            'RSA PKCS#8, RS256 by default' => ['rsa.key', []],
            'RSA PKCS#1' => ['rsa-pkcs1.key', []],
            'RSA, PS256' => ['rsa.key', ['assertion_alg' => 'PS256']],
            'RSA, RS256 spelled out, with a kid' => ['rsa.key', ['assertion_alg' => 'RS256', 'key_id' => 'test-key-1']],
            'P-256 PKCS#8, ES256 by default' => ['ec.key', []],
            'P-256 SEC1, ES256 spelled out' => ['ec-sec1.key', ['assertion_alg' => 'ES256']],
        ];
    }

    /**
     * @dataProvider signingKeys
     * @param array<string, string> $more
     */
    public function testPrivateKeyJwtGetsAToken(string $key, array $more): void
    {
        $response = self::fetch(self::jwt($key, $more));
        self::assertSame('jwt-client@clients', self::claims($response['access_token'])['sub']);
        self::assertSame('Bearer', $response['token_type']);
    }

    public function testPrivateKeyJwtWithTheIssuerAsAudience(): void
    {
        $token = self::fetch(self::jwt('rsa.key', ['assertion_audience' => 'issuer', 'issuer' => LocalServer::url() . '/']))['access_token'];
        self::assertSame('jwt-client@clients', self::claims($token)['sub']);
    }

    /** The server refuses a replayed jti, so the second fetch succeeds only with a fresh assertion. */
    public function testEachRequestSignsAFreshAssertion(): void
    {
        $client = new Client(self::jwt('ec.key'));
        $before = LocalServer::stats()['auth0'];
        $first = $client->token();
        self::assertTrue($client->tokenRefused($first));
        $second = $client->token();
        self::assertSame(2, LocalServer::stats()['auth0'] - $before, 'two token requests');
        self::assertSame('jwt-client@clients', self::claims($first)['sub']);
        self::assertSame('jwt-client@clients', self::claims($second)['sub']);
        $client->close();
    }

    public function testAKeyTheServerDoesNotKnowIsUnauthorized(): void
    {
        foreach ([false, true] as $viaClient) {
            try {
                // The one-shot call caches no refusal, so both make a request.
                $viaClient ? self::fetch(self::jwt('other.key')) : Bearer::fetchToken(self::jwt('other.key'));
                self::fail('no ProblemException');
            } catch (ProblemException $e) {
                self::assertUnauthorized($e, self::keyFile('other.key'));
            }
        }
    }

    public function testAnEncryptedKeyIsRefused(): void
    {
        self::assertInvalidConfig(self::problem(self::jwt('encrypted.key')), 'private_key_file', self::keyFile('encrypted.key'));
    }

    public function testAMissingKeyFileIsRefused(): void
    {
        $e = self::problem(self::jwt('no-such.key'));
        self::assertInvalidConfig($e, 'private_key_file');
    }

    public function testAPublicKeyIsRefused(): void
    {
        self::assertInvalidConfig(self::problem(self::jwt('rsa.pub')), 'private_key_file');
    }

    public function testAnAlgorithmThatDoesNotSuitTheKeyIsRefused(): void
    {
        self::assertInvalidConfig(self::problem(self::jwt('rsa.key', ['assertion_alg' => 'ES256'])), 'assertion_alg', self::keyFile('rsa.key'));
    }

    public function testASecretBesidePrivateKeyJwtIsRefused(): void
    {
        self::assertInvalidConfig(self::problem(self::jwt('rsa.key', ['client_secret' => 'demo-secret'])), 'client_secret', self::keyFile('rsa.key'));
    }

    /** The configuration is checked when the client is made, before any request. */
    public function testTheClientChecksTheKeyAtOnce(): void
    {
        $before = LocalServer::stats()['auth0'];
        try {
            new Client(self::jwt('encrypted.key'));
            self::fail('no ProblemException');
        } catch (ProblemException $e) {
            self::assertInvalidConfig($e, 'private_key_file', self::keyFile('encrypted.key'));
        }
        self::assertSame($before, LocalServer::stats()['auth0']);
    }

    public function testMutualTlsGetsAToken(): void
    {
        $token = self::fetch(self::mtls('mtls-client', 'client'))['access_token'];
        self::assertSame('mtls-client@clients', self::claims($token)['sub']);
    }

    public function testSelfSignedMutualTlsGetsAToken(): void
    {
        $client = new Client(self::mtls('mtls-self-signed', 'self-signed'));
        self::assertSame('mtls-self-signed@clients', self::claims($client->token())['sub']);
        $client->close();
    }

    /** With an issuer and no token_url, the discovery document's mtls_endpoint_aliases is followed. */
    public function testDiscoveryFollowsTheMutualTlsAlias(): void
    {
        $config = self::mtls('mtls-client', 'client', ['issuer' => LocalServer::tls()['https'] . '/']);
        unset($config['token_url']);
        $token = self::fetch($config)['access_token'];
        self::assertSame('mtls-client@clients', self::claims($token)['sub']);
    }

    public function testACertificateNotRegisteredForTheClientIsUnauthorized(): void
    {
        $e = self::problem(self::mtls('mtls-client', 'self-signed'));
        self::assertUnauthorized($e, self::tlsFile('self-signed.key'));
    }

    /** The HTTPS listener that asks no certificate: the client is not authenticated. */
    public function testAListenerThatAsksNoCertificateIsUnauthorized(): void
    {
        $e = self::problem(self::mtls('mtls-client', 'client', ['token_url' => LocalServer::tls()['https'] . '/oauth/token']));
        self::assertUnauthorized($e, self::tlsFile('client.key'));
    }

    public function testACertificateWithoutItsKeyIsRefused(): void
    {
        $config = self::mtls('mtls-client', 'client');
        unset($config['client_key_file']);
        self::assertInvalidConfig(self::problem($config), 'client_key_file');
    }
}
