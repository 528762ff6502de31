//! The proposer thread: turns the HTTP handlers' puts into log entries,
//! many puts per entry.
//!
//! Handlers queue their put (already registered as a waiter) on a bounded
//! channel, which is the server's back-pressure: when raft cannot keep up,
//! handlers wait for room. The thread takes every put that is queued, up to
//! [`MAX_BATCH_BYTES`], encodes them as one entry and proposes it. While no
//! leader is known, `propose` waits (up to the request timeout); the queue
//! fills meanwhile, and the batch is answered with the error if raft drops
//! it.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::BytesMut;
use raft::node::Context;
use raft::Node;
use tokio::sync::mpsc;

use crate::command::{encode_batch, Put};
use crate::raft_node::node_gone;
use crate::state::{NotApplied, Shared};

/// Puts queued before handlers wait.
pub const QUEUE: usize = 4096;
/// The largest entry built from queued puts (a single larger put makes its
/// own entry).
pub const MAX_BATCH_BYTES: usize = 256 << 10;

/// Starts the thread; it ends when every sender is gone or the node stops.
pub fn start(
    node: Arc<Node>,
    shared: Arc<Shared>,
    timeout: Duration,
) -> std::io::Result<(mpsc::Sender<Put>, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let thread = std::thread::Builder::new()
        .name("proposer".into())
        .spawn(move || run(&node, &shared, rx, timeout))?;
    Ok((tx, thread))
}

fn run(node: &Node, shared: &Shared, mut rx: mpsc::Receiver<Put>, timeout: Duration) {
    let mut buf = BytesMut::new();
    let mut batch: Vec<Put> = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        let mut size = first.encoded_len();
        batch.push(first);
        while size < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(p) => {
                    size += p.encoded_len();
                    batch.push(p);
                }
                Err(_) => break,
            }
        }
        let data = encode_batch(&mut buf, &batch);
        let res = node.propose_ctx(&Context::with_timeout(timeout), data);
        let stopped = res.as_ref().is_err_and(node_gone);
        if let Err(e) = res {
            // Dropped or timed out: nothing of the batch will be applied
            // under these ids, so the handlers can answer at once.
            shared.puts.complete(
                batch
                    .iter()
                    .map(|p| (p.id, Err(NotApplied::Dropped(e.clone())))),
            );
        }
        batch.clear();
        if stopped {
            return;
        }
    }
}
