//! Benchmark support for the workspace: a capture generator that turns a few recorded RDP
//! connections into a large, realistic capture (many interleaved connections with distinct
//! addresses, ports and times), used by the `pipeline` benchmark, the `gencap` binary and
//! `benches/compare.sh`.
//!
//! # What the generator does
//! Each template is a classic pcap file with Ethernet framing (as `tcpdump -i lo` writes) holding
//! one or a few TCP connections. Copy `k` of a template is shifted in time to start
//! `k x spacing` after the first, and every endpoint is renamed: a client endpoint gets an
//! address in 10.0.0.0/8 (or `fd00:0:0:1::/64`) unique to the copy and a port derived from the
//! copy number, a server endpoint gets one of 64 server addresses in 172.16.0.0/16 (or
//! `fd00:0:0:2::/64`) and keeps its port. Copies overlap in time, so the output interleaves many
//! live connections, merged in timestamp order. IPv4 header checksums are recomputed; TCP
//! checksums are left as captured (loopback captures carry offloaded ones anyway).
//!
//! Nothing is read from the network or written outside the output; the output is a classic
//! little-endian microsecond pcap, written (and the templates read) by `rdp_pcap::kit`.
#![forbid(unsafe_code)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rdp_pcap::kit::{self, CaptureWriter, Format, Linktype, Resolution};
use rdp_wire::Timestamp;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETH_HEADER: usize = 14;
const IPPROTO_TCP: u8 = 6;

/// Why a template cannot be used.
#[derive(Debug)]
pub enum GenError {
    /// Reading the template or writing the output failed.
    Io(io::Error),
    /// The template is not a capture this generator understands.
    Template {
        /// Which file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenError::Io(e) => write!(f, "i/o error: {e}"),
            GenError::Template { path, reason } => write!(f, "{}: {reason}", path.display()),
        }
    }
}

impl std::error::Error for GenError {}

impl From<io::Error> for GenError {
    fn from(e: io::Error) -> Self {
        GenError::Io(e)
    }
}

/// Where an endpoint's address and port sit in a packet, and whose they are.
#[derive(Debug, Clone, Copy)]
struct Rewrite {
    /// Offset of the IP header in the frame.
    ip: usize,
    v6: bool,
    /// Offset of the TCP header in the frame.
    tcp: usize,
    /// Endpoint numbers (see [`Template`]) of the source and the destination.
    src: Endpoint,
    dst: Endpoint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Client(u16),
    Server(u16, u16),
}

#[derive(Debug, Clone)]
struct TemplatePacket {
    /// Nanoseconds after the template's first packet.
    rel_ns: u64,
    /// The captured frame (Ethernet first).
    frame: Vec<u8>,
    /// The original length of the packet on the wire.
    orig_len: u32,
    /// `None` for packets that are not TCP over IP: copied unchanged.
    rewrite: Option<Rewrite>,
}

/// One recorded capture, ready to be copied.
#[derive(Debug, Clone)]
pub struct Template {
    /// Where it came from.
    pub path: PathBuf,
    packets: Vec<TemplatePacket>,
    /// TCP connections (distinct unordered 4-tuples) in it.
    pub connections: u64,
    /// Bytes one copy adds to the output (record headers included).
    pub bytes: u64,
}

impl Template {
    /// Packets one copy adds to the output.
    pub fn packets(&self) -> u64 {
        u64::try_from(self.packets.len()).unwrap_or(u64::MAX)
    }

    /// Loads a pcap (either byte order, micro- or nanosecond) or pcapng with Ethernet framing.
    pub fn load(path: &Path) -> Result<Template, GenError> {
        let data = std::fs::read(path)?;
        Self::parse(path, &data)
    }

