//! One verdict per connection: what happened, in words an admin can act on.
//!
//! The decision walks the connection sequence (MS-RDPBCGR 1.3.1.1) in order: TCP, the X.224
//! negotiation, TLS (when selected), CredSSP (when NLA was selected), the MCS connection and
//! the session. The first phase that did not complete, and how the connection ended there,
//! decide the verdict; the summary quotes the evidence.
//!
//! # Thresholds
//! Without the TLS keys, what happens inside TLS is known only by record counts and sizes. The
//! constants below were chosen on the lab corpus (xrdp, FreeRDP, rdesktop) and public
//! Windows captures:
//! - a CredSSP exchange that fails takes at least one and at most [`CREDSSP_MAX_RECORDS`]
//!   records per side (NTLM NEGOTIATE, CHALLENGE, AUTHENTICATE and the server's answer or
//!   close_notify: 3 to 4); a client that sends nothing inside TLS never started it;
//! - a session that reached the capability exchange has the server send at least
//!   [`SESSION_MIN_SERVER_RECORDS`] records (MCS Connect Response, Attach User Confirm, one
//!   Channel Join Confirm per channel, licensing, Demand Active: 21 and more in the lab);
//! - a close within [`CLOSED_EARLY_WINDOW_MS`] of the end of the handshake, without that much
//!   traffic, is "closed early"; so is a client that sent nothing inside TLS, whatever the
//!   delay (a user reading the certificate prompt for 15 s and choosing No);
//! - reaching the capability exchange is not carrying a session: a connection is
//!   *session-sized* when the server sent [`SESSION_MIN_SERVER_BYTES`] or it lasted
//!   [`SESSION_MIN_MS`]; a TLS connection the **server** ends before that (it closes first, or
//!   its last record is the size of an MCS Disconnect Provider Ultimatum,
//!   [`DPU_PLAINTEXT_LEN`]) is "closed early", with the reason inside TLS (lab2's licensing
//!   abort and idle-timeout ending); a client that leaves after the connection sequence on its
//!   own (lab's `+auth-only` brute force) keeps `established`.
//!
//! # What the capture did not see
//! A failure resting on something missing is replaced when the capture could not have shown
//! it: one direction absent, bytes lost where the deciding message may be, a capture that
//! stops within [`SILENCE_MIN_MS`] (or [`SYN_RETRY_MS`] for SYNs). See `capture_limits`; a
//! failure decided by a message in the capture (an alert, RDP_NEG_FAILURE, a Disconnect Provider
//! Ultimatum) stands.

use crate::Saturate as _;
use core::fmt;

use super::facts::{CloseKind, Confirm, ConnectionFacts};
use super::tls::{AlertEvent, TlsFacts};
use crate::tls::{AlertDescription, AlertLevel, ProtocolVersion};
use crate::x224::{FailureCode, Protocols};
use crate::{Side, Timestamp};

/// How long after the Connection Confirm a silent client's close still counts as refusing the
/// selected protocol. Clients that go on answer the confirm within milliseconds (they are
/// waiting for it); 10 s leaves room for a user dismissing a dialog, and a longer silence is
/// not attributed to the negotiation.
pub const SECURITY_MISMATCH_WINDOW_MS: f64 = 10_000.0;

/// The most TLS records per side a failed CredSSP exchange takes (see the module docs).
pub const CREDSSP_MAX_RECORDS: u64 = 6;

/// The fewest server records after the TLS handshake that show a session (see the module docs).
pub const SESSION_MIN_SERVER_RECORDS: u64 = 12;

/// The fewest TPKT-framed or fast-path PDUs, both sides together (each side at least one),
/// that make a connection picked up mid-stream RDP by its framing alone, on any port
/// ([`ConnectionFacts::rdp_framed_mid_stream`]). One frame can be chance: a random first byte
/// has the fast-path action bits one time in four; six whose lengths chain exactly, on both
/// sides, are not. The lab sessions send hundreds.
pub const MID_STREAM_MIN_FRAMES: u64 = 6;

/// A close this soon after the handshake, with less traffic than a session, is "closed early".
pub const CLOSED_EARLY_WINDOW_MS: f64 = 10_000.0;

/// How long after a ServerHello a fatal alert from the client still counts as its answer to
/// the version the server chose (when the alert is `protocol_version`, `insufficient_security`
/// or `handshake_failure`: a certificate alert is a certificate rejection whatever the version).
pub const VERSION_REFUSAL_WINDOW_MS: f64 = 1_000.0;

/// How bad a verdict or finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Nothing to fix.
    Info,
    /// Works, but should be looked at.
    Warning,
    /// The connection failed, or a serious weakness.
    Error,
}

impl Severity {
    /// `"info"`, `"warning"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The furthest phase of the connection sequence a connection reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Only SYNs.
    Syn,
    /// The TCP connection was established.
    Tcp,
    /// The client sent the X.224 Connection Request.
    X224Request,
    /// The server sent the X.224 Connection Confirm.
    X224Confirm,
    /// The client sent its TLS ClientHello.
    TlsClientHello,
    /// The server answered with a ServerHello.
    TlsServerHello,
    /// The TLS handshake completed.
    TlsEstablished,
    /// The MCS connection sequence (in clear, or inside TLS by its volume) started.
    Mcs,
    /// The session started (capability exchange, licensing, session traffic).
    Session,
}

impl Phase {
    /// The phase name as reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Syn => "syn",
            Phase::Tcp => "tcp",
            Phase::X224Request => "x224-request",
            Phase::X224Confirm => "x224-confirm",
            Phase::TlsClientHello => "tls-client-hello",
            Phase::TlsServerHello => "tls-server-hello",
            Phase::TlsEstablished => "tls-established",
            Phase::Mcs => "mcs",
            Phase::Session => "session",
        }
    }
}

/// The verdict codes. The set is the report contract: codes are never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerdictCode {
    /// The handshake completed and the connection carried a session, or ended normally.
    Established,
    /// The SYN was answered by RST: no listener on the port, or a firewall or load balancer
    /// that rejects connections (the capture cannot tell which).
    TcpRefused,
    /// SYNs without any answer: filtered, or the host is down.
    TcpUnanswered,
    /// The client sent something other than an X.224 Connection Request.
    NotRdp,
    /// The server accepted TCP but never sent a Connection Confirm.
    NoNegotiationResponse,
    /// The server answered with RDP_NEG_FAILURE.
    NegotiationFailure,
    /// The client left right after the Connection Confirm without going on.
    SecurityMismatch,
    /// TLS was selected and the client said hello, but the server never answered with TLS.
    TlsNotStarted,
    /// No common cipher suite.
    TlsCipherMismatch,
    /// A TLS version was refused.
    TlsVersionRejected,
    /// Any other failure of the TLS handshake.
    TlsHandshakeFailed,
    /// NLA was selected and the connection ended during the CredSSP exchange.
    AuthFailed,
    /// The server disconnected during the MCS or security exchange (TermDD 56).
    ProtocolError,
    /// The handshake completed, then a side closed early for a reason the capture hides.
    ClosedEarly,
    /// The capture ends, or the connection ended, before anything can be concluded.
    Incomplete,
}

impl VerdictCode {
    /// Every code, in the order the reports list them.
    pub const ALL: [VerdictCode; 15] = [
        VerdictCode::Established,
        VerdictCode::TcpRefused,
        VerdictCode::TcpUnanswered,
        VerdictCode::NotRdp,
        VerdictCode::NoNegotiationResponse,
        VerdictCode::NegotiationFailure,
        VerdictCode::SecurityMismatch,
        VerdictCode::TlsNotStarted,
        VerdictCode::TlsCipherMismatch,
        VerdictCode::TlsVersionRejected,
        VerdictCode::TlsHandshakeFailed,
        VerdictCode::AuthFailed,
        VerdictCode::ProtocolError,
        VerdictCode::ClosedEarly,
        VerdictCode::Incomplete,
    ];

