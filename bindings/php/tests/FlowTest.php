<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\AccessToken;
use Bearer\AuthorizationRequest;
use Bearer\Bearer;
use Bearer\BearerException;
use Bearer\Client;
use Bearer\LoopbackLogin;
use Bearer\ProblemException;
use Bearer\Status;
use PHPUnit\Framework\TestCase;

/**
 * The user flows end to end (the cases of tests/flows.rs and
 * tests/c/bearer_test.c): the test plays the browser against the local
 * server's /authorize, reading its redirect by hand.
 */
final class FlowTest extends TestCase
{
    /** Nobody listens here: the test reads the redirect itself. */
    private const APP_REDIRECT = 'http://127.0.0.1:9/callback';
    private const TEST_USER = 'auth0|bearer-test-user';

    /** @return array<string, string> */
    private static function native(string $grantType = 'authorization_code'): array
    {
        return [
            'client_id' => 'native-client',
            'grant_type' => $grantType,
            'audience' => 'https://beeapp.open-cosmos.com',
            'redirect_uri' => self::APP_REDIRECT,
            'authorize_url' => LocalServer::url() . '/authorize',
            'token_url' => LocalServer::url() . '/oauth/token',
        ];
    }

    /** @return array<string, string> */
    private static function loopback(): array
    {
        $config = self::native();
        unset($config['redirect_uri']);

        return $config;
    }

    private static function query(string $url, string $name): ?string
    {
        parse_str((string) parse_url($url, PHP_URL_QUERY), $q);

        return isset($q[$name]) && is_string($q[$name]) ? $q[$name] : null;
    }

    /** @return array<string, mixed> */
    private static function claims(string $jwt): array
    {
        $payload = explode('.', $jwt)[1] ?? '';

        return json_decode((string) base64_decode(strtr($payload, '-_', '+/')), true, 16, JSON_THROW_ON_ERROR);
    }

    /** @param array<string, int> $before */
    private static function delta(array $before, string $key): int
    {
        return LocalServer::stats()[$key] - $before[$key];
    }

    /** The ProblemException that $call throws. */
    private static function problem(callable $call): ProblemException
    {
        try {
            $call();
        } catch (ProblemException $e) {
            return $e;
        }
        self::fail('no ProblemException');
    }

    private static function assertProblem(ProblemException $e, string $type, int $status, int $code): void
    {
        self::assertSame($type, $e->getType(), $e->getMessage());
        self::assertSame($status, $e->getStatus(), $e->getMessage());
        self::assertSame($code, $e->getCode(), $e->getMessage());
        self::assertSame($e->getTitle() . ': ' . $e->getDetail(), $e->getMessage());
    }

    private static function dump(mixed $value): string
    {
        ob_start();
        var_dump($value);

        return (string) ob_get_clean();
    }

    public function testAuthorizationCodeWithPkceSignsTheUserIn(): void
    {
        $before = LocalServer::stats();
        $request = Bearer::authorizeStart(self::native());
        $url = $request->getUrl();
        self::assertStringStartsWith(LocalServer::url() . '/authorize?', $url);
        self::assertSame('code', self::query($url, 'response_type'));
        self::assertSame('code', $request->getResponseType());
        self::assertSame(self::APP_REDIRECT, $request->getRedirectUri());
        self::assertSame('S256', self::query($url, 'code_challenge_method'));
        self::assertSame('openid profile email', self::query($url, 'scope'));
        self::assertSame($request->getState(), self::query($url, 'state'));
        self::assertSame(43, strlen($request->getState()), '256 bits of state');
        self::assertNotNull($request->getCodeVerifier());
        self::assertNotNull($request->getNonce());

        $token = Bearer::authorizeComplete(self::native(), $request, Browser::redirect($url));
        self::assertInstanceOf(AccessToken::class, $token);
        self::assertSame(self::TEST_USER, self::claims($token->getToken())['sub']);
        self::assertSame('Bearer', $token->getTokenType());
        self::assertGreaterThan(time(), $token->getExpires());
        $idToken = $token->getValues()['id_token'] ?? null;
        self::assertIsString($idToken, 'openid gives an ID token');
        self::assertSame($request->getNonce(), self::claims($idToken)['nonce']);
        self::assertNull($token->getRefreshToken(), 'no offline_access, no refresh token');
        self::assertStringNotContainsString($idToken, self::dump($token));
        self::assertSame(1, self::delta($before, 'auth0'));
        self::assertSame(1, self::delta($before, 'authorize'));
    }

