//! An owned summary of an X.509 certificate (RFC 5280) as sent in a TLS 1.2-and-older
//! Certificate message: what certificate findings need (validity, key size, signature
//! algorithm, self-signed, names, extended key usage).
//!
//! Parsing is done by `x509-parser` at this edge; nothing of it leaks into the summary.
//! Self-signed is decided without verifying the signature: issuer and subject names are equal
//! and, when both key identifiers are present, the authority key identifier matches the subject
//! key identifier.

use sha2::{Digest as _, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer as _;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::X509Name;

use crate::printable::{printable, printable_bytes, printable_string};
use crate::values::hex_lower;
use crate::Bump as _;
use crate::Error;

/// At most this many subjectAltName entries, and as many extended key usages, are kept per
/// certificate; the rest are counted (`san_not_kept`, `eku_not_kept`). A certificate message
/// of 64 KiB can list some 20,000 one-letter DNS names, each a `String` of its own; real
/// certificates list a few, CDN ones up to a few hundred.
pub const MAX_SUMMARY_LIST: usize = 256;

/// What a report says about one X.509 certificate (named apart from
/// [`crate::gcc::ServerCertificateSummary`], the Standard RDP Security server certificate block).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct X509Summary {
    /// The subject as an RFC 4514 string (`CN=host,O=Example`; most specific RDN first).
    pub subject: String,
    /// The first subject common name.
    pub subject_cn: Option<String>,
    /// The issuer as an RFC 4514 string.
    pub issuer: String,
    /// The first issuer common name.
    pub issuer_cn: Option<String>,
    /// subjectAltName DNS names and IP addresses, as strings, in order: the first
    /// [`MAX_SUMMARY_LIST`].
    pub san: Vec<String>,
    /// subjectAltName DNS names and IP addresses after those (counted, not kept).
    pub san_not_kept: usize,
    /// The serial number, lower-case hex without leading zero bytes.
    pub serial: String,
    /// notBefore, UNIX seconds.
    pub not_before: i64,
    /// notAfter, UNIX seconds.
    pub not_after: i64,
    /// notBefore, RFC 3339 UTC (`2026-11-29T10:03:46Z`).
    pub not_before_rfc3339: String,
    /// notAfter, RFC 3339 UTC.
    pub not_after_rfc3339: String,
    /// The public key algorithm: `RSA`, `EC`, `DSA`, `Ed25519`, `Ed448`, `RSA-PSS`, ... or the
    /// dotted OID.
    pub key_type: String,
    /// The key size in bits (RSA modulus, EC curve order size, DSA public value).
    pub key_bits: Option<u32>,
    /// The named curve of an EC key (`P-256`), or its dotted OID.
    pub curve: Option<String>,
    /// The certificate signature algorithm (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`),
    /// or its dotted OID.
    pub signature_algorithm: String,
    /// Issuer equals subject (and key identifiers agree when present).
    pub self_signed: bool,
    /// basicConstraints cA.
    pub is_ca: bool,
    /// The SHA-256 of the DER, lower-case hex.
    pub sha256: String,
    /// Extended key usages (`serverAuth`, `clientAuth`, `remoteDesktopAuthentication`, ...;
    /// unknown ones as dotted OIDs): the first [`MAX_SUMMARY_LIST`].
    pub eku: Vec<String>,
    /// Extended key usages after those.
    pub eku_not_kept: usize,
}

/// Adds the entry `make` gives to `list` if it has room, else counts it in `not_kept`.
fn keep(list: &mut Vec<String>, not_kept: &mut usize, make: impl FnOnce() -> String) {
    if list.len() < MAX_SUMMARY_LIST {
        list.push(make());
    } else {
        not_kept.bump();
    }
}

fn x509_error(e: impl core::fmt::Debug) -> Error {
    let _ = e;
    Error::UnexpectedValue {
        what: "x509 certificate",
        value: 0,
    }
}

