//! RDP PDUs carried in the user data of MCS Send Data Request/Indication during the
//! connection sequence, as far as they can be read without keys:
//!
//! - [`parse_security_pdu`]: the security header (MS-RDPBCGR 2.2.8.1.1.2) and, by its flags,
//!   the Security Exchange PDU (2.2.1.10), the Client Info PDU when not encrypted (2.2.1.11,
//!   with Standard RDP Security level NONE or inside TLS/CredSSP) and licensing PDUs
//!   (2.2.1.12). The password in Client Info is skipped, never exposed.
//! - [`parse_share_pdu`]: a Share Control / Share Data header (2.2.8.1.1.1) and the Set Error
//!   Info PDU (2.2.5.1.1) inside it.

mod error_info;
mod license;
mod share;

pub use error_info::ErrorInfo;
pub use license::{
    parse_license_pdu, LicenseErrorCode, LicenseErrorMessage, LicenseMsgType, LicensePdu,
    StateTransition,
};
pub use share::{parse_share_pdu, PduType2, ShareControlPduType, ShareDataHeader, SharePdu};

use nom::bytes::complete::take;
use nom::number::complete::{le_u16, le_u32, u8 as byte};

use crate::parse::{bounded, usize_of, within};
use crate::values::open_flags;
use crate::Error;

open_flags! {
    /// Security header `flags` (MS-RDPBCGR 2.2.8.1.1.2.1).
    pub struct SecurityFlags(u16) {
        /// SEC_EXCHANGE_PKT: Security Exchange PDU.
        SEC_EXCHANGE_PKT = 0x0001 => "SEC_EXCHANGE_PKT",
        /// SEC_TRANSPORT_REQ: Initiate Multitransport Request.
        SEC_TRANSPORT_REQ = 0x0002 => "SEC_TRANSPORT_REQ",
        /// RDP_SEC_TRANSPORT_RSP: Initiate Multitransport Response.
        RDP_SEC_TRANSPORT_RSP = 0x0004 => "RDP_SEC_TRANSPORT_RSP",
        /// SEC_ENCRYPT: the data after the header is encrypted.
        SEC_ENCRYPT = 0x0008 => "SEC_ENCRYPT",
        /// SEC_RESET_SEQNO.
        SEC_RESET_SEQNO = 0x0010 => "SEC_RESET_SEQNO",
        /// SEC_IGNORE_SEQNO.
        SEC_IGNORE_SEQNO = 0x0020 => "SEC_IGNORE_SEQNO",
        /// SEC_INFO_PKT: Client Info PDU.
        SEC_INFO_PKT = 0x0040 => "SEC_INFO_PKT",
        /// SEC_LICENSE_PKT: licensing PDU.
        SEC_LICENSE_PKT = 0x0080 => "SEC_LICENSE_PKT",
        /// SEC_LICENSE_ENCRYPT_CS / SEC_LICENSE_ENCRYPT_SC (same bit).
        SEC_LICENSE_ENCRYPT = 0x0200 => "SEC_LICENSE_ENCRYPT",
        /// SEC_REDIRECTION_PKT.
        SEC_REDIRECTION_PKT = 0x0400 => "SEC_REDIRECTION_PKT",
        /// SEC_SECURE_CHECKSUM.
        SEC_SECURE_CHECKSUM = 0x0800 => "SEC_SECURE_CHECKSUM",
        /// SEC_AUTODETECT_REQ.
        SEC_AUTODETECT_REQ = 0x1000 => "SEC_AUTODETECT_REQ",
        /// SEC_AUTODETECT_RSP.
        SEC_AUTODETECT_RSP = 0x2000 => "SEC_AUTODETECT_RSP",
        /// SEC_HEARTBEAT.
        SEC_HEARTBEAT = 0x4000 => "SEC_HEARTBEAT",
        /// SEC_FLAGSHI_VALID.
        SEC_FLAGSHI_VALID = 0x8000 => "SEC_FLAGSHI_VALID",
    }
}

