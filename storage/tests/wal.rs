//! The WAL: saving, reopening, rolling over, releasing, overwriting, locking.

mod common;

use common::fault_fs::FaultFs;
use common::{entries, hs, logger, options, segment_files};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use etcdraft_storage::{Options, StorageError, Wal, WalContents};
use raft::eraftpb::SnapshotMetadata;

/// A new WAL in a temp directory, with segments of `segment_size` bytes.
fn new_wal(segment_size: u64) -> (tempfile::TempDir, PathBuf, Options, Wal) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("wal");
    let opts = options(segment_size);
    let wal = Wal::create(&dir, &opts, &logger()).unwrap();
    (tmp, dir, opts, wal)
}

/// What the WAL in `dir` holds from its beginning.
fn read_all(dir: &Path, opts: &Options) -> WalContents {
    Wal::open_at(dir, &SnapshotMetadata::default(), opts, &logger())
        .unwrap()
        .1
}

/// Saves `n` batches of four 100-byte entries (1..=4n), each with a hard
/// state committing its last.
fn save_fours(wal: &mut Wal, n: u64) {
    for b in 0..n {
        let state = hs(1, 0, b * 4 + 4);
        wal.save(Some(&state), &entries(b * 4 + 1, b * 4 + 4, 1, 100))
            .unwrap();
    }
}

/// The marker of a snapshot at `index`, term 1.
fn marker(index: u64) -> SnapshotMetadata {
    SnapshotMetadata {
        index,
        term: 1,
        ..Default::default()
    }
}

#[test]
fn saved_batches_come_back_after_reopening() {
    let (_tmp, dir, opts, mut wal) = new_wal(1 << 20);
    wal.save(Some(&hs(1, 1, 0)), &entries(1, 10, 1, 50))
        .unwrap();
    wal.save(Some(&hs(1, 1, 8)), &entries(11, 20, 1, 50))
        .unwrap();
    wal.save(None, &entries(21, 21, 1, 5000)).unwrap();
    drop(wal);

    let (mut wal, got) =
        Wal::open_at(&dir, &SnapshotMetadata::default(), &opts, &logger()).unwrap();
    assert_eq!(got.hard_state, hs(1, 1, 8));
    assert_eq!(
        got.entries,
        entries(1, 20, 1, 50)
            .into_iter()
            .chain(entries(21, 21, 1, 5000))
            .collect::<Vec<_>>()
    );
    // Appending after reopening continues the chain.
    wal.save(Some(&hs(2, 0, 21)), &entries(22, 22, 2, 10))
        .unwrap();
    drop(wal);
    let got = read_all(&dir, &opts);
    assert_eq!(got.hard_state, hs(2, 0, 21));
    assert_eq!(got.entries.len(), 22);
    assert_eq!(got.entries[21], entries(22, 22, 2, 10)[0]);
}

#[test]
fn segments_roll_over_and_the_log_reads_across_them() {
    let (_tmp, dir, opts, mut wal) = new_wal(4096);
    for b in 0..50u64 {
        wal.save(
            Some(&hs(1, 0, b * 4)),
            &entries(b * 4 + 1, b * 4 + 4, 1, 100),
        )
        .unwrap();
    }
    assert!(
        wal.segments().len() > 5,
        "{} segments",
        wal.segments().len()
    );
    let files = segment_files(&dir);
    assert_eq!(files.len(), wal.segments().len());
    // Sealed segments are cut to their exact length; the last is preallocated.
    for f in &files[..files.len() - 1] {
        assert!(std::fs::metadata(f).unwrap().len() >= 4096);
        assert!(std::fs::metadata(f).unwrap().len() < 4096 + 1024);
    }
    drop(wal);
    let got = read_all(&dir, &opts);
    assert_eq!(got.entries, entries(1, 200, 1, 100));
    assert_eq!(got.hard_state, hs(1, 0, 196));
}

