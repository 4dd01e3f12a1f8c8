//! Security findings: what a reviewer should know about a connection, whatever its verdict,
//! and patterns across the connections of a capture.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use super::facts::{ConnectionFacts, Side, Timestamp};
use super::verdict::{Severity, VerdictCode};
use crate::tls::{ProtocolVersion, TlsFacts};
use crate::x224::Protocols;

/// The port RDP listens on by default.
pub const RDP_DEFAULT_PORT: u16 = 3389;
/// RSA keys shorter than this are weak (NIST SP 800-131A).
pub const MIN_RSA_BITS: u32 = 2048;
/// Brute force: this many connections from one client to one server ...
pub const BRUTE_FORCE_MIN_CONNECTIONS: usize = 10;
/// ... within this window ...
pub const BRUTE_FORCE_WINDOW_MS: f64 = 60_000.0;
/// ... carrying at least this many different user cookies, or as many authentication failures.
pub const BRUTE_FORCE_MIN_USERS: usize = 5;

/// The finding codes. The set is the report contract: codes are never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum FindingCode {
    /// Standard RDP Security: legacy RC4/FIPS encryption, no server authentication.
    StandardRdpSecurity,
    /// The client offered NLA, the server selected something weaker.
    NlaNotEnforced,
    /// SSL 3.0, TLS 1.0 or TLS 1.1.
    TlsLegacyVersion,
    /// RC4, 3DES, NULL, EXPORT, anonymous, or no forward secrecy.
    TlsWeakCipher,
    /// The certificate had expired at capture time.
    CertExpired,
    /// The certificate was not yet valid at capture time.
    CertNotYetValid,
    /// RSA below 2048 bits (proprietary certificates included).
    CertWeakKey,
    /// MD5 or SHA-1 signature.
    CertWeakSignature,
    /// A self-signed certificate.
    CertSelfSigned,
    /// The SNI is not a name the certificate covers.
    CertNameMismatch,
    /// RDP on a port other than 3389.
    NonstandardPort,
    /// `MS_T120` requested as a static channel.
    BluekeepProbe,
    /// Bytes missing from the capture.
    CaptureGap,
    /// Many connections with many user names, or many failures, from one client.
    BruteForce,
    /// One certificate presented by several server addresses.
    CertReused,
}

impl FindingCode {
    /// Every code, in the order the reports list them.
    pub const ALL: [FindingCode; 15] = [
        FindingCode::StandardRdpSecurity,
        FindingCode::NlaNotEnforced,
        FindingCode::TlsLegacyVersion,
        FindingCode::TlsWeakCipher,
        FindingCode::CertExpired,
        FindingCode::CertNotYetValid,
        FindingCode::CertWeakKey,
        FindingCode::CertWeakSignature,
        FindingCode::CertSelfSigned,
        FindingCode::CertNameMismatch,
        FindingCode::NonstandardPort,
        FindingCode::BluekeepProbe,
        FindingCode::CaptureGap,
        FindingCode::BruteForce,
        FindingCode::CertReused,
    ];

