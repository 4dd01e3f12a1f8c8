//! TCP reassembly per connection and direction, with bounded memory, feeding a [`FlowObserver`].
//!
//! The capture reader hands every TCP segment ([`TcpPacket`]) to [`Reassembler::push`] in
//! capture order; the observer sees, per connection, `open`, then [`TcpEvent`]s in stream
//! order, then `close`.
//! In-order data is passed straight from the caller's packet buffer (no copy, no allocation);
//! only out-of-order pieces are copied into a bounded buffer.
//!
//! # Rules
//! - **Flows** are keyed by the unordered 4-tuple. **Orientation**: the sender of a SYN without
//!   ACK is the client; the receiver of a SYN+ACK is the client. A connection picked up
//!   mid-stream is oriented by its first segment: by the observer's reading of its payload
//!   ([`FlowObserver::sender_hint`]: the reassembler knows no application protocol, the
//!   observer may recognise, say, a client's opening request); else the side not on a known
//!   server port; else the side with the higher port.
//!   Without a SYN, payload or known port the decision waits: packets are counted but `open` is
//!   called only when the first SYN or payload arrives (a RST before then drops the flow quietly,
//!   counted in [`ReassemblyStats::pending_flows_dropped`]). Flow ids count opened flows from 0.
//! - **Sequence numbers** are compared modulo 2^32 and turned into 64-bit stream offsets. SYN
//!   and FIN each take one sequence number. Mid-stream, the first data (or FIN) segment of a
//!   direction sets its start; earlier bytes arriving later are dropped as retransmissions.
//! - **Retransmissions** are trimmed to their new bytes. The last
//!   [`ReassemblyConfig::recent_window_bytes`] delivered bytes of each direction are kept, and
//!   buffered pieces are kept whole, so a retransmission or overlap whose bytes differ from what
//!   was kept is reported as [`TcpEvent::ConflictingOverlap`] (the first copy wins). A one-byte
//!   segment just before the next expected byte is a keep-alive probe and is not compared. Once
//!   the observer says a direction's content is concluded
//!   ([`FlowObserver::compare_retransmissions`]), its delivered bytes are no longer kept (copying
//!   every payload byte into the window was a twentieth of the time of a capture).
//! - **IP fragments that overlapped with other bytes**: the segment rebuilt from them (the later
//!   fragments' bytes kept) is preceded by its other copy ([`TcpPacket::fragment_copy`], the
//!   earlier fragments' bytes), which is held (one at a time, one datagram at most) and handed
//!   to the observer as the `copy` of the segment's [`TcpEvent::ConflictingOverlap`], after the
//!   segment's own bytes; it is not counted or delivered.
//! - **Out-of-order** pieces are buffered per direction up to the byte and piece caps (and a
//!   global byte cap). A piece is charged against the byte caps what it costs, not its
//!   payload: its bytes plus its share of the B-tree and the allocator's overhead, and a
//!   direction's first piece the tree's first node too (see `direction::PIECE_OVERHEAD`). Over a
//!   cap, the first hole is given up: [`TcpEvent::Gap`] with its length,
//!   then the buffered data that follows. The same happens for every hole when the flow closes
//!   for any reason. A FIN is delivered only when every byte before it has been delivered or
//!   skipped.
//! - **ACK rule for lost bytes**: when side B has acknowledged bytes of side A up to offset `a`
//!   that were never seen, and a later segment of A (data, FIN or a bare ACK) starts beyond the
//!   next expected byte, the missing bytes before `min(a, that segment's start)` are declared
//!   lost at once (a Gap), since B has them and A will not send them again. Bytes B acknowledged
//!   but never seen at all are reported as a Gap when the flow closes.
//! - **Closing**: a RST first flushes both directions, then emits [`TcpEvent::Rst`], then closes:
//!   [`FlowEnd::Closed`] if either side had sent a FIN, else [`FlowEnd::Reset`]. Two
//!   FINs, each delivered after all its direction's bytes, close with `Closed`; so "client
//!   FIN, server data, client RST" shows the data and the RST, while a RST after both FINs is a
//!   stray packet. A closed 4-tuple is remembered for [`ReassemblyConfig::closed_linger_ns`] of
//!   capture time: packets on it are counted as strays and open nothing, except a SYN without
//!   ACK, which opens a new flow: always when its ISN differs from the closed connection's, and
//!   with the same ISN too when the closed connection had been answered (only a refused
//!   attempt's own SYN retransmissions repeat its ISN).
//! - **RSTs are judged** as RFC 5961 section 3.2 has a receiver do: only a RST at the next
//!   expected sequence number closes (the receiver's latest ACK, or the end of what the sender
//!   was seen sending); one elsewhere in the receiver's window (the window it last announced,
//!   scaled when both SYNs offered scaling, RFC 7323) is a challenge and one outside is dropped:
//!   both are reported as [`TcpEvent::Ignored`] and the connection goes on. When the capture
//!   does not show the window (no handshake, the receiver's direction absent), a RST at or after
//!   the last byte delivered and at most 1 MiB past what was seen sent closes, so real resets
//!   in lossy captures still do. A direction with no sequence number seen (a RST answering a
//!   SYN) cannot be judged: its RST closes.
//! - **SYNs inside a connection**: the client's SYN with the ISN already seen is a
//!   retransmission; one whose ISN + 1 is where the client's data captured before it started
//!   is that data's own SYN (a reordered capture: the same flow). A SYN with another ISN once
//!   the server has answered and before the client's FIN is ignored ([`TcpEvent::Ignored`],
//!   RFC 5961 section 4: a challenge ACK, the connection goes on), as is a SYN from the
//!   server's side of a live flow; a client's is held until the flow's next packet, and if
//!   that is a SYN+ACK acknowledging it, the server accepted a new connection (the old one's
//!   close was not captured): the old flow closes ([`FlowEnd::PortReused`]) and a new one
//!   opens with that SYN. A client SYN with a new ISN on a flow the server never
//!   answered, or after the client's FIN, closes the old flow ([`FlowEnd::PortReused`]) and
//!   opens a new one.
//! - **Time** is capture time (the largest timestamp seen so far). Flows silent for
//!   [`ReassemblyConfig::idle_timeout_ns`] are closed with `IdleTimeout`, except those that
//!   carried data both ways: a session that goes on after a long silence is one connection,
//!   not a "still open" piece and a mid-stream rest, so such a flow is kept (looked at again
//!   one timeout later) and its next packet is preceded by [`TcpEvent::Resumed`]; silent to
//!   the end or evicted, it closes with `IdleTimeout`. When [`ReassemblyConfig::max_flows`]
//!   flows are live, the least recently active one is closed with `Evicted`. Both use a
//!   least-recently-active list: O(1) per packet. Idle and evicted flows leave no tombstone,
//!   so a connection that carries on after one simply reopens mid-stream.
//! - **After the close**: the tombstone counts the packets with data (or a SYN+ACK) that
//!   still arrive, and [`FlowObserver::after_close`] tells them when the 4-tuple is forgotten.
//!
//! Memory is bounded by `max_flows x (2 x (recent_window_bytes +
//! max_buffered_bytes_per_direction) + a few hundred bytes)`, further capped for buffered data
//! by `max_buffered_bytes_total`. Both byte caps count what the pieces cost, so they bound the
//! memory, not just the payload.

#![warn(clippy::arithmetic_side_effects)]
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

mod direction;
#[cfg(test)]
mod tests;

use rdp_wire::Bump as _;
use rdp_wire::Saturate as _;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

use direction::{Direction, RstCheck};

use crate::capture::TcpPacket;

/// The flow tables' hasher: foldhash's fast hasher, seeded per process, so that crafted
/// captures cannot aim at known collisions. SipHash (the std default) cost about as much per
/// packet as the rest of the table lookup.
type FlowHasher = foldhash::fast::RandomState;

