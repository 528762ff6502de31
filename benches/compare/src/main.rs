//! Compares this repository's raft with tikv's raft-rs 0.7.0 on the
//! workloads of `benches/WORKLOADS.md`, both through the one driver of
//! `raft-workloads`.
//!
//! ```sh
//! cd benches/compare
//! cargo run --release                       # replicate-3/5/7, idle-groups(-100k)
//! cargo run --release -- replicate-3        # chosen workloads
//! WORKLOADS_BATCH_APPEND=1 cargo run --release -- replicate-3 replicate-5 replicate-7
//! cargo run --release -- callgrind          # instructions per entry, replicate-3
//! cargo run --release -- callgrind idle-groups   # instructions per node tick
//! ```
//!
//! Each round of each library is a fresh process (this program, run as
//! `one <library> <workload>`), alternating A B A B; `COMPARE_ROUNDS`
//! (default 5) rounds each. It prints every round's result line, then per
//! workload the medians and the ratio ours / raft-rs. A run whose
//! applied-entries check fails makes the whole comparison fail.

mod raftrs;

use std::collections::BTreeMap;
use std::process::{Command, ExitCode};

use raft_workloads::ours::Ours;
use raft_workloads::{run, Library};
use raftrs::RaftRs;

const DEFAULT_WORKLOADS: &[&str] = &[
    "replicate-3",
    "replicate-5",
    "replicate-7",
    "idle-groups",
    "idle-groups-100k",
];

const LIBRARIES: [&str; 2] = [Ours::NAME, RaftRs::NAME];

/// What went wrong, with what was being run.
#[derive(Debug)]
enum CompareError {
    Usage(String),
    Child { what: String, detail: String },
}

