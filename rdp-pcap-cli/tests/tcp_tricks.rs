//! TCP as an attacker (or a confused capture) plays it, checked on captures built with the
//! kit: resets and SYNs that TCP would not act on, reordered and reused connections. Each test
//! names the behaviour; `reassembly/mod.rs` and `docs/output.md` state the rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;

use rdp_pcap::fuzzing::synth;
use rdp_pcap::kit::{tcp_flags, Conversation, Packets};
use rdp_wire::Side;
use serde_json::Value;

fn conversation() -> Conversation {
    Conversation::new(
        "10.0.0.2:50000".parse().unwrap(),
        "10.0.0.1:3389".parse().unwrap(),
    )
}

/// The opening of an RDP connection that selects TLS, with `between` called after the
/// Connection Request, then the rest of the exchange and an orderly close.
fn rdp_connection(between: impl FnOnce(&mut Conversation)) -> Conversation {
    let mut c = conversation();
    c.handshake().send(Side::Client, synth::CONNECTION_REQUEST);
    between(&mut c);
    c.send(Side::Server, synth::CONNECTION_CONFIRM_SSL)
        .send(Side::Client, &client_hello())
        .close();
    c
}

/// A ClientHello offering 20 suites, as one TLS handshake record.
fn client_hello() -> Vec<u8> {
    let body = synth::client_hello_with_suites(20);
    let mut out = vec![0x16, 0x03, 0x01];
    out.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    out.extend_from_slice(&body);
    out
}

fn run(name: &str, capture: &[u8], format: &str) -> common::Run {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tcp_tricks");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, capture).unwrap();
    common::rdp_pcap(&["--format", format, path.to_str().unwrap()])
}

fn connections(name: &str, capture: &[u8]) -> Vec<Value> {
    run(name, capture, "jsonl").connections()
}

fn anomalies(conn: &Value) -> Vec<String> {
    conn["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// A RST whose sequence number is not the next expected one (inside the window: a challenge;
/// outside: dropped) does not end the connection: it reads as it would without the RST, plus
/// an anomaly (RFC 5961 3.2).
#[test]
fn a_rst_off_the_next_sequence_number_is_an_anomaly_and_the_connection_goes_on() {
    let clean = connections(
        "rst-none.pcapng",
        &rdp_connection(|_| {}).into_packets().to_pcapng(None),
    );
    assert_eq!(clean.len(), 1);
    for (offset, what) in [
        (1_000, "inside the receive window"),
        (3_000_000, "outside the receive window"),
    ] {
        let injected = rdp_connection(|c| {
            c.segment_at(Side::Server, tcp_flags::RST | tcp_flags::ACK, offset, &[]);
        });
        let conns = connections(
            &format!("rst-{offset}.pcapng"),
            &injected.into_packets().to_pcapng(None),
        );
        assert_eq!(conns.len(), 1, "{conns:?}");
        let conn = &conns[0];
        assert_eq!(conn["end"]["flow"], "closed", "{conn}");
        assert_eq!(
            conn["verdict"]["code"], clean[0]["verdict"]["code"],
            "{conn}"
        );
        assert_eq!(conn["x224"], clean[0]["x224"]);
        let anomalies = anomalies(conn);
        assert!(
            anomalies
                .iter()
                .any(|a| a.starts_with("server RST ignored") && a.contains(what)),
            "{anomalies:?}"
        );
    }
}

/// A RST exactly at the next expected sequence number ends the connection, as before.
#[test]
fn a_rst_at_the_next_sequence_number_resets_the_connection() {
    let mut c = conversation();
    c.handshake()
        .send(Side::Client, synth::CONNECTION_REQUEST)
        .send(Side::Server, synth::CONNECTION_CONFIRM_SSL)
        .rst(Side::Server)
        .send(Side::Client, b"\x16\x03\x01\x00\x01\x01");
    let conns = connections("rst-exact.pcapng", &c.into_packets().to_pcapng(None));
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["end"]["flow"], "reset");
    assert_eq!(conns[0]["end"]["how"], "rst");
}

/// In a lossy capture without the handshake (the window unknown), a server RST just past
/// the bytes the capture saw still ends the connection: the server sent more than was
/// captured before it reset.
#[test]
fn a_real_reset_in_a_lossy_mid_stream_capture_still_closes() {
    let mut c = conversation();
    c.handshake()
        .send(Side::Client, synth::CONNECTION_REQUEST)
        .send(Side::Server, synth::CONNECTION_CONFIRM_SSL)
        .send(Side::Server, &[0x17; 1200])
        .rst(Side::Server);
    // Without the handshake, and without the 1,200 bytes the RST comes after.
    let packets = c.into_packets();
    let lost = packets.nth_data(Side::Server, 1).unwrap();
    let packets = Packets(packets.0[3..].to_vec()).without(lost - 3);
    let conns = connections("rst-lossy.pcapng", &packets.to_pcapng(None));
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["end"]["flow"], "reset", "{}", conns[0]);
}

