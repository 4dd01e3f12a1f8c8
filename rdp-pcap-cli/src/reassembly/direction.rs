//! One direction of a TCP connection: sequence tracking, the out-of-order buffer and the window
//! of recently delivered bytes used to check retransmissions.
//!
//! Sequence numbers are turned into signed 64-bit *stream offsets* (offset 0 is the first data
//! byte, i.e. ISN + 1, or the first byte seen when picked up mid-stream) by taking the signed
//! 32-bit distance to the next expected sequence number (RFC 9293 section 3.4 comparisons are
//! modulo 2^32). Offsets never wrap, so the buffer can be ordered by them.

use rdp_wire::Bump as _;
use rdp_wire::Saturate as _;
use std::collections::BTreeMap;

use rdp_wire::Timestamp;

use super::{Delivery, FlowObserver, FragmentCopy, TcpEvent};
use crate::capture::TcpPacket;

/// A segment further ahead than this from the next expected byte is treated as garbage: no real
/// window is that large, and a wrong sign would otherwise turn into a gigantic gap.
const MAX_AHEAD: i64 = 1 << 30;

/// Signed distance `a - b` in sequence space (RFC 9293 section 3.4).
fn seq_diff(a: u32, b: u32) -> i64 {
    let d = a.wrapping_sub(b);
    if d < 0x8000_0000 {
        i64::from(d)
    } else {
        i64::from(d).saturating_sub(1_i64 << 32)
    }
}

/// `seq + n` modulo 2^32.
fn seq_add(seq: u32, n: i64) -> u32 {
    let r = n.rem_euclid(1_i64 << 32);
    // INVARIANT: 0 <= r < 2^32, so the conversion cannot fail.
    seq.wrapping_add(r.saturate())
}

pub(super) fn len_i64(n: usize) -> i64 {
    n.saturate()
}

fn len_u64(n: i64) -> u64 {
    n.saturate()
}

/// Sub-slice `[from, to)` of `bytes` given in offsets relative to its start; empty when out of range.
fn sub(bytes: &[u8], from: i64, to: i64) -> &[u8] {
    match (usize::try_from(from), usize::try_from(to)) {
        (Ok(f), Ok(t)) => bytes.get(f..t).unwrap_or(&[]),
        _ => &[],
    }
}

/// How far past the last byte seen sent a RST may be and still close a connection whose
/// receive window the capture does not show (see [`Direction::rst_check`]): 1 MiB, sixteen
/// unscaled 64 KiB windows, the order of the receive buffers stacks start with. Far enough for
/// the data a lossy capture missed before a real reset; a blind reset guess must still land in
/// a range of 2^20 out of 2^32.
const RST_REACH_UNKNOWN_WINDOW: i64 = 1 << 20;

/// How a RST's sequence number stands against the receive window (RFC 5961 section 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RstCheck {
    /// Exactly the next expected sequence number (or not judgeable): the connection ends.
    Accept,
    /// In the window but not exact: a receiver answers with a challenge ACK and goes on.
    /// `distance` is the RST's offset from the receiver's RCV.NXT.
    Challenge { distance: i64 },
    /// Outside the window: ignored.
    OutOfWindow { distance: i64 },
}

/// The ring's first allocation, at least.
const MIN_RING: usize = 256;

/// The last `cap` delivered bytes of a direction, as a ring. Grows on demand up to `cap`, so a
/// short stream costs only what it carried.
#[derive(Debug, Default)]
struct Recent {
    buf: Vec<u8>,
    cap: usize,
    /// Offset of `buf[0]` when the ring was (re)started: position of offset `o` is `(o - origin) mod cap`.
    origin: i64,
    /// Offset just after the last stored byte.
    end: i64,
}

impl Recent {
    fn new(cap: usize) -> Self {
        Recent {
            buf: Vec::new(),
            cap,
            origin: 0,
            end: 0,
        }
    }

    /// Forget everything: used after a gap, where stored positions would no longer line up.
    fn restart(&mut self, at: i64) {
        self.buf.clear();
        self.origin = at;
        self.end = at;
    }

    fn cap_i64(&self) -> i64 {
        len_i64(self.cap)
    }

