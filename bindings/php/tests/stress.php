<?php

// A few thousand mixed calls through the binding, for bindings/valgrind.sh:
// clients made and closed, tokens, token responses, headers, one-shot
// fetches, every kind of error, authorizeStart, private_key_jwt and device
// logins (PHP has no threads here).
// Prints what it did; exits 1 on any unexpected outcome.
//
//   BEARER_STRESS_CALLS=3000 php tests/stress.php

declare(strict_types=1);

require __DIR__ . '/bootstrap.php';

use Bearer\Bearer;
use Bearer\Client;
use Bearer\DeviceLogin;
use Bearer\ProblemException;
use Bearer\Status;
use Bearer\Tests\LocalServer;

const CANARY = 'canary-SECRET-7f3a9c2e1b';
const APP_REDIRECT = 'http://127.0.0.1:9/callback';

function check(bool $condition, string $what): void
{
    if (!$condition) {
        throw new RuntimeException($what);
    }
}

function expectProblem(callable $call, int $code, string $typeSuffix): void
{
    try {
        $call();
    } catch (ProblemException $e) {
        check(!str_contains($e->getMessage() . json_encode($e->getProblem()), CANARY), 'the secret crossed the boundary');
        check($e->getBearerStatus() === $code, "code {$e->getBearerStatus()}, expected $code: {$e->getMessage()}");
        check(str_ends_with($e->getType(), $typeSuffix), "type {$e->getType()}, expected *$typeSuffix");

        return;
    }
    throw new RuntimeException("no problem raised, expected $typeSuffix");
}

function closedPort(): int
{
    $socket = stream_socket_server('tcp://127.0.0.1:0');
    $name = stream_socket_get_name($socket, false);
    fclose($socket);

    return (int) substr($name, strrpos($name, ':') + 1);
}

$calls = (int) (getenv('BEARER_STRESS_CALLS') ?: 3000);
$base = LocalServer::url();
$dead = 'http://127.0.0.1:' . closedPort() . '/oauth/token';
$oneShot = LocalServer::cobuilder(LocalServer::unique());
$shared = new Client(LocalServer::auth0(LocalServer::unique()));
$native = [
    'client_id' => 'native-client', 'grant_type' => 'authorization_code',
    'audience' => 'https://beeapp.open-cosmos.com', 'redirect_uri' => APP_REDIRECT,
    'authorize_url' => "$base/authorize", 'token_url' => "$base/oauth/token",
];
$device = [
    'client_id' => 'native-client', 'grant_type' => 'device_code',
    'device_authorization_url' => "$base/oauth/device/code?interval=0", 'token_url' => "$base/oauth/token",
    'audience' => 'https://beeapp.open-cosmos.com', 'scope' => 'openid offline_access',
];
$jwt = [
    'client_id' => 'jwt-client', 'client_auth' => 'private_key_jwt',
    'private_key_file' => LocalServer::checkout() . '/tests/keys/ec.key',
    'audience' => 'https://beeapp.open-cosmos.com', 'token_url' => "$base/oauth/token",
];
$cycles = 0;

