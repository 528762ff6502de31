//! Port of etcd's `rawnode_test.go`: the `RawNode` API, driven the way an
//! application drives it (ready, persist, apply, advance).

use bytes::Bytes;
use prost::Message as _;

use super::support::*;
use crate::eraftpb::{
    ConfChange, ConfChangeI, ConfChangeSingle, ConfChangeTransition, ConfChangeType, ConfChangeV2,
    ConfState, Entry, EntryType, HardState, Message, MessageType, Snapshot, SnapshotMetadata,
};
use crate::quorum::{JointConfig, MajorityConfig};
use crate::raft::{SoftState, StateRole};
use crate::raw_node::{RawNode, Ready};
use crate::read_only::ReadState;
use crate::storage::{MemStorage, Storage};
use crate::tracker;
use crate::util::{is_local_msg, payload_size};
use crate::Error;

/// Persists the entries of `rd` into the node's own storage (etcd's
/// `s.Append(rd.Entries)` on the storage it shares with the node).
fn append_ready(rn: &mut RawNode<MemStorage>, rd: &Ready) {
    rn.mut_store().append(&rd.entries).unwrap();
}

/// Whether `rd` says that this node (`id`) now leads (etcd reads
/// `rd.SoftState.Lead`).
fn leads(rd: &Ready, id: u64) -> bool {
    rd.soft_state.as_ref().is_some_and(|ss| ss.lead == id)
}

/// The conf change carried by a committed entry, if it is one.
fn conf_change_of(ent: &Entry) -> Option<Box<dyn ConfChangeI>> {
    match ent.get_type() {
        EntryType::EntryConfChange => Some(Box::new(
            ConfChange::decode(&ent.data[..]).expect("decode ConfChange"),
        )),
        EntryType::EntryConfChangeV2 => Some(Box::new(
            ConfChangeV2::decode(&ent.data[..]).expect("decode ConfChangeV2"),
        )),
        _ => None,
    }
}

/// Applies the conf change `cc` (either version) to `rn`.
fn apply_cc(rn: &mut RawNode<MemStorage>, cc: &dyn ConfChangeI) -> ConfState {
    match cc.as_v1() {
        Some(v1) => rn.apply_conf_change(v1).unwrap(),
        None => rn.apply_conf_change(&cc.as_v2()).unwrap(),
    }
}

fn cc_v2(transition: ConfChangeTransition, changes: Vec<ConfChangeSingle>) -> ConfChangeV2 {
    ConfChangeV2 {
        transition: transition as i32,
        changes,
        context: Bytes::new(),
    }
}

fn conf_state(
    voters: &[u64],
    outgoing: &[u64],
    learners: &[u64],
    next: &[u64],
    auto_leave: bool,
) -> ConfState {
    ConfState {
        voters: voters.to_vec(),
        voters_outgoing: outgoing.to_vec(),
        learners: learners.to_vec(),
        learners_next: next.to_vec(),
        auto_leave,
    }
}

/// `RawNode::step` refuses local messages.
#[test]
fn test_raw_node_step() {
    for i in 0..=MessageType::MsgForgetLeader as i32 {
        let msgt = MessageType::try_from(i).unwrap();
        let mut s = MemStorage::new();
        s.set_hard_state(HardState {
            term: 1,
            commit: 1,
            vote: 0,
        })
        .unwrap();
        s.append(&[new_entry(1, 1)]).unwrap();
        s.apply_snapshot(Snapshot {
            data: Bytes::new(),
            metadata: SnapshotMetadata {
                conf_state: ConfState {
                    voters: vec![1],
                    ..Default::default()
                },
                index: 1,
                term: 1,
            },
        })
        .unwrap_or_else(|e| panic!("#{i}: {e}"));
        // The log is not empty, so that non-local messages (like vote
        // requests) are ignored rather than tripping assertions.
        let mut raw_node = new_test_raw_node(1, 10, 1, s);
        let res = raw_node.step(Message::new(msgt));
        // Local messages are refused.
        if is_local_msg(msgt) {
            assert_eq!(res, Err(Error::StepLocalMsg), "#{i} {msgt:?}");
        }
    }
}

