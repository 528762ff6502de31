//! The unstable part of the raft log: entries and a snapshot that are not yet
//! in stable storage (etcd's `log_unstable.go`).

use slog::Logger;

use crate::eraftpb::{Entry, Snapshot};
use crate::raft_log::EntryId;

/// Logs `$fmt` at the highest level and panics with the same text: etcd's
/// `logger.Panicf`, for broken invariants only.
macro_rules! fatal {
    ($logger:expr, $($arg:tt)+) => {{
        let msg = format!($($arg)+);
        slog::crit!($logger, "{}", msg);
        panic!("{}", msg)
    }};
}
pub(crate) use fatal;

/// [`fatal!`] for a panic that the application's misuse causes: the log
/// line is etcd's text (golden files print it), and the panic message adds
/// `$hint`, which says what the caller did wrong and what to do instead.
macro_rules! fatal_misuse {
    ($logger:expr, $hint:expr, $($arg:tt)+) => {{
        let msg = format!($($arg)+);
        slog::crit!($logger, "{}", msg);
        panic!("{}: {}", msg, $hint)
    }};
}
pub(crate) use fatal_misuse;

/// Once `entries` is empty, a buffer with more capacity than this is given
/// back to the allocator instead of being kept for reuse, so that one burst of
/// appends does not pin its memory forever.
const SHRINK_CAPACITY: usize = 1024;

/// Once `entries` is empty, a buffer with at most this capacity is given back
/// too: reusing it saves little (a busy node's buffer is larger), while every
/// idle node would keep one (an election's entry) for good.
const SMALL_CAPACITY: usize = 4;

/// Log entries and a snapshot that are not yet written to [`Storage`].
///
/// New entries (and a received snapshot) live here from the moment raft
/// takes them until the application reports them durable: first waiting to
/// go out in a `Ready`, then, once handed out, while the write is under way,
/// so that reads of the log still see them before storage does.
///
/// `entries[i]` is at log index `offset + i`. `offset` may be below the last
/// index in storage: the next write must then truncate the stored log first.
///
/// [`Storage`]: crate::storage::Storage
#[derive(Clone, Debug)]
pub struct Unstable {
    /// The incoming snapshot, if any. Boxed: it is rare, and inline it
    /// would make every node (idle ones included) 144 bytes larger.
    pub snapshot: Option<Box<Snapshot>>,
    /// The entries not yet written to storage.
    pub entries: Vec<Entry>,
    /// The index of `entries[0]`.
    pub offset: u64,
    /// Whether the snapshot is being written to storage.
    pub snapshot_in_progress: bool,
    /// One past the last entry handed out for writing: the write of
    /// `entries[..offset_in_progress - offset]` is under way. Invariant:
    /// `offset <= offset_in_progress`.
    pub offset_in_progress: u64,
}

impl Unstable {
    /// An empty unstable log whose next entry will be at `offset`.
    ///
    /// It keeps no logger: the methods that log take the owning
    /// [`RaftLog`](crate::raft_log::RaftLog)'s, so that a node holds one
    /// logger, not one per layer.
    pub fn new(offset: u64) -> Unstable {
        Unstable {
            snapshot: None,
            entries: Vec::new(),
            offset,
            snapshot_in_progress: false,
            offset_in_progress: offset,
        }
    }

    /// With a snapshot, the index just after it (where the log now starts);
    /// `None` without one, as storage knows the first index then.
    #[inline]
    pub fn maybe_first_index(&self) -> Option<u64> {
        self.snapshot.as_ref().map(|s| s.metadata.index + 1)
    }

    /// The last index, if there is at least one unstable entry or a
    /// snapshot.
    #[inline]
    pub fn maybe_last_index(&self) -> Option<u64> {
        if !self.entries.is_empty() {
            return Some(self.offset + self.entries.len() as u64 - 1);
        }
        self.snapshot.as_ref().map(|s| s.metadata.index)
    }

    /// The term of the entry at index `i`, if this log knows it.
    #[inline]
    pub fn maybe_term(&self, i: u64) -> Option<u64> {
        if i < self.offset {
            return match &self.snapshot {
                Some(s) if s.metadata.index == i => Some(s.metadata.term),
                _ => None,
            };
        }
        self.entries.get((i - self.offset) as usize).map(|e| e.term)
    }

    /// The entries that are not already being written to storage.
    #[inline]
    pub fn next_entries(&self) -> &[Entry] {
        let in_progress = (self.offset_in_progress - self.offset) as usize;
        // The entries past the in-progress prefix; empty when all are.
        self.entries.get(in_progress..).unwrap_or(&[])
    }

    /// The snapshot, if there is one that is not already being written to
    /// storage.
    #[inline]
    pub fn next_snapshot(&self) -> Option<&Snapshot> {
        if self.snapshot_in_progress {
            return None;
        }
        self.snapshot.as_deref()
    }

    /// Records that the current entries and snapshot were handed out for
    /// writing: `next_entries` and `next_snapshot` skip them from now on and
    /// return only what arrives later.
    pub fn accept_in_progress(&mut self) {
        if let Some(last) = self.entries.last() {
            // Exclusive, like offset.
            self.offset_in_progress = last.index + 1;
        }
        if self.snapshot.is_some() {
            self.snapshot_in_progress = true;
        }
    }

