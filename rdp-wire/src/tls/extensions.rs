//! Hello extensions (RFC 8446 4.2, RFC 6066, RFC 7301, RFC 8422, RFC 7627, RFC 5746, RFC 5077).
//!
//! ```text
//! struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; } Extension;
//! ```
//! Every extension is kept raw ([`RawExtension`]); the ones findings and fingerprints need are
//! also decoded. A malformed extension body is reported in [`HelloExtensions::errors`] and does
//! not fail the hello.

use nom::multi::length_data;
use nom::number::complete::{be_u16, be_u8};
use nom::Parser;

use crate::parse::{exact, PResult};
use crate::values::open_enum;
use crate::Error;

use super::cipher_suites::{NamedGroup, SignatureScheme};
use super::ProtocolVersion;

open_enum! {
    /// The extension type (IANA "TLS ExtensionType Values").
    pub struct ExtensionType(u16) {
        /// server_name (RFC 6066 3).
        SERVER_NAME = 0x0000 => "server_name",
        /// max_fragment_length (RFC 6066 4).
        MAX_FRAGMENT_LENGTH = 0x0001 => "max_fragment_length",
        /// status_request (RFC 6066 8).
        STATUS_REQUEST = 0x0005 => "status_request",
        /// supported_groups, formerly elliptic_curves (RFC 8422 5.1.1, RFC 7919).
        SUPPORTED_GROUPS = 0x000a => "supported_groups",
        /// ec_point_formats (RFC 8422 5.1.2).
        EC_POINT_FORMATS = 0x000b => "ec_point_formats",
        /// signature_algorithms (RFC 8446 4.2.3).
        SIGNATURE_ALGORITHMS = 0x000d => "signature_algorithms",
        /// use_srtp (RFC 5764).
        USE_SRTP = 0x000e => "use_srtp",
        /// heartbeat (RFC 6520).
        HEARTBEAT = 0x000f => "heartbeat",
        /// application_layer_protocol_negotiation (RFC 7301).
        ALPN = 0x0010 => "application_layer_protocol_negotiation",
        /// signed_certificate_timestamp (RFC 6962).
        SIGNED_CERTIFICATE_TIMESTAMP = 0x0012 => "signed_certificate_timestamp",
        /// client_certificate_type (RFC 7250).
        CLIENT_CERTIFICATE_TYPE = 0x0013 => "client_certificate_type",
        /// server_certificate_type (RFC 7250).
        SERVER_CERTIFICATE_TYPE = 0x0014 => "server_certificate_type",
        /// padding (RFC 7685).
        PADDING = 0x0015 => "padding",
        /// encrypt_then_mac (RFC 7366).
        ENCRYPT_THEN_MAC = 0x0016 => "encrypt_then_mac",
        /// extended_master_secret (RFC 7627).
        EXTENDED_MASTER_SECRET = 0x0017 => "extended_master_secret",
        /// compress_certificate (RFC 8879).
        COMPRESS_CERTIFICATE = 0x001b => "compress_certificate",
        /// record_size_limit (RFC 8449).
        RECORD_SIZE_LIMIT = 0x001c => "record_size_limit",
        /// delegated_credential (RFC 9345).
        DELEGATED_CREDENTIAL = 0x0022 => "delegated_credential",
        /// session_ticket (RFC 5077).
        SESSION_TICKET = 0x0023 => "session_ticket",
        /// pre_shared_key (RFC 8446 4.2.11).
        PRE_SHARED_KEY = 0x0029 => "pre_shared_key",
        /// early_data (RFC 8446 4.2.10).
        EARLY_DATA = 0x002a => "early_data",
        /// supported_versions (RFC 8446 4.2.1).
        SUPPORTED_VERSIONS = 0x002b => "supported_versions",
        /// cookie (RFC 8446 4.2.2).
        COOKIE = 0x002c => "cookie",
        /// psk_key_exchange_modes (RFC 8446 4.2.9).
        PSK_KEY_EXCHANGE_MODES = 0x002d => "psk_key_exchange_modes",
        /// certificate_authorities (RFC 8446 4.2.4).
        CERTIFICATE_AUTHORITIES = 0x002f => "certificate_authorities",
        /// oid_filters (RFC 8446 4.2.5).
        OID_FILTERS = 0x0030 => "oid_filters",
        /// post_handshake_auth (RFC 8446 4.2.6).
        POST_HANDSHAKE_AUTH = 0x0031 => "post_handshake_auth",
        /// signature_algorithms_cert (RFC 8446 4.2.3).
        SIGNATURE_ALGORITHMS_CERT = 0x0032 => "signature_algorithms_cert",
        /// key_share (RFC 8446 4.2.8).
        KEY_SHARE = 0x0033 => "key_share",
        /// quic_transport_parameters (RFC 9001).
        QUIC_TRANSPORT_PARAMETERS = 0x0039 => "quic_transport_parameters",
        /// application_settings (ALPS, pre-standard, Chrome).
        APPLICATION_SETTINGS = 0x4469 => "application_settings",
        /// encrypted_client_hello (draft-ietf-tls-esni).
        ENCRYPTED_CLIENT_HELLO = 0xfe0d => "encrypted_client_hello",
        /// renegotiation_info (RFC 5746).
        RENEGOTIATION_INFO = 0xff01 => "renegotiation_info",
    }
}

