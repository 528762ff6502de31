//! Port of etcd's `tracker/progress_test.go`.

use crate::tracker::{InflightLimits, Inflights, Progress, StateType};

/// A progress in `state` with the given match and next, and a roomy window,
/// like the struct literals etcd's tests build.
fn progress(state: StateType, matched: u64, next: u64) -> Progress {
    let mut pr = Progress::new(next);
    pr.state = state;
    pr.matched = matched;
    pr
}

#[test]
fn test_progress_string() {
    let lim = InflightLimits::new(1, 0);
    let mut ins = Inflights::new();
    ins.add(123, 1, lim);
    let mut pr = progress(StateType::Snapshot, 1, 2);
    pr.pending_snapshot = 123;
    pr.recent_active = false;
    pr.msg_app_flow_paused = true;
    pr.is_learner = true;
    pr.inflights = ins;
    assert_eq!(
        pr.display(lim).to_string(),
        "StateSnapshot match=1 next=2 learner paused pendingSnap=123 inactive inflight=1[full]"
    );
}

#[test]
fn test_progress_is_paused() {
    let cases = [
        (StateType::Probe, false, false),
        (StateType::Probe, true, true),
        (StateType::Replicate, false, false),
        (StateType::Replicate, true, true),
        (StateType::Snapshot, false, true),
        (StateType::Snapshot, true, true),
    ];
    for (i, (state, paused, want)) in cases.into_iter().enumerate() {
        let mut pr = progress(state, 0, 0);
        pr.msg_app_flow_paused = paused;
        assert_eq!(pr.is_paused(), want, "#{i}");
    }
}

/// `maybe_update` and `maybe_decr_to` both unpause the flow.
#[test]
fn test_progress_resume() {
    let mut pr = progress(StateType::Probe, 0, 2);
    pr.msg_app_flow_paused = true;
    let _ = pr.maybe_decr_to(1, 1);
    assert!(!pr.msg_app_flow_paused);
    pr.msg_app_flow_paused = true;
    let _ = pr.maybe_update(2);
    assert!(!pr.msg_app_flow_paused);
}

#[test]
fn test_progress_become_probe() {
    let matched = 1;
    // (state, next, pending snapshot, next afterwards)
    let cases = [
        (StateType::Replicate, 5, 0, 2),
        // The snapshot was applied: continue after it.
        (StateType::Snapshot, 5, 10, 11),
        // The snapshot failed: probe from match.
        (StateType::Snapshot, 5, 0, 2),
    ];
    for (i, (state, next, pending, wnext)) in cases.into_iter().enumerate() {
        let mut pr = progress(state, matched, next);
        pr.pending_snapshot = pending;
        pr.become_probe();
        assert_eq!(pr.state, StateType::Probe, "#{i}");
        assert_eq!(pr.matched, matched, "#{i}");
        assert_eq!(pr.next, wnext, "#{i}");
    }
}

#[test]
fn test_progress_become_replicate() {
    let mut pr = progress(StateType::Probe, 1, 5);
    pr.become_replicate();
    assert_eq!(pr.state, StateType::Replicate);
    assert_eq!(pr.matched, 1);
    assert_eq!(pr.next, pr.matched + 1);
}

#[test]
fn test_progress_become_snapshot() {
    let mut pr = progress(StateType::Probe, 1, 5);
    pr.become_snapshot(10);
    assert_eq!(pr.state, StateType::Snapshot);
    assert_eq!(pr.matched, 1);
    assert_eq!(pr.pending_snapshot, 10);
}

#[test]
fn test_progress_update() {
    let (prev_m, prev_n) = (3, 5);
    // (update, want match, want next, want ok)
    let cases = [
        // Never lowers match or next.
        (prev_m - 1, prev_m, prev_n, false),
        (prev_m, prev_m, prev_n, false),
        // Raises match; next stays when already beyond.
        (prev_m + 1, prev_m + 1, prev_n, true),
        // Raises both.
        (prev_m + 2, prev_m + 2, prev_n + 1, true),
    ];
    for (i, (update, wm, wn, wok)) in cases.into_iter().enumerate() {
        let mut pr = progress(StateType::Probe, prev_m, prev_n);
        assert_eq!(pr.maybe_update(update), wok, "#{i}");
        assert_eq!(pr.matched, wm, "#{i}");
        assert_eq!(pr.next, wn, "#{i}");
    }
}

#[test]
fn test_progress_maybe_decr() {
    // (state, match, next, rejected, last, want ok, want next)
    let cases = [
        // Replicate, rejection not above match: stale.
        (StateType::Replicate, 5, 10, 5, 5, false, 10),
        (StateType::Replicate, 5, 10, 4, 4, false, 10),
        // Replicate, rejection above match: back to match+1.
        (StateType::Replicate, 5, 10, 9, 9, true, 6),
        // Probe, rejected is not next-1: stale.
        (StateType::Probe, 0, 0, 0, 0, false, 0),
        (StateType::Probe, 0, 10, 5, 5, false, 10),
        // Probe: down by one.
        (StateType::Probe, 0, 10, 9, 9, true, 9),
        (StateType::Probe, 0, 2, 1, 1, true, 1),
        // Probe: never below 1.
        (StateType::Probe, 0, 1, 0, 0, true, 1),
        // Probe: to min(rejected, last+1).
        (StateType::Probe, 0, 10, 9, 2, true, 3),
        (StateType::Probe, 0, 10, 9, 0, true, 1),
    ];
    for (i, (state, m, n, rejected, last, w, wn)) in cases.into_iter().enumerate() {
        let mut pr = progress(state, m, n);
        assert_eq!(pr.maybe_decr_to(rejected, last), w, "#{i}");
        assert_eq!(pr.matched, m, "#{i}");
        assert_eq!(pr.next, wn, "#{i}");
    }
}
