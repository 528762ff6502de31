//! What the leader knows about one follower (etcd `Progress`), and the map
//! of all of them (etcd `ProgressMap`).

use std::fmt;

use super::{InflightLimits, Inflights, StateType};
use crate::quorum::{AckedIndexer, Index};

/// A follower's replication progress as seen by the leader.
///
/// The state transitions are driven by the raft state machine; some fields
/// only mean something in some states (see [`StateType`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The highest index at which the follower's log is known to agree
    /// with the leader's (etcd `Match`).
    pub matched: u64,
    /// The index of the next entry to send. Entries in `(matched, next)` are
    /// in flight. Invariant: `matched < next`; in [`StateType::Snapshot`],
    /// `next == pending_snapshot + 1`.
    pub next: u64,
    /// The highest commit index sent to the follower. Mostly monotonic, but
    /// regresses on probing and rejections. In [`StateType::Snapshot`] it
    /// equals `pending_snapshot`.
    pub sent_commit: u64,
    /// How the leader replicates to this follower.
    pub state: StateType,
    /// In [`StateType::Snapshot`]: the leader's last index when it decided a
    /// snapshot was needed (the index of the snapshot it asked to send).
    pub pending_snapshot: u64,
    /// Whether the follower was heard from recently; reset after an election
    /// timeout by check-quorum, always true for the leader itself.
    pub recent_active: bool,
    /// Whether appends are throttled: in [`StateType::Probe`] after a probe
    /// was sent, in [`StateType::Replicate`] when the in-flight window is
    /// full. Cleared when the follower answers (see [`is_paused`](Progress::is_paused)).
    pub msg_app_flow_paused: bool,
    /// The appends in flight to this follower, within the tracker's
    /// [`InflightLimits`].
    pub inflights: Inflights,
    /// Whether this follower is a learner.
    pub is_learner: bool,
}

impl Progress {
    /// A fresh progress in [`StateType::Probe`] that will next send `next`,
    /// with nothing matched and an empty in-flight window.
    pub fn new(next: u64) -> Progress {
        Progress {
            matched: 0,
            next,
            sent_commit: 0,
            state: StateType::Probe,
            pending_snapshot: 0,
            recent_active: false,
            msg_app_flow_paused: false,
            inflights: Inflights::new(),
            is_learner: false,
        }
    }

    /// Moves to `state`, clearing the pause flag, the pending snapshot and
    /// the in-flight window.
    pub fn reset_state(&mut self, state: StateType) {
        self.msg_app_flow_paused = false;
        self.pending_snapshot = 0;
        self.state = state;
        self.inflights.reset();
    }

    /// Moves to [`StateType::Probe`]. `next` becomes `matched + 1`, or, when
    /// leaving [`StateType::Snapshot`], the index after the pending snapshot
    /// if that is larger (the snapshot is presumed delivered).
    pub fn become_probe(&mut self) {
        if self.state == StateType::Snapshot {
            let pending_snapshot = self.pending_snapshot;
            self.reset_state(StateType::Probe);
            self.next = (self.matched + 1).max(pending_snapshot + 1);
        } else {
            self.reset_state(StateType::Probe);
            self.next = self.matched + 1;
        }
        self.sent_commit = self.sent_commit.min(self.next - 1);
    }

    /// Moves to [`StateType::Replicate`] with `next = matched + 1`.
    pub fn become_replicate(&mut self) {
        self.reset_state(StateType::Replicate);
        self.next = self.matched + 1;
    }

    /// Moves to [`StateType::Snapshot`], waiting for the snapshot at
    /// `snapshot_index`.
    pub fn become_snapshot(&mut self, snapshot_index: u64) {
        self.reset_state(StateType::Snapshot);
        self.pending_snapshot = snapshot_index;
        self.next = snapshot_index + 1;
        self.sent_commit = snapshot_index;
    }

