//! MCS Connect-Initial and Connect-Response (T.125 section 7, part 2; BER-encoded, MS-RDPBCGR
//! 2.2.1.3 and 2.2.1.4).

use super::ber;
use crate::parse::{bounded, exact, need, PResult};
use crate::values::open_enum;
use crate::Error;

/// BER identifier of Connect-Initial: `[APPLICATION 101]`, constructed, high tag number form.
const TAG_CONNECT_INITIAL: u8 = 101;
/// BER identifier of Connect-Response: `[APPLICATION 102]`.
const TAG_CONNECT_RESPONSE: u8 = 102;

open_enum! {
    /// The MCS `Result` ENUMERATED (T.125 section 7, part 1), used by Connect-Response,
    /// Attach User Confirm and Channel Join Confirm.
    pub struct McsResult(u8) {
        /// rt-successful.
        SUCCESSFUL = 0 => "rt-successful",
        /// rt-domain-merging.
        DOMAIN_MERGING = 1 => "rt-domain-merging",
        /// rt-domain-not-hierarchical.
        DOMAIN_NOT_HIERARCHICAL = 2 => "rt-domain-not-hierarchical",
        /// rt-no-such-channel.
        NO_SUCH_CHANNEL = 3 => "rt-no-such-channel",
        /// rt-no-such-domain.
        NO_SUCH_DOMAIN = 4 => "rt-no-such-domain",
        /// rt-no-such-user.
        NO_SUCH_USER = 5 => "rt-no-such-user",
        /// rt-not-admitted.
        NOT_ADMITTED = 6 => "rt-not-admitted",
        /// rt-other-user-id.
        OTHER_USER_ID = 7 => "rt-other-user-id",
        /// rt-parameters-unacceptable.
        PARAMETERS_UNACCEPTABLE = 8 => "rt-parameters-unacceptable",
        /// rt-token-not-available.
        TOKEN_NOT_AVAILABLE = 9 => "rt-token-not-available",
        /// rt-token-not-possessed.
        TOKEN_NOT_POSSESSED = 10 => "rt-token-not-possessed",
        /// rt-too-many-channels.
        TOO_MANY_CHANNELS = 11 => "rt-too-many-channels",
        /// rt-too-many-tokens.
        TOO_MANY_TOKENS = 12 => "rt-too-many-tokens",
        /// rt-too-many-users.
        TOO_MANY_USERS = 13 => "rt-too-many-users",
        /// rt-unspecified-failure.
        UNSPECIFIED_FAILURE = 14 => "rt-unspecified-failure",
        /// rt-user-rejected.
        USER_REJECTED = 15 => "rt-user-rejected",
    }
}

/// T.125 `DomainParameters`: a SEQUENCE of eight INTEGERs negotiated in the Connect PDUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DomainParameters {
    /// maxChannelIds.
    pub max_channel_ids: u32,
    /// maxUserIds.
    pub max_user_ids: u32,
    /// maxTokenIds.
    pub max_token_ids: u32,
    /// numPriorities.
    pub num_priorities: u32,
    /// minThroughput.
    pub min_throughput: u32,
    /// maxHeight.
    pub max_height: u32,
    /// maxMCSPDUsize.
    pub max_mcspdu_size: u32,
    /// protocolVersion (2 for RDP).
    pub protocol_version: u32,
}

/// MCS Connect-Initial (T.125 7 part 2; MS-RDPBCGR 2.2.1.3), sent by the client.
///
/// Invariants: the outer `[APPLICATION 101]` length was checked against the input and every
/// inner TLV against the outer body; `user_data` is the GCC Conference Create Request
/// (see [`crate::gcc::parse_conference_create_request`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectInitial<'a> {
    /// callingDomainSelector.
    pub calling_domain_selector: &'a [u8],
    /// calledDomainSelector.
    pub called_domain_selector: &'a [u8],
    /// upwardFlag.
    pub upward_flag: bool,
    /// targetParameters.
    pub target_parameters: DomainParameters,
    /// minimumParameters.
    pub minimum_parameters: DomainParameters,
    /// maximumParameters.
    pub maximum_parameters: DomainParameters,
    /// userData: the T.124 GCC Conference Create Request.
    pub user_data: &'a [u8],
    /// Deviations from the encoding that were tolerated.
    pub anomalies: Vec<&'static str>,
}

