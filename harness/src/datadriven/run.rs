//! Running a script through a handler, comparing, diffing, rewriting.

use std::panic::{self, AssertUnwindSafe};

use super::{Handler, Script, ScriptError};

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
    /// outputs, headed by the position of the first differing stanza. Empty
    /// when nothing differs. `color` adds ANSI colours for a terminal.
    pub fn diff(&self, color: bool) -> String {
        let Some(first) = self.mismatches.first() else {
            return String::new();
        };
        let n = self.mismatches.len();
        let mut out = if n == 1 {
            format!("{}: output differs from expected\n", first.pos)
        } else {
            format!(
                "{}: output differs from expected (first of {n} differing stanzas)\n",
                first.pos
            )
        };
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
            outcome.error = Some(e);
            return outcome;
        }
    };
    let mut outputs: Vec<Option<String>> = Vec::with_capacity(script.raw_stanzas().len());
    for st in script.raw_stanzas() {
        let d = &st.data;
        let res = panic::catch_unwind(AssertUnwindSafe(|| handler.handle(d)));
        let mut actual = match res {
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
                outcome.error = Some(ScriptError(format!(
                    "{}: handler panicked on {:?}: {msg}",
                    d.pos, d.cmd
                )));
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

/// Makes sure a handler's error names the stanza's position.
fn locate(pos: &str, e: ScriptError) -> ScriptError {
    if e.0.starts_with(&format!("{pos}:")) {
        e
    } else {
        ScriptError(format!("{pos}: {}", e.0))
    }
}
