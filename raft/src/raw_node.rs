//! The thread-unsafe driver of a raft state machine (etcd `RawNode`, with
//! etcd's `Bootstrap`).
//!
//! The application owns the `RawNode`: it ticks it, steps peers' messages
//! into it, and repeatedly collects a [`Ready`] (entries and state to
//! persist, entries to apply, messages to send) that it hands back through
//! [`RawNode::advance`] once handled. With `async_storage_writes`, the
//! persistence and apply work comes out as messages to the local append and
//! apply threads instead, and their responses replace `advance`.

use std::mem;

use bytes::Bytes;
use prost::Message as _;

use crate::buffers;
use crate::config::Config;
use crate::config::{LOCAL_APPEND_THREAD, LOCAL_APPLY_THREAD, NONE};
use crate::eraftpb::{
    marshal_conf_change, ConfChange, ConfChangeI, ConfChangeType, ConfState, Entry, EntryType,
    HardState, Message, MessageType, Snapshot,
};
use crate::errors::{Error, Result};
use crate::log_unstable::{fatal, fatal_misuse};
use crate::raft::{Raft, SoftState, StateRole};
use crate::raft_log::{check_log_slice, EntryId};
use crate::read_only::ReadState;
use crate::status::{BasicStatus, Status};
use crate::storage::Storage;
use crate::tracker::Progress;
use crate::util::{ents_and_payloads_size, is_local_msg, is_local_msg_target, is_response_msg};

/// The outstanding work of a [`RawNode`]: what to persist, apply and send.
///
/// Every field is read-only for the application. Handle a `Ready` in this
/// order: persist `hard_state`, `entries` and `snapshot` (durably if
/// `must_sync`), send `messages`, apply `committed_entries`, then call
/// [`RawNode::advance`]. With async storage writes, only `messages` need be
/// acted upon: the other fields are repeated in the `MsgStorageAppend` and
/// `MsgStorageApply` messages to the local threads.
///
/// ```
/// use etcdraft::prelude::*;
///
/// let storage = MemStorage::new_with_conf_state(ConfState { voters: vec![1], ..Default::default() });
/// let mut node = RawNode::new(&Config::new(1), storage, &discard_logger())?;
/// node.campaign()?;
/// let rd = node.ready();
/// // The campaign: a new term and a vote for itself, to persist (durably).
/// assert_eq!(rd.hard_state.map(|hs| (hs.term, hs.vote)), Some((1, 1)));
/// assert!(rd.must_sync);
/// node.mut_store().set_hard_state(rd.hs())?;
/// node.advance();
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive] // etcd adds fields to its Ready
pub struct Ready {
    /// The volatile state (leader and role), if it changed since the last
    /// `Ready`. Need not be persisted.
    pub soft_state: Option<SoftState>,
    /// The term, vote and commit index, if they changed since the last
    /// `Ready`; to be persisted before `messages` are sent.
    pub hard_state: Option<HardState>,
    /// Answers to read-index requests: a read may be served locally once
    /// the applied index reaches the state's index.
    pub read_states: Vec<ReadState>,
    /// New log entries; they must be durable before any of `messages`
    /// leaves the node.
    pub entries: Vec<Entry>,
    /// A snapshot to install in stable storage, if any.
    pub snapshot: Option<Snapshot>,
    /// Committed entries to apply to the state machine; they were persisted
    /// by a previous `Ready`.
    pub committed_entries: Vec<Entry>,
    /// Messages to send once `entries` and `hard_state` are persisted (with
    /// async storage writes: at once; dependent messages ride inside the
    /// local storage messages). A `MsgSnap` must be followed by a call to
    /// [`RawNode::report_snapshot`].
    pub messages: Vec<Message>,
    /// Whether `hard_state` and `entries` must be written durably (fsync)
    /// rather than just buffered.
    pub must_sync: bool,
}

impl Ready {
    /// The hard state carried, or the empty one (etcd reads fields through
    /// a nil `*HardState` as zeros).
    #[inline]
    pub fn hs(&self) -> HardState {
        self.hard_state.unwrap_or_default()
    }
}

/// Whether the change from `prev` to `st`, with `ents_num` new entries,
/// requires a durable write (etcd `MustSync`): the term, the vote and the
/// log are persistent state, the commit index is not.
#[inline]
pub fn must_sync(st: &HardState, prev: &HardState, ents_num: usize) -> bool {
    ents_num != 0 || st.vote != prev.vote || st.term != prev.term
}

/// Checks a message from outside the node (a peer, or the application's
/// local storage threads) before it is stepped, as etcd's `RawNode.Step`
/// and `node.run` do: local messages must come from a local thread, and
/// responses from a peer in the configuration. Everything else etcd steps,
/// and so do we, termless messages included (raft takes them for local
/// ones and skips the term checks, as etcd does).
///
/// Beyond etcd, only what would make etcd panic or corrupt its state is
/// refused (each is listed in the README's differences from etcd):
/// - a term or index beyond 2^63 - 1 (see `MAX_PEER_VALUE`): etcd's next
///   election or restore wraps around to 0 ([`Error::Decode`]);
/// - an append whose entries do not form a valid slice of a log (see
///   `check_append_slice`): etcd appends them and breaks its log's
///   invariants ([`Error::Decode`]);
/// - a message from the node itself that would make it take itself for
///   the leader, or make it (as leader) send an append to itself: etcd
///   panics on its next send to "the leader" or to itself
///   ([`Error::StepPeerNotFound`]);
/// - a termless message that would move the node's term back to 0 (a
///   leader's message reaching a candidate) or make it answer a vote
///   request with a termless answer (etcd panics on sending it)
///   ([`Error::StepLocalMsg`]).
///
/// [`Config::strict_peer_checks`] adds the refusal of messages no correct
/// peer sends although etcd steps them without harm; see `check_strict`.
pub(crate) fn check_step<S: Storage>(r: &Raft<S>, m: &Message) -> Result<()> {
    let t = m.get_type();
    // Even what claims to come from a local thread: a peer can forge that.
    check_ranges(m)?;
    if is_local_msg(t) {
        if !is_local_msg_target(m.from) {
            return Err(Error::StepLocalMsg);
        }
        return Ok(());
    }
    if is_response_msg(t) && !is_local_msg_target(m.from) && !r.trk.progress.contains(m.from) {
        return Err(Error::StepPeerNotFound);
    }
    if r.strict_peer_checks {
        check_strict(r, m)?;
    }
    if m.from == r.id && self_message_panics(r, m) {
        return Err(Error::StepPeerNotFound);
    }
    if m.term == 0 && termless_message_breaks(r, m) {
        return Err(Error::StepLocalMsg);
    }
    if t == MessageType::MsgApp {
        check_append_slice(m)?;
    }
    // The commit index first: it bounds the last index from below, and
    // unlike the last index it needs no look into storage.
    if t == MessageType::MsgHeartbeat
        && m.commit > r.raft_log.committed
        && m.commit > r.raft_log.last_index()
        && (m.term >= r.term || m.term == 0)
    {
        // A correct leader caps a heartbeat's commit index at what the
        // follower holds; one beyond the log means a lost log or a forged
        // message, on which etcd's commitTo panics. Found by the
        // rawnode_step fuzz target.
        return Err(Error::Decode(format!(
            "heartbeat commit {} is beyond the last index {}",
            m.commit,
            r.raft_log.last_index()
        )));
    }
    Ok(())
}

