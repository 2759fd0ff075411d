//! Fork safety: a child process never uses what its parent held for its own
//! connections and requests.
//!
//! Servers fork after loading the library (Puma, Unicorn, gunicorn with
//! preload, PHP-FPM). A child that reused the parent's pooled connection
//! would read answers meant for the parent; a flight marked in progress by a
//! parent thread would never land in the child; a lock a parent thread held
//! at the fork would stay locked there. So everything of that kind lives in
//! a [`PerProcess`], which the first use in a child replaces by a fresh
//! value (made, where that is safe, from what the parent had: its cached
//! tokens, say).
//!
//! The fork is seen through `pthread_atfork`: its child handler bumps a
//! generation counter, so the hot path pays one relaxed load and a compare,
//! where `getpid()` would be a system call on every use (glibc no longer
//! caches it). It sees every `fork()` through libc, which is what Ruby's
//! `Process.fork`, Python's `os.fork` and PHP's `pcntl_fork` call.

use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Mutex, Once, RwLock};

/// Bumped in every child, before any of its threads exist.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// This process's generation: one more than its parent's.
fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// Registers the child handler, once. Called before any [`PerProcess`]
/// value exists, so no fork can go unseen by a value that cares.
fn watch_forks() {
    static WATCH: Once = Once::new();
    WATCH.call_once(|| {
        #[cfg(unix)]
        {
            extern "C" fn in_child() {
                // Async-signal-safe: atomics and close().
                GENERATION.fetch_add(1, Ordering::Relaxed);
                for slot in &CLOSE_IN_CHILD {
                    let fd = slot.swap(-1, Ordering::Relaxed);
                    if fd >= 0 {
                        // SAFETY: the child's copy of a descriptor the parent
                        // registered; nothing in the child uses it.
                        unsafe { libc::close(fd) };
                    }
                }
            }
            // SAFETY: registers a handler that only touches an atomic.
            unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        }
    });
}

/// Descriptors a forked child must not keep, such as a held `flock`: the
/// child's copy would hold the lock until the child exits, though the
/// parent's thread that took it is not there to release it. The child
/// handler closes them, which leaves the parent's lock as it is.
static CLOSE_IN_CHILD: [AtomicI32; 64] = [const { AtomicI32::new(-1) }; 64];

/// A descriptor registered to be closed in forked children, until dropped.
pub struct ClosedInChildren(Option<usize>);

impl ClosedInChildren {
    /// Registers `fd`; with every slot taken (64 at once) it is not, and a
    /// child forked meanwhile keeps its copy.
    pub fn register(fd: i32) -> ClosedInChildren {
        watch_forks();
        let slot = CLOSE_IN_CHILD.iter().position(|slot| {
            slot.compare_exchange(-1, fd, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        });
        ClosedInChildren(slot)
    }
}

impl Drop for ClosedInChildren {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            CLOSE_IN_CHILD[slot].store(-1, Ordering::Release);
        }
    }
}

/// A value that belongs to one process. The first use in a forked child
/// makes a new one, given the parent's to inherit from; the parent's is
/// never used again there, and is freed (without any I/O of its own) only
/// when this is dropped, since a thread of the child may still be reading
/// it to inherit from.
pub struct PerProcess<T> {
    current: AtomicPtr<Entry<T>>,
}

struct Entry<T> {
    generation: u64,
    value: T,
    /// The value of an earlier generation, kept until `PerProcess` drops.
    earlier: *mut Entry<T>,
}

// SAFETY: the entries are reached only through `&T` once published, and
// freed only by `Drop`, which has `&mut self`.
unsafe impl<T: Send + Sync> Send for PerProcess<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for PerProcess<T> {}

