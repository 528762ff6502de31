//! Three-node clusters of real processes: writes spread over all nodes,
//! kill -9 of the leader under writes, membership changes, bad requests.

mod common;

use bytes::Bytes;
use common::{wait_for, Cluster, Writers, DEADLINE};
use hyper::{Method, StatusCode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_puts_over_three_nodes_read_back_everywhere() {
    let c = Cluster::start(3, &[]);
    c.leader().await;
    let mut fsyncs = Vec::new();
    for id in 1..=3 {
        fsyncs.push(c.status_u64(id, "wal_fsyncs").await.expect("wal_fsyncs"));
    }
    // 200 keys written 5 times each, in order per key, each write to the
    // next node: 1,000 PUTs; every node must serve the last values.
    let mut tasks = Vec::new();
    for t in 0..20u64 {
        let client = c.client.clone();
        let bases: Vec<String> = (1..=3).map(|id| c.base(id)).collect();
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            for round in 0..5u64 {
                for k in (t..200).step_by(20) {
                    let base = &bases[((k + round) % 3) as usize];
                    let key = format!("k{k}");
                    let value = format!("k{k}-v{round}");
                    // A 503 (a leader change on a loaded machine) is retried:
                    // the key is written by this task alone, in order.
                    wait_for(
                        &format!("a 204 for PUT {key} to {base}"),
                        DEADLINE,
                        || async {
                            let a = client
                                .put(base, &key, Bytes::from(value.clone()))
                                .await
                                .ok()?;
                            match a.status {
                                StatusCode::NO_CONTENT => Some(()),
                                StatusCode::SERVICE_UNAVAILABLE => None,
                                s => panic!("PUT {key} to {base}: {s} {}", a.text()),
                            }
                        },
                    )
                    .await;
                    n += 1;
                }
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("writer");
    }
    assert_eq!(total, 1000);
    // Every node made the writes durable: its fsync count went up.
    for id in 1..=3u64 {
        let now = c.status_u64(id, "wal_fsyncs").await.expect("wal_fsyncs");
        assert!(now > fsyncs[id as usize - 1], "node {id}: wal_fsyncs {now}");
    }
    for id in 1..=3 {
        for k in 0..200 {
            let a = c
                .client
                .get(&c.base(id), &format!("k{k}"), false)
                .await
                .expect("GET");
            assert_eq!(
                (a.status, a.text()),
                (StatusCode::OK, format!("k{k}-v4")),
                "node {id}, k{k}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_leader_under_writes_loses_no_acknowledged_write() {
    let mut c = Cluster::start(3, &[]);
    let leader = c.leader().await;
    let w = Writers::start(&c, &[1, 2, 3], 6);
    w.more(100, "writes before the kill").await;

    c.kill(leader);
    w.more(100, "writes while the old leader is down").await;
    let new_leader = c.leader().await;
    assert_ne!(new_leader, leader);

    c.spawn(leader);
    w.more(50, "writes after the restart").await;
    let acked = w.stop().await;
    c.check_all(&acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_node_4_through_a_snapshot_then_remove_node_3() {
    let mut c = Cluster::start(3, &["--snapshot-count", "100"]);
    c.leader().await;
    let w = Writers::start(&c, &[1, 2, 3], 4);
    // Every node snapshotted at index 100 or later and compacted its log
    // to index 50 or later, so node 4 can only catch up by a snapshot.
    for id in 1..=3 {
        wait_for(
            &format!("node {id} to snapshot past index 100"),
            DEADLINE,
            || async { (c.status_u64(id, "snapshot_index").await? >= 100).then_some(()) },
        )
        .await;
    }

    c.add_joining(4);
    let addr = c.peer_addr(4);
    let url = format!("{}/4", c.base(1));
    wait_for("POST /4 to be applied", DEADLINE, || async {
        let a = c
            .client
            .request(Method::POST, &url, Bytes::from(addr.clone()))
            .await
            .ok()?;
        (a.status == StatusCode::NO_CONTENT).then_some(())
    })
    .await;
    c.spawn(4);
    wait_for("node 4 to install a snapshot", DEADLINE, || async {
        (c.status_u64(4, "snapshots_installed").await? >= 1).then_some(())
    })
    .await;
    w.target(c.base(4));
    w.more(100, "writes with node 4 in").await;

    c.remove_member(1, 3).await;
    let status = c.wait_exit(3);
    assert!(status.success(), "removed node 3 exited with {status}");
    w.untarget(&c.base(3));
    w.more(100, "writes after removing node 3").await;
    let acked = w.stop().await;

    let voters = c.status(1).await.expect("status")["voters"].clone();
    assert_eq!(voters, "1,2,4");
    c.check_all(&acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_4xx_with_a_reason_and_sigterm_stops_cleanly() {
    let mut c = Cluster::start(1, &[]);
    c.leader().await;
    let base = c.base(1);
    let big = "x".repeat((1 << 20) + 1);
    let long_key = format!("/{}", "k".repeat(2000));
    // Method, path, body, status, a word of the reason.
    let cases: &[(&str, &str, &str, u16, &str)] = &[
        ("PUT", "/", "", 400, "empty key"),
        ("GET", "/missing", "", 404, "not found"),
        ("PUT", "/k", &big, 413, ""),
        ("PUT", &long_key, "", 414, "over the limit"),
        ("GET", "/k?consistency=weird", "", 400, "bad query"),
        ("POST", "/abc", "127.0.0.1:1", 400, "bad node id"),
        ("POST", "/0", "127.0.0.1:1", 400, "bad node id"),
        ("POST", "/5", "nowhere", 400, "bad peer address"),
        ("POST", "/1", "127.0.0.1:9", 409, "already a member"),
        ("DELETE", "/9", "", 404, "not a member"),
        ("GET", "/a/b", "", 404, "no such path"),
        ("PATCH", "/k", "", 405, "not allowed"),
    ];
    for &(method, path, body, want, reason) in cases {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let url = format!("{base}{path}");
        let body = Bytes::copy_from_slice(body.as_bytes());
        let a = c
            .client
            .request(method.clone(), &url, body)
            .await
            .expect("request");
        let want = StatusCode::from_u16(want).expect("status");
        assert_eq!(a.status, want, "{method} {url}: {}", a.text());
        assert!(a.text().contains(reason), "{method} {url}: {}", a.text());
        assert_eq!(
            a.text().trim_end().lines().count(),
            1,
            "one line: {}",
            a.text()
        );
    }
    // The server still works after all that.
    let a = c
        .client
        .put(&base, "k", Bytes::from("v"))
        .await
        .expect("PUT");
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let status = c.terminate(1);
    assert!(status.success(), "SIGTERM exit: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_node_that_missed_its_removal_is_told_and_exits_cleanly() {
    let mut c = Cluster::start(3, &["--snapshot-count", "20"]);
    let leader = c.leader().await;
    let gone = (1..=3).find(|id| *id != leader).expect("a follower");
    let others: Vec<u64> = (1..=3).filter(|id| *id != gone).collect();
    // Down, it cannot hear the entry that removes it committed; once the
    // others applied it, nobody sends to it any more. (Merely SIGSTOPped,
    // it could still find the commit in a message already in its socket.)
    assert!(c.terminate(gone).success(), "SIGTERM of node {gone}");
    c.remove_member(leader, gone).await;
    // Enough writes that the survivors snapshot past the removal, then
    // restart them: what they know of it must survive both.
    let mut i = 0;
    let cl = &c;
    for k in 0..60 {
        let key = format!("after-{k}");
        wait_for(&format!("a 204 for PUT {key}"), DEADLINE, || {
            i += 1;
            let base = cl.base(others[i % others.len()]);
            let key = key.clone();
            async move {
                let a = cl.client.put(&base, &key, Bytes::from("v")).await.ok()?;
                (a.status == StatusCode::NO_CONTENT).then_some(())
            }
        })
        .await;
    }
    for &id in &others {
        wait_for(
            &format!("node {id} to snapshot past index 40"),
            DEADLINE,
            || async { (c.status_u64(id, "snapshot_index").await? >= 40).then_some(()) },
        )
        .await;
    }
    for &id in &others {
        assert!(c.terminate(id).success(), "SIGTERM of node {id}");
        c.spawn(id);
    }
    wait_for(
        "the restarted nodes to elect a leader",
        DEADLINE,
        || async {
            let l = c.status_u64(others[0], "leader").await?;
            (others.contains(&l) && c.status_u64(others[1], "leader").await? == l).then_some(())
        },
    )
    .await;

    // Restarted from its own log, where its removal is not committed, it
    // campaigns; a survivor must tell it it was removed.
    c.spawn(gone);
    let status = c.wait_exit(gone);
    assert!(status.success(), "removed node {gone} exited with {status}");
    let log = std::fs::read_to_string(&c.nodes[&gone].log).expect("log of the removed node");
    let told = log
        .lines()
        .any(|l| l.contains("removed from the cluster (node ") && l.contains("says so"));
    assert!(
        told,
        "node {gone} exited without being told it was removed:\n{log}"
    );
    let voters = c.status(others[0]).await.expect("status")["voters"].clone();
    assert_eq!(voters, format!("{},{}", others[0], others[1]));
}
