//! The per-connection analyzer: two byte streams in, facts, events and a verdict out.
//!
//! An [`Analyzer`] follows one TCP connection. The caller reassembles TCP itself (or uses
//! `rdp-pcap`'s reassembler) and reports what it sees, in capture order:
//!
//! - [`Analyzer::syn`], [`Analyzer::syn_ack`]: the TCP handshake, when seen;
//! - [`Analyzer::data`]: in-order payload bytes of one direction, in any chunking;
//! - [`Analyzer::gap`]: bytes the capture missed in one direction;
//! - [`Analyzer::fin`], [`Analyzer::rst`]: a side closing.
//!
//! Then [`Analyzer::facts`], [`Analyzer::events`] and [`Analyzer::verdict`] say what happened.
//!
//! Each direction is classified by its first bytes: TPKT (X.224 and MCS), TLS records (after a
//! Connection Confirm that selected a TLS-based protocol, or a capture that starts after one), or
//! foreign bytes (not RDP). Partial frames are buffered per direction, bounded by the largest
//! frame the protocol allows; complete frames are parsed in place, without copying.

mod cache;
mod copies;
mod facts;
mod findings;
mod mcs;
mod scan;
mod timeline;
pub mod tls;
mod tunnel;
mod verdict;

pub use facts::{
    Close, CloseKind, Confirm, ConnectionFacts, Coverage, ForeignBytes, LicenseError,
    McsDisconnect, McsFacts, SideStats, StandardSecurity, TunnelAnswer, TunnelFacts, TunnelKind,
    X224Facts, FOREIGN_PREFIX_LEN, MAX_ANOMALIES, MAX_CAVEATS,
};
pub use findings::{
    clock_doubt, CLOCK_BEFORE_NOT_BEFORE_MARGIN_S, CLOCK_EARLIEST_PLAUSIBLE,
    CLOCK_EARLIEST_PLAUSIBLE_TLS13, CLOCK_LATEST_PLAUSIBLE,
};
pub use findings::{
    CaptureFinding, CaptureFindings, Finding, FindingCode, BRUTE_FORCE_MIN_CONNECTIONS,
    BRUTE_FORCE_MIN_USERS, BRUTE_FORCE_WINDOW_MS, MIN_RSA_BITS, PASSWORD_SPRAY_MAX_ATTEMPTS,
    PASSWORD_SPRAY_MIN_TARGETS, PASSWORD_SPRAY_WINDOW_MS, RDP_DEFAULT_PORT,
};
pub use scan::{
    SCAN_MAX_CLIENTS, SCAN_MAX_LISTED, SCAN_MIN_BLUEKEEP, SCAN_MIN_CONNECTIONS,
    SCAN_MIN_CONNECTIONS_ONE_TARGET, SCAN_MIN_PROBE_SETTINGS, SCAN_WINDOW_MS,
};
pub use verdict::{
    failure_meaning, format_ms, Count, Phase, Severity, Verdict, VerdictCode,
    CLOSED_EARLY_WINDOW_MS, CREDSSP_MAX_RECORDS, DPU_PLAINTEXT_LEN, MID_STREAM_MIN_FRAMES,
    SECURITY_MISMATCH_WINDOW_MS, SESSION_MIN_MS, SESSION_MIN_SERVER_BYTES,
    SESSION_MIN_SERVER_RECORDS, SILENCE_MIN_MS, SYN_RETRY_MS, VERSION_REFUSAL_WINDOW_MS,
};

pub use cache::{
    Caches, CertificateCache, FingerprintCache, CERTIFICATE_ENTRIES, CERTIFICATE_MAX_DER,
    FINGERPRINT_ENTRIES, FINGERPRINT_MAX_KEY,
};
pub use timeline::TimelineEntry;
pub use tls::{AlertEvent, AlertPhase, DecoderLimit, RecordSeen, TlsFacts, TlsTracker};
pub use tunnel::RD_GATEWAY_PORT;

use crate::tls::record::looks_like_tls_record;
use crate::values::hex_lower;
use crate::x224::{self, NegotiationResult, RequestToken, Tpdu};
use crate::Bump as _;
use crate::Error;
use crate::Saturate as _;
use crate::{fastpath, tpkt};
use crate::{Side, Timestamp};

/// How many events are kept per connection; later ones are counted, not stored.
pub const MAX_EVENTS: usize = 256;

