//! A single majority configuration (etcd `MajorityConfig`).

use std::fmt::{self, Write as _};

use super::{AckedIndexer, Index, VoteLookup, VoteResult};

/// The number of voters for which [`MajorityConfig::committed_index`] sorts
/// on the stack. Larger groups are rare enough that a heap allocation does
/// not matter there.
pub(crate) const STACK_VOTERS: usize = 7;

/// The largest index that a majority of `acked` (one acknowledged index
/// per voter, at least one, at most a handful) has reached; reorders
/// `acked`. Sorted by insertion: a leader computes this on every
/// acknowledgement, and the library sort's set-up costs more than sorting
/// a handful of numbers.
#[inline]
pub(crate) fn quorum_index(srt: &mut [u64]) -> Index {
    let n = srt.len();
    for i in 1..n {
        let x = srt[i];
        let mut j = i;
        while j > 0 && srt[j - 1] > x {
            srt[j] = srt[j - 1];
            j -= 1;
        }
        srt[j] = x;
    }
    // The entry at this position and every one to its right (a quorum of
    // n/2+1 voters) is at least this large.
    srt[n - (n / 2 + 1)]
}

/// Writes the acknowledged index of each of `voters` into `srt` (as long as
/// `voters`, all zeroes). Voters without an entry keep their zero; filling
/// from the right leaves those zeroes on the left, where sorting would put
/// them.
#[inline]
fn fill_acked(voters: &[u64], l: &impl AckedIndexer, srt: &mut [u64]) {
    let mut i = srt.len();
    for &id in voters {
        if let Some(idx) = l.acked_index(id) {
            i -= 1;
            srt[i] = idx;
        }
    }
}

/// A set of voter ids deciding by simple majority.
///
/// The ids are kept in a sorted slice without duplicates: raft groups are
/// small, so this beats a hash set for lookups and gives the sorted
/// iteration order that every printed form needs for free. A boxed slice
/// rather than a `Vec`: configurations change rarely, and each node holds
/// four of these (both voter halves, learners, staged learners), mostly
/// empty, so the 8 bytes of capacity each would cost every node for nothing.
///
/// The same type also serves as a plain sorted id set (learners, staged
/// learners), as etcd does by converting those maps to `MajorityConfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MajorityConfig {
    voters: Box<[u64]>,
}

impl MajorityConfig {
    /// The empty config.
    pub fn new() -> MajorityConfig {
        MajorityConfig {
            voters: Box::new([]),
        }
    }

    /// An empty config. (`n`, the number of ids to come, is a hint that
    /// the boxed representation has no use for; kept for callers.)
    pub fn with_capacity(n: usize) -> MajorityConfig {
        let _ = n;
        MajorityConfig::new()
    }

    /// The number of voters.
    pub fn len(&self) -> usize {
        self.voters.len()
    }

    /// Whether there are no voters.
    pub fn is_empty(&self) -> bool {
        self.voters.is_empty()
    }

    /// Whether `id` is a member.
    pub fn contains(&self, id: u64) -> bool {
        self.voters.binary_search(&id).is_ok()
    }

    /// Adds `id`; returns whether it was newly added.
    pub fn insert(&mut self, id: u64) -> bool {
        match self.voters.binary_search(&id) {
            Ok(_) => false,
            Err(pos) => {
                let mut v = Vec::with_capacity(self.voters.len() + 1);
                v.extend_from_slice(&self.voters[..pos]);
                v.push(id);
                v.extend_from_slice(&self.voters[pos..]);
                self.voters = v.into_boxed_slice();
                true
            }
        }
    }

    /// Removes `id`; returns whether it was a member.
    pub fn remove(&mut self, id: u64) -> bool {
        match self.voters.binary_search(&id) {
            Ok(pos) => {
                let mut v = std::mem::take(&mut self.voters).into_vec();
                v.remove(pos);
                self.voters = v.into_boxed_slice();
                true
            }
            Err(_) => false,
        }
    }

    /// Removes every member.
    pub fn clear(&mut self) {
        self.voters = Box::new([]);
    }

