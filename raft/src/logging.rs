//! Ready-made loggers for raft's log lines.
//!
//! Raft logs through [`slog`] (re-exported as [`crate::slog`]): every
//! constructor ([`RawNode::new`](crate::RawNode::new),
//! [`start_node`](crate::start_node), ...) takes a [`slog::Logger`], and the
//! lines it writes are etcd's, word for word (`1 became leader at term 2`).
//! Applications that already log through slog pass their own logger (a child
//! with `logger.new(slog::o!("group" => 7))` adds its key-value pairs);
//! everyone else picks one of these:
//!
//! - [`default_logger`]: etcd's format on standard error, at the level named
//!   by the [`LOG_LEVEL_ENV`] environment variable (`info` when unset);
//! - [`stderr_logger`]: the same at a level the caller chooses;
//! - [`discard_logger`]: nothing at all (tests, benchmarks, quiet tools);
//! - `tracing_logger` (feature `tracing`): every line becomes a
//!   [`tracing`](https://docs.rs/tracing) event with target `etcdraft`.
//!
//! The library forces no slog compile-time level on its users: slog's own
//! defaults apply (debug lines are compiled in for debug builds and out of
//! release builds), and an application that wants raft's debug lines in a
//! release build turns on slog's `release_max_level_debug` feature itself.
//!
//! ```
//! use etcdraft::logging::{self, LogLevel};
//!
//! // What `default_logger` reads: ETCDRAFT_LOG=debug, warn, off, ...
//! assert_eq!("debug".parse::<LogLevel>(), Ok(LogLevel::Debug));
//! assert_eq!("WARN".parse::<LogLevel>(), Ok(LogLevel::Warn));
//! assert!("loud".parse::<LogLevel>().is_err());
//!
//! let quiet = logging::discard_logger();
//! let errors_only = logging::stderr_logger(LogLevel::Error);
//! etcdraft::slog::info!(errors_only, "not printed: below the level");
//! # let _ = quiet;
//! ```

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use slog::{Drain, Logger, OwnedKVList, Record, KV};

/// The environment variable [`default_logger`] reads its level from: one of
/// `trace`, `debug`, `info`, `warn`, `error`, `fatal`, `off` (any case).
pub const LOG_LEVEL_ENV: &str = "ETCDRAFT_LOG";

/// The least severe level a logger of this module writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Everything (raft itself has no trace lines; an application's may).
    Trace,
    /// etcd's debug lines too: every message sent and received, and more.
    Debug,
    /// State changes: elections, configuration changes, snapshots (the default).
    Info,
    /// Warnings and worse.
    Warn,
    /// Errors and worse.
    Error,
    /// Only the line logged just before raft panics on a broken invariant.
    Fatal,
    /// Nothing.
    Off,
}

impl LogLevel {
    /// The names [`FromStr`] accepts, in order of severity.
    pub const NAMES: [&'static str; 7] =
        ["trace", "debug", "info", "warn", "error", "fatal", "off"];

    /// Whether a record at slog level `level` is written at this level.
    fn admits(self, level: slog::Level) -> bool {
        let rank = match level {
            slog::Level::Trace => LogLevel::Trace,
            slog::Level::Debug => LogLevel::Debug,
            slog::Level::Info => LogLevel::Info,
            slog::Level::Warning => LogLevel::Warn,
            slog::Level::Error => LogLevel::Error,
            slog::Level::Critical => LogLevel::Fatal,
        };
        self != LogLevel::Off && rank >= self
    }
}

/// A level name that [`LogLevel`]'s [`FromStr`] does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownLogLevel(pub String);

impl fmt::Display for UnknownLogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown log level {:?}: expected one of {}",
            clip(&self.0),
            LogLevel::NAMES.join(", ")
        )
    }
}

impl std::error::Error for UnknownLogLevel {}

/// At most 40 characters of an unrecognized value, so that an error quoting
/// it stays one readable line.
fn clip(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

impl FromStr for LogLevel {
    type Err = UnknownLogLevel;

    /// Parses etcd's and slog's level names in any case: `trace`, `debug`,
    /// `info`, `warn`/`warning`, `error`, `fatal`/`crit`/`critical`,
    /// `off`/`none`.
    fn from_str(s: &str) -> Result<LogLevel, UnknownLogLevel> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "trace" => LogLevel::Trace,
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "warn" | "warning" => LogLevel::Warn,
            "error" => LogLevel::Error,
            "fatal" | "crit" | "critical" => LogLevel::Fatal,
            "off" | "none" => LogLevel::Off,
            _ => return Err(UnknownLogLevel(s.to_owned())),
        })
    }
}

