//! The script commands of the interaction environment, one handler each,
//! with etcd's arguments, output and errors (etcd's
//! `interaction_env_handler_*.go`).

use std::collections::VecDeque;
use std::mem;

use bytes::Bytes;
use raft::eraftpb::prost;

use raft::config::{Config, ReadOnlyOption};
use raft::describe::{describe_entries, describe_message, describe_ready};
use raft::eraftpb::{
    conf_changes_from_string, ConfChange, ConfChangeI, ConfChangeTransition, ConfChangeV2,
    ConfState, Entry, EntryType, HardState, Message, MessageType, Snapshot, SnapshotMetadata,
};
use raft::raw_node::{is_empty_hard_state, is_empty_snap, RawNode, SnapshotStatus};
use raft::storage::Storage;
use raft::util::is_local_msg_target;

use super::args::{
    bad_value, first_as_int, node_ids, parse_int, parse_u64, scan_arg, scan_bool, scan_int,
    scan_u64, script_err, CmdResult, Fail,
};
use super::storage::NodeStorage;
use super::{InteractionEnv, Node, Output, LEVEL_NAMES};
use crate::datadriven::{ScriptError, TestData};

/// Guards `stabilize` against raft livelocks: far more rounds than any
/// script needs, after which it gives up with an error line instead of
/// hanging.
const MAX_STABILIZE_ROUNDS: usize = 10_000;

/// The largest bootstrap index `add-nodes` takes: 2^62. Raft's log indexes
/// must not reach `u64::MAX` (etcd's would wrap around to 0), and a node
/// refuses peer messages with indexes beyond 2^63 - 1; 2^62 leaves room
/// for any log a script can build.
const MAX_BOOTSTRAP_INDEX: u64 = 1 << 62;

/// A message as etcd's `DescribeMessage` prints it, entry data quoted like
/// Go's `%q` (etcd's `defaultEntryFormatter`).
pub(super) fn desc_msg(m: &Message) -> String {
    describe_message(m, None)
}

/// Entries as etcd's `DescribeEntries` prints them, data quoted.
fn desc_entries(ents: &[Entry]) -> String {
    describe_entries(ents, None)
}

/// etcd's `raftConfigStub`: small tick counts and no size or in-flight
/// limits. Id and storage are set per node.
fn config_stub() -> Config {
    Config {
        election_tick: 3,
        heartbeat_tick: 1,
        max_size_per_msg: u64::MAX,
        max_inflight_msgs: i32::MAX as usize,
        ..Default::default()
    }
}

/// The most ticks `election-tick=` / `heartbeat-tick=` accept: plenty for
/// any scenario, and small enough that `tick-election` cannot hang a run
/// and raft's randomized timeout (up to twice the election tick) cannot
/// overflow.
const MAX_TICKS: u64 = 10_000;

/// Value `i` of `arg` read as a tick count (our `election-tick=` and
/// `heartbeat-tick=`); 0 is left to the config validation to refuse.
fn scan_ticks(d: &TestData, arg: &crate::datadriven::CmdArg, i: usize) -> Result<usize, Fail> {
    let n = scan_u64(d, arg, i)?;
    if n > MAX_TICKS {
        return Err(script_err(
            d,
            format!("{}: at most {MAX_TICKS} ticks, got {n}", arg.key),
        ));
    }
    Ok(n as usize)
}

/// A recipient of `deliver-msgs`: its messages are delivered, or dropped.
#[derive(Clone, Copy, Debug)]
struct Recipient {
    id: u64,
    drop: bool,
}

/// Whether `m` never leaves its node (etcd's `isLocalMsg` of the harness):
/// such messages are not dropped by `deliver-msgs drop=`.
fn is_local(m: &Message) -> bool {
    m.from == m.to || is_local_msg_target(m.from) || is_local_msg_target(m.to)
}

/// Splits `msgs` into those for `to` (of type `typ`, if given) and the rest,
/// keeping the order of both (etcd `splitMsgs`).
fn split_msgs(
    msgs: Vec<Message>,
    to: u64,
    typ: Option<MessageType>,
    drop: bool,
) -> (Vec<Message>, Vec<Message>) {
    msgs.into_iter().partition(|m| {
        m.to == to && !(drop && is_local(m)) && typ.is_none_or(|t| m.get_type() == t)
    })
}

/// The message type named `s` (etcd's `MessageType_value`).
fn message_type_by_name(s: &str) -> Option<MessageType> {
    (0..)
        .map_while(|i| MessageType::try_from(i).ok())
        .find(|t| t.as_str() == s)
}

