//! A faithful, fast Rust implementation of [etcd's raft](https://github.com/etcd-io/raft):
//! the same algorithm, the same state machine, the same log lines.
//!
//! Raft keeps a replicated log consistent across a group of nodes, so that
//! every node applies the same commands in the same order. This crate is
//! the consensus core only, as etcd's is: it does no I/O. Your application
//! owns the disk, the network and the clock. It ticks the node, steps into
//! it the messages peers send, and repeatedly takes a [`Ready`] from it: the
//! work raft needs done (entries and state to persist, messages to send,
//! committed entries to apply).
//!
//! Start with `use etcdraft::prelude::*;` ([`prelude`]). The sections below
//! are the guide; every example in them runs as a test.
//!
//! - [A one-node loop](#a-one-node-loop)
//! - [The Ready contract: persist, send, apply, advance](#the-ready-contract-persist-send-apply-advance)
//! - [Restarting from storage](#restarting-from-storage)
//! - [Snapshots and compaction](#snapshots-and-compaction)
//! - [Membership changes](#membership-changes)
//! - [`Node`: raft in its own thread](#node-raft-in-its-own-thread)
//! - [Asynchronous storage writes](#asynchronous-storage-writes)
//! - [Logging](#logging)
//!
//! # A one-node loop
//!
//! A [`RawNode`] is driven by one thread, yours. A group of one needs no
//! network, which makes it the smallest complete program. The storage's
//! initial [`ConfState`](eraftpb::ConfState) names the group's voters.
//!
//! ```
//! use etcdraft::prelude::*;
//!
//! let storage = MemStorage::new_with_conf_state(ConfState {
//!     voters: vec![1],
//!     ..Default::default()
//! });
//! let mut node = RawNode::new(&Config::new(1), storage, &discard_logger())?;
//!
//! // Even alone, a node is not leader the moment it campaigns: it becomes
//! // candidate and votes for itself, and that vote is only counted once the
//! // Ready that persists it has been handled (`advance`).
//! node.campaign()?;
//! assert_eq!(node.status().raft_state(), StateRole::Candidate);
//! handle_all_ready(&mut node)?;
//! assert_eq!(node.status().raft_state(), StateRole::Leader);
//!
//! node.propose(&b"x=1"[..])?;
//! let applied = handle_all_ready(&mut node)?;
//! assert_eq!(applied, [b"x=1".to_vec()]);
//!
//! /// Handles every pending Ready of a group of one; returns the payloads
//! /// applied. (A real application also ticks the node on a timer.)
//! fn handle_all_ready(node: &mut RawNode<MemStorage>) -> Result<Vec<Vec<u8>>, Error> {
//!     let mut applied = Vec::new();
//!     while node.has_ready() {
//!         let rd = node.ready();
//!         let store = node.mut_store();
//!         if let Some(hs) = rd.hard_state {
//!             store.set_hard_state(hs)?;
//!         }
//!         store.append(&rd.entries)?;
//!         for e in &rd.committed_entries {
//!             // A new leader's first entry is empty; it is not a command.
//!             if e.get_type() == EntryType::EntryNormal && !e.data.is_empty() {
//!                 applied.push(e.data.to_vec());
//!             }
//!         }
//!         node.advance();
//!     }
//!     Ok(applied)
//! }
//! # Ok::<(), Error>(())
//! ```
//!
//! # The Ready contract: persist, send, apply, advance
//!
//! Each [`Ready`] must be handled completely, in this order, before the
//! next one is taken:
//!
//! 1. **Persist** `snapshot` (if any), then `entries` and `hard_state`, to
//!    stable storage; durably (fsync) when `must_sync` is set. Raft reads
//!    its log back through [`Storage`], so what you persist must be what
//!    the storage returns from then on.
//! 2. **Send** `messages`, only once the above is durable: a vote or an
//!    acknowledgement promises that the state behind it survives a crash.
//!    A message that cannot be delivered is reported with
//!    [`RawNode::report_unreachable`]; after sending a `MsgSnap`, report
//!    how it went with [`RawNode::report_snapshot`].
//! 3. **Apply** `committed_entries` to the state machine, in order.
//!    Conf-change entries are applied to raft too (see
//!    [Membership changes](#membership-changes)).
//! 4. **Advance**: [`RawNode::advance`] tells raft the Ready is done.
//!
//! Between Readys, feed the node: [`RawNode::tick`] on a timer (every
//! `heartbeat_tick` ticks a leader sends heartbeats; `election_tick`
//! ticks without a leader start an election), [`RawNode::step`] for every
//! message received, and [`RawNode::propose`] for commands. A follower
//! forwards proposals to the leader.
//!
//! A busy node hands out large vectors every Ready. Two optional habits
//! save their copying and reallocating: [`MemStorage::append_owned`]
//! moves a Ready's entries into the storage instead of copying them, and
//! [`buffers`] takes vectors back once handled (the applied entries, the
//! messages once sent or stepped) for the next Readys to reuse.
//!
//! Three nodes in one process, with a queue as their network:
//!
//! ```
//! use std::collections::{BTreeMap, VecDeque};
//! use etcdraft::prelude::*;
//!
//! /// One member of the group: raft and the state machine it drives.
//! struct Member {
//!     node: RawNode<MemStorage>,
//!     kv: BTreeMap<String, String>,
//! }
//!
//! impl Member {
//!     /// Handles one Ready, if there is one; the messages go to `net`.
//!     fn handle_ready(&mut self, net: &mut VecDeque<Message>) -> Result<(), Error> {
//!         if !self.node.has_ready() {
//!             return Ok(());
//!         }
//!         let rd = self.node.ready();
//!         // 1. Persist (a disk-backed storage would fsync if rd.must_sync).
//!         let store = self.node.mut_store();
//!         if let Some(snap) = rd.snapshot.clone() {
//!             store.apply_snapshot(snap)?;
//!         }
//!         store.append(&rd.entries)?;
//!         if let Some(hs) = rd.hard_state {
//!             store.set_hard_state(hs)?;
//!         }
//!         // 2. Send.
//!         net.extend(rd.messages);
//!         // 3. Apply.
//!         for e in rd.committed_entries {
//!             if e.get_type() != EntryType::EntryNormal || e.data.is_empty() {
//!                 continue;
//!             }
//!             let cmd = String::from_utf8_lossy(&e.data).into_owned();
//!             if let Some((k, v)) = cmd.split_once('=') {
//!                 self.kv.insert(k.to_owned(), v.to_owned());
//!             }
//!         }
//!         // 4. Advance.
//!         self.node.advance();
//!         Ok(())
//!     }
//! }
//!
//! let logger = discard_logger();
//! let mut group: Vec<Member> = Vec::new();
//! for id in 1..=3 {
//!     let storage = MemStorage::new_with_conf_state(ConfState {
//!         voters: vec![1, 2, 3],
//!         ..Default::default()
//!     });
//!     let node = RawNode::new(&Config::new(id), storage, &logger)?;
//!     group.push(Member { node, kv: BTreeMap::new() });
//! }
//!
//! // Runs the group until nothing is left to do: every Ready handled and
//! // every message delivered (node `id` is at index `id - 1`).
//! let settle = |group: &mut Vec<Member>| -> Result<(), Error> {
//!     let mut net = VecDeque::new();
//!     loop {
//!         for m in group.iter_mut() {
//!             m.handle_ready(&mut net)?;
//!         }
//!         if net.is_empty() && !group.iter().any(|m| m.node.has_ready()) {
//!             return Ok(());
//!         }
//!         while let Some(msg) = net.pop_front() {
//!             group[msg.to as usize - 1].node.step(msg)?;
//!         }
//!     }
//! };
//!
//! group[0].node.campaign()?;
//! settle(&mut group)?;
//! assert_eq!(group[0].node.status().raft_state(), StateRole::Leader);
//!
//! // A proposal on a follower is forwarded to the leader.
//! group[2].node.propose(&b"color=blue"[..])?;
//! group[0].node.propose(&b"shape=round"[..])?;
//! settle(&mut group)?;
//! for m in &group {
//!     assert_eq!(m.kv["color"], "blue");
//!     assert_eq!(m.kv["shape"], "round");
//! }
//! # Ok::<(), Error>(())
//! ```
//!
//! # Restarting from storage
//!
//! A node restarts from what its storage holds: [`Storage::initial_state`]
//! gives the hard state and the configuration, the log does the rest. Set
//! [`Config::applied`] to the last index your state machine has durably
//! applied, so that raft does not hand those entries out again; leave it
//! at 0 if the state machine is rebuilt from scratch at each start, and
//! apply again everything raft hands out. With a [`RawNode`], also call
//! [`reapply_conf_changes`] with the same
//! index, so that raft's configuration includes the membership changes
//! among the skipped entries ([`restart_node`] does it for a [`Node`]).
//!
//! ```
//! use etcdraft::prelude::*;
//!
//! # fn run(node: &mut RawNode<MemStorage>) -> Result<Vec<Entry>, Error> {
//! #     let mut applied = Vec::new();
//! #     while node.has_ready() {
//! #         let rd = node.ready();
//! #         let store = node.mut_store();
//! #         if let Some(hs) = rd.hard_state {
//! #             store.set_hard_state(hs)?;
//! #         }
//! #         store.append(&rd.entries)?;
//! #         applied.extend(rd.committed_entries);
//! #         node.advance();
//! #     }
//! #     Ok(applied)
//! # }
//! let storage = MemStorage::new_with_conf_state(ConfState {
//!     voters: vec![1],
//!     ..Default::default()
//! });
//! let mut node = RawNode::new(&Config::new(1), storage, &discard_logger())?;
//! node.campaign()?;
//! run(&mut node)?; // `run` persists and applies every Ready, as above
//! node.propose(&b"a"[..])?;
//! node.propose(&b"b"[..])?;
//! let applied = run(&mut node)?;
//! let last_applied = applied.last().unwrap().index;
//! let term = node.status().term();
//!
//! // The process stops; its storage (a disk, in a real application)
//! // survives. A durable state machine remembers `last_applied`.
//! let storage = node.store().clone();
//! drop(node);
//!
//! let mut config = Config::new(1);
//! config.applied = last_applied;
//! let mut node = RawNode::new(&config, storage, &discard_logger())?;
//! reapply_conf_changes(&mut node, last_applied)?;
//! assert_eq!(node.status().term(), term);
//! assert_eq!(node.status().applied, last_applied);
//!
//! // Nothing applied is handed out again; the group goes on from there.
//! node.campaign()?;
//! let again = run(&mut node)?;
//! assert!(again.iter().all(|e| e.index > last_applied));
//! # Ok::<(), Error>(())
//! ```
//!
//! # Snapshots and compaction
//!
//! The log cannot grow forever. Once entries are applied, the application
//! snapshots its state machine into the storage and compacts the log up to
//! that index ([`MemStorage::create_snapshot`], [`MemStorage::compact`]).
//! The snapshot records the configuration as of its index: pass the
//! [`ConfState`](eraftpb::ConfState) of the last conf change applied.
//!
//! A follower that needs compacted entries then gets the snapshot instead,
//! as a `MsgSnap`: the leader's application sends it like any message and
//! reports the outcome with [`RawNode::report_snapshot`]; the follower's
//! next `Ready` carries it in `snapshot`, to persist
//! ([`MemStorage::apply_snapshot`]) and to restore the state machine from
//! (`snapshot.data`) before applying later entries.
//!
//! ```
//! use etcdraft::prelude::*;
//!
//! // A leader whose log was compacted, and a follower that is new.
//! let conf = ConfState { voters: vec![1, 2], ..Default::default() };
//! let mut leader = MemStorage::new_with_conf_state(conf.clone());
//! leader.append(&[
//!     Entry { term: 1, index: 1, ..Default::default() },
//!     Entry { term: 1, index: 2, data: "k=v".into(), ..Default::default() },
//! ])?;
//! leader.set_hard_state(HardState { term: 1, vote: 1, commit: 2 })?;
//! // The state machine, snapshotted at index 2 with its configuration.
//! leader.create_snapshot(2, Some(conf.clone()), "{k: v}".into())?;
//! leader.compact(2)?;
//!
//! let mut config = Config::new(1);
//! config.applied = 2;
//! let mut n1 = RawNode::new(&config, leader, &discard_logger())?;
//! let mut n2 = RawNode::new(
//!     &Config::new(2),
//!     MemStorage::new_with_conf_state(conf),
//!     &discard_logger(),
//! )?;
//! n1.campaign()?;
//!
//! let mut restored = None;
//! let mut net = Vec::new();
//! for _ in 0..20 {
//!     for node in [&mut n1, &mut n2] {
//!         if !node.has_ready() {
//!             continue;
//!         }
//!         let rd = node.ready();
//!         let store = node.mut_store();
//!         if let Some(snap) = rd.snapshot.clone() {
//!             store.apply_snapshot(snap.clone())?;
//!             restored = Some(snap.data); // restore the state machine
//!         }
//!         store.append(&rd.entries)?;
//!         if let Some(hs) = rd.hard_state {
//!             store.set_hard_state(hs)?;
//!         }
//!         net.extend(rd.messages);
//!         node.advance();
//!     }
//!     for m in net.drain(..) {
//!         let is_snap = m.get_type() == MessageType::MsgSnap;
//!         let (from, to) = (m.from, m.to);
//!         if to == 1 { n1.step(m)? } else { n2.step(m)? }
//!         if is_snap {
//!             // Delivered: the leader may replicate past the snapshot.
//!             let sender = if from == 1 { &mut n1 } else { &mut n2 };
//!             sender.report_snapshot(to, SnapshotStatus::Finish);
//!         }
//!     }
//! }
//! assert_eq!(restored.as_deref(), Some(&b"{k: v}"[..]));
//! assert_eq!(n2.store().first_index()?, 3); // the log starts after it
//! assert_eq!(n2.status().commit(), n1.status().commit());
//! # Ok::<(), Error>(())
//! ```
//!
//! # Membership changes
//!
//! Nodes join and leave through the log, so that every member sees the
//! change at the same point. Propose a [`ConfChange`](eraftpb::ConfChange)
//! (one node) or a [`ConfChangeV2`](eraftpb::ConfChangeV2) (several at
//! once, through joint consensus) with [`RawNode::propose_conf_change`].
//! It commits as an entry of type `EntryConfChange` or
//! `EntryConfChangeV2` whose data is the encoded change: decode it with
//! prost's `Message::decode` (in scope through the prelude), hand it to
//! [`RawNode::apply_conf_change`], and keep the returned
//! [`ConfState`](eraftpb::ConfState) for the next snapshot. A new member
//! starts with an empty storage (no voters: it waits to hear from the
//! leader) and catches up through appends or a snapshot.
//!
//! ```
//! use etcdraft::prelude::*;
//!
//! let mut node = RawNode::new(
//!     &Config::new(1),
//!     MemStorage::new_with_conf_state(ConfState { voters: vec![1], ..Default::default() }),
//!     &discard_logger(),
//! )?;
//! node.campaign()?;
//! # while node.has_ready() {
//! #     let rd = node.ready();
//! #     if let Some(hs) = rd.hard_state {
//! #         node.mut_store().set_hard_state(hs)?;
//! #     }
//! #     node.mut_store().append(&rd.entries)?;
//! #     node.advance();
//! # }
//! // Add node 2 as a learner: it receives the log but does not vote.
//! let add = ConfChange {
//!     change_type: ConfChangeType::ConfChangeAddLearnerNode as i32,
//!     node_id: 2,
//!     ..Default::default()
//! };
//! node.propose_conf_change(&add)?;
//!
//! let mut conf_state = None;
//! while node.has_ready() {
//!     let rd = node.ready();
//!     if let Some(hs) = rd.hard_state {
//!         node.mut_store().set_hard_state(hs)?;
//!     }
//!     node.mut_store().append(&rd.entries)?;
//!     for e in &rd.committed_entries {
//!         let cs = match e.get_type() {
//!             EntryType::EntryNormal => continue,
//!             EntryType::EntryConfChange => {
//!                 let cc = ConfChange::decode(e.data.clone())?;
//!                 node.apply_conf_change(&cc)?
//!             }
//!             EntryType::EntryConfChangeV2 => {
//!                 let cc = ConfChangeV2::decode(e.data.clone())?;
//!                 node.apply_conf_change(&cc)?
//!             }
//!         };
//!         conf_state = Some(cs);
//!     }
//!     node.advance();
//! }
//! let cs = conf_state.expect("the change was committed and applied");
//! assert_eq!((cs.voters, cs.learners), (vec![1], vec![2]));
//! # Ok::<(), Error>(())
//! ```
//!
//! The application sees the change when it applies it; until then the
//! old configuration holds. Raft refuses a second change while one is
//! pending (the proposal becomes an empty entry), and
//! [`RawNode::apply_conf_change`] returns an error for a change that cannot
//! be applied (removing the last voter): apply every committed change, and
//! treat such an error as the change having had no effect.
//!
//! # `Node`: raft in its own thread
//!
//! [`Node`] runs a [`RawNode`] in a thread of its own and is driven through
//! channels, like etcd's `Node`: [`start_node`] for a new group,
//! [`restart_node`] for a node with state. The storage is shared between
//! your thread (which writes what each `Ready` asks) and the node thread
//! (which reads it): `Arc<RwLock<MemStorage>>` implements [`Storage`].
//!
//! Which calls block: receiving from [`Node::ready`] until there is work
//! (and no new `Ready` comes until the last one is
//! [`advance`](Node::advance)d); [`Node::propose`] and
//! [`Node::propose_conf_change`] **until a leader is known** (use
//! [`Node::propose_ctx`] with a [`Context`] deadline where that matters);
//! [`Node::apply_conf_change`] and [`Node::status`] until the node thread
//! answers; [`Node::stop`] until the thread has ended. [`Node::tick`] and
//! stepping peers' messages do not wait for a leader. So never propose from
//! the thread that handles the Readys: nothing would handle the one that
//! elects the leader.
//!
//! ```
//! use std::sync::{mpsc, Arc, RwLock};
//! use std::thread;
//! use std::time::Duration;
//! use etcdraft::prelude::*;
//!
//! let storage = Arc::new(RwLock::new(MemStorage::new()));
//! let peers = [Peer { id: 1, ..Default::default() }];
//! let node = Arc::new(start_node(&Config::new(1), storage.clone(), &peers, &discard_logger())?);
//!
//! // The Ready loop, in a thread of its own: it ticks the node every 10 ms
//! // while waiting for a Ready, and ends when the node stops.
//! let (applied_tx, applied) = mpsc::channel();
//! let driver = thread::spawn({
//!     let node = node.clone();
//!     move || -> Result<(), Error> {
//!         loop {
//!             let rd = match node.ready().recv_timeout(Duration::from_millis(10)) {
//!                 Ok(rd) => rd,
//!                 Err(e) if e.is_timeout() => {
//!                     node.tick();
//!                     continue;
//!                 }
//!                 Err(_) => return Ok(()), // the node stopped
//!             };
//!             {
//!                 let mut store = storage.write().unwrap();
//!                 if let Some(hs) = rd.hard_state {
//!                     store.set_hard_state(hs)?;
//!                 }
//!                 store.append(&rd.entries)?;
//!             } // the node thread reads the storage: do not hold the lock
//!             // (A group of one has no messages to send.)
//!             for e in rd.committed_entries {
//!                 match e.get_type() {
//!                     // start_node's bootstrap entries add the peers.
//!                     EntryType::EntryConfChange => {
//!                         node.apply_conf_change(&ConfChange::decode(e.data)?)?;
//!                     }
//!                     EntryType::EntryConfChangeV2 => {
//!                         node.apply_conf_change(&ConfChangeV2::decode(e.data)?)?;
//!                     }
//!                     EntryType::EntryNormal if !e.data.is_empty() => {
//!                         let _ = applied_tx.send(e.data);
//!                     }
//!                     EntryType::EntryNormal => {}
//!                 }
//!             }
//!             node.advance();
//!         }
//!     }
//! });
//!
//! // No campaign: the bootstrap conf changes must be applied first (raft
//! // refuses to campaign before), and then an election timeout elects it.
//! node.propose(&b"hello"[..])?; // waits until a leader is known
//! let got = applied.recv_timeout(Duration::from_secs(30)).expect("applied in time");
//! assert_eq!(&got[..], b"hello");
//! node.stop()?;
//! driver.join().unwrap()?;
//! # Ok::<(), Error>(())
//! ```
//!
//! # Asynchronous storage writes
//!
//! With [`Config::async_storage_writes`], the persisting and applying are
//! handed out as messages instead, so that they can run on their own
//! threads, overlapped with the next Ready: a `MsgStorageAppend` to
//! [`LOCAL_APPEND_THREAD`] carries the entries,
//! hard state (`term`, `vote`, `commit`) and snapshot to persist, a
//! `MsgStorageApply` to [`LOCAL_APPLY_THREAD`]
//! the entries to apply. Each carries `responses`: once its work is done,
//! deliver them like any message (to the node itself or to peers). There is
//! no `advance`; the other messages of a Ready may be sent at once.
//!
//! ```
//! use etcdraft::prelude::*;
//!
//! let mut config = Config::new(1);
//! config.async_storage_writes = true;
//! let storage = MemStorage::new_with_conf_state(ConfState { voters: vec![1], ..Default::default() });
//! let mut node = RawNode::new(&config, storage, &discard_logger())?;
//! node.campaign()?;
//! node.propose(&b"dropped: no leader yet"[..]).unwrap_err();
//!
//! let mut applied = Vec::new();
//! let mut proposed = false;
//! for _ in 0..10 {
//!     if node.status().raft_state() == StateRole::Leader && !proposed {
//!         node.propose(&b"x=1"[..])?;
//!         proposed = true;
//!     }
//!     if !node.has_ready() {
//!         continue;
//!     }
//!     let rd = node.ready();
//!     // Here the storage work runs inline; it could be queued to threads,
//!     // as long as each thread handles its messages in order.
//!     for mut m in rd.messages {
//!         match m.to {
//!             LOCAL_APPEND_THREAD => {
//!                 let store = node.mut_store();
//!                 if let Some(snap) = m.snapshot.take() {
//!                     store.apply_snapshot(*snap)?;
//!                 }
//!                 store.append(&m.entries)?;
//!                 if m.term != 0 {
//!                     store.set_hard_state(HardState { term: m.term, vote: m.vote, commit: m.commit })?;
//!                 }
//!             }
//!             LOCAL_APPLY_THREAD => {
//!                 applied.extend(m.entries.iter().filter(|e| !e.data.is_empty()).map(|e| e.data.clone()));
//!             }
//!             _ => unreachable!("a group of one sends nothing to peers"),
//!         }
//!         for resp in std::mem::take(&mut m.responses) {
//!             node.step(resp)?; // a group of one answers only itself
//!         }
//!     }
//! }
//! assert_eq!(applied, [&b"x=1"[..]]);
//! # Ok::<(), Error>(())
//! ```
//!
//! # Logging
//!
//! Every constructor takes a [`slog::Logger`]; raft's lines are etcd's.
//! [`default_logger`] prints them to standard error at the level in the
//! `ETCDRAFT_LOG` environment variable, [`discard_logger`] drops them, and
//! the `tracing` feature adds `logging::tracing_logger`. See [`logging`].
//!
//! # Layout
//!
//! The modules follow etcd's layering, so that each file can be read next
//! to its Go counterpart: `quorum` -> `tracker` -> `confchange` -> the
//! state machine (`raft`, `raft_log`, `log_unstable`, [`read_only`]) ->
//! [`raw_node`] -> [`node`]. The inner modules are private (public with
//! the `internals` feature, for the script harness; they promise nothing);
//! what an application needs from them is re-exported here.