    /// The code as reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::StandardRdpSecurity => "standard-rdp-security",
            FindingCode::NlaNotEnforced => "nla-not-enforced",
            FindingCode::TlsLegacyVersion => "tls-legacy-version",
            FindingCode::TlsWeakCipher => "tls-weak-cipher",
            FindingCode::CertExpired => "cert-expired",
            FindingCode::CertNotYetValid => "cert-not-yet-valid",
            FindingCode::CertWeakKey => "cert-weak-key",
            FindingCode::CertWeakSignature => "cert-weak-signature",
            FindingCode::CertSelfSigned => "cert-self-signed",
            FindingCode::CertNameMismatch => "cert-name-mismatch",
            FindingCode::NonstandardPort => "nonstandard-port",
            FindingCode::BluekeepProbe => "bluekeep-probe",
            FindingCode::CaptureGap => "capture-gap",
            FindingCode::BruteForce => "brute-force",
            FindingCode::CertReused => "cert-reused",
        }
    }

    /// The severity that goes with the code.
    pub fn severity(self) -> Severity {
        match self {
            FindingCode::CertExpired
            | FindingCode::CertNotYetValid
            | FindingCode::BluekeepProbe => Severity::Error,
            FindingCode::StandardRdpSecurity
            | FindingCode::NlaNotEnforced
            | FindingCode::TlsLegacyVersion
            | FindingCode::TlsWeakCipher
            | FindingCode::CertWeakKey
            | FindingCode::CertWeakSignature
            | FindingCode::BruteForce
            | FindingCode::CertReused => Severity::Warning,
            FindingCode::CertSelfSigned
            | FindingCode::CertNameMismatch
            | FindingCode::NonstandardPort
            | FindingCode::CaptureGap => Severity::Info,
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What.
    pub code: FindingCode,
    /// How bad.
    pub severity: Severity,
    /// The evidence, in one line.
    pub summary: String,
}

fn finding(code: FindingCode, summary: String) -> Finding {
    Finding {
        code,
        severity: code.severity(),
        summary,
    }
}

/// Whether a certificate name (CN or DNS SAN, possibly `*.example.com`) covers `host`.
fn name_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    let host = host.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == host,
    }
}

fn tls_findings(t: &TlsFacts, at: Timestamp, out: &mut Vec<Finding>) {
    if let Some(v) = t.version {
        if matches!(
            v,
            ProtocolVersion::SSL3_0 | ProtocolVersion::TLS1_0 | ProtocolVersion::TLS1_1
        ) || v.0 < ProtocolVersion::SSL3_0.0
        {
            out.push(finding(
                FindingCode::TlsLegacyVersion,
                format!("the server negotiated {v}, which is deprecated (RFC 8996)"),
            ));
        }
    }
    if let Some(suite) = t.cipher_suite {
        let mut weak = Vec::new();
        for (is, what) in [
            (suite.is_rc4(), "RC4"),
            (suite.is_3des(), "3DES"),
            (suite.is_null(), "NULL encryption"),
            (suite.is_export(), "EXPORT strength"),
            (suite.is_anonymous(), "anonymous key exchange"),
            (
                !suite.is_tls13() && !suite.forward_secrecy(),
                "no forward secrecy",
            ),
        ] {
            if is {
                weak.push(what);
            }
        }
        if !weak.is_empty() {
            out.push(finding(
                FindingCode::TlsWeakCipher,
                format!("the server chose {suite}: {}", weak.join(", ")),
            ));
        }
    }
    let Some(cert) = t.certificates.first() else {
        return;
    };
    let now = at.0.div_euclid(1_000_000_000);
    if now > cert.not_after {
        out.push(finding(
            FindingCode::CertExpired,
            format!(
                "the server certificate expired on {}, before the capture",
                cert.not_after_rfc3339
            ),
        ));
    }
    if now < cert.not_before {
        out.push(finding(
            FindingCode::CertNotYetValid,
            format!(
                "the server certificate is valid only from {}, after the capture",
                cert.not_before_rfc3339
            ),
        ));
    }
    if cert.key_type == "RSA" && cert.key_bits.is_some_and(|b| b < MIN_RSA_BITS) {
        out.push(finding(
            FindingCode::CertWeakKey,
            format!(
                "the server certificate has a {}-bit RSA key",
                cert.key_bits.unwrap_or_default()
            ),
        ));
    }
    let sig = cert.signature_algorithm.to_ascii_lowercase();
    if sig.contains("md5") || sig.contains("sha1") || sig.contains("sha-1") {
        out.push(finding(
            FindingCode::CertWeakSignature,
            format!(
                "the server certificate is signed with {}",
                cert.signature_algorithm
            ),
        ));
    }
    if cert.self_signed {
        out.push(finding(
            FindingCode::CertSelfSigned,
            format!("the server certificate ({}) is self-signed", cert.subject),
        ));
    }
    if let Some(sni) = &t.sni {
        let covered = cert
            .subject_cn
            .iter()
            .chain(cert.san.iter())
            .any(|n| name_matches(n, sni));
        if !covered {
            out.push(finding(
                FindingCode::CertNameMismatch,
                format!(
                    "the client asked for {sni}, which the certificate ({}) does not name",
                    cert.subject
                ),
            ));
        }
    }
}