/// MCS Connect-Response (T.125 7 part 2; MS-RDPBCGR 2.2.1.4), sent by the server.
///
/// Invariants: as for [`ConnectInitial`]; `user_data` is the GCC Conference Create Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectResponse<'a> {
    /// result.
    pub result: McsResult,
    /// calledConnectId.
    pub called_connect_id: u32,
    /// domainParameters.
    pub domain_parameters: DomainParameters,
    /// userData: the T.124 GCC Conference Create Response.
    pub user_data: &'a [u8],
    /// Deviations from the encoding that were tolerated.
    pub anomalies: Vec<&'static str>,
}

/// Either MCS Connect PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectPdu<'a> {
    /// Connect-Initial (client to server).
    Initial(ConnectInitial<'a>),
    /// Connect-Response (server to client).
    Response(ConnectResponse<'a>),
}

/// The application tag number (101 or 102) and total length (identifier + length + body) of
/// the MCS Connect PDU at the start of `input`.
///
/// This is the outer frame probe: a short header is [`Error::Incomplete`] (the body need not be
/// present yet). Any first octet other than 0x7f, or a tag other than 101..=102, is
/// [`Error::UnexpectedValue`].
pub fn connect_pdu_len(input: &[u8]) -> Result<(u8, usize), Error> {
    probe(input).map(|(tag, _, total)| (tag, total))
}

/// Tag, header length and total length of the Connect PDU at the start of `input`.
fn probe(input: &[u8]) -> Result<(u8, usize, usize), Error> {
    let first = *input.first().ok_or_else(|| need(input, 3))?;
    if first != 0x7f {
        return Err(Error::UnexpectedValue {
            what: "mcs connect pdu identifier",
            value: u32::from(first),
        });
    }
    let tag = *input.get(1).ok_or_else(|| need(input, 3))?;
    if tag != TAG_CONNECT_INITIAL && tag != TAG_CONNECT_RESPONSE {
        return Err(Error::UnexpectedValue {
            what: "mcs connect pdu tag",
            value: u32::from(tag),
        });
    }
    let len_first = *input.get(2).ok_or_else(|| need(input, 3))?;
    let header = if len_first < 0x80 {
        3usize
    } else {
        let count = len_first & 0x7f;
        if count == 0 || count > 4 {
            return Err(Error::InvalidLength {
                what: "mcs connect pdu length octets",
                length: usize::from(count),
            });
        }
        3usize.saturating_add(usize::from(count))
    };
    if input.len() < header {
        return Err(need(input, header));
    }
    // INVARIANT: the whole length field is present (input.len() >= header).
    let length_field = input.get(2..header).unwrap_or_default();
    let body_len = exact("mcs connect pdu length", length_field, ber::length)?;
    let total = header.checked_add(body_len).ok_or(Error::InvalidLength {
        what: "mcs connect pdu",
        length: body_len,
    })?;
    Ok((tag, header, total))
}

/// Splits a whole Connect PDU into its tag and body, noting bytes after the declared end.
fn frame<'a>(input: &'a [u8], anomalies: &mut Vec<&'static str>) -> Result<(u8, &'a [u8]), Error> {
    let (tag, header, total) = probe(input)?;
    if input.len() < total {
        return Err(need(input, total));
    }
    if input.len() > total {
        anomalies.push("bytes after the mcs connect pdu");
    }
    // INVARIANT: header <= total <= input.len().
    let body = input.get(header..total).ok_or(Error::Truncated {
        what: "mcs connect pdu",
    })?;
    Ok((tag, body))
}

fn domain_parameters<'a>(
    input: &'a [u8],
    anomalies: &mut Vec<&'static str>,
) -> PResult<'a, DomainParameters> {
    let (rest, seq) = ber::tlv(input, 0x30, "mcs domain parameters")?;
    let (seq, max_channel_ids) = ber::integer(seq)?;
    let (seq, max_user_ids) = ber::integer(seq)?;
    let (seq, max_token_ids) = ber::integer(seq)?;
    let (seq, num_priorities) = ber::integer(seq)?;
    let (seq, min_throughput) = ber::integer(seq)?;
    let (seq, max_height) = ber::integer(seq)?;
    let (seq, max_mcspdu_size) = ber::integer(seq)?;
    let (seq, protocol_version) = ber::integer(seq)?;
    if !seq.is_empty() {
        anomalies.push("extra elements in mcs domain parameters");
    }
    Ok((
        rest,
        DomainParameters {
            max_channel_ids,
            max_user_ids,
            max_token_ids,
            num_priorities,
            min_throughput,
            max_height,
            max_mcspdu_size,
            protocol_version,
        },
    ))
}