/// Steps `m` if it is one of the messages of a steady group, as
/// [`check_step`] and [`Raft::step_mut`] would, and returns whether it did
/// (else nothing changed and the caller steps `m` the usual way).
///
/// They are a follower's append or heartbeat from its leader and an
/// accepting acknowledgement or heartbeat response on the leader, all at
/// the node's own term: eight appends and acknowledgements per entry in a
/// three-voter group, and four heartbeat messages per heartbeat interval.
/// For them the term handling and the dispatch by role decide nothing, and
/// of the checks only the ranges, the append's slice, a heartbeat's commit
/// index and the sender's progress can refuse one; everything else
/// (another term, a rejection, a message from the node itself,
/// [`Config::strict_peer_checks`]) takes the usual path. Any other type
/// costs one test.
#[inline]
fn step_direct<S: Storage>(r: &mut Raft<S>, m: &mut Message) -> bool {
    if !direct_candidate(r, m) {
        return false;
    }
    let t = m.msg_type;
    if t == MessageType::MsgApp as i32 {
        if r.state != StateRole::Follower || !append_slice_valid(m) {
            return false;
        }
        r.step_follower_append(m);
        true
    } else if t == MessageType::MsgAppResp as i32 {
        !m.reject && r.state == StateRole::Leader && r.step_leader_append_ack(m)
    } else {
        step_heartbeat_direct(r, m)
    }
}

// Whether `m` is at the node's own term, from a peer, within the ranges,
// and the node checks no more than that.
#[inline(always)]
fn direct_candidate<S: Storage>(r: &Raft<S>, m: &Message) -> bool {
    m.term == r.term
        && m.term != 0
        && m.from != r.id
        && !r.strict_peer_checks
        && check_ranges(m).is_ok()
}

// The heartbeats of `step_direct`. Out of line: once per heartbeat
// interval, not per entry, and the appends' path stays smaller for it.
#[inline(never)]
fn step_heartbeat_direct<S: Storage>(r: &mut Raft<S>, m: &mut Message) -> bool {
    let t = m.msg_type;
    if t == MessageType::MsgHeartbeat as i32 {
        // A leader caps the commit index at what this node holds; one
        // beyond the log is refused, by check_step.
        if r.state != StateRole::Follower
            || (m.commit > r.raft_log.committed && m.commit > r.raft_log.last_index())
        {
            return false;
        }
        r.step_follower_heartbeat(m);
        true
    } else if t == MessageType::MsgHeartbeatResp as i32 {
        r.state == StateRole::Leader && r.step_leader_heartbeat_ack(m)
    } else {
        false
    }
}

/// Whether `m`, which claims to come from `r` itself, would make etcd panic
/// later: a leader's message that makes the node take itself for the leader
/// (its next proposal or read is sent to itself), or an answer that makes
/// the leader send an append to itself (a rejected append, a heartbeat
/// answer). What etcd ignores, or answers harmlessly, is let through.
fn self_message_panics<S: Storage>(r: &Raft<S>, m: &Message) -> bool {
    let leader = r.state == StateRole::Leader;
    match m.get_type() {
        // Raft follows the sender at a higher term, and at its own term (or
        // without one) unless it leads; an older message is ignored.
        MessageType::MsgApp | MessageType::MsgHeartbeat | MessageType::MsgSnap => {
            m.term > r.term || ((m.term == r.term || m.term == 0) && !leader)
        }
        // At a higher term the leader only steps down.
        MessageType::MsgAppResp | MessageType::MsgHeartbeatResp => {
            leader
                && (m.term == r.term || m.term == 0)
                && (m.reject || m.get_type() == MessageType::MsgHeartbeatResp)
        }
        _ => false,
    }
}

/// Whether raft, taking the termless `m` for a local message, would move
/// its term back to 0 or answer with a termless vote (etcd panics on
/// sending a vote answer without a term).
fn termless_message_breaks<S: Storage>(r: &Raft<S>, m: &Message) -> bool {
    match m.get_type() {
        // A (pre-)candidate follows the sender at the message's term.
        MessageType::MsgApp | MessageType::MsgHeartbeat | MessageType::MsgSnap => {
            r.term > 0 && matches!(r.state, StateRole::Candidate | StateRole::PreCandidate)
        }
        // A granted vote is answered with the request's term (0); a refusal
        // with the node's own term, which is 0 before the first election.
        MessageType::MsgVote | MessageType::MsgPreVote => {
            let can_vote = r.vote == m.from || (r.vote == NONE && r.lead == NONE);
            let up_to_date = r.raft_log.is_up_to_date(EntryId {
                term: m.log_term,
                index: m.index,
            });
            r.term == 0 || (can_vote && up_to_date)
        }
        _ => false,
    }
}

/// The refusals of [`Config::strict_peer_checks`]: messages that no correct
/// peer sends, which etcd steps anyway:
/// - a message from one of the ids reserved for the local threads that is
///   not a local message: raft would answer it, and the answer would look
///   like storage work;
/// - a message that only another node sends (a leader's messages, vote
///   requests; answers to heartbeats and reads and rejections unless they
///   carry a higher term) claiming to come from this node itself
///   ([`Error::StepPeerNotFound`] for both);
/// - such a message, or an answer, without a term: raft takes it for a
///   local one and skips every term check ([`Error::StepLocalMsg`]).
fn check_strict<S: Storage>(r: &Raft<S>, m: &Message) -> Result<()> {
    let t = m.get_type();
    if is_local_msg_target(m.from) {
        return Err(Error::StepPeerNotFound);
    }
    let peer_only = matches!(
        t,
        MessageType::MsgApp
            | MessageType::MsgHeartbeat
            | MessageType::MsgSnap
            | MessageType::MsgTimeoutNow
            | MessageType::MsgVote
            | MessageType::MsgPreVote
    );
    // Its own acknowledgements (async storage writes) are fine, and at a
    // higher term an answer only makes the node step down.
    let own_answer_never = m.reject
        || matches!(
            t,
            MessageType::MsgHeartbeatResp | MessageType::MsgReadIndexResp
        );
    if m.from == r.id && (peer_only || (own_answer_never && m.term <= r.term)) {
        return Err(Error::StepPeerNotFound);
    }
    if (peer_only || is_response_msg(t)) && m.term == 0 {
        return Err(Error::StepLocalMsg);
    }
    Ok(())
}

/// The largest term or index a peer's message may carry: 2^63 - 1. Terms
/// grow by one per election and indexes by one per entry, so no honest
/// group gets near it, while a forged value near `u64::MAX` would make the
/// node's next election or snapshot restore overflow (etcd wraps around to
/// 0 there and corrupts its state).
const MAX_PEER_VALUE: u64 = i64::MAX as u64;

/// Refuses a message whose term or indexes exceed [`MAX_PEER_VALUE`].
#[inline]
fn check_ranges(m: &Message) -> Result<()> {
    let snap = m.snapshot.as_deref().map(|s| &s.metadata);
    let last = m.entries.last();
    // Every message is checked, and all values are fine in practice: as
    // MAX_PEER_VALUE is 2^63 - 1, a value exceeds it exactly when its top
    // bit is set, so one test of all values OR-ed together clears them all
    // at once. Only a bad message goes on to find which field it is.
    let all = m.term
        | m.log_term
        | m.index
        | m.commit
        | m.reject_hint
        | snap.map_or(0, |s| s.index | s.term)
        | last.map_or(0, |e| e.index | e.term);
    if all <= MAX_PEER_VALUE {
        return Ok(());
    }
    range_error(m)
}

