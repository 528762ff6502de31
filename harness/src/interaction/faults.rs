//! Fault commands (ours, not etcd's; inert unless a script uses them): node
//! crashes and restarts from storage, a network whose links can be cut one
//! way or both, delivery of single messages in any order (to reorder,
//! duplicate and drop them), and checkpoints (a storage snapshot plus a
//! compaction) so that a restart has something sound to start from. The
//! simulator (`crate::sim`) writes its schedules in these commands, so that
//! a failing schedule is a script `raft-testdata` replays.
//!
//! | command | what it does |
//! |---|---|
//! | `crash <id>` | the node goes down: everything it had not persisted (its in-memory raft state, queued storage work) is lost, messages to it are dropped |
//! | `restart <id>` | the node starts again from its storage (hard state, log, last storage snapshot), its state machine rolled back to that snapshot |
//! | `checkpoint <id>` | the node's storage takes a snapshot of its state machine at its applied index and compacts its log up to there |
//! | `deliver-msg <from> <to> [nth=<k>] [dup=<b>]` | delivers the `k`-th (default first) queued message from `from` to `to`; with `dup=true` a copy stays queued |
//! | `drop-msg <from> <to> [nth=<k>]` | drops that message |
//! | `partition <id>...` | cuts both directions between the listed nodes and all others |
//! | `cut <from> <to>` | cuts the link one way: messages from `from` to `to` are dropped |
//! | `heal` | restores every link |
//!
//! Commands aimed at a node that is down print `node <id> is down`.

use std::collections::BTreeSet;

use raft::eraftpb::{Message, Snapshot};
use raft::raw_node::RawNode;
use raft::storage::Storage;
use raft::util::is_local_msg_target;

use super::args::{first_as_int, node_ids, parse_bool, script_err, CmdResult, Fail};
use super::{InteractionEnv, NodeStorage};
use crate::datadriven::TestData;
use crate::sim::Checker;

/// The fault state of the environment: which nodes are down and which
/// directed links are cut. Empty unless a script uses fault commands.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Ids of the nodes that crashed and have not restarted.
    pub down: BTreeSet<u64>,
    /// Cut links `(from, to)`: messages along them are dropped.
    pub cut: BTreeSet<(u64, u64)>,
}

impl Faults {
    /// Whether a message from `from` to `to` is lost: either end is down or
    /// the link is cut.
    pub fn loses(&self, from: u64, to: u64) -> bool {
        self.down.contains(&from) || self.down.contains(&to) || self.cut.contains(&(from, to))
    }

    /// The down node a command is aimed at, if any: the first positional
    /// node id of commands that act on one node (`from=` for
    /// `transfer-leadership`).
    pub fn down_target(&self, d: &TestData) -> Option<u64> {
        if self.down.is_empty() {
            return None;
        }
        let id = match d.cmd.as_str() {
            "transfer-leadership" => d.arg("from")?.vals.first()?.parse().ok()?,
            "campaign"
            | "propose"
            | "propose-conf-change"
            | "read-index"
            | "process-ready"
            | "process-append-thread"
            | "process-apply-thread"
            | "tick-election"
            | "tick-heartbeat"
            | "set-randomized-election-timeout"
            | "forget-leader"
            | "report-unreachable"
            | "report-snapshot"
            | "compact"
            | "checkpoint"
            | "crash"
            | "status" => d.cmd_args.first()?.key.parse().ok()?,
            _ => return None,
        };
        self.down.contains(&id).then_some(id)
    }
}

impl InteractionEnv {
    /// The node ids of `d`'s positional arguments, each checked to exist.
    fn fault_ids(&self, d: &TestData, n: usize) -> Result<Vec<u64>, Fail> {
        let ids = node_ids(d)?;
        if ids.len() < n {
            return Err(script_err(d, format!("expected {n} node id(s)")));
        }
        ids.iter()
            .map(|&id| self.node_index(id).map(|i| i as u64 + 1))
            .collect()
    }

    /// `crash <id>`
    pub(super) fn handle_crash(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        let n = &mut self.nodes[idx];
        n.append_work.clear();
        n.apply_work.clear();
        let id = idx as u64 + 1;
        // The node's messages to itself (storage-thread acknowledgements)
        // never left the process: they die with it.
        self.messages.retain(|m| {
            let local = |x: u64| x == id || is_local_msg_target(x);
            !(local(m.from) && local(m.to))
        });
        self.faults.down.insert(id);
        Ok(())
    }

