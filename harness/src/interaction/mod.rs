//! The interaction environment (etcd's `rafttest`): real [`RawNode`]s over
//! in-memory storage, driven by script commands, with every `Ready`, message
//! and log line printed so that scripts can pin down raft's behaviour.
//!
//! Nodes have ids 1, 2, ... in the order they are added. Messages the nodes
//! send wait in one queue until a script delivers (or drops) them.
//! Commands and their arguments are etcd's; see [`InteractionEnv::handle`].
//!
//! | command | what it does |
//! |---|---|
//! | `add-nodes <n> [voters=(..)] [learners=(..)] [index=<i>] [content=<s>]` | adds `n` nodes; with any of voters/learners/index/content they start from a snapshot at `index` (> 1), term 1 |
//! | ... `[inflight=<n>] [max-committed-size-per-ready=<n>] [async-storage-writes=<b>]` | raft config options of the new nodes |
//! | ... `[prevote=<b>] [checkquorum=<b>] [read-only=safe\|lease-based]` | |
//! | ... `[step-down-on-removal=<b>] [disable-conf-change-validation=<b>]` | |
//! | ... `[max-size-per-msg=<n>] [max-inflight-bytes=<n>]` | ours, not etcd's: `Config::max_size_per_msg` (default unlimited), `max_inflight_bytes` (default 0: unlimited) |
//! | ... `[max-uncommitted-size=<n>] [disable-proposal-forwarding=<b>]` | ours: `max_uncommitted_entries_size` (default 0: unlimited), `disable_proposal_forwarding` (default false) |
//! | ... `[election-tick=<n>] [heartbeat-tick=<n>]` | ours: the tick counts (default 3 and 1, etcd's stub; at most 10000); `tick-election` / `tick-heartbeat` follow them |
//! | ... `[batch-append=<b>]` | ours: `Config::batch_append` (default false): one append per peer per Ready, acks coalesced |
//! | `campaign <id>` | the node starts an election |
//! | `propose <id> <data>` | proposes an entry |
//! | `propose-conf-change <id> [v1=<b>] [transition=auto\|implicit\|explicit]` + input `v1 l2 r3 u4` | proposes a conf change (empty input: leave a joint config) |
//! | `read-index <id> <ctx>` | requests a read index (ours; etcd's harness has no such command) |
//! | `process-ready <id>...` | handles one `Ready` of each node |
//! | `process-append-thread <id>...` / `process-apply-thread <id>...` | runs one queued local storage message (async storage writes) |
//! | `deliver-msgs [<id>...] [drop=(<id>...)] [type=<MsgType>]` | delivers (or drops) the queued messages to the nodes |
//! | `stabilize [<id>...] [log-level=<level>]` | all of the above until nothing is left to do |
//! | `tick-election <id>` / `tick-heartbeat <id>` | ticks an election timeout / heartbeat interval |
//! | `set-randomized-election-timeout <id> timeout=<ticks>` | fixes the node's current randomized election timeout |
//! | `transfer-leadership from=<id> to=<id>` / `forget-leader <id>` | leadership transfer / forgetting the leader |
//! | `report-unreachable <id> <peer>` | `<id>` hears that `<peer>` is unreachable |
//! | `report-snapshot <id> <peer> [status=finish\|failure]` | `<id>` hears how sending a snapshot to `<peer>` went (ours; etcd's harness has no such command) |
//! | `send-snapshot <from> <to>` | queues a `MsgSnap` with the sender's newest snapshot |
//! | `compact <id> <index>` | compacts the node's storage through `index` and prints its log |
//! | `raft-log <id>` / `raft-state` / `status <id>` | prints the storage's log / every node's role / the leader's progress |
//! | `log-level <DEBUG\|INFO\|WARN\|ERROR\|FATAL\|NONE>` | what log lines show (NONE: errors only) |
//! | `_breakpoint` | nothing (a place for a debugger breakpoint) |
//! | `crash`, `restart`, `checkpoint`, `deliver-msg`, `drop-msg`, `partition`, `cut`, `heal` | fault commands, ours: see the `faults` module |
//! | `check-invariants [lease-reads=<b>]` | ours: from now on, check raft's safety properties after every command and print each violation as `violation: ...` (see `crate::sim`) |
//!
//! Errors of raft or of the environment (a dropped proposal, a node that
//! does not exist) print as the command's output; mistakes in the script
//! (an unknown command or argument, an argument that does not parse, input
//! lines under a command other than `propose-conf-change`, a
//! `transfer-leadership` to a node that does not exist) stop the file as
//! script errors at `path:line`.
//!
//! Where etcd's harness or raft would panic on what a script can do, the
//! environment prints an error and goes on (see the `errors_*.txt`
//! scripts): a conf change raft refuses to apply leaves the configuration
//! as it was (the entry still counts as applied, and the node's `Ready` is
//! still advanced); messages for a peer whose id is that of a local storage
//! thread are dropped; `stabilize` gives up after a bounded number of
//! rounds when raft livelocks; a bootstrap `index` is at most 2^62.

