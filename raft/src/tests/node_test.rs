//! The port of etcd's `node_test.go`: the threaded [`Node`] over a
//! [`RawNode`], driven the way an application drives it.
//!
//! Where etcd's tests swap `raft.step` to watch what reaches the state
//! machine, these install the node's test step hook ([`Node::exec`]), which
//! sees every message the node thread steps (proposals and peer messages)
//! at the same point.
//!
//! # Go tests that do not apply
//!
//! Every Go test of `node_test.go` has a counterpart here. Two of them
//! check Go-channel plumbing and are ported to the behaviour that plumbing
//! stands for:
//! - `TestNodeStep` fills a node's buffered `propc`/`recvc` directly and
//!   looks at which channel got the message; here each message type is
//!   stepped into a running node and the test checks that proposals reach
//!   raft through the proposal path (stamped with the node's id), other
//!   peer messages reach it unchanged, and local messages are ignored.
//! - `TestNodeStepUnblock` closes a bare node's `done` channel by hand; here
//!   a real node is stopped (and a real context canceled) while a proposal
//!   is blocked for want of a leader.
//!
//! Go's `ctx` arguments become the optional [`Context`] of the `_ctx`
//! methods (cancel: [`Error::Canceled`], deadline:
//! [`Error::DeadlineExceeded`]). The benchmarks of `node_bench_test.go` and
//! `rafttest/node_bench_test.go` are benchmarks, not tests, and are not
//! ported here. `rafttest/node_test.go` and `network_test.go` are ported in
//! [`rafttest`](super::rafttest).

use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use crossbeam_channel::{after, bounded, select, tick};
use prost::Message as _;

use super::support::{
    conf_change, new_entry_with_data, new_message, new_test_config, new_test_memory_storage,
    new_test_raw_node, restarted_from_snapshot_storage, test_logger, three_voter_raft, typed_entry,
    with_peers, IgnoreSizeHintMemStorage, Network, Peer, NO_LIMIT,
};
use crate::config::Config;
use crate::eraftpb::{
    ConfChange, ConfChangeType, ConfState, Entry, EntryType, HardState, Message, MessageType,
};
use crate::errors::{Error, Result};
use crate::node::{restart_node, start_node, Context, Node};
use crate::raft::{SoftState, StateRole};
use crate::raw_node::{is_empty_hard_state, Peer as RaftPeer, RawNode, Ready};
use crate::storage::MemStorage;
use crate::util::is_local_msg;

/// The storage shared by the application (the test) and the node thread.
type Shared = Arc<RwLock<MemStorage>>;

/// How long a test waits for something that must happen; only reached when
/// the test fails.
const WAIT: Duration = Duration::from_secs(10);

/// How long a test waits to see that something does not happen.
const QUIET: Duration = Duration::from_millis(50);

fn shared(s: MemStorage) -> Shared {
    Arc::new(RwLock::new(s))
}

/// etcd's `newNodeTestHarness`: a node over `s` with `cfg`, bootstrapped
/// with `peers` if any.
fn new_node_test_harness(cfg: &Config, s: &Shared, peers: &[RaftPeer]) -> Node {
    if peers.is_empty() {
        Node::new(RawNode::new(cfg, s.clone(), &test_logger()).expect("raw node"))
    } else {
        start_node(cfg, s.clone(), peers, &test_logger()).expect("start node")
    }
}

/// etcd's `readyWithTimeout`: the next `Ready`, failing the test if none
/// comes.
fn ready_with_timeout(n: &Node) -> Ready {
    select! {
        recv(n.ready()) -> rd => rd.expect("node stopped"),
        recv(after(WAIT)) -> _ => panic!("timed out waiting for ready"),
    }
}

/// Asserts that no `Ready` comes within [`QUIET`].
fn assert_no_ready(n: &Node) {
    select! {
        recv(n.ready()) -> rd => panic!("unexpected Ready: {rd:?}"),
        recv(after(QUIET)) -> _ => {}
    }
}

/// Runs `f` on a new thread and returns the channel its result arrives
/// on, once the thread is about to call `f` and `f` has not returned
/// within [`QUIET`] (it blocks, as the caller expects). A bare sleep would
/// pass vacuously when a busy machine has not run the thread yet.
fn spawn_blocked<T: Send + std::fmt::Debug + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> (crossbeam_channel::Receiver<T>, thread::JoinHandle<()>) {
    let (started_tx, started) = bounded(1);
    let (res_tx, res) = bounded(1);
    let h = thread::spawn(move || {
        let _ = started_tx.send(());
        let _ = res_tx.send(f());
    });
    select! {
        recv(started) -> _ => {}
        recv(after(WAIT)) -> _ => panic!("the thread never ran"),
    }
    select! {
        recv(res) -> r => panic!("returned {r:?}, want blocking"),
        recv(after(QUIET)) -> _ => {}
    }
    (res, h)
}

fn append(s: &Shared, ents: &[Entry]) {
    s.write().unwrap().append(ents).expect("append");
}

