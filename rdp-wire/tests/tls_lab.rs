//! Replays the lab captures (`../shared/corpus/lab/*.pcap`) through `TlsTracker` and checks the
//! `tls` facts against each capture's `.expect.json`.
//!
//! The captures are read with the capture kit's reader (`rdp_pcap::kit::read`), decoded by
//! etherparse (Ethernet, Linux SLL and SLL2; IPv4/IPv6; TCP), and put in order by a naive
//! reassembly, enough for loopback captures. The first
//! TPKT frame of each direction (X.224 Connection Request / Confirm) is skipped; everything after
//! it is fed to the tracker.

// Test-only helpers: a malformed capture should fail the test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    clippy::type_complexity
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rdp_wire::analyzer::{TlsFacts, TlsTracker};
use rdp_wire::Side;

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/lab");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("corpus folder {} missing", dir.display());
    }
    eprintln!("note: {} missing, lab capture tests skipped", dir.display());
    None
}

struct Packet {
    ts_ns: i128,
    src: (Vec<u8>, u16),
    dst: (Vec<u8>, u16),
    seq: u32,
    syn: bool,
    ack_flag: bool,
    payload: Vec<u8>,
}

fn u16be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// The TCP packets of a capture, read by the capture kit and decoded by etherparse.
fn read_pcap(path: &Path) -> Vec<Packet> {
    use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
    let contents = rdp_pcap::kit::read(&std::fs::read(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for f in &contents.frames {
        let frame = &f.data[..];
        // The link header: BSD loopback (NULL), Ethernet, Linux SLL, Linux SLL2.
        let (ethertype, l3) = match f.link.0 {
            0 => (
                if frame[4] >> 4 == 6 { 0x86dd } else { 0x0800 },
                &frame[4..],
            ),
            1 => (u16be(frame, 12), &frame[14..]),
            113 => (u16be(frame, 14), &frame[16..]),
            276 => (u16be(frame, 0), &frame[20..]),
            l => panic!("link type {l}"),
        };
        let Ok(p) = SlicedPacket::from_ether_type(EtherType(ethertype), l3) else {
            continue;
        };
        let (src, dst) = match &p.net {
            Some(NetSlice::Ipv4(ip)) => (
                ip.header().source().to_vec(),
                ip.header().destination().to_vec(),
            ),
            Some(NetSlice::Ipv6(ip)) => (
                ip.header().source().to_vec(),
                ip.header().destination().to_vec(),
            ),
            _ => continue,
        };
        let Some(TransportSlice::Tcp(tcp)) = p.transport else {
            continue;
        };
        out.push(Packet {
            ts_ns: i128::from(f.ts.as_nanos()),
            src: (src, tcp.source_port()),
            dst: (dst, tcp.destination_port()),
            seq: tcp.sequence_number(),
            syn: tcp.syn(),
            ack_flag: tcp.ack(),
            payload: tcp.payload().to_vec(),
        });
    }
    out
}

#[derive(Default)]
struct Dir {
    next_seq: Option<u32>,
    pre: Vec<u8>,
    skipped_tpkt: bool,
}

struct Conn {
    client: (Vec<u8>, u16),
    dirs: [Dir; 2],
    tracker: TlsTracker,
}

/// Feeds one capture; returns the facts of each connection in the order they started.
fn replay(path: &Path) -> Vec<TlsFacts> {
    let mut conns: Vec<Conn> = Vec::new();
    let mut index: HashMap<((Vec<u8>, u16), (Vec<u8>, u16)), usize> = HashMap::new();
    for p in read_pcap(path) {
        let key = if p.src <= p.dst {
            (p.src.clone(), p.dst.clone())
        } else {
            (p.dst.clone(), p.src.clone())
        };
        if p.syn && !p.ack_flag {
            index.insert(key.clone(), conns.len());
            conns.push(Conn {
                client: p.src.clone(),
                dirs: [Dir::default(), Dir::default()],
                tracker: TlsTracker::new(),
            });
        }
        let Some(&i) = index.get(&key) else { continue };
        let conn = &mut conns[i];
        let side = if p.src == conn.client {
            Side::Client
        } else {
            Side::Server
        };
        let d = &mut conn.dirs[usize::from(side == Side::Server)];
        if p.syn {
            d.next_seq = Some(p.seq.wrapping_add(1));
            continue;
        }
        let Some(next) = d.next_seq else { continue };
        let skip = next.wrapping_sub(p.seq) as usize;
        if skip >= p.payload.len() || (p.seq.wrapping_sub(next) as i32) > 0 {
            continue; // retransmission, or a hole (not expected on loopback)
        }
        let new = &p.payload[skip..];
        d.next_seq = Some(next.wrapping_add(new.len() as u32));
        let mut bytes = new.to_vec();
        if !d.skipped_tpkt {
            d.pre.extend_from_slice(&bytes);
            bytes.clear();
            if d.pre.first() == Some(&0x03) {
                if d.pre.len() < 4 {
                    continue;
                }
                let len = usize::from(u16be(&d.pre, 2));
                if d.pre.len() < len {
                    continue;
                }
                bytes = d.pre.split_off(len);
            } else {
                bytes = std::mem::take(&mut d.pre);
            }
            d.skipped_tpkt = true;
        }
        if !bytes.is_empty() {
            let _ = conn
                .tracker
                .feed(side, rdp_wire::Timestamp::from_nanos(p.ts_ns), &bytes);
        }
    }
    conns.into_iter().map(|c| c.tracker.into_facts()).collect()
}

/// The JA4 of every ClientHello in a (non-RDP) capture: per flow, payloads in capture order,
/// flows that start with a handshake record.
fn client_hello_ja4s(path: &Path) -> Vec<[String; 4]> {
    use rdp_wire::tls::handshake::{parse_client_hello, HandshakeReassembler, HandshakeType};
    use rdp_wire::tls::record::parse_record;
    let mut flows: Vec<((Vec<u8>, u16), (Vec<u8>, u16), Vec<u8>, Vec<u32>)> = Vec::new();
    for p in read_pcap(path) {
        if p.payload.is_empty() {
            continue;
        }
        let pos = flows.iter().position(|f| f.0 == p.src && f.1 == p.dst);
        let i = pos.unwrap_or_else(|| {
            flows.push((p.src.clone(), p.dst.clone(), Vec::new(), Vec::new()));
            flows.len() - 1
        });
        if !flows[i].3.contains(&p.seq) {
            flows[i].3.push(p.seq);
            flows[i].2.extend_from_slice(&p.payload);
        }
    }
    let mut out = Vec::new();
    for (_, _, bytes, _) in flows {
        let mut input = &bytes[..];
        let mut reassembler = HandshakeReassembler::new();
        while let Ok((record, rest)) = parse_record(input) {
            if record.content_type.0 != 22 {
                break;
            }
            let mut hellos = Vec::new();
            let _ = reassembler.push(record.fragment, |t, body| {
                if t == HandshakeType::CLIENT_HELLO {
                    hellos.push(body.to_vec());
                }
            });
            for h in hellos {
                let hello = parse_client_hello(&h).unwrap();
                let sorted = rdp_wire::tls::fingerprint::ja4(&hello);
                let original = rdp_wire::tls::fingerprint::ja4_original(&hello);
                out.push([sorted.ja4, sorted.ja4_r, original.ja4_o, original.ja4_ro]);
            }
            input = rest;
        }
    }
    out
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn ja4_matches_foxio_expected_outputs() {
    let Some(lab) = corpus() else { return };
    let ja4_dir = lab.join("../ja4");
    for name in ["tls12.pcap", "tls-alpn-h2.pcap", "badcurveball.pcap"] {
        let snap =
            std::fs::read_to_string(ja4_dir.join(format!("expected/{name}.rust.snap"))).unwrap();
        let expected: Vec<&str> = snap
            .lines()
            .filter_map(|l| l.trim().strip_prefix("ja4: "))
            .collect();
        let got = client_hello_ja4s(&ja4_dir.join(name));
        assert!(!got.is_empty(), "{name}: no ClientHello found");
        // FoxIO's Python tool also prints the raw and original-order variants.
        let python: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(ja4_dir.join(format!("expected/{name}.python.json"))).unwrap(),
        )
        .unwrap();
        for [ja4, ja4_r, ja4_o, ja4_ro] in &got {
            assert!(
                expected.contains(&ja4.as_str()),
                "{name}: {ja4} not in {expected:?}"
            );
            let entry = python
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["JA4.1"] == ja4.as_str())
                .unwrap_or_else(|| panic!("{name}: {ja4} not in the Python output"));
            assert_eq!(entry["JA4_r.1"], ja4_r.as_str(), "{name}");
            assert_eq!(entry["JA4_o.1"], ja4_o.as_str(), "{name}");
            assert_eq!(entry["JA4_ro.1"], ja4_ro.as_str(), "{name}");
        }
    }
}

fn check_capture(dir: &Path, name: &str) -> Vec<TlsFacts> {
    let facts = replay(&dir.join(name));
    let expect: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{name}.expect.json"))).unwrap(),
    )
    .unwrap();
    let conns = expect["connections"].as_array().unwrap();
    assert_eq!(conns.len(), facts.len(), "{name}: connection count");
    for (n, (want, got)) in conns.iter().zip(&facts).enumerate() {
        let ctx = format!("{name} connection {n}");
        let tls = &want["tls"];
        if tls.is_null() {
            continue;
        }
        if let Some(v) = tls.get("client_versions") {
            let got_v: Vec<String> = got.client_versions.iter().map(|v| v.to_string()).collect();
            assert_eq!(serde_json::json!(got_v), *v, "{ctx}: client_versions");
        }
        if let Some(v) = tls.get("client_cipher_suites") {
            assert_eq!(
                v.as_u64(),
                Some(got.client_cipher_suites.len() as u64),
                "{ctx}: suites"
            );
        }
        if let Some(v) = tls.get("version") {
            assert_eq!(
                v.as_str().map(str::to_string),
                got.version.map(|v| v.to_string()),
                "{ctx}"
            );
        }
        if let Some(v) = tls.get("cipher_suite") {
            let got_s = got.cipher_suite.map(|s| s.to_string());
            assert_eq!(v.as_str().map(str::to_string), got_s, "{ctx}: cipher_suite");
        }
        if let Some(v) = tls.get("certificate") {
            if v.is_null() {
                assert!(
                    got.certificates.is_empty(),
                    "{ctx}: no clear-text certificate"
                );
            } else {
                let c = got
                    .certificates
                    .first()
                    .unwrap_or_else(|| panic!("{ctx}: certificate"));
                assert_eq!(
                    v["not_before"].as_str(),
                    Some(c.not_before_rfc3339.as_str()),
                    "{ctx}"
                );
                assert_eq!(
                    v["not_after"].as_str(),
                    Some(c.not_after_rfc3339.as_str()),
                    "{ctx}"
                );
                assert_eq!(v["key_bits"].as_u64(), c.key_bits.map(u64::from), "{ctx}");
                // expect.json abbreviates `sha256WithRSAEncryption` as `sha256WithRSA`.
                let sig = v["signature"].as_str().unwrap();
                assert!(
                    c.signature_algorithm.starts_with(sig),
                    "{ctx}: {}",
                    c.signature_algorithm
                );
            }
        }
        if let Some(v) = tls.get("alerts") {
            let want_alerts = v.as_array().unwrap();
            assert_eq!(
                want_alerts.len(),
                got.alerts.len(),
                "{ctx}: alerts {:?}",
                got.alerts
            );
            for (w, g) in want_alerts.iter().zip(&got.alerts) {
                assert_eq!(w["from"].as_str(), Some(g.side.as_str()), "{ctx}");
                if w.get("encrypted").and_then(|e| e.as_bool()) == Some(true) {
                    assert!(g.encrypted, "{ctx}: encrypted alert");
                } else {
                    assert!(!g.encrypted, "{ctx}");
                    assert_eq!(
                        w["level"].as_str(),
                        g.level.map(|l| l.to_string()).as_deref()
                    );
                    assert_eq!(
                        w["description"].as_str(),
                        g.description.map(|d| d.to_string()).as_deref(),
                        "{ctx}"
                    );
                }
            }
        }
        if want["verdict"]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == "established"))
        {
            assert!(got.handshake_complete, "{ctx}: handshake_complete {got:?}");
        }
    }
    facts
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn lab_captures_match_expectations() {
    let Some(dir) = corpus() else { return };
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".pcap") && dir.join(format!("{name}.expect.json")).exists() {
            check_capture(&dir, &name);
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} captures checked");
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn tls12_ok_details() {
    let Some(dir) = corpus() else { return };
    let f = &check_capture(&dir, "tls12-ok.pcap")[0];
    assert!(f.handshake_complete);
    assert!(f.client_ccs_at.is_some() && f.server_ccs_at.is_some());
    assert!(f.established_at >= f.server_hello_at);
    assert!(f.client_app_records > 0 && f.server_app_records > 0);
    assert_eq!(f.chain_length, 1);
    let c = &f.certificates[0];
    assert_eq!(c.key_type, "RSA");
    assert_eq!(c.signature_algorithm, "sha256WithRSAEncryption");
    assert!(c.self_signed);
    assert_eq!(c.sha256.len(), 64);
    assert!(f.alerts.iter().all(|a| a.encrypted));
    assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
    // tshark 4.0.17 `tls.handshake.ja3` / `ja3s` for the same hellos.
    assert_eq!(f.ja3.as_deref(), Some("a3afc2c46ba4a7d7fbe1cfb7a3031c2f"));
    assert_eq!(f.ja3s.as_deref(), Some("ec74a5c51106f0419184d0dd08fb05bc"));
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn tls13_ok_details() {
    let Some(dir) = corpus() else { return };
    let f = &check_capture(&dir, "tls-ok.pcap")[0];
    assert!(f.handshake_complete);
    assert!(f.alerts.is_empty());
    assert!(f.client_app_records > 0 && f.server_app_records > 0);
    // FreeRDP sends SNI (the IP literal), 31 suites, 10 extensions, no ALPN.
    assert!(
        f.ja4.as_deref().unwrap().starts_with("t13d311000_"),
        "{:?}",
        f.ja4
    );
    assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
}
