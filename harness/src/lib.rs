//! The datadriven runner and the interaction environment that replay
//! etcd-style raft scripts against real nodes.

pub mod confchange;
pub mod datadriven;
pub mod interaction;
pub mod quorum;
pub mod sim;
