//! Capture files in, TCP segments out.
//!
//! # Scope
//! - Classic pcap (both byte orders, microsecond and nanosecond magic, and the "modified"
//!   Kuznetzov variant) and pcapng (several sections, each with its own byte order and
//!   interfaces; per-interface link type, `if_tsresol` and `if_tsoffset`; Enhanced, Simple and
//!   the obsolete Packet Block; Decryption Secrets Blocks holding a TLS key log).
//! - Link types Ethernet (with 802.1Q/QinQ tags, PPPoE, MPLS), Linux cooked v1 and v2, raw IP,
//!   IPv4, IPv6, BSD NULL and LOOP (see `link`).
//! - IPv4 and IPv6 (with extension headers) via `etherparse`, IP fragment reassembly with
//!   bounded memory (see `defrag`), and the TCP header. Checksums are not verified: loopback
//!   captures carry offloaded, never-computed checksums.
//! - A packet captured at several interfaces of a pcapng section (Windows' Packet Monitor
//!   writes it once per network stack component) is decoded once; the other copies are
//!   counted in [`CaptureStats::duplicate_packets`] (see `copies`).
//!
//! # Streaming and memory
//! The file is read through `pcap-parser`'s streaming readers over one fixed buffer
//! ([`CaptureLimits::buffer_size`]), refilled as records are consumed. A record larger than the
//! buffer grows it, up to [`CaptureLimits::max_record`]; a record claiming more than that is
//! reported as [`CaptureProblem::RecordTooLarge`] without reading it. Before each record a cheap
//! length probe checks the declared length, so pcap-parser's "incomplete" can always be
//! resolved: more data is read, the buffer grows, or the file ends ([`CaptureProblem::Truncated`])
//! or lies about its lengths ([`CaptureProblem::Corrupt`]). Nothing else grows with the file:
//! fragment state, interface tables, key logs and problem lists all have caps.
//!
//! # Errors
//! Reading never fails outright: [`read_capture`] returns a [`CaptureSummary`] with what was
//! read and the problems met. A fatal problem (not a capture, cut short, corrupt, I/O error)
//! ends reading; everything before it has been delivered. Non-fatal problems (an unknown link
//! type, packets on an undeclared interface ...) are counted and reading goes on.
//!
//! # Frame numbers
//! Every packet record (pcap record, EPB, SPB, obsolete Packet Block) gets the next number from
//! 1, whatever it carries, so numbers match tshark's `frame.number`.

#![warn(clippy::arithmetic_side_effects)]
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

use std::io::{self, Read};
use std::net::SocketAddr;

use rdp_wire::Timestamp;

mod blocks;
mod copies;
mod decode;
mod defrag;
mod link;
mod reader;
#[cfg(test)]
mod tests;

use blocks::State;
use reader::{sniff, start, Magic, Source};

rdp_wire::open_flags! {
    /// The TCP flags byte (RFC 9293 section 3.1, with ECE/CWR from RFC 3168); unknown bits kept.
    pub struct TcpFlags(u8) {
        /// No more data from sender.
        FIN = 0x01 => "FIN",
        /// Synchronize sequence numbers.
        SYN = 0x02 => "SYN",
        /// Reset the connection.
        RST = 0x04 => "RST",
        /// Push function.
        PSH = 0x08 => "PSH",
        /// Acknowledgment field is significant.
        ACK = 0x10 => "ACK",
        /// Urgent pointer field is significant.
        URG = 0x20 => "URG",
        /// ECN-Echo.
        ECE = 0x40 => "ECE",
        /// Congestion Window Reduced.
        CWR = 0x80 => "CWR",
    }
}

impl TcpFlags {
    /// FIN is set.
    pub fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    /// SYN is set.
    pub fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    /// RST is set.
    pub fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    /// PSH is set.
    pub fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    /// ACK is set.
    pub fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    /// URG is set.
    pub fn urg(self) -> bool {
        self.contains(Self::URG)
    }
}

