//! A raft node driven by its own thread (etcd `node.go`).
//!
//! [`Node`] wraps a [`RawNode`] in a thread that runs etcd's `run()` loop:
//! one `select!` over the channels that carry proposals, peer messages,
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
//! Stopping joins the thread; dropping the handle stops the node.

use std::sync::Mutex;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::{at, bounded, never, select, Receiver, Sender, TrySendError};

use crate::config::{Config, NONE};
use crate::eraftpb::{ConfChangeI, ConfChangeV2, ConfState, Entry, Message, MessageType};
use crate::errors::{Error, Result};
use crate::raw_node::{conf_change_to_msg, Peer, RawNode, Ready, SnapshotStatus};
use crate::status::Status;
use crate::storage::Storage;
use crate::util::{is_local_msg, is_local_msg_target, is_response_msg};

/// How many ticks the node buffers while it is busy (etcd's `tickc`
/// capacity): ticks are replayed once the node is idle again, and further
/// ones are dropped with a warning.
const TICK_BUFFER: usize = 128;

/// A cancellation signal with an optional deadline for the blocking calls of
/// [`Node`] (etcd passes a Go `context.Context`).
///
/// Methods without a context wait as long as the node runs; the `_ctx`
/// variants also return [`Error::Canceled`] once the context is canceled and
/// [`Error::DeadlineExceeded`] once its deadline passed.
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

/// The application's handle on a raft node running in its own thread
/// (etcd `Node`).
///
/// Every method may be called from any thread (`Node` is `Sync`; share it
/// with an `Arc`). Calls block until the node thread takes the request, and
/// return [`Error::Stopped`] (or do nothing) once the node is stopped.
pub struct Node {
    id: u64,
    logger: slog::Logger,
    propc: Sender<MsgWithResult>,
    recvc: Sender<Message>,
    confc: Sender<ConfChangeReq>,
    readyc: Receiver<Ready>,
    advancec: Sender<()>,
    tickc: Sender<()>,
    stopc: Sender<()>,
    statusc: Sender<Sender<Status>>,
    #[cfg_attr(not(test), allow(dead_code))]
    execc: Sender<TestExec>,
    // Disconnected when the node thread ends (its sender is dropped then,
    // whether it returns or unwinds): etcd's closed `done` channel.
    done: Receiver<()>,
    thread: Mutex<Option<JoinHandle<()>>>,
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
    let mut rn = RawNode::new(config, storage, logger)?;
    if let Err(e) = rn.bootstrap(peers) {
        slog::warn!(logger, "error occurred during starting a new node: {}", e);
    }
    Ok(Node::new(rn))
}

/// Restarts a node from the state in `storage` (etcd `RestartNode`): the
/// membership comes from the storage. Pass the last index applied to the
/// application's state machine in `config.applied`.
pub fn restart_node<S>(config: &Config, storage: S, logger: &slog::Logger) -> Result<Node>
where
    S: Storage + Send + 'static,
{
    let rn = RawNode::new(config, storage, logger)?;
    Ok(Node::new(rn))
}

impl Node {
    /// Runs `rn` in a new thread and returns its handle (etcd `newNode`
    /// followed by `go n.run()`).
    pub fn new<S>(rn: RawNode<S>) -> Node
    where
        S: Storage + Send + 'static,
    {
        // Unbuffered like etcd's: a send completes only when the node
        // thread takes it, which is what makes the calls block.
        let (propc_tx, propc) = bounded(0);
        let (recvc_tx, recvc) = bounded(0);
        let (confc_tx, confc) = bounded(0);
        let (readyc, readyc_rx) = bounded(0);
        let (advancec_tx, advancec) = bounded(0);
        let (tickc_tx, tickc) = bounded(TICK_BUFFER);
        let (stopc_tx, stopc) = bounded(0);
        let (statusc_tx, statusc) = bounded(0);
        let (execc_tx, execc) = bounded(0);
        let (done_tx, done) = bounded::<()>(0);
        let id = rn.raft.id;
        let logger = rn.raft.logger.clone();
        let chans = Loop {
            propc,
            recvc,
            confc,
            readyc,
            advancec,
            tickc,
            stopc,
            statusc,
            execc,
            _done: done_tx,
        };
        let thread = thread::Builder::new()
            .name(format!("raft-node-{id:x}"))
            .spawn(move || chans.run(rn))
            .expect("failed to spawn the raft node thread");
        Node {
            id,
            logger,
            propc: propc_tx,
            recvc: recvc_tx,
            confc: confc_tx,
            readyc: readyc_rx,
            advancec: advancec_tx,
            tickc: tickc_tx,
            stopc: stopc_tx,
            statusc: statusc_tx,
            execc: execc_tx,
            done,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Advances the node's logical clock by one tick. Ticks are buffered
    /// while the node is busy; once the buffer is full they are dropped with
    /// a warning, as in etcd.
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
            false,
        )
    }