/// Waits for the node's next Ready, appends its entries to the storage and
/// advances: the whole handling of a Ready the test has nothing to check in.
fn persist_next_ready(n: &Node, s: &Shared) {
    let rd = ready_with_timeout(n);
    append(s, &rd.entries);
    n.advance();
}

/// Steps for the test hook: records messages into `msgs` and consumes them.
fn install_hook<F>(n: &Node, mut f: F)
where
    F: FnMut(&Message) -> Option<Result<()>> + Send + 'static,
{
    n.exec::<Shared, _>(move |_, hook| *hook = Some(Box::new(move |m| f(m))))
        .expect("node stopped");
}

/// Campaigns a single-node group to leadership, handling Readys until the
/// node knows it leads (etcd's loop in TestNodePropose and friends).
fn campaign_to_leader(n: &Node, s: &Shared, id: u64) {
    n.campaign().unwrap();
    loop {
        let rd = ready_with_timeout(n);
        append(s, &rd.entries);
        let lead = rd.soft_state.map(|ss| ss.lead);
        n.advance();
        if lead == Some(id) {
            break;
        }
    }
}

/// Every message type stepped into a node: proposals and peer messages
/// reach raft (through their own channels), local ones are dropped.
#[test]
fn test_node_step() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let n = Node::new(new_test_raw_node(1, 10, 1, s.clone()));
    // Proposals are only taken while a leader is known.
    campaign_to_leader(&n, &s, 1);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    install_hook(&n, move |m| {
        seen2.lock().unwrap().push(m.clone());
        Some(Ok(()))
    });
    for i in 0.. {
        let Ok(t) = MessageType::try_from(i) else {
            break;
        };
        seen.lock().unwrap().clear();
        // From the node itself, so that responses pass the unknown-peer
        // filter and the hook sees them.
        let mut m = new_message(1, 1, t);
        if t == MessageType::MsgProp {
            // A local proposal, as etcd's test steps it (no sender): it
            // takes the proposal channel. (A peer's goes with the other
            // messages; see node_hazards_test.)
            m.from = 0;
        }
        n.step(m).unwrap();
        // A status round trip makes sure the node thread handled the step.
        n.status();
        let got = seen.lock().unwrap().clone();
        if is_local_msg(t) {
            assert!(got.is_empty(), "{t:?}: step should ignore it");
        } else {
            assert_eq!(got.len(), 1, "{t:?}: not received");
            assert_eq!(got[0].get_type(), t);
            // Proposals are stamped with the node's id on their way in.
            assert_eq!(got[0].from, 1, "{t:?}");
        }
    }
}

/// A step stuck waiting for a leader comes back when its context is
/// cancelled, and when the node stops.
#[test]
fn test_node_step_unblock() {
    // Without a leader the node does not take proposals: the step blocks.
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let n = Arc::new(Node::new(new_test_raw_node(1, 10, 1, s.clone())));

    let (ctx, cancel) = Context::with_cancel();
    let n2 = n.clone();
    let (errc, h) = spawn_blocked(move || n2.step_ctx(&ctx, Message::new(MessageType::MsgProp)));
    cancel.cancel();
    select! {
        recv(errc) -> err => assert_eq!(err.unwrap(), Err(Error::Canceled)),
        recv(after(WAIT)) -> _ => panic!("failed to unblock step on cancel"),
    }
    h.join().unwrap();

    let n2 = n.clone();
    let (errc, h) = spawn_blocked(move || n2.step(Message::new(MessageType::MsgProp)));
    n.stop().expect("the node failed");
    select! {
        recv(errc) -> err => assert_eq!(err.unwrap(), Err(Error::Stopped)),
        recv(after(WAIT)) -> _ => panic!("failed to unblock step on stop"),
    }
    h.join().unwrap();
}

/// A proposal on the node turns into exactly one MsgProp for raft, with
/// the proposed bytes.
#[test]
fn test_node_propose() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let n = Node::new(new_test_raw_node(1, 10, 1, s.clone()));
    campaign_to_leader(&n, &s, 1);
    let msgs = Arc::new(Mutex::new(Vec::new()));
    let msgs2 = msgs.clone();
    install_hook(&n, move |m| {
        msgs2.lock().unwrap().push(m.clone());
        Some(Ok(()))
    });
    n.propose(&b"somedata"[..]).unwrap();
    n.stop().expect("the node failed");

    let msgs = msgs.lock().unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].get_type(), MessageType::MsgProp);
    assert_eq!(msgs[0].entries[0].data, Bytes::from_static(b"somedata"));
}

