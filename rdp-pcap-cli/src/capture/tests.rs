//! Synthetic captures for the cases the lab captures do not cover, written by the capture
//! kit (`crate::kit`): its `CaptureWriter` for every file (byte orders, sections, interface
//! options, old blocks, raw bytes for the lying ones), its `TcpSegment` for well-formed
//! frames. Link layers the kit does not build (SLL, SLL2, NULL, LOOP, stacked VLAN tags) and
//! malformed or fragmented IP are built here by hand: they are the inputs under test.

use super::blocks::TsResolution;
use super::*;
use crate::kit::{
    tcp_flags, ByteOrder, CaptureWriter, Format, InterfaceOptions, Link, Linktype, Resolution,
    TcpSegment, CLIENT_MAC, SERVER_MAC,
};
use rdp_wire::Timestamp;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// ---------------------------------------------------------------- packet builders

const V4_CLIENT: [u8; 4] = [10, 0, 0, 1];
const V4_SERVER: [u8; 4] = [10, 0, 0, 2];

fn v6(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfd;
    a[15] = last;
    a
}

/// A 20-byte TCP header (or longer with `options`) followed by `payload`, for the frames the
/// kit will not build (TCP options, IP fragments).
fn tcp(
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.push(u8::try_from((20 + options.len()) / 4).unwrap() << 4);
    t.push(flags);
    t.extend_from_slice(&8192u16.to_be_bytes());
    t.extend_from_slice(&[0xde, 0xad, 0, 0]); // wrong checksum on purpose, urgent pointer
    t.extend_from_slice(options);
    t.extend_from_slice(payload);
    t
}

/// An IPv4 header (no options) for `body`, with id, flags/fragment offset word and the total
/// length given (None = computed).
fn ipv4_raw(proto: u8, id: u16, frag_word: u16, total: Option<u16>, body: &[u8]) -> Vec<u8> {
    let total = total.unwrap_or(u16::try_from(20 + body.len()).unwrap());
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&frag_word.to_be_bytes());
    p.extend_from_slice(&[64, proto, 0xbe, 0xef]);
    p.extend_from_slice(&V4_CLIENT);
    p.extend_from_slice(&V4_SERVER);
    p.extend_from_slice(body);
    p
}

/// The client's PSH|ACK with `payload` (seq 1000, ack 2000) over IPv4, as a frame of `link`.
fn v4_segment(link: Link, payload: &[u8]) -> Vec<u8> {
    TcpSegment {
        src: v4(V4_CLIENT, 50000),
        dst: v4(V4_SERVER, 3389),
        seq: 1000,
        ack: 2000,
        flags: tcp_flags::PSH | tcp_flags::ACK,
        window: 8192,
        payload,
    }
    .frame(link, CLIENT_MAC, SERVER_MAC)
}

/// [`v4_segment`] as a bare IPv4 packet.
fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
    v4_segment(Link::RawIp, payload)
}

/// [`v4_segment`] in an Ethernet II frame.
fn ether_tcp(payload: &[u8]) -> Vec<u8> {
    v4_segment(Link::Ethernet, payload)
}

fn ipv6_raw(next: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    p.extend_from_slice(&[next, 64]);
    p.extend_from_slice(&v6(1));
    p.extend_from_slice(&v6(2));
    p.extend_from_slice(body);
    p
}

/// The client's SYN carrying `payload` (seq 7, ack 9) as a bare IPv6 packet.
fn ipv6_tcp(payload: &[u8]) -> Vec<u8> {
    TcpSegment {
        src: v6addr(1, 50000),
        dst: v6addr(2, 3389),
        seq: 7,
        ack: 9,
        flags: tcp_flags::SYN,
        window: 8192,
        payload,
    }
    .frame(Link::RawIp, CLIENT_MAC, SERVER_MAC)
}

/// An Ethernet II header of any ethertype (ARP, stacked tags, fragments) before `body`.
fn ether(ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut f = SERVER_MAC.to_vec();
    f.extend_from_slice(&CLIENT_MAC);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(body);
    f
}

fn sll(protocol: u16, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(body);
    f
}

fn sll2(protocol: u16, body: &[u8]) -> Vec<u8> {
    let mut f = protocol.to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    f.extend_from_slice(body);
    f
}

// ---------------------------------------------------------------- file builders

fn ts(secs: i64, nanos: u64) -> Timestamp {
    Timestamp::from_secs_nanos(secs, nanos)
}

/// A classic pcap (snapshot length 65,535) of `link` in `order` and `resolution`, one record
/// per (time, frame), each whole.
fn pcap(
    link: i32,
    order: ByteOrder,
    resolution: Resolution,
    records: &[(Timestamp, Vec<u8>)],
) -> Vec<u8> {
    let mut w = pcap_writer(link, order, resolution);
    for (at, frame) in records {
        w.record(0, *at, frame, u32::try_from(frame.len()).unwrap())
            .unwrap();
    }
    w.into_inner()
}

fn pcap_writer(link: i32, order: ByteOrder, resolution: Resolution) -> CaptureWriter<Vec<u8>> {
    let format = Format::Pcap(Linktype(link), resolution);
    CaptureWriter::with_byte_order(Vec::new(), format, 65_535, order).unwrap()
}