// The error for a message some value of which is beyond MAX_PEER_VALUE: the
// first such field is named. Out of line, as it is (practically) never
// reached.
#[cold]
#[inline(never)]
fn range_error(m: &Message) -> Result<()> {
    let snap = m.snapshot.as_deref().map(|s| &s.metadata);
    let last = m.entries.last();
    let fields = [
        ("term", m.term),
        ("log term", m.log_term),
        ("index", m.index),
        ("commit", m.commit),
        ("reject hint", m.reject_hint),
        ("snapshot index", snap.map_or(0, |s| s.index)),
        ("snapshot term", snap.map_or(0, |s| s.term)),
        ("entry index", last.map_or(0, |e| e.index)),
        ("entry term", last.map_or(0, |e| e.term)),
    ];
    for (name, v) in fields {
        if v > MAX_PEER_VALUE {
            return Err(Error::Decode(format!(
                "{name} {v} of {:?} from {:x} is out of range (at most {MAX_PEER_VALUE})",
                m.get_type(),
                m.from
            )));
        }
    }
    Ok(())
}

/// Checks that the entries of an append follow its `(log_term, index)`
/// without gaps, with terms that never decrease and never exceed the
/// leader's term: what etcd's `logSlice.valid` demands, which etcd does not
/// check on receipt yet (a TODO there). Raft's log would otherwise end up
/// with gaps or out-of-order terms and trip its own invariants.
fn check_append_slice(m: &Message) -> Result<()> {
    let prev = EntryId {
        term: m.log_term,
        index: m.index,
    };
    check_log_slice(m.term, prev, &m.entries).map_err(Error::Decode)
}

/// Whether [`check_append_slice`] accepts `m`, without building its error:
/// inlined into the path of steady replication, where nearly every
/// append carries one entry or none.
#[inline(always)]
fn append_slice_valid(m: &Message) -> bool {
    let (mut term, mut index) = (m.log_term, m.index);
    for e in &m.entries {
        if e.term < term || Some(e.index) != index.checked_add(1) {
            return false;
        }
        (term, index) = (e.term, e.index);
    }
    term <= m.term
}

/// Whether `hs` holds no information (etcd `IsEmptyHardState`).
#[inline]
pub fn is_empty_hard_state(hs: Option<&HardState>) -> bool {
    hs.is_none_or(HardState::is_empty)
}

/// Whether `snap` is absent or the empty snapshot (etcd `IsEmptySnap`).
#[inline]
pub fn is_empty_snap(snap: Option<&Snapshot>) -> bool {
    snap.is_none_or(Snapshot::is_empty)
}

/// The result of sending a snapshot, as reported through
/// [`RawNode::report_snapshot`] (etcd `SnapshotStatus`).
///
/// ```
/// use etcdraft::prelude::*;
///
/// # let mut node = RawNode::new(&Config::new(1),
/// #     MemStorage::new_with_conf_state(ConfState { voters: vec![1, 2], ..Default::default() }),
/// #     &discard_logger())?;
/// // After sending a MsgSnap to node 2, say whether it arrived.
/// let delivered = false;
/// let status = if delivered { SnapshotStatus::Finish } else { SnapshotStatus::Failure };
/// node.report_snapshot(2, status);
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotStatus {
    /// The follower received the snapshot.
    Finish = 1,
    /// Sending failed; the leader will probe the follower again.
    Failure = 2,
}

/// A member of the initial configuration given to [`RawNode::bootstrap`]
/// (etcd `Peer`).
///
/// ```
/// use etcdraft::prelude::*;
///
/// // A brand new group of three, bootstrapped through the log.
/// let peers: Vec<Peer> = (1..=3).map(|id| Peer { id, ..Default::default() }).collect();
/// let mut node = RawNode::new(&Config::new(1), MemStorage::new(), &discard_logger())?;
/// node.bootstrap(&peers)?;
/// let rd = node.ready();
/// assert_eq!(rd.entries.len(), 3); // one ConfChangeAddNode per peer
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    /// The node's id.
    pub id: u64,
    /// Opaque context stored in the bootstrap conf change entry.
    pub context: Bytes,
}

/// Whether a [`Progress`] visited by [`RawNode::with_progress`] belongs to a
/// voter or a learner (etcd `ProgressType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressType {
    /// A voting peer.
    Peer,
    /// A learner.
    Learner,
}

/// What [`RawNode::apply_conf_change_at`] did with a committed conf change.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a superseded change did not change the configuration"]
pub enum ConfChangeApplied {
    /// The change was applied; the resulting configuration.
    Applied(ConfState),
    /// A snapshot restored after the change was committed, at
    /// `snapshot_index` (at or above the change's index), already holds a
    /// newer configuration; the change was not applied. `conf_state` is the
    /// node's configuration, which the application should record for the
    /// entry instead.
    Superseded {
        /// The index of the superseding snapshot.
        snapshot_index: u64,
        /// The node's current configuration.
        conf_state: ConfState,
    },
}

impl ConfChangeApplied {
    /// The configuration after the call, either way.
    pub fn conf_state(&self) -> &ConfState {
        match self {
            ConfChangeApplied::Applied(cs)
            | ConfChangeApplied::Superseded { conf_state: cs, .. } => cs,
        }
    }
}

/// A raft node driven by the application on one thread (etcd `RawNode`).
///
/// See the [crate documentation](crate) for the loop that drives it, and
/// the order in which a [`Ready`] must be handled.
///
/// ```
/// use etcdraft::prelude::*;
///
/// let storage = MemStorage::new_with_conf_state(ConfState { voters: vec![1, 2, 3], ..Default::default() });
/// let mut node = RawNode::new(&Config::new(1), storage, &discard_logger())?;
/// // Without a leader, an election timeout (10 to 20 ticks here) starts
/// // an election.
/// let mut ticks = 0;
/// while node.status().raft_state() == StateRole::Follower {
///     node.tick();
///     ticks += 1;
/// }
/// assert!((10..=20).contains(&ticks), "{ticks}");
/// assert_eq!(node.status().raft_state(), StateRole::Candidate);
/// let rd = node.ready();
/// let to: Vec<u64> = rd.messages.iter().map(|m| m.to).collect();
/// assert_eq!(to, [2, 3]); // vote requests, to send once rd is persisted
/// # Ok::<(), Error>(())
/// ```
#[repr(C)] // this order: what `has_ready` compares first, then the node (see `Raft`)
pub struct RawNode<S: Storage> {
    // What the application was last told, so that `Ready` only carries
    // changes. The soft state is kept in its two parts (see
    // `prev_soft_st`), so that its role shares a word with
    // `async_storage_writes` instead of padding one of its own.
    prev_hard_st: HardState,
    prev_lead: u64,
    // The acknowledgement of the applied entries, handled in `advance`
    // after `steps_on_advance` (etcd steps a MsgStorageApplyResp carrying
    // the entries; only their last index and sizes are needed, so they are
    // not copied into a message).
    apply_on_advance: Option<AppliedEntries>,
    // Self-addressed messages stepped in `advance` (synchronous storage
    // mode only): acknowledgements of the persisted work.
    pub(crate) steps_on_advance: Vec<Message>,
    prev_role: StateRole,
    async_storage_writes: bool,
    /// The state machine: public with the `internals` feature only, for
    /// the script harness and white-box tests; changing it behind the
    /// node's back breaks the `Ready` bookkeeping.
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    pub raft: Raft<S>,
    #[cfg(not(feature = "internals"))]
    pub(crate) raft: Raft<S>,
}

/// What a MsgStorageApplyResp tells raft about the applied entries.
#[derive(Clone, Copy, Debug)]
struct AppliedEntries {
    // Non-zero (committed entries start at index 1), which lets
    // `Option<AppliedEntries>` use it as its tag: 8 bytes less per node.
    last_index: std::num::NonZeroU64,
    size: u64,
    payload_size: u64,
}

