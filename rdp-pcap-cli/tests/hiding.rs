//! Where RDP hides: behind a proxy preamble (SOCKS4/4a, SOCKS5, HTTP CONNECT) on any port, and
//! in captures that start in the middle of a connection. Each test names the behaviour, builds
//! the capture with the kit from the real bytes of a lab session, and reads what the binary
//! reports (`docs/output.md` states the rules).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::path::Path;

use rdp_pcap::capture::read_capture;
use rdp_pcap::kit::{Conversation, Packets};
use rdp_wire::{Side, Timestamp};
use serde_json::Value;

/// The TCP payloads of a lab capture's one connection, in stream order, with their times and
/// senders (the side whose port is `server_port` is the server); retransmitted bytes dropped.
fn lab_turns(name: &str, server_port: u16) -> Vec<(Side, Timestamp, Vec<u8>)> {
    let bytes = std::fs::read(common::corpus_dir().join("lab").join(name)).unwrap();
    let mut next: [Option<u32>; 2] = [None, None];
    let mut out = Vec::new();
    read_capture(&bytes[..], &mut |p| {
        let side = if p.src.port() == server_port {
            Side::Server
        } else {
            Side::Client
        };
        let slot = &mut next[side.index()];
        if p.flags.syn() {
            *slot = Some(p.seq.wrapping_add(1));
            return;
        }
        if p.payload.is_empty() {
            return;
        }
        let expected = slot.unwrap_or(p.seq);
        let skip = usize::try_from(expected.wrapping_sub(p.seq)).unwrap();
        if skip >= p.payload.len() && slot.is_some() {
            return;
        }
        let fresh = &p.payload[skip.min(p.payload.len())..];
        *slot = Some(p.seq.wrapping_add(u32::try_from(p.payload.len()).unwrap()));
        out.push((side, p.ts, fresh.to_vec()));
    });
    assert!(!out.is_empty(), "{name}: no payload");
    out
}

/// A conversation between `client` and `server`: the TCP handshake, `preamble` (each turn
/// sent by its side), then `turns` at their own times, then both FINs.
fn replay(
    client: &str,
    server: &str,
    preamble: &[(Side, &[u8])],
    turns: &[(Side, Timestamp, Vec<u8>)],
) -> Packets {
    let client: SocketAddr = client.parse().unwrap();
    let server: SocketAddr = server.parse().unwrap();
    let start = turns.first().map(|t| t.1).unwrap();
    let mut c = Conversation::new(client, server).with_clock(Timestamp(start.0 - 1_000_000), 1_000);
    c.handshake();
    for (side, bytes) in preamble {
        c.send(*side, bytes);
    }
    for (side, ts, bytes) in turns {
        if *ts > c.clock {
            c.clock = *ts;
        }
        c.send(*side, bytes);
    }
    c.close();
    c.into_packets()
}

fn run(name: &str, capture: &[u8]) -> Vec<Value> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hiding");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, capture).unwrap();
    common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]).connections()
}

fn text_of(name: &str, capture: &[u8]) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hiding");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, capture).unwrap();
    common::rdp_pcap(&[path.to_str().unwrap()]).stdout
}

fn one(name: &str, capture: &[u8]) -> Value {
    let conns = run(name, capture);
    assert_eq!(conns.len(), 1, "{name}: {conns:?}");
    conns[0].clone()
}

/// SOCKS5 greeting offering no authentication and username/password (RFC 1928 section 3).
const SOCKS5_GREETING: &[u8] = b"\x05\x02\x00\x02";
/// The proxy choosing username/password (RFC 1928 section 3).
const SOCKS5_CHOOSE_USERPASS: &[u8] = b"\x05\x02";
/// RFC 1929 request: user alice, password Secr3t!pw (which no report may show).
const SOCKS5_AUTH: &[u8] = b"\x01\x05alice\x09Secr3t!pw";
const SOCKS5_AUTH_OK: &[u8] = b"\x01\x00";
/// CONNECT 10.0.0.1:3389 (RFC 1928 section 4).
const SOCKS5_CONNECT: &[u8] = b"\x05\x01\x00\x01\x0a\x00\x00\x01\x0d\x3d";
/// Succeeded, bound to 192.168.1.1:40000 (RFC 1928 section 6).
const SOCKS5_OK: &[u8] = b"\x05\x00\x00\x01\xc0\xa8\x01\x01\x9c\x40";
/// REP 0x05: connection refused.
const SOCKS5_REFUSED: &[u8] = b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00";