mod args;
mod commands;
mod faults;
mod output;
mod storage;

#[cfg(test)]
mod hostile;

use std::collections::VecDeque;

use raft::config::Config;
use raft::eraftpb::Message;
use raft::raw_node::RawNode;
use raft::read_only::ReadState;

use crate::datadriven::{unknown_command, Handler, ScriptError, TestData};
use crate::sim::Checker;

pub use faults::Faults;
pub use output::{Output, LEVEL_NAMES};
pub use storage::NodeStorage;

use args::Fail;

/// A fresh interaction environment for one script file.
pub fn new_handler() -> Box<dyn Handler> {
    Box::new(InteractionEnv::new())
}

/// A member of the group under test (etcd `rafttest.Node`).
pub struct Node {
    /// The node; its storage is `raw.raft.raft_log.storage`.
    pub raw: RawNode<NodeStorage>,
    /// The configuration the node was created with.
    pub config: Config,
    /// `MsgStorageAppend`s waiting for the append thread (async storage
    /// writes only), oldest first.
    pub append_work: VecDeque<Message>,
    /// `MsgStorageApply`s waiting for the apply thread, oldest first.
    pub apply_work: VecDeque<Message>,
}

impl Node {
    /// The node's storage.
    pub fn storage(&self) -> &NodeStorage {
        self.raw.store()
    }

    /// The node's storage, for writing.
    pub fn storage_mut(&mut self) -> &mut NodeStorage {
        self.raw.mut_store()
    }
}

/// The environment: the nodes, the messages in flight and the output
/// (etcd `InteractionEnv`).
pub struct InteractionEnv {
    /// The nodes; node `id` is at index `id - 1`.
    pub nodes: Vec<Node>,
    /// Messages sent and not yet delivered or dropped, in sending order.
    pub messages: Vec<Message>,
    /// Where the commands and the nodes' loggers write.
    pub output: Output,
    /// Crashed nodes and cut links (fault commands, ours).
    pub faults: Faults,
    /// The safety checker, once `check-invariants` turned it on (ours).
    pub checker: Option<Box<Checker>>,
    /// Every violation the checker found, in order.
    pub violations: Vec<String>,
    /// Read states handed out since the last check, with their node (kept
    /// only while the checker is on).
    pub reads: Vec<(u64, ReadState)>,
    logger: slog::Logger,
}

impl Default for InteractionEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl InteractionEnv {
    /// An environment without nodes, logging at `DEBUG`.
    pub fn new() -> InteractionEnv {
        let output = Output::default();
        let logger = output.logger();
        InteractionEnv {
            nodes: Vec::new(),
            messages: Vec::new(),
            output,
            faults: Faults::default(),
            checker: None,
            violations: Vec::new(),
            reads: Vec::new(),
            logger,
        }
    }

    /// Runs one stanza and returns its output: what the command printed,
    /// then the error if it failed, or `ok` if nothing was printed (etcd
    /// `Handle`). Under log level `NONE` only an error is shown. Mistakes
    /// in the script itself are returned as [`ScriptError`]s.
    pub fn handle(&mut self, d: &TestData) -> Result<String, ScriptError> {
        // Anything a previous, failed stanza left behind is not ours.
        self.output.take();
        let mut out = match self.dispatch(d) {
            Ok(()) => self.output.take(),
            Err(Fail::Script(e)) => return Err(e),
            Err(Fail::Print(e)) if self.output.quiet() => e,
            Err(Fail::Print(e)) => {
                self.output.write_str(&e);
                self.output.take()
            }
        };
        for v in self.check_invariants(d) {
            out.push_str(&format!("violation: {v}\n"));
        }
        if out.is_empty() {
            return Ok("ok".to_owned());
        }
        Ok(out)
    }

