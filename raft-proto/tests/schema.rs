//! Keeps the hand-written prost types honest: `proto/raft.proto` is compiled
//! here with protox (pure Rust, no `protoc`), and
//!
//! 1. its messages and enums must be exactly etcd's (names, field numbers,
//!    types, labels, packing), as listed in [`ETCD_MESSAGES`] and
//!    [`ETCD_ENUMS`] (and, where etcd's own `raft.proto` is at hand, as
//!    compiled from it);
//! 2. every Rust message, with every field set to a distinct non-default
//!    value, must decode through the descriptor into exactly those values,
//!    with no unknown field left over and no descriptor field missing, and
//!    must come back unchanged when the dynamic message is re-encoded;
//! 3. every Rust enum must have exactly the descriptor's names and numbers.
//!
//! So adding, renumbering or retyping a field on one side only fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use etcdraft_proto::*;
use prost::Message as _;
use prost_reflect::{Cardinality, DescriptorPool, DynamicMessage, Kind, MessageDescriptor, Value};

/// etcd's raftpb messages: for each, its fields as
/// `number label type name` (see [`field_line`]).
const ETCD_MESSAGES: &[(&str, &[&str])] = &[
    (
        "raftpb.Entry",
        &[
            "1 optional raftpb.EntryType Type",
            "2 optional uint64 Term",
            "3 optional uint64 Index",
            "4 optional bytes Data",
        ],
    ),
    (
        "raftpb.SnapshotMetadata",
        &[
            "1 optional raftpb.ConfState conf_state",
            "2 optional uint64 index",
            "3 optional uint64 term",
        ],
    ),
    (
        "raftpb.Snapshot",
        &[
            "1 optional bytes data",
            "2 optional raftpb.SnapshotMetadata metadata",
        ],
    ),
    (
        "raftpb.Message",
        &[
            "1 optional raftpb.MessageType type",
            "2 optional uint64 to",
            "3 optional uint64 from",
            "4 optional uint64 term",
            "5 optional uint64 logTerm",
            "6 optional uint64 index",
            "7 repeated raftpb.Entry entries",
            "8 optional uint64 commit",
            "9 optional raftpb.Snapshot snapshot",
            "10 optional bool reject",
            "11 optional uint64 rejectHint",
            "12 optional bytes context",
            "13 optional uint64 vote",
            "14 repeated raftpb.Message responses",
        ],
    ),
    (
        "raftpb.HardState",
        &[
            "1 optional uint64 term",
            "2 optional uint64 vote",
            "3 optional uint64 commit",
        ],
    ),
    (
        "raftpb.ConfState",
        &[
            "1 repeated uint64 voters",
            "2 repeated uint64 learners",
            "3 repeated uint64 voters_outgoing",
            "4 repeated uint64 learners_next",
            "5 optional bool auto_leave",
        ],
    ),
    (
        "raftpb.ConfChange",
        &[
            "1 optional uint64 id",
            "2 optional raftpb.ConfChangeType type",
            "3 optional uint64 node_id",
            "4 optional bytes context",
        ],
    ),
    (
        "raftpb.ConfChangeSingle",
        &[
            "1 optional raftpb.ConfChangeType type",
            "2 optional uint64 node_id",
        ],
    ),
    (
        "raftpb.ConfChangeV2",
        &[
            "1 optional raftpb.ConfChangeTransition transition",
            "2 repeated raftpb.ConfChangeSingle changes",
            "3 optional bytes context",
        ],
    ),
];

