//! How this crate's files are named (two 16-digit hex numbers and a
//! suffix), and how a new file is brought into place: written as `*.tmp`,
//! fsynced, renamed, and its directory fsynced, so that a crash leaves
//! either no file of that name or the whole of it.

use std::path::Path;

use crate::error::StorageError;
use crate::fs::{FileSystem, FsFile};

/// The suffix of files being written before they are renamed into place.
pub const TMP_SUFFIX: &str = ".tmp";

/// `<a:016x>-<b:016x><suffix>`.
pub(crate) fn hex_pair_name(a: u64, b: u64, suffix: &str) -> String {
    format!("{a:016x}-{b:016x}{suffix}")
}

/// Parses a name made by [`hex_pair_name`].
pub(crate) fn parse_hex_pair(name: &str, suffix: &str) -> Option<(u64, u64)> {
    let stem = name.strip_suffix(suffix)?;
    let (a, b) = stem.split_once('-')?;
    if a.len() != 16 || b.len() != 16 {
        return None;
    }
    Some((
        u64::from_str_radix(a, 16).ok()?,
        u64::from_str_radix(b, 16).ok()?,
    ))
}

/// Creates `dir` if it is missing, and makes its entry in the parent durable.
pub(crate) fn create_dir(fs: &dyn FileSystem, dir: &Path) -> Result<(), StorageError> {
    fs.create_dir_all(dir)
        .map_err(|e| StorageError::io("create directory", dir, e))?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs.sync_dir(parent)
            .map_err(|e| StorageError::io("fsync", parent, e))?;
    }
    Ok(())
}

/// Deletes the temp files among `names` (the entries of `dir`): left by a
/// crash, never renamed, so nothing refers to them.
pub(crate) fn remove_temp_files(
    fs: &dyn FileSystem,
    dir: &Path,
    names: &[String],
) -> Result<(), StorageError> {
    let mut removed = false;
    for name in names.iter().filter(|n| n.ends_with(TMP_SUFFIX)) {
        let path = dir.join(name);
        fs.remove_file(&path)
            .map_err(|e| StorageError::io("remove", &path, e))?;
        removed = true;
    }
    if removed {
        fs.sync_dir(dir)
            .map_err(|e| StorageError::io("fsync", dir, e))?;
    }
    Ok(())
}

/// Writes `bytes` to a new file `name` in `dir`, first preallocated to
/// `size` bytes if given, and brings it into place durably; returns it open
/// for writing.
pub(crate) fn write_new_file(
    fs: &dyn FileSystem,
    dir: &Path,
    name: &str,
    bytes: &[u8],
    size: Option<u64>,
) -> Result<Box<dyn FsFile>, StorageError> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}{TMP_SUFFIX}"));
    let mut file = match fs.create_new(&tmp) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Left by an earlier failed attempt of this process.
            fs.remove_file(&tmp)
                .map_err(|e| StorageError::io("remove", &tmp, e))?;
            fs.create_new(&tmp)
        }
        r => r,
    }
    .map_err(|e| StorageError::io("create", &tmp, e))?;
    if let Some(size) = size {
        file.allocate(size)
            .map_err(|e| StorageError::io("preallocate", &tmp, e))?;
    }
    file.write_all_at(bytes, 0)
        .map_err(|e| StorageError::io("write", &tmp, e))?;
    file.sync_all()
        .map_err(|e| StorageError::io("fsync", &tmp, e))?;
    fs.rename(&tmp, &path)
        .map_err(|e| StorageError::io("rename", &tmp, e))?;
    fs.sync_dir(dir)
        .map_err(|e| StorageError::io("fsync", dir, e))?;
    Ok(file)
}
