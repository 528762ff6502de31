//! DiskStorage: opening, persisting Readys from a real RawNode, snapshots,
//! compaction, reopening; and the three cases users of other raft storages
//! were bitten by.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::fault_fs::FaultFs;
use common::{entries, hs, logger, options};
use etcdraft_storage::{DiskStorage, Options, Snapshotter, StorageError, Wal};
use prost::Message;
use raft::eraftpb::{ConfChange, ConfState, EntryType, MessageType, Snapshot, SnapshotMetadata};
use raft::{Config, Peer, RawNode, Storage};

fn voters(ids: &[u64]) -> ConfState {
    ConfState {
        voters: ids.to_vec(),
        ..Default::default()
    }
}

/// Drives a single-node group: each Ready is persisted before anything
/// else, and the normal entries it commits are collected.
fn drain(node: &mut RawNode<DiskStorage>, storage: &DiskStorage, applied: &mut Vec<Bytes>) {
    while node.has_ready() {
        let rd = node.ready();
        storage.persist(&rd).unwrap();
        assert!(rd.messages.is_empty(), "a group of one sends nothing");
        for e in &rd.committed_entries {
            match e.get_type() {
                EntryType::EntryNormal if !e.data.is_empty() => applied.push(e.data.clone()),
                EntryType::EntryConfChange => {
                    let cc = ConfChange::decode(e.data.clone()).unwrap();
                    node.apply_conf_change(&cc).unwrap();
                }
                _ => {}
            }
        }
        node.advance();
    }
}

#[test]
fn a_single_node_keeps_its_log_across_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("node");
    let opts = options(8192);
    let storage = DiskStorage::open(&dir, &opts, &logger()).unwrap();
    assert!(storage.is_new());
    let mut node = RawNode::new(&Config::new(1), storage.clone(), &logger()).unwrap();
    node.bootstrap(&[Peer {
        id: 1,
        context: Bytes::new(),
    }])
    .unwrap();
    let mut applied = Vec::new();
    drain(&mut node, &storage, &mut applied);
    node.campaign().unwrap();
    drain(&mut node, &storage, &mut applied);
    for i in 0..100 {
        node.propose(format!("put {i}")).unwrap();
        drain(&mut node, &storage, &mut applied);
    }
    assert_eq!(applied.len(), 100);
    let last = storage.last_index().unwrap();
    let hard = storage.hard_state();
    let log = storage.entries(1, last + 1, u64::MAX).unwrap();
    drop(node);
    drop(storage);

    let storage = DiskStorage::open(&dir, &opts, &logger()).unwrap();
    assert!(!storage.is_new());
    assert_eq!(storage.last_index().unwrap(), last);
    assert_eq!(storage.hard_state(), hard);
    assert_eq!(storage.entries(1, last + 1, u64::MAX).unwrap(), log);

    // The node restarts from disk: the application, which keeps no state
    // of its own, is handed the whole committed log again (conf changes
    // included, which give the node its voters back), and goes on.
    let mut node = RawNode::new(&Config::new(1), storage.clone(), &logger()).unwrap();
    let mut after = Vec::new();
    drain(&mut node, &storage, &mut after);
    assert_eq!(after, applied);
    node.campaign().unwrap();
    drain(&mut node, &storage, &mut after);
    node.propose("after restart").unwrap();
    drain(&mut node, &storage, &mut after);
    assert_eq!(after.len(), 101);
    assert_eq!(after[100], Bytes::from("after restart"));

    // A snapshot and a compaction survive a restart too.
    let applied_index = storage.hard_state().commit;
    let snap = storage
        .create_snapshot(applied_index, voters(&[1]), Bytes::from("state"))
        .unwrap();
    assert_eq!(snap.metadata.index, applied_index);
    storage.compact(applied_index - 10).unwrap();
    assert_eq!(storage.first_index().unwrap(), applied_index - 9);
    drop(node);
    drop(storage);
    let storage = DiskStorage::open(&dir, &opts, &logger()).unwrap();
    let got = storage.snapshot().unwrap();
    assert_eq!(got, snap);
    assert_eq!(storage.first_index().unwrap(), applied_index + 1);
    assert_eq!(storage.last_index().unwrap(), applied_index);
    RawNode::new(&Config::new(1), storage, &logger()).unwrap();
}