/// The findings on one connection with verdict `verdict`. `server_port` is the server's TCP
/// port, when known.
///
/// A connection that is not RDP (verdict `not-rdp`: junk, a scanner's HTTP request, TLS started
/// without the X.224 exchange) gets none: its bytes say nothing about an RDP server's security,
/// and a TLS server on port 3389 answering a scanner is not an RDP server's certificate.
pub(crate) fn connection_findings(
    f: &ConnectionFacts,
    tls: Option<&TlsFacts>,
    verdict: VerdictCode,
    server_port: Option<u16>,
) -> Vec<Finding> {
    if verdict == VerdictCode::NotRdp {
        return Vec::new();
    }
    let mut out = Vec::new();
    let x = f.x224.as_ref();
    let selected = x.and_then(|x| x.effective_protocol());
    if selected == Some(Protocols::RDP) {
        let how = match f.standard_security() {
            Some(s) => format!(
                " (encryption {}, level {})",
                if s.encryption_method.bits() == 0 {
                    "NONE".to_string()
                } else {
                    s.encryption_method.to_string()
                },
                s.encryption_level
            ),
            None => String::new(),
        };
        out.push(finding(
            FindingCode::StandardRdpSecurity,
            format!(
                "the connection uses Standard RDP Security{how}: no server authentication, legacy encryption"
            ),
        ));
    }
    if let (Some(requested), Some(selected)) = (x.and_then(|x| x.requested_protocols), selected) {
        if requested.uses_credssp() && !selected.uses_credssp() {
            out.push(finding(
                FindingCode::NlaNotEnforced,
                format!(
                    "the client offered {} but the server selected {}: Network Level Authentication is not required",
                    requested.protocol_names().join("|"),
                    selected.protocol_names().join("|")
                ),
            ));
        }
    }
    if let Some(t) = tls {
        tls_findings(t, f.first_at.unwrap_or_default(), &mut out);
    }
    if let Some(cert) = f
        .mcs
        .as_ref()
        .and_then(|m| m.server.as_ref())
        .and_then(|s| s.certificate.as_ref())
    {
        if let Some(bits) = cert.key_bits.filter(|b| *b < MIN_RSA_BITS) {
            out.push(finding(
                FindingCode::CertWeakKey,
                format!(
                    "the server's {} certificate has a {bits}-bit RSA key",
                    cert.kind
                ),
            ));
        }
    }
    if let Some(port) = server_port.filter(|p| *p != RDP_DEFAULT_PORT) {
        if x.is_some_and(|x| x.request_at.is_some()) {
            out.push(finding(
                FindingCode::NonstandardPort,
                format!("RDP on TCP port {port} instead of {RDP_DEFAULT_PORT}"),
            ));
        }
    }
    let channels = f
        .mcs
        .as_ref()
        .and_then(|m| m.client.as_ref())
        .map(|c| &c.channels);
    if channels.is_some_and(|ch| ch.iter().any(|c| c.name.eq_ignore_ascii_case("MS_T120"))) {
        out.push(finding(
            FindingCode::BluekeepProbe,
            "the client asked for the static channel MS_T120, as BlueKeep (CVE-2019-0708) scanners and exploits do".to_string(),
        ));
    }
    let (client_gap, server_gap) = (
        f.side(Side::Client).gap_bytes,
        f.side(Side::Server).gap_bytes,
    );
    if client_gap > 0 || server_gap > 0 {
        out.push(finding(
            FindingCode::CaptureGap,
            format!(
                "{client_gap} client and {server_gap} server bytes are missing from the capture; the analysis after them is partial"
            ),
        ));
    }
    out
}

