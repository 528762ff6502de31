//! A raft node driven like a real application (etcd `rafttest/node.go`):
//! a driver thread ticks it (every 20ms, see [`TICK`]), persists its Readys into a
//! `MemStorage` that survives restarts, sends its messages asynchronously
//! with random delays, and steps what the network delivers. The node can
//! be stopped (its in-memory state is lost, its storage kept), restarted,
//! paused (incoming messages are held) and resumed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{at, bounded, never, select, tick, unbounded, Receiver, Sender};

use super::network::NodeNetwork;
use crate::config::Config;
use crate::eraftpb::{HardState, Message};
use crate::errors::Result;
use crate::node::{restart_node, start_node, Node};
use crate::raw_node::Peer;
use crate::status::Status;
use crate::storage::MemStorage;
use crate::tests::support::test_logger;
use crate::tests::support::TestRng;

/// The driver's clock. etcd ticks every 5ms; on a machine shared with
/// parallel builds and tests, threads can be starved for longer than the
/// 50ms election timeout that gives, and every needless election loses the
/// proposals in flight (the tests do not retry, as etcd's do not). 20ms
/// keeps the same protocol (heartbeat every tick, election after 10 to 19)
/// with room for a busy scheduler.
const TICK: Duration = Duration::from_millis(20);

/// The storage, shared by the driver (which writes) and the node (which
/// reads); it outlives restarts.
type Shared = Arc<RwLock<MemStorage>>;

/// etcd's config for these nodes.
fn config(id: u64) -> Config {
    Config {
        id,
        election_tick: 10,
        heartbeat_tick: 1,
        max_size_per_msg: 1024 * 1024,
        max_inflight_msgs: 256,
        max_uncommitted_entries_size: 1 << 30,
        ..Default::default()
    }
}

/// A driven raft node (etcd rafttest's `node`).
pub struct TestNode {
    /// The node's id.
    pub id: u64,
    iface: NodeNetwork,
    node: Option<Arc<Node>>,
    storage: Shared,
    /// The last hard state persisted.
    pub state: Arc<Mutex<HardState>>,
    stopc: Option<Sender<()>>,
    pausec: (Sender<bool>, Receiver<bool>),
    driver: Option<JoinHandle<()>>,
}

/// Starts node `id` of a new group of `peers` (etcd rafttest `startNode`).
pub fn start_test_node(id: u64, peers: &[Peer], iface: NodeNetwork) -> TestNode {
    let storage: Shared = Arc::new(RwLock::new(MemStorage::new()));
    let node = start_node(&config(id), storage.clone(), peers, &test_logger()).expect("start node");
    let mut n = TestNode {
        id,
        iface,
        node: Some(Arc::new(node)),
        storage,
        state: Arc::new(Mutex::new(HardState::default())),
        stopc: None,
        pausec: bounded(0),
        driver: None,
    };
    n.start();
    n
}

impl TestNode {
    fn node(&self) -> &Node {
        self.node.as_ref().expect("node is stopped")
    }

    /// Proposes `data` through this node.
    pub fn propose(&self, data: &'static [u8]) -> Result<()> {
        self.node().propose(data)
    }

    /// The node's status.
    pub fn status(&self) -> Status {
        self.node().status()
    }

    fn start(&mut self) {
        let (stop_tx, stopc) = bounded::<()>(0);
        self.stopc = Some(stop_tx);
        let n = self.node.clone().expect("node is stopped");
        let iface = self.iface.clone();
        let storage = self.storage.clone();
        let state = self.state.clone();
        let pausec = self.pausec.1.clone();
        let id = self.id;
        self.driver = Some(thread::spawn(move || {
            drive(id, &n, &iface, &storage, &state, &stopc, &pausec);
        }));
    }

    /// Stops the node: it is cut off from the network and its in-memory
    /// state is dropped; its storage stays as it is.
    pub fn stop(&mut self) {
        self.iface.disconnect();
        // Dropping the sender ends the driver, which stops the node.
        self.stopc = None;
        if let Some(h) = self.driver.take() {
            h.join().expect("driver panicked");
        }
        self.node = None;
    }

    /// Restarts a stopped node from its storage and reconnects it.
    pub fn restart(&mut self) {
        let node = restart_node(&config(self.id), self.storage.clone(), &test_logger())
            .expect("restart node");
        self.node = Some(Arc::new(node));
        self.start();
        self.iface.connect();
    }

