//! Small helpers about messages and entries that the core, the log and
//! `RawNode` share (the non-printing half of etcd's `util.go`; the printing
//! half is in [`describe`](crate::describe)).

use prost::Message as _;
use raft_proto::{ConfState, Entry, MessageType};
use slog::Logger;

use crate::config::{LOCAL_APPEND_THREAD, LOCAL_APPLY_THREAD};

/// Whether a message of this type is generated and consumed locally, never
/// sent to a peer (etcd `IsLocalMsg`).
#[inline]
pub fn is_local_msg(t: MessageType) -> bool {
    matches!(
        t,
        MessageType::MsgHup
            | MessageType::MsgBeat
            | MessageType::MsgUnreachable
            | MessageType::MsgSnapStatus
            | MessageType::MsgCheckQuorum
            | MessageType::MsgStorageAppend
            | MessageType::MsgStorageAppendResp
            | MessageType::MsgStorageApply
            | MessageType::MsgStorageApplyResp
    )
}

/// Whether a message of this type answers another message (etcd
/// `IsResponseMsg`). `MsgUnreachable` counts: it stands in for the answer
/// that never came.
#[inline]
pub fn is_response_msg(t: MessageType) -> bool {
    matches!(
        t,
        MessageType::MsgAppResp
            | MessageType::MsgVoteResp
            | MessageType::MsgHeartbeatResp
            | MessageType::MsgUnreachable
            | MessageType::MsgReadIndexResp
            | MessageType::MsgPreVoteResp
            | MessageType::MsgStorageAppendResp
            | MessageType::MsgStorageApplyResp
    )
}

/// Whether `id` is one of the local storage threads rather than a peer
/// (etcd `IsLocalMsgTarget`).
#[inline]
pub fn is_local_msg_target(id: u64) -> bool {
    id == LOCAL_APPEND_THREAD || id == LOCAL_APPLY_THREAD
}

/// The response type of a vote or pre-vote request (etcd `voteRespMsgType`).
///
/// # Panics
///
/// If `t` is neither `MsgVote` nor `MsgPreVote`: callers only pass vote
/// requests, so anything else is a bug in the caller, as in etcd.
#[inline]
pub fn vote_resp_msg_type(t: MessageType) -> MessageType {
    match t {
        MessageType::MsgVote => MessageType::MsgVoteResp,
        MessageType::MsgPreVote => MessageType::MsgPreVoteResp,
        _ => panic!("not a vote message: {t:?}"),
    }
}

/// The protobuf-encoded size of one entry, the unit of etcd's size limits
/// (`proto.Size`).
#[inline]
pub fn ent_size(e: &Entry) -> u64 {
    e.encoded_len() as u64
}

/// The total encoded size of the entries (etcd `entsSize`).
#[inline]
pub fn ents_size(ents: &[Entry]) -> u64 {
    ents.iter().map(ent_size).sum()
}

/// [`ents_size`] and [`payloads_size`] of `ents`: what accepting a
/// `Ready`'s committed entries accounts for.
#[inline]
pub(crate) fn ents_and_payloads_size(ents: &[Entry]) -> (u64, u64) {
    let Some(first) = ents.first() else {
        return (0, 0);
    };
    // The usual entries (consecutive, one term, no type) differ only in
    // their payloads: one pass over those, and the keys and varints of
    // terms and indexes in closed form.
    let (term, lo) = (first.term, first.index);
    let mut payloads = 0u64;
    let mut payload_fields = 0u64;
    // Indexes from 1 on, without wrapping.
    let mut usual = lo != 0 && lo.checked_add(ents.len() as u64 - 1).is_some();
    for (k, e) in ents.iter().enumerate() {
        let len = e.data.len() as u64;
        payloads += len;
        payload_fields += if len != 0 { 1 + varint_len(len) } else { 0 };
        usual &= e.term == term && e.entry_type.is_none() && e.index == lo.wrapping_add(k as u64);
    }
    if !usual {
        let size = ents
            .iter()
            .map(|e| entry_encoded_len(e.entry_type, e.term, e.index, e.data.len() as u64))
            .sum();
        return (size, payloads);
    }
    let n = ents.len() as u64;
    let hi = lo + (n - 1);
    let terms = if term != 0 { n * (1 + varint_len(term)) } else { 0 };
    let size = payloads + payload_fields + terms + n + varint_len_sum(lo, hi);
    (size, payloads)
}

/// The length of `v` as a varint (1 to 10 bytes).
#[inline]
fn varint_len(v: u64) -> u64 {
    prost::encoding::encoded_len_varint(v) as u64
}