#[test]
fn release_to_deletes_covered_segments_and_open_at_the_snapshot_works() {
    let (_tmp, dir, opts, mut wal) = new_wal(4096);
    save_fours(&mut wal, 50);
    let marker = marker(120);
    wal.save_snapshot(&marker).unwrap();
    let before = wal.segments().len();
    wal.release_to(120).unwrap();
    let after = wal.segments().to_vec();
    assert!(after.len() < before);
    // Kept: the newest segment that begins below the snapshot, and all after.
    assert!(after[0].first_index < 120);
    assert!(after.get(1).is_none_or(|s| s.first_index >= 120));
    drop(wal);

    let (_, got) = Wal::open_at(&dir, &marker, &opts, &logger()).unwrap();
    assert_eq!(got.entries, entries(121, 200, 1, 100));
    // The empty snapshot's segment is gone: opening there is refused.
    let err = Wal::open_at(&dir, &SnapshotMetadata::default(), &opts, &logger()).unwrap_err();
    assert!(matches!(err, StorageError::EntriesReleased { .. }), "{err}");
    let markers = Wal::valid_snapshot_markers(&dir, &opts).unwrap();
    assert_eq!(markers, vec![marker]);
}

#[test]
fn an_overwritten_suffix_is_replaced() {
    let (_tmp, dir, opts, mut wal) = new_wal(1 << 20);
    wal.save(Some(&hs(1, 1, 3)), &entries(1, 10, 1, 20))
        .unwrap();
    // A new leader overwrites from index 5 on.
    wal.save(Some(&hs(2, 2, 3)), &entries(5, 7, 2, 20)).unwrap();
    drop(wal);
    let got = read_all(&dir, &opts);
    let want: Vec<_> = entries(1, 4, 1, 20)
        .into_iter()
        .chain(entries(5, 7, 2, 20))
        .collect();
    assert_eq!(got.entries, want);
}

#[test]
fn a_second_opener_is_refused_while_the_first_holds_the_lock() {
    let (_tmp, dir, opts, wal) = new_wal(1 << 20);
    let err = Wal::open_at(&dir, &SnapshotMetadata::default(), &opts, &logger()).unwrap_err();
    assert!(matches!(err, StorageError::Locked { .. }), "{err}");
    drop(wal);
    Wal::open_at(&dir, &SnapshotMetadata::default(), &opts, &logger()).unwrap();
}

#[test]
fn creating_over_an_existing_wal_is_refused() {
    let (_tmp, dir, opts, wal) = new_wal(1 << 20);
    drop(wal);
    let err = Wal::create(&dir, &opts, &logger()).unwrap_err();
    assert!(matches!(err, StorageError::WalExists { .. }), "{err}");
}

