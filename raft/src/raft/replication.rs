//! Log replication: the leader's appends, heartbeats and snapshots, the
//! follower's handling of them, and commit and apply bookkeeping.

use bytes::Bytes;

use super::{conf_state_contains, fatal, PendingApp, Raft, StateRole, NONE};
use crate::eraftpb::{Entry, EntryType, Message, MessageType, Snapshot};
use crate::errors::Error;
use crate::raft_log::NO_LIMIT;
use crate::raft_log::{EntryId, LogSlice};
use crate::storage::Storage;
use crate::tracker::{Progress, ProgressTracker, StateType};
use crate::util::{ent_size, ents_size, payloads_size};

impl<S: Storage> Raft<S> {
    /// Appends `es` to the leader's log at the current term (etcd
    /// `appendEntry`), and queues the self-acknowledgement that counts them
    /// once durable. Returns false, appending nothing, if they would exceed
    /// the uncommitted size limit.
    #[must_use = "false means the entries were dropped, not appended"]
    pub fn append_entry(&mut self, mut es: Vec<Entry>) -> bool {
        let li = self.raft_log.last_index();
        for (i, e) in es.iter_mut().enumerate() {
            e.term = self.term;
            e.index = li + 1 + i as u64;
        }
        if !self.admit_uncommitted(&es) {
            return false;
        }
        let li = self.raft_log.append(es);
        self.ack_own_append(li);
        true
    }

    /// [`append_entry`](Raft::append_entry) of a single entry, without the
    /// `Vec` around it (a proposal is one entry; the vector would be one
    /// allocation per proposal).
    #[must_use = "false means the entry was dropped, not appended"]
    pub fn append_one_entry(&mut self, mut e: Entry) -> bool {
        e.term = self.term;
        e.index = self.raft_log.last_index() + 1;
        if !self.admit_uncommitted(std::slice::from_ref(&e)) {
            return false;
        }
        let li = self.raft_log.append_one(e);
        self.ack_own_append(li);
        true
    }

    // Counts `es` against the uncommitted size limit, or says (etcd's log
    // line) why they are dropped.
    #[inline]
    fn admit_uncommitted(&mut self, es: &[Entry]) -> bool {
        if self.increase_uncommitted_size(es) {
            return true;
        }
        slog::warn!(
            self.raft_log.logger,
            "{:x} appending new entries to log would exceed uncommitted entry size limit; dropping proposal",
            self.id
        );
        false
    }

    // The leader sends itself no MsgApp; this response, delivered after
    // the entries up to `li` are persisted, plays the role of the
    // acknowledgement.
    #[inline]
    fn ack_own_append(&mut self, li: u64) {
        if self.own_ack_runs && self.extend_own_ack_run(li) {
            return;
        }
        self.send_append_ack(self.id, li);
    }

    /// Lets the acknowledgement of this node's own append up to `li` join
    /// the one queued last, if that acknowledges the entries up to `li - 1`
    /// in this term: the queued message then stands for the run of
    /// acknowledgements of every index from its `reject_hint` (the run's
    /// first index; an acceptance carries no hint, so it is free) to its
    /// `index`. A leader makes one per proposal, and building, queuing and
    /// dropping a message each is most of what they cost, while stepping
    /// all but the last of them mostly does nothing (see
    /// [`own_ack_run_plan`](Raft::own_ack_run_plan)). Only with
    /// `own_ack_runs`, where `RawNode::advance` steps them; it unrolls a run
    /// into the messages it stands for whenever they would act differently.
    #[inline]
    fn extend_own_ack_run(&mut self, li: u64) -> bool {
        let (id, term) = (self.id, self.term);
        match self.msgs_after_append.last_mut() {
            Some(last)
                if last.msg_type == MessageType::MsgAppResp as i32
                    && last.to == id
                    && last.from == id
                    && last.term == term
                    && !last.reject
                    && last.index.checked_add(1) == Some(li) =>
            {
                if last.reject_hint == 0 {
                    last.reject_hint = last.index;
                }
                last.index = li;
                true
            }
            _ => false,
        }
    }

