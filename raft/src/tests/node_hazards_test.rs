//! Regression tests of the hazards of the threaded [`Node`] that issue 13
//! found when driving it like etcd's raftexample does: a panic of raft in
//! the node thread that aborted the process, a forwarded proposal whose
//! step blocked the transport while no leader was known, a follower that
//! never took proposals again after it was removed and added back, and a
//! restart with `Config::applied` that lost the configuration.
//!
//! Every wait is on a condition with a deadline ([`WAIT`]); reaching one
//! fails the test.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{after, bounded, select};
use prost::Message as _;

use super::support::{new_message, new_test_memory_storage, test_logger, with_peers};
use crate::config::Config;
use crate::eraftpb::{
    ConfChange, ConfChangeType, ConfChangeV2, ConfState, Entry, EntryType, HardState, Message,
    MessageType, Snapshot,
};
use crate::errors::{Error, Result};
use crate::node::{restart_node, start_node, Context, Node};
use crate::raw_node::{Peer, RawNode, Ready};
use crate::storage::{MemStorage, Storage};

type Shared = Arc<RwLock<MemStorage>>;

/// How long a test waits for what must happen; only reached on failure.
const WAIT: Duration = Duration::from_secs(10);

/// A storage whose `entries` fails with [`Error::Unavailable`] once told
/// to, as a storage whose disk went away would.
#[derive(Clone)]
struct FailingStorage {
    inner: Shared,
    fail: Arc<AtomicBool>,
}

impl Storage for FailingStorage {
    fn initial_state(&self) -> Result<(HardState, ConfState)> {
        self.inner.initial_state()
    }
    fn entries(&self, lo: u64, hi: u64, max_size: u64) -> Result<Vec<Entry>> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(Error::Unavailable);
        }
        self.inner.entries(lo, hi, max_size)
    }
    fn term(&self, i: u64) -> Result<u64> {
        self.inner.term(i)
    }
    fn last_index(&self) -> Result<u64> {
        self.inner.last_index()
    }
    fn first_index(&self) -> Result<u64> {
        self.inner.first_index()
    }
    fn snapshot(&self) -> Result<Snapshot> {
        self.inner.snapshot()
    }
}

/// A stored log of one voter with two committed entries that the node
/// must read from storage to hand out.
fn committed_log() -> MemStorage {
    let mut s = new_test_memory_storage(vec![with_peers(&[1])]);
    let ents: Vec<Entry> = (1..=2)
        .map(|i| Entry {
            index: i,
            term: 1,
            data: bytes::Bytes::from_static(b"x"),
            ..Default::default()
        })
        .collect();
    s.append(&ents).unwrap();
    s.set_hard_state(HardState {
        term: 1,
        vote: 1,
        commit: 2,
    })
    .unwrap();
    s
}

/// Runs `f` on a thread and returns its result, failing the test if it
/// does not return within `limit` (it blocked).
fn within<T: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = bounded(1);
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    select! {
        recv(rx) -> r => r.expect("it panicked"),
        recv(after(limit)) -> _ => panic!("{what} blocked for {limit:?}"),
    }
}

/// Waits until the node's ready channel disconnects, failing the test if
/// a Ready with work comes or nothing happens within [`WAIT`]. (The Ready
/// the application waited for while raft failed building it comes empty.)
fn wait_disconnected(n: &Node) {
    let deadline = after(WAIT);
    loop {
        select! {
            recv(n.ready()) -> rd => match rd {
                Err(_) => return,
                Ok(rd) => {
                    assert_eq!(rd, Ready::default(), "a Ready with work from a failed node");
                    n.advance();
                }
            },
            recv(deadline) -> _ => panic!("the node did not fail"),
        }
    }
}