// With disable_proposal_forwarding, a follower drops a proposal instead of
// passing it on to the leader; without it, the proposal travels on.
#[test]
fn test_disable_proposal_forwarding() {
    let r1 = three_voter_raft(1);
    let r2 = three_voter_raft(2);
    let mut cfg3 = new_test_config(3, 10, 1);
    cfg3.disable_proposal_forwarding = true;
    let r3 = super::support::new_raft(&cfg3, new_test_memory_storage(vec![with_peers(&[1, 2, 3])]));
    let mut nt = Network::new(vec![Peer::from(r1), Peer::from(r2), Peer::from(r3)]);

    // Elect r1 as leader.
    nt.send1(new_message(1, 1, MessageType::MsgHup));

    let prop = |id| {
        let mut m = new_message(id, id, MessageType::MsgProp);
        m.entries.push(Entry {
            data: Bytes::from_static(b"testdata"),
            ..Default::default()
        });
        m
    };

    // r2 forwards the proposal to the leader.
    let r2 = nt.peer_mut(2);
    let _ = r2.step(prop(2));
    assert_eq!(r2.msgs.len(), 1);

    // r3 does not.
    let r3 = nt.peer_mut(3);
    let _ = r3.step(prop(3));
    assert!(r3.msgs.is_empty());
}

/// A read request reaching a leader that was deposed travels on to the
/// current one, and the forwarded copy carries no term of its own.
#[test]
fn test_node_read_index_to_old_leader() {
    let r1 = three_voter_raft(1);
    let r2 = three_voter_raft(2);
    let r3 = three_voter_raft(3);
    let mut nt = Network::new(vec![Peer::from(r1), Peer::from(r2), Peer::from(r3)]);

    // Elect r1 as leader.
    nt.send1(new_message(1, 1, MessageType::MsgHup));

    let test_entries = vec![Entry {
        data: Bytes::from_static(b"testdata"),
        ..Default::default()
    }];
    let read_index = |from, to| {
        let mut m = new_message(from, to, MessageType::MsgReadIndex);
        m.entries = test_entries.clone();
        m
    };

    // r2 (follower) forwards the request to r1 (leader) without a term.
    let r2 = nt.peer_mut(2);
    let _ = r2.step(read_index(2, 2));
    assert_eq!(r2.msgs.len(), 1);
    let read_index_msg1 = read_index(2, 1);
    assert_eq!(r2.msgs[0], read_index_msg1);

    // So does r3.
    let r3 = nt.peer_mut(3);
    let _ = r3.step(read_index(3, 3));
    assert_eq!(r3.msgs.len(), 1);
    let read_index_msg2 = read_index(3, 1);
    assert_eq!(r3.msgs[0], read_index_msg2);

    // Now elect r3 as leader.
    nt.send1(new_message(3, 3, MessageType::MsgHup));

    // r1 steps the two requests it got from r2 and r3 and forwards them
    // again, to r3.
    let r1 = nt.peer_mut(1);
    let _ = r1.step(read_index_msg1);
    let _ = r1.step(read_index_msg2);
    assert_eq!(r1.msgs.len(), 2);
    assert_eq!(r1.msgs[0], read_index(2, 3));
    assert_eq!(r1.msgs[1], read_index(3, 3));
}

/// A conf change proposed on the node reaches raft as one MsgProp whose
/// entry holds the encoded change.
#[test]
fn test_node_propose_config() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let n = Node::new(new_test_raw_node(1, 10, 1, s.clone()));
    campaign_to_leader(&n, &s, 1);
    let msgs = Arc::new(Mutex::new(Vec::new()));
    let msgs2 = msgs.clone();
    install_hook(&n, move |m| {
        msgs2.lock().unwrap().push(m.clone());
        Some(Ok(()))
    });
    let cc = conf_change(ConfChangeType::ConfChangeAddNode, 1);
    let ccdata = cc.encode_to_vec();
    n.propose_conf_change(&cc).unwrap();
    n.stop().expect("the node failed");

    let msgs = msgs.lock().unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].get_type(), MessageType::MsgProp);
    assert_eq!(msgs[0].entries[0].data, ccdata);
}

/// The stop signal (drop it), the applied conf changes and the thread of
/// [`drive`].
type Driver = (
    crossbeam_channel::Sender<()>,
    crossbeam_channel::Receiver<(ConfChange, ConfState)>,
    thread::JoinHandle<Vec<Entry>>,
);

// Drives `n` from a thread like an application: ticks every 100ms,
// persists and applies Readys, applies conf changes (found in committed
// entries, or in new entries with `conf_from_entries`), and reports each
// applied conf change's resulting configuration on the returned channel.
// `stop` ends the thread; it returns every committed entry it saw.
fn drive(n: Arc<Node>, s: Shared, conf_from_entries: bool) -> Driver {
    let (stop_tx, stop) = bounded::<()>(0);
    let (applied_tx, applied) = bounded(0);
    let h = thread::spawn(move || {
        let ticker = tick(Duration::from_millis(100));
        let mut all_committed = Vec::new();
        loop {
            select! {
                recv(stop) -> _ => return all_committed,
                recv(ticker) -> _ => n.tick(),
                recv(n.ready()) -> rd => {
                    let Ok(rd) = rd else { return all_committed };
                    append(&s, &rd.entries);
                    let mut confs = Vec::new();
                    let scan = if conf_from_entries { &rd.entries } else { &rd.committed_entries };
                    for e in scan {
                        if e.get_type() == EntryType::EntryConfChange {
                            let cc = ConfChange::decode(e.data.clone()).unwrap();
                            let cs = n.apply_conf_change(&cc).unwrap();
                            confs.push((cc, cs));
                        }
                    }
                    all_committed.extend(rd.committed_entries);
                    n.advance();
                    for c in confs {
                        select! {
                            send(applied_tx, c) -> _ => {}
                            recv(stop) -> _ => return all_committed,
                        }
                    }
                }
            }
        }
    });
    (stop_tx, applied, h)
}