    /// [`Template::load`] from bytes already read (by the capture kit's reader).
    pub fn parse(path: &Path, data: &[u8]) -> Result<Template, GenError> {
        let bad = |reason: String| GenError::Template {
            path: path.to_path_buf(),
            reason,
        };
        let contents = kit::read(data).map_err(|e| bad(e.to_string()))?;
        if contents.frames.iter().any(|f| f.link != Linktype::ETHERNET) {
            return Err(bad("link type is not Ethernet".to_string()));
        }
        let base = contents.frames.first().map(|f| f.ts);
        let raw: Vec<(u64, Vec<u8>, u32)> = contents
            .frames
            .into_iter()
            .map(|f| {
                let rel = base.map_or(0, |b| f.ts.nanos_since(b));
                (u64::try_from(rel).unwrap_or(0), f.data, f.orig_len)
            })
            .collect();
        if raw.is_empty() {
            return Err(bad("holds no packet".to_string()));
        }
        Ok(Self::from_frames(path, raw))
    }

    fn from_frames(path: &Path, raw: Vec<(u64, Vec<u8>, u32)>) -> Template {
        // First pass: the server of each connection is the receiver of its first SYN without
        // ACK, else the endpoint with the lower port.
        let mut servers: HashMap<(Vec<u8>, u16), ()> = HashMap::new();
        let mut flows: HashMap<[(Vec<u8>, u16); 2], bool> = HashMap::new();
        let headers: Vec<Option<Headers>> = raw.iter().map(|(_, f, _)| headers(f)).collect();
        for h in headers.iter().flatten() {
            let mut key = [h.src.clone(), h.dst.clone()];
            key.sort();
            let decided = flows.entry(key).or_insert(false);
            if !*decided && h.syn && !h.ack {
                servers.insert(h.dst.clone(), ());
                *decided = true;
            }
        }
        for (key, decided) in &flows {
            let [a, b] = key;
            if !*decided && !servers.contains_key(a) && !servers.contains_key(b) {
                let lower = if a.1 <= b.1 { a } else { b };
                servers.insert(lower.clone(), ());
            }
        }
        let mut clients: HashMap<(Vec<u8>, u16), u16> = HashMap::new();
        let mut server_ips: HashMap<Vec<u8>, u16> = HashMap::new();
        let mut name = |ep: &(Vec<u8>, u16)| -> Endpoint {
            if servers.contains_key(ep) {
                let n = u16::try_from(server_ips.len()).unwrap_or(u16::MAX);
                Endpoint::Server(*server_ips.entry(ep.0.clone()).or_insert(n), ep.1)
            } else {
                let n = u16::try_from(clients.len()).unwrap_or(u16::MAX);
                Endpoint::Client(*clients.entry(ep.clone()).or_insert(n))
            }
        };
        let mut packets = Vec::with_capacity(raw.len());
        let mut bytes = 0u64;
        for ((rel_ns, frame, orig_len), h) in raw.into_iter().zip(headers) {
            let rewrite = h.map(|h| Rewrite {
                ip: h.ip,
                v6: h.v6,
                tcp: h.tcp,
                src: name(&h.src),
                dst: name(&h.dst),
            });
            let len = u64::try_from(frame.len()).unwrap_or(u64::MAX);
            bytes = bytes.saturating_add(16).saturating_add(len);
            packets.push(TemplatePacket {
                rel_ns,
                frame,
                orig_len,
                rewrite,
            });
        }
        Template {
            path: path.to_path_buf(),
            packets,
            connections: u64::try_from(flows.len()).unwrap_or(u64::MAX),
            bytes,
        }
    }
}

struct Headers {
    ip: usize,
    v6: bool,
    tcp: usize,
    src: (Vec<u8>, u16),
    dst: (Vec<u8>, u16),
    syn: bool,
    ack: bool,
    flags: u8,
    /// The TCP payload's range in the frame (link padding excluded).
    payload: (usize, usize),
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let x: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(x))
}

