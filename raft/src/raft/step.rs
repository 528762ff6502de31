//! Message dispatch (etcd `Step`, `stepLeader`, `stepCandidate`,
//! `stepFollower`).

use prost::Message as _;

use super::{CampaignType, Raft, StateRole, CAMPAIGN_TRANSFER, NONE};
use crate::eraftpb::{
    ConfChange, ConfChangeI, ConfChangeV2, Entry, EntryType, Message, MessageType,
};
use crate::errors::{Error, Result};
use crate::quorum::VoteResult;
use crate::raft_log::EntryId;
use crate::read_only::{ReadOnlyOption, ReadState};
use bytes::Bytes;

use crate::storage::Storage;
use crate::tracker::StateType;

impl<S: Storage> Raft<S> {
    /// Advances the state machine with message `m` (etcd `Step`).
    ///
    /// Handles the message's term first (stepping down on a higher one,
    /// mostly ignoring a lower one), then the messages every role treats
    /// alike, then dispatches on the role.
    #[inline]
    pub fn step(&mut self, mut m: Message) -> Result<()> {
        // The work is done on a borrowed message: a Message is 160 bytes,
        // and each by-value hand-over between functions is a copy. This
        // wrapper inlines into the caller, so the caller's message is the
        // one worked on.
        self.step_mut(&mut m)
    }

    // `step` on a borrowed message; the handlers take from it what they
    // keep (entries, context, snapshot), and the caller drops the rest.
    pub(crate) fn step_mut(&mut self, m: &mut Message) -> Result<()> {
        let t = m.get_type();
        if m.term == 0 {
            // A local message.
        } else if m.term > self.term {
            if t == MessageType::MsgVote || t == MessageType::MsgPreVote {
                let force = m.context.as_ref() == CAMPAIGN_TRANSFER;
                let in_lease = self.check_quorum
                    && self.lead != NONE
                    && self.election_elapsed < self.election_timeout;
                if !force && in_lease {
                    // A leader was heard from less than an election
                    // timeout ago: its lease holds, so this candidate can
                    // neither raise our term nor get our vote (thesis 4.2.3).
                    let last = self.raft_log.last_entry_id();
                    slog::info!(
                        self.raft_log.logger,
                        "{:x} [logterm: {}, index: {}, vote: {:x}] ignored {:?} from {:x} [logterm: {}, index: {}] at term {}: lease is not expired (remaining ticks: {})",
                        self.id,
                        last.term,
                        last.index,
                        self.vote,
                        t,
                        m.from,
                        m.log_term,
                        m.index,
                        self.term,
                        self.election_timeout as i64 - self.election_elapsed as i64
                    );
                    return Ok(());
                }
            }
            if t == MessageType::MsgPreVote {
                // A pre-vote never changes our term.
            } else if t == MessageType::MsgPreVoteResp && !m.reject {
                // Granted pre-votes carry the future term we asked about; the
                // term moves only once a quorum grants them.
            } else {
                slog::info!(
                    self.raft_log.logger,
                    "{:x} [term: {}] received a {:?} message with higher term from {:x} [term: {}]",
                    self.id,
                    self.term,
                    t,
                    m.from,
                    m.term
                );
                if matches!(
                    t,
                    MessageType::MsgApp | MessageType::MsgHeartbeat | MessageType::MsgSnap
                ) {
                    self.become_follower(m.term, m.from);
                } else {
                    self.become_follower(m.term, NONE);
                }
            }
        } else if m.term < self.term {
            if (self.check_quorum || self.pre_vote)
                && (t == MessageType::MsgHeartbeat || t == MessageType::MsgApp)
            {
                // A leader of an older term: this node may have raised its
                // term while partitioned and now cannot win or rejoin. With
                // check quorum or pre-vote, vote requests will not raise the
                // leader's term, so tell the leader ours; it steps down and
                // a fresh election frees this node.
                let mut resp = Message::new(MessageType::MsgAppResp);
                resp.to = m.from;
                self.send(resp);
            } else if t == MessageType::MsgPreVote {
                // Dropping it could deadlock a cluster that just enabled
                // pre-vote: reject explicitly.
                self.log_vote_rejection(m);
                let mut resp = Message::new(MessageType::MsgPreVoteResp);
                resp.to = m.from;
                resp.term = self.term;
                resp.reject = true;
                self.send(resp);
            } else if t == MessageType::MsgStorageAppendResp {
                if m.index != 0 {
                    // The entries may have been overwritten in a later term
                    // meanwhile: do not mark them stable.
                    slog::info!(
                        self.raft_log.logger,
                        "{:x} [term: {}] ignored entry appends from a {:?} message with lower term [term: {}]",
                        self.id,
                        self.term,
                        t,
                        m.term
                    );
                }
                // A snapshot holds committed state, valid in any term.
                if let Some(snap) = &m.snapshot {
                    self.applied_snap(snap);
                }
            } else {
                slog::info!(
                    self.raft_log.logger,
                    "{:x} [term: {}] ignored a {:?} message with lower term from {:x} [term: {}]",
                    self.id,
                    self.term,
                    t,
                    m.from,
                    m.term
                );
            }
            return Ok(());
        }

        match t {
            MessageType::MsgHup => {
                if self.pre_vote {
                    self.hup(CampaignType::PreElection);
                } else {
                    self.hup(CampaignType::Election);
                }
            }
            MessageType::MsgStorageAppendResp => {
                if m.index != 0 {
                    self.raft_log.stable_to(EntryId {
                        term: m.log_term,
                        index: m.index,
                    });
                }
                if let Some(snap) = &m.snapshot {
                    self.applied_snap(snap);
                }
            }
            MessageType::MsgStorageApplyResp => {
                if let Some(last) = m.entries.last() {
                    self.handle_storage_apply_resp(
                        last.index,
                        crate::util::ents_size(&m.entries),
                        crate::util::payloads_size(&m.entries),
                    );
                }
            }
            MessageType::MsgVote | MessageType::MsgPreVote => self.handle_vote_request(m),
            _ => match self.state {
                StateRole::Leader => return self.step_leader(m),
                StateRole::Candidate | StateRole::PreCandidate => return self.step_candidate(m),
                StateRole::Follower => return self.step_follower(m),
            },
        }
        Ok(())
    }

