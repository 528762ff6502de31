//! Crashes: kill -9 and restart cycles under writes, with snapshots every
//! 100 entries; a data directory damaged in the middle of its WAL, and one
//! whose last write was torn.

mod common;

use common::{wait_for, Cluster, Rng, Writers, DEADLINE};
use etcdraft_storage::encoder::Encoder;
use etcdraft_storage::{decode_segment, RecordKind};
use raft::eraftpb::{Entry, HardState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_kill_9_restart_cycles_lose_no_acknowledged_write() {
    let seed = Rng::seed_from_clock();
    eprintln!("kill sequence seed: {seed}");
    let mut rng = Rng(seed);
    // Proposals forwarded to a leader that was just killed are lost: a
    // short request timeout lets the writers move on sooner.
    let mut c = Cluster::start(
        3,
        &["--snapshot-count", "100", "--request-timeout-ms", "1000"],
    );
    c.leader().await;
    let w = Writers::start(&c, &[1, 2, 3], 6);
    w.more(50, "writes before the first kill").await;

    for cycle in 0..30 {
        let victim = 1 + rng.next() % 3;
        let t0 = std::time::Instant::now();
        c.kill(victim);
        // The two others keep taking writes.
        w.more(
            20,
            &format!("writes with node {victim} down (cycle {cycle})"),
        )
        .await;
        let t1 = t0.elapsed();
        let commit = c.leader_commit().await;
        let t2 = t0.elapsed();
        c.spawn(victim);
        // Back from its snapshot and WAL tail, and caught up.
        wait_for(
            &format!("node {victim} to catch up (cycle {cycle})"),
            DEADLINE,
            || async { (c.status_u64(victim, "applied").await? >= commit).then_some(()) },
        )
        .await;
        eprintln!(
            "cycle {cycle}: victim {victim} writes {t1:?} commit {t2:?} caught up {:?}",
            t0.elapsed()
        );
    }
    w.more(50, "writes after the last restart").await;
    let acked = w.stop().await;
    c.check_all(&acked).await;
    for id in 1..=3 {
        let snap = c.status_u64(id, "snapshot_index").await.expect("status");
        assert!(snap > 0, "node {id} never took or received a snapshot");
    }
}

/// The offset of the last non-zero byte of a (preallocated) segment.
fn written_len(data: &[u8]) -> usize {
    data.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_wal_refuses_to_start_and_a_torn_tail_is_repaired() {
    let mut c = Cluster::start(3, &[]);
    c.leader().await;
    let w = Writers::start(&c, &[1, 2, 3], 4);
    w.more(300, "writes before the damage").await;

    // Node 2: flip a byte in the middle of its WAL.
    c.kill(2);
    let seg = c.wal_segments(2).pop().expect("node 2 has a WAL segment");
    let mut data = std::fs::read(&seg).expect("read the segment");
    let len = written_len(&data);
    assert!(len > 4096, "segment holds {len} bytes");
    data[len / 2] ^= 0x5a;
    std::fs::write(&seg, &data).expect("write the damaged segment");
    let (status, stderr) = c.run_to_exit(2);
    assert!(
        !status.success(),
        "node 2 started on a corrupt WAL:\n{stderr}"
    );
    let name = seg.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        stderr.contains(&name) && stderr.contains("byte"),
        "the error names neither the file {name} nor the offset:\n{stderr}"
    );

    // Node 3: a crash in the middle of writing its next batch. The batch
    // (a large entry and a hard state, framed as the WAL frames them) is
    // on disk only up to half: its fsync never returned, so nothing of it
    // was acknowledged, and opening must cut it off.
    w.untarget(&c.base(2));
    w.more(50, "writes with node 2 out").await;
    c.kill(3);
    let seg = c.wal_segments(3).pop().expect("node 3 has a WAL segment");
    let mut data = std::fs::read(&seg).expect("read the segment");
    let whole = decode_segment(&data);
    assert!(
        whole.error.is_none(),
        "node 3's WAL is damaged already: {:?}",
        whole.error
    );
    let end = whole.end as usize;
    let mut enc = Encoder::new(whole.crc);
    let entry = Entry {
        term: u64::MAX / 2,
        index: u64::MAX / 2,
        data: vec![7u8; 3000].into(),
        ..Default::default()
    };
    enc.push_message(RecordKind::Entry, &entry, false)
        .expect("frame");
    enc.push_message(RecordKind::HardState, &HardState::default(), true)
        .expect("frame");
    let torn = &enc.bytes()[..enc.bytes().len() / 2];
    assert!(
        data[end..end + torn.len()].iter().all(|b| *b == 0),
        "no room after the log"
    );
    data[end..end + torn.len()].copy_from_slice(torn);
    std::fs::write(&seg, &data).expect("write the torn segment");
    w.untarget(&c.base(3));
    // Node 1 alone has no quorum: the writers wait for node 3.
    c.spawn(3);
    w.target(c.base(3));
    w.more(100, "writes after node 3 came back").await;
    let acked = w.stop().await;
    c.check_all(&acked).await;
    // The torn batch was cut off: the segment's whole batches now end where
    // they ended before the crash, or later (new writes).
    let repaired = decode_segment(&std::fs::read(&seg).expect("read the segment"));
    assert!(
        repaired.error.is_none(),
        "node 3's WAL: {:?}",
        repaired.error
    );
    assert!(repaired.end >= whole.end);
}
