//! T.124 Generic Conference Control as carried in the MCS Connect PDUs' userData, and the RDP
//! data blocks inside it (MS-RDPBCGR 2.2.1.3 and 2.2.1.4).
//!
//! - [`parse_conference_create_request`] / [`parse_conference_create_response`] unwrap the
//!   T.124 `ConnectData` (object key 0.0.20.124.0.1) and `ConnectGCCPDU` (PER) down to the
//!   H.221 non-standard user data keyed `Duca` (client) or `McDn` (server). Real peers deviate
//!   here (Windows and xrdp send a fixed, wrong connectPDU length of 42), so mismatches are
//!   recorded as anomalies, not errors.
//! - [`parse_client_data`] / [`parse_server_data`] walk the concatenated data blocks
//!   (`type` u16 LE, `length` u16 LE including the 4-byte header, checked).
//! - [`ClientSettings`] / [`ServerSettings`] are owned summaries for reports.

mod client;
mod server;
mod settings;

pub use client::{
    parse_client_data, ClientClusterData, ClientCoreData, ClientData, ClientMessageChannelData,
    ClientMonitorData, ClientMonitorExtendedData, ClientMultitransportData, ClientNetworkData,
    ClientSecurityData, ClusterFlags, ConnectionType, EarlyCapabilityFlags, MonitorAttributes,
    MonitorDef, StaticChannel, SupportedColorDepths,
};
pub use server::{
    parse_server_certificate, parse_server_data, CertChainVersion, CertificateBody,
    ProprietaryCertificate, RsaPublicKey, ServerCertificate, ServerCoreData, ServerData,
    ServerEarlyCapabilityFlags, ServerMessageChannelData, ServerMultitransportData,
    ServerNetworkData, ServerSecurityData,
};
pub use settings::{ChannelSummary, ClientSettings, ServerCertificateSummary, ServerSettings};

use nom::bytes::complete::take;
use nom::number::complete::{be_u16, le_u16, u8 as byte};
use nom::Parser;

use crate::parse::{be_uint, bounded, fail, PResult};
use crate::per;
use crate::values::open_enum;
use crate::Error;

/// The T.124 object identifier 0.0.20.124.0.1 (`t124Identifier` of ConnectData), PER-encoded.
const T124_OID: [u8; 5] = [0x00, 0x14, 0x7c, 0x00, 0x01];
/// H.221 non-standard key of the client's user data.
const KEY_CLIENT: &[u8; 4] = b"Duca";
/// H.221 non-standard key of the server's user data.
const KEY_SERVER: &[u8; 4] = b"McDn";

open_enum! {
    /// T.124 ConferenceCreateResponse `result`.
    pub struct GccResult(u8) {
        /// success.
        SUCCESS = 0 => "success",
        /// userRejected.
        USER_REJECTED = 1 => "userRejected",
        /// resourcesNotAvailable.
        RESOURCES_NOT_AVAILABLE = 2 => "resourcesNotAvailable",
        /// rejectedForSymmetryBreaking.
        REJECTED_FOR_SYMMETRY_BREAKING = 3 => "rejectedForSymmetryBreaking",
        /// lockedConferenceNotSupported.
        LOCKED_CONFERENCE_NOT_SUPPORTED = 4 => "lockedConferenceNotSupported",
    }
}

/// T.124 Conference Create Request (MS-RDPBCGR 2.2.1.3.1 `gccCCrq`).
///
/// Invariant: `user_data` lies inside the input; it is the concatenated client data blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceCreateRequest<'a> {
    /// The H.221 non-standard key (`Duca` from conforming clients).
    pub key: &'a [u8],
    /// The client data blocks.
    pub user_data: &'a [u8],
    /// Deviations that were tolerated.
    pub anomalies: Vec<&'static str>,
}

