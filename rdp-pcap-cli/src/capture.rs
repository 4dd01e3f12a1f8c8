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

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::net::SocketAddr;

use pcap_parser::pcapng::{Block, OptionCode, SecretsType};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};

mod decode;
mod defrag;
mod link;
#[cfg(test)]
mod tests;

use defrag::{DefragLimits, Reassembler};

/// A capture timestamp: seconds and nanoseconds since the Unix epoch, UTC.
///
/// INVARIANT: `nanos < 1_000_000_000` for values built by this module, which makes the derived
/// ordering the chronological one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before).
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Timestamp {
    const NANOS_PER_SEC: i128 = 1_000_000_000;

    /// Builds a timestamp, carrying excess nanoseconds into the seconds.
    pub fn new(secs: i64, nanos: u64) -> Self {
        Self::from_nanos(
            i128::from(secs)
                .saturating_mul(Self::NANOS_PER_SEC)
                .saturating_add(i128::from(nanos)),
        )
    }

    /// Nanoseconds since the epoch.
    pub fn as_nanos(self) -> i128 {
        // Cannot overflow: |i64| * 1e9 + 1e9 is far below i128::MAX.
        i128::from(self.secs)
            .saturating_mul(Self::NANOS_PER_SEC)
            .saturating_add(i128::from(self.nanos))
    }

    /// The timestamp `nanos` nanoseconds after the epoch, clamped to the representable range.
    pub fn from_nanos(nanos: i128) -> Self {
        let secs = nanos.div_euclid(Self::NANOS_PER_SEC);
        let frac = nanos.rem_euclid(Self::NANOS_PER_SEC);
        match (i64::try_from(secs), u32::try_from(frac)) {
            (Ok(secs), Ok(nanos)) => Timestamp { secs, nanos },
            _ if secs < 0 => Timestamp {
                secs: i64::MIN,
                nanos: 0,
            },
            _ => Timestamp {
                secs: i64::MAX,
                nanos: 999_999_999,
            },
        }
    }
}

impl fmt::Display for Timestamp {
    /// Seconds with nine decimals, as tshark prints `frame.time_epoch`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.as_nanos();
        let sign = if n < 0 { "-" } else { "" };
        let abs = n.unsigned_abs();
        let per = Self::NANOS_PER_SEC.unsigned_abs();
        write!(f, "{sign}{}.{:09}", abs / per, abs % per)
    }
}

/// The TCP flags byte (RFC 9293 section 3.1, with ECE/CWR from RFC 3168); unknown bits kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// Acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// Urgent pointer field is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECN-Echo.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// Congestion Window Reduced.
    pub const CWR: TcpFlags = TcpFlags(0x80);

    const NAMED: [(u8, &'static str); 8] = [
        (0x01, "FIN"),
        (0x02, "SYN"),
        (0x04, "RST"),
        (0x08, "PSH"),
        (0x10, "ACK"),
        (0x20, "URG"),
        (0x40, "ECE"),
        (0x80, "CWR"),
    ];

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
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

impl fmt::Display for TcpFlags {
    /// Set flags joined by `|` (`SYN|ACK`), or `0` when none is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (bit, name) in Self::NAMED {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("0")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TcpFlags({:#04x}: {self})", self.0)
    }
}

/// One TCP segment as captured.
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
}

/// Counters over one capture. Every packet record lands in exactly one of `tcp_packets`,
/// `non_tcp_packets`, `undecodable_packets`, `unknown_linktype_packets` and
/// `ip_fragments_seen`; the other counters overlap those.
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
    let mut input = Input::new(reader);
    let head_len = input.read_head();
    let mut state = State::new(limits);
    let stop = start(&mut input, head_len, &mut state, on_packet);
    // A read error ends the input early, which the parser sees as a short file; the read
    // error is the real cause.
    let stop = match (input.error.take(), stop) {
        (Some(e), _) => Some(CaptureProblem::Io(e)),
        (None, stop) => stop,
    };
    state.finish(stop)
}

/// Whether `first_bytes` (the start of a file, 4 bytes suffice, 12 are checked when given)
/// begin a pcap or pcapng capture.
pub fn looks_like_capture(first_bytes: &[u8]) -> bool {
    matches!(
        sniff(first_bytes),
        Some(Magic::Pcap { .. } | Magic::PcapNg | Magic::PcapModifiedBigEndian)
    )
}