    /// Acknowledges to `to` the entries up to `index` (an accepting
    /// MsgAppResp): what `send` does with such a message, with the message
    /// built where it is queued. Every append (and proposal, on the leader)
    /// is acknowledged, and building a 160-byte message first and handing
    /// it on costs two copies of it.
    #[inline]
    fn send_append_ack(&mut self, to: u64, index: u64) {
        if self.batch_append {
            let mut m = Message::new(MessageType::MsgAppResp);
            m.to = to;
            m.index = index;
            self.send(m);
            return;
        }
        // As `send`: from this node, at its term, once the entries are
        // durable.
        self.msgs_after_append.push(Message {
            msg_type: MessageType::MsgAppResp as i32,
            to,
            from: self.id,
            term: self.term,
            log_term: 0,
            index,
            entries: Vec::new(),
            commit: 0,
            snapshot: None,
            reject: false,
            reject_hint: 0,
            context: Bytes::new(),
            vote: 0,
            responses: Vec::new(),
        });
    }

    /// Whether `m`, one of the self-addressed messages `RawNode::advance`
    /// steps, is a run of acknowledgements of this node's own appends (see
    /// [`extend_own_ack_run`](Raft::extend_own_ack_run)) rather than one.
    #[inline]
    pub(crate) fn is_own_ack_run(&self, m: &Message) -> bool {
        m.reject_hint != 0
            && m.msg_type == MessageType::MsgAppResp as i32
            && m.from == self.id
            && !m.reject
    }

    /// Steps each of the acknowledgements the run `m` stands for, in
    /// order: what stepping them as separately queued messages does.
    #[cold]
    #[inline(never)]
    pub(crate) fn step_own_ack_run(&mut self, mut m: Message) {
        let first = std::mem::take(&mut m.reject_hint);
        for index in first..m.index {
            let mut ack = m.clone();
            ack.index = index;
            // Errors are impossible for these, and etcd ignores them too.
            let _ = self.step(ack);
        }
        let _ = self.step(m);
    }

    /// Which of the first messages of `steps`, the self-addressed messages
    /// `RawNode::advance` is about to step, do nothing that a later one
    /// does not do too: a leader's acknowledgements of its own appends
    /// (one per proposal, queued separately or as runs), all but the last
    /// of a run of them. `Some(k)`: the first `k` messages can be dropped
    /// unstepped, and the next one stepped as only the last index it
    /// acknowledges. `None`: every acknowledgement must be stepped.
    ///
    /// Stepped one by one, such an acknowledgement raises the leader's own
    /// match index and, if that lets the quorum index pass the commit index,
    /// commits and broadcasts. The last one of the run raises the match
    /// index to the highest of them in one go, so the others can go unless
    /// one of them would commit on its own: hence the quorum index is
    /// computed once, as if the last skipped one were stepped (it grows with
    /// the match index, so the earlier ones commit nothing either). Nothing
    /// else in their handling differs: the leader sends itself no appends,
    /// so it has nothing in flight to free.
    pub(crate) fn superseded_own_acks(&mut self, steps: &[Message]) -> Option<usize> {
        if self.state != StateRole::Leader || self.lead_transferee == self.id {
            return None;
        }
        let (id, term) = (self.id, self.term);
        let own_ack = |m: &Message| {
            m.msg_type == MessageType::MsgAppResp as i32
                && m.from == id
                && m.to == id
                && m.term == term
                && !m.reject
        };
        // The first index a message acknowledges: a run's first, or its
        // only one.
        let first = |m: &Message| {
            if m.reject_hint != 0 {
                m.reject_hint
            } else {
                m.index
            }
        };
        let run = steps.iter().take_while(|m| own_ack(m)).count();
        if run == 0 || !steps[..run].windows(2).all(|w| w[0].index < first(&w[1])) {
            return None;
        }
        let last = &steps[run - 1];
        let last_skipped = if first(last) < last.index {
            last.index - 1
        } else if run >= 2 {
            steps[run - 2].index
        } else {
            return None;
        };
        let committed = self.raft_log.committed;
        let pr = self.trk.progress.get_mut(id)?;
        if pr.state != StateType::Replicate {
            return None;
        }
        if last_skipped > committed && last_skipped > pr.matched {
            let matched = pr.matched;
            pr.matched = last_skipped;
            let quorum = self.trk.committed();
            if let Some(pr) = self.trk.progress.get_mut(id) {
                pr.matched = matched;
            }
            if quorum > committed {
                return None;
            }
        }
        Some(run - 1)
    }

    /// Sends `to` what it lacks of the log, or, with nothing to send, an
    /// empty append that still carries the commit index (etcd
    /// `sendAppend`).
    pub fn send_append(&mut self, to: u64) {
        self.maybe_send_append(to, true);
    }

