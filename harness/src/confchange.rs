//! The handler for etcd's `confchange` scripts: `simple`, `enter-joint`
//! (optionally `autoleave=true`) and `leave-joint` run a [`Changer`] on the
//! file's tracker and print the resulting configuration and progress, or
//! the error the change was refused with.
//!
//! The input of `simple` and `enter-joint` is a space-separated list of
//! changes: `vN` (make N a voter), `lN` (a learner), `rN` (remove), `uN`
//! (update). As in etcd's harness, the log's last index grows by one with
//! every stanza, so a progress's `next` shows in which stanza it was created.

use raft::confchange::Changer;
use raft::eraftpb::conf_changes_from_string;
use raft::tracker::ProgressTracker;

use crate::datadriven::{go_bool, unknown_command, Handler, ScriptError, TestData};

/// A fresh handler for one `confchange` script file.
pub fn new_handler() -> Box<dyn Handler> {
    Box::new(ConfChangeHandler {
        // etcd's harness uses these limits; they do not show in the output.
        tracker: ProgressTracker::new(10, 0),
        last_index: 0,
    })
}

/// The configuration carried from stanza to stanza.
struct ConfChangeHandler {
    tracker: ProgressTracker,
    last_index: u64,
}

/// The directives of a confchange script.
const COMMANDS: [&str; 3] = ["simple", "enter-joint", "leave-joint"];

impl Handler for ConfChangeHandler {
    fn handle(&mut self, d: &TestData) -> Result<String, ScriptError> {
        // etcd's harness answers an unknown command in the output, which a
        // rewrite would keep: here it is the script's error.
        if !COMMANDS.contains(&d.cmd.as_str()) {
            return Err(unknown_command(d, &COMMANDS));
        }
        let out = self.run(d);
        // Every stanza counts, even a refused or malformed one.
        self.last_index += 1;
        out
    }

    /// All three read input: etcd's `leave-joint` parses its input like the
    /// others and prints the parse error, or `this command takes no input`,
    /// as the stanza's output, and etcd's generated scripts rely on it.
    fn takes_input(&self, _cmd: &str) -> bool {
        true
    }
}

impl ConfChangeHandler {
    fn run(&mut self, d: &TestData) -> Result<String, ScriptError> {
        // etcd prints a malformed change list as the stanza's output.
        let ccs = match conf_changes_from_string(&d.input) {
            Ok(ccs) => ccs,
            Err(e) => return Ok(format!("{e}\n")),
        };
        let chg = Changer::new(&self.tracker, self.last_index);
        let res = match d.cmd.as_str() {
            "simple" => chg.simple(&ccs),
            "enter-joint" => chg.enter_joint(auto_leave(d)?, &ccs),
            _ if !ccs.is_empty() => return Ok("this command takes no input\n".to_string()),
            _ => chg.leave_joint(),
        };
        match res {
            Ok((cfg, progress)) => {
                self.tracker.config = cfg;
                self.tracker.progress = progress;
                Ok(format!(
                    "{}\n{}",
                    self.tracker.config,
                    self.tracker.progress.display(self.tracker.inflight_limits)
                ))
            }
            Err(e) => Ok(format!("{e}\n")),
        }
    }
}

/// The `autoleave` argument of `enter-joint`: false when there are no
/// arguments at all, otherwise required (Go's boolean spellings).
fn auto_leave(d: &TestData) -> Result<bool, ScriptError> {
    if d.cmd_args.is_empty() {
        return Ok(false);
    }
    let Some(arg) = d.arg("autoleave") else {
        return Err(
            d.error("missing argument: autoleave (expected autoleave=true or autoleave=false)")
        );
    };
    let [val] = arg.vals.as_slice() else {
        return Err(d.error(format_args!(
            "autoleave: expected one value, got {}",
            arg.vals.len()
        )));
    };
    go_bool(val).ok_or_else(|| {
        d.error(format_args!(
            "autoleave: expected true or false, got {val:?}"
        ))
    })
}
