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
pub use settings::{CertificateSummary, ChannelSummary, ClientSettings, ServerSettings};

use crate::per::PerReader as Per;
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
fn connect_data<'a>(input: &'a [u8], anomalies: &mut Vec<&'static str>) -> Result<Per<'a>, Error> {
    let mut p = Per::new(input, "t124 connect data");
    let key_choice = p.u8()?;
    if key_choice != 0 {
        anomalies.push("t124 key is not an object identifier");
    }
    let oid_len = p.u8()?;
    let oid = p.take(usize::from(oid_len))?;
    if oid != T124_OID {
        anomalies.push("t124 identifier is not 0.0.20.124.0.1");
    }
    let declared = p.length()?;
    // Windows and xrdp write a fixed connectPDU length in the Conference Create Response
    // (0x2a in the MS-RDPBCGR 4.1.4 example) that is shorter than the data; only a length
    // promising more than is there is a deviation worth reporting.
    if declared > p.input.len() {
        anomalies.push("t124 connectPDU length is larger than the data");
    }
    p.what = "gcc conference create pdu";
    Ok(p)
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
    let mut p = Per::new(input.get(pos..).unwrap_or_default(), "gcc user data");
    let key = p.take(4)?;
    user_data(p, key, anomalies)
}

/// The PER-length-prefixed user data after the key. A length past the end is tolerated:
/// the rest of the input is taken and an anomaly recorded.
fn user_data<'a>(
    mut p: Per<'a>,
    key: &'a [u8],
    anomalies: &mut Vec<&'static str>,
) -> Result<(&'a [u8], &'a [u8]), Error> {
    let len = p.length()?;
    if len > p.input.len() {
        anomalies.push("gcc user data length exceeds the data");
        return Ok((key, p.input));
    }
    let data = p.take(len)?;
    if !p.input.is_empty() {
        anomalies.push("bytes after gcc user data");
    }
    Ok((key, data))
}

/// The key and user data of the usual ConferenceCreateRequest layout, after the CHOICE octet.
fn create_request_fields<'a>(p: &mut Per<'a>) -> Result<(&'a [u8], Per<'a>), Error> {
    let options = p.u8()?;
    if options & 0x08 == 0 {
        return Err(Error::UnexpectedValue {
            what: "gcc conference create request options",
            value: u32::from(options),
        });
    }
    // conferenceName: NumericString (SIZE (1..255)), length - 1 then 4-bit digits.
    let digits = usize::from(p.u8()?).saturating_add(1);
    p.take(digits.div_ceil(2))?;
    // lockedConference/listedConference/conductibleConference/terminationMethod bits.
    p.u8()?;
    // userData: SET OF with one element.
    let sets = p.u8()?;
    if sets != 1 {
        return Err(Error::UnexpectedValue {
            what: "gcc user data set count",
            value: u32::from(sets),
        });
    }
    h221_key(p)
}

/// `value present` + `h221NonStandard` CHOICE octet, then the key (OCTET STRING (SIZE
/// (4..255)), length - 4).
fn h221_key<'a>(p: &mut Per<'a>) -> Result<(&'a [u8], Per<'a>), Error> {
    let choice = p.u8()?;
    if choice != 0xc0 {
        return Err(Error::UnexpectedValue {
            what: "gcc user data choice",
            value: u32::from(choice),
        });
    }
    let key_len = usize::from(p.u8()?).saturating_add(4);
    let key = p.take(key_len)?;
    if key != KEY_CLIENT && key != KEY_SERVER {
        return Err(Error::UnexpectedValue {
            what: "gcc h221 non-standard key",
            value: 0,
        });
    }
    Ok((key, Per::new(p.input, "gcc user data")))
}

