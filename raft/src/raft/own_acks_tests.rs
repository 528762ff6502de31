//! Tests of `Raft::superseded_own_acks`: `RawNode::advance` steps only the
//! last of a leader's acknowledgements of its own appends, unless an
//! earlier one would commit on its own.

use crate::eraftpb::{ConfState, Message, MessageType};
use crate::raw_node::RawNode;
use crate::storage::MemStorage;
use crate::tests::support::{new_test_config, test_logger};

fn node(id: u64) -> RawNode<MemStorage> {
    let cs = ConfState {
        voters: vec![1, 2, 3],
        ..Default::default()
    };
    let store = MemStorage::new_with_conf_state(cs);
    RawNode::new(&new_test_config(id, 10, 1), store, &test_logger()).unwrap()
}

/// Persists `n`'s Ready and returns its messages, without advancing.
fn persist(n: &mut RawNode<MemStorage>) -> Vec<Message> {
    let rd = n.ready();
    n.mut_store().append(&rd.entries).unwrap();
    if let Some(hs) = rd.hard_state {
        n.mut_store().set_hard_state(hs).unwrap();
    }
    rd.messages
}

/// Three nodes with node 1 leading and every Ready handled.
fn group() -> Vec<RawNode<MemStorage>> {
    let mut nodes: Vec<_> = (1..=3).map(node).collect();
    nodes[0].campaign().unwrap();
    loop {
        let mut msgs = Vec::new();
        for n in &mut nodes {
            if n.has_ready() {
                msgs.extend(persist(n));
                n.advance();
            }
        }
        if msgs.is_empty() {
            return nodes;
        }
        for m in msgs {
            nodes[m.to as usize - 1].step(m).unwrap();
        }
    }
}

/// The commit indexes of the appends in `msgs` to `to`.
fn commits_sent(msgs: &[Message], to: u64) -> Vec<u64> {
    msgs.iter()
        .filter(|m| m.to == to && m.get_type() == MessageType::MsgApp)
        .map(|m| m.commit)
        .collect()
}

#[test]
fn acks_that_commit_nothing_are_skipped() {
    let mut nodes = group();
    let committed = nodes[0].raft.raft_log.committed;
    for _ in 0..3 {
        nodes[0].propose(&b"x"[..]).unwrap();
    }
    let leader = &mut nodes[0];
    persist(leader);
    // Three acknowledgements of the leader's own appends, then the
    // storage's: followers have acked nothing, so none commits.
    let steps = &leader.steps_on_advance;
    assert_eq!(steps.len(), 4);
    assert_eq!(leader.raft.superseded_own_acks(steps), 2);
    leader.advance();
    let pr = leader.raft.trk.progress.get(1).unwrap();
    assert_eq!((pr.matched, pr.next), (committed + 3, committed + 4));
    assert_eq!(leader.raft.raft_log.committed, committed);
}

#[test]
fn acks_that_commit_are_all_stepped() {
    let mut nodes = group();
    let committed = nodes[0].raft.raft_log.committed;
    for _ in 0..3 {
        nodes[0].propose(&b"x"[..]).unwrap();
    }
    // Node 2 persists and acks all three before the leader advances: each
    // of the leader's own acknowledgements then commits one more entry,
    // and each commit goes out in appends of its own, as etcd sends them.
    let appends = persist(&mut nodes[0]);
    for m in appends.into_iter().filter(|m| m.to == 2) {
        nodes[1].step(m).unwrap();
    }
    let acks = persist(&mut nodes[1]);
    nodes[1].advance();
    for m in acks {
        nodes[0].step(m).unwrap();
    }
    let leader = &mut nodes[0];
    assert_eq!(leader.raft.raft_log.committed, committed);
    assert_eq!(leader.raft.superseded_own_acks(&leader.steps_on_advance), 0);
    leader.advance();
    assert_eq!(leader.raft.raft_log.committed, committed + 3);
    let msgs = leader.ready().messages;
    let want: Vec<u64> = (committed + 1..=committed + 3).collect();
    assert_eq!(commits_sent(&msgs, 2), want);
    assert_eq!(commits_sent(&msgs, 3), want);
}