    /// The code as reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictCode::Established => "established",
            VerdictCode::TcpRefused => "tcp-refused",
            VerdictCode::TcpUnanswered => "tcp-unanswered",
            VerdictCode::NotRdp => "not-rdp",
            VerdictCode::NoNegotiationResponse => "no-negotiation-response",
            VerdictCode::NegotiationFailure => "negotiation-failure",
            VerdictCode::SecurityMismatch => "security-mismatch",
            VerdictCode::TlsNotStarted => "tls-not-started",
            VerdictCode::TlsCipherMismatch => "tls-cipher-mismatch",
            VerdictCode::TlsVersionRejected => "tls-version-rejected",
            VerdictCode::TlsHandshakeFailed => "tls-handshake-failed",
            VerdictCode::AuthFailed => "auth-failed",
            VerdictCode::ProtocolError => "protocol-error",
            VerdictCode::ClosedEarly => "closed-early",
            VerdictCode::Incomplete => "incomplete",
        }
    }

    /// The severity that goes with the code.
    pub fn severity(self) -> Severity {
        match self {
            VerdictCode::Established | VerdictCode::Incomplete => Severity::Info,
            VerdictCode::NotRdp | VerdictCode::ClosedEarly => Severity::Warning,
            VerdictCode::TcpRefused
            | VerdictCode::TcpUnanswered
            | VerdictCode::NoNegotiationResponse
            | VerdictCode::NegotiationFailure
            | VerdictCode::SecurityMismatch
            | VerdictCode::TlsNotStarted
            | VerdictCode::TlsCipherMismatch
            | VerdictCode::TlsVersionRejected
            | VerdictCode::TlsHandshakeFailed
            | VerdictCode::AuthFailed
            | VerdictCode::ProtocolError => Severity::Error,
        }
    }
}

/// The verdict on one connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// What happened.
    pub code: VerdictCode,
    /// How bad it is.
    pub severity: Severity,
    /// One line quoting the evidence.
    pub summary: String,
    /// The furthest phase reached.
    pub phase: Phase,
}

/// What a failure code means, in a few words.
pub fn failure_meaning(code: FailureCode) -> &'static str {
    match code {
        FailureCode::SSL_REQUIRED_BY_SERVER => {
            "the server requires TLS, but the client asked for Standard RDP Security only"
        }
        FailureCode::SSL_NOT_ALLOWED_BY_SERVER => {
            "the server only allows Standard RDP Security (its security layer is set to RDP)"
        }
        FailureCode::SSL_CERT_NOT_ON_SERVER => "the server has no usable certificate for TLS",
        FailureCode::INCONSISTENT_FLAGS => "the server found the request's flags inconsistent",
        FailureCode::HYBRID_REQUIRED_BY_SERVER => {
            "the server requires Network Level Authentication (CredSSP), which the client did not offer"
        }
        FailureCode::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER => {
            "the server requires TLS with user authentication"
        }
        _ => "a failure code MS-RDPBCGR does not define",
    }
}

/// Formats a duration in milliseconds the way summaries quote them.
pub fn format_ms(ms: f64) -> String {
    Millis(ms).to_string()
}

/// A duration in milliseconds as summaries quote it: `12.3 s` from 10 s, `45 ms` from 10 ms,
/// else `1.2 ms`. A negative duration (capture timestamps that go backwards, as merged or
/// multi-interface captures can have) is shown as `0.0 ms`: "-0.1 ms after" says nothing true.
#[derive(Clone, Copy)]
struct Millis(f64);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = if self.0 > 0.0 { self.0 } else { 0.0 };
        if ms >= 10_000.0 {
            write!(f, "{:.1} s", ms / 1000.0)
        } else if ms >= 10.0 {
            write!(f, "{ms:.0} ms")
        } else {
            write!(f, "{ms:.1} ms")
        }
    }
}

fn ms(at: Timestamp, since: Timestamp) -> Millis {
    Millis(at.millis_since(since))
}

/// Text written by a closure: the parts of a summary, put together by one `format!` without
/// a `String` each.
struct Show<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result>(F);

impl<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result> fmt::Display for Show<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0)(f)
    }
}

fn protocols(p: Option<Protocols>) -> impl fmt::Display {
    Show(move |f| match p {
        Some(p) => fmt::Display::fmt(&crate::Joined(p.protocol_name_iter()), f),
        None => f.write_str("no negotiation request (legacy)"),
    })
}

/// A count with its noun in the right number: `1 packet`, `2 packets`, `0 packets`.
#[derive(Debug, Clone, Copy)]
pub struct Count(pub u64, pub &'static str);

impl Count {
    /// From a `usize` (lengths of lists).
    pub fn of(n: usize, noun: &'static str) -> Count {
        Count(n.saturate(), noun)
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 1 {
            write!(f, "1 {}", self.1)
        } else {
            write!(f, "{} {}s", self.0, self.1)
        }
    }
}

/// The evidence a verdict is decided on: the connection's facts and its TLS facts.
struct Evidence<'a> {
    f: &'a ConnectionFacts,
    tls: Option<&'a TlsFacts>,
}

impl Evidence<'_> {
    /// The first close by either side: (who, how, when).
    fn close(&self) -> Option<(Side, CloseKind, Timestamp)> {
        self.f.close.map(|c| (c.by, c.kind, c.at))
    }

    fn close_text(&self) -> impl fmt::Display {
        let close = self.close();
        Show(move |f| match close {
            Some((by, CloseKind::Fin, _)) => write!(f, "the {by} closed the connection"),
            Some((by, CloseKind::Rst, _)) => write!(f, "the {by} reset the connection"),
            None => f.write_str("the capture ends"),
        })
    }

    fn first_fatal(&self, from: Option<Side>) -> Option<&AlertEvent> {
        self.tls?
            .alerts
            .iter()
            .find(|a| a.level == Some(AlertLevel::FATAL) && from.is_none_or(|side| a.side == side))
    }

    fn suites_offered(&self) -> String {
        let Some(t) = self.tls else {
            return String::new();
        };
        let tls13 = t
            .client_cipher_suites
            .iter()
            .filter(|s| s.is_tls13())
            .count();
        let n = t.client_cipher_suites_offered();
        let versions: Vec<String> = t.client_versions.iter().map(ToString::to_string).collect();
        let mut text = format!("a ClientHello offering {}", Count::of(n, "suite"));
        if tls13 > 0 {
            // Past the kept ones (tls::MAX_HELLO_LIST) the suites were only counted.
            if t.client_cipher_suites_not_kept > 0 {
                text.push_str(&format!(
                    ", {tls13} of the first {} TLS 1.3",
                    t.client_cipher_suites.len()
                ));
            } else {
                text.push_str(&format!(", {tls13} of them TLS 1.3"));
            }
        }
        if !versions.is_empty() {
            text.push_str(&format!(" ({})", versions.join(", ")));
        }
        text
    }
}

fn verdict(code: VerdictCode, phase: Phase, summary: String) -> Verdict {
    Verdict {
        code,
        severity: code.severity(),
        summary,
        phase,
    }
}

