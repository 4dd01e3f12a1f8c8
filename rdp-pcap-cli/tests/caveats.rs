//! Caveats of the capture itself, checked on captures built with the kit: a clock that cannot
//! judge certificates, a clock that steps backwards, and scans (`docs/output.md` states the
//! rules, `rdp-wire/src/analyzer/findings.rs` decides them).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::{Path, PathBuf};

use rdp_pcap::kit::{self, Packet, Packets};
use rdp_wire::Timestamp;
use serde_json::Value;

/// `samples/tls12-ok.pcap`: one healthy TLS 1.2 session whose self-signed certificate is valid
/// from 2026-11-29T10:03:46Z for a year, captured two seconds after it was issued.
fn tls12_ok() -> Vec<kit::Frame> {
    let bytes = std::fs::read(common::samples_dir().join("tls12-ok.pcap")).unwrap();
    kit::read(&bytes).unwrap().frames
}

/// The frames as packets, each at the time `time(index, original)` gives.
fn retimed(frames: &[kit::Frame], time: impl Fn(usize, Timestamp) -> Timestamp) -> Packets {
    Packets(
        frames
            .iter()
            .enumerate()
            .map(|(i, f)| Packet::raw(time(i, f.ts), f.link, f.data.clone()))
            .collect(),
    )
}

/// The frames shifted so that the first is at `start`, the gaps between them kept.
fn moved_to(frames: &[kit::Frame], start: Timestamp) -> Packets {
    let first = frames[0].ts;
    retimed(frames, |_, ts| {
        Timestamp(start.0.saturating_add(ts.0.saturating_sub(first.0)))
    })
}

fn write(dir: &str, name: &str, capture: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, capture).unwrap();
    path
}

/// The one connection of `capture`, as the jsonl report gives it.
fn connection(name: &str, capture: &[u8]) -> Value {
    let path = write("caveats", name, capture);
    let run = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
    let conns = run.connections();
    assert_eq!(conns.len(), 1, "{name}: {}", run.stdout);
    conns[0].clone()
}

fn finding_codes(conn: &Value) -> Vec<String> {
    conn["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// UNIX seconds as a timestamp.
fn secs(s: i64) -> Timestamp {
    Timestamp(s * 1_000_000_000)
}

/// When the sample's certificate was issued (its notBefore).
const ISSUED: i64 = 1_795_946_626;

/// A capture clock that cannot be the real time (epoch 0, 2010 for a certificate issued in
/// 2026, the year 2150) judges no certificate validity: no cert-not-yet-valid or cert-expired,
/// but clock-implausible saying what was skipped; the verdict is unchanged.
#[test]
fn an_implausible_capture_clock_judges_no_certificate() {
    let frames = tls12_ok();
    for (name, start) in [
        ("epoch-0.pcapng", secs(0)),
        ("years-before-issue.pcapng", secs(1_262_304_000)),
        ("far-future.pcapng", secs(5_680_281_600)),
    ] {
        let conn = connection(name, &moved_to(&frames, start).to_pcapng(None));
        assert_eq!(conn["verdict"]["code"], "established", "{name}: {conn}");
        let codes = finding_codes(&conn);
        assert!(
            !codes
                .iter()
                .any(|c| c == "cert-not-yet-valid" || c == "cert-expired"),
            "{name}: {codes:?}"
        );
        let clock = conn["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "clock-implausible")
            .unwrap_or_else(|| panic!("{name}: {codes:?}"));
        assert_eq!(clock["severity"], "info");
        let summary = clock["summary"].as_str().unwrap();
        assert!(
            summary.contains("not judged expired or not yet valid")
                && summary.contains("CN=rdp-lab-good"),
            "{name}: {summary}"
        );
    }
}

/// A plausible clock still judges: an hour before the certificate was issued it is not yet
/// valid, two years after it has expired, and the clock is not doubted.
#[test]
fn a_plausible_capture_clock_still_finds_invalid_certificates() {
    let frames = tls12_ok();
    for (name, start, expected) in [
        (
            "an-hour-early.pcapng",
            secs(ISSUED - 3_600),
            "cert-not-yet-valid",
        ),
        (
            "two-years-late.pcapng",
            secs(ISSUED + 2 * 365 * 86_400),
            "cert-expired",
        ),
    ] {
        let conn = connection(name, &moved_to(&frames, start).to_pcapng(None));
        let codes = finding_codes(&conn);
        assert!(codes.iter().any(|c| c == expected), "{name}: {codes:?}");
        assert!(
            !codes.iter().any(|c| c == "clock-implausible"),
            "{name}: {codes:?}"
        );
    }
    // The sample as captured: valid, nothing to say about the clock.
    let conn = connection(
        "as-captured.pcapng",
        &moved_to(&frames, frames[0].ts).to_pcapng(None),
    );
    let codes = finding_codes(&conn);
    assert!(
        !codes.iter().any(|c| c.starts_with("cert-expired")
            || c == "cert-not-yet-valid"
            || c == "clock-implausible"),
        "{codes:?}"
    );
}

/// Every number under a key ending in `_ms`, anywhere in `v`.
fn millis(v: &Value, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k.ends_with("_ms") {
                    if let Some(n) = v.as_f64() {
                        out.push((k.clone(), n));
                    }
                }
                millis(v, out);
            }
        }
        Value::Array(list) => {
            for v in list {
                millis(v, out);
            }
        }
        _ => {}
    }
}