impl std::fmt::Display for CompareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompareError::Usage(s) => write!(f, "{s}"),
            CompareError::Child { what, detail } => write!(f, "{what}: {detail}"),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("one") => one(&args[1..]),
        Some("callgrind") => callgrind(&args[1..]),
        _ => compare(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raft-compare: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `one <library> <workload>`: one round in this process.
fn one(args: &[String]) -> Result<(), CompareError> {
    let [library, workload] = args else {
        return Err(CompareError::Usage(format!(
            "usage: one <library> <workload>, library one of {}",
            LIBRARIES.join(", ")
        )));
    };
    let r = match library.as_str() {
        l if l == Ours::NAME => run::<Ours>(workload),
        l if l == RaftRs::NAME => run::<RaftRs>(workload),
        other => {
            return Err(CompareError::Usage(format!(
                "unknown library {other:?}; expected one of {}",
                LIBRARIES.join(", ")
            )))
        }
    };
    r.map_err(|e| CompareError::Child {
        what: format!("{library} {workload}"),
        detail: e.to_string(),
    })
}

/// Runs this program as `one <library> <workload>` in a fresh process,
/// under the command `wrap` if one is given (valgrind), and returns its
/// standard output.
fn child(library: &str, workload: &str, wrap: &[String]) -> Result<String, CompareError> {
    let me = std::env::current_exe().map_err(|e| CompareError::Child {
        what: "locating this program".into(),
        detail: e.to_string(),
    })?;
    let mut cmd = match wrap.split_first() {
        Some((prog, rest)) => {
            let mut c = Command::new(prog);
            c.args(rest).arg(&me);
            c
        }
        None => Command::new(&me),
    };
    let what = format!("{} one {library} {workload}", wrap.join(" "));
    let out = cmd
        .args(["one", library, workload])
        .output()
        .map_err(|e| CompareError::Child {
            what: what.clone(),
            detail: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(CompareError::Child {
            what,
            detail: format!(
                "{}; stderr: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `key=value` fields of a result line.
fn fields(line: &str) -> BTreeMap<&str, &str> {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The default: alternating rounds of both libraries, then medians and
/// ratios per workload (and per payload size).
fn compare(names: &[String]) -> Result<(), CompareError> {
    let rounds: usize = match std::env::var("COMPARE_ROUNDS") {
        Ok(v) => v.trim().parse().map_err(|_| {
            CompareError::Usage(format!("COMPARE_ROUNDS={v:?}: expected a positive integer"))
        })?,
        Err(_) => 5,
    };
    if rounds == 0 {
        return Err(CompareError::Usage(
            "COMPARE_ROUNDS must be positive".into(),
        ));
    }
    let workloads: Vec<&str> = if names.is_empty() {
        DEFAULT_WORKLOADS.to_vec()
    } else {
        names.iter().map(String::as_str).collect()
    };
    let batch_append = std::env::var("WORKLOADS_BATCH_APPEND").is_ok_and(|v| v.trim() == "1");
    println!(
        "# {rounds} alternating rounds per library, each a fresh process; batch_append={}",
        if batch_append { "on" } else { "off" }
    );
    // (workload with payload, library, metric) -> one value per round.
    let mut samples: BTreeMap<(String, &str, &str), Vec<f64>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for workload in &workloads {
        for round in 1..=rounds {
            for library in LIBRARIES {
                let out = child(library, workload, &[])?;
                for line in out.lines().filter(|l| l.starts_with("workload=")) {
                    println!("round {round}: {line}");
                    let f = fields(line);
                    let key = match f.get("payload") {
                        Some(p) => format!("{workload} payload={p}"),
                        None => workload.to_string(),
                    };
                    if !order.contains(&key) {
                        order.push(key.clone());
                    }
                    for metric in [
                        "entries_per_sec",
                        "node_ticks_per_sec",
                        "bytes_per_node",
                        "peak_rss_kib",
                    ] {
                        if let Some(v) = f.get(metric).and_then(|v| v.parse::<f64>().ok()) {
                            samples
                                .entry((key.clone(), library, metric))
                                .or_default()
                                .push(v);
                        }
                    }
                }
            }
        }
    }
    println!();
    println!(
        "| workload | metric | {} | {} | ratio |",
        LIBRARIES[0], LIBRARIES[1]
    );
    println!("| --- | --- | --- | --- | --- |");
    for key in &order {
        for metric in [
            "entries_per_sec",
            "node_ticks_per_sec",
            "bytes_per_node",
            "peak_rss_kib",
        ] {
            let (Some(a), Some(b)) = (
                samples
                    .get_mut(&(key.clone(), LIBRARIES[0], metric))
                    .map(|v| median(v)),
                samples
                    .get_mut(&(key.clone(), LIBRARIES[1], metric))
                    .map(|v| median(v)),
            ) else {
                continue;
            };
            println!(
                "| {key} | {metric} (median) | {a:.0} | {b:.0} | {:.2}x |",
                a / b
            );
        }
    }
    Ok(())
}

/// `callgrind [workload]`: instructions per entry (per node tick for the
/// idle workloads) of each library's timed part, counted by valgrind
/// (independent of the machine's load). Unless set, WORKLOADS_N = 20000,
/// WORKLOADS_G = 1000 and WORKLOADS_ROUNDS = 20.
fn callgrind(args: &[String]) -> Result<(), CompareError> {
    let workload = args.first().map_or("replicate-3", String::as_str);
    let idle = workload.starts_with("idle-groups");
    // Small defaults: valgrind runs some 50 times slower.
    for (var, default) in [
        ("WORKLOADS_N", "20000"),
        ("WORKLOADS_G", "1000"),
        ("WORKLOADS_ROUNDS", "20"),
    ] {
        if std::env::var_os(var).is_none() {
            std::env::set_var(var, default);
        }
    }
    let num = |var: &str| -> Result<f64, CompareError> {
        std::env::var(var)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| CompareError::Usage(format!("{var} must be a number")))
    };
    // Per entry for the replicate workloads, per node tick for the idle ones.
    let (units, units_key, unit, timed) = if idle {
        let ticks = 3.0 * num("WORKLOADS_G")? * num("WORKLOADS_ROUNDS")?;
        (ticks, "node_ticks", "node_tick", "*idle_timed*")
    } else {
        (num("WORKLOADS_N")?, "entries", "entry", "*replicate_timed*")
    };
    let dir = std::env::temp_dir();
    for library in LIBRARIES {
        let out_file = dir.join(format!(
            "raft-compare-{}-{library}.callgrind",
            std::process::id()
        ));
        let wrap = vec![
            "valgrind".to_string(),
            "--tool=callgrind".to_string(),
            format!("--callgrind-out-file={}", out_file.display()),
            format!("--toggle-collect={timed}"),
        ];
        child(library, workload, &wrap)?;
        let text = std::fs::read_to_string(&out_file).map_err(|e| CompareError::Child {
            what: format!("reading {}", out_file.display()),
            detail: e.to_string(),
        })?;
        let total: f64 = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("summary:")
                    .or_else(|| l.strip_prefix("totals:"))
            })
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| CompareError::Child {
                what: format!("reading {}", out_file.display()),
                detail: "no summary line".into(),
            })?;
        let _ = std::fs::remove_file(&out_file);
        println!(
            "callgrind workload={workload} library={library} {units_key}={units} instructions={total:.0} instructions_per_{unit}={:.0}",
            total / units
        );
    }
    Ok(())
}
