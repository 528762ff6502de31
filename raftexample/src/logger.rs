//! The process's log: one line per record on stderr, prefixed with the
//! time of day (UTC) and the node id so that the interleaved output of `raftexample cluster 3` stays
//! readable.

use std::io::Write;

use slog::{Drain, Level, Logger, OwnedKVList, Record, KV};

/// Writes records at `min` and above to stderr as `LEVEL [node] message`.
struct StderrDrain {
    prefix: String,
    min: Level,
}

impl Drain for StderrDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, r: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        if r.level().is_at_least(self.min) {
            let mut line = format!(
                "{} {} {} {}",
                utc_time(),
                r.level().as_short_str(),
                self.prefix,
                r.msg()
            );
            let mut kv = KvText(&mut line);
            // Formatting into a String cannot fail.
            let _ = r.kv().serialize(r, &mut kv);
            let _ = values.serialize(r, &mut kv);
            line.push('\n');
            // One write per line, so that lines from several threads do not
            // interleave; a closed stderr is no reason to stop serving.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
        Ok(())
    }
}

/// The time of day in UTC as `hh:mm:ss.mmm`.
fn utc_time() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let s = since.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        since.subsec_millis()
    )
}

/// Appends a record's key-value pairs as ` key=value`.
struct KvText<'a>(&'a mut String);

impl slog::Serializer for KvText<'_> {
    fn emit_arguments(&mut self, key: slog::Key, val: &std::fmt::Arguments<'_>) -> slog::Result {
        use std::fmt::Write as _;
        let _ = write!(self.0, " {key}={val}");
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
