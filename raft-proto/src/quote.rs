//! Go's `%q` quoting (`strconv.Quote`), which etcd's golden files show in
//! entry data and error texts. It lives here, beside the wire types, so that
//! both the conf-change parser of this crate and raft's `describe` quote
//! exactly as Go does from one implementation.

mod printable;

use std::fmt::Write as _;

/// Appends `data` to `out` quoted as Go's `%q` (`strconv.Quote`) does.
///
/// Printable characters (per Go's `strconv.IsPrint`) stay as they are; `"`
/// and `\` are backslash-escaped; `\a \b \f \n \r \t \v` use their short
/// escapes; other control characters become `\xNN`, other non-printable
/// characters `\uNNNN` or `\UNNNNNNNN`; bytes that are not valid UTF-8 are
/// escaped one at a time as `\xNN`.
pub fn go_quote_into(out: &mut String, data: &[u8]) {
    out.reserve(data.len() + 2);
    out.push('"');
    for chunk in data.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_quoted_char(out, c);
        }
        // Go decodes an invalid sequence one byte at a time, so each byte
        // becomes its own escape.
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
}

/// `data` quoted as Go's `%q` does; see [`go_quote_into`].
pub fn go_quote(data: &[u8]) -> String {
    let mut s = String::new();
    go_quote_into(&mut s, data);
    s
}

/// Appends one valid character as Go's quoting escapes it.
fn push_quoted_char(out: &mut String, c: char) {
    match c {
        '"' | '\\' => {
            out.push('\\');
            out.push(c);
        }
        _ if is_go_printable(c) => out.push(c),
        '\u{07}' => out.push_str("\\a"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0b}' => out.push_str("\\v"),
        _ => {
            let r = c as u32;
            let _ = if r < 0x20 || r == 0x7f {
                write!(out, "\\x{r:02x}")
            } else if r < 0x10000 {
                write!(out, "\\u{r:04x}")
            } else {
                write!(out, "\\U{r:08x}")
            };
        }
    }
}

/// Whether Go's `strconv.IsPrint` holds for `c`.
fn is_go_printable(c: char) -> bool {
    let r = c as u32;
    // The ASCII range is by far the most common; answer it without a search.
    if r < 0x80 {
        return (0x20..0x7f).contains(&r);
    }
    printable::PRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < r {
                std::cmp::Ordering::Less
            } else if lo > r {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::go_quote;

    #[test]
    fn test_go_quote_ascii() {
        assert_eq!(go_quote(b""), r#""""#);
        assert_eq!(go_quote(b"prop_1"), r#""prop_1""#);
        assert_eq!(go_quote(b"a b~"), r#""a b~""#);
        assert_eq!(go_quote(b"\"\\"), r#""\"\\""#);
        assert_eq!(go_quote(b"\x07\x08\x0c\n\r\t\x0b"), r#""\a\b\f\n\r\t\v""#);
        assert_eq!(go_quote(b"\x00\x01\x1f\x7f"), r#""\x00\x01\x1f\x7f""#);
    }

    #[test]
    fn test_go_quote_unicode() {
        // Printable characters stay literal, in any script or plane.
        assert_eq!(go_quote("héllo ☺ 日本".as_bytes()), "\"héllo ☺ 日本\"");
        assert_eq!(go_quote("😀".as_bytes()), "\"😀\"");
        assert_eq!(go_quote("\u{fffd}".as_bytes()), "\"\u{fffd}\"");
        // A combining mark (category M) is printable.
        assert_eq!(go_quote("e\u{301}".as_bytes()), "\"e\u{301}\"");
        // C1 controls, non-ASCII spaces, format characters, separators,
        // private use and unassigned code points are escaped.
        assert_eq!(go_quote("\u{80}".as_bytes()), r#""\u0080""#);
        assert_eq!(go_quote("\u{a0}".as_bytes()), r#""\u00a0""#);
        assert_eq!(go_quote("\u{ad}".as_bytes()), r#""\u00ad""#);
        assert_eq!(go_quote("\u{200b}".as_bytes()), r#""\u200b""#);
        assert_eq!(go_quote("\u{2028}".as_bytes()), r#""\u2028""#);
        assert_eq!(go_quote("\u{3000}".as_bytes()), r#""\u3000""#);
        assert_eq!(go_quote("\u{feff}".as_bytes()), r#""\ufeff""#);
        assert_eq!(go_quote("\u{e000}".as_bytes()), r#""\ue000""#);
        assert_eq!(go_quote("\u{378}".as_bytes()), r#""\u0378""#);
        assert_eq!(go_quote("\u{e0001}".as_bytes()), r#""\U000e0001""#);
        assert_eq!(go_quote("\u{10ffff}".as_bytes()), r#""\U0010ffff""#);
    }

    #[test]
    fn test_go_quote_invalid_utf8() {
        assert_eq!(go_quote(b"\xff"), r#""\xff""#);
        assert_eq!(go_quote(b"a\x80b"), r#""a\x80b""#);
        // A truncated sequence is escaped byte by byte, then decoding resumes.
        assert_eq!(go_quote(b"\xe2\x82a"), r#""\xe2\x82a""#);
        assert_eq!(go_quote(b"\xe2\x82\xac"), "\"€\"");
        // Encoded surrogates and overlong forms are invalid in Go too.
        assert_eq!(go_quote(b"\xed\xa0\x80"), r#""\xed\xa0\x80""#);
        assert_eq!(go_quote(b"\xc0\xaf"), r#""\xc0\xaf""#);
        assert_eq!(go_quote(b"\xf4\x90\x80\x80"), r#""\xf4\x90\x80\x80""#);
    }

    #[test]
    fn test_printable_table_is_sorted() {
        let t = super::printable::PRINTABLE;
        assert!(t.iter().all(|&(lo, hi)| lo <= hi));
        assert!(t.windows(2).all(|w| w[0].1 + 1 < w[1].0));
        assert_eq!(t[0], (0x20, 0x7e));
    }
}
