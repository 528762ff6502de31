//! Helpers shared by the harness's integration tests (each test file is its
//! own crate, so they live here rather than in one of them).

use std::path::Path;

use etcdraft_harness::datadriven::FileOutcome;

/// The workspace root: the parent of the harness crate's directory.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits inside the workspace")
}

/// Adds `label`'s failure report to `failures` if `outcome` did not pass:
/// the diff between expected and actual output, then the script error.
pub fn report_failure(failures: &mut String, label: &str, outcome: &FileOutcome) {
    if outcome.passed() {
        return;
    }
    failures.push_str(&format!("FAIL {label}\n{}", outcome.diff(false)));
    if let Some(e) = &outcome.error {
        failures.push_str(&format!("{e}\n"));
    }
}
