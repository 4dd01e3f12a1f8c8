//! TLS record protection, for reading a capture with the secrets of a key log
//! ([`super::keylog`]):
//! - TLS 1.3 ([`Tls13Protection`]): the traffic keys of a secret (RFC 8446 7.1 and 7.3), a
//!   record opened (5.2, the per-record nonce of 5.3), and the next secret of a KeyUpdate
//!   (7.2).
//! - TLS 1.2 with an AEAD suite ([`Tls12Protection`]): the key block of a master secret (the
//!   PRF of RFC 5246 5 and 6.3), AES-GCM records (RFC 5288 3: a 4-byte salt and an explicit
//!   8-byte nonce in each record) and ChaCha20-Poly1305 records (RFC 7905 2: the sequence
//!   number in the nonce), the additional data of RFC 5246 6.2.3.3.
//!
//! One protection is one direction in one epoch (TLS 1.3: handshake, then application data,
//! then each KeyUpdate; TLS 1.2: from its ChangeCipherSpec on): it counts the records it
//! opened, since the sequence number is part of each record's nonce or additional data and is
//! never sent.
//!
//! Invariants:
//! - The three suites of TLS 1.3: `TLS_AES_128_GCM_SHA256`, `TLS_AES_256_GCM_SHA384` and
//!   `TLS_CHACHA20_POLY1305_SHA256`; for TLS 1.2 the AES-GCM and ChaCha20-Poly1305 suites (the
//!   CBC suites are not read yet); another suite is an error.
//! - A record that does not authenticate (wrong secret, a record of another epoch, altered
//!   bytes) is an error and does not advance the sequence number: its bytes are never handed
//!   out as plaintext.
//! - Keys are never shown: `Debug` prints the suite and the sequence number only.
//! - The crypto is RustCrypto's (`hkdf`, `hmac`, `aes-gcm`, `chacha20poly1305`), not written here;
//!   rustls does not make its key schedule or record layer public.

use std::fmt;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
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

