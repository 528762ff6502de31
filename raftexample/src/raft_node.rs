//! `start_raft` and the Ready loop: the heart of the server, on its own
//! thread (etcd raftexample's `startRaft` and `serveChannels`).
//!
//! Start: open the data directory (newest snapshot, WAL replay), rebuild
//! the key-value state from the snapshot, then `start_node` on a fresh
//! directory or `restart_node` on an existing one (or when joining). The
//! state is volatile: the committed entries after the snapshot are applied
//! again, so `Config.applied` is the snapshot's index.
//!
//! Each `Ready` is handled in raft's order: persist snapshot, entries and
//! hard state (one fsync), send the messages, apply the committed entries
//! (puts, conf changes), answer read indexes, maybe take a snapshot, and
//! `advance`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use crossbeam_channel::{select, tick, Receiver};
use prost::Message as _;
use raft::eraftpb::{
    ConfChange, ConfChangeType, ConfChangeV2, ConfState, Entry, EntryType, Snapshot,
};
use raft::{Config, Node, Peer, Ready, SnapshotStatus, Storage};

use etcdraft_storage::{DiskStorage, Options, StorageError};

use crate::cli::PeerAddr;
use crate::command::decode_batch;
use crate::kvstore::{KvStore, SnapshotDataError};
use crate::state::{NotApplied, Shared};
use crate::transport::{Report, Transport};