/// The common case: a little-endian microsecond pcap.
fn pcap_le(link: i32, records: &[(Timestamp, Vec<u8>)]) -> Vec<u8> {
    pcap(link, ByteOrder::Little, Resolution::Micro, records)
}

/// A little-endian pcapng section being written, without snapshot length.
fn pcapng() -> CaptureWriter<Vec<u8>> {
    CaptureWriter::new(Vec::new(), Format::Pcapng, 0).unwrap()
}

/// Interface options: `if_tsresol` and `if_tsoffset` when given.
fn opts(tsresol: Option<u8>, tsoffset: Option<i64>) -> InterfaceOptions {
    InterfaceOptions { tsresol, tsoffset }
}

/// The kit's writer as these tests chain it: block by block, unwrapped, every packet whole.
trait Blocks {
    fn shb(&mut self, order: ByteOrder) -> &mut Self;
    fn idb(&mut self, link: i32, options: InterfaceOptions) -> &mut Self;
    fn epb(&mut self, interface: u32, at: Timestamp, frame: &[u8]) -> &mut Self;
    fn spb(&mut self, frame: &[u8]) -> &mut Self;
    fn obsolete_pb(&mut self, interface: u16, at: Timestamp, frame: &[u8]) -> &mut Self;
    fn dsb(&mut self, secrets_type: u32, secrets: &[u8]) -> &mut Self;
    fn unknown(&mut self, block_type: u32, body: &[u8]) -> &mut Self;
}

fn len(frame: &[u8]) -> u32 {
    u32::try_from(frame.len()).unwrap()
}

impl Blocks for CaptureWriter<Vec<u8>> {
    fn shb(&mut self, order: ByteOrder) -> &mut Self {
        self.section(order).unwrap();
        self
    }
    fn idb(&mut self, link: i32, options: InterfaceOptions) -> &mut Self {
        self.interface_with(Linktype(link), 0, options).unwrap();
        self
    }
    fn epb(&mut self, interface: u32, at: Timestamp, frame: &[u8]) -> &mut Self {
        self.record(interface, at, frame, len(frame)).unwrap();
        self
    }
    fn spb(&mut self, frame: &[u8]) -> &mut Self {
        self.simple_packet(frame, len(frame)).unwrap();
        self
    }
    fn obsolete_pb(&mut self, interface: u16, at: Timestamp, frame: &[u8]) -> &mut Self {
        self.obsolete_packet(interface, at, frame, len(frame))
            .unwrap();
        self
    }
    fn dsb(&mut self, secrets_type: u32, secrets: &[u8]) -> &mut Self {
        self.decryption_secrets(secrets_type, secrets).unwrap();
        self
    }
    fn unknown(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
        self.block(block_type, body).unwrap();
        self
    }
}

// ---------------------------------------------------------------- running

struct Seen {
    frame: u64,
    ts: Timestamp,
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    flags: TcpFlags,
    payload: Vec<u8>,
    truncated: bool,
    reassembled: bool,
}

fn read_with(bytes: &[u8], limits: &CaptureLimits) -> (Vec<Seen>, CaptureSummary) {
    let mut seen = Vec::new();
    let summary = read_capture_with(bytes, limits, &mut |p| {
        seen.push(Seen {
            frame: p.frame,
            ts: p.ts,
            src: p.src,
            dst: p.dst,
            seq: p.seq,
            flags: p.flags,
            payload: p.payload.to_vec(),
            truncated: p.payload_truncated,
            reassembled: p.reassembled,
        })
    });
    check_invariants(&summary, &seen);
    (seen, summary)
}

fn read(bytes: &[u8]) -> (Vec<Seen>, CaptureSummary) {
    read_with(bytes, &CaptureLimits::default())
}

fn check_invariants(s: &CaptureSummary, seen: &[Seen]) {
    let st = &s.stats;
    assert_eq!(
        st.packets,
        st.tcp_packets
            + st.non_tcp_packets
            + st.undecodable_packets
            + st.unknown_linktype_packets
            + st.ip_fragments_seen
            + st.duplicate_packets,
        "{st:?}"
    );
    assert_eq!(
        st.ip_fragments_seen,
        st.ip_fragments_reassembled + st.ip_fragments_dropped,
        "{st:?}"
    );
    assert_eq!(u64::try_from(seen.len()).unwrap(), st.tcp_segments());
    assert!(seen.windows(2).all(|w| w[0].frame <= w[1].frame));
    assert!(seen.iter().all(|p| p.frame >= 1 && p.frame <= st.packets));
    let fatal = s.problems.iter().filter(|p| p.is_fatal()).count();
    assert!(fatal <= 1);
    if fatal == 1 {
        assert!(s.problems.last().unwrap().is_fatal());
    }
}

fn v4(a: [u8; 4], port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::from(a)), port)
}

fn v6addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V6(Ipv6Addr::from(v6(last))), port)
}

// ---------------------------------------------------------------- classic pcap

