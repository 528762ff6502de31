//! Port of etcd's `log_unstable_test.go`.

use super::support::{index, snapshot, test_logger};
use crate::eraftpb::{Entry, Snapshot};
use crate::log_unstable::Unstable;
use crate::raft_log::EntryId;

/// etcd's `unstable{...}` literal; fields left out are zero.
fn unstable(
    entries: Vec<Entry>,
    offset: u64,
    offset_in_progress: u64,
    snapshot: Option<Snapshot>,
) -> Unstable {
    Unstable {
        snapshot: snapshot.map(Box::new),
        entries,
        offset,
        snapshot_in_progress: false,
        offset_in_progress,
    }
}

#[test]
fn test_unstable_maybe_first_index() {
    let cases = [
        // No snapshot.
        (index(5).terms(&[1]), 5, None, None),
        (vec![], 0, None, None),
        // With a snapshot.
        (index(5).terms(&[1]), 5, Some(snapshot(4, 1, &[])), Some(5)),
        (vec![], 5, Some(snapshot(4, 1, &[])), Some(5)),
    ];
    for (i, (entries, offset, snapshot, want)) in cases.into_iter().enumerate() {
        let u = unstable(entries, offset, 0, snapshot);
        assert_eq!(u.maybe_first_index(), want, "#{i}");
    }
}

#[test]
fn test_maybe_last_index() {
    let cases = [
        // The last entry.
        (index(5).terms(&[1]), 5, None, Some(5)),
        (index(5).terms(&[1]), 5, Some(snapshot(4, 1, &[])), Some(5)),
        // The snapshot.
        (vec![], 5, Some(snapshot(4, 1, &[])), Some(4)),
        // Empty.
        (vec![], 0, None, None),
    ];
    for (i, (entries, offset, snapshot, want)) in cases.into_iter().enumerate() {
        let u = unstable(entries, offset, 0, snapshot);
        assert_eq!(u.maybe_last_index(), want, "#{i}");
    }
}

#[test]
fn test_unstable_maybe_term() {
    let cases = [
        // The term of an entry.
        (index(5).terms(&[1]), 5, None, 5, Some(1)),
        (index(5).terms(&[1]), 5, None, 6, None),
        (index(5).terms(&[1]), 5, None, 4, None),
        (
            index(5).terms(&[1]),
            5,
            Some(snapshot(4, 1, &[])),
            5,
            Some(1),
        ),
        (index(5).terms(&[1]), 5, Some(snapshot(4, 1, &[])), 6, None),
        // The term of the snapshot.
        (
            index(5).terms(&[1]),
            5,
            Some(snapshot(4, 1, &[])),
            4,
            Some(1),
        ),
        (index(5).terms(&[1]), 5, Some(snapshot(4, 1, &[])), 3, None),
        (vec![], 5, Some(snapshot(4, 1, &[])), 5, None),
        (vec![], 5, Some(snapshot(4, 1, &[])), 4, Some(1)),
        (vec![], 0, None, 5, None),
    ];
    for (i, (entries, offset, snapshot, idx, want)) in cases.into_iter().enumerate() {
        let u = unstable(entries, offset, 0, snapshot);
        assert_eq!(u.maybe_term(idx), want, "#{i}");
    }
}

#[test]
fn test_unstable_restore() {
    let mut u = unstable(index(5).terms(&[1]), 5, 6, Some(snapshot(4, 1, &[])));
    u.snapshot_in_progress = true;
    let s = snapshot(6, 2, &[]);
    u.restore(s.clone());

    assert_eq!(u.offset, s.metadata.index + 1);
    assert_eq!(u.offset_in_progress, s.metadata.index + 1);
    assert!(u.entries.is_empty());
    assert_eq!(u.snapshot, Some(Box::new(s)));
    assert!(!u.snapshot_in_progress);
}

