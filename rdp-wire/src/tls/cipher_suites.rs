//! Cipher suites (IANA "TLS Cipher Suites" registry, RFC 8447), named groups (RFC 8446 4.2.7)
//! and signature schemes (RFC 8446 4.2.3), with the properties findings need.
//!
//! The suite table holds every IANA-assigned code, plus the pre-standard codes that deployed
//! Windows and NSS peers sent: the 56-bit "EXPORT1024" suites 0x0060..=0x0066 and the
//! `SSL_RSA_FIPS_*` codes 0xfefe, 0xfeff, 0xffe0, 0xffe1.

mod table {
    include!("cipher_suites_table.rs");
}

use crate::values::open_enum;

/// A cipher suite code. Every code is kept; [`CipherSuite::name`] knows the IANA names and
/// `Display` prints unknown codes as `0xNNNN` (GREASE included).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct CipherSuite(pub u16);

/// How a suite agrees on keys. Derived from the suite, not a wire field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyExchange {
    /// TLS_NULL_WITH_NULL_NULL.
    Null,
    /// RSA key transport (no forward secrecy).
    Rsa,
    /// Static Diffie-Hellman (DH_DSS, DH_RSA).
    Dh,
    /// Ephemeral Diffie-Hellman (DHE_DSS, DHE_RSA).
    Dhe,
    /// Anonymous Diffie-Hellman (no authentication).
    DhAnon,
    /// Static elliptic-curve Diffie-Hellman (ECDH_ECDSA, ECDH_RSA).
    Ecdh,
    /// Ephemeral elliptic-curve Diffie-Hellman (ECDHE_ECDSA, ECDHE_RSA).
    Ecdhe,
    /// Anonymous elliptic-curve Diffie-Hellman.
    EcdhAnon,
    /// Pre-shared key only.
    Psk,
    /// DHE plus PSK.
    DhePsk,
    /// RSA plus PSK.
    RsaPsk,
    /// ECDHE plus PSK.
    EcdhePsk,
    /// Secure Remote Password (RFC 5054).
    Srp,
    /// Kerberos (RFC 2712).
    Krb5,
    /// Password-based ECC (RFC 8492).
    Eccpwd,
    /// GOST R 34.10-2012 key agreement (RFC 9189).
    Gost,
    /// TLS 1.3: the suite does not name the key exchange (negotiated by key_share).
    Tls13,
    /// A signalling value, not a suite (TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV).
    Scsv,
}

impl KeyExchange {
    /// A short label: `RSA`, `DHE`, `ECDHE`, `TLS1.3` ...
    pub fn as_str(self) -> &'static str {
        match self {
            KeyExchange::Null => "NULL",
            KeyExchange::Rsa => "RSA",
            KeyExchange::Dh => "DH",
            KeyExchange::Dhe => "DHE",
            KeyExchange::DhAnon => "DH_anon",
            KeyExchange::Ecdh => "ECDH",
            KeyExchange::Ecdhe => "ECDHE",
            KeyExchange::EcdhAnon => "ECDH_anon",
            KeyExchange::Psk => "PSK",
            KeyExchange::DhePsk => "DHE_PSK",
            KeyExchange::RsaPsk => "RSA_PSK",
            KeyExchange::EcdhePsk => "ECDHE_PSK",
            KeyExchange::Srp => "SRP",
            KeyExchange::Krb5 => "KRB5",
            KeyExchange::Eccpwd => "ECCPWD",
            KeyExchange::Gost => "GOST",
            KeyExchange::Tls13 => "TLS1.3",
            KeyExchange::Scsv => "SCSV",
        }
    }
}

/// How a suite protects records. Derived from the suite, not a wire field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CipherMode {
    /// No encryption (NULL ciphers, integrity-only suites, SCSVs).
    Null,
    /// A stream cipher (RC4, GOST CTR/CNT with a MAC).
    Stream,
    /// A block cipher in CBC mode with a MAC.
    Cbc,
    /// Authenticated encryption (GCM, CCM, ChaCha20-Poly1305, MGM, AEGIS).
    Aead,
}