#[test]
fn opening_at_a_snapshot_without_a_marker_is_refused() {
    let (_tmp, dir, opts, mut wal) = new_wal(1 << 20);
    wal.save(Some(&hs(1, 1, 3)), &entries(1, 10, 1, 20))
        .unwrap();
    drop(wal);
    let snap = marker(5);
    let err = Wal::open_at(&dir, &snap, &opts, &logger()).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::SnapshotNotFound {
                index: 5,
                term: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn markers_beyond_the_commit_index_are_not_valid() {
    let (_tmp, dir, opts, mut wal) = new_wal(1 << 20);
    wal.save(Some(&hs(1, 1, 5)), &entries(1, 10, 1, 20))
        .unwrap();
    wal.save_snapshot(&marker(4)).unwrap();
    wal.save_snapshot(&marker(8)).unwrap();
    drop(wal);
    let markers = Wal::valid_snapshot_markers(&dir, &opts).unwrap();
    assert_eq!(markers, vec![SnapshotMetadata::default(), marker(4)]);
}

#[test]
fn segments_older_than_the_snapshot_are_released_after_reopening() {
    let (_tmp, dir, opts, mut wal) = new_wal(4096);
    save_fours(&mut wal, 30);
    let marker = marker(100);
    wal.save_snapshot(&marker).unwrap();
    // The process dies before it releases anything.
    let count = wal.segments().len();
    drop(wal);
    let (mut wal, got) = Wal::open_at(&dir, &marker, &opts, &logger()).unwrap();
    assert_eq!(got.entries, entries(101, 120, 1, 100));
    assert_eq!(wal.segments().len(), count);
    wal.release_to(100).unwrap();
    assert!(wal.segments().len() < count);
    assert_eq!(segment_files(&dir).len(), wal.segments().len());
}

#[test]
fn a_missing_middle_segment_is_named() {
    let (_tmp, dir, opts, mut wal) = new_wal(2048);
    save_fours(&mut wal, 30);
    let gone = wal.segments()[2];
    drop(wal);
    std::fs::remove_file(gone.path(&dir)).unwrap();
    let err = Wal::open_at(&dir, &SnapshotMetadata::default(), &opts, &logger()).unwrap_err();
    assert!(
        matches!(&err, StorageError::SegmentMissing { expected, .. } if *expected == gone.seq),
        "{err}"
    );
}

#[test]
fn after_a_failed_write_every_save_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("wal");
    drop(Wal::create(&dir, &options(1 << 20), &logger()).unwrap());
    // Fail the first operation after opening: the save's write.
    let probe = FaultFs::new(tmp.path(), None);
    let opts = Options {
        file_system: Arc::new(probe.clone()),
        ..options(1 << 20)
    };
    let (wal, _) = Wal::open_at(&dir, &SnapshotMetadata::default(), &opts, &logger()).unwrap();
    let opened = probe.ops();
    drop(wal);
    let fs = FaultFs::new(tmp.path(), Some(opened));
    let opts = Options {
        file_system: Arc::new(fs.clone()),
        ..options(1 << 20)
    };
    let (mut wal, _) = Wal::open_at(&dir, &SnapshotMetadata::default(), &opts, &logger()).unwrap();
    let err = wal
        .save(Some(&hs(1, 1, 0)), &entries(1, 2, 1, 10))
        .unwrap_err();
    assert!(matches!(err, StorageError::Io { op: "write", .. }), "{err}");
    let err = wal
        .save(Some(&hs(1, 1, 0)), &entries(1, 2, 1, 10))
        .unwrap_err();
    assert!(matches!(err, StorageError::Failed { .. }), "{err}");
}

#[test]
fn entries_that_would_leave_a_gap_are_refused_and_nothing_is_written() {
    let (_tmp, dir, opts, mut wal) = new_wal(1 << 20);
    wal.save(Some(&hs(1, 1, 0)), &entries(1, 3, 1, 10)).unwrap();
    let err = wal.save(None, &entries(5, 6, 1, 10)).unwrap_err();
    assert!(
        matches!(err, StorageError::EntryGap { first: 5, last: 3 }),
        "{err}"
    );
    let mut holes = entries(4, 6, 1, 10);
    holes.remove(1);
    let err = wal.save(None, &holes).unwrap_err();
    assert!(
        matches!(err, StorageError::EntryGap { first: 6, last: 4 }),
        "{err}"
    );
    // The log is untouched and still takes the right entries.
    wal.save(None, &entries(4, 4, 1, 10)).unwrap();
    // After a snapshot from a leader ahead, entries follow the snapshot.
    let mut ahead = marker(100);
    ahead.term = 2;
    wal.save_batch(
        Some(&ahead),
        Some(&hs(2, 0, 100)),
        &entries(101, 102, 2, 10),
        true,
    )
    .unwrap();
    wal.save(None, &entries(103, 103, 2, 10)).unwrap();
    drop(wal);
    let (_, got) = Wal::open_at(&dir, &ahead, &opts, &logger()).unwrap();
    assert_eq!(got.entries, entries(101, 103, 2, 10));
}

#[test]
fn synced_batches_are_counted_and_unsynced_or_empty_ones_are_not() {
    let (_tmp, _dir, _opts, mut wal) = new_wal(1 << 20);
    assert_eq!(wal.syncs(), 0);
    save_fours(&mut wal, 3);
    assert_eq!(wal.syncs(), 3);
    wal.save_batch(None, Some(&hs(1, 0, 12)), &entries(13, 14, 1, 10), false)
        .unwrap();
    // Nothing to write: nothing to sync.
    wal.save(None, &[]).unwrap();
    assert_eq!(wal.syncs(), 3);
    wal.save_snapshot(&marker(12)).unwrap();
    assert_eq!(wal.syncs(), 4);
}
