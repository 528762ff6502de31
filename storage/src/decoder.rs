//! Reads frames back from a segment's bytes, checking each header, the CRC
//! chain and the padding, and tells a torn tail (an interrupted write) from
//! damage in the middle of the log. Pure: it works on a byte slice, so that
//! fuzzers and tests can call it without files.

use crate::error::Corruption;
use crate::record::{chain_crc, frame_len, parse_header, Record, RecordKind, HEADER_LEN};

/// The unit of loss on a disk: a write interrupted by a crash can leave a
/// sector of zeros (never written) in the middle of what it wrote.
const SECTOR: usize = 512;

/// A frame read from a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The byte offset of the frame in the segment.
    pub offset: u64,
    /// The record kind.
    pub kind: RecordKind,
    /// The payload.
    pub payload: &'a [u8],
    /// Whether this is the last frame of its batch.
    pub end_of_batch: bool,
}

/// A frame that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameError {
    /// Where the frame starts; the records before it are good.
    pub offset: u64,
    /// What was wrong.
    pub what: Corruption,
    /// Whether the failure looks like an interrupted write (see the crate
    /// documentation, "Reading and repair"). Only meaningful in the last
    /// segment: anywhere else a failure is damage.
    pub torn: bool,
}

/// Reads the frames of one segment in order. The first frame must be the
/// crc record, which seeds the chain.
#[derive(Debug)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    /// The chain value after the last good frame; `None` before the first.
    crc: Option<u32>,
    /// One past the last non-zero byte of `buf`, computed on first need.
    extent: Option<usize>,
}

impl<'a> Decoder<'a> {
    /// A decoder over the bytes of a whole segment.
    pub fn new(buf: &'a [u8]) -> Decoder<'a> {
        Decoder {
            buf,
            pos: 0,
            crc: None,
            extent: None,
        }
    }

    /// The offset just past the last good frame.
    pub fn offset(&self) -> u64 {
        self.pos as u64
    }

    /// The chain value after the last good frame (0 before the first).
    pub fn crc(&self) -> u32 {
        self.crc.unwrap_or(0)
    }

    /// The next frame, `Ok(None)` at the end of the records (the end of the
    /// buffer, or zeros up to it), or why the frame at the current offset
    /// cannot be read.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'a>>, FrameError> {
        let pos = self.pos;
        let rest = &self.buf[pos..];
        if rest.len() < HEADER_LEN {
            if is_zero(rest) {
                return Ok(None);
            }
            let what = Corruption::Truncated {
                needed: HEADER_LEN as u64,
                available: rest.len() as u64,
            };
            return Err(self.fail(what, pos + HEADER_LEN));
        }
        let header: &[u8; HEADER_LEN] = rest[..HEADER_LEN].try_into().expect("length checked");
        if is_zero(header) {
            if self.extent() <= pos {
                return Ok(None);
            }
            return Err(self.fail(Corruption::GarbageAfterEnd, pos + HEADER_LEN));
        }
        let h = match parse_header(header) {
            Ok(h) => h,
            Err(what) => return Err(self.fail(what, pos + HEADER_LEN)),
        };
        let payload_end = pos + HEADER_LEN + h.len;
        let flen = frame_len(h.len);
        if flen > rest.len() {
            let what = Corruption::Truncated {
                needed: flen as u64,
                available: rest.len() as u64,
            };
            // The padding counts here: a file that ends before its last
            // frame does was cut short.
            return Err(self.fail(what, pos + flen));
        }
        let payload = &rest[HEADER_LEN..HEADER_LEN + h.len];
        let seed = match self.crc {
            Some(crc) => crc,
            None => {
                if h.kind != RecordKind::Crc {
                    return Err(self.fail(Corruption::NoCrcRecord { found: h.kind }, payload_end));
                }
                match Record::decode(RecordKind::Crc, payload) {
                    Ok(Record::Crc(seed)) => seed,
                    Ok(_) => unreachable!("a crc payload decodes to a crc record"),
                    Err(what) => return Err(self.fail(what, payload_end)),
                }
            }
        };
        let expected = chain_crc(seed, header, payload);
        if expected != h.crc {
            let what = Corruption::CrcMismatch {
                expected,
                found: h.crc,
            };
            return Err(self.fail(what, payload_end));
        }
        if !is_zero(&rest[HEADER_LEN + h.len..flen]) {
            return Err(self.fail(Corruption::Reserved, payload_end));
        }
        self.crc = Some(expected);
        self.pos += flen;
        Ok(Some(Frame {
            offset: pos as u64,
            kind: h.kind,
            payload,
            end_of_batch: h.end_of_batch,
        }))
    }

