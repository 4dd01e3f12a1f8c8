//! Record protection on the keyed captures of the shared corpus (`../shared/corpus/lab` and
//! `lab2`, each `NAME.pcap` with its key log `NAME.keys`): for every connection whose suite
//! `rdp_wire::tls::protection` reads (TLS 1.3; TLS 1.0-1.2 AES-GCM, ChaCha20-Poly1305 and
//! AES-CBC), the
//! client's Finished opens under the key log's secrets, and so does its first application
//! record, which is what tshark shows with the same key log: a TPKT frame (the MCS Connect
//! Initial) or, with NLA, a CredSSP TSRequest. The AEAD tag or the CBC suites' HMAC makes a
//! wrong key or a wrong record number an error, never plausible bytes.
//!
//! The streams are put together naively (each direction's payloads in capture order), which
//! the loopback lab captures allow.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use rdp_pcap::capture;
use rdp_wire::tls::extensions::RawExtension;
use rdp_wire::tls::handshake::{parse_client_hello, parse_server_hello};
use rdp_wire::tls::keylog::{KeyLog, SecretKind};
use rdp_wire::tls::protection::{
    master_secret, session_hash, RsaKey, Tls12Protection, Tls13Protection,
};
use rdp_wire::tls::record::ContentType;
use rdp_wire::tls::ProtocolVersion;

/// Each direction's TCP payload, concatenated, by (source, destination).
fn streams(capture: &Path) -> BTreeMap<(SocketAddr, SocketAddr), Vec<u8>> {
    let bytes = std::fs::read(capture).unwrap();
    let mut out: BTreeMap<(SocketAddr, SocketAddr), Vec<u8>> = BTreeMap::new();
    capture::read_capture(&bytes[..], &mut |pkt| {
        out.entry((pkt.src, pkt.dst))
            .or_default()
            .extend_from_slice(pkt.payload);
    });
    out
}

/// The TLS records of a direction, after its X.224 TPKT frame.
fn records(stream: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    if stream.len() < 4 || stream[0] != 3 {
        return out;
    }
    let mut rest = &stream[usize::from(u16::from_be_bytes([stream[2], stream[3]]))..];
    while rest.len() >= 5 && (20..=23).contains(&rest[0]) {
        let len = 5 + usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let Some(rec) = rest.get(..len) else { break };
        out.push(rec);
        rest = &rest[len..];
    }
    out
}

/// A direction's protected records, in order: those after its ChangeCipherSpec.
fn after_change_cipher_spec<'r>(records: &[&'r [u8]]) -> Vec<&'r [u8]> {
    records
        .iter()
        .skip_while(|r| r[0] != 20)
        .skip(1)
        .copied()
        .collect()
}

/// The first handshake message of a record, if the record is a handshake record.
fn handshake(rec: &[u8], kind: u8) -> Option<&[u8]> {
    (rec[0] == 22 && rec.get(5) == Some(&kind)).then(|| {
        let len = usize::from(rec[6]) << 16 | usize::from(rec[7]) << 8 | usize::from(rec[8]);
        &rec[9..9 + len]
    })
}

/// Whether the first application plaintext is what an RDP client sends first over TLS.
fn rdp_first(plain: &[u8]) -> bool {
    plain.starts_with(&[0x03, 0x00]) || plain.first() == Some(&0x30)
}

#[derive(Debug, Default)]
struct Tally {
    tls13: usize,
    tls12: usize,
    not_read: Vec<String>,
}

