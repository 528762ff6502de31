//! Requests waiting for the Ready loop: a put for its entry to be applied,
//! a membership change for its conf change, a linearizable read for its
//! read index.
//!
//! Each request gets an id that travels with it through raft (inside the
//! entry, the conf change, or the read-index context) and a registration
//! that the Ready loop completes when the id comes back. A request whose
//! id never comes back (its proposal was dropped or lost) times out in the
//! HTTP handler, whose registration removes itself when dropped: nothing
//! is acknowledged that was not applied.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::sync::oneshot;

/// Ids unique across the restarts of a node: a random base per process
/// plus a counter. An entry proposed by an earlier incarnation can thus
/// not wake a waiter of this one (a collision needs two random 64-bit bases
/// within a counter's range of each other).
#[derive(Debug)]
pub struct Ids {
    next: AtomicU64,
}

impl Default for Ids {
    fn default() -> Ids {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        Ids {
            next: AtomicU64::new(h.finish()),
        }
    }
}

impl Ids {
    /// A fresh id.
    pub fn next(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}

/// The registry of one kind of request, answering each with a `T`.
///
/// Each registration carries a tag: for proposals, the leader known when
/// they were made, so that they can be answered at once when that leader
/// is gone (see [`Waiters::answer_where`]).
#[derive(Debug)]
pub struct Waiters<T> {
    map: Mutex<HashMap<u64, (u64, oneshot::Sender<T>)>>,
}

impl<T> Default for Waiters<T> {
    fn default() -> Waiters<T> {
        Waiters {
            map: Mutex::new(HashMap::new()),
        }
    }
}

/// A registered request: await [`Waiter::rx`]; dropping it unregisters.
#[derive(Debug)]
pub struct Waiter<'a, T> {
    waiters: &'a Waiters<T>,
    id: u64,
    /// Receives the answer.
    pub rx: oneshot::Receiver<T>,
}

impl<T> Drop for Waiter<'_, T> {
    fn drop(&mut self) {
        self.waiters.lock().remove(&self.id);
    }
}

impl<T> Waiters<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (u64, oneshot::Sender<T>)>> {
        // The map holds no invariant a panicking holder could break.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers request `id` with `tag`.
    pub fn register(&self, id: u64, tag: u64) -> Waiter<'_, T> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(id, (tag, tx));
        Waiter {
            waiters: self,
            id,
            rx,
        }
    }

    /// Answers the requests among `answers` that still wait (under one lock).
    pub fn complete(&self, answers: impl IntoIterator<Item = (u64, T)>) {
        let mut map = self.lock();
        for (id, v) in answers {
            if let Some((_, tx)) = map.remove(&id) {
                // The handler may have given up just now.
                let _ = tx.send(v);
            }
        }
    }

    /// Answers every waiting request whose tag matches `pred` with
    /// `answer()`.
    pub fn answer_where(&self, pred: impl Fn(u64) -> bool, answer: impl Fn() -> T) {
        let mut map = self.lock();
        let ids: Vec<u64> = map
            .iter()
            .filter(|(_, (tag, _))| pred(*tag))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some((_, tx)) = map.remove(&id) {
                let _ = tx.send(answer());
            }
        }
    }

    /// Forgets every waiting request: their handlers see the registry's
    /// sender dropped, which means the server is shutting down.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many requests wait.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no request waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_registered_and_forgets_dropped() {
        let w = Waiters::<u32>::default();
        let ids = Ids::default();
        let (a, b) = (ids.next(), ids.next());
        assert_ne!(a, b);
        let mut wa = w.register(a, 0);
        let wb = w.register(b, 0);
        drop(wb);
        assert_eq!(w.len(), 1);
        w.complete([(a, 7), (b, 8), (12345, 9)]);
        assert_eq!(wa.rx.try_recv(), Ok(7));
        drop(wa);
        assert!(w.is_empty());
    }

    #[test]
    fn answers_by_tag() {
        let w = Waiters::<u32>::default();
        let mut old = w.register(1, 3);
        let mut none = w.register(2, 0);
        let mut new = w.register(3, 1);
        w.answer_where(|tag| tag != 0 && tag != 1, || 99);
        assert_eq!(old.rx.try_recv(), Ok(99));
        assert!(none.rx.try_recv().is_err());
        assert!(new.rx.try_recv().is_err());
        assert_eq!(w.len(), 2);
    }
}