/// The sum of `varint_len(i)` for `i` in `[lo, hi]`, `1 <= lo <= hi`: each
/// index takes one byte, and one more for every multiple of seven bits it
/// reaches beyond the first.
#[inline]
fn varint_len_sum(lo: u64, hi: u64) -> u64 {
    let mut sum = hi - lo + 1;
    let mut t = 1u64 << 7;
    loop {
        if hi < t {
            return sum;
        }
        sum += hi - lo.max(t) + 1;
        match t.checked_mul(1 << 7) {
            Some(next) => t = next,
            None => return sum,
        }
    }
}

/// The encoded size of an entry with these fields ([`ent_size`]), from the
/// fields alone, so that a log that stores entries in parts can size them
/// without rebuilding them.
#[inline]
pub(crate) fn entry_encoded_len(entry_type: Option<i32>, term: u64, index: u64, data_len: u64) -> u64 {
    use prost::encoding::encoded_len_varint;
    // One byte of key per field present; proto2 optional enums encode even
    // when zero, the proto3-style scalars only when non-zero.
    let mut len = 0;
    if let Some(t) = entry_type {
        len += 1 + encoded_len_varint(t as i64 as u64);
    }
    if term != 0 {
        len += 1 + encoded_len_varint(term);
    }
    if index != 0 {
        len += 1 + encoded_len_varint(index);
    }
    if data_len != 0 {
        len += 1 + encoded_len_varint(data_len) + data_len as usize;
    }
    len as u64
}

/// The length of the longest prefix of `ents` whose encoded size does not
/// exceed `max_size`, but at least 1 if `ents` is non-empty: a single entry
/// larger than the limit must still make progress (etcd `limitSize`).
#[inline]
pub fn limit_size_len(ents: &[Entry], max_size: u64) -> usize {
    let Some(first) = ents.first() else {
        return 0;
    };
    // No limit is the common case for unlimited configurations, and a
    // single entry is always taken: skip the size computation entirely.
    if max_size == u64::MAX || ents.len() == 1 {
        return ents.len();
    }
    let mut size = ent_size(first);
    for (limit, e) in ents.iter().enumerate().skip(1) {
        size = size.saturating_add(ent_size(e));
        if size > max_size {
            return limit;
        }
    }
    ents.len()
}

/// Truncates `ents` in place to the prefix [`limit_size_len`] chooses (etcd
/// `limitSize`, which returns that prefix).
#[inline]
pub fn limit_size(ents: &mut Vec<Entry>, max_size: u64) {
    let n = limit_size_len(ents, max_size);
    ents.truncate(n);
}

/// The prefix of `ents` that [`limit_size_len`] chooses, without copying.
#[inline]
pub fn limit_size_slice(ents: &[Entry], max_size: u64) -> &[Entry] {
    &ents[..limit_size_len(ents, max_size)]
}

/// The size of an entry's payload, which is what the uncommitted-size quota
/// counts (etcd `payloadSize`). Index and term do not count, so the empty
/// entry a new leader appends is free.
#[inline]
pub fn payload_size(e: &Entry) -> u64 {
    e.data.len() as u64
}

/// The total payload size of the entries (etcd `payloadsSize`).
#[inline]
pub fn payloads_size(ents: &[Entry]) -> u64 {
    ents.iter().map(payload_size).sum()
}

/// Appends `vals` to `dst`, growing it to exactly the size needed if it must
/// grow (etcd `extend`): for the last append to a vector, so no spare
/// capacity is wasted.
#[inline]
pub fn extend(dst: &mut Vec<Entry>, vals: &[Entry]) {
    // A no-op when the spare capacity already suffices.
    dst.reserve_exact(vals.len());
    dst.extend_from_slice(vals);
}

