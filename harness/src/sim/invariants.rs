//! The safety properties checked after every event: at most one leader per
//! term; log matching; leader completeness; state machine safety (every
//! node applies the same entry at an index, in index order); the same
//! configuration on every node after the same index; commit never moves
//! back (in memory within one life of a node, and in storage ever); and a
//! read's index at least as high as anything committed before it was
//! issued.
//!
//! It reads raft's internal state the way the harness does, through
//! `RawNode::raft` (term, role, the log, the commit index). A documented
//! door for checkers would need: the role and term (already in `Status`),
//! the commit index, and read access to the log's entries and terms
//! including the unstable part.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use raft::eraftpb::ConfState;
use raft::raft::StateRole;
use raft::read_only::ReadState;
use raft::storage::Storage;

use crate::datadriven::TestData;
use crate::interaction::InteractionEnv;

/// What the checker remembers of one node (of its current life).
#[derive(Clone, Debug, Default)]
struct NodeTrack {
    /// The commit index last seen in memory.
    commit: u64,
    /// How many state-machine history entries were checked.
    history_seen: usize,
    /// The index of the last entry the state machine applied.
    applied: u64,
    /// The shape of the log when it was last scanned (first index, last
    /// index, last term, stable last index); unchanged shape, no rescan.
    log_shape: Option<(u64, u64, u64, u64)>,
}

/// An entry known committed: its term and data, and the highest term any
/// node had when it was first seen committed (it was committed in a term
/// no later than that).
#[derive(Clone, Debug)]
struct Committed {
    term: u64,
    data: Bytes,
    term_bound: u64,
}

/// The checker of one run. Feed it every event with [`Checker::after`].
#[derive(Debug, Default)]
pub struct Checker {
    nodes: BTreeMap<u64, NodeTrack>,
    /// The leader of each term seen.
    leaders: BTreeMap<u64, u64>,
    /// Leaders already checked for completeness: (term, id).
    complete_checked: BTreeSet<(u64, u64)>,
    committed: BTreeMap<u64, Committed>,
    /// Every log entry seen: (index, term) -> (term of the previous entry,
    /// data).
    entries: BTreeMap<(u64, u64), (u64, Bytes)>,
    /// The configuration after applying each index.
    conf_at: BTreeMap<u64, ConfState>,
    /// The highest commit index ever persisted by each node.
    persisted_commit: BTreeMap<u64, u64>,
    /// Read requests issued: (node, context) -> the highest index known
    /// committed when it was issued.
    reads: BTreeMap<(u64, Bytes), u64>,
    /// Whether reads are lease-based: their safety rests on bounded clock
    /// drift, which the simulator's independent ticks do not model, so
    /// they are not checked.
    lease_reads: bool,
}

impl Checker {
    /// A checker; `lease_reads` turns the read check off (see the field).
    pub fn new(lease_reads: bool) -> Checker {
        Checker {
            lease_reads,
            ..Default::default()
        }
    }

    /// Checks the cluster after the command `d` ran; `reads` are the read
    /// states the command's `Ready`s handed out, with their node. Returns
    /// the violations found, one line each.
    pub fn after(
        &mut self,
        d: &TestData,
        env: &InteractionEnv,
        reads: &[(u64, ReadState)],
    ) -> Vec<String> {
        let mut v = Vec::new();
        self.note_command(d, env);
        let max_term = env.nodes.iter().map(|n| n.raw.raft.term).max().unwrap_or(0);
        for i in 0..env.nodes.len() {
            let id = i as u64 + 1;
            if env.faults.down.contains(&id) {
                continue;
            }
            self.check_node(id, env, max_term, &mut v);
        }
        if !self.lease_reads {
            for (id, rs) in reads {
                if let Some(&min) = self.reads.get(&(*id, rs.request_ctx.clone())) {
                    if rs.index < min {
                        v.push(format!(
                            "read {:?} on {id} got index {}, but {min} was committed before it was issued",
                            String::from_utf8_lossy(&rs.request_ctx),
                            rs.index
                        ));
                    }
                }
            }
        }
        v
    }

    /// Bookkeeping for commands the checker must know about: a restart
    /// begins a new life of the node; a read request records what was
    /// committed when it was issued.
    fn note_command(&mut self, d: &TestData, env: &InteractionEnv) {
        let first = d.cmd_args.first().and_then(|a| a.key.parse::<u64>().ok());
        match (d.cmd.as_str(), first) {
            ("restart", Some(id)) if !env.faults.down.contains(&id) => {
                let Some(n) = env.nodes.get((id - 1) as usize) else {
                    return;
                };
                let store = n.storage();
                self.nodes.insert(
                    id,
                    NodeTrack {
                        commit: n.raw.raft.raft_log.committed,
                        history_seen: store.history.len(),
                        applied: store.last_snapshot().metadata.index,
                        log_shape: None,
                    },
                );
            }
            ("read-index", Some(id)) => {
                if let Some(ctx) = d.cmd_args.get(1) {
                    let hi = self.committed.keys().next_back().copied().unwrap_or(0);
                    let ctx = Bytes::from(ctx.key.clone().into_bytes());
                    self.reads.entry((id, ctx)).or_insert(hi);
                }
            }
            _ => {}
        }
    }

