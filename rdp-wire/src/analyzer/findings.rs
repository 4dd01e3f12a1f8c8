//! Security findings: what a reviewer should know about a connection, whatever its verdict,
//! and patterns across the connections of a capture.

use crate::Saturate as _;
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::facts::ConnectionFacts;
use super::tls::TlsFacts;
use super::verdict::{Count, Severity, VerdictCode};
use crate::printable::Quoted;
use crate::tls::ProtocolVersion;
use crate::x224::Protocols;
use crate::Bump as _;
use crate::{Side, Timestamp};

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
/// Password spraying: one client tries at least this many servers, or this many user names,
/// each at most [`PASSWORD_SPRAY_MAX_ATTEMPTS`] times within [`PASSWORD_SPRAY_WINDOW_MS`].
/// Ten, as for brute force: a person uses a handful of servers and accounts in half an hour,
/// a spraying tool walks a list.
pub const PASSWORD_SPRAY_MIN_TARGETS: usize = 10;
/// ... at most this many attempts on each: one or two passwords per account and round is what
/// keeps a sprayer under account lockout (10 bad passwords by default on current Windows, 5 or
/// fewer in the CIS benchmarks), and three lets a tool's retries count.
pub const PASSWORD_SPRAY_MAX_ATTEMPTS: u32 = 3;
/// ... within this window: sprayers pace their rounds to the lockout counter's reset time (10
/// minutes by default on current Windows, 15 or more in the CIS benchmarks), so half an hour
/// holds one to three rounds; a longer window would hold every client's attempts longer.
pub const PASSWORD_SPRAY_WINDOW_MS: f64 = 30.0 * 60_000.0;

/// The earliest capture time (UNIX seconds, 2000-01-01T00:00:00Z) against which a certificate's
/// validity is judged. RDP secured by TLS came with Windows Server 2003 SP1 (2005), and RDP 5.0
/// itself with Windows 2000: a capture of an RDP server's certificate dated earlier comes from a
/// clock that was never set (epoch 0, a dead RTC battery), not from the past.
pub const CLOCK_EARLIEST_PLAUSIBLE: i64 = 946_684_800;
/// The earliest capture time (UNIX seconds, 2018-08-01T00:00:00Z) for a connection that
/// negotiated TLS 1.3: RFC 8446 was published in August 2018, and no RDP stack spoke TLS 1.3
/// before it.
pub const CLOCK_EARLIEST_PLAUSIBLE_TLS13: i64 = 1_533_081_600;
/// The latest capture time (UNIX seconds, 2100-01-01T00:00:00Z) against which a certificate's
/// validity is judged: later dates are clocks run wild (a year field gone wrong, an
/// overflowed counter). A fixed bound rather than the date of the run, so that a report does
/// not depend on when it was made; a correct clock stays below it for the life of this tool.
pub const CLOCK_LATEST_PLAUSIBLE: i64 = 4_102_444_800;
/// How far (seconds, 366 days) the capture clock may be before the certificate's notBefore and
/// still call the certificate not yet valid. A server whose clock runs ahead, or a certificate
/// issued minutes before the connection to a client whose clock lags, is off by hours or days:
/// that is `cert-not-yet-valid`. More than a year means that the capture's clock or the issuing
/// machine's is wrong, and the capture cannot tell which.
pub const CLOCK_BEFORE_NOT_BEFORE_MARGIN_S: i64 = 366 * 86_400;

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
    /// A TLS message or record over a limit of the decoder was skipped: what it said (a very
    /// large certificate chain, typically) was not checked. Not a failure of the connection.
    DecoderLimit,
    /// One direction of the connection is absent from the capture (issue 14).
    OneSidedCapture,
    /// The capture's clock cannot judge the certificate's validity (see [`clock_doubt`]).
    ClockImplausible,
    /// The connection belongs to a scan: a probe by itself, or one of a source's many short
    /// connections (see `scan.rs` and [`SCAN_MIN_CONNECTIONS`](super::SCAN_MIN_CONNECTIONS)).
    Scanner,
    /// Many connections with many user names, or many failures, from one client.
    BruteForce,
    /// One client trying many servers or many user names, a few attempts each, below the
    /// brute-force rate.
    ///
    /// Attempts made at the brute-force rate (one of [`BRUTE_FORCE_MIN_CONNECTIONS`] or more on
    /// one server within [`BRUTE_FORCE_WINDOW_MS`]) are left to brute force, whether or not
    /// they make a brute-force finding, so the two findings never list the same connection.
    /// Connections that reached a session (verdict `established`) are not counted either: a
    /// NAT or gateway in front of many users, or an administrator going from server to server,
    /// makes connections that work; a spraying tool's mostly fail.
    PasswordSpray,
    /// One certificate presented by several server addresses.
    CertReused,
}

