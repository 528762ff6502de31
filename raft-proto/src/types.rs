//! The messages and enums of etcd's `raftpb`, written as prost derives.
//!
//! They are written by hand rather than generated so that the fields have the
//! shapes the raft core wants: plain integers instead of `Option`s, payloads as
//! shared [`Bytes`], and a snapshot's metadata and conf state inline. The
//! schema they implement is `proto/raft.proto`; `tests/schema.rs` checks the
//! two against each other. Field numbers match etcd's, so messages interoperate.

use bytes::Bytes;

/// The kind of an [`Entry`]: a normal proposal or one of the two
/// configuration-change encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum EntryType {
    /// An application proposal (or the empty entry a new leader appends).
    EntryNormal = 0,
    /// The data is an encoded [`ConfChange`].
    EntryConfChange = 1,
    /// The data is an encoded [`ConfChangeV2`].
    EntryConfChangeV2 = 2,
}

/// One entry of the replicated log.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Entry {
    /// What `data` holds; see [`EntryType`] and [`Entry::get_type`].
    ///
    /// An `Option` because etcd's proto2 encoding has explicit presence and
    /// etcd sets the type on some entries and not on others: `None` for a
    /// proposal or a new leader's empty entry (etcd leaves it unset),
    /// `Some(EntryNormal)` for the no-op that replaces a refused conf change
    /// (etcd sets it), which therefore encodes two bytes longer. Entry sizes
    /// count towards etcd's size limits, so the difference is visible.
    #[prost(enumeration = "EntryType", optional, tag = "1")]
    pub entry_type: Option<i32>,
    /// The term in which the entry was proposed.
    #[prost(uint64, tag = "2")]
    pub term: u64,
    /// The position of the entry in the log.
    #[prost(uint64, tag = "3")]
    pub index: u64,
    /// The payload, shared rather than copied as it moves between log,
    /// messages and `Ready`s.
    #[prost(bytes = "bytes", tag = "4")]
    pub data: Bytes,
}

/// Where a snapshot stands in the log, and the configuration it holds.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SnapshotMetadata {
    /// The configuration as of `index`.
    #[prost(message, required, tag = "1")]
    pub conf_state: ConfState,
    /// The index of the last entry the snapshot covers. Always encoded,
    /// even when zero, as etcd sets it on every snapshot
    /// (`pb.EnsureSnapshotMetadata`).
    #[prost(uint64, required, tag = "2")]
    pub index: u64,
    /// The term of the entry at `index`; always encoded, as `index`.
    #[prost(uint64, required, tag = "3")]
    pub term: u64,
}

/// A state-machine snapshot: opaque data plus its [`SnapshotMetadata`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Snapshot {
    /// The application's encoded state.
    #[prost(bytes = "bytes", tag = "1")]
    pub data: Bytes,
    /// Index, term and configuration of the snapshot.
    #[prost(message, required, tag = "2")]
    pub metadata: SnapshotMetadata,
}

/// The kinds of [`Message`], with etcd's names and numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum MessageType {
    /// Local: start an election.
    MsgHup = 0,
    /// Local: tell a leader to send heartbeats.
    MsgBeat = 1,
    /// A proposal of entries.
    MsgProp = 2,
    /// Append entries (leader to follower).
    MsgApp = 3,
    /// Answer to [`MessageType::MsgApp`].
    MsgAppResp = 4,
    /// Request a vote.
    MsgVote = 5,
    /// Answer to [`MessageType::MsgVote`].
    MsgVoteResp = 6,
    /// Install a snapshot.
    MsgSnap = 7,
    /// Leader heartbeat.
    MsgHeartbeat = 8,
    /// Answer to [`MessageType::MsgHeartbeat`].
    MsgHeartbeatResp = 9,
    /// Local: a peer could not be reached.
    MsgUnreachable = 10,
    /// Local: the result of sending a snapshot.
    MsgSnapStatus = 11,
    /// Local: the leader checks that a quorum is active.
    MsgCheckQuorum = 12,
    /// Ask the leader to transfer leadership.
    MsgTransferLeader = 13,
    /// Tell the transfer target to campaign at once.
    MsgTimeoutNow = 14,
    /// Ask for a read index.
    MsgReadIndex = 15,
    /// Answer to [`MessageType::MsgReadIndex`].
    MsgReadIndexResp = 16,
    /// Request a pre-vote.
    MsgPreVote = 17,
    /// Answer to [`MessageType::MsgPreVote`].
    MsgPreVoteResp = 18,
    /// Local (async storage writes): persist entries and state.
    MsgStorageAppend = 19,
    /// Local: entries and state were persisted.
    MsgStorageAppendResp = 20,
    /// Local (async storage writes): apply committed entries.
    MsgStorageApply = 21,
    /// Local: entries were applied.
    MsgStorageApplyResp = 22,
    /// Forget the current leader (followers only).
    MsgForgetLeader = 23,
}