/// Which end of a connection: the client opened it (the crate-root vocabulary of `rdp-wire`,
/// so events pass through unchanged).
pub use rdp_wire::Side;
use rdp_wire::{Endpoints, Timestamp};

/// The element of a per-side array for `side`.
pub(crate) fn pick<T>(arr: &mut [T; 2], side: Side) -> &mut T {
    let [client, server] = arr;
    match side {
        Side::Client => client,
        Side::Server => server,
    }
}

/// What the observer is told about a connection, in stream order per direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEvent<'a> {
    /// A SYN from the client: the first and each retransmission (also counted in
    /// [`FlowInfo::syn_count`]).
    Syn {
        ts: Timestamp,
    },
    /// The first SYN+ACK.
    SynAck {
        ts: Timestamp,
    },
    /// In-order, de-duplicated stream bytes. `frame`/`ts` are those of the packet that
    /// carried them (an earlier one for data that waited in the out-of-order buffer).
    Data {
        side: Side,
        ts: Timestamp,
        frame: u64,
        bytes: &'a [u8],
    },
    /// `len` bytes of this direction are missing from the capture; data resumes after them.
    Gap {
        side: Side,
        ts: Timestamp,
        len: u64,
    },
    Fin {
        side: Side,
        ts: Timestamp,
    },
    Rst {
        side: Side,
        ts: Timestamp,
    },
    /// A retransmission or overlap carried `len` bytes that differ from those already kept.
    /// `copy` is the whole segment (or buffered piece) that carried them, from stream offset
    /// `offset` (0 is the first data byte, or the first byte seen mid-stream): the other copy,
    /// for the observer to read for findings. With `ip_fragments`, the overlap was between IP
    /// fragments of one segment (the later fragments' bytes kept): `len` positions differed,
    /// and `copy` is the segment's payload as the earlier fragments had it, when the capture
    /// reader gave it ([`TcpPacket::fragment_copy`]), else the segment as rebuilt.
    ConflictingOverlap {
        side: Side,
        ts: Timestamp,
        len: u64,
        offset: u64,
        copy: &'a [u8],
        ip_fragments: bool,
    },
    /// The first packet after `silent_ns` of silence, longer than
    /// [`ReassemblyConfig::idle_timeout_ns`]: the flow was kept open across it (it had
    /// carried data both ways) rather than split in two.
    Resumed {
        ts: Timestamp,
        silent_ns: i64,
    },
    /// A packet of `side` that TCP would not act on, ignored by the reassembler too.
    Ignored {
        side: Side,
        ts: Timestamp,
        what: Ignored,
    },
}

/// Why a packet was ignored ([`TcpEvent::Ignored`]): what an attacker who guesses or injects
/// segments would want a reader to take for the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// A RST inside the receive window but not at the next expected sequence number: a
    /// receiver answers it with a challenge ACK and the connection goes on (RFC 5961 section
    /// 3.2). `distance` is its offset from the next expected byte.
    RstInWindow { distance: i64 },
    /// A RST outside the receive window (RFC 5961 section 3.2: dropped).
    RstOutOfWindow { distance: i64 },
    /// A SYN with another sequence number inside a live connection (RFC 5961 section 4: a
    /// challenge ACK, not a new connection).
    StraySyn,
}

/// How the client/server roles were decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    /// A SYN without ACK was seen: its sender is the client.
    Syn,
    /// A SYN+ACK was the first handshake packet seen: its receiver is the client.
    SynAck,
    /// Mid-stream: the observer told from the first payload who sent it
    /// ([`FlowObserver::sender_hint`]).
    SenderHint,
    /// Mid-stream: the other side is on a known server port.
    KnownServerPort,
    /// Mid-stream, nothing else to go on: the side with the higher port is the client.
    HigherPort,
}

/// Facts about one connection, kept up to date as packets arrive. Per-side arrays are indexed
/// by [`Side::index`] (client first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowInfo {
    /// Sequential, in order of opening (0, 1, ...).
    pub id: u64,
    /// Who opened the flow and who accepted it, as oriented by the rules above.
    pub endpoints: Endpoints,
    pub orientation: Orientation,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    pub first_frame: u64,
    pub last_frame: u64,
    /// The first packet of the flow carried SYN (a SYN or a SYN+ACK).
    pub started_with_syn: bool,
    /// Packets per side, pure ACKs included.
    pub packets: [u64; 2],
    /// Captured TCP payload bytes per side, retransmissions included.
    pub bytes: [u64; 2],
    /// Stream bytes delivered as [`TcpEvent::Data`] per side.
    pub delivered: [u64; 2],
    /// Bytes reported as [`TcpEvent::Gap`] per side.
    pub gap_bytes: [u64; 2],
    /// SYNs without ACK seen (first one and retransmissions).
    pub syn_count: u64,
    /// SYN+ACKs seen.
    pub synack_count: u64,
    /// Segments that repeated bytes (or a FIN) already received.
    pub retransmissions: u64,
    pub conflicting_overlaps: u64,
    /// RSTs ignored (in the window but not exact, or outside it) and SYNs ignored inside the
    /// live connection ([`TcpEvent::Ignored`]).
    pub ignored_packets: u64,
    /// Pieces that waited in the out-of-order buffer.
    pub ooo_segments: u64,
    /// A FIN was delivered, per side.
    pub fin: [bool; 2],
    /// A RST was seen, per side.
    pub rst: [bool; 2],
    /// Bytes of a side that the capture never showed at all, acknowledged by the other side
    /// (set when the flow closes): a capture of one direction only (asymmetric routing, a
    /// one-way SPAN port, a `src host` filter) still proves the absent side spoke.
    pub acked_unseen: [u64; 2],
    /// The capture's clock when the flow closed (set then): for a flow still open at the end
    /// of the capture, the time of the capture's last packet.
    pub seen_until: Timestamp,
}

/// Why the reassembler stopped following a flow: given to [`FlowObserver::close`] and carried
/// as it is into the connection's record (`flow` in the reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowEnd {
    /// Both sides closed: both FINs delivered, or a RST after a FIN.
    Closed,
    /// A RST with no FIN before it.
    Reset,
    /// No packet for [`ReassemblyConfig::idle_timeout_ns`] of capture time.
    IdleTimeout,
    /// Closed to make room: [`ReassemblyConfig::max_flows`] were live.
    Evicted,
    /// A new connection (a SYN with another ISN on a flow the server never answered, or after
    /// the client's FIN) reused the addresses and ports; a new flow follows.
    PortReused,
    /// Still open when the capture ended.
    EndOfCapture,
}

impl FlowEnd {
    /// The name reports print.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowEnd::Closed => "closed",
            FlowEnd::Reset => "reset",
            FlowEnd::IdleTimeout => "idle-timeout",
            FlowEnd::Evicted => "evicted",
            FlowEnd::EndOfCapture => "end-of-capture",
            FlowEnd::PortReused => "port-reused",
        }
    }
}

/// What arrived on a closed connection's addresses and ports while they were remembered
/// ([`ReassemblyConfig::closed_linger_ns`]): packets with data or SYN+ACKs. ACKs, FINs and RSTs
/// without data are left out: they are TCP's own closing (the last ACK of a FIN, a FIN
/// retransmitted because that ACK was lost, RFC 9293 section 3.6) or a copy of the close.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AfterClose {
    /// Packets with data, and SYN+ACKs.
    pub packets: u64,
    /// The payload bytes they carried (never analysed).
    pub bytes: u64,
    /// How long after the close the last of them arrived.
    pub last_after_ns: i64,
}

