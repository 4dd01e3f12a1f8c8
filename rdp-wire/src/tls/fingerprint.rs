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

use crate::Bump as _;
use crate::Saturate as _;
use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::extensions::{ExtensionType, RawExtension};
use super::handshake::{ClientHello, ServerHello};
use super::{is_grease, ProtocolVersion};
use crate::values::hex_lower;

/// The longest fingerprint string kept (`JA4_r`, `JA4_ro`, the JA3 and JA3S strings): a
/// ClientHello may carry 32,700 cipher suites, whose strings would keep hundreds of KB per
/// connection. A longer string is cut after the last list separator that leaves room for
/// [`CUT_MARKER`], which it then ends with; the hashes are computed over the whole text,
/// which is never built (each part is hashed as it is written). Real clients stay far below:
/// a browser's JA4_r is about 250 bytes, a ClientHello of 256 suites gives under 2 KiB.
pub const MAX_FINGERPRINT_TEXT: usize = 4096;
/// What a cut fingerprint string ends with (the strings are digits, letters, `,`, `-` and `_`).
pub const CUT_MARKER: &str = "...";

/// The JA4 client fingerprint and its raw form (lists sorted).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ja4 {
    /// `JA4`: `t13d1516h2_8daaf6152771_e5627efa2ab1`.
    pub ja4: String,
    /// `JA4_r`: the sorted lists, unhashed.
    pub ja4_r: String,
}

/// The original-order JA4 variants (lists in wire order, SNI and ALPN kept).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ja4Original {
    /// `JA4_o`: lists in wire order, hashed.
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

/// Appends the first 12 hex characters of the SHA-256 of `s`; `000000000000` for an empty
/// list.
#[cfg(any(test, feature = "foxio-licensed"))]
fn push_hash12(out: &mut String, s: &str) {
    if s.is_empty() {
        out.push_str("000000000000");
        return;
    }
    let digest = Sha256::digest(s.as_bytes());
    push_hex(out, digest.get(..6).unwrap_or_default());
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        push_nibble(out, u16::from(*b) >> 4);
        push_nibble(out, u16::from(*b));
    }
}

#[cfg(test)]
fn hash12(s: &str) -> String {
    let mut out = String::with_capacity(12);
    push_hash12(&mut out, s);
    out
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

/// Appends the two ALPN characters of JA4 (specification rule, see the module doc).
fn push_alpn_chars(out: &mut String, first_alpn: Option<&[u8]>) {
    match first_alpn.and_then(|n| Some((n, *n.first()?, *n.last()?))) {
        None => out.push_str("00"),
        Some((_, first, last)) if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() => {
            out.push(char::from(first));
            out.push(char::from(last));
        }
        // The first and last hex digits of the whole name.
        Some((_, first, last)) => {
            push_nibble(out, u16::from(first) >> 4);
            push_nibble(out, u16::from(last));
        }
    }
}

#[cfg(test)]
fn alpn_chars(first_alpn: Option<&[u8]>) -> String {
    let mut s = String::new();
    push_alpn_chars(&mut s, first_alpn);
    s
}

/// Appends `n` as two decimal digits, capped at 99.
fn push_count2(out: &mut String, n: usize) {
    let n: u32 = n.min(99).saturate();
    for d in [n / 10, n % 10] {
        out.extend(char::from_digit(d, 10));
    }
}

/// Appends `v` as four lower-case hex digits.
fn push_hex4(s: &mut String, v: u16) {
    for shift in [12u16, 8, 4, 0] {
        push_nibble(s, v >> shift);
    }
}

/// Appends `v1,v2,...` with each value as four lower-case hex digits.
#[cfg(any(test, feature = "foxio-licensed"))]
fn push_hex4_list(s: &mut String, values: impl Iterator<Item = u16>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_hex4(s, v);
    }
}

/// Fingerprint text pieces are handed on in chunks of about this many bytes.
const CHUNK: usize = 1024;

/// A fingerprint string being written: each chunk goes to the hash of the part it belongs
/// to (if any) and to the kept text, until [`MAX_FINGERPRINT_TEXT`]. The caller hands the
/// chunk on (`flush`) at the end of each part, with that part's hash.
struct FingerprintText {
    kept: String,
    cut: bool,
    /// The chunk being written.
    chunk: String,
}