    /// Handles the acknowledgement that the entries up to `last_index`
    /// (`size` bytes encoded, `payload_size` bytes of payload) were applied:
    /// what stepping a MsgStorageApplyResp carrying those entries does.
    /// `RawNode::advance` calls it directly instead of building that
    /// message from a copy of the entries.
    pub fn handle_storage_apply_resp(&mut self, last_index: u64, size: u64, payload_size: u64) {
        self.applied_to(last_index, size);
        self.reduce_uncommitted_size(payload_size);
    }

    /// Decides on a (pre-)vote request of the current or, for pre-votes, a
    /// future term.
    fn handle_vote_request(&mut self, m: &Message) {
        let t = m.get_type();
        // A repeat of our vote, or no vote and no known leader this term,
        // or a pre-vote for a future term...
        let can_vote = self.vote == m.from
            || (self.vote == NONE && self.lead == NONE)
            || (t == MessageType::MsgPreVote && m.term > self.term);
        // ...and the candidate's log is at least as up to date as ours.
        let last = self.raft_log.last_entry_id();
        let cand = EntryId {
            term: m.log_term,
            index: m.index,
        };
        let resp_type = if t == MessageType::MsgVote {
            MessageType::MsgVoteResp
        } else {
            MessageType::MsgPreVoteResp
        };
        // Learners vote too: one may have been promoted without knowing it
        // yet, and the candidate may need its vote to win.
        // The `sim-planted-bug` feature (tests of the simulator only)
        // skips the up-to-date check.
        if can_vote && (cfg!(feature = "sim-planted-bug") || self.raft_log.is_up_to_date(cand)) {
            if m.term == 0 {
                // A termless request (which etcd, like us, steps as a local
                // message) could only be granted with a termless answer, on
                // which etcd panics; `RawNode::step` refuses it, and here it
                // is dropped.
                slog::debug!(
                    self.raft_log.logger,
                    "{:x} ignored {:?} without a term from {:x}",
                    self.id,
                    t,
                    m.from
                );
                return;
            }
            slog::info!(
                self.raft_log.logger,
                "{:x} [logterm: {}, index: {}, vote: {:x}] cast {:?} for {:x} [logterm: {}, index: {}] at term {}",
                self.id,
                last.term,
                last.index,
                self.vote,
                t,
                m.from,
                cand.term,
                cand.index,
                self.term
            );
            // Answer with the request's term, not ours: for a pre-vote ours
            // may be older, and the candidate would ignore a stale answer.
            let mut resp = Message::new(resp_type);
            resp.to = m.from;
            resp.term = m.term;
            self.send(resp);
            if t == MessageType::MsgVote {
                // Only real votes are recorded.
                self.election_elapsed = 0;
                self.vote = m.from;
            }
        } else {
            self.log_vote_rejection(m);
            if self.term == 0 {
                // Only a node whose log holds entries but that never saw a
                // term gets here (a peer's termless append, or a storage
                // without hard state); a termless rejection is invalid and
                // etcd panics on it. The candidate learns nothing from it
                // anyway, so send none.
                return;
            }
            let mut resp = Message::new(resp_type);
            resp.to = m.from;
            resp.term = self.term;
            resp.reject = true;
            self.send(resp);
        }
    }

