//! The events of a run: each is one interaction-script command, so that a
//! schedule (or a shrunk part of one) is a script. [`Generator`] draws the
//! next event from the seed's generator and the cluster's current state.

use raft::raft::StateRole;

use super::config::SimConfig;
use super::rng::SimRng;
use crate::interaction::InteractionEnv;

/// One event: a script directive and its input lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The directive line, e.g. `propose 1 p7`.
    pub line: String,
    /// The input lines (conf changes), empty for most commands.
    pub input: String,
}

impl Command {
    /// A command without input.
    pub fn new(line: impl Into<String>) -> Command {
        Command {
            line: line.into(),
            input: String::new(),
        }
    }
}

/// Draws events for one run.
pub struct Generator {
    rng: SimRng,
    cfg: SimConfig,
    proposals: u64,
    reads: u64,
}

impl Generator {
    /// A generator for a run of `cfg`, drawing from `rng`.
    pub fn new(rng: SimRng, cfg: SimConfig) -> Generator {
        Generator {
            rng,
            cfg,
            proposals: 0,
            reads: 0,
        }
    }

    /// The next event, given the state of the cluster.
    pub fn next(&mut self, env: &InteractionEnv) -> Command {
        let n = self.cfg.nodes;
        let up: Vec<u64> = (1..=n).filter(|id| !env.faults.down.contains(id)).collect();
        let down: Vec<u64> = env.faults.down.iter().copied().collect();
        let leader = up
            .iter()
            .copied()
            .find(|&id| env.nodes[(id - 1) as usize].raw.raft.state == StateRole::Leader);
        let any = |g: &mut Self| g.rng.range(1, n as usize) as u64;
        loop {
            let roll = self.rng.below(100);
            let cmd = match roll {
                0..=21 => {
                    let Some(id) = self.rng.pick(&up) else {
                        continue;
                    };
                    format!("tick-heartbeat {id}")
                }
                22..=39 => {
                    let ready: Vec<u64> = up
                        .iter()
                        .copied()
                        .filter(|&id| env.nodes[(id - 1) as usize].raw.has_ready())
                        .collect();
                    let Some(id) = self.rng.pick(&ready) else {
                        continue;
                    };
                    format!("process-ready {id}")
                }
                40..=66 => {
                    if env.messages.is_empty() {
                        continue;
                    }
                    let i = self.rng.below(env.messages.len());
                    let m = &env.messages[i];
                    let nth = env.messages[..i]
                        .iter()
                        .filter(|o| o.from == m.from && o.to == m.to)
                        .count();
                    if self.rng.chance(4) {
                        format!("drop-msg {} {} nth={nth}", m.from, m.to)
                    } else if self.rng.chance(3) {
                        format!("deliver-msg {} {} nth={nth} dup=true", m.from, m.to)
                    } else {
                        format!("deliver-msg {} {} nth={nth}", m.from, m.to)
                    }
                }
                67..=74 => {
                    if !self.cfg.async_writes {
                        continue;
                    }
                    let work: Vec<(u64, bool)> = up
                        .iter()
                        .flat_map(|&id| {
                            let node = &env.nodes[(id - 1) as usize];
                            let a = (!node.append_work.is_empty()).then_some((id, true));
                            let b = (!node.apply_work.is_empty()).then_some((id, false));
                            a.into_iter().chain(b)
                        })
                        .collect();
                    let Some((id, append)) = self.rng.pick(&work) else {
                        continue;
                    };
                    let thread = if append { "append" } else { "apply" };
                    format!("process-{thread}-thread {id}")
                }
                75..=81 => {
                    let Some(target) = self.leader_mostly(leader, &up) else {
                        continue;
                    };
                    self.proposals += 1;
                    format!("propose {target} p{}", self.proposals)
                }
                82..=83 => {
                    let Some(target) = self.leader_mostly(leader, &up) else {
                        continue;
                    };
                    return self.conf_change(target);
                }
                84 => {
                    let Some(l) = leader else { continue };
                    format!("transfer-leadership from={l} to={}", any(self))
                }
                85..=86 => {
                    let Some(id) = self.rng.pick(&up) else {
                        continue;
                    };
                    self.reads += 1;
                    format!("read-index {id} r{}", self.reads)
                }
                87 => {
                    let Some(id) = self.rng.pick(&up) else {
                        continue;
                    };
                    format!("checkpoint {id}")
                }
                88 => {
                    // Keep at least one node up, so that the run goes on.
                    if up.len() <= 1 {
                        continue;
                    }
                    let Some(id) = self.rng.pick(&up) else {
                        continue;
                    };
                    format!("crash {id}")
                }
                89..=91 => {
                    let Some(id) = self.rng.pick(&down) else {
                        continue;
                    };
                    format!("restart {id}")
                }
                92 => {
                    let k = self.rng.range(1, n as usize);
                    let mut side: Vec<u64> = (1..=n).collect();
                    while side.len() > k {
                        side.remove(self.rng.below(side.len()));
                    }
                    let ids: Vec<String> = side.iter().map(u64::to_string).collect();
                    format!("partition {}", ids.join(" "))
                }
                93 => format!("cut {} {}", any(self), any(self)),
                94..=96 => "heal".to_owned(),
                97 => {
                    let Some(id) = self.rng.pick(&up) else {
                        continue;
                    };
                    if self.rng.chance(50) {
                        format!("campaign {id}")
                    } else {
                        // What an application's transport says when a
                        // peer cannot be reached or a snapshot did not go.
                        let peer = any(self);
                        if self.rng.chance(50) {
                            format!("report-unreachable {id} {peer}")
                        } else {
                            format!("report-snapshot {id} {peer} status=failure")
                        }
                    }
                }
                _ => {
                    let Some(id) = self.rng.pick(&up) else {
                        continue;
                    };
                    format!("tick-election {id}")
                }
            };
            return Command::new(cmd);
        }
    }

    /// Where a proposal goes: the leader, mostly, otherwise any node that
    /// is up (`None` when none is).
    fn leader_mostly(&mut self, leader: Option<u64>, up: &[u64]) -> Option<u64> {
        match leader {
            Some(l) if self.rng.chance(85) => Some(l),
            _ => self.rng.pick(up),
        }
    }

    /// A random conf change proposed at `target`: v1, v2 simple, v2 joint
    /// with each transition, or leaving a joint configuration.
    fn conf_change(&mut self, target: u64) -> Command {
        let n = self.cfg.nodes as usize;
        let op = |g: &mut Self| {
            let kind = ["v", "l", "r"][g.rng.below(3)];
            format!("{kind}{}", g.rng.range(1, n))
        };
        let (line, input) = match self.rng.below(10) {
            0..=2 => (format!("propose-conf-change {target} v1=true"), op(self)),
            3..=5 => (format!("propose-conf-change {target}"), op(self)),
            6..=8 => {
                let k = self.rng.range(2, 3);
                let ops: Vec<String> = (0..k).map(|_| op(self)).collect();
                let tr = ["auto", "implicit", "explicit"][self.rng.below(3)];
                (
                    format!("propose-conf-change {target} transition={tr}"),
                    ops.join(" "),
                )
            }
            _ => (format!("propose-conf-change {target}"), String::new()),
        };
        Command { line, input }
    }
}