    /// Runs the checker (when on) after the command `d`, returning what it
    /// found (also kept in `violations`).
    fn check_invariants(&mut self, d: &TestData) -> Vec<String> {
        let Some(mut checker) = self.checker.take() else {
            return Vec::new();
        };
        let reads = std::mem::take(&mut self.reads);
        let found = checker.after(d, self, &reads);
        self.checker = Some(checker);
        self.violations.extend(found.iter().cloned());
        found
    }

    fn dispatch(&mut self, d: &TestData) -> args::CmdResult {
        if let Some(id) = self.faults.down_target(d) {
            return Err(Fail::Print(format!("node {id} is down")));
        }
        match COMMANDS.iter().find(|c| c.name == d.cmd) {
            Some(c) => (c.run)(self, d),
            // etcd prints "unknown command" as the output, which a rewrite
            // would then bake into the file: a misspelt command must fail.
            None => {
                let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
                Err(Fail::Script(unknown_command(d, &names)))
            }
        }
    }

    /// Runs `f` with its output indented by two spaces (etcd `withIndent`).
    fn with_indent<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let start = self.output.len();
        let r = f(self);
        self.output.indent_from(start);
        r
    }

    /// The index of node `id`, or the error line naming a node that does
    /// not exist.
    fn node_index(&self, id: i64) -> Result<usize, Fail> {
        if id >= 1 && (id as u64) <= self.nodes.len() as u64 {
            Ok((id - 1) as usize)
        } else {
            Err(Fail::Print(format!("node {id} does not exist")))
        }
    }
}

impl Handler for InteractionEnv {
    fn handle(&mut self, d: &TestData) -> Result<String, ScriptError> {
        InteractionEnv::handle(self, d)
    }

    fn takes_input(&self, cmd: &str) -> bool {
        COMMANDS.iter().any(|c| c.name == cmd && c.takes_input)
    }
}

/// A command of the environment: its name, whether it reads input lines,
/// and its handler.
struct Command {
    name: &'static str,
    takes_input: bool,
    run: fn(&mut InteractionEnv, &TestData) -> args::CmdResult,
}

/// A command that takes no input lines.
const fn cmd(
    name: &'static str,
    run: fn(&mut InteractionEnv, &TestData) -> args::CmdResult,
) -> Command {
    Command {
        name,
        takes_input: false,
        run,
    }
}

