//! NSS key log files (the `SSLKEYLOGFILE` format): the secrets a TLS endpoint wrote down, by
//! client random, for whoever decrypts a capture of its connections.
//!
//! # Format
//! NSS's "Key Log Format", as Wireshark reads it (`epan/dissectors/packet-tls-utils.c`): one
//! secret per line, `LABEL <hex> <hex>`, the fields separated by spaces or tabs; lines that start
//! with `#` are comments; blank lines and a CR before the LF are allowed. The labels kept:
//!
//! | label | first field | secret | for |
//! |---|---|---|---|
//! | `CLIENT_RANDOM` | client random (32 bytes) | master secret (48) | SSL 3 to TLS 1.2, any key exchange |
//! | `PMS_CLIENT_RANDOM` | client random | premaster secret (48) | TLS 1.0 to 1.2 |
//! | `RSA` | first 8 bytes of the EncryptedPreMasterSecret | premaster secret (48) | `TLS_RSA_*` (the older NSS form) |
//! | `RSA Session-ID:<hex> Master-Key:<hex>` | session id (1 to 32 bytes) | master secret (48) | what `openssl s_client` prints |
//! | `CLIENT_HANDSHAKE_TRAFFIC_SECRET`, `SERVER_HANDSHAKE_TRAFFIC_SECRET` | client random | 32 or 48 bytes (the suite's hash) | TLS 1.3 handshake (RFC 8446 7.1) |
//! | `CLIENT_TRAFFIC_SECRET_0`, `SERVER_TRAFFIC_SECRET_0` | client random | 32 or 48 bytes | TLS 1.3 application data; a KeyUpdate derives the next |
//!
//! `EXPORTER_SECRET`, `EARLY_EXPORTER_SECRET` and `CLIENT_EARLY_TRAFFIC_SECRET` are known and
//! not kept (RDP sends no early data and exports nothing). Anything else is counted, never
//! fatal: comments, unknown labels, malformed lines (with the number of the first), and
//! secrets replaced by a later line with the same label and client random (the later wins, as
//! in Wireshark). Several sources (files, pcapng Decryption Secrets Blocks) are added to one
//! [`KeyLog`].
//!
//! # Invariants
//! - Secrets are stored decoded, in one list: a session costs its client random and index (56
//!   bytes in the map) and 49 bytes a secret, whatever the text around them. A key log of
//!   100,000 TLS 1.3 sessions (94 MB of text, as OpenSSL writes it) loads in about a third of
//!   a second into about 28 MiB (`cargo bench -p rdp-benches --bench parsers -- keylog`).
//! - No secret is ever shown: [`Secret`]'s `Debug` prints its length only, and neither
//!   [`KeyLog`] nor [`KeyLogStats`] prints any secret or any part of a line. Only
//!   [`Secret::expose`] gives the bytes, to the code that derives keys from them.
//! - No I/O: the text comes in as bytes.

use std::collections::HashMap;
use std::fmt;

use crate::Bump as _;

/// A secret from a key log: 48 bytes at most (a master secret, a premaster secret or a TLS 1.3
/// traffic secret of a SHA-384 suite).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    len: u8,
    bytes: [u8; SECRET_MAX],
}

/// The longest secret kept.
pub const SECRET_MAX: usize = 48;

impl Secret {
    /// `bytes` as a secret, if it is at most [`SECRET_MAX`] bytes long.
    fn new(bytes: &[u8]) -> Option<Secret> {
        let mut out = [0u8; SECRET_MAX];
        out.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Secret {
            len: u8::try_from(bytes.len()).ok()?,
            bytes: out,
        })
    }

    /// The secret's bytes, for the key schedule that needs them. Never print them.
    pub fn expose(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether it is empty (never, for a secret read from a key log).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.len)
    }
}