impl FingerprintText {
    /// For a text of about `estimate` bytes.
    fn new(estimate: usize) -> Self {
        FingerprintText {
            kept: String::with_capacity(estimate.min(MAX_FINGERPRINT_TEXT)),
            cut: false,
            chunk: String::with_capacity(estimate.min(CHUNK).saturating_add(8)),
        }
    }

    /// Hands the chunk to `hash` and to the kept text.
    fn flush(&mut self, hash: &mut dyn FnMut(&[u8])) {
        if self.chunk.is_empty() {
            return;
        }
        hash(self.chunk.as_bytes());
        if !self.cut {
            let room = MAX_FINGERPRINT_TEXT.saturating_sub(self.kept.len());
            if self.chunk.len() <= room {
                self.kept.push_str(&self.chunk);
            } else {
                // The text is ASCII: every byte index is a character boundary.
                self.kept
                    .push_str(self.chunk.get(..room).unwrap_or_default());
                let limit = MAX_FINGERPRINT_TEXT.saturating_sub(CUT_MARKER.len());
                let mut end = self
                    .kept
                    .get(..limit)
                    .and_then(|k| k.rfind([',', '-', '_']))
                    .map_or(limit, |i| i.saturating_add(1));
                while !self.kept.is_char_boundary(end) {
                    end = end.saturating_sub(1);
                }
                self.kept.truncate(end);
                self.kept.push_str(CUT_MARKER);
                self.cut = true;
            }
        }
        self.chunk.clear();
    }

    /// Appends a fixed text (the prefix, a separator).
    fn push_str(&mut self, s: &str) {
        self.chunk.push_str(s);
    }

    /// Appends `values` separated by `sep`, each written by `write`, handing full chunks to
    /// `hash`.
    fn push_list(
        &mut self,
        values: impl Iterator<Item = u16>,
        sep: char,
        write: fn(&mut String, u16),
        hash: &mut dyn FnMut(&[u8]),
    ) {
        for (i, v) in values.enumerate() {
            if i > 0 {
                self.chunk.push(sep);
            }
            write(&mut self.chunk, v);
            if self.chunk.len() >= CHUNK {
                self.flush(hash);
            }
        }
    }

    /// The kept text, once the last part is flushed.
    fn finish(self) -> String {
        self.kept
    }
}

/// A hash for a part of the text that is not hashed.
fn no_hash(_: &[u8]) {}

/// The first 12 hex characters of a finished SHA-256 (`000000000000` for an empty list, as
/// [`push_hash12`]).
fn push_digest12(out: &mut String, hasher: Sha256, empty: bool) {
    if empty {
        out.push_str("000000000000");
    } else {
        push_hex(out, hasher.finalize().get(..6).unwrap_or_default());
    }
}

#[cfg(test)]
fn hex4_list(values: impl Iterator<Item = u16>) -> String {
    let mut s = String::new();
    push_hex4_list(&mut s, values);
    s
}

/// The parts of a ClientHello that JA4 and its variants are made of, GREASE removed.
struct Ja4Parts {
    /// `t13d3110h2`: protocol, version, SNI, counts, ALPN.
    prefix: String,
    ciphers: Vec<u16>,
    exts: Vec<u16>,
    sigs: Vec<u16>,
}

impl Ja4Parts {
    fn new(hello: &ClientHello<'_>) -> Self {
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
        let mut prefix = String::with_capacity(10);
        prefix.push('t');
        prefix.push_str(version_code(version));
        prefix.push(if has_sni { 'd' } else { 'i' });
        push_count2(&mut prefix, ciphers.len());
        push_count2(&mut prefix, exts.len());
        push_alpn_chars(&mut prefix, hello.decoded.alpn.first().copied());
        Ja4Parts {
            prefix,
            ciphers,
            exts,
            sigs,
        }
    }

