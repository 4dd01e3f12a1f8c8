//! TLS record protection, for reading a capture with the secrets of a key log
//! ([`super::keylog`]):
//! - TLS 1.3 ([`Tls13Protection`]): the traffic keys of a secret (RFC 8446 7.1 and 7.3), a
//!   record opened (5.2, the per-record nonce of 5.3), and the next secret of a KeyUpdate
//!   (7.2).
//! - TLS 1.0 to 1.2 ([`Tls12Protection`]): the master secret of a premaster secret
//!   ([`master_secret`], Extended Master Secret included; an RSA key exchange's premaster
//!   secret from the server's key: [`RsaKey`]), the key block of a master secret (the PRF of RFC
//!   5246 5 and 6.3; RFC 2246 5 before TLS 1.2), AES-GCM records (RFC 5288 3: a 4-byte salt
//!   and an explicit 8-byte nonce in each record) and ChaCha20-Poly1305 records (RFC 7905 2:
//!   the sequence number in the nonce) with the additional data of RFC 5246 6.2.3.3, and
//!   AES-CBC records with HMAC-SHA1/SHA256/SHA384, MAC-then-encrypt (RFC 5246 6.2.3.2) or
//!   encrypt-then-MAC (RFC 7366), TLS 1.0's IV chained from record to record.
//!
//! One protection is one direction in one epoch (TLS 1.3: handshake, then application data,
//! then each KeyUpdate; TLS 1.2: from its ChangeCipherSpec on): it counts the records it
//! opened, since the sequence number is part of each record's nonce or additional data and is
//! never sent.
//!
//! Invariants:
//! - The three suites of TLS 1.3: `TLS_AES_128_GCM_SHA256`, `TLS_AES_256_GCM_SHA384` and
//!   `TLS_CHACHA20_POLY1305_SHA256`; before TLS 1.3 the AES-GCM, ChaCha20-Poly1305 and
//!   AES-CBC suites (not 3DES, RC4 or CCM); another suite is an error.
//! - A record that does not authenticate (wrong secret, a record of another epoch, altered
//!   bytes, a bad CBC padding) is an error and does not advance the sequence number: its
//!   bytes are never handed out as plaintext.
//! - Keys are never shown: `Debug` prints the suite and the sequence number (for CBC, whether
//!   encrypt-then-MAC is on), and an [`RsaKey`] its size, nothing else.
//! - The crypto is RustCrypto's (`hkdf`, `hmac`, `sha1`, `md-5`, `aes`, `cbc`, `aes-gcm`,
//!   `chacha20poly1305`, `rsa`), not written here; rustls does not make its key schedule or
//!   record layer public.

use std::fmt;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384};

use super::cipher_suites::CipherSuite;
use super::record::{ContentType, MAX_FRAGMENT_LEN};
use super::ProtocolVersion;
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

/// The TLS 1.0 and 1.1 PRF (RFC 2246 5): `P_MD5(S1, label + seed) XOR P_SHA1(S2, label +
/// seed)`, S1 and S2 the two halves of the secret (sharing a byte when its length is odd).
fn prf10(secret: &[u8], label: &str, seed: &[&[u8]], out: &mut [u8]) -> bool {
    let half = secret.len().div_ceil(2);
    let (Some(s1), Some(s2)) = (
        secret.get(..half),
        secret.get(secret.len().saturating_sub(half)..),
    ) else {
        return false;
    };
    let mut parts: Vec<&[u8]> = Vec::with_capacity(seed.len().saturating_add(1));
    parts.push(label.as_bytes());
    parts.extend_from_slice(seed);
    let mut sha1_part = vec![0u8; out.len()];
    if !(p_hash::<Hmac<md5::Md5>>(s1, &parts, out)
        && p_hash::<Hmac<sha1::Sha1>>(s2, &parts, &mut sha1_part))
    {
        return false;
    }
    for (o, x) in out.iter_mut().zip(sha1_part) {
        *o ^= x;
    }
    true
}

