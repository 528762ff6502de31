//! Five raft nodes, each run by `Node` in its own thread, with crossbeam
//! channels as the network: they elect a leader, the leader takes a few
//! proposals, every node commits and applies them, each node's log is
//! printed, and everything stops cleanly.
//!
//! Run with `cargo run -p etcdraft --example five_nodes`.

use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, tick, unbounded, Receiver, Sender};
use etcdraft::config::Config;
use etcdraft::eraftpb::{ConfChange, EntryType, Message};
use etcdraft::node::{start_node, Node};
use etcdraft::raw_node::Peer;
use etcdraft::storage::MemStorage;
use prost::Message as _;

const IDS: [u64; 5] = [1, 2, 3, 4, 5];

/// Prints raft's elections (etcd's texts) to stderr.
struct StderrDrain;

impl slog::Drain for StderrDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, r: &slog::Record<'_>, _: &slog::OwnedKVList) -> Result<(), slog::Never> {
        if r.level().is_at_least(slog::Level::Info) && r.msg().to_string().contains("leader") {
            eprintln!("{} {}", r.level().as_str(), r.msg());
        }
        Ok(())
    }
}

/// One member of the group: the node, its storage (shared with the node
/// thread), and what its state machine applied.
struct Member {
    node: Arc<Node>,
    applied: Arc<Mutex<Vec<String>>>,
    driver: thread::JoinHandle<()>,
}

fn main() -> etcdraft::Result<()> {
    let logger = slog::Logger::root(StderrDrain, slog::o!());
    let peers: Vec<Peer> = IDS
        .iter()
        .map(|&id| Peer {
            id,
            ..Default::default()
        })
        .collect();

    // The network: one inbox per node.
    let inboxes: Vec<(Sender<Message>, Receiver<Message>)> =
        IDS.iter().map(|_| unbounded()).collect();
    let outboxes: Arc<Vec<Sender<Message>>> =
        Arc::new(inboxes.iter().map(|(tx, _)| tx.clone()).collect());
    // Dropping this stops every driver.
    let (stop_tx, stop) = bounded::<()>(0);

    let mut members = Vec::new();
    for (i, &id) in IDS.iter().enumerate() {
        let storage = Arc::new(RwLock::new(MemStorage::new()));
        let node = Arc::new(start_node(
            &Config::new(id),
            storage.clone(),
            &peers,
            &logger,
        )?);
        let applied = Arc::new(Mutex::new(Vec::new()));
        let driver = {
            let (node, applied) = (node.clone(), applied.clone());
            let (inbox, outboxes, stop) = (inboxes[i].1.clone(), outboxes.clone(), stop.clone());
            thread::spawn(move || drive(&node, &storage, &inbox, &outboxes, &applied, &stop))
        };
        members.push(Member {
            node,
            applied,
            driver,
        });
    }
    drop(inboxes);

    let leader = wait_for_leader(&members);
    println!("node {leader} leads");

    let n = 10;
    for i in 1..=n {
        // Blocks until the leader's raft took the proposal.
        members[leader as usize - 1]
            .node
            .propose(format!("put key{i}=value{i}"))?;
    }

    // Wait until every state machine applied every command.
    let deadline = Instant::now() + Duration::from_secs(5);
    while members.iter().any(|m| m.applied.lock().unwrap().len() < n) {
        assert!(Instant::now() < deadline, "commands not applied in time");
        thread::sleep(Duration::from_millis(10));
    }

    for (m, id) in members.iter().zip(IDS) {
        let st = m.node.status();
        println!(
            "node {id} ({}, term {}, commit {}): {:?}",
            st.raft_state(),
            st.term(),
            st.commit(),
            m.applied.lock().unwrap()
        );
    }

    // Stop the drivers, then the nodes (each stop joins the node's thread).
    drop(stop_tx);
    for m in members {
        m.driver.join().expect("driver panicked");
        m.node.stop()?;
    }
    println!("all nodes stopped");
    Ok(())
}

/// Waits until all nodes agree on a leader and returns its id.
fn wait_for_leader(members: &[Member]) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let leads: Vec<u64> = members.iter().map(|m| m.node.status().lead()).collect();
        if leads[0] != 0 && leads.iter().all(|&l| l == leads[0]) {
            return leads[0];
        }
        assert!(Instant::now() < deadline, "no leader elected");
        thread::sleep(Duration::from_millis(10));
    }
}

/// The application loop of one node: tick every 10ms, step what the
/// network delivers, and handle each Ready: persist, send, apply, advance.
fn drive(
    node: &Node,
    storage: &RwLock<MemStorage>,
    inbox: &Receiver<Message>,
    outboxes: &[Sender<Message>],
    applied: &Mutex<Vec<String>>,
    stop: &Receiver<()>,
) {
    let ticker = tick(Duration::from_millis(10));
    loop {
        select! {
            recv(ticker) -> _ => node.tick(),
            recv(inbox) -> m => {
                // One thread steps everything that arrives: `step` never
                // waits for a leader. A proposal forwarded by a follower
                // while this node knows no leader comes back as dropped;
                // its proposer sees it never applied and proposes again.
                let Ok(m) = m else { return };
                match node.step(m) {
                    Ok(()) | Err(etcdraft::Error::ProposalDropped) => {}
                    // Stopped or failed: `stop` in main reports why.
                    Err(_) => return,
                }
            }
            recv(node.ready()) -> rd => {
                let Ok(rd) = rd else { return };
                {
                    let mut s = storage.write().unwrap();
                    if let Some(snap) = rd.snapshot {
                        s.apply_snapshot(snap).expect("apply snapshot");
                    }
                    if let Some(hs) = rd.hard_state {
                        s.set_hard_state(hs).expect("set hard state");
                    }
                    s.append(&rd.entries).expect("append");
                }
                // Persisted: now the messages may go out.
                for m in rd.messages {
                    let to = m.to as usize - 1;
                    let _ = outboxes[to].send(m);
                }
                for e in rd.committed_entries {
                    match e.get_type() {
                        EntryType::EntryNormal if !e.data.is_empty() => applied
                            .lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&e.data).into_owned()),
                        EntryType::EntryConfChange => {
                            // The bootstrap entries that add the five members.
                            let cc = ConfChange::decode(e.data).expect("conf change");
                            node.apply_conf_change(&cc).expect("apply conf change");
                        }
                        _ => {}
                    }
                }
                node.advance();
            }
            recv(stop) -> _ => return,
        }
    }
}
