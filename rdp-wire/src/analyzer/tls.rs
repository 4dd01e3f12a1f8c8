//! The per-connection TLS tracker: fed the reassembled bytes of both directions, it follows
//! the handshake as far as an observer without keys can and keeps an owned [`TlsFacts`].
//!
//! # When records are encrypted
//! - TLS 1.2 and older (RFC 5246 7.1): a side's records after its ChangeCipherSpec are
//!   encrypted. An alert record then is reported `encrypted: true`, whatever its length (a
//!   26-byte AES-GCM alert is not 13 clear-text alerts).
//! - TLS 1.3 (RFC 8446 5): every encrypted record has the outer type application_data, so an
//!   alert record is always clear text and an encrypted alert is invisible. The server switches
//!   to handshake keys right after its ServerHello, the client after it answers a ServerHello
//!   (not a HelloRetryRequest); ChangeCipherSpec records are compatibility no-ops (D.4).
//!
//! # Handshake completion
//! - TLS 1.2 and older: each side sent ChangeCipherSpec followed by an encrypted handshake
//!   record (its Finished).
//! - TLS 1.3: the server sent encrypted records after its ServerHello and the client sent its
//!   first encrypted record (its Finished). A first client record of an alert's size is its
//!   encrypted alert instead (`TlsTracker::is_encrypted_alert`, RFC 8446 4.4.4 and 5.2).
//!
//! # Decoding
//! - An alert split across records is joined (RFC 5246 6.2.1).
//! - An SSL 2.0 compatible ClientHello (RFC 5246 appendix E.2) is the client's offer.
//! - A handshake message over [`MAX_HANDSHAKE_LEN`] or a record over [`MAX_FRAGMENT_LEN`] is
//!   skipped and named ([`DecoderLimit`]): the record framing goes on after it.
//! - A second ServerHello, or one choosing a suite the client did not offer, is a caveat
//!   ([`TlsFacts::caveats`]); the first stays the fact.
//!
//! Memory per connection is bounded: one partial record per direction (at most
//! [`MAX_RECORD_LEN`](crate::tls::record::MAX_RECORD_LEN) bytes, or an SSL 2.0 hello's 32,769),
//! one partial handshake message per direction, at most
//! [`MAX_CERTIFICATES`] certificate summaries, [`MAX_ALERTS`] alerts and [`MAX_ANOMALIES`]
//! anomaly strings, and of each list a hello carries at most [`MAX_HELLO_LIST`] entries
//! ([`MAX_ALPN_NAMES`] ALPN names), the rest counted; fingerprint strings are cut at
//! [`fingerprint::MAX_FINGERPRINT_TEXT`] bytes.

use crate::printable::printable_bytes;
use crate::x509::{summarize_certificate, X509Summary};
use crate::Error;
use crate::Saturate as _;

use crate::tls::alert::{parse_alerts, AlertDescription, AlertLevel};
use crate::tls::cipher_suites::{CipherSuite, KeyExchange, NamedGroup, SignatureScheme};
use crate::tls::fingerprint;
use crate::tls::handshake::{
    parse_certificate_list, parse_client_hello, parse_server_hello,
    parse_server_key_exchange_ecdhe, HandshakeReassembler, HandshakeType, MAX_HANDSHAKE_LEN,
};
use crate::tls::record::{
    parse_record, probe_record, ContentType, TlsRecord, MAX_FRAGMENT_LEN, RECORD_HEADER_LEN,
};
use crate::tls::sslv2;
use crate::tls::ProtocolVersion;
use crate::{Side, Timestamp};

use super::{Caches, MAX_ANOMALIES, MAX_CAVEATS};
use crate::Bump as _;

/// At most this many certificates of a chain are summarized.
pub const MAX_CERTIFICATES: usize = 10;
/// At most this many alerts are kept per connection.
pub const MAX_ALERTS: usize = 32;
/// At most this many non-TLS bytes are kept as evidence.
pub const MAX_NON_TLS_EVIDENCE: usize = 64;
/// At most this many entries of each list copied from a hello are kept: cipher suites,
/// extension types (ClientHello and ServerHello), supported groups, signature algorithms, key
/// share groups. The rest are counted in the list's `_not_kept` field. A 64 KiB ClientHello
/// can carry 32,700 suites: kept whole, its lists and fingerprint strings took about 430 KB
/// per live connection. Clients offer a few dozen entries (a browser about 16 suites, Windows
/// about 30); the fingerprints are computed over the whole lists before they are cut. The
/// offered versions need no cap: their list has a one-byte length (127 at most).
pub const MAX_HELLO_LIST: usize = 256;
/// At most this many ALPN protocol names are kept (each up to 255 bytes, escaped up to four
/// times as long): browsers offer two or three, RDP clients none.
pub const MAX_ALPN_NAMES: usize = 16;
/// At most this many bytes of the SNI host name are kept: a DNS name takes at most 255
/// (RFC 1035 2.3.4); a longer one is cut and ends in `...`.
pub const MAX_SNI_BYTES: usize = 255;

/// One alert record (or one alert of a record holding several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvent {
    /// Who sent it.
    pub side: Side,
    /// When (capture time).
    pub at: Timestamp,
    /// The level, when the alert was clear text.
    pub level: Option<AlertLevel>,
    /// The description, when the alert was clear text.
    pub description: Option<AlertDescription>,
    /// Sent after the sender's ChangeCipherSpec (TLS 1.2 and older): content unknown.
    pub encrypted: bool,
    /// How far the handshake had gone, in stream order, when the alert arrived.
    pub phase: AlertPhase,
}

impl AlertEvent {
    /// An alert whose content is protected: who sent it, when and in which phase.
    fn encrypted(side: Side, at: Timestamp, phase: AlertPhase) -> Self {
        AlertEvent {
            side,
            at,
            level: None,
            description: None,
            encrypted: true,
            phase,
        }
    }
}

/// How far the TLS handshake had gone when an alert arrived: what the tracker had seen of it
/// then, in stream order (the order the reassembled bytes of both directions were fed). Capture
/// timestamps do not decide it: a clock that steps backwards (merged or multi-interface
/// captures, a clock corrected mid-capture) would put an alert that followed the ServerHello
/// "before the client hello" (issue 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertPhase {
    /// No ClientHello seen yet (nor, when none is ever seen, any ServerHello: then
    /// [`AlertPhase::reported`] says no handshake was seen).
    BeforeClientHello,
    /// After the ClientHello, before any ServerHello.
    AfterClientHello,
    /// After the ServerHello (or HelloRetryRequest), before the handshake completed.
    AfterServerHello,
    /// After the handshake completed.
    AfterHandshake,
}

impl AlertPhase {
    /// The phase as the reports name it: `before-client-hello`, `after-client-hello`,
    /// `after-server-hello` or `after-handshake`; `no-handshake-seen` when `facts` hold neither
    /// hello at all (a connection picked up mid-stream).
    pub fn reported(self, facts: &TlsFacts) -> &'static str {
        if facts.client_hello_at.is_none() && facts.server_hello_at.is_none() {
            return "no-handshake-seen";
        }
        match self {
            AlertPhase::BeforeClientHello => "before-client-hello",
            AlertPhase::AfterClientHello => "after-client-hello",
            AlertPhase::AfterServerHello => "after-server-hello",
            AlertPhase::AfterHandshake => "after-handshake",
        }
    }
}

