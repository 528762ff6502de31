//! Durable storage for raft: a segmented write-ahead log ([`Wal`]), a
//! [`Snapshotter`], and [`DiskStorage`], which bundles both with a
//! [`raft::MemStorage`] (etcd's `wal` and `snap` packages, and the start of
//! raftexample's `startRaft`: load the newest snapshot, replay the WAL from
//! it, fill an in-memory storage with both).
//!
//! ```no_run
//! # fn main() -> Result<(), etcdraft_storage::StorageError> {
//! # let logger = slog::Logger::root(slog::Discard, slog::o!());
//! use etcdraft_storage::{DiskStorage, Options};
//! let storage = DiskStorage::open("data/node-1", &Options::default(), &logger)?;
//! // storage.is_new(): bootstrap the node; otherwise restart it from `storage`.
//! // For each Ready: storage.persist(&rd)?, then send rd.messages, then apply.
//! # Ok(()) }
//! ```
//!
//! # Layout of a data directory
//!
//! ```text
//! <dir>/LOCK                                     held (flock) by the DiskStorage that has it open
//! <dir>/wal/LOCK                                 held by the Wal
//! <dir>/wal/<seq:016x>-<first index:016x>.wal    WAL segments, seq counting up from 0
//! <dir>/snap/<term:016x>-<index:016x>.snap       snapshot files
//! <dir>/snap/*.snap.broken                       snapshots found corrupt, set aside
//! ```
//!
//! Files are only ever brought into place by writing a `*.tmp` file,
//! fsyncing it, renaming it and fsyncing the directory; left-over `*.tmp`
//! files from a crash are deleted when the directory is opened.
//!
//! # On-disk format of the WAL
//!
//! This section is the one description of the format; the code refers to it.
//!
//! A segment is a sequence of *frames*, each starting at a multiple of 8
//! bytes. All integers are little-endian.
//!
//! ```text
//! offset  size  field
//!  0      4     len    length of the payload in bytes (at most 1 GiB)
//!  4      1     kind   1 crc, 2 metadata, 3 entry, 4 hard state, 5 snapshot marker
//!  5      1     flags  bit 0: the last frame of a batch; other bits 0
//!  6      2     zero   reserved, always 0
//!  8      4     crc    CRC-32C of bytes 0..8 of this header followed by the payload,
//!                      computed starting from the crc of the previous frame (a chain)
//! 12      4     check  CRC-32C of bytes 0..12 of this header
//! 16      len   payload
//! 16+len  0..7  zero padding up to the next multiple of 8
//! ```
//!
//! Payloads by kind:
//! - `crc` (1): 4 bytes, the chain value the previous segment ended with
//!   (0 for the first segment). It is the first frame of every segment, and
//!   its own `crc` field is computed from that value, so a segment can be
//!   checked on its own and the chain runs unbroken from segment to segment.
//! - `metadata` (2): opaque bytes given when the WAL was created (node and
//!   cluster ids, say); the second frame of every segment, identical in all.
//! - `entry` (3): a protobuf `raftpb.Entry`.
//! - `hard state` (4): a protobuf `raftpb.HardState`. Every segment but the
//!   first repeats the latest one as its third frame, so that releasing old
//!   segments never loses it.
//! - `snapshot marker` (5): a protobuf `raftpb.SnapshotMetadata` (index,
//!   term, conf state) recording that the snapshot file of that index and
//!   term was durably written. The first segment's third frame is the marker
//!   of the empty snapshot (index 0, term 0).
//!
//! A segment is named after its sequence number and the index of the first
//! entry it may hold (the last index written before it, plus one). It is
//! preallocated to the segment size (default 64 MiB), so the bytes after its
//! last frame are zeros; once a write takes it past that size it is cut to
//! its exact length and a new segment begins. `save` writes one batch
//! (snapshot marker, entries, hard state, in that order) with one `write`
//! and one `fdatasync`; the last frame of the batch carries the end-of-batch
//! flag, and a batch counts only if that frame was read: a torn write never
//! leaves half a batch. The head of a segment (crc, metadata, then the
//! snapshot marker or hard state) is a batch too.
//!
//! # Reading and repair
//!
//! Reading a segment stops at the first frame whose header is all zeros when
//! nothing but zeros follows (the preallocated end). Any other failure to
//! read a frame (a header check or chain crc mismatch, a frame running past
//! the end of the file, an unknown kind, non-zero padding or reserved bits,
//! a batch without its last frame) is:
//! - a *torn tail* if it is in the last segment and looks like an
//!   interrupted write: the frame (its payload, or its padding too when the
//!   file ends inside it) runs past the last non-zero byte of the file, so
//!   the rest of the write never arrived; or it overlaps a 512-byte aligned
//!   sector of zeros, a sector that was lost. [`repair`] truncates the
//!   segment at the start of that frame's batch, so the log opens with every
//!   batch that was fully written and nothing of the torn one (raft relies
//!   on a batch only after its fsync returned, and a torn batch never got
//!   that far);
//! - corruption otherwise: opening fails with [`StorageError::Corrupt`],
//!   naming the file, the byte offset and what was expected there. A
//!   damaged record in the middle of the log is never skipped. A single
//!   flipped bit is always corruption: it leaves no zeros behind.
//!
//! A frame whose crc matches but whose payload does not decode as its kind
//! is corruption wherever it is. Segments other than the last are complete
//! (they are sealed before the next one is created), so any failure in them
//! is corruption; each segment's first frame must carry the chain value the
//! previous one ended with, which also catches a lost end of a segment.
//!
//! [`decode_segment`] (WAL bytes) and [`snapshotter::decode_snapshot_file`]
//! are pure functions over a byte slice, for fuzzing.
//!
//! # Snapshot files
//!
//! ```text
//! offset  size  field
//!  0      8     len    length of the payload
//!  8      4     crc    CRC-32C of the payload
//! 12      len   payload: a protobuf raftpb.Snapshot
//! ```
//!
//! [`Snapshotter::load_newest`] only considers snapshots whose marker is in
//! the WAL (a snapshot file written before a crash that kept its marker from
//! the WAL is ignored) and whose index is covered by the WAL's commit index.

#![deny(missing_docs)]

pub mod decoder;
pub mod disk_storage;
pub mod encoder;
pub mod error;
pub mod files;
pub mod fs;
mod lock;
pub mod options;
pub mod record;
pub mod repair;
pub mod segment;
pub mod snapshotter;
pub mod wal;

pub use decoder::{
    decode_segment, decode_segment_kinds, DecodedSegment, Decoder, Frame, FrameError,
};
pub use disk_storage::DiskStorage;
pub use error::{Corruption, StorageError};
pub use fs::{FileSystem, FsFile, RealFs};
pub use options::Options;
pub use record::{Record, RecordKind, SnapshotMarker};
pub use snapshotter::Snapshotter;
pub use wal::{Wal, WalContents};

/// The result type of this crate.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
