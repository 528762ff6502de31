//! The HTTP API, in etcd raftexample's shape:
//!
//! - `PUT /{key}` with the value as body: 204 once the write is committed
//!   and applied on this node.
//! - `GET /{key}`: the value, linearizable (a read index, then waiting for
//!   this node to apply up to it); `?serializable=true` reads locally.
//! - `POST /{id}` with a peer address as body: adds node `id`; `DELETE
//!   /{id}` removes it; both answer 204 once the change is applied here.
//! - `GET /raft/status`: this node's view, one `name=value` per line,
//!   with a fingerprint of the map to compare nodes by.
//!
//! Every failure is an [`ApiError`]: a status code and a one-line reason.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use raft::eraftpb::{ConfChange, ConfChangeType};
use raft::node::Context;
use raft::Node;
use tokio::sync::mpsc;
use tokio::time::{timeout_at, Instant};

use crate::cli::PeerAddr;
use crate::command::Put;
use crate::state::{NotApplied, Shared};

/// The largest value (and request body) accepted.
pub const MAX_VALUE: usize = 1 << 20;
/// The longest key accepted.
pub const MAX_KEY: usize = 1024;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct Api {
    /// The node, for read indexes and conf changes.
    pub node: Arc<Node>,
    /// The state the Ready loop keeps.
    pub shared: Arc<Shared>,
    /// The proposer's queue.
    pub proposer: mpsc::Sender<Put>,
    /// How long a request waits for a leader, a commit or a read.
    pub timeout: Duration,
    /// How long one read index is waited for before it is asked again
    /// (read-index requests are lost when there is no leader).
    pub read_retry: Duration,
}

/// A request that failed, with its status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `PUT /` or `GET /`.
    #[error("empty key: use /<key>")]
    EmptyKey,
    /// A key over [`MAX_KEY`] bytes.
    #[error("key of {0} bytes is over the limit of {MAX_KEY}")]
    KeyTooLong(usize),
    /// The key is not in the map.
    #[error("key {0:?} not found")]
    NotFound(String),
    /// The `{id}` of a membership request is not a positive integer.
    #[error("bad node id {0:?}: expected a positive integer")]
    BadId(String),
    /// The body of `POST /{id}` is not a peer address.
    #[error("bad peer address in body: {0}")]
    BadAddr(String),
    /// Adding a node that is a member already.
    #[error("node {0} is already a member")]
    AlreadyMember(u64),
    /// Removing a node that is not a member.
    #[error("node {0} is not a member")]
    NotMember(u64),
    /// A path with more than one segment (other than `/raft/status`).
    #[error("no such path: keys are /<key> (one segment), nodes /<id>, status /raft/status")]
    NoRoute,
    /// A method the path does not take.
    #[error("method not allowed: PUT and GET /<key>, POST and DELETE /<id>, GET /raft/status")]
    BadMethod,
    /// The query string is not understood.
    #[error("bad query: {0}")]
    BadQuery(String),
    /// Raft refused the membership change.
    #[error("{0}")]
    Refused(NotApplied),
    /// No leader within the timeout, the proposal was dropped, or the
    /// commit (or read) did not come within the timeout.
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::EmptyKey
            | ApiError::BadId(_)
            | ApiError::BadAddr(_)
            | ApiError::BadQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::KeyTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::NotFound(_) | ApiError::NotMember(_) | ApiError::NoRoute => {
                StatusCode::NOT_FOUND
            }
            ApiError::BadMethod => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::AlreadyMember(_) | ApiError::Refused(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), format!("{self}\n")).into_response()
    }
}

/// The router of the API.
pub fn router(api: Api) -> Router {
    Router::new()
        .route("/", get(empty_key).put(empty_key))
        .route("/raft/status", get(status))
        .route(
            "/{key}",
            put(put_key).get(get_key).post(add_node).delete(remove_node),
        )
        .fallback(no_route)
        .method_not_allowed_fallback(bad_method)
        .layer(DefaultBodyLimit::max(MAX_VALUE))
        .with_state(api)
}

async fn no_route() -> ApiError {
    ApiError::NoRoute
}

async fn bad_method() -> ApiError {
    ApiError::BadMethod
}

async fn empty_key() -> ApiError {
    ApiError::EmptyKey
}

fn check_key(key: &str) -> Result<(), ApiError> {
    match key.len() {
        0 => Err(ApiError::EmptyKey),
        n if n > MAX_KEY => Err(ApiError::KeyTooLong(n)),
        _ => Ok(()),
    }
}

async fn put_key(
    State(api): State<Api>,
    Path(key): Path<String>,
    value: Bytes,
) -> Result<StatusCode, ApiError> {
    check_key(&key)?;
    let deadline = Instant::now() + api.timeout;
    let id = api.shared.ids.next();
    // Tagged with the leader it goes to, so that it is answered as soon
    // as that leader is gone (a proposal forwarded to it is lost then).
    let leader = api.shared.status().leader;
    let mut waiter = api.shared.puts.register(id, leader);
    let queued = timeout_at(deadline, api.proposer.send(Put { id, key, value })).await;
    match queued {
        Ok(Ok(())) => {}
        Ok(Err(_)) => return Err(shutting_down()),
        Err(_) => return Err(api.unavailable("the proposal queue stayed full")),
    }
    match timeout_at(deadline, &mut waiter.rx).await {
        Ok(Ok(Ok(()))) => Ok(StatusCode::NO_CONTENT),
        Ok(Ok(Err(e))) => Err(api.unavailable(&e.to_string())),
        Ok(Err(_)) => Err(shutting_down()),
        Err(_) => Err(api.unavailable("the write was not applied in time (it may still be)")),
    }
}