/// What happened on a connection, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// The client's SYN.
    Syn,
    /// The server's SYN-ACK.
    SynAck,
    /// An X.224 Connection Request.
    ConnectionRequest,
    /// An X.224 Connection Confirm with RDP_NEG_RSP or none (legacy).
    ConnectionConfirm,
    /// An X.224 Connection Confirm with RDP_NEG_FAILURE.
    NegotiationFailure,
    /// An X.224 Data TPDU carrying `len` bytes (an MCS PDU).
    X224Data {
        /// User data length.
        len: usize,
    },
    /// An MCS Connect Initial.
    McsConnectInitial,
    /// An MCS Connect Response.
    McsConnectResponse,
    /// An MCS Disconnect Provider Ultimatum.
    McsDisconnect,
    /// An X.224 Disconnect Request.
    X224Disconnect,
    /// An X.224 TPDU Error.
    X224Error,
    /// The direction switched to TLS records.
    TlsStart,
    /// Clear-text TPKT where TLS records were expected (a server answering a ClientHello
    /// with an MCS Disconnect Provider Ultimatum, for example).
    ClearTextInTls,
    /// Bytes that are not RDP.
    ForeignBytes,
    /// A frame or PDU that could not be parsed.
    Malformed,
    /// `len` bytes missing from the capture.
    Gap {
        /// Missing bytes.
        len: u64,
    },
    /// A FIN.
    Fin,
    /// A RST.
    Rst,
    /// The client asked a proxy for a tunnel (SOCKS request, HTTP CONNECT).
    TunnelRequest,
    /// The proxy answered the tunnel request.
    TunnelAnswer {
        /// Whether the tunnel was opened.
        granted: bool,
    },
}

impl core::fmt::Display for EventKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EventKind::Syn => f.write_str("SYN"),
            EventKind::SynAck => f.write_str("SYN-ACK"),
            EventKind::ConnectionRequest => f.write_str("X.224 Connection Request"),
            EventKind::ConnectionConfirm => f.write_str("X.224 Connection Confirm"),
            EventKind::NegotiationFailure => {
                f.write_str("X.224 Connection Confirm (RDP_NEG_FAILURE)")
            }
            EventKind::X224Data { len } => write!(f, "X.224 Data ({len} bytes)"),
            EventKind::McsConnectInitial => f.write_str("MCS Connect Initial"),
            EventKind::McsConnectResponse => f.write_str("MCS Connect Response"),
            EventKind::McsDisconnect => f.write_str("MCS Disconnect Provider Ultimatum"),
            EventKind::X224Disconnect => f.write_str("X.224 Disconnect Request"),
            EventKind::X224Error => f.write_str("X.224 TPDU Error"),
            EventKind::TlsStart => f.write_str("TLS records start"),
            EventKind::ClearTextInTls => f.write_str("clear-text TPKT where TLS was expected"),
            EventKind::ForeignBytes => f.write_str("bytes that are not RDP"),
            EventKind::Malformed => f.write_str("malformed PDU"),
            EventKind::Gap { len } => write!(f, "{len} bytes missing from the capture"),
            EventKind::Fin => f.write_str("FIN"),
            EventKind::Rst => f.write_str("RST"),
            EventKind::TunnelRequest => f.write_str("proxy tunnel request"),
            EventKind::TunnelAnswer { granted: true } => f.write_str("proxy tunnel opened"),
            EventKind::TunnelAnswer { granted: false } => f.write_str("proxy tunnel refused"),
        }
    }
}

/// One entry of a connection's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When it was seen.
    pub at: Timestamp,
    /// Who sent it.
    pub side: Side,
    /// What it was.
    pub kind: EventKind,
}

/// How one direction's bytes are being decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing seen yet: classify the first bytes.
    Start,
    /// TPKT frames (X.224, MCS).
    Tpkt,
    /// TLS records.
    Tls,
    /// Not decodable any more (foreign bytes, a gap, a framing error): bytes are only counted.
    Opaque,
    /// A proxy preamble before RDP (`tunnel.rs`).
    Tunnel,
}

/// The decoding state of one direction.
#[derive(Debug, Clone)]
struct DirectionDecoder {
    mode: Mode,
    /// Bytes of a frame that is not complete yet. Bounded by [`tpkt::MAX_FRAME_LEN`].
    pending: Vec<u8>,
    /// Bytes of an oversized TLS record still to skip (a decoder limit, see
    /// [`tls::DecoderLimit`]).
    skip: usize,
}

impl Default for DirectionDecoder {
    fn default() -> Self {
        DirectionDecoder {
            mode: Mode::Start,
            pending: Vec::new(),
            skip: 0,
        }
    }
}

/// Follows one RDP connection; see the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct Analyzer {
    facts: ConnectionFacts,
    /// Created when the first TLS record is expected or seen.
    tls: Option<TlsTracker>,
    decoders: [DirectionDecoder; 2],
    events: Vec<Event>,
    events_dropped: u32,
    /// No timeline is wanted: events are not kept (see [`Analyzer::without_timeline`]).
    no_timeline: bool,
    /// The proxy preamble message each direction expects next (client first); `None` outside a
    /// preamble.
    tunnel_expect: [Option<crate::tunnel::Message>; 2],
    /// Bytes of each direction's incomplete preamble message already searched for its end.
    tunnel_searched: [usize; 2],
}

impl Analyzer {
    /// A fresh analyzer for a connection whose TCP handshake will be reported (or was missed:
    /// call [`Analyzer::mid_stream`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps no timeline: [`Analyzer::events`] stays empty. The facts, verdict and findings do
    /// not depend on it, and a caller that does not show the timeline saves up to
    /// [`MAX_EVENTS`] events per live connection (8 KiB each: half a GiB at 65,536 live
    /// connections).
    pub fn without_timeline(&mut self) {
        self.no_timeline = true;
        self.events = Vec::new();
    }