open_flags! {
    /// Client Info `flags` (MS-RDPBCGR 2.2.1.11.1.1). Bits 9..=12 hold the compression type
    /// and print as unknown bits.
    pub struct InfoFlags(u32) {
        /// INFO_MOUSE.
        INFO_MOUSE = 0x0000_0001 => "INFO_MOUSE",
        /// INFO_DISABLECTRLALTDEL.
        INFO_DISABLECTRLALTDEL = 0x0000_0002 => "INFO_DISABLECTRLALTDEL",
        /// INFO_AUTOLOGON: the client sends credentials for automatic logon.
        INFO_AUTOLOGON = 0x0000_0008 => "INFO_AUTOLOGON",
        /// INFO_UNICODE: strings are UTF-16LE.
        INFO_UNICODE = 0x0000_0010 => "INFO_UNICODE",
        /// INFO_MAXIMIZESHELL.
        INFO_MAXIMIZESHELL = 0x0000_0020 => "INFO_MAXIMIZESHELL",
        /// INFO_LOGONNOTIFY.
        INFO_LOGONNOTIFY = 0x0000_0040 => "INFO_LOGONNOTIFY",
        /// INFO_COMPRESSION.
        INFO_COMPRESSION = 0x0000_0080 => "INFO_COMPRESSION",
        /// INFO_ENABLEWINDOWSKEY.
        INFO_ENABLEWINDOWSKEY = 0x0000_0100 => "INFO_ENABLEWINDOWSKEY",
        /// INFO_REMOTECONSOLEAUDIO.
        INFO_REMOTECONSOLEAUDIO = 0x0000_2000 => "INFO_REMOTECONSOLEAUDIO",
        /// INFO_FORCE_ENCRYPTED_CS_PDU.
        INFO_FORCE_ENCRYPTED_CS_PDU = 0x0000_4000 => "INFO_FORCE_ENCRYPTED_CS_PDU",
        /// INFO_RAIL.
        INFO_RAIL = 0x0000_8000 => "INFO_RAIL",
        /// INFO_LOGONERRORS.
        INFO_LOGONERRORS = 0x0001_0000 => "INFO_LOGONERRORS",
        /// INFO_MOUSE_HAS_WHEEL.
        INFO_MOUSE_HAS_WHEEL = 0x0002_0000 => "INFO_MOUSE_HAS_WHEEL",
        /// INFO_PASSWORD_IS_SC_PIN.
        INFO_PASSWORD_IS_SC_PIN = 0x0004_0000 => "INFO_PASSWORD_IS_SC_PIN",
        /// INFO_NOAUDIOPLAYBACK.
        INFO_NOAUDIOPLAYBACK = 0x0008_0000 => "INFO_NOAUDIOPLAYBACK",
        /// INFO_USING_SAVED_CREDS.
        INFO_USING_SAVED_CREDS = 0x0010_0000 => "INFO_USING_SAVED_CREDS",
        /// INFO_AUDIOCAPTURE.
        INFO_AUDIOCAPTURE = 0x0020_0000 => "INFO_AUDIOCAPTURE",
        /// INFO_VIDEO_DISABLE.
        INFO_VIDEO_DISABLE = 0x0040_0000 => "INFO_VIDEO_DISABLE",
        /// INFO_RESERVED1.
        INFO_RESERVED1 = 0x0080_0000 => "INFO_RESERVED1",
        /// INFO_RESERVED2.
        INFO_RESERVED2 = 0x0100_0000 => "INFO_RESERVED2",
        /// INFO_HIDEF_RAIL_SUPPORTED.
        INFO_HIDEF_RAIL_SUPPORTED = 0x0200_0000 => "INFO_HIDEF_RAIL_SUPPORTED",
    }
}

/// The FIPS part of a security header (TS_SECURITY_HEADER2, MS-RDPBCGR 2.2.8.1.1.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FipsHeader {
    /// length (0x10).
    pub length: u16,
    /// version (TSFIPS_VERSION1 = 1).
    pub version: u8,
    /// padlen.
    pub pad_len: u8,
}

