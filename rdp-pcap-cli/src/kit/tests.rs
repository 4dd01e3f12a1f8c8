#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::net::SocketAddr;

use pcap_parser::Linktype;
use rdp_wire::{Side, Timestamp};

use super::*;
use crate::capture::{read_capture, CaptureFormat, CaptureSummary};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Handshake, 3,000 client bytes in three segments, 20 server bytes, both FINs: 9 packets.
fn conversation(client: &str, server: &str) -> Conversation {
    let mut c = Conversation::new(addr(client), addr(server)).with_mss(1000);
    c.handshake()
        .send(Side::Client, &[0x5a; 3000])
        .send(Side::Server, &[0xa5; 20])
        .close();
    c
}

/// What the tool's own capture reader sees: (seq, flags, payload length, ns since the
/// epoch), and the summary.
// `i128::from`: the capture clock's nanoseconds are an i128 today and an i64 once it is
// `rdp_wire::Timestamp`; the conversion serves both.
#[allow(clippy::useless_conversion)]
fn through_the_reader(bytes: &[u8]) -> (Vec<(u32, u8, usize, i128)>, CaptureSummary) {
    let mut seen = Vec::new();
    let summary = read_capture(bytes, &mut |p| {
        seen.push((
            p.seq,
            p.flags.0,
            p.payload.len(),
            i128::from(p.ts.as_nanos()),
        ))
    });
    (seen, summary)
}

#[test]
fn a_conversation_keeps_sequence_numbers_and_time() {
    let c = conversation("10.0.0.2:50000", "10.0.0.1:3389");
    let bytes = c.clone().into_packets().to_pcapng(None);
    let (seen, summary) = through_the_reader(&bytes);
    assert!(summary.is_complete(), "{:?}", summary.problems);
    assert_eq!(summary.format, CaptureFormat::PcapNg { sections: 1 });
    use tcp_flags::*;
    let t0 = i128::from(DEFAULT_START.as_nanos());
    let at = |k: i128| t0 + k * 10_000;
    assert_eq!(
        seen,
        [
            (1_000_000, SYN, 0, at(0)),
            (7_000_000, SYN | ACK, 0, at(1)),
            (1_000_001, ACK, 0, at(2)),
            (1_000_001, PSH | ACK, 1000, at(3)),
            (1_001_001, PSH | ACK, 1000, at(4)),
            (1_002_001, PSH | ACK, 1000, at(5)),
            (7_000_001, PSH | ACK, 20, at(6)),
            (1_003_001, FIN | ACK, 0, at(7)),
            (7_000_021, FIN | ACK, 0, at(8)),
        ]
    );
    assert_eq!(c.next_seq, [1_003_002, 7_000_022]);
}

#[test]
fn classic_pcap_and_pcapng_hold_the_same_packets() {
    let packets = conversation("10.0.0.2:50000", "10.0.0.1:3389").into_packets();
    let ng = packets.to_pcapng(None);
    let classic = to_pcap(Linktype::ETHERNET, &packets).unwrap();
    let (a, _) = through_the_reader(&ng);
    let (b, s) = through_the_reader(&classic);
    assert!(s.is_complete(), "{:?}", s.problems);
    assert_eq!(a, b);
    // And the test reader reads back what was written, byte for byte.
    for bytes in [&ng, &classic] {
        let back = read(bytes).unwrap();
        let frames: Vec<(Timestamp, Vec<u8>)> =
            back.frames.into_iter().map(|f| (f.ts, f.data)).collect();
        let written: Vec<(Timestamp, Vec<u8>)> =
            packets.iter().map(|p| (p.ts, p.frame.clone())).collect();
        assert_eq!(frames, written);
    }
}

#[test]
fn ipv6_vlan_and_raw_ip_framing() {
    for (link, client, server) in [
        (Link::Ethernet, "[fd00::2]:50000", "[fd00::1]:3389"),
        (Link::Vlan(42), "10.0.0.2:50000", "10.0.0.1:3389"),
        (Link::RawIp, "10.0.0.2:50000", "10.0.0.1:3389"),
        (Link::RawIp, "[fd00::2]:50000", "[fd00::1]:3389"),
    ] {
        let mut c = Conversation::new(addr(client), addr(server)).with_link(link);
        c.handshake().send(Side::Client, b"hello").close();
        let bytes = c.into_packets().to_pcapng(None);
        let mut seen = Vec::new();
        let s = read_capture(&bytes[..], &mut |p| {
            seen.push((p.src, p.dst, p.payload.to_vec()))
        });
        assert!(s.is_complete(), "{link:?}: {:?}", s.problems);
        assert_eq!(seen.len(), 6, "{link:?}");
        assert_eq!(seen[3], (addr(client), addr(server), b"hello".to_vec()));
    }
}