/// What a secret kept by client random is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// `CLIENT_RANDOM`: the master secret (SSL 3 to TLS 1.2).
    MasterSecret,
    /// `PMS_CLIENT_RANDOM`: the premaster secret (TLS 1.0 to 1.2).
    PreMasterSecret,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET` (TLS 1.3).
    ClientHandshakeTraffic,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET` (TLS 1.3).
    ServerHandshakeTraffic,
    /// `CLIENT_TRAFFIC_SECRET_0` (TLS 1.3).
    ClientTraffic0,
    /// `SERVER_TRAFFIC_SECRET_0` (TLS 1.3).
    ServerTraffic0,
}

impl SecretKind {
    /// Every kind, in slot order.
    pub const ALL: [SecretKind; 6] = [
        SecretKind::MasterSecret,
        SecretKind::PreMasterSecret,
        SecretKind::ClientHandshakeTraffic,
        SecretKind::ServerHandshakeTraffic,
        SecretKind::ClientTraffic0,
        SecretKind::ServerTraffic0,
    ];

    /// The key log label.
    pub fn label(self) -> &'static str {
        match self {
            SecretKind::MasterSecret => "CLIENT_RANDOM",
            SecretKind::PreMasterSecret => "PMS_CLIENT_RANDOM",
            SecretKind::ClientHandshakeTraffic => "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            SecretKind::ServerHandshakeTraffic => "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            SecretKind::ClientTraffic0 => "CLIENT_TRAFFIC_SECRET_0",
            SecretKind::ServerTraffic0 => "SERVER_TRAFFIC_SECRET_0",
        }
    }

    fn slot(self) -> usize {
        match self {
            SecretKind::MasterSecret => 0,
            SecretKind::PreMasterSecret => 1,
            SecretKind::ClientHandshakeTraffic => 2,
            SecretKind::ServerHandshakeTraffic => 3,
            SecretKind::ClientTraffic0 => 4,
            SecretKind::ServerTraffic0 => 5,
        }
    }

    /// Whether a secret of `len` bytes can be of this kind.
    fn fits(self, len: usize) -> bool {
        match self {
            SecretKind::MasterSecret | SecretKind::PreMasterSecret => len == 48,
            // The suite's hash length: SHA-256 or SHA-384 (RFC 8446 7.1, B.4).
            _ => len == 32 || len == 48,
        }
    }
}

/// Labels that are known and not kept.
const IGNORED_LABELS: [&str; 3] = [
    "EXPORTER_SECRET",
    "EARLY_EXPORTER_SECRET",
    "CLIENT_EARLY_TRAFFIC_SECRET",
];

/// What loading key log text found. Counts of lines, by what they were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyLogStats {
    /// Lines read (the last one counts without its newline).
    pub lines: u64,
    /// Secrets kept (a replaced one included).
    pub secrets: u64,
    /// Secrets that replaced an earlier one with the same label and client random (or
    /// encrypted premaster secret, or session id).
    pub replaced: u64,
    /// Comments and blank lines.
    pub comments: u64,
    /// Lines with a known label that is not kept (exporter and early-data secrets).
    pub ignored: u64,
    /// Lines with a label this reader does not know.
    pub unknown_label: u64,
    /// Lines with a known label whose fields are not what it needs (count, hex, length).
    pub malformed: u64,
    /// The number (from 1) of the first malformed line.
    pub first_malformed_line: Option<u64>,
}

impl KeyLogStats {
    /// Adds `other`'s counts (a second source); the first malformed line stays the first
    /// source's when it has one.
    pub fn merge(&mut self, other: &KeyLogStats) {
        self.lines = self.lines.saturating_add(other.lines);
        self.secrets = self.secrets.saturating_add(other.secrets);
        self.replaced = self.replaced.saturating_add(other.replaced);
        self.comments = self.comments.saturating_add(other.comments);
        self.ignored = self.ignored.saturating_add(other.ignored);
        self.unknown_label = self.unknown_label.saturating_add(other.unknown_label);
        self.malformed = self.malformed.saturating_add(other.malformed);
        self.first_malformed_line = self.first_malformed_line.or(other.first_malformed_line);
    }
}

