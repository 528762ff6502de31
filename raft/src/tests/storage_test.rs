//! Port of etcd's `storage_test.go`.

use bytes::Bytes;

use super::support::{index, mem_storage_with_ents, test_logger};
use crate::eraftpb::{ConfState, Entry, Snapshot, SnapshotMetadata};
use crate::errors::Error;
use crate::storage::{MemStorage, Storage};
use crate::util::ent_size as size;

#[test]
fn test_storage_term() {
    let ents = index(3).terms(&[3, 4, 5]);
    let cases: [(u64, Result<u64, Error>); 5] = [
        (2, Err(Error::Compacted)),
        (3, Ok(3)),
        (4, Ok(4)),
        (5, Ok(5)),
        (6, Err(Error::Unavailable)),
    ];
    for (i, want) in cases {
        let s = mem_storage_with_ents(ents.clone());
        assert_eq!(s.term(i), want, "term({i})");
    }
}

#[test]
fn test_storage_entries() {
    let ents = index(3).terms(&[3, 4, 5, 6]);
    let max = u64::MAX;
    let cases: Vec<(u64, u64, u64, crate::Result<Vec<Entry>>)> = vec![
        (2, 6, max, Err(Error::Compacted)),
        (3, 4, max, Err(Error::Compacted)),
        (4, 5, max, Ok(index(4).terms(&[4]))),
        (4, 6, max, Ok(index(4).terms(&[4, 5]))),
        (4, 7, max, Ok(index(4).terms(&[4, 5, 6]))),
        // Even with a zero limit, the first entry comes back.
        (4, 7, 0, Ok(index(4).terms(&[4]))),
        // Exactly two entries' worth.
        (
            4,
            7,
            size(&ents[1]) + size(&ents[2]),
            Ok(index(4).terms(&[4, 5])),
        ),
        // Two and a half entries' worth.
        (
            4,
            7,
            size(&ents[1]) + size(&ents[2]) + size(&ents[3]) / 2,
            Ok(index(4).terms(&[4, 5])),
        ),
        (
            4,
            7,
            size(&ents[1]) + size(&ents[2]) + size(&ents[3]) - 1,
            Ok(index(4).terms(&[4, 5])),
        ),
        // All of them.
        (
            4,
            7,
            size(&ents[1]) + size(&ents[2]) + size(&ents[3]),
            Ok(index(4).terms(&[4, 5, 6])),
        ),
    ];
    for (i, (lo, hi, max_size, want)) in cases.into_iter().enumerate() {
        let s = mem_storage_with_ents(ents.clone());
        assert_eq!(s.entries(lo, hi, max_size), want, "#{i}");
    }
}

#[test]
fn test_storage_last_index() {
    let mut s = mem_storage_with_ents(index(3).terms(&[3, 4, 5]));
    assert_eq!(s.last_index(), Ok(5));

    s.append(&index(6).terms(&[5])).unwrap();
    assert_eq!(s.last_index(), Ok(6));
}

#[test]
fn test_storage_first_index() {
    let mut s = mem_storage_with_ents(index(3).terms(&[3, 4, 5]));
    assert_eq!(s.first_index(), Ok(4));

    s.compact(4).unwrap();
    assert_eq!(s.first_index(), Ok(5));
}

#[test]
fn test_storage_compact() {
    let ents = index(3).terms(&[3, 4, 5]);
    let cases = [
        (2, Err(Error::Compacted), 3, 3, 3),
        (3, Err(Error::Compacted), 3, 3, 3),
        (4, Ok(()), 4, 4, 2),
        (5, Ok(()), 5, 5, 1),
    ];
    for (i, want, windex, wterm, wlen) in cases {
        let mut s = mem_storage_with_ents(ents.clone());
        assert_eq!(s.compact(i), want, "compact({i})");
        let stored = s.stored_entries();
        assert_eq!(stored[0].index, windex, "compact({i})");
        assert_eq!(stored[0].term, wterm, "compact({i})");
        assert_eq!(stored.len(), wlen, "compact({i})");
    }
}

