//! The log of a [`MemStorage`](super::MemStorage) in a compact form.
//!
//! An [`Entry`] is 56 bytes, but most of it is implied by where it sits: its
//! index is its position, its term is that of its neighbours (terms change
//! only with leaders), and its type is nearly always unset (a proposal).
//! [`StoredLog`] keeps only the payload per entry (32 bytes) and stores
//! terms as runs and types as exceptions, so that an in-memory log costs
//! little more than its payloads. Entries are rebuilt when read.

use bytes::Bytes;

use crate::eraftpb::Entry;
use crate::lazy_vec::LazyVec;
use crate::util::entry_encoded_len;

/// A size limit at or above this cuts no range of entries held in memory,
/// so the sizes need not be added up: an entry encodes in at most 44 bytes
/// beyond its payload, and the at most 2^48 bytes of memory hold at most
/// 2^43 entries (32 bytes each), which encode in less than 2^49 bytes with
/// their payloads. Without a configured limit, raft asks for committed
/// entries with "no limit" minus the size being applied, which stays above.
const BEYOND_MEMORY: u64 = 1 << 62;

/// The most an entry encodes in beyond its payload bytes: a key byte and
/// a varint of at most 10 bytes each for type, term, index and payload
/// length.
const MAX_ENTRY_OVERHEAD: u64 = 4 * 11;

/// Consecutive entries of the same term: from index `first` on, up to the
/// next run's `first`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TermRun {
    first: u64,
    term: u64,
}

/// The entries of a storage after its compaction point, rebuilt on reads.
///
/// Position 0 is the "dummy" entry of etcd's `MemoryStorage`: the last
/// compacted entry (or the snapshot's), of which only index and term are
/// kept, so that its term can be matched against.
#[derive(Clone, Debug)]
pub(crate) struct StoredLog {
    /// The index of the dummy entry.
    offset: u64,
    /// `data[i]` is the payload of the entry at `offset + 1 + i`.
    data: Vec<Bytes>,
    /// The terms of the dummy and of every entry, as ascending runs. Never
    /// empty: the first run starts at `offset`.
    terms: Vec<TermRun>,
    /// The entries whose `entry_type` is set, with that type, by ascending
    /// index. Lazily allocated: most logs have none, and every node of a
    /// process hosting many groups would pay for an empty `Vec`.
    types: LazyVec<(u64, i32)>,
}

impl Default for StoredLog {
    fn default() -> StoredLog {
        StoredLog::new(0, 0)
    }
}

impl StoredLog {
    /// A log without entries whose dummy is at `index`, of `term`.
    pub(crate) fn new(index: u64, term: u64) -> StoredLog {
        StoredLog {
            offset: index,
            data: Vec::new(),
            terms: vec![TermRun { first: index, term }],
            types: LazyVec::new(),
        }
    }

