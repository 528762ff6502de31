//! The leader's view of the group: the active configuration and every
//! peer's [`Progress`] (etcd `tracker`).

mod inflights;
mod progress;
mod state;

pub use inflights::{InflightLimits, Inflights};
pub use progress::{Progress, ProgressMap};
pub use state::StateType;

use crate::lazy_vec::LazyVec;
use std::fmt;

use crate::eraftpb::ConfState;
use crate::quorum::{quorum_index, STACK_VOTERS};
use crate::quorum::{JointConfig, MajorityConfig, VoteLookup, VoteResult};

/// The configuration a [`ProgressTracker`] tracks (etcd `tracker.Config`).
///
/// Invariant: learners and voters (of either half) never overlap, so a
/// peer's role is always clear without considering joint consensus.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The voters: incoming config in `voters[0]`, outgoing in `voters[1]`
    /// (empty unless joint).
    pub voters: JointConfig,
    /// Whether raft leaves the joint config by itself as soon as it can;
    /// otherwise the application must ask. Only meaningful while joint.
    pub auto_leave: bool,
    /// The learners of the configuration.
    pub learners: MajorityConfig,
    /// Voters of the outgoing config that become learners when the joint
    /// config is left.
    ///
    /// Demoting a voter while entering a joint config cannot make it a
    /// learner right away, because it is still a voter in the outgoing half
    /// and learners must not overlap voters; it waits here instead. A new
    /// learner that is not an outgoing voter is added to `learners`
    /// directly, so that it starts catching up at once.
    pub learners_next: MajorityConfig,
}

/// etcd's `Config.String()`, e.g.
/// `voters=(1 2)&&(1) learners=(4) learners_next=(3) autoleave`.
///
/// etcd prints `learners=`/`learners_next=` whenever its map is non-nil; its
/// conf change code keeps empty maps nil, so here they print when non-empty.
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "voters={}", self.voters)?;
        if !self.learners.is_empty() {
            write!(f, " learners={}", self.learners)?;
        }
        if !self.learners_next.is_empty() {
            write!(f, " learners_next={}", self.learners_next)?;
        }
        if self.auto_leave {
            f.write_str(" autoleave")?;
        }
        Ok(())
    }
}

/// The active configuration and what is known about each peer in it; in
/// particular the match indexes, from which the commit index follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgressTracker {
    /// The active configuration.
    pub config: Config,
    /// The progress of every voter and learner.
    pub progress: ProgressMap,
    /// Votes received in the current election, as `(id, granted)` sorted by
    /// id. Use [`record_vote`](ProgressTracker::record_vote) to add to it.
    pub votes: LazyVec<(u64, bool)>,
    /// The limits of every peer's in-flight window (etcd `MaxInflight`,
    /// `MaxInflightBytes`), kept here once rather than in each window.
    pub inflight_limits: InflightLimits,
}

/// Reports as votes whether each voter was recently active, so that the vote
/// arithmetic answers "is a quorum active?".
struct RecentActive<'a>(&'a ProgressMap);

impl VoteLookup for RecentActive<'_> {
    fn vote(&self, voter_id: u64) -> Option<bool> {
        self.0
            .get(voter_id)
            .filter(|pr| !pr.is_learner)
            .map(|pr| pr.recent_active)
    }
}

impl ProgressTracker {
    /// A tracker with an empty configuration whose peers' windows allow
    /// `max_inflight` appends and `max_bytes` bytes (0: unlimited) in flight
    /// (etcd `MakeProgressTracker`).
    pub fn new(max_inflight: usize, max_bytes: u64) -> ProgressTracker {
        ProgressTracker {
            config: Config::default(),
            progress: ProgressMap::new(),
            votes: LazyVec::new(),
            inflight_limits: InflightLimits::new(max_inflight, max_bytes),
        }
    }

    /// The active configuration as a [`ConfState`].
    pub fn conf_state(&self) -> ConfState {
        ConfState {
            voters: self.config.voters[0].slice(),
            voters_outgoing: self.config.voters[1].slice(),
            learners: self.config.learners.slice(),
            learners_next: self.config.learners_next.slice(),
            auto_leave: self.config.auto_leave,
        }
    }

    /// Whether the configuration has exactly one voter (and is not joint).
    pub fn is_singleton(&self) -> bool {
        self.config.voters[0].len() == 1 && self.config.voters[1].is_empty()
    }