/// Every command, in the order of the table in the module's docs.
const COMMANDS: &[Command] = &[
    cmd("add-nodes", InteractionEnv::handle_add_nodes),
    cmd("campaign", InteractionEnv::handle_campaign),
    cmd("propose", InteractionEnv::handle_propose),
    Command {
        name: "propose-conf-change",
        takes_input: true,
        run: InteractionEnv::handle_propose_conf_change,
    },
    // Not in etcd's harness: read-index scripts need it.
    cmd("read-index", InteractionEnv::handle_read_index),
    cmd("process-ready", InteractionEnv::handle_process_ready),
    cmd(
        "process-append-thread",
        InteractionEnv::handle_process_append_thread,
    ),
    cmd(
        "process-apply-thread",
        InteractionEnv::handle_process_apply_thread,
    ),
    cmd("deliver-msgs", InteractionEnv::handle_deliver_msgs),
    cmd("stabilize", InteractionEnv::handle_stabilize),
    cmd("tick-election", InteractionEnv::handle_tick_election),
    cmd("tick-heartbeat", InteractionEnv::handle_tick_heartbeat),
    cmd(
        "set-randomized-election-timeout",
        InteractionEnv::handle_set_randomized_election_timeout,
    ),
    cmd(
        "transfer-leadership",
        InteractionEnv::handle_transfer_leadership,
    ),
    cmd("forget-leader", InteractionEnv::handle_forget_leader),
    cmd(
        "report-unreachable",
        InteractionEnv::handle_report_unreachable,
    ),
    // Not in etcd's harness: snapshot scenarios need it.
    cmd("report-snapshot", InteractionEnv::handle_report_snapshot),
    cmd("send-snapshot", InteractionEnv::handle_send_snapshot),
    cmd("compact", InteractionEnv::handle_compact),
    cmd("raft-log", InteractionEnv::handle_raft_log),
    cmd("raft-state", |env, _| env.handle_raft_state()),
    cmd("status", InteractionEnv::handle_status),
    cmd("log-level", InteractionEnv::handle_log_level),
    // A place to set a debugger breakpoint in a long script.
    cmd("_breakpoint", |_, _| Ok(())),
    // Fault commands (ours, see `faults`): inert for etcd's files.
    cmd("crash", InteractionEnv::handle_crash),
    cmd("restart", InteractionEnv::handle_restart),
    cmd("checkpoint", InteractionEnv::handle_checkpoint),
    cmd("deliver-msg", InteractionEnv::handle_deliver_msg),
    cmd("drop-msg", InteractionEnv::handle_drop_msg),
    cmd("partition", InteractionEnv::handle_partition),
    cmd("cut", InteractionEnv::handle_cut),
    cmd("heal", |env, _| env.handle_heal()),
    cmd("check-invariants", InteractionEnv::handle_check_invariants),
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::datadriven::{run_script, suite};

    /// Every interaction script of ours gives the same output in two fresh
    /// environments in one process: nothing depends on global state, time
    /// or hash order.
    #[test]
    fn scripts_are_deterministic() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/interaction");
        let files = suite::collect_scripts(&dir).unwrap();
        assert!(files.len() >= 25, "only {} scripts", files.len());
        for f in files {
            let src = std::fs::read_to_string(&f).unwrap();
            let path = f.display().to_string();
            let a = run_script(&path, &src, &mut InteractionEnv::new());
            let b = run_script(&path, &src, &mut InteractionEnv::new());
            assert!(a.error.is_none(), "{:?}", a.error);
            assert_eq!(a.rewritten, b.rewritten, "{path}");
        }
    }

    // The hostile-input tests build their stanzas the same way.
    use super::hostile::stanza;

    #[test]
    fn errors_print_but_script_mistakes_stop() {
        let mut env = InteractionEnv::new();
        let run = |env: &mut InteractionEnv, l: &str| env.handle(&stanza(l, ""));
        assert_eq!(run(&mut env, "log-level none").unwrap(), "ok");
        assert_eq!(
            run(&mut env, "add-nodes 2 voters=(1,2) index=2").unwrap(),
            "ok"
        );
        // Under NONE only the error is shown.
        assert_eq!(
            run(&mut env, "propose 1 x").unwrap(),
            "raft proposal dropped"
        );
        assert_eq!(
            run(&mut env, "campaign 3").unwrap(),
            "node 3 does not exist"
        );
        // An unknown command is the script's mistake: a rewrite must not
        // write "unknown command" into the file as if it were an output.
        assert_eq!(
            run(&mut env, "stabilise").unwrap_err().0,
            "t:1: unknown command \"stabilise\" (did you mean \"stabilize\"?)"
        );
        // Malformed arguments are the script's fault.
        let e = run(&mut env, "campaign x").unwrap_err();
        assert!(e.0.starts_with("t:1: strconv.Atoi"), "{e}");
        assert!(run(&mut env, "propose 1").is_err());
        assert!(run(&mut env, "deliver-msgs 1 drop=(1)").is_err());
        assert!(run(&mut env, "set-randomized-election-timeout 1").is_err());
        // Our add-nodes extras read their values like etcd's options do.
        for bad in [
            "max-size-per-msg=x",
            "max-inflight-bytes=-1",
            "max-uncommitted-size=1.5",
            "disable-proposal-forwarding=yes",
            "election-tick=-3",
            "heartbeat-tick=x",
        ] {
            let e = run(&mut env, &format!("add-nodes 1 voters=(1) index=2 {bad}")).unwrap_err();
            let key = bad.split('=').next().unwrap();
            assert!(e.0.starts_with(&format!("t:1: {key}: strconv.")), "{e}");
        }
        let e = run(
            &mut env,
            "add-nodes 1 voters=(1) index=2 election-tick=10001",
        )
        .unwrap_err();
        assert_eq!(e.0, "t:1: election-tick: at most 10000 ticks, got 10001");
        // The environment still works afterwards.
        assert_eq!(run(&mut env, "log-level info").unwrap(), "ok");
        assert_eq!(
            run(&mut env, "raft-state").unwrap(),
            "1: StateFollower (Voter) Term:0 Lead:0\n2: StateFollower (Voter) Term:0 Lead:0\n"
        );
    }
}