pub mod buffers;
pub mod config;
pub mod errors;
pub mod logging;
pub mod node;
pub mod prelude;
pub mod raw_node;
pub mod read_only;
pub mod restart;
pub mod status;
pub mod storage;
#[cfg(test)]
mod tests;

// The core's own modules. Their items are the implementation, not the API:
// they change with every refactoring. The `internals` feature makes them
// public (hidden from the docs, with no stability promise) for the script
// harness (etcdraft-harness) and for tests that look inside; everything an
// application needs is re-exported below.
/// Declares modules that are private, or public (hidden from the docs)
/// with the `internals` feature.
macro_rules! internal_mods {
    ($($name:ident),* $(,)?) => {$(
        #[cfg(feature = "internals")]
        #[doc(hidden)]
        pub mod $name;
        #[cfg(not(feature = "internals"))]
        #[allow(dead_code, unused_imports)]
        mod $name;
    )*};
}
internal_mods!(
    confchange,
    describe,
    lazy_vec,
    log_unstable,
    quorum,
    raft,
    raft_log,
    tracker,
    util
);

pub use config::{Config, LOCAL_APPEND_THREAD, LOCAL_APPLY_THREAD, NONE};
pub use errors::{Error, Result};
pub use logging::{default_logger, discard_logger};
pub use node::{restart_node, start_node, Context, Node};
pub use raft::{SoftState, StateRole};
pub use raft_log::NO_LIMIT;
pub use raft_proto as eraftpb;
pub use raw_node::{ConfChangeApplied, Peer, RawNode, Ready, SnapshotStatus};
pub use read_only::{ReadOnlyOption, ReadState};
pub use restart::reapply_conf_changes;
/// The logging crate raft logs through; see [`logging`] for ready loggers.
pub use slog;
pub use status::{BasicStatus, Status};
pub use storage::{MemStorage, Storage};
pub use tracker::{InflightLimits, Inflights, Progress, ProgressMap, StateType as ProgressState};
