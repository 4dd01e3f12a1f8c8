use std::net::SocketAddr;

use proptest::prelude::*;

use super::*;
use crate::capture::TcpFlags;

/// What the test observer saw, in order; consecutive Data of one side are merged.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Open(u64),
    Syn,
    SynAck,
    Data(Side, Vec<u8>),
    Gap(Side, u64),
    Fin(Side),
    Rst(Side),
    Ignored(Side, Ignored),
    Resumed(i64),
    Conflict(Side, u64),
    Close(FlowEnd),
}

#[derive(Debug, Default)]
struct Rec {
    events: Vec<(u64, Ev)>,
    opened: Vec<FlowInfo>,
    closed: Vec<FlowInfo>,
    /// What `compare_retransmissions` answers with `false` for (no side by default).
    concluded: Vec<Side>,
    /// What `sender_hint` answers: this side for a payload starting with these bytes.
    hint: Option<(Vec<u8>, Side)>,
    /// The payloads `sender_hint` was asked about.
    hints_asked: std::cell::RefCell<Vec<Vec<u8>>>,
    /// `after_close` calls, in order.
    after: Vec<(u64, AfterClose)>,
}

impl Rec {
    fn push(&mut self, id: u64, ev: Ev) {
        if let (Some((last_id, Ev::Data(s0, buf))), Ev::Data(s1, more)) =
            (self.events.last_mut(), &ev)
        {
            if *last_id == id && s0 == s1 {
                buf.extend_from_slice(more);
                return;
            }
        }
        self.events.push((id, ev));
    }

    fn of(&self, id: u64) -> Vec<Ev> {
        self.events
            .iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, e)| e.clone())
            .collect()
    }

    fn stream(&self, id: u64, side: Side) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, e) in &self.events {
            if let (true, Ev::Data(s, b)) = (*i == id, e) {
                if *s == side {
                    out.extend_from_slice(b);
                }
            }
        }
        out
    }
}

impl FlowObserver for Rec {
    type Flow = u64;
    fn open(&mut self, info: &FlowInfo) -> u64 {
        self.opened.push(info.clone());
        self.push(info.id, Ev::Open(info.id));
        info.id
    }
    fn event(&mut self, flow: &mut u64, info: &FlowInfo, ev: TcpEvent<'_>) {
        assert_eq!(*flow, info.id);
        let e = match ev {
            TcpEvent::Syn { .. } => Ev::Syn,
            TcpEvent::SynAck { .. } => Ev::SynAck,
            TcpEvent::Data { side, bytes, .. } => {
                assert!(!bytes.is_empty(), "empty Data event");
                Ev::Data(side, bytes.to_vec())
            }
            TcpEvent::Gap { side, len, .. } => Ev::Gap(side, len),
            TcpEvent::Fin { side, .. } => Ev::Fin(side),
            TcpEvent::Rst { side, .. } => Ev::Rst(side),
            TcpEvent::ConflictingOverlap { side, len, .. } => Ev::Conflict(side, len),
            TcpEvent::Ignored { side, what, .. } => Ev::Ignored(side, what),
            TcpEvent::Resumed { silent_ns, .. } => Ev::Resumed(silent_ns),
        };
        self.push(*flow, e);
    }
    fn close(&mut self, flow: u64, info: &FlowInfo, reason: FlowEnd) {
        self.closed.push(info.clone());
        self.push(flow, Ev::Close(reason));
    }
    fn after_close(&mut self, id: u64, late: &AfterClose) {
        let info = self.closed.iter().find(|i| i.id == id);
        let reason = self.of(id).last().and_then(|e| match e {
            Ev::Close(r) => Some(*r),
            _ => None,
        });
        assert!(
            info.zip(reason).is_some_and(|(i, r)| i.told_after_close(r)),
            "after_close for {id}"
        );
        assert!(self.after.iter().all(|(i, _)| *i != id), "twice for {id}");
        self.after.push((id, *late));
    }
    fn compare_retransmissions(&self, _: &u64, side: Side) -> bool {
        !self.concluded.contains(&side)
    }
    fn sender_hint(&self, first_payload: &[u8]) -> Option<Side> {
        self.hints_asked.borrow_mut().push(first_payload.to_vec());
        let (prefix, side) = self.hint.as_ref()?;
        first_payload.starts_with(prefix).then_some(*side)
    }
}

use Side::{Client as C, Server as S};

/// The flags byte with SYN, ACK, FIN and RST as given.
fn tcp_flags(syn: bool, ack: bool, fin: bool, rst: bool) -> TcpFlags {
    let bit = |set: bool, flag: TcpFlags| if set { flag.0 } else { 0 };
    TcpFlags(
        bit(syn, TcpFlags::SYN)
            | bit(ack, TcpFlags::ACK)
            | bit(fin, TcpFlags::FIN)
            | bit(rst, TcpFlags::RST),
    )
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Drives a reassembler with one connection between `a` (client side in most tests) and `b`.
struct H {
    r: Reassembler<Rec>,
    a: SocketAddr,
    b: SocketAddr,
    frame: u64,
    ts: i64,
    /// The window field every packet announces.
    win: u16,
}

impl H {
    fn new() -> Self {
        Self::with(ReassemblyConfig::default())
    }
    fn with(cfg: ReassemblyConfig) -> Self {
        H {
            r: Reassembler::new(cfg, Rec::default()),
            a: addr("10.0.0.1:50000"),
            b: addr("10.0.0.2:3389"),
            frame: 0,
            ts: 1_000_000_000,
            win: 0,
        }
    }
    fn ports(mut self, a: &str, b: &str) -> Self {
        self.a = addr(a);
        self.b = addr(b);
        self
    }
    fn pkt(&mut self, src: SocketAddr, dst: SocketAddr, flags: &str, seq: u32, ack: u32, p: &[u8]) {
        self.frame += 1;
        self.ts += 1_000;
        let seg = TcpPacket {
            frame: self.frame,
            ts: Timestamp(self.ts),
            src,
            dst,
            seq,
            ack,
            flags: tcp_flags(
                flags.contains('S'),
                flags.contains('A'),
                flags.contains('F'),
                flags.contains('R'),
            ),
            window: self.win,
            options: &[],
            payload_truncated: false,
            reassembled: false,
            fragment_conflicts: 0,
            fragment_copy: false,
            payload: p,
        };
        self.r.push(&seg);
    }
    /// From `a` to `b`.
    fn c(&mut self, flags: &str, seq: u32, ack: u32, p: &[u8]) {
        let (a, b) = (self.a, self.b);
        self.pkt(a, b, flags, seq, ack, p);
    }
    /// From `b` to `a`.
    fn s(&mut self, flags: &str, seq: u32, ack: u32, p: &[u8]) {
        let (a, b) = (self.a, self.b);
        self.pkt(b, a, flags, seq, ack, p);
    }
    fn advance(&mut self, ns: i64) {
        self.ts += ns;
    }
    fn finish(self) -> (Rec, ReassemblyStats) {
        self.r.finish()
    }
}

const CI: u32 = 1000; // client ISN
const SI: u32 = 5000; // server ISN

/// SYN, SYN-ACK, ACK.
fn handshake(h: &mut H) {
    h.c("S", CI, 0, b"");
    h.s("SA", SI, CI + 1, b"");
    h.c("A", CI + 1, SI + 1, b"");
}

fn d(side: Side, b: &[u8]) -> Ev {
    Ev::Data(side, b.to_vec())
}

#[test]
fn in_order_connection_closes_finished_and_late_ack_is_stray() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"hello");
    h.s("PA", SI + 1, CI + 6, b"world!");
    h.c("FA", CI + 6, SI + 7, b"");
    h.s("FA", SI + 7, CI + 7, b"");
    h.c("A", CI + 7, SI + 8, b"");
    let (rec, st) = h.finish();
    assert_eq!(
        rec.of(0),
        vec![
            Ev::Open(0),
            Ev::Syn,
            Ev::SynAck,
            d(C, b"hello"),
            d(S, b"world!"),
            Ev::Fin(C),
            Ev::Fin(S),
            Ev::Close(FlowEnd::Closed)
        ]
    );
    let info = &rec.closed[0];
    assert_eq!(info.endpoints.client, addr("10.0.0.1:50000"));
    assert_eq!(info.orientation, Orientation::Syn);
    assert!(info.started_with_syn);
    assert_eq!(info.packets, [4, 3]);
    assert_eq!(info.bytes, [5, 6]);
    assert_eq!(info.delivered, [5, 6]);
    assert_eq!(info.fin, [true, true]);
    assert_eq!(st.stray_packets_after_close, 1);
    assert_eq!(st.flows_finished, 1);
    assert_eq!(st.flows_opened, 1);
}