    /// The raw fingerprint `prefix_ciphers_extensions[_sigalgs]` (cut past
    /// [`MAX_FINGERPRINT_TEXT`]) and the hashed one, built from the given lists; the signature
    /// algorithms are appended to the extension part only when both are present.
    fn build(&self, ciphers: &[u16], exts: &[u16]) -> (String, String) {
        let mut raw = FingerprintText::new(
            self.prefix
                .len()
                .saturating_add(ciphers.len().saturating_mul(5))
                .saturating_add(exts.len().saturating_mul(5))
                .saturating_add(self.sigs.len().saturating_mul(5))
                .saturating_add(3),
        );
        raw.push_str(&self.prefix);
        raw.push_str("_");
        raw.flush(&mut no_hash);
        let mut b = Sha256::new();
        let mut hash_b = |d: &[u8]| b.update(d);
        raw.push_list(ciphers.iter().copied(), ',', push_hex4, &mut hash_b);
        raw.flush(&mut hash_b);
        raw.push_str("_");
        raw.flush(&mut no_hash);
        let mut c = Sha256::new();
        let mut hash_c = |d: &[u8]| c.update(d);
        raw.push_list(exts.iter().copied(), ',', push_hex4, &mut hash_c);
        if !exts.is_empty() && !self.sigs.is_empty() {
            raw.push_str("_");
            raw.push_list(self.sigs.iter().copied(), ',', push_hex4, &mut hash_c);
        }
        raw.flush(&mut hash_c);
        let mut hashed = String::with_capacity(self.prefix.len().saturating_add(26));
        hashed.push_str(&self.prefix);
        hashed.push('_');
        push_digest12(&mut hashed, b, ciphers.is_empty());
        hashed.push('_');
        push_digest12(&mut hashed, c, exts.is_empty());
        (hashed, raw.finish())
    }
}

/// Computes JA4 and JA4_r for a ClientHello carried over TCP: cipher suites sorted,
/// extensions sorted without SNI and ALPN.
pub fn ja4(hello: &ClientHello<'_>) -> Ja4 {
    let mut parts = Ja4Parts::new(hello);
    // Sorted in place: the wire order is not needed here (the prefix already counted them).
    let mut ciphers = std::mem::take(&mut parts.ciphers);
    ciphers.sort_unstable();
    let mut exts = std::mem::take(&mut parts.exts);
    exts.retain(|e| *e != ExtensionType::SERVER_NAME.0 && *e != ExtensionType::ALPN.0);
    exts.sort_unstable();
    let (ja4, ja4_r) = parts.build(&ciphers, &exts);
    Ja4 { ja4, ja4_r }
}

/// Computes JA4_o and JA4_ro: the lists in wire order, SNI and ALPN kept.
pub fn ja4_original(hello: &ClientHello<'_>) -> Ja4Original {
    let parts = Ja4Parts::new(hello);
    let (ja4_o, ja4_ro) = parts.build(&parts.ciphers, &parts.exts);
    Ja4Original { ja4_o, ja4_ro }
}

/// Appends `v1-v2-...` in decimal.
#[cfg(test)]
fn push_dec_list(s: &mut String, values: impl Iterator<Item = u16>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            s.push('-');
        }
        push_decimal(s, v);
    }
}

#[cfg(test)]
fn dec_list(values: impl Iterator<Item = u16>) -> String {
    let mut s = String::new();
    push_dec_list(&mut s, values);
    s
}

