//! Helpers shared by the `raft-testdata` end-to-end tests (each test file is
//! its own crate, so they live here).

#![allow(dead_code)] // each test crate uses its own subset

use std::ffi::OsStr;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The binary under test, as cargo built it.
pub const BIN: &str = env!("CARGO_BIN_EXE_raft-testdata");

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-testdata-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the tool with `args` (and `envs` added to its environment):
/// exit code, stdout, stderr. The tool must never panic.
pub fn run_env(args: &[&dyn AsRef<OsStr>], envs: &[(&str, &str)]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(BIN)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let out = String::from_utf8(stdout).unwrap();
    let err = String::from_utf8(stderr).unwrap();
    assert!(!err.contains("panicked"), "the tool panicked: {err}");
    (status.code().unwrap(), out, err)
}

/// [`run_env`] with the environment as it is.
pub fn run(args: &[&dyn AsRef<OsStr>]) -> (i32, String, String) {
    run_env(args, &[])
}

/// The last line of `s` (the tool's `N passed, M failed`).
pub fn last_line(s: &str) -> &str {
    s.lines().last().unwrap_or("")
}
