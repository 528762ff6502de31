//! A faithful, fast Rust implementation of etcd's raft.
//!
//! The layering is etcd's, so that each file can be read next to its Go
//! counterpart: [`quorum`] -> [`tracker`] -> [`confchange`] -> the state
//! machine ([`raft`], [`raft_log`], [`log_unstable`], [`read_only`]) ->
//! [`raw_node`] -> [`node`]. The core is sans-IO: no threads, clocks or
//! sockets; the caller ticks it, steps messages into it, and handles its
//! `Ready`s. [`node`] is the one threaded layer, for applications that want
//! etcd's `Node` loop instead of driving a [`RawNode`] themselves.

pub mod confchange;
pub mod config;
pub mod describe;
pub mod errors;
pub mod log_unstable;
pub mod logging;
pub mod node;
pub mod quorum;
pub mod raft;
pub mod raft_log;
pub mod raw_node;
pub mod read_only;
pub mod restart;
pub mod status;
pub mod storage;
#[cfg(test)]
mod tests;
pub mod tracker;
pub mod util;

pub use config::Config;
pub use errors::{Error, Result};
pub use logging::{default_logger, discard_logger};
pub use node::{restart_node, start_node, Context, Node};
pub use raft_proto as eraftpb;
pub use raw_node::{ConfChangeApplied, Peer, RawNode, Ready, SnapshotStatus};
/// The logging crate raft logs through; see [`logging`] for ready loggers.
pub use slog;
pub use status::{BasicStatus, Status};
pub use storage::{MemStorage, Storage};