/// Ethernet, IPv4 or IPv6 (no extension headers), TCP: where the fields to rewrite are.
fn headers(frame: &[u8]) -> Option<Headers> {
    let ethertype = be16(frame, 12)?;
    let ip = ETH_HEADER;
    let (v6, tcp, src_ip, dst_ip, ip_end) = match ethertype {
        ETHERTYPE_IPV4 => {
            let ihl = usize::from(frame.get(ip)? & 0x0f).checked_mul(4)?;
            if *frame.get(ip.checked_add(9)?)? != IPPROTO_TCP {
                return None;
            }
            let flags_frag = be16(frame, ip.checked_add(6)?)?;
            if flags_frag & 0x3fff != 0 {
                return None; // a fragment: leave it alone
            }
            (
                false,
                ip.checked_add(ihl)?,
                frame.get(ip.checked_add(12)?..ip.checked_add(16)?)?,
                frame.get(ip.checked_add(16)?..ip.checked_add(20)?)?,
                ip.checked_add(usize::from(be16(frame, ip.checked_add(2)?)?))?,
            )
        }
        ETHERTYPE_IPV6 => {
            if *frame.get(ip.checked_add(6)?)? != IPPROTO_TCP {
                return None;
            }
            (
                true,
                ip.checked_add(40)?,
                frame.get(ip.checked_add(8)?..ip.checked_add(24)?)?,
                frame.get(ip.checked_add(24)?..ip.checked_add(40)?)?,
                ip.checked_add(40)?
                    .checked_add(usize::from(be16(frame, ip.checked_add(4)?)?))?,
            )
        }
        _ => return None,
    };
    let flags = *frame.get(tcp.checked_add(13)?)?;
    let data_offset = usize::from(*frame.get(tcp.checked_add(12)?)? >> 4).checked_mul(4)?;
    let payload = (tcp.checked_add(data_offset)?, ip_end.min(frame.len()));
    Some(Headers {
        ip,
        v6,
        tcp,
        src: (src_ip.to_vec(), be16(frame, tcp)?),
        dst: (dst_ip.to_vec(), be16(frame, tcp.checked_add(2)?)?),
        syn: flags & 0x02 != 0,
        ack: flags & 0x10 != 0,
        flags,
        payload,
    })
}

/// One TCP segment of a template, for feeding an analyzer directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment {
    /// Nanoseconds after the template's first packet.
    pub rel_ns: u64,
    /// Sent by the client (the side that sent the first SYN, or the higher port).
    pub from_client: bool,
    /// The TCP flags byte.
    pub flags: u8,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Template {
    /// The TCP segments in capture order (for a template of one connection, that
    /// connection's segments).
    pub fn tcp_segments(&self) -> Vec<TcpSegment> {
        self.packets
            .iter()
            .filter_map(|p| {
                let rw = p.rewrite?;
                let h = headers(&p.frame)?;
                Some(TcpSegment {
                    rel_ns: p.rel_ns,
                    from_client: matches!(rw.src, Endpoint::Client(_)),
                    flags: h.flags,
                    payload: p.frame.get(h.payload.0..h.payload.1)?.to_vec(),
                })
            })
            .collect()
    }
}

/// How big an output to make and how to spread it in time.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Stop starting copies once their bytes reach this many (record headers included).
    pub target_bytes: u64,
    /// Or once this many connections were started, whichever comes first.
    pub target_connections: u64,
    /// Time between the starts of consecutive copies.
    pub spacing_ns: u64,
    /// Capture time of the first packet (ns since the epoch).
    pub start_ns: u64,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            target_bytes: 200 << 20,
            target_connections: u64::MAX,
            spacing_ns: 20_000_000,
            // 2026-01-01T00:00:00Z
            start_ns: 1_767_225_600_000_000_000,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Bytes written, file header included.
    pub bytes: u64,
    /// Packet records written.
    pub packets: u64,
    /// Template copies started.
    pub copies: u64,
    /// TCP connections in them.
    pub connections: u64,
}