/// Parses the T.124 ConnectData + ConferenceCreateRequest in an MCS Connect-Initial's userData
/// and returns the client data blocks.
///
/// Errors only when no user data can be found at all; everything else is an anomaly.
pub fn parse_conference_create_request(input: &[u8]) -> Result<ConferenceCreateRequest<'_>, Error> {
    let mut anomalies = Vec::new();
    let mut p = connect_data(input, &mut anomalies)?;
    let body = p.input;
    let choice = p.u8()?;
    let structured = if choice == 0x00 {
        create_request_fields(&mut p).ok()
    } else {
        None
    };
    let (key, user_data) = match structured {
        Some((key, rest)) => user_data(rest, key, &mut anomalies)?,
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

/// The usual ConferenceCreateResponse layout after the CHOICE octet.
type ResponseFields<'a> = (u16, u32, GccResult, &'a [u8], Per<'a>);

fn create_response_fields<'a>(p: &mut Per<'a>) -> Result<ResponseFields<'a>, Error> {
    let hi = p.u8()?;
    let lo = p.u8()?;
    let raw = u16::from_be_bytes([hi, lo]);
    let node_id = raw.checked_add(1001).ok_or(Error::UnexpectedValue {
        what: "gcc node id",
        value: u32::from(raw),
    })?;
    let tag_len = usize::from(p.u8()?);
    if tag_len == 0 || tag_len > 4 {
        return Err(Error::InvalidLength {
            what: "gcc tag",
            length: tag_len,
        });
    }
    let tag = p
        .take(tag_len)?
        .iter()
        .fold(0u32, |acc, b| acc.wrapping_shl(8) | u32::from(*b));
    let result = GccResult(p.u8()?);
    let sets = p.u8()?;
    if sets != 1 {
        return Err(Error::UnexpectedValue {
            what: "gcc user data set count",
            value: u32::from(sets),
        });
    }
    let (key, rest) = h221_key(p)?;
    Ok((node_id, tag, result, key, rest))
}

/// Parses the T.124 ConnectData + ConferenceCreateResponse in an MCS Connect-Response's
/// userData and returns the server data blocks.
///
/// Errors only when no user data can be found at all; everything else is an anomaly.
pub fn parse_conference_create_response(
    input: &[u8],
) -> Result<ConferenceCreateResponse<'_>, Error> {
    let mut anomalies = Vec::new();
    let mut p = connect_data(input, &mut anomalies)?;
    let body = p.input;
    let choice = p.u8()?;
    let structured = if choice == 0x14 {
        create_response_fields(&mut p).ok()
    } else {
        None
    };
    let out = match structured {
        Some((node_id, tag, result, key, rest)) => {
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

impl<'a> Iterator for DataBlocks<'a> {
    type Item = Result<DataBlock<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.input.is_empty() {
            return None;
        }
        let item = (|| {
            let (header, rest) = self.input.split_at_checked(4).ok_or(Error::Truncated {
                what: "gcc data block header",
            })?;
            let (t, l) = header.split_at(2);
            let block_type = u16::from_le_bytes(t.try_into().map_err(|_| Error::Truncated {
                what: "gcc data block header",
            })?);
            let length = u16::from_le_bytes(l.try_into().map_err(|_| Error::Truncated {
                what: "gcc data block header",
            })?);
            let length = usize::from(length);
            let body_len = length.checked_sub(4).ok_or(Error::InvalidLength {
                what: "gcc data block",
                length,
            })?;
            let (body, rest) = rest
                .split_at_checked(body_len)
                .ok_or(Error::InvalidLength {
                    what: "gcc data block",
                    length,
                })?;
            self.input = rest;
            Ok(DataBlock { block_type, body })
        })();
        if item.is_err() {
            self.failed = true;
        }
        Some(item)
    }
}

/// Little-endian field reader over one data block body, with optional trailing fields.
struct Le<'a> {
    input: &'a [u8],
    what: &'static str,
}

impl<'a> Le<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let (head, rest) = self
            .input
            .split_at_checked(n)
            .ok_or(Error::Truncated { what: self.what })?;
        self.input = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        self.take(N)?
            .try_into()
            .map_err(|_| Error::Truncated { what: self.what })
    }

    fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// `Some` when `n` more bytes are present; `None` at the end. A partial field is recorded
    /// as an anomaly and ends the optional fields.
    fn optional(&mut self, n: usize, anomalies: &mut Vec<&'static str>) -> Option<&'a [u8]> {
        if self.input.is_empty() {
            return None;
        }
        match self.take(n) {
            Ok(b) => Some(b),
            Err(_) => {
                anomalies.push("partial optional field at the end of a data block");
                self.input = &[];
                None
            }
        }
    }
}

/// A UTF-16LE string in a fixed-size field, cut at the first NUL, through the printable filter
/// (unpaired surrogates become U+FFFD).
pub(crate) fn utf16_fixed(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
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