/// Summarizes one DER certificate.
///
/// Errors: `UnexpectedValue { what: "x509 certificate" }` when `x509-parser` rejects it;
/// `TrailingBytes` when bytes follow the certificate.
pub fn summarize_certificate(der: &[u8]) -> Result<X509Summary, Error> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(x509_error)?;
    if !rest.is_empty() {
        return Err(Error::TrailingBytes {
            what: "x509 certificate",
            count: rest.len(),
        });
    }
    let tbs = &cert.tbs_certificate;

    let (mut san, mut san_not_kept) = (Vec::new(), 0usize);
    let (mut eku, mut eku_not_kept) = (Vec::new(), 0usize);
    let mut ski: Option<&[u8]> = None;
    let mut aki: Option<&[u8]> = None;
    let mut is_ca = false;
    for ext in tbs.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(names) => {
                for name in &names.general_names {
                    match name {
                        GeneralName::DNSName(d) => {
                            keep(&mut san, &mut san_not_kept, || printable(d).into_owned());
                        }
                        GeneralName::IPAddress(ip) => {
                            keep(&mut san, &mut san_not_kept, || ip_to_string(ip));
                        }
                        _ => {}
                    }
                }
            }
            ParsedExtension::ExtendedKeyUsage(e) => {
                let named = [
                    (e.any, "anyExtendedKeyUsage"),
                    (e.server_auth, "serverAuth"),
                    (e.client_auth, "clientAuth"),
                    (e.code_signing, "codeSigning"),
                    (e.email_protection, "emailProtection"),
                    (e.time_stamping, "timeStamping"),
                    (e.ocsp_signing, "OCSPSigning"),
                ];
                for (_, name) in named.iter().filter(|(set, _)| *set) {
                    keep(&mut eku, &mut eku_not_kept, || (*name).to_string());
                }
                for oid in &e.other {
                    keep(&mut eku, &mut eku_not_kept, || {
                        let dotted = oid.to_id_string();
                        match dotted.as_str() {
                            "1.3.6.1.4.1.311.54.1.2" => "remoteDesktopAuthentication".to_string(),
                            "1.3.6.1.4.1.311.10.3.4" => "encryptedFileSystem".to_string(),
                            "1.3.6.1.4.1.311.20.2.2" => "smartcardLogon".to_string(),
                            "1.3.6.1.5.5.7.3.17" => "ipsecIKE".to_string(),
                            "1.3.6.1.5.2.3.5" => "KPKdc".to_string(),
                            _ => dotted,
                        }
                    });
                }
            }
            ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki = a.key_identifier.as_ref().map(|k| k.0);
            }
            ParsedExtension::BasicConstraints(b) => is_ca = b.ca,
            _ => {}
        }
    }

    let names_equal = tbs.subject.as_raw() == tbs.issuer.as_raw();
    let ids_agree = match (aki, ski) {
        (Some(a), Some(s)) => a == s,
        _ => true,
    };

    let spki = &tbs.subject_pki;
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let curve_oid = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    let (key_type, mut key_bits, curve) = match key_oid.as_str() {
        "1.2.840.113549.1.1.1" => ("RSA".to_string(), None, None),
        "1.2.840.113549.1.1.10" => ("RSA-PSS".to_string(), None, None),
        "1.2.840.10045.2.1" => {
            let (name, bits) = curve_oid.as_deref().map(curve_name).unwrap_or((None, None));
            (
                "EC".to_string(),
                bits,
                name.map(str::to_string).or(curve_oid.clone()),
            )
        }
        "1.2.840.10040.4.1" => ("DSA".to_string(), None, None),
        "1.3.101.112" => ("Ed25519".to_string(), Some(256), None),
        "1.3.101.113" => ("Ed448".to_string(), Some(456), None),
        "1.3.101.110" => ("X25519".to_string(), Some(256), None),
        "1.3.101.111" => ("X448".to_string(), Some(448), None),
        "1.2.643.7.1.1.1.1" => ("GOST2012-256".to_string(), Some(256), None),
        "1.2.643.7.1.1.1.2" => ("GOST2012-512".to_string(), Some(512), None),
        _ => (key_oid.clone(), None, None),
    };
    if key_bits.is_none() {
        key_bits = match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => rsa_bits(rsa.modulus),
            Ok(key @ (PublicKey::EC(_) | PublicKey::DSA(_))) => {
                u32::try_from(key.key_size()).ok().filter(|b| *b > 0)
            }
            _ => None,
        };
    }

    let not_before = tbs.validity.not_before.timestamp();
    let not_after = tbs.validity.not_after.timestamp();
    Ok(X509Summary {
        subject: rfc4514(&tbs.subject),
        subject_cn: first_cn(&tbs.subject),
        issuer: rfc4514(&tbs.issuer),
        issuer_cn: first_cn(&tbs.issuer),
        san,
        san_not_kept,
        serial: serial_hex(tbs.raw_serial()),
        not_before,
        not_after,
        not_before_rfc3339: rfc3339(not_before),
        not_after_rfc3339: rfc3339(not_after),
        key_type,
        key_bits,
        curve,
        signature_algorithm: signature_name(&cert.signature_algorithm.algorithm.to_id_string()),
        self_signed: names_equal && ids_agree,
        is_ca,
        sha256: hex_lower(&Sha256::digest(der)),
        eku,
        eku_not_kept,
    })
}