    /// The members in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = u64> + ExactSizeIterator + '_ {
        self.voters.iter().copied()
    }

    /// The members in ascending order, borrowed.
    pub fn as_slice(&self) -> &[u64] {
        &self.voters
    }

    /// The members in ascending order, as a new `Vec` (etcd `Slice`).
    pub fn slice(&self) -> Vec<u64> {
        self.voters.to_vec()
    }

    /// The largest index acknowledged by a majority of the voters, per `l`
    /// (etcd `CommittedIndex`). Voters `l` knows nothing about count as
    /// having acknowledged nothing.
    ///
    /// The empty config returns `u64::MAX`, so that it is neutral in a
    /// [`JointConfig`](super::JointConfig), which takes the minimum.
    #[inline]
    pub fn committed_index(&self, l: &impl AckedIndexer) -> Index {
        let n = self.voters.len();
        if n == 0 {
            return u64::MAX;
        }
        if n > STACK_VOTERS {
            return self.committed_index_large(l);
        }
        // The common small case: on the stack, sorted by insertion (a
        // leader computes this on every acknowledgement; the library sort's
        // set-up costs more than sorting a handful of numbers).
        let mut stack = [0u64; STACK_VOTERS];
        let srt = &mut stack[..n];
        fill_acked(&self.voters, l, srt);
        quorum_index(srt)
    }

    // `committed_index` for more than STACK_VOTERS voters, on the heap.
    #[inline(never)]
    fn committed_index_large(&self, l: &impl AckedIndexer) -> Index {
        let n = self.voters.len();
        let mut srt = vec![0u64; n];
        fill_acked(&self.voters, l, &mut srt);
        srt.sort_unstable();
        srt[n - (n / 2 + 1)]
    }

    /// Whether the votes in `votes` win, lose, or leave the election open
    /// (etcd `VoteResult`). Votes of non-members are ignored.
    ///
    /// The empty config wins every election, so that it is neutral in a
    /// [`JointConfig`](super::JointConfig).
    pub fn vote_result(&self, votes: &(impl VoteLookup + ?Sized)) -> VoteResult {
        if self.voters.is_empty() {
            return VoteResult::VoteWon;
        }
        let mut granted = 0;
        let mut missing = 0;
        for &id in &self.voters {
            match votes.vote(id) {
                None => missing += 1,
                Some(true) => granted += 1,
                Some(false) => {}
            }
        }
        let quorum = self.voters.len() / 2 + 1;
        if granted >= quorum {
            VoteResult::VoteWon
        } else if granted + missing >= quorum {
            VoteResult::VotePending
        } else {
            VoteResult::VoteLost
        }
    }

    /// A multi-line table of the voters' acknowledged indexes with a bar per
    /// voter, for debugging and golden files (etcd `Describe`).
    ///
    /// The voter with the i-th smallest index gets a bar of length i, where
    /// equal indexes share a bar length; voters unknown to `l` show `?`.
    pub fn describe(&self, l: &impl AckedIndexer) -> String {
        let n = self.voters.len();
        if n == 0 {
            return "<empty majority quorum>".to_string();
        }
        struct Row {
            id: u64,
            idx: Index,
            found: bool,
            bar: usize,
        }
        let mut rows: Vec<Row> = self
            .voters
            .iter()
            .map(|&id| {
                let acked = l.acked_index(id);
                Row {
                    id,
                    idx: acked.unwrap_or(0),
                    found: acked.is_some(),
                    bar: 0,
                }
            })
            .collect();
        rows.sort_by_key(|r| (r.idx, r.id));
        for i in 1..rows.len() {
            rows[i].bar = if rows[i - 1].idx < rows[i].idx {
                i
            } else {
                rows[i - 1].bar
            };
        }
        rows.sort_by_key(|r| r.id);

        let mut buf = String::with_capacity((n + 1) * (n + 24));
        buf.push_str(&" ".repeat(n));
        buf.push_str("    idx\n");
        for r in &rows {
            if r.found {
                push_n(&mut buf, 'x', r.bar);
                buf.push('>');
                push_n(&mut buf, ' ', n - r.bar);
            } else {
                buf.push('?');
                push_n(&mut buf, ' ', n);
            }
            // Writing into a String cannot fail.
            let _ = writeln!(buf, " {:>5}    (id={:x})", r.idx, r.id);
        }
        buf
    }
}

