//! MCS domain PDUs (T.125 section 7, parts 3 to 10): the `DomainMCSPDU` CHOICE in ALIGNED
//! PER (X.691), as RDP uses them after the Connect PDUs (MS-RDPBCGR 2.2.1.5 to 2.2.1.9 and
//! 2.2.8.1.1.1.1 for Send Data).
//!
//! The first octet holds the 6-bit CHOICE index in its high bits; the low two bits begin the
//! alternative (an OPTIONAL bitmap or an enumerated value). There is no length in front of a
//! domain PDU: the X.224 Data TPDU around it is the frame, so a short PDU is
//! [`Error::Truncated`], never incomplete.

use nom::number::complete::{be_u16, u8 as byte};

use crate::parse::{bounded, exact, fail, within, PResult};
use crate::per;
use crate::values::open_enum;
use crate::Error;

use super::McsResult;

/// Channel and user ids are PER-encoded as an offset from 1001 (T.125 `UserId ::=
/// DynamicChannelId (1001..65535)`).
const USER_ID_BASE: u16 = 1001;

open_enum! {
    /// The `DomainMCSPDU` CHOICE index (T.125 section 7, part 10).
    pub struct DomainMcsPduType(u8) {
        /// plumbDomainIndication.
        PLUMB_DOMAIN_INDICATION = 0 => "plumbDomainIndication",
        /// erectDomainRequest.
        ERECT_DOMAIN_REQUEST = 1 => "erectDomainRequest",
        /// mergeChannelsRequest.
        MERGE_CHANNELS_REQUEST = 2 => "mergeChannelsRequest",
        /// mergeChannelsConfirm.
        MERGE_CHANNELS_CONFIRM = 3 => "mergeChannelsConfirm",
        /// purgeChannelsIndication.
        PURGE_CHANNELS_INDICATION = 4 => "purgeChannelsIndication",
        /// mergeTokensRequest.
        MERGE_TOKENS_REQUEST = 5 => "mergeTokensRequest",
        /// mergeTokensConfirm.
        MERGE_TOKENS_CONFIRM = 6 => "mergeTokensConfirm",
        /// purgeTokensIndication.
        PURGE_TOKENS_INDICATION = 7 => "purgeTokensIndication",
        /// disconnectProviderUltimatum.
        DISCONNECT_PROVIDER_ULTIMATUM = 8 => "disconnectProviderUltimatum",
        /// rejectMCSPDUUltimatum.
        REJECT_MCSPDU_ULTIMATUM = 9 => "rejectMCSPDUUltimatum",
        /// attachUserRequest.
        ATTACH_USER_REQUEST = 10 => "attachUserRequest",
        /// attachUserConfirm.
        ATTACH_USER_CONFIRM = 11 => "attachUserConfirm",
        /// detachUserRequest.
        DETACH_USER_REQUEST = 12 => "detachUserRequest",
        /// detachUserIndication.
        DETACH_USER_INDICATION = 13 => "detachUserIndication",
        /// channelJoinRequest.
        CHANNEL_JOIN_REQUEST = 14 => "channelJoinRequest",
        /// channelJoinConfirm.
        CHANNEL_JOIN_CONFIRM = 15 => "channelJoinConfirm",
        /// channelLeaveRequest.
        CHANNEL_LEAVE_REQUEST = 16 => "channelLeaveRequest",
        /// channelConveneRequest.
        CHANNEL_CONVENE_REQUEST = 17 => "channelConveneRequest",
        /// channelConveneConfirm.
        CHANNEL_CONVENE_CONFIRM = 18 => "channelConveneConfirm",
        /// channelDisbandRequest.
        CHANNEL_DISBAND_REQUEST = 19 => "channelDisbandRequest",
        /// channelDisbandIndication.
        CHANNEL_DISBAND_INDICATION = 20 => "channelDisbandIndication",
        /// channelAdmitRequest.
        CHANNEL_ADMIT_REQUEST = 21 => "channelAdmitRequest",
        /// channelAdmitIndication.
        CHANNEL_ADMIT_INDICATION = 22 => "channelAdmitIndication",
        /// channelExpelRequest.
        CHANNEL_EXPEL_REQUEST = 23 => "channelExpelRequest",
        /// channelExpelIndication.
        CHANNEL_EXPEL_INDICATION = 24 => "channelExpelIndication",
        /// sendDataRequest.
        SEND_DATA_REQUEST = 25 => "sendDataRequest",
        /// sendDataIndication.
        SEND_DATA_INDICATION = 26 => "sendDataIndication",
        /// uniformSendDataRequest.
        UNIFORM_SEND_DATA_REQUEST = 27 => "uniformSendDataRequest",
        /// uniformSendDataIndication.
        UNIFORM_SEND_DATA_INDICATION = 28 => "uniformSendDataIndication",
    }
}