/// Whether `head`, shorter than a magic number, could be the start of one.
fn is_magic_prefix(head: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 7] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0x34, 0xcd, 0xb2, 0xa1],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0xa1, 0xb2, 0xcd, 0x34],
        SHB_TYPE,
    ];
    head.len() < 4 && MAGICS.iter().any(|m| m.starts_with(head))
}

/// Bytes kept from the start of the input to choose the reader.
const HEAD_LEN: usize = 12;
/// pcapng Section Header Block type; a palindrome, so it reads the same in both byte orders.
const SHB_TYPE: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// The Section Header Block byte-order magic 0x1A2B3C4D as a little-endian writer stores it.
const BOM_LE: [u8; 4] = [0x4d, 0x3c, 0x2b, 0x1a];
/// ... and as a big-endian writer stores it.
const BOM_BE: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];
/// The obsolete pcapng Packet Block (type 2), superseded by the EPB but still readable.
const OBSOLETE_PACKET_BLOCK: u32 = 2;
/// Bounded retries of a read that says "interrupted", so a broken reader cannot spin forever.
const MAX_INTERRUPTS: u32 = 1000;
/// Buffer refills without a record in between before giving up; two always suffice for a
/// consistent file (see `drive`), the margin is for safety.
const MAX_STALLS: u32 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Magic {
    Pcap { nanos: bool, big_endian: bool },
    PcapModifiedBigEndian,
    PcapNg,
}

fn sniff(head: &[u8]) -> Option<Magic> {
    let magic: [u8; 4] = head.get(..4)?.try_into().ok()?;
    match magic {
        // 0xa1b2c3d4 (µs), 0xa1b2cd34 (modified, µs), 0xa1b23c4d (ns) in either byte order
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x34, 0xcd, 0xb2, 0xa1] => Some(Magic::Pcap {
            nanos: false,
            big_endian: false,
        }),
        [0x4d, 0x3c, 0xb2, 0xa1] => Some(Magic::Pcap {
            nanos: true,
            big_endian: false,
        }),
        [0xa1, 0xb2, 0xc3, 0xd4] => Some(Magic::Pcap {
            nanos: false,
            big_endian: true,
        }),
        [0xa1, 0xb2, 0x3c, 0x4d] => Some(Magic::Pcap {
            nanos: true,
            big_endian: true,
        }),
        [0xa1, 0xb2, 0xcd, 0x34] => Some(Magic::PcapModifiedBigEndian),
        SHB_TYPE => match head.get(8..12) {
            Some(bom) if bom != BOM_LE && bom != BOM_BE => None,
            _ => Some(Magic::PcapNg),
        },
        _ => None,
    }
}

/// The input, read in whole buffers: pcap-parser takes a short read for the end of the file,
/// so each `read` fills the buffer unless the input really ends. Errors are kept here and
/// reported as the end of input; the caller reports them after parsing stops.
struct Input<R> {
    inner: R,
    head: [u8; HEAD_LEN],
    head_pos: usize,
    head_len: usize,
    eof: bool,
    error: Option<io::Error>,
    delivered: u64,
}

impl<R: Read> Input<R> {
    fn new(inner: R) -> Self {
        Input {
            inner,
            head: [0; HEAD_LEN],
            head_pos: 0,
            head_len: 0,
            eof: false,
            error: None,
            delivered: 0,
        }
    }

    /// Reads the first bytes into `head` (served again by `read`); returns how many.
    fn read_head(&mut self) -> usize {
        let mut head = [0u8; HEAD_LEN];
        let n = self.fill(&mut head);
        self.head = head;
        self.head_pos = 0;
        self.head_len = n;
        n
    }

    fn head(&self) -> &[u8] {
        self.head.get(..self.head_len).unwrap_or_default()
    }

