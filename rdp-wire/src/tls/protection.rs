//! TLS 1.3 record protection, for reading a capture with the secrets of a key log
//! ([`super::keylog`]): the traffic keys of a secret (RFC 8446 7.1 and 7.3), a record opened
//! (5.2, the per-record nonce of 5.3), and the next secret of a KeyUpdate (7.2).
//!
//! One [`Tls13Protection`] is one direction in one epoch (handshake, then application data,
//! then each KeyUpdate): it counts the records it opened, since the sequence number is part
//! of each record's nonce and is never sent.
//!
//! Invariants:
//! - The three suites of TLS 1.3 that RDP servers negotiate: `TLS_AES_128_GCM_SHA256`,
//!   `TLS_AES_256_GCM_SHA384` and `TLS_CHACHA20_POLY1305_SHA256`; another suite is an error.
//! - A record that does not authenticate (wrong secret, a record of another epoch, altered
//!   bytes) is an error and does not advance the sequence number: its bytes are never handed
//!   out as plaintext.
//! - Keys are never shown: `Debug` prints the suite and the sequence number only.
//! - The crypto is RustCrypto's (`hkdf`, `aes-gcm`, `chacha20poly1305`), not written here;
//!   rustls does not make its key schedule or record layer public.

use std::fmt;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use sha2::{Sha256, Sha384};

use super::cipher_suites::CipherSuite;
use super::record::{ContentType, MAX_FRAGMENT_LEN};
use crate::Error;

/// The AEAD tag of every TLS 1.3 suite (RFC 8446 5.2; RFC 5116, RFC 8439).
const TAG_LEN: usize = 16;
/// The per-record nonce (`iv_length`, RFC 8446 5.3).
const IV_LEN: usize = 12;
/// The longest hash of a TLS 1.3 suite (SHA-384).
const MAX_HASH_LEN: usize = 48;

/// The hash of a suite, for HKDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    fn len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }
}

/// The AEAD of a suite, keyed.
#[derive(Clone)]
enum Cipher {
    Aes128Gcm(Box<Aes128Gcm>),
    Aes256Gcm(Box<Aes256Gcm>),
    ChaCha20Poly1305(Box<ChaCha20Poly1305>),
}

/// `HKDF-Expand-Label(secret, label, context, out.len())` (RFC 8446 7.1): the label is prefixed
/// with `tls13 `.
fn expand_label(hash: Hash, secret: &[u8], label: &str, context: &[u8], out: &mut [u8]) -> bool {
    let (Ok(len), Ok(label_len), Ok(context_len)) = (
        u16::try_from(out.len()),
        u8::try_from(label.len().saturating_add(6)),
        u8::try_from(context.len()),
    ) else {
        return false;
    };
    let mut info = Vec::with_capacity(
        usize::from(label_len)
            .saturating_add(context.len())
            .saturating_add(4),
    );
    info.extend_from_slice(&len.to_be_bytes());
    info.push(label_len);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(context_len);
    info.extend_from_slice(context);
    match hash {
        Hash::Sha256 => {
            Hkdf::<Sha256>::from_prk(secret).is_ok_and(|h| h.expand(&info, out).is_ok())
        }
        Hash::Sha384 => {
            Hkdf::<Sha384>::from_prk(secret).is_ok_and(|h| h.expand(&info, out).is_ok())
        }
    }
}

/// One direction of a TLS 1.3 connection in one epoch: its keys and its record count.
#[derive(Clone)]
pub struct Tls13Protection {
    suite: CipherSuite,
    hash: Hash,
    cipher: Cipher,
    /// The traffic secret, kept for the next epoch's ([`Tls13Protection::key_update`]).
    secret: [u8; MAX_HASH_LEN],
    iv: [u8; IV_LEN],
    seq: u64,
}