/// The furthest phase reached.
pub(crate) fn phase(f: &ConnectionFacts, tls: Option<&TlsFacts>) -> Phase {
    let mut phase = Phase::Syn;
    let client = f.side(Side::Client);
    let server = f.side(Side::Server);
    if f.syn_ack_at.is_some() || f.mid_stream || client.bytes > 0 || server.bytes > 0 {
        phase = Phase::Tcp;
    }
    let Some(x) = f.x224.as_ref() else {
        return if f.mid_stream {
            phase.max(mid_stream_phase(f, tls))
        } else {
            phase
        };
    };
    if x.request_at.is_some() {
        phase = Phase::X224Request;
    }
    if x.confirm.is_some() {
        phase = Phase::X224Confirm;
    }
    if let Some(t) = tls {
        if t.client_hello_at.is_some() {
            phase = Phase::TlsClientHello;
        }
        if t.server_hello_at.is_some() {
            phase = Phase::TlsServerHello;
        }
        if t.handshake_complete {
            phase = Phase::TlsEstablished;
            if t.server_app_records >= SESSION_MIN_SERVER_RECORDS {
                phase = Phase::Session;
            }
        }
    }
    if let Some(m) = f.mcs.as_ref() {
        if m.connect_initial_at.is_some() {
            phase = phase.max(Phase::Mcs);
        }
        if session_in_clear(f) {
            phase = Phase::Session;
        }
    }
    phase
}

/// Whether the clear-text connection sequence reached the session: licensing, the capability
/// exchange, or encrypted/fast-path session traffic after the Client Info.
fn session_in_clear(f: &ConnectionFacts) -> bool {
    let Some(m) = f.mcs.as_ref() else {
        return false;
    };
    let server = f.side(Side::Server);
    m.demand_active_at.is_some()
        || m.confirm_active_at.is_some()
        || (m.client_info_at.is_some()
            && (m.license_pdus > 0
                || server.fastpath_pdus > 0
                || m.encrypted_pdus
                    .get(Side::Server.index())
                    .is_some_and(|n| *n > 2)))
}

/// Decides the verdict from the facts.
///
/// # Caveats
/// Where the capture contradicts itself (a second Connection Confirm or ServerHello that
/// differs from the first, a selection of a protocol or suite that was never offered, a
/// malformed RDP_NEG_RSP: [`ConnectionFacts::caveats`], [`TlsFacts::caveats`]), the verdict is
/// decided on the first copy and its summary names the contradiction (`; caveat: ...`): the
/// evidence it stands on may be what an attacker or a broken middlebox wrote.
pub(crate) fn decide(f: &ConnectionFacts, tls: Option<&TlsFacts>) -> Verdict {
    let mut v = decide_evidence(f, tls);
    let caveats = f
        .caveats
        .iter()
        .chain(tls.map(|t| t.caveats.as_slice()).unwrap_or_default());
    for (i, caveat) in caveats.enumerate() {
        v.summary.push_str(if i == 0 { "; caveat: " } else { "; " });
        v.summary.push_str(caveat);
    }
    v
}

/// The verdict before its caveats: what the capture shows ([`decide_seen`]), then, for a
/// failure, whether the capture could show it at all ([`capture_limits`]).
fn decide_evidence(f: &ConnectionFacts, tls: Option<&TlsFacts>) -> Verdict {
    let seen = decide_seen(f, tls);
    if seen.severity == Severity::Error {
        capture_limits(f, tls, seen)
    } else {
        seen
    }
}

/// How long a capture must go on after the last packet of a connection still open for its
/// silence to count: a server answers each step of the connection sequence within
/// milliseconds (the lab: under 60 ms; Windows across a WAN: well under a second), and a client
/// retransmits an unanswered SYN after 1 s (RFC 6298 2.1 and 5.7). A capture that stops sooner
/// cannot show that an answer never came.
pub const SILENCE_MIN_MS: f64 = 5_000.0;

/// How long after the first SYN a capture must go on for SYNs without answer to count as
/// unanswered: the initial retransmission timeout (RFC 6298 2.1, 1 s; 3 s on older stacks,
/// RFC 1122). Within it, the SYN-ACK may simply not have arrived yet.
pub const SYN_RETRY_MS: f64 = 1_000.0;

/// The server's bytes that show a session beyond its connection sequence, without the keys:
/// the connection sequence after the TLS handshake (MCS Connect Response, joins, licensing,
/// Demand Active) takes a few KiB (the lab: 2.8 to 4.4 KiB in all, TLS handshake included);
/// the first screen of a session takes tens (the lab's healthy sessions: 24 to 60 KiB).
pub const SESSION_MIN_SERVER_BYTES: u64 = 16 * 1024;

/// A connection that lasts this long after its handshake carried a session, whatever its size.
pub const SESSION_MIN_MS: f64 = 60_000.0;

/// Whether the connection carried more than a connection sequence (see
/// [`SESSION_MIN_SERVER_BYTES`] and [`SESSION_MIN_MS`]).
fn session_sized(f: &ConnectionFacts, from: Option<Timestamp>) -> bool {
    let server = f.side(Side::Server);
    let bytes = server.bytes.saturating_add(server.gap_bytes);
    let lasted = match (from.or(f.first_at), f.last_at) {
        (Some(a), Some(b)) => b.millis_since(a),
        _ => 0.0,
    };
    bytes >= SESSION_MIN_SERVER_BYTES || lasted >= SESSION_MIN_MS
}

/// Whether a failure verdict rests on a message the capture holds: an RDP_NEG_FAILURE, a TLS
/// alert, an MCS Disconnect Provider Ultimatum, a licensing error, or a reset answering the SYN.
/// Such a verdict stands whatever the capture lost elsewhere.
fn backed_by_a_message(f: &ConnectionFacts, tls: Option<&TlsFacts>, code: VerdictCode) -> bool {
    matches!(
        code,
        VerdictCode::TcpRefused | VerdictCode::NegotiationFailure | VerdictCode::TlsCipherMismatch
    ) || f
        .x224
        .as_ref()
        .is_some_and(|x| matches!(x.confirm, Some(Confirm::Failure { .. })))
        || tls.is_some_and(|t| t.alerts.iter().any(|a| a.level == Some(AlertLevel::FATAL)))
        || f.mcs.as_ref().is_some_and(|m| {
            m.disconnect.is_some()
                || m.license_error.is_some_and(|e| {
                    e.error_code != crate::rdp::LicenseErrorCode::STATUS_VALID_CLIENT
                })
        })
}