    /// Marks the connection as picked up mid-stream: its TCP handshake is not in the capture.
    pub fn mid_stream(&mut self) {
        self.facts.mid_stream = true;
    }

    /// What the capture showed of the connection beyond its bytes (packets per side, bytes
    /// acknowledged but never seen, how long the capture went on), from the caller's TCP layer
    /// when the flow ends and before [`Analyzer::verdict`]: without it the verdict cannot tell
    /// a one-sided or short capture from a silent peer, and assumes both directions were seen.
    pub fn coverage(&mut self, coverage: Coverage) {
        self.facts.coverage = Some(coverage);
    }

    /// The client's SYN (each retransmission too). It puts the handshake in the capture, also
    /// when it was captured after the data it precedes (a reordered capture of a connection
    /// first taken for one picked up mid-stream).
    pub fn syn(&mut self, at: Timestamp) {
        self.touch(at);
        self.facts.mid_stream = false;
        self.facts.syn_count.bump();
        if self.facts.syn_at.is_none() {
            self.facts.syn_at = Some(at);
            self.event(at, Side::Client, EventKind::Syn);
        }
    }

    /// The server's SYN-ACK.
    pub fn syn_ack(&mut self, at: Timestamp) {
        self.touch(at);
        if self.facts.syn_ack_at.is_none() {
            self.facts.syn_ack_at = Some(at);
            self.event(at, Side::Server, EventKind::SynAck);
        }
    }

    /// A FIN from `side`.
    pub fn fin(&mut self, side: Side, at: Timestamp) {
        self.touch(at);
        let stats = self.facts.side_mut(side);
        if stats.fin_at.is_none() {
            stats.fin_at = Some(at);
            self.event(at, side, EventKind::Fin);
        }
        self.partial_frame_at_close(side);
        self.closed(side, CloseKind::Fin, at);
    }

    /// A RST from `side`.
    pub fn rst(&mut self, side: Side, at: Timestamp) {
        self.touch(at);
        let stats = self.facts.side_mut(side);
        if stats.rst_at.is_none() {
            stats.rst_at = Some(at);
            self.event(at, side, EventKind::Rst);
        }
        // A reset ends both directions.
        self.partial_frame_at_close(side);
        self.partial_frame_at_close(side.peer());
        self.closed(side, CloseKind::Rst, at);
    }

    /// A direction that ends inside a frame says so, once: otherwise a frame header claiming
    /// 65,535 bytes followed by a close would leave no trace in the report.
    fn partial_frame_at_close(&mut self, side: Side) {
        let stream = self.decoder_mut(side);
        let n = stream.pending.len();
        if n > 0 {
            stream.pending = Vec::new();
            self.facts.anomaly(format!(
                "{} stream ended inside a frame: {n} bytes of an incomplete frame were never completed",
                side.as_str()
            ));
        }
    }

    /// `len` bytes of `side`'s stream are missing from the capture. Decoding of that direction
    /// stops: frame boundaries after a hole cannot be trusted.
    pub fn gap(&mut self, side: Side, at: Timestamp, len: u64) {
        self.touch(at);
        let stats = self.facts.side_mut(side);
        stats.gap_bytes.bump_by(len);
        self.event(at, side, EventKind::Gap { len });
        if let Some(tls) = self.tls.as_mut() {
            tls.gap(side, len);
        }
        let stream = self.decoder_mut(side);
        if stream.mode != Mode::Opaque {
            stream.mode = Mode::Opaque;
            stream.pending = Vec::new();
            self.facts.anomaly(format!(
                "{len} bytes of the {} stream missing from the capture; its decoding stops there",
                side.as_str()
            ));
        }
    }

    /// In-order payload bytes from `side`.
    pub fn data(&mut self, side: Side, at: Timestamp, bytes: &[u8]) {
        self.data_with(side, at, bytes, None);
    }

    /// [`Analyzer::data`], with caches the caller owns and shares across connections (see
    /// [`Caches`]): the same facts, sooner when connections share certificates and clients.
    pub fn data_cached(&mut self, side: Side, at: Timestamp, bytes: &[u8], caches: &mut Caches) {
        self.data_with(side, at, bytes, Some(caches));
    }

    fn data_with(
        &mut self,
        side: Side,
        at: Timestamp,
        bytes: &[u8],
        mut caches: Option<&mut Caches>,
    ) {
        if bytes.is_empty() {
            return;
        }
        self.touch(at);
        let handshake_done = self
            .facts
            .x224
            .as_ref()
            .is_some_and(|x| x.confirm.is_some());
        let stats = self.facts.side_mut(side);
        let len = bytes.len().saturate();
        stats.bytes.bump_by(len);
        stats.first_data_at.get_or_insert(at);
        stats.last_data_at = Some(at);
        if handshake_done {
            stats.bytes_after_handshake.bump_by(len);
        }
        if self.decoder_mut(side).mode == Mode::Opaque {
            return;
        }
        let mut pending = std::mem::take(&mut self.decoder_mut(side).pending);
        if pending.is_empty() {
            let rest = self.consume(side, at, bytes, caches.as_deref_mut());
            pending.extend_from_slice(rest);
        } else {
            pending.extend_from_slice(bytes);
            let used = pending
                .len()
                .saturating_sub(self.consume(side, at, &pending, caches).len());
            pending.drain(..used);
        }
        let stream = self.decoder_mut(side);
        if stream.mode != Mode::Opaque {
            stream.pending = pending;
        }
    }

