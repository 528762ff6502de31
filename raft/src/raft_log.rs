//! The raft log: the stable entries in [`Storage`] followed by the
//! [`Unstable`] ones, with the commit and apply pointers (etcd's `log.go`,
//! plus the `entryID` and `logSlice` of etcd's `types.go`).

use std::fmt;

use slog::Logger;

use crate::eraftpb::{Entry, Snapshot};
use crate::errors::{Error, Result};
use crate::log_unstable::{fatal, fatal_misuse, Unstable};
use crate::storage::Storage;
use crate::util::{ent_size, ents_size, limit_size_len};

/// "No size limit" for the size-limited reads of the log (etcd's `noLimit`).
pub const NO_LIMIT: u64 = u64::MAX;

/// The identity of a log entry: its term and index (etcd's `entryID`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EntryId {
    /// The term of the entry.
    pub term: u64,
    /// The index of the entry.
    pub index: u64,
}

impl EntryId {
    /// The id of the entry with the given term and index.
    #[inline]
    pub fn new(term: u64, index: u64) -> EntryId {
        EntryId { term, index }
    }
}

impl From<&Entry> for EntryId {
    /// The id of `e` (etcd's `pbEntryID`).
    #[inline]
    fn from(e: &Entry) -> EntryId {
        EntryId {
            term: e.term,
            index: e.index,
        }
    }
}

/// Go's `%+v` of an `entryID`, which etcd's messages print.
impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{term:{} index:{}}}", self.term, self.index)
    }
}

/// A slice of a raft log as seen by the leader of term `term`: the entries
/// following the entry `prev` (etcd's `logSlice`).
///
/// A well-formed slice (see [`LogSlice::valid`]) has consecutive indices
/// starting at `prev.index + 1`, non-decreasing terms starting from
/// `prev.term`, and no term above `term`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogSlice {
    /// The term of the leader whose log contains these entries.
    pub term: u64,
    /// The entry immediately before `entries`.
    pub prev: EntryId,
    /// The consecutive entries of the slice.
    pub entries: Vec<Entry>,
}

impl LogSlice {
    /// The index of the last entry, or `prev.index` if there are none.
    #[inline]
    pub fn last_index(&self) -> u64 {
        self.prev.index + self.entries.len() as u64
    }

    /// The id of the last entry, or `prev` if there are none.
    #[inline]
    pub fn last_entry_id(&self) -> EntryId {
        self.entries.last().map_or(self.prev, EntryId::from)
    }

    /// `Ok` iff the slice is well formed; otherwise etcd's description of the
    /// first problem found.
    pub fn valid(&self) -> std::result::Result<(), String> {
        check_log_slice(self.term, self.prev, &self.entries)
    }
}

/// [`LogSlice::valid`] on the parts of a slice, for callers that hold them
/// elsewhere (a received `MsgApp`): the entries follow `prev` without gaps,
/// with terms that never decrease and never exceed the leader's `term`.
pub(crate) fn check_log_slice(
    term: u64,
    prev: EntryId,
    entries: &[Entry],
) -> std::result::Result<(), String> {
    let mut prev = prev;
    for e in entries {
        let id = EntryId::from(e);
        // checked_add: the indices may come from a peer.
        if id.term < prev.term || Some(id.index) != prev.index.checked_add(1) {
            return Err(format!(
                "leader term {}: entries {} and {} not consistent",
                term, prev, id
            ));
        }
        prev = id;
    }
    if term < prev.term {
        return Err(format!(
            "leader term {}: entry {} has a newer term",
            term, prev
        ));
    }
    Ok(())
}

/// The raft log: what is in [`Storage`], followed by the [`Unstable`]
/// entries and snapshot not yet written there, and how far it is committed,
/// handed to the application, and applied (etcd's `raftLog`).
// `repr(C)`: the pointers read by every `has_ready` and heartbeat first,
// next to the unstable part; the storage, read less often, last (see
// `Raft`).
#[repr(C)]
pub struct RaftLog<S: Storage> {
    /// The highest index a quorum is known to have persisted, and so the
    /// highest that may be applied.
    pub committed: u64,
    /// The highest index the application was told to apply; some of these
    /// entries may still be being applied. Advanced when a `Ready` is
    /// accepted. Invariant: `applied <= applying <= committed`.
    pub applying: u64,
    /// The highest index the application has applied to its state machine.
    /// Invariant: `applied <= committed`.
    pub applied: u64,
    /// The total size of entries handed out by `next_committed_ents` and
    /// not yet acknowledged by `applied_to`.
    pub applying_ents_size: u64,
    /// The limit on the total size of entries handed out by
    /// `next_committed_ents` and not yet acknowledged by `applied_to`.
    pub max_applying_ents_size: u64,
    /// The entries and snapshot not yet in storage.
    pub unstable: Unstable,
    /// Whether handing out entries to apply is paused until enough of the
    /// outstanding ones are acknowledged.
    pub applying_ents_paused: bool,
    /// Where this log reports what it does.
    pub logger: Logger,
    /// The application's durable log: the entries after its latest
    /// snapshot.
    pub storage: S,
}

