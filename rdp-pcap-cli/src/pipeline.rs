//! From capture bytes to connection records: capture reading, TCP reassembly, one analyzer per
//! connection, and ordered hand-off to a reporter.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Read};

use rdp_wire::analyzer::{Analyzer, CaptureFindings};
use rdp_wire::{Side, Timestamp};

use crate::capture::{self, TcpPacket};
use crate::reassembly::{
    self, FlowEnd, FlowInfo, FlowObserver, Reassembler, ReassemblyConfig, TcpEvent,
};
use crate::record::{CaptureReport, ConnectionRecord, TimelineEntry};
use crate::report::Reporter;

/// The RDP port every connection to which is reported, RDP or not.
pub const RDP_PORT: u16 = 3389;

/// What the user chose.
#[derive(Debug, Clone)]
pub struct Options {
    /// Server ports whose connections are reported even without RDP bytes (3389 always).
    pub ports: Vec<u16>,
    /// Keep each connection's timeline in its record.
    pub timeline: bool,
}

impl Options {
    /// Options with the extra ports given by `--port`.
    pub fn new(extra_ports: &[u16]) -> Self {
        let mut ports = vec![RDP_PORT];
        ports.extend_from_slice(extra_ports);
        ports.sort_unstable();
        ports.dedup();
        Options {
            ports,
            timeline: false,
        }
    }
}

/// State that spans inputs: connection ids are sequential over the whole run.
#[derive(Debug, Default)]
pub struct RunState {
    next_id: u64,
}

/// Turns reassembler callbacks into analyzer calls, and finished flows into records kept in
/// order of first packet until every earlier flow has finished too.
struct Observer {
    capture: String,
    /// With `--merge`, the merged files: segment frame numbers then carry the file they came
    /// from ([`crate::merge::tag_frame`]), and a record names the file of its first packet.
    files: Vec<String>,
    ports: Vec<u16>,
    timeline: bool,
    /// Flows opened and not closed yet, by reassembler id.
    open: BTreeSet<u64>,
    /// Finished flows waiting for earlier ones; `None` for a flow that is not reported.
    /// Boxed: a record is over a kilobyte, and B-tree nodes move their values around.
    done: BTreeMap<u64, Option<Box<ConnectionRecord>>>,
    /// Whether [`Observer::ready`] may hand out a record: set when a flow closes at the front
    /// of the order or the waiting records pass the cap, cleared by `ready`. Checked after
    /// every packet, so that `ready` runs once per finished flow rather than once per packet.
    maybe_ready: bool,
    seen: u64,
    reported: u64,
    /// Flows handed out before an earlier open one because of [`MAX_WAITING_RECORDS`].
    reported_early: u64,
    /// Connections not reported, per server port (at most 65,536 entries): where to look
    /// when a capture holds no RDP.
    unreported_ports: BTreeMap<u16, u64>,
}

/// Finished flows kept waiting for an earlier, still open one. Past this many, the oldest are
/// handed out anyway (out of first-packet order), so that one long-lived connection beside a
/// flood of short ones cannot hold every record in memory (docs/robustness.md).
const MAX_WAITING_RECORDS: usize = 16_384;

impl Observer {
    fn new(name: &str, files: Vec<String>, options: &Options) -> Self {
        Observer {
            capture: name.to_string(),
            files,
            ports: options.ports.clone(),
            timeline: options.timeline,
            open: BTreeSet::new(),
            done: BTreeMap::new(),
            maybe_ready: false,
            seen: 0,
            reported: 0,
            reported_early: 0,
            unreported_ports: BTreeMap::new(),
        }
    }