/// Hazard 1: raft panics in the node thread when the storage cannot give
/// the committed entries; the error reaches a call blocked before, the
/// ready channel, later calls and `stop`, and the process lives on.
#[test]
fn storage_failure_surfaces_as_error() {
    let fail = Arc::new(AtomicBool::new(true));
    let storage = FailingStorage {
        inner: Arc::new(RwLock::new(committed_log())),
        fail: fail.clone(),
    };
    let n = Arc::new(restart_node(&Config::new(1), storage, &test_logger()).unwrap());
    // Blocked for want of a leader (the node never campaigns here).
    let blocked = {
        let n = n.clone();
        let (tx, rx) = bounded(1);
        thread::spawn(move || {
            let _ = tx.send(n.propose("p"));
        });
        rx
    };
    // Asking for the Ready makes raft read the committed entries.
    wait_disconnected(&n);
    let want = Error::StorageFailed {
        call: "entries",
        error: Box::new(Error::Unavailable),
    };
    select! {
        recv(blocked) -> r => assert_eq!(r.unwrap(), Err(want.clone())),
        recv(after(WAIT)) -> _ => panic!("the blocked proposal did not return"),
    }
    assert_eq!(n.failure(), Some(want.clone()));
    assert_eq!(n.propose("later"), Err(want.clone()));
    assert_eq!(
        n.apply_conf_change(&ConfChangeV2::default()),
        Err(want.clone())
    );
    assert_eq!(n.stop(), Err(want.clone()));
    assert_eq!(n.stop(), Err(want));
}

/// Hazard 1 for a node built with `Node::new` (no watched storage): the
/// panic surfaces as `NodePanicked` with raft's message.
#[test]
fn panic_in_node_thread_surfaces_as_error() {
    let storage = FailingStorage {
        inner: Arc::new(RwLock::new(committed_log())),
        fail: Arc::new(AtomicBool::new(true)),
    };
    let rn = RawNode::new(&Config::new(1), storage, &test_logger()).unwrap();
    let n = Node::new(rn);
    wait_disconnected(&n);
    let Some(Error::NodePanicked(msg)) = n.failure() else {
        panic!("want NodePanicked, got {:?}", n.failure());
    };
    assert!(msg.contains("unavailable"), "{msg}");
    assert_eq!(n.status(), Default::default());
    assert!(matches!(n.stop(), Err(Error::NodePanicked(_))));
}

/// The failing storage, working: the same node hands out its entries.
#[test]
fn failing_storage_works_until_told() {
    let storage = FailingStorage {
        inner: Arc::new(RwLock::new(committed_log())),
        fail: Arc::new(AtomicBool::new(false)),
    };
    let n = restart_node(&Config::new(1), storage, &test_logger()).unwrap();
    let rd = next_ready(&n);
    assert_eq!(rd.committed_entries.len(), 2);
    n.stop().unwrap();
}

fn next_ready(n: &Node) -> Ready {
    select! {
        recv(n.ready()) -> rd => rd.expect("the node ended"),
        recv(after(WAIT)) -> _ => panic!("no Ready"),
    }
}

/// A message from `from` at term 1 to node `to`.
fn at_term_1(from: u64, to: u64, t: MessageType) -> Message {
    let mut m = new_message(from, to, t);
    m.term = 1;
    m
}

/// Hazard 2: a proposal forwarded by a peer is stepped at once while no
/// leader is known (dropped, with the error), so the transport thread that
/// steps it goes on to step the heartbeat that makes the leader known;
/// then forwarded proposals reach the leader.
#[test]
fn forwarded_proposal_never_blocks_step() {
    let s = Arc::new(RwLock::new(new_test_memory_storage(vec![with_peers(&[
        1, 2, 3,
    ])])));
    let n = Arc::new(Node::new(
        RawNode::new(&Config::new(1), s.clone(), &test_logger()).unwrap(),
    ));
    let mut prop = at_term_1(2, 1, MessageType::MsgProp);
    prop.entries.push(Entry {
        data: bytes::Bytes::from_static(b"fwd"),
        ..Default::default()
    });
    let (n2, p2) = (n.clone(), prop.clone());
    assert_eq!(
        within("a forwarded proposal's step", WAIT, move || n2.step(p2)),
        Err(Error::ProposalDropped)
    );
    // The transport goes on: node 3 leads at term 1.
    let n2 = n.clone();
    within("a heartbeat's step", WAIT, move || {
        n2.step(at_term_1(3, 1, MessageType::MsgHeartbeat))
    })
    .unwrap();
    let n2 = n.clone();
    within("a forwarded proposal's step", WAIT, move || n2.step(prop)).unwrap();
    // Forwarded on to the leader, in a Ready.
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "the proposal never left for 3");
        let rd = next_ready(&n);
        s.write().unwrap().append(&rd.entries).unwrap();
        let fwd = rd
            .messages
            .iter()
            .any(|m| m.get_type() == MessageType::MsgProp && m.to == 3);
        n.advance();
        if fwd {
            break;
        }
    }
    n.stop().unwrap();
}

