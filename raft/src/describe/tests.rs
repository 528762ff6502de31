use bytes::Bytes;
use raft_proto::{
    ConfChange, ConfChangeSingle, ConfChangeTransition, ConfChangeType, ConfChangeV2, ConfState,
    EntryType, HardState, Message, MessageType, Snapshot,
};

use super::*;
use crate::raft::StateRole;
use crate::tests::support::{msg_term, new_entry_with_data, snapshot_with_conf_state, typed_entry};

#[test]
fn test_describe_entry_formatters() {
    let e = new_entry_with_data(2, 1, b"hello\x00world");
    assert_eq!(
        describe_entry(&e, None),
        r#"1/2 EntryNormal "hello\x00world""#
    );
    let upper = |d: &[u8]| String::from_utf8_lossy(d).to_uppercase();
    assert_eq!(
        describe_entry(&e, Some(&upper)),
        "1/2 EntryNormal HELLO\x00WORLD"
    );
    // A formatter that prints nothing leaves no trailing space.
    let nothing = |_: &[u8]| String::new();
    assert_eq!(describe_entry(&e, Some(&nothing)), "1/2 EntryNormal");
    assert_eq!(
        describe_entry(&new_entry_with_data(0, 0, b""), None),
        r#"0/0 EntryNormal """#
    );
}

#[test]
fn test_describe_conf_change_entries() {
    let v1 = ConfChange {
        change_type: ConfChangeType::ConfChangeRemoveNode as i32,
        node_id: 1,
        ..Default::default()
    };
    let e = typed_entry(4, 1, EntryType::EntryConfChange, v1.encode_to_vec());
    assert_eq!(describe_entry(&e, None), "1/4 EntryConfChange r1");

    let v2 = ConfChangeV2 {
        changes: vec![
            ConfChangeSingle::new(ConfChangeType::ConfChangeRemoveNode, 1),
            ConfChangeSingle::new(ConfChangeType::ConfChangeAddNode, 4),
        ],
        ..Default::default()
    };
    let e = typed_entry(4, 1, EntryType::EntryConfChangeV2, v2.encode_to_vec());
    assert_eq!(describe_entry(&e, None), "1/4 EntryConfChangeV2 r1 v4");
    // Leaving a joint config is the empty change: nothing after the type.
    let e = typed_entry(5, 1, EntryType::EntryConfChangeV2, vec![]);
    assert_eq!(describe_entry(&e, None), "1/5 EntryConfChangeV2");
    // The formatter only applies to normal entries.
    let nothing = |_: &[u8]| String::from("X");
    let e = typed_entry(4, 1, EntryType::EntryConfChange, v1.encode_to_vec());
    assert_eq!(describe_entry(&e, Some(&nothing)), "1/4 EntryConfChange r1");
}

#[test]
fn test_describe_undecodable_conf_change() {
    // A length-delimited field whose length runs past the end.
    let e = typed_entry(7, 2, EntryType::EntryConfChangeV2, vec![0x1a, 0x05, 0x01]);
    assert_eq!(
        describe_entry(&e, None),
        "2/7 EntryConfChangeV2 proto: cannot parse invalid wire-format data"
    );
    let e = typed_entry(7, 2, EntryType::EntryConfChange, vec![0xff]);
    assert_eq!(
        describe_entry(&e, None),
        "2/7 EntryConfChange proto: cannot parse invalid wire-format data"
    );
}

#[test]
fn test_describe_entries() {
    let ents = [
        new_entry_with_data(11, 1, b""),
        new_entry_with_data(12, 1, b"prop_1"),
    ];
    assert_eq!(
        describe_entries(&ents, None),
        "1/11 EntryNormal \"\"\n1/12 EntryNormal \"prop_1\"\n"
    );
    assert_eq!(describe_entries(&[], None), "");
}

