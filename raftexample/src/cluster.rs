//! `raftexample cluster N`: N nodes on loopback, one child process each
//! (this same binary), with etcd's Procfile ports: node i listens for
//! peers on `127.0.0.1:i2379` and for clients on `127.0.0.1:i2380`.
//! SIGINT or SIGTERM is passed on to every node; when one node exits the
//! others keep running (kill and restart them by hand for the demo).

use std::process::{Child, Command, ExitStatus};

use crate::cli::ClusterArgs;

/// The peer and HTTP ports of node `id` (1-based).
pub fn ports(id: u64) -> (u16, u16) {
    let base = 10_000 * id as u32 + 2379;
    (base as u16, (base + 1) as u16)
}

/// Why the cluster could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A node could not be started.
    #[error("cannot start node {id}: {source}")]
    Spawn {
        /// The node.
        id: u64,
        /// Why.
        source: std::io::Error,
    },
    /// Waiting for signals or children failed.
    #[error("cluster: {0}")]
    Io(#[from] std::io::Error),
}

/// The `--cluster` value for nodes `1..=n` on loopback.
pub fn cluster_flag(n: u64) -> String {
    (1..=n)
        .map(|i| format!("http://127.0.0.1:{}", ports(i).0))
        .collect::<Vec<_>>()
        .join(",")
}

/// Starts the nodes and waits until all have exited.
pub fn run(args: &ClusterArgs) -> Result<(), ClusterError> {
    let exe = std::env::current_exe()?;
    let cluster = cluster_flag(args.nodes);
    let mut children: Vec<(u64, Child)> = Vec::new();
    for id in 1..=args.nodes {
        let child = Command::new(&exe)
            .args(["--id", &id.to_string(), "--cluster", &cluster])
            .args(["--port", &ports(id).1.to_string()])
            .args(["--tick-ms", &args.tick_ms.to_string()])
            .args(["--snapshot-count", &args.snapshot_count.to_string()])
            .spawn();
        match child {
            Ok(c) => children.push((id, c)),
            Err(source) => {
                terminate(&mut children);
                return Err(ClusterError::Spawn { id, source });
            }
        }
        eprintln!(
            "node {id}: curl -L http://127.0.0.1:{}/<key> (peers on port {})",
            ports(id).1,
            ports(id).0
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        Ok::<(), std::io::Error>(())
    })?;
    terminate(&mut children);
    Ok(())
}

// Sends SIGTERM to every child still running and waits for them.
fn terminate(children: &mut [(u64, Child)]) {
    for (_, c) in children.iter_mut() {
        if matches!(c.try_wait(), Ok(None)) {
            // SAFETY: kill(2) with the pid of a child we have not reaped,
            // so the pid still names that child.
            unsafe {
                libc::kill(c.id() as libc::pid_t, libc::SIGTERM);
            }
        }
    }
    for (id, c) in children.iter_mut() {
        let status: std::io::Result<ExitStatus> = c.wait();
        eprintln!("node {id} exited: {status:?}");
    }
}
