//! One verdict per connection: what happened, in words an admin can act on.

use super::facts::{CloseKind, Confirm, ConnectionFacts, Side, Timestamp};
use crate::tls::TlsFacts;
use crate::x224::{FailureCode, Protocols};

/// How long after the Connection Confirm a silent client's close still counts as refusing the
/// selected protocol. Clients that go on answer the confirm within milliseconds (they are
/// waiting for it); 10 s leaves room for a user dismissing a dialog, and a longer silence is
/// not attributed to the negotiation.
pub const SECURITY_MISMATCH_WINDOW_MS: f64 = 10_000.0;

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

/// The verdict codes. The set is the report contract: codes are never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerdictCode {
    /// The handshake completed and the connection carried a session, or ended normally.
    Established,
    /// The SYN was answered by RST: nothing listens on that port.
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
    /// The capture ends, or the connection ended, before anything can be concluded.
    Incomplete,
}

impl VerdictCode {
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
            VerdictCode::Incomplete => "incomplete",
        }
    }

    /// The severity that goes with the code.
    pub fn severity(self) -> Severity {
        match self {
            VerdictCode::Established | VerdictCode::Incomplete => Severity::Info,
            VerdictCode::NotRdp => Severity::Warning,
            VerdictCode::TcpRefused
            | VerdictCode::TcpUnanswered
            | VerdictCode::NoNegotiationResponse
            | VerdictCode::NegotiationFailure
            | VerdictCode::SecurityMismatch => Severity::Error,
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
}

impl Verdict {
    fn new(code: VerdictCode, summary: String) -> Self {
        Verdict {
            code,
            severity: code.severity(),
            summary,
        }
    }
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

fn ms(at: Timestamp, since: Timestamp) -> String {
    format_ms(at.millis_since(since))
}

/// Formats a duration in milliseconds the way summaries quote them.
pub fn format_ms(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn protocols(p: Option<Protocols>) -> String {
    match p {
        Some(p) => p.protocol_names().join("|"),
        None => "no negotiation request (legacy)".to_string(),
    }
}

/// Decides the verdict from the facts.
pub(crate) fn decide(f: &ConnectionFacts, _tls: Option<&TlsFacts>) -> Verdict {
    let client = f.side(Side::Client);
    let server = f.side(Side::Server);
    let no_data = client.bytes == 0 && server.bytes == 0;

    if no_data {
        return tcp_only(f);
    }
    let Some(x) = f.x224.as_ref() else {
        return not_negotiated(f);
    };
    let Some(request_at) = x.request_at else {
        return confirm_without_request(f);
    };
    let Some(confirm) = x.confirm else {
        return no_confirm(f, request_at);
    };
    let confirm_at = x.confirm_at.unwrap_or(request_at);
    match confirm {
        Confirm::Failure { code } => Verdict::new(
            VerdictCode::NegotiationFailure,
            format!(
                "server refused the negotiation with {code} {} after a request for {}: {}",
                ms(confirm_at, request_at),
                protocols(x.requested_protocols),
                failure_meaning(code)
            ),
        ),
        Confirm::Selected { .. } | Confirm::Legacy => after_confirm(f, confirm_at),
    }
}

fn tcp_only(f: &ConnectionFacts) -> Verdict {
    let server = f.side(Side::Server);
    let client = f.side(Side::Client);
    if f.syn_at.is_some() && f.syn_ack_at.is_none() {
        if let Some(rst) = server.rst_at {
            let syn = f.syn_at.unwrap_or(rst);
            return Verdict::new(
                VerdictCode::TcpRefused,
                format!(
                    "the server answered the SYN with a reset after {}: nothing listens on that port",
                    ms(rst, syn)
                ),
            );
        }
        if client.rst_at.is_none() && client.fin_at.is_none() {
            let n = f.syn_count;
            return Verdict::new(
                VerdictCode::TcpUnanswered,
                format!(
                    "{n} SYN{} without any answer: the port is filtered or the host is down",
                    if n == 1 { "" } else { "s" }
                ),
            );
        }
    }
    let summary = match f.close {
        Some(c) => format!(
            "TCP connection {} by the {} ({}) before any data was sent",
            if c.kind == CloseKind::Fin {
                "closed"
            } else {
                "reset"
            },
            c.by.as_str(),
            c.kind.as_str()
        ),
        None => "TCP connection open without any data".to_string(),
    };
    Verdict::new(VerdictCode::Incomplete, summary)
}

fn not_negotiated(f: &ConnectionFacts) -> Verdict {
    if let Some(foreign) = &f.foreign {
        if foreign.side == Side::Client || f.side(Side::Client).bytes == 0 {
            return Verdict::new(
                VerdictCode::NotRdp,
                format!(
                    "the {} sent {} ({} bytes) instead of an X.224 Connection Request",
                    foreign.side.as_str(),
                    foreign.looks_like,
                    f.side(foreign.side).bytes
                ),
            );
        }
    }
    if f.mid_stream {
        return Verdict::new(
            VerdictCode::Incomplete,
            "the capture starts after the X.224 negotiation".to_string(),
        );
    }
    Verdict::new(
        VerdictCode::NotRdp,
        "the client did not start with an X.224 Connection Request".to_string(),
    )
}

/// A Connection Confirm with no request before it.
fn confirm_without_request(f: &ConnectionFacts) -> Verdict {
    match &f.foreign {
        Some(foreign) if foreign.side == Side::Client => Verdict::new(
            VerdictCode::NotRdp,
            format!(
                "the client sent {} ({} bytes) instead of an X.224 Connection Request, and the server answered with a Connection Confirm anyway",
                foreign.looks_like,
                f.side(Side::Client).bytes
            ),
        ),
        _ if f.mid_stream => Verdict::new(
            VerdictCode::Incomplete,
            "the capture starts after the X.224 Connection Request".to_string(),
        ),
        _ => Verdict::new(
            VerdictCode::Incomplete,
            "the server sent an X.224 Connection Confirm, but no request is in the capture".to_string(),
        ),
    }
}

fn no_confirm(f: &ConnectionFacts, request_at: Timestamp) -> Verdict {
    let server = f.side(Side::Server);
    let ended = match f.close {
        Some(c) => format!(
            "the {} {} {} after the request",
            c.by.as_str(),
            if c.kind == CloseKind::Fin {
                "closed the connection"
            } else {
                "reset the connection"
            },
            ms(c.at, request_at)
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
        _ if server.bytes > 0 => format!(
            "; the server sent {} bytes that are not a confirm",
            server.bytes
        ),
        _ => String::new(),
    };
    Verdict::new(
        VerdictCode::NoNegotiationResponse,
        format!("no X.224 Connection Confirm: {ended}{answered}"),
    )
}

fn after_confirm(f: &ConnectionFacts, confirm_at: Timestamp) -> Verdict {
    let client = f.side(Side::Client);
    let selected = f.x224.as_ref().and_then(|x| x.effective_protocol());
    let requested = f.x224.as_ref().and_then(|x| x.requested_protocols);
    if client.bytes_after_handshake == 0 {
        let client_close = [client.fin_at, client.rst_at].into_iter().flatten().min();
        let server = f.side(Side::Server);
        let server_close = [server.fin_at, server.rst_at].into_iter().flatten().min();
        if let Some(closed) = client_close {
            let client_first = server_close.is_none_or(|s| closed <= s);
            let delay = closed.millis_since(confirm_at);
            if client_first && delay <= SECURITY_MISMATCH_WINDOW_MS {
                return Verdict::new(
                    VerdictCode::SecurityMismatch,
                    format!(
                        "the client closed {} after the server selected {} (it requested {}) without going on",
                        format_ms(delay),
                        protocols(selected),
                        protocols(requested)
                    ),
                );
            }
        }
    }
    Verdict::new(
        VerdictCode::Incomplete,
        format!(
            "negotiation succeeded ({} selected); the rest of the connection is not analysed yet",
            protocols(selected)
        ),
    )
}