#[test]
fn a_directory_in_use_cannot_be_opened_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(8192);
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    let err = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap_err();
    assert!(matches!(err, StorageError::Locked { .. }), "{err}");
    drop(storage);
    DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
}

#[test]
fn persisting_entries_with_a_gap_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(8192);
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    storage
        .persist_parts(Some(&hs(1, 1, 0)), &entries(1, 3, 1, 10), None, true)
        .unwrap();
    let err = storage
        .persist_parts(None, &entries(5, 6, 1, 10), None, true)
        .unwrap_err();
    assert!(
        matches!(err, StorageError::EntryGap { first: 5, last: 3 }),
        "{err}"
    );
    let err = storage.compact(2).unwrap_err();
    assert!(
        matches!(err, StorageError::CompactBeyondSnapshot { .. }),
        "{err}"
    );
    let err = storage
        .create_snapshot(9, ConfState::default(), Bytes::new())
        .unwrap_err();
    assert!(
        matches!(err, StorageError::BeyondLog { index: 9, last: 3 }),
        "{err}"
    );
    drop(storage);
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    assert_eq!(storage.last_index().unwrap(), 3);
}

/// A closed data directory holding entries `1..=last` (all committed) and a
/// snapshot at `snap` whose data is "at <snap>", in one segment.
fn log_with_snapshot(last: u64, snap: u64) -> (tempfile::TempDir, Options) {
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(1 << 20);
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    storage
        .persist_parts(Some(&hs(1, 1, last)), &entries(1, last, 1, 10), None, true)
        .unwrap();
    storage
        .create_snapshot(snap, voters(&[1]), Bytes::from(format!("at {snap}")))
        .unwrap();
    (tmp, opts)
}

/// etcd raftexample PR 12691: the WAL recorded a snapshot whose file never
/// made it to disk; restoring the older snapshot and replaying the WAL from
/// the newer index lost the entries in between. The newest snapshot with a
/// file and a marker must be loaded, and the WAL replayed from *its* index.
#[test]
fn a_wal_marker_without_its_snapshot_file_falls_back_to_the_older_snapshot() {
    let (tmp, opts) = log_with_snapshot(30, 10);
    // The crash of PR 12691: the marker of a snapshot at 20 reached the WAL,
    // its file did not.
    let marker = SnapshotMetadata {
        index: 20,
        term: 1,
        conf_state: voters(&[1]),
    };
    let markers = {
        let wal_dir = tmp.path().join("wal");
        let (mut wal, _) = Wal::open_at(
            &wal_dir,
            &SnapshotMetadata {
                index: 10,
                term: 1,
                conf_state: voters(&[1]),
            },
            &opts,
            &logger(),
        )
        .unwrap();
        wal.save_snapshot(&marker).unwrap();
        drop(wal);
        Wal::valid_snapshot_markers(&wal_dir, &opts).unwrap()
    };
    assert!(markers.contains(&marker));

    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    let snap = storage.snapshot().unwrap();
    assert_eq!(
        (snap.metadata.index, snap.data.as_ref()),
        (10, b"at 10".as_ref())
    );
    assert_eq!(storage.first_index().unwrap(), 11);
    assert_eq!(storage.last_index().unwrap(), 30);
    assert_eq!(
        storage.entries(11, 31, u64::MAX).unwrap(),
        entries(11, 30, 1, 10)
    );
}

/// etcd issue 7056: the WAL was replayed from its beginning rather than from
/// the snapshot, so entries the snapshot covers were applied again. The
/// entries given to raft must start right after the snapshot, although the
/// WAL still holds older ones.
#[test]
fn the_wal_is_replayed_from_the_snapshot_not_from_its_beginning() {
    let (tmp, opts) = log_with_snapshot(40, 25);
    // One segment holds everything: nothing was released, entries 1..25 are
    // still in the WAL.
    let wal_files = common::segment_files(&tmp.path().join("wal"));
    assert_eq!(wal_files.len(), 1);

    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    assert_eq!(storage.snapshot().unwrap().metadata.index, 25);
    assert_eq!(storage.first_index().unwrap(), 26);
    assert!(matches!(
        storage.entries(25, 27, u64::MAX),
        Err(raft::Error::Compacted)
    ));
    assert_eq!(
        storage.entries(26, 41, u64::MAX).unwrap(),
        entries(26, 40, 1, 10)
    );
    // A node restarted with the snapshot's index as applied index is handed
    // exactly the entries after it.
    let config = Config {
        applied: 25,
        ..Config::new(1)
    };
    let mut node = RawNode::new(&config, storage.clone(), &logger()).unwrap();
    let rd = node.ready();
    let first = rd.committed_entries.first().map(|e| e.index);
    assert_eq!(first, Some(26));
}