    public function testTheRequestKeepsNoSecretInItsDumps(): void
    {
        $request = Bearer::authorizeStart(self::native());
        $shown = print_r($request, true) . self::dump($request);
        foreach ([$request->getState(), $request->getCodeVerifier(), $request->getNonce()] as $secret) {
            self::assertStringNotContainsString((string) $secret, $shown);
        }
        self::assertStringContainsString(self::APP_REDIRECT, $shown);
        self::assertStringContainsString('[redacted]', $shown);
    }

    public function testTheRequestSurvivesARoundTripThroughItsJson(): void
    {
        $request = Bearer::authorizeStart(self::native());
        $json = $request->toJson();
        self::assertSame(
            ['url', 'response_type', 'redirect_uri', 'state', 'code_verifier', 'nonce'],
            array_keys(json_decode($json, true, 8, JSON_THROW_ON_ERROR)),
        );
        $restored = AuthorizationRequest::fromJson($json);
        self::assertSame($json, $restored->toJson());
        self::assertSame($request->getCodeVerifier(), $restored->getCodeVerifier());
        self::assertEquals($request, $restored);
        // As $_SESSION stores it.
        $session = unserialize(serialize(['sign_in' => $request]));
        self::assertEquals($request, $session['sign_in']);

        // Completed from the JSON text itself, as a session would hand it back.
        $token = Bearer::authorizeComplete(LocalServer::json(self::native()), $json, Browser::redirect($restored->getUrl()));
        self::assertNotSame('', $token->getToken());

        $this->expectException(\ValueError::class);
        AuthorizationRequest::fromJson('{"url":"x"}');
    }

    public function testAConfidentialClientExchangesTheCodeWithItsSecret(): void
    {
        $config = ['client_id' => 'demo-client', 'client_secret' => 'demo-secret', 'client_auth' => 'client_secret_basic'] + self::native();
        $request = Bearer::authorizeStart($config);
        $redirect = Browser::redirect($request->getUrl());
        $token = Bearer::authorizeComplete($config, $request, $redirect);
        self::assertSame(self::TEST_USER, self::claims($token->getToken())['sub']);

        $e = self::problem(static fn () => Bearer::authorizeComplete($config, $request, $redirect));
        self::assertProblem($e, 'urn:bearer:problem:invalid-grant', 403, Status::REJECTED);
        $shown = $e->getMessage() . json_encode($e->getProblem()) . $e;
        self::assertStringNotContainsString('demo-secret', $shown);
        self::assertStringNotContainsString((string) $request->getCodeVerifier(), $shown);
    }

    public function testTheImplicitFlowReadsTheTokenFromTheFragment(): void
    {
        $config = ['client_id' => 'demo-client'] + self::native('implicit');
        unset($config['token_url'], $config['audience']);
        $before = LocalServer::stats();
        $request = Bearer::authorizeStart($config);
        self::assertSame('token', self::query($request->getUrl(), 'response_type'));
        self::assertSame('token', $request->getResponseType());
        self::assertNull($request->getCodeVerifier());
        $redirect = Browser::redirect($request->getUrl());
        self::assertStringContainsString('#access_token=', $redirect);

        $token = Bearer::authorizeComplete($config, $request, $redirect);
        self::assertSame('Bearer', $token->getTokenType());
        self::assertGreaterThan(time(), $token->getExpires());
        self::assertSame(0, self::delta($before, 'auth0'), 'no token endpoint in the implicit flow');

        $forged = str_replace('state=', 'state=x', $redirect);
        $e = self::problem(static fn () => Bearer::authorizeComplete($config, $request, $forged));
        self::assertProblem($e, 'urn:bearer:problem:invalid-callback', 400, Status::INVALID_ARGUMENT);
    }