    fn pos(&self, off: i64) -> Option<usize> {
        let cap = self.cap_i64();
        if cap == 0 {
            return None;
        }
        // INVARIANT: cap > 0 (checked above), so the remainder is defined.
        usize::try_from(off.saturating_sub(self.origin).checked_rem_euclid(cap)?).ok()
    }

    fn push(&mut self, mut bytes: &[u8]) {
        if self.cap == 0 {
            self.end = self.end.saturating_add(len_i64(bytes.len()));
            return;
        }
        if self.buf.len() < self.cap {
            let take = bytes.len().min(self.cap.saturating_sub(self.buf.len()));
            // Room for what arrived, doubling, never past `cap`: a direction that carried a
            // few bytes (a flood of half-open connections) keeps a few hundred, not `cap`.
            let want = self.buf.len().saturating_add(take);
            if want > self.buf.capacity() {
                let room = want
                    .max(self.buf.capacity().saturating_mul(2))
                    .max(MIN_RING)
                    .min(self.cap);
                self.buf.reserve_exact(room.saturating_sub(self.buf.len()));
            }
            let (head, rest) = bytes.split_at(take);
            self.buf.extend_from_slice(head);
            self.end = self.end.saturating_add(len_i64(take));
            bytes = rest;
        }
        if bytes.is_empty() {
            return;
        }
        if bytes.len() > self.cap {
            let skip = bytes.len().saturating_sub(self.cap);
            self.end = self.end.saturating_add(len_i64(skip));
            bytes = bytes.get(skip..).unwrap_or(&[]);
        }
        let Some(pos) = self.pos(self.end) else {
            return;
        };
        let first = bytes.len().min(self.cap.saturating_sub(pos));
        let (a, b) = bytes.split_at(first);
        if let Some(dst) = self.buf.get_mut(pos..pos.saturating_add(first)) {
            dst.copy_from_slice(a);
        }
        if let Some(dst) = self.buf.get_mut(..b.len()) {
            dst.copy_from_slice(b);
        }
        self.end = self.end.saturating_add(len_i64(bytes.len()));
    }

    /// Compares `bytes` (starting at stream offset `off`) with what is still remembered.
    /// Returns how many positions differ.
    fn differing(&self, off: i64, bytes: &[u8]) -> u64 {
        let valid_from = self.end.saturating_sub(len_i64(self.buf.len()));
        let from = off.max(valid_from);
        let to = off.saturating_add(len_i64(bytes.len())).min(self.end);
        let mut diff = 0_u64;
        let mut o = from;
        while o < to {
            let kept = self.pos(o).and_then(|p| self.buf.get(p));
            let new = usize::try_from(o.saturating_sub(off))
                .ok()
                .and_then(|i| bytes.get(i));
            if kept != new {
                diff.bump();
            }
            o = o.saturating_add(1);
        }
        diff
    }
}

/// A buffered out-of-order piece, with where and when it was captured.
#[derive(Debug)]
struct Piece {
    frame: u64,
    ts: Timestamp,
    bytes: Vec<u8>,
}

/// What a buffered piece costs besides its bytes, as charged against the buffering caps
/// (`ReassemblyConfig::max_buffered_bytes_per_direction` and `max_buffered_bytes_total`).
/// Charging the payload alone let 33.5 million one-byte pieces (256 per direction in 65,536
/// connections) take 4.6 GiB while counting as 32 MiB. Two parts:
/// - its entry in the B-tree: std's nodes hold 11 keys and 11 [`Piece`]s (a leaf is 640
///   bytes, 656 with the allocator's header) and are never less than 5 full but for the
///   root, so 131 bytes an entry, plus the internal nodes above (752 bytes for at least 35
///   entries, 22 an entry): 160 bytes;
/// - the heap block of its bytes beyond what was asked for: the allocator's header and its
///   rounding up (glibc: an 8-byte header, 16-byte steps, 32 bytes at least): 32 bytes.
///
/// Measured with a counting allocator: 142 bytes per one-byte piece for 256 pieces in order,
/// 121 in a random order, 204 for 12 (a root above two leaves).
pub(super) const PIECE_OVERHEAD: usize = 192;