impl<S: Storage> RawNode<S> {
    /// A node from `config`, reading its initial state from `store`
    /// (etcd `NewRawNode`). To start a brand new group, either set up a
    /// storage whose initial state holds the configuration, or call
    /// [`bootstrap`](RawNode::bootstrap).
    pub fn new(config: &Config, store: S, logger: &slog::Logger) -> Result<RawNode<S>> {
        let mut raft = Raft::new(config, store, logger)?;
        // Without async storage writes, a leader's acknowledgements of its
        // own appends never leave the node: `advance` steps them. (With
        // batch_append, `send` merges them anyway.)
        raft.own_ack_runs = !config.async_storage_writes && !config.batch_append;
        let prev_soft_st = raft.soft_state();
        let prev_hard_st = raft.hard_state();
        Ok(RawNode {
            raft,
            async_storage_writes: config.async_storage_writes,
            prev_lead: prev_soft_st.lead,
            prev_role: prev_soft_st.raft_state,
            prev_hard_st,
            steps_on_advance: Vec::new(),
            apply_on_advance: None,
        })
    }

    /// Whether the node hands storage work to local threads as messages
    /// (`Config::async_storage_writes`) instead of expecting `advance`.
    #[inline]
    pub fn async_storage_writes(&self) -> bool {
        self.async_storage_writes
    }

    /// The storage the node reads its stable log from.
    #[inline]
    pub fn store(&self) -> &S {
        &self.raft.raft_log.storage
    }

    /// The storage, for the application to write what a `Ready` asks.
    #[inline]
    pub fn mut_store(&mut self) -> &mut S {
        &mut self.raft.raft_log.storage
    }

    /// Advances the logical clock by one tick (heartbeats, elections).
    #[inline]
    pub fn tick(&mut self) {
        self.raft.tick();
    }

    /// Advances the election clock without any other processing, for groups
    /// the application knows to be idle (etcd `TickQuiesced`). This subverts
    /// the state machine; prefer [`tick`](RawNode::tick).
    #[inline]
    pub fn tick_quiesced(&mut self) {
        self.raft.election_elapsed += 1;
    }

    /// Makes the node start an election (pre-vote first if configured).
    pub fn campaign(&mut self) -> Result<()> {
        self.raft.step(Message::new(MessageType::MsgHup))
    }

    /// Proposes `data` for appending to the log. Fails with
    /// [`Error::ProposalDropped`] when no leader can take it.
    pub fn propose(&mut self, data: impl Into<Bytes>) -> Result<()> {
        if self.raft.state == StateRole::Leader {
            return self.raft.propose_on_leader(data.into());
        }
        // Exactly one entry: no spare capacity to allocate. One literal, so
        // that no default `entries` is built and dropped first.
        let m = Message {
            msg_type: MessageType::MsgProp as i32,
            from: self.raft.id,
            entries: vec![Entry {
                data: data.into(),
                ..Default::default()
            }],
            ..Message::default()
        };
        self.raft.step(m)
    }

    /// Proposes a configuration change (v1 or v2). Once committed, the
    /// application applies it with [`apply_conf_change`](RawNode::apply_conf_change).
    pub fn propose_conf_change(&mut self, cc: &(impl ConfChangeI + ?Sized)) -> Result<()> {
        self.raft.step(conf_change_to_msg(cc))
    }

    /// Applies a committed configuration change to the node and returns the
    /// resulting configuration. Skip the call if the application rejects the
    /// change. An invalid change is an error (etcd panics).
    ///
    /// A snapshot restored from a peer (`MsgSnap`) switches the node's
    /// configuration at once, while committed conf changes older than the
    /// snapshot may still wait to be applied (in a `MsgStorageApply`, or
    /// between [`ready`](RawNode::ready) and [`advance`](RawNode::advance)).
    /// Such a change is superseded, and applying it on top of the newer
    /// configuration is wrong: use
    /// [`apply_conf_change_at`](RawNode::apply_conf_change_at), which
    /// knows the entry's index and leaves superseded changes alone.
    pub fn apply_conf_change(&mut self, cc: &(impl ConfChangeI + ?Sized)) -> Result<ConfState> {
        self.raft.apply_conf_change(&cc.as_v2())
    }

    /// Applies the conf change committed at log index `index`, unless a
    /// snapshot restored since supersedes it: then nothing changes, and
    /// [`ConfChangeApplied::Superseded`] says so with the node's current
    /// configuration (the snapshot's, or later). Otherwise as
    /// [`apply_conf_change`](RawNode::apply_conf_change).
    pub fn apply_conf_change_at(
        &mut self,
        index: u64,
        cc: &(impl ConfChangeI + ?Sized),
    ) -> Result<ConfChangeApplied> {
        let snapshot_index = self.raft.conf_restored_at;
        if index <= snapshot_index {
            return Ok(ConfChangeApplied::Superseded {
                snapshot_index,
                conf_state: self.raft.trk.conf_state(),
            });
        }
        self.apply_conf_change(cc).map(ConfChangeApplied::Applied)
    }

    /// The index up to which committed conf changes are superseded by a
    /// snapshot this node restored (0: none): the configuration already
    /// reflects every entry up to it. See
    /// [`apply_conf_change_at`](RawNode::apply_conf_change_at).
    pub fn conf_superseded_through(&self) -> u64 {
        self.raft.conf_restored_at
    }

    /// Steps a message received from a peer (or from a local storage thread)
    /// into the state machine. Local messages from elsewhere, and responses
    /// from peers outside the configuration, are refused.
    pub fn step(&mut self, mut m: Message) -> Result<()> {
        // Borrowed, not moved on: a move would copy the 160 bytes.
        self.step_in_place(&mut m)
    }

    /// [`step`](RawNode::step) on a message the caller keeps: the node
    /// takes from `m` what it keeps (entries, context, snapshot) and leaves
    /// the rest, so a transport that decodes into its own buffer, or holds
    /// received messages in a vector, hands each over without moving its
    /// 160 bytes.
    ///
    /// What is left of `m` afterwards is unspecified, except that it is a
    /// valid message the caller may reuse (overwrite) or drop: the node
    /// keeps no reference to it, and may have taken its entries (leaving
    /// an empty vector, possibly with capacity), context and snapshot.
    pub fn step_in_place(&mut self, m: &mut Message) -> Result<()> {
        if step_direct(&mut self.raft, m) {
            return Ok(());
        }
        self.step_checked(m)
    }

    // Every other message: checked, then stepped. Out of line, so that the
    // direct path above does not pay for the registers and
    // stack of this much larger one.
    #[inline(never)]
    fn step_checked(&mut self, m: &mut Message) -> Result<()> {
        check_step(&self.raft, m)?;
        self.raft.step_mut(m)
    }

    /// Collects the outstanding work and marks it as handed out. The
    /// `Ready` must be handled and, without async storage writes, followed
    /// by [`advance`](RawNode::advance) before the next call.
    pub fn ready(&mut self) -> Ready {
        // Same as `ready_without_accept` followed by `accept_ready`, but the
        // messages are moved out of the state machine instead of cloned.
        self.make_ready(true)
    }

    /// Builds the outstanding work without handing it out: nothing changes,
    /// and there is no obligation to handle it. Call
    /// [`accept_ready`](RawNode::accept_ready) to commit to handling it.
    pub fn ready_without_accept(&mut self) -> Ready {
        self.make_ready(false)
    }