impl FindingCode {
    /// Every code, in the order the reports list them.
    pub const ALL: [FindingCode; 20] = [
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
        FindingCode::DecoderLimit,
        FindingCode::OneSidedCapture,
        FindingCode::ClockImplausible,
        FindingCode::Scanner,
        FindingCode::BruteForce,
        FindingCode::PasswordSpray,
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
            FindingCode::PasswordSpray => "password-spray",
            FindingCode::CertReused => "cert-reused",
            FindingCode::OneSidedCapture => "one-sided-capture",
            FindingCode::DecoderLimit => "decoder-limit",
            FindingCode::ClockImplausible => "clock-implausible",
            FindingCode::Scanner => "scanner",
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
            | FindingCode::PasswordSpray
            | FindingCode::CertReused
            | FindingCode::Scanner => Severity::Warning,
            FindingCode::CertSelfSigned
            | FindingCode::CertNameMismatch
            | FindingCode::NonstandardPort
            | FindingCode::CaptureGap
            | FindingCode::OneSidedCapture
            | FindingCode::DecoderLimit
            | FindingCode::ClockImplausible => Severity::Info,
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

pub(super) fn finding(code: FindingCode, summary: String) -> Finding {
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

/// Why the capture time `now` (UNIX seconds) cannot judge whether `cert` was valid, if it cannot.
///
/// The clock is doubted when it reads before [`CLOCK_EARLIEST_PLAUSIBLE`] (or before
/// [`CLOCK_EARLIEST_PLAUSIBLE_TLS13`] on a TLS 1.3 connection), after [`CLOCK_LATEST_PLAUSIBLE`],
/// or more than [`CLOCK_BEFORE_NOT_BEFORE_MARGIN_S`] before the certificate's notBefore. None of
/// these can hide an expired certificate on a correct clock: a correct clock is between the
/// fixed bounds, and a clock before notBefore is before notAfter too (a certificate cannot be
/// expired then). What is given up is a not-yet-valid certificate issued more than a year ahead
/// of a correct clock, which the capture cannot tell from a capture clock a year behind: the
/// finding says that either clock may be wrong.
pub fn clock_doubt(
    now: i64,
    version: Option<ProtocolVersion>,
    cert: &crate::x509::X509Summary,
) -> Option<String> {
    use crate::x509::rfc3339;
    if now < CLOCK_EARLIEST_PLAUSIBLE {
        return Some(format!(
            "before {}, when no RDP server had a TLS certificate",
            rfc3339(CLOCK_EARLIEST_PLAUSIBLE)
        ));
    }
    if version == Some(ProtocolVersion::TLS1_3) && now < CLOCK_EARLIEST_PLAUSIBLE_TLS13 {
        return Some(format!(
            "before {}, although the connection used TLS 1.3 (RFC 8446, August 2018)",
            rfc3339(CLOCK_EARLIEST_PLAUSIBLE_TLS13)
        ));
    }
    if now > CLOCK_LATEST_PLAUSIBLE {
        return Some(format!(
            "after {}, far in the future",
            rfc3339(CLOCK_LATEST_PLAUSIBLE)
        ));
    }
    if now
        < cert
            .not_before
            .saturating_sub(CLOCK_BEFORE_NOT_BEFORE_MARGIN_S)
    {
        let days = cert.not_before.saturating_sub(now) / 86_400;
        return Some(format!(
            "{days} days before the certificate was issued ({}): the capture's clock or the clock of the machine that issued it is wrong",
            cert.not_before_rfc3339
        ));
    }
    None
}

fn tls_findings(t: &TlsFacts, at: Option<Timestamp>, out: &mut Vec<Finding>) {
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
    // A suite the client never offered is no suite the connection can use (a caveat names
    // it): judging its strength would invent a finding.
    if let Some(suite) = t.cipher_suite.filter(|_| !t.suite_not_offered) {
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
    // Validity is judged against the capture's clock only when that clock is plausible
    // (`clock_doubt`); without a time at all, there is nothing to judge with.
    let now = at.map(Timestamp::secs);
    let doubt = now.and_then(|now| Some((now, clock_doubt(now, t.version, cert)?)));
    if let Some((now, why)) = &doubt {
        out.push(finding(
            FindingCode::ClockImplausible,
            format!(
                "the capture clock reads {}, {why}; the server certificate ({}, valid {} to {}) was not judged expired or not yet valid",
                crate::x509::rfc3339(*now),
                cert.subject,
                cert.not_before_rfc3339,
                cert.not_after_rfc3339
            ),
        ));
    }
    let now = now.filter(|_| doubt.is_none());
    if now.is_some_and(|now| now > cert.not_after) {
        out.push(finding(
            FindingCode::CertExpired,
            format!(
                "the server certificate expired on {}, before the capture",
                cert.not_after_rfc3339
            ),
        ));
    }
    if now.is_some_and(|now| now < cert.not_before) {
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
    // A name cut short (tls::MAX_SNI_BYTES), or a certificate whose names were not all kept
    // (x509::MAX_SUMMARY_LIST), cannot show that the certificate does not name the host.
    if let Some(sni) = t.sni.as_ref().filter(|_| t.sni_not_kept == 0) {
        let covered = cert
            .subject_cn
            .iter()
            .chain(cert.san.iter())
            .any(|n| name_matches(n, sni));
        if !covered && cert.san_not_kept == 0 {
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
    // A malformed confirm selects nothing (X224Facts::malformed_confirm): Standard RDP
    // Security is then shown only by the server's security data in clear.
    let malformed = x.is_some_and(|x| x.malformed_confirm);
    if selected == Some(Protocols::RDP) || (malformed && f.standard_security().is_some()) {
        let security = f.standard_security();
        let how = match security {
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
        // ENCRYPTION_METHOD_NONE with ENCRYPTION_LEVEL_NONE (MS-RDPBCGR 5.3.2): nothing is
        // encrypted, not even the Client Info PDU with the password; "legacy encryption"
        // would understate it.
        let unencrypted = security.is_some_and(|s| {
            s.encryption_method.bits() == 0
                && s.encryption_level == crate::names::EncryptionLevel::NONE
        });
        let what = if unencrypted {
            "no encryption at all (the Client Info PDU with the logon password and the whole session travel in clear)"
        } else {
            "legacy encryption"
        };
        out.push(finding(
            FindingCode::StandardRdpSecurity,
            format!(
                "the connection uses Standard RDP Security{how}: no server authentication, {what}"
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
        } else if !requested.uses_credssp()
            && !selected.uses_credssp()
            && verdict == VerdictCode::Established
        {
            // The server took a session without NLA: it does not require it, whatever the
            // client offered (issue 14). A client that offers NLA to such a server is the case
            // above.
            out.push(finding(
                FindingCode::NlaNotEnforced,
                format!(
                    "the client did not offer NLA (requested {}) and the server accepted the session with {}: Network Level Authentication is not required",
                    requested.protocol_names().join("|"),
                    selected.protocol_names().join("|")
                ),
            ));
        }
    }
    if let Some(t) = tls {
        tls_findings(t, f.first_at, &mut out);
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
    if super::scan::requests_ms_t120(f) {
        out.push(finding(
            FindingCode::BluekeepProbe,
            "the client asked for the static channel MS_T120, as BlueKeep (CVE-2019-0708) scanners and exploits do".to_string(),
        ));
    } else if !f.conflicting_copy_channels.is_empty() {
        // A retransmission (or IP fragment) with other bytes than the copy kept: a server may
        // have taken either (RFC 9293 3.10.7.4), so the probe counts in either copy.
        out.push(finding(
            FindingCode::BluekeepProbe,
            "the client asked for the static channel MS_T120 in a retransmitted copy of its MCS Connect Initial that differs from the one first sent, as BlueKeep (CVE-2019-0708) scanners and exploits do".to_string(),
        ));
    }
    if let Some(why) = super::scan::probe(f, verdict) {
        out.push(finding(FindingCode::Scanner, why));
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
    if let Some(c) = f.coverage {
        if let Some(absent) = c.absent_side(f) {
            let present = absent.peer();
            let acked = c.acked_unseen.get(absent.index()).copied().unwrap_or(0);
            out.push(finding(
                FindingCode::OneSidedCapture,
                format!(
                    "no packet from the {absent} is in the capture, though the {present}'s packets show it took part; the {present} acknowledged {} from the {absent}",
                    super::verdict::Count(acked, "byte")
                ),
            ));
        }
    }
    if let Some(limit) = tls.and_then(|t| t.decoder_limit.as_deref()) {
        out.push(decoder_limit(limit));
    }
    out
}

/// The `decoder-limit` finding: which limit, the size met, what went unchecked. The verdict
/// does not count it against the connection: the framing went on after the skipped bytes.
fn decoder_limit(limit: &super::tls::DecoderLimit) -> Finding {
    let what = match limit.message {
        Some(t) => format!("{} message", t),
        None => "record".to_string(),
    };
    let unchecked = match limit.message {
        Some(crate::tls::HandshakeType::CERTIFICATE) => {
            "its certificates were not checked (expiry, key, signature, name)"
        }
        Some(_) => "what it said was not decoded",
        None => "its content was not decoded",
    };
    finding(
        FindingCode::DecoderLimit,
        format!(
            "the {}'s TLS {what} of {} bytes is over the decoder's limit of {} bytes for one {}: it was skipped and {unchecked}; the TLS framing and the verdict go on after it",
            limit.side,
            limit.size,
            limit.limit,
            if limit.message.is_some() { "handshake message" } else { "record" }
        ),
    )
}

/// A finding about several connections of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureFinding {
    /// What.
    pub finding: Finding,
    /// The connections it is about, by the caller's ids.
    pub connections: Vec<u64>,
}

/// One connection attempt: an X.224 Connection Request.
#[derive(Debug, Clone)]
struct Attempt {
    id: u64,
    /// When the request was sent.
    at: Timestamp,
    /// The `mstshash` user name, one allocation shared by the brute-force and spray scans.
    cookie: Option<Arc<str>>,
    server: SocketAddr,
    auth_failed: bool,
    /// The connection reached a session (verdict `established`): not counted as a guess by the
    /// spray scan.
    established: bool,
    /// Set by the spray scan: one of [`BRUTE_FORCE_MIN_CONNECTIONS`] or more attempts on its
    /// server within [`BRUTE_FORCE_WINDOW_MS`], brute force's, not counted either.
    fast: bool,
}

/// What the brute-force scan keeps of an attempt (its pair knows the server).
#[derive(Debug, Clone)]
struct Guess {
    id: u64,
    at: Timestamp,
    cookie: Option<Arc<str>>,
    auth_failed: bool,
}

/// Whether an attempt made at `at` is settled once a request was seen at `latest`: no attempt
/// added later is expected before it (see [`CaptureFindings`]).
fn settled(latest: Timestamp, at: Timestamp) -> bool {
    latest.millis_since(at) > SETTLE_AFTER_MS
}

/// A client's attempts waiting to be scanned, in the order they were added. Small: there is
/// one per client of the last half hour.
#[derive(Debug, Clone)]
struct Pending {
    list: Vec<Attempt>,
    /// The earliest request time in `list` (the largest timestamp when it is empty).
    earliest: Timestamp,
    /// Sort and scan once `list` holds this many: twice what the last scan left, so that each
    /// sort is paid for by as many new attempts as it leaves, O(n log n) over the capture.
    scan_at: u32,
}

impl Default for Pending {
    fn default() -> Self {
        Pending {
            list: Vec::new(),
            earliest: Timestamp(i64::MAX),
            scan_at: 0,
        }
    }
}

impl Pending {
    fn push(&mut self, a: Attempt) {
        self.earliest = self.earliest.min(a.at);
        if self.list.capacity() == 0 {
            // Most clients make one attempt: no room for four.
            self.list.reserve_exact(1);
        }
        self.list.push(a);
    }

    /// Whether a scan is worth its sort: enough attempts wait and the earliest is settled.
    fn due(&self, latest: Timestamp, min: usize) -> bool {
        let scan_at: usize = self.scan_at.saturate();
        self.list.len() >= scan_at.max(min) && settled(latest, self.earliest)
    }

    /// Takes the settled attempts (all of them without `latest`) in request-time order, ties
    /// in the order they were added.
    fn take_settled(&mut self, latest: Option<Timestamp>) -> Vec<Attempt> {
        self.list.sort_by_key(|a| a.at);
        let n = match latest {
            Some(latest) => self.list.partition_point(|a| settled(latest, a.at)),
            None => self.list.len(),
        };
        let rest = self.list.split_off(n);
        let taken = core::mem::replace(&mut self.list, rest);
        self.earliest = self.list.first().map_or(Timestamp(i64::MAX), |a| a.at);
        self.scan_at = self.list.len().saturating_mul(2).saturate();
        taken
    }
}

/// Scanned attempts still needed, numbered in scan order.
#[derive(Debug, Clone)]
struct Kept<T> {
    items: VecDeque<T>,
    /// The scan position of `items.front()`.
    first: u64,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept {
            items: VecDeque::new(),
            first: 0,
        }
    }
}

impl<T> Kept<T> {
    fn index(&self, pos: u64) -> Option<usize> {
        usize::try_from(pos.checked_sub(self.first)?).ok()
    }

    fn get(&self, pos: u64) -> Option<&T> {
        self.items.get(self.index(pos)?)
    }

    fn get_mut(&mut self, pos: u64) -> Option<&mut T> {
        let i = self.index(pos)?;
        self.items.get_mut(i)
    }

    /// Appends `item`; returns its position.
    fn push(&mut self, item: T) -> u64 {
        let pos = self.end();
        self.items.push_back(item);
        pos
    }

    /// Appends `batch` (taking over its buffer when nothing is kept); returns the positions
    /// of its first item and of the item after its last.
    fn append(&mut self, batch: Vec<T>) -> (u64, u64) {
        let from = self.end();
        if self.items.is_empty() {
            self.items = VecDeque::from(batch);
        } else {
            self.items.extend(batch);
        }
        (from, self.end())
    }

    /// The position the next item will have.
    fn end(&self) -> u64 {
        self.first.saturating_add(self.items.len().saturate())
    }

    fn pop_front(&mut self) -> Option<T> {
        let item = self.items.pop_front()?;
        self.first.bump();
        // A burst's room is given back as it drains (amortised: each shrink halves at least).
        if self.items.capacity() > 64 && self.items.len() < self.items.capacity() / 4 {
            self.items.shrink_to(self.items.len().saturating_mul(2));
        }
        Some(item)
    }

    /// Lets go of the items before position `pos`.
    fn drop_before(&mut self, pos: u64) {
        while self.first < pos && self.pop_front().is_some() {}
    }

    /// The items from position `first` to `last`, both included.
    fn range(&self, first: u64, last: u64) -> impl Iterator<Item = &T> + Clone {
        let from = self.index(first).unwrap_or(usize::MAX);
        let count = last.saturating_sub(first).saturating_add(1);
        self.items.iter().skip(from).take(count.saturate())
    }
}

/// The number of attempts from position `first` to `last`, both included.
fn window_len(first: u64, last: u64) -> usize {
    last.saturating_sub(first).saturating_add(1).saturate()
}

/// The best window of a scan so far: its place in the scan while its attempts are still kept,
/// its finding once the scan has moved past it.
#[derive(Debug, Clone, Default)]
enum Best {
    #[default]
    None,
    /// The scan positions of its first and last attempt.
    Window {
        first: u64,
        last: u64,
    },
    Found(CaptureFinding),
}

impl Best {
    /// How many connections the window holds.
    fn len(&self) -> usize {
        match self {
            Best::None => 0,
            Best::Window { first, last } => window_len(*first, *last),
            Best::Found(f) => f.connections.len(),
        }
    }

    /// Where the attempts a window in progress needs start, `start` when it needs none before.
    fn keep_from(&self, start: u64) -> u64 {
        match self {
            Best::Window { first, .. } => start.min(*first),
            _ => start,
        }
    }
}

/// Counts one more attempt on `key`; returns the new count.
fn count_add<K: Hash + Eq>(map: &mut HashMap<K, u32>, key: K) -> u32 {
    let n = map.entry(key).or_insert(0);
    n.bump();
    *n
}

/// Counts one attempt less on `key`, forgotten at zero; returns the new count.
fn count_remove<K, Q>(map: &mut HashMap<K, u32>, key: &Q) -> u32
where
    K: Hash + Eq + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
{
    let Some(n) = map.get_mut(key) else {
        return 0;
    };
    *n = n.saturating_sub(1);
    let left = *n;
    if left == 0 {
        map.remove(key);
    }
    left
}

/// [`count_add`], keeping `few` (the keys with 1 to [`PASSWORD_SPRAY_MAX_ATTEMPTS`] attempts).
fn tally_add<K: Hash + Eq>(map: &mut HashMap<K, u32>, key: K, few: &mut usize) {
    let n = count_add(map, key);
    if n == 1 {
        few.bump();
    } else if n == PASSWORD_SPRAY_MAX_ATTEMPTS.saturating_add(1) {
        *few = few.saturating_sub(1);
    }
}

/// [`count_remove`], keeping `few` as [`tally_add`] does.
fn tally_remove<K, Q>(map: &mut HashMap<K, u32>, key: &Q, few: &mut usize)
where
    K: Hash + Eq + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
{
    let n = count_remove(map, key);
    if n == 0 {
        *few = few.saturating_sub(1);
    } else if n == PASSWORD_SPRAY_MAX_ATTEMPTS {
        few.bump();
    }
}

/// Up to 8 names, then `...` when there are more.
fn first_names<T: std::fmt::Display>(names: impl ExactSizeIterator<Item = T>) -> String {
    use std::fmt::Write as _;
    let total = names.len();
    let mut out = String::new();
    for (i, name) in names.take(8).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{name}");
    }
    if total > 8 {
        out.push_str(", ...");
    }
    out
}

/// The brute-force scan of one client/server pair: a window of [`BRUTE_FORCE_WINDOW_MS`]
/// slides over its attempts in request-time order, with the count of each user name in it and
/// of its authentication failures, so that each attempt costs O(1) expected, where rebuilding
/// the window's set of names at each step cost O(window).
#[derive(Debug, Clone, Default)]
struct BruteScan {
    /// The current window, preceded by the best window while that is not written out.
    kept: Kept<Guess>,
    /// The position of the current window's first attempt.
    start: u64,
    /// Attempts per user name in the window.
    users: HashMap<Arc<str>, u32>,
    /// Authentication failures in the window.
    failures: usize,
    best: Best,
    /// The request time of the last attempt scanned.
    last: Timestamp,
}

impl BruteScan {
    /// A pair's scan, seen for the first time or again after it was let go with `sealed` as
    /// its best window.
    fn new(sealed: Option<CaptureFinding>) -> Self {
        BruteScan {
            best: sealed.map_or(Best::None, Best::Found),
            ..BruteScan::default()
        }
    }

    /// Moves the window to `g`, the pair's next attempt in request-time order.
    fn scan(&mut self, g: Guess, client: IpAddr, server: SocketAddr) {
        let at = g.at;
        self.last = at;
        if let Some(c) = &g.cookie {
            count_add(&mut self.users, Arc::clone(c));
        }
        if g.auth_failed {
            self.failures.bump();
        }
        let end = self.kept.push(g);
        while let Some(old) = self.kept.get(self.start) {
            if at.millis_since(old.at) <= BRUTE_FORCE_WINDOW_MS {
                break;
            }
            if let Some(c) = old.cookie.as_deref() {
                count_remove(&mut self.users, c);
            }
            if old.auth_failed {
                self.failures = self.failures.saturating_sub(1);
            }
            self.start.bump();
        }
        let len = window_len(self.start, end);
        let qualifies = len >= BRUTE_FORCE_MIN_CONNECTIONS
            && (self.users.len() >= BRUTE_FORCE_MIN_USERS
                || self.failures >= BRUTE_FORCE_MIN_USERS);
        // Strictly larger: the earliest of equal windows stays.
        if qualifies && len > self.best.len() {
            self.best = Best::Window {
                first: self.start,
                last: end,
            };
        }
        if let Best::Window { first, last } = self.best {
            if last < self.start {
                self.best = Best::Found(brute_force_finding(
                    client,
                    server,
                    self.kept.range(first, last),
                ));
            }
        }
        self.kept.drop_before(self.best.keep_from(self.start));
    }

    fn finish(self, client: IpAddr, server: SocketAddr) -> Option<CaptureFinding> {
        match self.best {
            Best::None => None,
            Best::Window { first, last } => Some(brute_force_finding(
                client,
                server,
                self.kept.range(first, last),
            )),
            Best::Found(f) => Some(f),
        }
    }
}

/// The brute-force finding on a window of attempts, in request-time order.
fn brute_force_finding<'a>(
    client: IpAddr,
    server: SocketAddr,
    window: impl Iterator<Item = &'a Guess> + Clone,
) -> CaptureFinding {
    let users: BTreeSet<&str> = window.clone().filter_map(|a| a.cookie.as_deref()).collect();
    let failures = window.clone().filter(|a| a.auth_failed).count();
    let first = window.clone().next().map(|a| a.at).unwrap_or_default();
    let last = window.clone().last().map_or(first, |a| a.at);
    let connections: Vec<u64> = window.map(|a| a.id).collect();
    CaptureFinding {
        finding: finding(
            FindingCode::BruteForce,
            format!(
                "{} from {client} to {server} in {}, with {}{}",
                Count::of(connections.len(), "connection"),
                super::verdict::format_ms(last.millis_since(first)),
                match users.len() {
                    0 => "no user name".to_string(),
                    n => format!(
                        "{} ({})",
                        Count::of(n, "different user name"),
                        first_names(users.iter().map(|u| Quoted(u)))
                    ),
                },
                if failures > 0 {
                    format!(" and {}", Count::of(failures, "authentication failure"))
                } else {
                    String::new()
                }
            ),
        ),
        connections,
    }
}

/// The spray window of one client: the attempts that are not at the brute-force rate (see
/// [`ClientScan`]) and did not reach a session, in request-time order, go through a window of
/// [`PASSWORD_SPRAY_WINDOW_MS`] that counts the attempts per server and per user name and how
/// many of each had at most [`PASSWORD_SPRAY_MAX_ATTEMPTS`].
#[derive(Debug, Clone, Default)]
struct SprayScan {
    /// The current spray window, preceded by the best window while that is not written out.
    counted: Kept<Attempt>,
    /// The position of the current window's first attempt.
    start: u64,
    /// Attempts per server in the window.
    servers: HashMap<SocketAddr, u32>,
    /// Attempts per user name in the window.
    users: HashMap<Arc<str>, u32>,
    /// Servers, and user names, with at most [`PASSWORD_SPRAY_MAX_ATTEMPTS`] in the window.
    few_servers: usize,
    few_users: usize,
    best: Best,
}

impl SprayScan {
    fn count(&mut self, x: Attempt, client: IpAddr) {
        let at = x.at;
        while let Some(old) = self.counted.get(self.start) {
            if at.millis_since(old.at) <= PASSWORD_SPRAY_WINDOW_MS {
                break;
            }
            tally_remove(&mut self.servers, &old.server, &mut self.few_servers);
            if let Some(c) = old.cookie.as_deref() {
                tally_remove(&mut self.users, c, &mut self.few_users);
            }
            self.start.bump();
        }
        tally_add(&mut self.servers, x.server, &mut self.few_servers);
        if let Some(c) = &x.cookie {
            tally_add(&mut self.users, Arc::clone(c), &mut self.few_users);
        }
        let end = self.counted.push(x);
        let len = window_len(self.start, end);
        let qualifies = self.few_servers >= PASSWORD_SPRAY_MIN_TARGETS
            || self.few_users >= PASSWORD_SPRAY_MIN_TARGETS;
        if qualifies && len > self.best.len() {
            self.best = Best::Window {
                first: self.start,
                last: end,
            };
        }
        if let Best::Window { first, last } = self.best {
            if last < self.start {
                self.best = Best::Found(spray_finding(client, self.counted.range(first, last)));
            }
        }
        self.counted.drop_before(self.best.keep_from(self.start));
    }

    fn finish(self, client: IpAddr) -> Option<CaptureFinding> {
        match self.best {
            Best::None => None,
            Best::Window { first, last } => {
                Some(spray_finding(client, self.counted.range(first, last)))
            }
            Best::Found(f) => Some(f),
        }
    }
}

/// The password-spray finding on a window of counted attempts, in request-time order.
fn spray_finding<'a>(
    client: IpAddr,
    window: impl Iterator<Item = &'a Attempt> + Clone,
) -> CaptureFinding {
    let mut servers: BTreeMap<SocketAddr, u32> = BTreeMap::new();
    let mut users: BTreeMap<&str, u32> = BTreeMap::new();
    for x in window.clone() {
        let n = servers.entry(x.server).or_default();
        n.bump();
        if let Some(c) = x.cookie.as_deref() {
            let n = users.entry(c).or_default();
            n.bump();
        }
    }
    let is_few = |n: &&u32| **n <= PASSWORD_SPRAY_MAX_ATTEMPTS;
    let few_servers = servers.values().filter(is_few).count();
    let few_users = users.values().filter(is_few).count();
    let first = window.clone().next().map(|x| x.at).unwrap_or_default();
    let last = window.clone().last().map_or(first, |x| x.at);
    let connections: Vec<u64> = window.map(|x| x.id).collect();
    let user_part = match users.len() {
        0 => "no user name".to_string(),
        1 => format!("user name {}", first_names(users.keys().map(|u| Quoted(u)))),
        n => format!(
            "{n} different user names ({})",
            first_names(users.keys().map(|u| Quoted(u)))
        ),
    };
    let mut few = Vec::new();
    if few_servers >= PASSWORD_SPRAY_MIN_TARGETS {
        few.push(format!("{few_servers} servers"));
    }
    if few_users >= PASSWORD_SPRAY_MIN_TARGETS {
        few.push(format!("{few_users} user names"));
    }
    let server_part = match servers.len() {
        1 => "1 server".to_string(),
        n => format!("{n} servers"),
    };
    CaptureFinding {
        finding: finding(
            FindingCode::PasswordSpray,
            format!(
                "{} connections from {client} in {} to {server_part} ({}) with {user_part}: at most {PASSWORD_SPRAY_MAX_ATTEMPTS} on each of {}",
                connections.len(),
                super::verdict::format_ms(last.millis_since(first)),
                first_names(servers.keys()),
                few.join(" and each of "),
            ),
        ),
        connections,
    }
}

/// Everything a client's attempts are scanned with, in request-time order.
///
/// First each attempt's rate: an attempt is at the brute-force rate when it is one of
/// [`BRUTE_FORCE_MIN_CONNECTIONS`] or more attempts on one server within
/// [`BRUTE_FORCE_WINDOW_MS`], which is known once the scan is a window past it. A server
/// becomes a brute-force candidate when its last window holds that many: only then does it get
/// a brute-force scan, started with that window (no earlier window could qualify), and fed
/// every later attempt there until a window has passed since its last. So a client that tries
/// a million servers once each costs a million entries in `rate` for a minute, not a million
/// scans. The attempts that are not at that rate go on to the spray window.
#[derive(Debug, Clone, Default)]
struct ClientScan {
    /// The request time of the last attempt scanned: a later one that is earlier (out of the
    /// order [`CaptureFindings`] expects) is scanned as if made then.
    frontier: Option<Timestamp>,
    /// Attempts whose rate is not known yet (the last window's), marked once they are at the
    /// brute-force rate.
    recent: Kept<Attempt>,
    /// Per server, the positions in `recent` of its attempts, and how many of the first of
    /// them are marked (marking takes a server's whole list, so the marked ones come first).
    rate: BTreeMap<SocketAddr, (VecDeque<u64>, usize)>,
    /// The brute-force scans of the candidate servers.
    pairs: HashMap<SocketAddr, BruteScan>,
    /// Look for pairs whose window has closed when `pairs` has this many.
    pairs_clean_at: usize,
    spray: SprayScan,
}

impl ClientScan {
    /// Scans a batch of the client's attempts in request-time order (they join `recent`, the
    /// batch's own buffer when nothing else is kept); `sealed` holds the brute-force findings
    /// of pairs let go (a pair's comes back into its scan if it returns, and goes there when
    /// its window closes).
    fn scan(
        &mut self,
        mut batch: Vec<Attempt>,
        client: IpAddr,
        sealed: &mut BTreeMap<(IpAddr, SocketAddr), CaptureFinding>,
        limits: Limits,
    ) {
        for a in &mut batch {
            if let Some(f) = self.frontier {
                a.at = a.at.max(f);
            }
            self.frontier = Some(a.at);
        }
        let (from, to) = self.recent.append(batch);
        for pos in from..to {
            let Some((at, server)) = self.recent.get(pos).map(|a| (a.at, a.server)) else {
                break;
            };
            self.release(Some(at), client);
            // Most servers have one attempt in a window: room for one.
            let (positions, marked) = self
                .rate
                .entry(server)
                .or_insert_with(|| (VecDeque::with_capacity(1), 0));
            positions.push_back(pos);
            let fast = positions.len() >= BRUTE_FORCE_MIN_CONNECTIONS;
            if fast {
                for p in positions.iter().skip(*marked) {
                    if let Some(a) = self.recent.get_mut(*p) {
                        a.fast = true;
                    }
                }
                *marked = positions.len();
            }
            let guess = |a: &Attempt| Guess {
                id: a.id,
                at: a.at,
                cookie: a.cookie.clone(),
                auth_failed: a.auth_failed,
            };
            if let Some(pair) = self.pairs.get_mut(&server) {
                if let Some(a) = self.recent.get(pos) {
                    pair.scan(guess(a), client, server);
                }
            } else if fast {
                // A new candidate: its scan starts with the server's last window.
                let mut pair = BruteScan::new(sealed.remove(&(client, server)));
                for p in positions.iter() {
                    if let Some(a) = self.recent.get(*p) {
                        pair.scan(guess(a), client, server);
                    }
                }
                self.pairs.insert(server, pair);
            }
        }
        if self.pairs.len() >= self.pairs_clean_at.max(limits.pairs) {
            self.close_pairs(client, sealed);
            // Amortised: the next look comes after as many new pairs as are kept now.
            self.pairs_clean_at = self.pairs.len().saturating_mul(2);
        }
    }

    /// Hands the attempts whose rate is known (more than a brute-force window before `now`;
    /// all of them without `now`) to the spray window.
    fn release(&mut self, now: Option<Timestamp>, client: IpAddr) {
        while let Some(front) = self.recent.get(self.recent.first) {
            if now.is_some_and(|now| now.millis_since(front.at) <= BRUTE_FORCE_WINDOW_MS) {
                break;
            }
            let Some(a) = self.recent.pop_front() else {
                break;
            };
            if let std::collections::btree_map::Entry::Occupied(mut e) = self.rate.entry(a.server) {
                let (positions, marked) = e.get_mut();
                positions.pop_front();
                *marked = marked.saturating_sub(1);
                if positions.is_empty() {
                    e.remove();
                }
            }
            if !a.fast && !a.established {
                self.spray.count(a, client);
            }
        }
    }

    /// Lets go of the pairs whose last attempt is a window before the frontier (no later
    /// attempt can share a window with theirs), keeping their findings in `sealed`.
    fn close_pairs(
        &mut self,
        client: IpAddr,
        sealed: &mut BTreeMap<(IpAddr, SocketAddr), CaptureFinding>,
    ) {
        let Some(frontier) = self.frontier else {
            return;
        };
        let closed: Vec<SocketAddr> = self
            .pairs
            .iter()
            .filter(|(_, p)| frontier.millis_since(p.last) > BRUTE_FORCE_WINDOW_MS)
            .map(|(server, _)| *server)
            .collect();
        for server in closed {
            if let Some(found) = self
                .pairs
                .remove(&server)
                .and_then(|p| p.finish(client, server))
            {
                sealed.insert((client, server), found);
            }
        }
    }

    /// The spray finding; the pairs' brute-force findings go to `sealed`.
    fn finish(
        mut self,
        client: IpAddr,
        sealed: &mut BTreeMap<(IpAddr, SocketAddr), CaptureFinding>,
    ) -> Option<CaptureFinding> {
        self.release(None, client);
        for (server, pair) in self.pairs {
            if let Some(found) = pair.finish(client, server) {
                sealed.insert((client, server), found);
            }
        }
        self.spray.finish(client)
    }
}

/// One client's attempts: those waiting for their turn, and the scans.
#[derive(Debug, Clone)]
struct ClientState {
    pending: Pending,
    /// The latest request time of the client.
    last: Timestamp,
    /// Created at the first scan (most clients make one attempt and never need it).
    scan: Option<Box<ClientScan>>,
}

impl ClientState {
    /// A client seen at `at` for the first time, or again after it was let go with `sealed`
    /// as its best spray window.
    fn new(at: Timestamp, sealed: Option<CaptureFinding>) -> Self {
        ClientState {
            pending: Pending::default(),
            last: at,
            scan: sealed.map(|f| {
                Box::new(ClientScan {
                    spray: SprayScan {
                        best: Best::Found(f),
                        ..SprayScan::default()
                    },
                    ..ClientScan::default()
                })
            }),
        }
    }

    /// Scans the settled attempts (all without `latest`).
    fn scan(
        &mut self,
        latest: Option<Timestamp>,
        client: IpAddr,
        sealed: &mut BTreeMap<(IpAddr, SocketAddr), CaptureFinding>,
        limits: Limits,
    ) {
        let attempts = self.pending.take_settled(latest);
        if attempts.is_empty() {
            return;
        }
        self.scan
            .get_or_insert_with(Box::default)
            .scan(attempts, client, sealed, limits);
    }

    /// The spray finding; the brute-force findings go to `sealed`.
    fn finish(
        mut self,
        client: IpAddr,
        sealed: &mut BTreeMap<(IpAddr, SocketAddr), CaptureFinding>,
        limits: Limits,
    ) -> Option<CaptureFinding> {
        // Both findings need at least 10 attempts.
        if self.scan.is_none()
            && self.pending.list.len() < BRUTE_FORCE_MIN_CONNECTIONS.min(PASSWORD_SPRAY_MIN_TARGETS)
        {
            return None;
        }
        self.scan(None, client, sealed, limits);
        self.scan?.finish(client, sealed)
    }
}

/// Gathers what the capture-wide findings need, one small record per connection, and decides
/// them at the end (brute force, password spraying, certificate reuse).
///
/// # Order and memory
/// The scans need each client's (and each client/server pair's) attempts in request-time
/// order. Connections come in order of first packet, and a client sends its request right after
/// the TCP handshake, so an attempt added later is not expected more than two brute-force
/// windows (2 minutes) before the latest request already added: attempts older than that are
/// settled, and are scanned (sorted, once enough of them wait) and let go of as soon as no
/// window needs them. What stays per client/server pair is its last brute-force window and its
/// best one, until a window has passed since its last attempt; per client, its attempts
/// waiting to be scanned, its last spray window and its best one. A client idle for
/// [`PASSWORD_SPRAY_WINDOW_MS`] plus 2 minutes is reduced to its findings (or forgotten). The
/// result is the one the whole sorted lists would give unless a connection sends its request
/// more than 2 minutes after connections that opened later; such an attempt is scanned as if
/// made at the time of the last one of its client scanned.
///
/// Cost: O(n log n) in the attempts (the sorts; each attempt enters and leaves each window
/// once, with hash-map counts), and O(clients) for the periodic look for idle ones (and
/// O(pairs) within a client for closed pairs), which comes after as many new ones as are kept.
/// Certificate reuse keeps one connection id per connection that presented a certificate: the
/// finding lists them all.
#[derive(Debug, Clone)]
pub struct CaptureFindings {
    /// A B-tree rather than a hash table: a flood of clients that make one attempt each keeps
    /// one entry per client for half an hour, and a table's doubling took more memory.
    clients: BTreeMap<IpAddr, ClientState>,
    /// The brute-force findings of pairs let go.
    brute_sealed: BTreeMap<(IpAddr, SocketAddr), CaptureFinding>,
    /// The spray findings of clients let go.
    spray_sealed: BTreeMap<IpAddr, CaptureFinding>,
    certificates: BTreeMap<String, (BTreeSet<IpAddr>, Vec<u64>, String)>,
    /// Each client's short connections, for the `scanner` finding.
    scans: super::scan::ScanTracker,
    /// The latest request time added.
    latest: Option<Timestamp>,
    /// Look for idle clients when `clients` has this many.
    seal_at: usize,
    limits: Limits,
}

/// When the accumulator sorts and when it looks for idle clients: constants, smaller in tests.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Settled attempts of a client are scanned once at least this many wait.
    pending: usize,
    /// Clients kept before the first look for idle ones.
    seal: usize,
    /// A client's pairs kept before the first look for closed ones.
    pairs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            pending: MIN_PENDING_SCAN,
            seal: MIN_SEAL_CLIENTS,
            pairs: MIN_PAIRS_CLEAN,
        }
    }
}

impl Default for CaptureFindings {
    fn default() -> Self {
        Self::with_limits(Limits::default())
    }
}

/// Attempts of a client waiting before a scan is worth its sort.
const MIN_PENDING_SCAN: usize = 256;
/// Clients kept before the first look for idle ones.
const MIN_SEAL_CLIENTS: usize = 1024;
/// A client's pairs kept before the first look for closed ones.
const MIN_PAIRS_CLEAN: usize = 64;
/// An attempt this much older than the latest request is settled.
const SETTLE_AFTER_MS: f64 = 2.0 * BRUTE_FORCE_WINDOW_MS;

impl CaptureFindings {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_limits(limits: Limits) -> Self {
        CaptureFindings {
            clients: BTreeMap::new(),
            brute_sealed: BTreeMap::new(),
            spray_sealed: BTreeMap::new(),
            certificates: BTreeMap::new(),
            scans: super::scan::ScanTracker::default(),
            latest: None,
            seal_at: 0,
            limits,
        }
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
        // Before the early return: a scan's connections may carry no Connection Request.
        self.scans.add(id, client, server, facts, verdict);
        let Some((x, at)) = facts.x224.as_ref().and_then(|x| Some((x, x.request_at?))) else {
            return;
        };
        if let Some(cert) = tls.and_then(|t| t.certificates.first()) {
            let entry = self
                .certificates
                .entry(cert.sha256.clone())
                .or_insert_with(|| (BTreeSet::new(), Vec::new(), cert.subject.clone()));
            entry.0.insert(server.ip());
            entry.1.push(id);
        }
        let latest = self.latest.map_or(at, |l| l.max(at));
        self.latest = Some(latest);
        let ip = client.ip();
        let state = match self.clients.entry(ip) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(ClientState::new(at, self.spray_sealed.remove(&ip)))
            }
        };
        state.last = state.last.max(at);
        state.pending.push(Attempt {
            id,
            at,
            cookie: x.cookie.as_deref().map(Arc::from),
            server,
            auth_failed: verdict == VerdictCode::AuthFailed,
            established: verdict == VerdictCode::Established,
            fast: false,
        });
        if state.pending.due(latest, self.limits.pending) {
            state.scan(Some(latest), ip, &mut self.brute_sealed, self.limits);
        }
        if self.clients.len() >= self.seal_at.max(self.limits.seal) {
            self.seal_idle_clients(latest);
            // Amortised: the next look comes after as many new clients as are kept now.
            self.seal_at = self.clients.len().saturating_mul(2);
        }
    }

    /// Reduces the clients idle for [`PASSWORD_SPRAY_WINDOW_MS`] plus 2 minutes (no later
    /// attempt can share a window with theirs) to their findings.
    fn seal_idle_clients(&mut self, latest: Timestamp) {
        let idle: Vec<IpAddr> = self
            .clients
            .iter()
            .filter(|(_, c)| {
                latest.millis_since(c.last) > PASSWORD_SPRAY_WINDOW_MS + SETTLE_AFTER_MS
            })
            .map(|(ip, _)| *ip)
            .collect();
        for ip in idle {
            let Some(state) = self.clients.remove(&ip) else {
                continue;
            };
            if let Some(found) = state.finish(ip, &mut self.brute_sealed, self.limits) {
                self.spray_sealed.insert(ip, found);
            }
        }
    }

    /// The findings over everything added: brute force by client and server, then password
    /// spraying by client, then certificate reuse, then scans by client.
    pub fn finish(self) -> Vec<CaptureFinding> {
        let scans = self.scans.finish();
        let mut brute = self.brute_sealed;
        let mut spray = self.spray_sealed;
        for (ip, state) in self.clients {
            if let Some(found) = state.finish(ip, &mut brute, self.limits) {
                spray.insert(ip, found);
            }
        }
        let mut out: Vec<CaptureFinding> = brute.into_values().chain(spray.into_values()).collect();
        for (sha256, (servers, ids, subject)) in self.certificates {
            if servers.len() > 1 {
                let list: Vec<String> = servers.iter().map(ToString::to_string).collect();
                out.push(CaptureFinding {
                    finding: finding(
                        FindingCode::CertReused,
                        format!(
                            "{} servers ({}) present the same certificate {subject} (SHA-256 {}...)",
                            servers.len(),
                            list.join(", "),
                            sha256.get(..16).unwrap_or(&sha256)
                        ),
                    ),
                    connections: ids,
                });
            }
        }
        out.extend(scans);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wildcard_names() {
        assert!(name_matches("*.example.com", "rdp.example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(name_matches("Host.Example.com", "host.example.com."));
        assert!(!name_matches("rdp-lab-good", "127.0.0.1"));
    }

    /// A name cut short, or a certificate whose names were not all kept, gives no
    /// cert-name-mismatch: what was not kept might have matched.
    #[test]
    fn name_mismatch_needs_every_name() {
        let cert = crate::x509::X509Summary {
            subject: "CN=rdp-lab".to_string(),
            subject_cn: Some("rdp-lab".to_string()),
            san: vec!["a.example".to_string()],
            ..Default::default()
        };
        let mismatch = |sni: &str, sni_not_kept: usize, san_not_kept: usize| {
            let t = TlsFacts {
                sni: Some(sni.to_string()),
                sni_not_kept,
                certificates: vec![crate::x509::X509Summary {
                    san_not_kept,
                    ..cert.clone()
                }],
                ..Default::default()
            };
            let mut out = Vec::new();
            tls_findings(&t, None, &mut out);
            out.iter().any(|f| f.code == FindingCode::CertNameMismatch)
        };
        assert!(mismatch("b.example", 0, 0));
        assert!(!mismatch("a.example", 0, 0));
        assert!(!mismatch("b.example", 0, 1));
        assert!(!mismatch("bbbbbbbb...", 100, 0));
    }

    /// The certificate of `samples/tls12-ok.pcap`: valid 2026-11-29T10:03:46Z to a year later.
    fn lab_certificate() -> crate::x509::X509Summary {
        crate::x509::X509Summary {
            subject: "CN=rdp-lab-good,O=RDP Lab".to_string(),
            not_before: 1_795_946_626,
            not_after: 1_795_946_626 + 365 * 86_400,
            not_before_rfc3339: "2026-11-29T10:03:46Z".to_string(),
            not_after_rfc3339: "2027-11-29T10:03:46Z".to_string(),
            ..Default::default()
        }
    }

    /// The validity codes and the clock finding `tls_findings` raises at `secs` for `version`.
    fn judged(secs: i64, version: Option<ProtocolVersion>) -> Vec<FindingCode> {
        let t = TlsFacts {
            version,
            certificates: vec![lab_certificate()],
            ..Default::default()
        };
        let mut out = Vec::new();
        tls_findings(&t, Some(Timestamp(secs * 1_000_000_000)), &mut out);
        out.into_iter()
            .map(|f| f.code)
            .filter(|c| {
                matches!(
                    c,
                    FindingCode::CertExpired
                        | FindingCode::CertNotYetValid
                        | FindingCode::ClockImplausible
                )
            })
            .collect()
    }

    /// A clock that cannot be the real time (epoch 0, before RDP had certificates, TLS 1.3
    /// before RFC 8446, far in the future, years before the certificate was issued) judges no
    /// certificate, and says so; a correct clock still finds an expired or not yet valid one.
    #[test]
    fn validity_is_judged_only_against_a_plausible_clock() {
        let tls12 = Some(ProtocolVersion::TLS1_2);
        let tls13 = Some(ProtocolVersion::TLS1_3);
        let issued = lab_certificate().not_before;
        let implausible = vec![FindingCode::ClockImplausible];
        assert_eq!(judged(0, tls12), implausible);
        assert_eq!(judged(CLOCK_EARLIEST_PLAUSIBLE - 1, tls12), implausible);
        assert_eq!(judged(CLOCK_LATEST_PLAUSIBLE + 1, tls12), implausible);
        assert_eq!(judged(issued - 3 * 365 * 86_400, tls12), implausible);
        assert_eq!(
            judged(CLOCK_EARLIEST_PLAUSIBLE_TLS13 - 1, tls13),
            implausible
        );
        // Near the certificate's dates, on a plausible clock: judged.
        assert_eq!(judged(issued + 10, tls12), vec![]);
        assert_eq!(
            judged(issued - 3_600, tls12),
            vec![FindingCode::CertNotYetValid]
        );
        assert_eq!(
            judged(issued - CLOCK_BEFORE_NOT_BEFORE_MARGIN_S, tls13),
            vec![FindingCode::CertNotYetValid]
        );
        assert_eq!(
            judged(issued + 2 * 365 * 86_400, tls12),
            vec![FindingCode::CertExpired]
        );
        // Long expired on a correct clock stays expired: no plausible clock rule hides it.
        let old = crate::x509::X509Summary {
            not_before: CLOCK_EARLIEST_PLAUSIBLE + 86_400,
            not_after: CLOCK_EARLIEST_PLAUSIBLE + 2 * 86_400,
            ..lab_certificate()
        };
        let t = TlsFacts {
            version: tls12,
            certificates: vec![old],
            ..Default::default()
        };
        let mut out = Vec::new();
        tls_findings(&t, Some(Timestamp(issued * 1_000_000_000)), &mut out);
        assert!(
            out.iter().any(|f| f.code == FindingCode::CertExpired),
            "{out:?}"
        );
        // The finding says what was skipped.
        let t = TlsFacts {
            version: tls12,
            certificates: vec![lab_certificate()],
            ..Default::default()
        };
        let mut out = Vec::new();
        tls_findings(&t, Some(Timestamp(0)), &mut out);
        let summary = &out
            .iter()
            .find(|f| f.code == FindingCode::ClockImplausible)
            .map(|f| f.summary.clone())
            .unwrap_or_default();
        assert!(summary.contains("1970-01-01T00:00:00Z"), "{summary}");
        assert!(
            summary.contains("not judged expired or not yet valid"),
            "{summary}"
        );
    }

    const T0: i64 = 1_764_410_000_000_000_000;

    fn at(ms: i64) -> Timestamp {
        Timestamp(T0 + ms * 1_000_000)
    }

    /// Adds one attempt from `client` (an address) to `server` (address and port).
    fn add(
        findings: &mut CaptureFindings,
        id: u64,
        (client, server): (&str, &str),
        at_ms: i64,
        user: Option<&str>,
        verdict: VerdictCode,
    ) {
        let facts = ConnectionFacts {
            x224: Some(super::super::facts::X224Facts {
                request_at: Some(at(at_ms)),
                cookie: user.map(str::to_string),
                ..Default::default()
            }),
            ..Default::default()
        };
        let client: SocketAddr = format!("{client}:50000").parse().unwrap();
        findings.add(id, client, server.parse().unwrap(), &facts, None, verdict);
    }

    fn attempt(findings: &mut CaptureFindings, id: u64, client: &str, at_ms: i64, user: &str) {
        add(
            findings,
            id,
            (client, "192.0.2.1:3389"),
            at_ms,
            Some(user),
            VerdictCode::AuthFailed,
        );
    }

    fn codes(found: &[CaptureFinding]) -> Vec<&'static str> {
        found.iter().map(|f| f.finding.code.as_str()).collect()
    }

    /// Letting go of stale pairs gives the findings of the whole list, with bounded memory.
    #[test]
    fn sealing_keeps_the_findings() {
        let mut bounded = CaptureFindings::new();
        let mut whole = CaptureFindings::with_limits(Limits {
            pending: usize::MAX,
            seal: usize::MAX,
            pairs: usize::MAX,
        });
        let mut id = 0;
        let mut both = |bounded: &mut CaptureFindings, client: &str, at_ms: i64, user: &str| {
            attempt(bounded, id, client, at_ms, user);
            attempt(&mut whole, id, client, at_ms, user);
            id += 1;
        };
        // A brute force of 12 attempts in 22 s, 6 user names.
        for i in 0..12 {
            both(
                &mut bounded,
                "198.51.100.7",
                i * 2_000,
                &format!("user{}", i % 6),
            );
        }
        // 3,000 other clients, one attempt each, over 100 minutes.
        for i in 0..3_000 {
            both(
                &mut bounded,
                &format!("10.0.{}.{}", i / 250, i % 250),
                30_000 + i * 2_000,
                "alice",
            );
        }
        assert!(bounded.brute_sealed.contains_key(&(
            "198.51.100.7".parse().unwrap(),
            "192.0.2.1:3389".parse().unwrap()
        )));
        // The clients of the last 32 minutes (about 960), and as many again before a look.
        assert!(
            bounded.clients.len() < 2 * MIN_SEAL_CLIENTS,
            "{}",
            bounded.clients.len()
        );
        // The same client again, later: 15 attempts, a larger window that wins.
        for i in 0..15 {
            both(
                &mut bounded,
                "198.51.100.7",
                7_000_000 + i * 1_000,
                &format!("u{i}"),
            );
        }
        // And one that does not qualify (too few), long after.
        for i in 0..3 {
            both(&mut bounded, "198.51.100.8", 9_000_000 + i, "bob");
        }
        assert_eq!(whole.clients.len(), 3_002);
        let found = bounded.finish();
        assert_eq!(found, whole.finish());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].connections.len(), 15);

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
                30_000 + i * 2_000,
                "alice",
            );
        }
        for i in 0..12i64 {
            let at = 7_000_000 + i * 1_000;
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

    /// 40,000 guesses in 50 s from one client: one window of 40,000 names. Rebuilding the
    /// window's set of names at each step made this quadratic (minutes even in a release
    /// build); with the sliding counts it is a fraction of a second in a debug build.
    #[test]
    fn forty_thousand_guesses_in_one_window() {
        let mut findings = CaptureFindings::new();
        for i in 0..40_000i64 {
            attempt(
                &mut findings,
                i.unsigned_abs(),
                "198.51.100.7",
                i * 50_000 / 40_000,
                &format!("u{i}"),
            );
        }
        let found = findings.finish();
        assert_eq!(codes(&found), ["brute-force"]);
        assert_eq!(found[0].connections.len(), 40_000);
        assert!(
            found[0].finding.summary.starts_with(
                "40000 connections from 198.51.100.7 to 192.0.2.1:3389 in 50.0 s, with 40000 \
                 different user names (\"u0\", \"u1\", \"u10\", \"u100\", \"u1000\", \"u10000\", \
                 \"u10001\", \"u10002\", ...)"
            ),
            "{}",
            found[0].finding.summary
        );
    }

    /// A pair attacked for a long time keeps only its recent attempts and its best window.
    #[test]
    fn a_long_attack_is_let_go_as_it_goes() {
        let mut findings = CaptureFindings::new();
        // Ten guesses a second for an hour; every 20th minute a faster burst.
        let mut id = 0u64;
        for s in 0..3_600i64 {
            let per_second = if s / 60 == 20 { 20 } else { 10 };
            for k in 0..per_second {
                attempt(
                    &mut findings,
                    id,
                    "198.51.100.7",
                    s * 1_000 + k * 1_000 / per_second,
                    &format!("u{}", id % 500),
                );
                id += 1;
            }
        }
        let key = (
            "198.51.100.7".parse().unwrap(),
            "192.0.2.1:3389".parse().unwrap(),
        );
        let client = &findings.clients[&key.0];
        let scan = client.scan.as_ref().unwrap();
        let kept = scan.pairs[&key.1].kept.items.len();
        // Settling takes 2 minutes (1,200 attempts), a pending list doubles before its scan,
        // a window holds 600.
        let pending = client.pending.list.len();
        assert!(pending <= 2_400, "{pending}");
        assert!(kept <= 1_300, "{kept}");
        assert_eq!(
            scan.spray.counted.items.len(),
            0,
            "all at the brute-force rate"
        );
        let recent = scan.recent.items.len();
        assert!(recent <= 700, "{recent}");
        let found = findings.finish();
        assert_eq!(codes(&found), ["brute-force"]);
        // The burst minute's window: its 1,200 attempts from 20 minutes in (after 12,000
        // others), and the next one, exactly 60 s after its first.
        assert_eq!(found[0].connections.len(), 1_201);
        assert_eq!(found[0].connections[0], 12_000);
    }

    #[test]
    fn spraying_twenty_servers_is_found() {
        let mut findings = CaptureFindings::new();
        // Two rounds over 20 servers, one attempt every 30 s: 20 minutes, 2 per server.
        let mut id = 0;
        for round in 0..2 {
            for s in 0..20 {
                let server = format!("192.0.2.{}:3389", s + 1);
                let user = if round == 0 { "admin" } else { "administrator" };
                let at_ms = i64::try_from(id).unwrap() * 30_000;
                add(
                    &mut findings,
                    id,
                    ("198.51.100.7", &server),
                    at_ms,
                    Some(user),
                    VerdictCode::NoNegotiationResponse,
                );
                id += 1;
            }
        }
        let found = findings.finish();
        assert_eq!(codes(&found), ["password-spray"]);
        assert_eq!(found[0].finding.severity, Severity::Warning);
        assert_eq!(found[0].connections, (0..40).collect::<Vec<u64>>());
        assert_eq!(
            found[0].finding.summary,
            "40 connections from 198.51.100.7 in 1170.0 s to 20 servers (192.0.2.1:3389, \
             192.0.2.2:3389, 192.0.2.3:3389, 192.0.2.4:3389, 192.0.2.5:3389, 192.0.2.6:3389, \
             192.0.2.7:3389, 192.0.2.8:3389, ...) with 2 different user names (\"admin\", \
             \"administrator\"): at most 3 on each of 20 servers"
        );
    }

    /// Nine servers, or nine user names, are not enough; connections that reached a session
    /// are not guesses.
    #[test]
    fn thresholds_and_successful_connections() {
        let mut findings = CaptureFindings::new();
        for i in 0..9u64 {
            let server = format!("192.0.2.{}:3389", i + 1);
            let at_ms = i64::try_from(i).unwrap() * 60_000;
            add(
                &mut findings,
                i,
                ("198.51.100.7", &server),
                at_ms,
                Some(&format!("u{i}")),
                VerdictCode::AuthFailed,
            );
        }
        // A gateway: 30 users on one server, each connecting once, every connection working.
        for i in 0..30u64 {
            let at_ms = i64::try_from(i).unwrap() * 30_000;
            add(
                &mut findings,
                100 + i,
                ("198.51.100.8", "192.0.2.1:3389"),
                at_ms,
                Some(&format!("user{i}")),
                VerdictCode::Established,
            );
        }
        assert_eq!(findings.finish(), []);
    }

    /// Many user names on one server: slowly, a spray; fast, brute force, not both.
    #[test]
    fn one_server_slow_is_spray_fast_is_brute_force() {
        let mut findings = CaptureFindings::new();
        // 30 names, one every 20 s (3 a minute, under the brute-force rate).
        for i in 0..30u64 {
            let at_ms = i64::try_from(i).unwrap() * 20_000;
            add(
                &mut findings,
                i,
                ("198.51.100.7", "192.0.2.1:3389"),
                at_ms,
                Some(&format!("user{i}")),
                VerdictCode::NoNegotiationResponse,
            );
        }
        // Another client: 30 names in 30 s.
        for i in 0..30u64 {
            let at_ms = i64::try_from(i).unwrap() * 1_000;
            add(
                &mut findings,
                100 + i,
                ("198.51.100.9", "192.0.2.1:3389"),
                at_ms,
                Some(&format!("user{i}")),
                VerdictCode::NoNegotiationResponse,
            );
        }
        let found = findings.finish();
        assert_eq!(codes(&found), ["brute-force", "password-spray"]);
        assert!(found[0].finding.summary.contains("from 198.51.100.9"));
        assert_eq!(found[0].connections.len(), 30);
        assert_eq!(
            found[1].finding.summary,
            "30 connections from 198.51.100.7 in 580.0 s to 1 server (192.0.2.1:3389) with 30 \
             different user names (\"user0\", \"user1\", \"user10\", \"user11\", \"user12\", \
             \"user13\", \"user14\", \"user15\", ...): at most 3 on each of 30 user names"
        );
    }

    /// A client guessing fast on one server while it sprays others: both findings, on
    /// different connections.
    #[test]
    fn brute_force_beside_spraying_are_told_apart() {
        let mut findings = CaptureFindings::new();
        let mut id = 0u64;
        for i in 0..600i64 {
            // Every second a guess on the first server, every 30 s one on another server.
            let t = i * 1_000;
            add(
                &mut findings,
                id,
                ("198.51.100.7", "192.0.2.1:3389"),
                t,
                Some(&format!("g{i}")),
                VerdictCode::AuthFailed,
            );
            id += 1;
            if i % 30 == 0 {
                let server = format!("192.0.2.{}:3389", 10 + i / 30);
                add(
                    &mut findings,
                    id,
                    ("198.51.100.7", &server),
                    t,
                    Some("admin"),
                    VerdictCode::NoNegotiationResponse,
                );
                id += 1;
            }
        }
        let found = findings.finish();
        assert_eq!(codes(&found), ["brute-force", "password-spray"]);
        let brute: BTreeSet<u64> = found[0].connections.iter().copied().collect();
        assert!(found[1].connections.iter().all(|id| !brute.contains(id)));
        assert_eq!(found[1].connections.len(), 20);
    }

    // ---------------------------------------------------------------- the reference definitions

    #[derive(Debug, Clone)]
    struct RefAttempt {
        id: u64,
        at: Timestamp,
        server: SocketAddr,
        cookie: Option<String>,
        verdict: VerdictCode,
    }

    /// Brute force as it was defined before the sliding counts: the densest window, with the
    /// window's names and failures counted again at each step (quadratic).
    fn brute_force_reference(
        client: &IpAddr,
        server: &SocketAddr,
        attempts: &[&RefAttempt],
    ) -> Option<CaptureFinding> {
        let mut sorted: Vec<&RefAttempt> = attempts.to_vec();
        sorted.sort_by_key(|a| a.at);
        let failed = |a: &&&RefAttempt| a.verdict == VerdictCode::AuthFailed;
        let mut best: Option<(usize, usize)> = None;
        let mut start = 0usize;
        for end in 0..sorted.len() {
            let end_at = sorted[end].at;
            while end_at.millis_since(sorted[start].at) > BRUTE_FORCE_WINDOW_MS {
                start += 1;
            }
            let window = &sorted[start..=end];
            let users: BTreeSet<&str> = window.iter().filter_map(|a| a.cookie.as_deref()).collect();
            let failures = window.iter().filter(failed).count();
            let qualifies = window.len() >= BRUTE_FORCE_MIN_CONNECTIONS
                && (users.len() >= BRUTE_FORCE_MIN_USERS || failures >= BRUTE_FORCE_MIN_USERS);
            if qualifies && best.is_none_or(|(s, e)| e - s < end - start) {
                best = Some((start, end));
            }
        }
        let (s, e) = best?;
        let window = &sorted[s..=e];
        let users: BTreeSet<&str> = window.iter().filter_map(|a| a.cookie.as_deref()).collect();
        let failures = window.iter().filter(failed).count();
        let span = window.last()?.at.millis_since(window.first()?.at);
        let mut names: Vec<String> = users.iter().take(8).map(|u| format!("\"{u}\"")).collect();
        if users.len() > names.len() {
            names.push("...".to_string());
        }
        let plural = |n: usize, one: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {one}s")
            }
        };
        Some(CaptureFinding {
            finding: finding(
                FindingCode::BruteForce,
                format!(
                    "{} from {client} to {server} in {}, with {}{}",
                    plural(window.len(), "connection"),
                    super::super::verdict::format_ms(span),
                    if users.is_empty() {
                        "no user name".to_string()
                    } else {
                        format!(
                            "{} ({})",
                            plural(users.len(), "different user name"),
                            names.join(", ")
                        )
                    },
                    if failures > 0 {
                        format!(" and {}", plural(failures, "authentication failure"))
                    } else {
                        String::new()
                    }
                ),
            ),
            connections: window.iter().map(|a| a.id).collect(),
        })
    }