/// etcd's `raftLog.String()`, for log messages.
impl<S: Storage> fmt::Display for RaftLog<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "committed={}, applied={}, applying={}, unstable.offset={}, unstable.offsetInProgress={}, len(unstable.Entries)={}",
            self.committed,
            self.applied,
            self.applying,
            self.unstable.offset,
            self.unstable.offset_in_progress,
            self.unstable.entries.len()
        )
    }
}

impl<S: Storage> fmt::Debug for RaftLog<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<S: Storage> RaftLog<S> {
    /// A log over `storage` without a limit on the entries handed out for
    /// applying. It starts committed and applied at the storage's latest
    /// snapshot.
    pub fn new(storage: S, logger: &Logger) -> RaftLog<S> {
        RaftLog::new_log_with_size(storage, logger, NO_LIMIT)
    }

    /// A log over `storage` that hands out at most
    /// `max_applying_ents_size` bytes of entries to apply until they are
    /// acknowledged. It starts committed and applied at the storage's latest
    /// snapshot. Panics if the storage cannot report its indices.
    pub fn new_log_with_size(
        storage: S,
        logger: &Logger,
        max_applying_ents_size: u64,
    ) -> RaftLog<S> {
        let first_index = storage.first_index().unwrap_or_else(|e| panic!("{}", e));
        let last_index = storage.last_index().unwrap_or_else(|e| panic!("{}", e));
        RaftLog {
            storage,
            unstable: Unstable::new(last_index + 1),
            // Committed and applied as of the last compaction.
            committed: first_index - 1,
            applying: first_index - 1,
            applied: first_index - 1,
            logger: logger.clone(),
            max_applying_ents_size,
            applying_ents_size: 0,
            applying_ents_paused: false,
        }
    }

    /// Appends the slice `a` if its `prev` entry matches this log, replacing
    /// any conflicting suffix, and commits up to `committed` (but not beyond
    /// the slice). Returns the index of the slice's last entry, or `None` if
    /// `prev` does not match.
    #[must_use = "None means the slice did not match and nothing was appended"]
    #[inline]
    pub fn maybe_append(&mut self, a: LogSlice, committed: u64) -> Option<u64> {
        if !self.match_term(a.prev) {
            return None;
        }
        let last_new_i = a.prev.index + a.entries.len() as u64;
        // find_conflict's answers for the usual appends (commit-only, and
        // new entries at the end), without the call.
        let ci = match a.entries.first() {
            None => 0,
            Some(e) if e.index > self.last_index() => e.index,
            Some(_) => self.find_conflict(&a.entries),
        };
        if ci != 0 {
            if ci <= self.committed {
                fatal!(
                    self.logger,
                    "entry {} conflict with committed entry [committed({})]",
                    ci,
                    self.committed
                );
            }
            // Wrapping like Go's uint64: entries whose indices do not follow
            // prev make this huge, and the check below catches it.
            let skip = ci.wrapping_sub(a.prev.index.wrapping_add(1));
            if skip > a.entries.len() as u64 {
                fatal!(
                    self.logger,
                    "index, {}, is out of range [{}]",
                    skip,
                    a.entries.len()
                );
            }
            let mut ents = a.entries;
            // Only the entries from the conflict on are new; move them
            // rather than copy. Usually all are (an append at the end).
            if skip > 0 {
                ents.drain(..skip as usize);
            }
            self.append(ents);
        }
        self.commit_to(committed.min(last_new_i));
        Some(last_new_i)
    }

    /// Appends `ents` (consecutive entries) to the unstable log, truncating
    /// whatever they overwrite, and returns the new last index. Panics if
    /// that would overwrite committed entries.
    pub fn append(&mut self, ents: Vec<Entry>) -> u64 {
        let Some(first) = ents.first() else {
            return self.last_index();
        };
        // Wrapping like Go's uint64 so that an index 0 is not an overflow.
        let after = first.index.wrapping_sub(1);
        if after < self.committed {
            fatal!(
                self.logger,
                "after({}) is out of range [committed({})]",
                after,
                self.committed
            );
        }
        self.unstable.truncate_and_append(ents, &self.logger);
        self.last_index()
    }