    public function testAWrongOrMissingStateIsRefusedBeforeAnyExchange(): void
    {
        $before = LocalServer::stats();
        $request = Bearer::authorizeStart(self::native());
        $redirect = Browser::redirect($request->getUrl());
        $state = (string) self::query($redirect, 'state');

        $forged = str_replace($state, 'forged-state', $redirect);
        $e = self::problem(static fn () => Bearer::authorizeComplete(self::native(), $request, $forged));
        self::assertProblem($e, 'urn:bearer:problem:invalid-callback', 400, Status::INVALID_ARGUMENT);
        self::assertSame('state_mismatch', $e->getExtensions()['reason']);

        $stateless = self::APP_REDIRECT . '?code=' . rawurlencode((string) self::query($redirect, 'code'));
        $e = self::problem(static fn () => Bearer::authorizeComplete(self::native(), $request, $stateless));
        self::assertProblem($e, 'urn:bearer:problem:invalid-callback', 400, Status::INVALID_ARGUMENT);
        self::assertStringContainsString('no state', $e->getDetail());

        $elsewhere = str_replace('127.0.0.1:9', '127.0.0.1:10', $redirect);
        $e = self::problem(static fn () => Bearer::authorizeComplete(self::native(), $request, $elsewhere));
        self::assertProblem($e, 'urn:bearer:problem:invalid-callback', 400, Status::INVALID_ARGUMENT);

        // A string that is no request goes to the library as is.
        $e = self::problem(static fn () => Bearer::authorizeComplete(self::native(), '{}', $redirect));
        self::assertSame(Status::INVALID_ARGUMENT, $e->getCode());
        self::assertSame(0, self::delta($before, 'auth0'), 'nothing was exchanged');
    }

    public function testACodeWorksOnce(): void
    {
        $request = Bearer::authorizeStart(self::native());
        $redirect = Browser::redirect($request->getUrl());
        Bearer::authorizeComplete(self::native(), $request, $redirect);
        $e = self::problem(static fn () => Bearer::authorizeComplete(self::native(), $request, $redirect));
        self::assertProblem($e, 'urn:bearer:problem:invalid-grant', 403, Status::REJECTED);
        self::assertSame('invalid_grant', $e->getExtensions()['error']);
        self::assertStringNotContainsString((string) self::query($redirect, 'code'), json_encode($e->getProblem()) . $e);
    }

    public function testAWrongVerifierFailsPkce(): void
    {
        $request = Bearer::authorizeStart(self::native());
        $redirect = Browser::redirect($request->getUrl());
        $tampered = json_decode($request->toJson(), true, 8, JSON_THROW_ON_ERROR);
        $tampered['code_verifier'] = str_repeat('x', 43);
        $tampered = AuthorizationRequest::fromJson(json_encode($tampered, JSON_UNESCAPED_SLASHES));
        $e = self::problem(static fn () => Bearer::authorizeComplete(self::native(), $tampered, $redirect));
        self::assertProblem($e, 'urn:bearer:problem:invalid-grant', 403, Status::REJECTED);
        self::assertSame('Failed PKCE verification', $e->getDetail());
    }

    public function testADeclinedSignInIsAnAuthorizationDeniedProblem(): void
    {
        $before = LocalServer::stats();
        $request = Bearer::authorizeStart(self::native());
        $redirect = Browser::redirect($request->getUrl() . '&deny=1');
        $e = self::problem(static fn () => Bearer::authorizeComplete(self::native(), $request, $redirect));
        self::assertProblem($e, 'urn:bearer:problem:authorization-denied', 403, Status::REJECTED);
        self::assertSame('access_denied', $e->getExtensions()['error']);
        self::assertSame(0, self::delta($before, 'auth0'));
    }

