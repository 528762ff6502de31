//! Restarting from storage without losing configuration changes.
//!
//! Raft takes its configuration from the storage's
//! [`initial_state`](Storage::initial_state): the `ConfState` of the latest
//! snapshot. The conf changes in the log after the snapshot are applied to
//! that configuration when the application applies them, through
//! `apply_conf_change`. A restart with
//! [`Config::applied`](crate::Config::applied) set skips the entries up to
//! it, conf changes included, so raft would come back with an outdated
//! configuration; [`reapply_conf_changes`] applies the skipped ones.

use prost::Message as _;

use crate::eraftpb::{ConfChange, ConfChangeV2, EntryType};
use crate::errors::{Error, Result};
use crate::raw_node::RawNode;
use crate::storage::Storage;

/// How many bytes of entries are read from the storage at a time.
const PAGE: u64 = 4 << 20;

/// Applies to `rn`'s configuration the conf changes of the stored entries
/// after the storage's snapshot through `applied`: the ones a restart with
/// `Config::applied = applied` does not hand out again, and that the
/// snapshot's `ConfState` does not hold yet. Returns how many it applied.
///
/// Entries the storage keeps from before its snapshot (a catch-up tail for
/// slow followers) are skipped: their changes are in the snapshot's
/// `ConfState` already. If the storage cannot give its snapshot right now
/// ([`Error::SnapshotTemporarilyUnavailable`]), the snapshot is taken to
/// end just before the first index.
///
/// Call it right after [`RawNode::new`] with the same `applied` (and not at
/// all with `applied` 0); [`restart_node`](crate::node::restart_node) does.
/// The application must not apply these changes itself: raft does not hand
/// them out again. A conf change that raft refuses now was refused the
/// first time too, and is skipped, as it was then. An application that
/// rejects some committed conf changes (does not apply them) cannot use
/// this, as nothing in the log says which it rejected: it restarts with
/// `applied` at the snapshot's index and decides again on what raft
/// hands out.
///
/// Fails with the storage's error if an entry up to `applied` is missing,
/// or with [`Error::Decode`] if a conf change does not decode.
pub fn reapply_conf_changes<S: Storage>(rn: &mut RawNode<S>, applied: u64) -> Result<usize> {
    let first = rn.store().first_index()?;
    let after_snapshot = match rn.store().snapshot() {
        Ok(snap) => snap.metadata.index + 1,
        Err(Error::SnapshotTemporarilyUnavailable) => first,
        Err(e) => return Err(e),
    };
    let mut next = first.max(after_snapshot);
    let mut count = 0;
    while next <= applied {
        let ents = rn.store().entries(next, applied + 1, PAGE)?;
        if ents.is_empty() {
            return Err(Error::Unavailable);
        }
        for e in &ents {
            let res = match e.get_type() {
                EntryType::EntryConfChange => {
                    rn.apply_conf_change(&ConfChange::decode(e.data.clone())?)
                }
                EntryType::EntryConfChangeV2 => {
                    rn.apply_conf_change(&ConfChangeV2::decode(e.data.clone())?)
                }
                EntryType::EntryNormal => continue,
            };
            if res.is_ok() {
                count += 1;
            }
        }
        next += ents.len() as u64;
    }
    Ok(count)
}
