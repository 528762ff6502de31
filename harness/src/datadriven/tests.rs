use super::parse::has_blank_line;
use super::*;

fn arg(key: &str, vals: &[&str]) -> CmdArg {
    CmdArg {
        key: key.to_string(),
        vals: vals.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn parse_line_forms() {
    let (cmd, args) =
        parse_line("add-nodes 3 voters=(1,2, 3) learners=() index=2 content=").unwrap();
    assert_eq!(cmd, "add-nodes");
    assert_eq!(
        args,
        vec![
            arg("3", &[]),
            arg("voters", &["1", "2", "3"]),
            arg("learners", &[""]),
            arg("index", &["2"]),
            arg("content", &[""]),
        ]
    );
    // Quotes are ordinary characters, as in Go.
    let (cmd, args) = parse_line("  propose 1 \"foo\"  ").unwrap();
    assert_eq!(cmd, "propose");
    assert_eq!(args, vec![arg("1", &[]), arg("\"foo\"", &[])]);
    // Order is kept and keys may repeat.
    let (_, args) = parse_line("x b=1 a a=2 b=3 z").unwrap();
    let keys: Vec<_> = args.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["b", "a", "a", "b", "z"]);
    assert_eq!(args[3].vals, ["3"]);
    // Nested parentheses stay inside one value.
    let (_, args) = parse_line("cmd exprs=(a + (b + c), d + f) y").unwrap();
    assert_eq!(
        args,
        vec![arg("exprs", &["a + (b + c)", "d + f"]), arg("y", &[])]
    );
    assert_eq!(parse_line("   ").unwrap(), (String::new(), vec![]));
}

#[test]
fn parse_line_errors_name_the_column() {
    let e = parse_line("add-nodes 3 voters=(1,2").unwrap_err();
    assert!(e.contains("column 20"), "{e}");
    assert!(e.contains("expected ')'"), "{e}");
    let e = parse_line("cmd =5").unwrap_err();
    assert!(e.contains("column 5"), "{e}");
    assert!(e.contains("argument name"), "{e}");
}

#[test]
fn cmd_arg_display_matches_go() {
    assert_eq!(arg("a", &[]).to_string(), "a");
    assert_eq!(arg("a", &["1"]).to_string(), "a=1");
    assert_eq!(arg("a", &["1", "2"]).to_string(), "a=(1, 2)");
}

#[test]
fn blank_line_rule_is_gos() {
    assert!(!has_blank_line(""));
    assert!(!has_blank_line("a\nb\n"));
    assert!(has_blank_line("a\n\nb\n"));
    assert!(has_blank_line("a\n \t\nb\n"));
    assert!(has_blank_line("\n"));
    // A final line without newline does not count, as in Go's regexp.
    assert!(!has_blank_line("a\n  "));
}

const SCRIPT: &str = "# comment\n\
\n\
cmd a=1 \\\n  b=(2,3)\n\
some input\n\
\n\
more input\n\
----\n\
out1\n\
out2\n\
\n\
# between\n\
other\n\
----\n\
----\n\
x\n\
\n\
y\n\
----\n\
----\n\
\n\
empty\n\
----\n\
\n\
last\n\
----\n\
done\n";

#[test]
fn script_parses_stanzas() {
    let s = Script::parse("t.txt", SCRIPT).unwrap();
    let st: Vec<_> = s.stanzas().cloned().collect();
    assert_eq!(st.len(), 4);
    assert_eq!(st[0].pos, "t.txt:3");
    assert_eq!(st[0].cmd, "cmd");
    assert_eq!(
        st[0].cmd_args,
        vec![arg("a", &["1"]), arg("b", &["2", "3"])]
    );
    assert_eq!(st[0].input, "some input\n\nmore input");
    assert_eq!(st[0].expected, "out1\nout2\n");
    assert_eq!(st[1].pos, "t.txt:13");
    assert_eq!(st[1].expected, "x\n\ny\n");
    assert_eq!(st[2].expected, "");
    assert_eq!(st[3].expected, "done\n");
    assert_eq!(s.render_canonical(), SCRIPT);
    assert_eq!(s.render(&[None, None, None, None]), SCRIPT);
}

#[test]
fn render_replaces_only_outputs() {
    let s = Script::parse("t.txt", SCRIPT).unwrap();
    let got = s.render(&[
        Some("new".to_string()),
        Some("single\n".to_string()),
        Some("a\n\nb\n".to_string()),
        Some("end\n\n".to_string()),
    ]);
    let want = SCRIPT
        .replace("out1\nout2\n", "new\n")
        .replace("----\n----\nx\n\ny\n----\n----\n", "----\nsingle\n")
        .replace(
            "empty\n----\n\n",
            "empty\n----\n----\na\n\nb\n----\n----\n\n",
        )
        .replace("done\n", "----\nend\n\n----\n----\n");
    assert_eq!(got, want);
}

#[test]
fn render_adds_a_missing_separator() {
    let src = "cmd\ninput";
    let s = Script::parse("t.txt", src).unwrap();
    assert_eq!(s.render_canonical(), "cmd\ninput\n----\n");
    assert_eq!(s.render(&[Some("ok".into())]), "cmd\ninput\n----\nok\n");
}

#[test]
fn non_blank_after_double_separator_is_an_error() {
    let e = Script::parse("t.txt", "cmd\n----\n----\na\n\n----\n----\nnope\n").unwrap_err();
    assert!(e.0.starts_with("t.txt:8: "), "{e}");
}

#[test]
fn malformed_directive_is_located() {
    let e = Script::parse("t.txt", "ok\n----\n\ncmd x=(1\n----\n").unwrap_err();
    assert!(
        e.0.starts_with("t.txt:4: cannot parse directive at column 7"),
        "{e}"
    );
}

struct Echo;

impl Handler for Echo {
    fn handle(&mut self, d: &TestData) -> Result<String, ScriptError> {
        match d.cmd.as_str() {
            "echo" => Ok(d
                .cmd_args
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join("\n")),
            "sum" => {
                let vals: Vec<u64> = d.scan_vals("v")?;
                Ok(vals.iter().sum::<u64>().to_string())
            }
            "boom" => panic!("boom"),
            _ => Err(ScriptError(format!("unknown command {:?}", d.cmd))),
        }
    }
}

#[test]
fn run_compares_and_rewrites() {
    let src = "echo a b=1\n----\na\nb=1\n\nsum v=(1,2)\n----\n4\n\n# tail\n";
    let out = run_script("t.txt", src, &mut Echo);
    assert!(out.error.is_none());
    assert_eq!(out.mismatches.len(), 1);
    assert_eq!(out.mismatches[0].pos, "t.txt:6");
    assert_eq!(out.mismatches[0].actual, "3\n");
    assert_eq!(out.rewritten, src.replace("4\n", "3\n"));
    let diff = out.diff(false);
    assert!(diff.starts_with("t.txt:6: output differs"), "{diff}");
    assert!(diff.contains("-4\n+3\n"), "{diff}");
    // Running the rewritten file passes and leaves it alone.
    let again = run_script("t.txt", &out.rewritten, &mut Echo);
    assert!(again.passed());
    assert_eq!(again.rewritten, out.rewritten);
}

#[test]
fn run_stops_at_script_errors_and_panics() {
    let out = run_script("t.txt", "echo\n----\n\nnope 1\n----\nx\n", &mut Echo);
    assert_eq!(out.error.unwrap().0, "t.txt:4: unknown command \"nope\"");
    let out = run_script("t.txt", "sum v=(1,x)\n----\n", &mut Echo);
    let e = out.error.unwrap().0;
    assert!(
        e.starts_with("t.txt:1: v: failed to scan value 1 \"x\""),
        "{e}"
    );
    let out = run_script("t.txt", "boom\n----\n", &mut Echo);
    let e = out.error.unwrap().0;
    assert!(e.starts_with("t.txt:1: handler panicked"), "{e}");
}

#[test]
fn test_data_helpers() {
    let (cmd, cmd_args) = parse_line("x 7 a=1 b=(2,3) flag").unwrap();
    let d = TestData {
        pos: "p:1".into(),
        cmd,
        cmd_args,
        input: String::new(),
        expected: String::new(),
    };
    assert_eq!(d.scan_pos::<u64>(0).unwrap(), 7);
    assert!(d.scan_pos::<u64>(1).is_err());
    assert_eq!(d.scan_arg::<u64>("a").unwrap(), 1);
    assert_eq!(d.scan_arg::<u64>("b").unwrap(), 2);
    assert_eq!(d.scan_vals::<u64>("b").unwrap(), vec![2, 3]);
    assert_eq!(d.maybe_scan_arg::<u64>("zz").unwrap(), None);
    assert!(d
        .scan_arg::<u64>("zz")
        .unwrap_err()
        .0
        .contains("missing argument: zz"));
    assert!(d.scan_arg::<u64>("flag").is_err());
    assert!(d.has_arg("flag"));
}

#[test]
fn booleans_take_gos_spellings() {
    let (cmd, cmd_args) = parse_line("x a=true b=F c=1 d=yes e").unwrap();
    let d = TestData {
        pos: "p:1".into(),
        cmd,
        cmd_args,
        input: String::new(),
        expected: String::new(),
    };
    assert_eq!(d.maybe_scan_bool("a").unwrap(), Some(true));
    assert_eq!(d.maybe_scan_bool("b").unwrap(), Some(false));
    assert_eq!(d.maybe_scan_bool("c").unwrap(), Some(true));
    assert_eq!(d.maybe_scan_bool("zz").unwrap(), None);
    assert!(d
        .maybe_scan_bool("d")
        .unwrap_err()
        .0
        .starts_with("p:1: d: invalid boolean"));
    assert!(d.maybe_scan_bool("e").is_err());
}

#[test]
fn diff_is_coloured_only_on_request() {
    let out = run_script("t.txt", "echo a\n----\nb\n", &mut Echo);
    let plain = out.diff(false);
    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(plain.contains("-b\n+a\n"), "{plain}");
    let coloured = out.diff(true);
    assert!(
        coloured.contains("\x1b[31m-b\x1b[0m\n\x1b[32m+a\x1b[0m\n"),
        "{coloured}"
    );
    assert!(
        coloured.starts_with("t.txt:1: output differs"),
        "{coloured}"
    );
}

/// Every etcd golden file must parse and re-emit byte for byte. These files
/// are external (never copied into the project), so this test only runs
/// where the shared conformance directory exists next to the workspace; where
/// it does not, it passes without checking anything (see
/// [`suite::conformance_dir`]).
#[test]
fn etcd_golden_files_round_trip() {
    let Some(dir) = suite::conformance_dir() else {
        return;
    };
    let files = suite::collect_scripts(&dir).unwrap();
    assert!(
        files.len() >= 41,
        "only {} files under {}",
        files.len(),
        dir.display()
    );
    let mut stanzas = 0;
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let s = Script::parse(&f.display().to_string(), &src).unwrap_or_else(|e| panic!("{e}"));
        stanzas += s.stanzas().len();
        assert_eq!(s.render_canonical(), src, "{}", f.display());
    }
    assert!(stanzas > 500, "{stanzas}");
}

