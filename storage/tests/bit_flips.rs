//! A bit flipped anywhere in a valid log is found: the log either opens to
//! a prefix of its batches (when the flip can be taken for a torn tail of
//! the last segment) or is refused with an error naming the flipped file and
//! an offset at or before the flip. Never a panic, never a record skipped.

mod common;

use std::path::PathBuf;

use common::{entries, hs, logger, options, segment_files};
use etcdraft_storage::{decode_segment, StorageError, Wal};
use raft::eraftpb::{Entry, HardState, SnapshotMetadata};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const FLIPS: usize = 1000;

#[test]
fn a_flipped_bit_is_a_torn_tail_or_an_error_naming_file_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("wal");
    let opts = options(2048);
    let mut rng = StdRng::seed_from_u64(7);
    let mut wal = Wal::create(&dir, &opts, &logger()).unwrap();
    // Each batch with where it ends: (segment seq, offset).
    let mut batches: Vec<(Vec<Entry>, HardState, (u64, u64))> = Vec::new();
    let mut next = 1;
    for _ in 0..40 {
        let n = rng.random_range(1..=3);
        let ents: Vec<Entry> = (0..n)
            .map(|i| entries(next + i, next + i, 1, rng.random_range(1..200))[0].clone())
            .collect();
        next += n;
        let state = hs(1, 1, next - 1);
        let (seg, _) = wal.position();
        wal.save(Some(&state), &ents).unwrap();
        let (after, offset) = wal.position();
        // A save that began a new segment ended at the old one's end.
        let end = if after.seq == seg.seq {
            (seg.seq, offset)
        } else {
            (seg.seq, u64::MAX)
        };
        batches.push((ents, state, end));
    }
    let (last_seg, last_end) = wal.position();
    drop(wal);
    let files: Vec<PathBuf> = segment_files(&dir);
    assert!(files.len() >= 5, "{} segments", files.len());
    let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    // The written bytes of each file: all of a sealed one, the records of
    // the last one.
    let written: Vec<u64> = originals
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if i + 1 == files.len() {
                last_end
            } else {
                b.len() as u64
            }
        })
        .collect();
    let total: u64 = written.iter().sum();

    let (mut torn, mut refused) = (0, 0);
    for _ in 0..FLIPS {
        let mut at = rng.random_range(0..total);
        let mut file = 0;
        while at >= written[file] {
            at -= written[file];
            file += 1;
        }
        let bit = rng.random_range(0..8);
        let flipped = originals[file][at as usize] ^ (1 << bit);
        write_at(&files[file], at, &[flipped]);
        let what = format!("bit {bit} of byte {at} of {}", files[file].display());

        match Wal::open_at(&dir, &SnapshotMetadata::default(), &opts, &logger()) {
            Ok((_, got)) => {
                torn += 1;
                assert_eq!(
                    file + 1,
                    files.len(),
                    "{what}: a sealed segment must not open"
                );
                // The batches kept are the ones that end before the flip.
                let kept: Vec<_> = batches
                    .iter()
                    .filter(|(_, _, (seq, end))| *seq < last_seg.seq || *end <= at)
                    .collect();
                assert!(
                    kept.len() < batches.len(),
                    "{what}: opened with every batch"
                );
                let want: Vec<Entry> = kept.iter().flat_map(|b| b.0.clone()).collect();
                assert_eq!(got.entries, want, "{what}");
                assert_eq!(got.hard_state, kept.last().unwrap().1, "{what}");
            }
            Err(StorageError::Corrupt { path, offset, .. }) => {
                refused += 1;
                assert_eq!(path, files[file], "{what}");
                assert!(offset <= at, "{what}: error at {offset}");
            }
            Err(e) => panic!("{what}: {e}"),
        }
        // Put the log back (a torn tail's repair cut the last segment).
        // In place: truncating and rewriting a file costs a flush on ext4.
        write_at(
            &files[file],
            at,
            &originals[file][at as usize..at as usize + 1],
        );
        if file + 1 == files.len() {
            write_at(&files[file], 0, &originals[file]);
        }
    }
    assert_eq!(torn + refused, FLIPS);
    eprintln!("{torn} flips read as a torn tail, {refused} refused");
}

fn write_at(path: &std::path::Path, offset: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(bytes, offset).unwrap();
}

#[test]
fn decoding_arbitrary_bytes_never_panics() {
    let mut rng = StdRng::seed_from_u64(11);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("wal");
    let mut wal = Wal::create(&dir, &options(1 << 16), &logger()).unwrap();
    wal.save(Some(&hs(1, 1, 3)), &entries(1, 3, 1, 40)).unwrap();
    let (seg, end) = wal.position();
    drop(wal);
    let valid = std::fs::read(seg.path(&dir)).unwrap()[..end as usize].to_vec();
    for _ in 0..2000 {
        // Garbage, or a valid log with random bytes overwritten.
        let bytes: Vec<u8> = if rng.random_bool(0.5) {
            (0..rng.random_range(0..300))
                .map(|_| rng.random())
                .collect()
        } else {
            let mut b = valid.clone();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
            }
            b.truncate(rng.random_range(0..=b.len()));
            b
        };
        let decoded = decode_segment(&bytes);
        assert!(decoded.end as usize <= bytes.len());
    }
}
