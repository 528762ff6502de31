//! Shared helpers for the ported etcd tests, so that no test file grows its
//! own copy: the Rust counterparts of the helpers at the end of etcd's
//! `raft_test.go`, `raft_paper_test.go`, `rawnode_test.go`, `node_test.go`,
//! `log_test.go` and `diff_test.go`. Use them with `use super::support::*;`.
//!
//! # Overview
//!
//! * Builders: [`new_test_config`] (etcd `newTestConfig`: no message size
//!   limit, 256 appends in flight), [`new_test_memory_storage`] with
//!   [`with_peers`] / [`with_learners`], [`mem_storage_with_ents`] (etcd's
//!   `&MemoryStorage{ents: ...}`), [`new_raft`], [`new_test_raft`],
//!   [`new_test_learner_raft`], [`new_log`], [`ents_with_config`],
//!   [`voted_with_config`], [`pre_vote_config`], [`ids_by_size`],
//!   [`test_logger`] (discards), [`NO_LIMIT`], [`new_test_raw_node`] (over
//!   any storage).
//! * Entries and messages: [`index`]`(i).terms(&[..])` /
//!   [`Index::term_range`], [`new_entry`], [`new_entry_with_data`],
//!   [`entry_with_data`], [`entry_of_type`], [`entries`], [`new_message`],
//!   [`msg_term`], [`typed_entry`], [`prop_msg`] / [`new_prop`],
//!   [`empty_prop`], [`conf_change`] (v1), [`conf_change_v2`],
//!   [`conf_change_single`], [`snapshot`] / [`snapshot_with_conf_state`],
//!   [`accept_and_reply`], [`sort_messages`] (etcd's `messageSlice` order).
//! * Driving one raft ([`RaftTestExt`], implemented for [`TestRaft`]):
//!   `read_messages`, `advance_messages_after_append`,
//!   `take_messages_after_append`, `step_or_send`, `must_append_entry`,
//!   `next_ents`, `commit_noop_entry`, `storage_mut`, `expect_one_message`,
//!   and `pr` / `pr_mut` for `r.trk.Progress[id]`.
//! * The test network ([`Network`]): etcd's `network` with `send` (a `Vec`)
//!   and `send1` (one message), `drop`, `cut`, `isolate`, `ignore`,
//!   `recover` and `msg_hook`. Peers are [`Peer`]s: [`Peer::Nil`] (the
//!   network builds a fresh raft, etcd's `nil`), a raft of yours
//!   (`raft.into()`), or [`NOP_STEPPER`] (a black hole). The network owns
//!   the rafts: reach them with [`Network::peer`] / [`Network::peer_mut`]
//!   (or `nt.peers[&id]`, which derefs to the raft), and their storages
//!   with [`Network::storage_mut`]. Drops use a seeded PRNG, so runs
//!   reproduce.
//! * Storages: [`IgnoreSizeHintMemStorage`] (etcd's
//!   `ignoreSizeHintMemStorage`).
//! * Expected panics: [`panics`].
//! * Randomness: [`TestRng`], the seeded PRNG every test that draws
//!   random choices uses.
//! * Logs: [`ltoa`] renders a log the way etcd's tests compare logs; compare
//!   two renderings with `assert_eq!`.
//!
//! ```ignore
//! let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, NOP_STEPPER]);
//! nt.send1(new_message(1, 1, MessageType::MsgHup));
//! nt.send1(prop_msg(1, b"somedata"));
//! assert_eq!(nt.peer(1).state, StateRole::Leader);
//! let committed = nt.peer_mut(1).next_ents();
//! ```
//!
//! Differences from etcd forced by Rust ownership: a raft owns its storage,
//! so where etcd's tests keep a `*MemoryStorage` next to the raft, these
//! helpers reach the storage through the raft
//! ([`RaftTestExt::storage_mut`], [`Network::storage_mut`]); and where etcd
//! keeps a `*raft` after handing it to `newNetwork`, use the network's
//! accessors.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::{Deref, DerefMut};