#[test]
fn sequence_numbers_wrap() {
    for isn in [u32::MAX - 3, u32::MAX, u32::MAX - 1] {
        let mut h = H::new();
        h.c("S", isn, 0, b"");
        h.s("SA", SI, isn.wrapping_add(1), b"");
        let base = isn.wrapping_add(1);
        // Second piece first, across the wrap.
        h.c("PA", base.wrapping_add(4), SI + 1, b"efgh");
        h.c("PA", base, SI + 1, b"abcd");
        h.c("PA", base.wrapping_add(8), SI + 1, b"ij");
        h.c("PA", base.wrapping_add(2), SI + 1, b"cdefgh"); // duplicate
        let (rec, st) = h.finish();
        assert_eq!(rec.stream(0, C), b"abcdefghij");
        assert_eq!(st.retransmitted_segments, 1);
        assert_eq!(st.gaps, 0);
        assert_eq!(st.conflicting_overlaps, 0);
    }
}

#[test]
fn out_of_order_is_buffered_and_delivered_with_its_frame() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 4, SI + 1, b"def"); // frame 4
    h.c("PA", CI + 1, SI + 1, b"abc"); // frame 5
    let r = h.r.observer();
    assert_eq!(r.stream(0, C), b"abcdef");
    assert_eq!(h.r.stats().segments_buffered_ooo, 1);
    let (rec, _) = h.finish();
    assert_eq!(rec.closed[0].ooo_segments, 1);
    assert_eq!(rec.closed[0].retransmissions, 0);
}

#[test]
fn data_frames_are_those_of_the_carrying_packet() {
    #[derive(Default, Debug)]
    struct Frames(Vec<(u64, usize)>);
    impl FlowObserver for Frames {
        type Flow = ();
        fn open(&mut self, _: &FlowInfo) {}
        fn event(&mut self, _: &mut (), _: &FlowInfo, ev: TcpEvent<'_>) {
            if let TcpEvent::Data { frame, bytes, .. } = ev {
                self.0.push((frame, bytes.len()));
            }
        }
        fn close(&mut self, _: (), _: &FlowInfo, _: FlowEnd) {}
    }
    let mut r = Reassembler::new(ReassemblyConfig::default(), Frames::default());
    let (a, b) = (addr("1.1.1.1:40000"), addr("2.2.2.2:3389"));
    let mk = |frame, seq, payload| TcpPacket {
        frame,
        ts: Timestamp(0),
        src: a,
        dst: b,
        seq,
        ack: 0,
        flags: tcp_flags(false, false, false, false),
        window: 0,
        options: &[],
        payload_truncated: false,
        reassembled: false,
        fragment_conflicts: 0,
        fragment_copy: false,
        payload,
    };
    r.push(&mk(1, 100, b"ab"));
    r.push(&mk(2, 104, b"ef"));
    r.push(&mk(3, 102, b"cd"));
    assert_eq!(r.observer().0, vec![(1, 2), (3, 2), (2, 2)]);
}

#[test]
fn duplicate_is_trimmed_without_conflict() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"abc");
    h.c("PA", CI + 1, SI + 1, b"abc");
    h.c("PA", CI + 1, SI + 1, b"abcdef"); // partial overlap
    let (rec, st) = h.finish();
    assert_eq!(rec.stream(0, C), b"abcdef");
    assert_eq!(st.retransmitted_segments, 2);
    assert_eq!(rec.closed[0].retransmissions, 2);
    assert_eq!(st.conflicting_overlaps, 0);
}

#[test]
fn conflicting_retransmission_is_reported_and_first_copy_kept() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"abcd");
    h.c("PA", CI + 2, SI + 1, b"xcyZZ");
    let (rec, st) = h.finish();
    assert_eq!(
        rec.of(0)[3..],
        [
            d(C, b"abcd"),
            Ev::Conflict(C, 2),
            d(C, b"ZZ"),
            Ev::Close(FlowEnd::EndOfCapture)
        ]
    );
    assert_eq!(st.conflicting_overlaps, 1);
    assert_eq!(st.conflicting_bytes, 2);
    assert_eq!(rec.closed[0].conflicting_overlaps, 1);
}

#[test]
fn a_concluded_direction_is_trimmed_but_no_longer_compared() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"abcd");
    h.s("PA", SI + 1, CI + 5, b"1234");
    // The observer is done with the client's content (say its TLS handshake completed).
    h.r.observer_mut().concluded.push(C);
    h.c("PA", CI + 5, SI + 1, b"efgh");
    // Different bytes again: the client's are not compared any more, the server's still are.
    h.c("PA", CI + 1, SI + 1, b"XYcdefgh");
    h.s("PA", SI + 1, CI + 9, b"12X4");
    let (rec, st) = h.finish();
    assert_eq!(rec.stream(0, C), b"abcdefgh");
    assert_eq!(st.retransmitted_segments, 2);
    assert_eq!(st.retransmissions_not_compared, 1, "the client's");
    assert_eq!(st.conflicting_overlaps, 1);
    assert!(rec.of(0).contains(&Ev::Conflict(S, 1)));
    assert!(!rec.of(0).iter().any(|e| matches!(e, Ev::Conflict(C, _))));
}

#[test]
fn conflicting_overlap_among_buffered_pieces() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 5, SI + 1, b"efgh"); // offsets 4..8
    h.c("PA", CI + 3, SI + 1, b"cdEFghij"); // 2..10: differs at 4,5 (E,F)
    h.c("PA", CI + 1, SI + 1, b"ab");
    let (rec, st) = h.finish();
    assert_eq!(rec.stream(0, C), b"abcdefghij");
    assert_eq!(st.conflicting_bytes, 2);
    assert!(rec.of(0).contains(&Ev::Conflict(C, 2)));
}

#[test]
fn buffered_piece_overlapping_delivered_data_is_compared() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 4, SI + 1, b"dXf"); // 3..6 buffered
    h.c("PA", CI + 1, SI + 1, b"abcde"); // 0..5 delivered; buffered piece overlaps 3..5
    let (rec, st) = h.finish();
    assert_eq!(rec.stream(0, C), b"abcdef");
    assert_eq!(st.conflicting_bytes, 1);
}

#[test]
fn keepalive_probe_is_not_a_conflict() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"abc");
    h.c("A", CI + 3, SI + 1, b"\0");
    let (rec, st) = h.finish();
    assert_eq!(rec.stream(0, C), b"abc");
    assert_eq!(st.keepalives, 1);
    assert_eq!(st.conflicting_overlaps, 0);
}

#[test]
fn gap_when_segment_cap_exceeded() {
    let cfg = ReassemblyConfig {
        max_ooo_segments_per_direction: 2,
        ..Default::default()
    };
    let mut h = H::with(cfg);
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"ab");
    // "cd" lost.
    h.c("PA", CI + 5, SI + 1, b"ef");
    h.c("PA", CI + 7, SI + 1, b"gh");
    assert_eq!(h.r.stats().gaps, 0);
    h.c("PA", CI + 9, SI + 1, b"ij"); // third piece: over the cap
    let st = h.r.stats().clone();
    assert_eq!(st.ooo_dropped_over_cap, 1);
    assert_eq!(st.bytes_lost_in_gaps, 2);
    h.c("PA", CI + 11, SI + 1, b"kl");
    let (rec, _) = h.finish();
    assert_eq!(rec.of(0)[3..5], [d(C, b"ab"), Ev::Gap(C, 2)]);
    assert_eq!(rec.stream(0, C), b"abefghijkl");
    assert_eq!(rec.closed[0].gap_bytes, [2, 0]);
}

#[test]
fn gap_when_byte_cap_exceeded() {
    // Room for one three-byte piece (with what it costs besides its bytes), not two.
    let cfg = ReassemblyConfig {
        max_buffered_bytes_per_direction: direction::FIRST_NODE_COST
            + direction::PIECE_OVERHEAD
            + 5,
        ..Default::default()
    };
    let mut h = H::with(cfg);
    handshake(&mut h);
    h.c("PA", CI + 3, SI + 1, b"cde");
    assert_eq!(h.r.stats().ooo_dropped_over_cap, 0);
    h.c("PA", CI + 6, SI + 1, b"fgh");
    let (rec, st) = h.finish();
    assert_eq!(rec.of(0)[3..5], [Ev::Gap(C, 2), d(C, b"cdefgh")]);
    assert_eq!(st.ooo_dropped_over_cap, 1);
}

