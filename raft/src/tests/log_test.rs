//! Port of etcd's `log_test.go`.

use super::support::{index, new_entry, new_log, panics, snapshot, test_logger, NO_LIMIT};
use crate::eraftpb::Entry;
use crate::errors::Error;
use crate::raft_log::{EntryId, LogSlice, RaftLog};
use crate::storage::MemStorage;
use crate::util::{ent_size, ents_size};

/// A fresh storage with the snapshot `(index, term)` applied.
fn storage_at(index: u64, term: u64) -> MemStorage {
    let mut s = MemStorage::new();
    s.apply_snapshot(snapshot(index, term, &[])).unwrap();
    s
}

fn must_term(r: crate::Result<u64>) -> u64 {
    r.unwrap()
}

#[test]
fn test_find_conflict() {
    let previous = index(1).terms(&[1, 2, 3]);
    let cases: Vec<(Vec<Entry>, u64)> = vec![
        // No conflict, no entries.
        (vec![], 0),
        // No conflict.
        (index(1).terms(&[1, 2, 3]), 0),
        (index(2).terms(&[2, 3]), 0),
        (index(3).terms(&[3]), 0),
        // No conflict, but new entries.
        (index(1).terms(&[1, 2, 3, 4, 4]), 4),
        (index(2).terms(&[2, 3, 4, 5]), 4),
        (index(3).terms(&[3, 4, 4]), 4),
        (index(4).terms(&[4, 4]), 4),
        // Conflicts with existing entries.
        (index(1).terms(&[4, 4]), 1),
        (index(2).terms(&[1, 4, 4]), 2),
        (index(3).terms(&[1, 2, 4, 4]), 3),
    ];
    for (i, (ents, want)) in cases.into_iter().enumerate() {
        let mut l = new_log(MemStorage::new());
        l.append(previous.clone());
        assert_eq!(l.find_conflict(&ents), want, "#{i}");
    }
}

#[test]
fn test_find_conflict_by_term() {
    let from_one = || index(0).terms(&[0, 2, 2, 5, 5, 5]);
    let compacted = || index(10).terms(&[3, 3, 3, 4, 4, 4]);
    let cases = [
        // The log starts at index 1.
        (from_one(), 100, 2, 100), // unavailable
        (from_one(), 5, 6, 5),
        (from_one(), 5, 5, 5),
        (from_one(), 5, 4, 2),
        (from_one(), 5, 2, 2),
        (from_one(), 5, 1, 0),
        (from_one(), 1, 2, 1),
        (from_one(), 1, 1, 0),
        (from_one(), 0, 0, 0),
        // A log with compacted entries.
        (compacted(), 30, 3, 30), // unavailable
        (compacted(), 14, 9, 14),
        (compacted(), 14, 4, 14),
        (compacted(), 14, 3, 12),
        (compacted(), 14, 2, 9),
        (compacted(), 11, 5, 11),
        (compacted(), 10, 5, 10),
        (compacted(), 10, 3, 10),
        (compacted(), 10, 2, 9),
        (compacted(), 9, 2, 9), // compacted
        (compacted(), 4, 2, 4), // compacted
        (compacted(), 0, 0, 0), // compacted
    ];
    for (i, (mut ents, idx, term, want)) in cases.into_iter().enumerate() {
        // ents[0] is the (index, term) of the snapshot.
        let first = ents.remove(0);
        let mut l = new_log(storage_at(first.index, first.term));
        l.append(ents);

        let (got_index, got_term) = l.find_conflict_by_term(idx, term);
        assert_eq!(got_index, want, "#{i}");
        let want_term = l.zero_term_on_out_of_bounds(l.term(got_index));
        assert_eq!(got_term, want_term, "#{i}");
    }
}

#[test]
fn test_is_up_to_date() {
    let mut l = new_log(MemStorage::new());
    l.append(index(1).terms(&[1, 2, 3]));
    let last = l.last_index();
    let cases = [
        // A greater term wins, whatever the index.
        (last - 1, 4, true),
        (last, 4, true),
        (last + 1, 4, true),
        // A smaller term loses, whatever the index.
        (last - 1, 2, false),
        (last, 2, false),
        (last + 1, 2, false),
        // With equal terms, an equal or larger index wins.
        (last - 1, 3, false),
        (last, 3, true),
        (last + 1, 3, true),
    ];
    for (i, (last_index, term, want)) in cases.into_iter().enumerate() {
        assert_eq!(
            l.is_up_to_date(EntryId::new(term, last_index)),
            want,
            "#{i}"
        );
    }
}

