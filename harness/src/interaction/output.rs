//! The output of a stanza: one text buffer that both the environment and the
//! nodes' loggers write to (etcd's `RedirectLogger`), so that log lines appear
//! between the lines describing what caused them.

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, MutexGuard};

use slog::{Drain, Level, OwnedKVList, Record};

/// The level names, in etcd's order: a logger at level `i` prints messages
/// of level `i` and above; `NONE` silences everything, the environment's own
/// output included.
pub const LEVEL_NAMES: [&str; 6] = ["DEBUG", "INFO", "WARN", "ERROR", "FATAL", "NONE"];

/// Index of `NONE` in [`LEVEL_NAMES`].
const QUIET: usize = LEVEL_NAMES.len() - 1;

#[derive(Debug, Default)]
struct Inner {
    buf: String,
    lvl: usize,
}

/// The shared output buffer and its log level. Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct Output {
    inner: Arc<Mutex<Inner>>,
}

impl Output {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while logging cannot leave the buffer inconsistent: keep
        // using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current level, an index into [`LEVEL_NAMES`].
    pub fn level(&self) -> usize {
        self.lock().lvl
    }

    /// Sets the level (an index into [`LEVEL_NAMES`]).
    pub fn set_level(&self, lvl: usize) {
        self.lock().lvl = lvl.min(QUIET);
    }

    /// Whether all output is suppressed (level `NONE`).
    pub fn quiet(&self) -> bool {
        self.lock().lvl == QUIET
    }

    /// Appends `s` unless quiet.
    pub fn write_str(&self, s: &str) {
        let mut g = self.lock();
        if g.lvl != QUIET {
            g.buf.push_str(s);
        }
    }

    /// Appends formatted text unless quiet.
    pub fn write_fmt(&self, args: fmt::Arguments<'_>) {
        let mut g = self.lock();
        if g.lvl != QUIET {
            // Writing to a String cannot fail.
            let _ = g.buf.write_fmt(args);
        }
    }

    /// The length of the text so far.
    pub fn len(&self) -> usize {
        self.lock().buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.lock().buf.is_empty()
    }

    /// Empties the buffer (the level stays) and returns what it held.
    pub fn take(&self) -> String {
        std::mem::take(&mut self.lock().buf)
    }

    /// Indents what was written since position `start` by two spaces, line
    /// by line, ending every line with a newline (etcd's `withIndent`, which
    /// re-reads the text with a line scanner).
    pub fn indent_from(&self, start: usize) {
        let mut g = self.lock();
        if g.buf.len() <= start {
            return;
        }
        let tail = g.buf.split_off(start);
        let mut rest = tail.as_str();
        while !rest.is_empty() {
            let (line, next) = match rest.find('\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            };
            // Go's line scanner drops a carriage return before the newline.
            let line = line.strip_suffix('\r').unwrap_or(line);
            g.buf.push_str("  ");
            g.buf.push_str(line);
            g.buf.push('\n');
            rest = next;
        }
    }

    /// A logger that writes `LEVEL message` lines into this output,
    /// honouring the level.
    pub fn logger(&self) -> slog::Logger {
        slog::Logger::root(OutputDrain { out: self.clone() }, slog::o!())
    }
}

/// The slog drain behind [`Output::logger`]: the message only (key-value
/// pairs are dropped, as etcd's printf-style logger has none), prefixed by
/// etcd's level name and ended by a newline unless it has one.
struct OutputDrain {
    out: Output,
}

fn level_index(l: Level) -> usize {
    match l {
        Level::Trace | Level::Debug => 0,
        Level::Info => 1,
        Level::Warning => 2,
        Level::Error => 3,
        Level::Critical => 4,
    }
}

impl Drain for OutputDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, _: &OwnedKVList) -> Result<(), slog::Never> {
        let lvl = level_index(record.level());
        let mut g = self.out.lock();
        if g.lvl <= lvl {
            let start = g.buf.len();
            g.buf.push_str(LEVEL_NAMES[lvl]);
            g.buf.push(' ');
            let _ = write!(g.buf, "{}", record.msg());
            if g.buf.len() > start && !g.buf.ends_with('\n') {
                g.buf.push('\n');
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_honour_level() {
        let out = Output::default();
        let log = out.logger();
        out.set_level(1);
        slog::debug!(log, "hidden {}", 1);
        slog::info!(log, "{:x} became follower at term {}", 10, 0);
        slog::warn!(log, "careful\n");
        assert_eq!(
            out.take(),
            "INFO a became follower at term 0\nWARN careful\n"
        );
        out.set_level(5);
        slog::error!(log, "quiet");
        out.write_str("x");
        assert!(out.is_empty());
    }

    #[test]
    fn indent_matches_line_scanner() {
        let out = Output::default();
        out.write_str("head\n");
        let start = out.len();
        out.write_str("a\n\nb");
        out.indent_from(start);
        assert_eq!(out.take(), "head\n  a\n  \n  b\n");
    }
}