impl<T> PerProcess<T> {
    /// Empty: the first [`get`](Self::get) makes the value.
    pub const fn new() -> PerProcess<T> {
        PerProcess {
            current: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// This process's value. `make` builds it on first use, and after a
    /// fork from the parent's value, which it must only read without
    /// blocking (a lock in it may be held by a thread the child lacks).
    #[inline]
    pub fn get(&self, make: impl Fn(Option<&T>) -> T) -> &T {
        let entry = self.current.load(Ordering::Acquire);
        // SAFETY: a published entry lives as long as `self`.
        if let Some(entry) = unsafe { entry.as_ref() }
            && entry.generation == generation()
        {
            return &entry.value;
        }
        self.renew(make)
    }

    #[cold]
    fn renew(&self, make: impl Fn(Option<&T>) -> T) -> &T {
        watch_forks();
        loop {
            let seen = self.current.load(Ordering::Acquire);
            // SAFETY: as in `get`.
            let earlier = unsafe { seen.as_ref() };
            let generation = generation();
            if let Some(entry) = earlier
                && entry.generation == generation
            {
                return &entry.value;
            }
            let fresh = Box::into_raw(Box::new(Entry {
                generation,
                value: make(earlier.map(|entry| &entry.value)),
                earlier: seen,
            }));
            match self
                .current
                .compare_exchange(seen, fresh, Ordering::AcqRel, Ordering::Acquire)
            {
                // SAFETY: just published; it lives as long as `self`.
                Ok(_) => return unsafe { &(*fresh).value },
                // Another thread published first: drop ours (not the
                // earlier entries, which it does not own) and use theirs.
                // SAFETY: `fresh` was never published.
                Err(_) => drop(unsafe { Box::from_raw(fresh) }),
            }
        }
    }

    /// Replaces this process's value by a fresh one (for leak checkers at
    /// exit, and tests); the old one is kept until `self` drops.
    pub fn reset(&self, make: impl Fn(Option<&T>) -> T) {
        watch_forks();
        let seen = self.current.load(Ordering::Acquire);
        // SAFETY: as in `get`.
        let earlier = unsafe { seen.as_ref() };
        let fresh = Box::into_raw(Box::new(Entry {
            generation: generation(),
            value: make(earlier.map(|entry| &entry.value)),
            earlier: seen,
        }));
        if self
            .current
            .compare_exchange(seen, fresh, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // SAFETY: `fresh` was never published.
            drop(unsafe { Box::from_raw(fresh) });
        }
    }
}

/// What the parent held behind `lock`, moved out for the child when the
/// lock is free at once (a thread that held it at the fork is not here to
/// release it); else the default. The parent's value is never used in the
/// child again, so moving it leaves nothing behind.
pub fn inherit<T: Default>(parents: Option<&Mutex<T>>) -> T {
    parents
        .and_then(|lock| lock.try_lock().ok())
        .map(|mut value| std::mem::take(&mut *value))
        .unwrap_or_default()
}

/// [`inherit`] for a value behind a `RwLock`.
pub fn inherit_rw<T: Default>(parents: Option<&RwLock<T>>) -> T {
    parents
        .and_then(|lock| lock.try_write().ok())
        .map(|mut value| std::mem::take(&mut *value))
        .unwrap_or_default()
}

impl<T> Default for PerProcess<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for PerProcess<T> {
    fn drop(&mut self) {
        let mut entry = *self.current.get_mut();
        while !entry.is_null() {
            // SAFETY: every entry of the chain was boxed and is owned here.
            let boxed = unsafe { Box::from_raw(entry) };
            entry = boxed.earlier;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_is_made_once_per_generation() {
        let made = AtomicU64::new(0);
        let value = PerProcess::new();
        let make = |earlier: Option<&u64>| {
            made.fetch_add(1, Ordering::Relaxed);
            earlier.map_or(1, |n| n + 1)
        };
        assert_eq!(*value.get(make), 1);
        assert_eq!(*value.get(make), 1);
        assert_eq!(made.load(Ordering::Relaxed), 1);
        value.reset(make);
        assert_eq!(*value.get(make), 2, "a reset inherits, like a child");
    }
}
