//! The generator of `src/tls/cipher_suites_table.rs`, and the check that the committed table is
//! what it writes.
//!
//! The table is derived from the IANA "TLS Cipher Suites" registry, vendored as
//! `data/tls-parameters-4.csv` (see `data/README.md` for where the copy comes from), plus the
//! pre-standard codes below. Each suite's key exchange, record protection and property flags
//! follow from its name, by the rules in [`describe`].
//!
//! To update the table after replacing the CSV:
//!
//! ```sh
//! RDP_WIRE_REGENERATE=1 cargo test -p rdp-wire --test cipher_suites_table
//! ```
//!
//! Without the variable the test fails when the committed table differs from the generated one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::path::Path;

/// Codes deployed Windows and NSS peers sent that IANA never assigned (see the parent module's
/// doc): the 56-bit "EXPORT1024" suites of draft-ietf-tls-56-bit-ciphersuites-01 and Netscape's
/// `SSL_RSA_FIPS_*` codes.
const PRE_STANDARD: &[(u16, &str)] = &[
    (0x0060, "TLS_RSA_EXPORT1024_WITH_RC4_56_MD5"),
    (0x0061, "TLS_RSA_EXPORT1024_WITH_RC2_CBC_56_MD5"),
    (0x0062, "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA"),
    (0x0063, "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA"),
    (0x0064, "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA"),
    (0x0065, "TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA"),
    (0x0066, "TLS_DHE_DSS_WITH_RC4_128_SHA"),
    (0xfefe, "SSL_RSA_FIPS_WITH_DES_CBC_SHA"),
    (0xfeff, "SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA"),
    (0xffe0, "SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA"),
    (0xffe1, "SSL_RSA_FIPS_WITH_DES_CBC_SHA"),
];

/// The flags of `SuiteFlags`, in the order the table writes them.
const FLAGS: [&str; 8] = [
    "RC4",
    "TRIPLE_DES",
    "NULL_CIPHER",
    "EXPORT",
    "ANONYMOUS",
    "TLS13",
    "SCSV",
    "FORWARD_SECRECY",
];

