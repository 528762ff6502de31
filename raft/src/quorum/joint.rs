//! Two majority configs deciding together (etcd `JointConfig`).

use std::fmt;
use std::ops::{Index as IndexOp, IndexMut};

use super::{AckedIndexer, Index, MajorityConfig, VoteLookup, VoteResult};

/// A pair of (possibly overlapping) majority configs; a decision needs both.
///
/// Element 0 is the incoming config and element 1 the outgoing one, which is
/// empty unless a joint-consensus transition is under way. Indexing
/// (`voters[0]`, `voters[1]`) mirrors etcd's `Voters[0]`/`Voters[1]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct JointConfig(pub [MajorityConfig; 2]);

impl JointConfig {
    /// A joint config of the two given halves.
    pub fn new(incoming: MajorityConfig, outgoing: MajorityConfig) -> JointConfig {
        JointConfig([incoming, outgoing])
    }

    /// The incoming (current) majority config, `voters[0]`.
    pub fn incoming(&self) -> &MajorityConfig {
        &self.0[0]
    }

    /// The outgoing majority config, `voters[1]`; empty when not joint.
    pub fn outgoing(&self) -> &MajorityConfig {
        &self.0[1]
    }

    /// Mutable access to the incoming majority config.
    pub fn incoming_mut(&mut self) -> &mut MajorityConfig {
        &mut self.0[0]
    }

    /// Mutable access to the outgoing majority config.
    pub fn outgoing_mut(&mut self) -> &mut MajorityConfig {
        &mut self.0[1]
    }

    /// Whether `id` is a voter in either half.
    pub fn contains(&self, id: u64) -> bool {
        self.0[0].contains(id) || self.0[1].contains(id)
    }

    /// The union of both halves, sorted (etcd `IDs`).
    pub fn ids(&self) -> MajorityConfig {
        self.0[0].iter().chain(self.0[1].iter()).collect()
    }

    /// The largest index committed in both halves (etcd `CommittedIndex`).
    pub fn committed_index(&self, l: &impl AckedIndexer) -> Index {
        let idx0 = self.0[0].committed_index(l);
        let idx1 = self.0[1].committed_index(l);
        idx0.min(idx1)
    }

    /// The outcome of a vote in which both halves must agree (etcd
    /// `VoteResult`): a loss in either half loses, a win needs both.
    pub fn vote_result(&self, votes: &(impl VoteLookup + ?Sized)) -> VoteResult {
        let r0 = self.0[0].vote_result(votes);
        let r1 = self.0[1].vote_result(votes);
        if r0 == r1 {
            r0
        } else if r0 == VoteResult::VoteLost || r1 == VoteResult::VoteLost {
            VoteResult::VoteLost
        } else {
            // One half won, the other is still open.
            VoteResult::VotePending
        }
    }

    /// The [`MajorityConfig::describe`] table over the union of both halves.
    pub fn describe(&self, l: &impl AckedIndexer) -> String {
        self.ids().describe(l)
    }
}

impl IndexOp<usize> for JointConfig {
    type Output = MajorityConfig;

    fn index(&self, i: usize) -> &MajorityConfig {
        &self.0[i]
    }
}

impl IndexMut<usize> for JointConfig {
    fn index_mut(&mut self, i: usize) -> &mut MajorityConfig {
        &mut self.0[i]
    }
}

/// `(1 2 3)`, or `(1 2 3)&&(4 5)` while the outgoing half is non-empty.
impl fmt::Display for JointConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0[1].is_empty() {
            write!(f, "{}", self.0[0])
        } else {
            write!(f, "{}&&{}", self.0[0], self.0[1])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn joint(a: &[u64], b: &[u64]) -> JointConfig {
        JointConfig::new(a.into(), b.into())
    }

    #[test]
    fn display_and_ids() {
        assert_eq!(joint(&[3, 1, 2], &[]).to_string(), "(1 2 3)");
        assert_eq!(joint(&[1, 2, 3], &[5, 4]).to_string(), "(1 2 3)&&(4 5)");
        // An empty incoming half still prints when the outgoing one is set.
        assert_eq!(joint(&[], &[1]).to_string(), "()&&(1)");
        assert_eq!(
            joint(&[1, 3, 5], &[2, 3, 6]).ids().as_slice(),
            &[1, 2, 3, 5, 6]
        );
        assert_eq!(joint(&[], &[2]).ids().as_slice(), &[2]);
        assert!(joint(&[], &[]).ids().is_empty());
    }

    #[test]
    fn committed_index_takes_the_lower_half() {
        let l: HashMap<u64, u64> = [(1, 100), (2, 50), (3, 100), (4, 40), (5, 30)].into();
        // (1 2 3) commits 100, (4 5) commits 30.
        assert_eq!(joint(&[1, 2, 3], &[4, 5]).committed_index(&l), 30);
        assert_eq!(joint(&[4, 5], &[1, 2, 3]).committed_index(&l), 30);
        // An empty half is neutral.
        assert_eq!(joint(&[1, 2, 3], &[]).committed_index(&l), 100);
        assert_eq!(joint(&[], &[1, 2, 3]).committed_index(&l), 100);
        assert_eq!(joint(&[], &[]).committed_index(&l), u64::MAX);
        // Overlapping halves.
        assert_eq!(joint(&[1, 2], &[2, 3]).committed_index(&l), 50);
    }

    #[test]
    fn vote_result_combines_halves() {
        let v = |pairs: &[(u64, bool)]| -> HashMap<u64, bool> { pairs.iter().copied().collect() };
        let c = joint(&[1, 2, 3], &[4, 5, 6]);
        assert_eq!(c.vote_result(&v(&[])), VoteResult::VotePending);
        assert_eq!(
            c.vote_result(&v(&[(1, true), (2, true)])),
            VoteResult::VotePending
        );
        assert_eq!(
            c.vote_result(&v(&[(1, true), (2, true), (4, true), (5, true)])),
            VoteResult::VoteWon
        );
        assert_eq!(
            c.vote_result(&v(&[(1, true), (2, true), (4, false), (5, false)])),
            VoteResult::VoteLost
        );
        assert_eq!(
            c.vote_result(&v(&[(4, false), (5, false)])),
            VoteResult::VoteLost
        );
        // Empty outgoing half: behaves like the incoming majority.
        let m = joint(&[1, 2, 3], &[]);
        assert_eq!(
            m.vote_result(&v(&[(1, true), (2, true)])),
            VoteResult::VoteWon
        );
    }

    #[test]
    fn describe_uses_the_union() {
        let l: HashMap<u64, u64> = [(1, 100), (2, 101)].into();
        assert_eq!(
            joint(&[1, 3], &[2]).describe(&l),
            "       idx\nx>     100    (id=1)\nxx>    101    (id=2)\n?        0    (id=3)\n"
        );
    }

    #[test]
    fn indexing_matches_halves() {
        let mut c = joint(&[1], &[2]);
        assert_eq!(c[0].as_slice(), &[1]);
        assert_eq!(c[1].as_slice(), &[2]);
        c[1].clear();
        assert!(c.outgoing().is_empty());
        assert_eq!(c.to_string(), "(1)");
    }
}