/// A healthy TLS session (lab/tls-ok.pcap) through a SOCKS5 proxy on port 1080, with
/// username/password authentication: the RDP after the preamble is analysed as usual, the
/// record names the proxy's target, and the password is nowhere in any report.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn rdp_through_a_socks5_tunnel_is_analysed_after_the_preamble() {
    let turns = lab_turns("tls-ok.pcap", 3389);
    let capture = replay(
        "10.0.0.2:50000",
        "10.0.0.9:1080",
        &[
            (Side::Client, SOCKS5_GREETING),
            (Side::Server, SOCKS5_CHOOSE_USERPASS),
            (Side::Client, SOCKS5_AUTH),
            (Side::Server, SOCKS5_AUTH_OK),
            (Side::Client, SOCKS5_CONNECT),
            (Side::Server, SOCKS5_OK),
        ],
        &turns,
    )
    .to_pcapng(None);
    let c = one("socks5-tls-ok.pcapng", &capture);
    assert_eq!(c["server"], "10.0.0.9:1080");
    assert_eq!(c["via"]["kind"], "socks5", "{c}");
    assert_eq!(c["via"]["target"], "10.0.0.1:3389");
    assert_eq!(c["via"]["auth"], "username/password");
    assert_eq!(c["via"]["granted"], true);
    assert_eq!(c["via"]["refused"], Value::Null);
    assert_eq!(c["x224"]["cookie"], "alice");
    assert_eq!(c["tls"]["version"], "TLS1.3");
    assert_eq!(c["verdict"]["code"], "established", "{c}");
    // The RDP server is the tunnel's target: on 3389, no nonstandard-port finding.
    let findings = c["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["code"] != "nonstandard-port"),
        "{findings:?}"
    );
    let text = text_of("socks5-tls-ok.pcapng", &capture);
    assert!(text.contains("via          socks5 10.0.0.1:3389"), "{text}");
    assert!(!text.contains("Secr3t"), "{text}");
    assert!(!c.to_string().contains("Secr3t"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hiding");
    let csv = common::rdp_pcap(&[
        "--format",
        "csv",
        dir.join("socks5-tls-ok.pcapng").to_str().unwrap(),
    ])
    .stdout;
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",via"), "{csv}");
    assert!(
        lines.next().unwrap().ends_with(",socks5 10.0.0.1:3389"),
        "{csv}"
    );
    assert!(!csv.contains("Secr3t"));
}

/// The same session through an HTTP CONNECT proxy on 8080, and through SOCKS4a naming the
/// target by a host name (escaped in the report).
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn rdp_through_http_connect_and_socks4a_tunnels_names_the_target() {
    let turns = lab_turns("tls-ok.pcap", 3389);
    let capture = replay(
        "10.0.0.2:50000",
        "10.0.0.9:8080",
        &[
            (
                Side::Client,
                b"CONNECT rdp.example:3389 HTTP/1.1\r\nHost: rdp.example:3389\r\n\r\n",
            ),
            (Side::Server, b"HTTP/1.1 200 Connection established\r\n\r\n"),
        ],
        &turns,
    )
    .to_pcapng(None);
    let c = one("http-connect-tls-ok.pcapng", &capture);
    assert_eq!(c["via"]["kind"], "http-connect", "{c}");
    assert_eq!(c["via"]["target"], "rdp.example:3389");
    assert_eq!(c["verdict"]["code"], "established", "{c}");

    let capture = replay(
        "10.0.0.2:50000",
        "10.0.0.9:1080",
        &[
            (
                Side::Client,
                b"\x04\x01\x0d\x3d\x00\x00\x00\x01me\x00rdp\x1b[2J.example\x00",
            ),
            (Side::Server, b"\x00\x5a\x00\x00\x00\x00\x00\x00"),
        ],
        &turns,
    )
    .to_pcapng(None);
    let c = one("socks4a-tls-ok.pcapng", &capture);
    assert_eq!(c["via"]["kind"], "socks4", "{c}");
    assert_eq!(c["via"]["target"], "rdp\\x1b[2J.example:3389");
    assert_eq!(c["verdict"]["code"], "established", "{c}");
}

