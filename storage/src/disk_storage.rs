//! [`DiskStorage`]: a data directory (WAL and snapshots) with a
//! [`MemStorage`] in front of it, which raft reads from.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use bytes::Bytes;
use raft::eraftpb::{ConfState, Entry, HardState, Message, Snapshot, SnapshotMetadata};
use raft::{MemStorage, Ready, Storage};

use crate::error::StorageError;
use crate::files::create_dir;
use crate::lock::DirLock;
use crate::options::Options;
use crate::snapshotter::Snapshotter;
use crate::wal::{Wal, WalContents};

/// The WAL's subdirectory of a data directory.
pub const WAL_DIR: &str = "wal";
/// The snapshots' subdirectory of a data directory.
pub const SNAP_DIR: &str = "snap";

/// Raft's durable storage: a data directory holding a WAL and snapshot
/// files, and a [`MemStorage`] holding the same log that raft reads from.
///
/// Cheap to clone (the clones share one directory); `Send + Sync`, so that
/// one clone can sit in a `RawNode` while another persists `Ready`s. The
/// directory is locked while any clone is alive.
#[derive(Clone, Debug)]
pub struct DiskStorage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    is_new: bool,
    metadata: Bytes,
    keep_snapshots: usize,
    /// What raft reads. Written after the disk, so raft never sees state
    /// that is not durable.
    mem: RwLock<MemStorage>,
    /// Held across each write to disk, so writes are serialized.
    disk: Mutex<Disk>,
}

#[derive(Debug)]
struct Disk {
    wal: Wal,
    snapshotter: Snapshotter,
    _lock: DirLock,
}

impl DiskStorage {
    /// Opens a data directory, creating it if missing: loads the newest
    /// valid snapshot and replays the WAL from it.
    pub fn open(
        dir: impl AsRef<Path>,
        options: &Options,
        logger: &slog::Logger,
    ) -> Result<DiskStorage, StorageError> {
        let dir = dir.as_ref();
        let fs = &*options.file_system;
        create_dir(fs, dir)?;
        let lock = DirLock::acquire(dir)?;
        let wal_dir = dir.join(WAL_DIR);
        let snapshotter = Snapshotter::new(&dir.join(SNAP_DIR), options, logger)?;

        let existed = Wal::exists(fs, &wal_dir)?;
        let (wal, snapshot, contents) = if !existed {
            let wal = Wal::create(&wal_dir, options, logger)?;
            (wal, None, WalContents::default())
        } else {
            let markers = Wal::valid_snapshot_markers(&wal_dir, options)?;
            let snapshot = snapshotter.load_newest(&markers)?;
            let marker = snapshot
                .as_ref()
                .map_or_else(SnapshotMetadata::default, |s| s.metadata.clone());
            let (wal, contents) = Wal::open_at(&wal_dir, &marker, options, logger)?;
            (wal, snapshot, contents)
        };

        let mut mem = MemStorage::new();
        let snap_index = snapshot.as_ref().map_or(0, |s| s.metadata.index);
        if let Some(s) = snapshot {
            mem.apply_snapshot(s)?;
        }
        // A WAL that a crash left with nothing in it (created, nothing
        // persisted yet) is as new as no WAL: the node must bootstrap.
        let is_new = snap_index == 0
            && contents.entries.is_empty()
            && contents.hard_state == HardState::default();
        let last = contents.entries.last().map_or(snap_index, |e| e.index);
        let commit = contents.hard_state.commit;
        // Raft refuses to start from a commit index outside its log; say
        // which directory is inconsistent rather than let it panic.
        if commit > last || (snap_index > 0 && commit < snap_index) {
            return Err(StorageError::CommitOutOfRange {
                dir: dir.into(),
                commit,
                first: snap_index,
                last,
            });
        }
        mem.set_hard_state(contents.hard_state)?;
        mem.append(&contents.entries)?;
        slog::info!(logger, "opened data directory";
            "dir" => %dir.display(), "new" => is_new, "snapshot" => snap_index,
            "last_index" => last, "commit" => commit);

        Ok(DiskStorage {
            inner: Arc::new(Inner {
                dir: dir.into(),
                is_new,
                metadata: wal.metadata().clone(),
                keep_snapshots: options.keep_snapshots.max(1),
                mem: RwLock::new(mem),
                disk: Mutex::new(Disk {
                    wal,
                    snapshotter,
                    _lock: lock,
                }),
            }),
        })
    }

