//! Share Control and Share Data headers (MS-RDPBCGR 2.2.8.1.1.1.1 and 2.2.8.1.1.1.2), enough to
//! recognise the PDUs of the connection finalization and read the Set Error Info PDU
//! (2.2.5.1.1). These are readable only when no Standard RDP Security encryption applies
//! (TLS/CredSSP sessions, or ENCRYPTION_LEVEL_NONE).

use nom::bytes::complete::take;
use nom::number::complete::{le_u16, le_u32, u8 as byte};

use super::ErrorInfo;
use crate::parse::bounded;
use crate::values::open_enum;
use crate::Error;

open_enum! {
    /// Share Control Header `pduType` low 4 bits (MS-RDPBCGR 2.2.8.1.1.1.1).
    pub struct ShareControlPduType(u16) {
        /// PDUTYPE_DEMANDACTIVEPDU.
        DEMAND_ACTIVE = 0x1 => "PDUTYPE_DEMANDACTIVEPDU",
        /// PDUTYPE_CONFIRMACTIVEPDU.
        CONFIRM_ACTIVE = 0x3 => "PDUTYPE_CONFIRMACTIVEPDU",
        /// PDUTYPE_DEACTIVATEALLPDU.
        DEACTIVATE_ALL = 0x6 => "PDUTYPE_DEACTIVATEALLPDU",
        /// PDUTYPE_DATAPDU.
        DATA = 0x7 => "PDUTYPE_DATAPDU",
        /// PDUTYPE_SERVER_REDIR_PKT.
        SERVER_REDIRECT = 0xA => "PDUTYPE_SERVER_REDIR_PKT",
    }
}

open_enum! {
    /// Share Data Header `pduType2` (MS-RDPBCGR 2.2.8.1.1.1.2), the connection-relevant ones.
    pub struct PduType2(u8) {
        /// PDUTYPE2_UPDATE.
        UPDATE = 0x02 => "PDUTYPE2_UPDATE",
        /// PDUTYPE2_CONTROL.
        CONTROL = 0x14 => "PDUTYPE2_CONTROL",
        /// PDUTYPE2_POINTER.
        POINTER = 0x1B => "PDUTYPE2_POINTER",
        /// PDUTYPE2_INPUT.
        INPUT = 0x1C => "PDUTYPE2_INPUT",
        /// PDUTYPE2_SYNCHRONIZE.
        SYNCHRONIZE = 0x1F => "PDUTYPE2_SYNCHRONIZE",
        /// PDUTYPE2_REFRESH_RECT.
        REFRESH_RECT = 0x21 => "PDUTYPE2_REFRESH_RECT",
        /// PDUTYPE2_PLAY_SOUND.
        PLAY_SOUND = 0x22 => "PDUTYPE2_PLAY_SOUND",
        /// PDUTYPE2_SUPPRESS_OUTPUT.
        SUPPRESS_OUTPUT = 0x23 => "PDUTYPE2_SUPPRESS_OUTPUT",
        /// PDUTYPE2_SHUTDOWN_REQUEST.
        SHUTDOWN_REQUEST = 0x24 => "PDUTYPE2_SHUTDOWN_REQUEST",
        /// PDUTYPE2_SHUTDOWN_DENIED.
        SHUTDOWN_DENIED = 0x25 => "PDUTYPE2_SHUTDOWN_DENIED",
        /// PDUTYPE2_SAVE_SESSION_INFO.
        SAVE_SESSION_INFO = 0x26 => "PDUTYPE2_SAVE_SESSION_INFO",
        /// PDUTYPE2_FONTLIST.
        FONTLIST = 0x27 => "PDUTYPE2_FONTLIST",
        /// PDUTYPE2_FONTMAP.
        FONTMAP = 0x28 => "PDUTYPE2_FONTMAP",
        /// PDUTYPE2_SET_KEYBOARD_INDICATORS.
        SET_KEYBOARD_INDICATORS = 0x29 => "PDUTYPE2_SET_KEYBOARD_INDICATORS",
        /// PDUTYPE2_BITMAPCACHE_PERSISTENT_LIST.
        BITMAPCACHE_PERSISTENT_LIST = 0x2B => "PDUTYPE2_BITMAPCACHE_PERSISTENT_LIST",
        /// PDUTYPE2_BITMAPCACHE_ERROR_PDU.
        BITMAPCACHE_ERROR = 0x2C => "PDUTYPE2_BITMAPCACHE_ERROR_PDU",
        /// PDUTYPE2_SET_KEYBOARD_IME_STATUS.
        SET_KEYBOARD_IME_STATUS = 0x2D => "PDUTYPE2_SET_KEYBOARD_IME_STATUS",
        /// PDUTYPE2_OFFSCRCACHE_ERROR_PDU.
        OFFSCRCACHE_ERROR = 0x2E => "PDUTYPE2_OFFSCRCACHE_ERROR_PDU",
        /// PDUTYPE2_SET_ERROR_INFO_PDU.
        SET_ERROR_INFO = 0x2F => "PDUTYPE2_SET_ERROR_INFO_PDU",
        /// PDUTYPE2_DRAWNINEGRID_ERROR_PDU.
        DRAWNINEGRID_ERROR = 0x30 => "PDUTYPE2_DRAWNINEGRID_ERROR_PDU",
        /// PDUTYPE2_DRAWGDIPLUS_ERROR_PDU.
        DRAWGDIPLUS_ERROR = 0x31 => "PDUTYPE2_DRAWGDIPLUS_ERROR_PDU",
        /// PDUTYPE2_ARC_STATUS_PDU.
        ARC_STATUS = 0x32 => "PDUTYPE2_ARC_STATUS_PDU",
        /// PDUTYPE2_STATUS_INFO_PDU.
        STATUS_INFO = 0x36 => "PDUTYPE2_STATUS_INFO_PDU",
        /// PDUTYPE2_MONITOR_LAYOUT_PDU.
        MONITOR_LAYOUT = 0x37 => "PDUTYPE2_MONITOR_LAYOUT_PDU",
    }
}