    /// The index of the dummy entry.
    #[inline]
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The index of the last entry (the dummy's if there is none).
    #[inline]
    pub(crate) fn last_index(&self) -> u64 {
        self.offset + self.data.len() as u64
    }

    /// Whether only the dummy is there.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The term of the entry at `i`, which must be within
    /// `[offset, last_index]`.
    #[inline]
    pub(crate) fn term(&self, i: u64) -> u64 {
        debug_assert!(self.offset <= i && i <= self.last_index());
        // Nearly always the latest term.
        let last = self.terms[self.terms.len() - 1];
        if i >= last.first {
            return last.term;
        }
        let run = self.terms.partition_point(|r| r.first <= i) - 1;
        self.terms[run].term
    }

    /// Drops the entries before `i` and makes the entry at `i` (within
    /// `(offset, last_index]`) the dummy.
    pub(crate) fn compact_to(&mut self, i: u64) {
        debug_assert!(self.offset < i && i <= self.last_index());
        let term = self.term(i);
        self.data.drain(..(i - self.offset) as usize);
        let run = self.terms.partition_point(|r| r.first <= i) - 1;
        self.terms.drain(..run);
        self.terms[0] = TermRun { first: i, term };
        let kept = self.types.partition_point(|&(index, _)| index <= i);
        if kept > 0 {
            self.types.vec_mut().drain(..kept);
        }
        self.offset = i;
    }

    /// Replaces the entries from `entries[0].index` on with `entries`, which
    /// must be consecutive and start within `(offset, last_index + 1]`.
    pub(crate) fn truncate_and_append(&mut self, entries: &[Entry]) {
        let Some(first) = entries.first() else {
            return;
        };
        self.make_room(first.index, entries.len());
        if self.payloads_only(entries) {
            self.data.extend(entries.iter().map(|e| e.data.clone()));
            return;
        }
        self.push_all(
            entries
                .iter()
                .map(|e| (e.entry_type, e.term, e.index, e.data.clone())),
        );
    }

    /// [`truncate_and_append`](StoredLog::truncate_and_append) of entries
    /// the caller gives up: their payloads move in, without the reference
    /// count taken (and later dropped) per entry of a copy.
    pub(crate) fn truncate_and_append_owned(&mut self, mut entries: Vec<Entry>) {
        let Some(first) = entries.first() else {
            return;
        };
        self.make_room(first.index, entries.len());
        if self.payloads_only(&entries) {
            self.data.extend(entries.drain(..).map(|e| e.data));
        } else {
            self.push_all(
                entries
                    .drain(..)
                    .map(|e| (e.entry_type, e.term, e.index, e.data)),
            );
        }
        // The emptied vector serves a later Ready.
        crate::buffers::recycle_entries(entries);
    }

    // Drops the entries from `from` on and reserves room for `n` more.
    #[inline]
    fn make_room(&mut self, from: u64, n: usize) {
        debug_assert!(self.offset < from && from <= self.last_index() + 1);
        if from <= self.last_index() {
            self.data.truncate((from - self.offset - 1) as usize);
            // The dummy's run always stays: its first index is below `from`.
            let runs = self.terms.partition_point(|r| r.first < from);
            self.terms.truncate(runs);
            let types = self.types.partition_point(|&(index, _)| index < from);
            if types < self.types.len() {
                self.types.vec_mut().truncate(types);
            }
        }
        if self.data.capacity() == 0 {
            // The first entries get a buffer of their size, not the four
            // slots an amortized push starts with: a node of a mostly idle
            // group keeps its few entries (an election's) for good. Later
            // appends grow the buffer as usual.
            self.data.reserve_exact(n);
        } else {
            self.data.reserve(n);
        }
    }

    // Appends the entries (type, term, index, payload), which follow the
    // last one; `make_room` has reserved their payloads' slots.
    #[inline]
    fn push_all(&mut self, entries: impl Iterator<Item = (Option<i32>, u64, u64, Bytes)>) {
        let StoredLog {
            data, terms, types, ..
        } = self;
        let mut last_term = terms[terms.len() - 1].term;
        // One `extend` (no capacity check per payload); the rare term
        // changes and types are noted on the way.
        data.extend(entries.map(|(entry_type, term, index, payload)| {
            if term != last_term {
                if terms.len() == terms.capacity() && terms.len() < 4 {
                    // Term runs come one per leader: grow one at a time
                    // while there are few (an idle node has two for good).
                    terms.reserve_exact(1);
                }
                terms.push(TermRun { first: index, term });
                last_term = term;
            }
            if let Some(t) = entry_type {
                types.push((index, t));
            }
            payload
        }));
    }

    // Whether `entries` are all of the last run's term and without a type:
    // the usual append, where only the payloads are to be stored.
    #[inline]
    fn payloads_only(&self, entries: &[Entry]) -> bool {
        let last_term = self.terms[self.terms.len() - 1].term;
        entries
            .iter()
            .all(|e| e.term == last_term && e.entry_type.is_none())
    }

    /// The entries of `[lo, hi)`, within `(offset, last_index + 1]`, cut
    /// after the longest prefix whose encoded size is within `max_size` but
    /// at least one entry (etcd `limitSize`).
    pub(crate) fn entries(&self, lo: u64, hi: u64, max_size: u64) -> Vec<Entry> {
        debug_assert!(self.offset < lo && lo <= hi && hi <= self.last_index() + 1);
        let mut n = (hi - lo) as usize;
        if max_size < BEYOND_MEMORY && n > 1 && !self.fits(lo, hi, max_size) {
            n = self.limit_size_len(lo, hi, max_size);
        }
        let datas = &self.data[(lo - self.offset - 1) as usize..][..n];
        let mut out = crate::buffers::entries_vec(n);
        let mut cursor = Cursor::new(self, lo);
        let end = lo + n as u64;
        if cursor.next_run >= end && cursor.next_type >= end {
            // One term and no types in the range: the usual case, with
            // nothing to look up per entry.
            let term = self.terms[cursor.run].term;
            // One `extend` of known length: no capacity check per entry.
            out.extend(datas.iter().enumerate().map(|(k, data)| Entry {
                entry_type: None,
                term,
                index: lo + k as u64,
                data: data.clone(),
            }));
            return out;
        }
        for (index, data) in (lo..).zip(datas) {
            let (term, entry_type) = cursor.at(index);
            out.push(Entry {
                entry_type,
                term,
                index,
                data: data.clone(),
            });
        }
        out
    }

    /// Whether all of `[lo, hi)` surely encodes within `max_size` bytes,
    /// judged from the payload sizes alone: committed entries are usually
    /// read in ranges far below the limit, and summing lengths is much
    /// cheaper than sizing every entry. `false` means "maybe not".
    #[inline]
    fn fits(&self, lo: u64, hi: u64, max_size: u64) -> bool {
        let datas = &self.data[(lo - self.offset - 1) as usize..(hi - self.offset - 1) as usize];
        let payloads: u64 = datas.iter().map(|d| d.len() as u64).sum();
        // MAX_ENTRY_OVERHEAD per entry bounds all but the payload.
        payloads.saturating_add(datas.len() as u64 * MAX_ENTRY_OVERHEAD) <= max_size
    }

    /// How many entries from `lo` (and before `hi`) fit in `max_size`
    /// encoded bytes, at least one: the count `limit_size_len` gives for
    /// the rebuilt entries, without rebuilding them.
    fn limit_size_len(&self, lo: u64, hi: u64, max_size: u64) -> usize {
        let mut cursor = Cursor::new(self, lo);
        let mut size = 0u64;
        let datas = &self.data[(lo - self.offset - 1) as usize..(hi - self.offset - 1) as usize];
        for (k, data) in datas.iter().enumerate() {
            let index = lo + k as u64;
            let (term, entry_type) = cursor.at(index);
            size = size.saturating_add(entry_encoded_len(
                entry_type,
                term,
                index,
                data.len() as u64,
            ));
            if k > 0 && size > max_size {
                return k;
            }
        }
        datas.len()
    }

    /// Every entry, the dummy first (with only its index and term): the
    /// layout etcd's tests read from `MemoryStorage.ents`.
    #[cfg(test)]
    pub(crate) fn to_entries(&self) -> Vec<Entry> {
        let mut out = vec![Entry {
            term: self.terms[0].term,
            index: self.offset,
            ..Default::default()
        }];
        out.extend(self.entries(self.offset + 1, self.last_index() + 1, u64::MAX));
        out
    }
}

/// Walks the term runs and types of a [`StoredLog`] along ascending
/// indexes, so that rebuilding a range costs no search per entry.
struct Cursor<'a> {
    log: &'a StoredLog,
    /// The run of the current index, and where the next one starts.
    run: usize,
    next_run: u64,
    /// The first type exception at or after the current index, and its
    /// index (`u64::MAX` if none).
    ty: usize,
    next_type: u64,
}