    /// Marks the entries up to `id` as written to stable storage, and drops
    /// them from this log.
    ///
    /// Only to be called when the caller knows that no in-progress append can
    /// overwrite those entries any more. What is ignored is logged to `logger`.
    pub fn stable_to(&mut self, id: EntryId, logger: &Logger) {
        let Some(gt) = self.maybe_term(id.index) else {
            // The entry is not here (any more). Nothing to do.
            slog::info!(
                logger,
                "entry at index {} missing from unstable log; ignoring",
                id.index
            );
            return;
        };
        if id.index < self.offset {
            // That is the snapshot's index, not an entry's.
            slog::info!(
                logger,
                "entry at index {} matched unstable snapshot; ignoring",
                id.index
            );
            return;
        }
        if gt != id.term {
            // The unstable log was (partly) replaced between the start of the
            // write and its completion; the written entry is not ours.
            slog::info!(
                logger,
                "entry at (index,term)=({},{}) mismatched with entry at ({},{}) in unstable log; ignoring",
                id.index,
                id.term,
                id.index,
                gt
            );
            return;
        }
        let num = (id.index + 1 - self.offset) as usize;
        self.entries.drain(..num);
        self.offset = id.index + 1;
        self.offset_in_progress = self.offset_in_progress.max(self.offset);
        self.shrink_entries_array();
    }

    /// Releases the entries buffer once it is empty and large, so that the
    /// memory of a burst is not held forever, or tiny, so that an idle node
    /// holds none. Buffers in between are kept: they are reused by the next
    /// appends.
    fn shrink_entries_array(&mut self) {
        let cap = self.entries.capacity();
        if self.entries.is_empty() && (cap > SHRINK_CAPACITY || (cap != 0 && cap <= SMALL_CAPACITY)) {
            self.entries = Vec::new();
        }
    }

    /// Marks the snapshot at index `i` as written to stable storage, and
    /// drops it from this log.
    pub fn stable_snap_to(&mut self, i: u64) {
        if matches!(&self.snapshot, Some(s) if s.metadata.index == i) {
            self.snapshot = None;
            self.snapshot_in_progress = false;
        }
    }

    /// Replaces the whole content with the snapshot `s`.
    pub fn restore(&mut self, s: Snapshot) {
        self.offset = s.metadata.index + 1;
        self.offset_in_progress = self.offset;
        self.entries.clear();
        self.snapshot = Some(Box::new(s));
        self.snapshot_in_progress = false;
    }

    /// Appends `e`, whose index must be the next after this log's last.
    #[inline]
    pub fn push_next(&mut self, e: Entry) {
        debug_assert_eq!(e.index, self.offset + self.entries.len() as u64);
        self.entries.push(e);
    }

    /// Appends `ents`, first truncating the log at `ents[0].index` if it
    /// reaches that far. `ents` must be consecutive. Truncations are logged
    /// to `logger`.
    pub fn truncate_and_append(&mut self, mut ents: Vec<Entry>, logger: &Logger) {
        let Some(first) = ents.first() else {
            return;
        };
        let from_index = first.index;
        if from_index == self.offset + self.entries.len() as u64 {
            // The next index: a plain append.
            if self.entries.is_empty() && self.entries.capacity() < ents.len() {
                // Take the caller's buffer instead of copying into ours,
                // which is too small anyway.
                self.entries = ents;
            } else {
                // Keep our buffer (sized by earlier appends; a message's
                // buffer is often exactly as long as its entries, so taking
                // it would make the next appends regrow it) and move the
                // entries in with one copy.
                self.entries.append(&mut ents);
            }
        } else if from_index <= self.offset {
            slog::info!(
                logger,
                "replace the unstable entries from index {}",
                from_index
            );
            // The log is truncated before this unstable part starts: the new
            // entries replace all of it.
            self.entries = ents;
            self.offset = from_index;
            self.offset_in_progress = self.offset;
        } else {
            slog::info!(
                logger,
                "truncate the unstable entries before index {}",
                from_index
            );
            // Keep [offset, from_index), then append.
            self.must_check_out_of_bounds(self.offset, from_index, logger);
            self.entries.truncate((from_index - self.offset) as usize);
            self.entries.append(&mut ents);
            // Only the in-progress entries before from_index are still in
            // progress.
            self.offset_in_progress = self.offset_in_progress.min(from_index);
        }
    }

    /// The entries of `[lo, hi)`, all of which must be in this log (else
    /// this panics, after logging to `logger`).
    #[inline]
    pub fn slice(&self, lo: u64, hi: u64, logger: &Logger) -> &[Entry] {
        self.must_check_out_of_bounds(lo, hi, logger);
        &self.entries[(lo - self.offset) as usize..(hi - self.offset) as usize]
    }

    /// Panics unless `offset <= lo <= hi <= offset + len(entries)`, after
    /// logging to `logger`.
    #[inline]
    pub fn must_check_out_of_bounds(&self, lo: u64, hi: u64, logger: &Logger) {
        // The check inlines (every append the leader sends slices this
        // log); the panics, never reached in a sound node, stay out of line.
        if lo > hi || lo < self.offset || hi > self.offset + self.entries.len() as u64 {
            self.out_of_bounds(lo, hi, logger);
        }
    }

    #[cold]
    #[inline(never)]
    fn out_of_bounds(&self, lo: u64, hi: u64, logger: &Logger) -> ! {
        if lo > hi {
            fatal!(logger, "invalid unstable.slice {} > {}", lo, hi);
        }
        fatal!(
            logger,
            "unstable.slice[{},{}) out of bound [{},{}]",
            lo,
            hi,
            self.offset,
            self.offset + self.entries.len() as u64
        );
    }
}