fn wait_applied(
    applied: &crossbeam_channel::Receiver<(ConfChange, ConfState)>,
) -> (ConfChange, ConfState) {
    select! {
        recv(applied) -> c => c.unwrap(),
        recv(after(WAIT)) -> _ => panic!("timed out waiting for a conf change to apply"),
    }
}

/// Adding a node that is already a member, twice, leaves the log able to
/// add a genuinely new node afterwards.
#[test]
fn test_node_propose_add_duplicate_node() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let cfg = new_test_config(1, 10, 1);
    let n = Arc::new(new_node_test_harness(&cfg, &s, &[]));
    n.campaign().unwrap();
    persist_next_ready(&n, &s);

    let (stop, applied, h) = drive(n.clone(), s.clone(), false);

    let cc1 = conf_change(ConfChangeType::ConfChangeAddNode, 1);
    let ccdata1 = cc1.encode_to_vec();
    n.propose_conf_change(&cc1).unwrap();
    wait_applied(&applied);

    // Propose adding node 1 a second time.
    n.propose_conf_change(&cc1).unwrap();
    wait_applied(&applied);

    // The new node joins fine.
    let cc2 = conf_change(ConfChangeType::ConfChangeAddNode, 2);
    let ccdata2 = cc2.encode_to_vec();
    n.propose_conf_change(&cc2).unwrap();
    wait_applied(&applied);

    drop(stop);
    let all = h.join().unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[1].data, ccdata1);
    assert_eq!(all[3].data, ccdata2);
}

/// Without a known leader a proposal waits; once the node wins its
/// election the waiting proposal goes through.
#[test]
fn test_block_proposal() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let n = Arc::new(Node::new(new_test_raw_node(1, 10, 1, s.clone())));

    // etcd sleeps 10ms and looks; spawn_blocked makes sure the proposer
    // really ran and is still waiting.
    let n2 = n.clone();
    let (errc, h) = spawn_blocked(move || n2.propose(&b"somedata"[..]));

    n.campaign().unwrap();
    persist_next_ready(&n, &s);
    select! {
        recv(errc) -> err => assert_eq!(err.unwrap(), Ok(())),
        recv(after(WAIT)) -> _ => panic!("blocking proposal, want unblocking"),
    }
    h.join().unwrap();
}

/// When raft drops a proposal, the caller gets the drop error straight
/// away rather than sitting out its context.
#[test]
fn test_node_propose_wait_dropped() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let n = Node::new(new_test_raw_node(1, 10, 1, s.clone()));
    campaign_to_leader(&n, &s, 1);
    let dropping: &[u8] = b"test_dropping";
    let msgs = Arc::new(Mutex::new(Vec::new()));
    let msgs2 = msgs.clone();
    install_hook(&n, move |m| {
        if m.get_type() == MessageType::MsgProp
            && m.entries.iter().any(|e| e.data.as_ref() == dropping)
        {
            return Some(Err(Error::ProposalDropped));
        }
        msgs2.lock().unwrap().push(m.clone());
        Some(Ok(()))
    });
    // The deadline only bounds a broken node: a dropped proposal must
    // come back with the drop error, not DeadlineExceeded. etcd's 100ms
    // can run out on a loaded machine before the node thread even runs.
    let ctx = Context::with_timeout(WAIT);
    assert_eq!(n.propose_ctx(&ctx, dropping), Err(Error::ProposalDropped));
    n.stop().expect("the node failed");
    assert!(msgs.lock().unwrap().is_empty());
}

/// One tick on the node advances raft's election clock by one.
#[test]
fn test_node_tick() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let n = Node::new(new_test_raw_node(1, 10, 1, s.clone()));
    let elapsed = n
        .exec::<Shared, _>(|rn, _| rn.raft.election_elapsed)
        .unwrap();
    n.tick();
    // Wait (bounded, so a lost tick fails rather than hangs) until the
    // node thread has taken the tick.
    let deadline = std::time::Instant::now() + WAIT;
    while n.pending_ticks() != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the tick was never taken"
        );
        thread::sleep(Duration::from_millis(10));
    }
    // The node thread handles the tick before this request.
    let after_tick = n
        .exec::<Shared, _>(|rn, _| rn.raft.election_elapsed)
        .unwrap();
    n.stop().expect("the node failed");
    assert_eq!(after_tick, elapsed + 1);
}

