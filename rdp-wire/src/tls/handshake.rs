//! Handshake messages (RFC 8446 4, RFC 5246 7.4) and their framing across records.
//!
//! ```text
//! struct { HandshakeType msg_type; uint24 length; opaque body[length]; } Handshake;
//! ```
//! A message may span several records and a record may hold several messages
//! (RFC 5246 6.2.1): [`HandshakeReassembler`] rebuilds them with a bounded buffer.

use nom::bytes::complete::take;
use nom::multi::length_data;
use nom::number::complete::{be_u16, be_u24, be_u8};
use nom::Parser;

use crate::parse::{bounded, exact, need, PResult};
use crate::values::open_enum;
use crate::Error;

use super::cipher_suites::{CipherSuite, NamedGroup};
use super::extensions::RawExtension;
use super::extensions::{decode_extensions, parse_extension_list, HelloExtensions, HelloKind};
use super::ProtocolVersion;

open_enum! {
    /// The handshake message type (RFC 8446 4, RFC 5246 7.4, IANA "TLS HandshakeType").
    pub struct HandshakeType(u8) {
        /// hello_request (TLS 1.2 and older).
        HELLO_REQUEST = 0 => "hello_request",
        /// client_hello.
        CLIENT_HELLO = 1 => "client_hello",
        /// server_hello (also HelloRetryRequest in TLS 1.3).
        SERVER_HELLO = 2 => "server_hello",
        /// hello_verify_request (DTLS).
        HELLO_VERIFY_REQUEST = 3 => "hello_verify_request",
        /// new_session_ticket.
        NEW_SESSION_TICKET = 4 => "new_session_ticket",
        /// end_of_early_data.
        END_OF_EARLY_DATA = 5 => "end_of_early_data",
        /// hello_retry_request (draft TLS 1.3 only).
        HELLO_RETRY_REQUEST = 6 => "hello_retry_request",
        /// encrypted_extensions.
        ENCRYPTED_EXTENSIONS = 8 => "encrypted_extensions",
        /// certificate.
        CERTIFICATE = 11 => "certificate",
        /// server_key_exchange.
        SERVER_KEY_EXCHANGE = 12 => "server_key_exchange",
        /// certificate_request.
        CERTIFICATE_REQUEST = 13 => "certificate_request",
        /// server_hello_done.
        SERVER_HELLO_DONE = 14 => "server_hello_done",
        /// certificate_verify.
        CERTIFICATE_VERIFY = 15 => "certificate_verify",
        /// client_key_exchange.
        CLIENT_KEY_EXCHANGE = 16 => "client_key_exchange",
        /// finished.
        FINISHED = 20 => "finished",
        /// certificate_url (RFC 6066).
        CERTIFICATE_URL = 21 => "certificate_url",
        /// certificate_status (RFC 6066).
        CERTIFICATE_STATUS = 22 => "certificate_status",
        /// supplemental_data (RFC 4680).
        SUPPLEMENTAL_DATA = 23 => "supplemental_data",
        /// key_update.
        KEY_UPDATE = 24 => "key_update",
        /// compressed_certificate (RFC 8879).
        COMPRESSED_CERTIFICATE = 25 => "compressed_certificate",
        /// message_hash (transcript only).
        MESSAGE_HASH = 254 => "message_hash",
    }
}

/// The handshake message header size.
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// The largest handshake message body accepted. The wire allows 2^24 - 1; RDP servers send
/// one certificate or a short chain, so 64 KiB is generous and bounds the reassembly buffer.
pub const MAX_HANDSHAKE_LEN: usize = 64 * 1024;