/// Proposes a simple or joint conf change, checks that it applies with the
/// expected ConfState, and that a joint configuration is left again.
#[test]
fn test_raw_node_propose_and_conf_change() {
    use ConfChangeTransition::*;
    use ConfChangeType::*;
    let cases: Vec<(Box<dyn ConfChangeI>, ConfState, Option<ConfState>)> = vec![
        // A v1 conf change.
        (
            Box::new(ConfChange {
                change_type: ConfChangeAddNode as i32,
                node_id: 2,
                ..Default::default()
            }),
            conf_state(&[1, 2], &[], &[], &[], false),
            None,
        ),
        // The same as v2: no joint config either.
        (
            Box::new(cc_v2(
                ConfChangeTransitionAuto,
                vec![conf_change_single(ConfChangeAddNode, 2)],
            )),
            conf_state(&[1, 2], &[], &[], &[], false),
            None,
        ),
        // Likewise when adding a learner.
        (
            Box::new(cc_v2(
                ConfChangeTransitionAuto,
                vec![conf_change_single(ConfChangeAddLearnerNode, 2)],
            )),
            conf_state(&[1], &[], &[2], &[], false),
            None,
        ),
        // A joint config on request.
        (
            Box::new(cc_v2(
                ConfChangeTransitionJointExplicit,
                vec![conf_change_single(ConfChangeAddLearnerNode, 2)],
            )),
            conf_state(&[1], &[1], &[2], &[], false),
            Some(conf_state(&[1], &[], &[2], &[], false)),
        ),
        // Likewise with an implicit transition.
        (
            Box::new(cc_v2(
                ConfChangeTransitionJointImplicit,
                vec![conf_change_single(ConfChangeAddLearnerNode, 2)],
            )),
            conf_state(&[1], &[1], &[2], &[], true),
            Some(conf_state(&[1], &[], &[2], &[], false)),
        ),
        // Add a node and demote n1: this needs a joint config and
        // learners_next.
        (
            Box::new(cc_v2(
                ConfChangeTransitionAuto,
                vec![
                    conf_change_single(ConfChangeAddNode, 2),
                    conf_change_single(ConfChangeAddLearnerNode, 1),
                    conf_change_single(ConfChangeAddLearnerNode, 3),
                ],
            )),
            conf_state(&[2], &[1], &[3], &[1], true),
            Some(conf_state(&[2], &[], &[1, 3], &[], false)),
        ),
        // Likewise, explicit.
        (
            Box::new(cc_v2(
                ConfChangeTransitionJointExplicit,
                vec![
                    conf_change_single(ConfChangeAddNode, 2),
                    conf_change_single(ConfChangeAddLearnerNode, 1),
                    conf_change_single(ConfChangeAddLearnerNode, 3),
                ],
            )),
            conf_state(&[2], &[1], &[3], &[1], false),
            Some(conf_state(&[2], &[], &[1, 3], &[], false)),
        ),
        // Likewise, implicit.
        (
            Box::new(cc_v2(
                ConfChangeTransitionJointImplicit,
                vec![
                    conf_change_single(ConfChangeAddNode, 2),
                    conf_change_single(ConfChangeAddLearnerNode, 1),
                    conf_change_single(ConfChangeAddLearnerNode, 3),
                ],
            )),
            conf_state(&[2], &[1], &[3], &[1], true),
            Some(conf_state(&[2], &[], &[1, 3], &[], false)),
        ),
    ];

    for (i, (tc, exp, exp2)) in cases.into_iter().enumerate() {
        let s = new_test_memory_storage(vec![with_peers(&[1])]);
        let mut raw_node = new_test_raw_node(1, 10, 1, s);

        raw_node.campaign().unwrap();
        let mut proposed = false;
        let mut ccdata = Vec::new();
        // Propose the conf change, wait until it applies, keep the resulting
        // ConfState.
        let mut cs = None;
        while cs.is_none() {
            let rd = raw_node.ready();
            append_ready(&mut raw_node, &rd);
            for ent in &rd.committed_entries {
                if let Some(cc) = conf_change_of(ent) {
                    cs = Some(apply_cc(&mut raw_node, cc.as_ref()));
                }
            }
            raw_node.advance();
            // Once leader, propose a command and the conf change.
            if !proposed && leads(&rd, raw_node.raft.id) {
                raw_node.propose(&b"somedata"[..]).unwrap();
                if let Some(v1) = tc.as_v1() {
                    ccdata = v1.encode_to_vec();
                    raw_node.propose_conf_change(v1).unwrap();
                } else {
                    let v2 = tc.as_v2();
                    ccdata = v2.encode_to_vec();
                    raw_node.propose_conf_change(&v2).unwrap();
                }
                proposed = true;
            }
        }
        let cs = cs.unwrap();

        // The last index is exactly the conf change, down to the bits. This
        // reads the storage, which does not have the unstable entries only
        // the next Ready will present.
        let last_index = raw_node.store().last_index().unwrap();

        let entries = raw_node
            .store()
            .entries(last_index - 1, last_index + 1, NO_LIMIT)
            .unwrap();
        assert_eq!(entries.len(), 2, "#{i}");
        assert_eq!(&entries[0].data[..], b"somedata", "#{i}");

        let typ = if tc.as_v1().is_some() {
            EntryType::EntryConfChange
        } else {
            EntryType::EntryConfChangeV2
        };
        assert_eq!(entries[1].get_type(), typ, "#{i}");
        assert_eq!(&entries[1].data[..], &ccdata[..], "#{i}");

        assert_eq!(cs, exp, "#{i}");

        // An auto-leaving joint change appended the entry that leaves it,
        // one past the stable last index that pending_conf_index is
        // compared to.
        let maybe_plus_one = match tc.as_v2().enter_joint() {
            Some(true) => 1,
            _ => 0,
        };
        assert_eq!(
            raw_node.raft.pending_conf_index,
            last_index + maybe_plus_one,
            "#{i}"
        );

        // Move the node along. After a simple change nothing else happens;
        // a joint config is left automatically or, if not, by a proposal of
        // ours.
        let mut rd = raw_node.ready();
        let mut context = Bytes::new();
        if !exp.auto_leave {
            assert!(rd.entries.is_empty(), "#{i}");
            raw_node.advance();
            if exp2.is_none() {
                continue;
            }
            context = Bytes::from_static(b"manual");
            raw_node
                .propose_conf_change(&ConfChangeV2 {
                    context: context.clone(),
                    ..Default::default()
                })
                .unwrap();
            rd = raw_node.ready();
        }

        // The right conf change comes out.
        assert_eq!(rd.entries.len(), 1, "#{i}");
        assert_eq!(
            rd.entries[0].get_type(),
            EntryType::EntryConfChangeV2,
            "#{i}"
        );
        let cc = ConfChangeV2::decode(&rd.entries[0].data[..]).unwrap();
        assert_eq!(
            cc,
            ConfChangeV2 {
                context,
                ..Default::default()
            },
            "#{i}"
        );

        // Pretend it applied: it would not, since a single node cannot reach
        // the joint quorum now.
        let cs = raw_node.apply_conf_change(&cc).unwrap();
        assert_eq!(Some(cs), exp2, "#{i}");

        raw_node.advance();
    }
}