#[test]
fn test_unstable_next_entries() {
    let cases = [
        // Nothing in progress.
        (index(5).terms(&[1, 1]), 5, 5, index(5).terms(&[1, 1])),
        // Partly in progress.
        (index(5).terms(&[1, 1]), 5, 6, index(6).terms(&[1])),
        // Everything in progress.
        (index(5).terms(&[1, 1]), 5, 7, vec![]),
    ];
    for (i, (entries, offset, offset_in_progress, want)) in cases.into_iter().enumerate() {
        let u = unstable(entries, offset, offset_in_progress, None);
        assert_eq!(u.next_entries(), &want[..], "#{i}");
    }
}

#[test]
fn test_unstable_next_snapshot() {
    let s = snapshot(4, 1, &[]);
    let cases = [
        // No unstable snapshot.
        (None, false, None),
        // A snapshot not in progress.
        (Some(s.clone()), false, Some(&s)),
        // A snapshot in progress.
        (Some(s.clone()), true, None),
    ];
    for (i, (snapshot, in_progress, want)) in cases.into_iter().enumerate() {
        let mut u = unstable(vec![], 0, 0, snapshot);
        u.snapshot_in_progress = in_progress;
        assert_eq!(u.next_snapshot(), want, "#{i}");
    }
}

#[test]
fn test_unstable_accept_in_progress() {
    let s = || Some(snapshot(4, 1, &[]));
    let cases = [
        // No entries, snapshot not in progress yet.
        (vec![], None, 5, false, 5, false),
        // Entries not in progress.
        (index(5).terms(&[1]), None, 5, false, 6, false),
        (index(5).terms(&[1, 1]), None, 5, false, 7, false),
        // In progress up to the first entry.
        (index(5).terms(&[1, 1]), None, 6, false, 7, false),
        // In progress up to the second entry.
        (index(5).terms(&[1, 1]), None, 7, false, 7, false),
        // With a snapshot not in progress yet.
        (vec![], s(), 5, false, 5, true),
        (index(5).terms(&[1]), s(), 5, false, 6, true),
        (index(5).terms(&[1, 1]), s(), 5, false, 7, true),
        (index(5).terms(&[1, 1]), s(), 6, false, 7, true),
        (index(5).terms(&[1, 1]), s(), 7, false, 7, true),
        // With a snapshot already in progress.
        (vec![], s(), 5, true, 5, true),
        (index(5).terms(&[1]), s(), 5, true, 6, true),
        (index(5).terms(&[1, 1]), s(), 5, true, 7, true),
        (index(5).terms(&[1, 1]), s(), 6, true, 7, true),
        (index(5).terms(&[1, 1]), s(), 7, true, 7, true),
    ];
    for (i, (entries, snapshot, oip, sip, woip, wsip)) in cases.into_iter().enumerate() {
        // etcd leaves offset at zero here; only offset_in_progress matters.
        let mut u = unstable(entries, 0, oip, snapshot);
        u.snapshot_in_progress = sip;
        u.accept_in_progress();
        assert_eq!(u.offset_in_progress, woip, "#{i}");
        assert_eq!(u.snapshot_in_progress, wsip, "#{i}");
    }
}