/// The SHA-256 of "HelloRetryRequest": a ServerHello with this random is a HelloRetryRequest
/// (RFC 8446 4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Checks the handshake header and returns the whole message length (header included).
///
/// Errors: `Incomplete` while short; `InvalidLength` for a body over [`MAX_HANDSHAKE_LEN`]
/// (reported as soon as the header is present, before any body byte is needed).
pub fn probe_handshake(input: &[u8]) -> Result<usize, Error> {
    let Some(&[_, a, b, c]) = input.first_chunk::<HANDSHAKE_HEADER_LEN>() else {
        return Err(need(input, HANDSHAKE_HEADER_LEN));
    };
    let length = usize::from(a)
        .checked_shl(16)
        .and_then(|hi| hi.checked_add(usize::from(u16::from_be_bytes([b, c]))))
        .ok_or(Error::InvalidLength {
            what: "tls handshake",
            length: usize::MAX,
        })?;
    if length > MAX_HANDSHAKE_LEN {
        return Err(Error::InvalidLength {
            what: "tls handshake",
            length,
        });
    }
    let total = HANDSHAKE_HEADER_LEN.saturating_add(length);
    if input.len() < total {
        return Err(need(input, total));
    }
    Ok(total)
}

/// One handshake message: its type and body.
pub type HandshakeMessage<'a> = (HandshakeType, &'a [u8]);

/// Splits one handshake message off the front of `input`: `((type, body), rest)`.
pub fn parse_handshake(input: &[u8]) -> Result<(HandshakeMessage<'_>, &[u8]), Error> {
    let total = probe_handshake(input)?;
    let (msg, rest) = input
        .split_at_checked(total)
        .ok_or(Error::Incomplete { needed: 1 })?;
    let Some((&[t, _, _, _], body)) = msg.split_first_chunk::<HANDSHAKE_HEADER_LEN>() else {
        return Err(Error::Incomplete { needed: 1 });
    };
    Ok(((HandshakeType(t), body), rest))
}

/// Rebuilds handshake messages from the handshake records of one direction.
///
/// Memory is bounded: at most one partial message (≤ [`MAX_HANDSHAKE_LEN`] + header) is kept,
/// and the buffer grows only with bytes actually received, never to a declared length.
///
/// A message declared over [`MAX_HANDSHAKE_LEN`] is skipped, not buffered: its bytes are
/// counted off as they come, the messages after it are handed out as usual, and
/// [`HandshakeReassembler::take_oversized`] tells its type and size once.
#[derive(Debug, Default, Clone)]
pub struct HandshakeReassembler {
    buf: Vec<u8>,
    /// Bytes of an oversized message still to skip.
    skip: usize,
    /// The oversized message met and not yet taken: type and declared body size.
    oversized: Option<(HandshakeType, usize)>,
}