/// What the capture did not see is not what did not happen (issue 14). A failure verdict that
/// rests on something *missing* (no confirm, no ServerHello, no session after the handshake, a
/// SYN without answer) is replaced when the capture could not have shown it:
/// - **one direction absent** ([`Coverage::absent_side`](super::Coverage::absent_side): asymmetric routing, a one-way SPAN
///   port, a `src host` filter): `incomplete`, with the bytes the present side acknowledged;
/// - **bytes missing** (a gap in either direction, where the deciding message may be) and no
///   refusal message in the capture: `established` when the rest of the connection is a
///   session's ([`session_sized`]), else `incomplete`, naming the gap;
/// - **the capture stopped** less than [`SILENCE_MIN_MS`] after the connection's last packet,
///   the connection still open: `incomplete`.
///
/// Verdicts backed by a message in the capture ([`backed_by_a_message`]) stand, one-sided or
/// lossy as the capture may be.
fn capture_limits(f: &ConnectionFacts, tls: Option<&TlsFacts>, seen: Verdict) -> Verdict {
    let phase = seen.phase;
    if backed_by_a_message(f, tls, seen.code) {
        return seen;
    }
    if let Some(c) = f.coverage {
        if let Some(absent) = c.absent_side(f) {
            let present = absent.peer();
            let acked = c.acked_unseen.get(absent.index()).copied().unwrap_or(0);
            return verdict(
                VerdictCode::Incomplete,
                phase,
                format!(
                    "only the {present}'s packets are in the capture: the {absent}'s direction is missing (asymmetric routing, a one-way mirror port or a capture filter){}; what the {absent} sent cannot be judged",
                    if acked > 0 {
                        format!(
                            ", though the {present} acknowledged {} from it",
                            Count(acked, "byte")
                        )
                    } else {
                        String::new()
                    }
                ),
            );
        }
    }
    let (client_gap, server_gap) = (
        f.side(Side::Client).gap_bytes,
        f.side(Side::Server).gap_bytes,
    );
    if client_gap > 0 || server_gap > 0 {
        let gaps = Show(|out| {
            let mut first = true;
            for (side, n) in [(Side::Client, client_gap), (Side::Server, server_gap)] {
                if n > 0 {
                    if !first {
                        out.write_str(" and ")?;
                    }
                    first = false;
                    write!(out, "{} of the {side}'s stream", Count(n, "byte"))?;
                }
            }
            Ok(())
        });
        let established = tls.and_then(|t| t.established_at.or(t.server_hello_at));
        if session_sized(f, established) {
            let server = f.side(Side::Server);
            return verdict(
                VerdictCode::Established,
                phase.max(Phase::Session),
                format!(
                    "session: the server sent {} over {}; {gaps} are missing from the capture, so the connection sequence is not all visible",
                    Count(server.bytes.saturating_add(server.gap_bytes), "byte"),
                    match (f.first_at, f.last_at) {
                        (Some(a), Some(b)) => format_ms(b.millis_since(a)),
                        _ => format_ms(0.0),
                    }
                ),
            );
        }
        return verdict(
            VerdictCode::Incomplete,
            phase,
            format!(
                "{gaps} are missing from the capture where the deciding message may be; without them: {}",
                seen.summary
            ),
        );
    }
    if let (Some(c), None, Some(last)) = (f.coverage, f.close, f.last_at) {
        // A SYN is retried after 1 s, so SYNs watched for that long without answer are
        // unanswered; any other silence is judged from the last packet.
        let (since, wait) = match (seen.code, f.syn_at) {
            (VerdictCode::TcpUnanswered, Some(syn)) => (syn, SYN_RETRY_MS),
            _ => (last, SILENCE_MIN_MS),
        };
        let watched = c.observed_until.millis_since(since);
        if watched < wait {
            return verdict(
                VerdictCode::Incomplete,
                phase,
                format!(
                    "the capture stops {} after {}, too soon to tell whether an answer was coming ({})",
                    format_ms(watched),
                    if since == last {
                        "this connection's last packet"
                    } else {
                        "the first SYN"
                    },
                    seen.summary
                ),
            );
        }
    }
    seen
}

/// Decides the verdict from what the capture shows.
fn decide_seen(f: &ConnectionFacts, tls: Option<&TlsFacts>) -> Verdict {
    let cx = Evidence { f, tls };
    let phase = phase(f, tls);
    let client = f.side(Side::Client);
    let server = f.side(Side::Server);

    if client.bytes == 0 && server.bytes == 0 {
        return tcp_only(f, phase);
    }
    if let Some(v) = through_tunnel(&cx, phase) {
        return v;
    }
    if let Some(v) = mid_stream(&cx, phase) {
        return v;
    }
    let Some(x) = f.x224.as_ref() else {
        return not_negotiated(&cx, phase);
    };
    let Some(request_at) = x.request_at else {
        return confirm_without_request(&cx, phase);
    };
    let Some(confirm) = x.confirm else {
        return no_confirm(&cx, request_at, phase);
    };
    let confirm_at = x.confirm_at.unwrap_or(request_at);
    if let Confirm::Failure { code } = confirm {
        return verdict(
            VerdictCode::NegotiationFailure,
            phase,
            format!(
                "server refused the negotiation with {code} {} after a request for {}: {}",
                ms(confirm_at, request_at),
                protocols(x.requested_protocols),
                failure_meaning(code)
            ),
        );
    }
    if let Some(v) = security_mismatch(&cx, confirm_at, phase) {
        return v;
    }
    let selected = x.effective_protocol().unwrap_or(Protocols::RDP);
    let client_hello = tls.is_some_and(|t| t.client_hello_at.is_some());
    if client_hello {
        tls_phase(&cx, Some(selected), phase)
    } else {
        clear_text_phase(&cx, confirm_at, selected, phase)
    }
}

fn tcp_only(f: &ConnectionFacts, phase: Phase) -> Verdict {
    let server = f.side(Side::Server);
    let client = f.side(Side::Client);
    if f.syn_at.is_some() && f.syn_ack_at.is_none() {
        if let Some(rst) = server.rst_at {
            let syn = f.syn_at.unwrap_or(rst);
            return verdict(
                VerdictCode::TcpRefused,
                phase,
                format!(
                    "the SYN was answered with a reset after {}: something at the server's address refused the connection (no listener on the port, or a firewall or load balancer set to reject: compare the reset's IP TTL with the server's other packets)",
                    ms(rst, syn)
                ),
            );
        }
        if client.rst_at.is_none() && client.fin_at.is_none() {
            let n = u64::from(f.syn_count);
            return verdict(
                VerdictCode::TcpUnanswered,
                phase,
                format!(
                    "{} without any answer: the port is filtered or the host is down",
                    Count(n, "SYN")
                ),
            );
        }
    }
    let summary = match f.close {
        Some(c) => format!(
            "TCP connection {} by the {} before any data was sent",
            if c.kind == CloseKind::Fin {
                "closed"
            } else {
                "reset"
            },
            c.by
        ),
        None => "TCP connection open without any data".to_string(),
    };
    verdict(VerdictCode::Incomplete, phase, summary)
}

fn not_negotiated(cx: &Evidence<'_>, phase: Phase) -> Verdict {
    let f = cx.f;
    if let Some(t) = cx.tls.filter(|t| t.client_hello_at.is_some()) {
        if f.mid_stream {
            // The capture starts between the negotiation and the ClientHello: the TLS
            // handshake is all there, so judge it.
            return tls_phase(cx, None, phase);
        }
        let versions: Vec<String> = t.client_versions.iter().map(ToString::to_string).collect();
        return verdict(
            VerdictCode::NotRdp,
            phase,
            format!(
                "the client started TLS ({}) directly instead of sending an X.224 Connection Request",
                versions.join(", ")
            ),
        );
    }
    if f.mid_stream {
        // Picked up in the middle of the connection: the first bytes may be the middle of a
        // record, so they say nothing about the protocol.
        return verdict(
            VerdictCode::Incomplete,
            phase,
            "the capture starts in the middle of the connection, after the X.224 negotiation"
                .to_string(),
        );
    }
    if let Some(foreign) = &f.foreign {
        if foreign.side == Side::Client || f.side(Side::Client).bytes == 0 {
            return verdict(
                VerdictCode::NotRdp,
                phase,
                format!(
                    "the {} sent {} ({}) instead of an X.224 Connection Request",
                    foreign.side,
                    foreign.looks_like,
                    Count(f.side(foreign.side).bytes, "byte")
                ),
            );
        }
    }
    verdict(
        VerdictCode::NotRdp,
        phase,
        "the client did not start with an X.224 Connection Request".to_string(),
    )
}

