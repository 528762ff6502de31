//! The snapshot of a [`MemStorage`](super::MemStorage) in a compact form.
//!
//! A [`Snapshot`] is 152 bytes, 96 of them the four id lists of its
//! `ConfState`; every storage keeps one (it carries the configuration that
//! `initial_state` reports), and a process may host many mostly idle
//! groups. Nearly always only the voter list is non-empty, so
//! [`StoredSnapshot`] keeps the voters as an exactly sized slice and the
//! other lists (with `auto_leave`) in a box allocated only when one of them
//! is set: 72 bytes. The snapshot is rebuilt when read, which copies the id
//! lists as cloning a `Snapshot` did.

use bytes::Bytes;

use crate::eraftpb::{ConfState, Snapshot, SnapshotMetadata};

/// A [`Snapshot`], stored compactly (see the module doc).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StoredSnapshot {
    /// The index of the last entry the snapshot covers.
    pub(crate) index: u64,
    /// The term of that entry.
    pub(crate) term: u64,
    /// The application's state.
    pub(crate) data: Bytes,
    /// The configuration's voters (`ConfState::voters`).
    voters: Box<[u64]>,
    /// The rest of the configuration, `None` when it is all empty (no
    /// learners, not joint, no `auto_leave`); its `voters` are always empty.
    rest: Option<Box<ConfState>>,
}

impl StoredSnapshot {
    /// `snap`, stored.
    pub(crate) fn new(snap: Snapshot) -> StoredSnapshot {
        let SnapshotMetadata {
            conf_state,
            index,
            term,
        } = snap.metadata;
        let mut s = StoredSnapshot {
            index,
            term,
            data: snap.data,
            ..StoredSnapshot::default()
        };
        s.set_conf_state(conf_state);
        s
    }

    /// Replaces the configuration with `cs`.
    pub(crate) fn set_conf_state(&mut self, mut cs: ConfState) {
        self.voters = std::mem::take(&mut cs.voters).into_boxed_slice();
        let rest_is_empty = cs.learners.is_empty()
            && cs.voters_outgoing.is_empty()
            && cs.learners_next.is_empty()
            && !cs.auto_leave;
        self.rest = if rest_is_empty {
            None
        } else {
            Some(Box::new(cs))
        };
    }

    /// The configuration, as it was given.
    pub(crate) fn conf_state(&self) -> ConfState {
        let mut cs = match &self.rest {
            Some(rest) => ConfState::clone(rest),
            None => ConfState::default(),
        };
        cs.voters = self.voters.to_vec();
        cs
    }

    /// The snapshot, as it was given.
    pub(crate) fn to_snapshot(&self) -> Snapshot {
        Snapshot {
            data: self.data.clone(),
            metadata: SnapshotMetadata {
                conf_state: self.conf_state(),
                index: self.index,
                term: self.term,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf_state(
        voters: &[u64],
        learners: &[u64],
        outgoing: &[u64],
        next: &[u64],
        auto_leave: bool,
    ) -> ConfState {
        ConfState {
            voters: voters.to_vec(),
            learners: learners.to_vec(),
            voters_outgoing: outgoing.to_vec(),
            learners_next: next.to_vec(),
            auto_leave,
        }
    }

    #[test]
    fn round_trips_every_shape_of_configuration() {
        // Unsorted lists stay in their order: the snapshot is given back as
        // it was taken.
        for cs in [
            ConfState::default(),
            conf_state(&[3, 1, 2], &[], &[], &[], false),
            conf_state(&[], &[4], &[], &[], false),
            conf_state(&[1], &[], &[2, 1], &[], false),
            conf_state(&[1, 2], &[5], &[1, 2, 3], &[3], true),
            conf_state(&[1], &[], &[], &[], true),
        ] {
            let snap = Snapshot {
                data: Bytes::from_static(b"state"),
                metadata: SnapshotMetadata {
                    conf_state: cs.clone(),
                    index: 7,
                    term: 3,
                },
            };
            let stored = StoredSnapshot::new(snap.clone());
            assert_eq!(stored.to_snapshot(), snap);
            assert_eq!(stored.conf_state(), cs);
            let mut other = StoredSnapshot::default();
            other.set_conf_state(cs.clone());
            assert_eq!(other.conf_state(), cs);
        }
    }

    #[test]
    fn the_rest_is_boxed_only_when_set() {
        let mut s = StoredSnapshot::default();
        s.set_conf_state(conf_state(&[1, 2, 3], &[], &[], &[], false));
        assert!(s.rest.is_none());
        s.set_conf_state(conf_state(&[1, 2, 3], &[4], &[], &[], false));
        assert!(s.rest.as_ref().is_some_and(|r| r.voters.is_empty()));
        s.set_conf_state(conf_state(&[1], &[], &[], &[], true));
        assert!(s.rest.is_some());
        s.set_conf_state(conf_state(&[1], &[], &[], &[], false));
        assert!(s.rest.is_none());
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn is_72_bytes() {
        assert_eq!(std::mem::size_of::<StoredSnapshot>(), 72);
    }
}
