//! Snapshots of a node's state for the application and operators (etcd
//! `Status` and `BasicStatus`).

use std::fmt;
use std::ops::Deref;

use crate::eraftpb::HardState;
use crate::raft::{Raft, SoftState, StateRole};
use crate::storage::Storage;
use crate::tracker::{Config, InflightLimits, ProgressMap};

/// The node's own state, without the per-peer progress (etcd
/// `BasicStatus`). Cheap: it does not allocate.
///
/// ```
/// use etcdraft::prelude::*;
///
/// let storage = MemStorage::new_with_conf_state(ConfState { voters: vec![1], ..Default::default() });
/// let mut node = RawNode::new(&Config::new(1), storage, &discard_logger())?;
/// let st = node.basic_status(); // cheap: no per-peer progress
/// assert_eq!((st.id, st.term(), st.lead(), st.raft_state()), (1, 0, 0, StateRole::Follower));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive] // etcd adds fields to its status
pub struct BasicStatus {
    /// The node's id.
    pub id: u64,
    /// Term, vote and commit index.
    pub hard_state: HardState,
    /// Leader and role.
    pub soft_state: SoftState,
    /// The highest index applied to the state machine.
    pub applied: u64,
    /// The target of a leadership transfer in progress, or 0.
    pub lead_transferee: u64,
}

impl BasicStatus {
    /// The status of `r` (etcd `getBasicStatus`).
    pub fn new<S: Storage>(r: &Raft<S>) -> BasicStatus {
        BasicStatus {
            id: r.id,
            hard_state: r.hard_state(),
            soft_state: r.soft_state(),
            applied: r.raft_log.applied,
            lead_transferee: r.lead_transferee,
        }
    }

    /// The current term.
    #[inline]
    pub fn term(&self) -> u64 {
        self.hard_state.term
    }

    /// The vote cast in the current term, or 0.
    #[inline]
    pub fn vote(&self) -> u64 {
        self.hard_state.vote
    }

    /// The commit index.
    #[inline]
    pub fn commit(&self) -> u64 {
        self.hard_state.commit
    }

    /// The known leader, or 0.
    #[inline]
    pub fn lead(&self) -> u64 {
        self.soft_state.lead
    }

    /// The node's role.
    #[inline]
    pub fn raft_state(&self) -> StateRole {
        self.soft_state.raft_state
    }
}

/// The node's state and its view of the group (etcd `Status`): the active
/// configuration and, on the leader only, every peer's progress.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive] // etcd adds fields to its status
pub struct Status {
    /// The node's own state.
    pub basic: BasicStatus,
    /// The active configuration.
    pub config: Config,
    /// Every peer's progress, in id order; empty unless the node leads.
    pub progress: ProgressMap,
    /// The limits of the in-flight windows in `progress` (which, the same
    /// for every peer, the windows do not carry), e.g. to print them with
    /// [`ProgressMap::display`].
    pub inflight_limits: InflightLimits,
}

impl Status {
    /// The status of `r` (etcd `getStatus`). Copies the progress map, in-flight
    /// windows included, when `r` leads.
    pub fn new<S: Storage>(r: &Raft<S>) -> Status {
        let basic = BasicStatus::new(r);
        let progress = if basic.raft_state() == StateRole::Leader {
            r.trk.progress.clone()
        } else {
            ProgressMap::new()
        };
        Status {
            basic,
            config: r.trk.config.clone(),
            progress,
            inflight_limits: r.trk.inflight_limits,
        }
    }
}

impl Deref for Status {
    type Target = BasicStatus;

    fn deref(&self) -> &BasicStatus {
        &self.basic
    }
}

/// etcd's `Status.MarshalJSON` (also its `String`): ids in hex, e.g.
/// `{"id":"1","term":2,"vote":"1","commit":5,"lead":"1","raftState":"StateLeader",
/// "applied":5,"progress":{"1":{"match":5,"next":6,"state":"StateReplicate"}},"leadtransferee":"0"}`.
/// Progress entries come in ascending id order (etcd's follow Go's map order).
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.basic;
        write!(
            f,
            r#"{{"id":"{:x}","term":{},"vote":"{:x}","commit":{},"lead":"{:x}","raftState":"{}","applied":{},"progress":{{"#,
            b.id,
            b.term(),
            b.vote(),
            b.commit(),
            b.lead(),
            b.raft_state(),
            b.applied
        )?;
        for (i, (id, pr)) in self.progress.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(
                f,
                r#""{:x}":{{"match":{},"next":{},"state":"{}"}}"#,
                id, pr.matched, pr.next, pr.state
            )?;
        }
        write!(f, r#"}},"leadtransferee":"{:x}"}}"#, b.lead_transferee)
    }
}