/// The MAC of a CBC suite (HMAC with the suite's hash, RFC 5246 6.2.3.1), keyed.
#[derive(Clone)]
enum MacKey {
    Sha1(Vec<u8>),
    Sha256(Vec<u8>),
    Sha384(Vec<u8>),
}

impl MacKey {
    fn len(&self) -> usize {
        match self {
            MacKey::Sha1(_) => 20,
            MacKey::Sha256(_) => 32,
            MacKey::Sha384(_) => 48,
        }
    }

    /// Whether `tag` is the MAC of `parts` (compared in constant time by `hmac`).
    fn verifies(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        fn check<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
            let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
                return false;
            };
            for part in parts {
                mac.update(part);
            }
            mac.verify_slice(tag).is_ok()
        }
        match self {
            MacKey::Sha1(k) => check::<Hmac<sha1::Sha1>>(k, parts, tag),
            MacKey::Sha256(k) => check::<Hmac<Sha256>>(k, parts, tag),
            MacKey::Sha384(k) => check::<Hmac<Sha384>>(k, parts, tag),
        }
    }
}

/// The AES key of a CBC suite.
#[derive(Clone)]
enum AesKey {
    Aes128([u8; 16]),
    Aes256([u8; 32]),
}

impl AesKey {
    /// Decrypts whole blocks in place (no padding removed).
    fn decrypt(&self, iv: &[u8; BLOCK_LEN], blocks: &mut [u8]) -> bool {
        use cbc::cipher::block_padding::NoPadding;
        use cbc::cipher::{BlockDecryptMut, KeyIvInit};
        match self {
            AesKey::Aes128(k) => cbc::Decryptor::<aes::Aes128>::new(k.into(), iv.into())
                .decrypt_padded_mut::<NoPadding>(blocks)
                .is_ok(),
            AesKey::Aes256(k) => cbc::Decryptor::<aes::Aes256>::new(k.into(), iv.into())
                .decrypt_padded_mut::<NoPadding>(blocks)
                .is_ok(),
        }
    }
}

/// The AES block, and a CBC record's IV.
const BLOCK_LEN: usize = 16;

/// One direction of a CBC suite.
#[derive(Clone)]
struct CbcKeys {
    suite: CipherSuite,
    version: ProtocolVersion,
    aes: AesKey,
    mac: MacKey,
    /// TLS 1.0: the IV of the next record (the key block's, then the last ciphertext block).
    chained: [u8; BLOCK_LEN],
    encrypt_then_mac: bool,
    seq: u64,
}

