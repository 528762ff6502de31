//! `raftexample bench`: how many acknowledged writes a local three-node
//! cluster takes, next to how many plain fdatasyncs the same disk does.
//!
//! It measures, in one run:
//! 1. the disk's fdatasync rate: 128-byte appends to a file in the bench
//!    directory, each followed by `fdatasync`, for two seconds, before and
//!    again after the cluster's run (a shared disk's rate drifts; the ratio
//!    is taken to their mean);
//! 2. a three-node cluster of this binary (child processes, fsync on, as
//!    always) on loopback: C HTTP clients, spread over the three nodes,
//!    each PUTting a fresh value to a fresh key and waiting for its 204
//!    before the next, for the given time after a one-second warm-up.
//!
//! 3. right after, the same clients GETting keys they wrote with
//!    `?serializable=true`, which a node answers from its map without raft
//!    or the disk: the HTTP ceiling, the most writes/s these clients could
//!    see on this machine whatever raft did.
//!
//! It prints acknowledged writes/s, p50 and p99 latency of the 204s, the
//! failed requests, the leader's WAL fsyncs over the measured time (from
//! `wal_fsyncs` in its `/raft/status`) with the writes per fsync, the HTTP
//! ceiling, and the ratio of writes/s to fdatasyncs/s: above 1, many
//! writes share one fsync (proposer batching, then Ready batching).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;

use crate::cli::BenchArgs;
use crate::client::Client;
use crate::lean_client::Connection;

/// How long a bench client waits for one answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the bench could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// `--dir` exists already (the bench removes its directory at the end).
    #[error("{0} exists already: give a directory that does not exist")]
    DirExists(PathBuf),
    /// The cluster did not elect a leader in time.
    #[error("the cluster elected no leader within {0:?}; node logs are in {1}")]
    NoLeader(Duration, PathBuf),
    /// Ports too high for six consecutive ports.
    #[error("--base-port {0} leaves no room for six ports")]
    BadPort(u16),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
    let what = what.into();
    move |source| BenchError::Io { what, source }
}

/// The figures of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Plain fdatasyncs per second (mean of before and after the run).
    pub fsyncs_per_sec: f64,
    /// Acknowledged (204) writes per second.
    pub writes_per_sec: f64,
    /// Median latency of acknowledged writes.
    pub p50: Duration,
    /// 99th percentile latency of acknowledged writes.
    pub p99: Duration,
    /// Requests that got no 204.
    pub failed: u64,
    /// WAL fsyncs of the leader while the writes were measured (None if the
    /// leader could not be asked, or changed meanwhile).
    pub leader_fsyncs: Option<u64>,
    /// Answered serializable GETs per second by the same clients right
    /// after the writes: what HTTP alone costs on this machine, the ceiling
    /// of writes/s whatever raft and the disk do.
    pub reads_per_sec: f64,
}

/// Runs the bench and prints its figures.
pub fn run(args: &BenchArgs) -> Result<Figures, BenchError> {
    let dir = match &args.dir {
        Some(d) if d.exists() => return Err(BenchError::DirExists(d.clone())),
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("raftexample-bench-{}", std::process::id())),
    };
    if args.base_port > u16::MAX - 6 {
        return Err(BenchError::BadPort(args.base_port));
    }
    std::fs::create_dir_all(&dir).map_err(io(format!("create {}", dir.display())))?;
    let result = run_in(args, &dir);
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("bench directory kept: {}", dir.display());
    }
    result
}