#[test]
fn udp_datagrams() {
    let frame = udp_frame(
        Link::Ethernet,
        addr("10.0.0.2:50000"),
        addr("10.0.0.1:3389"),
        CLIENT_MAC,
        SERVER_MAC,
        b"rdpudp",
    );
    let sliced = etherparse::SlicedPacket::from_ethernet(&frame).unwrap();
    let Some(etherparse::TransportSlice::Udp(udp)) = sliced.transport else {
        panic!("no UDP in {frame:02x?}");
    };
    assert_eq!((udp.source_port(), udp.destination_port()), (50000, 3389));
    assert_eq!(udp.payload(), b"rdpudp");
}

#[test]
fn decryption_secrets_round_trip() {
    let keys = b"CLIENT_RANDOM 0102 0304\nCLIENT_RANDOM 05 06\n";
    let bytes = conversation("10.0.0.2:50000", "10.0.0.1:3389")
        .into_packets()
        .to_pcapng(Some(keys));
    assert_eq!(read(&bytes).unwrap().tls_key_logs, [keys.to_vec()]);
    let (seen, summary) = through_the_reader(&bytes);
    assert_eq!(seen.len(), 9);
    assert_eq!(summary.tls_key_logs, [keys.to_vec()]);
    assert_eq!(summary.stats.decryption_secrets_blocks, 1);
    // A classic pcap has no place for them.
    let mut w = CaptureWriter::new(
        Vec::new(),
        Format::Pcap(Linktype::ETHERNET, Resolution::Nano),
        0,
    )
    .unwrap();
    assert!(w.tls_key_log(keys).is_err());
}

#[test]
fn drop_cut_one_direction_duplicate_reorder() {
    let packets = conversation("10.0.0.2:50000", "10.0.0.1:3389").into_packets();
    let seqs = |p: &Packets| -> Vec<u32> {
        let (seen, s) = through_the_reader(&p.to_pcapng(None));
        assert!(s.is_complete());
        seen.iter().map(|x| x.0).collect()
    };
    let second = packets.nth_data(Side::Client, 1).unwrap();
    assert_eq!(second, 4);
    assert_eq!(packets.nth_data(Side::Server, 0), Some(6));
    assert_eq!(packets.nth_data(Side::Server, 1), None);

    let dropped = packets.clone().without(second);
    assert_eq!(
        seqs(&dropped),
        [1_000_000, 7_000_000, 1_000_001, 1_000_001, 1_002_001, 7_000_001, 1_003_001, 7_000_021]
    );
    let cut = packets.clone().cut_after(4);
    assert_eq!(seqs(&cut), [1_000_000, 7_000_000, 1_000_001, 1_000_001]);
    let server_only = packets.clone().only(Side::Server);
    assert_eq!(seqs(&server_only), [7_000_000, 7_000_001, 7_000_021]);
    let twice = packets.clone().duplicated(second);
    assert_eq!(twice.len(), 10);
    assert_eq!(twice[4], twice[5]);
    let swapped = packets.clone().reordered(3, 4);
    assert_eq!(seqs(&swapped)[3..5], [1_001_001, 1_000_001]);
    // The clock still runs forward.
    assert!(swapped.windows(2).all(|w| w[0].ts < w[1].ts));
    // Out of range: nothing changes.
    assert_eq!(packets.clone().without(99), packets);
    assert_eq!(packets.clone().reordered(0, 99), packets);
}

#[test]
fn snapshot_length_cuts_frames() {
    let packets = conversation("10.0.0.2:50000", "10.0.0.1:3389").into_packets();
    let mut w = CaptureWriter::new(Vec::new(), Format::Pcapng, 100).unwrap();
    for p in packets.iter() {
        w.packet(p).unwrap();
    }
    let back = read(&w.into_inner()).unwrap();
    let big = &back.frames[3];
    assert_eq!((big.data.len(), big.orig_len), (100, 14 + 20 + 20 + 1000));
    let (_, summary) = through_the_reader(&to_pcap_with_snaplen(&packets, 100));
    assert_eq!(summary.stats.truncated_packets, 3);
}