    public function testUserFlowConfigurationsAreChecked(): void
    {
        $e = self::problem(static fn () => Bearer::authorizeStart(['redirect_uri' => 'http://example.com/callback'] + self::native()));
        self::assertProblem($e, 'urn:bearer:problem:insecure-url', 400, Status::INVALID_CONFIG);
        $e = self::problem(static fn () => Bearer::authorizeStart(['client_id' => 'x', 'grant_type' => 'authorization_code']));
        self::assertSame('redirect_uri', $e->getExtensions()['key']);
        $e = self::problem(static fn () => new Client(['client_id' => 'x', 'grant_type' => 'refresh_token']));
        self::assertSame('refresh_token', $e->getExtensions()['key']);
        $e = self::problem(static fn () => LoopbackLogin::start(['redirect_uri' => 'https://app.example.com/callback'] + self::native()));
        self::assertSame('redirect_uri', $e->getExtensions()['key']);
    }

    public function testAClientRefreshesWhenTheAccessTokenExpiresAndFollowsRotation(): void
    {
        $config = ['scope' => 'openid offline_access'] + self::native();
        $request = Bearer::authorizeStart($config);
        $first = Bearer::authorizeComplete($config, $request, Browser::redirect($request->getUrl()))->getRefreshToken();
        self::assertIsString($first, 'offline_access gives a refresh token');

        $refresh = static fn (string $token, string $query): array => [
            'client_id' => 'native-client',
            'grant_type' => 'refresh_token',
            'refresh_token' => $token,
            'token_url' => LocalServer::url() . '/oauth/token' . $query,
        ];
        $before = LocalServer::stats();
        $client = new Client($refresh($first, LocalServer::unique('expires_in=2')));
        $a = $client->getAccessToken();
        $b = $client->getAccessToken();
        self::assertSame($a->getToken(), $b->getToken(), 'cached while fresh');
        self::assertSame(1, self::delta($before, 'refresh'));
        $rotated = $a->getRefreshToken();
        self::assertIsString($rotated);
        self::assertNotSame($first, $rotated, 'the server rotated the refresh token');
        self::assertStringNotContainsString($rotated, self::dump($a));

        usleep(2_100_000);
        $c = $client->getAccessToken();
        self::assertNotSame($a->getToken(), $c->getToken());
        self::assertSame(2, self::delta($before, 'refresh'), 'the rotated token worked');
        $client->close();

        // The first refresh token was used up by the rotation.
        $stale = new Client($refresh($first, LocalServer::unique('stale=1')));
        $e = self::problem(static fn () => $stale->token());
        self::assertProblem($e, 'urn:bearer:problem:invalid-grant', 403, Status::REJECTED);
        self::assertStringNotContainsString($first, json_encode($e->getProblem()) . $e);
    }

    public function testTheLoopbackLoginTakesTheBrowsersRedirect(): void
    {
        $before = LocalServer::stats();
        $login = LoopbackLogin::start(self::loopback());
        self::assertStringStartsWith(LocalServer::url() . '/authorize?', $login->getUrl());
        self::assertMatchesRegularExpression('~^http://127\.0\.0\.1:\d+/callback$~', (string) $login->getRedirectUri());

        // PHP has no threads: the browser is a child process, running while this one waits.
        $browser = Proc::start([PHP_BINARY, __DIR__ . '/scripts/browser.php', $login->getUrl()], [], null, $pipes);
        try {
            $token = $login->wait(10);
        } finally {
            $r = Proc::finish($browser, $pipes);
        }
        self::assertSame(0, $r['exit'], $r['err']);
        $report = json_decode(trim($r['out']), true, 8, JSON_THROW_ON_ERROR);
        self::assertArrayNotHasKey('error', $report, $r['out']);
        self::assertSame(404, $report['favicon'], 'a favicon request is not the callback');
        self::assertSame(200, $report['status']);
        self::assertStringContainsString('You are signed in', $report['page']);
        self::assertSame(self::TEST_USER, self::claims($token->getToken())['sub']);
        self::assertSame(1, self::delta($before, 'auth0'));

        // A login completes once.
        $e = self::problem(static fn () => $login->wait(0.01));
        self::assertSame(Status::INVALID_ARGUMENT, $e->getCode());
        self::assertSame('urn:bearer:problem:invalid-argument', $e->getType());

        $login->close();
        $login->close();
        self::assertTrue($login->isClosed());
        try {
            $login->wait(1);
            self::fail('a closed login was used');
        } catch (BearerException $e) {
            self::assertNotInstanceOf(ProblemException::class, $e);
            self::assertSame('this Bearer\LoopbackLogin is closed', $e->getMessage());
            self::assertSame(Status::INVALID_ARGUMENT, $e->getCode());
        }
        self::assertSame($login->getUrl(), $login->getUrl(), 'the URL stays readable');
    }

