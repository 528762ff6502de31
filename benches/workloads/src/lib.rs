//! The workloads of `benches/WORKLOADS.md`, written once against the
//! [`Library`] trait so that every raft library compared runs exactly the
//! same driver code: the same loops, the same queue, the same counting.
//! An adapter per library (ours in [`ours`], tikv's raft-rs in
//! `benches/compare`) only translates between the driver and its API.
//!
//! [`run`] runs workloads by name and prints their result lines.

use std::collections::VecDeque;
use std::time::Instant;

pub mod ours;

/// The raft options every node of every workload has (benches/WORKLOADS.md),
/// in one place so that both adapters configure the same thing. Pre-vote
/// and check-quorum are off; everything else is the library's default,
/// except append batching, which `WORKLOADS_BATCH_APPEND` decides.
pub mod options {
    /// Ticks before a follower campaigns.
    pub const ELECTION_TICK: usize = 10;
    /// Ticks between heartbeats.
    pub const HEARTBEAT_TICK: usize = 1;
    /// Largest entry bytes per append message: 1 MiB.
    pub const MAX_SIZE_PER_MSG: u64 = 1 << 20;
    /// Most append messages in flight per follower.
    pub const MAX_INFLIGHT_MSGS: usize = 256;
}

/// What the driver needs of a raft library. Implementations drive the
/// library the way its own documentation recommends; the driver never
/// looks inside a message or a node.
pub trait Library {
    /// The name in the `library=` field of result lines.
    const NAME: &'static str;
    /// One raft node with its in-memory storage.
    type Node;
    /// A message between nodes.
    type Message;
    /// Whether the library can batch appends (`WORKLOADS_BATCH_APPEND=1`).
    const BATCH_APPEND: bool;

    /// A node with id `id` in a group of `voters` (ids 1..=voters),
    /// configured as the workloads prescribe; `batch_append` turns on the
    /// library's append batching.
    fn new_node(id: u64, voters: u64, batch_append: bool) -> Self::Node;
    /// Makes `node` campaign to lead.
    fn campaign(node: &mut Self::Node);
    /// Proposes `payload` on `node`, which must accept it.
    fn propose(node: &mut Self::Node, payload: Vec<u8>);
    /// Advances `node`'s logical clock by one tick.
    fn tick(node: &mut Self::Node);
    /// The leader `node` knows of (0 for none).
    fn leader(node: &Self::Node) -> u64;
    /// If `node` has a Ready, handles it as the workloads prescribe:
    /// persists entries, hard state and snapshot, appends messages to
    /// `out`, applies committed entries into `applied`, and advances.
    /// Returns whether there was a Ready.
    fn handle_ready(
        node: &mut Self::Node,
        out: &mut Queue<Self::Message>,
        applied: &mut Applied,
    ) -> bool;
    /// Steps every message of `batch`, in order, into its recipient
    /// (`nodes[id - 1]`; see [`recipient`]), the way the library lets an
    /// application hand it received messages. Refusals (a stale message,
    /// say) are the library's business and ignored.
    fn deliver(nodes: &mut [Self::Node], batch: Vec<Self::Message>);
}

/// The node with id `to` among `nodes` (ids 1, 2, ...). Panics on another
/// id: the driver made every node, so a message to any other is a bug.
#[inline]
pub fn recipient<'a, N>(nodes: &'a mut [N], to: u64, library: &str) -> &'a mut N {
    let i = (to as usize).wrapping_sub(1);
    match nodes.get_mut(i) {
        Some(node) => node,
        None => panic!("{library}: message to unknown node {to}"),
    }
}

/// The one FIFO of messages in flight. It holds the message vectors of
/// the Readies as they were handed over, oldest first, and delivers their
/// messages in that order: the same order as a queue of single messages,
/// without moving each 100-odd-byte message twice more on the way.
pub struct Queue<M> {
    batches: VecDeque<Vec<M>>,
}

impl<M> Queue<M> {
    /// An empty queue.
    pub fn new() -> Queue<M> {
        Queue {
            batches: VecDeque::new(),
        }
    }

    /// Puts `msgs` at the back, in their order.
    #[inline]
    pub fn push(&mut self, msgs: Vec<M>) {
        if !msgs.is_empty() {
            self.batches.push_back(msgs);
        }
    }

    /// Whether no message is queued.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Takes the oldest messages handed over together.
    #[inline]
    fn pop_batch(&mut self) -> Option<Vec<M>> {
        self.batches.pop_front()
    }
}

impl<M> Default for Queue<M> {
    fn default() -> Queue<M> {
        Queue::new()
    }
}

/// What a node's application has applied: entries and payload bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Committed entries handed to the application.
    pub entries: u64,
    /// The sum of their payload lengths.
    pub bytes: u64,
}

impl Applied {
    /// Counts one applied entry whose payload is `len` bytes long.
    #[inline]
    pub fn entry(&mut self, len: usize) {
        self.entries += 1;
        self.bytes += len as u64;
    }
}