/// A logger that writes etcd's format to standard error, at the level named
/// by [`LOG_LEVEL_ENV`] (`info` when the variable is unset or empty).
///
/// Each line is what etcd's default logger prints, with the time in UTC:
/// `raft2026/12/02 15:04:05 INFO: 1 became leader at term 2`. A value that
/// is not a level name is reported on the logger's first line (a `WARN`)
/// and the level stays `info`: a typo in an environment variable should not
/// silence the warnings it was meant to show.
///
/// ```
/// let logger = etcdraft::default_logger();
/// etcdraft::slog::info!(logger, "{:x} became follower at term {}", 1, 0);
/// ```
pub fn default_logger() -> Logger {
    let value = std::env::var(LOG_LEVEL_ENV).unwrap_or_default();
    if value.trim().is_empty() {
        return stderr_logger(LogLevel::Info);
    }
    match value.parse() {
        Ok(level) => stderr_logger(level),
        Err(e) => {
            let logger = stderr_logger(LogLevel::Info);
            slog::warn!(logger, "{}={}; logging at info", LOG_LEVEL_ENV, e);
            logger
        }
    }
}

/// A logger that writes etcd's format (see [`default_logger`]) to standard
/// error, at `level`.
pub fn stderr_logger(level: LogLevel) -> Logger {
    Logger::root(StderrDrain { level }, slog::o!())
}

/// A logger that drops every line: for tests, benchmarks and tools that
/// report through their own output.
///
/// ```
/// use etcdraft::eraftpb::ConfState;
/// use etcdraft::{Config, MemStorage, RawNode};
///
/// let voters = ConfState { voters: vec![1], ..Default::default() };
/// let storage = MemStorage::new_with_conf_state(voters);
/// let node = RawNode::new(&Config::new(1), storage, &etcdraft::discard_logger())?;
/// assert_eq!(node.status().id, 1);
/// # Ok::<(), etcdraft::Error>(())
/// ```
pub fn discard_logger() -> Logger {
    Logger::root(slog::Discard, slog::o!())
}

/// A logger that turns every line into a `tracing` event with target
/// `etcdraft` at the matching level (slog's critical becomes `ERROR`), for
/// applications whose logs go through `tracing` subscribers. The message is
/// the event's `message`; a logger's key-value pairs follow it as
/// `key=value`.
#[cfg(feature = "tracing")]
pub fn tracing_logger() -> Logger {
    Logger::root(TracingDrain, slog::o!())
}

/// Writes etcd's `raft<date> <time> LEVEL: message` lines to standard error.
struct StderrDrain {
    level: LogLevel,
}

impl Drain for StderrDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        if !self.level.admits(record.level()) {
            return Ok(());
        }
        let mut line = String::with_capacity(96);
        line.push_str("raft");
        push_utc_timestamp(&mut line, SystemTime::now());
        line.push(' ');
        line.push_str(level_name(record.level()));
        line.push_str(": ");
        let _ = write!(line, "{}", record.msg());
        push_key_values(&mut line, record, values);
        if !line.ends_with('\n') {
            line.push('\n');
        }
        // One write of the whole line, so that lines of concurrent nodes do
        // not interleave; a closed stderr is not worth a panic.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
        Ok(())
    }
}

/// etcd's level names (Go's raft logger), with slog's critical as `FATAL`,
/// the line raft logs just before panicking.
fn level_name(level: slog::Level) -> &'static str {
    match level {
        slog::Level::Trace => "TRACE",
        slog::Level::Debug => "DEBUG",
        slog::Level::Info => "INFO",
        slog::Level::Warning => "WARN",
        slog::Level::Error => "ERROR",
        slog::Level::Critical => "FATAL",
    }
}

/// Appends ` key=value` for the record's and the logger's key-value pairs.
fn push_key_values(line: &mut String, record: &Record<'_>, values: &OwnedKVList) {
    let mut ser = KeyValues(line);
    let _ = record.kv().serialize(record, &mut ser);
    let _ = values.serialize(record, &mut ser);
}

struct KeyValues<'a>(&'a mut String);

