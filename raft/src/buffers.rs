//! Reuse of the vectors that carry entries and messages out of a node.
//!
//! Every `Ready` of a busy node hands out vectors (its new entries, its
//! committed entries, its messages) that the application drops once it has
//! handled them, and the node allocates the next Ready's anew. These are
//! the largest allocations of a busy node, and freeing and allocating them
//! again, interleaved with the many small allocations of messages and
//! payloads, makes the allocator sort and merge its free lists over and
//! over. Handing the emptied vectors back with [`recycle_ready`],
//! [`recycle_messages`] or [`recycle_entries`] lets the next `Ready`s of
//! any node on the same thread reuse them instead. This is optional:
//! dropping them is just as correct.
//!
//! The vectors are kept per thread, a few of each kind, and only those
//! worth keeping: huge ones are freed, so that one burst does not pin its
//! memory, and so are tiny entry vectors. Small message vectors (an idle
//! node's heartbeats and their answers) are kept apart from the large
//! ones: each Ready of an idle node hands out one, and taking a kept one
//! costs a fraction of allocating and freeing it.
//!
//! ```
//! use etcdraft::prelude::*;
//!
//! let storage = MemStorage::new_with_conf_state(ConfState { voters: vec![1], ..Default::default() });
//! let mut node = RawNode::new(&Config::new(1), storage, &discard_logger())?;
//! node.campaign()?;
//! while node.has_ready() {
//!     let mut rd = node.ready();
//!     node.mut_store().append(&rd.entries)?;
//!     if let Some(hs) = rd.hard_state {
//!         node.mut_store().set_hard_state(hs)?;
//!     }
//!     // Send rd.messages, apply rd.committed_entries here, then:
//!     node.advance();
//!     etcdraft::buffers::recycle_ready(rd);
//! }
//! # Ok::<(), Error>(())
//! ```

use std::cell::RefCell;

use crate::eraftpb::{Entry, Message};
use crate::raw_node::Ready;

/// Entry vectors with at most this capacity are not kept: a new one costs
/// little. Message vectors this small (an idle node's: a heartbeat or two)
/// are kept apart from the larger ones, see `small_messages_vec`.
const MIN_KEPT: usize = 8;

/// Vectors whose buffer is larger than this many bytes are not kept.
const MAX_KEPT_BYTES: usize = 1 << 20;

/// How many vectors of each kind a thread keeps.
const KEPT: usize = 4;

/// The capacity of a new small message vector: Rust's minimum for a
/// vector of 160-byte elements, which the first push would allocate anyway.
const SMALL_MESSAGES: usize = 4;

thread_local! {
    static ENTRIES: RefCell<Vec<Vec<Entry>>> = const { RefCell::new(Vec::new()) };
    static MESSAGES: RefCell<Vec<Vec<Message>>> = const { RefCell::new(Vec::new()) };
    // Message vectors with room for 1 to MIN_KEPT messages.
    static SMALL: RefCell<Vec<Vec<Message>>> = const { RefCell::new(Vec::new()) };
}

// Whether a vector of `cap` elements of `T` is worth keeping.
#[inline]
fn worth_keeping<T>(cap: usize) -> bool {
    cap > MIN_KEPT && cap.saturating_mul(std::mem::size_of::<T>()) <= MAX_KEPT_BYTES
}

// Keeps `v` (emptied here) in `pool` if it is worth keeping and there is
// room; otherwise drops it where it is, as the caller would have.
#[inline]
fn put<T>(pool: &'static std::thread::LocalKey<RefCell<Vec<Vec<T>>>>, v: Vec<T>) {
    if worth_keeping::<T>(v.capacity()) {
        keep(pool, v);
    }
}

#[inline(never)]
fn keep<T>(pool: &'static std::thread::LocalKey<RefCell<Vec<Vec<T>>>>, mut v: Vec<T>) {
    v.clear();
    // `try_with`: during the thread's teardown the pool may be gone.
    let _ = pool.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            if p.len() < KEPT {
                p.push(v);
            }
        }
    });
}

// The vector kept last in `pool`, if any (none during the thread's
// teardown).
#[inline]
fn pop<T>(pool: &'static std::thread::LocalKey<RefCell<Vec<Vec<T>>>>) -> Option<Vec<T>> {
    pool.try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
        .ok()
        .flatten()
}

// An empty vector with room for `n` elements: a kept one if there is one
// large enough, else a new one.
#[inline]
fn take<T>(pool: &'static std::thread::LocalKey<RefCell<Vec<Vec<T>>>>, n: usize) -> Vec<T> {
    match pop(pool) {
        Some(v) if v.capacity() >= n => v,
        _ => Vec::with_capacity(n),
    }
}