    /// The leader's handling of messages (etcd `stepLeader`).
    fn step_leader(&mut self, m: &mut Message) -> Result<()> {
        // First the messages that need no progress of the sender.
        match m.get_type() {
            MessageType::MsgBeat => {
                self.bcast_heartbeat();
                return Ok(());
            }
            MessageType::MsgCheckQuorum => {
                self.leader_check_quorum();
                return Ok(());
            }
            MessageType::MsgProp => return self.propose(m),
            MessageType::MsgReadIndex => {
                self.leader_read_index(std::mem::take(m));
                return Ok(());
            }
            MessageType::MsgForgetLeader => return Ok(()), // no-op on the leader
            _ => {}
        }

        let from = m.from;
        let Some(pr) = self.trk.progress.get_mut(from) else {
            slog::debug!(
                self.raft_log.logger,
                "{:x} no progress available for {:x}",
                self.id,
                from
            );
            return Ok(());
        };
        match m.get_type() {
            MessageType::MsgAppResp => {
                // Also reached through the leader's own acknowledgement of
                // its appended entries.
                pr.recent_active = true;
                if m.reject {
                    self.handle_append_rejection(m);
                } else {
                    self.handle_append_success(m);
                }
            }
            MessageType::MsgHeartbeatResp => {
                pr.recent_active = true;
                pr.msg_app_flow_paused = false;
                let (matched, state) = (pr.matched, pr.state);
                self.heartbeat_acked(m, matched, state);
            }
            MessageType::MsgSnapStatus => {
                if pr.state != StateType::Snapshot {
                    return Ok(());
                }
                if !m.reject {
                    pr.become_probe();
                    slog::debug!(
                        self.raft_log.logger,
                        "{:x} snapshot succeeded, resumed sending replication messages to {:x} [{}]",
                        self.id,
                        from,
                        pr.display(self.trk.inflight_limits)
                    );
                } else {
                    // Clear the pending snapshot first, or probing would
                    // start after a snapshot that never got applied.
                    pr.pending_snapshot = 0;
                    pr.become_probe();
                    slog::debug!(
                        self.raft_log.logger,
                        "{:x} snapshot failed, resumed sending replication messages to {:x} [{}]",
                        self.id,
                        from,
                        pr.display(self.trk.inflight_limits)
                    );
                }
                // After a success, wait for the follower's MsgAppResp; after
                // a failure, for the next heartbeat.
                pr.msg_app_flow_paused = true;
            }
            MessageType::MsgUnreachable => {
                // An append to an unreachable peer was likely lost; stop
                // streaming optimistically.
                if pr.state == StateType::Replicate {
                    pr.become_probe();
                }
                slog::debug!(
                    self.raft_log.logger,
                    "{:x} failed to send message to {:x} because it is unreachable [{}]",
                    self.id,
                    from,
                    pr.display(self.trk.inflight_limits)
                );
            }
            MessageType::MsgTransferLeader => {
                if pr.is_learner {
                    slog::debug!(
                        self.raft_log.logger,
                        "{:x} is learner. Ignored transferring leadership",
                        self.id
                    );
                    return Ok(());
                }
                let matched = pr.matched;
                let lead_transferee = from;
                let last_lead_transferee = self.lead_transferee;
                if last_lead_transferee != NONE {
                    if last_lead_transferee == lead_transferee {
                        slog::info!(
                            self.raft_log.logger,
                            "{:x} [term {}] transfer leadership to {:x} is in progress, ignores request to same node {:x}",
                            self.id,
                            self.term,
                            lead_transferee,
                            lead_transferee
                        );
                        return Ok(());
                    }
                    self.abort_leader_transfer();
                    slog::info!(
                        self.raft_log.logger,
                        "{:x} [term {}] abort previous transferring leadership to {:x}",
                        self.id,
                        self.term,
                        last_lead_transferee
                    );
                }
                if lead_transferee == self.id {
                    slog::debug!(
                        self.raft_log.logger,
                        "{:x} is already leader. Ignored transferring leadership to self",
                        self.id
                    );
                    return Ok(());
                }
                slog::info!(
                    self.raft_log.logger,
                    "{:x} [term {}] starts to transfer leadership to {:x}",
                    self.id,
                    self.term,
                    lead_transferee
                );
                // The transfer must finish within one election timeout.
                self.election_elapsed = 0;
                self.lead_transferee = lead_transferee;
                if matched == self.raft_log.last_index() {
                    self.send_timeout_now(lead_transferee);
                    slog::info!(
                        self.raft_log.logger,
                        "{:x} sends MsgTimeoutNow to {:x} immediately as {:x} already has up-to-date log",
                        self.id,
                        lead_transferee,
                        lead_transferee
                    );
                } else {
                    self.send_append(lead_transferee);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The leader's check-quorum (`MsgCheckQuorum`): steps down unless a
    /// quorum was active since the last check, then marks every peer
    /// inactive for the next one.
    pub(super) fn leader_check_quorum(&mut self) {
        if !self.trk.quorum_active() {
            slog::warn!(
                self.raft_log.logger,
                "{:x} stepped down to follower since quorum is not active",
                self.id
            );
            self.become_follower(self.term, NONE);
        }
        // Everyone but this node must prove itself active again before the
        // next check.
        let self_id = self.id;
        self.trk.visit(|id, pr| {
            if id != self_id {
                pr.recent_active = false;
            }
        });
    }

    /// The leader's handling of a proposal: validates conf changes against
    /// the active configuration, appends and broadcasts.
    // Whether this leader drops every proposal for now: it was removed from
    // the configuration (it must not grow the log any more), or it is
    // transferring its leadership.
    fn refuses_proposals(&self) -> bool {
        if !self.trk.progress.contains(self.id) {
            return true;
        }
        if self.lead_transferee != NONE {
            slog::debug!(
                self.raft_log.logger,
                "{:x} [term {}] transfer leadership to {:x} is in progress; dropping proposal",
                self.id,
                self.term,
                self.lead_transferee
            );
            return true;
        }
        false
    }

    /// What stepping a `MsgProp` with one normal entry carrying `data`
    /// does on a leader, without building the message: the 160-byte
    /// message and its one-entry vector cost more than the rest of a
    /// proposal. A normal entry needs none of the conf-change checks.
    pub(crate) fn propose_on_leader(&mut self, data: Bytes) -> Result<()> {
        debug_assert_eq!(self.state, StateRole::Leader);
        if self.refuses_proposals() {
            return Err(Error::ProposalDropped);
        }
        let e = Entry {
            data,
            ..Default::default()
        };
        if !self.append_one_entry(e) {
            return Err(Error::ProposalDropped);
        }
        self.bcast_append();
        Ok(())
    }

    fn propose(&mut self, m: &mut Message) -> Result<()> {
        if m.entries.is_empty() {
            // etcd panics; a proposal may come from a peer, so it is
            // refused instead.
            slog::error!(self.raft_log.logger, "{:x} stepped empty MsgProp", self.id);
            return Err(Error::ProposalDropped);
        }
        if self.refuses_proposals() {
            return Err(Error::ProposalDropped);
        }

        let pending_conf_index = self.pending_conf_index;
        for i in 0..m.entries.len() {
            let cc = match decode_conf_change(&m.entries[i]) {
                Ok(Some(cc)) => cc,
                Ok(None) => continue,
                Err(e) => {
                    // Nothing of the proposal is appended, so an earlier
                    // conf change in it must not count as pending.
                    self.pending_conf_index = pending_conf_index;
                    return Err(e);
                }
            };
            let already_pending = self.pending_conf_index > self.raft_log.applied;
            let already_joint = !self.trk.config.voters[1].is_empty();
            let wants_leave_joint = cc.changes.is_empty();

            // Without validation the reason would only be thrown away.
            let failed_check = if self.disable_conf_change_validation {
                None
            } else if already_pending {
                Some(format!(
                    "possible unapplied conf change at index {} (applied to {})",
                    self.pending_conf_index, self.raft_log.applied
                ))
            } else if already_joint && !wants_leave_joint {
                Some("must transition out of joint config first".to_string())
            } else if !already_joint && wants_leave_joint {
                Some("not in joint state; refusing empty conf change".to_string())
            } else {
                None
            };

            match failed_check {
                Some(failed) => {
                    slog::info!(
                        self.raft_log.logger,
                        "{:x} ignoring conf change {} at config {}: {}",
                        self.id,
                        crate::describe::describe_conf_change(&cc),
                        self.trk.config,
                        failed
                    );
                    // Keep the slot so indexes stay as proposed, but make it
                    // a no-op. The type is set, as etcd sets it, so that the
                    // entry's encoded size is etcd's.
                    m.entries[i] = Entry {
                        entry_type: Some(EntryType::EntryNormal as i32),
                        ..Default::default()
                    };
                }
                None => {
                    self.pending_conf_index = self.raft_log.last_index() + i as u64 + 1;
                }
            }
        }

        if !self.append_entry(std::mem::take(&mut m.entries)) {
            return Err(Error::ProposalDropped);
        }
        self.bcast_append();
        Ok(())
    }

    /// A rejected append: lower the follower's next index, skipping what
    /// cannot match, and probe again.
    fn handle_append_rejection(&mut self, m: &Message) {
        // reject_hint is where the follower suggests to probe next, and
        // log_term its term there (zero from old versions or empty logs).
        slog::debug!(
            self.raft_log.logger,
            "{:x} received MsgAppResp(rejected, hint: (index {}, term {})) from {:x} for index {}",
            self.id,
            m.reject_hint,
            m.log_term,
            m.from,
            m.index
        );
        let mut next_probe_idx = m.reject_hint;
        if m.log_term > 0 {
            // Every index of our log whose term exceeds the follower's term
            // at the hint cannot match (terms only grow along a log), so
            // probe at the largest index whose term is at most that. This
            // probes at most once per term of our log.
            next_probe_idx = self
                .raft_log
                .find_conflict_by_term(m.reject_hint, m.log_term)
                .0;
        }
        let Some(pr) = self.trk.progress.get_mut(m.from) else {
            return;
        };
        if pr.maybe_decr_to(m.index, next_probe_idx) {
            slog::debug!(
                self.raft_log.logger,
                "{:x} decreased progress of {:x} to [{}]",
                self.id,
                m.from,
                pr.display(self.trk.inflight_limits)
            );
            if pr.state == StateType::Replicate {
                pr.become_probe();
            }
            self.send_append(m.from);
        }
    }

    /// An accepted append: update the follower's progress, commit what a
    /// quorum has, and keep the follower's pipeline full. The sender is
    /// marked recently active; returns false, doing nothing, if it has no
    /// progress.
    fn handle_append_success(&mut self, m: &Message) -> bool {
        let from = m.from;
        let last_index = self.raft_log.last_index();
        let committed = self.raft_log.committed;
        // One progress lookup for everything below up to the commit: a
        // leader steps two of these per entry and follower.
        let Some(pr) = self.trk.progress.get_mut(from) else {
            return false;
        };
        pr.recent_active = true;
        if m.index > last_index {
            // Within a term the leader's log only grows and followers only
            // ack what it sent, so this ack is bogus. Taking it would make
            // the progress point past the log, where etcd ends up panicking
            // for want of a snapshot.
            slog::debug!(
                self.raft_log.logger,
                "{:x} ignored MsgAppResp from {:x} for index {} beyond its last index {}",
                self.id,
                from,
                m.index,
                last_index
            );
            return true;
        }
        // Also update when the ack merely confirms `matched` of a probing
        // follower: that moves it back to replicating.
        let updated = pr.maybe_update(m.index);
        if !(updated || (pr.matched == m.index && pr.state == StateType::Probe)) {
            return true;
        }
        match pr.state {
            StateType::Probe => pr.become_replicate(),
            StateType::Snapshot if pr.matched + 1 >= self.raft_log.first_index() => {
                // Whatever snapshot the follower applied, it can now be
                // caught up from the log. Go through probing, which accounts
                // for the pending snapshot, to replicating at once.
                slog::debug!(
                    self.raft_log.logger,
                    "{:x} recovered from needing snapshot, resumed sending replication messages to {:x} [{}]",
                    self.id,
                    from,
                    pr.display(self.trk.inflight_limits)
                );
                pr.become_probe();
                pr.become_replicate();
            }
            StateType::Replicate => pr.inflights.free_le(m.index),
            StateType::Snapshot => {}
        }
        // Used only if nothing commits below, when the commit index and
        // this progress are still as they are now.
        let bump_commit = from != self.id && pr.can_bump_commit(committed);

        // The quorum index can only pass the commit index through a match
        // above it: an ack at or below it leaves every such match as it
        // was, so the (per-ack) quorum computation is skipped. This is the
        // second ack of every entry in a three-voter group.
        if m.index > committed && self.maybe_commit() {
            // An entry of this term committed: pending reads can be served.
            self.release_pending_read_index_messages();
            self.bcast_append();
        } else if bump_commit {
            // The follower may lack the latest commit index; a heartbeat
            // would bring it too, but this arrives sooner.
            self.send_append(from);
        }
        // The window may have opened for several appends (after probing, or
        // when several in-flight appends were acked): send what we can,
        // without empty commit-only messages.
        if from != self.id {
            while self.maybe_send_append(from, false) {}
        }
        // A transfer in progress completes once the target is caught up.
        if from == self.lead_transferee
            && self
                .trk
                .progress
                .get(from)
                .is_some_and(|pr| pr.matched == self.raft_log.last_index())
        {
            slog::info!(
                self.raft_log.logger,
                "{:x} sent MsgTimeoutNow to {:x} after received MsgAppResp",
                self.id,
                from
            );
            self.send_timeout_now(from);
        }
        true
    }

    /// The (pre-)candidate's handling of messages (etcd `stepCandidate`).
    fn step_candidate(&mut self, m: &mut Message) -> Result<()> {
        // Only answers to this candidacy count; a candidate may still get
        // pre-vote answers from its pre-candidacy in the same term.
        let my_vote_resp = if self.state == StateRole::PreCandidate {
            MessageType::MsgPreVoteResp
        } else {
            MessageType::MsgVoteResp
        };
        let t = m.get_type();
        match t {
            MessageType::MsgProp => {
                slog::info!(
                    self.raft_log.logger,
                    "{:x} no leader at term {}; dropping proposal",
                    self.id,
                    self.term
                );
                return Err(Error::ProposalDropped);
            }
            MessageType::MsgApp => {
                // m.term == self.term: a leader won this term.
                self.become_follower(m.term, m.from);
                self.handle_append_entries_mut(m);
            }
            MessageType::MsgHeartbeat => {
                self.become_follower(m.term, m.from);
                self.handle_heartbeat_mut(m);
            }
            MessageType::MsgSnap => {
                self.become_follower(m.term, m.from);
                self.handle_snapshot_mut(m);
            }
            _ if t == my_vote_resp => {
                let (gr, rj, res) = self.poll(m.from, t, !m.reject);
                slog::info!(
                    self.raft_log.logger,
                    "{:x} has received {} {:?} votes and {} vote rejections",
                    self.id,
                    gr,
                    t,
                    rj
                );
                match res {
                    VoteResult::VoteWon => {
                        if self.state == StateRole::PreCandidate {
                            self.campaign(CampaignType::Election);
                        } else {
                            self.become_leader();
                            self.bcast_append();
                        }
                    }
                    VoteResult::VoteLost => {
                        // A pre-vote answer carries our future term; stay
                        // in ours.
                        self.become_follower(self.term, NONE);
                    }
                    VoteResult::VotePending => {}
                }
            }
            MessageType::MsgTimeoutNow => {
                slog::debug!(
                    self.raft_log.logger,
                    "{:x} [term {} state {}] ignored MsgTimeoutNow from {:x}",
                    self.id,
                    self.term,
                    self.state,
                    m.from
                );
            }
            _ => {}
        }
        Ok(())
    }

    /// A follower's handling of an append from the leader of its term:
    /// what `step_mut` does with it, for `RawNode`'s path of steady
    /// replication.
    #[inline]
    pub(crate) fn step_follower_append(&mut self, m: &mut Message) {
        self.election_elapsed = 0;
        self.lead = m.from;
        self.handle_append_entries_mut(m);
    }

    /// The leader's handling of an accepting acknowledgement of its term:
    /// what `step_mut` does with it, for `RawNode`'s path of steady
    /// replication. Returns false, doing nothing, if the sender has no
    /// progress (the usual path refuses or ignores that).
    #[inline]
    pub(crate) fn step_leader_append_ack(&mut self, m: &Message) -> bool {
        self.handle_append_success(m)
    }

    /// A follower's handling of a heartbeat from the leader of its term:
    /// what `step_mut` does with it, for `RawNode`'s direct path.
    #[inline]
    pub(crate) fn step_follower_heartbeat(&mut self, m: &mut Message) {
        self.election_elapsed = 0;
        self.lead = m.from;
        self.handle_heartbeat_mut(m);
    }

    /// The leader's handling of a heartbeat response of its term: what
    /// `step_mut` does with it, for `RawNode`'s direct path. Returns false,
    /// doing nothing, if the sender has no progress (the usual path refuses
    /// or ignores that).
    #[inline]
    pub(crate) fn step_leader_heartbeat_ack(&mut self, m: &Message) -> bool {
        let Some(pr) = self.trk.progress.get_mut(m.from) else {
            return false;
        };
        pr.recent_active = true;
        pr.msg_app_flow_paused = false;
        let (matched, state) = (pr.matched, pr.state);
        self.heartbeat_acked(m, matched, state);
        true
    }

    // The rest of a heartbeat response's handling, once the sender's
    // progress (now at `matched`, in `state`) is marked active and unpaused.
    #[inline]
    fn heartbeat_acked(&mut self, m: &Message, matched: u64, state: StateType) {
        // An append (possibly empty) lets a follower with a full window, or
        // a caught-up follower stuck probing, recover; in StateSnapshot the
        // progress is paused so nothing is sent.
        if matched < self.raft_log.last_index() || state == StateType::Probe {
            self.send_append(m.from);
        }
        if self.read_only_option != ReadOnlyOption::Safe || m.context.is_empty() {
            return;
        }
        self.read_only.recv_ack(m.from, &m.context);
        let rss = self.read_only.maybe_advance(&self.trk.config.voters);
        for rs in rss {
            if let Some(resp) = self.response_to_read_index_req(rs.req, rs.index) {
                self.send(resp);
            }
        }
    }

    /// The follower's handling of messages (etcd `stepFollower`).
    fn step_follower(&mut self, m: &mut Message) -> Result<()> {
        match m.get_type() {
            MessageType::MsgProp => {
                if self.lead == NONE {
                    slog::info!(
                        self.raft_log.logger,
                        "{:x} no leader at term {}; dropping proposal",
                        self.id,
                        self.term
                    );
                    return Err(Error::ProposalDropped);
                } else if self.disable_proposal_forwarding {
                    slog::info!(
                        self.raft_log.logger,
                        "{:x} not forwarding to leader {:x} at term {}; dropping proposal",
                        self.id,
                        self.lead,
                        self.term
                    );
                    return Err(Error::ProposalDropped);
                }
                self.forward_to_leader(std::mem::take(m));
            }
            MessageType::MsgApp => self.step_follower_append(m),
            MessageType::MsgHeartbeat => self.step_follower_heartbeat(m),
            MessageType::MsgSnap => {
                self.election_elapsed = 0;
                self.lead = m.from;
                self.handle_snapshot_mut(m);
            }
            MessageType::MsgTransferLeader => {
                self.forward_or_drop(m, "leader transfer msg");
            }
            MessageType::MsgForgetLeader => {
                if self.read_only_option == ReadOnlyOption::LeaseBased {
                    slog::error!(
                        self.raft_log.logger,
                        "ignoring MsgForgetLeader due to ReadOnlyLeaseBased"
                    );
                    return Ok(());
                }
                if self.lead != NONE {
                    slog::info!(
                        self.raft_log.logger,
                        "{:x} forgetting leader {:x} at term {}",
                        self.id,
                        self.lead,
                        self.term
                    );
                    self.lead = NONE;
                }
            }
            MessageType::MsgTimeoutNow => {
                slog::info!(
                    self.raft_log.logger,
                    "{:x} [term {}] received MsgTimeoutNow from {:x} and starts an election to get leadership.",
                    self.id,
                    self.term,
                    m.from
                );
                // A transfer skips pre-vote even if enabled: there is no
                // partition to recover from.
                self.hup(CampaignType::Transfer);
            }
            MessageType::MsgReadIndex => {
                self.forward_or_drop(m, "index reading msg");
            }
            MessageType::MsgReadIndexResp => {
                if m.entries.len() != 1 {
                    slog::error!(
                        self.raft_log.logger,
                        "{:x} invalid format of MsgReadIndexResp from {:x}, entries count: {}",
                        self.id,
                        m.from,
                        m.entries.len()
                    );
                    return Ok(());
                }
                let request_ctx = std::mem::take(&mut m.entries[0].data);
                self.read_states.push(ReadState {
                    index: m.index,
                    request_ctx,
                });
            }
            _ => {}
        }
        Ok(())
    }
}

impl<S: Storage> Raft<S> {
    /// etcd's log line for a refused (pre-)vote request, written from the
    /// two places that refuse one: a lower-term pre-vote and a vote this node
    /// cannot grant.
    fn log_vote_rejection(&self, m: &Message) {
        let last = self.raft_log.last_entry_id();
        slog::info!(
            self.raft_log.logger,
            "{:x} [logterm: {}, index: {}, vote: {:x}] rejected {:?} from {:x} [logterm: {}, index: {}] at term {}",
            self.id,
            last.term,
            last.index,
            self.vote,
            m.get_type(),
            m.from,
            m.log_term,
            m.index,
            self.term
        );
    }

    /// A follower's handling of a transfer or read-index request: forwarded
    /// to the leader, or dropped (etcd's log line names it as `what`) while
    /// there is none. One helper, so both requests log and forward alike.
    fn forward_or_drop(&mut self, m: &mut Message, what: &str) {
        if self.lead == NONE {
            slog::info!(
                self.raft_log.logger,
                "{:x} no leader at term {}; dropping {}",
                self.id,
                self.term,
                what
            );
            return;
        }
        self.forward_to_leader(std::mem::take(m));
    }

    /// Forwards a proposal, read-index or transfer request to the leader.
    fn forward_to_leader(&mut self, mut m: Message) {
        m.to = self.lead;
        // It passed the term check, so its term is 0 or ours. Clearing it
        // keeps a peer that (wrongly) set one from tripping send()'s term
        // assertion (etcd panics); send() sets the term again where etcd
        // would have kept it.
        m.term = 0;
        self.send(m);
    }
}

/// The conf change an entry carries, as a [`ConfChangeV2`], or `None` for a
/// normal entry. An undecodable one is an error: it comes from the user.
fn decode_conf_change(e: &Entry) -> Result<Option<ConfChangeV2>> {
    match e.get_type() {
        EntryType::EntryConfChange => {
            let cc = ConfChange::decode(e.data.clone())?;
            Ok(Some(cc.as_v2()))
        }
        EntryType::EntryConfChangeV2 => Ok(Some(ConfChangeV2::decode(e.data.clone())?)),
        EntryType::EntryNormal => Ok(None),
    }
}
