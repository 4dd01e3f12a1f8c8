//! What the capture did not see is not what did not happen (issue 14): one direction absent,
//! a lost segment where the deciding message was, a capture that stops too soon, and a server
//! that ends a TLS connection after its connection sequence. Each test names the behaviour and
//! builds the capture that shows it with the kit, from the bundled samples' real frames or from
//! scratch; `verdict.rs` (`capture_limits`, `server_ended_it`) and `docs/output.md` state the
//! rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;

use rdp_pcap::fuzzing::synth;
use rdp_pcap::kit::{self, tcp_flags, Conversation, Frame, Linktype, Packet, Packets};
use rdp_wire::{Endpoints, Side, Timestamp};
use serde_json::Value;

/// The connections the binary reports for `capture`, written to a file named `name`.
fn connections(name: &str, capture: &[u8]) -> Vec<Value> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("capture_limits");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, capture).unwrap();
    common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]).connections()
}

fn only_connection(name: &str, capture: &[u8]) -> Value {
    let conns = connections(name, capture);
    assert_eq!(conns.len(), 1, "{name}: {conns:?}");
    conns.into_iter().next().unwrap()
}

/// A bundled sample's frames, with the endpoints of its one connection.
fn sample(name: &str) -> (Linktype, Vec<Frame>, Endpoints) {
    let path = common::samples_dir().join(name);
    let contents = kit::read(&std::fs::read(&path).unwrap()).unwrap();
    let conns = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]).connections();
    let conn = &conns[0];
    let endpoints = Endpoints {
        client: conn["client"].as_str().unwrap().parse().unwrap(),
        server: conn["server"].as_str().unwrap().parse().unwrap(),
    };
    (contents.frames[0].link, contents.frames, endpoints)
}

fn pcap(link: Linktype, frames: &[&Frame]) -> Vec<u8> {
    let packets: Vec<Packet> = frames
        .iter()
        .map(|f| Packet::raw(f.ts, link, f.data.clone()))
        .collect();
    kit::to_pcap(link, &packets).unwrap()
}

/// The index of the `n`-th frame (from 0) of `side` that carries TCP data.
fn nth_data_frame(frames: &[Frame], e: Endpoints, side: Side, n: usize) -> usize {
    frames
        .iter()
        .enumerate()
        .filter(|(_, f)| common::from_client(f, e) == Some(side == Side::Client))
        .filter(|(_, f)| common::tcp_payload_len(f) > 0)
        .nth(n)
        .map(|(i, _)| i)
        .unwrap()
}

fn finding<'a>(conn: &'a Value, code: &str) -> Option<&'a Value> {
    conn["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
}

/// A capture of the client's packets only (asymmetric routing, a one-way mirror port, a `src
/// host` filter) of a healthy session: the client's ACKs prove the server answered, so the
/// verdict is `incomplete`, not `no-negotiation-response`, and `one-sided-capture` gives the
/// bytes the client acknowledged.
#[test]
fn a_capture_of_the_client_side_only_is_incomplete_and_counts_what_the_client_acknowledged() {
    let (link, frames, e) = sample("tls-ok.pcap");
    let kept: Vec<&Frame> = frames
        .iter()
        .filter(|f| common::from_client(f, e) == Some(true))
        .collect();
    let conn = only_connection("client-only.pcap", &pcap(link, &kept));
    assert_eq!(conn["verdict"]["code"], "incomplete", "{conn}");
    assert_eq!(conn["verdict"]["severity"], "info", "{conn}");
    let summary = conn["verdict"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("the server's direction is missing"),
        "{summary}"
    );
    let one_sided = finding(&conn, "one-sided-capture").unwrap_or_else(|| panic!("{conn}"));
    // The server sent 60,078 bytes; the client acknowledged all but its last close_notify
    // (it reset the connection instead).
    let text = one_sided["summary"].as_str().unwrap();
    let acked: u64 = text
        .split("acknowledged ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!((60_000..=60_078).contains(&acked), "{text}");
    // The text report does not say the SYN went unanswered: the client's ACKs show it was not.
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("capture_limits/client-only.pcap");
    let text = common::rdp_pcap(&[path.to_str().unwrap()]).stdout;
    assert!(text.contains("the SYN-ACK not in the capture"), "{text}");
    assert!(!text.contains("not answered"), "{text}");
}

/// The same with the server's packets only.
#[test]
fn a_capture_of_the_server_side_only_is_incomplete() {
    let (link, frames, e) = sample("tls-ok.pcap");
    let kept: Vec<&Frame> = frames
        .iter()
        .filter(|f| common::from_client(f, e) == Some(false))
        .collect();
    for conn in connections("server-only.pcap", &pcap(link, &kept)) {
        assert_ne!(conn["verdict"]["severity"], "error", "{conn}");
        assert!(finding(&conn, "one-sided-capture").is_some(), "{conn}");
    }
}

/// A lost Connection Confirm in a session that goes on for 60 KB: the later traffic decides,
/// `established` with the gap named, not `no-negotiation-response`.
#[test]
fn a_lost_connection_confirm_does_not_hide_the_session_that_follows() {
    let (link, frames, e) = sample("tls-ok.pcap");
    let confirm = nth_data_frame(&frames, e, Side::Server, 0);
    let kept: Vec<&Frame> = frames
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != confirm)
        .map(|(_, f)| f)
        .collect();
    let conn = only_connection("lost-confirm.pcap", &pcap(link, &kept));
    assert_eq!(conn["verdict"]["code"], "established", "{conn}");
    let summary = conn["verdict"]["summary"].as_str().unwrap();
    assert!(summary.contains("missing from the capture"), "{summary}");
    assert!(finding(&conn, "capture-gap").is_some(), "{conn}");
}

