//! The [`Storage`] interface through which raft reads the stable part of its
//! log, and [`MemStorage`], an in-memory implementation of it (etcd's
//! `storage.go`).
//!
//! Raft only ever reads from storage; the application writes to it (when it
//! handles a `Ready`), which is why the write methods live on [`MemStorage`]
//! itself and not on the trait.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex, RwLock};

use crate::eraftpb::{ConfState, Entry, HardState, Snapshot};
use crate::errors::{Error, Result};

mod stored_log;
mod stored_snapshot;

use stored_log::StoredLog;
use stored_snapshot::StoredSnapshot;

/// What raft needs from the application's stable storage: the persisted
/// state, the stable log entries and the latest snapshot.
///
/// An error other than those documented below is a broken invariant to
/// raft, which panics on it as etcd does; recovering from the failed storage
/// is then up to the application.
///
/// An application's storage implements this over its own log (a disk, a
/// database); [`MemStorage`] keeps it in memory. The trait is also
/// implemented through `&S`, `Box`, `Rc`, `Arc`, `RwLock`, `Mutex` and
/// `RefCell`, so a storage can be shared with a [`Node`](crate::Node)'s thread
/// as `Arc<RwLock<S>>`.
///
/// ```
/// use etcdraft::prelude::*;
///
/// let mut store = MemStorage::new();
/// store.append(&[Entry { term: 1, index: 1, ..Default::default() }])?;
/// assert_eq!((store.first_index()?, store.last_index()?), (1, 1));
/// assert_eq!(store.term(1)?, 1);
/// assert_eq!(store.entries(1, 2, u64::MAX)?[0].term, 1);
/// # Ok::<(), Error>(())
/// ```
pub trait Storage {
    /// The persisted `HardState` and the `ConfState` of the latest snapshot.
    /// A storage that never persisted anything returns default (empty)
    /// values.
    fn initial_state(&self) -> Result<(HardState, ConfState)>;

    /// The consecutive entries of `[lo, hi)`, cut so that their total encoded
    /// size stays within `max_size`, but always at least one entry if there is
    /// any.
    ///
    /// Returns [`Error::Compacted`] if `lo` was compacted away and
    /// [`Error::Unavailable`] if an entry of the range is missing.
    fn entries(&self, lo: u64, hi: u64, max_size: u64) -> Result<Vec<Entry>>;

    /// The term of entry `i`, for `i` in `[first_index()-1, last_index()]`.
    /// The term of the entry just before `first_index()` stays available,
    /// even though the entry itself was compacted, so that appends can be
    /// matched against it.
    fn term(&self, i: u64) -> Result<u64>;

    /// The index of the last entry of the log.
    fn last_index(&self) -> Result<u64>;

    /// The index of the first entry that may be available through
    /// [`Storage::entries`]; older entries are in the latest snapshot.
    fn first_index(&self) -> Result<u64>;

    /// The most recent snapshot. [`Error::SnapshotTemporarilyUnavailable`]
    /// tells raft that the snapshot is being prepared and to ask again later.
    fn snapshot(&self) -> Result<Snapshot>;
}

/// Forwards every [`Storage`] method to `$inner(self)`, so that the wrappers
/// below (references, smart pointers, locks) stay one line each.
macro_rules! forward_storage {
    ($self:ident => $inner:expr) => {
        fn initial_state(&$self) -> Result<(HardState, ConfState)> {
            $inner.initial_state()
        }
        fn entries(&$self, lo: u64, hi: u64, max_size: u64) -> Result<Vec<Entry>> {
            $inner.entries(lo, hi, max_size)
        }
        fn term(&$self, i: u64) -> Result<u64> {
            $inner.term(i)
        }
        fn last_index(&$self) -> Result<u64> {
            $inner.last_index()
        }
        fn first_index(&$self) -> Result<u64> {
            $inner.first_index()
        }
        fn snapshot(&$self) -> Result<Snapshot> {
            $inner.snapshot()
        }
    };
}

impl<S: Storage + ?Sized> Storage for &S {
    forward_storage!(self => (**self));
}

impl<S: Storage + ?Sized> Storage for Box<S> {
    forward_storage!(self => (**self));
}

impl<S: Storage + ?Sized> Storage for Rc<S> {
    forward_storage!(self => (**self));
}

impl<S: Storage + ?Sized> Storage for Arc<S> {
    forward_storage!(self => (**self));
}

/// Lets an `Arc<RwLock<S>>` be shared between raft (reads) and the thread that
/// persists `Ready`s (writes). A poisoned lock means a writer panicked midway,
/// so the log can no longer be trusted; that is a broken invariant.
impl<S: Storage> Storage for RwLock<S> {
    forward_storage!(self => self.read().expect("raft storage lock poisoned"));
}

/// As for [`RwLock`]: an `Arc<Mutex<S>>` shared with a writer thread.
impl<S: Storage> Storage for Mutex<S> {
    forward_storage!(self => self.lock().expect("raft storage lock poisoned"));
}