    /// Accounts for an append of `entries` consecutive entries starting at
    /// `next`, totalling `bytes` (etcd `SentEntries`).
    ///
    /// In [`StateType::Replicate`] this advances `next`, records the append
    /// in the window and pauses the flow once the window is full under
    /// `limits` (the tracker's). In
    /// [`StateType::Probe`] a non-empty append is a probe and pauses the
    /// flow.
    ///
    /// # Panics
    ///
    /// In [`StateType::Snapshot`], where the leader must not send appends.
    #[inline(always)]
    pub fn sent_entries(&mut self, entries: usize, bytes: u64, limits: InflightLimits) {
        match self.state {
            StateType::Replicate => {
                if entries > 0 {
                    self.next += entries as u64;
                    self.inflights.add(self.next - 1, bytes, limits);
                }
                // An append that fills the window (or one sent into an
                // already full window) acts as a probe: wait for an answer.
                self.msg_app_flow_paused = self.inflights.full(limits);
            }
            StateType::Probe => {
                // etcd only pauses on non-empty probes; kept for identical
                // message flows.
                if entries > 0 {
                    self.msg_app_flow_paused = true;
                }
            }
            StateType::Snapshot => {
                panic!("sending append in unhandled state {}", self.state)
            }
        }
    }

    /// Records that `entries` more entries totalling `bytes` were added to
    /// the last append sent (batch_append), which must be in flight: the
    /// window holds the same number of appends, one of them larger.
    pub fn sent_more_entries(&mut self, entries: usize, bytes: u64, limits: InflightLimits) {
        debug_assert_eq!(self.state, StateType::Replicate);
        self.next += entries as u64;
        self.inflights.extend_last(self.next - 1, bytes);
        self.msg_app_flow_paused = self.inflights.full(limits);
    }

    /// Whether sending commit index `index` could move the follower's commit
    /// index forward: it is above what was sent, and what was sent does not
    /// already cover everything up to `next - 1`.
    #[inline]
    pub fn can_bump_commit(&self, index: u64) -> bool {
        // `next` is at least 1 by invariant; wrapping keeps a broken caller
        // from turning into an arithmetic panic, as in etcd.
        index > self.sent_commit && self.sent_commit < self.next.wrapping_sub(1)
    }

    /// Records that commit index `commit` was sent (etcd `SentCommit`).
    #[inline]
    pub fn sent_commit(&mut self, commit: u64) {
        self.sent_commit = commit;
    }

    /// Takes an acknowledgement of index `n`. Returns false, changing
    /// nothing, if `n` is stale (not above `matched`); otherwise advances
    /// `matched` (and `next` if needed), unpauses the flow, and returns true.
    #[must_use = "a false return means the acknowledgement was stale"]
    #[inline]
    pub fn maybe_update(&mut self, n: u64) -> bool {
        if n <= self.matched {
            return false;
        }
        self.matched = n;
        self.next = self.next.max(n + 1);
        self.msg_app_flow_paused = false;
        true
    }

    /// Takes a rejection of the append at index `rejected`, with the
    /// follower's hint `match_hint` of where its log may match. Returns
    /// false, changing nothing, if the rejection is stale; otherwise lowers
    /// `next` and returns true.
    #[must_use = "a false return means the rejection was stale"]
    pub fn maybe_decr_to(&mut self, rejected: u64, match_hint: u64) -> bool {
        if self.state == StateType::Replicate {
            // Anything at or below `matched` was already acknowledged, so a
            // rejection of it must be an old, reordered message.
            if rejected <= self.matched {
                return false;
            }
            self.next = self.matched + 1;
            self.sent_commit = self.sent_commit.min(self.next - 1);
            return true;
        }
        // Outside replication only one append (at next-1) is outstanding, so
        // a rejection of anything else is stale.
        if self.next.wrapping_sub(1) != rejected {
            return false;
        }
        self.next = rejected.min(match_hint + 1).max(self.matched + 1);
        self.sent_commit = self.sent_commit.min(self.next - 1);
        self.msg_app_flow_paused = false;
        true
    }

