//! Locking for the server's in-memory caches and batches.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, also when a thread panicked while holding it. None of the server's mutexes is
/// held across a call that can panic, and each guards a map that stays sound: a poisoned lock
/// must not take every later request down with it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