/// A clock that steps backwards in the middle of a session (packets stamped earlier than those
/// before them, the last one before the first) gives no negative time anywhere: not in the
/// JSON numbers, nor in the text or CSV report, with or without the timeline.
#[test]
fn a_clock_stepping_backwards_gives_no_negative_times() {
    let frames = tls12_ok();
    let half = frames.len() / 2;
    // From the middle on, every packet is a minute earlier than it was captured.
    let packets = retimed(&frames, |i, ts| {
        if i >= half {
            Timestamp(ts.0 - 60_000_000_000)
        } else {
            ts
        }
    });
    let path = write(
        "caveats",
        "clock-backwards.pcapng",
        &packets.to_pcapng(None),
    );
    let path = path.to_str().unwrap();

    let run = common::rdp_pcap(&["--format", "jsonl", "--timeline", path]);
    let lines = run.json_lines();
    assert!(
        lines.iter().any(|l| l["type"] == "connection"),
        "{}",
        run.stdout
    );
    let mut numbers = Vec::new();
    for line in &lines {
        millis(line, &mut numbers);
    }
    assert!(
        numbers.iter().any(|(k, _)| k == "duration_ms"),
        "{numbers:?}"
    );
    for (key, n) in &numbers {
        assert!(*n >= 0.0, "{key} = {n}");
    }

    let negative = negative_durations;
    let text = common::rdp_pcap(&["--format", "text", "--timeline", "--color", "never", path]);
    assert!(negative(&text.stdout).is_empty(), "{}", text.stdout);

    let csv = common::rdp_pcap(&["--format", "csv", path]);
    let mut rows = csv.stdout.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == "duration_ms").unwrap();
    for row in rows {
        let cell = row.split(',').nth(at).unwrap();
        assert!(!cell.starts_with('-'), "{row}");
    }
}

/// The places in `text` where a number preceded by `-` is followed by a time unit (`-1.5 ms`,
/// `-3 s`).
fn negative_durations(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices('-') {
        let rest = &text[i + 1..];
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            continue;
        }
        let after = rest[digits..].trim_start();
        if after.starts_with("ms")
            || after.starts_with("s ")
            || after.starts_with("s)")
            || after == "s"
        {
            found.push(text[i..(i + 1 + digits + 4).min(text.len())].to_string());
        }
    }
    found
}

/// rdesktop 1.9's MCS Connect Initial (lab capture `rdp-standard-security.pcap` frame 8, TPKT
/// and X.224 Data header removed): CS_SECURITY offers 40BIT|128BIT (`02c00c00 03000000`), CS_NET
/// asks for cliprdr, rdpsnd, snddbg, rdpdr and drdynvc.
const STD_CONNECT_INITIAL: &str = concat!(
    "7f658201be0401010401010101ff30200202002202020002020200000202000102020000020200010202ffff02020002",
    "3020020200010202000102020001020200010202000002020001020204200202000230200202ffff0202fc170202ffff",
    "0202000102020000020200010202ffff020200020482014b000500147c00018142000800100001c00044756361813401",
    "c0d8000400080090012c0101ca03aa09040000280a000076006d00000000000000000000000000000000000000000000",
    "0000000000000004000000000000000c0000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000001ca01000000000010000b0001",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000004c00c000d0000000000000002c00c00030000000000000003",
    "c0440005000000636c697072647200c0a00000726470736e640000c0000000736e646462670000c00000007264706472",
    "00000080800000647264796e766300c0000000",
);

