//! Shared helpers for the ported etcd tests (etcd's `raft_test.go` helpers
//! and friends), so that no test file grows its own copy.
//!
//! Grows as the modules under test land: entry and message builders now;
//! the test network (`Network`), `new_test_raft`, `new_test_config`,
//! `new_test_memory_storage`, `next_ents` and `read_messages` once `Raft`
//! and `MemStorage` exist.

#![allow(dead_code)]

use bytes::Bytes;

use crate::eraftpb::{Entry, EntryType, Message, MessageType};

/// A normal entry at `index` of `term` with no data (etcd's
/// `pb.Entry{Index: i, Term: t}` literals).
pub fn new_entry(index: u64, term: u64) -> Entry {
    Entry {
        entry_type: EntryType::EntryNormal as i32,
        term,
        index,
        data: Bytes::new(),
    }
}

/// A normal entry at `index` of `term` carrying `data`.
pub fn new_entry_with_data(index: u64, term: u64, data: &'static [u8]) -> Entry {
    Entry {
        data: Bytes::from_static(data),
        ..new_entry(index, term)
    }
}

/// Entries `(index, term)` for each pair, in order (etcd's `index(i).terms(...)`
/// style slices).
pub fn entries(pairs: &[(u64, u64)]) -> Vec<Entry> {
    pairs.iter().map(|&(i, t)| new_entry(i, t)).collect()
}

/// A message of type `t` from `from` to `to`, everything else zero.
pub fn new_message(from: u64, to: u64, t: MessageType) -> Message {
    let mut m = Message::new(t);
    m.from = from;
    m.to = to;
    m
}

/// etcd's `MsgProp` with one entry carrying `data`, from and to `id`.
pub fn new_prop(id: u64, data: &'static [u8]) -> Message {
    let mut m = new_message(id, id, MessageType::MsgProp);
    m.entries.push(Entry {
        data: Bytes::from_static(data),
        ..Entry::default()
    });
    m
}
