//! A small HTTP/1 client of the key-value API, for `raftexample bench` and
//! the integration tests: keep-alive connections, one request at a time
//! per call, the status and body back.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL or request could not be built.
    #[error("bad request to {url}: {source}")]
    Build {
        /// The URL.
        url: String,
        /// Why.
        source: hyper::http::Error,
    },
    /// Connecting or the exchange failed.
    #[error("{method} {url}: {source}")]
    Send {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// Why.
        source: hyper_util::client::legacy::Error,
    },
    /// The body could not be read.
    #[error("{method} {url}: reading the body: {source}")]
    Body {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// Why.
        source: hyper::Error,
    },
    /// No answer within the client's timeout.
    #[error("{method} {url}: no answer within {timeout:?}")]
    Timeout {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// The timeout.
        timeout: Duration,
    },
}

/// An answer: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: StatusCode,
    /// The body.
    pub body: Bytes,
}

impl Answer {
    /// The body as text (lossy), for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client of one or more nodes' APIs.
#[derive(Debug, Clone)]
pub struct Client {
    inner: HyperClient<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl Client {
    /// A client whose requests give up after `timeout`.
    pub fn new(timeout: Duration) -> Client {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        Client {
            inner: HyperClient::builder(TokioExecutor::new()).build(connector),
            timeout,
        }
    }

    /// Sends `method url` with `body`.
    pub async fn request(
        &self,
        method: Method,
        url: &str,
        body: Bytes,
    ) -> Result<Answer, ClientError> {
        let req = Request::builder()
            .method(method.clone())
            .uri(url)
            .body(Full::new(body))
            .map_err(|source| ClientError::Build {
                url: url.to_owned(),
                source,
            })?;
        let exchange = async {
            let resp = self
                .inner
                .request(req)
                .await
                .map_err(|source| ClientError::Send {
                    method: method.clone(),
                    url: url.to_owned(),
                    source,
                })?;
            let status = resp.status();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|source| ClientError::Body {
                    method: method.clone(),
                    url: url.to_owned(),
                    source,
                })?
                .to_bytes();
            Ok(Answer { status, body })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(ClientError::Timeout {
                    method,
                    url: url.to_owned(),
                    timeout: self.timeout,
                })
            })
    }

    /// `PUT {base}/{key}`.
    pub async fn put(&self, base: &str, key: &str, value: Bytes) -> Result<Answer, ClientError> {
        self.request(Method::PUT, &format!("{base}/{key}"), value)
            .await
    }

    /// `GET {base}/{key}`, locally with `serializable`.
    pub async fn get(
        &self,
        base: &str,
        key: &str,
        serializable: bool,
    ) -> Result<Answer, ClientError> {
        let q = if serializable {
            "?serializable=true"
        } else {
            ""
        };
        self.request(Method::GET, &format!("{base}/{key}{q}"), Bytes::new())
            .await
    }
}
