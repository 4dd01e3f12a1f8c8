//! What a report says follows the connection: the fix for the failure code received and the
//! port used, retries linked to what they retry, counts in the right number, no negative
//! durations, no security findings on what is not RDP, and a hint when nothing is RDP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};

use common::rdp_pcap;
use rdp_pcap::fuzzing::synth::{self, Conn, PcapWriter};
use rdp_pcap::kit::Conversation;
use rdp_wire::Side;
use serde_json::{json, Value};

/// An X.224 Connection Confirm with RDP_NEG_FAILURE `code` (MS-RDPBCGR 2.2.1.2.2).
fn negotiation_failure(code: u8) -> Vec<u8> {
    let mut v = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x00\x00\x00\x03\x00\x08\x00".to_vec();
    v.extend_from_slice(&[code, 0, 0, 0]);
    v
}

/// An X.224 Connection Request with cookie `mstshash=COOKIE` requesting `protocols`.
fn request(cookie: &str, protocols: u8) -> Vec<u8> {
    let token = format!("Cookie: mstshash={cookie}\r\n");
    let len = 4 + 7 + token.len() + 8;
    let mut v = vec![3, 0];
    v.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
    v.push(u8::try_from(len - 5).unwrap());
    v.extend_from_slice(&[0xe0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(token.as_bytes());
    v.extend_from_slice(&[1, 0, 8, 0, protocols, 0, 0, 0]);
    v
}

/// Writes `bytes` to a fresh file under the target folder.
fn capture(name: &str, bytes: Vec<u8>) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixes");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn with_port(mut c: Conn, port: u16) -> Conn {
    c.server = SocketAddrV4::new(*c.server.ip(), port);
    c
}

/// A negotiation refused with `code` (the client then closes).
fn refused_negotiation(w: &mut PcapWriter<Vec<u8>>, c: &mut Conn, protocols: u8, code: u8) {
    c.handshake(w).unwrap();
    c.send(w, true, &request("alice", protocols)).unwrap();
    c.send(w, false, &negotiation_failure(code)).unwrap();
    c.fin(w, true).unwrap();
    c.fin(w, false).unwrap();
}

fn jsonl(path: &Path, extra: &[&str]) -> (common::Run, Vec<Value>) {
    let mut args: Vec<String> = vec!["--format".into(), "jsonl".into()];
    args.extend(extra.iter().map(|a| (*a).to_string()));
    args.push(path.display().to_string());
    let run = rdp_pcap(&args);
    let conns = run.connections();
    (run, conns)
}

fn text(path: &Path, extra: &[&str]) -> String {
    let mut args: Vec<String> = vec!["--color".into(), "never".into()];
    args.extend(extra.iter().map(|a| (*a).to_string()));
    args.push(path.display().to_string());
    rdp_pcap(&args).stdout
}

#[test]
fn the_fix_of_a_negotiation_failure_is_that_of_the_code_received() {
    let mut w = PcapWriter::new(Vec::new(), 65_535).unwrap();
    refused_negotiation(&mut w, &mut Conn::new(1), 1, 3);
    refused_negotiation(&mut w, &mut Conn::new(2), 1, 5);
    refused_negotiation(&mut w, &mut Conn::new(3), 1, 77);
    let path = capture("negotiation-codes.pcap", w.into_inner());
    let (_, conns) = jsonl(&path, &[]);
    let fix = |i: usize| conns[i]["verdict"]["fix"].as_str().unwrap().to_string();
    // SSL_CERT_NOT_ON_SERVER: the certificate, not NLA.
    assert!(
        fix(0).starts_with("Give the server a usable certificate"),
        "{}",
        fix(0)
    );
    assert!(!fix(0).contains("CredSSP"));
    // HYBRID_REQUIRED_BY_SERVER: CredSSP.
    assert!(
        fix(1).starts_with("Make the client offer CredSSP"),
        "{}",
        fix(1)
    );
    // A code MS-RDPBCGR does not define says so.
    assert!(fix(2).contains("does not define"), "{}", fix(2));
    // The text report quotes the same fix.
    let report = text(&path, &[]);
    assert!(report.contains("    fix          Give the server a usable certificate"));
}

#[test]
fn commands_name_the_port_of_the_connection() {
    let mut w = PcapWriter::new(Vec::new(), 65_535).unwrap();
    // Refused on 3390.
    let mut c = with_port(Conn::new(1), 3390);
    c.syn(&mut w).unwrap();
    c.rst(&mut w, false).unwrap();
    // RDP on 13389, refused negotiation.
    refused_negotiation(&mut w, &mut with_port(Conn::new(2), 13389), 3, 5);
    let path = capture("ports.pcap", w.into_inner());
    let (_, conns) = jsonl(&path, &["--port", "3390"]);
    assert_eq!(conns[0]["verdict"]["code"], "tcp-refused");
    let refused = conns[0]["verdict"]["fix"].as_str().unwrap();
    assert!(refused.contains("-LocalPort 3390"), "{refused}");
    assert!(!refused.contains("3389"), "{refused}");
    let nonstandard = conns[1]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "nonstandard-port")
        .unwrap();
    let fix = nonstandard["fix"].as_str().unwrap();
    assert!(
        fix.contains("-DisplayName 'RDP 13389'") && fix.contains("-LocalPort 13389"),
        "{fix}"
    );
    assert!(!fix.contains("3390"), "{fix}");
    // The reset is described for what it proves.
    let summary = conns[0]["verdict"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("no listener on the port, or a firewall or load balancer"),
        "{summary}"
    );
    assert!(!summary.contains("nothing listens"), "{summary}");
    // `rdp-pcap explain` shows the placeholders generically.
    let explain = rdp_pcap(&["explain", "tcp-refused"]).stdout;
    assert!(explain.contains("-LocalPort 3389"), "{explain}");
    assert!(!explain.contains("{port}") && !explain.contains("{server}"));
}