#[test]
fn a_buffered_piece_is_charged_what_it_costs() {
    let mut h = H::new();
    handshake(&mut h);
    // One byte beyond a hole: its allocation, its entry and the tree's first node.
    h.c("PA", CI + 2, SI + 1, b"x");
    let one = direction::FIRST_NODE_COST + direction::PIECE_OVERHEAD + 1;
    assert_eq!(one, 849);
    assert_eq!(h.r.buffered_total, one);
    h.c("PA", CI + 4, SI + 1, b"yz");
    assert_eq!(h.r.buffered_total, one + direction::PIECE_OVERHEAD + 2);
    // The other direction has a tree of its own.
    h.s("PA", SI + 3, CI + 1, b"q");
    assert_eq!(h.r.buffered_total, 2 * one + direction::PIECE_OVERHEAD + 2);
    // Holes filled: everything delivered, nothing held, nothing charged.
    h.c("PA", CI + 1, SI + 1, b"w");
    h.c("PA", CI + 3, SI + 1, b"y");
    h.s("PA", SI + 1, CI + 1, b"op");
    assert_eq!(h.r.buffered_total, 0);
    let (rec, st) = h.finish();
    assert_eq!(rec.stream(0, C), b"wxyyz");
    assert_eq!(rec.stream(0, S), b"opq");
    assert_eq!(st.gaps, 0);
}

#[test]
fn a_piece_cut_at_the_fin_keeps_its_charge_and_gives_it_back_when_delivered() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 3, SI + 1, b"cdef");
    let charged = h.r.buffered_total;
    // A FIN at offset 4 cuts the piece to "cd": its allocation, and its charge, stay.
    h.c("FA", CI + 5, SI + 1, b"");
    assert_eq!(h.r.buffered_total, charged);
    h.c("PA", CI + 1, SI + 1, b"ab");
    assert_eq!(h.r.buffered_total, 0);
    let (rec, st) = h.finish();
    assert_eq!(rec.stream(0, C), b"abcd");
    assert_eq!(st.bytes_after_fin, 2);
}

/// The pattern of `synth::ooo_tiny_pieces`, scaled down: connections that each hold 256
/// one-byte pieces per direction behind a hole. Charged by their bytes, 2,000 of them
/// counted as 1 MiB and were never cut; charged what they cost, the global cap (4 MiB here,
/// 256 MiB by default) stops them at about 21,700 pieces (4 MiB over 193 bytes a piece).
#[test]
fn the_global_cap_holds_for_many_connections_of_tiny_pieces() {
    let cap = 4 << 20;
    let cfg = ReassemblyConfig {
        max_buffered_bytes_total: cap,
        ..Default::default()
    };
    let piece = direction::PIECE_OVERHEAD + 1;
    let mut h = H::with(cfg);
    let mut most = 0;
    for i in 0..2000_u16 {
        h = h.ports(
            &format!("10.0.{}.{}:50000", i / 250, i % 250),
            "10.255.0.1:3389",
        );
        handshake(&mut h);
        for k in 0..256_u32 {
            h.c("PA", CI + 2 + 2 * k, SI + 1, b"x");
            h.s("PA", SI + 2 + 2 * k, CI + 1, b"y");
            most = most.max(h.r.buffered_total);
        }
    }
    // Never more than the cap: the direction that goes over it gives up its holes at once.
    assert!(most <= cap, "{most}");
    assert!(most > cap - direction::FIRST_NODE_COST - piece, "{most}");
    let st = h.r.stats().clone();
    assert!(st.ooo_dropped_over_cap > 900_000, "{st:?}");
    let (_, st) = h.finish();
    assert_eq!(st.segments_buffered_ooo, 2000 * 512);
}

#[test]
fn gap_flushed_at_end_of_capture_then_held_fin() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"ab");
    h.c("PA", CI + 5, SI + 1, b"ef");
    h.c("FA", CI + 7, SI + 1, b"");
    let (rec, st) = h.finish();
    assert_eq!(
        rec.of(0)[3..],
        [
            d(C, b"ab"),
            Ev::Gap(C, 2),
            d(C, b"ef"),
            Ev::Fin(C),
            Ev::Close(FlowEnd::EndOfCapture)
        ]
    );
    assert_eq!(st.flows_open_at_end, 1);
    assert_eq!(st.bytes_lost_in_gaps, 2);
}

#[test]
fn out_of_order_fin_waits_for_the_data_before_it() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("FPA", CI + 3, SI + 1, b"cd");
    h.s("FA", SI + 1, CI + 1, b"");
    assert!(!h.r.observer().of(0).contains(&Ev::Fin(C)));
    h.c("PA", CI + 1, SI + 1, b"ab");
    let (rec, _) = h.finish();
    assert_eq!(
        rec.of(0)[3..],
        [
            Ev::Fin(S),
            d(C, b"abcd"),
            Ev::Fin(C),
            Ev::Close(FlowEnd::Closed)
        ]
    );
}

#[test]
fn ack_beyond_missing_bytes_declares_them_lost_on_next_segment() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"ab");
    // "cd" (CI+3..CI+5) never captured; the server acknowledges it.
    h.s("A", SI + 1, CI + 5, b"");
    assert_eq!(h.r.stats().gaps, 0, "not before the client sends again");
    h.c("PA", CI + 5, SI + 1, b"ef");
    assert_eq!(h.r.stats().gaps, 1);
    assert_eq!(h.r.stats().segments_buffered_ooo, 0);
    let (rec, _) = h.finish();
    assert_eq!(
        rec.of(0)[3..],
        [
            d(C, b"ab"),
            Ev::Gap(C, 2),
            d(C, b"ef"),
            Ev::Close(FlowEnd::EndOfCapture)
        ]
    );
}

#[test]
fn ack_rule_keeps_waiting_for_bytes_not_yet_acknowledged() {
    let mut h = H::new();
    handshake(&mut h);
    // "ab" lost and acked; "cd" not yet seen nor acked; "ef" arrives.
    h.s("A", SI + 1, CI + 3, b"");
    h.c("PA", CI + 5, SI + 1, b"ef");
    assert_eq!(h.r.stats().bytes_lost_in_gaps, 2);
    h.c("PA", CI + 3, SI + 1, b"cd"); // late but fine
    let (rec, st) = h.finish();
    assert_eq!(rec.stream(0, C), b"cdef");
    assert_eq!(st.bytes_lost_in_gaps, 2);
    assert_eq!((st.late_segments, st.retransmitted_segments), (0, 0));
}

#[test]
fn bytes_arriving_after_they_were_given_up_are_late_not_retransmitted() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"ab");
    // "cd" missing and acknowledged; "ef" makes it a gap; then "cd" arrives after all.
    h.s("A", SI + 1, CI + 5, b"");
    h.c("PA", CI + 5, SI + 1, b"ef");
    h.c("PA", CI + 3, SI + 1, b"cd");
    // A real retransmission of delivered bytes is still one.
    h.c("PA", CI + 5, SI + 1, b"ef");
    let (rec, st) = h.finish();
    assert_eq!(rec.stream(0, C), b"abef");
    assert_eq!(st.bytes_lost_in_gaps, 2);
    assert_eq!(st.late_segments, 1);
    assert_eq!(st.retransmitted_segments, 1);
}

#[test]
fn acknowledged_tail_never_seen_is_a_gap_at_close() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"ab");
    h.s("A", SI + 1, CI + 10, b"");
    let (rec, _) = h.finish();
    assert_eq!(rec.of(0)[3..5], [d(C, b"ab"), Ev::Gap(C, 7)]);
}

#[test]
fn client_fin_then_server_data_then_client_rst() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"bye");
    h.c("FA", CI + 4, SI + 1, b"");
    h.s("PA", SI + 1, CI + 5, b"late");
    h.c("R", CI + 5, 0, b"");
    h.s("A", SI + 5, CI + 5, b""); // after the close: stray
    let (rec, st) = h.finish();
    assert_eq!(
        rec.of(0)[3..],
        [
            d(C, b"bye"),
            Ev::Fin(C),
            d(S, b"late"),
            Ev::Rst(C),
            Ev::Close(FlowEnd::Closed)
        ]
    );
    assert_eq!(rec.closed[0].rst, [true, false]);
    assert_eq!(st.stray_packets_after_close, 1);
    assert_eq!(rec.opened.len(), 1);
}

#[test]
fn client_fin_then_server_rst() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("FA", CI + 1, SI + 1, b"");
    h.s("RA", SI + 1, CI + 2, b"");
    let (rec, st) = h.finish();
    assert_eq!(
        rec.of(0)[3..],
        [Ev::Fin(C), Ev::Rst(S), Ev::Close(FlowEnd::Closed)]
    );
    assert_eq!(st.flows_finished, 1);
}