    fn fill(&mut self, buf: &mut [u8]) -> usize {
        let mut filled = 0usize;
        let mut interrupts = 0u32;
        while filled < buf.len() && !self.eof {
            let Some(space) = buf.get_mut(filled..) else {
                break;
            };
            let room = space.len();
            match self.inner.read(space) {
                Ok(0) => self.eof = true,
                Ok(n) => filled = filled.saturating_add(n.min(room)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted && interrupts < MAX_INTERRUPTS => {
                    interrupts = interrupts.saturating_add(1);
                }
                Err(e) => {
                    self.error = Some(e);
                    self.eof = true;
                }
            }
        }
        filled
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0usize;
        if let Some(head) = self.head.get(self.head_pos..self.head_len) {
            let n = head.len().min(buf.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), head.get(..n)) {
                dst.copy_from_slice(src);
                filled = n;
                self.head_pos = self.head_pos.saturating_add(n);
            }
        }
        if let Some(rest) = buf.get_mut(filled..) {
            filled = filled.saturating_add(self.fill(rest));
        }
        self.delivered = self
            .delivered
            .saturating_add(u64::try_from(filled).unwrap_or(u64::MAX));
        Ok(filled)
    }
}

/// Picks the reader from the magic number and runs it; returns the fatal problem, if any.
fn start<R: Read>(
    input: &mut Input<R>,
    head_len: usize,
    state: &mut State,
    on_packet: &mut dyn FnMut(&TcpPacket<'_>),
) -> Option<CaptureProblem> {
    let head = input.head();
    if head_len == 0 {
        return if input.error.is_some() {
            None
        } else {
            Some(CaptureProblem::Empty)
        };
    }
    let mut magic = [0u8; 4];
    for (dst, src) in magic.iter_mut().zip(head) {
        *dst = *src;
    }
    let limits = state.limits.clone();
    let mut capacity = limits.buffer_size.clamp(64, limits.max_record.max(64));
    match sniff(head) {
        None if is_magic_prefix(head) => Some(CaptureProblem::Truncated {
            offset: 0,
            bytes: u64::try_from(head_len).unwrap_or(u64::MAX),
        }),
        None => Some(CaptureProblem::NotACapture {
            magic: u32::from_be_bytes(magic),
        }),
        Some(Magic::PcapModifiedBigEndian) => Some(CaptureProblem::Corrupt {
            offset: 0,
            reason: "big-endian modified pcap (magic 0xa1b2cd34) is not supported".into(),
        }),
        Some(Magic::Pcap { nanos, big_endian }) => {
            state.format = CaptureFormat::Pcap { nanos, big_endian };
            match LegacyPcapReader::new(capacity, &mut *input) {
                Ok(mut reader) => drive(&mut reader, capacity, state, on_packet),
                Err(e) => Some(header_problem(&e, input.delivered)),
            }
        }
        Some(Magic::PcapNg) => {
            state.format = CaptureFormat::PcapNg { sections: 0 };
            // The reader parses the first Section Header Block from its first buffer: make
            // room for it.
            match probe_pcapng(head, false) {
                Probe::Length(len) if len > limits.max_record => {
                    return Some(CaptureProblem::RecordTooLarge {
                        offset: 0,
                        length: u64::try_from(len).unwrap_or(u64::MAX),
                        limit: u64::try_from(limits.max_record).unwrap_or(u64::MAX),
                    });
                }
                Probe::Length(len) => capacity = capacity.max(len),
                Probe::Bad(reason) => return Some(CaptureProblem::Corrupt { offset: 0, reason }),
                Probe::Short => {}
            }
            match PcapNGReader::new(capacity, &mut *input) {
                Ok(mut reader) => drive(&mut reader, capacity, state, on_packet),
                Err(e) => Some(header_problem(&e, input.delivered)),
            }
        }
    }
}

fn header_problem(e: &PcapError<&[u8]>, delivered: u64) -> CaptureProblem {
    match e {
        PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::Eof => {
            CaptureProblem::Truncated {
                offset: 0,
                bytes: delivered,
            }
        }
        other => CaptureProblem::Corrupt {
            offset: 0,
            reason: format!("invalid file header: {}", describe(other)),
        },
    }
}

fn describe(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("record does not parse ({kind:?})")
        }
        PcapError::HeaderNotRecognized => "header not recognised".into(),
        PcapError::BufferTooSmall => "record larger than the buffer".into(),
        PcapError::ReadError => "read error".into(),
        PcapError::Eof | PcapError::UnexpectedEof | PcapError::Incomplete(_) => {
            "unexpected end of data".into()
        }
    }
}

/// The declared length of the record at the start of the buffer.
#[derive(Debug, PartialEq, Eq)]
enum Probe {
    /// The whole record, headers included, is this many bytes.
    Length(usize),
    /// Not enough bytes to tell.
    Short,
    /// The length fields are impossible.
    Bad(String),
}

