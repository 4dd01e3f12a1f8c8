//! Synthetic captures, written byte by byte, for the cases the lab captures do not cover.

use super::blocks::TsResolution;
use super::*;
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

/// A 20-byte TCP header (or longer with `options`) followed by `payload`.
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

fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
    ipv4_raw(
        6,
        1,
        0x4000,
        None,
        &tcp(50000, 3389, 1000, 2000, 0x18, &[], payload),
    )
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

fn ipv6_tcp(payload: &[u8]) -> Vec<u8> {
    ipv6_raw(6, &tcp(50000, 3389, 7, 9, 0x02, &[], payload))
}

fn ether(ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1];
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

struct Rec {
    secs: u32,
    frac: u32,
    data: Vec<u8>,
    origlen: Option<u32>,
}

fn rec(secs: u32, frac: u32, data: Vec<u8>) -> Rec {
    Rec {
        secs,
        frac,
        data,
        origlen: None,
    }
}

fn pcap(linktype: u32, big_endian: bool, nanos: bool, recs: &[Rec]) -> Vec<u8> {
    let w32 = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut f = Vec::new();
    f.extend_from_slice(&w32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    f.extend_from_slice(&w16(2));
    f.extend_from_slice(&w16(4));
    f.extend_from_slice(&w32(0));
    f.extend_from_slice(&w32(0));
    f.extend_from_slice(&w32(65535));
    f.extend_from_slice(&w32(linktype));
    for r in recs {
        let len = u32::try_from(r.data.len()).unwrap();
        f.extend_from_slice(&w32(r.secs));
        f.extend_from_slice(&w32(r.frac));
        f.extend_from_slice(&w32(len));
        f.extend_from_slice(&w32(r.origlen.unwrap_or(len)));
        f.extend_from_slice(&r.data);
    }
    f
}

/// pcapng writer; each block is written in the byte order of the section being written.
struct Ng {
    out: Vec<u8>,
    be: bool,
}

impl Ng {
    fn new() -> Self {
        Ng {
            out: Vec::new(),
            be: false,
        }
    }
    fn w32(&self, v: u32) -> [u8; 4] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn w16(&self, v: u16) -> [u8; 2] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn pad(v: &mut Vec<u8>) {
        while v.len() % 4 != 0 {
            v.push(0);
        }
    }
    fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
        let mut body = body.to_vec();
        Self::pad(&mut body);
        let len = u32::try_from(body.len() + 12).unwrap();
        let (t, l) = (self.w32(block_type), self.w32(len));
        self.out.extend_from_slice(&t);
        self.out.extend_from_slice(&l);
        self.out.extend_from_slice(&body);
        self.out.extend_from_slice(&l);
        self
    }
    fn option(&self, code: u16, value: &[u8]) -> Vec<u8> {
        let mut o = self.w16(code).to_vec();
        o.extend_from_slice(&self.w16(u16::try_from(value.len()).unwrap()));
        o.extend_from_slice(value);
        Self::pad(&mut o);
        o
    }
    fn shb(&mut self, big_endian: bool) -> &mut Self {
        self.be = big_endian;
        let mut body = self.w32(0x1a2b_3c4d).to_vec();
        body.extend_from_slice(&self.w16(1));
        body.extend_from_slice(&self.w16(0));
        body.extend_from_slice(&[0xff; 8]);
        self.block(0x0a0d_0d0a, &body)
    }
    /// IDB with optional if_tsresol and if_tsoffset.
    fn idb(&mut self, linktype: u16, tsresol: Option<u8>, tsoffset: Option<i64>) -> &mut Self {
        let mut body = self.w16(linktype).to_vec();
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&self.w32(0));
        if let Some(r) = tsresol {
            body.extend(self.option(9, &[r]));
        }
        if let Some(o) = tsoffset {
            let bytes = if self.be {
                o.to_be_bytes()
            } else {
                o.to_le_bytes()
            };
            body.extend(self.option(14, &bytes));
        }
        if tsresol.is_some() || tsoffset.is_some() {
            body.extend(self.option(0, &[]));
        }
        self.block(1, &body)
    }
    fn epb(&mut self, if_id: u32, units: u64, data: &[u8]) -> &mut Self {
        let len = u32::try_from(data.len()).unwrap();
        let mut body = self.w32(if_id).to_vec();
        body.extend_from_slice(&self.w32(u32::try_from(units >> 32).unwrap()));
        body.extend_from_slice(&self.w32(u32::try_from(units & 0xffff_ffff).unwrap()));
        body.extend_from_slice(&self.w32(len));
        body.extend_from_slice(&self.w32(len));
        body.extend_from_slice(data);
        self.block(6, &body)
    }
    fn spb(&mut self, data: &[u8]) -> &mut Self {
        let mut body = self.w32(u32::try_from(data.len()).unwrap()).to_vec();
        body.extend_from_slice(data);
        self.block(3, &body)
    }
    fn obsolete_pb(&mut self, if_id: u16, units: u64, data: &[u8]) -> &mut Self {
        let len = u32::try_from(data.len()).unwrap();
        let mut body = self.w16(if_id).to_vec();
        body.extend_from_slice(&self.w16(0));
        body.extend_from_slice(&self.w32(u32::try_from(units >> 32).unwrap()));
        body.extend_from_slice(&self.w32(u32::try_from(units & 0xffff_ffff).unwrap()));
        body.extend_from_slice(&self.w32(len));
        body.extend_from_slice(&self.w32(len));
        body.extend_from_slice(data);
        self.block(2, &body)
    }
    fn dsb(&mut self, secrets_type: u32, data: &[u8]) -> &mut Self {
        let mut body = self.w32(secrets_type).to_vec();
        body.extend_from_slice(&self.w32(u32::try_from(data.len()).unwrap()));
        body.extend_from_slice(data);
        self.block(0x0a, &body)
    }
    fn bytes(&self) -> Vec<u8> {
        self.out.clone()
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
        true,
        false,
        &[
            rec(1_700_000_000, 123_456, ether(0x0800, &ipv4_tcp(b"hello"))),
            rec(1_700_000_001, 0, ether(0x0806, &[0; 28])),
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
        false,
        true,
        &[rec(5, 999_999_999, ether(0x0800, &ipv4_tcp(b"x")))],
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
    let file = pcap(1, true, true, &[rec(5, 7, ether(0x0800, &ipv4_tcp(b"x")))]);
    let (seen, _) = read(&file);
    assert_eq!(seen[0].ts, Timestamp::from_secs_nanos(5, 7));
}

#[test]
fn cooked_captures_sll_and_sll2() {
    // No SLL2 capture exists in the lab (tls-ok-cooked.pcap is LINUX_SLL), so both are built.
    let file = pcap(
        113,
        false,
        false,
        &[rec(1, 0, sll(0x0800, &ipv4_tcp(b"v1")))],
    );
    let (seen, s) = read(&file);
    assert_eq!(seen[0].payload, b"v1");
    assert!(s.is_complete());
    let file = pcap(
        276,
        false,
        false,
        &[
            rec(1, 0, sll2(0x86dd, &ipv6_tcp(b"v2"))),
            rec(1, 0, sll2(0x0806, &[0; 28])),
            rec(1, 0, vec![0x08, 0x00, 0, 0]), // header cut short
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
    let file = pcap(0, false, false, &[rec(1, 0, null_le), rec(2, 0, null_be)]);
    let (seen, _) = read(&file);
    let payloads: Vec<_> = seen.iter().map(|p| p.payload.clone()).collect();
    assert_eq!(payloads, vec![b"le".to_vec(), b"be".to_vec()]);

    let mut lo = 24u32.to_be_bytes().to_vec();
    lo.extend(ipv6_tcp(b"loop"));
    let file = pcap(108, false, false, &[rec(1, 0, lo)]);
    let (seen, _) = read(&file);
    assert_eq!(seen[0].payload, b"loop");
}

#[test]
fn raw_ip_link_types() {
    for linktype in [101, 12, 14, 228] {
        let file = pcap(linktype, false, false, &[rec(1, 0, ipv4_tcp(b"raw4"))]);
        let (seen, s) = read(&file);
        assert_eq!(seen.len(), 1, "linktype {linktype}: {:?}", s.problems);
        assert_eq!(seen[0].payload, b"raw4");
    }
    for linktype in [101, 229] {
        let file = pcap(linktype, false, false, &[rec(1, 0, ipv6_tcp(b"raw6"))]);
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
    let file = pcap(
        1,
        false,
        false,
        &[
            rec(1, 0, ether(0x88a8, &tagged)),
            rec(1, 0, ether(0x8100, &single)),
            rec(1, 0, ether(0x9100, &old)),
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
    let file = pcap(1, false, false, &[rec(1, 0, frame)]);
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
    let full = ether(0x0800, &ipv4_tcp(&[0x42; 100]));
    let mut cut = full[..14 + 20 + 20 + 30].to_vec();
    let mut header_cut = full[..14 + 20 + 10].to_vec();
    let file = pcap(
        1,
        false,
        false,
        &[
            Rec {
                origlen: Some(u32::try_from(full.len()).unwrap()),
                ..rec(1, 0, std::mem::take(&mut cut))
            },
            Rec {
                origlen: Some(u32::try_from(full.len()).unwrap()),
                ..rec(1, 0, std::mem::take(&mut header_cut))
            },
        ],
    );
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
    let file = pcap(
        1,
        false,
        false,
        &[
            rec(1, 0, frag(128, 256, true)),
            rec(1, 1, ether(0x0800, &ipv4_raw(17, 9, 0, None, &[0; 8]))),
            rec(1, 2, frag(256, segment.len(), false)),
            rec(1, 3, frag(0, 128, true)),
            rec(1, 4, ether(0x0800, &ipv4_tcp(b"after"))),
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
    let file = pcap(1, false, false, &[rec(1, 0, first)]);
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
    let file = pcap(
        1,
        false,
        false,
        &[
            rec(1, 0, frag(64, segment.len(), false)),
            rec(1, 1, frag(0, 64, true)),
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
    let file = pcap(
        1,
        false,
        false,
        &[
            rec(1, 0, ether(0x0800, &ipv4_tcp(b"one"))),
            rec(2, 0, ether(0x0800, &ipv4_tcp(b"two"))),
        ],
    );
    let cut = &file[..file.len() - 5];
    let (seen, s) = read(cut);
    assert_eq!(seen.len(), 1);
    let second_record = 24 + 16 + ether(0x0800, &ipv4_tcp(b"one")).len();
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
    let mut ng = Ng::new();
    ng.shb(false).idb(1, None, None);
    for i in 0..4u8 {
        ng.epb(0, u64::from(i), &ether(0x0800, &ipv4_tcp(&[i; 10])));
    }
    let file = ng.bytes();
    let (all, _) = read(&file);
    assert_eq!(all.len(), 4);
    let classic = pcap(
        1,
        false,
        false,
        &[
            rec(1, 0, ether(0x0800, &ipv4_tcp(b"a"))),
            rec(1, 0, ether(0x0800, &ipv4_tcp(b"b"))),
        ],
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
    let mut ng = Ng::new();
    ng.shb(false)
        .idb(1, None, None) // Ethernet, microseconds
        .idb(101, Some(9), Some(100)) // raw IP, nanoseconds, +100 s
        .dsb(0x544c_534b, b"CLIENT_RANDOM aa bb\n")
        .dsb(0x5747_4b4c, b"wireguard")
        .epb(0, 1_500_000, &ether(0x0800, &ipv4_tcp(b"s0i0")))
        .epb(1, 2_000_000_001, &ipv4_tcp(b"s0i1"))
        .spb(&ether(0x0800, &ipv4_tcp(b"spb")))
        .obsolete_pb(1, 3_000_000_000, &ipv4_tcp(b"opb"))
        .block(0x0000_0bad, b"unknown block")
        .epb(7, 0, &ipv4_tcp(b"nowhere"))
        .shb(true)
        .idb(276, Some(0x80 | 20), None) // SLL2, 2^-20 s
        .epb(
            0,
            (3u64 << 20) | (1 << 19),
            &sll2(0x0800, &ipv4_tcp(b"s1i0")),
        )
        .obsolete_pb(0, 5u64 << 20, &sll2(0x0800, &ipv4_tcp(b"s1opb")));
    let (seen, s) = read(&ng.bytes());
    assert!(s.is_complete(), "{:?}", s.problems);
    let got: Vec<(u64, Vec<u8>, Timestamp)> = seen
        .iter()
        .map(|p| (p.frame, p.payload.clone(), p.ts))
        .collect();
    let ts = |secs, nanos| Timestamp::from_secs_nanos(secs, nanos);
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
    let mut ng = Ng::new();
    ng.shb(false)
        .idb(1, None, None)
        .epb(0, 0, &ether(0x0800, &ipv4_tcp(b"ok")));
    let good = ng.bytes();

    // a block claiming 4 GiB
    let mut absurd = good.clone();
    absurd.extend_from_slice(&6u32.to_le_bytes());
    absurd.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    absurd.extend_from_slice(&[0; 64]);
    let (seen, s) = read(&absurd);
    assert_eq!(seen.len(), 1);
    match s.fatal() {
        Some(CaptureProblem::RecordTooLarge { offset, length, .. }) => {
            assert_eq!(*offset, u64::try_from(good.len()).unwrap());
            assert_eq!(*length, 0xffff_fff0);
        }
        other => panic!("{other:?}"),
    }

    // a length that is not a multiple of 4, and one below the minimum
    for bad_len in [33u32, 8] {
        let mut bad = good.clone();
        bad.extend_from_slice(&6u32.to_le_bytes());
        bad.extend_from_slice(&bad_len.to_le_bytes());
        bad.extend_from_slice(&[0; 40]);
        let (seen, s) = read(&bad);
        assert_eq!(seen.len(), 1);
        assert!(
            matches!(s.fatal(), Some(CaptureProblem::Corrupt { .. })),
            "{:?}",
            s.problems
        );
    }

    // an EPB whose captured length overruns its block: contents disagree with the length
    let mut overrun = good.clone();
    let mut body = Vec::new();
    for v in [0u32, 0, 0, 1000, 1000] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    body.extend_from_slice(&[0; 16]);
    overrun.extend_from_slice(&6u32.to_le_bytes());
    overrun.extend_from_slice(&u32::try_from(body.len() + 12).unwrap().to_le_bytes());
    overrun.extend_from_slice(&body);
    overrun.extend_from_slice(&u32::try_from(body.len() + 12).unwrap().to_le_bytes());
    overrun.extend_from_slice(&[0; 2000]);
    let (seen, s) = read(&overrun);
    assert_eq!(seen.len(), 1);
    assert!(
        matches!(s.fatal(), Some(CaptureProblem::Corrupt { .. })),
        "{:?}",
        s.problems
    );
}

#[test]
fn records_larger_than_the_buffer_grow_it_up_to_the_limit() {
    let big = ether(0x0800, &ipv4_tcp(&[7; 3000]));
    let file = pcap(1, false, false, &[rec(1, 0, big.clone()), rec(2, 0, big)]);
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
    let big = ether(0x0800, &ipv4_tcp(&[9; 60_000]));
    let file = pcap(1, false, false, &[rec(1, 0, big.clone()), rec(2, 0, big)]);
    let (seen, s) = read_with(&file, &small);
    assert!(s.is_complete(), "{:?}", s.problems);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].payload.len(), 60_000);

    // A record claiming 16 MiB with its header, then 10 bytes and the end of the file.
    let mut lying = pcap(1, false, false, &[]);
    lying.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    lying.extend_from_slice(&0x00ff_ffef_u32.to_le_bytes());
    lying.extend_from_slice(&0x00ff_ffef_u32.to_le_bytes());
    lying.extend_from_slice(&[0; 10]);
    let (seen, s) = read_with(&lying, &small);
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
    let mut file = Vec::new();
    file.extend_from_slice(&0x0a0d_0d0a_u32.to_le_bytes());
    file.extend_from_slice(&(16 * 1024 * 1024 - 4_u32).to_le_bytes());
    file.extend_from_slice(&0x1a2b_3c4d_u32.to_le_bytes());
    file.extend_from_slice(&[1, 0, 0, 0]);
    file.extend_from_slice(&[0xff; 24]);
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
    let mut ng = Ng::new();
    ng.shb(false)
        .idb(1, Some(9), None) // the adapter: Ethernet, nanoseconds
        .idb(1, Some(9), None) // a filter driver
        .idb(101, Some(9), None) // TCP/IP: raw IP
        .epb(0, 1_000_000_000, &ether(0x0800, &syn))
        .epb(1, 1_000_002_000, &ether(0x0800, &syn))
        .epb(2, 1_000_004_000, &syn)
        .epb(0, 1_000_010_000, &ether(0x0800, &data))
        .epb(2, 1_000_013_000, &data)
        // The same bytes again on the adapter: a retransmission, kept, and its copies dropped.
        .epb(0, 1_300_000_000, &ether(0x0800, &data))
        .epb(1, 1_300_002_000, &ether(0x0800, &data))
        .epb(2, 1_300_004_000, &data);
    let (seen, s) = read(&ng.bytes());
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
    let recs: Vec<Rec> = (0..3).map(|i| rec(1, i, ether(0x0800, &data))).collect();
    let (seen, s) = read(&pcap(1, false, false, &recs));
    assert_eq!(seen.len(), 3);
    assert_eq!(s.stats.duplicate_packets, 0);
    let mut ng = Ng::new();
    ng.shb(false)
        .idb(1, Some(9), None)
        .idb(101, Some(9), None)
        .epb(0, 1_000_000_000, &ether(0x0800, &data))
        .epb(0, 1_000_001_000, &ether(0x0800, &data))
        .epb(1, 1_000_001_000 + 100_000_000, &data);
    let (seen, s) = read(&ng.bytes());
    assert_eq!(seen.len(), 3);
    assert_eq!(s.stats.duplicate_packets, 0);
    // A new section forgets the packets of the one before.
    let mut ng = Ng::new();
    ng.shb(false)
        .idb(1, Some(9), None)
        .idb(101, Some(9), None)
        .epb(0, 1_000_000_000, &ether(0x0800, &data))
        .shb(false)
        .idb(1, Some(9), None)
        .idb(101, Some(9), None)
        .epb(1, 1_000_000_010, &data);
    let (seen, _) = read(&ng.bytes());
    assert_eq!(seen.len(), 2);
}

#[test]
fn unknown_link_type_is_counted_per_interface() {
    let mut ng = Ng::new();
    ng.shb(false)
        .idb(147, None, None)
        .idb(1, None, None)
        .epb(0, 0, b"user data")
        .epb(1, 0, &ether(0x0800, &ipv4_tcp(b"fine")))
        .epb(0, 0, b"more user data");
    let (seen, s) = read(&ng.bytes());
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
    let (_, s) = read(&[0xd4, 0xc3]);
    assert!(matches!(
        s.fatal(),
        Some(CaptureProblem::Truncated {
            offset: 0,
            bytes: 2
        })
    ));

    assert!(looks_like_capture(&[0xd4, 0xc3, 0xb2, 0xa1]));
    assert!(looks_like_capture(&[0xa1, 0xb2, 0xc3, 0xd4]));
    assert!(looks_like_capture(&[0x4d, 0x3c, 0xb2, 0xa1]));
    assert!(looks_like_capture(&[0xa1, 0xb2, 0x3c, 0x4d]));
    assert!(looks_like_capture(&[
        0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a
    ]));
    assert!(!looks_like_capture(&[
        0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4
    ]));
    assert!(!looks_like_capture(b"MZ\x90\x00"));
    assert!(!looks_like_capture(&[0xd4, 0xc3]));
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
    let mut ng = Ng::new();
    ng.shb(false).idb(1, None, None);
    for i in 0..3u8 {
        ng.epb(0, 0, &ether(0x0800, &ipv4_tcp(&[i; 5])));
    }
    let file = ng.bytes();
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