/// A proxy that answers "connection refused" (SOCKS5 REP 0x05) saw the target reset its SYN:
/// `tcp-refused`, with the proxy's words. A proxy that refuses for its own reasons (HTTP 403)
/// did not try the RDP server: `incomplete`, never an RDP error.
#[test]
fn a_refused_tunnel_is_reported_with_the_proxys_answer() {
    let mut c = Conversation::new(
        "10.0.0.2:50000".parse().unwrap(),
        "10.0.0.9:1080".parse().unwrap(),
    );
    c.handshake()
        .send(Side::Client, b"\x05\x01\x00")
        .send(Side::Server, b"\x05\x00")
        .send(Side::Client, SOCKS5_CONNECT)
        .send(Side::Server, SOCKS5_REFUSED)
        .close();
    let v = one("socks5-refused.pcapng", &c.into_packets().to_pcapng(None));
    assert_eq!(v["via"]["kind"], "socks5");
    assert_eq!(v["via"]["granted"], false);
    assert_eq!(v["via"]["refused"], "SOCKS5 reply connection refused");
    assert_eq!(v["verdict"]["code"], "tcp-refused", "{v}");
    assert!(v["verdict"]["summary"]
        .as_str()
        .unwrap()
        .contains("10.0.0.1:3389 refused its connection"));
    // The fix is for the RDP server behind the proxy, not for the proxy.
    let fix = v["verdict"]["fix"].as_str().unwrap();
    assert!(fix.contains("-LocalPort 3389"), "{fix}");

    let mut c = Conversation::new(
        "10.0.0.2:50000".parse().unwrap(),
        "10.0.0.9:3128".parse().unwrap(),
    );
    c.handshake()
        .send(
            Side::Client,
            b"CONNECT 10.0.0.1:3389 HTTP/1.1\r\nHost: 10.0.0.1:3389\r\n\r\n",
        )
        .send(
            Side::Server,
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden",
        )
        .close();
    let v = one("http-403.pcapng", &c.into_packets().to_pcapng(None));
    assert_eq!(v["via"]["refused"], "HTTP 403 Forbidden", "{v}");
    assert_eq!(v["verdict"]["code"], "incomplete", "{v}");
    assert!(v["verdict"]["summary"]
        .as_str()
        .unwrap()
        .contains("proxy refused the tunnel to 10.0.0.1:3389"));
}

/// A SOCKS proxy carrying something else to another port is not reported: only tunnels that
/// carry RDP, or lead to a reported port, are.
#[test]
fn a_tunnel_to_another_service_is_not_rdp() {
    let mut c = Conversation::new(
        "10.0.0.2:50000".parse().unwrap(),
        "10.0.0.9:1080".parse().unwrap(),
    );
    c.handshake()
        .send(Side::Client, b"\x05\x01\x00")
        .send(Side::Server, b"\x05\x00")
        .send(Side::Client, b"\x05\x01\x00\x03\x0bexample.com\x01\xbb")
        .send(Side::Server, SOCKS5_OK)
        .send(Side::Client, b"\x16\x03\x01\x00\x05hello")
        .close();
    assert!(run("socks5-https.pcapng", &c.into_packets().to_pcapng(None)).is_empty());
}

/// The packets of `all` from packet `from` on: a capture started late.
fn from_packet(all: &Packets, from: usize) -> Packets {
    Packets(all.0[from..].to_vec())
}

/// A healthy TLS session (lab/tls-ok.pcap) between 10.0.0.2:2000 and a server on
/// 10.0.0.1:40000, the capture starting at the server's Connection Confirm: found as RDP on
/// that port, the client told apart by the PDUs (the confirm is the server's) rather than by
/// the higher port, and judged from the confirm on.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn a_capture_starting_at_the_connection_confirm_is_rdp_with_roles_from_the_pdus() {
    let turns = lab_turns("tls-ok.pcap", 3389);
    let all = replay("10.0.0.2:2000", "10.0.0.1:40000", &[], &turns);
    let confirm = all.nth_data(Side::Server, 0).unwrap();
    let c = one(
        "mid-stream-confirm.pcapng",
        &from_packet(&all, confirm).to_pcapng(None),
    );
    assert_eq!(c["client"], "10.0.0.2:2000", "{c}");
    assert_eq!(c["server"], "10.0.0.1:40000");
    assert_eq!(c["mid_stream"], true);
    assert_eq!(c["x224"]["selected_protocol"], "SSL");
    assert_eq!(c["verdict"]["code"], "established", "{c}");
    assert_eq!(c["phase"], "session");
}