    /// Records whose every earlier flow has finished, in order (and, past
    /// [`MAX_WAITING_RECORDS`], the oldest waiting ones).
    fn ready(&mut self) -> impl Iterator<Item = Box<ConnectionRecord>> + '_ {
        self.maybe_ready = false;
        let limit = self.open.first().copied();
        let mut out = Vec::new();
        let mut waiting = self.done.len();
        while let Some(entry) = self.done.first_entry() {
            let early = limit.is_some_and(|open| *entry.key() > open);
            if early && waiting <= MAX_WAITING_RECORDS {
                break;
            }
            waiting = waiting.saturating_sub(1);
            if let Some(rec) = entry.remove() {
                if early {
                    self.reported_early = self.reported_early.saturating_add(1);
                }
                out.push(rec);
            }
        }
        out.into_iter()
    }
}

impl FlowObserver for Observer {
    type Flow = Box<Analyzer>;

    fn open(&mut self, info: &FlowInfo) -> Box<Analyzer> {
        self.seen = self.seen.saturating_add(1);
        self.open.insert(info.id);
        let mut analyzer = Box::new(Analyzer::new());
        if !info.started_with_syn {
            analyzer.mid_stream();
        }
        if !self.timeline {
            analyzer.without_timeline();
        }
        analyzer
    }

    fn event(&mut self, a: &mut Box<Analyzer>, _info: &FlowInfo, ev: TcpEvent<'_>) {
        match ev {
            TcpEvent::Syn { ts } => a.syn(ts),
            TcpEvent::SynAck { ts } => a.syn_ack(ts),
            TcpEvent::Data { side, ts, bytes, .. } => a.data(side, ts, bytes),
            TcpEvent::Gap { side, ts, len } => a.gap(side, ts, len),
            TcpEvent::Fin { side, ts } => a.fin(side, ts),
            TcpEvent::Rst { side, ts } => a.rst(side, ts),
            TcpEvent::ConflictingOverlap { side, len, .. } => a.anomaly(format!(
                "{len} retransmitted {} bytes differ from the bytes first sent; the first ones were kept",
                side.as_str()
            )),
        }
    }

    fn compare_retransmissions(&self, a: &Box<Analyzer>, side: Side) -> bool {
        !a.content_concluded(side)
    }

    /// A flow picked up mid-stream whose first payload starts like an X.224 Connection Request
    /// (a TPKT holding a CR TPDU, X.224 section 13.3) was opened by its sender: RDP's client
    /// speaks first, whatever the ports.
    fn sender_hint(&self, first_payload: &[u8]) -> Option<Side> {
        rdp_wire::x224::looks_like_connection_request(first_payload).then_some(Side::Client)
    }

    fn close(&mut self, a: Box<Analyzer>, info: &FlowInfo, reason: FlowEnd) {
        self.open.remove(&info.id);
        let reported = a.is_rdp() || self.ports.contains(&info.server.port());
        let record = reported.then(|| {
            self.reported = self.reported.saturating_add(1);
            let verdict = a.verdict();
            let findings = a.findings_for(&verdict, Some(info.server.port()));
            let events = if self.timeline {
                timeline(&a)
            } else {
                Vec::new()
            };
            let (facts, tls, _) = a.into_parts();
            let (capture, first_frame) = if self.files.is_empty() {
                (self.capture.clone(), info.first_frame)
            } else {
                let (file, frame) = crate::merge::untag_frame(info.first_frame);
                let name = self.files.get(file).unwrap_or(&self.capture);
                (name.clone(), frame)
            };
            Box::new(ConnectionRecord {
                id: 0,
                capture,
                client: info.client,
                server: info.server,
                first_frame,
                start: info.first_ts,
                last: info.last_ts,
                packets: info.packets,
                flow_end: reason,
                verdict,
                findings,
                links: Vec::new(),
                events,
                tls,
                facts,
            })
        });
        if record.is_none() {
            let n = self.unreported_ports.entry(info.server.port()).or_default();
            *n = n.saturating_add(1);
        }
        self.done.insert(info.id, record);
        let first_open = self.open.first().copied();
        let first_done = self.done.first_key_value().map(|(id, _)| *id);
        if first_done.is_some_and(|done| first_open.is_none_or(|open| done < open))
            || self.done.len() > MAX_WAITING_RECORDS
        {
            self.maybe_ready = true;
        }
    }
}