impl InteractionEnv {
    /// `add-nodes <n> [voters=(..)] [learners=(..)] [index=..] [content=..]
    /// [inflight=..] [async-storage-writes=..] [prevote=..] [checkquorum=..]
    /// [max-committed-size-per-ready=..] [disable-conf-change-validation=..]
    /// [read-only=safe|lease-based] [step-down-on-removal=..]`, and our
    /// extras `[max-size-per-msg=..] [max-inflight-bytes=..]
    /// [max-uncommitted-size=..] [disable-proposal-forwarding=..]
    /// [election-tick=..] [heartbeat-tick=..] [batch-append=..]`
    pub(super) fn handle_add_nodes(&mut self, d: &TestData) -> CmdResult {
        let n = first_as_int(d)?;
        let mut snap = Snapshot::default();
        let mut cfg = config_stub();
        for arg in &d.cmd_args[1..] {
            for i in 0..arg.vals.len() {
                match arg.key.as_str() {
                    "voters" => snap.metadata.conf_state.voters.push(scan_u64(d, arg, i)?),
                    "learners" => snap.metadata.conf_state.learners.push(scan_u64(d, arg, i)?),
                    "inflight" => {
                        // A negative count becomes 0, which the config
                        // validation refuses as etcd's does.
                        cfg.max_inflight_msgs = usize::try_from(scan_int(d, arg, i)?).unwrap_or(0)
                    }
                    "index" => {
                        let idx = scan_u64(d, arg, i)?;
                        if idx > MAX_BOOTSTRAP_INDEX {
                            // Go wraps around at 2^64 where Rust's checked
                            // arithmetic panics; no script needs the room.
                            return Err(script_err(
                                d,
                                format!(
                                    "index: {idx} is too large (at most {MAX_BOOTSTRAP_INDEX})"
                                ),
                            ));
                        }
                        snap.metadata.index = idx;
                        cfg.applied = idx;
                    }
                    "content" => snap.data = Bytes::from(arg.vals[i].clone().into_bytes()),
                    "async-storage-writes" => cfg.async_storage_writes = scan_bool(d, arg, i)?,
                    "prevote" => cfg.pre_vote = scan_bool(d, arg, i)?,
                    "checkquorum" => cfg.check_quorum = scan_bool(d, arg, i)?,
                    "max-committed-size-per-ready" => {
                        cfg.max_committed_size_per_ready = scan_u64(d, arg, i)?
                    }
                    "disable-conf-change-validation" => {
                        cfg.disable_conf_change_validation = scan_bool(d, arg, i)?
                    }
                    "read-only" => {
                        cfg.read_only_option = match arg.vals[i].as_str() {
                            "safe" => ReadOnlyOption::Safe,
                            "lease-based" => ReadOnlyOption::LeaseBased,
                            v => {
                                return Err(Fail::Print(format!("invalid read-only option {v:?}")))
                            }
                        }
                    }
                    "step-down-on-removal" => cfg.step_down_on_removal = scan_bool(d, arg, i)?,
                    // Ours, not etcd's: config options etcd's harness cannot
                    // set. Left out, they keep the stub's values, so etcd's
                    // scripts run as before.
                    "max-size-per-msg" => cfg.max_size_per_msg = scan_u64(d, arg, i)?,
                    "max-inflight-bytes" => cfg.max_inflight_bytes = scan_u64(d, arg, i)?,
                    "max-uncommitted-size" => {
                        cfg.max_uncommitted_entries_size = scan_u64(d, arg, i)?
                    }
                    "disable-proposal-forwarding" => {
                        cfg.disable_proposal_forwarding = scan_bool(d, arg, i)?
                    }
                    "election-tick" => cfg.election_tick = scan_ticks(d, arg, i)?,
                    "heartbeat-tick" => cfg.heartbeat_tick = scan_ticks(d, arg, i)?,
                    "batch-append" => cfg.batch_append = scan_bool(d, arg, i)?,
                    // etcd ignores arguments it does not know.
                    _ => {}
                }
            }
        }
        self.add_nodes(n, &cfg, snap)
    }

