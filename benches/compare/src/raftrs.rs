//! The adapter for tikv's raft-rs 0.7.0, driven as its own examples drive
//! it: messages of the Ready sent before persisting (a leader's), the
//! persisted messages after, `advance` returning a `LightReady` whose commit
//! index, messages and committed entries are handled in turn, and
//! `advance_apply` at the end.

use raft_workloads::{options, recipient, Applied, Library, Queue};
use raftrs::eraftpb::{ConfState, Entry, Message};
use raftrs::storage::MemStorage;
use raftrs::{Config, RawNode, StateRole};

/// tikv's raft-rs 0.7.0 with its default features.
pub struct RaftRs;

fn apply(entries: Vec<Entry>, applied: &mut Applied) {
    for e in &entries {
        applied.entry(e.get_data().len());
    }
}

impl Library for RaftRs {
    const NAME: &'static str = "raft-rs-0.7.0";
    type Node = RawNode<MemStorage>;
    type Message = Message;
    const BATCH_APPEND: bool = true;

    fn new_node(id: u64, voters: u64, batch_append: bool) -> RawNode<MemStorage> {
        let cs = ConfState::from(((1..=voters).collect::<Vec<u64>>(), Vec::new()));
        let cfg = Config {
            id,
            election_tick: options::ELECTION_TICK,
            heartbeat_tick: options::HEARTBEAT_TICK,
            max_size_per_msg: options::MAX_SIZE_PER_MSG,
            max_inflight_msgs: options::MAX_INFLIGHT_MSGS,
            pre_vote: false,
            check_quorum: false,
            batch_append,
            ..Default::default()
        };
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        RawNode::new(&cfg, MemStorage::new_with_conf_state(cs), &logger)
            .expect("the workloads' config is valid")
    }

    fn campaign(node: &mut RawNode<MemStorage>) {
        node.campaign().expect("a follower can campaign");
    }

    #[inline]
    fn propose(node: &mut RawNode<MemStorage>, payload: Vec<u8>) {
        node.propose(Vec::new(), payload)
            .expect("the leader accepts proposals");
    }

    fn tick(node: &mut RawNode<MemStorage>) {
        node.tick();
    }

    fn leader(node: &RawNode<MemStorage>) -> u64 {
        if node.raft.state == StateRole::Leader {
            node.raft.id
        } else {
            node.raft.leader_id
        }
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
        if !rd.messages().is_empty() {
            out.push(rd.take_messages());
        }
        if !rd.snapshot().is_empty() {
            node.store()
                .wl()
                .apply_snapshot(rd.snapshot().clone())
                .expect("memory storage takes a snapshot");
        }
        apply(rd.take_committed_entries(), applied);
        if !rd.entries().is_empty() {
            node.store()
                .wl()
                .append(rd.entries())
                .expect("memory storage appends");
        }
        if let Some(hs) = rd.hs() {
            node.store().wl().set_hardstate(hs.clone());
        }
        if !rd.persisted_messages().is_empty() {
            out.push(rd.take_persisted_messages());
        }
        let mut light = node.advance(rd);
        if let Some(commit) = light.commit_index() {
            node.store().wl().mut_hard_state().set_commit(commit);
        }
        out.push(light.take_messages());
        apply(light.take_committed_entries(), applied);
        node.advance_apply();
        true
    }

    #[inline]
    fn deliver(nodes: &mut [RawNode<MemStorage>], batch: Vec<Message>) {
        // raft-rs steps messages by value only.
        for m in batch {
            let _ = recipient(nodes, m.get_to(), Self::NAME).step(m);
        }
    }
}