/// A finding about several connections of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureFinding {
    /// What.
    pub finding: Finding,
    /// The connections it is about, by the caller's ids.
    pub connections: Vec<u64>,
}

#[derive(Debug, Clone)]
struct Attempt {
    id: u64,
    at: Timestamp,
    cookie: Option<String>,
    auth_failed: bool,
}

/// Gathers what the capture-wide findings need, one small record per connection, and decides
/// them at the end (brute force, certificate reuse).
///
/// Memory stays flat over long captures: once `2 x` [`BRUTE_FORCE_WINDOW_MS`] of request time
/// has passed since a client/server pair's last attempt, its attempts are let go and only its
/// best brute-force window so far is kept. Connections come in order of first packet, so a
/// later attempt cannot fall into a window with those any more; the result is the one the whole
/// list would give unless a connection sends its request more than a window after connections
/// that opened later (a pair's attempts are kept whole while it stays active). Certificate
/// reuse keeps one connection id per connection that presented a certificate: the finding
/// lists them all.
#[derive(Debug, Clone, Default)]
pub struct CaptureFindings {
    attempts: BTreeMap<(IpAddr, SocketAddr), Vec<Attempt>>,
    /// The best brute-force window among attempts already let go, per client and server.
    sealed: BTreeMap<(IpAddr, SocketAddr), CaptureFinding>,
    certificates: BTreeMap<String, (BTreeSet<IpAddr>, Vec<u64>, String)>,
    /// The latest request time added.
    latest: Option<Timestamp>,
    /// Look for pairs to let go when `attempts` has this many (at least [`MIN_SEAL_PAIRS`]).
    seal_at: usize,
}

/// Pairs kept before the first look for stale ones.
const MIN_SEAL_PAIRS: usize = 1024;
/// A pair whose last attempt is this much older than the latest request is let go.
const SEAL_AFTER_MS: f64 = 2.0 * BRUTE_FORCE_WINDOW_MS;

impl CaptureFindings {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one connection (`id` is the caller's identifier).
    pub fn add(
        &mut self,
        id: u64,
        client: SocketAddr,
        server: SocketAddr,
        facts: &ConnectionFacts,
        tls: Option<&TlsFacts>,
        verdict: VerdictCode,
    ) {
        let Some(x) = facts.x224.as_ref().filter(|x| x.request_at.is_some()) else {
            return;
        };
        self.attempts
            .entry((client.ip(), server))
            .or_default()
            .push(Attempt {
                id,
                at: x.request_at.unwrap_or_default(),
                cookie: x.cookie.clone(),
                auth_failed: verdict == VerdictCode::AuthFailed,
            });
        if let Some(cert) = tls.and_then(|t| t.certificates.first()) {
            let entry = self
                .certificates
                .entry(cert.sha256.clone())
                .or_insert_with(|| (BTreeSet::new(), Vec::new(), cert.subject.clone()));
            entry.0.insert(server.ip());
            entry.1.push(id);
        }
        let at = x.request_at.unwrap_or_default();
        self.latest = Some(self.latest.map_or(at, |l| l.max(at)));
        if self.attempts.len() >= self.seal_at.max(MIN_SEAL_PAIRS) {
            self.seal_stale();
            // Amortised: the next look comes after as many new pairs as are kept now.
            self.seal_at = self.attempts.len().saturating_mul(2);
        }
    }

    /// Lets go of the pairs whose last attempt is [`SEAL_AFTER_MS`] older than the latest
    /// request, keeping their best brute-force window.
    fn seal_stale(&mut self) {
        let Some(latest) = self.latest else {
            return;
        };
        let stale: Vec<(IpAddr, SocketAddr)> = self
            .attempts
            .iter()
            .filter(|(_, list)| {
                list.iter()
                    .map(|a| a.at)
                    .max()
                    .is_some_and(|last| latest.millis_since(last) > SEAL_AFTER_MS)
            })
            .map(|(key, _)| *key)
            .collect();
        for key in stale {
            let Some(list) = self.attempts.remove(&key) else {
                continue;
            };
            if let Some(found) = brute_force(&key.0, &key.1, &list) {
                match self.sealed.entry(key) {
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(found);
                    }
                    // The earlier window stays unless the later one is strictly larger, as in
                    // `brute_force` itself.
                    std::collections::btree_map::Entry::Occupied(mut e) => {
                        if found.connections.len() > e.get().connections.len() {
                            e.insert(found);
                        }
                    }
                }
            }
        }
    }

