//! Captures as Windows' Packet Monitor writes them (`pktmon etl2pcap`): every packet once per
//! network stack component it passed, each component an interface of the pcapng file, some
//! with the Ethernet header and some without. Built from the lab captures by
//! `synth::pktmon_copies`; the report must be the one of the original capture, but for the
//! file's own record counts and the count of copies dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};

use rdp_pcap::fuzzing::synth;
use serde_json::Value;

/// Writes `bytes` to a file of its own and returns its path.
fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("rdp-pcap-pktmon-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The JSON lines of a run, without what names the file or counts its records: the capture
/// name, a connection's first frame, the capture's format, packets, bytes and copies dropped.
fn report(path: &Path) -> (Vec<Value>, u64) {
    let run = common::rdp_pcap(&["--format".as_ref(), "jsonl".as_ref(), path.as_os_str()]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let mut duplicates = 0;
    let lines = run
        .json_lines()
        .into_iter()
        .map(|mut v| {
            let o = v.as_object_mut().unwrap();
            o.remove("capture");
            o.remove("first_frame");
            if o["type"] == "capture" {
                for k in ["format", "packets", "bytes"] {
                    o.remove(k);
                }
                let counters = o["counters"].as_object_mut().unwrap();
                duplicates = counters
                    .remove("duplicate_packets")
                    .map_or(0, |n| n.as_u64().unwrap());
            }
            v
        })
        .collect();
    (lines, duplicates)
}

fn packets(pcap: &[u8]) -> u64 {
    let mut at = 24;
    let mut n = 0;
    while let Some(incl) = pcap.get(at + 8..at + 12) {
        at += 16 + usize::try_from(u32::from_le_bytes(incl.try_into().unwrap())).unwrap();
        n += 1;
    }
    n
}

fn check(original: &Path) -> bool {
    let bytes = std::fs::read(original).unwrap();
    let Some(copied) = synth::pktmon_copies(&bytes) else {
        return false;
    };
    let name = original.file_name().unwrap().to_string_lossy();
    let copies = temp_file(&format!("{name}ng"), &copied);
    let (want, none) = report(original);
    let (got, dropped) = report(&copies);
    std::fs::remove_file(&copies).unwrap();
    assert_eq!(got, want, "{name}");
    assert_eq!(none, 0);
    // 2, 3, 4, 2, 3, 4 ... appearances of each packet: all but the first dropped.
    let n = packets(&bytes);
    let written: u64 = (0..n).map(|i| 2 + i % 3).sum();
    assert_eq!(dropped, written - n, "{name}");
    true
}

#[test]
fn pktmon_copies_of_the_samples_report_as_the_samples() {
    let mut checked = 0;
    for path in common::captures_below(&common::samples_dir()) {
        checked += usize::from(check(&path));
    }
    assert_eq!(checked, 6);
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn pktmon_copies_of_the_lab_captures_report_as_the_lab_captures() {
    let Some(dir) = common::corpus() else {
        return;
    };
    let mut checked = 0;
    for path in common::captures_below(&dir.join("lab")) {
        checked += usize::from(check(&path));
    }
    assert!(checked > 20, "{checked}");
}

/// The text report says how many copies were dropped.
#[test]
fn the_text_report_counts_the_copies() {
    let bytes = std::fs::read(common::samples_dir().join("cipher-mismatch.pcap")).unwrap();
    let path = temp_file(
        "cipher-mismatch.pcapng",
        &synth::pktmon_copies(&bytes).unwrap(),
    );
    let run = common::rdp_pcap(&[path.as_os_str()]);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "pcapng, 36 packets (12 TCP), 1 TCP connection, 1 reported\n   not used: 24 copies of packets already captured at another interface\n"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("tls-cipher-mismatch"), "{}", run.stdout);
}

/// Damaged copies (bytes flipped at pseudo-random places, a fixed xorshift sequence) still give
/// a report, the same on one thread and on two (`fuzzing::pipeline` checks both).
#[test]
fn damaged_pktmon_copies_never_panic() {
    for name in ["cipher-mismatch.pcap", "nla-ok.pcap"] {
        let bytes = std::fs::read(common::samples_dir().join(name)).unwrap();
        let copies = synth::pktmon_copies(&bytes).unwrap();
        rdp_pcap::fuzzing::pipeline(&copies);
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for v in 0..64_u64 {
            let mut damaged = copies.clone();
            for _ in 0..=(v % 6) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let at = usize::try_from(x % u64::try_from(damaged.len()).unwrap()).unwrap();
                damaged[at] ^= 1 << (x % 8);
            }
            rdp_pcap::fuzzing::pipeline(&damaged);
        }
    }
}
