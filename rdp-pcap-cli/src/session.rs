//! One capture's analysis: TCP segments in, connection records out, in order of first packet.
//!
//! A `Session` owns the TCP reassembler and its RDP-aware observer, which opens one analyzer
//! per connection, feeds it the reassembled streams, gives the reassembler its orientation
//! hint, and turns each finished connection into a [`ConnectionRecord`] for the sink. Where the
//! segments come from (this thread or the decoder's) and where the records go (the output) is
//! the caller's business.

use rdp_wire::Bump as _;
use rdp_wire::Saturate as _;
use std::collections::{BTreeMap, BTreeSet};

use rdp_wire::analyzer::{format_ms, Analyzer, Caches, Count, Coverage};
use rdp_wire::Side;

use crate::capture::{CaptureSummary, TcpPacket};
use crate::reassembly::{
    AfterClose, FlowEnd, FlowInfo, FlowObserver, Ignored, Reassembler, ReassemblyConfig,
    ReassemblyStats, TcpEvent,
};
use crate::record::{ConnectionRecord, TimelineEntry};

/// Bits of a tagged frame number that hold the frame number within its file.
const FRAME_BITS: u32 = 40;
/// The largest frame number a tag keeps (about 10^12: a file of that many records is over
/// 16 TiB); larger ones are clamped.
const MAX_FRAME: u64 = (1 << FRAME_BITS) - 1;
/// The largest file index a tag keeps (16,777,215); later files are clamped to it.
const MAX_FILE: u64 = (1 << (64 - FRAME_BITS)) - 1;

/// A frame number that says which file (`file`, in the order given) it is in.
pub fn tag_frame(file: usize, frame: u64) -> u64 {
    let file: u64 = file.saturate();
    let file = file.min(MAX_FILE);
    (file << FRAME_BITS) | frame.min(MAX_FRAME)
}

/// The file and frame number of a [`tag_frame`] tag.
pub fn untag_frame(tagged: u64) -> (usize, u64) {
    let file = (tagged >> FRAME_BITS).saturate();
    (file, tagged & MAX_FRAME)
}

/// Nanoseconds as milliseconds, for [`format_ms`].
fn ms(ns: i64) -> f64 {
    rdp_wire::Timestamp(ns).millis_since(rdp_wire::Timestamp(0))
}

/// The anomaly a packet the reassembler ignored ([`TcpEvent::Ignored`]) adds to its connection.
fn ignored_text(side: Side, what: Ignored) -> String {
    let side = side.as_str();
    match what {
        Ignored::RstInWindow { distance } => format!(
            "{side} RST ignored: its sequence number is {distance} bytes from the next expected one, inside the receive window (RFC 5961 3.2: a receiver challenges it and the connection goes on)"
        ),
        Ignored::RstOutOfWindow { distance } => format!(
            "{side} RST ignored: its sequence number is outside the receive window ({distance} bytes from the next expected one)"
        ),
        Ignored::StraySyn => format!(
            "{side} SYN with another sequence number inside the live connection ignored (injected or stray: RFC 5961 4, the connection goes on)"
        ),
    }
}

/// Turns reassembler callbacks into analyzer calls, and finished flows into records kept in
/// order of first packet until every earlier flow has finished too.
struct Observer {
    capture: String,
    /// With `--merge`, the merged files: segment frame numbers then carry the file they came
    /// from ([`tag_frame`]), and a record names the file of its first packet.
    files: Vec<String>,
    ports: Vec<u16>,
    timeline: bool,
    /// Certificate summaries and ClientHello fingerprints, lent to every analyzer; the run's
    /// (`RunState`), given back in [`Analysed`] so that the next capture starts warm.
    caches: Caches,
    /// Flows opened and not closed yet, by reassembler id.
    open: BTreeSet<u64>,
    /// The reassembler's idle timeout, to say how a long silence compares with it.
    idle_timeout_ns: i64,
    /// Finished flows waiting for earlier ones (or for what comes after their close, see
    /// [`Waiting::lingering`]).
    done: BTreeMap<u64, Waiting>,
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
    /// Analyzers of closed flows, emptied, for the next flows to open: an analyzer is over a
    /// kilobyte and a half, too big for the allocator's per-thread caches, and a capture opens
    /// and closes flows all the time. At most [`SPARE_ANALYZERS`]. Boxes, because the boxes
    /// are what is reused: a flow's analyzer is a `Box<Analyzer>`.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<Analyzer>>,
}