    /// Sends an append to `to` if its flow allows one (etcd
    /// `maybeSendAppend`). With `send_if_empty` false, an append without
    /// entries is not sent (it would only carry the commit index). Falls
    /// back to a snapshot when the entries are gone from the log. Returns
    /// whether a message was sent.
    #[inline]
    pub fn maybe_send_append(&mut self, to: u64, send_if_empty: bool) -> bool {
        // A leader asks this after every acknowledgement, for a follower
        // that is mostly sent everything already: answered here, inlined,
        // as the full path below would (without batch_append, which may
        // still add a commit index to a pending append).
        if !send_if_empty && !self.batch_append {
            match self.trk.progress.get(to) {
                Some(pr) if !pr.is_paused() && pr.next - 1 != self.raft_log.last_index() => {}
                _ => return false,
            }
        }
        self.send_append_if_allowed(to, send_if_empty)
    }

    // `maybe_send_append` past its inlined early exit.
    #[inline(never)]
    fn send_append_if_allowed(&mut self, to: u64, send_if_empty: bool) -> bool {
        if self.batch_append {
            if let Some(sent) = self.extend_pending_append(to, send_if_empty) {
                return sent;
            }
        }
        let Some(pr) = self.trk.progress.get_mut(to) else {
            return false;
        };
        if pr.is_paused() {
            return false;
        }
        let prev_index = pr.next - 1;
        if !send_if_empty && prev_index == self.raft_log.last_index() {
            // The follower is sent everything: no entries to send, and an
            // empty append is not wanted. The path below ends the same way
            // (the last entry's term is always known, as last_entry_id
            // relies on, and the entries after it are none) but looks both
            // up first; a leader asks this after every acknowledgement.
            return false;
        }
        let Ok(prev_term) = self.raft_log.term(prev_index) else {
            // The log was compacted past what the follower needs.
            return self.maybe_send_snapshot(to);
        };
        // A throttled replicating follower gets empty appends only, which
        // still get acked or rejected and so free the in-flight window even
        // if the appends that filled it were lost.
        // Bound once, not assigned over an empty Vec (whose drop is a call).
        let limits = self.trk.inflight_limits;
        let (ents, failed) = if pr.state != StateType::Replicate || !pr.inflights.full(limits) {
            match self.raft_log.entries(pr.next, self.max_msg_size) {
                Ok(e) => (e, false),
                Err(_) => (Vec::new(), true),
            }
        } else {
            (Vec::new(), false)
        };
        if ents.is_empty() && !send_if_empty {
            return false;
        }
        if failed {
            return self.maybe_send_snapshot(to);
        }

        // The progress is updated before the message is queued (etcd does
        // it after); nothing in between reads it.
        let commit = self.raft_log.committed;
        pr.sent_entries(ents.len(), payloads_size(&ents), limits);
        pr.sent_commit(commit);
        if self.batch_append {
            if pr.state == StateType::Replicate {
                self.open_pending_append(to, &ents);
            } else {
                // A probe is not extended: it waits for its answer.
                self.pending_apps.vec_mut().retain(|p| p.to != to);
            }
        }
        // Every field spelled out: with `..Message::default()` the default
        // `entries` would be built and dropped (an out-of-line call).
        self.send(Message {
            msg_type: MessageType::MsgApp as i32,
            to,
            from: NONE,
            term: 0,
            log_term: prev_term,
            index: prev_index,
            entries: ents,
            commit,
            snapshot: None,
            reject: false,
            reject_hint: 0,
            context: Bytes::new(),
            vote: 0,
            responses: Vec::new(),
        });
        true
    }

    // batch_append: remembers that the append about to be queued (at the
    // end of `msgs`) may take later entries and commit indexes for `to`.
    fn open_pending_append(&mut self, to: u64, ents: &[Entry]) {
        let size = if self.max_msg_size == NO_LIMIT {
            0
        } else {
            ents_size(ents)
        };
        let pending = PendingApp {
            to,
            pos: self.msgs.len(),
            size,
        };
        match self.pending_apps.iter_mut().find(|p| p.to == to) {
            Some(p) => *p = pending,
            None => self.pending_apps.push(pending),
        }
    }

