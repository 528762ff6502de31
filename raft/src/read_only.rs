//! Linearizable reads without a log write (etcd `read_only.go`).
//!
//! A leader answers a read-index request with its commit index once it has
//! confirmed that it is still the leader. With [`ReadOnlyOption::Safe`] the
//! confirmation is a round of heartbeats acknowledged by a quorum; the
//! heartbeats carry a counter in their context, so one round confirms every
//! request queued before it. With [`ReadOnlyOption::LeaseBased`] the leader
//! trusts its lease (check quorum) and answers at once.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::eraftpb::Message;
use crate::quorum::{AckedIndexer, Index, JointConfig};

/// How read-only requests are served (etcd `ReadOnlyOption`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReadOnlyOption {
    /// Confirm leadership with a quorum of heartbeat acknowledgements before
    /// answering. Linearizable regardless of clocks; the default.
    #[default]
    Safe,
    /// Answer from the leader lease alone. Cheaper, but a clock that drifts
    /// without bound can make a deposed leader answer; requires check quorum.
    LeaseBased,
}

/// The answer to a read-index request (etcd `ReadState`): once the
/// application has applied up to `index`, it may serve the read identified
/// by `request_ctx`.
///
/// ```
/// use etcdraft::prelude::*;
///
/// let storage = MemStorage::new_with_conf_state(ConfState { voters: vec![1], ..Default::default() });
/// let mut node = RawNode::new(&Config::new(1), storage, &discard_logger())?;
/// node.campaign()?;
/// # while node.has_ready() {
/// #     let rd = node.ready();
/// #     node.mut_store().set_hard_state(rd.hs())?;
/// #     node.mut_store().append(&rd.entries)?;
/// #     node.advance();
/// # }
/// // A linearizable read: ask for the commit index, serve the read once the
/// // state machine has applied up to it.
/// node.read_index(&b"req-7"[..]);
/// let rd = node.ready();
/// let rs = &rd.read_states[0];
/// assert_eq!(&rs.request_ctx[..], b"req-7");
/// assert!(rs.index >= 1);
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadState {
    /// The commit index at the time the request was received.
    pub index: u64,
    /// The request's context, as passed to `read_index`, so the application
    /// can tell its requests apart.
    pub request_ctx: Bytes,
}

/// A read-index request waiting for its leadership confirmation.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadIndexRequest {
    /// The original `MsgReadIndex`, from this node or a follower.
    pub req: Message,
    /// The leader's commit index when the request arrived.
    pub index: u64,
}

/// The leader's queue of read-index requests and the heartbeat
/// acknowledgements that confirm them (etcd `readOnly`).
///
/// Most nodes never serve a read-index request, so the queue is allocated
/// on first use: until then a `ReadOnly` is one null pointer, which matters
/// to a process hosting many mostly idle groups. How requests are served
/// (etcd's `readOnly.option`) is the node's `read_only_option`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadOnly {
    /// The requests and acknowledgements; `None` while there never were
    /// any (since the last reset), which reads as an empty queue.
    queue: Option<Box<ReadQueue>>,
}

/// What a [`ReadOnly`] holds once it is used.
#[derive(Clone, Debug, Default, PartialEq)]
struct ReadQueue {
    /// The highest request counter each peer acknowledged, sorted by id.
    acks: Vec<(u64, u64)>,
    /// Requests not yet confirmed, oldest first.
    unconfirmed_reads: VecDeque<ReadIndexRequest>,
    /// How many requests were confirmed (and removed from the front of
    /// `unconfirmed_reads`) so far; the counter heartbeats carry.
    confirmed_reads: u64,
}

impl AckedIndexer for ReadOnly {
    fn acked_index(&self, voter_id: u64) -> Option<Index> {
        let acks = &self.queue.as_deref()?.acks;
        acks.binary_search_by_key(&voter_id, |&(id, _)| id)
            .ok()
            .map(|i| acks[i].1)
    }
}

impl ReadOnly {
    /// An empty queue.
    pub fn new() -> ReadOnly {
        ReadOnly { queue: None }
    }

    fn queue_mut(&mut self) -> &mut ReadQueue {
        self.queue.get_or_insert_with(Box::default)
    }

    /// The number of requests waiting for their confirmation.
    pub fn unconfirmed_len(&self) -> usize {
        self.queue.as_ref().map_or(0, |q| q.unconfirmed_reads.len())
    }

    /// How many requests were confirmed since the last reset: the counter
    /// the heartbeats' contexts continue from.
    pub fn confirmed_reads(&self) -> u64 {
        self.queue.as_ref().map_or(0, |q| q.confirmed_reads)
    }

    /// Queues `req`, received when the commit index was `commit_index`
    /// (etcd `addRequest`).
    pub fn add_request(&mut self, commit_index: u64, req: Message) {
        self.queue_mut()
            .unconfirmed_reads
            .push_back(ReadIndexRequest {
                req,
                index: commit_index,
            });
    }

