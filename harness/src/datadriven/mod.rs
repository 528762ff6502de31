//! The datadriven script format (etcd's / cockroachdb's): parsing, running a
//! handler per stanza, comparing and rewriting.
//!
//! A script is a sequence of stanzas:
//!
//! ```text
//! # a comment
//! directive pos1 key=val key=(a, b) "quoted"
//! optional input lines
//! ----
//! expected output
//! ```
//!
//! An output that contains blank (whitespace-only) lines is written between a
//! doubled separator, `----`/`----` before and after. The rules (including the
//! odd corners) are those of Go's `github.com/cockroachdb/datadriven` v1.0.2,
//! which etcd's golden files are written for. We parse them ourselves because
//! the `datadriven` crate loses the order of arguments, rejects repeated keys
//! and rejects `propose 1 "foo"`.

use std::fmt;
use std::str::FromStr;

mod parse;
mod run;
pub mod suite;

#[cfg(test)]
mod tests;

pub use parse::{parse_line, Script};
pub use run::{run_script, FileOutcome, Mismatch};

/// One argument of a directive: `key`, `key=val` or `key=(a,b)`. A positional
/// argument has its text in `key` and no `vals`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdArg {
    /// The argument's name, or the positional argument itself.
    pub key: String,
    /// The values after `=`, if any.
    pub vals: Vec<String>,
}

impl fmt::Display for CmdArg {
    /// Formats the argument the way Go's `CmdArg.String` does: `key`,
    /// `key=val` or `key=(a, b)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.vals.len() {
            0 => f.write_str(&self.key),
            1 => write!(f, "{}={}", self.key, self.vals[0]),
            _ => write!(f, "{}=({})", self.key, self.vals.join(", ")),
        }
    }
}

/// One stanza of a script: the directive line, its input and its expected
/// output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestData {
    /// `path:line` of the directive, for error messages.
    pub pos: String,
    /// The directive (first word of the line).
    pub cmd: String,
    /// The arguments, in the order written.
    pub cmd_args: Vec<CmdArg>,
    /// The lines between the directive and `----`, joined with `\n`.
    pub input: String,
    /// The expected output as written in the file.
    pub expected: String,
}

impl TestData {
    /// A script error located at this stanza: `path:line: msg`.
    pub fn error(&self, msg: impl fmt::Display) -> ScriptError {
        ScriptError(format!("{}: {}", self.pos, msg))
    }

    /// The first argument named `key`, if any (Go's `TestData.Arg`).
    pub fn arg(&self, key: &str) -> Option<&CmdArg> {
        self.cmd_args.iter().find(|a| a.key == key)
    }

    /// Whether an argument named `key` is present (Go's `HasArg`).
    pub fn has_arg(&self, key: &str) -> bool {
        self.arg(key).is_some()
    }

    /// Parses the first value of the first argument named `key`; a missing
    /// argument, a missing value or an unparsable value is a script error
    /// (Go's `ScanArgs` with one destination).
    pub fn scan_arg<T>(&self, key: &str) -> Result<T, ScriptError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.maybe_scan_arg(key)? {
            Some(v) => Ok(v),
            None => Err(self.error(format_args!("missing argument: {key}"))),
        }
    }

    /// Like [`TestData::scan_arg`], but `Ok(None)` when the argument is absent
    /// (Go's `MaybeScanArgs`).
    pub fn maybe_scan_arg<T>(&self, key: &str) -> Result<Option<T>, ScriptError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let Some(arg) = self.arg(key) else {
            return Ok(None);
        };
        let Some(val) = arg.vals.first() else {
            return Err(self.error(format_args!("argument {key:?} requires a value")));
        };
        self.parse_val(key, 0, val).map(Some)
    }

    /// The first value of the argument `key` as a boolean with Go's
    /// spellings (see [`go_bool`]); `Ok(None)` when absent.
    pub fn maybe_scan_bool(&self, key: &str) -> Result<Option<bool>, ScriptError> {
        let Some(arg) = self.arg(key) else {
            return Ok(None);
        };
        let Some(v) = arg.vals.first() else {
            return Err(self.error(format_args!("argument {key:?} requires a value")));
        };
        match go_bool(v) {
            Some(b) => Ok(Some(b)),
            None => Err(self.error(format_args!("{key}: invalid boolean {v:?}"))),
        }
    }

    /// Parses every value of the first argument named `key`; an absent
    /// argument gives an empty list.
    pub fn scan_vals<T>(&self, key: &str) -> Result<Vec<T>, ScriptError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let Some(arg) = self.arg(key) else {
            return Ok(Vec::new());
        };
        arg.vals
            .iter()
            .enumerate()
            .map(|(i, v)| self.parse_val(key, i, v))
            .collect()
    }

    /// Parses the key of the positional argument at `idx` (Go's
    /// `strconv.Atoi(d.CmdArgs[idx].Key)` idiom).
    pub fn scan_pos<T>(&self, idx: usize) -> Result<T, ScriptError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let Some(arg) = self.cmd_args.get(idx) else {
            return Err(self.error(format_args!(
                "{}: expected a positional argument at position {}",
                self.cmd,
                idx + 1
            )));
        };
        arg.key.parse().map_err(|e| {
            self.error(format_args!(
                "{}: cannot parse argument {} {:?}: {e}",
                self.cmd,
                idx + 1,
                arg.key
            ))
        })
    }

    fn parse_val<T>(&self, key: &str, i: usize, val: &str) -> Result<T, ScriptError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        val.parse()
            .map_err(|e| self.error(format_args!("{key}: failed to scan value {i} {val:?}: {e}")))
    }
}

