//! Random, often malformed, peer messages stepped into a [`RawNode`] in
//! every mode the application can choose (synchronous or asynchronous
//! storage writes, pre-vote, check-quorum, lease-based reads) and every
//! configuration shape (plain voters, learners, joint, the node itself a
//! learner), in every role. The node must never panic, and its `Ready`s
//! must stay usable. Not part of etcd's tests: they are our guard for the
//! "no panic on peer input" rule.
//!
//! Left out, as etcd's deliberate panic on a peer claiming what cannot be
//! (the log was lost): a heartbeat committing beyond the log.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use bytes::Bytes;

use super::support::{msg_term, new_test_config, snapshot_with_conf_state, test_logger, TestRng};
use crate::config::{LOCAL_APPEND_THREAD, NONE};
use crate::eraftpb::prost::Message as _;
use crate::eraftpb::{
    ConfChange, ConfChangeSingle, ConfChangeType, ConfChangeV2, ConfState, Entry, EntryType,
    Message, MessageType, Snapshot, SnapshotMetadata,
};
use crate::raw_node::RawNode;
use crate::read_only::ReadOnlyOption;
use crate::storage::MemStorage;
use crate::util::is_local_msg_target;

/// The configurations node 1 starts in.
fn conf_states() -> Vec<ConfState> {
    vec![
        ConfState {
            voters: vec![1, 2, 3],
            ..Default::default()
        },
        ConfState {
            voters: vec![1, 2, 3],
            learners: vec![4, 5],
            ..Default::default()
        },
        // Joint: 3 leaves, 4 joins.
        ConfState {
            voters: vec![1, 2, 4],
            voters_outgoing: vec![1, 2, 3],
            ..Default::default()
        },
        // Joint with a demotion under way and auto-leave.
        ConfState {
            voters: vec![1, 2],
            voters_outgoing: vec![1, 2, 3],
            learners_next: vec![3],
            auto_leave: true,
            ..Default::default()
        },
        // The node itself is a learner.
        ConfState {
            voters: vec![2, 3],
            learners: vec![1],
            ..Default::default()
        },
        // A single voter: leads at once.
        ConfState {
            voters: vec![1],
            ..Default::default()
        },
    ]
}

const PEER_TYPES: [MessageType; 16] = [
    MessageType::MsgApp,
    MessageType::MsgAppResp,
    MessageType::MsgVote,
    MessageType::MsgVoteResp,
    MessageType::MsgSnap,
    MessageType::MsgHeartbeat,
    MessageType::MsgHeartbeatResp,
    MessageType::MsgTransferLeader,
    MessageType::MsgTimeoutNow,
    MessageType::MsgReadIndex,
    MessageType::MsgReadIndexResp,
    MessageType::MsgPreVote,
    MessageType::MsgPreVoteResp,
    MessageType::MsgProp,
    MessageType::MsgUnreachable,
    MessageType::MsgSnapStatus,
];

/// A random conf change payload: valid, invalid or undecodable.
fn conf_change_entry(rng: &mut TestRng) -> (EntryType, Bytes) {
    let node = rng.below(7);
    let typ = rng.pick(&[
        ConfChangeType::ConfChangeAddNode,
        ConfChangeType::ConfChangeRemoveNode,
        ConfChangeType::ConfChangeAddLearnerNode,
        ConfChangeType::ConfChangeUpdateNode,
    ]);
    match rng.below(3) {
        0 => {
            let cc = ConfChange {
                change_type: typ as i32,
                node_id: node,
                ..Default::default()
            };
            (EntryType::EntryConfChange, cc.encode_to_vec().into())
        }
        1 => {
            let n = rng.below(3) as usize;
            let cc = ConfChangeV2 {
                transition: rng.below(3) as i32,
                changes: (0..n)
                    .map(|_| ConfChangeSingle::new(typ, rng.below(7)))
                    .collect(),
                ..Default::default()
            };
            (EntryType::EntryConfChangeV2, cc.encode_to_vec().into())
        }
        _ => (
            rng.pick(&[EntryType::EntryConfChange, EntryType::EntryConfChangeV2]),
            Bytes::from_static(b"\xff\xff\xff garbage"),
        ),
    }
}

