//! Messages from peers on their way into the node.
//!
//! `Node::step` blocks until the node thread takes the message (and, in
//! etcd's design, a forwarded proposal until a leader is known). So the
//! network tasks never call it: they queue messages here, and two threads
//! step them, one for forwarded proposals and one for everything else,
//! which must keep flowing so that the node hears its leader. The latter
//! hands over everything queued at once (`Node::step_many`).
//!
//! Back-pressure: the general queue is bounded and a full queue makes the
//! connection task wait, which stops it reading its socket; the proposal
//! queue is bounded too, and a forwarded proposal that finds it full is
//! dropped (its proposer times out and answers 503).

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use raft::eraftpb::{Message, MessageType};
use raft::node::Context;
use raft::Node;
use tokio::sync::mpsc;

use crate::raft_node::node_gone;

/// Messages queued per kind.
const QUEUE: usize = 1024;

/// The queues' sending side, cloned into every connection task.
#[derive(Clone, Debug)]
pub struct Inbox {
    msgs: mpsc::Sender<Message>,
    props: mpsc::Sender<Message>,
}

/// The queues' receiving side, until the node exists to step into.
#[derive(Debug)]
pub struct InboxRx {
    msgs: mpsc::Receiver<Message>,
    props: mpsc::Receiver<Message>,
}

/// A new inbox.
pub fn inbox() -> (Inbox, InboxRx) {
    let (msgs, msgs_rx) = mpsc::channel(QUEUE);
    let (props, props_rx) = mpsc::channel(QUEUE);
    (
        Inbox { msgs, props },
        InboxRx {
            msgs: msgs_rx,
            props: props_rx,
        },
    )
}

impl Inbox {
    /// Queues `m`; false once the node is gone.
    pub async fn deliver(&self, m: Message) -> bool {
        if m.get_type() == MessageType::MsgProp {
            // Never wait behind proposals: drop instead.
            return !matches!(
                self.props.try_send(m),
                Err(mpsc::error::TrySendError::Closed(_))
            );
        }
        self.msgs.send(m).await.is_ok()
    }
}

impl InboxRx {
    /// Starts the two stepping threads. A forwarded proposal waits at most
    /// `prop_timeout` for a leader. The threads end when the node stops.
    pub fn start(
        self,
        node: Arc<Node>,
        prop_timeout: Duration,
    ) -> std::io::Result<[JoinHandle<()>; 2]> {
        let n = node.clone();
        let msgs = std::thread::Builder::new()
            .name("raft-inbox".into())
            .spawn(move || step_batches(&n, self.msgs))?;
        let props = std::thread::Builder::new()
            .name("raft-inbox-prop".into())
            .spawn(move || step_all(&node, self.props, prop_timeout))?;
        Ok([msgs, props])
    }
}

/// The most messages handed to the node at once.
const BATCH: usize = 256;

// Every message queued by the time the thread looks goes to the node in
// one hand-off (`Node::step_many`): under load, the responses of several
// peers cost the node thread one wake-up instead of one each. (The queue
// holds no proposals: `deliver` queues them apart.)
fn step_batches(node: &Node, mut rx: mpsc::Receiver<Message>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.blocking_recv_many(&mut batch, BATCH) > 0 {
        // Other errors are raft refusing a message, which it logs itself.
        if node
            .step_many(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
            .is_err_and(|e| node_gone(&e))
        {
            return;
        }
    }
}

fn step_all(node: &Node, mut rx: mpsc::Receiver<Message>, timeout: Duration) {
    while let Some(m) = rx.blocking_recv() {
        let ctx = Context::with_timeout(timeout);
        if node.step_ctx(&ctx, m).is_err_and(|e| node_gone(&e)) {
            return;
        }
    }
}

/// An inbox whose general queue the test reads itself (no node behind it).
#[cfg(test)]
pub(crate) fn inbox_for_test() -> (Inbox, mpsc::Receiver<Message>) {
    let (inbox, rx) = inbox();
    (inbox, rx.msgs)
}