/// Security header (MS-RDPBCGR 2.2.8.1.1.2): the basic flags, and with SEC_ENCRYPT the MAC
/// (and FIPS fields at ENCRYPTION_LEVEL_FIPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityHeader<'a> {
    /// flags.
    pub flags: SecurityFlags,
    /// flagsHi.
    pub flags_hi: u16,
    /// FIPS header fields, when SEC_ENCRYPT is set and the caller said FIPS is in use.
    pub fips: Option<FipsHeader>,
    /// dataSignature (8 bytes), when SEC_ENCRYPT is set.
    pub data_signature: Option<&'a [u8]>,
}

/// Security Exchange PDU data (TS_SECURITY_PACKET, MS-RDPBCGR 2.2.1.10.1).
///
/// Invariant: `encrypted_client_random.len() == length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityExchange<'a> {
    /// length (key length + 8 bytes of padding).
    pub length: u32,
    /// encryptedClientRandom.
    pub encrypted_client_random: &'a [u8],
}

/// Client Info PDU data (TS_INFO_PACKET, MS-RDPBCGR 2.2.1.11.1.1) read in clear.
///
/// The password field is skipped: neither its content nor its length is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// CodePage.
    pub code_page: u32,
    /// flags.
    pub flags: InfoFlags,
    /// Domain.
    pub domain: String,
    /// UserName.
    pub user_name: String,
    /// AlternateShell.
    pub alternate_shell: String,
    /// WorkingDir.
    pub working_dir: String,
    /// Deviations that were tolerated.
    pub anomalies: Vec<&'static str>,
}

/// What follows the security header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityPayload<'a> {
    /// SEC_EXCHANGE_PKT.
    SecurityExchange(SecurityExchange<'a>),
    /// SEC_INFO_PKT in clear.
    ClientInfo(ClientInfo),
    /// SEC_LICENSE_PKT in clear.
    License(LicensePdu<'a>),
    /// SEC_ENCRYPT: the bytes cannot be read without the session keys.
    Encrypted(&'a [u8]),
    /// Any other payload in clear.
    Other(&'a [u8]),
}

/// A security header and its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityPdu<'a> {
    /// The header.
    pub header: SecurityHeader<'a>,
    /// The payload as the flags describe it.
    pub payload: SecurityPayload<'a>,
}

/// Parses the user data of an MCS Send Data PDU that starts with a security header: every
/// PDU of the connection sequence from Security Exchange to licensing, and any PDU with
/// Standard RDP Security above level NONE.
///
/// `fips` says whether the server chose ENCRYPTION_LEVEL_FIPS (from the Server Security Data):
/// then an encrypted PDU has the longer FIPS header.
///
/// Errors: [`Error::Truncated`] for a short header or field; [`Error::InvalidLength`] for a
/// Security Exchange length past the end.
pub fn parse_security_pdu(input: &[u8], fips: bool) -> Result<SecurityPdu<'_>, Error> {
    let (rest, (flags, flags_hi)) = bounded("security header", input, (le_u16, le_u16))?;
    let flags = SecurityFlags(flags);
    let mut header = SecurityHeader {
        flags,
        flags_hi,
        fips: None,
        data_signature: None,
    };
    let mut rest = rest;
    // The Security Exchange PDU always has a basic header, even with SEC_ENCRYPT clear.
    if flags.contains(SecurityFlags::SEC_ENCRYPT)
        && !flags.contains(SecurityFlags::SEC_EXCHANGE_PKT)
    {
        if fips {
            let (r, (length, version, pad_len)) =
                bounded("fips security header", rest, (le_u16, byte, byte))?;
            header.fips = Some(FipsHeader {
                length,
                version,
                pad_len,
            });
            rest = r;
        }
        let (r, sig) = bounded("security header signature", rest, take(8usize))?;
        header.data_signature = Some(sig);
        return Ok(SecurityPdu {
            header,
            payload: SecurityPayload::Encrypted(r),
        });
    }
    let payload = if flags.contains(SecurityFlags::SEC_EXCHANGE_PKT) {
        let (r, length) = bounded("security exchange", rest, le_u32)?;
        let (_, random) = bounded(
            "security exchange",
            r,
            within("security exchange", usize_of(length)),
        )?;
        SecurityPayload::SecurityExchange(SecurityExchange {
            length,
            encrypted_client_random: random,
        })
    } else if flags.contains(SecurityFlags::SEC_INFO_PKT) {
        SecurityPayload::ClientInfo(parse_client_info(rest)?)
    } else if flags.contains(SecurityFlags::SEC_LICENSE_PKT) {
        SecurityPayload::License(parse_license_pdu(rest)?)
    } else {
        SecurityPayload::Other(rest)
    };
    Ok(SecurityPdu { header, payload })
}

/// Reads a Client Info string of `cb` bytes plus its terminator (2 bytes in Unicode, 1 in
/// ANSI). A missing terminator is tolerated with an anomaly.
fn info_string<'a>(
    input: &'a [u8],
    cb: u16,
    unicode: bool,
    what: &'static str,
    anomalies: &mut Vec<&'static str>,
) -> Result<(&'a [u8], &'a [u8]), Error> {
    let (rest, text) = bounded(what, input, take(usize::from(cb)))?;
    let term: usize = if unicode { 2 } else { 1 };
    match bounded(what, rest, take(term)) {
        Ok((after, _)) => Ok((text, after)),
        Err(_) => {
            anomalies.push("client info string without terminator");
            Ok((text, &[]))
        }
    }
}

