//! The conformance ratchets: every file listed in `conformance/ratchet.txt`
//! (etcd's golden files) and in `conformance/ratchet-etcd-go-generated.txt`
//! (scripts whose output etcd's Go tests wrote) must pass. The files are
//! external (never copied into the project); this test checks them where they
//! are present (`../shared/conformance/<dir>` from the workspace root, or
//! beside `$RAFT_CONFORMANCE_DIR`) and has nothing to check elsewhere.

mod common;

use common::{report_failure, workspace_root};
use etcdraft_harness::datadriven::suite;

/// Runs every file of the ratchet list `list` from the shared directory
/// `dir_name`.
fn check_ratchet(list: &str, dir_name: &str) {
    let list = workspace_root().join(list);
    let listed = suite::read_ratchet(&list).unwrap();
    assert!(!listed.is_empty(), "{} lists no files", list.display());
    let Some(dir) = suite::shared_conformance_dir(dir_name) else {
        eprintln!("no {dir_name} conformance directory; the ratchet is checked where it exists");
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

#[test]
fn ratchet_files_pass() {
    check_ratchet("conformance/ratchet.txt", "etcd-raft");
}

#[test]
fn etcd_go_generated_ratchet_files_pass() {
    check_ratchet(
        "conformance/ratchet-etcd-go-generated.txt",
        "etcd-go-generated",
    );
}
