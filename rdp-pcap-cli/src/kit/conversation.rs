//! A TCP conversation that keeps its own sequence numbers and clock, and the packet list it
//! produces, which a test filters (drop, cut, one direction, duplicate, reorder) before writing.

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};

use pcap_parser::Linktype;
use rdp_wire::{Side, Timestamp};

use super::frame::{tcp_flags, Link, TcpSegment, CLIENT_MAC, SERVER_MAC};
use super::writer::{CaptureWriter, Format};

/// 2026-01-01T00:00:00Z: where a conversation's clock starts unless told otherwise.
pub const DEFAULT_START: Timestamp = Timestamp(1_767_225_600_000_000_000);

/// The most TCP data one IPv4 packet without options carries (65,535 - 20 - 20 bytes).
pub const MAX_SEGMENT: usize = 65_495;

/// One packet of a capture being built: its time, its link type and its frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Capture time.
    pub ts: Timestamp,
    /// The LINKTYPE_* of the interface it is captured on.
    pub link: Linktype,
    /// The frame, from the link header on.
    pub frame: Vec<u8>,
    /// Who sent it, for the packets of a [`Conversation`]; `None` for a raw frame.
    pub side: Option<Side>,
    /// The TCP flags byte (0 for a raw frame).
    pub flags: u8,
    /// TCP data bytes it carries.
    pub payload_len: usize,
}

impl Packet {
    /// The escape hatch for what no builder makes (bad lengths, IP fragments, odd link
    /// types): `frame` as it is, captured at `ts` on an interface of type `link`.
    pub fn raw(ts: Timestamp, link: Linktype, frame: Vec<u8>) -> Self {
        Packet {
            ts,
            link,
            frame,
            side: None,
            flags: 0,
            payload_len: 0,
        }
    }
}

/// One TCP connection between `client` and `server` written packet by packet: sequence and
/// acknowledgment numbers follow the data sent, every packet is `step_ns` after the one
/// before.
///
/// ```
/// use rdp_pcap::kit::Conversation;
/// use rdp_wire::Side;
///
/// let mut c = Conversation::new("10.0.0.2:50000".parse().unwrap(), "10.0.0.1:3389".parse().unwrap());
/// c.handshake()
///     .send(Side::Client, b"\x03\x00\x00\x07\x02\xf0\x80")
///     .close();
/// // SYN, SYN-ACK, ACK, the data, two FINs.
/// assert_eq!(c.packets().len(), 6);
/// assert_eq!(c.next_seq, [1_000_000 + 1 + 7 + 1, 7_000_000 + 1 + 1]);
/// ```
#[derive(Debug, Clone)]
pub struct Conversation {
    /// The client's address and port.
    pub client: SocketAddr,
    /// The server's address and port.
    pub server: SocketAddr,
    /// The next sequence number each side sends, client first (see [`Side::index`]).
    pub next_seq: [u32; 2],
    /// What carries the IP packets.
    pub link: Link,
    /// The window both sides announce.
    pub window: u16,
    /// The most data one segment carries; [`Conversation::send`] splits longer data.
    pub mss: usize,
    /// Capture time of the next packet.
    pub clock: Timestamp,
    /// Nanoseconds added to the clock after each packet.
    pub step_ns: i64,
    packets: Vec<Packet>,
}

impl Conversation {
    /// A conversation with initial sequence numbers 1,000,000 (client) and 7,000,000
    /// (server), Ethernet framing, packets 10 µs apart from [`DEFAULT_START`].
    pub fn new(client: SocketAddr, server: SocketAddr) -> Self {
        Conversation {
            client,
            server,
            next_seq: [1_000_000, 7_000_000],
            link: Link::Ethernet,
            window: 0xffff,
            mss: MAX_SEGMENT,
            clock: DEFAULT_START,
            step_ns: 10_000,
            packets: Vec::new(),
        }
    }

    /// The same with another framing.
    pub fn with_link(mut self, link: Link) -> Self {
        self.link = link;
        self
    }

    /// The same with data split into segments of at most `mss` bytes (at least 1).
    pub fn with_mss(mut self, mss: usize) -> Self {
        self.mss = mss.clamp(1, MAX_SEGMENT);
        self
    }

