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
