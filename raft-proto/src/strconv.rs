//! Go's `strconv.ParseUint(s, 10, 64)`, with its error order: etcd's
//! scripts print Go's error text, so which error comes first is visible.

use std::fmt;

/// Why a number did not parse, worded as Go's `strconv` errors
/// (`strconv.ErrSyntax`, `strconv.ErrRange`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumError {
    /// Empty, or a byte that is not a decimal digit (no sign, no `_`).
    Syntax,
    /// The digits before the first bad byte do not fit 64 bits.
    Range,
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NumError::Syntax => "invalid syntax",
            NumError::Range => "value out of range",
        })
    }
}

impl std::error::Error for NumError {}

/// Parses a decimal `u64` as Go's `strconv.ParseUint(s, 10, 64)` does. Go
/// reads left to right and stops at the first problem, so digits that
/// overflow before a bad byte are out of range (`99999999999999999999x`),
/// while a bad byte before any overflow is a syntax error.
pub fn parse_uint(s: &str) -> Result<u64, NumError> {
    if s.is_empty() {
        return Err(NumError::Syntax);
    }
    let mut n: u64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return Err(NumError::Syntax);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(NumError::Range)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_error_order() {
        assert_eq!(parse_uint("0"), Ok(0));
        assert_eq!(parse_uint("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_uint(""), Err(NumError::Syntax));
        assert_eq!(parse_uint("+1"), Err(NumError::Syntax));
        assert_eq!(parse_uint("1_0"), Err(NumError::Syntax));
        assert_eq!(parse_uint("1x99999999999999999999"), Err(NumError::Syntax));
        assert_eq!(parse_uint("18446744073709551616"), Err(NumError::Range));
        assert_eq!(parse_uint("99999999999999999999x"), Err(NumError::Range));
        assert_eq!(parse_uint("184467440737095516150_"), Err(NumError::Range));
        assert_eq!(
            parse_uint("0000000000000000000018446744073709551616z"),
            Err(NumError::Range)
        );
    }
}