/// T.124 Conference Create Response (MS-RDPBCGR 2.2.1.4.1 `gccCCrsp`).
///
/// Invariant: `user_data` lies inside the input; it is the concatenated server data blocks.
/// `node_id`, `tag` and `result` are `None` when the layout was not the usual one and the
/// user data was found by its key instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceCreateResponse<'a> {
    /// nodeID (UserID, offset 1001).
    pub node_id: Option<u16>,
    /// tag.
    pub tag: Option<u32>,
    /// result.
    pub result: Option<GccResult>,
    /// The H.221 non-standard key (`McDn` from conforming servers).
    pub key: &'a [u8],
    /// The server data blocks.
    pub user_data: &'a [u8],
    /// Deviations that were tolerated.
    pub anomalies: Vec<&'static str>,
}

/// Reads the `ConnectData` header: t124Identifier and connectPDU length. Returns the bytes of
/// the ConnectGCCPDU (everything after the length, whatever the length says).
fn connect_data<'a>(input: &'a [u8], anomalies: &mut Vec<&'static str>) -> Result<&'a [u8], Error> {
    let header = |i: &'a [u8]| -> PResult<'a, (u8, &'a [u8], usize)> {
        let (i, key_choice) = byte(i)?;
        let (i, oid_len) = byte(i)?;
        let (i, oid) = take(oid_len)(i)?;
        let (i, declared) = per::length(i)?;
        Ok((i, (key_choice, oid, declared)))
    };
    let (rest, (key_choice, oid, declared)) = bounded("t124 connect data", input, header)?;
    if key_choice != 0 {
        anomalies.push("t124 key is not an object identifier");
    }
    if oid != T124_OID {
        anomalies.push("t124 identifier is not 0.0.20.124.0.1");
    }
    // Windows and xrdp write a fixed connectPDU length in the Conference Create Response
    // (0x2a in the MS-RDPBCGR 4.1.4 example) that is shorter than the data; only a length
    // promising more than is there is a deviation worth reporting.
    if declared > rest.len() {
        anomalies.push("t124 connectPDU length is larger than the data");
    }
    Ok(rest)
}

/// Finds the user data after a 4-byte H.221 key anywhere in `input`, for layouts the
/// structured reading does not understand.
fn user_data_by_key<'a>(
    input: &'a [u8],
    anomalies: &mut Vec<&'static str>,
) -> Result<(&'a [u8], &'a [u8]), Error> {
    let pos = input
        .windows(4)
        .position(|w| w == KEY_CLIENT || w == KEY_SERVER)
        .ok_or(Error::UnexpectedValue {
            what: "gcc h221 non-standard key",
            value: 0,
        })?;
    anomalies.push("unusual gcc conference create layout; user data found by its key");
    let (rest, (_, key)) = bounded("gcc user data", input, (take(pos), take(4usize)))?;
    user_data(rest, key, anomalies)
}

/// The PER-length-prefixed user data after the key. A length past the end is tolerated:
/// the rest of the input is taken and an anomaly recorded.
fn user_data<'a>(
    input: &'a [u8],
    key: &'a [u8],
    anomalies: &mut Vec<&'static str>,
) -> Result<(&'a [u8], &'a [u8]), Error> {
    let (rest, len) = bounded("gcc user data", input, per::length)?;
    if len > rest.len() {
        anomalies.push("gcc user data length exceeds the data");
        return Ok((key, rest));
    }
    let (rest, data) = bounded("gcc user data", rest, take(len))?;
    if !rest.is_empty() {
        anomalies.push("bytes after gcc user data");
    }
    Ok((key, data))
}

/// The key of the usual ConferenceCreateRequest layout, after the CHOICE octet; the rest is
/// the PER-length-prefixed user data.
fn create_request_fields(i: &[u8]) -> PResult<'_, &[u8]> {
    let (i, options) = byte(i)?;
    if options & 0x08 == 0 {
        return fail(Error::UnexpectedValue {
            what: "gcc conference create request options",
            value: u32::from(options),
        });
    }
    // conferenceName: NumericString (SIZE (1..255)), length - 1 then 4-bit digits.
    let (i, digits) = byte(i)?;
    let (i, _) = take(usize::from(digits).saturating_add(1).div_ceil(2))(i)?;
    // lockedConference/listedConference/conductibleConference/terminationMethod bits.
    let (i, _) = byte(i)?;
    // userData: SET OF with one element.
    let (i, sets) = byte(i)?;
    if sets != 1 {
        return fail(Error::UnexpectedValue {
            what: "gcc user data set count",
            value: u32::from(sets),
        });
    }
    h221_key(i)
}

