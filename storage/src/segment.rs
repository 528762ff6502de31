//! WAL segment files: their names, listing them, and bringing a new one into
//! place (a preallocated temp file, fsynced, renamed, directory fsynced).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::StorageError;
use crate::files::{hex_pair_name, parse_hex_pair, remove_temp_files, write_new_file};
use crate::fs::{FileSystem, FsFile};

/// The suffix of segment files.
pub const SEGMENT_SUFFIX: &str = ".wal";

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
        let (seq, first_index) = parse_hex_pair(name, SEGMENT_SUFFIX)?;
        Some(SegmentName { seq, first_index })
    }

    /// The segment's path in `dir`.
    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(self.to_string())
    }
}

impl fmt::Display for SegmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex_pair_name(self.seq, self.first_index, SEGMENT_SUFFIX))
    }
}

/// The segments in `dir`, oldest first. Left-over temp files of a crash are
/// deleted on the way (they were never renamed, so nothing refers to them).
pub fn list_segments(fs: &dyn FileSystem, dir: &Path) -> Result<Vec<SegmentName>, StorageError> {
    let names = fs.list(dir).map_err(|e| StorageError::io("list", dir, e))?;
    remove_temp_files(fs, dir, &names)?;
    let mut segments: Vec<SegmentName> =
        names.iter().filter_map(|n| SegmentName::parse(n)).collect();
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
    let file = write_new_file(fs, dir, &name.to_string(), head, Some(size))?;
    Ok(SegmentWriter {
        name,
        path: name.path(dir),
        file,
        offset: head.len() as u64,
    })
}