open_enum! {
    /// The MCS `Reason` ENUMERATED of Disconnect Provider Ultimatum (T.125 section 7, part 1).
    pub struct DisconnectReason(u8) {
        /// rn-domain-disconnected.
        DOMAIN_DISCONNECTED = 0 => "rn-domain-disconnected",
        /// rn-provider-initiated.
        PROVIDER_INITIATED = 1 => "rn-provider-initiated",
        /// rn-token-purged.
        TOKEN_PURGED = 2 => "rn-token-purged",
        /// rn-user-requested.
        USER_REQUESTED = 3 => "rn-user-requested",
        /// rn-channel-purged.
        CHANNEL_PURGED = 4 => "rn-channel-purged",
    }
}

open_enum! {
    /// MCS `DataPriority` of Send Data (T.125 section 7, part 1).
    pub struct DataPriority(u8) {
        /// top.
        TOP = 0 => "top",
        /// high.
        HIGH = 1 => "high",
        /// medium.
        MEDIUM = 2 => "medium",
        /// low.
        LOW = 3 => "low",
    }
}

/// Erect Domain Request (T.125 7 part 3; MS-RDPBCGR 2.2.1.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErectDomainRequest {
    /// subHeight.
    pub sub_height: u32,
    /// subInterval.
    pub sub_interval: u32,
    /// Deviations that were tolerated (rdesktop writes the two integers as plain 16-bit
    /// big-endian numbers without PER length octets).
    pub anomalies: Vec<&'static str>,
}

/// Disconnect Provider Ultimatum (T.125 7 part 4; MS-RDPBCGR 2.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisconnectProviderUltimatum {
    /// reason: a 3-bit PER bit-field straddling the first two octets.
    pub reason: DisconnectReason,
}

/// Attach User Confirm (T.125 7 part 5; MS-RDPBCGR 2.2.1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachUserConfirm {
    /// result.
    pub result: McsResult,
    /// initiator: the user channel id given to the client, when present.
    pub initiator: Option<u16>,
    /// Deviations that were tolerated.
    pub anomalies: Vec<&'static str>,
}

/// Channel Join Request (T.125 7 part 6; MS-RDPBCGR 2.2.1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelJoinRequest {
    /// initiator (user channel id).
    pub initiator: u16,
    /// channelId requested.
    pub channel_id: u16,
}

/// Channel Join Confirm (T.125 7 part 6; MS-RDPBCGR 2.2.1.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelJoinConfirm {
    /// result.
    pub result: McsResult,
    /// initiator (user channel id).
    pub initiator: u16,
    /// requested channel id.
    pub requested: u16,
    /// channelId joined, when present.
    pub channel_id: Option<u16>,
    /// Deviations that were tolerated.
    pub anomalies: Vec<&'static str>,
}

/// Send Data Request / Send Data Indication header and user data (T.125 7 part 7;
/// MS-RDPBCGR 2.2.8.1.1.1.1 and the mcsSDrq/mcsSDin fields of 2.2.1.10 onwards).
///
/// Invariant: `user_data` holds exactly the PER-declared number of bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendData<'a> {
    /// initiator (user channel id).
    pub initiator: u16,
    /// channelId.
    pub channel_id: u16,
    /// dataPriority.
    pub priority: DataPriority,
    /// segmentation `begin` bit.
    pub begin: bool,
    /// segmentation `end` bit.
    pub end: bool,
    /// userData: the RDP PDU (see [`crate::rdp`]).
    pub user_data: &'a [u8],
    /// Deviations that were tolerated.
    pub anomalies: Vec<&'static str>,
}

