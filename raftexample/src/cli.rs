//! The command line, in etcd raftexample's shape: `--id`, `--cluster`,
//! `--port`, `--join`, plus the data directory, snapshot and timing knobs,
//! and the subcommands `cluster N` (a local demo cluster in one command,
//! etcd's Procfile) and `bench`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// A replicated key-value server on etcdraft (etcd's contrib/raftexample).
///
/// Without arguments it runs a one-node cluster on loopback that you can
/// write to at once: `curl -L http://127.0.0.1:9121/my-key -XPUT -d bar`.
#[derive(Debug, Parser)]
#[command(name = "raftexample", version)]
pub struct Cli {
    /// What to run instead of a single node.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The node to run (when no subcommand is given).
    #[command(flatten)]
    pub node: NodeArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Starts an N-node cluster on loopback, one child process per node,
    /// with data directories `raftexample-<id>` in the current directory.
    Cluster(ClusterArgs),
    /// Measures acknowledged writes/s and latency of a local three-node
    /// cluster, next to the disk's plain fdatasync rate.
    Bench(BenchArgs),
}

/// The flags of one node.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// This node's id: node i listens for peers on the i-th address of
    /// `--cluster`.
    #[arg(long, default_value_t = 1)]
    pub id: u64,
    /// Comma-separated peer addresses of the initial cluster (or of the
    /// cluster to join), as `http://host:port` or `host:port`.
    #[arg(long, default_value = "http://127.0.0.1:9021", value_parser = parse_cluster)]
    pub cluster: Cluster,
    /// The port of the HTTP key-value API (on the host of this node's peer
    /// address).
    #[arg(long, default_value_t = 9121)]
    pub port: u16,
    /// Join an existing cluster instead of bootstrapping a new one: the node
    /// must first be added with `POST /<id>`.
    #[arg(long)]
    pub join: bool,
    /// Where the WAL and snapshots live; default `raftexample-<id>`.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Applied entries between two snapshots.
    #[arg(long, default_value_t = 10_000)]
    pub snapshot_count: u64,
    /// Entries kept behind a snapshot so that slow followers catch up from
    /// the log rather than by a snapshot; default: the smaller of 10,000 and
    /// half of `--snapshot-count`, so that a small count still compacts.
    #[arg(long)]
    pub snapshot_catchup: Option<u64>,
    /// The size of a WAL segment in MiB: segments are preallocated, and
    /// opening the directory reads the last one whole.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub wal_segment_mb: u64,
    /// The raft tick in milliseconds (elections take 10 ticks, heartbeats 1).
    #[arg(long, default_value_t = 100)]
    pub tick_ms: u64,
    /// How long a request waits for a leader, a commit or a read before it
    /// gets a 503.
    #[arg(long, default_value_t = 5_000)]
    pub request_timeout_ms: u64,
    /// Threads serving HTTP clients and peer connections (the raft node,
    /// the Ready loop and the proposer have their own). Nodes sharing a
    /// machine, as in `raftexample bench`, run faster with 1: fewer threads
    /// to wake and hand work between.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub io_threads: u16,
    /// Also log raft's debug lines.
    #[arg(long)]
    pub verbose: bool,
}

impl NodeArgs {
    /// The data directory: `--data-dir` or `raftexample-<id>`.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("raftexample-{}", self.id)))
    }

    /// The catch-up tail kept behind each snapshot.
    pub fn snapshot_catchup(&self) -> u64 {
        self.snapshot_catchup
            .unwrap_or_else(|| (self.snapshot_count / 2).min(10_000))
    }

    /// The raft tick.
    pub fn tick(&self) -> Duration {
        Duration::from_millis(self.tick_ms.max(1))
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms.max(1))
    }

    /// This node's own peer address, which `--cluster` must list at
    /// position `--id`.
    pub fn own_addr(&self) -> Result<&PeerAddr, CliError> {
        usize::try_from(self.id)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.cluster.0.get(i))
            .ok_or(CliError::IdOutOfCluster {
                id: self.id,
                len: self.cluster.0.len(),
            })
    }
}

/// The flags of `raftexample cluster`.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// How many nodes (1 to 6: node i uses ports i2379 and i2380).
    #[arg(default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=6))]
    pub nodes: u64,
    /// Passed to every node.
    #[arg(long, default_value_t = 100)]
    pub tick_ms: u64,
    /// Passed to every node.
    #[arg(long, default_value_t = 10_000)]
    pub snapshot_count: u64,
}

