//! IPv4 and IPv6 fragment reassembly with bounded memory.
//!
//! RFC 791 section 3.2 and RFC 8200 section 4.5: fragments of one datagram share source,
//! destination, protocol and identification; the fragment offset counts 8-byte units, the last
//! fragment has "more fragments" clear and so fixes the datagram's length.
//!
//! Memory is bounded three ways: a datagram never exceeds 65,535 bytes, at most
//! `max_datagrams` are pending, and the fragment bytes they hold together stay under
//! `max_bytes`; the oldest pending datagram is dropped to make room. Fragments are kept as
//! received and copied into one buffer only when the datagram is complete, so a fragment at a
//! large offset costs its own bytes, not the offset. A datagram that has seen no fragment for
//! `timeout` of capture time is dropped too. Overlapping fragments are accepted, later bytes
//! win (captures show what was sent, not what a given stack would keep); where their bytes
//! differ, the completed datagram says how many positions did ([`Completed::conflicting_bytes`]) and
//! holds the earlier bytes as the other copy ([`Completed::earlier`]), and the reassembler
//! counts, reports and reads them as it does a TCP retransmission with other bytes.

use rdp_wire::Bump as _;
use std::collections::HashMap;
use std::net::IpAddr;

use rdp_wire::Timestamp;

/// The largest datagram the 16-bit length fields can describe.
const MAX_DATAGRAM: usize = 65_535;
/// Expiry scans run at most this often (capture time), so a burst of fragments costs no scans.
const SWEEP_INTERVAL_NANOS: i64 = 1_000_000_000;

/// Which datagram a fragment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct FragKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    pub protocol: u8,
}

/// Bounds on pending reassembly state.
#[derive(Debug, Clone, Copy)]
pub(super) struct DefragLimits {
    pub max_datagrams: usize,
    pub max_bytes: usize,
    pub max_fragments: usize,
    pub timeout_nanos: i64,
}

#[derive(Debug)]
struct Pending {
    /// Fragments as received (offset, bytes), in arrival order.
    pieces: Vec<(usize, Vec<u8>)>,
    /// Bytes held by `pieces` (counted against `max_bytes`).
    held: usize,
    /// Byte ranges received, sorted, merged, never empty ranges.
    ranges: Vec<(usize, usize)>,
    total: Option<usize>,
    fragments: u64,
    last_seen: Timestamp,
    /// Arrival order, to evict the oldest datagram first.
    order: u64,
}

/// A datagram whose every byte has arrived.
#[derive(Debug)]
pub(super) struct Completed {
    pub data: Vec<u8>,
    pub fragments: u64,
    /// Positions where an overlapping fragment carried other bytes than an earlier one.
    pub conflicting_bytes: u64,
    /// With `conflicting_bytes`, the datagram as the earliest fragment at each position had
    /// it (the other copy, for findings: `data` keeps the later bytes); `None` otherwise. One
    /// datagram's size, allocated only for a conflicting overlap.
    pub earlier: Option<Vec<u8>>,
}

/// What one fragment did: fragments dropped (this one or others evicted for it) and maybe a
/// completed datagram.
#[derive(Debug, Default)]
pub(super) struct Added {
    pub dropped: u64,
    pub completed: Option<Completed>,
}

#[derive(Debug)]
pub(super) struct Defragmenter {
    pending: HashMap<FragKey, Pending>,
    bytes: usize,
    limits: DefragLimits,
    next_order: u64,
    next_sweep: Option<Timestamp>,
}

impl Defragmenter {
    pub(super) fn new(limits: DefragLimits) -> Self {
        Defragmenter {
            pending: HashMap::new(),
            bytes: 0,
            limits,
            next_order: 0,
            next_sweep: None,
        }
    }

