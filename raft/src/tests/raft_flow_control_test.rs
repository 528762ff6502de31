//! Port of etcd's `raft_flow_control_test.go`: the in-flight window of
//! appends to a replicating follower.

use super::support::*;
use crate::eraftpb::Message;
use crate::eraftpb::MessageType::*;

/// A leader of a two-node group whose follower 2 replicates.
fn replicating_leader() -> TestRaft {
    let mut r = new_test_raft(1, 5, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    r.become_candidate();
    r.become_leader();
    // Force replication to 2.
    r.pr_mut(2).become_replicate();
    r
}

/// 1. Appends fill the window until it is full.
/// 2. Once it is full, no more appends are sent.
#[test]
fn test_msg_app_flow_control_full() {
    let mut r = replicating_leader();
    // Fill the window.
    for _ in 0..r.trk.inflight_limits.max_inflight {
        let _ = r.step(prop_msg(1, b"somedata"));
        let ms = r.read_messages();
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].get_type(), MsgApp);
    }

    // 1.
    assert!(r.pr(2).is_paused());

    // 2.
    for _ in 0..10 {
        let _ = r.step(prop_msg(1, b"somedata"));
        assert!(r.read_messages().is_empty());
    }
}

/// Append responses move the window forward:
/// 1. A valid response frees everything up to its index.
/// 2. An outdated response changes nothing.
#[test]
fn test_msg_app_flow_control_move_forward() {
    let mut r = replicating_leader();
    // Fill the window.
    for _ in 0..r.trk.inflight_limits.max_inflight {
        let _ = r.step(prop_msg(1, b"somedata"));
        r.read_messages();
    }

    // Entry 1 is the empty entry, 2 the first proposal: start at 2.
    for tt in 2..r.trk.inflight_limits.max_inflight as u64 {
        // Move the window forward.
        let _ = r.step(Message {
            index: tt,
            ..new_message(2, 1, MsgAppResp)
        });
        r.read_messages();

        // Fill it again.
        let _ = r.step(prop_msg(1, b"somedata"));
        let ms = r.read_messages();
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].get_type(), MsgApp);

        // 1.
        assert!(r.pr(2).is_paused());

        // 2.
        for i in 0..tt {
            let _ = r.step(Message {
                index: i,
                ..new_message(2, 1, MsgAppResp)
            });
            assert!(r.pr(2).is_paused());
        }
    }
}

/// A heartbeat response frees one slot of a full window.
#[test]
fn test_msg_app_flow_control_recv_heartbeat() {
    let mut r = replicating_leader();
    // Fill the window.
    for _ in 0..r.trk.inflight_limits.max_inflight {
        let _ = r.step(prop_msg(1, b"somedata"));
        r.read_messages();
    }

    for tt in 1..5 {
        // tt heartbeat responses, each freeing one slot.
        for _ in 0..tt {
            assert!(r.pr(2).is_paused());
            // Unpauses, sends an empty append, and pauses again.
            let _ = r.step(new_message(2, 1, MsgHeartbeatResp));
            let ms = r.read_messages();
            assert_eq!(ms.len(), 1);
            assert_eq!(ms[0].get_type(), MsgApp);
            assert!(ms[0].entries.is_empty());
        }

        // Without heartbeats nothing more is sent.
        for _ in 0..10 {
            assert!(r.pr(2).is_paused());
            let _ = r.step(prop_msg(1, b"somedata"));
            assert!(r.read_messages().is_empty());
        }

        // Drop whatever is pending.
        let _ = r.step(new_message(2, 1, MsgHeartbeatResp));
        r.read_messages();
    }
}