    /// [`append`](RaftLog::append) of the single entry `e`, which must be
    /// the next one: a leader's new entry.
    pub fn append_one(&mut self, e: Entry) -> u64 {
        if e.index != self.last_index() + 1 {
            return self.append(vec![e]);
        }
        self.unstable.push_next(e);
        self.last_index()
    }

    /// The index of the first entry of `ents` that conflicts with this log
    /// (same index, different term), or else of the first entry that is not
    /// in this log yet, or else 0. `ents` must have consecutive indices.
    pub fn find_conflict(&self, ents: &[Entry]) -> u64 {
        // The usual append at the end: the first entry is beyond this log,
        // hence new (what the loop finds, without looking its term up).
        match ents.first() {
            Some(e) if e.index > self.last_index() => return e.index,
            _ => {}
        }
        for e in ents {
            let id = EntryId::from(e);
            if !self.match_term(id) {
                if id.index <= self.last_index() {
                    slog::info!(
                        self.logger,
                        "found conflict at index {} [existing term: {}, conflicting term: {}]",
                        id.index,
                        self.zero_term_on_out_of_bounds(self.term(id.index)),
                        id.term
                    );
                }
                return id.index;
            }
        }
        0
    }

    /// A best guess at where this log stops matching another one, of which
    /// only the entry `(index, term)` is known: the largest `i <= index`
    /// whose term is `<= term` or unknown (compacted or missing), and that
    /// term (0 if unknown). Leader and follower use it to skip over a
    /// diverging suffix after a rejected append.
    pub fn find_conflict_by_term(&self, mut index: u64, term: u64) -> (u64, u64) {
        while index > 0 {
            match self.term(index) {
                // Compacted or unavailable: it may match, so stop here.
                Err(_) => return (index, 0),
                Ok(our_term) if our_term <= term => return (index, our_term),
                Ok(_) => index -= 1,
            }
        }
        (0, 0)
    }

    /// The entries that can be written to stable storage and are not
    /// already being written.
    #[inline]
    pub fn next_unstable_ents(&self) -> &[Entry] {
        self.unstable.next_entries()
    }

    /// Whether there are entries to write to stable storage that are not
    /// already being written.
    #[inline]
    pub fn has_next_unstable_ents(&self) -> bool {
        !self.next_unstable_ents().is_empty()
    }

    /// Whether there are unstable entries, to be written or being written.
    #[inline]
    pub fn has_next_or_in_progress_unstable_ents(&self) -> bool {
        !self.unstable.entries.is_empty()
    }

    /// The committed entries that can be handed to the application to apply.
    /// With `allow_unstable`, that includes committed entries not yet in
    /// local stable storage.
    pub fn next_committed_ents(&self, allow_unstable: bool) -> Vec<Entry> {
        if !self.has_next_committed_ents(allow_unstable) {
            return Vec::new();
        }
        let (lo, hi) = (
            self.applying + 1,
            self.max_appliable_index(allow_unstable) + 1,
        );
        // Wrapping like Go's unsigned subtraction; a zero budget while not
        // paused is a broken invariant.
        let max_size = self
            .max_applying_ents_size
            .wrapping_sub(self.applying_ents_size);
        if max_size == 0 {
            fatal!(
                self.logger,
                "applying entry size ({}-{})={} not positive",
                self.max_applying_ents_size,
                self.applying_ents_size,
                max_size
            );
        }
        match self.slice(lo, hi, max_size) {
            Ok(ents) => ents,
            Err(e) => fatal!(
                self.logger,
                "unexpected error when getting unapplied entries ({})",
                e
            ),
        }
    }

    /// Whether there are committed entries to hand to the application:
    /// whether `next_committed_ents` returns any, without reading them.
    pub fn has_next_committed_ents(&self, allow_unstable: bool) -> bool {
        if self.applying_ents_paused {
            // The budget of entries being applied is used up.
            return false;
        }
        if self.has_next_or_in_progress_snapshot() {
            // A snapshot is to be applied first; handing out entries as well
            // would leave the order of the two open.
            return false;
        }
        self.applying + 1 < self.max_appliable_index(allow_unstable) + 1
    }