// stop() returns only once the node thread has finished, and a second
// stop() is harmless.
#[test]
fn test_node_stop() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let n = Node::new(new_test_raw_node(1, 10, 1, s.clone()));

    let status = n.status();
    n.stop().expect("the node failed");
    // Stop joined the thread: the ready channel is disconnected now.
    assert!(matches!(
        n.ready().try_recv(),
        Err(crossbeam_channel::TryRecvError::Disconnected)
    ));

    let empty = crate::status::Status::default();
    assert_ne!(status, empty);
    // Further status requests return the empty status.
    assert_eq!(n.status(), empty);
    // Later stops have no effect.
    n.stop().expect("the node failed");
}

fn hs(term: u64, vote: u64, commit: u64) -> Option<HardState> {
    Some(HardState { term, vote, commit })
}

/// A node bootstrapped with one peer hands out its initial conf change
/// entry first, then campaigns, commits and applies a proposal.
#[test]
fn test_node_start() {
    let cc = conf_change(ConfChangeType::ConfChangeAddNode, 1);
    let ccdata = cc.encode_to_vec();
    let wants = [
        Ready {
            hard_state: hs(1, 0, 1),
            entries: vec![typed_entry(
                1,
                1,
                EntryType::EntryConfChange,
                ccdata.clone(),
            )],
            committed_entries: vec![typed_entry(
                1,
                1,
                EntryType::EntryConfChange,
                ccdata.clone(),
            )],
            must_sync: true,
            ..Default::default()
        },
        Ready {
            hard_state: hs(2, 1, 2),
            entries: vec![new_entry_with_data(3, 2, b"foo")],
            committed_entries: vec![new_entry_with_data(2, 2, b"")],
            must_sync: true,
            ..Default::default()
        },
        Ready {
            hard_state: hs(2, 1, 3),
            entries: vec![],
            committed_entries: vec![new_entry_with_data(3, 2, b"foo")],
            must_sync: false,
            ..Default::default()
        },
    ];
    let s = shared(MemStorage::new());
    let mut c = Config::new(1);
    c.max_size_per_msg = NO_LIMIT;
    // etcd also starts a first node on the same storage and leaves it
    // running; bootstrapping only touches that node's unstable log, not the
    // storage, so the node under test starts from the same state either way.
    let n = new_node_test_harness(
        &c,
        &s,
        &[RaftPeer {
            id: 1,
            ..Default::default()
        }],
    );

    let rd = ready_with_timeout(&n);
    assert_eq!(rd, wants[0]);
    append(&s, &rd.entries);
    n.advance();

    n.campaign().unwrap();

    // Persist the vote.
    persist_next_ready(&n, &s);
    // Append the empty entry.
    persist_next_ready(&n, &s);

    n.propose(&b"foo"[..]).unwrap();
    let rd = ready_with_timeout(&n);
    assert_eq!(rd, wants[1]);
    append(&s, &rd.entries);
    n.advance();

    let rd = ready_with_timeout(&n);
    assert_eq!(rd, wants[2]);
    append(&s, &rd.entries);
    n.advance();

    assert_no_ready(&n);
}

#[test]
fn test_node_restart() {
    let entries = vec![
        new_entry_with_data(1, 1, b""),
        new_entry_with_data(2, 1, b"foo"),
    ];
    let st = HardState {
        term: 1,
        vote: 0,
        commit: 1,
    };
    let want = Ready {
        // No hard state: nothing changed.
        hard_state: None,
        // Committed up to the stored commit index.
        committed_entries: entries[..st.commit as usize].to_vec(),
        // Neither a hard state nor new entries: no sync.
        must_sync: false,
        ..Default::default()
    };

    let mut storage = MemStorage::new();
    storage.set_hard_state(st).unwrap();
    storage.append(&entries).unwrap();
    let mut c = Config::new(1);
    c.max_size_per_msg = NO_LIMIT;
    let n = restart_node(&c, shared(storage), &test_logger()).unwrap();
    assert_eq!(ready_with_timeout(&n), want);
    n.advance();
    assert_no_ready(&n);
}

#[test]
fn test_node_restart_from_snapshot() {
    let (s, entries) = restarted_from_snapshot_storage();
    let want = Ready {
        // Nothing changed relative to what is persisted.
        hard_state: None,
        committed_entries: entries,
        must_sync: false,
        ..Default::default()
    };

    let mut c = Config::new(1);
    c.max_size_per_msg = NO_LIMIT;
    let n = restart_node(&c, shared(s), &test_logger()).unwrap();
    assert_eq!(ready_with_timeout(&n), want);
    n.advance();
    assert_no_ready(&n);
}

#[test]
fn test_node_advance() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let mut c = Config::new(1);
    c.max_size_per_msg = NO_LIMIT;
    let n = new_node_test_harness(&c, &s, &[]);

    n.campaign().unwrap();
    // Persist the vote.
    persist_next_ready(&n, &s);
    // Append the empty entry.
    persist_next_ready(&n, &s);

    n.propose(&b"foo"[..]).unwrap();
    persist_next_ready(&n, &s);
    select! {
        recv(n.ready()) -> _ => {}
        recv(after(WAIT)) -> _ => panic!("expect Ready after Advance, but there is no Ready available"),
    }
}