#[test]
fn test_describe_hard_soft_state() {
    let hs = HardState {
        term: 1,
        vote: 1,
        commit: 5,
    };
    assert_eq!(describe_hard_state(&hs), "Term:1 Vote:1 Commit:5");
    let hs = HardState {
        term: 3,
        vote: 0,
        commit: 2,
    };
    assert_eq!(describe_hard_state(&hs), "Term:3 Commit:2");
    let ss = SoftState {
        lead: 1,
        raft_state: StateRole::Leader,
    };
    assert_eq!(describe_soft_state(&ss), "Lead:1 State:StateLeader");
    let ss = SoftState {
        lead: 0,
        raft_state: StateRole::PreCandidate,
    };
    assert_eq!(describe_soft_state(&ss), "Lead:0 State:StatePreCandidate");
}

#[test]
fn test_describe_conf_state_and_snapshot() {
    let cs = ConfState {
        voters: vec![1, 2, 3],
        voters_outgoing: vec![1],
        auto_leave: true,
        ..Default::default()
    };
    assert_eq!(
        describe_conf_state(&cs),
        "Voters:[1 2 3] VotersOutgoing:[1] Learners:[] LearnersNext:[] AutoLeave:true"
    );
    let cs = ConfState {
        voters: vec![3, 1],
        learners: vec![4],
        learners_next: vec![5, 6],
        ..Default::default()
    };
    assert_eq!(
        describe_conf_state(&cs),
        "Voters:[3 1] VotersOutgoing:[] Learners:[4] LearnersNext:[5 6] AutoLeave:false"
    );
    assert_eq!(
        describe_snapshot(&snapshot_with_conf_state(11, 1, cs)),
        "Index:11 Term:1 ConfState:Voters:[3 1] VotersOutgoing:[] Learners:[4] LearnersNext:[5 6] AutoLeave:false"
    );
}

#[test]
fn test_describe_message() {
    let mut m = msg_term(1, 2, MessageType::MsgApp, 1);
    m.log_term = 1;
    m.index = 10;
    m.commit = 10;
    m.entries = vec![new_entry_with_data(11, 1, b"")];
    assert_eq!(
        describe_message(&m, None),
        r#"1->2 MsgApp Term:1 Log:1/10 Commit:10 Entries:[1/11 EntryNormal ""]"#
    );

    m.entries.push(new_entry_with_data(12, 8, b"prop_6_20"));
    assert_eq!(
        describe_message(&m, None),
        "1->2 MsgApp Term:1 Log:1/10 Commit:10 Entries:[\n  1/11 EntryNormal \"\"\n  8/12 EntryNormal \"prop_6_20\"\n]"
    );

    let mut r = msg_term(2, 1, MessageType::MsgAppResp, 1);
    r.log_term = 0;
    r.index = 3;
    r.reject = true;
    r.reject_hint = 0;
    assert_eq!(
        describe_message(&r, None),
        "2->1 MsgAppResp Term:1 Log:0/3 Rejected (Hint: 0)"
    );

    let mut s = msg_term(1, 2, MessageType::MsgSnap, 1);
    s.snapshot = Some(Box::new(snapshot_with_conf_state(
        4,
        1,
        ConfState {
            voters: vec![1, 2],
            ..Default::default()
        },
    )));
    assert_eq!(
        describe_message(&s, None),
        "1->2 MsgSnap Term:1 Log:0/0\n  Snapshot: Index:4 Term:1 ConfState:Voters:[1 2] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false"
    );
    // An empty snapshot (index 0), as old peers send, prints nothing.
    s.snapshot = Some(Box::new(Snapshot::default()));
    assert_eq!(describe_message(&s, None), "1->2 MsgSnap Term:1 Log:0/0");

    let v = Message {
        vote: 3,
        ..msg_term(0x1a, 0xff, MessageType::MsgHeartbeat, 2)
    };
    assert_eq!(
        describe_message(&v, None),
        "1a->ff MsgHeartbeat Term:2 Log:0/0 Vote:3"
    );
}

