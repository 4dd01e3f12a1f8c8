//! X.224 (ISO 8073 class 0) TPDUs and the RDP security negotiation they carry.
//!
//! RDP uses five TPDUs: Connection Request and Confirm open the connection and carry the
//! security negotiation (MS-RDPBCGR 2.2.1.1 and 2.2.1.2), Data carries every later PDU
//! (MS-RDPBCGR 2.2.1.3 onwards), Disconnect Request and Error end it.
//!
//! ```text
//! +----+------+-----------------------------+--------------+
//! | LI | code | fixed + variable header ... | user data ...|
//! +----+------+-----------------------------+--------------+
//!  LI = length of the header after the LI byte itself
//! ```
//!
//! Parsers take the TPKT payload ([`crate::tpkt::Tpkt::payload`]). They are liberal where real
//! peers deviate (routing tokens instead of cookies, no negotiation structure, bytes the spec does
//! not define): what is not understood is kept in an `unparsed` slice for the caller to report.

use nom::bytes::complete::{tag, take, take_until};
use nom::number::complete::{be_u16, le_u16, le_u32, u8 as byte};
use nom::sequence::terminated;
use nom::Parser;

use crate::parse::{bounded, fail, within, PResult};
use crate::values::{open_enum, open_flags};
use crate::Error;

open_enum! {
    /// The TPDU code: the high nibble of the byte after the length indicator (X.224 section 13).
    pub struct TpduCode(u8) {
        /// CR: Connection Request.
        CONNECTION_REQUEST = 0xE0 => "CONNECTION_REQUEST",
        /// CC: Connection Confirm.
        CONNECTION_CONFIRM = 0xD0 => "CONNECTION_CONFIRM",
        /// DR: Disconnect Request.
        DISCONNECT_REQUEST = 0x80 => "DISCONNECT_REQUEST",
        /// DT: Data.
        DATA = 0xF0 => "DATA",
        /// ER: TPDU Error.
        ERROR = 0x70 => "ERROR",
    }
}

open_flags! {
    /// Security protocols (MS-RDPBCGR 2.2.1.1.1 `requestedProtocols`, 2.2.1.2.1
    /// `selectedProtocol`). `PROTOCOL_RDP` is the value 0, i.e. no bit set.
    pub struct Protocols(u32) {
        /// PROTOCOL_SSL: TLS.
        SSL = 0x0000_0001 => "SSL",
        /// PROTOCOL_HYBRID: CredSSP (NLA) over TLS.
        HYBRID = 0x0000_0002 => "HYBRID",
        /// PROTOCOL_RDSTLS: RDSTLS (server redirection).
        RDSTLS = 0x0000_0004 => "RDSTLS",
        /// PROTOCOL_HYBRID_EX: CredSSP with the Early User Authorization Result PDU.
        HYBRID_EX = 0x0000_0008 => "HYBRID_EX",
        /// PROTOCOL_RDSAAD: RDS AAD authentication.
        RDSAAD = 0x0000_0010 => "RDSAAD",
    }
}

impl Protocols {
    /// PROTOCOL_RDP: Standard RDP Security, no bit set.
    pub const RDP: Protocols = Protocols(0);

    /// The protocol names as the reports print them: `["RDP"]` for `PROTOCOL_RDP`, else the
    /// named bits set, then unknown bits as `0x..`.
    pub fn protocol_names(self) -> Vec<String> {
        self.protocol_name_iter().map(|n| n.to_string()).collect()
    }

    /// [`Protocols::protocol_names`] without allocating.
    pub fn protocol_name_iter(self) -> impl Iterator<Item = crate::FlagName> + Clone {
        (self.0 == 0)
            .then_some(crate::FlagName::Named("RDP"))
            .into_iter()
            .chain(self.name_iter())
    }

    /// Whether the value selects a TLS-based protocol (the stream switches to TLS after the
    /// Connection Confirm): anything other than `PROTOCOL_RDP`.
    pub fn uses_tls(self) -> bool {
        self.0 != 0
    }

    /// Whether the value includes CredSSP (NLA): HYBRID or HYBRID_EX.
    pub fn uses_credssp(self) -> bool {
        self.0 & (Self::HYBRID.0 | Self::HYBRID_EX.0) != 0
    }
}

open_flags! {
    /// RDP_NEG_REQ flags (MS-RDPBCGR 2.2.1.1.1).
    pub struct NegRequestFlags(u8) {
        /// The client requires Restricted Admin mode.
        RESTRICTED_ADMIN_MODE_REQUIRED = 0x01 => "RESTRICTED_ADMIN_MODE_REQUIRED",
        /// The client requires Remote Credential Guard.
        REDIRECTED_AUTHENTICATION_MODE_REQUIRED = 0x02 => "REDIRECTED_AUTHENTICATION_MODE_REQUIRED",
        /// An RDP_CORRELATION_INFO structure follows.
        CORRELATION_INFO_PRESENT = 0x08 => "CORRELATION_INFO_PRESENT",
    }
}

