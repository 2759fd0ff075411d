<?php

declare(strict_types=1);

namespace Bearer\Tests;

/** Runs a child process to completion and returns what it said. */
final class Proc
{
    /**
     * @param list<string> $command
     * @param array<string, string|null> $env added to this process's environment (null removes a name)
     * @return array{exit: int, out: string, err: string}
     */
    public static function run(array $command, array $env = [], ?string $cwd = null): array
    {
        $proc = self::start($command, $env, $cwd, $pipes);

        return self::finish($proc, $pipes);
    }

    /**
     * @param list<string> $command
     * @param array<string, string|null> $env
     * @param array<int, resource>|null $pipes
     * @return resource
     */
    public static function start(array $command, array $env, ?string $cwd, ?array &$pipes)
    {
        $proc = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $cwd, array_filter($env + getenv(), static fn ($v): bool => $v !== null));
        if (!is_resource($proc)) {
            throw new \RuntimeException('cannot start ' . implode(' ', $command));
        }

        return $proc;
    }

    /**
     * @param resource $proc
     * @param array<int, resource> $pipes
     * @return array{exit: int, out: string, err: string}
     */
    public static function finish($proc, array $pipes): array
    {
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);

        return ['exit' => proc_close($proc), 'out' => (string) $out, 'err' => (string) $err];
    }
}