/// Probes a pcapng block: type (4), total length (4) in the section's byte order; a Section
/// Header Block states its own byte order in the 4 bytes after.
fn probe_pcapng(data: &[u8], big_endian: bool) -> Probe {
    let (Some(block_type), Some(len)) = (data.get(0..4), data.get(4..8)) else {
        return Probe::Short;
    };
    let big_endian = if block_type == SHB_TYPE {
        match data.get(8..12) {
            None => return Probe::Short,
            Some(bom) if bom == BOM_LE => false,
            Some(bom) if bom == BOM_BE => true,
            Some(_) => return Probe::Bad("section header with an unknown byte-order magic".into()),
        }
    } else {
        big_endian
    };
    let Ok(len) = <[u8; 4]>::try_from(len) else {
        return Probe::Short;
    };
    let len = if big_endian {
        u32::from_be_bytes(len)
    } else {
        u32::from_le_bytes(len)
    };
    if len < 12 {
        return Probe::Bad(format!("block length {len} is below the 12-byte minimum"));
    }
    if len % 4 != 0 {
        return Probe::Bad(format!("block length {len} is not a multiple of 4"));
    }
    usize::try_from(len).map_or(Probe::Length(usize::MAX), Probe::Length)
}

/// Probes a classic pcap record: 16-byte header (24 in the modified format) whose third
/// field is the captured length.
fn probe_pcap(data: &[u8], big_endian: bool, modified: bool) -> Probe {
    let Some(Ok(caplen)) = data.get(8..12).map(<[u8; 4]>::try_from) else {
        return Probe::Short;
    };
    let caplen = if big_endian {
        u32::from_be_bytes(caplen)
    } else {
        u32::from_le_bytes(caplen)
    };
    let header: usize = if modified { 24 } else { 16 };
    usize::try_from(caplen)
        .ok()
        .and_then(|c| c.checked_add(header))
        .map_or(Probe::Length(usize::MAX), Probe::Length)
}

enum Step {
    Consume(usize),
    Done,
    More,
    Corrupt(String),
}

/// Runs a pcap-parser reader to the end of the input or the first fatal problem.
///
/// INVARIANT relied on for termination: when pcap-parser wants more data, either the input is
/// exhausted (Truncated), or the probe's declared length is already buffered (Corrupt), or
/// the buffer is grown to hold the declared length and refilled, after which the input holds
/// the whole record or ends. So each record costs at most two refills.
fn drive<P: PcapReaderIterator + ?Sized>(
    reader: &mut P,
    mut capacity: usize,
    state: &mut State,
    on_packet: &mut dyn FnMut(&TcpPacket<'_>),
) -> Option<CaptureProblem> {
    let max_record = state.limits.max_record.max(capacity);
    let mut stalls = 0u32;
    loop {
        let offset = u64::try_from(reader.consumed()).unwrap_or(u64::MAX);
        let probe = state.probe(reader.data(), reader.consumed());
        match &probe {
            Probe::Bad(reason) => {
                return Some(CaptureProblem::Corrupt {
                    offset,
                    reason: reason.clone(),
                })
            }
            Probe::Length(len) if *len > max_record => {
                return Some(CaptureProblem::RecordTooLarge {
                    offset,
                    length: u64::try_from(*len).unwrap_or(u64::MAX),
                    limit: u64::try_from(max_record).unwrap_or(u64::MAX),
                })
            }
            _ => {}
        }
        let step = match reader.next() {
            Ok((used, block)) => {
                state.block(block, on_packet);
                Step::Consume(used)
            }
            Err(PcapError::Eof) => Step::Done,
            Err(
                PcapError::Incomplete(_)
                | PcapError::BufferTooSmall
                | PcapError::UnexpectedEof
                | PcapError::ReadError,
            ) => Step::More,
            Err(e) => Step::Corrupt(describe(&e)),
        };
        match step {
            Step::Consume(0) => {
                return Some(CaptureProblem::Corrupt {
                    offset,
                    reason: "empty record".into(),
                })
            }
            Step::Consume(used) => {
                reader.consume(used);
                stalls = 0;
            }
            Step::Done => return None,
            Step::Corrupt(reason) => return Some(CaptureProblem::Corrupt { offset, reason }),
            Step::More => {
                let available = reader.data().len();
                if reader.reader_exhausted() {
                    return if available == 0 {
                        None
                    } else {
                        Some(CaptureProblem::Truncated {
                            offset,
                            bytes: u64::try_from(available).unwrap_or(u64::MAX),
                        })
                    };
                }
                if let Probe::Length(len) = probe {
                    if available >= len {
                        return Some(CaptureProblem::Corrupt {
                            offset,
                            reason: format!("record contents overrun its length of {len} bytes"),
                        });
                    }
                    if len > capacity {
                        let wanted = len.max(capacity.saturating_mul(2)).min(max_record);
                        if !reader.grow(wanted) {
                            return Some(CaptureProblem::RecordTooLarge {
                                offset,
                                length: u64::try_from(len).unwrap_or(u64::MAX),
                                limit: u64::try_from(capacity).unwrap_or(u64::MAX),
                            });
                        }
                        capacity = wanted;
                    }
                }
                stalls = stalls.saturating_add(1);
                if stalls > MAX_STALLS {
                    return Some(CaptureProblem::Corrupt {
                        offset,
                        reason: "no progress reading a record".into(),
                    });
                }
                if reader.refill().is_err() {
                    return None;
                }
            }
        }
    }
}

/// How an interface stamps its packets (pcapng `if_tsresol`): units per second as a power of
/// ten or of two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TsResolution {
    /// 10^exponent units per second, exponent <= 19 (fits u64).
    Decimal(u64),
    /// 2^shift units per second, shift <= 63.
    Binary(u32),
}

