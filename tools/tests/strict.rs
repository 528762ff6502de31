//! `raft-testdata` as strict as a test runner should be: every mistake a
//! script or a command line can make is an error naming where it is, with
//! the exit status a CI script can rely on (1: a script failed, 2: nothing
//! could be run), and never something `--rewrite` would bake into a file.

use std::fs;
use std::path::{Path, PathBuf};

mod common;

use common::{last_line, run, run_env, scratch};

/// Writes `text` to `dir/<kind>/<name>` (the directory picks the handler).
fn script(dir: &Path, kind: &str, name: &str, text: &str) -> PathBuf {
    let d = dir.join(kind);
    fs::create_dir_all(&d).unwrap();
    let f = d.join(name);
    fs::write(&f, text).unwrap();
    f
}

/// Runs one file; asserts it fails with exactly `message` after its
/// `FAIL` line, and that `--rewrite` fails too and leaves it unchanged.
fn fails_with(f: &Path, message: &str) {
    let (code, out, _) = run(&[&f]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out,
        format!(
            "FAIL {}\n{}{message}\n0 passed, 1 failed\n",
            f.display(),
            f.display()
        )
    );
    let before = fs::read(f).unwrap();
    let (code, out, _) = run(&[&"--rewrite", &f]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(fs::read(f).unwrap(), before, "--rewrite changed {f:?}");
}

#[test]
fn unknown_commands_are_script_errors_in_every_handler() {
    let dir = scratch("unknown");
    // etcd's interaction handler would print `unknown command` as the
    // output; written here as the expected output, it must still fail.
    let i = script(
        &dir,
        "interaction",
        "typo.txt",
        "log-level none\n----\nok\n\nstabilise\n----\nunknown command\n",
    );
    fails_with(
        &i,
        ":5: unknown command \"stabilise\" (did you mean \"stabilize\"?)",
    );
    let far = script(&dir, "interaction", "far.txt", "frobnicate 1\n----\nok\n");
    let (_, out, _) = run(&[&far]);
    assert!(
        out.contains(&format!(
            "{}:1: unknown command \"frobnicate\" (expected one of: add-nodes, campaign,",
            far.display()
        )),
        "{out}"
    );
    let c = script(
        &dir,
        "confchange",
        "typo.txt",
        "simple\nv1\n----\nvoters=(1)\n1: StateProbe match=0 next=1\n\nleave-jiont\n----\nunknown command\n",
    );
    fails_with(
        &c,
        ":7: unknown command \"leave-jiont\" (did you mean \"leave-joint\"?)",
    );
    let q = script(
        &dir,
        "quorum",
        "typo.txt",
        "comitted cfg=(1) idx=(1)\n----\n1\n",
    );
    fails_with(
        &q,
        ":1: unknown command \"comitted\" (did you mean \"committed\"?)",
    );
    // An unknown argument or value of propose-conf-change, too.
    let arg = script(
        &dir,
        "interaction",
        "arg.txt",
        "log-level none\n----\nok\n\nadd-nodes 1 voters=(1) index=2\n----\nok\n\npropose-conf-change 1 colour=blue\nv2\n----\nunknown command colour\n",
    );
    fails_with(
        &arg,
        ":9: unknown argument \"colour\" (expected v1= or transition=)",
    );
    let val = script(
        &dir,
        "interaction",
        "val.txt",
        "log-level none\n----\nok\n\nadd-nodes 1 voters=(1) index=2\n----\nok\n\npropose-conf-change 1 transition=sideways\nv2\n----\nok\n",
    );
    fails_with(
        &val,
        ":9: unknown transition \"sideways\" (expected auto, implicit or explicit)",
    );
}

#[test]
fn input_under_a_directive_without_input_is_a_forgotten_separator() {
    let dir = scratch("input");
    // The `----` after `campaign 1` is missing: `stabilize` became its input.
    let i = script(
        &dir,
        "interaction",
        "missing_sep.txt",
        "log-level none\n----\nok\n\ncampaign 1\nstabilize\n----\nok\n",
    );
    fails_with(
        &i,
        ":5: \"campaign\" takes no input, but 1 line before its \"----\" would be its input \
         (first: \"stabilize\"); is a \"----\" missing after the directive?",
    );
    let q = script(
        &dir,
        "quorum",
        "missing_sep.txt",
        "committed cfg=(1) idx=(1)\nvote cfg=(1) votes=(y)\n----\n1\n",
    );
    fails_with(
        &q,
        ":1: \"committed\" takes no input, but 1 line before its \"----\" would be its input \
         (first: \"vote cfg=(1) votes=(y)\"); is a \"----\" missing after the directive?",
    );
    // Except confchange's leave-joint, which reads its input as etcd's
    // does: etcd prints a parse error or `this command takes no input` as
    // the output, and scripts etcd's Go wrote contain both.
    let c = script(
        &dir,
        "confchange",
        "leave.txt",
        "leave-joint\nv2\n----\nthis command takes no input\n\nleave-joint\nvx\n----\nstrconv.ParseUint: parsing \"x\": invalid syntax\n",
    );
    let (code, out, _) = run(&[&c]);
    assert_eq!(code, 0, "{out}");
    // The directives that do read input still do.
    let ok = script(
        &dir,
        "interaction",
        "input_ok.txt",
        "log-level none\n----\nok\n\nadd-nodes 1 voters=(1) index=2\n----\nok\n\npropose-conf-change 1\nv2\n----\nraft proposal dropped\n",
    );
    let (code, out, _) = run(&[&ok]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn transfer_to_a_node_that_does_not_exist_is_a_script_error() {
    let dir = scratch("transfer");
    let f = script(
        &dir,
        "interaction",
        "transfer.txt",
        "log-level none\n----\nok\n\nadd-nodes 3 voters=(1,2,3) index=2\n----\nok\n\n\
         transfer-leadership from=1 to=9\n----\nexpected valid \"to\" argument\n",
    );
    fails_with(
        &f,
        ":9: expected valid \"to\" argument: node 9 does not exist (nodes: 1..=3)",
    );
}

#[test]
fn nothing_to_run_is_exit_2() {
    let dir = scratch("empty");
    let (code, out, err) = run(&[&dir]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        err,
        format!(
            "raft-testdata: no script (.txt file) found in {}\n",
            dir.display()
        )
    );
    assert_eq!(out, "");
    // Files that are not .txt are not scripts, found or named.
    fs::write(dir.join("LICENSE"), "Apache License\n").unwrap();
    let (code, _, err) = run(&[&dir]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no script (.txt file) found"), "{err}");
    let (code, _, err) = run(&[&dir.join("LICENSE")]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err,
        format!(
            "raft-testdata: {}: not a script (scripts are .txt files)\n",
            dir.join("LICENSE").display()
        )
    );
}

#[test]
fn target_and_hidden_directories_are_skipped() {
    let dir = scratch("skip");
    let good = script(
        &dir,
        "quorum",
        "good.txt",
        "committed cfg=(1) idx=(4)\n----\n     idx\n>      4    (id=1)\n4\n",
    );
    // Broken scripts where only a careless walk would look.
    for sub in ["target/debug", ".git", "quorum/.hidden", "quorum/target"] {
        let d = dir.join(sub);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("broken.txt"), "bogus\n----\nx\n").unwrap();
    }
    let (code, out, _) = run(&[&dir]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        format!("PASS {}\n1 passed, 0 failed\n", good.display())
    );
    // Named explicitly, a directory is searched even if hidden.
    let (code, out, _) = run(&[&dir.join(".git")]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(last_line(&out), "0 passed, 1 failed");
}

/// A quorum file with two wrong outputs (lines 1 and 5).
const TWO_WRONG: &str =
    "committed cfg=(1) idx=(4)\n----\n5\n\ncommitted cfg=(1) idx=(7)\n----\n8\n";

#[test]
fn every_differing_stanza_is_named() {
    let dir = scratch("stanzas");
    let f = script(&dir, "quorum", "two.txt", TWO_WRONG);
    let (code, out, _) = run(&[&f]);
    assert_eq!(code, 1, "{out}");
    let p = f.display();
    assert!(
        out.starts_with(&format!(
            "FAIL {p}\n{p}:1: output differs from expected\n{p}:5: output differs from expected\n--- "
        )),
        "{out}"
    );
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let dir = scratch("color");
    let f = script(&dir, "quorum", "two.txt", TWO_WRONG);
    let coloured = |out: &str| out.contains("\x1b[");
    // Not a terminal: auto means no colour.
    let (_, out, _) = run(&[&f]);
    assert!(!coloured(&out), "{out}");
    let (_, out, _) = run(&[&"--color=always", &f]);
    assert!(coloured(&out), "{out}");
    assert!(out.contains("\x1b[31m-5\x1b[0m"), "{out}");
    // The explicit flag wins over NO_COLOR; never is never.
    let (_, out, _) = run_env(&[&"--color", &"always", &f], &[("NO_COLOR", "1")]);
    assert!(coloured(&out), "{out}");
    let (_, out, _) = run(&[&"--color=never", &f]);
    assert!(!coloured(&out), "{out}");
    let (code, _, err) = run(&[&"--color=sometimes", &f]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--color \"sometimes\": expected auto, always or never"),
        "{err}"
    );
}

#[test]
fn version_is_the_packages() {
    for flag in ["--version", "-V"] {
        let (code, out, _) = run(&[&flag]);
        assert_eq!(code, 0);
        assert_eq!(
            out,
            format!("raft-testdata {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn long_tokens_are_clipped_in_errors() {
    let dir = scratch("clip");
    let long = "1".repeat(100_000);
    let f = script(
        &dir,
        "interaction",
        "long.txt",
        &format!("campaign {long}\n----\nok\n"),
    );
    let (code, out, _) = run(&[&f]);
    assert_eq!(code, 1);
    let err_line = out.lines().nth(1).unwrap();
    assert_eq!(
        err_line,
        format!(
            "{}:1: strconv.Atoi: parsing \"{}[...99951 bytes...]{}\": value out of range \
             (expected an integer as the first argument)",
            f.display(),
            &long[..39],
            &long[..10]
        )
    );
    // A deeply nested argument: the parser's error quotes the line.
    let nested = format!("committed cfg=(1,{}\n----\nx\n", "(".repeat(100_000));
    let q = script(&dir, "quorum", "nested.txt", &nested);
    let (code, out, _) = run(&[&q]);
    assert_eq!(code, 1);
    let err_line = out.lines().nth(1).unwrap();
    assert!(
        err_line.len() < 300,
        "{} bytes: {}",
        err_line.len(),
        &err_line[..300]
    );
    assert!(err_line.contains("bytes...]"), "{err_line}");
}