    /// The largest index known to be committed, from the voters' match
    /// indexes.
    pub fn committed(&self) -> u64 {
        let n = self.progress.len();
        if n == self.config.voters[0].len()
            && (1..=STACK_VOTERS).contains(&n)
            && self.config.voters[1].is_empty()
            && self.config.learners.is_empty()
        {
            // The usual configuration: every tracked peer is a voter of the
            // one majority (progress holds exactly voters and learners), so
            // the match indexes are read in one pass over the map instead
            // of one lookup per voter.
            let mut stack = [0u64; STACK_VOTERS];
            let acked = &mut stack[..n];
            for (slot, (_, pr)) in acked.iter_mut().zip(self.progress.iter()) {
                *slot = pr.matched;
            }
            return quorum_index(acked);
        }
        self.config.voters.committed_index(&self.progress)
    }

    /// Calls `f` on every tracked progress, in ascending id order.
    pub fn visit(&mut self, mut f: impl FnMut(u64, &mut Progress)) {
        for (id, pr) in self.progress.iter_mut() {
            f(id, pr);
        }
    }

    /// Whether a quorum of voters was recently active, as seen by this
    /// (leader) node.
    pub fn quorum_active(&self) -> bool {
        self.config
            .voters
            .vote_result(&RecentActive(&self.progress))
            == VoteResult::VoteWon
    }

    /// The voters of both halves, sorted.
    pub fn voter_nodes(&self) -> Vec<u64> {
        self.config.voters.ids().slice()
    }

    /// The learners, sorted.
    pub fn learner_nodes(&self) -> Vec<u64> {
        self.config.learners.slice()
    }

    /// Forgets all votes, for a new election.
    pub fn reset_votes(&mut self) {
        // Released, not cleared: votes are only counted during an election,
        // and a leader or follower keeps its node for a long time.
        self.votes.release();
    }

    /// Records `id`'s vote (`true`: granted). Only the first vote of a peer
    /// counts.
    pub fn record_vote(&mut self, id: u64, granted: bool) {
        if let Err(pos) = self.votes.binary_search_by_key(&id, |&(k, _)| k) {
            self.votes.vec_mut().insert(pos, (id, granted));
        }
    }

    /// The granted and rejected votes of tracked voters, and the election's
    /// outcome.
    pub fn tally_votes(&self) -> (usize, usize, VoteResult) {
        // Votes from peers no longer (or never) tracked as voters are not
        // counted; the numbers are informational, but should be right.
        let mut granted = 0;
        let mut rejected = 0;
        for (id, pr) in self.progress.iter() {
            if pr.is_learner {
                continue;
            }
            match self.votes.vote(id) {
                Some(true) => granted += 1,
                Some(false) => rejected += 1,
                None => {}
            }
        }
        (granted, rejected, self.vote_result())
    }

