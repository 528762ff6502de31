//! The process's log: one line per record on stderr, prefixed with the
//! node id so that the interleaved output of `raftexample cluster 3` stays
//! readable.

use std::io::Write;

use slog::{Drain, Level, Logger, OwnedKVList, Record};

/// Writes records at `min` and above to stderr as `LEVEL [node] message`.
struct StderrDrain {
    prefix: String,
    min: Level,
}

impl Drain for StderrDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, r: &Record<'_>, _: &OwnedKVList) -> Result<(), slog::Never> {
        if r.level().is_at_least(self.min) {
            // One write per line, so that lines from several threads do not
            // interleave; a closed stderr is no reason to stop serving.
            let line = format!("{} {} {}\n", r.level().as_short_str(), self.prefix, r.msg());
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
        Ok(())
    }
}

/// A logger for node `id` that prints info and above (debug with `verbose`).
pub fn stderr_logger(id: u64, verbose: bool) -> Logger {
    let min = if verbose { Level::Debug } else { Level::Info };
    Logger::root(
        StderrDrain {
            prefix: format!("[{id}]"),
            min,
        },
        slog::o!(),
    )
}
