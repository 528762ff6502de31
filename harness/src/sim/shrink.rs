//! Shrinking: a failing schedule cut down by delta debugging (Zeller's
//! ddmin, then single removals to a fixpoint) to a short one that still
//! fails the same way, written as an interaction script.

use super::runner::replay;
use super::schedule::Command;
use super::world::{Stop, World};

/// The number of set-up commands every schedule starts with (log level,
/// nodes, checker); never removed.
pub const SETUP: usize = 3;

/// Shrinks `commands`, whose replay stops with `stop`, to a shorter
/// schedule whose replay stops with a failure of the same kind.
pub fn shrink(commands: &[Command], stop: &Stop) -> Vec<Command> {
    let kind = stop.kind();
    let fails = |cs: &[Command]| replay(cs).is_some_and(|s| s.kind() == kind);
    let (setup, rest) = commands.split_at(SETUP.min(commands.len()));
    let with_setup = |body: &[Command]| {
        let mut all = setup.to_vec();
        all.extend_from_slice(body);
        all
    };
    // Everything after the failing command is irrelevant.
    let mut body: Vec<Command> = rest.to_vec();
    if let Some(end) = (1..=body.len()).find(|&n| fails(&with_setup(&body[..n]))) {
        body.truncate(end);
    }
    let mut n = 2;
    while body.len() >= 2 {
        let chunk = body.len().div_ceil(n);
        let mut reduced = false;
        for start in (0..body.len()).step_by(chunk) {
            let mut candidate = body[..start].to_vec();
            candidate.extend_from_slice(&body[(start + chunk).min(body.len())..]);
            if fails(&with_setup(&candidate)) {
                body = candidate;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if n >= body.len() {
                break;
            }
            n = (n * 2).min(body.len());
        }
    }
    // Single removals until none helps.
    loop {
        let before = body.len();
        let mut i = 0;
        while i < body.len() {
            let mut candidate = body.clone();
            candidate.remove(i);
            if fails(&with_setup(&candidate)) {
                body = candidate;
            } else {
                i += 1;
            }
        }
        if body.len() == before {
            break;
        }
    }
    with_setup(&body)
}

/// `commands` as an interaction script: each stanza's expected output is
/// what the run printed, less the checker's `violation:` lines, so the
/// script passes exactly when no property breaks. `header` becomes the
/// leading comment.
pub fn to_script(commands: &[Command], header: &str) -> String {
    let mut world = World::new();
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(&format!("# {line}\n"));
    }
    for c in commands {
        let (printed, _) = world.run(c);
        let expected: Vec<&str> = printed
            .lines()
            .filter(|l| !l.starts_with("violation: "))
            .collect();
        let expected = if expected.is_empty() {
            "ok".to_owned()
        } else {
            expected.join("\n")
        };
        out.push('\n');
        out.push_str(&c.line);
        out.push('\n');
        if !c.input.is_empty() {
            out.push_str(&c.input);
            out.push('\n');
        }
        if expected.lines().any(|l| l.trim().is_empty()) {
            out.push_str(&format!("----\n----\n{expected}\n----\n----\n"));
        } else {
            out.push_str(&format!("----\n{expected}\n"));
        }
    }
    out
}