impl TsResolution {
    const MICROS: TsResolution = TsResolution::Decimal(1_000_000);
    const NANOS: TsResolution = TsResolution::Decimal(1_000_000_000);

    fn from_tsresol(tsresol: u8) -> Option<Self> {
        let exponent = u32::from(tsresol & 0x7f);
        if tsresol & 0x80 == 0 {
            10u64.checked_pow(exponent).map(TsResolution::Decimal)
        } else if exponent <= 63 {
            Some(TsResolution::Binary(exponent))
        } else {
            None
        }
    }

    /// Splits a count of units into whole seconds and nanoseconds.
    fn split(self, units: u64) -> (u64, u32) {
        let billion = 1_000_000_000u128;
        let (secs, nanos) = match self {
            TsResolution::Decimal(per_sec) => {
                let per_sec = per_sec.max(1);
                let frac = u128::from(units % per_sec);
                (
                    units / per_sec,
                    frac.saturating_mul(billion) / u128::from(per_sec),
                )
            }
            TsResolution::Binary(shift) => {
                let shift = shift.min(63);
                let mask = (1u64 << shift).saturating_sub(1);
                let frac = u128::from(units & mask);
                (units >> shift, frac.saturating_mul(billion) >> shift)
            }
        };
        (secs, u32::try_from(nanos).unwrap_or(999_999_999))
    }
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    linktype: u16,
    snaplen: u32,
    resolution: TsResolution,
    /// `if_tsoffset`: seconds added to every timestamp.
    offset_secs: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ProblemKey {
    LinkType(u64, u32, u16),
    Interface(u64, u32),
}

/// Reading state shared by the block handlers and the decoders.
struct State {
    limits: CaptureLimits,
    format: CaptureFormat,
    stats: CaptureStats,
    problems: Vec<CaptureProblem>,
    problem_index: HashMap<ProblemKey, usize>,
    tls_key_logs: Vec<Vec<u8>>,
    key_log_bytes: usize,
    key_log_overflow: bool,
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
    /// Current pcapng section's byte order, or the pcap file's.
    big_endian: bool,
    /// Classic pcap in the modified (Kuznetzov) format: 24-byte record headers.
    modified: bool,
    /// Interfaces of the current section (one for classic pcap).
    interfaces: Vec<Interface>,
    defrag: Reassembler,
}

impl State {
    fn new(limits: &CaptureLimits) -> Self {
        let timeout = i128::from(limits.fragment_timeout_secs).saturating_mul(1_000_000_000);
        State {
            limits: limits.clone(),
            format: CaptureFormat::Unknown,
            stats: CaptureStats::default(),
            problems: Vec::new(),
            problem_index: HashMap::new(),
            tls_key_logs: Vec::new(),
            key_log_bytes: 0,
            key_log_overflow: false,
            first_ts: None,
            last_ts: None,
            big_endian: false,
            modified: false,
            interfaces: Vec::new(),
            defrag: Reassembler::new(DefragLimits {
                max_datagrams: limits.max_pending_datagrams,
                max_bytes: limits.max_pending_fragment_bytes,
                max_fragments: limits.max_fragments_per_datagram,
                timeout_nanos: timeout,
            }),
        }
    }