    /// The highest committed index that may be applied: with
    /// `allow_unstable`, the commit index; otherwise at most the last entry
    /// in local stable storage.
    #[inline]
    pub fn max_appliable_index(&self, allow_unstable: bool) -> u64 {
        if allow_unstable {
            self.committed
        } else {
            self.committed.min(self.unstable.offset - 1)
        }
    }

    /// The snapshot to write to stable storage, if there is one that is not
    /// already being written.
    #[inline]
    pub fn next_unstable_snapshot(&self) -> Option<&Snapshot> {
        self.unstable.next_snapshot()
    }

    /// Whether there is a snapshot to write to stable storage that is not
    /// already being written.
    #[inline]
    pub fn has_next_unstable_snapshot(&self) -> bool {
        self.unstable.next_snapshot().is_some()
    }

    /// Whether there is a snapshot waiting to be written or being written.
    #[inline]
    pub fn has_next_or_in_progress_snapshot(&self) -> bool {
        self.unstable.snapshot.is_some()
    }

    /// The latest snapshot: the unstable one if any, else the storage's.
    pub fn snapshot(&self) -> Result<Snapshot> {
        match &self.unstable.snapshot {
            Some(s) => Ok(Snapshot::clone(s)),
            None => self.storage.snapshot(),
        }
    }

    /// The index of the first entry of the log. Panics if storage fails.
    #[inline]
    pub fn first_index(&self) -> u64 {
        if let Some(i) = self.unstable.maybe_first_index() {
            return i;
        }
        self.storage
            .first_index()
            .unwrap_or_else(|e| panic!("{}", e))
    }

    /// The index of the last entry of the log. Panics if storage fails.
    #[inline]
    pub fn last_index(&self) -> u64 {
        if let Some(i) = self.unstable.maybe_last_index() {
            return i;
        }
        self.storage
            .last_index()
            .unwrap_or_else(|e| panic!("{}", e))
    }

    /// Raises the commit index to `to_commit` (never lowers it). Panics if
    /// the log does not reach that far.
    #[inline]
    pub fn commit_to(&mut self, to_commit: u64) {
        // Inlined (every append and heartbeat a follower gets commits); the
        // panic, a broken invariant, is out of line.
        if self.committed < to_commit {
            if self.last_index() < to_commit {
                self.commit_out_of_range(to_commit);
            }
            self.committed = to_commit;
        }
    }

    #[cold]
    #[inline(never)]
    fn commit_out_of_range(&self, to_commit: u64) -> ! {
        fatal!(
            self.logger,
            "tocommit({}) is out of range [lastIndex({})]. Was the raft log corrupted, truncated, or lost?",
            to_commit,
            self.last_index()
        )
    }

    /// Records that the application applied the entries up to `i`, `size`
    /// bytes of them, and resumes handing out entries if that frees enough
    /// of the budget.
    pub fn applied_to(&mut self, i: u64, size: u64) {
        if self.committed < i || i < self.applied {
            fatal!(
                self.logger,
                "applied({}) is out of range [prevApplied({}), committed({})]",
                i,
                self.applied,
                self.committed
            );
        }
        self.applied = i;
        self.applying = self.applying.max(i);
        // Saturating: wrong accounting must not underflow.
        self.applying_ents_size = self.applying_ents_size.saturating_sub(size);
        self.applying_ents_paused = self.applying_ents_size >= self.max_applying_ents_size;
    }

    /// Records that the entries up to `i`, `size` bytes of them, were handed
    /// to the application to apply.
    pub fn accept_applying(&mut self, i: u64, size: u64, allow_unstable: bool) {
        if self.committed < i {
            fatal!(
                self.logger,
                "applying({}) is out of range [prevApplying({}), committed({})]",
                i,
                self.applying,
                self.committed
            );
        }
        self.applying = i;
        self.applying_ents_size += size;
        // Pause when the budget is used up, or when the handed-out entries
        // stop short of what could be applied: then the size limit cut them,
        // so the next entry would exceed it.
        self.applying_ents_paused = self.applying_ents_size >= self.max_applying_ents_size
            || i < self.max_appliable_index(allow_unstable);
    }

    /// Records that the entries up to `id` are in stable storage.
    #[inline]
    pub fn stable_to(&mut self, id: EntryId) {
        self.unstable.stable_to(id, &self.logger)
    }

    /// Records that the snapshot at index `i` is in stable storage.
    #[inline]
    pub fn stable_snap_to(&mut self, i: u64) {
        self.unstable.stable_snap_to(i)
    }