#[test]
fn big_endian_microsecond_pcap() {
    let file = pcap(
        1,
        ByteOrder::Big,
        Resolution::Micro,
        &[
            (ts(1_700_000_000, 123_456_000), ether_tcp(b"hello")),
            (ts(1_700_000_001, 0), ether(0x0806, &[0; 28])),
        ],
    );
    let (seen, s) = read(&file);
    assert!(s.is_complete(), "{:?}", s.problems);
    assert_eq!(
        s.format,
        CaptureFormat::Pcap {
            nanos: false,
            big_endian: true
        }
    );
    assert_eq!(seen.len(), 1);
    let p = &seen[0];
    assert_eq!(p.frame, 1);
    assert_eq!(p.ts, Timestamp::from_secs_nanos(1_700_000_000, 123_456_000));
    assert_eq!(p.src, v4(V4_CLIENT, 50000));
    assert_eq!(p.dst, v4(V4_SERVER, 3389));
    assert_eq!(p.seq, 1000);
    assert_eq!(p.flags, TcpFlags(0x18));
    assert!(p.flags.psh() && p.flags.ack() && !p.flags.syn());
    assert_eq!(p.payload, b"hello");
    assert_eq!(s.stats.packets, 2);
    assert_eq!(s.stats.tcp_packets, 1);
    assert_eq!(s.stats.non_tcp_packets, 1);
    assert_eq!(s.first_ts.unwrap().secs(), 1_700_000_000);
    assert_eq!(s.last_ts.unwrap().secs(), 1_700_000_001);
}

#[test]
fn nanosecond_pcap_keeps_nanoseconds() {
    let file = pcap(
        1,
        ByteOrder::Little,
        Resolution::Nano,
        &[(ts(5, 999_999_999), ether_tcp(b"x"))],
    );
    let (seen, s) = read(&file);
    assert_eq!(
        s.format,
        CaptureFormat::Pcap {
            nanos: true,
            big_endian: false
        }
    );
    assert_eq!(seen[0].ts, Timestamp::from_secs_nanos(5, 999_999_999));
    // big-endian nanosecond too
    let file = pcap(
        1,
        ByteOrder::Big,
        Resolution::Nano,
        &[(ts(5, 7), ether_tcp(b"x"))],
    );
    let (seen, _) = read(&file);
    assert_eq!(seen[0].ts, Timestamp::from_secs_nanos(5, 7));
}

#[test]
fn cooked_captures_sll_and_sll2() {
    // No SLL2 capture exists in the lab (tls-ok-cooked.pcap is LINUX_SLL), so both are built.
    let file = pcap_le(113, &[(ts(1, 0), sll(0x0800, &ipv4_tcp(b"v1")))]);
    let (seen, s) = read(&file);
    assert_eq!(seen[0].payload, b"v1");
    assert!(s.is_complete());
    let file = pcap_le(
        276,
        &[
            (ts(1, 0), sll2(0x86dd, &ipv6_tcp(b"v2"))),
            (ts(1, 0), sll2(0x0806, &[0; 28])),
            (ts(1, 0), vec![0x08, 0x00, 0, 0]), // header cut short
        ],
    );
    let (seen, s) = read(&file);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].payload, b"v2");
    assert_eq!(seen[0].src, v6addr(1, 50000));
    assert_eq!(seen[0].dst, v6addr(2, 3389));
    assert_eq!(
        (s.stats.non_tcp_packets, s.stats.undecodable_packets),
        (1, 1)
    );
}

#[test]
fn null_and_loop_link_types() {
    let mut null_le = 2u32.to_le_bytes().to_vec();
    null_le.extend(ipv4_tcp(b"le"));
    let mut null_be = 30u32.to_be_bytes().to_vec();
    null_be.extend(ipv6_tcp(b"be"));
    let file = pcap_le(0, &[(ts(1, 0), null_le), (ts(2, 0), null_be)]);
    let (seen, _) = read(&file);
    let payloads: Vec<_> = seen.iter().map(|p| p.payload.clone()).collect();
    assert_eq!(payloads, vec![b"le".to_vec(), b"be".to_vec()]);

    let mut lo = 24u32.to_be_bytes().to_vec();
    lo.extend(ipv6_tcp(b"loop"));
    let file = pcap_le(108, &[(ts(1, 0), lo)]);
    let (seen, _) = read(&file);
    assert_eq!(seen[0].payload, b"loop");
}

#[test]
fn raw_ip_link_types() {
    for linktype in [101, 12, 14, 228] {
        let file = pcap_le(linktype, &[(ts(1, 0), ipv4_tcp(b"raw4"))]);
        let (seen, s) = read(&file);
        assert_eq!(seen.len(), 1, "linktype {linktype}: {:?}", s.problems);
        assert_eq!(seen[0].payload, b"raw4");
    }
    for linktype in [101, 229] {
        let file = pcap_le(linktype, &[(ts(1, 0), ipv6_tcp(b"raw6"))]);
        let (seen, _) = read(&file);
        assert_eq!(seen[0].payload, b"raw6");
    }
}