/// One extension, undecoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawExtension<'a> {
    /// The type.
    pub extension_type: ExtensionType,
    /// The body.
    pub data: &'a [u8],
}

/// What the decoded extensions of a ClientHello or ServerHello say. Absent extensions leave the
/// defaults (empty, `None`, `false`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelloExtensions<'a> {
    /// server_name: the first host_name entry (bytes as sent; RFC 6066 wants ASCII).
    pub server_name: Option<&'a [u8]>,
    /// supported_versions: the client's list in order, or the server's single selected version.
    pub supported_versions: Vec<ProtocolVersion>,
    /// supported_groups, in order.
    pub supported_groups: Vec<NamedGroup>,
    /// ec_point_formats, in order.
    pub ec_point_formats: Vec<u8>,
    /// signature_algorithms (0x000d only, never signature_algorithms_cert), in order.
    pub signature_algorithms: Vec<SignatureScheme>,
    /// ALPN protocol names in order (the server's single selected one in a ServerHello).
    pub alpn: Vec<&'a [u8]>,
    /// key_share groups in order (client shares; the server's share or the HelloRetryRequest's
    /// selected group).
    pub key_share_groups: Vec<NamedGroup>,
    /// psk_key_exchange_modes, in order.
    pub psk_key_exchange_modes: Vec<u8>,
    /// extended_master_secret present.
    pub extended_master_secret: bool,
    /// renegotiation_info body (the renegotiated_connection field).
    pub renegotiation_info: Option<&'a [u8]>,
    /// session_ticket body (empty when the client asks for a new ticket).
    pub session_ticket: Option<&'a [u8]>,
    /// Extensions whose body did not decode, with the reason.
    pub errors: Vec<(ExtensionType, Error)>,
}

/// Which hello an extension block belongs to: some extensions differ in shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelloKind {
    /// A ClientHello.
    Client,
    /// A ServerHello (including a HelloRetryRequest).
    Server,
    /// A HelloRetryRequest (key_share holds only the selected group).
    HelloRetryRequest,
}

fn u8_prefixed(input: &[u8]) -> PResult<'_, &[u8]> {
    length_data(be_u8).parse(input)
}

fn u16_prefixed(input: &[u8]) -> PResult<'_, &[u8]> {
    length_data(be_u16).parse(input)
}

fn raw_extension(input: &[u8]) -> PResult<'_, RawExtension<'_>> {
    let (input, t) = be_u16(input)?;
    let (input, data) = u16_prefixed(input)?;
    Ok((
        input,
        RawExtension {
            extension_type: ExtensionType(t),
            data,
        },
    ))
}

/// Splits an extension block (the bytes inside the 2-byte block length) into raw extensions.
///
/// Errors: `Truncated` when an extension runs past the block.
pub fn parse_extension_list(block: &[u8]) -> Result<Vec<RawExtension<'_>>, Error> {
    // An extension takes at least 4 bytes; hellos carry up to about 20.
    let mut out = Vec::with_capacity((block.len() / 4).min(24));
    let mut rest = block;
    while !rest.is_empty() {
        let (r, ext) = crate::parse::bounded("tls extension", rest, raw_extension)?;
        out.push(ext);
        rest = r;
    }
    Ok(out)
}

/// Reads a list of big-endian u16 values that fills `data` exactly.
fn u16_values(what: &'static str, data: &[u8]) -> Result<Vec<u16>, Error> {
    let pairs = data.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err(Error::InvalidLength {
            what,
            length: data.len(),
        });
    }
    let mut values = Vec::with_capacity(pairs.len());
    values.extend(pairs.filter_map(|p| match *p {
        [a, b] => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }));
    Ok(values)
}

/// A `<2..2^16-2>` list of u16 values behind a 2-byte length.
fn u16_list(what: &'static str, data: &[u8]) -> Result<Vec<u16>, Error> {
    let inner = exact(what, data, u16_prefixed)?;
    u16_values(what, inner)
}

fn server_name(data: &[u8]) -> Result<Option<&[u8]>, Error> {
    // An empty body is what a server echoes to acknowledge SNI (RFC 6066 3).
    if data.is_empty() {
        return Ok(None);
    }
    let mut list = exact("server_name", data, u16_prefixed)?;
    while !list.is_empty() {
        let (rest, (name_type, name)) =
            crate::parse::bounded("server_name", list, (be_u8, u16_prefixed))?;
        if name_type == 0 {
            return Ok(Some(name));
        }
        list = rest;
    }
    Ok(None)
}

fn alpn(data: &[u8]) -> Result<Vec<&[u8]>, Error> {
    let mut list = exact("alpn", data, u16_prefixed)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let (rest, name) = crate::parse::bounded("alpn", list, u8_prefixed)?;
        out.push(name);
        list = rest;
    }
    Ok(out)
}

