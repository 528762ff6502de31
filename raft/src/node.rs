//! A raft node driven by its own thread (etcd `node.go`).
//!
//! [`Node`] wraps a [`RawNode`] in a thread that runs etcd's `run()` loop:
//! one wait over the channels that carry proposals, peer messages,
//! configuration changes, ticks, status requests and the stop signal, and
//! the one that hands [`Ready`]s to the application. The application talks
//! to the node only through the handle's methods, which block until the
//! node thread took the request (proposals: until raft accepted or dropped
//! them), and reads [`Ready`]s from [`Node::ready`]:
//!
//! ```text
//! loop {
//!     select! {
//!         recv(ticker) -> _ => node.tick(),
//!         recv(node.ready()) -> rd => {
//!             persist rd.hard_state, rd.entries and rd.snapshot;
//!             send rd.messages; apply rd.committed_entries;
//!             node.advance();
//!         }
//!     }
//! }
//! ```
//!
//! The storage is shared between the application (which writes what a
//! `Ready` asks) and the node thread (which reads it) through the blanket
//! `Storage for Arc<RwLock<S>>` impl.
//!
//! Stopping joins the thread; dropping the handle stops the node. See
//! [`Node`] for which calls block, and on what, and for what happens when
//! raft fails inside the thread; see [`restart_node`] for restarting
//! without losing configuration changes.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::{at, bounded, never, select, Receiver, Sender, TrySendError};

use crate::config::{Config, NONE};
use crate::eraftpb::{
    ConfChangeI, ConfChangeV2, ConfState, Entry, HardState, Message, MessageType, Snapshot,
};
use crate::errors::{Error, Result};
use crate::raw_node::{conf_change_to_msg, Peer, RawNode, Ready, SnapshotStatus};
use crate::restart::reapply_conf_changes;
use crate::status::Status;
use crate::storage::Storage;
use crate::util::{is_local_msg, is_local_msg_target, is_response_msg};

/// How many ticks the node buffers while it is busy (etcd's `tickc`
/// capacity): ticks are replayed once the node is idle again, and further
/// ones are dropped with a warning.
const TICK_BUFFER: usize = 128;

/// The most requests the node thread takes from callers that already wait
/// (messages, proposals, ticks) after serving one, before it goes back to
/// its full wait, where it may hand out a `Ready`: bounds how long status,
/// stop and conf change requests wait behind a stream of messages.
const DRAIN_MAX: usize = 256;

/// A cancellation signal with an optional deadline for the blocking calls of
/// [`Node`] (etcd passes a Go `context.Context`).
///
/// Methods without a context wait as long as the node runs; the `_ctx`
/// variants also return [`Error::Canceled`] once the context is canceled and
/// [`Error::DeadlineExceeded`] once its deadline passed.
///
/// ```
/// use std::time::Duration;
/// use etcdraft::prelude::*;
/// use etcdraft::Context;
///
/// let voters = ConfState { voters: vec![1, 2, 3], ..Default::default() };
/// let storage = MemStorage::new_with_conf_state(voters);
/// let node = restart_node(&Config::new(1), storage, &discard_logger())?;
/// // Nobody leads (the peers are not running): give up after 20 ms instead
/// // of waiting for a leader.
/// let ctx = Context::with_timeout(Duration::from_millis(20));
/// assert_eq!(node.propose_ctx(&ctx, &b"x"[..]), Err(Error::DeadlineExceeded));
/// node.stop()?;
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Context {
    // Disconnected (every sender dropped) once canceled: a receive on it
    // then returns at once, for every clone and every later call.
    done: Receiver<()>,
    deadline: Option<Instant>,
}

/// Cancels the [`Context`] it was created with when [`cancel`](CancelHandle::cancel)
/// is called or when it is dropped (like Go's `defer cancel()`).
#[derive(Debug)]
#[must_use = "dropping the handle cancels the context"]
pub struct CancelHandle {
    _tx: Sender<()>,
}

impl CancelHandle {
    /// Cancels the context: blocked calls return [`Error::Canceled`].
    pub fn cancel(self) {}
}

impl Default for Context {
    fn default() -> Context {
        Context::background()
    }
}

impl Context {
    /// A context that is never canceled and has no deadline (Go's
    /// `context.Background()`).
    pub fn background() -> Context {
        Context {
            done: never(),
            deadline: None,
        }
    }

    /// A context that can be canceled through the returned handle (Go's
    /// `context.WithCancel`). Keep the handle alive for as long as the
    /// context is used: dropping it cancels the context, so binding it to
    /// `_` cancels at once.
    pub fn with_cancel() -> (Context, CancelHandle) {
        let (tx, rx) = bounded(0);
        (
            Context {
                done: rx,
                deadline: None,
            },
            CancelHandle { _tx: tx },
        )
    }

    /// A context whose deadline is `timeout` from now (Go's
    /// `context.WithTimeout`).
    pub fn with_timeout(timeout: Duration) -> Context {
        Context {
            done: never(),
            deadline: Some(Instant::now() + timeout),
        }
    }

    /// This context with a deadline `timeout` from now, or its own deadline
    /// if that comes first.
    #[must_use = "the deadline is on the returned context"]
    pub fn timeout(mut self, timeout: Duration) -> Context {
        let d = Instant::now() + timeout;
        self.deadline = Some(self.deadline.map_or(d, |old| old.min(d)));
        self
    }

