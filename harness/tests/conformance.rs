//! The conformance ratchet: every etcd golden file listed in
//! `conformance/ratchet.txt` must pass. The golden files are external (never
//! copied into the project); this test checks them where they are present
//! (`../shared/conformance/etcd-raft` from the workspace root, or
//! `$RAFT_CONFORMANCE_DIR`) and has nothing to check elsewhere.

mod common;

use common::{report_failure, workspace_root};
use raft_harness::datadriven::suite;

#[test]
fn ratchet_files_pass() {
    let list = workspace_root().join("conformance/ratchet.txt");
    let listed = suite::read_ratchet(&list).unwrap();
    assert!(!listed.is_empty(), "{} lists no files", list.display());
    let Some(dir) = suite::conformance_dir() else {
        eprintln!("no etcd conformance directory; the ratchet is checked where it exists");
        return;
    };
    let mut failures = String::new();
    for rel in &listed {
        let f = dir.join(rel);
        let outcome = match suite::run_file(&f, None) {
            Ok(o) => o,
            Err(e) => {
                failures.push_str(&format!("FAIL {rel}\n{e}\n"));
                continue;
            }
        };
        report_failure(&mut failures, rel, &outcome);
    }
    assert!(failures.is_empty(), "ratchet files fail:\n{failures}");
}
