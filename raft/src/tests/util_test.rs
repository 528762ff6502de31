//! Port of etcd's `util_test.go`.

use crate::describe::describe_entry;
use crate::eraftpb::{Entry, MessageType};
use crate::util::{ent_size, ents_size, is_local_msg, is_response_msg, limit_size, payload_size};

use super::support::{new_entry, new_entry_with_data};

/// etcd's `testFormatter`: the data upper-cased.
fn test_formatter(data: &[u8]) -> String {
    String::from_utf8_lossy(data).to_uppercase()
}

#[test]
fn test_describe_entry() {
    let entry = new_entry_with_data(2, 1, b"hello\x00world");
    assert_eq!(
        describe_entry(&entry, None),
        r#"1/2 EntryNormal "hello\x00world""#
    );
    assert_eq!(
        describe_entry(&entry, Some(&test_formatter)),
        "1/2 EntryNormal HELLO\x00WORLD"
    );
}

#[test]
fn test_limit_size() {
    let ents = vec![new_entry(4, 4), new_entry(5, 5), new_entry(6, 6)];
    let size = |i: usize| ent_size(&ents[i]);
    let cases = [
        // No limit: everything.
        (u64::MAX, 3),
        // Even a zero limit returns the first entry.
        (0, 1),
        // Limit to two.
        (size(0) + size(1), 2),
        (size(0) + size(1) + size(2) / 2, 2),
        (size(0) + size(1) + size(2) - 1, 2),
        // All.
        (size(0) + size(1) + size(2), 3),
    ];
    for (i, (max_size, want)) in cases.into_iter().enumerate() {
        let mut got = ents.clone();
        limit_size(&mut got, max_size);
        assert_eq!(got, ents[..want].to_vec(), "#{i}");
        assert!(got.len() == 1 || ents_size(&got) <= max_size, "#{i}");
    }
}

#[test]
fn test_is_local_msg() {
    use MessageType::*;
    let tests = [
        (MsgHup, true),
        (MsgBeat, true),
        (MsgUnreachable, true),
        (MsgSnapStatus, true),
        (MsgCheckQuorum, true),
        (MsgTransferLeader, false),
        (MsgProp, false),
        (MsgApp, false),
        (MsgAppResp, false),
        (MsgVote, false),
        (MsgVoteResp, false),
        (MsgSnap, false),
        (MsgHeartbeat, false),
        (MsgHeartbeatResp, false),
        (MsgTimeoutNow, false),
        (MsgReadIndex, false),
        (MsgReadIndexResp, false),
        (MsgPreVote, false),
        (MsgPreVoteResp, false),
        (MsgStorageAppend, true),
        (MsgStorageAppendResp, true),
        (MsgStorageApply, true),
        (MsgStorageApplyResp, true),
    ];
    for (t, is_local) in tests {
        assert_eq!(is_local_msg(t), is_local, "{t}");
    }
}

#[test]
fn test_is_response_msg() {
    use MessageType::*;
    let tests = [
        (MsgHup, false),
        (MsgBeat, false),
        (MsgUnreachable, true),
        (MsgSnapStatus, false),
        (MsgCheckQuorum, false),
        (MsgTransferLeader, false),
        (MsgProp, false),
        (MsgApp, false),
        (MsgAppResp, true),
        (MsgVote, false),
        (MsgVoteResp, true),
        (MsgSnap, false),
        (MsgHeartbeat, false),
        (MsgHeartbeatResp, true),
        (MsgTimeoutNow, false),
        (MsgReadIndex, false),
        (MsgReadIndexResp, true),
        (MsgPreVote, false),
        (MsgPreVoteResp, true),
        (MsgStorageAppend, false),
        (MsgStorageAppendResp, true),
        (MsgStorageApply, false),
        (MsgStorageApplyResp, true),
    ];
    for (i, (t, is_response)) in tests.into_iter().enumerate() {
        assert_eq!(is_response_msg(t), is_response, "#{i}");
    }
}

/// The empty entry a new leader appends must not count towards the
/// uncommitted-size quota.
#[test]
fn test_payload_size_of_empty_entry() {
    assert_eq!(payload_size(&Entry::default()), 0);
}