/// A session id of the `RSA Session-ID:` form: up to 32 bytes (RFC 5246 7.4.1.2).
type SessionId = (u8, [u8; 32]);

/// Secrets by client random (and by the other keys some labels use); see the module doc.
#[derive(Clone, Default)]
pub struct KeyLog {
    /// Every secret kept, in the order first met; a replaced one is overwritten in place.
    secrets: Vec<Secret>,
    /// Per client random, one index into `secrets` plus one per [`SecretKind`] slot (0: none).
    by_client_random: HashMap<[u8; 32], [u32; 6]>,
    /// `RSA` lines: the premaster secret by the first 8 bytes of its encryption.
    by_encrypted_pms: HashMap<[u8; 8], u32>,
    /// `RSA Session-ID:` lines: the master secret by session id.
    by_session_id: HashMap<SessionId, u32>,
    stats: KeyLogStats,
}

impl fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLog")
            .field("client_randoms", &self.by_client_random.len())
            .field("encrypted_premaster_secrets", &self.by_encrypted_pms.len())
            .field("session_ids", &self.by_session_id.len())
            .field("stats", &self.stats)
            .finish()
    }
}

/// What one line is.
enum Line {
    Comment,
    Ignored,
    UnknownLabel,
    Malformed,
    ByClientRandom([u8; 32], SecretKind, Secret),
    ByEncryptedPms([u8; 8], Secret),
    BySessionId(SessionId, Secret),
}

impl KeyLog {
    /// An empty key log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads key log `text` into this one (a later line for the same label and client random
    /// replaces the earlier, here or from an earlier source); returns what this text held.
    pub fn add(&mut self, text: &[u8]) -> KeyLogStats {
        let mut stats = KeyLogStats::default();
        if text.is_empty() {
            return stats;
        }
        // A final newline ends the last line; it does not start another.
        let body = text.strip_suffix(b"\n").unwrap_or(text);
        for line in body.split(|b| *b == b'\n') {
            stats.lines.bump();
            match classify(line) {
                Line::Comment => stats.comments.bump(),
                Line::Ignored => stats.ignored.bump(),
                Line::UnknownLabel => stats.unknown_label.bump(),
                Line::Malformed => {
                    stats.malformed.bump();
                    stats.first_malformed_line.get_or_insert(stats.lines);
                }
                // A key enters a map only with a secret that decoded (`classify`).
                Line::ByClientRandom(random, kind, secret) => {
                    let slots = self.by_client_random.entry(random).or_default();
                    count(
                        &mut stats,
                        keep(&mut self.secrets, slots.get_mut(kind.slot()), secret),
                    );
                }
                Line::ByEncryptedPms(prefix, secret) => {
                    let index = self.by_encrypted_pms.entry(prefix).or_default();
                    count(&mut stats, keep(&mut self.secrets, Some(index), secret));
                }
                Line::BySessionId(id, secret) => {
                    let index = self.by_session_id.entry(id).or_default();
                    count(&mut stats, keep(&mut self.secrets, Some(index), secret));
                }
            }
        }
        self.stats.merge(&stats);
        stats
    }

    /// The secret of `kind` for the session with this client random.
    pub fn get(&self, client_random: &[u8; 32], kind: SecretKind) -> Option<&Secret> {
        let slots = self.by_client_random.get(client_random)?;
        self.at(*slots.get(kind.slot())?)
    }

    /// The premaster secret of an `RSA` line, by the EncryptedPreMasterSecret of the
    /// ClientKeyExchange (its first 8 bytes are the key).
    pub fn premaster_by_encrypted(&self, encrypted: &[u8]) -> Option<&Secret> {
        let prefix: [u8; 8] = encrypted.get(..8)?.try_into().ok()?;
        self.at(*self.by_encrypted_pms.get(&prefix)?)
    }

