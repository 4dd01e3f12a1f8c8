//! The owned facts the analyzer gathers about one connection: what reports print.

use crate::x224::{FailureCode, NegRequestFlags, NegResponseFlags, Protocols};
use crate::Bump as _;
use crate::{Side, Timestamp};

/// How a side closed its half of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseKind {
    /// A FIN: an orderly close.
    Fin,
    /// A RST: an abort.
    Rst,
}

impl CloseKind {
    /// `"fin"` or `"rst"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseKind::Fin => "fin",
            CloseKind::Rst => "rst",
        }
    }
}

/// The first close seen on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Close {
    /// Who closed first.
    pub by: Side,
    /// How.
    pub kind: CloseKind,
    /// When.
    pub at: Timestamp,
}

/// What the Connection Confirm said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// RDP_NEG_RSP.
    Selected {
        /// The protocol the server selected.
        protocol: Protocols,
        /// The response flags.
        flags: NegResponseFlags,
    },
    /// RDP_NEG_FAILURE.
    Failure {
        /// The failure code.
        code: FailureCode,
    },
    /// A confirm without negotiation structure: Standard RDP Security.
    Legacy,
}

/// The X.224 negotiation as seen on the wire (MS-RDPBCGR 1.3.1.1, phase 1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct X224Facts {
    /// When the Connection Request was seen.
    pub request_at: Option<Timestamp>,
    /// The `mstshash` cookie value, through [`crate::printable`].
    pub cookie: Option<String>,
    /// Any other routing token line, through [`crate::printable`].
    pub routing_token: Option<String>,
    /// `requestedProtocols` of RDP_NEG_REQ; `None` for a legacy request.
    pub requested_protocols: Option<Protocols>,
    /// RDP_NEG_REQ flags; `None` for a legacy request.
    pub request_flags: Option<NegRequestFlags>,
    /// The correlation id from RDP_CORRELATION_INFO, as 32 hex digits.
    pub correlation_id: Option<String>,
    /// When the Connection Confirm was seen.
    pub confirm_at: Option<Timestamp>,
    /// What the confirm said; `None` when there was no confirm.
    pub confirm: Option<Confirm>,
    /// The confirm carried a negotiation structure that is not one (an RDP_NEG_RSP or
    /// RDP_NEG_FAILURE whose length is not 8, MS-RDPBCGR 2.2.1.2.1, 2.2.1.2.2): `confirm` is
    /// then [`Confirm::Legacy`] as parsed, but the server's selection is unknown, so
    /// [`X224Facts::effective_protocol`] is `None` and no finding is drawn from it.
    pub malformed_confirm: bool,
    /// The Connection Request came after the connection's first FIN or RST in stream order
    /// (a server that accepts and closes at once). Order, not timestamps: a capture clock
    /// that steps backwards must not put a close "before the request arrived" (issue 14).
    pub request_after_close: bool,
}

impl X224Facts {
    /// The selected protocol: from RDP_NEG_RSP, or `PROTOCOL_RDP` for a legacy confirm.
    /// `None` for a malformed confirm (see [`X224Facts::malformed_confirm`]).
    pub fn effective_protocol(&self) -> Option<Protocols> {
        if self.malformed_confirm {
            return None;
        }
        match self.confirm? {
            Confirm::Selected { protocol, .. } => Some(protocol),
            Confirm::Legacy => Some(Protocols::RDP),
            Confirm::Failure { .. } => None,
        }
    }
}

/// Per-direction counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SideStats {
    /// Payload bytes delivered in order.
    pub bytes: u64,
    /// Bytes the capture missed (gaps in the sequence space).
    pub gap_bytes: u64,
    /// When the first payload byte was seen.
    pub first_data_at: Option<Timestamp>,
    /// When the last payload byte was seen.
    pub last_data_at: Option<Timestamp>,
    /// When this side sent its FIN.
    pub fin_at: Option<Timestamp>,
    /// When this side sent its RST.
    pub rst_at: Option<Timestamp>,
    /// X.224 Data TPDUs (MCS PDUs) this side sent.
    pub x224_data_pdus: u64,
    /// Fast-path PDUs this side sent (session traffic).
    pub fastpath_pdus: u64,
    /// Payload bytes this side sent after the handshake milestone the analyzer tracks last
    /// (the Connection Confirm in this version).
    pub bytes_after_handshake: u64,
}

