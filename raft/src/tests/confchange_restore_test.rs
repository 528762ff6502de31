//! Port of etcd's `confchange/restore_test.go`: restoring a `ConfState`
//! yields a tracker whose `ConfState` is the same.

use proptest::prelude::*;

use crate::confchange::{restore, Changer};
use crate::eraftpb::ConfState;
use crate::tracker::ProgressTracker;

/// Restores `cs` into an empty tracker and checks the round trip.
fn check_restore(mut cs: ConfState) -> Result<(), TestCaseError> {
    let empty = ProgressTracker::new(20, 0);
    let (cfg, progress) = restore(Changer::new(&empty, 10), &cs)
        .map_err(|e| TestCaseError::fail(format!("restore {cs:?}: {e}")))?;
    let mut trk = ProgressTracker::new(20, 0);
    trk.config = cfg;
    trk.progress = progress;
    let cs2 = trk.conf_state();
    // etcd also checks `Equivalent` both ways; done here on the unsorted
    // input, so that it has an ordering to see past.
    prop_assert!(cs.equivalent(&cs2).is_ok(), "{:?} !~ {:?}", cs, cs2);
    prop_assert!(cs2.equivalent(&cs).is_ok(), "{:?} !~ {:?}", cs2, cs);
    for ids in [
        &mut cs.voters,
        &mut cs.learners,
        &mut cs.voters_outgoing,
        &mut cs.learners_next,
    ] {
        ids.sort_unstable();
    }
    prop_assert_eq!(cs, cs2);
    Ok(())
}

/// A random valid `ConfState`, shaped like etcd's generator: 1-5 voters,
/// 0-4 learners, 0-2 voters removed in a joint config (some of which are
/// demoted to learners), and a random share of the voters retained from the
/// outgoing config. Never the empty `ConfState`; that one is a unit case.
fn rnd_conf_state() -> impl Strategy<Value = ConfState> {
    (1usize..=5, 0usize..5, 0usize..3)
        .prop_flat_map(|(n_voters, n_learners, n_removed)| {
            let total = 2 * (n_voters + n_learners + n_removed);
            (
                Just((1..=total as u64).collect::<Vec<u64>>()).prop_shuffle(),
                Just((n_voters, n_learners, n_removed)),
                0..=n_voters,
                0..=n_removed,
                any::<bool>(),
            )
        })
        .prop_map(
            |(ids, (n_voters, n_learners, n_removed), n_retained, n_learners_next, auto)| {
                let (voters, rest) = ids.split_at(n_voters);
                let (learners, rest) = rest.split_at(n_learners);
                let mut cs = ConfState {
                    voters: voters.to_vec(),
                    learners: learners.to_vec(),
                    ..ConfState::default()
                };
                cs.voters_outgoing = voters[..n_retained].to_vec();
                cs.voters_outgoing.extend_from_slice(&rest[..n_removed]);
                // Only removed voters can be demoted to learners.
                cs.learners_next = rest[..n_learners_next].to_vec();
                cs.auto_leave = !cs.voters_outgoing.is_empty() && auto;
                cs
            },
        )
}

#[test]
fn test_restore() {
    let unit_cases = [
        ConfState::default(),
        ConfState {
            voters: vec![1, 2, 3],
            ..ConfState::default()
        },
        ConfState {
            voters: vec![1, 2, 3],
            learners: vec![4, 5, 6],
            ..ConfState::default()
        },
        ConfState {
            voters: vec![1, 2, 3],
            learners: vec![5],
            voters_outgoing: vec![1, 2, 4, 6],
            learners_next: vec![4],
            auto_leave: false,
        },
    ];
    for cs in unit_cases {
        check_restore(cs).unwrap();
    }

    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(1000));
    runner.run(&rnd_conf_state(), check_restore).unwrap();
}
