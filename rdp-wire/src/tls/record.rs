//! The TLS record layer (RFC 5246 6.2.1, RFC 8446 5.1).
//!
//! ```text
//! struct {
//!     ContentType type;                  // 1 byte, 20..=24
//!     ProtocolVersion legacy_version;    // 2 bytes, major 3
//!     uint16 length;                     // <= 2^14 + 2048 (TLSCiphertext, RFC 5246 6.2.3)
//!     opaque fragment[length];
//! } TLSPlaintext / TLSCiphertext;
//! ```

use crate::parse::need;
use crate::values::open_enum;
use crate::Error;

use super::ProtocolVersion;

open_enum! {
    /// The record content type (RFC 8446 5.1; heartbeat: RFC 6520).
    pub struct ContentType(u8) {
        /// The sender switches to the negotiated keys (TLS 1.2 and older; a no-op
        /// compatibility record in TLS 1.3).
        CHANGE_CIPHER_SPEC = 20 => "change_cipher_spec",
        /// An alert.
        ALERT = 21 => "alert",
        /// Handshake messages.
        HANDSHAKE = 22 => "handshake",
        /// Application data (and every encrypted TLS 1.3 record).
        APPLICATION_DATA = 23 => "application_data",
        /// A heartbeat message (RFC 6520).
        HEARTBEAT = 24 => "heartbeat",
    }
}

/// The record header size.
pub const RECORD_HEADER_LEN: usize = 5;

/// The largest fragment a record may carry: 2^14 plaintext bytes plus 2048 bytes of
/// compression and cipher expansion (RFC 5246 6.2.3). TLS 1.3 allows only 2^14 + 256, so
/// this bound accepts every version.
pub const MAX_FRAGMENT_LEN: usize = 16384 + 2048;

/// The largest record: header plus the largest fragment.
pub const MAX_RECORD_LEN: usize = RECORD_HEADER_LEN + MAX_FRAGMENT_LEN;

/// One TLS record, borrowed from the input.
///
/// INVARIANT: `content_type` is 20..=24, `version` has major version 3 and `fragment` is at
/// most [`MAX_FRAGMENT_LEN`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsRecord<'a> {
    /// The record content type.
    pub content_type: ContentType,
    /// The record-layer version (`legacy_record_version` in TLS 1.3; not the negotiated one).
    pub version: ProtocolVersion,
    /// The fragment: plaintext, or ciphertext once the sender has switched keys.
    pub fragment: &'a [u8],
}

/// A cheap test of whether `bytes` start like a TLS record: content type 0x14..=0x17, major
/// version 3, minor version 0..=4. Fewer than three bytes never match.
///
/// Meant for classifying a stream (TPKT starts with 0x03, so the two never collide).
pub fn looks_like_tls_record(bytes: &[u8]) -> bool {
    matches!(bytes, [0x14..=0x17, 0x03, 0x00..=0x04, ..])
}

/// Checks the record header and returns the whole record length (header included).
///
/// Errors: `Incomplete` while the header or the fragment is short; `UnexpectedValue` for a
/// content type outside 20..=24 or a major version other than 3; `InvalidLength` for a fragment
/// longer than [`MAX_FRAGMENT_LEN`]. Every proper prefix of a valid record is `Incomplete`.
pub fn probe_record(input: &[u8]) -> Result<usize, Error> {
    // Check the bytes present so far, so that garbage is rejected before the header is whole.
    if let Some(&t) = input.first() {
        if !(20..=24).contains(&t) {
            return Err(Error::UnexpectedValue {
                what: "tls content type",
                value: u32::from(t),
            });
        }
    }
    if let Some(&major) = input.get(1) {
        if major != 3 {
            return Err(Error::UnexpectedValue {
                what: "tls record major version",
                value: u32::from(major),
            });
        }
    }
    let Some(&[_, _, _, hi, lo]) = input.first_chunk::<RECORD_HEADER_LEN>() else {
        return Err(need(input, RECORD_HEADER_LEN));
    };
    let length = usize::from(u16::from_be_bytes([hi, lo]));
    if length > MAX_FRAGMENT_LEN {
        return Err(Error::InvalidLength {
            what: "tls record",
            length,
        });
    }
    // INVARIANT: length <= MAX_FRAGMENT_LEN, so the sum cannot overflow.
    let total = RECORD_HEADER_LEN.saturating_add(length);
    if input.len() < total {
        return Err(need(input, total));
    }
    Ok(total)
}

