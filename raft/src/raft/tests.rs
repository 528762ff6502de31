//! Tests of the state machine's trickier corners that the ported etcd tests
//! do not reach: refusals that etcd turns into panics, read-index batching,
//! and the deterministic election timeout.

use bytes::Bytes;

use super::*;
use crate::eraftpb::{ConfState, Entry, MessageType, Snapshot, SnapshotMetadata};
use crate::read_only::ReadOnlyOption;
use crate::storage::MemStorage;
use crate::tests::support::{msg_term, test_logger};

fn conf_state(voters: &[u64]) -> ConfState {
    ConfState {
        voters: voters.to_vec(),
        ..Default::default()
    }
}

fn new_raft(id: u64, voters: &[u64], f: impl FnOnce(&mut Config)) -> Raft<MemStorage> {
    let mut c = Config::new(id);
    f(&mut c);
    Raft::new(
        &c,
        MemStorage::new_with_conf_state(conf_state(voters)),
        &test_logger(),
    )
    .unwrap()
}

/// Makes `r` the leader of a fresh term by stepping granted votes.
fn elect(r: &mut Raft<MemStorage>) {
    r.become_candidate();
    let term = r.term;
    let voters = r.trk.voter_nodes();
    for id in voters {
        let _ = r.step(msg_term(id, r.id, MessageType::MsgVoteResp, term));
    }
    assert_eq!(r.state, StateRole::Leader);
}

/// Persists the leader's unstable entries and acks them, as RawNode would.
fn persist_and_ack(r: &mut Raft<MemStorage>) {
    if let Some(snap) = r.raft_log.next_unstable_snapshot().cloned() {
        let index = snap.metadata.index;
        r.raft_log.storage.apply_snapshot(snap).unwrap();
        r.raft_log.accept_unstable();
        r.raft_log.stable_snap_to(index);
        r.applied_to(index, 0);
    }
    let ents = r.raft_log.next_unstable_ents().to_vec();
    if let Some(last) = ents.last() {
        let id = crate::raft_log::EntryId::new(last.term, last.index);
        r.raft_log.storage.append(&ents).unwrap();
        r.raft_log.accept_unstable();
        r.raft_log.stable_to(id);
    }
    for m in std::mem::take(&mut r.msgs_after_append) {
        if m.to == r.id {
            r.step(m).unwrap();
        }
    }
}

#[test]
fn election_timeout_is_deterministic_and_in_range() {
    let mut a = new_raft(1, &[1], |c| c.election_seed = Some(7));
    let mut b = new_raft(1, &[1], |c| c.election_seed = Some(7));
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        a.reset_randomized_election_timeout();
        b.reset_randomized_election_timeout();
        assert_eq!(a.randomized_election_timeout, b.randomized_election_timeout);
        let t = a.randomized_election_timeout;
        assert!((10..20).contains(&t), "{t}");
        seen.insert(t);
    }
    // Every value of the range is drawn, so timeouts do spread out.
    assert_eq!(seen.len(), 10);
    a.set_randomized_election_timeout(42);
    assert_eq!(a.randomized_election_timeout, 42);
}

#[test]
fn election_seed_unset_differs_per_start() {
    // Without a seed, each start (a restart of the same node included)
    // draws its own sequence; 40 draws from 10 values agree by chance with
    // probability 10^-40.
    let draws = |r: &mut Raft<MemStorage>| -> Vec<usize> {
        (0..40)
            .map(|_| {
                r.reset_randomized_election_timeout();
                r.randomized_election_timeout
            })
            .collect()
    };
    let mut a = new_raft(1, &[1], |_| {});
    let mut b = new_raft(1, &[1], |_| {});
    assert_ne!(draws(&mut a), draws(&mut b));
    let mut c = new_raft(1, &[1], |c| c.election_seed = Some(1));
    let mut d = new_raft(2, &[1], |c| c.election_seed = Some(1));
    assert_eq!(draws(&mut c), draws(&mut d));
}