/// Three nodes whose messages the test thread carries, one at a time, as
/// a transport with one receiving thread does; `cut` drops everything
/// from and to one node.
struct World {
    nodes: Vec<Node>,
    stores: Vec<Shared>,
    applied: Vec<u64>,
    data: Vec<Vec<bytes::Bytes>>,
    cut: Option<u64>,
    dropped_props: usize,
}

impl World {
    fn new() -> World {
        let peers: Vec<Peer> = (1..=3)
            .map(|id| Peer {
                id,
                ..Default::default()
            })
            .collect();
        let stores: Vec<Shared> = (0..3)
            .map(|_| Arc::new(RwLock::new(MemStorage::new())))
            .collect();
        let nodes = (1..=3)
            .map(|id| {
                let mut c = Config::new(id);
                c.check_quorum = true;
                start_node(&c, stores[id as usize - 1].clone(), &peers, &test_logger()).unwrap()
            })
            .collect();
        World {
            nodes,
            stores,
            applied: vec![0; 3],
            data: vec![Vec::new(); 3],
            cut: None,
            dropped_props: 0,
        }
    }

    fn node(&self, id: u64) -> &Node {
        &self.nodes[id as usize - 1]
    }

    /// Handles the Readys the nodes offer and delivers what they send.
    fn pump(&mut self) {
        let mut out = Vec::new();
        for i in 0..3 {
            let n = &self.nodes[i];
            while let Ok(rd) = n.ready().recv_timeout(Duration::from_millis(2)) {
                {
                    let mut st = self.stores[i].write().unwrap();
                    if let Some(hs) = rd.hard_state {
                        st.set_hard_state(hs).unwrap();
                    }
                    st.append(&rd.entries).unwrap();
                }
                out.extend(rd.messages);
                for e in &rd.committed_entries {
                    if e.get_type() == EntryType::EntryConfChange {
                        n.apply_conf_change(&ConfChange::decode(e.data.clone()).unwrap())
                            .unwrap();
                    } else if !e.data.is_empty() {
                        self.data[i].push(e.data.clone());
                    }
                    self.applied[i] = e.index;
                }
                n.advance();
            }
        }
        for m in out {
            if self.cut.is_some_and(|c| c == m.from || c == m.to) {
                continue;
            }
            let prop = m.get_type() == MessageType::MsgProp;
            match self.node(m.to).step(m) {
                Ok(()) => {}
                Err(Error::ProposalDropped) if prop => self.dropped_props += 1,
                Err(e) => panic!("step: {e}"),
            }
        }
    }

    /// Pumps (and ticks `ticked`) until `done` holds, within [`WAIT`].
    fn pump_until(&mut self, what: &str, ticked: &[u64], done: impl Fn(&World) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(self) {
            assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
            for &id in ticked {
                self.node(id).tick();
            }
            self.pump();
        }
    }
}

/// Hazard 2, the reproduction: leader 1 of three is cut off until
/// check-quorum makes it step down; node 2, still following it, forwards a
/// proposal, which 1 receives leaderless once reconnected. The test thread
/// is the transport: it steps every message itself, so a step that waited
/// for a leader would stall the group for good (and the test past its
/// deadline). Instead the proposal is dropped with the error, and the
/// group elects a leader and commits again.
#[test]
fn leaderless_node_drops_forwarded_proposal_and_group_recovers() {
    within("the transport thread", WAIT * 4, || {
        let mut w = World::new();
        w.pump_until("bootstrap", &[], |w| w.applied.iter().all(|&a| a >= 3));
        w.node(1).campaign().unwrap();
        w.pump_until("1 elected", &[], |w| {
            (1..=3).all(|id| w.node(id).status().lead() == 1)
        });

        w.cut = Some(1);
        w.pump_until("1 steps down", &[1], |w| w.node(1).status().lead() == 0);
        // 2 has not heard otherwise: it forwards to 1.
        assert_eq!(w.node(2).status().lead(), 1);
        w.node(2)
            .propose_ctx(&Context::with_timeout(WAIT), "fwd")
            .unwrap();
        w.cut = None;
        w.pump_until("the forwarded proposal dropped", &[], |w| {
            w.dropped_props == 1
        });

        w.pump_until("a new leader", &[1, 2, 3], |w| {
            let l = w.node(1).status().lead();
            l != 0 && (2..=3).all(|id| w.node(id).status().lead() == l)
        });
        // A proposal can be lost to one more election: propose again
        // until it is applied everywhere.
        let deadline = Instant::now() + WAIT;
        let mut proposed: Option<Instant> = None;
        while !w.data.iter().all(|d| d.iter().any(|x| &x[..] == b"after")) {
            assert!(Instant::now() < deadline, "not applied everywhere");
            if proposed.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
                let ctx = Context::with_timeout(Duration::from_millis(100));
                let _ = w.node(2).propose_ctx(&ctx, "after");
                proposed = Some(Instant::now());
            }
            for id in 1..=3 {
                w.node(id).tick();
            }
            w.pump();
        }
        for n in &w.nodes {
            n.stop().unwrap();
        }
    });
}