/// canonical/raft issue 199: after repeated kills the last entry on disk was
/// behind the last snapshot's index and the node could not start. A snapshot
/// installed from a leader far ahead leaves the WAL's entries behind its
/// index; the node must start with its log at the snapshot.
#[test]
fn a_node_starts_when_its_last_entry_on_disk_is_behind_the_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(4096);
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    storage
        .persist_parts(Some(&hs(1, 1, 5)), &entries(1, 10, 1, 10), None, true)
        .unwrap();
    let snap = Snapshot {
        data: Bytes::from("from the leader"),
        metadata: SnapshotMetadata {
            index: 1000,
            term: 3,
            conf_state: voters(&[1, 2, 3]),
        },
    };
    storage
        .persist_parts(Some(&hs(3, 0, 1000)), &[], Some(&snap), true)
        .unwrap();
    // Killed right after: nothing else was written.
    drop(storage);

    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    assert_eq!(storage.snapshot().unwrap(), snap);
    assert_eq!(storage.last_index().unwrap(), 1000);
    assert_eq!(storage.first_index().unwrap(), 1001);
    assert_eq!(storage.term(1000).unwrap(), 3);
    let mut node = RawNode::new(&Config::new(1), storage.clone(), &logger()).unwrap();
    assert_eq!(node.status().commit(), 1000);
    // And it goes on from there: entries after the snapshot are kept.
    storage
        .persist_parts(
            Some(&hs(3, 0, 1001)),
            &entries(1001, 1002, 3, 10),
            None,
            true,
        )
        .unwrap();
    node.tick();
    drop(node);
    drop(storage);
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    assert_eq!(storage.last_index().unwrap(), 1002);
    assert_eq!(
        Snapshotter::new(&tmp.path().join("snap"), &opts, &logger())
            .unwrap()
            .list()
            .unwrap()
            .len(),
        1
    );
}

/// One write and one fsync per Ready, however many entries it holds; none
/// when raft says the Ready need not be synced; a snapshot adds its own
/// file's write, fsync, rename and directory fsync.
#[test]
fn a_ready_costs_one_write_and_at_most_one_fsync() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = FaultFs::new(tmp.path(), None);
    let opts = Options {
        file_system: Arc::new(fs.clone()),
        ..options(1 << 20)
    };
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    let counts = || (fs.count("write"), fs.count("sync"), fs.count("sync dir"));
    let before = counts();
    storage
        .persist_parts(Some(&hs(1, 1, 0)), &entries(1, 500, 1, 128), None, true)
        .unwrap();
    assert_eq!(counts(), (before.0 + 1, before.1 + 1, before.2));
    storage
        .persist_parts(Some(&hs(1, 1, 500)), &[], None, false)
        .unwrap();
    assert_eq!(counts(), (before.0 + 2, before.1 + 1, before.2));
    let snap = Snapshot {
        data: Bytes::from("state"),
        metadata: SnapshotMetadata {
            index: 900,
            term: 2,
            conf_state: voters(&[1]),
        },
    };
    storage
        .persist_parts(
            Some(&hs(2, 0, 900)),
            &entries(901, 910, 2, 128),
            Some(&snap),
            false,
        )
        .unwrap();
    // The snapshot file (write, fsync, directory fsync), then one WAL batch
    // with one fsync (a snapshot is always synced); the log has one segment,
    // so nothing is released.
    assert_eq!(counts(), (before.0 + 4, before.1 + 3, before.2 + 1));
    drop(storage);
    let storage = DiskStorage::open(tmp.path(), &options(1 << 20), &logger()).unwrap();
    assert_eq!(storage.last_index().unwrap(), 910);
}

#[test]
fn disk_storage_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<DiskStorage>();
}