fn run_in(args: &BenchArgs, dir: &Path) -> Result<Figures, BenchError> {
    let probe = dir.join("fsync-probe");
    let before = fdatasync_rate(&probe, Duration::from_secs(2))?;
    println!("disk: {before:.0} fdatasync/s (128-byte appends)");

    let mut nodes = Nodes::start(args, dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(io("start the runtime"))?;
    let phases = rt.block_on(async {
        let client = Client::new(Duration::from_secs(30));
        nodes.wait_leader(&client).await?;
        let writes = drive(&client, &nodes.bases, args, Op::Put).await;
        let reads = drive(&client, &nodes.bases, args, Op::Get).await;
        Ok::<_, BenchError>((writes, reads))
    });
    nodes.stop();
    let (writes, reads) = phases?;
    let after = fdatasync_rate(&probe, Duration::from_secs(2))?;
    println!("disk after the run: {after:.0} fdatasync/s");
    let fsyncs_per_sec = (before + after) / 2.0;
    let seconds = args.seconds.max(1) as f64;
    let figures = Figures {
        fsyncs_per_sec,
        writes_per_sec: writes.latencies.len() as f64 / seconds,
        p50: percentile(&writes.latencies, 0.50),
        p99: percentile(&writes.latencies, 0.99),
        failed: writes.failed,
        leader_fsyncs: writes.leader_fsyncs,
        reads_per_sec: reads.latencies.len() as f64 / seconds,
    };
    println!(
        "cluster: {} clients, {}-byte values, {} s: {:.0} acknowledged writes/s, p50 {:.2} ms, p99 {:.2} ms, {} failed",
        args.clients,
        args.value_size,
        args.seconds,
        figures.writes_per_sec,
        figures.p50.as_secs_f64() * 1e3,
        figures.p99.as_secs_f64() * 1e3,
        figures.failed
    );
    match figures.leader_fsyncs {
        Some(n) => println!(
            "leader: {} WAL fsyncs ({:.0}/s): {:.1} acknowledged writes per fsync",
            n,
            n as f64 / seconds,
            writes.latencies.len() as f64 / n.max(1) as f64
        ),
        None => println!("leader: WAL fsyncs unknown (no leader, or it changed during the run)"),
    }
    println!(
        "HTTP ceiling with these clients on this machine: {:.0} requests/s (serializable GETs, p50 {:.2} ms, {} failed)",
        figures.reads_per_sec,
        percentile(&reads.latencies, 0.50).as_secs_f64() * 1e3,
        reads.failed
    );
    println!(
        "writes/s over fdatasync/s (mean of before and after, {:.0}): {:.1}x (the HTTP ceiling allows {:.1}x)",
        figures.fsyncs_per_sec,
        figures.writes_per_sec / figures.fsyncs_per_sec,
        figures.reads_per_sec / figures.fsyncs_per_sec
    );
    Ok(figures)
}

/// How many 128-byte append + fdatasync rounds the disk does per second.
fn fdatasync_rate(path: &Path, time: Duration) -> Result<f64, BenchError> {
    let mut f = File::create(path).map_err(io(format!("create {}", path.display())))?;
    let record = [0x5au8; 128];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        f.write_all(&record).map_err(io("write the probe"))?;
        // `sync_data` is fdatasync(2).
        f.sync_data().map_err(io("fdatasync the probe"))?;
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(path);
    Ok(rate)
}

/// The three node processes.
struct Nodes {
    children: Vec<Child>,
    bases: Vec<String>,
    dir: PathBuf,
}

impl Nodes {
    fn start(args: &BenchArgs, dir: &Path) -> Result<Nodes, BenchError> {
        let exe = std::env::current_exe().map_err(io("find this executable"))?;
        let port = |i: u16| args.base_port + i;
        let cluster = (0..3)
            .map(|i| format!("http://127.0.0.1:{}", port(i)))
            .collect::<Vec<_>>()
            .join(",");
        let mut nodes = Nodes {
            children: Vec::new(),
            bases: Vec::new(),
            dir: dir.to_owned(),
        };
        for i in 0..3u16 {
            let id = u64::from(i) + 1;
            let log = dir.join(format!("node-{id}.log"));
            let log = File::create(&log).map_err(io(format!("create {}", log.display())))?;
            let child = Command::new(&exe)
                .args(["--id", &id.to_string(), "--cluster", &cluster])
                .args(["--port", &port(3 + i).to_string()])
                // Three nodes and the clients share the machine: one I/O
                // thread each is faster than two (fewer wake-ups).
                .args(["--io-threads", "1"])
                .arg("--data-dir")
                .arg(dir.join(format!("node-{id}")))
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .map_err(io(format!("start node {id}")))?;
            nodes.children.push(child);
            nodes
                .bases
                .push(format!("http://127.0.0.1:{}", port(3 + i)));
        }
        Ok(nodes)
    }

    async fn wait_leader(&self, client: &Client) -> Result<(), BenchError> {
        let limit = Duration::from_secs(20);
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let url = format!("{}/raft/status", self.bases[0]);
            if let Ok(a) = client.request(Method::GET, &url, Bytes::new()).await {
                if a.text()
                    .lines()
                    .any(|l| l.starts_with("leader=") && l != "leader=0")
                {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(BenchError::NoLeader(limit, self.dir.clone()))
    }

    fn stop(&mut self) {
        for c in &self.children {
            // SAFETY: kill(2) on our own child, not yet reaped.
            unsafe {
                libc::kill(c.id() as libc::pid_t, libc::SIGTERM);
            }
        }
        for c in &mut self.children {
            let _ = c.wait();
        }
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for c in &mut self.children {
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// What the clients do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// PUT a fresh value to a fresh key.
    Put,
    /// GET one of the keys this client wrote, `?serializable=true`:
    /// answered by the node from its map, without raft.
    Get,
}

/// What one phase measured.
struct Phase {
    /// Latencies of the answered requests, sorted.
    latencies: Vec<Duration>,
    /// Requests that got no good answer.
    failed: u64,
    /// For writes: the leader's WAL fsyncs over the measured time.
    leader_fsyncs: Option<u64>,
}

/// Runs the clients: one second of warm-up, then `args.seconds` measured.
async fn drive(client: &Client, bases: &[String], args: &BenchArgs, op: Op) -> Phase {
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..args.clients.max(1) {
        let base = bases[c % bases.len()].clone();
        let (measuring, stop) = (measuring.clone(), stop.clone());
        let size = args.value_size;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            let mut conn: Option<Connection> = None;
            let mut i = 0u64;
            let mut value = vec![0u8; size];
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                let ok = match conn.as_mut() {
                    Some(cn) => {
                        let (method, path, want) = match op {
                            // A fresh value for a fresh key each time.
                            Op::Put => {
                                value.fill((i % 251) as u8);
                                ("PUT", format!("/bench-{c}-{i}"), 204)
                            }
                            Op::Get => ("GET", format!("/bench-{c}-0?serializable=true"), 200),
                        };
                        let body = if op == Op::Put { &value[..] } else { &[][..] };
                        let res =
                            tokio::time::timeout(REQUEST_TIMEOUT, cn.request(method, &path, body))
                                .await;
                        match res {
                            Ok(Ok(a)) => a.status == want,
                            _ => {
                                conn = None;
                                false
                            }
                        }
                    }
                    None => {
                        match Connection::connect(&base).await {
                            Ok(cn) => conn = Some(cn),
                            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                        continue;
                    }
                };
                let took = start.elapsed();
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        latencies.push(took);
                    } else {
                        failed += 1;
                    }
                }
                i += 1;
            }
            (latencies, failed)
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fsyncs_before = leader_fsyncs(client, bases).await;
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(args.seconds.max(1))).await;
    measuring.store(false, Ordering::Relaxed);
    let fsyncs_after = leader_fsyncs(client, bases).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut failed = 0;
    for t in tasks {
        if let Ok((l, f)) = t.await {
            latencies.extend(l);
            failed += f;
        }
    }
    latencies.sort_unstable();
    let leader_fsyncs = match (fsyncs_before, fsyncs_after) {
        (Some((lead, a)), Some((lead2, b))) if lead == lead2 && b >= a => Some(b - a),
        _ => None,
    };
    Phase {
        latencies,
        failed,
        leader_fsyncs,
    }
}

/// The leader's id and its WAL fsync count, from the first node that names
/// a leader in its status (node i serves `bases[i - 1]`).
async fn leader_fsyncs(client: &Client, bases: &[String]) -> Option<(u64, u64)> {
    let status = |base: String| async move {
        let a = client
            .request(Method::GET, &format!("{base}/raft/status"), Bytes::new())
            .await
            .ok()?;
        let text = a.text();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse::<u64>().ok())
        };
        Some((field("leader")?, field("wal_fsyncs")?))
    };
    for base in bases {
        let Some((lead, _)) = status(base.clone()).await else {
            continue;
        };
        let Some(leader_base) = usize::try_from(lead)
            .ok()
            .and_then(|l| l.checked_sub(1))
            .and_then(|i| bases.get(i))
        else {
            continue;
        };
        if let Some((l, fsyncs)) = status(leader_base.clone()).await {
            if l == lead {
                return Some((lead, fsyncs));
            }
        }
    }
    None
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}