/// xrdp 0.9.21's MCS Connect Response to it (same capture, frame 9): 128BIT/HIGH.
const STD_CONNECT_RESPONSE: &str = concat!(
    "7f668202090a0100020100301a020116020103020100020101020100020101020300fff8020102048201e3000500147c",
    "00012a14760a01010001c0004d63446e81cc010c0c000400080003000000030c1400eb030500ec03ed03ee03ef03f003",
    "0000020cac01020000000300000020000000780100001063a77d375b0074c644877cd137a513cdc601e820ef5f2f6960",
    "8cd4968ea36201000000010000000100000006001c01525341310801000000080000ff00000001000100f39164daffc4",
    "08a52517e8fd3dee9d38dac4a1bf2fc17e27a86140c7e0b3ed95f4a8ca5405a651dcc443ee8786fce0bc15eb434b996c",
    "da71cb113399737d2bba73f158fbe7c7b4cdc928ce8b0add1fc55015b99fd616e358878af2af6e489c9c98d1fc608615",
    "cd3950a1008d9ff5d35149c96dc822107a86419b1dc304dad901434d561a4f71ea8ee8e68c3fdc79690a3fbd7d0c52cc",
    "1539b2236a66732d2c5e56a29ccf1c8f295373899d5606a8cc804617263a0cf8a17ee2d0464d5be59febb82e05ac6596",
    "9ccb2eb56b0b043e94dfdb19ae00f86446971ef9b54475525ebc60093e3d176dfe27dac76441a02c2c88118b7f17d2a6",
    "42390ced968505dd7e89000000000000000008004800591574dc8aa9a39eb4fad423c4fc63d040ad3d979eab809218ae",
    "dcd13a4023162b2b128307d77af59be131f8b0bbf72867e25e7f179faa331dc66f1cd344bc2c0000000000000000",
);

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// An MCS PDU in a TPKT and an X.224 Data TPDU (`02 f0 80`), as it travels.
fn tpkt_data(mcs: &[u8]) -> Vec<u8> {
    let len = u16::try_from(mcs.len() + 7).unwrap().to_be_bytes();
    let mut out = vec![0x03, 0x00, len[0], len[1], 0x02, 0xf0, 0x80];
    out.extend_from_slice(mcs);
    out
}

/// rdesktop's Connect Initial offering only `methods` (CS_SECURITY encryptionMethods), with
/// the channel snddbg renamed MS_T120 when `bluekeep`.
fn connect_initial(methods: u32, bluekeep: bool) -> Vec<u8> {
    let security = "02c00c0003000000";
    assert_eq!(STD_CONNECT_INITIAL.matches(security).count(), 1);
    let mut hex = STD_CONNECT_INITIAL.replace(security, &format!("02c00c00{}", hex_le(methods)));
    if bluekeep {
        // "snddbg\0\0" -> "MS_T120\0", the same 8 bytes of CHANNEL_DEF.name.
        hex = hex.replace("736e646462670000", "4d535f5431323000");
    }
    tpkt_data(&unhex(&hex))
}

