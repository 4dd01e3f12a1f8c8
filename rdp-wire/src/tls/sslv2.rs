//! The SSL 2.0 compatible ClientHello (RFC 5246 appendix E.2, RFC 6101 appendix E.1): a
//! client that still speaks to SSL 2.0 servers sends its first hello in the SSL 2.0 record
//! format, and a TLS server answers it with an ordinary TLS ServerHello.
//!
//! ```text
//! uint8 msg_length[2];          // high bit set: a two-byte header, no padding
//! uint8 msg_type;               // 1: CLIENT-HELLO
//! Version version;              // the highest version the client supports
//! uint16 cipher_spec_length;    // a multiple of 3
//! uint16 session_id_length;     // 0 (or 16 in SSL 2.0)
//! uint16 challenge_length;      // 16 to 32
//! V2CipherSpec cipher_specs[cipher_spec_length];   // 3 bytes each
//! opaque session_id[session_id_length];
//! opaque challenge[challenge_length];
//! ```
//! A cipher spec whose first byte is 0 names a TLS cipher suite (its last two bytes); the
//! others are SSL 2.0 kinds.

use nom::bytes::complete::take;
use nom::number::complete::{be_u16, u8 as byte};

use crate::parse::{bounded, need, within};
use crate::tls::cipher_suites::CipherSuite;
use crate::tls::ProtocolVersion;
use crate::Error;

/// msg_type of an SSL 2.0 CLIENT-HELLO.
pub const MSG_CLIENT_HELLO: u8 = 1;

/// The two-byte record header size.
pub const SSLV2_HEADER_LEN: usize = 2;

/// A decoded SSL 2.0 compatible ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslV2ClientHello<'a> {
    /// The highest version the client offers.
    pub version: ProtocolVersion,
    /// The TLS cipher suites among the cipher specs (first byte 0), in order.
    pub cipher_suites: Vec<CipherSuite>,
    /// How many SSL 2.0-only cipher kinds it also offers.
    pub sslv2_kinds: usize,
    /// The challenge (the client random, right-aligned in TLS's 32 bytes).
    pub challenge: &'a [u8],
}

/// Whether `input` can start an SSL 2.0 compatible ClientHello: the header's high bit, then
/// msg_type CLIENT-HELLO and a version of major 0 (SSL 2.0) or 3. Reads at most 4 bytes; with
/// fewer, answers from what is there.
pub fn looks_like_client_hello(input: &[u8]) -> bool {
    input.first().is_some_and(|b| b & 0x80 != 0)
        && input.get(2).is_none_or(|t| *t == MSG_CLIENT_HELLO)
        && input.get(3).is_none_or(|major| matches!(major, 0 | 3))
}

/// The whole message's length (header included), or `Incomplete` while the header is short.
///
/// Errors: `UnexpectedValue` when `input` is not an SSL 2.0 compatible ClientHello.
pub fn probe_client_hello(input: &[u8]) -> Result<usize, Error> {
    let Some(&[hi, lo]) = input.first_chunk::<SSLV2_HEADER_LEN>() else {
        return Err(need(input, SSLV2_HEADER_LEN));
    };
    if !looks_like_client_hello(input) {
        return Err(Error::UnexpectedValue {
            what: "sslv2 client hello header",
            value: u32::from(hi),
        });
    }
    let length = usize::from(u16::from_be_bytes([hi & 0x7f, lo]));
    let total = SSLV2_HEADER_LEN.saturating_add(length);
    if input.len() < total {
        return Err(need(input, total));
    }
    Ok(total)
}

/// Parses one whole SSL 2.0 compatible ClientHello (header included, as
/// [`probe_client_hello`] framed it).
///
/// Errors: `Truncated` for short fields, `InvalidLength` for a cipher spec list that is not a
/// multiple of 3 or lengths past the message, `UnexpectedValue` for another message type.
pub fn parse_client_hello(input: &[u8]) -> Result<SslV2ClientHello<'_>, Error> {
    let what = "sslv2 client hello";
    let total = probe_client_hello(input).map_err(|e| match e {
        Error::Incomplete { .. } => Error::Truncated { what },
        other => other,
    })?;
    let body = input.get(SSLV2_HEADER_LEN..total).unwrap_or_default();
    let (rest, (_msg_type, version, spec_len, session_len, challenge_len)) =
        bounded(what, body, (byte, be_u16, be_u16, be_u16, be_u16))?;
    let spec_len = usize::from(spec_len);
    if spec_len % 3 != 0 {
        return Err(Error::InvalidLength {
            what: "sslv2 cipher specs",
            length: spec_len,
        });
    }
    let (rest, specs) = bounded(what, rest, within("sslv2 cipher specs", spec_len))?;
    let (rest, _session_id) = bounded(
        what,
        rest,
        within("sslv2 session id", usize::from(session_len)),
    )?;
    let (_, challenge) = bounded(what, rest, take(usize::from(challenge_len)))?;
    let mut cipher_suites = Vec::new();
    let mut sslv2_kinds = 0usize;
    for spec in specs.chunks_exact(3) {
        match spec {
            [0, hi, lo] => cipher_suites.push(CipherSuite(u16::from_be_bytes([*hi, *lo]))),
            _ => sslv2_kinds = sslv2_kinds.saturating_add(1),
        }
    }
    Ok(SslV2ClientHello {
        version: ProtocolVersion(version),
        cipher_suites,
        sslv2_kinds,
        challenge,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An SSL 2.0 compatible ClientHello for TLS 1.0 in the RFC 5246 E.2 layout (the form
    /// OpenSSL 0.9.8 clients sent): TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA and the SSL 2.0
    /// kind SSL_CK_DES_192_EDE3_CBC_WITH_MD5 (0x0700c0), no session id, a 16-byte challenge.
    pub(crate) const SSLV2_HELLO: &[u8] = &[
        0x80, 0x22, 0x01, 0x03, 0x01, 0x00, 0x09, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x2f, 0x00,
        0x00, 0x0a, 0x07, 0x00, 0xc0, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
        0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
    ];

    #[test]
    fn decodes_version_and_suites() {
        assert_eq!(probe_client_hello(SSLV2_HELLO), Ok(SSLV2_HELLO.len()));
        let hello = parse_client_hello(SSLV2_HELLO).unwrap();
        assert_eq!(hello.version, ProtocolVersion::TLS1_0);
        assert_eq!(
            hello.cipher_suites,
            [CipherSuite(0x002f), CipherSuite(0x000a)]
        );
        assert_eq!(hello.sslv2_kinds, 1);
        assert_eq!(hello.challenge.len(), 16);
    }

    #[test]
    fn every_prefix_is_incomplete() {
        for n in 0..SSLV2_HELLO.len() {
            let prefix = SSLV2_HELLO.get(..n).unwrap();
            assert!(
                matches!(probe_client_hello(prefix), Err(Error::Incomplete { .. })),
                "{n}"
            );
        }
    }

    #[test]
    fn impossible_lengths_are_errors() {
        let mut bad = SSLV2_HELLO.to_vec();
        // cipher_spec_length 8: not a multiple of 3.
        bad[6] = 8;
        assert!(matches!(
            parse_client_hello(&bad),
            Err(Error::InvalidLength { .. })
        ));
        // A TLS record is not an SSL 2.0 hello.
        assert!(matches!(
            probe_client_hello(&[0x16, 0x03, 0x01, 0x00, 0x05]),
            Err(Error::UnexpectedValue { .. })
        ));
    }
}