    /// The error for the frame at the current offset, whose bytes should
    /// reach up to `span_end`.
    fn fail(&mut self, what: Corruption, span_end: usize) -> FrameError {
        let pos = self.pos;
        // The write of this frame never reached its end: everything from
        // some byte inside it on is zero (or the file ends).
        let unfinished = span_end > self.extent();
        // A sector inside the frame was lost while later ones arrived.
        let lost_sector = {
            let end = span_end.min(self.buf.len());
            let first = pos / SECTOR;
            let last = end.div_ceil(SECTOR);
            (first..last).any(|s| {
                let (a, b) = (s * SECTOR, (s + 1) * SECTOR);
                b <= self.buf.len() && is_zero(&self.buf[a..b])
            })
        };
        FrameError {
            offset: pos as u64,
            what,
            torn: unfinished || lost_sector,
        }
    }

    fn extent(&mut self) -> usize {
        *self.extent.get_or_insert_with(|| nonzero_extent(self.buf))
    }
}

/// Zeros to compare blocks with: slice equality is one `memcmp`, fast in
/// every build, where a byte loop crawls through the tens of MiB of
/// preallocated zeros a segment ends with (about 2 s per 64 MiB segment in
/// a debug build, on every opening).
static ZEROS: [u8; 4096] = [0; 4096];

fn is_zero(b: &[u8]) -> bool {
    b.chunks(ZEROS.len()).all(|c| c == &ZEROS[..c.len()])
}

/// One past the last non-zero byte of `buf` (0 if every byte is zero).
fn nonzero_extent(buf: &[u8]) -> usize {
    let mut end = buf.len();
    for block in buf.rchunks(ZEROS.len()) {
        if block != &ZEROS[..block.len()] {
            let i = block.iter().rposition(|&b| b != 0).unwrap_or(0);
            return end - block.len() + i + 1;
        }
        end -= block.len();
    }
    0
}

/// The records of one segment, decoded as far as they go.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecodedSegment {
    /// The records of the whole batches, each with the offset of its frame.
    pub records: Vec<(u64, Record)>,
    /// The offset just past the last whole batch.
    pub end: u64,
    /// The chain value there.
    pub crc: u32,
    /// Why decoding stopped before the end, if it did. A batch whose last
    /// frame is missing (the rest of the segment is zeros after it) is an
    /// error too, [`Corruption::UnfinishedBatch`], and a torn one.
    pub error: Option<FrameError>,
}

/// Decodes every record of a segment's bytes, batch by batch: the records
/// of a batch whose last frame is missing or damaged are left out, as a
/// torn write must not leave half a batch. The pure entry point for fuzzers
/// and tests; never panics, whatever the bytes.
pub fn decode_segment(buf: &[u8]) -> DecodedSegment {
    decode_segment_kinds(buf, |_| true)
}