    /// The outcome of the election given the votes recorded so far.
    pub fn vote_result(&self) -> VoteResult {
        self.config.voters.vote_result(&self.votes[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(voters: &[u64], outgoing: &[u64], learners: &[u64]) -> ProgressTracker {
        let mut t = ProgressTracker::new(256, 0);
        t.config.voters = JointConfig::new(voters.into(), outgoing.into());
        t.config.learners = learners.into();
        for id in t.config.voters.ids().iter().chain(learners.iter().copied()) {
            let mut pr = Progress::new(1);
            pr.is_learner = learners.contains(&id);
            t.progress.insert(id, pr);
        }
        t
    }

    #[test]
    fn committed_agrees_with_the_joint_quorum_computation() {
        // The one-pass path (all tracked peers are voters of one majority)
        // and the general one must agree; shapes that take the general
        // path (learners, joint, more voters than the stack holds) too.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % 20
        };
        let shapes: [(&[u64], &[u64], &[u64]); 6] = [
            (&[1], &[], &[]),
            (&[1, 2, 3], &[], &[]),
            (&[1, 2, 3, 4, 5, 6, 7], &[], &[]),
            (&[1, 2, 3, 4, 5, 6, 7, 8, 9], &[], &[]),
            (&[1, 2, 3], &[], &[4]),
            (&[1, 2, 3], &[2, 3, 4], &[]),
        ];
        for (voters, outgoing, learners) in shapes {
            let mut t = tracker(voters, outgoing, learners);
            for _ in 0..200 {
                for (_, pr) in t.progress.iter_mut() {
                    pr.matched = next();
                }
                assert_eq!(
                    t.committed(),
                    t.config.voters.committed_index(&t.progress),
                    "{voters:?} {outgoing:?} {learners:?}"
                );
            }
        }
    }

    #[test]
    fn config_display() {
        let mut c = Config::default();
        assert_eq!(c.to_string(), "voters=()");
        c.voters = JointConfig::new([1, 2].as_slice().into(), [1].as_slice().into());
        c.learners_next = [3].as_slice().into();
        c.auto_leave = true;
        assert_eq!(
            c.to_string(),
            "voters=(1 2)&&(1) learners_next=(3) autoleave"
        );
        c.learners = [4, 5].as_slice().into();
        assert_eq!(
            c.to_string(),
            "voters=(1 2)&&(1) learners=(4 5) learners_next=(3) autoleave"
        );
    }

    #[test]
    fn conf_state_and_node_lists() {
        let mut t = tracker(&[3, 1], &[2, 1], &[5, 4]);
        t.config.learners_next = [6].as_slice().into();
        t.config.auto_leave = true;
        let cs = t.conf_state();
        assert_eq!(cs.voters, vec![1, 3]);
        assert_eq!(cs.voters_outgoing, vec![1, 2]);
        assert_eq!(cs.learners, vec![4, 5]);
        assert_eq!(cs.learners_next, vec![6]);
        assert!(cs.auto_leave);
        assert_eq!(t.voter_nodes(), vec![1, 2, 3]);
        assert_eq!(t.learner_nodes(), vec![4, 5]);
        assert!(tracker(&[1], &[], &[]).learner_nodes().is_empty());
    }

    #[test]
    fn is_singleton() {
        assert!(tracker(&[1], &[], &[2]).is_singleton());
        assert!(!tracker(&[1, 2], &[], &[]).is_singleton());
        assert!(!tracker(&[1], &[1], &[]).is_singleton());
        assert!(!tracker(&[], &[], &[]).is_singleton());
    }

    #[test]
    fn committed_uses_voter_matches_only() {
        let mut t = tracker(&[1, 2, 3], &[], &[4]);
        for (id, m) in [(1, 10), (2, 8), (3, 2), (4, 100)] {
            t.progress.get_mut(id).unwrap().matched = m;
        }
        assert_eq!(t.committed(), 8);
        // Joint: (1 2 3)&&(3 4 5) would need the outgoing half too.
        let mut t = tracker(&[1, 2, 3], &[3, 5, 6], &[]);
        for (id, m) in [(1, 10), (2, 8), (3, 2), (5, 4), (6, 7)] {
            t.progress.get_mut(id).unwrap().matched = m;
        }
        assert_eq!(t.committed(), 4);
    }

    #[test]
    fn visit_is_sorted_and_mutable() {
        let mut t = tracker(&[5, 1, 3], &[], &[2]);
        let mut seen = vec![];
        t.visit(|id, pr| {
            seen.push(id);
            pr.matched = id * 10;
        });
        assert_eq!(seen, vec![1, 2, 3, 5]);
        assert_eq!(t.progress.get(5).unwrap().matched, 50);
    }

    #[test]
    fn quorum_active_ignores_learners() {
        let mut t = tracker(&[1, 2, 3], &[], &[4, 5]);
        t.visit(|id, pr| pr.recent_active = id == 1 || id >= 4);
        assert!(!t.quorum_active());
        t.progress.get_mut(2).unwrap().recent_active = true;
        assert!(t.quorum_active());
        // Joint: the outgoing half must be active too.
        let mut t = tracker(&[1, 2, 3], &[4, 5, 6], &[]);
        t.visit(|id, pr| pr.recent_active = id <= 4);
        assert!(!t.quorum_active());
        t.progress.get_mut(5).unwrap().recent_active = true;
        assert!(t.quorum_active());
    }

    #[test]
    fn votes_first_one_counts() {
        let mut t = tracker(&[1, 2, 3, 4, 5], &[], &[6]);
        t.record_vote(1, true);
        t.record_vote(1, false);
        t.record_vote(3, false);
        t.record_vote(6, true); // a learner: not counted
        t.record_vote(9, true); // unknown: not counted
        assert_eq!(t.tally_votes(), (1, 1, VoteResult::VotePending));
        t.record_vote(2, true);
        t.record_vote(4, true);
        assert_eq!(t.tally_votes(), (3, 1, VoteResult::VoteWon));
        t.reset_votes();
        assert!(t.votes.is_empty());
        for id in [1, 2, 3] {
            t.record_vote(id, false);
        }
        assert_eq!(t.tally_votes(), (0, 3, VoteResult::VoteLost));
        assert_eq!(t.vote_result(), VoteResult::VoteLost);
    }

    #[test]
    fn new_tracker_is_empty() {
        let t = ProgressTracker::new(7, 99);
        assert_eq!(t.inflight_limits, InflightLimits::new(7, 99));
        assert!(t.progress.is_empty());
        assert_eq!(t.config.to_string(), "voters=()");
        assert_eq!(t.committed(), u64::MAX);
    }
}