    /// Password spraying by its definition, the slow way: each attempt's rate from every
    /// window on its server, then every window of the counted attempts.
    fn spray_reference(client: IpAddr, attempts: &[&RefAttempt]) -> Option<CaptureFinding> {
        let mut sorted: Vec<&RefAttempt> = attempts.to_vec();
        sorted.sort_by_key(|a| a.at);
        let fast = |i: usize| {
            (i..sorted.len()).any(|e| {
                let (a, end) = (sorted[i], sorted[e]);
                end.server == a.server
                    && end.at.millis_since(a.at) <= BRUTE_FORCE_WINDOW_MS
                    && (0..=e)
                        .filter(|&k| {
                            sorted[k].server == end.server
                                && end.at.millis_since(sorted[k].at) <= BRUTE_FORCE_WINDOW_MS
                        })
                        .count()
                        >= BRUTE_FORCE_MIN_CONNECTIONS
            })
        };
        let counted: Vec<Attempt> = (0..sorted.len())
            .filter(|&i| !fast(i) && sorted[i].verdict != VerdictCode::Established)
            .map(|i| Attempt {
                id: sorted[i].id,
                at: sorted[i].at,
                cookie: sorted[i].cookie.as_deref().map(Arc::from),
                server: sorted[i].server,
                auth_failed: false,
                established: false,
                fast: false,
            })
            .collect();
        let mut best: Option<(usize, usize)> = None;
        let mut start = 0;
        for end in 0..counted.len() {
            while counted[end].at.millis_since(counted[start].at) > PASSWORD_SPRAY_WINDOW_MS {
                start += 1;
            }
            let window = &counted[start..=end];
            let mut servers: BTreeMap<SocketAddr, u32> = BTreeMap::new();
            let mut users: BTreeMap<&str, u32> = BTreeMap::new();
            for x in window {
                *servers.entry(x.server).or_default() += 1;
                if let Some(c) = x.cookie.as_deref() {
                    *users.entry(c).or_default() += 1;
                }
            }
            let few = |m: &dyn Fn() -> Vec<u32>| {
                m().into_iter()
                    .filter(|n| *n <= PASSWORD_SPRAY_MAX_ATTEMPTS)
                    .count()
            };
            let qualifies = few(&|| servers.values().copied().collect())
                >= PASSWORD_SPRAY_MIN_TARGETS
                || few(&|| users.values().copied().collect()) >= PASSWORD_SPRAY_MIN_TARGETS;
            if qualifies && best.is_none_or(|(s, e)| e - s < end - start) {
                best = Some((start, end));
            }
        }
        let (s, e) = best?;
        Some(spray_finding(client, counted[s..=e].iter()))
    }

