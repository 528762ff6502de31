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
//!
//! Removed nodes: the transport knows the ids the Ready loop applied the
//! removal of ([`Transport::mark_removed`]). A message from one of them is
//! dropped, and the connection it came on is answered once with a "member
//! removed" control frame (`frame`); a node that hears this about itself
//! reports [`Report::Removed`], and its Ready loop stops as if it had
//! applied its own removal (etcd's rafthttp answers 410 Gone, and the
//! removed member stops on `ErrMemberRemoved`).

mod frame;
mod listener;
mod peer;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

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
    /// Peer `by` answered that this node was removed from the cluster.
    Removed {
        /// The peer that said so.
        by: u64,
    },
}

/// The ids of the nodes removed from the cluster, as far as this node has
/// applied; read by every inbound connection for every message.
pub(crate) type Removed = Arc<RwLock<HashSet<u64>>>;

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
    removed: Removed,
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
            removed: Removed::default(),
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
            self.removed.clone(),
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
            own_id: self.id,
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

    /// Stops sending to `id`, and from now on answers its messages with
    /// "member removed".
    pub fn mark_removed(&self, id: u64) {
        self.remove_peer(id);
        self.removed_ids().insert(id);
    }

    /// Accepts messages from `id` again (it was added back).
    pub fn readmit(&self, id: u64) {
        self.removed_ids().remove(&id);
    }

    fn removed_ids(&self) -> std::sync::RwLockWriteGuard<'_, HashSet<u64>> {
        // A set of ids holds no invariant that a panicking holder could break.
        self.removed.write().unwrap_or_else(|e| e.into_inner())
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn msg(to: u64, t: MessageType) -> Message {
        let mut m = Message::new(t);
        m.to = to;
        m.from = 1;
        m.term = 1;
        m
    }

    fn transport(rt: &tokio::runtime::Runtime) -> (Transport, crossbeam_channel::Receiver<Report>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let t = Transport::new(1, rt.handle().clone(), tx, CancellationToken::new(), logger);
        (t, rx)
    }

    #[test]
    fn a_message_to_an_unknown_peer_is_reported_and_a_snapshot_failed() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (t, reports) = transport(&rt);
        t.send(vec![
            msg(7, MessageType::MsgSnap),
            msg(8, MessageType::MsgApp),
        ]);
        let got: Vec<Report> = reports.try_iter().collect();
        assert_eq!(
            got,
            vec![
                Report::Snapshot { id: 7, ok: false },
                Report::Unreachable(7),
                Report::Unreachable(8)
            ]
        );
    }

    #[test]
    fn messages_to_a_dead_peer_are_reported_and_a_live_one_gets_its_snapshot() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (t, reports) = transport(&rt);
        // A port nobody listens on: bind, note it, close.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_addr = dead.local_addr().unwrap().to_string();
        drop(dead);
        t.add_peer(2, &dead_addr);
        t.send(vec![msg(2, MessageType::MsgSnap)]);
        let r = reports.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(r, Report::Snapshot { id: 2, ok: false });
        assert_eq!(
            reports.recv_timeout(Duration::from_secs(10)).unwrap(),
            Report::Unreachable(2)
        );

        let live = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let live_addr = live.local_addr().unwrap().to_string();
        let (inbox, mut rx) = crate::inbox::inbox_for_test();
        let t3 = Transport::new(
            3,
            rt.handle().clone(),
            crossbeam_channel::unbounded().0,
            CancellationToken::new(),
            slog::Logger::root(slog::Discard, slog::o!()),
        );
        t3.serve(live, inbox);
        t.add_peer(3, &live_addr);
        t.send(vec![msg(3, MessageType::MsgSnap)]);
        assert_eq!(
            reports.recv_timeout(Duration::from_secs(10)).unwrap(),
            Report::Snapshot { id: 3, ok: true }
        );
        let got =
            rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), rx.recv()).await });
        assert_eq!(got.unwrap().unwrap().get_type(), MessageType::MsgSnap);
    }
}