#[test]
fn test_unstable_stable_to() {
    let cases = [
        (vec![], 0, 0, None, 5, 1, 0, 0, 0),
        // Stable up to the first entry.
        (index(5).terms(&[1]), 5, 6, None, 5, 1, 6, 6, 0),
        (index(5).terms(&[1, 1]), 5, 6, None, 5, 1, 6, 6, 1),
        // Stable up to the first entry, more in progress.
        (index(5).terms(&[1, 1]), 5, 7, None, 5, 1, 6, 7, 1),
        // Stable up to the first entry, but the term differs.
        (index(6).terms(&[2]), 6, 7, None, 6, 1, 6, 7, 1),
        // Stable up to an older entry.
        (index(5).terms(&[1]), 5, 6, None, 4, 1, 5, 6, 1),
        (index(5).terms(&[1]), 5, 6, None, 4, 2, 5, 6, 1),
        // With a snapshot: stable up to the first entry.
        (
            index(5).terms(&[1]),
            5,
            6,
            Some(snapshot(4, 1, &[])),
            5,
            1,
            6,
            6,
            0,
        ),
        (
            index(5).terms(&[1, 1]),
            5,
            6,
            Some(snapshot(4, 1, &[])),
            5,
            1,
            6,
            6,
            1,
        ),
        // Stable up to the first entry, more in progress.
        (
            index(5).terms(&[1, 1]),
            5,
            7,
            Some(snapshot(4, 1, &[])),
            5,
            1,
            6,
            7,
            1,
        ),
        // Stable up to the first entry, but the term differs.
        (
            index(6).terms(&[2]),
            6,
            7,
            Some(snapshot(5, 1, &[])),
            6,
            1,
            6,
            7,
            1,
        ),
        // Stable up to the snapshot.
        (
            index(5).terms(&[1]),
            5,
            6,
            Some(snapshot(4, 1, &[])),
            4,
            1,
            5,
            6,
            1,
        ),
        // Stable up to an older entry.
        (
            index(5).terms(&[2]),
            5,
            6,
            Some(snapshot(4, 2, &[])),
            4,
            1,
            5,
            6,
            1,
        ),
    ];
    for (i, case) in cases.into_iter().enumerate() {
        let (entries, offset, oip, snapshot, idx, term, woffset, woip, wlen) = case;
        let mut u = unstable(entries, offset, oip, snapshot);
        u.stable_to(EntryId::new(term, idx), &test_logger());
        assert_eq!(u.offset, woffset, "#{i}");
        assert_eq!(u.offset_in_progress, woip, "#{i}");
        assert_eq!(u.entries.len(), wlen, "#{i}");
    }
}

#[test]
fn test_unstable_truncate_and_append() {
    let cases = [
        // Append at the end.
        (
            index(5).terms(&[1]),
            5,
            5,
            index(6).terms(&[1, 1]),
            5,
            5,
            index(5).terms(&[1, 1, 1]),
        ),
        (
            index(5).terms(&[1]),
            5,
            6,
            index(6).terms(&[1, 1]),
            5,
            6,
            index(5).terms(&[1, 1, 1]),
        ),
        // Replace the unstable entries.
        (
            index(5).terms(&[1]),
            5,
            5,
            index(5).terms(&[2, 2]),
            5,
            5,
            index(5).terms(&[2, 2]),
        ),
        (
            index(5).terms(&[1]),
            5,
            5,
            index(4).terms(&[2, 2, 2]),
            4,
            4,
            index(4).terms(&[2, 2, 2]),
        ),
        (
            index(5).terms(&[1]),
            5,
            6,
            index(5).terms(&[2, 2]),
            5,
            5,
            index(5).terms(&[2, 2]),
        ),
        // The new entries replace the tail of the existing ones.
        (
            index(5).terms(&[1, 1, 1]),
            5,
            5,
            index(6).terms(&[2]),
            5,
            5,
            index(5).terms(&[1, 2]),
        ),
        (
            index(5).terms(&[1, 1, 1]),
            5,
            5,
            index(7).terms(&[2, 2]),
            5,
            5,
            index(5).terms(&[1, 1, 2, 2]),
        ),
        (
            index(5).terms(&[1, 1, 1]),
            5,
            6,
            index(6).terms(&[2]),
            5,
            6,
            index(5).terms(&[1, 2]),
        ),
        (
            index(5).terms(&[1, 1, 1]),
            5,
            7,
            index(6).terms(&[2]),
            5,
            6,
            index(5).terms(&[1, 2]),
        ),
    ];
    for (i, case) in cases.into_iter().enumerate() {
        let (entries, offset, oip, to_append, woffset, woip, wentries) = case;
        let mut u = unstable(entries, offset, oip, None);
        u.truncate_and_append(to_append, &test_logger());
        assert_eq!(u.offset, woffset, "#{i}");
        assert_eq!(u.offset_in_progress, woip, "#{i}");
        assert_eq!(u.entries, wentries, "#{i}");
    }
}