fn to_pcap_with_snaplen(packets: &[Packet], snaplen: u32) -> Vec<u8> {
    let format = Format::Pcap(Linktype::ETHERNET, Resolution::Micro);
    let mut w = CaptureWriter::new(Vec::new(), format, snaplen).unwrap();
    for p in packets {
        w.packet(p).unwrap();
    }
    w.into_inner()
}

#[test]
fn short_files_are_named_as_such() {
    let bytes = conversation("10.0.0.2:50000", "10.0.0.1:3389")
        .into_packets()
        .to_pcapng(None);
    let cut = &bytes[..bytes.len() - 3];
    assert!(matches!(
        read(cut),
        Err(crate::capture::CaptureProblem::Truncated { .. })
    ));
    assert!(matches!(
        read(b"not a capture"),
        Err(crate::capture::CaptureProblem::NotACapture { .. })
    ));
}

/// tshark, when installed, reads the pcapng the kit writes (a Decryption Secrets Block
/// included) without complaint: every frame, its TCP fields, good checksums.
#[test]
fn tshark_reads_what_the_kit_writes() {
    let Ok(version) = std::process::Command::new("tshark")
        .arg("--version")
        .output()
    else {
        eprintln!("note: tshark is not installed; the kit's tshark check is skipped");
        return;
    };
    assert!(version.status.success());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kit.pcapng");
    let bytes = conversation("[fd00::2]:50000", "[fd00::1]:3389")
        .into_packets()
        .to_pcapng(Some(b"CLIENT_RANDOM 00 11\n"));
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&path)
        .args([
            "-T",
            "fields",
            "-e",
            "tcp.seq_raw",
            "-e",
            "tcp.len",
            "-e",
            "tcp.checksum.status",
        ])
        .args(["-o", "tcp.check_checksum:TRUE"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 9);
    assert_eq!(lines[0], "1000000\t0\t1");
    assert_eq!(lines[4], "1001001\t1000\t1");
    let info = std::process::Command::new("capinfos").arg(&path).output();
    if let Ok(info) = info {
        let text = String::from_utf8_lossy(&info.stdout);
        assert!(text.contains("Number of packets:   9"), "{text}");
    }
}

/// A TCP segment with `payload`, from the client to the server, as a frame of `link`.
fn segment_frame(link: Link, payload: &[u8]) -> Vec<u8> {
    TcpSegment {
        src: addr("10.0.0.2:50000"),
        dst: addr("10.0.0.1:3389"),
        seq: 1,
        ack: 1,
        flags: tcp_flags::PSH | tcp_flags::ACK,
        window: 8192,
        payload,
    }
    .frame(link, CLIENT_MAC, SERVER_MAC)
}