/// etcd's raftpb enums: for each, its values in number order from 0.
const ETCD_ENUMS: &[(&str, &[&str])] = &[
    (
        "raftpb.EntryType",
        &["EntryNormal", "EntryConfChange", "EntryConfChangeV2"],
    ),
    (
        "raftpb.MessageType",
        &[
            "MsgHup",
            "MsgBeat",
            "MsgProp",
            "MsgApp",
            "MsgAppResp",
            "MsgVote",
            "MsgVoteResp",
            "MsgSnap",
            "MsgHeartbeat",
            "MsgHeartbeatResp",
            "MsgUnreachable",
            "MsgSnapStatus",
            "MsgCheckQuorum",
            "MsgTransferLeader",
            "MsgTimeoutNow",
            "MsgReadIndex",
            "MsgReadIndexResp",
            "MsgPreVote",
            "MsgPreVoteResp",
            "MsgStorageAppend",
            "MsgStorageAppendResp",
            "MsgStorageApply",
            "MsgStorageApplyResp",
            "MsgForgetLeader",
        ],
    ),
    (
        "raftpb.ConfChangeTransition",
        &[
            "ConfChangeTransitionAuto",
            "ConfChangeTransitionJointImplicit",
            "ConfChangeTransitionJointExplicit",
        ],
    ),
    (
        "raftpb.ConfChangeType",
        &[
            "ConfChangeAddNode",
            "ConfChangeRemoveNode",
            "ConfChangeUpdateNode",
            "ConfChangeAddLearnerNode",
        ],
    ),
];

/// Compiles a `.proto` file with protox into a descriptor pool.
fn compile(path: &Path) -> DescriptorPool {
    let dir = path.parent().expect("a file in a directory");
    let mut compiler = protox::Compiler::new([dir]).expect("include directory");
    compiler
        .open_file(path.file_name().expect("a file name"))
        .unwrap_or_else(|e| panic!("compiling {}: {e}", path.display()));
    compiler.descriptor_pool()
}

/// Our schema, compiled.
fn our_pool() -> DescriptorPool {
    compile(&Path::new(env!("CARGO_MANIFEST_DIR")).join("proto/raft.proto"))
}

/// One field as `number label type name`, with ` packed` if packed.
fn field_line(f: &prost_reflect::FieldDescriptor) -> String {
    let label = match f.cardinality() {
        Cardinality::Optional => "optional",
        Cardinality::Required => "required",
        Cardinality::Repeated => "repeated",
    };
    let ty = match f.kind() {
        Kind::Message(m) => m.full_name().to_string(),
        Kind::Enum(e) => e.full_name().to_string(),
        k => format!("{k:?}").to_lowercase(),
    };
    let packed = if f.is_packed() { " packed" } else { "" };
    format!("{} {label} {ty} {}{packed}", f.number(), f.name())
}

/// Every message of a pool as `(full name, field lines in number order)`.
fn message_table(pool: &DescriptorPool) -> Vec<(String, Vec<String>)> {
    let mut t: Vec<_> = pool
        .all_messages()
        .map(|m| {
            let mut fields: Vec<_> = m.fields().collect();
            fields.sort_by_key(|f| f.number());
            (
                m.full_name().to_string(),
                fields.iter().map(field_line).collect(),
            )
        })
        .collect();
    t.sort();
    t
}

/// Every enum of a pool as `(full name, value names in number order)`,
/// requiring the numbers to run 0, 1, 2, ...
fn enum_table(pool: &DescriptorPool) -> Vec<(String, Vec<String>)> {
    let mut t: Vec<_> = pool
        .all_enums()
        .map(|e| {
            let mut values: Vec<_> = e
                .values()
                .map(|v| (v.number(), v.name().to_string()))
                .collect();
            values.sort();
            for (i, (n, name)) in values.iter().enumerate() {
                assert_eq!(
                    *n as usize,
                    i,
                    "{}.{name} is not numbered densely",
                    e.full_name()
                );
            }
            (
                e.full_name().to_string(),
                values.into_iter().map(|(_, n)| n).collect(),
            )
        })
        .collect();
    t.sort();
    t
}

fn expected_table(src: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    let mut t: Vec<_> = src
        .iter()
        .map(|(n, f)| (n.to_string(), f.iter().map(|s| s.to_string()).collect()))
        .collect();
    t.sort();
    t
}

