//! `rdp_pcap::capture` on real captures from `../shared/corpus`, checked against what tshark
//! 4.0 reports for them, and fuzzed with random bytes and mutations of a real capture.
//!
//! The corpus is read at test time, never copied. Without it the tests print a note and pass,
//! unless `CI=true`, where a missing corpus is a failure.
// Test helpers outside `#[test]` functions: the workspace's test exemptions do not reach them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::path::PathBuf;

use proptest::prelude::*;
use rdp_pcap::capture::{
    read_capture, read_capture_with, CaptureFormat, CaptureLimits, CaptureSummary, TcpFlags,
};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("corpus folder {} is missing (CI=true)", dir.display());
    } else {
        eprintln!(
            "note: {} is missing; skipping real-capture test",
            dir.display()
        );
        None
    }
}

fn load(rel: &str) -> Option<Vec<u8>> {
    let path = corpus()?.join(rel);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// What tshark prints per TCP packet with
/// `-T fields -e frame.number -e ip.src/ipv6.src -e tcp.srcport ... -e tcp.seq_raw -e tcp.ack_raw
/// -e tcp.flags -e tcp.window_size_value -e tcp.len`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    frame: u64,
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
    len: usize,
    nanos: i128,
}

fn rows(bytes: &[u8]) -> (Vec<Row>, CaptureSummary, u64) {
    let mut rows = Vec::new();
    let mut payload_bytes = 0u64;
    let summary = read_capture(bytes, &mut |p| {
        payload_bytes += u64::try_from(p.payload.len()).unwrap();
        rows.push(Row {
            frame: p.frame,
            src: p.src,
            dst: p.dst,
            seq: p.seq,
            ack: p.ack,
            flags: p.flags,
            window: p.window,
            len: p.payload.len(),
            nanos: i128::from(p.ts.as_nanos()),
        });
    });
    check_invariants(&summary, u64::try_from(rows.len()).unwrap());
    (rows, summary, payload_bytes)
}

