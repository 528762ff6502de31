//! The port of etcd's `rafttest/node_test.go`: five threaded nodes over
//! the in-memory network make progress, survive restarts and pauses.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use super::network::RaftNetwork;
use super::node::{start_test_node, TestNode};
use crate::raw_node::Peer;

fn peers() -> Vec<Peer> {
    (1..=5)
        .map(|id| Peer {
            id,
            ..Default::default()
        })
        .collect()
}

/// One five-node cluster at a time: each runs 15 threads on a 20ms clock,
/// and clusters running side by side starve each other's heartbeats into
/// elections that lose proposals (etcd's Go runtime schedules the same
/// tests far more cheaply).
static ONE_CLUSTER: Mutex<()> = Mutex::new(());

fn one_cluster() -> MutexGuard<'static, ()> {
    ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner())
}

fn start_five() -> Vec<TestNode> {
    let peers = peers();
    let nt = RaftNetwork::new(&[1, 2, 3, 4, 5]);
    (1..=5)
        .map(|i| start_test_node(i, &peers, nt.node_network(i)))
        .collect()
}

#[test]
fn test_basic_progress() {
    let _one = one_cluster();
    let mut nodes = start_five();

    wait_leader(&nodes);

    for _ in 0..100 {
        nodes[0].propose(b"somedata").unwrap();
    }

    assert!(wait_commit_converge(&nodes, 100));

    for n in &mut nodes {
        n.stop();
    }
}

#[test]
fn test_restart() {
    let _one = one_cluster();
    let mut nodes = start_five();

    let l = wait_leader(&nodes);
    let (k1, k2) = ((l + 1) % 5, (l + 2) % 5);

    for _ in 0..30 {
        nodes[l].propose(b"somedata").unwrap();
    }
    nodes[k1].stop();
    for _ in 0..30 {
        nodes[(l + 3) % 5].propose(b"somedata").unwrap();
    }
    nodes[k2].stop();
    for _ in 0..30 {
        nodes[(l + 4) % 5].propose(b"somedata").unwrap();
    }
    nodes[k2].restart();
    for _ in 0..30 {
        nodes[l].propose(b"somedata").unwrap();
    }
    nodes[k1].restart();

    assert!(wait_commit_converge(&nodes, 120));

    for n in &mut nodes {
        n.stop();
    }
}

#[test]
fn test_pause() {
    let _one = one_cluster();
    let mut nodes = start_five();

    wait_leader(&nodes);

    for _ in 0..30 {
        nodes[0].propose(b"somedata").unwrap();
    }
    nodes[1].pause();
    for _ in 0..30 {
        nodes[0].propose(b"somedata").unwrap();
    }
    nodes[2].pause();
    for _ in 0..30 {
        nodes[0].propose(b"somedata").unwrap();
    }
    nodes[2].resume();
    for _ in 0..30 {
        nodes[0].propose(b"somedata").unwrap();
    }
    nodes[1].resume();

    assert!(wait_commit_converge(&nodes, 120));

    for n in &mut nodes {
        n.stop();
    }
}

/// Waits until all nodes agree on one leader and returns its position
/// (etcd spins forever; this fails the test after a generous minute).
fn wait_leader(ns: &[TestNode]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut leads = BTreeSet::new();
        let mut lindex = None;
        for (i, n) in ns.iter().enumerate() {
            let lead = n.status().lead();
            if lead != 0 {
                leads.insert(lead);
                if n.id == lead {
                    lindex = Some(i);
                }
            }
        }
        if let (1, Some(l)) = (leads.len(), lindex) {
            return l;
        }
        assert!(Instant::now() < deadline, "no leader elected");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Whether all nodes converge on one commit index above `target`, polled
/// every 100ms. etcd gives up after five seconds (50 polls); five nodes
/// ticking every 20ms on a loaded two-core machine can take longer than
/// that without anything being wrong, so this waits up to a minute: the
/// claim (they converge) is the same, only the patience differs.
fn wait_commit_converge(ns: &[TestNode], target: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut commits = BTreeSet::new();
        let mut good = 0;
        for n in ns {
            let commit = n.status().commit();
            commits.insert(commit);
            if commit > target {
                good += 1;
            }
        }
        if commits.len() == 1 && good == ns.len() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(100));
    }
}