/// Opens the client's Finished and first application record of the connection whose client
/// direction is `client` and server direction `server`.
fn check_connection(name: &str, log: &KeyLog, client: &[u8], server: &[u8], tally: &mut Tally) {
    let (c, s) = (records(client), records(server));
    let Some(hello) = c.iter().find_map(|r| handshake(r, 1)) else {
        return;
    };
    let hello = parse_client_hello(hello).unwrap();
    let Some(server_hello) = s.iter().find_map(|r| handshake(r, 2)) else {
        return;
    };
    let server_hello = parse_server_hello(server_hello).unwrap();
    let random: [u8; 32] = hello.random.try_into().unwrap();
    let suite = server_hello.cipher_suite;
    let mut out = Vec::new();
    let protected = after_change_cipher_spec(&c);
    if server_hello.selected_version() == ProtocolVersion::TLS1_3 {
        let secret = |k| log.get(&random, k).unwrap().expose().to_vec();
        let mut hs =
            Tls13Protection::new(suite, &secret(SecretKind::ClientHandshakeTraffic)).unwrap();
        let mut app = Tls13Protection::new(suite, &secret(SecretKind::ClientTraffic0)).unwrap();
        assert_eq!(
            hs.open(protected[0], &mut out).unwrap(),
            ContentType::HANDSHAKE,
            "{name}"
        );
        assert_eq!(out[0], 20, "{name}: the client's Finished");
        assert_eq!(
            app.open(protected[1], &mut out).unwrap(),
            ContentType::APPLICATION_DATA,
            "{name}"
        );
        assert!(rdp_first(&out), "{name}: {:02x?}", &out[..8]);
        tally.tls13 += 1;
        return;
    }
    let master = log.get(&random, SecretKind::MasterSecret).unwrap();
    let Ok([client_keys, _]) = Tls12Protection::from_master(
        suite,
        server_hello.selected_version(),
        master.expose(),
        hello.random,
        server_hello.random,
        both(&hello.extensions, &server_hello.extensions, 22),
    ) else {
        tally.not_read.push(format!(
            "{name}: {} {suite}",
            server_hello.selected_version()
        ));
        return;
    };
    open_client(name, client_keys, &protected);
    tally.tls12 += 1;
}