/// The tree's first node, allocated with a direction's first piece and freed with its last
/// (a leaf and the allocator's header; see [`PIECE_OVERHEAD`]). Charged so that many
/// directions holding one piece each (688 bytes apiece, measured) are not undercounted.
pub(super) const FIRST_NODE_COST: usize = 656;

impl Piece {
    /// What this piece is charged: its allocation (which truncating does not shrink) and
    /// [`PIECE_OVERHEAD`].
    fn cost(&self) -> usize {
        self.bytes.capacity().saturating_add(PIECE_OVERHEAD)
    }
}

/// Reassembly state of one direction.
#[derive(Debug)]
pub(super) struct Direction {
    /// Sequence number of offset 0, once known.
    base: Option<u32>,
    /// ISN from this direction's SYN, when seen.
    pub(super) isn: Option<u32>,
    /// The window scale this direction's SYN offered (RFC 7323 section 2.2), when it carried
    /// one; `None` also before the SYN is seen.
    pub(super) syn_wscale: Option<u8>,
    /// The window field of this direction's latest segment after its SYN (unscaled).
    pub(super) last_window: Option<u16>,
    /// Offset just after the highest byte (or FIN) this direction was seen sending: its SND.NXT
    /// as far as the capture shows.
    sent_end: i64,
    /// Every byte before this offset has been delivered or reported as a gap.
    next_off: i64,
    /// Offset the FIN occupies, once seen.
    fin_off: Option<i64>,
    pub(super) fin_delivered: bool,
    /// Highest offset of this direction acknowledged by the peer.
    acked: Option<i64>,
    /// While nothing of this direction was seen (no SYN, no data): the peer's first
    /// acknowledgement number, and how far past it the peer acknowledged since. In a capture
    /// of one direction only, that is how many bytes the absent side sent.
    unseen: Option<(u32, u64)>,
    /// Out-of-order pieces by start offset; they never overlap each other and all start after
    /// `next_off`.
    ooo: BTreeMap<i64, Piece>,
    /// What the pieces in `ooo` are charged ([`Piece::cost`]).
    ooo_charged: usize,
    recent: Recent,
    /// The last range of offsets given up as lost: a segment that falls inside it arrived too
    /// late, and is counted as such rather than as a retransmission.
    lost: Option<(i64, i64)>,
    /// The observer no longer wants this direction's retransmissions compared (see
    /// `FlowObserver::compare_retransmissions`): they are counted as not compared.
    unchecked: bool,
}

impl Direction {
    pub(super) fn new(window: usize) -> Self {
        Direction {
            base: None,
            isn: None,
            syn_wscale: None,
            last_window: None,
            sent_end: 0,
            next_off: 0,
            fin_off: None,
            fin_delivered: false,
            acked: None,
            unseen: None,
            ooo: BTreeMap::new(),
            ooo_charged: 0,
            recent: Recent::new(window),
            lost: None,
            unchecked: false,
        }
    }

    /// Bytes of this direction the peer acknowledged although the capture never showed any of
    /// them (no SYN, no data, no FIN): 0 once anything of the direction was seen.
    pub(super) fn acked_unseen(&self) -> u64 {
        match (self.base, self.unseen) {
            (None, Some((_, n))) => n,
            _ => 0,
        }
    }

    pub(super) fn has_base(&self) -> bool {
        self.base.is_some()
    }

    pub(super) fn fin_seen(&self) -> bool {
        self.fin_off.is_some()
    }

    /// A SYN from this direction: offset 0 is the byte after it. `wscale` is the window scale
    /// option it carried, if any.
    pub(super) fn on_syn(&mut self, seq: u32, wscale: Option<u8>) {
        if self.base.is_none() {
            self.base = Some(seq.wrapping_add(1));
            self.isn = Some(seq);
            self.syn_wscale = wscale;
        } else if self.isn.is_none() && self.base == Some(seq.wrapping_add(1)) {
            // The SYN of data captured before it (a reordered capture): the same stream.
            self.isn = Some(seq);
            self.syn_wscale = wscale;
        }
    }

