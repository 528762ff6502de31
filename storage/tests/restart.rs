//! Three RawNodes on DiskStorage in temp directories take 10,000 proposals,
//! snapshotting every 1,000 applied entries, while nodes are dropped at
//! random points of their Ready handling (before persisting, before
//! sending, before applying, before advancing) and reopened from disk later.
//! All end with the same applied state, and reopening all three from disk
//! once more rebuilds that same state.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use common::{logger, options};
use etcdraft_storage::{DiskStorage, Options};
use prost::Message as _;
use raft::eraftpb::{ConfChange, ConfState, EntryType, Message, MessageType};
use raft::{Config, Peer, RawNode, SnapshotStatus, StateRole, Storage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PROPOSALS: u64 = 10_000;
const SNAPSHOT_EVERY: u64 = 1_000;
/// Entries kept in memory behind a snapshot for slow followers.
const CATCH_UP: u64 = 200;
/// Per Ready handled, the chance that the node dies somewhere in it.
const CRASH_CHANCE: f64 = 0.02;

/// The replicated state machine: the set of proposal ids applied, and a
/// hash of every normal entry applied, in order (duplicates included), so
/// that equal states mean equal sequences.
#[derive(Clone, Debug, Default, PartialEq)]
struct App {
    ids: BTreeSet<u64>,
    hash: u32,
    applied: u64,
    conf_state: ConfState,
}

impl App {
    fn apply(&mut self, data: &[u8]) {
        self.hash = crc32c::crc32c_append(self.hash, data);
        let id = std::str::from_utf8(data).unwrap()[1..].parse().unwrap();
        self.ids.insert(id);
    }

    fn encode(&self) -> Bytes {
        let mut b = self.hash.to_le_bytes().to_vec();
        for id in &self.ids {
            b.extend_from_slice(&id.to_le_bytes());
        }
        Bytes::from(b)
    }

    fn decode(data: &[u8], applied: u64, conf_state: ConfState) -> App {
        App {
            hash: u32::from_le_bytes(data[..4].try_into().unwrap()),
            ids: data[4..]
                .chunks(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            applied,
            conf_state,
        }
    }
}

struct Node {
    storage: DiskStorage,
    raw: RawNode<DiskStorage>,
    app: App,
}

impl Node {
    /// Opens (or creates) the node's directory and starts raft on it; the
    /// application restarts from the snapshot and is handed the committed
    /// entries after it again.
    fn start(id: u64, dir: &Path, opts: &Options) -> Node {
        let storage = DiskStorage::open(dir, opts, &logger()).unwrap();
        let snap = storage.snapshot().unwrap();
        let index = snap.metadata.index;
        let app = if index > 0 {
            App::decode(&snap.data, index, snap.metadata.conf_state.clone())
        } else {
            App::default()
        };
        let config = Config {
            applied: index,
            election_tick: 10,
            heartbeat_tick: 1,
            max_size_per_msg: 64 * 1024,
            max_inflight_msgs: 64,
            ..Config::new(id)
        };
        let mut raw = RawNode::new(&config, storage.clone(), &logger()).unwrap();
        if storage.is_new() {
            let peers: Vec<Peer> = (1..=3)
                .map(|id| Peer {
                    id,
                    context: Bytes::new(),
                })
                .collect();
            raw.bootstrap(&peers).unwrap();
        }
        Node { storage, raw, app }
    }

    /// Handles one Ready as an application must. Returns false if the node
    /// died at `die_at` (0: before persisting, 1: before sending, 2: before
    /// applying, 3: before advancing).
    fn handle_ready(&mut self, outbox: &mut Vec<Message>, die_at: Option<u32>) -> bool {
        let rd = self.raw.ready();
        if die_at == Some(0) {
            return false;
        }
        self.storage.persist(&rd).unwrap();
        if let Some(snap) = rd.snapshot.as_ref().filter(|s| s.metadata.index > 0) {
            let m = &snap.metadata;
            self.app = App::decode(&snap.data, m.index, m.conf_state.clone());
        }
        if die_at == Some(1) {
            return false;
        }
        outbox.extend(rd.messages);
        if die_at == Some(2) {
            return false;
        }
        for e in &rd.committed_entries {
            match e.get_type() {
                EntryType::EntryNormal if !e.data.is_empty() => self.app.apply(&e.data),
                EntryType::EntryConfChange => {
                    let cc = ConfChange::decode(e.data.clone()).unwrap();
                    self.app.conf_state = self.raw.apply_conf_change(&cc).unwrap();
                }
                _ => {}
            }
            self.app.applied = e.index;
            let last_snap = self.storage.snapshot().unwrap().metadata.index;
            if e.index >= last_snap + SNAPSHOT_EVERY {
                self.storage
                    .create_snapshot(e.index, self.app.conf_state.clone(), self.app.encode())
                    .unwrap();
                self.storage.compact(e.index - CATCH_UP).unwrap();
            }
        }
        if die_at == Some(3) {
            return false;
        }
        self.raw.advance();
        true
    }
}

struct Cluster {
    dirs: Vec<PathBuf>,
    opts: Options,
    nodes: Vec<Option<Node>>,
    /// For a node that is down: the rounds until it restarts.
    down_for: Vec<u32>,
    outbox: Vec<Message>,
    crashes: u32,
    /// Snapshots a leader sent to a follower that fell behind its log.
    snapshots_sent: u32,
}

impl Cluster {
    fn leader(&mut self) -> Option<&mut Node> {
        self.nodes
            .iter_mut()
            .flatten()
            .find(|n| n.raw.basic_status().raft_state() == StateRole::Leader)
    }

    /// Handles every node's Readys and delivers messages until nothing is
    /// left to do (or a bound is hit), with a chance of a node dying.
    fn settle(&mut self, rng: &mut StdRng) {
        for _ in 0..20 {
            let mut busy = false;
            for i in 0..3 {
                let Some(node) = self.nodes[i].as_mut() else {
                    continue;
                };
                if !node.raw.has_ready() {
                    continue;
                }
                busy = true;
                let die_at = rng
                    .random_bool(CRASH_CHANCE)
                    .then(|| rng.random_range(0..4));
                if !node.handle_ready(&mut self.outbox, die_at) {
                    self.nodes[i] = None;
                    self.down_for[i] = rng.random_range(1..40);
                    self.crashes += 1;
                }
            }
            busy |= !self.outbox.is_empty();
            for m in std::mem::take(&mut self.outbox) {
                self.deliver(m);
            }
            if !busy {
                return;
            }
        }
    }

    fn deliver(&mut self, m: Message) {
        let (to, from) = (m.to as usize - 1, m.from as usize - 1);
        let is_snap = m.get_type() == MessageType::MsgSnap;
        let delivered = match self.nodes[to].as_mut() {
            // A message raft refuses (from an old term, say) is dropped,
            // as a network would.
            Some(node) => {
                let _ = node.raw.step(m);
                true
            }
            None => false,
        };
        if let Some(sender) = self.nodes[from].as_mut() {
            if !delivered {
                sender.raw.report_unreachable(to as u64 + 1);
            }
            if is_snap {
                self.snapshots_sent += u32::from(delivered);
                let status = if delivered {
                    SnapshotStatus::Finish
                } else {
                    SnapshotStatus::Failure
                };
                sender.raw.report_snapshot(to as u64 + 1, status);
            }
        }
    }

    fn restart_due(&mut self) {
        for i in 0..3 {
            if self.nodes[i].is_none() {
                self.down_for[i] = self.down_for[i].saturating_sub(1);
                if self.down_for[i] == 0 {
                    self.nodes[i] = Some(Node::start(i as u64 + 1, &self.dirs[i], &self.opts));
                }
            }
        }
    }

    fn apps(&self) -> Vec<Option<&App>> {
        self.nodes
            .iter()
            .map(|n| n.as_ref().map(|n| &n.app))
            .collect()
    }
}

#[test]
fn three_nodes_restarted_at_random_points_end_with_the_same_state() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(64 * 1024);
    let dirs: Vec<PathBuf> = (1..=3)
        .map(|i| tmp.path().join(format!("node-{i}")))
        .collect();
    let mut rng = StdRng::seed_from_u64(2024);
    let mut c = Cluster {
        nodes: (0..3)
            .map(|i| Some(Node::start(i as u64 + 1, &dirs[i], &opts)))
            .collect(),
        dirs,
        opts,
        down_for: vec![0; 3],
        outbox: Vec::new(),
        crashes: 0,
        snapshots_sent: 0,
    };
    let mut next_id = 0;
    let mut round = 0u64;
    loop {
        round += 1;
        assert!(
            round < 20_000,
            "no progress: {next_id} proposed, {:?}",
            c.apps()
                .iter()
                .map(|a| a.map(|a| a.ids.len()))
                .collect::<Vec<_>>()
        );
        c.restart_due();
        for node in c.nodes.iter_mut().flatten() {
            node.raw.tick();
        }
        if let Some(leader) = c.leader() {
            for _ in 0..rng.random_range(1..=100) {
                if next_id == PROPOSALS {
                    break;
                }
                // A proposal dropped (by a leader stepping down) is lost,
                // and proposed again below.
                let _ = leader.raw.propose(format!("p{next_id}"));
                next_id += 1;
            }
            if round % 50 == 0 {
                let missing: Vec<u64> = (0..next_id)
                    .filter(|i| !leader.app.ids.contains(i))
                    .take(500)
                    .collect();
                for id in missing {
                    let _ = leader.raw.propose(format!("p{id}"));
                }
            }
        }
        c.settle(&mut rng);

        let done = next_id == PROPOSALS
            && c.apps()
                .iter()
                .all(|a| a.is_some_and(|a| a.ids.len() as u64 == PROPOSALS))
            && c.nodes
                .iter()
                .flatten()
                .all(|n| n.app.applied == n.raw.basic_status().commit());
        let applied: Vec<u64> = c.nodes.iter().flatten().map(|n| n.app.applied).collect();
        if done && applied.iter().all(|&a| a == applied[0]) {
            break;
        }
    }

    let apps: Vec<App> = c.apps().into_iter().map(|a| a.unwrap().clone()).collect();
    assert_eq!(apps[0], apps[1]);
    assert_eq!(apps[0], apps[2]);
    assert_eq!(apps[0].ids, (0..PROPOSALS).collect::<BTreeSet<_>>());
    assert!(c.crashes >= 10, "only {} crashes", c.crashes);
    assert!(c.snapshots_sent > 0, "no follower was sent a snapshot");
    let snapshots: Vec<u64> = c
        .nodes
        .iter()
        .flatten()
        .map(|n| n.storage.snapshot().unwrap().metadata.index)
        .collect();
    assert!(
        snapshots.iter().all(|&s| s >= PROPOSALS),
        "snapshots at {snapshots:?}"
    );
    eprintln!(
        "{round} rounds, {} crashes, {} snapshots sent, applied index {}, snapshots at {snapshots:?}",
        c.crashes, c.snapshots_sent, apps[0].applied
    );

    // Reopened from disk, each node rebuilds exactly that state: its newest
    // snapshot plus the committed entries after it.
    c.nodes.iter_mut().for_each(|n| *n = None);
    for i in 0..3 {
        let mut node = Node::start(i as u64 + 1, &c.dirs[i], &c.opts);
        let mut outbox = Vec::new();
        while node.app.applied < apps[0].applied {
            assert!(
                node.raw.has_ready(),
                "node {}: stuck at {}",
                i + 1,
                node.app.applied
            );
            node.handle_ready(&mut outbox, None);
        }
        assert_eq!(node.app, apps[i], "node {} after reopening", i + 1);
    }
}