    /// Adds `n` nodes with the next free ids, each starting from `snap`
    /// (empty: no state at all) with `cfg` as template (etcd `AddNodes`).
    pub fn add_nodes(&mut self, n: i64, cfg: &Config, mut snap: Snapshot) -> CmdResult {
        let bootstrap = snap != Snapshot::default();
        for _ in 0..n.max(0) {
            let id = self.nodes.len() as u64 + 1;
            let mut store = NodeStorage::default();
            if bootstrap {
                // MemStorage does not play well with a snapshot at index 1,
                // and nothing is lost by refusing it.
                if snap.metadata.index <= 1 {
                    return Err(Fail::Print(
                        "index must be specified as > 1 due to bootstrap".to_owned(),
                    ));
                }
                snap.metadata.term = 1;
                store.mem.apply_snapshot(snap.clone())?;
                let fi = store.mem.first_index()?;
                let exp = snap.metadata.index + 1;
                if fi != exp {
                    return Err(Fail::Print(format!(
                        "failed to establish first index {exp}; got {fi}"
                    )));
                }
            }
            store.history.push(snap.clone());
            let mut cfg = cfg.clone();
            cfg.id = id;
            // etcd's golden outputs were written with timeouts drawn from a
            // generator seeded by the node id.
            cfg.election_seed = Some(id);
            let raw = RawNode::new(&cfg, store, &self.logger)?;
            self.nodes.push(Node {
                raw,
                config: cfg,
                append_work: VecDeque::new(),
                apply_work: VecDeque::new(),
            });
        }
        Ok(())
    }

    /// `campaign <id>`
    pub(super) fn handle_campaign(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        self.nodes[idx].raw.campaign()?;
        Ok(())
    }

    /// `compact <id> <new-first-index>`: compacts the node's storage and
    /// prints its log.
    pub(super) fn handle_compact(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        let arg = d
            .cmd_args
            .get(1)
            .ok_or_else(|| script_err(d, "expected the new first index"))?;
        let new_first = parse_u64(&arg.key).map_err(Fail::Print)?;
        let mem = &mut self.nodes[idx].storage_mut().mem;
        // MemStorage panics on this, as etcd's does; a script must not be
        // able to crash the run.
        let last = mem.last_index()?;
        if new_first > last {
            return Err(Fail::Print(format!(
                "compact {new_first} is out of bound lastindex({last})"
            )));
        }
        mem.compact(new_first)?;
        self.raft_log(idx)
    }

    /// `deliver-msgs [<id>...] [drop=(<id>...)] [type=<MsgType>]`
    pub(super) fn handle_deliver_msgs(&mut self, d: &TestData) -> CmdResult {
        let mut typ = None;
        let mut rs: Vec<Recipient> = Vec::new();
        for arg in &d.cmd_args {
            if arg.vals.is_empty() {
                let id = parse_u64(&arg.key).map_err(|e| bad_value(d, e, "node ids"))?;
                rs.push(Recipient { id, drop: false });
            }
            for i in 0..arg.vals.len() {
                match arg.key.as_str() {
                    "drop" => {
                        let id = scan_u64(d, arg, i)?;
                        if rs.iter().any(|r| r.id == id) {
                            return Err(script_err(
                                d,
                                format!("can't both deliver and drop msgs to {id}"),
                            ));
                        }
                        rs.push(Recipient { id, drop: true });
                    }
                    "type" => {
                        let s = &arg.vals[i];
                        typ = Some(message_type_by_name(s).ok_or_else(|| {
                            script_err(
                                d,
                                format!(
                                    "unknown message type {s} (expected a name such as MsgApp)"
                                ),
                            )
                        })?);
                    }
                    _ => {}
                }
            }
        }
        if self.deliver_msgs(typ, &rs) == 0 {
            self.output.write_str("no messages\n");
        }
        Ok(())
    }

    /// Delivers or drops the queued messages for each recipient, of type
    /// `typ` if given, printing each (etcd `DeliverMsgs`). Returns how many
    /// were handled.
    fn deliver_msgs(&mut self, typ: Option<MessageType>, rs: &[Recipient]) -> usize {
        let mut n = 0;
        for r in rs {
            let (msgs, rest) = split_msgs(mem::take(&mut self.messages), r.id, typ, r.drop);
            self.messages = rest;
            n += msgs.len();
            for msg in msgs {
                if r.drop {
                    self.output.write_str("dropped: ");
                    // Dropping for a node not created yet is fine: the
                    // recipient is not looked at.
                    self.output.write_fmt(format_args!("{}\n", desc_msg(&msg)));
                    continue;
                }
                self.step_msg(msg);
            }
        }
        n
    }

    /// Resolves the positional node ids of `d` to indexes.
    fn node_idxs(&self, d: &TestData) -> Result<Vec<usize>, Fail> {
        node_ids(d)?
            .into_iter()
            .map(|id| self.node_index(id))
            .collect()
    }

    /// Runs `f` on each node named in `d`, in order. With more than one
    /// node, each one's output is headed by `> <id> <what>` and indented,
    /// so that the outputs can be told apart (etcd prints them this way).
    fn for_each_node(
        &mut self,
        d: &TestData,
        what: &str,
        f: fn(&mut Self, usize) -> CmdResult,
    ) -> CmdResult {
        let idxs = self.node_idxs(d)?;
        if let [idx] = idxs[..] {
            return f(self, idx);
        }
        for idx in idxs {
            self.output
                .write_fmt(format_args!("> {} {what}\n", idx + 1));
            self.with_indent(|env| f(env, idx))?;
        }
        Ok(())
    }

