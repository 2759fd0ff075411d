<?php

declare(strict_types=1);

namespace Bearer;

/**
 * The library's bearer_status numbers (BEARER_STATUS_* in include/bearer.h).
 * A ProblemException carries one as its code. Numbers are never reused; an
 * unknown number is still a failure.
 */
final class Status
{
    public const OK = 0;
    public const INVALID_ARGUMENT = 1;
    public const INVALID_CONFIG = 2;
    public const REJECTED = 3;
    public const RATE_LIMITED = 4;
    public const UNAVAILABLE = 5;
    public const TIMEOUT = 6;
    public const BAD_RESPONSE = 7;
    public const INTERNAL = 8;
    /** A device login's poll after DeviceLogin::cancel(). */
    public const CANCELLED = 9;

    private function __construct()
    {
    }
}
