//! Hostile input for every handler and for the script parser: random
//! bytes, broken layouts, malformed and extreme arguments. Nothing may
//! panic (the runner would report a caught panic as "handler panicked",
//! which these tests treat as a failure), and every script error names its
//! `path:line`.

use proptest::prelude::*;

use etcdraft_harness::datadriven::suite::Kind;
use etcdraft_harness::datadriven::{run_script, FileOutcome, Script};

/// Runs `src` as a script of `kind` and checks that no handler panicked
/// and that any error is located at a line of the file.
fn run(kind: Kind, src: &str) -> FileOutcome {
    let mut h = kind.new_handler();
    let out = run_script("x.txt", src, h.as_mut());
    if let Some(e) = &out.error {
        assert!(
            !e.0.contains("handler panicked"),
            "{kind}: {e}\n--- script:\n{src}"
        );
        let rest = e.0.strip_prefix("x.txt:").unwrap_or_else(|| panic!("{e}"));
        let line: usize = rest
            .split(':')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no line number: {e}"));
        assert!(line >= 1 && line <= src.lines().count().max(1), "{e}");
    }
    out
}

/// One stanza whose output is not checked (`----` then nothing).
fn stanza(directive: &str, input: &str) -> String {
    if input.is_empty() {
        format!("{directive}\n----\n\n")
    } else {
        format!("{directive}\n{input}\n----\n\n")
    }
}

#[test]
fn quorum_hostile_arguments() {
    let cases = [
        "committed",
        "vote",
        "committed cfg=()",
        "committed cfg=(1) idx=()",
        "committed cfg=(1,2,3) idx=(18446744073709551615,18446744073709551615,1)",
        "committed cfg=(1,2,3) idx=(0,1,2)",
        "committed cfg=(1,2,3) idx=(-1,1,2)",
        "committed cfg=(1,2,3) idx=(x,1,2)",
        "committed cfg=(1,2,3) idx=(1,2)",
        "committed cfg=(1,2,3) idx=(1,2,3,4)",
        "committed cfg=(1,1,1) idx=(5)",
        "committed cfg=(1,1,1) idx=(5,5,5)",
        "committed cfg=(0) idx=(5)",
        "committed cfg=(18446744073709551615) idx=(5)",
        "committed cfg=(99999999999999999999) idx=(5)",
        "committed cfg=(1) cfgj=zero idx=(5)",
        "committed cfg=(1) cfgj=(zero,2) idx=(5,6)",
        "committed cfg=(1) cfgj=(1) idx=(5)",
        "committed cfg=(1,2) cfgj=(2,3) idx=(_,_,_)",
        "committed cfg=(1,2) cfgj=(3,4) idx=(1,2,3,4,5)",
        "committed cfgj=(1,2) idx=(1,2)",
        "committed cfg= idx=",
        "committed cfg=(1) idx=(1) frob=2",
        "committed cfg=(1) idx=(1) votes=(y)",
        "vote cfg=(1,2,3) votes=(y,n,_)",
        "vote cfg=(1,2,3) votes=(y,n)",
        "vote cfg=(1,2,3) votes=(yes,n,_)",
        "vote cfg=(1,2,3) votes=()",
        "vote cfg=() votes=()",
        "vote cfg=(1,2) cfgj=zero votes=(y,y)",
        "vote cfg=(1,2) cfgj=(3) votes=(y,y,n)",
        "vote cfg=(1) idx=(1) votes=(y)",
        "frobnicate cfg=(1)",
    ];
    for c in cases {
        run(Kind::Quorum, &stanza(c, ""));
    }
    // A large configuration.
    let ids: Vec<String> = (1..=300).map(|i| i.to_string()).collect();
    let idxs: Vec<String> = (1..=300).map(|i| (u64::MAX - i).to_string()).collect();
    let big = format!("committed cfg=({}) idx=({})", ids.join(","), idxs.join(","));
    let out = run(Kind::Quorum, &stanza(&big, ""));
    assert!(out.error.is_none(), "{:?}", out.error);
}

#[test]
fn confchange_hostile_arguments() {
    let stanzas = [
        ("simple", ""),
        ("simple", "v1"),
        ("simple", "v0"),
        ("simple", "v18446744073709551615 l18446744073709551614"),
        ("simple", "v99999999999999999999"),
        ("simple", "v-1"),
        ("simple", "x1"),
        ("simple", "v"),
        ("simple", "v1  v2"),
        ("simple", "v1\nv2\tv3"),
        ("simple", "r1 r1 r1"),
        ("simple", "r999"),
        ("simple", "u1 u2 u3"),
        ("simple", "l1 v1 l1"),
        ("enter-joint", "v2 v3"),
        ("enter-joint", "v4"),
        ("enter-joint autoleave=maybe", "v4"),
        ("enter-joint autoleave", "v4"),
        ("enter-joint autoleave=(true,false)", "v4"),
        ("enter-joint frob=1", "v4"),
        ("simple", "v5"),
        ("leave-joint", "v5"),
        ("leave-joint", ""),
        ("leave-joint", ""),
        ("enter-joint autoleave=true", ""),
        ("enter-joint", "r1 r2 r3 r18446744073709551615"),
        ("frobnicate", ""),
    ];
    let mut src = String::new();
    for (d, i) in stanzas {
        src.push_str(&stanza(d, i));
        // Each on its own too, so that a script error early in the file
        // does not hide the rest.
        run(Kind::Confchange, &stanza(d, i));
    }
    run(Kind::Confchange, &src);
    // Many changes at once.
    let many: Vec<String> = (1..=500).map(|i| format!("v{i} l{}", i + 1000)).collect();
    let out = run(Kind::Confchange, &stanza("simple", &many.join(" ")));
    assert!(out.error.is_none(), "{:?}", out.error);
}