/// A joint config is left automatically even when leadership was lost in
/// between.
#[test]
fn test_raw_node_joint_auto_leave() {
    let test_cc = cc_v2(
        ConfChangeTransition::ConfChangeTransitionJointImplicit,
        vec![conf_change_single(
            ConfChangeType::ConfChangeAddLearnerNode,
            2,
        )],
    );
    let exp_cs = conf_state(&[1], &[1], &[2], &[], true);
    let exp2_cs = conf_state(&[1], &[], &[2], &[], false);

    let s = new_test_memory_storage(vec![with_peers(&[1])]);
    let mut raw_node = new_test_raw_node(1, 10, 1, s);

    raw_node.campaign().unwrap();
    let mut proposed = false;
    let mut ccdata = Vec::new();
    // Propose the conf change, wait until it applies, keep the resulting
    // ConfState.
    let mut cs = None;
    while cs.is_none() {
        let rd = raw_node.ready();
        append_ready(&mut raw_node, &rd);
        for ent in &rd.committed_entries {
            if ent.get_type() == EntryType::EntryConfChangeV2 {
                let cc = ConfChangeV2::decode(&ent.data[..]).unwrap();
                // Make it step down.
                let term = raw_node.raft.term + 1;
                let _ = raw_node.step(Message {
                    term,
                    ..new_message(1, 0, MessageType::MsgHeartbeatResp)
                });
                cs = Some(raw_node.apply_conf_change(&cc).unwrap());
            }
        }
        raw_node.advance();
        // Once leader, propose a command and the conf change.
        if !proposed && leads(&rd, raw_node.raft.id) {
            raw_node.propose(&b"somedata"[..]).unwrap();
            ccdata = test_cc.encode_to_vec();
            raw_node.propose_conf_change(&test_cc).unwrap();
            proposed = true;
        }
    }

    // The last index is exactly the conf change, down to the bits (from the
    // storage, without the unstable entries of the next Ready).
    let last_index = raw_node.store().last_index().unwrap();

    let entries = raw_node
        .store()
        .entries(last_index - 1, last_index + 1, NO_LIMIT)
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(&entries[0].data[..], b"somedata");
    assert_eq!(entries[1].get_type(), EntryType::EntryConfChangeV2);
    assert_eq!(&entries[1].data[..], &ccdata[..]);

    assert_eq!(cs, Some(exp_cs));

    assert_eq!(raw_node.raft.pending_conf_index, 0);

    // A follower does not leave the joint config.
    let rd = raw_node.ready_without_accept();
    assert!(rd.entries.is_empty());

    // Leader again, it leaves automatically once the applied index moves.
    raw_node.campaign().unwrap();
    for _ in 0..3 {
        let rd = raw_node.ready();
        append_ready(&mut raw_node, &rd);
        raw_node.advance();
    }
    let rd = raw_node.ready();
    append_ready(&mut raw_node, &rd);
    // The right conf change comes out.
    assert_eq!(rd.entries.len(), 1);
    assert_eq!(rd.entries[0].get_type(), EntryType::EntryConfChangeV2);
    let cc = ConfChangeV2::decode(&rd.entries[0].data[..]).unwrap();
    assert_eq!(cc, ConfChangeV2::default());
    // Pretend it applied: it would not, since a single node cannot reach the
    // joint quorum now.
    let cs = raw_node.apply_conf_change(&cc).unwrap();
    assert_eq!(cs, exp2_cs);
}