/// Lets an `Rc<RefCell<S>>` be shared between raft and a single-threaded
/// application that writes to it between `Ready`s.
impl<S: Storage> Storage for RefCell<S> {
    forward_storage!(self => self.borrow());
}

/// An in-memory [`Storage`] backed by a vector (etcd's `MemoryStorage`).
///
/// It is a plain struct without a lock: reads take `&self` and writes
/// `&mut self`. To share one with a thread that persists `Ready`s, wrap it in
/// `Arc<RwLock<MemStorage>>`, which implements [`Storage`] too.
///
/// ```
/// use etcdraft::prelude::*;
///
/// let mut store = MemStorage::new_with_conf_state(ConfState { voters: vec![1], ..Default::default() });
/// let ents: Vec<Entry> = (1..=5).map(|i| Entry { term: 1, index: i, ..Default::default() }).collect();
/// store.append(&ents)?;
/// store.set_hard_state(HardState { term: 1, vote: 1, commit: 5 })?;
/// // Entries up to 4 are applied: snapshot the state machine there, and
/// // drop the log before it.
/// store.create_snapshot(4, None, "state at 4".into())?;
/// store.compact(4)?;
/// assert_eq!(store.first_index()?, 5);
/// assert_eq!(store.entries(3, 5, u64::MAX), Err(Error::Compacted));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemStorage {
    /// The last `HardState` saved with [`MemStorage::set_hard_state`].
    pub(crate) hard_state: HardState,
    /// The latest snapshot; its metadata also carries the `ConfState`
    /// returned by `initial_state`. Stored compactly (72 bytes rather than
    /// 152), and rebuilt when read.
    pub(crate) snapshot: StoredSnapshot,
    /// The entries, after a dummy that only keeps the index and term of the
    /// last compacted entry (or of the snapshot), so that `term()` can
    /// answer for it (a fresh log has only a dummy at index 0, term 0).
    /// Stored compactly (32 bytes an entry rather than 56), and rebuilt when
    /// read.
    log: StoredLog,
}

impl MemStorage {
    /// An empty storage: no entries, an empty hard state and configuration.
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    /// An empty storage whose `initial_state` reports `conf_state`, the way
    /// an application bootstraps a new cluster (and tests set their peers).
    pub fn new_with_conf_state(conf_state: ConfState) -> MemStorage {
        let mut s = MemStorage::default();
        s.snapshot.set_conf_state(conf_state);
        s
    }

    /// Saves the current `HardState`. Never fails; the `Result` mirrors
    /// etcd's signature, where other storages may.
    pub fn set_hard_state(&mut self, hs: HardState) -> Result<()> {
        self.hard_state = hs;
        Ok(())
    }

    /// The last saved `HardState`.
    pub fn hard_state(&self) -> HardState {
        self.hard_state
    }

    /// A storage whose log is `ents`, the first of which is the dummy
    /// entry marking the compaction point (only its index and term are
    /// kept): the layout of etcd's `MemoryStorage.ents`, which etcd's tests
    /// set directly. `ents` must be consecutive.
    #[cfg(test)]
    pub(crate) fn with_entries(ents: &[Entry]) -> MemStorage {
        let mut s = MemStorage::new();
        if let Some((dummy, rest)) = ents.split_first() {
            s.log = StoredLog::new(dummy.index, dummy.term);
            s.log.truncate_and_append(rest);
        }
        s
    }

    /// The whole log, dummy entry first, as [`MemStorage::with_entries`]
    /// takes it: for tests that check what the storage holds.
    #[cfg(test)]
    pub(crate) fn stored_entries(&self) -> Vec<Entry> {
        self.log.to_entries()
    }

    /// The index of the dummy entry, i.e. of the last compacted entry.
    #[inline]
    fn offset(&self) -> u64 {
        self.log.offset()
    }

    #[inline]
    fn first(&self) -> u64 {
        self.offset() + 1
    }

    #[inline]
    fn last(&self) -> u64 {
        self.log.last_index()
    }

    /// Overwrites the whole content with `snap`: the log is reset to just the
    /// snapshot's position. Returns [`Error::SnapOutOfDate`] if the storage
    /// already holds a newer (or the same) snapshot.
    pub fn apply_snapshot(&mut self, snap: Snapshot) -> Result<()> {
        let ms_index = self.snapshot.index;
        let snap_index = snap.metadata.index;
        // At bootstrap an application may set only the ConfState of the
        // snapshot, leaving index and term at 0; that must not block the
        // first real snapshot.
        if ms_index != 0 && ms_index >= snap_index {
            return Err(Error::SnapOutOfDate);
        }
        self.log = StoredLog::new(snap.metadata.index, snap.metadata.term);
        self.snapshot = StoredSnapshot::new(snap);
        Ok(())
    }