#[test]
fn unanswered_syns_are_all_counted() {
    let mut w = PcapWriter::new(Vec::new(), 65_535).unwrap();
    let mut c = Conn::new(1);
    for _ in 0..3 {
        // A retransmission: the same sequence number.
        let seq = c.client_seq;
        c.syn(&mut w).unwrap();
        c.client_seq = seq;
        w.ts_us += 1_000_000;
    }
    let path = capture("unanswered.pcap", w.into_inner());
    let (_, conns) = jsonl(&path, &[]);
    assert_eq!(conns[0]["verdict"]["code"], "tcp-unanswered");
    assert_eq!(conns[0]["tcp"]["syn_count"], 3);
    assert!(conns[0]["verdict"]["summary"]
        .as_str()
        .unwrap()
        .starts_with("3 SYNs without any answer"));
    let report = text(&path, &[]);
    assert!(
        report.contains("3 SYNs not answered by a SYN-ACK"),
        "{report}"
    );
}

#[test]
fn counts_are_in_the_right_number_and_durations_never_negative() {
    let mut w = PcapWriter::new(Vec::new(), 65_535).unwrap();
    let mut c = Conn::new(1);
    c.syn(&mut w).unwrap();
    // The reset is stamped before the SYN: timestamps that go backwards, as merged or
    // multi-interface captures have.
    w.ts_us -= 500;
    c.rst(&mut w, false).unwrap();
    let path = capture("one.pcap", w.into_inner());
    let report = text(&path, &[]);
    assert!(
        report.contains("client sent 0 bytes in 1 packet, server 0 bytes in 1 packet"),
        "{report}"
    );
    assert!(report.contains(": pcap, 2 packets (2 TCP), 1 TCP connection, 1 reported"));
    assert!(report.contains("Summary: 1 connection in 1 input"));
    assert!(!report.contains("-0."), "{report}");
    let (_, conns) = jsonl(&path, &[]);
    assert_eq!(conns[0]["duration_ms"], json!(0.0));

    let missing = rdp_pcap(&["/nonexistent/x.pcap"]);
    assert!(
        missing
            .stdout
            .contains("Summary: nothing analysed; 1 input could not be read"),
        "{}",
        missing.stdout
    );
}