/// Property bits of a known suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SuiteFlags(pub(crate) u16);

impl SuiteFlags {
    pub(crate) const NONE: SuiteFlags = SuiteFlags(0);
    pub(crate) const RC4: SuiteFlags = SuiteFlags(1);
    pub(crate) const TRIPLE_DES: SuiteFlags = SuiteFlags(1 << 1);
    pub(crate) const NULL_CIPHER: SuiteFlags = SuiteFlags(1 << 2);
    pub(crate) const EXPORT: SuiteFlags = SuiteFlags(1 << 3);
    pub(crate) const ANONYMOUS: SuiteFlags = SuiteFlags(1 << 4);
    pub(crate) const TLS13: SuiteFlags = SuiteFlags(1 << 5);
    pub(crate) const SCSV: SuiteFlags = SuiteFlags(1 << 6);
    pub(crate) const FORWARD_SECRECY: SuiteFlags = SuiteFlags(1 << 7);

    fn has(self, bit: SuiteFlags) -> bool {
        self.0 & bit.0 != 0
    }
}

type SuiteEntry = (u16, &'static str, KeyExchange, CipherMode, SuiteFlags);

/// For one high byte `HH`, the position in the table of each code `0xHHxx`, `u16::MAX` for
/// unnamed codes: a direct lookup for the ranges that hold most suites and nearly every suite
/// a client offers (0x00, 0x13 for TLS 1.3, 0xc0, 0xcc for ChaCha20), where a binary search
/// took nine unpredictable steps per suite.
// Evaluated at compile time only: an index out of range fails the build, and the table has
// fewer than u16::MAX entries.
#[allow(
    clippy::indexing_slicing,
    clippy::as_conversions,
    clippy::cast_possible_truncation
)]
const fn positions_for(high: u8) -> [u16; 256] {
    let mut out = [u16::MAX; 256];
    let mut i = 0usize;
    while i < table::SUITES.len() {
        let [h, l] = table::SUITES[i].0.to_be_bytes();
        if h == high {
            out[l as usize] = i as u16;
        }
        i = i.saturating_add(1);
    }
    out
}

const POSITIONS_00: [u16; 256] = positions_for(0x00);
const POSITIONS_13: [u16; 256] = positions_for(0x13);
const POSITIONS_C0: [u16; 256] = positions_for(0xc0);
const POSITIONS_CC: [u16; 256] = positions_for(0xcc);

impl CipherSuite {
    fn entry(self) -> Option<&'static SuiteEntry> {
        let table = table::SUITES;
        let [high, low] = self.0.to_be_bytes();
        let positions = match high {
            0x00 => &POSITIONS_00,
            0x13 => &POSITIONS_13,
            0xc0 => &POSITIONS_C0,
            0xcc => &POSITIONS_CC,
            _ => {
                return table
                    .binary_search_by_key(&self.0, |e| e.0)
                    .ok()
                    .and_then(|i| table.get(i));
            }
        };
        positions
            .get(usize::from(low))
            .and_then(|i| table.get(usize::from(*i)))
    }

    fn flag(self, bit: SuiteFlags) -> bool {
        self.entry().is_some_and(|e| e.4.has(bit))
    }

    /// The IANA name (`TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`), or `None` for an unknown code.
    pub fn name(self) -> Option<&'static str> {
        self.entry().map(|e| e.1)
    }

    /// Every named suite, sorted by code.
    pub fn known() -> impl Iterator<Item = CipherSuite> {
        table::SUITES.iter().map(|e| CipherSuite(e.0))
    }

    /// The key exchange of a known suite.
    pub fn key_exchange(self) -> Option<KeyExchange> {
        self.entry().map(|e| e.2)
    }

    /// The record protection of a known suite.
    pub fn cipher_mode(self) -> Option<CipherMode> {
        self.entry().map(|e| e.3)
    }

    /// Whether the suite gives forward secrecy (ephemeral DH/ECDH, ECCPWD, every TLS 1.3 suite).
    pub fn forward_secrecy(self) -> bool {
        self.flag(SuiteFlags::FORWARD_SECRECY)
    }

    /// AEAD record protection.
    pub fn is_aead(self) -> bool {
        self.cipher_mode() == Some(CipherMode::Aead)
    }

    /// CBC record protection.
    pub fn is_cbc(self) -> bool {
        self.cipher_mode() == Some(CipherMode::Cbc)
    }

    /// RC4 (RFC 7465 prohibits it).
    pub fn is_rc4(self) -> bool {
        self.flag(SuiteFlags::RC4)
    }

    /// Triple DES (64-bit block, Sweet32).
    pub fn is_3des(self) -> bool {
        self.flag(SuiteFlags::TRIPLE_DES)
    }

    /// No encryption at all.
    pub fn is_null(self) -> bool {
        self.flag(SuiteFlags::NULL_CIPHER)
    }

    /// An export-grade suite.
    pub fn is_export(self) -> bool {
        self.flag(SuiteFlags::EXPORT)
    }

    /// No server authentication (DH_anon, ECDH_anon, NULL_WITH_NULL_NULL).
    pub fn is_anonymous(self) -> bool {
        self.flag(SuiteFlags::ANONYMOUS)
    }

    /// A TLS 1.3 suite.
    pub fn is_tls13(self) -> bool {
        self.flag(SuiteFlags::TLS13)
    }

    /// A signalling value rather than a suite (0x00ff, 0x5600).
    pub fn is_scsv(self) -> bool {
        self.flag(SuiteFlags::SCSV)
    }

    /// A GREASE value (RFC 8701).
    pub fn is_grease(self) -> bool {
        super::is_grease(self.0)
    }
}