use bytes::Bytes;

use crate::config::Config;
use crate::eraftpb::{
    ConfChange, ConfChangeSingle, ConfChangeTransition, ConfChangeType, ConfChangeV2, ConfState,
    Entry, EntryType, HardState, Message, MessageType, Snapshot, SnapshotMetadata,
};
use crate::raft::Raft;
use crate::raft_log::RaftLog;
use crate::raw_node::RawNode;
use crate::storage::{MemStorage, Storage};
use crate::tracker::{Progress, ProgressTracker};

/// etcd's `noLimit`: no size limit on messages or reads.
pub const NO_LIMIT: u64 = u64::MAX;

/// The raft every ported test drives.
pub type TestRaft = Raft<MemStorage>;

/// A logger that drops everything: the tests assert on state, not on logs.
pub fn test_logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

/// etcd's `newTestConfig`: `id`, the election and heartbeat ticks, no message
/// size limit and 256 appends in flight.
pub fn new_test_config(id: u64, election: usize, heartbeat: usize) -> Config {
    Config {
        id,
        election_tick: election,
        heartbeat_tick: heartbeat,
        max_size_per_msg: NO_LIMIT,
        max_inflight_msgs: 256,
        ..Default::default()
    }
}

/// One option of [`new_test_memory_storage`] (etcd's
/// `testMemoryStorageOptions`).
pub enum StorageOpt {
    /// The voters of the initial configuration.
    Peers(Vec<u64>),
    /// The learners of the initial configuration.
    Learners(Vec<u64>),
}

/// etcd's `withPeers`.
pub fn with_peers(peers: &[u64]) -> StorageOpt {
    StorageOpt::Peers(peers.to_vec())
}

/// etcd's `withLearners`.
pub fn with_learners(learners: &[u64]) -> StorageOpt {
    StorageOpt::Learners(learners.to_vec())
}

/// etcd's `newTestMemoryStorage`: an empty storage whose initial
/// configuration has the given voters and learners.
pub fn new_test_memory_storage(opts: Vec<StorageOpt>) -> MemStorage {
    let mut cs = ConfState::default();
    for o in opts {
        match o {
            StorageOpt::Peers(p) => cs.voters = p,
            StorageOpt::Learners(l) => cs.learners = l,
        }
    }
    MemStorage::new_with_conf_state(cs)
}

/// A storage holding exactly `ents` (etcd's `&MemoryStorage{ents: ents}`
/// literal): `ents[0]` is the dummy entry marking the compaction point.
pub fn mem_storage_with_ents(ents: Vec<Entry>) -> MemStorage {
    MemStorage::with_entries(&ents)
}

/// etcd's `newTestRawNode`: a `RawNode` over any storage (a plain
/// `MemStorage`, or one shared with the test through `Arc<RwLock<_>>`).
pub fn new_test_raw_node<S: Storage>(
    id: u64,
    election: usize,
    heartbeat: usize,
    storage: S,
) -> RawNode<S> {
    RawNode::new(
        &new_test_config(id, election, heartbeat),
        storage,
        &test_logger(),
    )
    .expect("invalid test raw node config")
}

/// etcd's `newRaft(cfg)` with our explicit storage and the test logger.
pub fn new_raft(cfg: &Config, storage: MemStorage) -> TestRaft {
    Raft::new(cfg, storage, &test_logger()).expect("invalid test raft config")
}

/// etcd's `newTestRaft`.
pub fn new_test_raft(id: u64, election: usize, heartbeat: usize, storage: MemStorage) -> TestRaft {
    new_raft(&new_test_config(id, election, heartbeat), storage)
}

/// Node `id` of the three voters 1, 2 and 3, fresh, with an election
/// timeout of 10 ticks and a heartbeat of 1: the peer most tests build.
pub fn three_voter_raft(id: u64) -> TestRaft {
    new_test_raft(
        id,
        10,
        1,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    )
}

