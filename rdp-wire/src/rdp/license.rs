//! Licensing PDUs (MS-RDPBCGR 2.2.1.12; MS-RDPELE 2.2.2): the preamble of every message and
//! the error message that ends most licensing exchanges.

use nom::bytes::complete::take;
use nom::number::complete::{le_u16, le_u32, u8 as byte};

use nom::Parser;

use crate::parse::{bounded, within, PResult};
use crate::values::open_enum;
use crate::Error;

open_enum! {
    /// LICENSE_PREAMBLE `bMsgType` (MS-RDPBCGR 2.2.1.12.1.1).
    pub struct LicenseMsgType(u8) {
        /// LICENSE_REQUEST (server).
        LICENSE_REQUEST = 0x01 => "LICENSE_REQUEST",
        /// PLATFORM_CHALLENGE (server).
        PLATFORM_CHALLENGE = 0x02 => "PLATFORM_CHALLENGE",
        /// NEW_LICENSE (server).
        NEW_LICENSE = 0x03 => "NEW_LICENSE",
        /// UPGRADE_LICENSE (server).
        UPGRADE_LICENSE = 0x04 => "UPGRADE_LICENSE",
        /// LICENSE_INFO (client).
        LICENSE_INFO = 0x12 => "LICENSE_INFO",
        /// NEW_LICENSE_REQUEST (client).
        NEW_LICENSE_REQUEST = 0x13 => "NEW_LICENSE_REQUEST",
        /// PLATFORM_CHALLENGE_RESPONSE (client).
        PLATFORM_CHALLENGE_RESPONSE = 0x15 => "PLATFORM_CHALLENGE_RESPONSE",
        /// ERROR_ALERT (either side).
        ERROR_ALERT = 0xFF => "ERROR_ALERT",
    }
}

open_enum! {
    /// LICENSE_ERROR_MESSAGE `dwErrorCode` (MS-RDPBCGR 2.2.1.12.1.3).
    pub struct LicenseErrorCode(u32) {
        /// ERR_INVALID_SERVER_CERTIFICATE.
        ERR_INVALID_SERVER_CERTIFICATE = 0x0000_0001 => "ERR_INVALID_SERVER_CERTIFICATE",
        /// ERR_NO_LICENSE.
        ERR_NO_LICENSE = 0x0000_0002 => "ERR_NO_LICENSE",
        /// ERR_INVALID_MAC.
        ERR_INVALID_MAC = 0x0000_0003 => "ERR_INVALID_MAC",
        /// ERR_INVALID_SCOPE.
        ERR_INVALID_SCOPE = 0x0000_0004 => "ERR_INVALID_SCOPE",
        /// ERR_NO_LICENSE_SERVER.
        ERR_NO_LICENSE_SERVER = 0x0000_0006 => "ERR_NO_LICENSE_SERVER",
        /// STATUS_VALID_CLIENT: licensing succeeded (the usual end of licensing).
        STATUS_VALID_CLIENT = 0x0000_0007 => "STATUS_VALID_CLIENT",
        /// ERR_INVALID_CLIENT.
        ERR_INVALID_CLIENT = 0x0000_0008 => "ERR_INVALID_CLIENT",
        /// ERR_INVALID_PRODUCTID.
        ERR_INVALID_PRODUCTID = 0x0000_000B => "ERR_INVALID_PRODUCTID",
        /// ERR_INVALID_MESSAGE_LEN.
        ERR_INVALID_MESSAGE_LEN = 0x0000_000C => "ERR_INVALID_MESSAGE_LEN",
    }
}

open_enum! {
    /// LICENSE_ERROR_MESSAGE `dwStateTransition` (MS-RDPBCGR 2.2.1.12.1.3).
    pub struct StateTransition(u32) {
        /// ST_TOTAL_ABORT.
        ST_TOTAL_ABORT = 0x0000_0001 => "ST_TOTAL_ABORT",
        /// ST_NO_TRANSITION.
        ST_NO_TRANSITION = 0x0000_0002 => "ST_NO_TRANSITION",
        /// ST_RESET_PHASE_TO_START.
        ST_RESET_PHASE_TO_START = 0x0000_0003 => "ST_RESET_PHASE_TO_START",
        /// ST_RESEND_LAST_MESSAGE.
        ST_RESEND_LAST_MESSAGE = 0x0000_0004 => "ST_RESEND_LAST_MESSAGE",
    }
}

/// LICENSE_ERROR_MESSAGE (MS-RDPBCGR 2.2.1.12.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenseErrorMessage<'a> {
    /// dwErrorCode.
    pub error_code: LicenseErrorCode,
    /// dwStateTransition.
    pub state_transition: StateTransition,
    /// bbErrorInfo wBlobType.
    pub blob_type: u16,
    /// bbErrorInfo blobData.
    pub blob: &'a [u8],
}

/// A licensing PDU: preamble and message body.
///
/// Invariant: `body` is the `wMsgSize - 4` bytes after the preamble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicensePdu<'a> {
    /// bMsgType.
    pub msg_type: LicenseMsgType,
    /// flags: PREAMBLE_VERSION in the low 4 bits, EXTENDED_ERROR_MSG_SUPPORTED = 0x80.
    pub flags: u8,
    /// wMsgSize (including the 4-byte preamble).
    pub msg_size: u16,
    /// The message after the preamble.
    pub body: &'a [u8],
    /// The decoded error message, for ERROR_ALERT.
    pub error: Option<LicenseErrorMessage<'a>>,
}

/// Parses a licensing PDU in clear (after a security header with SEC_LICENSE_PKT).
///
/// Errors: [`Error::Truncated`] for a short preamble or error message;
/// [`Error::InvalidLength`] for a wMsgSize below 4 or past the end, or an error blob past the
/// message.
pub fn parse_license_pdu(input: &[u8]) -> Result<LicensePdu<'_>, Error> {
    let (rest, (msg_type, flags, msg_size)) =
        bounded("license preamble", input, (byte, byte, le_u16))?;
    let msg_type = LicenseMsgType(msg_type);
    let wrong_size = Error::InvalidLength {
        what: "license message",
        length: usize::from(msg_size),
    };
    let body_len = usize::from(msg_size).checked_sub(4);
    let (_, body) = match body_len {
        Some(n) if n <= rest.len() => bounded("license message", rest, take(n))?,
        _ => return Err(wrong_size),
    };
    let error = if msg_type == LicenseMsgType::ERROR_ALERT {
        let (_, error) = bounded("license error message", body, error_message)?;
        Some(error)
    } else {
        None
    };
    Ok(LicensePdu {
        msg_type,
        flags,
        msg_size,
        body,
        error,
    })
}

/// LICENSE_ERROR_MESSAGE (MS-RDPBCGR 2.2.1.12.1.3): the fixed 12 bytes, then a blob that must
/// fit in the message.
fn error_message(i: &[u8]) -> PResult<'_, LicenseErrorMessage<'_>> {
    let (i, (error_code, state_transition, blob_type, blob_len)) =
        (le_u32, le_u32, le_u16, le_u16).parse(i)?;
    let (i, blob) = within("license error blob", usize::from(blob_len))(i)?;
    Ok((
        i,
        LicenseErrorMessage {
            error_code: LicenseErrorCode(error_code),
            state_transition: StateTransition(state_transition),
            blob_type,
            blob,
        },
    ))
}
