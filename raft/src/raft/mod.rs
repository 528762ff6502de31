//! The raft state machine (etcd `raft.go`).
//!
//! [`Raft`] is sans-IO: [`Raft::step`] takes a message, [`Raft::tick`]
//! advances the logical clock, and the effects accumulate in `msgs`,
//! `msgs_after_append`, `read_states` and the log, for
//! [`RawNode`](crate::raw_node) to hand to the application.
//!
//! The code is split by concept, each file readable next to etcd's:
//! - this file: the struct, construction, sending and small helpers;
//! - `election`: ticks, role transitions, campaigns and votes;
//! - `replication`: appends, heartbeats, snapshots and the follower side;
//! - `step`: message dispatch for every role;
//! - `conf_change`: applying configuration changes;
//! - `read_index`: read-index requests.

mod conf_change;
mod election;
mod read_index;
mod replication;
mod step;

use std::fmt;

use slog::Logger;

use crate::confchange::{self, Changer};
use crate::config::Config;
use crate::eraftpb::{ConfState, HardState, Message, MessageType};
use crate::errors::{Error, Result};
use crate::lazy_vec::LazyVec;
use crate::raft_log::RaftLog;
use crate::read_only::{ReadOnly, ReadOnlyOption, ReadState};
use crate::storage::Storage;
use crate::tracker::ProgressTracker;

pub use crate::config::{LOCAL_APPEND_THREAD, LOCAL_APPLY_THREAD, NONE, NO_LIMIT};

/// The role of a node in the group (etcd `StateType`).
///
/// ```
/// use etcdraft::prelude::*;
///
/// # let storage = MemStorage::new_with_conf_state(ConfState { voters: vec![1], ..Default::default() });
/// # let node = RawNode::new(&Config::new(1), storage, &discard_logger())?;
/// let role = node.status().raft_state();
/// let serves_writes = role == StateRole::Leader;
/// assert!(!serves_writes);
/// assert_eq!(role.to_string(), "StateFollower"); // etcd's names
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StateRole {
    /// Follows a leader (or waits for one).
    #[default]
    Follower,
    /// Campaigns for leadership in a new term.
    Candidate,
    /// Leads the group for its term.
    Leader,
    /// Checks with a pre-vote whether a campaign could succeed, without
    /// changing its term.
    PreCandidate,
}

/// etcd's names: `StateFollower`, `StateCandidate`, `StateLeader`,
/// `StatePreCandidate`.
impl fmt::Display for StateRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateRole::Follower => "StateFollower",
            StateRole::Candidate => "StateCandidate",
            StateRole::Leader => "StateLeader",
            StateRole::PreCandidate => "StatePreCandidate",
        })
    }
}

/// Volatile state worth reporting but not persisting (etcd `SoftState`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftState {
    /// The known leader, or [`NONE`].
    pub lead: u64,
    /// This node's role.
    pub raft_state: StateRole,
}

/// The kind of a campaign (etcd `CampaignType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CampaignType {
    /// The pre-vote phase of an election (with `pre_vote`).
    PreElection,
    /// A normal, time-based election (or its second phase).
    Election,
    /// An election forced by a leadership transfer.
    Transfer,
}

impl CampaignType {
    /// etcd's string value, which a transfer campaign also sends as the vote
    /// request's context.
    pub const fn as_str(self) -> &'static str {
        match self {
            CampaignType::PreElection => "CampaignPreElection",
            CampaignType::Election => "CampaignElection",
            CampaignType::Transfer => "CampaignTransfer",
        }
    }
}

/// The context of a vote request that comes from a leadership transfer;
/// such requests override the leader lease.
pub(crate) const CAMPAIGN_TRANSFER: &[u8] = CampaignType::Transfer.as_str().as_bytes();

/// A small deterministic PRNG (splitmix64) for the randomized election
/// timeout, seeded from `Config::election_seed` (random when unset), so
/// that a run with a fixed seed is reproducible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElectionRng(u64);

impl ElectionRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> ElectionRng {
        ElectionRng(seed)
    }

    /// A number in `[0, n)`; 0 when `n` is 0.
    pub fn gen_below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        if n == 0 {
            0
        } else {
            (z % n as u64) as usize
        }
    }
}

/// A seed for the election timeouts that differs at every call (and from
/// process to process): std's per-instance random hashing keys, so that no
/// dependency is needed.
fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64)
}

