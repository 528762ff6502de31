//! The nemesis test: three real processes under concurrent clients doing
//! PUTs of unique values and linearizable GETs on a few keys, while a
//! nemesis every two to three seconds kills a node with SIGKILL and
//! restarts it, or freezes it with SIGSTOP and thaws it with SIGCONT (the
//! leader more often than the others). Every operation's invocation and
//! answer is recorded; at the end, with every node back, the history must
//! be linearizable key by key and no acknowledged write may be lost.
//!
//! Set `NEMESIS_SEED` to replay a printed seed's choices (the timing of
//! the processes still differs from run to run).

mod common;
#[path = "common/linearizability.rs"]
mod linearizability;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{wait_for, Cluster, Rng, DEADLINE};
use hyper::StatusCode;
use linearizability::{check, lost_writes, Kind, Operation};
use raftexample::client::Client;

/// How long the nemesis runs, at the least.
const RUN: Duration = Duration::from_secs(60);
/// Faults to inject, at the least (the run goes on until both are met).
const MIN_FAULTS: usize = 20;
const CLIENTS: usize = 6;
const KEYS: [&str; 4] = ["a", "b", "c", "d"];
/// Search steps the checker may spend per key before saying "unknown".
const CHECK_BUDGET: u64 = 20_000_000;
/// The server gives up on a request after this long (a 503)...
const SERVER_TIMEOUT_MS: u64 = 1_500;
/// ...and a client after this long (a node frozen by SIGSTOP answers
/// nothing until it is thawed).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(3);

/// Operations as the clients saw them, with times in µs since the start.
struct Recorder {
    start: Instant,
    ops: Mutex<Vec<Operation>>,
    /// Answers a correct server never gives (any 4xx but a GET's 404).
    unexpected: Mutex<Vec<String>>,
    /// GETs without a value (503, timeout, node down): not in the history.
    failed_gets: Mutex<usize>,
}