#[test]
fn kind_is_inferred_from_the_nearest_named_directory() {
    use std::path::Path;
    use suite::Kind;
    assert_eq!(
        Kind::infer(Path::new("/x/testdata/quorum/a.txt")),
        Kind::Quorum
    );
    assert_eq!(
        Kind::infer(Path::new("/x/testdata/confchange/a.txt")),
        Kind::Confchange
    );
    assert_eq!(
        Kind::infer(Path::new("/x/testdata/interaction/a.txt")),
        Kind::Interaction
    );
    // etcd's layout.
    assert_eq!(
        Kind::infer(Path::new("/raft/quorum/testdata/a.txt")),
        Kind::Quorum
    );
    assert_eq!(
        Kind::infer(Path::new("/raft/confchange/testdata/a.txt")),
        Kind::Confchange
    );
    assert_eq!(
        Kind::infer(Path::new("/raft/testdata/a.txt")),
        Kind::Interaction
    );
    // The nearest wins.
    assert_eq!(
        Kind::infer(Path::new("/quorum/raft/confchange/testdata/a.txt")),
        Kind::Confchange
    );
    // The file's own name does not count.
    assert_eq!(
        Kind::infer(Path::new("/raft/testdata/quorum")),
        Kind::Interaction
    );
    assert_eq!("quorum".parse::<Kind>(), Ok(Kind::Quorum));
    assert!("nope".parse::<Kind>().is_err());
}