    /// Whether appends to this follower are throttled right now: while a
    /// probe or a full window awaits an answer, or a snapshot is pending.
    #[inline]
    pub fn is_paused(&self) -> bool {
        match self.state {
            StateType::Probe | StateType::Replicate => self.msg_app_flow_paused,
            StateType::Snapshot => true,
        }
    }
}

impl Progress {
    /// etcd's `Progress.String()`, e.g.
    /// `StateReplicate match=5 next=6 learner paused pendingSnap=3 inactive inflight=2[full]`;
    /// whether the window is full depends on the tracker's `limits`.
    pub fn display(&self, limits: InflightLimits) -> impl fmt::Display + '_ {
        ProgressDisplay { pr: self, limits }
    }
}

/// What [`Progress::display`] returns.
struct ProgressDisplay<'a> {
    pr: &'a Progress,
    limits: InflightLimits,
}

impl fmt::Display for ProgressDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pr = self.pr;
        write!(
            f,
            "{} match={} next={}",
            pr.state, pr.matched, pr.next
        )?;
        if pr.is_learner {
            f.write_str(" learner")?;
        }
        if pr.is_paused() {
            f.write_str(" paused")?;
        }
        if pr.pending_snapshot > 0 {
            write!(f, " pendingSnap={}", pr.pending_snapshot)?;
        }
        if !pr.recent_active {
            f.write_str(" inactive")?;
        }
        let n = pr.inflights.count();
        if n > 0 {
            write!(f, " inflight={n}")?;
            if pr.inflights.full(self.limits) {
                f.write_str("[full]")?;
            }
        }
        Ok(())
    }
}

/// Up to this many peers, [`ProgressMap`] looks ids up by scanning.
const LINEAR_SCAN_MAX: usize = 8;

/// The progress of every tracked peer, by id (etcd `ProgressMap`).
///
/// A `Vec` sorted by id: groups are small, lookups scan (or binary-search in
/// large groups), and every iteration is in ascending id order as etcd's
/// printed output requires.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgressMap {
    entries: Vec<(u64, Progress)>,
}