/// A random message to node 1, claiming to come from anyone: a member, a
/// stranger, node 1 itself, nobody or a local thread's id.
fn random_message(rng: &mut TestRng, last: u64, malformed: bool) -> Message {
    let t = rng.pick(&PEER_TYPES);
    let mut m = Message::new(t);
    m.to = 1;
    m.from = rng.pick(&[2, 2, 3, 3, 4, 5, 1, 0, 9, LOCAL_APPEND_THREAD]);
    m.term = if rng.chance(3) {
        rng.pick(&[u64::MAX / 2, 1 << 40, u64::MAX, u64::MAX - 1])
    } else {
        rng.below(5)
    };
    let near = |rng: &mut TestRng| (last + 3).saturating_sub(rng.below(last + 6));
    m.log_term = rng.below(5);
    m.index = near(rng);
    m.commit = near(rng);
    m.reject = rng.chance(30);
    m.reject_hint = near(rng);
    m.vote = rng.below(4);
    if rng.chance(10) {
        m.context = Bytes::from_static(b"CampaignTransfer");
    }
    let n = rng.below(4);
    let mut term = m.log_term;
    for i in 0..n {
        let (entry_type, data) = if rng.chance(20) {
            conf_change_entry(rng)
        } else {
            (EntryType::EntryNormal, Bytes::from_static(b"x"))
        };
        let index = if malformed {
            rng.below(last + 4)
        } else {
            m.index + 1 + i
        };
        // A well-formed slice has non-decreasing terms.
        term = if malformed {
            rng.below(5)
        } else {
            term.max(rng.below(5))
        };
        m.entries.push(Entry {
            entry_type: Some(entry_type as i32),
            term,
            index,
            data,
        });
    }
    if t == MessageType::MsgSnap || rng.chance(2) {
        let cs = rng.pick(&[0usize, 1, 2, 4, 5]);
        m.snapshot = Some(Box::new(Snapshot {
            data: Bytes::new(),
            metadata: SnapshotMetadata {
                conf_state: conf_states()[cs].clone(),
                index: if rng.chance(5) {
                    rng.pick(&[u64::MAX, u64::MAX - 1, 1 << 62])
                } else {
                    near(rng)
                },
                term: rng.below(5),
            },
        }));
    }
    m
}

/// Handles every `Ready` of `n` like an application would: persists,
/// applies (conf changes included, errors ignored as a real application
/// would reject them), and loops the local storage messages back.
fn drain(n: &mut RawNode<MemStorage>) {
    for _ in 0..20 {
        if !n.has_ready() {
            return;
        }
        let rd = n.ready();
        let sync = !n.async_storage_writes();
        if sync {
            persist(n, rd.hard_state, &rd.entries, rd.snapshot.as_ref());
            apply(n, &rd.committed_entries);
        }
        for mut m in rd.messages {
            if !is_local_msg_target(m.to) {
                continue;
            }
            let resps = std::mem::take(&mut m.responses);
            if m.get_type() == MessageType::MsgStorageAppend {
                let hs = crate::eraftpb::HardState {
                    term: m.term,
                    vote: m.vote,
                    commit: m.commit,
                };
                persist(n, Some(hs), &m.entries, m.snapshot.as_deref());
            } else if m.get_type() == MessageType::MsgStorageApply {
                apply(n, &m.entries);
            }
            for r in resps {
                if r.to == 1 || is_local_msg_target(r.to) {
                    let _ = n.step(r);
                }
            }
        }
        if sync {
            n.advance();
        }
    }
}

fn persist(
    n: &mut RawNode<MemStorage>,
    hs: Option<crate::eraftpb::HardState>,
    ents: &[Entry],
    snap: Option<&Snapshot>,
) {
    let s = n.mut_store();
    if let Some(hs) = hs.filter(|hs| !hs.is_empty()) {
        s.set_hard_state(hs).unwrap();
    }
    if let Some(snap) = snap.filter(|s| s.metadata.index != 0) {
        let _ = s.apply_snapshot(snap.clone());
    }
    if !ents.is_empty() {
        s.append(ents).unwrap();
    }
}

