//! Encodes records into frames in a reusable buffer, carrying the CRC chain
//! from frame to frame, so that a whole batch goes to disk with one write.

use prost::Message;

use crate::error::StorageError;
use crate::record::{frame_len, write_header, RecordKind, ALIGN, HEADER_LEN, MAX_PAYLOAD};

/// Frames records into a buffer. The buffer is kept between batches so that
/// saving allocates nothing once it has grown to the usual batch size.
#[derive(Debug, Default)]
pub struct Encoder {
    buf: Vec<u8>,
    crc: u32,
}

impl Encoder {
    /// An encoder whose first frame chains from `crc`.
    pub fn new(crc: u32) -> Encoder {
        Encoder {
            buf: Vec::new(),
            crc,
        }
    }

    /// The chain value after the last frame encoded.
    pub fn crc(&self) -> u32 {
        self.crc
    }

    /// Forgets the frames encoded so far (they were written), keeping the
    /// chain and the buffer's capacity.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// The frames encoded since the last [`Encoder::clear`].
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Appends a frame whose payload is the protobuf encoding of `msg`;
    /// `end_of_batch` marks the last frame of a batch.
    pub fn push_message(
        &mut self,
        kind: RecordKind,
        msg: &impl Message,
        end_of_batch: bool,
    ) -> Result<(), StorageError> {
        let len = msg.encoded_len();
        check_len(kind, len)?;
        let start = self.buf.len();
        self.buf.reserve(frame_len(len));
        self.buf.resize(start + HEADER_LEN, 0);
        if msg.encode(&mut self.buf).is_err() {
            unreachable!("a Vec grows to hold any message");
        }
        self.finish_frame(kind, end_of_batch, start);
        Ok(())
    }

    /// Appends a frame with the given payload; `end_of_batch` marks the
    /// last frame of a batch.
    pub fn push_bytes(
        &mut self,
        kind: RecordKind,
        payload: &[u8],
        end_of_batch: bool,
    ) -> Result<(), StorageError> {
        check_len(kind, payload.len())?;
        let start = self.buf.len();
        self.buf.reserve(frame_len(payload.len()));
        self.buf.resize(start + HEADER_LEN, 0);
        self.buf.extend_from_slice(payload);
        self.finish_frame(kind, end_of_batch, start);
        Ok(())
    }

    /// Fills in the header of the frame starting at `start` (its payload is
    /// in place after the header) and pads the frame.
    fn finish_frame(&mut self, kind: RecordKind, end_of_batch: bool, start: usize) {
        let (header, payload) = self.buf[start..].split_at_mut(HEADER_LEN);
        self.crc = write_header(header, kind, end_of_batch, payload, self.crc);
        let padded = self.buf.len().next_multiple_of(ALIGN);
        self.buf.resize(padded, 0);
    }
}

fn check_len(kind: RecordKind, len: usize) -> Result<(), StorageError> {
    if len > MAX_PAYLOAD {
        return Err(StorageError::RecordTooLarge {
            kind,
            len,
            max: MAX_PAYLOAD,
        });
    }
    Ok(())
}