    /// Why the context is done, if it is (Go's `ctx.Err()`).
    pub fn err(&self) -> Option<Error> {
        if matches!(
            self.done.try_recv(),
            Err(crossbeam_channel::TryRecvError::Disconnected) | Ok(())
        ) {
            return Some(Error::Canceled);
        }
        match self.deadline {
            Some(d) if Instant::now() >= d => Some(Error::DeadlineExceeded),
            _ => None,
        }
    }

    // A channel that fires at the deadline (never without one). Made per
    // wait, because a timer channel delivers only once.
    fn timer(&self) -> Receiver<Instant> {
        match self.deadline {
            Some(d) => at(d),
            None => never(),
        }
    }
}

/// A proposal on its way to the node thread, with the channel that carries
/// raft's verdict back when the proposer waits for it (etcd `msgWithResult`).
struct MsgWithResult {
    m: Message,
    result: Option<Sender<Result<()>>>,
}

/// A conf change to apply, with the channel that carries the resulting
/// configuration back. (etcd pairs `confc` with a shared `confstatec`; a
/// reply channel per request keeps concurrent callers from swapping answers.)
struct ConfChangeReq {
    cc: ConfChangeV2,
    reply: Sender<Result<ConfState>>,
}

/// A test-only replacement for raft's step function (etcd's tests swap
/// `raft.step`): `Some(result)` consumes the message, `None` passes it on.
#[cfg(test)]
pub(crate) type StepHook = Box<dyn FnMut(&Message) -> Option<Result<()>> + Send>;

/// A test-only request run on the node thread with the raw node (as
/// `&mut dyn Any`, downcast to `RawNode<S>`) and the step hook.
#[cfg(test)]
pub(crate) type TestExec = Box<dyn FnOnce(&mut dyn std::any::Any, &mut Option<StepHook>) + Send>;

#[cfg(not(test))]
type TestExec = std::convert::Infallible;

/// Where the node thread keeps the test step hook (nothing outside tests).
#[cfg(test)]
type HookSlot = Option<StepHook>;
#[cfg(not(test))]
type HookSlot = ();