    /// Records a snapshot of the state machine at index `i`, which
    /// [`Storage::snapshot`] then returns. If the configuration changed since
    /// the last snapshot, `cs` must be the result of the last applied change.
    ///
    /// Returns [`Error::SnapOutOfDate`] if `i` is not newer than the current
    /// snapshot; panics if `i` is beyond the last index.
    pub fn create_snapshot(
        &mut self,
        i: u64,
        cs: Option<ConfState>,
        data: bytes::Bytes,
    ) -> Result<Snapshot> {
        if i <= self.snapshot.index {
            return Err(Error::SnapOutOfDate);
        }
        if i > self.last() {
            panic!("snapshot {} is out of bound lastindex({})", i, self.last());
        }
        // i is above the snapshot's index, hence at or above the dummy's.
        self.snapshot.index = i;
        self.snapshot.term = self.log.term(i);
        if let Some(cs) = cs {
            self.snapshot.set_conf_state(cs);
        }
        self.snapshot.data = data;
        Ok(self.snapshot.to_snapshot())
    }

    /// Discards the entries before `compact_index`, keeping the index and
    /// term of the entry at `compact_index` in the dummy slot. The
    /// application must not compact beyond what it has applied.
    ///
    /// Returns [`Error::Compacted`] if that part is already gone; panics if
    /// `compact_index` is beyond the last index.
    pub fn compact(&mut self, compact_index: u64) -> Result<()> {
        let offset = self.offset();
        if compact_index <= offset {
            return Err(Error::Compacted);
        }
        if compact_index > self.last() {
            panic!(
                "compact {} is out of bound lastindex({})",
                compact_index,
                self.last()
            );
        }
        // The entry at compact_index becomes the new dummy: keep its position
        // and term, drop its payload.
        self.log.compact_to(compact_index);
        Ok(())
    }

    /// Appends `entries` to the log, first dropping the part of them that is
    /// already compacted, and replacing any existing entries from the first
    /// new index on. Panics if the entries would leave a gap.
    pub fn append(&mut self, entries: &[Entry]) -> Result<()> {
        let skip = self.compacted_prefix(entries);
        if skip < entries.len() {
            self.log.truncate_and_append(&entries[skip..]);
        }
        Ok(())
    }

    /// [`append`](MemStorage::append) of entries the caller no longer
    /// needs, such as a handled `Ready`'s
    /// (`store.append_owned(std::mem::take(&mut rd.entries))`): their
    /// payloads move into the storage instead of being shared with the
    /// caller's copies, which saves taking and dropping a reference per
    /// entry. What it stores is the same.
    ///
    /// ```
    /// use etcdraft::prelude::*;
    ///
    /// let mut store = MemStorage::new();
    /// let ents = vec![Entry { term: 1, index: 1, data: "x".into(), ..Default::default() }];
    /// store.append_owned(ents.clone())?;
    /// assert_eq!(store.entries(1, 2, u64::MAX)?, ents);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn append_owned(&mut self, mut entries: Vec<Entry>) -> Result<()> {
        let skip = self.compacted_prefix(&entries);
        if skip < entries.len() {
            if skip > 0 {
                entries.drain(..skip);
            }
            self.log.truncate_and_append_owned(entries);
        }
        Ok(())
    }

    // How many of `entries` (consecutive) are already compacted and so to be
    // skipped by an append. Panics if the rest would leave a gap.
    #[inline]
    fn compacted_prefix(&self, entries: &[Entry]) -> usize {
        let Some(e) = entries.first() else {
            return 0;
        };
        let first = self.first();
        let last = e.index + entries.len() as u64 - 1;
        // Nothing new: everything is older than the compaction point.
        if last < first {
            return entries.len();
        }
        let skip = first.saturating_sub(e.index);
        let from = e.index + skip;
        if from > self.last() + 1 {
            panic!(
                "missing log entry [last: {}, append at: {}]",
                self.last(),
                from
            );
        }
        skip as usize
    }
}

impl Storage for MemStorage {
    fn initial_state(&self) -> Result<(HardState, ConfState)> {
        Ok((self.hard_state, self.snapshot.conf_state()))
    }

    fn entries(&self, lo: u64, hi: u64, max_size: u64) -> Result<Vec<Entry>> {
        let offset = self.offset();
        if lo <= offset {
            return Err(Error::Compacted);
        }
        if hi > self.last() + 1 {
            panic!(
                "entries' hi({}) is out of bound lastindex({})",
                hi,
                self.last()
            );
        }
        // Only the dummy entry is there.
        if self.log.is_empty() {
            return Err(Error::Unavailable);
        }
        Ok(self.log.entries(lo, hi, max_size))
    }

    #[inline]
    fn term(&self, i: u64) -> Result<u64> {
        let offset = self.offset();
        if i < offset {
            return Err(Error::Compacted);
        }
        if i > self.last() {
            return Err(Error::Unavailable);
        }
        Ok(self.log.term(i))
    }

    #[inline]
    fn last_index(&self) -> Result<u64> {
        Ok(self.last())
    }

    #[inline]
    fn first_index(&self) -> Result<u64> {
        Ok(self.first())
    }

    fn snapshot(&self) -> Result<Snapshot> {
        Ok(self.snapshot.to_snapshot())
    }
}