    /// Records a problem the caller found below this layer (for example a retransmission
    /// whose bytes differ from the original), so that it is reported with the connection.
    pub fn anomaly(&mut self, text: String) {
        self.facts.anomaly(text);
    }

    /// The facts gathered so far.
    pub fn facts(&self) -> &ConnectionFacts {
        &self.facts
    }

    /// What the TLS layer learnt; `None` when no TLS record was seen or expected.
    pub fn tls(&self) -> Option<&TlsFacts> {
        self.tls.as_ref().map(TlsTracker::facts)
    }

    /// The timeline, at most [`MAX_EVENTS`] entries.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The timeline: the [`Analyzer::events`] and the TLS handshake milestones (ClientHello,
    /// ServerHello, ChangeCipherSpec, handshake complete, every alert) merged in time order.
    /// After [`Analyzer::without_timeline`] it holds only the TLS milestones.
    ///
    /// ```
    /// use rdp_wire::analyzer::Analyzer;
    /// use rdp_wire::{Side, Timestamp};
    ///
    /// // lab/nla-ok.pcap frame 4: a Connection Request for SSL|HYBRID; lab/neg-nla-vs-xrdp.pcap
    /// // frame 6: the confirm selecting SSL; cipher-mismatch.pcap frame 9: xrdp's alert.
    /// let request = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x03\x00\x00\x00";
    /// let confirm = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x01\x00\x00\x00";
    /// let alert = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];
    ///
    /// let mut conn = Analyzer::new();
    /// conn.data(Side::Client, Timestamp(1_000), request);
    /// conn.data(Side::Server, Timestamp(2_000), confirm);
    /// conn.data(Side::Server, Timestamp(3_000), &alert);
    /// let what: Vec<String> = conn.timeline().into_iter().map(|e| e.what).collect();
    /// assert_eq!(
    ///     what,
    ///     [
    ///         "X.224 Connection Request",
    ///         "X.224 Connection Confirm",
    ///         "TLS alert fatal handshake_failure",
    ///     ]
    /// );
    /// ```
    pub fn timeline(&self) -> Vec<TimelineEntry> {
        timeline::merge(&self.events, self.tls())
    }

    /// Consumes the analyzer and returns its facts, its TLS facts and its timeline, moved rather
    /// than copied (for a caller that keeps them after the connection closed).
    pub fn into_parts(self) -> (ConnectionFacts, Option<TlsFacts>, Vec<Event>) {
        (
            self.facts,
            self.tls.map(TlsTracker::into_facts),
            self.events,
        )
    }

    /// Events not kept because of [`MAX_EVENTS`].
    pub fn events_dropped(&self) -> u32 {
        self.events_dropped
    }

    /// Whether the exact bytes `side` sends from now on no longer matter to the analysis:
    /// the TLS handshake is complete (what follows is encrypted application data, of which
    /// only the record framing is read), or decoding of that direction stopped. A caller may
    /// then take a cheaper path for that direction (the CLI stops comparing retransmitted
    /// bytes with the first copy). Once true, it stays true.
    pub fn content_concluded(&self, side: Side) -> bool {
        let stream = match side {
            Side::Client => self.decoders.first(),
            Side::Server => self.decoders.get(1),
        };
        stream.is_some_and(|s| s.mode == Mode::Opaque)
            || self
                .tls
                .as_ref()
                .is_some_and(|t| t.facts().handshake_complete)
    }

    /// Whether the client's stream is RDP by content: it started with an X.224 Connection
    /// Request, or (picked up mid-stream) with TPKT frames or TLS records answered by the server
    /// with the same.
    pub fn is_rdp(&self) -> bool {
        self.facts.x224.is_some() || self.facts.rdp_framed_mid_stream()
    }

    /// The security findings on this connection. `server_port` is the server's TCP port when
    /// the caller knows it (for `nonstandard-port`). A connection that is not RDP (verdict
    /// `not-rdp`), or HTTPS that may be an RD Gateway ([`Analyzer::note_server_port`]), has
    /// none.
    pub fn findings(&self, server_port: Option<u16>) -> Vec<Finding> {
        self.findings_for(&self.verdict(), server_port)
    }

    /// [`Analyzer::findings`] for a caller that has the [`Analyzer::verdict`] already.
    pub fn findings_for(&self, verdict: &Verdict, server_port: Option<u16>) -> Vec<Finding> {
        // HTTPS that may be an RD Gateway is not known to be RDP: like a `not-rdp` connection,
        // it gets no RDP security finding.
        if self
            .facts
            .tunnel
            .as_ref()
            .is_some_and(|t| t.kind == TunnelKind::RdGateway)
        {
            return Vec::new();
        }
        findings::connection_findings(&self.facts, self.tls(), verdict.code, server_port)
    }

