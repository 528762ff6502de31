//! The parameters of a raft node (etcd `Config`) and their validation.

use crate::errors::{Error, Result};
pub use crate::read_only::ReadOnlyOption;

/// A node id meaning "nobody": no leader, no vote (etcd `None`).
pub const NONE: u64 = 0;

/// The target of `MsgStorageAppend` messages when storage writes are
/// asynchronous: the local thread that persists entries, hard state and
/// snapshots (etcd `LocalAppendThread`).
pub const LOCAL_APPEND_THREAD: u64 = u64::MAX;

/// The target of `MsgStorageApply` messages when storage writes are
/// asynchronous: the local thread that applies committed entries
/// (etcd `LocalApplyThread`).
pub const LOCAL_APPLY_THREAD: u64 = u64::MAX - 1;

pub use crate::raft_log::NO_LIMIT;

/// The parameters to start a raft node with (etcd `Config`).
///
/// Storage and logger, which etcd's `Config` also holds, are passed to
/// [`RawNode::new`](crate::RawNode::new) and [`start_node`](crate::start_node) beside it.
///
/// The default is all zeros and off, with safe reads; `validate` refuses
/// it (id 0), so start from [`Config::new`] instead.
///
/// ```
/// use etcdraft::Config;
///
/// let mut config = Config::new(1);
/// config.pre_vote = true;
/// config.check_quorum = true;
/// config.validate()?; // what RawNode::new checks too
/// assert_eq!(config.election_tick, 10);
///
/// config.heartbeat_tick = config.election_tick; // must be shorter
/// assert!(config.validate().is_err());
/// # Ok::<(), etcdraft::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// This node's id; neither 0 nor a local thread target.
    pub id: u64,
    /// Ticks without hearing from a leader before a follower campaigns;
    /// must exceed `heartbeat_tick` (10x is suggested).
    pub election_tick: usize,
    /// Ticks between a leader's heartbeats.
    pub heartbeat_tick: usize,
    /// The last applied index, when restarting: entries up to it are not
    /// handed to the application again. For a state machine that is
    /// rebuilt from the snapshot at each start, the snapshot's index (0
    /// without one): raft then hands out every committed entry after the
    /// snapshot again; for a durable state machine, what it persisted as
    /// applied. Conf changes are entries too: raft
    /// does not re-apply the skipped ones to its configuration by itself.
    /// [`restart_node`](crate::node::restart_node) does it for a `Node`;
    /// with a [`RawNode`](crate::RawNode), call
    /// [`reapply_conf_changes`](crate::restart::reapply_conf_changes).
    pub applied: u64,
    /// Whether local storage is written through `MsgStorageAppend` /
    /// `MsgStorageApply` messages instead of `Ready`/`advance`.
    pub async_storage_writes: bool,
    /// The largest byte size of the entries of one append message; 0 means
    /// at most one entry per message, [`NO_LIMIT`] means unlimited.
    pub max_size_per_msg: u64,
    /// The largest byte size of committed entries being applied at once;
    /// 0 means `max_size_per_msg`.
    pub max_committed_size_per_ready: u64,
    /// The largest aggregate payload size of a leader's uncommitted entries
    /// before proposals are dropped; 0 means no limit.
    pub max_uncommitted_entries_size: u64,
    /// The most append messages in flight to one follower while
    /// replicating optimistically; must be positive.
    pub max_inflight_msgs: usize,
    /// The most bytes of appends in flight to one follower; 0 means no
    /// limit, otherwise at least `max_size_per_msg`.
    pub max_inflight_bytes: u64,
    /// Whether a leader steps down when it has not heard from a quorum for
    /// an election timeout.
    pub check_quorum: bool,
    /// Whether elections are preceded by a pre-vote round (Raft thesis
    /// 9.6), so that a rejoining partitioned node does not disrupt the group.
    pub pre_vote: bool,
    /// How read-only requests are served; lease-based needs `check_quorum`.
    pub read_only_option: ReadOnlyOption,
    /// Whether followers drop proposals instead of forwarding them to the
    /// leader.
    pub disable_proposal_forwarding: bool,
    /// Whether proposed conf changes skip the checks against the active
    /// configuration (only for applications that validate them above raft).
    pub disable_conf_change_validation: bool,
    /// Whether a leader steps down when it is removed or demoted.
    ///
    /// Off (etcd's default), a leader that applied its own removal keeps
    /// leading: it replicates and commits what it already has, but drops
    /// every new proposal with [`Error::ProposalDropped`], and the group
    /// elects no other leader while it keeps sending heartbeats. The
    /// application must then stop the removed node (or transfer leadership
    /// away before proposing the removal). On, it steps down and the rest
    /// of the group elects a new leader.
    pub step_down_on_removal: bool,
    /// Beyond etcd, off by default: whether [`RawNode::step`] also refuses
    /// messages that no correct peer sends but that etcd steps without
    /// harm (termless peer messages and answers, messages a node cannot
    /// send itself, non-local messages from the local threads' ids).
    ///
    /// [`RawNode::step`]: crate::RawNode::step
    pub strict_peer_checks: bool,
    /// Ours, not etcd's (raft-rs has an option of this name): whether
    /// messages of one `Ready` are coalesced. A leader extends the append it
    /// already queued for a peer with newer entries and the newer commit
    /// index instead of queueing another, as far as the message size and
    /// in-flight limits allow, and a node's successive acknowledgements to
    /// one peer collapse into the last. Fewer, larger messages; off by
    /// default, which is etcd's message pattern.
    pub batch_append: bool,
    /// The seed of the randomized election timeouts. `None` (the default)
    /// draws a fresh random seed at every start, so that nodes (and a node
    /// and its restarted self) do not time out in lockstep; tests and
    /// simulations set it to make runs reproducible (the interaction
    /// harness uses the node id).
    pub election_seed: Option<u64>,
}