impl fmt::Debug for Tls13Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls13Protection")
            .field("suite", &self.suite)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Tls13Protection {
    /// The protection of the traffic secret `secret` under `suite` (a TLS 1.3 suite; the
    /// secret as long as its hash), from the first record on.
    pub fn new(suite: CipherSuite, secret: &[u8]) -> Result<Self, Error> {
        let hash = match suite {
            CipherSuite::TLS_AES_128_GCM_SHA256 | CipherSuite::TLS_CHACHA20_POLY1305_SHA256 => {
                Hash::Sha256
            }
            CipherSuite::TLS_AES_256_GCM_SHA384 => Hash::Sha384,
            other => {
                return Err(Error::UnexpectedValue {
                    what: "TLS 1.3 cipher suite to decrypt",
                    value: u32::from(other.0),
                })
            }
        };
        if secret.len() != hash.len() {
            return Err(Error::InvalidLength {
                what: "TLS 1.3 traffic secret",
                length: secret.len(),
            });
        }
        let mut kept = [0u8; MAX_HASH_LEN];
        kept.get_mut(..secret.len())
            .ok_or(Error::InvalidLength {
                what: "TLS 1.3 traffic secret",
                length: secret.len(),
            })?
            .copy_from_slice(secret);
        let mut iv = [0u8; IV_LEN];
        let keyed = match suite {
            CipherSuite::TLS_AES_128_GCM_SHA256 => {
                let mut key = [0u8; 16];
                (expand_label(hash, secret, "key", &[], &mut key)
                    && expand_label(hash, secret, "iv", &[], &mut iv))
                .then(|| Aes128Gcm::new_from_slice(&key).ok())
                .flatten()
                .map(|c| Cipher::Aes128Gcm(Box::new(c)))
            }
            CipherSuite::TLS_AES_256_GCM_SHA384 => {
                let mut key = [0u8; 32];
                (expand_label(hash, secret, "key", &[], &mut key)
                    && expand_label(hash, secret, "iv", &[], &mut iv))
                .then(|| Aes256Gcm::new_from_slice(&key).ok())
                .flatten()
                .map(|c| Cipher::Aes256Gcm(Box::new(c)))
            }
            _ => {
                let mut key = [0u8; 32];
                (expand_label(hash, secret, "key", &[], &mut key)
                    && expand_label(hash, secret, "iv", &[], &mut iv))
                .then(|| ChaCha20Poly1305::new_from_slice(&key).ok())
                .flatten()
                .map(|c| Cipher::ChaCha20Poly1305(Box::new(c)))
            }
        };
        let cipher = keyed.ok_or(Error::InvalidLength {
            what: "TLS 1.3 traffic secret",
            length: secret.len(),
        })?;
        Ok(Tls13Protection {
            suite,
            hash,
            cipher,
            secret: kept,
            iv,
            seq: 0,
        })
    }

    /// Opens one whole record (header included) of this direction and epoch into `out`
    /// (cleared first): the plaintext without its padding, and the real content type
    /// (`TLSInnerPlaintext`, RFC 8446 5.2). On an error `out` holds nothing and the sequence
    /// number stays.
    pub fn open(&mut self, record: &[u8], out: &mut Vec<u8>) -> Result<ContentType, Error> {
        out.clear();
        let (Some(header), Some(sealed)) = (record.get(..5), record.get(5..)) else {
            return Err(Error::Truncated {
                what: "TLS record header",
            });
        };
        let declared = header
            .get(3..5)
            .and_then(|l| <[u8; 2]>::try_from(l).ok())
            .map_or(0, |l| usize::from(u16::from_be_bytes(l)));
        if declared != sealed.len() || sealed.len() > MAX_FRAGMENT_LEN || sealed.len() <= TAG_LEN {
            return Err(Error::InvalidLength {
                what: "TLS 1.3 protected record",
                length: sealed.len(),
            });
        }
        let mut nonce = self.iv;
        for (n, s) in nonce.iter_mut().rev().zip(self.seq.to_le_bytes()) {
            *n ^= s;
        }
        out.extend_from_slice(sealed);
        let opened = match &self.cipher {
            Cipher::Aes128Gcm(c) => c.decrypt_in_place((&nonce).into(), header, out),
            Cipher::Aes256Gcm(c) => c.decrypt_in_place((&nonce).into(), header, out),
            Cipher::ChaCha20Poly1305(c) => c.decrypt_in_place((&nonce).into(), header, out),
        };
        if opened.is_err() {
            out.clear();
            return Err(Error::Authentication {
                what: "TLS 1.3 record",
            });
        }
        self.seq = self.seq.checked_add(1).ok_or(Error::UnexpectedValue {
            what: "TLS record sequence number",
            value: u32::MAX,
        })?;
        // The content type is the last byte that is not padding.
        let Some((end, content_type)) = out
            .iter()
            .enumerate()
            .rev()
            .find(|(_, b)| **b != 0)
            .map(|(i, b)| (i, *b))
        else {
            out.clear();
            return Err(Error::UnexpectedValue {
                what: "TLS 1.3 inner plaintext without a content type",
                value: 0,
            });
        };
        out.truncate(end);
        Ok(ContentType(content_type))
    }

    /// The next epoch of this direction after a KeyUpdate (RFC 8446 7.2): keys from
    /// `HKDF-Expand-Label(secret, "traffic upd", "", Hash.length)`, records counted from 0.
    pub fn key_update(&self) -> Result<Self, Error> {
        let len = self.hash.len();
        let mut next = [0u8; MAX_HASH_LEN];
        let (Some(secret), Some(out)) = (self.secret.get(..len), next.get_mut(..len)) else {
            return Err(Error::InvalidLength {
                what: "TLS 1.3 traffic secret",
                length: len,
            });
        };
        if !expand_label(self.hash, secret, "traffic upd", &[], out) {
            return Err(Error::InvalidLength {
                what: "TLS 1.3 traffic secret",
                length: len,
            });
        }
        Tls13Protection::new(self.suite, next.get(..len).unwrap_or_default())
    }

    /// The suite.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// Records opened so far in this epoch (the next record's sequence number).
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::testdata::hex;
    use crate::testdata::{TLS13_CLIENT_FIRST_APPLICATION_RECORD, TLS13_SERVER_FLIGHT};

    /// The lab's `tls-ok` key log (xrdp and FreeRDP, TLS_AES_256_GCM_SHA384): the server's
    /// handshake traffic secret and the client's first application traffic secret.
    const SHTS: &str = "4c2c929bce94fb8fb7e4e309c2a68b1ef2d264dfdbc2df46411772db5dc8208b8799830e15412e0eb3e9e574cedbe742";
    const CTS0: &str = "881fe12009271b00c4dba6ba8f0d87f47c3336d66068960e0e14dc2c0772dfe0e9c43cd4f9cc362f761479aa81bdd66e";

    /// The records of a TCP payload, each whole (header included).
    fn records(bytes: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while rest.len() >= 5 {
            let len = 5 + usize::from(u16::from_be_bytes([rest[3], rest[4]]));
            out.push(&rest[..len]);
            rest = &rest[len..];
        }
        out
    }

    /// The server's encrypted flight of `samples/tls-ok.pcap` (frame 9): EncryptedExtensions,
    /// Certificate, CertificateVerify and Finished, as tshark shows them decrypted with the
    /// same key log (record lengths 23, 882, 281 and 69; handshake types 8, 11, 15, 20).
    #[test]
    fn the_server_flight_of_a_real_tls13_handshake_opens() {
        let flight = hex(TLS13_SERVER_FLIGHT);
        let recs = records(&flight);
        // ServerHello, ChangeCipherSpec (both clear), then the four protected records.
        assert_eq!(recs.len(), 6);
        let mut p = Tls13Protection::new(CipherSuite::TLS_AES_256_GCM_SHA384, &hex(SHTS)).unwrap();
        let mut out = Vec::new();
        let mut types = Vec::new();
        for rec in &recs[2..] {
            let ct = p.open(rec, &mut out).unwrap();
            assert_eq!(ct, ContentType::HANDSHAKE);
            types.push(out[0]);
        }
        assert_eq!(types, [8, 11, 15, 20]);
        assert_eq!(p.seq(), 4);
        // EncryptedExtensions with no extension: type, 24-bit length 2, empty list.
        let mut p = Tls13Protection::new(CipherSuite::TLS_AES_256_GCM_SHA384, &hex(SHTS)).unwrap();
        p.open(recs[2], &mut out).unwrap();
        assert_eq!(out, [8, 0, 0, 2, 0, 0]);
    }

    /// The client's first application record of the same capture (frame 13): 467 bytes of
    /// plaintext, the TPKT frame of the MCS Connect Initial (tshark: `03 00 01 d3 02 f0 80 7f
    /// 65 ...`).
    #[test]
    fn the_first_application_record_is_the_mcs_connect_initial() {
        let rec = hex(TLS13_CLIENT_FIRST_APPLICATION_RECORD);
        let mut p = Tls13Protection::new(CipherSuite::TLS_AES_256_GCM_SHA384, &hex(CTS0)).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            p.open(&rec, &mut out).unwrap(),
            ContentType::APPLICATION_DATA
        );
        assert_eq!(out.len(), 467);
        assert_eq!(
            out[..9],
            [0x03, 0x00, 0x01, 0xd3, 0x02, 0xf0, 0x80, 0x7f, 0x65]
        );
    }

    /// The wrong secret, the wrong record number or one flipped bit: an error, no plaintext,
    /// and the record can still be opened with the right state.
    #[test]
    fn records_that_do_not_authenticate_are_errors() {
        let rec = hex(TLS13_CLIENT_FIRST_APPLICATION_RECORD);
        let mut out = Vec::new();
        let mut wrong =
            Tls13Protection::new(CipherSuite::TLS_AES_256_GCM_SHA384, &hex(SHTS)).unwrap();
        assert_eq!(
            wrong.open(&rec, &mut out),
            Err(Error::Authentication {
                what: "TLS 1.3 record"
            })
        );
        assert!(out.is_empty());
        assert_eq!(wrong.seq(), 0);
        let mut p = Tls13Protection::new(CipherSuite::TLS_AES_256_GCM_SHA384, &hex(CTS0)).unwrap();
        let mut flipped = rec.clone();
        flipped[100] ^= 1;
        assert!(p.open(&flipped, &mut out).is_err());
        let mut header = rec.clone();
        header[2] = 0x01; // the legacy version is authenticated too
        assert!(p.open(&header, &mut out).is_err());
        assert!(p.open(&rec[..rec.len() - 1], &mut out).is_err());
        assert_eq!(p.seq(), 0);
        assert!(p.open(&rec, &mut out).is_ok());
        // The same record again is record 1 now: another nonce.
        assert!(p.open(&rec, &mut out).is_err());
    }

    #[test]
    fn secrets_and_suites_are_checked_and_keys_never_shown() {
        let secret = hex(CTS0);
        assert!(Tls13Protection::new(CipherSuite::TLS_AES_128_GCM_SHA256, &secret).is_err());
        assert!(
            Tls13Protection::new(CipherSuite(0xc02f), &secret[..32]).is_err(),
            "a TLS 1.2 suite"
        );
        for suite in [
            CipherSuite::TLS_AES_128_GCM_SHA256,
            CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
        ] {
            let p = Tls13Protection::new(suite, &secret[..32]).unwrap();
            let shown = format!("{p:?} {:?}", p.key_update().unwrap());
            assert!(!shown.contains(&CTS0[..16]), "{shown}");
            assert!(shown.contains("seq: 0"), "{shown}");
        }
    }

    /// RFC 8446 7.2: the next secret is `HKDF-Expand-Label(secret, "traffic upd", "", 48)`;
    /// the new epoch opens its own records and not the old epoch's.
    #[test]
    fn a_key_update_starts_a_new_epoch() {
        let p = Tls13Protection::new(CipherSuite::TLS_AES_256_GCM_SHA384, &hex(CTS0)).unwrap();
        let next = p.key_update().unwrap();
        let mut expected = [0u8; 48];
        assert!(expand_label(
            Hash::Sha384,
            &hex(CTS0),
            "traffic upd",
            &[],
            &mut expected
        ));
        assert_eq!(next.secret, expected);
        assert_eq!(next.seq(), 0);
        let mut out = Vec::new();
        let mut next = next;
        assert!(next
            .open(&hex(TLS13_CLIENT_FIRST_APPLICATION_RECORD), &mut out)
            .is_err());
    }
}
