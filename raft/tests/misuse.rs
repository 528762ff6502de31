//! Misuse that etcd panics on panics here too, but the message says what
//! the caller did wrong and what to do instead (after etcd's own text,
//! which is also what the log line says).

use std::panic::{catch_unwind, AssertUnwindSafe};

use etcdraft::prelude::*;

/// The panic message of `f`, which must panic.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("no panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn one_voter(config: &Config) -> RawNode<MemStorage> {
    let storage = MemStorage::new_with_conf_state(ConfState {
        voters: vec![1],
        ..Default::default()
    });
    RawNode::new(config, storage, &discard_logger()).unwrap()
}

#[test]
fn entries_not_persisted() {
    let mut node = one_voter(&Config::new(1));
    let msg = panic_message(|| {
        node.campaign().unwrap();
        for _ in 0..5 {
            if node.status().raft_state() == StateRole::Leader {
                node.propose(&b"x"[..]).unwrap();
            }
            while node.has_ready() {
                let rd = node.ready();
                // The mistake: the hard state is saved, the entries are not.
                node.mut_store().set_hard_state(rd.hs()).unwrap();
                node.advance();
            }
        }
    });
    // etcd's text first (the log line is exactly that), then what to do.
    assert!(msg.starts_with("slice[1,"), "{msg}");
    assert!(msg.contains(") out of bound [1,0]: "), "{msg}");
    assert!(
        msg.contains(
            "persist every Ready's entries (and snapshot) to the storage before calling advance"
        ),
        "{msg}"
    );
}

#[test]
fn advance_with_async_storage_writes() {
    let mut config = Config::new(1);
    config.async_storage_writes = true;
    let mut node = one_voter(&config);
    let msg = panic_message(|| node.advance());
    assert!(
        msg.starts_with("Advance must not be called when using AsyncStorageWrites"),
        "{msg}"
    );
    assert!(
        msg.contains("deliver the responses of the MsgStorageAppend"),
        "{msg}"
    );
}

/// Where etcd panics on a bad `Config::applied`, the port returns an error.
#[test]
fn applied_beyond_the_stored_commit_index_is_an_error() {
    let mut config = Config::new(1);
    config.applied = 5; // the storage has committed nothing
    let storage = MemStorage::new_with_conf_state(ConfState {
        voters: vec![1],
        ..Default::default()
    });
    let err = RawNode::new(&config, storage, &discard_logger()).err();
    assert!(
        matches!(&err, Some(Error::ConfigInvalid(m)) if m.starts_with("applied(5) is out of range")),
        "{err:?}"
    );
}
