//! Wire behaviour of the raft-proto types: every message type round-trips,
//! and malformed input is an error, never a panic.

use bytes::Bytes;
use etcdraft_proto::*;
use prost::Message as _;

/// Every message type, by value; `MessageType::try_from` confirms the list
/// is complete.
fn all_message_types() -> Vec<MessageType> {
    let all: Vec<MessageType> = (0..).map_while(|v| MessageType::try_from(v).ok()).collect();
    assert_eq!(all.len(), 24);
    all
}

/// A message of type `t` with every field set to a non-default value.
fn full_message(t: MessageType) -> Message {
    let cc = ConfChangeV2 {
        transition: ConfChangeTransition::ConfChangeTransitionJointExplicit as i32,
        changes: vec![
            ConfChangeSingle::new(ConfChangeType::ConfChangeAddNode, 2),
            ConfChangeSingle::new(ConfChangeType::ConfChangeAddLearnerNode, 3),
        ],
        context: Bytes::from_static(b"cc"),
    };
    Message {
        msg_type: t as i32,
        to: 2,
        from: 1,
        term: 7,
        log_term: 6,
        index: 100,
        entries: vec![
            Entry {
                entry_type: None,
                term: 6,
                index: 101,
                data: Bytes::from_static(b"hello"),
            },
            Entry {
                entry_type: Some(EntryType::EntryConfChangeV2 as i32),
                term: 7,
                index: 102,
                data: cc.encode_to_vec().into(),
            },
        ],
        commit: 99,
        snapshot: Some(Box::new(Snapshot {
            data: Bytes::from_static(b"state"),
            metadata: SnapshotMetadata {
                conf_state: ConfState {
                    voters: vec![1, 2],
                    learners: vec![3],
                    voters_outgoing: vec![1, 4],
                    learners_next: vec![4],
                    auto_leave: true,
                },
                index: 50,
                term: 5,
            },
        })),
        reject: true,
        reject_hint: 42,
        context: Bytes::from_static(b"ctx"),
        vote: 1,
        responses: vec![Message {
            msg_type: MessageType::MsgAppResp as i32,
            to: 1,
            from: 2,
            index: 102,
            ..Default::default()
        }],
    }
}

#[test]
fn test_every_message_type_round_trips() {
    for t in all_message_types() {
        for m in [Message::new(t), full_message(t)] {
            let buf = m.encode_to_vec();
            assert_eq!(buf.len(), m.encoded_len());
            let got = Message::decode(buf.as_slice()).unwrap();
            assert_eq!(got, m, "{t}");
            assert_eq!(got.get_type(), t);
        }
    }
}

#[test]
fn test_other_types_round_trip() {
    let hs = HardState {
        term: 3,
        vote: 2,
        commit: 9,
    };
    assert_eq!(
        HardState::decode(hs.encode_to_vec().as_slice()).unwrap(),
        hs
    );
    let v1 = ConfChange {
        id: 5,
        change_type: ConfChangeType::ConfChangeUpdateNode as i32,
        node_id: 8,
        context: Bytes::from_static(b"x"),
    };
    assert_eq!(
        ConfChange::decode(v1.encode_to_vec().as_slice()).unwrap(),
        v1
    );
    let snap = full_message(MessageType::MsgSnap)
        .snapshot
        .map(|s| *s)
        .unwrap();
    assert_eq!(
        Snapshot::decode(snap.encode_to_vec().as_slice()).unwrap(),
        snap
    );
}

#[test]
fn test_conf_state_ids_are_unpacked() {
    // etcd's proto2 repeated fields are unpacked: one tag per id.
    let cs = ConfState {
        voters: vec![1, 2],
        ..Default::default()
    };
    // auto_leave (field 5) is always encoded, as etcd always sets it.
    assert_eq!(cs.encode_to_vec(), vec![0x08, 0x01, 0x08, 0x02, 0x28, 0x00]);
    // Packed input is accepted too, as protobuf requires of parsers.
    let packed = [0x0a, 0x02, 0x01, 0x02, 0x28, 0x00];
    assert_eq!(ConfState::decode(&packed[..]).unwrap(), cs);
}

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Decodes `buf` as every type; only errors or values may come back.
fn decode_all(buf: &[u8]) {
    let _ = Message::decode(buf);
    let _ = Entry::decode(buf);
    let _ = Snapshot::decode(buf);
    let _ = HardState::decode(buf);
    let _ = ConfState::decode(buf);
    let _ = ConfChange::decode(buf);
    let _ = ConfChangeV2::decode(buf);
}