async fn get_key(
    State(api): State<Api>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Bytes, ApiError> {
    check_key(&key)?;
    let mut serializable = false;
    for pair in query
        .iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (name, value) {
            ("serializable", "true" | "1" | "") => serializable = true,
            ("serializable", "false" | "0") => serializable = false,
            _ => return Err(ApiError::BadQuery(format!("{name}={value}"))),
        }
    }
    if !serializable {
        api.wait_linearizable().await?;
    }
    api.shared.kv().get(&key).ok_or(ApiError::NotFound(key))
}

async fn add_node(
    State(api): State<Api>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let addr = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadAddr("not UTF-8".into()))?
        .parse::<PeerAddr>()
        .map_err(|e| ApiError::BadAddr(e.to_string()))?;
    if api.shared.status().is_member(id) {
        return Err(ApiError::AlreadyMember(id));
    }
    api.change_membership(
        ConfChangeType::ConfChangeAddNode,
        id,
        addr.as_str().as_bytes(),
    )
    .await
}

async fn remove_node(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    if !api.shared.status().is_member(id) {
        return Err(ApiError::NotMember(id));
    }
    api.change_membership(ConfChangeType::ConfChangeRemoveNode, id, b"")
        .await
}

async fn status(State(api): State<Api>) -> String {
    let applied = *api.shared.applied.borrow();
    let status = api.shared.status().to_string();
    let kv = api.shared.kv();
    format!(
        "{status}applied={applied}\nkeys={}\ndigest={:016x}\n",
        kv.len(),
        kv.digest()
    )
}

fn parse_id(s: &str) -> Result<u64, ApiError> {
    match s.parse::<u64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::BadId(s.to_owned())),
    }
}

fn shutting_down() -> ApiError {
    ApiError::Unavailable("the server is shutting down".into())
}

impl Api {
    // A 503 that says whether a leader is known, the usual cause.
    fn unavailable(&self, what: &str) -> ApiError {
        let leader = self.shared.status().leader;
        if leader == 0 {
            ApiError::Unavailable(format!("no leader within {:?}: {what}", self.timeout))
        } else {
            ApiError::Unavailable(format!("{what} (leader is node {leader})"))
        }
    }

    // Waits until this node has applied everything committed when the
    // read arrived, as confirmed by the leader (etcd's ReadIndex).
    async fn wait_linearizable(&self) -> Result<(), ApiError> {
        let deadline = Instant::now() + self.timeout;
        let index = loop {
            let id = self.shared.ids.next();
            let mut waiter = self.shared.reads.register(id, 0);
            let node = self.node.clone();
            let asked =
                tokio::task::spawn_blocking(move || node.read_index(id.to_le_bytes().to_vec()))
                    .await;
            if !matches!(asked, Ok(Ok(()))) {
                return Err(shutting_down());
            }
            let retry = (Instant::now() + self.read_retry).min(deadline);
            match timeout_at(retry, &mut waiter.rx).await {
                Ok(Ok(index)) => break index,
                Ok(Err(_)) => return Err(shutting_down()),
                Err(_) if Instant::now() >= deadline => {
                    return Err(self.unavailable("the read index did not come in time"))
                }
                Err(_) => {}
            }
        };
        let mut applied = self.shared.applied.subscribe();
        let caught_up = timeout_at(deadline, applied.wait_for(|a| *a >= index))
            .await
            .map(|r| r.map(|_| ()));
        match caught_up {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(shutting_down()),
            Err(_) => Err(self.unavailable("this node did not catch up in time")),
        }
    }

    // Proposes a conf change carrying the waiter's id and waits for it to
    // be applied here.
    async fn change_membership(
        &self,
        change: ConfChangeType,
        node_id: u64,
        context: &[u8],
    ) -> Result<StatusCode, ApiError> {
        let deadline = Instant::now() + self.timeout;
        let id = self.shared.ids.next();
        let leader = self.shared.status().leader;
        let mut waiter = self.shared.confs.register(id, leader);
        let cc = ConfChange {
            id,
            change_type: change as i32,
            node_id,
            context: bytes::Bytes::copy_from_slice(context),
        };
        let node = self.node.clone();
        let timeout = self.timeout;
        let proposed = tokio::task::spawn_blocking(move || {
            node.propose_conf_change_ctx(&Context::with_timeout(timeout), &cc)
        })
        .await;
        match proposed {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(self.unavailable(&format!("raft did not take the change: {e}")))
            }
            Err(_) => return Err(shutting_down()),
        }
        match timeout_at(deadline, &mut waiter.rx).await {
            Ok(Ok(Ok(()))) => Ok(StatusCode::NO_CONTENT),
            Ok(Ok(Err(e))) => Err(ApiError::Refused(e)),
            Ok(Err(_)) => Err(shutting_down()),
            Err(_) => Err(self.unavailable(
                "the change was not applied in time (another membership change may be pending; retry)",
            )),
        }
    }
}