#[test]
fn test_storage_create_snapshot() {
    let ents = index(3).terms(&[3, 4, 5]);
    let cs = ConfState {
        voters: vec![1, 2, 3],
        ..Default::default()
    };
    let data = Bytes::from_static(b"data");
    let want_snap = |index: u64, term: u64| Snapshot {
        data: data.clone(),
        metadata: SnapshotMetadata {
            conf_state: cs.clone(),
            index,
            term,
        },
    };
    let cases = [(4, Ok(want_snap(4, 4))), (5, Ok(want_snap(5, 5)))];
    for (i, want) in cases {
        let mut s = mem_storage_with_ents(ents.clone());
        assert_eq!(
            s.create_snapshot(i, Some(cs.clone()), data.clone()),
            want,
            "create_snapshot({i})"
        );
    }
}

#[test]
fn test_storage_append() {
    let ents = index(3).terms(&[3, 4, 5]);
    let cases = [
        (index(1).terms(&[1, 2]), index(3).terms(&[3, 4, 5])),
        (index(3).terms(&[3, 4, 5]), index(3).terms(&[3, 4, 5])),
        (index(3).terms(&[3, 6, 6]), index(3).terms(&[3, 6, 6])),
        (index(3).terms(&[3, 4, 5, 5]), index(3).terms(&[3, 4, 5, 5])),
        // Truncate the incoming entries, truncate the existing ones, append.
        (index(2).terms(&[3, 3, 5]), index(3).terms(&[3, 5])),
        // The new entries replace the tail of the existing ones.
        (index(4).terms(&[5]), index(3).terms(&[3, 5])),
        // A plain append.
        (index(6).terms(&[5]), index(3).terms(&[3, 4, 5, 5])),
    ];
    for (i, (entries, want)) in cases.into_iter().enumerate() {
        let mut s = mem_storage_with_ents(ents.clone());
        assert_eq!(s.append(&entries), Ok(()), "#{i}");
        assert_eq!(s.stored_entries(), want, "#{i}");
    }
}

#[test]
fn test_storage_apply_snapshot() {
    let cs = ConfState {
        voters: vec![1, 2, 3],
        ..Default::default()
    };
    let data = Bytes::from_static(b"data");
    let snap = |index: u64, term: u64| Snapshot {
        data: data.clone(),
        metadata: SnapshotMetadata {
            conf_state: cs.clone(),
            index,
            term,
        },
    };
    let cases = [
        ("normal case", vec![snap(4, 4)], Ok(())),
        (
            "snapshot out of date",
            vec![snap(4, 4), snap(3, 3)],
            Err(Error::SnapOutOfDate),
        ),
        ("bootstrap with confState", vec![snap(0, 0)], Ok(())),
    ];
    for (name, snapshots, want) in cases {
        let mut s = MemStorage::new();
        let mut res = Ok(());
        for sn in snapshots {
            res = s.apply_snapshot(sn);
        }
        assert_eq!(res, want, "{name}");
    }
}

/// Not in etcd (Go shares a `*MemoryStorage`): a log over an
/// `Arc<RwLock<MemStorage>>` or an `Rc<RefCell<MemStorage>>` sees what the
/// application writes through its own handle.
#[test]
fn test_storage_shared_handles() {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::sync::{Arc, RwLock};

    use crate::raft_log::RaftLog;

    let logger = test_logger();

    let shared = Arc::new(RwLock::new(MemStorage::new()));
    let l = RaftLog::new(Arc::clone(&shared), &logger);
    assert_eq!(l.last_index(), 0);
    shared
        .write()
        .unwrap()
        .append(&index(1).terms(&[1, 2]))
        .unwrap();
    assert_eq!(l.last_index(), 2);
    assert_eq!(l.term(2), Ok(2));

    let local = Rc::new(RefCell::new(MemStorage::new()));
    let l = RaftLog::new(Rc::clone(&local), &logger);
    local.borrow_mut().append(&index(1).terms(&[3])).unwrap();
    assert_eq!(l.last_index(), 1);
    assert_eq!(l.term(1), Ok(3));
}