open_flags! {
    /// RDP_NEG_RSP flags (MS-RDPBCGR 2.2.1.2.1).
    pub struct NegResponseFlags(u8) {
        /// The server supports Extended Client Data Blocks.
        EXTENDED_CLIENT_DATA_SUPPORTED = 0x01 => "EXTENDED_CLIENT_DATA_SUPPORTED",
        /// The server supports the Graphics Pipeline Extension.
        DYNVC_GFX_PROTOCOL_SUPPORTED = 0x02 => "DYNVC_GFX_PROTOCOL_SUPPORTED",
        /// Reserved; set by some servers.
        NEGRSP_FLAG_RESERVED = 0x04 => "NEGRSP_FLAG_RESERVED",
        /// The server supports Restricted Admin mode.
        RESTRICTED_ADMIN_MODE_SUPPORTED = 0x08 => "RESTRICTED_ADMIN_MODE_SUPPORTED",
        /// The server supports Remote Credential Guard.
        REDIRECTED_AUTHENTICATION_MODE_SUPPORTED = 0x10 => "REDIRECTED_AUTHENTICATION_MODE_SUPPORTED",
    }
}

open_enum! {
    /// RDP_NEG_FAILURE `failureCode` (MS-RDPBCGR 2.2.1.2.2).
    pub struct FailureCode(u32) {
        /// The server requires TLS (or CredSSP); the client asked for Standard RDP Security only.
        SSL_REQUIRED_BY_SERVER = 0x0000_0001 => "SSL_REQUIRED_BY_SERVER",
        /// The server only supports Standard RDP Security.
        SSL_NOT_ALLOWED_BY_SERVER = 0x0000_0002 => "SSL_NOT_ALLOWED_BY_SERVER",
        /// The server has no valid certificate for TLS.
        SSL_CERT_NOT_ON_SERVER = 0x0000_0003 => "SSL_CERT_NOT_ON_SERVER",
        /// The request's flags are inconsistent.
        INCONSISTENT_FLAGS = 0x0000_0004 => "INCONSISTENT_FLAGS",
        /// The server requires CredSSP (NLA).
        HYBRID_REQUIRED_BY_SERVER = 0x0000_0005 => "HYBRID_REQUIRED_BY_SERVER",
        /// The server requires TLS with user authentication (RDSTLS or CredSSP).
        SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER = 0x0000_0006 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
    }
}

/// `type` of RDP_NEG_REQ.
const TYPE_RDP_NEG_REQ: u8 = 0x01;
/// `type` of RDP_NEG_RSP.
const TYPE_RDP_NEG_RSP: u8 = 0x02;
/// `type` of RDP_NEG_FAILURE.
const TYPE_RDP_NEG_FAILURE: u8 = 0x03;
/// `type` of RDP_CORRELATION_INFO.
const TYPE_RDP_CORRELATION_INFO: u8 = 0x06;
/// Length of RDP_NEG_REQ, RDP_NEG_RSP and RDP_NEG_FAILURE.
const NEG_STRUCT_LEN: usize = 8;
/// Length of RDP_CORRELATION_INFO.
const CORRELATION_INFO_LEN: usize = 36;
/// The cookie prefix (MS-RDPBCGR 2.2.1.1).
const COOKIE_PREFIX: &[u8] = b"Cookie: mstshash=";
/// The end of the cookie or routing token line.
const CRLF: &[u8] = b"\r\n";

/// RDP_NEG_REQ (MS-RDPBCGR 2.2.1.1.1).
///
/// Invariant: the declared length was 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiationRequest {
    /// Request flags.
    pub flags: NegRequestFlags,
    /// The protocols the client supports.
    pub requested_protocols: Protocols,
}

/// RDP_CORRELATION_INFO (MS-RDPBCGR 2.2.1.1.2).
///
/// Invariant: the declared length was 36.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationInfo<'a> {
    /// Flags (unused, 0).
    pub flags: u8,
    /// The 16-byte correlation identifier.
    pub correlation_id: &'a [u8],
}

