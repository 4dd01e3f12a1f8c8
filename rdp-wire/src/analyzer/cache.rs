//! Caches the caller owns and lends to analyzers: the certificate summaries and ClientHello
//! and ServerHello fingerprints of connections already seen.
//!
//! A capture of many connections to a few servers carries the same certificate and the same few
//! ClientHellos again and again. Parsing a certificate (about 4 µs) or building and hashing the
//! fingerprint strings costs far more than comparing bytes and copying the result, so the
//! analyzer looks them up here first. The parsers ([`crate::x509`], [`crate::tls::fingerprint`])
//! stay stateless: what is remembered, and for how long, is the caller's choice.
//!
//! Both caches return exactly what the uncached functions return: entries are matched on every
//! input the result is made of, and errors are never kept. Memory is bounded: at most
//! [`CERTIFICATE_ENTRIES`] certificates of up to [`CERTIFICATE_MAX_DER`] bytes and
//! [`FINGERPRINT_ENTRIES`] ClientHello and as many ServerHello keys of up to
//! [`FINGERPRINT_MAX_KEY`] bytes, most recent first (a linear scan of at most 16 entries: no
//! cost a capture can grow).

use crate::Saturate as _;
use std::collections::VecDeque;

use crate::tls::fingerprint::{ja3, ja3s, ja4, Ja3, Ja4};
use crate::tls::handshake::{ClientHello, ServerHello};
use crate::x509::{summarize_certificate, X509Summary};
use crate::Error;

/// Certificates a [`CertificateCache`] remembers.
pub const CERTIFICATE_ENTRIES: usize = 16;
/// Larger certificates are summarized every time rather than kept.
pub const CERTIFICATE_MAX_DER: usize = 16 * 1024;
/// ClientHellos a [`FingerprintCache`] remembers.
pub const FINGERPRINT_ENTRIES: usize = 16;
/// Longer keys (ClientHellos with very long lists) are fingerprinted every time.
pub const FINGERPRINT_MAX_KEY: usize = 4096;

/// Every cache an analyzer can use, owned by the caller and lent to
/// [`Analyzer::data_cached`](super::Analyzer::data_cached).
///
/// One `Caches` serves any number of connections, one call at a time: a tool that follows many
/// connections keeps one per thread and lends it to each analyzer of that thread. An analyzer
/// fed through [`Analyzer::data`](super::Analyzer::data) uses none and computes everything
/// itself, with the same results.
///
/// ```
/// use rdp_wire::analyzer::{Analyzer, Caches, VerdictCode};
/// use rdp_wire::{Side, Timestamp};
///
/// // An X.224 Connection Request answered by RDP_NEG_FAILURE: bytes from a real capture.
/// let request = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x01\x00\x00\x00";
/// let confirm = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x00\x00\x00\x03\x00\x08\x00\x05\x00\x00\x00";
///
/// let mut caches = Caches::new();
/// for _ in 0..2 {
///     let mut conn = Analyzer::new();
///     conn.data_cached(Side::Client, Timestamp(1), request, &mut caches);
///     conn.data_cached(Side::Server, Timestamp(2), confirm, &mut caches);
///     assert_eq!(conn.verdict().code, VerdictCode::NegotiationFailure);
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Caches {
    /// Server certificate summaries.
    pub certificates: CertificateCache,
    /// ClientHello and ServerHello fingerprints.
    pub fingerprints: FingerprintCache,
}

impl Caches {
    /// Empty caches (no memory until the first entry).
    pub fn new() -> Self {
        Self::default()
    }
}

/// Values keyed by bytes, the most recent first: a linear scan of a few entries, so no cost a
/// capture can grow.
#[derive(Debug, Clone)]
struct Recent<V> {
    entries: VecDeque<(Box<[u8]>, V)>,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Recent {
            entries: VecDeque::new(),
        }
    }
}

impl<V: Clone> Recent<V> {
    /// The value kept for `key`, which becomes the most recent.
    fn get(&mut self, key: &[u8]) -> Option<V> {
        let i = self.entries.iter().position(|(k, _)| **k == *key)?;
        let entry = self.entries.remove(i)?;
        let value = entry.1.clone();
        self.entries.push_front(entry);
        Some(value)
    }