fn conf_change(t: ConfChangeType, id: u64) -> ConfChange {
    ConfChange {
        change_type: t as i32,
        node_id: id,
        ..Default::default()
    }
}

/// Hazard 3: follower 2, removed and added back while 1 stays the leader,
/// takes proposals again at once.
#[test]
fn readded_follower_takes_proposals() {
    let s = Arc::new(RwLock::new(new_test_memory_storage(vec![with_peers(&[
        1, 2, 3,
    ])])));
    let n = Node::new(RawNode::new(&Config::new(2), s, &test_logger()).unwrap());
    n.step(at_term_1(1, 2, MessageType::MsgHeartbeat)).unwrap();
    let ctx = Context::with_timeout(WAIT);
    n.propose_ctx(&ctx, "before").unwrap();

    let cs = n
        .apply_conf_change(&conf_change(ConfChangeType::ConfChangeRemoveNode, 2))
        .unwrap();
    assert_eq!(cs.voters, vec![1, 3]);
    // Removed: proposals wait (etcd's behaviour, kept).
    let short = Context::with_timeout(Duration::from_millis(50));
    assert_eq!(
        n.propose_ctx(&short, "removed"),
        Err(Error::DeadlineExceeded)
    );

    let cs = n
        .apply_conf_change(&conf_change(ConfChangeType::ConfChangeAddNode, 2))
        .unwrap();
    assert_eq!(cs.voters, vec![1, 2, 3]);
    let ctx = Context::with_timeout(WAIT);
    assert_eq!(n.propose_ctx(&ctx, "after"), Ok(()));
    n.stop().unwrap();
}

/// Handles the node's Readys like an application (persist, apply conf
/// changes, advance) until `done` holds for the node's status and what it
/// applied, within [`WAIT`]. Returns the applied index.
fn drive_until(n: &Node, s: &Shared, mut applied: u64, done: impl Fn(&Node, u64) -> bool) -> u64 {
    let deadline = Instant::now() + WAIT;
    while !done(n, applied) {
        assert!(
            Instant::now() < deadline,
            "not done within {WAIT:?}: applied {applied}, {:?}",
            n.status()
        );
        let rd = select! {
            recv(n.ready()) -> rd => rd.expect("the node ended"),
            recv(after(Duration::from_millis(20))) -> _ => continue,
        };
        {
            let mut st = s.write().unwrap();
            if let Some(hs) = rd.hard_state {
                st.set_hard_state(hs).unwrap();
            }
            st.append(&rd.entries).unwrap();
        }
        for e in &rd.committed_entries {
            match e.get_type() {
                EntryType::EntryConfChange => {
                    n.apply_conf_change(&ConfChange::decode(e.data.clone()).unwrap())
                        .unwrap();
                }
                EntryType::EntryConfChangeV2 => {
                    n.apply_conf_change(&ConfChangeV2::decode(e.data.clone()).unwrap())
                        .unwrap();
                }
                EntryType::EntryNormal => {}
            }
            applied = e.index;
        }
        n.advance();
    }
    applied
}

fn is_leader(n: &Node) -> bool {
    n.status().lead() == 1
}

/// A new one-voter group (node 1) over an empty storage.
fn start_single_voter() -> (Node, Shared) {
    let s: Shared = Arc::new(RwLock::new(MemStorage::new()));
    let peers = [Peer {
        id: 1,
        ..Default::default()
    }];
    let n = start_node(&Config::new(1), s.clone(), &peers, &test_logger()).unwrap();
    (n, s)
}

