<?php

declare(strict_types=1);

/*
 * opcache.preload entry for php-fpm (and any SAPI with ffi.enable=preload).
 *
 * With ffi.enable=preload, only preloaded code may use FFI. This script
 * preloads this package's classes, so that their calls into the FFI scope
 * "BEARER" are allowed in requests, and loads that scope unless ffi.preload
 * did (the header from bin/bearer-ffi-header). FFI::load() here works only
 * when preloading runs as the server's own user; a server started as root
 * (opcache.preload_user set) needs ffi.preload. The library is found as
 * usual: BEARER_LIBRARY, lib/, then the checkout's target/release and
 * target/debug, and its absolute path is fixed at server start.
 */

require __DIR__ . '/autoload.php';

foreach (['Status', 'BearerException', 'ProblemException', 'AccessToken', 'AuthorizationRequest', 'Internal/Library', 'Internal/Native', 'Internal/OwnsHandle', 'Client', 'LoopbackLogin', 'DeviceLogin', 'Bearer'] as $class) {
    require_once __DIR__ . '/src/' . $class . '.php';
}

Bearer\Internal\Native::preload();