    /// `process-ready <id>...`
    pub(super) fn handle_process_ready(&mut self, d: &TestData) -> CmdResult {
        self.for_each_node(d, "handling Ready", Self::process_ready)
    }

    /// Handles one `Ready` of the node: prints it, persists and applies it
    /// (unless storage writes are async, in which case the local messages
    /// queue up as append and apply work), queues its messages and advances
    /// (etcd `ProcessReady`).
    ///
    /// Unlike etcd's, a failure (a conf change raft refuses to apply, a
    /// message for one of the local storage threads without async writes)
    /// does not end the handling half way: the rest of the `Ready` is still
    /// handled and the node advanced, and the first error is returned
    /// afterwards. Otherwise the next `Ready` of the node would hit raft's
    /// "two accepted Ready structs" panic, and a script could crash the run.
    pub fn process_ready(&mut self, idx: usize) -> CmdResult {
        let n = &mut self.nodes[idx];
        let rd = n.raw.ready();
        self.output.write_str(&describe_ready(&rd, None));
        if self.checker.is_some() {
            let id = idx as u64 + 1;
            self.reads
                .extend(rd.read_states.iter().map(|rs| (id, rs.clone())));
        }
        let sync = !n.config.async_storage_writes;
        let mut res = Ok(());
        if sync {
            res = process_append(n, rd.hard_state, &rd.entries, rd.snapshot.as_ref());
            if res.is_ok() {
                res = process_apply(n, &rd.committed_entries);
            }
        }
        for m in rd.messages {
            if !is_local_msg_target(m.to) {
                self.messages.push(m);
                continue;
            }
            // A message for a local storage thread without async writes, or
            // one the threads do not take, goes to a peer whose id collides
            // with a thread's (a script can add such a peer); etcd panics.
            let t = m.get_type();
            let err = match t {
                _ if sync => "unexpected local msg target".to_owned(),
                MessageType::MsgStorageAppend => {
                    n.append_work.push_back(m);
                    continue;
                }
                MessageType::MsgStorageApply => {
                    n.apply_work.push_back(m);
                    continue;
                }
                t => format!("unexpected message type {t:?}"),
            };
            if res.is_ok() {
                res = Err(Fail::Print(format!("{err}: {}", desc_msg(&m))));
            }
        }
        if sync {
            n.raw.advance();
        }
        res
    }

    /// `process-append-thread <id>...`
    pub(super) fn handle_process_append_thread(&mut self, d: &TestData) -> CmdResult {
        self.for_each_node(d, "processing append thread", Self::process_append_thread)
    }

    /// Performs the node's oldest `MsgStorageAppend` and queues its
    /// responses (etcd `ProcessAppendThread`).
    pub fn process_append_thread(&mut self, idx: usize) -> CmdResult {
        let n = &mut self.nodes[idx];
        let Some((m, resps)) = take_work(&self.output, &mut n.append_work, "append") else {
            return Ok(());
        };
        let st = HardState {
            term: m.term,
            vote: m.vote,
            commit: m.commit,
        };
        process_append(n, Some(st), &m.entries, m.snapshot.as_deref())?;
        self.deliver_work_responses(resps);
        Ok(())
    }

    /// `process-apply-thread <id>...`
    pub(super) fn handle_process_apply_thread(&mut self, d: &TestData) -> CmdResult {
        self.for_each_node(d, "processing apply thread", Self::process_apply_thread)
    }

    /// Applies the node's oldest `MsgStorageApply` and queues its responses
    /// (etcd `ProcessApplyThread`).
    pub fn process_apply_thread(&mut self, idx: usize) -> CmdResult {
        let n = &mut self.nodes[idx];
        let Some((m, resps)) = take_work(&self.output, &mut n.apply_work, "apply") else {
            return Ok(());
        };
        // Every entry is applied even when a conf change is refused (see
        // `process_apply`), so raft hears about it either way.
        let res = process_apply(n, &m.entries);
        self.deliver_work_responses(resps);
        res
    }

    /// Prints the responses of a storage thread's message and queues them
    /// for delivery, the end of both process-append-thread and
    /// process-apply-thread.
    fn deliver_work_responses(&mut self, resps: Vec<Message>) {
        self.output.write_str("Responses:\n");
        for r in &resps {
            self.output.write_fmt(format_args!("{}\n", desc_msg(r)));
        }
        self.messages.extend(resps);
    }

    /// `log-level <level>`: one of DEBUG, INFO, WARN, ERROR, FATAL, NONE in
    /// any case. NONE silences everything but errors.
    pub(super) fn handle_log_level(&mut self, d: &TestData) -> CmdResult {
        let arg = d
            .cmd_args
            .first()
            .ok_or_else(|| script_err(d, "expected a log level"))?;
        self.log_level(&arg.key)
    }

