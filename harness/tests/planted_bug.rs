//! The simulator end to end on a bug planted in raft under the test-only
//! `sim-planted-bug` feature (voters grant votes to candidates with stale
//! logs): some seed finds it, the failing schedule shrinks to at most 30
//! commands, and the shrunk script fails when replayed the way
//! `raft-testdata` replays scripts. Run with
//! `cargo test -p etcdraft-harness --features sim-planted-bug --test planted_bug`
//! (CI does).
#![cfg(feature = "sim-planted-bug")]

use etcdraft_harness::datadriven::suite::{self, Kind};
use etcdraft_harness::sim::shrink::{shrink, to_script};
use etcdraft_harness::sim::world::Stop;
use etcdraft_harness::sim::{run_seeds, Outcome};

#[test]
fn planted_bug_is_found_shrunk_and_fails_on_replay() {
    let (failed, _) = run_seeds(0..200, 400, 2, &|_| {});
    let run = failed
        .values()
        .find(|r| matches!(r.outcome, Outcome::Violation(_)))
        .expect("no seed of 0..200 found the planted bug");
    let Outcome::Violation(v) = &run.outcome else {
        unreachable!()
    };
    let small = shrink(&run.commands, &Stop::Violation(v.clone()));
    assert!(
        small.len() <= 30,
        "seed {} shrank from {} to {} commands only",
        run.seed,
        run.commands.len(),
        small.len()
    );
    let script = to_script(&small, &format!("planted bug, seed {}", run.seed));
    let dir = std::env::temp_dir().join(format!("planted-bug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("planted.txt");
    std::fs::write(&path, &script).unwrap();
    let outcome = suite::run_file(&path, Some(Kind::Interaction)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!outcome.passed(), "the shrunk script passes:\n{script}");
    assert!(
        outcome.diff(false).contains("+violation: "),
        "{}",
        outcome.diff(false)
    );
    eprintln!(
        "seed {}: {} -> {} commands\n{script}",
        run.seed,
        run.commands.len(),
        small.len()
    );
}