    /// Whether a SYN with `seq` opens this very stream: its ISN is the one already seen, or,
    /// when data was captured before the SYN, ISN + 1 is where that data started.
    pub(super) fn syn_matches(&self, seq: u32) -> bool {
        match (self.isn, self.base) {
            (Some(isn), _) => isn == seq,
            (None, Some(base)) => base == seq.wrapping_add(1),
            (None, None) => true,
        }
    }

    /// Whether a RST with sequence number `seq` from this direction closes the connection,
    /// given the receiver's window `rcv_wnd` (in bytes, scaled) when the capture shows it.
    ///
    /// RFC 5961 section 3.2: a RST is acceptable only when its sequence number is exactly
    /// RCV.NXT; one elsewhere in the receive window draws a challenge ACK and the connection
    /// goes on; one outside the window is dropped. The capture shows two readings of RCV.NXT:
    /// the receiver's latest acknowledgment, and the end of what this direction was seen
    /// sending (its SND.NXT, a FIN counted); either one exactly is accepted. When the window is
    /// unknown (handshake not captured, the receiver's direction absent), a RST at or after the
    /// last byte delivered and at most [`RST_REACH_UNKNOWN_WINDOW`] past what was seen sent is
    /// accepted, so real resets in lossy captures still close the connection. A direction with
    /// no sequence number seen at all (a RST answering a SYN) cannot be judged and is accepted.
    #[cold]
    #[inline(never)]
    pub(super) fn rst_check(&self, seq: u32, rcv_wnd: Option<u32>) -> RstCheck {
        let Some(off) = self.off_of(seq) else {
            return RstCheck::Accept;
        };
        let sent_end = self.sent_end.max(self.next_off);
        let acked = self.acked.unwrap_or(sent_end);
        if off == sent_end || off == acked {
            return RstCheck::Accept;
        }
        let lo = self.next_off.min(acked);
        let high = sent_end.max(acked);
        match rcv_wnd {
            None if off >= lo && off <= high.saturating_add(RST_REACH_UNKNOWN_WINDOW) => {
                RstCheck::Accept
            }
            Some(wnd) if off >= lo && off < high.saturating_add(i64::from(wnd)) => {
                RstCheck::Challenge {
                    distance: off.saturating_sub(acked),
                }
            }
            _ => RstCheck::OutOfWindow {
                distance: off.saturating_sub(acked),
            },
        }
    }

    fn off_of(&self, seq: u32) -> Option<i64> {
        let base = self.base?;
        Some(
            self.next_off
                .saturating_add(seq_diff(seq, seq_add(base, self.next_off))),
        )
    }

    /// The peer acknowledged up to `ack` in this direction's sequence space.
    pub(super) fn on_peer_ack(&mut self, ack: u32) {
        let Some(off) = self.off_of(ack) else {
            match self.unseen.as_mut() {
                None => self.unseen = Some((ack, 0)),
                Some((first, most)) => {
                    // Sequence space: a step back (an old ACK, reordered) counts as nothing;
                    // a step of more than MAX_AHEAD is not an acknowledgement of this flow.
                    let ahead = seq_diff(ack, *first);
                    if ahead > 0 && ahead <= MAX_AHEAD {
                        *most = (*most).max(ahead.unsigned_abs());
                    }
                }
            }
            return;
        };
        if off.saturating_sub(self.next_off) > MAX_AHEAD {
            return;
        }
        if self.acked.is_none_or(|a| off > a) {
            self.acked = Some(off);
        }
    }

