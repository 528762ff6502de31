//! An in-memory network between raft nodes (etcd `rafttest/network.go`):
//! one bounded receive queue per node, per-link drop rates and delays, and
//! nodes that can be disconnected.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{bounded, never, Receiver, Sender};

use crate::eraftpb::Message;
use crate::tests::support::TestRng;

/// How many messages a node's receive queue holds; later ones are dropped
/// (etcd's queue size).
const RECV_QUEUE: usize = 1024;

/// A random delay of up to `d` on a share `rate` of a link's messages.
#[derive(Clone, Copy, Default)]
struct Delay {
    d: Duration,
    rate: f64,
}

struct State {
    rng: TestRng,
    disconnected: HashSet<u64>,
    dropmap: HashMap<(u64, u64), f64>,
    delaymap: HashMap<(u64, u64), Delay>,
}

/// The network (etcd `raftNetwork`). Cheap to share: clone the `Arc`.
pub struct RaftNetwork {
    state: Mutex<State>,
    recv_queues: HashMap<u64, (Sender<Message>, Receiver<Message>)>,
}

impl RaftNetwork {
    /// A network between `nodes` (etcd `newRaftNetwork`).
    pub fn new(nodes: &[u64]) -> Arc<RaftNetwork> {
        Arc::new(RaftNetwork {
            state: Mutex::new(State {
                rng: TestRng::new(1),
                disconnected: HashSet::new(),
                dropmap: HashMap::new(),
                delaymap: HashMap::new(),
            }),
            recv_queues: nodes.iter().map(|&n| (n, bounded(RECV_QUEUE))).collect(),
        })
    }

    /// The network as node `id` sees it (etcd `nodeNetwork`).
    pub fn node_network(self: &Arc<Self>, id: u64) -> NodeNetwork {
        NodeNetwork {
            id,
            net: self.clone(),
        }
    }

    /// Delivers `m` to its target's queue unless the target is
    /// disconnected, the link drops it, or the queue is full; may first
    /// sleep for the link's delay.
    pub fn send(&self, m: Message) {
        let link = (m.from, m.to);
        let (drop, delay) = {
            let mut st = self.state.lock().unwrap();
            if st.disconnected.contains(&m.to) {
                return;
            }
            let drop = st.dropmap.get(&link).copied().unwrap_or(0.0);
            let dl = st.delaymap.get(&link).copied().unwrap_or_default();
            // The random draws happen under the lock: one generator for
            // every sender thread, so each decision is drawn exactly once.
            let dropped = drop != 0.0 && st.rng.next_f64() < drop;
            let delay = if !dropped && !dl.d.is_zero() && st.rng.next_f64() < dl.rate {
                Duration::from_nanos(st.rng.below(dl.d.as_nanos() as u64))
            } else {
                Duration::ZERO
            };
            (dropped, delay)
        };
        let Some((to, _)) = self.recv_queues.get(&m.to) else {
            return;
        };
        if drop {
            return;
        }
        if !delay.is_zero() {
            thread::sleep(delay);
        }
        // Messages are moved, so the receiver gets its own copy without
        // etcd's marshal round trip. A full queue drops the message.
        let _ = to.try_send(m);
    }

    /// Node `from`'s receive queue, or a queue that never delivers while
    /// `from` is disconnected (etcd returns a nil channel).
    pub fn recv_from(&self, from: u64) -> Receiver<Message> {
        let st = self.state.lock().unwrap();
        match self.recv_queues.get(&from) {
            Some((_, rx)) if !st.disconnected.contains(&from) => rx.clone(),
            _ => never(),
        }
    }

    /// Drops the share `rate` of the messages from `from` to `to`.
    pub fn drop(&self, from: u64, to: u64, rate: f64) {
        self.state.lock().unwrap().dropmap.insert((from, to), rate);
    }

    /// Delays the share `rate` of the messages from `from` to `to` by a
    /// random time below `d`.
    pub fn delay(&self, from: u64, to: u64, d: Duration, rate: f64) {
        self.state
            .lock()
            .unwrap()
            .delaymap
            .insert((from, to), Delay { d, rate });
    }

    /// Cuts node `id` off: nothing is delivered to it.
    pub fn disconnect(&self, id: u64) {
        self.state.lock().unwrap().disconnected.insert(id);
    }

    /// Reconnects node `id`.
    pub fn connect(&self, id: u64) {
        self.state.lock().unwrap().disconnected.remove(&id);
    }
}

/// One node's view of the network (etcd `iface` / `nodeNetwork`).
#[derive(Clone)]
pub struct NodeNetwork {
    id: u64,
    net: Arc<RaftNetwork>,
}

impl NodeNetwork {
    /// Sends `m` over the network.
    pub fn send(&self, m: Message) {
        self.net.send(m);
    }

    /// This node's receive queue (one that never delivers while it is
    /// disconnected).
    pub fn recv(&self) -> Receiver<Message> {
        self.net.recv_from(self.id)
    }

    /// Disconnects this node.
    pub fn disconnect(&self) {
        self.net.disconnect(self.id);
    }

    /// Reconnects this node.
    pub fn connect(&self) {
        self.net.connect(self.id);
    }
}