/// The order in which templates are copied: each template `weight` times per cycle, spread
/// out deterministically so that kinds interleave.
fn cycle(weights: &[u32]) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, w) in weights.iter().enumerate() {
        for _ in 0..*w {
            out.push(i);
        }
    }
    // A fixed Fisher-Yates shuffle (xorshift) so runs are reproducible.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut i = out.len();
    while i > 1 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = usize::try_from(state % u64::try_from(i).unwrap_or(1)).unwrap_or(0);
        i -= 1;
        out.swap(i, j);
    }
    out
}

/// One live copy in the merge.
struct Live {
    template: usize,
    start_ns: u64,
    next: usize,
}

/// Writes copies of `templates` (with the given weights) to `out` following `plan`.
pub fn generate(
    templates: &[(Template, u32)],
    plan: &Plan,
    out: &mut impl Write,
) -> io::Result<GenStats> {
    let weights: Vec<u32> = templates.iter().map(|(_, w)| *w).collect();
    let order = cycle(&weights);
    let mut stats = GenStats::default();
    // A classic pcap (µs), snapshot length 256 KiB, Ethernet.
    let format = Format::Pcap(Linktype::ETHERNET, Resolution::Micro);
    let mut out = CaptureWriter::new(out, format, 262_144)?;
    stats.bytes = 24;
    if order.is_empty() {
        return Ok(stats);
    }

    let mut live: Vec<Live> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    // (next packet time, copy number, live index): copy number breaks ties reproducibly.
    let mut heap: BinaryHeap<Reverse<(u64, u64, usize)>> = BinaryHeap::new();
    let mut committed = 0u64;
    let mut next_copy = 0u64;
    let mut frame = Vec::new();
    loop {
        let next_start = plan
            .start_ns
            .saturating_add(next_copy.saturating_mul(plan.spacing_ns));
        let more = committed < plan.target_bytes && stats.connections < plan.target_connections;
        let start_now = more
            && heap
                .peek()
                .is_none_or(|Reverse((t, _, _))| next_start <= *t);
        if start_now {
            let slot =
                usize::try_from(next_copy % u64::try_from(order.len()).unwrap_or(1)).unwrap_or(0);
            let template = order.get(slot).copied().unwrap_or(0);
            let Some((t, _)) = templates.get(template) else {
                break;
            };
            committed = committed.saturating_add(t.bytes);
            stats.copies = stats.copies.saturating_add(1);
            stats.connections = stats.connections.saturating_add(t.connections);
            let entry = Live {
                template,
                start_ns: next_start,
                next: 0,
            };
            let idx = match free.pop() {
                Some(i) => {
                    if let Some(s) = live.get_mut(i) {
                        *s = entry;
                    }
                    i
                }
                None => {
                    live.push(entry);
                    live.len().saturating_sub(1)
                }
            };
            let first = t.packets.first().map_or(0, |p| p.rel_ns);
            heap.push(Reverse((next_start.saturating_add(first), next_copy, idx)));
            next_copy = next_copy.saturating_add(1);
            continue;
        }
        let Some(Reverse((ts, copy, idx))) = heap.pop() else {
            break;
        };
        let Some(l) = live.get_mut(idx) else {
            break;
        };
        let Some((t, _)) = templates.get(l.template) else {
            break;
        };
        if let Some(p) = t.packets.get(l.next) {
            frame.clear();
            frame.extend_from_slice(&p.frame);
            if let Some(rw) = p.rewrite {
                rewrite(&mut frame, &rw, copy);
            }
            let caplen = u32::try_from(frame.len()).unwrap_or(u32::MAX);
            let at = Timestamp(i64::try_from(ts).unwrap_or(i64::MAX));
            out.record(0, at, &frame, p.orig_len.max(caplen))?;
            stats.packets = stats.packets.saturating_add(1);
            stats.bytes = stats
                .bytes
                .saturating_add(16)
                .saturating_add(u64::from(caplen));
        }
        l.next = l.next.saturating_add(1);
        match t.packets.get(l.next) {
            Some(p) => heap.push(Reverse((l.start_ns.saturating_add(p.rel_ns), copy, idx))),
            None => free.push(idx),
        }
    }
    out.into_inner().flush()?;
    Ok(stats)
}

