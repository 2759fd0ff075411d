package com.bearer;

import java.lang.ref.Cleaner;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongConsumer;

/**
 * A native pointer and the function that frees it, kept apart from the
 * object that owns it so that a {@link java.lang.ref.Cleaner} registered for
 * that object does not hold it reachable. Calls hold the read lock, freeing
 * takes the write lock: the pointer is never freed while a call uses it, and
 * it is freed exactly once.
 */
final class NativeHandle implements Runnable {
    /** A call on the live pointer. */
    @FunctionalInterface
    interface Call<T> {
        T on(long pointer);
    }

    /** One cleaner thread for all clients, logins and device sign-ins. */
    static final Cleaner CLEANER = Cleaner.create();

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final LongConsumer free;
    private final String owner;
    private long pointer;

    NativeHandle(long pointer, LongConsumer free, String owner) {
        this.pointer = pointer;
        this.free = free;
        this.owner = owner;
    }

    /** Runs {@code call} on the pointer; IllegalStateException once freed. */
    <T> T call(Call<T> call) {
        lock.readLock().lock();
        try {
            if (pointer == 0) {
                throw new IllegalStateException(owner + " is closed");
            }
            return call.on(pointer);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Runs {@code call} on the pointer unless it has been freed; returns whether it ran. */
    boolean callIfLive(LongConsumer call) {
        lock.readLock().lock();
        try {
            if (pointer == 0) {
                return false;
            }
            call.accept(pointer);
            return true;
        } finally {
            lock.readLock().unlock();
        }
    }

    boolean isFreed() {
        lock.readLock().lock();
        try {
            return pointer == 0;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Frees the pointer, after calls in progress; later runs do nothing. */
    @Override
    public void run() {
        lock.writeLock().lock();
        try {
            if (pointer != 0) {
                free.accept(pointer);
                pointer = 0;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
