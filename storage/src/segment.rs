//! WAL segment files: their names, listing them, and bringing a new one into
//! place (a preallocated temp file, fsynced, renamed, directory fsynced).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::StorageError;
use crate::fs::{FileSystem, FsFile};

/// The suffix of segment files.
pub const SEGMENT_SUFFIX: &str = ".wal";
/// The suffix of files being written before they are renamed into place.
pub const TMP_SUFFIX: &str = ".tmp";

/// The name of a segment: `<seq:016x>-<first index:016x>.wal`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SegmentName {
    /// The sequence number, counting up from 0 without gaps.
    pub seq: u64,
    /// The index of the first entry the segment may hold.
    pub first_index: u64,
}

impl SegmentName {
    /// Parses a file name; `None` if it is not a segment's.
    pub fn parse(name: &str) -> Option<SegmentName> {
        let stem = name.strip_suffix(SEGMENT_SUFFIX)?;
        let (seq, index) = stem.split_once('-')?;
        if seq.len() != 16 || index.len() != 16 {
            return None;
        }
        Some(SegmentName {
            seq: u64::from_str_radix(seq, 16).ok()?,
            first_index: u64::from_str_radix(index, 16).ok()?,
        })
    }

    /// The segment's path in `dir`.
    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(self.to_string())
    }
}

impl fmt::Display for SegmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:016x}-{:016x}{SEGMENT_SUFFIX}",
            self.seq, self.first_index
        )
    }
}

/// The segments in `dir`, oldest first. Left-over temp files of a crash are
/// deleted on the way (they were never renamed, so nothing refers to them).
pub fn list_segments(fs: &dyn FileSystem, dir: &Path) -> Result<Vec<SegmentName>, StorageError> {
    let names = fs.list(dir).map_err(|e| StorageError::io("list", dir, e))?;
    let mut segments = Vec::new();
    let mut removed = false;
    for name in names {
        if let Some(seg) = SegmentName::parse(&name) {
            segments.push(seg);
        } else if name.ends_with(TMP_SUFFIX) {
            let path = dir.join(&name);
            fs.remove_file(&path)
                .map_err(|e| StorageError::io("remove", &path, e))?;
            removed = true;
        }
    }
    if removed {
        fs.sync_dir(dir)
            .map_err(|e| StorageError::io("fsync", dir, e))?;
    }
    segments.sort();
    Ok(segments)
}

/// The segment being appended to.
#[derive(Debug)]
pub struct SegmentWriter {
    /// Its name.
    pub name: SegmentName,
    /// Its path.
    pub path: PathBuf,
    /// The open file.
    pub file: Box<dyn FsFile>,
    /// Where the next frame goes (the end of the last frame).
    pub offset: u64,
}

impl SegmentWriter {
    /// Writes `bytes` at the end of the segment (not synced).
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.file
            .write_all_at(bytes, self.offset)
            .map_err(|e| StorageError::io("write", &self.path, e))?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// `fdatasync`s the segment.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        self.file
            .sync_data()
            .map_err(|e| StorageError::io("fdatasync", &self.path, e))
    }

    /// Cuts the segment to its exact length and makes that durable: it is
    /// done with, and a later segment follows it.
    pub fn seal(&mut self) -> Result<(), StorageError> {
        self.file
            .set_len(self.offset)
            .map_err(|e| StorageError::io("truncate", &self.path, e))?;
        self.file
            .sync_all()
            .map_err(|e| StorageError::io("fsync", &self.path, e))
    }
}

/// Writes a new segment holding `head` (its first frames), preallocated to
/// `size` bytes, and brings it into place atomically: a crash leaves either
/// no segment of that name or the complete one.
pub fn create_segment(
    fs: &dyn FileSystem,
    dir: &Path,
    name: SegmentName,
    head: &[u8],
    size: u64,
) -> Result<SegmentWriter, StorageError> {
    let path = name.path(dir);
    let tmp = dir.join(format!("{name}{TMP_SUFFIX}"));
    let mut file = fs
        .create_new(&tmp)
        .map_err(|e| StorageError::io("create", &tmp, e))?;
    file.allocate(size)
        .map_err(|e| StorageError::io("preallocate", &tmp, e))?;
    file.write_all_at(head, 0)
        .map_err(|e| StorageError::io("write", &tmp, e))?;
    file.sync_all()
        .map_err(|e| StorageError::io("fsync", &tmp, e))?;
    fs.rename(&tmp, &path)
        .map_err(|e| StorageError::io("rename", &tmp, e))?;
    fs.sync_dir(dir)
        .map_err(|e| StorageError::io("fsync", dir, e))?;
    Ok(SegmentWriter {
        name,
        path,
        file,
        offset: head.len() as u64,
    })
}
