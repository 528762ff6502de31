//! Running a script through a handler, comparing, diffing, rewriting.

use std::borrow::Cow;
use std::panic::{self, AssertUnwindSafe};

use super::{clip_long_words, Handler, Script, ScriptError, TestData};

/// A stanza whose actual output differs from the expected one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// `path:line` of the stanza's directive.
    pub pos: String,
    /// The output written in the file.
    pub expected: String,
    /// The output the handler produced.
    pub actual: String,
}

/// What running one script gave.
#[derive(Clone, Debug)]
pub struct FileOutcome {
    /// The path the script was read under.
    pub path: String,
    /// The file as it was read.
    pub original: String,
    /// The file with every output that ran replaced by the actual output;
    /// equal to `original` when all outputs match. When the script stopped
    /// on an error, stanzas after it keep their written outputs.
    pub rewritten: String,
    /// The stanzas whose output differs, in file order.
    pub mismatches: Vec<Mismatch>,
    /// The script error (parse error, unknown command, bad argument, handler
    /// panic) that stopped the run, if any.
    pub error: Option<ScriptError>,
}

impl FileOutcome {
    /// Whether the script ran to the end and every output matched.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.mismatches.is_empty()
    }

    /// Whether rewriting would change the file (some output differs).
    pub fn changed(&self) -> bool {
        self.rewritten != self.original
    }

    /// A unified diff from the file as written to the file with the actual
    /// outputs, headed by a `path:line` line for every differing stanza. Empty
    /// when nothing differs. `color` adds ANSI colours for a terminal.
    pub fn diff(&self, color: bool) -> String {
        if self.mismatches.is_empty() {
            return String::new();
        }
        let mut out = String::new();
        for m in &self.mismatches {
            out.push_str(&m.pos);
            out.push_str(": output differs from expected\n");
        }
        let diff = similar::TextDiff::from_lines(&self.original, &self.rewritten);
        let text = diff
            .unified_diff()
            .context_radius(5)
            .header(
                &format!("{} (expected)", self.path),
                &format!("{} (actual)", self.path),
            )
            .to_string();
        for line in text.split_inclusive('\n') {
            if !color {
                out.push_str(line);
                continue;
            }
            let code = if line.starts_with("+++") || line.starts_with("---") {
                "1"
            } else if line.starts_with('+') {
                "32"
            } else if line.starts_with('-') {
                "31"
            } else if line.starts_with("@@") {
                "36"
            } else {
                ""
            };
            if code.is_empty() {
                out.push_str(line);
            } else {
                let body = line.strip_suffix('\n').unwrap_or(line);
                out.push_str(&format!("\x1b[{code}m{body}\x1b[0m"));
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }
}

/// Runs every stanza of the script `source` (read from `path`) through
/// `handler`, in order, and compares outputs the way Go's datadriven does: a
/// non-empty actual output gets a final newline if it lacks one. A script
/// error or a panicking handler stops the run and is reported in
/// [`FileOutcome::error`] as `path:line: message`; it never unwinds into the
/// caller.
pub fn run_script(path: &str, source: &str, handler: &mut dyn Handler) -> FileOutcome {
    let mut outcome = FileOutcome {
        path: path.to_string(),
        original: source.to_string(),
        rewritten: source.to_string(),
        mismatches: Vec::new(),
        error: None,
    };
    let script = match Script::parse(path, source) {
        Ok(s) => s,
        Err(e) => {
            outcome.error = Some(clip(e));
            return outcome;
        }
    };
    let mut outputs: Vec<Option<String>> = Vec::with_capacity(script.raw_stanzas().len());
    for st in script.raw_stanzas() {
        let d = &st.data;
        let res = panic::catch_unwind(AssertUnwindSafe(|| handler.handle(d)));
        let mut actual = match res {
            Ok(Ok(_)) if !d.input.is_empty() && !handler.takes_input(&d.cmd) => {
                outcome.error = Some(unexpected_input(d));
                break;
            }
            Ok(Ok(out)) => out,
            Ok(Err(e)) => {
                outcome.error = Some(locate(&d.pos, e));
                break;
            }
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".to_string());
                outcome.error = Some(clip(ScriptError(format!(
                    "{}: handler panicked on {:?}: {msg}",
                    d.pos, d.cmd
                ))));
                break;
            }
        };
        if !actual.is_empty() && !actual.ends_with('\n') {
            actual.push('\n');
        }
        if actual == d.expected {
            outputs.push(None);
        } else {
            outcome.mismatches.push(Mismatch {
                pos: d.pos.clone(),
                expected: d.expected.clone(),
                actual: actual.clone(),
            });
            outputs.push(Some(actual));
        }
    }
    if !outcome.mismatches.is_empty() {
        outcome.rewritten = script.render(&outputs);
    }
    outcome
}

/// Makes sure a handler's error names the stanza's position, and clips it.
fn locate(pos: &str, e: ScriptError) -> ScriptError {
    if e.0.starts_with(&format!("{pos}:")) {
        clip(e)
    } else {
        clip(ScriptError(format!("{pos}: {}", e.0)))
    }
}

/// `e` with over-long words clipped (see [`clip_long_words`]).
fn clip(e: ScriptError) -> ScriptError {
    match clip_long_words(&e.0) {
        Cow::Borrowed(_) => e,
        Cow::Owned(clipped) => ScriptError(clipped),
    }
}

/// The error for input lines under a directive that reads none: almost
/// always a `----` forgotten after it, so that the next directive became
/// its input.
fn unexpected_input(d: &TestData) -> ScriptError {
    let lines: Vec<&str> = d.input.lines().filter(|l| !l.trim().is_empty()).collect();
    let n = lines.len();
    clip(d.error(format_args!(
        "{:?} takes no input, but {n} line{} before its \"----\" would be its input \
         (first: {:?}); is a \"----\" missing after the directive?",
        d.cmd,
        if n == 1 { "" } else { "s" },
        lines.first().copied().unwrap_or_default()
    )))
}