impl fmt::Debug for CbcKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CbcKeys")
            .field("suite", &self.suite)
            .field("encrypt_then_mac", &self.encrypt_then_mac)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl CbcKeys {
    /// Opens the fragment of a record whose first three header bytes are `type_and_version`
    /// (RFC 5246 6.2.3.2; RFC 7366 3 with encrypt-then-MAC; RFC 2246 6.2.3.2 for TLS 1.0's
    /// chained IV). The plaintext goes to `out`.
    fn open(
        &mut self,
        type_and_version: &[u8],
        fragment: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let failed = Error::Authentication {
            what: "TLS CBC record",
        };
        let bad_length = Error::InvalidLength {
            what: "TLS CBC protected record",
            length: fragment.len(),
        };
        let mac_len = self.mac.len();
        let seq = self.seq.to_be_bytes();
        // Encrypt-then-MAC: the MAC covers the IV and the ciphertext, and is checked first.
        let sealed = if self.encrypt_then_mac {
            let split = fragment
                .len()
                .checked_sub(mac_len)
                .ok_or(bad_length.clone())?;
            let (sealed, tag) = fragment.split_at(split);
            let len = u16::try_from(sealed.len()).map_err(|_| bad_length.clone())?;
            let len = len.to_be_bytes();
            if !self
                .mac
                .verifies(&[&seq, type_and_version, &len, sealed], tag)
            {
                return Err(failed);
            }
            sealed
        } else {
            fragment
        };
        let explicit = self.version != ProtocolVersion::TLS1_0;
        let (iv, blocks) = if explicit {
            let (iv, blocks) = sealed.split_at(BLOCK_LEN.min(sealed.len()));
            (
                <[u8; BLOCK_LEN]>::try_from(iv).map_err(|_| bad_length.clone())?,
                blocks,
            )
        } else {
            (self.chained, sealed)
        };
        if blocks.is_empty() || blocks.len() % BLOCK_LEN != 0 {
            return Err(bad_length);
        }
        out.clear();
        out.extend_from_slice(blocks);
        if !self.aes.decrypt(&iv, out) {
            out.clear();
            return Err(bad_length);
        }
        // The padding: its length byte last, that many bytes of the same value before it.
        let pad = out.last().copied().map_or(0, usize::from);
        let padded = pad.saturating_add(1);
        let mac_inside = if self.encrypt_then_mac { 0 } else { mac_len };
        let content_len = out.len().checked_sub(padded.saturating_add(mac_inside));
        let padding_ok = out
            .get(out.len().saturating_sub(padded)..)
            .is_some_and(|p| p.iter().all(|b| usize::from(*b) == pad));
        let Some(content_len) = content_len.filter(|_| padding_ok) else {
            out.clear();
            return Err(failed);
        };
        if !self.encrypt_then_mac {
            let (content, rest) = out.split_at(content_len);
            let tag = rest.get(..mac_len).unwrap_or_default();
            let len = u16::try_from(content_len)
                .map_err(|_| bad_length.clone())?
                .to_be_bytes();
            if !self
                .mac
                .verifies(&[&seq, type_and_version, &len, content], tag)
            {
                out.clear();
                return Err(failed);
            }
        }
        out.truncate(content_len);
        if !explicit {
            if let Some(last) = blocks.get(blocks.len().saturating_sub(BLOCK_LEN)..) {
                self.chained.copy_from_slice(last);
            }
        }
        self.seq = self.seq.checked_add(1).ok_or(Error::UnexpectedValue {
            what: "TLS record sequence number",
            value: u32::MAX,
        })?;
        Ok(())
    }
}

/// How a TLS 1.0-1.2 direction protects its records.
#[derive(Debug, Clone)]
enum Mode12 {
    Aead { keys: Keys, aead: Aead },
    Cbc(Box<CbcKeys>),
}

/// One direction of a TLS 1.0, 1.1 or 1.2 connection, from its ChangeCipherSpec on: an AEAD
/// suite (AES-GCM, ChaCha20-Poly1305; TLS 1.2) or an AES-CBC suite with HMAC-SHA1, -SHA256 or
/// -SHA384, MAC-then-encrypt or encrypt-then-MAC (RFC 7366).
#[derive(Debug, Clone)]
pub struct Tls12Protection {
    mode: Mode12,
}