/// etcd's `newTestLearnerRaft` (identical to [`new_test_raft`]: the storage
/// says who is a learner).
pub fn new_test_learner_raft(
    id: u64,
    election: usize,
    heartbeat: usize,
    storage: MemStorage,
) -> TestRaft {
    new_test_raft(id, election, heartbeat, storage)
}

/// A raft log over `storage` with the test logger (etcd's `newLog`).
pub fn new_log(storage: MemStorage) -> RaftLog<MemStorage> {
    RaftLog::new(storage, &test_logger())
}

/// etcd's `preVoteConfig`.
pub fn pre_vote_config(c: &mut Config) {
    c.pre_vote = true;
}

/// etcd's `entsWithConfig`: a raft (id 1, election 5, heartbeat 1) whose log
/// holds one entry per term in `terms`, reset to the last term.
pub fn ents_with_config(config_func: Option<fn(&mut Config)>, terms: &[u64]) -> TestRaft {
    let mut storage = MemStorage::new();
    for (i, &term) in terms.iter().enumerate() {
        storage
            .append(&[new_entry(i as u64 + 1, term)])
            .expect("append");
    }
    let mut cfg = new_test_config(1, 5, 1);
    if let Some(f) = config_func {
        f(&mut cfg);
    }
    let mut sm = new_raft(&cfg, storage);
    sm.reset(*terms.last().expect("at least one term"));
    sm
}

/// etcd's `votedWithConfig`: a raft (id 1, election 5, heartbeat 1) that
/// voted for `vote` in `term` but has no log entries.
pub fn voted_with_config(config_func: Option<fn(&mut Config)>, vote: u64, term: u64) -> TestRaft {
    let mut storage = MemStorage::new();
    storage
        .set_hard_state(HardState {
            term,
            vote,
            commit: 0,
        })
        .expect("set hard state");
    let mut cfg = new_test_config(1, 5, 1);
    if let Some(f) = config_func {
        f(&mut cfg);
    }
    let mut sm = new_raft(&cfg, storage);
    sm.reset(term);
    sm
}

/// etcd's `idsBySize`: `1..=size`.
pub fn ids_by_size(size: usize) -> Vec<u64> {
    (1..=size as u64).collect()
}

// ---------------------------------------------------------------------------
// Entries, messages, snapshots
// ---------------------------------------------------------------------------

/// The storage a node restarts from in etcd's TestNodeRestartFromSnapshot
/// and TestRawNodeRestartFromSnapshot: a snapshot at index 2 (voters 1 and
/// 2), one entry after it, and a hard state that commits that entry. Also
/// returns the entries, which the restarted node must hand out as committed.
pub fn restarted_from_snapshot_storage() -> (MemStorage, Vec<Entry>) {
    let snap = Snapshot {
        data: Bytes::new(),
        metadata: SnapshotMetadata {
            conf_state: ConfState {
                voters: vec![1, 2],
                ..Default::default()
            },
            index: 2,
            term: 1,
        },
    };
    let entries = vec![new_entry_with_data(3, 1, b"foo")];
    let st = HardState {
        term: 1,
        vote: 0,
        commit: 3,
    };
    let mut s = MemStorage::new();
    s.set_hard_state(st).unwrap();
    s.apply_snapshot(snap).unwrap();
    s.append(&entries).unwrap();
    (s, entries)
}

/// A normal entry at `index` of `term` with no data (etcd's
/// `pb.Entry{Index: i, Term: t}`).
pub fn new_entry(index: u64, term: u64) -> Entry {
    Entry {
        entry_type: None,
        term,
        index,
        data: Bytes::new(),
    }
}

/// A normal entry at `index` of `term` carrying `data`.
pub fn new_entry_with_data(index: u64, term: u64, data: &'static [u8]) -> Entry {
    Entry {
        data: Bytes::from_static(data),
        ..new_entry(index, term)
    }
}

/// An entry of type `t` at `index` and `term` carrying `data` (conf
/// change entries hold the encoded change).
pub fn typed_entry(index: u64, term: u64, t: EntryType, data: impl Into<Bytes>) -> Entry {
    Entry {
        entry_type: Some(t as i32),
        term,
        index,
        data: data.into(),
    }
}

