//! The port of etcd's `rafttest/network_test.go`.

use std::time::{Duration, Instant};

use super::network::RaftNetwork;
use crate::eraftpb::MessageType;
use crate::tests::support::new_message;

#[test]
fn test_network_drop() {
    // Drop around 10% of the messages.
    let sent = 1000;
    let droprate = 0.1;
    let nt = RaftNetwork::new(&[1, 2]);
    RaftNetwork::drop(&nt, 1, 2, droprate);
    for _ in 0..sent {
        nt.send(new_message(1, 2, MessageType::MsgHup));
    }

    let c = nt.recv_from(2);
    let mut received = 0;
    while c.try_recv().is_ok() {
        received += 1;
    }

    let drop = sent - received;
    assert!(
        drop <= ((droprate + 0.1) * sent as f64) as usize,
        "dropped {drop}"
    );
    assert!(
        drop >= ((droprate - 0.1) * sent as f64) as usize,
        "dropped {drop}"
    );
}

#[test]
fn test_network_delay() {
    let sent = 1000;
    let delay = Duration::from_millis(1);
    let delayrate = 0.1;
    let nt = RaftNetwork::new(&[1, 2]);

    nt.delay(1, 2, delay, delayrate);
    let mut total = Duration::ZERO;
    for _ in 0..sent {
        let s = Instant::now();
        nt.send(new_message(1, 2, MessageType::MsgHup));
        total += s.elapsed();
    }

    let w = delay.mul_f64(sent as f64 * delayrate / 2.0);
    // Sending has some overhead of its own (the random draws).
    assert!(total >= w, "total {total:?} < {w:?}");
}