/// One TCP segment as captured: what the capture reader hands out and the reassembler takes
/// in (one type from file to reassembly; the second decoding thread hands it over too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpPacket<'a> {
    /// 1-based number of the packet record in the file, as tshark numbers frames; for a
    /// segment rebuilt from IP fragments, the record of the fragment that completed it.
    pub frame: u64,
    /// Capture time of that record.
    pub ts: Timestamp,
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// Sequence number (raw, not relative).
    pub seq: u32,
    /// Acknowledgment number (raw; meaningful only with ACK).
    pub ack: u32,
    /// The flags byte.
    pub flags: TcpFlags,
    /// Window field (unscaled).
    pub window: u16,
    /// TCP options (between the fixed 20-byte header and the data offset).
    pub options: &'a [u8],
    /// TCP payload, limited to what the IP length fields cover (link padding removed).
    pub payload: &'a [u8],
    /// The capture's snapshot length cut the packet: `payload` holds only the captured part.
    pub payload_truncated: bool,
    /// The segment was rebuilt from IP fragments.
    pub reassembled: bool,
    /// Rebuilt from IP fragments that overlapped with other bytes: how many positions
    /// differed (the later fragment's bytes were kept), at most 65,535 as a datagram is. 0
    /// otherwise. (A `u16` keeps the packet within the decoder's 144-byte batch entry.)
    pub fragment_conflicts: u16,
    /// Not a segment on the wire: the payload of the segment that comes next (rebuilt from
    /// IP fragments with `fragment_conflicts`) as the *earlier* of the overlapping fragments
    /// had it, the later ones' bytes having been kept. The reassembler reads it only as the
    /// other copy for findings, as it does a TCP retransmission with other bytes; it is not
    /// counted, delivered or acted on. False for every segment of the capture.
    pub fragment_copy: bool,
}

impl TcpPacket<'_> {
    /// This packet with `payload` for its payload and no TCP options: the form in which a
    /// decoded packet outlives the reader's buffer (`decoder.rs` copies payloads, and the
    /// options of SYNs only: past the capture reader, only the window scale a SYN announces is
    /// read).
    pub fn with_payload<'p>(&self, payload: &'p [u8]) -> TcpPacket<'p> {
        TcpPacket {
            frame: self.frame,
            ts: self.ts,
            src: self.src,
            dst: self.dst,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            window: self.window,
            options: &[],
            payload,
            payload_truncated: self.payload_truncated,
            reassembled: self.reassembled,
            fragment_conflicts: self.fragment_conflicts,
            fragment_copy: self.fragment_copy,
        }
    }
}

/// Counters over one capture. Every packet record lands in exactly one of `tcp_packets`,
/// `non_tcp_packets`, `undecodable_packets`, `unknown_linktype_packets`,
/// `ip_fragments_seen` and `duplicate_packets`; the other counters overlap those.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packet records read (the last frame number).
    pub packets: u64,
    /// Captured bytes in those records (link headers included).
    pub bytes: u64,
    /// Records that gave a [`TcpPacket`].
    pub tcp_packets: u64,
    /// Well-formed records that carry something other than TCP (ARP, UDP, ICMP ...).
    pub non_tcp_packets: u64,
    /// Records whose link, IP or TCP header is cut short or malformed, or that name an
    /// interface the section did not describe.
    pub undecodable_packets: u64,
    /// Records on an interface whose link type is not decoded.
    pub unknown_linktype_packets: u64,
    /// IP packets whose length fields promise more bytes than were captured (snapshot length).
    pub truncated_packets: u64,
    /// Records dropped as copies of a packet already delivered from another interface of the
    /// section (Packet Monitor's appearances of one packet at several components, a bridge
    /// and its ports): see `copies`. Not decoded further.
    pub duplicate_packets: u64,
    /// Records that carry an IP fragment.
    pub ip_fragments_seen: u64,
    /// Fragments that went into a complete datagram.
    pub ip_fragments_reassembled: u64,
    /// Fragments given up (timeout, memory cap, inconsistent, truncated, or pending at the end);
    /// at the end `ip_fragments_seen == ip_fragments_reassembled + ip_fragments_dropped`.
    pub ip_fragments_dropped: u64,
    /// Datagrams rebuilt from fragments.
    pub ip_datagrams_reassembled: u64,
    /// [`TcpPacket`]s rebuilt from fragments (not in `tcp_packets`).
    pub reassembled_tcp_packets: u64,
    /// pcapng sections (Section Header Blocks).
    pub sections: u64,
    /// Interfaces described (Interface Description Blocks; 1 for classic pcap).
    pub interfaces: u64,
    /// Decryption Secrets Blocks seen, of any secrets type.
    pub decryption_secrets_blocks: u64,
    /// pcapng blocks skipped (statistics, name resolution, custom, unknown ...).
    pub ignored_blocks: u64,
    /// Non-fatal problems not listed because the list was full.
    pub problems_suppressed: u64,
}

impl CaptureStats {
    /// Every [`TcpPacket`] delivered: direct ones and those rebuilt from fragments.
    pub fn tcp_segments(&self) -> u64 {
        self.tcp_packets
            .saturating_add(self.reassembled_tcp_packets)
    }
}