/// Entries `(index, term)` for each pair, in order.
pub fn entries(pairs: &[(u64, u64)]) -> Vec<Entry> {
    pairs.iter().map(|&(i, t)| new_entry(i, t)).collect()
}

/// An entry with only `data` set (etcd's `pb.Entry{Data: data}`), as
/// proposals carry them.
pub fn entry_with_data(data: &'static [u8]) -> Entry {
    Entry {
        data: Bytes::from_static(data),
        ..Entry::default()
    }
}

/// An entry of type `t` with no data.
pub fn entry_of_type(t: EntryType) -> Entry {
    Entry {
        entry_type: Some(t as i32),
        ..Entry::default()
    }
}

/// The first index of a run of entries (etcd's `index` helper type of
/// `log_test.go`): `index(3).terms(&[1, 2])` is entries 3 (term 1) and 4
/// (term 2).
#[derive(Clone, Copy, Debug)]
pub struct Index(pub u64);

/// etcd's `index(i)`.
pub fn index(i: u64) -> Index {
    Index(i)
}

impl Index {
    /// Entries at `i, i+1, ...` with the given terms.
    pub fn terms(self, terms: &[u64]) -> Vec<Entry> {
        terms
            .iter()
            .enumerate()
            .map(|(k, &t)| new_entry(self.0 + k as u64, t))
            .collect()
    }

    /// Entries at `i, i+1, ...` with terms `from..to`.
    pub fn term_range(self, from: u64, to: u64) -> Vec<Entry> {
        (from..to)
            .enumerate()
            .map(|(k, t)| new_entry(self.0 + k as u64, t))
            .collect()
    }
}

/// A message of type `t` from `from` to `to`, everything else zero.
pub fn new_message(from: u64, to: u64, t: MessageType) -> Message {
    let mut m = Message::new(t);
    m.from = from;
    m.to = to;
    m
}

/// [`new_message`] with a term.
pub fn msg_term(from: u64, to: u64, t: MessageType, term: u64) -> Message {
    Message {
        term,
        ..new_message(from, to, t)
    }
}

/// etcd's `MsgProp` with one entry carrying `data`, from and to `id`
/// (the same as [`prop_msg`]; kept for the helpers that started with it).
pub fn new_prop(id: u64, data: &'static [u8]) -> Message {
    prop_msg(id, data)
}

/// etcd's `pb.Message{From: id, To: id, Type: MsgProp, Entries: {{Data: data}}}`.
pub fn prop_msg(id: u64, data: &'static [u8]) -> Message {
    let mut m = new_message(id, id, MessageType::MsgProp);
    m.entries.push(entry_with_data(data));
    m
}

/// A proposal of one empty entry (etcd's `Entries: []*pb.Entry{{}}`).
pub fn empty_prop(id: u64) -> Message {
    let mut m = new_message(id, id, MessageType::MsgProp);
    m.entries.push(Entry::default());
    m
}

/// One change of a `ConfChangeV2`: `t` applied to `node_id`.
pub fn conf_change_single(t: ConfChangeType, node_id: u64) -> ConfChangeSingle {
    ConfChangeSingle {
        change_type: t as i32,
        node_id,
    }
}

/// A v1 `ConfChange`: `t` applied to `node_id`, no context.
pub fn conf_change(t: ConfChangeType, node_id: u64) -> ConfChange {
    ConfChange {
        change_type: t as i32,
        node_id,
        ..Default::default()
    }
}

/// etcd's `(&pb.ConfChange{Type: t, NodeId: id}).AsV2()`: one simple change.
pub fn conf_change_v2(t: ConfChangeType, node_id: u64) -> ConfChangeV2 {
    ConfChangeV2 {
        transition: ConfChangeTransition::ConfChangeTransitionAuto as i32,
        changes: vec![conf_change_single(t, node_id)],
        context: Bytes::new(),
    }
}

