//! `raft-testdata sim`: the command line of the simulator.

use std::io::IsTerminal;
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use super::runner::{run_seeds, Outcome, SeedRun};
use super::shrink::{shrink, to_script};
use super::world::Stop;

/// The usage text of `raft-testdata sim`.
pub const HELP: &str = "\
raft-testdata sim: deterministic cluster simulation

USAGE:
    raft-testdata sim [--seeds A..B] [--steps N] [--seed S] [--jobs J] [--shrink DIR]

Each seed draws a cluster (1-7 voters, learners and spare nodes) and a raft
configuration, then N random events: ticks, Readys, message deliveries in
any order, duplicates, losses, partitions, crashes and restarts,
proposals, conf changes, leader transfers, reads and checkpoints. Safety
properties are checked after every event; then the faults stop and the
cluster must elect a leader and apply a new proposal on every voter.

OPTIONS:
    --seeds A..B   the seeds to run (default 0..1000)
    --seed S       run the one seed S (same as --seeds S..S+1)
    --steps N      random events per seed (default 1000)
    --jobs J       worker threads (default 1); the results do not depend on it
    --trace        print every command of each seed with its output
    --shrink DIR   shrink each failing schedule and write it to
                   DIR/sim-seed-S.txt as an interaction script that fails
                   on replay with raft-testdata
    -h, --help     show this help

The last line is `seeds=N steps=S violations=V panics=P liveness=L
known_stalls=K`; the exit status is 1 when V, P or L is not 0, 2 on a usage
error.
";

struct Opts {
    seeds: Range<u64>,
    steps: u64,
    jobs: usize,
    shrink: Option<PathBuf>,
    trace: bool,
}

fn parse(args: &[String]) -> Result<Option<Opts>, String> {
    let mut o = Opts {
        seeds: 0..1000,
        steps: 1000,
        jobs: 1,
        shrink: None,
        trace: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f, Some(v.to_owned())),
            None => (a.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let num = |s: String| -> Result<u64, String> {
            s.parse()
                .map_err(|_| format!("{flag}: expected a number, got {s:?}"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--seeds" => {
                let v = value()?;
                let (a, b) = v
                    .split_once("..")
                    .ok_or_else(|| format!("--seeds: expected A..B, got {v:?}"))?;
                let (a, b) = (num(a.to_owned())?, num(b.to_owned())?);
                if a >= b {
                    return Err(format!("--seeds: empty range {v}"));
                }
                o.seeds = a..b;
            }
            "--seed" => {
                let s = num(value()?)?;
                o.seeds = s..s.saturating_add(1);
            }
            "--steps" => o.steps = num(value()?)?,
            "--jobs" => {
                o.jobs = num(value()?)? as usize;
                if o.jobs == 0 {
                    return Err("--jobs: at least 1".to_owned());
                }
            }
            "--trace" => o.trace = true,
            "--shrink" => o.shrink = Some(PathBuf::from(value()?)),
            _ => {
                return Err(format!(
                    "unknown option {a:?} (see raft-testdata sim --help)"
                ))
            }
        }
    }
    Ok(Some(o))
}

/// Runs `raft-testdata sim` with `args` (those after `sim`).
pub fn main(args: &[String]) -> ExitCode {
    let o = match parse(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("raft-testdata sim: {e}");
            return ExitCode::from(2);
        }
    };
    // Panics are results here, reported per seed; the default hook would
    // print each one in the middle of the progress display.
    std::panic::set_hook(Box::new(|_| {}));
    let total = o.seeds.end - o.seeds.start;
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} seeds  {msg}  eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let report = |run: &SeedRun| {
        if run.outcome != Outcome::Pass {
            bar.set_message(format!("last non-pass: seed {}", run.seed));
        }
        bar.inc(1);
    };
    if o.trace {
        for seed in o.seeds.clone() {
            let run = super::run_seed(seed, o.steps);
            let mut world = super::world::World::new();
            for c in &run.commands {
                let (out, _) = world.run(c);
                println!(
                    "{}\n{}----\n{}",
                    c.line,
                    input_lines(&c.input),
                    out.trim_end()
                );
            }
            println!("seed {seed}: {:?}", run.outcome);
        }
    }
    let (failed, summary) = run_seeds(o.seeds.clone(), o.steps, o.jobs, &report);
    bar.finish_and_clear();
    for run in failed.values() {
        let (what, stop) = match &run.outcome {
            Outcome::Pass => continue,
            Outcome::KnownStall(k) => {
                println!("KNOWN-STALL seed={} kind={k}", run.seed);
                continue;
            }
            Outcome::Liveness(w) => {
                println!("LIVENESS seed={} {w}", run.seed);
                continue;
            }
            Outcome::Violation(v) => ("VIOLATION", Stop::Violation(v.clone())),
            Outcome::Panic(p) => ("PANIC", Stop::Panic(p.clone())),
        };
        let msg = match &stop {
            Stop::Violation(v) | Stop::Panic(v) => v.clone(),
        };
        println!("{what} seed={} step={}: {msg}", run.seed, run.steps);
        if let Some(dir) = &o.shrink {
            let small = shrink(&run.commands, &stop);
            let header = format!(
                "Found by `raft-testdata sim --seed {} --steps {}`: {msg}\nShrunk from {} to {} commands.",
                run.seed,
                o.steps,
                run.commands.len(),
                small.len()
            );
            let path = dir.join(format!("sim-seed-{}.txt", run.seed));
            let written = std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(&path, to_script(&small, &header)));
            match written {
                Ok(()) => println!("  shrunk to {} commands: {}", small.len(), path.display()),
                Err(e) => eprintln!("raft-testdata sim: {}: {e}", path.display()),
            }
        }
    }
    println!(
        "committed entries: {} in all, {:.1} per seed",
        summary.committed,
        summary.committed as f64 / summary.seeds.max(1) as f64
    );
    println!("{summary}");
    if summary.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// A command's input lines followed by a newline, or nothing.
fn input_lines(input: &str) -> String {
    if input.is_empty() {
        String::new()
    } else {
        format!("{input}\n")
    }
}