/// The parameters of `benches/WORKLOADS.md`, from the environment.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// `WORKLOADS_N`.
    pub n: u64,
    /// `WORKLOADS_VOTERS`.
    pub voters: u64,
    /// `WORKLOADS_PAYLOAD`.
    pub payload: usize,
    /// `WORKLOADS_BATCH`.
    pub batch: u64,
    /// `WORKLOADS_BATCH_APPEND`.
    pub batch_append: bool,
    /// `WORKLOADS_G`.
    pub groups: usize,
    /// `WORKLOADS_ROUNDS`.
    pub rounds: u64,
}

/// A variable of the environment as a number; `Ok(None)` when unset. A
/// value that is no number is an error, not the default: a benchmark run
/// silently with other parameters would report the wrong thing.
fn env_num(name: &str) -> Result<Option<u64>, RunError> {
    let Ok(v) = std::env::var(name) else {
        return Ok(None);
    };
    v.trim().parse().map(Some).map_err(|_| {
        RunError::BadParameter(format!("{name}={v:?}: expected a non-negative integer"))
    })
}

impl Params {
    /// The parameters of workload `name`: its own values, overridden by any
    /// variable set in the environment.
    pub fn for_workload(name: &str) -> Result<Params, RunError> {
        let voters = match name {
            "replicate-5" => 5,
            "replicate-7" => 7,
            _ => 3,
        };
        let groups = if name == "idle-groups-100k" {
            100_000
        } else {
            10_000
        };
        let p = Params {
            n: env_num("WORKLOADS_N")?.unwrap_or(200_000),
            voters: env_num("WORKLOADS_VOTERS")?.unwrap_or(voters),
            payload: env_num("WORKLOADS_PAYLOAD")?.unwrap_or(128) as usize,
            batch: env_num("WORKLOADS_BATCH")?.unwrap_or(64),
            batch_append: env_num("WORKLOADS_BATCH_APPEND")?.unwrap_or(0) == 1,
            groups: env_num("WORKLOADS_G")?.map_or(groups, |g| g as usize),
            rounds: env_num("WORKLOADS_ROUNDS")?.unwrap_or(100),
        };
        if p.voters == 0 || p.batch == 0 {
            return Err(RunError::BadParameter(format!(
                "WORKLOADS_VOTERS={} and WORKLOADS_BATCH={}: both must be positive",
                p.voters, p.batch
            )));
        }
        Ok(p)
    }
}

/// Every workload name, in the order `run` runs them when given none.
pub const WORKLOADS: &[&str] = &[
    "replicate-3",
    "replicate-5",
    "replicate-7",
    "replicate-3-payload",
    "idle-groups",
    "idle-groups-100k",
];

/// A group of voters, their applied counters, and nothing else: the
/// message queue is shared by all groups (they are drained one at a time),
/// so an idle group costs only its nodes.
pub struct Group<L: Library> {
    nodes: Vec<L::Node>,
    applied: Vec<Applied>,
}

impl<L: Library> Group<L> {
    /// `voters` freshly started nodes.
    pub fn new(voters: u64, batch_append: bool) -> Group<L> {
        Group {
            nodes: (1..=voters)
                .map(|id| L::new_node(id, voters, batch_append))
                .collect(),
            applied: vec![Applied::default(); voters as usize],
        }
    }

    /// Handles every Ready and steps every queued message until no node
    /// has a Ready and the queue is empty.
    pub fn drain(&mut self, queue: &mut Queue<L::Message>) {
        loop {
            let mut busy = false;
            for (node, applied) in self.nodes.iter_mut().zip(self.applied.iter_mut()) {
                busy |= L::handle_ready(node, queue, applied);
            }
            if queue.is_empty() && !busy {
                return;
            }
            while let Some(batch) = queue.pop_batch() {
                L::deliver(&mut self.nodes, batch);
            }
        }
    }

    /// The untimed set-up: node 1 campaigns and the group is drained; node
    /// 1 must then lead. Applied counters restart at zero.
    pub fn elect(&mut self, queue: &mut Queue<L::Message>) {
        L::campaign(&mut self.nodes[0]);
        self.drain(queue);
        for (i, node) in self.nodes.iter().enumerate() {
            let lead = L::leader(node);
            assert_eq!(lead, 1, "{}: node {} sees leader {lead}", L::NAME, i + 1);
        }
        self.applied.fill(Applied::default());
    }

    /// What each node has applied since the set-up.
    pub fn applied(&self) -> &[Applied] {
        &self.applied
    }
}

/// The timed part of the replicate workloads: `p.n` proposals on node 1,
/// `p.batch` at a time, each with a payload allocated for it, draining the
/// group after each batch. A function of its own (never inlined) so that
/// callgrind can count it alone: `--toggle-collect='*replicate_timed*'`.
#[inline(never)]
pub fn replicate_timed<L: Library>(g: &mut Group<L>, queue: &mut Queue<L::Message>, p: &Params) {
    let mut proposed = 0u64;
    while proposed < p.n {
        let round = p.batch.min(p.n - proposed);
        for i in proposed..proposed + round {
            // The proposal's number, truncated to a byte, fills its payload.
            L::propose(&mut g.nodes[0], vec![i as u8; p.payload]);
        }
        proposed += round;
        g.drain(queue);
    }
}