/// Adding the same node twice does not spoil a later addition of a new
/// node.
#[test]
fn test_raw_node_propose_add_duplicate_node() {
    let s = new_test_memory_storage(vec![with_peers(&[1])]);
    let mut raw_node = new_test_raw_node(1, 10, 1, s);

    let rd = raw_node.ready();
    append_ready(&mut raw_node, &rd);
    raw_node.advance();

    raw_node.campaign().unwrap();
    loop {
        let rd = raw_node.ready();
        append_ready(&mut raw_node, &rd);
        let done = leads(&rd, raw_node.raft.id);
        raw_node.advance();
        if done {
            break;
        }
    }

    let propose_conf_change_and_apply = |raw_node: &mut RawNode<MemStorage>, cc: &ConfChange| {
        raw_node.propose_conf_change(cc).unwrap();
        let rd = raw_node.ready();
        append_ready(raw_node, &rd);
        for entry in &rd.committed_entries {
            if entry.get_type() == EntryType::EntryConfChange {
                let cc = ConfChange::decode(&entry.data[..]).unwrap();
                raw_node.apply_conf_change(&cc).unwrap();
            }
        }
        raw_node.advance();
    };

    let cc1 = ConfChange {
        change_type: ConfChangeType::ConfChangeAddNode as i32,
        node_id: 1,
        ..Default::default()
    };
    let ccdata1 = cc1.encode_to_vec();
    propose_conf_change_and_apply(&mut raw_node, &cc1);

    // Propose adding node 1 a second time.
    propose_conf_change_and_apply(&mut raw_node, &cc1);

    // Adding a new node works.
    let cc2 = ConfChange {
        change_type: ConfChangeType::ConfChangeAddNode as i32,
        node_id: 2,
        ..Default::default()
    };
    let ccdata2 = cc2.encode_to_vec();
    propose_conf_change_and_apply(&mut raw_node, &cc2);

    let last_index = raw_node.store().last_index().unwrap();

    // The last three entries are cc1, cc1, cc2.
    let entries = raw_node
        .store()
        .entries(last_index - 2, last_index + 1, NO_LIMIT)
        .unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(&entries[0].data[..], &ccdata1[..]);
    assert_eq!(&entries[2].data[..], &ccdata2[..]);
}