#[test]
fn test_append() {
    let previous = index(1).terms(&[1, 2]);
    let cases = [
        (vec![], 2, index(1).terms(&[1, 2]), 3),
        (index(3).terms(&[2]), 3, index(1).terms(&[1, 2, 2]), 3),
        // Conflicts with index 1.
        (index(1).terms(&[2]), 1, index(1).terms(&[2]), 1),
        // Conflicts with index 2.
        (index(2).terms(&[3, 3]), 3, index(1).terms(&[1, 3, 3]), 2),
    ];
    for (i, (ents, windex, wents, wunstable)) in cases.into_iter().enumerate() {
        let mut storage = MemStorage::new();
        storage.append(&previous).unwrap();
        let mut l = new_log(storage);
        assert_eq!(l.append(ents), windex, "#{i}");
        assert_eq!(l.entries(1, NO_LIMIT), Ok(wents), "#{i}");
        assert_eq!(l.unstable.offset, wunstable, "#{i}");
    }
}

/// If the given (index, term) matches the log, an existing entry that
/// conflicts with a new one (same index, different term) is deleted with all
/// that follow it, and the new entries not yet in the log are appended. If
/// it does not match, nothing is appended.
#[test]
fn test_log_maybe_append() {
    let previous = index(1).terms(&[1, 2, 3]);
    let (last_index, last_term, commit) = (3u64, 3u64, 1u64);
    let id = EntryId::new;
    let cases = [
        // No match: the term differs.
        (
            id(last_term - 1, last_index),
            last_index,
            index(last_index + 1).terms(&[4]),
            None,
            commit,
            false,
        ),
        // No match: the index is out of bounds.
        (
            id(last_term, last_index + 1),
            last_index,
            index(last_index + 2).terms(&[4]),
            None,
            commit,
            false,
        ),
        // Matches the last entry.
        (
            id(last_term, last_index),
            last_index,
            vec![],
            Some(last_index),
            last_index,
            false,
        ),
        // The commit index does not go beyond the last new entry.
        (
            id(last_term, last_index),
            last_index + 1,
            vec![],
            Some(last_index),
            last_index,
            false,
        ),
        // Commit up to the commit index of the message.
        (
            id(last_term, last_index),
            last_index - 1,
            vec![],
            Some(last_index),
            last_index - 1,
            false,
        ),
        // The commit index never decreases.
        (
            id(last_term, last_index),
            0,
            vec![],
            Some(last_index),
            commit,
            false,
        ),
        (id(0, 0), last_index, vec![], Some(0), commit, false),
        (
            id(last_term, last_index),
            last_index,
            index(last_index + 1).terms(&[4]),
            Some(last_index + 1),
            last_index,
            false,
        ),
        (
            id(last_term, last_index),
            last_index + 1,
            index(last_index + 1).terms(&[4]),
            Some(last_index + 1),
            last_index + 1,
            false,
        ),
        // The commit index does not go beyond the last new entry.
        (
            id(last_term, last_index),
            last_index + 2,
            index(last_index + 1).terms(&[4]),
            Some(last_index + 1),
            last_index + 1,
            false,
        ),
        (
            id(last_term, last_index),
            last_index + 2,
            index(last_index + 1).terms(&[4, 4]),
            Some(last_index + 2),
            last_index + 2,
            false,
        ),
        // Matches an entry in the middle.
        (
            id(last_term - 1, last_index - 1),
            last_index,
            index(last_index).terms(&[4]),
            Some(last_index),
            last_index,
            false,
        ),
        (
            id(last_term - 2, last_index - 2),
            last_index,
            index(last_index - 1).terms(&[4]),
            Some(last_index - 1),
            last_index - 1,
            false,
        ),
        // Conflicts with a committed entry.
        (
            id(last_term - 3, last_index - 3),
            last_index,
            index(last_index - 2).terms(&[4]),
            Some(last_index - 2),
            last_index - 2,
            true,
        ),
        (
            id(last_term - 2, last_index - 2),
            last_index,
            index(last_index - 1).terms(&[4, 4]),
            Some(last_index),
            last_index,
            false,
        ),
    ];
    for (i, (prev, committed, ents, wlasti, wcommit, wpanic)) in cases.into_iter().enumerate() {
        // A leader term high enough for every case to be a valid append.
        let app = LogSlice {
            term: 100,
            prev,
            entries: ents.clone(),
        };
        assert_eq!(app.valid(), Ok(()), "#{i}");

        let mut l = new_log(MemStorage::new());
        l.append(previous.clone());
        l.committed = commit;

        let mut got = None;
        let panicked = panics(|| got = l.maybe_append(app, committed));
        assert_eq!(panicked, wpanic, "#{i}");
        if panicked {
            continue;
        }
        assert_eq!(got, wlasti, "#{i}");
        assert_eq!(l.committed, wcommit, "#{i}");
        if got.is_some() && !ents.is_empty() {
            let last = l.last_index();
            let gents = l.slice(last - ents.len() as u64 + 1, last + 1, NO_LIMIT);
            assert_eq!(gents, Ok(ents), "#{i}");
        }
    }
}

