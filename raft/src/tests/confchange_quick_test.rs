//! Port of etcd's `confchange/quick_test.go`: applying a list of changes
//! one by one with simple changes, and all at once through a joint config
//! (entered with or without auto-leave, then left), ends in the same
//! configuration and progress.

use proptest::prelude::*;

use super::support::conf_change_single;
use crate::confchange::{describe, Changer};
use crate::eraftpb::{ConfChangeSingle, ConfChangeType};
use crate::errors::Result;
use crate::tracker::ProgressTracker;

const TYPES: [ConfChangeType; 4] = [
    ConfChangeType::ConfChangeAddNode,
    ConfChangeType::ConfChangeRemoveNode,
    ConfChangeType::ConfChangeUpdateNode,
    ConfChangeType::ConfChangeAddLearnerNode,
];

/// 1-9 changes of any type to nodes 2-10; node 1 is never touched, so the
/// config never runs out of voters.
fn conf_changes() -> impl Strategy<Value = Vec<ConfChangeSingle>> {
    proptest::collection::vec(
        (0..TYPES.len(), 2u64..=10).prop_map(|(t, id)| conf_change_single(TYPES[t], id)),
        1..=9,
    )
}

/// Voter 1 followed by 1-5 more voters among 1-5.
fn initial_changes() -> impl Strategy<Value = Vec<ConfChangeSingle>> {
    proptest::collection::vec(
        (1u64..=5).prop_map(|id| conf_change_single(ConfChangeType::ConfChangeAddNode, id)),
        1..=5,
    )
    .prop_map(|rest| {
        let mut ccs = vec![conf_change_single(ConfChangeType::ConfChangeAddNode, 1)];
        ccs.extend(rest);
        ccs
    })
}

const LAST_INDEX: u64 = 10;

fn run_with_simple(trk: &mut ProgressTracker, ccs: &[ConfChangeSingle]) -> Result<()> {
    for c in ccs {
        let (cfg, progress) = Changer::new(trk, LAST_INDEX).simple(std::slice::from_ref(c))?;
        trk.config = cfg;
        trk.progress = progress;
    }
    Ok(())
}

fn run_with_joint(
    trk: &mut ProgressTracker,
    ccs: &[ConfChangeSingle],
) -> std::result::Result<(), TestCaseError> {
    let fail = |e: crate::Error| TestCaseError::fail(e.to_string());
    let (cfg, progress) = Changer::new(trk, LAST_INDEX)
        .enter_joint(false, ccs)
        .map_err(fail)?;
    // Auto-leave must not change anything but the flag.
    let (mut cfg_auto, progress_auto) = Changer::new(trk, LAST_INDEX)
        .enter_joint(true, ccs)
        .map_err(fail)?;
    prop_assert!(cfg_auto.auto_leave);
    cfg_auto.auto_leave = false;
    prop_assert_eq!(&cfg, &cfg_auto);
    prop_assert_eq!(&progress, &progress_auto);

    trk.config = cfg;
    trk.progress = progress;
    let (cfg_left, progress_left) = Changer::new(trk, LAST_INDEX).leave_joint().map_err(fail)?;
    // Leaving twice from the same joint state gives the same result.
    let (cfg_left2, progress_left2) = Changer::new(trk, LAST_INDEX).leave_joint().map_err(fail)?;
    prop_assert_eq!(&cfg_left, &cfg_left2);
    prop_assert_eq!(&progress_left, &progress_left2);
    trk.config = cfg_left;
    trk.progress = progress_left;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn test_conf_change_quick(setup in initial_changes(), ccs in conf_changes()) {
        let context = format!("setup: {}\nccs: {}", describe(&setup), describe(&ccs));

        let mut simple = ProgressTracker::new(10, 0);
        run_with_simple(&mut simple, &setup).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut joint = simple.clone();

        run_with_simple(&mut simple, &ccs)
            .map_err(|e| TestCaseError::fail(format!("{context}\nsimple: {e}")))?;
        run_with_joint(&mut joint, &ccs)?;

        prop_assert_eq!(&simple.config, &joint.config, "{}", context);
        prop_assert_eq!(&simple.progress, &joint.progress, "{}", context);
    }
}
