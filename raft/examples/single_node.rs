//! One raft node driven by hand through `RawNode`: campaign, propose a few
//! commands, handle each `Ready` (persist, apply, advance), and print the
//! log.
//!
//! Run with `cargo run -p etcdraft --example single_node`.

use etcdraft::config::Config;
use etcdraft::eraftpb::{ConfState, EntryType};
use etcdraft::raw_node::RawNode;
use etcdraft::storage::{MemStorage, Storage};
use etcdraft::StateRole;

fn main() -> etcdraft::Result<()> {
    // etcd's log lines on stderr; ETCDRAFT_LOG=debug shows every step.
    let logger = etcdraft::default_logger();

    // A group of one: the storage's initial configuration names node 1 as
    // the only voter, so no bootstrap entries are needed.
    let storage = MemStorage::new_with_conf_state(ConfState {
        voters: vec![1],
        ..Default::default()
    });
    let mut node = RawNode::new(&Config::new(1), storage, &logger)?;

    // With a single voter the election needs no messages, but it is not
    // won at once: `campaign` makes the node a candidate that has voted
    // for itself, and that vote counts only once the Ready that persists it
    // has been handled (`advance`). Until then proposals are dropped.
    node.campaign()?;
    assert_eq!(node.status().raft_state(), StateRole::Candidate);
    handle_ready(&mut node)?;
    assert_eq!(node.status().raft_state(), StateRole::Leader);

    for i in 1..=5 {
        node.propose(format!("put key{i}=value{i}"))?;
        // Each Ready appends the proposal; the next one (after advance)
        // hands it back as committed.
        while node.has_ready() {
            handle_ready(&mut node)?;
        }
    }

    let status = node.status();
    println!(
        "node {:x}: {} at term {}, commit {}, applied {}",
        status.id,
        status.raft_state(),
        status.term(),
        status.commit(),
        status.applied
    );
    let store = node.store();
    let (first, last) = (store.first_index()?, store.last_index()?);
    println!("log [{first}, {last}]:");
    for e in store.entries(first, last + 1, u64::MAX)? {
        // The leader's first entry of its term is empty.
        let data = match e.get_type() {
            EntryType::EntryNormal if e.data.is_empty() => "(empty)".to_owned(),
            EntryType::EntryNormal => String::from_utf8_lossy(&e.data).into_owned(),
            t => format!("({t:?})"),
        };
        println!("  {}/{} {}", e.term, e.index, data);
    }
    Ok(())
}

/// Handles one `Ready` the way every application must: persist the hard
/// state and entries, send the messages (a group of one has none), apply
/// the committed entries, then advance.
fn handle_ready(node: &mut RawNode<MemStorage>) -> etcdraft::Result<()> {
    let rd = node.ready();
    let store = node.mut_store();
    if let Some(snap) = rd.snapshot {
        store.apply_snapshot(snap)?;
    }
    if let Some(hs) = rd.hard_state {
        store.set_hard_state(hs)?;
    }
    store.append(&rd.entries)?;
    assert!(rd.messages.is_empty(), "a group of one sends nothing");
    for e in &rd.committed_entries {
        if e.get_type() == EntryType::EntryNormal && !e.data.is_empty() {
            println!("applied {}: {}", e.index, String::from_utf8_lossy(&e.data));
        }
    }
    node.advance();
    Ok(())
}