/// As [`decode_segment`], but only the payloads of the kinds `wanted` says
/// are decoded and returned; the others are still checked frame by frame
/// (header, chain, padding, batch), so that a reader after the snapshot
/// markers need not decode every entry.
pub fn decode_segment_kinds(buf: &[u8], wanted: impl Fn(RecordKind) -> bool) -> DecodedSegment {
    let mut decoder = Decoder::new(buf);
    let mut out = DecodedSegment::default();
    // The records of the batch being read, until its last frame.
    let mut batch: Vec<(u64, Record)> = Vec::new();
    loop {
        match decoder.next_frame() {
            Ok(Some(frame)) if !wanted(frame.kind) => {
                if frame.end_of_batch {
                    out.records.append(&mut batch);
                    out.end = decoder.offset();
                    out.crc = decoder.crc();
                }
            }
            Ok(Some(frame)) => match Record::decode(frame.kind, frame.payload) {
                Ok(record) => {
                    batch.push((frame.offset, record));
                    if frame.end_of_batch {
                        out.records.append(&mut batch);
                        out.end = decoder.offset();
                        out.crc = decoder.crc();
                    }
                }
                Err(what) => {
                    // The crc matched, so these are the bytes that were
                    // written: damage, not a torn write.
                    out.error = Some(FrameError {
                        offset: frame.offset,
                        what,
                        torn: false,
                    });
                    return out;
                }
            },
            Ok(None) => {
                if let Some(&(offset, _)) = batch.first() {
                    out.error = Some(FrameError {
                        offset,
                        what: Corruption::UnfinishedBatch,
                        torn: true,
                    });
                }
                return out;
            }
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::Encoder;

    /// A segment head and one batch with a 3000-byte metadata payload, and
    /// the offset where that batch's frame starts.
    fn segment() -> (Vec<u8>, usize) {
        let mut enc = Encoder::new(0);
        enc.push_bytes(RecordKind::Crc, &0u32.to_le_bytes(), true)
            .unwrap();
        let start = enc.bytes().len();
        let payload: Vec<u8> = (0..3000).map(|i| (i % 251 + 1) as u8).collect();
        enc.push_bytes(RecordKind::Metadata, &payload, true)
            .unwrap();
        let mut bytes = enc.bytes().to_vec();
        // Preallocated zeros after the records.
        bytes.resize(8192, 0);
        (bytes, start)
    }

    #[test]
    fn the_extent_and_zero_checks_agree_with_a_byte_by_byte_look() {
        let naive_extent = |b: &[u8]| b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
        for len in [0, 1, 15, 4095, 4096, 4097, 3 * 4096 + 17] {
            let mut b = vec![0u8; len];
            assert_eq!(nonzero_extent(&b), 0, "len {len}");
            assert!(is_zero(&b));
            for at in [0, len / 3, len.saturating_sub(4096), len.saturating_sub(1)] {
                if at >= len {
                    continue;
                }
                b[at] = 7;
                assert_eq!(nonzero_extent(&b), naive_extent(&b), "len {len} at {at}");
                assert!(!is_zero(&b), "len {len} at {at}");
            }
        }
    }

    #[test]
    fn a_whole_segment_decodes_to_a_clean_end() {
        let (bytes, _) = segment();
        let d = decode_segment(&bytes);
        assert_eq!(d.error, None);
        assert_eq!(d.records.len(), 2);
    }

    #[test]
    fn a_lost_sector_inside_the_last_frame_is_a_torn_tail() {
        let (mut bytes, start) = segment();
        // A sector in the middle of the payload never reached the disk,
        // while the ones after it did.
        bytes[1024..1536].fill(0);
        let e = decode_segment(&bytes).error.unwrap();
        assert_eq!(e.offset, start as u64);
        assert!(e.torn, "{e:?}");
    }

    #[test]
    fn a_flipped_bit_inside_the_last_frame_is_corruption() {
        let (mut bytes, start) = segment();
        bytes[1200] ^= 4;
        let e = decode_segment(&bytes).error.unwrap();
        assert_eq!(e.offset, start as u64);
        assert!(matches!(e.what, Corruption::CrcMismatch { .. }), "{e:?}");
        assert!(!e.torn);
    }

    #[test]
    fn a_write_that_stopped_midway_is_a_torn_tail() {
        let (mut bytes, start) = segment();
        bytes[start + 700..].fill(0);
        let e = decode_segment(&bytes).error.unwrap();
        assert!(e.torn && e.offset == start as u64, "{e:?}");
    }

    #[test]
    fn bytes_after_the_end_are_garbage_not_a_clean_end() {
        let (mut bytes, _) = segment();
        bytes[8000] = 1;
        let d = decode_segment(&bytes);
        let e = d.error.unwrap();
        assert_eq!(e.what, Corruption::GarbageAfterEnd);
        assert!(!e.torn);
        assert_eq!(d.records.len(), 2);
    }
}