    /// The same starting at `start`, packets `step_ns` apart.
    pub fn with_clock(mut self, start: Timestamp, step_ns: i64) -> Self {
        self.clock = start;
        self.step_ns = step_ns;
        self
    }

    /// One segment from `side` carrying `payload` at `offset` bytes past that side's next
    /// sequence number, acknowledging everything the peer sent; nothing advances but the
    /// clock. The general form of every other method, and the way to send out of order.
    pub fn segment_at(&mut self, side: Side, flags: u8, offset: u32, payload: &[u8]) -> &mut Self {
        let (src, dst, src_mac, dst_mac) = match side {
            Side::Client => (self.client, self.server, CLIENT_MAC, SERVER_MAC),
            Side::Server => (self.server, self.client, SERVER_MAC, CLIENT_MAC),
        };
        let segment = TcpSegment {
            src,
            dst,
            seq: side.of(&self.next_seq).wrapping_add(offset),
            ack: *side.peer().of(&self.next_seq),
            flags,
            window: self.window,
            payload,
        };
        self.packets.push(Packet {
            ts: self.clock,
            link: self.link.linktype(),
            frame: segment.frame(self.link, src_mac, dst_mac),
            side: Some(side),
            flags,
            payload_len: payload.len(),
        });
        self.clock = Timestamp(self.clock.0.saturating_add(self.step_ns));
        self
    }

    /// Moves `side`'s next sequence number `n` bytes on.
    pub fn advance(&mut self, side: Side, n: u32) -> &mut Self {
        let [client, server] = &mut self.next_seq;
        let seq = match side {
            Side::Client => client,
            Side::Server => server,
        };
        *seq = seq.wrapping_add(n);
        self
    }

    /// Moves the clock `ns` nanoseconds on (back when negative).
    pub fn wait(&mut self, ns: i64) -> &mut Self {
        self.clock = Timestamp(self.clock.0.saturating_add(ns));
        self
    }

    /// The client's SYN.
    pub fn syn(&mut self) -> &mut Self {
        self.segment_at(Side::Client, tcp_flags::SYN, 0, &[])
            .advance(Side::Client, 1)
    }

    /// The server's SYN-ACK.
    pub fn syn_ack(&mut self) -> &mut Self {
        self.segment_at(Side::Server, tcp_flags::SYN | tcp_flags::ACK, 0, &[])
            .advance(Side::Server, 1)
    }

    /// A bare ACK from `side`.
    pub fn ack(&mut self, side: Side) -> &mut Self {
        self.segment_at(side, tcp_flags::ACK, 0, &[])
    }

    /// The three-way handshake: SYN, SYN-ACK, ACK (RFC 9293 3.5).
    pub fn handshake(&mut self) -> &mut Self {
        self.syn().syn_ack().ack(Side::Client)
    }

    /// `data` from `side`, in order, in segments of at most [`Conversation::mss`] bytes
    /// (PSH and ACK set); empty data sends nothing (a bare ACK is [`Conversation::ack`]).
    pub fn send(&mut self, side: Side, data: &[u8]) -> &mut Self {
        for chunk in data.chunks(self.mss.max(1)) {
            let n = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
            self.segment_at(side, tcp_flags::PSH | tcp_flags::ACK, 0, chunk)
                .advance(side, n);
        }
        self
    }

    /// A FIN from `side`.
    pub fn fin(&mut self, side: Side) -> &mut Self {
        self.segment_at(side, tcp_flags::FIN | tcp_flags::ACK, 0, &[])
            .advance(side, 1)
    }

    /// A RST from `side`.
    pub fn rst(&mut self, side: Side) -> &mut Self {
        self.segment_at(side, tcp_flags::RST | tcp_flags::ACK, 0, &[])
    }

    /// An orderly close: the client's FIN, then the server's.
    pub fn close(&mut self) -> &mut Self {
        self.fin(Side::Client).fin(Side::Server)
    }

    /// The packets written so far.
    pub fn packets(&self) -> &[Packet] {
        &self.packets
    }