    // etcd's readyWithoutAccept, and with `take` also acceptReady: the
    // message queues are moved into the Ready (accepting would clear them
    // anyway), and the self-addressed messages of `msgs_after_append` are
    // scheduled for `advance`.
    //
    // In the synchronous mode the Ready is assembled from its parts only at
    // the very end, after the acceptance, so that it is built where the
    // caller receives it: a Ready is ~300 bytes, and building it first and
    // then returning it through two functions cost three copies.
    #[inline(always)]
    fn make_ready(&mut self, take: bool) -> Ready {
        let r = &mut self.raft;
        let entries = buffers::entries_copy(r.raft_log.next_unstable_ents());
        let hs = r.hard_state();
        let ss = r.soft_state();
        let prev_ss = SoftState {
            lead: self.prev_lead,
            raft_state: self.prev_role,
        };
        let soft_state = (ss != prev_ss).then_some(ss);
        let hard_state = (hs != self.prev_hard_st).then_some(hs);
        let read_states = if r.read_states.is_empty() {
            Vec::new()
        } else if take {
            r.read_states.take()
        } else {
            r.read_states.to_vec()
        };
        let must_sync = must_sync(&hs, &self.prev_hard_st, entries.len());
        let snapshot = r.raft_log.next_unstable_snapshot().cloned();
        let committed_entries = r.raft_log.next_committed_ents(!self.async_storage_writes);
        let mut messages = if take {
            // The next Ready's queue starts at this one's size, so that a
            // busy leader does not regrow (and copy) it message by message.
            let n = r.msgs.len();
            mem::replace(&mut r.msgs, presized(n))
        } else {
            r.msgs.clone()
        };

        if self.async_storage_writes {
            let mut rd = Ready {
                soft_state,
                hard_state,
                read_states,
                entries,
                snapshot,
                committed_entries,
                messages,
                must_sync,
            };
            // The persistence and apply work goes to the local threads as
            // messages; whatever must wait for the append rides along as
            // its responses.
            if need_storage_append_msg(r, &rd) {
                let m = new_storage_append_msg(r, &rd, take);
                rd.messages.push(m);
            }
            if need_storage_apply_msg(&rd) {
                let m = new_storage_apply_msg(r, &rd);
                rd.messages.push(m);
            }
            if take {
                self.accept_ready(&rd);
            }
            return rd;
        }

        // The Ready contract already says messages go out only after the
        // entries are persisted, so the messages waiting for the append can
        // join them; those to ourselves are stepped in `advance`.
        let id = r.id;
        if take {
            let after = &mut r.msgs_after_append;
            let own = after.iter().filter(|m| m.to == id).count();
            if own == 0 {
                // A follower's acknowledgements: all go out, moved in bulk,
                // or as the whole buffer when nothing else does.
                if messages.is_empty() {
                    let n = after.len();
                    messages = mem::replace(after, presized(n));
                } else {
                    messages.append(after);
                    release_if_small(after);
                }
            } else if own < after.len() {
                messages.reserve(after.len() - own);
                let mut mine = Vec::with_capacity(own);
                for m in after.drain(..) {
                    if m.to != id {
                        messages.push(m);
                    } else {
                        mine.push(m);
                    }
                }
                *after = mine;
            }
            // Otherwise all are a leader's self-acknowledgements, which stay
            // for the acceptance to schedule.
            self.accept_parts(
                soft_state,
                hard_state,
                !read_states.is_empty(),
                snapshot.as_ref(),
                &committed_entries,
            );
        } else {
            messages.extend(r.msgs_after_append.iter().filter(|m| m.to != id).cloned());
        }
        Ready {
            soft_state,
            hard_state,
            read_states,
            entries,
            snapshot,
            committed_entries,
            messages,
            must_sync,
        }
    }

    /// Commits to handling `rd`, which must come from
    /// [`ready_without_accept`](RawNode::ready_without_accept) with nothing
    /// done to the node in between (etcd `acceptReady`).
    pub fn accept_ready(&mut self, rd: &Ready) {
        self.accept_parts(
            rd.soft_state,
            rd.hard_state,
            !rd.read_states.is_empty(),
            rd.snapshot.as_ref(),
            &rd.committed_entries,
        );
    }

    // `accept_ready` on the parts of a Ready it reads, so that `ready` can
    // accept before the Ready is assembled.
    #[inline(always)]
    fn accept_parts(
        &mut self,
        soft_state: Option<SoftState>,
        hard_state: Option<HardState>,
        had_read_states: bool,
        snapshot: Option<&Snapshot>,
        committed_entries: &[Entry],
    ) {
        if let Some(ss) = soft_state {
            self.prev_lead = ss.lead;
            self.prev_role = ss.raft_state;
        }
        if let Some(hs) = hard_state {
            if !hs.is_empty() {
                self.prev_hard_st = hs;
            }
        }
        if had_read_states {
            self.raft.read_states.clear();
        }
        if !self.async_storage_writes {
            if !self.steps_on_advance.is_empty() || self.apply_on_advance.is_some() {
                // Misuse by the application that would lose acknowledgements.
                fatal!(
                    self.raft.raft_log.logger,
                    "two accepted Ready structs without call to Advance"
                );
            }
            let id = self.raft.id;
            let after = &mut self.raft.msgs_after_append;
            if after.iter().all(|m| m.to == id) {
                // Typically a leader's self-acknowledgements (`ready` has
                // moved the others out): take the whole buffer, in order,
                // and leave ours (empty) in its place.
                mem::swap(&mut self.steps_on_advance, after);
            } else {
                for m in after.drain(..) {
                    if m.to == id {
                        self.steps_on_advance.push(m);
                    }
                }
            }
            if need_storage_append_resp_msg(&self.raft, snapshot) {
                let m = new_storage_append_resp_msg(&self.raft, snapshot);
                self.steps_on_advance.push(m);
            }
        }
        self.raft.msgs.clear();
        self.raft.pending_apps.clear();
        self.raft.msgs_after_append.clear();
        self.raft.raft_log.accept_unstable();
        if let Some(last) = committed_entries.last() {
            let (size, payload_size) = ents_and_payloads_size(committed_entries);
            if !self.async_storage_writes {
                // Stands for the MsgStorageApplyResp etcd queues last.
                self.apply_on_advance =
                    std::num::NonZeroU64::new(last.index).map(|last_index| AppliedEntries {
                        last_index,
                        size,
                        payload_size,
                    });
            }
            self.raft
                .raft_log
                .accept_applying(last.index, size, !self.async_storage_writes);
        }
    }

    // The soft state the application was last told.
    #[inline]
    fn prev_soft_st(&self) -> SoftState {
        SoftState {
            lead: self.prev_lead,
            raft_state: self.prev_role,
        }
    }

    /// Whether a call to [`ready`](RawNode::ready) would return any work.
    pub fn has_ready(&self) -> bool {
        let r = &self.raft;
        if r.soft_state() != self.prev_soft_st() {
            return true;
        }
        let hs = r.hard_state();
        if !hs.is_empty() && hs != self.prev_hard_st {
            return true;
        }
        if r.raft_log.has_next_unstable_snapshot() {
            return true;
        }
        if !r.msgs.is_empty() || !r.msgs_after_append.is_empty() {
            return true;
        }
        if r.raft_log.has_next_unstable_ents()
            || r.raft_log
                .has_next_committed_ents(!self.async_storage_writes)
        {
            return true;
        }
        !r.read_states.is_empty()
    }