/// Everything the tracker learned about one connection's TLS. Owned, plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFacts {
    /// The ClientHello's legacy_version.
    pub client_legacy_version: Option<ProtocolVersion>,
    /// Versions offered, highest first: supported_versions minus GREASE, else the legacy
    /// version. Empty when no ClientHello was seen.
    pub client_versions: Vec<ProtocolVersion>,
    /// Offered suites in ClientHello order, GREASE kept: the first [`MAX_HELLO_LIST`].
    pub client_cipher_suites: Vec<CipherSuite>,
    /// Offered suites after those (counted, not kept).
    pub client_cipher_suites_not_kept: usize,
    /// Extension types in ClientHello order, GREASE kept: the first [`MAX_HELLO_LIST`].
    pub client_extensions: Vec<u16>,
    /// Extension types after those.
    pub client_extensions_not_kept: usize,
    /// The SNI host name, through [`crate::printable`] (non-UTF-8 bytes as `\xNN`): its first
    /// [`MAX_SNI_BYTES`] bytes, then `...` if it was longer.
    pub sni: Option<String>,
    /// SNI bytes not kept.
    pub sni_not_kept: usize,
    /// ALPN protocols offered, through [`crate::printable`] (non-UTF-8 bytes as `\xNN`): the
    /// first [`MAX_ALPN_NAMES`].
    pub alpn: Vec<String>,
    /// ALPN protocols after those.
    pub alpn_not_kept: usize,
    /// supported_groups offered: the first [`MAX_HELLO_LIST`].
    pub supported_groups: Vec<NamedGroup>,
    /// supported_groups after those.
    pub supported_groups_not_kept: usize,
    /// signature_algorithms offered: the first [`MAX_HELLO_LIST`].
    pub signature_algorithms: Vec<SignatureScheme>,
    /// signature_algorithms after those.
    pub signature_algorithms_not_kept: usize,
    /// Groups the client sent key shares for: the first [`MAX_HELLO_LIST`].
    pub key_share_groups: Vec<NamedGroup>,
    /// Key share groups after those.
    pub key_share_groups_not_kept: usize,
    /// How many ClientHellos (2 after a HelloRetryRequest).
    pub client_hello_count: u32,
    /// JA4 of the first ClientHello.
    pub ja4: Option<String>,
    /// JA4_r of the first ClientHello (cut past
    /// [`MAX_FINGERPRINT_TEXT`](fingerprint::MAX_FINGERPRINT_TEXT) bytes, ending in `...`).
    pub ja4_r: Option<String>,
    /// JA3 hash of the first ClientHello.
    pub ja3: Option<String>,
    /// JA3 string of the first ClientHello (cut as `ja4_r`).
    pub ja3_full: Option<String>,
    /// The negotiated version (ServerHello supported_versions, else its legacy version).
    pub version: Option<ProtocolVersion>,
    /// The selected suite.
    pub cipher_suite: Option<CipherSuite>,
    /// Extension types of the ServerHello, in order: the first [`MAX_HELLO_LIST`].
    pub server_extensions: Vec<u16>,
    /// ServerHello extension types after those.
    pub server_extensions_not_kept: usize,
    /// The key exchange group (TLS 1.3 key_share or the ECDHE ServerKeyExchange curve).
    pub key_exchange_group: Option<NamedGroup>,
    /// JA3S hash.
    pub ja3s: Option<String>,
    /// JA3S string (cut as `ja4_r`).
    pub ja3s_full: Option<String>,
    /// JA4S (only with the `foxio-licensed` feature).
    pub ja4s: Option<String>,
    /// The server sent a HelloRetryRequest.
    pub hello_retry_request: bool,
    /// The server's certificate chain in order (TLS 1.2 and older only: TLS 1.3 encrypts it).
    pub certificates: Vec<X509Summary>,
    /// The chain length as sent (may exceed `certificates.len()`).
    pub chain_length: usize,
    /// The server asked for a client certificate (TLS 1.2 and older).
    pub certificate_request: bool,
    /// The server sent ServerHelloDone.
    pub server_hello_done: bool,
    /// The client sent ClientKeyExchange.
    pub client_key_exchange: bool,
    /// Alerts in order.
    pub alerts: Vec<AlertEvent>,
    /// The handshake completed (see the module doc).
    pub handshake_complete: bool,
    /// When the first ClientHello was seen.
    pub client_hello_at: Option<Timestamp>,
    /// When the ServerHello (or HelloRetryRequest) was seen.
    pub server_hello_at: Option<Timestamp>,
    /// When the client's ChangeCipherSpec was seen (TLS 1.2 and older).
    pub client_ccs_at: Option<Timestamp>,
    /// When the server's ChangeCipherSpec was seen (TLS 1.2 and older).
    pub server_ccs_at: Option<Timestamp>,
    /// When the handshake completed.
    pub established_at: Option<Timestamp>,
    /// The last handshake record (clear or encrypted, ChangeCipherSpec included).
    pub last_handshake_at: Option<Timestamp>,
    /// Application data records the client sent after the handshake.
    pub client_app_records: u64,
    /// Their fragment bytes.
    pub client_app_bytes: u64,
    /// Application data records the server sent after the handshake.
    pub server_app_records: u64,
    /// Their fragment bytes.
    pub server_app_bytes: u64,
    /// Records seen per side (all types).
    pub client_records: u64,
    /// Records seen per side (all types).
    pub server_records: u64,
    /// The first side that sent bytes that are not TLS records.
    pub non_tls_from: Option<Side>,
    /// Up to 64 of those bytes, from where the records stopped making sense.
    pub non_tls_bytes: Vec<u8>,
    /// When they were seen.
    pub non_tls_at: Option<Timestamp>,
    /// Bytes the capture missed in the client direction (decoding stopped there).
    pub client_gap: u64,
    /// Bytes the capture missed in the server direction (decoding stopped there).
    pub server_gap: u64,
    /// Decoding problems, short, at most [`MAX_ANOMALIES`].
    pub anomalies: Vec<String>,
    /// Per side ([`Side::index`]), the last application data record after the handshake that
    /// is not the size of an alert (in TLS 1.3 an alert is an application data record too, of
    /// 2 + 1 + tag bytes: RFC 8446 5.2): what a side last *said*, before any close_notify.
    pub last_data_record: [Option<RecordSeen>; 2],
    /// Contradictions the verdict must name (a second ServerHello, a ServerHello choosing a
    /// suite the client never offered): the first one seen stays the fact. At most
    /// [`MAX_CAVEATS`]; each is an anomaly too.
    pub caveats: Vec<String>,
    /// The first message or record over a limit of this decoder: skipped, not a failure of
    /// the connection (see [`DecoderLimit`]).
    /// Boxed: rare.
    pub decoder_limit: Option<Box<DecoderLimit>>,
    /// The ClientHello came in the SSL 2.0 compatible format (RFC 5246 appendix E.2).
    pub sslv2_client_hello: bool,
    /// The ServerHello chose a suite the ClientHello did not offer (a caveat): no client can
    /// use it, so no finding is drawn from `cipher_suite`.
    pub suite_not_offered: bool,
}

/// One record: its fragment length and when it was seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordSeen {
    /// Fragment bytes (TLSCiphertext.length).
    pub len: u64,
    /// When the record was seen.
    pub at: Timestamp,
}

/// A message or record larger than this decoder takes: it is skipped (the record framing
/// goes on, so the handshake after it is still followed), and what it would have said is
/// unknown. Real peers meet the limits with very large certificates or chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimit {
    /// Who sent it.
    pub side: Side,
    /// When.
    pub at: Timestamp,
    /// What was skipped: `"handshake message"` or `"record"`.
    pub what: &'static str,
    /// The handshake message type, for a handshake message.
    pub message: Option<HandshakeType>,
    /// Its declared size in bytes (body, or fragment).
    pub size: usize,
    /// The limit it is over: [`MAX_HANDSHAKE_LEN`] or [`MAX_FRAGMENT_LEN`].
    pub limit: usize,
}

#[derive(Debug, Clone, Default)]
struct Direction {
    /// One partial record. INVARIANT: at most MAX_RECORD_LEN bytes.
    buf: Vec<u8>,
    reassembler: HandshakeReassembler,
    stopped: bool,
    /// TLS 1.2 and older: ChangeCipherSpec sent, later records are encrypted.
    ccs: bool,
    /// TLS 1.2 and older: an encrypted handshake record (Finished) followed the CCS.
    finished: bool,
    /// TLS 1.3: this side sent a record under handshake keys.
    tls13_encrypted: bool,
    /// The first byte of an alert split across records (RFC 5246 6.2.1 lets a record carry
    /// part of a message of its type).
    alert_byte: Option<u8>,
    /// Bytes of an oversized record still to skip (see [`DecoderLimit`]).
    skip: usize,
    /// A handshake record was skipped whole: message boundaries in this direction are lost,
    /// so later clear handshake records are counted, not parsed.
    handshake_lost: bool,
}

/// Tracks the TLS of one connection. See the module doc.
#[derive(Debug, Clone, Default)]
pub struct TlsTracker {
    client: Direction,
    server: Direction,
    facts: TlsFacts,
    /// A ServerHello that is not a HelloRetryRequest was seen.
    server_hello_seen: bool,
    /// Per side ([`Side::index`]): this side's application data before the handshake
    /// completed is one of the anomalies, until a gap in the peer's handshake takes it back
    /// ([`TlsTracker::early_application_data`]).
    early_app_data: [bool; 2],
}

/// Keeps the first `max` entries of `list` (giving back the memory of the rest); returns how
/// many were not kept.
fn keep_first<T>(list: &mut Vec<T>, max: usize) -> usize {
    let dropped = list.len().saturating_sub(max);
    if dropped > 0 {
        list.truncate(max);
        list.shrink_to_fit();
    }
    dropped
}

impl TlsFacts {
    /// The plaintext lengths a protected record of `len` fragment bytes can carry under the
    /// negotiated version and suite, as (fewest, most); `None` when the suite is unknown.
    ///
    /// - TLS 1.3 (RFC 8446 5.2): content type byte and AEAD tag (16, or 8 for `*_CCM_8_*`);
    ///   padding assumed absent, as Windows, OpenSSL and rustls send none.
    /// - TLS 1.2 AEAD (RFC 5288 3, RFC 6655 3, RFC 7905 2): 8-byte explicit nonce (none for
    ///   ChaCha20-Poly1305) and the tag.
    /// - CBC (RFC 5246 6.2.3.2, RFC 4346 6.2.3.2): explicit IV from TLS 1.1 (the block size),
    ///   the MAC (MD5 16, SHA 20, SHA256 32, SHA384 48), then 1 to one block of padding, as
    ///   encoders pad to the next block boundary.
    /// - Stream and NULL ciphers: the MAC only.
    pub fn plaintext_len(&self, len: u64) -> Option<(u64, u64)> {
        let suite = self.cipher_suite?;
        let name = suite.name()?;
        let tag: u64 = if name.contains("CCM_8") { 8 } else { 16 };
        let mac: u64 = if name.ends_with("_SHA384") {
            48
        } else if name.ends_with("_SHA256") {
            32
        } else if name.ends_with("_MD5") {
            16
        } else {
            20
        };
        let exact = |overhead: u64| len.checked_sub(overhead).map(|n| (n, n));
        if self.version.is_some_and(|v| v >= ProtocolVersion::TLS1_3) {
            return exact(tag.saturating_add(1));
        }
        if suite.is_aead() {
            let nonce: u64 = if name.contains("CHACHA20") { 0 } else { 8 };
            return exact(nonce.saturating_add(tag));
        }
        if suite.is_cbc() {
            let block: u64 =
                if name.contains("3DES") || name.contains("_DES_") || name.contains("IDEA") {
                    8
                } else {
                    16
                };
            let iv = if self.version.is_some_and(|v| v >= ProtocolVersion::TLS1_1) {
                block
            } else {
                0
            };
            let fixed = iv.saturating_add(mac);
            let most = len.checked_sub(fixed.saturating_add(1))?;
            let fewest = len.saturating_sub(fixed.saturating_add(block));
            return Some((fewest, most));
        }
        exact(mac)
    }