/// All log functionality works after a compaction.
#[test]
fn test_compaction_side_effects() {
    // 1000 entries: 750 in stable storage, 250 unstable.
    let last_index = 1000u64;
    let unstable_index = 750u64;
    let mut storage = MemStorage::new();
    storage
        .append(&index(1).term_range(1, unstable_index + 1))
        .unwrap();
    let mut l = new_log(storage);
    l.append(index(unstable_index + 1).term_range(unstable_index + 1, last_index + 1));

    assert!(l.maybe_commit(l.last_entry_id()));
    l.applied_to(l.committed, 0);

    let offset = 500u64;
    l.storage.compact(offset).unwrap();
    assert_eq!(l.last_index(), last_index);

    for j in offset..=l.last_index() {
        assert_eq!(must_term(l.term(j)), j);
    }
    for j in offset..=l.last_index() {
        assert!(l.match_term(EntryId::new(j, j)));
    }

    let unstable_ents = l.next_unstable_ents();
    assert_eq!(unstable_ents.len(), 250);
    assert_eq!(unstable_ents[0].index, 751);

    let prev = l.last_index();
    l.append(vec![new_entry(l.last_index() + 1, l.last_index() + 1)]);
    assert_eq!(l.last_index(), prev + 1);

    let ents = l.entries(l.last_index(), NO_LIMIT).unwrap();
    assert_eq!(ents.len(), 1);
}

/// The log of the next-committed-entries tests: a snapshot at (3, 1),
/// entries 4..=6 of term 1, 4 stable, up to 5 committed, applied up to
/// `applied` and handed out up to `applying`.
fn applying_log(max_size: u64, applied: u64) -> RaftLog<MemStorage> {
    let ents = index(4).terms(&[1, 1, 1]);
    let mut storage = storage_at(3, 1);
    storage.append(&ents[..1]).unwrap();
    let mut l = RaftLog::new_log_with_size(storage, &test_logger(), max_size);
    l.append(ents);
    l.stable_to(EntryId::new(1, 4));
    l.maybe_commit(EntryId::new(1, 5));
    l.applied_to(applied, 0);
    l
}

/// (applied, applying, allow_unstable, paused, snapshot) of the
/// next-committed-entries tests.
type ApplyCase = (u64, u64, bool, bool, bool);

const APPLY_CASES: [ApplyCase; 14] = [
    (3, 3, true, false, false),
    (3, 4, true, false, false),
    (3, 5, true, false, false),
    (4, 4, true, false, false),
    (4, 5, true, false, false),
    (5, 5, true, false, false),
    // Unstable entries not allowed.
    (3, 3, false, false, false),
    (3, 4, false, false, false),
    (3, 5, false, false, false),
    (4, 4, false, false, false),
    (4, 5, false, false, false),
    (5, 5, false, false, false),
    // Paused.
    (3, 3, true, true, false),
    // With a snapshot.
    (3, 3, true, false, true),
];

/// The log of one of `APPLY_CASES`.
fn apply_case_log(c: ApplyCase) -> RaftLog<MemStorage> {
    let (applied, applying, allow_unstable, paused, with_snap) = c;
    let mut l = applying_log(NO_LIMIT, applied);
    l.accept_applying(applying, 0, allow_unstable);
    l.applying_ents_paused = paused;
    if with_snap {
        l.restore(snapshot(4, 1, &[]));
    }
    l
}

