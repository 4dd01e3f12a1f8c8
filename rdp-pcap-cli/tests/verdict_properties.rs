//! What the capture did not see is not what did not happen: for every healthy connection of the
//! lab captures, the lab2 captures (read without their keys) and `samples/`, a capture that
//! lost one packet, kept only one direction, or was cut at any packet never gives a verdict of
//! severity error (issue 14). The variants are built from the real frames of each connection
//! and analysed in process; every failure is listed before the test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::io;
use std::path::{Path, PathBuf};

use rdp_pcap::kit::{self, Frame, Linktype, Packet};
use rdp_pcap::pipeline::{analyze, Options, RunState};
use rdp_pcap::record::{CaptureReport, ConnectionRecord, InputProblem};
use rdp_pcap::report::{Reporter, Summary};
use rdp_wire::analyzer::{Severity, VerdictCode};
use rdp_wire::Endpoints;

/// What the property needs of each reported connection.
#[derive(Debug, Clone)]
struct Seen {
    endpoints: Endpoints,
    code: VerdictCode,
    severity: Severity,
    summary: String,
}

#[derive(Default)]
struct Collect(Vec<Seen>);

impl Reporter for Collect {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        self.0.push(Seen {
            endpoints: rec.endpoints,
            code: rec.verdict.code,
            severity: rec.verdict.severity,
            summary: rec.verdict.summary.clone(),
        });
        Ok(())
    }
    fn capture(&mut self, _: &CaptureReport) -> io::Result<()> {
        Ok(())
    }
    fn input_problem(&mut self, _: &InputProblem) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        Ok(())
    }
}

/// The connections the pipeline reports for capture bytes.
fn verdicts(bytes: &[u8]) -> Vec<Seen> {
    let mut out = Collect::default();
    let mut run = RunState::default();
    analyze("variant", bytes, &Options::new(&[]), &mut run, &mut out).unwrap();
    out.0
}

fn capture(link: Linktype, frames: &[&Frame]) -> Vec<u8> {
    let packets: Vec<Packet> = frames
        .iter()
        .map(|f| Packet::raw(f.ts, link, f.data.clone()))
        .collect();
    kit::to_pcap(link, &packets).unwrap()
}

/// The healthy captures: every capture of lab and lab2 and the samples.
fn captures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    if let Some(corpus) = common::corpus() {
        for dir in ["lab", "lab2"] {
            out.extend(common::captures_below(&corpus.join(dir)));
        }
    }
    out.extend(common::captures_below(&root.join("samples")));
    out
}

/// Checks every variant of one healthy connection; failures are pushed to `failures`.
fn check_connection(
    name: &str,
    link: Linktype,
    frames: &[&Frame],
    e: Endpoints,
    failures: &mut Vec<String>,
) -> usize {
    let sides: Vec<Option<bool>> = frames.iter().map(|f| common::from_client(f, e)).collect();
    let mut variants: Vec<(String, Vec<&Frame>)> = Vec::new();
    for i in 0..frames.len() {
        let kept = frames
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, f)| *f)
            .collect();
        variants.push((format!("without packet {}", i + 1), kept));
    }
    for (client, label) in [(true, "client"), (false, "server")] {
        let kept = frames
            .iter()
            .zip(&sides)
            .filter(|(_, s)| **s == Some(client))
            .map(|(f, _)| *f)
            .collect();
        variants.push((format!("only the {label} side"), kept));
    }
    for k in 1..frames.len() {
        variants.push((format!("cut after packet {k}"), frames[..k].to_vec()));
    }
    let n = variants.len();
    for (what, kept) in variants {
        for seen in verdicts(&capture(link, &kept)) {
            if seen.severity == Severity::Error {
                failures.push(format!(
                    "{name} {} -> {}, {what}: {} ({})",
                    e.client,
                    e.server,
                    seen.code.as_str(),
                    seen.summary
                ));
            }
        }
    }
    n
}

#[test]
fn a_healthy_connection_never_looks_failed_when_the_capture_lost_part_of_it() {
    let mut failures = Vec::new();
    let mut checked = 0usize;
    let mut variants = 0usize;
    for path in captures() {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let contents = kit::read(&bytes).unwrap();
        let Some(link) = contents.frames.first().map(|f| f.link) else {
            continue;
        };
        for conn in verdicts(&bytes) {
            if conn.code != VerdictCode::Established {
                continue;
            }
            let frames: Vec<&Frame> = contents
                .frames
                .iter()
                .filter(|f| common::from_client(f, conn.endpoints).is_some())
                .collect();
            variants += check_connection(&name, link, &frames, conn.endpoints, &mut failures);
            checked += 1;
        }
    }
    eprintln!("{checked} healthy connections, {variants} variants");
    assert!(checked >= 20, "only {checked} healthy connections found");
    assert!(
        failures.is_empty(),
        "{} variants gave an error verdict:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