#[test]
fn new_refuses_bad_config_and_applied_index() {
    let err = Raft::new(&Config::new(0), MemStorage::new(), &test_logger()).err();
    assert_eq!(err.unwrap().to_string(), "cannot use none as id");
    let mut c = Config::new(1);
    c.applied = 5;
    let err = Raft::new(
        &c,
        MemStorage::new_with_conf_state(conf_state(&[1])),
        &test_logger(),
    )
    .err();
    assert_eq!(
        err.unwrap().to_string(),
        "applied(5) is out of range [prevApplied(0), committed(0)]"
    );
}

#[test]
fn empty_proposal_is_dropped_not_panicked() {
    let mut r = new_raft(1, &[1, 2], |_| {});
    elect(&mut r);
    let m = msg_term(2, 1, MessageType::MsgProp, 0);
    assert_eq!(r.step(m), Err(Error::ProposalDropped));
}

#[test]
fn undecodable_conf_change_proposal_is_an_error() {
    let mut r = new_raft(1, &[1, 2], |_| {});
    elect(&mut r);
    let mut m = msg_term(1, 1, MessageType::MsgProp, 0);
    m.entries = vec![Entry {
        entry_type: Some(crate::eraftpb::EntryType::EntryConfChangeV2 as i32),
        data: Bytes::from_static(&[0xff, 0xff, 0xff]),
        ..Default::default()
    }];
    let last = r.raft_log.last_index();
    assert!(matches!(r.step(m), Err(Error::Decode(_))));
    assert_eq!(r.raft_log.last_index(), last);
}

#[test]
fn conf_change_before_an_undecodable_one_is_not_left_pending() {
    let mut r = new_raft(1, &[1, 2], |_| {});
    elect(&mut r);
    let pending = r.pending_conf_index;
    assert!(
        pending <= r.raft_log.applied,
        "a conf change may be proposed"
    );
    let cc = crate::eraftpb::ConfChangeV2 {
        changes: vec![crate::eraftpb::ConfChangeSingle {
            change_type: crate::eraftpb::ConfChangeType::ConfChangeAddLearnerNode as i32,
            node_id: 3,
        }],
        ..Default::default()
    };
    let (typ, data) = crate::eraftpb::marshal_conf_change(Some(&cc));
    let mut m = msg_term(1, 1, MessageType::MsgProp, 0);
    m.entries = vec![
        Entry {
            entry_type: Some(typ as i32),
            data,
            ..Default::default()
        },
        Entry {
            entry_type: Some(crate::eraftpb::EntryType::EntryConfChangeV2 as i32),
            data: Bytes::from_static(&[0xff, 0xff, 0xff]),
            ..Default::default()
        },
    ];
    assert!(matches!(r.step(m), Err(Error::Decode(_))));
    // The valid change was not appended, so it must not block the next one.
    assert_eq!(r.pending_conf_index, pending);
}

#[test]
fn snapshot_with_unrestorable_conf_state_is_ignored() {
    let mut r = new_raft(2, &[1, 2], |_| {});
    r.become_follower(1, 1);
    // Learner and voter at once: our conf change code refuses it.
    let cs = ConfState {
        voters: vec![1, 2],
        learners: vec![2],
        ..Default::default()
    };
    let mut m = msg_term(1, 2, MessageType::MsgSnap, 1);
    m.snapshot = Some(Box::new(Snapshot {
        data: Bytes::new(),
        metadata: SnapshotMetadata {
            conf_state: cs,
            index: 10,
            term: 1,
        },
    }));
    r.step(m).unwrap();
    assert_eq!(r.raft_log.committed, 0);
    assert_eq!(r.raft_log.last_index(), 0);
    assert_eq!(r.trk.voter_nodes(), vec![1, 2]);
    // The leader is told where this node's log really is.
    let resp = r.msgs_after_append.pop().unwrap();
    assert_eq!(
        (resp.get_type(), resp.index, resp.reject),
        (MessageType::MsgAppResp, 0, false)
    );
}