    // batch_append: instead of queueing another append to `to`, puts the
    // entries it lacks and the current commit index into the append this
    // Ready already holds for it. None when there is no such append or it
    // cannot take them (a limit, or entries no longer in memory): then a
    // new append is sent as usual. Otherwise whether anything was added
    // (entries, or with `send_if_empty` a commit index), as for a sent
    // append.
    fn extend_pending_append(&mut self, to: u64, send_if_empty: bool) -> Option<bool> {
        let slot = self.pending_apps.iter().position(|p| p.to == to)?;
        let PendingApp { pos, size, .. } = self.pending_apps[slot];
        let pr = self.trk.progress.get_mut(to)?;
        if pr.state != StateType::Replicate {
            return None;
        }
        let m = self.msgs.get_mut(pos)?;
        let m_last = m.index + m.entries.len() as u64;
        if m.msg_type != MessageType::MsgApp as i32
            || m.to != to
            || m.term != self.term
            || m_last + 1 != pr.next
            || (!m.entries.is_empty() && pr.inflights.last_index() != Some(m_last))
        {
            // Handed out since, not where this peer's stream continues, or
            // no longer the newest append in flight (the window was reset).
            self.pending_apps.vec_mut().swap_remove(slot);
            return None;
        }
        let commit = self.raft_log.committed;
        // Entries joining an append already in the window take no new slot,
        // only bytes; entries for a commit-only append make it one more.
        let limits = self.trk.inflight_limits;
        let room = if m.entries.is_empty() {
            !pr.inflights.full(limits)
        } else {
            !pr.inflights.bytes_full(limits)
        };
        // New entries are nearly always still unstable (just proposed);
        // older ones would need a storage read, and go in a new append.
        let ents = if room {
            self.raft_log.unstable_from(pr.next)
        } else {
            &[][..]
        };
        let mut take = ents.len();
        let mut added_size = 0;
        if self.max_msg_size != NO_LIMIT {
            let budget = self.max_msg_size.saturating_sub(size);
            take = 0;
            for e in ents {
                let s = ent_size(e);
                if added_size + s > budget {
                    break;
                }
                added_size += s;
                take += 1;
            }
        }
        let ents = &ents[..take];
        if ents.is_empty() {
            if pr.next <= self.raft_log.last_index() && !pr.is_paused() {
                // More to send than fits (or than memory holds): a new
                // append carries it.
                return None;
            }
            if !send_if_empty || commit == m.commit {
                return Some(false);
            }
        } else {
            let bytes = payloads_size(ents);
            if m.entries.is_empty() {
                pr.sent_entries(ents.len(), bytes, limits);
            } else {
                pr.sent_more_entries(ents.len(), bytes, limits);
            }
            m.entries.extend_from_slice(ents);
            self.pending_apps[slot].size = size + added_size;
        }
        m.commit = commit;
        pr.sent_commit(commit);
        Some(true)
    }

    /// Sends the storage's snapshot to `to` and pauses its replication until
    /// the snapshot is reported (etcd `maybeSendSnapshot`). Returns whether
    /// it was sent.
    pub fn maybe_send_snapshot(&mut self, to: u64) -> bool {
        let Some(pr) = self.trk.progress.get(to) else {
            return false;
        };
        if !pr.recent_active {
            slog::debug!(
                self.raft_log.logger,
                "ignore sending snapshot to {:x} since it is not recently active",
                to
            );
            return false;
        }
        let snapshot = match self.raft_log.snapshot() {
            Ok(s) => s,
            Err(Error::SnapshotTemporarilyUnavailable) => {
                slog::debug!(
                    self.raft_log.logger,
                    "{:x} failed to send snapshot to {:x} because snapshot is temporarily unavailable",
                    self.id,
                    to
                );
                return false;
            }
            Err(e) => fatal!(self.raft_log.logger, "unexpected error getting snapshot: {}", e),
        };
        if snapshot.is_empty() {
            fatal!(self.raft_log.logger, "need non-empty snapshot");
        }
        let (sindex, sterm) = (snapshot.metadata.index, snapshot.metadata.term);
        let first_index = self.raft_log.first_index();
        let committed = self.raft_log.committed;
        let Some(pr) = self.trk.progress.get_mut(to) else {
            return false;
        };
        slog::debug!(
            self.raft_log.logger,
            "{:x} [firstindex: {}, commit: {}] sent snapshot[index: {}, term: {}] to {:x} [{}]",
            self.id,
            first_index,
            committed,
            sindex,
            sterm,
            to,
            pr.display(self.trk.inflight_limits)
        );
        pr.become_snapshot(sindex);
        slog::debug!(
            self.raft_log.logger,
            "{:x} paused sending replication messages to {:x} [{}]",
            self.id,
            to,
            pr.display(self.trk.inflight_limits)
        );
        let mut m = Message::new(MessageType::MsgSnap);
        m.to = to;
        m.snapshot = Some(Box::new(snapshot));
        self.send(m);
        true
    }