/// `read_index` hands a MsgReadIndex to the state machine, and read states
/// come out in a Ready.
///
/// etcd swaps in a step function that records the message; here the message
/// reaching the state machine shows in its effect: a single-voter leader
/// answers it at once with a read state carrying the request context.
#[test]
fn test_raw_node_read_index() {
    let wrs = vec![ReadState {
        index: 1,
        request_ctx: Bytes::from_static(b"somedata"),
    }];

    let s = new_test_memory_storage(vec![with_peers(&[1])]);
    let mut raw_node = new_test_raw_node(1, 10, 1, s);

    raw_node.raft.read_states = wrs.clone().into();
    // The read states come out.
    assert!(raw_node.has_ready());
    let rd = raw_node.ready();
    assert_eq!(rd.read_states, wrs);
    append_ready(&mut raw_node, &rd);
    raw_node.advance();
    // The state machine's read states are cleared.
    assert!(raw_node.raft.read_states.is_empty());

    let wrequest_ctx: &'static [u8] = b"somedata2";
    raw_node.campaign().unwrap();
    loop {
        let rd = raw_node.ready();
        append_ready(&mut raw_node, &rd);

        if leads(&rd, raw_node.raft.id) {
            raw_node.advance();

            // As leader, ask for a read index.
            raw_node.read_index(wrequest_ctx);
            break;
        }
        raw_node.advance();
    }
    // The MsgReadIndex reached the state machine.
    assert_eq!(raw_node.raft.read_states.len(), 1);
    assert_eq!(&raw_node.raft.read_states[0].request_ctx[..], wrequest_ctx);
    assert_eq!(
        raw_node.raft.read_states[0].index,
        raw_node.raft.raft_log.committed
    );
}

/// A node starts correctly. `RawNode` leaves bootstrapping to the
/// application: it takes no peers and makes no fake conf change entries.
#[test]
fn test_raw_node_start() {
    let entries = vec![
        // The empty entry.
        new_entry(2, 1),
        // A proposal.
        new_entry_with_data(3, 1, b"foo"),
    ];
    let want = Ready {
        soft_state: Some(SoftState {
            lead: 1,
            raft_state: StateRole::Leader,
        }),
        hard_state: Some(HardState {
            term: 1,
            commit: 3,
            vote: 1,
        }),
        // Handed out and checked in an earlier Ready.
        entries: vec![],
        committed_entries: entries.clone(),
        // Only applying, not appending.
        must_sync: false,
        ..Default::default()
    };

    // A fresh storage whose dummy entry is at index 1 (term 0).
    let mut storage = mem_storage_with_ents(vec![Entry {
        index: 1,
        ..Default::default()
    }]);

    // A prototype of bootstrapping without fake conf changes: the ConfState
    // is persisted at an index that log position 1 cannot reach, so that
    // followers must pick it up from a snapshot (what CockroachDB does: its
    // log really starts at index 10).
    let bootstrap = |storage: &mut MemStorage, cs: ConfState| {
        assert!(!cs.voters.is_empty(), "no voters specified");
        let fi = storage.first_index().unwrap();
        assert!(fi >= 2, "FirstIndex >= 2 is prerequisite for bootstrap");

        assert!(
            storage.entries(fi, fi, u64::MAX).is_err(),
            "should not have been able to load first index"
        );

        let li = storage.last_index().unwrap();

        assert!(
            storage.entries(li, li, u64::MAX).is_err(),
            "should not have been able to load last index"
        );

        let (hs, ics) = storage.initial_state().unwrap();
        assert!(hs.is_empty());
        assert!(ics.voters.is_empty());

        let snap = Snapshot {
            data: Bytes::new(),
            metadata: SnapshotMetadata {
                conf_state: cs,
                index: 1,
                term: 0,
            },
        };
        storage.apply_snapshot(snap)
    };

    bootstrap(
        &mut storage,
        ConfState {
            voters: vec![1],
            ..Default::default()
        },
    )
    .unwrap();

    let mut raw_node = new_test_raw_node(1, 10, 1, storage);
    assert!(!raw_node.has_ready());

    raw_node.campaign().unwrap();
    let rd = raw_node.ready();
    append_ready(&mut raw_node, &rd);
    raw_node.advance();
    raw_node.propose(&b"foo"[..]).unwrap();
    assert!(raw_node.has_ready());

    let rd = raw_node.ready();
    assert_eq!(rd.entries, entries);
    append_ready(&mut raw_node, &rd);
    raw_node.advance();

    assert!(raw_node.has_ready());
    let mut rd = raw_node.ready();
    assert!(rd.entries.is_empty());
    assert!(!rd.must_sync);
    raw_node.advance();

    rd.soft_state = None;
    let want = Ready {
        soft_state: None,
        ..want
    };

    assert_eq!(rd, want);
    assert!(!raw_node.has_ready());
}