    /// Handles one segment of this direction: `data_seq` is the sequence number of the first
    /// payload byte (after a SYN, if any).
    pub(super) fn on_segment<O: FlowObserver>(
        &mut self,
        ctx: &mut Delivery<'_, O>,
        data_seq: u32,
        payload: &[u8],
        fin: bool,
    ) {
        if self.base.is_none() {
            if payload.is_empty() && !fin {
                return;
            }
            // Picked up mid-stream: the first data (or FIN) seen sets the start.
            self.base = Some(data_seq);
        }
        let Some(start) = self.off_of(data_seq) else {
            return;
        };
        if start.saturating_sub(self.next_off) > MAX_AHEAD {
            ctx.stats.segments_out_of_window.bump();
            return;
        }
        let end = start.saturating_add(len_i64(payload.len()));
        let mut retransmission = false;
        self.sent_end = self.sent_end.max(end.saturating_add(i64::from(fin)));

        if fin {
            match self.fin_off {
                None => {
                    self.fin_off = Some(end);
                    self.drop_beyond_fin(ctx);
                }
                Some(f) if f == end => retransmission = true,
                Some(_) => ctx.stats.conflicting_fins.bump(),
            }
        }

        // Data past the FIN cannot belong to this stream.
        let mut end_eff = end;
        if let Some(f) = self.fin_off {
            if end > f {
                end_eff = start.max(f);
                ctx.stats.bytes_after_fin = ctx
                    .stats
                    .bytes_after_fin
                    .saturating_add(len_u64(end.saturating_sub(end_eff)));
            }
        }

        // The ACK rule: the peer has acknowledged bytes we never saw, and this direction has now
        // sent something beyond them, so they will not come again (see the module docs).
        if start > self.next_off && self.acked.is_some_and(|a| a > self.next_off) {
            let target = self
                .acked
                .unwrap_or(self.next_off)
                .min(start)
                .min(self.fin_off.unwrap_or(i64::MAX));
            self.skip_to(ctx, target);
        }

        let mut from = start;
        let mut late = false;
        if from < self.next_off && end_eff > from {
            let old_to = end_eff.min(self.next_off);
            let keepalive = payload.len() == 1 && start.saturating_add(1) == self.next_off;
            if keepalive {
                ctx.stats.keepalives.bump();
            } else if self
                .lost
                .is_some_and(|(lo, hi)| lo <= start && old_to <= hi)
            {
                // Bytes already counted as lost: not delivered, not a retransmission.
                late = true;
            } else {
                retransmission = true;
                let old = sub(payload, 0, old_to.saturating_sub(start));
                if self.unchecked {
                    ctx.stats.retransmissions_not_compared.bump();
                }
                let diff = self.recent.differing(start, old);
                self.report_conflict(ctx, diff, start, payload);
            }
            from = old_to;
        }
        if from < end_eff {
            let fresh = sub(
                payload,
                from.saturating_sub(start),
                end_eff.saturating_sub(start),
            );
            if from == self.next_off {
                let (frame, ts) = (ctx.frame, ctx.ts);
                self.deliver(ctx, fresh, frame, ts);
                self.drain(ctx);
            } else if self.insert(ctx, from, fresh) {
                retransmission = true;
            }
        }
        if late && !retransmission {
            ctx.stats.late_segments.bump();
        } else if retransmission {
            ctx.info.retransmissions.bump();
            ctx.stats.retransmitted_segments.bump();
        }
        self.enforce_caps(ctx);
        self.try_fin(ctx);
    }

    /// `differing` bytes of `copy` (the segment or piece that carried them, starting at stream
    /// offset `offset`) differ from the bytes kept.
    fn report_conflict<O: FlowObserver>(
        &mut self,
        ctx: &mut Delivery<'_, O>,
        differing: u64,
        offset: i64,
        copy: &[u8],
    ) {
        if differing > 0 {
            conflict(ctx, differing, offset, copy, false);
        }
    }

    /// `seg` was rebuilt from IP fragments whose overlaps carried `seg.fragment_conflicts`
    /// other bytes: counted and reported like a TCP retransmission with other bytes (RFC 791
    /// section 3.2 leaves the choice of copy to the receiver just as RFC 9293 does for
    /// segments), with the earlier fragments' bytes as the other copy when the capture reader
    /// gave them (`copy`, taken: it is for this segment only), else the segment as rebuilt.
    #[cold]
    #[inline(never)]
    pub(super) fn fragment_conflict<O: FlowObserver>(
        &mut self,
        ctx: &mut Delivery<'_, O>,
        seg: &TcpPacket<'_>,
        copy: &mut Option<FragmentCopy>,
    ) {
        let offset = self
            .off_of(seg.seq.wrapping_add(u32::from(seg.flags.syn())))
            .unwrap_or(self.next_off);
        let copy = copy.take().filter(|c| c.of(seg));
        let bytes = copy.as_ref().map_or(seg.payload, |c| c.bytes.as_slice());
        conflict(ctx, u64::from(seg.fragment_conflicts), offset, bytes, true);
    }

