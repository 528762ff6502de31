//! [`Node::step_many`], beyond etcd: a batch of peer messages handed to the
//! node thread at once reaches raft as `step` would bring each message.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crossbeam_channel::{after, select};

use super::support::{new_message, new_test_memory_storage, new_test_raw_node, with_peers};
use crate::eraftpb::{Message, MessageType};
use crate::errors::Error;
use crate::node::Node;
use crate::storage::MemStorage;
use crate::util::is_local_msg;

type Shared = Arc<RwLock<MemStorage>>;

const WAIT: Duration = Duration::from_secs(10);

/// Campaigns a single-node group until the node knows it leads.
fn lead(n: &Node, s: &Shared) {
    n.campaign().unwrap();
    loop {
        let rd = select! {
            recv(n.ready()) -> rd => rd.expect("node stopped"),
            recv(after(WAIT)) -> _ => panic!("no Ready"),
        };
        s.write().unwrap().append(&rd.entries).unwrap();
        let led = rd.soft_state.is_some_and(|ss| ss.lead == 1);
        n.advance();
        if led {
            return;
        }
    }
}

#[test]
fn a_batch_reaches_raft_in_order_without_local_messages_and_own_proposals_last() {
    let s: Shared = Arc::new(RwLock::new(new_test_memory_storage(vec![with_peers(&[1])])));
    let n = Node::new(new_test_raw_node(1, 10, 1, s.clone()));
    lead(&n, &s);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    n.exec::<Shared, _>(move |_, hook| {
        *hook = Some(Box::new(move |m: &Message| {
            seen2.lock().unwrap().push((m.get_type(), m.from, m.index));
            Some(Ok(()))
        }))
    })
    .expect("node stopped");

    let mut batch = Vec::new();
    let mut want = Vec::new();
    let mut own = Vec::new();
    for (i, t) in (0..)
        .map_while(|i| MessageType::try_from(i).ok())
        .enumerate()
    {
        // From the node itself, so that responses pass the unknown-peer
        // filter and the hook sees them; a proposal from it is its own.
        let mut m = new_message(1, 1, t);
        m.index = i as u64;
        if t == MessageType::MsgProp {
            own.push((t, 1, m.index));
        } else if !is_local_msg(t) {
            want.push((t, 1, m.index));
        }
        batch.push(m);
    }
    // A proposal a peer forwarded goes with the others, in its place:
    // after MsgHup and MsgBeat (local: dropped) and the own MsgProp (handed
    // over last), so first.
    let mut fwd = new_message(2, 1, MessageType::MsgProp);
    fwd.index = 1000;
    batch.insert(3, fwd);
    want.insert(0, (MessageType::MsgProp, 2, 1000));
    want.extend(own);

    n.step_many(batch).unwrap();
    // A status round trip makes sure the node thread handled the batch.
    n.status();
    assert_eq!(*seen.lock().unwrap(), want);

    n.stop().unwrap();
    assert_eq!(
        n.step_many(vec![new_message(2, 1, MessageType::MsgApp)]),
        Err(Error::Stopped)
    );
    // Nothing to hand over: nothing to fail.
    assert_eq!(n.step_many(Vec::new()), Ok(()));
}