/// Gives the endpoints of copy `copy` their own addresses and ports.
fn rewrite(frame: &mut [u8], rw: &Rewrite, copy: u64) {
    for (ep, ip_off, port_off) in [
        (rw.src, if rw.v6 { 8 } else { 12 }, 0usize),
        (rw.dst, if rw.v6 { 24 } else { 16 }, 2usize),
    ] {
        let (addr, port): (Vec<u8>, Option<u16>) = match ep {
            Endpoint::Client(n) => {
                // 2^24 distinct clients per run: addresses 10.0.0.0/8 (or fd00:0:0:1::/64).
                let c = u32::try_from(copy & 0x00ff_ffff).unwrap_or(0).to_be_bytes();
                let port_n = copy
                    .wrapping_mul(37)
                    .wrapping_add(u64::from(n))
                    .checked_rem(60_000)
                    .unwrap_or(0);
                let port = 1025u16.saturating_add(u16::try_from(port_n).unwrap_or(0));
                let addr = if rw.v6 {
                    let mut a = vec![0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
                    a.extend_from_slice(&c);
                    a
                } else {
                    let [_, b, c2, d] = c;
                    vec![10, b, c2, d]
                };
                (addr, Some(port))
            }
            Endpoint::Server(ip, _) => {
                let s = u8::try_from(copy % 64).unwrap_or(0);
                let n = u8::try_from(ip).unwrap_or(u8::MAX).saturating_add(1);
                let addr = if rw.v6 {
                    vec![0xfd, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, s, n]
                } else {
                    vec![172, 16, s, n]
                };
                (addr, None)
            }
        };
        let at = rw.ip.saturating_add(ip_off);
        if let Some(dst) = frame.get_mut(at..at.saturating_add(addr.len())) {
            dst.copy_from_slice(&addr);
        }
        if let Some(port) = port {
            let at = rw.tcp.saturating_add(port_off);
            if let Some(dst) = frame.get_mut(at..at.saturating_add(2)) {
                dst.copy_from_slice(&port.to_be_bytes());
            }
        }
    }
    if !rw.v6 {
        ipv4_checksum(frame, rw.ip);
    }
}

/// Recomputes the IPv4 header checksum (RFC 791) in place.
fn ipv4_checksum(frame: &mut [u8], ip: usize) {
    let Some(&vihl) = frame.get(ip) else {
        return;
    };
    let len = usize::from(vihl & 0x0f).saturating_mul(4);
    let Some(header) = frame.get_mut(ip..ip.saturating_add(len)) else {
        return;
    };
    if let Some(sum) = header.get_mut(10..12) {
        sum.copy_from_slice(&[0, 0]);
    }
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| match w {
            [a, b] => u32::from(u16::from_be_bytes([*a, *b])),
            [a] => u32::from(*a) << 8,
            _ => 0,
        })
        .fold(0u32, u32::wrapping_add);
    while sum > 0xffff {
        sum = (sum & 0xffff).wrapping_add(sum >> 16);
    }
    let check = !u16::try_from(sum).unwrap_or(0);
    if let Some(dst) = header.get_mut(10..12) {
        dst.copy_from_slice(&check.to_be_bytes());
    }
}

