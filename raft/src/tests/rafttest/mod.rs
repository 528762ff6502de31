//! The port of etcd's `rafttest` node tests: five [`Node`](crate::node::Node)s
//! driven by threads like real applications, talking over an in-memory
//! network that can drop, delay and disconnect ([`network`]), with a
//! driver per node that ticks, persists, sends asynchronously, and can be
//! stopped, restarted, paused and resumed ([`node`]).
//!
//! The interaction environment of etcd's `rafttest` (the datadriven
//! scripts) lives in the harness crate.

mod network;
mod node;

mod network_test;
mod node_test;
