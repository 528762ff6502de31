//! The wire types of etcd's `raft.proto`, as prost messages, and the helpers
//! etcd keeps beside them (conf-change conversions and string forms, conf
//! state equivalence).

#![deny(missing_docs)]

mod confchange;
mod confstate;
mod message_wire;
pub mod quote;
pub mod strconv;
mod types;

pub use confchange::*;
pub use confstate::*;
pub use types::*;

/// Re-exported so that users encode and decode with the same prost version.
pub use prost;