    /// Adds the fragment carrying `payload` at byte `offset` of datagram `key`.
    pub(super) fn add(
        &mut self,
        key: FragKey,
        offset: usize,
        more: bool,
        payload: &[u8],
        ts: Timestamp,
    ) -> Added {
        let mut out = Added {
            dropped: self.expire(ts),
            completed: None,
        };
        let Some(end) = offset
            .checked_add(payload.len())
            .filter(|end| *end <= MAX_DATAGRAM)
        else {
            out.dropped.bump();
            return out;
        };

        if !self.pending.contains_key(&key) {
            while self.pending.len() >= self.limits.max_datagrams.max(1) {
                match self.evict_oldest(None) {
                    Some(n) => out.dropped = out.dropped.saturating_add(n),
                    None => break,
                }
            }
        }
        let growth = payload.len();
        while self.bytes.saturating_add(growth) > self.limits.max_bytes {
            match self.evict_oldest(Some(key)) {
                Some(n) => out.dropped = out.dropped.saturating_add(n),
                None => break,
            }
        }
        // The complete datagram will need `end` bytes at once: over the budget it can never be
        // rebuilt, so give it up now rather than hold its fragments.
        if self.bytes.saturating_add(growth) > self.limits.max_bytes || end > self.limits.max_bytes
        {
            // Even alone this datagram does not fit: give it up with this fragment.
            out.dropped = out
                .dropped
                .saturating_add(self.remove(&key).map_or(0, |p| p.fragments))
                .saturating_add(1);
            return out;
        }

        let order = self.next_order;
        if !self.pending.contains_key(&key) {
            self.next_order = self.next_order.wrapping_add(1);
        }
        let entry = self.pending.entry(key).or_insert_with(|| Pending {
            pieces: Vec::new(),
            held: 0,
            ranges: Vec::new(),
            total: None,
            fragments: 0,
            last_seen: ts,
            order,
        });
        entry.fragments.bump();
        entry.last_seen = ts;

        let consistent = match (more, entry.total) {
            (false, Some(total)) => total == end,
            (false, None) => entry.ranges.last().is_none_or(|(_, e)| *e <= end),
            (true, Some(total)) => end <= total,
            (true, None) => true,
        } && entry.ranges.len() < self.limits.max_fragments;
        if !consistent {
            let n = self.remove(&key).map_or(0, |p| p.fragments);
            out.dropped.bump_by(n);
            return out;
        }
        if !more {
            entry.total = Some(end);
        }
        entry.pieces.push((offset, payload.to_vec()));
        entry.held.bump_by(growth);
        self.bytes.bump_by(growth);
        insert_range(&mut entry.ranges, offset, end);

        let complete = match entry.total {
            Some(0) => true,
            Some(total) => entry.ranges.as_slice() == [(0, total)],
            None => false,
        };
        if complete {
            if let Some(p) = self.remove(&key) {
                // INVARIANT: the ranges cover [0, total), so every byte of the buffer has
                // arrived: this allocation is never larger than the bytes received. `complete`
                // holds only when the last fragment gave the total, so it is never the default.
                let total = p.total.unwrap_or(0);
                let mut data = vec![0u8; total];
                let sent = p
                    .pieces
                    .iter()
                    .map(|(_, b)| b.len())
                    .fold(0_usize, usize::saturating_add);
                // Overlaps only when more bytes arrived than the datagram holds: then which
                // positions were written is tracked, to compare the later copies with them.
                // The first bytes at each position are kept beside, as the other copy.
                let mut written = (sent > total).then(|| (vec![false; total], vec![0u8; total]));
                let mut conflicting_bytes = 0_u64;
                for (at, bytes) in &p.pieces {
                    let to = at.saturating_add(bytes.len());
                    if let Some((written, first)) = written.as_mut() {
                        let old = data.get(*at..to).unwrap_or_default();
                        let seen = written.get_mut(*at..to).unwrap_or_default();
                        let first = first.get_mut(*at..to).unwrap_or_default();
                        for (((was, new), seen), first) in old
                            .iter()
                            .zip(bytes)
                            .zip(seen.iter_mut())
                            .zip(first.iter_mut())
                        {
                            if !*seen {
                                *first = *new;
                            } else if was != new {
                                conflicting_bytes.bump();
                            }
                            *seen = true;
                        }
                    }
                    if let Some(dst) = data.get_mut(*at..to) {
                        dst.copy_from_slice(bytes);
                    }
                }
                let earlier = written
                    .filter(|_| conflicting_bytes > 0)
                    .map(|(_, first)| first);
                out.completed = Some(Completed {
                    data,
                    fragments: p.fragments,
                    conflicting_bytes,
                    earlier,
                });
            }
        }
        out
    }

