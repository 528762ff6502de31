//! A lean HTTP/1.1 client connection for `raftexample bench`: one
//! keep-alive TCP connection, one request in flight, the request written
//! with one `write` and the answer parsed in place.
//!
//! The bench measures the server, so its clients should cost the machine
//! as little as possible: [`client`](crate::client) (hyper's pooled client)
//! spends about as much CPU per request as the server answering it. This
//! one speaks only what the bench needs: requests with a
//! `Content-Length` body, answers with a `Content-Length` body (or none,
//! for 204 and 304) on a connection that stays open. Anything else is an
//! error, and the caller opens a new connection.

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Headers of an answer the client looks at, at most.
const MAX_HEADERS: usize = 32;
/// The largest answer head read before giving up.
const MAX_HEAD: usize = 16 << 10;
/// The largest answer body accepted.
const MAX_BODY: usize = 16 << 20;

/// Why a request got no usable answer. The connection is unusable after
/// any of these.
#[derive(Debug, thiserror::Error)]
pub enum LeanError {
    /// Connecting, writing or reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection before a whole answer.
    #[error("the server closed the connection")]
    Closed,
    /// The answer is not HTTP/1.1 this client reads.
    #[error("bad answer: {0}")]
    BadAnswer(String),
}

/// One keep-alive connection to a server.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    host: String,
    out: Vec<u8>,
    buf: BytesMut,
}

/// An answer: status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeanAnswer {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

impl Connection {
    /// Connects to `host:port` (an `http://` prefix is ignored).
    pub async fn connect(addr: &str) -> Result<Connection, LeanError> {
        let host = addr.strip_prefix("http://").unwrap_or(addr).to_owned();
        let stream = TcpStream::connect(&host).await?;
        // One small request at a time: no Nagle delay.
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            host,
            out: Vec::with_capacity(512),
            buf: BytesMut::with_capacity(4096),
        })
    }

    /// Sends `method path` with `body` and reads the answer.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<LeanAnswer, LeanError> {
        use std::io::Write;
        self.out.clear();
        // Writing into a Vec cannot fail.
        let _ = write!(
            self.out,
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        self.out.extend_from_slice(body);
        self.stream.write_all(&self.out).await?;
        self.read_answer(method == "HEAD").await
    }

    async fn read_answer(&mut self, head_only: bool) -> Result<LeanAnswer, LeanError> {
        loop {
            if let Some((status, head_len, body_len)) = parse_head(&self.buf, head_only)? {
                let total = head_len + body_len;
                while self.buf.len() < total {
                    self.buf.reserve(total - self.buf.len());
                    self.fill().await?;
                }
                self.buf.advance(head_len);
                let body = self.buf.split_to(body_len).freeze();
                return Ok(LeanAnswer { status, body });
            }
            if self.buf.len() > MAX_HEAD {
                return Err(LeanError::BadAnswer(format!(
                    "no end of the head within {MAX_HEAD} bytes"
                )));
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), LeanError> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(4096);
        }
        match self.stream.read_buf(&mut self.buf).await? {
            0 => Err(LeanError::Closed),
            _ => Ok(()),
        }
    }
}

/// The status, the head's length and the body's length of the answer at
/// the start of `buf`, once its head is complete.
fn parse_head(buf: &[u8], head_only: bool) -> Result<Option<(u16, usize, usize)>, LeanError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(LeanError::BadAnswer(e.to_string())),
    };
    let status = resp.code.unwrap_or(0);
    if resp.version != Some(1) {
        return Err(LeanError::BadAnswer("not HTTP/1.1".into()));
    }
    let mut length = None;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| LeanError::BadAnswer("bad content-length".into()))?;
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(LeanError::BadAnswer("transfer-encoding is not read".into()));
        } else if h.name.eq_ignore_ascii_case("connection")
            && h.value.eq_ignore_ascii_case(b"close")
        {
            return Err(LeanError::BadAnswer(
                "the server closes the connection".into(),
            ));
        }
    }
    let body_len = match (status, length) {
        (100..=199 | 204 | 304, _) => 0,
        _ if head_only => 0,
        (_, Some(n)) if n <= MAX_BODY => n,
        (_, Some(n)) => return Err(LeanError::BadAnswer(format!("body of {n} bytes"))),
        (_, None) => return Err(LeanError::BadAnswer("no content-length".into())),
    };
    Ok(Some((status, head_len, body_len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_parsed_and_strange_answers_are_errors() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc";
        assert_eq!(parse_head(ok, false).unwrap(), Some((200, 38, 3)));
        assert_eq!(parse_head(&ok[..20], false).unwrap(), None);
        let empty = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(parse_head(empty, false).unwrap(), Some((204, 27, 0)));
        for bad in [
            &b"HTTP/1.1 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"garbage\r\n\r\n",
        ] {
            assert!(
                parse_head(bad, false).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn requests_cross_a_real_connection_and_a_closed_one_is_an_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let server = tokio::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut got = Vec::new();
                let mut buf = [0u8; 1024];
                // Two requests, answered in pieces, then the server goes.
                while !String::from_utf8_lossy(&got).ends_with("\r\n\r\n") {
                    let n = s.read(&mut buf).await.unwrap();
                    got.extend_from_slice(&buf[..n]);
                }
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-le").await.unwrap();
                s.flush().await.unwrap();
                s.write_all(b"ngth: 5\r\n\r\nhel").await.unwrap();
                s.write_all(b"lo").await.unwrap();
                let text = String::from_utf8(got).unwrap();
                let mut more = Vec::new();
                while !String::from_utf8_lossy(&more).ends_with("value") {
                    let n = s.read(&mut buf).await.unwrap();
                    more.extend_from_slice(&buf[..n]);
                }
                s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
                    .await
                    .unwrap();
                (text, String::from_utf8(more).unwrap())
            });
            let mut c = Connection::connect(&format!("http://{addr}"))
                .await
                .unwrap();
            let a = c.request("GET", "/k?serializable=true", b"").await.unwrap();
            assert_eq!((a.status, &a.body[..]), (200, &b"hello"[..]));
            let a = c.request("PUT", "/k", b"value").await.unwrap();
            assert_eq!((a.status, a.body.len()), (204, 0));
            let (first, second) = server.await.unwrap();
            assert!(
                first.starts_with("GET /k?serializable=true HTTP/1.1\r\n"),
                "{first}"
            );
            assert!(second.starts_with("PUT /k HTTP/1.1\r\n"), "{second}");
            assert!(second.contains("content-length: 5\r\n"), "{second}");
            // The server is gone now.
            assert!(c.request("GET", "/k", b"").await.is_err());
        });
    }
}