/// The odd pcapng files the tool's reader must take: two sections, the second big-endian;
/// an interface without options (microseconds), one with `if_tsoffset`, one counting
/// 2^-20 s; a Simple and two obsolete Packet Blocks; a WireGuard key log, an unknown block,
/// a packet on an undescribed interface. Both readers read back what was written.
#[test]
fn sections_byte_orders_interface_options_and_old_blocks() {
    let ts = Timestamp::from_secs_nanos;
    let eth = |p: &[u8]| segment_frame(Link::Ethernet, p);
    let ip = |p: &[u8]| segment_frame(Link::RawIp, p);
    let len = |f: &[u8]| u32::try_from(f.len()).unwrap();
    let mut w = CaptureWriter::new(Vec::new(), Format::Pcapng, 0).unwrap();
    let micro = w
        .interface_with(Linktype::ETHERNET, 0, InterfaceOptions::default())
        .unwrap();
    let later = InterfaceOptions {
        tsresol: Some(9),
        tsoffset: Some(100),
    };
    let later = w.interface_with(Linktype::RAW, 0, later).unwrap();
    assert_eq!((micro, later), (0, 1));
    w.decryption_secrets(0x5747_4b4c, b"wireguard").unwrap();
    w.record(micro, ts(1, 500_000_000), &eth(b"a"), len(&eth(b"a")))
        .unwrap();
    w.record(later, ts(102, 1), &ip(b"b"), len(&ip(b"b")))
        .unwrap();
    w.simple_packet(&eth(b"c"), len(&eth(b"c"))).unwrap();
    w.obsolete_packet(1, ts(103, 0), &ip(b"d"), len(&ip(b"d")))
        .unwrap();
    w.block(0x0000_0bad, b"unknown block").unwrap();
    w.record(7, ts(0, 0), &ip(b"nowhere"), 0).unwrap();
    w.section(ByteOrder::Big).unwrap();
    let binary = InterfaceOptions {
        tsresol: Some(0x80 | 20),
        tsoffset: None,
    };
    assert_eq!(w.interface_with(Linktype::RAW, 0, binary).unwrap(), 0);
    w.record(0, ts(3, 500_000_000), &ip(b"e"), len(&ip(b"e")))
        .unwrap();
    w.obsolete_packet(0, ts(5, 0), &ip(b"f"), len(&ip(b"f")))
        .unwrap();
    w.tls_key_log(b"CLIENT_RANDOM 00 11\n").unwrap();
    let bytes = w.into_inner();

    // The test reader stops at the packet on interface 7, which no interface describes.
    let (back, problem) = read_lenient(&bytes);
    assert!(
        matches!(
            problem,
            Some(crate::capture::CaptureProblem::Corrupt { .. })
        ),
        "{problem:?}"
    );
    let frames: Vec<(Timestamp, Linktype, u32, Vec<u8>)> = back
        .frames
        .into_iter()
        .map(|f| (f.ts, f.link, f.interface, f.data))
        .collect();
    assert_eq!(
        frames,
        [
            (ts(1, 500_000_000), Linktype::ETHERNET, 0, eth(b"a")),
            (ts(102, 1), Linktype::RAW, 1, ip(b"b")),
            (Timestamp(0), Linktype::ETHERNET, 0, eth(b"c")),
            (ts(103, 0), Linktype::RAW, 1, ip(b"d")),
        ]
    );

    // The tool's reader takes all of it.
    let mut seen = Vec::new();
    let summary = read_capture(&bytes[..], &mut |p| seen.push((p.payload.to_vec(), p.ts)));
    assert!(summary.is_complete(), "{:?}", summary.problems);
    assert_eq!(summary.format, CaptureFormat::PcapNg { sections: 2 });
    assert_eq!(
        seen,
        [
            (b"a".to_vec(), ts(1, 500_000_000)),
            (b"b".to_vec(), ts(102, 1)),
            (b"c".to_vec(), ts(102, 1)), // no time of its own: the one before
            (b"d".to_vec(), ts(103, 0)),
            (b"e".to_vec(), ts(3, 500_000_000)),
            (b"f".to_vec(), ts(5, 0)),
        ]
    );
    assert_eq!(summary.tls_key_logs, [b"CLIENT_RANDOM 00 11\n".to_vec()]);
    assert_eq!(summary.stats.decryption_secrets_blocks, 2);
    assert_eq!(summary.stats.interfaces, 3);
    assert_eq!(summary.stats.ignored_blocks, 1);
    assert_eq!(summary.stats.undecodable_packets, 1);

    // The second section, as the test reader sees it alone: big-endian from its magic on.
    let second = (1..bytes.len())
        .find(|&i| bytes.get(i..i + 4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]))
        .unwrap();
    assert_eq!(bytes[second + 8..second + 12], [0x1a, 0x2b, 0x3c, 0x4d]);
    let back = read(&bytes[second..]).unwrap();
    assert_eq!(back.frames.len(), 2);
    assert_eq!(back.frames[0].ts, ts(3, 500_000_000));
    assert_eq!(back.frames[1].ts, ts(5, 0));
    assert_eq!(back.frames[1].data, ip(b"f"));
    assert_eq!(back.tls_key_logs, [b"CLIENT_RANDOM 00 11\n".to_vec()]);
}