impl core::fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{:#06x}", self.0),
        }
    }
}

impl core::fmt::Debug for CipherSuite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "CipherSuite({:#06x})", self.0)?;
        if let Some(n) = self.name() {
            write!(f, " {n}")?;
        }
        Ok(())
    }
}

open_enum! {
    /// A named group for key exchange (RFC 8446 4.2.7, RFC 8422, RFC 7919, IANA "TLS Supported
    /// Groups"; the post-quantum hybrids from draft-ietf-tls-ecdhe-mlkem).
    pub struct NamedGroup(u16) {
        /// sect163k1 (deprecated).
        SECT163K1 = 0x0001 => "sect163k1",
        /// sect233r1 (deprecated).
        SECT233R1 = 0x0006 => "sect233r1",
        /// sect283k1 (deprecated).
        SECT283K1 = 0x0009 => "sect283k1",
        /// sect283r1 (deprecated).
        SECT283R1 = 0x000a => "sect283r1",
        /// sect409k1 (deprecated).
        SECT409K1 = 0x000b => "sect409k1",
        /// sect409r1 (deprecated).
        SECT409R1 = 0x000c => "sect409r1",
        /// sect571k1 (deprecated).
        SECT571K1 = 0x000d => "sect571k1",
        /// sect571r1 (deprecated).
        SECT571R1 = 0x000e => "sect571r1",
        /// secp160k1 (deprecated).
        SECP160K1 = 0x000f => "secp160k1",
        /// secp160r1 (deprecated).
        SECP160R1 = 0x0010 => "secp160r1",
        /// secp160r2 (deprecated).
        SECP160R2 = 0x0011 => "secp160r2",
        /// secp192k1 (deprecated).
        SECP192K1 = 0x0012 => "secp192k1",
        /// secp192r1 (deprecated).
        SECP192R1 = 0x0013 => "secp192r1",
        /// secp224k1 (deprecated).
        SECP224K1 = 0x0014 => "secp224k1",
        /// secp224r1 (deprecated).
        SECP224R1 = 0x0015 => "secp224r1",
        /// secp256k1 (deprecated).
        SECP256K1 = 0x0016 => "secp256k1",
        /// NIST P-256.
        SECP256R1 = 0x0017 => "secp256r1",
        /// NIST P-384.
        SECP384R1 = 0x0018 => "secp384r1",
        /// NIST P-521.
        SECP521R1 = 0x0019 => "secp521r1",
        /// brainpoolP256r1 (RFC 7027).
        BRAINPOOLP256R1 = 0x001a => "brainpoolP256r1",
        /// brainpoolP384r1 (RFC 7027).
        BRAINPOOLP384R1 = 0x001b => "brainpoolP384r1",
        /// brainpoolP512r1 (RFC 7027).
        BRAINPOOLP512R1 = 0x001c => "brainpoolP512r1",
        /// X25519 (RFC 8422).
        X25519 = 0x001d => "x25519",
        /// X448 (RFC 8422).
        X448 = 0x001e => "x448",
        /// brainpoolP256r1 for TLS 1.3 (RFC 8734).
        BRAINPOOLP256R1TLS13 = 0x001f => "brainpoolP256r1tls13",
        /// brainpoolP384r1 for TLS 1.3 (RFC 8734).
        BRAINPOOLP384R1TLS13 = 0x0020 => "brainpoolP384r1tls13",
        /// brainpoolP512r1 for TLS 1.3 (RFC 8734).
        BRAINPOOLP512R1TLS13 = 0x0021 => "brainpoolP512r1tls13",
        /// GOST R 34.10-2012 256-bit A (RFC 9189).
        GC256A = 0x0022 => "GC256A",
        /// curveSM2 (RFC 8998).
        CURVE_SM2 = 0x0029 => "curveSM2",
        /// 2048-bit finite field group (RFC 7919).
        FFDHE2048 = 0x0100 => "ffdhe2048",
        /// 3072-bit finite field group (RFC 7919).
        FFDHE3072 = 0x0101 => "ffdhe3072",
        /// 4096-bit finite field group (RFC 7919).
        FFDHE4096 = 0x0102 => "ffdhe4096",
        /// 6144-bit finite field group (RFC 7919).
        FFDHE6144 = 0x0103 => "ffdhe6144",
        /// 8192-bit finite field group (RFC 7919).
        FFDHE8192 = 0x0104 => "ffdhe8192",
        /// ML-KEM-512.
        MLKEM512 = 0x0200 => "MLKEM512",
        /// ML-KEM-768.
        MLKEM768 = 0x0201 => "MLKEM768",
        /// ML-KEM-1024.
        MLKEM1024 = 0x0202 => "MLKEM1024",
        /// P-256 + ML-KEM-768 hybrid.
        SECP256R1_MLKEM768 = 0x11eb => "SecP256r1MLKEM768",
        /// X25519 + ML-KEM-768 hybrid.
        X25519_MLKEM768 = 0x11ec => "X25519MLKEM768",
        /// P-384 + ML-KEM-1024 hybrid.
        SECP384R1_MLKEM1024 = 0x11ed => "SecP384r1MLKEM1024",
        /// X25519 + Kyber768 draft hybrid (pre-standard, Chrome 124..130).
        X25519_KYBER768_DRAFT00 = 0x6399 => "X25519Kyber768Draft00",
        /// Explicit prime curves (deprecated).
        ARBITRARY_EXPLICIT_PRIME_CURVES = 0xff01 => "arbitrary_explicit_prime_curves",
        /// Explicit char2 curves (deprecated).
        ARBITRARY_EXPLICIT_CHAR2_CURVES = 0xff02 => "arbitrary_explicit_char2_curves",
    }
}