#[test]
fn test_raw_node_restart() {
    let entries = vec![new_entry(1, 1), new_entry_with_data(2, 1, b"foo")];
    let st = HardState {
        term: 1,
        commit: 1,
        vote: 0,
    };

    let want = Ready {
        hard_state: None,
        // Committed up to the commit index of st.
        committed_entries: entries[..st.commit as usize].to_vec(),
        must_sync: false,
        ..Default::default()
    };

    let mut storage = new_test_memory_storage(vec![with_peers(&[1])]);
    storage.set_hard_state(st).unwrap();
    storage.append(&entries).unwrap();
    let mut raw_node = new_test_raw_node(1, 10, 1, storage);
    let rd = raw_node.ready();
    assert_eq!(rd, want);
    raw_node.advance();
    assert!(!raw_node.has_ready());
}

#[test]
fn test_raw_node_restart_from_snapshot() {
    let (s, entries) = restarted_from_snapshot_storage();
    let want = Ready {
        hard_state: None,
        // Committed up to the stored commit index.
        committed_entries: entries,
        must_sync: false,
        ..Default::default()
    };

    let mut raw_node = new_test_raw_node(1, 10, 1, s);
    let rd = raw_node.ready();
    assert_eq!(rd, want);
    raw_node.advance();
    assert!(!raw_node.has_ready());
}

#[test]
fn test_raw_node_status() {
    let s = new_test_memory_storage(vec![with_peers(&[1])]);
    let mut rn = new_test_raw_node(1, 10, 1, s);
    assert!(rn.status().progress.is_empty());
    rn.campaign().unwrap();

    let rd = rn.ready();
    append_ready(&mut rn, &rd);
    rn.advance();
    let status = rn.status();
    assert_eq!(status.basic.lead(), 1);
    assert_eq!(status.basic.raft_state(), StateRole::Leader);
    assert_eq!(rn.raft.trk.progress.get(1), status.progress.get(1));

    let exp_cfg = tracker::Config {
        voters: JointConfig::new(MajorityConfig::from(vec![1]), MajorityConfig::default()),
        ..Default::default()
    };
    assert_eq!(status.config, exp_cfg);
}

/// The same regression as node_test's pagination test, on a `RawNode`,
/// where it once cost an applied entry. The stored commit index is 10 and a
/// heartbeat says 11 is committed. The first batch handed out stopped one
/// entry past the size limit (10 included), because the storage ignores
/// the hint; after a restart the same read is cut back to 9, yet advance
/// still counted 10 as applied, so the next batch started at 11 and entry
/// 10 was never applied. The loop checks each batch continues the previous
/// one without a gap until 11 is applied.
#[test]
fn test_raw_node_commit_pagination_after_restart() {
    let mut s = IgnoreSizeHintMemStorage(new_test_memory_storage(vec![with_peers(&[1])]));
    let persisted_hard_state = HardState {
        term: 1,
        vote: 1,
        commit: 10,
    };

    // etcd's test sets the entries as the whole log, so entry 1 plays the
    // dummy (the compaction point).
    let mut ents = Vec::with_capacity(11);
    let mut size = 0u64;
    for i in 0..10 {
        let ent = new_entry_with_data(i + 1, 1, b"a");
        size += ent.encoded_len() as u64;
        ents.push(ent);
    }

    let mut cfg = new_test_config(1, 10, 1);
    // A limit that tells raft not to include the last committed entry in
    // the first committed entries; the storage ignores it and returns it
    // anyway (which is how the commit index ended up at 10).
    cfg.max_size_per_msg = size - ents.last().unwrap().encoded_len() as u64 - 1;

    ents.push(new_entry_with_data(11, 1, b"boom"));
    let conf_state = s.0.snapshot.conf_state();
    s.0 = mem_storage_with_ents(ents);
    s.0.snapshot.set_conf_state(conf_state);
    s.0.hard_state = persisted_hard_state;

    let mut raw_node = RawNode::new(&cfg, s, &test_logger()).unwrap();

    let mut highest_applied = 0;
    while highest_applied != 11 {
        let rd = raw_node.ready();
        let n = rd.committed_entries.len();
        assert!(n > 0, "stopped applying entries at index {highest_applied}");
        let next = rd.committed_entries[0].index;
        assert!(
            !(highest_applied != 0 && highest_applied + 1 != next),
            "attempting to apply index {next} after index {highest_applied}, leaving a gap"
        );

        highest_applied = rd.committed_entries[n - 1].index;
        raw_node.advance();
        // From 2, which is not in the group: tolerated here.
        let _ = raw_node.step(Message {
            term: 1,
            commit: 11,
            ..new_message(2, 1, MessageType::MsgHeartbeat)
        });
    }
}