/// A message between raft nodes, or between a node and its local storage
/// and apply threads.
///
/// Its wire encoding is written by hand (`message_wire.rs`) rather than
/// derived, so that zero-valued fields are encoded where etcd sets them, as
/// etcd's proto2 presence does; the field numbers are given per field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Message {
    /// What kind of message this is; see [`MessageType`].
    /// (Field 1.)
    pub msg_type: i32,
    /// The recipient's id.
    /// (Field 2.)
    pub to: u64,
    /// The sender's id.
    /// (Field 3.)
    pub from: u64,
    /// The sender's term (zero for local messages that carry none).
    /// (Field 4.)
    pub term: u64,
    /// The term of the entry at `index` (append, vote and their answers).
    /// (Field 5.)
    pub log_term: u64,
    /// A log index whose meaning depends on the message type.
    /// (Field 6.)
    pub index: u64,
    /// The entries carried, if any.
    /// (Field 7.)
    pub entries: Vec<Entry>,
    /// The sender's commit index.
    /// (Field 8.)
    pub commit: u64,
    /// The snapshot of a `MsgSnap` (and of a `MsgStorageAppend` that installs one).
    ///
    /// Boxed because snapshots are rare while messages are moved many times
    /// between `send` and `step`: inline, it would double every message's size.
    /// (Field 9.)
    pub snapshot: Option<Box<Snapshot>>,
    /// Whether the request was rejected.
    /// (Field 10.)
    pub reject: bool,
    /// On a rejected append, the index the follower suggests probing from.
    /// (Field 11.)
    pub reject_hint: u64,
    /// Opaque context (read index requests, campaign kind).
    /// (Field 12.)
    pub context: Bytes,
    /// The vote of a `MsgStorageAppend`'s hard state.
    /// (Field 13.)
    pub vote: u64,
    /// Messages that local storage threads send once their work is done.
    /// (Field 14.)
    pub responses: Vec<Message>,
}

/// The state a node must persist before it sends messages: term, vote and
/// commit index.
#[derive(Clone, Copy, PartialEq, Eq, ::prost::Message)]
pub struct HardState {
    /// The current term. The three fields are always encoded, even when
    /// zero, as etcd's `raft.hardState` sets all three.
    #[prost(uint64, required, tag = "1")]
    pub term: u64,
    /// The candidate voted for in `term`, or 0.
    #[prost(uint64, required, tag = "2")]
    pub vote: u64,
    /// The highest index known to be committed.
    #[prost(uint64, required, tag = "3")]
    pub commit: u64,
}

/// How a [`ConfChangeV2`] uses joint consensus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum ConfChangeTransition {
    /// Simple protocol when possible, else joint with automatic leave.
    ConfChangeTransitionAuto = 0,
    /// Always joint; raft leaves the joint config by itself.
    ConfChangeTransitionJointImplicit = 1,
    /// Always joint; the application proposes the leave.
    ConfChangeTransitionJointExplicit = 2,
}