    fn log_level(&mut self, name: &str) -> CmdResult {
        match LEVEL_NAMES
            .iter()
            .position(|s| s.eq_ignore_ascii_case(name))
        {
            Some(i) => {
                self.output.set_level(i);
                Ok(())
            }
            None => Err(Fail::Print(format!(
                "log levels must be either of [{}]",
                LEVEL_NAMES.join(" ")
            ))),
        }
    }

    /// `raft-log <id>`: the entries in the node's storage.
    pub(super) fn handle_raft_log(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        self.raft_log(idx)
    }

    fn raft_log(&mut self, idx: usize) -> CmdResult {
        let s = self.nodes[idx].storage();
        let fi = s.first_index()?;
        let li = s.last_index()?;
        if li < fi {
            // What MemStorage reports for a log holding nothing.
            self.output.write_fmt(format_args!(
                "log is empty: first index={fi}, last index={li}"
            ));
            return Ok(());
        }
        let ents = s.entries(fi, li + 1, u64::MAX)?;
        self.output.write_str(&desc_entries(&ents));
        Ok(())
    }

    /// `raft-state`: each node's role, whether it is a voter, term and
    /// leader, as the node itself sees them.
    pub(super) fn handle_raft_state(&mut self) -> CmdResult {
        for n in &self.nodes {
            let st = n.raw.status();
            let voter = if st.config.voters.ids().contains(st.id) {
                "(Voter)"
            } else {
                "(Non-Voter)"
            };
            self.output.write_fmt(format_args!(
                "{}: {} {} Term:{} Lead:{}\n",
                st.id,
                st.raft_state(),
                voter,
                st.term(),
                st.lead()
            ));
        }
        Ok(())
    }

    /// `set-randomized-election-timeout <id> timeout=<ticks>`: until the
    /// node next changes state.
    pub(super) fn handle_set_randomized_election_timeout(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        let v = scan_arg(d, "timeout")?;
        let timeout = parse_int(v).map_err(|e| bad_value(d, e, "a number of ticks"))?;
        if timeout <= 0 {
            return Err(script_err(
                d,
                "timeout must be positive (expected at least 1 tick)",
            ));
        }
        self.nodes[idx].raw.raft.randomized_election_timeout = timeout as usize;
        Ok(())
    }

    /// `stabilize [<id>...] [log-level=<level>]`: handles Readys, delivers
    /// messages and runs the storage threads of the given nodes (default:
    /// all) until none has anything left to do.
    pub(super) fn handle_stabilize(&mut self, d: &TestData) -> CmdResult {
        let idxs = self.node_idxs(d)?;
        let old = self.output.level();
        let res = d
            .cmd_args
            .iter()
            .filter(|a| a.key == "log-level")
            .flat_map(|a| &a.vals)
            .try_for_each(|v| self.log_level(v))
            .and_then(|()| self.stabilize(&idxs));
        // The level applies to this stabilize only.
        self.output.set_level(old);
        res
    }

    /// etcd `Stabilize`.
    pub fn stabilize(&mut self, idxs: &[usize]) -> CmdResult {
        let all: Vec<usize>;
        let idxs = if idxs.is_empty() {
            all = (0..self.nodes.len()).collect();
            &all
        } else {
            idxs
        };
        // Nodes that are down (fault commands) take no part.
        let up: Vec<usize>;
        let idxs = if self.faults.down.is_empty() {
            idxs
        } else {
            up = idxs
                .iter()
                .copied()
                .filter(|&i| !self.faults.down.contains(&(i as u64 + 1)))
                .collect();
            &up
        };
        for _ in 0..MAX_STABILIZE_ROUNDS {
            let mut done = true;
            for &idx in idxs {
                if self.nodes[idx].raw.has_ready() {
                    self.output
                        .write_fmt(format_args!("> {} handling Ready\n", idx + 1));
                    self.with_indent(|env| env.process_ready(idx))?;
                    done = false;
                }
            }
            for &idx in idxs {
                let id = idx as u64 + 1;
                if self.messages.iter().any(|m| m.to == id) {
                    self.output
                        .write_fmt(format_args!("> {id} receiving messages\n"));
                    self.with_indent(|env| {
                        env.deliver_msgs(None, &[Recipient { id, drop: false }])
                    });
                    done = false;
                }
            }
            for &idx in idxs {
                if !self.nodes[idx].append_work.is_empty() {
                    self.output
                        .write_fmt(format_args!("> {} processing append thread\n", idx + 1));
                    while !self.nodes[idx].append_work.is_empty() {
                        self.with_indent(|env| env.process_append_thread(idx))?;
                    }
                    done = false;
                }
            }
            for &idx in idxs {
                if !self.nodes[idx].apply_work.is_empty() {
                    self.output
                        .write_fmt(format_args!("> {} processing apply thread\n", idx + 1));
                    while !self.nodes[idx].apply_work.is_empty() {
                        // etcd ignores apply errors here (its only one, a
                        // conf change raft refuses, panics in raft). They
                        // are printed and the thread goes on, its
                        // responses queued.
                        self.with_indent(|env| {
                            if let Err(Fail::Print(e) | Fail::Script(ScriptError(e))) =
                                env.process_apply_thread(idx)
                            {
                                env.output.write_fmt(format_args!("{e}\n"));
                            }
                        });
                    }
                    done = false;
                }
            }
            if done {
                return Ok(());
            }
        }
        Err(Fail::Print(format!(
            "stabilize: still not done after {MAX_STABILIZE_ROUNDS} rounds"
        )))
    }