    /// True if the directory held no raft state before
    /// [`DiskStorage::open`] (no WAL, or one that a crash left empty right
    /// after creating it): the caller bootstraps the node (`start_node`,
    /// `RawNode::bootstrap`); false if it restarts from this storage.
    pub fn is_new(&self) -> bool {
        self.inner.is_new
    }

    /// The metadata the WAL was created with ([`Options::metadata`] of the
    /// first opening; later openings read it back and ignore theirs).
    pub fn metadata(&self) -> &Bytes {
        &self.inner.metadata
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Persists a `Ready` in the order raft requires, before its messages
    /// are sent: see [`DiskStorage::persist_parts`].
    pub fn persist(&self, rd: &Ready) -> Result<(), StorageError> {
        self.persist_parts(
            rd.hard_state.as_ref(),
            &rd.entries,
            rd.snapshot.as_ref(),
            rd.must_sync,
        )
    }

    /// Persists the parts of a `Ready` (or of a `MsgStorageAppend`, with
    /// asynchronous storage writes): first the snapshot's file (fsynced),
    /// then one WAL batch holding the snapshot's marker, the entries and the
    /// hard state with one fsync (if `must_sync`, or if there is a
    /// snapshot), then the in-memory storage; finally, after a snapshot, the
    /// WAL segments and snapshot files it makes obsolete are deleted.
    ///
    /// On error nothing was added to the in-memory storage; what reached the
    /// disk is unknown, and the WAL refuses further writes.
    pub fn persist_parts(
        &self,
        hard_state: Option<&HardState>,
        entries: &[Entry],
        snapshot: Option<&Snapshot>,
        must_sync: bool,
    ) -> Result<(), StorageError> {
        let mut disk = self.disk();
        let snapshot = snapshot.filter(|s| s.metadata.index > 0);
        {
            let mem = self.mem_read();
            if let Some(s) = snapshot {
                // Only with a snapshot: cloning the current one is not free.
                let current = mem.snapshot()?.metadata.index;
                if s.metadata.index <= current {
                    return Err(StorageError::SnapshotOutOfDate {
                        index: s.metadata.index,
                        current,
                    });
                }
            }
            if let Some(first) = entries.first() {
                let last = match snapshot {
                    Some(s) => s.metadata.index,
                    None => mem.last_index()?,
                };
                if first.index > last + 1 {
                    return Err(StorageError::EntryGap {
                        first: first.index,
                        last,
                    });
                }
            }
        }
        if let Some(s) = snapshot {
            disk.snapshotter.save(s)?;
        }
        let marker = snapshot.map(|s| &s.metadata);
        disk.wal
            .save_batch(marker, hard_state, entries, must_sync || marker.is_some())?;
        {
            let mut mem = self.mem_write();
            if let Some(s) = snapshot {
                mem.apply_snapshot(s.clone())?;
            }
            if let Some(hs) = hard_state {
                mem.set_hard_state(*hs)?;
            }
            mem.append(entries)?;
        }
        if let Some(s) = snapshot {
            self.release(&mut disk, s.metadata.index)?;
        }
        Ok(())
    }

    /// Persists a `MsgStorageAppend` (raft's asynchronous storage writes,
    /// `Config::async_storage_writes`): its hard state (carried in `term`,
    /// `vote` and `commit`, all zero when unchanged), entries and snapshot,
    /// as [`DiskStorage::persist_parts`] does, synced. The caller then
    /// delivers `m.responses`.
    pub fn persist_append(&self, m: &Message) -> Result<(), StorageError> {
        let hs = HardState {
            term: m.term,
            vote: m.vote,
            commit: m.commit,
        };
        let hs = (hs != HardState::default()).then_some(hs);
        self.persist_parts(hs.as_ref(), &m.entries, m.snapshot.as_deref(), true)
    }

    /// Takes a snapshot of the application's state `data` at applied index
    /// `index`, with configuration `conf_state`: writes its file, records its
    /// marker in the WAL, makes it the in-memory snapshot, then deletes the
    /// WAL segments and old snapshot files it makes obsolete.
    pub fn create_snapshot(
        &self,
        index: u64,
        conf_state: ConfState,
        data: Bytes,
    ) -> Result<Snapshot, StorageError> {
        let mut disk = self.disk();
        let term = {
            let mem = self.mem_read();
            let current = mem.snapshot()?.metadata.index;
            if index <= current {
                return Err(StorageError::SnapshotOutOfDate { index, current });
            }
            let last = mem.last_index()?;
            if index > last {
                return Err(StorageError::BeyondLog { index, last });
            }
            mem.term(index)?
        };
        let snapshot = Snapshot {
            data,
            metadata: SnapshotMetadata {
                conf_state,
                index,
                term,
            },
        };
        disk.snapshotter.save(&snapshot)?;
        disk.wal.save_snapshot(&snapshot.metadata)?;
        self.mem_write().create_snapshot(
            index,
            Some(snapshot.metadata.conf_state.clone()),
            snapshot.data.clone(),
        )?;
        self.release(&mut disk, index)?;
        Ok(snapshot)
    }

    /// Deletes what a durable snapshot at `index` makes obsolete.
    fn release(&self, disk: &mut Disk, index: u64) -> Result<(), StorageError> {
        disk.wal.release_to(index)?;
        disk.snapshotter.purge(self.inner.keep_snapshots)
    }

    /// Drops the in-memory entries up to `index` (pass an index below the
    /// snapshot's to keep a tail for slow followers). Compacting to an index
    /// already compacted does nothing; compacting past the newest snapshot
    /// is refused, as the entries in between could then reach a follower by
    /// no means.
    pub fn compact(&self, index: u64) -> Result<(), StorageError> {
        let mut mem = self.mem_write();
        let snapshot = mem.snapshot()?.metadata.index;
        if index > snapshot {
            return Err(StorageError::CompactBeyondSnapshot { index, snapshot });
        }
        if index < mem.first_index()? {
            return Ok(());
        }
        mem.compact(index)?;
        Ok(())
    }

    /// The last hard state persisted.
    pub fn hard_state(&self) -> HardState {
        self.mem_read().hard_state()
    }

    /// How many WAL batches were fsynced since the storage was opened (see
    /// [`Wal::syncs`]).
    pub fn wal_syncs(&self) -> u64 {
        self.disk().wal.syncs()
    }

    fn disk(&self) -> MutexGuard<'_, Disk> {
        // A panic while writing leaves the WAL in an unknown state: that is
        // a broken invariant, not something to go on from.
        self.inner.disk.lock().expect("storage writer panicked")
    }

    fn mem_read(&self) -> std::sync::RwLockReadGuard<'_, MemStorage> {
        self.inner.mem.read().expect("storage writer panicked")
    }

    fn mem_write(&self) -> std::sync::RwLockWriteGuard<'_, MemStorage> {
        self.inner.mem.write().expect("storage writer panicked")
    }
}

impl Storage for DiskStorage {
    fn initial_state(&self) -> raft::Result<(HardState, ConfState)> {
        self.mem_read().initial_state()
    }

    fn entries(&self, lo: u64, hi: u64, max_size: u64) -> raft::Result<Vec<Entry>> {
        self.mem_read().entries(lo, hi, max_size)
    }

    fn term(&self, i: u64) -> raft::Result<u64> {
        self.mem_read().term(i)
    }

    fn last_index(&self) -> raft::Result<u64> {
        self.mem_read().last_index()
    }

    fn first_index(&self) -> raft::Result<u64> {
        self.mem_read().first_index()
    }

    fn snapshot(&self) -> raft::Result<Snapshot> {
        self.mem_read().snapshot()
    }
}
