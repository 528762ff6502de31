//! The datadriven script format (etcd's / cockroachdb's): parsing, running a
//! handler per stanza, comparing and rewriting.

use std::fmt;

/// One argument of a directive: `key`, `key=val` or `key=(a,b)`. A positional
/// argument has its text in `key` and no `vals`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdArg {
    /// The argument's name, or the positional argument itself.
    pub key: String,
    /// The values after `=`, if any.
    pub vals: Vec<String>,
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
    fn handle(&mut self, d: &TestData) -> Result<String, ScriptError>;
}