/// Emptied analyzers kept for reuse ([`Observer::spare`]): enough for a burst of closes.
const SPARE_ANALYZERS: usize = 64;

/// A finished flow waiting to be handed out.
struct Waiting {
    /// Closed (FIN or RST) after carrying data, for a few seconds of capture time
    /// ([`crate::reassembly::AFTER_CLOSE_REPORT_NS`]): the record waits for
    /// [`FlowObserver::after_close`], which says what came after the close, unless more than
    /// [`MAX_WAITING_RECORDS`] wait. A flag beside the record rather than a set of its own:
    /// one B-tree insert and remove less per closed flow.
    lingering: bool,
    /// `None` for a flow that is not reported. Boxed: a record is over a kilobyte, and B-tree
    /// nodes move their values around.
    record: Option<Box<ConnectionRecord>>,
}

/// Finished flows kept waiting for an earlier, still open one. Past this many, the oldest are
/// handed out anyway (out of first-packet order), so that one long-lived connection beside a
/// flood of short ones cannot hold every record in memory (docs/robustness.md).
const MAX_WAITING_RECORDS: usize = 16_384;

impl Observer {
    fn new(name: &str, files: Vec<String>, ports: &[u16], timeline: bool, caches: Caches) -> Self {
        Observer {
            capture: name.to_string(),
            files,
            ports: ports.to_vec(),
            timeline,
            caches,
            open: BTreeSet::new(),
            idle_timeout_ns: ReassemblyConfig::default().idle_timeout_ns,
            done: BTreeMap::new(),
            maybe_ready: false,
            seen: 0,
            reported: 0,
            reported_early: 0,
            unreported_ports: BTreeMap::new(),
            spare: Vec::new(),
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
            let id = *entry.key();
            let early = limit.is_some_and(|open| id > open);
            // Handed out before its linger ended (past the cap), what comes after the close
            // is not told: the entry, flag and all, is gone.
            let lingering = entry.get().lingering;
            if (early || lingering) && waiting <= MAX_WAITING_RECORDS {
                break;
            }
            waiting = waiting.saturating_sub(1);
            if let Some(rec) = entry.remove().record {
                if early {
                    self.reported_early.bump();
                }
                out.push(rec);
            }
        }
        out.into_iter()
    }
}

impl Observer {
    /// The events that become an anomaly line (a conflicting copy, a segment ignored, a long
    /// silence): rare, and formatted, so out of line, away from the per-segment path that
    /// every [`FlowObserver::event`] call site inlines.
    #[cold]
    #[inline(never)]
    fn rare_event(&self, a: &mut Analyzer, ev: TcpEvent<'_>) {
        match ev {
            TcpEvent::ConflictingOverlap {
                side,
                len,
                offset,
                copy,
                ip_fragments: false,
                ..
            } => {
                // The other copy is read for findings; what differs is named when it is a
                // Connection Request, else where.
                let text = match a.conflicting_copy(side, copy) {
                    Some(differences) => format!(
                        "{side} retransmission carries another X.224 Connection Request ({differences}); the first one was kept"
                    ),
                    None => format!(
                        "{len} retransmitted {side} bytes differ from the bytes first sent (a {}-byte copy at stream offset {offset}); the first ones were kept",
                        copy.len()
                    ),
                };
                a.anomaly(text);
            }
            TcpEvent::ConflictingOverlap {
                side,
                len,
                offset,
                copy,
                ip_fragments: true,
                ..
            } => {
                // The earlier fragments' bytes are read for findings as a retransmission's are.
                let text = match a.conflicting_copy(side, copy) {
                    Some(differences) => format!(
                        "{side} IP fragments overlap with another X.224 Connection Request ({differences}); the later fragments' bytes were kept"
                    ),
                    None => format!(
                        "{len} {side} bytes of overlapping IP fragments differ from an earlier fragment's (a {}-byte segment at stream offset {offset}); the later ones were kept",
                        copy.len()
                    ),
                };
                a.anomaly(text);
            }
            TcpEvent::Ignored { side, what, .. } => a.anomaly(ignored_text(side, what)),
            TcpEvent::Resumed { silent_ns, .. } => a.anomaly(format!(
                "no packet for {}, longer than the {} idle timeout; the connection went on after it",
                format_ms(ms(silent_ns)),
                format_ms(ms(self.idle_timeout_ns)),
            )),
            TcpEvent::Syn { .. }
            | TcpEvent::SynAck { .. }
            | TcpEvent::Data { .. }
            | TcpEvent::Gap { .. }
            | TcpEvent::Fin { .. }
            | TcpEvent::Rst { .. } => {}
        }
    }
}