/// Panics, after logging at critical level, if the two configurations are
/// not the same up to order (etcd `assertConfStatesEquivalent`).
///
/// # Panics
///
/// When they differ: raft checks its own derived configuration against the
/// one the application handed it, so a difference is a broken invariant.
pub fn assert_conf_states_equivalent(logger: &Logger, cs1: &ConfState, cs2: &ConfState) {
    if let Err(e) = cs1.equivalent(cs2) {
        slog::crit!(logger, "{}", e);
        panic!("{}", e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn ent(index: u64, term: u64) -> Entry {
        Entry {
            index,
            term,
            ..Default::default()
        }
    }

    #[test]
    fn ents_and_payloads_size_matches_the_entry_by_entry_sums() {
        fn run(lo: u64, n: u64, term: u64, len: impl Fn(u64) -> usize) -> Vec<Entry> {
            (0..n)
                .map(|k| lo + k)
                .map(|i| Entry {
                    index: i,
                    term,
                    data: Bytes::from(vec![7u8; len(i)]),
                    ..Default::default()
                })
                .collect()
        }
        let mut cases: Vec<Vec<Entry>> = vec![
            Vec::new(),
            run(1, 1, 1, |_| 0),
            // Across the one- and two-byte and the two- and three-byte
            // index varints, with payloads across their own boundary.
            run(100, 60, 3, |i| (i as usize * 5) % 300),
            run(16_000, 800, 200, |_| 128),
            run((1 << 35) - 3, 10, 1 << 40, |_| 1),
            run(u64::MAX - 4, 5, u64::MAX, |_| 2),
            // Term 0 and index 0 are not encoded.
            run(0, 3, 0, |_| 1),
            run(5, 3, 0, |_| 1),
        ];
        // Not the usual shape: a type, a term change, a gap.
        let mut typed = run(10, 4, 2, |_| 3);
        typed[2].entry_type = Some(0);
        cases.push(typed);
        let mut terms = run(10, 4, 2, |_| 3);
        terms[3].term = 3;
        cases.push(terms);
        let mut gap = run(10, 4, 2, |_| 3);
        gap[1].index = 20;
        cases.push(gap);
        for ents in cases {
            assert_eq!(
                ents_and_payloads_size(&ents),
                (ents_size(&ents), payloads_size(&ents)),
                "{:?}",
                ents.iter().map(|e| (e.index, e.term)).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn test_ents_size_matches_encoding() {
        let ents = vec![
            ent(1, 1),
            Entry {
                index: 300,
                term: 2,
                entry_type: Some(1),
                data: Bytes::from_static(b"hello"),
            },
        ];
        let total: usize = ents.iter().map(|e| e.encode_to_vec().len()).sum();
        assert_eq!(ents_size(&ents), total as u64);
        // Tag+varint for term and index, tag+varint for type, tag+len+data.
        assert_eq!(ent_size(&ents[1]), 2 + 3 + 2 + 7);
    }

    #[test]
    fn test_limit_size_slice_and_len() {
        let ents = vec![ent(1, 1), ent(2, 1), ent(3, 1)];
        let one = ent_size(&ents[0]);
        assert_eq!(limit_size_slice(&ents, 2 * one), &ents[..2]);
        assert_eq!(limit_size_len(&ents, 0), 1);
        assert_eq!(limit_size_len(&[], 0), 0);
        assert_eq!(limit_size_len(&ents, u64::MAX), 3);
    }

    #[test]
    fn test_is_local_msg_target() {
        assert!(is_local_msg_target(u64::MAX));
        assert!(is_local_msg_target(u64::MAX - 1));
        assert!(!is_local_msg_target(0));
        assert!(!is_local_msg_target(1));
        assert!(!is_local_msg_target(u64::MAX - 2));
    }

    #[test]
    fn test_vote_resp_msg_type() {
        assert_eq!(
            vote_resp_msg_type(MessageType::MsgVote),
            MessageType::MsgVoteResp
        );
        assert_eq!(
            vote_resp_msg_type(MessageType::MsgPreVote),
            MessageType::MsgPreVoteResp
        );
        assert!(std::panic::catch_unwind(|| vote_resp_msg_type(MessageType::MsgApp)).is_err());
    }

    #[test]
    fn test_payloads_size() {
        let ents = vec![
            Entry {
                data: Bytes::from_static(b"abc"),
                ..ent(1, 1)
            },
            ent(2, 1),
            Entry {
                data: Bytes::from_static(b"de"),
                ..ent(3, 1)
            },
        ];
        assert_eq!(payloads_size(&ents), 5);
    }

    #[test]
    fn test_extend_allocates_exactly() {
        let mut dst = Vec::with_capacity(1);
        dst.push(ent(1, 1));
        extend(&mut dst, &[ent(2, 1), ent(3, 1)]);
        assert_eq!(dst, vec![ent(1, 1), ent(2, 1), ent(3, 1)]);
        assert_eq!(dst.capacity(), 3);
    }

    #[test]
    fn test_assert_conf_states_equivalent() {
        let logger = crate::tests::support::test_logger();
        let a = ConfState {
            voters: vec![1, 2, 3],
            ..Default::default()
        };
        let b = ConfState {
            voters: vec![3, 1, 2],
            ..Default::default()
        };
        assert_conf_states_equivalent(&logger, &a, &b);
        let c = ConfState {
            voters: vec![1, 2],
            ..Default::default()
        };
        let r = std::panic::catch_unwind(|| assert_conf_states_equivalent(&logger, &a, &c));
        assert!(r.is_err());
    }
}