/// One raft node's state machine (etcd `raft`).
///
/// All fields are public so that `RawNode`, status reporting and tests can
/// reach them; mutate them only as etcd's code would.
// `repr(C)` and this field order keep what every tick, heartbeat and
// `has_ready` reads together at the front (the timers, the message queues,
// the role and flags, then the log's pointers), so that an idle node costs
// a few cache lines per tick, not one per field scattered over its ~800
// bytes; a process hosting many groups touches them all every tick.
#[repr(C)]
pub struct Raft<S: Storage> {
    /// This node's id.
    pub id: u64,
    /// The current term.
    pub term: u64,
    /// The node voted for in the current term, or [`NONE`].
    pub vote: u64,
    /// The leader's id, or [`NONE`].
    pub lead: u64,
    /// The target of a leadership transfer in progress, or [`NONE`]
    /// (Raft thesis 3.10).
    pub lead_transferee: u64,
    /// Ticks since the last election timeout (leader, candidate) or since
    /// the last valid message from the leader (follower).
    pub election_elapsed: usize,
    /// Ticks since the last heartbeat timeout (leader only).
    pub heartbeat_elapsed: usize,
    /// Ticks between heartbeats.
    pub heartbeat_timeout: usize,
    /// The base election timeout, in ticks.
    pub election_timeout: usize,
    /// The current election timeout, in `[election_timeout,
    /// 2*election_timeout - 1]`; re-drawn by every [`reset`](Raft::reset),
    /// i.e. on becoming follower, candidate or leader (not pre-candidate).
    pub randomized_election_timeout: usize,
    /// Messages to send right away; they target other nodes.
    pub msgs: Vec<Message>,
    /// Messages to send only once the unstable state they depend on (term,
    /// vote, entries, snapshot) is durable: `MsgAppResp`, `MsgVoteResp`,
    /// `MsgPreVoteResp`, possibly to this node itself.
    pub msgs_after_append: Vec<Message>,
    /// Answers to read-index requests, for the next `Ready`.
    pub read_states: LazyVec<ReadState>,
    /// The read-index machinery.
    pub read_only: ReadOnly,
    /// This node's role.
    pub state: StateRole,
    /// Whether the leader steps down without an active quorum.
    pub check_quorum: bool,
    /// Whether elections start with a pre-vote.
    pub pre_vote: bool,
    /// Whether this node is a learner in the active configuration.
    pub is_learner: bool,
    /// Whether appends and acknowledgements of one Ready are coalesced
    /// ([`Config::batch_append`]).
    pub batch_append: bool,
    /// Whether `RawNode::step` refuses what no correct peer sends
    /// ([`Config::strict_peer_checks`]).
    pub strict_peer_checks: bool,
    /// Whether followers drop proposals instead of forwarding them.
    pub disable_proposal_forwarding: bool,
    /// Whether a removed or demoted leader steps down.
    pub step_down_on_removal: bool,
    /// The log.
    pub raft_log: RaftLog<S>,
    /// The configuration and, on the leader, every peer's progress.
    pub trk: ProgressTracker,
    /// The largest byte size of the entries of one append message.
    pub max_msg_size: u64,
    /// The largest aggregate payload size of uncommitted entries.
    pub max_uncommitted_size: u64,
    /// An index at or above the latest conf change in the log; a new conf
    /// change is only proposed once the applied index passes it, so that at
    /// most one is pending.
    pub pending_conf_index: u64,
    /// An estimate of the payload size of the uncommitted log tail (leader
    /// only; reset on term change), to bound log growth.
    pub uncommitted_size: u64,
    /// The index of the newest snapshot whose configuration this node
    /// switched to when restoring it (0: none yet). Committed conf changes
    /// at or below it are superseded: the configuration already includes
    /// them and whatever came after them up to the snapshot.
    pub conf_restored_at: u64,
    /// The generator of randomized election timeouts.
    pub rng: ElectionRng,
    /// Read-index requests that arrived before this leader committed an
    /// entry of its term; answered once it has.
    pub pending_read_index_messages: LazyVec<Message>,
    /// With `batch_append`, the appends queued in `msgs` that later appends
    /// to the same peer may extend; see [`PendingApp`].
    pub(crate) pending_apps: LazyVec<PendingApp>,
    /// Whether proposed conf changes skip validation against the active
    /// configuration.
    pub disable_conf_change_validation: bool,
    /// How read-index requests are served (etcd `readOnly.option`).
    pub read_only_option: ReadOnlyOption,
    /// Whether a leader's acknowledgements of its own consecutive appends
    /// share one queued message (see `Raft::extend_own_ack_run`); set by
    /// `RawNode` without async storage writes, where they never leave the
    /// node. Last, in the struct's tail padding: no byte more per node.
    pub(crate) own_ack_runs: bool,
}