fn client_key_share(data: &[u8]) -> Result<Vec<NamedGroup>, Error> {
    let mut list = exact("key_share", data, u16_prefixed)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let (rest, (group, _key)) =
            crate::parse::bounded("key_share", list, (be_u16, u16_prefixed))?;
        out.push(NamedGroup(group));
        list = rest;
    }
    Ok(out)
}

fn decode_one<'a>(
    kind: HelloKind,
    ext: &RawExtension<'a>,
    out: &mut HelloExtensions<'a>,
) -> Result<(), Error> {
    let data = ext.data;
    match ext.extension_type {
        ExtensionType::SERVER_NAME => out.server_name = server_name(data)?,
        ExtensionType::SUPPORTED_VERSIONS => {
            out.supported_versions = match kind {
                HelloKind::Client => {
                    let inner = exact("supported_versions", data, u8_prefixed)?;
                    u16_values("supported_versions", inner)?
                        .into_iter()
                        .map(ProtocolVersion)
                        .collect()
                }
                HelloKind::Server | HelloKind::HelloRetryRequest => {
                    vec![ProtocolVersion(exact("supported_versions", data, be_u16)?)]
                }
            }
        }
        ExtensionType::SUPPORTED_GROUPS => {
            out.supported_groups = u16_list("supported_groups", data)?
                .into_iter()
                .map(NamedGroup)
                .collect();
        }
        ExtensionType::EC_POINT_FORMATS => {
            out.ec_point_formats = exact("ec_point_formats", data, u8_prefixed)?.to_vec();
        }
        ExtensionType::SIGNATURE_ALGORITHMS => {
            out.signature_algorithms = u16_list("signature_algorithms", data)?
                .into_iter()
                .map(SignatureScheme)
                .collect();
        }
        ExtensionType::ALPN => out.alpn = alpn(data)?,
        ExtensionType::KEY_SHARE => {
            out.key_share_groups = match kind {
                HelloKind::Client => client_key_share(data)?,
                HelloKind::Server => {
                    let (group, _key) = exact("key_share", data, (be_u16, u16_prefixed))?;
                    vec![NamedGroup(group)]
                }
                HelloKind::HelloRetryRequest => {
                    vec![NamedGroup(exact("key_share", data, be_u16)?)]
                }
            }
        }
        ExtensionType::PSK_KEY_EXCHANGE_MODES => {
            out.psk_key_exchange_modes =
                exact("psk_key_exchange_modes", data, u8_prefixed)?.to_vec();
        }
        ExtensionType::EXTENDED_MASTER_SECRET => out.extended_master_secret = true,
        ExtensionType::RENEGOTIATION_INFO => {
            out.renegotiation_info = Some(exact("renegotiation_info", data, u8_prefixed)?);
        }
        ExtensionType::SESSION_TICKET => out.session_ticket = Some(data),
        _ => {}
    }
    Ok(())
}

/// Decodes the extensions this crate knows; a malformed one lands in `errors`.
pub fn decode_extensions<'a>(kind: HelloKind, exts: &[RawExtension<'a>]) -> HelloExtensions<'a> {
    let mut out = HelloExtensions::default();
    for ext in exts {
        if let Err(e) = decode_one(kind, ext, &mut out) {
            out.errors.push((ext.extension_type, e));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_client_extensions() {
        let block = [
            0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c, 0x00, 0x00, 0x09, b'l', b'o', b'c', b'a', b'l',
            b'h', b'o', b's', b't', // server_name
            0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03, // supported_versions
            0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, b'h', b'2', // alpn
            0x00, 0x17, 0x00, 0x00, // extended_master_secret
            0x00, 0x33, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x02, 0xaa,
            0xbb, // key_share
        ];
        let exts = parse_extension_list(&block).unwrap();
        assert_eq!(exts.len(), 5);
        let d = decode_extensions(HelloKind::Client, &exts);
        assert_eq!(d.server_name, Some(&b"localhost"[..]));
        assert_eq!(
            d.supported_versions,
            vec![ProtocolVersion::TLS1_3, ProtocolVersion::TLS1_2]
        );
        assert_eq!(d.alpn, vec![&b"h2"[..]]);
        assert!(d.extended_master_secret);
        assert_eq!(d.key_share_groups, vec![NamedGroup::X25519]);
        assert!(d.errors.is_empty());
    }

    #[test]
    fn truncated_and_bad_lengths() {
        // Extension claims 5 bytes, has 1.
        assert_eq!(
            parse_extension_list(&[0x00, 0x0a, 0x00, 0x05, 0x00]),
            Err(Error::Truncated {
                what: "tls extension"
            })
        );
        // supported_groups with an odd list length is reported, not fatal.
        let exts = parse_extension_list(&[0x00, 0x0a, 0x00, 0x03, 0x00, 0x01, 0x17]).unwrap();
        let d = decode_extensions(HelloKind::Client, &exts);
        assert_eq!(d.errors.len(), 1);
    }
}