/// `s` read with the spellings of Go's `strconv.ParseBool` (`1 t T TRUE
/// true True`, `0 f F FALSE false False`), which etcd's handlers accept for
/// every boolean argument; `None` for anything else.
pub fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A mistake in a script (unknown directive, bad argument): reported as
/// `path:line: message`, never as a panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError(pub String);

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScriptError {}

/// What runs a script's stanzas. One handler lives for one file, so state
/// (an interaction environment) carries from stanza to stanza.
pub trait Handler {
    /// Runs one stanza and returns its actual output.
    ///
    /// An `Err` stops the file (the rest of the script cannot be trusted to
    /// make sense); its message should start with `d.pos` (use
    /// [`TestData::error`]), and the runner adds it when it does not. A
    /// directive the handler does not know is such an error (use
    /// [`unknown_command`]), never an output: an output would be written
    /// into the file by a rewrite and pass from then on.
    fn handle(&mut self, d: &TestData) -> Result<String, ScriptError>;

    /// Whether the directive `cmd` reads input lines (the lines between it
    /// and `----`). The runner makes input under any other directive a
    /// script error: it is nearly always a forgotten `----`, which turns the
    /// next directives into input that nothing reads.
    fn takes_input(&self, cmd: &str) -> bool {
        let _ = cmd;
        false
    }
}

/// The script error for a directive that `known` does not list: names the
/// closest known directive when there is one a typo away
/// (`unknown command "stabilise" (did you mean "stabilize"?)`), and else
/// every known one.
pub fn unknown_command(d: &TestData, known: &[&str]) -> ScriptError {
    let closest = known
        .iter()
        .map(|k| (edit_distance(&d.cmd, k), *k))
        .min()
        .filter(|&(dist, k)| dist <= 2.max(k.len() / 4));
    match closest {
        Some((_, k)) => d.error(format_args!(
            "unknown command {:?} (did you mean {k:?}?)",
            d.cmd
        )),
        None => d.error(format_args!(
            "unknown command {:?} (expected one of: {})",
            d.cmd,
            known.join(", ")
        )),
    }
}

/// The Levenshtein distance between `a` and `b` (in chars).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Words (runs of non-spaces) longer than this are clipped in error messages.
const MAX_WORD: usize = 60;

/// `msg` with every word but the first (the `path:line:` position) longer
/// than 60 characters cut to its start and end around a count of what was
/// left out, so that an error quoting a 400 KB token stays one readable line.
pub fn clip_long_words(msg: &str) -> std::borrow::Cow<'_, str> {
    let long = |w: &str| w.chars().nth(MAX_WORD).is_some();
    if !msg.split(' ').skip(1).any(long) {
        return std::borrow::Cow::Borrowed(msg);
    }
    let mut out = String::with_capacity(msg.len().min(1024));
    for (i, word) in msg.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if i == 0 || !long(word) {
            out.push_str(word);
            continue;
        }
        // Char boundaries: the first 40 and the last 12 characters.
        let head = word.char_indices().nth(40).map_or(word.len(), |(at, _)| at);
        let tail = word.char_indices().rev().nth(11).map_or(0, |(at, _)| at);
        let _ = fmt::Write::write_fmt(
            &mut out,
            format_args!(
                "{}[...{} bytes...]{}",
                &word[..head],
                tail - head,
                &word[tail..]
            ),
        );
    }
    std::borrow::Cow::Owned(out)
}