    /// The verdict on what happened, from the facts so far.
    pub fn verdict(&self) -> Verdict {
        let mut v = verdict::decide(&self.facts, self.tls());
        // A probe is described as what it is, not as a client that failed (issue 14; the
        // `scanner` finding quotes the same evidence).
        if let Some(why) = scan::probe(&self.facts, v.code) {
            v.summary.push_str("; ");
            v.summary.push_str(&why);
        }
        v
    }

    fn decoder_mut(&mut self, side: Side) -> &mut DirectionDecoder {
        match side {
            Side::Client => &mut self.decoders[0],
            Side::Server => &mut self.decoders[1],
        }
    }

    fn touch(&mut self, at: Timestamp) {
        self.facts.first_at.get_or_insert(at);
        self.facts.last_at = Some(at);
    }

    fn event(&mut self, at: Timestamp, side: Side, kind: EventKind) {
        if self.no_timeline {
            return;
        }
        if self.events.len() < MAX_EVENTS {
            self.events.push(Event { at, side, kind });
        } else {
            self.events_dropped.bump();
        }
    }

    fn closed(&mut self, side: Side, kind: CloseKind, at: Timestamp) {
        if self.facts.close.is_none() {
            self.facts.close = Some(Close { by: side, kind, at });
        }
    }

