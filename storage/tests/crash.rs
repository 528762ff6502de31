//! Crashes at every step: a fault-injecting file system fails the writer
//! before each write, fsync, rename, deletion and truncation of a save, a
//! segment roll-over, a snapshot save (local or received) and a release of
//! old segments (and after the last one); then a power loss keeps only what
//! was made durable plus a random part of the rest. Reopening must always
//! work and give a state that holds every step that returned, and nothing
//! that was never written, also when a second crash hits the recovery.

mod common;

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use common::fault_fs::FaultFs;
use common::{entries, hs, logger, options};
use etcdraft_storage::{DiskStorage, Options, StorageError};
use raft::eraftpb::{ConfState, HardState, Snapshot, SnapshotMetadata};
use raft::Storage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ENTRY_SIZE: usize = 100;
/// Power losses modelled per crash point.
const SEEDS: u64 = 2;

/// What a scenario does after opening the directory.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Persist entries `lo..=hi` with a hard state committing `hi`.
    Save(u64, u64),
    /// Take a snapshot at an index of the log.
    Snapshot(u64),
    /// Install a snapshot from a leader, at an index past the log.
    Received(u64),
}

/// The state raft would see: enough to compare a reopened directory with.
#[derive(Clone, Copy, Debug, PartialEq)]
struct State {
    snapshot: u64,
    last: u64,
    hard_state: HardState,
}

impl State {
    fn after(self, step: Step) -> State {
        match step {
            Step::Save(_, hi) => State {
                last: hi,
                hard_state: hs(1, 1, hi),
                ..self
            },
            Step::Snapshot(i) => State {
                snapshot: i,
                ..self
            },
            Step::Received(i) => State {
                snapshot: i,
                last: i,
                hard_state: hs(1, 1, i),
            },
        }
    }
}

fn voters() -> ConfState {
    ConfState {
        voters: vec![1, 2, 3],
        ..Default::default()
    }
}

fn snap_data(index: u64) -> Bytes {
    Bytes::from(format!("state at {index}"))
}

fn run(storage: &DiskStorage, step: Step) -> Result<(), StorageError> {
    match step {
        Step::Save(lo, hi) => storage.persist_parts(
            Some(&hs(1, 1, hi)),
            &entries(lo, hi, 1, ENTRY_SIZE),
            None,
            true,
        ),
        Step::Snapshot(i) => storage.create_snapshot(i, voters(), snap_data(i)).map(drop),
        Step::Received(i) => {
            let snap = Snapshot {
                data: snap_data(i),
                metadata: SnapshotMetadata {
                    conf_state: voters(),
                    index: i,
                    term: 1,
                },
            };
            storage.persist_parts(Some(&hs(1, 1, i)), &[], Some(&snap), true)
        }
    }
}

/// What raft would read from `storage`.
fn state_of(storage: &DiskStorage) -> State {
    State {
        snapshot: storage.snapshot().unwrap().metadata.index,
        last: storage.last_index().unwrap(),
        hard_state: storage.hard_state(),
    }
}