    /// Records that the application started writing the current unstable
    /// entries and snapshot, so that later `Ready`s do not return them again.
    #[inline]
    pub fn accept_unstable(&mut self) {
        self.unstable.accept_in_progress()
    }

    /// The id of the last entry of the log.
    pub fn last_entry_id(&self) -> EntryId {
        let index = self.last_index();
        match self.term(index) {
            Ok(term) => EntryId { term, index },
            Err(e) => fatal!(
                self.logger,
                "unexpected error when getting the last term at {}: {}",
                index,
                e
            ),
        }
    }

    /// The term of the entry at `i`: [`Error::Compacted`] below
    /// `first_index() - 1`, [`Error::Unavailable`] beyond `last_index()`.
    /// Panics on any other storage error.
    #[inline]
    pub fn term(&self, i: u64) -> Result<u64> {
        // The unstable log first, before computing the valid range (which may
        // ask storage): an entry found there is in range.
        if let Some(t) = self.unstable.maybe_term(i) {
            return Ok(t);
        }
        self.stable_term(i)
    }

    // `term` of an entry the unstable log does not have.
    #[inline(never)]
    fn stable_term(&self, i: u64) -> Result<u64> {
        // The valid range is [first_index-1, last_index]: the entry before
        // the first one is compacted, but its term is kept for matching.
        if i.wrapping_add(1) < self.first_index() {
            return Err(Error::Compacted);
        }
        if i > self.last_index() {
            return Err(Error::Unavailable);
        }
        match self.storage.term(i) {
            Ok(t) => Ok(t),
            Err(e @ (Error::Compacted | Error::Unavailable)) => Err(e),
            Err(e) => panic!("{}", e),
        }
    }

    /// The entries from `i` to the end of the log if they are all still in
    /// memory (not yet handed to storage or not yet released), else none.
    #[inline]
    pub fn unstable_from(&self, i: u64) -> &[Entry] {
        let u = &self.unstable;
        let end = u.offset + u.entries.len() as u64;
        if i < u.offset || i >= end {
            return &[];
        }
        u.slice(i, end, &self.logger)
    }

    /// The entries from `i` to the end of the log, at most `max_size` bytes
    /// of them (but at least one).
    pub fn entries(&self, i: u64, max_size: u64) -> Result<Vec<Entry>> {
        let last = self.last_index();
        if i > last {
            return Ok(Vec::new());
        }
        self.slice(i, last + 1, max_size)
    }

    /// All entries of the log.
    pub fn all_entries(&self) -> Vec<Entry> {
        loop {
            match self.entries(self.first_index(), NO_LIMIT) {
                Ok(ents) => return ents,
                // A compaction raced with the read; try again.
                Err(Error::Compacted) => continue,
                Err(e) => panic!("{}", e),
            }
        }
    }

    /// Whether a log ending in `their` is at least as up to date as this
    /// one: a later last term wins, and with equal last terms the longer log.
    pub fn is_up_to_date(&self, their: EntryId) -> bool {
        let our = self.last_entry_id();
        their.term > our.term || (their.term == our.term && their.index >= our.index)
    }

    /// Whether this log has the entry `id`.
    #[inline]
    pub fn match_term(&self, id: EntryId) -> bool {
        matches!(self.term(id.index), Ok(t) if t == id.term)
    }

    /// Commits up to `at` if that is beyond the commit index and this log
    /// has that entry. Returns whether the commit index moved.
    pub fn maybe_commit(&mut self, at: EntryId) -> bool {
        // A leader campaigned at term 1 at least, so a term 0 never counts as
        // a match.
        if at.term != 0 && at.index > self.committed && self.match_term(at) {
            self.commit_to(at.index);
            return true;
        }
        false
    }

    /// Replaces the log with the snapshot `s`, which is committed by
    /// definition.
    pub fn restore(&mut self, s: Snapshot) {
        slog::info!(
            self.logger,
            "log [{}] starts to restore snapshot [index: {}, term: {}]",
            self,
            s.metadata.index,
            s.metadata.term
        );
        self.committed = s.metadata.index;
        self.unstable.restore(s);
    }

