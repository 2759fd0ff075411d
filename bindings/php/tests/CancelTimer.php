<?php

declare(strict_types=1);

namespace Bearer\Tests;

use Bearer\DeviceLogin;
use Bearer\Internal\Native;

/**
 * Calls bearer_device_cancel() from another thread while this one is
 * blocked in poll(): PHP has no threads, so a POSIX timer with
 * SIGEV_THREAD has glibc's timer thread call the C function itself, with
 * the device handle as its one pointer argument (a union sigval of one
 * pointer is passed as that pointer on x86-64 and aarch64). No PHP code
 * runs on that thread.
 */
final class CancelTimer
{
    private const CLOCK_MONOTONIC = 1;
    private const SIGEV_THREAD = 2;
    private const RTLD_NOW_NOLOAD = 2 | 4;

    private static ?\FFI $libc = null;

    private function __construct(private readonly \FFI\CData $timer)
    {
    }

    private static function libc(): \FFI
    {
        return self::$libc ??= \FFI::cdef('
            typedef struct { void *sival_ptr; int sigev_signo; int sigev_notify; void *function; void *attribute; int pad[8]; } t_sigevent;
            typedef struct { long tv_sec; long tv_nsec; } t_timespec;
            typedef struct { t_timespec it_interval; t_timespec it_value; } t_itimerspec;
            int timer_create(int clockid, t_sigevent *sevp, void **timerid);
            int timer_settime(void *timerid, int flags, const t_itimerspec *new_value, t_itimerspec *old_value);
            int timer_delete(void *timerid);
            void *dlopen(const char *filename, int flags);
            void *dlsym(void *handle, const char *symbol);
        ', 'libc.so.6');
    }

    /** Arms a one-shot timer that cancels $login's poll after $seconds. */
    public static function cancel(DeviceLogin $login, float $seconds): self
    {
        $libc = self::libc();
        $library = Native::library();
        if ($library === null) {
            throw new \LogicException('the cancel timer needs the library loaded by FFI::cdef');
        }
        $lib = $libc->dlopen($library, self::RTLD_NOW_NOLOAD);
        $function = \FFI::isNull($lib) ? null : $libc->dlsym($lib, 'bearer_device_cancel');
        if ($function === null || \FFI::isNull($function)) {
            throw new \RuntimeException('bearer_device_cancel not found in ' . $library);
        }
        $handle = (fn (): \FFI\CData => $this->handle)->call($login);
        $event = $libc->new('t_sigevent');
        $event->sival_ptr = $libc->cast('void*', $handle);
        $event->sigev_notify = self::SIGEV_THREAD;
        $event->function = $function;
        $timer = $libc->new('void*');
        if ($libc->timer_create(self::CLOCK_MONOTONIC, \FFI::addr($event), \FFI::addr($timer)) !== 0) {
            throw new \RuntimeException('timer_create failed');
        }
        $spec = $libc->new('t_itimerspec');
        $spec->it_value->tv_sec = (int) $seconds;
        $spec->it_value->tv_nsec = (int) round(($seconds - (int) $seconds) * 1e9);
        if ($libc->timer_settime($timer, 0, \FFI::addr($spec), null) !== 0) {
            $libc->timer_delete($timer);
            throw new \RuntimeException('timer_settime failed');
        }

        return new self($timer);
    }

    /** Disarms the timer (if it has not fired). Keep the login open until this returns. */
    public function delete(): void
    {
        self::libc()->timer_delete($this->timer);
    }
}
