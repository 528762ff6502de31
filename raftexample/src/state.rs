//! What the Ready loop shares with the HTTP handlers: the replicated state,
//! the applied index, the waiting requests, and a status snapshot.

use std::fmt;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use raft::eraftpb::ConfState;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::kvstore::KvStore;
use crate::waiters::{Ids, Waiters};

/// Why an acknowledged-looking request was not applied.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum NotApplied {
    /// Raft refused or dropped the proposal (no leader, a removed node...).
    #[error("raft dropped the proposal: {0}")]
    Dropped(raft::Error),
    /// The leader the proposal went to lost its leadership before the
    /// proposal was applied here; it may still be applied.
    #[error(
        "the leader changed while the write was in flight; it may or may not be applied: retry"
    )]
    LeaderChanged,
    /// Raft refused the conf change when applying it.
    #[error("raft refused the membership change: {0}")]
    Refused(raft::Error),
}

/// The answer a waiting put or conf change gets.
pub type Applied = Result<(), NotApplied>;

/// The node's view, for `GET /raft/status` and the membership checks of
/// the HTTP API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeStatus {
    /// This node.
    pub id: u64,
    /// The leader it knows, or 0.
    pub leader: u64,
    /// Its term.
    pub term: u64,
    /// Its commit index.
    pub commit: u64,
    /// The index of its newest snapshot (taken or installed).
    pub snapshot_index: u64,
    /// Snapshots received from a leader since this process started.
    pub snapshots_installed: u64,
    /// WAL fsyncs since this process started (one per Ready that must be
    /// synced): acknowledged writes over this tell how many writes share
    /// one fsync.
    pub wal_fsyncs: u64,
    /// The configuration after the last applied conf change.
    pub conf_state: ConfState,
}

impl NodeStatus {
    /// Whether `id` is a voter or learner of the configuration.
    pub fn is_member(&self, id: u64) -> bool {
        let cs = &self.conf_state;
        cs.voters.contains(&id) || cs.learners.contains(&id) || cs.voters_outgoing.contains(&id)
    }
}

fn ids(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

/// One `name=value` line per field; `applied` is added by the caller.
impl fmt::Display for NodeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "id={}", self.id)?;
        writeln!(f, "leader={}", self.leader)?;
        writeln!(f, "term={}", self.term)?;
        writeln!(f, "commit={}", self.commit)?;
        writeln!(f, "snapshot_index={}", self.snapshot_index)?;
        writeln!(f, "snapshots_installed={}", self.snapshots_installed)?;
        writeln!(f, "wal_fsyncs={}", self.wal_fsyncs)?;
        writeln!(f, "voters={}", ids(&self.conf_state.voters))?;
        writeln!(f, "learners={}", ids(&self.conf_state.learners))
    }
}

/// The state shared by the Ready loop (writer) and the HTTP API (readers).
#[derive(Debug)]
pub struct Shared {
    kv: RwLock<KvStore>,
    status: Mutex<NodeStatus>,
    /// The index of the last applied entry.
    pub applied: watch::Sender<u64>,
    /// Ids for puts, conf changes and reads.
    pub ids: Ids,
    /// Puts waiting for their entry to be applied.
    pub puts: Waiters<Applied>,
    /// Conf changes waiting to be applied.
    pub confs: Waiters<Applied>,
    /// Linearizable reads waiting for their read index.
    pub reads: Waiters<u64>,
    /// Fired to shut the whole server down (signal, removal, fatal error).
    pub shutdown: CancellationToken,
}

impl Shared {
    /// The shared state of node `id`, starting from `kv` at `applied`.
    pub fn new(id: u64, kv: KvStore, applied: u64) -> Shared {
        Shared {
            kv: RwLock::new(kv),
            status: Mutex::new(NodeStatus {
                id,
                ..NodeStatus::default()
            }),
            applied: watch::Sender::new(applied),
            ids: Ids::default(),
            puts: Waiters::default(),
            confs: Waiters::default(),
            reads: Waiters::default(),
            shutdown: CancellationToken::new(),
        }
    }

    // Poisoning means the Ready loop panicked (a bug of ours); the server
    // shuts down then, and readers meanwhile see the last applied state.

    /// Reads the key-value state.
    pub fn kv(&self) -> RwLockReadGuard<'_, KvStore> {
        self.kv.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the key-value state (the Ready loop only).
    pub fn kv_mut(&self) -> RwLockWriteGuard<'_, KvStore> {
        self.kv.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The status.
    pub fn status(&self) -> MutexGuard<'_, NodeStatus> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }
}