    /// `restart <id>`: a new `RawNode` over the node's storage, as an
    /// application restarts: the state machine is that of the storage's
    /// snapshot, and raft hands the committed entries after it over again.
    pub(super) fn handle_restart(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        let id = idx as u64 + 1;
        if !self.faults.down.contains(&id) {
            return Err(Fail::Print(format!("node {id} is not down")));
        }
        let n = &mut self.nodes[idx];
        let snap_index = n.storage().mem.snapshot()?.metadata.index;
        // The state machine is durable only as of the storage's snapshot;
        // `history` always keeps its first (bootstrap) entry.
        let store = n.storage_mut();
        let keep = store
            .history
            .iter()
            .rposition(|s| s.metadata.index <= snap_index)
            .unwrap_or(0);
        store.history.truncate(keep + 1);
        let store = NodeStorage {
            mem: store.mem.clone(),
            history: store.history.clone(),
        };
        let mut cfg = n.config.clone();
        // Raft starts from the storage's snapshot.
        cfg.applied = 0;
        match RawNode::new(&cfg, store, &self.logger) {
            Ok(raw) => n.raw = raw,
            Err(e) => return Err(Fail::Print(format!("restart {id}: {e}"))),
        }
        self.faults.down.remove(&id);
        Ok(())
    }

    /// `checkpoint <id>`: a storage snapshot of the state machine at the
    /// applied index (with the configuration the state machine recorded
    /// there), then a compaction of the log up to it.
    pub(super) fn handle_checkpoint(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        let n = &mut self.nodes[idx];
        let applied = n.raw.raft.raft_log.applied;
        let store = n.storage_mut();
        let Some(state) = store
            .history
            .iter()
            .rev()
            .find(|s| s.metadata.index == applied)
            .cloned()
        else {
            return Err(Fail::Print(format!(
                "no state machine state at applied index {applied}"
            )));
        };
        let snap_index = store.mem.snapshot()?.metadata.index;
        let last = store.mem.last_index()?;
        if applied <= snap_index || applied > last {
            return Err(Fail::Print(format!(
                "cannot checkpoint at {applied}: storage has snapshot {snap_index}, last index {last}"
            )));
        }
        let Snapshot { data, metadata } = state;
        store
            .mem
            .create_snapshot(applied, Some(metadata.conf_state), data)?;
        store.mem.compact(applied)?;
        Ok(())
    }

