//! TLS client and server fingerprints: JA4 (FoxIO, BSD-3-Clause), JA3 and JA3S (Salesforce,
//! BSD-3-Clause), and JA4S behind the off-by-default `foxio-licensed` feature (FoxIO License
//! 1.1).
//!
//! JA4 follows FoxIO's text specification (`technical_details/JA4.md`):
//! - GREASE values are dropped everywhere;
//! - the version comes from supported_versions (highest non-GREASE), else the legacy version;
//! - signature algorithms come only from extension 0x000d, in wire order;
//! - ALPN: first and last character of the first protocol name; a one-character name gives
//!   that character twice; if either end is not ASCII alphanumeric, the first and last hex
//!   digits of the whole name are used.
//!
//! Where the specification and FoxIO's own implementations disagree (ALPN only): for a
//! one-character name the Rust implementation prints `c0`, and for a non-ASCII name the Rust
//! and Python implementations print `99`, where the text specification gives the hex rule
//! (`tls-non-ascii-alpn.pcapng`: `t13d151699_...` from the implementations,
//! `t13d1516bd_...` from the specification and from this module). RDP clients send no ALPN,
//! so the difference never shows on RDP traffic.

use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::extensions::ExtensionType;
use super::handshake::{ClientHello, ServerHello};
use super::{is_grease, ProtocolVersion};

/// The JA4 client fingerprint and its raw and original-order variants.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ja4 {
    /// `JA4`: `t13d1516h2_8daaf6152771_e5627efa2ab1`.
    pub ja4: String,
    /// `JA4_r`: the sorted lists, unhashed.
    pub ja4_r: String,
    /// `JA4_o`: lists in wire order (SNI and ALPN kept), hashed.
    pub ja4_o: String,
    /// `JA4_ro`: lists in wire order, unhashed.
    pub ja4_ro: String,
}

/// A JA3 or JA3S fingerprint: the MD5 and the string it hashes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ja3 {
    /// The MD5 of `full`, lower-case hex.
    pub hash: String,
    /// The comma/dash string, e.g. `771,4865-4866,0-11-10,29-23,0`.
    pub full: String,
}

/// Appends the lower-case hex digit of the low nibble of `n`.
fn push_nibble(s: &mut String, n: u16) {
    if let Some(c) = char::from_digit(u32::from(n & 0xf), 16) {
        s.push(c);
    }
}

// Fingerprints are computed once per ClientHello, but per-element `format!` calls made them the
// most expensive part of a connection's analysis: digits are pushed directly instead.
fn hex_lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        push_nibble(&mut s, u16::from(*b) >> 4);
        push_nibble(&mut s, u16::from(*b));
    }
    s
}

/// The first 12 hex characters of the SHA-256 of `s`; `000000000000` for an empty list.
fn hash12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_string();
    }
    let digest = Sha256::digest(s.as_bytes());
    hex_lower(digest.get(..6).unwrap_or_default())
}

fn version_code(v: ProtocolVersion) -> &'static str {
    match v.0 {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// The two ALPN characters of JA4 (specification rule, see the module doc).
fn alpn_chars(first_alpn: Option<&[u8]>) -> String {
    let Some(name) = first_alpn else {
        return "00".to_string();
    };
    let (Some(&first), Some(&last)) = (name.first(), name.last()) else {
        return "00".to_string();
    };
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        let mut s = String::with_capacity(2);
        s.push(char::from(first));
        s.push(char::from(last));
        s
    } else {
        let hex = hex_lower(name);
        let mut s = String::with_capacity(2);
        s.extend(hex.chars().next());
        s.extend(hex.chars().last());
        s
    }
}

fn count2(n: usize) -> String {
    format!("{:02}", n.min(99))
}

/// `v1,v2,...` with each value as four lower-case hex digits.
fn hex4_list(values: impl Iterator<Item = u16>) -> String {
    let mut s = String::with_capacity(values.size_hint().0.saturating_mul(5));
    for v in values {
        if !s.is_empty() {
            s.push(',');
        }
        for shift in [12u16, 8, 4, 0] {
            push_nibble(&mut s, v >> shift);
        }
    }
    s
}

/// Computes JA4 and its variants for a ClientHello carried over TCP.
pub fn ja4(hello: &ClientHello<'_>) -> Ja4 {
    let version = hello
        .decoded
        .supported_versions
        .iter()
        .copied()
        .filter(|v| !v.is_grease())
        .max()
        .unwrap_or(hello.legacy_version);
    let has_sni = hello
        .extensions
        .iter()
        .any(|e| e.extension_type == ExtensionType::SERVER_NAME);
    let ciphers: Vec<u16> = hello
        .cipher_suites
        .iter()
        .map(|c| c.0)
        .filter(|c| !is_grease(*c))
        .collect();
    let exts: Vec<u16> = hello
        .extensions
        .iter()
        .map(|e| e.extension_type.0)
        .filter(|e| !is_grease(*e))
        .collect();
    let sigs: Vec<u16> = hello
        .decoded
        .signature_algorithms
        .iter()
        .map(|s| s.0)
        .filter(|s| !is_grease(*s))
        .collect();
    let prefix = format!(
        "t{}{}{}{}{}",
        version_code(version),
        if has_sni { 'd' } else { 'i' },
        count2(ciphers.len()),
        count2(exts.len()),
        alpn_chars(hello.decoded.alpn.first().copied()),
    );

    let mut sorted_ciphers = ciphers.clone();
    sorted_ciphers.sort_unstable();
    let mut sorted_exts: Vec<u16> = exts
        .iter()
        .copied()
        .filter(|e| *e != ExtensionType::SERVER_NAME.0 && *e != ExtensionType::ALPN.0)
        .collect();
    sorted_exts.sort_unstable();
    let sig_list = hex4_list(sigs.iter().copied());

    let with_sigs = |exts: String| -> String {
        if sig_list.is_empty() || exts.is_empty() {
            exts
        } else {
            format!("{exts}_{sig_list}")
        }
    };
    let c_sorted = with_sigs(hex4_list(sorted_exts.iter().copied()));
    let c_orig = with_sigs(hex4_list(exts.iter().copied()));
    let b_sorted = hex4_list(sorted_ciphers.iter().copied());
    let b_orig = hex4_list(ciphers.iter().copied());
    Ja4 {
        ja4: format!("{prefix}_{}_{}", hash12(&b_sorted), hash12(&c_sorted)),
        ja4_r: format!("{prefix}_{b_sorted}_{c_sorted}"),
        ja4_o: format!("{prefix}_{}_{}", hash12(&b_orig), hash12(&c_orig)),
        ja4_ro: format!("{prefix}_{b_orig}_{c_orig}"),
    }
}

