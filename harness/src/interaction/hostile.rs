//! Hostile script input: every command with malformed, missing, extreme or
//! nonsensical arguments, in several environment states. None may panic.

use std::panic::{self, AssertUnwindSafe};

use super::InteractionEnv;
use crate::datadriven::{parse_line, TestData};

/// A stanza of one directive, for driving the environment directly (also
/// used by the module's other tests).
pub(super) fn stanza(line: &str, input: &str) -> TestData {
    let (cmd, cmd_args) = parse_line(line).unwrap();
    TestData {
        pos: "t:1".to_owned(),
        cmd,
        cmd_args,
        input: input.to_owned(),
        expected: String::new(),
    }
}

/// Environment states to start from: each a list of (directive, input).
const PRELUDES: &[&[(&str, &str)]] = &[
    &[],
    &[("add-nodes 1", "")],
    &[("add-nodes 3 voters=(1,2,3) index=2", "")],
    &[
        ("add-nodes 3 voters=(1,2,3) index=2", ""),
        ("campaign 1", ""),
        ("stabilize", ""),
    ],
    &[
        (
            "add-nodes 3 voters=(1,2,3) index=2 async-storage-writes=true",
            "",
        ),
        ("campaign 1", ""),
        ("stabilize", ""),
        ("propose 1 x", ""),
        ("process-ready 1", ""),
    ],
    &[
        ("add-nodes 3 voters=(1,2,3) learners=(4) index=2", ""),
        ("campaign 1", ""),
        ("stabilize", ""),
        ("propose-conf-change 1 transition=explicit", "r2 l2"),
        ("stabilize", ""),
    ],
    &[
        ("add-nodes 3 voters=(1,2,3) index=2", ""),
        ("campaign 1", ""),
        ("stabilize", ""),
        ("propose-conf-change 1", "r3"),
        ("stabilize", ""),
        ("propose-conf-change 1", "r1"),
        ("stabilize", ""),
    ],
];

/// Run after each hostile command: every node proposes, reads, campaigns
/// and ticks, so that a bad state left behind shows up.
const EPILOGUE: &[(&str, &str)] = &[
    ("propose 1 p1", ""),
    ("propose 2 p2", ""),
    ("propose 3 p3", ""),
    ("read-index 2 r2", ""),
    ("propose-conf-change 2", "l5"),
    ("stabilize", ""),
    ("campaign 2", ""),
    ("stabilize", ""),
    ("transfer-leadership from=2 to=3", ""),
    ("stabilize", ""),
    ("tick-election 1", ""),
    ("tick-heartbeat 3", ""),
    ("stabilize", ""),
    ("process-append-thread 1 2 3", ""),
    ("process-apply-thread 1 2 3", ""),
    ("stabilize", ""),
    ("raft-log 1", ""),
    ("status 3", ""),
];