/// The default mix for a 200 MiB capture of ~7,500 connections and ~440,000 packets: TLS 1.3
/// and TLS 1.2 sessions, NLA, Standard RDP Security, a wrong password, and failures (cipher
/// mismatch, negotiation failure, version mismatch, no listener). Templates come from
/// `../shared/corpus/lab` beside the workspace when it exists, else from `samples/` (fewer
/// kinds: no TLS 1.2 session, wrong password or no-listener).
///
/// Returns `(path, weight)` pairs; `root` is the workspace root.
pub fn default_mix(root: &Path) -> Vec<(PathBuf, u32)> {
    let lab = root.join("../shared/corpus/lab");
    let lab_mix: [(&str, u32); 10] = [
        ("tls-ok.pcap", 3),
        ("tls12-ok.pcap", 2),
        ("nla-ok.pcap", 2),
        ("rdp-standard-security.pcap", 1),
        ("nla-wrong-password.pcap", 1),
        ("cipher-mismatch.pcap", 1),
        ("neg-failure-hybrid-required.pcap", 2),
        ("version-server13-client12.pcap", 1),
        ("no-listener.pcap", 1),
        ("x224-then-close.pcap", 1),
    ];
    if lab_mix.iter().all(|(f, _)| lab.join(f).is_file()) {
        return lab_mix.iter().map(|(f, w)| (lab.join(f), *w)).collect();
    }
    let samples = root.join("samples");
    [
        ("tls-ok.pcap", 5),
        ("nla-ok.pcap", 2),
        ("rdp-standard-security.pcap", 1),
        ("cipher-mismatch.pcap", 2),
        ("neg-failure-hybrid-required.pcap", 3),
    ]
    .iter()
    .map(|(f, w)| (samples.join(f), *w))
    .collect()
}

/// Loads `(path, weight)` pairs.
pub fn load_mix(mix: &[(PathBuf, u32)]) -> Result<Vec<(Template, u32)>, GenError> {
    mix.iter()
        .map(|(p, w)| Template::load(p).map(|t| (t, *w)))
        .collect()
}

/// The workspace root (the parent of this crate's folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Template {
        Template::load(&workspace_root().join("samples").join(name)).unwrap()
    }

    #[test]
    fn template_of_a_sample() {
        let t = sample("tls-ok.pcap");
        assert_eq!(t.connections, 1);
        assert_eq!(t.packets(), 122);
        assert_eq!(t.bytes + 24, 72_838);
    }

    #[test]
    fn segments_of_a_sample() {
        let segs = sample("neg-failure-hybrid-required.pcap").tcp_segments();
        assert_eq!(segs.len(), 10);
        assert!(segs[0].from_client && segs[0].flags & 0x02 != 0);
        // The X.224 Connection Request, then the RDP_NEG_FAILURE confirm.
        let data: Vec<&TcpSegment> = segs.iter().filter(|s| !s.payload.is_empty()).collect();
        assert_eq!(data[0].payload[..2], [3, 0]);
        assert!(data[0].from_client && !data[1].from_client);
    }

    #[test]
    fn copies_get_distinct_endpoints_and_checksums_hold() {
        let t = sample("neg-failure-hybrid-required.pcap");
        let per_copy = t.packets();
        let plan = Plan {
            target_connections: 3,
            ..Plan::default()
        };
        let mut out = Vec::new();
        let stats = generate(&[(t, 1)], &plan, &mut out).unwrap();
        assert_eq!(stats.copies, 3);
        assert_eq!(stats.packets, 3 * per_copy);
        assert_eq!(stats.bytes, u64::try_from(out.len()).unwrap());
        let back = Template::parse(Path::new("gen"), &out).unwrap();
        assert_eq!(back.connections, 3);
        // Every IPv4 header checksum verifies (sums to 0xffff).
        for p in &back.packets {
            let ihl = usize::from(p.frame[14] & 0x0f) * 4;
            let mut sum: u32 = p.frame[14..14 + ihl]
                .chunks(2)
                .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
                .sum();
            while sum > 0xffff {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            assert_eq!(sum, 0xffff);
        }
        // Timestamps never go backwards.
        assert!(back.packets.windows(2).all(|w| w[0].rel_ns <= w[1].rel_ns));
    }

    #[test]
    fn size_target_is_met() {
        let mix = load_mix(&default_mix(&workspace_root())).unwrap();
        let plan = Plan {
            target_bytes: 1 << 20,
            ..Plan::default()
        };
        let mut out = Vec::new();
        let stats = generate(&mix, &plan, &mut out).unwrap();
        assert!(stats.bytes >= 1 << 20);
        assert!(stats.bytes < (1 << 20) + 100_000);
    }
}