fn decode(text: &[u8], unicode: bool) -> String {
    if unicode {
        crate::gcc::utf16_fixed(text)
    } else {
        let end = text.iter().position(|b| *b == 0).unwrap_or(text.len());
        crate::printable::printable_bytes(text.get(..end).unwrap_or_default())
    }
}

/// Parses a TS_INFO_PACKET in clear (MS-RDPBCGR 2.2.1.11.1.1). The password is skipped.
/// The extended info packet after WorkingDir is not decoded.
pub fn parse_client_info(input: &[u8]) -> Result<ClientInfo, Error> {
    let what = "client info";
    let (rest, (code_page, flags, cb_domain, cb_user, cb_password, cb_shell, cb_dir)) = bounded(
        what,
        input,
        (le_u32, le_u32, le_u16, le_u16, le_u16, le_u16, le_u16),
    )?;
    let flags = InfoFlags(flags);
    let unicode = flags.contains(InfoFlags::INFO_UNICODE);
    let mut anomalies = Vec::new();
    if unicode
        && [cb_domain, cb_user, cb_password, cb_shell, cb_dir]
            .iter()
            .any(|c| c & 1 == 1)
    {
        anomalies.push("odd unicode string length in client info");
    }
    let (domain, rest) = info_string(
        rest,
        cb_domain,
        unicode,
        "client info domain",
        &mut anomalies,
    )?;
    let (user, rest) = info_string(
        rest,
        cb_user,
        unicode,
        "client info user name",
        &mut anomalies,
    )?;
    // The password is consumed here and dropped: it must never leave the parser.
    let (_, rest) = info_string(
        rest,
        cb_password,
        unicode,
        "client info password",
        &mut anomalies,
    )?;
    let (shell, rest) = info_string(
        rest,
        cb_shell,
        unicode,
        "client info alternate shell",
        &mut anomalies,
    )?;
    let (dir, _) = info_string(
        rest,
        cb_dir,
        unicode,
        "client info working dir",
        &mut anomalies,
    )?;
    Ok(ClientInfo {
        code_page,
        flags,
        domain: decode(domain, unicode),
        user_name: decode(user, unicode),
        alternate_shell: decode(shell, unicode),
        working_dir: decode(dir, unicode),
        anomalies,
    })
}

#[cfg(test)]
mod tests;