const HOSTILE: &[(&str, &str)] = &[
    ("add-nodes 3 voters=(1,2,3) index=4611686018427387904", ""),
    ("add-nodes 3 voters=(1,2,3) index=4611686018427387000", ""),
    ("add-nodes 3 voters=(1,2,3) index=9223372036854775807", ""),
    ("send-snapshot 2 2", ""),
    ("send-snapshot 1 1", ""),
    ("send-snapshot 3 3", ""),
    ("propose-conf-change 1", "v18446744073709551614"),
    (
        "propose-conf-change 1",
        "v18446744073709551615 l18446744073709551614",
    ),
    ("add-nodes 1 voters=(1,18446744073709551615) index=2", ""),
    ("compact 2 3", ""),
    ("", ""),
    ("add-nodes", ""),
    ("add-nodes 0", ""),
    ("add-nodes -1", ""),
    ("add-nodes x", ""),
    ("add-nodes 99999999999999999999", ""),
    ("add-nodes 1 voters=(0)", ""),
    ("add-nodes 1 voters=(x)", ""),
    ("add-nodes 1 voters=(-1)", ""),
    ("add-nodes 1 voters=() index=2", ""),
    ("add-nodes 1 voters=(1) learners=(1) index=2", ""),
    ("add-nodes 1 voters=(1) index=18446744073709551615", ""),
    ("add-nodes 1 voters=(1) index=0", ""),
    ("add-nodes 1 voters=(1) index=x", ""),
    ("add-nodes 1 voters=(1) index=(2,3)", ""),
    ("add-nodes 1 voters=(1) index=", ""),
    ("add-nodes 1 voters=(1) index=2 read-only=foo", ""),
    ("add-nodes 1 voters=(1) index=2 prevote=maybe", ""),
    ("add-nodes 1 voters=(1) index=2 checkquorum=", ""),
    ("add-nodes 1 voters=(1) index=2 inflight=-5", ""),
    (
        "add-nodes 1 voters=(1) index=2 inflight=99999999999999999999",
        "",
    ),
    (
        "add-nodes 1 voters=(1) index=2 max-committed-size-per-ready=-1",
        "",
    ),
    ("add-nodes 1 voters=(1) index=2 async-storage-writes=2", ""),
    ("add-nodes 1 voters=(1) index=2 max-size-per-msg=0", ""),
    ("add-nodes 1 voters=(1) index=2 max-size-per-msg=-1", ""),
    ("add-nodes 1 voters=(1) index=2 max-inflight-bytes=1", ""),
    (
        "add-nodes 1 voters=(1) index=2 max-inflight-bytes=18446744073709551615 max-size-per-msg=18446744073709551615",
        "",
    ),
    ("add-nodes 1 voters=(1) index=2 max-uncommitted-size=1", ""),
    ("add-nodes 1 voters=(1) index=2 disable-proposal-forwarding=1", ""),
    ("add-nodes 1 voters=(1) index=2 election-tick=0", ""),
    ("add-nodes 1 voters=(1) index=2 heartbeat-tick=0", ""),
    ("add-nodes 1 voters=(1) index=2 election-tick=10000 heartbeat-tick=9999", ""),
    ("add-nodes 1 voters=(1) index=2 election-tick=99999999999999999999", ""),
    ("add-nodes 1 content=", ""),
    ("add-nodes 2 voters=(1,2) index=2", ""),
    ("add-nodes 1 voters=(18446744073709551615) index=2", ""),
    ("add-nodes 1 voters=(1,1,1) index=2", ""),
    ("campaign", ""),
    ("campaign 0", ""),
    ("campaign -1", ""),
    ("campaign 4", ""),
    ("campaign 99999999999999999999", ""),
    ("campaign -9223372036854775808", ""),
    ("campaign 1 2", ""),
    ("campaign x=1", ""),
    ("campaign 1", ""),
    ("campaign 2", ""),
    ("campaign 3", ""),
    ("compact", ""),
    ("compact 1", ""),
    ("compact 1 x", ""),
    ("compact 1 -1", ""),
    ("compact 1 0", ""),
    ("compact 1 1", ""),
    ("compact 1 2", ""),
    ("compact 1 3", ""),
    ("compact 1 4", ""),
    ("compact 1 100", ""),
    ("compact 1 18446744073709551615", ""),
    ("compact 3 4", ""),
    ("deliver-msgs", ""),
    ("deliver-msgs 0", ""),
    ("deliver-msgs -1", ""),
    ("deliver-msgs x", ""),
    ("deliver-msgs 1 2 3", ""),
    ("deliver-msgs 1 1", ""),
    ("deliver-msgs drop=(x)", ""),
    ("deliver-msgs drop=()", ""),
    ("deliver-msgs drop=", ""),
    ("deliver-msgs drop=(1,2,3)", ""),
    ("deliver-msgs drop=(1) 1", ""),
    ("deliver-msgs type=NotAType", ""),
    ("deliver-msgs type=", ""),
    ("deliver-msgs type=MsgApp", ""),
    ("deliver-msgs 1 type=MsgStorageAppend", ""),
    ("deliver-msgs 2 type=(MsgApp,MsgHeartbeat)", ""),
    ("deliver-msgs 99999999999999999999", ""),
    ("process-ready", ""),
    ("process-ready 0", ""),
    ("process-ready x", ""),
    ("process-ready 1 1", ""),
    ("process-ready 1 2 3", ""),
    ("process-ready 1 x=y", ""),
    ("process-append-thread", ""),
    ("process-append-thread 1", ""),
    ("process-append-thread 1 2 3", ""),
    ("process-append-thread 0", ""),
    ("process-apply-thread", ""),
    ("process-apply-thread 1", ""),
    ("process-apply-thread 1 2 3", ""),
    ("process-apply-thread x", ""),
    ("log-level", ""),
    ("log-level nonsense", ""),
    ("log-level 3", ""),
    ("log-level debug=1", ""),
    ("log-level none extra", ""),
    ("raft-log", ""),
    ("raft-log 0", ""),
    ("raft-log 1", ""),
    ("raft-log 2", ""),
    ("raft-log 1 5", ""),
    ("raft-state", ""),
    ("raft-state 1", ""),
    ("set-randomized-election-timeout", ""),
    ("set-randomized-election-timeout 1", ""),
    ("set-randomized-election-timeout 1 timeout=0", ""),
    ("set-randomized-election-timeout 1 timeout=-3", ""),
    ("set-randomized-election-timeout 1 timeout=x", ""),
    ("set-randomized-election-timeout 1 timeout=", ""),
    ("set-randomized-election-timeout 1 timeout=(1,2)", ""),
    (
        "set-randomized-election-timeout 1 timeout=9223372036854775807",
        "",
    ),
    (
        "set-randomized-election-timeout 1 timeout=99999999999999999999",
        "",
    ),
    ("stabilize", ""),
    ("stabilize 0", ""),
    ("stabilize 1", ""),
    ("stabilize 1 1", ""),
    ("stabilize x", ""),
    ("stabilize log-level=nonsense", ""),
    ("stabilize log-level=", ""),
    ("stabilize log-level=(info,none)", ""),
    ("status", ""),
    ("status 0", ""),
    ("status 1", ""),
    ("status 2", ""),
    ("tick-election", ""),
    ("tick-election 0", ""),
    ("tick-election 1", ""),
    ("tick-heartbeat", ""),
    ("tick-heartbeat 1", ""),
    ("tick-heartbeat 2", ""),
    ("transfer-leadership", ""),
    ("transfer-leadership from=1", ""),
    ("transfer-leadership to=1", ""),
    ("transfer-leadership from=1 to=2", ""),
    ("transfer-leadership from=1 to=1", ""),
    ("transfer-leadership from=2 to=3", ""),
    ("transfer-leadership from=0 to=1", ""),
    ("transfer-leadership from=x to=1", ""),
    ("transfer-leadership from=1 to=-1", ""),
    ("transfer-leadership from=1 to=9", ""),
    ("transfer-leadership from=(1,2) to=3", ""),
    ("forget-leader", ""),
    ("forget-leader 0", ""),
    ("forget-leader 1", ""),
    ("forget-leader 2", ""),
    ("send-snapshot", ""),
    ("send-snapshot 1", ""),
    ("send-snapshot 1 2 3", ""),
    ("send-snapshot 1 0", ""),
    ("send-snapshot 1 -1", ""),
    ("send-snapshot 0 1", ""),
    ("send-snapshot 1 1", ""),
    ("send-snapshot 1 2", ""),
    ("send-snapshot 2 1", ""),
    ("send-snapshot 1 x", ""),
    ("propose", ""),
    ("propose 1", ""),
    ("propose 1 a b", ""),
    ("propose 1 a=b", ""),
    ("propose 1 x", ""),
    ("propose 2 x", ""),
    ("propose 0 x", ""),
    ("propose-conf-change", ""),
    ("propose-conf-change 1", ""),
    ("propose-conf-change 1", "v9"),
    ("propose-conf-change 1", "l"),
    ("propose-conf-change 1", "r-1"),
    ("propose-conf-change 1", "x1"),
    ("propose-conf-change 1", "v0"),
    ("propose-conf-change 1", "v99999999999999999999"),
    ("propose-conf-change 1", "v18446744073709551615"),
    ("propose-conf-change 1", "r1 r2 r3"),
    ("propose-conf-change 1", "v4 v5 l6"),
    ("propose-conf-change 1", "u7"),
    ("propose-conf-change 1", "l1"),
    ("propose-conf-change 1 v1=true", ""),
    ("propose-conf-change 1 v1=true", "v2 v3"),
    ("propose-conf-change 1 v1=true", "v4"),
    ("propose-conf-change 1 v1=maybe", "v4"),
    ("propose-conf-change 1 v1=", "v4"),
    ("propose-conf-change 1 transition=bogus", "v4"),
    ("propose-conf-change 1 transition=", "v4"),
    ("propose-conf-change 1 transition=implicit", "v4"),
    ("propose-conf-change 1 transition=explicit", "v4 l5"),
    ("propose-conf-change 1 transition=explicit", ""),
    ("propose-conf-change 1 v1=true transition=explicit", "v4"),
    ("propose-conf-change 1 foo=bar", "v4"),
    ("propose-conf-change 1 foo", "v4"),
    ("propose-conf-change 2", "v4"),
    ("read-index", ""),
    ("read-index 1", ""),
    ("read-index 1 ctx", ""),
    ("read-index 2 ctx", ""),
    ("read-index 1 a b", ""),
    ("report-unreachable", ""),
    ("report-unreachable 1", ""),
    ("report-unreachable 1 2", ""),
    ("report-unreachable 1 1", ""),
    ("report-unreachable 1 9", ""),
    ("report-unreachable 2 1", ""),
    ("report-unreachable 1 2 3", ""),
    ("report-unreachable x 2", ""),
    ("report-snapshot", ""),
    ("report-snapshot 1", ""),
    ("report-snapshot 1 2", ""),
    ("report-snapshot 1 2 status=failure", ""),
    ("report-snapshot 1 1 status=finish", ""),
    ("report-snapshot 1 9", ""),
    ("report-snapshot 2 1 status=failure", ""),
    ("report-snapshot 1 2 status=bogus", ""),
    ("report-snapshot 1 2 status=(finish,failure)", ""),
    ("_breakpoint", ""),
    ("_breakpoint 1 2 3", ""),
    ("frobnicate", ""),
];

