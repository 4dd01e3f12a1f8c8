//! The one filter every string from a capture goes through before it can reach a report.
//!
//! Cookies, client names, channel names, certificate names, SNI and ALPN values and file names
//! are chosen by whoever made the capture. Printed raw, they could clear a terminal, move its
//! cursor, set its title (OSC 0), plant hyperlinks (OSC 8), hide the rest of a report, or reorder
//! what a reader sees with bidirectional overrides ("Trojan Source", CVE-2021-42574). This
//! module turns such characters into visible escapes:
//!
//! - C0 controls (U+0000 to U+001F, newline and tab included) and DEL as `\xNN`;
//! - C1 controls (U+0080 to U+009F), which some terminals obey as 8-bit escapes, and the
//!   bidirectional and line-breaking format characters (U+061C, U+200E, U+200F, U+2028, U+2029,
//!   U+202A to U+202E, U+2066 to U+2069) as `\u{NNNN}`;
//! - bytes that are not UTF-8 ([`printable_bytes`]) as `\xNN`.
//!
//! Everything else is kept as it is, a backslash included: a cookie typed as `IT-HELP\A` is
//! shown as `IT-HELP\A`. The output holds no character [`is_unsafe`] accepts, so filtering a
//! filtered string changes nothing, and a report may filter again at its edge at no risk.
//!
//! The analyzer's owned facts (cookies, routing tokens, GCC names, Client Info names,
//! certificate names, SNI, ALPN, anomalies) are built through this filter, so reports in every
//! format, and the verdict and finding summaries that quote them, are safe to print.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// Whether `c` must not reach a terminal, a spreadsheet cell or an HTML page as it is: a C0 or
/// C1 control, DEL, or a bidirectional or line-breaking format character.
pub fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Whether `s` holds a character [`is_unsafe`] accepts. Most strings are printable ASCII, which
/// a byte test settles at once.
fn needs_escape(s: &str) -> bool {
    !s.bytes().all(|b| (0x20..0x7f).contains(&b)) && s.chars().any(is_unsafe)
}

/// Writes the escape of one unsafe character.
fn escape(c: char, out: &mut impl fmt::Write) -> fmt::Result {
    let n = u32::from(c);
    if n < 0x80 {
        write!(out, "\\x{n:02x}")
    } else {
        write!(out, "\\u{{{n:x}}}")
    }
}

/// A string shown with its unsafe characters escaped (see the [module docs](self)); writes
/// without allocating.
#[derive(Debug, Clone, Copy)]
pub struct Printable<'a>(pub &'a str);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some((at, c)) = rest.char_indices().find(|(_, c)| is_unsafe(*c)) {
            f.write_str(rest.get(..at).unwrap_or_default())?;
            escape(c, f)?;
            rest = rest
                .get(at.saturating_add(c.len_utf8())..)
                .unwrap_or_default();
        }
        f.write_str(rest)
    }
}

/// A string in double quotes, escaped as [`Printable`] and nothing more: `"IT-HELP\A"`, where
/// Rust's `{:?}` would print `"IT-HELP\\A"`.
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        fmt::Display::fmt(&Printable(self.0), f)?;
        f.write_char('"')
    }
}

/// `s` with its unsafe characters escaped; borrowed when there is nothing to escape.
pub fn printable(s: &str) -> Cow<'_, str> {
    if needs_escape(s) {
        Cow::Owned(Printable(s).to_string())
    } else {
        Cow::Borrowed(s)
    }
}

/// `s` with its unsafe characters escaped, reusing its allocation when there is nothing to
/// escape.
pub fn printable_string(s: String) -> String {
    if needs_escape(&s) {
        Printable(&s).to_string()
    } else {
        s
    }
}

/// Bytes from the capture as a printable string: UTF-8 kept (unsafe characters escaped), every
/// byte that is not part of valid UTF-8 as `\xNN`.
pub fn printable_bytes(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return printable(s).into_owned();
    }
    let mut out = String::with_capacity(bytes.len().saturating_add(8));
    for chunk in bytes.utf8_chunks() {
        // Writing to a String cannot fail.
        let _ = write!(out, "{}", Printable(chunk.valid()));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_attacks_are_shown_not_obeyed() {
        // Clear screen, window title (OSC 0), hyperlink (OSC 8), 8-bit CSI, bidi override.
        let hostile = "a\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://x\x1b\\b\u{9b}31m\u{202e}cba\u{2066}";
        let shown = printable(hostile);
        assert_eq!(
            shown,
            "a\\x1b[2J\\x1b]0;pwned\\x07\\x1b]8;;http://x\\x1b\\b\\u{9b}31m\\u{202e}cba\\u{2066}"
        );
        assert!(!shown.chars().any(is_unsafe));
    }

    #[test]
    fn ordinary_text_is_borrowed_and_backslashes_stay() {
        assert!(matches!(
            printable("IT-HELP\\A"),
            Cow::Borrowed("IT-HELP\\A")
        ));
        assert_eq!(Quoted("IT-HELP\\A").to_string(), "\"IT-HELP\\A\"");
        assert_eq!(printable("Zürich 東京 é"), "Zürich 東京 é");
    }

    #[test]
    fn invalid_utf8_bytes_are_hex() {
        assert_eq!(printable_bytes(b"ab\xff\xfecd\x00"), "ab\\xff\\xfecd\\x00");
        assert_eq!(printable_bytes("é\u{85}".as_bytes()), "é\\u{85}");
        // A C1 character as one raw byte is not UTF-8: a hex byte too.
        assert_eq!(printable_bytes(b"\x9b"), "\\x9b");
    }

    #[test]
    fn filtering_twice_changes_nothing() {
        let mut all = String::new();
        for n in (0u32..0x3000).chain([0xfeff, 0x1_f600]) {
            all.extend(char::from_u32(n));
        }
        let once = printable(&all).into_owned();
        assert!(!once.chars().any(is_unsafe));
        assert_eq!(printable(&once), once);
        assert_eq!(printable_string(all), once);
    }
}