/// An append in `msgs` that is still open for more entries (batch_append).
///
/// A cache, checked before each use: `msgs` may have been handed out since
/// it was recorded, so the message at `pos` must still be an append to
/// `to` that ends where the peer's progress says the next entry goes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PendingApp {
    /// The peer.
    pub to: u64,
    /// Where the append is in `msgs`.
    pub pos: usize,
    /// The encoded size of its entries (kept only under a size limit).
    pub size: u64,
}

// etcd's `logger.Panicf`, shared with the log (one definition).
pub(crate) use crate::log_unstable::fatal;

impl<S: Storage> Raft<S> {
    /// A node as configured by `c`, reading its initial state from `store`
    /// (etcd `newRaft`). Fails if the config is invalid or the stored state
    /// is inconsistent.
    pub fn new(c: &Config, store: S, logger: &Logger) -> Result<Raft<S>> {
        let mut c = c.clone();
        c.validate()?;
        // One logger per node, the log's (see `logger`).
        let raft_log = RaftLog::new_log_with_size(store, logger, c.max_committed_size_per_ready);
        let (hs, cs) = raft_log.storage.initial_state()?;

        let mut r = Raft {
            id: c.id,
            term: 0,
            vote: NONE,
            read_states: LazyVec::new(),
            raft_log,
            max_msg_size: c.max_size_per_msg,
            max_uncommitted_size: c.max_uncommitted_entries_size,
            trk: ProgressTracker::new(c.max_inflight_msgs, c.max_inflight_bytes),
            state: StateRole::Follower,
            is_learner: false,
            msgs: Vec::new(),
            msgs_after_append: Vec::new(),
            lead: NONE,
            lead_transferee: NONE,
            pending_conf_index: 0,
            disable_conf_change_validation: c.disable_conf_change_validation,
            uncommitted_size: 0,
            read_only: ReadOnly::new(),
            read_only_option: c.read_only_option,
            election_elapsed: 0,
            heartbeat_elapsed: 0,
            check_quorum: c.check_quorum,
            pre_vote: c.pre_vote,
            heartbeat_timeout: c.heartbeat_tick,
            election_timeout: c.election_tick,
            randomized_election_timeout: 0,
            disable_proposal_forwarding: c.disable_proposal_forwarding,
            step_down_on_removal: c.step_down_on_removal,
            strict_peer_checks: c.strict_peer_checks,
            pending_read_index_messages: LazyVec::new(),
            rng: ElectionRng::new(c.election_seed.unwrap_or_else(random_seed)),
            conf_restored_at: 0,
            batch_append: c.batch_append,
            pending_apps: LazyVec::new(),
            own_ack_runs: false,
        };

        let last_id = r.raft_log.last_entry_id();
        // The stored configuration comes from the application's storage:
        // a bad one is reported, not panicked on.
        let (cfg, progress) = restore_conf_state(&r.trk, last_id.index, &cs)?;
        // restore_conf_state made sure that this configuration is `cs`
        // (etcd asserts it here), so the conf state returned is not needed.
        r.switch_to_config(cfg, progress);

        if !hs.is_empty() {
            r.load_state(&hs)?;
        }
        if c.applied > 0 {
            // The applied index comes from the application: refuse one the
            // log cannot have applied rather than panic (etcd panics).
            let (prev, committed) = (r.raft_log.applied, r.raft_log.committed);
            if c.applied < prev || c.applied > committed {
                return Err(Error::ConfigInvalid(format!(
                    "applied({}) is out of range [prevApplied({}), committed({})]",
                    c.applied, prev, committed
                )));
            }
            r.raft_log.applied_to(c.applied, 0);
        }
        r.become_follower(r.term, NONE);

        let peers = r
            .trk
            .voter_nodes()
            .iter()
            .map(|id| format!("{id:x}"))
            .collect::<Vec<_>>()
            .join(",");
        slog::info!(
            r.raft_log.logger,
            "newRaft {:x} [peers: [{}], term: {}, commit: {}, applied: {}, lastindex: {}, lastterm: {}]",
            r.id,
            peers,
            r.term,
            r.raft_log.committed,
            r.raft_log.applied,
            last_id.index,
            last_id.term
        );
        Ok(r)
    }