impl HandshakeReassembler {
    /// An empty reassembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes of an incomplete message waiting for the next record.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Drops any partial message.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.skip = 0;
    }

    /// The type and declared body size of a message over [`MAX_HANDSHAKE_LEN`] that
    /// [`HandshakeReassembler::push`] skipped since the last call, if any (the first one).
    pub fn take_oversized(&mut self) -> Option<(HandshakeType, usize)> {
        self.oversized.take()
    }

    /// Adds the fragment of one handshake record and calls `on_message` for each message it
    /// completes, in order.
    ///
    /// A message over [`MAX_HANDSHAKE_LEN`] is skipped (see the type's documentation).
    ///
    /// Errors: none today; the `Result` stays for malformed framing a later version may find.
    pub fn push<F>(&mut self, fragment: &[u8], mut on_message: F) -> Result<(), Error>
    where
        F: FnMut(HandshakeType, &[u8]),
    {
        if self.buf.is_empty() {
            // The common case: whole messages inside one record, no copy.
            let rest = self.drain(fragment, &mut on_message)?;
            self.buf.extend_from_slice(rest);
            return Ok(());
        }
        // INVARIANT: buf holds one partial message whose declared length (if the header is
        // whole) passed probe_handshake, so it is at most MAX_HANDSHAKE_LEN + 4 bytes, and a
        // record fragment is at most 2^14 + 2048 bytes: the buffer stays bounded.
        self.buf.extend_from_slice(fragment);
        let buf = core::mem::take(&mut self.buf);
        let result = self.drain(&buf, &mut on_message).map(<[u8]>::to_vec);
        match result {
            Ok(rest) => {
                self.buf = rest;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Hands out every whole message of `input`, skipping oversized ones; returns the
    /// incomplete tail.
    fn drain<'a, F>(&mut self, mut input: &'a [u8], on_message: &mut F) -> Result<&'a [u8], Error>
    where
        F: FnMut(HandshakeType, &[u8]),
    {
        loop {
            if self.skip > 0 {
                let n = self.skip.min(input.len());
                self.skip = self.skip.saturating_sub(n);
                input = input.get(n..).unwrap_or_default();
                if input.is_empty() {
                    return Ok(input);
                }
            }
            match parse_handshake(input) {
                Ok(((t, body), rest)) => {
                    on_message(t, body);
                    input = rest;
                }
                Err(Error::Incomplete { .. }) => return Ok(input),
                Err(Error::InvalidLength {
                    what: "tls handshake",
                    length,
                }) => {
                    // INVARIANT: the header is whole (probe_handshake reads the length only
                    // then), and a 24-bit length plus 4 cannot overflow.
                    let Some(&t) = input.first() else {
                        return Ok(input);
                    };
                    self.oversized.get_or_insert((HandshakeType(t), length));
                    self.skip = HANDSHAKE_HEADER_LEN.saturating_add(length);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn u8_prefixed(input: &[u8]) -> PResult<'_, &[u8]> {
    length_data(be_u8).parse(input)
}

fn u16_prefixed(input: &[u8]) -> PResult<'_, &[u8]> {
    length_data(be_u16).parse(input)
}

fn u24_prefixed(input: &[u8]) -> PResult<'_, &[u8]> {
    length_data(be_u24).parse(input)
}

/// An optional extension block: absent in SSL 3.0 / early TLS hellos, else `<0..2^16-1>`
/// that must end the message.
fn extension_block<'a>(what: &'static str, rest: &'a [u8]) -> Result<&'a [u8], Error> {
    if rest.is_empty() {
        Ok(rest)
    } else {
        exact(what, rest, u16_prefixed)
    }
}

/// A ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2).
///
/// INVARIANT: `random` is 32 bytes, `session_id` at most 32 bytes (checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// legacy_version (the highest version for TLS 1.2 and older clients).
    pub legacy_version: ProtocolVersion,
    /// The client random.
    pub random: &'a [u8],
    /// The legacy session id.
    pub session_id: &'a [u8],
    /// Offered suites in order, GREASE values kept.
    pub cipher_suites: Vec<CipherSuite>,
    /// Offered compression methods.
    pub compression_methods: &'a [u8],
    /// Every extension in order, raw.
    pub extensions: Vec<RawExtension<'a>>,
    /// The decoded extensions.
    pub decoded: HelloExtensions<'a>,
}

/// Parses a ClientHello body.
///
/// Errors: `Truncated` for short fields, `InvalidLength` for an odd cipher suite list or a
/// session id over 32 bytes, `TrailingBytes` after the extension block.
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello<'_>, Error> {
    let what = "client_hello";
    let (rest, (version, random, session_id, suites, compression)) = bounded(
        what,
        body,
        (
            be_u16,
            take(32usize),
            u8_prefixed,
            u16_prefixed,
            u8_prefixed,
        ),
    )?;
    if session_id.len() > 32 {
        return Err(Error::InvalidLength {
            what: "session_id",
            length: session_id.len(),
        });
    }
    let pairs = suites.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err(Error::InvalidLength {
            what: "cipher_suites",
            length: suites.len(),
        });
    }
    let cipher_suites = pairs
        .filter_map(|p| match *p {
            [a, b] => Some(CipherSuite(u16::from_be_bytes([a, b]))),
            _ => None,
        })
        .collect();
    let extensions = parse_extension_list(extension_block(what, rest)?)?;
    let decoded = decode_extensions(HelloKind::Client, &extensions);
    Ok(ClientHello {
        legacy_version: ProtocolVersion(version),
        random,
        session_id,
        cipher_suites,
        compression_methods: compression,
        extensions,
        decoded,
    })
}

impl ClientHello<'_> {
    /// The versions offered, highest first, GREASE removed: from supported_versions when
    /// present, else the legacy version alone.
    pub fn offered_versions(&self) -> Vec<ProtocolVersion> {
        let mut v: Vec<ProtocolVersion> = self
            .decoded
            .supported_versions
            .iter()
            .copied()
            .filter(|v| !v.is_grease())
            .collect();
        if v.is_empty() {
            v.push(self.legacy_version);
        }
        v.sort_by(|a, b| b.cmp(a));
        v.dedup();
        v
    }
}

