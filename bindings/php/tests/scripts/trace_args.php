<?php

// Run with zend.exception_ignore_args=0: the configuration (holding the
// secret) is an argument of the frames the exception passes through.
declare(strict_types=1);

require dirname(__DIR__, 2) . '/autoload.php';

try {
    Bearer\Bearer::fetchToken($argv[1]);
} catch (Bearer\ProblemException $e) {
    echo $e, "\n";
    var_dump($e->getTrace());
}
try {
    (new Bearer\Client($argv[1]))->token();
} catch (Bearer\ProblemException $e) {
    echo $e, "\n";
    print_r($e);
}
