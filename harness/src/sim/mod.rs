//! The deterministic cluster simulator (`raft-testdata sim`).
//!
//! A seed draws a cluster and a raft configuration ([`config`]) and a
//! schedule of random events ([`schedule`]): ticks, `Ready` handling,
//! message deliveries in any order with duplicates and losses, partitions
//! (both ways and one way), crashes that lose what was not persisted and
//! restarts from storage, proposals, conf changes of every kind, leader
//! transfers, read-index requests and checkpoints (snapshot plus
//! compaction). Each event is an interaction-script command run by the
//! harness's environment ([`world`]), so a schedule is a script. After
//! every event the [`invariants`] are checked; after the last, the faults
//! stop and the cluster must make progress ([`liveness`]). A failing
//! schedule is shrunk ([`shrink`]) into a short script that fails on
//! replay with `raft-testdata`.
//!
//! Nothing depends on the wall clock or on hash order: a seed's run is the
//! same on every machine and with any number of worker threads.

pub mod cli;
pub mod config;
pub mod invariants;
pub mod liveness;
pub mod rng;
pub mod runner;
pub mod schedule;
pub mod shrink;
pub mod world;

pub use invariants::Checker;
pub use runner::{replay, run_seed, run_seeds, Outcome, SeedRun, Summary};