/// The timed part of the idle workloads (see [`replicate_timed`]).
#[inline(never)]
pub fn idle_timed<L: Library>(groups: &mut [Group<L>], queue: &mut Queue<L::Message>, rounds: u64) {
    for _ in 0..rounds {
        for g in groups.iter_mut() {
            for node in &mut g.nodes {
                L::tick(node);
            }
            g.drain(queue);
        }
    }
}

/// The process's peak resident size in KiB (`VmHWM`), 0 where unknown.
pub fn peak_rss_kib() -> u64 {
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

/// Why a workload run failed its check.
#[derive(Debug)]
pub struct CheckFailed(pub String);

impl std::fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckFailed {}

/// Runs one replicate workload and returns its result line, or what the
/// applied-entries check found wrong. `payload_field` adds `payload=` (for
/// `replicate-3-payload`).
pub fn replicate<L: Library>(
    name: &str,
    p: &Params,
    payload_field: bool,
) -> Result<String, CheckFailed> {
    let mut queue = Queue::new();
    let mut g = Group::<L>::new(p.voters, p.batch_append);
    g.elect(&mut queue);

    let start = Instant::now();
    replicate_timed(&mut g, &mut queue, p);
    let seconds = start.elapsed().as_secs_f64();

    let want = Applied {
        entries: p.n,
        bytes: p.n * p.payload as u64,
    };
    for (i, a) in g.applied().iter().enumerate() {
        if *a != want {
            return Err(CheckFailed(format!(
                "workload={name} library={}: node {} applied {} entries of {} bytes, expected {} entries of {} bytes",
                L::NAME,
                i + 1,
                a.entries,
                a.bytes,
                want.entries,
                want.bytes
            )));
        }
    }
    let payload = if payload_field {
        format!(" payload={}", p.payload)
    } else {
        String::new()
    };
    Ok(format!(
        "workload={name} library={}{payload} entries={} seconds={seconds:.3} entries_per_sec={:.0} peak_rss_kib={}",
        L::NAME,
        p.n,
        p.n as f64 / seconds,
        peak_rss_kib()
    ))
}

/// Runs one idle workload and returns its result line.
pub fn idle<L: Library>(name: &str, p: &Params) -> String {
    let mut queue = Queue::new();
    let mut groups: Vec<Group<L>> = (0..p.groups)
        .map(|_| Group::new(3, p.batch_append))
        .collect();
    for g in &mut groups {
        g.elect(&mut queue);
    }

    let start = Instant::now();
    idle_timed(&mut groups, &mut queue, p.rounds);
    let seconds = start.elapsed().as_secs_f64();

    let nodes = 3.0 * p.groups as f64;
    let rss = peak_rss_kib();
    format!(
        "workload={name} library={} entries=0 seconds={seconds:.3} node_ticks_per_sec={:.0} bytes_per_node={:.0} peak_rss_kib={rss}",
        L::NAME,
        nodes * p.rounds as f64 / seconds,
        rss as f64 * 1024.0 / nodes
    )
}

/// Why `run` could not run a workload.
#[derive(Debug)]
pub enum RunError {
    /// A name that is not in [`WORKLOADS`].
    UnknownWorkload(String),
    /// A run whose check failed.
    Check(CheckFailed),
    /// A parameter variable that is set to something unusable.
    BadParameter(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::UnknownWorkload(w) => write!(
                f,
                "unknown workload {w:?}; expected one of {}",
                WORKLOADS.join(", ")
            ),
            RunError::Check(c) => c.fmt(f),
            RunError::BadParameter(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for RunError {}

/// The payload sizes `replicate-3-payload` sweeps.
pub const PAYLOAD_SWEEP: [usize; 4] = [16, 128, 1024, 16384];

/// Runs workload `name` with library `L`, printing each result line as soon
/// as it is known.
pub fn run<L: Library>(name: &str) -> Result<(), RunError> {
    let p = Params::for_workload(name)?;
    if p.batch_append && !L::BATCH_APPEND {
        return Err(RunError::BadParameter(format!(
            "WORKLOADS_BATCH_APPEND=1: {} has no append batching",
            L::NAME
        )));
    }
    match name {
        "replicate-3" | "replicate-5" | "replicate-7" => {
            println!(
                "{}",
                replicate::<L>(name, &p, false).map_err(RunError::Check)?
            );
        }
        "replicate-3-payload" => {
            let sizes = match env_num("WORKLOADS_PAYLOAD")? {
                Some(size) => vec![size as usize],
                None => PAYLOAD_SWEEP.to_vec(),
            };
            for payload in sizes {
                let n = env_num("WORKLOADS_N")?
                    .unwrap_or_else(|| (200_000 * 128 / payload.max(1) as u64).max(10_000));
                let p = Params { n, payload, ..p };
                println!(
                    "{}",
                    replicate::<L>(name, &p, true).map_err(RunError::Check)?
                );
            }
        }
        "idle-groups" | "idle-groups-100k" => println!("{}", idle::<L>(name, &p)),
        other => return Err(RunError::UnknownWorkload(other.to_string())),
    }
    Ok(())
}