    fn drop_beyond_fin<O: FlowObserver>(&mut self, ctx: &mut Delivery<'_, O>) {
        let Some(f) = self.fin_off else {
            return;
        };
        let beyond: Vec<i64> = self.ooo.range(f..).map(|(k, _)| *k).collect();
        for k in beyond {
            if let Some(p) = self.ooo.remove(&k) {
                self.forget_buffered(ctx, p.cost());
                ctx.stats.bytes_after_fin = ctx
                    .stats
                    .bytes_after_fin
                    .saturating_add(p.bytes.len().saturate());
            }
        }
        let last = self.ooo.iter_mut().next_back();
        if let Some((k, p)) = last {
            let keep = f.saturating_sub(*k).saturate();
            if p.bytes.len() > keep {
                let cut = p.bytes.len().saturating_sub(keep);
                // The allocation stays as it was, and so does the piece's charge.
                p.bytes.truncate(keep);
                ctx.stats.bytes_after_fin =
                    ctx.stats.bytes_after_fin.saturating_add(cut.saturate());
            }
        }
    }

    /// `cost` more is held in the out-of-order buffer.
    fn charge<O: FlowObserver>(&mut self, ctx: &mut Delivery<'_, O>, cost: usize) {
        self.ooo_charged.bump_by(cost);
        *ctx.buffered_total = ctx.buffered_total.saturating_add(cost);
    }

    /// A piece that cost `cost` left the buffer; with the last one goes the tree's first node,
    /// freed rather than kept for a direction that may never buffer again.
    fn forget_buffered<O: FlowObserver>(&mut self, ctx: &mut Delivery<'_, O>, cost: usize) {
        let cost = if self.ooo.is_empty() {
            self.ooo = BTreeMap::new();
            self.ooo_charged
        } else {
            cost
        };
        self.ooo_charged = self.ooo_charged.saturating_sub(cost);
        *ctx.buffered_total = ctx.buffered_total.saturating_sub(cost);
    }

    /// Buffers `bytes` at `from` (> `next_off`), keeping what was buffered first where pieces
    /// overlap and comparing the overlap. Returns whether anything overlapped.
    fn insert<O: FlowObserver>(
        &mut self,
        ctx: &mut Delivery<'_, O>,
        from: i64,
        bytes: &[u8],
    ) -> bool {
        let to = from.saturating_add(len_i64(bytes.len()));
        let mut new_pieces: Vec<(i64, i64)> = Vec::new();
        let mut cursor = from;
        let mut differing = 0_u64;
        let mut overlapped = false;
        // The piece starting before `from` may reach into it.
        let first_key = self
            .ooo
            .range(..=from)
            .next_back()
            .map_or(from, |(k, _)| *k);
        for (&k, piece) in self.ooo.range(first_key..to) {
            let p_end = k.saturating_add(len_i64(piece.bytes.len()));
            if p_end <= cursor {
                continue;
            }
            if k > cursor {
                new_pieces.push((cursor, k));
            }
            let o_from = cursor.max(k);
            let o_to = to.min(p_end);
            if o_from < o_to {
                overlapped = true;
                let kept = sub(
                    &piece.bytes,
                    o_from.saturating_sub(k),
                    o_to.saturating_sub(k),
                );
                let new = sub(
                    bytes,
                    o_from.saturating_sub(from),
                    o_to.saturating_sub(from),
                );
                let n: u64 = kept
                    .iter()
                    .zip(new)
                    .filter(|(a, b)| a != b)
                    .count()
                    .saturate();
                differing.bump_by(n);
            }
            cursor = cursor.max(p_end);
            if cursor >= to {
                break;
            }
        }
        if cursor < to {
            new_pieces.push((cursor, to));
        }
        for (a, b) in new_pieces {
            let piece = sub(bytes, a.saturating_sub(from), b.saturating_sub(from));
            if piece.is_empty() {
                continue;
            }
            let piece = Piece {
                frame: ctx.frame,
                ts: ctx.ts,
                bytes: piece.to_vec(),
            };
            if self.ooo.is_empty() {
                self.charge(ctx, FIRST_NODE_COST);
            }
            self.charge(ctx, piece.cost());
            ctx.stats.segments_buffered_ooo.bump();
            ctx.info.ooo_segments.bump();
            self.ooo.insert(a, piece);
        }
        self.report_conflict(ctx, differing, from, bytes);
        overlapped
    }