impl Tls12Protection {
    /// The client's and the server's protection (in that order) of a session with `suite`
    /// at `version`, from its 48-byte master secret and the two hellos' randoms: the key block
    /// is `PRF(master, "key expansion", server_random + client_random)` (RFC 5246 6.3; the
    /// MD5/SHA-1 PRF of RFC 2246 5 before TLS 1.2), cut into the client's and the server's MAC
    /// keys (CBC only), keys, then IVs: a 4-byte salt for AES-GCM (RFC 5288 3), 12 bytes for
    /// ChaCha20-Poly1305 (RFC 7905 2), 16 for CBC (used by TLS 1.0 only). `encrypt_then_mac`:
    /// both hellos carried the extension (RFC 7366; CBC only).
    pub fn from_master(
        suite: CipherSuite,
        version: ProtocolVersion,
        master: &[u8],
        client_random: &[u8],
        server_random: &[u8],
        encrypt_then_mac: bool,
    ) -> Result<[Tls12Protection; 2], Error> {
        let refused = Error::UnexpectedValue {
            what: "TLS 1.0-1.2 cipher suite to decrypt",
            value: u32::from(suite.0),
        };
        let name = suite
            .name()
            .filter(|_| !suite.is_tls13())
            .ok_or(refused.clone())?;
        if master.len() != 48 || client_random.len() != 32 || server_random.len() != 32 {
            return Err(Error::InvalidLength {
                what: "TLS master secret or hello random",
                length: master.len(),
            });
        }
        let old_prf = matches!(version, ProtocolVersion::TLS1_0 | ProtocolVersion::TLS1_1);
        if !old_prf && version != ProtocolVersion::TLS1_2 {
            return Err(Error::UnexpectedValue {
                what: "TLS version to decrypt",
                value: u32::from(version.0),
            });
        }
        let hash = prf_hash(suite);
        // (key, MAC key, IV) lengths and the mode's constructor.
        let cbc_key = |key: &[u8]| -> Option<AesKey> {
            Some(match key.len() {
                16 => AesKey::Aes128(key.try_into().ok()?),
                _ => AesKey::Aes256(key.try_into().ok()?),
            })
        };
        let (key_len, mac_len, iv_len, aead) = if name.contains("_AES_128_GCM_") {
            (16, 0, 4, Some(Aead::Aes128Gcm))
        } else if name.contains("_AES_256_GCM_") {
            (32, 0, 4, Some(Aead::Aes256Gcm))
        } else if name.contains("_CHACHA20_POLY1305_") {
            (32, 0, IV_LEN, Some(Aead::ChaCha20Poly1305))
        } else if name.contains("_AES_128_CBC_") || name.contains("_AES_256_CBC_") {
            let key_len: usize = if name.contains("_AES_128_") { 16 } else { 32 };
            let mac_len: usize = if name.ends_with("_SHA") {
                20
            } else {
                hash.len()
            };
            (key_len, mac_len, BLOCK_LEN, None)
        } else {
            return Err(refused);
        };
        if aead.is_some() && old_prf {
            return Err(refused);
        }
        let mut block = vec![
            0u8;
            mac_len
                .saturating_add(key_len)
                .saturating_add(iv_len)
                .saturating_mul(2)
        ];
        let seed = [server_random, client_random];
        let derived = if old_prf {
            prf10(master, "key expansion", &seed, &mut block)
        } else {
            prf12(hash, master, "key expansion", &seed, &mut block)
        };
        if !derived {
            return Err(refused);
        }
        let part = |from: usize, len: usize| block.get(from..from.saturating_add(len));
        let keys_at = mac_len.saturating_mul(2);
        let ivs_at = keys_at.saturating_add(key_len.saturating_mul(2));
        let side = |n: usize| -> Option<Tls12Protection> {
            let mac = part(mac_len.saturating_mul(n), mac_len)?;
            let key = part(keys_at.saturating_add(key_len.saturating_mul(n)), key_len)?;
            let iv = part(ivs_at.saturating_add(iv_len.saturating_mul(n)), iv_len)?;
            let mode = match aead {
                Some(aead) => {
                    let mut full = [0u8; IV_LEN];
                    full.get_mut(..iv.len())?.copy_from_slice(iv);
                    Mode12::Aead {
                        keys: Keys {
                            suite,
                            cipher: aead.keyed(key)?,
                            iv: full,
                            seq: 0,
                        },
                        aead,
                    }
                }
                None => Mode12::Cbc(Box::new(CbcKeys {
                    suite,
                    version,
                    aes: cbc_key(key)?,
                    mac: match mac_len {
                        20 => MacKey::Sha1(mac.to_vec()),
                        32 => MacKey::Sha256(mac.to_vec()),
                        _ => MacKey::Sha384(mac.to_vec()),
                    },
                    chained: iv.try_into().ok()?,
                    encrypt_then_mac,
                    seq: 0,
                })),
            };
            Some(Tls12Protection { mode })
        };
        match (side(0), side(1)) {
            (Some(c), Some(s)) => Ok([c, s]),
            _ => Err(refused),
        }
    }

