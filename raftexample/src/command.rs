//! What a normal log entry carries: a batch of puts, each tagged with the
//! id of the proposal that waits for it.
//!
//! The HTTP handlers' puts are batched into one entry by the proposer
//! thread, so that a busy server appends few, large entries. The encoding
//! (all integers little-endian):
//!
//! ```text
//! entry data := version:u8 (= 1) put*
//! put        := id:u64 key_len:u32 key value_len:u32 value
//! ```
//!
//! Keys are UTF-8. Values are handed out as slices of the entry's buffer:
//! applying an entry copies no value.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The version byte of the encoding above.
const VERSION: u8 = 1;

/// The bytes a put adds to an entry besides its key and value.
pub const PUT_OVERHEAD: usize = 8 + 4 + 4;

/// One write of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Put {
    /// The id of the proposal, which wakes its waiter when applied.
    pub id: u64,
    /// The key.
    pub key: String,
    /// The new value.
    pub value: Bytes,
}

impl Put {
    /// The encoded size of this put.
    pub fn encoded_len(&self) -> usize {
        PUT_OVERHEAD + self.key.len() + self.value.len()
    }
}

/// Why an entry's data is not a batch of puts. Entries come from peers, so
/// this is an input error: the entry is skipped (on every node alike).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The version byte is unknown.
    #[error("unknown entry version {0}")]
    Version(u8),
    /// The data ends inside a put.
    #[error("entry truncated at byte {0}")]
    Truncated(usize),
    /// A key is not UTF-8.
    #[error("key at byte {0} is not UTF-8")]
    KeyNotUtf8(usize),
}

/// Appends the encoding of `puts` to `buf` and returns it as one entry's
/// data.
pub fn encode_batch<'a>(buf: &mut BytesMut, puts: impl IntoIterator<Item = &'a Put>) -> Bytes {
    buf.put_u8(VERSION);
    for p in puts {
        buf.put_u64_le(p.id);
        buf.put_u32_le(p.key.len() as u32);
        buf.put_slice(p.key.as_bytes());
        buf.put_u32_le(p.value.len() as u32);
        buf.put_slice(&p.value);
    }
    buf.split().freeze()
}

/// Decodes an entry's data into its puts; values share `data`'s buffer.
pub fn decode_batch(data: &Bytes) -> Result<Vec<Put>, DecodeError> {
    let total = data.len();
    let mut rest = data.clone();
    let version = rest.try_get_u8().map_err(|_| DecodeError::Truncated(0))?;
    if version != VERSION {
        return Err(DecodeError::Version(version));
    }
    let mut puts = Vec::new();
    while rest.has_remaining() {
        let at = total - rest.remaining();
        let truncated = |_| DecodeError::Truncated(at);
        let id = rest.try_get_u64_le().map_err(truncated)?;
        let key = take(&mut rest, at)?;
        let key = String::from_utf8(key.to_vec()).map_err(|_| DecodeError::KeyNotUtf8(at))?;
        let value = take(&mut rest, at)?;
        puts.push(Put { id, key, value });
    }
    Ok(puts)
}

// A u32 length and that many bytes.
fn take(rest: &mut Bytes, at: usize) -> Result<Bytes, DecodeError> {
    let len = rest
        .try_get_u32_le()
        .map_err(|_| DecodeError::Truncated(at))? as usize;
    if rest.remaining() < len {
        return Err(DecodeError::Truncated(at));
    }
    Ok(rest.split_to(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(id: u64, k: &str, v: &str) -> Put {
        Put {
            id,
            key: k.to_owned(),
            value: Bytes::copy_from_slice(v.as_bytes()),
        }
    }

    #[test]
    fn batches_round_trip() {
        let puts = vec![put(1, "a", ""), put(u64::MAX, "ключ", "value")];
        let data = encode_batch(&mut BytesMut::new(), &puts);
        assert_eq!(
            data.len(),
            1 + puts.iter().map(Put::encoded_len).sum::<usize>()
        );
        assert_eq!(decode_batch(&data).unwrap(), puts);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let data = encode_batch(&mut BytesMut::new(), &[put(7, "key", "value")]);
        for cut in 0..data.len() {
            let got = decode_batch(&data.slice(..cut));
            // Cutting right after the version byte leaves an empty batch.
            if cut == 1 {
                assert_eq!(got, Ok(vec![]));
            } else {
                assert!(got.is_err(), "cut at {cut}: {got:?}");
            }
        }
    }

    #[test]
    fn bad_version_and_bad_key() {
        assert_eq!(
            decode_batch(&Bytes::from_static(&[9])),
            Err(DecodeError::Version(9))
        );
        let mut raw = vec![VERSION];
        raw.extend_from_slice(&1u64.to_le_bytes());
        raw.extend_from_slice(&1u32.to_le_bytes());
        raw.push(0xff);
        raw.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(
            decode_batch(&Bytes::from(raw)),
            Err(DecodeError::KeyNotUtf8(1))
        );
    }
}