#[test]
fn rst_flushes_buffered_data_first() {
    let mut h = H::new();
    handshake(&mut h);
    h.s("PA", SI + 3, CI + 1, b"cd");
    h.s("R", SI + 5, 0, b"");
    let (rec, st) = h.finish();
    assert_eq!(
        rec.of(0)[3..],
        [
            Ev::Gap(S, 2),
            d(S, b"cd"),
            Ev::Rst(S),
            Ev::Close(FlowEnd::Reset)
        ]
    );
    assert_eq!(st.flows_reset, 1);
}

#[test]
fn rst_after_both_fins_is_stray() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("FA", CI + 1, SI + 1, b"");
    h.s("FA", SI + 1, CI + 2, b"");
    h.c("R", CI + 2, 0, b"");
    let (rec, st) = h.finish();
    assert_eq!(rec.of(0).last(), Some(&Ev::Close(FlowEnd::Closed)));
    assert!(!rec.of(0).contains(&Ev::Rst(C)));
    assert_eq!(st.stray_packets_after_close, 1);
}

#[test]
fn refused_connection() {
    let mut h = H::new().ports("127.0.0.1:40312", "127.0.0.1:13392");
    h.c("S", CI, 0, b"");
    h.s("RA", 0, CI + 1, b"");
    let (rec, st) = h.finish();
    assert_eq!(
        rec.of(0),
        [Ev::Open(0), Ev::Syn, Ev::Rst(S), Ev::Close(FlowEnd::Reset)]
    );
    assert_eq!(st.flows_reset, 1);
}

#[test]
fn unanswered_syns_counted_and_closed_at_end() {
    let mut h = H::new();
    h.c("S", CI, 0, b"");
    h.c("S", CI, 0, b"");
    h.c("S", CI, 0, b"");
    let (rec, st) = h.finish();
    assert_eq!(
        rec.of(0),
        [
            Ev::Open(0),
            Ev::Syn,
            Ev::Syn,
            Ev::Syn,
            Ev::Close(FlowEnd::EndOfCapture)
        ]
    );
    assert_eq!(rec.closed[0].syn_count, 3);
    assert_eq!(rec.closed[0].packets, [3, 0]);
    assert_eq!(st.stray_packets_after_close, 0);
}

#[test]
fn unanswered_syn_closed_by_idle_timeout() {
    let cfg = ReassemblyConfig {
        idle_timeout_ns: 10_000_000,
        ..Default::default()
    };
    let mut h = H::with(cfg);
    h.c("S", CI, 0, b"");
    h.advance(20_000_000);
    // Another flow's packet moves the clock.
    let (x, y) = (addr("10.9.9.9:1234"), addr("10.0.0.2:3389"));
    h.pkt(x, y, "S", 1, 0, b"");
    let rec = h.r.observer();
    assert_eq!(
        rec.of(0),
        [Ev::Open(0), Ev::Syn, Ev::Close(FlowEnd::IdleTimeout)]
    );
    assert_eq!(h.r.stats().flows_idle_closed, 1);
    assert_eq!(h.r.live_flows(), 1);
}

#[test]
fn idle_flow_that_carries_on_reopens_mid_stream() {
    let cfg = ReassemblyConfig {
        idle_timeout_ns: 10_000_000,
        ..Default::default()
    };
    let mut h = H::with(cfg);
    handshake(&mut h);
    h.advance(20_000_000);
    h.c("PA", CI + 1, SI + 1, b"later");
    let (rec, _) = h.finish();
    assert_eq!(rec.of(0).last(), Some(&Ev::Close(FlowEnd::IdleTimeout)));
    assert_eq!(rec.stream(1, C), b"later");
    assert_eq!(rec.opened[1].orientation, Orientation::KnownServerPort);
}

#[test]
fn eviction_closes_least_recently_active() {
    let cfg = ReassemblyConfig {
        max_flows: 2,
        ..Default::default()
    };
    let mut h = H::with(cfg);
    let srv = addr("10.0.0.2:3389");
    for (i, port) in [40001_u16, 40002, 40003].into_iter().enumerate() {
        let cli = SocketAddr::new(addr("10.0.0.1:1").ip(), port);
        h.pkt(cli, srv, "S", 10, 0, b"");
        if i == 1 {
            // Flow 0 becomes more recent than flow 1.
            h.pkt(addr("10.0.0.1:40001"), srv, "S", 10, 0, b"");
        }
    }
    let (rec, st) = h.finish();
    assert_eq!(rec.of(1).last(), Some(&Ev::Close(FlowEnd::Evicted)));
    assert_eq!(rec.of(0).last(), Some(&Ev::Close(FlowEnd::EndOfCapture)));
    assert_eq!(st.flows_evicted, 1);
    assert_eq!(st.max_live_flows, 2);
    // EndOfCapture closes in id order.
    let order: Vec<u64> = rec
        .events
        .iter()
        .filter(|(_, e)| *e == Ev::Close(FlowEnd::EndOfCapture))
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(order, vec![0, 2]);
}

/// Frame 4 of lab/tls-ok.pcap: the client's X.224 Connection Request (cookie mstshash=alice).
const TLS_OK_X224_CR: &[u8] = &[
    0x03, 0x00, 0x00, 0x2b, 0x26, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x6f, 0x6f, 0x6b, 0x69,
    0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x68, 0x61, 0x73, 0x68, 0x3d, 0x61, 0x6c, 0x69, 0x63,
    0x65, 0x0d, 0x0a, 0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00,
];
/// Frame 6 of lab/tls-ok.pcap: the server's X.224 Connection Confirm.
const TLS_OK_X224_CC: &[u8] = &[
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x01, 0x08, 0x00, 0x01,
    0x00, 0x00, 0x00,
];

/// The reassembler knows no RDP: recognising a Connection Request is the observer's
/// (`session.rs`, whose tests hold the X.224 detector's cases). Here the test observer hints
/// that the sender of the CR's first bytes is the client.
#[test]
fn mid_stream_x224_sender_is_client_even_on_lower_port() {
    let mut h = H::new().ports("10.0.0.1:2000", "10.0.0.2:40000");
    h.r.observer_mut().hint = Some((TLS_OK_X224_CR[..6].to_vec(), C));
    h.c("A", 77, 99, b""); // pure ACK, no known port: deferred
    assert!(h.r.observer().opened.is_empty());
    assert!(
        h.r.observer().hints_asked.borrow().is_empty(),
        "no payload, no question"
    );
    h.c("PA", 77, 99, TLS_OK_X224_CR);
    h.s("PA", 99, 77 + 43, TLS_OK_X224_CC);
    let (rec, _) = h.finish();
    let info = &rec.closed[0];
    assert_eq!(info.endpoints.client, addr("10.0.0.1:2000"));
    assert_eq!(info.orientation, Orientation::SenderHint);
    assert_eq!(info.packets, [2, 1]);
    assert!(!info.started_with_syn);
    assert_eq!(rec.stream(0, C), TLS_OK_X224_CR);
    assert_eq!(rec.stream(0, S), TLS_OK_X224_CC);
}

#[test]
fn sender_hint_may_name_the_server_and_is_asked_once_per_unoriented_payload() {
    let mut h = H::new().ports("10.0.0.1:50000", "10.0.0.2:40000");
    h.r.observer_mut().hint = Some((b"HELLO".to_vec(), S));
    h.c("PA", 1, 2, b"HELLO from the server"); // from the higher port, hinted as the server
    h.s("PA", 2, 22, b"reply");
    h.c("PA", 22, 7, b"HELLO again");
    let (rec, _) = h.finish();
    let info = &rec.closed[0];
    assert_eq!(info.endpoints.client, addr("10.0.0.2:40000"));
    assert_eq!(info.orientation, Orientation::SenderHint);
    assert_eq!(info.packets, [1, 2]);
    assert_eq!(rec.stream(0, S), b"HELLO from the serverHELLO again");
    assert_eq!(
        *rec.hints_asked.borrow(),
        [b"HELLO from the server".to_vec()]
    );
}

#[test]
fn a_syn_orients_before_any_hint() {
    let mut h = H::new();
    h.r.observer_mut().hint = Some((Vec::new(), S)); // every payload "from the server"
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"hello");
    let (rec, _) = h.finish();
    assert_eq!(rec.closed[0].orientation, Orientation::Syn);
    assert_eq!(rec.closed[0].endpoints.client, addr("10.0.0.1:50000"));
    assert!(rec.hints_asked.borrow().is_empty());
}