#[test]
fn test_truncated_input_never_panics() {
    let buf = full_message(MessageType::MsgApp).encode_to_vec();
    let mut errors = 0;
    for n in 0..buf.len() {
        decode_all(&buf[..n]);
        if Message::decode(&buf[..n]).is_err() {
            errors += 1;
        }
    }
    // Cutting inside a field is an error (cutting between fields is not).
    assert!(errors > buf.len() / 2, "{errors} of {}", buf.len());
}

#[test]
fn test_garbage_input_never_panics() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let valid = full_message(MessageType::MsgStorageAppend).encode_to_vec();
    for round in 0..5000 {
        let len = (rng.next() % 64) as usize;
        let random: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        decode_all(&random);
        // Valid bytes with a few flipped are nastier than pure noise.
        let mut mutated = valid.clone();
        for _ in 0..=(round % 4) {
            let i = (rng.next() as usize) % mutated.len();
            mutated[i] = rng.next() as u8;
        }
        decode_all(&mutated);
    }
    // Specific malformations are errors.
    assert!(Message::decode(&[0x3a, 0x80][..]).is_err()); // truncated length
    assert!(Message::decode(&[0x3a, 0x05, 0x00][..]).is_err()); // length past end
    assert!(Message::decode(&[0x0f][..]).is_err()); // wire type 7
    assert!(Message::decode(&[0x00][..]).is_err()); // field number 0
    assert!(Message::decode(
        &[0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01][..]
    )
    .is_err()); // varint too long
}

#[test]
fn test_deep_nesting_is_an_error_not_a_crash() {
    // Responses nested far deeper than any real message: decoding stops at
    // the recursion limit instead of exhausting the stack.
    let mut buf: Vec<u8> = Vec::new();
    for _ in 0..10_000 {
        let mut outer = vec![0x72]; // field 14, length-delimited
        prost::encoding::encode_varint(buf.len() as u64, &mut outer);
        outer.extend_from_slice(&buf);
        buf = outer;
    }
    assert!(Message::decode(buf.as_slice()).is_err());
}

#[test]
fn test_unknown_enum_values_read_as_zero() {
    // As with etcd's proto2 enums, an unknown value reads as the default.
    let m = Message::decode(&[0x08, 0x63][..]).unwrap();
    assert_eq!(m.get_type(), MessageType::MsgHup);
    let e = Entry::decode(&[0x08, 0x09][..]).unwrap();
    assert_eq!(e.get_type(), EntryType::EntryNormal);
}

#[test]
#[cfg(target_pointer_width = "64")]
fn test_proto_memory_sizes() {
    // Guards against accidental growth of the types raft moves around most,
    // as etcd's test does for its Go structs. Each expected size is the sum
    // of the fields' own sizes (an i32 enum or a bool pads to the 8-byte
    // alignment of the u64s beside it), so a new field or a field that
    // stops being boxed shows up here.
    use std::mem::size_of;
    const U64: usize = 8;
    // One i32 or bool (or both) next to u64 fields.
    const SMALL: usize = 8;
    let bytes = size_of::<Bytes>();
    let vec = size_of::<Vec<u64>>();
    // voters, learners, voters_outgoing, learners_next; auto_leave.
    let conf_state = 4 * vec + SMALL;
    // conf_state inline; index, term.
    let snapshot_metadata = conf_state + 2 * U64;
    assert_eq!(
        size_of::<Entry>(),
        bytes + 2 * U64 + SMALL,
        "Entry size check"
    );
    assert_eq!(
        size_of::<SnapshotMetadata>(),
        snapshot_metadata,
        "SnapshotMetadata size check"
    );
    assert_eq!(
        size_of::<Snapshot>(),
        bytes + snapshot_metadata,
        "Snapshot size check"
    );
    // to, from, term, log_term, index, commit, reject_hint, vote; entries
    // and responses; context; the boxed snapshot; msg_type and reject.
    assert_eq!(
        size_of::<Message>(),
        8 * U64 + 2 * vec + bytes + size_of::<Option<Box<Snapshot>>>() + SMALL,
        "Message size check"
    );
    assert_eq!(size_of::<HardState>(), 3 * U64, "HardState size check");
    assert_eq!(size_of::<ConfState>(), conf_state, "ConfState size check");
    // id, node_id; context; change_type.
    assert_eq!(
        size_of::<ConfChange>(),
        2 * U64 + bytes + SMALL,
        "ConfChange size check"
    );
    assert_eq!(
        size_of::<ConfChangeSingle>(),
        U64 + SMALL,
        "ConfChangeSingle size check"
    );
    // changes; context; transition.
    assert_eq!(
        size_of::<ConfChangeV2>(),
        vec + bytes + SMALL,
        "ConfChangeV2 size check"
    );
}