    /// One application data record of `len` fragment bytes from `side`, after the handshake.
    fn count_app_record(&mut self, side: Side, len: usize) {
        let (records, bytes) = match side {
            Side::Client => (&mut self.client_app_records, &mut self.client_app_bytes),
            Side::Server => (&mut self.server_app_records, &mut self.server_app_bytes),
        };
        records.bump();
        count_add(bytes, len);
    }

    /// How many cipher suites the ClientHello offered, kept or not.
    pub fn client_cipher_suites_offered(&self) -> usize {
        self.client_cipher_suites
            .len()
            .saturating_add(self.client_cipher_suites_not_kept)
    }
}

fn count_add(counter: &mut u64, n: usize) {
    *counter = counter.saturating_add(n.saturate());
}

impl TlsTracker {
    /// A tracker for a new connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// What was learned so far.
    pub fn facts(&self) -> &TlsFacts {
        &self.facts
    }

    /// Consumes the tracker, returning its facts.
    pub fn into_facts(self) -> TlsFacts {
        self.facts
    }

    /// Whether decoding of `side` stopped (non-TLS bytes, fatal parse error or capture gap).
    pub fn is_stopped(&self, side: Side) -> bool {
        self.dir(side).stopped
    }

    fn dir(&self, side: Side) -> &Direction {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    fn dir_mut(&mut self, side: Side) -> &mut Direction {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    fn anomaly(&mut self, text: String) {
        let text = crate::printable::printable_string(text);
        let a = &mut self.facts.anomalies;
        if a.len() < MAX_ANOMALIES && !a.contains(&text) {
            a.push(text);
        }
    }

    fn caveat(&mut self, text: String) {
        let text = crate::printable::printable_string(text);
        if self.facts.caveats.len() < MAX_CAVEATS && !self.facts.caveats.contains(&text) {
            self.facts.caveats.push(text.clone());
        }
        self.anomaly(text);
    }

    fn limit(&mut self, limit: DecoderLimit) {
        let what = match limit.message {
            Some(t) => format!("{} {t} message", limit.side),
            None => format!("{} {}", limit.side, limit.what),
        };
        self.anomaly(format!(
            "{what} of {} bytes is over the decoder's limit of {} bytes; skipped",
            limit.size, limit.limit
        ));
        self.facts
            .decoder_limit
            .get_or_insert_with(|| Box::new(limit));
    }

    /// How far the handshake has gone now, for an alert arriving now ([`AlertPhase`]).
    fn alert_phase(&self) -> AlertPhase {
        if self.facts.handshake_complete {
            AlertPhase::AfterHandshake
        } else if self.facts.server_hello_at.is_some() && self.facts.client_hello_at.is_some() {
            AlertPhase::AfterServerHello
        } else if self.facts.client_hello_at.is_some() {
            AlertPhase::AfterClientHello
        } else {
            AlertPhase::BeforeClientHello
        }
    }

    fn is_tls13(&self) -> bool {
        self.facts
            .version
            .is_some_and(|v| v >= ProtocolVersion::TLS1_3)
    }

    /// The capture missed `len` bytes of `side`: record boundaries are lost, so decoding of
    /// that side stops.
    pub fn gap(&mut self, side: Side, len: u64) {
        let d = self.dir_mut(side);
        d.stopped = true;
        d.buf = Vec::new();
        d.reassembler.clear();
        let g = match side {
            Side::Client => &mut self.facts.client_gap,
            Side::Server => &mut self.facts.server_gap,
        };
        *g = g.saturating_add(len);
        self.anomaly(format!("{side} capture gap: tls decoding stopped"));
        let peer = side.peer();
        let handshake_done = {
            let d = self.dir(side);
            d.finished || d.tls13_encrypted
        };
        if *peer.of(&self.early_app_data) && !handshake_done {
            // The missing bytes may be this side's Finished: the peer's early application
            // data is no longer evidence of anything.
            *peer.of_mut(&mut self.early_app_data) = false;
            let text = early_app_data_text(peer);
            self.facts.anomalies.retain(|a| *a != text);
        }
    }

    /// Feeds reassembled stream bytes of `side` (any chunking); `at` is the capture time
    /// of this chunk.
    ///
    /// Errors: the bytes are not TLS records (`UnexpectedValue` / `InvalidLength` from the
    /// record probe) or a handshake message is impossible: that side stops being decoded, the
    /// first such bytes are kept as evidence, and the reason is one of the tracker's anomalies
    /// (callers need not record it again). Later calls for a stopped side do nothing.
    pub fn feed(&mut self, side: Side, at: Timestamp, bytes: &[u8]) -> Result<(), Error> {
        self.feed_with(side, at, bytes, None)
    }

    /// [`TlsTracker::feed`], looking certificates and ClientHello fingerprints up in `caches`
    /// first (the same facts, sooner when the connections of a capture share them).
    pub fn feed_cached(
        &mut self,
        side: Side,
        at: Timestamp,
        bytes: &[u8],
        caches: &mut Caches,
    ) -> Result<(), Error> {
        self.feed_with(side, at, bytes, Some(caches))
    }

    pub(super) fn feed_with(
        &mut self,
        side: Side,
        at: Timestamp,
        bytes: &[u8],
        mut caches: Option<&mut Caches>,
    ) -> Result<(), Error> {
        if self.dir(side).stopped {
            return Ok(());
        }
        let mut input = self.skip(side, bytes);
        // Complete a buffered partial record first, taking only the bytes it needs.
        if !self.dir(side).buf.is_empty() {
            match self.complete_buffered(side, at, input, caches.as_deref_mut())? {
                Some(rest) => input = rest,
                None => return Ok(()),
            }
        }
        loop {
            if input.is_empty() {
                return Ok(());
            }
            // The common case, a TLS record, is framed and parsed once.
            let parsed = if self.sslv2_next(side, input) {
                self.probe_unit(side, input).map(|len| {
                    let (unit, rest) = input.split_at_checked(len).unwrap_or((input, &[]));
                    (None, unit, rest)
                })
            } else {
                parse_record(input).map(|(record, rest)| (Some(record), input, rest))
            };
            match parsed {
                Ok((record, unit, rest)) => {
                    let result = match record {
                        Some(record) => self.on_record(side, at, &record, caches.as_deref_mut()),
                        None => self.on_unit(side, at, unit, caches.as_deref_mut()),
                    };
                    if let Err(e) = result {
                        return Err(self.stop(side, at, &[], e));
                    }
                    input = rest;
                }
                Err(Error::Incomplete { .. }) => {
                    // INVARIANT: the probe accepted the header bytes present, so this partial
                    // unit is shorter than MAX_RECORD_LEN (or than an SSL 2.0 hello's 32,769).
                    self.dir_mut(side).buf.extend_from_slice(input);
                    return Ok(());
                }
                Err(e) => {
                    if let Some(total) = self.oversized_record(side, at, input, &e) {
                        self.dir_mut(side).skip = total;
                        input = self.skip(side, input);
                        continue;
                    }
                    return Err(self.stop(side, at, input, e));
                }
            }
        }
    }

    /// The next unit of `side` at the front of `input` (the analyzer's path, one unit at a
    /// time), framed and fed: `Ok((its length, what feeding it returned))`, or the framing
    /// error [`TlsTracker::probe_unit`] gives (`Incomplete` too) with nothing fed. The common
    /// case, a TLS record with nothing buffered or skipped, is parsed once and handed to the
    /// record handler directly; an SSL 2.0 hello or any other state takes
    /// [`TlsTracker::feed_with`], given exactly that unit.
    pub(super) fn feed_next(
        &mut self,
        side: Side,
        at: Timestamp,
        input: &[u8],
        caches: Option<&mut Caches>,
    ) -> Result<(usize, Result<(), Error>), Error> {
        if self.sslv2_next(side, input) {
            let len = sslv2::probe_client_hello(input)?;
            let Some(unit) = input.get(..len) else {
                return Err(Error::Incomplete {
                    needed: len.saturating_sub(input.len()),
                });
            };
            return Ok((len, self.feed_with(side, at, unit, caches)));
        }
        let (record, rest) = parse_record(input)?;
        let len = input.len().saturating_sub(rest.len());
        let d = self.dir(side);
        let result = if d.stopped || d.skip > 0 || !d.buf.is_empty() {
            self.feed_with(side, at, input.get(..len).unwrap_or_default(), caches)
        } else {
            self.on_record(side, at, &record, caches)
                .map_err(|e| self.stop(side, at, &[], e))
        };
        Ok((len, result))
    }

    /// Completes the partial record buffered for `side` from the front of `input`: `Some(the
    /// bytes after it)`, or `None` when `input` ran out first. Out of line: only a record
    /// split across calls of [`TlsTracker::feed`] takes this path.
    #[inline(never)]
    fn complete_buffered<'a>(
        &mut self,
        side: Side,
        at: Timestamp,
        mut input: &'a [u8],
        mut caches: Option<&mut Caches>,
    ) -> Result<Option<&'a [u8]>, Error> {
        while !self.dir(side).buf.is_empty() {
            let mut buf = core::mem::take(&mut self.dir_mut(side).buf);
            match self.probe_unit(side, &buf) {
                Ok(_) => {
                    let result = self.on_unit(side, at, &buf, caches.as_deref_mut());
                    buf.clear();
                    self.dir_mut(side).buf = buf;
                    if let Err(e) = result {
                        return Err(self.stop(side, at, &[], e));
                    }
                }
                Err(Error::Incomplete { needed }) => {
                    let take = needed.min(input.len());
                    let (head, tail) = input.split_at_checked(take).unwrap_or((input, &[]));
                    buf.extend_from_slice(head);
                    input = tail;
                    self.dir_mut(side).buf = buf;
                    if input.is_empty() && take < needed {
                        return Ok(None);
                    }
                }
                Err(e) => {
                    if let Some(total) = self.oversized_record(side, at, &buf, &e) {
                        self.dir_mut(side).skip = total.saturating_sub(buf.len());
                        input = self.skip(side, input);
                        continue;
                    }
                    let mut evidence = buf;
                    evidence.extend(input.iter().take(MAX_NON_TLS_EVIDENCE));
                    return Err(self.stop(side, at, &evidence, e));
                }
            }
        }
        Ok(Some(input))
    }