#[test]
fn what_is_not_rdp_gets_no_security_findings() {
    let mut w = PcapWriter::new(Vec::new(), 65_535).unwrap();
    let mut c = Conn::new(1);
    c.handshake(&mut w).unwrap();
    c.send(&mut w, true, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // A hole in the junk: a capture gap, which used to be a finding on it.
    c.send_at(&mut w, true, 1_000, b"more").unwrap();
    c.rst(&mut w, false).unwrap();
    let path = capture("junk.pcap", w.into_inner());
    let (_, conns) = jsonl(&path, &[]);
    assert_eq!(conns[0]["verdict"]["code"], "not-rdp");
    assert!(conns[0]["tcp"]["client_bytes_lost"].as_u64().unwrap() > 0);
    assert_eq!(conns[0]["findings"], json!([]));
}

#[test]
fn a_retry_is_linked_to_the_failure_it_retries() {
    let mut w = PcapWriter::new(Vec::new(), 65_535).unwrap();
    // 10.0.0.2:1031 asks for SSL|HYBRID, is refused; 3 ms later 10.0.0.2:1032 asks for
    // SSL only and gets it.
    refused_negotiation(&mut w, &mut Conn::new(7), 3, 2);
    w.ts_us += 3_000;
    let mut retry = Conn::new(8);
    retry.handshake(&mut w).unwrap();
    retry.send(&mut w, true, &request("alice", 1)).unwrap();
    retry
        .send(
            &mut w,
            false,
            rdp_pcap::fuzzing::synth::CONNECTION_CONFIRM_SSL,
        )
        .unwrap();
    retry.rst(&mut w, true).unwrap();
    // Another client 20 s later: not a retry of anything.
    w.ts_us += 20_000_000;
    refused_negotiation(&mut w, &mut Conn::new(60_007), 3, 2);
    // The first client again, 20 s after its last failure: too late to be a retry.
    refused_negotiation(&mut w, &mut Conn::new(9), 3, 2);
    // And once more at once, asking the same: a retry that changed nothing.
    refused_negotiation(&mut w, &mut Conn::new(10), 3, 2);
    let path = capture("retry.pcap", w.into_inner());
    let (_, conns) = jsonl(&path, &[]);
    assert_eq!(conns.len(), 5);
    assert_eq!(conns[0]["links"], json!([]));
    let link = &conns[1]["links"][0];
    assert_eq!(link["rel"], "retry-of");
    assert_eq!(link["id"], conns[0]["id"]);
    assert_eq!(link["basis"], "heuristic");
    assert_eq!(link["change"], "without NLA");
    assert!(link["after_ms"].as_f64().unwrap() >= 3.0);
    assert_eq!(conns[2]["links"], json!([]));
    assert_eq!(conns[3]["links"], json!([]));
    assert_eq!(conns[4]["links"][0]["id"], conns[3]["id"]);
    assert_eq!(conns[4]["links"][0]["change"], Value::Null);
    let report = text(&path, &[]);
    assert!(
        report.contains(
            "    retry        of #0, 3.0 ms after it ended: the client retried without NLA"
        ),
        "{report}"
    );
    assert!(report.contains(": the client tried again\n"), "{report}");
    let csv = rdp_pcap(&["--format", "csv", path.to_str().unwrap()]).stdout;
    assert!(
        csv.lines().nth(2).unwrap().contains(",retry-of:0,"),
        "{csv}"
    );
}

#[test]
fn a_capture_without_rdp_says_where_to_look() {
    let mut w = PcapWriter::new(Vec::new(), 65_535).unwrap();
    for i in 0..3 {
        let mut c = with_port(Conn::new(i), 443);
        c.handshake(&mut w).unwrap();
        c.send(&mut w, true, b"\x16\x03\x01\x00\x05hello").unwrap();
        c.fin(&mut w, true).unwrap();
    }
    let mut c = with_port(Conn::new(9), 8080);
    c.handshake(&mut w).unwrap();
    let path = capture("https.pcap", w.into_inner());
    let report = text(&path, &[]);
    assert!(
        report.contains(
            "no RDP found; the busiest server ports are 443 (3 connections), 8080 (1 connection): `--port 443` reports"
        ),
        "{report}"
    );
    let run = rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
    let capture = run
        .json_lines()
        .into_iter()
        .find(|l| l["type"] == "capture")
        .unwrap();
    assert_eq!(
        capture["unreported_server_ports"],
        json!([{"port": 443, "connections": 3}, {"port": 8080, "connections": 1}])
    );
}

#[test]
fn capture_findings_are_in_the_csv() {
    let mut w = PcapWriter::new(Vec::new(), 65_535).unwrap();
    // Twelve attempts in 12 s from one client, six user names: brute force.
    for i in 0..12u32 {
        let mut c = Conn::new(7 + i);
        c.client = SocketAddrV4::new(
            *Conn::new(7).client.ip(),
            40_000 + u16::try_from(i).unwrap(),
        );
        c.handshake(&mut w).unwrap();
        c.send(&mut w, true, &request(&format!("user{}", i % 6), 3))
            .unwrap();
        c.send(&mut w, false, &negotiation_failure(5)).unwrap();
        c.fin(&mut w, true).unwrap();
        w.ts_us += 1_000_000;
    }
    let path = capture("guessing.pcap", w.into_inner());
    let csv = rdp_pcap(&["--format", "csv", path.to_str().unwrap()]).stdout;
    let tables: Vec<&str> = csv.split("\r\n\r\n").collect();
    assert_eq!(tables.len(), 2, "{csv}");
    let mut rows = tables[1].lines();
    assert_eq!(
        rows.next().unwrap(),
        "capture,finding,severity,summary,connections,fix"
    );
    let row = rows.next().unwrap();
    assert!(row.contains(",brute-force,warning,"), "{row}");
    assert!(row.contains(",0;1;2;3;4;5;6;7;8;9;10;11,"), "{row}");
    let (run, _) = jsonl(&path, &[]);
    let finding = run
        .json_lines()
        .into_iter()
        .find(|l| l["type"] == "finding")
        .unwrap();
    assert!(finding["fix"]
        .as_str()
        .unwrap()
        .starts_with("Take RDP off the Internet"));
}

/// `body` as one TLS record of `content_type`, record version TLS 1.2.
fn tls_record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 0x03, 0x03];
    out.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A ServerHello choosing TLS 1.2 and TLS_RSA_WITH_3DES_EDE_CBC_SHA (0x000a, offered by the
/// ClientHello), no session id, no extensions (RFC 5246 7.4.1.3).
fn server_hello_tls12() -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x33; 32]);
    body.extend_from_slice(&[0x00, 0x00, 0x0a, 0x00]);
    let mut msg = vec![0x02, 0x00, 0x00, u8::try_from(body.len()).unwrap()];
    msg.extend_from_slice(&body);
    tls_record(0x16, &msg)
}