/// A SYN with another sequence number injected into a live connection (here carrying a
/// Connection Request of its own) neither splits the connection nor feeds the analyzer.
#[test]
fn an_injected_syn_inside_a_live_connection_does_not_split_it() {
    let clean = connections(
        "syn-none.pcapng",
        &rdp_connection(|_| {}).into_packets().to_pcapng(None),
    );
    let injected = rdp_connection(|c| {
        let spoofed = synth::connection_request("admin");
        c.segment_at(Side::Client, tcp_flags::SYN, 123_456_789, &spoofed);
    });
    let conns = connections(
        "syn-injected.pcapng",
        &injected.into_packets().to_pcapng(None),
    );
    assert_eq!(conns.len(), 1, "{conns:?}");
    assert_eq!(conns[0]["verdict"], clean[0]["verdict"]);
    assert_eq!(conns[0]["x224"], clean[0]["x224"]);
    assert_eq!(conns[0]["tcp"]["syn_count"], 1);
    assert!(anomalies(&conns[0])
        .iter()
        .any(|a| a.starts_with("client SYN with another sequence number")));
}

/// A capture whose client data was written before its SYN (a reordered capture) shows one
/// connection: the SYN's ISN + 1 is where the data starts.
#[test]
fn data_captured_before_its_syn_is_the_same_connection() {
    let c = rdp_connection(|_| {});
    let clean = connections(
        "reorder-none.pcapng",
        &c.clone().into_packets().to_pcapng(None),
    );
    let packets = c.into_packets();
    let request = packets.nth_data(Side::Client, 0).unwrap();
    // The Connection Request first, then SYN, SYN-ACK, ACK.
    let mut reordered = packets.0.clone();
    let cr = reordered.remove(request);
    reordered.insert(0, cr);
    let conns = connections("reorder-syn.pcapng", &Packets(reordered).to_pcapng(None));
    assert_eq!(conns.len(), 1, "{conns:?}");
    assert_eq!(conns[0]["x224"], clean[0]["x224"]);
    assert_eq!(conns[0]["verdict"], clean[0]["verdict"]);
    assert_eq!(conns[0]["tcp"]["syn"], true);
    assert_eq!(conns[0]["mid_stream"], false);
    assert_eq!(conns[0]["end"]["flow"], "closed");
}

/// After a close (both FINs, or a RST), the same addresses and ports with a SYN, even one
/// with the ISN of the closed connection, are a new connection, not stray packets.
#[test]
fn a_reused_four_tuple_after_a_close_is_a_new_connection_even_with_the_same_isn() {
    for reset in [false, true] {
        let mut first = conversation();
        first
            .handshake()
            .send(Side::Client, synth::CONNECTION_REQUEST)
            .send(Side::Server, synth::CONNECTION_CONFIRM_SSL);
        if reset {
            first.rst(Side::Client);
        } else {
            first.close();
        }
        // The same ISNs again, a second later.
        let mut second = conversation().with_clock(first.clock, 10_000);
        second.wait(1_000_000_000);
        second
            .handshake()
            .send(Side::Client, &synth::connection_request("second"))
            .send(Side::Server, synth::CONNECTION_CONFIRM_SSL)
            .close();
        let mut packets = first.into_packets();
        packets.0.extend(second.into_packets().0);
        let run = run(
            &format!("reuse-{reset}.pcapng"),
            &packets.to_pcapng(None),
            "jsonl",
        );
        let conns = run.connections();
        assert_eq!(conns.len(), 2, "reset {reset}: {conns:?}");
        assert!(
            !run.stdout.contains("stray_packets_after_close"),
            "{}",
            run.stdout
        );
    }
}

