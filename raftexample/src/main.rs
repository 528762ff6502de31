//! raftexample: a replicated key-value server (etcd's contrib/raftexample).

fn main() {}
