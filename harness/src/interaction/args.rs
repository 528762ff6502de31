//! Reading a stanza's arguments the way etcd's handlers do (Go's
//! `strconv` rules), reporting mistakes as script errors.

use raft::describe::go_quote;
use raft_proto::strconv::{parse_uint, NumError};

use crate::datadriven::{go_bool, CmdArg, ScriptError, TestData};

/// What a command handler can fail with.
#[derive(Debug)]
pub enum Fail {
    /// A mistake in the script (etcd's `t.Fatal`): the run stops with
    /// `path:line: message`.
    Script(ScriptError),
    /// An error of the environment or of raft, printed into the output like
    /// etcd prints the handler's returned error.
    Print(String),
}

impl From<raft::Error> for Fail {
    fn from(e: raft::Error) -> Fail {
        Fail::Print(e.to_string())
    }
}

/// The result of a command handler.
pub type CmdResult = Result<(), Fail>;

/// A script error at `d`'s position.
pub fn script_err(d: &TestData, msg: impl std::fmt::Display) -> Fail {
    Fail::Script(d.error(msg))
}

/// A script error for a value that does not parse: Go's error text (what
/// etcd's harness fails with) followed by what was expected instead.
pub fn bad_value(d: &TestData, go_err: impl std::fmt::Display, expected: &str) -> Fail {
    script_err(d, format!("{go_err} (expected {expected})"))
}

/// Go's error text for `func` failing on `s`, e.g. `strconv.Atoi: parsing
/// "x": invalid syntax`.
fn strconv_err(func: &str, s: &str, reason: &str) -> String {
    format!(
        "strconv.{func}: parsing {}: {reason}",
        go_quote(s.as_bytes())
    )
}

/// Go's `strconv.ParseUint(s, 10, 64)`, with Go's error text.
pub fn parse_u64(s: &str) -> Result<u64, String> {
    parse_uint(s).map_err(|e| strconv_err("ParseUint", s, &e.to_string()))
}

/// Go's `strconv.Atoi` (a signed machine integer), with Go's error text.
/// Go parses the magnitude as `ParseUint` does (so overflowing digits are
/// out of range before a later bad byte), then checks it against the sign.
pub fn parse_int(s: &str) -> Result<i64, String> {
    let err = |e: NumError| strconv_err("Atoi", s, &e.to_string());
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_uint(digits).map_err(err)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
            .ok_or_else(|| err(NumError::Range))
    } else {
        i64::try_from(magnitude).map_err(|_| err(NumError::Range))
    }
}

/// Go's `strconv.ParseBool`, with Go's error text.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    go_bool(s).ok_or_else(|| strconv_err("ParseBool", s, "invalid syntax"))
}

/// The first argument as an integer (etcd `firstAsInt`).
pub fn first_as_int(d: &TestData) -> Result<i64, Fail> {
    let arg = d
        .cmd_args
        .first()
        .ok_or_else(|| script_err(d, "expected at least one argument"))?;
    parse_int(&arg.key).map_err(|e| bad_value(d, e, "an integer as the first argument"))
}

/// The positional arguments as node ids (etcd `nodeIdxs`, without the
/// conversion to indexes); `key=value` arguments are skipped.
pub fn node_ids(d: &TestData) -> Result<Vec<i64>, Fail> {
    d.cmd_args
        .iter()
        .filter(|a| a.vals.is_empty())
        .map(|a| parse_int(&a.key).map_err(|e| bad_value(d, e, "node ids")))
        .collect()
}

/// Value `i` of `arg` read as a `u64` (etcd `CmdArg.Scan` into a uint64).
pub fn scan_u64(d: &TestData, arg: &CmdArg, i: usize) -> Result<u64, Fail> {
    parse_u64(&arg.vals[i])
        .map_err(|e| bad_value(d, format!("{}: {e}", arg.key), "an unsigned integer"))
}

/// Value `i` of `arg` read as an `int`.
pub fn scan_int(d: &TestData, arg: &CmdArg, i: usize) -> Result<i64, Fail> {
    parse_int(&arg.vals[i]).map_err(|e| bad_value(d, format!("{}: {e}", arg.key), "an integer"))
}

/// Value `i` of `arg` read as a `bool`.
pub fn scan_bool(d: &TestData, arg: &CmdArg, i: usize) -> Result<bool, Fail> {
    parse_bool(&arg.vals[i]).map_err(|e| bad_value(d, format!("{}: {e}", arg.key), "true or false"))
}

/// The single value of the argument named `key` (etcd `ScanArgs`), which
/// must be present.
pub fn scan_arg<'a>(d: &'a TestData, key: &str) -> Result<&'a str, Fail> {
    let arg = d
        .arg(key)
        .ok_or_else(|| script_err(d, format!("missing argument: {key}")))?;
    match arg.vals.as_slice() {
        [v] => Ok(v),
        _ => Err(script_err(d, format!("{key}: expected exactly one value"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_parsers() {
        assert_eq!(parse_u64("12"), Ok(12));
        assert_eq!(
            parse_u64("x"),
            Err("strconv.ParseUint: parsing \"x\": invalid syntax".to_owned())
        );
        assert!(parse_u64("-1").is_err());
        assert_eq!(parse_int("-3"), Ok(-3));
        assert_eq!(parse_int("-9223372036854775808"), Ok(i64::MIN));
        // Go reports overflowing digits before a later bad byte.
        assert_eq!(
            parse_u64("99999999999999999999x"),
            Err(
                "strconv.ParseUint: parsing \"99999999999999999999x\": value out of range"
                    .to_owned()
            )
        );
        assert_eq!(
            parse_int("-99999999999999999999x"),
            Err("strconv.Atoi: parsing \"-99999999999999999999x\": value out of range".to_owned())
        );
        assert_eq!(
            parse_int("9223372036854775808"),
            Err("strconv.Atoi: parsing \"9223372036854775808\": value out of range".to_owned())
        );
        assert_eq!(
            parse_int("1x9999999999999999999"),
            Err("strconv.Atoi: parsing \"1x9999999999999999999\": invalid syntax".to_owned())
        );
        assert_eq!(parse_bool("T"), Ok(true));
        assert_eq!(parse_bool("False"), Ok(false));
        assert!(parse_bool("yes").is_err());
    }
}