/// How long after a close packets on its addresses and ports are told to
/// [`FlowObserver::after_close`] (2 s of capture time). Long enough for what was in flight
/// (one round trip) and for the first retransmission of data the closing side never
/// acknowledged: a retransmission timeout is at least 1 s (RFC 6298 2.4; Linux and Windows
/// use 200 and 300 ms), so 2 s leaves a round trip of up to a second. Short because the
/// connection's record waits for it: at 5 s, the records of a busy capture (50 connections a
/// second in the benchmark) waiting for their after-close report were more than the
/// processor's cache holds, and the run was 7 % slower. Later packets are only counted
/// (`stray_packets_after_close`).
pub const AFTER_CLOSE_REPORT_NS: i64 = 2 * NS_PER_SEC;

impl FlowInfo {
    /// Whether [`FlowObserver::after_close`] will follow the close of this flow for `reason`:
    /// closed by FIN or RST after carrying data (a refused or empty connection has nothing
    /// to be told, and its record is not held).
    pub fn told_after_close(&self, reason: FlowEnd) -> bool {
        let [c, s] = self.delivered;
        matches!(reason, FlowEnd::Closed | FlowEnd::Reset) && (c > 0 || s > 0)
    }
}

/// Receives the reassembled connections.
pub trait FlowObserver {
    /// Per-connection state of the observer.
    type Flow;
    fn open(&mut self, info: &FlowInfo) -> Self::Flow;
    fn event(&mut self, flow: &mut Self::Flow, info: &FlowInfo, ev: TcpEvent<'_>);
    fn close(&mut self, flow: Self::Flow, info: &FlowInfo, reason: FlowEnd);
    /// Once for every flow whose close [`FlowInfo::told_after_close`], when
    /// [`AFTER_CLOSE_REPORT_NS`] have passed (or a new connection takes its addresses and
    /// ports, or the capture ends): what arrived on them after the close.
    fn after_close(&mut self, _id: u64, _late: &AfterClose) {}
    /// Whether bytes of `side` delivered from now on are kept to compare retransmissions with
    /// (the default). An observer that no longer reads a direction's content (an established
    /// TLS session) answers `false`: the reassembler then stops copying that direction's bytes
    /// into its check window, the cheap path for concluded connections. Retransmissions are
    /// still trimmed and counted, but no longer compared.
    fn compare_retransmissions(&self, _flow: &Self::Flow, _side: Side) -> bool {
        true
    }
    /// Which side sent `first_payload`, the first payload of a flow picked up mid-stream
    /// (no SYN seen), when its content tells: the orientation hint of an observer that knows
    /// the protocol on top. `None` (the default) leaves the decision to the ports. Asked only
    /// while a flow waits for its orientation, with a non-empty payload.
    fn sender_hint(&self, _first_payload: &[u8]) -> Option<Side> {
        None
    }
}

/// Limits and timeouts. Capture time throughout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Live flows before the least recently active is evicted (default 65 536).
    pub max_flows: usize,
    /// Out-of-order data buffered per direction before a hole is given up (default 1 MiB),
    /// each piece charged its bytes plus 192 and a direction's first piece 656 more (what
    /// the buffer really costs; see `direction::PIECE_OVERHEAD`).
    pub max_buffered_bytes_per_direction: usize,
    /// Out-of-order pieces buffered per direction before a hole is given up (default 256).
    pub max_ooo_segments_per_direction: usize,
    /// Out-of-order data buffered across all flows (default 256 MiB), charged as for
    /// `max_buffered_bytes_per_direction`; over it, the direction being fed gives up its first
    /// hole.
    pub max_buffered_bytes_total: usize,
    /// Delivered bytes remembered per direction to check retransmissions (default 4 KiB).
    pub recent_window_bytes: usize,
    /// A flow with no packet for this long is closed (default 10 minutes), unless it carried
    /// data both ways: that one is kept (and closed with `IdleTimeout` only if it stays silent
    /// to the end or is evicted), so that a session that goes on after a long silence is not
    /// split into two pieces.
    pub idle_timeout_ns: i64,
    /// How long a closed flow's 4-tuple absorbs stray packets (default 2 minutes, about 2 MSL).
    pub closed_linger_ns: i64,
    /// Ports that mark the server side of a flow picked up mid-stream (default `[3389]`; add `--port`).
    pub known_server_ports: Vec<u16>,
}

const NS_PER_SEC: i64 = 1_000_000_000;

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_flows: 65_536,
            max_buffered_bytes_per_direction: 1 << 20,
            max_ooo_segments_per_direction: 256,
            max_buffered_bytes_total: 256 << 20,
            recent_window_bytes: 4096,
            idle_timeout_ns: 600 * NS_PER_SEC,
            closed_linger_ns: 120 * NS_PER_SEC,
            known_server_ports: vec![3389],
        }
    }
}

/// Counters over the whole capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    pub segments: u64,
    pub flows_opened: u64,
    pub flows_finished: u64,
    pub flows_reset: u64,
    pub flows_idle_closed: u64,
    pub flows_evicted: u64,
    pub flows_port_reused: u64,
    pub flows_open_at_end: u64,
    /// Flows never opened (no SYN or payload seen) that were reset, idled out, evicted or ended.
    pub pending_flows_dropped: u64,
    /// Pieces put in an out-of-order buffer.
    pub segments_buffered_ooo: u64,
    pub gaps: u64,
    pub bytes_lost_in_gaps: u64,
    /// Holes given up because a buffering cap was exceeded.
    pub ooo_dropped_over_cap: u64,
    /// Segments carrying old bytes again (a late segment counts here only when it also
    /// carried retransmitted bytes outside its lost range).
    pub retransmitted_segments: u64,
    /// Segments whose bytes arrived after they were given up as lost (already counted in
    /// `bytes_lost_in_gaps`; not delivered). Only the last lost range of a direction is
    /// remembered: a segment for an older one counts as a retransmission.
    pub late_segments: u64,
    /// Retransmissions of bytes in a direction whose content the observer was done with, so
    /// not compared with the first copy (a conflicting one would go unnoticed).
    pub retransmissions_not_compared: u64,
    pub keepalives: u64,
    pub conflicting_overlaps: u64,
    pub conflicting_bytes: u64,
    /// A second FIN at a different position than the first (ignored).
    pub conflicting_fins: u64,
    /// Payload bytes beyond a direction's FIN (dropped).
    pub bytes_after_fin: u64,
    /// Segments more than 2^30 bytes ahead of the stream (dropped).
    pub segments_out_of_window: u64,
    pub stray_packets_after_close: u64,
    /// RSTs in the receive window but not at the next expected sequence number, ignored
    /// (RFC 5961 section 3.2).
    pub rsts_in_window_ignored: u64,
    /// RSTs outside the receive window, ignored.
    pub rsts_out_of_window: u64,
    /// SYNs with another sequence number inside a live connection, ignored.
    pub stray_syns: u64,
    /// Closed-flow tombstones forgotten early because there were too many.
    pub tombstones_dropped: u64,
    pub max_live_flows: u64,
}

/// The unordered 4-tuple: the lower end first (address, then port, as `SocketAddr` orders
/// them).
///
/// Both ends IPv4 (all but IPv6 traffic): each end packed in a word as `address << 16 | port`,
/// which orders like `SocketAddr` and makes building, hashing and comparing the key a few
/// instructions; the table looks one up for every packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlowKey {
    V4 { lo: u64, hi: u64 },
    Other { lo: SocketAddr, hi: SocketAddr },
}

/// Consistent with the derived `Eq`: equal keys write equal words.
impl Hash for FlowKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            FlowKey::V4 { lo, hi } => {
                state.write_u64(*lo);
                state.write_u64(*hi);
            }
            FlowKey::Other { lo, hi } => {
                lo.hash(state);
                hi.hash(state);
            }
        }
    }
}

