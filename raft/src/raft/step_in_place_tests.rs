//! `RawNode::step_in_place` must behave exactly as `RawNode::step`: the
//! same refusals, the same state, the same messages.

use crate::config::Config;
use crate::eraftpb::{ConfState, Message, MessageType};
use crate::errors::Error;
use crate::raw_node::RawNode;
use crate::storage::MemStorage;
use crate::tests::support::test_logger;

fn cluster() -> Vec<RawNode<MemStorage>> {
    (1..=3)
        .map(|id| {
            let cs = ConfState {
                voters: vec![1, 2, 3],
                ..Default::default()
            };
            let storage = MemStorage::new_with_conf_state(cs);
            RawNode::new(&Config::new(id), storage, &test_logger()).unwrap()
        })
        .collect()
}

/// Handles every node's Ready (persisting synchronously) and returns all
/// their messages, in node order.
fn readies(nodes: &mut [RawNode<MemStorage>]) -> Vec<Message> {
    let mut out = Vec::new();
    for n in nodes.iter_mut() {
        if !n.has_ready() {
            continue;
        }
        let mut rd = n.ready();
        n.mut_store().append(&rd.entries).unwrap();
        if let Some(hs) = rd.hard_state {
            n.mut_store().set_hard_state(hs).unwrap();
        }
        out.append(&mut rd.messages);
        n.advance();
    }
    out
}

#[test]
fn stepping_in_place_matches_stepping_by_value() {
    let mut by_value = cluster();
    let mut in_place = cluster();
    by_value[0].campaign().unwrap();
    in_place[0].campaign().unwrap();
    for round in 0..20u8 {
        if round > 3 {
            by_value[0].propose(vec![round; 8]).unwrap();
            in_place[0].propose(vec![round; 8]).unwrap();
        }
        let a = readies(&mut by_value);
        let b = readies(&mut in_place);
        assert_eq!(a, b, "round {round}");
        for m in a {
            let to = m.to as usize - 1;
            let _ = by_value[to].step(m);
        }
        for mut m in b {
            let to = m.to as usize - 1;
            let _ = in_place[to].step_in_place(&mut m);
        }
    }
    for (x, y) in by_value.iter().zip(&in_place) {
        assert_eq!(x.raft.hard_state(), y.raft.hard_state());
        assert_eq!(x.raft.raft_log.last_index(), y.raft.raft_log.last_index());
    }
    // Replication really happened (the last rounds' entries are in flight).
    assert!(by_value[2].raft.raft_log.committed >= 10);

    // The same refusal: a local message from a peer.
    let mut m = Message::new(MessageType::MsgHup);
    m.from = 2;
    let want = by_value[0].step(m.clone()).unwrap_err();
    let got = in_place[0].step_in_place(&mut m).unwrap_err();
    assert!(matches!(want, Error::StepLocalMsg), "{want:?}");
    assert_eq!(format!("{want:?}"), format!("{got:?}"));
}