fn apply(n: &mut RawNode<MemStorage>, ents: &[Entry]) {
    for e in ents {
        match e.get_type() {
            EntryType::EntryConfChange => {
                if let Ok(cc) = ConfChange::decode(e.data.clone()) {
                    let _ = n.apply_conf_change(&cc);
                }
            }
            EntryType::EntryConfChangeV2 => {
                if let Ok(cc) = ConfChangeV2::decode(e.data.clone()) {
                    let _ = n.apply_conf_change(&cc);
                }
            }
            EntryType::EntryNormal => {}
        }
    }
}

/// Makes node 1 a candidate or leader (as far as the configuration lets
/// it) by campaigning and granting it every vote.
fn campaign(n: &mut RawNode<MemStorage>, win: bool) {
    let _ = n.campaign();
    drain(n);
    if !win {
        return;
    }
    for _ in 0..2 {
        let term = n.raft.term;
        let t = if n.raft.state == crate::raft::StateRole::PreCandidate {
            MessageType::MsgPreVoteResp
        } else {
            MessageType::MsgVoteResp
        };
        for from in [2, 3, 4] {
            let mut m = Message::new(t);
            m.from = from;
            m.to = 1;
            m.term = if t == MessageType::MsgPreVoteResp {
                term + 1
            } else {
                term
            };
            let _ = n.step(m);
        }
        drain(n);
    }
}

/// One step of a round.
#[derive(Clone, Debug)]
enum Action {
    Tick,
    Propose,
    ReadIndex,
    Step(Message),
    /// A message fitted to the node's state when it is stepped: at its
    /// term (plus `term_delta`), appending right after an entry
    /// `back` indexes below its last one, with that entry's term, so
    /// that it is mostly accepted and the log, commit index and
    /// configuration move on.
    StepFitted {
        m: Message,
        term_delta: i64,
        back: u64,
    },
    /// The application's own calls, with ids that may not be members.
    TransferLeader(u64),
    ReportUnreachable(u64),
    ReportSnapshot(u64, bool),
    ForgetLeader,
    Campaign,
    ProposeConfChange(ConfChangeV2),
}

/// A round's setup: the configuration, the options and how node 1 starts.
struct Setup {
    cs: ConfState,
    cfg: crate::config::Config,
    /// 0: campaigns and wins, 1: campaigns, 2: stays a follower.
    start: u64,
}

fn setup(round: u64, rng: &mut TestRng) -> Setup {
    let css = conf_states();
    let cs = css[(round % css.len() as u64) as usize].clone();
    let flags = round / css.len() as u64;
    let mut cfg = new_test_config(1, 5, 1);
    cfg.async_storage_writes = flags % 2 == 1;
    cfg.pre_vote = (flags / 2) % 2 == 1;
    cfg.check_quorum = (flags / 4) % 2 == 1;
    if (flags / 8) % 2 == 1 {
        cfg.read_only_option = ReadOnlyOption::LeaseBased;
        cfg.check_quorum = true;
    }
    cfg.step_down_on_removal = (flags / 16) % 2 == 1;
    cfg.applied = 2;
    Setup {
        cs,
        cfg,
        start: rng.below(3),
    }
}

impl Setup {
    /// A storage holding only a snapshot of the setup's configuration at
    /// index 2, term 1: where both the RawNode and the Node rounds start.
    fn storage(&self) -> MemStorage {
        let mut store = MemStorage::new();
        store
            .apply_snapshot(snapshot_with_conf_state(2, 1, self.cs.clone()))
            .unwrap();
        store
    }
}

