//! Running many script files: which handler a file needs, finding the files,
//! reading and rewriting them, and the conformance ratchet list. Shared by
//! the `raft-testdata` tool and the cargo tests so both take one code path.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::{run_script, FileOutcome, Handler, ScriptError};

/// Which handler a script is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// etcd's `rafttest` interaction scripts (`testdata/*.txt`).
    Interaction,
    /// Configuration-change scripts (`confchange/testdata/*.txt`).
    Confchange,
    /// Quorum scripts (`quorum/testdata/*.txt`).
    Quorum,
}

impl Kind {
    /// All kinds, in the order they are named.
    pub const ALL: [Kind; 3] = [Kind::Interaction, Kind::Confchange, Kind::Quorum];

    /// The directory name that selects this kind.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Interaction => "interaction",
            Kind::Confchange => "confchange",
            Kind::Quorum => "quorum",
        }
    }

    /// A fresh handler for one file of this kind.
    pub fn new_handler(self) -> Box<dyn Handler> {
        match self {
            Kind::Interaction => crate::interaction::new_handler(),
            Kind::Confchange => crate::confchange::new_handler(),
            Kind::Quorum => crate::quorum::new_handler(),
        }
    }

    /// The kind of the script at `path`: the nearest ancestor directory named
    /// `interaction`, `confchange` or `quorum` decides, so both our layout
    /// (`testdata/quorum/x.txt`) and etcd's (`quorum/testdata/x.txt`) work;
    /// with no such ancestor, `interaction` (etcd's top-level `testdata/`).
    /// A relative path is looked at from the current directory.
    pub fn infer(path: &Path) -> Kind {
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        abs.parent()
            .into_iter()
            .flat_map(Path::ancestors)
            .filter_map(|dir| dir.file_name()?.to_str())
            .find_map(|name| name.parse().ok())
            .unwrap_or(Kind::Interaction)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown kind {s:?} (want interaction, confchange or quorum)"))
    }
}

/// `e` with the path it concerns in front, so that the tool's message says
/// which file or directory failed; the kind is kept for callers that check it.
fn at_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// The script files named by `path`: the file itself, which must be a
/// `.txt` file, or every `*.txt` below the directory (recursively), sorted
/// by path. Below a directory, `target/` (cargo's build output, full of
/// other crates' `.txt` files) and hidden directories (`.git/`) are
/// skipped. A directory without scripts gives an empty list.
pub fn collect_scripts(path: &Path) -> io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| at_path(path, e))?;
    if !meta.is_dir() {
        if !is_script_name(path) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: not a script (scripts are .txt files)", path.display()),
            ));
        }
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let walk = walkdir::WalkDir::new(path).into_iter().filter_entry(|e| {
        e.depth() == 0 || !e.file_type().is_dir() || !is_skipped_dir(e.file_name())
    });
    for entry in walk {
        let entry = entry.map_err(|e| {
            let p = e.path().unwrap_or(path).display().to_string();
            io::Error::other(format!("{p}: {e}"))
        })?;
        if entry.file_type().is_file() && is_script_name(entry.path()) {
            files.push(entry.into_path());
        }
    }
    files.sort();
    Ok(files)
}

/// Whether `path` names a script: a `.txt` file.
fn is_script_name(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "txt")
}

/// Directories a search for scripts does not enter: cargo's `target` and
/// hidden ones.
fn is_skipped_dir(name: &std::ffi::OsStr) -> bool {
    name == "target" || name.to_string_lossy().starts_with('.')
}

/// `file`'s path below `root` with `/` separators, as ratchet lists and
/// [`matches_pattern`] take it (`file` itself when it is not below `root`).
pub fn relative_name(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    parts.join("/")
}