fn push_n(buf: &mut String, c: char, n: usize) {
    buf.extend(std::iter::repeat_n(c, n));
}

/// A deliberately naive computation of [`MajorityConfig::committed_index`],
/// kept as an independent reference to cross-check the fast one (etcd's
/// tests, and the quorum golden-file handler, compare the two).
///
/// For every acknowledged index it counts the voters that acknowledged at
/// least that much, and returns the largest index a quorum reached.
pub fn alternative_majority_committed_index(c: &MajorityConfig, l: &impl AckedIndexer) -> Index {
    if c.is_empty() {
        return u64::MAX;
    }
    let acked: Vec<Index> = c.iter().filter_map(|id| l.acked_index(id)).collect();
    let quorum = c.len() / 2 + 1;
    acked
        .iter()
        .filter(|&&candidate| acked.iter().filter(|&&idx| idx >= candidate).count() >= quorum)
        .copied()
        .max()
        .unwrap_or(0)
}

impl FromIterator<u64> for MajorityConfig {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> MajorityConfig {
        let mut voters: Vec<u64> = iter.into_iter().collect();
        voters.sort_unstable();
        voters.dedup();
        MajorityConfig {
            voters: voters.into_boxed_slice(),
        }
    }
}

impl Extend<u64> for MajorityConfig {
    fn extend<I: IntoIterator<Item = u64>>(&mut self, iter: I) {
        let mut v = std::mem::take(&mut self.voters).into_vec();
        v.extend(iter);
        v.sort_unstable();
        v.dedup();
        self.voters = v.into_boxed_slice();
    }
}

impl<'a> IntoIterator for &'a MajorityConfig {
    type Item = u64;
    type IntoIter = std::iter::Copied<std::slice::Iter<'a, u64>>;

    fn into_iter(self) -> Self::IntoIter {
        self.voters.iter().copied()
    }
}

impl From<Vec<u64>> for MajorityConfig {
    fn from(v: Vec<u64>) -> MajorityConfig {
        v.into_iter().collect()
    }
}

impl From<&[u64]> for MajorityConfig {
    fn from(v: &[u64]) -> MajorityConfig {
        v.iter().copied().collect()
    }
}