#[test]
fn qinq_and_vlan_tags() {
    let mut tagged = vec![0x00, 0x10, 0x81, 0x00, 0x00, 0x20, 0x08, 0x00];
    tagged.extend(ipv4_tcp(b"qinq"));
    let mut single = vec![0x00, 0x30, 0x86, 0xdd];
    single.extend(ipv6_tcp(b"dot1q"));
    let mut old = vec![0x00, 0x40, 0x08, 0x00];
    old.extend(ipv4_tcp(b"9100"));
    let file = pcap_le(
        1,
        &[
            (ts(1, 0), ether(0x88a8, &tagged)),
            (ts(1, 0), ether(0x8100, &single)),
            (ts(1, 0), ether(0x9100, &old)),
        ],
    );
    let (seen, s) = read(&file);
    let payloads: Vec<_> = seen.iter().map(|p| p.payload.clone()).collect();
    assert_eq!(
        payloads,
        vec![b"qinq".to_vec(), b"dot1q".to_vec(), b"9100".to_vec()]
    );
    assert_eq!(s.stats.tcp_packets, 3);
}

#[test]
fn ethernet_padding_is_trimmed_and_options_kept() {
    // A bare ACK is 54 bytes; Ethernet pads it to 60.
    let mss = [2, 4, 0x05, 0xb4];
    let mut frame = ether(
        0x0800,
        &ipv4_raw(6, 1, 0, None, &tcp(1, 2, 3, 4, 0x10, &mss, &[])),
    );
    frame.extend_from_slice(&[0xaa; 2]);
    let file = pcap_le(1, &[(ts(1, 0), frame)]);
    let mut options = Vec::new();
    let mut payload_len = usize::MAX;
    read_capture(file.as_slice(), &mut |p| {
        options = p.options.to_vec();
        payload_len = p.payload.len();
    });
    assert_eq!(options, mss);
    assert_eq!(payload_len, 0);
}

#[test]
fn snaplen_cut_gives_truncated_payload() {
    let full = ether_tcp(&[0x42; 100]);
    let mut w = pcap_writer(1, ByteOrder::Little, Resolution::Micro);
    w.record(0, ts(1, 0), &full[..14 + 20 + 20 + 30], len(&full))
        .unwrap();
    w.record(0, ts(1, 0), &full[..14 + 20 + 10], len(&full))
        .unwrap();
    let file = w.into_inner();
    let (seen, s) = read(&file);
    assert_eq!(seen.len(), 1);
    assert!(seen[0].truncated);
    assert_eq!(seen[0].payload, vec![0x42; 30]);
    assert_eq!(s.stats.truncated_packets, 2);
    assert_eq!(s.stats.undecodable_packets, 1);
    assert!(s.is_complete());
}

#[test]
fn ipv4_fragments_are_reassembled() {
    let payload: Vec<u8> = (0..=255u8).cycle().take(300).collect();
    let segment = tcp(40000, 3389, 77, 88, 0x18, &[], &payload);
    // 320 bytes of TCP split at 128 and 256 (multiples of 8), sent out of order, with
    // an unrelated UDP packet in between.
    let frag = |from: usize, to: usize, more: bool| {
        let word = u16::try_from(from / 8).unwrap() | if more { 0x2000 } else { 0 };
        ether(0x0800, &ipv4_raw(6, 0x1234, word, None, &segment[from..to]))
    };
    let file = pcap_le(
        1,
        &[
            (ts(1, 0), frag(128, 256, true)),
            (
                ts(1, 1_000),
                ether(0x0800, &ipv4_raw(17, 9, 0, None, &[0; 8])),
            ),
            (ts(1, 2_000), frag(256, segment.len(), false)),
            (ts(1, 3_000), frag(0, 128, true)),
            (ts(1, 4_000), ether_tcp(b"after")),
        ],
    );
    let (seen, s) = read(&file);
    assert_eq!(seen.len(), 2);
    let r = &seen[0];
    assert!(r.reassembled);
    assert_eq!(r.frame, 4, "numbered by the fragment that completed it");
    assert_eq!(r.ts, Timestamp::from_secs_nanos(1, 3000));
    assert_eq!(r.seq, 77);
    assert_eq!(r.src, v4(V4_CLIENT, 40000));
    assert_eq!(r.payload, payload);
    assert_eq!(seen[1].frame, 5);
    assert_eq!(s.stats.ip_fragments_seen, 3);
    assert_eq!(s.stats.ip_fragments_reassembled, 3);
    assert_eq!(s.stats.ip_datagrams_reassembled, 1);
    assert_eq!(s.stats.reassembled_tcp_packets, 1);
    assert_eq!(s.stats.tcp_packets, 1);
}

#[test]
fn incomplete_fragments_are_dropped_at_the_end() {
    let segment = tcp(40000, 3389, 77, 88, 0x18, &[], &[1; 40]);
    let first = ether(0x0800, &ipv4_raw(6, 5, 0x2000, None, &segment[..24]));
    let file = pcap_le(1, &[(ts(1, 0), first)]);
    let (seen, s) = read(&file);
    assert!(seen.is_empty());
    assert_eq!(s.stats.ip_fragments_seen, 1);
    assert_eq!(s.stats.ip_fragments_dropped, 1);
}

