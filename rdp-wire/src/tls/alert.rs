//! Alerts (RFC 8446 6, RFC 5246 7.2).
//!
//! ```text
//! struct { AlertLevel level; AlertDescription description; } Alert;   // 2 bytes
//! ```
//! Only a clear-text alert can be decoded: whether an alert record is encrypted follows from
//! the sender's state (the analyzer's TLS tracker follows it), never from the record length.

use crate::values::open_enum;
use crate::Error;

open_enum! {
    /// The alert level (RFC 5246 7.2). TLS 1.3 ignores it but still sends it.
    pub struct AlertLevel(u8) {
        /// A warning (close_notify, user_canceled, no_renegotiation ...).
        WARNING = 1 => "warning",
        /// A fatal alert: the connection ends.
        FATAL = 2 => "fatal",
    }
}

open_enum! {
    /// The alert description (RFC 8446 6, RFC 5246 7.2, RFC 6066, RFC 7301, RFC 7507).
    pub struct AlertDescription(u8) {
        /// The sender will send nothing more.
        CLOSE_NOTIFY = 0 => "close_notify",
        /// An inappropriate message was received.
        UNEXPECTED_MESSAGE = 10 => "unexpected_message",
        /// A record failed authentication.
        BAD_RECORD_MAC = 20 => "bad_record_mac",
        /// Obsolete (TLS 1.0).
        DECRYPTION_FAILED = 21 => "decryption_failed",
        /// A record was too long.
        RECORD_OVERFLOW = 22 => "record_overflow",
        /// Obsolete (compression).
        DECOMPRESSION_FAILURE = 30 => "decompression_failure",
        /// No acceptable set of security parameters (e.g. no common cipher suite).
        HANDSHAKE_FAILURE = 40 => "handshake_failure",
        /// Obsolete (SSL 3.0).
        NO_CERTIFICATE = 41 => "no_certificate",
        /// A certificate was corrupt or failed verification.
        BAD_CERTIFICATE = 42 => "bad_certificate",
        /// A certificate of an unsupported type.
        UNSUPPORTED_CERTIFICATE = 43 => "unsupported_certificate",
        /// A certificate was revoked.
        CERTIFICATE_REVOKED = 44 => "certificate_revoked",
        /// A certificate has expired or is not yet valid.
        CERTIFICATE_EXPIRED = 45 => "certificate_expired",
        /// Some other certificate problem.
        CERTIFICATE_UNKNOWN = 46 => "certificate_unknown",
        /// A field was out of range or inconsistent.
        ILLEGAL_PARAMETER = 47 => "illegal_parameter",
        /// The CA certificate could not be found or does not match a trust anchor.
        UNKNOWN_CA = 48 => "unknown_ca",
        /// Access control refused the handshake.
        ACCESS_DENIED = 49 => "access_denied",
        /// A message could not be decoded.
        DECODE_ERROR = 50 => "decode_error",
        /// A cryptographic check failed.
        DECRYPT_ERROR = 51 => "decrypt_error",
        /// Obsolete (export restrictions).
        EXPORT_RESTRICTION = 60 => "export_restriction",
        /// The peer's protocol version is not supported.
        PROTOCOL_VERSION = 70 => "protocol_version",
        /// The peer's parameters are too weak.
        INSUFFICIENT_SECURITY = 71 => "insufficient_security",
        /// An error unrelated to the peer.
        INTERNAL_ERROR = 80 => "internal_error",
        /// A downgrade attempt was detected (RFC 7507).
        INAPPROPRIATE_FALLBACK = 86 => "inappropriate_fallback",
        /// The user cancelled the handshake.
        USER_CANCELED = 90 => "user_canceled",
        /// Renegotiation refused (TLS 1.2 and older).
        NO_RENEGOTIATION = 100 => "no_renegotiation",
        /// A required extension is missing.
        MISSING_EXTENSION = 109 => "missing_extension",
        /// An extension the sender did not offer or cannot handle.
        UNSUPPORTED_EXTENSION = 110 => "unsupported_extension",
        /// Obsolete (RFC 6066).
        CERTIFICATE_UNOBTAINABLE = 111 => "certificate_unobtainable",
        /// No server by the requested SNI name (RFC 6066).
        UNRECOGNIZED_NAME = 112 => "unrecognized_name",
        /// An invalid OCSP response (RFC 6066).
        BAD_CERTIFICATE_STATUS_RESPONSE = 113 => "bad_certificate_status_response",
        /// Obsolete (RFC 6066).
        BAD_CERTIFICATE_HASH_VALUE = 114 => "bad_certificate_hash_value",
        /// No acceptable PSK identity.
        UNKNOWN_PSK_IDENTITY = 115 => "unknown_psk_identity",
        /// A client certificate is required (TLS 1.3).
        CERTIFICATE_REQUIRED = 116 => "certificate_required",
        /// No common ALPN protocol (RFC 7301).
        NO_APPLICATION_PROTOCOL = 120 => "no_application_protocol",
    }
}

/// A decoded clear-text alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// The level.
    pub level: AlertLevel,
    /// The description.
    pub description: AlertDescription,
}

/// Decodes the clear-text alerts of one alert record fragment (a record may carry several,
/// RFC 5246 6.2.1). Call only for a record known to be clear text.
///
/// Errors: `Truncated` for an odd length, `InvalidLength` for an empty fragment.
pub fn parse_alerts(fragment: &[u8]) -> Result<Vec<Alert>, Error> {
    if fragment.is_empty() {
        return Err(Error::InvalidLength {
            what: "tls alert",
            length: 0,
        });
    }
    let pairs = fragment.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err(Error::Truncated { what: "tls alert" });
    }
    Ok(pairs
        .filter_map(|pair| match *pair {
            [level, description] => Some(Alert {
                level: AlertLevel(level),
                description: AlertDescription(description),
            }),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pairs() {
        let alerts = parse_alerts(&[0x02, 0x28]).unwrap();
        assert_eq!(
            alerts,
            vec![Alert {
                level: AlertLevel::FATAL,
                description: AlertDescription::HANDSHAKE_FAILURE
            }]
        );
        assert_eq!(
            alerts.first().unwrap().description.to_string(),
            "handshake_failure"
        );
        assert_eq!(AlertDescription(0xee).to_string(), "0xee");
        assert_eq!(parse_alerts(&[1, 0, 2, 70]).unwrap().len(), 2);
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(
            parse_alerts(&[2]),
            Err(Error::Truncated { what: "tls alert" })
        );
        assert!(matches!(
            parse_alerts(&[]),
            Err(Error::InvalidLength { .. })
        ));
    }
}