/// A cluster configuration: voters, learners and, while joint, the outgoing
/// voters and the learners to be.
#[derive(Clone, PartialEq, Eq, Hash, ::prost::Message)]
pub struct ConfState {
    /// Voters of the incoming config.
    #[prost(uint64, repeated, packed = "false", tag = "1")]
    pub voters: Vec<u64>,
    /// Learners of the incoming config.
    #[prost(uint64, repeated, packed = "false", tag = "2")]
    pub learners: Vec<u64>,
    /// Voters of the outgoing config (non-empty only while joint).
    #[prost(uint64, repeated, packed = "false", tag = "3")]
    pub voters_outgoing: Vec<u64>,
    /// Voters that become learners when the joint config is left.
    #[prost(uint64, repeated, packed = "false", tag = "4")]
    pub learners_next: Vec<u64>,
    /// Whether raft leaves the joint config by itself. Always encoded, even
    /// when false, as etcd sets it on every conf state
    /// (`ProgressTracker.ConfState`, `pb.EnsureConfState`).
    #[prost(bool, required, tag = "5")]
    pub auto_leave: bool,
}

/// The kind of a single membership change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum ConfChangeType {
    /// Add (or promote to) a voter.
    ConfChangeAddNode = 0,
    /// Remove a node.
    ConfChangeRemoveNode = 1,
    /// No change to membership; carried through for the application.
    ConfChangeUpdateNode = 2,
    /// Add (or demote to) a learner.
    ConfChangeAddLearnerNode = 3,
}

/// A version-1 configuration change: one node at a time.
#[derive(Clone, PartialEq, Eq, ::prost::Message)]
pub struct ConfChange {
    /// An identifier that etcd threads through; raft ignores it.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// What to do to `node_id`. Type and node are always encoded, even
    /// when zero (`ConfChangeAddNode` is 0), as etcd sets both wherever it
    /// builds a conf change (bootstrap, its test harness).
    #[prost(enumeration = "ConfChangeType", required, tag = "2")]
    pub change_type: i32,
    /// The node changed.
    #[prost(uint64, required, tag = "3")]
    pub node_id: u64,
    /// Opaque application payload.
    #[prost(bytes = "bytes", tag = "4")]
    pub context: Bytes,
}

/// One operation of a [`ConfChangeV2`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, ::prost::Message)]
pub struct ConfChangeSingle {
    /// What to do to `node_id`. Type and node are always encoded, even
    /// when zero, as etcd sets both wherever it builds one
    /// (`ConfChangesFromString`, `AsV2`, `confchange.toConfChangeSingle`).
    #[prost(enumeration = "ConfChangeType", required, tag = "1")]
    pub change_type: i32,
    /// The node changed.
    #[prost(uint64, required, tag = "2")]
    pub node_id: u64,
}

/// A version-2 configuration change: any number of operations, applied
/// atomically, possibly through joint consensus.
#[derive(Clone, PartialEq, Eq, ::prost::Message)]
pub struct ConfChangeV2 {
    /// Whether and how joint consensus is used. Always encoded, even when
    /// `Auto` (0), as etcd's harness sets it on every v2 change it proposes.
    #[prost(enumeration = "ConfChangeTransition", required, tag = "1")]
    pub transition: i32,
    /// The operations; empty means "leave the joint config".
    #[prost(message, repeated, tag = "2")]
    pub changes: Vec<ConfChangeSingle>,
    /// Opaque application payload.
    #[prost(bytes = "bytes", tag = "3")]
    pub context: Bytes,
}

impl Entry {
    /// The entry's type, treating unknown values as `EntryNormal`.
    #[inline]
    pub fn get_type(&self) -> EntryType {
        // The generated `entry_type()`'s mapping, written out to inline.
        match self.entry_type {
            Some(1) => EntryType::EntryConfChange,
            Some(2) => EntryType::EntryConfChangeV2,
            _ => EntryType::EntryNormal,
        }
    }
}

impl Message {
    /// A message of the given type, all other fields zero.
    #[inline]
    pub fn new(msg_type: MessageType) -> Message {
        Message {
            msg_type: msg_type as i32,
            ..Default::default()
        }
    }

