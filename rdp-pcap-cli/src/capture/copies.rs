//! Copies of one packet captured at several interfaces of the same file.
//!
//! Windows' Packet Monitor logs a packet at every component of the network stack it passes
//! (the adapter, filter drivers, vSwitch ports, TCP/IP): `pktmon etl2txt` shows one packet as
//! `PktGroupId 562949953421500, PktNumber 1, Appearance 1` to `Appearance 4`, at components
//! 78, 31, 32 and 33, 9.3 µs from first to last, the same 66 bytes each time. Converted to
//! pcapng every appearance is a record of its own (`etl2pcapng` writes one interface per
//! component, and the group id as `epb_packetid`), and a component may log the IP packet
//! without the Ethernet header. Captures taken on a bridge and one of its ports, on a bond
//! and its members, or on a VLAN interface and its parent hold the same kind of copies. Left
//! in, every copy reads as a retransmission: SYNs, packets and retransmissions counted two to
//! four times, and a connection's bytes compared with themselves.
//!
//! A record is a copy when its IP packet (from the IP header to the IP length: link headers and
//! link padding do not count) is the one last delivered with that content, on another
//! interface, less than [`WINDOW_NS`] earlier or later, and no copy of it came on this
//! interface yet. The same bytes twice on one interface are two transmissions (a TCP
//! retransmission, a duplicate ACK), which are evidence: the second is kept, and its copies on
//! the other interfaces are then dropped in turn. Packets are compared by a 64-bit digest of
//! their bytes and their length. The digest's seed is fixed, unlike the flow tables': which
//! packets share a slot decides which copies are recognised, and the same capture must give
//! the same report every time (and on one thread or two). A capture crafted to make packets
//! collide only keeps its copies, which it could do by changing a byte anyway.
//!
//! A file that logs every component on the same interface, without a packet id, cannot be told
//! apart from retransmissions this way and is read as it is.
//!
//! Cost: one digest of the IP bytes and one slot of a direct-mapped table of [`SLOTS`] recent
//! packets (192 KiB) per packet, O(1), for sections that describe more than one interface only:
//! the table is made for the first packet of such a section. A capture with one interface (every
//! classic pcap) pays one comparison per packet.

use rdp_wire::Saturate as _;
use std::hash::BuildHasher;

use rdp_wire::Timestamp;

/// How far apart a packet and its copy may be in capture time: Packet Monitor logs the
/// appearances of a packet microseconds apart. A retransmission timeout is 200 ms at least
/// (RFC 6298 allows 1 s; Linux uses 200 ms, Windows 300 ms), but a fast retransmission can
/// follow within a round trip: what keeps retransmissions is the rule above, not the window.
pub(super) const WINDOW_NS: u64 = 100_000_000;

/// Recent packets remembered. A packet whose slot was taken by a later one since is not
/// recognised when a copy comes: the copy is then read as a retransmission, as before. Copies
/// come within a few records of each other.
pub(super) const SLOTS: usize = 1 << 12;

/// The digest's top 12 bits pick a packet's slot.
const INDEX_SHIFT: u32 = 52;

/// One remembered packet.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    digest: u64,
    len: usize,
    /// Capture time of the delivered one.
    at: Timestamp,
    /// Interfaces it came on, one bit each (interface number modulo 64): two interfaces that
    /// share a bit count as one, so a copy between them is kept, never a packet dropped.
    /// 0: an empty slot.
    seen: u64,
}

/// Recent packets, by digest (see the module documentation).
#[derive(Debug)]
pub(super) struct Copies {
    slots: Vec<Slot>,
    hasher: foldhash::fast::FixedState,
}

/// The digest's seed (any constant: see the module documentation).
const SEED: u64 = 0x5dee_ce66_d1ce_4e5b;

impl Copies {
    pub(super) fn new() -> Self {
        Copies {
            slots: vec![Slot::default(); SLOTS],
            hasher: foldhash::fast::FixedState::with_seed(SEED),
        }
    }

    /// Whether `ip`, captured on interface `if_id` at `ts`, is a copy of a packet already
    /// delivered from another interface. When it is not, it is remembered.
    pub(super) fn is_copy(&mut self, if_id: u32, ts: Timestamp, ip: &[u8]) -> bool {
        let ip = ip_extent(ip);
        let digest = self.hasher.hash_one(ip);
        let index: usize = (digest >> INDEX_SHIFT).saturate();
        let Some(slot) = self.slots.get_mut(index) else {
            return false;
        };
        let bit = 1u64.rotate_left(if_id & 63);
        if slot.seen != 0
            && slot.digest == digest
            && slot.len == ip.len()
            && slot.at.as_nanos().abs_diff(ts.as_nanos()) < WINDOW_NS
            && slot.seen & bit == 0
        {
            slot.seen |= bit;
            return true;
        }
        *slot = Slot {
            digest,
            len: ip.len(),
            at: ts,
            seen: bit,
        };
        false
    }
}