/// `v1-v2-...` in decimal.
fn dec_list(values: impl Iterator<Item = u16>) -> String {
    let mut s = String::new();
    for v in values {
        if !s.is_empty() {
            s.push('-');
        }
        push_decimal(&mut s, v);
    }
    s
}

fn push_decimal(s: &mut String, v: u16) {
    let mut digits = [0u8; 5];
    let mut n = v;
    let mut len = 0usize;
    for d in digits.iter_mut().rev() {
        *d = u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
        len = len.saturating_add(1);
        if n == 0 {
            break;
        }
    }
    let start = digits.len().saturating_sub(len);
    for d in digits.iter().skip(start) {
        if let Some(c) = char::from_digit(u32::from(*d), 10) {
            s.push(c);
        }
    }
}

fn md5_hex(s: &str) -> String {
    hex_lower(&Md5::digest(s.as_bytes()))
}

/// Computes JA3 (`version,ciphers,extensions,groups,ec_point_formats`, GREASE removed).
pub fn ja3(hello: &ClientHello<'_>) -> Ja3 {
    let not_grease = |v: &u16| !is_grease(*v);
    let full = format!(
        "{},{},{},{},{}",
        hello.legacy_version.0,
        dec_list(hello.cipher_suites.iter().map(|c| c.0).filter(not_grease)),
        dec_list(
            hello
                .extensions
                .iter()
                .map(|e| e.extension_type.0)
                .filter(not_grease)
        ),
        dec_list(
            hello
                .decoded
                .supported_groups
                .iter()
                .map(|g| g.0)
                .filter(not_grease)
        ),
        dec_list(hello.decoded.ec_point_formats.iter().map(|f| u16::from(*f))),
    );
    Ja3 {
        hash: md5_hex(&full),
        full,
    }
}

/// Computes JA3S (`version,cipher,extensions` of the ServerHello).
pub fn ja3s(hello: &ServerHello<'_>) -> Ja3 {
    let full = format!(
        "{},{},{}",
        hello.legacy_version.0,
        hello.cipher_suite.0,
        dec_list(
            hello
                .extensions
                .iter()
                .map(|e| e.extension_type.0)
                .filter(|v| !is_grease(*v))
        ),
    );
    Ja3 {
        hash: md5_hex(&full),
        full,
    }
}

/// JA4S (ServerHello) and its raw form. FoxIO License 1.1: enabled by the `foxio-licensed`
/// feature only.
#[cfg(feature = "foxio-licensed")]
pub fn ja4s(hello: &ServerHello<'_>) -> (String, String) {
    let exts: Vec<u16> = hello
        .extensions
        .iter()
        .map(|e| e.extension_type.0)
        .collect();
    let prefix = format!(
        "t{}{}{}",
        version_code(hello.selected_version()),
        count2(exts.len()),
        alpn_chars(hello.decoded.alpn.first().copied()),
    );
    let list = hex4_list(exts.iter().copied());
    (
        format!("{prefix}_{:04x}_{}", hello.cipher_suite.0, hash12(&list)),
        format!("{prefix}_{:04x}_{list}", hello.cipher_suite.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_rule() {
        assert_eq!(alpn_chars(None), "00");
        assert_eq!(alpn_chars(Some(b"")), "00");
        assert_eq!(alpn_chars(Some(b"h2")), "h2");
        assert_eq!(alpn_chars(Some(b"http/1.1")), "h1");
        assert_eq!(alpn_chars(Some(b"x")), "xx");
        assert_eq!(alpn_chars(Some(&[0xab])), "ab");
        assert_eq!(alpn_chars(Some(&[0x20, 0x61])), "21");
        assert_eq!(alpn_chars(Some(&[0x30, 0xab])), "3b");
    }

    #[test]
    fn list_formats() {
        assert_eq!(
            hex4_list([0x1301u16, 0x00ff, 0xc02c].into_iter()),
            "1301,00ff,c02c"
        );
        assert_eq!(hex4_list(std::iter::empty()), "");
        assert_eq!(
            dec_list([771u16, 0, 10, 65535].into_iter()),
            "771-0-10-65535"
        );
        assert_eq!(dec_list(std::iter::empty()), "");
        assert_eq!(hex_lower(&[0x00, 0x9f, 0xff]), "009fff");
    }

    #[test]
    fn hash12_known() {
        assert_eq!(hash12(""), "000000000000");
        // Test vector from FoxIO's JA4X description.
        assert_eq!(hash12("551d0f,551d25,551d11"), "aae71e8db6d7");
    }
}