/// `value present` + `h221NonStandard` CHOICE octet, then the key (OCTET STRING (SIZE
/// (4..255)), length - 4).
fn h221_key(i: &[u8]) -> PResult<'_, &[u8]> {
    let (i, choice) = byte(i)?;
    if choice != 0xc0 {
        return fail(Error::UnexpectedValue {
            what: "gcc user data choice",
            value: u32::from(choice),
        });
    }
    let (i, key_len) = byte(i)?;
    let (i, key) = take(usize::from(key_len).saturating_add(4))(i)?;
    if key != KEY_CLIENT && key != KEY_SERVER {
        return fail(Error::UnexpectedValue {
            what: "gcc h221 non-standard key",
            value: 0,
        });
    }
    Ok((i, key))
}

/// Parses the T.124 ConnectData + ConferenceCreateRequest in an MCS Connect-Initial's userData
/// and returns the client data blocks.
///
/// Errors only when no user data can be found at all; everything else is an anomaly.
pub fn parse_conference_create_request(input: &[u8]) -> Result<ConferenceCreateRequest<'_>, Error> {
    let mut anomalies = Vec::new();
    let body = connect_data(input, &mut anomalies)?;
    let (fields, choice) = bounded("gcc conference create pdu", body, byte)?;
    let structured = if choice == 0x00 {
        create_request_fields(fields).ok()
    } else {
        None
    };
    let (key, user_data) = match structured {
        Some((rest, key)) => user_data(rest, key, &mut anomalies)?,
        None => user_data_by_key(body, &mut anomalies)?,
    };
    if key != KEY_CLIENT {
        anomalies.push("client user data key is not Duca");
    }
    Ok(ConferenceCreateRequest {
        key,
        user_data,
        anomalies,
    })
}

/// The usual ConferenceCreateResponse layout after the CHOICE octet: nodeID, tag, result and
/// the key; the rest is the PER-length-prefixed user data.
type ResponseFields<'a> = (u16, u32, GccResult, &'a [u8]);

fn create_response_fields(i: &[u8]) -> PResult<'_, ResponseFields<'_>> {
    let (i, raw) = be_u16(i)?;
    let Some(node_id) = raw.checked_add(1001) else {
        return fail(Error::UnexpectedValue {
            what: "gcc node id",
            value: u32::from(raw),
        });
    };
    let (i, tag_len) = byte(i)?;
    let tag_len = usize::from(tag_len);
    if tag_len == 0 || tag_len > 4 {
        return fail(Error::InvalidLength {
            what: "gcc tag",
            length: tag_len,
        });
    }
    let (i, (tag, result, sets)) = (take(tag_len), byte, byte).parse(i)?;
    if sets != 1 {
        return fail(Error::UnexpectedValue {
            what: "gcc user data set count",
            value: u32::from(sets),
        });
    }
    let (i, key) = h221_key(i)?;
    Ok((i, (node_id, be_uint(tag), GccResult(result), key)))
}