/// A snapshot at `index`/`term` with the given voters.
pub fn snapshot(index: u64, term: u64, voters: &[u64]) -> Snapshot {
    snapshot_with_conf_state(
        index,
        term,
        ConfState {
            voters: voters.to_vec(),
            ..ConfState::default()
        },
    )
}

/// A snapshot at `index`/`term` with any configuration, and no data.
pub fn snapshot_with_conf_state(index: u64, term: u64, conf_state: ConfState) -> Snapshot {
    Snapshot {
        data: Bytes::new(),
        metadata: SnapshotMetadata {
            conf_state,
            index,
            term,
        },
    }
}

/// etcd's `acceptAndReply`: the successful `MsgAppResp` to the `MsgApp` `m`.
pub fn accept_and_reply(m: &Message) -> Message {
    assert_eq!(m.get_type(), MessageType::MsgApp, "type should be MsgApp");
    let mut r = new_message(m.to, m.from, MessageType::MsgAppResp);
    r.term = m.term;
    r.index = m.index + m.entries.len() as u64;
    r
}

/// Sorts like etcd's `messageSlice`: by recipient, then type, then sender.
pub fn sort_messages(msgs: &mut [Message]) {
    msgs.sort_by_key(|m| (m.to, m.msg_type, m.from));
}

/// etcd's `ltoa`: the log's last index, applied and applying indexes, and
/// every entry, one per line, for comparing logs.
pub fn ltoa<S: Storage>(l: &RaftLog<S>) -> String {
    let mut s = format!("lastIndex: {}\n", l.last_index());
    s += &format!("applied:  {}\n", l.applied);
    s += &format!("applying:  {}\n", l.applying);
    for (i, e) in l.all_entries().iter().enumerate() {
        s += &format!("#{i}: {e:?}\n");
    }
    s
}

/// A storage that ignores the size limit of `entries` (etcd's
/// `ignoreSizeHintMemStorage`), like a user storage whose limit is a little
/// looser than raft's.
/// Wraps a plain `MemStorage` by default, or any other storage (such as the
/// `Arc<RwLock<MemStorage>>` a threaded node shares with its test).
#[derive(Clone, Debug, Default)]
pub struct IgnoreSizeHintMemStorage<S = MemStorage>(pub S);

impl<S: Storage> Storage for IgnoreSizeHintMemStorage<S> {
    fn initial_state(&self) -> crate::Result<(HardState, ConfState)> {
        self.0.initial_state()
    }
    fn entries(&self, lo: u64, hi: u64, _max_size: u64) -> crate::Result<Vec<Entry>> {
        self.0.entries(lo, hi, NO_LIMIT)
    }
    fn term(&self, i: u64) -> crate::Result<u64> {
        self.0.term(i)
    }
    fn last_index(&self) -> crate::Result<u64> {
        self.0.last_index()
    }
    fn first_index(&self) -> crate::Result<u64> {
        self.0.first_index()
    }
    fn snapshot(&self) -> crate::Result<Snapshot> {
        self.0.snapshot()
    }
}

// ---------------------------------------------------------------------------
// Driving a single raft
// ---------------------------------------------------------------------------

/// Test-only operations on a raft, etcd's helpers defined on `*raft` in its
/// tests.
pub trait RaftTestExt {
    /// etcd's `readMessages`: runs the post-append steps, then takes the
    /// outgoing messages.
    fn read_messages(&mut self) -> Vec<Message>;
    /// etcd's `advanceMessagesAfterAppend` (a test helper in etcd): steps
    /// or queues the messages that wait for the log append, until none are
    /// left.
    fn advance_messages_after_append(&mut self);
    /// etcd's `takeMessagesAfterAppend`.
    fn take_messages_after_append(&mut self) -> Vec<Message>;
    /// etcd's `stepOrSend`: steps the messages addressed to this raft,
    /// queues the others for sending.
    fn step_or_send(&mut self, msgs: Vec<Message>) -> crate::Result<()>;
    /// etcd's `mustAppendEntry`.
    fn must_append_entry(&mut self, ents: Vec<Entry>);
    /// The raft's own storage (etcd's tests hold it separately).
    fn storage_mut(&mut self) -> &mut MemStorage;
    /// etcd's `nextEnts`: persists the unstable entries, runs the post-append
    /// steps, and returns (and marks applied) the committed entries.
    fn next_ents(&mut self) -> Vec<Entry>;
    /// etcd's `commitNoopEntry`: has the leader's empty entry acknowledged by
    /// everyone, persisted and applied.
    fn commit_noop_entry(&mut self);
    /// etcd's `expectOneMessage`.
    fn expect_one_message(&mut self) -> Message;
    /// The progress of peer `id` (etcd's `r.trk.Progress[id]`).
    fn pr(&self, id: u64) -> &Progress;
    /// The progress of peer `id`, mutably.
    fn pr_mut(&mut self, id: u64) -> &mut Progress;
}