/// What the analyzer knows about the first bytes of a side that are not RDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignBytes {
    /// Which side sent them.
    pub side: Side,
    /// When.
    pub at: Timestamp,
    /// A short guess of what they are (`"TLS record"`, `"HTTP"`, `"SSH"`, ...).
    pub looks_like: &'static str,
    /// The first bytes, at most [`FOREIGN_PREFIX_LEN`].
    pub prefix: Vec<u8>,
}

/// How many bytes of a non-RDP stream are kept as evidence.
pub const FOREIGN_PREFIX_LEN: usize = 32;

/// Everything the analyzer learnt about one connection.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectionFacts {
    /// The first SYN.
    pub syn_at: Option<Timestamp>,
    /// How many SYNs the client sent (retransmissions included).
    pub syn_count: u32,
    /// The first SYN-ACK.
    pub syn_ack_at: Option<Timestamp>,
    /// Whether the TCP handshake was not seen (the capture picked the connection up
    /// mid-stream).
    pub mid_stream: bool,
    /// The X.224 negotiation; `None` when no Connection Request was seen.
    pub x224: Option<X224Facts>,
    /// The MCS and RDP connection sequence seen in clear; `None` when none was seen. Boxed:
    /// most connections today are TLS, whose MCS is out of sight, and the facts are over 600
    /// bytes that every live analyzer and every waiting record would otherwise carry.
    pub mcs: Option<Box<McsFacts>>,
    /// The first FIN or RST.
    pub close: Option<Close>,
    /// Per-side counters, indexed by [`Side::index`].
    pub sides: [SideStats; 2],
    /// The last connection-sequence message (Connection Request or Confirm in this version).
    pub last_handshake_at: Option<Timestamp>,
    /// Bytes that are not RDP where RDP was expected.
    pub foreign: Option<ForeignBytes>,
    /// The proxy tunnel the client asked for before RDP (SOCKS4/5, HTTP CONNECT); `None` when
    /// the connection starts with RDP itself.
    /// Boxed: rare, and a hundred bytes.
    pub tunnel: Option<Box<TunnelFacts>>,
    /// Parse problems, in order; bounded by [`MAX_ANOMALIES`].
    pub anomalies: Vec<String>,
    /// Anomalies not kept because of the bound.
    pub anomalies_dropped: u32,
    /// Contradictions in what the capture shows (a second Connection Confirm that differs from
    /// the first, a confirm selecting a protocol the client never requested, a malformed
    /// RDP_NEG_RSP): the verdict names them, because its evidence may be wrong. At most
    /// [`MAX_CAVEATS`]; each is also an anomaly.
    pub caveats: Vec<String>,
    /// The first and last packet times seen by the analyzer.
    pub first_at: Option<Timestamp>,
    /// See `first_at`.
    pub last_at: Option<Timestamp>,
    /// Static channels a client's MCS Connect Initial asked for in a copy that conflicted with
    /// the bytes kept ([`super::Analyzer::conflicting_copy`]); only the names findings look
    /// for (`MS_T120`), at most one each.
    pub conflicting_copy_channels: Vec<String>,
    /// What the capture showed of the connection beyond its bytes, when the caller's TCP layer
    /// told ([`crate::analyzer::Analyzer::coverage`]); `None` for a caller that did not.
    pub coverage: Option<Coverage>,
}

/// What the capture showed of a connection beyond its payload: the TCP layer's view, given to
/// the analyzer when the flow ends. The verdict needs it to tell "the server never answered"
/// from "the capture does not hold the server's packets" (issue 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Coverage {
    /// Packets per side ([`Side::index`]), pure ACKs included.
    pub packets: [u64; 2],
    /// Bytes of a side the capture never showed at all (no SYN, no data, no FIN from it) but
    /// the other side acknowledged: in a capture of one direction, what the absent side sent.
    pub acked_unseen: [u64; 2],
    /// The capture's clock when the flow ended: for a connection still open at the end of the
    /// capture, the time of the capture's last packet. Silence is evidence only for as long as
    /// the capture went on.
    pub observed_until: Timestamp,
}

impl Coverage {
    /// The side whose packets are all missing from the capture while the other side's show
    /// that it took part: the client sent more than SYNs (it had the SYN-ACK), or either side
    /// acknowledged bytes of the other. `None` when both directions are in the capture, or
    /// when the capture cannot tell (a client's lone SYNs).
    pub fn absent_side(&self, facts: &ConnectionFacts) -> Option<Side> {
        let [client, server] = self.packets;
        if client > 0 && server == 0 {
            let spoke = self
                .acked_unseen
                .get(Side::Server.index())
                .is_some_and(|n| *n > 0)
                || facts.side(Side::Client).bytes > 0
                || facts.side(Side::Client).fin_at.is_some()
                || u64::from(facts.syn_count) < client;
            return spoke.then_some(Side::Server);
        }
        (server > 0 && client == 0).then_some(Side::Client)
    }
}