    /// The findings over everything added.
    pub fn finish(&self) -> Vec<CaptureFinding> {
        let mut out = Vec::new();
        let pairs: BTreeSet<&(IpAddr, SocketAddr)> =
            self.attempts.keys().chain(self.sealed.keys()).collect();
        for pair in pairs {
            let (client, server) = pair;
            let rest = self
                .attempts
                .get(pair)
                .and_then(|list| brute_force(client, server, list));
            let found = match (self.sealed.get(pair), rest) {
                (Some(sealed), Some(rest)) if rest.connections.len() > sealed.connections.len() => {
                    Some(rest)
                }
                (Some(sealed), _) => Some(sealed.clone()),
                (None, rest) => rest,
            };
            out.extend(found);
        }
        for (sha256, (servers, ids, subject)) in &self.certificates {
            if servers.len() > 1 {
                let list: Vec<String> = servers.iter().map(ToString::to_string).collect();
                out.push(CaptureFinding {
                    finding: finding(
                        FindingCode::CertReused,
                        format!(
                            "{} servers ({}) present the same certificate {subject} (SHA-256 {}...)",
                            servers.len(),
                            list.join(", "),
                            sha256.get(..16).unwrap_or(sha256)
                        ),
                    ),
                    connections: ids.clone(),
                });
            }
        }
        out
    }
}

