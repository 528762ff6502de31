//! The simulated cluster: an interaction environment (real `RawNode`s over
//! in-memory storage, the network queue, the fault state) driven by
//! script commands, with the safety checker on. Running commands rather
//! than calling the environment directly is what makes every schedule a
//! script that `raft-testdata` replays the same way.

use std::panic::{self, AssertUnwindSafe};

use super::config::SimConfig;
use super::schedule::Command;
use crate::datadriven::{parse_line, TestData};
use crate::interaction::InteractionEnv;

/// Why a run stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The checker found a broken safety property (the lines it printed).
    Violation(String),
    /// Raft (or the harness) panicked; the message.
    Panic(String),
}

impl Stop {
    /// A short name of the failure's kind, for telling whether a shrunk
    /// schedule still fails the same way: the variant and, for violations,
    /// the words before the first number.
    pub fn kind(&self) -> String {
        match self {
            Stop::Panic(_) => "panic".to_owned(),
            Stop::Violation(v) => {
                let words: Vec<&str> = v
                    .split_whitespace()
                    .take_while(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
                    .collect();
                format!("violation {}", words.join(" "))
            }
        }
    }
}

/// The commands that set a run up: quiet logging, the nodes, the checker.
pub fn setup_commands(cfg: &SimConfig) -> Vec<Command> {
    let check = if cfg.lease_reads {
        "check-invariants lease-reads=true"
    } else {
        "check-invariants"
    };
    vec![
        Command::new("log-level none"),
        Command::new(cfg.add_nodes_line()),
        Command::new(check),
    ]
}

/// The cluster under simulation.
pub struct World {
    /// The environment; read it to choose the next event.
    pub env: InteractionEnv,
    applied: usize,
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

impl World {
    /// An empty world; run [`setup_commands`] first.
    pub fn new() -> World {
        World {
            env: InteractionEnv::new(),
            applied: 0,
        }
    }

    /// Runs one command and returns its output; a violation or a panic
    /// stops the run. A command the environment cannot parse (possible in
    /// a shrunk schedule) does nothing.
    pub fn apply(&mut self, c: &Command) -> Result<String, Stop> {
        match self.run(c) {
            (out, None) => Ok(out),
            (_, Some(stop)) => Err(stop),
        }
    }

    /// Runs one command: its output (violation lines included) and why the
    /// run must stop, if it must.
    pub fn run(&mut self, c: &Command) -> (String, Option<Stop>) {
        self.applied += 1;
        let Ok((cmd, cmd_args)) = parse_line(&c.line) else {
            return (String::new(), None);
        };
        let d = TestData {
            pos: format!("sim:{}", self.applied),
            cmd,
            cmd_args,
            input: c.input.clone(),
            expected: String::new(),
        };
        let before = self.env.violations.len();
        let out = match panic::catch_unwind(AssertUnwindSafe(|| self.env.handle(&d))) {
            Ok(Ok(out)) => out,
            Ok(Err(script_error)) => script_error.0,
            Err(payload) => {
                return (
                    String::new(),
                    Some(Stop::Panic(panic_message(payload.as_ref()))),
                )
            }
        };
        if self.env.violations.len() > before {
            let v = self.env.violations[before..].join("; ");
            return (out, Some(Stop::Violation(v)));
        }
        (out, None)
    }
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_owned()
    }
}