/// A lost server flight in a short connection (9.7 KB from the server: no more than a
/// connection sequence shows): `incomplete`, naming the gap, not `tls-handshake-failed`.
#[test]
fn a_lost_server_flight_in_a_short_connection_is_incomplete() {
    let (link, frames, e) = sample("nla-ok.pcap");
    let flight = nth_data_frame(&frames, e, Side::Server, 1);
    let kept: Vec<&Frame> = frames
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != flight)
        .map(|(_, f)| f)
        .collect();
    let conn = only_connection("lost-flight.pcap", &pcap(link, &kept));
    assert_eq!(conn["verdict"]["code"], "incomplete", "{conn}");
    assert!(finding(&conn, "capture-gap").is_some(), "{conn}");
}

/// A capture that stops right after the client's Connection Request cannot show that the server
/// never answered.
#[test]
fn a_capture_that_stops_right_after_the_request_is_incomplete() {
    let (link, frames, e) = sample("tls-ok.pcap");
    let request = nth_data_frame(&frames, e, Side::Client, 0);
    let kept: Vec<&Frame> = frames[..=request].iter().collect();
    let conn = only_connection("cut-after-request.pcap", &pcap(link, &kept));
    assert_eq!(conn["verdict"]["code"], "incomplete", "{conn}");
    let summary = conn["verdict"]["summary"].as_str().unwrap();
    assert!(summary.contains("too soon to tell"), "{summary}");
}

fn client(port: u16) -> Conversation {
    Conversation::new(
        format!("10.0.0.2:{port}").parse().unwrap(),
        "10.0.0.1:3389".parse().unwrap(),
    )
}

/// A request the server leaves unanswered while the capture goes on (another connection 6 s
/// later) still is `no-negotiation-response`: the rule needs the capture to have watched.
#[test]
fn a_request_left_unanswered_while_the_capture_goes_on_is_no_negotiation_response() {
    let mut a = client(50000);
    a.handshake().send(Side::Client, synth::CONNECTION_REQUEST);
    let mut b = client(50001).with_clock(
        Timestamp::from_nanos(i128::from(kit::DEFAULT_START.as_nanos()) + 6_000_000_000),
        10_000,
    );
    b.syn();
    let mut packets = a.into_packets().0;
    packets.extend(b.into_packets().0);
    let conns = connections(
        "unanswered-request.pcapng",
        &Packets(packets).to_pcapng(None),
    );
    let a = conns
        .iter()
        .find(|c| c["client"] == "10.0.0.2:50000")
        .unwrap();
    assert_eq!(a["verdict"]["code"], "no-negotiation-response", "{a}");
    // The other connection's lone SYN at the very end of the capture proves nothing.
    let b = conns
        .iter()
        .find(|c| c["client"] == "10.0.0.2:50001")
        .unwrap();
    assert_eq!(b["verdict"]["code"], "incomplete", "{b}");
}

/// SYNs retried for seconds without an answer are `tcp-unanswered`; one SYN at the end of the
/// capture is `incomplete`.
#[test]
fn syns_retried_for_seconds_are_unanswered_and_a_last_syn_is_not() {
    let mut c = client(50002);
    // Retransmissions repeat the SYN's sequence number.
    let syn = |c: &mut Conversation| {
        c.segment_at(Side::Client, tcp_flags::SYN, 0, &[]);
    };
    syn(&mut c);
    c.wait(1_000_000_000);
    syn(&mut c);
    c.wait(2_000_000_000);
    syn(&mut c);
    let conn = only_connection("syn-retries.pcapng", &c.into_packets().to_pcapng(None));
    assert_eq!(conn["verdict"]["code"], "tcp-unanswered", "{conn}");

    let mut c = client(50003);
    c.syn();
    let conn = only_connection("last-syn.pcapng", &c.into_packets().to_pcapng(None));
    assert_eq!(conn["verdict"]["code"], "incomplete", "{conn}");
}