#[test]
fn safe_read_index_batches_under_one_heartbeat_round() {
    let mut r = new_raft(1, &[1, 2, 3], |_| {});
    elect(&mut r);
    persist_and_ack(&mut r);
    // Commit the empty entry of the term through follower 2's ack.
    let mut ack = msg_term(2, 1, MessageType::MsgAppResp, r.term);
    ack.index = r.raft_log.last_index();
    r.step(ack).unwrap();
    assert!(r.committed_entry_in_current_term());
    r.msgs.clear();

    for ctx in [&b"a"[..], b"b"] {
        let mut m = msg_term(1, 1, MessageType::MsgReadIndex, 0);
        m.entries = vec![Entry {
            data: Bytes::copy_from_slice(ctx),
            ..Default::default()
        }];
        r.step(m).unwrap();
    }
    // Each request broadcast heartbeats; the latest carry the counter that
    // confirms both.
    let hb: Vec<_> = r.msgs.drain(..).filter(|m| m.to == 2).collect();
    assert_eq!(hb.len(), 2);
    assert_eq!(hb[1].context.as_ref(), 2u64.to_le_bytes());
    assert!(r.read_states.is_empty());

    // An ack of the first round confirms the first request only.
    let mut resp = msg_term(2, 1, MessageType::MsgHeartbeatResp, r.term);
    resp.context = hb[0].context.clone();
    r.step(resp).unwrap();
    assert_eq!(r.read_states.len(), 1);
    assert_eq!(r.read_states[0].request_ctx.as_ref(), b"a");

    // A malformed context acknowledges nothing; a good one the rest.
    let mut resp = msg_term(3, 1, MessageType::MsgHeartbeatResp, r.term);
    resp.context = Bytes::from_static(b"junk");
    r.step(resp).unwrap();
    assert_eq!(r.read_states.len(), 1);
    let mut resp = msg_term(3, 1, MessageType::MsgHeartbeatResp, r.term);
    resp.context = hb[1].context.clone();
    r.step(resp).unwrap();
    assert_eq!(r.read_states.len(), 2);
    assert_eq!(r.read_states[1].request_ctx.as_ref(), b"b");
    assert_eq!(r.read_only.unconfirmed_len(), 0);
    assert!(r.read_only.heartbeat_ctx().is_empty());
}

#[test]
fn read_index_waits_for_first_commit_of_the_term() {
    let mut r = new_raft(1, &[1, 2, 3], |c| {
        c.check_quorum = true;
        c.read_only_option = ReadOnlyOption::LeaseBased;
    });
    elect(&mut r);
    persist_and_ack(&mut r);
    let mut m = msg_term(2, 1, MessageType::MsgReadIndex, 0);
    m.entries = vec![Entry {
        data: Bytes::from_static(b"ctx"),
        ..Default::default()
    }];
    r.step(m).unwrap();
    assert_eq!(r.pending_read_index_messages.len(), 1);
    r.msgs.clear();

    let mut ack = msg_term(2, 1, MessageType::MsgAppResp, r.term);
    ack.index = r.raft_log.last_index();
    r.step(ack).unwrap();
    assert!(r.pending_read_index_messages.is_empty());
    let resp = r
        .msgs
        .iter()
        .find(|m| m.get_type() == MessageType::MsgReadIndexResp)
        .unwrap();
    assert_eq!((resp.to, resp.index), (2, r.raft_log.committed));
    assert_eq!(resp.entries[0].data.as_ref(), b"ctx");
}

#[test]
fn uncommitted_size_limit_drops_and_releases() {
    let mut r = new_raft(1, &[1, 2], |c| c.max_uncommitted_entries_size = 10);
    elect(&mut r);
    let prop = |n: usize| {
        let mut m = msg_term(1, 1, MessageType::MsgProp, 0);
        m.entries = vec![Entry {
            data: Bytes::from(vec![0u8; n]),
            ..Default::default()
        }];
        m
    };
    // An empty tail takes any size; then the limit applies.
    r.step(prop(8)).unwrap();
    assert_eq!(r.step(prop(3)), Err(Error::ProposalDropped));
    r.step(prop(2)).unwrap();
    assert_eq!(r.uncommitted_size, 10);
    r.reduce_uncommitted_size(100);
    assert_eq!(r.uncommitted_size, 0);
}

