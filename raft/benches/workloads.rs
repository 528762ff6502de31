//! The comparison workloads of `shared/bench/WORKLOADS.md`, driven through
//! `RawNode` with in-memory storage and in-process delivery, so that what is
//! timed is the library: the state machine, the log and the Ready cycle.
//!
//! ```sh
//! cargo bench -p raft --bench workloads               # both workloads
//! cargo bench -p raft --bench workloads -- replicate-3
//! cargo bench -p raft --bench workloads -- idle-groups
//! WORKLOADS_N=20000 valgrind --tool=callgrind \
//!     --toggle-collect=workloads::replicate_timed <bench binary> replicate-3
//! WORKLOADS_G=1000 WORKLOADS_ROUNDS=20 valgrind --tool=callgrind \
//!     --toggle-collect=workloads::idle_timed <bench binary> idle-groups
//! ```
//!
//! Each workload prints one result line in the format the document fixes.
//! Timings are printed, never asserted.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use raft::config::Config;
use raft::eraftpb::{ConfState, EntryType, Message};
use raft::raw_node::RawNode;
use raft::storage::MemStorage;

const LIBRARY: &str = "raft-etcd-port";

/// One 3-voter group: its nodes (index = id - 1), the FIFO of messages in
/// flight, and how many proposals each node has applied.
struct Group {
    nodes: Vec<RawNode<MemStorage>>,
    queue: VecDeque<Message>,
    applied: [u64; 3],
}

impl Group {
    fn new(logger: &slog::Logger) -> Group {
        let nodes = (1..=3)
            .map(|id| {
                let cs = ConfState {
                    voters: vec![1, 2, 3],
                    ..Default::default()
                };
                let storage = MemStorage::new_with_conf_state(cs);
                let mut cfg = Config::new(id);
                cfg.election_tick = 10;
                cfg.heartbeat_tick = 1;
                cfg.max_size_per_msg = 1 << 20;
                cfg.max_inflight_msgs = 256;
                RawNode::new(&cfg, storage, logger).expect("valid config")
            })
            .collect();
        Group {
            nodes,
            queue: VecDeque::new(),
            applied: [0; 3],
        }
    }

    /// Handles every Ready and delivers every message until the group is
    /// quiet, as the workloads prescribe: persist, queue messages, apply by
    /// counting, advance; then step queued messages into their recipients.
    fn stabilize(&mut self) {
        loop {
            let mut busy = false;
            for i in 0..self.nodes.len() {
                let node = &mut self.nodes[i];
                if !node.has_ready() {
                    continue;
                }
                busy = true;
                let mut rd = node.ready();
                let store = node.mut_store();
                if let Some(snap) = rd.snapshot.take() {
                    store.apply_snapshot(snap).expect("snapshot applies");
                }
                if !rd.entries.is_empty() {
                    store.append(&rd.entries).expect("entries append");
                }
                if let Some(hs) = rd.hard_state {
                    store.set_hard_state(hs).expect("hard state stored");
                }
                self.queue.extend(rd.messages.drain(..));
                self.applied[i] += rd
                    .committed_entries
                    .iter()
                    .filter(|e| e.entry_type == EntryType::EntryNormal as i32 && !e.data.is_empty())
                    .count() as u64;
                node.advance();
            }
            while let Some(m) = self.queue.pop_front() {
                busy = true;
                let to = m.to as usize - 1;
                // A stale or unexpected message is raft's to judge; the
                // workload does not care about the verdict.
                let _ = self.nodes[to].step(m);
            }
            if !busy {
                return;
            }
        }
    }

    /// Elects node 1 and waits until its empty entry is applied everywhere.
    fn elect(&mut self) {
        self.nodes[0].campaign().expect("campaign");
        self.stabilize();
        let lead = self.nodes[0].basic_status().soft_state.lead;
        assert_eq!(lead, 1, "node 1 must lead after the set-up");
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Reads a workload size from the environment (e.g. `WORKLOADS_N=20000` to
/// shorten a run under valgrind), falling back to the document's value.
fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The timed part of replicate-3: `n` proposals in rounds of `b`. A function
/// of its own so that a profiler can count it alone, e.g. with valgrind's
/// `--toggle-collect=workloads::replicate_timed`.
#[inline(never)]
fn replicate_timed(g: &mut Group, n: u64, b: u64, payload: &Bytes) {
    let mut proposed = 0;
    while proposed < n {
        let round = b.min(n - proposed);
        for _ in 0..round {
            g.nodes[0].propose(payload.clone()).expect("leader accepts");
        }
        proposed += round;
        g.stabilize();
    }
}

/// The timed part of idle-groups (see `replicate_timed`).
#[inline(never)]
fn idle_timed(groups: &mut [Group], rounds: usize) {
    for _ in 0..rounds {
        for g in groups.iter_mut() {
            for n in &mut g.nodes {
                n.tick();
            }
            g.stabilize();
        }
    }
}

fn replicate_3(logger: &slog::Logger) {
    let n: u64 = env_or("WORKLOADS_N", 200_000);
    const B: u64 = 64;
    let mut g = Group::new(logger);
    g.elect();
    let payload = Bytes::from(vec![b'x'; 128]);

    let start = Instant::now();
    replicate_timed(&mut g, n, B, &payload);
    let seconds = start.elapsed().as_secs_f64();
    assert!(
        g.applied.iter().all(|&a| a == n),
        "every node applies every proposal: {:?}",
        g.applied
    );
    println!(
        "workload=replicate-3 library={LIBRARY} entries={n} seconds={seconds:.3} entries_per_sec={:.0} peak_rss_kib={}",
        n as f64 / seconds,
        peak_rss_kib()
    );
}

fn idle_groups(logger: &slog::Logger) {
    let g_count = env_or("WORKLOADS_G", 10_000) as usize;
    let rounds = env_or("WORKLOADS_ROUNDS", 100) as usize;
    let mut groups: Vec<Group> = (0..g_count).map(|_| Group::new(logger)).collect();
    for g in &mut groups {
        g.elect();
    }

    let start = Instant::now();
    idle_timed(&mut groups, rounds);
    let seconds = start.elapsed().as_secs_f64();
    let nodes = (g_count * 3) as f64;
    let rss = peak_rss_kib();
    println!(
        "workload=idle-groups library={LIBRARY} entries=0 seconds={seconds:.3} entries_per_sec=0 peak_rss_kib={rss} node_ticks_per_sec={:.0} bytes_per_node={:.0}",
        nodes * rounds as f64 / seconds,
        rss as f64 * 1024.0 / nodes
    );
}

fn main() {
    let logger = slog::Logger::root(slog::Discard, slog::o!());
    // `cargo bench` passes `--bench`; any other argument picks workloads.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    if run("replicate-3") {
        replicate_3(&logger);
    }
    if run("idle-groups") {
        idle_groups(&logger);
    }
}
