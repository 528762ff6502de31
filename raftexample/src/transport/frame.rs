//! The wire format between peers: each raft message is one frame, a 4-byte
//! big-endian length followed by the message's protobuf encoding (etcd's
//! `raftpb.Message`, field for field).
//!
//! Raft messages go one way only, from the node that connects to the node
//! that accepts. The other way carries control frames, same length prefix:
//!
//! ```text
//! control := kind:u8 body
//! kind 1  := "member removed": body = id:u64 (big-endian), the id of the
//!            connecting node, which the accepting node applied the removal of
//! ```
//!
//! This is etcd's HTTP 410 Gone answer to a message from a removed member:
//! a removed node that missed its own `RemoveNode` entry (it was behind,
//! and the leader no longer sends to it) learns of it this way and shuts
//! down. A sender that never reads its connection (an older version) just
//! leaves the control frames unread; a control frame of an unknown kind is
//! ignored.

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message as _;
use raft::eraftpb::Message;
use tokio_util::codec::LengthDelimitedCodec;

/// The largest frame accepted or sent. A snapshot travels in one frame, so
/// this bounds the state a cluster can hold; it also bounds what a broken
/// peer can make us allocate.
pub const MAX_FRAME: usize = 256 << 20;

/// The codec of both directions.
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(4)
        .max_frame_length(MAX_FRAME)
        .new_codec()
}

/// Why a frame is not a raft message.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The frame does not decode as a `Message`.
    #[error("frame of {len} bytes is not a raft message: {source}")]
    Decode {
        /// The frame's length.
        len: usize,
        /// What prost said.
        source: prost::DecodeError,
    },
}

/// The kind byte of a "member removed" control frame.
const MEMBER_REMOVED: u8 = 1;

/// A frame from the accepting node back to the connecting one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Node `0` was removed from the cluster: it must stop.
    MemberRemoved(u64),
}

/// Why a frame is not a control frame we know.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ControlError {
    /// The kind byte is not one this version knows.
    #[error("control frame of unknown kind {0}")]
    UnknownKind(u8),
    /// The frame is shorter or longer than its kind says.
    #[error("control frame of kind {kind} has {len} bytes")]
    BadLength {
        /// The kind byte.
        kind: u8,
        /// The frame's length.
        len: usize,
    },
    /// The frame is empty.
    #[error("empty control frame")]
    Empty,
}

impl Control {
    /// Encodes the control frame's payload.
    pub fn encode(self) -> Bytes {
        match self {
            Control::MemberRemoved(id) => {
                let mut b = BytesMut::with_capacity(9);
                b.put_u8(MEMBER_REMOVED);
                b.put_u64(id);
                b.freeze()
            }
        }
    }

    /// Decodes a control frame's payload.
    pub fn decode(frame: &[u8]) -> Result<Control, ControlError> {
        let (&kind, body) = frame.split_first().ok_or(ControlError::Empty)?;
        match kind {
            MEMBER_REMOVED => {
                let id: [u8; 8] = body.try_into().map_err(|_| ControlError::BadLength {
                    kind,
                    len: frame.len(),
                })?;
                Ok(Control::MemberRemoved(u64::from_be_bytes(id)))
            }
            _ => Err(ControlError::UnknownKind(kind)),
        }
    }
}

/// Encodes a message as a frame's payload.
pub fn encode(m: &Message) -> Bytes {
    m.encode_to_vec().into()
}

/// Decodes a frame's payload; payload bytes of entries and snapshots
/// share the frame's buffer.
pub fn decode(frame: BytesMut) -> Result<Message, FrameError> {
    let len = frame.len();
    Message::decode(frame.freeze()).map_err(|source| FrameError::Decode { len, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use raft::eraftpb::{Entry, MessageType};
    use tokio_util::codec::{FramedRead, FramedWrite};

    #[tokio::test]
    async fn messages_cross_a_pipe_and_garbage_is_an_error() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let mut w = FramedWrite::new(a, codec());
        let mut r = FramedRead::new(b, codec());
        let mut m = Message::new(MessageType::MsgApp);
        m.to = 2;
        m.from = 1;
        m.term = 3;
        m.entries.push(Entry {
            index: 5,
            term: 3,
            data: Bytes::from_static(b"payload"),
            ..Default::default()
        });
        w.send(encode(&m)).await.unwrap();
        w.send(Bytes::from_static(&[0xff, 0xff, 0xff]))
            .await
            .unwrap();
        assert_eq!(decode(r.next().await.unwrap().unwrap()).unwrap(), m);
        assert!(decode(r.next().await.unwrap().unwrap()).is_err());
    }

    #[test]
    fn control_frames_round_trip_and_strange_ones_are_errors() {
        let c = Control::MemberRemoved(0x0102_0304_0506_0708);
        assert_eq!(Control::decode(&c.encode()), Ok(c));
        assert_eq!(Control::decode(&[]), Err(ControlError::Empty));
        assert_eq!(Control::decode(&[9, 0]), Err(ControlError::UnknownKind(9)));
        assert_eq!(
            Control::decode(&[MEMBER_REMOVED, 1, 2]),
            Err(ControlError::BadLength { kind: 1, len: 3 })
        );
    }
}