/// Data sent on a connection's addresses and ports after it was closed is a line of that
/// connection's block in the text report (and an anomaly in JSON), not only a counter.
#[test]
fn data_after_the_close_is_reported_in_the_connections_block() {
    let mut c = rdp_connection(|_| {});
    c.wait(400_000_000);
    c.segment_at(
        Side::Server,
        tcp_flags::PSH | tcp_flags::ACK,
        0,
        b"late bytes",
    );
    let capture = c.into_packets().to_pcapng(None);
    let conns = connections("after-close.pcapng", &capture);
    assert_eq!(conns.len(), 1);
    let line = "1 packet after the connection was closed, 10 bytes of data not analysed";
    assert!(
        anomalies(&conns[0]).iter().any(|a| a.starts_with(line)),
        "{:?}",
        anomalies(&conns[0])
    );
    let text = run("after-close.pcapng", &capture, "text").stdout;
    assert!(text.contains(line), "{text}");
}

/// A session silent for longer than the idle timeout (10 minutes) that then goes on is one
/// connection, closed as it really was, with the silence on a line of its block; not a
/// "still open" piece and an unreported rest.
#[test]
fn a_session_that_goes_on_after_a_long_silence_is_one_connection() {
    let mut c = conversation();
    c.handshake()
        .send(Side::Client, synth::CONNECTION_REQUEST)
        .send(Side::Server, synth::CONNECTION_CONFIRM_SSL)
        .send(Side::Client, &client_hello())
        .send(Side::Server, &[0x17; 300])
        .wait(11 * 60 * 1_000_000_000)
        .send(Side::Client, &[0x17; 40])
        .send(Side::Server, &[0x17; 80])
        .close();
    c.wait(1_000_000);
    let capture = c.into_packets().to_pcapng(None);
    let conns = connections("idle.pcapng", &capture);
    assert_eq!(conns.len(), 1, "{conns:?}");
    assert_eq!(conns[0]["end"]["flow"], "closed");
    assert!(conns[0]["duration_ms"].as_f64().unwrap() > 660_000.0);
    let text = run("idle.pcapng", &capture, "text").stdout;
    assert!(
        text.contains("longer than the 600.0 s idle timeout; the connection went on after it"),
        "{text}"
    );
}

