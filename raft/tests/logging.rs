//! `default_logger` as a user meets it: a real process whose standard error
//! carries etcd-style lines at the level named by `ETCDRAFT_LOG`.
//!
//! The test re-runs its own test binary as the child (selected by an
//! environment variable), so what is checked is what the process printed.

use std::process::Command;

use etcdraft::logging::LOG_LEVEL_ENV;

const CHILD: &str = "ETCDRAFT_LOGGING_TEST_CHILD";

/// In the child: one line per level, through the logger users get.
fn log_one_line_per_level() {
    let logger = etcdraft::default_logger();
    etcdraft::slog::debug!(logger, "{:x} [term: {}] sent a debug line", 1, 2);
    etcdraft::slog::info!(logger, "{:x} became leader at term {}", 1, 2);
    etcdraft::slog::warn!(logger, "a warning"; "peer" => 3);
}

/// The child's standard error with `ETCDRAFT_LOG` set to `level`.
fn stderr_of_child(level: Option<&str>) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "default_logger_follows_the_environment",
        "--nocapture",
    ])
    .env(CHILD, "1");
    match level {
        Some(l) => cmd.env(LOG_LEVEL_ENV, l),
        None => cmd.env_remove(LOG_LEVEL_ENV),
    };
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "child failed: {out:?}");
    String::from_utf8(out.stderr).unwrap()
}

/// The lines of `stderr` written by raft's logger, without their timestamp
/// (`raft2026/12/02 15:04:05 `), which is checked for shape instead.
fn raft_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("raft"))
        .map(|l| {
            let (stamp, rest) = l.split_at(19);
            let shape: String = stamp
                .chars()
                .map(|c| if c.is_ascii_digit() { '9' } else { c })
                .collect();
            assert_eq!(shape, "9999/99/99 99:99:99", "timestamp of {l:?}");
            rest.trim_start().to_owned()
        })
        .collect()
}

#[test]
fn default_logger_follows_the_environment() {
    if std::env::var_os(CHILD).is_some() {
        log_one_line_per_level();
        return;
    }
    let info = ["INFO: 1 became leader at term 2", "WARN: a warning peer=3"];
    assert_eq!(raft_lines(&stderr_of_child(None)), info);
    assert_eq!(raft_lines(&stderr_of_child(Some("info"))), info);
    assert_eq!(
        raft_lines(&stderr_of_child(Some("DEBUG"))),
        [
            "DEBUG: 1 [term: 2] sent a debug line",
            "INFO: 1 became leader at term 2",
            "WARN: a warning peer=3"
        ]
    );
    assert_eq!(
        raft_lines(&stderr_of_child(Some("warn"))),
        ["WARN: a warning peer=3"]
    );
    assert_eq!(
        raft_lines(&stderr_of_child(Some("off"))),
        Vec::<String>::new()
    );
    // A typo is reported, not obeyed silently, and the level stays info.
    let typo = raft_lines(&stderr_of_child(Some("verbose")));
    assert_eq!(typo.len(), 3, "{typo:?}");
    assert!(
        typo[0].starts_with(
            "WARN: ETCDRAFT_LOG=unknown log level \"verbose\": expected one of trace,"
        ),
        "{typo:?}"
    );
    assert_eq!(typo[1..], info);
}