#[test]
fn ratchet_lists_skip_comments() {
    assert_eq!(
        suite::parse_ratchet("# head\n\n quorum/a.txt \n#x\nconfchange/b.txt"),
        ["quorum/a.txt", "confchange/b.txt"]
    );
}

#[test]
fn unknown_commands_suggest_the_nearest() {
    let d = |cmd: &str| TestData {
        pos: "f:3".to_owned(),
        cmd: cmd.to_owned(),
        cmd_args: Vec::new(),
        input: String::new(),
        expected: String::new(),
    };
    let known = ["stabilize", "status", "campaign"];
    assert_eq!(
        super::unknown_command(&d("stabilise"), &known).0,
        "f:3: unknown command \"stabilise\" (did you mean \"stabilize\"?)"
    );
    assert_eq!(
        super::unknown_command(&d("xyz"), &known).0,
        "f:3: unknown command \"xyz\" (expected one of: stabilize, status, campaign)"
    );
    assert_eq!(super::edit_distance("kitten", "sitting"), 3);
    assert_eq!(super::edit_distance("", "ab"), 2);
}

#[test]
fn long_words_are_clipped_but_not_the_position() {
    let long_path = format!("{}:7:", "p".repeat(100));
    let msg = format!("{long_path} bad {}", "x".repeat(100));
    let clipped = super::clip_long_words(&msg);
    assert_eq!(
        clipped,
        format!(
            "{long_path} bad {}[...48 bytes...]{}",
            "x".repeat(40),
            "x".repeat(12)
        )
    );
    // Multi-byte characters are cut on their boundaries.
    let msg = format!("f:1: {}", "é".repeat(70));
    assert!(super::clip_long_words(&msg).contains("[...36 bytes...]"));
    assert!(matches!(
        super::clip_long_words("f:1: short"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn patterns_select_by_substring_or_glob() {
    use super::suite::matches_pattern;
    assert!(matches_pattern("quorum/joint_commit.txt", "joint"));
    assert!(matches_pattern("quorum/joint_commit.txt", "quorum/"));
    assert!(!matches_pattern("quorum/joint_commit.txt", "confchange"));
    assert!(matches_pattern(
        "interaction/snapshot_a.txt",
        "interaction/*snap*.txt"
    ));
    assert!(matches_pattern("interaction/x.txt", "*/?.txt"));
    assert!(!matches_pattern("interaction/xy.txt", "*/?.txt"));
    // A glob matches the whole path, not a part of it.
    assert!(!matches_pattern("quorum/joint_commit.txt", "joint*"));
    assert!(matches_pattern("a".repeat(50).as_str(), &"*a".repeat(20)));
}