/// Runs `f` with the default panic hook silenced and returns whether it
/// panicked, and with what message.
fn probe(f: impl FnOnce()) -> Option<String> {
    let res = panic::catch_unwind(AssertUnwindSafe(f));
    res.err().map(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    })
}

#[test]
fn hostile_commands_never_panic() {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let mut panics = Vec::new();
    for (pi, prelude) in PRELUDES.iter().enumerate() {
        for (line, input) in HOSTILE {
            let mut env = InteractionEnv::new();
            let mut run = |l: &str, i: &str| env.handle(&stanza(l, i)).map(|_| ());
            let r = probe(|| {
                run("log-level none", "").unwrap();
                for (l, i) in *prelude {
                    run(l, i).unwrap();
                }
                // The hostile command, then the environment must keep working.
                let _ = run(line, input);
                let _ = run("stabilize", "");
                let _ = run("raft-state", "");
                let _ = run(line, input);
                let _ = run("stabilize", "");
                // Whatever state that left, every node must still take
                // proposals, reads, elections and ticks.
                for (l, i) in EPILOGUE {
                    let _ = run(l, i);
                }
            });
            if let Some(msg) = r {
                panics.push(format!("prelude {pi}: {line:?} / {input:?}: {msg}"));
            }
        }
    }
    panic::set_hook(hook);
    assert!(
        panics.is_empty(),
        "{} panics:\n{}",
        panics.len(),
        panics.join("\n")
    );
}

