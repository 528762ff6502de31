//! The receiving side: accepts peer connections and hands each decoded
//! message to the [`Inbox`]. A connection that sends something other than
//! raft messages is closed; a message for another node is dropped.

use futures_util::StreamExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use super::frame;
use crate::inbox::Inbox;

/// Accepts connections until canceled.
pub(super) async fn serve(
    listener: TcpListener,
    id: u64,
    inbox: Inbox,
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
    cancel: CancellationToken,
    logger: slog::Logger,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        let mut frames = FramedRead::new(stream, frame::codec());
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
            if !self.inbox.deliver(m).await {
                return;
            }
        }
    }
}
