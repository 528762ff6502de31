//! Reading a script into stanzas while remembering where each expected output
//! sits, so that a rewrite touches nothing else.

use super::{CmdArg, ScriptError, TestData};

/// A parsed script: the original text plus its stanzas, each knowing which
/// lines hold its expected output.
#[derive(Clone, Debug)]
pub struct Script {
    path: String,
    source: String,
    /// Byte offset of the start of each line, plus `source.len()` at the end,
    /// so line `i` is `source[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
    stanzas: Vec<Stanza>,
}

/// One stanza and the place of its expected output in the file.
#[derive(Clone, Debug)]
pub(crate) struct Stanza {
    pub(crate) data: TestData,
    /// First line of the output region: the line after the `----` separator
    /// (or the end of the file when there is no separator).
    pub(crate) out_start: usize,
    /// One past the last line of the region, which includes the terminating
    /// blank line or the closing `----`/`----` (and the blank line after it).
    pub(crate) out_end: usize,
    /// Whether the directive was followed by a `----` separator at all; when
    /// not, a rewrite has to add one.
    pub(crate) has_separator: bool,
}

impl Script {
    /// Parses `source`, naming positions after `path`. A malformed directive
    /// is a [`ScriptError`] `path:line: ...`.
    pub fn parse(path: &str, source: &str) -> Result<Script, ScriptError> {
        let mut starts = Vec::with_capacity(source.len() / 16 + 2);
        starts.push(0);
        for (i, b) in source.bytes().enumerate() {
            if b == b'\n' && i + 1 < source.len() {
                starts.push(i + 1);
            }
        }
        if source.is_empty() {
            starts.clear();
        }
        starts.push(source.len());
        let mut script = Script {
            path: path.to_string(),
            source: source.to_string(),
            starts,
            stanzas: Vec::new(),
        };
        script.stanzas = Reader { s: &script, i: 0 }.read_all()?;
        Ok(script)
    }

    /// The path the script was parsed under.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The original text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The stanzas in file order.
    pub fn stanzas(&self) -> impl ExactSizeIterator<Item = &TestData> {
        self.stanzas.iter().map(|s| &s.data)
    }

    pub(crate) fn raw_stanzas(&self) -> &[Stanza] {
        &self.stanzas
    }

    fn line_count(&self) -> usize {
        self.starts.len() - 1
    }

    /// Line `i` without its line terminator (a `\r` before the `\n` is
    /// dropped too, as Go's line scanner does).
    fn text(&self, i: usize) -> &str {
        let l = &self.source[self.starts[i]..self.starts[i + 1]];
        let l = l.strip_suffix('\n').unwrap_or(l);
        l.strip_suffix('\r').unwrap_or(l)
    }

    /// The file with the outputs of some stanzas replaced: `outputs[k]` is
    /// the new output of stanza `k`, `None` keeps what is written. Replaced
    /// outputs are written the way Go's datadriven rewrites them; everything
    /// else (comments, blank lines, inputs, untouched outputs) is copied byte
    /// for byte, so no replacement gives back the original text.
    pub fn render(&self, outputs: &[Option<String>]) -> String {
        let mut out = String::with_capacity(self.source.len() + 64);
        let mut line = 0;
        let mut last_rewritten_at_eof = false;
        for (k, st) in self.stanzas.iter().enumerate() {
            let Some(Some(actual)) = outputs.get(k) else {
                continue;
            };
            out.push_str(&self.source[self.starts[line]..self.starts[st.out_start]]);
            if !out.is_empty() && !out.ends_with('\n') {
                // The file ended without a newline right where we add text.
                out.push('\n');
            }
            if !st.has_separator {
                out.push_str("----\n");
            }
            push_canonical(&mut out, actual);
            line = st.out_end;
            last_rewritten_at_eof = st.out_end == self.line_count();
        }
        out.push_str(&self.source[self.starts[line]..]);
        if last_rewritten_at_eof && out.ends_with("\n\n") {
            // Go drops the blank line that would end the file.
            out.pop();
        }
        out
    }

    /// The file re-emitted from its parsed form, every output written as Go's
    /// rewrite would write it. For a file in canonical form this is the
    /// original text; the tests use it to check the parser against etcd's
    /// files.
    pub fn render_canonical(&self) -> String {
        let outs: Vec<Option<String>> = self
            .stanzas
            .iter()
            .map(|s| Some(s.data.expected.clone()))
            .collect();
        self.render(&outs)
    }
}

/// Appends an output the way Go's datadriven writes it after the `----`
/// separator: ending in a newline, followed by a blank line, and between
/// doubled separators when it contains a blank line.
fn push_canonical(out: &mut String, actual: &str) {
    let needs_nl = !actual.is_empty() && !actual.ends_with('\n');
    if has_blank_line(actual) {
        out.push_str("----\n");
        out.push_str(actual);
        if needs_nl {
            out.push('\n');
        }
        out.push_str("----\n----\n\n");
    } else {
        out.push_str(actual);
        if needs_nl {
            out.push('\n');
        }
        out.push('\n');
    }
}

/// Whether some line of `s` (terminated by `\n`) holds only spaces and tabs:
/// Go's `(?m)^[\t ]*\n`.
pub(crate) fn has_blank_line(s: &str) -> bool {
    s.split_inclusive('\n')
        .any(|l| l.ends_with('\n') && l[..l.len() - 1].bytes().all(|b| b == b' ' || b == b'\t'))
}

struct Reader<'a> {
    s: &'a Script,
    /// The next line to read.
    i: usize,
}

