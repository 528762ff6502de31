//! Port of etcd's `raft_snap_test.go`: the leader's side of sending
//! snapshots.

use super::support::*;
use crate::eraftpb::MessageType::*;
use crate::eraftpb::{Message, Snapshot};

/// etcd's `testingSnap`: index 11, term 11, voters 1 and 2.
fn testing_snap() -> Snapshot {
    snapshot(11, 11, &[1, 2])
}

/// A leader of term 1 (after a restore from [`testing_snap`]) over a storage
/// with `peers`.
fn restored_leader(peers: &[u64]) -> TestRaft {
    let storage = new_test_memory_storage(vec![with_peers(peers)]);
    let mut sm = new_test_raft(1, 10, 1, storage);
    sm.restore(testing_snap());

    sm.become_candidate();
    sm.become_leader();
    sm
}

#[test]
fn test_sending_snapshot_set_pending_snapshot() {
    let mut sm = restored_leader(&[1]);

    // Node 2 needs a snapshot.
    let fi = sm.raft_log.first_index();
    sm.pr_mut(2).next = fi;

    let next = sm.pr(2).next;
    let _ = sm.step(Message {
        index: next - 1,
        reject: true,
        ..new_message(2, 1, MsgAppResp)
    });
    assert_eq!(sm.pr(2).pending_snapshot, 11);
}

#[test]
fn test_pending_snapshot_pause_replication() {
    let mut sm = restored_leader(&[1, 2]);

    sm.pr_mut(2).become_snapshot(11);

    let _ = sm.step(prop_msg(1, b"somedata"));
    assert!(sm.read_messages().is_empty());
}

#[test]
fn test_snapshot_failure() {
    let mut sm = restored_leader(&[1, 2]);

    sm.pr_mut(2).next = 1;
    sm.pr_mut(2).become_snapshot(11);

    let _ = sm.step(Message {
        reject: true,
        ..new_message(2, 1, MsgSnapStatus)
    });
    assert_eq!(sm.pr(2).pending_snapshot, 0);
    assert_eq!(sm.pr(2).next, 1);
    assert!(sm.pr(2).msg_app_flow_paused);
}

#[test]
fn test_snapshot_succeed() {
    let mut sm = restored_leader(&[1, 2]);

    sm.pr_mut(2).next = 1;
    sm.pr_mut(2).become_snapshot(11);

    let _ = sm.step(Message {
        reject: false,
        ..new_message(2, 1, MsgSnapStatus)
    });
    assert_eq!(sm.pr(2).pending_snapshot, 0);
    assert_eq!(sm.pr(2).next, 12);
    assert!(sm.pr(2).msg_app_flow_paused);
}

#[test]
fn test_snapshot_abort() {
    let mut sm = restored_leader(&[1, 2]);

    sm.pr_mut(2).next = 1;
    sm.pr_mut(2).become_snapshot(11);

    // A successful append response at or above the pending snapshot
    // aborts the snapshot.
    let _ = sm.step(Message {
        index: 11,
        ..new_message(2, 1, MsgAppResp)
    });
    assert_eq!(sm.pr(2).pending_snapshot, 0);
    // The follower replicates now, and the leader sent its empty entry at
    // index 12 and moved next optimistically: 13 rather than 12.
    assert_eq!(sm.pr(2).next, 13);
    assert_eq!(sm.pr(2).inflights.count(), 1);
}