/// A ServerHello or HelloRetryRequest (RFC 8446 4.1.3, RFC 5246 7.4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello<'a> {
    /// legacy_version (0x0303 in TLS 1.3).
    pub legacy_version: ProtocolVersion,
    /// The server random.
    pub random: &'a [u8],
    /// The session id.
    pub session_id: &'a [u8],
    /// The selected suite.
    pub cipher_suite: CipherSuite,
    /// The selected compression method.
    pub compression_method: u8,
    /// Every extension in order, raw.
    pub extensions: Vec<RawExtension<'a>>,
    /// The decoded extensions.
    pub decoded: HelloExtensions<'a>,
    /// Whether the random marks this as a HelloRetryRequest.
    pub is_hello_retry_request: bool,
}

impl ServerHello<'_> {
    /// The negotiated version: supported_versions when present, else the legacy version.
    pub fn selected_version(&self) -> ProtocolVersion {
        self.decoded
            .supported_versions
            .first()
            .copied()
            .unwrap_or(self.legacy_version)
    }
}

/// Parses a ServerHello body.
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello<'_>, Error> {
    let what = "server_hello";
    let (rest, (version, random, session_id, suite, compression)) = bounded(
        what,
        body,
        (be_u16, take(32usize), u8_prefixed, be_u16, be_u8),
    )?;
    if session_id.len() > 32 {
        return Err(Error::InvalidLength {
            what: "session_id",
            length: session_id.len(),
        });
    }
    let is_hrr = random == HELLO_RETRY_REQUEST_RANDOM;
    let extensions = parse_extension_list(extension_block(what, rest)?)?;
    let kind = if is_hrr {
        HelloKind::HelloRetryRequest
    } else {
        HelloKind::Server
    };
    let decoded = decode_extensions(kind, &extensions);
    Ok(ServerHello {
        legacy_version: ProtocolVersion(version),
        random,
        session_id,
        cipher_suite: CipherSuite(suite),
        compression_method: compression,
        extensions,
        decoded,
        is_hello_retry_request: is_hrr,
    })
}

/// Parses a TLS 1.2-and-older Certificate body (RFC 5246 7.4.2): the DER certificates, sender's
/// certificate first.
pub fn parse_certificate_list(body: &[u8]) -> Result<Vec<&[u8]>, Error> {
    let what = "certificate";
    let mut list = exact(what, body, u24_prefixed)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let (rest, cert) = bounded(what, list, u24_prefixed)?;
        out.push(cert);
        list = rest;
    }
    Ok(out)
}

/// What a ServerKeyExchange reveals without the cipher suite context: the curve of an ECDHE
/// exchange (RFC 8422 5.4). Call only when the suite's key exchange is ECDHE.
///
/// Returns `None` for explicit curves (curve types 1 and 2).
pub fn parse_server_key_exchange_ecdhe(body: &[u8]) -> Result<Option<NamedGroup>, Error> {
    let (_, (curve_type, group)) = bounded("server_key_exchange", body, (be_u8, be_u16))?;
    Ok((curve_type == 3).then_some(NamedGroup(group)))
}

/// A TLS 1.2-and-older CertificateRequest (RFC 5246 7.4.4): certificate types decoded, the
/// signature algorithms and CA names left opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateRequest<'a> {
    /// ClientCertificateType values.
    pub certificate_types: &'a [u8],
    /// The rest of the message, undecoded.
    pub rest: &'a [u8],
}