#[test]
fn test_has_next_committed_ents() {
    let want = [
        true, true, false, true, false, false, // unstable allowed
        true, false, false, false, false, false, // not allowed
        false, // paused
        false, // snapshot
    ];
    for (i, (c, w)) in APPLY_CASES.into_iter().zip(want).enumerate() {
        let l = apply_case_log(c);
        assert_eq!(l.has_next_committed_ents(c.2), w, "#{i}");
    }
}

#[test]
fn test_next_committed_ents() {
    let ents = index(4).terms(&[1, 1, 1]);
    let want: [&[Entry]; 14] = [
        &ents[..2],
        &ents[1..2],
        &[],
        &ents[1..2],
        &[],
        &[],
        // Unstable entries not allowed.
        &ents[..1],
        &[],
        &[],
        &[],
        &[],
        &[],
        // Paused.
        &[],
        // With a snapshot.
        &[],
    ];
    for (i, (c, w)) in APPLY_CASES.into_iter().zip(want).enumerate() {
        let l = apply_case_log(c);
        assert_eq!(l.next_committed_ents(c.2), w, "#{i}");
    }
}

#[test]
fn test_accept_applying() {
    let max = 100u64;
    let cases = [
        (3, true, max - 1, true),
        (3, true, max, true),
        (3, true, max + 1, true),
        (4, true, max - 1, true),
        (4, true, max, true),
        (4, true, max + 1, true),
        (5, true, max - 1, false),
        (5, true, max, true),
        (5, true, max + 1, true),
        // Unstable entries not allowed.
        (3, false, max - 1, true),
        (3, false, max, true),
        (3, false, max + 1, true),
        (4, false, max - 1, false),
        (4, false, max, true),
        (4, false, max + 1, true),
        (5, false, max - 1, false),
        (5, false, max, true),
        (5, false, max + 1, true),
    ];
    for (i, (idx, allow_unstable, size, wpaused)) in cases.into_iter().enumerate() {
        let mut l = applying_log(max, 3);
        l.accept_applying(idx, size, allow_unstable);
        assert_eq!(l.applying_ents_paused, wpaused, "#{i}");
    }
}

#[test]
fn test_applied_to() {
    let max = 100u64;
    let overshoot = 5u64;
    let cases = [
        // Apply some of the entries being applied (applying = 5).
        (4, overshoot - 1, max + 1, true),
        (4, overshoot, max, true),
        (4, overshoot + 1, max - 1, false),
        // Apply all entries being applied.
        (5, overshoot - 1, max + 1, true),
        (5, overshoot, max, true),
        (5, overshoot + 1, max - 1, false),
        // Apply all outstanding bytes.
        (4, max + overshoot, 0, false),
        // Apply more than the outstanding bytes: the accounting does not
        // underflow.
        (4, max + overshoot + 1, 0, false),
    ];
    for (i, (idx, size, wsize, wpaused)) in cases.into_iter().enumerate() {
        let mut l = applying_log(max, 3);
        l.accept_applying(5, max + overshoot, false);

        l.applied_to(idx, size);
        assert_eq!(l.applied, idx, "#{i}");
        assert_eq!(l.applying, 5, "#{i}");
        assert_eq!(l.applying_ents_size, wsize, "#{i}");
        assert_eq!(l.applying_ents_paused, wpaused, "#{i}");
    }
}

/// `next_unstable_ents` returns the unstable part of the log.
#[test]
fn test_next_unstable_ents() {
    let previous = index(1).terms(&[1, 2]);
    let cases = [(3usize, vec![]), (1, previous.clone())];
    for (i, (unstable, want)) in cases.into_iter().enumerate() {
        // Stable entries in storage, the rest unstable in the log.
        let mut storage = MemStorage::new();
        storage.append(&previous[..unstable - 1]).unwrap();
        let mut l = new_log(storage);
        l.append(previous[unstable - 1..].to_vec());

        let ents = l.next_unstable_ents().to_vec();
        if let Some(last) = ents.last() {
            l.stable_to(EntryId::from(last));
        }
        assert_eq!(ents, want, "#{i}");
        assert_eq!(
            l.unstable.offset,
            previous.last().unwrap().index + 1,
            "#{i}"
        );
    }
}

