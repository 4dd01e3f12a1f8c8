//! Key logs of the shared corpus (`../shared/corpus`): the lab's `.keys` files (OpenSSL's
//! SSLKEYLOGFILE) and the Decryption Secrets Blocks of the Windows captures, read by
//! `rdp_wire::tls::keylog`: every line understood, and a secret for the client random of every
//! ClientHello the capture shows in clear.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::path::Path;

use rdp_pcap::capture;
use rdp_wire::tls::handshake::parse_client_hello;
use rdp_wire::tls::keylog::{KeyLog, KeyLogStats, SecretKind};

/// The randoms of the ClientHellos that start a TCP payload of `capture` (a handshake record
/// whose first message is a ClientHello, whole in that payload), and the key logs of its
/// Decryption Secrets Blocks.
fn client_hello_randoms(capture: &Path) -> (Vec<[u8; 32]>, Vec<Vec<u8>>) {
    let mut out = Vec::new();
    let bytes = std::fs::read(capture).unwrap();
    let summary = capture::read_capture(&bytes[..], &mut |pkt| {
        let p = pkt.payload;
        if p.len() < 9 || p[0] != 0x16 || p[1] != 3 || p[5] != 1 {
            return;
        }
        let len = usize::from(p[6]) << 16 | usize::from(p[7]) << 8 | usize::from(p[8]);
        let Some(body) = p.get(9..9 + len) else {
            return;
        };
        if let Ok(hello) = parse_client_hello(body) {
            let random: [u8; 32] = hello.random.try_into().unwrap();
            if !out.contains(&random) {
                out.push(random);
            }
        }
    });
    assert!(summary.is_complete(), "{}", capture.display());
    (out, summary.tls_key_logs)
}

/// Whether the key log has any secret for this client random.
fn has_secret(log: &KeyLog, random: &[u8; 32]) -> bool {
    SecretKind::ALL
        .iter()
        .any(|k| log.get(random, *k).is_some())
}

/// Every line of a real key log is understood.
fn assert_clean(what: &Path, stats: &KeyLogStats) {
    assert_eq!(stats.malformed, 0, "{}: {stats:?}", what.display());
    assert_eq!(stats.unknown_label, 0, "{}: {stats:?}", what.display());
    assert!(stats.secrets > 0, "{}: {stats:?}", what.display());
    assert_eq!(
        stats.secrets + stats.ignored + stats.comments,
        stats.lines,
        "{}: {stats:?}",
        what.display()
    );
}

#[test]
fn lab_key_logs_hold_a_secret_for_every_client_hello() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut checked = 0;
    for key_file in common::lab_key_logs(&corpus) {
        let mut log = KeyLog::new();
        let stats = log.add(&std::fs::read(&key_file).unwrap());
        assert_clean(&key_file, &stats);
        let capture = key_file.with_extension("pcap");
        let (randoms, _) = client_hello_randoms(&capture);
        assert!(!randoms.is_empty(), "{}", capture.display());
        for random in &randoms {
            assert!(has_secret(&log, random), "{}", capture.display());
        }
        checked += 1;
    }
    // The lab's 11 key logs and lab2's 9.
    assert!(checked >= 20, "{checked}");
}

#[test]
fn windows_captures_carry_their_key_logs() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut with_secrets = 0;
    for capture in common::captures_below(&corpus.join("public/wireshark-rdp")) {
        let (randoms, key_logs) = client_hello_randoms(&capture);
        if key_logs.is_empty() {
            continue;
        }
        let mut log = KeyLog::new();
        for dsb in &key_logs {
            let stats = log.add(dsb);
            assert_clean(&capture, &stats);
        }
        assert!(!randoms.is_empty(), "{}", capture.display());
        for random in &randoms {
            assert!(has_secret(&log, random), "{}", capture.display());
        }
        with_secrets += 1;
    }
    // All but the two without TLS (standard security, and a negotiation refused).
    assert!(with_secrets >= 4, "{with_secrets}");
}