/// The analyzer's events merged with the TLS handshake milestones, in time order.
fn timeline(a: &Analyzer) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = a
        .events()
        .iter()
        .map(|e| TimelineEntry {
            at: e.at,
            side: Some(e.side),
            what: e.kind.to_string(),
        })
        .collect();
    if let Some(t) = a.tls() {
        let mut add = |at: Option<i128>, side: Option<Side>, what: String| {
            if let Some(at) = at {
                out.push(TimelineEntry {
                    at: Timestamp::from_nanos(at),
                    side,
                    what,
                });
            }
        };
        add(
            t.client_hello_ts,
            Some(Side::Client),
            "TLS ClientHello".to_string(),
        );
        let chosen = t.version.map(|v| format!(" ({v})")).unwrap_or_default();
        add(
            t.server_hello_ts,
            Some(Side::Server),
            format!("TLS ServerHello{chosen}"),
        );
        add(
            t.client_ccs_ts,
            Some(Side::Client),
            "TLS ChangeCipherSpec".to_string(),
        );
        add(
            t.server_ccs_ts,
            Some(Side::Server),
            "TLS ChangeCipherSpec".to_string(),
        );
        add(t.established_ts, None, "TLS handshake complete".to_string());
        for alert in &t.alerts {
            let what = match (alert.level, alert.description) {
                _ if alert.encrypted => "TLS alert (encrypted)".to_string(),
                (Some(l), Some(d)) => format!("TLS alert {l} {d}"),
                _ => "TLS alert".to_string(),
            };
            add(Some(alert.ts_ns), Some(alert.side), what);
        }
    }
    // Stable: events recorded at the same instant keep their order.
    out.sort_by_key(|e| e.at);
    out
}

/// Analyses one capture read from `reader`, handing records to `reporter` as they are ready.
/// Everything happens on the calling thread; [`analyze_split`] decodes on a second one.
///
/// Returns what the capture held and the problems met; an error only when writing the report
/// failed (reading then stops).
pub fn analyze(
    name: &str,
    reader: impl Read,
    options: &Options,
    run: &mut RunState,
    reporter: &mut dyn Reporter,
) -> io::Result<CaptureReport> {
    let mut out = Output::new(run, reporter);
    let analysed = analyze_records(name, reader, options, &mut |rec| out.record(rec));
    out.finish(name, analysed)
}

/// [`analyze`] with the capture read and decoded on a second thread ([`crate::split`]) while
/// this one reassembles, analyses and reports: the same records, in the same order.
///
/// Returns `None`, having read nothing, when the thread cannot be started; the caller then
/// runs [`analyze`] instead.
pub fn analyze_split<R: Read + Send>(
    name: &str,
    reader: R,
    options: &Options,
    run: &mut RunState,
    reporter: &mut dyn Reporter,
) -> Option<io::Result<CaptureReport>> {
    let mut out = Output::new(run, reporter);
    let analysed = analyze_records_split(name, reader, options, &mut |rec| out.record(rec))?;
    Some(out.finish(name, analysed))
}

/// What the analysis of one capture leaves once its records have been handed out: the input
/// to [`Output::finish`].
#[derive(Debug)]
pub struct Analysed {
    summary: capture::CaptureSummary,
    stats: reassembly::ReassemblyStats,
    seen: u64,
    reported: u64,
    reported_early: u64,
    unreported_ports: BTreeMap<u16, u64>,
}