fn check_invariants(s: &CaptureSummary, delivered: u64) {
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
        st.ip_fragments_reassembled + st.ip_fragments_dropped
    );
    assert_eq!(delivered, st.tcp_segments());
    assert!(s.problems.iter().filter(|p| p.is_fatal()).count() <= 1);
    if s.fatal().is_none() {
        assert!(s.problems.iter().all(|p| !p.is_fatal()));
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn tls_ok_pcap_matches_tshark() {
    let Some(bytes) = load("lab/tls-ok.pcap") else {
        return;
    };
    let (rows, s, payload) = rows(&bytes);
    assert!(s.is_complete(), "{:?}", s.problems);
    assert!(s.problems.is_empty());
    assert_eq!(
        s.format,
        CaptureFormat::Pcap {
            nanos: false,
            big_endian: false
        }
    );
    assert_eq!((s.stats.packets, s.stats.tcp_packets), (122, 122));
    assert_eq!(payload, 62794);
    // tshark: 1  1795946628.416562000  127.0.0.1 48738 127.0.0.1 3389 164558635 0 0x0002 65495 0
    assert_eq!(
        rows[0],
        Row {
            frame: 1,
            src: addr("127.0.0.1:48738"),
            dst: addr("127.0.0.1:3389"),
            seq: 164_558_635,
            ack: 0,
            flags: TcpFlags::SYN,
            window: 65495,
            len: 0,
            nanos: 1_795_946_628_416_562_000,
        }
    );
    // tshark: 2  ... 127.0.0.1 3389 127.0.0.1 48738 236355492 164558636 0x0012 65483 0
    assert_eq!(
        (rows[1].seq, rows[1].ack, rows[1].flags, rows[1].window),
        (236_355_492, 164_558_636, TcpFlags(0x12), 65483)
    );
    assert_eq!(rows.last().unwrap().frame, 122);
    // SCENARIOS.md: client FIN at frame 120, client RST at frame 122
    assert!(rows[119].flags.fin());
    assert!(rows[121].flags.rst());
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn tls_ok_pcapng_and_dsb_variant_match_the_pcap() {
    let (Some(pcap), Some(ng), Some(dsb)) = (
        load("lab/tls-ok.pcap"),
        load("lab/tls-ok.pcapng"),
        load("lab/tls-ok.dsb.pcapng"),
    ) else {
        return;
    };
    let (expected, _, _) = rows(&pcap);
    let (got, s, _) = rows(&ng);
    assert!(s.is_complete() && s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(s.format, CaptureFormat::PcapNg { sections: 1 });
    assert_eq!(got, expected);
    assert!(s.tls_key_logs.is_empty());

    let (got, s, _) = rows(&dsb);
    assert!(s.is_complete() && s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(got, expected);
    assert_eq!(s.stats.decryption_secrets_blocks, 1);
    let keys = load("lab/tls-ok.keys").unwrap();
    assert_eq!(s.tls_key_logs, vec![keys]);
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn cooked_capture_matches_tshark() {
    let Some(bytes) = load("lab/tls-ok-cooked.pcap") else {
        return;
    };
    let (rows, s, payload) = rows(&bytes);
    assert!(s.is_complete() && s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!((s.stats.packets, s.stats.tcp_packets), (99, 99));
    assert_eq!(payload, 62806);
    // tshark: 1  1795946634.836577000  127.0.0.1 40798 127.0.0.1 3389 891262968 0 0x0002
    assert_eq!(rows[0].src, addr("127.0.0.1:40798"));
    assert_eq!(rows[0].dst, addr("127.0.0.1:3389"));
    assert_eq!(rows[0].seq, 891_262_968);
    assert_eq!(rows[0].nanos, 1_795_946_634_836_577_000);
    assert_eq!(rows[1].seq, 3_743_103_875);
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn ipv6_capture_matches_tshark() {
    let Some(bytes) = load("lab/ipv6-tls-ok.pcap") else {
        return;
    };
    let (rows, s, payload) = rows(&bytes);
    assert!(s.is_complete() && s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!((s.stats.packets, s.stats.tcp_packets), (124, 124));
    assert_eq!(payload, 62700);
    // tshark: 1  1795946786.976779000  ::1 48088 ::1 3389 1006205746 0 0x0002 65476 0
    assert_eq!(rows[0].src, addr("[::1]:48088"));
    assert_eq!(rows[0].dst, addr("[::1]:3389"));
    assert_eq!((rows[0].seq, rows[0].window), (1_006_205_746, 65476));
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn ndpi_tcp_scan_matches_tshark() {
    // Despite its name, a classic pcap: 12 ARP frames and 18 TCP segments.
    let Some(bytes) = load("public/nDPI/tcp_scan.pcapng") else {
        return;
    };
    let (rows, s, _) = rows(&bytes);
    assert!(s.is_complete() && s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(s.stats.packets, 30);
    assert_eq!(s.stats.tcp_packets, 18);
    assert_eq!(s.stats.non_tcp_packets, 12);
    // tshark: 3  192.168.1.178 56272 192.168.1.2 80 439450770 0 0x0002
    assert_eq!(rows[0].frame, 3);
    assert_eq!(rows[0].src, addr("192.168.1.178:56272"));
    assert_eq!(rows[0].dst, addr("192.168.1.2:80"));
    assert_eq!(rows[0].seq, 439_450_770);
    assert_eq!(rows[1].dst, addr("192.168.1.2:443"));
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn boofuzz_ten_thousand_packets_match_tshark() {
    let Some(bytes) = load("public/boofuzz_nova/rdp.pcap") else {
        return;
    };
    let (rows, s, payload) = rows(&bytes);
    assert!(s.is_complete() && s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(s.stats.packets, 10_000);
    // tshark: 7888 TCP, 2110 ARP, 2 ICMP; 362558 bytes of TCP payload
    assert_eq!(s.stats.tcp_packets, 7888);
    assert_eq!(s.stats.non_tcp_packets, 2112);
    assert_eq!(payload, 362_558);
    // tshark: 2113  17.1.2.2 10001 17.1.1.2 3389 1099386574 0
    assert_eq!(rows[0].frame, 2113);
    assert_eq!(rows[0].src, addr("17.1.2.2:10001"));
    assert_eq!(rows[0].dst, addr("17.1.1.2:3389"));
    assert_eq!(rows[0].seq, 1_099_386_574);
    assert_eq!(rows[1].src, addr("17.1.2.3:28702"));
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn real_file_cut_short_keeps_what_was_read() {
    // capinfos: "cut short in the middle of a packet" after 5967 packets; the last record
    // header is 2 bytes into a 1,194,409-byte file.
    let Some(bytes) = load("public/Intro_Traffic_Analysis/rdp.pcap") else {
        return;
    };
    let (rows, s, _) = rows(&bytes);
    assert_eq!(s.stats.packets, 5967);
    assert_eq!(s.stats.tcp_packets, 3496);
    assert_eq!(rows.len(), 3496);
    assert!(matches!(
        s.fatal(),
        Some(rdp_pcap::capture::CaptureProblem::Truncated {
            offset: 1_194_407,
            bytes: 2
        })
    ));
    assert_eq!(s.problems.len(), 1);
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn every_lab_capture_reads_cleanly() {
    let Some(dir) = corpus() else { return };
    let mut count = 0;
    for entry in std::fs::read_dir(dir.join("lab")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".pcap") || name.ends_with(".pcapng")) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let (_, s, _) = rows(&bytes);
        assert!(
            s.is_complete() && s.problems.is_empty(),
            "{name}: {:?}",
            s.problems
        );
        // the lab captured with a `tcp port` filter: every packet is TCP
        assert_eq!(s.stats.tcp_packets, s.stats.packets, "{name}");
        assert!(s.stats.packets > 0, "{name}");
        count += 1;
    }
    assert!(count >= 20);
}

// ---------------------------------------------------------------- robustness

fn fuzz_one(bytes: &[u8], buffer_size: usize) {
    let limits = CaptureLimits {
        buffer_size,
        ..CaptureLimits::default()
    };
    let mut delivered = 0u64;
    let mut last_frame = 0;
    let s = read_capture_with(bytes, &limits, &mut |p| {
        delivered += 1;
        assert!(p.frame >= last_frame);
        last_frame = p.frame;
    });
    check_invariants(&s, delivered);
    assert!(last_frame <= s.stats.packets);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096),
                                buffer in 64usize..2048) {
        fuzz_one(&bytes, buffer);
    }

    #[test]
    fn random_bytes_after_a_valid_header_never_panic(
        ng in any::<bool>(),
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        use rdp_pcap::kit::{CaptureWriter, Format, Linktype, Resolution};
        let mut bytes = if ng {
            // pcapng SHB + Ethernet IDB
            let mut w = CaptureWriter::new(Vec::new(), Format::Pcapng, 0).unwrap();
            w.interface(Linktype::ETHERNET, 0).unwrap();
            w.into_inner()
        } else {
            let format = Format::Pcap(Linktype::ETHERNET, Resolution::Micro);
            CaptureWriter::new(Vec::new(), format, 65_535).unwrap().into_inner()
        };
        bytes.extend_from_slice(&tail);
        fuzz_one(&bytes, 256);
    }

    #[test]
    #[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
    fn mutated_real_captures_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
        buffer in prop_oneof![Just(64usize), Just(4096usize), Just(256 * 1024usize)],
    ) {
        let name = ["lab/tls-ok.pcap", "lab/tls-ok.dsb.pcapng", "lab/tls-ok-cooked.pcap"][which];
        let Some(mut bytes) = load(name) else { return Ok(()) };
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if do_cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        fuzz_one(&bytes, buffer);
    }
}