    /// Drops every pending datagram (end of capture); returns the fragments dropped.
    pub(super) fn finish(&mut self) -> u64 {
        let n = self
            .pending
            .values()
            .fold(0u64, |acc, p| acc.saturating_add(p.fragments));
        self.pending.clear();
        self.bytes = 0;
        n
    }

    /// Drops datagrams idle for longer than the timeout; returns the fragments dropped.
    fn expire(&mut self, now: Timestamp) -> u64 {
        if self.pending.is_empty() || self.next_sweep.is_some_and(|next| now < next) {
            return 0;
        }
        self.next_sweep = Some(Timestamp(now.0.saturating_add(SWEEP_INTERVAL_NANOS)));
        let timeout = self.limits.timeout_nanos;
        let stale: Vec<FragKey> = self
            .pending
            .iter()
            .filter(|(_, p)| now.nanos_since(p.last_seen) > timeout)
            .map(|(k, _)| *k)
            .collect();
        stale.iter().fold(0u64, |acc, k| {
            acc.saturating_add(self.remove(k).map_or(0, |p| p.fragments))
        })
    }

    fn evict_oldest(&mut self, keep: Option<FragKey>) -> Option<u64> {
        let oldest = self
            .pending
            .iter()
            .filter(|(k, _)| Some(**k) != keep)
            .min_by_key(|(_, p)| p.order)
            .map(|(k, _)| *k)?;
        self.remove(&oldest).map(|p| p.fragments)
    }

    fn remove(&mut self, key: &FragKey) -> Option<Pending> {
        let p = self.pending.remove(key)?;
        self.bytes = self.bytes.saturating_sub(p.held);
        Some(p)
    }
}

