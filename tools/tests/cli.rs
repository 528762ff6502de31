//! The `raft-testdata` binary end to end, on small quorum scripts written
//! here (so they do not depend on the interaction environment), and on a
//! copy of etcd's quorum and confchange golden files where those exist.

use std::fs;
use std::path::{Path, PathBuf};

use raft_harness::datadriven::suite;

mod common;

use common::{last_line, run, scratch};

/// A quorum script whose outputs are filled in by `--rewrite` first.
const QUORUM_SCRIPT: &str = "\
# A comment that must survive rewriting.
committed cfg=(1,2,3) idx=(5,6,7)
----

vote cfg=(1,2,3) votes=(y,y,n)
----
";

/// Writes the script, fills in the outputs with `--rewrite` and returns its
/// path; the majority of (5,6,7) is 6 and two of three votes win.
fn filled_script(dir: &Path) -> PathBuf {
    let qdir = dir.join("quorum");
    fs::create_dir_all(&qdir).unwrap();
    let f = qdir.join("mine.txt");
    fs::write(&f, QUORUM_SCRIPT).unwrap();
    let (code, out, _) = run(&[&"--rewrite", &f]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("REWROTE {}", f.display())), "{out}");
    assert_eq!(last_line(&out), "1 passed, 0 failed");
    let text = fs::read_to_string(&f).unwrap();
    assert!(
        text.starts_with("# A comment that must survive rewriting.\n"),
        "{text}"
    );
    assert!(text.contains("\n6\n\nvote"), "{text}");
    assert!(text.ends_with("VoteWon\n"), "{text}");
    f
}

#[test]
fn pass_fail_diff_and_rewrite_restore() {
    let dir = scratch("pfr");
    let f = filled_script(&dir);
    let good = fs::read_to_string(&f).unwrap();
    let (code, out, _) = run(&[&dir]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, format!("PASS {}\n1 passed, 0 failed\n", f.display()));

    // One changed character of an expected output.
    let bad = good.replace("\n6\n", "\n7\n");
    assert_ne!(bad, good);
    fs::write(&f, &bad).unwrap();
    let (code, out, _) = run(&[&dir]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!(
            "FAIL {}\n{}:2: output differs",
            f.display(),
            f.display()
        )),
        "{out}"
    );
    assert!(out.contains("\n-7\n+6\n"), "{out}");
    assert!(out.contains("@@"), "{out}");
    assert!(
        !out.contains('\x1b'),
        "no colours when not a terminal: {out}"
    );
    assert_eq!(last_line(&out), "0 passed, 1 failed");

    let (code, out, _) = run(&[&"--rewrite", &dir]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("{}:2: output changed", f.display())),
        "{out}"
    );
    assert_eq!(fs::read_to_string(&f).unwrap(), good);
    // Nothing left to change: the file is left byte for byte.
    let (code, out, _) = run(&[&"--rewrite", &dir]);
    assert_eq!(code, 0);
    assert!(!out.contains("REWROTE"), "{out}");
    assert_eq!(fs::read_to_string(&f).unwrap(), good);
}

#[test]
fn script_errors_name_the_line() {
    let dir = scratch("err");
    let q = dir.join("quorum");
    fs::create_dir_all(&q).unwrap();
    let unknown = q.join("a_unknown.txt");
    fs::write(&unknown, "# c\n\nfrobnicate cfg=(1)\n----\nx\n").unwrap();
    let malformed = q.join("b_malformed.txt");
    fs::write(&malformed, "committed cfg=(1,2 idx=(1,2)\n----\n1\n").unwrap();
    let bad_value = q.join("c_bad_value.txt");
    fs::write(&bad_value, "committed cfg=(1,x) idx=(1,2)\n----\n1\n").unwrap();
    let (code, out, _) = run(&[&dir]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "FAIL {}\n{}:3: unknown command",
            unknown.display(),
            unknown.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{}:1: cannot parse directive at column 15: expected ')'",
            malformed.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "FAIL {}\n{}:1: ",
            bad_value.display(),
            bad_value.display()
        )),
        "{out}"
    );
    assert_eq!(last_line(&out), "0 passed, 3 failed");
    // --rewrite leaves files with script errors alone.
    let before = fs::read_to_string(&unknown).unwrap();
    let (code, _, _) = run(&[&"--rewrite", &unknown]);
    assert_eq!(code, 1);
    assert_eq!(fs::read_to_string(&unknown).unwrap(), before);
}