    /// Decodes as many complete units as `bytes` holds; returns the unconsumed tail (a partial
    /// frame) to keep for later.
    fn consume<'a>(
        &mut self,
        side: Side,
        at: Timestamp,
        bytes: &'a [u8],
        mut caches: Option<&mut Caches>,
    ) -> &'a [u8] {
        let mut rest = bytes;
        while !rest.is_empty() {
            let stream = self.decoder_mut(side);
            if stream.skip > 0 {
                let n = stream.skip.min(rest.len());
                stream.skip = stream.skip.saturating_sub(n);
                rest = rest.get(n..).unwrap_or_default();
                continue;
            }
            let mode = stream.mode;
            let step = match mode {
                Mode::Start => self.classify(side, at, rest),
                Mode::Tpkt => self.tpkt_frame(side, at, rest),
                Mode::Tls => self.tls_record(side, at, rest, caches.as_deref_mut()),
                Mode::Tunnel => self.tunnel_message(side, at, rest),
                Mode::Opaque => Step::Consumed(rest.len()),
            };
            match step {
                Step::Consumed(n) => rest = rest.get(n..).unwrap_or_default(),
                Step::Switched => {}
                Step::NeedMore => break,
            }
        }
        rest
    }

    /// Picks the decoder for a direction from its first bytes. Out of line: once per direction,
    /// kept out of `Analyzer::consume`'s per-record path.
    #[inline(never)]
    fn classify(&mut self, side: Side, at: Timestamp, bytes: &[u8]) -> Step {
        if let Some(step) = self.tunnel_start(side, bytes) {
            return step;
        }
        let mode = if matches!(bytes, [3] | [3, 0, ..]) {
            Mode::Tpkt
        } else if looks_like_tls(bytes) {
            self.event(at, side, EventKind::TlsStart);
            self.tls.get_or_insert_with(TlsTracker::new);
            Mode::Tls
        } else if self.facts.mid_stream && fastpath_start(side, bytes) {
            // Picked up after the connection sequence: session traffic in fast-path PDUs,
            // which the TPKT decoder frames too.
            Mode::Tpkt
        } else {
            self.foreign(side, at, bytes);
            Mode::Opaque
        };
        self.decoder_mut(side).mode = mode;
        Step::Switched
    }

    fn foreign(&mut self, side: Side, at: Timestamp, bytes: &[u8]) {
        if self.facts.foreign.is_none() {
            let prefix = bytes.get(..FOREIGN_PREFIX_LEN).unwrap_or(bytes).to_vec();
            self.facts.foreign = Some(ForeignBytes {
                side,
                at,
                looks_like: guess_protocol(bytes),
                prefix,
            });
        }
        self.event(at, side, EventKind::ForeignBytes);
    }

    fn tpkt_frame(&mut self, side: Side, at: Timestamp, bytes: &[u8]) -> Step {
        if let Some(&first) = bytes.first() {
            if first != tpkt::VERSION && fastpath::is_fastpath_header(first) {
                return self.fastpath_frame(side, at, bytes);
            }
        }
        match tpkt::parse_frame(bytes) {
            Ok((frame, rest)) => {
                self.tpdu(side, at, frame.payload);
                Step::Consumed(bytes.len().saturating_sub(rest.len()))
            }
            Err(Error::Incomplete { .. }) => Step::NeedMore,
            Err(e) => self.not_tpkt(side, at, bytes, &e),
        }
    }

    /// Not a TPKT frame where one was expected: a TLS record right after the negotiation (when
    /// the confirm was not seen), or something else entirely. Out of line (cold): at most once
    /// per direction.
    #[cold]
    #[inline(never)]
    fn not_tpkt(&mut self, side: Side, at: Timestamp, bytes: &[u8], e: &Error) -> Step {
        if looks_like_tls(bytes) {
            self.decoder_mut(side).mode = Mode::Tls;
            self.tls.get_or_insert_with(TlsTracker::new);
            self.event(at, side, EventKind::TlsStart);
        } else {
            self.facts.anomaly(format!("{} stream: {e}", side.as_str()));
            self.event(at, side, EventKind::Malformed);
            self.decoder_mut(side).mode = Mode::Opaque;
        }
        Step::Switched
    }

    /// One TLS record on a TLS stream, handed whole to the TLS tracker; clear-text TPKT in its
    /// place is decoded as such and kept as evidence.
    fn tls_record(
        &mut self,
        side: Side,
        at: Timestamp,
        bytes: &[u8],
        caches: Option<&mut Caches>,
    ) -> Step {
        if bytes.first() == Some(&tpkt::VERSION) {
            return self.clear_text_in_tls(side, at, bytes);
        }
        if self.tls.is_none() {
            self.tls = Some(TlsTracker::new());
        }
        // INVARIANT: set just above; the `else` is never taken.
        let Some(tracker) = self.tls.as_mut() else {
            return Step::NeedMore;
        };
        // Framed and fed in one step: a record's header is parsed once.
        match tracker.feed_next(side, at, bytes, caches) {
            Ok((len, result)) => {
                if let Some(last) = tracker.facts().last_handshake_at {
                    if self.facts.last_handshake_at.is_none_or(|t| t < last) {
                        self.facts.last_handshake_at = Some(last);
                    }
                }
                if result.is_err() {
                    // The tracker lists why among its anomalies (`tls: client tls: ...`).
                    self.decoder_mut(side).mode = Mode::Opaque;
                    return Step::Switched;
                }
                Step::Consumed(len)
            }
            Err(Error::Incomplete { .. }) => Step::NeedMore,
            Err(e) => self.not_a_record(side, at, bytes, &e),
        }
    }

    /// Clear-text TPKT on a TLS stream: decoded as such and kept as evidence. Out of line: rare,
    /// kept out of the per-record path.
    #[inline(never)]
    fn clear_text_in_tls(&mut self, side: Side, at: Timestamp, bytes: &[u8]) -> Step {
        match tpkt::parse_frame(bytes) {
            Ok((frame, rest)) => {
                self.event(at, side, EventKind::ClearTextInTls);
                self.tpdu(side, at, frame.payload);
                // A side that never sent a TLS record and speaks TPKT instead has left TLS
                // (or the capture is a decrypted recording): follow it as TPKT, which also
                // frames the fast-path PDUs that may follow.
                let sent_tls = self.tls.as_ref().is_some_and(|t| match side {
                    Side::Client => t.facts().client_records > 0,
                    Side::Server => t.facts().server_records > 0,
                });
                if !sent_tls {
                    self.decoder_mut(side).mode = Mode::Tpkt;
                }
                Step::Consumed(bytes.len().saturating_sub(rest.len()))
            }
            Err(Error::Incomplete { .. }) => Step::NeedMore,
            Err(e) => self.undecodable(side, at, bytes, &e),
        }
    }

    /// A TLS stream whose next bytes do not frame as a record: an oversized record is skipped
    /// whole and the framing goes on after it (a decoder limit, not a failure); anything else
    /// is undecodable. Out of line (cold): at most once per record skipped or per direction.
    #[cold]
    #[inline(never)]
    fn not_a_record(&mut self, side: Side, at: Timestamp, bytes: &[u8], e: &Error) -> Step {
        let total = self
            .tls
            .as_mut()
            .and_then(|tracker| tracker.oversized_record(side, at, bytes, e));
        match total {
            Some(total) => {
                self.decoder_mut(side).skip = total;
                Step::Switched
            }
            None => self.undecodable(side, at, bytes, e),
        }
    }

    /// Bytes that are neither a TLS record nor TPKT where one was expected: kept as evidence;
    /// decoding of that direction stops.
    #[cold]
    #[inline(never)]
    fn undecodable(&mut self, side: Side, at: Timestamp, bytes: &[u8], e: &Error) -> Step {
        self.facts.anomaly(format!("{} stream: {e}", side.as_str()));
        self.foreign(side, at, bytes);
        self.decoder_mut(side).mode = Mode::Opaque;
        Step::Switched
    }

    /// A fast-path PDU on a TPKT stream: session traffic after the connection sequence.
    fn fastpath_frame(&mut self, side: Side, at: Timestamp, bytes: &[u8]) -> Step {
        match fastpath::parse_frame(bytes) {
            Ok((_, rest)) => {
                let stats = self.facts.side_mut(side);
                stats.fastpath_pdus.bump();
                Step::Consumed(bytes.len().saturating_sub(rest.len()))
            }
            Err(Error::Incomplete { .. }) => Step::NeedMore,
            Err(e) => self.malformed_stream(side, at, &e),
        }
    }

    /// A frame that does not parse: named among the anomalies; decoding of that direction
    /// stops. Out of line (cold): at most once per direction.
    #[cold]
    #[inline(never)]
    fn malformed_stream(&mut self, side: Side, at: Timestamp, e: &Error) -> Step {
        self.facts.anomaly(format!("{} stream: {e}", side.as_str()));
        self.event(at, side, EventKind::Malformed);
        self.decoder_mut(side).mode = Mode::Opaque;
        Step::Switched
    }

    fn tpdu(&mut self, side: Side, at: Timestamp, payload: &[u8]) {
        let tpdu = match x224::parse_tpdu(payload) {
            Ok(t) => t,
            Err(e) => {
                self.facts.anomaly(format!("{} x224: {e}", side.as_str()));
                self.event(at, side, EventKind::Malformed);
                return;
            }
        };
        match tpdu {
            Tpdu::ConnectionRequest(cr) if side == Side::Client => self.connection_request(at, &cr),
            Tpdu::ConnectionConfirm(cc) if side == Side::Server => self.connection_confirm(at, &cc),
            Tpdu::ConnectionRequest(_) | Tpdu::ConnectionConfirm(_) => {
                self.facts.anomaly(format!(
                    "{} sent an x224 connection {} (wrong direction)",
                    side.as_str(),
                    if side == Side::Server {
                        "request"
                    } else {
                        "confirm"
                    }
                ));
                self.event(at, side, EventKind::Malformed);
            }
            Tpdu::Data(dt) => {
                let stats = self.facts.side_mut(side);
                stats.x224_data_pdus.bump();
                self.event(
                    at,
                    side,
                    EventKind::X224Data {
                        len: dt.user_data.len(),
                    },
                );
                let in_clear_inside_tls = self.decoder_mut(side).mode == Mode::Tls;
                self.mcs_data(side, at, dt.user_data, in_clear_inside_tls);
            }
            Tpdu::DisconnectRequest(_) => self.event(at, side, EventKind::X224Disconnect),
            Tpdu::Error(_) => self.event(at, side, EventKind::X224Error),
            Tpdu::Other { code, .. } => {
                self.facts
                    .anomaly(format!("{} sent x224 tpdu code {code}", side.as_str()));
                self.event(at, side, EventKind::Malformed);
            }
        }
    }

    fn connection_request(&mut self, at: Timestamp, cr: &x224::ConnectionRequest<'_>) {
        self.event(at, Side::Client, EventKind::ConnectionRequest);
        self.facts.last_handshake_at = Some(at);
        if self
            .facts
            .x224
            .as_ref()
            .is_some_and(|x| x.request_at.is_some())
        {
            self.facts
                .anomaly("client sent a second x224 connection request".to_string());
            return;
        }
        let closed = self.facts.close.is_some();
        let x = self.facts.x224.get_or_insert_with(X224Facts::default);
        x.request_at = Some(at);
        x.request_after_close = closed;
        match cr.token {
            Some(RequestToken::Cookie(name)) => {
                x.cookie = Some(crate::printable::printable_bytes(name));
            }
            Some(RequestToken::RoutingToken(line)) => {
                x.routing_token = Some(crate::printable::printable_bytes(line));
            }
            None => {}
        }
        if let Some(neg) = cr.negotiation {
            x.requested_protocols = Some(neg.requested_protocols);
            x.request_flags = Some(neg.flags);
        }
        if let Some(info) = cr.correlation_info {
            x.correlation_id = Some(hex_lower(info.correlation_id));
        }
        if !cr.unparsed.is_empty() {
            self.facts
                .anomaly(unparsed_negotiation("connection request", cr.unparsed));
        }
    }

    /// The server's X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2). What contradicts the
    /// negotiation is a caveat the verdict names, never a silent truth: a second confirm that
    /// differs from the first (the first is kept), a selection of a protocol the client never
    /// requested (2.2.1.2.1: the server selects one of the requested protocols, or
    /// PROTOCOL_RDP), and a negotiation structure whose length is not 8 (then the selection is
    /// unknown, see [`X224Facts::malformed_confirm`]).
    fn connection_confirm(&mut self, at: Timestamp, cc: &x224::ConnectionConfirm<'_>) {
        self.facts.last_handshake_at = Some(at);
        let confirm = match cc.negotiation {
            Some(NegotiationResult::Response(rsp)) => Confirm::Selected {
                protocol: rsp.selected_protocol,
                flags: rsp.flags,
            },
            Some(NegotiationResult::Failure(f)) => Confirm::Failure {
                code: f.failure_code,
            },
            None => Confirm::Legacy,
        };
        let malformed = cc.negotiation.is_none() && matches!(cc.unparsed.first(), Some(2 | 3));
        let x = self.facts.x224.get_or_insert_with(X224Facts::default);
        if let Some(first) = x.confirm {
            let same = first == confirm && x.malformed_confirm == malformed;
            if same {
                self.facts
                    .anomaly("server sent a second x224 connection confirm".to_string());
            } else {
                let first = confirm_text(first, x.malformed_confirm);
                self.facts.caveat(format!(
                    "a second Connection Confirm ({}) contradicts the first ({first}), which is kept",
                    confirm_text(confirm, malformed)
                ));
            }
            return;
        }
        x.confirm_at = Some(at);
        x.confirm = Some(confirm);
        x.malformed_confirm = malformed;
        let requested = x.request_at.map(|_| x.requested_protocols);
        let kind = match confirm {
            Confirm::Failure { .. } => EventKind::NegotiationFailure,
            _ => EventKind::ConnectionConfirm,
        };
        self.event(at, Side::Server, kind);
        if malformed {
            self.facts.caveat(format!(
                "the Connection Confirm carries a malformed negotiation structure ({}); the server's selection is unknown",
                unparsed_negotiation("connection confirm", cc.unparsed)
                    .trim_start_matches("x224 connection confirm: ")
                    .trim_end_matches("; ignored")
            ));
        } else if !cc.unparsed.is_empty() {
            self.facts
                .anomaly(unparsed_negotiation("connection confirm", cc.unparsed));
        }
        if let (Confirm::Selected { protocol, .. }, Some(requested)) = (confirm, requested) {
            let asked = requested.map_or(0, |r| r.0);
            if protocol.0 & !asked != 0 {
                self.facts.caveat(format!(
                    "the server selected {} although the client requested {}",
                    protocol.protocol_names().join("|"),
                    match requested {
                        Some(r) => r.protocol_names().join("|"),
                        None => "no protocol (a legacy request)".to_string(),
                    }
                ));
            }
        }
        if let Confirm::Selected { protocol, .. } = confirm {
            if protocol.uses_tls() {
                // Both directions carry TLS records from here on (MS-RDPBCGR 5.4.5.1).
                self.tls.get_or_insert_with(TlsTracker::new);
                for side in [Side::Client, Side::Server] {
                    let stream = self.decoder_mut(side);
                    if matches!(stream.mode, Mode::Start | Mode::Tpkt) {
                        stream.mode = Mode::Tls;
                    }
                }
            }
        }
    }
}

