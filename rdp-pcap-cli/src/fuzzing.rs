//! Entry point for the `pipeline` fuzz target in `fuzz/` and for the tests that replay what it
//! found (`rdp-pcap-cli/tests/fuzz_regressions.rs`). Not part of the public API.
//!
//! Beyond "no panic", it checks that the capture summary agrees with what was reported: as
//! many connection records as `connections_reported`, no more reported than seen, no more TCP
//! packets than packets.
#![allow(clippy::panic, missing_docs)]

pub mod synth;

use std::io;

use crate::pipeline::{analyze, Options, RunState};
use crate::record::{CaptureReport, ConnectionRecord, InputProblem};
use crate::report::{reporter, Format, Reporter, Summary};

/// Counts what it is given and passes it on to the JSON lines, text and CSV reporters (writing
/// to nowhere), so that their formatting runs too.
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
    let mut checking = Checking {
        connections: 0,
        last_id: None,
        inner: vec![
            reporter(Format::Jsonl, Box::new(io::sink()), false),
            reporter(Format::Text, Box::new(io::sink()), true),
            reporter(Format::Csv, Box::new(io::sink()), false),
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
}