open_enum! {
    /// A signature scheme (RFC 8446 4.2.3; TLS 1.2 hash/signature pairs, RFC 5246 7.4.1.4.1).
    pub struct SignatureScheme(u16) {
        /// MD5 + RSA (TLS 1.2 pair).
        RSA_MD5 = 0x0101 => "rsa_pkcs1_md5",
        /// SHA-1 + DSA (TLS 1.2 pair).
        DSA_SHA1 = 0x0202 => "dsa_sha1",
        /// SHA-224 + RSA (TLS 1.2 pair).
        RSA_SHA224 = 0x0301 => "rsa_pkcs1_sha224",
        /// SHA-224 + DSA (TLS 1.2 pair).
        DSA_SHA224 = 0x0302 => "dsa_sha224",
        /// SHA-224 + ECDSA (TLS 1.2 pair).
        ECDSA_SHA224 = 0x0303 => "ecdsa_sha224",
        /// SHA-256 + DSA (TLS 1.2 pair).
        DSA_SHA256 = 0x0402 => "dsa_sha256",
        /// SHA-384 + DSA (TLS 1.2 pair).
        DSA_SHA384 = 0x0502 => "dsa_sha384",
        /// SHA-512 + DSA (TLS 1.2 pair).
        DSA_SHA512 = 0x0602 => "dsa_sha512",
        /// RSASSA-PKCS1-v1_5 with SHA-1.
        RSA_PKCS1_SHA1 = 0x0201 => "rsa_pkcs1_sha1",
        /// ECDSA with SHA-1.
        ECDSA_SHA1 = 0x0203 => "ecdsa_sha1",
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        RSA_PKCS1_SHA256 = 0x0401 => "rsa_pkcs1_sha256",
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        RSA_PKCS1_SHA384 = 0x0501 => "rsa_pkcs1_sha384",
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        RSA_PKCS1_SHA512 = 0x0601 => "rsa_pkcs1_sha512",
        /// ECDSA P-256 with SHA-256.
        ECDSA_SECP256R1_SHA256 = 0x0403 => "ecdsa_secp256r1_sha256",
        /// ECDSA P-384 with SHA-384.
        ECDSA_SECP384R1_SHA384 = 0x0503 => "ecdsa_secp384r1_sha384",
        /// ECDSA P-521 with SHA-512.
        ECDSA_SECP521R1_SHA512 = 0x0603 => "ecdsa_secp521r1_sha512",
        /// SM2 with SM3 (RFC 8998).
        SM2SIG_SM3 = 0x0708 => "sm2sig_sm3",
        /// RSASSA-PSS (rsaEncryption key) with SHA-256.
        RSA_PSS_RSAE_SHA256 = 0x0804 => "rsa_pss_rsae_sha256",
        /// RSASSA-PSS (rsaEncryption key) with SHA-384.
        RSA_PSS_RSAE_SHA384 = 0x0805 => "rsa_pss_rsae_sha384",
        /// RSASSA-PSS (rsaEncryption key) with SHA-512.
        RSA_PSS_RSAE_SHA512 = 0x0806 => "rsa_pss_rsae_sha512",
        /// Ed25519.
        ED25519 = 0x0807 => "ed25519",
        /// Ed448.
        ED448 = 0x0808 => "ed448",
        /// RSASSA-PSS (PSS key) with SHA-256.
        RSA_PSS_PSS_SHA256 = 0x0809 => "rsa_pss_pss_sha256",
        /// RSASSA-PSS (PSS key) with SHA-384.
        RSA_PSS_PSS_SHA384 = 0x080a => "rsa_pss_pss_sha384",
        /// RSASSA-PSS (PSS key) with SHA-512.
        RSA_PSS_PSS_SHA512 = 0x080b => "rsa_pss_pss_sha512",
        /// ECDSA brainpoolP256r1 with SHA-256 (RFC 8734).
        ECDSA_BRAINPOOLP256R1TLS13_SHA256 = 0x081a => "ecdsa_brainpoolP256r1tls13_sha256",
        /// ECDSA brainpoolP384r1 with SHA-384 (RFC 8734).
        ECDSA_BRAINPOOLP384R1TLS13_SHA384 = 0x081b => "ecdsa_brainpoolP384r1tls13_sha384",
        /// ECDSA brainpoolP512r1 with SHA-512 (RFC 8734).
        ECDSA_BRAINPOOLP512R1TLS13_SHA512 = 0x081c => "ecdsa_brainpoolP512r1tls13_sha512",
        /// ML-DSA-44.
        MLDSA44 = 0x0904 => "mldsa44",
        /// ML-DSA-65.
        MLDSA65 = 0x0905 => "mldsa65",
        /// ML-DSA-87.
        MLDSA87 = 0x0906 => "mldsa87",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_complete() {
        let codes: Vec<u16> = CipherSuite::known().map(|s| s.0).collect();
        assert!(codes.windows(2).all(|w| w.first() < w.get(1)));
        // 352 IANA codes + 7 EXPORT1024 + 4 SSL_RSA_FIPS.
        assert_eq!(codes.len(), 363);
        for s in CipherSuite::known() {
            let name = s.name().unwrap();
            assert!(
                name.starts_with("TLS_") || name.starts_with("SSL_"),
                "{name}"
            );
            assert!(s.key_exchange().is_some() && s.cipher_mode().is_some());
        }
    }

    #[test]
    fn direct_lookup_agrees_with_the_table() {
        for code in 0..=u16::MAX {
            let searched = table::SUITES
                .binary_search_by_key(&code, |e| e.0)
                .ok()
                .and_then(|i| table::SUITES.get(i));
            assert_eq!(CipherSuite(code).entry(), searched, "{code:#06x}");
        }
    }

    #[test]
    fn properties() {
        let s = CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384;
        assert_eq!(s.0, 0xc030);
        assert_eq!(s.to_string(), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        assert_eq!(s.key_exchange(), Some(KeyExchange::Ecdhe));
        assert!(s.forward_secrecy() && s.is_aead() && !s.is_cbc() && !s.is_tls13());

        let s = CipherSuite::TLS_RSA_WITH_RC4_128_MD5;
        assert!(s.is_rc4() && !s.forward_secrecy());
        assert_eq!(s.cipher_mode(), Some(CipherMode::Stream));
        assert!(CipherSuite::TLS_RSA_WITH_3DES_EDE_CBC_SHA.is_3des());
        assert!(CipherSuite::TLS_RSA_WITH_3DES_EDE_CBC_SHA.is_cbc());
        assert!(CipherSuite::TLS_RSA_WITH_NULL_SHA256.is_null());
        assert!(CipherSuite::TLS_RSA_EXPORT_WITH_RC4_40_MD5.is_export());
        assert!(CipherSuite::TLS_DH_ANON_WITH_AES_128_CBC_SHA.is_anonymous());
        assert_eq!(
            CipherSuite::TLS_DH_ANON_WITH_AES_128_CBC_SHA.to_string(),
            "TLS_DH_anon_WITH_AES_128_CBC_SHA"
        );
        assert!(CipherSuite::TLS_AES_256_GCM_SHA384.is_tls13());
        assert!(CipherSuite::TLS_AES_256_GCM_SHA384.forward_secrecy());
        assert!(CipherSuite::TLS_SHA256_SHA256.is_null());
        assert_eq!(
            CipherSuite(0x00ff).to_string(),
            "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
        );
        assert!(CipherSuite(0x00ff).is_scsv() && CipherSuite(0x5600).is_scsv());
        assert_eq!(CipherSuite(0x5600).to_string(), "TLS_FALLBACK_SCSV");
        assert_eq!(CipherSuite(0x1306).to_string(), "TLS_AEGIS_256_SHA512");
        assert_eq!(
            CipherSuite(0xc100).to_string(),
            "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC"
        );
        assert_eq!(CipherSuite(0x00c6).to_string(), "TLS_SM4_GCM_SM3");
        assert_eq!(
            CipherSuite(0xc0b0).to_string(),
            "TLS_ECCPWD_WITH_AES_128_GCM_SHA256"
        );
        assert_eq!(CipherSuite(0x5a5a).to_string(), "0x5a5a");
        assert!(CipherSuite(0x5a5a).is_grease());
        assert_eq!(CipherSuite(0x0001).to_string(), "TLS_RSA_WITH_NULL_MD5");
        assert_eq!(CipherSuite(0x00).to_string(), "TLS_NULL_WITH_NULL_NULL");
        assert_eq!(CipherSuite(0x1c).to_string(), "0x001c");
    }

    #[test]
    fn group_and_scheme_names() {
        assert_eq!(NamedGroup(0x001d).to_string(), "x25519");
        assert_eq!(NamedGroup(0x11ec).to_string(), "X25519MLKEM768");
        assert_eq!(SignatureScheme(0x0804).to_string(), "rsa_pss_rsae_sha256");
        assert_eq!(SignatureScheme(0x0a0a).to_string(), "0x0a0a");
    }
}
