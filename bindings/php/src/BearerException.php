<?php

declare(strict_types=1);

namespace Bearer;

/**
 * Base of every error this package throws, so one catch covers them all.
 * Thrown as is when the binding itself cannot go on: the library cannot be
 * found or loaded, or a closed client is used. Failures reported by the
 * library are the subclass ProblemException.
 */
class BearerException extends \RuntimeException
{
}
