//! The sending side of one peer: a task that owns the connection, writes
//! the queued messages as frames, and reconnects with backoff.
//!
//! Back-pressure: the queue in front of the task is bounded; the Ready
//! loop never waits for it (see `Transport::send`). While the peer cannot
//! be reached, queued messages are dropped and reported, so that the queue
//! holds no stale messages when the connection comes back.

use std::time::Duration;

use crossbeam_channel::Sender;
use futures_util::SinkExt;
use raft::eraftpb::{Message, MessageType};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::FramedWrite;
use tokio_util::sync::CancellationToken;

use super::{frame, Report};

/// The first reconnect delay; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_millis(500);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Messages written before one flush.
const MAX_BATCH: usize = 256;

/// Where a peer task sends to and reports through.
pub(super) struct PeerTask {
    pub id: u64,
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
            if !self.pump(FramedWrite::new(stream, frame::codec())).await {
                return;
            }
        }
    }

    // Writes queued messages until the connection fails (false: stop).
    async fn pump(
        &mut self,
        mut sink: FramedWrite<TcpStream, tokio_util::codec::LengthDelimitedCodec>,
    ) -> bool {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        loop {
            let first = tokio::select! {
                _ = self.cancel.cancelled() => return false,
                m = self.rx.recv() => match m {
                    Some(m) => m,
                    None => return false,
                },
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