impl ProgressMap {
    /// An empty map.
    pub const fn new() -> ProgressMap {
        ProgressMap {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `n` peers.
    pub fn with_capacity(n: usize) -> ProgressMap {
        ProgressMap {
            entries: Vec::with_capacity(n),
        }
    }

    // Where `id` is (Ok) or would be inserted (Err), like a binary search.
    // Typical groups have 3 or 5 peers, for which a forward scan that stops
    // at the first id not below `id` is cheaper than bisecting; the keys
    // are sorted and unique, so both give the same answer.
    #[inline]
    fn position(&self, id: u64) -> Result<usize, usize> {
        if self.entries.len() > LINEAR_SCAN_MAX {
            return self.entries.binary_search_by_key(&id, |(k, _)| *k);
        }
        for (i, (k, _)) in self.entries.iter().enumerate() {
            if *k >= id {
                return if *k == id { Ok(i) } else { Err(i) };
            }
        }
        Err(self.entries.len())
    }

    /// The progress of `id`.
    #[inline]
    pub fn get(&self, id: u64) -> Option<&Progress> {
        if self.entries.len() > LINEAR_SCAN_MAX {
            return self.position(id).ok().map(|i| &self.entries[i].1);
        }
        // `position`'s scan, yielding the progress itself: no index to
        // check against the length again (a leader looks peers up several
        // times per message).
        for (k, pr) in &self.entries {
            if *k >= id {
                return (*k == id).then_some(pr);
            }
        }
        None
    }

    /// The progress of `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Progress> {
        if self.entries.len() > LINEAR_SCAN_MAX {
            return self.position(id).ok().map(|i| &mut self.entries[i].1);
        }
        for (k, pr) in &mut self.entries {
            if *k >= id {
                return (*k == id).then_some(pr);
            }
        }
        None
    }

    /// The `i`-th peer in ascending id order and its progress.
    ///
    /// # Panics
    ///
    /// If `i` is not below [`len`](ProgressMap::len).
    #[inline]
    pub fn at(&self, i: usize) -> (u64, &Progress) {
        let (id, pr) = &self.entries[i];
        (*id, pr)
    }

    /// The `i`-th peer in ascending id order and its progress, mutably.
    ///
    /// # Panics
    ///
    /// If `i` is not below [`len`](ProgressMap::len).
    #[inline]
    pub fn at_mut(&mut self, i: usize) -> (u64, &mut Progress) {
        let (id, pr) = &mut self.entries[i];
        (*id, pr)
    }

    /// Whether `id` is tracked.
    #[inline]
    pub fn contains(&self, id: u64) -> bool {
        self.position(id).is_ok()
    }

    /// Tracks `id` with `pr`, returning the progress it replaces, if any.
    pub fn insert(&mut self, id: u64, pr: Progress) -> Option<Progress> {
        match self.position(id) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, pr)),
            Err(i) => {
                // Exactly one more slot: configurations grow a peer at a
                // time, and the map lives as long as the node, so an
                // amortized doubling (3 peers in room for 4) would cost
                // every member of an idle group 72 bytes for nothing.
                self.entries.reserve_exact(1);
                self.entries.insert(i, (id, pr));
                None
            }
        }
    }

    /// Stops tracking `id`, returning its progress.
    pub fn remove(&mut self, id: u64) -> Option<Progress> {
        self.position(id).ok().map(|i| self.entries.remove(i).1)
    }

    /// The number of tracked peers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no peer is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every peer, keeping the allocation.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The tracked ids in ascending order.
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = u64> + ExactSizeIterator + '_ {
        self.entries.iter().map(|(id, _)| *id)
    }

    /// `(id, progress)` in ascending id order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, &Progress)> + ExactSizeIterator {
        self.entries.iter().map(|(id, pr)| (*id, pr))
    }

    /// `(id, progress)` in ascending id order, mutably.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (u64, &mut Progress)> + ExactSizeIterator {
        self.entries.iter_mut().map(|(id, pr)| (*id, pr))
    }
}

/// A peer's acknowledged index is its `matched`.
impl AckedIndexer for ProgressMap {
    #[inline]
    fn acked_index(&self, voter_id: u64) -> Option<Index> {
        self.get(voter_id).map(|pr| pr.matched)
    }
}

impl FromIterator<(u64, Progress)> for ProgressMap {
    fn from_iter<I: IntoIterator<Item = (u64, Progress)>>(iter: I) -> ProgressMap {
        let mut m = ProgressMap::new();
        for (id, pr) in iter {
            m.insert(id, pr);
        }
        m
    }
}

impl ProgressMap {
    /// One `id: progress` line per peer, ascending ids in decimal, each
    /// ending in a newline (etcd `ProgressMap.String()`); whether a window
    /// is full depends on the tracker's `limits`.
    pub fn display(&self, limits: InflightLimits) -> impl fmt::Display + '_ {
        ProgressMapDisplay { map: self, limits }
    }
}

/// What [`ProgressMap::display`] returns.
struct ProgressMapDisplay<'a> {
    map: &'a ProgressMap,
    limits: InflightLimits,
}

impl fmt::Display for ProgressMapDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (id, pr) in &self.map.entries {
            writeln!(f, "{id}: {}", pr.display(self.limits))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOMY: InflightLimits = InflightLimits::new(256, 0);

    fn progress(state: StateType, matched: u64, next: u64) -> Progress {
        let mut pr = Progress::new(next);
        pr.state = state;
        pr.matched = matched;
        pr.recent_active = true;
        pr
    }

