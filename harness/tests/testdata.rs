//! Runs every script under the workspace's `testdata/` (the handler chosen by
//! directory: `testdata/quorum`, `testdata/confchange`, `testdata/interaction`)
//! through the same code path as the `raft-testdata` tool. `REWRITE=1 cargo
//! test` writes the actual outputs into the files instead of failing.

mod common;

use common::{report_failure, workspace_root};
use etcdraft_harness::datadriven::suite;

#[test]
fn testdata_scripts_pass() {
    let root = workspace_root().join("testdata");
    let files = suite::collect_scripts(&root).unwrap();
    assert!(!files.is_empty(), "no scripts under {}", root.display());
    let rewrite = std::env::var_os("REWRITE").is_some_and(|v| !v.is_empty() && v != "0");
    let mut failures = String::new();
    for f in &files {
        let outcome = suite::run_file(f, None).unwrap();
        if rewrite && suite::rewrite_file(f, &outcome).unwrap() {
            eprintln!("rewrote {}", f.display());
            continue;
        }
        report_failure(&mut failures, &f.display().to_string(), &outcome);
    }
    assert!(
        failures.is_empty(),
        "{failures}(REWRITE=1 cargo test -p etcdraft-harness --test testdata rewrites the expectations)"
    );
}