    /// Visits the entries of `[lo, hi)` in consecutive pages of at most
    /// `page_size` bytes (more only if a single entry is larger), so that a
    /// long range is never held in memory at once.
    ///
    /// Stops at the first error, of the log or of `v`, and returns it. `E`
    /// is the caller's error type; to stop early without a failure, use for
    /// instance `Option<Error>` and return `Err(None)` from `v`.
    pub fn scan<E, F>(
        &self,
        mut lo: u64,
        hi: u64,
        page_size: u64,
        mut v: F,
    ) -> std::result::Result<(), E>
    where
        E: From<Error>,
        F: FnMut(&[Entry]) -> std::result::Result<(), E>,
    {
        while lo < hi {
            let ents = self.slice(lo, hi, page_size)?;
            if ents.is_empty() {
                // Storage broke its contract to return at least one entry.
                // etcd reports "got 0 entries in [lo, hi)"; our closest kind.
                return Err(Error::Unavailable.into());
            }
            v(&ents)?;
            lo += ents.len() as u64;
        }
        Ok(())
    }

    /// The entries of `[lo, hi)`, at most `max_size` bytes of them (but at
    /// least one). [`Error::Compacted`] if `lo` is compacted; panics if the
    /// range reaches beyond the log.
    pub fn slice(&self, lo: u64, hi: u64, max_size: u64) -> Result<Vec<Entry>> {
        self.must_check_out_of_bounds(lo, hi)?;
        if lo == hi {
            return Ok(Vec::new());
        }
        let offset = self.unstable.offset;
        if lo >= offset {
            let ents = self.unstable.slice(lo, hi, &self.logger);
            return Ok(ents[..limit_size_len(ents, max_size)].to_vec());
        }

        let cut = hi.min(offset);
        let mut ents = match self.storage.entries(lo, cut, max_size) {
            Ok(ents) => ents,
            Err(Error::Compacted) => return Err(Error::Compacted),
            Err(Error::Unavailable) => fatal_misuse!(
                self.logger,
                "the storage no longer returns entries it was given and has \
                 not compacted; a Storage must return every entry appended \
                 to it until it is compacted",
                "entries[{}:{}) is unavailable from storage",
                lo,
                cut
            ),
            Err(e) => panic!("{}", e),
        };
        if hi <= offset {
            return Ok(ents);
        }

        // Fast path: fewer entries than asked for means the size limit was
        // reached.
        if (ents.len() as u64) < cut - lo {
            return Ok(ents);
        }
        // Otherwise compute the actual size, so that the unstable part is cut
        // exactly before it is copied.
        let size = if max_size == NO_LIMIT {
            0
        } else {
            ents_size(&ents)
        };
        if size >= max_size {
            return Ok(ents);
        }
        let unstable = self.unstable.slice(offset, hi, &self.logger);
        let n = limit_size_len(unstable, max_size - size);
        // The unstable part exceeds the rest of the budget only if it is a
        // single entry; then leave it out.
        if n == 1 && size + ent_size(&unstable[0]) > max_size {
            return Ok(ents);
        }
        ents.reserve_exact(n);
        ents.extend_from_slice(&unstable[..n]);
        Ok(ents)
    }

    /// Checks `first_index <= lo <= hi <= last_index + 1`: [`Error::Compacted`]
    /// if `lo` is too low, a panic if the range is inverted or too high.
    #[inline]
    pub fn must_check_out_of_bounds(&self, lo: u64, hi: u64) -> Result<()> {
        // Inlined (every append sent slices the log); the panics, broken
        // invariants, are out of line.
        if lo > hi {
            self.slice_inverted(lo, hi);
        }
        let fi = self.first_index();
        if lo < fi {
            return Err(Error::Compacted);
        }
        let last = self.last_index();
        if hi > last + 1 {
            self.slice_out_of_bounds(lo, hi, fi, last);
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn slice_inverted(&self, lo: u64, hi: u64) -> ! {
        fatal!(self.logger, "invalid slice {} > {}", lo, hi)
    }

    #[cold]
    #[inline(never)]
    fn slice_out_of_bounds(&self, lo: u64, hi: u64, fi: u64, last: u64) -> ! {
        fatal_misuse!(
            self.logger,
            "raft needs entries that the log (storage and unstable) does not \
             hold; usually the storage lacks entries raft handed out in a \
             Ready: persist every Ready's entries (and snapshot) to the \
             storage before calling advance (with async storage writes, \
             before delivering the responses of a MsgStorageAppend)",
            "slice[{},{}) out of bound [{},{}]",
            lo,
            hi,
            fi,
            last
        )
    }

    /// The term of a `term()` result, with 0 for a compacted or unavailable
    /// entry; panics on any other error.
    pub fn zero_term_on_out_of_bounds(&self, r: Result<u64>) -> u64 {
        match r {
            Ok(t) => t,
            Err(Error::Compacted | Error::Unavailable) => 0,
            Err(e) => fatal!(self.logger, "unexpected error ({})", e),
        }
    }
}