#[test]
fn test_commit_to() {
    let previous = index(1).terms(&[1, 2, 3]);
    let commit = 2u64;
    let cases = [
        (3, 3, false),
        // Never decreases.
        (1, 2, false),
        // Out of range: panics.
        (4, 0, true),
    ];
    for (i, (to, wcommit, wpanic)) in cases.into_iter().enumerate() {
        let mut l = new_log(MemStorage::new());
        l.append(previous.clone());
        l.committed = commit;
        let panicked = panics(|| l.commit_to(to));
        assert_eq!(panicked, wpanic, "#{i}");
        if !panicked {
            assert_eq!(l.committed, wcommit, "#{i}");
        }
    }
}

#[test]
fn test_stable_to() {
    let cases = [
        (1, 1, 2),
        (2, 2, 3),
        // Wrong term.
        (2, 1, 1),
        // Wrong index.
        (3, 1, 1),
    ];
    for (i, (stablei, stablet, wunstable)) in cases.into_iter().enumerate() {
        let mut l = new_log(MemStorage::new());
        l.append(index(1).terms(&[1, 2]));
        l.stable_to(EntryId::new(stablet, stablei));
        assert_eq!(l.unstable.offset, wunstable, "#{i}");
    }
}

#[test]
fn test_stable_to_with_snap() {
    let (si, st) = (5u64, 2u64);
    let more = || index(si + 1).terms(&[st]);
    let cases = [
        (si + 1, st, vec![], si + 1),
        (si, st, vec![], si + 1),
        (si - 1, st, vec![], si + 1),
        (si + 1, st + 1, vec![], si + 1),
        (si, st + 1, vec![], si + 1),
        (si - 1, st + 1, vec![], si + 1),
        (si + 1, st, more(), si + 2),
        (si, st, more(), si + 1),
        (si - 1, st, more(), si + 1),
        (si + 1, st + 1, more(), si + 1),
        (si, st + 1, more(), si + 1),
        (si - 1, st + 1, more(), si + 1),
    ];
    for (i, (stablei, stablet, new_ents, wunstable)) in cases.into_iter().enumerate() {
        let mut l = new_log(storage_at(si, st));
        l.append(new_ents);
        l.stable_to(EntryId::new(stablet, stablei));
        assert_eq!(l.unstable.offset, wunstable, "#{i}");
    }
}

/// The number of entries left is right after compactions.
#[test]
fn test_compaction() {
    let cases: [(u64, &[u64], &[usize], bool); 3] = [
        // Beyond the upper bound.
        (1000, &[1001], &[0], false),
        (1000, &[300, 500, 800, 900], &[700, 500, 200, 100], true),
        // Below the lower bound.
        (1000, &[300, 299], &[700, 0], false),
    ];
    for (i, (last_index, compact, wleft, wallow)) in cases.into_iter().enumerate() {
        let mut storage = MemStorage::new();
        storage
            .append(&index(1).term_range(1, last_index + 1))
            .unwrap();
        let mut l = new_log(storage);
        // A no-op, as in etcd: term 0 never matches.
        l.maybe_commit(EntryId::new(0, last_index));
        l.applied_to(l.committed, 0);

        let panicked = panics(|| {
            for (j, &c) in compact.iter().enumerate() {
                if l.storage.compact(c).is_err() {
                    assert!(!wallow, "#{i}.{j}");
                    continue;
                }
                assert_eq!(l.all_entries().len(), wleft[j], "#{i}.{j}");
            }
        });
        // Only a disallowed compaction may panic.
        assert!(!(panicked && wallow), "#{i}");
    }
}

#[test]
fn test_log_restore() {
    let (idx, term) = (1000u64, 1000u64);
    let l = new_log(storage_at(idx, term));

    assert!(l.all_entries().is_empty());
    assert_eq!(l.first_index(), idx + 1);
    assert_eq!(l.committed, idx);
    assert_eq!(l.unstable.offset, idx + 1);
    assert_eq!(must_term(l.term(idx)), term);
}