    /// The position in the queue of the `nth` message from `from` to `to`.
    fn queued_msg(&self, d: &TestData) -> Result<Option<usize>, Fail> {
        let ids = self.fault_ids(d, 2)?;
        let (from, to) = (ids[0], ids[1]);
        let nth = match d.arg("nth").and_then(|a| a.vals.first()) {
            Some(v) => v
                .parse::<usize>()
                .map_err(|e| script_err(d, format!("nth: {e}")))?,
            None => 0,
        };
        Ok(self
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.from == from && m.to == to)
            .nth(nth)
            .map(|(i, _)| i))
    }

    /// `deliver-msg <from> <to> [nth=<k>] [dup=<b>]`
    pub(super) fn handle_deliver_msg(&mut self, d: &TestData) -> CmdResult {
        let dup = match d.arg("dup").and_then(|a| a.vals.first()) {
            Some(v) => parse_bool(v).map_err(|e| script_err(d, format!("dup: {e}")))?,
            None => false,
        };
        let Some(pos) = self.queued_msg(d)? else {
            self.output.write_str("no messages\n");
            return Ok(());
        };
        let msg = if dup {
            self.messages[pos].clone()
        } else {
            self.messages.remove(pos)
        };
        self.step_msg(msg);
        Ok(())
    }

    /// `drop-msg <from> <to> [nth=<k>]`
    pub(super) fn handle_drop_msg(&mut self, d: &TestData) -> CmdResult {
        match self.queued_msg(d)? {
            Some(pos) => {
                let m = self.messages.remove(pos);
                self.output
                    .write_fmt(format_args!("dropped: {}\n", super::commands::desc_msg(&m)));
            }
            None => self.output.write_str("no messages\n"),
        }
        Ok(())
    }

    /// Prints `msg` and steps it into its recipient, unless the network
    /// loses it (a cut link, a node that is down).
    pub(super) fn step_msg(&mut self, msg: Message) {
        if self.faults.loses(msg.from, msg.to) {
            self.output.write_fmt(format_args!(
                "dropped: {}\n",
                super::commands::desc_msg(&msg)
            ));
            return;
        }
        self.output
            .write_fmt(format_args!("{}\n", super::commands::desc_msg(&msg)));
        let to = msg.to;
        let res = match self.node_index(to as i64) {
            Ok(idx) => self.nodes[idx].raw.step(msg).map_err(|e| e.to_string()),
            Err(_) => Err(format!("node {to} does not exist")),
        };
        if let Err(e) = res {
            self.output.write_fmt(format_args!("{e}\n"));
        }
    }

    /// `partition <id>...`
    pub(super) fn handle_partition(&mut self, d: &TestData) -> CmdResult {
        let side: BTreeSet<u64> = self.fault_ids(d, 1)?.into_iter().collect();
        for other in 1..=self.nodes.len() as u64 {
            if side.contains(&other) {
                continue;
            }
            for &s in &side {
                self.faults.cut.insert((s, other));
                self.faults.cut.insert((other, s));
            }
        }
        Ok(())
    }

    /// `cut <from> <to>`
    pub(super) fn handle_cut(&mut self, d: &TestData) -> CmdResult {
        let ids = self.fault_ids(d, 2)?;
        self.faults.cut.insert((ids[0], ids[1]));
        Ok(())
    }

    /// `heal`
    pub(super) fn handle_heal(&mut self) -> CmdResult {
        self.faults.cut.clear();
        Ok(())
    }

    /// `check-invariants [lease-reads=<b>]`: turns the safety checker on;
    /// with lease-based reads, reads are not checked (their safety rests
    /// on bounded clock drift).
    pub(super) fn handle_check_invariants(&mut self, d: &TestData) -> CmdResult {
        let lease = match d.arg("lease-reads").and_then(|a| a.vals.first()) {
            Some(v) => parse_bool(v).map_err(|e| script_err(d, format!("lease-reads: {e}")))?,
            None => false,
        };
        self.checker = Some(Box::new(Checker::new(lease)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::hostile::stanza;
    use super::*;

    fn run(env: &mut InteractionEnv, line: &str) -> String {
        env.handle(&stanza(line, "")).unwrap_or_else(|e| e.0)
    }

    fn elected_three() -> InteractionEnv {
        let mut env = InteractionEnv::new();
        for l in [
            "log-level none",
            "add-nodes 3 voters=(1,2,3) index=2",
            "campaign 1",
            "stabilize",
        ] {
            run(&mut env, l);
        }
        env
    }

    #[test]
    fn crash_loses_memory_and_restart_reads_storage() {
        let mut env = elected_three();
        run(&mut env, "propose 1 a");
        // Appended in memory only: the Ready was never handled.
        let before = env.nodes[0].raw.raft.raft_log.last_index();
        assert_eq!(env.nodes[0].storage().mem.last_index().unwrap() + 1, before);
        assert_eq!(run(&mut env, "crash 1"), "ok");
        assert_eq!(run(&mut env, "propose 1 b"), "node 1 is down");
        assert_eq!(run(&mut env, "restart 2"), "node 2 is not down");
        assert_eq!(run(&mut env, "restart 1"), "ok");
        let r = &env.nodes[0].raw.raft;
        assert_eq!(r.raft_log.last_index(), before - 1);
        assert_eq!(r.term, 1);
        assert_eq!(r.state, raft::raft::StateRole::Follower);
    }

    #[test]
    fn cut_links_drop_and_heal_restores() {
        let mut env = elected_three();
        run(&mut env, "log-level info");
        run(&mut env, "cut 1 2");
        run(&mut env, "propose 1 a");
        run(&mut env, "process-ready 1");
        let out = run(&mut env, "deliver-msg 1 2");
        assert!(out.starts_with("dropped: 1->2 MsgApp"), "{out}");
        assert!(run(&mut env, "deliver-msg 1 3 dup=true").starts_with("1->3 MsgApp"));
        // The duplicate is still queued, and delivered again.
        assert!(run(&mut env, "deliver-msg 1 3").starts_with("1->3 MsgApp"));
        assert_eq!(run(&mut env, "deliver-msg 1 3"), "no messages\n");
        run(&mut env, "heal");
        run(&mut env, "partition 3");
        assert!(env.faults.loses(3, 1) && env.faults.loses(2, 3) && !env.faults.loses(1, 2));
        run(&mut env, "heal");
        assert!(env.faults.cut.is_empty());
    }

    #[test]
    fn checkpoint_snapshots_and_compacts_applied_state() {
        let mut env = elected_three();
        run(&mut env, "propose 1 a");
        run(&mut env, "stabilize");
        assert_eq!(run(&mut env, "checkpoint 1"), "ok");
        let mem = &env.nodes[0].storage().mem;
        let snap = mem.snapshot().unwrap();
        assert_eq!(snap.metadata.index, env.nodes[0].raw.raft.raft_log.applied);
        assert_eq!(snap.metadata.conf_state.voters, vec![1, 2, 3]);
        assert_eq!(mem.first_index().unwrap(), snap.metadata.index + 1);
        assert!(run(&mut env, "checkpoint 1").starts_with("cannot checkpoint"));
        // A restart from the checkpoint comes back with the same state.
        run(&mut env, "crash 1");
        run(&mut env, "restart 1");
        run(&mut env, "stabilize");
        assert_eq!(env.nodes[0].raw.raft.raft_log.applied, snap.metadata.index);
    }

    #[test]
    fn hostile_fault_commands_do_not_panic() {
        for line in [
            "crash",
            "crash 0",
            "crash 9",
            "crash x",
            "restart",
            "restart 9",
            "checkpoint",
            "checkpoint 7",
            "deliver-msg",
            "deliver-msg 1",
            "deliver-msg 1 9",
            "deliver-msg 1 2 nth=x",
            "deliver-msg 1 2 nth=-1",
            "deliver-msg 1 2 dup=maybe",
            "drop-msg 1 2 nth=99999999999999999999",
            "partition",
            "partition 0",
            "cut 1",
            "cut x y",
            "heal 1",
            "check-invariants lease-reads=x",
            "crash 1",
            "crash 1",
            "restart 1",
            "restart 1",
        ] {
            let mut env = elected_three();
            let _ = env.handle(&stanza(line, ""));
            // The environment still works.
            run(&mut env, "stabilize");
        }
    }
}