/// What precedes the negotiation request in a Connection Request (MS-RDPBCGR 2.2.1.1):
/// a CRLF-terminated line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestToken<'a> {
    /// `Cookie: mstshash=NAME\r\n`: the value NAME (usually the user name, at most 9 bytes
    /// from mstsc).
    Cookie(&'a [u8]),
    /// Any other CRLF-terminated line, e.g. a load-balancer routing token
    /// (`Cookie: msts=...`) or a `tsv://` URL; the line without its CRLF.
    RoutingToken(&'a [u8]),
}

/// X.224 Connection Request TPDU with the RDP variable part (MS-RDPBCGR 2.2.1.1).
///
/// Invariant: the fixed part (DST-REF, SRC-REF, class option) was present; every optional
/// structure was length-checked. A legacy request has neither token nor negotiation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionRequest<'a> {
    /// DST-REF (0 from every RDP client).
    pub dst_ref: u16,
    /// SRC-REF.
    pub src_ref: u16,
    /// Class and options (0: class 0).
    pub class_option: u8,
    /// The cookie or routing token, when present.
    pub token: Option<RequestToken<'a>>,
    /// RDP_NEG_REQ, when present.
    pub negotiation: Option<NegotiationRequest>,
    /// RDP_CORRELATION_INFO, when present.
    pub correlation_info: Option<CorrelationInfo<'a>>,
    /// Bytes of the variable part this parser did not recognise.
    pub unparsed: &'a [u8],
    /// User data after the TPDU header (empty from conforming clients).
    pub user_data: &'a [u8],
}

/// RDP_NEG_RSP (MS-RDPBCGR 2.2.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiationResponse {
    /// Response flags.
    pub flags: NegResponseFlags,
    /// The protocol the server selected.
    pub selected_protocol: Protocols,
}

/// RDP_NEG_FAILURE (MS-RDPBCGR 2.2.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiationFailure {
    /// Flags (unused, 0).
    pub flags: u8,
    /// Why the server refused the request.
    pub failure_code: FailureCode,
}

/// The negotiation structure of a Connection Confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiationResult {
    /// RDP_NEG_RSP: the server selected a protocol.
    Response(NegotiationResponse),
    /// RDP_NEG_FAILURE: the server refused.
    Failure(NegotiationFailure),
}

/// X.224 Connection Confirm TPDU with the RDP variable part (MS-RDPBCGR 2.2.1.2).
///
/// Invariant: the fixed part was present. A legacy confirm (answer to a request without
/// RDP_NEG_REQ, or from a server that predates negotiation) has no negotiation structure and
/// means Standard RDP Security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionConfirm<'a> {
    /// DST-REF.
    pub dst_ref: u16,
    /// SRC-REF.
    pub src_ref: u16,
    /// Class and options.
    pub class_option: u8,
    /// RDP_NEG_RSP or RDP_NEG_FAILURE, when present.
    pub negotiation: Option<NegotiationResult>,
    /// Bytes of the variable part this parser did not recognise.
    pub unparsed: &'a [u8],
    /// User data after the TPDU header.
    pub user_data: &'a [u8],
}

/// X.224 Disconnect Request TPDU (X.224 section 13.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisconnectRequest<'a> {
    /// DST-REF.
    pub dst_ref: u16,
    /// SRC-REF.
    pub src_ref: u16,
    /// Reason code.
    pub reason: u8,
    /// Variable part and user data.
    pub rest: &'a [u8],
}

/// X.224 Data TPDU (X.224 section 13.7, class 0): the carrier of every PDU after the
/// connection confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data<'a> {
    /// EOT: the last TPDU of a TSDU (always set by RDP peers).
    pub eot: bool,
    /// The carried PDU (MCS, in RDP).
    pub user_data: &'a [u8],
}

/// X.224 TPDU Error (X.224 section 13.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorTpdu<'a> {
    /// DST-REF.
    pub dst_ref: u16,
    /// Reject cause.
    pub cause: u8,
    /// Parameters (usually the rejected TPDU header).
    pub rest: &'a [u8],
}