#[test]
fn test_is_out_of_bounds() {
    let (offset, num) = (100u64, 100u64);
    let mut l = new_log(storage_at(offset, 0));
    l.append(index(offset + 1).term_range(offset + 1, offset + num + 1));

    let first = offset + 1;
    let cases = [
        (first - 2, first + 1, false, true),
        (first - 1, first + 1, false, true),
        (first, first, false, false),
        (first + num / 2, first + num / 2, false, false),
        (first + num - 1, first + num - 1, false, false),
        (first + num, first + num, false, false),
        (first + num, first + num + 1, true, false),
        (first + num + 1, first + num + 1, true, false),
    ];
    for (i, (lo, hi, wpanic, wcompacted)) in cases.into_iter().enumerate() {
        let mut res = Ok(());
        let panicked = panics(|| res = l.must_check_out_of_bounds(lo, hi));
        assert_eq!(panicked, wpanic, "#{i}");
        if !panicked {
            let want = if wcompacted {
                Err(Error::Compacted)
            } else {
                Ok(())
            };
            assert_eq!(res, want, "#{i}");
        }
    }
}

#[test]
fn test_term() {
    let (offset, num) = (100u64, 100u64);
    let mut l = new_log(storage_at(offset, 1));
    l.append(index(offset + 1).term_range(1, num));

    let cases = [
        (offset - 1, Err(Error::Compacted)),
        (offset, Ok(1)),
        (offset + num / 2, Ok(num / 2)),
        (offset + num - 1, Ok(num - 1)),
        (offset + num, Err(Error::Unavailable)),
    ];
    for (i, (idx, want)) in cases.into_iter().enumerate() {
        assert_eq!(l.term(idx), want, "#{i}");
    }
}

#[test]
fn test_term_with_unstable_snapshot() {
    let storage_snap_i = 100u64;
    let unstable_snap_i = storage_snap_i + 5;

    let mut l = new_log(storage_at(storage_snap_i, 1));
    l.restore(snapshot(unstable_snap_i, 1, &[]));

    let cases = [
        // Not from storage.
        (storage_snap_i, Err(Error::Compacted)),
        // Not from the gap between storage and the unstable snapshot.
        (storage_snap_i + 1, Err(Error::Compacted)),
        (unstable_snap_i - 1, Err(Error::Compacted)),
        // From the unstable snapshot.
        (unstable_snap_i, Ok(1)),
        // Nothing beyond the unstable snapshot.
        (unstable_snap_i + 1, Err(Error::Unavailable)),
    ];
    for (i, (idx, want)) in cases.into_iter().enumerate() {
        assert_eq!(l.term(idx), want, "#{i}");
    }
}