#[test]
fn test_soft_state_equal() {
    let tests = [
        (SoftState::default(), true),
        (
            SoftState {
                lead: 1,
                ..Default::default()
            },
            false,
        ),
        (
            SoftState {
                raft_state: StateRole::Leader,
                ..Default::default()
            },
            false,
        ),
    ];
    for (i, (st, we)) in tests.iter().enumerate() {
        assert_eq!(*st == SoftState::default(), *we, "#{i}");
    }
}

#[test]
fn test_is_hard_state_equal() {
    let tests = [
        (None, true),
        (hs(0, 1, 0), false),
        (hs(0, 0, 1), false),
        (hs(1, 0, 0), false),
    ];
    for (i, (ht, we)) in tests.iter().enumerate() {
        // etcd compares against a nil hard state, which reads as empty.
        assert_eq!(is_empty_hard_state(ht.as_ref()), *we, "#{i}");
        assert_eq!(ht.unwrap_or_default() == HardState::default(), *we, "#{i}");
    }
}

#[test]
fn test_node_propose_add_learner_node() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let n = Arc::new(Node::new(new_test_raw_node(1, 10, 1, s.clone())));
    n.campaign().unwrap();
    let (stop, applied, h) = drive(n.clone(), s.clone(), true);
    let cc = conf_change(ConfChangeType::ConfChangeAddLearnerNode, 2);
    n.propose_conf_change(&cc).unwrap();
    let (cc, state) = wait_applied(&applied);
    assert!(
        !state.learners.is_empty() && state.learners[0] == cc.node_id && cc.node_id == 2,
        "apply conf change should return new added learner: {state:?}"
    );
    assert_eq!(
        state.voters.len(),
        1,
        "add learner should not change the nodes: {state:?}"
    );
    drop(stop);
    h.join().unwrap();
    n.stop().expect("the node failed");
}

#[test]
fn test_append_pagination() {
    const MAX_SIZE_PER_MSG: u64 = 2048;
    fn cfg(c: &mut Config) {
        c.max_size_per_msg = MAX_SIZE_PER_MSG;
    }
    let mut n = Network::new_with_config(Some(cfg), vec![Peer::Nil, Peer::Nil, Peer::Nil]);

    let seen_full_message = Arc::new(Mutex::new(false));
    let seen = seen_full_message.clone();
    // Never exceed the limit, but do see messages larger than half of it.
    n.msg_hook = Some(Box::new(move |m: &Message| {
        if m.get_type() == MessageType::MsgApp {
            let size: u64 = m.entries.iter().map(|e| e.data.len() as u64).sum();
            assert!(size <= MAX_SIZE_PER_MSG, "sent MsgApp that is too large");
            if size > MAX_SIZE_PER_MSG / 2 {
                *seen.lock().unwrap() = true;
            }
        }
        true
    }));

    n.send1(new_message(1, 1, MessageType::MsgHup));

    // Partition the network while proposing, so that the entries are
    // batched into larger messages.
    n.isolate(1);
    let blob = Bytes::from(vec![b'a'; 1000]);
    for _ in 0..5 {
        let mut m = new_message(1, 1, MessageType::MsgProp);
        m.entries.push(Entry {
            data: blob.clone(),
            ..Default::default()
        });
        n.send1(m);
    }
    n.recover();

    // After the partition heals, a heartbeat wakes everything up and sends
    // the messages.
    n.send1(new_message(1, 1, MessageType::MsgBeat));
    assert!(
        *seen_full_message.lock().unwrap(),
        "didn't see any messages more than half the max size; something is wrong with this test"
    );
}

#[test]
fn test_commit_pagination() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let mut cfg = new_test_config(1, 10, 1);
    cfg.max_committed_size_per_ready = 2048;
    let n = new_node_test_harness(&cfg, &s, &[]);
    n.campaign().unwrap();

    // Persist the vote.
    persist_next_ready(&n, &s);
    // Append the empty entry.
    persist_next_ready(&n, &s);
    // Apply the empty entry.
    let rd = ready_with_timeout(&n);
    assert_eq!(rd.committed_entries.len(), 1);
    append(&s, &rd.entries);
    n.advance();

    let blob = Bytes::from(vec![b'a'; 1000]);
    for i in 0..3 {
        assert_eq!(n.propose(blob.clone()), Ok(()), "#{i}");
    }

    // First the three proposals are appended.
    let rd = ready_with_timeout(&n);
    assert_eq!(rd.entries.len(), 3);
    append(&s, &rd.entries);
    n.advance();

    // They commit in two batches.
    let rd = ready_with_timeout(&n);
    assert_eq!(rd.committed_entries.len(), 2);
    append(&s, &rd.entries);
    n.advance();
    let rd = ready_with_timeout(&n);
    assert_eq!(rd.committed_entries.len(), 1);
    append(&s, &rd.entries);
    n.advance();
}

