//! The records of the WAL and the frame header that carries each one; the
//! format is described in the crate documentation ("On-disk format of the
//! WAL").

use std::fmt;

use bytes::Bytes;
use prost::Message;
use raft::eraftpb::{Entry, HardState, SnapshotMetadata};

use crate::error::Corruption;

/// A snapshot marker: the index, term and configuration of a snapshot whose
/// file was durably written (etcd's `walpb.Snapshot`).
pub type SnapshotMarker = SnapshotMetadata;

/// The length of a frame header.
pub const HEADER_LEN: usize = 16;
/// Frames start at multiples of this.
pub const ALIGN: usize = 8;
/// The largest payload a frame may carry.
pub const MAX_PAYLOAD: usize = 1 << 30;

/// The kind of a record, as stored in its frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RecordKind {
    /// The chain value the previous segment ended with.
    Crc = 1,
    /// The WAL's metadata.
    Metadata = 2,
    /// A log entry.
    Entry = 3,
    /// A hard state.
    HardState = 4,
    /// A snapshot marker.
    Snapshot = 5,
}

impl RecordKind {
    /// The kind stored as `b`, if there is one.
    pub fn from_u8(b: u8) -> Option<RecordKind> {
        Some(match b {
            1 => RecordKind::Crc,
            2 => RecordKind::Metadata,
            3 => RecordKind::Entry,
            4 => RecordKind::HardState,
            5 => RecordKind::Snapshot,
            _ => return None,
        })
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordKind::Crc => "crc",
            RecordKind::Metadata => "metadata",
            RecordKind::Entry => "entry",
            RecordKind::HardState => "hard state",
            RecordKind::Snapshot => "snapshot marker",
        })
    }
}

/// A decoded WAL record.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// The chain value the previous segment ended with.
    Crc(u32),
    /// The WAL's metadata.
    Metadata(Bytes),
    /// A log entry.
    Entry(Entry),
    /// A hard state.
    HardState(HardState),
    /// A snapshot marker.
    Snapshot(SnapshotMarker),
}

impl Record {
    /// Decodes the payload of a frame of kind `kind`.
    pub fn decode(kind: RecordKind, payload: &[u8]) -> Result<Record, Corruption> {
        let bad = |error: String| Corruption::Payload { kind, error };
        Ok(match kind {
            RecordKind::Crc => {
                let b: [u8; 4] = payload
                    .try_into()
                    .map_err(|_| bad(format!("{} bytes, expected 4", payload.len())))?;
                Record::Crc(u32::from_le_bytes(b))
            }
            RecordKind::Metadata => Record::Metadata(Bytes::copy_from_slice(payload)),
            RecordKind::Entry => {
                Record::Entry(Entry::decode(payload).map_err(|e| bad(e.to_string()))?)
            }
            RecordKind::HardState => {
                Record::HardState(HardState::decode(payload).map_err(|e| bad(e.to_string()))?)
            }
            RecordKind::Snapshot => {
                Record::Snapshot(SnapshotMarker::decode(payload).map_err(|e| bad(e.to_string()))?)
            }
        })
    }

    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Crc(_) => RecordKind::Crc,
            Record::Metadata(_) => RecordKind::Metadata,
            Record::Entry(_) => RecordKind::Entry,
            Record::HardState(_) => RecordKind::HardState,
            Record::Snapshot(_) => RecordKind::Snapshot,
        }
    }
}

/// The length of a whole frame (header, payload, padding) for a payload of
/// `len` bytes.
#[inline]
pub fn frame_len(len: usize) -> usize {
    (HEADER_LEN + len).next_multiple_of(ALIGN)
}

/// The flag of the last frame of a batch.
pub const FLAG_END_OF_BATCH: u8 = 1;

/// Writes the header of a frame into `header`, given the chain value of the
/// previous frame; returns the new chain value.
#[inline]
pub fn write_header(
    header: &mut [u8],
    kind: RecordKind,
    end_of_batch: bool,
    payload: &[u8],
    prev_crc: u32,
) -> u32 {
    header[0..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    header[4] = kind as u8;
    header[5] = if end_of_batch { FLAG_END_OF_BATCH } else { 0 };
    header[6..8].fill(0);
    let crc = chain_crc(prev_crc, header, payload);
    header[8..12].copy_from_slice(&crc.to_le_bytes());
    let check = crc32c::crc32c(&header[0..12]);
    header[12..16].copy_from_slice(&check.to_le_bytes());
    crc
}

/// A frame header whose own check passed.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    /// The payload length.
    pub len: usize,
    /// The record kind.
    pub kind: RecordKind,
    /// Whether this is the last frame of its batch.
    pub end_of_batch: bool,
    /// The stored chain crc.
    pub crc: u32,
}

/// Parses a 16-byte frame header, checking its check value, kind and length.
pub fn parse_header(h: &[u8; HEADER_LEN]) -> Result<Header, Corruption> {
    let expected = crc32c::crc32c(&h[0..12]);
    let found = u32::from_le_bytes([h[12], h[13], h[14], h[15]]);
    if expected != found {
        return Err(Corruption::HeaderCheck { expected, found });
    }
    if h[5] & !FLAG_END_OF_BATCH != 0 || h[6..8] != [0, 0] {
        return Err(Corruption::Reserved);
    }
    let kind = RecordKind::from_u8(h[4]).ok_or(Corruption::UnknownKind(h[4]))?;
    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
    if len > MAX_PAYLOAD {
        return Err(Corruption::TooLong {
            len: len as u64,
            max: MAX_PAYLOAD as u64,
        });
    }
    Ok(Header {
        len,
        kind,
        end_of_batch: h[5] & FLAG_END_OF_BATCH != 0,
        crc: u32::from_le_bytes([h[8], h[9], h[10], h[11]]),
    })
}

/// The chain crc of a frame, from the previous frame's, the first 8 bytes
/// of its header and its payload.
#[inline]
pub fn chain_crc(prev_crc: u32, header: &[u8], payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c_append(prev_crc, &header[0..8]), payload)
}