    /// Keeps `value` for `key` as the most recent, letting the oldest go past `entries`; a key
    /// longer than `max_key` is not kept.
    fn keep(&mut self, key: &[u8], value: &V, entries: usize, max_key: usize) {
        if key.len() <= max_key {
            self.entries.truncate(entries.saturating_sub(1));
            self.entries.push_front((key.into(), value.clone()));
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The last few certificate summaries, keyed by their whole DER.
#[derive(Debug, Clone, Default)]
pub struct CertificateCache {
    /// At most [`CERTIFICATE_ENTRIES`].
    recent: Recent<X509Summary>,
}

impl CertificateCache {
    /// [`summarize_certificate`], remembering the last [`CERTIFICATE_ENTRIES`] certificates
    /// (a server presents the same certificate to every client). The result is exactly what
    /// [`summarize_certificate`] returns: entries are matched on the whole DER, errors are not
    /// kept.
    pub fn summarize(&mut self, der: &[u8]) -> Result<X509Summary, Error> {
        if let Some(summary) = self.recent.get(der) {
            return Ok(summary);
        }
        let summary = summarize_certificate(der)?;
        self.recent
            .keep(der, &summary, CERTIFICATE_ENTRIES, CERTIFICATE_MAX_DER);
        Ok(summary)
    }

    /// How many certificates are remembered.
    pub fn len(&self) -> usize {
        self.recent.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.recent.len() == 0
    }
}

/// The JA4 and JA3 of the last few distinct ClientHellos, and the JA3S of the last few
/// distinct ServerHellos.
#[derive(Debug, Clone, Default)]
pub struct FingerprintCache {
    /// A buffer for the key being looked up (kept to spare an allocation per lookup).
    key: Vec<u8>,
    /// At most [`FINGERPRINT_ENTRIES`].
    clients: Recent<(Ja4, Ja3)>,
    /// At most [`FINGERPRINT_ENTRIES`].
    servers: Recent<Ja3>,
}

impl FingerprintCache {
    /// [`ja4`] and [`ja3`] of a ClientHello, remembering the last [`FINGERPRINT_ENTRIES`].
    ///
    /// The clients of a capture are a handful of programs, each sending the same lists in
    /// every ClientHello; building the strings and hashing them costs far more than comparing
    /// the lists. Entries are matched on everything the fingerprints are made of (see
    /// `hello_key`), so the result is exactly what [`ja4`] and [`ja3`] return.
    pub fn client_fingerprints(&mut self, hello: &ClientHello<'_>) -> (Ja4, Ja3) {
        hello_key(hello, &mut self.key);
        if let Some(found) = self.clients.get(&self.key) {
            return found;
        }
        let found = (ja4(hello), ja3(hello));
        self.clients
            .keep(&self.key, &found, FINGERPRINT_ENTRIES, FINGERPRINT_MAX_KEY);
        found
    }

    /// [`ja3s`] of a ServerHello, remembering the last [`FINGERPRINT_ENTRIES`]: a server
    /// answers every client of one program with the same hello. Entries are matched on the
    /// version, the cipher suite and every extension type, all that [`ja3s`] reads.
    pub fn server_fingerprint(&mut self, hello: &ServerHello<'_>) -> Ja3 {
        self.key.clear();
        self.key
            .extend_from_slice(&hello.legacy_version.0.to_be_bytes());
        self.key
            .extend_from_slice(&hello.cipher_suite.0.to_be_bytes());
        push_key_list(
            &mut self.key,
            hello.extensions.iter().map(|e| e.extension_type.0),
        );
        if let Some(found) = self.servers.get(&self.key) {
            return found;
        }
        let found = ja3s(hello);
        self.servers
            .keep(&self.key, &found, FINGERPRINT_ENTRIES, FINGERPRINT_MAX_KEY);
        found
    }

    /// How many ClientHellos are remembered.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether no ClientHello is.
    pub fn is_empty(&self) -> bool {
        self.clients.len() == 0
    }

    /// How many ServerHellos are remembered.
    pub fn server_hellos(&self) -> usize {
        self.servers.len()
    }
}

/// Appends a list to a key: its length, then its values.
fn push_key_list(key: &mut Vec<u8>, values: impl ExactSizeIterator<Item = u16>) {
    let len: u32 = values.len().saturate();
    key.extend_from_slice(&len.to_be_bytes());
    for v in values {
        key.extend_from_slice(&v.to_be_bytes());
    }
}

/// Everything of a ClientHello that [`ja4`] and [`ja3`] read, GREASE values included: two
/// hellos with the same key have the same fingerprints.
fn hello_key(hello: &ClientHello<'_>, key: &mut Vec<u8>) {
    key.clear();
    key.extend_from_slice(&hello.legacy_version.0.to_be_bytes());
    push_key_list(key, hello.cipher_suites.iter().map(|c| c.0));
    push_key_list(key, hello.extensions.iter().map(|e| e.extension_type.0));
    let d = &hello.decoded;
    push_key_list(key, d.supported_versions.iter().map(|v| v.0));
    push_key_list(key, d.supported_groups.iter().map(|g| g.0));
    push_key_list(key, d.ec_point_formats.iter().map(|f| u16::from(*f)));
    push_key_list(key, d.signature_algorithms.iter().map(|s| s.0));
    match d.alpn.first() {
        Some(first) => {
            key.push(1);
            push_key_list(key, first.iter().map(|b| u16::from(*b)));
        }
        None => key.push(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::{hex, CIPHER_MISMATCH_CLIENT_HELLO, TLS12_SERVER_HELLO};
    use crate::tls::fingerprint::tests::client_hello_body;
    use crate::tls::handshake::{parse_client_hello, parse_server_hello};

    #[test]
    fn remembered_fingerprints_are_the_computed_ones() {
        // The handshake body: after the record header (5 bytes) and the message header (4).
        let body = hex(CIPHER_MISMATCH_CLIENT_HELLO)[9..].to_vec();
        // The same lists with the last suite (0x00ff, at 79..81) made 0xc030, and the legacy
        // version made TLS 1.1: other keys, other fingerprints.
        assert_eq!(body[79..81], [0x00, 0xff]);
        let mut suite = body.clone();
        suite[79..81].copy_from_slice(&[0xc0, 0x30]);
        let mut version = body.clone();
        version[..2].copy_from_slice(&[3, 2]);
        let bodies = [&body, &suite, &version, &body, &suite, &version];
        let mut cache = FingerprintCache::default();
        let mut seen = Vec::new();
        for b in bodies {
            let hello = parse_client_hello(b).unwrap();
            let direct = (ja4(&hello), ja3(&hello));
            assert_eq!(cache.client_fingerprints(&hello), direct);
            seen.push(direct);
        }
        assert_eq!(cache.len(), 3);
        assert_ne!(seen[0], seen[1]);
        assert_ne!(seen[0], seen[2]);
        assert_ne!(seen[1].0, seen[2].0);
    }

    #[test]
    fn remembered_server_fingerprints_are_the_computed_ones() {
        // The handshake body of a real TLS 1.2 ServerHello (xrdp), after the record header
        // (5 bytes) and the message header (4): no session id, so the suite is at 35..37 and
        // the extensions (renegotiation_info, ec_point_formats, session_ticket at 53..55,
        // extended_master_secret) follow the compression method and their length.
        let body = hex(TLS12_SERVER_HELLO)[9..].to_vec();
        assert_eq!(
            (&body[35..37], &body[53..55]),
            (&[0xc0, 0x30][..], &[0x00, 0x23][..])
        );
        let mut suite = body.clone();
        suite[35..37].copy_from_slice(&[0xc0, 0x2f]);
        let mut extension = body.clone();
        extension[53..55].copy_from_slice(&[0x00, 0x24]);
        let bodies = [&body, &suite, &extension, &body, &suite, &extension];
        let mut cache = FingerprintCache::default();
        let mut seen = Vec::new();
        for b in bodies {
            let hello = parse_server_hello(b).unwrap();
            let direct = ja3s(&hello);
            assert_eq!(cache.server_fingerprint(&hello), direct);
            seen.push(direct);
        }
        assert_eq!(cache.server_hellos(), 3);
        assert_eq!(cache.len(), 0);
        assert_ne!(seen[0], seen[1]);
        assert_ne!(seen[0], seen[2]);
        assert_ne!(seen[1], seen[2]);
    }

    /// A hello whose key is too long to keep is fingerprinted every time, the same.
    #[test]
    fn huge_hellos_are_not_kept() {
        let body = client_hello_body(32_000);
        let hello = parse_client_hello(&body).unwrap();
        let direct = (ja4(&hello), ja3(&hello));
        let mut cache = FingerprintCache::default();
        for _ in 0..2 {
            assert_eq!(cache.client_fingerprints(&hello), direct);
        }
        assert!(cache.is_empty());
    }

    #[test]
    fn cache_returns_what_summarizing_returns() {
        // The three certificates of the lab captures (xrdp's and two of rdesktop's servers).
        let certs: [&[u8]; 3] = [
            include_bytes!("../../../fuzz/seeds/x509/2349c25361a5574c"),
            include_bytes!("../../../fuzz/seeds/x509/9d4823068c2bce51"),
            include_bytes!("../../../fuzz/seeds/x509/d6b855dd73827dd6"),
        ];
        let mut cache = CertificateCache::default();
        for round in 0..3 {
            for der in certs {
                let direct = summarize_certificate(der).unwrap();
                assert_eq!(cache.summarize(der).unwrap(), direct, "{round}");
            }
        }
        // Errors are returned, not kept; a certificate with one byte more is another input.
        let mut longer = certs[0].to_vec();
        longer.push(0);
        for _ in 0..2 {
            assert!(cache.summarize(&longer).is_err());
        }
        assert_eq!(cache.len(), 3);
        // More certificates than the cache holds (the last byte is inside the signature, so
        // each variant parses and has its own SHA-256): the oldest go and come back the same.
        let variants: Vec<Vec<u8>> = (0..=CERTIFICATE_ENTRIES)
            .map(|i| {
                let mut der = certs[0].to_vec();
                *der.last_mut().unwrap() = u8::try_from(i).unwrap();
                der
            })
            .collect();
        for _ in 0..2 {
            for der in &variants {
                let direct = summarize_certificate(der).unwrap();
                assert_eq!(cache.summarize(der).unwrap(), direct);
            }
        }
        assert_eq!(cache.len(), CERTIFICATE_ENTRIES);
    }
}