    /// Tells the node that the last `Ready` was persisted and applied. Must
    /// not be called with async storage writes, where the responses of the
    /// local threads take its place.
    pub fn advance(&mut self) {
        if self.async_storage_writes {
            fatal_misuse!(
                self.raft.raft_log.logger,
                "with Config::async_storage_writes, deliver the responses \
                 of the MsgStorageAppend and MsgStorageApply messages \
                 (to the node or its peers) instead of calling advance",
                "Advance must not be called when using AsyncStorageWrites"
            );
        }
        // Errors are impossible for these self-addressed acknowledgements,
        // and etcd ignores them too.
        if self.steps_on_advance.is_empty() && self.apply_on_advance.is_none() {
            return;
        }
        if !self.steps_on_advance.is_empty() {
            let mut steps = mem::take(&mut self.steps_on_advance);
            // A leader's acknowledgements of its own appends, one per
            // proposal, mostly do nothing a later one does not do too.
            if let Some(superseded) = self.raft.superseded_own_acks(&steps) {
                steps.drain(..superseded);
                // The last acknowledgement, of the highest index.
                steps[0].reject_hint = 0;
            }
            for m in steps.drain(..) {
                if self.raft.is_own_ack_run(&m) {
                    self.raft.step_own_ack_run(m);
                } else {
                    let _ = self.raft.step(m);
                }
            }
            // The emptied buffer is reused by the next Ready (see
            // `accept_ready`).
            release_if_small(&mut steps);
            self.steps_on_advance = steps;
        }
        // Last, as etcd's MsgStorageApplyResp comes after the other steps.
        if let Some(a) = self.apply_on_advance.take() {
            self.raft
                .handle_storage_apply_resp(a.last_index.get(), a.size, a.payload_size);
        }
    }

    /// A full copy of the node's status, with the progress of every peer if
    /// the node leads.
    pub fn status(&self) -> Status {
        Status::new(&self.raft)
    }

    /// The node's status without the per-peer progress (no allocation).
    pub fn basic_status(&self) -> BasicStatus {
        BasicStatus::new(&self.raft)
    }

    /// Visits the progress of every peer (meaningful on the leader), in
    /// ascending id order, without copying it.
    pub fn with_progress(&self, mut visitor: impl FnMut(u64, ProgressType, &Progress)) {
        for (id, pr) in self.raft.trk.progress.iter() {
            let typ = if pr.is_learner {
                ProgressType::Learner
            } else {
                ProgressType::Peer
            };
            visitor(id, typ, pr);
        }
    }

    /// Reports that the last message to `id` could not be delivered; the
    /// leader falls back to probing that peer.
    pub fn report_unreachable(&mut self, id: u64) {
        let mut m = Message::new(MessageType::MsgUnreachable);
        m.from = id;
        let _ = self.raft.step(m);
    }

    /// Reports the outcome of sending a snapshot to `id`.
    pub fn report_snapshot(&mut self, id: u64, status: SnapshotStatus) {
        let mut m = Message::new(MessageType::MsgSnapStatus);
        m.from = id;
        m.reject = status == SnapshotStatus::Failure;
        let _ = self.raft.step(m);
    }

    /// Asks the leader to hand leadership to `transferee`.
    pub fn transfer_leader(&mut self, transferee: u64) {
        let mut m = Message::new(MessageType::MsgTransferLeader);
        m.from = transferee;
        let _ = self.raft.step(m);
    }

    /// Makes a follower forget its leader, so that it grants (pre-)votes at
    /// once rather than waiting for an election timeout; see etcd's
    /// `Node.ForgetLeader`.
    pub fn forget_leader(&mut self) -> Result<()> {
        self.raft.step(Message::new(MessageType::MsgForgetLeader))
    }

    /// Requests a read index; the answer, carrying `rctx`, comes back in a
    /// `Ready`'s `read_states`.
    pub fn read_index(&mut self, rctx: impl Into<Bytes>) {
        let mut m = Message::new(MessageType::MsgReadIndex);
        m.entries.push(Entry {
            data: rctx.into(),
            ..Default::default()
        });
        let _ = self.raft.step(m);
    }

    /// Initializes a brand new node with the given peers by appending (and
    /// committing) one `ConfChangeAddNode` entry per peer (etcd
    /// `Bootstrap`). Fails if `peers` is empty or the storage is not.
    ///
    /// Prefer setting up a storage whose initial state holds the
    /// configuration and whose first index is above 1.
    pub fn bootstrap(&mut self, peers: &[Peer]) -> Result<()> {
        if peers.is_empty() {
            return Err(Error::Bootstrap(
                "must provide at least one peer to Bootstrap".to_owned(),
            ));
        }
        let last_index = self.raft.raft_log.storage.last_index()?;
        if last_index != 0 {
            return Err(Error::Bootstrap(
                "can't bootstrap a nonempty Storage".to_owned(),
            ));
        }
        // Nothing is persisted yet: start from the empty hard state so that
        // the first Ready carries one for the application to persist.
        self.prev_hard_st = HardState::default();

        self.raft.become_follower(1, NONE);
        let ents: Vec<Entry> = peers
            .iter()
            .enumerate()
            .map(|(i, peer)| {
                let cc = ConfChange {
                    change_type: ConfChangeType::ConfChangeAddNode as i32,
                    node_id: peer.id,
                    context: peer.context.clone(),
                    ..Default::default()
                };
                Entry {
                    entry_type: Some(EntryType::EntryConfChange as i32),
                    term: 1,
                    index: i as u64 + 1,
                    data: cc.encode_to_vec().into(),
                }
            })
            .collect();
        let n = ents.len() as u64;
        self.raft.raft_log.append(ents);

        // Apply the entries at once so that the application can campaign
        // right away; they are applied a second time when the application
        // sees them in committed_entries (applied is left alone for that).
        // Applying after the append places each progress's next after the
        // bootstrap entries, which are committed already.
        self.raft.raft_log.committed = n;
        for peer in peers {
            let cc = ConfChange {
                change_type: ConfChangeType::ConfChangeAddNode as i32,
                node_id: peer.id,
                ..Default::default()
            };
            self.raft.apply_conf_change(&cc.as_v2())?;
        }
        Ok(())
    }
}

// etcd confChangeToMsg: a proposal with a single conf change entry. The
// sender is left unset, as etcd does; raft fills it in when forwarding.
// Shared with `Node`.
pub(crate) fn conf_change_to_msg<C: ConfChangeI + ?Sized>(cc: &C) -> Message {
    // Through the concrete type, so that `dyn ConfChangeI` works as well.
    let (typ, data) = match cc.as_v1() {
        Some(v1) => marshal_conf_change(Some(v1)),
        None => marshal_conf_change(Some(&cc.as_v2())),
    };
    let mut m = Message::new(MessageType::MsgProp);
    m.entries.push(Entry {
        entry_type: Some(typ as i32),
        data,
        ..Default::default()
    });
    m
}

// Whether the local append thread has anything to do: entries, hard state
// or a snapshot to persist, or messages that must wait for all prior
// appends.
fn need_storage_append_msg<S: Storage>(r: &Raft<S>, rd: &Ready) -> bool {
    !rd.entries.is_empty()
        || !is_empty_hard_state(rd.hard_state.as_ref())
        || !is_empty_snap(rd.snapshot.as_ref())
        || !r.msgs_after_append.is_empty()
}

/// Message buffers at most this large are not kept around empty: a first
/// push allocates this much anyway (Rust's minimum for 160-byte elements),
/// and idle nodes then hold no buffers. Larger ones are reused, so that a
/// busy node's queues do not regrow (and copy their messages) every Ready.
const SMALL_MSG_BUF: usize = 4;

// A fresh message queue presized for `n` messages, unless that is small.
#[inline]
fn presized(n: usize) -> Vec<Message> {
    if n > SMALL_MSG_BUF {
        buffers::messages_vec(n)
    } else {
        Vec::new()
    }
}

// Releases an emptied message buffer unless it is large enough to be worth
// reusing.
#[inline]
fn release_if_small(v: &mut Vec<Message>) {
    if v.capacity() != 0 && v.capacity() <= SMALL_MSG_BUF {
        *v = Vec::new();
    }
}