/// Something wrong with a capture. Fatal problems end reading; see [`CaptureProblem::is_fatal`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureProblem {
    /// No bytes at all.
    #[error("the input is empty")]
    Empty,
    /// The first bytes are no pcap or pcapng magic number.
    #[error("not a pcap or pcapng capture (first bytes {magic:#010x})")]
    NotACapture {
        /// The first four bytes, big-endian, zero-padded when the input is shorter.
        magic: u32,
    },
    /// The file ends inside a record.
    #[error("capture cut short: {bytes} bytes of an incomplete record at offset {offset}")]
    Truncated {
        /// File offset where the incomplete record starts.
        offset: u64,
        /// How many bytes of it the file holds.
        bytes: u64,
    },
    /// A record declares a length above [`CaptureLimits::max_record`].
    #[error("record at offset {offset} claims {length} bytes, more than the limit of {limit}")]
    RecordTooLarge {
        /// File offset of the record.
        offset: u64,
        /// The length it declares.
        length: u64,
        /// The limit in force.
        limit: u64,
    },
    /// The file's structure is broken at `offset`.
    #[error("corrupt capture at offset {offset}: {reason}")]
    Corrupt {
        /// File offset of the record that could not be parsed.
        offset: u64,
        /// What is wrong, in words.
        reason: String,
    },
    /// Reading the input failed.
    #[error("read error: {0}")]
    Io(#[source] io::Error),
    /// A compressed input ends inside its compressed stream (see `input::decompress`).
    #[error("{compression} stream cut short after {decompressed} decompressed bytes")]
    CompressedTruncated {
        /// The compression format.
        compression: crate::input::Compression,
        /// Capture bytes decompressed before the end.
        decompressed: u64,
    },
    /// A compressed input's stream is corrupt, or needs more memory than allowed.
    #[error("corrupt {compression} stream after {decompressed} decompressed bytes: {reason}")]
    CompressedCorrupt {
        /// The compression format.
        compression: crate::input::Compression,
        /// Capture bytes decompressed before the damage.
        decompressed: u64,
        /// What the decoder found, in words.
        reason: String,
    },
    /// Packets on an interface whose link type this reader does not decode.
    #[error("{packets} packets on interface {interface} (section {section}) have link type {linktype}, which is not decoded")]
    UnknownLinkType {
        /// pcapng section number from 0 (0 for classic pcap).
        section: u64,
        /// Interface number within the section.
        interface: u32,
        /// The LINKTYPE_* value.
        linktype: u16,
        /// Packets skipped because of it.
        packets: u64,
    },
    /// Packets naming an interface their section did not describe.
    #[error(
        "{packets} packets name interface {interface}, which section {section} does not describe"
    )]
    UnknownInterface {
        /// pcapng section number from 0.
        section: u64,
        /// The interface number the packets name.
        interface: u32,
        /// Packets skipped because of it.
        packets: u64,
    },
    /// An interface's `if_tsresol` cannot be used; microseconds are assumed.
    #[error("interface {interface} (section {section}) has an unusable timestamp resolution {tsresol:#04x}; microseconds assumed")]
    BadTimestampResolution {
        /// pcapng section number from 0.
        section: u64,
        /// Interface number within the section.
        interface: u32,
        /// The raw `if_tsresol` byte.
        tsresol: u8,
    },
    /// An interface's `if_tsoffset` option is too short to hold its 8 bytes (pcapng section
    /// 4.2); its timestamps are read without an offset.
    #[error("interface {interface} (section {section}) has an if_tsoffset of {length} bytes instead of 8; no offset applied")]
    ShortTimestampOffset {
        /// pcapng section number from 0.
        section: u64,
        /// Interface number within the section.
        interface: u32,
        /// The length the option declares.
        length: u16,
    },
    /// A section describes more interfaces than [`CaptureLimits::max_interfaces`].
    #[error("section {section} describes more than {limit} interfaces; the rest are ignored")]
    TooManyInterfaces {
        /// pcapng section number from 0.
        section: u64,
        /// The limit in force.
        limit: u64,
    },
    /// TLS key-log secrets beyond [`CaptureLimits::max_key_log_bytes`] were dropped.
    #[error("decryption secrets beyond {limit} bytes were dropped")]
    KeyLogTooLarge {
        /// The limit in force.
        limit: u64,
    },
}

impl CaptureProblem {
    /// Whether this problem ended reading.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            CaptureProblem::Empty
                | CaptureProblem::NotACapture { .. }
                | CaptureProblem::Truncated { .. }
                | CaptureProblem::RecordTooLarge { .. }
                | CaptureProblem::Corrupt { .. }
                | CaptureProblem::Io(_)
                | CaptureProblem::CompressedTruncated { .. }
                | CaptureProblem::CompressedCorrupt { .. }
        )
    }
}

/// The container format, as far as it was recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Not recognised (empty input or no magic number).
    Unknown,
    /// Classic libpcap format.
    Pcap {
        /// Nanosecond timestamps (magic 0xa1b23c4d).
        nanos: bool,
        /// Written big-endian.
        big_endian: bool,
    },
    /// pcapng.
    PcapNg {
        /// Section Header Blocks seen.
        sections: u64,
    },
}