#[test]
fn ipv6_fragments_are_reassembled() {
    let payload = vec![0x5a; 100];
    let segment = tcp(40000, 3389, 1, 2, 0x18, &[], &payload);
    let frag = |from: usize, to: usize, more: bool| {
        let word = u16::try_from(from).unwrap() | u16::from(more); // offset in bytes = units << 3
        let mut body = vec![6, 0];
        body.extend_from_slice(&word.to_be_bytes());
        body.extend_from_slice(&0xcafe_f00du32.to_be_bytes());
        body.extend_from_slice(&segment[from..to]);
        ether(0x86dd, &ipv6_raw(44, &body))
    };
    let file = pcap_le(
        1,
        &[
            (ts(1, 0), frag(64, segment.len(), false)),
            (ts(1, 1_000), frag(0, 64, true)),
        ],
    );
    let (seen, s) = read(&file);
    assert_eq!(seen.len(), 1, "{:?}", s.stats);
    assert_eq!(seen[0].payload, payload);
    assert_eq!(seen[0].dst, v6addr(2, 3389));
    assert_eq!(seen[0].frame, 2);
}

#[test]
fn file_cut_inside_a_record() {
    let file = pcap_le(
        1,
        &[(ts(1, 0), ether_tcp(b"one")), (ts(2, 0), ether_tcp(b"two"))],
    );
    let cut = &file[..file.len() - 5];
    let (seen, s) = read(cut);
    assert_eq!(seen.len(), 1);
    let second_record = 24 + 16 + ether_tcp(b"one").len();
    match s.fatal() {
        Some(CaptureProblem::Truncated { offset, bytes }) => {
            assert_eq!(*offset, u64::try_from(second_record).unwrap());
            assert_eq!(
                *bytes,
                u64::try_from(file.len() - 5 - second_record).unwrap()
            );
        }
        other => panic!("{other:?}"),
    }
    // cut inside the file header
    let (_, s) = read(&file[..10]);
    assert!(matches!(
        s.fatal(),
        Some(CaptureProblem::Truncated {
            offset: 0,
            bytes: 10
        })
    ));
}

#[test]
fn every_prefix_reads_a_prefix_of_the_packets() {
    let mut ng = pcapng();
    ng.idb(1, opts(None, None));
    for i in 0..4u8 {
        ng.epb(0, Timestamp(i64::from(i) * 1000), &ether_tcp(&[i; 10])); // i us
    }
    let file = ng.into_inner();
    let (all, _) = read(&file);
    assert_eq!(all.len(), 4);
    let classic = pcap_le(
        1,
        &[(ts(1, 0), ether_tcp(b"a")), (ts(1, 0), ether_tcp(b"b"))],
    );
    for file in [file, classic] {
        let (all, _) = read(&file);
        for cut in 0..file.len() {
            let limits = CaptureLimits {
                buffer_size: 64,
                ..CaptureLimits::default()
            };
            let (seen, s) = read_with(&file[..cut], &limits);
            assert!(seen.len() <= all.len());
            for (a, b) in seen.iter().zip(&all) {
                assert_eq!(a.payload, b.payload);
            }
            match s.fatal() {
                None => {}
                Some(CaptureProblem::Truncated { .. } | CaptureProblem::Empty) => {}
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    }
}

// ---------------------------------------------------------------- pcapng

#[test]
fn pcapng_sections_interfaces_and_blocks() {
    let mut ng = pcapng();
    ng.idb(1, opts(None, None)) // Ethernet, microseconds
        .idb(101, opts(Some(9), Some(100))) // raw IP, nanoseconds, +100 s
        .dsb(0x544c_534b, b"CLIENT_RANDOM aa bb\n")
        .dsb(0x5747_4b4c, b"wireguard")
        .epb(0, ts(1, 500_000_000), &ether_tcp(b"s0i0")) // 1,500,000 us
        .epb(1, ts(102, 1), &ipv4_tcp(b"s0i1")) // 2,000,000,001 ns after the offset
        .spb(&ether_tcp(b"spb"))
        .obsolete_pb(1, ts(103, 0), &ipv4_tcp(b"opb"))
        .unknown(0x0000_0bad, b"unknown block")
        .epb(7, Timestamp(0), &ipv4_tcp(b"nowhere"))
        .shb(ByteOrder::Big)
        .idb(276, opts(Some(0x80 | 20), None)) // SLL2, 2^-20 s
        .epb(0, ts(3, 500_000_000), &sll2(0x0800, &ipv4_tcp(b"s1i0"))) // (3 << 20) | (1 << 19)
        .obsolete_pb(0, ts(5, 0), &sll2(0x0800, &ipv4_tcp(b"s1opb"))); // 5 << 20
    let (seen, s) = read(&ng.into_inner());
    assert!(s.is_complete(), "{:?}", s.problems);
    let got: Vec<(u64, Vec<u8>, Timestamp)> = seen
        .iter()
        .map(|p| (p.frame, p.payload.clone(), p.ts))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, b"s0i0".to_vec(), ts(1, 500_000_000)),
            (2, b"s0i1".to_vec(), ts(102, 1)),
            (3, b"spb".to_vec(), ts(102, 1)), // SPB: no timestamp, previous one kept
            (4, b"opb".to_vec(), ts(103, 0)),
            (6, b"s1i0".to_vec(), ts(3, 500_000_000)),
            (7, b"s1opb".to_vec(), ts(5, 0)),
        ]
    );
    assert_eq!(s.format, CaptureFormat::PcapNg { sections: 2 });
    assert_eq!(s.tls_key_logs, vec![b"CLIENT_RANDOM aa bb\n".to_vec()]);
    assert_eq!(s.stats.decryption_secrets_blocks, 2);
    assert_eq!(s.stats.interfaces, 3);
    assert_eq!(s.stats.ignored_blocks, 1);
    assert_eq!(s.stats.undecodable_packets, 1);
    assert!(matches!(
        s.problems.as_slice(),
        [CaptureProblem::UnknownInterface {
            section: 0,
            interface: 7,
            packets: 1
        }]
    ));
}

