//! Where one capture's records go: numbered over the run, linked to the connections they
//! retry, added to the capture-wide findings and written by the reporter; then the capture's
//! own report.

use rdp_wire::Bump as _;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::Arc;

use rdp_wire::analyzer::CaptureFindings;

use crate::ahead::{Ahead, Rendered, AHEAD_RECORDS};
use crate::capture;
use crate::record::{CaptureReport, ConnectionRecord};
use crate::report::Reporter;
use crate::session::Analysed;
use rdp_wire::analyzer::Caches;

/// State that spans inputs: connection ids are sequential over the whole run, and the
/// analyzer's caches (a server's certificate summarised once) serve every capture of it.
#[derive(Debug, Default)]
pub struct RunState {
    next_id: u64,
    pub(crate) caches: Caches,
}

/// Where one capture's records go: numbered over the run, added to the capture-wide findings,
/// and written by the reporter.
pub struct Output<'r> {
    capture_findings: CaptureFindings,
    retries: crate::links::RetryTracker,
    /// The first error writing the report; nothing more is written after it.
    write_error: Option<io::Error>,
    run: &'r mut RunState,
    reporter: &'r mut dyn Reporter,
    /// Where records are rendered on the decoding thread, when they are (`crate::ahead`).
    ahead: Option<Arc<Ahead>>,
    /// The last rendered output written: the renderer fills it again.
    used: Option<Vec<u8>>,
}

impl fmt::Debug for Output<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output")
            .field("next_id", &self.run.next_id)
            .field("write_error", &self.write_error)
            .finish_non_exhaustive()
    }
}

impl<'r> Output<'r> {
    /// The output for the next capture of a run.
    pub fn new(run: &'r mut RunState, reporter: &'r mut dyn Reporter) -> Self {
        Output {
            capture_findings: CaptureFindings::new(),
            retries: crate::links::RetryTracker::new(),
            write_error: None,
            run,
            reporter,
            ahead: None,
            used: None,
        }
    }

    /// From now on, records are handed to `ahead` to be rendered, and written as they come
    /// back (in the same order).
    pub fn render_ahead(&mut self, ahead: Arc<Ahead>) {
        self.ahead = Some(ahead);
    }

    /// Numbers one record, links it to the connection it retries, adds it to the capture-wide
    /// findings and writes it; `false` once writing has failed.
    pub fn record(&mut self, mut rec: Box<ConnectionRecord>) -> bool {
        rec.id = self.run.next_id;
        self.run.next_id.bump();
        rec.links.extend(self.retries.observe(&rec));
        self.capture_findings.add(
            rec.id,
            rec.endpoints.client,
            rec.endpoints.server,
            &rec.facts,
            rec.tls.as_ref(),
            rec.verdict.code,
        );
        if self.write_error.is_none() {
            match self.ahead.take() {
                Some(ahead) => {
                    self.hand_over(&ahead, rec);
                    self.ahead = Some(ahead);
                }
                None => {
                    if let Err(e) = self.reporter.connection(&rec) {
                        self.write_error = Some(e);
                    }
                }
            }
        }
        self.write_error.is_none()
    }

    /// Writes the records that came back rendered, then hands `rec` over; writes one more
    /// (waiting for it) when [`AHEAD_RECORDS`] are out.
    fn hand_over(&mut self, ahead: &Ahead, rec: Box<ConnectionRecord>) {
        while let Some(rendered) = ahead.take(self.used.take(), false) {
            self.write_rendered(rendered);
        }
        if ahead.submit(rec) > AHEAD_RECORDS {
            if let Some(rendered) = ahead.take(self.used.take(), true) {
                self.write_rendered(rendered);
            }
        }
    }

    /// Writes a record that came back rendered (nothing once writing has failed).
    fn write_rendered(&mut self, (rec, out): Rendered) {
        if self.write_error.is_some() {
            return;
        }
        let written = match out {
            Ok(out) => {
                let written = self.reporter.rendered(&rec, &out);
                self.used = Some(out);
                written
            }
            // Written the ordinary way, which says what went wrong.
            Err(_) => self.reporter.connection(&rec),
        };
        if let Err(e) = written {
            self.write_error = Some(e);
        }
    }

    /// The capture's report, once every record was given to [`Output::record`]; the write
    /// error instead, if there was one.
    pub fn finish(mut self, name: &str, analysed: Analysed) -> io::Result<CaptureReport> {
        if let Some(ahead) = self.ahead.take() {
            while let Some(rendered) = ahead.take(self.used.take(), true) {
                self.write_rendered(rendered);
            }
        }
        if let Some(e) = self.write_error {
            return Err(e);
        }
        let mut report = capture_report(name, &analysed);
        report.findings = self.capture_findings.finish();
        Ok(report)
    }
}

fn capture_report(name: &str, analysed: &Analysed) -> CaptureReport {
    let Analysed { summary, stats, .. } = analysed;
    let s = &summary.stats;
    let counters: Vec<(&'static str, u64)> = [
        ("duplicate_packets", s.duplicate_packets),
        ("ip_fragments_reassembled", s.ip_fragments_reassembled),
        ("ip_fragments_dropped", s.ip_fragments_dropped),
        ("out_of_order_segments", stats.segments_buffered_ooo),
        ("retransmitted_segments", stats.retransmitted_segments),
        ("late_segments", stats.late_segments),
        (
            "retransmissions_not_compared",
            stats.retransmissions_not_compared,
        ),
        ("conflicting_overlaps", stats.conflicting_overlaps),
        ("stray_packets_after_close", stats.stray_packets_after_close),
        ("connections_idle_closed", stats.flows_idle_closed),
        ("connections_reported_out_of_order", analysed.reported_early),
        ("rsts_in_window_ignored", stats.rsts_in_window_ignored),
        ("rsts_out_of_window", stats.rsts_out_of_window),
        ("stray_syns", stats.stray_syns),
    ]
    .into_iter()
    .filter(|(_, v)| *v > 0)
    .collect();
    CaptureReport {
        capture: name.to_string(),
        format: match summary.format {
            capture::CaptureFormat::Unknown => None,
            capture::CaptureFormat::Pcap { .. } => Some("pcap".to_string()),
            capture::CaptureFormat::PcapNg { .. } => Some("pcapng".to_string()),
        },
        compression: None,
        merged_from: Vec::new(),
        packets: s.packets,
        bytes: s.bytes,
        tcp_packets: s.tcp_packets,
        other_packets: s.non_tcp_packets,
        unusable_packets: s
            .undecodable_packets
            .saturating_add(s.unknown_linktype_packets),
        truncated_packets: s.truncated_packets,
        bytes_lost: stats.bytes_lost_in_gaps,
        connections_seen: analysed.seen,
        connections_reported: analysed.reported,
        connections_evicted: stats.flows_evicted,
        counters,
        problems: summary.problems.iter().map(|p| p.to_string()).collect(),
        findings: Vec::new(),
        unreported_ports: busiest(&analysed.unreported_ports),
    }
}

/// Server ports listed in a capture report: the busiest few.
const BUSIEST_PORTS: usize = 5;

/// The [`BUSIEST_PORTS`] ports with the most connections, busiest first (then by port).
fn busiest(ports: &BTreeMap<u16, u64>) -> Vec<(u16, u64)> {
    let mut list: Vec<(u16, u64)> = ports.iter().map(|(p, n)| (*p, *n)).collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    list.truncate(BUSIEST_PORTS);
    list
}