fn hex_le(v: u32) -> String {
    v.to_le_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// An X.224 Connection Request with cookie `mstshash=alice` asking for `protocols`.
fn connection_request(protocols: u8) -> Vec<u8> {
    let mut cr = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x00\x00\x00\x00".to_vec();
    cr[39] = protocols;
    cr
}

/// A Connection Confirm selecting `protocol` (RDP_NEG_RSP).
fn connection_confirm(protocol: u8) -> Vec<u8> {
    let mut cc =
        b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x00\x00\x00\x00".to_vec();
    cc[15] = protocol;
    cc
}

/// Nanoseconds in a second.
const SEC: i64 = 1_000_000_000;

/// The kit's start plus `s` seconds.
fn at(s: i64) -> Timestamp {
    Timestamp(kit::DEFAULT_START.0 + s * SEC)
}

fn conversation(client: &str, server: &str, start: Timestamp) -> kit::Conversation {
    kit::Conversation::new(client.parse().unwrap(), server.parse().unwrap())
        .with_clock(start, 2_000_000)
}

/// A client that asks for `protocols`, gets the confirm and leaves.
fn negotiation_only(client: &str, server: &str, start: Timestamp, protocols: u8) -> Vec<Packet> {
    let mut c = conversation(client, server, start);
    let selected = if protocols & 1 == 1 { 1 } else { 0 };
    c.handshake()
        .send(rdp_wire::Side::Client, &connection_request(protocols))
        .send(rdp_wire::Side::Server, &connection_confirm(selected))
        .fin(rdp_wire::Side::Client);
    c.take_packets()
}

/// A Standard RDP Security client offering `methods` that leaves right after the server's
/// Connect Response.
fn after_connect_response(
    client: &str,
    server: &str,
    start: Timestamp,
    methods: u32,
    bluekeep: bool,
) -> Vec<Packet> {
    let mut c = conversation(client, server, start);
    c.handshake()
        .send(rdp_wire::Side::Client, &connection_request(0))
        .send(rdp_wire::Side::Server, &connection_confirm(0))
        .send(rdp_wire::Side::Client, &connect_initial(methods, bluekeep))
        .send(
            rdp_wire::Side::Server,
            &tpkt_data(&unhex(STD_CONNECT_RESPONSE)),
        )
        .fin(rdp_wire::Side::Client);
    c.take_packets()
}

/// A client that opens the TCP connection and resets it without a byte.
fn tcp_only(client: &str, server: &str, start: Timestamp) -> Vec<Packet> {
    let mut c = conversation(client, server, start);
    c.handshake().rst(rdp_wire::Side::Client);
    c.take_packets()
}

/// The conversations' packets in one capture, in time order.
fn capture(conversations: Vec<Vec<Packet>>) -> Vec<u8> {
    let mut all: Vec<Packet> = conversations.into_iter().flatten().collect();
    all.sort_by_key(|p| p.ts);
    Packets(all).to_pcapng(None)
}

/// The jsonl report's lines of `capture`.
fn report(name: &str, capture: &[u8]) -> Vec<Value> {
    let path = write("caveats-scan", name, capture);
    common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]).json_lines()
}

fn scanner_findings(lines: &[Value]) -> Vec<Value> {
    lines
        .iter()
        .filter(|l| l["type"] == "finding" && l["code"] == "scanner")
        .cloned()
        .collect()
}

/// Many short connections from one source within a minute (a port sweep: TCP only, to twelve
/// servers) are a scan: one capture-wide `scanner` finding lists them; fifteen from another
/// source to one server (a client reconnecting to a server that restarts) are not.
#[test]
fn many_short_connections_from_one_source_are_a_scan() {
    let mut convs = Vec::new();
    for i in 0..12 {
        convs.push(tcp_only(
            &format!("10.9.9.9:{}", 40_000 + i),
            &format!("10.0.0.{}:3389", i + 1),
            at(i * 3),
        ));
    }
    for i in 0..15 {
        convs.push(tcp_only(
            &format!("10.1.1.1:{}", 41_000 + i),
            "10.0.0.1:3389",
            at(i * 3 + 1),
        ));
    }
    let lines = report("sweep.pcapng", &capture(convs));
    let found = scanner_findings(&lines);
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["connections"].as_array().unwrap().len(), 12, "{f}");
    let summary = f["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("10.9.9.9 made 12 connections")
            && summary.contains("12 TCP only")
            && summary.contains("12 server addresses")
            && summary.contains("a scan"),
        "{summary}"
    );
    // Below the threshold: no connection of 10.1.1.1 is listed.
    let listed: Vec<u64> = f["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    for c in lines.iter().filter(|l| l["type"] == "connection") {
        let from_other = c["client"].as_str().unwrap().starts_with("10.1.1.1:");
        assert_eq!(
            listed.contains(&c["id"].as_u64().unwrap()),
            !from_other,
            "{c}"
        );
    }
}