/// A Connection Confirm with no request before it.
fn confirm_without_request(cx: &Evidence<'_>, phase: Phase) -> Verdict {
    let f = cx.f;
    match &f.foreign {
        Some(foreign) if foreign.side == Side::Client => verdict(
            VerdictCode::NotRdp,
            phase,
            format!(
                "the client sent {} ({}) instead of an X.224 Connection Request, and the server answered with a Connection Confirm anyway",
                foreign.looks_like,
                Count(f.side(Side::Client).bytes, "byte")
            ),
        ),
        _ if f.mid_stream => verdict(
            VerdictCode::Incomplete,
            phase,
            "the capture starts after the X.224 Connection Request".to_string(),
        ),
        _ => verdict(
            VerdictCode::Incomplete,
            phase,
            "the server sent an X.224 Connection Confirm, but no request is in the capture"
                .to_string(),
        ),
    }
}

/// No Connection Confirm after the request. Whether the close came before the request is
/// stream order ([`X224Facts::request_after_close`](super::X224Facts::request_after_close)),
/// not a comparison of timestamps a backwards clock would falsify.
fn no_confirm(cx: &Evidence<'_>, request_at: Timestamp, phase: Phase) -> Verdict {
    let f = cx.f;
    let server = f.side(Side::Server);
    let closed_first = f.x224.as_ref().is_some_and(|x| x.request_after_close);
    let ended = match cx.close() {
        Some((_, _, at)) if closed_first => {
            format!(
                "{} {} before the request arrived",
                cx.close_text(),
                ms(request_at, at)
            )
        }
        Some((_, _, at)) => format!(
            "{} {} after the request",
            cx.close_text(),
            ms(at, request_at)
        ),
        None => match f.last_at {
            Some(last) => format!(
                "the capture ends {} after the request",
                ms(last, request_at)
            ),
            None => "the capture ends".to_string(),
        },
    };
    let answered = match &f.foreign {
        Some(foreign) if foreign.side == Side::Server => {
            format!("; the server sent {} instead", foreign.looks_like)
        }
        _ if server.bytes > 0 => {
            format!(
                "; the server sent {} that are not a confirm",
                Count(server.bytes, "byte")
            )
        }
        _ => String::new(),
    };
    verdict(
        VerdictCode::NoNegotiationResponse,
        phase,
        format!("no X.224 Connection Confirm: {ended}{answered}"),
    )
}

/// The client closed after the confirm without sending anything.
fn security_mismatch(cx: &Evidence<'_>, confirm_at: Timestamp, phase: Phase) -> Option<Verdict> {
    let f = cx.f;
    let client = f.side(Side::Client);
    if client.bytes_after_handshake > 0 {
        return None;
    }
    let client_close = [client.fin_at, client.rst_at].into_iter().flatten().min()?;
    let server = f.side(Side::Server);
    let server_close = [server.fin_at, server.rst_at].into_iter().flatten().min();
    let delay = client_close.millis_since(confirm_at);
    if server_close.is_some_and(|s| s < client_close) || delay > SECURITY_MISMATCH_WINDOW_MS {
        return None;
    }
    let x = f.x224.as_ref()?;
    let selected = Show(|out| match x.effective_protocol() {
        Some(p) => write!(out, "the server selected {}", protocols(Some(p))),
        // A malformed confirm selects nothing readable (the caveat names it).
        None => out.write_str("a malformed Connection Confirm"),
    });
    Some(verdict(
        VerdictCode::SecurityMismatch,
        phase,
        format!(
            "the client closed {} after {selected} (it requested {}) without going on",
            format_ms(delay),
            protocols(x.requested_protocols)
        ),
    ))
}

/// When the server's successful MCS Connect Response came, if the client sent nothing of the
/// connection sequence after it (no Erect Domain, Attach User, Channel Join, Security Exchange
/// or Client Info): a client that then leaves chose to, the server did not reject it.
pub(super) fn client_left_after_connect_response(m: &super::facts::McsFacts) -> Option<Timestamp> {
    let went_on = m.erect_domain
        || m.channel_join_requests > 0
        || m.security_exchange_at.is_some()
        || m.client_info_at.is_some();
    let accepted = m
        .result
        .is_none_or(|r| r == crate::mcs::McsResult::SUCCESSFUL);
    m.connect_response_at.filter(|_| accepted && !went_on)
}

/// Whether a client's fatal alert right after a ServerHello can be its refusal of the chosen
/// version: `protocol_version`, `insufficient_security` or `handshake_failure` (RFC 5246 7.2.2,
/// RFC 8446 6.2). Certificate alerts (`bad_certificate`, `unknown_ca`, `certificate_expired`
/// ...) and the rest name something else, so they stay a handshake failure.
fn refuses_version(a: &AlertEvent) -> bool {
    matches!(
        a.description,
        Some(
            AlertDescription::PROTOCOL_VERSION
                | AlertDescription::INSUFFICIENT_SECURITY
                | AlertDescription::HANDSHAKE_FAILURE
        )
    )
}

fn old_version(v: ProtocolVersion) -> bool {
    matches!(
        v,
        ProtocolVersion::SSL3_0 | ProtocolVersion::TLS1_0 | ProtocolVersion::TLS1_1
    ) || v.0 < ProtocolVersion::SSL3_0.0
}

/// The client's encrypted alert of a TLS 1.3 handshake that did not complete (see
/// `TlsTracker::is_encrypted_alert`).
fn encrypted_client_alert(t: &TlsFacts) -> Option<&AlertEvent> {
    if t.version.is_none_or(|v| v < ProtocolVersion::TLS1_3) || t.handshake_complete {
        return None;
    }
    t.alerts
        .iter()
        .find(|a| a.side == Side::Client && a.encrypted)
}

fn alert_text(a: &AlertEvent) -> String {
    match (a.level, a.description) {
        (Some(l), Some(d)) => format!("{l} {d}"),
        _ => "an encrypted alert".to_string(),
    }
}