    fn deliver<O: FlowObserver>(
        &mut self,
        ctx: &mut Delivery<'_, O>,
        bytes: &[u8],
        frame: u64,
        ts: Timestamp,
    ) {
        if bytes.is_empty() {
            return;
        }
        let side = ctx.side;
        ctx.emit(TcpEvent::Data {
            side,
            ts,
            frame,
            bytes,
        });
        let n = bytes.len().saturate();
        let delivered = super::pick(&mut ctx.info.delivered, side);
        *delivered = delivered.saturating_add(n);
        let next = self.next_off.saturating_add(len_i64(bytes.len()));
        if ctx.observer.compare_retransmissions(ctx.flow, side) {
            self.recent.push(bytes);
        } else {
            // Nothing kept: a later retransmission of these bytes is trimmed, not compared.
            self.recent.restart(next);
            self.unchecked = true;
        }
        self.next_off = next;
    }

    /// Delivers buffered pieces that have become contiguous.
    fn drain<O: FlowObserver>(&mut self, ctx: &mut Delivery<'_, O>) {
        while let Some(entry) = self.ooo.first_entry() {
            let k = *entry.key();
            if k > self.next_off {
                break;
            }
            let piece = entry.remove();
            self.forget_buffered(ctx, piece.cost());
            let p_end = k.saturating_add(len_i64(piece.bytes.len()));
            if k < self.next_off {
                // Overlaps bytes delivered after it was buffered.
                let old_to = p_end.min(self.next_off);
                let diff = self
                    .recent
                    .differing(k, sub(&piece.bytes, 0, old_to.saturating_sub(k)));
                self.report_conflict(ctx, diff, k, &piece.bytes);
            }
            if p_end > self.next_off {
                let fresh = sub(
                    &piece.bytes,
                    self.next_off.saturating_sub(k),
                    p_end.saturating_sub(k),
                );
                self.deliver(ctx, fresh, piece.frame, piece.ts);
            }
        }
    }

    fn gap<O: FlowObserver>(&mut self, ctx: &mut Delivery<'_, O>, to: i64) {
        if to <= self.next_off {
            return;
        }
        let len = len_u64(to.saturating_sub(self.next_off));
        let (side, ts) = (ctx.side, ctx.ts);
        ctx.emit(TcpEvent::Gap { side, ts, len });
        ctx.stats.gaps.bump();
        ctx.stats.bytes_lost_in_gaps.bump_by(len);
        let gap_bytes = super::pick(&mut ctx.info.gap_bytes, side);
        *gap_bytes = gap_bytes.saturating_add(len);
        self.lost = Some((self.next_off, to));
        self.next_off = to;
        self.recent.restart(to);
    }

    /// Gives up on every missing byte before `target`, delivering buffered pieces on the way.
    fn skip_to<O: FlowObserver>(&mut self, ctx: &mut Delivery<'_, O>, target: i64) {
        while self.next_off < target {
            let next = self.ooo.keys().next().copied();
            match next {
                Some(k) if k < target => {
                    self.gap(ctx, k);
                    self.drain(ctx);
                }
                _ => {
                    self.gap(ctx, target);
                    self.drain(ctx);
                }
            }
        }
    }

    fn enforce_caps<O: FlowObserver>(&mut self, ctx: &mut Delivery<'_, O>) {
        while !self.ooo.is_empty()
            && (self.ooo_charged > ctx.cfg.max_buffered_bytes_per_direction
                || self.ooo.len() > ctx.cfg.max_ooo_segments_per_direction
                || *ctx.buffered_total > ctx.cfg.max_buffered_bytes_total)
        {
            ctx.stats.ooo_dropped_over_cap.bump();
            let Some(k) = self.ooo.keys().next().copied() else {
                break;
            };
            self.gap(ctx, k);
            self.drain(ctx);
        }
    }

