//! A stress test of the threaded `Node`, driven as etcd's raftexample
//! drives it: per member one application thread that ticks, steps what the
//! network delivers (forwarded proposals included) and handles Readys
//! (persist, send, apply, advance); clients proposing on every member; and
//! a chaos thread that drops messages, partitions members, crashes and
//! restarts them (with a durable or a volatile state machine), removes and
//! re-adds them, and transfers leadership. Members snapshot and compact
//! their logs as they go, so lagging and re-added members catch up through
//! snapshots, and restarts start from them.
//!
//! It checks: no panic and no failed node; no call blocked past its
//! deadline (a watchdog looks at every call in flight); entries applied in
//! order without gaps; at the end, with the network healed and every member
//! back, identical applied sequences on all members, and every proposal a
//! client saw applied is in them, once.
//!
//! It runs for `NODE_STRESS_SECS` seconds of chaos (60 by default, which
//! CI runs); `NODE_STRESS_SEED` replays a seed (printed on failure).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::{after, bounded, select, tick, unbounded, Receiver, Sender};
use etcdraft::eraftpb::{
    ConfChange, ConfChangeI, ConfChangeType, ConfChangeV2, ConfState, EntryType, Message,
    MessageType, Snapshot,
};
use etcdraft::node::{restart_node, start_node, Context, Node};
use etcdraft::{Config, Error, MemStorage, Peer, SnapshotStatus, StateRole, Storage};
use prost::Message as _;

const IDS: [u64; 5] = [1, 2, 3, 4, 5];

/// The application's clock: an election after 10 to 20 ticks, 200 to 400
/// ms, leaves room for a machine busy with parallel builds.
const TICK: Duration = Duration::from_millis(20);

/// The deadline of a proposal or a step (their contexts).
const CALL_DEADLINE: Duration = Duration::from_secs(1);

/// How long past its deadline (or, for a call without one, at all) a call
/// may take before the watchdog calls it blocked: threads of a loaded
/// 2-core machine can wait that long for a core.
const GRACE: Duration = Duration::from_secs(10);

/// How long the end phase waits for the group to converge.
const CONVERGE: Duration = Duration::from_secs(60);

type Shared = Arc<RwLock<MemStorage>>;

/// A small deterministic generator (xorshift64*), one per thread.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// What went wrong anywhere; the test fails at the end if anything did.
#[derive(Default)]
struct Failures(Mutex<Vec<String>>);