/// Any X.224 TPDU as RDP peers send them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tpdu<'a> {
    /// Connection Request.
    ConnectionRequest(ConnectionRequest<'a>),
    /// Connection Confirm.
    ConnectionConfirm(ConnectionConfirm<'a>),
    /// Disconnect Request.
    DisconnectRequest(DisconnectRequest<'a>),
    /// Data.
    Data(Data<'a>),
    /// TPDU Error.
    Error(ErrorTpdu<'a>),
    /// A TPDU code RDP does not use; kept as evidence.
    Other {
        /// The code.
        code: TpduCode,
        /// Header bytes after the code.
        header: &'a [u8],
        /// User data.
        user_data: &'a [u8],
    },
}

/// Splits a TPDU into its code, the header after the code, and the user data, checking the
/// length indicator (LI) against the bytes present.
fn split_tpdu(input: &[u8]) -> Result<(TpduCode, &[u8], &[u8]), Error> {
    let (user_data, header) = bounded("x224 tpdu", input, tpdu_header)?;
    // INVARIANT: tpdu_header refused LI 0, so the code octet is there.
    let (header, code) = bounded("x224 tpdu", header, byte)?;
    Ok((TpduCode(code & 0xF0), header, user_data))
}

/// The length indicator and the `LI` header octets after it (X.224 section 13.2.1); an LI of
/// 0 or past the end is an impossible length.
fn tpdu_header(i: &[u8]) -> PResult<'_, &[u8]> {
    let (i, li) = byte(i)?;
    let li = usize::from(li);
    if li == 0 {
        return fail(Error::InvalidLength {
            what: "x224 length indicator",
            length: li,
        });
    }
    within("x224 length indicator", li)(i)
}

/// Parses the X.224 TPDU carried in one TPKT payload.
pub fn parse_tpdu(input: &[u8]) -> Result<Tpdu<'_>, Error> {
    let (code, header, user_data) = split_tpdu(input)?;
    Ok(match code {
        TpduCode::CONNECTION_REQUEST => {
            Tpdu::ConnectionRequest(parse_connection_request_parts(header, user_data)?)
        }
        TpduCode::CONNECTION_CONFIRM => {
            Tpdu::ConnectionConfirm(parse_connection_confirm_parts(header, user_data)?)
        }
        TpduCode::DISCONNECT_REQUEST => {
            let (rest, (dst_ref, src_ref, reason)) =
                bounded("x224 disconnect request", header, (be_u16, be_u16, byte))?;
            Tpdu::DisconnectRequest(DisconnectRequest {
                dst_ref,
                src_ref,
                reason,
                rest,
            })
        }
        TpduCode::DATA => {
            let (_, eot) = bounded("x224 data", header, byte)?;
            Tpdu::Data(Data {
                eot: eot & 0x80 != 0,
                user_data,
            })
        }
        TpduCode::ERROR => {
            let (rest, (dst_ref, cause)) = bounded("x224 error", header, (be_u16, byte))?;
            Tpdu::Error(ErrorTpdu {
                dst_ref,
                cause,
                rest,
            })
        }
        other => Tpdu::Other {
            code: other,
            header,
            user_data,
        },
    })
}

/// Parses a TPKT payload that must be a Connection Request.
pub fn parse_connection_request(input: &[u8]) -> Result<ConnectionRequest<'_>, Error> {
    let (code, header, user_data) = split_tpdu(input)?;
    if code != TpduCode::CONNECTION_REQUEST {
        return Err(Error::UnexpectedValue {
            what: "x224 tpdu code",
            value: u32::from(code.0),
        });
    }
    parse_connection_request_parts(header, user_data)
}

/// Parses a TPKT payload that must be a Connection Confirm.
pub fn parse_connection_confirm(input: &[u8]) -> Result<ConnectionConfirm<'_>, Error> {
    let (code, header, user_data) = split_tpdu(input)?;
    if code != TpduCode::CONNECTION_CONFIRM {
        return Err(Error::UnexpectedValue {
            what: "x224 tpdu code",
            value: u32::from(code.0),
        });
    }
    parse_connection_confirm_parts(header, user_data)
}

/// Whether a stream starts like an RDP client: a TPKT header followed by an X.224 Connection
/// Request. Reads at most six bytes; a cheap content test for finding RDP on any port.
pub fn looks_like_connection_request(stream: &[u8]) -> bool {
    matches!(
        (stream.first(), stream.get(1), stream.get(5)),
        (Some(3), Some(0), Some(code)) if code & 0xF0 == TpduCode::CONNECTION_REQUEST.0
    ) && crate::tpkt::frame_len(stream).is_ok_and(|len| len >= 11)
}

/// Who sent a stream's first bytes, when they tell: the orientation of a connection picked up
/// mid-stream, by who sends which PDU rather than by port numbers. Reads at most eight bytes.
///
/// - TPKT + X.224: a Connection Request comes from the client, a Connection Confirm from the
///   server (X.224 section 13.3, 13.4; MS-RDPBCGR 2.2.1.1, 2.2.1.2).
/// - TPKT + X.224 Data + MCS: Connect-Initial (BER `7f 65`) from the client, Connect-Response
///   (`7f 66`) from the server (T.125 section 11.1, 11.2); of the domain PDUs (the PER choice in
///   the first byte's six high bits, T.125 section 7), Erect Domain, Attach User, Channel Join
///   and Send Data *Request* come from the client, Attach User and Channel Join *Confirm* and
///   Send Data *Indication* from the server (MS-RDPBCGR 2.2.1.5 to 2.2.1.9, 2.2.8.1.1.1.1).
/// - A TLS handshake record (RFC 8446 section 4): ClientHello and ClientKeyExchange from the
///   client; ServerHello, Certificate, ServerKeyExchange and ServerHelloDone from the server
///   (an RDP client sends no certificate).
///
/// - A segment made of whole fast-path PDUs: by their headers
///   ([`crate::fastpath::sender_of_segment`]).
///
/// `None` for anything else (TLS application data, a Disconnect Provider Ultimatum, a
/// fast-path PDU cut by the segment's end): then the caller falls back to ports.
pub fn sender_by_content(stream: &[u8]) -> Option<crate::Side> {
    use crate::Side::{Client, Server};
    match stream {
        [3, 0, _, _, _, code, ..] if crate::tpkt::frame_len(stream).is_ok_and(|l| l >= 11) => {
            match code & 0xF0 {
                0xE0 => Some(Client),
                0xD0 => Some(Server),
                0xF0 => mcs_sender(stream.get(7..).unwrap_or_default()),
                _ => None,
            }
        }
        [3, 0, _, _, 0x02, 0xF0, 0x80, ..] => mcs_sender(stream.get(7..).unwrap_or_default()),
        [0x16, 3, _, _, _, msg, ..] => match msg {
            1 | 16 => Some(Client),
            2 | 11 | 12 | 14 => Some(Server),
            _ => None,
        },
        [3, ..] | [0x14..=0x17, 3, ..] => None,
        _ => crate::fastpath::sender_of_segment(stream),
    }
}

