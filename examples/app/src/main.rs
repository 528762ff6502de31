//! A replicated key-value store on three raft nodes in one process, written
//! the way an application outside this repository would write it: it uses
//! `etcdraft::prelude` and documented items only.
//!
//! Each member is an [`Node`] (raft in its own thread) with a driver thread
//! that ticks it and handles its Readys (persist, send, apply, advance), a
//! receiver thread that steps incoming messages into it, and a `BTreeMap`
//! as its state machine. Commands are `key=value` strings. The program
//! writes through every member (followers forward to the leader), waits
//! until all three state machines hold every write, checks they are equal,
//! and stops everything. It exits with an error if that does not happen in
//! time.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use etcdraft::prelude::*;

const IDS: [u64; 3] = [1, 2, 3];
const TICK: Duration = Duration::from_millis(10);
const WRITES: usize = 30;

type Kv = Arc<Mutex<BTreeMap<String, String>>>;

/// One member: its node, its state machine and its threads.
struct Member {
    node: Arc<Node>,
    kv: Kv,
    threads: Vec<JoinHandle<Result<(), Error>>>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let logger = default_logger();
    let peers: Vec<Peer> = IDS
        .iter()
        .map(|&id| Peer {
            id,
            ..Default::default()
        })
        .collect();
    // The network: one inbox per node; node `id`'s is at index `id - 1`.
    let (outboxes, inboxes): (Vec<Sender<Message>>, Vec<Receiver<Message>>) =
        IDS.iter().map(|_| mpsc::channel()).unzip();

    let mut members = Vec::new();
    for (&id, inbox) in IDS.iter().zip(inboxes) {
        let storage = Arc::new(RwLock::new(MemStorage::new()));
        let node = Arc::new(start_node(&Config::new(id), storage.clone(), &peers, &logger)?);
        let kv = Kv::default();
        let driver = spawn_driver(node.clone(), storage, outboxes.clone(), kv.clone());
        let receiver = spawn_receiver(node.clone(), inbox);
        members.push(Member {
            node,
            kv,
            threads: vec![driver, receiver],
        });
    }
    drop(outboxes);

    for i in 0..WRITES {
        // Any member takes writes; `propose` waits until a leader is known.
        let member = &members[i % members.len()];
        member.node.propose(format!("key{i}=value{i}"))?;
    }

    let deadline = Instant::now() + Duration::from_secs(60);
    while !members.iter().all(|m| m.kv.lock().unwrap().len() == WRITES) {
        if Instant::now() > deadline {
            return Err("the writes were not applied on every member within 60 s".into());
        }
        thread::sleep(TICK);
    }
    let first = members[0].kv.lock().unwrap().clone();
    for m in &members {
        if *m.kv.lock().unwrap() != first {
            return Err("the members' state machines differ".into());
        }
    }
    let leader = members[0].node.status().basic.lead();
    println!("{} keys on each of {} members; leader {leader}", first.len(), IDS.len());

    for m in &members {
        m.node.stop()?;
    }
    for m in members {
        for t in m.threads {
            t.join().expect("member thread panicked")?;
        }
    }
    Ok(())
}

/// The Ready loop of one member: ticks the node every `TICK`, and handles
/// each Ready in the order raft requires. Ends when the node stops.
fn spawn_driver(
    node: Arc<Node>,
    storage: Arc<RwLock<MemStorage>>,
    outboxes: Vec<Sender<Message>>,
    kv: Kv,
) -> JoinHandle<Result<(), Error>> {
    thread::spawn(move || {
        let mut next_tick = Instant::now() + TICK;
        loop {
            let wait = next_tick.saturating_duration_since(Instant::now());
            let rd = match node.ready().recv_timeout(wait) {
                Ok(rd) => rd,
                Err(e) if e.is_timeout() => {
                    node.tick();
                    next_tick += TICK;
                    continue;
                }
                // The node stopped.
                Err(_) => return Ok(()),
            };
            // 1. Persist.
            {
                let mut store = storage.write().unwrap();
                if let Some(snap) = rd.snapshot.clone() {
                    store.apply_snapshot(snap)?;
                }
                store.append(&rd.entries)?;
                if let Some(hs) = rd.hard_state {
                    store.set_hard_state(hs)?;
                }
            }
            // 2. Send. A peer that is gone is reported as unreachable.
            for m in rd.messages {
                let to = m.to;
                if outboxes[to as usize - 1].send(m).is_err() {
                    node.report_unreachable(to);
                }
            }
            // 3. Apply.
            for e in rd.committed_entries {
                match e.get_type() {
                    EntryType::EntryConfChange => {
                        node.apply_conf_change(&ConfChange::decode(e.data)?)?;
                    }
                    EntryType::EntryConfChangeV2 => {
                        node.apply_conf_change(&ConfChangeV2::decode(e.data)?)?;
                    }
                    EntryType::EntryNormal => {
                        let cmd = String::from_utf8_lossy(&e.data);
                        if let Some((k, v)) = cmd.split_once('=') {
                            kv.lock().unwrap().insert(k.to_owned(), v.to_owned());
                        }
                    }
                }
            }
            // 4. Advance.
            node.advance();
        }
    })
}

/// Steps every message that arrives for this member into its node. Ends
/// when every sender is gone or the node stopped.
fn spawn_receiver(node: Arc<Node>, inbox: Receiver<Message>) -> JoinHandle<Result<(), Error>> {
    thread::spawn(move || {
        for m in inbox {
            match node.step(m) {
                Ok(()) => {}
                Err(Error::Stopped) => return Ok(()),
                // A message raft refuses is dropped, as a network would.
                Err(_) => {}
            }
        }
        Ok(())
    })
}