/// TLS was under way: the client sent a ClientHello.
/// `selected` is `None` when the negotiation is not in the capture.
fn tls_phase(cx: &Evidence<'_>, selected: Option<Protocols>, phase: Phase) -> Verdict {
    let Some(t) = cx.tls else {
        return verdict(VerdictCode::Incomplete, phase, "no TLS facts".to_string());
    };
    let hello_at = t.client_hello_at.unwrap_or_default();
    let server_hello = t.server_hello_at;

    // A protocol_version alert from either side, at any point of the handshake.
    if let Some(a) = cx.first_fatal(None).filter(|a| {
        a.description == Some(AlertDescription::PROTOCOL_VERSION) && !t.handshake_complete
    }) {
        return verdict(
            VerdictCode::TlsVersionRejected,
            phase,
            format!(
                "{} sent fatal protocol_version {} after {}",
                a.side,
                ms(a.at, hello_at),
                cx.suites_offered()
            ),
        );
    }

    let Some(server_hello_at) = server_hello else {
        // No ServerHello: the server answered the ClientHello with an alert, clear text, a
        // close, or nothing yet.
        if let Some(a) = cx.first_fatal(Some(Side::Server)) {
            let code = if matches!(
                a.description,
                Some(AlertDescription::HANDSHAKE_FAILURE | AlertDescription::INSUFFICIENT_SECURITY)
            ) {
                VerdictCode::TlsCipherMismatch
            } else {
                VerdictCode::TlsHandshakeFailed
            };
            return verdict(
                code,
                phase,
                format!(
                    "server sent {} {} after {}{}",
                    alert_text(a),
                    ms(a.at, hello_at),
                    cx.suites_offered(),
                    if code == VerdictCode::TlsCipherMismatch {
                        ": no cipher suite in common"
                    } else {
                        ""
                    }
                ),
            );
        }
        if let Some(a) = cx.first_fatal(Some(Side::Client)) {
            return verdict(
                VerdictCode::TlsHandshakeFailed,
                phase,
                format!("client sent {} before any ServerHello", alert_text(a)),
            );
        }
        let clear =
            cx.f.mcs
                .as_ref()
                .and_then(|m| m.disconnect)
                .filter(|d| d.from == Side::Server);
        if let Some(d) = clear {
            return verdict(
                VerdictCode::TlsNotStarted,
                phase,
                format!(
                    "the server answered the ClientHello {} later with a clear-text MCS Disconnect Provider Ultimatum ({}) instead of a ServerHello: it could not start TLS, usually because of its certificate or private key",
                    ms(d.at, hello_at),
                    d.reason
                ),
            );
        }
        return match cx.close() {
            Some((by, kind, at)) => verdict(
                if by == Side::Server
                    || kind == CloseKind::Rst
                    || cx.f.side(Side::Server).rst_at.is_some()
                {
                    VerdictCode::TlsNotStarted
                } else {
                    VerdictCode::Incomplete
                },
                phase,
                format!(
                    "no ServerHello: {} {} after the ClientHello, without a TLS alert",
                    cx.close_text(),
                    ms(at, hello_at)
                ),
            ),
            None => verdict(
                VerdictCode::Incomplete,
                phase,
                "the capture ends while the client waits for a ServerHello".to_string(),
            ),
        };
    };

    if !t.handshake_complete {
        let chosen = t
            .version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "?".to_string());
        if let Some(a) = cx.first_fatal(Some(Side::Client)) {
            let soon = a.at.millis_since(server_hello_at) <= VERSION_REFUSAL_WINDOW_MS;
            // Only an alert that can mean "not this version" is a refusal of it: one naming a
            // certificate problem is a rejection of the certificate whatever the version.
            if soon && t.version.is_some_and(old_version) && refuses_version(a) {
                return verdict(
                    VerdictCode::TlsVersionRejected,
                    phase,
                    format!(
                        "client sent {} {} after the server chose {chosen}: it refuses that version",
                        alert_text(a),
                        ms(a.at, server_hello_at)
                    ),
                );
            }
        }
        if let Some(a) = encrypted_client_alert(t) {
            // TLS 1.3 (RFC 8446 4.4.4, 5.2): the client's first record after the server's
            // encrypted flight had the size of an alert, not of a Finished
            // (`TlsTracker::is_encrypted_alert`): it refused the flight, typically the
            // certificate.
            return verdict(
                VerdictCode::TlsHandshakeFailed,
                phase,
                format!(
                    "client answered the server's encrypted flight with an encrypted alert {} after the ServerHello ({chosen}; its size shows an alert, not the client's Finished), then {}: the client refused the server's flight, typically its certificate",
                    ms(a.at, server_hello_at),
                    cx.close_text()
                ),
            );
        }
        if let Some(a) = cx.first_fatal(None) {
            return verdict(
                VerdictCode::TlsHandshakeFailed,
                phase,
                format!(
                    "{} sent {} {} after the ServerHello ({chosen}){}",
                    a.side,
                    alert_text(a),
                    ms(a.at, server_hello_at),
                    if a.side == Side::Client {
                        ": the client rejected the server's certificate or parameters"
                    } else {
                        ""
                    }
                ),
            );
        }
        return match cx.close() {
            Some((_, _, at)) => verdict(
                VerdictCode::TlsHandshakeFailed,
                phase,
                format!(
                    "the TLS handshake ({chosen}) did not complete: {} {} after the ServerHello",
                    cx.close_text(),
                    ms(at, server_hello_at)
                ),
            ),
            None => verdict(
                VerdictCode::Incomplete,
                phase,
                format!("the capture ends during the TLS handshake ({chosen})"),
            ),
        };
    }
    after_tls(cx, t, selected, phase)
}

/// The TLS handshake completed: CredSSP (NLA), then MCS and the session, all encrypted.
fn after_tls(
    cx: &Evidence<'_>,
    t: &TlsFacts,
    selected: Option<Protocols>,
    phase: Phase,
) -> Verdict {
    let with = Show(|f| match selected {
        Some(p) => write!(f, "with {} selected", protocols(Some(p))),
        None => f.write_str("(negotiation not in the capture)"),
    });
    let established = t.established_at.or(t.last_handshake_at).unwrap_or_default();
    let version = Show(|f| match t.version {
        Some(v) => fmt::Display::fmt(&v, f),
        None => Ok(()),
    });
    let records = Show(|f| {
        write!(
            f,
            "{} and {} after the handshake",
            Count(t.client_app_records, "client record"),
            Count(t.server_app_records, "server record")
        )
    });
    if t.server_app_records >= SESSION_MIN_SERVER_RECORDS || session_in_clear(cx.f) {
        if let Some(how) = server_ended_it(cx, t) {
            if !session_sized(cx.f, Some(established)) {
                return verdict(
                    VerdictCode::ClosedEarly,
                    phase,
                    format!(
                        "{version} connection {with}: the server ended it after a connection sequence and no session ({records}, {} from the server in all): {how}; the reason (a Set Error Info or licensing error PDU) is inside TLS, and a TLS key log of the client would show it",
                        Count(cx.f.side(Side::Server).bytes, "byte")
                    ),
                );
            }
        }
        let ended = Show(|f| match cx.close() {
            Some((_, _, at)) => write!(f, "; {} after {}", cx.close_text(), ms(at, established)),
            None => f.write_str("; still open when the capture ends"),
        });
        return verdict(
            VerdictCode::Established,
            phase,
            format!("{version} session {with}: {records}{ended}"),
        );
    }
    let Some((_, kind, at)) = cx.close() else {
        return verdict(
            VerdictCode::Incomplete,
            phase,
            format!("{version} handshake complete, {records}; the capture ends"),
        );
    };
    let after = at.millis_since(established);
    if t.client_app_records == 0 {
        // Nothing sent inside TLS: neither CredSSP nor MCS started. A client that does this
        // usually refused the server certificate, or its user read the certificate warning
        // and chose No: whatever the delay (15 s of reading is common), the next phase never
        // started, so this is neither `established` nor `auth-failed` (issue 14).
        return verdict(
            VerdictCode::ClosedEarly,
            phase,
            format!(
                "{version} handshake complete, then {} {} later, before any data inside TLS{}",
                cx.close_text(),
                format_ms(after),
                if cx.close().is_some_and(|(by, _, _)| by == Side::Client) {
                    ": the client gave up, typically on the server certificate"
                } else {
                    ""
                }
            ),
        );
    }
    if selected.is_some_and(Protocols::uses_credssp)
        && t.client_app_records <= CREDSSP_MAX_RECORDS
        && t.server_app_records <= CREDSSP_MAX_RECORDS
    {
        return verdict(
            VerdictCode::AuthFailed,
            phase,
            format!(
                "NLA ({}) did not get past authentication: {records}, then {} {} after the TLS handshake",
                protocols(selected),
                cx.close_text(),
                format_ms(after)
            ),
        );
    }
    if let Some(d) = cx.f.mcs.as_ref().and_then(|m| m.disconnect) {
        return verdict(
            VerdictCode::ProtocolError,
            phase,
            format!(
                "the {} sent an MCS Disconnect Provider Ultimatum ({}) during the connection sequence",
                d.from, d.reason
            ),
        );
    }
    if after <= CLOSED_EARLY_WINDOW_MS {
        return verdict(
            VerdictCode::ClosedEarly,
            phase,
            format!(
                "{version} handshake complete, then {} {} later with little data ({records}); {}",
                cx.close_text(),
                format_ms(after),
                if kind == CloseKind::Rst {
                    "a reset gives no reason"
                } else {
                    "the reason is inside TLS"
                }
            ),
        );
    }
    verdict(
        VerdictCode::Established,
        phase,
        format!(
            "{version} session {with}: {records}; {} after {}",
            cx.close_text(),
            format_ms(after)
        ),
    )
}