    /// The packets written so far, leaving none (sequence numbers and clock stay).
    pub fn take_packets(&mut self) -> Vec<Packet> {
        std::mem::take(&mut self.packets)
    }

    /// The packets, as a list to filter and write.
    pub fn into_packets(self) -> Packets {
        Packets(self.packets)
    }
}

/// A capture's packets in file order: what a test drops, cuts, filters, duplicates or
/// reorders before writing. Every method leaves the list unchanged when an index is out of
/// range.
///
/// ```
/// use rdp_pcap::kit::Conversation;
/// use rdp_wire::Side;
///
/// let mut c = Conversation::new("10.0.0.2:50000".parse().unwrap(), "10.0.0.1:3389".parse().unwrap())
///     .with_mss(100);
/// c.handshake().send(Side::Client, &[0x17; 250]).send(Side::Server, &[0x17; 20]).close();
/// let packets = c.into_packets();
/// // The second of the client's three data segments lost, as a capture would miss it.
/// let lost = packets.nth_data(Side::Client, 1).unwrap();
/// let capture = packets.without(lost).to_pcapng(None);
/// # assert!(!capture.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packets(pub Vec<Packet>);

impl Packets {
    /// The index of the `n`th (from 0) packet from `side` that carries data.
    pub fn nth_data(&self, side: Side, n: usize) -> Option<usize> {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, p)| p.side == Some(side) && p.payload_len > 0)
            .nth(n)
            .map(|(i, _)| i)
    }

    /// Without packet `i`: lost before the capture point.
    pub fn without(mut self, i: usize) -> Self {
        if i < self.0.len() {
            self.0.remove(i);
        }
        self
    }

    /// Only what `side` sent: a capture that saw one direction.
    pub fn only(mut self, side: Side) -> Self {
        self.0.retain(|p| p.side == Some(side));
        self
    }

    /// The first `n` packets: a capture stopped early.
    pub fn cut_after(mut self, n: usize) -> Self {
        self.0.truncate(n);
        self
    }

    /// Packet `i` twice in a row (a retransmission the capture saw), the copy at the same
    /// time.
    pub fn duplicated(mut self, i: usize) -> Self {
        if let Some(p) = self.0.get(i).cloned() {
            self.0.insert(i.saturating_add(1), p);
        }
        self
    }

    /// Packets `i` and `j` swapped, each taking the other's time so that the capture's
    /// clock still runs forward: the network delivered them out of order.
    pub fn reordered(mut self, i: usize, j: usize) -> Self {
        if i < self.0.len() && j < self.0.len() {
            self.0.swap(i, j);
            let ti = self.0.get(i).map(|p| p.ts);
            let tj = self.0.get(j).map(|p| p.ts);
            if let (Some(ti), Some(tj), Some(pi)) = (ti, tj, self.0.get_mut(i)) {
                pi.ts = tj;
                if let Some(pj) = self.0.get_mut(j) {
                    pj.ts = ti;
                }
            }
        }
        self
    }

    /// The packets as a pcapng file (one interface per link type), with `tls_key_log` (NSS
    /// key log text) in a Decryption Secrets Block before them when given.
    pub fn to_pcapng(&self, tls_key_log: Option<&[u8]>) -> Vec<u8> {
        let written = CaptureWriter::new(Vec::new(), Format::Pcapng, 0).and_then(|mut w| {
            if let Some(keys) = tls_key_log {
                w.tls_key_log(keys)?;
            }
            for p in &self.0 {
                w.packet(p)?;
            }
            Ok(w.into_inner())
        });
        // INVARIANT: writing to a vector fails only on a timestamp a pcapng cannot hold
        // (before 1970), which the kit's clocks never reach unless a test sets one.
        written.unwrap_or_default()
    }
}

impl Deref for Packets {
    type Target = Vec<Packet>;

    fn deref(&self) -> &Vec<Packet> {
        &self.0
    }
}

impl DerefMut for Packets {
    fn deref_mut(&mut self) -> &mut Vec<Packet> {
        &mut self.0
    }
}

impl From<Vec<Packet>> for Packets {
    fn from(v: Vec<Packet>) -> Self {
        Packets(v)
    }
}