impl FlowKey {
    fn new(a: SocketAddr, b: SocketAddr) -> Self {
        match (a, b) {
            (SocketAddr::V4(a), SocketAddr::V4(b)) => {
                let pack = |e: std::net::SocketAddrV4| {
                    u64::from(e.ip().to_bits()) << 16 | u64::from(e.port())
                };
                let (a, b) = (pack(a), pack(b));
                FlowKey::V4 {
                    lo: a.min(b),
                    hi: a.max(b),
                }
            }
            _ if a <= b => FlowKey::Other { lo: a, hi: b },
            _ => FlowKey::Other { lo: b, hi: a },
        }
    }
}

/// Where a direction delivers, for the packet being processed: the observer and its flow, the
/// flow facts and counters to update, the caps, and the side, time and frame of the packet.
struct Delivery<'c, O: FlowObserver> {
    observer: &'c mut O,
    flow: &'c mut O::Flow,
    info: &'c mut FlowInfo,
    stats: &'c mut ReassemblyStats,
    cfg: &'c ReassemblyConfig,
    buffered_total: &'c mut usize,
    side: Side,
    ts: Timestamp,
    frame: u64,
}

impl<O: FlowObserver> Delivery<'_, O> {
    fn emit(&mut self, ev: TcpEvent<'_>) {
        self.observer.event(self.flow, self.info, ev);
    }

    /// A client SYN held as stray ([`HeldSyn`]) turned out to be one: told now.
    fn ignored_syn(&mut self, held: HeldSyn) {
        let (side, ts, frame) = (self.side, self.ts, self.frame);
        self.side = Side::Client;
        self.ts = held.ts;
        self.frame = held.frame;
        self.ignored(Ignored::StraySyn);
        self.side = side;
        self.ts = ts;
        self.frame = frame;
    }

    /// The packet being processed is ignored for `what`: counted, and the observer told.
    fn ignored(&mut self, what: Ignored) {
        self.info.ignored_packets.bump();
        match what {
            Ignored::RstInWindow { .. } => self.stats.rsts_in_window_ignored.bump(),
            Ignored::RstOutOfWindow { .. } => self.stats.rsts_out_of_window.bump(),
            Ignored::StraySyn => self.stats.stray_syns.bump(),
        }
        let (side, ts) = (self.side, self.ts);
        self.emit(TcpEvent::Ignored { side, ts, what });
    }
}

/// The window scale option (kind 3, RFC 7323 section 2.2) among a SYN's TCP options, its shift
/// clamped to 14 (section 2.3). Options end at kind 0; a truncated option ends the walk.
fn window_scale(options: &[u8]) -> Option<u8> {
    let mut rest = options;
    loop {
        match rest {
            [] | [0, ..] => return None,
            [1, tail @ ..] => rest = tail,
            [3, 3, shift, ..] => return Some((*shift).min(14)),
            [_, len, ..] => {
                let len = usize::from(*len);
                if len < 2 {
                    return None;
                }
                rest = rest.get(len..)?;
            }
            [_] => return None,
        }
    }
}

/// A flow silent past the idle timeout goes on: told. Out of line (cold): rare, kept out of
/// the per-packet path of [`Reassembler::process`].
#[cold]
#[inline(never)]
fn resumed_after<O: FlowObserver>(ctx: &mut Delivery<'_, O>, ts: Timestamp, silent_ns: i64) {
    ctx.emit(TcpEvent::Resumed { ts, silent_ns });
}

/// A SYN or SYN+ACK of `this` direction. Out of line: a few per connection, kept out of the
/// per-packet path of [`Reassembler::process`].
#[inline(never)]
fn syn_segment<O: FlowObserver>(
    ctx: &mut Delivery<'_, O>,
    this: &mut Direction,
    seg: &TcpPacket<'_>,
) {
    let ts = seg.ts;
    if seg.flags.ack() {
        ctx.info.synack_count.bump();
        if ctx.info.synack_count == 1 {
            ctx.emit(TcpEvent::SynAck { ts });
        }
    } else {
        // Every SYN, retransmissions too: how many were sent is evidence (a port that
        // drops SYNs sees the client retry).
        ctx.info.syn_count.bump();
        ctx.emit(TcpEvent::Syn { ts });
    }
    this.on_syn(seg.seq, window_scale(seg.options));
}

/// The receive window `receiver` last announced, in bytes, when the capture shows it: both
/// SYNs seen (so whether window scaling is in force is known: RFC 7323 section 2.2, both must
/// offer it) and a window announced after the receiver's SYN.
fn receive_window(receiver: &Direction, sender: &Direction) -> Option<u32> {
    sender.isn?;
    receiver.isn?;
    let window = u32::from(receiver.last_window?);
    let shift = match (receiver.syn_wscale, sender.syn_wscale) {
        (Some(shift), Some(_)) => u32::from(shift),
        _ => 0,
    };
    window.checked_shl(shift)
}

struct Conn<F> {
    key: FlowKey,
    info: FlowInfo,
    /// `None` while the flow waits for its orientation (see the module docs).
    flow: Option<F>,
    /// Client stream, server stream.
    streams: [Direction; 2],
    /// Silent past the idle timeout and kept open (see [`ReassemblyConfig::idle_timeout_ns`]).
    idle_kept: bool,
    /// A client SYN with another ISN, ignored but not reported yet: if the server answers it
    /// with a SYN+ACK, it was a new connection after all (see [`Reassembler::syn_on_live_flow`]).
    held_syn: Option<HeldSyn>,
}

/// A stray client SYN waiting to be told apart: reported as ignored with the flow's next
/// packet, or the SYN of a new connection if the next is the SYN+ACK that acknowledges it.
#[derive(Debug, Clone, Copy)]
struct HeldSyn {
    isn: u32,
    ts: Timestamp,
    frame: u64,
    wscale: Option<u8>,
}

impl<F> Conn<F> {
    /// Opened, and data delivered both ways: worth keeping whole across a long silence.
    fn carried_both_ways(&self) -> bool {
        let [c, s] = self.info.delivered;
        self.flow.is_some() && c > 0 && s > 0
    }
}

const NIL: usize = usize::MAX;

struct Slot<F> {
    conn: Option<Conn<F>>,
    prev: usize,
    next: usize,
    last_active: Timestamp,
}

/// Live flows in a slab, linked from most to least recently active.
struct Table<F> {
    map: HashMap<FlowKey, usize, FlowHasher>,
    slots: Vec<Slot<F>>,
    free: Vec<usize>,
    head: usize,
    tail: usize,
    live: usize,
}

impl<F> Table<F> {
    fn new() -> Self {
        Table {
            map: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            live: 0,
        }
    }

    fn lookup(&self, key: &FlowKey) -> Option<usize> {
        self.map.get(key).copied()
    }

    fn get_mut(&mut self, idx: usize) -> Option<&mut Conn<F>> {
        self.slots.get_mut(idx).and_then(|s| s.conn.as_mut())
    }

    fn get(&self, idx: usize) -> Option<&Conn<F>> {
        self.slots.get(idx).and_then(|s| s.conn.as_ref())
    }

    fn unlink(&mut self, idx: usize) {
        let Some((prev, next)) = self.slots.get(idx).map(|s| (s.prev, s.next)) else {
            return;
        };
        match self.slots.get_mut(prev) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.slots.get_mut(next) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
        if let Some(s) = self.slots.get_mut(idx) {
            s.prev = NIL;
            s.next = NIL;
        }
    }

    fn link_front(&mut self, idx: usize) {
        let old_head = self.head;
        if let Some(s) = self.slots.get_mut(idx) {
            s.prev = NIL;
            s.next = old_head;
        }
        match self.slots.get_mut(old_head) {
            Some(h) => h.prev = idx,
            None => self.tail = idx,
        }
        self.head = idx;
    }