    /// The logger; texts and levels are etcd's. The node keeps one, in its
    /// log (a logger is 32 bytes, and a copy per layer would cost every
    /// node of a process hosting many groups).
    #[inline]
    pub fn logger(&self) -> &Logger {
        &self.raft_log.logger
    }

    /// Whether a leader is known.
    pub fn has_leader(&self) -> bool {
        self.lead != NONE
    }

    /// The current soft state.
    pub fn soft_state(&self) -> SoftState {
        SoftState {
            lead: self.lead,
            raft_state: self.state,
        }
    }

    /// The current hard state.
    pub fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
            commit: self.raft_log.committed,
        }
    }

    /// Queues `m` for sending (etcd `send`): responses that vote on
    /// elections or appends wait in `msgs_after_append` until the state they
    /// depend on is durable; everything else goes to `msgs`. Fills in `from`
    /// and, except for proposals and read-index requests, the term.
    #[inline(always)]
    pub fn send(&mut self, mut m: Message) {
        // Small enough to inline into the many callers, which then build the
        // message where it is pushed instead of copying it (160 bytes) into
        // this call; the invariant failures are out of line.
        if m.from == NONE {
            m.from = self.id;
        }
        let t = m.get_type();
        if matches!(
            t,
            MessageType::MsgVote
                | MessageType::MsgVoteResp
                | MessageType::MsgPreVote
                | MessageType::MsgPreVoteResp
        ) {
            // Campaign messages carry the term they are about, which the
            // caller knows and which may differ from ours (pre-votes).
            if m.term == 0 {
                self.send_fatal_no_term(t);
            }
        } else {
            if m.term != 0 {
                self.send_fatal_term_set(t, m.term);
            }
            // Proposals and read-index requests are forwarded to the leader
            // like local messages, so they carry no term.
            if t != MessageType::MsgProp && t != MessageType::MsgReadIndex {
                m.term = self.term;
            }
        }
        if matches!(
            t,
            MessageType::MsgAppResp | MessageType::MsgVoteResp | MessageType::MsgPreVoteResp
        ) {
            // A vote or an append acknowledgement must not leave this node
            // before the vote or entries are durable (Raft thesis 3.8);
            // rejections wait too, erring on the side of safety.
            if self.batch_append && t == MessageType::MsgAppResp && self.coalesce_ack(&m) {
                return;
            }
            self.msgs_after_append.push(m);
        } else {
            if m.to == self.id {
                self.send_fatal_self_addressed(t);
            }
            self.msgs.push(m);
        }
    }

    /// Gives `msgs` room for `n` messages if it has no buffer yet, as in an
    /// idle group's heartbeats: RawNode leaves a small queue without a
    /// buffer between Readys (idle nodes hold none), and a kept small one
    /// (see [`buffers`](crate::buffers)) costs less than the first push's
    /// allocation, and its free once the messages are sent.
    #[inline]
    pub(crate) fn reserve_msgs(&mut self, n: usize) {
        if self.msgs.capacity() == 0 {
            self.msgs = crate::buffers::small_messages_vec(n);
        }
    }

    // batch_append: an acceptance that directly follows an acceptance to
    // the same peer in the same term replaces it. The later one acks a
    // longer prefix of the same log (or the same), which is all the peer
    // learns from both; rejections are never merged, as each carries its
    // own hint.
    #[inline(never)]
    fn coalesce_ack(&mut self, m: &Message) -> bool {
        if m.reject {
            return false;
        }
        match self.msgs_after_append.last_mut() {
            Some(last)
                if last.get_type() == MessageType::MsgAppResp
                    && last.to == m.to
                    && last.term == m.term
                    && !last.reject =>
            {
                last.index = last.index.max(m.index);
                true
            }
            _ => false,
        }
    }

    #[cold]
    #[inline(never)]
    fn send_fatal_no_term(&self, t: MessageType) -> ! {
        fatal!(self.raft_log.logger, "term should be set when sending {:?}", t)
    }

    #[cold]
    #[inline(never)]
    fn send_fatal_term_set(&self, t: MessageType, term: u64) -> ! {
        fatal!(
            self.raft_log.logger,
            "term should not be set when sending {:?} (was {})",
            t,
            term
        )
    }

    #[cold]
    #[inline(never)]
    fn send_fatal_self_addressed(&self, t: MessageType) -> ! {
        fatal!(
            self.raft_log.logger,
            "message should not be self-addressed when sending {:?}",
            t
        )
    }

    /// Installs `hs` read from storage (etcd `loadState`); fails if its
    /// commit index is outside the log.
    pub fn load_state(&mut self, hs: &HardState) -> Result<()> {
        if hs.commit < self.raft_log.committed || hs.commit > self.raft_log.last_index() {
            let msg = format!(
                "{:x} state.commit {} is out of range [{}, {}]",
                self.id,
                hs.commit,
                self.raft_log.committed,
                self.raft_log.last_index()
            );
            slog::crit!(self.raft_log.logger, "{}", msg);
            return Err(Error::ConfigInvalid(msg));
        }
        self.raft_log.committed = hs.commit;
        self.term = hs.term;
        self.vote = hs.vote;
        Ok(())
    }

    /// Sets the randomized election timeout directly, for tests and the
    /// interaction harness; reset again on the next role change.
    pub fn set_randomized_election_timeout(&mut self, v: usize) {
        self.randomized_election_timeout = v;
    }

    /// Whether the election timeout has passed (etcd `pastElectionTimeout`).
    pub fn past_election_timeout(&self) -> bool {
        self.election_elapsed >= self.randomized_election_timeout
    }

    /// Draws a new election timeout in `[election_timeout,
    /// 2*election_timeout - 1]`.
    pub fn reset_randomized_election_timeout(&mut self) {
        self.randomized_election_timeout =
            self.election_timeout + self.rng.gen_below(self.election_timeout);
    }

    /// Ends a leadership transfer in progress, if any.
    pub fn abort_leader_transfer(&mut self) {
        self.lead_transferee = NONE;
    }

    /// Whether this node could become leader: it is a voter and is not
    /// installing a snapshot (etcd `promotable`).
    pub fn promotable(&self) -> bool {
        self.trk
            .progress
            .get(self.id)
            .is_some_and(|pr| !pr.is_learner)
            && !self.raft_log.has_next_or_in_progress_snapshot()
    }

    /// Counts `ents` against the uncommitted size limit (etcd
    /// `increaseUncommittedSize`). Returns false, counting nothing, if they
    /// would exceed it; an empty payload, or an empty uncommitted tail,
    /// always fits.
    #[must_use = "false means nothing was counted and the entries must be dropped"]
    pub fn increase_uncommitted_size(&mut self, ents: &[crate::eraftpb::Entry]) -> bool {
        let s = crate::util::payloads_size(ents);
        if self.uncommitted_size > 0
            && s > 0
            && self.uncommitted_size.saturating_add(s) > self.max_uncommitted_size
        {
            return false;
        }
        self.uncommitted_size += s;
        true
    }

    /// Releases `s` bytes of newly committed payload from the uncommitted
    /// size (etcd `reduceUncommittedSize`), saturating at 0 since the
    /// estimate may undercount.
    pub fn reduce_uncommitted_size(&mut self, s: u64) {
        self.uncommitted_size = self.uncommitted_size.saturating_sub(s);
    }
}