    /// Sends a heartbeat with context `ctx` to `to` (etcd `sendHeartbeat`).
    /// The commit index sent is capped at what `to` is known to have, so a
    /// follower never commits entries it may not hold.
    pub fn send_heartbeat(&mut self, to: u64, ctx: Bytes) {
        let Some(pr) = self.trk.progress.get_mut(to) else {
            return;
        };
        let commit = heartbeat_commit(pr, self.raft_log.committed);
        self.send_heartbeat_at(to, commit, ctx);
    }

    // The heartbeat to `to` carrying commit index `commit`, already
    // recorded as sent.
    #[inline]
    fn send_heartbeat_at(&mut self, to: u64, commit: u64, ctx: Bytes) {
        let mut m = Message::new(MessageType::MsgHeartbeat);
        m.to = to;
        m.commit = commit;
        m.context = ctx;
        self.send(m);
    }

    /// Sends appends to every peer that is not up to date (etcd
    /// `bcastAppend`).
    pub fn bcast_append(&mut self) {
        // By position: sending changes neither the peers nor their order.
        for i in 0..self.trk.progress.len() {
            let id = self.trk.progress.at(i).0;
            if id != self.id {
                self.send_append(id);
            }
        }
    }

    /// Sends heartbeats to every peer, confirming any queued read requests
    /// (etcd `bcastHeartbeat`).
    pub fn bcast_heartbeat(&mut self) {
        let ctx = self.read_only.heartbeat_ctx();
        self.bcast_heartbeat_with_ctx(ctx);
    }

    /// Sends heartbeats with context `ctx` to every peer.
    pub fn bcast_heartbeat_with_ctx(&mut self, ctx: Bytes) {
        let n = self.trk.progress.len();
        self.reserve_msgs(n.saturating_sub(1));
        // By position, as send_heartbeat would for each id in turn: sending
        // changes neither the peers nor their order, and a leader of an
        // idle group does this every heartbeat interval.
        for i in 0..n {
            let (id, pr) = self.trk.progress.at_mut(i);
            if id == self.id {
                continue;
            }
            let commit = heartbeat_commit(pr, self.raft_log.committed);
            self.send_heartbeat_at(id, commit, ctx.clone());
        }
    }

    /// Records that the application applied up to `index` (`size` bytes of
    /// entries), and, on a leader of a joint configuration that leaves by
    /// itself, proposes leaving it once possible (etcd `appliedTo`).
    pub fn applied_to(&mut self, index: u64, size: u64) {
        let new_applied = index.max(self.raft_log.applied);
        self.raft_log.applied_to(new_applied, size);

        if self.trk.config.auto_leave
            && new_applied >= self.pending_conf_index
            && self.state == StateRole::Leader
        {
            // An empty ConfChangeV2 means "leave the joint config"; its
            // empty data never counts against the uncommitted size limit.
            let mut m = Message::new(MessageType::MsgProp);
            m.entries = vec![Entry {
                entry_type: Some(EntryType::EntryConfChangeV2 as i32),
                ..Default::default()
            }];
            // A transfer in progress can still drop it; it is retried on
            // every later apply until it sticks or leadership moves.
            match self.step(m) {
                Err(e) => slog::debug!(
                    self.raft_log.logger,
                    "not initiating automatic transition out of joint configuration {}: {}",
                    self.trk.config,
                    e
                ),
                Ok(()) => slog::info!(
                    self.raft_log.logger,
                    "initiating automatic transition out of joint configuration {}",
                    self.trk.config
                ),
            }
        }
    }

    /// Records that snapshot `snap` was applied (etcd `appliedSnap`).
    pub fn applied_snap(&mut self, snap: &Snapshot) {
        let index = snap.metadata.index;
        self.raft_log.stable_snap_to(index);
        self.applied_to(index, 0);
    }

