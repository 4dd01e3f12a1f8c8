//! TLS as RDP uses it: after a Connection Confirm that selects SSL, HYBRID, HYBRID_EX, RDSTLS or
//! RDSAAD (MS-RDPBCGR 5.4.5.1), both directions of the TCP connection carry TLS records.
//!
//! # Scope
//! What an observer can see without the keys, and with the secrets a key log gives, only what
//! explains a failure:
//! - [`record`]: the record layer (RFC 5246 6.2.1, RFC 8446 5.1): a length probe and a borrowed
//!   view of one record.
//! - [`handshake`]: handshake message framing across records ([`HandshakeReassembler`]) and the
//!   clear-text messages: ClientHello, ServerHello, Certificate, ServerKeyExchange,
//!   CertificateRequest, ServerHelloDone.
//! - [`extensions`]: hello extensions, raw and decoded.
//! - [`alert`]: alert level and description.
//! - [`cipher_suites`]: every IANA cipher suite with its properties, named groups and signature
//!   schemes.
//! - [`fingerprint`]: JA3, JA3S and JA4 (JA4S behind the `foxio-licensed` feature).
//! - [`keylog`]: NSS key log text (`SSLKEYLOGFILE`), the secrets for decrypting a capture.
//! - [`protection`]: TLS 1.3 records opened with a traffic secret from such a key log.
//!
//! Every module here but [`keylog`] (the secrets given) and [`protection`] (a direction's
//! record count) is stateless: it reads the bytes it is given and returns a view or a value.
//! Following the handshake of a connection (which side is encrypted, when it completed) is
//! diagnosis: the analyzer's TLS tracker does that on top of these parsers.
//!
//! Encrypted content is decoded only by [`protection`], with a secret from the caller: whether
//! a record is encrypted follows from the connection state (ChangeCipherSpec seen, TLS 1.3
//! handshake keys in use), never from its length or from its bytes.
//!
//! ```
//! use rdp_wire::tls::record::{probe_record, parse_record};
//! use rdp_wire::Error;
//! // A record header announcing 2 bytes of alert, with only 1 present.
//! let partial = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02];
//! assert_eq!(probe_record(&partial), Err(Error::Incomplete { needed: 1 }));
//! let full = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];
//! let (record, rest) = parse_record(&full).unwrap();
//! assert_eq!(record.fragment, &[0x02, 0x28]);
//! assert!(rest.is_empty());
//! ```

pub mod alert;
pub mod cipher_suites;
pub mod extensions;
pub mod fingerprint;
pub mod handshake;
pub mod keylog;
pub mod protection;
pub mod record;
pub mod sslv2;

pub use alert::{Alert, AlertDescription, AlertLevel};
pub use cipher_suites::{CipherMode, CipherSuite, KeyExchange, NamedGroup, SignatureScheme};
pub use handshake::{HandshakeReassembler, HandshakeType};
pub use record::{ContentType, TlsRecord};

use crate::values::open_enum;

open_enum! {
    /// A TLS protocol version as carried in records, hellos and supported_versions
    /// (RFC 8446 4.2.1, RFC 5246 6.2.1). SSL 2.0 appears only as a JA4 input.
    pub struct ProtocolVersion(u16) {
        /// SSL 2.0 (RFC 6176 prohibits it).
        SSL2_0 = 0x0002 => "SSL2.0",
        /// SSL 3.0 (RFC 6101; RFC 7568 deprecates it).
        SSL3_0 = 0x0300 => "SSL3.0",
        /// TLS 1.0 (RFC 2246).
        TLS1_0 = 0x0301 => "TLS1.0",
        /// TLS 1.1 (RFC 4346).
        TLS1_1 = 0x0302 => "TLS1.1",
        /// TLS 1.2 (RFC 5246).
        TLS1_2 = 0x0303 => "TLS1.2",
        /// TLS 1.3 (RFC 8446).
        TLS1_3 = 0x0304 => "TLS1.3",
    }
}

impl ProtocolVersion {
    /// Whether this is a reserved GREASE value (RFC 8701).
    pub fn is_grease(self) -> bool {
        is_grease(self.0)
    }
}

/// Whether a 16-bit cipher suite, extension, group, version or signature value is one of the
/// sixteen GREASE values of RFC 8701 (`0x0a0a`, `0x1a1a`, ..., `0xfafa`).
pub fn is_grease(value: u16) -> bool {
    let [hi, lo] = value.to_be_bytes();
    hi == lo && hi & 0x0f == 0x0a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values() {
        let all: Vec<u16> = (0..=u16::MAX).filter(|v| is_grease(*v)).collect();
        assert_eq!(all.len(), 16);
        assert_eq!(all.first(), Some(&0x0a0a));
        assert_eq!(all.last(), Some(&0xfafa));
        assert!(!is_grease(0x0a1a));
    }

    #[test]
    fn version_names() {
        assert_eq!(ProtocolVersion(0x0303).to_string(), "TLS1.2");
        assert_eq!(ProtocolVersion(0x0300).to_string(), "SSL3.0");
        assert_eq!(ProtocolVersion(0x7f1c).to_string(), "0x7f1c");
    }
}
