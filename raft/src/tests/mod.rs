//! The port of etcd's Go unit tests, one file per Go file: each Go
//! `TestFooBar` is `test_foo_bar` here (heck's snake case of the name
//! without `Test`), on the same scenario with the same assertions.
//!
//! [`support`] holds the shared helpers (etcd's test network, raft and
//! storage constructors, entry and message builders); test files use it and
//! never define their own copies.
//!
//! # Go tests that do not apply
//!
//! Each Go test of `raft_test.go`, `raft_paper_test.go`, `raft_snap_test.go`,
//! `raft_flow_control_test.go`, `rawnode_test.go` and `tracker/*_test.go`
//! has a Rust counterpart, except the ones listed here with the reason.
//!
//! (none yet)

mod support;

mod inflights_test;
mod progress_test;
mod raft_flow_control_test;
mod raft_paper_test;
mod raft_snap_test;
mod raft_test;

mod confchange_quick_test;
mod confchange_restore_test;
mod log_test;
mod log_unstable_test;
mod quorum_majority_test;
mod quorum_quick_test;
mod storage_test;
mod types_test;
mod util_test;