/// The plaintext of an MCS Disconnect Provider Ultimatum in its frame: TPKT header (4), X.224
/// Data TPDU header (3) and the 2-byte PER-encoded ultimatum (T.125 11.15, MS-RDPBCGR
/// 2.2.2.3); the server's way to end a session, after a Set Error Info PDU.
pub const DPU_PLAINTEXT_LEN: u64 = 9;

/// Whether the server, not the client, ended a TLS connection whose contents the capture
/// cannot read, and how it shows:
/// - the server closed the TCP connection first (FIN or RST); or
/// - the server's last record (not counting close_notify) is the size of an MCS Disconnect
///   Provider Ultimatum ([`DPU_PLAINTEXT_LEN`] bytes of plaintext under the negotiated suite,
///   [`TlsFacts::plaintext_len`]), the client said nothing after it, and then closed.
///
/// A client that leaves on its own (the user closing the window, `+auth-only`, a scripted
/// logon test) sends its own records or closes without such a last word from the server.
fn server_ended_it(cx: &Evidence<'_>, t: &TlsFacts) -> Option<String> {
    let (by, kind, at) = cx.close()?;
    if by == Side::Server {
        return Some(format!(
            "it {} the connection",
            if kind == CloseKind::Fin {
                "closed"
            } else {
                "reset"
            }
        ));
    }
    let last = t
        .last_data_record
        .get(Side::Server.index())
        .copied()
        .flatten()?;
    let client_after = t
        .last_data_record
        .get(Side::Client.index())
        .copied()
        .flatten()
        .is_some_and(|c| c.at > last.at);
    let (fewest, most) = t.plaintext_len(last.len)?;
    let dpu_sized = (fewest..=most).contains(&DPU_PLAINTEXT_LEN);
    (dpu_sized && !client_after && at >= last.at).then(|| {
        format!(
            "its last record ({} bytes) is the size of an MCS Disconnect Provider Ultimatum, and {} {} after it",
            last.len,
            cx.close_text(),
            ms(at, last.at)
        )
    })
}

/// No ClientHello after the confirm: Standard RDP Security, or a decrypted recording, or a
/// client that spoke something else.
fn clear_text_phase(
    cx: &Evidence<'_>,
    confirm_at: Timestamp,
    selected: Protocols,
    phase: Phase,
) -> Verdict {
    let f = cx.f;
    let mcs = f.mcs.as_deref();
    if session_in_clear(f) {
        let ended = match cx.close() {
            Some((_, _, at)) => format!("; {} after {}", cx.close_text(), ms(at, confirm_at)),
            None => "; still open when the capture ends".to_string(),
        };
        let what = if selected.uses_tls() {
            format!(
                "{} selected (TLS not in the capture)",
                protocols(Some(selected))
            )
        } else {
            "Standard RDP Security".to_string()
        };
        return verdict(
            VerdictCode::Established,
            phase,
            format!("session with {what}{ended}"),
        );
    }
    if let Some(d) = mcs
        .and_then(|m| m.disconnect)
        .filter(|d| d.from == Side::Server)
    {
        let last = mcs
            .and_then(|m| {
                if m.client_info_at.is_some() {
                    Some("the Client Info PDU")
                } else if m.security_exchange_at.is_some() {
                    Some("the Security Exchange PDU")
                } else if m.channel_join_requests > 0 {
                    Some("the channel joins")
                } else if m.connect_initial_at.is_some() {
                    Some("the MCS Connect Initial")
                } else {
                    None
                }
            })
            .unwrap_or("the negotiation");
        let error = mcs
            .and_then(|m| m.error_info)
            .map(|e| format!(", error info {e}"))
            .unwrap_or_default();
        return verdict(
            VerdictCode::ProtocolError,
            phase,
            format!(
                "the server sent an MCS Disconnect Provider Ultimatum ({}{error}) {} after {last}: it rejected the connection sequence",
                d.reason,
                ms(d.at, f.last_handshake_at.unwrap_or(confirm_at).min(d.at))
            ),
        );
    }
    match cx.close() {
        Some((by, _, at)) => {
            let started = mcs.is_some_and(|m| m.connect_initial_at.is_some());
            if let Some(answered) = mcs
                .filter(|_| by == Side::Client)
                .and_then(client_left_after_connect_response)
            {
                // The client's choice, not the server's fault: probes that read the server's
                // settings (nmap's rdp-enum-encryption) stop right here.
                return verdict(
                    VerdictCode::ClosedEarly,
                    phase,
                    format!(
                        "{} {} after the server's MCS Connect Response, without going on: a probe reading the server's security settings, or a client that gave up",
                        cx.close_text(),
                        ms(at, answered)
                    ),
                );
            }
            if by == Side::Server || started {
                verdict(
                    VerdictCode::ProtocolError,
                    phase,
                    format!(
                        "{} {} after the {} during the {} exchange, before the session started",
                        cx.close_text(),
                        ms(at, f.last_handshake_at.unwrap_or(confirm_at)),
                        if started {
                            "last connection-sequence PDU"
                        } else {
                            "Connection Confirm"
                        },
                        if started { "MCS/security" } else { "MCS" }
                    ),
                )
            } else {
                verdict(
                    VerdictCode::Incomplete,
                    phase,
                    format!(
                        "the client closed {} after the Connection Confirm having sent {} that are neither TLS nor MCS",
                        ms(at, confirm_at),
                        Count(f.side(Side::Client).bytes_after_handshake, "byte")
                    ),
                )
            }
        }
        None => verdict(
            VerdictCode::Incomplete,
            phase,
            format!(
                "the capture ends during the connection sequence ({} selected)",
                protocols(Some(selected))
            ),
        ),
    }
}