/// The flags of `raftexample bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Concurrent HTTP clients, spread over the three nodes; each waits for
    /// its answer before its next write.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// How long to measure, after one second of warm-up.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// The size of each value written.
    #[arg(long, default_value_t = 128)]
    pub value_size: usize,
    /// Where the nodes' data directories and the fdatasync probe go (on the
    /// disk to measure); a new directory under the system's temp dir by
    /// default. It must not exist: the bench removes it at the end.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The first of six consecutive loopback ports (three for peers, three
    /// for HTTP).
    #[arg(long, default_value_t = 23379)]
    pub base_port: u16,
}

/// The peer addresses of `--cluster`, in id order (id 1 first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster(pub Vec<PeerAddr>);

/// A peer address as `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PeerAddr(String);

impl PeerAddr {
    /// The `host:port` text, ready for connecting or binding.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host part (without brackets for IPv6 it keeps them, as given).
    pub fn host(&self) -> &str {
        self.0.rsplit_once(':').map_or(&self.0, |(h, _)| h)
    }
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a command-line value was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CliError {
    /// A peer address is not `host:port` or `http://host:port`.
    #[error("bad peer address {0:?}: expected host:port or http://host:port")]
    BadAddr(String),
    /// `--cluster` is empty.
    #[error("--cluster lists no address")]
    EmptyCluster,
    /// `--id` has no address in `--cluster`.
    #[error("--id {id} has no address in --cluster, which lists {len}")]
    IdOutOfCluster {
        /// The id given.
        id: u64,
        /// How many addresses `--cluster` has.
        len: usize,
    },
}

impl FromStr for PeerAddr {
    type Err = CliError;

    fn from_str(s: &str) -> Result<PeerAddr, CliError> {
        let bad = || CliError::BadAddr(s.to_owned());
        let t = s.trim();
        let t = t.strip_prefix("http://").unwrap_or(t);
        let t = t.strip_suffix('/').unwrap_or(t);
        let (host, port) = t.rsplit_once(':').ok_or_else(bad)?;
        let port_ok = port.parse::<u16>().is_ok_and(|p| p != 0);
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
        if !port_ok || !host_ok {
            return Err(bad());
        }
        Ok(PeerAddr(t.to_owned()))
    }
}

/// Parses the comma-separated list of `--cluster`.
pub fn parse_cluster(s: &str) -> Result<Cluster, CliError> {
    let addrs = s
        .split(',')
        .filter(|a| !a.trim().is_empty())
        .map(PeerAddr::from_str)
        .collect::<Result<Vec<_>, _>>()?;
    if addrs.is_empty() {
        return Err(CliError::EmptyCluster);
    }
    Ok(Cluster(addrs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_and_without_scheme() {
        let c = parse_cluster("http://127.0.0.1:12379, localhost:22379/").unwrap();
        assert_eq!(c.0[0].as_str(), "127.0.0.1:12379");
        assert_eq!(c.0[1].as_str(), "localhost:22379");
        assert_eq!(c.0[1].host(), "localhost");
    }

    #[test]
    fn bad_addresses_are_refused_with_the_text() {
        for bad in [
            "127.0.0.1",
            "http://:80",
            "host:0",
            "host:99999",
            "a b:1",
            "",
        ] {
            let err = parse_cluster(bad).unwrap_err();
            assert!(
                matches!(err, CliError::BadAddr(_) | CliError::EmptyCluster),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn own_address_must_exist() {
        let args = Cli::parse_from(["raftexample", "--id", "3", "--cluster", "a:1,b:2"]).node;
        assert_eq!(
            args.own_addr().unwrap_err(),
            CliError::IdOutOfCluster { id: 3, len: 2 }
        );
        let args = Cli::parse_from(["raftexample", "--id", "2", "--cluster", "a:1,b:2"]).node;
        assert_eq!(args.own_addr().unwrap().as_str(), "b:2");
    }

    #[test]
    fn catchup_default_stays_below_a_small_snapshot_count() {
        let args = Cli::parse_from(["raftexample", "--snapshot-count", "100"]).node;
        assert_eq!(args.snapshot_catchup(), 50);
        let args = Cli::parse_from(["raftexample"]).node;
        assert_eq!(args.snapshot_catchup(), 5_000);
    }
}