impl Config {
    /// A config with the given id and etcd's usual test values otherwise:
    /// election tick 10, heartbeat tick 1, 256 messages in flight,
    /// unlimited message size.
    pub fn new(id: u64) -> Config {
        Config {
            id,
            election_tick: 10,
            heartbeat_tick: 1,
            max_size_per_msg: NO_LIMIT,
            max_inflight_msgs: 256,
            ..Default::default()
        }
    }

    /// Checks the config and fills in defaults for the zero values that
    /// mean "default" (etcd `validate`). The error texts are etcd's.
    pub fn validate(&mut self) -> Result<()> {
        let invalid = |s: &str| Err(Error::ConfigInvalid(s.to_string()));
        if self.id == NONE {
            return invalid("cannot use none as id");
        }
        if self.id == LOCAL_APPEND_THREAD || self.id == LOCAL_APPLY_THREAD {
            return invalid("cannot use local target as id");
        }
        if self.heartbeat_tick == 0 {
            return invalid("heartbeat tick must be greater than 0");
        }
        if self.election_tick <= self.heartbeat_tick {
            return invalid("election tick must be greater than heartbeat tick");
        }
        if self.max_uncommitted_entries_size == 0 {
            self.max_uncommitted_entries_size = NO_LIMIT;
        }
        // The two limits used to be one parameter; keep the old behaviour
        // for configs that set only the first.
        if self.max_committed_size_per_ready == 0 {
            self.max_committed_size_per_ready = self.max_size_per_msg;
        }
        // etcd takes it and panics at the first committed entry ("applying
        // entry size (0-0)=0 not positive"): nothing could ever be applied.
        if self.max_committed_size_per_ready == 0 {
            return invalid(
                "max committed size per ready must be greater than 0 \
                 (it defaults to max size per msg, which is 0)",
            );
        }
        if self.max_inflight_msgs == 0 {
            return invalid("max inflight messages must be greater than 0");
        }
        if self.max_inflight_bytes == 0 {
            self.max_inflight_bytes = NO_LIMIT;
        } else if self.max_inflight_bytes < self.max_size_per_msg {
            return invalid("max inflight bytes must be >= max message size");
        }
        if self.read_only_option == ReadOnlyOption::LeaseBased && !self.check_quorum {
            return invalid(
                "CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(c: &mut Config) -> String {
        c.validate().unwrap_err().to_string()
    }

    #[test]
    fn validate_errors_and_defaults() {
        assert_eq!(err(&mut Config::new(0)), "cannot use none as id");
        assert_eq!(
            err(&mut Config::new(u64::MAX)),
            "cannot use local target as id"
        );
        assert_eq!(
            err(&mut Config::new(u64::MAX - 1)),
            "cannot use local target as id"
        );
        let mut c = Config::new(1);
        c.heartbeat_tick = 0;
        assert_eq!(err(&mut c), "heartbeat tick must be greater than 0");
        let mut c = Config::new(1);
        c.election_tick = 1;
        assert_eq!(
            err(&mut c),
            "election tick must be greater than heartbeat tick"
        );
        let mut c = Config::new(1);
        c.max_inflight_msgs = 0;
        assert_eq!(err(&mut c), "max inflight messages must be greater than 0");
        let mut c = Config::new(1);
        c.max_size_per_msg = 100;
        c.max_inflight_bytes = 99;
        assert_eq!(
            err(&mut c),
            "max inflight bytes must be >= max message size"
        );
        let mut c = Config::new(1);
        c.max_size_per_msg = 0;
        assert_eq!(
            err(&mut c),
            "max committed size per ready must be greater than 0 \
             (it defaults to max size per msg, which is 0)"
        );
        // One entry per message stays possible with a positive apply limit.
        c.max_committed_size_per_ready = 1;
        c.validate().unwrap();
        let mut c = Config::new(1);
        c.read_only_option = ReadOnlyOption::LeaseBased;
        assert_eq!(
            err(&mut c),
            "CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased"
        );

        let mut c = Config::new(1);
        c.max_size_per_msg = 1024;
        c.validate().unwrap();
        assert_eq!(c.max_uncommitted_entries_size, NO_LIMIT);
        assert_eq!(c.max_committed_size_per_ready, 1024);
        assert_eq!(c.max_inflight_bytes, NO_LIMIT);
    }
}