/// Broken layouts: the parser reports them at the right line or reads them
/// the way Go's datadriven does; nothing panics.
#[test]
fn hostile_layouts() {
    let long = "x".repeat(1 << 20);
    let files: Vec<String> = vec![
        String::new(),
        "\n\n\n".to_string(),
        "----\n".to_string(),
        "----\n----\n".to_string(),
        "raft-state".to_string(),
        "raft-state\n".to_string(),
        "raft-state\n----".to_string(),
        "raft-state\n----\n----\nok\n".to_string(),
        "raft-state\n----\n----\nok\n----\n".to_string(),
        "raft-state\n----\n----\nok\n----\n----".to_string(),
        "raft-state\n----\n----\nok\n----\n----\nnot blank\n".to_string(),
        "raft-state\r\n----\r\nok\r\n\r\n".to_string(),
        "raft-state\r----\rok\r".to_string(),
        "add-nodes 1 \\\n".to_string(),
        "add-nodes 1 \\".to_string(),
        "\\\n\\\n".to_string(),
        "add-nodes 1 voters=(1\n----\n".to_string(),
        "add-nodes 1 voters=((1)\n----\n".to_string(),
        "add-nodes 1 voters=1)\n----\n".to_string(),
        "add-nodes =1\n----\n".to_string(),
        "add-nodes a==1\n----\n".to_string(),
        "\u{feff}raft-state\n----\nok\n".to_string(),
        "raft-state \u{0}\u{1}\n----\n".to_string(),
        "propose 1 é日本\n----\n".to_string(),
        format!("{long}\n----\n"),
        format!("propose 1 {long}\n----\n"),
        format!("raft-state\n{long}\n----\n{long}\n"),
        "# only a comment".to_string(),
        "subtest x\n----\n".to_string(),
    ];
    for f in &files {
        for kind in Kind::ALL {
            run(kind, f);
        }
    }
    // A file ending inside a ----/---- block is accepted with what is
    // there, as Go does; a rewrite closes it.
    let out = run(
        Kind::Interaction,
        "raft-state\n----\n----\nstale\n\nlines\n",
    );
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.mismatches.len(), 1);
    assert_eq!(out.rewritten, "raft-state\n----\nok\n");
    // CRLF line endings are read like LF ones.
    let out = run(Kind::Interaction, "raft-state\r\n----\r\nok\r\n");
    assert!(out.passed(), "{:?} {:?}", out.error, out.mismatches);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Random bytes (read lossily, as the tool reads nothing else) never
    /// panic the parser or any handler.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let src = String::from_utf8_lossy(&bytes);
        let _ = Script::parse("x.txt", &src);
        for kind in Kind::ALL {
            run(kind, &src);
        }
    }

    /// Random scripts made of the real commands with random arguments and
    /// inputs never panic the interaction environment.
    #[test]
    fn random_interaction_scripts_never_panic(
        stanzas in proptest::collection::vec(
            (
                proptest::sample::select(vec![
                    "add-nodes", "campaign", "compact", "deliver-msgs", "process-ready",
                    "process-append-thread", "process-apply-thread", "log-level", "raft-log",
                    "raft-state", "set-randomized-election-timeout", "stabilize", "status",
                    "tick-election", "tick-heartbeat", "transfer-leadership", "forget-leader",
                    "send-snapshot", "propose", "propose-conf-change", "report-unreachable",
                    "read-index", "_breakpoint",
                ]),
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "0", "1", "2", "3", "4", "-1", "x", "18446744073709551615",
                        "voters=(1,2,3)", "learners=(4)", "index=2", "index=5",
                        "async-storage-writes=true", "prevote=true", "checkquorum=true",
                        "read-only=lease-based", "read-only=foo", "step-down-on-removal=true",
                        "inflight=1", "max-committed-size-per-ready=1", "content=c",
                        "drop=(1)", "drop=(2,3)", "type=MsgApp", "type=MsgHeartbeat",
                        "timeout=1", "timeout=0", "from=1", "to=2", "from=2", "to=3",
                        "log-level=none", "log-level=debug", "v1=true", "transition=explicit",
                        "transition=implicit", "none", "info",
                    ]),
                    0..4,
                ),
                proptest::sample::select(vec![
                    "", "v1", "v2 v3", "l4", "r1", "r2 r3", "r1 r2 r3", "u1", "v4 l5",
                    "l2 r3", "v0", "v18446744073709551615", "x", "l",
                ]),
            ),
            1..25,
        )
    ) {
        let mut src = String::from("add-nodes 3 voters=(1,2,3) index=2\n----\n\n");
        for (cmd, args, input) in &stanzas {
            let directive = std::iter::once(*cmd).chain(args.iter().copied()).collect::<Vec<_>>().join(" ");
            src.push_str(&stanza(&directive, input));
        }
        src.push_str(&stanza("stabilize", ""));
        run(Kind::Interaction, &src);
    }
}
