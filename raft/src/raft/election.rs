//! Ticks, role transitions, campaigns and vote counting.

use super::{fatal, CampaignType, Raft, StateRole, NONE};
use crate::eraftpb::{EntryType, Message, MessageType};
use crate::quorum::VoteResult;
use crate::storage::Storage;
use crate::tracker::Progress;

impl<S: Storage> Raft<S> {
    /// Advances the logical clock by one tick: a leader counts towards its
    /// next heartbeat, everyone else towards an election.
    pub fn tick(&mut self) {
        match self.state {
            StateRole::Leader => self.tick_heartbeat(),
            _ => self.tick_election(),
        }
    }

    /// The tick of followers and (pre-)candidates: campaigns once the
    /// randomized election timeout has passed.
    pub fn tick_election(&mut self) {
        self.election_elapsed += 1;
        // etcd checks promotable() first; both are pure, and the timeout,
        // false on nearly every tick, reads no more than this struct, where
        // promotable() looks up the progress map.
        if self.past_election_timeout() && self.promotable() {
            self.election_elapsed = 0;
            let mut m = Message::new(MessageType::MsgHup);
            m.from = self.id;
            if let Err(e) = self.step(m) {
                slog::debug!(self.raft_log.logger, "error occurred during election: {}", e);
            }
        }
    }

    /// The tick of a leader: checks the quorum every election timeout and
    /// sends heartbeats every heartbeat timeout.
    pub fn tick_heartbeat(&mut self) {
        self.heartbeat_elapsed += 1;
        self.election_elapsed += 1;

        if self.election_elapsed >= self.election_timeout {
            self.election_elapsed = 0;
            // What stepping a MsgCheckQuorum does (only a leader acts on
            // it), without building a message on every timeout.
            if self.check_quorum && self.state == StateRole::Leader {
                self.leader_check_quorum();
            }
            // A transfer that did not finish within an election timeout is
            // abandoned; this node stays leader.
            if self.state == StateRole::Leader && self.lead_transferee != NONE {
                self.abort_leader_transfer();
            }
        }

        if self.state != StateRole::Leader {
            return;
        }

        if self.heartbeat_elapsed >= self.heartbeat_timeout {
            self.heartbeat_elapsed = 0;
            // What stepping a MsgBeat does on a leader, without building a
            // message on every heartbeat tick.
            self.bcast_heartbeat();
        }
    }

    /// Resets the per-term state for `term` (etcd `reset`): forgets the
    /// vote if the term changes, the leader, timers, votes, transfers and
    /// read requests, and restarts every peer's progress from the log's end.
    pub fn reset(&mut self, term: u64) {
        if self.term != term {
            self.term = term;
            self.vote = NONE;
        }
        self.lead = NONE;

        self.election_elapsed = 0;
        self.heartbeat_elapsed = 0;
        self.reset_randomized_election_timeout();

        self.abort_leader_transfer();

        self.trk.reset_votes();
        let last_index = self.raft_log.last_index();
        let self_id = self.id;
        self.trk.visit(|id, pr| {
            let is_learner = pr.is_learner;
            *pr = Progress::new(last_index + 1);
            pr.is_learner = is_learner;
            if id == self_id {
                pr.matched = last_index;
            }
        });

        self.pending_conf_index = 0;
        self.uncommitted_size = 0;
        self.read_only = crate::read_only::ReadOnly::new();
    }

    /// Becomes a follower of `lead` (or of nobody) at `term`.
    pub fn become_follower(&mut self, term: u64, lead: u64) {
        self.reset(term);
        self.lead = lead;
        self.state = StateRole::Follower;
        slog::info!(
            self.raft_log.logger,
            "{:x} became follower at term {}",
            self.id,
            self.term
        );
    }

    /// Becomes a candidate: a new term, voting for itself.
    ///
    /// # Panics
    ///
    /// If this node is the leader; callers check.
    pub fn become_candidate(&mut self) {
        if self.state == StateRole::Leader {
            panic!("invalid transition [leader -> candidate]");
        }
        self.reset(self.term + 1);
        self.vote = self.id;
        self.state = StateRole::Candidate;
        slog::info!(
            self.raft_log.logger,
            "{:x} became candidate at term {}",
            self.id,
            self.term
        );
    }

    /// Becomes a pre-candidate. Only the role, votes and leader change;
    /// term and vote stay, which is the point of pre-voting.
    ///
    /// # Panics
    ///
    /// If this node is the leader; callers check.
    pub fn become_pre_candidate(&mut self) {
        if self.state == StateRole::Leader {
            panic!("invalid transition [leader -> pre-candidate]");
        }
        self.trk.reset_votes();
        self.lead = NONE;
        self.state = StateRole::PreCandidate;
        slog::info!(
            self.raft_log.logger,
            "{:x} became pre-candidate at term {}",
            self.id,
            self.term
        );
    }

