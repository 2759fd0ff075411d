<?php

// Prints a token for the configuration in BEARER_TEST_CONFIG, using one client twice.
declare(strict_types=1);

require dirname(__DIR__, 2) . '/autoload.php';

$client = new Bearer\Client((string) getenv('BEARER_TEST_CONFIG'));
$first = $client->token();
if ($client->token() !== $first) {
    fwrite(STDERR, "the second call gave another token\n");
    exit(1);
}
echo $first, "\n";