    /// The master secret of an `RSA Session-ID:` line, by session id.
    pub fn master_by_session_id(&self, session_id: &[u8]) -> Option<&Secret> {
        let id = session_id_key(session_id)?;
        self.at(*self.by_session_id.get(&id)?)
    }

    /// Sessions with at least one secret kept by client random.
    pub fn client_randoms(&self) -> usize {
        self.by_client_random.len()
    }

    /// Secrets kept, in all.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Whether no secret is kept.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// What every text added so far held.
    pub fn stats(&self) -> KeyLogStats {
        self.stats
    }

    /// The secret at a stored index (0: none).
    fn at(&self, index: u32) -> Option<&Secret> {
        let i = usize::try_from(index.checked_sub(1)?).ok()?;
        self.secrets.get(i)
    }
}

/// What keeping a secret did.
enum Kept {
    New,
    Replaced,
    Malformed,
}

fn count(stats: &mut KeyLogStats, kept: Kept) {
    match kept {
        Kept::New => stats.secrets.bump(),
        Kept::Replaced => {
            stats.secrets.bump();
            stats.replaced.bump();
        }
        Kept::Malformed => {
            stats.malformed.bump();
            stats.first_malformed_line.get_or_insert(stats.lines);
        }
    }
}

/// The secret spelt by `hex`, if its length in bytes `fits`.
fn decode_secret(hex: &[u8], fits: impl Fn(usize) -> bool) -> Option<Secret> {
    let mut bytes = [0u8; SECRET_MAX];
    let len = decode_hex(hex, &mut bytes).filter(|len| fits(*len))?;
    bytes.get(..len).and_then(Secret::new)
}

/// Puts `secret` in the list and points `index` (0: none yet) at it.
fn keep(secrets: &mut Vec<Secret>, index: Option<&mut u32>, secret: Secret) -> Kept {
    let Some(index) = index else {
        return Kept::Malformed;
    };
    let existing = index
        .checked_sub(1)
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| secrets.get_mut(i));
    if let Some(old) = existing {
        *old = secret;
        return Kept::Replaced;
    }
    // More than 4 billion secrets cannot come from a text that fits in memory with them.
    let Ok(next) = u32::try_from(secrets.len().saturating_add(1)) else {
        return Kept::Malformed;
    };
    secrets.push(secret);
    *index = next;
    Kept::New
}

/// What a line of key log text is (see the module doc).
fn classify(line: &[u8]) -> Line {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.trim_ascii();
    if line.is_empty() || line.starts_with(b"#") {
        return Line::Comment;
    }
    let mut fields = line
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|f| !f.is_empty());
    let label = fields.next().unwrap_or_default();
    if IGNORED_LABELS.iter().any(|l| l.as_bytes() == label) {
        return Line::Ignored;
    }
    if !known(label) {
        return Line::UnknownLabel;
    }
    let (Some(first), Some(second), None) = (fields.next(), fields.next(), fields.next()) else {
        return Line::Malformed;
    };
    if label == b"RSA" {
        if let (Some(id), Some(master)) = (
            first.strip_prefix(b"Session-ID:"),
            second.strip_prefix(b"Master-Key:"),
        ) {
            let mut bytes = [0u8; 32];
            return match decode_hex(id, &mut bytes).and_then(|n| session_id_key(bytes.get(..n)?)) {
                Some(key) => decode_secret(master, |len| len == 48)
                    .map_or(Line::Malformed, |secret| Line::BySessionId(key, secret)),
                None => Line::Malformed,
            };
        }
        let mut prefix = [0u8; 8];
        return match decode_hex(first, &mut prefix) {
            Some(8) => decode_secret(second, |len| len == 48).map_or(Line::Malformed, |secret| {
                Line::ByEncryptedPms(prefix, secret)
            }),
            _ => Line::Malformed,
        };
    }
    let Some(kind) = SecretKind::ALL
        .into_iter()
        .find(|k| k.label().as_bytes() == label)
    else {
        return Line::UnknownLabel;
    };
    let mut random = [0u8; 32];
    match decode_hex(first, &mut random) {
        Some(32) => decode_secret(second, |len| kind.fits(len)).map_or(Line::Malformed, |secret| {
            Line::ByClientRandom(random, kind, secret)
        }),
        _ => Line::Malformed,
    }
}

