<?php

declare(strict_types=1);

namespace Bearer\Tests;

/** Forked children for the tests that need processes sharing a parent's state. */
final class Fork
{
    /**
     * Runs $child in a forked process whose exit code is what it returns
     * (99 when it throws). The child ends by exec, so the parent's shutdown
     * functions (one stops the suite's server) never run in it.
     */
    public static function run(\Closure $child): int
    {
        $pid = pcntl_fork();
        if ($pid < 0) {
            throw new \RuntimeException('fork failed');
        }
        if ($pid === 0) {
            try {
                $code = min($child(), 255);
            } catch (\Throwable) {
                $code = 99;
            }
            pcntl_exec('/bin/sh', ['-c', "exit $code"]);
            posix_kill(posix_getpid(), SIGKILL); // only if the exec failed
        }

        return $pid;
    }

    /** Waits for the child and returns its exit code. */
    public static function exitCode(int $pid): int
    {
        if (pcntl_waitpid($pid, $status) !== $pid) {
            throw new \RuntimeException("waiting for $pid failed");
        }

        return pcntl_wexitstatus($status);
    }
}