/// Mistakes in a script's arguments stop the file with `path:line:` and
/// what was expected (etcd fails the test there); the line is that of the
/// directive, after whatever precedes it in the file.
#[test]
fn script_mistakes_name_file_line_and_expectation() {
    let cases: &[(&str, &str)] = &[
        ("add-nodes", "expected at least one argument"),
        ("add-nodes x", "strconv.Atoi: parsing \"x\": invalid syntax"),
        (
            "add-nodes 99999999999999999999",
            "strconv.Atoi: parsing \"99999999999999999999\": value out of range",
        ),
        (
            "add-nodes 1 voters=(x)",
            "voters: strconv.ParseUint: parsing \"x\": invalid syntax",
        ),
        (
            "add-nodes 1 voters=(1) index=2 prevote=maybe",
            "prevote: strconv.ParseBool: parsing \"maybe\": invalid syntax",
        ),
        (
            "add-nodes 1 voters=(1) index=18446744073709551615",
            "index: 18446744073709551615 is too large (at most 4611686018427387904)",
        ),
        ("campaign", "expected at least one argument"),
        (
            "campaign -x",
            "strconv.Atoi: parsing \"-x\": invalid syntax",
        ),
        ("compact 1", "expected the new first index"),
        (
            "deliver-msgs drop=(x)",
            "drop: strconv.ParseUint: parsing \"x\": invalid syntax",
        ),
        (
            "deliver-msgs type=NotAType",
            "unknown message type NotAType",
        ),
        (
            "deliver-msgs 1 drop=(1)",
            "can't both deliver and drop msgs to 1",
        ),
        ("log-level", "expected a log level"),
        ("propose 1", "expected exactly one key with no vals"),
        ("propose 1 a b", "expected exactly one key with no vals"),
        ("read-index 1 a=b", "expected exactly one key with no vals"),
        (
            "send-snapshot 1",
            "expected exactly two node ids: from and to",
        ),
        (
            "set-randomized-election-timeout 1",
            "missing argument: timeout",
        ),
        (
            "set-randomized-election-timeout 1 timeout=0",
            "timeout must be positive",
        ),
        (
            "set-randomized-election-timeout 1 timeout=(1,2)",
            "timeout: expected exactly one value",
        ),
        ("stabilize x", "strconv.Atoi: parsing \"x\": invalid syntax"),
        ("transfer-leadership from=1", "missing argument: to"),
        (
            "transfer-leadership from=x to=1",
            "strconv.ParseUint: parsing \"x\": invalid syntax",
        ),
        (
            "add-nodes 1 voters=(1",
            "cannot parse directive at column 20: expected ')'",
        ),
    ];
    for (line, want) in cases {
        let src = format!(
            "# setup\nlog-level none\n----\nok\n\nadd-nodes 1 voters=(1) index=2\n----\nok\n\n{line}\n----\nok\n"
        );
        let out = crate::datadriven::run_script("f.txt", &src, &mut InteractionEnv::new());
        let err = out.error.unwrap_or_else(|| panic!("{line}: no error"));
        let want = format!("f.txt:10: {want}");
        assert!(err.0.starts_with(&want), "{line}:\n got {err}\nwant {want}");
    }
}