    /// Advances the commit index to what a quorum has acknowledged, if that
    /// is an entry of the current term (etcd `maybeCommit`). Returns whether
    /// it moved; leader only.
    pub fn maybe_commit(&mut self) -> bool {
        let index = self.trk.committed();
        self.raft_log.maybe_commit(EntryId {
            term: self.term,
            index,
        })
    }

    /// Handles a leader's append (etcd `handleAppendEntries`): accepts it if
    /// the logs match at its start, otherwise rejects it with a hint of
    /// where they may match.
    pub fn handle_append_entries(&mut self, mut m: Message) {
        self.handle_append_entries_mut(&mut m);
    }

    // `handle_append_entries` on a borrowed message (no 160-byte copy on
    // the way in from `step`); takes its entries.
    #[inline]
    pub(super) fn handle_append_entries_mut(&mut self, m: &mut Message) {
        if m.index < self.raft_log.committed {
            self.send_append_ack(m.from, self.raft_log.committed);
            return;
        }
        let (from, index, log_term) = (m.from, m.index, m.log_term);
        let a = LogSlice {
            term: m.term,
            prev: EntryId {
                term: log_term,
                index,
            },
            entries: std::mem::take(&mut m.entries),
        };
        if let Some(last) = self.raft_log.maybe_append(a, m.commit) {
            self.send_append_ack(from, last);
            return;
        }
        slog::debug!(
            self.raft_log.logger,
            "{:x} [logterm: {}, index: {}] rejected MsgApp [logterm: {}, index: {}] from {:x}",
            self.id,
            self.raft_log
                .zero_term_on_out_of_bounds(self.raft_log.term(index)),
            index,
            log_term,
            index,
            from
        );
        // Hint the largest (index, term) at or below the append's start
        // whose term is at most the append's: everything above it in this
        // log is known not to match, which skips a divergent tail at once.
        // index >= committed here, and last_index >= committed, so the
        // search starts within the log.
        let hint_index = index.min(self.raft_log.last_index());
        let (hint_index, hint_term) = self.raft_log.find_conflict_by_term(hint_index, log_term);
        let mut resp = Message::new(MessageType::MsgAppResp);
        resp.to = from;
        resp.index = index;
        resp.reject = true;
        resp.reject_hint = hint_index;
        resp.log_term = hint_term;
        self.send(resp);
    }

    /// Handles a leader's heartbeat: takes its commit index (capped by the
    /// leader at what this node holds) and answers with the same context.
    pub fn handle_heartbeat(&mut self, mut m: Message) {
        self.handle_heartbeat_mut(&mut m);
    }

    // `handle_heartbeat` on a borrowed message; takes its context.
    pub(super) fn handle_heartbeat_mut(&mut self, m: &mut Message) {
        self.raft_log.commit_to(m.commit);
        self.reserve_msgs(1);
        let mut resp = Message::new(MessageType::MsgHeartbeatResp);
        resp.to = m.from;
        resp.context = std::mem::take(&mut m.context);
        self.send(resp);
    }

    /// Handles a leader's snapshot: installs it unless it is stale, and
    /// answers with the resulting last (or commit) index.
    pub fn handle_snapshot(&mut self, mut m: Message) {
        self.handle_snapshot_mut(&mut m);
    }

    // `handle_snapshot` on a borrowed message; takes its snapshot.
    pub(super) fn handle_snapshot_mut(&mut self, m: &mut Message) {
        // A MsgSnap should carry a snapshot; a missing one is treated as the
        // empty snapshot, which is always stale.
        let s = m.snapshot.take().map(|s| *s).unwrap_or_default();
        let (sindex, sterm) = (s.metadata.index, s.metadata.term);
        let mut resp = Message::new(MessageType::MsgAppResp);
        resp.to = m.from;
        if self.restore(s) {
            slog::info!(
                self.raft_log.logger,
                "{:x} [commit: {}] restored snapshot [index: {}, term: {}]",
                self.id,
                self.raft_log.committed,
                sindex,
                sterm
            );
            resp.index = self.raft_log.last_index();
        } else {
            slog::info!(
                self.raft_log.logger,
                "{:x} [commit: {}] ignored snapshot [index: {}, term: {}]",
                self.id,
                self.raft_log.committed,
                sindex,
                sterm
            );
            resp.index = self.raft_log.committed;
        }
        self.send(resp);
    }