    fn insert(&mut self, conn: Conn<F>, now: Timestamp) -> usize {
        let key = conn.key;
        let slot = Slot {
            conn: Some(conn),
            prev: NIL,
            next: NIL,
            last_active: now,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i) {
                    *s = slot;
                }
                i
            }
            None => {
                let i = self.slots.len();
                self.slots.push(slot);
                i
            }
        };
        self.link_front(idx);
        self.map.insert(key, idx);
        self.live.bump();
        idx
    }

    fn touch(&mut self, idx: usize, now: Timestamp) {
        if let Some(s) = self.slots.get_mut(idx) {
            s.last_active = now;
        }
        if self.head != idx {
            self.unlink(idx);
            self.link_front(idx);
        }
    }

    fn remove(&mut self, idx: usize) -> Option<Conn<F>> {
        let conn = self.slots.get_mut(idx)?.conn.take()?;
        self.unlink(idx);
        self.map.remove(&conn.key);
        self.free.push(idx);
        self.live = self.live.saturating_sub(1);
        Some(conn)
    }

    /// Least recently active flow and when it was last active.
    fn oldest(&self) -> Option<(usize, Timestamp)> {
        self.slots
            .get(self.tail)
            .map(|s| (self.tail, s.last_active))
    }
}

/// A closed connection's 4-tuple, absorbing late packets for
/// [`ReassemblyConfig::closed_linger_ns`]. Kept to 16 bytes: a busy capture closes thousands
/// of connections a minute and each tombstone lives two minutes, so what is told after a
/// close, needed for seconds only, is a [`Watch`] of its own.
#[derive(Debug, Clone, Copy)]
struct Tomb {
    expires: Timestamp,
    /// The client's ISN, when `client_isn_known`.
    client_isn: u32,
    client_isn_known: bool,
    /// The closed connection had been answered (the server side had a sequence number).
    established: bool,
    /// A [`Watch`] for this close is in [`Reassembler::watched`].
    watched: bool,
}

impl Tomb {
    fn client_isn(&self) -> Option<u32> {
        self.client_isn_known.then_some(self.client_isn)
    }
}

/// A flow closed after carrying data ([`FlowInfo::told_after_close`]), for
/// [`AFTER_CLOSE_REPORT_NS`] after its close: what arrives on its addresses and ports, told to
/// [`FlowObserver::after_close`] when the time is up.
#[derive(Debug, Clone, Copy)]
struct Watch {
    /// The closed flow's id.
    id: u64,
    /// When it was closed.
    closed_at: Timestamp,
    /// What arrived since.
    late: AfterClose,
}

/// Reassembles every TCP connection of a capture; see the module docs for the rules.
pub struct Reassembler<O: FlowObserver> {
    cfg: ReassemblyConfig,
    observer: O,
    stats: ReassemblyStats,
    table: Table<O::Flow>,
    tombs: HashMap<FlowKey, Tomb, FlowHasher>,
    /// Tombstones in order of expiry (entries may be stale: checked against `tombs`).
    tomb_queue: VecDeque<(FlowKey, Timestamp)>,
    /// The tombstones watched for what comes after their close, for a few seconds.
    watched: HashMap<FlowKey, Watch, FlowHasher>,
    /// Closed flows to tell [`FlowObserver::after_close`], with when (in order of time; entries
    /// may be stale: checked against `watched`).
    after_close_queue: VecDeque<(FlowKey, Timestamp, u64)>,
    /// When the front of `after_close_queue` is due (the end of time when it is empty).
    after_close_due: Timestamp,
    /// Flows holding a stray SYN ([`Conn::held_syn`]): while 0, no packet looks for one.
    held_syns: usize,
    next_id: u64,
    now: Option<Timestamp>,
    buffered_total: usize,
    /// The other copy of the segment that comes next ([`TcpPacket::fragment_copy`]): one at a
    /// time, at most one datagram's bytes, until that segment takes it.
    fragment_copy: Option<FragmentCopy>,
}

/// The bytes of a segment rebuilt from IP fragments as the earlier overlapping fragments had
/// them, and which segment they belong to.
#[derive(Debug)]
struct FragmentCopy {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    frame: u64,
    bytes: Vec<u8>,
}

/// An IP datagram's bytes: no copy of a segment is longer.
const MAX_FRAGMENT_COPY: usize = 65_535;

impl FragmentCopy {
    fn of(&self, seg: &TcpPacket<'_>) -> bool {
        (self.src, self.dst, self.seq, self.frame) == (seg.src, seg.dst, seg.seq, seg.frame)
    }
}

impl<O: FlowObserver> fmt::Debug for Reassembler<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reassembler")
            .field("cfg", &self.cfg)
            .field("stats", &self.stats)
            .field("live_flows", &self.table.live)
            .field("tombstones", &self.tombs.len())
            .field("buffered_total", &self.buffered_total)
            .finish_non_exhaustive()
    }
}

enum Outcome {
    Continue,
    Close(FlowEnd),
}

/// What a SYN on a tracked flow is (see [`Reassembler::syn_on_live_flow`]).
enum SynCase {
    /// This connection's own SYN (or not a SYN at all).
    Same,
    /// Another ISN inside the live connection: ignored.
    Stray,
    /// A new connection on the same addresses and ports.
    NewConnection,
    /// The SYN+ACK answering a held stray SYN: that SYN opened a new connection.
    Answered(HeldSyn),
}

impl<O: FlowObserver> Reassembler<O> {
    pub fn new(config: ReassemblyConfig, observer: O) -> Self {
        Reassembler {
            cfg: config,
            observer,
            stats: ReassemblyStats::default(),
            table: Table::new(),
            tombs: HashMap::default(),
            tomb_queue: VecDeque::new(),
            watched: HashMap::default(),
            after_close_queue: VecDeque::new(),
            after_close_due: Timestamp(i64::MAX),
            held_syns: 0,
            next_id: 0,
            now: None,
            buffered_total: 0,
            fragment_copy: None,
        }
    }

    pub fn observer(&self) -> &O {
        &self.observer
    }

    pub fn observer_mut(&mut self) -> &mut O {
        &mut self.observer
    }

    pub fn stats(&self) -> &ReassemblyStats {
        &self.stats
    }

    /// Flows currently tracked (opened or waiting for their orientation).
    pub fn live_flows(&self) -> usize {
        self.table.live
    }

    /// Feeds one segment, in capture order.
    pub fn push(&mut self, seg: &TcpPacket<'_>) {
        if seg.fragment_copy {
            self.keep_fragment_copy(seg);
            return;
        }
        self.stats.segments.bump();
        let now = self.now.map_or(seg.ts, |n| n.max(seg.ts));
        self.now = Some(now);
        self.expire(now);

        let key = FlowKey::new(seg.src, seg.dst);
        if let Some(idx) = self.table.lookup(&key) {
            let case = match (seg.flags.syn(), seg.flags.ack()) {
                (true, false) => self.syn_on_live_flow(idx, seg),
                (true, true) => self.synack_on_live_flow(idx, seg),
                _ => SynCase::Same,
            };
            match case {
                SynCase::Same => {
                    self.table.touch(idx, now);
                    if self.held_syns > 0 {
                        self.tell_held_syn(idx);
                    }
                    if let Outcome::Close(reason) = self.process(idx, seg) {
                        self.close(idx, reason);
                    }
                    return;
                }
                SynCase::Stray => {
                    self.table.touch(idx, now);
                    self.ignore(idx, seg, Ignored::StraySyn);
                    return;
                }
                SynCase::NewConnection => self.close(idx, FlowEnd::PortReused),
                SynCase::Answered(held) => {
                    self.answered_syn(idx, key, held, seg, now);
                    return;
                }
            }
        } else if let Some(t) = self.tombs.get(&key) {
            // After a close, a SYN opens a new connection: one with another ISN always, one
            // with the same ISN too when the closed connection had been answered (a stack may
            // well pick the same ISN again; the refused attempt's own retransmissions are the
            // only SYNs that repeat the closed one).
            if seg.flags.syn()
                && !seg.flags.ack()
                && (t.client_isn() != Some(seg.seq) || t.established)
            {
                if let Some(t) = self.tombs.remove(&key) {
                    self.release(key, &t);
                }
            } else {
                self.stats.stray_packets_after_close.bump();
                // ACKs, FINs and RSTs without data are TCP's own closing (a lost last ACK, a
                // repeated reset, a capture's copy of the closing packet): not news.
                let closing = seg.payload.is_empty() && !seg.flags.syn();
                if !closing && t.watched {
                    if let Some(w) = self.watched.get_mut(&key) {
                        w.late.packets.bump();
                        w.late.bytes.bump_by(seg.payload.len().saturate());
                        w.late.last_after_ns =
                            w.late.last_after_ns.max(seg.ts.nanos_since(w.closed_at));
                    }
                }
                return;
            }
        }

        self.open_flow(key, seg, now);
    }