    #[test]
    fn map_lookups_agree_with_a_binary_search_below_and_above_the_scan_limit() {
        // Small maps scan, large ones bisect; both must find the same slot
        // for present and absent ids, and inserts must keep the order.
        for n in [0usize, 1, 3, LINEAR_SCAN_MAX, LINEAR_SCAN_MAX + 1, 20] {
            let mut m = ProgressMap::new();
            // Even ids 2, 4, ... inserted in reverse to exercise insert().
            for id in (1..=n as u64).rev().map(|i| i * 2) {
                assert!(m
                    .insert(id, progress(StateType::Probe, id, id + 1))
                    .is_none());
            }
            let ids: Vec<u64> = m.ids().collect();
            assert_eq!(ids, (1..=n as u64).map(|i| i * 2).collect::<Vec<_>>());
            for id in 0..=(2 * n as u64 + 1) {
                let want = ids.binary_search(&id);
                assert_eq!(m.position(id), want, "n={n} id={id}");
                assert_eq!(m.contains(id), want.is_ok());
                assert_eq!(m.get(id).map(|pr| pr.matched), want.ok().map(|_| id));
            }
        }
    }

    #[test]
    fn display() {
        let mut pr = progress(StateType::Replicate, 1, 2);
        assert_eq!(pr.display(ROOMY).to_string(), "StateReplicate match=1 next=2");
        pr.is_learner = true;
        pr.recent_active = false;
        pr.msg_app_flow_paused = true;
        assert_eq!(
            pr.display(ROOMY).to_string(),
            "StateReplicate match=1 next=2 learner paused inactive"
        );

        let lim = InflightLimits::new(2, 0);
        let mut pr = Progress::new(3);
        pr.become_replicate();
        pr.inflights.add(1, 0, lim);
        assert_eq!(
            pr.display(lim).to_string(),
            "StateReplicate match=0 next=1 inactive inflight=1"
        );
        pr.inflights.add(2, 0, lim);
        assert_eq!(
            pr.display(lim).to_string(),
            "StateReplicate match=0 next=1 inactive inflight=2[full]"
        );

        let mut pr = progress(StateType::Probe, 1, 2);
        pr.become_snapshot(7);
        assert_eq!(
            pr.display(ROOMY).to_string(),
            "StateSnapshot match=1 next=8 paused pendingSnap=7"
        );
    }

    #[test]
    fn is_paused_per_state() {
        for (state, paused, want) in [
            (StateType::Probe, false, false),
            (StateType::Probe, true, true),
            (StateType::Replicate, false, false),
            (StateType::Replicate, true, true),
            (StateType::Snapshot, false, true),
            (StateType::Snapshot, true, true),
        ] {
            let mut pr = progress(state, 0, 1);
            pr.msg_app_flow_paused = paused;
            assert_eq!(pr.is_paused(), want, "{state} paused={paused}");
        }
    }

    #[test]
    fn resume_on_update_and_decrement() {
        let mut pr = progress(StateType::Probe, 0, 3);
        pr.msg_app_flow_paused = true;
        assert!(pr.maybe_decr_to(2, 2));
        assert!(!pr.msg_app_flow_paused);

        pr.msg_app_flow_paused = true;
        assert!(pr.maybe_update(2));
        assert!(!pr.msg_app_flow_paused);
    }

    #[test]
    fn become_probe() {
        let m = 1;
        // (state, next, pending snapshot) -> next after become_probe
        for (state, next, pending, want) in [
            (StateType::Replicate, 5, 0, 2),
            // Snapshot sent and presumably applied: probe after it.
            (StateType::Snapshot, 5, 10, 11),
            // Snapshot older than what matches: probe after match.
            (StateType::Snapshot, 5, 0, 2),
        ] {
            let mut pr = progress(state, m, next);
            pr.pending_snapshot = pending;
            pr.become_probe();
            assert_eq!(pr.state, StateType::Probe);
            assert_eq!(pr.matched, m);
            assert_eq!(pr.next, want);
            assert_eq!(pr.pending_snapshot, 0);
        }
    }

