//! The deadline of the request a write runs in.

use std::sync::atomic::{AtomicU8, Ordering::SeqCst};

/// The deadline of the request a write runs in, shared between the HTTP layer (which gives up
/// on a request past it) and the commit of its write (see [`Scope::write`](super::Scope::write)),
/// which must not commit a request that was given up on, nor let one be given up on once it has
/// committed.
#[derive(Debug, Default)]
pub struct Deadline {
    state: AtomicU8,
}

const OPEN: u8 = 0;
const COMMITTED: u8 = 1;
const EXPIRED: u8 = 2;

impl Deadline {
    /// Marks the deadline passed, unless a write already committed; returns whether it did.
    pub fn expire(&self) -> bool {
        matches!(
            self.state.compare_exchange(OPEN, EXPIRED, SeqCst, SeqCst),
            Ok(_) | Err(EXPIRED)
        )
    }

    /// Records that a write is about to commit; false when the deadline passed first.
    pub(crate) fn begin_commit(&self) -> bool {
        matches!(
            self.state.compare_exchange(OPEN, COMMITTED, SeqCst, SeqCst),
            Ok(_) | Err(COMMITTED)
        )
    }
}