/// Parses the T.124 ConnectData + ConferenceCreateResponse in an MCS Connect-Response's
/// userData and returns the server data blocks.
///
/// Errors only when no user data can be found at all; everything else is an anomaly.
pub fn parse_conference_create_response(
    input: &[u8],
) -> Result<ConferenceCreateResponse<'_>, Error> {
    let mut anomalies = Vec::new();
    let body = connect_data(input, &mut anomalies)?;
    let (fields, choice) = bounded("gcc conference create pdu", body, byte)?;
    let structured = if choice == 0x14 {
        create_response_fields(fields).ok()
    } else {
        None
    };
    let out = match structured {
        Some((rest, (node_id, tag, result, key))) => {
            let (key, user_data) = user_data(rest, key, &mut anomalies)?;
            ConferenceCreateResponse {
                node_id: Some(node_id),
                tag: Some(tag),
                result: Some(result),
                key,
                user_data,
                anomalies: Vec::new(),
            }
        }
        None => {
            let (key, user_data) = user_data_by_key(body, &mut anomalies)?;
            ConferenceCreateResponse {
                node_id: None,
                tag: None,
                result: None,
                key,
                user_data,
                anomalies: Vec::new(),
            }
        }
    };
    if out.key != KEY_SERVER {
        anomalies.push("server user data key is not McDn");
    }
    Ok(ConferenceCreateResponse { anomalies, ..out })
}

/// One data block: MS-RDPBCGR 2.2.1.3.1 / 2.2.1.4.1 `TS_UD_HEADER` and its body.
///
/// Invariant: `body.len() == length - 4` of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataBlock<'a> {
    /// The header `type`.
    pub block_type: u16,
    /// The bytes after the 4-byte header.
    pub body: &'a [u8],
}

/// Iterator over concatenated data blocks; stops after the first error.
#[derive(Debug, Clone)]
pub struct DataBlocks<'a> {
    input: &'a [u8],
    failed: bool,
}

/// Iterates over the data blocks in `input`. A block whose `length` is below 4 or runs past
/// the end is an [`Error::InvalidLength`]; fewer than 4 bytes left is [`Error::Truncated`].
pub fn data_blocks(input: &[u8]) -> DataBlocks<'_> {
    DataBlocks {
        input,
        failed: false,
    }
}

/// One `TS_UD_HEADER` and its body; a `length` below 4 or past the end is an impossible length.
fn data_block(i: &[u8]) -> PResult<'_, DataBlock<'_>> {
    let (i, (block_type, length)) = (le_u16, le_u16).parse(i)?;
    let length = usize::from(length);
    match length.checked_sub(4) {
        Some(n) if n <= i.len() => {
            let (i, body) = take(n)(i)?;
            Ok((i, DataBlock { block_type, body }))
        }
        _ => fail(Error::InvalidLength {
            what: "gcc data block",
            length,
        }),
    }
}

impl<'a> Iterator for DataBlocks<'a> {
    type Item = Result<DataBlock<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.input.is_empty() {
            return None;
        }
        match bounded("gcc data block header", self.input, data_block) {
            Ok((rest, block)) => {
                self.input = rest;
                Some(Ok(block))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// An optional field at the end of a data block (MS-RDPBCGR 2.2.1.3.2: each exists only if
/// every earlier one does): `None` at the end of the block. A partial field is recorded as an
/// anomaly and ends the optional fields (the rest of the block is consumed).
fn optional<'a, O, P>(
    input: &'a [u8],
    mut field: P,
    anomalies: &mut Vec<&'static str>,
) -> (&'a [u8], Option<O>)
where
    P: Parser<&'a [u8], Output = O, Error = Error>,
{
    if input.is_empty() {
        return (input, None);
    }
    match field.parse(input) {
        Ok((rest, value)) => (rest, Some(value)),
        Err(_) => {
            anomalies.push("partial optional field at the end of a data block");
            (&[], None)
        }
    }
}

/// A UTF-16LE string in a fixed-size field, cut at the first NUL, through the printable filter
/// (unpaired surrogates become U+FFFD).
pub(crate) fn utf16_fixed(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .filter_map(|c| c.first_chunk::<2>())
        .map(|pair| u16::from_le_bytes(*pair))
        .take_while(|u| *u != 0);
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    crate::printable::printable_string(text)
}

/// An 8-bit string in a fixed-size field (channel names), cut at the first NUL, through the
/// printable filter (bytes that are not UTF-8 as `\\xNN`).
pub(crate) fn ansi_fixed(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    crate::printable::printable_bytes(bytes.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests;