#[test]
fn usage_errors_exit_2() {
    let (code, out, _) = run(&[&"--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("USAGE") && out.contains("--rewrite") && out.contains("EXAMPLES"),
        "{out}"
    );
    assert_eq!(run(&[]).0, 2);
    assert_eq!(run(&[&"--bogus", &"x"]).0, 2);
    assert_eq!(run(&[&"--kind", &"nope", &"x"]).0, 2);
    let dir = scratch("usage");
    let (code, _, err) = run(&[&dir.join("missing")]);
    assert_eq!(code, 2);
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn kind_flag_overrides_the_directory() {
    let dir = scratch("kind");
    let f = filled_script(&dir);
    let other = dir.join("elsewhere.txt");
    fs::copy(&f, &other).unwrap();
    // Outside a quorum directory the interaction handler would run it.
    let (code, out, _) = run(&[&"--kind", &"quorum", &other]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&[&"--kind=quorum", &other]);
    assert_eq!(code, 0, "{out}");
    // etcd's layout: quorum/testdata/ holds quorum scripts, the top-level
    // testdata/ interaction scripts (which know no `committed`).
    let etcd = dir.join("raft");
    fs::create_dir_all(etcd.join("quorum/testdata")).unwrap();
    fs::create_dir_all(etcd.join("testdata")).unwrap();
    fs::copy(&f, etcd.join("quorum/testdata/x.txt")).unwrap();
    fs::copy(&f, etcd.join("testdata/x.txt")).unwrap();
    let (code, out, _) = run(&[&etcd.join("quorum/testdata")]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&[&etcd]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "PASS {}",
            etcd.join("quorum/testdata/x.txt").display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("FAIL {}", etcd.join("testdata/x.txt").display())),
        "{out}"
    );
    assert_eq!(last_line(&out), "1 passed, 1 failed");
}

#[test]
fn ratchet_checks_listed_files_and_names_new_ones() {
    let dir = scratch("ratchet");
    let f = filled_script(&dir);
    fs::copy(&f, dir.join("quorum/other.txt")).unwrap();
    let list = dir.join("ratchet.txt");
    fs::write(&list, "# header\nquorum/mine.txt\n").unwrap();
    let (code, out, _) = run(&[&"--ratchet", &list, &dir]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("UNLISTED quorum/other.txt"), "{out}");
    assert!(!out.contains("UNLISTED quorum/mine.txt"), "{out}");
    assert_eq!(last_line(&out), "1 passed, 0 failed");
    // A listed file that fails (or is missing) fails the ratchet.
    fs::write(&list, "quorum/mine.txt\nquorum/gone.txt\n").unwrap();
    let (code, out, _) = run(&[&"--ratchet", &list, &dir]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(last_line(&out), "1 passed, 1 failed");
}

/// The acceptance run on a copy of etcd's quorum and confchange golden
/// files. They are external (never copied into the project), so this runs
/// only where the shared conformance directory exists and checks nothing
/// elsewhere.
#[test]
fn etcd_quorum_and_confchange_copy() {
    let Some(src) = suite::conformance_dir() else {
        return;
    };
    let dir = scratch("etcd");
    for kind in ["quorum", "confchange"] {
        fs::create_dir_all(dir.join(kind)).unwrap();
        for f in suite::collect_scripts(&src.join(kind)).unwrap() {
            fs::copy(&f, dir.join(kind).join(f.file_name().unwrap())).unwrap();
        }
    }
    let q = dir.join("quorum");
    let (code, out, _) = run(&[&q, &c_dir(&dir)]);
    assert_eq!(last_line(&out), "13 passed, 0 failed", "{out}");
    assert_eq!(code, 0);

    let f = dir.join("quorum/joint_commit.txt");
    let good = fs::read_to_string(&f).unwrap();
    // Change one character of the first expected output.
    let sep = good.find("\n----\n").unwrap() + 6;
    let nl = sep + good[sep..].find('\n').unwrap();
    let mut bad = good.clone();
    let c = if &good[nl - 1..nl] == "1" { "2" } else { "1" };
    bad.replace_range(nl - 1..nl, c);
    fs::write(&f, &bad).unwrap();
    let (code, out, _) = run(&[&q, &c_dir(&dir)]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("FAIL {}", f.display())), "{out}");
    assert!(
        out.contains("output differs") && out.contains("@@"),
        "{out}"
    );
    assert_eq!(last_line(&out), "12 passed, 1 failed");
    let (code, _, _) = run(&[&"--rewrite", &q]);
    assert_eq!(code, 0);
    assert_eq!(fs::read_to_string(&f).unwrap(), good);
}

fn c_dir(dir: &Path) -> PathBuf {
    dir.join("confchange")
}

/// Files that are not text, end inside a block, use CRLF or hold script
/// mistakes in the interaction environment: `path:line:` errors and exit
/// 1, never a panic; a file that cannot be read is exit 2.
#[test]
fn hostile_files_are_script_errors() {
    let dir = scratch("hostile");
    let i = dir.join("interaction");
    fs::create_dir_all(&i).unwrap();
    let binary = i.join("a_binary.txt");
    fs::write(
        &binary,
        b"raft-state\n----\nok\n\ncampaign \xff\xfe 1\n----\n",
    )
    .unwrap();
    let bad_arg = i.join("b_bad_arg.txt");
    fs::write(
        &bad_arg,
        "log-level none\n----\nok\n\nadd-nodes 1 voters=(1) index=2\n----\nok\n\ncampaign x\n----\nok\n",
    )
    .unwrap();
    let huge_index = i.join("c_huge_index.txt");
    fs::write(
        &huge_index,
        "add-nodes 1 voters=(1) index=18446744073709551615\n----\nok\n",
    )
    .unwrap();
    let crlf = i.join("d_crlf.txt");
    fs::write(&crlf, "raft-state\r\n----\r\nok\r\n").unwrap();
    let open_block = i.join("e_open_block.txt");
    fs::write(&open_block, "raft-state\n----\n----\nok\n").unwrap();
    let (code, out, _) = run(&[&dir]);
    assert_eq!(code, 1, "{out}");
    let has = |f: &Path, rest: &str| {
        assert!(
            out.contains(&format!("FAIL {}\n{}{rest}", f.display(), f.display())),
            "{f:?} {rest}\n{out}"
        )
    };
    has(
        &binary,
        ":5: the file is not UTF-8 text (invalid byte 0xff at offset 29)",
    );
    has(&bad_arg, ":9: strconv.Atoi: parsing \"x\": invalid syntax");
    has(
        &huge_index,
        ":1: index: 18446744073709551615 is too large (at most 4611686018427387904)",
    );
    assert!(out.contains(&format!("PASS {}", crlf.display())), "{out}");
    assert!(
        out.contains(&format!("PASS {}", open_block.display())),
        "{out}"
    );
    assert_eq!(last_line(&out), "2 passed, 3 failed");
    // --rewrite leaves a file that is not text alone.
    let (code, _, _) = run(&[&"--rewrite", &binary]);
    assert_eq!(code, 1);
    assert_eq!(
        fs::read(&binary).unwrap(),
        b"raft-state\n----\nok\n\ncampaign \xff\xfe 1\n----\n"
    );
    // A file that does not exist cannot be read: exit 2.
    let (code, _, err) = run(&[&"--kind", &"interaction", &dir.join("nope.txt")]);
    assert_eq!(code, 2, "{err}");
}
