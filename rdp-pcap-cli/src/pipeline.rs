//! The way in: one capture from bytes to a report.
//!
//! [`analyze`] reads the capture (`capture`), on this thread or on a second one (`decoder`),
//! hands its TCP segments to a session (`session`: reassembly and one analyzer per
//! connection), and the finished records to the output (`output`: numbering, capture-wide
//! findings, the reporter). `--merge` has its own way in, `merge::analyze`, over the same parts.

use std::cell::Cell;
use std::io::{self, Read};
use std::sync::Arc;

use crate::ahead::Ahead;
use crate::capture::{self, TcpPacket};
use crate::decoder::{self, StopReader};
use crate::output::Output;
use crate::record::{CaptureReport, ConnectionRecord};
use crate::report::Reporter;
use crate::session::{Analysed, Session};
use rdp_wire::analyzer::Caches;

pub use crate::output::RunState;

/// The RDP port every connection to which is reported, RDP or not.
pub const RDP_PORT: u16 = 3389;

/// What the user chose.
#[derive(Debug, Clone)]
pub struct Options {
    /// Server ports whose connections are reported even without RDP bytes (3389 always).
    pub ports: Vec<u16>,
    /// Keep each connection's timeline in its record.
    pub timeline: bool,
    /// Threads to use: from 2, the capture is read and decoded on a second thread while this
    /// one reassembles, analyses and reports (the same records in the same order; more are
    /// not used). 1 by default.
    pub threads: usize,
}

impl Options {
    /// Options with the extra ports given by `--port`, on one thread.
    pub fn new(extra_ports: &[u16]) -> Self {
        let mut ports = vec![RDP_PORT];
        ports.extend_from_slice(extra_ports);
        ports.sort_unstable();
        ports.dedup();
        Options {
            ports,
            timeline: false,
            threads: 1,
        }
    }
}

/// Analyses one capture read from `reader`, handing records to `reporter` as they are ready,
/// on as many threads as `options` says (on one when a second cannot be started).
///
/// Returns what the capture held and the problems met; an error only when writing the report
/// failed (reading then stops).
pub fn analyze<R: Read + Send>(
    name: &str,
    reader: R,
    options: &Options,
    run: &mut RunState,
    reporter: &mut dyn Reporter,
) -> io::Result<CaptureReport> {
    let caches = std::mem::take(&mut run.caches);
    // With a second thread, connection lines are rendered there when the format allows.
    let ahead = match reporter.render() {
        Some(render) if options.threads >= 2 => Some(Arc::new(Ahead::new(render))),
        _ => None,
    };
    let mut out = Output::new(run, reporter);
    if let Some(ahead) = &ahead {
        out.render_ahead(Arc::clone(ahead));
    }
    let mut analysed = analyze_records(
        name,
        reader,
        options,
        caches,
        ahead.as_deref(),
        &mut |rec| out.record(rec),
    );
    let caches = std::mem::take(&mut analysed.caches);
    let report = out.finish(name, analysed);
    run.caches = caches;
    report
}

/// Reads, reassembles and analyses one capture, handing each finished record to `sink` in
/// order (unnumbered). `sink` returns `false` when it wants no more: reading then stops. With
/// two threads, the second one renders for `ahead` too.
fn analyze_records<R: Read + Send>(
    name: &str,
    mut reader: R,
    options: &Options,
    caches: Caches,
    ahead: Option<&Ahead>,
    sink: &mut dyn FnMut(Box<ConnectionRecord>) -> bool,
) -> Analysed {
    let mut session = Session::new(name, &options.ports, options.timeline, caches, sink);
    if options.threads >= 2 {
        let decoded = decoder::decode_on_thread(
            &mut reader,
            ahead,
            session,
            |session, seg| session.push(seg),
            |session, summary| session.finish(summary),
        );
        match decoded {
            Ok(analysed) => return analysed,
            // Nothing has been read when the thread cannot be started: then all is done here.
            Err(back) => session = back,
        }
    }
    let stopped = Cell::new(false);
    let reader = StopReader {
        inner: reader,
        stopped: &stopped,
    };
    let summary = capture::read_capture(reader, &mut |pkt: &TcpPacket<'_>| {
        if !stopped.get() && !session.push(pkt) {
            stopped.set(true);
        }
    });
    session.finish(summary)
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::decoder::tests::{sample, Endless};

    /// Fails to write anything.
    struct Broken;

    impl crate::report::Reporter for Broken {
        fn connection(&mut self, _: &crate::record::ConnectionRecord) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn capture(&mut self, _: &crate::record::CaptureReport) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn input_problem(&mut self, _: &crate::record::InputProblem) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn finish(&mut self, _: &crate::report::Summary) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    /// A capture without end (a sample's records over and over) and options for `threads`.
    fn endless(threads: usize) -> (Endless, Options) {
        let endless = Endless {
            bytes: sample("tls-ok.pcap"),
            pos: 0,
        };
        let options = Options {
            threads,
            ..Options::new(&[])
        };
        (endless, options)
    }

    #[test]
    fn a_report_that_cannot_be_written_stops_the_reading() {
        for threads in [2, 1] {
            let (endless, options) = endless(threads);
            let mut run = RunState::default();
            let result = analyze("endless", endless, &options, &mut run, &mut Broken);
            assert_eq!(result.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        }
    }

    /// Accepts nothing.
    struct BrokenPipe;

    impl io::Write for BrokenPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// JSON lines, rendered on the decoding thread: a report that cannot be written still
    /// stops the reading, and nothing waits for ever.
    #[test]
    fn lines_rendered_ahead_that_cannot_be_written_stop_the_reading() {
        let (endless, options) = endless(2);
        let mut reporter =
            crate::report::reporter(crate::report::Format::Jsonl, Box::new(BrokenPipe), false);
        assert!(reporter.render().is_some());
        let mut run = RunState::default();
        let result = analyze("endless", endless, &options, &mut run, reporter.as_mut());
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    }

    /// Keeps the records, writes nothing.
    #[derive(Default)]
    pub(crate) struct Kept(pub(crate) Vec<ConnectionRecord>);

    impl crate::report::Reporter for Kept {
        fn connection(&mut self, rec: &crate::record::ConnectionRecord) -> io::Result<()> {
            self.0.push(rec.clone());
            Ok(())
        }
        fn capture(&mut self, _: &crate::record::CaptureReport) -> io::Result<()> {
            Ok(())
        }
        fn input_problem(&mut self, _: &crate::record::InputProblem) -> io::Result<()> {
            Ok(())
        }
        fn finish(&mut self, _: &crate::report::Summary) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_caches_serve_the_whole_run_on_either_thread_choice() {
        for threads in [1, 2] {
            let options = Options {
                threads,
                ..Options::new(&[])
            };
            let mut run = RunState::default();
            let bytes = sample("tls12-ok.pcap");
            analyze(
                "first",
                &bytes[..],
                &options,
                &mut run,
                &mut Kept::default(),
            )
            .unwrap();
            // The server's certificate and the client's hello, remembered after the capture.
            assert_eq!(run.caches.certificates.len(), 1, "{threads} threads");
            assert_eq!(run.caches.fingerprints.len(), 1, "{threads} threads");
            analyze(
                "second",
                &bytes[..],
                &options,
                &mut run,
                &mut Kept::default(),
            )
            .unwrap();
            assert_eq!(run.caches.certificates.len(), 1, "{threads} threads");
        }
    }
}
