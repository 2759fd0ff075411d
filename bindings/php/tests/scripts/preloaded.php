<?php

// Run under opcache.preload=preload.php: reports how the binding reached
// the library and gets a token. No autoloader: the classes were preloaded.
declare(strict_types=1);

$config = (string) getenv('BEARER_TEST_CONFIG');
$report = ['preloaded' => class_exists(Bearer\Client::class, false)];
try {
    FFI::cdef('int abs(int);');
    $report['script_ffi'] = 'allowed';
} catch (FFI\Exception $e) {
    $report['script_ffi'] = $e->getMessage();
}
try {
    $report['mode'] = Bearer\Bearer::ffiMode();
    $report['library'] = Bearer\Internal\Native::library();
    $report['token'] = Bearer\Bearer::fetchToken($config);
    $report['header'] = (new Bearer\Client($config))->getAuthorizationHeader();
} catch (Throwable $e) {
    $report['error'] = get_class($e) . ': ' . $e->getMessage();
}
echo json_encode($report, JSON_UNESCAPED_SLASHES), "\n";