/// `body` as one TLS record of `content_type`, record version TLS 1.0.
fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 0x03, 0x01];
    out.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A TLS 1.0 handshake after the ClientHello, as records: the server's hello (ServerHello
/// choosing TLS_RSA_WITH_3DES_EDE_CBC_SHA and ServerHelloDone), the client's flight
/// (ClientKeyExchange, ChangeCipherSpec, encrypted Finished) and the server's (ChangeCipherSpec,
/// encrypted Finished).
fn tls10_flights() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut hello = vec![0x03, 0x01];
    hello.extend_from_slice(&[0x33; 32]);
    hello.extend_from_slice(&[0x00, 0x00, 0x0a, 0x00]);
    let mut server = vec![0x02, 0x00, 0x00, u8::try_from(hello.len()).unwrap()];
    server.extend_from_slice(&hello);
    server.extend_from_slice(&[0x0e, 0x00, 0x00, 0x00]);
    let mut cke = vec![0x10, 0x00, 0x01, 0x02, 0x01, 0x00];
    cke.extend_from_slice(&[0x44; 256]);
    let mut client_flight = record(0x16, &cke);
    client_flight.extend(record(0x14, &[0x01]));
    client_flight.extend(record(0x16, &[0x55; 40]));
    let mut server_flight = record(0x14, &[0x01]);
    server_flight.extend(record(0x16, &[0x66; 40]));
    (record(0x16, &server), client_flight, server_flight)
}

/// An RDP connection from client port `port` that selects TLS, up to the server's TLS 1.0
/// ServerHelloDone; with the two flights of [`tls10_flights`] that would complete it.
fn until_tls10_hello_done(port: u16) -> (Conversation, Vec<u8>, Vec<u8>) {
    let (server, client_flight, server_flight) = tls10_flights();
    let mut c = client(port);
    c.handshake()
        .send(Side::Client, synth::CONNECTION_REQUEST)
        .send(Side::Server, synth::CONNECTION_CONFIRM_SSL)
        .send(
            Side::Client,
            &record(0x16, &synth::client_hello_with_suites(20)),
        )
        .send(Side::Server, &server);
    (c, client_flight, server_flight)
}

/// A TLS 1.0 handshake completed (ServerHello choosing TLS_RSA_WITH_3DES_EDE_CBC_SHA and
/// ServerHelloDone, ClientKeyExchange, both ChangeCipherSpecs and encrypted Finished records),
/// then nothing inside TLS: the client closes `delay_ns` later.
fn tls_then_silence(delay_ns: i64) -> Vec<u8> {
    let (mut c, client_flight, server_flight) = until_tls10_hello_done(50004);
    c.send(Side::Client, &client_flight)
        .send(Side::Server, &server_flight)
        .wait(delay_ns)
        .fin(Side::Client)
        .fin(Side::Server);
    c.into_packets().to_pcapng(None)
}

/// TLS complete, then no record inside it and a close 15 s later (a user reading the
/// certificate prompt and choosing No): the next phase never started, so `closed-early`,
/// whatever the delay; not `established`, not `auth-failed`.
#[test]
fn a_client_that_leaves_after_tls_without_a_word_closed_early_whatever_the_delay() {
    for (name, delay) in [
        ("quick", 2_000_000),
        ("slow", 15_000_000_000),
        ("very-slow", 120_000_000_000),
    ] {
        let conn = only_connection(
            &format!("tls-silence-{name}.pcapng"),
            &tls_then_silence(delay),
        );
        assert_eq!(conn["verdict"]["code"], "closed-early", "{name}: {conn}");
        let summary = conn["verdict"]["summary"].as_str().unwrap();
        assert!(
            summary.contains("before any data inside TLS"),
            "{name}: {summary}"
        );
    }
}

