//! Tests of `Config::batch_append`: one append per peer per Ready as far as
//! the limits allow, coalesced acknowledgements, and the same log as
//! without it under reordered delivery.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::config::Config;
use crate::eraftpb::{ConfState, Message, MessageType};
use crate::raw_node::RawNode;
use crate::storage::MemStorage;
use crate::tests::support::test_logger;
use crate::util::{ent_size, ents_size};

fn node(id: u64, voters: u64, f: &impl Fn(&mut Config)) -> RawNode<MemStorage> {
    let cs = ConfState {
        voters: (1..=voters).collect(),
        ..Default::default()
    };
    let mut c = Config::new(id);
    f(&mut c);
    RawNode::new(&c, MemStorage::new_with_conf_state(cs), &test_logger()).unwrap()
}

/// A group whose nodes' Readies are handled synchronously; messages wait
/// in `queue` until delivered. `applied` holds each node's applied payloads.
struct Group {
    nodes: Vec<RawNode<MemStorage>>,
    queue: VecDeque<Message>,
    applied: Vec<Vec<Bytes>>,
    sent: usize,
}

impl Group {
    fn new(voters: u64, f: impl Fn(&mut Config)) -> Group {
        let mut g = Group {
            nodes: (1..=voters).map(|id| node(id, voters, &f)).collect(),
            queue: VecDeque::new(),
            applied: vec![Vec::new(); voters as usize],
            sent: 0,
        };
        g.nodes[0].campaign().unwrap();
        g.drain();
        g.applied.iter_mut().for_each(Vec::clear);
        g.sent = 0;
        g
    }

    /// Handles node `i`'s Ready, if any; returns its messages.
    fn ready(&mut self, i: usize) -> Vec<Message> {
        let n = &mut self.nodes[i];
        if !n.has_ready() {
            return Vec::new();
        }
        let rd = n.ready();
        n.mut_store().append(&rd.entries).unwrap();
        if let Some(hs) = rd.hard_state {
            n.mut_store().set_hard_state(hs).unwrap();
        }
        for e in &rd.committed_entries {
            if !e.data.is_empty() {
                self.applied[i].push(e.data.clone());
            }
        }
        n.advance();
        self.sent += rd.messages.len();
        rd.messages
    }

    fn step(&mut self, m: Message) {
        let to = m.to as usize - 1;
        let _ = self.nodes[to].step(m);
    }

    fn drain(&mut self) {
        loop {
            for i in 0..self.nodes.len() {
                let ms = self.ready(i);
                self.queue.extend(ms);
            }
            if self.queue.is_empty() && !self.nodes.iter().any(|n| n.has_ready()) {
                return;
            }
            while let Some(m) = self.queue.pop_front() {
                self.step(m);
            }
        }
    }
}

fn apps_to(msgs: &[Message], to: u64) -> Vec<&Message> {
    msgs.iter()
        .filter(|m| m.to == to && m.get_type() == MessageType::MsgApp)
        .collect()
}

#[test]
fn proposals_of_one_ready_go_out_as_one_append_per_peer() {
    for batch in [false, true] {
        let mut g = Group::new(3, |c| c.batch_append = batch);
        for i in 0..10u8 {
            g.nodes[0].propose(vec![i; 8]).unwrap();
        }
        let msgs = g.ready(0);
        for to in [2, 3] {
            let apps = apps_to(&msgs, to);
            let want = if batch { 1 } else { 10 };
            assert_eq!(apps.len(), want, "batch={batch} to={to}");
            let n: usize = apps.iter().map(|m| m.entries.len()).sum();
            assert_eq!(n, 10, "batch={batch} to={to}");
        }
        g.queue.extend(msgs);
        g.drain();
        for a in &g.applied {
            assert_eq!(a.len(), 10);
        }
    }
}