    /// Opens one whole record (header included) of this direction into `out` (cleared
    /// first), returning its content type (the header's: before TLS 1.3 it is not hidden).
    /// On an error `out` holds nothing and the sequence number stays.
    pub fn open(&mut self, record: &[u8], out: &mut Vec<u8>) -> Result<ContentType, Error> {
        out.clear();
        let what = "TLS 1.0-1.2 protected record";
        let (keys, aead) = match &mut self.mode {
            Mode12::Cbc(cbc) => {
                let (header, fragment) = split_record(record, 0, what)?;
                let (Some(&content_type), Some(type_and_version)) =
                    (header.first(), header.get(..3))
                else {
                    return Err(Error::Truncated {
                        what: "TLS record header",
                    });
                };
                cbc.open(type_and_version, fragment, out)?;
                return Ok(ContentType(content_type));
            }
            Mode12::Aead { keys, aead } => (keys, *aead),
        };
        // AES-GCM records start with their explicit nonce.
        let explicit: usize = match aead {
            Aead::ChaCha20Poly1305 => 0,
            _ => 8,
        };
        let overhead = explicit.saturating_add(TAG_LEN);
        let (header, fragment) = split_record(record, overhead.saturating_sub(1), what)?;
        let (Some(&content_type), Some(type_and_version), Some(sealed)) =
            (header.first(), header.get(..3), fragment.get(explicit..))
        else {
            return Err(Error::Truncated {
                what: "TLS record header",
            });
        };
        let plain_len = u16::try_from(fragment.len().saturating_sub(overhead)).map_err(|_| {
            Error::InvalidLength {
                what,
                length: fragment.len(),
            }
        })?;
        let nonce = match aead {
            Aead::ChaCha20Poly1305 => keys.seq_nonce(),
            // The 4-byte salt, then the record's explicit 8 bytes (RFC 5288 3).
            _ => {
                let mut nonce = keys.iv;
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
        aad.extend_from_slice(&keys.seq.to_be_bytes());
        aad.extend_from_slice(type_and_version);
        aad.extend_from_slice(&plain_len.to_be_bytes());
        keys.open(&nonce, &aad, sealed, out, "TLS 1.2 record")?;
        Ok(ContentType(content_type))
    }

    /// The suite.
    pub fn suite(&self) -> CipherSuite {
        match &self.mode {
            Mode12::Aead { keys, .. } => keys.suite,
            Mode12::Cbc(cbc) => cbc.suite,
        }
    }

    /// Records opened so far (the next record's sequence number).
    pub fn seq(&self) -> u64 {
        match &self.mode {
            Mode12::Aead { keys, .. } => keys.seq,
            Mode12::Cbc(cbc) => cbc.seq,
        }
    }
}

/// A server's RSA private key, for the `TLS_RSA_*` key exchange: the ClientKeyExchange carries
/// the premaster secret encrypted to it (RFC 5246 7.4.7.1). Never shown.
#[derive(Clone)]
pub struct RsaKey(rsa::RsaPrivateKey);

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use rsa::traits::PublicKeyParts;
        write!(f, "RsaKey({} bits)", self.0.size().saturating_mul(8))
    }
}