impl RaftTestExt for TestRaft {
    fn read_messages(&mut self) -> Vec<Message> {
        self.advance_messages_after_append();
        std::mem::take(&mut self.msgs)
    }

    fn advance_messages_after_append(&mut self) {
        loop {
            let msgs = self.take_messages_after_append();
            if msgs.is_empty() {
                break;
            }
            // etcd ignores the error here too.
            let _ = self.step_or_send(msgs);
        }
    }

    fn take_messages_after_append(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.msgs_after_append)
    }

    fn step_or_send(&mut self, msgs: Vec<Message>) -> crate::Result<()> {
        for m in msgs {
            if m.to == self.id {
                self.step(m)?;
            } else {
                self.msgs.push(m);
            }
        }
        Ok(())
    }

    fn must_append_entry(&mut self, ents: Vec<Entry>) {
        assert!(self.append_entry(ents), "entry unexpectedly dropped");
    }

    fn storage_mut(&mut self) -> &mut MemStorage {
        &mut self.raft_log.storage
    }

    fn next_ents(&mut self) -> Vec<Entry> {
        // Persist the unstable entries.
        let unstable = self.raft_log.next_unstable_ents().to_vec();
        self.storage_mut().append(&unstable).expect("append");
        let last = self.raft_log.last_entry_id();
        self.raft_log.stable_to(last);
        // The post-append steps (self-acknowledgements etc.).
        self.advance_messages_after_append();
        // Apply what is committed.
        let ents = self.raft_log.next_committed_ents(true);
        let committed = self.raft_log.committed;
        self.raft_log.applied_to(committed, 0);
        ents
    }

    fn commit_noop_entry(&mut self) {
        assert!(
            self.state == crate::raft::StateRole::Leader,
            "it should only be used when it is the leader"
        );
        self.bcast_append();
        // Every follower acknowledges the empty entry.
        for m in self.read_messages() {
            assert!(
                m.get_type() == MessageType::MsgApp
                    && m.entries.len() == 1
                    && m.entries[0].data.is_empty(),
                "not a message to append noop entry"
            );
            let _ = self.step(accept_and_reply(&m));
        }
        // Drop the appends that only refresh the followers' commit index.
        self.read_messages();
        let unstable = self.raft_log.next_unstable_ents().to_vec();
        self.storage_mut().append(&unstable).expect("append");
        let committed = self.raft_log.committed;
        self.raft_log.applied_to(committed, 0);
        let last = self.raft_log.last_entry_id();
        self.raft_log.stable_to(last);
    }

    fn expect_one_message(&mut self) -> Message {
        let mut msgs = self.read_messages();
        assert_eq!(msgs.len(), 1, "expect one message: {msgs:?}");
        msgs.pop().unwrap()
    }

    fn pr(&self, id: u64) -> &Progress {
        self.trk.progress.get(id).expect("no progress for peer")
    }

    fn pr_mut(&mut self, id: u64) -> &mut Progress {
        self.trk.progress.get_mut(id).expect("no progress for peer")
    }
}

// ---------------------------------------------------------------------------
// The test network
// ---------------------------------------------------------------------------