#[test]
fn test_slice() {
    // etcd starts at 100, where its entries (which set the type field
    // explicitly) still differ in size from `halfe` by the varint width of
    // index and term. We do not encode a zero type, so those widths would
    // decide the cases; from 1000 on all entries have the same size, which
    // is what the limits below are written against.
    let (offset, num) = (1000u64, 100u64);
    let last = offset + num;
    let half = offset + num / 2;
    let halfe = new_entry(half, half);
    let entries = |from: u64, to: u64| index(from).term_range(from, to);

    let mut storage = storage_at(offset, 0);
    storage.append(&entries(offset + 1, half)).unwrap();
    let mut l = new_log(storage);
    l.append(entries(half, last));

    let size = ent_size(&halfe);
    let no = NO_LIMIT;
    // (lo, hi, limit, want, wpanic)
    let cases: Vec<(u64, u64, u64, Vec<Entry>, bool)> = vec![
        // Compacted.
        (offset - 1, offset + 1, no, vec![], false),
        (offset, offset + 1, no, vec![], false),
        // Panics: lo and hi inverted, hi out of bounds.
        (half, half - 1, no, vec![], true),
        (last, last + 1, no, vec![], true),
        // No limit.
        (offset + 1, offset + 1, no, vec![], false),
        (
            offset + 1,
            half - 1,
            no,
            entries(offset + 1, half - 1),
            false,
        ),
        (offset + 1, half, no, entries(offset + 1, half), false),
        (
            offset + 1,
            half + 1,
            no,
            entries(offset + 1, half + 1),
            false,
        ),
        (offset + 1, last, no, entries(offset + 1, last), false),
        (half - 1, half, no, entries(half - 1, half), false),
        (half - 1, half + 1, no, entries(half - 1, half + 1), false),
        (half - 1, last, no, entries(half - 1, last), false),
        (half, half + 1, no, entries(half, half + 1), false),
        (half, last, no, entries(half, last), false),
        (last - 1, last, no, entries(last - 1, last), false),
        // At least one entry comes back.
        (offset + 1, last, 0, entries(offset + 1, offset + 2), false),
        (half - 1, half + 1, 0, entries(half - 1, half), false),
        (half, last, 0, entries(half, half + 1), false),
        (half + 1, last, 0, entries(half + 1, half + 2), false),
        // A low limit.
        (
            offset + 1,
            last,
            size - 1,
            entries(offset + 1, offset + 2),
            false,
        ),
        (half - 1, half + 1, size - 1, entries(half - 1, half), false),
        (half, last, size - 1, entries(half, half + 1), false),
        // Just enough for one.
        (
            offset + 1,
            last,
            size,
            entries(offset + 1, offset + 2),
            false,
        ),
        (half - 1, half + 1, size, entries(half - 1, half), false),
        (half, last, size, entries(half, half + 1), false),
        // Not enough for two.
        (
            offset + 1,
            last,
            size + 1,
            entries(offset + 1, offset + 2),
            false,
        ),
        (half - 1, half + 1, size + 1, entries(half - 1, half), false),
        (half, last, size + 1, entries(half, half + 1), false),
        // Enough for two.
        (
            offset + 1,
            last,
            size * 2,
            entries(offset + 1, offset + 3),
            false,
        ),
        (half - 2, half + 1, size * 2, entries(half - 2, half), false),
        (
            half - 1,
            half + 1,
            size * 2,
            entries(half - 1, half + 1),
            false,
        ),
        (half, last, size * 2, entries(half, half + 2), false),
        // Not enough for three.
        (
            half - 2,
            half + 1,
            size * 3 - 1,
            entries(half - 2, half),
            false,
        ),
        // Enough for three.
        (
            half - 1,
            half + 2,
            size * 3,
            entries(half - 1, half + 2),
            false,
        ),
    ];
    for (i, (lo, hi, lim, want, wpanic)) in cases.into_iter().enumerate() {
        let mut res = Ok(vec![]);
        let panicked = panics(|| res = l.slice(lo, hi, lim));
        assert_eq!(panicked, wpanic, "#{i}");
        if panicked {
            continue;
        }
        if lo <= offset {
            assert_eq!(res, Err(Error::Compacted), "#{i}");
        } else {
            assert_eq!(res, Ok(want), "#{i}");
        }
    }
}

#[test]
fn test_scan() {
    let (offset, num) = (47u64, 20u64);
    let last = offset + num;
    let half = offset + num / 2;
    let entries = |from: u64, to: u64| index(from).term_range(from, to);
    let entry_size = ents_size(&entries(half, half + 1));

    let mut storage = storage_at(offset, 0);
    storage.append(&entries(offset + 1, half)).unwrap();
    let mut l = new_log(storage);
    l.append(entries(half, last));

    // Whatever the bounds and page size, the pages scan() yields add up to
    // what one slice() call returns.
    for page_size in [0, 1, 10, 100, entry_size, entry_size + 1] {
        for lo in offset + 1..last {
            for hi in lo..=last {
                let mut got = vec![];
                let res: Result<(), Error> = l.scan(lo, hi, page_size, |e| {
                    got.extend_from_slice(e);
                    assert!(e.len() == 1 || ents_size(e) <= page_size);
                    Ok(())
                });
                assert_eq!(res, Ok(()));
                let want = l.slice(lo, hi, NO_LIMIT).unwrap();
                assert_eq!(
                    got, want,
                    "scan() and slice() mismatch on [{lo}, {hi}) @ {page_size}"
                );
            }
        }
    }

    // The callback's error reaches the caller; `None` stands for etcd's
    // errBreak.
    let mut iters = 0;
    let res: Result<(), Option<Error>> = l.scan(offset + 1, half, 0, |_| {
        iters += 1;
        if iters == 2 {
            return Err(None);
        }
        Ok(())
    });
    assert_eq!(res, Err(None));
    assert_eq!(iters, 2);

    // Pages fill up to the limit rather than holding a single entry. This
    // works only because the range has an even length.
    let res: Result<(), Error> = l.scan(offset + 1, offset + 11, entry_size * 2, |ents| {
        assert_eq!(ents.len(), 2);
        assert_eq!(ents_size(ents), entry_size * 2);
        Ok(())
    });
    assert_eq!(res, Ok(()));
}