/// A leader partitioned from the quorum does not grow its log without
/// bound as proposals keep coming: max_uncommitted_entries_size protects it.
#[test]
fn test_raw_node_bounded_log_growth_with_partition() {
    const MAX_ENTRIES: u64 = 16;
    let data: &'static [u8] = b"testdata";
    let test_entry = entry_with_data(data);
    let max_entry_size = MAX_ENTRIES * payload_size(&test_entry);

    let s = new_test_memory_storage(vec![with_peers(&[1])]);
    let mut cfg = new_test_config(1, 10, 1);
    cfg.max_uncommitted_entries_size = max_entry_size;
    let mut raw_node = RawNode::new(&cfg, s, &test_logger()).unwrap();

    // Become leader and apply the empty entry.
    raw_node.campaign().unwrap();
    loop {
        let rd = raw_node.ready();
        append_ready(&mut raw_node, &rd);
        raw_node.advance();
        if !rd.committed_entries.is_empty() {
            break;
        }
    }

    // A partition: nothing commits while we propose. The log must not grow
    // without bound.
    for _ in 0..1024 {
        let _ = raw_node.propose(data);
    }

    // The uncommitted tail is at the limit, not above.
    assert_eq!(raw_node.raft.uncommitted_size, max_entry_size);

    // The partition heals: the uncommitted tail goes away as entries
    // commit.
    let rd = raw_node.ready();
    assert_eq!(rd.entries.len() as u64, MAX_ENTRIES);
    append_ready(&mut raw_node, &rd);
    raw_node.advance();

    // Appended, but not applied.
    assert_eq!(raw_node.raft.uncommitted_size, max_entry_size);

    let rd = raw_node.ready();
    assert!(rd.entries.is_empty());
    assert_eq!(rd.committed_entries.len() as u64, MAX_ENTRIES);
    raw_node.advance();

    assert_eq!(raw_node.raft.uncommitted_size, 0);
}

/// `ready_without_accept` leaves the messages in the state machine;
/// `ready` moves them out.
#[test]
fn test_raw_node_consume_ready() {
    let s = new_test_memory_storage(vec![with_peers(&[1])]);
    let mut rn = new_test_raw_node(1, 3, 1, s);
    let m1 = Message {
        context: Bytes::from_static(b"foo"),
        ..Default::default()
    };
    let m2 = Message {
        context: Bytes::from_static(b"bar"),
        ..Default::default()
    };

    // The first message shows in ready_without_accept.
    rn.raft.msgs.push(m1.clone());
    let rd = rn.ready_without_accept();
    assert_eq!(rd.messages, vec![m1.clone()]);
    assert_eq!(rn.raft.msgs, vec![m1.clone()]);

    // ready moves it into the Ready rather than leaving it in both places.
    let rd = rn.ready();
    assert!(rn.raft.msgs.is_empty());
    assert_eq!(rd.messages, vec![m1]);

    // advance does not drop a message added meanwhile.
    rn.raft.msgs.push(m2.clone());
    rn.advance();
    assert_eq!(rn.raft.msgs, vec![m2]);
}
