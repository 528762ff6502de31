//! `raft-testdata`: runs etcd-style raft scripts (datadriven files) through
//! our harness, shows a diff for each failing file and can rewrite the
//! expectations. See `raft-testdata --help`.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use raft_harness::datadriven::suite::{self, Kind};
use raft_harness::datadriven::FileOutcome;

const HELP: &str = "\
raft-testdata: run etcd-style raft scripts against this Rust port

USAGE:
    raft-testdata [--kind KIND] [--rewrite] [--color WHEN] [--] PATH...
    raft-testdata [--kind KIND] [--color WHEN] --ratchet LIST DIR
    raft-testdata sim [--seeds A..B] [--steps N] [--seed S] [--jobs J]
                                   (the cluster simulator; see `sim --help`)

Each PATH is a script (a .txt file) or a directory searched recursively for
*.txt files (run in sorted order), skipping target/ and hidden directories.
Every file runs with a fresh handler of its kind, one of:
    interaction   raft nodes driven by commands (etcd's rafttest)
    confchange    configuration changes (simple, enter-joint, leave-joint)
    quorum        commit index and vote outcome (committed, vote)
--kind sets it for all files; otherwise the nearest enclosing directory
named interaction, confchange or quorum decides (so both testdata/quorum/x.txt
and etcd's quorum/testdata/x.txt are quorum scripts), and interaction is the
default (etcd's top-level testdata/).

For each file it prints `PASS path` or `FAIL path`; a failing file is followed
by `path:line: output differs from expected` for every differing stanza and
a unified diff from the file as written to the file with the actual outputs,
or by `path:line: message` for a script error (malformed directive or
argument, unknown command, input lines under a command that takes none -
usually a forgotten `----` -, a file that is not UTF-8 text), which stops
that file. The last line is `N passed, M failed`.

OPTIONS:
    --kind KIND      run every file with the handler of KIND (also --kind=KIND)
    --rewrite        write the actual outputs into the files, keeping comments
                     and layout. Each changed file is reported as
                     `REWROTE path`, one `path:line: output changed` per
                     changed stanza and the diff, and counts as passed; a
                     line `N rewritten` comes before the totals. A file with
                     a script error is left alone and fails.
    --ratchet LIST   check exactly the files listed in LIST (paths relative to
                     DIR, one per line, # comments): each must pass, and a
                     listed file that does not exist fails. Files under DIR
                     that pass but are not listed are printed as
                     `UNLISTED path passes; add it to the ratchet list`.
    --color WHEN     colour the diffs: auto (the default: when standard output
                     is a terminal and NO_COLOR is unset or empty), always
                     or never (also --color=WHEN)
    --               what follows is a PATH even if it starts with -
    -h, --help       show this help
    -V, --version    show the version

EXIT STATUS:
    0  every file passed (or was rewritten)
    1  some file failed: a differing output, a script error or a missing
       ratchet file
    2  usage error, no script found, or a file or directory that cannot
       be read or written

EXAMPLES:
    raft-testdata testdata
    raft-testdata path/to/raft/testdata path/to/raft/quorum/testdata \\
        path/to/raft/confchange/testdata
    raft-testdata --rewrite testdata/quorum/joint_commit.txt
    raft-testdata --ratchet conformance/ratchet.txt ../shared/conformance/etcd-raft
";

struct Opts {
    kind: Option<Kind>,
    rewrite: bool,
    ratchet: Option<PathBuf>,
    color: Color,
    paths: Vec<PathBuf>,
}

/// `--color`: when the diffs get ANSI colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether to colour: `auto` follows the terminal and the value of
    /// NO_COLOR (no-color.org: set and not empty means no colour).
    fn enabled(self, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
        }
    }
}

/// What the command line asks for.
enum Action {
    Run(Opts),
    Help,
    Version,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Action, String> {
    let mut opts = Opts {
        kind: None,
        rewrite: false,
        ratchet: None,
        color: Color::Auto,
        paths: Vec::new(),
    };
    let mut args = args.peekable();
    let mut only_paths = false;
    while let Some(a) = args.next() {
        if only_paths || !a.starts_with('-') || a == "-" {
            opts.paths.push(PathBuf::from(a));
            continue;
        }
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Action::Help),
            "-V" | "--version" if inline.is_none() => return Ok(Action::Version),
            "--color" => {
                opts.color = match value("--color")?.as_str() {
                    "auto" => Color::Auto,
                    "always" => Color::Always,
                    "never" => Color::Never,
                    v => return Err(format!("--color {v:?}: expected auto, always or never")),
                }
            }
            "--" => only_paths = true,
            "--rewrite" if inline.is_none() => opts.rewrite = true,
            "--kind" => opts.kind = Some(value("--kind")?.parse()?),
            "--ratchet" => opts.ratchet = Some(PathBuf::from(value("--ratchet")?)),
            _ => return Err(format!("unknown option {a:?}")),
        }
    }
    if opts.paths.is_empty() {
        return Err("no PATH given".to_string());
    }
    if opts.ratchet.is_some() && (opts.paths.len() != 1 || opts.rewrite) {
        return Err("--ratchet takes exactly one DIR and no --rewrite".to_string());
    }
    Ok(Action::Run(opts))
}

fn main() -> ExitCode {
    // `raft-testdata sim ...`: the cluster simulator (raft_harness::sim).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("sim") {
        return raft_harness::sim::cli::main(&args[1..]);
    }
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(Action::Run(o)) => o,
        Ok(Action::Help) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Ok(Action::Version) => {
            println!("raft-testdata {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("raft-testdata: {e}\nTry `raft-testdata --help`.");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("raft-testdata: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs and reports; `Ok(all passed)`, `Err` for an I/O problem.
fn run(opts: &Opts) -> io::Result<bool> {
    let stdout = io::stdout();
    let color = opts.color.enabled(
        stdout.is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let mut out = stdout.lock();
    let (files, listed) = match &opts.ratchet {
        None => {
            let mut files = Vec::new();
            for p in &opts.paths {
                files.extend(suite::collect_scripts(p)?);
            }
            if files.is_empty() {
                // Passing nothing is not passing: a wrong path or a typo in
                // a CI script must not look green.
                let paths: Vec<String> =
                    opts.paths.iter().map(|p| p.display().to_string()).collect();
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no script (.txt file) found in {}", paths.join(", ")),
                ));
            }
            (files, None)
        }
        Some(list) => {
            let dir = &opts.paths[0];
            let listed = suite::read_ratchet(list)?;
            let files: Vec<PathBuf> = listed.iter().map(|rel| dir.join(rel)).collect();
            (files, Some(listed))
        }
    };
    let (mut passed, mut failed, mut rewritten) = (0usize, 0usize, 0usize);
    for f in &files {
        let outcome = match suite::run_file(f, opts.kind) {
            Ok(o) => o,
            Err(e) if listed.is_some() && e.kind() == io::ErrorKind::NotFound => {
                // A listed file that vanished is a ratchet failure, not a crash.
                writeln!(out, "FAIL {}\n{e}", f.display())?;
                failed += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        if opts.rewrite && outcome.error.is_none() && outcome.changed() {
            suite::rewrite_file(f, &outcome)?;
            writeln!(out, "REWROTE {}", f.display())?;
            report_changes(&mut out, &outcome, color)?;
            rewritten += 1;
            passed += 1;
            continue;
        }
        if outcome.passed() {
            writeln!(out, "PASS {}", f.display())?;
            passed += 1;
        } else {
            writeln!(out, "FAIL {}", f.display())?;
            report_failure(&mut out, &outcome, color)?;
            failed += 1;
        }
    }
    if let Some(listed) = &listed {
        // Which other files already pass and could be added to the list?
        let dir = &opts.paths[0];
        let mut unlisted = Vec::new();
        for f in suite::collect_scripts(dir)? {
            let rel = suite::relative_name(dir, &f);
            if listed.contains(&rel) {
                continue;
            }
            if suite::run_file(&f, opts.kind)?.passed() {
                unlisted.push(rel);
            }
        }
        for rel in &unlisted {
            writeln!(out, "UNLISTED {rel} passes; add it to the ratchet list")?;
        }
    }
    if rewritten > 0 {
        writeln!(out, "{rewritten} rewritten")?;
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    out.flush()?;
    Ok(failed == 0)
}

fn report_failure(out: &mut impl Write, o: &FileOutcome, color: bool) -> io::Result<()> {
    // Mismatches before an error are shown too: they came first.
    out.write_all(o.diff(color).as_bytes())?;
    if let Some(e) = &o.error {
        writeln!(out, "{e}")?;
    }
    Ok(())
}

fn report_changes(out: &mut impl Write, o: &FileOutcome, color: bool) -> io::Result<()> {
    for m in &o.mismatches {
        writeln!(out, "{}: output changed", m.pos)?;
    }
    out.write_all(o.diff(color).as_bytes())
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::Color;

    /// What the end-to-end tests cannot show without a terminal: `auto`
    /// colours a terminal unless NO_COLOR is set to something.
    #[test]
    fn auto_colour_follows_terminal_and_no_color() {
        assert!(Color::Auto.enabled(true, None));
        assert!(Color::Auto.enabled(true, Some(OsStr::new(""))));
        assert!(!Color::Auto.enabled(true, Some(OsStr::new("1"))));
        assert!(!Color::Auto.enabled(false, None));
        assert!(Color::Always.enabled(false, Some(OsStr::new("1"))));
        assert!(!Color::Never.enabled(true, None));
    }
}
