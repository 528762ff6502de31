//! The replication state of a tracked follower (etcd `StateType`).

use std::fmt;

/// How the leader currently replicates to a follower.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StateType {
    /// The follower's last index is unknown; the leader sends at most one
    /// append per heartbeat interval to find where the logs diverge.
    #[default]
    Probe,
    /// Steady state: the leader streams appends optimistically, bounded by
    /// the in-flight limits.
    Replicate,
    /// The follower needs entries the leader no longer has; replication is
    /// paused until a snapshot brings it back.
    Snapshot,
}

/// etcd's names: `StateProbe`, `StateReplicate`, `StateSnapshot`.
impl fmt::Display for StateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateType::Probe => "StateProbe",
            StateType::Replicate => "StateReplicate",
            StateType::Snapshot => "StateSnapshot",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_default() {
        assert_eq!(StateType::default(), StateType::Probe);
        assert_eq!(StateType::Probe.to_string(), "StateProbe");
        assert_eq!(StateType::Replicate.to_string(), "StateReplicate");
        assert_eq!(StateType::Snapshot.to_string(), "StateSnapshot");
    }
}