/// Parses a TLS 1.2-and-older CertificateRequest body.
pub fn parse_certificate_request(body: &[u8]) -> Result<CertificateRequest<'_>, Error> {
    let (rest, certificate_types) = bounded("certificate_request", body, u8_prefixed)?;
    Ok(CertificateRequest {
        certificate_types,
        rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_across_records_and_several_per_record() {
        let mut r = HandshakeReassembler::new();
        let mut got: Vec<(HandshakeType, Vec<u8>)> = Vec::new();
        // A 6-byte certificate message split 3 ways, then ServerHelloDone + a partial header.
        for frag in [
            &[0x0b, 0x00][..],
            &[0x00, 0x06, 1, 2],
            &[3, 4, 5, 6, 0x0e, 0, 0, 0, 0x14],
        ] {
            r.push(frag, |t, b| got.push((t, b.to_vec()))).unwrap();
        }
        assert_eq!(
            got,
            vec![
                (HandshakeType::CERTIFICATE, vec![1, 2, 3, 4, 5, 6]),
                (HandshakeType::SERVER_HELLO_DONE, vec![])
            ]
        );
        assert_eq!(r.pending(), 1);
    }

    /// A message declared over the limit is skipped without buffering it: its type and size
    /// are told once, and the message after it is handed out.
    #[test]
    fn skips_huge_declared_length_without_allocating() {
        let mut r = HandshakeReassembler::new();
        r.push(&[0x0b, 0xff, 0xff, 0xff, 0x00], |_, _| {}).unwrap();
        assert_eq!(
            r.take_oversized(),
            Some((HandshakeType::CERTIFICATE, 0xff_ffff))
        );
        assert_eq!(r.take_oversized(), None);
        assert_eq!(r.pending(), 0);
        // Split header: the length is judged as soon as the header is whole; the body (a
        // 120 KB certificate) is counted off across records, then ServerHelloDone follows.
        let mut r = HandshakeReassembler::new();
        let mut got = Vec::new();
        r.push(&[0x0b, 0x01], |t, _| got.push(t)).unwrap();
        r.push(&[0xd4, 0xc0], |t, _| got.push(t)).unwrap();
        assert_eq!(
            r.take_oversized(),
            Some((HandshakeType::CERTIFICATE, 0x01_d4c0))
        );
        for _ in 0..(0x01_d4c0 / 16_384) {
            r.push(&[0u8; 16_384], |t, _| got.push(t)).unwrap();
            assert_eq!(r.pending(), 0);
        }
        let tail = vec![0u8; 0x01_d4c0 % 16_384];
        r.push(&tail, |t, _| got.push(t)).unwrap();
        r.push(&[0x0e, 0, 0, 0], |t, _| got.push(t)).unwrap();
        assert_eq!(got, [HandshakeType::SERVER_HELLO_DONE]);
        // Declared exactly at the limit: waits.
        assert!(matches!(
            probe_handshake(&[0x0b, 0x01, 0x00, 0x00]),
            Err(Error::Incomplete { .. })
        ));
        assert!(probe_handshake(&[0x0b, 0x01, 0x00, 0x01]).is_err());
    }

    #[test]
    fn every_prefix_is_incomplete() {
        let msg = [0x0e, 0x00, 0x00, 0x02, 0xaa, 0xbb];
        for n in 0..msg.len() {
            assert!(matches!(
                probe_handshake(msg.get(..n).unwrap()),
                Err(Error::Incomplete { .. })
            ));
        }
        assert_eq!(probe_handshake(&msg), Ok(6));
    }

    #[test]
    fn truncated_hellos() {
        assert_eq!(
            parse_client_hello(&[3, 3, 0]),
            Err(Error::Truncated {
                what: "client_hello"
            })
        );
        assert_eq!(
            parse_server_hello(&[3, 3]),
            Err(Error::Truncated {
                what: "server_hello"
            })
        );
        // Session id of 33 bytes is impossible.
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0; 32]);
        body.push(33);
        body.extend_from_slice(&[0; 33]);
        body.extend_from_slice(&[0, 2, 0, 0x2f, 1, 0]);
        assert!(matches!(
            parse_client_hello(&body),
            Err(Error::InvalidLength { .. })
        ));
    }

    #[test]
    fn certificate_list() {
        assert_eq!(
            parse_certificate_list(&[0, 0, 8, 0, 0, 1, 0xaa, 0, 0, 1, 0xbb]).unwrap(),
            vec![&[0xaa][..], &[0xbb][..]]
        );
        assert!(parse_certificate_list(&[0, 0, 7, 0, 0, 9, 0xaa, 0, 0, 1, 0xbb]).is_err());
        assert_eq!(
            parse_server_key_exchange_ecdhe(&[3, 0, 0x1d, 0x20]).unwrap(),
            Some(NamedGroup::X25519)
        );
    }
}