/// The application's handle on a raft node running in its own thread
/// (etcd `Node`).
///
/// Every method may be called from any thread (`Node` is `Sync`; share it
/// with an `Arc`).
///
/// # Which calls block, and on what
///
/// The node thread never blocks on the application: it waits for whichever
/// request comes first and serves each at once. A call therefore waits for
/// the node thread to be free (it may be building a `Ready` or stepping a
/// large batch), and only these wait for more:
///
/// - [`propose`](Node::propose), [`propose_conf_change`](Node::propose_conf_change)
///   and a local proposal given to [`step`](Node::step) wait **until a
///   leader is known** (and, while this node is removed from the
///   configuration, until it is added back or a new leader is known).
///   Use the `_ctx` variants with a deadline where that can take long.
/// - [`apply_conf_change`](Node::apply_conf_change) and
///   [`status`](Node::status) wait for the node thread's answer.
/// - [`stop`](Node::stop) (and dropping the handle) waits until the node
///   thread ended.
/// - Receiving from [`ready`](Node::ready) waits until there is work,
///   and no new `Ready` comes until the last one was
///   [`advance`](Node::advance)d.
///
/// [`step`](Node::step) of a peer's message, including a proposal that a
/// follower forwards, never waits for a leader; [`tick`](Node::tick) never
/// blocks at all.
///
/// # Failures
///
/// The node thread never takes the process down. If raft panics in it (a
/// broken invariant, or a storage error it cannot go on from), the thread
/// ends, [`ready`](Node::ready)'s channel disconnects, and every call,
/// blocked or later, returns [`Error::StorageFailed`] (for the storage of
/// [`start_node`] and [`restart_node`]) or [`Error::NodePanicked`] instead
/// of [`Error::Stopped`]; [`stop`](Node::stop) returns it too. If raft
/// failed while building a `Ready` the application was waiting for, the
/// application receives an empty `Ready` (nothing to persist, send or
/// apply) before the channel disconnects.
pub struct Node {
    id: u64,
    logger: slog::Logger,
    propc: Sender<MsgWithResult>,
    recvc: Sender<MsgWithResult>,
    batchc: Sender<Vec<Message>>,
    confc: Sender<ConfChangeReq>,
    readyc: Receiver<Ready>,
    advancec: Sender<()>,
    tickc: Sender<()>,
    stopc: Sender<()>,
    statusc: Sender<Sender<Status>>,
    #[cfg_attr(not(test), allow(dead_code))]
    execc: Sender<TestExec>,
    // Disconnected when the node thread ends (its sender is dropped then,
    // after `failure` is set): etcd's closed `done` channel.
    done: Receiver<()>,
    // Why the node thread ended, if it failed.
    failure: Arc<OnceLock<Error>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

thread_local! {
    // The last storage error on this thread that raft does not handle
    // itself, so that the node can tell a storage failure from a broken
    // invariant when raft panics. Only the node thread reads its storage
    // through `Watched`.
    static STORAGE_FAILURE: Cell<Option<(&'static str, Error)>> = const { Cell::new(None) };
}

/// The storage of [`start_node`] and [`restart_node`]: the application's,
/// noting the errors raft panics on (see `STORAGE_FAILURE`) so that the
/// node reports them as [`Error::StorageFailed`].
pub(crate) struct Watched<S>(pub(crate) S);

impl<S> Watched<S> {
    fn note<T>(call: &'static str, res: Result<T>, benign: impl Fn(&Error) -> bool) -> Result<T> {
        if let Err(e) = &res {
            if !benign(e) {
                STORAGE_FAILURE.with(|f| f.set(Some((call, e.clone()))));
            }
        }
        res
    }
}

// Raft handles a compacted or missing term and a compacted range itself,
// and retries a snapshot that is not ready; anything else makes it panic.
impl<S: Storage> Storage for Watched<S> {
    fn initial_state(&self) -> Result<(HardState, ConfState)> {
        Self::note("initial_state", self.0.initial_state(), |_| false)
    }
    fn entries(&self, lo: u64, hi: u64, max_size: u64) -> Result<Vec<Entry>> {
        Self::note("entries", self.0.entries(lo, hi, max_size), |e| {
            *e == Error::Compacted
        })
    }
    fn term(&self, i: u64) -> Result<u64> {
        Self::note("term", self.0.term(i), |e| {
            matches!(e, Error::Compacted | Error::Unavailable)
        })
    }
    fn last_index(&self) -> Result<u64> {
        Self::note("last_index", self.0.last_index(), |_| false)
    }
    fn first_index(&self) -> Result<u64> {
        Self::note("first_index", self.0.first_index(), |_| false)
    }
    fn snapshot(&self) -> Result<Snapshot> {
        Self::note("snapshot", self.0.snapshot(), |e| {
            *e == Error::SnapshotTemporarilyUnavailable
        })
    }
}

// What a panic of raft on this thread means to the application: the
// storage error noted just before, or a broken invariant.
fn failure_of(payload: &(dyn std::any::Any + Send)) -> Error {
    if let Some((call, error)) = STORAGE_FAILURE.with(Cell::take) {
        return Error::StorageFailed {
            call,
            error: Box::new(error),
        };
    }
    let msg = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    };
    Error::NodePanicked(msg)
}

// Builds a raw node, turning a panic of raft on the storage (read at
// construction) into the error it stands for.
fn new_raw_node<S: Storage>(
    config: &Config,
    storage: S,
    logger: &slog::Logger,
) -> Result<RawNode<Watched<S>>> {
    STORAGE_FAILURE.with(Cell::take);
    panic::catch_unwind(AssertUnwindSafe(|| {
        RawNode::new(config, Watched(storage), logger)
    }))
    .unwrap_or_else(|payload| Err(failure_of(&*payload)))
}

/// Starts a node for a brand new group whose initial members are `peers`
/// (etcd `StartNode`): bootstraps the storage with one `ConfChangeAddNode`
/// entry per peer, then runs the node in its own thread.
///
/// Fails if `peers` is empty (use [`restart_node`]) or the config is
/// invalid. As in etcd, a storage that is not empty is only warned about.
pub fn start_node<S>(
    config: &Config,
    storage: S,
    peers: &[Peer],
    logger: &slog::Logger,
) -> Result<Node>
where
    S: Storage + Send + 'static,
{
    if peers.is_empty() {
        return Err(Error::Bootstrap(
            "no peers given; use RestartNode instead".to_owned(),
        ));
    }
    let mut rn = new_raw_node(config, storage, logger)?;
    if let Err(e) = rn.bootstrap(peers) {
        slog::warn!(logger, "error occurred during starting a new node: {}", e);
    }
    Ok(Node::new(rn))
}

/// Restarts a node from the state in `storage` (etcd `RestartNode`).
///
/// The configuration is the `ConfState` of the storage's
/// [`initial_state`](Storage::initial_state), which is the snapshot's,
/// changed by the conf changes after the snapshot. `config.applied`
/// decides who replays those:
///
/// - **Volatile state machine** (rebuilt from the snapshot at each start):
///   set `applied` to the snapshot's index (0 without one). Raft hands out
///   again every committed entry after the snapshot, and the application
///   applies them all, calling [`Node::apply_conf_change`] for each conf
///   change, as the first time. (With `applied` 0, a storage that keeps
///   entries from before its snapshot would hand those out too, conf
///   changes the snapshot's `ConfState` already holds included.)
/// - **Durable state machine** (it persisted its last applied index):
///   set `applied` to that index. Raft does not hand out the entries up to
///   it again, so this function re-applies the conf changes among them to
///   raft's configuration itself (see [`reapply_conf_changes`]); the
///   application must not apply them again.
///
/// Either way raft comes back with the configuration it had at `applied`.
/// (etcd's `RestartNode` skips that replay, and comes back without the conf
/// changes applied after the snapshot.) Fails with the storage's error if
/// the entries cannot be read, and as [`RawNode::new`] does.
pub fn restart_node<S>(config: &Config, storage: S, logger: &slog::Logger) -> Result<Node>
where
    S: Storage + Send + 'static,
{
    let mut rn = new_raw_node(config, storage, logger)?;
    reapply_conf_changes(&mut rn, config.applied)?;
    Ok(Node::new(rn))
}

impl Node {
    /// Runs `rn` in a new thread and returns its handle (etcd `newNode`
    /// followed by `go n.run()`).
    ///
    /// A storage error raft panics on surfaces as [`Error::NodePanicked`]
    /// here; [`start_node`] and [`restart_node`] report it as
    /// [`Error::StorageFailed`].
    pub fn new<S>(rn: RawNode<S>) -> Node
    where
        S: Storage + Send + 'static,
    {
        // Unbuffered like etcd's: a send completes only when the node
        // thread takes it, which is what makes the calls block.
        let (propc_tx, propc) = bounded(0);
        let (recvc_tx, recvc) = bounded(0);
        let (batchc_tx, batchc) = bounded(0);
        let (confc_tx, confc) = bounded(0);
        let (readyc, readyc_rx) = bounded(0);
        let (advancec_tx, advancec) = bounded(0);
        let (tickc_tx, tickc) = bounded(TICK_BUFFER);
        let (stopc_tx, stopc) = bounded(0);
        let (statusc_tx, statusc) = bounded(0);
        let (execc_tx, execc) = bounded(0);
        let (done_tx, done) = bounded::<()>(0);
        let failure = Arc::new(OnceLock::new());
        let id = rn.raft.id;
        let logger = rn.raft.raft_log.logger.clone();
        let chans = Loop {
            propc,
            recvc,
            batchc,
            confc,
            readyc,
            advancec,
            tickc,
            stopc,
            statusc,
            execc,
        };
        let thread_failure = failure.clone();
        let thread_logger = logger.clone();
        let thread = thread::Builder::new()
            .name(format!("raft-node-{id:x}"))
            .spawn(move || {
                // Dropped last, once the failure is recorded: the callers it
                // wakes up read it.
                let _done = done_tx;
                STORAGE_FAILURE.with(Cell::take);
                // `Loop::run` lets no panic of raft unwind through a
                // selected channel operation, so it comes here instead of
                // aborting in crossbeam's drop guard.
                if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| chans.run(rn))) {
                    let err = failure_of(&*payload);
                    slog::error!(thread_logger, "raft.node: {:x} stopped: {}", id, err);
                    let _ = thread_failure.set(err);
                }
                // Only now may callers find the channels closed.
                drop(chans);
            })
            .expect("failed to spawn the raft node thread");
        Node {
            id,
            logger,
            propc: propc_tx,
            recvc: recvc_tx,
            batchc: batchc_tx,
            confc: confc_tx,
            readyc: readyc_rx,
            advancec: advancec_tx,
            tickc: tickc_tx,
            stopc: stopc_tx,
            statusc: statusc_tx,
            execc: execc_tx,
            done,
            failure,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Why the node thread ended, if it failed; `None` while it runs or
    /// after a clean [`stop`](Node::stop). Once [`ready`](Node::ready)'s
    /// channel disconnected, this tells a failure from a stop.
    pub fn failure(&self) -> Option<Error> {
        self.failure.get().cloned()
    }

    // What a call that finds the node thread ended returns.
    fn ended(&self) -> Error {
        self.failure().unwrap_or(Error::Stopped)
    }

    /// Advances the node's logical clock by one tick. Never blocks: ticks
    /// are buffered while the node is busy; once the buffer is full they
    /// are dropped with a warning, as in etcd.
    pub fn tick(&self) {
        match self.tickc.try_send(()) {
            Ok(()) | Err(TrySendError::Disconnected(())) => {}
            Err(TrySendError::Full(())) => slog::warn!(
                self.logger,
                "{:x} A tick missed to fire. Node blocks too long!",
                self.id
            ),
        }
    }

    /// Makes the node campaign to become leader.
    pub fn campaign(&self) -> Result<()> {
        self.step_inner(
            &Context::background(),
            Message::new(MessageType::MsgHup),
            Route::Recv,
        )
    }

    /// Proposes `data` for appending to the log and waits until raft took
    /// or dropped it. Blocks while no leader is known (see
    /// [`propose_ctx`](Node::propose_ctx) for a deadline). A proposal can
    /// still be lost after it was taken: retrying is the application's job.
    pub fn propose(&self, data: impl Into<Bytes>) -> Result<()> {
        self.propose_ctx(&Context::background(), data)
    }

    /// [`propose`](Node::propose), giving up when `ctx` is done.
    pub fn propose_ctx(&self, ctx: &Context, data: impl Into<Bytes>) -> Result<()> {
        let mut m = Message::new(MessageType::MsgProp);
        m.entries.push(Entry {
            data: data.into(),
            ..Default::default()
        });
        self.step_inner(ctx, m, Route::Propose { wait: true })
    }

    /// Proposes a configuration change (v1 or v2). Blocks while no leader is
    /// known. As in etcd, this returns once the node took the proposal,
    /// without waiting for raft's verdict: conf changes can be dropped
    /// silently (for instance while another one is pending).
    ///
    /// Removing a node: with [`Config::step_down_on_removal`] off (etcd's
    /// default), a leader that applies its own removal keeps leading and
    /// drops every proposal (with [`Error::ProposalDropped`]) until it is
    /// stopped; the application should stop the removed node once it
    /// applied the change, or transfer leadership away first.
    pub fn propose_conf_change(&self, cc: &(impl ConfChangeI + ?Sized)) -> Result<()> {
        self.propose_conf_change_ctx(&Context::background(), cc)
    }

    /// [`propose_conf_change`](Node::propose_conf_change), giving up when
    /// `ctx` is done.
    pub fn propose_conf_change_ctx(
        &self,
        ctx: &Context,
        cc: &(impl ConfChangeI + ?Sized),
    ) -> Result<()> {
        self.step_inner(ctx, conf_change_to_msg(cc), Route::Propose { wait: false })
    }

    /// Steps a message received from a peer (or a local storage thread's
    /// response) into the state machine. Local messages from elsewhere are
    /// ignored, as in etcd.
    ///
    /// This never waits for a leader, so a transport may step everything it
    /// receives on one thread: a proposal forwarded by a peer (a `MsgProp`
    /// whose `from` is another node) is stepped at once, and returns raft's
    /// verdict: `Ok` when it was appended or forwarded to the leader,
    /// [`Error::ProposalDropped`] when this node knows no leader (or drops
    /// it for another reason). The proposer learns of a drop the way it
    /// learns of any lost proposal: it never sees it applied, and retries.
    /// (etcd's node blocks such a step until a leader is known, which
    /// deadlocks a transport that would deliver the news of the leader on
    /// the same thread; holding proposals inside the node instead would
    /// need an unbounded queue.) A `MsgProp` without a `from` is this
    /// node's own proposal and waits for a leader like
    /// [`propose`](Node::propose).
    pub fn step(&self, m: Message) -> Result<()> {
        self.step_ctx(&Context::background(), m)
    }

    /// [`step`](Node::step), giving up when `ctx` is done.
    pub fn step_ctx(&self, ctx: &Context, m: Message) -> Result<()> {
        let t = m.get_type();
        if is_local_msg(t) && !is_local_msg_target(m.from) {
            // A peer cannot make this node campaign or beat; etcd drops
            // such messages without an error.
            return Ok(());
        }
        let route = if t != MessageType::MsgProp {
            Route::Recv
        } else if m.from != NONE && m.from != self.id {
            Route::Forwarded
        } else {
            Route::Propose { wait: false }
        };
        self.step_inner(ctx, m, route)
    }

    /// Steps messages received from peers, handing them to the node thread
    /// together: what [`step`](Node::step) does for each, with one hand-off
    /// instead of one per message (each costs the calling thread and the
    /// node thread a wake-up). Returns once the node thread took the batch,
    /// without raft's verdicts (as `step` of a peer's message does); a
    /// proposal forwarded by a peer is stepped without its verdict too.
    ///
    /// A proposal naming this node or no node as its sender is this node's
    /// own and waits for a leader: it is handed over alone, as `step` does,
    /// after the others. Beyond etcd (whose node steps one message per
    /// call); with one message per batch it is `step`.
    pub fn step_many(&self, msgs: Vec<Message>) -> Result<()> {
        let mut msgs = msgs;
        let own = |m: &Message| {
            m.get_type() == MessageType::MsgProp && (m.from == NONE || m.from == self.id)
        };
        let own_props: Vec<Message> = if msgs.iter().any(own) {
            let (own_props, rest) = msgs.into_iter().partition(own);
            msgs = rest;
            own_props
        } else {
            Vec::new()
        };
        // A peer cannot make this node campaign or beat; etcd drops such
        // messages without an error.
        msgs.retain(|m| !is_local_msg(m.get_type()) || is_local_msg_target(m.from));
        if !msgs.is_empty() {
            select! {
                send(self.batchc, msgs) -> res => {
                    if res.is_err() {
                        return Err(self.ended());
                    }
                }
                recv(self.done) -> _ => return Err(self.ended()),
            }
        }
        for m in own_props {
            self.step(m)?;
        }
        Ok(())
    }

    /// The channel of [`Ready`]s: after handling one, the application must
    /// call [`advance`](Node::advance) (unless async storage writes are on).
    /// No committed entries of the next `Ready` may be applied before those
    /// of the previous one are. The channel disconnects when the node
    /// stops or fails; [`failure`](Node::failure) (or
    /// [`stop`](Node::stop)) then tells why.
    pub fn ready(&self) -> &Receiver<Ready> {
        &self.readyc
    }

    /// Tells the node that the last `Ready` was persisted (and, typically,
    /// applied), so that it can prepare the next. Must not be called with
    /// async storage writes. Does nothing once the node ended.
    pub fn advance(&self) {
        select! {
            send(self.advancec, ()) -> _ => {}
            recv(self.done) -> _ => {}
        }
    }

    /// Applies a committed configuration change and returns the resulting
    /// configuration, to be recorded in snapshots. Call it for every conf
    /// change entry in `committed_entries` unless the application rejects
    /// the change. Fails with [`Error::Stopped`] (or the failure) once the
    /// node ended, or with the change's error if it cannot be applied.
    pub fn apply_conf_change(&self, cc: &(impl ConfChangeI + ?Sized)) -> Result<ConfState> {
        let (reply, rx) = bounded(1);
        let req = ConfChangeReq {
            cc: cc.as_v2(),
            reply,
        };
        select! {
            send(self.confc, req) -> res => {
                if res.is_err() {
                    return Err(self.ended());
                }
            }
            recv(self.done) -> _ => return Err(self.ended()),
        }
        rx.recv().unwrap_or_else(|_| Err(self.ended()))
    }

    /// Asks `lead` (this node when it leads) to hand leadership to
    /// `transferee`.
    pub fn transfer_leadership(&self, lead: u64, transferee: u64) {
        // From and to are set by hand so that the leader transfers
        // voluntarily.
        let mut m = Message::new(MessageType::MsgTransferLeader);
        m.from = transferee;
        m.to = lead;
        self.send_recvc(m);
    }

    /// Makes a follower forget its leader so that it can grant (pre-)votes
    /// at once; see etcd's `Node.ForgetLeader`.
    pub fn forget_leader(&self) -> Result<()> {
        self.step_inner(
            &Context::background(),
            Message::new(MessageType::MsgForgetLeader),
            Route::Recv,
        )
    }

    /// Requests a read index; the answer, carrying `rctx`, comes in a
    /// `Ready`'s `read_states`. Requests can be lost; retrying is the
    /// application's job.
    pub fn read_index(&self, rctx: impl Into<Bytes>) -> Result<()> {
        let mut m = Message::new(MessageType::MsgReadIndex);
        m.entries.push(Entry {
            data: rctx.into(),
            ..Default::default()
        });
        self.step_inner(&Context::background(), m, Route::Recv)
    }

    /// The node's status; the default (empty) status once it ended.
    pub fn status(&self) -> Status {
        let (tx, rx) = bounded(1);
        select! {
            send(self.statusc, tx) -> res => {
                if res.is_err() {
                    return Status::default();
                }
            }
            recv(self.done) -> _ => return Status::default(),
        }
        rx.recv().unwrap_or_default()
    }

    /// Reports that the last message to `id` could not be delivered.
    pub fn report_unreachable(&self, id: u64) {
        let mut m = Message::new(MessageType::MsgUnreachable);
        m.from = id;
        self.send_recvc(m);
    }

    /// Reports the outcome of sending a snapshot to `id`. A failure must be
    /// reported: the leader stops probing a follower it sends a snapshot to
    /// until it hears back.
    pub fn report_snapshot(&self, id: u64, status: SnapshotStatus) {
        let mut m = Message::new(MessageType::MsgSnapStatus);
        m.from = id;
        m.reject = status == SnapshotStatus::Failure;
        self.send_recvc(m);
    }

    /// Stops the node and joins its thread. Idempotent; later calls to the
    /// other methods return [`Error::Stopped`] or do nothing.
    ///
    /// Returns the failure that had ended the node thread, if any (see
    /// [`Node`]'s "Failures"): a node that failed is stopped all the same.
    pub fn stop(&self) -> Result<()> {
        select! {
            send(self.stopc, ()) -> _ => {}
            recv(self.done) -> _ => {}
        }
        // Returns once the node thread ended (the sender is dropped then).
        let _ = self.done.recv();
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            // The thread catches raft's panics; joining cannot fail unless
            // the runtime itself broke.
            let _ = handle.join();
        }
        match self.failure() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Runs `f` on the node thread with its raw node and the test step hook.
    #[cfg(test)]
    pub(crate) fn exec<S, R>(
        &self,
        f: impl FnOnce(&mut RawNode<S>, &mut Option<StepHook>) -> R + Send + 'static,
    ) -> Option<R>
    where
        S: Storage + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = bounded(1);
        let job: TestExec = Box::new(move |rn, hook| {
            let rn = rn
                .downcast_mut::<RawNode<S>>()
                .expect("exec with the wrong storage type");
            let _ = tx.send(f(rn, hook));
        });
        select! {
            send(self.execc, job) -> res => res.ok()?,
            recv(self.done) -> _ => return None,
        }
        rx.recv().ok()
    }