impl Recorder {
    fn now(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn record(&self, op: Operation) {
        self.ops.lock().unwrap().push(op);
    }
}

/// One client: random operations on random keys at random nodes, one at a
/// time, until stopped.
async fn client(
    n: usize,
    seed: u64,
    bases: Vec<String>,
    rec: Arc<Recorder>,
    stop: Arc<AtomicBool>,
) {
    let http = Client::new(CLIENT_TIMEOUT);
    let mut rng = Rng(seed);
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = KEYS[rng.range(0, KEYS.len() as u64) as usize];
        let base = &bases[rng.range(0, bases.len() as u64) as usize];
        let call = rec.now();
        let answered = if rng.next() % 2 == 0 {
            let value = format!("c{n}-{i}");
            i += 1;
            let r = http.put(base, key, Bytes::from(value.clone())).await;
            let ret = rec.now();
            let done = match &r {
                Ok(a) if a.status == StatusCode::NO_CONTENT => Some(Some(ret)),
                // A 503 may come after the write was proposed, and a lost
                // connection after it was sent: either may still apply.
                Ok(a) if a.status == StatusCode::SERVICE_UNAVAILABLE => Some(None),
                Err(_) => Some(None),
                Ok(a) => {
                    rec.unexpected.lock().unwrap().push(format!(
                        "PUT {key}={value} to {base}: {} {}",
                        a.status,
                        a.text()
                    ));
                    None
                }
            };
            if let Some(ret) = done {
                rec.record(Operation {
                    client: n,
                    key: key.to_owned(),
                    kind: Kind::Put(value),
                    call,
                    ret,
                });
            }
            r.is_ok()
        } else {
            let r = http.get(base, key, false).await;
            let ret = rec.now();
            let seen = match &r {
                Ok(a) if a.status == StatusCode::OK => Some(Some(a.text())),
                Ok(a) if a.status == StatusCode::NOT_FOUND => Some(None),
                Ok(a) if a.status == StatusCode::SERVICE_UNAVAILABLE => None,
                Err(_) => None,
                Ok(a) => {
                    rec.unexpected.lock().unwrap().push(format!(
                        "GET {key} from {base}: {} {}",
                        a.status,
                        a.text()
                    ));
                    None
                }
            };
            match seen {
                Some(v) => rec.record(Operation {
                    client: n,
                    key: key.to_owned(),
                    kind: Kind::Get(v),
                    call,
                    ret: Some(ret),
                }),
                None => *rec.failed_gets.lock().unwrap() += 1,
            }
            r.is_ok()
        };
        if !answered {
            // The node is down: back off a little rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The history with one read made stale: the earliest read of a key that
/// began after two acknowledged writes of it, one after the other, now
/// sees the older one's value. None if no key has such a read.
fn plant_stale_read(history: &[Operation]) -> Option<(String, Vec<Operation>)> {
    let acked = |key: &str| {
        let mut w: Vec<&Operation> = history
            .iter()
            .filter(|o| o.key == key && matches!(o.kind, Kind::Put(_)) && o.ret.is_some())
            .collect();
        w.sort_by_key(|o| o.ret);
        w
    };
    for key in KEYS {
        let writes = acked(key);
        let Some((old, newer)) = writes.iter().enumerate().find_map(|(i, w1)| {
            let end = w1.ret?;
            let w2 = writes[i + 1..].iter().find(|w2| w2.call > end)?;
            Some((*w1, *w2))
        }) else {
            continue;
        };
        let Kind::Put(stale) = &old.kind else {
            unreachable!("filtered to puts")
        };
        let mut planted = history.to_vec();
        let read = planted
            .iter_mut()
            .filter(|o| o.key == key && o.call > newer.ret.unwrap_or(u64::MAX))
            .filter(|o| matches!(&o.kind, Kind::Get(v) if v.as_ref() != Some(stale)))
            .min_by_key(|o| o.call)?;
        read.kind = Kind::Get(Some(stale.clone()));
        return Some((key.to_owned(), planted));
    }
    None
}

/// The leader as some running node sees it, if any does.
async fn some_leader(c: &Cluster) -> Option<u64> {
    for id in c.up() {
        if let Some(l) = c.status_u64(id, "leader").await {
            if l != 0 {
                return Some(l);
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nemesis_kills_and_pauses_nodes_under_clients_and_the_history_is_linearizable() {
    let seed = std::env::var("NEMESIS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(Rng::seed_from_clock);
    eprintln!("nemesis seed: {seed} (NEMESIS_SEED={seed} replays its choices)");
    let mut rng = Rng(seed);
    let timeout = SERVER_TIMEOUT_MS.to_string();
    let mut c = Cluster::start(
        3,
        &["--snapshot-count", "200", "--request-timeout-ms", &timeout],
    );
    c.leader().await;

    let rec = Arc::new(Recorder {
        start: Instant::now(),
        ops: Mutex::default(),
        unexpected: Mutex::default(),
        failed_gets: Mutex::default(),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let bases: Vec<String> = (1..=3).map(|id| c.base(id)).collect();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(client(
                n,
                rng.next() | 1,
                bases.clone(),
                rec.clone(),
                stop.clone(),
            ))
        })
        .collect();

    // The nemesis: a calm spell, then one fault held for a while and
    // healed, so that at most one node is down or frozen at a time.
    let t0 = Instant::now();
    let mut faults: Vec<String> = Vec::new();
    while t0.elapsed() < RUN || faults.len() < MIN_FAULTS {
        assert!(
            t0.elapsed() < 3 * RUN,
            "only {} faults in {:?}",
            faults.len(),
            t0.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(rng.range(1_000, 1_800))).await;
        // A node that died of something else than the nemesis is a bug.
        c.assert_running();
        let leader = some_leader(&c).await;
        let victim = match leader {
            Some(l) if rng.next() % 2 == 0 => l,
            _ => rng.range(1, 4),
        };
        let hold = Duration::from_millis(rng.range(400, 1_500));
        let at = t0.elapsed().as_secs_f64();
        let is_leader = if leader == Some(victim) {
            " (leader)"
        } else {
            ""
        };
        if rng.next() % 2 == 0 {
            c.kill(victim);
            tokio::time::sleep(hold).await;
            c.spawn(victim);
            faults.push(format!(
                "{at:.1}s kill -9 node {victim}{is_leader}, restarted after {hold:?}"
            ));
        } else {
            c.pause(victim);
            tokio::time::sleep(hold).await;
            c.resume(victim);
            faults.push(format!(
                "{at:.1}s SIGSTOP node {victim}{is_leader}, SIGCONT after {hold:?}"
            ));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in clients {
        t.await.expect("client task");
    }
    for f in &faults {
        eprintln!("fault: {f}");
    }

    // Healed (every node runs): one leader, the same map everywhere.
    c.assert_running();
    c.leader().await;
    c.converged().await;
    // A linearizable read of every key on every node joins the history.
    let http = Client::new(CLIENT_TIMEOUT);
    for id in 1..=3u64 {
        for key in KEYS {
            let base = c.base(id);
            let (call, seen, ret) = wait_for(
                &format!("a final GET {key} from node {id}"),
                DEADLINE,
                || async {
                    let call = rec.now();
                    let a = http.get(&base, key, false).await.ok()?;
                    let ret = rec.now();
                    match a.status {
                        StatusCode::OK => Some((call, Some(a.text()), ret)),
                        StatusCode::NOT_FOUND => Some((call, None, ret)),
                        _ => None,
                    }
                },
            )
            .await;
            rec.record(Operation {
                client: 100 + id as usize,
                key: key.to_owned(),
                kind: Kind::Get(seen),
                call,
                ret: Some(ret),
            });
        }
    }
    // Every node serves the same final values (waited for: a write of
    // unknown outcome may still be landing).
    let finals: BTreeMap<String, Option<String>> = wait_for(
        "every node to serve the same final values",
        DEADLINE,
        || async {
            let mut agreed: Option<BTreeMap<String, Option<String>>> = None;
            for id in 1..=3u64 {
                let mut here = BTreeMap::new();
                for key in KEYS {
                    let a = http.get(&c.base(id), key, true).await.ok()?;
                    let v = match a.status {
                        StatusCode::OK => Some(a.text()),
                        StatusCode::NOT_FOUND => None,
                        _ => return None,
                    };
                    here.insert(key.to_owned(), v);
                }
                if agreed.as_ref().is_some_and(|a| *a != here) {
                    return None;
                }
                agreed = Some(here);
            }
            agreed
        },
    )
    .await;

    let history = rec.ops.lock().unwrap().clone();
    let acked = history
        .iter()
        .filter(|o| matches!(o.kind, Kind::Put(_)) && o.ret.is_some())
        .count();
    let unknown = history.iter().filter(|o| o.ret.is_none()).count();
    let gets = history.len() - acked - unknown;
    let lost = lost_writes(&history, &finals);
    let report = check(&history, CHECK_BUDGET);
    let verdict = report.summary();
    // The checker is not vacuous on this history: a stale read planted in
    // it is found.
    let (planted_key, planted) =
        plant_stale_read(&history).expect("a key with two acknowledged writes and a read after");
    let planted_report = check(&planted, CHECK_BUDGET);
    let planted_rejected = planted_report.keys.iter().any(|(k, _, v)| {
        *k == planted_key && matches!(v, linearizability::Verdict::NotLinearizable { .. })
    });
    let kills = faults.iter().filter(|f| f.contains("kill")).count();
    let unexpected = rec.unexpected.lock().unwrap().clone();
    eprintln!(
        "nemesis: ops={} (puts acked={acked} unknown={unknown}, gets={gets}, failed gets={}) \
         faults={} (kill={kills} pause={}) lost_writes={} linearizable={verdict} \
         planted_stale_read_rejected={planted_rejected} seed={seed}",
        history.len(),
        *rec.failed_gets.lock().unwrap(),
        faults.len(),
        faults.len() - kills,
        lost.len(),
    );
    // The whole history, for a failure's post-mortem (the directory is
    // kept when the test fails).
    let text: String = history.iter().map(|o| format!("{o}\n")).collect();
    std::fs::write(c.dir.join("history.txt"), text).expect("write the history");
    assert!(
        planted_rejected,
        "a stale read planted on key {planted_key} was not found: {:#?}",
        planted_report.keys
    );
    assert!(unexpected.is_empty(), "unexpected answers: {unexpected:#?}");
    assert!(faults.len() >= MIN_FAULTS);
    // A history with too little in it would prove nothing.
    assert!(acked >= 200 && gets >= 200, "too few operations answered");
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:#?}");
    assert!(
        report.linearizable(),
        "history not linearizable (seed {seed}): {:#?}",
        report.failures()
    );
}
