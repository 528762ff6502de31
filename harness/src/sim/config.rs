//! A random cluster and raft configuration per seed, written as the
//! `add-nodes` command that creates it.

use super::rng::SimRng;

/// The shape of the cluster and the raft options of its nodes.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Nodes in all: voters, learners and spares (nodes that exist but are
    /// not in the configuration until a conf change adds them). 1 to 7.
    pub nodes: u64,
    /// Initial voters: ids `1..=voters`.
    pub voters: u64,
    /// Initial learners: the ids after the voters.
    pub learners: u64,
    /// `Config::pre_vote`.
    pub pre_vote: bool,
    /// `Config::check_quorum`.
    pub check_quorum: bool,
    /// `Config::async_storage_writes`.
    pub async_writes: bool,
    /// Lease-based instead of safe read-index requests (needs check quorum).
    pub lease_reads: bool,
    /// `Config::step_down_on_removal`.
    pub step_down_on_removal: bool,
    /// `Config::disable_proposal_forwarding`.
    pub no_forwarding: bool,
    /// `Config::max_inflight_msgs`.
    pub inflight: u64,
    /// `Config::max_size_per_msg` (`u64::MAX`: unlimited).
    pub max_size_per_msg: u64,
    /// `Config::max_inflight_bytes` (0: unlimited).
    pub max_inflight_bytes: u64,
    /// `Config::max_committed_size_per_ready` (0: `max_size_per_msg`).
    pub max_committed_size: u64,
    /// `Config::max_uncommitted_entries_size` (0: unlimited).
    pub max_uncommitted: u64,
    /// `Config::election_tick`.
    pub election_tick: u64,
    /// `Config::heartbeat_tick`.
    pub heartbeat_tick: u64,
    /// `Config::batch_append`.
    pub batch_append: bool,
}

impl SimConfig {
    /// The configuration of a run, drawn from `rng`.
    pub fn random(rng: &mut SimRng) -> SimConfig {
        let nodes = rng.range(1, 7) as u64;
        let voters = rng.range(1, nodes as usize) as u64;
        let learners = rng.range(0, (nodes - voters) as usize) as u64;
        let check_quorum = rng.chance(50);
        let max_size_per_msg = *[u64::MAX, u64::MAX, 1, 16, 64]
            .get(rng.below(5))
            .unwrap_or(&u64::MAX);
        let max_inflight_bytes = if rng.chance(25) && max_size_per_msg != u64::MAX {
            max_size_per_msg * rng.range(1, 4) as u64
        } else {
            0
        };
        let heartbeat_tick = rng.range(1, 2) as u64;
        SimConfig {
            nodes,
            voters,
            learners,
            pre_vote: rng.chance(50),
            check_quorum,
            async_writes: rng.chance(40),
            lease_reads: check_quorum && rng.chance(30),
            step_down_on_removal: rng.chance(50),
            no_forwarding: rng.chance(15),
            inflight: rng.range(1, 8) as u64,
            max_size_per_msg,
            max_inflight_bytes,
            max_committed_size: *[0, 0, 1, 32].get(rng.below(4)).unwrap_or(&0),
            max_uncommitted: *[0, 0, 64, 1024].get(rng.below(4)).unwrap_or(&0),
            election_tick: heartbeat_tick * rng.range(3, 10) as u64,
            heartbeat_tick,
            // Drawn last, so the other options of a seed are as before.
            batch_append: rng.chance(30),
        }
    }

    /// The `add-nodes` line creating the cluster from a snapshot at
    /// index 2 (every node, spares included, starts from it).
    pub fn add_nodes_line(&self) -> String {
        let ids = |r: std::ops::RangeInclusive<u64>| {
            r.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        };
        let mut line = format!("add-nodes {} voters=({})", self.nodes, ids(1..=self.voters));
        if self.learners > 0 {
            let l = ids(self.voters + 1..=self.voters + self.learners);
            line.push_str(&format!(" learners=({l})"));
        }
        line.push_str(&format!(
            " index=2 prevote={} checkquorum={} async-storage-writes={} \
             step-down-on-removal={} disable-proposal-forwarding={} inflight={} \
             max-size-per-msg={} max-inflight-bytes={} max-committed-size-per-ready={} \
             max-uncommitted-size={} election-tick={} heartbeat-tick={}",
            self.pre_vote,
            self.check_quorum,
            self.async_writes,
            self.step_down_on_removal,
            self.no_forwarding,
            self.inflight,
            self.max_size_per_msg,
            self.max_inflight_bytes,
            self.max_committed_size,
            self.max_uncommitted,
            self.election_tick,
            self.heartbeat_tick,
        ));
        if self.lease_reads {
            line.push_str(" read-only=lease-based");
        }
        if self.batch_append {
            line.push_str(" batch-append=true");
        }
        line
    }
}