    /// The sending half of the tick buffer, for tests that wait for it to
    /// drain (etcd's `len(n.tickc)`).
    #[cfg(test)]
    pub(crate) fn pending_ticks(&self) -> usize {
        self.tickc.len()
    }

    // etcd stepWithWaitOption: local proposals go to propc, which the node
    // thread only reads while a leader is known, and with `wait` the caller
    // also waits for raft's verdict; a forwarded proposal goes to recvc
    // with a verdict to wait for; everything else goes to recvc.
    fn step_inner(&self, ctx: &Context, m: Message, route: Route) -> Result<()> {
        let timer = ctx.timer();
        let (result, rx) = match route {
            Route::Recv | Route::Propose { wait: false } => (None, never()),
            Route::Forwarded | Route::Propose { wait: true } => {
                let (tx, rx) = bounded(1);
                (Some(tx), rx)
            }
        };
        let pm = MsgWithResult { m, result };
        let chan = match route {
            Route::Propose { .. } => &self.propc,
            Route::Recv | Route::Forwarded => &self.recvc,
        };
        select! {
            send(chan, pm) -> res => {
                if res.is_err() {
                    return Err(self.ended());
                }
                if matches!(route, Route::Recv | Route::Propose { wait: false }) {
                    return Ok(());
                }
            }
            recv(ctx.done) -> _ => return Err(Error::Canceled),
            recv(timer) -> _ => return Err(Error::DeadlineExceeded),
            recv(self.done) -> _ => return Err(self.ended()),
        }
        select! {
            recv(rx) -> res => res.unwrap_or_else(|_| Err(self.ended())),
            recv(ctx.done) -> _ => Err(Error::Canceled),
            recv(timer) -> _ => Err(Error::DeadlineExceeded),
            recv(self.done) -> _ => Err(self.ended()),
        }
    }