#[test]
fn mid_stream_known_port_orients_from_server_data() {
    let mut h = H::new().ports("10.0.0.1:50000", "10.0.0.2:3389");
    h.s("PA", 7000, 100, b"server first");
    h.c("PA", 100, 7012, b"client");
    let (rec, _) = h.finish();
    let info = &rec.closed[0];
    assert_eq!(info.endpoints.client, addr("10.0.0.1:50000"));
    assert_eq!(info.orientation, Orientation::KnownServerPort);
    assert_eq!(rec.stream(0, S), b"server first");
    assert_eq!(rec.stream(0, C), b"client");
}

#[test]
fn mid_stream_known_port_with_lower_client_port_and_pure_ack_opens_at_once() {
    let cfg = ReassemblyConfig {
        known_server_ports: vec![3389, 45000],
        ..Default::default()
    };
    let mut h = H::with(cfg).ports("10.0.0.2:45000", "10.0.0.1:1025");
    h.c("A", 1, 2, b"");
    assert_eq!(h.r.observer().opened.len(), 1);
    let (rec, _) = h.finish();
    assert_eq!(rec.closed[0].endpoints.client, addr("10.0.0.1:1025"));
    assert_eq!(rec.closed[0].packets, [0, 1]);
}

#[test]
fn mid_stream_higher_port_rule_after_deferred_acks() {
    let mut h = H::new().ports("10.0.0.1:6000", "10.0.0.2:50000");
    h.c("A", 1, 2, b"");
    h.s("A", 2, 1, b"");
    assert!(h.r.observer().opened.is_empty());
    h.c("PA", 1, 2, b"from the lower port");
    let (rec, st) = h.finish();
    let info = &rec.closed[0];
    assert_eq!(info.endpoints.client, addr("10.0.0.2:50000"));
    assert_eq!(info.orientation, Orientation::HigherPort);
    assert_eq!(info.packets, [1, 2]);
    assert_eq!(rec.stream(0, S), b"from the lower port");
    assert_eq!(st.flows_opened, 1);
}

#[test]
fn pending_flow_reset_is_dropped_quietly() {
    let mut h = H::new().ports("10.0.0.1:6000", "10.0.0.2:50000");
    h.c("A", 1, 2, b"");
    h.s("R", 2, 0, b"");
    h.c("A", 1, 2, b"");
    let (rec, st) = h.finish();
    assert!(rec.opened.is_empty());
    assert_eq!(st.pending_flows_dropped, 1);
    assert_eq!(st.stray_packets_after_close, 1);
}

#[test]
fn tombstone_absorbs_strays_but_new_syn_opens_new_flow() {
    let mut h = H::new();
    h.c("S", CI, 0, b"");
    h.s("RA", 0, CI + 1, b"");
    h.c("S", CI, 0, b""); // retransmission of the refused SYN: stray
    h.c("A", CI + 1, 0, b"");
    assert_eq!(h.r.observer().opened.len(), 1);
    h.c("S", CI + 777, 0, b""); // new ISN: new connection
    let (rec, st) = h.finish();
    assert_eq!(rec.opened.len(), 2);
    assert_eq!(
        rec.of(1),
        [Ev::Open(1), Ev::Syn, Ev::Close(FlowEnd::EndOfCapture)]
    );
    assert_eq!(st.stray_packets_after_close, 2);
}

#[test]
fn tombstone_expires_after_linger() {
    let cfg = ReassemblyConfig {
        closed_linger_ns: 1_000_000,
        ..Default::default()
    };
    let mut h = H::with(cfg);
    h.c("S", CI, 0, b"");
    h.s("RA", 0, CI + 1, b"");
    h.advance(2_000_000);
    h.c("PA", CI + 1, 0, b"x");
    let (rec, st) = h.finish();
    assert_eq!(rec.opened.len(), 2);
    assert_eq!(st.stray_packets_after_close, 0);
}

#[test]
fn syn_with_new_isn_on_a_flow_the_server_never_answered_is_port_reuse() {
    let mut h = H::new();
    h.c("S", CI, 0, b"");
    h.c("S", 9_000_000, 0, b"");
    let (rec, st) = h.finish();
    assert_eq!(rec.of(0).last(), Some(&Ev::Close(FlowEnd::PortReused)));
    assert_eq!(
        rec.of(1),
        [Ev::Open(1), Ev::Syn, Ev::Close(FlowEnd::EndOfCapture)]
    );
    assert_eq!(st.flows_port_reused, 1);
}

#[test]
fn syn_with_payload_and_data_after_fin() {
    let mut h = H::new();
    h.c("S", CI, 0, b"tfo");
    h.s("SA", SI, CI + 4, b"");
    h.c("FPA", CI + 4, SI + 1, b"x");
    h.c("PA", CI + 6, SI + 1, b"junk");
    let (rec, st) = h.finish();
    assert_eq!(rec.stream(0, C), b"tfox");
    assert_eq!(st.bytes_after_fin, 4);
}

#[test]
fn no_allocation_needed_for_in_order_data_is_zero_copy() {
    // The Data slice handed out for in-order data is the caller's payload itself.
    struct Ptr(Vec<*const u8>);
    impl FlowObserver for Ptr {
        type Flow = ();
        fn open(&mut self, _: &FlowInfo) {}
        fn event(&mut self, _: &mut (), _: &FlowInfo, ev: TcpEvent<'_>) {
            if let TcpEvent::Data { bytes, .. } = ev {
                self.0.push(bytes.as_ptr());
            }
        }
        fn close(&mut self, _: (), _: &FlowInfo, _: FlowEnd) {}
    }
    let payload = b"in order".to_vec();
    let mut r = Reassembler::new(ReassemblyConfig::default(), Ptr(Vec::new()));
    r.push(&TcpPacket {
        frame: 1,
        ts: Timestamp(0),
        src: addr("1.1.1.1:50000"),
        dst: addr("2.2.2.2:3389"),
        seq: 5,
        ack: 0,
        flags: tcp_flags(false, false, false, false),
        window: 0,
        options: &[],
        payload_truncated: false,
        reassembled: false,
        fragment_conflicts: 0,
        fragment_copy: false,
        payload: &payload,
    });
    assert_eq!(r.observer().0, vec![payload.as_ptr()]);
}

// ---- properties ----