/// The records of a CSV file (RFC 4180: quoted fields may hold commas, quotes and line breaks).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// The assigned suites of the registry: rows whose value is one code (`0xC0,0x2B`, not a
/// range) and whose description is a suite name (not `Unassigned` or `Reserved ...`).
fn iana_suites(csv: &str) -> Vec<(u16, String)> {
    let mut out = Vec::new();
    for record in csv_records(csv).into_iter().skip(1) {
        let (Some(value), Some(name)) = (record.first(), record.get(1)) else {
            continue;
        };
        let bytes: Vec<&str> = value.split(',').collect();
        let [high, low] = bytes.as_slice() else {
            continue;
        };
        let byte = |s: &str| {
            s.strip_prefix("0x")
                .filter(|h| h.len() == 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        };
        let (Some(high), Some(low)) = (byte(high), byte(low)) else {
            continue;
        };
        if name.starts_with("TLS_") {
            out.push((u16::from_be_bytes([high, low]), name.clone()));
        }
    }
    out
}

/// Key exchange, cipher mode and flags of a suite, from its name.
fn describe(name: &str) -> (&'static str, &'static str, Vec<&'static str>) {
    let bare = name
        .strip_prefix("TLS_")
        .or_else(|| name.strip_prefix("SSL_"))
        .expect("a suite name starts with TLS_ or SSL_");
    let mut flags = Vec::new();
    if bare.ends_with("_SCSV") {
        return ("Scsv", "Null", vec!["SCSV"]);
    }
    // TLS 1.3 suites name no key exchange (RFC 8446 B.4); the GOST MGM suites (RFC 9367) are
    // TLS 1.3 suites although their names say WITH.
    let tls13 = !bare.contains("_WITH_") || bare.contains("_MGM_");
    let (kx_part, cipher) = if tls13 {
        ("", bare.split_once("_WITH_").map_or(bare, |(_, c)| c))
    } else {
        bare.split_once("_WITH_").expect("checked above")
    };
    let kx = if tls13 {
        "Tls13"
    } else {
        let base = kx_part
            .replace("_EXPORT1024", "")
            .replace("_EXPORT", "")
            .replace("_FIPS", "");
        match base.as_str() {
            "NULL" => "Null",
            "RSA" => "Rsa",
            "DH_DSS" | "DH_RSA" => "Dh",
            "DHE_DSS" | "DHE_RSA" => "Dhe",
            "DH_anon" => "DhAnon",
            "ECDH_ECDSA" | "ECDH_RSA" => "Ecdh",
            "ECDHE_ECDSA" | "ECDHE_RSA" => "Ecdhe",
            "ECDH_anon" => "EcdhAnon",
            "PSK" => "Psk",
            "DHE_PSK" | "PSK_DHE" => "DhePsk",
            "RSA_PSK" => "RsaPsk",
            "ECDHE_PSK" => "EcdhePsk",
            "SRP_SHA" | "SRP_SHA_RSA" | "SRP_SHA_DSS" => "Srp",
            "KRB5" => "Krb5",
            "ECCPWD" => "Eccpwd",
            "GOSTR341112_256" => "Gost",
            other => panic!("{name}: key exchange {other} has no rule"),
        }
    };
    let mode = if cipher.starts_with("NULL") || (tls13 && cipher.starts_with("SHA")) {
        "Null"
    } else if ["GCM", "CCM", "CHACHA20_POLY1305", "MGM", "AEGIS"]
        .iter()
        .any(|a| cipher.contains(a))
    {
        "Aead"
    } else if cipher.starts_with("RC4")
        || cipher.contains("CTR_OMAC")
        || cipher.contains("CNT_IMIT")
    {
        "Stream"
    } else if cipher.contains("CBC") {
        "Cbc"
    } else {
        panic!("{name}: cipher {cipher} has no rule")
    };
    for flag in FLAGS {
        let set = match flag {
            "RC4" => cipher.starts_with("RC4"),
            "TRIPLE_DES" => cipher.starts_with("3DES"),
            "NULL_CIPHER" => mode == "Null",
            "EXPORT" => kx_part.contains("EXPORT"),
            "ANONYMOUS" => kx_part.contains("anon") || kx == "Null",
            "TLS13" => tls13,
            "FORWARD_SECRECY" => matches!(
                kx,
                "Dhe"
                    | "DhAnon"
                    | "Ecdhe"
                    | "EcdhAnon"
                    | "DhePsk"
                    | "EcdhePsk"
                    | "Eccpwd"
                    | "Tls13"
            ),
            _ => false,
        };
        if set {
            flags.push(flag);
        }
    }
    (kx, mode, flags)
}

/// The table's source text, from the registry's CSV.
fn generate(csv: &str) -> String {
    let mut suites = iana_suites(csv);
    for (code, name) in PRE_STANDARD {
        assert!(
            suites.iter().all(|(c, _)| c != code),
            "{code:#06x} is now assigned by IANA: drop it from PRE_STANDARD"
        );
        suites.push((*code, (*name).to_owned()));
    }
    suites.sort_by_key(|(code, _)| *code);

    let mut out = String::from(
        "// @generated by rdp-wire/tests/cipher_suites_table.rs from the IANA \"TLS Cipher Suites\"\n\
         // registry (data/tls-parameters-4.csv), plus the pre-standard codes named in the parent\n\
         // module. Do not edit by hand: regenerate with\n\
         // `RDP_WIRE_REGENERATE=1 cargo test -p rdp-wire --test cipher_suites_table`.\n\n\
         use super::{CipherMode, CipherSuite, KeyExchange, SuiteFlags};\n\nimpl CipherSuite {\n",
    );
    let mut seen = std::collections::HashSet::new();
    for (code, name) in &suites {
        let mut konst = name.to_uppercase();
        if !seen.insert(konst.clone()) {
            // A name used twice (the SSL_RSA_FIPS codes): the second constant says its code.
            konst = format!("{konst}_{code:04X}");
        }
        out.push_str("    #[allow(missing_docs)] // The IANA name is the documentation.\n");
        writeln!(
            out,
            "    pub const {konst}: CipherSuite = CipherSuite({code:#06x});"
        )
        .unwrap();
    }
    out.push_str(
        "}\n\n/// Every named suite, sorted by code: (code, IANA name, key exchange, bulk cipher \
         mode, flags).\npub(super) const SUITES: &[(u16, &str, KeyExchange, CipherMode, \
         SuiteFlags)] = &[\n",
    );
    for (code, name) in &suites {
        let (kx, mode, flags) = describe(name);
        let flags = if flags.is_empty() {
            "SuiteFlags::NONE".to_owned()
        } else {
            let bits: Vec<String> = flags.iter().map(|f| format!("SuiteFlags::{f}.0")).collect();
            format!("SuiteFlags({})", bits.join(" | "))
        };
        writeln!(
            out,
            "    ({code:#06x}, {name:?}, KeyExchange::{kx}, CipherMode::{mode}, {flags}),"
        )
        .unwrap();
    }
    out.push_str("];\n");
    out
}

#[test]
fn the_committed_table_is_what_the_generator_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let csv = std::fs::read_to_string(root.join("data/tls-parameters-4.csv")).unwrap();
    let table_path = root.join("src/tls/cipher_suites_table.rs");
    let generated = generate(&csv);
    if std::env::var_os("RDP_WIRE_REGENERATE").is_some() {
        std::fs::write(&table_path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&table_path).unwrap();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or(
                committed.lines().count().min(generated.lines().count()),
                |i| i,
            );
        panic!(
            "src/tls/cipher_suites_table.rs differs from the generator's output from line {}:\n\
             committed: {:?}\ngenerated: {:?}\nregenerate with RDP_WIRE_REGENERATE=1",
            line + 1,
            committed.lines().nth(line),
            generated.lines().nth(line)
        );
    }
}

#[test]
fn the_csv_reader_handles_quoted_line_breaks() {
    let csv = "Value,Description\n\"0x00,0x47-4F\",\"Reserved to avoid\nconflicts\"\n\
               \"0x13,0x01\",TLS_AES_128_GCM_SHA256\n\"0x00,0xFF\",TLS_EMPTY_RENEGOTIATION_INFO_SCSV\n";
    assert_eq!(
        iana_suites(csv),
        [
            (0x1301, "TLS_AES_128_GCM_SHA256".to_owned()),
            (0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV".to_owned()),
        ]
    );
    assert_eq!(
        describe("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        ("Ecdhe", "Aead", vec!["FORWARD_SECRECY"])
    );
}