/// A one-voter group that applied its bootstrap entry and a conf change
/// adding learner 2, stopped; returns its storage and applied index.
fn group_with_learner() -> (Shared, u64) {
    let (n, s) = start_single_voter();
    // A member once the bootstrap entry is applied.
    let applied = drive_until(&n, &s, 0, |_, a| a >= 1);
    n.campaign().unwrap();
    // Until the leader's empty entry is applied, raft drops conf changes
    // (one may still be pending).
    let applied = drive_until(&n, &s, applied, |n, a| is_leader(n) && a >= 2);
    n.propose_conf_change(&conf_change(ConfChangeType::ConfChangeAddLearnerNode, 2))
        .unwrap();
    let applied = drive_until(&n, &s, applied, |n, _| {
        n.status().config.learners.contains(2)
    });
    n.stop().unwrap();
    (s, applied)
}

/// Hazard 4, the reproduction: a one-voter group applies its
/// bootstrap entry (no snapshot) and restarts with `applied = 1`; it must
/// come back as a voter and lead again.
#[test]
fn restart_with_applied_keeps_bootstrap_configuration() {
    let (n, s) = start_single_voter();
    let applied = drive_until(&n, &s, 0, |_, applied| applied >= 1);
    n.stop().unwrap();
    assert_eq!(applied, 1);

    let mut c = Config::new(1);
    c.applied = applied;
    let n = restart_node(&c, s.clone(), &test_logger()).unwrap();
    assert_eq!(n.status().config.voters.incoming().slice(), vec![1]);
    n.campaign().unwrap();
    drive_until(&n, &s, applied, |n, _| is_leader(n));
    n.stop().unwrap();
}

/// The restart recipe for a durable state machine: `applied` set to what
/// it applied, and raft comes back with every conf change up to it.
#[test]
fn restart_durable_state_machine_keeps_configuration() {
    let (s, applied) = group_with_learner();
    let mut c = Config::new(1);
    c.applied = applied;
    let n = restart_node(&c, s.clone(), &test_logger()).unwrap();
    let st = n.status();
    assert_eq!(st.config.voters.incoming().slice(), vec![1]);
    assert!(st.config.learners.contains(2));
    // Nothing up to `applied` comes again.
    n.campaign().unwrap();
    let deadline = Instant::now() + WAIT;
    while !is_leader(&n) {
        assert!(Instant::now() < deadline, "no leader");
        let rd = next_ready(&n);
        assert!(rd.committed_entries.iter().all(|e| e.index > applied));
        s.write().unwrap().append(&rd.entries).unwrap();
        n.advance();
    }
    n.stop().unwrap();
}

/// The restart recipe for a volatile state machine: `applied` left at 0,
/// raft hands out the conf changes again and the application applies them.
#[test]
fn restart_volatile_state_machine_keeps_configuration() {
    let (s, applied) = group_with_learner();
    let n = restart_node(&Config::new(1), s.clone(), &test_logger()).unwrap();
    assert!(n.status().config.voters.incoming().slice().is_empty());
    let reapplied = drive_until(&n, &s, 0, |_, a| a >= applied);
    assert_eq!(reapplied, applied);
    let st = n.status();
    assert_eq!(st.config.voters.incoming().slice(), vec![1]);
    assert!(st.config.learners.contains(2));
    n.stop().unwrap();
}

/// The durable recipe over a storage that keeps entries from before its
/// snapshot (a catch-up tail): their conf changes are in the snapshot's
/// `ConfState` already and are not applied a second time.
#[test]
fn reapply_skips_changes_the_snapshot_holds() {
    let (s, applied) = group_with_learner();
    let cs = ConfState {
        voters: vec![1],
        learners: vec![2],
        ..Default::default()
    };
    s.write()
        .unwrap()
        .create_snapshot(applied, Some(cs), bytes::Bytes::new())
        .unwrap();
    assert_eq!(s.read().unwrap().first_index().unwrap(), 1);
    let mut c = Config::new(1);
    c.applied = applied;
    let mut rn = RawNode::new(&c, s.clone(), &test_logger()).unwrap();
    assert_eq!(
        crate::restart::reapply_conf_changes(&mut rn, applied),
        Ok(0)
    );
    let st = rn.status();
    assert_eq!(st.config.voters.incoming().slice(), vec![1]);
    assert_eq!(st.config.learners.slice(), vec![2]);
    // What restart_node does: the same configuration.
    let n = restart_node(&c, s, &test_logger()).unwrap();
    assert_eq!(n.status().config, st.config);
    n.stop().unwrap();
}
