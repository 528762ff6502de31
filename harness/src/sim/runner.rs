//! Running seeds: one seed is one random configuration and one schedule of
//! events, checked at every step, then the calm phase. Many seeds run on
//! worker threads; each seed's run depends on nothing but the seed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::config::SimConfig;
use super::liveness::{calm, Calm};
use super::rng::SimRng;
use super::schedule::{Command, Generator};
use super::world::{setup_commands, Stop, World};

/// How one seed ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every check held and the cluster made progress after the faults.
    Pass,
    /// A safety property broke.
    Violation(String),
    /// Something panicked.
    Panic(String),
    /// No progress after the faults stopped, for no known reason.
    Liveness(String),
    /// No progress, for a reason of etcd's design (the kind).
    KnownStall(&'static str),
}

/// The record of one seed's run.
#[derive(Clone, Debug)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// The configuration it drew.
    pub config: SimConfig,
    /// Random events run (the calm phase not counted).
    pub steps: u64,
    /// Every command run, set-up and calm phase included.
    pub commands: Vec<Command>,
    /// How it ended.
    pub outcome: Outcome,
    /// The highest commit index any node reached (progress made).
    pub committed: u64,
}

/// Runs seed `seed` for `steps` random events.
pub fn run_seed(seed: u64, steps: u64) -> SeedRun {
    let mut rng = SimRng::new(seed);
    let config = SimConfig::random(&mut rng);
    let mut gen = Generator::new(SimRng::new(rng.next_u64()), config.clone());
    let mut world = World::new();
    let mut commands = setup_commands(&config);
    let mut done = 0;
    let finish = |world: &World, commands: Vec<Command>, done, outcome| SeedRun {
        seed,
        config: config.clone(),
        steps: done,
        commands,
        outcome,
        committed: world
            .env
            .nodes
            .iter()
            .map(|n| n.raw.raft.raft_log.committed)
            .max()
            .unwrap_or(0),
    };
    for c in commands.clone() {
        if let Err(stop) = world.apply(&c) {
            return finish(&world, commands, 0, stop.into());
        }
    }
    while done < steps {
        let c = gen.next(&world.env);
        let r = world.apply(&c);
        commands.push(c);
        done += 1;
        if let Err(stop) = r {
            return finish(&world, commands, done, stop.into());
        }
    }
    let outcome = match calm(&mut world, &config, &mut commands) {
        Err(stop) => stop.into(),
        Ok(Calm::Live) => Outcome::Pass,
        Ok(Calm::KnownStall(k)) => Outcome::KnownStall(k),
        Ok(Calm::Stuck(why)) => Outcome::Liveness(why),
    };
    finish(&world, commands, done, outcome)
}

impl From<Stop> for Outcome {
    fn from(s: Stop) -> Outcome {
        match s {
            Stop::Violation(v) => Outcome::Violation(v),
            Stop::Panic(p) => Outcome::Panic(p),
        }
    }
}

/// Replays `commands` in a fresh world: the first stop, if any.
pub fn replay(commands: &[Command]) -> Option<Stop> {
    let mut world = World::new();
    commands.iter().find_map(|c| world.apply(c).err())
}

/// Counts over many seeds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Random events run over all seeds.
    pub steps: u64,
    /// Seeds that broke a safety property.
    pub violations: u64,
    /// Seeds that panicked.
    pub panics: u64,
    /// Seeds that made no progress after the faults, unexplained.
    pub liveness: u64,
    /// Seeds that stalled for a reason of etcd's design.
    pub known_stalls: u64,
    /// Commit indexes reached, summed over the seeds (a measure of how
    /// much the runs did; not part of the summary line).
    pub committed: u64,
}

impl Summary {
    /// Counts `run` in.
    pub fn add(&mut self, run: &SeedRun) {
        self.seeds += 1;
        self.steps += run.steps;
        self.committed += run.committed;
        match run.outcome {
            Outcome::Pass => {}
            Outcome::Violation(_) => self.violations += 1,
            Outcome::Panic(_) => self.panics += 1,
            Outcome::Liveness(_) => self.liveness += 1,
            Outcome::KnownStall(_) => self.known_stalls += 1,
        }
    }

    /// Whether anything failed (known stalls do not count).
    pub fn failed(&self) -> bool {
        self.violations + self.panics + self.liveness > 0
    }
}

impl std::fmt::Display for Summary {
    /// The one summary line of a run.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seeds={} steps={} violations={} panics={} liveness={} known_stalls={}",
            self.seeds, self.steps, self.violations, self.panics, self.liveness, self.known_stalls
        )
    }
}

/// Runs every seed of `seeds` on `jobs` threads, calling `done` after each
/// (from the worker threads, in completion order). Returns the runs that
/// did not pass, by seed, and the summary; both are the same whatever the
/// number of jobs.
pub fn run_seeds(
    seeds: std::ops::Range<u64>,
    steps: u64,
    jobs: usize,
    done: &(dyn Fn(&SeedRun) + Sync),
) -> (BTreeMap<u64, SeedRun>, Summary) {
    let next = AtomicU64::new(seeds.start);
    let results = Mutex::new((BTreeMap::new(), Summary::default()));
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= seeds.end {
                    return;
                }
                let run = run_seed(seed, steps);
                done(&run);
                let mut g = results.lock().unwrap_or_else(|e| e.into_inner());
                g.1.add(&run);
                if run.outcome != Outcome::Pass {
                    g.0.insert(seed, run);
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}