/// Checks that `storage` holds exactly `want`: the snapshot's data and the
/// entries after it are the ones written.
fn check(storage: &DiskStorage, want: State, what: &str) {
    assert_eq!(state_of(storage), want, "{what}");
    let snap = storage.snapshot().unwrap();
    if want.snapshot > 0 {
        assert_eq!(snap.data, snap_data(want.snapshot), "{what}");
    }
    assert_eq!(storage.first_index().unwrap(), want.snapshot + 1, "{what}");
    if want.last > want.snapshot {
        let got = storage
            .entries(want.snapshot + 1, want.last + 1, u64::MAX)
            .unwrap();
        assert_eq!(
            got,
            entries(want.snapshot + 1, want.last, 1, ENTRY_SIZE),
            "{what}"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs `steps` on a copy of a directory prepared by `base_steps`, crashing
/// at every operation in turn, and checks each reopened directory.
fn crash_everywhere(name: &str, segment_size: u64, base_steps: &[Step], steps: &[Step]) {
    let tmp = tempfile::tempdir().unwrap();
    let template = tmp.path().join("template");
    let real = options(segment_size);
    let mut base = State {
        snapshot: 0,
        last: 0,
        hard_state: HardState::default(),
    };
    {
        let storage = DiskStorage::open(&template, &real, &logger()).unwrap();
        for &step in base_steps {
            run(&storage, step).unwrap();
            base = base.after(step);
        }
    }
    // The state after each number of steps.
    let mut states = vec![base];
    for &step in steps {
        states.push(states.last().unwrap().after(step));
    }

    let mut crash_at = 0;
    loop {
        let mut finished = false;
        for seed in 0..SEEDS {
            let dir = tmp.path().join(format!("run-{crash_at}-{seed}"));
            copy_dir(&template, &dir);
            let fs = FaultFs::new(&dir, Some(crash_at));
            let faulty = Options {
                file_system: Arc::new(fs.clone()),
                ..real.clone()
            };
            let mut acked = 0;
            if let Ok(storage) = DiskStorage::open(&dir, &faulty, &logger()) {
                for &step in steps {
                    if run(&storage, step).is_err() {
                        break;
                    }
                    acked += 1;
                }
            }
            finished = !fs.crashed();
            let mut rng = StdRng::seed_from_u64(crash_at * 1000 + seed);
            fs.power_loss(&mut rng);

            // A second crash while the directory is being recovered (the
            // repair of a torn tail, the clean-up of temp files), at a
            // random operation of the opening or after it.
            let again = rng.random_range(0..12);
            let fs = FaultFs::new(&dir, Some(again));
            let faulty = Options {
                file_system: Arc::new(fs.clone()),
                ..real.clone()
            };
            drop(DiskStorage::open(&dir, &faulty, &logger()));
            fs.power_loss(&mut rng);

            let what = format!(
                "{name}: crash at operation {crash_at}, seed {seed}, {acked} steps acked, \
                 then at operation {again} of the recovery"
            );
            let storage = DiskStorage::open(&dir, &real, &logger())
                .unwrap_or_else(|e| panic!("{what}: reopening failed: {e}"));
            let got = state_of(&storage);
            // Every acknowledged step is there; the one that failed may or
            // may not be; nothing after it is.
            let candidates = &states[acked..states.len().min(acked + 2)];
            let Some(want) = candidates.iter().find(|s| **s == got) else {
                panic!("{what}: reopened as {got:?}, expected one of {candidates:?}");
            };
            check(&storage, *want, &what);
            // The directory goes on taking writes, which survive.
            let next = Step::Save(want.last + 1, want.last + 1);
            run(&storage, next).unwrap();
            drop(storage);
            let storage = DiskStorage::open(&dir, &real, &logger()).unwrap();
            check(
                &storage,
                want.after(next),
                &format!("{what}, then one more save"),
            );
            drop(storage);
            std::fs::remove_dir_all(&dir).unwrap();
        }
        if finished {
            break;
        }
        crash_at += 1;
    }
    eprintln!("{name}: {crash_at} crash points");
    // Crash points counted include the opening of the directory; a
    // scenario has at least one per step.
    assert!(
        crash_at as usize > steps.len(),
        "{name}: only {crash_at} crash points"
    );
}

#[test]
fn crashes_during_saves() {
    crash_everywhere(
        "saves",
        1 << 20,
        &[Step::Save(1, 4)],
        &[Step::Save(5, 8), Step::Save(9, 9), Step::Save(10, 13)],
    );
}

#[test]
fn crashes_during_segment_roll_overs() {
    // Batches of ~600 bytes in 1 KiB segments: every other save begins a
    // new segment.
    crash_everywhere(
        "roll-over",
        1024,
        &[Step::Save(1, 4)],
        &[Step::Save(5, 8), Step::Save(9, 12), Step::Save(13, 16)],
    );
}

#[test]
fn crashes_during_snapshots_and_releases() {
    crash_everywhere(
        "snapshot",
        1024,
        &[
            Step::Save(1, 4),
            Step::Save(5, 8),
            Step::Save(9, 12),
            Step::Snapshot(4),
        ],
        &[Step::Snapshot(10), Step::Save(13, 14), Step::Snapshot(13)],
    );
}

#[test]
fn crashes_during_received_snapshots() {
    crash_everywhere(
        "received snapshot",
        1024,
        &[Step::Save(1, 4), Step::Save(5, 8)],
        &[Step::Received(50), Step::Save(51, 52)],
    );
}
