//! The end of a run: the faults stop (links healed, crashed nodes
//! restarted), the clocks tick and the network delivers everything, and
//! within a bound there must be a leader and a new proposal applied on
//! every voter. Stalls that etcd's design causes are told apart.

use raft::raft::StateRole;
use raft::tracker::StateType;

use super::config::SimConfig;
use super::schedule::Command;
use super::world::{Stop, World};

/// Rounds (a tick of every node, then `stabilize`) before giving up.
pub const LIVENESS_ROUNDS: usize = 300;

/// How the calm phase ended, when it did not fail on safety.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Calm {
    /// A leader, and the probe applied on every voter.
    Live,
    /// No progress, for a reason of etcd's design (the kind's name).
    KnownStall(&'static str),
    /// No progress, for no known reason: a liveness failure.
    Stuck(String),
}

/// Runs the calm phase, appending its commands to `cmds`.
pub fn calm(world: &mut World, cfg: &SimConfig, cmds: &mut Vec<Command>) -> Result<Calm, Stop> {
    let mut run = |world: &mut World, line: String| {
        let c = Command::new(line);
        let r = world.apply(&c);
        cmds.push(c);
        r
    };
    run(world, "heal".to_owned())?;
    let down: Vec<u64> = world.env.faults.down.iter().copied().collect();
    for id in down {
        run(world, format!("restart {id}"))?;
    }
    let mut probe: Option<(u64, u64)> = None;
    for round in 0..LIVENESS_ROUNDS {
        for id in 1..=cfg.nodes {
            run(world, format!("tick-heartbeat {id}"))?;
        }
        run(world, "stabilize".to_owned())?;
        // An application reports a snapshot it failed to send; the network
        // may have lost one while it was faulty.
        for (leader, peer) in stuck_snapshots(&world.env) {
            run(
                world,
                format!("report-snapshot {leader} {peer} status=failure"),
            )?;
        }
        let env = &world.env;
        let Some(lead) = env
            .nodes
            .iter()
            .position(|n| n.raw.raft.state == StateRole::Leader)
        else {
            continue;
        };
        let leader = &env.nodes[lead].raw.raft;
        match probe {
            Some((term, index)) if term == leader.term => {
                let voters = leader.trk.voter_nodes();
                let done = voters.iter().all(|&v| {
                    env.nodes
                        .get((v - 1) as usize)
                        .is_some_and(|n| n.raw.raft.raft_log.applied >= index)
                });
                if done {
                    return Ok(Calm::Live);
                }
            }
            _ => {
                let (term, last) = (leader.term, leader.raft_log.last_index());
                run(world, format!("propose {} live{round}", lead + 1))?;
                let now = world.env.nodes[lead].raw.raft.raft_log.last_index();
                if now > last {
                    probe = Some((term, now));
                }
            }
        }
    }
    Ok(classify(world))
}

/// The (leader, peer) pairs whose progress waits for a snapshot report.
fn stuck_snapshots(env: &crate::interaction::InteractionEnv) -> Vec<(u64, u64)> {
    env.nodes
        .iter()
        .filter(|n| n.raw.raft.state == StateRole::Leader)
        .flat_map(|n| {
            let r = &n.raw.raft;
            r.trk
                .progress
                .iter()
                .filter(|(_, pr)| pr.state == StateType::Snapshot)
                .map(|(id, _)| (r.id, id))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Why the cluster made no progress.
fn classify(world: &World) -> Calm {
    let env = &world.env;
    if env
        .nodes
        .iter()
        .any(|n| !n.raw.raft.trk.config.voters[1].is_empty())
    {
        // etcd-io/etcd#12359: a joint configuration is left only by an
        // entry the leader appends once it applies the joint one; a
        // leader that is no longer a voter cannot get it committed, and
        // no one else may campaign.
        return Calm::KnownStall("joint-config");
    }
    let removed_leader = env.nodes.iter().any(|n| {
        let r = &n.raw.raft;
        r.state == StateRole::Leader
            && !r.step_down_on_removal
            && !r.trk.voter_nodes().contains(&r.id)
    });
    if removed_leader {
        // etcd's `StepDownOnRemoval` off: a leader removed or demoted by a
        // conf change keeps leading (and heartbeating, so no voter
        // campaigns), but drops every proposal.
        return Calm::KnownStall("removed-leader");
    }
    let no_leader = env
        .nodes
        .iter()
        .all(|n| n.raw.raft.state != StateRole::Leader);
    let configs: std::collections::BTreeSet<Vec<u64>> = env
        .nodes
        .iter()
        .map(|n| n.raw.raft.trk.voter_nodes())
        .collect();
    if no_leader && configs.len() > 1 {
        // etcd switches configurations when an entry is applied, not when
        // it is appended: a voter that has not applied a change still
        // needs the vote of a node the change removed, and that node,
        // holding the longer log, refuses it and may not campaign itself.
        return Calm::KnownStall("apply-time-config");
    }
    let states: Vec<String> = env
        .nodes
        .iter()
        .map(|n| {
            let r = &n.raw.raft;
            format!(
                "{}:{:?}/t{}/lead{}/commit{}/applied{}/last{}/voters{:?}",
                r.id,
                r.state,
                r.term,
                r.lead,
                r.raft_log.committed,
                r.raft_log.applied,
                r.raft_log.last_index(),
                r.trk.voter_nodes()
            )
        })
        .collect();
    Calm::Stuck(format!(
        "no progress after {LIVENESS_ROUNDS} calm rounds: {}",
        states.join(" ")
    ))
}