#[test]
fn batched_appends_respect_the_size_limit() {
    // 10 proposals of 40 bytes (each entry encodes to about 45) under
    // limits that fit 1, 2, 3 or all of them.
    let entry = 40 + 5;
    for max in [1, 2 * entry, 3 * entry + 1, 1 << 20] {
        let mut g = Group::new(2, |c| {
            c.batch_append = true;
            c.max_size_per_msg = max;
        });
        for i in 0..10u8 {
            g.nodes[0].propose(vec![i; 40]).unwrap();
        }
        let msgs = g.ready(0);
        let apps = apps_to(&msgs, 2);
        let one = ent_size(&apps[0].entries[0]);
        // As many entries per message as the limit allows (at least one).
        let per_msg = (max / one).clamp(1, 10) as usize;
        assert_eq!(apps.len(), 10usize.div_ceil(per_msg), "max={max}");
        let mut next = apps[0].index + 1;
        for m in &apps {
            assert!(
                m.entries.len() == 1 || ents_size(&m.entries) <= max,
                "max={max}"
            );
            // Consecutive, gap-free appends.
            assert_eq!(m.index + 1, next);
            next += m.entries.len() as u64;
        }
        g.queue.extend(msgs);
        g.drain();
        assert_eq!(g.applied[1].len(), 10);
    }
}

#[test]
fn acceptances_coalesce_and_rejections_do_not() {
    let mut g = Group::new(3, |c| c.batch_append = true);
    // Two appends from two Readies of the leader, delivered together.
    g.nodes[0].propose(&b"a"[..]).unwrap();
    let first = g.ready(0);
    g.nodes[0].propose(&b"b"[..]).unwrap();
    let second = g.ready(0);
    let last_index = g.nodes[0].raft.raft_log.last_index();
    for m in apps_to(&first, 2).into_iter().chain(apps_to(&second, 2)) {
        g.step(m.clone());
    }
    let resps = g.ready(1);
    assert_eq!(resps.len(), 1, "{resps:?}");
    assert_eq!(resps[0].get_type(), MessageType::MsgAppResp);
    assert!(!resps[0].reject);
    assert_eq!(resps[0].index, last_index);

    // Two appends that do not match follower 3's log (it has neither a nor
    // b) each get their own rejection, carrying its own hint.
    let mut bogus = apps_to(&second, 3)[0].clone();
    bogus.entries.clear();
    bogus.index += 5;
    let mut bogus2 = bogus.clone();
    bogus2.index += 1;
    g.step(bogus);
    g.step(bogus2);
    let resps = g.ready(2);
    let rejects = resps.iter().filter(|m| m.reject).count();
    assert_eq!(rejects, 2, "{resps:?}");
}

/// A deterministic generator for the shuffles below (xorshift64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn reordered_delivery_applies_the_same_log_with_fewer_messages() {
    for seed in 1..=20u64 {
        let mut sent = Vec::new();
        for batch in [false, true] {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let voters = 3 + 2 * rng.below(2);
            let mut g = Group::new(voters, |c| {
                c.batch_append = batch;
                c.max_size_per_msg = 64;
                c.max_inflight_msgs = 4;
            });
            let mut proposed = Vec::new();
            for round in 0..30u64 {
                for k in 0..rng.below(6) {
                    let data = Bytes::from(format!("{round}-{k}"));
                    g.nodes[0].propose(data.clone()).unwrap();
                    proposed.push(data);
                }
                // Some nodes handle their Readies, then a random part of
                // the queue is delivered in a random order.
                for i in 0..g.nodes.len() {
                    if rng.below(3) > 0 {
                        let ms = g.ready(i);
                        g.queue.extend(ms);
                    }
                }
                let deliver = rng.below(g.queue.len() as u64 + 1);
                for _ in 0..deliver {
                    let at = rng.below(g.queue.len() as u64) as usize;
                    let m = g.queue.remove(at).unwrap();
                    g.step(m);
                }
            }
            g.drain();
            // Appends paused by a full window are resumed by heartbeats.
            for _ in 0..5 {
                g.nodes[0].tick();
                g.drain();
            }
            for (i, a) in g.applied.iter().enumerate() {
                assert_eq!(a, &proposed, "seed={seed} batch={batch} node={}", i + 1);
            }
            sent.push(g.sent);
        }
        assert!(sent[1] <= sent[0], "seed={seed}: {sent:?}");
    }
}