/// The IP packet without what follows it in the frame (Ethernet pads short frames to 60
/// bytes; a raw-IP record of the same packet is not padded): up to the IPv4 total length
/// (RFC 791) or the IPv6 header and payload length (RFC 8200), when the frame holds that
/// much; the whole frame otherwise (a cut or malformed packet, compared as it is).
fn ip_extent(ip: &[u8]) -> &[u8] {
    let declared = match ip {
        [v, _, hi, lo, ..] if v >> 4 == 4 => usize::from(u16::from_be_bytes([*hi, *lo])),
        [v, _, _, _, hi, lo, ..] if v >> 4 == 6 => {
            match usize::from(u16::from_be_bytes([*hi, *lo])) {
                // A jumbogram (RFC 2675): its length is in an option.
                0 => return ip,
                payload => payload.saturating_add(40),
            }
        }
        _ => return ip,
    };
    ip.get(..declared).unwrap_or(ip)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn at(micros: i64) -> Timestamp {
        Timestamp::from_nanos(i128::from(micros) * 1000)
    }

    /// An IPv4 packet of `len` bytes whose identification field is `id`.
    fn ipv4(len: u16, id: u16) -> Vec<u8> {
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&len.to_be_bytes());
        p.extend_from_slice(&id.to_be_bytes());
        p.resize(usize::from(len), 0x33);
        p
    }

    #[test]
    fn a_copy_on_another_interface_is_dropped_once_per_interface() {
        let mut c = Copies::new();
        let p = ipv4(60, 1);
        assert!(!c.is_copy(0, at(0), &p));
        assert!(c.is_copy(1, at(3), &p));
        assert!(c.is_copy(2, at(6), &p));
        // Another packet in between changes nothing.
        assert!(!c.is_copy(0, at(7), &ipv4(60, 2)));
        assert!(c.is_copy(3, at(9), &p));
    }

    #[test]
    fn the_same_bytes_twice_on_one_interface_are_two_packets() {
        let mut c = Copies::new();
        let p = ipv4(52, 7);
        assert!(!c.is_copy(0, at(0), &p));
        assert!(c.is_copy(1, at(2), &p));
        // A retransmission with the same bytes (an IPv6 one has no identification to change):
        // kept, and its own copy dropped.
        assert!(!c.is_copy(0, at(40), &p));
        assert!(c.is_copy(1, at(42), &p));
        assert!(!c.is_copy(1, at(80), &p));
    }

    #[test]
    fn copies_far_apart_in_time_or_different_are_kept() {
        let mut c = Copies::new();
        let p = ipv4(60, 1);
        assert!(!c.is_copy(0, at(0), &p));
        assert!(!c.is_copy(1, at(100_000), &p));
        let mut q = p.clone();
        q[30] ^= 1;
        assert!(!c.is_copy(2, at(100_001), &q));
    }

    #[test]
    fn link_padding_does_not_count() {
        let mut c = Copies::new();
        let p = ipv4(41, 1);
        let mut padded = p.clone();
        padded.extend_from_slice(&[0; 5]);
        assert!(!c.is_copy(0, at(0), &padded));
        assert!(c.is_copy(1, at(1), &p));
        assert_eq!(ip_extent(&padded), &p[..]);
        // IPv6: header and payload length; a jumbogram or a cut packet as it is.
        let mut v6 = vec![0x60, 0, 0, 0, 0, 4, 6, 64];
        v6.resize(44, 0x11);
        let mut v6_padded = v6.clone();
        v6_padded.extend_from_slice(&[0; 16]);
        assert_eq!(ip_extent(&v6_padded), &v6[..]);
        assert_eq!(ip_extent(&v6[..30]), &v6[..30]);
        assert_eq!(ip_extent(&[0x45, 0]), &[0x45, 0]);
    }

    #[test]
    fn interfaces_64_apart_share_a_bit_and_keep_the_copy() {
        let mut c = Copies::new();
        let p = ipv4(60, 1);
        assert!(!c.is_copy(1, at(0), &p));
        assert!(!c.is_copy(65, at(1), &p));
    }
}