/// The size of an RSA modulus in bits, ignoring leading zero bytes (DER INTEGER sign byte).
fn rsa_bits(modulus: &[u8]) -> Option<u32> {
    let start = modulus.iter().position(|b| *b != 0)?;
    let significant = modulus.get(start..)?;
    let first = significant.first()?;
    let len = u32::try_from(significant.len()).ok()?;
    len.checked_mul(8)?.checked_sub(first.leading_zeros())
}

fn curve_name(oid: &str) -> (Option<&'static str>, Option<u32>) {
    match oid {
        "1.2.840.10045.3.1.7" => (Some("P-256"), Some(256)),
        "1.3.132.0.34" => (Some("P-384"), Some(384)),
        "1.3.132.0.35" => (Some("P-521"), Some(521)),
        "1.2.840.10045.3.1.1" => (Some("P-192"), Some(192)),
        "1.3.132.0.33" => (Some("P-224"), Some(224)),
        "1.3.132.0.10" => (Some("secp256k1"), Some(256)),
        "1.3.36.3.3.2.8.1.1.7" => (Some("brainpoolP256r1"), Some(256)),
        "1.3.36.3.3.2.8.1.1.11" => (Some("brainpoolP384r1"), Some(384)),
        "1.3.36.3.3.2.8.1.1.13" => (Some("brainpoolP512r1"), Some(512)),
        "1.2.156.10197.1.301" => (Some("SM2"), Some(256)),
        _ => (None, None),
    }
}

fn signature_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.3.14.3.2.29" => "sha1WithRSASignature",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsa-with-SHA1",
        "2.16.840.1.101.3.4.3.1" => "dsa-with-SHA224",
        "2.16.840.1.101.3.4.3.2" => "dsa-with-SHA256",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.156.10197.1.501" => "SM2-with-SM3",
        "1.2.643.7.1.1.3.2" => "GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)",
        "1.2.643.7.1.1.3.3" => "GOST R 34.10-2012 with GOST R 34.11-2012 (512 bit)",
        _ => return oid.to_string(),
    };
    name.to_string()
}

fn ip_to_string(ip: &[u8]) -> String {
    if let Ok(v4) = <[u8; 4]>::try_from(ip) {
        return std::net::Ipv4Addr::from(v4).to_string();
    }
    if let Ok(v6) = <[u8; 16]>::try_from(ip) {
        return std::net::Ipv6Addr::from(v6).to_string();
    }
    format!("#{}", hex_lower(ip))
}

fn serial_hex(raw: &[u8]) -> String {
    let start = raw
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    hex_lower(raw.get(start..).unwrap_or(raw))
}

/// UNIX seconds as `YYYY-MM-DDTHH:MM:SSZ`; out-of-range values print as the number.
pub fn rfc3339(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => unix.to_string(),
    }
}

fn first_cn(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .next()
        .map(|a| attr_string(a.as_str().ok(), a.as_slice()))
}

fn attr_string(s: Option<&str>, raw: &[u8]) -> String {
    match s {
        Some(s) => printable(s).into_owned(),
        None => printable_bytes(raw),
    }
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        // Not in RFC 4514's table, but how every tool prints them.
        "2.5.4.5" => "SERIALNUMBER",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

/// RFC 4514 escaping of an attribute value.
fn escape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
            out.push(c);
        } else if c == '\0' {
            out.push_str("\\00");
        } else {
            out.push(c);
        }
    }
    out
}

