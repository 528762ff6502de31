//! The storage of an interaction node: a [`MemStorage`] plus the history of
//! the node's state-machine snapshots, the newest of which is what raft gets
//! when it asks for a snapshot to send.

use raft::eraftpb::{ConfState, Entry, HardState, Snapshot};
use raft::storage::{MemStorage, Storage};
use raft::Result;

/// A node's storage (etcd's `snapOverrideStorage` around a `MemoryStorage`,
/// with the node's snapshot history kept here rather than in the node).
#[derive(Debug, Default)]
pub struct NodeStorage {
    /// The log, hard state and last applied snapshot.
    pub mem: MemStorage,
    /// One snapshot per applied entry (and the initial one): the state of
    /// the "appender" state machine after each step. Never empty.
    pub history: Vec<Snapshot>,
}

impl NodeStorage {
    /// The newest snapshot of the history.
    pub fn last_snapshot(&self) -> &Snapshot {
        // `history` starts with the initial snapshot and only grows.
        &self.history[self.history.len() - 1]
    }
}

impl Storage for NodeStorage {
    fn initial_state(&self) -> Result<(HardState, ConfState)> {
        self.mem.initial_state()
    }

    fn entries(&self, lo: u64, hi: u64, max_size: u64) -> Result<Vec<Entry>> {
        self.mem.entries(lo, hi, max_size)
    }

    fn term(&self, i: u64) -> Result<u64> {
        self.mem.term(i)
    }

    fn last_index(&self) -> Result<u64> {
        self.mem.last_index()
    }

    fn first_index(&self) -> Result<u64> {
        self.mem.first_index()
    }

    /// Always the newest state of the state machine: MemStorage's own
    /// snapshot only changes with compactions, which would not do.
    fn snapshot(&self) -> Result<Snapshot> {
        Ok(self.last_snapshot().clone())
    }
}