/// Parses an MCS Connect-Initial from the bytes inside an X.224 Data TPDU.
///
/// A short frame is [`Error::Incomplete`]; a short field inside the declared body is
/// [`Error::Truncated`]; an inner length past the body is [`Error::InvalidLength`].
pub fn parse_connect_initial(input: &[u8]) -> Result<ConnectInitial<'_>, Error> {
    let mut anomalies = Vec::new();
    let (tag, body) = frame(input, &mut anomalies)?;
    if tag != TAG_CONNECT_INITIAL {
        return Err(Error::UnexpectedValue {
            what: "mcs connect-initial tag",
            value: u32::from(tag),
        });
    }
    let (rest, mut pdu) = bounded("mcs connect-initial", body, |i| {
        connect_initial_body(i, &mut anomalies)
    })?;
    if !rest.is_empty() {
        anomalies.push("bytes after connect-initial userData");
    }
    pdu.anomalies = anomalies;
    Ok(pdu)
}

fn connect_initial_body<'a>(
    input: &'a [u8],
    anomalies: &mut Vec<&'static str>,
) -> PResult<'a, ConnectInitial<'a>> {
    let (input, calling_domain_selector) = ber::octet_string(input)?;
    let (input, called_domain_selector) = ber::octet_string(input)?;
    let (input, upward_flag) = ber::boolean(input)?;
    let (input, target_parameters) = domain_parameters(input, anomalies)?;
    let (input, minimum_parameters) = domain_parameters(input, anomalies)?;
    let (input, maximum_parameters) = domain_parameters(input, anomalies)?;
    let (input, user_data) = ber::octet_string(input)?;
    Ok((
        input,
        ConnectInitial {
            calling_domain_selector,
            called_domain_selector,
            upward_flag,
            target_parameters,
            minimum_parameters,
            maximum_parameters,
            user_data,
            anomalies: Vec::new(),
        },
    ))
}

/// Parses an MCS Connect-Response from the bytes inside an X.224 Data TPDU.
///
/// Errors as for [`parse_connect_initial`]. A result value above 255 is refused as
/// [`Error::UnexpectedValue`] (the ENUMERATED has 16 values).
pub fn parse_connect_response(input: &[u8]) -> Result<ConnectResponse<'_>, Error> {
    let mut anomalies = Vec::new();
    let (tag, body) = frame(input, &mut anomalies)?;
    if tag != TAG_CONNECT_RESPONSE {
        return Err(Error::UnexpectedValue {
            what: "mcs connect-response tag",
            value: u32::from(tag),
        });
    }
    let (rest, mut pdu) = bounded("mcs connect-response", body, |i| {
        connect_response_body(i, &mut anomalies)
    })?;
    if !rest.is_empty() {
        anomalies.push("bytes after connect-response userData");
    }
    pdu.anomalies = anomalies;
    Ok(pdu)
}

fn connect_response_body<'a>(
    input: &'a [u8],
    anomalies: &mut Vec<&'static str>,
) -> PResult<'a, ConnectResponse<'a>> {
    let (input, result) = ber::enumerated(input)?;
    let result = u8::try_from(result).map_err(|_| {
        nom::Err::Failure(Error::UnexpectedValue {
            what: "mcs connect-response result",
            value: result,
        })
    })?;
    let (input, called_connect_id) = ber::integer(input)?;
    let (input, domain_parameters) = domain_parameters(input, anomalies)?;
    let (input, user_data) = ber::octet_string(input)?;
    Ok((
        input,
        ConnectResponse {
            result: McsResult(result),
            called_connect_id,
            domain_parameters,
            user_data,
            anomalies: Vec::new(),
        },
    ))
}

/// Parses whichever MCS Connect PDU starts `input`.
pub fn parse_connect_pdu(input: &[u8]) -> Result<ConnectPdu<'_>, Error> {
    let (tag, _) = connect_pdu_len(input)?;
    if tag == TAG_CONNECT_INITIAL {
        parse_connect_initial(input).map(ConnectPdu::Initial)
    } else {
        parse_connect_response(input).map(ConnectPdu::Response)
    }
}