    fn finish(mut self, stop: Option<CaptureProblem>) -> CaptureSummary {
        let pending = self.defrag.finish();
        self.stats.ip_fragments_dropped = self.stats.ip_fragments_dropped.saturating_add(pending);
        if let Some(stop) = stop {
            self.problems.push(stop);
        }
        if let CaptureFormat::PcapNg { sections } = &mut self.format {
            *sections = self.stats.sections;
        }
        CaptureSummary {
            format: self.format,
            stats: self.stats,
            problems: self.problems,
            tls_key_logs: self.tls_key_logs,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
        }
    }

    fn section(&self) -> u64 {
        self.stats.sections.saturating_sub(1)
    }

    fn probe(&self, data: &[u8], consumed: usize) -> Probe {
        match self.format {
            // The legacy reader hands out the file header first, without parsing the buffer.
            CaptureFormat::Pcap { .. } if consumed == 0 => Probe::Short,
            CaptureFormat::Pcap { big_endian, .. } => probe_pcap(data, big_endian, self.modified),
            CaptureFormat::PcapNg { .. } => probe_pcapng(data, self.big_endian),
            CaptureFormat::Unknown => Probe::Short,
        }
    }

    /// Lists a non-fatal problem, or counts it when the list is full.
    fn note(&mut self, problem: CaptureProblem) {
        if self.problems.len() < self.limits.max_problems {
            self.problems.push(problem);
        } else {
            self.stats.problems_suppressed = self.stats.problems_suppressed.saturating_add(1);
        }
    }

    /// Adds one packet to the problem listed under `key`, listing `fresh` the first time.
    fn note_packet(&mut self, key: ProblemKey, fresh: CaptureProblem) {
        if let Some(index) = self.problem_index.get(&key) {
            if let Some(
                CaptureProblem::UnknownLinkType { packets, .. }
                | CaptureProblem::UnknownInterface { packets, .. },
            ) = self.problems.get_mut(*index)
            {
                *packets = packets.saturating_add(1);
            }
        } else if self.problems.len() < self.limits.max_problems {
            self.problem_index.insert(key, self.problems.len());
            self.problems.push(fresh);
        } else {
            self.stats.problems_suppressed = self.stats.problems_suppressed.saturating_add(1);
        }
    }

    fn u32_at(&self, data: &[u8], at: usize) -> Option<u32> {
        let end = at.checked_add(4)?;
        let bytes: [u8; 4] = data.get(at..end)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    }

