//! The errors of this crate: every one names the file (and, for a damaged
//! file, the byte offset) and says what was expected.

use std::io;
use std::path::PathBuf;

use crate::record::RecordKind;

/// What went wrong while storing or loading raft state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A file-system call failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done: "open", "write", "fsync", "rename", ...
        op: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A file's contents are damaged (and not just a torn tail of the log).
    #[error("{path} at byte {offset}: {what}")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Where in the file the damage starts.
        offset: u64,
        /// What was found, and what was expected instead.
        what: Corruption,
    },
    /// Another process (or another handle in this one) has the directory open.
    #[error("{path}: locked by another user of the directory (expected exclusive use)")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// `Wal::open_at` on a directory without segments.
    #[error("{dir}: no WAL segment (*.wal) found")]
    NoWal {
        /// The WAL directory.
        dir: PathBuf,
    },
    /// `Wal::create` on a directory that already holds segments.
    #[error("{dir}: a WAL already exists (expected no *.wal files)")]
    WalExists {
        /// The WAL directory.
        dir: PathBuf,
    },
    /// The WAL has no marker of the snapshot it was asked to open at.
    #[error("{dir}: the WAL holds no marker of the snapshot at index {index} term {term}")]
    SnapshotNotFound {
        /// The WAL directory.
        dir: PathBuf,
        /// The snapshot's index.
        index: u64,
        /// The snapshot's term.
        term: u64,
    },
    /// The oldest segment left starts after the snapshot asked for: the
    /// entries in between were released.
    #[error("{dir}: the oldest WAL segment {oldest} starts after index {index}: the entries between are gone")]
    EntriesReleased {
        /// The WAL directory.
        dir: PathBuf,
        /// The name of the oldest segment.
        oldest: String,
        /// The snapshot index asked for.
        index: u64,
    },
    /// Segment sequence numbers are not consecutive.
    #[error("{dir}: WAL segment {expected:016x} is missing (found {found} next)")]
    SegmentMissing {
        /// The WAL directory.
        dir: PathBuf,
        /// The sequence number expected next.
        expected: u64,
        /// The name of the segment found instead.
        found: String,
    },
    /// An earlier write or fsync of the WAL failed, so what is on disk is
    /// unknown; the only way on is to reopen the directory.
    #[error("{dir}: an earlier write or fsync failed; reopen the directory to go on")]
    Failed {
        /// The WAL directory.
        dir: PathBuf,
    },
    /// A record would not fit in a frame.
    #[error("a {kind} record of {len} bytes exceeds the maximum of {max} bytes")]
    RecordTooLarge {
        /// What record.
        kind: RecordKind,
        /// Its encoded length.
        len: usize,
        /// The format's limit.
        max: usize,
    },
    /// A snapshot that is not newer than the one already held.
    #[error("snapshot at index {index} is out of date (expected an index above {current})")]
    SnapshotOutOfDate {
        /// The index asked for.
        index: u64,
        /// The index of the snapshot held.
        current: u64,
    },
    /// An index past the end of the log.
    #[error("index {index} is beyond the last index {last} of the log")]
    BeyondLog {
        /// The index asked for.
        index: u64,
        /// The log's last index.
        last: u64,
    },
    /// An index already compacted away.
    #[error("index {index} is compacted (expected at least {first})")]
    Compacted {
        /// The index asked for.
        index: u64,
        /// The first index still held.
        first: u64,
    },
    /// `compact` past the newest snapshot, which would leave entries that
    /// neither the log nor a snapshot can give to a lagging follower.
    #[error("cannot compact to {index} beyond the snapshot at {snapshot}")]
    CompactBeyondSnapshot {
        /// The index asked for.
        index: u64,
        /// The newest snapshot's index.
        snapshot: u64,
    },
    /// A hard state whose commit index is outside the log that was read.
    #[error("{dir}: the hard state's commit index {commit} is outside the log [{first}, {last}]")]
    CommitOutOfRange {
        /// The data directory.
        dir: PathBuf,
        /// The commit index.
        commit: u64,
        /// The snapshot's index (the lowest commit index possible).
        first: u64,
        /// The last index.
        last: u64,
    },
    /// An error of raft's in-memory storage.
    #[error("in-memory storage: {0}")]
    Raft(#[from] raft::Error),
    /// Entries that do not follow the log.
    #[error("entries starting at index {first} would leave a gap after the last index {last}")]
    EntryGap {
        /// The first index of the entries.
        first: u64,
        /// The log's last index.
        last: u64,
    },
}

