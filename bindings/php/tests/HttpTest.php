<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\Client;
use Bearer\Http\BearerClient;
use Bearer\Http\BearerMiddleware;
use GuzzleHttp\Client as Guzzle;
use GuzzleHttp\Handler\CurlMultiHandler;
use GuzzleHttp\HandlerStack;
use GuzzleHttp\Promise\Utils as PromiseUtils;
use GuzzleHttp\Psr7\NoSeekStream;
use GuzzleHttp\Psr7\Request;
use GuzzleHttp\Psr7\Utils;
use PHPUnit\Framework\TestCase;
use Psr\Http\Message\ResponseInterface;
use Psr\Http\Message\StreamInterface;

/**
 * Both HTTP integrations against the real Guzzle and the suite's local
 * server, whose /api/ answers 401 invalid_token for a revoked token:
 * one new token and one retry after a refusal, nothing more for anything
 * else. Each test has a fresh client (each has its own two-second window).
 */
final class HttpTest extends TestCase
{
    /** @return array<string, array{0: string}> */
    public static function integrations(): array
    {
        return ['guzzle middleware' => ['guzzle'], 'psr-18 decorator' => ['psr18']];
    }

    private static function client(array $extra = []): Client
    {
        return new Client(LocalServer::auth0(LocalServer::unique()) + $extra);
    }

    /**
     * One request through the integration; Guzzle's own errors off, so a
     * 4xx comes back as a response.
     */
    private static function send(string $kind, Client $client, string $method, string $url, string|StreamInterface $body = '', bool $retry = true): ResponseInterface
    {
        if ($kind === 'guzzle') {
            $stack = HandlerStack::create();
            $stack->push(BearerMiddleware::create($client, $retry), 'bearer');

            return (new Guzzle(['handler' => $stack, 'http_errors' => false]))->request($method, $url, ['body' => $body]);
        }

        return (new BearerClient(new Guzzle(), $client, $retry))->sendRequest(new Request($method, $url, [], $body));
    }

    /** @return array<string, mixed> */
    private static function json(ResponseInterface $response): array
    {
        return json_decode((string) $response->getBody(), true, 8, JSON_THROW_ON_ERROR);
    }

    private static function revoke(): void
    {
        $ok = file_get_contents(LocalServer::url() . '/_revoke', false, stream_context_create(['http' => ['method' => 'POST']]));
        self::assertNotFalse($ok);
    }

    /** @return array<string, int> the change in the server's counters since $before */
    private static function delta(array $before): array
    {
        $after = LocalServer::stats();

        return ['auth0' => $after['auth0'] - $before['auth0'], 'api' => $after['api'] - $before['api'], 'api_refused' => $after['api_refused'] - $before['api_refused']];
    }

    /** @dataProvider integrations */
    public function testTheTokenGoesInExactlyOneAuthorizationHeader(string $kind): void
    {
        $client = self::client();
        $response = self::send($kind, $client, 'GET', LocalServer::url() . '/api/whoami');
        self::assertSame(200, $response->getStatusCode());
        $seen = self::json($response);
        self::assertTrue($seen['authorization']);
        self::assertSame('demo-client@clients', $seen['sub']);
        self::assertSame(1, count(array_keys($seen['headers'], 'authorization', true)));
    }

    /** @dataProvider integrations */
    public function testARevokedTokenIsReplacedOnceAndTheRequestRetried(string $kind): void
    {
        $client = self::client();
        $old = $client->token();
        self::revoke();
        $before = LocalServer::stats();
        $response = self::send($kind, $client, 'GET', LocalServer::url() . '/api/whoami');
        self::assertSame(200, $response->getStatusCode());
        self::assertSame(['auth0' => 1, 'api' => 2, 'api_refused' => 1], self::delta($before));
        self::assertNotSame($old, $client->token());
        // No retry marker: the retry sent the headers a plain request sends, one Authorization.
        $plain = self::send($kind, $client, 'GET', LocalServer::url() . '/api/whoami');
        self::assertSame(self::json($plain)['headers'], self::json($response)['headers']);
        self::assertSame(1, count(array_keys(self::json($response)['headers'], 'authorization', true)));
    }

    /**
     * Sixteen processes (one forked from this one each, sharing the token
     * through a cache folder, as php-fpm workers would) send at once on the
     * revoked token: sixteen refusals, one new token, sixteen 200s.
     *
     * @dataProvider integrations
     * @requires extension pcntl
     */
    public function testSixteenConcurrentRequestsOnARevokedTokenGetOneNewToken(string $kind): void
    {
        $dir = sys_get_temp_dir() . '/bearer-http-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($dir, 0700);
        try {
            $client = self::client(['cache' => "file:$dir"]);
            $client->token();
            self::revoke();
            $before = LocalServer::stats();
            $url = LocalServer::url() . '/api/whoami';
            $pids = $starts = [];
            for ($i = 0; $i < 16; $i++) {
                [$starts[], $wait] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
                $pids[] = Fork::run(static function () use ($kind, $client, $url, $wait): int {
                    stream_set_timeout($wait, 10);
                    if (fread($wait, 1) !== 'g') { // all start together
                        return 2;
                    }
                    $response = self::send($kind, $client, 'GET', $url);

                    return $response->getStatusCode() === 200 ? 0 : 1;
                });
                fclose($wait);
            }
            foreach ($starts as $start) {
                fwrite($start, 'g');
            }
            $codes = array_map(Fork::exitCode(...), $pids);
            array_map('fclose', $starts);
            self::assertSame(array_fill(0, 16, 0), $codes, '1: a request failed, 2: no start signal, 99: it threw');
            self::assertSame(['auth0' => 1, 'api' => 32, 'api_refused' => 16], self::delta($before));
        } finally {
            array_map('unlink', glob("$dir/*") ?: []);
            rmdir($dir);
        }
    }