/// An rdp-enum-encryption-style series (three protocol requests, then four Connect Initials
/// each offering one encryption method, each connection left right after the answer) is a
/// scan of the server's settings: each single-method connection says so in its summary and
/// findings, the capture-wide finding lists all seven, and from a public address the fix
/// speaks of the exposure first.
#[test]
fn an_rdp_enum_encryption_series_is_a_scan() {
    let client = |i: i64| format!("203.0.113.9:{}", 50_000 + i);
    let server = "10.0.0.5:3389";
    let mut convs = Vec::new();
    for (i, protocols) in [0u8, 1, 3].into_iter().enumerate() {
        let i = i64::try_from(i).unwrap();
        convs.push(negotiation_only(&client(i), server, at(i), protocols));
    }
    // ENCRYPTION_METHOD_40BIT, 128BIT, 56BIT, FIPS (MS-RDPBCGR 2.2.1.3.3).
    for (i, method) in [0x01u32, 0x02, 0x08, 0x10].into_iter().enumerate() {
        let i = i64::try_from(i).unwrap() + 3;
        convs.push(after_connect_response(
            &client(i),
            server,
            at(i),
            method,
            false,
        ));
    }
    let lines = report("enum-encryption.pcapng", &capture(convs));
    let conns: Vec<&Value> = lines.iter().filter(|l| l["type"] == "connection").collect();
    assert_eq!(conns.len(), 7, "{lines:?}");
    let probes: Vec<&&Value> = conns
        .iter()
        .filter(|c| finding_codes(c).iter().any(|f| f == "scanner"))
        .collect();
    assert_eq!(probes.len(), 4, "{conns:?}");
    for c in &probes {
        assert_eq!(c["verdict"]["code"], "closed-early", "{c}");
        let summary = c["verdict"]["summary"].as_str().unwrap();
        assert!(summary.contains("rdp-enum-encryption"), "{summary}");
        let fix = c["verdict"]["fix"].as_str().unwrap();
        assert!(fix.contains("reachable from it"), "{fix}");
    }
    let found = scanner_findings(&lines);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["connections"].as_array().unwrap().len(), 7);
    let summary = found[0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("7 different protocol or encryption settings tried on one server"),
        "{summary}"
    );
    assert!(found[0]["fix"]
        .as_str()
        .unwrap()
        .contains("reachable from it"));
}

/// A BlueKeep probe that ends before a session is a scan by itself: `bluekeep-probe` and
/// `scanner` on the connection, its summary says so; the same source probing again makes the
/// capture-wide finding.
#[test]
fn a_bluekeep_probe_that_stops_is_a_scan() {
    let one = capture(vec![after_connect_response(
        "192.0.2.50:40000",
        "10.0.0.5:3389",
        at(0),
        0x03,
        true,
    )]);
    let lines = report("bluekeep-once.pcapng", &one);
    let conn = lines.iter().find(|l| l["type"] == "connection").unwrap();
    let codes = finding_codes(conn);
    assert!(
        codes.iter().any(|c| c == "bluekeep-probe") && codes.iter().any(|c| c == "scanner"),
        "{codes:?}"
    );
    let summary = conn["verdict"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("BlueKeep (CVE-2019-0708) scan"),
        "{summary}"
    );
    assert!(scanner_findings(&lines).is_empty());

    let twice = capture(vec![
        after_connect_response("192.0.2.50:40000", "10.0.0.5:3389", at(0), 0x03, true),
        after_connect_response("192.0.2.50:40001", "10.0.0.6:3389", at(5), 0x03, true),
    ]);
    let found = scanner_findings(&report("bluekeep-twice.pcapng", &twice));
    assert_eq!(found.len(), 1, "{found:?}");
    let summary = found[0]["summary"].as_str().unwrap();
    assert!(summary.contains("repeated BlueKeep"), "{summary}");
}

/// Brute force runs the whole connection sequence every time: `lab/bruteforce.pcap` (15
/// complete connections from one client) is `brute-force`'s, not a scan.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn brute_force_with_whole_connections_is_not_a_scan() {
    let path = common::corpus_dir().join("lab/bruteforce.pcap");
    let run = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
    let lines = run.json_lines();
    assert!(scanner_findings(&lines).is_empty(), "{}", run.stdout);
    for c in lines.iter().filter(|l| l["type"] == "connection") {
        assert!(!finding_codes(c).iter().any(|f| f == "scanner"), "{c}");
    }
}
