//! Runs every script under the workspace's `testdata/` (the handler chosen by
//! directory: `testdata/quorum`, `testdata/confchange`, `testdata/interaction`)
//! through the same code path as the `raft-testdata` tool. `REWRITE=1 cargo
//! test` writes the actual outputs into the files instead of failing.
//!
//! `RUN=<pattern>` limits both to the scripts whose path below `testdata/`
//! contains the pattern, or matches it as a glob (`*`, `?`):
//!
//! ```sh
//! RUN=quorum/joint_commit.txt cargo test -p etcdraft-harness --test testdata
//! RUN='interaction/*snapshot*' REWRITE=1 cargo test -p etcdraft-harness --test testdata
//! ```

mod common;

use common::{report_failure, workspace_root};
use etcdraft_harness::datadriven::suite;

#[test]
fn testdata_scripts_pass() {
    let root = workspace_root().join("testdata");
    let mut files = suite::collect_scripts(&root).unwrap();
    assert!(!files.is_empty(), "no scripts under {}", root.display());
    let pattern = std::env::var("RUN").ok().filter(|p| !p.is_empty());
    if let Some(pattern) = &pattern {
        files.retain(|f| suite::matches_pattern(&suite::relative_name(&root, f), pattern));
        // A pattern that selects nothing would pass without testing anything.
        assert!(
            !files.is_empty(),
            "RUN={pattern:?} matches no script under {}",
            root.display()
        );
        eprintln!("RUN={pattern:?}: {} script(s)", files.len());
    }
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

/// `RUN` selects the scripts the test above runs (and rewrites): checked on
/// a child run of this very test binary, as a developer would call it.
#[test]
fn run_pattern_limits_the_scripts() {
    let child = |pattern: &str| {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "testdata_scripts_pass", "--nocapture"])
            .env("RUN", pattern)
            .env_remove("REWRITE")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = child("quorum/joint_commit.txt");
    assert!(ok, "{err}");
    assert!(
        err.contains("RUN=\"quorum/joint_commit.txt\": 1 script(s)"),
        "{err}"
    );
    let (ok, err) = child("quorum/*.txt");
    assert!(ok, "{err}");
    let n = suite::collect_scripts(&workspace_root().join("testdata/quorum"))
        .unwrap()
        .len();
    assert!(
        err.contains(&format!("RUN=\"quorum/*.txt\": {n} script(s)")),
        "{err}"
    );
    let (ok, err) = child("no-such-script");
    assert!(!ok);
    assert!(
        err.contains("RUN=\"no-such-script\" matches no script under"),
        "{err}"
    );
}
