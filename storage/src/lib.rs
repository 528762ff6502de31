//! Durable storage for raft: a segmented write-ahead log (`Wal`), a
//! snapshotter, and a `Storage` that bundles both with a `MemStorage`
//! (etcd's `wal` and `snap` packages, and the start of raftexample's
//! `startRaft`).