/// A client that starts TLS straight away (HTTPS, as to an RD Gateway) on `server_port`, and a
/// handshake that `fail` ends.
fn https_failing(server_port: u16, fail: impl FnOnce(&mut Conversation)) -> Vec<u8> {
    let mut c = Conversation::new(
        "10.0.0.2:50000".parse().unwrap(),
        format!("10.0.0.1:{server_port}").parse().unwrap(),
    );
    c.handshake().send(
        Side::Client,
        &tls_record(0x16, &synth::client_hello_with_suites(20)),
    );
    fail(&mut c);
    c.into_packets().to_pcapng(None)
}

/// An RD Gateway connection (TLS first on port 443, reported with `--port 443`) whose TLS
/// fails is told to fix the gateway (its SSL certificate binding, its Schannel settings), not
/// an RDP host's RDP-Tcp listener, Security Layer or SSLCertificateSHA1Hash; a direct RDP
/// connection that fails the same way keeps the RDP host's fix.
#[test]
fn a_failed_tls_handshake_to_an_rd_gateway_gets_the_gateway_fix() {
    type Fail = fn(&mut Conversation);
    let cases: [(&str, &str, Fail); 4] = [
        ("cipher", "tls-cipher-mismatch", |c| {
            c.send(Side::Server, &tls_record(0x15, &[0x02, 40]))
                .fin(Side::Server);
        }),
        ("version", "tls-version-rejected", |c| {
            c.send(Side::Server, &tls_record(0x15, &[0x02, 70]))
                .fin(Side::Server);
        }),
        ("certificate", "tls-handshake-failed", |c| {
            c.send(Side::Server, &server_hello_tls12())
                .send(Side::Client, &tls_record(0x15, &[0x02, 48]))
                .rst(Side::Client);
        }),
        ("no-tls", "tls-not-started", |c| {
            c.rst(Side::Server);
        }),
    ];
    for (name, code, fail) in cases {
        let path = capture(&format!("rdg-{name}.pcapng"), https_failing(443, fail));
        let (_, conns) = jsonl(&path, &["--port", "443"]);
        assert_eq!(conns.len(), 1, "{name}: {conns:?}");
        let c = &conns[0];
        assert_eq!(c["via"]["kind"], "rd-gateway", "{name}: {c}");
        assert_eq!(c["verdict"]["code"], code, "{name}: {c}");
        let fix = c["verdict"]["fix"].as_str().unwrap();
        assert!(
            fix.starts_with("RD Gateway (HTTPS on 443)"),
            "{name}: {fix}"
        );
        for host_only in [
            "SecurityLayer",
            "Security Layer",
            "TermService",
            "Win32_TSGeneralSetting",
        ] {
            assert!(!fix.contains(host_only), "{name}: {fix}");
        }
        let text = text(&path, &["--port", "443"]);
        assert!(
            text.contains("fix          RD Gateway (HTTPS on 443)"),
            "{name}: {text}"
        );
    }
    // Direct RDP with the same failure: the RDP host's fix.
    let (_, conns) = jsonl(&common::samples_dir().join("cipher-mismatch.pcap"), &[]);
    for c in conns {
        let fix = c["verdict"]["fix"].as_str().unwrap();
        assert!(!fix.starts_with("RD Gateway"), "{fix}");
    }
}
