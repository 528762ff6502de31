//! Real processes killed with SIGKILL (the `killall` of canonical/raft issue
//! 199): a writer process saves batches to a data directory and reports
//! each one that `persist` acknowledged; it is killed at once after a random
//! number of them, while it is writing the next, and the directory must
//! open (no stale lock) with every acknowledged batch. Eight times over the
//! same directory.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{entries, hs, logger, options};
use etcdraft_storage::DiskStorage;
use raft::Storage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TEST: &str = "a_killed_writer_loses_nothing_it_acknowledged";
/// Set in the writer process: the data directory to write to.
const CHILD_DIR: &str = "ETCDRAFT_STORAGE_KILL_DIR";
const ENTRY_SIZE: usize = 300;

/// The writer: appends batches of 1 to 9 entries forever, printing the last
/// index of each batch once `persist_parts` has returned.
fn writer(dir: &Path) -> ! {
    let storage = DiskStorage::open(dir, &options(16 * 1024), &logger()).unwrap();
    let mut rng = StdRng::seed_from_u64(storage.last_index().unwrap());
    let mut out = std::io::stdout().lock();
    loop {
        let first = storage.last_index().unwrap() + 1;
        let last = first + rng.random_range(0..9);
        storage
            .persist_parts(
                Some(&hs(1, 1, last)),
                &entries(first, last, 1, ENTRY_SIZE),
                None,
                true,
            )
            .unwrap();
        writeln!(out, "acked {last}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn a_killed_writer_loses_nothing_it_acknowledged() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        writer(Path::new(&dir));
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(199);
    let mut acked = 0;
    for round in 0..8 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture"])
            .env(CHILD_DIR, tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let wanted = rng.random_range(1..40);
        let mut seen = 0;
        for line in stdout.lines() {
            let Some(index) = line
                .unwrap()
                .strip_prefix("acked ")
                .map(|i| i.parse::<u64>().unwrap())
            else {
                continue;
            };
            acked = index;
            seen += 1;
            if seen == wanted {
                break;
            }
        }
        assert_eq!(seen, wanted, "round {round}: the writer stopped by itself");
        child.kill().unwrap();
        child.wait().unwrap();

        let storage = DiskStorage::open(tmp.path(), &options(16 * 1024), &logger())
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let last = storage.last_index().unwrap();
        assert!(
            last >= acked,
            "round {round}: {acked} acknowledged, {last} on disk"
        );
        assert!(storage.hard_state().commit >= acked, "round {round}");
        assert_eq!(
            storage.entries(1, last + 1, u64::MAX).unwrap(),
            entries(1, last, 1, ENTRY_SIZE),
            "round {round}"
        );
    }
}