/// The keyless lab2 captures: a server that ends a TLS connection right after its connection
/// sequence (a licensing abort, an idle-timeout Set Error Info, each followed by a Disconnect
/// Provider Ultimatum) is not `established`: it is `closed-early`, saying the server ended it and
/// that the reason is inside TLS. The healthy sessions stay `established`.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn a_server_that_ends_a_tls_connection_after_the_connection_sequence_closed_it_early() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut checked = 0;
    for path in common::captures_below(&corpus.join("lab2")) {
        let expect: Value = serde_json::from_slice(
            &std::fs::read(format!("{}.expect.json", path.display())).unwrap(),
        )
        .unwrap();
        let healthy = expect["connections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"][0] == "established");
        let run = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
        for conn in run.connections() {
            let code = conn["verdict"]["code"].as_str().unwrap();
            let summary = conn["verdict"]["summary"].as_str().unwrap();
            if healthy {
                assert_eq!(code, "established", "{}: {summary}", path.display());
            } else {
                assert_ne!(code, "established", "{}: {summary}", path.display());
            }
            let ended_by_server = expect["connections"].as_array().unwrap().iter().any(|c| {
                c["verdict"][0] == "session-ended" || c["verdict"][0] == "licensing-failed"
            });
            if ended_by_server {
                assert_eq!(code, "closed-early", "{}: {summary}", path.display());
                assert!(summary.contains("the server ended it"), "{summary}");
                assert!(summary.contains("key log"), "{summary}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
}

/// The anomaly a peer's application data before the end of the handshake raises.
const EARLY_DATA: &str = "application data before the handshake completed";

/// The anomalies of a connection.
fn anomalies(conn: &Value) -> Vec<&str> {
    conn["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// The frames of `path` and the endpoints of its first connection.
fn capture_file(path: &Path) -> (Linktype, Vec<Frame>, Endpoints) {
    let contents = kit::read(&std::fs::read(path).unwrap()).unwrap();
    let conns = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]).connections();
    let conn = &conns[0];
    let endpoints = Endpoints {
        client: conn["client"].as_str().unwrap().parse().unwrap(),
        server: conn["server"].as_str().unwrap().parse().unwrap(),
    };
    (contents.frames[0].link, contents.frames, endpoints)
}

/// The client-only and server-only copies of the healthy TLS captures at `paths` show no
/// application data "before the handshake completed".
fn one_sided_copies_show_no_early_application_data(paths: &[std::path::PathBuf]) {
    for path in paths {
        let (link, frames, e) = capture_file(path);
        for client in [true, false] {
            let kept: Vec<&Frame> = frames
                .iter()
                .filter(|f| common::from_client(f, e) == Some(client))
                .collect();
            let name = format!(
                "{}-{}-only.pcap",
                path.file_stem().unwrap().to_str().unwrap(),
                if client { "client" } else { "server" }
            );
            for conn in connections(&name, &pcap(link, &kept)) {
                assert!(
                    anomalies(&conn).iter().all(|a| !a.contains(EARLY_DATA)),
                    "{name}: {conn}"
                );
            }
        }
    }
}

/// A capture of one direction holds the client's (or the server's) encrypted records but not
/// the peer's ServerHello or Finished: that is missing evidence, not a peer sending application
/// data before the handshake ended.
#[test]
fn one_direction_of_a_healthy_tls_session_shows_no_early_application_data() {
    one_sided_copies_show_no_early_application_data(&[
        common::samples_dir().join("tls-ok.pcap"),
        common::samples_dir().join("tls12-ok.pcap"),
        common::samples_dir().join("nla-ok.pcap"),
    ]);
}

/// The same on the lab's healthy TLS and NLA captures.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn one_direction_of_a_healthy_lab_nla_session_shows_no_early_application_data() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let lab = corpus.join("lab");
    one_sided_copies_show_no_early_application_data(&[
        lab.join("nla-ok.pcap"),
        lab.join("tls12-ok.pcap"),
        lab.join("ipv6-tls-ok.pcap"),
    ]);
}

/// Both directions in the capture, nothing lost: a client that sends an application data
/// record before the server's ChangeCipherSpec and Finished really did send it early, and the
/// anomaly stays.
#[test]
fn application_data_before_the_peer_finished_in_a_two_sided_capture_is_an_anomaly() {
    let (mut c, client_flight, server_flight) = until_tls10_hello_done(50010);
    c.send(Side::Client, &client_flight)
        .send(Side::Client, &record(0x17, &[0x77; 64]))
        .send(Side::Server, &server_flight)
        .send(Side::Client, &record(0x17, &[0x78; 64]))
        .fin(Side::Client)
        .fin(Side::Server);
    let conn = only_connection("early-data.pcapng", &c.into_packets().to_pcapng(None));
    assert!(
        anomalies(&conn)
            .iter()
            .any(|a| a.contains(&format!("client sent {EARLY_DATA}"))),
        "{conn}"
    );
}
