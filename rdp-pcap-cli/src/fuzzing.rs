//! Entry point for the `pipeline` fuzz target in `fuzz/` and for the tests that replay what it
//! found (`rdp-pcap-cli/tests/fuzz_regressions.rs`). Not part of the public API.
//!
//! Beyond "no panic", it checks that the capture summary agrees with what was reported: as
//! many connection records as `connections_reported`, no more reported than seen, no more TCP
//! packets than packets; that no report holds a character the printable filter would escape;
//! and that decoding on a second thread (the default) gives the same report, byte for byte.
#![allow(clippy::panic, missing_docs)]

pub mod synth;

use std::io;

use crate::pipeline::{analyze, Options, RunState};
use crate::record::{CaptureReport, ConnectionRecord, InputProblem};
use crate::report::{reporter, Format, Reporter, Summary};

/// Counts what it is given and passes it on to the JSON lines, text and CSV reporters, so that
/// their formatting runs too.
struct Checking<'w> {
    connections: u64,
    last_id: Option<u64>,
    inner: Vec<Box<dyn Reporter + 'w>>,
}

impl Reporter for Checking<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        self.connections = self.connections.saturating_add(1);
        assert!(self.last_id < Some(rec.id), "connection ids out of order");
        self.last_id = Some(rec.id);
        self.inner.iter_mut().try_for_each(|r| r.connection(rec))
    }

    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()> {
        self.inner.iter_mut().try_for_each(|r| r.capture(rep))
    }

    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        self.inner
            .iter_mut()
            .try_for_each(|r| r.input_problem(problem))
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.inner.iter_mut().try_for_each(|r| r.finish(summary))
    }
}

/// The whole pipeline (capture reader, reassembly, analyzers, reporters) on capture bytes.
pub fn pipeline(data: &[u8]) {
    let (mut jsonl, mut text, mut csv) = (Vec::new(), Vec::new(), Vec::new());
    let mut checking = Checking {
        connections: 0,
        last_id: None,
        inner: vec![
            reporter(Format::Jsonl, Box::new(&mut jsonl), false),
            reporter(Format::Text, Box::new(&mut text), false),
            reporter(Format::Csv, Box::new(&mut csv), false),
        ],
    };
    let mut run = RunState::default();
    let report = match analyze("fuzz", data, &Options::new(&[]), &mut run, &mut checking) {
        Ok(report) => report,
        Err(e) => panic!("writing to a sink failed: {e}"),
    };
    let summary = Summary {
        inputs: 1,
        inputs_with_problems: u64::from(!report.problems.is_empty()),
        connections: checking.connections,
        ..Summary::default()
    };
    if let Err(e) = checking
        .capture(&report)
        .and_then(|()| checking.finish(&summary))
    {
        panic!("writing to a sink failed: {e}");
    }
    assert_eq!(
        checking.connections, report.connections_reported,
        "records written and connections_reported disagree"
    );
    assert!(
        report.connections_reported <= report.connections_seen,
        "more reported than seen"
    );
    assert!(
        report.tcp_packets <= report.packets,
        "more tcp packets than packets"
    );
    assert!(
        report.connections_evicted <= report.connections_seen,
        "more evicted than seen"
    );
    drop(checking);
    for (format, out) in [("jsonl", &jsonl), ("text", &text), ("csv", &csv)] {
        printable(format, out);
    }
    same_on_two_threads(data);
}

/// Nothing from the capture reaches a report raw: no control, bidirectional or line-breaking
/// format character but the reports' own line ends. (JSON escapes C0 controls itself; DEL, C1
/// and the format characters would show here.)
fn printable(format: &str, out: &[u8]) {
    let Ok(text) = std::str::from_utf8(out) else {
        panic!("the {format} report is not UTF-8");
    };
    if let Some(c) = text
        .chars()
        .find(|c| !matches!(c, '\n' | '\r') && rdp_wire::printable::is_unsafe(*c))
    {
        panic!("the {format} report holds {c:?}");
    }
}

/// The report as JSON lines, from one thread or with the decoding on a second one.
fn json_lines(data: &[u8], split: bool) -> (Vec<u8>, String) {
    let mut out = Vec::new();
    let report = {
        let mut reporter = reporter(Format::Jsonl, Box::new(&mut out), false);
        let mut run = RunState::default();
        let options = Options {
            threads: if split { 2 } else { 1 },
            ..Options::new(&[])
        };
        let result = analyze("fuzz", data, &options, &mut run, reporter.as_mut());
        let written = result.and_then(|report| {
            reporter.capture(&report)?;
            // Writes the lines still pending.
            reporter.finish(&Summary::default())?;
            Ok(report)
        });
        match written {
            Ok(report) => format!("{report:?}"),
            Err(e) => panic!("writing to a vector failed: {e}"),
        }
    };
    assert!(!out.is_empty(), "no capture line");
    (out, report)
}

/// Decoding on a second thread changes nothing: the same records, the same capture report.
fn same_on_two_threads(data: &[u8]) {
    let (one, one_report) = json_lines(data, false);
    let (two, two_report) = json_lines(data, true);
    assert!(
        one == two,
        "the report differs with the decoding on a second thread"
    );
    assert_eq!(
        one_report, two_report,
        "the capture report differs on two threads"
    );
}