    /// `status <id>`: the progress of every peer, if the node leads.
    pub(super) fn handle_status(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        let st = self.nodes[idx].raw.status();
        self.output
            .write_fmt(format_args!("{}", st.progress.display(st.inflight_limits)));
        Ok(())
    }

    /// `tick-election <id>`: as many ticks as the election timeout (the
    /// randomized timeout may need more).
    pub(super) fn handle_tick_election(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        let n = self.nodes[idx].config.election_tick;
        self.tick(idx, n);
        Ok(())
    }

    /// `tick-heartbeat <id>`: as many ticks as the heartbeat interval.
    pub(super) fn handle_tick_heartbeat(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        let n = self.nodes[idx].config.heartbeat_tick;
        self.tick(idx, n);
        Ok(())
    }

    /// Ticks node `idx` `num` times.
    pub fn tick(&mut self, idx: usize, num: usize) {
        for _ in 0..num {
            self.nodes[idx].raw.tick();
        }
    }

    /// `transfer-leadership from=<id> to=<id>`
    pub(super) fn handle_transfer_leadership(&mut self, d: &TestData) -> CmdResult {
        let from = parse_u64(scan_arg(d, "from")?).map_err(|e| bad_value(d, e, "a node id"))?;
        let to = parse_u64(scan_arg(d, "to")?).map_err(|e| bad_value(d, e, "a node id"))?;
        // etcd's harness fails the test here (t.Fatalf) with these words.
        let n = self.nodes.len() as u64;
        for (key, id) in [("from", from), ("to", to)] {
            if id == 0 || id > n {
                return Err(script_err(
                    d,
                    format!("expected valid {key:?} argument: node {id} does not exist (nodes: 1..={n})"),
                ));
            }
        }
        self.nodes[(from - 1) as usize].raw.transfer_leader(to);
        Ok(())
    }

    /// `forget-leader <id>`
    pub(super) fn handle_forget_leader(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        // etcd ignores the error (a leader refuses to forget itself).
        let _ = self.nodes[idx].raw.forget_leader();
        Ok(())
    }

    /// `send-snapshot <from> <to>`: queues a `MsgSnap` with the sender's
    /// newest state-machine snapshot; it is delivered like any message.
    pub(super) fn handle_send_snapshot(&mut self, d: &TestData) -> CmdResult {
        let ids = node_ids(d)?;
        let [from, to] = ids[..] else {
            return Err(script_err(d, "expected exactly two node ids: from and to"));
        };
        let from_idx = self.node_index(from)?;
        let n = &self.nodes[from_idx];
        let snap = n.storage().snapshot()?;
        let mut msg = Message::new(MessageType::MsgSnap);
        msg.term = n.raw.basic_status().term();
        msg.from = from as u64;
        msg.to = to as u64;
        msg.snapshot = Some(Box::new(snap));
        self.output.write_str(&desc_msg(&msg));
        self.messages.push(msg);
        Ok(())
    }

    /// `propose <id> <data>`
    pub(super) fn handle_propose(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        let data = payload_arg(d)?;
        self.nodes[idx].raw.propose(data)?;
        Ok(())
    }