/// How many anomalies are kept per connection.
pub const MAX_ANOMALIES: usize = 16;

/// How many caveats are kept per connection (and per TLS tracker): a verdict names the first.
pub const MAX_CAVEATS: usize = 4;

impl ConnectionFacts {
    /// Counters for one side.
    pub fn side(&self, side: Side) -> &SideStats {
        match side {
            Side::Client => &self.sides[0],
            Side::Server => &self.sides[1],
        }
    }

    pub(crate) fn side_mut(&mut self, side: Side) -> &mut SideStats {
        match side {
            Side::Client => &mut self.sides[0],
            Side::Server => &mut self.sides[1],
        }
    }

    pub(crate) fn anomaly(&mut self, text: String) {
        if self.anomalies.len() < MAX_ANOMALIES {
            // Parse errors may quote what they could not parse.
            self.anomalies
                .push(crate::printable::printable_string(text));
        } else {
            self.anomalies_dropped.bump();
        }
    }

    /// Records a contradiction the verdict must name (see [`ConnectionFacts::caveats`]); it is
    /// an anomaly too.
    pub(crate) fn caveat(&mut self, text: String) {
        let text = crate::printable::printable_string(text);
        if self.caveats.len() < MAX_CAVEATS {
            self.caveats.push(text.clone());
        }
        self.anomaly(text);
    }

    /// Standard RDP Security in use: the negotiation chose PROTOCOL_RDP (or was legacy) and the
    /// server's security data chose an encryption method and level.
    pub fn standard_security(&self) -> Option<StandardSecurity> {
        let protocol = self.x224.as_ref().and_then(X224Facts::effective_protocol);
        if protocol.is_some_and(|p| p.uses_tls()) {
            return None;
        }
        let server = self.mcs.as_ref()?.server.as_ref()?;
        Some(StandardSecurity {
            encryption_method: server.encryption_method?,
            encryption_level: server.encryption_level?,
        })
    }

    /// Whether a connection picked up mid-stream, without its X.224 negotiation, is RDP by its
    /// framing: both sides sent TPKT-framed X.224 Data TPDUs or fast-path PDUs, back to back,
    /// at least [`super::MID_STREAM_MIN_FRAMES`] in all (one frame may be chance; frames whose
    /// lengths chain on both sides are not).
    pub fn rdp_framed_mid_stream(&self) -> bool {
        let frames = |s: &SideStats| s.x224_data_pdus.saturating_add(s.fastpath_pdus);
        let (client, server) = (
            frames(self.side(Side::Client)),
            frames(self.side(Side::Server)),
        );
        self.mid_stream
            && client > 0
            && server > 0
            && client.saturating_add(server) >= super::MID_STREAM_MIN_FRAMES
    }

    /// Milliseconds from the last handshake message to `at`.
    pub fn ms_after_last_handshake(&self, at: Timestamp) -> Option<f64> {
        self.last_handshake_at.map(|h| at.millis_since(h))
    }
}

/// An MCS Disconnect Provider Ultimatum (T.125 11.15): one side ending the MCS domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McsDisconnect {
    /// Who sent it.
    pub from: Side,
    /// The reason (`rn-user-requested`, ...).
    pub reason: crate::mcs::DisconnectReason,
    /// When.
    pub at: Timestamp,
    /// Whether it came in clear text where TLS records were expected.
    pub in_clear_inside_tls: bool,
}

/// A licensing error message (MS-RDPBCGR 2.2.1.12.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenseError {
    /// dwErrorCode (`STATUS_VALID_CLIENT` means licensing succeeded).
    pub error_code: crate::rdp::LicenseErrorCode,
    /// dwStateTransition.
    pub state_transition: crate::rdp::StateTransition,
    /// When.
    pub at: Timestamp,
}

