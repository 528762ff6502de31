//! The peer transport over TCP: one outbound connection per peer, carrying
//! length-delimited protobuf frames (`frame`), each driven by its own
//! task (`peer`) behind a bounded queue; and a listener for the inbound
//! connections of the peers (`listener`).
//!
//! The Ready loop calls [`Transport::send`] from its own thread; it never
//! blocks: a message that finds its peer's queue full, or has no peer to
//! go to, is dropped and reported. Delivery failures come back to the Ready
//! loop as [`Report`]s, which it turns into `report_unreachable` and
//! `report_snapshot` calls on the node.

mod frame;
mod listener;
mod peer;

use std::collections::HashMap;
use std::sync::Mutex;

use crossbeam_channel::Sender;
use raft::eraftpb::{Message, MessageType};
use tokio::net::TcpListener;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::inbox::Inbox;

pub use frame::{FrameError, MAX_FRAME};

/// Messages queued per peer before the next ones are dropped.
const PEER_QUEUE: usize = 4096;

/// A delivery outcome the node must hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// A message to this peer was dropped.
    Unreachable(u64),
    /// A snapshot was written to the peer's connection (`ok`) or dropped.
    Snapshot {
        /// The peer.
        id: u64,
        /// Whether it went out.
        ok: bool,
    },
}

/// The handle on one peer's task.
#[derive(Debug)]
struct PeerHandle {
    addr: String,
    queue: mpsc::Sender<Message>,
    cancel: CancellationToken,
}

/// The peers of this node and the means to reach them.
#[derive(Debug)]
pub struct Transport {
    id: u64,
    peers: Mutex<HashMap<u64, PeerHandle>>,
    reports: Sender<Report>,
    runtime: Handle,
    cancel: CancellationToken,
    logger: slog::Logger,
}

impl Transport {
    /// A transport for node `id` whose tasks run on `runtime` until
    /// `cancel` fires, reporting failed deliveries on `reports`.
    pub fn new(
        id: u64,
        runtime: Handle,
        reports: Sender<Report>,
        cancel: CancellationToken,
        logger: slog::Logger,
    ) -> Transport {
        Transport {
            id,
            peers: Mutex::new(HashMap::new()),
            reports,
            runtime,
            cancel,
            logger,
        }
    }

    /// Serves inbound peer connections on `listener`.
    pub fn serve(&self, listener: TcpListener, inbox: Inbox) {
        self.runtime.spawn(listener::serve(
            listener,
            self.id,
            inbox,
            self.cancel.clone(),
            self.logger.clone(),
        ));
    }

    fn peers(&self) -> std::sync::MutexGuard<'_, HashMap<u64, PeerHandle>> {
        // The map holds no invariant that a panicking holder could break.
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts sending to peer `id` at `addr`, or moves it there. Adding
    /// this node itself does nothing.
    pub fn add_peer(&self, id: u64, addr: &str) {
        if id == self.id {
            return;
        }
        let mut peers = self.peers();
        if peers.get(&id).is_some_and(|p| p.addr == addr) {
            return;
        }
        if let Some(old) = peers.remove(&id) {
            old.cancel.cancel();
        }
        let (queue, rx) = mpsc::channel(PEER_QUEUE);
        let cancel = self.cancel.child_token();
        let task = peer::PeerTask {
            id,
            addr: addr.to_owned(),
            rx,
            reports: self.reports.clone(),
            cancel: cancel.clone(),
            logger: self.logger.clone(),
        };
        self.runtime.spawn(task.run());
        peers.insert(
            id,
            PeerHandle {
                addr: addr.to_owned(),
                queue,
                cancel,
            },
        );
    }

    /// Stops sending to peer `id`.
    pub fn remove_peer(&self, id: u64) {
        if let Some(p) = self.peers().remove(&id) {
            p.cancel.cancel();
        }
    }

    /// Queues `msgs` for their peers without waiting; what cannot be
    /// queued is dropped and reported.
    pub fn send(&self, msgs: Vec<Message>) {
        if msgs.is_empty() {
            return;
        }
        let peers = self.peers();
        for m in msgs {
            let to = m.to;
            let snap = m.get_type() == MessageType::MsgSnap;
            let queued = match peers.get(&to) {
                Some(p) => p.queue.try_send(m).is_ok(),
                None => {
                    slog::debug!(
                        self.logger,
                        "no address for peer {}: dropping a message",
                        to
                    );
                    false
                }
            };
            if !queued {
                if snap {
                    let _ = self.reports.send(Report::Snapshot { id: to, ok: false });
                }
                let _ = self.reports.send(Report::Unreachable(to));
            }
        }
    }
}