/// A time an interface cannot hold (before its offset, before 1970) is refused, and what is
/// not pcapng has no sections, interfaces or pcapng-only blocks.
#[test]
fn what_cannot_be_written_is_refused() {
    let mut w = CaptureWriter::new(Vec::new(), Format::Pcapng, 0).unwrap();
    let options = InterfaceOptions {
        tsresol: None,
        tsoffset: Some(100),
    };
    let id = w.interface_with(Linktype::RAW, 0, options).unwrap();
    assert!(w
        .record(id, Timestamp::from_secs_nanos(99, 0), b"", 0)
        .is_err());
    assert!(w
        .record(id, Timestamp::from_secs_nanos(100, 0), b"", 0)
        .is_ok());
    let coarse = InterfaceOptions {
        tsresol: Some(0x80 | 64),
        tsoffset: None,
    };
    let id = w.interface_with(Linktype::RAW, 0, coarse).unwrap();
    assert!(w.record(id, Timestamp(0), b"", 0).is_err());
    let format = Format::Pcap(Linktype::ETHERNET, Resolution::Micro);
    let mut w = CaptureWriter::new(Vec::new(), format, 0).unwrap();
    assert!(w.section(ByteOrder::Big).is_err());
    assert!(w.interface(Linktype::RAW, 0).is_err());
    assert!(w.simple_packet(b"", 0).is_err());
    assert!(w.obsolete_packet(0, Timestamp(0), b"", 0).is_err());
    assert!(w.decryption_secrets(SECRETS_TLS_KEY_LOG, b"").is_err());
}

/// Classic pcap in both byte orders and both resolutions, with a record cut at the snapshot
/// length: both readers read the time, the order and the lengths back.
#[test]
fn classic_pcap_byte_orders_and_resolutions() {
    let frame = segment_frame(Link::Ethernet, &[0x42; 100]);
    let orig = u32::try_from(frame.len()).unwrap();
    let at = Timestamp::from_secs_nanos(5, 123_456_789);
    for order in [ByteOrder::Little, ByteOrder::Big] {
        for resolution in [Resolution::Micro, Resolution::Nano] {
            let format = Format::Pcap(Linktype::ETHERNET, resolution);
            let mut w = CaptureWriter::with_byte_order(Vec::new(), format, 80, order).unwrap();
            w.record(0, at, &frame, orig).unwrap();
            let bytes = w.into_inner();
            // The magic number (pcap 4), in the file's byte order.
            let magic: [u8; 4] = match (order, resolution) {
                (ByteOrder::Little, Resolution::Micro) => [0xd4, 0xc3, 0xb2, 0xa1],
                (ByteOrder::Big, Resolution::Micro) => [0xa1, 0xb2, 0xc3, 0xd4],
                (ByteOrder::Little, Resolution::Nano) => [0x4d, 0x3c, 0xb2, 0xa1],
                (ByteOrder::Big, Resolution::Nano) => [0xa1, 0xb2, 0x3c, 0x4d],
            };
            assert_eq!(bytes[..4], magic);
            let nanos = resolution == Resolution::Nano;
            let want = if nanos {
                at
            } else {
                Timestamp::from_secs_nanos(5, 123_456_000)
            };
            let back = read(&bytes).unwrap();
            assert_eq!(back.nanos, nanos);
            assert_eq!(back.frames[0].ts, want);
            assert_eq!(
                (back.frames[0].data.len(), back.frames[0].orig_len),
                (80, orig)
            );
            let (seen, s) = through_the_reader(&bytes);
            assert!(s.is_complete(), "{:?}", s.problems);
            assert_eq!(
                s.format,
                CaptureFormat::Pcap {
                    nanos,
                    big_endian: order == ByteOrder::Big
                }
            );
            assert_eq!(seen, [(1, 0x18, 26, i128::from(want.as_nanos()))]);
            assert_eq!(s.stats.truncated_packets, 1);
        }
    }
}

/// The Section Header Block (pcapng 4.1) in both byte orders, and the interfaces the writer
/// describes by itself, which still say nanoseconds the way they always did (the bytes the
/// benches' generated captures hold).
#[test]
fn section_headers_and_default_interface_options() {
    let mut w = CaptureWriter::new(Vec::new(), Format::Pcapng, 0).unwrap();
    w.section(ByteOrder::Big).unwrap();
    let bytes = w.into_inner();
    let little = [
        0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
    ];
    let big = [
        0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0,
    ];
    assert_eq!(bytes[..16], little);
    assert_eq!(bytes[28..44], big);
    assert_eq!(
        bytes[44..56],
        [0xff; 8]
            .iter()
            .chain(&[0, 0, 0, 28])
            .copied()
            .collect::<Vec<u8>>()[..]
    );

    let mut w = CaptureWriter::new(Vec::new(), Format::Pcapng, 0).unwrap();
    w.interface(Linktype::ETHERNET, 0).unwrap();
    let bytes = w.into_inner();
    assert_eq!(
        bytes[28 + 16..],
        [9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0]
    );
}