#[test]
fn test_describe_message_responses() {
    let mut m = msg_term(1, LOCAL_APPEND_THREAD, MessageType::MsgStorageAppend, 0);
    m.entries = vec![new_entry_with_data(11, 1, b"")];
    let mut r1 = msg_term(1, 1, MessageType::MsgAppResp, 1);
    r1.index = 11;
    let mut r2 = msg_term(LOCAL_APPEND_THREAD, 1, MessageType::MsgStorageAppendResp, 1);
    r2.log_term = 1;
    r2.index = 11;
    m.responses = vec![r1, r2];
    assert_eq!(
        describe_message(&m, None),
        "1->AppendThread MsgStorageAppend Term:0 Log:0/0 Entries:[1/11 EntryNormal \"\"] Responses:[\n  1->1 MsgAppResp Term:1 Log:0/11\n  AppendThread->1 MsgStorageAppendResp Term:1 Log:1/11\n]"
    );

    // Nested responses and multiple entries indent by two more per level.
    let mut inner = msg_term(LOCAL_APPLY_THREAD, 1, MessageType::MsgStorageApplyResp, 0);
    inner.entries = vec![
        new_entry_with_data(1, 1, b"a"),
        new_entry_with_data(2, 1, b"b"),
    ];
    let mut mid = msg_term(1, LOCAL_APPLY_THREAD, MessageType::MsgStorageApply, 0);
    mid.responses = vec![inner];
    let mut outer = msg_term(0, LOCAL_APPEND_THREAD, MessageType::MsgStorageAppend, 0);
    outer.responses = vec![mid];
    assert_eq!(
        describe_message(&outer, None),
        "None->AppendThread MsgStorageAppend Term:0 Log:0/0 Responses:[\n\
         \x20 1->ApplyThread MsgStorageApply Term:0 Log:0/0 Responses:[\n\
         \x20   ApplyThread->1 MsgStorageApplyResp Term:0 Log:0/0 Entries:[\n\
         \x20     1/1 EntryNormal \"a\"\n\
         \x20     1/2 EntryNormal \"b\"\n\
         \x20   ]\n\
         \x20 ]\n\
         ]"
    );
}

fn empty_parts<'a>() -> ReadyParts<'a> {
    ReadyParts {
        soft_state: None,
        hard_state: None,
        read_states: &[],
        entries: &[],
        snapshot: None,
        committed_entries: &[],
        messages: &[],
        must_sync: false,
    }
}

#[test]
fn test_describe_ready() {
    assert_eq!(describe_ready_parts(&empty_parts(), None), "<empty Ready>");
    // Empty hard state and empty snapshot count as absent.
    let hs = HardState::default();
    let sn = Snapshot::default();
    let rd = ReadyParts {
        hard_state: Some(&hs),
        snapshot: Some(&sn),
        must_sync: true,
        ..empty_parts()
    };
    assert_eq!(describe_ready_parts(&rd, None), "<empty Ready>");

    let hs = HardState {
        term: 1,
        vote: 1,
        commit: 10,
    };
    let ents = [new_entry_with_data(11, 1, b"")];
    let committed = [new_entry_with_data(10, 1, b"x")];
    let mut m = msg_term(1, 2, MessageType::MsgApp, 1);
    m.log_term = 1;
    m.index = 10;
    m.commit = 10;
    m.entries = ents.to_vec();
    let msgs = [m];
    let sn = snapshot_with_conf_state(
        4,
        1,
        ConfState {
            voters: vec![1],
            ..Default::default()
        },
    );
    let rs = [ReadState {
        index: 12,
        request_ctx: Bytes::from_static(b"ctx"),
    }];
    let ss = SoftState {
        lead: 1,
        raft_state: StateRole::Leader,
    };
    let rd = ReadyParts {
        soft_state: Some(&ss),
        hard_state: Some(&hs),
        read_states: &rs,
        entries: &ents,
        snapshot: Some(&sn),
        committed_entries: &committed,
        messages: &msgs,
        must_sync: true,
    };
    assert_eq!(
        describe_ready_parts(&rd, None),
        "Ready MustSync=true:\n\
         Lead:1 State:StateLeader\n\
         HardState Term:1 Vote:1 Commit:10\n\
         ReadStates [{12 [99 116 120]}]\n\
         Entries:\n\
         1/11 EntryNormal \"\"\n\
         Snapshot Index:4 Term:1 ConfState:Voters:[1] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false\n\
         CommittedEntries:\n\
         1/10 EntryNormal \"x\"\n\
         Messages:\n\
         1->2 MsgApp Term:1 Log:1/10 Commit:10 Entries:[1/11 EntryNormal \"\"]\n"
    );
}