fn push_decimal(s: &mut String, v: u16) {
    let mut digits = [0u8; 5];
    let mut n = v;
    let mut len = 0usize;
    for d in digits.iter_mut().rev() {
        *d = (n % 10).saturate();
        n /= 10;
        len.bump();
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

/// The extension types in wire order, GREASE removed (JA3 and JA3S).
fn extension_types<'e>(extensions: &'e [RawExtension<'_>]) -> impl Iterator<Item = u16> + 'e {
    extensions
        .iter()
        .map(|e| e.extension_type.0)
        .filter(|t| !is_grease(*t))
}

/// Computes JA3 (`version,ciphers,extensions,groups,ec_point_formats`, GREASE removed); the
/// string is cut past [`MAX_FINGERPRINT_TEXT`], the hash is over all of it.
pub fn ja3(hello: &ClientHello<'_>) -> Ja3 {
    let not_grease = |v: &u16| !is_grease(*v);
    let mut md5 = Md5::new();
    let mut hash = |d: &[u8]| md5.update(d);
    let mut full = FingerprintText::new(
        hello
            .cipher_suites
            .len()
            .saturating_add(hello.extensions.len())
            .saturating_mul(6)
            .saturating_add(64),
    );
    let lists: [&mut dyn Iterator<Item = u16>; 4] = [
        &mut hello.cipher_suites.iter().map(|c| c.0).filter(not_grease),
        &mut extension_types(&hello.extensions),
        &mut hello
            .decoded
            .supported_groups
            .iter()
            .map(|g| g.0)
            .filter(not_grease),
        &mut hello.decoded.ec_point_formats.iter().map(|f| u16::from(*f)),
    ];
    full.push_list(
        std::iter::once(hello.legacy_version.0),
        '-',
        push_decimal,
        &mut hash,
    );
    for list in lists {
        full.push_str(",");
        full.push_list(list, '-', push_decimal, &mut hash);
    }
    full.flush(&mut hash);
    Ja3 {
        hash: hex_lower(&md5.finalize()),
        full: full.finish(),
    }
}

/// Computes JA3S (`version,cipher,extensions` of the ServerHello); the string is cut as
/// [`ja3`]'s.
pub fn ja3s(hello: &ServerHello<'_>) -> Ja3 {
    let mut md5 = Md5::new();
    let mut hash = |d: &[u8]| md5.update(d);
    let mut full =
        FingerprintText::new(hello.extensions.len().saturating_mul(6).saturating_add(16));
    let head = [hello.legacy_version.0, hello.cipher_suite.0];
    full.push_list(head.into_iter(), ',', push_decimal, &mut hash);
    full.push_str(",");
    full.push_list(
        extension_types(&hello.extensions),
        '-',
        push_decimal,
        &mut hash,
    );
    full.flush(&mut hash);
    Ja3 {
        hash: hex_lower(&md5.finalize()),
        full: full.finish(),
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
    let mut prefix = String::from("t");
    prefix.push_str(version_code(hello.selected_version()));
    push_count2(&mut prefix, exts.len());
    push_alpn_chars(&mut prefix, hello.decoded.alpn.first().copied());
    prefix.push('_');
    push_hex4_list(&mut prefix, std::iter::once(hello.cipher_suite.0));
    prefix.push('_');
    let mut list = String::new();
    push_hex4_list(&mut list, exts.iter().copied());
    let mut hashed = prefix.clone();
    push_hash12(&mut hashed, &list);
    prefix.push_str(&list);
    (hashed, prefix)
}

#[cfg(test)]
pub(crate) mod tests {
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

    /// A ClientHello body (no handshake header) offering `suites` suites (0x0001 up), with
    /// SNI, supported_groups, signature_algorithms and supported_versions.
    pub(crate) fn client_hello_body(suites: u16) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0x5a; 32]);
        body.push(0);
        body.extend_from_slice(&(suites * 2).to_be_bytes());
        for s in 1..=suites {
            body.extend_from_slice(&s.to_be_bytes());
        }
        body.extend_from_slice(&[1, 0]);
        let ext: &[u8] = &[
            0, 0, 0, 16, 0, 14, 0, 0, 11, b'r', b'd', b'p', b'.', b'e', b'x', b'a', b'm', b'p',
            b'l', b'e', // server_name rdp.example
            0, 0x0a, 0, 8, 0, 6, 0, 0x1d, 0, 0x17, 0, 0x18, // supported_groups
            0, 0x0d, 0, 6, 0, 4, 0x08, 0x04, 0x04, 0x01, // signature_algorithms
            0, 0x2b, 0, 5, 4, 3, 4, 3, 3, // supported_versions
        ];
        body.extend_from_slice(&u16::try_from(ext.len()).unwrap().to_be_bytes());
        body.extend_from_slice(ext);
        body
    }

    /// JA3 and JA4 the plain way: whole strings, then their hashes.
    fn uncapped(hello: &ClientHello<'_>) -> (Ja4, Ja3) {
        let dec = |v: Vec<u16>| v.iter().map(u16::to_string).collect::<Vec<_>>().join("-");
        let hex4 = |v: &[u16]| {
            v.iter()
                .map(|x| format!("{x:04x}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let no_grease = |v: &u16| !is_grease(*v);
        let ciphers: Vec<u16> = hello
            .cipher_suites
            .iter()
            .map(|c| c.0)
            .filter(no_grease)
            .collect();
        let exts: Vec<u16> = hello
            .extensions
            .iter()
            .map(|e| e.extension_type.0)
            .filter(no_grease)
            .collect();
        let groups: Vec<u16> = hello
            .decoded
            .supported_groups
            .iter()
            .map(|g| g.0)
            .filter(no_grease)
            .collect();
        let formats: Vec<u16> = hello
            .decoded
            .ec_point_formats
            .iter()
            .map(|f| u16::from(*f))
            .collect();
        let full = format!(
            "{},{},{},{},{}",
            hello.legacy_version.0,
            dec(ciphers.clone()),
            dec(exts.clone()),
            dec(groups),
            dec(formats)
        );
        let ja3 = Ja3 {
            hash: hex_lower(&Md5::digest(full.as_bytes())),
            full,
        };
        let parts = Ja4Parts::new(hello);
        let mut sorted_ciphers = ciphers;
        sorted_ciphers.sort_unstable();
        let mut sorted_exts: Vec<u16> = exts.into_iter().filter(|e| *e != 0 && *e != 16).collect();
        sorted_exts.sort_unstable();
        let b = hex4(&sorted_ciphers);
        let mut c = hex4(&sorted_exts);
        if !sorted_exts.is_empty() && !parts.sigs.is_empty() {
            c = format!("{c}_{}", hex4(&parts.sigs));
        }
        let ja4 = Ja4 {
            ja4: format!("{}_{}_{}", parts.prefix, hash12(&b), hash12(&c)),
            ja4_r: format!("{}_{b}_{c}", parts.prefix),
        };
        (ja4, ja3)
    }

    /// Whether `kept` is `whole` cut as documented: whole when short enough, else a prefix
    /// ending after a separator, then the marker, within the cap.
    fn is_cut_from(kept: &str, whole: &str) -> bool {
        if whole.len() <= MAX_FINGERPRINT_TEXT {
            return kept == whole;
        }
        kept.len() <= MAX_FINGERPRINT_TEXT
            && kept.len() > MAX_FINGERPRINT_TEXT - 16
            && kept
                .strip_suffix(CUT_MARKER)
                .is_some_and(|head| whole.starts_with(head) && head.ends_with([',', '-', '_']))
    }

    /// 32,000 suites: the fingerprints are the whole lists' (hashed as they are written), and
    /// the strings are cut.
    #[test]
    fn huge_hello_fingerprints_are_exact_and_strings_cut() {
        use crate::testdata::{hex, CIPHER_MISMATCH_CLIENT_HELLO};
        use crate::tls::handshake::parse_client_hello;
        let small = hex(CIPHER_MISMATCH_CLIENT_HELLO)[9..].to_vec();
        for (body, cut) in [(small, false), (client_hello_body(32_000), true)] {
            let hello = parse_client_hello(&body).unwrap();
            let (ja4_whole, ja3_whole) = uncapped(&hello);
            let (ja4, ja3) = (ja4(&hello), ja3(&hello));
            assert_eq!(ja4.ja4, ja4_whole.ja4);
            assert_eq!(ja3.hash, ja3_whole.hash);
            assert!(is_cut_from(&ja4.ja4_r, &ja4_whole.ja4_r), "{}", ja4.ja4_r);
            assert!(is_cut_from(&ja3.full, &ja3_whole.full), "{}", ja3.full);
            assert_eq!(ja3.full.ends_with(CUT_MARKER), cut);
            assert_eq!(ja4.ja4_r.ends_with(CUT_MARKER), cut);
            let original = ja4_original(&hello);
            assert_eq!(original.ja4_ro.ends_with(CUT_MARKER), cut);
        }
    }

    #[test]
    fn hash12_known() {
        assert_eq!(hash12(""), "000000000000");
        // Test vector from FoxIO's JA4X description.
        assert_eq!(hash12("551d0f,551d25,551d11"), "aae71e8db6d7");
    }
}