/// What was wrong in a damaged file, and what was expected instead.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Corruption {
    /// The header's own check value does not match.
    #[error(
        "frame header check {found:#010x} does not match its content (expected {expected:#010x})"
    )]
    HeaderCheck {
        /// The check computed from the header.
        expected: u32,
        /// The check stored.
        found: u32,
    },
    /// The chained CRC of a frame does not match.
    #[error("record crc {found:#010x} does not match (expected {expected:#010x})")]
    CrcMismatch {
        /// The crc computed from the chain and the record.
        expected: u32,
        /// The crc stored.
        found: u32,
    },
    /// A header names a kind this format does not have.
    #[error("unknown record kind {0} (expected 1 to 5)")]
    UnknownKind(u8),
    /// Reserved header bits or padding bytes are not zero.
    #[error("reserved header bits or frame padding are not zero")]
    Reserved,
    /// A header announces a payload larger than the format allows.
    #[error("record length {len} exceeds the maximum of {max}")]
    TooLong {
        /// The length announced.
        len: u64,
        /// The format's limit.
        max: u64,
    },
    /// A frame runs past the end of the file.
    #[error("frame of {needed} bytes runs past the end of the file ({available} bytes left)")]
    Truncated {
        /// The frame's length.
        needed: u64,
        /// The bytes left in the file.
        available: u64,
    },
    /// The records end in the middle of a batch.
    #[error("the records end inside a batch (expected a frame marked as the end of the batch)")]
    UnfinishedBatch,
    /// Non-zero bytes after the end of the log in a segment.
    #[error("non-zero bytes after the end of the records (expected zeros to the end of the file)")]
    GarbageAfterEnd,
    /// A payload that does not decode as its kind says.
    #[error("{kind} payload does not decode: {error}")]
    Payload {
        /// The record's kind.
        kind: RecordKind,
        /// Prost's message.
        error: String,
    },
    /// A segment that does not begin with a crc record.
    #[error("segment starts with a {found} record (expected a crc record)")]
    NoCrcRecord {
        /// The kind found.
        found: RecordKind,
    },
    /// A segment that does not begin with a crc record and metadata.
    #[error("segment has no metadata record (expected one right after the crc record)")]
    NoMetadata,
    /// A segment whose opening crc does not continue the previous one.
    #[error("segment starts from crc {found:#010x} (expected {expected:#010x}, where the previous segment ended)")]
    ChainBreak {
        /// Where the previous segment ended.
        expected: u32,
        /// What this segment says.
        found: u32,
    },
    /// A head record (crc, metadata) after the head of a segment.
    #[error("{kind} record after the head of the segment (expected an entry, hard state or snapshot marker)")]
    Misplaced {
        /// The record's kind.
        kind: RecordKind,
    },
    /// Segments with different metadata.
    #[error("metadata differs from the first segment's")]
    MetadataMismatch,
    /// An entry whose index leaves a gap after the entries before it.
    #[error("entry index {found} leaves a gap (expected at most {expected})")]
    EntryGap {
        /// The largest index that could follow.
        expected: u64,
        /// The index found.
        found: u64,
    },
    /// A snapshot marker at the wanted index, with another term.
    #[error("snapshot marker at index {index} has term {found} (expected {expected})")]
    SnapshotTerm {
        /// The index.
        index: u64,
        /// The term asked for.
        expected: u64,
        /// The term found.
        found: u64,
    },
    /// A snapshot file shorter or longer than its header says.
    #[error("snapshot file holds {found} payload bytes (expected {expected})")]
    SnapshotLength {
        /// The length in the header.
        expected: u64,
        /// The bytes present.
        found: u64,
    },
    /// A snapshot file whose content is not the snapshot its name says.
    #[error("snapshot file holds index {index} term {term} (expected what its name says)")]
    SnapshotName {
        /// The index inside.
        index: u64,
        /// The term inside.
        term: u64,
    },
}

impl StorageError {
    /// A file-system error on `path`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StorageError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Damage at `offset` of `path`.
    pub(crate) fn corrupt(path: impl Into<PathBuf>, offset: u64, what: Corruption) -> Self {
        StorageError::Corrupt {
            path: path.into(),
            offset,
            what,
        }
    }
}
