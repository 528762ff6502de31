//! The shared harness of the integration tests: real `raftexample`
//! processes on loopback ports, in a fresh directory, killed with real
//! signals; conditions waited for with deadlines.
//!
//! Cluster tests take a process-wide lock, so that the tests of one binary
//! do not run several clusters at once on a small machine.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::{Method, StatusCode};
use raftexample::client::Client;

/// The raft tick of test clusters: elections take 10 ticks.
pub const TICK_MS: u64 = 20;
/// How long a condition may take before a test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A node process and what it needs to be restarted.
pub struct NodeProc {
    pub id: u64,
    pub peer_port: u16,
    pub http_port: u16,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    pub join: bool,
    pub child: Option<Child>,
}

/// A cluster of real processes in a temporary directory.
pub struct Cluster {
    pub dir: PathBuf,
    pub nodes: BTreeMap<u64, NodeProc>,
    /// Extra flags given to every node.
    pub flags: Vec<String>,
    pub client: Client,
    _serial: MutexGuard<'static, ()>,
}

/// Loopback ports that are free now, outside the ephemeral range (so that
/// no outgoing connection takes them before the node binds them).
pub fn free_ports(n: usize) -> Vec<u16> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let seed = h.finish();
    let mut ports = Vec::new();
    while ports.len() < n {
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 20_000 + ((seed.wrapping_add(k.wrapping_mul(7919))) % 12_000) as u16;
        if !ports.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            ports.push(port);
        }
    }
    ports
}

fn unique_dir() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "raftexample-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test directory");
    dir
}

impl Cluster {
    /// Starts nodes `1..=n` with the test tick and `flags`.
    pub fn start(n: u64, flags: &[&str]) -> Cluster {
        let serial = ONE_CLUSTER_AT_A_TIME
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let dir = unique_dir();
        let ports = free_ports(2 * n as usize);
        let mut c = Cluster {
            dir,
            nodes: BTreeMap::new(),
            flags: flags.iter().map(|s| s.to_string()).collect(),
            client: Client::new(Duration::from_secs(10)),
            _serial: serial,
        };
        for id in 1..=n {
            let i = (id - 1) as usize;
            c.add_proc(id, ports[2 * i], ports[2 * i + 1], false);
        }
        for id in 1..=n {
            c.spawn(id);
        }
        c
    }

    fn add_proc(&mut self, id: u64, peer_port: u16, http_port: u16, join: bool) {
        let node = NodeProc {
            id,
            peer_port,
            http_port,
            data_dir: self.dir.join(format!("node-{id}")),
            log: self.dir.join(format!("node-{id}.log")),
            join,
            child: None,
        };
        self.nodes.insert(id, node);
    }

