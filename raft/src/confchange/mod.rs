//! Validated configuration changes (etcd `confchange`).
//!
//! A [`Changer`] computes the configuration and progress map that result
//! from a batch of [`ConfChangeSingle`](crate::eraftpb::ConfChangeSingle)s,
//! either as a simple change (at most one voter differs) or by entering or
//! leaving a joint configuration. Nothing is applied to the tracker: the
//! caller switches to the returned pair only when there was no error, so an
//! invalid change never affects the active configuration.
//!
//! `restore` rebuilds a configuration from a
//! [`ConfState`](crate::eraftpb::ConfState) by replaying it as such changes.

mod changer;
mod restore;

pub use changer::{describe, Changer};
pub use restore::restore;
