//! Tests of a leader's acknowledgements of its own appends without async
//! storage writes: queued as runs (`Raft::extend_own_ack_run`), and
//! `RawNode::advance` steps only the last of them
//! (`Raft::superseded_own_acks`), unless an earlier one would commit on its
//! own; then each is stepped, as if queued alone.

use std::sync::{Arc, Mutex};

use crate::eraftpb::{ConfState, Entry, Message, MessageType};
use crate::raw_node::RawNode;
use crate::storage::MemStorage;
use crate::tests::support::{new_test_config, test_logger, TestRng};

fn node(id: u64) -> RawNode<MemStorage> {
    node_logging_to(id, &test_logger())
}

/// Node `id` of a group of three voters, logging to `logger`.
fn node_logging_to(id: u64, logger: &slog::Logger) -> RawNode<MemStorage> {
    let cs = ConfState {
        voters: vec![1, 2, 3],
        ..Default::default()
    };
    let store = MemStorage::new_with_conf_state(cs);
    let mut cfg = new_test_config(id, 10, 1);
    cfg.election_seed = Some(id);
    RawNode::new(&cfg, store, logger).unwrap()
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
    // Three acknowledgements of the leader's own appends, queued as one
    // run, then the storage's: followers have acked nothing, so none
    // commits.
    let steps = &leader.steps_on_advance;
    assert_eq!(steps.len(), 2);
    assert_eq!((steps[0].reject_hint, steps[0].index), (committed + 1, committed + 3));
    assert_eq!(leader.raft.superseded_own_acks(steps), Some(0));
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
    assert_eq!(leader.raft.superseded_own_acks(&leader.steps_on_advance), None);
    leader.advance();
    assert_eq!(leader.raft.raft_log.committed, committed + 3);
    let msgs = leader.ready().messages;
    let want: Vec<u64> = (committed + 1..=committed + 3).collect();
    assert_eq!(commits_sent(&msgs, 2), want);
    assert_eq!(commits_sent(&msgs, 3), want);
}

#[test]
fn runs_hold_only_consecutive_single_appends() {
    let mut nodes = group();
    let leader = &mut nodes[0];
    let li = leader.raft.raft_log.last_index();
    leader.propose(&b"a"[..]).unwrap();
    // Two entries in one proposal: one acknowledgement, of the second,
    // which must not join the run (its first entry was never acked alone).
    let mut prop = Message::new(MessageType::MsgProp);
    prop.entries = vec![Entry::default(), Entry::default()];
    leader.step(prop).unwrap();
    leader.propose(&b"b"[..]).unwrap();
    leader.propose(&b"c"[..]).unwrap();
    let acks: Vec<(u64, u64)> = leader
        .raft
        .msgs_after_append
        .iter()
        .map(|m| (m.reject_hint, m.index))
        .collect();
    assert_eq!(acks, vec![(0, li + 1), (li + 3, li + 5)]);
}

/// What a group of three shows of itself: every message each node hands
/// out, its log lines, and the leader's commit index and own progress.
#[derive(Debug, Default, PartialEq)]
struct Trace {
    messages: Vec<Message>,
    commits: Vec<(u64, u64, u64)>,
    logs: Vec<String>,
}

/// Collects the log lines of the nodes it is given to.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

impl slog::Drain for Lines {
    type Ok = ();
    type Err = slog::Never;
    fn log(&self, r: &slog::Record, _: &slog::OwnedKVList) -> Result<(), slog::Never> {
        self.0.lock().unwrap().push(format!("{} {}", r.level(), r.msg()));
        Ok(())
    }
}

/// Delivers `queue` and handles every Ready, until the group is quiet.
fn settle(nodes: &mut [RawNode<MemStorage>], mut queue: Vec<Message>, trace: &mut Trace) {
    loop {
        for m in queue.drain(..) {
            let _ = nodes[m.to as usize - 1].step(m);
        }
        for n in nodes.iter_mut() {
            if n.has_ready() {
                let msgs = persist(n);
                trace.messages.extend(msgs.iter().cloned());
                queue.extend(msgs);
                n.advance();
            }
        }
        if queue.is_empty() {
            return;
        }
    }
}

/// Runs the same random rounds of proposals, single and of two entries,
/// with the followers' acknowledgements stepped into the leader before or
/// after it advances, on a group whose leader queues runs of its own
/// acknowledgements (`runs`) or each alone. Returns what the group showed
/// and whether the leader's runs were stepped whole (`Some`) and unrolled
/// (`None`) at least once each.
fn replay(seed: u64, runs: bool) -> (Trace, bool, bool) {
    let lines = Lines::default();
    let logger = slog::Logger::root(lines.clone(), slog::o!());
    let mut nodes: Vec<_> = (1..=3u64)
        .map(|id| {
            let mut n = node_logging_to(id, &logger);
            n.raft.own_ack_runs = runs;
            n
        })
        .collect();
    let mut trace = Trace::default();
    let mut rng = TestRng::new(seed);
    let (mut whole, mut unrolled) = (false, false);
    nodes[0].campaign().unwrap();
    settle(&mut nodes, Vec::new(), &mut trace);
    for round in 0..60 {
        for _ in 0..rng.below(5) {
            if rng.below(4) == 0 {
                let mut prop = Message::new(MessageType::MsgProp);
                prop.entries = vec![Entry::default(), Entry::default()];
                nodes[0].step(prop).unwrap();
            } else {
                nodes[0].propose(vec![round as u8]).unwrap();
            }
        }
        let mut queue = Vec::new();
        if nodes[0].has_ready() {
            let msgs = persist(&mut nodes[0]);
            trace.messages.extend(msgs.iter().cloned());
            if rng.below(2) == 0 {
                // One follower answers before the leader advances: then
                // the leader's own acknowledgements are what commits.
                let f = 2 + rng.below(2);
                for m in msgs {
                    if m.to == f {
                        let _ = nodes[m.to as usize - 1].step(m);
                    } else {
                        queue.push(m);
                    }
                }
                let f = f as usize - 1;
                if nodes[f].has_ready() {
                    let acks = persist(&mut nodes[f]);
                    trace.messages.extend(acks.iter().cloned());
                    nodes[f].advance();
                    for m in acks {
                        let _ = nodes[0].step(m);
                    }
                }
            } else {
                queue = msgs;
            }
            let leader = &mut nodes[0];
            if leader.steps_on_advance.iter().any(|m| m.reject_hint != 0) {
                match leader.raft.superseded_own_acks(&leader.steps_on_advance) {
                    Some(_) => whole = true,
                    None => unrolled = true,
                }
            }
            leader.advance();
        }
        settle(&mut nodes, queue, &mut trace);
        let r = &nodes[0].raft;
        let pr = r.trk.progress.get(1).unwrap();
        trace.commits.push((r.raft_log.committed, pr.matched, pr.next));
    }
    trace.logs = std::mem::take(&mut *lines.0.lock().unwrap());
    (trace, whole, unrolled)
}

#[test]
fn runs_act_as_their_acknowledgements_one_by_one() {
    let (mut whole, mut unrolled) = (false, false);
    for seed in 0..20 {
        let (with_runs, w, u) = replay(seed, true);
        let (alone, ..) = replay(seed, false);
        assert_eq!(with_runs, alone, "seed {seed}");
        whole |= w;
        unrolled |= u;
    }
    assert!(whole && unrolled, "both ways of stepping a run were tried: {whole} {unrolled}");
}