/// One decoded MCS domain PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainPdu<'a> {
    /// erectDomainRequest.
    ErectDomainRequest(ErectDomainRequest),
    /// disconnectProviderUltimatum.
    DisconnectProviderUltimatum(DisconnectProviderUltimatum),
    /// attachUserRequest (no fields).
    AttachUserRequest,
    /// attachUserConfirm.
    AttachUserConfirm(AttachUserConfirm),
    /// channelJoinRequest.
    ChannelJoinRequest(ChannelJoinRequest),
    /// channelJoinConfirm.
    ChannelJoinConfirm(ChannelJoinConfirm),
    /// sendDataRequest (client to server).
    SendDataRequest(SendData<'a>),
    /// sendDataIndication (server to client).
    SendDataIndication(SendData<'a>),
    /// Any other alternative, not decoded further.
    Other(DomainMcsPduType),
}

impl DomainPdu<'_> {
    /// The CHOICE index of this PDU.
    pub fn pdu_type(&self) -> DomainMcsPduType {
        match self {
            DomainPdu::ErectDomainRequest(_) => DomainMcsPduType::ERECT_DOMAIN_REQUEST,
            DomainPdu::DisconnectProviderUltimatum(_) => {
                DomainMcsPduType::DISCONNECT_PROVIDER_ULTIMATUM
            }
            DomainPdu::AttachUserRequest => DomainMcsPduType::ATTACH_USER_REQUEST,
            DomainPdu::AttachUserConfirm(_) => DomainMcsPduType::ATTACH_USER_CONFIRM,
            DomainPdu::ChannelJoinRequest(_) => DomainMcsPduType::CHANNEL_JOIN_REQUEST,
            DomainPdu::ChannelJoinConfirm(_) => DomainMcsPduType::CHANNEL_JOIN_CONFIRM,
            DomainPdu::SendDataRequest(_) => DomainMcsPduType::SEND_DATA_REQUEST,
            DomainPdu::SendDataIndication(_) => DomainMcsPduType::SEND_DATA_INDICATION,
            DomainPdu::Other(t) => *t,
        }
    }
}

/// A `UserId` (DynamicChannelId, offset 1001).
fn user_id(input: &[u8]) -> PResult<'_, u16> {
    let (input, raw) = be_u16(input)?;
    match raw.checked_add(USER_ID_BASE) {
        Some(id) => Ok((input, id)),
        None => fail(Error::UnexpectedValue {
            what: "mcs user id",
            value: u32::from(raw),
        }),
    }
}

/// Decodes a 4-bit `Result` bit-field that starts at the lowest bit of `b0` and continues in
/// the top 3 bits of `b1` (X.691 aligned: a constrained whole number with range 16 is a
/// non-octet-aligned bit-field). Some peers (FreeRDP) write the result as a whole octet after
/// the first one; when the bit-field reading leaves non-zero padding and the octet reading is
/// a valid result, the octet reading is taken and an anomaly is recorded.
fn result_bits(b0: u8, b1: u8, anomalies: &mut Vec<&'static str>) -> McsResult {
    let bits = ((b0 & 0x01) << 3) | (b1 >> 5);
    if b1 & 0x1f != 0 && b0 & 0x01 == 0 && b1 < 16 {
        anomalies.push("mcs result written as a whole octet");
        return McsResult(b1);
    }
    McsResult(bits)
}