/// Bytes from hex digits.
fn hex(digits: &str) -> Vec<u8> {
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

/// Frames 4, 6 and 8 of lab/rdp-standard-security.pcap: the client's Connection Request
/// (cookie `dave`), the server's Confirm selecting PROTOCOL_RDP, and the client's MCS Connect
/// Initial asking for the static channels cliprdr, rdpsnd, snddbg, rdpdr and drdynvc.
const STD_SEC_CR: &str =
    "0300002a25e00000000000436f6f6b69653a206d737473686173683d646176650d0a0100080003000000";
const STD_SEC_CC: &str = "030000130ed000001234000201080000000000";
const STD_SEC_CI: &str = "030001ca02f0807f658201be0401010401010101ff30200202002202020002020200000202000102020000020200010202ffff020200023020020200010202000102020001020200010202000002020001020204200202000230200202ffff0202fc170202ffff0202000102020000020200010202ffff020200020482014b000500147c00018142000800100001c00044756361813401c0d8000400080090012c0101ca03aa09040000280a000076006d000000000000000000000000000000000000000000000000000000000004000000000000000c0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001ca01000000000010000b0001000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000004c00c000d0000000000000002c00c00030000000000000003c0440005000000636c697072647200c0a00000726470736e640000c0000000736e646462670000c0000000726470647200000080800000647264796e766300c0000000";

/// The Standard RDP Security opening of lab/rdp-standard-security.pcap up to the MCS Connect
/// Initial, then a retransmission of the Connect Initial carrying `copy` instead, and a close.
fn connect_initial_retransmitted(copy: &[u8]) -> Vec<u8> {
    let ci = hex(STD_SEC_CI);
    let mut c = conversation();
    c.handshake()
        .send(Side::Client, &hex(STD_SEC_CR))
        .send(Side::Server, &hex(STD_SEC_CC))
        .send(Side::Client, &ci);
    let back = 0_u32.wrapping_sub(u32::try_from(ci.len()).unwrap());
    c.segment_at(Side::Client, tcp_flags::PSH | tcp_flags::ACK, back, copy)
        .close();
    c.into_packets().to_pcapng(None)
}

fn finding_codes(conn: &Value) -> Vec<String> {
    conn["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// A retransmitted MCS Connect Initial whose bytes differ from the first copy is read for
/// findings too: a server may have taken either, so MS_T120 in either is a BlueKeep probe.
#[test]
fn ms_t120_in_a_conflicting_retransmission_is_a_bluekeep_probe() {
    let ci = hex(STD_SEC_CI);
    let same = connections("ci-same.pcapng", &connect_initial_retransmitted(&ci));
    assert!(!finding_codes(&same[0]).contains(&"bluekeep-probe".to_string()));

    // The same PDU with the channel `rdpdr` renamed `MS_T120` (both 8-byte name fields).
    let mut probe = ci.clone();
    let at = probe.windows(8).position(|w| w == b"rdpdr\0\0\0").unwrap();
    probe[at..at + 8].copy_from_slice(b"MS_T120\0");
    let conns = connections("ci-probe.pcapng", &connect_initial_retransmitted(&probe));
    assert_eq!(conns.len(), 1);
    assert!(
        finding_codes(&conns[0]).contains(&"bluekeep-probe".to_string()),
        "{}",
        conns[0]
    );
    // The first copy still drives the analysis.
    assert!(
        anomalies(&conns[0]).iter().any(|a| a
            .starts_with("7 retransmitted client bytes differ from the bytes first sent")
            && a.contains("a 458-byte copy at stream offset 42")),
        "{:?}",
        anomalies(&conns[0])
    );
}

/// A retransmitted Connection Request with another cookie and other requested protocols:
/// the anomaly names both fields, and the first copy is the one analysed.
#[test]
fn a_conflicting_connection_request_names_the_fields_that_differ() {
    let alice = synth::connection_request("alice");
    let mut admin = synth::connection_request("admin");
    let n = admin.len();
    admin[n - 4] = 0x01; // requestedProtocols: SSL only
    let mut c = conversation();
    c.handshake().send(Side::Client, &alice);
    let back = 0_u32.wrapping_sub(u32::try_from(alice.len()).unwrap());
    c.segment_at(Side::Client, tcp_flags::PSH | tcp_flags::ACK, back, &admin)
        .send(Side::Server, synth::CONNECTION_CONFIRM_SSL)
        .close();
    let conns = connections("cr-conflict.pcapng", &c.into_packets().to_pcapng(None));
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["x224"]["cookie"], "alice");
    let anomalies = anomalies(&conns[0]);
    assert!(
        anomalies.contains(
            &"client retransmission carries another X.224 Connection Request (cookie `alice` vs `admin`, requested protocols SSL|HYBRID vs SSL); the first one was kept".to_string()
        ),
        "{anomalies:?}"
    );
}

/// A TCP segment rebuilt from IP fragments that overlap with other bytes is counted as a
/// conflicting overlap, like a TCP retransmission with other bytes, and named on its
/// connection.
#[test]
fn conflicting_ip_fragments_are_counted_like_a_conflicting_retransmission() {
    let mut c = conversation();
    c.handshake()
        .send(Side::Client, &synth::connection_request("alice"));
    // The first fragment carries bytes 0..32 with 24..32 altered; the second 24..end.
    let mut first = c.packets().last().unwrap().frame[34..66].to_vec();
    for b in &mut first[24..32] {
        *b ^= 0xff;
    }
    let mut packets = overlapping_fragments(&mut c, &first, 24);
    c.send(Side::Server, synth::CONNECTION_CONFIRM_SSL).close();
    packets.extend(c.take_packets());
    let run = run(
        "frag-conflict.pcapng",
        &Packets(packets).to_pcapng(None),
        "jsonl",
    );
    let conns = run.connections();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["x224"]["cookie"], "alice");
    assert!(
        anomalies(&conns[0])
            .iter()
            .any(|a| a.starts_with("8 client bytes of overlapping IP fragments differ")),
        "{:?}",
        anomalies(&conns[0])
    );
    let capture = run
        .json_lines()
        .into_iter()
        .find(|l| l["type"] == "capture")
        .unwrap();
    assert_eq!(capture["counters"]["conflicting_overlaps"], 1, "{capture}");
}

/// A SYN with another sequence number that the server answers with a SYN+ACK acknowledging
/// it is a real new connection (the old one's close was not captured), not an injection: the
/// old connection ends as `port-reused` and the new one is reported from its SYN.
#[test]
fn a_syn_the_server_answers_inside_a_live_connection_starts_a_new_one() {
    let mut first = conversation();
    first
        .handshake()
        .send(Side::Client, synth::CONNECTION_REQUEST)
        .send(Side::Server, synth::CONNECTION_CONFIRM_SSL);
    let mut second = conversation().with_clock(first.clock, 10_000);
    second.next_seq = [55_000_000, 88_000_000];
    second
        .wait(1_000_000_000)
        .handshake()
        .send(Side::Client, &synth::connection_request("second"))
        .send(Side::Server, synth::CONNECTION_CONFIRM_SSL)
        .close();
    let mut packets = first.into_packets();
    packets.0.extend(second.into_packets().0);
    let conns = connections("syn-answered.pcapng", &packets.to_pcapng(None));
    assert_eq!(conns.len(), 2, "{conns:?}");
    assert_eq!(conns[0]["end"]["flow"], "port-reused");
    assert_eq!(conns[1]["x224"]["cookie"], "second");
    assert_eq!(conns[1]["tcp"]["syn"], true);
    assert_eq!(conns[1]["mid_stream"], false);
    assert!(anomalies(&conns[0]).iter().all(|a| !a.contains("SYN")));
}

/// The client's last packet split into two IPv4 fragments: the first carries the TCP segment's
/// bytes `0..split_end` as `first`, the second `from..` as the segment has them (`from` before
/// `split_end`, both multiples of 8, so the second overwrites part of the first).
fn overlapping_fragments(
    c: &mut Conversation,
    first: &[u8],
    from: usize,
) -> Vec<rdp_pcap::kit::Packet> {
    let mut packets = c.take_packets();
    let last = packets.pop().unwrap();
    // Ethernet (14) and IPv4 (20) headers, then the TCP segment.
    let (eth_ip, segment) = last.frame.split_at(34);
    let fragment = |offset: usize, bytes: &[u8], more: bool| {
        let mut frame = eth_ip.to_vec();
        frame.extend_from_slice(bytes);
        let total = u16::try_from(20 + bytes.len()).unwrap();
        frame[16..18].copy_from_slice(&total.to_be_bytes());
        let word = u16::try_from(offset / 8).unwrap() | if more { 0x2000 } else { 0 };
        frame[20..22].copy_from_slice(&word.to_be_bytes());
        rdp_pcap::kit::Packet::raw(last.ts, last.link, frame)
    };
    packets.push(fragment(0, first, true));
    packets.push(fragment(from, &segment[from..], false));
    packets
}

/// An MCS Connect Initial asking for MS_T120 in its channel list, in the IP fragment that a
/// later overlapping fragment overwrites with other bytes (the channel `rdpdr`): a server may
/// have kept either fragment, so the earlier one is read for findings too, as a conflicting
/// TCP retransmission is, and the connection is a `bluekeep-probe`.
#[test]
fn ms_t120_in_an_overwritten_ip_fragment_is_a_bluekeep_probe() {
    let ci = hex(STD_SEC_CI);
    let mut c = conversation();
    c.handshake()
        .send(Side::Client, &hex(STD_SEC_CR))
        .send(Side::Server, &hex(STD_SEC_CC))
        .send(Side::Client, &ci);
    // The segment is the 20-byte TCP header, then the Connect Initial.
    let name = 20 + ci.windows(8).position(|w| w == b"rdpdr\0\0\0").unwrap();
    let from = name / 8 * 8;
    let end = (name + 8).div_ceil(8) * 8 + 8;
    let segment_len = 20 + ci.len();
    assert!(end < segment_len);
    let build = |c: &mut Conversation, channel: &[u8; 8]| {
        let mut segment = c.packets().last().unwrap().frame[34..].to_vec();
        segment[name..name + 8].copy_from_slice(channel);
        let mut packets = overlapping_fragments(c, &segment[..end], from);
        c.send(
            Side::Server,
            &[0x03, 0x00, 0x00, 0x09, 0x02, 0xf0, 0x80, 0x21, 0x80],
        )
        .close();
        packets.extend(c.take_packets());
        Packets(packets).to_pcapng(None)
    };

    // The same bytes in both fragments: no conflict, no probe.
    let mut same = c.clone();
    let conns = connections("frag-same.pcapng", &build(&mut same, b"rdpdr\0\0\0"));
    assert_eq!(conns.len(), 1);
    assert!(!finding_codes(&conns[0]).contains(&"bluekeep-probe".to_string()));
    assert!(anomalies(&conns[0])
        .iter()
        .all(|a| !a.contains("IP fragments")));

    // MS_T120 in the first fragment only; the second one's `rdpdr` is what was kept.
    let conns = connections("frag-probe.pcapng", &build(&mut c, b"MS_T120\0"));
    assert_eq!(conns.len(), 1);
    assert!(
        finding_codes(&conns[0]).contains(&"bluekeep-probe".to_string()),
        "{}",
        conns[0]
    );
    assert!(
        anomalies(&conns[0])
            .iter()
            .any(|a| a.starts_with("7 client bytes of overlapping IP fragments differ")),
        "{:?}",
        anomalies(&conns[0])
    );
}

/// A Connection Request whose IP fragments overlap with another cookie: the later fragment's
/// request is analysed, and the anomaly names the field that differs, kept copy first.
#[test]
fn overlapping_ip_fragments_with_another_cookie_name_it() {
    let mut c = conversation();
    c.handshake()
        .send(Side::Client, &synth::connection_request("alice"));
    let mut segment = c.packets().last().unwrap().frame[34..].to_vec();
    let at = segment.windows(5).position(|w| w == b"alice").unwrap();
    segment[at..at + 5].copy_from_slice(b"admin");
    let from = at / 8 * 8;
    let end = (at + 5).div_ceil(8) * 8;
    assert!(end < segment.len());
    let mut packets = overlapping_fragments(&mut c, &segment[..end], from);
    c.send(Side::Server, synth::CONNECTION_CONFIRM_SSL).close();
    packets.extend(c.take_packets());
    let conns = connections("frag-cookie.pcapng", &Packets(packets).to_pcapng(None));
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["x224"]["cookie"], "alice");
    let anomalies = anomalies(&conns[0]);
    assert!(
        anomalies.contains(
            &"client IP fragments overlap with another X.224 Connection Request (cookie `alice` vs `admin`); the later fragments' bytes were kept".to_string()
        ),
        "{anomalies:?}"
    );
}
