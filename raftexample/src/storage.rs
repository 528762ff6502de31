//! The durable storage the Ready loop persists to.
//!
//! TEMPORARY: a volatile stand-in with the API of `etcdraft_storage::
//! DiskStorage` (open / is_new / persist / create_snapshot / compact), so
//! that the rest of the server is built and tested while the durable crate
//! is written; it is replaced by a re-export of the real one.

use std::path::Path;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use raft::eraftpb::{ConfState, Entry, HardState, Snapshot};
use raft::{MemStorage, Ready, Storage};

/// The options of [`DiskStorage::open`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The size of a WAL segment.
    pub segment_size: u64,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The in-memory log refused an operation.
    #[error("storage: {0}")]
    Raft(#[from] raft::Error),
}

/// The stand-in: a shared `MemStorage`.
#[derive(Debug, Clone, Default)]
pub struct DiskStorage {
    mem: Arc<RwLock<MemStorage>>,
}

impl DiskStorage {
    /// Opens (here: creates) the storage of `dir`.
    pub fn open(
        _dir: impl AsRef<Path>,
        _options: &Options,
        logger: &slog::Logger,
    ) -> Result<DiskStorage, StorageError> {
        slog::warn!(
            logger,
            "storage is volatile until the durable storage crate lands"
        );
        Ok(DiskStorage::default())
    }

    /// Whether there was no log before `open`.
    pub fn is_new(&self) -> bool {
        true
    }

    /// Persists a Ready's snapshot, entries and hard state.
    pub fn persist(&self, rd: &Ready) -> Result<(), StorageError> {
        let mut mem = self.mem.write().expect("storage lock");
        if let Some(snap) = rd.snapshot.as_ref().filter(|s| !s.is_empty()) {
            mem.apply_snapshot(snap.clone())?;
        }
        if let Some(hs) = rd.hard_state {
            mem.set_hard_state(hs)?;
        }
        mem.append(&rd.entries)?;
        Ok(())
    }

    /// Records a snapshot at `index`.
    pub fn create_snapshot(
        &self,
        index: u64,
        conf_state: ConfState,
        data: Bytes,
    ) -> Result<Snapshot, StorageError> {
        let mut mem = self.mem.write().expect("storage lock");
        Ok(mem.create_snapshot(index, Some(conf_state), data)?)
    }

    /// Drops the entries before `index`.
    pub fn compact(&self, index: u64) -> Result<(), StorageError> {
        let mut mem = self.mem.write().expect("storage lock");
        Ok(mem.compact(index)?)
    }
}

impl Storage for DiskStorage {
    fn initial_state(&self) -> raft::Result<(HardState, ConfState)> {
        self.mem.initial_state()
    }
    fn entries(&self, lo: u64, hi: u64, max_size: u64) -> raft::Result<Vec<Entry>> {
        self.mem.entries(lo, hi, max_size)
    }
    fn term(&self, i: u64) -> raft::Result<u64> {
        self.mem.term(i)
    }
    fn last_index(&self) -> raft::Result<u64> {
        self.mem.last_index()
    }
    fn first_index(&self) -> raft::Result<u64> {
        self.mem.first_index()
    }
    fn snapshot(&self) -> raft::Result<Snapshot> {
        self.mem.snapshot()
    }
}