/// Share Data Header fields after the Share Control Header (MS-RDPBCGR 2.2.8.1.1.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareDataHeader {
    /// shareId.
    pub share_id: u32,
    /// streamId.
    pub stream_id: u8,
    /// uncompressedLength.
    pub uncompressed_length: u16,
    /// pduType2.
    pub pdu_type2: PduType2,
    /// compressedType.
    pub compressed_type: u8,
    /// compressedLength.
    pub compressed_length: u16,
}

/// A Share Control PDU (MS-RDPBCGR 2.2.8.1.1.1.1).
///
/// Invariant: `body` is the `totalLength - 6` bytes after the Share Control Header, minus the
/// Share Data Header for data PDUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharePdu<'a> {
    /// totalLength.
    pub total_length: u16,
    /// pduType type (low 4 bits).
    pub pdu_type: ShareControlPduType,
    /// pduType version (high 12 bits; TS_PROTOCOL_VERSION = 0x1).
    pub version: u16,
    /// pduSource.
    pub pdu_source: u16,
    /// The Share Data Header, for PDUTYPE_DATAPDU.
    pub data: Option<ShareDataHeader>,
    /// Bytes after the headers.
    pub body: &'a [u8],
    /// errorInfo, for a Set Error Info PDU.
    pub error_info: Option<ErrorInfo>,
}

/// Parses a Share Control PDU in clear (no security header in front).
///
/// Errors: [`Error::Truncated`] for short headers; [`Error::InvalidLength`] for a totalLength
/// below the header size or past the end.
pub fn parse_share_pdu(input: &[u8]) -> Result<SharePdu<'_>, Error> {
    let (rest, (total_length, raw_type, pdu_source)) =
        bounded("share control header", input, (le_u16, le_u16, le_u16))?;
    let total = usize::from(total_length);
    let (_, body) = match total.checked_sub(6) {
        Some(n) if n <= rest.len() => bounded("share control pdu", rest, take(n))?,
        _ => {
            return Err(Error::InvalidLength {
                what: "share control pdu",
                length: total,
            })
        }
    };
    let pdu_type = ShareControlPduType(raw_type & 0x000f);
    let version = raw_type.wrapping_shr(4);
    let mut out = SharePdu {
        total_length,
        pdu_type,
        version,
        pdu_source,
        data: None,
        body,
        error_info: None,
    };
    if pdu_type == ShareControlPduType::DATA {
        let (
            rest,
            (
                share_id,
                _pad1,
                stream_id,
                uncompressed_length,
                pdu_type2,
                compressed_type,
                compressed_length,
            ),
        ) = bounded(
            "share data header",
            body,
            (le_u32, byte, byte, le_u16, byte, byte, le_u16),
        )?;
        let header = ShareDataHeader {
            share_id,
            stream_id,
            uncompressed_length,
            pdu_type2: PduType2(pdu_type2),
            compressed_type,
            compressed_length,
        };
        if header.pdu_type2 == PduType2::SET_ERROR_INFO {
            let (_, e) = bounded("set error info pdu", rest, le_u32)?;
            out.error_info = Some(ErrorInfo(e));
        }
        out.data = Some(header);
        out.body = rest;
    }
    Ok(out)
}