/// What `start_raft` needs to know.
#[derive(Debug, Clone)]
pub struct RaftOptions {
    /// This node's id.
    pub id: u64,
    /// The initial cluster: node i+1 at `cluster[i]`.
    pub cluster: Vec<PeerAddr>,
    /// Whether this node joins an existing cluster.
    pub join: bool,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Applied entries between snapshots.
    pub snapshot_count: u64,
    /// Entries kept behind a snapshot.
    pub snapshot_catchup: u64,
    /// The raft tick.
    pub tick: Duration,
    /// The size of a WAL segment in bytes.
    pub wal_segment_size: u64,
}

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be opened.
    #[error("cannot open data directory {dir}: {source}")]
    Storage {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: StorageError,
    },
    /// The newest snapshot holds state this program cannot read.
    #[error("snapshot at index {index} in {dir}: {source}")]
    SnapshotData {
        /// The directory.
        dir: PathBuf,
        /// The snapshot's index.
        index: u64,
        /// Why.
        source: SnapshotDataError,
    },
    /// Raft refused the configuration or the storage's content.
    #[error("cannot start raft: {0}")]
    Raft(#[from] raft::Error),
    /// The Ready loop thread could not be spawned.
    #[error("cannot spawn the Ready loop: {0}")]
    Thread(#[from] std::io::Error),
}

/// Why the Ready loop ended.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a loop that ended on an error must fail the process"]
pub enum Exit {
    /// The server was asked to stop.
    Stopped,
    /// This node was removed from the cluster.
    Removed,
}

/// A failure that stops the node: continuing could acknowledge what is not
/// durable, or diverge from the other nodes.
#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    /// Persisting a Ready, taking a snapshot or compacting failed.
    #[error("storage failed: {0}")]
    Storage(#[from] StorageError),
    /// A leader sent a snapshot whose data cannot be read.
    #[error("snapshot at index {index} from the leader: {source}")]
    SnapshotData {
        /// The snapshot's index.
        index: u64,
        /// Why.
        source: SnapshotDataError,
    },
    /// The node thread ended by itself (raft failed).
    #[error("the raft node failed: {0}")]
    Node(raft::Error),
}

/// Whether a `Node` call failed because the node is gone (stopped, or its
/// thread failed), so that the caller should stop too.
pub fn node_gone(e: &raft::Error) -> bool {
    matches!(
        e,
        raft::Error::Stopped | raft::Error::StorageFailed { .. } | raft::Error::NodePanicked(_)
    )
}

/// A started node: its handle and the thread running the Ready loop.
#[derive(Debug)]
pub struct Started {
    /// The node, shared with the inbox and the HTTP API.
    pub node: Arc<Node>,
    /// The shared state the Ready loop keeps up to date.
    pub shared: Arc<Shared>,
    /// Ends with the loop; stop it by dropping the `stop` sender given to
    /// [`start_raft`].
    pub ready_loop: JoinHandle<Result<Exit, LoopError>>,
}

/// Opens the storage, starts the node and the Ready loop (etcd
/// `startRaft`). `reports` carries the transport's delivery failures;
/// the loop ends when `stop` disconnects.
pub fn start_raft(
    opts: &RaftOptions,
    transport: Arc<Transport>,
    reports: Receiver<Report>,
    stop: Receiver<()>,
    logger: &slog::Logger,
) -> Result<Started, StartError> {
    let dir = opts.data_dir.clone();
    let options = Options {
        segment_size: opts.wal_segment_size,
        ..Options::default()
    };
    let storage =
        DiskStorage::open(&dir, &options, logger).map_err(|source| StartError::Storage {
            dir: dir.clone(),
            source,
        })?;
    let snap = storage.snapshot()?;
    let index = snap.metadata.index;
    let kv = KvStore::decode(&snap.data).map_err(|source| StartError::SnapshotData {
        dir,
        index,
        source,
    })?;

    for (i, addr) in opts.cluster.iter().enumerate() {
        transport.add_peer(i as u64 + 1, addr.as_str());
    }
    // Addresses from conf changes compacted into the snapshot.
    for (id, addr) in kv.peers() {
        transport.add_peer(id, addr);
    }
    for id in kv.removed() {
        transport.mark_removed(id);
    }
    // Its removal was applied before the restart (and compacted since).
    let removed = kv.removed().any(|id| id == opts.id);

    let shared = Arc::new(Shared::new(opts.id, kv, index));
    {
        let mut st = shared.status();
        st.snapshot_index = index;
        st.conf_state = snap.metadata.conf_state.clone();
    }

    // The state machine is volatile: `applied` stays 0 so that raft hands
    // out every committed entry after the snapshot again, conf changes
    // included, and they are applied as the first time.
    let config = Config {
        election_tick: 10,
        heartbeat_tick: 1,
        max_size_per_msg: 1 << 20,
        max_inflight_msgs: 256,
        max_uncommitted_entries_size: 1 << 30,
        // A node restarted after kill -9 must not depose a healthy leader.
        pre_vote: true,
        check_quorum: true,
        ..Config::new(opts.id)
    };
    let node = if storage.is_new() && !opts.join {
        let peers: Vec<Peer> = opts
            .cluster
            .iter()
            .enumerate()
            .map(|(i, addr)| Peer {
                id: i as u64 + 1,
                context: Bytes::copy_from_slice(addr.as_str().as_bytes()),
            })
            .collect();
        raft::start_node(&config, storage.clone(), &peers, logger)?
    } else {
        raft::restart_node(&config, storage.clone(), logger)?
    };
    let node = Arc::new(node);

    let ready_loop = ReadyLoop {
        node: node.clone(),
        storage,
        shared: shared.clone(),
        transport,
        conf_state: snap.metadata.conf_state.clone(),
        applied: index,
        snapshot_index: index,
        snapshot_count: opts.snapshot_count.max(1),
        snapshot_catchup: opts.snapshot_catchup,
        removed,
        logger: logger.clone(),
    };
    let ticker = tick(opts.tick);
    let ready_loop = std::thread::Builder::new()
        .name("raft-ready".into())
        .spawn(move || ready_loop.run(ticker, reports, stop))?;
    Ok(Started {
        node,
        shared,
        ready_loop,
    })
}

/// The Ready loop's state (etcd raftexample's `raftNode` fields).
struct ReadyLoop {
    node: Arc<Node>,
    storage: DiskStorage,
    shared: Arc<Shared>,
    transport: Arc<Transport>,
    conf_state: ConfState,
    applied: u64,
    snapshot_index: u64,
    snapshot_count: u64,
    snapshot_catchup: u64,
    removed: bool,
    logger: slog::Logger,
}

impl ReadyLoop {
    fn run(
        mut self,
        ticker: Receiver<std::time::Instant>,
        reports: Receiver<Report>,
        stop: Receiver<()>,
    ) -> Result<Exit, LoopError> {
        let result = self.serve(&ticker, &reports, &stop);
        if let Err(e) = &result {
            slog::error!(self.logger, "stopping: {}", e);
        }
        // Whatever the reason, the whole server goes down with the loop.
        self.shared.shutdown.cancel();
        result
    }

    fn serve(
        &mut self,
        ticker: &Receiver<std::time::Instant>,
        reports: &Receiver<Report>,
        stop: &Receiver<()>,
    ) -> Result<Exit, LoopError> {
        if self.removed {
            return Ok(self.leave("its removal is in its state"));
        }
        loop {
            select! {
                recv(ticker) -> _ => self.node.tick(),
                recv(self.node.ready()) -> rd => {
                    let Ok(rd) = rd else {
                        let why = self.node.stop().err().unwrap_or(raft::Error::Stopped);
                        return Err(LoopError::Node(why));
                    };
                    self.handle(rd)?;
                    if self.removed {
                        return Ok(self.leave("it applied its removal"));
                    }
                }
                recv(reports) -> r => {
                    if let Some(by) = r.ok().and_then(|r| self.report(r, reports)) {
                        return Ok(self.leave(&format!("node {by} says so")));
                    }
                }
                recv(stop) -> _ => return Ok(Exit::Stopped),
            }
        }
    }

    fn leave(&self, why: &str) -> Exit {
        slog::info!(
            self.logger,
            "this node was removed from the cluster ({}): shutting down",
            why
        );
        Exit::Removed
    }

    // Passes delivery failures on, one unreachable report per peer for a
    // burst of them. Some(peer) when a peer said this node was removed.
    fn report(&self, first: Report, reports: &Receiver<Report>) -> Option<u64> {
        let mut unreachable = BTreeSet::new();
        let mut removed_by = None;
        for r in std::iter::once(first).chain(reports.try_iter()) {
            match r {
                Report::Unreachable(id) => {
                    unreachable.insert(id);
                }
                Report::Snapshot { id, ok } => {
                    let status = if ok {
                        SnapshotStatus::Finish
                    } else {
                        SnapshotStatus::Failure
                    };
                    self.node.report_snapshot(id, status);
                }
                Report::Removed { by } => removed_by = Some(by),
            }
        }
        for id in unreachable {
            self.node.report_unreachable(id);
        }
        removed_by
    }

    fn handle(&mut self, mut rd: Ready) -> Result<(), LoopError> {
        // Read a leader's snapshot before persisting it: a snapshot we could
        // not apply must not become the state we restart from.
        let installed = match rd.snapshot.as_ref().filter(|s| !s.is_empty()) {
            Some(snap) => {
                Some(
                    KvStore::decode(&snap.data).map_err(|source| LoopError::SnapshotData {
                        index: snap.metadata.index,
                        source,
                    })?,
                )
            }
            None => None,
        };
        self.storage.persist(&rd)?;
        let wal_fsyncs = self.storage.wal_syncs();
        let mut new_leader = None;
        {
            let mut st = self.shared.status();
            st.wal_fsyncs = wal_fsyncs;
            if let Some(ss) = rd.soft_state.as_ref().filter(|ss| ss.lead != st.leader) {
                st.leader = ss.lead;
                new_leader = Some(ss.lead);
            }
            if let Some(hs) = &rd.hard_state {
                st.term = hs.term;
                st.commit = hs.commit;
            }
        }
        if let (Some(kv), Some(snap)) = (installed, rd.snapshot.take()) {
            self.install(kv, snap);
        }
        self.transport.send(std::mem::take(&mut rd.messages));
        self.apply(std::mem::take(&mut rd.committed_entries));
        if let Some(lead) = new_leader.filter(|l| *l != 0) {
            // Proposals that went to another leader may have been lost with
            // it: answer them now rather than at their timeout. (Those made
            // while no leader was known wait on: they go to the new one.
            // Losing the leader alone answers nothing: it may come back.)
            let gone = |tag: u64| tag != 0 && tag != lead;
            let changed = || Err(NotApplied::LeaderChanged);
            self.shared.puts.answer_where(gone, changed);
            self.shared.confs.answer_where(gone, changed);
        }
        if !rd.read_states.is_empty() {
            self.shared
                .reads
                .complete(rd.read_states.iter().filter_map(|rs| {
                    let id = u64::from_le_bytes(rs.request_ctx.as_ref().try_into().ok()?);
                    Some((id, rs.index))
                }));
        }
        self.maybe_snapshot()?;
        self.node.advance();
        Ok(())
    }

    // A leader's snapshot replaces the state (etcd `publishSnapshot`).
    fn install(&mut self, kv: KvStore, snap: Snapshot) {
        let index = snap.metadata.index;
        slog::info!(
            self.logger,
            "installing the leader's snapshot at index {}",
            index
        );
        for (id, addr) in kv.peers() {
            self.transport.add_peer(id, addr);
        }
        for id in kv.removed() {
            self.transport.mark_removed(id);
        }
        *self.shared.kv_mut() = kv;
        self.conf_state = snap.metadata.conf_state;
        self.applied = index;
        self.snapshot_index = index;
        {
            let mut st = self.shared.status();
            st.snapshot_index = index;
            st.snapshots_installed += 1;
            st.conf_state = self.conf_state.clone();
        }
        self.shared.applied.send_replace(index);
    }

    // Applies what was not applied yet (etcd `entriesToApply` and
    // `publishEntries`), then wakes the requests it answers.
    fn apply(&mut self, entries: Vec<Entry>) {
        let mut puts = Vec::new();
        let mut confs = Vec::new();
        let mut conf_changed = false;
        let shared = self.shared.clone();
        {
            let mut kv = shared.kv_mut();
            for e in entries {
                if e.index <= self.applied {
                    continue;
                }
                self.applied = e.index;
                match e.get_type() {
                    EntryType::EntryNormal if e.data.is_empty() => {}
                    EntryType::EntryNormal => match decode_batch(&e.data) {
                        Ok(batch) => {
                            for p in batch {
                                puts.push((p.id, Ok(())));
                                kv.apply(p);
                            }
                        }
                        // Every node skips it alike, so the maps agree.
                        Err(err) => {
                            slog::warn!(self.logger, "skipping entry {}: {}", e.index, err)
                        }
                    },
                    EntryType::EntryConfChange => match ConfChange::decode(e.data.clone()) {
                        Ok(cc) => {
                            conf_changed = true;
                            let res = self.apply_conf_change(&mut kv, &cc);
                            confs.push((cc.id, res));
                        }
                        Err(err) => slog::warn!(
                            self.logger,
                            "skipping conf change entry {}: {}",
                            e.index,
                            err
                        ),
                    },
                    EntryType::EntryConfChangeV2 => match ConfChangeV2::decode(e.data.clone()) {
                        // Not proposed by this server; applied for raft's sake.
                        Ok(cc) => {
                            conf_changed = true;
                            if let Ok(cs) = self.node.apply_conf_change(&cc) {
                                self.conf_state = cs;
                            }
                        }
                        Err(err) => slog::warn!(
                            self.logger,
                            "skipping conf change entry {}: {}",
                            e.index,
                            err
                        ),
                    },
                }
            }
        }
        if conf_changed {
            self.shared.status().conf_state = self.conf_state.clone();
        }
        self.shared.applied.send_replace(self.applied);
        if !puts.is_empty() {
            self.shared.puts.complete(puts);
        }
        if !confs.is_empty() {
            self.shared.confs.complete(confs);
        }
    }

    fn apply_conf_change(&mut self, kv: &mut KvStore, cc: &ConfChange) -> Result<(), NotApplied> {
        let cs = self
            .node
            .apply_conf_change(cc)
            .map_err(NotApplied::Refused)?;
        self.conf_state = cs;
        let id = cc.node_id;
        match cc.change_type() {
            ConfChangeType::ConfChangeAddNode | ConfChangeType::ConfChangeAddLearnerNode => {
                kv.readmit(id);
                self.transport.readmit(id);
                let addr = std::str::from_utf8(&cc.context)
                    .ok()
                    .and_then(|s| s.parse::<PeerAddr>().ok());
                match addr {
                    Some(addr) => {
                        self.transport.add_peer(id, addr.as_str());
                        kv.set_peer(id, addr.as_str().to_owned());
                    }
                    None if cc.context.is_empty() => {}
                    None => slog::warn!(
                        self.logger,
                        "node {} was added with an unusable address {:?}",
                        id,
                        String::from_utf8_lossy(&cc.context)
                    ),
                }
            }
            ConfChangeType::ConfChangeRemoveNode => {
                kv.remove_peer(id);
                if id == self.shared.status().id {
                    self.removed = true;
                } else {
                    self.transport.mark_removed(id);
                }
            }
            ConfChangeType::ConfChangeUpdateNode => {}
        }
        Ok(())
    }

    // Every `snapshot_count` applied entries: snapshot the state and
    // compact the log, keeping a catch-up tail (etcd `maybeTriggerSnapshot`).
    fn maybe_snapshot(&mut self) -> Result<(), LoopError> {
        if self.applied - self.snapshot_index < self.snapshot_count {
            return Ok(());
        }
        let data = self.shared.kv().encode();
        self.storage
            .create_snapshot(self.applied, self.conf_state.clone(), data)?;
        slog::info!(self.logger, "took a snapshot at index {}", self.applied);
        self.snapshot_index = self.applied;
        self.shared.status().snapshot_index = self.applied;
        let compact = self.applied.saturating_sub(self.snapshot_catchup);
        let first = self.storage.first_index().unwrap_or(u64::MAX);
        if compact > first {
            self.storage.compact(compact)?;
        }
        Ok(())
    }
}
