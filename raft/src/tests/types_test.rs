//! Port of etcd's `types_test.go` (the `entryID` and `logSlice` types, which
//! live in `raft_log`).

use crate::eraftpb::Entry;
use crate::raft_log::{EntryId, LogSlice};

use super::support::{new_entry, new_entry_with_data};

#[test]
fn test_entry_id() {
    // Some obvious checks first.
    assert_eq!(EntryId::new(5, 10), EntryId::new(5, 10));
    assert_ne!(EntryId::new(4, 10), EntryId::new(5, 10));
    assert_ne!(EntryId::new(5, 9), EntryId::new(5, 10));

    let tests = [
        (Entry::default(), EntryId::new(0, 0)),
        (new_entry_with_data(2, 1, b"data"), EntryId::new(1, 2)),
        (new_entry(123, 10), EntryId::new(10, 123)),
    ];
    for (entry, want) in tests {
        assert_eq!(EntryId::from(&entry), want);
    }
}

#[test]
fn test_log_slice() {
    // (index, term), as etcd's helpers take them.
    let id = |index, term| EntryId::new(term, index);
    let e = new_entry;
    struct Case {
        term: u64,
        prev: EntryId,
        entries: Vec<Entry>,
        not_ok: bool,
        last: EntryId,
    }
    let case = |term, prev, entries: Vec<Entry>, not_ok, last| Case {
        term,
        prev,
        entries,
        not_ok,
        last,
    };
    let zero = EntryId::default();
    let tests = [
        // Empty "dummy" slice, starting at the (0, 0) origin of the log.
        case(0, zero, vec![], false, id(0, 0)),
        // Empty slice with a given prev; valid only if term >= prev.term.
        case(0, id(123, 10), vec![], true, zero),
        case(9, id(123, 10), vec![], true, zero),
        case(10, id(123, 10), vec![], false, id(123, 10)),
        case(11, id(123, 10), vec![], false, id(123, 10)),
        // A single entry.
        case(0, zero, vec![e(1, 1)], true, zero),
        case(1, zero, vec![e(1, 1)], false, id(1, 1)),
        case(2, zero, vec![e(1, 1)], false, id(1, 1)),
        // Multiple entries.
        case(2, zero, vec![e(2, 1), e(3, 1), e(4, 2)], true, zero),
        case(1, id(1, 1), vec![e(2, 1), e(3, 1), e(4, 2)], true, zero),
        case(
            2,
            id(1, 1),
            vec![e(2, 1), e(3, 1), e(4, 2)],
            false,
            id(4, 2),
        ),
        // First entry inconsistent with prev.
        case(10, id(123, 5), vec![e(111, 5)], true, zero),
        case(10, id(123, 5), vec![e(124, 4)], true, zero),
        case(10, id(123, 5), vec![e(234, 6)], true, zero),
        case(10, id(123, 5), vec![e(124, 6)], false, id(124, 6)),
        // Inconsistent entries.
        case(10, id(12, 2), vec![e(13, 2), e(12, 2)], true, zero),
        case(10, id(12, 2), vec![e(13, 2), e(15, 2)], true, zero),
        case(10, id(12, 2), vec![e(13, 2), e(14, 1)], true, zero),
        case(10, id(12, 2), vec![e(13, 2), e(14, 3)], false, id(14, 3)),
    ];
    for (i, tt) in tests.into_iter().enumerate() {
        let s = LogSlice {
            term: tt.term,
            prev: tt.prev,
            entries: tt.entries,
        };
        assert_eq!(s.valid().is_err(), tt.not_ok, "#{i}");
        if !tt.not_ok {
            let last = s.last_entry_id();
            assert_eq!(last, tt.last, "#{i}");
            assert_eq!(s.last_index(), last.index, "#{i}");
        }
    }
}