    /// Keeps the other copy of the next segment ([`TcpPacket::fragment_copy`]) for it to
    /// report; it replaces any copy its segment never came for.
    #[cold]
    #[inline(never)]
    fn keep_fragment_copy(&mut self, seg: &TcpPacket<'_>) {
        let mut bytes = self
            .fragment_copy
            .take()
            .map(|c| c.bytes)
            .unwrap_or_default();
        bytes.clear();
        bytes.extend_from_slice(seg.payload.get(..MAX_FRAGMENT_COPY).unwrap_or(seg.payload));
        self.fragment_copy = Some(FragmentCopy {
            src: seg.src,
            dst: seg.dst,
            seq: seg.seq,
            frame: seg.frame,
            bytes,
        });
    }

    /// The SYN+ACK `seg` answered the client SYN `held` on flow `idx`: that SYN opened a new
    /// connection, which it and this SYN+ACK start. Out of line: a rare path, kept out of
    /// the per-packet one.
    #[inline(never)]
    fn answered_syn(
        &mut self,
        idx: usize,
        key: FlowKey,
        held: HeldSyn,
        seg: &TcpPacket<'_>,
        now: Timestamp,
    ) {
        self.close(idx, FlowEnd::PortReused);
        let options = held.wscale.map(|shift| [3, 3, shift]);
        let syn = TcpPacket {
            frame: held.frame,
            ts: held.ts,
            src: seg.dst,
            dst: seg.src,
            seq: held.isn,
            ack: 0,
            flags: crate::capture::TcpFlags::SYN,
            window: 0,
            options: options.as_ref().map_or(&[][..], |o| &o[..]),
            payload: &[],
            payload_truncated: false,
            reassembled: false,
            fragment_conflicts: 0,
            fragment_copy: false,
        };
        if let Some(idx) = self.open_flow(key, &syn, now) {
            if let Outcome::Close(reason) = self.process(idx, seg) {
                self.close(idx, reason);
            }
        }
    }

    /// A new flow for `key`, starting with `seg`; its slot, unless `seg` closed it at once.
    fn open_flow(&mut self, key: FlowKey, seg: &TcpPacket<'_>, now: Timestamp) -> Option<usize> {
        if self.table.live >= self.cfg.max_flows.max(1) {
            if let Some((oldest, _)) = self.table.oldest() {
                self.close(oldest, FlowEnd::Evicted);
            }
        }
        let conn = self.new_conn(key, seg);
        let idx = self.table.insert(conn, now);
        let live = self.table.live.saturate();
        self.stats.max_live_flows = self.stats.max_live_flows.max(live);
        if let Outcome::Close(reason) = self.process(idx, seg) {
            self.close(idx, reason);
            return None;
        }
        Some(idx)
    }