/// Reads, reassembles and analyses one capture on the calling thread, handing each finished
/// record to `sink` in order (unnumbered). `sink` returns `false` when it wants no more:
/// reading then stops.
pub fn analyze_records(
    name: &str,
    reader: impl Read,
    options: &Options,
    sink: &mut dyn FnMut(Box<ConnectionRecord>) -> bool,
) -> Analysed {
    let mut session = Session::new(name, options, sink);
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

/// [`analyze_records`] with the capture decoded on a second thread; `None`, having read
/// nothing, when the thread cannot be started.
pub fn analyze_records_split<R: Read + Send>(
    name: &str,
    reader: R,
    options: &Options,
    sink: &mut dyn FnMut(Box<ConnectionRecord>) -> bool,
) -> Option<Analysed> {
    let mut session = Session::new(name, options, sink);
    let summary = crate::split::decode_on_thread(reader, |seg| session.push(seg))?;
    Some(session.finish(summary))
}

/// A reader that ends as soon as `stopped` is set.
pub(crate) struct StopReader<'s, R> {
    pub(crate) inner: R,
    pub(crate) stopped: &'s Cell<bool>,
}

impl<R: Read> Read for StopReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stopped.get() {
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

/// One capture's analysis: segments in, finished records out to a sink, in order.
pub(crate) struct Session<'s> {
    reassembler: Reassembler<Observer>,
    sink: &'s mut dyn FnMut(Box<ConnectionRecord>) -> bool,
    /// The sink wants no more records.
    stopped: bool,
}

impl<'s> Session<'s> {
    fn new(
        name: &str,
        options: &Options,
        sink: &'s mut dyn FnMut(Box<ConnectionRecord>) -> bool,
    ) -> Self {
        Self::merged(name, Vec::new(), options, sink)
    }

    /// The analysis of `files` read as one capture named `name`: segment frame numbers are
    /// tagged with their file ([`crate::merge::tag_frame`]).
    pub(crate) fn merged(
        name: &str,
        files: Vec<String>,
        options: &Options,
        sink: &'s mut dyn FnMut(Box<ConnectionRecord>) -> bool,
    ) -> Self {
        let observer = Observer::new(name, files, options);
        let config = ReassemblyConfig {
            known_server_ports: options.ports.clone(),
            ..Default::default()
        };
        Session {
            reassembler: Reassembler::new(config, observer),
            sink,
            stopped: false,
        }
    }

    /// Feeds one segment; `false` once the sink wants no more records.
    pub(crate) fn push(&mut self, seg: &TcpPacket<'_>) -> bool {
        self.reassembler.push(seg);
        if self.reassembler.observer().maybe_ready {
            let observer = self.reassembler.observer_mut();
            Self::hand_out(observer, self.sink, &mut self.stopped);
        }
        !self.stopped
    }

    fn hand_out(
        observer: &mut Observer,
        sink: &mut dyn FnMut(Box<ConnectionRecord>) -> bool,
        stopped: &mut bool,
    ) {
        for rec in observer.ready() {
            if !*stopped && !sink(rec) {
                *stopped = true;
            }
        }
    }