impl<'a> Cursor<'a> {
    fn new(log: &'a StoredLog, lo: u64) -> Cursor<'a> {
        let run = log.terms.partition_point(|r| r.first <= lo) - 1;
        let ty = log.types.partition_point(|&(index, _)| index < lo);
        let mut c = Cursor {
            log,
            run,
            next_run: 0,
            ty,
            next_type: 0,
        };
        c.next_run = c.next_run_first();
        c.next_type = c.next_type_index();
        c
    }

    fn next_type_index(&self) -> u64 {
        self.log
            .types
            .get(self.ty)
            .map_or(u64::MAX, |&(index, _)| index)
    }

    fn next_run_first(&self) -> u64 {
        self.log
            .terms
            .get(self.run + 1)
            .map_or(u64::MAX, |r| r.first)
    }

    /// The term and type of the entry at `index`, which must not be below
    /// the previous call's.
    #[inline]
    fn at(&mut self, index: u64) -> (u64, Option<i32>) {
        while index >= self.next_run {
            self.run += 1;
            self.next_run = self.next_run_first();
        }
        let term = self.log.terms[self.run].term;
        if index != self.next_type {
            return (term, None);
        }
        let entry_type = self.log.types[self.ty].1;
        self.ty += 1;
        self.next_type = self.next_type_index();
        (term, Some(entry_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    fn ent(index: u64, term: u64, entry_type: Option<i32>, data: &'static [u8]) -> Entry {
        Entry {
            entry_type,
            term,
            index,
            data: Bytes::from_static(data),
        }
    }

    /// A log of entries 4..=9 after a dummy at 3: terms 3 3 | 5 5 5 | 7,
    /// with types on 5 and 8.
    fn sample() -> (StoredLog, Vec<Entry>) {
        let ents = vec![
            ent(4, 3, None, b"a"),
            ent(5, 3, Some(1), b""),
            ent(6, 5, None, b"bb"),
            ent(7, 5, None, b"ccc"),
            ent(8, 5, Some(0), b"d"),
            ent(9, 7, None, b""),
        ];
        let mut log = StoredLog::new(3, 2);
        log.truncate_and_append(&ents);
        (log, ents)
    }

    #[test]
    fn rebuilds_what_was_appended() {
        let (log, ents) = sample();
        assert_eq!((log.offset(), log.last_index()), (3, 9));
        assert_eq!(log.entries(4, 10, u64::MAX), ents);
        // Every sub-range, so that the cursor starts inside runs too.
        for lo in 4..=9 {
            for hi in lo..=10 {
                let want = &ents[(lo - 4) as usize..(hi - 4) as usize];
                assert_eq!(log.entries(lo, hi, u64::MAX), want, "[{lo}, {hi})");
            }
        }
        let terms: Vec<u64> = (3..=9).map(|i| log.term(i)).collect();
        assert_eq!(terms, [2, 3, 3, 5, 5, 5, 7]);
    }

    #[test]
    fn encoded_len_matches_prost() {
        for e in [
            ent(0, 0, None, b""),
            ent(1, 1, Some(0), b"x"),
            ent(300, 1 << 40, Some(2), &[7; 200]),
            ent(5, 0, Some(-1), b""),
            ent(u64::MAX, u64::MAX, Some(-1), &[1; 300]),
        ] {
            assert!(e.encoded_len() as u64 <= e.data.len() as u64 + MAX_ENTRY_OVERHEAD);
            assert_eq!(
                entry_encoded_len(e.entry_type, e.term, e.index, e.data.len() as u64),
                e.encoded_len() as u64,
                "{e:?}"
            );
        }
    }

    #[test]
    fn size_limit_keeps_at_least_one() {
        let (log, ents) = sample();
        let size = |es: &[Entry]| es.iter().map(|e| e.encoded_len() as u64).sum::<u64>();
        // Up to beyond the bound `fits` takes everything from without sizing.
        for max in 0..=size(&ents) + 6 * MAX_ENTRY_OVERHEAD + 1 {
            let got = log.entries(4, 10, max);
            let want = crate::util::limit_size_slice(&ents, max);
            assert_eq!(got, want, "max {max}");
        }
        assert_eq!(log.entries(4, 10, u64::MAX - 100), ents);
    }

    #[test]
    fn truncation_drops_later_runs_and_types() {
        let (mut log, ents) = sample();
        log.truncate_and_append(&[ent(6, 4, None, b"x"), ent(7, 4, None, b"y")]);
        let mut want = ents[..2].to_vec();
        want.extend([ent(6, 4, None, b"x"), ent(7, 4, None, b"y")]);
        assert_eq!(log.entries(4, 8, u64::MAX), want);
        assert_eq!(log.last_index(), 7);
        // Replacing everything after the dummy keeps the dummy's term.
        log.truncate_and_append(&[ent(4, 9, Some(1), b"z")]);
        assert_eq!(
            log.to_entries(),
            vec![ent(3, 2, None, b""), ent(4, 9, Some(1), b"z")]
        );
    }

    #[test]
    fn compaction_moves_the_dummy() {
        let (mut log, ents) = sample();
        log.compact_to(7);
        assert_eq!(log.offset(), 7);
        assert_eq!(log.term(7), 5);
        let mut want = vec![ent(7, 5, None, b"")];
        want.extend_from_slice(&ents[4..]);
        assert_eq!(log.to_entries(), want);
        log.compact_to(9);
        assert_eq!(log.to_entries(), vec![ent(9, 7, None, b"")]);
        assert!(log.is_empty());
    }
}