/// Whether the script at `path` (relative to the directory searched, with
/// `/` separators) is selected by `pattern`: a glob (`*` any run of
/// characters, `?` one) matched against the whole relative path, or else a
/// plain substring of it. This is how `RUN=...` picks files in the cargo
/// tests: `RUN=quorum/`, `RUN=joint`, `RUN='interaction/*snapshot*.txt'`.
pub fn matches_pattern(rel_path: &str, pattern: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return rel_path.contains(pattern);
    }
    glob_match(pattern.as_bytes(), rel_path.as_bytes())
}

/// A glob match of `*` and `?` over bytes (iterative, with backtracking to
/// the last `*`, so linear in practice and never exponential).
fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match pat.get(p) {
            Some(b'*') => {
                star = Some((p, i));
                p += 1;
            }
            Some(&c) if c == b'?' || c == s[i] => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// Reads the script at `path` and runs it with a fresh handler of `kind`
/// (inferred from the path when `None`). Only reading can fail; script
/// problems are in the outcome.
pub fn run_file(path: &Path, kind: Option<Kind>) -> io::Result<FileOutcome> {
    let bytes = std::fs::read(path).map_err(|e| at_path(path, e))?;
    let shown = path.display().to_string();
    let source = match String::from_utf8(bytes) {
        Ok(s) => s,
        // Not text: a mistake in the file, reported at its line like any
        // other (and the file is never rewritten).
        Err(e) => return Ok(not_utf8(&shown, e)),
    };
    let kind = kind.unwrap_or_else(|| Kind::infer(path));
    let mut handler = kind.new_handler();
    Ok(run_script(&shown, &source, handler.as_mut()))
}

/// The outcome of a file that is not UTF-8: a script error at the line of
/// the first invalid byte.
fn not_utf8(path: &str, e: std::string::FromUtf8Error) -> FileOutcome {
    let at = e.utf8_error().valid_up_to();
    let bytes = e.into_bytes();
    let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    FileOutcome {
        path: path.to_string(),
        original: text.clone(),
        rewritten: text,
        mismatches: Vec::new(),
        error: Some(ScriptError(format!(
            "{path}:{line}: the file is not UTF-8 text (invalid byte 0x{:02x} at offset {at})",
            bytes[at]
        ))),
    }
}

/// Writes the actual outputs of `outcome` back into its file, if any output
/// differs; returns whether the file changed. A file whose run stopped on a
/// script error is left alone (its later outputs are unknown).
pub fn rewrite_file(path: &Path, outcome: &FileOutcome) -> io::Result<bool> {
    if outcome.error.is_some() || !outcome.changed() {
        return Ok(false);
    }
    std::fs::write(path, &outcome.rewritten).map_err(|e| at_path(path, e))?;
    Ok(true)
}

/// Reads a ratchet list: one path per line (relative to the conformance
/// directory), `#` comments and blank lines ignored.
pub fn read_ratchet(path: &Path) -> io::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| at_path(path, e))?;
    Ok(parse_ratchet(&text))
}

/// Parses the text of a ratchet list (see [`read_ratchet`]).
pub fn parse_ratchet(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Where etcd's golden files are, if present: `$RAFT_CONFORMANCE_DIR` when
/// set, else `../shared/conformance/etcd-raft` relative to the workspace root
/// (where CI puts the shared directory).
pub fn conformance_dir() -> Option<PathBuf> {
    shared_conformance_dir("etcd-raft")
}

/// A directory of conformance scripts named `name` beside etcd's golden
/// files (e.g. `etcd-go-generated`, scripts whose output etcd's Go tests
/// wrote), if present: `../shared/conformance/<name>` relative to the
/// workspace root, or beside `$RAFT_CONFORMANCE_DIR` when that is set.
pub fn shared_conformance_dir(name: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("RAFT_CONFORMANCE_DIR") {
        Some(d) if name == "etcd-raft" => PathBuf::from(d),
        Some(d) => PathBuf::from(d).join("..").join(name),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/conformance")
            .join(name),
    };
    dir.is_dir().then_some(dir)
}
