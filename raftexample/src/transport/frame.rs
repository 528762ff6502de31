//! The wire format between peers: each raft message is one frame, a 4-byte
//! big-endian length followed by the message's protobuf encoding (etcd's
//! `raftpb.Message`, field for field).

use bytes::{Bytes, BytesMut};
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
}