#[test]
fn test_schema_matches_etcd() {
    let pool = our_pool();
    assert_eq!(message_table(&pool), expected_table(ETCD_MESSAGES));
    assert_eq!(enum_table(&pool), expected_table(ETCD_ENUMS));
}

/// Where etcd's own `raftpb/raft.proto` may be found: `ETCD_RAFT_PROTO`, or
/// the reference checkout of this project's developers.
fn etcd_proto_path() -> Option<PathBuf> {
    let p = std::env::var_os("ETCD_RAFT_PROTO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/etcd/raftpb/raft.proto"));
    p.is_file().then_some(p)
}

#[test]
fn test_etcd_tables_match_etcd_proto() {
    // The tables above are the contract; when etcd's file is at hand, they
    // are also checked against it, so they cannot drift from etcd.
    let Some(path) = etcd_proto_path() else {
        eprintln!("etcd's raft.proto not found; the tables alone were checked");
        return;
    };
    let pool = compile(&path);
    assert_eq!(message_table(&pool), expected_table(ETCD_MESSAGES));
    assert_eq!(enum_table(&pool), expected_table(ETCD_ENUMS));
}

/// Checks the encoding of a nested message.
type MsgCheck = Box<dyn Fn(&[u8]) -> bool>;

/// What a field of the dynamic message must hold.
enum Want {
    U64(u64),
    Bool(bool),
    Enum(i32),
    Bytes(&'static [u8]),
    U64s(Vec<u64>),
    /// A nested message, checked by decoding its bytes as the Rust type.
    Msg(MsgCheck),
    /// Repeated nested messages, each checked as for `Msg`.
    Msgs(Vec<MsgCheck>),
}

/// A checker that `bytes` decode, as `T`, to `want`.
fn same<T: prost::Message + Default + PartialEq + 'static>(want: T) -> MsgCheck {
    Box::new(move |b| T::decode(b).map(|got| got == want).unwrap_or(false))
}

/// Checks that `value`, encoded, decodes through descriptor `name` into
/// exactly the `wants` (one per descriptor field, by name), with no unknown
/// fields, and that re-encoding the dynamic message gives `value` back.
fn check<T>(pool: &DescriptorPool, name: &str, value: &T, wants: Vec<(&str, Want)>)
where
    T: prost::Message + Default + PartialEq + std::fmt::Debug,
{
    let desc: MessageDescriptor = pool
        .get_message_by_name(name)
        .unwrap_or_else(|| panic!("{name} missing from the schema"));
    let bytes = value.encode_to_vec();
    let dm = DynamicMessage::decode(desc.clone(), bytes.as_slice()).unwrap();
    let unknown: Vec<_> = dm.unknown_fields().map(|f| f.number()).collect();
    assert!(
        unknown.is_empty(),
        "{name}: Rust fields {unknown:?} are not in the schema"
    );

    let desc_names: BTreeSet<String> = desc.fields().map(|f| f.name().to_string()).collect();
    let want_names: BTreeSet<String> = wants.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        desc_names, want_names,
        "{name}: schema fields and checked fields differ"
    );

    for (field, want) in &wants {
        let f = desc.get_field_by_name(field).unwrap();
        assert!(
            dm.has_field(&f),
            "{name}.{field} was not written by the Rust type (missing there, or written as a default)"
        );
        let got = dm.get_field(&f);
        let ok = match (want, got.as_ref()) {
            (Want::U64(w), Value::U64(g)) => w == g,
            (Want::Bool(w), Value::Bool(g)) => w == g,
            (Want::Enum(w), Value::EnumNumber(g)) => w == g,
            (Want::Bytes(w), Value::Bytes(g)) => w == &g.as_ref(),
            (Want::U64s(w), Value::List(g)) => {
                let g: Vec<Option<u64>> = g.iter().map(|v| v.as_u64()).collect();
                g == w.iter().copied().map(Some).collect::<Vec<_>>()
            }
            (Want::Msg(check), Value::Message(g)) => check(&g.encode_to_vec()),
            (Want::Msgs(checks), Value::List(g)) => {
                g.len() == checks.len()
                    && g.iter().zip(checks).all(|(v, check)| {
                        v.as_message()
                            .map(|m| check(&m.encode_to_vec()))
                            .unwrap_or(false)
                    })
            }
            _ => false,
        };
        assert!(ok, "{name}.{field}: got {got:?}");
    }

    let back = T::decode(dm.encode_to_vec().as_slice()).unwrap();
    assert_eq!(&back, value, "{name}: the dynamic re-encoding differs");
}

