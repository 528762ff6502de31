//! An exclusive lock on a directory, held through a `LOCK` file, so that a
//! second process (or a second handle in this one) cannot write to it.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::error::StorageError;

/// The name of the lock file in a locked directory.
pub(crate) const LOCK_FILE: &str = "LOCK";

/// Holds the lock until dropped (closing the file releases it).
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock of `dir`, failing at once if someone holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, StorageError> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StorageError::io("open", &path, e))?;
        // flock, as std's File::try_lock does (which needs Rust 1.89, newer
        // than the workspace's rust-version): the lock belongs to this open
        // file, so a second open of the same path conflicts even in the same
        // process, and it goes away with the process.
        // SAFETY: flock only reads the descriptor, which `file` keeps open.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r == 0 {
            return Ok(DirLock { _file: file });
        }
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::WouldBlock {
            Err(StorageError::Locked { path })
        } else {
            Err(StorageError::io("lock", &path, err))
        }
    }
}