/// A Connection Confirm in a few words, for a caveat.
fn confirm_text(confirm: Confirm, malformed: bool) -> String {
    match confirm {
        _ if malformed => "a malformed RDP_NEG_RSP".to_string(),
        Confirm::Selected { protocol, .. } => {
            format!("selecting {}", protocol.protocol_names().join("|"))
        }
        Confirm::Failure { code } => format!("refusing with {code}"),
        Confirm::Legacy => "without negotiation data".to_string(),
    }
}

/// The outcome of one decoding step.
enum Step {
    /// `n` bytes were used.
    Consumed(usize),
    /// The stream changed mode; decode the same bytes again.
    Switched,
    /// A frame is incomplete.
    NeedMore,
}

/// Whether a direction picked up mid-stream starts like a fast-path PDU (MS-RDPBCGR 2.2.8.1.2,
/// 2.2.9.1.2): action bits 0, a length of at least 4 (header, length, one event or update);
/// from the server also the four reserved bits of `fpOutputHeader` clear. Only a start: the
/// connection counts as RDP once frames follow each other on both sides
/// ([`ConnectionFacts::rdp_framed_mid_stream`]).
fn fastpath_start(side: Side, bytes: &[u8]) -> bool {
    let Some(&header) = bytes.first() else {
        return false;
    };
    let reserved_clear = side == Side::Client || header & 0x3c == 0;
    reserved_clear
        && match fastpath::frame_len(bytes) {
            Ok(len) => len >= 4,
            Err(Error::Incomplete { .. }) => true,
            Err(_) => false,
        }
}