fn conf_state() -> ConfState {
    ConfState {
        voters: vec![1, 2],
        learners: vec![3],
        voters_outgoing: vec![4, 5, 6],
        learners_next: vec![7],
        auto_leave: true,
    }
}

fn conf_state_wants() -> Vec<(&'static str, Want)> {
    vec![
        ("voters", Want::U64s(vec![1, 2])),
        ("learners", Want::U64s(vec![3])),
        ("voters_outgoing", Want::U64s(vec![4, 5, 6])),
        ("learners_next", Want::U64s(vec![7])),
        ("auto_leave", Want::Bool(true)),
    ]
}

fn snapshot_metadata() -> SnapshotMetadata {
    SnapshotMetadata {
        conf_state: conf_state(),
        index: 21,
        term: 22,
    }
}

fn snapshot() -> Snapshot {
    Snapshot {
        data: Bytes::from_static(b"snapshot data"),
        metadata: snapshot_metadata(),
    }
}

fn entry() -> Entry {
    Entry {
        entry_type: Some(EntryType::EntryConfChangeV2 as i32),
        term: 2,
        index: 3,
        data: Bytes::from_static(b"entry data"),
    }
}

fn conf_change_single() -> ConfChangeSingle {
    ConfChangeSingle {
        change_type: ConfChangeType::ConfChangeAddLearnerNode as i32,
        node_id: 41,
    }
}

