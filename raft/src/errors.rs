//! The errors of the raft core. Their `Display` texts are etcd's, word for
//! word, because callers (and golden files) match on them.

use std::fmt;

/// Everything the raft core reports as an error rather than a panic.
///
/// ```
/// use etcdraft::prelude::*;
///
/// let storage = MemStorage::new_with_conf_state(ConfState { voters: vec![1, 2, 3], ..Default::default() });
/// let mut node = RawNode::new(&Config::new(1), storage, &discard_logger())?;
/// // No leader yet: the proposal is dropped, and the application retries
/// // later. The texts are etcd's.
/// let err = node.propose(&b"x"[..]).unwrap_err();
/// assert_eq!(err, Error::ProposalDropped);
/// assert_eq!(err.to_string(), "raft proposal dropped");
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Storage: the requested index was compacted away (etcd `ErrCompacted`).
    Compacted,
    /// Storage: the snapshot is older than the one already held
    /// (etcd `ErrSnapOutOfDate`).
    SnapOutOfDate,
    /// Storage: the requested entry is not (yet) there (etcd `ErrUnavailable`).
    Unavailable,
    /// Storage: a snapshot cannot be produced right now; raft retries later
    /// (etcd `ErrSnapshotTemporarilyUnavailable`).
    SnapshotTemporarilyUnavailable,
    /// A proposal was dropped: no leader, a transfer in progress, a removed
    /// node, or a full uncommitted log (etcd `ErrProposalDropped`).
    ProposalDropped,
    /// `RawNode::step` was handed a local message (etcd `ErrStepLocalMsg`).
    StepLocalMsg,
    /// `RawNode::step` was handed a response from an unknown peer
    /// (etcd `ErrStepPeerNotFound`).
    StepPeerNotFound,
    /// The `Node` was stopped (etcd `ErrStopped`).
    Stopped,
    /// A blocking `Node` call was canceled through its context (Go's
    /// `context.Canceled`).
    Canceled,
    /// A blocking `Node` call ran past its context's deadline (Go's
    /// `context.DeadlineExceeded`).
    DeadlineExceeded,
    /// A `Config` failed validation; the text is etcd's.
    ConfigInvalid(String),
    /// A configuration change could not be applied; the text is etcd's.
    ConfChange(String),
    /// A message, entry or conf change could not be decoded.
    Decode(String),
    /// `RawNode::bootstrap` was given no peers or a non-empty storage; the
    /// text is etcd's.
    Bootstrap(String),
    /// A call to the application's storage failed in a way raft cannot go
    /// on from (raft panics on it, as etcd does); a `Node` reports it from
    /// every call once its thread stopped because of it.
    StorageFailed {
        /// The `Storage` method that failed, e.g. `entries`.
        call: &'static str,
        /// What it returned.
        error: Box<Error>,
    },
    /// A `Node`'s thread stopped because raft panicked (a broken invariant);
    /// the text is the panic's message. Every later call reports it.
    NodePanicked(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Compacted => f.write_str("requested index is unavailable due to compaction"),
            Error::SnapOutOfDate => {
                f.write_str("requested index is older than the existing snapshot")
            }
            Error::Unavailable => f.write_str("requested entry at index is unavailable"),
            Error::SnapshotTemporarilyUnavailable => {
                f.write_str("snapshot is temporarily unavailable")
            }
            Error::ProposalDropped => f.write_str("raft proposal dropped"),
            Error::StepLocalMsg => f.write_str("raft: cannot step raft local message"),
            Error::StepPeerNotFound => f.write_str("raft: cannot step as peer not found"),
            Error::Stopped => f.write_str("raft: stopped"),
            Error::Canceled => f.write_str("context canceled"),
            Error::DeadlineExceeded => f.write_str("context deadline exceeded"),
            Error::ConfigInvalid(s)
            | Error::ConfChange(s)
            | Error::Decode(s)
            | Error::Bootstrap(s) => f.write_str(s),
            Error::StorageFailed { call, error } => {
                write!(f, "raft: storage call {call} failed: {error}")
            }
            Error::NodePanicked(s) => write!(f, "raft: node thread panicked: {s}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<prost::DecodeError> for Error {
    fn from(e: prost::DecodeError) -> Error {
        Error::Decode(e.to_string())
    }
}

/// The result type of the raft core.
pub type Result<T> = std::result::Result<T, Error>;