/// `(1 2 3)`: the ids in ascending order, in hex as etcd prints them.
impl fmt::Display for MajorityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('(')?;
        for (i, id) in self.voters.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            write!(f, "{id:x}")?;
        }
        f.write_char(')')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(ids: &[u64]) -> MajorityConfig {
        ids.into()
    }

    fn acks(pairs: &[(u64, u64)]) -> HashMap<u64, u64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn set_operations_keep_order_and_uniqueness() {
        let mut c = cfg(&[5, 1, 3, 3]);
        assert_eq!(c.as_slice(), &[1, 3, 5]);
        assert!(c.insert(2));
        assert!(!c.insert(2));
        assert!(c.remove(3));
        assert!(!c.remove(3));
        assert_eq!(c.slice(), vec![1, 2, 5]);
        assert!(c.contains(5) && !c.contains(4));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn display_is_sorted_hex() {
        assert_eq!(cfg(&[]).to_string(), "()");
        assert_eq!(cfg(&[3, 1, 2]).to_string(), "(1 2 3)");
        assert_eq!(cfg(&[16, 255]).to_string(), "(10 ff)");
    }

    #[test]
    fn committed_index_cases() {
        assert_eq!(cfg(&[]).committed_index(&acks(&[])), u64::MAX);
        assert_eq!(cfg(&[1]).committed_index(&acks(&[])), 0);
        assert_eq!(cfg(&[1]).committed_index(&acks(&[(1, 7)])), 7);
        // Two voters: both must have it.
        assert_eq!(cfg(&[1, 2]).committed_index(&acks(&[(1, 7), (2, 5)])), 5);
        assert_eq!(cfg(&[1, 2]).committed_index(&acks(&[(1, 7)])), 0);
        // Three voters: the median.
        assert_eq!(
            cfg(&[1, 2, 3]).committed_index(&acks(&[(1, 9), (2, 4), (3, 6)])),
            6
        );
        assert_eq!(cfg(&[1, 2, 3]).committed_index(&acks(&[(1, 9), (3, 6)])), 6);
        assert_eq!(cfg(&[1, 2, 3]).committed_index(&acks(&[(1, 9)])), 0);
        // Acks from non-members do not count.
        assert_eq!(
            cfg(&[1, 2, 3]).committed_index(&acks(&[(1, 9), (4, 9), (5, 9)])),
            0
        );
    }

    #[test]
    fn committed_index_large_config_uses_heap_path() {
        let c: MajorityConfig = (1..=9).collect();
        let l: HashMap<u64, u64> = (1..=9).map(|id| (id, id * 10)).collect();
        // Five of nine must have acked: ids 5..=9 have >= 50.
        assert_eq!(c.committed_index(&l), 50);
        assert_eq!(alternative_majority_committed_index(&c, &l), 50);
    }

    #[test]
    fn committed_index_matches_alternative_on_many_inputs() {
        // A small deterministic generator instead of a property-test crate.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..5000 {
            let n = next(11);
            let c: MajorityConfig = (0..n).map(|_| next(20)).collect();
            let l: HashMap<u64, u64> = (0..next(15)).map(|_| (next(20), next(10))).collect();
            assert_eq!(
                c.committed_index(&l),
                alternative_majority_committed_index(&c, &l),
                "{c} {l:?}"
            );
        }
    }

    #[test]
    fn vote_result_cases() {
        let v = |pairs: &[(u64, bool)]| -> HashMap<u64, bool> { pairs.iter().copied().collect() };
        assert_eq!(cfg(&[]).vote_result(&v(&[])), VoteResult::VoteWon);
        assert_eq!(cfg(&[1]).vote_result(&v(&[])), VoteResult::VotePending);
        assert_eq!(
            cfg(&[1]).vote_result(&v(&[(1, false)])),
            VoteResult::VoteLost
        );
        let three = cfg(&[1, 2, 3]);
        assert_eq!(three.vote_result(&v(&[(1, true)])), VoteResult::VotePending);
        assert_eq!(
            three.vote_result(&v(&[(1, true), (2, true)])),
            VoteResult::VoteWon
        );
        assert_eq!(
            three.vote_result(&v(&[(1, false), (2, true)])),
            VoteResult::VotePending
        );
        assert_eq!(
            three.vote_result(&v(&[(1, false), (2, false)])),
            VoteResult::VoteLost
        );
        // Votes from outside the config are ignored.
        assert_eq!(
            three.vote_result(&v(&[(1, true), (4, true), (5, true)])),
            VoteResult::VotePending
        );
        // Even-sized configs need more than half.
        let four = cfg(&[1, 2, 3, 4]);
        assert_eq!(
            four.vote_result(&v(&[(1, true), (2, true), (3, false)])),
            VoteResult::VotePending
        );
        assert_eq!(
            four.vote_result(&v(&[(1, false), (2, false)])),
            VoteResult::VoteLost
        );
    }

    #[test]
    fn describe_table() {
        let c = cfg(&[1, 2, 3]);
        assert_eq!(
            c.describe(&acks(&[(1, 101), (3, 103)])),
            "       idx\nx>     101    (id=1)\n?        0    (id=2)\nxx>    103    (id=3)\n"
        );
        assert_eq!(
            c.describe(&acks(&[(1, 100), (2, 102), (3, 102)])),
            "       idx\n>      100    (id=1)\nx>     102    (id=2)\nx>     102    (id=3)\n"
        );
        assert_eq!(cfg(&[]).describe(&acks(&[])), "<empty majority quorum>");
        // Ids print in hex; wide indexes push the column right.
        assert_eq!(
            cfg(&[10]).describe(&acks(&[(10, 1234567)])),
            "     idx\n>  1234567    (id=a)\n"
        );
    }
}