impl RsaKey {
    /// A key from PEM text: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(pem: &[u8]) -> Result<RsaKey, Error> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        let not_a_key = Error::UnexpectedValue {
            what: "RSA private key (PEM, PKCS#1 or PKCS#8)",
            value: 0,
        };
        let text = std::str::from_utf8(pem).map_err(|_| not_a_key.clone())?;
        rsa::RsaPrivateKey::from_pkcs8_pem(text)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(text))
            .map(RsaKey)
            .map_err(|_| not_a_key)
    }

    /// The modulus, big-endian: what a server certificate's public key is matched on.
    pub fn modulus(&self) -> Vec<u8> {
        use rsa::traits::PublicKeyParts;
        self.0.n().to_bytes_be()
    }

    /// The 48-byte premaster secret of a ClientKeyExchange body (TLS 1.0 to 1.2: a 2-byte
    /// length, then the encrypted secret), decrypted with PKCS#1 v1.5 (RFC 5246 7.4.7.1).
    pub fn premaster(&self, client_key_exchange: &[u8]) -> Result<[u8; 48], Error> {
        let failed = Error::Authentication {
            what: "RSA-encrypted premaster secret",
        };
        let (len, encrypted) = client_key_exchange.split_at(2.min(client_key_exchange.len()));
        let len = <[u8; 2]>::try_from(len).map_or(0, |l| usize::from(u16::from_be_bytes(l)));
        if len != encrypted.len() {
            return Err(Error::InvalidLength {
                what: "EncryptedPreMasterSecret",
                length: len,
            });
        }
        let plain = self
            .0
            .decrypt(rsa::Pkcs1v15Encrypt, encrypted)
            .map_err(|_| failed.clone())?;
        <[u8; 48]>::try_from(plain.as_slice()).map_err(|_| failed)
    }
}

/// The master secret of a TLS 1.0-1.2 session from its premaster secret (RFC 5246 8.1):
/// `PRF(premaster, "master secret", client_random + server_random)`, or with the Extended
/// Master Secret (RFC 7627 4) `PRF(premaster, "extended master secret", session_hash)`, where
/// `session_hash` is the hash of the handshake messages from the ClientHello through the
/// ClientKeyExchange: the suite's PRF hash in TLS 1.2, MD5 then SHA-1 before
/// ([`session_hash`]).
pub fn master_secret(
    suite: CipherSuite,
    version: ProtocolVersion,
    premaster: &[u8],
    client_random: &[u8],
    server_random: &[u8],
    session_hash: Option<&[u8]>,
) -> Result<[u8; 48], Error> {
    let mut master = [0u8; 48];
    let (label, seed): (&str, Vec<&[u8]>) = match session_hash {
        Some(h) => ("extended master secret", vec![h]),
        None => ("master secret", vec![client_random, server_random]),
    };
    let derived = match version {
        ProtocolVersion::TLS1_0 | ProtocolVersion::TLS1_1 => {
            prf10(premaster, label, &seed, &mut master)
        }
        ProtocolVersion::TLS1_2 => prf12(prf_hash(suite), premaster, label, &seed, &mut master),
        other => {
            return Err(Error::UnexpectedValue {
                what: "TLS version to decrypt",
                value: u32::from(other.0),
            })
        }
    };
    if !derived {
        return Err(Error::InvalidLength {
            what: "TLS premaster secret",
            length: premaster.len(),
        });
    }
    Ok(master)
}

/// The session hash of the Extended Master Secret (RFC 7627 3) over `transcript` (the
/// handshake messages, headers included, from the ClientHello through the
/// ClientKeyExchange).
pub fn session_hash(suite: CipherSuite, version: ProtocolVersion, transcript: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    match version {
        ProtocolVersion::TLS1_2 => match prf_hash(suite) {
            Hash::Sha256 => Sha256::digest(transcript).to_vec(),
            Hash::Sha384 => Sha384::digest(transcript).to_vec(),
        },
        _ => {
            let mut both = md5::Md5::digest(transcript).to_vec();
            both.extend_from_slice(&sha1::Sha1::digest(transcript));
            both
        }
    }
}