/// Splits one record off the front of `input`; returns it and the bytes after it.
///
/// Errors as [`probe_record`].
pub fn parse_record(input: &[u8]) -> Result<(TlsRecord<'_>, &[u8]), Error> {
    let total = probe_record(input)?;
    let (record, rest) = input
        .split_at_checked(total)
        .ok_or(Error::Incomplete { needed: 1 })?;
    let (header, fragment) = record
        .split_at_checked(RECORD_HEADER_LEN)
        .ok_or(Error::Incomplete { needed: 1 })?;
    let Some(&[t, major, minor, _, _]) = header.first_chunk::<RECORD_HEADER_LEN>() else {
        return Err(Error::Incomplete { needed: 1 });
    };
    Ok((
        TlsRecord {
            content_type: ContentType(t),
            version: ProtocolVersion(u16::from_be_bytes([major, minor])),
            fragment,
        },
        rest,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tls12-ok.pcap, frame 117: the client's close_notify, encrypted (a 26-byte alert record
    /// after its ChangeCipherSpec; AES-256-GCM).
    const ENCRYPTED_ALERT: [u8; 31] = [
        0x15, 0x03, 0x03, 0x00, 0x1a, 0x85, 0x47, 0x53, 0x13, 0xe7, 0x0d, 0x30, 0xcb, 0x1b, 0x86,
        0x04, 0x6f, 0x67, 0x40, 0x63, 0x44, 0xc4, 0x27, 0xb2, 0x46, 0x9e, 0xbc, 0x70, 0x1a, 0x1f,
        0x02,
    ];

    #[test]
    fn every_prefix_is_incomplete() {
        for n in 0..ENCRYPTED_ALERT.len() {
            let prefix = ENCRYPTED_ALERT.get(..n).unwrap();
            assert!(
                matches!(probe_record(prefix), Err(Error::Incomplete { .. })),
                "prefix {n}"
            );
        }
        assert_eq!(probe_record(&ENCRYPTED_ALERT), Ok(31));
        let (rec, rest) = parse_record(&ENCRYPTED_ALERT).unwrap();
        assert_eq!(rec.content_type, ContentType::ALERT);
        assert_eq!(rec.version, ProtocolVersion::TLS1_2);
        assert_eq!(rec.fragment.len(), 26);
        assert!(rest.is_empty());
    }

    #[test]
    fn needed_counts() {
        assert_eq!(probe_record(&[]), Err(Error::Incomplete { needed: 5 }));
        assert_eq!(
            probe_record(&[0x16, 3, 1, 0, 4, 1]),
            Err(Error::Incomplete { needed: 3 })
        );
    }

    #[test]
    fn rejects_bad_headers() {
        assert!(matches!(
            probe_record(&[0x03]),
            Err(Error::UnexpectedValue { .. })
        ));
        assert!(matches!(
            probe_record(&[0x19, 3, 3, 0, 1]),
            Err(Error::UnexpectedValue { .. })
        ));
        assert!(matches!(
            probe_record(&[0x16, 2]),
            Err(Error::UnexpectedValue { .. })
        ));
        assert_eq!(
            probe_record(&[0x17, 3, 3, 0x48, 0x01]),
            Err(Error::InvalidLength {
                what: "tls record",
                length: 0x4801
            })
        );
        // The largest allowed fragment is fine (and incomplete here).
        assert!(matches!(
            probe_record(&[0x17, 3, 3, 0x48, 0x00]),
            Err(Error::Incomplete { .. })
        ));
    }

    #[test]
    fn classifier() {
        assert!(looks_like_tls_record(&[0x16, 0x03, 0x01, 0x02]));
        assert!(looks_like_tls_record(&[0x17, 0x03, 0x04]));
        assert!(!looks_like_tls_record(&[0x18, 0x03, 0x03]));
        assert!(!looks_like_tls_record(&[0x03, 0x00, 0x00, 0x13]));
        assert!(!looks_like_tls_record(&[0x16, 0x03]));
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = parse_record(&bytes);
        }
    }
}
