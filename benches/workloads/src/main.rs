//! Runs the workloads of `benches/WORKLOADS.md` against this repository's
//! raft and prints their result lines:
//!
//! ```sh
//! cargo run --release -p raft-workloads                    # every workload
//! cargo run --release -p raft-workloads -- replicate-3 idle-groups
//! WORKLOADS_N=20000 valgrind --tool=callgrind --toggle-collect='*replicate_timed*' \
//!     target/release/workloads replicate-3
//! ```
//!
//! `benches/compare` runs the same driver against tikv's raft-rs.

use raft_workloads::{ours::Ours, run, WORKLOADS};

fn main() {
    let names: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = if names.is_empty() {
        WORKLOADS.to_vec()
    } else {
        names.iter().map(String::as_str).collect()
    };
    for name in names {
        if let Err(e) = run::<Ours>(name) {
            eprintln!("workloads: {e}");
            std::process::exit(1);
        }
    }
}