/// Directive words for the random scripts below.
const WORDS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "-1",
    "x",
    "18446744073709551615",
    "voters=(1,2,3)",
    "learners=(4)",
    "index=2",
    "index=5",
    "async-storage-writes=true",
    "prevote=true",
    "checkquorum=true",
    "read-only=lease-based",
    "step-down-on-removal=true",
    "batch-append=true",
    "inflight=1",
    "max-committed-size-per-ready=1",
    "content=c",
    "drop=(1)",
    "drop=(2,3)",
    "type=MsgApp",
    "type=MsgHeartbeat",
    "type=MsgVote",
    "timeout=1",
    "timeout=5",
    "from=1",
    "to=2",
    "from=2",
    "to=3",
    "from=3",
    "to=1",
    "log-level=none",
    "v1=true",
    "transition=explicit",
    "transition=implicit",
    "none",
    "info",
];

const COMMANDS: &[&str] = &[
    "add-nodes",
    "campaign",
    "compact",
    "deliver-msgs",
    "process-ready",
    "process-append-thread",
    "process-apply-thread",
    "raft-log",
    "raft-state",
    "set-randomized-election-timeout",
    "stabilize",
    "status",
    "tick-election",
    "tick-heartbeat",
    "transfer-leadership",
    "forget-leader",
    "send-snapshot",
    "propose",
    "propose-conf-change",
    "report-unreachable",
    "read-index",
];

const INPUTS: &[&str] = &[
    "",
    "v1",
    "v2 v3",
    "l4",
    "r1",
    "r2 r3",
    "r1 r2 r3",
    "u1",
    "v4 l5",
    "l2 r3",
    "v0",
    "v18446744073709551615",
    "l1",
    "r2 l2",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Random sequences of the real commands with random arguments, each
    /// stanza handled whatever the previous ones did (script mistakes do
    /// not stop the sequence here), from a synchronous or an asynchronous
    /// group: nothing panics.
    #[test]
    fn random_command_sequences_never_panic(
        async_writes in proptest::bool::ANY,
        verbose in proptest::bool::ANY,
        stanzas in proptest::collection::vec(
            (
                proptest::sample::select(COMMANDS),
                proptest::collection::vec(proptest::sample::select(WORDS), 0..4),
                proptest::sample::select(INPUTS),
            ),
            1..40,
        )
    ) {
        let mut env = InteractionEnv::new();
        let mut script = vec![
            if verbose { "log-level debug" } else { "log-level none" }.to_string(),
            format!("add-nodes 3 voters=(1,2,3) index=2 async-storage-writes={async_writes}"),
        ];
        for (cmd, args, input) in &stanzas {
            let mut l = cmd.to_string();
            for a in args {
                l.push(' ');
                l.push_str(a);
            }
            script.push(format!("{l}\n{input}"));
        }
        script.push("stabilize".to_string());
        let res = panic::catch_unwind(AssertUnwindSafe(|| {
            for s in &script {
                let (line, input) = s.split_once('\n').unwrap_or((s, ""));
                let _ = env.handle(&stanza(line, input));
            }
        }));
        proptest::prop_assert!(res.is_ok(), "panicked on:\n{}", script.join("\n----\n\n"));
    }
}