impl<'a> Reader<'a> {
    fn next_line(&mut self) -> Option<&'a str> {
        if self.i < self.s.line_count() {
            self.i += 1;
            Some(self.s.text(self.i - 1))
        } else {
            None
        }
    }

    fn pos(&self, line: usize) -> String {
        format!("{}:{}", self.s.path, line + 1)
    }

    fn read_all(mut self) -> Result<Vec<Stanza>, ScriptError> {
        let mut stanzas = Vec::new();
        while let Some(first) = self.next_line() {
            let pos = self.pos(self.i - 1);
            let mut line = first.trim().to_string();
            if line.starts_with('#') {
                continue;
            }
            // A directive may continue on the next line after a `\`.
            while line.ends_with('\\') {
                let Some(next) = self.next_line() else { break };
                line.pop();
                line.push(' ');
                line.push_str(next.trim());
            }
            let (cmd, cmd_args) =
                parse_line(&line).map_err(|m| ScriptError(format!("{pos}: {m}")))?;
            if cmd.is_empty() {
                continue;
            }
            if cmd == "subtest" {
                // Go's subtests are pure structure: no input, no output.
                continue;
            }
            let mut input = String::new();
            let mut has_separator = false;
            while let Some(l) = self.next_line() {
                if l == "----" {
                    has_separator = true;
                    break;
                }
                input.push_str(l);
                input.push('\n');
            }
            let out_start = self.i;
            let expected = if has_separator {
                self.read_expected()?
            } else {
                String::new()
            };
            stanzas.push(Stanza {
                data: TestData {
                    pos,
                    cmd,
                    cmd_args,
                    input: input.trim().to_string(),
                    expected,
                },
                out_start,
                out_end: self.i,
                has_separator,
            });
        }
        Ok(stanzas)
    }

    /// Reads an expected output after the `----` separator, with Go's rules:
    /// a second `----` opens a block that ends at `----`/`----` (and eats the
    /// blank line after it); otherwise the output ends at the first
    /// whitespace-only line, which is consumed.
    fn read_expected(&mut self) -> Result<String, ScriptError> {
        let mut buf = String::new();
        let Some(first) = self.next_line() else {
            return Ok(buf);
        };
        if first == "----" {
            // Go accepts an unterminated block that runs to the end of the
            // file, hence the plain returns when the lines run out.
            while let Some(l) = self.next_line() {
                if l != "----" {
                    buf.push_str(l);
                    buf.push('\n');
                    continue;
                }
                // A single `----` inside the block is output; only two in a
                // row close it.
                match self.next_line() {
                    Some("----") => {
                        if self.next_line().is_some_and(|l3| !l3.is_empty()) {
                            return Err(ScriptError(format!(
                                "{}: expected a blank line after the closing ----/---- of an output",
                                self.pos(self.i - 1)
                            )));
                        }
                        return Ok(buf);
                    }
                    Some(l2) => {
                        buf.push_str("----\n");
                        buf.push_str(l2);
                        buf.push('\n');
                    }
                    None => buf.push_str("----\n"),
                }
            }
            return Ok(buf);
        }
        let mut line = first;
        while !line.trim().is_empty() {
            buf.push_str(line);
            buf.push('\n');
            match self.next_line() {
                Some(l) => line = l,
                None => break,
            }
        }
        Ok(buf)
    }
}

/// Parses a directive line into the directive and its arguments, with the
/// rules of Go's `datadriven.ParseLine`: words are separated by spaces, an
/// argument is `key`, `key=val`, `key=` (one empty value) or
/// `key=(v1, v2, ...)` whose values may contain nested parentheses. Any
/// other character, quotes included, is part of a word: `propose 1 "foo"`
/// has the positional arguments `1` and `"foo"`. A blank line gives an empty
/// directive. The error says at which column what was expected.
pub fn parse_line(line: &str) -> Result<(String, Vec<CmdArg>), String> {
    let orig = line.trim();
    let mut rest = orig;
    let fail = |rest: &str, what: &str| -> String {
        let column = orig.len() - rest.len() + 1;
        format!("cannot parse directive at column {column}: {what}: {orig}")
    };
    if rest.is_empty() {
        return Ok((String::new(), Vec::new()));
    }
    let until = |rest: &mut &str, chars: &[char]| -> String {
        let idx = rest.find(chars).unwrap_or(rest.len());
        let word = rest[..idx].to_string();
        *rest = &rest[idx..];
        word
    };
    let cmd = until(&mut rest, &[' ']);
    rest = rest.trim();
    let mut args = Vec::new();
    while !rest.is_empty() {
        let key = until(&mut rest, &[' ', '=']);
        if key.is_empty() {
            return Err(fail(rest, "expected an argument name before '='"));
        }
        let mut vals = Vec::new();
        if let Some(after) = rest.strip_prefix('=') {
            rest = after;
            if rest.is_empty() || rest.starts_with(' ') {
                vals.push(String::new());
            } else if !rest.starts_with('(') {
                vals.push(until(&mut rest, &[' ']));
            } else {
                // Cut top-level commas, minding nested parentheses.
                let mut depth = 0usize;
                let mut val_start = 1;
                let mut end = None;
                for (i, c) in rest.char_indices() {
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(i);
                                break;
                            }
                        }
                        ',' if depth == 1 => {
                            vals.push(rest[val_start..i].to_string());
                            val_start = i + 1;
                            // Spaces after a comma are not part of the value.
                            val_start += rest[val_start..].len()
                                - rest[val_start..].trim_start_matches(' ').len();
                        }
                        _ => {}
                    }
                }
                let Some(end) = end else {
                    return Err(fail(
                        rest,
                        &format!("expected ')' closing the values of {key:?}"),
                    ));
                };
                vals.push(rest[val_start.min(end)..end].to_string());
                rest = rest[end + 1..].trim();
            }
        }
        args.push(CmdArg { key, vals });
        rest = rest.trim();
    }
    Ok((cmd, args))
}