    public function testTheLoopbackLoginGivesUpAfterItsTimeout(): void
    {
        $login = LoopbackLogin::start(['redirect_uri' => 'http://127.0.0.1:0/done'] + self::native());
        self::assertStringEndsWith('/done', (string) $login->getRedirectUri());
        $t0 = microtime(true);
        $e = self::problem(static fn () => $login->wait(0.2));
        $elapsed = microtime(true) - $t0;
        self::assertProblem($e, 'urn:bearer:problem:timeout', $e->getStatus(), Status::TIMEOUT);
        self::assertGreaterThanOrEqual(0.15, $elapsed);
        self::assertLessThan(2.0, $elapsed);
        $login->close();
    }

    public function testAForgedCallbackIsRefusedAndTheLoginGoesOn(): void
    {
        $before = LocalServer::stats();
        $login = LoopbackLogin::start(self::loopback());
        $forged = $login->getRedirectUri() . '?code=stolen&state=forged';
        // The forged request first, then the real browser: only the real redirect ends the wait.
        $browser = Proc::start([PHP_BINARY, __DIR__ . '/scripts/browser.php', $login->getUrl(), $forged], [], null, $pipes);
        try {
            $token = $login->wait(10);
        } finally {
            $r = Proc::finish($browser, $pipes);
        }
        self::assertSame(0, $r['exit'], $r['err']);
        $report = json_decode(trim($r['out']), true, 8, JSON_THROW_ON_ERROR);
        self::assertArrayNotHasKey('error', $report, $r['out']);
        self::assertSame(400, $report['forged'], 'the forged callback is refused');
        self::assertSame(200, $report['status']);
        self::assertSame(self::TEST_USER, self::claims($token->getToken())['sub']);
        self::assertSame(1, self::delta($before, 'auth0'), 'only the real code is exchanged');
        $login->close();
    }

    public function testTheDestructorClosesTheListener(): void
    {
        $login = LoopbackLogin::start(self::loopback());
        $port = (int) parse_url((string) $login->getRedirectUri(), PHP_URL_PORT);
        self::assertStringNotContainsString('code_challenge', print_r($login, true));
        $socket = @fsockopen('127.0.0.1', $port, $errno, $errstr, 1);
        self::assertIsResource($socket, 'listening while alive');
        fclose($socket);
        unset($login);
        self::assertFalse(@fsockopen('127.0.0.1', $port, $errno, $errstr, 1), 'closed once destroyed');
    }

    public function testBadWaitsAndCopies(): void
    {
        $login = LoopbackLogin::start(self::loopback());
        try {
            $login->wait(-1);
            self::fail('a negative wait');
        } catch (\ValueError) {
        }
        try {
            $login->wait(5e6);
            self::fail('a wait beyond an unsigned int of milliseconds');
        } catch (\ValueError) {
        }
        try {
            serialize($login);
            self::fail('a login was serialized');
        } catch (\LogicException) {
        }
        $this->expectException(\Error::class);
        clone $login; // @phpstan-ignore-line
    }
}