/// The AEAD of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aead {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl Aead {
    fn key_len(self) -> usize {
        match self {
            Aead::Aes128Gcm => 16,
            Aead::Aes256Gcm | Aead::ChaCha20Poly1305 => 32,
        }
    }

    /// The cipher keyed with `key` (of [`Aead::key_len`] bytes).
    fn keyed(self, key: &[u8]) -> Option<Cipher> {
        Some(match self {
            Aead::Aes128Gcm => Cipher::Aes128Gcm(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            Aead::Aes256Gcm => Cipher::Aes256Gcm(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            Aead::ChaCha20Poly1305 => {
                Cipher::ChaCha20Poly1305(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
        })
    }
}

/// The AEAD of a suite, keyed.
#[derive(Clone)]
enum Cipher {
    Aes128Gcm(Box<Aes128Gcm>),
    Aes256Gcm(Box<Aes256Gcm>),
    ChaCha20Poly1305(Box<ChaCha20Poly1305>),
}

/// What every protection holds: the suite, the keyed AEAD, the IV and the records opened.
#[derive(Clone)]
struct Keys {
    suite: CipherSuite,
    cipher: Cipher,
    iv: [u8; IV_LEN],
    seq: u64,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("suite", &self.suite)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// The IV XOR the sequence number, right-aligned (RFC 8446 5.3, RFC 7905 2).
    fn seq_nonce(&self) -> [u8; IV_LEN] {
        let mut nonce = self.iv;
        for (n, s) in nonce.iter_mut().rev().zip(self.seq.to_le_bytes()) {
            *n ^= s;
        }
        nonce
    }

    /// Decrypts and authenticates `sealed` (ciphertext and tag) into `out` under `nonce` and
    /// `aad`, and counts the record; on an error `out` is empty and the count stays.
    fn open(
        &mut self,
        nonce: &[u8; IV_LEN],
        aad: &[u8],
        sealed: &[u8],
        out: &mut Vec<u8>,
        what: &'static str,
    ) -> Result<(), Error> {
        out.clear();
        out.extend_from_slice(sealed);
        let opened = match &self.cipher {
            Cipher::Aes128Gcm(c) => c.decrypt_in_place(nonce.into(), aad, out),
            Cipher::Aes256Gcm(c) => c.decrypt_in_place(nonce.into(), aad, out),
            Cipher::ChaCha20Poly1305(c) => c.decrypt_in_place(nonce.into(), aad, out),
        };
        if opened.is_err() {
            out.clear();
            return Err(Error::Authentication { what });
        }
        self.seq = self.seq.checked_add(1).ok_or(Error::UnexpectedValue {
            what: "TLS record sequence number",
            value: u32::MAX,
        })?;
        Ok(())
    }
}

/// A whole record's header and fragment: the fragment as long as the header says, longer than
/// `overhead` and no longer than a record's can be.
fn split_record<'r>(
    record: &'r [u8],
    overhead: usize,
    what: &'static str,
) -> Result<(&'r [u8], &'r [u8]), Error> {
    let (Some(header), Some(fragment)) = (record.get(..5), record.get(5..)) else {
        return Err(Error::Truncated {
            what: "TLS record header",
        });
    };
    let declared = header
        .get(3..5)
        .and_then(|l| <[u8; 2]>::try_from(l).ok())
        .map_or(0, |l| usize::from(u16::from_be_bytes(l)));
    if declared != fragment.len() || fragment.len() > MAX_FRAGMENT_LEN || fragment.len() <= overhead
    {
        return Err(Error::InvalidLength {
            what,
            length: fragment.len(),
        });
    }
    Ok((header, fragment))
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
    keys: Keys,
    hash: Hash,
    /// The traffic secret, kept for the next epoch's ([`Tls13Protection::key_update`]).
    secret: [u8; MAX_HASH_LEN],
}

impl fmt::Debug for Tls13Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls13Protection")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl Tls13Protection {
    /// The protection of the traffic secret `secret` under `suite` (a TLS 1.3 suite; the
    /// secret as long as its hash), from the first record on.
    pub fn new(suite: CipherSuite, secret: &[u8]) -> Result<Self, Error> {
        let (aead, hash) = match suite {
            CipherSuite::TLS_AES_128_GCM_SHA256 => (Aead::Aes128Gcm, Hash::Sha256),
            CipherSuite::TLS_AES_256_GCM_SHA384 => (Aead::Aes256Gcm, Hash::Sha384),
            CipherSuite::TLS_CHACHA20_POLY1305_SHA256 => (Aead::ChaCha20Poly1305, Hash::Sha256),
            other => {
                return Err(Error::UnexpectedValue {
                    what: "TLS 1.3 cipher suite to decrypt",
                    value: u32::from(other.0),
                })
            }
        };
        let bad_secret = Error::InvalidLength {
            what: "TLS 1.3 traffic secret",
            length: secret.len(),
        };
        if secret.len() != hash.len() {
            return Err(bad_secret);
        }
        let mut kept = [0u8; MAX_HASH_LEN];
        kept.get_mut(..secret.len())
            .ok_or(bad_secret.clone())?
            .copy_from_slice(secret);
        let mut key = [0u8; 32];
        let mut iv = [0u8; IV_LEN];
        let key = key.get_mut(..aead.key_len()).ok_or(bad_secret.clone())?;
        if !(expand_label(hash, secret, "key", &[], key)
            && expand_label(hash, secret, "iv", &[], &mut iv))
        {
            return Err(bad_secret);
        }
        let cipher = aead.keyed(key).ok_or(bad_secret)?;
        Ok(Tls13Protection {
            keys: Keys {
                suite,
                cipher,
                iv,
                seq: 0,
            },
            hash,
            secret: kept,
        })
    }

    /// Opens one whole record (header included) of this direction and epoch into `out`
    /// (cleared first): the plaintext without its padding, and the real content type
    /// (`TLSInnerPlaintext`, RFC 8446 5.2). On an error `out` holds nothing and the sequence
    /// number stays.
    pub fn open(&mut self, record: &[u8], out: &mut Vec<u8>) -> Result<ContentType, Error> {
        out.clear();
        let (header, sealed) = split_record(record, TAG_LEN, "TLS 1.3 protected record")?;
        let nonce = self.keys.seq_nonce();
        self.keys
            .open(&nonce, header, sealed, out, "TLS 1.3 record")?;
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
        let derived = self
            .secret
            .get(..len)
            .zip(next.get_mut(..len))
            .is_some_and(|(secret, out)| expand_label(self.hash, secret, "traffic upd", &[], out));
        if !derived {
            return Err(Error::InvalidLength {
                what: "TLS 1.3 traffic secret",
                length: len,
            });
        }
        Tls13Protection::new(self.keys.suite, next.get(..len).unwrap_or_default())
    }

    /// The suite.
    pub fn suite(&self) -> CipherSuite {
        self.keys.suite
    }

    /// Records opened so far in this epoch (the next record's sequence number).
    pub fn seq(&self) -> u64 {
        self.keys.seq
    }
}

/// `P_hash(secret, seed)` of the TLS 1.2 PRF (RFC 5246 5) into `out`.
fn p_hash<M: Mac + KeyInit + Clone>(secret: &[u8], seed: &[&[u8]], out: &mut [u8]) -> bool {
    let Ok(keyed) = <M as KeyInit>::new_from_slice(secret) else {
        return false;
    };
    // A(1) = HMAC(secret, seed); A(i) = HMAC(secret, A(i-1)).
    let mut a = keyed.clone();
    for part in seed {
        a.update(part);
    }
    let mut a = a.finalize().into_bytes();
    for chunk in out.chunks_mut(a.len()) {
        let mut block = keyed.clone();
        block.update(&a);
        for part in seed {
            block.update(part);
        }
        let block = block.finalize().into_bytes();
        chunk.copy_from_slice(block.get(..chunk.len()).unwrap_or_default());
        let mut next = keyed.clone();
        next.update(&a);
        a = next.finalize().into_bytes();
    }
    true
}

/// The TLS 1.2 PRF with the suite's hash: `P_<hash>(secret, label + seed)`.
fn prf12(hash: Hash, secret: &[u8], label: &str, seed: &[&[u8]], out: &mut [u8]) -> bool {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(seed.len().saturating_add(1));
    parts.push(label.as_bytes());
    parts.extend_from_slice(seed);
    match hash {
        Hash::Sha256 => p_hash::<Hmac<Sha256>>(secret, &parts, out),
        Hash::Sha384 => p_hash::<Hmac<Sha384>>(secret, &parts, out),
    }
}

/// One direction of a TLS 1.2 connection with an AEAD suite, from its ChangeCipherSpec on.
#[derive(Debug, Clone)]
pub struct Tls12Protection {
    keys: Keys,
    aead: Aead,
}

impl Tls12Protection {
    /// The client's and the server's protection (in that order) of a TLS 1.2 session with an
    /// AEAD `suite`, from its 48-byte master secret and the two hellos' randoms: the key block
    /// is `PRF(master, "key expansion", server_random + client_random)` (RFC 5246 6.3), cut
    /// into the client's and the server's keys, then their IVs (no MAC keys for AEAD): a 4-byte
    /// salt for AES-GCM (RFC 5288 3), 12 bytes for ChaCha20-Poly1305 (RFC 7905 2).
    pub fn from_master(
        suite: CipherSuite,
        master: &[u8],
        client_random: &[u8],
        server_random: &[u8],
    ) -> Result<[Tls12Protection; 2], Error> {
        let refused = Error::UnexpectedValue {
            what: "TLS 1.2 cipher suite to decrypt",
            value: u32::from(suite.0),
        };
        let name = suite
            .name()
            .filter(|_| !suite.is_tls13())
            .ok_or(refused.clone())?;
        let aead = if name.contains("_AES_128_GCM_") {
            Aead::Aes128Gcm
        } else if name.contains("_AES_256_GCM_") {
            Aead::Aes256Gcm
        } else if name.contains("_CHACHA20_POLY1305_") {
            Aead::ChaCha20Poly1305
        } else {
            return Err(refused);
        };
        let hash = if name.ends_with("_SHA384") {
            Hash::Sha384
        } else {
            Hash::Sha256
        };
        if master.len() != 48 || client_random.len() != 32 || server_random.len() != 32 {
            return Err(Error::InvalidLength {
                what: "TLS 1.2 master secret or hello random",
                length: master.len(),
            });
        }
        let (key_len, iv_len) = match aead {
            Aead::ChaCha20Poly1305 => (aead.key_len(), IV_LEN),
            _ => (aead.key_len(), 4),
        };
        let mut block = [0u8; 2 * 32 + 2 * IV_LEN];
        let derived = block
            .get_mut(..key_len.saturating_add(iv_len).saturating_mul(2))
            .is_some_and(|b| {
                prf12(
                    hash,
                    master,
                    "key expansion",
                    &[server_random, client_random],
                    b,
                )
            });
        if !derived {
            return Err(refused);
        }
        let part = |from: usize, len: usize| block.get(from..from.saturating_add(len));
        let side = |key: Option<&[u8]>, iv: Option<&[u8]>| -> Option<Tls12Protection> {
            let mut full = [0u8; IV_LEN];
            let iv = iv?;
            full.get_mut(..iv.len())?.copy_from_slice(iv);
            Some(Tls12Protection {
                keys: Keys {
                    suite,
                    cipher: aead.keyed(key?)?,
                    iv: full,
                    seq: 0,
                },
                aead,
            })
        };
        let ivs = key_len.saturating_mul(2);
        let client = side(part(0, key_len), part(ivs, iv_len));
        let server = side(
            part(key_len, key_len),
            part(ivs.saturating_add(iv_len), iv_len),
        );
        match (client, server) {
            (Some(c), Some(s)) => Ok([c, s]),
            _ => Err(refused),
        }
    }

    /// Opens one whole record (header included) of this direction into `out` (cleared
    /// first), returning its content type (the header's: TLS 1.2 does not hide it). On an
    /// error `out` holds nothing and the sequence number stays.
    pub fn open(&mut self, record: &[u8], out: &mut Vec<u8>) -> Result<ContentType, Error> {
        out.clear();
        // AES-GCM records start with their explicit nonce.
        let explicit: usize = match self.aead {
            Aead::ChaCha20Poly1305 => 0,
            _ => 8,
        };
        let overhead = explicit.saturating_add(TAG_LEN);
        let (header, fragment) = split_record(
            record,
            overhead.saturating_sub(1),
            "TLS 1.2 protected record",
        )?;
        let (Some(&content_type), Some(type_and_version), Some(sealed)) =
            (header.first(), header.get(..3), fragment.get(explicit..))
        else {
            return Err(Error::Truncated {
                what: "TLS record header",
            });
        };
        let plain_len = u16::try_from(fragment.len().saturating_sub(overhead)).map_err(|_| {
            Error::InvalidLength {
                what: "TLS 1.2 protected record",
                length: fragment.len(),
            }
        })?;
        let nonce = match self.aead {
            Aead::ChaCha20Poly1305 => self.keys.seq_nonce(),
            // The 4-byte salt, then the record's explicit 8 bytes (RFC 5288 3).
            _ => {
                let mut nonce = self.keys.iv;
                let (Some(dst), Some(src)) = (nonce.get_mut(4..), fragment.get(..explicit)) else {
                    return Err(Error::Truncated {
                        what: "TLS 1.2 explicit nonce",
                    });
                };
                dst.copy_from_slice(src);
                nonce
            }
        };
        // seq_num + type + version + length of the plaintext (RFC 5246 6.2.3.3).
        let mut aad = Vec::with_capacity(13);
        aad.extend_from_slice(&self.keys.seq.to_be_bytes());
        aad.extend_from_slice(type_and_version);
        aad.extend_from_slice(&plain_len.to_be_bytes());
        self.keys
            .open(&nonce, &aad, sealed, out, "TLS 1.2 record")?;
        Ok(ContentType(content_type))
    }

    /// The suite.
    pub fn suite(&self) -> CipherSuite {
        self.keys.suite
    }

    /// Records opened so far (the next record's sequence number).
    pub fn seq(&self) -> u64 {
        self.keys.seq
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::testdata::hex;
    use crate::testdata::{
        TLS12_CLIENT_FINISHED, TLS12_CLIENT_FIRST_APPLICATION_RECORD,
        TLS13_CLIENT_FIRST_APPLICATION_RECORD, TLS13_SERVER_FLIGHT,
    };

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

    /// The lab's `tls12-ok` session (xrdp, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384): its key
    /// log's master secret and the randoms of its ClientHello (frame 8) and ServerHello (frame
    /// 9), as tshark shows them.
    const TLS12_MASTER: &str = "6c498da69e45df228d21d615fc53ade3c37f7bfe1c0da6f257363ed48663b8a048cc0bd0b1ecb10cbb6b69563f82643e";
    const TLS12_CLIENT_RANDOM: &str =
        "8bd5df8b67ba4b75090dfaf72acd47409659306ccae0997b87b9e09ba35edefd";
    const TLS12_SERVER_RANDOM: &str =
        "d0808874195a11d5ff0b54d32c9679507a29053a842ccd1edb1efb51ee9df7b1";

    fn tls12_ok() -> [Tls12Protection; 2] {
        Tls12Protection::from_master(
            CipherSuite(0xc030),
            &hex(TLS12_MASTER),
            &hex(TLS12_CLIENT_RANDOM),
            &hex(TLS12_SERVER_RANDOM),
        )
        .unwrap()
    }

    /// The client's Finished (record 0 after its ChangeCipherSpec, frame 10) and its first
    /// application record (record 1, frame 12): tshark decrypts the second to the same MCS
    /// Connect Initial TPKT frame as in the TLS 1.3 capture (467 bytes, `03 00 01 d3 ...`).
    #[test]
    fn a_real_tls12_gcm_session_opens() {
        let [mut client, server] = tls12_ok();
        let mut out = Vec::new();
        let finished = hex(TLS12_CLIENT_FINISHED);
        assert_eq!(
            client.open(&finished, &mut out).unwrap(),
            ContentType::HANDSHAKE
        );
        // Finished: type 20, length 12, verify_data.
        assert_eq!((out.len(), out[..4].to_vec()), (16, vec![20, 0, 0, 12]));
        let data = hex(TLS12_CLIENT_FIRST_APPLICATION_RECORD);
        assert_eq!(
            client.open(&data, &mut out).unwrap(),
            ContentType::APPLICATION_DATA
        );
        assert_eq!(out.len(), 467);
        assert_eq!(
            out[..9],
            [0x03, 0x00, 0x01, 0xd3, 0x02, 0xf0, 0x80, 0x7f, 0x65]
        );
        assert_eq!(client.seq(), 2);
        // The server's keys, or the client's at the wrong record number, do not open it.
        let mut server = server;
        assert!(server.open(&data, &mut out).is_err());
        let [mut fresh, _] = tls12_ok();
        assert!(fresh.open(&data, &mut out).is_err());
        assert!(out.is_empty());
        assert_eq!(fresh.seq(), 0);
        assert!(format!("{fresh:?}").contains("seq: 0"));
    }

    #[test]
    fn tls12_suites_and_lengths_are_checked() {
        let (m, c, s) = (
            hex(TLS12_MASTER),
            hex(TLS12_CLIENT_RANDOM),
            hex(TLS12_SERVER_RANDOM),
        );
        // CBC, TLS 1.3 and unknown suites are refused; so is a short master secret.
        for suite in [0x002f, 0xc014, 0x1302, 0xfefe] {
            assert!(Tls12Protection::from_master(CipherSuite(suite), &m, &c, &s).is_err());
        }
        assert!(Tls12Protection::from_master(CipherSuite(0xc030), &m[..47], &c, &s).is_err());
        for suite in [0xc02b, 0xc02f, 0x009c, 0x009f, 0xcca8, 0xcca9, 0xccaa] {
            assert!(
                Tls12Protection::from_master(CipherSuite(suite), &m, &c, &s).is_ok(),
                "{suite:#x}"
            );
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