/// The configuration `cs` describes, built on `trk` (which has an empty
/// configuration) for a log ending at `last_index`: etcd's
/// `confchange.Restore` followed by its equivalence assertion, as a check.
///
/// `cs` comes from storage or a peer's snapshot, so a conf state our conf
/// change code refuses, or turns into a different configuration (say, a
/// voter that is also a learner), is an error here rather than a panic.
pub(crate) fn restore_conf_state(
    trk: &ProgressTracker,
    last_index: u64,
    cs: &ConfState,
) -> Result<(crate::tracker::Config, crate::tracker::ProgressMap)> {
    let (cfg, progress) = confchange::restore(Changer::new(trk, last_index), cs)?;
    let restored = ConfState {
        voters: cfg.voters[0].slice(),
        learners: cfg.learners.slice(),
        voters_outgoing: cfg.voters[1].slice(),
        learners_next: cfg.learners_next.slice(),
        auto_leave: cfg.auto_leave,
    };
    if let Err(e) = cs.equivalent(&restored) {
        return Err(Error::ConfChange(e.to_string()));
    }
    Ok((cfg, progress))
}

/// Whether `cs` names `id` as a voter (of either half) or learner.
pub(crate) fn conf_state_contains(cs: &ConfState, id: u64) -> bool {
    // `learners_next` need not be checked: its members are outgoing voters.
    cs.voters.contains(&id) || cs.learners.contains(&id) || cs.voters_outgoing.contains(&id)
}

#[cfg(test)]
mod batch_append_tests;
#[cfg(test)]
mod own_acks_tests;
#[cfg(test)]
mod step_in_place_tests;
#[cfg(test)]
mod tests;