/// Adds `[start, end)` to sorted, merged `ranges`.
fn insert_range(ranges: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    if start >= end {
        return;
    }
    let (mut s, mut e) = (start, end);
    ranges.retain(|&(rs, re)| {
        if re < s || rs > e {
            true
        } else {
            s = s.min(rs);
            e = e.max(re);
            false
        }
    });
    let at = ranges.partition_point(|&(rs, _)| rs < s);
    ranges.insert(at, (s, e));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn key(id: u32) -> FragKey {
        FragKey {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            id,
            protocol: 6,
        }
    }

    fn limits() -> DefragLimits {
        DefragLimits {
            max_datagrams: 4,
            max_bytes: 1000,
            max_fragments: 16,
            timeout_nanos: 30_000_000_000,
        }
    }

    fn ts(secs: i64) -> Timestamp {
        Timestamp::from_secs_nanos(secs, 0)
    }

    #[test]
    fn out_of_order_and_overlap() {
        let mut r = Defragmenter::new(limits());
        assert!(r.add(key(1), 16, false, &[3; 8], ts(0)).completed.is_none());
        assert!(r.add(key(1), 0, true, &[1; 8], ts(0)).completed.is_none());
        let done = r.add(key(1), 4, true, &[2; 12], ts(0)).completed.unwrap();
        assert_eq!(done.fragments, 3);
        assert_eq!(&done.data[..4], &[1; 4]);
        assert_eq!(&done.data[4..16], &[2; 12]);
        assert_eq!(&done.data[16..], &[3; 8]);
        // Bytes 4..8 came twice, as 1 then 2.
        assert_eq!(done.conflicting_bytes, 4);
        // The other copy has the first bytes there.
        let earlier = done.earlier.unwrap();
        assert_eq!(&earlier[..8], &[1; 8]);
        assert_eq!(&earlier[8..16], &[2; 8]);
        assert_eq!(&earlier[16..], &[3; 8]);
        // The same bytes twice are no conflict.
        r.add(key(2), 0, true, &[5; 8], ts(0));
        r.add(key(2), 0, true, &[5; 8], ts(0));
        let done = r.add(key(2), 8, false, &[6; 8], ts(0)).completed.unwrap();
        assert_eq!(done.conflicting_bytes, 0);
        assert!(done.earlier.is_none());
        assert_eq!(r.finish(), 0);
    }

    #[test]
    fn limits_evict_oldest_and_timeout_drops() {
        let mut r = Defragmenter::new(limits());
        for id in 0..5 {
            let added = r.add(key(id), 0, true, &[0; 8], ts(0));
            assert_eq!(added.dropped, u64::from(id == 4));
        }
        // a new datagram evicts one for the count limit, then two more so 990 bytes fit
        let added = r.add(key(9), 0, true, &[0; 990], ts(0));
        assert_eq!(added.dropped, 3);
        // far in the future: both pending datagrams time out
        let added = r.add(key(10), 0, true, &[0; 8], ts(100));
        assert_eq!(added.dropped, 2);
        assert_eq!(r.finish(), 1);
    }

    #[test]
    fn oversize_and_inconsistent_fragments_are_dropped() {
        let mut r = Defragmenter::new(limits());
        assert_eq!(r.add(key(1), 65_530, true, &[0; 8], ts(0)).dropped, 1);
        assert_eq!(r.add(key(1), 0, false, &[0; 8], ts(0)).dropped, 0);
        // a second "last" fragment with another end contradicts the first
        let mut r = Defragmenter::new(limits());
        r.add(key(2), 8, false, &[0; 8], ts(0));
        assert_eq!(r.add(key(2), 16, false, &[0; 8], ts(0)).dropped, 2);
        assert_eq!(r.finish(), 0);
        // a datagram that cannot fit the byte budget at all
        let mut r = Defragmenter::new(limits());
        assert_eq!(r.add(key(3), 1000, true, &[0; 8], ts(0)).dropped, 1);
    }

    /// Regression (robustness audit): a fragment at a large offset used to allocate and count
    /// the whole datagram up to it (65,008 bytes for 8), so two such fragments overflowed a
    /// 100,000-byte budget. Fragments now cost their own bytes until the datagram completes.
    #[test]
    fn a_far_fragment_costs_its_own_bytes() {
        let mut r = Defragmenter::new(DefragLimits {
            max_bytes: 100_000,
            ..limits()
        });
        assert_eq!(r.add(key(1), 65_000, false, &[7; 8], ts(0)).dropped, 0);
        assert_eq!(r.add(key(2), 65_000, false, &[8; 8], ts(0)).dropped, 0);
        assert_eq!(r.bytes, 16);
        let done = r
            .add(key(1), 0, true, &[1; 65_000], ts(0))
            .completed
            .unwrap();
        assert_eq!(done.data.len(), 65_008);
        assert_eq!(&done.data[64_998..], &[1, 1, 7, 7, 7, 7, 7, 7, 7, 7]);
        assert_eq!(r.bytes, 8);
        assert_eq!(r.finish(), 1);
    }

    #[test]
    fn ranges_merge() {
        let mut v = Vec::new();
        insert_range(&mut v, 10, 20);
        insert_range(&mut v, 30, 40);
        insert_range(&mut v, 0, 5);
        insert_range(&mut v, 5, 10);
        assert_eq!(v, vec![(0, 20), (30, 40)]);
        insert_range(&mut v, 15, 35);
        assert_eq!(v, vec![(0, 40)]);
        insert_range(&mut v, 50, 50);
        assert_eq!(v, vec![(0, 40)]);
    }
}