    fn try_fin<O: FlowObserver>(&mut self, ctx: &mut Delivery<'_, O>) {
        if !self.fin_delivered && self.fin_off == Some(self.next_off) {
            self.fin_delivered = true;
            *super::pick(&mut ctx.info.fin, ctx.side) = true;
            let (side, ts) = (ctx.side, ctx.ts);
            ctx.emit(TcpEvent::Fin { side, ts });
        }
    }

    /// The connection is ending: skip every hole, deliver what is buffered, then the FIN if one
    /// was seen, and report bytes the peer acknowledged but the capture never showed.
    pub(super) fn flush<O: FlowObserver>(&mut self, ctx: &mut Delivery<'_, O>) {
        while let Some(k) = self.ooo.keys().next().copied() {
            self.gap(ctx, k);
            self.drain(ctx);
        }
        match self.fin_off {
            Some(f) => self.gap(ctx, f),
            None => {
                if let Some(a) = self.acked {
                    self.gap(ctx, a);
                }
            }
        }
        self.try_fin(ctx);
    }

    /// What the out-of-order buffer is charged (released by the caller when the flow goes
    /// away).
    pub(super) fn buffered(&self) -> usize {
        self.ooo_charged
    }
}

/// Counts and reports `differing` bytes of `copy` (at stream offset `offset`) that differ from
/// the bytes kept: a TCP retransmission, or IP fragments (`ip_fragments`), with other bytes.
fn conflict<O: FlowObserver>(
    ctx: &mut Delivery<'_, O>,
    differing: u64,
    offset: i64,
    copy: &[u8],
    ip_fragments: bool,
) {
    ctx.info.conflicting_overlaps.bump();
    ctx.stats.conflicting_overlaps.bump();
    ctx.stats.conflicting_bytes.bump_by(differing);
    let (side, ts) = (ctx.side, ctx.ts);
    ctx.emit(TcpEvent::ConflictingOverlap {
        side,
        ts,
        len: differing,
        offset: len_u64(offset),
        copy,
        ip_fragments,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_diff_wraps() {
        assert_eq!(seq_diff(5, u32::MAX - 4), 10);
        assert_eq!(seq_diff(u32::MAX - 4, 5), -10);
        assert_eq!(seq_add(u32::MAX, 2), 1);
        assert_eq!(seq_add(3, -5), u32::MAX - 1);
    }

    #[test]
    fn recent_ring_wraps_and_compares() {
        let mut r = Recent::new(4);
        r.push(b"ab");
        r.push(b"cdef");
        // Remembers "cdef" at offsets 2..6.
        assert_eq!(r.differing(2, b"cdef"), 0);
        assert_eq!(r.differing(2, b"cxeX"), 2);
        // Offsets 0..2 are forgotten: not compared.
        assert_eq!(r.differing(0, b"zzcd"), 0);
        r.push(b"0123456789");
        assert_eq!(r.differing(12, b"6789"), 0);
        assert_eq!(r.differing(12, b"6780"), 1);
        r.restart(16);
        assert_eq!(r.differing(12, b"0000"), 0);
        r.push(b"xy");
        assert_eq!(r.differing(16, b"xy"), 0);
    }

    #[test]
    fn recent_ring_grows_with_what_arrived_up_to_its_cap() {
        let mut r = Recent::new(4096);
        r.push(&[1; 43]);
        assert!(r.buf.capacity() < 1024, "{}", r.buf.capacity());
        for _ in 0..100 {
            r.push(&[2; 1000]);
            assert!(r.buf.capacity() <= 4096, "{}", r.buf.capacity());
        }
        assert_eq!(r.buf.len(), 4096);
        // Still a ring of the last 4096 bytes.
        assert_eq!(r.differing(100_043 - 1000, &[2; 1000]), 0);
        assert_eq!(r.differing(100_043 - 1000, &[3; 1000]), 1000);
    }
}
