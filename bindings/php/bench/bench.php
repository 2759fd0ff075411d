<?php

declare(strict_types=1);

/*
 * Median wall time per GET /api/whoami over a kept-alive connection, for
 * Guzzle with a fixed Authorization header (the floor) and through each
 * bearer integration, interleaved in rounds so that drift hits every row
 * alike. Started by bench.sh; prints the table on stdout, notes on stderr.
 */

require '/usr/share/php/GuzzleHttp/autoload.php';
require dirname(__DIR__) . '/autoload.php';

use Bearer\Http\BearerClient;
use Bearer\Http\BearerMiddleware;
use GuzzleHttp\Client as Guzzle;
use GuzzleHttp\Handler\CurlHandler;
use GuzzleHttp\HandlerStack;
use GuzzleHttp\Psr7\Request;

const WARMUP = 300;
const ROUNDS = 100;
const PER_ROUND = 40;

if (!extension_loaded('curl')) {
    fwrite(STDERR, "bench: needs PHP's curl extension (Debian: php8.2-curl); without it Guzzle opens a connection per request\n");
    exit(1);
}

$bin = dirname(__DIR__, 3) . '/target/release/bearer';
$log = tempnam(sys_get_temp_dir(), 'bearer-bench-');
$server = proc_open([$bin, 'serve', '--port', '0'], [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']], $pipes);
register_shutdown_function(static function () use ($server, $log): void {
    proc_terminate($server);
    proc_close($server);
    @unlink($log);
});
$base = null;
for ($deadline = microtime(true) + 10; microtime(true) < $deadline; usleep(20_000)) {
    if (preg_match('~^listening on (http://127\.0\.0\.1:\d+)~', (string) file_get_contents($log), $m)) {
        $base = $m[1];
        break;
    }
}
if ($base === null) {
    fwrite(STDERR, "bench: $bin serve did not start: " . file_get_contents($log) . "\n");
    exit(1);
}
$url = $base . '/api/whoami';
$bearer = new Bearer\Client([
    'client_id' => 'demo-client',
    'client_secret' => 'demo-secret',
    'audience' => 'https://beeapp.open-cosmos.com',
    'token_url' => $base . '/oauth/token',
]);
$token = $bearer->token();

/** A Guzzle client on a synchronous curl handler of its own (one kept-alive connection). */
$guzzle = static function (?callable $middleware = null): Guzzle {
    $stack = HandlerStack::create(new CurlHandler());
    if ($middleware !== null) {
        $stack->push($middleware, 'bearer');
    }

    return new Guzzle(['handler' => $stack, 'http_errors' => false]);
};
$fixed = $guzzle();
$withMiddleware = $guzzle(BearerMiddleware::create($bearer));
$psrFixed = $guzzle();
$psrBearer = new BearerClient($guzzle(), $bearer);
$fixedRequest = new Request('GET', $url, ['Authorization' => 'Bearer ' . $token]);
$plainRequest = new Request('GET', $url);

/** @var array<string, callable(): \Psr\Http\Message\ResponseInterface> $rows */
$rows = [
    'guzzle fixed header' => static fn () => $fixed->request('GET', $url, ['headers' => ['Authorization' => 'Bearer ' . $token]]),
    'guzzle + bearer middleware' => static fn () => $withMiddleware->request('GET', $url),
    'guzzle psr-18 fixed header' => static fn () => $psrFixed->sendRequest($fixedRequest),
    'guzzle psr-18 + BearerClient' => static fn () => $psrBearer->sendRequest($plainRequest),
];
$times = array_fill_keys(array_keys($rows), []);
$stats = static fn (): array => json_decode((string) file_get_contents($base . '/_stats'), true, 8, JSON_THROW_ON_ERROR);
foreach ($rows as $name => $send) {
    for ($i = 0; $i < WARMUP; $i++) {
        if ($send()->getStatusCode() !== 200) {
            fwrite(STDERR, "bench: $name did not get a 200\n");
            exit(1);
        }
    }
}
$before = $stats();
for ($round = 0; $round < ROUNDS; $round++) {
    // Rotate the order each round.
    $names = array_keys($rows);
    $names = array_merge(array_slice($names, $round % count($names)), array_slice($names, 0, $round % count($names)));
    foreach ($names as $name) {
        $send = $rows[$name];
        for ($i = 0; $i < PER_ROUND; $i++) {
            $t = hrtime(true);
            $status = $send()->getStatusCode();
            $times[$name][] = hrtime(true) - $t;
            if ($status !== 200) {
                fwrite(STDERR, "bench: $name got $status\n");
                exit(1);
            }
        }
    }
}
$after = $stats();

$median = static function (array $ns): float {
    sort($ns);
    $n = count($ns);

    return ($n % 2 ? $ns[intdiv($n, 2)] : ($ns[$n / 2 - 1] + $ns[$n / 2]) / 2) / 1000;
};
// Each bearer row against the fixed-header row above it: Guzzle's request()
// and its PSR-18 sendRequest() differ by themselves.
$floors = [
    'guzzle fixed header' => 'guzzle fixed header',
    'guzzle + bearer middleware' => 'guzzle fixed header',
    'guzzle psr-18 fixed header' => 'guzzle psr-18 fixed header',
    'guzzle psr-18 + BearerClient' => 'guzzle psr-18 fixed header',
];
printf("%-33s%10s%10s%16s\n", 'php integration', 'us/request', 'added us', 'ratio to floor');
foreach ($times as $name => $ns) {
    $us = $median($ns);
    $floor = $median($times[$floors[$name]]);
    printf("%-33s%10.1f%10.1f%16.2f\n", $name, $us, $us - $floor, $us / $floor);
}
fprintf(
    STDERR,
    "each bearer row is against the fixed-header row above it\n"
    . "%d requests per row after %d warm-up; %d new connections and %d token requests during the measured rounds\n"
    . "peers: league/oauth2-client and kamermans/guzzle-oauth2-subscriber are in no Debian package (apt-cache policy php-league-oauth2-client: none) and packagist is not reachable here, so no peer row\n",
    ROUNDS * PER_ROUND,
    WARMUP,
    $after['connections'] - $before['connections'] - 1,
    $after['auth0'] - $before['auth0'],
);