    fn check_node(&mut self, id: u64, env: &InteractionEnv, max_term: u64, v: &mut Vec<String>) {
        let node = &env.nodes[(id - 1) as usize];
        let r = &node.raw.raft;
        let log = &r.raft_log;
        let track = self.nodes.entry(id).or_default().clone();
        let mut track_new = track.clone();

        // At most one leader per term.
        if r.state == StateRole::Leader {
            match self.leaders.get(&r.term) {
                Some(&other) if other != id => {
                    v.push(format!("two leaders in term {}: {other} and {id}", r.term))
                }
                Some(_) => {}
                None => {
                    self.leaders.insert(r.term, id);
                }
            }
        }

        // Commit never moves back.
        if log.committed < track.commit {
            v.push(format!(
                "commit of {id} moved back from {} to {}",
                track.commit, log.committed
            ));
        }
        let persisted = node.storage().mem.hard_state().commit;
        let pc = self.persisted_commit.entry(id).or_default();
        if persisted < *pc {
            v.push(format!(
                "persisted commit of {id} moved back from {pc} to {persisted}"
            ));
        }
        *pc = (*pc).max(persisted);

        // State machine safety at the source: every index is committed with
        // one entry only.
        let first = log.first_index();
        let last = log.last_index();
        if log.committed > last {
            v.push(format!(
                "commit {} of {id} is beyond its last index {last}",
                log.committed
            ));
        }
        for i in track.commit.max(first).max(1)..=log.committed.min(last) {
            let Ok(ents) = log.slice(i, i + 1, u64::MAX) else {
                continue;
            };
            let Some(e) = ents.first() else { continue };
            match self.committed.get(&i) {
                Some(c) if c.term != e.term || c.data != e.data => v.push(format!(
                    "index {i} committed as {}/{:?} on {id} but as {}/{:?} before",
                    e.term,
                    String::from_utf8_lossy(&e.data),
                    c.term,
                    String::from_utf8_lossy(&c.data)
                )),
                Some(_) => {}
                None => {
                    self.committed.insert(
                        i,
                        Committed {
                            term: e.term,
                            data: e.data.clone(),
                            term_bound: max_term,
                        },
                    );
                }
            }
        }
        track_new.commit = log.committed.max(track.commit);

        // Log matching: an entry's index and term fix its data and its
        // predecessor's term (and so, by induction, the whole prefix).
        let shape = (
            first,
            last,
            log.term(last).unwrap_or(0),
            log.storage.last_index().unwrap_or(0),
        );
        if track.log_shape != Some(shape) {
            if let Ok(ents) = log.slice(first, last + 1, u64::MAX) {
                let mut prev_term = log.term(first - 1).unwrap_or(0);
                for e in &ents {
                    match self.entries.get(&(e.index, e.term)) {
                        Some((pt, data)) if *pt != prev_term || *data != e.data => {
                            v.push(format!(
                                "log matching: entry {}/{} on {id} follows term {prev_term}, elsewhere {pt}",
                                e.index, e.term
                            ));
                            break;
                        }
                        Some(_) => {}
                        None => {
                            self.entries
                                .insert((e.index, e.term), (prev_term, e.data.clone()));
                        }
                    }
                    prev_term = e.term;
                }
            }
            track_new.log_shape = Some(shape);
        }

        // Leader completeness: a leader of term T holds every entry
        // committed in an earlier term.
        if r.state == StateRole::Leader && self.complete_checked.insert((r.term, id)) {
            for (&i, c) in self.committed.range(first..) {
                if c.term_bound >= r.term {
                    continue;
                }
                if log.term(i).ok() != Some(c.term) {
                    v.push(format!(
                        "leader {id} of term {} lacks committed entry {i}/{}",
                        r.term, c.term
                    ));
                    break;
                }
            }
        }

        // What the state machine applied: in index order, committed
        // entries only, each index under one configuration.
        let history = &node.storage().history;
        for s in history.iter().skip(track.history_seen) {
            let (i, t) = (s.metadata.index, s.metadata.term);
            if i <= track_new.applied && track.history_seen > 0 {
                v.push(format!(
                    "state machine of {id} applied index {i} after reaching {}",
                    track_new.applied
                ));
            }
            track_new.applied = track_new.applied.max(i);
            if let Some(c) = self.committed.get(&i) {
                if c.term != t {
                    v.push(format!(
                        "state machine of {id} applied {i}/{t}, but {i}/{} is committed",
                        c.term
                    ));
                }
            }
            let cs = &s.metadata.conf_state;
            // A conf change superseded by a restored snapshot records the
            // snapshot's configuration, not the one after its own index.
            if i < node.raw.conf_superseded_through() {
                continue;
            }
            match self.conf_at.get(&i) {
                Some(other) if !same_conf(other, cs) => v.push(format!(
                    "configuration after index {i} on {id} is {cs:?}, elsewhere {other:?}"
                )),
                Some(_) => {}
                None => {
                    self.conf_at.insert(i, cs.clone());
                }
            }
        }
        track_new.history_seen = history.len();
        self.nodes.insert(id, track_new);
    }
}

/// Whether two configurations are the same set-wise (the order of ids in a
/// `ConfState` carries no meaning).
fn same_conf(a: &ConfState, b: &ConfState) -> bool {
    fn set(v: &[u64]) -> BTreeSet<u64> {
        v.iter().copied().collect()
    }
    set(&a.voters) == set(&b.voters)
        && set(&a.voters_outgoing) == set(&b.voters_outgoing)
        && set(&a.learners) == set(&b.learners)
        && set(&a.learners_next) == set(&b.learners_next)
        && a.auto_leave == b.auto_leave
}