    fn u16_at(&self, data: &[u8], at: usize) -> Option<u16> {
        let end = at.checked_add(2)?;
        let bytes: [u8; 2] = data.get(at..end)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        })
    }

    fn block(&mut self, block: PcapBlockOwned<'_>, on_packet: &mut dyn FnMut(&TcpPacket<'_>)) {
        match block {
            PcapBlockOwned::LegacyHeader(header) => {
                self.big_endian = header.is_bigendian();
                self.modified = header.is_modified_format();
                let nanos = header.is_nanosecond_precision();
                self.format = CaptureFormat::Pcap {
                    nanos,
                    big_endian: self.big_endian,
                };
                self.stats.interfaces = 1;
                self.interfaces = vec![Interface {
                    // The upper 16 bits of the field carry FCS information, not the type.
                    linktype: u16::try_from(header.network.0 & 0xffff).unwrap_or(u16::MAX),
                    snaplen: header.snaplen,
                    resolution: if nanos {
                        TsResolution::NANOS
                    } else {
                        TsResolution::MICROS
                    },
                    offset_secs: 0,
                }];
            }
            PcapBlockOwned::Legacy(record) => {
                let resolution = self
                    .interfaces
                    .first()
                    .map_or(TsResolution::MICROS, |i| i.resolution);
                let frac = u64::from(record.ts_usec);
                let nanos = if resolution == TsResolution::NANOS {
                    frac
                } else {
                    frac.saturating_mul(1000)
                };
                // Seconds are unsigned in the file (good until 2106).
                let ts = Timestamp::new(i64::from(record.ts_sec), nanos);
                self.packet(0, Some(ts), record.data, on_packet);
            }
            PcapBlockOwned::NG(block) => self.ng_block(block, on_packet),
        }
    }

    fn ng_block(&mut self, block: Block<'_>, on_packet: &mut dyn FnMut(&TcpPacket<'_>)) {
        match block {
            Block::SectionHeader(shb) => {
                self.stats.sections = self.stats.sections.saturating_add(1);
                self.big_endian = shb.big_endian();
                self.interfaces.clear();
            }
            Block::InterfaceDescription(idb) => {
                self.stats.interfaces = self.stats.interfaces.saturating_add(1);
                let interface = u32::try_from(self.interfaces.len()).unwrap_or(u32::MAX);
                if self.interfaces.len() >= self.limits.max_interfaces {
                    if self.interfaces.len() == self.limits.max_interfaces {
                        self.note(CaptureProblem::TooManyInterfaces {
                            section: self.section(),
                            limit: u64::try_from(self.limits.max_interfaces).unwrap_or(u64::MAX),
                        });
                        // Keep a placeholder so the warning is given once per section.
                        self.interfaces.push(Interface {
                            linktype: u16::MAX,
                            snaplen: 0,
                            resolution: TsResolution::MICROS,
                            offset_secs: 0,
                        });
                    }
                    return;
                }
                let resolution = TsResolution::from_tsresol(idb.if_tsresol).unwrap_or_else(|| {
                    self.note(CaptureProblem::BadTimestampResolution {
                        section: self.section(),
                        interface,
                        tsresol: idb.if_tsresol,
                    });
                    TsResolution::MICROS
                });
                // pcap-parser reads if_tsoffset little-endian whatever the section says.
                let offset_secs = idb
                    .options
                    .iter()
                    .filter(|o| o.code == OptionCode::IfTsoffset)
                    .find_map(|o| o.as_bytes().ok()?.get(..8)?.try_into().ok())
                    .map_or(0, |b: [u8; 8]| {
                        if self.big_endian {
                            i64::from_be_bytes(b)
                        } else {
                            i64::from_le_bytes(b)
                        }
                    });
                self.interfaces.push(Interface {
                    linktype: u16::try_from(idb.linktype.0 & 0xffff).unwrap_or(u16::MAX),
                    snaplen: idb.snaplen,
                    resolution,
                    offset_secs,
                });
            }
            Block::EnhancedPacket(epb) => {
                let caplen = usize::try_from(epb.caplen).unwrap_or(usize::MAX);
                let data = epb.data.get(..caplen).unwrap_or(epb.data);
                let ts = self.ng_timestamp(epb.if_id, epb.ts_high, epb.ts_low);
                self.packet(epb.if_id, ts, data, on_packet);
            }
            Block::SimplePacket(spb) => {
                // No timestamp and no captured length: the original length, limited by the
                // block and by interface 0's snapshot length.
                let mut len = usize::try_from(spb.origlen).unwrap_or(usize::MAX);
                if let Some(snaplen) = self
                    .interfaces
                    .first()
                    .and_then(|i| usize::try_from(i.snaplen).ok())
                    .filter(|s| *s != 0)
                {
                    len = len.min(snaplen);
                }
                let data = spb.data.get(..len).unwrap_or(spb.data);
                self.packet(0, None, data, on_packet);
            }
            Block::DecryptionSecrets(dsb) => {
                self.stats.decryption_secrets_blocks =
                    self.stats.decryption_secrets_blocks.saturating_add(1);
                if dsb.secrets_type == SecretsType::TlsKeyLog {
                    let len = usize::try_from(dsb.secrets_len).unwrap_or(usize::MAX);
                    let secrets = dsb.data.get(..len).unwrap_or(dsb.data);
                    let total = self.key_log_bytes.saturating_add(secrets.len());
                    if total <= self.limits.max_key_log_bytes {
                        self.key_log_bytes = total;
                        self.tls_key_logs.push(secrets.to_vec());
                    } else if !self.key_log_overflow {
                        self.key_log_overflow = true;
                        self.note(CaptureProblem::KeyLogTooLarge {
                            limit: u64::try_from(self.limits.max_key_log_bytes).unwrap_or(u64::MAX),
                        });
                    }
                }
            }
            Block::Unknown(unknown) => {
                // pcap-parser reads an unknown block's type little-endian in every section.
                let block_type = if self.big_endian {
                    unknown.block_type.swap_bytes()
                } else {
                    unknown.block_type
                };
                if block_type == OBSOLETE_PACKET_BLOCK {
                    self.obsolete_packet_block(unknown.data, on_packet);
                } else {
                    self.stats.ignored_blocks = self.stats.ignored_blocks.saturating_add(1);
                }
            }
            _ => self.stats.ignored_blocks = self.stats.ignored_blocks.saturating_add(1),
        }
    }

    /// The obsolete Packet Block (pcapng draft, block type 2): interface id (2), drops count
    /// (2), timestamp high (4), low (4), captured length (4), packet length (4), data.
    fn obsolete_packet_block(&mut self, body: &[u8], on_packet: &mut dyn FnMut(&TcpPacket<'_>)) {
        let fields = (
            self.u16_at(body, 0),
            self.u32_at(body, 4),
            self.u32_at(body, 8),
            self.u32_at(body, 12),
        );
        let (Some(if_id), Some(high), Some(low), Some(caplen)) = fields else {
            // Still a packet record: number it, as tshark would.
            self.stats.packets = self.stats.packets.saturating_add(1);
            self.stats.undecodable_packets = self.stats.undecodable_packets.saturating_add(1);
            return;
        };
        let if_id = u32::from(if_id);
        let rest = body.get(20..).unwrap_or_default();
        let caplen = usize::try_from(caplen).unwrap_or(usize::MAX);
        let data = rest.get(..caplen).unwrap_or(rest);
        let ts = self.ng_timestamp(if_id, high, low);
        self.packet(if_id, ts, data, on_packet);
    }

    fn ng_timestamp(&self, if_id: u32, high: u32, low: u32) -> Option<Timestamp> {
        let interface = self.interfaces.get(usize::try_from(if_id).ok()?)?;
        let units = (u64::from(high) << 32) | u64::from(low);
        let (secs, nanos) = interface.resolution.split(units);
        let secs = i64::try_from(secs)
            .unwrap_or(i64::MAX)
            .saturating_add(interface.offset_secs);
        Some(Timestamp::new(secs, u64::from(nanos)))
    }

    /// One packet record on interface `if_id`. A record without a timestamp (SPB) takes the
    /// previous record's, so time never runs backwards because of it.
    fn packet(
        &mut self,
        if_id: u32,
        ts: Option<Timestamp>,
        data: &[u8],
        on_packet: &mut dyn FnMut(&TcpPacket<'_>),
    ) {
        self.stats.packets = self.stats.packets.saturating_add(1);
        self.stats.bytes = self
            .stats
            .bytes
            .saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
        let frame = self.stats.packets;
        let ts = ts.or(self.last_ts).unwrap_or_default();
        self.first_ts = Some(self.first_ts.map_or(ts, |t| t.min(ts)));
        self.last_ts = Some(self.last_ts.map_or(ts, |t| t.max(ts)));

        let section = self.section();
        let Some(interface) = usize::try_from(if_id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .copied()
        else {
            self.stats.undecodable_packets = self.stats.undecodable_packets.saturating_add(1);
            self.note_packet(
                ProblemKey::Interface(section, if_id),
                CaptureProblem::UnknownInterface {
                    section,
                    interface: if_id,
                    packets: 1,
                },
            );
            return;
        };
        if !link::is_supported(interface.linktype) {
            self.stats.unknown_linktype_packets =
                self.stats.unknown_linktype_packets.saturating_add(1);
            self.note_packet(
                ProblemKey::LinkType(section, if_id, interface.linktype),
                CaptureProblem::UnknownLinkType {
                    section,
                    interface: if_id,
                    linktype: interface.linktype,
                    packets: 1,
                },
            );
            return;
        }
        match link::network_layer(interface.linktype, data) {
            link::Network::Ip(ip) => self.ip(frame, ts, ip, on_packet),
            link::Network::NotIp => {
                self.stats.non_tcp_packets = self.stats.non_tcp_packets.saturating_add(1);
            }
            link::Network::Malformed | link::Network::UnknownLinkType => {
                self.stats.undecodable_packets = self.stats.undecodable_packets.saturating_add(1);
            }
        }
    }
}