impl FlowObserver for Observer {
    type Flow = Box<Analyzer>;

    fn open(&mut self, info: &FlowInfo) -> Box<Analyzer> {
        self.seen.bump();
        self.open.insert(info.id);
        let mut analyzer = self
            .spare
            .pop()
            .unwrap_or_else(|| Box::new(Analyzer::new()));
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
            TcpEvent::Data {
                side, ts, bytes, ..
            } => a.data_cached(side, ts, bytes, &mut self.caches),
            TcpEvent::Gap { side, ts, len } => a.gap(side, ts, len),
            TcpEvent::Fin { side, ts } => a.fin(side, ts),
            TcpEvent::Rst { side, ts } => a.rst(side, ts),
            rare => self.rare_event(a, rare),
        }
    }

    fn compare_retransmissions(&self, a: &Box<Analyzer>, side: Side) -> bool {
        !a.content_concluded(side)
    }

    /// A flow picked up mid-stream is oriented by who sends which PDU, whatever the ports
    /// ([`rdp_wire::x224::sender_by_content`]): an X.224 Connection Request, an MCS
    /// Connect-Initial or a TLS ClientHello comes from the client; a Connection Confirm, an MCS
    /// Connect-Response or a TLS ServerHello from the server.
    fn sender_hint(&self, first_payload: &[u8]) -> Option<Side> {
        rdp_wire::x224::sender_by_content(first_payload)
    }

    /// Packets after the close are a line of the connection's block (an anomaly): data sent
    /// after a FIN or RST was never analysed, and a RST or FIN repeated late says the peer did
    /// not take the close.
    fn after_close(&mut self, id: u64, late: &AfterClose) {
        let Some(waiting) = self.done.get_mut(&id).filter(|w| w.lingering) else {
            return;
        };
        waiting.lingering = false;
        self.maybe_ready = true;
        if late.packets == 0 {
            return;
        }
        if let Some(rec) = waiting.record.as_mut() {
            let data = if late.bytes > 0 {
                format!(", {} bytes of data not analysed", late.bytes)
            } else {
                String::new()
            };
            rec.facts.anomalies.push(format!(
                "{} after the connection was closed{data}, the last {} after the close; ignored",
                Count(late.packets.saturate(), "packet"),
                format_ms(ms(late.last_after_ns)),
            ));
        }
    }

    fn close(&mut self, mut a: Box<Analyzer>, info: &FlowInfo, reason: FlowEnd) {
        self.open.remove(&info.id);
        let lingering = info.told_after_close(reason);
        a.coverage(Coverage {
            packets: info.packets,
            acked_unseen: info.acked_unseen,
            observed_until: info.seen_until,
        });
        a.note_server_port(info.endpoints.server.port());
        // Through a proxy tunnel, the RDP server's port is the tunnel's target, not the
        // proxy's: a refused tunnel to a reported port is an RDP attempt that failed.
        let tunnel_port = a.facts().tunnel.as_ref().and_then(|t| t.target_port);
        let reported = a.is_rdp()
            || self.ports.contains(&info.endpoints.server.port())
            || tunnel_port.is_some_and(|p| self.ports.contains(&p));
        let record = reported.then(|| {
            self.reported.bump();
            let verdict = a.verdict();
            let server_port = tunnel_port.unwrap_or(info.endpoints.server.port());
            let findings = a.findings_for(&verdict, Some(server_port));
            let events = if self.timeline {
                timeline(&a)
            } else {
                Vec::new()
            };
            // Emptied in place: the box goes back to `spare` below.
            let (facts, tls, _) = std::mem::take(&mut *a).into_parts();
            let (capture, first_frame) = if self.files.is_empty() {
                (self.capture.clone(), info.first_frame)
            } else {
                let (file, frame) = untag_frame(info.first_frame);
                let name = self.files.get(file).unwrap_or(&self.capture);
                (name.clone(), frame)
            };
            Box::new(ConnectionRecord {
                id: 0,
                capture,
                endpoints: info.endpoints,
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
            let n = self
                .unreported_ports
                .entry(info.endpoints.server.port())
                .or_default();
            n.bump();
            *a = Analyzer::new();
        }
        if self.spare.len() < SPARE_ANALYZERS {
            self.spare.push(a);
        }
        self.done.insert(info.id, Waiting { lingering, record });
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
    a.timeline()
}

/// What the analysis of one capture leaves once its records have been handed out: the input
/// to [`crate::output::Output::finish`].
#[derive(Debug)]
pub struct Analysed {
    pub(crate) summary: CaptureSummary,
    pub(crate) stats: ReassemblyStats,
    /// Connections seen, reported, and reported out of first-packet order.
    pub(crate) seen: u64,
    pub(crate) reported: u64,
    pub(crate) reported_early: u64,
    /// Connections not reported, per server port.
    pub(crate) unreported_ports: BTreeMap<u16, u64>,
    /// The caches the session was lent, to be given to the next one.
    pub(crate) caches: Caches,
}

/// One capture's analysis: segments in, finished records out to a sink, in order.
pub(crate) struct Session<'s> {
    reassembler: Reassembler<Observer>,
    sink: &'s mut dyn FnMut(Box<ConnectionRecord>) -> bool,
    /// The sink wants no more records.
    stopped: bool,
}

impl<'s> Session<'s> {
    /// The analysis of the capture named `name`, reporting the connections RDP or to one of
    /// `ports`, with their timelines when `timeline`.
    pub(crate) fn new(
        name: &str,
        ports: &[u16],
        timeline: bool,
        caches: Caches,
        sink: &'s mut dyn FnMut(Box<ConnectionRecord>) -> bool,
    ) -> Self {
        Self::merged(name, Vec::new(), ports, timeline, caches, sink)
    }

    /// The analysis of `files` read as one capture named `name`: segment frame numbers are
    /// tagged with their file ([`tag_frame`]).
    pub(crate) fn merged(
        name: &str,
        files: Vec<String>,
        ports: &[u16],
        timeline: bool,
        caches: Caches,
        sink: &'s mut dyn FnMut(Box<ConnectionRecord>) -> bool,
    ) -> Self {
        let observer = Observer::new(name, files, ports, timeline, caches);
        let config = ReassemblyConfig {
            known_server_ports: ports.to_vec(),
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
    pub(crate) fn finish(self, summary: CaptureSummary) -> Analysed {
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
            caches: observer.caches,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::capture::TcpFlags;
    use rdp_wire::Timestamp;

    #[test]
    fn tags_keep_file_and_frame() {
        for (file, frame) in [(0, 1), (1, 1), (199, 123_456), (7, MAX_FRAME)] {
            assert_eq!(untag_frame(tag_frame(file, frame)), (file, frame));
        }
        assert_eq!(untag_frame(tag_frame(3, u64::MAX)), (3, MAX_FRAME));
        assert_eq!(untag_frame(tag_frame(usize::MAX, 5)).1, 5);
    }

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
        let observer = Observer::new("test", Vec::new(), &[3389], false, Caches::new());
        let hint = |payload: &[u8]| observer.sender_hint(payload);
        assert_eq!(hint(TLS_OK_X224_CR), Some(Side::Client));
        assert_eq!(hint(TLS_OK_X224_CC), Some(Side::Server));
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
            fragment_conflicts: 0,
            fragment_copy: false,
        };
        let mut records = Vec::new();
        let mut sink = |rec: Box<ConnectionRecord>| {
            records.push(rec);
            true
        };
        let mut session = Session::new("test", &[3389], false, Caches::new(), &mut sink);
        assert!(session.push(&packet(1, true, 77, 99, TLS_OK_X224_CR)));
        assert!(session.push(&packet(2, false, 99, 120, TLS_OK_X224_CC)));
        let summary = CaptureSummary {
            format: crate::capture::CaptureFormat::Unknown,
            stats: crate::capture::CaptureStats::default(),
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
        assert_eq!(records[0].endpoints.client, client);
        assert_eq!(records[0].endpoints.server, server);
        assert_eq!(records[0].flow_end, FlowEnd::EndOfCapture);
    }
}