// Whether raft must hear back about stabilized entries or an installed
// snapshot. In-progress entries count too (see etcd's comment on
// newStorageAppendRespMsg): the ack may be needed to truncate the unstable
// log after an earlier ack was dropped because of a term change.
fn need_storage_append_resp_msg<S: Storage>(r: &Raft<S>, snapshot: Option<&Snapshot>) -> bool {
    r.raft_log.has_next_or_in_progress_unstable_ents() || !is_empty_snap(snapshot)
}

// The MsgStorageAppend for the local append thread: what to persist, and
// the messages to deliver once it is persisted.
fn new_storage_append_msg<S: Storage>(r: &mut Raft<S>, rd: &Ready, take: bool) -> Message {
    let mut m = Message::new(MessageType::MsgStorageAppend);
    m.to = LOCAL_APPEND_THREAD;
    m.from = r.id;
    m.entries = rd.entries.clone();
    if let Some(hs) = rd.hard_state.filter(|hs| !hs.is_empty()) {
        // The hard state travels in the message's fields; left zero when
        // unchanged so that the reconstructed hard state is empty.
        m.term = hs.term;
        m.vote = hs.vote;
        m.commit = hs.commit;
    }
    if !is_empty_snap(rd.snapshot.as_ref()) {
        m.snapshot = rd.snapshot.clone().map(Box::new);
    }
    // The self-directed MsgAppResp of a leader (in msgs_after_append) must
    // come before the MsgStorageAppendResp, so that it is handled while the
    // new entries are still in the unstable log.
    let snapshot = rd.snapshot.as_ref();
    let resp =
        need_storage_append_resp_msg(r, snapshot).then(|| new_storage_append_resp_msg(r, snapshot));
    m.responses = if take {
        mem::take(&mut r.msgs_after_append)
    } else {
        r.msgs_after_append.clone()
    };
    m.responses.extend(resp);
    m
}

// The acknowledgement that everything up to this Ready is persisted. It
// carries the current term: raft ignores it if the term changed meanwhile,
// because a newer append may then still overwrite the entries it names. It
// names the last index and term of the whole log (not of this Ready's
// entries), so that an ack is still useful after an earlier one was
// dropped; see etcd's long comment on newStorageAppendRespMsg.
fn new_storage_append_resp_msg<S: Storage>(r: &Raft<S>, snapshot: Option<&Snapshot>) -> Message {
    let mut m = Message::new(MessageType::MsgStorageAppendResp);
    m.to = r.id;
    m.from = LOCAL_APPEND_THREAD;
    m.term = r.term;
    if r.raft_log.has_next_or_in_progress_unstable_ents() {
        let last = r.raft_log.last_entry_id();
        m.index = last.index;
        m.log_term = last.term;
    }
    if !is_empty_snap(snapshot) {
        m.snapshot = snapshot.cloned().map(Box::new);
    }
    m
}

fn need_storage_apply_msg(rd: &Ready) -> bool {
    !rd.committed_entries.is_empty()
}

// The MsgStorageApply for the local apply thread, with the acknowledgement
// to deliver once the entries are applied. Committed entries do not apply
// under a particular term, hence term 0.
fn new_storage_apply_msg<S: Storage>(r: &Raft<S>, rd: &Ready) -> Message {
    let ents = rd.committed_entries.clone();
    let mut m = Message::new(MessageType::MsgStorageApply);
    m.to = LOCAL_APPLY_THREAD;
    m.from = r.id;
    m.term = 0;
    m.responses = vec![new_storage_apply_resp_msg(r, ents.clone())];
    m.entries = ents;
    m
}

