//! `Wal::save` with fsync, next to a plain write + fdatasync loop of the
//! same bytes on the same disk, in the same run: 128-byte entries in batches
//! of 64 and of 1. Prints entries/s, MB/s and the ratio to the plain loop
//! (median of alternating rounds). Not a test: nothing here passes or fails.
//!
//! ```sh
//! cargo bench -p etcdraft-storage --bench wal_save
//! # environment: STORAGE_BENCH_DIR (default: the system temp dir),
//! # STORAGE_BENCH_ROUNDS (default 3), STORAGE_BENCH_SYNCS (fsyncs per round, default 500)
//! ```

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use etcdraft_storage::{Options, Wal};
use raft::eraftpb::{Entry, HardState};

const ENTRY_SIZE: usize = 128;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Saves `batches` batches of `batch` entries with fsync; returns the time
/// taken and the bytes the WAL wrote per batch.
fn wal_round(dir: &Path, batch: usize, batches: usize, logger: &slog::Logger) -> (Duration, u64) {
    let mut wal = Wal::create(&dir.join("wal"), &Options::default(), logger).unwrap();
    // Fresh payloads for every entry, made before the clock starts.
    let mut index = 0u64;
    let work: Vec<(HardState, Vec<Entry>)> = (0..batches)
        .map(|_| {
            let ents: Vec<Entry> = (0..batch)
                .map(|_| {
                    index += 1;
                    let mut data = vec![b'x'; ENTRY_SIZE];
                    data[..8].copy_from_slice(&index.to_le_bytes());
                    Entry {
                        term: 1,
                        index,
                        data: Bytes::from(data),
                        ..Default::default()
                    }
                })
                .collect();
            let hs = HardState {
                term: 1,
                vote: 1,
                commit: index,
            };
            (hs, ents)
        })
        .collect();
    let start_offset = wal.position().1;
    let start = Instant::now();
    for (hs, ents) in &work {
        wal.save(Some(hs), ents).unwrap();
    }
    let took = start.elapsed();
    let per_batch = (wal.position().1 - start_offset) / batches as u64;
    (took, per_batch)
}

/// Writes `batches` chunks of `bytes` bytes to a plain file, each followed
/// by fdatasync.
fn plain_round(dir: &Path, bytes: u64, batches: usize) -> Duration {
    let mut file = OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(dir.join("plain"))
        .unwrap();
    let chunk = vec![b'y'; bytes as usize];
    let start = Instant::now();
    for _ in 0..batches {
        file.write_all(&chunk).unwrap();
        file.sync_data().unwrap();
    }
    start.elapsed()
}

/// Writes `entries` entries in batches of 1,000 (unsynced, this is not
/// what is measured), then times reopening the WAL: reading, checking and
/// decoding every entry.
fn reopen_round(base: &Path, entries: usize, logger: &slog::Logger) -> Duration {
    let dir = tempfile::tempdir_in(base).unwrap();
    let wal_dir = dir.path().join("wal");
    let mut wal = Wal::create(&wal_dir, &Options::default(), logger).unwrap();
    let data = Bytes::from(vec![b'z'; ENTRY_SIZE]);
    let mut index = 0;
    while index < entries as u64 {
        let ents: Vec<Entry> = (index + 1..=(index + 1000).min(entries as u64))
            .map(|i| Entry {
                term: 1,
                index: i,
                data: data.clone(),
                ..Default::default()
            })
            .collect();
        index = ents.last().unwrap().index;
        wal.save_batch(None, None, &ents, false).unwrap();
    }
    drop(wal);
    let start = Instant::now();
    let (_, got) =
        Wal::open_at(&wal_dir, &Default::default(), &Options::default(), logger).unwrap();
    let took = start.elapsed();
    assert_eq!(got.entries.len(), entries);
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken from the command line.
    let base = std::env::var_os("STORAGE_BENCH_DIR")
        .map(Into::into)
        .unwrap_or_else(std::env::temp_dir);
    let rounds = env_or("STORAGE_BENCH_ROUNDS", 3).max(1);
    let batches = env_or("STORAGE_BENCH_SYNCS", 500).max(1);
    let logger = slog::Logger::root(slog::Discard, slog::o!());
    println!(
        "WAL save vs plain write+fdatasync in {} ({rounds} alternating rounds of {batches} fsyncs each; medians)",
        base.display()
    );
    println!(
        "{:>6} {:>12} {:>10} {:>12} {:>10} {:>14} {:>7}",
        "batch", "wal ent/s", "wal MB/s", "plain ent/s", "plain MB/s", "bytes/batch", "ratio"
    );
    for batch in [64, 1] {
        let (mut wal_times, mut plain_times) = (Vec::new(), Vec::new());
        let mut per_batch = 0;
        for _ in 0..rounds {
            let dir = tempfile::tempdir_in(&base).unwrap();
            let (t, b) = wal_round(dir.path(), batch, batches, &logger);
            wal_times.push(t);
            per_batch = b;
            let dir = tempfile::tempdir_in(&base).unwrap();
            plain_times.push(plain_round(dir.path(), per_batch, batches));
        }
        let (wal, plain) = (median(wal_times), median(plain_times));
        let entries = (batch * batches) as f64;
        // Payload megabytes (10^6 bytes of entry data) per second.
        let mb = entries * ENTRY_SIZE as f64 / 1e6;
        println!(
            "{:>6} {:>12.0} {:>10.2} {:>12.0} {:>10.2} {:>14} {:>7.2}",
            batch,
            entries / wal.as_secs_f64(),
            mb / wal.as_secs_f64(),
            entries / plain.as_secs_f64(),
            mb / plain.as_secs_f64(),
            per_batch,
            plain.as_secs_f64() / wal.as_secs_f64(),
        );
    }
    // Reopening replays the log: read, check, decode every entry.
    let entries = 200_000;
    let reopen = reopen_round(&base, entries, &logger);
    println!(
        "reopen: {entries} entries of {ENTRY_SIZE} bytes in {:.0} ms ({:.0} entries/s)",
        reopen.as_secs_f64() * 1e3,
        entries as f64 / reopen.as_secs_f64()
    );
}