fn isn_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), (u32::MAX - 4000)..=u32::MAX]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any order and duplication of the segments of a stream delivers exactly the stream.
    #[test]
    fn permuted_duplicated_segments_deliver_the_stream(
        data in proptest::collection::vec(any::<u8>(), 0..3000),
        cuts in proptest::collection::vec(1_usize..400, 1..40),
        isn in isn_strategy(),
        order in proptest::collection::vec(any::<prop::sample::Index>(), 0..80),
        with_fin in any::<bool>(),
    ) {
        // Segments: (offset, len).
        let mut segs = Vec::new();
        let mut off = 0;
        let mut ci = cuts.iter().cycle();
        while off < data.len() {
            let len = (*ci.next().unwrap()).min(data.len() - off);
            segs.push((off, len));
            off += len;
        }
        // Each segment at least once, plus random repeats and overlapping re-cuts, in random order.
        let mut sends: Vec<(usize, usize)> = segs.clone();
        for (i, ix) in order.iter().enumerate() {
            if segs.is_empty() { break; }
            let (o, l) = segs[ix.index(segs.len())];
            if i % 3 == 0 && o + l < data.len() { sends.push((o, l + 1)); } else { sends.push((o, l)); }
        }
        let n = sends.len();
        if n > 0 {
            for (i, ix) in order.iter().enumerate() {
                sends.swap(i % n, ix.index(n));
            }
        }
        // Caps large enough that nothing is given up.
        let cfg = ReassemblyConfig { max_ooo_segments_per_direction: 10_000, ..Default::default() };
        let mut h = H::with(cfg);
        h.c("S", isn, 0, b"");
        h.s("SA", 7, isn.wrapping_add(1), b"");
        let base = isn.wrapping_add(1);
        for (o, l) in &sends {
            let seq = base.wrapping_add(u32::try_from(*o).unwrap());
            h.c("PA", seq, 8, &data[*o..*o + l]);
        }
        if with_fin {
            h.c("FA", base.wrapping_add(u32::try_from(data.len()).unwrap()), 8, b"");
        }
        let (rec, st) = h.finish();
        prop_assert_eq!(rec.stream(0, C), data.clone());
        prop_assert_eq!(st.gaps, 0);
        prop_assert_eq!(st.conflicting_overlaps, 0);
        prop_assert_eq!(rec.of(0).contains(&Ev::Fin(C)), with_fin);
        prop_assert_eq!(rec.closed[0].delivered[0], u64::try_from(data.len()).unwrap());
    }

    /// With segments lost and small caps, Data and Gap events still tile the stream exactly:
    /// every delivered byte is the original byte at its position, and the FIN ends it.
    #[test]
    fn losses_and_caps_keep_positions_exact(
        data in proptest::collection::vec(any::<u8>(), 1..3000),
        cut in 1_usize..300,
        isn in isn_strategy(),
        keep in proptest::collection::vec(any::<bool>(), 1..64),
        swaps in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..40),
        max_segs in 1_usize..6,
        max_bytes in 1_usize..4000,
        ack_every in proptest::option::of(1_usize..5),
    ) {
        let cfg = ReassemblyConfig {
            max_ooo_segments_per_direction: max_segs,
            max_buffered_bytes_per_direction: max_bytes,
            ..Default::default()
        };
        let mut h = H::with(cfg);
        h.c("S", isn, 0, b"");
        h.s("SA", 7, isn.wrapping_add(1), b"");
        let base = isn.wrapping_add(1);
        let mut sends: Vec<(usize, usize)> = (0..data.len())
            .step_by(cut)
            .map(|o| (o, cut.min(data.len() - o)))
            .enumerate()
            .filter(|(i, _)| keep[i % keep.len()])
            .map(|(_, x)| x)
            .collect();
        let n = sends.len();
        if n > 0 {
            for (a, b) in &swaps {
                sends.swap(a.index(n), b.index(n));
            }
        }
        let mut acked = 0_usize;
        for (i, (o, l)) in sends.iter().enumerate() {
            let seq = base.wrapping_add(u32::try_from(*o).unwrap());
            h.c("PA", seq, 8, &data[*o..*o + l]);
            if ack_every.is_some_and(|k| i % k == 0) {
                // The server acknowledges everything sent so far (it got the lost ones).
                acked = acked.max(o + l);
                h.s("A", 8, base.wrapping_add(u32::try_from(acked).unwrap()), b"");
            }
        }
        h.c("FA", base.wrapping_add(u32::try_from(data.len()).unwrap()), 8, b"");
        let (rec, _) = h.finish();
        let mut pos = 0_usize;
        let mut fin = false;
        for e in rec.of(0) {
            match e {
                Ev::Data(C, b) => {
                    prop_assert!(!fin);
                    prop_assert_eq!(&data[pos..pos + b.len()], &b[..]);
                    pos += b.len();
                }
                Ev::Gap(C, len) => {
                    prop_assert!(!fin);
                    pos += usize::try_from(len).unwrap();
                }
                Ev::Fin(C) => fin = true,
                Ev::Conflict(..) => prop_assert!(false, "no conflicts expected"),
                _ => {}
            }
        }
        prop_assert!(fin);
        prop_assert_eq!(pos, data.len());
    }

    /// Arbitrary segments on a few 4-tuples, with tiny caps, never panic and keep the counters sane.
    #[test]
    fn random_segments_never_panic(
        pkts in proptest::collection::vec(
            (0_u8..6, any::<u32>(), any::<u32>(), 0_u8..32, 0_usize..40, 0_i64..50_000_000, any::<bool>()),
            0..200),
        base in isn_strategy(),
    ) {
        let cfg = ReassemblyConfig {
            max_flows: 3,
            max_buffered_bytes_per_direction: 64,
            max_ooo_segments_per_direction: 3,
            max_buffered_bytes_total: 150,
            recent_window_bytes: 16,
            idle_timeout_ns: 20_000_000,
            closed_linger_ns: 5_000_000,
            known_server_ports: vec![3389],
        };
        let mut r = Reassembler::new(cfg, Rec::default());
        let addrs = [addr("1.1.1.1:3389"), addr("2.2.2.2:5000"), addr("3.3.3.3:6000"), addr("[::1]:3389")];
        let payload = [0x03_u8; 64];
        let mut ts = 0_i64;
        for (frame, (pair, seq, ack, flags, len, dt, near)) in pkts.into_iter().enumerate() {
            let (s, d) = match pair { 0 => (0, 1), 1 => (1, 0), 2 => (0, 2), 3 => (2, 0), 4 => (1, 2), _ => (3, 1) };
            ts += dt;
            let seq = if near { base.wrapping_add(seq % 200) } else { seq };
            let ack = if near { base.wrapping_add(ack % 200) } else { ack };
            r.push(&TcpPacket {
                frame: u64::try_from(frame).unwrap(), ts: Timestamp(ts), src: addrs[s], dst: addrs[d], seq, ack,
                flags: tcp_flags(flags & 1 != 0, flags & 2 != 0, flags & 4 != 0, flags & 8 != 0), window: 0, options: &[], payload_truncated: false, reassembled: false, fragment_conflicts: 0,
                fragment_copy: false,payload: &payload[..len],
            });
            prop_assert!(r.live_flows() <= 3);
        }
        let (rec, st) = r.finish();
        prop_assert_eq!(rec.opened.len(), rec.closed.len());
        prop_assert_eq!(st.flows_opened, u64::try_from(rec.opened.len()).unwrap());
        for (i, info) in rec.opened.iter().enumerate() {
            prop_assert_eq!(info.id, u64::try_from(i).unwrap());
        }
        let closes = st.flows_finished + st.flows_reset + st.flows_idle_closed + st.flows_evicted
            + st.flows_port_reused + st.flows_open_at_end;
        prop_assert_eq!(closes, st.flows_opened);
        // Every flow closed by FIN or RST is told what came after, once.
        let told = rec.closed.iter().filter(|i| {
            let reason = rec.of(i.id).last().and_then(|e| match e { Ev::Close(r) => Some(*r), _ => None });
            reason.is_some_and(|r| i.told_after_close(r))
        }).count();
        prop_assert_eq!(rec.after.len(), told);
    }
}

// ---- real captures ----

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");

/// Reads an Ethernet-framed capture of the lab corpus (with the kit) and feeds its TCP
/// segments.
fn replay(name: &str) -> Option<(Rec, ReassemblyStats)> {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    use std::net::IpAddr;

    let path = format!("{CORPUS}/lab/{name}");
    let Ok(bytes) = std::fs::read(&path) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "corpus missing: {path}"
        );
        eprintln!("note: skipping, {path} not found");
        return None;
    };
    let frames = crate::kit::read(&bytes).expect("pcap").frames;
    if frames
        .iter()
        .any(|f| f.link != crate::kit::Linktype::ETHERNET)
    {
        return None;
    }
    let mut r = Reassembler::new(ReassemblyConfig::default(), Rec::default());
    for (i, b) in frames.iter().enumerate() {
        let Ok(p) = SlicedPacket::from_ethernet(&b.data) else {
            continue;
        };
        let (src, dst): (IpAddr, IpAddr) = match &p.net {
            Some(NetSlice::Ipv4(v4)) => (
                v4.header().source_addr().into(),
                v4.header().destination_addr().into(),
            ),
            Some(NetSlice::Ipv6(v6)) => (
                v6.header().source_addr().into(),
                v6.header().destination_addr().into(),
            ),
            _ => continue,
        };
        let Some(TransportSlice::Tcp(tcp)) = &p.transport else {
            continue;
        };
        r.push(&TcpPacket {
            frame: u64::try_from(i + 1).unwrap(),
            ts: b.ts,
            src: SocketAddr::new(src, tcp.source_port()),
            dst: SocketAddr::new(dst, tcp.destination_port()),
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags: tcp_flags(tcp.syn(), tcp.ack(), tcp.fin(), tcp.rst()),
            window: 0,
            options: &[],
            payload_truncated: false,
            reassembled: false,
            fragment_conflicts: 0,
            fragment_copy: false,
            payload: tcp.payload(),
        });
    }
    Some(r.finish())
}