    /// Proposes `data` for appending to the log and waits until raft took
    /// or dropped it. Blocks while no leader is known. A proposal can still
    /// be lost after it was taken: retrying is the application's job.
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
        self.step_inner(ctx, m, true)
    }

    /// Proposes a configuration change (v1 or v2). As in etcd, this returns
    /// once the node took the proposal, without waiting for raft's verdict:
    /// conf changes can be dropped silently (for instance while another
    /// one is pending).
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
        self.step_ctx(ctx, conf_change_to_msg(cc))
    }

    /// Steps a message received from a peer (or a local storage thread's
    /// response) into the state machine. Local messages from elsewhere are
    /// ignored, as in etcd.
    pub fn step(&self, m: Message) -> Result<()> {
        self.step_ctx(&Context::background(), m)
    }

    /// [`step`](Node::step), giving up when `ctx` is done.
    pub fn step_ctx(&self, ctx: &Context, m: Message) -> Result<()> {
        if is_local_msg(m.get_type()) && !is_local_msg_target(m.from) {
            // A peer cannot make this node campaign or beat; etcd drops
            // such messages without an error.
            return Ok(());
        }
        self.step_inner(ctx, m, false)
    }

    /// The channel of [`Ready`]s: after handling one, the application must
    /// call [`advance`](Node::advance) (unless async storage writes are on).
    /// No committed entries of the next `Ready` may be applied before those
    /// of the previous one are. The channel disconnects when the node stops.
    pub fn ready(&self) -> &Receiver<Ready> {
        &self.readyc
    }

    /// Tells the node that the last `Ready` was persisted (and, typically,
    /// applied), so that it can prepare the next. Must not be called with
    /// async storage writes.
    pub fn advance(&self) {
        select! {
            send(self.advancec, ()) -> _ => {}
            recv(self.done) -> _ => {}
        }
    }

    /// Applies a committed configuration change and returns the resulting
    /// configuration, to be recorded in snapshots. Call it for every conf
    /// change entry in `committed_entries` unless the application rejects
    /// the change. Fails with [`Error::Stopped`] once the node stopped, or
    /// with the change's error if it cannot be applied.
    pub fn apply_conf_change(&self, cc: &(impl ConfChangeI + ?Sized)) -> Result<ConfState> {
        let (reply, rx) = bounded(1);
        let req = ConfChangeReq {
            cc: cc.as_v2(),
            reply,
        };
        select! {
            send(self.confc, req) -> res => {
                if res.is_err() {
                    return Err(Error::Stopped);
                }
            }
            recv(self.done) -> _ => return Err(Error::Stopped),
        }
        rx.recv().unwrap_or(Err(Error::Stopped))
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
            false,
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
        self.step_inner(&Context::background(), m, false)
    }

    /// The node's status; the default (empty) status once it stopped.
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
    pub fn stop(&self) {
        select! {
            send(self.stopc, ()) -> _ => {}
            recv(self.done) -> _ => {}
        }
        // Returns once the node thread ended (the sender is dropped then).
        let _ = self.done.recv();
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            if let Err(panic) = handle.join() {
                // The node thread broke an invariant: surface it to the
                // caller, unless we are already unwinding.
                if !thread::panicking() {
                    std::panic::resume_unwind(panic);
                }
            }
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

    // etcd stepWithWaitOption: everything but proposals goes to recvc;
    // proposals go to propc, which the node thread only reads while a
    // leader is known, and with `wait` the caller also waits for raft's
    // verdict on the proposal.
    fn step_inner(&self, ctx: &Context, m: Message, wait: bool) -> Result<()> {
        let timer = ctx.timer();
        if m.get_type() != MessageType::MsgProp {
            select! {
                send(self.recvc, m) -> res => return res.map_err(|_| Error::Stopped),
                recv(ctx.done) -> _ => return Err(Error::Canceled),
                recv(timer) -> _ => return Err(Error::DeadlineExceeded),
                recv(self.done) -> _ => return Err(Error::Stopped),
            }
        }
        let (result, rx) = if wait {
            let (tx, rx) = bounded(1);
            (Some(tx), rx)
        } else {
            (None, never())
        };
        let pm = MsgWithResult { m, result };
        select! {
            send(self.propc, pm) -> res => {
                if res.is_err() {
                    return Err(Error::Stopped);
                }
                if !wait {
                    return Ok(());
                }
            }
            recv(ctx.done) -> _ => return Err(Error::Canceled),
            recv(timer) -> _ => return Err(Error::DeadlineExceeded),
            recv(self.done) -> _ => return Err(Error::Stopped),
        }
        select! {
            recv(rx) -> res => res.unwrap_or(Err(Error::Stopped)),
            recv(ctx.done) -> _ => Err(Error::Canceled),
            recv(timer) -> _ => Err(Error::DeadlineExceeded),
            recv(self.done) -> _ => Err(Error::Stopped),
        }
    }

    // Hands a message to the node thread unless it stopped (etcd's
    // fire-and-forget reports).
    fn send_recvc(&self, m: Message) {
        select! {
            send(self.recvc, m) -> _ => {}
            recv(self.done) -> _ => {}
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
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
    recvc: Receiver<Message>,
    confc: Receiver<ConfChangeReq>,
    readyc: Sender<Ready>,
    advancec: Receiver<()>,
    tickc: Receiver<()>,
    stopc: Receiver<()>,
    statusc: Receiver<Sender<Status>>,
    #[cfg_attr(not(test), allow(dead_code))]
    execc: Receiver<TestExec>,
    // Dropped when the thread ends, which disconnects the handle's `done`.
    _done: Sender<()>,
}

impl Loop {
    // etcd's run(). Differences: the Ready is built (and accepted) only once
    // the application is ready to receive it — crossbeam evaluates a send's
    // message after the operation is selected — which hands out exactly what
    // etcd's readyWithoutAccept at the top of the loop would, since nothing
    // happens in between, without building a Ready on every iteration.
    fn run<S: Storage + Send + 'static>(self, mut rn: RawNode<S>) {
        let no_prop: Receiver<MsgWithResult> = never();
        // A sender nobody receives from, for a disarmed readyc: a send on
        // it is never ready while its receiver lives (until we return).
        let (no_ready, _no_ready_rx) = bounded::<Ready>(0);
        let no_advance: Receiver<()> = never();
        #[cfg(test)]
        let mut hook: Option<StepHook> = None;

        let mut prop_armed = false;
        let mut advance_pending = false;
        let mut lead = NONE;

        loop {
            let ready_armed = !advance_pending && rn.has_ready();

            let r = &rn.raft;
            if lead != r.lead {
                if r.has_leader() {
                    if lead == NONE {
                        slog::info!(
                            r.logger,
                            "raft.node: {:x} elected leader {:x} at term {}",
                            r.id,
                            r.lead,
                            r.term
                        );
                    } else {
                        slog::info!(
                            r.logger,
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
                        r.logger,
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

            select! {
                recv(propc) -> pm => {
                    let Ok(MsgWithResult { mut m, result }) = pm else { return };
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
                recv(self.recvc) -> m => {
                    let Ok(m) = m else { return };
                    if is_response_msg(m.get_type())
                        && !is_local_msg_target(m.from)
                        && !rn.raft.trk.progress.contains(m.from)
                    {
                        // A response from a peer outside the configuration.
                        continue;
                    }
                    #[cfg(test)]
                    {
                        if let Some(Some(_)) = hook.as_mut().map(|h| h(&m)) {
                            continue;
                        }
                    }
                    // From a peer, a message no valid peer sends (see
                    // `RawNode::step`) is dropped, like etcd drops the
                    // responses above. The application's own reports
                    // (unreachable, snapshot status) are local messages
                    // from a peer's id and skip that check.
                    if !is_local_msg(m.get_type())
                        && crate::raw_node::check_step(&rn.raft, &m).is_err()
                    {
                        continue;
                    }
                    // Errors here (a dropped forwarded proposal, say) have
                    // nobody to go to; etcd ignores them too.
                    let _ = rn.raft.step(m);
                }
                recv(self.confc) -> req => {
                    let Ok(ConfChangeReq { cc, reply }) = req else { return };
                    let id = rn.raft.id;
                    let ok_before = rn.raft.trk.progress.contains(id);
                    let res = rn.raft.apply_conf_change(&cc);
                    if let Ok(cs) = &res {
                        // A node removed from the configuration takes no
                        // more proposals; only if it was in it before, since
                        // a node catching up may not know it is a member.
                        // (A leader change re-arms proposals, as in etcd.)
                        let ok_after = rn.raft.trk.progress.contains(id);
                        if ok_before
                            && !ok_after
                            && !cs.voters.contains(&id)
                            && !cs.voters_outgoing.contains(&id)
                        {
                            prop_armed = false;
                        }
                    }
                    let _ = reply.send(res);
                }
                recv(self.tickc) -> t => {
                    if t.is_err() {
                        return;
                    }
                    rn.tick();
                }
                send(readyc, rn.ready()) -> res => {
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
}