/// The RFC 4514 string of a name: RDNs in reverse order joined by `,`, multi-valued RDNs by
/// `+`. Attribute types without a short name print as dotted OIDs; values that are not strings
/// print as `#` and the hex of their content octets. The result goes through
/// [`crate::printable`]: a name may hold any character.
fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|attr| {
                    let oid = attr.attr_type().to_id_string();
                    let key = short_name(&oid).map(str::to_string).unwrap_or(oid);
                    let value = match attr.as_str() {
                        Ok(s) => escape_value(s),
                        Err(_) => format!("#{}", hex_lower(attr.as_slice())),
                    };
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    printable_string(rdns.into_iter().rev().collect::<Vec<_>>().join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(rfc3339(1_795_946_626), "2026-11-29T10:03:46Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rsa_bits(&[0x00, 0x80, 0x00]), Some(16));
        assert_eq!(rsa_bits(&[0x01, 0x00]), Some(9));
        assert_eq!(rsa_bits(&[0x00]), None);
        assert_eq!(serial_hex(&[0x00, 0x8f, 0x01]), "8f01");
        assert_eq!(serial_hex(&[0x00]), "00");
        assert_eq!(escape_value(" a,b "), "\\ a\\,b\\ ");
        assert_eq!(ip_to_string(&[127, 0, 0, 1]), "127.0.0.1");
        assert_eq!(
            signature_name("1.2.840.113549.1.1.5"),
            "sha1WithRSAEncryption"
        );
        assert_eq!(signature_name("1.2.3"), "1.2.3");
    }

    /// One DER TLV.
    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let len = content.len();
        if len < 0x80 {
            v.push(u8::try_from(len).unwrap());
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            v.push(0x80 | u8::try_from(bytes.len()).unwrap());
            v.extend(bytes);
        }
        v.extend_from_slice(content);
        v
    }

    /// A certificate (not validly signed: the summary does not check) with `sans` DNS names
    /// and `ekus` extended key usages.
    fn certificate_with(sans: usize, ekus: usize) -> Vec<u8> {
        let seq = |parts: &[Vec<u8>]| der(0x30, &parts.concat());
        let oid = |bytes: &[u8]| der(0x06, bytes);
        let name = seq(&[der(
            0x31,
            &seq(&[oid(&[0x55, 0x04, 0x03]), der(0x0c, b"host")]),
        )]);
        let sig_alg = seq(&[
            oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]),
            der(0x05, &[]),
        ]);
        let mut point = vec![0x00, 0x04];
        point.extend([7u8; 64]);
        let spki = seq(&[
            seq(&[
                oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
                oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
            ]),
            der(0x03, &point),
        ]);
        let names: Vec<u8> = (0..sans)
            .flat_map(|i| der(0x82, format!("h{i}").as_bytes()))
            .collect();
        let usages: Vec<u8> = (0..ekus)
            .flat_map(|i| {
                let (low, high) = (
                    u8::try_from(i % 100).unwrap(),
                    u8::try_from(i / 100).unwrap(),
                );
                oid(&[0x2a, 0x03, 0x04, low, high])
            })
            .collect();
        let extensions = der(
            0xa3,
            &seq(&[
                seq(&[oid(&[0x55, 0x1d, 0x11]), der(0x04, &der(0x30, &names))]),
                seq(&[oid(&[0x55, 0x1d, 0x25]), der(0x04, &der(0x30, &usages))]),
            ]),
        );
        let tbs = seq(&[
            der(0xa0, &der(0x02, &[2])),
            der(0x02, &[1]),
            sig_alg.clone(),
            name.clone(),
            seq(&[der(0x17, b"250101000000Z"), der(0x17, b"350101000000Z")]),
            name,
            spki,
            extensions,
        ]);
        seq(&[tbs, sig_alg, der(0x03, &[0, 1, 2, 3])])
    }

    #[test]
    fn long_name_and_usage_lists_are_cut_and_counted() {
        let small = summarize_certificate(&certificate_with(3, 2)).unwrap();
        assert_eq!(small.san, ["h0", "h1", "h2"]);
        assert_eq!(
            (small.san_not_kept, small.eku.len(), small.eku_not_kept),
            (0, 2, 0)
        );
        let big = summarize_certificate(&certificate_with(10_000, 600)).unwrap();
        assert_eq!(big.san.len(), MAX_SUMMARY_LIST);
        assert_eq!(big.san.last().map(String::as_str), Some("h255"));
        assert_eq!(big.san_not_kept, 10_000 - MAX_SUMMARY_LIST);
        assert_eq!(big.eku.len(), MAX_SUMMARY_LIST);
        assert_eq!(big.eku_not_kept, 600 - MAX_SUMMARY_LIST);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(summarize_certificate(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
        assert!(summarize_certificate(&[]).is_err());
    }
}
