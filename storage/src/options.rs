//! The options of [`crate::DiskStorage`] and [`crate::Wal`].

use std::sync::Arc;

use bytes::Bytes;

use crate::fs::{FileSystem, RealFs};

/// The default size at which a WAL segment is cut and a new one begun.
pub const DEFAULT_SEGMENT_SIZE: u64 = 64 * 1024 * 1024;

/// How a data directory is laid out and written.
#[derive(Clone, Debug)]
pub struct Options {
    /// Segments are preallocated to this size and a new one is begun once a
    /// write takes the current one past it (default 64 MiB, as etcd).
    pub segment_size: u64,
    /// How many snapshot files to keep; older ones are deleted after a new
    /// one is saved (default 5, as etcd's `--max-snapshots`). At least 1.
    pub keep_snapshots: usize,
    /// Opaque bytes written at the start of every segment when the WAL is
    /// created (etcd keeps the node and cluster ids there).
    pub metadata: Bytes,
    /// The file system to write to: [`RealFs`] unless a test injects faults.
    pub file_system: Arc<dyn FileSystem>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            segment_size: DEFAULT_SEGMENT_SIZE,
            keep_snapshots: 5,
            metadata: Bytes::new(),
            file_system: RealFs::shared(),
        }
    }
}
