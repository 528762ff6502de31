//! raftexample: a replicated key-value server on etcdraft, in the shape of
//! etcd's contrib/raftexample.
//!
//! The files read top to bottom, one concept each:
//! - [`cli`]: the command line;
//! - [`server`]: wires a node together and shuts it down;
//! - [`raft_node`]: `start_raft` and the Ready loop (persist, send, apply,
//!   snapshot, advance) on its own thread;
//! - [`kvstore`]: the replicated state and its snapshot encoding;
//! - [`command`]: what a log entry carries (a batch of puts);
//! - [`proposer`]: batches the handlers' puts into entries;
//! - [`waiters`]: requests waiting for their entry, conf change or read;
//! - [`state`]: what the Ready loop shares with the handlers;
//! - [`http`]: the HTTP API;
//! - [`transport`] and [`inbox`]: peer messages out over TCP, and in.
//!
//! The durable log and snapshots are `etcdraft_storage::DiskStorage`.
//! - [`cluster`], [`bench`](mod@bench), [`client`]: the demo cluster, the
//!   benchmark, and the small HTTP client they and the tests use;
//!   [`lean_client`]: the bench clients' cheaper HTTP/1.1 connection.

pub mod bench;
pub mod cli;
pub mod client;
pub mod cluster;
pub mod command;
pub mod http;
pub mod inbox;
pub mod kvstore;
pub mod lean_client;
pub mod logger;
pub mod proposer;
pub mod raft_node;
pub mod server;
pub mod state;
pub mod transport;
pub mod waiters;
