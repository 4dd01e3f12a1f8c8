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
}

impl X224Facts {
    /// The selected protocol: from RDP_NEG_RSP, or `PROTOCOL_RDP` for a legacy confirm.
    pub fn effective_protocol(&self) -> Option<Protocols> {
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
    /// The MCS and RDP connection sequence seen in clear; `None` when none was seen.
    pub mcs: Option<McsFacts>,
    /// The first FIN or RST.
    pub close: Option<Close>,
    /// Per-side counters, indexed by [`Side::index`].
    pub sides: [SideStats; 2],
    /// The last connection-sequence message (Connection Request or Confirm in this version).
    pub last_handshake_at: Option<Timestamp>,
    /// Bytes that are not RDP where RDP was expected.
    pub foreign: Option<ForeignBytes>,
    /// Parse problems, in order; bounded by [`MAX_ANOMALIES`].
    pub anomalies: Vec<String>,
    /// Anomalies not kept because of the bound.
    pub anomalies_dropped: u32,
    /// The first and last packet times seen by the analyzer.
    pub first_at: Option<Timestamp>,
    /// See `first_at`.
    pub last_at: Option<Timestamp>,
    /// Static channels a client's MCS Connect Initial asked for in a copy that conflicted with
    /// the bytes kept ([`super::Analyzer::conflicting_copy`]); only the names findings look
    /// for (`MS_T120`), at most one each.
    pub conflicting_copy_channels: Vec<String>,
}

/// How many anomalies are kept per connection.
pub const MAX_ANOMALIES: usize = 16;

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