/// The same session picked up after its TLS handshake, on the RDP port: TLS records both ways
/// and session-sized traffic from the server make it `established` with `mid_stream`, at
/// least `tls-established`, not `incomplete`. The same records on a port that is not RDP's
/// are not claimed as RDP: TLS alone does not tell RDP from HTTPS.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn tls_records_picked_up_after_the_handshake_are_an_established_session() {
    let turns = lab_turns("tls-ok.pcap", 3389);
    let all = replay("10.0.0.2:50000", "10.0.0.1:3389", &[], &turns);
    let after_handshake = all.nth_data(Side::Server, 4).unwrap();
    let c = one(
        "mid-stream-tls.pcapng",
        &from_packet(&all, after_handshake).to_pcapng(None),
    );
    assert_eq!(c["client"], "10.0.0.2:50000", "{c}");
    assert_eq!(c["mid_stream"], true);
    assert_eq!(c["verdict"]["code"], "established", "{c}");
    assert!(
        c["verdict"]["summary"]
            .as_str()
            .unwrap()
            .contains("picked up mid-stream"),
        "{c}"
    );
    assert!(
        ["tls-established", "session"].contains(&c["phase"].as_str().unwrap()),
        "{c}"
    );

    let all = replay("10.0.0.2:50000", "10.0.0.1:40000", &[], &turns);
    let after_handshake = all.nth_data(Side::Server, 4).unwrap();
    let conns = run(
        "mid-stream-tls-other-port.pcapng",
        &from_packet(&all, after_handshake).to_pcapng(None),
    );
    assert!(conns.is_empty(), "{conns:?}");
}

/// A Standard RDP Security session (lab/rdp-standard-security.pcap) on 10.0.0.1:40000, picked
/// up at the server's MCS Send Data Indication, and later at its first fast-path update: RDP by
/// its framing on both sides, the server told by its PDUs, `established` with `mid_stream`.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn a_clear_text_session_picked_up_at_mcs_or_fast_path_is_established() {
    let turns = lab_turns("rdp-standard-security.pcap", 3389);
    let all = replay("10.0.0.2:2000", "10.0.0.1:40000", &[], &turns);
    // Server data packets: the confirm, the Connect Response, the Attach User and seven
    // Channel Join Confirms, then (10) the first Send Data Indication; (17) is the first
    // fast-path update.
    for (n, name) in [
        (10, "mid-stream-mcs.pcapng"),
        (17, "mid-stream-fastpath.pcapng"),
    ] {
        let start = all.nth_data(Side::Server, n).unwrap();
        let c = one(name, &from_packet(&all, start).to_pcapng(None));
        assert_eq!(c["client"], "10.0.0.2:2000", "{name}: {c}");
        assert_eq!(c["server"], "10.0.0.1:40000", "{name}");
        assert_eq!(c["mid_stream"], true, "{name}");
        assert_eq!(c["verdict"]["code"], "established", "{name}: {c}");
        assert_eq!(c["phase"], "session", "{name}: {c}");
    }
}

/// Healthy sessions picked up at every data packet, on a server port above the client's: when
/// the connection is reported, its client is the real one (told by the PDUs, never by the
/// higher port), and the verdict is never an error (a late start is missing evidence, not a
/// failure).
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn healthy_sessions_picked_up_at_any_packet_keep_their_roles_and_no_error() {
    for (lab, port) in [
        ("tls-ok.pcap", 3389),
        ("rdp-standard-security.pcap", 3389),
        ("nla-ok.pcap", 3390),
    ] {
        let turns = lab_turns(lab, port);
        let all = replay("10.0.0.2:2000", "10.0.0.1:40000", &[], &turns);
        let starts: Vec<usize> = (0..all.0.len())
            .filter(|i| all.0[*i].payload_len > 0)
            .collect();
        for (k, start) in starts.iter().enumerate() {
            let name = format!("sweep-{lab}-{k}.pcapng");
            for c in run(&name, &from_packet(&all, *start).to_pcapng(None)) {
                assert_eq!(c["client"], "10.0.0.2:2000", "{name}: {c}");
                assert_ne!(c["verdict"]["severity"], "error", "{name}: {c}");
            }
        }
    }
}

