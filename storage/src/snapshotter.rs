//! Snapshot files (etcd's `snap.Snapshotter`): one file per snapshot, named
//! by term and index, with a CRC of its contents, brought into place by a
//! temp file, fsync, rename and directory fsync. The format is in the crate
//! documentation ("Snapshot files").

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use prost::Message;
use raft::eraftpb::Snapshot;

use crate::error::{Corruption, StorageError};
use crate::files::{create_dir, hex_pair_name, parse_hex_pair, remove_temp_files, write_new_file};
use crate::fs::FileSystem;
use crate::options::Options;
use crate::record::SnapshotMarker;

/// The suffix of snapshot files.
pub const SNAP_SUFFIX: &str = ".snap";
/// The suffix given to snapshot files found corrupt.
pub const BROKEN_SUFFIX: &str = ".broken";
/// The length of a snapshot file's header: payload length and crc.
const HEADER_LEN: usize = 12;

/// Saves and loads the snapshot files of a directory.
#[derive(Debug)]
pub struct Snapshotter {
    fs: Arc<dyn FileSystem>,
    dir: PathBuf,
    logger: slog::Logger,
}

/// The term and index a snapshot file is named after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SnapName {
    /// The index (first, so that names sort by it).
    pub index: u64,
    /// The term.
    pub term: u64,
}

impl SnapName {
    /// Parses `<term:016x>-<index:016x>.snap`.
    pub fn parse(name: &str) -> Option<SnapName> {
        let (term, index) = parse_hex_pair(name, SNAP_SUFFIX)?;
        Some(SnapName { index, term })
    }

    /// The file name.
    pub fn file_name(&self) -> String {
        hex_pair_name(self.term, self.index, SNAP_SUFFIX)
    }
}

impl Snapshotter {
    /// A snapshotter for `dir`, created if missing. Left-over temp files of
    /// a crash are deleted.
    pub fn new(
        dir: &Path,
        options: &Options,
        logger: &slog::Logger,
    ) -> Result<Snapshotter, StorageError> {
        let fs = options.file_system.clone();
        create_dir(&*fs, dir)?;
        let names = fs.list(dir).map_err(|e| StorageError::io("list", dir, e))?;
        remove_temp_files(&*fs, dir, &names)?;
        Ok(Snapshotter {
            fs,
            dir: dir.into(),
            logger: logger.clone(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `snapshot` durably. The empty snapshot (index 0) is not
    /// written.
    pub fn save(&self, snapshot: &Snapshot) -> Result<(), StorageError> {
        let meta = &snapshot.metadata;
        if meta.index == 0 {
            return Ok(());
        }
        let name = SnapName {
            index: meta.index,
            term: meta.term,
        };
        let payload = snapshot.encode_to_vec();
        let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        write_new_file(&*self.fs, &self.dir, &name.file_name(), &bytes, None)?;
        slog::info!(self.logger, "saved snapshot"; "index" => meta.index, "term" => meta.term);
        Ok(())
    }

    /// The snapshot files present, newest first.
    pub fn list(&self) -> Result<Vec<SnapName>, StorageError> {
        let names = self
            .fs
            .list(&self.dir)
            .map_err(|e| StorageError::io("list", &self.dir, e))?;
        let mut snaps: Vec<SnapName> = names.iter().filter_map(|n| SnapName::parse(n)).collect();
        snaps.sort_unstable_by(|a, b| b.cmp(a));
        Ok(snaps)
    }

    /// Reads and checks the snapshot file named `name`.
    pub fn load(&self, name: SnapName) -> Result<Snapshot, StorageError> {
        let path = self.dir.join(name.file_name());
        let bytes = self
            .fs
            .read(&path)
            .map_err(|e| StorageError::io("read", &path, e))?;
        let snapshot = decode_snapshot_file(&bytes)
            .map_err(|(offset, what)| StorageError::corrupt(&path, offset, what))?;
        let meta = &snapshot.metadata;
        if meta.index != name.index || meta.term != name.term {
            let what = Corruption::SnapshotName {
                index: meta.index,
                term: meta.term,
            };
            return Err(StorageError::corrupt(&path, HEADER_LEN as u64, what));
        }
        Ok(snapshot)
    }

    /// The newest snapshot that has a marker among `markers` (the WAL's
    /// valid ones) and whose file is sound. A corrupt file is renamed to
    /// `*.broken` and the next older one is tried; a snapshot file without
    /// a marker (written, but the crash came before the WAL recorded it) is
    /// passed over and left alone.
    pub fn load_newest(
        &self,
        markers: &[SnapshotMarker],
    ) -> Result<Option<Snapshot>, StorageError> {
        let wanted: HashSet<SnapName> = markers
            .iter()
            .map(|m| SnapName {
                index: m.index,
                term: m.term,
            })
            .collect();
        for name in self.list()? {
            if !wanted.contains(&name) {
                continue;
            }
            match self.load(name) {
                Ok(snapshot) => return Ok(Some(snapshot)),
                Err(StorageError::Corrupt { path, offset, what }) => {
                    slog::warn!(self.logger, "snapshot file is corrupt: setting it aside";
                        "file" => %path.display(), "offset" => offset, "error" => %what);
                    let broken = PathBuf::from(format!("{}{BROKEN_SUFFIX}", path.display()));
                    self.fs
                        .rename(&path, &broken)
                        .map_err(|e| StorageError::io("rename", &path, e))?;
                    self.fs
                        .sync_dir(&self.dir)
                        .map_err(|e| StorageError::io("fsync", &self.dir, e))?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Deletes all but the newest `keep` snapshot files (at least one is
    /// always kept).
    pub fn purge(&self, keep: usize) -> Result<(), StorageError> {
        let old = self
            .list()?
            .into_iter()
            .skip(keep.max(1))
            .collect::<Vec<_>>();
        for name in &old {
            let path = self.dir.join(name.file_name());
            self.fs
                .remove_file(&path)
                .map_err(|e| StorageError::io("remove", &path, e))?;
        }
        if !old.is_empty() {
            self.fs
                .sync_dir(&self.dir)
                .map_err(|e| StorageError::io("fsync", &self.dir, e))?;
        }
        Ok(())
    }
}

/// Decodes the bytes of a snapshot file, or says at which offset and why it
/// is damaged. Pure, for fuzzers and tests.
pub fn decode_snapshot_file(bytes: &[u8]) -> Result<Snapshot, (u64, Corruption)> {
    if bytes.len() < HEADER_LEN {
        let what = Corruption::Truncated {
            needed: HEADER_LEN as u64,
            available: bytes.len() as u64,
        };
        return Err((0, what));
    }
    let len = u64::from_le_bytes(bytes[0..8].try_into().expect("8 bytes"));
    let found = (bytes.len() - HEADER_LEN) as u64;
    if len != found {
        return Err((
            0,
            Corruption::SnapshotLength {
                expected: len,
                found,
            },
        ));
    }
    let stored = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    let payload = &bytes[HEADER_LEN..];
    let computed = crc32c::crc32c(payload);
    if computed != stored {
        let what = Corruption::CrcMismatch {
            expected: computed,
            found: stored,
        };
        return Err((8, what));
    }
    Snapshot::decode(Bytes::copy_from_slice(payload)).map_err(|e| {
        let what = Corruption::Payload {
            kind: crate::record::RecordKind::Snapshot,
            error: e.to_string(),
        };
        (HEADER_LEN as u64, what)
    })
}
