<?php

declare(strict_types=1);

namespace Bearer\Internal;

use Bearer\BearerException;
use Bearer\Status;
use FFI\CData;

/**
 * The lifecycle a client and a loopback login share: one native handle,
 * freed exactly once, by close() or at the latest by the destructor; never
 * copied or serialized, since a copy would free it twice.
 *
 * @internal
 */
trait OwnsHandle
{
    private ?CData $handle;

    /** Frees the native handle now. Harmless when already closed. */
    public function close(): void
    {
        if ($this->handle !== null) {
            $handle = $this->handle;
            $this->handle = null;
            self::freeHandle($handle);
        }
    }

    public function isClosed(): bool
    {
        return $this->handle === null;
    }

    public function __destruct()
    {
        $this->close();
    }

    private function __clone()
    {
    }

    /** @return array<string, mixed> */
    public function __serialize(): array
    {
        throw new \LogicException(sprintf('a %s cannot be serialized', self::class));
    }

    private function live(): CData
    {
        return $this->handle ?? throw new BearerException(sprintf('this %s is closed', self::class), Status::INVALID_ARGUMENT);
    }

    abstract private static function freeHandle(CData $handle): void;
}