    /// The `--cluster` flag: every node known so far, in id order.
    pub fn cluster_flag(&self) -> String {
        let max = *self.nodes.keys().max().unwrap_or(&0);
        (1..=max)
            .map(|id| match self.nodes.get(&id) {
                Some(n) => format!("http://127.0.0.1:{}", n.peer_port),
                // An id never used: an address nobody listens on.
                None => "http://127.0.0.1:1".to_owned(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The command that (re)starts node `id`.
    pub fn command(&self, id: u64) -> Command {
        let n = &self.nodes[&id];
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_raftexample"));
        cmd.args(["--id", &id.to_string(), "--cluster", &self.cluster_flag()])
            .args(["--port", &n.http_port.to_string()])
            .arg("--data-dir")
            .arg(&n.data_dir)
            .args(["--tick-ms", &TICK_MS.to_string()])
            // Opening a directory reads its last segment whole, which a
            // debug build does slowly: keep segments small.
            .args(["--wal-segment-mb", "1"])
            .args(&self.flags);
        if n.join {
            cmd.arg("--join");
        }
        cmd
    }

    /// Starts node `id`'s process, its stderr appended to its log.
    pub fn spawn(&mut self, id: u64) {
        let mut cmd = self.command(id);
        let n = self.nodes.get_mut(&id).expect("known node");
        assert!(n.child.is_none(), "node {id} is running already");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&n.log)
            .expect("open the node's log");
        let child = cmd
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start raftexample");
        n.child = Some(child);
    }

    /// Runs node `id`'s command to completion (for a node that must refuse
    /// to start) and returns its exit status and stderr.
    pub fn run_to_exit(&self, id: u64) -> (ExitStatus, String) {
        let out = self
            .command(id)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("run raftexample");
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Adds node `id` to the harness as a joining node on fresh ports (the
    /// caller proposes it with `POST /id` and then spawns it).
    pub fn add_joining(&mut self, id: u64) {
        let ports = free_ports(2);
        self.add_proc(id, ports[0], ports[1], true);
    }

    /// Node `id`'s WAL segments, oldest first.
    pub fn wal_segments(&self, id: u64) -> Vec<PathBuf> {
        let dir = self.nodes[&id].data_dir.join("wal");
        let mut segs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("read the WAL directory")
            .map(|e| e.expect("WAL directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "wal"))
            .collect();
        segs.sort();
        segs
    }

    /// `http://127.0.0.1:port` of node `id`.
    pub fn base(&self, id: u64) -> String {
        format!("http://127.0.0.1:{}", self.nodes[&id].http_port)
    }

    /// The peer address of node `id`.
    pub fn peer_addr(&self, id: u64) -> String {
        format!("127.0.0.1:{}", self.nodes[&id].peer_port)
    }

    /// Whether node `id`'s process runs.
    pub fn is_up(&self, id: u64) -> bool {
        self.nodes[&id].child.is_some()
    }

    /// The ids of the running nodes.
    pub fn up(&self) -> Vec<u64> {
        self.nodes
            .values()
            .filter(|n| n.child.is_some())
            .map(|n| n.id)
            .collect()
    }

    /// kill -9 of node `id`, reaped.
    pub fn kill(&mut self, id: u64) {
        let n = self.nodes.get_mut(&id).expect("known node");
        let mut child = n.child.take().expect("node is running");
        // std's kill is SIGKILL.
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }

    /// Panics if a node that should run has exited by itself (a crash the
    /// test did not cause), naming it, its exit status and its log.
    pub fn assert_running(&mut self) {
        for n in self.nodes.values_mut() {
            if let Some(child) = n.child.as_mut() {
                if let Some(st) = child.try_wait().expect("try_wait") {
                    panic!(
                        "node {} exited by itself with {st}; see {}",
                        n.id,
                        n.log.display()
                    );
                }
            }
        }
    }

    /// SIGSTOP of node `id`: the process keeps its state and its sockets
    /// but does nothing until [`Cluster::resume`] (a paused leader wakes up
    /// believing it still leads).
    pub fn pause(&mut self, id: u64) {
        self.signal(id, libc::SIGSTOP, "SIGSTOP");
    }

    /// SIGCONT of node `id`, paused by [`Cluster::pause`].
    pub fn resume(&mut self, id: u64) {
        self.signal(id, libc::SIGCONT, "SIGCONT");
    }

    fn signal(&mut self, id: u64, sig: libc::c_int, name: &str) {
        let n = self.nodes.get_mut(&id).expect("known node");
        let child = n.child.as_ref().expect("node is running");
        // SAFETY: kill(2) on our own unreaped child.
        let rc = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
        assert_eq!(
            rc,
            0,
            "{name} to node {id}: {}",
            std::io::Error::last_os_error()
        );
    }

    /// SIGTERM to node `id`; its exit status within the deadline.
    pub fn terminate(&mut self, id: u64) -> ExitStatus {
        let n = self.nodes.get_mut(&id).expect("known node");
        let child = n.child.take().expect("node is running");
        // SAFETY: kill(2) on our own unreaped child.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        wait_exit(child, &n.log)
    }

    /// Waits for node `id` to exit by itself; its exit status.
    pub fn wait_exit(&mut self, id: u64) -> ExitStatus {
        let n = self.nodes.get_mut(&id).expect("known node");
        let child = n.child.take().expect("node is running");
        wait_exit(child, &n.log)
    }

    /// Node `id`'s `GET /raft/status`, as a map (None if it does not answer).
    pub async fn status(&self, id: u64) -> Option<HashMap<String, String>> {
        let url = format!("{}/raft/status", self.base(id));
        let a = self
            .client
            .request(Method::GET, &url, Bytes::new())
            .await
            .ok()?;
        if a.status != StatusCode::OK {
            return None;
        }
        Some(
            a.text()
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// A number field of node `id`'s status.
    pub async fn status_u64(&self, id: u64, field: &str) -> Option<u64> {
        self.status(id).await?.get(field)?.parse().ok()
    }

    /// The leader that every running node agrees on, waited for.
    pub async fn leader(&self) -> u64 {
        wait_for(
            "a leader every running node agrees on",
            DEADLINE,
            || async {
                let mut leader = None;
                for id in self.up() {
                    let l = self.status_u64(id, "leader").await?;
                    if l == 0 || leader.is_some_and(|x| x != l) {
                        return None;
                    }
                    leader = Some(l);
                }
                leader.filter(|l| self.up().contains(l))
            },
        )
        .await
    }

    /// The commit index of the agreed leader.
    pub async fn leader_commit(&self) -> u64 {
        let leader = self.leader().await;
        wait_for("the leader's commit index", DEADLINE, || async {
            self.status_u64(leader, "commit").await
        })
        .await
    }

    /// Waits until every running node applied the same entries and holds
    /// the same map; returns the digest.
    pub async fn converged(&self) -> String {
        wait_for(
            "all running nodes to hold the same map",
            DEADLINE,
            || async {
                let mut seen: Option<(String, String)> = None;
                for id in self.up() {
                    let st = self.status(id).await?;
                    let here = (st.get("applied")?.clone(), st.get("digest")?.clone());
                    if seen.as_ref().is_some_and(|s| *s != here) {
                        return None;
                    }
                    seen = Some(here);
                }
                seen.map(|s| s.1)
            },
        )
        .await
    }

    /// DELETE /{id} on node `via` until it is applied there: a 204, or
    /// `id` gone from `via`'s voters (the change was applied although its
    /// answer was lost, e.g. "leader changed" when `id` led and left).
    pub async fn remove_member(&self, via: u64, id: u64) {
        let url = format!("{}/{id}", self.base(via));
        wait_for(&format!("DELETE /{id} to be applied"), DEADLINE, || async {
            let a = self
                .client
                .request(Method::DELETE, &url, Bytes::new())
                .await
                .ok()?;
            if a.status == StatusCode::NO_CONTENT {
                return Some(());
            }
            let voters = self.status(via).await?.remove("voters")?;
            (!voters.split(',').any(|v| v == id.to_string())).then_some(())
        })
        .await
    }

    /// PUTs until some running node acknowledges (204), trying them in turn.
    pub async fn put_anywhere(&self, key: &str, value: &str) {
        let ids = self.up();
        let mut i = 0;
        wait_for(&format!("a 204 for PUT {key}"), DEADLINE, || {
            i += 1;
            let id = ids[i % ids.len()];
            async move {
                let a = self
                    .client
                    .put(
                        &self.base(id),
                        key,
                        Bytes::copy_from_slice(value.as_bytes()),
                    )
                    .await
                    .ok()?;
                (a.status == StatusCode::NO_CONTENT).then_some(())
            }
        })
        .await
    }

    /// Checks that every running node serves `acked` (serializable reads
    /// after convergence, plus one linearizable read per node).
    pub async fn check_all(&self, acked: &HashMap<String, String>) {
        self.converged().await;
        for id in self.up() {
            for (k, v) in acked {
                let a = self.client.get(&self.base(id), k, true).await.expect("GET");
                assert_eq!(
                    (a.status, a.text()),
                    (StatusCode::OK, v.clone()),
                    "node {id}, key {k}"
                );
            }
            if let Some((k, v)) = acked.iter().next() {
                let a = self
                    .client
                    .get(&self.base(id), k, false)
                    .await
                    .expect("GET");
                assert_eq!(
                    (a.status, a.text()),
                    (StatusCode::OK, v.clone()),
                    "node {id}, {k}"
                );
            }
        }
    }

    /// The last lines of every node's log, for a failing test's output.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for n in self.nodes.values() {
            let text = std::fs::read_to_string(&n.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out += &format!("---- node {} ({}):\n", n.id, n.log.display());
            for l in &lines[lines.len().saturating_sub(40)..] {
                out += l;
                out.push('\n');
            }
        }
        out
    }
}

fn wait_exit(mut child: Child, log: &Path) -> ExitStatus {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("node did not exit in time; see {}", log.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in self.nodes.values_mut() {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
            eprintln!("test directory kept: {}", self.dir.display());
        } else if std::env::var_os("RAFTEXAMPLE_KEEP_TEST_DIR").is_some() {
            eprintln!("test directory kept: {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A small xorshift generator: tests print their seed, so that a failing
/// sequence of faults can be replayed by hand.
pub struct Rng(pub u64);

impl Rng {
    /// A seed from the clock (never 0, which xorshift cannot leave).
    pub fn seed_from_clock() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos() as u64
            | 1
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// Polls `check` every 20 ms until it returns `Some`, or panics naming
/// `what` once `limit` passed.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writer tasks: each PUTs `w{n}-{i}` for i = 0, 1, ... to the target
/// nodes in turn until stopped, recording each 204. Failed PUTs (node
/// down, 503) are fine: only acknowledged writes must survive; any other
/// answer fails the test.
pub struct Writers {
    acked: Arc<Mutex<HashMap<String, String>>>,
    bases: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Writers {
    /// `n` writers on nodes `ids` of `c`.
    pub fn start(c: &Cluster, ids: &[u64], n: usize) -> Writers {
        let w = Writers {
            acked: Arc::default(),
            bases: Arc::new(Mutex::new(ids.iter().map(|id| c.base(*id)).collect())),
            stop: Arc::default(),
            tasks: Vec::new(),
        };
        let tasks = (0..n).map(|k| w.spawn(c.client.clone(), k)).collect();
        Writers { tasks, ..w }
    }

    fn spawn(&self, client: Client, n: usize) -> tokio::task::JoinHandle<()> {
        let (acked, bases, stop) = (self.acked.clone(), self.bases.clone(), self.stop.clone());
        tokio::spawn(async move {
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let base = {
                    let b = bases.lock().unwrap();
                    b[(i + n) % b.len()].clone()
                };
                let key = format!("w{n}-{i}");
                let value = format!("v{i}");
                let t0 = Instant::now();
                let r = client.put(&base, &key, Bytes::from(value.clone())).await;
                if t0.elapsed() > Duration::from_secs(1) {
                    eprintln!(
                        "SLOW PUT {key} to {base}: {:?} {:?}",
                        t0.elapsed(),
                        r.as_ref().map(|a| (a.status, a.text()))
                    );
                }
                match r {
                    Ok(a) if a.status == StatusCode::NO_CONTENT => {
                        acked.lock().unwrap().insert(key, value);
                    }
                    Ok(a) if a.status == StatusCode::SERVICE_UNAVAILABLE => {}
                    Ok(a) => panic!("PUT {key} to {base}: {} {}", a.status, a.text()),
                    // The node is down: back off a little rather than spin.
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                }
                i += 1;
            }
        })
    }

    /// How many writes were acknowledged so far.
    pub fn acked(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Waits for `n` more acknowledged writes.
    pub async fn more(&self, n: usize, what: &str) {
        let want = self.acked() + n;
        wait_for(&format!("{n} more {what}"), DEADLINE, || async {
            (self.acked() >= want).then_some(())
        })
        .await
    }

    /// Also writes to `base`.
    pub fn target(&self, base: String) {
        self.bases.lock().unwrap().push(base);
    }

    /// No longer writes to `base`.
    pub fn untarget(&self, base: &str) {
        self.bases.lock().unwrap().retain(|b| b != base);
    }

    /// Stops the writers; the acknowledged writes.
    pub async fn stop(self) -> HashMap<String, String> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.expect("writer task");
        }
        let acked = self.acked.lock().unwrap().clone();
        acked
    }
}