/// Parses one MCS domain PDU (the bytes inside an X.224 Data TPDU).
///
/// Errors: empty or short input is [`Error::Truncated`]; a Send Data user data length past
/// the end is [`Error::InvalidLength`]; a fragmented PER length is [`Error::UnexpectedValue`].
/// Bytes after a fixed-size PDU, and PER encodings some peers get wrong, become anomalies.
pub fn parse_domain_pdu(input: &[u8]) -> Result<DomainPdu<'_>, Error> {
    let (body, b0) = bounded("mcs domain pdu", input, byte)?;
    let choice = DomainMcsPduType(b0 >> 2);
    let pdu = match choice {
        DomainMcsPduType::ERECT_DOMAIN_REQUEST => {
            DomainPdu::ErectDomainRequest(erect_domain_request(body)?)
        }
        DomainMcsPduType::DISCONNECT_PROVIDER_ULTIMATUM => {
            let (_, b1) = bounded("mcs disconnect provider ultimatum", body, byte)?;
            let reason = ((b0 & 0x03) << 1) | (b1 >> 7);
            DomainPdu::DisconnectProviderUltimatum(DisconnectProviderUltimatum {
                reason: DisconnectReason(reason),
            })
        }
        DomainMcsPduType::ATTACH_USER_REQUEST => DomainPdu::AttachUserRequest,
        DomainMcsPduType::ATTACH_USER_CONFIRM => {
            let what = "mcs attach user confirm";
            let mut anomalies = Vec::new();
            let (rest, b1) = bounded(what, body, byte)?;
            let result = result_bits(b0 & 0x01, b1, &mut anomalies);
            let (rest, initiator) = if b0 & 0x02 != 0 {
                let (rest, id) = bounded(what, rest, user_id)?;
                (rest, Some(id))
            } else {
                (rest, None)
            };
            if !rest.is_empty() {
                anomalies.push("bytes after attach user confirm");
            }
            DomainPdu::AttachUserConfirm(AttachUserConfirm {
                result,
                initiator,
                anomalies,
            })
        }
        DomainMcsPduType::CHANNEL_JOIN_REQUEST => {
            let (_, (initiator, channel_id)) =
                bounded("mcs channel join request", body, (user_id, be_u16))?;
            DomainPdu::ChannelJoinRequest(ChannelJoinRequest {
                initiator,
                channel_id,
            })
        }
        DomainMcsPduType::CHANNEL_JOIN_CONFIRM => {
            let what = "mcs channel join confirm";
            let mut anomalies = Vec::new();
            let (rest, b1) = bounded(what, body, byte)?;
            let result = result_bits(b0 & 0x01, b1, &mut anomalies);
            let (rest, (initiator, requested)) = bounded(what, rest, (user_id, be_u16))?;
            let (rest, channel_id) = if b0 & 0x02 != 0 {
                let (rest, id) = bounded(what, rest, be_u16)?;
                (rest, Some(id))
            } else {
                (rest, None)
            };
            if !rest.is_empty() {
                anomalies.push("bytes after channel join confirm");
            }
            DomainPdu::ChannelJoinConfirm(ChannelJoinConfirm {
                result,
                initiator,
                requested,
                channel_id,
                anomalies,
            })
        }
        DomainMcsPduType::SEND_DATA_REQUEST => {
            DomainPdu::SendDataRequest(send_data("mcs send data request", body)?)
        }
        DomainMcsPduType::SEND_DATA_INDICATION => {
            DomainPdu::SendDataIndication(send_data("mcs send data indication", body)?)
        }
        other => DomainPdu::Other(other),
    };
    Ok(pdu)
}

fn erect_domain_request(body: &[u8]) -> Result<ErectDomainRequest, Error> {
    let mut anomalies = Vec::new();
    let per = exact(
        "mcs erect domain request",
        body,
        (per::integer, per::integer),
    );
    match (per, body) {
        (Ok((sub_height, sub_interval)), _) => Ok(ErectDomainRequest {
            sub_height,
            sub_interval,
            anomalies,
        }),
        (Err(_), [h0, h1, i0, i1]) => {
            anomalies.push("erect domain request integers without per length octets");
            Ok(ErectDomainRequest {
                sub_height: u32::from(u16::from_be_bytes([*h0, *h1])),
                sub_interval: u32::from(u16::from_be_bytes([*i0, *i1])),
                anomalies,
            })
        }
        (Err(e), _) => Err(e),
    }
}

fn send_data<'a>(what: &'static str, body: &'a [u8]) -> Result<SendData<'a>, Error> {
    let mut anomalies = Vec::new();
    let (rest, (initiator, channel_id, flags, len)) =
        bounded(what, body, (user_id, be_u16, byte, per::length))?;
    let priority = DataPriority(flags >> 6);
    let begin = flags & 0x20 != 0;
    let end = flags & 0x10 != 0;
    let (rest, user_data) = bounded(what, rest, within(what, len))?;
    if !rest.is_empty() {
        anomalies.push("bytes after send data user data");
    }
    Ok(SendData {
        initiator,
        channel_id,
        priority,
        begin,
        end,
        user_data,
        anomalies,
    })
}