/// The PRF hash of a TLS 1.2 suite: SHA-384 for the `_SHA384` suites, else SHA-256.
fn prf_hash(suite: CipherSuite) -> Hash {
    if suite.name().is_some_and(|n| n.ends_with("_SHA384")) {
        Hash::Sha384
    } else {
        Hash::Sha256
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

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
            ProtocolVersion::TLS1_2,
            &hex(TLS12_MASTER),
            &hex(TLS12_CLIENT_RANDOM),
            &hex(TLS12_SERVER_RANDOM),
            false,
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
    fn tls12_suites_versions_and_lengths_are_checked() {
        let (m, c, s) = (
            hex(TLS12_MASTER),
            hex(TLS12_CLIENT_RANDOM),
            hex(TLS12_SERVER_RANDOM),
        );
        let v12 = ProtocolVersion::TLS1_2;
        let open = |suite: u16, v: ProtocolVersion, m: &[u8]| {
            Tls12Protection::from_master(CipherSuite(suite), v, m, &c, &s, true)
        };
        // TLS 1.3, 3DES, unknown suites and a short master secret are refused, and so are
        // AEAD suites before TLS 1.2 and TLS 1.3 as a version.
        for suite in [0x1302, 0x000a, 0xfefe] {
            assert!(open(suite, v12, &m).is_err(), "{suite:#x}");
        }
        assert!(open(0xc030, v12, &m[..47]).is_err());
        assert!(open(0xc030, ProtocolVersion::TLS1_1, &m).is_err());
        assert!(open(0xc02f, ProtocolVersion::TLS1_3, &m).is_err());
        for suite in [
            0xc02b, 0xc02f, 0x009c, 0x009f, 0xcca8, 0xcca9, 0xccaa, 0x002f, 0xc014, 0xc028, 0x003c,
        ] {
            assert!(open(suite, v12, &m).is_ok(), "{suite:#x}");
        }
        for suite in [0x002f, 0x0035, 0xc013, 0xc014] {
            assert!(
                open(suite, ProtocolVersion::TLS1_0, &m).is_ok(),
                "{suite:#x}"
            );
        }
        let [p, _] = open(0xc014, ProtocolVersion::TLS1_0, &m).unwrap();
        let shown = format!("{p:?}");
        assert!(
            !shown.contains(&TLS12_MASTER[..16]) && shown.contains("seq: 0"),
            "{shown}"
        );
    }

    /// Seals `content` as a MAC-then-encrypt CBC record (RFC 5246 6.2.3.2) under the keys of
    /// `p` (AES-128, HMAC-SHA1), with `iv` (sent in the record unless `chained`).
    fn seal_mte(
        p: &Tls12Protection,
        seq: u64,
        iv: [u8; 16],
        chained: bool,
        content: &[u8],
    ) -> Vec<u8> {
        use cbc::cipher::block_padding::NoPadding;
        use cbc::cipher::{BlockEncryptMut, KeyIvInit};
        let Mode12::Cbc(cbc) = &p.mode else {
            panic!("not CBC")
        };
        let (AesKey::Aes128(key), MacKey::Sha1(mac_key)) = (&cbc.aes, &cbc.mac) else {
            panic!("not AES-128/SHA-1")
        };
        let version = if chained { [3, 1] } else { [3, 3] };
        let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(mac_key).unwrap();
        mac.update(&seq.to_be_bytes());
        mac.update(&[23, version[0], version[1]]);
        mac.update(&u16::try_from(content.len()).unwrap().to_be_bytes());
        mac.update(content);
        let mut plain = content.to_vec();
        plain.extend_from_slice(&mac.finalize().into_bytes());
        let pad = 15 - plain.len() % 16;
        plain.extend(std::iter::repeat_n(u8::try_from(pad).unwrap(), pad + 1));
        let len = plain.len();
        cbc::Encryptor::<aes::Aes128>::new(key.into(), (&iv).into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .unwrap();
        let body: Vec<u8> = if chained {
            plain
        } else {
            [&iv[..], &plain].concat()
        };
        let mut record = vec![23, version[0], version[1]];
        record.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
        record.extend_from_slice(&body);
        record
    }

    /// MAC-then-encrypt, which no keyed lab capture negotiates (OpenSSL prefers
    /// encrypt-then-MAC), on records sealed here with the keys `from_master` derives: the
    /// padding and the MAC are checked, TLS 1.0 chains its IV from record to record.
    #[test]
    fn mac_then_encrypt_cbc_records_open() {
        let (m, c, s) = (
            hex(TLS12_MASTER),
            hex(TLS12_CLIENT_RANDOM),
            hex(TLS12_SERVER_RANDOM),
        );
        let suite = CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA;
        let [mut p, _] =
            Tls12Protection::from_master(suite, ProtocolVersion::TLS1_2, &m, &c, &s, false)
                .unwrap();
        let mut out = Vec::new();
        let record = seal_mte(&p, 0, [7; 16], false, b"a TPKT frame");
        let mut flipped = record.clone();
        *flipped.last_mut().unwrap() ^= 1; // the padding
        assert!(p.open(&flipped, &mut out).is_err());
        let mut flipped = record.clone();
        flipped[30] ^= 1; // the first block: the content, so the MAC
        assert!(p.open(&flipped, &mut out).is_err());
        assert!(out.is_empty());
        assert_eq!(
            p.open(&record, &mut out).unwrap(),
            ContentType::APPLICATION_DATA
        );
        assert_eq!(out, b"a TPKT frame");
        assert_eq!(p.seq(), 1);
        // TLS 1.0: no IV in the record; the key block's, then the last ciphertext block.
        let [mut p, _] =
            Tls12Protection::from_master(suite, ProtocolVersion::TLS1_0, &m, &c, &s, false)
                .unwrap();
        let Mode12::Cbc(cbc) = &p.mode else {
            panic!("not CBC")
        };
        let first_iv = cbc.chained;
        let first = seal_mte(&p, 0, first_iv, true, b"first");
        let next_iv: [u8; 16] = first[first.len() - 16..].try_into().unwrap();
        let second = seal_mte(&p, 1, next_iv, true, b"second record");
        assert!(p.open(&second, &mut out).is_err(), "out of order");
        p.open(&first, &mut out).unwrap();
        assert_eq!(out, b"first");
        p.open(&second, &mut out).unwrap();
        assert_eq!(out, b"second record");
    }

    /// What is not a key is an error, and so is a ClientKeyExchange whose length is wrong; the
    /// real keys and sessions are read in `rdp-pcap-cli/tests/decryption.rs` (the corpus's RSA
    /// sessions, with their servers' keys alone).
    #[test]
    fn rsa_keys_and_premaster_lengths_are_checked() {
        assert!(RsaKey::from_pem(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        )
        .is_err());
        assert!(RsaKey::from_pem(&[0xff, 0xfe]).is_err());
        let (m, c, s) = (
            hex(TLS12_MASTER),
            hex(TLS12_CLIENT_RANDOM),
            hex(TLS12_SERVER_RANDOM),
        );
        let suite = CipherSuite(0xc030);
        // Without the extended master secret the randoms are the seed; with it, the hash.
        let plain = master_secret(suite, ProtocolVersion::TLS1_2, &m, &c, &s, None).unwrap();
        let hash = session_hash(suite, ProtocolVersion::TLS1_2, b"transcript");
        assert_eq!(hash.len(), 48, "SHA-384 for a _SHA384 suite");
        let extended =
            master_secret(suite, ProtocolVersion::TLS1_2, &m, &c, &s, Some(&hash)).unwrap();
        assert_ne!(plain, extended);
        assert_eq!(session_hash(suite, ProtocolVersion::TLS1_0, b"x").len(), 36);
        assert!(master_secret(suite, ProtocolVersion::TLS1_3, &m, &c, &s, None).is_err());
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