/// A member of a [`Network`] (etcd's `stateMachine`).
pub enum Peer {
    /// Only as input to [`Network::new`]: build a fresh raft for this slot
    /// (etcd's `nil`).
    Nil,
    /// A raft state machine.
    Raft(Box<TestRaft>),
    /// Swallows every message and never answers (etcd's `blackHole`).
    BlackHole,
}

/// etcd's `nopStepper`.
pub const NOP_STEPPER: Peer = Peer::BlackHole;

impl From<TestRaft> for Peer {
    fn from(r: TestRaft) -> Peer {
        Peer::Raft(Box::new(r))
    }
}

impl Peer {
    /// The raft, if this is one.
    pub fn raft(&self) -> Option<&TestRaft> {
        match self {
            Peer::Raft(r) => Some(r),
            _ => None,
        }
    }
}

impl Deref for Peer {
    type Target = TestRaft;
    fn deref(&self) -> &TestRaft {
        match self {
            Peer::Raft(r) => r,
            _ => panic!("peer is not a raft"),
        }
    }
}

impl DerefMut for Peer {
    fn deref_mut(&mut self) -> &mut TestRaft {
        match self {
            Peer::Raft(r) => r,
            _ => panic!("peer is not a raft"),
        }
    }
}

/// A message hook: returns false to drop the message (etcd's `msgHook`).
pub type MsgHook = Box<dyn FnMut(&Message) -> bool>;

/// etcd's test `network`: peers `1..=n` exchanging messages synchronously,
/// with per-link drop rates, ignored message types and an optional hook.
pub struct Network {
    /// The peers by id.
    pub peers: BTreeMap<u64, Peer>,
    /// Drop probability per (from, to) link.
    dropm: HashMap<(u64, u64), f64>,
    /// Message types that are never delivered.
    ignorem: HashSet<MessageType>,
    /// Called for each message sent; false drops it.
    pub msg_hook: Option<MsgHook>,
    /// A deterministic PRNG for the drop decisions, so runs reproduce.
    rng: TestRng,
}

impl Network {
    /// etcd's `newNetwork`.
    pub fn new(peers: Vec<Peer>) -> Network {
        Network::new_with_config(None, peers)
    }

    /// etcd's `newNetworkWithConfig`: like [`Network::new`], with
    /// `config_func` applied to the configs of the rafts it builds.
    pub fn new_with_config(config_func: Option<fn(&mut Config)>, peers: Vec<Peer>) -> Network {
        let size = peers.len();
        let peer_addrs = ids_by_size(size);
        let mut npeers = BTreeMap::new();
        for (j, p) in peers.into_iter().enumerate() {
            let id = peer_addrs[j];
            match p {
                Peer::Nil => {
                    let storage = new_test_memory_storage(vec![with_peers(&peer_addrs)]);
                    let mut cfg = new_test_config(id, 10, 1);
                    if let Some(f) = config_func {
                        f(&mut cfg);
                    }
                    npeers.insert(id, Peer::from(new_raft(&cfg, storage)));
                }
                Peer::Raft(mut v) => {
                    // Rebuild the tracker so that it knows every peer of
                    // the network, keeping the learners learners.
                    let learners: Vec<u64> = v.trk.config.learners.iter().collect();
                    v.id = id;
                    let lim = v.trk.inflight_limits;
                    let mut trk = ProgressTracker::new(lim.max_inflight, lim.max_bytes);
                    for &pid in &peer_addrs {
                        let mut pr = Progress::new(0);
                        if learners.contains(&pid) {
                            pr.is_learner = true;
                            trk.config.learners.insert(pid);
                        } else {
                            trk.config.voters[0].insert(pid);
                        }
                        trk.progress.insert(pid, pr);
                    }
                    v.trk = trk;
                    let term = v.term;
                    v.reset(term);
                    npeers.insert(id, Peer::Raft(v));
                }
                Peer::BlackHole => {
                    npeers.insert(id, Peer::BlackHole);
                }
            }
        }
        Network {
            peers: npeers,
            dropm: HashMap::new(),
            ignorem: HashSet::new(),
            msg_hook: None,
            rng: TestRng(0x9e37_79b9_7f4a_7c15),
        }
    }

