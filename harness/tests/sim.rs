//! The simulator: deterministic per seed, independent of the number of
//! worker threads, and clean on a batch of seeds.

use etcdraft_harness::sim::{replay, run_seed, run_seeds, Outcome};

#[test]
fn a_seed_always_runs_the_same_schedule() {
    for seed in [3, 17, 40] {
        let a = run_seed(seed, 400);
        let b = run_seed(seed, 400);
        assert_eq!(a.commands, b.commands);
        assert_eq!(a.outcome, b.outcome);
        assert!(a.commands.len() > 400);
    }
    assert_ne!(run_seed(1, 200).commands, run_seed(2, 200).commands);
}

#[test]
fn results_do_not_depend_on_jobs() {
    let (f1, s1) = run_seeds(0..24, 300, 1, &|_| {});
    let (f3, s3) = run_seeds(0..24, 300, 3, &|_| {});
    assert_eq!(s1, s3);
    assert_eq!(f1.keys().collect::<Vec<_>>(), f3.keys().collect::<Vec<_>>());
    assert_eq!(s1.seeds, 24);
}

#[test]
fn a_batch_of_seeds_is_clean_and_replays() {
    let (failed, summary) = run_seeds(100..160, 500, 2, &|_| {});
    let bad: Vec<_> = failed
        .values()
        .filter(|r| !matches!(r.outcome, Outcome::KnownStall(_)))
        .map(|r| (r.seed, r.outcome.clone()))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    assert!(!summary.failed(), "{summary}");
    // A passing schedule replays without a stop.
    let run = run_seed(101, 300);
    assert_eq!(replay(&run.commands), None);
}
