//! The sending side of one peer: a task that owns the connection, writes
//! the queued messages as frames, and reconnects with backoff.
//!
//! Back-pressure: the queue in front of the task is bounded; the Ready
//! loop never waits for it (see `Transport::send`). While the peer cannot
//! be reached, queued messages are dropped and reported, so that the queue
//! holds no stale messages when the connection comes back.
//!
//! The task also reads its connection, for the control frames the peer may
//! answer with (`frame`): "member removed" about this node is reported.

use std::time::Duration;

use crossbeam_channel::Sender;
use futures_util::{SinkExt, StreamExt};
use raft::eraftpb::{Message, MessageType};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};
use tokio_util::sync::CancellationToken;

use super::frame::{self, Control};
use super::Report;

/// The first reconnect delay; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_millis(500);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Messages written before one flush.
const MAX_BATCH: usize = 256;

/// Where a peer task sends to and reports through.
pub(super) struct PeerTask {
    pub id: u64,
    /// This node, which a "member removed" answer must name.
    pub own_id: u64,
    pub addr: String,
    pub rx: mpsc::Receiver<Message>,
    pub reports: Sender<Report>,
    pub cancel: CancellationToken,
    pub logger: slog::Logger,
}

impl PeerTask {
    /// Runs until canceled or until the queue's sender is dropped.
    pub(super) async fn run(mut self) {
        let mut backoff = MIN_BACKOFF;
        let mut was_up = true;
        loop {
            let conn = tokio::select! {
                _ = self.cancel.cancelled() => return,
                c = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.addr)) => c,
            };
            let stream = match conn {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    self.down(&mut was_up, &e.to_string());
                    if !self.wait(&mut backoff).await {
                        return;
                    }
                    continue;
                }
                Err(_) => {
                    self.down(&mut was_up, "connect timed out");
                    if !self.wait(&mut backoff).await {
                        return;
                    }
                    continue;
                }
            };
            // Raft messages are small and latency-bound.
            let _ = stream.set_nodelay(true);
            backoff = MIN_BACKOFF;
            if !was_up {
                slog::info!(
                    self.logger,
                    "peer {} at {} is reachable",
                    self.id,
                    self.addr
                );
                was_up = true;
            }
            let (read, write) = stream.into_split();
            let control = FramedRead::new(read, frame::codec());
            if !self
                .pump(FramedWrite::new(write, frame::codec()), control)
                .await
            {
                return;
            }
        }
    }

    // Writes queued messages until the connection fails (false: stop).
    async fn pump(
        &mut self,
        mut sink: FramedWrite<OwnedWriteHalf, LengthDelimitedCodec>,
        control: FramedRead<OwnedReadHalf, LengthDelimitedCodec>,
    ) -> bool {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        // None once the peer closed its side or sent what is not a frame;
        // a broken connection shows on the next write.
        let mut control = Some(control);
        loop {
            let first = tokio::select! {
                _ = self.cancel.cancelled() => return false,
                m = self.rx.recv() => match m {
                    Some(m) => m,
                    None => return false,
                },
                c = next_control(&mut control) => {
                    match c {
                        Some(frame) => self.control(&frame),
                        None => control = None,
                    }
                    continue;
                }
            };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match self.rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            let mut result = Ok(());
            for m in &batch {
                result = sink.feed(frame::encode(m)).await;
                if result.is_err() {
                    break;
                }
            }
            if result.is_ok() {
                result = SinkExt::<bytes::Bytes>::flush(&mut sink).await;
            }
            match result {
                Ok(()) => {
                    for m in batch.drain(..) {
                        if m.get_type() == MessageType::MsgSnap {
                            slog::info!(
                                self.logger,
                                "sent snapshot at index {} to peer {}",
                                m.snapshot.as_ref().map_or(0, |s| s.metadata.index),
                                self.id
                            );
                            let _ = self.reports.send(Report::Snapshot {
                                id: self.id,
                                ok: true,
                            });
                        }
                    }
                }
                Err(e) => {
                    slog::warn!(
                        self.logger,
                        "lost connection to peer {} at {}: {}",
                        self.id,
                        self.addr,
                        e
                    );
                    self.fail(batch.drain(..));
                    return true;
                }
            }
        }
    }

    // Acts on a control frame from the peer; strange ones are logged only.
    fn control(&self, frame: &[u8]) {
        match Control::decode(frame) {
            Ok(Control::MemberRemoved(id)) if id == self.own_id => {
                let _ = self.reports.send(Report::Removed { by: self.id });
            }
            Ok(Control::MemberRemoved(id)) => slog::warn!(
                self.logger,
                "peer {} says node {} was removed, but this is node {}: ignored",
                self.id,
                id,
                self.own_id
            ),
            Err(e) => slog::warn!(self.logger, "peer {} sent a {}: ignored", self.id, e),
        }
    }

    // Logs the first failure of a streak and drops what is queued.
    fn down(&mut self, was_up: &mut bool, why: &str) {
        if *was_up {
            slog::warn!(
                self.logger,
                "cannot reach peer {} at {}: {}",
                self.id,
                self.addr,
                why
            );
            *was_up = false;
        }
        let mut dropped = Vec::new();
        while let Ok(m) = self.rx.try_recv() {
            dropped.push(m);
        }
        self.fail(dropped.into_iter());
    }

    // Reports undelivered messages: the peer as unreachable (once), and
    // each snapshot as failed, which the leader must hear to retry.
    fn fail(&self, msgs: impl Iterator<Item = Message>) {
        let mut any = false;
        for m in msgs {
            any = true;
            if m.get_type() == MessageType::MsgSnap {
                let _ = self.reports.send(Report::Snapshot {
                    id: self.id,
                    ok: false,
                });
            }
        }
        if any {
            let _ = self.reports.send(Report::Unreachable(self.id));
        }
    }

    // Sleeps the backoff (false: canceled meanwhile) and doubles it.
    async fn wait(&self, backoff: &mut Duration) -> bool {
        let d = *backoff;
        *backoff = (*backoff * 2).min(MAX_BACKOFF);
        tokio::select! {
            _ = self.cancel.cancelled() => false,
            _ = tokio::time::sleep(d) => true,
        }
    }
}

// The next control frame, or None once the connection's reading side is
// done; pending forever after that.
async fn next_control(
    control: &mut Option<FramedRead<OwnedReadHalf, LengthDelimitedCodec>>,
) -> Option<bytes::BytesMut> {
    match control {
        Some(c) => c.next().await.and_then(Result::ok),
        None => std::future::pending().await,
    }
}
