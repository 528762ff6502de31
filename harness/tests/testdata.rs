//! Runs every script under the workspace's `testdata/` (the handler chosen by
//! directory: `testdata/quorum`, `testdata/confchange`, `testdata/interaction`)
//! through the same code path as the `raft-testdata` tool. `REWRITE=1 cargo
//! test` writes the actual outputs into the files instead of failing.

use std::path::Path;

use raft_harness::datadriven::suite;

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

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits inside the workspace")
}
