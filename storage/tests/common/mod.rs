//! Helpers shared by the storage tests: loggers, entries, directories.

#![allow(dead_code)]

pub mod fault_fs;

use std::path::Path;

use bytes::Bytes;
use etcdraft_storage::Options;
use raft::eraftpb::{Entry, HardState};

/// A logger that drops everything.
pub fn logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

/// Options with small segments, so that tests roll over often.
pub fn options(segment_size: u64) -> Options {
    Options {
        segment_size,
        ..Options::default()
    }
}

/// An entry whose payload tells its index and term apart from any other's.
pub fn entry(index: u64, term: u64, size: usize) -> Entry {
    let mut data = format!("{index}/{term}:").into_bytes();
    data.resize(size.max(data.len()), b'a' + (index % 26) as u8);
    Entry {
        term,
        index,
        data: Bytes::from(data),
        ..Default::default()
    }
}

/// Entries `lo..=hi` of `term`.
pub fn entries(lo: u64, hi: u64, term: u64, size: usize) -> Vec<Entry> {
    (lo..=hi).map(|i| entry(i, term, size)).collect()
}

/// A hard state.
pub fn hs(term: u64, vote: u64, commit: u64) -> HardState {
    HardState { term, vote, commit }
}

/// The `.wal` files of a WAL directory, oldest first.
pub fn segment_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect();
    files.sort();
    files
}