    #[test]
    fn become_probe_caps_sent_commit() {
        let mut pr = progress(StateType::Replicate, 3, 10);
        pr.sent_commit(9);
        pr.become_probe();
        assert_eq!(pr.next, 4);
        assert_eq!(pr.sent_commit, 3);
    }

    #[test]
    fn become_replicate_and_snapshot() {
        let mut pr = progress(StateType::Probe, 1, 5);
        pr.become_replicate();
        assert_eq!(
            (pr.state, pr.matched, pr.next),
            (StateType::Replicate, 1, 2)
        );

        let mut pr = progress(StateType::Probe, 1, 5);
        pr.become_snapshot(10);
        assert_eq!(
            (pr.state, pr.matched, pr.next),
            (StateType::Snapshot, 1, 11)
        );
        assert_eq!((pr.pending_snapshot, pr.sent_commit), (10, 10));
    }

    #[test]
    fn reset_state_clears_window() {
        let mut pr = progress(StateType::Replicate, 0, 1);
        pr.sent_entries(3, 30, ROOMY);
        assert_eq!(pr.inflights.count(), 1);
        pr.msg_app_flow_paused = true;
        pr.pending_snapshot = 4;
        pr.reset_state(StateType::Probe);
        assert_eq!(pr.inflights.count(), 0);
        assert!(!pr.msg_app_flow_paused);
        assert_eq!(pr.pending_snapshot, 0);
    }

    #[test]
    fn sent_entries_in_replicate_fills_window() {
        let lim = InflightLimits::new(2, 0);
        let mut pr = Progress::new(1);
        pr.become_replicate();
        pr.sent_entries(3, 100, lim);
        assert_eq!(pr.next, 4);
        assert!(!pr.msg_app_flow_paused);
        // An empty append does not use the window.
        pr.sent_entries(0, 0, lim);
        assert_eq!((pr.next, pr.inflights.count()), (4, 1));
        pr.sent_entries(1, 100, lim);
        assert_eq!(pr.next, 5);
        assert!(pr.msg_app_flow_paused);
        assert!(pr.is_paused());
        // The follower acks index 3: the first append is freed.
        pr.inflights.free_le(3);
        assert_eq!(pr.inflights.count(), 1);
    }

    #[test]
    fn sent_entries_in_replicate_respects_byte_limit() {
        let lim = InflightLimits::new(10, 150);
        let mut pr = Progress::new(1);
        pr.become_replicate();
        pr.sent_entries(1, 100, lim);
        assert!(!pr.msg_app_flow_paused);
        pr.sent_entries(1, 100, lim);
        assert!(pr.msg_app_flow_paused);
    }

    #[test]
    fn sent_entries_in_probe_pauses_only_when_non_empty() {
        let mut pr = progress(StateType::Probe, 0, 5);
        pr.sent_entries(0, 0, ROOMY);
        assert!(!pr.msg_app_flow_paused);
        pr.sent_entries(2, 10, ROOMY);
        assert!(pr.msg_app_flow_paused);
        // Probing does not advance next.
        assert_eq!(pr.next, 5);
    }

    #[test]
    #[should_panic(expected = "sending append in unhandled state StateSnapshot")]
    fn sent_entries_in_snapshot_panics() {
        let mut pr = progress(StateType::Probe, 0, 5);
        pr.become_snapshot(3);
        pr.sent_entries(1, 1, ROOMY);
    }

    #[test]
    fn can_bump_commit() {
        let mut pr = progress(StateType::Replicate, 0, 10);
        assert!(pr.can_bump_commit(5));
        pr.sent_commit(5);
        assert!(!pr.can_bump_commit(5));
        assert!(pr.can_bump_commit(6));
        // Once next-1 is covered, nothing more can be bumped.
        pr.sent_commit(9);
        assert!(!pr.can_bump_commit(20));
    }

