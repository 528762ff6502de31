//! The names an application needs, in one import:
//!
//! ```
//! use etcdraft::prelude::*;
//!
//! let storage = MemStorage::new_with_conf_state(ConfState {
//!     voters: vec![1],
//!     ..Default::default()
//! });
//! let node = RawNode::new(&Config::new(1), storage, &discard_logger())?;
//! assert_eq!(node.status().raft_state(), StateRole::Follower);
//! # Ok::<(), Error>(())
//! ```
//!
//! It holds the node drivers ([`RawNode`], [`Node`]), their configuration
//! and storage, the wire types of [`eraftpb`](crate::eraftpb), the status
//! types, the loggers, and prost's `Message` trait under no name (so that
//! `ConfChange::decode(entry.data.clone())` and `msg.encode_to_vec()`
//! work without clashing with raft's own [`Message`]). [`Error`] is here;
//! `Result` is not, so as not to shadow the standard one.

pub use crate::config::{Config, LOCAL_APPEND_THREAD, LOCAL_APPLY_THREAD};
pub use crate::eraftpb::{
    ConfChange, ConfChangeI, ConfChangeSingle, ConfChangeTransition, ConfChangeType, ConfChangeV2,
    ConfState, Entry, EntryType, HardState, Message, MessageType, Snapshot, SnapshotMetadata,
};
pub use crate::errors::Error;
pub use crate::logging::{default_logger, discard_logger};
pub use crate::node::{restart_node, start_node, Node};
pub use crate::raft::{SoftState, StateRole};
pub use crate::raw_node::{ConfChangeApplied, Peer, RawNode, Ready, SnapshotStatus};
pub use crate::read_only::{ReadOnlyOption, ReadState};
pub use crate::restart::reapply_conf_changes;
pub use crate::status::{BasicStatus, Status};
pub use crate::storage::{MemStorage, Storage};
/// prost's trait for encoding and decoding the wire types, imported under
/// no name: its methods (`decode`, `encode_to_vec`) come into scope without
/// the name `Message` clashing with raft's message type.
pub use prost::Message as _;