// name => [library calls it makes, the operation]
$ops = [
    'client' => [6, static function () use (&$cycles): void {
        $config = $cycles++ % 2 === 0 ? LocalServer::auth0(LocalServer::unique()) : LocalServer::cobuilder(LocalServer::unique());
        $client = new Client($config);
        $token = $client->token();
        check($token !== '' && $client->token() === $token, 'the client did not cache');
        check($client->getAuthorizationHeader() === "Bearer $token", 'header');
        check($client->tokenResponse()['access_token'] === $token, 'token response');
        $client->close();
    }],
    'shared' => [3, static function () use ($shared): void {
        $token = $shared->token();
        check($shared->getAuthorizationHeader() === "Bearer $token", 'header');
        check($shared->tokenResponse()['token_type'] === 'Bearer', 'token response');
    }],
    'refused' => [7, static function (): void {
        $client = new Client(LocalServer::auth0(LocalServer::unique()));
        $old = $client->token();
        check($client->tokenRefused($old), 'the current token was not dropped');
        check($client->token() !== $old, 'no new token after a drop');
        check(!$client->tokenRefused($old), 'a replaced token was dropped');
        $client->close();
        expectProblem(static fn () => Bearer::tokenRefused('{"client_id": ', $old), Status::INVALID_CONFIG, ':invalid-config');
    }],
    'one-shot' => [2, static function () use ($oneShot): void {
        check(Bearer::fetchToken($oneShot) === Bearer::fetchTokenResponse($oneShot)['access_token'], 'one-shot');
    }],
    'wrong-secret' => [1, static function (): void {
        $config = ['client_secret' => CANARY] + LocalServer::auth0(LocalServer::unique());
        expectProblem(static fn () => Bearer::fetchToken($config), Status::REJECTED, ':unauthorized');
    }],
    'closed-port' => [2, static function () use ($dead): void {
        $config = ['token_url' => $dead, 'timeout_ms' => 2000] + LocalServer::auth0();
        expectProblem(static fn () => (new Client($config))->token(), Status::UNAVAILABLE, ':unreachable');
    }],
    'invalid-config' => [2, static function (): void {
        expectProblem(static fn () => new Client('{"client_id": '), Status::INVALID_CONFIG, ':invalid-config');
        $badKey = LocalServer::auth0() + ['client_secrett' => CANARY];
        expectProblem(static fn () => Bearer::fetchToken($badKey), Status::INVALID_CONFIG, ':invalid-config');
    }],
    'invalid-utf8' => [1, static function (): void {
        $text = "{\"client_id\": \"\xFF\xFE\", \"client_secret\": \"" . CANARY . '"}';
        expectProblem(static fn () => Bearer::fetchToken($text), Status::INVALID_ARGUMENT, ':invalid-argument');
    }],
    'authorize' => [2, static function () use ($native, $base): void {
        $request = Bearer::authorizeStart($native);
        check(str_starts_with($request->getUrl(), "$base/authorize?"), 'authorize URL');
        $forged = APP_REDIRECT . '?code=x&state=not-' . $request->getState();
        expectProblem(static fn () => Bearer::authorizeComplete($native, $request, $forged), Status::INVALID_ARGUMENT, ':invalid-callback');
    }],
    'jwt' => [2, static function () use ($jwt): void {
        $client = new Client($jwt);
        check($client->token() !== '', 'private_key_jwt token');
        $client->close();
    }],
    'device' => [3, static function () use ($device, $base): void {
        $login = DeviceLogin::start($device);
        $approve = "$base/_device?" . http_build_query(['user_code' => $login->userCode(), 'action' => 'approve']);
        check(file_get_contents($approve, false, stream_context_create(['http' => ['method' => 'POST']])) !== false, 'approve');
        check($login->poll()->getRefreshToken() !== null, 'device token response');
        $login->close();
    }],
    'device-cancel' => [4, static function () use ($device): void {
        $login = DeviceLogin::start($device);
        $login->cancel();
        expectProblem(static fn () => $login->poll(), Status::CANCELLED, ':cancelled');
        $login->close();
        $login->cancel();
        expectProblem(static fn () => DeviceLogin::start(['device_authorization_url' => null] + $device), Status::INVALID_CONFIG, ':invalid-config');
    }],
];
$mix = ['client', 'shared', 'shared', 'one-shot', 'wrong-secret', 'closed-port', 'invalid-config', 'invalid-utf8',
    'authorize', 'shared', 'client', 'wrong-secret', 'one-shot', 'shared', 'refused',
    'jwt', 'device', 'device-cancel'];

$counts = [];
$failures = [];
$done = 0;
for ($i = 0; $done < $calls; $i++) {
    $name = $mix[$i % count($mix)];
    [$cost, $op] = $ops[$name];
    try {
        $op();
    } catch (Throwable $e) {
        $failures[] = "$name: " . get_class($e) . ": {$e->getMessage()}";
    }
    $counts[$name] = ($counts[$name] ?? 0) + 1;
    $done += $cost;
}
$shared->close();
Bearer::globalCleanup();

ksort($counts);
$summary = implode(', ', array_map(static fn ($k, $v) => "$k $v", array_keys($counts), $counts));
printf("php stress: %d calls (%s), %d unexpected\n", $done, $summary, count($failures));
foreach (array_slice($failures, 0, 10) as $line) {
    echo "  $line\n";
}
exit($failures === [] ? 0 : 1);