    /// Installs snapshot `s`: the log and the configuration (etcd
    /// `restore`). Returns false if it was ignored: stale, not for this
    /// node, or merely fast-forwarding the commit index.
    pub fn restore(&mut self, s: Snapshot) -> bool {
        if s.metadata.index <= self.raft_log.committed {
            return false;
        }
        if self.state != StateRole::Follower {
            // Defense in depth: only followers get snapshots. A leader that
            // somehow did must not stay leader in a term it did not win.
            slog::warn!(
                self.raft_log.logger,
                "{:x} attempted to restore snapshot as leader; should never happen",
                self.id
            );
            self.become_follower(self.term + 1, NONE);
            return false;
        }
        // More defense in depth: much code assumes this node is tracked.
        let cs = &s.metadata.conf_state;
        if !conf_state_contains(cs, self.id) {
            slog::warn!(
                self.raft_log.logger,
                "{:x} attempted to restore snapshot but it is not in the ConfState {}; should never happen",
                self.id,
                GoConfState(cs)
            );
            return false;
        }

        let id = EntryId {
            term: s.metadata.term,
            index: s.metadata.index,
        };
        if self.raft_log.match_term(id) {
            // The log already has the snapshot's last entry: no need to
            // install it, just commit up to it.
            let last = self.raft_log.last_entry_id();
            slog::info!(
                self.raft_log.logger,
                "{:x} [commit: {}, lastindex: {}, lastterm: {}] fast-forwarded commit to snapshot [index: {}, term: {}]",
                self.id,
                self.raft_log.committed,
                last.index,
                last.term,
                id.index,
                id.term
            );
            self.raft_log.commit_to(s.metadata.index);
            return false;
        }

        // Rebuild the configuration from scratch, every peer probed from the
        // new end of the log (the snapshot's index). It is computed before
        // the log changes: the conf state comes from a peer, and one our
        // conf change code refuses makes the snapshot ignored, not a panic
        // (etcd panics).
        let lim = self.trk.inflight_limits;
        let fresh = ProgressTracker::new(lim.max_inflight, lim.max_bytes);
        let (cfg, progress) = match super::restore_conf_state(&fresh, id.index, cs) {
            Ok(r) => r,
            Err(e) => {
                slog::error!(
                    self.raft_log.logger,
                    "unable to restore config {}: {}",
                    GoConfState(cs),
                    e
                );
                return false;
            }
        };
        self.raft_log.restore(s);
        self.trk = fresh;
        // restore_conf_state made sure that this configuration is `cs`.
        self.switch_to_config(cfg, progress);
        // Committed conf changes up to here that the application has yet
        // to apply are now superseded (see RawNode::apply_conf_change_at).
        self.conf_restored_at = id.index;

        let last = self.raft_log.last_entry_id();
        slog::info!(
            self.raft_log.logger,
            "{:x} [commit: {}, lastindex: {}, lastterm: {}] restored snapshot [index: {}, term: {}]",
            self.id,
            self.raft_log.committed,
            last.index,
            last.term,
            id.index,
            id.term
        );
        true
    }

    /// Tells `to` to campaign at once, for a leadership transfer.
    pub fn send_timeout_now(&mut self, to: u64) {
        let mut m = Message::new(MessageType::MsgTimeoutNow);
        m.to = to;
        self.send(m);
    }
}

/// Formats a conf state as etcd's `%v` of a `*pb.ConfState` does: the
/// protobuf-go text format on one line (`voters:1 voters:2 auto_leave:false`),
/// repeated fields one value at a time, in field order, single spaces.
/// `auto_leave` is always printed because etcd's conf states always carry it
/// (`pb.EnsureConfState`).
struct GoConfState<'a>(&'a crate::eraftpb::ConfState);

impl std::fmt::Display for GoConfState<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cs = self.0;
        for (name, ids) in [
            ("voters", &cs.voters),
            ("learners", &cs.learners),
            ("voters_outgoing", &cs.voters_outgoing),
            ("learners_next", &cs.learners_next),
        ] {
            for id in ids {
                write!(f, "{name}:{id} ")?;
            }
        }
        write!(f, "auto_leave:{}", cs.auto_leave)
    }
}

/// The commit index a heartbeat to the follower of `pr` carries, recorded
/// as sent: capped at what the follower is known to have, so that it never
/// commits entries it may not hold.
#[inline]
fn heartbeat_commit(pr: &mut Progress, committed: u64) -> u64 {
    let commit = pr.matched.min(committed);
    pr.sent_commit(commit);
    commit
}
