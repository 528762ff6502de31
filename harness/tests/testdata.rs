//! Runs every script under the workspace's `testdata/` (the handler chosen by
//! directory: `testdata/quorum`, `testdata/confchange`, `testdata/interaction`)
//! through the same code path as the `raft-testdata` tool. `REWRITE=1 cargo
//! test` writes the actual outputs into the files instead of failing.

use std::path::Path;

use raft_harness::datadriven::suite;

#[test]
fn testdata_scripts_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    // Until the first script lands there is nothing to check; every script
    // that exists is run.
    let files = if root.is_dir() {
        suite::collect_scripts(&root).unwrap()
    } else {
        Vec::new()
    };
    let rewrite = std::env::var_os("REWRITE").is_some_and(|v| !v.is_empty() && v != "0");
    let mut failures = String::new();
    for f in &files {
        let outcome = suite::run_file(f, None).unwrap();
        if rewrite && suite::rewrite_file(f, &outcome).unwrap() {
            eprintln!("rewrote {}", f.display());
            continue;
        }
        if !outcome.passed() {
            failures.push_str(&format!("FAIL {}\n{}", f.display(), outcome.diff(false)));
            if let Some(e) = &outcome.error {
                failures.push_str(&format!("{e}\n"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{failures}(REWRITE=1 cargo test -p raft-harness --test testdata rewrites the expectations)"
    );
}