#[test]
fn pcapng_absurd_and_bad_block_lengths() {
    // One good packet, then raw bytes: an Enhanced Packet Block (type 6) header that lies.
    let good = || {
        let mut ng = pcapng();
        ng.idb(1, opts(None, None))
            .epb(0, Timestamp(0), &ether_tcp(b"ok"));
        ng
    };
    let good_len = good().into_inner().len();

    // a block claiming 4 GiB
    let mut absurd = good();
    absurd.raw(&6u32.to_le_bytes()).unwrap();
    absurd.raw(&0xffff_fff0u32.to_le_bytes()).unwrap();
    absurd.raw(&[0; 64]).unwrap();
    let (seen, s) = read(&absurd.into_inner());
    assert_eq!(seen.len(), 1);
    match s.fatal() {
        Some(CaptureProblem::RecordTooLarge { offset, length, .. }) => {
            assert_eq!(*offset, u64::try_from(good_len).unwrap());
            assert_eq!(*length, 0xffff_fff0);
        }
        other => panic!("{other:?}"),
    }

    // a length that is not a multiple of 4, and one below the minimum
    for bad_len in [33u32, 8] {
        let mut bad = good();
        bad.raw(&6u32.to_le_bytes()).unwrap();
        bad.raw(&bad_len.to_le_bytes()).unwrap();
        bad.raw(&[0; 40]).unwrap();
        let (seen, s) = read(&bad.into_inner());
        assert_eq!(seen.len(), 1);
        assert!(
            matches!(s.fatal(), Some(CaptureProblem::Corrupt { .. })),
            "{:?}",
            s.problems
        );
    }

    // an EPB whose captured length overruns its block: contents disagree with the length
    let mut overrun = good();
    let mut body = Vec::new();
    for v in [0u32, 0, 0, 1000, 1000] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    body.extend_from_slice(&[0; 16]);
    overrun.unknown(6, &body).raw(&[0; 2000]).unwrap();
    let (seen, s) = read(&overrun.into_inner());
    assert_eq!(seen.len(), 1);
    assert!(
        matches!(s.fatal(), Some(CaptureProblem::Corrupt { .. })),
        "{:?}",
        s.problems
    );
}

#[test]
fn records_larger_than_the_buffer_grow_it_up_to_the_limit() {
    let big = ether_tcp(&[7; 3000]);
    let file = pcap_le(1, &[(ts(1, 0), big.clone()), (ts(2, 0), big)]);
    let small = CaptureLimits {
        buffer_size: 64,
        ..CaptureLimits::default()
    };
    let (seen, s) = read_with(&file, &small);
    assert!(s.is_complete(), "{:?}", s.problems);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].payload.len(), 3000);

    let tight = CaptureLimits {
        buffer_size: 64,
        max_record: 1024,
        ..CaptureLimits::default()
    };
    let (seen, s) = read_with(&file, &tight);
    assert!(seen.is_empty());
    assert!(matches!(
        s.fatal(),
        Some(CaptureProblem::RecordTooLarge {
            offset: 24,
            limit: 1024,
            ..
        })
    ));
}