// Handles a MsgStorageAppend: persists its entries and steps its responses.
fn handle_storage_append(n: &Node, s: &Shared, m: &Message) {
    assert_eq!(m.get_type(), MessageType::MsgStorageAppend);
    append(s, &m.entries);
    for resp in &m.responses {
        assert_eq!(n.step(resp.clone()), Ok(()));
    }
}

#[test]
fn test_commit_pagination_with_async_storage_writes() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let mut cfg = new_test_config(1, 10, 1);
    cfg.max_committed_size_per_ready = 2048;
    cfg.async_storage_writes = true;
    let n = new_node_test_harness(&cfg, &s, &[]);
    n.campaign().unwrap();

    // Persist the vote.
    let rd = ready_with_timeout(&n);
    assert_eq!(rd.messages.len(), 1);
    handle_storage_append(&n, &s, &rd.messages[0]);
    // Append the empty entry.
    let rd = ready_with_timeout(&n);
    assert_eq!(rd.messages.len(), 1);
    handle_storage_append(&n, &s, &rd.messages[0]);
    // Apply the empty entry.
    let rd = ready_with_timeout(&n);
    assert_eq!(rd.messages.len(), 2);
    for m in &rd.messages {
        match m.get_type() {
            MessageType::MsgStorageAppend => handle_storage_append(&n, &s, m),
            MessageType::MsgStorageApply => {
                assert_eq!(m.entries.len(), 1);
                assert_eq!(m.responses.len(), 1);
                assert_eq!(n.step(m.responses[0].clone()), Ok(()));
            }
            _ => panic!("unexpected: {m:?}"),
        }
    }

    // Propose the first entry.
    let blob = Bytes::from(vec![b'a'; 1024]);
    assert_eq!(n.propose(blob.clone()), Ok(()));

    // Append the first entry.
    let rd = ready_with_timeout(&n);
    assert_eq!(rd.messages.len(), 1);
    assert_eq!(rd.messages[0].entries.len(), 1);
    handle_storage_append(&n, &s, &rd.messages[0]);

    // Propose the second entry.
    assert_eq!(n.propose(blob.clone()), Ok(()));

    // Append the second entry; don't apply the first one yet.
    let rd = ready_with_timeout(&n);
    assert_eq!(rd.messages.len(), 2);
    let mut apply_resps = Vec::new();
    for m in &rd.messages {
        match m.get_type() {
            MessageType::MsgStorageAppend => handle_storage_append(&n, &s, m),
            MessageType::MsgStorageApply => {
                assert_eq!(m.entries.len(), 1);
                assert_eq!(m.responses.len(), 1);
                apply_resps.push(m.responses[0].clone());
            }
            _ => panic!("unexpected: {m:?}"),
        }
    }

    // Propose the third entry.
    assert_eq!(n.propose(blob), Ok(()));

    // Append the third entry; don't apply the second one yet.
    let rd = ready_with_timeout(&n);
    assert_eq!(rd.messages.len(), 2);
    for m in &rd.messages {
        match m.get_type() {
            MessageType::MsgStorageAppend => handle_storage_append(&n, &s, m),
            MessageType::MsgStorageApply => {
                assert_eq!(m.entries.len(), 1);
                assert_eq!(m.responses.len(), 1);
                apply_resps.push(m.responses[0].clone());
            }
            _ => panic!("unexpected: {m:?}"),
        }
    }

    // The third entry is not handed out for application until the first
    // one's application is acknowledged.
    loop {
        select! {
            recv(n.ready()) -> rd => {
                for m in &rd.unwrap().messages {
                    assert_ne!(m.get_type(), MessageType::MsgStorageApply, "unexpected message: {m:?}");
                }
            }
            recv(after(QUIET)) -> _ => break,
        }
    }

    // Acknowledge the first entry's application.
    assert_eq!(n.step(apply_resps.remove(0)), Ok(()));

    // Now the third entry comes for application.
    let rd = ready_with_timeout(&n);
    assert_eq!(rd.messages.len(), 1);
    let m = &rd.messages[0];
    assert_eq!(m.get_type(), MessageType::MsgStorageApply);
    assert_eq!(m.entries.len(), 1);
    apply_resps.push(m.responses[0].clone());

    // Acknowledge the second and third entries' application.
    for resp in apply_resps {
        assert_eq!(n.step(resp), Ok(()));
    }
}

/// After a restart over a storage that returns a little more than the
/// size hint asked for, raft must never hand out a hard state whose commit
/// index went backwards.
#[test]
fn test_node_commit_pagination_after_restart() {
    let mut ms = new_test_memory_storage(vec![with_peers(&[1])]);
    let persisted = HardState {
        term: 1,
        vote: 1,
        commit: 10,
    };
    ms.set_hard_state(persisted).unwrap();
    let ents: Vec<Entry> = (1..=10).map(|i| new_entry_with_data(i, 1, b"a")).collect();
    let size: u64 = ents.iter().map(|e| e.encoded_len() as u64).sum();
    ms.append(&ents).unwrap();

    let mut cfg = new_test_config(1, 10, 1);
    // A limit suggesting that the last committed entry is not part of the
    // first committed_entries; the storage returns it anyway (which is how
    // the commit index got to 10).
    cfg.max_size_per_msg = size - ents.last().unwrap().encoded_len() as u64 - 1;

    let s = IgnoreSizeHintMemStorage(shared(ms));
    let rn = RawNode::new(&cfg, s, &test_logger()).unwrap();
    let n = Node::new(rn);
    let rd = ready_with_timeout(&n);
    let commit = rd.hard_state.map_or(0, |h| h.commit);
    assert!(
        is_empty_hard_state(rd.hard_state.as_ref()) || commit >= persisted.commit,
        "HardState regressed: Commit {} -> {}\nCommitting:\n{:?}",
        persisted.commit,
        commit,
        rd.committed_entries
    );
}