    fn verdict_of(v: u8) -> VerdictCode {
        match v {
            0 => VerdictCode::AuthFailed,
            1 => VerdictCode::Established,
            _ => VerdictCode::NoNegotiationResponse,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The sliding scans give what the definitions give over each whole list, whatever
        /// the scans' and the sealing's batch sizes, for attempts that arrive up to 100 s out
        /// of request-time order.
        #[test]
        fn scans_match_the_definitions(
            raw in proptest::collection::vec(
                (
                    0u8..3,
                    0u8..12,
                    0i64..1_000,
                    proptest::option::weighted(0.9, 0u8..14),
                    0u8..3,
                    0i64..100,
                ),
                0..160,
            ),
            scale in prop_oneof![Just(60i64), Just(600), Just(4_000)],
            pending in 1usize..12,
            seal in 1usize..6,
            pairs in 1usize..6,
        ) {
            // Times in ms over `scale` seconds. Clients 0 and 1 try 2 servers (brute-force
            // windows fill), client 2 tries 12 (spraying).
            let mut attempts: Vec<(IpAddr, RefAttempt, i64)> = raw
                .iter()
                .map(|&(c, s, t, user, v, jitter)| {
                    let client: IpAddr = format!("198.51.100.{}", c + 1).parse().unwrap();
                    let servers = if c == 2 { 12 } else { 2 };
                    let server: SocketAddr =
                        format!("192.0.2.{}:3389", s % servers + 1).parse().unwrap();
                    let at_ms = t * scale;
                    let attempt = RefAttempt {
                        id: 0,
                        at: at(at_ms),
                        server,
                        cookie: user.map(|u| format!("u{u}")),
                        verdict: verdict_of(v),
                    };
                    (client, attempt, at_ms + jitter * 1_000)
                })
                .collect();
            attempts.sort_by_key(|(_, _, arrival)| *arrival);
            let mut findings = CaptureFindings::with_limits(Limits { pending, seal, pairs });
            let mut by_pair: BTreeMap<(IpAddr, SocketAddr), Vec<RefAttempt>> = BTreeMap::new();
            let mut by_client: BTreeMap<IpAddr, Vec<RefAttempt>> = BTreeMap::new();
            for (id, (client, mut a, _)) in (0u64..).zip(attempts) {
                a.id = id;
                let facts = ConnectionFacts {
                    x224: Some(super::super::facts::X224Facts {
                        request_at: Some(a.at),
                        cookie: a.cookie.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                findings.add(id, SocketAddr::new(client, 50_000), a.server, &facts, None, a.verdict);
                by_pair.entry((client, a.server)).or_default().push(a.clone());
                by_client.entry(client).or_default().push(a);
            }
            let mut expected: Vec<CaptureFinding> = by_pair
                .iter()
                .filter_map(|((c, s), list)| {
                    brute_force_reference(c, s, &list.iter().collect::<Vec<_>>())
                })
                .collect();
            expected.extend(by_client.iter().filter_map(|(c, list)| {
                spray_reference(*c, &list.iter().collect::<Vec<_>>())
            }));
            prop_assert_eq!(findings.finish(), expected);
        }
    }

    #[test]
    fn every_code_has_a_distinct_name() {
        let names: BTreeSet<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), FindingCode::ALL.len());
    }
}