/// Per capture: flows, then client and server stream bytes summed over all flows, as
/// `tshark -q -z follow,tcp,raw,N` reports them for every stream N.
const LAB_TOTALS: &[(&str, usize, u64, u64)] = &[
    ("tls-ok.pcap", 1, 2660, 60078),
    ("ipv6-tls-ok.pcap", 1, 2634, 60010),
    ("bruteforce.pcap", 15, 37772, 61855),
    ("tcp-accept-close.pcap", 2, 82, 0),
    ("bad-key.pcap", 1, 356, 28),
    ("no-listener.pcap", 2, 0, 0),
];

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn lab_captures_match_tshark_follow_stream() {
    for &(name, flows, client, server) in LAB_TOTALS {
        let Some((rec, st)) = replay(name) else {
            return;
        };
        assert_eq!(rec.opened.len(), flows, "{name}");
        let c: u64 = rec.closed.iter().map(|i| i.delivered[0]).sum();
        let s: u64 = rec.closed.iter().map(|i| i.delivered[1]).sum();
        assert_eq!((c, s), (client, server), "{name}");
        assert_eq!(st.gaps, 0, "{name}");
        assert_eq!(st.conflicting_overlaps, 0, "{name}");
        assert!(
            rec.opened.iter().all(|i| i.orientation == Orientation::Syn),
            "{name}"
        );
    }
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn lab_tls_ok_event_shape() {
    let Some((rec, _)) = replay("tls-ok.pcap") else {
        return;
    };
    let ev = rec.of(0);
    assert_eq!(ev[..3], [Ev::Open(0), Ev::Syn, Ev::SynAck]);
    assert!(rec.stream(0, C).starts_with(TLS_OK_X224_CR));
    assert!(rec.stream(0, S).starts_with(TLS_OK_X224_CC));
    let info = &rec.closed[0];
    assert_eq!(info.endpoints.client, addr("127.0.0.1:48738"));
    assert_eq!(info.endpoints.server, addr("127.0.0.1:3389"));
    assert_eq!(info.packets[0] + info.packets[1], 122);
    // SCENARIOS.md: client FIN (frame 120), client RST (frame 122).
    // then the server's last record (close_notify) and the client RST, all before the close.
    let tail = &ev[ev.len() - 4..];
    assert_eq!(tail[0], Ev::Fin(C));
    assert!(matches!(tail[1], Ev::Data(S, _)));
    assert_eq!(tail[2..], [Ev::Rst(C), Ev::Close(FlowEnd::Closed)]);
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn lab_refused_and_accept_close_shapes() {
    if let Some((rec, _)) = replay("no-listener.pcap") {
        for id in 0..2 {
            assert_eq!(
                rec.of(id),
                [Ev::Open(id), Ev::Syn, Ev::Rst(S), Ev::Close(FlowEnd::Reset)]
            );
        }
    }
    if let Some((rec, _)) = replay("bad-key.pcap") {
        // SCENARIOS.md: client FIN (frame 10), then server RST (frame 11).
        let ev = rec.of(0);
        assert_eq!(
            ev[ev.len() - 3..],
            [Ev::Fin(C), Ev::Rst(S), Ev::Close(FlowEnd::Closed)]
        );
    }
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn every_ethernet_lab_capture_reassembles_without_gaps() {
    let Ok(dir) = std::fs::read_dir(format!("{CORPUS}/lab")) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "corpus missing"
        );
        eprintln!("note: skipping, corpus not found");
        return;
    };
    let mut seen = 0;
    for entry in dir {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".pcap") {
            continue;
        }
        let Some((rec, st)) = replay(&name) else {
            continue;
        };
        seen += 1;
        assert!(!rec.opened.is_empty(), "{name}");
        assert_eq!(rec.opened.len(), rec.closed.len(), "{name}");
        assert_eq!((st.gaps, st.conflicting_overlaps), (0, 0), "{name}");
        assert_eq!(st.pending_flows_dropped, 0, "{name}");
    }
    assert!(seen >= 20, "only {seen} captures");
}

/// Rough throughput check: `cargo test --release -p rdp-pcap-cli throughput -- --ignored --nocapture`.
#[test]
#[ignore = "timing, run by hand in release mode"]
fn throughput_in_order() {
    struct Count(u64);
    impl FlowObserver for Count {
        type Flow = ();
        fn open(&mut self, _: &FlowInfo) {}
        fn event(&mut self, _: &mut (), _: &FlowInfo, ev: TcpEvent<'_>) {
            if let TcpEvent::Data { bytes, .. } = ev {
                self.0 += u64::try_from(bytes.len()).unwrap();
            }
        }
        fn close(&mut self, _: (), _: &FlowInfo, _: FlowEnd) {}
    }
    let payload = vec![0x17_u8; 1448];
    let mut r = Reassembler::new(ReassemblyConfig::default(), Count(0));
    let flows: Vec<(SocketAddr, SocketAddr)> = (0..64_u16)
        .map(|i| {
            (
                SocketAddr::new(addr("10.0.0.1:1").ip(), 40000 + i),
                addr("10.0.0.2:3389"),
            )
        })
        .collect();
    let mut seqs = [0_u32; 64];
    let start = std::time::Instant::now();
    for n in 0..1_000_000_usize {
        let k = n % 64;
        let (c, s) = flows[k];
        r.push(&TcpPacket {
            frame: 1,
            ts: Timestamp(i64::try_from(n).unwrap()),
            src: c,
            dst: s,
            seq: seqs[k],
            ack: 1,
            flags: tcp_flags(false, true, false, false),
            window: 0,
            options: &[],
            payload_truncated: false,
            reassembled: false,
            fragment_conflicts: 0,
            fragment_copy: false,
            payload: &payload,
        });
        seqs[k] = seqs[k].wrapping_add(1448);
    }
    let el = start.elapsed();
    let (o, _) = r.finish();
    let mb = f64::from(u32::try_from(o.0 / 1_000_000).unwrap());
    println!(
        "{} bytes in {el:?}: {:.2} GB/s",
        o.0,
        mb / el.as_secs_f64() / 1e3
    );
}

#[test]
fn flow_keys_are_the_same_both_ways_and_order_like_socket_addresses() {
    let ends = [
        addr("10.0.0.1:3389"),
        addr("10.0.0.1:50000"),
        addr("10.0.0.2:1"),
        addr("9.255.255.255:65535"),
        addr("[::1]:3389"),
        addr("[::1]:50000"),
    ];
    for &a in &ends {
        for &b in &ends {
            let key = FlowKey::new(a, b);
            assert_eq!(key, FlowKey::new(b, a), "{a} {b}");
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            match (key, lo, hi) {
                (FlowKey::V4 { lo: l, hi: h }, SocketAddr::V4(lo), SocketAddr::V4(hi)) => {
                    assert_eq!(l >> 16, u64::from(lo.ip().to_bits()));
                    assert_eq!(l & 0xffff, u64::from(lo.port()));
                    assert_eq!(h >> 16, u64::from(hi.ip().to_bits()));
                    assert_eq!(h & 0xffff, u64::from(hi.port()));
                }
                (FlowKey::Other { lo: l, hi: h }, lo, hi) => {
                    assert!(!(lo.is_ipv4() && hi.is_ipv4()));
                    assert_eq!((l, h), (lo, hi));
                }
                other => panic!("{other:?}"),
            }
        }
    }
    assert_ne!(
        FlowKey::new(ends[0], ends[2]),
        FlowKey::new(ends[1], ends[2])
    );
}

/// RFC 5961 3.2: a RST at the next expected sequence number closes, one elsewhere in the window
/// is a challenge (ignored), one outside it is ignored; the connection goes on after both.
#[test]
fn rst_closes_only_at_the_next_expected_sequence_number() {
    let mut h = H::new();
    h.win = 1000;
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"hello");
    h.s("A", SI + 1, CI + 6, b"");
    h.c("R", CI + 500, 0, b""); // in the window, not exact: challenge
    h.c("R", CI + 90_000, 0, b""); // outside the window
    h.s("R", SI + 77, 0, b""); // the server's, in its peer's window
    h.c("PA", CI + 6, SI + 1, b" world");
    h.c("R", CI + 12, 0, b""); // exact
    let (rec, st) = h.finish();
    assert_eq!(
        rec.of(0)[3..],
        [
            d(C, b"hello"),
            Ev::Ignored(C, Ignored::RstInWindow { distance: 494 }),
            Ev::Ignored(C, Ignored::RstOutOfWindow { distance: 89_994 }),
            Ev::Ignored(S, Ignored::RstInWindow { distance: 76 }),
            d(C, b" world"),
            Ev::Rst(C),
            Ev::Close(FlowEnd::Reset)
        ]
    );
    assert_eq!(rec.closed[0].ignored_packets, 3);
    assert_eq!(rec.closed[0].rst, [true, false]);
    assert_eq!((st.rsts_in_window_ignored, st.rsts_out_of_window), (2, 1));
}

