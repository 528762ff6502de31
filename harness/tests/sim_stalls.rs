//! Every kind of stall the simulator counts apart as etcd's design
//! (`known_stalls`) is pinned by a script of ours,
//! `testdata/interaction/sim_stall_<kind>.txt`: the script passes, and
//! replayed in the simulator's world then run through its calm phase, it is
//! classified as that very kind. A kind added to the classifier without a
//! script, or a script that no longer shows its stall, fails here.

mod common;

use std::path::PathBuf;

use common::{report_failure, workspace_root};
use etcdraft_harness::datadriven::{suite, Script, TestData};
use etcdraft_harness::sim::config::SimConfig;
use etcdraft_harness::sim::liveness::{calm, Calm};
use etcdraft_harness::sim::rng::SimRng;
use etcdraft_harness::sim::schedule::Command;
use etcdraft_harness::sim::world::World;
use raft::quorum::VoteResult;

/// The kinds `liveness.rs` can report, read from its source so that a new
/// kind cannot slip in unpinned.
fn stall_kinds() -> Vec<String> {
    let path = workspace_root().join("harness/src/sim/liveness.rs");
    let src = std::fs::read_to_string(&path).unwrap();
    let marker = "Calm::KnownStall(\"";
    let mut kinds: Vec<String> = src
        .match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &src[at + marker.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

fn script_path(kind: &str) -> PathBuf {
    workspace_root().join(format!(
        "testdata/interaction/sim_stall_{}.txt",
        kind.replace('-', "_")
    ))
}

/// A stanza as the simulator's command (the directive line rebuilt from
/// its parsed arguments, and its input).
fn command(d: &TestData) -> Command {
    let mut line = d.cmd.clone();
    for a in &d.cmd_args {
        line.push(' ');
        line.push_str(&a.to_string());
    }
    Command {
        line,
        input: d.input.clone(),
    }
}

/// The nodes that could still win an election: voters in their own
/// configuration that a quorum of it would vote for under raft's up-to-date
/// rule (no voter's last entry newer than the candidate's). Without a leader
/// no log changes, so when this is empty no election can ever succeed: the
/// stall is the vote rule's, not a missed campaign or a lost message.
fn possible_winners(world: &World) -> Vec<u64> {
    let nodes = &world.env.nodes;
    let last = |id: u64| {
        let e = nodes[(id - 1) as usize].raw.raft.raft_log.last_entry_id();
        (e.term, e.index)
    };
    nodes
        .iter()
        .map(|n| &n.raw.raft)
        .filter(|r| {
            let voters = r.trk.voter_nodes();
            let votes: Vec<(u64, bool)> =
                voters.iter().map(|&v| (v, last(v) <= last(r.id))).collect();
            voters.contains(&r.id) && r.trk.config.voters.vote_result(&votes) == VoteResult::VoteWon
        })
        .map(|r| r.id)
        .collect()
}

/// Replays the stanzas of `path` that `keep` accepts in a fresh simulator
/// world, then runs the calm phase on it: how the simulator would end, and
/// the world as the calm phase left it.
fn calm_world(path: &PathBuf, keep: impl Fn(&TestData) -> bool) -> (Calm, World) {
    let text = std::fs::read_to_string(path).unwrap();
    let script = Script::parse(&path.display().to_string(), &text).unwrap();
    let mut world = World::new();
    for d in script.stanzas().filter(|d| keep(d)) {
        if let Err(stop) = world.apply(&command(d)) {
            panic!("{}: replay stopped: {stop:?}", d.pos);
        }
    }
    let mut cfg = SimConfig::random(&mut SimRng::new(0));
    cfg.nodes = world.env.nodes.len() as u64;
    let mut cmds = Vec::new();
    let end =
        calm(&mut world, &cfg, &mut cmds).unwrap_or_else(|stop| panic!("calm phase: {stop:?}"));
    (end, world)
}

#[test]
fn every_known_stall_kind_is_pinned_by_a_script() {
    let kinds = stall_kinds();
    assert_eq!(
        kinds,
        ["apply-time-config", "joint-config", "removed-leader"],
        "the kinds in liveness.rs changed: pin each new one with a script"
    );
    let mut failures = String::new();
    for kind in &kinds {
        let path = script_path(kind);
        assert!(path.exists(), "kind {kind}: no script {}", path.display());
        let outcome = suite::run_file(&path, None).unwrap();
        report_failure(&mut failures, &path.display().to_string(), &outcome);
        let (got, world) = calm_world(&path, |_| true);
        if !matches!(&got, Calm::KnownStall(k) if k == kind) {
            failures.push_str(&format!(
                "{}: classified {got:?}, not KnownStall({kind:?})\n",
                path.display()
            ));
        }
        // The two apply-time kinds are told apart by a heuristic (a joint
        // configuration; disagreeing configurations): check the mechanism
        // the scripts' headers describe, that no node can win an election.
        let winners = possible_winners(&world);
        if kind != "removed-leader" && !winners.is_empty() {
            failures.push_str(&format!(
                "{}: nodes {winners:?} could still win an election\n",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// The two apply-time stalls need the lost commit index: the same
/// schedules cut just before their `deliver-msgs drop=` stanza (the calm
/// phase then delivers those messages) make progress, so the stall is the
/// lost messages' doing and the classifier is not simply always reporting one.
#[test]
fn without_the_lost_messages_the_schedules_are_live() {
    for kind in ["apply-time-config", "joint-config"] {
        let path = script_path(kind);
        let drops = |d: &TestData| d.cmd == "deliver-msgs" && d.has_arg("drop");
        let text = std::fs::read_to_string(&path).unwrap();
        let script = Script::parse("", &text).unwrap();
        assert_eq!(script.stanzas().filter(|d| drops(d)).count(), 1, "{kind}");
        let dropped = std::cell::Cell::new(false);
        let before_drop = |d: &TestData| {
            dropped.set(dropped.get() || drops(d));
            !dropped.get()
        };
        let (end, world) = calm_world(&path, before_drop);
        assert_eq!(end, Calm::Live, "{kind}");
        assert!(!possible_winners(&world).is_empty(), "{kind}");
    }
}