    /// Records that `from` acknowledged a heartbeat with context `ctx`
    /// (etcd `recvAck`). An empty or malformed context acknowledges nothing.
    pub fn recv_ack(&mut self, from: u64, ctx: &[u8]) {
        // A peer's context is input from the network: anything that is not
        // the 8 bytes we sent is ignored rather than trusted.
        let Ok(buf) = <[u8; 8]>::try_from(ctx) else {
            return;
        };
        let n = u64::from_le_bytes(buf);
        let acks = &mut self.queue_mut().acks;
        match acks.binary_search_by_key(&from, |&(id, _)| id) {
            Ok(i) => acks[i].1 = acks[i].1.max(n),
            Err(i) => acks.insert(i, (from, n)),
        }
    }

    /// Confirms as many queued requests as a quorum of `voters` has
    /// acknowledged, removing and returning them oldest first
    /// (etcd `maybeAdvance`).
    pub fn maybe_advance(&mut self, voters: &JointConfig) -> Vec<ReadIndexRequest> {
        let new_confirmed = voters.committed_index(&*self);
        let Some(q) = self.queue.as_deref_mut() else {
            return Vec::new();
        };
        if new_confirmed <= q.confirmed_reads {
            return Vec::new();
        }
        // A peer could acknowledge a counter we never sent; never confirm
        // more than is queued.
        let n = ((new_confirmed - q.confirmed_reads) as usize).min(q.unconfirmed_reads.len());
        q.confirmed_reads += n as u64;
        q.unconfirmed_reads.drain(..n).collect()
    }

    /// The heartbeat context that confirms every queued request, or empty
    /// when nothing is queued (etcd `heartbeatCtx`).
    #[inline]
    pub fn heartbeat_ctx(&self) -> Bytes {
        match self.queue.as_deref() {
            Some(q) if !q.unconfirmed_reads.is_empty() => {
                let pos = q.confirmed_reads + q.unconfirmed_reads.len() as u64;
                Bytes::copy_from_slice(&pos.to_le_bytes())
            }
            _ => Bytes::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eraftpb::MessageType;
    use crate::quorum::MajorityConfig;

    fn req(ctx: u8) -> Message {
        let mut m = Message::new(MessageType::MsgReadIndex);
        m.context = Bytes::from(vec![ctx]);
        m
    }

    fn ack(ro: &mut ReadOnly, from: u64, n: u64) {
        ro.recv_ack(from, &n.to_le_bytes());
    }

    #[test]
    fn acks_keep_the_highest_counter() {
        let mut ro = ReadOnly::new();
        ack(&mut ro, 2, 5);
        ack(&mut ro, 2, 3);
        ack(&mut ro, 1, 1);
        assert_eq!(ro.acked_index(2), Some(5));
        assert_eq!(ro.acked_index(1), Some(1));
        assert_eq!(ro.acked_index(3), None);
        ro.recv_ack(3, b"");
        ro.recv_ack(3, b"123456789");
        assert_eq!(ro.acked_index(3), None);
    }

    #[test]
    fn confirms_in_order_up_to_the_quorum_counter() {
        let mut ro = ReadOnly::new();
        assert!(ro.heartbeat_ctx().is_empty());
        for (i, ctx) in [10u8, 11, 12].into_iter().enumerate() {
            ro.add_request(100 + i as u64, req(ctx));
        }
        assert_eq!(ro.heartbeat_ctx().as_ref(), 3u64.to_le_bytes());

        // Joint (1 2 3)&&(3 4): both halves need a quorum.
        let voters = JointConfig::new(
            MajorityConfig::from([1, 2, 3].as_slice()),
            MajorityConfig::from([3, 4].as_slice()),
        );
        ack(&mut ro, 1, 3);
        ack(&mut ro, 2, 2);
        assert!(ro.maybe_advance(&voters).is_empty());
        ack(&mut ro, 3, 2);
        ack(&mut ro, 4, 1);
        let done = ro.maybe_advance(&voters);
        assert_eq!(done.len(), 1);
        assert_eq!((done[0].index, done[0].req.context[0]), (100, 10));
        ack(&mut ro, 4, 3);
        let done = ro.maybe_advance(&voters);
        assert_eq!(done.iter().map(|r| r.index).collect::<Vec<_>>(), vec![101]);
        assert_eq!(ro.confirmed_reads(), 2);
        // The next round's counter still counts from the start.
        assert_eq!(ro.heartbeat_ctx().as_ref(), 3u64.to_le_bytes());
        ack(&mut ro, 3, 3);
        assert_eq!(ro.maybe_advance(&voters).len(), 1);
        assert_eq!(ro.unconfirmed_len(), 0);
    }

    #[test]
    fn a_counter_beyond_the_queue_confirms_only_what_is_queued() {
        let mut ro = ReadOnly::new();
        ro.add_request(7, req(1));
        let voters = JointConfig::new(
            MajorityConfig::from([1].as_slice()),
            MajorityConfig::default(),
        );
        ack(&mut ro, 1, 99);
        assert_eq!(ro.maybe_advance(&voters).len(), 1);
        assert_eq!(ro.confirmed_reads(), 1);
    }
}