    /// Becomes the leader of the current term and appends the empty entry
    /// that commits the entries of earlier terms.
    ///
    /// # Panics
    ///
    /// If this node is a follower; it must have won an election.
    pub fn become_leader(&mut self) {
        if self.state == StateRole::Follower {
            panic!("invalid transition [follower -> leader]");
        }
        self.reset(self.term);
        self.lead = self.id;
        self.state = StateRole::Leader;
        // The leader is trivially caught up with itself, and always active.
        if let Some(pr) = self.trk.progress.get_mut(self.id) {
            pr.become_replicate();
            pr.recent_active = true;
        }

        // The uncommitted tail might hold a conf change. Rather than scan
        // it, assume it does: the next conf change then merely waits until
        // the tail is applied.
        self.pending_conf_index = self.raft_log.last_index();

        if !self.append_entry(vec![crate::eraftpb::Entry::default()]) {
            // reset() just zeroed the uncommitted size, and empty entries
            // always fit.
            fatal!(self.raft_log.logger, "empty entry was dropped");
        }
        slog::info!(
            self.raft_log.logger,
            "{:x} became leader at term {}",
            self.id,
            self.term
        );
    }

    /// Starts a campaign of kind `t` if this node may (etcd `hup`).
    pub fn hup(&mut self, t: CampaignType) {
        if self.state == StateRole::Leader {
            slog::debug!(
                self.raft_log.logger,
                "{:x} ignoring MsgHup because already leader",
                self.id
            );
            return;
        }
        if !self.promotable() {
            slog::warn!(
                self.raft_log.logger,
                "{:x} is unpromotable and can not campaign",
                self.id
            );
            return;
        }
        if self.has_unapplied_conf_changes() {
            slog::warn!(
                self.raft_log.logger,
                "{:x} cannot campaign at term {} since there are still pending configuration changes to apply",
                self.id,
                self.term
            );
            return;
        }
        slog::info!(
            self.raft_log.logger,
            "{:x} is starting a new election at term {}",
            self.id,
            self.term
        );
        self.campaign(t);
    }

    /// Whether a committed but unapplied entry is a conf change; such a
    /// node must not campaign, since its configuration is about to change.
    pub fn has_unapplied_conf_changes(&self) -> bool {
        if self.raft_log.applied >= self.raft_log.committed {
            return false;
        }
        let mut found = false;
        // Page through the entries so a long unapplied tail does not need to
        // be held in memory at once.
        let lo = self.raft_log.applied + 1;
        let hi = self.raft_log.committed + 1;
        let page_size = self.raft_log.max_applying_ents_size;
        let res: std::result::Result<(), Option<crate::Error>> =
            self.raft_log.scan(lo, hi, page_size, |ents| {
                let has_cc = ents.iter().any(|e| {
                    matches!(
                        e.get_type(),
                        EntryType::EntryConfChange | EntryType::EntryConfChangeV2
                    )
                });
                if has_cc {
                    found = true;
                    // Stop scanning: one is enough.
                    return Err(None);
                }
                Ok(())
            });
        if let Err(Some(e)) = res {
            fatal!(
                self.raft_log.logger,
                "error scanning unapplied entries [{}, {}): {}",
                lo,
                hi,
                e
            );
        }
        found
    }

    /// Becomes (pre-)candidate and asks every voter for its vote (etcd
    /// `campaign`). Callers check that this node may campaign.
    pub fn campaign(&mut self, t: CampaignType) {
        if !self.promotable() {
            // Callers are supposed to check; stay safe but say so.
            slog::warn!(
                self.raft_log.logger,
                "{:x} is unpromotable; campaign() should have been called",
                self.id
            );
        }
        let (term, vote_msg) = if t == CampaignType::PreElection {
            self.become_pre_candidate();
            // Pre-votes are for the term this node would campaign in.
            (self.term + 1, MessageType::MsgPreVote)
        } else {
            self.become_candidate();
            (self.term, MessageType::MsgVote)
        };
        let vote_resp = if vote_msg == MessageType::MsgVote {
            MessageType::MsgVoteResp
        } else {
            MessageType::MsgPreVoteResp
        };
        // Sending changes nothing in the log: look its end up once.
        let last = self.raft_log.last_entry_id();
        let ids = self.trk.config.voters.ids();
        for id in ids.iter() {
            if id == self.id {
                // The self-vote counts once it is durable, like any vote:
                // it goes through msgs_after_append back to this node.
                let mut m = Message::new(vote_resp);
                m.to = id;
                m.term = term;
                self.send(m);
                continue;
            }
            slog::info!(
                self.raft_log.logger,
                "{:x} [logterm: {}, index: {}] sent {:?} request to {:x} at term {}",
                self.id,
                last.term,
                last.index,
                vote_msg,
                id,
                self.term
            );
            let mut m = Message::new(vote_msg);
            m.to = id;
            m.term = term;
            m.index = last.index;
            m.log_term = last.term;
            if t == CampaignType::Transfer {
                m.context = bytes::Bytes::from_static(super::CAMPAIGN_TRANSFER);
            }
            self.send(m);
        }
    }

    /// Records `id`'s vote `v` in a vote of type `t` and returns the tally
    /// (etcd `poll`).
    pub fn poll(&mut self, id: u64, t: MessageType, v: bool) -> (usize, usize, VoteResult) {
        if v {
            slog::info!(
                self.raft_log.logger,
                "{:x} received {:?} from {:x} at term {}",
                self.id,
                t,
                id,
                self.term
            );
        } else {
            slog::info!(
                self.raft_log.logger,
                "{:x} received {:?} rejection from {:x} at term {}",
                self.id,
                t,
                id,
                self.term
            );
        }
        self.trk.record_vote(id, v);
        self.trk.tally_votes()
    }
}
