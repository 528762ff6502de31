//! Quorum arithmetic: majority and joint configurations, commit indexes and
//! vote outcomes (etcd `quorum`).
//!
//! Nothing in here knows about progress tracking or messages; callers hand
//! in lookups ([`AckedIndexer`], [`VoteLookup`]) and get back an [`Index`] or
//! a [`VoteResult`].

mod joint;
mod majority;

pub use joint::JointConfig;
pub use majority::{alternative_majority_committed_index, MajorityConfig};
pub(crate) use majority::{quorum_index, STACK_VOTERS};

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;

/// A raft log position.
///
/// `u64::MAX` has a special meaning in the results of this module: the empty
/// majority config "commits" everything, so that a joint config with an empty
/// half behaves like its other half. Print an index with [`IndexDisplay`] to
/// get etcd's rendering of that value (`∞`).
pub type Index = u64;

/// Formats an [`Index`] the way etcd's `quorum.Index.String()` does: decimal,
/// except `u64::MAX` which prints as `∞`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexDisplay(pub Index);

impl fmt::Display for IndexDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == u64::MAX {
            f.write_str("∞")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Looks up the index a voter has acknowledged (etcd `AckedIndexer`).
pub trait AckedIndexer {
    /// The acknowledged index of `voter_id`, or `None` if nothing is known
    /// about that voter (which is different from an acknowledged zero).
    fn acked_index(&self, voter_id: u64) -> Option<Index>;
}

impl<S: BuildHasher> AckedIndexer for HashMap<u64, Index, S> {
    fn acked_index(&self, voter_id: u64) -> Option<Index> {
        self.get(&voter_id).copied()
    }
}

impl AckedIndexer for BTreeMap<u64, Index> {
    fn acked_index(&self, voter_id: u64) -> Option<Index> {
        self.get(&voter_id).copied()
    }
}

impl<T: AckedIndexer + ?Sized> AckedIndexer for &T {
    fn acked_index(&self, voter_id: u64) -> Option<Index> {
        (**self).acked_index(voter_id)
    }
}

/// Looks up how a voter voted (etcd passes a `map[uint64]bool`).
pub trait VoteLookup {
    /// `Some(true)` for a granted vote, `Some(false)` for a rejection, `None`
    /// if the voter has not voted (yet).
    fn vote(&self, voter_id: u64) -> Option<bool>;
}

impl<S: BuildHasher> VoteLookup for HashMap<u64, bool, S> {
    fn vote(&self, voter_id: u64) -> Option<bool> {
        self.get(&voter_id).copied()
    }
}

impl VoteLookup for BTreeMap<u64, bool> {
    fn vote(&self, voter_id: u64) -> Option<bool> {
        self.get(&voter_id).copied()
    }
}

/// A slice of `(voter id, vote)` pairs. It must be sorted by id (without
/// duplicates): lookups binary-search it.
impl VoteLookup for [(u64, bool)] {
    fn vote(&self, voter_id: u64) -> Option<bool> {
        debug_assert!(self.windows(2).all(|w| w[0].0 < w[1].0));
        self.binary_search_by_key(&voter_id, |&(id, _)| id)
            .ok()
            .map(|i| self[i].1)
    }
}

impl VoteLookup for Vec<(u64, bool)> {
    fn vote(&self, voter_id: u64) -> Option<bool> {
        self.as_slice().vote(voter_id)
    }
}

impl<T: VoteLookup + ?Sized> VoteLookup for &T {
    fn vote(&self, voter_id: u64) -> Option<bool> {
        (**self).vote(voter_id)
    }
}

/// The outcome of a vote (etcd `VoteResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[allow(clippy::enum_variant_names)] // etcd's names
pub enum VoteResult {
    /// Neither the "yes" nor the "no" votes have reached a quorum yet; the
    /// outcome depends on votes still to come.
    VotePending = 1,
    /// A quorum has voted "no".
    VoteLost = 2,
    /// A quorum has voted "yes".
    VoteWon = 3,
}

impl fmt::Display for VoteResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VoteResult::VotePending => "VotePending",
            VoteResult::VoteLost => "VoteLost",
            VoteResult::VoteWon => "VoteWon",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_display_uses_infinity_for_max() {
        assert_eq!(IndexDisplay(u64::MAX).to_string(), "∞");
        assert_eq!(IndexDisplay(0).to_string(), "0");
        assert_eq!(IndexDisplay(123).to_string(), "123");
    }

    #[test]
    fn vote_result_display() {
        assert_eq!(VoteResult::VotePending.to_string(), "VotePending");
        assert_eq!(VoteResult::VoteLost.to_string(), "VoteLost");
        assert_eq!(VoteResult::VoteWon.to_string(), "VoteWon");
    }

    #[test]
    fn sorted_slice_vote_lookup() {
        let votes = vec![(1, true), (3, false), (7, true)];
        assert_eq!(votes.vote(1), Some(true));
        assert_eq!(votes.vote(3), Some(false));
        assert_eq!(votes.vote(2), None);
        assert_eq!(votes.vote(8), None);
    }
}