    /// Closes every remaining flow with [`FlowEnd::EndOfCapture`] (in id order), flushing
    /// buffered data across its holes.
    pub fn finish(mut self) -> (O, ReassemblyStats) {
        let mut left: Vec<(bool, u64, usize)> = self
            .table
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.conn.as_ref().map(|c| (c.flow.is_none(), c.info.id, i)))
            .collect();
        left.sort_unstable();
        for (_, _, idx) in left {
            self.close(idx, FlowEnd::EndOfCapture);
        }
        let mut watched: Vec<Watch> = self.watched.drain().map(|(_, w)| w).collect();
        watched.sort_unstable_by_key(|w| w.id);
        for w in &watched {
            self.observer.after_close(w.id, &w.late);
        }
        (self.observer, self.stats)
    }

    fn expire(&mut self, now: Timestamp) {
        while let Some((idx, last)) = self.table.oldest() {
            if now.nanos_since(last) <= self.cfg.idle_timeout_ns {
                break;
            }
            if let Some(conn) = self.table.get_mut(idx).filter(|c| c.carried_both_ways()) {
                // Kept, and looked at again an idle timeout from now: O(1) per period.
                conn.idle_kept = true;
                self.table.touch(idx, now);
                continue;
            }
            self.close(idx, FlowEnd::IdleTimeout);
        }
        // One comparison per packet while nothing is due.
        if now >= self.after_close_due {
            self.tell_after_close(now);
        }
        let max_tombs = self.cfg.max_flows.max(1);
        // Only the expiry is read until one is due: the key is copied out of the queue when
        // its entry is popped, not once per packet.
        while let Some(expires) = self.tomb_queue.front().map(|(_, e)| *e) {
            let over = self.tomb_queue.len() > max_tombs;
            if expires > now && !over {
                break;
            }
            let Some((key, _)) = self.tomb_queue.pop_front() else {
                break;
            };
            if self.tombs.get(&key).is_some_and(|t| t.expires == expires) {
                if let Some(t) = self.tombs.remove(&key) {
                    self.release(key, &t);
                }
                if expires > now {
                    self.stats.tombstones_dropped.bump();
                }
            }
        }
    }

    /// Tells [`FlowObserver::after_close`] for the closed flows whose time has come (all of
    /// them past `now`; the oldest beyond [`ReassemblyConfig::max_flows`] waiting, too).
    fn tell_after_close(&mut self, now: Timestamp) {
        let max_waiting = self.cfg.max_flows.max(1);
        while let Some(&(key, until, id)) = self.after_close_queue.front() {
            if until > now && self.after_close_queue.len() <= max_waiting {
                break;
            }
            self.after_close_queue.pop_front();
            if self.watched.get(&key).is_some_and(|w| w.id == id) {
                // Told once: later packets are only counted.
                if let Some(t) = self.tombs.get_mut(&key) {
                    t.watched = false;
                }
                if let Some(w) = self.watched.remove(&key) {
                    self.observer.after_close(w.id, &w.late);
                }
            }
        }
        self.after_close_due = self
            .after_close_queue
            .front()
            .map_or(Timestamp(i64::MAX), |&(_, until, _)| until);
    }

    /// What a SYN without ACK on a tracked flow means (any other segment: [`SynCase::Same`]).
    ///
    /// - The client's SYN with the ISN already seen, or whose ISN + 1 is where the client's
    ///   data captured before it started (a reordered capture), belongs to this connection.
    /// - A SYN with another ISN once the server has answered or spoken, and the client has not
    ///   sent its FIN, is stray (injected, or a peer's confusion): RFC 5961 section 4 has the
    ///   receiver of a SYN in a synchronized state send a challenge ACK and go on, so it does
    ///   not split the connection. The same holds for a SYN from the server's side.
    /// - A client SYN with another ISN on a connection the server never answered, or after the
    ///   client's FIN, is a new connection reusing the addresses and ports.
    fn syn_on_live_flow(&self, idx: usize, seg: &TcpPacket<'_>) -> SynCase {
        if !seg.flags.syn() || seg.flags.ack() {
            return SynCase::Same;
        }
        let Some(conn) = self.table.get(idx) else {
            return SynCase::Same;
        };
        if conn.flow.is_none() {
            return SynCase::Same;
        }
        let [client, server] = &conn.streams;
        if seg.src != conn.info.endpoints.client {
            return if client.has_base() || server.has_base() {
                SynCase::Stray
            } else {
                SynCase::Same
            };
        }
        if client.syn_matches(seg.seq) {
            SynCase::Same
        } else if server.has_base() && !client.fin_seen() {
            SynCase::Stray
        } else {
            SynCase::NewConnection
        }
    }

    /// The flow's held stray SYN, if any, is told as ignored: the packet that follows it is
    /// not the SYN+ACK that would have made it a new connection.
    fn tell_held_syn(&mut self, idx: usize) {
        let Reassembler {
            table,
            observer,
            stats,
            cfg,
            buffered_total,
            held_syns,
            ..
        } = self;
        let Some(conn) = table.get_mut(idx) else {
            return;
        };
        let (Some(held), Some(flow)) = (conn.held_syn.take(), conn.flow.as_mut()) else {
            return;
        };
        *held_syns = held_syns.saturating_sub(1);
        Delivery {
            observer,
            flow,
            info: &mut conn.info,
            stats,
            cfg,
            buffered_total,
            side: Side::Client,
            ts: held.ts,
            frame: held.frame,
        }
        .ignored_syn(held);
    }

    /// A SYN+ACK on a tracked flow that acknowledges the client SYN held as stray
    /// ([`Conn::held_syn`]): the server accepted a new connection on these addresses and ports
    /// (the old one's close was not captured), which an injected SYN never gets: a receiver
    /// answers that with a challenge ACK for the old connection (RFC 5961 section 4).
    fn synack_on_live_flow(&mut self, idx: usize, seg: &TcpPacket<'_>) -> SynCase {
        let Some(conn) = self.table.get_mut(idx) else {
            return SynCase::Same;
        };
        match conn.held_syn {
            Some(held)
                if seg.dst == conn.info.endpoints.client && seg.ack == held.isn.wrapping_add(1) =>
            {
                conn.held_syn = None;
                self.held_syns = self.held_syns.saturating_sub(1);
                SynCase::Answered(held)
            }
            _ => SynCase::Same,
        }
    }

    /// Counts `seg` on its flow and tells the observer it was ignored, without acting on it.
    /// A client's stray SYN is held first (see [`Conn::held_syn`]): told with the flow's next
    /// packet, unless that is the SYN+ACK answering it.
    fn ignore(&mut self, idx: usize, seg: &TcpPacket<'_>, what: Ignored) {
        let Reassembler {
            table,
            observer,
            stats,
            cfg,
            buffered_total,
            held_syns,
            ..
        } = self;
        let Some(conn) = table.get_mut(idx) else {
            return;
        };
        let side = if seg.src == conn.info.endpoints.client {
            Side::Client
        } else {
            Side::Server
        };
        let info = &mut conn.info;
        pick(&mut info.packets, side).bump();
        let bytes = pick(&mut info.bytes, side);
        *bytes = bytes.saturating_add(seg.payload.len().saturate());
        info.last_ts = info.last_ts.max(seg.ts);
        info.last_frame = seg.frame;
        let Some(flow) = conn.flow.as_mut() else {
            return;
        };
        let mut ctx = Delivery {
            observer,
            flow,
            info,
            stats,
            cfg,
            buffered_total,
            side,
            ts: seg.ts,
            frame: seg.frame,
        };
        if what == Ignored::StraySyn && side == Side::Client {
            let held = conn.held_syn.replace(HeldSyn {
                isn: seg.seq,
                ts: seg.ts,
                frame: seg.frame,
                wscale: window_scale(seg.options),
            });
            match held {
                None => held_syns.bump(),
                // An earlier held SYN with another ISN was stray: told now.
                Some(h) if h.isn != seg.seq => ctx.ignored_syn(h),
                Some(_) => {}
            }
            return;
        }
        ctx.ignored(what);
    }

    /// A flow waiting for its orientation, which [`Reassembler::process`] decides (from this
    /// very segment when it can); until then the higher-port rule stands in.
    fn new_conn(&self, key: FlowKey, seg: &TcpPacket<'_>) -> Conn<O::Flow> {
        let (client, server) = higher_port_first(seg);
        let orientation = Orientation::HigherPort;
        let window = self.cfg.recent_window_bytes;
        Conn {
            key,
            info: FlowInfo {
                id: 0,
                endpoints: Endpoints { client, server },
                orientation,
                first_ts: seg.ts,
                last_ts: seg.ts,
                first_frame: seg.frame,
                last_frame: seg.frame,
                started_with_syn: seg.flags.syn(),
                packets: [0; 2],
                bytes: [0; 2],
                delivered: [0; 2],
                gap_bytes: [0; 2],
                syn_count: 0,
                synack_count: 0,
                acked_unseen: [0; 2],
                seen_until: seg.ts,
                retransmissions: 0,
                conflicting_overlaps: 0,
                ignored_packets: 0,
                ooo_segments: 0,
                fin: [false; 2],
                rst: [false; 2],
            },
            flow: None,
            streams: [Direction::new(window), Direction::new(window)],
            idle_kept: false,
            held_syn: None,
        }
    }

    /// Client, server and how they were told apart; `None` when this segment cannot tell yet.
    fn orient(&self, seg: &TcpPacket<'_>) -> Option<(SocketAddr, SocketAddr, Orientation)> {
        if seg.flags.syn() {
            return Some(if seg.flags.ack() {
                (seg.dst, seg.src, Orientation::SynAck)
            } else {
                (seg.src, seg.dst, Orientation::Syn)
            });
        }
        if !seg.payload.is_empty() {
            match self.observer.sender_hint(seg.payload) {
                Some(Side::Client) => return Some((seg.src, seg.dst, Orientation::SenderHint)),
                Some(Side::Server) => return Some((seg.dst, seg.src, Orientation::SenderHint)),
                None => {}
            }
        }
        let known = |a: SocketAddr| self.cfg.known_server_ports.contains(&a.port());
        match (known(seg.src), known(seg.dst)) {
            (true, false) => return Some((seg.dst, seg.src, Orientation::KnownServerPort)),
            (false, true) => return Some((seg.src, seg.dst, Orientation::KnownServerPort)),
            _ => {}
        }
        if seg.payload.is_empty() {
            return None;
        }
        let (c, s) = higher_port_first(seg);
        Some((c, s, Orientation::HigherPort))
    }

    fn process(&mut self, idx: usize, seg: &TcpPacket<'_>) -> Outcome {
        let decided = match self.table.get(idx) {
            Some(conn) if conn.flow.is_none() => self.orient(seg),
            _ => None,
        };
        let Reassembler {
            table,
            observer,
            stats,
            cfg,
            buffered_total,
            next_id,
            fragment_copy,
            ..
        } = self;
        let Some(conn) = table.get_mut(idx) else {
            return Outcome::Continue;
        };

        if conn.flow.is_none() {
            if let Some((client, server, orientation)) = decided {
                if client != conn.info.endpoints.client {
                    conn.info.packets.swap(0, 1);
                    conn.info.bytes.swap(0, 1);
                }
                conn.info.endpoints.client = client;
                conn.info.endpoints.server = server;
                conn.info.orientation = orientation;
                conn.info.id = *next_id;
                next_id.bump();
                stats.flows_opened.bump();
                conn.flow = Some(observer.open(&conn.info));
            }
        }

        let side = if seg.src == conn.info.endpoints.client {
            Side::Client
        } else {
            Side::Server
        };
        // Kept past its idle timeout, the flow goes on: how long it was silent (rare: tested,
        // not taken, per packet).
        let resumed = if conn.idle_kept {
            conn.idle_kept = false;
            Some(seg.ts.nanos_since(conn.info.last_ts))
        } else {
            None
        };
        let info = &mut conn.info;
        let packets = pick(&mut info.packets, side);
        packets.bump();
        let bytes = pick(&mut info.bytes, side);
        *bytes = bytes.saturating_add(seg.payload.len().saturate());
        info.last_ts = info.last_ts.max(seg.ts);
        info.last_frame = seg.frame;

        let Some(flow) = conn.flow.as_mut() else {
            // Still waiting for orientation: a RST ends it without a word.
            return if seg.flags.rst() {
                Outcome::Close(FlowEnd::Reset)
            } else {
                Outcome::Continue
            };
        };
        let [client, server] = &mut conn.streams;
        let (this, other) = match side {
            Side::Client => (client, server),
            Side::Server => (server, client),
        };
        let mut ctx = Delivery {
            observer,
            flow,
            info,
            stats,
            cfg,
            buffered_total,
            side,
            ts: seg.ts,
            frame: seg.frame,
        };
        if let Some(silent_ns) = resumed {
            resumed_after(&mut ctx, seg.ts, silent_ns);
        }

        if seg.flags.syn() {
            syn_segment(&mut ctx, this, seg);
        } else if !seg.flags.rst() {
            // Meaningful with ACK (RFC 9293 3.1), which every segment after the SYN carries; a
            // RST's (maybe forged) is not taken.
            this.last_window = Some(seg.window);
        }
        if seg.fragment_conflicts > 0 && seg.flags.rst() {
            this.fragment_conflict(&mut ctx, seg, fragment_copy);
        }
        if seg.flags.rst() {
            match this.rst_check(seg.seq, receive_window(other, this)) {
                RstCheck::Accept => {}
                RstCheck::Challenge { distance } => {
                    ctx.ignored(Ignored::RstInWindow { distance });
                    return Outcome::Continue;
                }
                RstCheck::OutOfWindow { distance } => {
                    ctx.ignored(Ignored::RstOutOfWindow { distance });
                    return Outcome::Continue;
                }
            }
        }
        if seg.flags.ack() {
            other.on_peer_ack(seg.ack);
        }
        if !seg.flags.rst() {
            let data_seq = seg.seq.wrapping_add(u32::from(seg.flags.syn()));
            this.on_segment(&mut ctx, data_seq, seg.payload, seg.flags.fin());
            if seg.fragment_conflicts > 0 {
                // After the kept bytes, so that the observer compares the copy with them.
                this.fragment_conflict(&mut ctx, seg, fragment_copy);
            }
            return if this.fin_delivered && other.fin_delivered {
                Outcome::Close(FlowEnd::Closed)
            } else {
                Outcome::Continue
            };
        }

        // RST: everything that was waiting goes out first, then the RST, then the close.
        *pick(&mut ctx.info.rst, side) = true;
        this.flush(&mut ctx);
        ctx.side = side.peer();
        other.flush(&mut ctx);
        ctx.side = side;
        ctx.emit(TcpEvent::Rst { side, ts: seg.ts });
        Outcome::Close(if this.fin_seen() || other.fin_seen() {
            FlowEnd::Closed
        } else {
            FlowEnd::Reset
        })
    }

    fn close(&mut self, idx: usize, reason: FlowEnd) {
        let Some(mut conn) = self.table.remove(idx) else {
            return;
        };
        // A flow kept open past its idle timeout and silent since ended by it.
        let reason = match reason {
            FlowEnd::EndOfCapture | FlowEnd::Evicted if conn.idle_kept => FlowEnd::IdleTimeout,
            other => other,
        };
        let Some(mut flow) = conn.flow.take() else {
            self.stats.pending_flows_dropped.bump();
            if reason == FlowEnd::Reset {
                self.add_tomb(conn.key, None, false, None, conn.info.last_ts);
            }
            return;
        };
        let (ts, frame) = (conn.info.last_ts, conn.info.last_frame);
        let held = conn.held_syn.take();
        if held.is_some() {
            self.held_syns = self.held_syns.saturating_sub(1);
        }
        let [client, server] = &mut conn.streams;
        let mut ctx = Delivery {
            observer: &mut self.observer,
            flow: &mut flow,
            info: &mut conn.info,
            stats: &mut self.stats,
            cfg: &self.cfg,
            buffered_total: &mut self.buffered_total,
            side: Side::Client,
            ts,
            frame,
        };
        if let Some(h) = held {
            ctx.ignored_syn(h);
        }
        client.flush(&mut ctx);
        ctx.side = Side::Server;
        server.flush(&mut ctx);
        // Whatever the streams still hold (nothing after a flush) no longer counts.
        self.buffered_total = self
            .buffered_total
            .saturating_sub(client.buffered())
            .saturating_sub(server.buffered());
        let client_isn = client.isn;
        conn.info.acked_unseen = [client.acked_unseen(), server.acked_unseen()];
        conn.info.seen_until = self.now.unwrap_or(ts).max(ts);
        let established = server.has_base();
        self.observer.close(flow, &conn.info, reason);
        let s = &mut self.stats;
        match reason {
            FlowEnd::Closed => s.flows_finished.bump(),
            FlowEnd::Reset => s.flows_reset.bump(),
            FlowEnd::IdleTimeout => s.flows_idle_closed.bump(),
            FlowEnd::Evicted => s.flows_evicted.bump(),
            FlowEnd::PortReused => s.flows_port_reused.bump(),
            FlowEnd::EndOfCapture => s.flows_open_at_end.bump(),
        }
        if matches!(reason, FlowEnd::Closed | FlowEnd::Reset) {
            let id = conn.info.told_after_close(reason).then_some(conn.info.id);
            self.add_tomb(conn.key, client_isn, established, id, conn.info.last_ts);
        }
    }

    fn add_tomb(
        &mut self,
        key: FlowKey,
        client_isn: Option<u32>,
        established: bool,
        id: Option<u64>,
        last_ts: Timestamp,
    ) {
        let now = self.now.unwrap_or(last_ts);
        let expires = Timestamp(now.0.saturating_add(self.cfg.closed_linger_ns));
        let replaced = self.tombs.insert(
            key,
            Tomb {
                expires,
                client_isn: client_isn.unwrap_or_default(),
                client_isn_known: client_isn.is_some(),
                established,
                watched: id.is_some(),
            },
        );
        if let Some(old) = replaced {
            self.release(key, &old);
        }
        self.tomb_queue.push_back((key, expires));
        if let Some(id) = id {
            self.watched.insert(
                key,
                Watch {
                    id,
                    closed_at: last_ts,
                    late: AfterClose::default(),
                },
            );
            let until = Timestamp(now.0.saturating_add(AFTER_CLOSE_REPORT_NS));
            self.after_close_queue.push_back((key, until, id));
            self.after_close_due = self.after_close_due.min(until);
            if self.after_close_queue.len() > self.cfg.max_flows.max(1) {
                self.tell_after_close(now);
            }
        }
    }
}

impl<O: FlowObserver> Reassembler<O> {
    /// A closed flow's addresses and ports are forgotten: the observer learns what came after.
    fn release(&mut self, key: FlowKey, tomb: &Tomb) {
        if tomb.watched {
            if let Some(w) = self.watched.remove(&key) {
                self.observer.after_close(w.id, &w.late);
            }
        }
    }
}

/// (client, server) by the higher-port rule; equal ports fall back to the source as client.
fn higher_port_first(seg: &TcpPacket<'_>) -> (SocketAddr, SocketAddr) {
    if seg.dst.port() > seg.src.port() {
        (seg.dst, seg.src)
    } else {
        (seg.src, seg.dst)
    }
}