/// The MCS and RDP connection sequence as seen in clear text (MS-RDPBCGR 1.3.1.1 phases 2 to
/// 9): with Standard RDP Security, or in a decrypted recording.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct McsFacts {
    /// The MCS Connect Initial.
    pub connect_initial_at: Option<Timestamp>,
    /// The MCS Connect Response.
    pub connect_response_at: Option<Timestamp>,
    /// The client's settings from its GCC data blocks.
    pub client: Option<crate::gcc::ClientSettings>,
    /// The server's settings from its GCC data blocks.
    pub server: Option<crate::gcc::ServerSettings>,
    /// The Connect Response result.
    pub result: Option<crate::mcs::McsResult>,
    /// Whether the client sent an Erect Domain Request.
    pub erect_domain: bool,
    /// Attach User Confirms with result rt-successful.
    pub users_attached: u32,
    /// Channel Join Requests.
    pub channel_join_requests: u32,
    /// Channel Join Confirms with result rt-successful.
    pub channels_joined: u32,
    /// The first Disconnect Provider Ultimatum.
    pub disconnect: Option<McsDisconnect>,
    /// The Security Exchange PDU (Standard RDP Security).
    pub security_exchange_at: Option<Timestamp>,
    /// The Client Info PDU.
    pub client_info_at: Option<Timestamp>,
    /// Whether the Client Info PDU was encrypted.
    pub client_info_encrypted: bool,
    /// The user name from a clear-text Client Info PDU (never the password).
    pub user_name: Option<String>,
    /// The domain from a clear-text Client Info PDU.
    pub domain: Option<String>,
    /// Licensing PDUs seen.
    pub license_pdus: u32,
    /// The last licensing error message.
    pub license_error: Option<LicenseError>,
    /// The server's Demand Active PDU (capabilities exchange: the session is starting).
    pub demand_active_at: Option<Timestamp>,
    /// The client's Confirm Active PDU.
    pub confirm_active_at: Option<Timestamp>,
    /// A Set Error Info PDU: why the server is about to disconnect.
    pub error_info: Option<crate::rdp::ErrorInfo>,
    /// Encrypted Send Data PDUs after the Client Info (session traffic), per side.
    pub encrypted_pdus: [u64; 2],
    /// The last connection-sequence PDU.
    pub last_sequence_at: Option<Timestamp>,
}

/// Standard RDP Security in use (MS-RDPBCGR 5.3): the server's choice of encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardSecurity {
    /// ENCRYPTION_METHOD_*.
    pub encryption_method: crate::names::EncryptionMethods,
    /// ENCRYPTION_LEVEL_*.
    pub encryption_level: crate::names::EncryptionLevel,
}

/// Which proxy protocol carried the connection (the `via.kind` of the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    /// SOCKS4 or SOCKS4a.
    Socks4,
    /// SOCKS5 (RFC 1928).
    Socks5,
    /// HTTP CONNECT (RFC 9110 9.3.6).
    HttpConnect,
    /// HTTPS, possibly to an RD Gateway (MS-TSGU): the client started TLS without an X.224
    /// Connection Request, on port 443 or offering an HTTP ALPN protocol. The RDP it carries is
    /// inside the gateway's HTTPS, encrypted: nothing of it is claimed.
    RdGateway,
}

impl TunnelKind {
    /// `"socks4"`, `"socks5"` or `"http-connect"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TunnelKind::Socks4 => "socks4",
            TunnelKind::Socks5 => "socks5",
            TunnelKind::HttpConnect => "http-connect",
            TunnelKind::RdGateway => "rd-gateway",
        }
    }
}

/// A proxy tunnel in front of the RDP connection: what the client asked the proxy for, and
/// what the proxy answered. The password of a SOCKS5 username/password exchange is never
/// kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelFacts {
    /// The proxy protocol.
    pub kind: TunnelKind,
    /// The target as the client named it (`10.0.0.1:3389`, `[::1]:3389`, `host.example:3389`),
    /// through [`crate::printable`]; `None` until the request was seen.
    pub target: Option<String>,
    /// The target port, when the request named one.
    pub target_port: Option<u16>,
    /// The client authenticated to the proxy with a user name and password (RFC 1929).
    pub username_password: bool,
    /// When the client's tunnel request was seen.
    pub requested_at: Option<Timestamp>,
    /// The proxy's final answer; `None` when it is not in the capture.
    pub answer: Option<TunnelAnswer>,
    /// For [`TunnelKind::RdGateway`], what suggests a gateway (`port 443`, `ALPN http/1.1`);
    /// `None` for a proxy, whose preamble says what it is.
    pub basis: Option<&'static str>,
}

/// The proxy's answer to a tunnel request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelAnswer {
    /// When.
    pub at: Timestamp,
    /// Whether the tunnel was opened.
    pub granted: bool,
    /// The proxy's words for a refusal (`SOCKS5 reply connection refused`, `HTTP 403
    /// Forbidden`), through [`crate::printable`]; `None` when granted.
    pub refused: Option<String>,
    /// The proxy said the target refused its connection (SOCKS5 REP 0x05): the target's
    /// answer to the proxy's SYN was a reset.
    pub connection_refused: bool,
}
