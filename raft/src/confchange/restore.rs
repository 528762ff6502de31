//! Rebuilding a configuration from a [`ConfState`] (etcd `restore.go`).

use super::Changer;
use crate::eraftpb::{ConfChangeSingle, ConfChangeType, ConfState};
use crate::errors::Result;
use crate::tracker::{Config, ProgressMap};

/// Translates `cs` into two lists of changes: the first builds, from an
/// empty config, the config that becomes the outgoing half; the second,
/// applied on top of it while entering the joint config, gives `cs`.
///
/// For example `voters=(1 2 3) learners=(5) outgoing=(1 2 4 6)
/// learners_next=(4)` becomes `add 1, 2, 4, 6` and then `remove 1, 2, 4, 6;
/// add 1, 2, 3; add-learner 5; add-learner 4`: removing the outgoing voters
/// first makes the incoming half exactly `cs.voters`, and adding 4 as a
/// learner while it is an outgoing voter stages it in `learners_next`.
fn to_conf_change_single(cs: &ConfState) -> (Vec<ConfChangeSingle>, Vec<ConfChangeSingle>) {
    use ConfChangeType::*;
    let outgoing = cs
        .voters_outgoing
        .iter()
        .map(|&id| ConfChangeSingle::new(ConfChangeAddNode, id))
        .collect();
    let incoming = cs
        .voters_outgoing
        .iter()
        .map(|&id| ConfChangeSingle::new(ConfChangeRemoveNode, id))
        .chain(
            cs.voters
                .iter()
                .map(|&id| ConfChangeSingle::new(ConfChangeAddNode, id)),
        )
        .chain(
            cs.learners
                .iter()
                .map(|&id| ConfChangeSingle::new(ConfChangeAddLearnerNode, id)),
        )
        .chain(
            cs.learners_next
                .iter()
                .map(|&id| ConfChangeSingle::new(ConfChangeAddLearnerNode, id)),
        )
        .collect();
    (outgoing, incoming)
}

/// Rebuilds the configuration described by `cs`, starting from `chg`'s
/// tracker (which must have an empty configuration), by replaying it as a
/// sequence of validated changes (etcd `Restore`).
///
/// A non-joint state is added one change at a time; a joint one first
/// builds its outgoing half that way, then enters the joint config with
/// the changes that make up the incoming half.
pub fn restore(chg: Changer<'_>, cs: &ConfState) -> Result<(Config, ProgressMap)> {
    let (outgoing, incoming) = to_conf_change_single(cs);
    let mut trk = chg.tracker.clone();
    let step = |trk: &crate::tracker::ProgressTracker, cc: &ConfChangeSingle| {
        Changer::new(trk, chg.last_index).simple(std::slice::from_ref(cc))
    };
    // Without an outgoing half there is nothing to enter a joint config
    // from, and the incoming changes are replayed one by one instead.
    let one_by_one = if outgoing.is_empty() {
        &incoming
    } else {
        &outgoing
    };
    for cc in one_by_one {
        (trk.config, trk.progress) = step(&trk, cc)?;
    }
    if !outgoing.is_empty() {
        (trk.config, trk.progress) =
            Changer::new(&trk, chg.last_index).enter_joint(cs.auto_leave, &incoming)?;
    }
    Ok((trk.config, trk.progress))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::Error;
    use crate::tracker::ProgressTracker;

    fn restored(cs: ConfState) -> Result<String> {
        let t = ProgressTracker::new(10, 0);
        let (cfg, prs) = restore(Changer::new(&t, 4), &cs)?;
        Ok(format!("{cfg}\n{}", prs.display(t.inflight_limits)))
    }

    #[test]
    fn joint_state_is_rebuilt_through_enter_joint() {
        let cs = ConfState {
            voters: vec![3, 1, 2],
            learners: vec![5],
            voters_outgoing: vec![1, 2, 4, 6],
            learners_next: vec![4],
            auto_leave: true,
        };
        assert_eq!(
            restored(cs).unwrap(),
            "voters=(1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4) autoleave\n\
             1: StateProbe match=0 next=4\n\
             2: StateProbe match=0 next=4\n\
             3: StateProbe match=0 next=4\n\
             4: StateProbe match=0 next=4\n\
             5: StateProbe match=0 next=4 learner\n\
             6: StateProbe match=0 next=4\n"
        );
    }

    #[test]
    fn impossible_states_report_the_changers_error() {
        // A joint state without incoming voters.
        let cs = ConfState {
            voters_outgoing: vec![1],
            ..ConfState::default()
        };
        assert_eq!(
            restored(cs).unwrap_err(),
            Error::ConfChange("removed all voters".into())
        );
        // The only voter is also listed as a learner.
        let cs = ConfState {
            voters: vec![1],
            learners: vec![1],
            ..ConfState::default()
        };
        assert_eq!(restored(cs).unwrap_err().to_string(), "removed all voters");
        // A staged learner that is not an outgoing voter is simply a learner
        // in a non-joint state, as in etcd.
        let cs = ConfState {
            voters: vec![1],
            learners_next: vec![2],
            ..ConfState::default()
        };
        assert_eq!(
            restored(cs).unwrap(),
            "voters=(1) learners=(2)\n\
             1: StateProbe match=0 next=4\n\
             2: StateProbe match=0 next=4 learner\n"
        );
    }

    #[test]
    fn empty_conf_state_gives_empty_config() {
        assert_eq!(restored(ConfState::default()).unwrap(), "voters=()\n");
    }
}
