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
use rdp_wire::tls::handshake::{parse_client_hello, parse_server_hello};
use rdp_wire::tls::keylog::{KeyLog, SecretKind};
use rdp_wire::tls::protection::{Tls12Protection, Tls13Protection};
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
    // The client's protected records, in order (after its ChangeCipherSpec).
    let protected: Vec<&[u8]> = c
        .iter()
        .skip_while(|r| r[0] != 20)
        .skip(1)
        .copied()
        .collect();
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
    // Encrypt-then-MAC (RFC 7366, extension 22) when both hellos carry it.
    let etm = |exts: &[rdp_wire::tls::extensions::RawExtension<'_>]| {
        exts.iter().any(|e| e.extension_type.0 == 22)
    };
    let Ok([mut client_keys, _]) = Tls12Protection::from_master(
        suite,
        server_hello.selected_version(),
        master.expose(),
        hello.random,
        server_hello.random,
        etm(&hello.extensions) && etm(&server_hello.extensions),
    ) else {
        tally.not_read.push(format!(
            "{name}: {} {suite}",
            server_hello.selected_version()
        ));
        return;
    };
    assert_eq!(
        client_keys.open(protected[0], &mut out).unwrap(),
        ContentType::HANDSHAKE,
        "{name}"
    );
    assert_eq!(out[..4], [20, 0, 0, 12], "{name}: the client's Finished");
    let data = protected.iter().find(|r| r[0] == 23).unwrap();
    assert_eq!(
        client_keys.open(data, &mut out).unwrap(),
        ContentType::APPLICATION_DATA,
        "{name}"
    );
    assert!(rdp_first(&out), "{name}: {:02x?}", &out[..8]);
    tally.tls12 += 1;
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