/// Hands back the vectors of a handled `Ready` (its entries, committed
/// entries and messages) for later `Ready`s to reuse; whatever they still
/// hold is dropped. Call it once the `Ready` is handled, in place of
/// dropping it.
#[inline]
pub fn recycle_ready(rd: Ready) {
    put(&ENTRIES, rd.entries);
    put(&ENTRIES, rd.committed_entries);
    recycle_messages(rd.messages);
}

/// Hands back a vector of messages, such as a `Ready`'s once they are
/// sent, or a received batch once it is stepped, for later `Ready`s to
/// reuse; its messages are dropped.
#[inline]
pub fn recycle_messages(msgs: Vec<Message>) {
    let cap = msgs.capacity();
    if cap != 0 && cap <= MIN_KEPT {
        keep(&SMALL, msgs);
    } else {
        put(&MESSAGES, msgs);
    }
}

/// Hands back a vector of entries, such as a `Ready`'s once they are
/// persisted or applied, for later `Ready`s to reuse; its entries are
/// dropped.
#[inline]
pub fn recycle_entries(ents: Vec<Entry>) {
    put(&ENTRIES, ents);
}

/// An empty vector for `n` entries, reusing a recycled one if possible.
#[inline]
pub(crate) fn entries_vec(n: usize) -> Vec<Entry> {
    if n <= MIN_KEPT {
        return Vec::with_capacity(n);
    }
    take(&ENTRIES, n)
}

/// A copy of `ents` in a vector reused if possible.
#[inline]
pub(crate) fn entries_copy(ents: &[Entry]) -> Vec<Entry> {
    let mut v = entries_vec(ents.len());
    v.extend_from_slice(ents);
    v
}

/// An empty vector for `n` messages, reusing a recycled one if possible.
#[inline]
pub(crate) fn messages_vec(n: usize) -> Vec<Message> {
    if n <= MIN_KEPT {
        return Vec::with_capacity(n);
    }
    take(&MESSAGES, n)
}

/// An empty vector for the first `n` messages of a Ready, `n` small: a
/// kept small one if there is one (grown if it holds fewer than `n`), else
/// a new one of at least the size the first push would allocate.
#[inline(never)]
pub(crate) fn small_messages_vec(n: usize) -> Vec<Message> {
    match pop(&SMALL) {
        Some(mut v) => {
            v.reserve(n);
            v
        }
        None => Vec::with_capacity(n.max(SMALL_MESSAGES)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_worthwhile_vectors_are_kept_and_they_come_back_empty() {
        // Tiny: not kept.
        recycle_entries(Vec::with_capacity(MIN_KEPT));
        let mut full = vec![Entry::default(); 100];
        full.reserve(50);
        let cap = full.capacity();
        recycle_entries(full);
        let v = entries_vec(120);
        assert!(v.is_empty());
        assert_eq!(v.capacity(), cap);
        // Too small for the request: a new one of the size asked for.
        recycle_messages(vec![Message::default(); 20]);
        let m = messages_vec(500);
        assert!(m.is_empty() && m.capacity() >= 500);
        assert_eq!(MESSAGES.with(|p| p.borrow().len()), 0);
        // Huge: not kept.
        let huge = MAX_KEPT_BYTES / std::mem::size_of::<Message>() + 1;
        recycle_messages(Vec::with_capacity(huge));
        assert_eq!(MESSAGES.with(|p| p.borrow().len()), 0);
        // At most KEPT of a kind.
        for _ in 0..2 * KEPT {
            recycle_entries(Vec::with_capacity(64));
        }
        assert_eq!(ENTRIES.with(|p| p.borrow().len()), KEPT);
    }

    #[test]
    fn small_message_vectors_are_kept_apart_and_reused() {
        let mut small = Vec::with_capacity(SMALL_MESSAGES);
        small.push(Message::default());
        let ptr = small.as_ptr();
        recycle_messages(small);
        // Not handed to a busy node's request...
        let big = messages_vec(100);
        assert!(big.capacity() >= 100);
        // ...but to the next small one, emptied.
        let v = small_messages_vec(2);
        assert!(v.is_empty());
        assert_eq!((v.as_ptr(), v.capacity()), (ptr, SMALL_MESSAGES));
        // None kept: a new one, of the size asked for if larger.
        assert_eq!(small_messages_vec(1).capacity(), SMALL_MESSAGES);
        assert_eq!(small_messages_vec(6).capacity(), 6);
        // A kept one too small for the request grows.
        recycle_messages(Vec::with_capacity(1));
        assert!(small_messages_vec(3).capacity() >= 3);
        // An unallocated vector is not kept.
        recycle_messages(Vec::new());
        assert_eq!(SMALL.with(|p| p.borrow().len()), 0);
        for _ in 0..2 * KEPT {
            recycle_messages(Vec::with_capacity(1));
        }
        assert_eq!(SMALL.with(|p| p.borrow().len()), KEPT);
    }
}