/// TLS straight away on port 443 (the real TLS 1.2 handshake and records of
/// lab/tls12-ok.pcap, without its X.224 exchange): HTTPS, the transport of an RD Gateway. With
/// `--port 443` it is reported as such (`via` kind `rd-gateway`, what suggested it), its
/// completed handshake `incomplete` with the caveat that the RDP inside is encrypted: neither
/// `established` nor `not-rdp`. Without `--port 443`, HTTPS is not reported at all.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn tls_first_on_443_is_reported_as_a_possible_rd_gateway_without_claiming_rdp() {
    let turns = lab_turns("tls12-ok.pcap", 3389);
    let capture = replay("10.0.0.2:50000", "10.0.0.1:443", &[], &turns[2..]).to_pcapng(None);
    assert!(run("rdg-443.pcapng", &capture).is_empty());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hiding");
    let path = dir.join("rdg-443.pcapng");
    let conns = common::rdp_pcap(&["--format", "jsonl", "--port", "443", path.to_str().unwrap()])
        .connections();
    assert_eq!(conns.len(), 1, "{conns:?}");
    let c = &conns[0];
    assert_eq!(c["via"]["kind"], "rd-gateway", "{c}");
    assert_eq!(c["via"]["basis"], "port 443");
    assert_eq!(c["via"]["target"], Value::Null);
    assert_eq!(c["verdict"]["code"], "incomplete", "{c}");
    let summary = c["verdict"]["summary"].as_str().unwrap();
    assert!(summary.contains("RD Gateway"), "{summary}");
    assert!(summary.contains("encrypted"), "{summary}");
    let text = common::rdp_pcap(&["--port", "443", path.to_str().unwrap()]).stdout;
    assert!(
        text.contains("via          rd-gateway (suggested by port 443"),
        "{text}"
    );
}

/// Real proxy captures of the shared corpus (ja4/: HTTPS through SOCKS4, SOCKS4a, SOCKS5 and
/// HTTP CONNECT): each preamble is read, the target named as the client gave it, and the TLS
/// after it decoded. They carry HTTPS, not RDP: reported only when the target's port is asked
/// for, and then as what they are (`not-rdp`, the TLS after the tunnel seen).
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn real_proxy_captures_name_their_targets() {
    let dir = common::corpus_dir().join("ja4");
    let socks = dir.join("socks-https-example.pcap");
    let connect = dir.join("https-connect.pcap");
    for path in [&socks, &connect] {
        let run = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
        assert!(run.connections().is_empty(), "{}", run.stdout);
    }
    let via = |path: &Path| -> Vec<(String, String, String)> {
        common::rdp_pcap(&["--format", "jsonl", "--port", "443", path.to_str().unwrap()])
            .connections()
            .iter()
            .map(|c| {
                assert_eq!(c["via"]["granted"], true, "{c}");
                assert_eq!(c["verdict"]["code"], "not-rdp", "{c}");
                assert!(c["tls"]["version"].is_string(), "{c}");
                (
                    c["via"]["kind"].as_str().unwrap().to_string(),
                    c["via"]["target"].as_str().unwrap().to_string(),
                    c["server"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let proxy = "10.180.156.249:1080".to_string();
    assert_eq!(
        via(&socks),
        [
            ("socks4".into(), "93.184.216.119:443".into(), proxy.clone()),
            ("socks4".into(), "www.example.com:443".into(), proxy.clone()),
            ("socks5".into(), "93.184.216.119:443".into(), proxy),
        ]
    );
    assert_eq!(
        via(&connect),
        [(
            "http-connect".into(),
            "ts01-b.cloudsink.net:443".into(),
            "10.9.8.7:8080".into()
        )]
    );
}

/// A preamble that arrives a byte per segment (an HTTP head searched for its end as it grows)
/// is read the same, and the RDP after it too.
#[test]
fn a_preamble_fed_a_byte_at_a_time_is_read_the_same() {
    let mut c = Conversation::new(
        "10.0.0.2:50000".parse().unwrap(),
        "10.0.0.9:8080".parse().unwrap(),
    )
    .with_mss(1);
    c.handshake()
        .send(
            Side::Client,
            b"CONNECT 10.0.0.1:3389 HTTP/1.1\r\nHost: 10.0.0.1:3389\r\n\r\n",
        )
        .send(Side::Server, b"HTTP/1.0 200 Connection established\r\n\r\n")
        .send(Side::Client, rdp_pcap::fuzzing::synth::CONNECTION_REQUEST)
        .send(
            Side::Server,
            rdp_pcap::fuzzing::synth::CONNECTION_CONFIRM_SSL,
        )
        .close();
    let v = one("http-bytewise.pcapng", &c.into_packets().to_pcapng(None));
    assert_eq!(v["via"]["kind"], "http-connect", "{v}");
    assert_eq!(v["via"]["target"], "10.0.0.1:3389");
    assert_eq!(v["via"]["granted"], true);
    assert_eq!(v["x224"]["cookie"], "synth", "{v}");
    assert_eq!(v["x224"]["selected_protocol"], "SSL");
}