    #[test]
    fn maybe_update() {
        let prev_m = 3;
        let prev_n = 5;
        // (update, wm, wn, wok)
        for (update, wm, wn, wok) in [
            (prev_m - 1, prev_m, prev_n, false),
            (prev_m, prev_m, prev_n, false),
            (prev_m + 1, prev_m + 1, prev_n, true),
            (prev_m + 2, prev_m + 2, prev_n + 1, true),
        ] {
            let mut pr = progress(StateType::Probe, prev_m, prev_n);
            assert_eq!(pr.maybe_update(update), wok);
            assert_eq!((pr.matched, pr.next), (wm, wn));
        }
    }

    #[test]
    fn maybe_decr_to() {
        // (state, m, n, rejected, hint, wok, wn)
        for (state, m, n, rejected, hint, wok, wn) in [
            // Replicate: stale rejection below match.
            (StateType::Replicate, 5, 10, 5, 5, false, 10),
            (StateType::Replicate, 5, 10, 4, 4, false, 10),
            // Replicate: genuine rejection, back to match+1.
            (StateType::Replicate, 5, 10, 9, 9, true, 6),
            // Probe: rejected is not next-1, stale.
            (StateType::Probe, 0, 0, 0, 0, false, 0),
            (StateType::Probe, 0, 10, 5, 5, false, 10),
            // Probe: use hint+1.
            (StateType::Probe, 0, 10, 9, 9, true, 9),
            (StateType::Probe, 0, 2, 1, 1, true, 1),
            (StateType::Probe, 0, 1, 0, 0, true, 1),
            (StateType::Probe, 0, 10, 9, 2, true, 3),
            (StateType::Probe, 0, 10, 9, 0, true, 1),
            // Never below match+1.
            (StateType::Probe, 4, 10, 9, 2, true, 5),
        ] {
            let mut pr = progress(state, m, n);
            assert_eq!(
                pr.maybe_decr_to(rejected, hint),
                wok,
                "{state} m={m} n={n} r={rejected}"
            );
            assert_eq!(pr.matched, m);
            assert_eq!(pr.next, wn, "{state} m={m} n={n} r={rejected} h={hint}");
        }
    }

    #[test]
    fn maybe_decr_to_regresses_sent_commit() {
        let mut pr = progress(StateType::Replicate, 2, 10);
        pr.sent_commit(8);
        assert!(pr.maybe_decr_to(9, 9));
        assert_eq!(pr.sent_commit, 2);
    }

    #[test]
    fn progress_map_basics_and_display() {
        let mut m = ProgressMap::new();
        assert!(m.insert(3, progress(StateType::Probe, 0, 7)).is_none());
        assert!(m.insert(1, progress(StateType::Replicate, 4, 5)).is_none());
        assert!(m.insert(2, progress(StateType::Probe, 0, 1)).is_none());
        assert_eq!(m.ids().collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(
            m.display(ROOMY).to_string(),
            "1: StateReplicate match=4 next=5\n2: StateProbe match=0 next=1\n3: StateProbe match=0 next=7\n"
        );
        let old = m.insert(2, progress(StateType::Probe, 9, 10)).unwrap();
        assert_eq!(old.matched, 0);
        assert_eq!(m.acked_index(2), Some(9));
        assert_eq!(m.acked_index(5), None);
        m.get_mut(1).unwrap().matched = 6;
        assert_eq!(m.get(1).unwrap().matched, 6);
        assert_eq!(m.remove(2).unwrap().matched, 9);
        assert!(m.remove(2).is_none());
        assert_eq!(m.len(), 2);
        assert!(!m.contains(2));
        for (_, pr) in m.iter_mut() {
            pr.recent_active = false;
        }
        assert!(m.iter().all(|(_, pr)| !pr.recent_active));
        assert_eq!(ProgressMap::new().display(ROOMY).to_string(), "");
    }
}