/// With asynchronous storage writes, the MsgStorageAppend messages carry
/// what to persist; persisting them before delivering their responses keeps
/// the log across a restart as the synchronous path does.
#[test]
fn storage_append_messages_of_async_writes_are_persisted() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(8192);
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    let config = Config {
        async_storage_writes: true,
        ..Config::new(1)
    };
    let mut node = RawNode::new(&config, storage.clone(), &logger()).unwrap();
    node.bootstrap(&[Peer {
        id: 1,
        context: Bytes::new(),
    }])
    .unwrap();
    let mut applied = Vec::new();
    let mut run = |node: &mut RawNode<DiskStorage>| {
        while node.has_ready() {
            let rd = node.ready();
            for m in rd.messages {
                match m.get_type() {
                    MessageType::MsgStorageAppend => storage.persist_append(&m).unwrap(),
                    MessageType::MsgStorageApply => {
                        for e in &m.entries {
                            match e.get_type() {
                                EntryType::EntryNormal if !e.data.is_empty() => {
                                    applied.push(e.data.clone())
                                }
                                EntryType::EntryConfChange => {
                                    let cc = ConfChange::decode(e.data.clone()).unwrap();
                                    node.apply_conf_change(&cc).unwrap();
                                }
                                _ => {}
                            }
                        }
                    }
                    t => panic!("a group of one sends no {t:?}"),
                }
                for r in m.responses {
                    node.step(r).unwrap();
                }
            }
        }
    };
    run(&mut node);
    node.campaign().unwrap();
    run(&mut node);
    for i in 0..20 {
        node.propose(format!("async {i}")).unwrap();
        run(&mut node);
    }
    assert_eq!(applied.len(), 20);
    let (last, hard) = (storage.last_index().unwrap(), storage.hard_state());
    assert_eq!(hard.commit, last);
    drop(node);
    drop(storage);
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    assert_eq!(
        (storage.last_index().unwrap(), storage.hard_state()),
        (last, hard)
    );
    let data: Vec<Bytes> = storage
        .entries(1, last + 1, u64::MAX)
        .unwrap()
        .into_iter()
        .filter(|e| e.get_type() == EntryType::EntryNormal && !e.data.is_empty())
        .map(|e| e.data)
        .collect();
    assert_eq!(data, applied);
}

#[test]
fn an_older_snapshot_is_refused_before_anything_is_written() {
    let (tmp, opts) = log_with_snapshot(30, 10);
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    storage.compact(5).unwrap();
    let old = Snapshot {
        data: Bytes::from("old"),
        metadata: SnapshotMetadata {
            index: 8,
            term: 1,
            conf_state: voters(&[1]),
        },
    };
    let err = storage
        .persist_parts(Some(&hs(1, 1, 30)), &[], Some(&old), true)
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::SnapshotOutOfDate {
                index: 8,
                current: 10
            }
        ),
        "{err}"
    );
    let names = Snapshotter::new(&tmp.path().join("snap"), &opts, &logger())
        .unwrap()
        .list()
        .unwrap();
    assert_eq!(names.len(), 1);
    assert_eq!(storage.last_index().unwrap(), 30);
}

#[test]
fn the_metadata_given_at_creation_is_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = Options {
        metadata: Bytes::from("cluster 7, node 1"),
        ..options(4096)
    };
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    assert_eq!(storage.metadata(), &opts.metadata);
    // Enough to roll over: every segment repeats the metadata.
    for b in 0..20 {
        storage
            .persist_parts(
                Some(&hs(1, 1, b * 4)),
                &entries(b * 4 + 1, b * 4 + 4, 1, 100),
                None,
                true,
            )
            .unwrap();
    }
    drop(storage);
    let storage = DiskStorage::open(tmp.path(), &options(4096), &logger()).unwrap();
    assert_eq!(storage.metadata(), &Bytes::from("cluster 7, node 1"));
    assert_eq!(storage.last_index().unwrap(), 80);
}

#[test]
fn a_directory_left_empty_by_a_crash_is_still_new() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(4096);
    // Killed right after creating its WAL, before persisting anything.
    drop(DiskStorage::open(tmp.path(), &opts, &logger()).unwrap());
    let storage = DiskStorage::open(tmp.path(), &opts, &logger()).unwrap();
    assert!(storage.is_new());
    storage
        .persist_parts(Some(&hs(1, 0, 0)), &entries(1, 1, 1, 10), None, true)
        .unwrap();
    drop(storage);
    assert!(!DiskStorage::open(tmp.path(), &opts, &logger())
        .unwrap()
        .is_new());
}