    /// `propose-conf-change <id> [v1=<bool>] [transition=auto|implicit|explicit]`
    /// with the changes (`v1 l2 r3 u4`) as input.
    pub(super) fn handle_propose_conf_change(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        let mut v1 = false;
        let mut transition = ConfChangeTransition::ConfChangeTransitionAuto;
        for arg in &d.cmd_args[1..] {
            for val in &arg.vals {
                match arg.key.as_str() {
                    "v1" => v1 = super::args::parse_bool(val).map_err(Fail::Print)?,
                    "transition" => {
                        transition = match val.as_str() {
                            "auto" => ConfChangeTransition::ConfChangeTransitionAuto,
                            "implicit" => ConfChangeTransition::ConfChangeTransitionJointImplicit,
                            "explicit" => ConfChangeTransition::ConfChangeTransitionJointExplicit,
                            _ => {
                                return Err(script_err(
                                    d,
                                    format!(
                                "unknown transition {val:?} (expected auto, implicit or explicit)"
                            ),
                                ))
                            }
                        }
                    }
                    // etcd prints `unknown command <key>` as the output; a
                    // rewrite would keep the typo, so it is the script's error.
                    k => {
                        return Err(script_err(
                            d,
                            format!("unknown argument {k:?} (expected v1= or transition=)"),
                        ))
                    }
                }
            }
        }
        let ccs = conf_changes_from_string(&d.input).map_err(|e| Fail::Print(e.to_string()))?;
        let n = &mut self.nodes[idx];
        if v1 {
            if ccs.len() != 1 || transition != ConfChangeTransition::ConfChangeTransitionAuto {
                return Err(Fail::Print(
                    "v1 conf change can only have one operation and no transition".to_owned(),
                ));
            }
            let cc = ConfChange {
                change_type: ccs[0].change_type,
                node_id: ccs[0].node_id,
                ..Default::default()
            };
            n.raw.propose_conf_change(&cc)?;
        } else {
            let cc = ConfChangeV2 {
                transition: transition as i32,
                changes: ccs,
                ..Default::default()
            };
            n.raw.propose_conf_change(&cc)?;
        }
        Ok(())
    }

    /// `read-index <id> <ctx>`: the node asks for a read index; the answer
    /// comes back in a `Ready`'s `ReadStates` with `<ctx>` attached. This
    /// command is ours (etcd's harness has none for reads).
    pub(super) fn handle_read_index(&mut self, d: &TestData) -> CmdResult {
        let idx = self.node_index(first_as_int(d)?)?;
        let ctx = payload_arg(d)?;
        self.nodes[idx].raw.read_index(ctx);
        Ok(())
    }

    /// `report-unreachable <id> <peer>`: `<id>` learns that `<peer>` could
    /// not be reached.
    pub(super) fn handle_report_unreachable(&mut self, d: &TestData) -> CmdResult {
        let (on, peer) = reporter_and_peer(d)?;
        let on = self.node_index(on)?;
        let peer = self.node_index(peer)?;
        let peer_id = self.nodes[peer].config.id;
        self.nodes[on].raw.report_unreachable(peer_id);
        Ok(())
    }

    /// `report-snapshot <id> <peer> [status=finish|failure]` (ours; etcd's
    /// harness has no such command): `<id>` hears how sending a snapshot to
    /// `<peer>` went (etcd `ReportSnapshot`); `finish` unless told.
    pub(super) fn handle_report_snapshot(&mut self, d: &TestData) -> CmdResult {
        let (on, peer) = reporter_and_peer(d)?;
        let status = if d.has_arg("status") {
            match scan_arg(d, "status")? {
                "finish" => SnapshotStatus::Finish,
                "failure" => SnapshotStatus::Failure,
                v => {
                    return Err(script_err(
                        d,
                        format!("status: expected finish or failure, got {v:?}"),
                    ))
                }
            }
        } else {
            SnapshotStatus::Finish
        };
        let on = self.node_index(on)?;
        let peer = self.node_index(peer)?;
        let peer_id = self.nodes[peer].config.id;
        self.nodes[on].raw.report_snapshot(peer_id, status);
        Ok(())
    }
}

/// The payload of `propose <id> <data>` and `read-index <id> <ctx>`: the
/// second word, which must be the last and have no `=value`, as etcd
/// demands.
fn payload_arg(d: &TestData) -> Result<Bytes, Fail> {
    match &d.cmd_args[..] {
        [_, arg] if arg.vals.is_empty() => Ok(Bytes::from(arg.key.clone().into_bytes())),
        _ => Err(script_err(d, "expected exactly one key with no vals")),
    }
}

/// The two positional node ids of `report-unreachable` and
/// `report-snapshot`: the node that hears the report and the peer it is
/// about. Anything but two ids is etcd's printed error.
fn reporter_and_peer(d: &TestData) -> Result<(i64, i64), Fail> {
    match node_ids(d)?[..] {
        [on, peer] => Ok((on, peer)),
        _ => Err(Fail::Print(
            "must specify exactly two node indexes: node on which to report, and reported node"
                .to_owned(),
        )),
    }
}