/// A connection that began with a proxy preamble (SOCKS4/4a, SOCKS5, HTTP CONNECT): the verdict
/// when the tunnel itself decides it, `None` when RDP went through it (then the RDP inside is
/// judged as usual, and the report's `via` names the proxy and target).
///
/// - A refusal ends the attempt before any RDP: SOCKS5 REP 0x05 "connection refused" (RFC 1928
///   section 6) is the target answering the proxy's SYN with a reset, `tcp-refused` as if the
///   client had tried itself; every other refusal (a ruleset, failed proxy authentication
///   (RFC 1929), SOCKS4 0x5b, an HTTP status other than 2xx, an unreachable host) is the proxy's
///   decision, which says nothing about the RDP server: `incomplete`, the proxy's words quoted.
/// - A request without the proxy's answer, or a tunnel opened with nothing after it, is
///   `incomplete`: the capture does not show RDP failing.
///
/// HTTPS that may be an RD Gateway ([`super::facts::TunnelKind::RdGateway`]) shows only TLS: a handshake
/// that failed is judged as any TLS handshake; one that completed is `incomplete`, its summary
/// saying that any RDP inside a gateway's HTTPS is encrypted. It is never `established` (the
/// session thresholds count RDP records, which HTTPS records are not) nor `not-rdp`.
fn through_tunnel(cx: &Evidence<'_>, phase: Phase) -> Option<Verdict> {
    let f = cx.f;
    let t = f.tunnel.as_ref()?;
    if t.kind == super::facts::TunnelKind::RdGateway {
        let tls = cx.tls?;
        if !tls.handshake_complete {
            return Some(tls_phase(cx, None, phase));
        }
        let version = tls.version.map(|v| format!("{v} ")).unwrap_or_default();
        return Some(verdict(
            VerdictCode::Incomplete,
            phase,
            format!(
                "{version}handshake complete without an X.224 request ({}): HTTPS, as an RD Gateway speaks; {} and {} after the handshake, then {}; any RDP inside a gateway's HTTPS is encrypted and not judged",
                t.basis.unwrap_or("TLS first"),
                Count(tls.client_app_records, "client record"),
                Count(tls.server_app_records, "server record"),
                cx.close_text()
            ),
        ));
    }
    let kind = t.kind.as_str();
    let target = t.target.as_deref().unwrap_or("an unknown target");
    match &t.answer {
        Some(a) if !a.granted => {
            let reason = a.refused.as_deref().unwrap_or("refused");
            let after = t
                .requested_at
                .map(|r| format!(" {} after the request", ms(a.at, r)))
                .unwrap_or_default();
            Some(if a.connection_refused {
                verdict(
                    VerdictCode::TcpRefused,
                    phase,
                    format!(
                        "the {kind} proxy answered{after} that {target} refused its connection ({reason}): no listener on the port, or a firewall set to reject, between the proxy and the server"
                    ),
                )
            } else {
                verdict(
                    VerdictCode::Incomplete,
                    phase,
                    format!(
                        "the {kind} proxy refused the tunnel to {target}{after} ({reason}); no RDP was sent, so the RDP server was not tried"
                    ),
                )
            })
        }
        None if f.x224.is_none() && f.foreign.is_none() && cx.tls.is_none() => Some(verdict(
            VerdictCode::Incomplete,
            phase,
            format!(
                "the client asked the {kind} proxy for a tunnel to {target}; {} without the proxy's answer",
                cx.close_text()
            ),
        )),
        Some(_) if f.x224.is_none() && f.foreign.is_none() && cx.tls.is_none() => Some(verdict(
            VerdictCode::Incomplete,
            phase,
            format!(
                "the {kind} proxy opened the tunnel to {target}; no RDP followed it before {}",
                cx.close_text()
            ),
        )),
        _ => None,
    }
}

/// What a connection picked up mid-stream, without its X.224 negotiation, shows of the
/// connection sequence: the TLS handshake messages it saw; TLS records without a handshake
/// mean the handshake happened before the capture (`tls-established`, `session` with
/// session-sized traffic); RDP framing in clear means at least `mcs`, session traffic
/// `session`.
fn mid_stream_phase(f: &ConnectionFacts, tls: Option<&TlsFacts>) -> Phase {
    let mut phase = Phase::Tcp;
    if let Some(t) = tls {
        if t.client_hello_at.is_some() {
            phase = Phase::TlsClientHello;
        }
        if t.server_hello_at.is_some() {
            phase = Phase::TlsServerHello;
        }
        let records = t.client_app_records.saturating_add(t.server_app_records);
        if t.handshake_complete || (phase == Phase::Tcp && records > 0) {
            phase = Phase::TlsEstablished;
            if t.server_app_records >= SESSION_MIN_SERVER_RECORDS {
                phase = Phase::Session;
            }
        }
    }
    if f.rdp_framed_mid_stream() {
        phase = phase.max(Phase::Mcs);
    }
    if session_in_clear_mid_stream(f) {
        phase = Phase::Session;
    }
    phase
}

/// Session traffic in clear on a connection picked up mid-stream: RDP by its framing, and
/// fast-path PDUs (sent only once the connection sequence is over, MS-RDPBCGR 1.3.1.1), or as
/// many MCS PDUs from the server as a session's start takes
/// ([`SESSION_MIN_SERVER_RECORDS`]), or what [`session_in_clear`] sees.
fn session_in_clear_mid_stream(f: &ConnectionFacts) -> bool {
    let (client, server) = (f.side(Side::Client), f.side(Side::Server));
    (f.rdp_framed_mid_stream()
        && (client.fastpath_pdus > 0
            || server.fastpath_pdus > 0
            || server.x224_data_pdus >= SESSION_MIN_SERVER_RECORDS))
        || session_in_clear(f)
}

/// A connection picked up mid-stream, after the X.224 Connection Request: judged by what the
/// capture shows, never by what it missed.
///
/// - From the Connection Confirm on, the negotiation's answer is there: an RDP_NEG_FAILURE is
///   the server's refusal, and what follows a successful confirm is judged as usual (TLS, or
///   the clear-text sequence). The request's protocols are unknown, so the confirm is not
///   compared with them.
/// - Later (TLS records without their handshake, MCS PDUs, fast-path), session traffic makes
///   the connection `established` (with `mid_stream`): a client sending TLS records and the
///   server at least [`SESSION_MIN_SERVER_RECORDS`], or fast-path / session-sized MCS traffic
///   in clear. Anything less says nothing (`incomplete`, the usual rules).
fn mid_stream(cx: &Evidence<'_>, phase: Phase) -> Option<Verdict> {
    let f = cx.f;
    if !f.mid_stream
        || f.x224.as_ref().is_some_and(|x| x.request_at.is_some())
        || f.foreign.as_ref().is_some_and(|x| x.side == Side::Client)
    {
        return None;
    }
    let ended = Show(|out| match cx.close() {
        Some(_) => write!(out, "; {}", cx.close_text()),
        None => out.write_str("; still open when the capture ends"),
    });
    if let Some(x) = f.x224.as_ref() {
        let confirm = x.confirm?;
        let confirm_at = x.confirm_at.or(f.first_at).unwrap_or_default();
        if let Confirm::Failure { code } = confirm {
            return Some(verdict(
                VerdictCode::NegotiationFailure,
                phase,
                format!(
                    "server refused the negotiation with {code} (the capture starts after the request): {}",
                    failure_meaning(code)
                ),
            ));
        }
        let selected = x.effective_protocol().unwrap_or(Protocols::RDP);
        return Some(if cx.tls.is_some_and(|t| t.client_hello_at.is_some()) {
            tls_phase(cx, Some(selected), phase)
        } else {
            clear_text_phase(cx, confirm_at, selected, phase)
        });
    }
    if let Some(t) = cx.tls {
        let no_handshake = t.client_hello_at.is_none() && t.server_hello_at.is_none();
        if no_handshake
            && t.client_app_records > 0
            && t.server_app_records >= SESSION_MIN_SERVER_RECORDS
        {
            return Some(verdict(
                VerdictCode::Established,
                phase,
                format!(
                    "TLS session picked up mid-stream (its handshake is before the capture): {} and {} seen{ended}",
                    Count(t.client_app_records, "client record"),
                    Count(t.server_app_records, "server record")
                ),
            ));
        }
        return None;
    }
    if session_in_clear_mid_stream(f) {
        let (client, server) = (f.side(Side::Client), f.side(Side::Server));
        return Some(verdict(
            VerdictCode::Established,
            phase,
            format!(
                "session picked up mid-stream (its connection sequence is before the capture): the server sent {} and {}, the client {} and {}{ended}",
                Count(server.fastpath_pdus, "fast-path PDU"),
                Count(server.x224_data_pdus, "MCS PDU"),
                Count(client.fastpath_pdus, "fast-path PDU"),
                Count(client.x224_data_pdus, "MCS PDU")
            ),
        ));
    }
    None
}