/// Whether `label` is one whose secret is kept.
fn known(label: &[u8]) -> bool {
    label == b"RSA"
        || SecretKind::ALL
            .iter()
            .any(|k| k.label().as_bytes() == label)
}

/// A session id as a map key, if it is 1 to 32 bytes long.
fn session_id_key(id: &[u8]) -> Option<SessionId> {
    if id.is_empty() {
        return None;
    }
    let mut key = [0u8; 32];
    key.get_mut(..id.len())?.copy_from_slice(id);
    Some((u8::try_from(id.len()).ok()?, key))
}

/// Decodes hex digits (either case) into the start of `out`; the number of bytes, or `None`
/// for an odd count, a byte that is not a hex digit, or more bytes than `out` holds.
fn decode_hex(hex: &[u8], out: &mut [u8]) -> Option<usize> {
    if hex.len() % 2 != 0 || hex.len() / 2 > out.len() {
        return None;
    }
    for (pair, slot) in hex.chunks_exact(2).zip(out.iter_mut()) {
        let (hi, lo) = (nibble(*pair.first()?)?, nibble(*pair.get(1)?)?);
        *slot = (hi << 4) | lo;
    }
    Some(hex.len() / 2)
}

fn nibble(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::testdata::hex;

    /// The key log of a TLS 1.3 connection between FreeRDP and xrdp (the lab's `tls-ok`
    /// scenario: OpenSSL 3.0 writing through SSLKEYLOGFILE), line for line.
    const TLS13: &str = "SERVER_HANDSHAKE_TRAFFIC_SECRET 016576d83575270145e65e81edd854c3c35ba633b5ab22b4771b350573be1033 4c2c929bce94fb8fb7e4e309c2a68b1ef2d264dfdbc2df46411772db5dc8208b8799830e15412e0eb3e9e574cedbe742
EXPORTER_SECRET 016576d83575270145e65e81edd854c3c35ba633b5ab22b4771b350573be1033 7b87e7762a0befb06e3abed0e6c92732ec28612154997ee2f51f9e6e395a8d3bff5d510aa13bb2d8b4eae27be143e6e8
SERVER_TRAFFIC_SECRET_0 016576d83575270145e65e81edd854c3c35ba633b5ab22b4771b350573be1033 16a55f12059dfc186e67bab75184e12fcb2576c5b427a8862c37dea73de12fa9cb29ba58677762d8798ebca40df3bed8
CLIENT_HANDSHAKE_TRAFFIC_SECRET 016576d83575270145e65e81edd854c3c35ba633b5ab22b4771b350573be1033 ca395696f16e0c0a8c9545703e73d26a475b3eb1ae2c72d7fa11f741fd3b7d5b2977baac31e82b88d180f232d4ead358
CLIENT_TRAFFIC_SECRET_0 016576d83575270145e65e81edd854c3c35ba633b5ab22b4771b350573be1033 881fe12009271b00c4dba6ba8f0d87f47c3336d66068960e0e14dc2c0772dfe0e9c43cd4f9cc362f761479aa81bdd66e
";

    /// The key log of the lab's `tls12-ok` scenario (TLS 1.2, xrdp): one master secret.
    const TLS12: &str = "CLIENT_RANDOM 8bd5df8b67ba4b75090dfaf72acd47409659306ccae0997b87b9e09ba35edefd 6c498da69e45df228d21d615fc53ade3c37f7bfe1c0da6f257363ed48663b8a048cc0bd0b1ecb10cbb6b69563f82643e\n";

    fn random(h: &str) -> [u8; 32] {
        hex(h).try_into().unwrap()
    }

    #[test]
    fn a_tls13_key_log_gives_its_four_traffic_secrets() {
        let mut log = KeyLog::new();
        let stats = log.add(TLS13.as_bytes());
        assert_eq!(
            stats,
            KeyLogStats {
                lines: 5,
                secrets: 4,
                ignored: 1,
                ..KeyLogStats::default()
            }
        );
        let cr = random("016576d83575270145e65e81edd854c3c35ba633b5ab22b4771b350573be1033");
        let secret = log.get(&cr, SecretKind::ClientTraffic0).unwrap();
        assert_eq!(secret.expose(), hex("881fe12009271b00c4dba6ba8f0d87f47c3336d66068960e0e14dc2c0772dfe0e9c43cd4f9cc362f761479aa81bdd66e"));
        for kind in [
            SecretKind::ClientHandshakeTraffic,
            SecretKind::ServerHandshakeTraffic,
            SecretKind::ServerTraffic0,
        ] {
            assert_eq!(log.get(&cr, kind).unwrap().len(), 48, "{kind:?}");
        }
        assert!(log.get(&cr, SecretKind::MasterSecret).is_none());
        assert_eq!((log.client_randoms(), log.len()), (1, 4));
    }

    #[test]
    fn a_tls12_key_log_gives_its_master_secret_and_sources_merge() {
        let mut log = KeyLog::new();
        log.add(TLS13.as_bytes());
        let stats = log.add(TLS12.as_bytes());
        assert_eq!((stats.lines, stats.secrets), (1, 1));
        let cr = random("8bd5df8b67ba4b75090dfaf72acd47409659306ccae0997b87b9e09ba35edefd");
        assert_eq!(
            log.get(&cr, SecretKind::MasterSecret).unwrap().expose(),
            hex("6c498da69e45df228d21d615fc53ade3c37f7bfe1c0da6f257363ed48663b8a048cc0bd0b1ecb10cbb6b69563f82643e")
        );
        assert_eq!(log.client_randoms(), 2);
        assert_eq!(log.stats().lines, 6);
        assert_eq!(log.stats().secrets, 5);
    }

    #[test]
    fn comments_crlf_case_and_whitespace_are_tolerated() {
        let text = format!(
            "# SSL/TLS secrets log file, generated by NSS\r\n\r\n  \t{}\r\n",
            TLS12.trim_end().replace(' ', " \t ").to_uppercase()
        );
        let mut log = KeyLog::new();
        let stats = log.add(text.as_bytes());
        assert_eq!(
            (stats.lines, stats.comments, stats.secrets, stats.malformed),
            (3, 2, 1, 0)
        );
        let cr = random("8bd5df8b67ba4b75090dfaf72acd47409659306ccae0997b87b9e09ba35edefd");
        assert_eq!(log.get(&cr, SecretKind::MasterSecret).unwrap().len(), 48);
    }

    #[test]
    fn bad_lines_are_counted_never_fatal() {
        let cr = "8bd5df8b67ba4b75090dfaf72acd47409659306ccae0997b87b9e09ba35edefd";
        let master = "6c498da69e45df228d21d615fc53ade3c37f7bfe1c0da6f257363ed48663b8a048cc0bd0b1ecb10cbb6b69563f82643e";
        let lines = [
            format!("CLIENT_RANDOM {cr}"),                  // a field missing
            format!("CLIENT_RANDOM {cr} {master} extra"),   // a field too many
            format!("CLIENT_RANDOM {} {master}", &cr[2..]), // a 31-byte random
            format!("CLIENT_RANDOM {cr} {}", &master[2..]), // a 47-byte master secret
            format!("CLIENT_RANDOM {} {}", "aa".repeat(32), &master[2..]), // another random
            format!("CLIENT_RANDOM {cr} {}x", &master[1..]), // not hex
            format!("CLIENT_TRAFFIC_SECRET_0 {cr} {}", &master[..80]), // 40 bytes
            "RSA 0011 2233".to_string(),                    // a 2-byte prefix
            "RSA Session-ID: Master-Key:00".to_string(),    // no session id
            format!("NEW_LABEL {cr} {master}"),             // unknown
            format!("CLIENT_TRAFFIC_SECRET_1 {cr} {master}"), // unknown (derived, not logged)
            format!("CLIENT_RANDOM {cr} {master}"),         // good
        ];
        let mut log = KeyLog::new();
        let stats = log.add(lines.join("\n").as_bytes());
        assert_eq!(stats.lines, 12);
        assert_eq!(stats.malformed, 9);
        assert_eq!(stats.first_malformed_line, Some(1));
        assert_eq!(stats.unknown_label, 2);
        assert_eq!(stats.secrets, 1);
        assert_eq!(log.len(), 1);
        // The bad lines left no session behind: only the good line's random is known.
        assert_eq!(log.client_randoms(), 1);
    }

    #[test]
    fn a_later_line_replaces_the_secret() {
        let cr = "8bd5df8b67ba4b75090dfaf72acd47409659306ccae0997b87b9e09ba35edefd";
        let mut log = KeyLog::new();
        log.add(TLS12.as_bytes());
        let stats = log.add(format!("CLIENT_RANDOM {cr} {}\n", "ab".repeat(48)).as_bytes());
        assert_eq!((stats.secrets, stats.replaced), (1, 1));
        assert_eq!(log.len(), 1);
        let secret = log.get(&random(cr), SecretKind::MasterSecret).unwrap();
        assert_eq!(secret.expose(), [0xab; 48]);
    }

    #[test]
    fn rsa_forms_are_kept_by_their_own_keys() {
        let pms = "03".repeat(48);
        let master = "0c".repeat(48);
        let text = format!(
            "RSA 0102030405060708 {pms}\nRSA Session-ID:{} Master-Key:{master}\nPMS_CLIENT_RANDOM {} {pms}\n",
            "aa".repeat(32),
            "bb".repeat(32)
        );
        let mut log = KeyLog::new();
        let stats = log.add(text.as_bytes());
        assert_eq!((stats.secrets, stats.malformed), (3, 0), "{stats:?}");
        let encrypted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9];
        assert_eq!(
            log.premaster_by_encrypted(&encrypted).unwrap().expose(),
            [3; 48]
        );
        assert!(log.premaster_by_encrypted(&encrypted[..7]).is_none());
        assert_eq!(
            log.master_by_session_id(&[0xaa; 32]).unwrap().expose(),
            [0x0c; 48]
        );
        assert!(log.master_by_session_id(&[0xaa; 31]).is_none());
        let pms_secret = log.get(&[0xbb; 32], SecretKind::PreMasterSecret).unwrap();
        assert_eq!(pms_secret.expose(), [3; 48]);
    }

    /// Nothing a key log holds is shown by `Debug`: not the secrets, not the randoms.
    #[test]
    fn secrets_are_never_shown() {
        let mut log = KeyLog::new();
        let stats = log.add(format!("{TLS13}{TLS12}").as_bytes());
        let cr = random("016576d83575270145e65e81edd854c3c35ba633b5ab22b4771b350573be1033");
        let shown = format!(
            "{log:?} {stats:?} {:?} {:#?}",
            log.get(&cr, SecretKind::ClientTraffic0),
            log
        );
        for line in format!("{TLS13}{TLS12}").lines() {
            for field in line.split(' ').skip(1) {
                assert!(!shown.contains(&field[..16]), "{shown}");
            }
        }
        assert!(shown.contains("Secret(48 bytes)"), "{shown}");
    }

    #[test]
    fn no_final_newline_and_empty_text() {
        let mut log = KeyLog::new();
        assert_eq!(log.add(b""), KeyLogStats::default());
        let stats = log.add(TLS12.trim_end().as_bytes());
        assert_eq!((stats.lines, stats.secrets), (1, 1));
        let stats = log.add(b"\n");
        assert_eq!((stats.lines, stats.comments), (1, 1));
    }
}
