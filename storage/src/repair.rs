//! Repair of a torn tail (etcd's `Repair`): the last segment ends in a write
//! that a crash interrupted, so it is cut back to the last whole frame and
//! preallocated again. Kept apart from reading so that reading never writes:
//! the WAL decides to repair only after the whole log was read and the
//! damage was found to be a torn tail of the last segment.

use std::path::Path;

use crate::error::StorageError;
use crate::fs::{FileSystem, FsFile};

/// Cuts the segment at `path` back to `valid_len` bytes (the end of its last
/// whole frame), preallocates it to `size` again so that the bytes after the
/// records are zeros, makes that durable, and returns it open for writing.
pub fn truncate_torn_tail(
    fs: &dyn FileSystem,
    path: &Path,
    valid_len: u64,
    size: u64,
) -> Result<Box<dyn FsFile>, StorageError> {
    let mut file = fs
        .open_write(path)
        .map_err(|e| StorageError::io("open", path, e))?;
    file.set_len(valid_len)
        .map_err(|e| StorageError::io("truncate", path, e))?;
    file.allocate(size.max(valid_len))
        .map_err(|e| StorageError::io("preallocate", path, e))?;
    file.sync_all()
        .map_err(|e| StorageError::io("fsync", path, e))?;
    Ok(file)
}
