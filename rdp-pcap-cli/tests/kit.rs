//! The capture kit against the tool: every capture the tool reads cleanly, the kit's reader
//! reads the same; captures the kit builds (a lost segment, one direction, a cut) give the
//! reports they should.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};

use rdp_pcap::capture::read_capture;
use rdp_pcap::fuzzing::synth;
use rdp_pcap::kit::{self, Conversation, Packets};
use rdp_wire::Side;
use serde_json::Value;

/// Every capture of `samples/` and the shared corpus that the tool reads without a problem:
/// the kit reads as many records, the same key logs and the same earliest time.
#[test]
fn the_kit_reads_what_the_tool_reads() {
    let mut paths = common::captures_below(&common::samples_dir());
    if let Some(dir) = common::corpus() {
        paths.extend(common::captures_below(&dir));
    }
    let mut compared = 0;
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let summary = read_capture(&bytes[..], &mut |_| {});
        if !summary.problems.is_empty() {
            continue;
        }
        let contents = kit::read(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.display();
        assert_eq!(
            u64::try_from(contents.frames.len()).unwrap(),
            summary.stats.packets,
            "{name}"
        );
        assert_eq!(contents.tls_key_logs, summary.tls_key_logs, "{name}");
        // Simple Packet Blocks carry no time: the kit gives them 0, the tool the time before.
        if contents.frames.iter().all(|f| f.ts.0 != 0) {
            let earliest = contents.frames.iter().map(|f| f.ts).min();
            let first = summary.first_ts;
            assert_eq!(earliest, first, "{name}");
        }
        compared += 1;
    }
    assert!(compared >= 5, "only {compared} captures compared");
}

/// A TLS 1.2 ClientHello offering 20 suites, as one handshake record.
fn client_hello() -> Vec<u8> {
    let hello = synth::client_hello_with_suites(20);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&u16::try_from(hello.len()).unwrap().to_be_bytes());
    record.extend_from_slice(&hello);
    record
}

/// An RDP connection up to the ClientHello, sent in 64-byte segments; the server resets it.
fn tls_attempt() -> Packets {
    let mut c = Conversation::new(
        "10.0.0.2:50000".parse().unwrap(),
        "10.0.0.1:3389".parse().unwrap(),
    )
    .with_mss(64);
    c.handshake()
        .send(Side::Client, synth::CONNECTION_REQUEST)
        .send(Side::Server, synth::CONNECTION_CONFIRM_SSL)
        .send(Side::Client, &client_hello())
        .rst(Side::Server);
    c.into_packets()
}

fn report(name: &str, bytes: &[u8]) -> (Value, Vec<Value>) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kit");
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let run = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
    let lines = run.json_lines();
    let capture = lines
        .iter()
        .find(|v| v["type"] == "capture")
        .cloned()
        .unwrap();
    (capture, run.connections())
}

#[test]
fn a_tls_session_with_a_segment_dropped() {
    let whole = tls_attempt();
    let (capture, conns) = report("whole.pcapng", &whole.to_pcapng(None));
    assert_eq!(capture["bytes_lost"], 0);
    assert_eq!(conns.len(), 1);
    assert!(
        conns[0]["tls"]["sni"] == "rdp.example",
        "{}",
        conns[0]["tls"]
    );

    // The ClientHello's second segment (the client's third data segment) never captured.
    let lost = whole.nth_data(Side::Client, 2).unwrap();
    let (capture, conns) = report("lost.pcapng", &whole.clone().without(lost).to_pcapng(None));
    assert_eq!(capture["bytes_lost"], 64);
    assert_eq!(conns.len(), 1);
    assert!(conns[0]["tls"]["sni"].is_null(), "{}", conns[0]["tls"]);
}

#[test]
fn one_direction_and_a_cut_capture() {
    let whole = tls_attempt();
    // Only the client's packets: no X.224 Connection Confirm is ever seen.
    let (_, conns) = report(
        "client-only.pcapng",
        &whole.clone().only(Side::Client).to_pcapng(None),
    );
    assert_eq!(conns.len(), 1);
    assert!(
        conns[0]["x224"]["selected_protocol"].is_null(),
        "{}",
        conns[0]["x224"]
    );
    // Cut after the handshake: three packets, nothing beyond TCP.
    let (capture, conns) = report("cut.pcapng", &whole.cut_after(3).to_pcapng(None));
    assert_eq!(capture["packets"], 3);
    assert_eq!(conns.len(), 1);
}

/// The structure rule of the kit: captures are written and read by hand in two places only,
/// the kit (`src/kit/`) and the tool's own reader (`src/capture.rs`, `src/capture/`), not
/// counting the reader's unit tests (`src/capture/tests.rs`), which build their odd files
/// (big-endian sections, `if_tsoffset`, obsolete blocks, lying lengths) with the kit too. A
/// test, bench or generator that spells a pcap or pcapng magic number or calls `pcap-parser`
/// itself fails here, with the file and line named: it should use `rdp_pcap::kit`.
#[test]
fn captures_are_written_and_read_only_by_the_kit_and_the_tool() {
    const SIGNS: &[&str] = &[
        "a1b2c3d4",
        "a1b23c4d",
        "0a0d0d0a",
        "1a2b3c4d",
        "0xd4,0xc3,0xb2,0xa1",
        "0x4d,0x3c,0xb2,0xa1",
        "0x0a,0x0d,0x0d,0x0a",
        "0x4d,0x3c,0x2b,0x1a",
        "pcap_parser::",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    const READER_TESTS: &str = "rdp-pcap-cli/src/capture/tests.rs";
    let allowed = |rel: &str| {
        rel.starts_with("rdp-pcap-cli/src/kit/")
            || (rel.starts_with("rdp-pcap-cli/src/capture") && rel != READER_TESTS)
            || rel == "rdp-pcap-cli/tests/kit.rs"
    };
    let mut files = Vec::new();
    let mut stack: Vec<PathBuf> = ["rdp-wire", "rdp-pcap-cli", "benches"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(
        files.iter().any(|p| p.ends_with("src/capture/tests.rs")),
        "the reader's unit tests are not where the rule looks for them"
    );
    let mut broken = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if allowed(&rel) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let squeezed: String = line
                .chars()
                .filter(|c| !matches!(c, '_' | ' '))
                .collect::<String>()
                .to_ascii_lowercase();
            if let Some(sign) = SIGNS.iter().find(|s| squeezed.contains(*s)) {
                broken.push(format!("{rel}:{}: {sign}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(files.len() > 50, "only {} files scanned", files.len());
    assert!(
        broken.is_empty(),
        "capture bytes by hand outside the kit (use rdp_pcap::kit):\n{}",
        broken.join("\n")
    );
}
