//! Server data blocks of the GCC Conference Create Response (MS-RDPBCGR 2.2.1.4.2 to 2.2.1.4.6)
//! and the server certificate of Standard RDP Security (MS-RDPBCGR 2.2.1.4.3.1).

use nom::bytes::complete::take;
use nom::number::complete::{le_u16, le_u32};
use nom::Parser;

use super::data_blocks;
use crate::names::{EncryptionLevel, EncryptionMethods, RdpVersion};
use crate::parse::{bounded, fail, usize_of, within, PResult};
use crate::values::{open_enum, open_flags};
use crate::Error;

/// SC_CORE.
const SC_CORE: u16 = 0x0C01;
/// SC_SECURITY.
const SC_SECURITY: u16 = 0x0C02;
/// SC_NET.
const SC_NET: u16 = 0x0C03;
/// SC_MCS_MSGCHANNEL.
const SC_MCS_MSGCHANNEL: u16 = 0x0C04;
/// SC_MULTITRANSPORT.
const SC_MULTITRANSPORT: u16 = 0x0C08;

/// "RSA1", the RSA_PUBLIC_KEY magic (MS-RDPBCGR 2.2.1.4.3.1.1.1).
const RSA1_MAGIC: u32 = 0x3141_5352;
/// The `t` bit of dwVersion: the certificate is temporary, not permanently issued.
const CERT_TEMPORARY: u32 = 0x8000_0000;

open_flags! {
    /// Server Core Data `earlyCapabilityFlags` (MS-RDPBCGR 2.2.1.4.2).
    pub struct ServerEarlyCapabilityFlags(u32) {
        /// RNS_UD_SC_EDGE_ACTIONS_SUPPORTED_V1.
        EDGE_ACTIONS_SUPPORTED_V1 = 0x0000_0001 => "EDGE_ACTIONS_SUPPORTED_V1",
        /// RNS_UD_SC_DYNAMIC_DST_SUPPORTED.
        DYNAMIC_DST_SUPPORTED = 0x0000_0002 => "DYNAMIC_DST_SUPPORTED",
        /// RNS_UD_SC_EDGE_ACTIONS_SUPPORTED_V2.
        EDGE_ACTIONS_SUPPORTED_V2 = 0x0000_0004 => "EDGE_ACTIONS_SUPPORTED_V2",
        /// RNS_UD_SC_SKIP_CHANNELJOIN_SUPPORTED.
        SKIP_CHANNELJOIN_SUPPORTED = 0x0000_0008 => "SKIP_CHANNELJOIN_SUPPORTED",
    }
}

open_enum! {
    /// The certChainVersion (low 31 bits of dwVersion) of a server certificate.
    pub struct CertChainVersion(u32) {
        /// CERT_CHAIN_VERSION_1: proprietary certificate.
        PROPRIETARY = 1 => "proprietary",
        /// CERT_CHAIN_VERSION_2: X.509 certificate chain.
        X509 = 2 => "x509",
    }
}

/// Server Core Data (TS_UD_SC_CORE, MS-RDPBCGR 2.2.1.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerCoreData {
    /// version.
    pub version: RdpVersion,
    /// clientRequestedProtocols (the X.224 requestedProtocols echoed back), optional.
    pub client_requested_protocols: Option<u32>,
    /// earlyCapabilityFlags, optional.
    pub early_capability_flags: Option<ServerEarlyCapabilityFlags>,
}

/// RSA_PUBLIC_KEY (MS-RDPBCGR 2.2.1.4.3.1.1.1).
///
/// Invariant: `modulus.len() == keylen` and the magic is "RSA1".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsaPublicKey<'a> {
    /// keylen: modulus length in bytes, including 8 bytes of zero padding.
    pub keylen: u32,
    /// bitlen: key size in bits.
    pub bitlen: u32,
    /// datalen: maximum bytes that can be encoded.
    pub datalen: u32,
    /// pubExp.
    pub pub_exp: u32,
    /// modulus, little-endian.
    pub modulus: &'a [u8],
}