    /// The analysis once every segment was pushed: the records still waiting are handed out.
    pub(crate) fn finish(self, summary: capture::CaptureSummary) -> Analysed {
        let Session {
            reassembler,
            sink,
            mut stopped,
        } = self;
        let (mut observer, stats) = reassembler.finish();
        Self::hand_out(&mut observer, sink, &mut stopped);
        Analysed {
            summary,
            stats,
            seen: observer.seen,
            reported: observer.reported,
            reported_early: observer.reported_early,
            unreported_ports: observer.unreported_ports,
        }
    }
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
        }
    }

    /// Numbers one record, links it to the connection it retries, adds it to the capture-wide
    /// findings and writes it; `false` once writing has failed.
    pub fn record(&mut self, mut rec: Box<ConnectionRecord>) -> bool {
        rec.id = self.run.next_id;
        self.run.next_id = self.run.next_id.saturating_add(1);
        rec.links.extend(self.retries.observe(&rec));
        self.capture_findings.add(
            rec.id,
            rec.client,
            rec.server,
            &rec.facts,
            rec.tls.as_ref(),
            rec.verdict.code,
        );
        if self.write_error.is_none() {
            if let Err(e) = self.reporter.connection(&rec) {
                self.write_error = Some(e);
            }
        }
        self.write_error.is_none()
    }

    /// The capture's report, once every record was given to [`Output::record`]; the write
    /// error instead, if there was one.
    pub fn finish(self, name: &str, analysed: Analysed) -> io::Result<CaptureReport> {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::capture::TcpFlags;

    /// Frame 4 of lab/tls-ok.pcap: the client's X.224 Connection Request (cookie mstshash=alice).
    const TLS_OK_X224_CR: &[u8] = &[
        0x03, 0x00, 0x00, 0x2b, 0x26, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x6f, 0x6f, 0x6b,
        0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x68, 0x61, 0x73, 0x68, 0x3d, 0x61, 0x6c,
        0x69, 0x63, 0x65, 0x0d, 0x0a, 0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00,
    ];
    /// Frame 6 of lab/tls-ok.pcap: the server's X.224 Connection Confirm.
    const TLS_OK_X224_CC: &[u8] = &[
        0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x01, 0x08, 0x00,
        0x01, 0x00, 0x00, 0x00,
    ];

    /// The orientation hint the observer gives the reassembler for a flow picked up
    /// mid-stream: the sender of an X.224 Connection Request is the client.
    #[test]
    fn x224_detector() {
        let observer = Observer::new("test", Vec::new(), &Options::new(&[]));
        let hint = |payload: &[u8]| observer.sender_hint(payload);
        assert_eq!(hint(TLS_OK_X224_CR), Some(Side::Client));
        assert_eq!(hint(TLS_OK_X224_CC), None);
        assert_eq!(hint(&TLS_OK_X224_CR[..5]), None);
        // A TPKT too short for a CR TPDU, and a TLS record.
        assert_eq!(hint(&[0x03, 0x00, 0x00, 0x0a, 0x06, 0xe0]), None);
        assert_eq!(hint(&[0x16, 0x03, 0x01, 0x00, 0x2b, 0xe0]), None);
    }

    /// The reassembler and the observer together: a connection picked up at its X.224
    /// request, between ports that say nothing, has the request's sender for its client.
    #[test]
    fn mid_stream_x224_sender_is_client_even_on_lower_port() {
        let (client, server) = (
            "10.0.0.1:2000".parse().unwrap(),
            "10.0.0.2:40000".parse().unwrap(),
        );
        let packet = |frame: u64, from_client: bool, seq: u32, ack: u32, payload| TcpPacket {
            frame,
            ts: Timestamp::from_secs_nanos(1_700_000_000, frame),
            src: if from_client { client } else { server },
            dst: if from_client { server } else { client },
            seq,
            ack,
            flags: TcpFlags(0x18),
            window: 0,
            options: &[],
            payload,
            payload_truncated: false,
            reassembled: false,
        };
        let options = Options::new(&[]);
        let mut records = Vec::new();
        let mut sink = |rec: Box<ConnectionRecord>| {
            records.push(rec);
            true
        };
        let mut session = Session::new("test", &options, &mut sink);
        assert!(session.push(&packet(1, true, 77, 99, TLS_OK_X224_CR)));
        assert!(session.push(&packet(2, false, 99, 120, TLS_OK_X224_CC)));
        let summary = capture::CaptureSummary {
            format: capture::CaptureFormat::Unknown,
            stats: capture::CaptureStats::default(),
            problems: Vec::new(),
            tls_key_logs: Vec::new(),
            first_ts: None,
            last_ts: None,
        };
        let analysed = session.finish(summary);
        assert_eq!(analysed.seen, 1);
        assert_eq!(
            records.len(),
            1,
            "an RDP connection is reported on any port"
        );
        assert_eq!(records[0].client, client);
        assert_eq!(records[0].server, server);
        assert_eq!(records[0].flow_end, FlowEnd::EndOfCapture);
    }
}
