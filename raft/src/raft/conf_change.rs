//! Applying configuration changes (etcd `applyConfChange` and
//! `switchToConfig`).

use super::{Raft, StateRole, NONE};
use crate::confchange::Changer;
use crate::eraftpb::{ConfChangeV2, ConfState};
use crate::errors::Result;
use crate::storage::Storage;
use crate::tracker::{Config, ProgressMap};

impl<S: Storage> Raft<S> {
    /// Applies conf change `cc` to the active configuration and returns the
    /// new [`ConfState`] (etcd `applyConfChange`). The change is simple,
    /// enters a joint configuration or leaves one, as `cc` says.
    ///
    /// An invalid change is refused with an error and changes nothing
    /// (etcd panics here).
    pub fn apply_conf_change(&mut self, cc: &ConfChangeV2) -> Result<ConfState> {
        let changer = Changer::new(&self.trk, self.raft_log.last_index());
        let (cfg, progress) = if cc.leave_joint() {
            changer.leave_joint()?
        } else if let Some(auto_leave) = cc.enter_joint() {
            changer.enter_joint(auto_leave, &cc.changes)?
        } else {
            changer.simple(&cc.changes)?
        };
        Ok(self.switch_to_config(cfg, progress))
    }

    /// Makes `cfg` with `progress` the active configuration and reacts to
    /// it (etcd `switchToConfig`): a removed or demoted leader may step
    /// down; a leader commits what the new quorum allows and probes new
    /// peers at once; a transfer to a removed node is aborted.
    pub fn switch_to_config(&mut self, cfg: Config, progress: ProgressMap) -> ConfState {
        self.trk.config = cfg;
        self.trk.progress = progress;

        slog::info!(
            self.raft_log.logger,
            "{:x} switched to configuration {}",
            self.id,
            self.trk.config
        );
        let cs = self.trk.conf_state();
        let pr = self.trk.progress.get(self.id);
        let ok = pr.is_some();
        // A removed node is not a learner either.
        self.is_learner = pr.is_some_and(|pr| pr.is_learner);

        if (!ok || self.is_learner) && self.state == StateRole::Leader {
            // Demotions are refused today but would be handled like
            // removals.
            if self.step_down_on_removal {
                self.become_follower(self.term, NONE);
            }
            return cs;
        }

        // The rest only matters to a leader with other voters.
        if self.state != StateRole::Leader || cs.voters.is_empty() {
            return cs;
        }

        if self.maybe_commit() {
            // The new quorum may commit more: tell everyone.
            self.bcast_append();
        } else {
            // Probe new peers now rather than at the next heartbeat or
            // proposal.
            // By position: sending changes neither the peers nor their
            // order.
            for i in 0..self.trk.progress.len() {
                let id = self.trk.progress.at(i).0;
                if id != self.id {
                    self.maybe_send_append(id, false);
                }
            }
        }
        // A transfer to a node that is no longer a voter cannot finish.
        if self.lead_transferee != NONE && !self.trk.config.voters.contains(self.lead_transferee) {
            self.abort_leader_transfer();
        }
        cs
    }
}