    // Hands a message to the node thread unless it ended (etcd's
    // fire-and-forget reports).
    fn send_recvc(&self, m: Message) {
        let pm = MsgWithResult { m, result: None };
        select! {
            send(self.recvc, pm) -> _ => {}
            recv(self.done) -> _ => {}
        }
    }
}

/// Which channel a stepped message takes to the node thread.
#[derive(Clone, Copy)]
enum Route {
    /// A peer's message or a local request: recvc, always read.
    Recv,
    /// A proposal forwarded by a peer: recvc, with raft's verdict back.
    Forwarded,
    /// This node's own proposal: propc, read only while a leader is known;
    /// `wait` for raft's verdict.
    Propose { wait: bool },
}

impl Drop for Node {
    fn drop(&mut self) {
        // A failure was reported by every call already; a drop has nobody
        // to return it to.
        let _ = self.stop();
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The node thread's ends of the channels.
struct Loop {
    propc: Receiver<MsgWithResult>,
    recvc: Receiver<MsgWithResult>,
    batchc: Receiver<Vec<Message>>,
    confc: Receiver<ConfChangeReq>,
    readyc: Sender<Ready>,
    advancec: Receiver<()>,
    tickc: Receiver<()>,
    stopc: Receiver<()>,
    statusc: Receiver<Sender<Status>>,
    #[cfg_attr(not(test), allow(dead_code))]
    execc: Receiver<TestExec>,
}

impl Loop {
    // etcd's run(). Differences: the Ready is built (and accepted) only once
    // the application is ready to receive it — crossbeam evaluates a send's
    // message after the operation is selected — which hands out exactly what
    // etcd's readyWithoutAccept at the top of the loop would, since nothing
    // happens in between, without building a Ready on every iteration.
    //
    // Building it there is also the one place where raft runs inside a
    // selected channel operation, whose drop guard would turn a panic into
    // an abort: the panic is caught there, the application gets an empty
    // Ready (nothing to persist, send or apply), and the panic goes on
    // once the operation completed, to the thread's boundary (`Node::new`).
    // Everything else runs in the arms' bodies, after the operation.
    fn run<S: Storage + Send + 'static>(&self, mut rn: RawNode<S>) {
        let no_prop: Receiver<MsgWithResult> = never();
        // A sender nobody receives from, for a disarmed readyc: a send on
        // it is never ready while its receiver lives (until we return).
        let (no_ready, _no_ready_rx) = bounded::<Ready>(0);
        let no_advance: Receiver<()> = never();
        #[cfg_attr(not(test), allow(clippy::let_unit_value))]
        let mut hook = HookSlot::default();

        let mut prop_armed = false;
        let mut advance_pending = false;
        let mut lead = NONE;

        loop {
            // A storage error raft handled (a compacted term, say) must not
            // be blamed for a later, unrelated panic.
            STORAGE_FAILURE.with(Cell::take);
            let ready_armed = !advance_pending && rn.has_ready();

            let r = &rn.raft;
            if lead != r.lead {
                if r.has_leader() {
                    if lead == NONE {
                        slog::info!(
                            r.raft_log.logger,
                            "raft.node: {:x} elected leader {:x} at term {}",
                            r.id,
                            r.lead,
                            r.term
                        );
                    } else {
                        slog::info!(
                            r.raft_log.logger,
                            "raft.node: {:x} changed leader from {:x} to {:x} at term {}",
                            r.id,
                            lead,
                            r.lead,
                            r.term
                        );
                    }
                    prop_armed = true;
                } else {
                    slog::info!(
                        r.raft_log.logger,
                        "raft.node: {:x} lost leader {:x} at term {}",
                        r.id,
                        lead,
                        r.term
                    );
                    prop_armed = false;
                }
                lead = r.lead;
            }

            let propc = if prop_armed { &self.propc } else { &no_prop };
            let readyc = if ready_armed { &self.readyc } else { &no_ready };
            let advancec = if advance_pending {
                &self.advancec
            } else {
                &no_advance
            };
            let mut ready_panic = None;

            select! {
                recv(propc) -> pm => {
                    let Ok(pm) = pm else { return };
                    Self::step_proposal(&mut rn, pm, &mut hook);
                    self.drain(&mut rn, &mut hook, prop_armed.then_some(lead));
                }
                recv(self.recvc) -> pm => {
                    let Ok(MsgWithResult { m, result }) = pm else { return };
                    let res = Self::step_received(&mut rn, m, &mut hook);
                    if let Some(result) = result {
                        let _ = result.send(res);
                    }
                    self.drain(&mut rn, &mut hook, prop_armed.then_some(lead));
                }
                recv(self.batchc) -> msgs => {
                    let Ok(msgs) = msgs else { return };
                    for m in msgs {
                        // Raft logs what it refuses; nobody waits for a verdict.
                        let _ = Self::step_received(&mut rn, m, &mut hook);
                    }
                    self.drain(&mut rn, &mut hook, prop_armed.then_some(lead));
                }
                recv(self.confc) -> req => {
                    let Ok(ConfChangeReq { cc, reply }) = req else { return };
                    let id = rn.raft.id;
                    let ok_before = rn.raft.trk.progress.contains(id);
                    let res = rn.raft.apply_conf_change(&cc);
                    if let Ok(cs) = &res {
                        let ok_after = rn.raft.trk.progress.contains(id);
                        if ok_before
                            && !ok_after
                            && !cs.voters.contains(&id)
                            && !cs.voters_outgoing.contains(&id)
                        {
                            // A node removed from the configuration takes
                            // no more proposals; only if it was in it
                            // before, since a node catching up may not know
                            // it is a member.
                            prop_armed = false;
                        } else if !ok_before && ok_after && rn.raft.has_leader() {
                            // Added (back): it takes proposals again at
                            // once, not only once the leader changes
                            // (etcd's node waits for that).
                            prop_armed = true;
                        }
                    }
                    let _ = reply.send(res);
                }
                recv(self.tickc) -> t => {
                    if t.is_err() {
                        return;
                    }
                    rn.tick();
                    self.drain(&mut rn, &mut hook, prop_armed.then_some(lead));
                }
                send(readyc, match panic::catch_unwind(AssertUnwindSafe(|| rn.ready())) {
                    Ok(rd) => rd,
                    Err(payload) => {
                        ready_panic = Some(payload);
                        Ready::default()
                    }
                }) -> res => {
                    if let Some(payload) = ready_panic {
                        panic::resume_unwind(payload);
                    }
                    if res.is_err() {
                        return;
                    }
                    // With async storage writes, the responses of the local
                    // storage threads take the place of advance.
                    advance_pending = !rn.async_storage_writes();
                }
                recv(advancec) -> a => {
                    if a.is_err() {
                        return;
                    }
                    rn.advance();
                    advance_pending = false;
                }
                recv(self.statusc) -> c => {
                    let Ok(c) = c else { return };
                    let _ = c.send(rn.status());
                }
                recv(self.execc) -> job => {
                    let Ok(job) = job else { return };
                    #[cfg(test)]
                    job(&mut rn, &mut hook);
                    #[cfg(not(test))]
                    match job {}
                }
                recv(self.stopc) -> _ => return,
            }
        }
    }

    // Serves the callers that already wait with a message, a batch, a
    // proposal (only while `lead`, the leader known at the top of the loop,
    // still leads: the loop re-arms proposals on a change) or a tick,
    // before the loop builds the next Ready: under load, one Ready then
    // carries what many requests brought instead of one each. etcd's
    // select picks among ready cases at random, so taking these first is
    // one of the orders etcd's node may take too.
    fn drain<S: Storage>(&self, rn: &mut RawNode<S>, hook: &mut HookSlot, lead: Option<u64>) {
        for _ in 0..DRAIN_MAX {
            if let Ok(MsgWithResult { m, result }) = self.recvc.try_recv() {
                let res = Self::step_received(rn, m, hook);
                if let Some(result) = result {
                    let _ = result.send(res);
                }
            } else if let Ok(msgs) = self.batchc.try_recv() {
                for m in msgs {
                    let _ = Self::step_received(rn, m, hook);
                }
            } else if let Some(pm) = lead
                .filter(|l| *l == rn.raft.lead)
                .and_then(|_| self.propc.try_recv().ok())
            {
                Self::step_proposal(rn, pm, hook);
            } else if self.tickc.try_recv().is_ok() {
                rn.tick();
            } else {
                return;
            }
        }
    }

    // etcd's propc case: this node's own proposal into raft, with the
    // verdict to the proposer if it waits.
    fn step_proposal<S: Storage>(
        rn: &mut RawNode<S>,
        pm: MsgWithResult,
        #[cfg_attr(not(test), allow(unused_variables))] hook: &mut HookSlot,
    ) {
        let MsgWithResult { mut m, result } = pm;
        m.from = rn.raft.id;
        #[cfg(test)]
        let res = match hook.as_mut().and_then(|h| h(&m)) {
            Some(res) => res,
            None => rn.raft.step(m),
        };
        #[cfg(not(test))]
        let res = rn.raft.step(m);
        if let Some(result) = result {
            let _ = result.send(res);
        }
    }

    // etcd's recvc case: a peer's message (or a local report) into raft.
    fn step_received<S: Storage>(
        rn: &mut RawNode<S>,
        m: Message,
        #[cfg_attr(not(test), allow(unused_variables))] hook: &mut HookSlot,
    ) -> Result<()> {
        if is_response_msg(m.get_type())
            && !is_local_msg_target(m.from)
            && !rn.raft.trk.progress.contains(m.from)
        {
            // A response from a peer outside the configuration.
            return Ok(());
        }
        #[cfg(test)]
        {
            if let Some(Some(res)) = hook.as_mut().map(|h| h(&m)) {
                return res;
            }
        }
        // From a peer, a message no valid peer sends (see `RawNode::step`)
        // is dropped, like etcd drops the responses above. The
        // application's own reports (unreachable, snapshot status) are
        // local messages from a peer's id and skip that check.
        if !is_local_msg(m.get_type()) && crate::raw_node::check_step(&rn.raft, &m).is_err() {
            return Ok(());
        }
        rn.raft.step(m)
    }
}