#[test]
fn test_rust_types_match_schema() {
    let pool = our_pool();

    // Struct literals name every field, so a field added to a Rust type
    // stops this from compiling until it is checked here too.
    check(
        &pool,
        "raftpb.Entry",
        &entry(),
        vec![
            ("Type", Want::Enum(2)),
            ("Term", Want::U64(2)),
            ("Index", Want::U64(3)),
            ("Data", Want::Bytes(b"entry data")),
        ],
    );
    check(&pool, "raftpb.ConfState", &conf_state(), conf_state_wants());
    check(
        &pool,
        "raftpb.SnapshotMetadata",
        &snapshot_metadata(),
        vec![
            ("conf_state", Want::Msg(same(conf_state()))),
            ("index", Want::U64(21)),
            ("term", Want::U64(22)),
        ],
    );
    check(
        &pool,
        "raftpb.Snapshot",
        &snapshot(),
        vec![
            ("data", Want::Bytes(b"snapshot data")),
            ("metadata", Want::Msg(same(snapshot_metadata()))),
        ],
    );

    let response = Message {
        msg_type: MessageType::MsgAppResp as i32,
        to: 1,
        from: 2,
        term: 3,
        log_term: 0,
        index: 4,
        entries: vec![],
        commit: 0,
        snapshot: None,
        reject: false,
        reject_hint: 0,
        context: Bytes::new(),
        vote: 0,
        responses: vec![],
    };
    let second_entry = Entry {
        entry_type: None,
        term: 9,
        index: 10,
        data: Bytes::new(),
    };
    let msg = Message {
        msg_type: MessageType::MsgStorageAppend as i32,
        to: 11,
        from: 12,
        term: 13,
        log_term: 14,
        index: 15,
        entries: vec![entry(), second_entry.clone()],
        commit: 16,
        snapshot: Some(Box::new(snapshot())),
        reject: true,
        reject_hint: 17,
        context: Bytes::from_static(b"message context"),
        vote: 18,
        responses: vec![response.clone()],
    };
    check(
        &pool,
        "raftpb.Message",
        &msg,
        vec![
            ("type", Want::Enum(19)),
            ("to", Want::U64(11)),
            ("from", Want::U64(12)),
            ("term", Want::U64(13)),
            ("logTerm", Want::U64(14)),
            ("index", Want::U64(15)),
            (
                "entries",
                Want::Msgs(vec![same(entry()), same(second_entry)]),
            ),
            ("commit", Want::U64(16)),
            ("snapshot", Want::Msg(same(snapshot()))),
            ("reject", Want::Bool(true)),
            ("rejectHint", Want::U64(17)),
            ("context", Want::Bytes(b"message context")),
            ("vote", Want::U64(18)),
            ("responses", Want::Msgs(vec![same(response)])),
        ],
    );

    check(
        &pool,
        "raftpb.HardState",
        &HardState {
            term: 31,
            vote: 32,
            commit: 33,
        },
        vec![
            ("term", Want::U64(31)),
            ("vote", Want::U64(32)),
            ("commit", Want::U64(33)),
        ],
    );
    check(
        &pool,
        "raftpb.ConfChange",
        &ConfChange {
            id: 35,
            change_type: ConfChangeType::ConfChangeUpdateNode as i32,
            node_id: 36,
            context: Bytes::from_static(b"v1 context"),
        },
        vec![
            ("id", Want::U64(35)),
            ("type", Want::Enum(2)),
            ("node_id", Want::U64(36)),
            ("context", Want::Bytes(b"v1 context")),
        ],
    );
    check(
        &pool,
        "raftpb.ConfChangeSingle",
        &conf_change_single(),
        vec![("type", Want::Enum(3)), ("node_id", Want::U64(41))],
    );
    let other_single = ConfChangeSingle {
        change_type: ConfChangeType::ConfChangeRemoveNode as i32,
        node_id: 42,
    };
    check(
        &pool,
        "raftpb.ConfChangeV2",
        &ConfChangeV2 {
            transition: ConfChangeTransition::ConfChangeTransitionJointImplicit as i32,
            changes: vec![conf_change_single(), other_single],
            context: Bytes::from_static(b"v2 context"),
        },
        vec![
            ("transition", Want::Enum(1)),
            (
                "changes",
                Want::Msgs(vec![same(conf_change_single()), same(other_single)]),
            ),
            ("context", Want::Bytes(b"v2 context")),
        ],
    );

    // Every schema message was checked above.
    let checked = [
        "raftpb.Entry",
        "raftpb.ConfState",
        "raftpb.SnapshotMetadata",
        "raftpb.Snapshot",
        "raftpb.Message",
        "raftpb.HardState",
        "raftpb.ConfChange",
        "raftpb.ConfChangeSingle",
        "raftpb.ConfChangeV2",
    ];
    let all: BTreeSet<String> = pool
        .all_messages()
        .map(|m| m.full_name().to_string())
        .collect();
    let checked: BTreeSet<String> = checked.iter().map(|s| s.to_string()).collect();
    assert_eq!(all, checked);
}

/// The Rust enum's `(number, name)` pairs, from 0 up to the first number
/// it does not know.
fn rust_enum<E: TryFrom<i32> + std::fmt::Display>() -> Vec<String> {
    (0..)
        .map_while(|n| E::try_from(n).ok().map(|e| e.to_string()))
        .collect()
}

#[test]
fn test_rust_enums_match_schema() {
    let pool = our_pool();
    let ours = vec![
        (
            "raftpb.ConfChangeTransition".to_string(),
            rust_enum::<ConfChangeTransition>(),
        ),
        (
            "raftpb.ConfChangeType".to_string(),
            rust_enum::<ConfChangeType>(),
        ),
        ("raftpb.EntryType".to_string(), rust_enum::<EntryType>()),
        ("raftpb.MessageType".to_string(), rust_enum::<MessageType>()),
    ];
    assert_eq!(enum_table(&pool), ours);
}