    /**
     * The same in one process: sixteen async requests on Guzzle's curl
     * multi handler all leave with the revoked token before any answer.
     *
     * @requires extension curl
     */
    public function testSixteenAsyncGuzzleRequestsOnARevokedTokenGetOneNewToken(): void
    {
        $client = self::client();
        $client->token();
        self::revoke();
        $before = LocalServer::stats();
        $stack = HandlerStack::create(new CurlMultiHandler());
        $stack->push(BearerMiddleware::create($client), 'bearer');
        $http = new Guzzle(['handler' => $stack, 'http_errors' => false]);
        $promises = [];
        for ($i = 0; $i < 16; $i++) {
            $promises[] = $http->getAsync(LocalServer::url() . '/api/whoami');
        }
        $statuses = array_map(static fn (ResponseInterface $r): int => $r->getStatusCode(), PromiseUtils::all($promises)->wait());
        self::assertSame(array_fill(0, 16, 200), $statuses);
        self::assertSame(['auth0' => 1, 'api' => 32, 'api_refused' => 16], self::delta($before));
    }

    /** @dataProvider integrations */
    public function testInsufficientScopePassesThroughWithoutANewTokenOrASecondTry(string $kind): void
    {
        $client = self::client();
        $client->token();
        $before = LocalServer::stats();
        $response = self::send($kind, $client, 'GET', LocalServer::url() . '/api/admin');
        self::assertSame(403, $response->getStatusCode());
        self::assertStringContainsString('error="insufficient_scope"', $response->getHeaderLine('WWW-Authenticate'));
        self::assertSame(['auth0' => 0, 'api' => 1, 'api_refused' => 0], self::delta($before));
    }

    /** @dataProvider integrations */
    public function testARefusalOfTheNewTokenTooIsReturnedAfterTwoAttempts(string $kind): void
    {
        $client = self::client();
        $client->token();
        $before = LocalServer::stats();
        $response = self::send($kind, $client, 'GET', LocalServer::url() . '/api/refuse');
        self::assertSame(401, $response->getStatusCode());
        self::assertStringContainsString('error="invalid_token"', $response->getHeaderLine('WWW-Authenticate'));
        self::assertSame(['auth0' => 1, 'api' => 2, 'api_refused' => 2], self::delta($before));
    }

    /** @dataProvider integrations */
    public function testAPostBodyIsSentAgainOnTheRetry(string $kind): void
    {
        $client = self::client();
        $client->token();
        self::revoke();
        $before = LocalServer::stats();
        $body = '{"n":1,"text":"sent twice"}';
        $response = self::send($kind, $client, 'POST', LocalServer::url() . '/api/items', $body);
        self::assertSame(200, $response->getStatusCode());
        self::assertSame($body, self::json($response)['body']);
        self::assertSame('POST', self::json($response)['method']);
        self::assertSame(['auth0' => 1, 'api' => 2, 'api_refused' => 1], self::delta($before));
    }

    /** @dataProvider integrations */
    public function testABodyReadableOnceGetsThe401BackAndTheNextRequestANewToken(string $kind): void
    {
        $client = self::client();
        $client->token();
        self::revoke();
        $before = LocalServer::stats();
        $once = new NoSeekStream(Utils::streamFor('read once'));
        $response = self::send($kind, $client, 'POST', LocalServer::url() . '/api/items', $once);
        self::assertSame(401, $response->getStatusCode());
        self::assertSame(['auth0' => 0, 'api' => 1, 'api_refused' => 1], self::delta($before));
        // The refusal was reported: the next request carries a new token.
        $next = self::send($kind, $client, 'POST', LocalServer::url() . '/api/items', 'again');
        self::assertSame(200, $next->getStatusCode());
        self::assertSame('again', self::json($next)['body']);
        self::assertSame(['auth0' => 1, 'api' => 2, 'api_refused' => 1], self::delta($before));
    }