fn new_storage_apply_resp_msg<S: Storage>(r: &Raft<S>, ents: Vec<Entry>) -> Message {
    let mut m = Message::new(MessageType::MsgStorageApplyResp);
    m.to = r.id;
    m.from = LOCAL_APPLY_THREAD;
    m.term = 0;
    m.entries = ents;
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::StateRole;
    use crate::storage::MemStorage;
    use crate::tests::support::{new_test_memory_storage, test_logger, with_peers};

    /// Found by the rawnode_step fuzz target: a candidate stepping a
    /// heartbeat of its term whose commit index lies beyond its log
    /// panicked in commitTo.
    #[test]
    fn heartbeat_committing_beyond_the_log_is_refused() {
        let store = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
        let mut raw = RawNode::new(&Config::new(1), store, &test_logger()).unwrap();
        raw.campaign().unwrap();
        assert_eq!(raw.raft.state, StateRole::Candidate);
        let mut m = Message::new(MessageType::MsgHeartbeat);
        m.from = 2;
        m.to = 1;
        m.term = raw.raft.term;
        m.commit = raw.raft.raft_log.last_index() + 3;
        assert!(matches!(raw.step(m.clone()), Err(Error::Decode(_))));
        // Within the log it is stepped as before.
        m.commit = raw.raft.raft_log.last_index();
        raw.step(m).unwrap();
        assert_eq!(raw.raft.state, StateRole::Follower);
    }

    #[test]
    fn check_ranges_names_the_first_field_beyond_the_limit() {
        // Each checkable field at the limit passes and one past it fails,
        // naming that field; with several too large, the first one listed
        // is named (the bulk test up front must not change any verdict).
        type Setter = fn(&mut Message, u64);
        let setters: [(&str, Setter); 9] = [
            ("term", |m, v| m.term = v),
            ("log term", |m, v| m.log_term = v),
            ("index", |m, v| m.index = v),
            ("commit", |m, v| m.commit = v),
            ("reject hint", |m, v| m.reject_hint = v),
            ("snapshot index", |m, v| {
                m.snapshot
                    .get_or_insert_with(Default::default)
                    .metadata
                    .index = v
            }),
            ("snapshot term", |m, v| {
                m.snapshot
                    .get_or_insert_with(Default::default)
                    .metadata
                    .term = v
            }),
            ("entry index", |m, v| m.entries[1].index = v),
            ("entry term", |m, v| m.entries[1].term = v),
        ];
        let base = || {
            let mut m = Message::new(MessageType::MsgApp);
            m.entries = vec![Entry::default(), Entry::default()];
            m
        };
        for (i, (name, set)) in setters.iter().enumerate() {
            let mut m = base();
            set(&mut m, MAX_PEER_VALUE);
            assert!(check_ranges(&m).is_ok(), "{name} at the limit");
            set(&mut m, MAX_PEER_VALUE + 1);
            match check_ranges(&m) {
                Err(Error::Decode(s)) => assert!(s.starts_with(&format!("{name} ")), "{s}"),
                other => panic!("{name}: {other:?}"),
            }
            // A later field too large as well: still this one is named.
            if let Some((_, later)) = setters.get(i + 1) {
                later(&mut m, u64::MAX);
                match check_ranges(&m) {
                    Err(Error::Decode(s)) => assert!(s.starts_with(&format!("{name} ")), "{s}"),
                    other => panic!("{name}: {other:?}"),
                }
            }
        }
        // Only the last entry is checked, as before.
        let mut m = base();
        m.entries[0].index = u64::MAX;
        assert!(check_ranges(&m).is_ok());
    }

    fn node(id: u64, voters: &[u64], async_writes: bool) -> RawNode<MemStorage> {
        let mut cfg = Config::new(id);
        cfg.async_storage_writes = async_writes;
        RawNode::new(
            &cfg,
            new_test_memory_storage(vec![with_peers(voters)]),
            &test_logger(),
        )
        .unwrap()
    }

    // Persists and applies a Ready the way an application must, then advances.
    fn handle(rn: &mut RawNode<MemStorage>, rd: &Ready) {
        let s = rn.mut_store();
        if let Some(hs) = rd.hard_state {
            s.set_hard_state(hs).unwrap();
        }
        if let Some(snap) = &rd.snapshot {
            s.apply_snapshot(snap.clone()).unwrap();
        }
        s.append(&rd.entries).unwrap();
        rn.advance();
    }

    // Node 1 alone, campaigned and with every Ready handled: the leader of a
    // one-voter group, the starting point of several tests.
    fn elected_single_node() -> RawNode<MemStorage> {
        let mut rn = node(1, &[1], false);
        rn.campaign().unwrap();
        while rn.has_ready() {
            let rd = rn.ready();
            handle(&mut rn, &rd);
        }
        rn
    }

    #[test]
    fn conf_changes_through_dyn() {
        let mut rn = elected_single_node();
        let v1 = ConfChange {
            change_type: ConfChangeType::ConfChangeAddLearnerNode as i32,
            node_id: 2,
            ..Default::default()
        };
        let cc: &dyn ConfChangeI = &v1;
        rn.propose_conf_change(cc).unwrap();
        let rd = rn.ready();
        let last = rd.entries.last().unwrap();
        assert_eq!(last.get_type(), EntryType::EntryConfChange);
        assert_eq!(ConfChange::decode(last.data.clone()).unwrap(), v1);
        let cs = rn.apply_conf_change(cc).unwrap();
        assert_eq!((cs.voters, cs.learners), (vec![1], vec![2]));
    }

    #[test]
    fn step_refuses_local_messages_and_unknown_responders() {
        let mut rn = node(1, &[1, 2], false);
        let mut hup = Message::new(MessageType::MsgHup);
        hup.from = 2;
        assert_eq!(rn.step(hup), Err(Error::StepLocalMsg));

        let mut resp = Message::new(MessageType::MsgAppResp);
        resp.from = 3;
        resp.term = 1;
        assert_eq!(rn.step(resp.clone()), Err(Error::StepPeerNotFound));
        // A known peer's response is let through, with a term or without
        // (etcd steps a termless one as a local message).
        resp.from = 2;
        assert_eq!(rn.step(resp.clone()), Ok(()));
        resp.term = 0;
        assert_eq!(rn.step(resp.clone()), Ok(()));
        // Beyond etcd, strict peer checks refuse the termless one.
        let mut cfg = Config::new(1);
        cfg.strict_peer_checks = true;
        let store = new_test_memory_storage(vec![with_peers(&[1, 2])]);
        let mut strict = RawNode::new(&cfg, store, &test_logger()).unwrap();
        assert_eq!(strict.step(resp), Err(Error::StepLocalMsg));
    }

    #[test]
    fn bootstrap_refusals_and_first_ready() {
        let mut rn = RawNode::new(&Config::new(1), MemStorage::new(), &test_logger()).unwrap();
        assert_eq!(
            rn.bootstrap(&[]).unwrap_err().to_string(),
            "must provide at least one peer to Bootstrap"
        );
        let peers = [
            Peer {
                id: 1,
                context: Bytes::new(),
            },
            Peer {
                id: 2,
                context: Bytes::from_static(b"ctx"),
            },
        ];
        rn.bootstrap(&peers).unwrap();
        assert!(rn.has_ready());
        let rd = rn.ready();
        // Both conf changes are to be persisted and applied, at term 1.
        assert_eq!(rd.entries.len(), 2);
        assert_eq!(rd.committed_entries, rd.entries);
        assert_eq!(
            rd.hard_state,
            Some(HardState {
                term: 1,
                vote: 0,
                commit: 2
            })
        );
        assert!(rd.must_sync);
        let cc = ConfChange::decode(rd.entries[1].data.clone()).unwrap();
        assert_eq!((cc.node_id, &cc.context[..]), (2, &b"ctx"[..]));
        handle(&mut rn, &rd);
        // The peers were applied by bootstrap already: the node can campaign.
        assert_eq!(rn.raft.trk.voter_nodes(), vec![1, 2]);
        rn.campaign().unwrap();
        assert_eq!(rn.basic_status().raft_state(), StateRole::Candidate);

        let mut again = RawNode::new(&Config::new(1), rn.store().clone(), &test_logger()).unwrap();
        assert_eq!(
            again.bootstrap(&peers).unwrap_err().to_string(),
            "can't bootstrap a nonempty Storage"
        );
    }

    #[test]
    fn ready_equals_ready_without_accept_then_accept() {
        // The fast path of `ready` moves what the slow path clones; both must
        // hand out the same work and leave the node in the same state.
        let mut a = node(1, &[1, 2], false);
        let mut b = node(1, &[1, 2], false);
        let drive = |rn: &mut RawNode<MemStorage>, step: usize| match step {
            0 => rn.campaign().unwrap(),
            1 => {
                let mut m = Message::new(MessageType::MsgVoteResp);
                m.from = 2;
                m.to = 1;
                m.term = 1;
                rn.step(m).unwrap();
            }
            2 => rn.propose(Bytes::from_static(b"x")).unwrap(),
            3 => {
                let mut m = Message::new(MessageType::MsgAppResp);
                m.from = 2;
                m.to = 1;
                m.term = 1;
                m.index = rn.raft.raft_log.last_index();
                rn.step(m).unwrap();
            }
            _ => rn.read_index(Bytes::from_static(b"r")),
        };
        for step in 0..5 {
            drive(&mut a, step);
            drive(&mut b, step);
            while a.has_ready() {
                assert!(b.has_ready());
                let ra = a.ready();
                let rb = b.ready_without_accept();
                b.accept_ready(&rb);
                assert_eq!(ra, rb, "step {step}");
                handle(&mut a, &ra);
                handle(&mut b, &rb);
            }
            assert!(!b.has_ready());
        }
        assert_eq!(a.status(), b.status());
        assert_eq!(a.basic_status().raft_state(), StateRole::Leader);
        assert_eq!(a.basic_status().commit(), 2);
    }

    #[test]
    fn async_writes_hand_work_to_local_threads() {
        let mut rn = node(1, &[1], true);
        rn.campaign().unwrap();
        let rd = rn.ready();
        // The self-vote rides along with the append of the new term's hard
        // state: it counts only once that is persisted.
        let append = rd
            .messages
            .iter()
            .find(|m| m.get_type() == MessageType::MsgStorageAppend)
            .expect("a MsgStorageAppend");
        assert_eq!(append.to, LOCAL_APPEND_THREAD);
        assert_eq!((append.term, append.vote), (1, 1));
        assert!(append
            .responses
            .iter()
            .any(|m| m.get_type() == MessageType::MsgVoteResp && m.to == 1));
        assert_eq!(rn.basic_status().raft_state(), StateRole::Candidate);
        for m in append.responses.clone() {
            rn.step(m).unwrap();
        }
        assert_eq!(rn.basic_status().raft_state(), StateRole::Leader);
    }

    #[test]
    #[should_panic(expected = "Advance must not be called when using AsyncStorageWrites")]
    fn advance_is_refused_with_async_writes() {
        let mut rn = node(1, &[1], true);
        rn.advance();
    }

    #[test]
    fn status_json_form() {
        let rn = elected_single_node();
        let st = rn.status();
        assert_eq!(st.raft_state(), StateRole::Leader);
        assert_eq!(
            st.to_string(),
            r#"{"id":"1","term":1,"vote":"1","commit":1,"lead":"1","raftState":"StateLeader","applied":1,"progress":{"1":{"match":1,"next":2,"state":"StateReplicate"}},"leadtransferee":"0"}"#
        );
        let mut seen = Vec::new();
        rn.with_progress(|id, typ, pr| seen.push((id, typ, pr.matched)));
        assert_eq!(seen, vec![(1, ProgressType::Peer, 1)]);
    }
}
