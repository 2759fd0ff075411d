<?php

// The "browser" of the loopback login, run as a child process while the
// test's process blocks in LoopbackLogin::wait(): asks the listener for a
// favicon (which must not count as the callback), sends the forged callback
// given as a second argument if any, opens the authorize URL, follows its
// redirect to the listener by hand, and prints one JSON line.
declare(strict_types=1);

require __DIR__ . '/../Browser.php';

$url = $argv[1] ?? '';
parse_str((string) parse_url($url, PHP_URL_QUERY), $query);
$origin = preg_replace('~^(http://[^/]+).*$~', '$1', (string) ($query['redirect_uri'] ?? ''));
$report = [];
try {
    $report['favicon'] = Bearer\Tests\Browser::get($origin . '/favicon.ico')['status'];
    if (isset($argv[2])) {
        $report['forged'] = Bearer\Tests\Browser::get($argv[2])['status'];
    }
    $location = Bearer\Tests\Browser::redirect($url);
    $page = Bearer\Tests\Browser::get($location);
    $report['status'] = $page['status'];
    $report['page'] = $page['body'];
} catch (Throwable $e) {
    $report['error'] = $e->getMessage();
}
echo json_encode($report, JSON_UNESCAPED_SLASHES), "\n";