    /// Drops what is left of an oversized record from the front of `input`.
    fn skip<'a>(&mut self, side: Side, input: &'a [u8]) -> &'a [u8] {
        let d = self.dir_mut(side);
        let n = d.skip.min(input.len());
        d.skip = d.skip.saturating_sub(n);
        input.get(n..).unwrap_or_default()
    }

    /// Whether the next unit of `side` is an SSL 2.0 compatible ClientHello: the client's
    /// first bytes, with the SSL 2.0 header's high bit (RFC 5246 E.2; a TLS record starts with
    /// a content type of 20 to 24, so the two cannot be confused).
    #[inline]
    fn sslv2_next(&self, side: Side, input: &[u8]) -> bool {
        side == Side::Client
            && self.facts.client_records == 0
            && self.facts.client_hello_at.is_none()
            && sslv2::looks_like_client_hello(input)
    }

    /// The length of the next unit (a record, or an SSL 2.0 compatible ClientHello).
    #[inline]
    pub(super) fn probe_unit(&self, side: Side, input: &[u8]) -> Result<usize, Error> {
        if self.sslv2_next(side, input) {
            sslv2::probe_client_hello(input)
        } else {
            probe_record(input)
        }
    }

    /// One whole unit, as [`TlsTracker::probe_unit`] framed it.
    fn on_unit(
        &mut self,
        side: Side,
        at: Timestamp,
        unit: &[u8],
        caches: Option<&mut Caches>,
    ) -> Result<(), Error> {
        if self.sslv2_next(side, unit) {
            return self.on_sslv2_client_hello(at, unit);
        }
        let (record, _) = parse_record(unit)?;
        self.on_record(side, at, &record, caches)
    }

    /// A record whose header declares more than [`MAX_FRAGMENT_LEN`] bytes (RFC 5246 6.2.3,
    /// RFC 8446 5.1: a receiver answers record_overflow): `Some(its whole size)` to skip, the
    /// limit recorded (a [`DecoderLimit`], not a failure: the framing goes on after it), or
    /// `None` when `e` is not that. A handshake record skipped loses the message boundaries
    /// of its direction: later clear handshake records are counted, not parsed. Out of line
    /// (cold): rare.
    #[cold]
    #[inline(never)]
    pub(super) fn oversized_record(
        &mut self,
        side: Side,
        at: Timestamp,
        header: &[u8],
        e: &Error,
    ) -> Option<usize> {
        let Error::InvalidLength {
            what: "tls record",
            length,
        } = *e
        else {
            return None;
        };
        let &[t, ..] = header.first_chunk::<RECORD_HEADER_LEN>()?;
        match side {
            Side::Client => self.facts.client_records.bump(),
            Side::Server => self.facts.server_records.bump(),
        }
        match ContentType(t) {
            ContentType::HANDSHAKE => {
                self.facts.last_handshake_at = Some(at);
                let d = self.dir_mut(side);
                d.handshake_lost = true;
                d.reassembler.clear();
            }
            ContentType::APPLICATION_DATA if self.facts.handshake_complete => {
                self.facts.count_app_record(side, length);
            }
            _ => {}
        }
        self.limit(DecoderLimit {
            side,
            at,
            what: "record",
            message: None,
            size: length,
            limit: MAX_FRAGMENT_LEN,
        });
        Some(RECORD_HEADER_LEN.saturating_add(length))
    }

    /// An SSL 2.0 compatible ClientHello (RFC 5246 appendix E.2): its version and the TLS
    /// suites among its cipher specs are the client's offer; the TLS handshake that follows is
    /// tracked as usual. No fingerprint is computed: JA3 and JA4 are defined on TLS hellos.
    fn on_sslv2_client_hello(&mut self, ts: Timestamp, unit: &[u8]) -> Result<(), Error> {
        let hello = sslv2::parse_client_hello(unit)?;
        self.facts.client_records.bump();
        self.facts.client_hello_count.bump();
        self.facts.last_handshake_at = Some(ts);
        let f = &mut self.facts;
        f.client_hello_at = Some(ts);
        f.sslv2_client_hello = true;
        f.client_legacy_version = Some(hello.version);
        f.client_versions = vec![hello.version];
        f.client_cipher_suites = hello.cipher_suites;
        f.client_cipher_suites_not_kept = keep_first(&mut f.client_cipher_suites, MAX_HELLO_LIST);
        if hello.sslv2_kinds > 0 {
            let kinds = hello.sslv2_kinds;
            self.anomaly(format!(
                "client sent an SSL 2.0 compatible ClientHello that also offers {kinds} SSL 2.0 cipher kinds"
            ));
        }
        Ok(())
    }

    /// Stops decoding `side`; keeps `evidence` (when not empty) as the first non-TLS bytes.
    /// Out of line (cold): once per direction at most.
    #[cold]
    #[inline(never)]
    fn stop(&mut self, side: Side, at: Timestamp, evidence: &[u8], e: Error) -> Error {
        let d = self.dir_mut(side);
        d.stopped = true;
        d.buf = Vec::new();
        d.reassembler.clear();
        if evidence.is_empty() {
            self.anomaly(format!("{side} tls: {e}; decoding stopped"));
        } else {
            self.anomaly(format!("{side} sent non-tls bytes ({e})"));
            if self.facts.non_tls_from.is_none() {
                self.facts.non_tls_from = Some(side);
                self.facts.non_tls_bytes = evidence
                    .iter()
                    .take(MAX_NON_TLS_EVIDENCE)
                    .copied()
                    .collect();
                self.facts.non_tls_at = Some(at);
            }
        }
        e
    }

    fn on_record(
        &mut self,
        side: Side,
        ts: Timestamp,
        record: &TlsRecord<'_>,
        caches: Option<&mut Caches>,
    ) -> Result<(), Error> {
        match side {
            Side::Client => self.facts.client_records.bump(),
            Side::Server => self.facts.server_records.bump(),
        }
        match record.content_type {
            ContentType::CHANGE_CIPHER_SPEC => self.on_ccs(side, ts),
            ContentType::ALERT => self.on_alert(side, ts, record.fragment),
            ContentType::HANDSHAKE => {
                return self.on_handshake_record(side, ts, record.fragment, caches)
            }
            ContentType::APPLICATION_DATA => self.on_application_data(side, ts, record.fragment),
            _ => {}
        }
        Ok(())
    }

    fn on_ccs(&mut self, side: Side, ts: Timestamp) {
        self.facts.last_handshake_at = Some(ts);
        if self.is_tls13() {
            // RFC 8446 D.4 middlebox compatibility: no key change.
            return;
        }
        let d = self.dir_mut(side);
        if d.ccs {
            return;
        }
        d.ccs = true;
        match side {
            Side::Client => self.facts.client_ccs_at = Some(ts),
            Side::Server => self.facts.server_ccs_at = Some(ts),
        }
    }

    fn on_alert(&mut self, side: Side, ts: Timestamp, fragment: &[u8]) {
        if self.facts.alerts.len() >= MAX_ALERTS {
            return;
        }
        // TLS 1.3 encrypts under the application_data outer type, so an alert record is
        // always clear text there; before 1.3 the sender's CCS decides. A connection picked up
        // after its handshake (no hello seen) gives no state to decide by: there, a record
        // that is not exactly one well-formed alert is taken as encrypted rather than read as
        // a run of nonsense alerts.
        let no_handshake_seen =
            self.facts.client_hello_at.is_none() && self.facts.server_hello_at.is_none();
        let plausible_clear = fragment.len() == 2
            && matches!(fragment.first(), Some(&1 | &2))
            && fragment
                .get(1)
                .is_some_and(|d| AlertDescription(*d).name().is_some());
        if (self.dir(side).ccs && !self.is_tls13()) || (no_handshake_seen && !plausible_clear) {
            self.facts
                .alerts
                .push(AlertEvent::encrypted(side, ts, self.alert_phase()));
            return;
        }
        // RFC 5246 6.2.1: an alert may be split across records; join a byte left over from
        // the previous alert record with this one (TLS 1.3 forbids it, RFC 8446 5.1, but a
        // split alert still says what it says). An odd byte at the end waits for the next.
        let mut rest = fragment;
        if let (Some(level), Some((description, tail))) =
            (self.dir(side).alert_byte, rest.split_first())
        {
            self.dir_mut(side).alert_byte = None;
            self.clear_alerts(side, ts, &[level, *description]);
            rest = tail;
            if rest.is_empty() {
                return;
            }
        }
        if rest.len() % 2 == 1 {
            let (whole, last) = rest.split_at(rest.len().saturating_sub(1));
            self.dir_mut(side).alert_byte = last.first().copied();
            rest = whole;
            if rest.is_empty() {
                return;
            }
        }
        self.clear_alerts(side, ts, rest);
    }

    /// Whole clear-text alerts of `side` (an even number of bytes, or a malformed record).
    fn clear_alerts(&mut self, side: Side, ts: Timestamp, fragment: &[u8]) {
        let phase = self.alert_phase();
        match parse_alerts(fragment) {
            Ok(alerts) => {
                for a in alerts
                    .into_iter()
                    .take(MAX_ALERTS.saturating_sub(self.facts.alerts.len()))
                {
                    self.facts.alerts.push(AlertEvent {
                        side,
                        at: ts,
                        level: Some(a.level),
                        description: Some(a.description),
                        encrypted: false,
                        phase,
                    });
                }
            }
            Err(e) => {
                self.anomaly(format!("{side} alert record: {e}"));
                self.facts.alerts.push(AlertEvent {
                    side,
                    at: ts,
                    level: None,
                    description: None,
                    encrypted: false,
                    phase,
                });
            }
        }
    }

    fn on_handshake_record(
        &mut self,
        side: Side,
        ts: Timestamp,
        fragment: &[u8],
        mut caches: Option<&mut Caches>,
    ) -> Result<(), Error> {
        self.facts.last_handshake_at = Some(ts);
        if self.dir(side).ccs && !self.is_tls13() {
            // The encrypted Finished (or an encrypted renegotiation).
            let d = self.dir_mut(side);
            if !d.finished {
                d.finished = true;
                if self.client.finished && self.server.finished && !self.facts.handshake_complete {
                    self.facts.handshake_complete = true;
                    self.facts.established_at = Some(ts);
                }
            }
            return Ok(());
        }
        if self.dir(side).handshake_lost {
            // An oversized handshake record was skipped: where messages start is unknown.
            return Ok(());
        }
        // Taken out while its messages are handled (which never touch it), so that they can be
        // handled where they lie, without a copy.
        let mut reassembler = core::mem::take(&mut self.dir_mut(side).reassembler);
        let result = reassembler.push(fragment, |t, body| {
            self.on_handshake_message(side, ts, t, body, caches.as_deref_mut());
        });
        let oversized = reassembler.take_oversized();
        self.dir_mut(side).reassembler = reassembler;
        if let Some((message, size)) = oversized {
            self.limit(DecoderLimit {
                side,
                at: ts,
                what: "handshake message",
                message: Some(message),
                size,
                limit: MAX_HANDSHAKE_LEN,
            });
        }
        result
    }

    fn on_handshake_message(
        &mut self,
        side: Side,
        ts: Timestamp,
        t: HandshakeType,
        body: &[u8],
        mut caches: Option<&mut Caches>,
    ) {
        match (side, t) {
            (Side::Client, HandshakeType::CLIENT_HELLO) => self.on_client_hello(ts, body, caches),
            (Side::Server, HandshakeType::SERVER_HELLO) => self.on_server_hello(ts, body, caches),
            (Side::Server, HandshakeType::CERTIFICATE) => {
                if self.is_tls13() || !self.facts.certificates.is_empty() {
                    return;
                }
                match parse_certificate_list(body) {
                    Ok(list) => {
                        self.facts.chain_length = list.len();
                        for der in list.into_iter().take(MAX_CERTIFICATES) {
                            let summary = match caches.as_deref_mut() {
                                Some(c) => c.certificates.summarize(der),
                                None => summarize_certificate(der),
                            };
                            match summary {
                                Ok(s) => self.facts.certificates.push(s),
                                Err(e) => self.anomaly(format!("server certificate: {e}")),
                            }
                        }
                    }
                    Err(e) => self.anomaly(format!("server certificate message: {e}")),
                }
            }
            (Side::Server, HandshakeType::SERVER_KEY_EXCHANGE) => {
                let ecdhe = self
                    .facts
                    .cipher_suite
                    .and_then(CipherSuite::key_exchange)
                    .is_some_and(|k| matches!(k, KeyExchange::Ecdhe | KeyExchange::EcdhePsk));
                if ecdhe {
                    match parse_server_key_exchange_ecdhe(body) {
                        Ok(g) => self.facts.key_exchange_group = g,
                        Err(e) => self.anomaly(format!("server key exchange: {e}")),
                    }
                }
            }
            (Side::Server, HandshakeType::CERTIFICATE_REQUEST) => {
                self.facts.certificate_request = true;
            }
            (Side::Server, HandshakeType::SERVER_HELLO_DONE) => self.facts.server_hello_done = true,
            (Side::Client, HandshakeType::CLIENT_KEY_EXCHANGE) => {
                self.facts.client_key_exchange = true;
            }
            _ => {}
        }
    }

    fn on_client_hello(&mut self, ts: Timestamp, body: &[u8], caches: Option<&mut Caches>) {
        self.facts.client_hello_count.bump();
        if self.facts.client_hello_at.is_some() {
            return;
        }
        self.facts.client_hello_at = Some(ts);
        let hello = match parse_client_hello(body) {
            Ok(h) => h,
            Err(e) => {
                self.anomaly(format!("client hello: {e}"));
                return;
            }
        };
        for (t, e) in &hello.decoded.errors {
            self.anomaly(format!("client hello extension {t}: {e}"));
        }
        let (ja4, ja3) = match caches {
            Some(c) => c.fingerprints.client_fingerprints(&hello),
            None => (fingerprint::ja4(&hello), fingerprint::ja3(&hello)),
        };
        let f = &mut self.facts;
        f.ja4 = Some(ja4.ja4);
        f.ja4_r = Some(ja4.ja4_r);
        f.ja3 = Some(ja3.hash);
        f.ja3_full = Some(ja3.full);
        f.client_legacy_version = Some(hello.legacy_version);
        f.client_versions = hello.offered_versions();
        f.client_extensions = hello
            .extensions
            .iter()
            .take(MAX_HELLO_LIST)
            .map(|e| e.extension_type.0)
            .collect();
        f.client_extensions_not_kept = hello.extensions.len().saturating_sub(MAX_HELLO_LIST);
        f.sni = hello.decoded.server_name.map(|name| {
            let kept = name.get(..MAX_SNI_BYTES).unwrap_or(name);
            f.sni_not_kept = name.len().saturating_sub(kept.len());
            let mut sni = printable_bytes(kept);
            if f.sni_not_kept > 0 {
                sni.push_str("...");
            }
            sni
        });
        f.alpn = hello
            .decoded
            .alpn
            .iter()
            .take(MAX_ALPN_NAMES)
            .map(|a| printable_bytes(a))
            .collect();
        f.alpn_not_kept = hello.decoded.alpn.len().saturating_sub(MAX_ALPN_NAMES);
        // The hello is done with: its lists move into the facts, cut to their first entries.
        f.client_cipher_suites = hello.cipher_suites;
        f.client_cipher_suites_not_kept = keep_first(&mut f.client_cipher_suites, MAX_HELLO_LIST);
        f.supported_groups = hello.decoded.supported_groups;
        f.supported_groups_not_kept = keep_first(&mut f.supported_groups, MAX_HELLO_LIST);
        f.signature_algorithms = hello.decoded.signature_algorithms;
        f.signature_algorithms_not_kept = keep_first(&mut f.signature_algorithms, MAX_HELLO_LIST);
        f.key_share_groups = hello.decoded.key_share_groups;
        f.key_share_groups_not_kept = keep_first(&mut f.key_share_groups, MAX_HELLO_LIST);
    }

    fn on_server_hello(&mut self, ts: Timestamp, body: &[u8], caches: Option<&mut Caches>) {
        let hello = match parse_server_hello(body) {
            Ok(h) => h,
            Err(e) => {
                self.anomaly(format!("server hello: {e}"));
                return;
            }
        };
        for (t, e) in &hello.decoded.errors {
            self.anomaly(format!("server hello extension {t}: {e}"));
        }
        // One ServerHello per handshake, after at most one HelloRetryRequest (RFC 8446 4.1.4,
        // RFC 5246 7.3): another one contradicts the first, which stays the fact.
        let again = if hello.is_hello_retry_request {
            self.facts.hello_retry_request || self.server_hello_seen
        } else {
            self.server_hello_seen
        };
        if again {
            self.caveat(format!(
                "a second ServerHello ({} {}) contradicts the first ({} {}), which is kept",
                hello.selected_version(),
                hello.cipher_suite,
                self.facts
                    .version
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                self.facts
                    .cipher_suite
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            ));
            return;
        }
        self.server_hello_seen |= !hello.is_hello_retry_request;
        // The server picks one of the offered suites (RFC 8446 4.1.3, RFC 5246 7.4.1.3); a
        // client must abort on another. When the whole offer is known, say so.
        let offered = &self.facts.client_cipher_suites;
        if self.facts.client_hello_at.is_some()
            && self.facts.client_cipher_suites_not_kept == 0
            && !offered.contains(&hello.cipher_suite)
        {
            self.caveat(format!(
                "the ServerHello chose {}, which the ClientHello did not offer",
                hello.cipher_suite
            ));
            self.facts.suite_not_offered = true;
        }
        let f = &mut self.facts;
        if hello.is_hello_retry_request {
            f.hello_retry_request = true;
        }
        if f.server_hello_at.is_none() || !hello.is_hello_retry_request {
            f.server_hello_at = Some(ts);
        }
        f.version = Some(hello.selected_version());
        f.cipher_suite = Some(hello.cipher_suite);
        f.server_extensions = hello
            .extensions
            .iter()
            .take(MAX_HELLO_LIST)
            .map(|e| e.extension_type.0)
            .collect();
        f.server_extensions_not_kept = hello.extensions.len().saturating_sub(MAX_HELLO_LIST);
        if let Some(g) = hello.decoded.key_share_groups.first() {
            f.key_exchange_group = Some(*g);
        }
        let ja3s = match caches {
            Some(c) => c.fingerprints.server_fingerprint(&hello),
            None => fingerprint::ja3s(&hello),
        };
        f.ja3s = Some(ja3s.hash);
        f.ja3s_full = Some(ja3s.full);
        #[cfg(feature = "foxio-licensed")]
        {
            f.ja4s = Some(fingerprint::ja4s(&hello).0);
        }
    }

    /// Whether a TLS 1.3 record of `len` bytes, the client's first after the server's
    /// encrypted flight, is an encrypted alert rather than its Finished. Sizes tell them
    /// apart (RFC 8446 5.2: a record is the plaintext, one content-type byte and the AEAD tag):
    /// an alert is 2 bytes of plaintext (6), so 2 + 1 + 16 = 19 bytes with the 16-byte tag of
    /// every TLS 1.3 suite but TLS_AES_128_CCM_8_SHA256 (8-byte tag: 11); the client's first
    /// flight is at least a Finished, 4 bytes of header and a verify_data of the hash length
    /// (4.4.4: 32 or 48), so 53 or 69 bytes and more. Padding (5.4) is allowed but no client
    /// pads an alert to a Finished's size.
    fn is_encrypted_alert(&self, len: usize) -> bool {
        // Alert plaintext (2) + inner content type (1) + AEAD tag.
        let alert = if self.facts.cipher_suite == Some(CipherSuite(0x1305)) {
            2 + 1 + 8
        } else {
            2 + 1 + 16
        };
        len == alert
    }

    fn on_application_data(&mut self, side: Side, ts: Timestamp, fragment: &[u8]) {
        // Nearly every record of a capture: one of an established session. Before TLS 1.3, or
        // once both directions of a TLS 1.3 session are encrypted, none of the handshake cases
        // below can apply.
        if self.facts.handshake_complete
            && (!self.is_tls13() || (self.client.tls13_encrypted && self.server.tls13_encrypted))
        {
            self.session_record(side, ts, fragment.len());
            return;
        }
        let tls13_after_hello = self.is_tls13()
            && self.facts.server_hello_at.is_some()
            && !(self.facts.hello_retry_request && self.facts.client_hello_count < 2);
        if tls13_after_hello
            && side == Side::Client
            && !self.dir(side).tls13_encrypted
            && self.server.tls13_encrypted
            && self.is_encrypted_alert(fragment.len())
        {
            // Not the client's Finished: its encrypted alert refusing the server's flight.
            self.facts.last_handshake_at = Some(ts);
            if self.facts.alerts.len() < MAX_ALERTS {
                self.facts
                    .alerts
                    .push(AlertEvent::encrypted(side, ts, self.alert_phase()));
            }
            return;
        }
        if tls13_after_hello && !self.dir(side).tls13_encrypted {
            // The first record under handshake keys: the server's encrypted flight, or the
            // client's Finished.
            self.dir_mut(side).tls13_encrypted = true;
            self.facts.last_handshake_at = Some(ts);
            if side == Side::Client && self.server.tls13_encrypted {
                self.facts.handshake_complete = true;
                self.facts.established_at = Some(ts);
            }
            return;
        }
        let no_handshake_seen =
            self.facts.client_hello_at.is_none() && self.facts.server_hello_at.is_none();
        if self.facts.handshake_complete || no_handshake_seen {
            self.session_record(side, ts, fragment.len());
        } else if tls13_after_hello {
            // More of the server's encrypted flight before the client's Finished.
            self.facts.last_handshake_at = Some(ts);
        } else {
            self.early_application_data(side);
        }
    }

    /// A record of `len` bytes of the session itself (after the handshake, or of a connection
    /// picked up after it): counted, and remembered as `side`'s last unless it is the size of
    /// a TLS 1.3 alert.
    fn session_record(&mut self, side: Side, ts: Timestamp, len: usize) {
        // An alert is at most 2 + 1 + 16 bytes: only such short records need the suite.
        let alert_sized = self.is_tls13()
            && len <= 19
            && self
                .facts
                .plaintext_len(len.saturate())
                .is_some_and(|(n, _)| n == 2);
        if !alert_sized {
            if let Some(last) = self.facts.last_data_record.get_mut(side.index()) {
                *last = Some(RecordSeen {
                    len: len.saturate(),
                    at: ts,
                });
            }
        }
        self.facts.count_app_record(side, len);
    }

    /// `side` sent application data before the handshake completed. That is an anomaly only
    /// when the capture holds the peer's handshake: its direction carried TLS records, was
    /// decoded without a gap, and no handshake record of it was skipped over a decoder limit.
    /// In a capture of one direction (asymmetric routing, a one-way SPAN) the peer's
    /// ServerHello or Finished is simply not in the capture, and a lost segment of the peer's
    /// flight hides its Finished the same way: missing evidence is not evidence (issue 14).
    /// A gap the peer's direction shows later, before its part of the handshake was seen to
    /// end, takes the anomaly back ([`TlsTracker::gap`]): the reassembler may report the hole
    /// after the bytes that follow it in the other direction.
    #[cold]
    fn early_application_data(&mut self, side: Side) {
        let peer = side.peer();
        let (records, gap) = match peer {
            Side::Client => (self.facts.client_records, self.facts.client_gap),
            Side::Server => (self.facts.server_records, self.facts.server_gap),
        };
        let d = self.dir(peer);
        if records == 0 || gap > 0 || d.stopped || d.handshake_lost {
            return;
        }
        *side.of_mut(&mut self.early_app_data) = true;
        self.anomaly(early_app_data_text(side));
    }
}