/// The sender of an MCS PDU by its first bytes (see [`sender_by_content`]).
fn mcs_sender(mcs: &[u8]) -> Option<crate::Side> {
    use crate::Side::{Client, Server};
    match mcs {
        [0x7f, 0x65, ..] => Some(Client),
        [0x7f, 0x66, ..] => Some(Server),
        // erectDomainRequest 1, attachUserRequest 10, channelJoinRequest 14,
        // sendDataRequest 25.
        [b, ..] if matches!(b >> 2, 1 | 10 | 14 | 25) => Some(Client),
        // attachUserConfirm 11, channelJoinConfirm 15, sendDataIndication 26.
        [b, ..] if matches!(b >> 2, 11 | 15 | 26) => Some(Server),
        _ => None,
    }
}

/// `type`, `flags` and `length` of a negotiation structure.
type StructHeader = (u8, u8, u16);

/// DST-REF, SRC-REF and class option: the fixed part of CR and CC TPDUs.
type FixedPart = (u16, u16, u8);

fn fixed_part<'a>(what: &'static str, header: &'a [u8]) -> Result<(&'a [u8], FixedPart), Error> {
    bounded(what, header, (be_u16, be_u16, byte))
}

fn parse_connection_request_parts<'a>(
    header: &'a [u8],
    user_data: &'a [u8],
) -> Result<ConnectionRequest<'a>, Error> {
    let (variable, (dst_ref, src_ref, class_option)) =
        fixed_part("x224 connection request", header)?;
    let (rest, token) = request_token(variable);
    let (rest, negotiation) = match neg_struct(rest, TYPE_RDP_NEG_REQ) {
        Some((rest, flags, value)) => (
            rest,
            Some(NegotiationRequest {
                flags: NegRequestFlags(flags),
                requested_protocols: Protocols(value),
            }),
        ),
        None => (rest, None),
    };
    let wants_correlation =
        negotiation.is_some_and(|n| n.flags.contains(NegRequestFlags::CORRELATION_INFO_PRESENT));
    let (unparsed, correlation_info) = match wants_correlation.then(|| correlation_info(rest)) {
        Some(Some((rest, info))) => (rest, Some(info)),
        _ => (rest, None),
    };
    Ok(ConnectionRequest {
        dst_ref,
        src_ref,
        class_option,
        token,
        negotiation,
        correlation_info,
        unparsed,
        user_data,
    })
}

fn parse_connection_confirm_parts<'a>(
    header: &'a [u8],
    user_data: &'a [u8],
) -> Result<ConnectionConfirm<'a>, Error> {
    let (variable, (dst_ref, src_ref, class_option)) =
        fixed_part("x224 connection confirm", header)?;
    let (unparsed, negotiation) =
        if let Some((rest, flags, value)) = neg_struct(variable, TYPE_RDP_NEG_RSP) {
            let response = NegotiationResponse {
                flags: NegResponseFlags(flags),
                selected_protocol: Protocols(value),
            };
            (rest, Some(NegotiationResult::Response(response)))
        } else if let Some((rest, flags, value)) = neg_struct(variable, TYPE_RDP_NEG_FAILURE) {
            let failure = NegotiationFailure {
                flags,
                failure_code: FailureCode(value),
            };
            (rest, Some(NegotiationResult::Failure(failure)))
        } else {
            (variable, None)
        };
    Ok(ConnectionConfirm {
        dst_ref,
        src_ref,
        class_option,
        negotiation,
        unparsed,
        user_data,
    })
}