/// Runs a round; `Err` holds the panic message.
fn run_round(st: &Setup, actions: &[Action]) -> Result<(), String> {
    let store = st.storage();
    let res = catch_unwind(AssertUnwindSafe(|| {
        let mut n = RawNode::new(&st.cfg, store, &test_logger()).unwrap();
        match st.start {
            0 => campaign(&mut n, true),
            1 => campaign(&mut n, false),
            _ => {}
        }
        for a in actions {
            match a {
                Action::Tick => n.tick(),
                Action::Propose => {
                    let _ = n.propose(Bytes::from_static(b"p"));
                }
                Action::ReadIndex => n.read_index(Bytes::from_static(b"r")),
                Action::TransferLeader(id) => n.transfer_leader(*id),
                Action::ReportUnreachable(id) => n.report_unreachable(*id),
                Action::ReportSnapshot(id, ok) => n.report_snapshot(
                    *id,
                    if *ok {
                        crate::raw_node::SnapshotStatus::Finish
                    } else {
                        crate::raw_node::SnapshotStatus::Failure
                    },
                ),
                Action::ForgetLeader => {
                    let _ = n.forget_leader();
                }
                Action::Campaign => {
                    let _ = n.campaign();
                }
                Action::ProposeConfChange(cc) => {
                    let _ = n.propose_conf_change(cc);
                }
                Action::StepFitted {
                    m,
                    term_delta,
                    back,
                } => {
                    let mut m = m.clone();
                    let log = &n.raft.raft_log;
                    m.term = n.raft.term.saturating_add_signed(*term_delta).max(1);
                    m.index = log
                        .last_index()
                        .saturating_sub(*back)
                        .max(log.first_index() - 1);
                    m.log_term = log.term(m.index).unwrap_or(0);
                    m.commit = m.commit.min(m.index + m.entries.len() as u64);
                    for (i, e) in m.entries.iter_mut().enumerate() {
                        e.index = m.index + 1 + i as u64;
                        e.term = m.term;
                    }
                    if m.get_type() == MessageType::MsgHeartbeat {
                        m.commit = m.commit.min(log.last_index());
                    }
                    if let Some(snap) = m.snapshot.as_mut() {
                        snap.metadata.index = log.last_index() + *back;
                        snap.metadata.term = m.term;
                    }
                    let _ = n.step(m);
                }
                Action::Step(m) => {
                    let mut m = m.clone();
                    if matches!(m.get_type(), MessageType::MsgHeartbeat) {
                        // Committing beyond the log is etcd's deliberate
                        // "log lost" panic.
                        m.commit = m.commit.min(n.raft.raft_log.last_index());
                    }
                    let _ = n.step(m);
                }
            }
            drain(&mut n);
        }
    }));
    res.map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// Drops actions one at a time while the round still panics the same way,
/// for a short report.
fn shrink(st: &Setup, mut actions: Vec<Action>, msg: &str) -> Vec<Action> {
    let key = |s: &str| s.chars().take(30).collect::<String>();
    let mut i = 0;
    while i < actions.len() {
        let mut fewer = actions.clone();
        fewer.remove(i);
        match run_round(st, &fewer) {
            Err(m) if key(&m) == key(msg) => actions = fewer,
            _ => i += 1,
        }
    }
    actions
}

#[test]
fn random_peer_messages_never_panic_a_raw_node() {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut rng = TestRng(0x9e37_79b9_7f4a_7c15);
    // FUZZ_SEED and FUZZ_ROUNDS explore further than the default run.
    let rounds: u64 = std::env::var("FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    if let Some(seed) = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()) {
        rng = TestRng(seed);
    }
    for round in 0..2 * rounds {
        // Every other round, appends carry slices with gaps and terms
        // out of order.
        let malformed = round % 2 == 1;
        let round = round / 2;
        let st = setup(round, &mut rng);
        let actions: Vec<Action> = (0..60)
            .map(|_| match rng.below(14) {
                0 => Action::Tick,
                1 => Action::Propose,
                2 => Action::ReadIndex,
                3 => match rng.below(6) {
                    0 => Action::TransferLeader(rng.pick(&[0, 1, 2, 3, 4, 9, u64::MAX])),
                    1 => Action::ReportUnreachable(rng.pick(&[0, 1, 2, 3, 4, 9, u64::MAX])),
                    2 => Action::ReportSnapshot(rng.pick(&[0, 1, 2, 3, 4, 9]), rng.chance(50)),
                    3 => Action::ForgetLeader,
                    4 => Action::Campaign,
                    _ => {
                        let typ = rng.pick(&[
                            ConfChangeType::ConfChangeAddNode,
                            ConfChangeType::ConfChangeRemoveNode,
                            ConfChangeType::ConfChangeAddLearnerNode,
                        ]);
                        let k = rng.below(3) as usize;
                        Action::ProposeConfChange(ConfChangeV2 {
                            transition: rng.below(3) as i32,
                            changes: (0..k)
                                .map(|_| ConfChangeSingle::new(typ, rng.below(6)))
                                .collect(),
                            ..Default::default()
                        })
                    }
                },
                4..=8 => Action::StepFitted {
                    m: {
                        let mut m = random_message(&mut rng, 6, false);
                        if rng.chance(50) {
                            // Mostly from the members.
                            m.from = rng.pick(&[2, 3]);
                        }
                        m
                    },
                    term_delta: rng.pick(&[0, 0, 0, 0, 1, -1]),
                    back: rng.below(3),
                },
                _ => Action::Step(random_message(&mut rng, 6, malformed)),
            })
            .collect();
        if let Err(msg) = run_round(&st, &actions) {
            let key: String = msg.chars().take(30).collect();
            if seen.contains_key(&key) {
                continue;
            }
            let small = shrink(&st, actions, &msg);
            let desc = format!(
                "round {round} (malformed: {malformed}): {:?} async={} prevote={} cq={} start={}\n{}",
                st.cs,
                st.cfg.async_storage_writes,
                st.cfg.pre_vote,
                st.cfg.check_quorum,
                st.start,
                small
                    .iter()
                    .map(|a| format!("  {a:?}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            seen.insert(key, format!("{msg}\n{desc}"));
        }
    }
    std::panic::set_hook(hook);
    let report: Vec<&String> = seen.values().collect();
    assert!(
        seen.is_empty(),
        "{} kinds of panic:\n{}",
        seen.len(),
        report
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

/// A follower of 1 in the group 1, 2, 3 (node 2), with entries 1..=3 at
/// term 1 and the leader known.
fn follower() -> RawNode<MemStorage> {
    follower_with(false)
}

/// [`follower`], with [`Config::strict_peer_checks`](crate::Config) set as
/// given.
fn follower_with(strict_peer_checks: bool) -> RawNode<MemStorage> {
    let mut store = MemStorage::new();
    store
        .apply_snapshot(Snapshot {
            data: Bytes::new(),
            metadata: SnapshotMetadata {
                conf_state: conf_states()[0].clone(),
                index: 2,
                term: 1,
            },
        })
        .unwrap();
    let mut cfg = new_test_config(2, 5, 1);
    cfg.applied = 2;
    cfg.strict_peer_checks = strict_peer_checks;
    let mut n = RawNode::new(&cfg, store, &test_logger()).unwrap();
    let mut hb = Message::new(MessageType::MsgHeartbeat);
    (hb.from, hb.to, hb.term, hb.commit) = (1, 2, 1, 2);
    n.step(hb).unwrap();
    drain(&mut n);
    n
}

/// Steps each message into a fresh follower and checks that it is refused
/// with the given error and that the node's state does not change.
fn assert_refused(strict: bool, cases: Vec<(Message, crate::errors::Error)>) {
    for (m, want) in cases {
        let mut n = follower_with(strict);
        assert_eq!(n.raft.lead, 1);
        let desc = format!("{m:?}");
        assert_eq!(n.step(m), Err(want), "{desc}");
        assert_eq!((n.raft.lead, n.raft.term), (1, 1), "{desc}");
        assert!(!n.has_ready(), "{desc}");
        // A proposal is still forwarded to the real leader.
        n.propose(Bytes::from_static(b"x")).unwrap();
        let rd = n.ready();
        assert_eq!(rd.messages.len(), 1, "{desc}");
        assert_eq!(
            (rd.messages[0].get_type(), rd.messages[0].to),
            (MessageType::MsgProp, 1),
            "{desc}"
        );
    }
}

/// By default, only what would make etcd panic is refused: a leader's
/// message claiming to come from the node itself (etcd takes itself for the
/// leader and panics when it next forwards a proposal to itself), and a
/// termless vote request that etcd would grant with a termless answer (a
/// panic in etcd's send).
#[test]
fn step_refuses_what_etcd_panics_on() {
    use crate::errors::Error;
    let mut vote = msg_term(3, 2, MessageType::MsgVote, 0);
    // Up to date, so that a node free to vote would grant it.
    (vote.log_term, vote.index) = (1, 3);
    let mut n = follower();
    n.raft.lead = NONE;
    n.raft.vote = NONE;
    assert_eq!(n.step(vote), Err(Error::StepLocalMsg));
    assert_eq!(n.raft.vote, NONE);
    assert_refused(
        false,
        vec![
            (
                msg_term(2, 2, MessageType::MsgHeartbeat, 1),
                Error::StepPeerNotFound,
            ),
            (
                msg_term(2, 2, MessageType::MsgSnap, 1),
                Error::StepPeerNotFound,
            ),
            (
                msg_term(2, 2, MessageType::MsgApp, 1),
                Error::StepPeerNotFound,
            ),
            (
                msg_term(2, 2, MessageType::MsgApp, 0),
                Error::StepPeerNotFound,
            ),
        ],
    );
}

/// What etcd steps without harm is stepped as etcd does, even if no correct
/// peer sends it: a termless heartbeat makes its sender the leader (etcd
/// treats a termless message as a local one and skips the term checks), a
/// rejected append from the node itself is ignored by a follower, and a
/// termless vote request the node must refuse is refused at its own term.
#[test]
fn step_takes_what_etcd_takes() {
    let mut n = follower();
    let mut hb = msg_term(3, 2, MessageType::MsgHeartbeat, 0);
    hb.commit = 2;
    n.step(hb).unwrap();
    assert_eq!((n.raft.lead, n.raft.term), (3, 1));

    let mut n = follower();
    let mut rej = msg_term(2, 2, MessageType::MsgAppResp, 1);
    rej.reject = true;
    n.step(rej).unwrap();
    assert_eq!((n.raft.lead, n.raft.term), (1, 1));

    let mut n = follower();
    n.step(msg_term(3, 2, MessageType::MsgVote, 0)).unwrap();
    let rd = n.ready();
    let resp = rd
        .messages
        .iter()
        .find(|m| m.get_type() == MessageType::MsgVoteResp)
        .unwrap_or_else(|| panic!("no vote answer in {:?}", rd.messages));
    assert_eq!((resp.to, resp.term, resp.reject), (3, 1, true));
}

/// With `strict_peer_checks`, messages only a peer sends are also refused
/// when they claim to come from the node itself, from a local thread's id,
/// or carry no term; the node's state does not change.
#[test]
fn strict_peer_checks_refuse_messages_no_peer_sends() {
    use crate::errors::Error;
    assert_refused(
        true,
        vec![
            // A rejection from itself: a leader would retry an append to itself.
            (
                {
                    let mut m = msg_term(2, 2, MessageType::MsgAppResp, 1);
                    m.reject = true;
                    m
                },
                Error::StepPeerNotFound,
            ),
            // The id of the append thread as a leader.
            (
                msg_term(LOCAL_APPEND_THREAD, 2, MessageType::MsgHeartbeat, 1),
                Error::StepPeerNotFound,
            ),
            // Termless peer messages: raft would skip every term check.
            (msg_term(3, 2, MessageType::MsgApp, 0), Error::StepLocalMsg),
            (
                msg_term(3, 2, MessageType::MsgHeartbeat, 0),
                Error::StepLocalMsg,
            ),
            (msg_term(3, 2, MessageType::MsgVote, 0), Error::StepLocalMsg),
            (
                msg_term(1, 2, MessageType::MsgAppResp, 0),
                Error::StepLocalMsg,
            ),
        ],
    );
}

/// An append whose entries do not continue its (log_term, index) without
/// gaps and in term order, or carry a term above the leader's, is refused
/// with etcd's `logSlice.valid` text; a valid one is taken.
#[test]
fn step_refuses_inconsistent_appends() {
    let ent = |term, index| Entry {
        term,
        index,
        ..Default::default()
    };
    let app = |log_term, index, ents: Vec<Entry>| {
        let mut m = msg_term(1, 2, MessageType::MsgApp, 2);
        (m.log_term, m.index, m.entries) = (log_term, index, ents);
        m
    };
    let mut n = follower();
    for (m, want) in [
        (
            app(1, 2, vec![ent(1, 4)]),
            "leader term 2: entries {term:1 index:2} and {term:1 index:4} not consistent",
        ),
        (
            app(1, 2, vec![ent(2, 3), ent(1, 4)]),
            "leader term 2: entries {term:2 index:3} and {term:1 index:4} not consistent",
        ),
        (
            app(1, 2, vec![ent(3, 3)]),
            "leader term 2: entry {term:3 index:3} has a newer term",
        ),
    ] {
        match n.step(m) {
            Err(crate::errors::Error::Decode(s)) => assert_eq!(s, want),
            other => panic!("{other:?}"),
        }
        assert_eq!(n.raft.raft_log.last_index(), 2);
    }
    n.step(app(1, 2, vec![ent(1, 3), ent(2, 4)])).unwrap();
    assert_eq!(n.raft.raft_log.last_index(), 4);
}

/// Appends at the follower's own term take `RawNode`'s path of steady
/// replication, which refuses what the usual path refuses: entries that do
/// not continue the append's start, and indexes beyond 2^63 - 1.
#[test]
fn steady_replication_refuses_what_step_refuses() {
    let ent = |term, index| Entry {
        term,
        index,
        ..Default::default()
    };
    let app = |index, ents: Vec<Entry>| {
        let mut m = msg_term(1, 2, MessageType::MsgApp, 1);
        (m.log_term, m.index, m.entries) = (1, index, ents);
        m
    };
    let mut n = follower();
    assert_eq!(n.raft.term, 1);
    match n.step(app(2, vec![ent(1, 4)])) {
        Err(crate::errors::Error::Decode(s)) => assert_eq!(
            s,
            "leader term 1: entries {term:1 index:2} and {term:1 index:4} not consistent"
        ),
        other => panic!("{other:?}"),
    }
    let mut far = app(2, vec![]);
    far.commit = u64::MAX;
    match n.step_in_place(&mut far) {
        Err(crate::errors::Error::Decode(s)) => assert_eq!(
            s,
            "commit 18446744073709551615 of MsgApp from 1 is out of range (at most 9223372036854775807)"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(n.raft.raft_log.last_index(), 2);
    assert!(!n.has_ready());
    n.step(app(2, vec![ent(1, 3)])).unwrap();
    assert_eq!((n.raft.raft_log.last_index(), n.raft.lead), (3, 1));
}

/// Heartbeats and heartbeat responses at the node's own term take
/// `RawNode`'s direct path too, which refuses what the usual path refuses:
/// a commit index beyond the follower's log, values beyond 2^63 - 1, and a
/// response from a peer the leader has no progress for.
#[test]
fn steady_heartbeats_refuse_what_step_refuses() {
    use crate::errors::Error;
    let hb = |commit, log_term| {
        let mut m = msg_term(1, 2, MessageType::MsgHeartbeat, 1);
        (m.commit, m.log_term) = (commit, log_term);
        m
    };
    let mut n = follower();
    n.raft.election_elapsed = 3;
    assert_eq!(
        n.step(hb(3, 0)),
        Err(Error::Decode(
            "heartbeat commit 3 is beyond the last index 2".into()
        ))
    );
    match n.step(hb(2, u64::MAX)) {
        Err(Error::Decode(s)) => assert_eq!(
            s,
            "log term 18446744073709551615 of MsgHeartbeat from 1 is out of range (at most 9223372036854775807)"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(n.raft.election_elapsed, 3);
    assert!(!n.has_ready());
    n.step(hb(2, 0)).unwrap();
    assert_eq!((n.raft.election_elapsed, n.raft.lead), (0, 1));
    let rd = n.ready();
    assert_eq!(rd.messages.len(), 1);
    let resp = &rd.messages[0];
    assert_eq!(
        (resp.get_type(), resp.to, resp.term),
        (MessageType::MsgHeartbeatResp, 1, 1)
    );

    let cs = ConfState {
        voters: vec![1, 2, 3],
        ..Default::default()
    };
    let store = MemStorage::new_with_conf_state(cs);
    let mut l = RawNode::new(&new_test_config(1, 10, 1), store, &test_logger()).unwrap();
    campaign(&mut l, true);
    assert_eq!(l.raft.state, crate::raft::StateRole::Leader);
    let term = l.raft.term;
    l.raft.trk.progress.get_mut(2).unwrap().recent_active = false;
    assert_eq!(
        l.step(msg_term(4, 1, MessageType::MsgHeartbeatResp, term)),
        Err(Error::StepPeerNotFound)
    );
    let mut far = msg_term(2, 1, MessageType::MsgHeartbeatResp, term);
    far.index = u64::MAX;
    assert!(matches!(l.step(far), Err(Error::Decode(_))));
    assert!(!l.raft.trk.progress.get(2).unwrap().recent_active);
    l.step(msg_term(2, 1, MessageType::MsgHeartbeatResp, term))
        .unwrap();
    assert!(l.raft.trk.progress.get(2).unwrap().recent_active);
}

/// Terms and indexes no honest group reaches (beyond 2^63 - 1) are refused:
/// a term near `u64::MAX` would overflow the node's next election, a
/// snapshot index there its restore.
#[test]
fn step_refuses_terms_and_indexes_out_of_range() {
    let mut n = follower();
    let hb = msg_term(1, 2, MessageType::MsgHeartbeat, u64::MAX);
    match n.step(hb) {
        Err(crate::errors::Error::Decode(s)) => assert_eq!(
            s,
            "term 18446744073709551615 of MsgHeartbeat from 1 is out of range (at most 9223372036854775807)"
        ),
        other => panic!("{other:?}"),
    }
    let mut snap = msg_term(1, 2, MessageType::MsgSnap, 2);
    snap.snapshot = Some(Box::new(Snapshot {
        data: Bytes::new(),
        metadata: SnapshotMetadata {
            conf_state: conf_states()[0].clone(),
            index: u64::MAX,
            term: 2,
        },
    }));
    assert!(matches!(n.step(snap), Err(crate::errors::Error::Decode(_))));
    assert_eq!((n.raft.term, n.raft.raft_log.last_index()), (1, 2));
    // The node still campaigns normally.
    n.campaign().unwrap();
    assert_eq!(n.raft.term, 2);
}

/// The threaded [`Node`](crate::node::Node) takes peer messages through
/// its own path (`Node::step` then its run loop): random messages from
/// peers, in every role, never panic its thread (`stop` would re-raise the
/// thread's panic).
#[test]
fn random_peer_messages_never_panic_a_node() {
    use std::sync::{Arc, RwLock};

    use crossbeam_channel::{after, select};

    let mut rng = TestRng(0x5151_aaaa_0000_0001);
    for round in 0..40u64 {
        let st = setup(round, &mut rng);
        let store = st.storage();
        let shared = Arc::new(RwLock::new(store));
        let mut cfg = st.cfg.clone();
        // The Node drives the local threads itself only without async
        // writes; keep to that.
        cfg.async_storage_writes = false;
        let rn = RawNode::new(&cfg, shared.clone(), &test_logger()).unwrap();
        let n = crate::node::Node::new(rn);
        if st.start == 0 {
            let _ = n.campaign();
        }
        for i in 0..150 {
            let mut m = random_message(&mut rng, 6, i % 2 == 1);
            if m.get_type() == MessageType::MsgHeartbeat {
                // Committing beyond the log is etcd's deliberate "log lost"
                // panic; the stable log is within the node's.
                use crate::storage::Storage as _;
                m.commit = m.commit.min(shared.read().unwrap().last_index().unwrap());
            }
            // A proposal waits for a leader, as in etcd: bound the wait.
            let ctx = crate::node::Context::with_timeout(std::time::Duration::from_millis(5));
            let _ = n.step_ctx(&ctx, m);
            if i % 7 == 0 {
                n.tick();
            }
            // Handle whatever is ready, like an application would.
            loop {
                select! {
                    recv(n.ready()) -> rd => {
                        let Ok(rd) = rd else { break };
                        {
                            let mut s = shared.write().unwrap();
                            if let Some(hs) = rd.hard_state.filter(|hs| !hs.is_empty()) {
                                s.set_hard_state(hs).unwrap();
                            }
                            if let Some(snap) = rd.snapshot.as_ref().filter(|s| s.metadata.index != 0) {
                                let _ = s.apply_snapshot(snap.clone());
                            }
                            if !rd.entries.is_empty() {
                                s.append(&rd.entries).unwrap();
                            }
                        }
                        n.advance();
                    }
                    recv(after(std::time::Duration::from_millis(0))) -> _ => break,
                }
            }
        }
        assert!(
            n.status().id == 1,
            "the node thread is gone (round {round})"
        );
        n.stop().expect("the node failed");
    }
}
