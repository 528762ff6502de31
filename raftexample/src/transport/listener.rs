//! The receiving side: accepts peer connections and hands each decoded
//! message to the [`Inbox`]. A connection that sends something other than
//! raft messages is closed; a message for another node is dropped. A
//! message from a removed node is dropped too, and the first one on a
//! connection is answered with a "member removed" control frame.

use futures_util::{SinkExt, StreamExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};
use tokio_util::sync::CancellationToken;

use super::frame::{self, Control};
use super::Removed;
use crate::inbox::Inbox;

/// Accepts connections until canceled.
pub(super) async fn serve(
    listener: TcpListener,
    id: u64,
    inbox: Inbox,
    removed: Removed,
    cancel: CancellationToken,
    logger: slog::Logger,
) {
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, from)) => {
                let _ = stream.set_nodelay(true);
                let conn = Connection {
                    id,
                    from: from.to_string(),
                    inbox: inbox.clone(),
                    removed: removed.clone(),
                    cancel: cancel.clone(),
                    logger: logger.clone(),
                };
                tokio::spawn(conn.run(stream));
            }
            Err(e) => {
                // Out of file descriptors, say: back off instead of spinning.
                slog::warn!(logger, "accepting a peer connection failed: {}", e);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// One inbound connection.
struct Connection {
    id: u64,
    from: String,
    inbox: Inbox,
    removed: Removed,
    cancel: CancellationToken,
    logger: slog::Logger,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        let (read, write) = stream.into_split();
        let mut frames = FramedRead::new(read, frame::codec());
        // Taken when the "member removed" answer goes out: once is enough.
        let mut answer = Some(FramedWrite::new(write, frame::codec()));
        loop {
            let next = tokio::select! {
                _ = self.cancel.cancelled() => return,
                f = frames.next() => f,
            };
            let buf = match next {
                None => return,
                Some(Ok(buf)) => buf,
                Some(Err(e)) => {
                    slog::warn!(
                        self.logger,
                        "closing peer connection from {}: {}",
                        self.from,
                        e
                    );
                    return;
                }
            };
            let m = match frame::decode(buf) {
                Ok(m) => m,
                Err(e) => {
                    slog::warn!(
                        self.logger,
                        "closing peer connection from {}: {}",
                        self.from,
                        e
                    );
                    return;
                }
            };
            if m.to != self.id {
                slog::warn!(
                    self.logger,
                    "dropping a message for node {} from {} (this is node {})",
                    m.to,
                    self.from,
                    self.id
                );
                continue;
            }
            if self.is_removed(m.from) {
                if let Some(sink) = answer.take() {
                    self.tell_removed(sink, m.from).await;
                }
                continue;
            }
            if !self.inbox.deliver(m).await {
                return;
            }
        }
    }

    fn is_removed(&self, id: u64) -> bool {
        self.removed
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&id)
    }

    // Keeps reading afterwards: closing a socket with unread input resets
    // it, which could discard the answer before the peer reads it.
    async fn tell_removed(
        &self,
        mut sink: FramedWrite<OwnedWriteHalf, LengthDelimitedCodec>,
        id: u64,
    ) {
        slog::info!(
            self.logger,
            "node {} at {} was removed from the cluster: telling it",
            id,
            self.from
        );
        let sent = tokio::select! {
            _ = self.cancel.cancelled() => return,
            r = sink.send(Control::MemberRemoved(id).encode()) => r,
        };
        if let Err(e) = sent {
            slog::warn!(self.logger, "cannot tell node {} it was removed: {}", id, e);
        }
    }
}