    /// The message's type, treating unknown values as `MsgHup`.
    #[inline]
    pub fn get_type(&self) -> MessageType {
        // The same mapping as the generated `msg_type()`, written out so
        // that it inlines (raft reads the type several times per message;
        // the generated getter is an out-of-line call).
        use MessageType::*;
        match self.msg_type {
            0 => MsgHup,
            1 => MsgBeat,
            2 => MsgProp,
            3 => MsgApp,
            4 => MsgAppResp,
            5 => MsgVote,
            6 => MsgVoteResp,
            7 => MsgSnap,
            8 => MsgHeartbeat,
            9 => MsgHeartbeatResp,
            10 => MsgUnreachable,
            11 => MsgSnapStatus,
            12 => MsgCheckQuorum,
            13 => MsgTransferLeader,
            14 => MsgTimeoutNow,
            15 => MsgReadIndex,
            16 => MsgReadIndexResp,
            17 => MsgPreVote,
            18 => MsgPreVoteResp,
            19 => MsgStorageAppend,
            20 => MsgStorageAppendResp,
            21 => MsgStorageApply,
            22 => MsgStorageApplyResp,
            23 => MsgForgetLeader,
            _ => MsgHup,
        }
    }
}

impl Snapshot {
    /// Whether this is the empty snapshot (index 0), which etcd's
    /// `IsEmptySnap` treats as "no snapshot".
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.metadata.index == 0
    }
}

impl HardState {
    /// Whether all fields are zero (etcd's `IsEmptyHardState`).
    #[inline]
    pub fn is_empty(&self) -> bool {
        *self == HardState::default()
    }
}

/// Gives an enum the name etcd's Go code prints for each value (`%v` of a
/// protobuf enum is its name in `raft.proto`), as `as_str` and `Display`.
macro_rules! go_names {
    ($ty:ident { $($variant:ident),+ $(,)? }) => {
        impl $ty {
            /// The value's name as in `raft.proto`, which is how etcd prints it.
            #[inline]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => stringify!($variant),)+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

go_names!(EntryType {
    EntryNormal,
    EntryConfChange,
    EntryConfChangeV2,
});

go_names!(MessageType {
    MsgHup,
    MsgBeat,
    MsgProp,
    MsgApp,
    MsgAppResp,
    MsgVote,
    MsgVoteResp,
    MsgSnap,
    MsgHeartbeat,
    MsgHeartbeatResp,
    MsgUnreachable,
    MsgSnapStatus,
    MsgCheckQuorum,
    MsgTransferLeader,
    MsgTimeoutNow,
    MsgReadIndex,
    MsgReadIndexResp,
    MsgPreVote,
    MsgPreVoteResp,
    MsgStorageAppend,
    MsgStorageAppendResp,
    MsgStorageApply,
    MsgStorageApplyResp,
    MsgForgetLeader,
});

go_names!(ConfChangeTransition {
    ConfChangeTransitionAuto,
    ConfChangeTransitionJointImplicit,
    ConfChangeTransitionJointExplicit,
});

go_names!(ConfChangeType {
    ConfChangeAddNode,
    ConfChangeRemoveNode,
    ConfChangeUpdateNode,
    ConfChangeAddLearnerNode,
});

#[cfg(test)]
mod get_type_tests {
    use super::*;

    #[test]
    fn get_type_matches_the_generated_getters_for_every_value() {
        // Every defined value, plus unknown ones on both sides.
        for v in -3..40 {
            let m = Message {
                msg_type: v,
                ..Default::default()
            };
            let want = MessageType::try_from(v).unwrap_or(MessageType::MsgHup);
            assert_eq!(m.get_type(), want, "msg_type {v}");
            let e = Entry {
                entry_type: Some(v),
                ..Default::default()
            };
            assert_eq!(e.get_type(), e.entry_type(), "entry_type {v}");
        }
        assert_eq!(MessageType::MsgForgetLeader as i32, 23);
    }
}