impl Failures {
    fn add(&self, what: String) {
        eprintln!("FAILURE: {what}");
        self.0.lock().unwrap().push(what);
    }
    fn list(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// The call a thread is in, with its deadline, for the watchdog.
struct Watch {
    thread: String,
    call: Mutex<Option<(&'static str, Instant)>>,
}

/// Every thread's watch.
#[derive(Default)]
struct Watches(Mutex<Vec<Arc<Watch>>>);

impl Watches {
    fn new_watch(&self, thread: String) -> Arc<Watch> {
        let w = Arc::new(Watch {
            thread,
            call: Mutex::new(None),
        });
        self.0.lock().unwrap().push(w.clone());
        w
    }

    /// The calls past their deadline.
    fn overdue(&self, now: Instant) -> Vec<String> {
        let mut out = Vec::new();
        for w in self.0.lock().unwrap().iter() {
            if let Some((call, deadline)) = *w.call.lock().unwrap() {
                if now > deadline {
                    out.push(format!("{}: {call} blocked past its deadline", w.thread));
                }
            }
        }
        out
    }
}

impl Watch {
    /// Runs the call `what`, which must return within `limit`.
    fn call<T>(&self, what: &'static str, limit: Duration, f: impl FnOnce() -> T) -> T {
        *self.call.lock().unwrap() = Some((what, Instant::now() + limit));
        let r = f();
        *self.call.lock().unwrap() = None;
        r
    }
}

/// The network: per-member inboxes, a drop rate, and at most one member
/// cut off from the others.
struct Net {
    state: Mutex<NetState>,
}

struct NetState {
    rng: Rng,
    drop_per_mille: u64,
    isolated: Option<u64>,
    inboxes: HashMap<u64, Sender<Message>>,
}

impl Net {
    /// Delivers `m` unless the network loses it; says which.
    fn send(&self, m: Message) -> bool {
        let mut st = self.state.lock().unwrap();
        if st.isolated == Some(m.from) || st.isolated == Some(m.to) {
            return false;
        }
        let drop = st.drop_per_mille;
        if drop > 0 && st.rng.below(1000) < drop {
            return false;
        }
        match st.inboxes.get(&m.to) {
            Some(tx) => tx.send(m).is_ok(),
            None => false,
        }
    }

    fn attach(&self, id: u64) -> Receiver<Message> {
        let (tx, rx) = unbounded();
        self.state.lock().unwrap().inboxes.insert(id, tx);
        rx
    }

    fn detach(&self, id: u64) {
        self.state.lock().unwrap().inboxes.remove(&id);
    }
}

/// A member's state machine: the normal entries it applied, in order.
#[derive(Default)]
struct Sm {
    state: Mutex<SmState>,
    changed: Condvar,
}

#[derive(Default)]
struct SmState {
    applied: u64,
    log: Vec<(u64, Bytes)>,
    seen: HashSet<Bytes>,
    /// The configuration as of `applied`, for snapshots.
    conf_state: ConfState,
}

impl SmState {
    /// The state machine as snapshot data: each command with its index.
    fn encode(&self) -> Bytes {
        let mut out = Vec::new();
        for (i, d) in &self.log {
            out.extend_from_slice(&i.to_le_bytes());
            out.extend_from_slice(&(d.len() as u32).to_le_bytes());
            out.extend_from_slice(d);
        }
        Bytes::from(out)
    }

    /// The state machine of a snapshot.
    fn restore(snap: &Snapshot) -> SmState {
        let mut st = SmState {
            applied: snap.metadata.index,
            conf_state: snap.metadata.conf_state.clone(),
            ..Default::default()
        };
        let mut b = &snap.data[..];
        while !b.is_empty() {
            let i = u64::from_le_bytes(b[..8].try_into().unwrap());
            let n = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
            let d = snap.data.slice_ref(&b[12..12 + n]);
            st.seen.insert(d.clone());
            st.log.push((i, d));
            b = &b[12 + n..];
        }
        st
    }
}

/// A member snapshots every this many applied entries, and keeps this many
/// entries before its snapshot for followers that lag a little.
const SNAPSHOT_EVERY: u64 = 100;
const CATCH_UP: u64 = 5;

impl Sm {
    /// Waits until `data` is applied, or `timeout` passed.
    fn wait_applied(&self, data: &Bytes, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.state.lock().unwrap();
        while !st.seen.contains(data) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self.changed.wait_timeout(st, deadline - now).unwrap().0;
        }
        true
    }
}

/// A running member: its node, and the application thread driving it.
struct Running {
    node: Arc<Node>,
    stop: Sender<()>,
    driver: JoinHandle<()>,
    driver_done: Receiver<()>,
}

struct Member {
    id: u64,
    storage: Shared,
    sm: Arc<Sm>,
    run: Mutex<Option<Running>>,
}

struct Cluster {
    members: Vec<Member>,
    net: Arc<Net>,
    failures: Arc<Failures>,
    watches: Arc<Watches>,
    incarnation: AtomicU64,
    snapshots_taken: AtomicU64,
    snapshots_received: AtomicU64,
}

fn config(id: u64, applied: u64) -> Config {
    Config {
        id,
        election_tick: 10,
        heartbeat_tick: 1,
        applied,
        max_size_per_msg: 1 << 20,
        max_inflight_msgs: 256,
        check_quorum: true,
        pre_vote: true,
        // A removed leader hands over instead of leading on and dropping
        // every proposal (see the field's docs).
        step_down_on_removal: true,
        ..Default::default()
    }
}

fn logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

impl Cluster {
    fn member(&self, id: u64) -> &Member {
        &self.members[id as usize - 1]
    }

    fn node(&self, id: u64) -> Option<Arc<Node>> {
        self.member(id)
            .run
            .lock()
            .unwrap()
            .as_ref()
            .map(|r| r.node.clone())
    }

    /// Starts (`fresh`) or restarts member `id` and its application thread.
    fn start(self: &Arc<Self>, id: u64, fresh: bool, durable: bool) {
        let m = self.member(id);
        let node = if fresh {
            let peers: Vec<Peer> = IDS
                .iter()
                .map(|&id| Peer {
                    id,
                    ..Default::default()
                })
                .collect();
            start_node(&config(id, 0), m.storage.clone(), &peers, &logger())
        } else {
            // The restart recipe: a durable state machine restarts at what
            // it applied; a volatile one starts over from the snapshot and
            // is handed every entry after it again.
            let applied = if durable {
                m.sm.state.lock().unwrap().applied
            } else {
                let snap = m.storage.read().unwrap().snapshot().unwrap();
                let st = SmState::restore(&snap);
                let applied = st.applied;
                *m.sm.state.lock().unwrap() = st;
                applied
            };
            restart_node(&config(id, applied), m.storage.clone(), &logger())
        };
        let node = Arc::new(node.unwrap_or_else(|e| panic!("starting {id}: {e}")));
        let inbox = self.net.attach(id);
        let (stop, stopped) = bounded::<()>(0);
        let (done_tx, driver_done) = bounded::<()>(0);
        let n = self.incarnation.fetch_add(1, Ordering::Relaxed);
        let watch = self.watches.new_watch(format!("member {id} (#{n})"));
        let c = self.clone();
        let node2 = node.clone();
        let driver = thread::spawn(move || {
            let _done = done_tx;
            c.drive(id, &node2, &inbox, &stopped, &watch);
        });
        *m.run.lock().unwrap() = Some(Running {
            node,
            stop,
            driver,
            driver_done,
        });
    }

    /// Crashes member `id`: its application thread and node stop; what it
    /// persisted stays.
    fn crash(&self, id: u64, watch: &Watch) {
        let Some(r) = self.member(id).run.lock().unwrap().take() else {
            return;
        };
        self.net.detach(id);
        drop(r.stop);
        select! {
            recv(r.driver_done) -> _ => {}
            recv(after(GRACE)) -> _ => {
                self.failures.add(format!("member {id}'s application thread did not stop"));
                return;
            }
        }
        if r.driver.join().is_err() {
            self.failures
                .add(format!("member {id}'s application thread panicked"));
        }
        if let Err(e) = watch.call("stop", GRACE, || r.node.stop()) {
            self.failures.add(format!("member {id} failed: {e}"));
        }
    }

    /// The application thread of a member: tick, step, handle Readys.
    fn drive(
        &self,
        id: u64,
        node: &Node,
        inbox: &Receiver<Message>,
        stop: &Receiver<()>,
        w: &Watch,
    ) {
        let m = self.member(id);
        let ticker = tick(TICK);
        loop {
            select! {
                recv(ticker) -> _ => node.tick(),
                recv(inbox) -> msg => {
                    let Ok(msg) = msg else { return };
                    // One thread steps everything, forwarded proposals too.
                    let ctx = Context::with_timeout(CALL_DEADLINE);
                    match w.call("step", CALL_DEADLINE + GRACE, || node.step_ctx(&ctx, msg)) {
                        Ok(()) | Err(Error::ProposalDropped) => {}
                        Err(e) => {
                            self.failures.add(format!("member {id}: step: {e}"));
                            return;
                        }
                    }
                }
                recv(node.ready()) -> rd => {
                    let Ok(rd) = rd else {
                        if let Some(e) = node.failure() {
                            self.failures.add(format!("member {id} failed: {e}"));
                        }
                        return;
                    };
                    {
                        let mut s = m.storage.write().unwrap();
                        if let Some(snap) = &rd.snapshot {
                            s.apply_snapshot(snap.clone()).unwrap();
                        }
                        if let Some(hs) = rd.hard_state {
                            s.set_hard_state(hs).unwrap();
                        }
                        s.append(&rd.entries).unwrap();
                    }
                    if let Some(snap) = &rd.snapshot {
                        *m.sm.state.lock().unwrap() = SmState::restore(snap);
                        self.snapshots_received.fetch_add(1, Ordering::Relaxed);
                    }
                    for msg in rd.messages {
                        let (to, snap) = (msg.to, msg.get_type() == MessageType::MsgSnap);
                        let delivered = self.net.send(msg);
                        if snap {
                            // A lost snapshot must be reported, or the leader
                            // waits for its answer for good.
                            let status = if delivered {
                                SnapshotStatus::Finish
                            } else {
                                SnapshotStatus::Failure
                            };
                            w.call("report_snapshot", GRACE, || node.report_snapshot(to, status));
                        }
                    }
                    for e in &rd.committed_entries {
                        let cc = match e.get_type() {
                            EntryType::EntryNormal => None,
                            EntryType::EntryConfChange => {
                                Some(ConfChange::decode(e.data.clone()).unwrap().as_v2())
                            }
                            EntryType::EntryConfChangeV2 => {
                                Some(ConfChangeV2::decode(e.data.clone()).unwrap())
                            }
                        };
                        if let Some(cc) = cc {
                            match w.call("apply_conf_change", GRACE, || node.apply_conf_change(&cc)) {
                                Ok(cs) => m.sm.state.lock().unwrap().conf_state = cs,
                                Err(Error::Stopped) => return,
                                Err(e) => self.failures.add(format!("member {id}: apply_conf_change: {e}")),
                            }
                        }
                        let mut st = m.sm.state.lock().unwrap();
                        if e.index != st.applied + 1 {
                            self.failures.add(format!(
                                "member {id} applied {} after {}", e.index, st.applied
                            ));
                        }
                        st.applied = e.index;
                        if e.get_type() == EntryType::EntryNormal && !e.data.is_empty() {
                            st.log.push((e.index, e.data.clone()));
                            st.seen.insert(e.data.clone());
                        }
                    }
                    m.sm.changed.notify_all();
                    self.snapshot_if_due(m);
                    w.call("advance", GRACE, || node.advance());
                }
                recv(stop) -> _ => return,
            }
        }
    }

    /// Snapshots the state machine every [`SNAPSHOT_EVERY`] entries and
    /// compacts the log up to [`CATCH_UP`] entries before the snapshot.
    fn snapshot_if_due(&self, m: &Member) {
        let st = m.sm.state.lock().unwrap();
        let mut s = m.storage.write().unwrap();
        let last = s.snapshot().unwrap().metadata.index;
        if st.applied < last + SNAPSHOT_EVERY {
            return;
        }
        s.create_snapshot(st.applied, Some(st.conf_state.clone()), st.encode())
            .unwrap();
        self.snapshots_taken.fetch_add(1, Ordering::Relaxed);
        let compact = st.applied - CATCH_UP;
        if compact >= s.first_index().unwrap() {
            s.compact(compact).unwrap();
        }
    }

    /// The member that leads at the highest term, by the members' own word.
    fn leader(&self, w: &Watch) -> Option<u64> {
        let mut best: Option<(u64, u64)> = None;
        for &id in &IDS {
            let Some(n) = self.node(id) else { continue };
            let st = w.call("status", GRACE, || n.status());
            if st.raft_state() == StateRole::Leader && best.is_none_or(|(t, _)| st.term() > t) {
                best = Some((st.term(), id));
            }
        }
        best.map(|(_, id)| id)
    }

    /// Whether the leader's configuration has `id` as a voter.
    fn is_voter(&self, id: u64, w: &Watch) -> Option<bool> {
        let lead = self.leader(w)?;
        let n = self.node(lead)?;
        let st = w.call("status", GRACE, || n.status());
        Some(st.config.voters.contains(id))
    }

    /// Proposes the change through the leader until the leader's
    /// configuration shows it, or `timeout` passed.
    fn change_membership(&self, t: ConfChangeType, id: u64, timeout: Duration, w: &Watch) -> bool {
        let want = t == ConfChangeType::ConfChangeAddNode;
        let deadline = Instant::now() + timeout;
        let cc = ConfChange {
            change_type: t as i32,
            node_id: id,
            ..Default::default()
        };
        while Instant::now() < deadline {
            if self.is_voter(id, w) == Some(want) {
                return true;
            }
            if let Some(n) = self.leader(w).and_then(|l| self.node(l)) {
                let ctx = Context::with_timeout(CALL_DEADLINE);
                let _ = w.call("propose_conf_change", CALL_DEADLINE + GRACE, || {
                    n.propose_conf_change_ctx(&ctx, &cc)
                });
            }
            // Wait for the change to commit and apply, then look again.
            let wait_until = Instant::now() + Duration::from_millis(500);
            while Instant::now() < wait_until && self.is_voter(id, w) != Some(want) {
                let _ = after(Duration::from_millis(20)).recv();
            }
        }
        self.is_voter(id, w) == Some(want)
    }
}

/// A client: proposes unique commands through random members and waits
/// for each to be applied there (or gives up on it: proposals can be
/// lost). Returns the commands it saw applied.
fn client(c: Arc<Cluster>, k: u64, seed: u64, stop: Arc<AtomicBool>, w: Arc<Watch>) -> Vec<Bytes> {
    let mut rng = Rng::new(seed);
    let mut confirmed = Vec::new();
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let id = rng.pick(&IDS);
        let Some(n) = c.node(id) else {
            let _ = after(Duration::from_millis(10)).recv();
            continue;
        };
        seq += 1;
        let data = Bytes::from(format!("c{k}-{seq}"));
        let ctx = Context::with_timeout(CALL_DEADLINE);
        let res = w.call("propose", CALL_DEADLINE + GRACE, || {
            n.propose_ctx(&ctx, data.clone())
        });
        match res {
            Ok(()) => {
                if c.member(id).sm.wait_applied(&data, Duration::from_secs(1)) {
                    confirmed.push(data);
                }
            }
            // No leader known in time, dropped, or the member crashed.
            Err(Error::DeadlineExceeded | Error::ProposalDropped | Error::Stopped) => {}
            Err(e) => c.failures.add(format!("client {k}: propose on {id}: {e}")),
        }
    }
    confirmed
}

#[derive(Default, Debug)]
struct Counts {
    partitions: u32,
    crashes: u32,
    volatile_restarts: u32,
    removals: u32,
    readds: u32,
    transfers: u32,
}

#[test]
fn node_under_chaos() {
    let secs: u64 = std::env::var("NODE_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("NODE_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("node_under_chaos: NODE_STRESS_SEED={seed}, {secs} s");

    let failures = Arc::new(Failures::default());
    let watches = Arc::new(Watches::default());
    let c = Arc::new(Cluster {
        members: IDS
            .iter()
            .map(|&id| Member {
                id,
                storage: Arc::new(RwLock::new(MemStorage::new())),
                sm: Arc::new(Sm::default()),
                run: Mutex::new(None),
            })
            .collect(),
        net: Arc::new(Net {
            state: Mutex::new(NetState {
                rng: Rng::new(seed ^ 0x5eed),
                drop_per_mille: 0,
                isolated: None,
                inboxes: HashMap::new(),
            }),
        }),
        failures: failures.clone(),
        watches: watches.clone(),
        incarnation: AtomicU64::new(0),
        snapshots_taken: AtomicU64::new(0),
        snapshots_received: AtomicU64::new(0),
    });
    for &id in &IDS {
        c.start(id, true, true);
    }

    // The watchdog: every call in flight is checked against its deadline.
    let watching = Arc::new(AtomicBool::new(true));
    let watchdog = {
        let (watches, failures, watching) = (watches.clone(), failures.clone(), watching.clone());
        thread::spawn(move || {
            let mut reported = HashSet::new();
            while watching.load(Ordering::Relaxed) {
                for o in watches.overdue(Instant::now()) {
                    if reported.insert(o.clone()) {
                        failures.add(o);
                    }
                }
                let _ = after(Duration::from_millis(50)).recv();
            }
        })
    };

    let stop_clients = Arc::new(AtomicBool::new(false));
    let clients: Vec<(JoinHandle<Vec<Bytes>>, Receiver<()>)> = (0..3u64)
        .map(|k| {
            let (c, stop) = (c.clone(), stop_clients.clone());
            let w = watches.new_watch(format!("client {k}"));
            let (done_tx, done) = bounded::<()>(0);
            let h = thread::spawn(move || {
                let _done = done_tx;
                client(c, k, seed.wrapping_add(k + 1), stop, w)
            });
            (h, done)
        })
        .collect();

    // Chaos, one disruption at a time, so that a quorum can make progress
    // between them; the drop rate changes throughout.
    let w = watches.new_watch("chaos".to_owned());
    let mut rng = Rng::new(seed.wrapping_mul(31));
    let mut counts = Counts::default();
    let end = Instant::now() + Duration::from_secs(secs);
    let pause = |rng: &mut Rng, lo: u64, hi: u64| {
        let _ = after(Duration::from_millis(lo + rng.below(hi - lo))).recv();
    };
    while Instant::now() < end {
        c.net.state.lock().unwrap().drop_per_mille = rng.below(80);
        match rng.below(4) {
            0 => {
                let id = rng.pick(&IDS);
                c.net.state.lock().unwrap().isolated = Some(id);
                counts.partitions += 1;
                pause(&mut rng, 500, 2000);
                c.net.state.lock().unwrap().isolated = None;
            }
            1 => {
                let id = rng.pick(&IDS);
                c.crash(id, &w);
                counts.crashes += 1;
                pause(&mut rng, 100, 1000);
                let durable = rng.below(2) == 0;
                if !durable {
                    counts.volatile_restarts += 1;
                }
                c.start(id, false, durable);
            }
            2 => {
                let id = rng.pick(&IDS);
                if c.change_membership(
                    ConfChangeType::ConfChangeRemoveNode,
                    id,
                    Duration::from_secs(5),
                    &w,
                ) {
                    counts.removals += 1;
                    pause(&mut rng, 100, 1000);
                }
                if c.change_membership(
                    ConfChangeType::ConfChangeAddNode,
                    id,
                    Duration::from_secs(10),
                    &w,
                ) {
                    counts.readds += 1;
                }
            }
            _ => {
                if let Some(lead) = c.leader(&w) {
                    let to = rng.pick(&IDS);
                    if let Some(n) = c.node(lead) {
                        w.call("transfer_leadership", GRACE, || {
                            n.transfer_leadership(lead, to)
                        });
                        counts.transfers += 1;
                    }
                }
            }
        }
        pause(&mut rng, 100, 500);
    }

    // Heal, stop the clients, bring every member back in.
    {
        let mut st = c.net.state.lock().unwrap();
        st.drop_per_mille = 0;
        st.isolated = None;
    }
    stop_clients.store(true, Ordering::Relaxed);
    let mut confirmed = Vec::new();
    for (k, (h, done)) in clients.into_iter().enumerate() {
        select! {
            recv(done) -> _ => confirmed.extend(h.join().expect("client panicked")),
            recv(after(CALL_DEADLINE * 2 + GRACE)) -> _ => {
                failures.add(format!("client {k} did not stop"));
            }
        }
    }
    let converge_end = Instant::now() + CONVERGE;
    for &id in &IDS {
        let left = converge_end.saturating_duration_since(Instant::now());
        if !c.change_membership(ConfChangeType::ConfChangeAddNode, id, left, &w) {
            failures.add(format!("member {id} could not be added back"));
        }
    }

    // A barrier: applied everywhere, it closes the sequences to compare.
    let barrier = Bytes::from_static(b"barrier");
    let mut everywhere = false;
    while !everywhere && Instant::now() < converge_end {
        if let Some(n) = c.leader(&w).and_then(|l| c.node(l)) {
            let ctx = Context::with_timeout(CALL_DEADLINE);
            let _ = w.call("propose", CALL_DEADLINE + GRACE, || {
                n.propose_ctx(&ctx, barrier.clone())
            });
        }
        let wait_until = Instant::now() + Duration::from_secs(2);
        everywhere = c.members.iter().all(|m| {
            m.sm.wait_applied(
                &barrier,
                wait_until.saturating_duration_since(Instant::now()),
            )
        });
    }
    if !everywhere {
        failures.add("the barrier was not applied on every member".to_owned());
    }

    let logs: Vec<Vec<(u64, Bytes)>> = c
        .members
        .iter()
        .map(|m| {
            let st = m.sm.state.lock().unwrap();
            let end = st
                .log
                .iter()
                .position(|(_, d)| *d == barrier)
                .map_or(st.log.len(), |i| i + 1);
            st.log[..end].to_vec()
        })
        .collect();
    for (m, log) in c.members.iter().zip(&logs).skip(1) {
        if *log != logs[0] {
            let at = log.iter().zip(&logs[0]).position(|(a, b)| a != b);
            failures.add(format!(
                "member {} applied another sequence than member 1 ({} and {} entries, first difference at {at:?})",
                m.id,
                log.len(),
                logs[0].len()
            ));
        }
    }
    let mut once = HashSet::new();
    for (_, d) in &logs[0] {
        if !once.insert(d.clone()) {
            failures.add(format!("{d:?} applied twice"));
        }
    }
    for d in &confirmed {
        if !once.contains(d) {
            failures.add(format!(
                "{d:?} was applied on its member but is not in the final sequence"
            ));
        }
    }

    for &id in &IDS {
        c.crash(id, &w);
    }
    watching.store(false, Ordering::Relaxed);
    watchdog.join().expect("watchdog panicked");
    let taken = c.snapshots_taken.load(Ordering::Relaxed);
    let received = c.snapshots_received.load(Ordering::Relaxed);
    eprintln!(
        "node_under_chaos: {} commands applied everywhere ({} confirmed to clients), \
         {taken} snapshots taken, {received} received, {counts:?}",
        logs[0].len(),
        confirmed.len()
    );
    let failures = failures.list();
    assert!(failures.is_empty(), "seed {seed}: {failures:#?}");
    // Something happened: the run did not pass by doing nothing.
    assert!(
        confirmed.len() >= 50,
        "seed {seed}: only {} commands confirmed",
        confirmed.len()
    );
    assert!(
        counts.crashes + counts.removals + counts.partitions > 0,
        "seed {seed}: no chaos"
    );
    assert!(taken > 0, "seed {seed}: no snapshot taken");
}