    /// Pauses the node: it holds the messages it receives until resumed.
    pub fn pause(&self) {
        self.pausec.0.send(true).expect("driver gone");
    }

    /// Resumes a paused node, which then steps the messages it held.
    pub fn resume(&self) {
        self.pausec.0.send(false).expect("driver gone");
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if self.driver.is_some() {
            self.stop();
        }
    }
}

// Steps the messages from the network in order, on a thread of its own:
// etcd steps each message on its own goroutine, so the driver never waits
// for the node and many steps batch into one Ready. One thread is enough
// here, forwarded proposals included: `Node::step` never waits for a
// leader (etcd's does, hence its goroutine per message).
fn spawn_stepper(n: Arc<Node>, rx: Receiver<Message>) -> JoinHandle<()> {
    thread::spawn(move || {
        for m in rx {
            let _ = n.step(m);
        }
    })
}

// The driver loop of etcd's node.start.
fn drive(
    id: u64,
    n: &Arc<Node>,
    iface: &NodeNetwork,
    storage: &Shared,
    state: &Mutex<HardState>,
    stopc: &Receiver<()>,
    pausec: &Receiver<bool>,
) {
    let ticker = tick(TICK);
    let (out_tx, out_rx) = unbounded();
    let sender = spawn_sender(id, iface.clone(), out_rx);
    let (step_tx, step_rx) = unbounded();
    let stepper = spawn_stepper(n.clone(), step_rx);
    loop {
        select! {
            recv(ticker) -> _ => n.tick(),
            recv(n.ready()) -> rd => {
                let Ok(rd) = rd else { break };
                if let Some(hs) = rd.hard_state.filter(|hs| !hs.is_empty()) {
                    *state.lock().unwrap() = hs;
                    storage.write().unwrap().set_hard_state(hs).expect("set hard state");
                }
                storage.write().unwrap().append(&rd.entries).expect("append");
                thread::sleep(Duration::from_millis(1));
                // Sent asynchronously, with random delays, more like the
                // real world.
                for m in rd.messages {
                    let _ = out_tx.send(m);
                }
                n.advance();
            }
            recv(iface.recv()) -> m => {
                if let Ok(m) = m {
                    let _ = step_tx.send(m);
                }
            }
            recv(stopc) -> _ => break,
            recv(pausec) -> p => {
                let mut paused = p.unwrap_or(false);
                let mut held = Vec::new();
                while paused {
                    select! {
                        recv(iface.recv()) -> m => held.extend(m.ok()),
                        recv(pausec) -> p => paused = p.unwrap_or(false),
                        recv(stopc) -> _ => break,
                    }
                }
                for m in held {
                    let _ = step_tx.send(m);
                }
            }
        }
    }
    // Messages still in flight are delivered (or dropped by the network),
    // then the sender ends.
    drop(out_tx);
    sender.join().expect("sender panicked");
    // Stop the node first: steps still queued, and proposals blocked for
    // want of a leader, return at once then.
    n.stop().expect("the node failed");
    drop(step_tx);
    stepper.join().expect("stepper panicked");
}

// Sends each message after a random delay below 10ms (etcd spawns a
// goroutine per message that sleeps, then sends): messages overtake each
// other as they would on a real network.
fn spawn_sender(id: u64, iface: NodeNetwork, rx: Receiver<Message>) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut rng = TestRng::new(id);
        let mut seq = 0u64;
        let mut queue: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
        let mut pending = std::collections::HashMap::new();
        let mut open = true;
        while open || !queue.is_empty() {
            let timer = match queue.peek() {
                Some(Reverse((due, _))) => at(*due),
                None => never(),
            };
            let input = if open { rx.clone() } else { never() };
            select! {
                recv(input) -> m => match m {
                    Ok(m) => {
                        let due = Instant::now() + Duration::from_millis(rng.below(10));
                        queue.push(Reverse((due, seq)));
                        pending.insert(seq, m);
                        seq += 1;
                    }
                    Err(_) => open = false,
                },
                recv(timer) -> _ => {
                    let now = Instant::now();
                    while let Some(Reverse((due, s))) = queue.peek().copied() {
                        if due > now {
                            break;
                        }
                        queue.pop();
                        if let Some(m) = pending.remove(&s) {
                            iface.send(m);
                        }
                    }
                }
            }
        }
    })
}