/// PROPRIETARYSERVERCERTIFICATE (MS-RDPBCGR 2.2.1.4.3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProprietaryCertificate<'a> {
    /// dwSigAlgId (SIGNATURE_ALG_RSA = 1).
    pub sig_alg_id: u32,
    /// dwKeyAlgId (KEY_EXCHANGE_ALG_RSA = 1).
    pub key_alg_id: u32,
    /// PublicKeyBlob.
    pub public_key: RsaPublicKey<'a>,
    /// SignatureBlob (may be empty).
    pub signature: &'a [u8],
}

/// The certificate body by chain version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateBody<'a> {
    /// Proprietary certificate.
    Proprietary(ProprietaryCertificate<'a>),
    /// X.509 chain (X509 _CERTIFICATE_CHAIN, MS-RDPBCGR 2.2.1.4.3.1.2): DER certificates in
    /// wire order (the server's own certificate last).
    X509(Vec<&'a [u8]>),
    /// A chain version this crate does not know: the raw bytes after dwVersion.
    Unknown(&'a [u8]),
}

/// SERVER_CERTIFICATE (MS-RDPBCGR 2.2.1.4.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCertificate<'a> {
    /// dwVersion as sent.
    pub dw_version: u32,
    /// certChainVersion.
    pub chain_version: CertChainVersion,
    /// `t` bit: the certificate is temporary (not permanently issued by a license server).
    pub temporary: bool,
    /// The decoded body.
    pub body: CertificateBody<'a>,
}

/// Server Security Data (TS_UD_SC_SEC1, MS-RDPBCGR 2.2.1.4.3).
///
/// Invariant: when both encryptionMethod and encryptionLevel are zero, the random and
/// certificate are absent (the spec forbids their length fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSecurityData<'a> {
    /// encryptionMethod.
    pub encryption_method: EncryptionMethods,
    /// encryptionLevel.
    pub encryption_level: EncryptionLevel,
    /// serverRandom (32 bytes from conforming servers).
    pub server_random: Option<&'a [u8]>,
    /// serverCertificate bytes as sent.
    pub server_certificate_bytes: Option<&'a [u8]>,
    /// serverCertificate decoded, when the bytes are present and well-formed.
    pub server_certificate: Option<ServerCertificate<'a>>,
}

/// Server Network Data (TS_UD_SC_NET, MS-RDPBCGR 2.2.1.4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerNetworkData {
    /// MCSChannelId: the I/O channel.
    pub mcs_channel_id: u16,
    /// channelIdArray, in the order of the client's CS_NET channels.
    pub channel_ids: Vec<u16>,
}

/// Server Message Channel Data (TS_UD_SC_MCS_MSGCHANNEL, MS-RDPBCGR 2.2.1.4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerMessageChannelData {
    /// MCSChannelID of the message channel.
    pub mcs_channel_id: u16,
}

/// Server Multitransport Channel Data (TS_UD_SC_MULTITRANSPORT, MS-RDPBCGR 2.2.1.4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerMultitransportData {
    /// flags.
    pub flags: u32,
}

/// All server data blocks of one Conference Create Response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerData<'a> {
    /// SC_CORE.
    pub core: Option<ServerCoreData>,
    /// SC_SECURITY.
    pub security: Option<ServerSecurityData<'a>>,
    /// SC_NET.
    pub network: Option<ServerNetworkData>,
    /// SC_MCS_MSGCHANNEL.
    pub message_channel: Option<ServerMessageChannelData>,
    /// SC_MULTITRANSPORT.
    pub multitransport: Option<ServerMultitransportData>,
    /// Types of blocks this crate does not decode, in order.
    pub unknown_blocks: Vec<u16>,
    /// Deviations that were tolerated.
    pub anomalies: Vec<&'static str>,
}

