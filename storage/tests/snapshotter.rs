//! Snapshot files: saved durably, loaded back, passed over without a WAL
//! marker, set aside as `*.broken` when damaged, purged beyond a count.

mod common;

use bytes::Bytes;
use common::{logger, options};
use etcdraft_storage::snapshotter::decode_snapshot_file;
use etcdraft_storage::{Snapshotter, StorageError};
use raft::eraftpb::{ConfState, Snapshot, SnapshotMetadata};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn snap(index: u64, term: u64) -> Snapshot {
    Snapshot {
        data: Bytes::from(format!("state at {index}").repeat(10)),
        metadata: SnapshotMetadata {
            conf_state: ConfState {
                voters: vec![1, 2, 3],
                ..Default::default()
            },
            index,
            term,
        },
    }
}

fn marker(s: &Snapshot) -> SnapshotMetadata {
    s.metadata.clone()
}

#[test]
fn the_newest_snapshot_with_a_marker_is_loaded() {
    let tmp = tempfile::tempdir().unwrap();
    let ss = Snapshotter::new(tmp.path(), &options(1 << 20), &logger()).unwrap();
    let (a, b, c) = (snap(10, 1), snap(20, 2), snap(30, 2));
    for s in [&a, &b, &c] {
        ss.save(s).unwrap();
    }
    assert_eq!(ss.list().unwrap().len(), 3);
    // c was written but its marker never reached the WAL.
    let got = ss.load_newest(&[marker(&a), marker(&b)]).unwrap();
    assert_eq!(got, Some(b.clone()));
    assert_eq!(ss.load_newest(&[]).unwrap(), None);
    // Nothing was set aside: c is fine, just not recorded.
    assert_eq!(ss.list().unwrap().len(), 3);
}

#[test]
fn a_damaged_snapshot_is_set_aside_and_the_older_one_loaded() {
    let tmp = tempfile::tempdir().unwrap();
    let ss = Snapshotter::new(tmp.path(), &options(1 << 20), &logger()).unwrap();
    let (a, b) = (snap(10, 1), snap(20, 2));
    ss.save(&a).unwrap();
    ss.save(&b).unwrap();
    let path = tmp.path().join(format!("{:016x}-{:016x}.snap", 2, 20));
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();

    let err = ss.load(ss.list().unwrap()[0]).unwrap_err();
    assert!(
        matches!(&err, StorageError::Corrupt { path: p, offset: 8, .. } if *p == path),
        "{err}"
    );
    let got = ss.load_newest(&[marker(&a), marker(&b)]).unwrap();
    assert_eq!(got, Some(a));
    assert!(!path.exists());
    assert!(tmp
        .path()
        .join(format!("{:016x}-{:016x}.snap.broken", 2, 20))
        .exists());
}

#[test]
fn purge_keeps_the_newest() {
    let tmp = tempfile::tempdir().unwrap();
    let ss = Snapshotter::new(tmp.path(), &options(1 << 20), &logger()).unwrap();
    for i in 1..=6 {
        ss.save(&snap(i * 10, 1)).unwrap();
    }
    ss.purge(2).unwrap();
    let left: Vec<u64> = ss.list().unwrap().iter().map(|n| n.index).collect();
    assert_eq!(left, vec![60, 50]);
}

#[test]
fn left_over_temp_files_are_removed() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path()
            .join("0000000000000001-0000000000000005.snap.tmp"),
        b"half",
    )
    .unwrap();
    let ss = Snapshotter::new(tmp.path(), &options(1 << 20), &logger()).unwrap();
    assert!(std::fs::read_dir(tmp.path()).unwrap().next().is_none());
    assert!(ss.list().unwrap().is_empty());
}

#[test]
fn every_flipped_bit_of_a_snapshot_file_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let ss = Snapshotter::new(tmp.path(), &options(1 << 20), &logger()).unwrap();
    ss.save(&snap(10, 1)).unwrap();
    let bytes = std::fs::read(tmp.path().join(format!("{:016x}-{:016x}.snap", 1, 10))).unwrap();
    assert_eq!(decode_snapshot_file(&bytes).unwrap(), snap(10, 1));
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..500 {
        let mut b = bytes.clone();
        let i = rng.random_range(0..b.len());
        b[i] ^= 1 << rng.random_range(0..8);
        let (offset, _) = decode_snapshot_file(&b).unwrap_err();
        assert!(offset <= i as u64);
        // Cut short anywhere.
        let cut = rng.random_range(0..bytes.len());
        assert!(decode_snapshot_file(&bytes[..cut]).is_err());
    }
}