/// The anomaly of [`TlsTracker::early_application_data`].
fn early_app_data_text(side: Side) -> String {
    format!("{side} sent application data before the handshake completed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::{hex, CIPHER_MISMATCH_CLIENT_HELLO, TLS12_SERVER_HELLO};
    use crate::tls::{AlertDescription, AlertLevel};

    /// A tracker that has seen a lab client's ClientHello at 1 and, with `server`, a TLS 1.2
    /// ServerHello at 2.
    fn hellos(server: bool) -> TlsTracker {
        let mut t = TlsTracker::new();
        t.feed(
            Side::Client,
            Timestamp(1),
            &hex(CIPHER_MISMATCH_CLIENT_HELLO),
        )
        .unwrap();
        if server {
            t.feed(Side::Server, Timestamp(2), &hex(TLS12_SERVER_HELLO))
                .unwrap();
        }
        t
    }

    /// cipher-mismatch.pcap frame 9: xrdp's fatal handshake_failure.
    const CIPHER_MISMATCH_ALERT: &str = "15030300020228";
    /// cipher-mismatch.pcap frame 11: xrdp then sends a clear-text TPKT (MCS Disconnect
    /// Provider Ultimatum).
    const CIPHER_MISMATCH_TPKT: &str = "0300000902f0802180";
    /// version-client10-server12.pcap frame 8: a TLS 1.0-only ClientHello (8 suites, no
    /// supported_versions).
    const TLS10_CLIENT_HELLO: &str = "1603010075010000710301fd961314e1e0e614b570fa4e7f89e4f46e554d621b01ac8e79b72e6ac7495183000010c00ac009c014c0130035002f0039003301000038000500050100000000000a00160014001700180019001d001e01000101010201030104000b0002010000230000ff01000100001c00024000";
    /// version-client10-server12.pcap frame 9: fatal protocol_version in a TLS 1.0 record.
    const TLS10_ALERT: &str = "15030100020246";
    /// tls12-ok.pcap frame 117: the client's encrypted close_notify (26 bytes).
    const TLS12_ENCRYPTED_ALERT: &str =
        "150303001a85475313e70d30cb1b86046f67406344c427b2469ebc701a1f02";

    #[test]
    fn cipher_mismatch() {
        let mut t = TlsTracker::new();
        t.feed(
            Side::Client,
            Timestamp(9_002_000),
            &hex(CIPHER_MISMATCH_CLIENT_HELLO),
        )
        .unwrap();
        t.feed(
            Side::Server,
            Timestamp(9_120_000),
            &hex(CIPHER_MISMATCH_ALERT),
        )
        .unwrap();
        let e = t
            .feed(
                Side::Server,
                Timestamp(16_659_000),
                &hex(CIPHER_MISMATCH_TPKT),
            )
            .unwrap_err();
        assert!(matches!(
            e,
            Error::UnexpectedValue {
                what: "tls content type",
                value: 3
            }
        ));
        let f = t.facts();
        assert_eq!(f.client_cipher_suites.len(), 6);
        let names: Vec<String> = f
            .client_cipher_suites
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            names.first().map(String::as_str),
            Some("TLS_AES_256_GCM_SHA384")
        );
        assert_eq!(
            names.last().map(String::as_str),
            Some("TLS_EMPTY_RENEGOTIATION_INFO_SCSV")
        );
        let versions: Vec<String> = f.client_versions.iter().map(|v| v.to_string()).collect();
        assert_eq!(versions, ["TLS1.3", "TLS1.2", "TLS1.1", "TLS1.0"]);
        assert_eq!(f.sni.as_deref(), Some("127.0.0.1"));
        assert_eq!(
            f.alerts,
            vec![AlertEvent {
                side: Side::Server,
                at: Timestamp(9_120_000),
                level: Some(AlertLevel::FATAL),
                description: Some(AlertDescription::HANDSHAKE_FAILURE),
                encrypted: false,
                phase: AlertPhase::AfterClientHello,
            }]
        );
        assert_eq!(f.version, None);
        assert!(!f.handshake_complete);
        assert_eq!(f.non_tls_from, Some(Side::Server));
        assert_eq!(f.non_tls_bytes, hex(CIPHER_MISMATCH_TPKT));
        assert!(t.is_stopped(Side::Server) && !t.is_stopped(Side::Client));
        // A stopped side ignores more bytes.
        assert!(t.feed(Side::Server, Timestamp(0), &[0x16]).is_ok());
    }

    #[test]
    fn tls10_client_rejected() {
        let mut t = TlsTracker::new();
        t.feed(Side::Client, Timestamp(1), &hex(TLS10_CLIENT_HELLO))
            .unwrap();
        t.feed(Side::Server, Timestamp(2), &hex(TLS10_ALERT))
            .unwrap();
        let f = t.facts();
        assert_eq!(f.client_versions, vec![ProtocolVersion::TLS1_0]);
        assert_eq!(f.client_cipher_suites.len(), 8);
        assert_eq!(
            f.alerts.first().and_then(|a| a.description),
            Some(AlertDescription::PROTOCOL_VERSION)
        );
        assert_eq!(f.sni, None);
        assert!(
            f.ja4.as_deref().unwrap().starts_with("t10i080600_"),
            "{:?}",
            f.ja4
        );
    }

    #[test]
    fn byte_by_byte_feeding_gives_the_same_facts() {
        let mut whole = TlsTracker::new();
        whole
            .feed(
                Side::Client,
                Timestamp(1),
                &hex(CIPHER_MISMATCH_CLIENT_HELLO),
            )
            .unwrap();
        let mut bytewise = TlsTracker::new();
        for b in hex(CIPHER_MISMATCH_CLIENT_HELLO) {
            bytewise.feed(Side::Client, Timestamp(1), &[b]).unwrap();
        }
        assert_eq!(whole.facts(), bytewise.facts());
        assert!(whole.facts().ja3.is_some());
    }

    #[test]
    fn alerts_after_ccs_are_encrypted_whatever_their_length() {
        let mut t = hellos(true);
        assert_eq!(t.facts().version, Some(ProtocolVersion::TLS1_2));
        assert_eq!(t.facts().cipher_suite, Some(CipherSuite(0xc030)));
        // Before its CCS the server's alert is clear text.
        t.feed(Side::Server, Timestamp(3), &[0x15, 3, 3, 0, 2, 1, 0])
            .unwrap();
        // Client CCS, then a 2-byte and a 26-byte alert record: both encrypted.
        t.feed(Side::Client, Timestamp(4), &[0x14, 3, 3, 0, 1, 1])
            .unwrap();
        t.feed(Side::Client, Timestamp(5), &[0x15, 3, 3, 0, 2, 2, 0x28])
            .unwrap();
        t.feed(Side::Client, Timestamp(6), &hex(TLS12_ENCRYPTED_ALERT))
            .unwrap();
        let a = &t.facts().alerts;
        assert_eq!(a.len(), 3);
        assert_eq!(
            a.first().and_then(|a| a.description),
            Some(AlertDescription::CLOSE_NOTIFY)
        );
        assert!(a
            .iter()
            .skip(1)
            .all(|a| a.encrypted && a.level.is_none() && a.side == Side::Client));
    }

    #[test]
    fn tls12_handshake_completion() {
        let mut t = hellos(true);
        t.feed(
            Side::Client,
            Timestamp(3),
            &[0x14, 3, 3, 0, 1, 1, 0x16, 3, 3, 0, 3, 9, 9, 9],
        )
        .unwrap();
        assert!(!t.facts().handshake_complete);
        t.feed(
            Side::Server,
            Timestamp(4),
            &[0x14, 3, 3, 0, 1, 1, 0x16, 3, 3, 0, 3, 9, 9, 9],
        )
        .unwrap();
        assert!(t.facts().handshake_complete);
        assert_eq!(t.facts().established_at, Some(Timestamp(4)));
        t.feed(Side::Client, Timestamp(5), &[0x17, 3, 3, 0, 3, 1, 2, 3])
            .unwrap();
        assert_eq!(
            (t.facts().client_app_records, t.facts().client_app_bytes),
            (1, 3)
        );
    }

    const EARLY: &str = "client sent application data before the handshake completed";

    /// The client's CCS, Finished and one application data record, without the server's.
    fn client_finished_then_data(t: &mut TlsTracker) {
        t.feed(
            Side::Client,
            Timestamp(3),
            &[0x14, 3, 3, 0, 1, 1, 0x16, 3, 3, 0, 3, 9, 9, 9],
        )
        .unwrap();
        t.feed(Side::Client, Timestamp(4), &[0x17, 3, 3, 0, 3, 1, 2, 3])
            .unwrap();
    }

    /// Both directions in the capture, no gap: the client's application data before the
    /// server's Finished is an anomaly.
    #[test]
    fn early_application_data_with_both_directions_is_an_anomaly() {
        let mut t = hellos(true);
        client_finished_then_data(&mut t);
        assert!(t.facts().anomalies.iter().any(|a| a == EARLY));
        // A gap after the server's Finished does not take it back.
        t.feed(
            Side::Server,
            Timestamp(5),
            &[0x14, 3, 3, 0, 1, 1, 0x16, 3, 3, 0, 3, 9, 9, 9],
        )
        .unwrap();
        t.gap(Side::Server, 10);
        assert!(t.facts().anomalies.iter().any(|a| a == EARLY));
    }

    /// Without the server's direction the ServerHello and Finished are not in the capture:
    /// the client's application data is not an anomaly.
    #[test]
    fn early_application_data_without_the_peer_direction_is_no_anomaly() {
        let mut t = hellos(false);
        client_finished_then_data(&mut t);
        assert!(t.facts().anomalies.is_empty(), "{:?}", t.facts().anomalies);
    }

    /// A gap in the server's flight, reported after the client's application data (the
    /// reassembler gives up a hole late), takes the anomaly back: the Finished may be in it.
    #[test]
    fn a_later_gap_in_the_peer_handshake_takes_early_application_data_back() {
        let mut t = hellos(true);
        client_finished_then_data(&mut t);
        t.gap(Side::Server, 100);
        assert!(
            t.facts().anomalies.iter().all(|a| a != EARLY),
            "{:?}",
            t.facts().anomalies
        );
        // Later application data is not an anomaly either: the server's side stopped.
        t.feed(Side::Client, Timestamp(6), &[0x17, 3, 3, 0, 3, 1, 2, 3])
            .unwrap();
        assert!(t.facts().anomalies.iter().all(|a| a != EARLY));
    }

    #[test]
    fn gap_stops_a_side() {
        let mut t = TlsTracker::new();
        t.feed(Side::Client, Timestamp(1), &[0x16, 3, 1]).unwrap();
        t.gap(Side::Client, 100);
        assert!(t.is_stopped(Side::Client));
        assert_eq!(t.facts().client_gap, 100);
        assert!(t.feed(Side::Client, Timestamp(2), &[0xff]).is_ok());
    }

    /// A record over the RFC's size is skipped whole and named as a decoder limit; the
    /// records after it are tracked as usual.
    #[test]
    fn oversized_record_is_skipped_and_named() {
        let mut t = TlsTracker::new();
        let mut bytes = vec![0x17, 3, 3, 0xff, 0xff];
        bytes.extend(std::iter::repeat_n(0u8, 0xffff));
        bytes.extend_from_slice(&[0x15, 3, 3, 0, 2, 2, 40]);
        // Fed in two pieces, the header split, as TCP may deliver it.
        t.feed(Side::Server, Timestamp(1), bytes.get(..3).unwrap())
            .unwrap();
        t.feed(Side::Server, Timestamp(2), bytes.get(3..).unwrap())
            .unwrap();
        let f = t.facts();
        assert!(!t.is_stopped(Side::Server));
        assert_eq!(f.non_tls_from, None);
        let limit = *f.decoder_limit.clone().unwrap();
        assert_eq!((limit.what, limit.size), ("record", 0xffff));
        assert_eq!(f.server_records, 2);
        assert_eq!(
            f.alerts.first().and_then(|a| a.description),
            Some(AlertDescription::HANDSHAKE_FAILURE)
        );
    }

    /// A handshake message over the tracker's limit (a 120 KB certificate) is skipped and
    /// named; the handshake after it goes on (ServerHelloDone is seen).
    #[test]
    fn huge_handshake_message_is_skipped_and_named() {
        let mut t = hellos(true);
        let size = 120 * 1024;
        let mut msg = vec![0x0b];
        msg.extend_from_slice(&u32::try_from(size).unwrap().to_be_bytes()[1..]);
        msg.extend(std::iter::repeat_n(0x30, size));
        msg.extend_from_slice(&[0x0e, 0, 0, 0]);
        for chunk in msg.chunks(16 * 1024) {
            let mut record = vec![0x16, 3, 3];
            record.extend_from_slice(&u16::try_from(chunk.len()).unwrap().to_be_bytes());
            record.extend_from_slice(chunk);
            t.feed(Side::Server, Timestamp(3), &record).unwrap();
        }
        let f = t.facts();
        assert!(!t.is_stopped(Side::Server));
        let limit = *f.decoder_limit.clone().unwrap();
        assert_eq!(limit.message, Some(HandshakeType::CERTIFICATE));
        assert_eq!(limit.size, size);
        assert!(f.server_hello_done);
        assert!(f.certificates.is_empty());
    }

    /// RFC 5246 6.2.1: an alert split over two records is read as one.
    #[test]
    fn alert_split_across_records_is_joined() {
        let mut t = hellos(false);
        t.feed(Side::Server, Timestamp(2), &[0x15, 3, 3, 0, 1, 2])
            .unwrap();
        assert!(t.facts().alerts.is_empty());
        t.feed(Side::Server, Timestamp(3), &[0x15, 3, 3, 0, 1, 40])
            .unwrap();
        let f = t.facts();
        assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
        assert_eq!(
            f.alerts,
            vec![AlertEvent {
                side: Side::Server,
                at: Timestamp(3),
                level: Some(AlertLevel::FATAL),
                description: Some(AlertDescription::HANDSHAKE_FAILURE),
                encrypted: false,
                phase: AlertPhase::AfterClientHello,
            }]
        );
    }

    /// An SSL 2.0 compatible ClientHello is decoded (version, TLS suites), and the TLS
    /// ServerHello after it is tracked as usual.
    #[test]
    fn sslv2_compatible_client_hello_is_decoded() {
        let mut t = TlsTracker::new();
        let hello = crate::tls::sslv2::tests::SSLV2_HELLO;
        // Split, to take the buffered path as well.
        t.feed(Side::Client, Timestamp(1), hello.get(..5).unwrap())
            .unwrap();
        t.feed(Side::Client, Timestamp(1), hello.get(5..).unwrap())
            .unwrap();
        t.feed(Side::Server, Timestamp(2), &hex(TLS12_SERVER_HELLO))
            .unwrap();
        let f = t.facts();
        assert!(f.sslv2_client_hello);
        assert_eq!(f.client_versions, vec![ProtocolVersion::TLS1_0]);
        assert_eq!(
            f.client_cipher_suites,
            vec![CipherSuite(0x002f), CipherSuite(0x000a)]
        );
        assert_eq!(f.version, Some(ProtocolVersion::TLS1_2));
        assert!(f.server_hello_at.is_some());
        // The TLS 1.2 ServerHello chose a suite this hello did not offer: a caveat.
        assert_eq!(f.caveats.len(), 1, "{:?}", f.caveats);
    }

    /// A second ServerHello does not replace the first; it is a caveat.
    #[test]
    fn second_server_hello_is_a_caveat_not_the_truth() {
        let mut t = TlsTracker::new();
        t.feed(Side::Client, Timestamp(1), &hex(TLS10_CLIENT_HELLO))
            .unwrap();
        t.feed(Side::Server, Timestamp(2), &hex(TLS12_SERVER_HELLO))
            .unwrap();
        let first = (t.facts().version, t.facts().cipher_suite);
        let mut other = hex(TLS12_SERVER_HELLO);
        // The same hello choosing TLS_RSA_WITH_AES_128_CBC_SHA (no session id: the suite
        // follows the record and handshake headers, version, random and the id length).
        let suite_at = 5 + 4 + 2 + 32 + 1;
        other[suite_at] = 0x00;
        other[suite_at + 1] = 0x2f;
        t.feed(Side::Server, Timestamp(3), &other).unwrap();
        let f = t.facts();
        assert_eq!((f.version, f.cipher_suite), first);
        assert!(
            f.caveats.iter().any(|c| c.contains("second ServerHello")),
            "{:?}",
            f.caveats
        );
    }

    /// `body` as a ClientHello handshake message in TLS records of at most 16 KiB.
    fn client_hello_records(body: &[u8]) -> Vec<u8> {
        let len = u32::try_from(body.len()).unwrap().to_be_bytes();
        let mut msg = vec![1, len[1], len[2], len[3]];
        msg.extend_from_slice(body);
        let mut out = Vec::new();
        for chunk in msg.chunks(16 * 1024) {
            out.extend_from_slice(&[0x16, 3, 1]);
            out.extend_from_slice(&u16::try_from(chunk.len()).unwrap().to_be_bytes());
            out.extend_from_slice(chunk);
        }
        out
    }

    /// A ClientHello of 32,000 suites keeps 256 of them and counts the rest; its fingerprint
    /// strings are cut, its hashes are the whole lists' (checked in `fingerprint`).
    #[test]
    fn huge_hello_lists_are_cut_and_counted() {
        let body = crate::tls::fingerprint::tests::client_hello_body(32_000);
        let mut t = TlsTracker::new();
        t.feed(Side::Client, Timestamp(1), &client_hello_records(&body))
            .unwrap();
        let f = t.facts();
        assert_eq!(f.client_cipher_suites.len(), MAX_HELLO_LIST);
        assert!(f.client_cipher_suites.capacity() <= MAX_HELLO_LIST);
        assert_eq!(f.client_cipher_suites.last(), Some(&CipherSuite(256)));
        assert_eq!(f.client_cipher_suites_not_kept, 32_000 - MAX_HELLO_LIST);
        assert_eq!(f.client_cipher_suites_offered(), 32_000);
        assert_eq!(f.client_extensions.len(), 4);
        assert_eq!(f.sni.as_deref(), Some("rdp.example"));
        let limit = crate::tls::fingerprint::MAX_FINGERPRINT_TEXT;
        for text in [&f.ja3_full, &f.ja4_r] {
            let text = text.as_deref().unwrap();
            assert!(
                text.len() <= limit && text.ends_with("..."),
                "{}",
                text.len()
            );
        }
        assert!(f.ja4.as_deref().unwrap().starts_with("t13d9904"));
    }

    /// More than 16 ALPN names, or an SNI longer than a DNS name can be, are cut too.
    #[test]
    fn long_alpn_lists_and_names_are_cut() {
        let mut body = crate::tls::fingerprint::tests::client_hello_body(4);
        // Replace the extensions: a 300-byte SNI and 40 ALPN names.
        let suites_end = 2 + 32 + 1 + 2 + 8 + 2;
        body.truncate(suites_end);
        let name = vec![b'a'; 300];
        let mut ext = Vec::new();
        ext.extend_from_slice(&[0, 0]);
        ext.extend_from_slice(&u16::try_from(name.len() + 5).unwrap().to_be_bytes());
        ext.extend_from_slice(&u16::try_from(name.len() + 3).unwrap().to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&u16::try_from(name.len()).unwrap().to_be_bytes());
        ext.extend_from_slice(&name);
        let alpn: Vec<u8> = (0..40u8).flat_map(|i| [2, b'p', b'0' + i % 10]).collect();
        ext.extend_from_slice(&[0, 16]);
        ext.extend_from_slice(&u16::try_from(alpn.len() + 2).unwrap().to_be_bytes());
        ext.extend_from_slice(&u16::try_from(alpn.len()).unwrap().to_be_bytes());
        ext.extend_from_slice(&alpn);
        body.extend_from_slice(&u16::try_from(ext.len()).unwrap().to_be_bytes());
        body.extend_from_slice(&ext);
        let mut t = TlsTracker::new();
        t.feed(Side::Client, Timestamp(1), &client_hello_records(&body))
            .unwrap();
        let f = t.facts();
        assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
        let sni = f.sni.as_deref().unwrap();
        assert_eq!(sni.len(), MAX_SNI_BYTES + 3);
        assert!(sni.ends_with("a..."));
        assert_eq!(f.sni_not_kept, 300 - MAX_SNI_BYTES);
        assert_eq!(f.alpn.len(), MAX_ALPN_NAMES);
        assert_eq!(f.alpn_not_kept, 40 - MAX_ALPN_NAMES);
        assert_eq!(f.client_cipher_suites_not_kept, 0);
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(
            chunks in proptest::collection::vec(
                (proptest::bool::ANY, proptest::collection::vec(proptest::num::u8::ANY, 0..300)),
                0..12,
            )
        ) {
            let mut t = TlsTracker::new();
            for (server, bytes) in chunks {
                let side = if server { Side::Server } else { Side::Client };
                let _ = t.feed(side, Timestamp(0), &bytes);
            }
            let _ = t.facts();
        }

        #[test]
        fn mutated_hello_never_panics(pos in 0usize..265, value in proptest::num::u8::ANY) {
            let mut bytes = hex(CIPHER_MISMATCH_CLIENT_HELLO);
            if let Some(b) = bytes.get_mut(pos) {
                *b = value;
            }
            let mut t = TlsTracker::new();
            let _ = t.feed(Side::Client, Timestamp(0), &bytes);
        }
    }

    /// The record sizes of lab2's errinfo-idle-timeout.pcap (TLS 1.3, AES-256-GCM): the
    /// server's Set Error Info (53), its Disconnect Provider Ultimatum (26) and a close_notify
    /// (19); and the same ultimatum under TLS 1.2 GCM, ChaCha20 and CBC suites.
    #[test]
    fn plaintext_lengths_follow_the_suite() {
        let facts = |version, suite| TlsFacts {
            version: Some(version),
            cipher_suite: Some(suite),
            ..TlsFacts::default()
        };
        let t13 = facts(ProtocolVersion::TLS1_3, CipherSuite::TLS_AES_256_GCM_SHA384);
        assert_eq!(t13.plaintext_len(26), Some((9, 9)));
        assert_eq!(t13.plaintext_len(19), Some((2, 2)));
        assert_eq!(t13.plaintext_len(53), Some((36, 36)));
        assert_eq!(t13.plaintext_len(10), None);
        let gcm = facts(
            ProtocolVersion::TLS1_2,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        );
        assert_eq!(gcm.plaintext_len(33), Some((9, 9)));
        let chacha = facts(
            ProtocolVersion::TLS1_2,
            CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        );
        assert_eq!(chacha.plaintext_len(25), Some((9, 9)));
        // AES-CBC with HMAC-SHA1 in TLS 1.2: IV 16, MAC 20, padding to the 16-byte block:
        // 9 + 20 = 29 bytes padded to 32, plus the IV.
        let cbc = facts(
            ProtocolVersion::TLS1_2,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        );
        let (fewest, most) = cbc.plaintext_len(48).unwrap();
        assert!((fewest..=most).contains(&9), "{fewest}..={most}");
        // An unknown suite says nothing.
        let unknown = facts(ProtocolVersion::TLS1_2, CipherSuite(0x7777));
        assert_eq!(unknown.plaintext_len(48), None);
    }
}
