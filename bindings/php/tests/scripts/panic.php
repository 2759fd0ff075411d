<?php

// bearer_test_panic through the binding's FFI; the panic message Rust
// prints goes to this process's stderr, away from the test output.
declare(strict_types=1);

require dirname(__DIR__, 2) . '/autoload.php';

$ffi = Bearer\Internal\Native::ffi();
$problem = $ffi->new('char*');
$status = $ffi->bearer_test_panic(FFI::addr($problem));
echo json_encode(['status' => $status, 'problem' => FFI::string($problem)]);
$ffi->bearer_string_free($problem);