    /// The raft at `id`.
    pub fn peer(&self, id: u64) -> &TestRaft {
        &self.peers[&id]
    }

    /// The raft at `id`, mutably.
    pub fn peer_mut(&mut self, id: u64) -> &mut TestRaft {
        self.peers.get_mut(&id).expect("no such peer")
    }

    /// The storage of the raft at `id` (etcd's `nw.storage[id]`).
    pub fn storage_mut(&mut self, id: u64) -> &mut MemStorage {
        self.peer_mut(id).storage_mut()
    }

    /// etcd's `send`: delivers `msgs` and everything they cause, until the
    /// network is quiet.
    pub fn send(&mut self, msgs: Vec<Message>) {
        let mut queue: std::collections::VecDeque<Message> = msgs.into();
        while let Some(m) = queue.pop_front() {
            let p = self.peers.get_mut(&m.to).expect("message to unknown peer");
            let out = match p {
                Peer::Raft(r) => {
                    let _ = r.step(m);
                    r.read_messages()
                }
                _ => Vec::new(),
            };
            let out = self.filter(out);
            queue.extend(out);
        }
    }

    /// [`send`](Network::send) of one message.
    pub fn send1(&mut self, m: Message) {
        self.send(vec![m]);
    }

    /// etcd's `drop`: drops messages from `from` to `to` with probability
    /// `perc`.
    pub fn drop(&mut self, from: u64, to: u64, perc: f64) {
        self.dropm.insert((from, to), perc);
    }

    /// etcd's `cut`: no messages between `one` and `other`.
    pub fn cut(&mut self, one: u64, other: u64) {
        self.drop(one, other, 2.0);
        self.drop(other, one, 2.0);
    }

    /// etcd's `isolate`: no messages to or from `id`.
    pub fn isolate(&mut self, id: u64) {
        for i in 0..self.peers.len() as u64 {
            let nid = i + 1;
            if nid != id {
                self.drop(id, nid, 1.0);
                self.drop(nid, id, 1.0);
            }
        }
    }

    /// etcd's `ignore`: never deliver messages of type `t`.
    pub fn ignore(&mut self, t: MessageType) {
        self.ignorem.insert(t);
    }

    /// etcd's `recover`: heals all drops and ignores.
    pub fn recover(&mut self) {
        self.dropm.clear();
        self.ignorem.clear();
    }

    fn filter(&mut self, msgs: Vec<Message>) -> Vec<Message> {
        let mut mm = Vec::with_capacity(msgs.len());
        for m in msgs {
            let t = m.get_type();
            if self.ignorem.contains(&t) {
                continue;
            }
            // Hups never go over the network.
            assert!(t != MessageType::MsgHup, "unexpected msgHup");
            let perc = self.dropm.get(&(m.from, m.to)).copied().unwrap_or(0.0);
            if self.rng.next_f64() < perc {
                continue;
            }
            if let Some(hook) = self.msg_hook.as_mut() {
                if !hook(&m) {
                    continue;
                }
            }
            mm.push(m);
        }
        mm
    }
}

/// Runs `f` and says whether it panicked: for the cases where etcd's tests
/// expect one of raft's own invariant panics.
pub fn panics(f: impl FnOnce()) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err()
}

/// The one small deterministic PRNG of the tests (xorshift64*): the test
/// network's drops, the rafttest network's drops and delays, and the fuzz
/// tests draw from it, so every run makes the same choices and a failure
/// replays. The field is the raw state (never 0).
#[derive(Clone, Debug)]
pub struct TestRng(pub u64);

impl TestRng {
    /// A generator for `seed` (any value, 0 included: the state is spread
    /// and forced odd, since xorshift stays at 0 forever).
    pub fn new(seed: u64) -> TestRng {
        TestRng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A uniform float in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in [0, n); 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// One element of the non-empty `xs`.
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// True with `pct` percent probability.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}