/// The window scale both SYNs offered applies to the windows announced after them.
#[test]
fn rst_window_is_scaled_when_both_syns_offer_scaling() {
    let wscale = [1, 3, 3, 7, 0];
    let mut h = H::new();
    h.win = 100;
    for (src_is_client, flags, seq, ack, opts) in [
        (true, "S", CI, 0, &wscale[..]),
        (false, "SA", SI, CI + 1, &wscale[..]),
        (true, "A", CI + 1, SI + 1, &[][..]),
        (false, "A", SI + 1, CI + 1, &[][..]),
        // 100 << 7 = 12,800: 10,000 past the next byte is inside.
        (true, "R", CI + 10_001, 0, &[][..]),
    ] {
        let (src, dst) = if src_is_client {
            (h.a, h.b)
        } else {
            (h.b, h.a)
        };
        h.frame += 1;
        h.ts += 1_000;
        let seg = TcpPacket {
            frame: h.frame,
            ts: Timestamp(h.ts),
            src,
            dst,
            seq,
            ack,
            flags: tcp_flags(
                flags.contains('S'),
                flags.contains('A'),
                false,
                flags.contains('R'),
            ),
            window: h.win,
            options: opts,
            payload_truncated: false,
            reassembled: false,
            fragment_conflicts: 0,
            fragment_copy: false,
            payload: &[],
        };
        h.r.push(&seg);
    }
    let (rec, _) = h.finish();
    assert!(rec
        .of(0)
        .contains(&Ev::Ignored(C, Ignored::RstInWindow { distance: 10_000 })));
    assert_eq!(rec.of(0).last(), Some(&Ev::Close(FlowEnd::EndOfCapture)));
}

/// Without the handshake the window is unknown: a RST at or after the last byte delivered,
/// within a bounded distance, still closes (a lossy capture's real reset); one far beyond or
/// behind does not.
#[test]
fn rst_without_a_known_window_closes_when_near_the_stream() {
    for (seq, closes) in [
        (105_u32, true),
        (105 + 4000, true),
        (105 + (1 << 20) + 1, false),
        (50, false),
    ] {
        let mut h = H::new();
        h.c("PA", 100, 9000, b"12345");
        h.s("PA", 9000, 105, b"ok");
        h.c("R", seq, 0, b"");
        let (rec, _) = h.finish();
        let last = rec.of(0).last().cloned();
        if closes {
            assert_eq!(last, Some(Ev::Close(FlowEnd::Reset)), "{seq}");
        } else {
            assert_eq!(last, Some(Ev::Close(FlowEnd::EndOfCapture)), "{seq}");
        }
    }
}

/// A SYN with another ISN inside a live connection is ignored, not a new connection.
#[test]
fn stray_syn_inside_a_live_connection_does_not_split_it() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"one");
    h.c("S", 9_000_000, 0, b"injected");
    h.s("S", 123, 0, b"");
    h.c("PA", CI + 4, SI + 1, b"two");
    let (rec, st) = h.finish();
    assert_eq!(rec.opened.len(), 1);
    assert_eq!(rec.stream(0, C), b"onetwo");
    assert_eq!(
        rec.of(0)
            .iter()
            .filter(|e| matches!(e, Ev::Ignored(_, Ignored::StraySyn)))
            .count(),
        2
    );
    assert_eq!(rec.closed[0].syn_count, 1);
    assert_eq!(st.stray_syns, 2);
    assert_eq!(st.flows_port_reused, 0);
}

/// Data captured before its SYN is the same connection when ISN + 1 is where the data starts.
#[test]
fn data_captured_before_its_syn_is_the_same_connection() {
    let mut h = H::new();
    h.c("PA", CI + 1, SI + 1, b"early");
    h.c("S", CI, 0, b"");
    h.s("SA", SI, CI + 1, b"");
    h.c("PA", CI + 6, SI + 1, b" then");
    let (rec, st) = h.finish();
    assert_eq!(rec.opened.len(), 1);
    assert_eq!(rec.stream(0, C), b"early then");
    assert_eq!(st.flows_port_reused, 0);
    assert_eq!(st.stray_syns, 0);
}

/// After a close (both FINs, or a RST), a SYN on the same addresses and ports is a new
/// connection, also with the ISN of the closed one.
#[test]
fn reused_four_tuple_after_a_close_is_a_new_connection_even_with_the_same_isn() {
    for reset in [false, true] {
        let mut h = H::new();
        handshake(&mut h);
        h.c("PA", CI + 1, SI + 1, b"first");
        if reset {
            h.c("R", CI + 6, 0, b"");
        } else {
            h.c("FA", CI + 6, SI + 1, b"");
            h.s("FA", SI + 1, CI + 7, b"");
        }
        handshake(&mut h);
        h.c("PA", CI + 1, SI + 1, b"second");
        let (rec, st) = h.finish();
        assert_eq!(rec.opened.len(), 2, "reset {reset}");
        assert_eq!(rec.stream(1, C), b"second");
        assert_eq!(st.stray_packets_after_close, 0);
    }
}

/// A connection that carried data both ways and goes on after a silence longer than the idle
/// timeout stays one flow, told of the silence; one silent to the end closes as idle.
#[test]
fn a_long_silence_in_a_live_session_does_not_split_it() {
    let cfg = ReassemblyConfig {
        idle_timeout_ns: 10_000_000,
        ..Default::default()
    };
    let mut h = H::with(cfg);
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"hello");
    h.s("PA", SI + 1, CI + 6, b"hi");
    h.advance(30_000_000);
    // Another flow's packet moves the clock past the timeout first.
    h.pkt(addr("10.9.9.9:1234"), addr("10.0.0.2:3389"), "S", 1, 0, b"");
    h.c("PA", CI + 6, SI + 3, b" again");
    h.advance(30_000_000);
    h.pkt(addr("10.9.9.9:1235"), addr("10.0.0.2:3389"), "S", 1, 0, b"");
    let (rec, st) = h.finish();
    let flow = rec.of(0);
    assert_eq!(rec.stream(0, C), b"hello again");
    assert!(
        matches!(flow[5], Ev::Resumed(ns) if ns > 30_000_000),
        "{flow:?}"
    );
    assert_eq!(flow.last(), Some(&Ev::Close(FlowEnd::IdleTimeout)));
    // Flow 0 is the session; flows 1 and 2 the lone SYNs (one idled out, one still open).
    assert_eq!(rec.opened.len(), 3);
    assert_eq!(st.flows_idle_closed, 2);
}

/// Packets with data on a closed connection's addresses and ports are counted for it and told
/// when the 4-tuple is forgotten; ACKs, FINs and RSTs without data are not.
#[test]
fn packets_after_the_close_are_told_to_the_closed_flow() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"x");
    h.c("FA", CI + 2, SI + 1, b"");
    h.s("FA", SI + 1, CI + 3, b"");
    h.c("A", CI + 3, SI + 2, b""); // the last ACK: expected
    h.advance(500_000_000);
    h.s("PA", SI + 2, CI + 3, b"late data");
    h.c("R", CI + 3, 0, b""); // a reset without data: TCP's own closing
    h.s("PA", SI + 11, CI + 3, b"more");
    h.advance(AFTER_CLOSE_REPORT_NS);
    h.s("PA", SI + 15, CI + 3, b"too late: only counted");
    let (rec, st) = h.finish();
    assert_eq!(st.stray_packets_after_close, 5);
    assert_eq!(rec.after.len(), 1);
    let (id, late) = rec.after[0];
    assert_eq!(id, 0);
    assert_eq!((late.packets, late.bytes), (2, 13));
    assert!(late.last_after_ns >= 500_000_000, "{late:?}");
}

/// A stray client SYN that the server answers with a SYN+ACK acknowledging it was a new
/// connection whose predecessor's close the capture missed: the old flow ends, the new one
/// starts with that SYN.
#[test]
fn a_stray_syn_the_server_answers_opens_a_new_connection() {
    let mut h = H::new();
    handshake(&mut h);
    h.c("PA", CI + 1, SI + 1, b"old");
    h.c("S", 9_000_000, 0, b"");
    h.c("S", 9_000_000, 0, b""); // its retransmission
    h.s("SA", 77_000, 9_000_001, b"");
    h.c("A", 9_000_001, 77_001, b"");
    h.c("PA", 9_000_001, 77_001, b"new");
    let (rec, st) = h.finish();
    assert_eq!(rec.opened.len(), 2);
    assert_eq!(rec.of(0).last(), Some(&Ev::Close(FlowEnd::PortReused)));
    assert!(!rec.of(0).iter().any(|e| matches!(e, Ev::Ignored(..))));
    assert_eq!(rec.of(1)[..3], [Ev::Open(1), Ev::Syn, Ev::SynAck]);
    assert_eq!(rec.stream(1, C), b"new");
    assert_eq!(rec.opened[1].orientation, Orientation::Syn);
    assert_eq!(st.stray_syns, 0);
}