/// Parses the server data blocks (the user data of a Conference Create Response).
///
/// Errors: a block header with an impossible length, or a known block too short for its
/// fields. A malformed server certificate is an anomaly (`server_certificate` stays `None`).
pub fn parse_server_data(input: &[u8]) -> Result<ServerData<'_>, Error> {
    let mut out = ServerData::default();
    for block in data_blocks(input) {
        let block = block?;
        let body = block.body;
        let (rest, duplicate) = match block.block_type {
            SC_CORE => {
                let (rest, v) = bounded("server core data", body, core)?;
                (rest, out.core.replace(v).is_some())
            }
            SC_SECURITY => {
                let anomalies = &mut out.anomalies;
                let (rest, v) = bounded("server security data", body, |i| security(i, anomalies))?;
                (rest, out.security.replace(v).is_some())
            }
            SC_NET => {
                let (rest, v) = bounded("server network data", body, network)?;
                (rest, out.network.replace(v).is_some())
            }
            SC_MCS_MSGCHANNEL => {
                let (rest, mcs_channel_id) = bounded("server message channel data", body, le_u16)?;
                let v = ServerMessageChannelData { mcs_channel_id };
                (rest, out.message_channel.replace(v).is_some())
            }
            SC_MULTITRANSPORT => {
                let (rest, flags) = bounded("server multitransport data", body, le_u32)?;
                let v = ServerMultitransportData { flags };
                (rest, out.multitransport.replace(v).is_some())
            }
            other => {
                out.unknown_blocks.push(other);
                (&[][..], false)
            }
        };
        if duplicate {
            out.anomalies.push("repeated server data block");
        }
        if !rest.is_empty() {
            out.anomalies
                .push("bytes after the fields of a server data block");
        }
    }
    Ok(out)
}

/// A trailing u32 that older servers leave out: `None` at the end of the block (a partial
/// field is a truncation).
fn trailing_u32(i: &[u8]) -> PResult<'_, Option<u32>> {
    if i.is_empty() {
        return Ok((i, None));
    }
    let (i, v) = le_u32(i)?;
    Ok((i, Some(v)))
}

/// TS_UD_SC_CORE (MS-RDPBCGR 2.2.1.4.2).
fn core(i: &[u8]) -> PResult<'_, ServerCoreData> {
    let (i, version) = le_u32(i)?;
    let (i, client_requested_protocols) = trailing_u32(i)?;
    let (i, early_capability_flags) = trailing_u32(i)?;
    Ok((
        i,
        ServerCoreData {
            version: RdpVersion(version),
            client_requested_protocols,
            early_capability_flags: early_capability_flags.map(ServerEarlyCapabilityFlags),
        },
    ))
}

/// TS_UD_SC_NET (MS-RDPBCGR 2.2.1.4.4): MCSChannelId, channelCount, the channel ids and, for
/// an odd count, 2 bytes of padding.
fn network(i: &[u8]) -> PResult<'_, ServerNetworkData> {
    let (mut i, (mcs_channel_id, count)) = (le_u16, le_u16).parse(i)?;
    let n = usize::from(count);
    if n.saturating_mul(2) > i.len() {
        return fail(Error::InvalidLength {
            what: "server network data",
            length: n,
        });
    }
    let mut channel_ids = Vec::with_capacity(n);
    for _ in 0..n {
        let (rest, id) = le_u16(i)?;
        channel_ids.push(id);
        i = rest;
    }
    // An odd count is followed by 2 bytes of padding.
    if n & 1 == 1 && i.len() >= 2 {
        (i, _) = take(2usize)(i)?;
    }
    Ok((
        i,
        ServerNetworkData {
            mcs_channel_id,
            channel_ids,
        },
    ))
}

/// TS_UD_SC_SEC1 (MS-RDPBCGR 2.2.1.4.3).
fn security<'a>(
    i: &'a [u8],
    anomalies: &mut Vec<&'static str>,
) -> PResult<'a, ServerSecurityData<'a>> {
    let (i, (method, level)) = (le_u32, le_u32).parse(i)?;
    let encryption_method = EncryptionMethods(method);
    let encryption_level = EncryptionLevel(level);
    if i.is_empty() {
        if encryption_method.0 != 0 || encryption_level.0 != 0 {
            anomalies.push("server security data without server random and certificate");
        }
        return Ok((
            i,
            ServerSecurityData {
                encryption_method,
                encryption_level,
                server_random: None,
                server_certificate_bytes: None,
                server_certificate: None,
            },
        ));
    }
    let (i, (random_len, cert_len)) = (le_u32, le_u32).parse(i)?;
    let random_len = usize_of(random_len);
    let (i, server_random) = within("server random", random_len)(i)?;
    let (i, cert) = within("server certificate", usize_of(cert_len))(i)?;
    if random_len != 0 && random_len != 32 {
        anomalies.push("server random is not 32 bytes");
    }
    let server_certificate = if cert.is_empty() {
        None
    } else {
        match parse_server_certificate(cert) {
            Ok(c) => Some(c),
            Err(_) => {
                anomalies.push("malformed server certificate");
                None
            }
        }
    };
    Ok((
        i,
        ServerSecurityData {
            encryption_method,
            encryption_level,
            server_random: Some(server_random),
            server_certificate_bytes: Some(cert),
            server_certificate,
        },
    ))
}

