//! The [`Changer`]: simple and joint configuration changes with etcd's
//! validation (etcd `confchange.go`).

use std::fmt::Write as _;

use crate::eraftpb::{ConfChangeSingle, ConfChangeType};
use crate::errors::{Error, Result};
use crate::quorum::MajorityConfig;
use crate::tracker::{Config, Progress, ProgressMap, ProgressTracker};

/// Computes configuration changes against a tracker, refusing invalid ones
/// before they can affect the active configuration (etcd `Changer`).
///
/// Every method works on copies and returns the new configuration and
/// progress map; the tracker is only read. Each checks etcd's invariants on
/// its input and on its result.
#[derive(Clone, Copy, Debug)]
pub struct Changer<'a> {
    /// The tracker whose configuration is being changed.
    pub tracker: &'a ProgressTracker,
    /// The last index of the log; a newly added peer is probed from here.
    pub last_index: u64,
}

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::ConfChange(msg.into()))
}

/// Whether the configuration has an outgoing half (is joint).
fn joint(cfg: &Config) -> bool {
    !cfg.voters[1].is_empty()
}

impl<'a> Changer<'a> {
    /// A changer for `tracker` whose log ends at `last_index`.
    pub fn new(tracker: &'a ProgressTracker, last_index: u64) -> Changer<'a> {
        Changer {
            tracker,
            last_index,
        }
    }

    /// Enters a joint configuration (etcd `EnterJoint`): the incoming voters
    /// are copied into the (empty) outgoing half, and `ccs` are applied to
    /// the incoming half, giving the Raft thesis's `C_{new,old}`.
    ///
    /// `auto_leave` records whether raft should leave the joint config by
    /// itself once it is committed.
    pub fn enter_joint(
        &self,
        auto_leave: bool,
        ccs: &[ConfChangeSingle],
    ) -> Result<(Config, ProgressMap)> {
        let (mut cfg, mut trk) = self.check_and_copy()?;
        if joint(&cfg) {
            return err("config is already joint");
        }
        if cfg.voters[0].is_empty() {
            // Adding to an empty config is allowed (bootstrap, tests), but a
            // joint config needs something to transition from.
            return err("can't make a zero-voter config joint");
        }
        cfg.voters[1] = cfg.voters[0].clone();
        self.apply(&mut cfg, &mut trk, ccs)?;
        cfg.auto_leave = auto_leave;
        check_and_return(cfg, trk)
    }

    /// Leaves a joint configuration (etcd `LeaveJoint`): the outgoing half
    /// is dropped, making the incoming one `C_new`, and the staged learners
    /// (`learners_next`) become learners. Peers only the outgoing half knew
    /// are no longer tracked.
    pub fn leave_joint(&self) -> Result<(Config, ProgressMap)> {
        let (mut cfg, mut trk) = self.check_and_copy()?;
        if !joint(&cfg) {
            return err("can't leave a non-joint config");
        }
        for id in std::mem::take(&mut cfg.learners_next).iter() {
            cfg.learners.insert(id);
            // The invariants checked above guarantee a progress for every
            // staged learner.
            if let Some(pr) = trk.get_mut(id) {
                pr.is_learner = true;
            }
        }
        for id in cfg.voters[1].iter() {
            if !cfg.voters[0].contains(id) && !cfg.learners.contains(id) {
                trk.remove(id);
            }
        }
        cfg.voters[1].clear();
        cfg.auto_leave = false;
        check_and_return(cfg, trk)
    }

    /// Applies `ccs`, which together may change the set of voters by at most
    /// one, without joint consensus (etcd `Simple`). Refused while joint,
    /// if it would leave no voter, or if more than one voter changes.
    pub fn simple(&self, ccs: &[ConfChangeSingle]) -> Result<(Config, ProgressMap)> {
        let (mut cfg, mut trk) = self.check_and_copy()?;
        if joint(&cfg) {
            return err("can't apply simple config change in joint config");
        }
        self.apply(&mut cfg, &mut trk, ccs)?;
        if symdiff(&self.tracker.config.voters[0], &cfg.voters[0]) > 1 {
            return err("more than one voter changed without entering joint config");
        }
        check_and_return(cfg, trk)
    }

    /// Applies each change to the incoming half; the outgoing half, if any,
    /// only keeps the progress of peers it still needs.
    fn apply(
        &self,
        cfg: &mut Config,
        trk: &mut ProgressMap,
        ccs: &[ConfChangeSingle],
    ) -> Result<()> {
        for cc in ccs {
            if cc.node_id == 0 {
                // etcd's server zeroes the node id of a change it decided not
                // to apply; such changes are skipped.
                continue;
            }
            match ConfChangeType::try_from(cc.change_type) {
                Ok(ConfChangeType::ConfChangeAddNode) => self.make_voter(cfg, trk, cc.node_id),
                Ok(ConfChangeType::ConfChangeAddLearnerNode) => {
                    self.make_learner(cfg, trk, cc.node_id)
                }
                Ok(ConfChangeType::ConfChangeRemoveNode) => remove(cfg, trk, cc.node_id),
                Ok(ConfChangeType::ConfChangeUpdateNode) => {}
                Err(_) => return err(format!("unexpected conf type {}", cc.change_type)),
            }
        }
        if cfg.voters[0].is_empty() {
            return err("removed all voters");
        }
        Ok(())
    }

    /// Adds `id` as a voter of the incoming half, or promotes it.
    fn make_voter(&self, cfg: &mut Config, trk: &mut ProgressMap, id: u64) {
        let Some(pr) = trk.get_mut(id) else {
            self.init_progress(cfg, trk, id, false);
            return;
        };
        pr.is_learner = false;
        leave_incoming(cfg, id);
        cfg.voters[0].insert(id);
    }

    /// Adds `id` as a learner, or demotes it. A voter of the outgoing half
    /// cannot be a learner at the same time, so it is staged in
    /// `learners_next` until the joint config is left; its progress is kept
    /// either way.
    fn make_learner(&self, cfg: &mut Config, trk: &mut ProgressMap, id: u64) {
        let Some(pr) = trk.get_mut(id) else {
            self.init_progress(cfg, trk, id, true);
            return;
        };
        if pr.is_learner {
            return;
        }
        // As `remove` would, but keeping the progress.
        leave_incoming(cfg, id);
        if cfg.voters[1].contains(id) {
            cfg.learners_next.insert(id);
        } else {
            pr.is_learner = true;
            cfg.learners.insert(id);
        }
    }

    /// Tracks a new voter or learner `id`, probing from the last index.
    fn init_progress(&self, cfg: &mut Config, trk: &mut ProgressMap, id: u64, is_learner: bool) {
        if is_learner {
            cfg.learners.insert(id);
        } else {
            cfg.voters[0].insert(id);
        }
        // Probing from the last index is optimistic (a new peer usually has
        // no log), but it is what etcd does; next must exceed match (0).
        let mut pr = Progress::new(self.last_index.max(1));
        pr.is_learner = is_learner;
        // A new peer counts as active, so that check-quorum does not step the
        // leader down before the peer had a chance to respond.
        pr.recent_active = true;
        trk.insert(id, pr);
    }

    /// Copies the tracker's configuration and progress, checking them.
    fn check_and_copy(&self) -> Result<(Config, ProgressMap)> {
        check_and_return(self.tracker.config.clone(), self.tracker.progress.clone())
    }
}

/// Removes `id` as a voter or learner of the incoming half. Its progress
/// stays while the outgoing half still has it as a voter.
fn remove(cfg: &mut Config, trk: &mut ProgressMap, id: u64) {
    if !trk.contains(id) {
        return;
    }
    leave_incoming(cfg, id);
    if !cfg.voters[1].contains(id) {
        trk.remove(id);
    }
}

/// Takes `id` out of every set it can be in besides the outgoing voters
/// (incoming voters, learners, staged learners), so that the caller can put
/// it into exactly one.
fn leave_incoming(cfg: &mut Config, id: u64) {
    cfg.voters[0].remove(id);
    cfg.learners.remove(id);
    cfg.learners_next.remove(id);
}

/// The number of ids in exactly one of `l` and `r`.
fn symdiff(l: &MajorityConfig, r: &MajorityConfig) -> usize {
    l.iter().filter(|&id| !r.contains(id)).count() + r.iter().filter(|&id| !l.contains(id)).count()
}

fn check_and_return(cfg: Config, trk: ProgressMap) -> Result<(Config, ProgressMap)> {
    check_invariants(&cfg, &trk)?;
    Ok((cfg, trk))
}

/// Checks that a configuration and progress map fit together (etcd
/// `checkInvariants`); applied to a changer's input and to its output.
///
/// The empty configuration is allowed on purpose: it is where bootstrap
/// and tests start from. Ids are checked in ascending order, so the error
/// reported for a config with several problems is deterministic.
fn check_invariants(cfg: &Config, trk: &ProgressMap) -> Result<()> {
    for ids in [&cfg.voters.ids(), &cfg.learners, &cfg.learners_next] {
        if let Some(id) = ids.iter().find(|&id| !trk.contains(id)) {
            return err(format!("no progress for {id}"));
        }
    }
    // A learner is only staged because it is still a voter of the outgoing
    // half.
    for id in cfg.learners_next.iter() {
        if !cfg.voters[1].contains(id) {
            return err(format!("{id} is in LearnersNext, but not Voters[1]"));
        }
        if trk.get(id).is_some_and(|pr| pr.is_learner) {
            return err(format!(
                "{id} is in LearnersNext, but is already marked as learner"
            ));
        }
    }
    // Learners and voters never overlap.
    for id in cfg.learners.iter() {
        if cfg.voters[1].contains(id) {
            return err(format!("{id} is in Learners and Voters[1]"));
        }
        if cfg.voters[0].contains(id) {
            return err(format!("{id} is in Learners and Voters[0]"));
        }
        if trk.get(id).is_some_and(|pr| !pr.is_learner) {
            return err(format!("{id} is in Learners, but is not marked as learner"));
        }
    }
    // etcd also demands that an empty outgoing half and empty staged
    // learners be nil rather than empty maps. A `MajorityConfig` has no such
    // distinction, and staged learners outside a joint config already failed
    // the `Voters[1]` check above, so only the flag is left to check.
    if !joint(cfg) && cfg.auto_leave {
        return err("AutoLeave must be false when not joint");
    }
    Ok(())
}

/// The changes as `Type(id)` separated by spaces, e.g.
/// `ConfChangeAddNode(1) ConfChangeRemoveNode(2)` (etcd `Describe`).
pub fn describe(ccs: &[ConfChangeSingle]) -> String {
    let mut buf = String::new();
    for cc in ccs {
        if !buf.is_empty() {
            buf.push(' ');
        }
        match ConfChangeType::try_from(cc.change_type) {
            Ok(t) => {
                let _ = write!(buf, "{t:?}({})", cc.node_id);
            }
            // Go prints an unknown enum value as its number.
            Err(_) => {
                let _ = write!(buf, "{}({})", cc.change_type, cc.node_id);
            }
        }
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::Inflights;

    fn tracker(voters: &[u64], outgoing: &[u64], learners: &[u64]) -> ProgressTracker {
        let mut t = ProgressTracker::new(10, 0);
        t.config.voters[0] = voters.into();
        t.config.voters[1] = outgoing.into();
        t.config.learners = learners.into();
        for id in t.config.voters.ids().iter() {
            t.progress
                .insert(id, Progress::new(1));
        }
        for &id in learners {
            let mut pr = Progress::new(1);
            pr.is_learner = true;
            t.progress.insert(id, pr);
        }
        t
    }

    fn cc(t: ConfChangeType, id: u64) -> ConfChangeSingle {
        ConfChangeSingle {
            change_type: t as i32,
            node_id: id,
        }
    }

    /// The error every method reports for a tracker that breaks an
    /// invariant: the changer refuses to work from a broken state.
    fn refused(t: &ProgressTracker) -> String {
        let chg = Changer::new(t, 5);
        let msgs: Vec<String> = [
            chg.simple(&[]),
            chg.enter_joint(false, &[]),
            chg.leave_joint(),
        ]
        .into_iter()
        .map(|r| r.unwrap_err().to_string())
        .collect();
        assert!(msgs.iter().all(|m| *m == msgs[0]), "{msgs:?}");
        msgs[0].clone()
    }

    #[test]
    fn broken_inputs_are_refused_with_etcds_texts() {
        let mut t = tracker(&[1, 2], &[], &[]);
        t.progress.remove(2);
        assert_eq!(refused(&t), "no progress for 2");

        let mut t = tracker(&[1], &[], &[3]);
        t.progress.remove(3);
        assert_eq!(refused(&t), "no progress for 3");

        let mut t = tracker(&[1], &[], &[]);
        t.config.learners_next.insert(1);
        assert_eq!(refused(&t), "1 is in LearnersNext, but not Voters[1]");

        let mut t = tracker(&[1], &[2], &[]);
        t.config.learners_next.insert(2);
        t.progress.get_mut(2).unwrap().is_learner = true;
        assert_eq!(
            refused(&t),
            "2 is in LearnersNext, but is already marked as learner"
        );

        let mut t = tracker(&[1], &[2], &[]);
        t.config.learners.insert(2);
        assert_eq!(refused(&t), "2 is in Learners and Voters[1]");

        let mut t = tracker(&[1, 2], &[], &[]);
        t.config.learners.insert(2);
        assert_eq!(refused(&t), "2 is in Learners and Voters[0]");

        let mut t = tracker(&[1], &[], &[2]);
        t.progress.get_mut(2).unwrap().is_learner = false;
        assert_eq!(
            refused(&t),
            "2 is in Learners, but is not marked as learner"
        );

        let mut t = tracker(&[1], &[], &[]);
        t.config.auto_leave = true;
        assert_eq!(refused(&t), "AutoLeave must be false when not joint");
    }

    #[test]
    fn lowest_offending_id_is_reported() {
        let mut t = tracker(&[1, 2, 3, 4], &[], &[]);
        t.progress.remove(4);
        t.progress.remove(2);
        assert_eq!(refused(&t), "no progress for 2");
    }

    #[test]
    fn unknown_change_type_is_refused() {
        let t = tracker(&[1], &[], &[]);
        let bad = ConfChangeSingle {
            change_type: 7,
            node_id: 2,
        };
        let chg = Changer::new(&t, 1);
        assert_eq!(
            chg.simple(&[bad]).unwrap_err().to_string(),
            "unexpected conf type 7"
        );
        assert_eq!(
            chg.enter_joint(true, &[bad]).unwrap_err().to_string(),
            "unexpected conf type 7"
        );
        // A zeroed node id is skipped before its type is looked at.
        let zeroed = ConfChangeSingle {
            change_type: 7,
            node_id: 0,
        };
        let (cfg, _) = chg.simple(&[zeroed]).unwrap();
        assert_eq!(cfg, t.config);
    }

    #[test]
    fn errors_are_conf_change_errors_and_leave_the_tracker_alone() {
        let t = tracker(&[1], &[], &[]);
        let before = t.clone();
        let chg = Changer::new(&t, 1);
        let e = chg
            .simple(&[cc(ConfChangeType::ConfChangeRemoveNode, 1)])
            .unwrap_err();
        assert_eq!(e, Error::ConfChange("removed all voters".into()));
        assert_eq!(t, before);
    }

    #[test]
    fn new_progress_starts_at_last_index_and_active() {
        let t = tracker(&[1], &[], &[]);
        for (last, next) in [(0, 1), (1, 1), (7, 7)] {
            let (_, prs) = Changer::new(&t, last)
                .simple(&[cc(ConfChangeType::ConfChangeAddLearnerNode, 2)])
                .unwrap();
            let pr = prs.get(2).unwrap();
            assert_eq!((pr.matched, pr.next), (0, next));
            assert!(pr.recent_active && pr.is_learner);
            assert_eq!(pr.inflights, Inflights::new());
        }
    }

    #[test]
    fn demoting_an_outgoing_voter_is_staged_and_keeps_progress() {
        let mut t = tracker(&[1, 2, 3], &[], &[]);
        t.progress.get_mut(3).unwrap().matched = 9;
        t.progress.get_mut(3).unwrap().next = 10;
        let (cfg, prs) = Changer::new(&t, 20)
            .enter_joint(true, &[cc(ConfChangeType::ConfChangeAddLearnerNode, 3)])
            .unwrap();
        assert_eq!(
            cfg.to_string(),
            "voters=(1 2)&&(1 2 3) learners_next=(3) autoleave"
        );
        assert!(!prs.get(3).unwrap().is_learner);
        t.config = cfg;
        t.progress = prs;
        let (cfg, prs) = Changer::new(&t, 30).leave_joint().unwrap();
        assert_eq!(cfg.to_string(), "voters=(1 2) learners=(3)");
        let pr = prs.get(3).unwrap();
        assert!(pr.is_learner);
        assert_eq!((pr.matched, pr.next), (9, 10));
    }

    #[test]
    fn describe_names_each_change() {
        assert_eq!(describe(&[]), "");
        assert_eq!(
            describe(&[
                cc(ConfChangeType::ConfChangeAddNode, 1),
                cc(ConfChangeType::ConfChangeRemoveNode, 2),
                cc(ConfChangeType::ConfChangeUpdateNode, 3),
                cc(ConfChangeType::ConfChangeAddLearnerNode, 4),
                ConfChangeSingle {
                    change_type: 9,
                    node_id: 5
                },
            ]),
            "ConfChangeAddNode(1) ConfChangeRemoveNode(2) ConfChangeUpdateNode(3) \
             ConfChangeAddLearnerNode(4) 9(5)"
        );
    }
}
