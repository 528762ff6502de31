//! A RawNode in every role (follower, pre-candidate, candidate, leader,
//! learner; sync or async storage writes) steps arbitrary, structure-aware
//! peer messages and ticks, its Readys handled as an application would.
//! Nothing a peer can send may panic it.
#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use raft::eraftpb::{
    ConfState, Entry, EntryType, Message, MessageType, Snapshot, SnapshotMetadata,
};
use raft::StateRole;
use raft::{Config, MemStorage, RawNode};

#[derive(Arbitrary, Debug)]
enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
    Learner,
}

#[derive(Arbitrary, Debug)]
struct FuzzEntry {
    term: u8,
    index: u8,
    kind: u8,
    data: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
struct FuzzSnap {
    index: u8,
    term: u8,
    voters: Vec<u8>,
    learners: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
struct FuzzMsg {
    typ: u8,
    from: u8,
    term: u8,
    log_term: u8,
    index: u8,
    commit: u8,
    reject: bool,
    reject_hint: u8,
    entries: Vec<FuzzEntry>,
    snapshot: Option<FuzzSnap>,
    context: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
enum Event {
    Step(FuzzMsg),
    Tick,
    Propose(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    role: Role,
    async_writes: bool,
    pre_vote: bool,
    check_quorum: bool,
    events: Vec<Event>,
}

fn message(m: FuzzMsg) -> Message {
    let mut msg =
        Message::new(MessageType::try_from(i32::from(m.typ % 24)).unwrap_or(MessageType::MsgApp));
    msg.from = u64::from(m.from % 5);
    msg.to = 1;
    msg.term = u64::from(m.term % 8);
    msg.log_term = u64::from(m.log_term % 8);
    msg.index = u64::from(m.index % 16);
    msg.commit = u64::from(m.commit % 16);
    msg.reject = m.reject;
    msg.reject_hint = u64::from(m.reject_hint % 16);
    msg.context = Bytes::from(m.context);
    msg.entries = m
        .entries
        .into_iter()
        .take(8)
        .map(|e| Entry {
            term: u64::from(e.term % 8),
            index: u64::from(e.index % 16),
            entry_type: (e.kind % 4 != 3).then_some(i32::from(e.kind % 4)),
            data: Bytes::from(e.data),
        })
        .collect();
    msg.snapshot = m.snapshot.map(|s| {
        Box::new(Snapshot {
            data: Bytes::new(),
            metadata: SnapshotMetadata {
                conf_state: ConfState {
                    voters: s.voters.iter().take(5).map(|&v| u64::from(v % 5)).collect(),
                    learners: s
                        .learners
                        .iter()
                        .take(5)
                        .map(|&v| u64::from(v % 5))
                        .collect(),
                    ..Default::default()
                },
                index: u64::from(s.index % 16),
                term: u64::from(s.term % 8),
            },
        })
    });
    msg
}

/// Handles every Ready as a synchronous application does: persist, apply
/// conf changes, advance. Messages to peers are dropped.
fn drain(raw: &mut RawNode<MemStorage>) {
    for _ in 0..16 {
        if raw.async_storage_writes() || !raw.has_ready() {
            return;
        }
        let rd = raw.ready();
        let store = raw.mut_store();
        if let Some(hs) = rd.hard_state.clone() {
            let _ = store.set_hard_state(hs);
        }
        if let Some(snap) = rd.snapshot.clone() {
            let _ = store.apply_snapshot(snap);
        }
        let _ = store.append(&rd.entries);
        for e in &rd.committed_entries {
            match e.get_type() {
                EntryType::EntryConfChange => {
                    if let Ok(cc) =
                        <raft::eraftpb::ConfChange as prost::Message>::decode(e.data.clone())
                    {
                        let _ = raw.apply_conf_change_at(e.index, &cc);
                    }
                }
                EntryType::EntryConfChangeV2 => {
                    if let Ok(cc) =
                        <raft::eraftpb::ConfChangeV2 as prost::Message>::decode(e.data.clone())
                    {
                        let _ = raw.apply_conf_change_at(e.index, &cc);
                    }
                }
                EntryType::EntryNormal => {}
            }
        }
        raw.advance();
    }
}

fuzz_target!(|input: Input| {
    let logger = slog::Logger::root(slog::Discard, slog::o!());
    let (voters, learners) = match input.role {
        Role::Learner => (vec![2, 3], vec![1]),
        _ => (vec![1, 2, 3], vec![]),
    };
    let mut store = MemStorage::new();
    let _ = store.apply_snapshot(Snapshot {
        data: Bytes::new(),
        metadata: SnapshotMetadata {
            conf_state: ConfState {
                voters,
                learners,
                ..Default::default()
            },
            index: 2,
            term: 1,
        },
    });
    let mut cfg = Config::new(1);
    cfg.election_seed = Some(1);
    cfg.async_storage_writes = input.async_writes;
    cfg.pre_vote = input.pre_vote || matches!(input.role, Role::PreCandidate);
    cfg.check_quorum = input.check_quorum;
    let Ok(mut raw) = RawNode::new(&cfg, store, &logger) else {
        return;
    };
    match input.role {
        Role::Follower | Role::Learner => {}
        Role::PreCandidate | Role::Candidate => {
            let _ = raw.campaign();
        }
        Role::Leader => {
            let _ = raw.campaign();
            drain(&mut raw);
            for from in [2, 3] {
                let mut v = Message::new(if raw.raft.state == StateRole::PreCandidate {
                    MessageType::MsgPreVoteResp
                } else {
                    MessageType::MsgVoteResp
                });
                v.from = from;
                v.to = 1;
                v.term = raw.raft.term + u64::from(raw.raft.state == StateRole::PreCandidate);
                let _ = raw.step(v);
            }
            drain(&mut raw);
        }
    }
    for ev in input.events.into_iter().take(64) {
        match ev {
            Event::Step(m) => {
                let _ = raw.step(message(m));
            }
            Event::Tick => raw.tick(),
            Event::Propose(data) => {
                let _ = raw.propose(data);
            }
        }
        drain(&mut raw);
    }
});
