//! The adapter for this repository's raft (`RawNode` over `MemStorage`),
//! driven through its public API as an application would.

use bytes::Bytes;
use raft::config::Config;
use raft::eraftpb::{ConfState, Message};
use raft::raw_node::RawNode;
use raft::storage::MemStorage;

use crate::{options, recipient, Applied, Library, Queue};

/// This repository's raft.
pub struct Ours;

impl Library for Ours {
    const NAME: &'static str = "raft-etcd-port";
    type Node = RawNode<MemStorage>;
    type Message = Message;
    const BATCH_APPEND: bool = true;

    fn new_node(id: u64, voters: u64, batch_append: bool) -> RawNode<MemStorage> {
        let cs = ConfState {
            voters: (1..=voters).collect(),
            ..Default::default()
        };
        let mut cfg = Config::new(id);
        cfg.election_tick = options::ELECTION_TICK;
        cfg.heartbeat_tick = options::HEARTBEAT_TICK;
        cfg.max_size_per_msg = options::MAX_SIZE_PER_MSG;
        cfg.max_inflight_msgs = options::MAX_INFLIGHT_MSGS;
        cfg.pre_vote = false;
        cfg.check_quorum = false;
        cfg.batch_append = batch_append;
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        RawNode::new(&cfg, MemStorage::new_with_conf_state(cs), &logger)
            .expect("the workloads' config is valid")
    }

    fn campaign(node: &mut RawNode<MemStorage>) {
        node.campaign().expect("a follower can campaign");
    }

    #[inline]
    fn propose(node: &mut RawNode<MemStorage>, payload: Vec<u8>) {
        node.propose(Bytes::from(payload))
            .expect("the leader accepts proposals");
    }

    fn tick(node: &mut RawNode<MemStorage>) {
        node.tick();
    }

    fn leader(node: &RawNode<MemStorage>) -> u64 {
        node.basic_status().soft_state.lead
    }

    fn handle_ready(
        node: &mut RawNode<MemStorage>,
        out: &mut Queue<Message>,
        applied: &mut Applied,
    ) -> bool {
        if !node.has_ready() {
            return false;
        }
        let mut rd = node.ready();
        let store = node.mut_store();
        if let Some(snap) = rd.snapshot.take() {
            store
                .apply_snapshot(snap)
                .expect("memory storage takes a snapshot");
        }
        if !rd.entries.is_empty() {
            // The entries are not needed once stored: they move in.
            store
                .append_owned(std::mem::take(&mut rd.entries))
                .expect("memory storage appends");
        }
        if let Some(hs) = rd.hard_state {
            store
                .set_hard_state(hs)
                .expect("memory storage sets a hard state");
        }
        out.push(std::mem::take(&mut rd.messages));
        for e in &rd.committed_entries {
            applied.entry(e.data.len());
        }
        node.advance();
        // The applied entries' vector serves a later Ready instead of being
        // freed.
        raft::buffers::recycle_entries(std::mem::take(&mut rd.committed_entries));
        true
    }

    #[inline]
    fn deliver(nodes: &mut [RawNode<MemStorage>], mut batch: Vec<Message>) {
        // Stepped where they lie: no message is moved out of the batch.
        for m in &mut batch {
            let _ = recipient(nodes, m.to, Self::NAME).step_in_place(m);
        }
        // The emptied batch serves a later Ready's messages.
        raft::buffers::recycle_messages(batch);
    }
}