/// Whether both hellos carry extension `kind` (22: encrypt-then-MAC, RFC 7366; 23: the
/// Extended Master Secret, RFC 7627).
fn both(client: &[RawExtension<'_>], server: &[RawExtension<'_>], kind: u16) -> bool {
    let has = |exts: &[RawExtension<'_>]| exts.iter().any(|e| e.extension_type.0 == kind);
    has(client) && has(server)
}

/// Opens the client's Finished and its first application record (TLS 1.0 to 1.2).
fn open_client(name: &str, mut keys: Tls12Protection, protected: &[&[u8]]) {
    let mut out = Vec::new();
    assert_eq!(
        keys.open(protected[0], &mut out).unwrap(),
        ContentType::HANDSHAKE,
        "{name}"
    );
    assert_eq!(out[..4], [20, 0, 0, 12], "{name}: the client's Finished");
    let data = protected.iter().find(|r| r[0] == 23).unwrap();
    assert_eq!(
        keys.open(data, &mut out).unwrap(),
        ContentType::APPLICATION_DATA,
        "{name}"
    );
    assert!(rdp_first(&out), "{name}: {:02x?}", &out[..8]);
}

/// The handshake messages of a direction before its ChangeCipherSpec, each whole (header
/// included), however the records cut them.
fn handshake_messages(records: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut joined = Vec::new();
    for rec in records.iter().take_while(|r| r[0] != 20) {
        if rec[0] == 22 {
            joined.extend_from_slice(&rec[5..]);
        }
    }
    let mut out = Vec::new();
    let mut rest = &joined[..];
    while rest.len() >= 4 {
        let len =
            4 + (usize::from(rest[1]) << 16 | usize::from(rest[2]) << 8 | usize::from(rest[3]));
        out.push(rest[..len].to_vec());
        rest = &rest[len..];
    }
    out
}

/// The RSA key exchange read with the server's private key alone (no key log: the lab2 key
/// logs hold these sessions' master secrets too, which would hide a broken RSA path): lab2's
/// TLS 1.2 session (Extended Master Secret, encrypt-then-MAC) and the 2017 Windows TLS 1.0
/// session of `public/Intro_Traffic_Analysis` (MAC-then-encrypt), whose first application
/// record tshark decrypts with the same key to the MCS Connect Initial.
#[test]
fn rsa_keys_alone_open_their_sessions() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let cases = [
        (
            "lab2/tls12-rsa-aes128-cbc.pcap",
            "lab2/tls12-rsa-aes128-cbc.key",
        ),
        (
            "public/Intro_Traffic_Analysis/rdp.pcap",
            "public/Intro_Traffic_Analysis/rdp.key.pem",
        ),
    ];
    for (capture, key) in cases {
        let key = RsaKey::from_pem(&std::fs::read(corpus.join(key)).unwrap()).unwrap();
        // Its size only: no part of the key.
        let shown = format!("{key:?}");
        assert_eq!(shown, format!("RsaKey({} bits)", key.modulus().len() * 8));
        let streams = streams(&corpus.join(capture));
        let mut opened = 0;
        for ((src, dst), client) in &streams {
            if src.port() < dst.port() {
                continue;
            }
            let Some(server) = streams.get(&(*dst, *src)) else {
                continue;
            };
            let (c, s) = (records(client), records(server));
            let (c_msgs, s_msgs) = (handshake_messages(&c), handshake_messages(&s));
            let (Some(ch), Some(sh)) = (c_msgs.first(), s_msgs.first()) else {
                continue;
            };
            let (hello, server_hello) = (
                parse_client_hello(&ch[4..]).unwrap(),
                parse_server_hello(&sh[4..]).unwrap(),
            );
            let (suite, version) = (server_hello.cipher_suite, server_hello.selected_version());
            let cke_at = c_msgs.iter().position(|m| m[0] == 16).unwrap();
            let premaster = key.premaster(&c_msgs[cke_at][4..]).unwrap();
            // The transcript from the ClientHello through the ClientKeyExchange: the server's
            // messages up to its ServerHelloDone (not the NewSessionTicket it sends later).
            let shd_at = s_msgs.iter().position(|m| m[0] == 14).unwrap();
            let mut transcript = ch.clone();
            for m in s_msgs[..=shd_at].iter().chain(&c_msgs[1..=cke_at]) {
                transcript.extend_from_slice(m);
            }
            let ems = both(&hello.extensions, &server_hello.extensions, 23);
            let hash = ems.then(|| session_hash(suite, version, &transcript));
            let master = master_secret(
                suite,
                version,
                &premaster,
                hello.random,
                server_hello.random,
                hash.as_deref(),
            )
            .unwrap();
            let etm = both(&hello.extensions, &server_hello.extensions, 22);
            let [keys, _] = Tls12Protection::from_master(
                suite,
                version,
                &master,
                hello.random,
                server_hello.random,
                etm,
            )
            .unwrap();
            open_client(capture, keys, &after_change_cipher_spec(&c));
            opened += 1;
        }
        assert!(opened >= 1, "{capture}");
    }
}

#[test]
fn keyed_lab_captures_open_record_by_record() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut tally = Tally::default();
    for key_file in common::lab_key_logs(&corpus) {
        let mut log = KeyLog::new();
        log.add(&std::fs::read(&key_file).unwrap());
        let capture = key_file.with_extension("pcap");
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let streams = streams(&capture);
        for ((src, dst), client) in &streams {
            // The client's direction: from the higher port (the lab servers listen below the
            // ephemeral range).
            if src.port() < dst.port() {
                continue;
            }
            if let Some(server) = streams.get(&(*dst, *src)) {
                check_connection(&name, &log, client, server, &mut tally);
            }
        }
    }
    eprintln!("{tally:?}");
    // Every connection of the keyed captures: TLS 1.3, and before it AEAD and CBC suites
    // (TLS 1.0 with its chained IV, TLS 1.1, TLS 1.2 with RSA key exchange; all three with
    // encrypt-then-MAC, as OpenSSL negotiates it).
    assert!(tally.tls13 >= 20, "{tally:?}");
    assert!(tally.tls12 >= 5, "{tally:?}");
    assert!(tally.not_read.is_empty(), "{tally:?}");
}