impl slog::Serializer for KeyValues<'_> {
    fn emit_arguments(&mut self, key: slog::Key, val: &fmt::Arguments<'_>) -> slog::Result {
        let _ = write!(self.0, " {key}={val}");
        Ok(())
    }
}

/// Appends Go's `log.LstdFlags` timestamp, ` 2009/01/23 01:23:23` less the
/// leading space (etcd's prefix `raft` is followed directly by the date),
/// in UTC.
fn push_utc_timestamp(out: &mut String, now: SystemTime) {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let _ = write!(
        out,
        "{year:04}/{month:02}/{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
}

/// The proleptic Gregorian date of the `days`-th day after 1970-01-01
/// (Howard Hinnant's `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01, so that leap days end each 4-year cycle.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // day of the 400-year era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153; // month from March, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(feature = "tracing")]
struct TracingDrain;

#[cfg(feature = "tracing")]
impl Drain for TracingDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        let mut message = String::new();
        let _ = write!(message, "{}", record.msg());
        push_key_values(&mut message, record, values);
        // tracing's levels are part of each callsite, so one macro per level.
        match record.level() {
            slog::Level::Trace => tracing::trace!(target: "etcdraft", "{message}"),
            slog::Level::Debug => tracing::debug!(target: "etcdraft", "{message}"),
            slog::Level::Info => tracing::info!(target: "etcdraft", "{message}"),
            slog::Level::Warning => tracing::warn!(target: "etcdraft", "{message}"),
            slog::Level::Error | slog::Level::Critical => {
                tracing::error!(target: "etcdraft", "{message}")
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        // 2000-02-29: a leap day of a century divisible by 400.
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(20_789), (2026, 12, 2));
    }

    #[test]
    fn timestamp_is_gos_lstdflags_format() {
        let mut s = String::new();
        let t =
            UNIX_EPOCH + std::time::Duration::from_secs(20_789 * 86_400 + 15 * 3600 + 4 * 60 + 5);
        push_utc_timestamp(&mut s, t);
        assert_eq!(s, "2026/12/02 15:04:05");
    }

    #[test]
    fn levels_parse_and_filter() {
        for (i, name) in LogLevel::NAMES.iter().enumerate() {
            let level: LogLevel = name.to_uppercase().parse().unwrap();
            assert_eq!(LogLevel::NAMES[level as usize], LogLevel::NAMES[i]);
        }
        let err = "x"
            .repeat(1000)
            .parse::<LogLevel>()
            .unwrap_err()
            .to_string();
        assert!(err.len() < 150, "{err}");
        assert!(LogLevel::Info.admits(slog::Level::Warning));
        assert!(!LogLevel::Info.admits(slog::Level::Debug));
        assert!(LogLevel::Fatal.admits(slog::Level::Critical));
        assert!(!LogLevel::Off.admits(slog::Level::Critical));
    }
}

#[cfg(all(test, feature = "tracing"))]
mod tracing_tests {
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record as SpanRecord};
    use tracing::{Event, Level, Metadata, Subscriber};

    /// Collects `(level, target, message)` of every event.
    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<Vec<(Level, String, String)>>>);

    struct Message<'a>(&'a mut String);

    impl Visit for Message<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                *self.0 = format!("{value:?}");
            }
        }
    }

    impl Subscriber for Collect {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &SpanRecord<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut message = String::new();
            event.record(&mut Message(&mut message));
            let meta = event.metadata();
            self.0
                .lock()
                .unwrap()
                .push((*meta.level(), meta.target().to_owned(), message));
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    #[test]
    fn lines_become_events_at_their_level() {
        let collect = Collect::default();
        tracing::subscriber::with_default(collect.clone(), || {
            let logger = super::tracing_logger().new(slog::o!("group" => 7));
            slog::info!(logger, "{:x} became leader at term {}", 1, 2);
            slog::debug!(logger, "a debug line");
            slog::crit!(logger, "about to panic");
        });
        let events = collect.0.lock().unwrap().clone();
        let target = "etcdraft".to_owned();
        assert_eq!(
            events,
            [
                (
                    Level::INFO,
                    target.clone(),
                    "1 became leader at term 2 group=7".to_owned()
                ),
                (
                    Level::DEBUG,
                    target.clone(),
                    "a debug line group=7".to_owned()
                ),
                (Level::ERROR, target, "about to panic group=7".to_owned()),
            ]
        );
    }
}