/// Splits a CRLF-terminated cookie or routing token off the variable part.
///
/// A line is only taken when it does not start with a negotiation structure type byte and a
/// CRLF ends it; otherwise the bytes are left for the next step.
fn request_token(variable: &[u8]) -> (&[u8], Option<RequestToken<'_>>) {
    let starts_with_struct = matches!(
        variable.first(),
        Some(&TYPE_RDP_NEG_REQ | &TYPE_RDP_CORRELATION_INFO)
    );
    if variable.is_empty() || starts_with_struct {
        return (variable, None);
    }
    let line: PResult<'_, &[u8]> = terminated(take_until(CRLF), tag(CRLF)).parse(variable);
    let Ok((rest, line)) = line else {
        return (variable, None);
    };
    let token = match line.strip_prefix(COOKIE_PREFIX) {
        Some(name) => RequestToken::Cookie(name),
        None => RequestToken::RoutingToken(line),
    };
    (rest, Some(token))
}

/// Parses an 8-byte negotiation structure of the given type: `type`, `flags`, `length` (LE,
/// must be 8), then a 32-bit LE value. `None` when the bytes are not that structure.
fn neg_struct(input: &[u8], want_type: u8) -> Option<(&[u8], u8, u32)> {
    let parsed: PResult<'_, (u8, u8, u16, u32)> = (byte, byte, le_u16, le_u32).parse(input);
    match parsed {
        Ok((rest, (kind, flags, length, value)))
            if kind == want_type && usize::from(length) == NEG_STRUCT_LEN =>
        {
            Some((rest, flags, value))
        }
        _ => None,
    }
}