/// The densest window of attempts, if it qualifies as brute force.
fn brute_force(
    client: &IpAddr,
    server: &SocketAddr,
    attempts: &[Attempt],
) -> Option<CaptureFinding> {
    let mut sorted: Vec<&Attempt> = attempts.iter().collect();
    sorted.sort_by_key(|a| a.at);
    let mut best: Option<(usize, usize)> = None;
    let mut start = 0usize;
    for end in 0..sorted.len() {
        let end_at = sorted.get(end)?.at;
        while sorted
            .get(start)
            .is_some_and(|a| end_at.millis_since(a.at) > BRUTE_FORCE_WINDOW_MS)
        {
            start = start.saturating_add(1);
        }
        let window = sorted.get(start..=end)?;
        let users: BTreeSet<&str> = window.iter().filter_map(|a| a.cookie.as_deref()).collect();
        let failures = window.iter().filter(|a| a.auth_failed).count();
        let qualifies = window.len() >= BRUTE_FORCE_MIN_CONNECTIONS
            && (users.len() >= BRUTE_FORCE_MIN_USERS || failures >= BRUTE_FORCE_MIN_USERS);
        if qualifies && best.is_none_or(|(s, e)| e.saturating_sub(s) < end.saturating_sub(start)) {
            best = Some((start, end));
        }
    }
    let (s, e) = best?;
    let window = sorted.get(s..=e)?;
    let users: BTreeSet<&str> = window.iter().filter_map(|a| a.cookie.as_deref()).collect();
    let failures = window.iter().filter(|a| a.auth_failed).count();
    let span = window.last()?.at.millis_since(window.first()?.at);
    let mut names: Vec<&str> = users.iter().copied().take(8).collect();
    if users.len() > names.len() {
        names.push("...");
    }
    Some(CaptureFinding {
        finding: finding(
            FindingCode::BruteForce,
            format!(
                "{} connections from {client} to {server} in {}, with {} different user names ({}){}",
                window.len(),
                super::verdict::format_ms(span),
                users.len(),
                names.join(", "),
                if failures > 0 { format!(" and {failures} authentication failures") } else { String::new() }
            ),
        ),
        connections: window.iter().map(|a| a.id).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_names() {
        assert!(name_matches("*.example.com", "rdp.example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(name_matches("Host.Example.com", "host.example.com."));
        assert!(!name_matches("rdp-lab-good", "127.0.0.1"));
    }

    fn attempt(findings: &mut CaptureFindings, id: u64, client: &str, at_ms: i64, user: &str) {
        let facts = ConnectionFacts {
            x224: Some(super::super::facts::X224Facts {
                request_at: Some(Timestamp(1_764_410_000_000_000_000 + at_ms * 1_000_000)),
                cookie: Some(user.to_string()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let server: SocketAddr = "192.0.2.1:3389".parse().unwrap();
        let client: SocketAddr = format!("{client}:50000").parse().unwrap();
        findings.add(id, client, server, &facts, None, VerdictCode::AuthFailed);
    }

    /// Letting go of stale pairs gives the findings of the whole list, with bounded memory.
    #[test]
    fn sealing_keeps_the_findings() {
        let mut bounded = CaptureFindings::new();
        let mut whole = CaptureFindings {
            seal_at: usize::MAX,
            ..Default::default()
        };
        let mut id = 0;
        let mut both = |client: &str, at_ms: i64, user: &str| {
            attempt(&mut bounded, id, client, at_ms, user);
            attempt(&mut whole, id, client, at_ms, user);
            id += 1;
        };
        // A brute force of 12 attempts in 22 s, 6 user names.
        for i in 0..12 {
            both("198.51.100.7", i * 2_000, &format!("user{}", i % 6));
        }
        // 3,000 other clients, one attempt each, over 15 minutes.
        for i in 0..3_000 {
            both(
                &format!("10.0.{}.{}", i / 250, i % 250),
                30_000 + i * 300,
                "alice",
            );
        }
        // The same client again, later: 15 attempts, a larger window that wins.
        for i in 0..15 {
            both("198.51.100.7", 1_000_000 + i * 1_000, &format!("u{i}"));
        }
        // And one that does not qualify (too few), long after.
        for i in 0..3 {
            both("198.51.100.8", 2_000_000 + i, "bob");
        }
        assert!(bounded.sealed.contains_key(&(
            "198.51.100.7".parse().unwrap(),
            "192.0.2.1:3389".parse().unwrap()
        )));
        let found = bounded.finish();
        assert_eq!(found, whole.finish());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].connections.len(), 15);
        assert!(
            bounded.attempts.len() < 2 * MIN_SEAL_PAIRS,
            "{}",
            bounded.attempts.len()
        );
        assert_eq!(whole.attempts.len(), 3_002);

        // The first window stays when the later one is not larger.
        let mut bounded = CaptureFindings::new();
        for i in 0..12i64 {
            attempt(
                &mut bounded,
                i.unsigned_abs(),
                "198.51.100.7",
                i * 2_000,
                &format!("user{}", i % 6),
            );
        }
        for i in 0..3_000i64 {
            let client = format!("10.0.{}.{}", i / 250, i % 250);
            attempt(
                &mut bounded,
                100 + i.unsigned_abs(),
                &client,
                30_000 + i * 300,
                "alice",
            );
        }
        for i in 0..12i64 {
            let at = 1_000_000 + i * 1_000;
            attempt(
                &mut bounded,
                5_000 + i.unsigned_abs(),
                "198.51.100.7",
                at,
                &format!("v{i}"),
            );
        }
        let found = bounded.finish();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].connections, (0..12).collect::<Vec<u64>>());
    }

    #[test]
    fn every_code_has_a_distinct_name() {
        let names: BTreeSet<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), FindingCode::ALL.len());
    }
}