/// Parses a SERVER_CERTIFICATE (MS-RDPBCGR 2.2.1.4.3.1): a proprietary certificate with its
/// RSA public key, or an X.509 chain whose certificates are borrowed, not decoded.
///
/// Errors: [`Error::Truncated`] for short fields, [`Error::InvalidLength`] for blob or
/// certificate lengths past the end, [`Error::UnexpectedValue`] for a bad RSA1 magic.
pub fn parse_server_certificate(input: &[u8]) -> Result<ServerCertificate<'_>, Error> {
    let (rest, dw_version) = bounded("server certificate", input, le_u32)?;
    let chain_version = CertChainVersion(dw_version & !CERT_TEMPORARY);
    let temporary = dw_version & CERT_TEMPORARY != 0;
    let body = match chain_version {
        CertChainVersion::PROPRIETARY => CertificateBody::Proprietary(
            bounded("proprietary server certificate", rest, proprietary)?.1,
        ),
        CertChainVersion::X509 => {
            CertificateBody::X509(bounded("x509 certificate chain", rest, x509_chain)?.1)
        }
        _ => CertificateBody::Unknown(rest),
    };
    Ok(ServerCertificate {
        dw_version,
        chain_version,
        temporary,
        body,
    })
}

/// X509 _CERTIFICATE_CHAIN (MS-RDPELE 2.2.1.4.2): NumCertBlobs, then each certificate with
/// its 4-byte length.
fn x509_chain(i: &[u8]) -> PResult<'_, Vec<&[u8]>> {
    let (mut i, count) = le_u32(i)?;
    // Each certificate needs at least its 4-byte length: bound the count first.
    if usize_of(count).saturating_mul(4) > i.len() {
        return fail(Error::InvalidLength {
            what: "x509 certificate chain",
            length: usize_of(count),
        });
    }
    let mut certs = Vec::new();
    for _ in 0..count {
        let (rest, len) = le_u32(i)?;
        let (rest, cert) = within("x509 certificate", usize_of(len))(rest)?;
        certs.push(cert);
        i = rest;
    }
    Ok((i, certs))
}

/// PROPRIETARYSERVERCERTIFICATE (MS-RDPBCGR 2.2.1.4.3.1.1).
fn proprietary(i: &[u8]) -> PResult<'_, ProprietaryCertificate<'_>> {
    let (i, (sig_alg_id, key_alg_id, _blob_type, key_len)) =
        (le_u32, le_u32, le_u16, le_u16).parse(i)?;
    let (i, key_blob) = within("rsa public key blob", usize::from(key_len))(i)?;
    let (_, public_key) =
        bounded("rsa public key", key_blob, rsa_public_key).map_err(nom::Err::Failure)?;
    let (i, (_sig_type, sig_len)) = (le_u16, le_u16).parse(i)?;
    let (i, signature) = within("certificate signature blob", usize::from(sig_len))(i)?;
    Ok((
        i,
        ProprietaryCertificate {
            sig_alg_id,
            key_alg_id,
            public_key,
            signature,
        },
    ))
}

/// RSA_PUBLIC_KEY (MS-RDPBCGR 2.2.1.4.3.1.1.1): the `RSA1` magic, four u32 and the modulus.
fn rsa_public_key(i: &[u8]) -> PResult<'_, RsaPublicKey<'_>> {
    let (i, magic) = le_u32(i)?;
    if magic != RSA1_MAGIC {
        return fail(Error::UnexpectedValue {
            what: "rsa public key magic",
            value: magic,
        });
    }
    let (i, (keylen, bitlen, datalen, pub_exp)) = (le_u32, le_u32, le_u32, le_u32).parse(i)?;
    let (i, modulus) = within("rsa modulus", usize_of(keylen))(i)?;
    Ok((
        i,
        RsaPublicKey {
            keylen,
            bitlen,
            datalen,
            pub_exp,
            modulus,
        },
    ))
}