    /**
     * FIRST/api/redirect?to=SECOND/api/open, SECOND being another server
     * (another port: another origin). Guzzle's client follows it and the
     * second server sees no Authorization; Guzzle's PSR-18 sendRequest()
     * follows no redirect at all, so the second server sees nothing.
     *
     * @dataProvider integrations
     */
    public function testTheTokenDoesNotFollowARedirectToAnotherOrigin(string $kind): void
    {
        $second = LocalServer::start();
        try {
            $client = self::client();
            $target = $second['url'] . '/api/open';
            $response = self::send($kind, $client, 'GET', LocalServer::url() . '/api/redirect?to=' . rawurlencode($target));
            $seen = json_decode((string) file_get_contents($second['url'] . '/_stats'), true, 8, JSON_THROW_ON_ERROR);
            if ($kind === 'guzzle') {
                self::assertSame(200, $response->getStatusCode());
                self::assertSame(['sub' => null, 'authorization' => false], array_intersect_key(self::json($response), ['sub' => 1, 'authorization' => 1]));
                self::assertNotContains('authorization', self::json($response)['headers']);
                self::assertSame(1, $seen['api']);
                // Guzzle itself strips an Authorization header the caller set once the origin changes.
                $fixed = (new Guzzle(['http_errors' => false]))->get(LocalServer::url() . '/api/redirect?to=' . rawurlencode($target), ['headers' => ['Authorization' => 'Bearer ' . $client->token()]]);
                self::assertFalse(self::json($fixed)['authorization']);
                // A redirect Guzzle follows gets no token from the middleware, even to the same origin.
                $same = self::send($kind, $client, 'GET', LocalServer::url() . '/api/redirect?to=' . rawurlencode(LocalServer::url() . '/api/open'));
                self::assertFalse(self::json($same)['authorization']);
            } else {
                self::assertSame(302, $response->getStatusCode());
                self::assertSame($target, $response->getHeaderLine('Location'));
                self::assertSame(0, $seen['api']);
            }
        } finally {
            LocalServer::stop($second);
        }
    }

    /** @dataProvider integrations */
    public function testWithTheRetryOffARefusalIsReportedAndThe401Returned(string $kind): void
    {
        $client = self::client();
        $client->token();
        self::revoke();
        $before = LocalServer::stats();
        $response = self::send($kind, $client, 'GET', LocalServer::url() . '/api/whoami', '', false);
        self::assertSame(401, $response->getStatusCode());
        self::assertSame(['auth0' => 0, 'api' => 1, 'api_refused' => 1], self::delta($before));
        $next = self::send($kind, $client, 'GET', LocalServer::url() . '/api/whoami', '', false);
        self::assertSame(200, $next->getStatusCode());
        self::assertSame(['auth0' => 1, 'api' => 2, 'api_refused' => 1], self::delta($before));
    }

    /** @dataProvider integrations */
    public function testNoTokenMeansNoRequest(string $kind): void
    {
        $client = new Client(['client_secret' => 'wrong'] + LocalServer::auth0(LocalServer::unique()));
        $before = LocalServer::stats();
        try {
            self::send($kind, $client, 'GET', LocalServer::url() . '/api/whoami');
            self::fail('no exception');
        } catch (\Bearer\ProblemException $e) {
            self::assertSame(\Bearer\Status::REJECTED, $e->getBearerStatus());
        }
        self::assertSame(0, self::delta($before)['api']);
    }

    /** @dataProvider challenges */
    public function testWhichChallengesRefuseTheToken(array $values, bool $refused): void
    {
        self::assertSame($refused, \Bearer\Http\Authorizer::refusesToken($values));
    }

    /** @return array<string, array{0: list<string>, 1: bool}> */
    public static function challenges(): array
    {
        return [
            'none' => [[], true],
            'bare bearer' => [['Bearer realm="api"'], true],
            'invalid_token' => [['Bearer realm="api", error="invalid_token", error_description="a, b"'], true],
            'token unquoted' => [['Bearer error=invalid_token'], true],
            'invalid_request' => [['Bearer realm="api", error="invalid_request"'], false],
            'insufficient_scope' => [['Bearer error="insufficient_scope", scope="admin"'], false],
            'only basic' => [['Basic realm="x"'], false],
            'basic then bearer' => [['Basic realm="x, y", Bearer error="invalid_token"'], true],
            'two values' => [['Basic realm="x"', 'Bearer error="invalid_request"'], false],
        ];
    }

    /** The binding loads and works with no Guzzle and no PSR interfaces anywhere. */
    public function testTheBindingWorksWithoutGuzzle(): void
    {
        $script = '<?php require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . ';'
            . '$c = new Bearer\Client(' . var_export(LocalServer::json(LocalServer::auth0(LocalServer::unique())), true) . ');'
            . '$t = $c->token(); $d = $c->tokenRefused($t);'
            . 'echo json_encode([$d, $c->token() !== $t, class_exists("GuzzleHttp\\\\Client"), interface_exists("Psr\\\\Http\\\\Client\\\\ClientInterface")]);';
        $file = tempnam(sys_get_temp_dir(), 'bearer-noguzzle-');
        file_put_contents($file, $script);
        try {
            $run = Proc::run([PHP_BINARY, '-d', 'ffi.enable=preload', '-d', 'include_path=.', $file]);
        } finally {
            unlink($file);
        }
        self::assertSame(0, $run['exit'], $run['err'] . $run['out']);
        self::assertSame('[true,true,false,false]', $run['out']);
    }
}