/// Persists a hard state, a snapshot and the entries that follow it (etcd's
/// `processAppend`, which refuses a snapshot together with entries; raft
/// can hand over both in one `Ready` when entries arrive right after a
/// snapshot, and an application must then persist both, the snapshot
/// first, as etcd's raftexample does).
fn process_append(
    n: &mut Node,
    st: Option<HardState>,
    ents: &[Entry],
    snap: Option<&Snapshot>,
) -> CmdResult {
    let mem = &mut n.storage_mut().mem;
    if let Some(st) = st.filter(|st| !is_empty_hard_state(Some(st))) {
        mem.set_hard_state(st)?;
    }
    if let Some(snap) = snap.filter(|s| !is_empty_snap(Some(s))) {
        mem.apply_snapshot(snap.clone())?;
        // The state machine is now the snapshot's: later entries apply
        // on top of it, and it is what the node sends as its snapshot.
        n.storage_mut().history.push(snap.clone());
    }
    n.storage_mut().mem.append(ents)?;
    Ok(())
}

/// Applies committed entries to the node's "appender" state machine, whose
/// state is the concatenation of all payloads, recording one snapshot per
/// entry; conf changes are applied to raft as well (etcd `processApply`).
///
/// A conf change that raft refuses (etcd panics: removing every voter, say,
/// which a leader does not check before committing it) leaves the
/// configuration as it was; the entry still counts as applied, the rest
/// are applied too, and the first such error is returned at the end, so
/// that the state machine stays in step with what raft is told.
fn process_apply(n: &mut Node, ents: &[Entry]) -> CmdResult {
    let mut res = Ok(());
    for ent in ents {
        // A snapshot installed meanwhile (asynchronous storage writes) is
        // already the state machine's state through its index: entries it
        // covers are not applied again.
        if ent.index <= n.storage().last_snapshot().metadata.index {
            continue;
        }
        let (update, cs): (Bytes, Option<ConfState>) = match ent.get_type() {
            EntryType::EntryConfChange => {
                apply_conf_change_entry::<ConfChange>(n, ent, &mut res, |cc| cc.context)
            }
            EntryType::EntryConfChangeV2 => {
                apply_conf_change_entry::<ConfChangeV2>(n, ent, &mut res, |cc| cc.context)
            }
            EntryType::EntryNormal => (ent.data.clone(), None),
        };
        let store = n.storage_mut();
        let last = store.last_snapshot();
        let mut data = Vec::with_capacity(last.data.len() + update.len());
        data.extend_from_slice(&last.data);
        data.extend_from_slice(&update);
        let conf_state = cs.unwrap_or_else(|| last.metadata.conf_state.clone());
        store.history.push(Snapshot {
            data: data.into(),
            metadata: SnapshotMetadata {
                conf_state,
                index: ent.index,
                term: ent.term,
            },
        });
    }
    res
}

/// Decodes the conf change of type `C` in `ent` and applies it to raft.
/// Returns the change's context (the state machine's update) and the new
/// configuration, or `None` with the error kept in `res` when the entry
/// does not decode or raft refuses the change.
fn apply_conf_change_entry<C: prost::Message + Default + ConfChangeI>(
    n: &mut Node,
    ent: &Entry,
    res: &mut CmdResult,
    context: fn(C) -> Bytes,
) -> (Bytes, Option<ConfState>) {
    match C::decode(ent.data.clone()) {
        Ok(cc) => {
            // A change that a snapshot restored since supersedes leaves the
            // configuration alone (RawNode::apply_conf_change_at).
            let cs = n
                .raw
                .apply_conf_change_at(ent.index, &cc)
                .map(|a| a.conf_state().clone());
            (context(cc), keep_first_err(res, cs))
        }
        Err(e) => {
            keep_first_err::<()>(res, Err(Fail::Print(e.to_string())));
            (Bytes::new(), None)
        }
    }
}

/// The value of `r`, or `None` with its error kept in `first` unless
/// `first` already holds one.
fn keep_first_err<T>(first: &mut CmdResult, r: Result<T, impl Into<Fail>>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            if first.is_ok() {
                *first = Err(e.into());
            }
            None
        }
    }
}

/// Takes the oldest message of a storage thread's queue and its responses,
/// printing it as etcd's ProcessAppendThread and ProcessApplyThread do; when
/// the queue is empty, says so (`what` names the thread) and gives `None`.
fn take_work(
    out: &Output,
    queue: &mut VecDeque<Message>,
    what: &str,
) -> Option<(Message, Vec<Message>)> {
    let Some(mut m) = queue.pop_front() else {
        out.write_fmt(format_args!("no {what} work to perform"));
        return None;
    };
    let resps = mem::take(&mut m.responses);
    out.write_str("Processing:\n");
    out.write_fmt(format_args!("{}\n", desc_msg(&m)));
    Some((m, resps))
}