/// What reading a capture gave, besides the packets handed to the callback.
#[derive(Debug)]
pub struct CaptureSummary {
    /// The container format.
    pub format: CaptureFormat,
    /// Counters.
    pub stats: CaptureStats,
    /// Problems in the order met; a fatal one, if any, is last.
    pub problems: Vec<CaptureProblem>,
    /// Contents of pcapng Decryption Secrets Blocks of type TLS key log (NSS key log text),
    /// in file order.
    pub tls_key_logs: Vec<Vec<u8>>,
    /// Earliest packet timestamp.
    pub first_ts: Option<Timestamp>,
    /// Latest packet timestamp.
    pub last_ts: Option<Timestamp>,
}

impl CaptureSummary {
    /// The problem that ended reading early, if any.
    pub fn fatal(&self) -> Option<&CaptureProblem> {
        self.problems.last().filter(|p| p.is_fatal())
    }

    /// Whether the whole input was read.
    pub fn is_complete(&self) -> bool {
        self.fatal().is_none()
    }
}

/// Bounds on the memory a capture can make the reader use.
#[derive(Clone, Debug)]
pub struct CaptureLimits {
    /// Initial read buffer (clamped to at least 64 bytes).
    pub buffer_size: usize,
    /// Largest record accepted; the buffer grows up to this.
    pub max_record: usize,
    /// Interfaces kept per pcapng section.
    pub max_interfaces: usize,
    /// Total bytes of TLS key logs kept.
    pub max_key_log_bytes: usize,
    /// Non-fatal problems listed (the rest are counted).
    pub max_problems: usize,
    /// IP datagrams pending reassembly at once.
    pub max_pending_datagrams: usize,
    /// Bytes held by pending datagrams.
    pub max_pending_fragment_bytes: usize,
    /// Fragments per datagram.
    pub max_fragments_per_datagram: usize,
    /// Capture-time seconds after which a datagram missing fragments is dropped.
    pub fragment_timeout_secs: u32,
}

impl Default for CaptureLimits {
    fn default() -> Self {
        CaptureLimits {
            buffer_size: 256 * 1024,
            max_record: 16 * 1024 * 1024,
            max_interfaces: 4096,
            max_key_log_bytes: 16 * 1024 * 1024,
            max_problems: 256,
            max_pending_datagrams: 1024,
            max_pending_fragment_bytes: 8 * 1024 * 1024,
            max_fragments_per_datagram: 1024,
            fragment_timeout_secs: 60,
        }
    }
}

/// Reads a pcap or pcapng capture from `reader`, calling `on_packet` for every TCP segment, in
/// file order; see the module documentation. Never fails and never panics: problems are in
/// the returned summary.
pub fn read_capture<R: Read>(
    reader: R,
    on_packet: &mut dyn FnMut(&TcpPacket<'_>),
) -> CaptureSummary {
    read_capture_with(reader, &CaptureLimits::default(), on_packet)
}

/// [`read_capture`] with explicit limits.
pub fn read_capture_with<R: Read>(
    reader: R,
    limits: &CaptureLimits,
    on_packet: &mut dyn FnMut(&TcpPacket<'_>),
) -> CaptureSummary {
    let mut source = Source::new(reader);
    let head_len = source.read_head();
    let mut state = State::new(limits);
    let stop = start(&mut source, head_len, &mut state, on_packet);
    // A read error ends the input early, which the parser sees as a short file; the read
    // error is the real cause. A decompressing reader's errors carry their own problem.
    let stop = match (source.error.take(), stop) {
        (Some(e), _) => Some(read_problem(e)),
        (None, stop) => stop,
    };
    state.finish(stop)
}

/// The problem a read error stands for: a decompression problem it carries, else the error.
fn read_problem(e: io::Error) -> CaptureProblem {
    if !e
        .get_ref()
        .is_some_and(|inner| inner.is::<CaptureProblem>())
    {
        return CaptureProblem::Io(e);
    }
    match e
        .into_inner()
        .map(|inner| inner.downcast::<CaptureProblem>())
    {
        Some(Ok(problem)) => *problem,
        Some(Err(other)) => CaptureProblem::Io(io::Error::other(other)),
        None => CaptureProblem::Io(io::ErrorKind::Other.into()),
    }
}

/// Whether `first_bytes` (the start of a file, 4 bytes suffice, 12 are checked when given)
/// begin a pcap or pcapng capture.
pub fn looks_like_capture(first_bytes: &[u8]) -> bool {
    matches!(
        sniff(first_bytes),
        Some(Magic::Pcap { .. } | Magic::PcapNg | Magic::PcapModifiedBigEndian)
    )
}