/// Parses RDP_CORRELATION_INFO; `None` when the bytes are not that structure.
fn correlation_info(input: &[u8]) -> Option<(&[u8], CorrelationInfo<'_>)> {
    // 16 reserved bytes follow the id.
    let parsed: PResult<'_, (StructHeader, &[u8], &[u8])> =
        ((byte, byte, le_u16), take(16usize), take(16usize)).parse(input);
    match parsed {
        Ok((rest, ((kind, flags, length), correlation_id, _reserved)))
            if kind == TYPE_RDP_CORRELATION_INFO && usize::from(length) == CORRELATION_INFO_LEN =>
        {
            Some((
                rest,
                CorrelationInfo {
                    flags,
                    correlation_id,
                },
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tpkt;

    /// `lab/tls-ok.pcap` frame 4: cookie alice, RDP_NEG_REQ SSL.
    const CR_TLS_OK: &[u8] = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x01\x00\x00\x00";
    /// `lab/tls-ok.pcap` frame 6: RDP_NEG_RSP selecting SSL, EXTENDED_CLIENT_DATA_SUPPORTED.
    const CC_TLS_OK: &[u8] =
        b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x01\x08\x00\x01\x00\x00\x00";
    /// `lab/nla-ok.pcap` frame 4: RDP_NEG_REQ SSL|HYBRID.
    const CR_NLA_OK: &[u8] = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x03\x00\x00\x00";
    /// `lab/nla-ok.pcap` frame 6: RDP_NEG_RSP selecting HYBRID, flags 0x03.
    const CC_NLA_OK: &[u8] =
        b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x00\x00\x00\x02\x03\x08\x00\x02\x00\x00\x00";
    /// `lab/neg-failure-hybrid-required.pcap` frame 6: RDP_NEG_FAILURE code 5.
    const CC_HYBRID_REQUIRED: &[u8] =
        b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x00\x00\x00\x03\x00\x08\x00\x05\x00\x00\x00";
    /// `lab/rdp-standard-security-fips.pcap` frame 4: legacy request, cookie only.
    const CR_LEGACY: &[u8] =
        b"\x03\x00\x00\x23\x1e\xe0\x00\x00\x00\x00\x00Cookie: mstshash=carol\r\n";
    /// `lab/rdp-standard-security-fips.pcap` frame 6: legacy confirm, no RDP_NEG_RSP.
    const CC_LEGACY: &[u8] = b"\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00";

    /// Who sent what, mid-stream: the PDUs of each side tell it whatever the ports.
    #[test]
    fn the_sender_is_told_by_the_pdu() {
        use crate::Side::{Client, Server};
        for (bytes, side) in [
            (CR_TLS_OK, Some(Client)),
            (CR_LEGACY, Some(Client)),
            (CC_TLS_OK, Some(Server)),
            (CC_LEGACY, Some(Server)),
            // MCS Connect-Initial and Connect-Response heads (T.125 11.1, 11.2).
            (
                &b"\x03\x00\x01\xa0\x02\xf0\x80\x7f\x65\x82\x01\x94"[..],
                Some(Client),
            ),
            (
                &b"\x03\x00\x00\x6d\x02\xf0\x80\x7f\x66\x63"[..],
                Some(Server),
            ),
            // Erect Domain Request, Attach User Request and Confirm (MS-RDPBCGR 2.2.1.5-2.2.1.7).
            (
                &b"\x03\x00\x00\x0c\x02\xf0\x80\x04\x01\x00\x01\x00"[..],
                Some(Client),
            ),
            (&b"\x03\x00\x00\x08\x02\xf0\x80\x28"[..], Some(Client)),
            (
                &b"\x03\x00\x00\x0b\x02\xf0\x80\x2e\x00\x00\x07"[..],
                Some(Server),
            ),
            // Send Data Request and Indication heads.
            (
                &b"\x03\x00\x00\x20\x02\xf0\x80\x64\x00\x07\x03\xeb"[..],
                Some(Client),
            ),
            (
                &b"\x03\x00\x00\x20\x02\xf0\x80\x68\x00\x01\x03\xeb"[..],
                Some(Server),
            ),
            // TLS ClientHello and ServerHello record heads.
            (&b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc"[..], Some(Client)),
            (&b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76"[..], Some(Server)),
            // Application data, a cut fast-path PDU, a Disconnect Provider Ultimatum: no telling.
            (&b"\x17\x03\x03\x00\x20"[..], None),
            (&b"\x00\x0a\x01\x02\x03\x04\x05\x06\x07\x08\x09"[..], None),
            (&b"\x03\x00\x00\x09\x02\xf0\x80\x21\x80"[..], None),
            (&CR_TLS_OK[..5], None),
        ] {
            assert_eq!(sender_by_content(bytes), side, "{bytes:02x?}");
        }
    }
    /// `lab/neg-failure-ssl-required.pcap` frame 9: MCS Disconnect Provider Ultimatum in a
    /// Data TPDU.
    const DT_DPUM: &[u8] = b"\x03\x00\x00\x09\x02\xf0\x80\x21\x80";

    fn payload(frame: &[u8]) -> &[u8] {
        tpkt::parse_frame(frame).unwrap().0.payload
    }

    #[test]
    fn connection_request_with_cookie_and_negotiation() {
        let cr = parse_connection_request(payload(CR_TLS_OK)).unwrap();
        assert_eq!(cr.token, Some(RequestToken::Cookie(b"alice")));
        let neg = cr.negotiation.unwrap();
        assert_eq!(neg.requested_protocols, Protocols::SSL);
        assert_eq!(neg.requested_protocols.protocol_names(), ["SSL"]);
        assert!(neg.flags.names().is_empty());
        assert!(cr.unparsed.is_empty() && cr.user_data.is_empty());
        assert!(looks_like_connection_request(CR_TLS_OK));

        let cr = parse_connection_request(payload(CR_NLA_OK)).unwrap();
        assert_eq!(
            cr.negotiation.unwrap().requested_protocols.protocol_names(),
            ["SSL", "HYBRID"]
        );
    }

    #[test]
    fn connection_confirm_response_and_failure() {
        let cc = parse_connection_confirm(payload(CC_TLS_OK)).unwrap();
        let Some(NegotiationResult::Response(rsp)) = cc.negotiation else {
            panic!()
        };
        assert_eq!(rsp.selected_protocol, Protocols::SSL);
        assert_eq!(rsp.flags.names(), ["EXTENDED_CLIENT_DATA_SUPPORTED"]);
        let cc = parse_connection_confirm(payload(CC_NLA_OK)).unwrap();
        let Some(NegotiationResult::Response(rsp)) = cc.negotiation else {
            panic!()
        };
        assert!(rsp.selected_protocol.uses_credssp());
        assert_eq!(
            rsp.flags.names(),
            [
                "EXTENDED_CLIENT_DATA_SUPPORTED",
                "DYNVC_GFX_PROTOCOL_SUPPORTED"
            ]
        );

        let cc = parse_connection_confirm(payload(CC_HYBRID_REQUIRED)).unwrap();
        let Some(NegotiationResult::Failure(f)) = cc.negotiation else {
            panic!()
        };
        assert_eq!(f.failure_code, FailureCode::HYBRID_REQUIRED_BY_SERVER);
        assert_eq!(f.failure_code.to_string(), "HYBRID_REQUIRED_BY_SERVER");
        assert_eq!(FailureCode(0x77).to_string(), "0x00000077");
    }

    #[test]
    fn legacy_request_and_confirm() {
        let cr = parse_connection_request(payload(CR_LEGACY)).unwrap();
        assert_eq!(cr.token, Some(RequestToken::Cookie(b"carol")));
        assert_eq!(cr.negotiation, None);
        let cc = parse_connection_confirm(payload(CC_LEGACY)).unwrap();
        assert_eq!(cc.negotiation, None);
        assert!(cc.unparsed.is_empty());
    }

    #[test]
    fn data_tpdu() {
        let Tpdu::Data(dt) = parse_tpdu(payload(DT_DPUM)).unwrap() else {
            panic!()
        };
        assert!(dt.eot);
        assert_eq!(dt.user_data, b"\x21\x80");
    }

    #[test]
    fn routing_token_and_correlation_info() {
        let mut body = vec![0u8, 0xe0, 0, 0, 0, 0, 0];
        body.extend_from_slice(b"Cookie: msts=3640205228.15629.0000\r\n");
        body.extend_from_slice(&[1, 0x08, 8, 0, 0x0b, 0, 0, 0]);
        body.extend_from_slice(&[6, 0, 36, 0]);
        body.extend_from_slice(&[0xaa; 16]);
        body.extend_from_slice(&[0; 16]);
        body[0] = u8::try_from(body.len() - 1).unwrap();
        let cr = parse_connection_request(&body).unwrap();
        assert_eq!(
            cr.token,
            Some(RequestToken::RoutingToken(
                b"Cookie: msts=3640205228.15629.0000"
            ))
        );
        let neg = cr.negotiation.unwrap();
        assert_eq!(
            neg.requested_protocols.protocol_names(),
            ["SSL", "HYBRID", "HYBRID_EX"]
        );
        assert_eq!(cr.correlation_info.unwrap().correlation_id, &[0xaa; 16]);
        assert!(cr.unparsed.is_empty());
    }

    #[test]
    fn unknown_protocol_bits_survive() {
        assert_eq!(Protocols(0x21).protocol_names(), ["SSL", "0x20"]);
        assert_eq!(Protocols::RDP.protocol_names(), ["RDP"]);
        // The iterator, the joined form and Display say the same.
        let names: Vec<_> = Protocols(0x8000_0021).protocol_name_iter().collect();
        assert_eq!(
            names,
            [
                crate::FlagName::Named("SSL"),
                crate::FlagName::Unknown(0x20),
                crate::FlagName::Unknown(0x8000_0000)
            ]
        );
        let joined = crate::Joined(Protocols(0x8000_0021).protocol_name_iter()).to_string();
        assert_eq!(joined, "SSL|0x20|0x80000000");
        assert_eq!(Protocols(0x8000_0021).to_string(), joined);
        assert_eq!(
            crate::Joined(Protocols::RDP.protocol_name_iter()).to_string(),
            "RDP"
        );
        // Display of a flag word shows no bit as 0 (the protocol list says RDP).
        assert_eq!(Protocols::RDP.to_string(), "0");
        assert_eq!(NegRequestFlags(0).names(), Vec::<String>::new());
    }

    #[test]
    fn garbage_variable_part_is_kept_not_fatal() {
        let body = [9u8, 0xe0, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe];
        let cr = parse_connection_request(&body).unwrap();
        assert_eq!(cr.unparsed, &[0xde, 0xad, 0xbe]);
        assert_eq!(cr.token, None);
    }

    #[test]
    fn truncated_and_impossible_lengths() {
        // LI larger than the bytes present.
        assert!(matches!(
            parse_tpdu(&[0x26, 0xe0, 0, 0]),
            Err(Error::InvalidLength {
                what: "x224 length indicator",
                length: 0x26
            })
        ));
        // LI zero.
        assert!(matches!(parse_tpdu(&[0]), Err(Error::InvalidLength { .. })));
        // Fixed part cut short inside a correct LI.
        assert_eq!(
            parse_tpdu(&[3, 0xe0, 0, 0]),
            Err(Error::Truncated {
                what: "x224 connection request"
            })
        );
        assert_eq!(parse_tpdu(&[]), Err(Error::Truncated { what: "x224 tpdu" }));
        // A confirm is not a request.
        assert!(parse_connection_request(payload(CC_TLS_OK)).is_err());
    }

    #[test]
    fn content_probe() {
        assert!(!looks_like_connection_request(CC_TLS_OK));
        assert!(!looks_like_connection_request(b"GET / HTTP/1.1\r\n"));
        assert!(!looks_like_connection_request(b"\x16\x03\x01\x01\x36"));
        assert!(!looks_like_connection_request(&CR_TLS_OK[..5]));
    }

    proptest::proptest! {
        #[test]
        fn random_tpdus_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
            let _ = parse_tpdu(&data);
            let _ = looks_like_connection_request(&data);
        }

        #[test]
        fn mutated_requests_never_panic(pos in 0usize..43, val in proptest::num::u8::ANY) {
            let mut frame = CR_TLS_OK.to_vec();
            frame[pos] = val;
            if let Ok((tpkt, _)) = tpkt::parse_frame(&frame) {
                let _ = parse_tpdu(tpkt.payload);
            }
        }
    }
}