/// Whether a stream starts like a TLS record (content type 20..=24, version 3.x).
fn looks_like_tls(bytes: &[u8]) -> bool {
    looks_like_tls_record(bytes)
}

/// Describes bytes of a Connection Request or Confirm the parser did not accept: a negotiation
/// structure with a wrong length is named as such (MS-RDPBCGR 2.2.1.1.1, 2.2.1.2.1: the length
/// is always 8), anything else is counted.
fn unparsed_negotiation(tpdu: &str, unparsed: &[u8]) -> String {
    let name = match unparsed.first() {
        Some(1) => Some("RDP_NEG_REQ"),
        Some(2) => Some("RDP_NEG_RSP"),
        Some(3) => Some("RDP_NEG_FAILURE"),
        Some(6) => Some("RDP_CORRELATION_INFO"),
        _ => None,
    };
    match (name, unparsed.get(2..4)) {
        (Some(name), Some(&[lo, hi])) => {
            let length = u16::from_le_bytes([lo, hi]);
            let size = if name == "RDP_CORRELATION_INFO" {
                36
            } else {
                8
            };
            format!(
                "x224 {tpdu}: {name} declares length {length} (the structure is {size} bytes); ignored"
            )
        }
        _ => format!("{} unrecognised bytes in the x224 {tpdu}", unparsed.len()),
    }
}

/// A short guess of what a foreign stream is, for the report.
fn guess_protocol(bytes: &[u8]) -> &'static str {
    const HTTP: [&[u8]; 6] = [b"GET ", b"POST ", b"HEAD ", b"PUT ", b"CONNECT ", b"HTTP/"];
    if HTTP.iter().any(|m| bytes.starts_with(m)) {
        "HTTP"
    } else if bytes.starts_with(b"SSH-") {
        "SSH"
    } else if bytes.first() == Some(&0x16) {
        "TLS record"
    } else if bytes.starts_with(b"\x00\x00\x00\x85\xffSMB") || bytes.starts_with(b"\xffSMB") {
        "SMB"
    } else if bytes
        .iter()
        .take(16)
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "text"
    } else {
        "binary"
    }
}

#[cfg(test)]
mod tests;