/// Regression (robustness audit): the buffer used to grow straight to a record's declared
/// length, so a 40-byte file whose record claimed 16 MiB allocated 16 MiB. It now doubles, and
/// a large real record still arrives whole through a dozen doublings.
#[test]
fn buffer_doubles_towards_a_declared_length_instead_of_jumping() {
    let small = CaptureLimits {
        buffer_size: 64,
        ..CaptureLimits::default()
    };
    let big = ether_tcp(&[9; 60_000]);
    let file = pcap_le(1, &[(ts(1, 0), big.clone()), (ts(2, 0), big)]);
    let (seen, s) = read_with(&file, &small);
    assert!(s.is_complete(), "{:?}", s.problems);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].payload.len(), 60_000);

    // A record claiming 16 MiB with its header, then 10 bytes and the end of the file.
    let mut lying = pcap_writer(1, ByteOrder::Little, Resolution::Micro);
    lying.raw(&[1, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    lying.raw(&0x00ff_ffef_u32.to_le_bytes()).unwrap();
    lying.raw(&0x00ff_ffef_u32.to_le_bytes()).unwrap();
    lying.raw(&[0; 10]).unwrap();
    let (seen, s) = read_with(&lying.into_inner(), &small);
    assert!(seen.is_empty());
    assert!(
        matches!(
            s.fatal(),
            Some(CaptureProblem::Truncated { offset: 24, .. })
        ),
        "{:?}",
        s.problems
    );
}

/// Regression (robustness audit): the first pcapng Section Header Block sized the read buffer
/// from its declared length before its bytes were read; a 40-byte file whose SHB claimed
/// 16 MiB allocated 16 MiB. Its bytes are now read first (doubling), so the short file is
/// simply cut short.
#[test]
fn lying_first_section_header_is_cut_short_without_allocating_its_length() {
    // The kit's Section Header Block (type, length, magic, version 1.0, 8 bytes 0xff), its
    // length made 16 MiB, its trailing length replaced by 16 more bytes 0xff: 40 bytes.
    let mut file = pcapng().into_inner();
    file[4..8].copy_from_slice(&(16 * 1024 * 1024 - 4_u32).to_le_bytes());
    file.truncate(24);
    file.extend_from_slice(&[0xff; 16]);
    assert_eq!(file[12..16], [1, 0, 0, 0]);
    let (seen, s) = read(&file);
    assert!(seen.is_empty());
    assert!(
        matches!(
            s.fatal(),
            Some(CaptureProblem::Truncated {
                offset: 0,
                bytes: 40
            })
        ),
        "{:?}",
        s.problems
    );
}

/// Packet Monitor's way: each packet logged at several components, one interface each, some
/// with the Ethernet header and some without, microseconds apart.
#[test]
fn copies_of_a_packet_on_other_interfaces_are_dropped_and_counted() {
    let syn = ipv4_tcp(b"");
    let data = ipv4_tcp(b"hello");
    let mut ng = pcapng();
    ng.idb(1, opts(Some(9), None)) // the adapter: Ethernet, nanoseconds
        .idb(1, opts(Some(9), None)) // a filter driver
        .idb(101, opts(Some(9), None)) // TCP/IP: raw IP
        .epb(0, Timestamp(1_000_000_000), &ether(0x0800, &syn))
        .epb(1, Timestamp(1_000_002_000), &ether(0x0800, &syn))
        .epb(2, Timestamp(1_000_004_000), &syn)
        .epb(0, Timestamp(1_000_010_000), &ether(0x0800, &data))
        .epb(2, Timestamp(1_000_013_000), &data)
        // The same bytes again on the adapter: a retransmission, kept, and its copies dropped.
        .epb(0, Timestamp(1_300_000_000), &ether(0x0800, &data))
        .epb(1, Timestamp(1_300_002_000), &ether(0x0800, &data))
        .epb(2, Timestamp(1_300_004_000), &data);
    let (seen, s) = read(&ng.into_inner());
    assert!(s.is_complete(), "{:?}", s.problems);
    let got: Vec<(u64, Vec<u8>)> = seen.iter().map(|p| (p.frame, p.payload.clone())).collect();
    assert_eq!(
        got,
        [(1, vec![]), (4, b"hello".to_vec()), (6, b"hello".to_vec())]
    );
    assert_eq!(
        seen[0].ts,
        Timestamp::from_secs_nanos(1, 0),
        "the first copy's time"
    );
    assert_eq!(s.stats.packets, 8);
    assert_eq!(s.stats.tcp_packets, 3);
    assert_eq!(s.stats.duplicate_packets, 5);
}

/// One interface: identical packets are retransmissions (or duplicate ACKs) and all kept; a
/// copy more than `copies::WINDOW_NS` later is kept too.
#[test]
fn identical_packets_on_one_interface_or_far_apart_are_all_kept() {
    let data = ipv4_tcp(b"again");
    let recs: Vec<_> = (0..3)
        .map(|i| (ts(1, i * 1000), ether_tcp(b"again")))
        .collect();
    let (seen, s) = read(&pcap_le(1, &recs));
    assert_eq!(seen.len(), 3);
    assert_eq!(s.stats.duplicate_packets, 0);
    let mut ng = pcapng();
    ng.idb(1, opts(Some(9), None))
        .idb(101, opts(Some(9), None))
        .epb(0, Timestamp(1_000_000_000), &ether(0x0800, &data))
        .epb(0, Timestamp(1_000_001_000), &ether(0x0800, &data))
        .epb(1, Timestamp(1_000_001_000 + 100_000_000), &data);
    let (seen, s) = read(&ng.into_inner());
    assert_eq!(seen.len(), 3);
    assert_eq!(s.stats.duplicate_packets, 0);
    // A new section forgets the packets of the one before.
    let mut ng = pcapng();
    ng.idb(1, opts(Some(9), None))
        .idb(101, opts(Some(9), None))
        .epb(0, Timestamp(1_000_000_000), &ether(0x0800, &data))
        .shb(ByteOrder::Little)
        .idb(1, opts(Some(9), None))
        .idb(101, opts(Some(9), None))
        .epb(1, Timestamp(1_000_000_010), &data);
    let (seen, _) = read(&ng.into_inner());
    assert_eq!(seen.len(), 2);
}

#[test]
fn unknown_link_type_is_counted_per_interface() {
    let mut ng = pcapng();
    ng.idb(147, opts(None, None))
        .idb(1, opts(None, None))
        .epb(0, Timestamp(0), b"user data")
        .epb(1, Timestamp(0), &ether_tcp(b"fine"))
        .epb(0, Timestamp(0), b"more user data");
    let (seen, s) = read(&ng.into_inner());
    assert_eq!(seen.len(), 1);
    assert_eq!(s.stats.unknown_linktype_packets, 2);
    assert!(s.is_complete());
    assert!(matches!(
        s.problems.as_slice(),
        [CaptureProblem::UnknownLinkType {
            section: 0,
            interface: 0,
            linktype: 147,
            packets: 2
        }]
    ));
    assert_eq!(
        s.problems[0].to_string(),
        "2 packets on interface 0 (section 0) have link type 147, which is not decoded"
    );
}

#[test]
fn not_a_capture_empty_and_magic_sniffing() {
    let (_, s) = read(b"GET / HTTP/1.1\r\n\r\n");
    assert!(matches!(
        s.fatal(),
        Some(CaptureProblem::NotACapture { magic: 0x4745_5420 })
    ));
    assert_eq!(s.format, CaptureFormat::Unknown);
    let (_, s) = read(b"");
    assert!(matches!(s.fatal(), Some(CaptureProblem::Empty)));
    // The kit writes the four classic pcap magics and the pcapng one (its own tests pin
    // their bytes).
    let magic = |order, resolution| pcap_writer(1, order, resolution).into_inner()[..4].to_vec();
    let micro_le = magic(ByteOrder::Little, Resolution::Micro);
    let (_, s) = read(&micro_le[..2]);
    assert!(matches!(
        s.fatal(),
        Some(CaptureProblem::Truncated {
            offset: 0,
            bytes: 2
        })
    ));

    assert!(looks_like_capture(&micro_le));
    assert!(looks_like_capture(&magic(
        ByteOrder::Big,
        Resolution::Micro
    )));
    assert!(looks_like_capture(&magic(
        ByteOrder::Little,
        Resolution::Nano
    )));
    assert!(looks_like_capture(&magic(ByteOrder::Big, Resolution::Nano)));
    let shb = pcapng().into_inner();
    assert!(looks_like_capture(&shb[..12]));
    let mut wrong_magic = shb[..12].to_vec();
    wrong_magic[8..12].copy_from_slice(&[1, 2, 3, 4]);
    assert!(!looks_like_capture(&wrong_magic));
    assert!(!looks_like_capture(b"MZ\x90\x00"));
    assert!(!looks_like_capture(&micro_le[..2]));
}

// ---------------------------------------------------------------- readers

/// Hands out one byte per read, with an `Interrupted` between reads, then fails with an
/// error after `fail_after` bytes if asked.
struct Trickle<'a> {
    data: &'a [u8],
    pos: usize,
    interrupt: bool,
    fail_after: Option<usize>,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.fail_after.is_some_and(|n| self.pos >= n) {
            return Err(io::Error::other("disk on fire"));
        }
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(io::ErrorKind::Interrupted.into());
        }
        match (self.data.get(self.pos), buf.first_mut()) {
            (Some(b), Some(dst)) => {
                *dst = *b;
                self.pos += 1;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn short_reads_interrupts_and_read_errors() {
    let mut ng = pcapng();
    ng.idb(1, opts(None, None));
    for i in 0..3u8 {
        ng.epb(0, Timestamp(0), &ether_tcp(&[i; 5]));
    }
    let file = ng.into_inner();
    let mut n = 0;
    let s = read_capture(
        Trickle {
            data: &file,
            pos: 0,
            interrupt: false,
            fail_after: None,
        },
        &mut |_| n += 1,
    );
    assert_eq!(n, 3);
    assert!(s.is_complete());

    let mut n = 0;
    let s = read_capture(
        Trickle {
            data: &file,
            pos: 0,
            interrupt: false,
            fail_after: Some(file.len() - 10),
        },
        &mut |_| n += 1,
    );
    assert_eq!(n, 2);
    assert!(matches!(s.fatal(), Some(CaptureProblem::Io(e)) if e.to_string() == "disk on fire"));
}

#[test]
fn timestamps() {
    // The capture reader's clock is the one of rdp-wire: the conversions it relies on.
    assert_eq!(Timestamp::from_nanos(-1).secs(), -1);
    assert_eq!(Timestamp::from_nanos(-1).subsec_nanos(), 999_999_999);
    assert_eq!(Timestamp::from_nanos(-1).to_string(), "-0.000000001");
    assert_eq!(
        Timestamp::from_secs_nanos(1, 2_500_000_000),
        Timestamp::from_secs_nanos(3, 500_000_000)
    );
    assert_eq!(Timestamp::from_secs_nanos(1, 5).to_string(), "1.000000005");
    assert_eq!(Timestamp::from_nanos(i128::MAX), Timestamp::MAX);
    assert_eq!(Timestamp::from_nanos(i128::MIN), Timestamp::MIN);
    let t = Timestamp::from_secs_nanos(1_795_946_628, 416_562_000);
    assert_eq!(Timestamp::from_nanos(i128::from(t.as_nanos())), t);
    assert!(Timestamp::from_secs_nanos(1, 0) > Timestamp::from_secs_nanos(0, 999_999_999));
    assert_eq!(TsResolution::from_tsresol(20), None);
    assert_eq!(TsResolution::from_tsresol(0xff), None);
    assert_eq!(TsResolution::Binary(63).split(u64::MAX), (1, 999_999_999));
    assert_eq!(TsResolution::Decimal(1).split(42), (42, 0));
}

#[test]
fn tcp_flags_display() {
    assert_eq!(TcpFlags(0x12).to_string(), "SYN|ACK");
    assert_eq!(TcpFlags(0).to_string(), "0");
    assert_eq!(format!("{:?}", TcpFlags(0x14)), "TcpFlags(0x14: RST|ACK)");
}