// Beyond etcd's tests: the handle's life cycle and the Rust-side API
// (contexts, errors instead of panics).

// Dropping the handle stops the node and joins its thread.
#[test]
fn test_node_drop_stops_node() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let n = Node::new(new_test_raw_node(1, 10, 1, s.clone()));
    let ready = n.ready().clone();
    drop(n);
    // The node thread is gone: its end of the Ready channel was dropped.
    assert!(matches!(
        ready.try_recv(),
        Err(crossbeam_channel::TryRecvError::Disconnected)
    ));
    // The storage is the application's again.
    assert_eq!(Arc::strong_count(&s), 1);
}

// After stop, every call returns at once: with Error::Stopped where the
// call reports errors.
#[test]
fn test_node_calls_after_stop() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1])]));
    let n = Node::new(new_test_raw_node(1, 10, 1, s.clone()));
    n.stop().expect("the node failed");
    assert_eq!(n.campaign(), Err(Error::Stopped));
    assert_eq!(n.propose(&b"x"[..]), Err(Error::Stopped));
    assert_eq!(
        n.propose_conf_change(&conf_change(ConfChangeType::ConfChangeAddNode, 2)),
        Err(Error::Stopped)
    );
    assert_eq!(
        n.step(new_message(2, 1, MessageType::MsgHeartbeat)),
        Err(Error::Stopped)
    );
    assert_eq!(n.read_index(&b"ctx"[..]), Err(Error::Stopped));
    assert_eq!(n.forget_leader(), Err(Error::Stopped));
    assert_eq!(
        n.apply_conf_change(&conf_change(ConfChangeType::ConfChangeAddNode, 2)),
        Err(Error::Stopped)
    );
    n.tick();
    n.advance();
    n.transfer_leadership(1, 2);
    n.report_unreachable(2);
    n.report_snapshot(2, crate::raw_node::SnapshotStatus::Failure);
    assert_eq!(n.status(), crate::status::Status::default());
}

// etcd's StartNode refuses an empty peer list.
#[test]
fn test_start_node_without_peers() {
    let s = shared(MemStorage::new());
    let err = start_node(&Config::new(1), s, &[], &test_logger()).unwrap_err();
    assert_eq!(err.to_string(), "no peers given; use RestartNode instead");
}

// An invalid config is an error, not a panic.
#[test]
fn test_start_node_invalid_config() {
    let s = shared(MemStorage::new());
    let err = restart_node(&Config::new(0), s, &test_logger()).unwrap_err();
    assert_eq!(err.to_string(), "cannot use none as id");
}

// Without a leader a proposal waits; its context's deadline ends the wait.
#[test]
fn test_node_propose_deadline_without_leader() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1, 2, 3])]));
    let n = Node::new(new_test_raw_node(1, 10, 1, s.clone()));
    let ctx = Context::with_timeout(Duration::from_millis(20));
    assert_eq!(n.propose_ctx(&ctx, &b"x"[..]), Err(Error::DeadlineExceeded));
    assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
}

// A node that removes itself from the configuration stops taking
// proposals (etcd's run loop disarms propc).
#[test]
fn test_node_removed_blocks_proposals() {
    let s = shared(new_test_memory_storage(vec![with_peers(&[1, 2])]));
    let n = Node::new(new_test_raw_node(1, 10, 1, s.clone()));
    // Make node 1 the leader of {1, 2} by hand, so that proposals are
    // taken before the removal.
    n.exec::<Shared, _>(|rn, _| {
        rn.raft.become_candidate();
        rn.raft.become_leader();
    })
    .unwrap();
    let ctx = Context::with_timeout(WAIT);
    assert_eq!(n.propose_ctx(&ctx, &b"before"[..]), Ok(()));

    let cs = n
        .apply_conf_change(&conf_change(ConfChangeType::ConfChangeRemoveNode, 1))
        .unwrap();
    assert_eq!(cs.voters, vec![2]);
    let ctx = Context::with_timeout(Duration::from_millis(20));
    assert_eq!(
        n.propose_ctx(&ctx, &b"after"[..]),
        Err(Error::DeadlineExceeded)
    );
}

// The handle can be shared between threads (behind an Arc) and moved.
#[test]
fn test_node_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Node>();
    assert_send_sync::<Context>();
}