#[test]
fn step_down_on_removal_only_when_asked() {
    for step_down in [false, true] {
        let mut r = new_raft(1, &[1, 2], |c| c.step_down_on_removal = step_down);
        elect(&mut r);
        let cc = crate::eraftpb::ConfChangeV2 {
            changes: vec![crate::eraftpb::ConfChangeSingle::new(
                crate::eraftpb::ConfChangeType::ConfChangeRemoveNode,
                1,
            )],
            ..Default::default()
        };
        let cs = r.apply_conf_change(&cc).unwrap();
        assert_eq!(cs.voters, vec![2]);
        let want = if step_down {
            StateRole::Follower
        } else {
            StateRole::Leader
        };
        assert_eq!(r.state, want);
        assert!(!r.is_learner);
    }
}

#[test]
fn invalid_conf_change_changes_nothing() {
    let mut r = new_raft(1, &[1, 2], |_| {});
    // Leaving a joint config that is not joint is refused.
    let cc = crate::eraftpb::ConfChangeV2::default();
    assert!(r.apply_conf_change(&cc).is_err());
    assert_eq!(r.trk.voter_nodes(), vec![1, 2]);
}

#[test]
fn forwarded_requests_with_a_term_do_not_panic() {
    let mut r = new_raft(2, &[1, 2, 3], |_| {});
    r.become_follower(3, 1);
    for t in [
        MessageType::MsgProp,
        MessageType::MsgReadIndex,
        MessageType::MsgTransferLeader,
    ] {
        let mut m = msg_term(3, 2, t, 3);
        m.entries = vec![Entry::default()];
        r.step(m).unwrap();
        let fwd = r.msgs.pop().unwrap();
        assert_eq!((fwd.get_type(), fwd.to, fwd.from), (t, 1, 3));
        // Only the transfer request carries a term, as in etcd.
        let want_term = if t == MessageType::MsgTransferLeader {
            3
        } else {
            0
        };
        assert_eq!(fwd.term, want_term);
    }
}

/// Random (often malformed) messages from peers never panic a node, in any
/// role. The one exception, a heartbeat committing beyond the log, is
/// etcd's deliberate "log lost" panic and is left out.
#[test]
fn random_peer_messages_do_not_panic() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let mut rng = ElectionRng::new(7);
    let types = [
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
    ];
    let mut seen = std::collections::BTreeMap::new();
    for round in 0..1500 {
        let mut r = new_raft(1, &[1, 2, 3], |c| {
            c.pre_vote = round % 2 == 0;
            c.check_quorum = round % 3 == 0;
        });
        match round % 3 {
            0 => elect(&mut r),
            1 => r.become_follower(2, 2),
            _ => {}
        }
        persist_and_ack(&mut r);
        for _ in 0..40 {
            let t = types[rng.gen_below(types.len())];
            let mut m = msg_term(2 + rng.gen_below(2) as u64, 1, t, rng.gen_below(4) as u64);
            m.index = rng.gen_below(6) as u64;
            m.log_term = rng.gen_below(4) as u64;
            m.commit = rng.gen_below(6) as u64;
            m.reject = rng.gen_below(2) == 0;
            m.reject_hint = rng.gen_below(6) as u64;
            let n = rng.gen_below(3);
            for i in 0..n {
                m.entries.push(Entry {
                    index: m.index + 1 + i as u64,
                    term: m.log_term.max(rng.gen_below(4) as u64),
                    ..Default::default()
                });
            }
            if t == MessageType::MsgSnap {
                m.snapshot = Some(Box::new(Snapshot {
                    data: Bytes::new(),
                    metadata: SnapshotMetadata {
                        conf_state: conf_state(&[1, 2, 3]),
                        index: rng.gen_below(8) as u64,
                        term: rng.gen_below(4) as u64,
                    },
                }));
            }
            if t == MessageType::MsgHeartbeat {
                // A commit beyond our log means our log was lost: etcd's
                // deliberate panic (in the log), not probed here.
                m.commit = m.commit.min(r.raft_log.last_index());
            }
            let desc = format!("{m:?}");
            let res = catch_unwind(AssertUnwindSafe(|| {
                let _ = r.step(m);
                persist_and_ack(&mut r);
                r.msgs.clear();
            }));
            if let Err(e) = res {
                let s = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let key: String = s.chars().take(40).collect();
                seen.entry(key).or_insert((s, desc));
                break;
            }
        }
    }
    assert!(seen.is_empty(), "panics: {seen:#?}");
}