#[test]
fn test_describe_read_states() {
    let rs = |index, ctx: &'static [u8]| ReadState {
        index,
        request_ctx: Bytes::from_static(ctx),
    };
    assert_eq!(describe_read_states(&[]), "[]");
    assert_eq!(
        describe_read_states(&[rs(1, b""), rs(2, b"\x01\xff")]),
        "[{1 []} {2 [1 255]}]"
    );
}

#[test]
fn test_describe_conf_change() {
    let v2 = ConfChangeV2 {
        transition: ConfChangeTransition::ConfChangeTransitionAuto as i32,
        changes: vec![ConfChangeSingle::new(ConfChangeType::ConfChangeAddNode, 3)],
        context: Bytes::new(),
    };
    assert_eq!(
        describe_conf_change(&v2),
        "transition:ConfChangeTransitionAuto changes:{type:ConfChangeAddNode node_id:3}"
    );
    let v2 = ConfChangeV2 {
        transition: ConfChangeTransition::ConfChangeTransitionJointExplicit as i32,
        changes: vec![
            ConfChangeSingle::new(ConfChangeType::ConfChangeAddLearnerNode, 2),
            ConfChangeSingle::new(ConfChangeType::ConfChangeRemoveNode, 5),
        ],
        context: Bytes::from_static(b"c\"x\n"),
    };
    assert_eq!(
        describe_conf_change(&v2),
        "transition:ConfChangeTransitionJointExplicit changes:{type:ConfChangeAddLearnerNode node_id:2} changes:{type:ConfChangeRemoveNode node_id:5} context:\"c\\\"x\\n\""
    );
    let v1 = ConfChange {
        change_type: ConfChangeType::ConfChangeUpdateNode as i32,
        node_id: 7,
        ..Default::default()
    };
    assert_eq!(
        describe_conf_change(&v1),
        "transition:ConfChangeTransitionAuto changes:{type:ConfChangeUpdateNode node_id:7}"
    );
    assert_eq!(
        describe_conf_change(&ConfChangeV2::default()),
        "transition:ConfChangeTransitionAuto"
    );
}

#[test]
fn test_message_type_names() {
    assert_eq!(MessageType::MsgApp.to_string(), "MsgApp");
    assert_eq!(MessageType::MsgForgetLeader.to_string(), "MsgForgetLeader");
    assert_eq!(
        EntryType::EntryConfChangeV2.to_string(),
        "EntryConfChangeV2"
    );
    // An unknown wire value reads as the zero value, as in etcd.
    let m = Message {
        msg_type: 99,
        ..Default::default()
    };
    assert!(describe_message(&m, None).starts_with("None->None MsgHup "));
}

#[test]
fn test_describe_ready_from_raw_node_ready() {
    assert_eq!(describe_ready(&Ready::default(), None), "<empty Ready>");
    let rd = Ready {
        soft_state: Some(SoftState {
            lead: 2,
            raft_state: StateRole::Follower,
        }),
        hard_state: Some(HardState {
            term: 2,
            vote: 2,
            commit: 1,
        }),
        committed_entries: vec![new_entry_with_data(1, 2, b"data")],
        must_sync: true,
        ..Default::default()
    };
    let upper = |d: &[u8]| String::from_utf8_lossy(d).to_uppercase();
    assert_eq!(
        describe_ready(&rd, Some(&upper)),
        "Ready MustSync=true:\n\
         Lead:2 State:StateFollower\n\
         HardState Term:2 Vote:2 Commit:1\n\
         CommittedEntries:\n\
         2/1 EntryNormal DATA\n"
    );
}
