//! The datadriven runner and the interaction environment that replay
//! etcd-style raft scripts against real nodes.

pub mod datadriven;
pub mod interaction;
