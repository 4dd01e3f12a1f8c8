//! IP and TCP: from the bytes of an IP packet to a [`TcpPacket`].
//!
//! IPv4 (RFC 791) and IPv6 with extension headers (RFC 8200) are sliced by `etherparse`'s lax
//! parsers, which keep going when the capture holds fewer bytes than the IP length fields
//! promise (snapshot length) and trim link-layer padding to the IP length. The TCP header
//! (RFC 9293 section 3.1) must be complete; its payload may be cut.

use rdp_wire::Bump as _;
use rdp_wire::Saturate as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use etherparse::err::{ip_auth, ipv4, ipv6};
use etherparse::{
    IpNumber, Ipv6ExtensionSlice, Ipv6ExtensionsSlice, LaxIpv4Slice, LaxIpv6Slice, TcpHeaderSlice,
};

use super::defrag::FragKey;
use rdp_wire::Timestamp;

use super::{State, TcpFlags, TcpPacket};

/// The fixed part of the TCP header; options follow up to the data offset.
const TCP_FIXED_HEADER: usize = 20;
/// Byte of the TCP header holding the flags (after data offset and reserved bits).
const TCP_FLAGS_BYTE: usize = 13;
/// Size of the IPv6 fixed header.
const IPV6_HEADER: usize = 40;

/// Where a TCP segment comes from.
#[derive(Clone, Copy)]
struct Origin {
    frame: u64,
    ts: Timestamp,
    src: IpAddr,
    dst: IpAddr,
}

/// The common case, decoded without `etherparse`: an IPv4 header without options (version 4,
/// header length 20), a total length that covers the header and that the captured bytes hold
/// (anything after it is link padding), not a fragment (MF clear, offset 0; DF may be set),
/// protocol TCP. Returns the addresses and the TCP segment; `None` for anything else, which
/// the general path (`LaxIpv4Slice`) decodes the same way it always did.
fn plain_ipv4_tcp(bytes: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, &[u8])> {
    let header: &[u8; 20] = bytes.first_chunk()?;
    let total = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let fragmenting = u16::from_be_bytes([header[6], header[7]]) & 0x3fff != 0;
    if header[0] != 0x45 || header[9] != 6 || fragmenting || total < 20 || total > bytes.len() {
        return None;
    }
    let src = Ipv4Addr::new(header[12], header[13], header[14], header[15]);
    let dst = Ipv4Addr::new(header[16], header[17], header[18], header[19]);
    Some((src, dst, bytes.get(20..total)?))
}

impl State {
    /// Decodes an IP packet, IPv4 or IPv6 by its first nibble.
    pub(super) fn ip(
        &mut self,
        frame: u64,
        ts: Timestamp,
        bytes: &[u8],
        on_packet: &mut dyn FnMut(&TcpPacket<'_>),
    ) {
        match bytes.first().map(|b| b >> 4) {
            Some(4) => self.ipv4(frame, ts, bytes, on_packet),
            Some(6) => self.ipv6(frame, ts, bytes, on_packet),
            _ => self.undecodable(false),
        }
    }

    fn undecodable(&mut self, truncated: bool) {
        self.stats.undecodable_packets.bump();
        if truncated {
            self.stats.truncated_packets.bump();
        }
    }

    fn ipv4(
        &mut self,
        frame: u64,
        ts: Timestamp,
        bytes: &[u8],
        on_packet: &mut dyn FnMut(&TcpPacket<'_>),
    ) {
        if let Some((src, dst, segment)) = plain_ipv4_tcp(bytes) {
            let origin = Origin {
                frame,
                ts,
                src: IpAddr::V4(src),
                dst: IpAddr::V4(dst),
            };
            return self.tcp(origin, segment, false, false, on_packet);
        }
        let (slice, auth_error) = match LaxIpv4Slice::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                return self.undecodable(matches!(e, ipv4::HeaderSliceError::Len(_)));
            }
        };
        let header = slice.header();
        let origin = Origin {
            frame,
            ts,
            src: IpAddr::V4(header.source_addr()),
            dst: IpAddr::V4(header.destination_addr()),
        };
        let payload = slice.payload();
        if header.is_fragmenting_payload() {
            // The bytes after the IPv4 header, up to the total length: whatever the first
            // fragment starts with (an AH included) belongs to the reassembled payload.
            let header_len = header.slice().len();
            let total = usize::from(header.total_len());
            let end = if total < header_len {
                bytes.len()
            } else {
                total.min(bytes.len())
            };
            let data = bytes.get(header_len..end).unwrap_or_default();
            let key = FragKey {
                src: origin.src,
                dst: origin.dst,
                id: u32::from(header.identification()),
                protocol: header.protocol().0,
            };
            let offset = usize::from(header.fragments_offset().value()).checked_mul(8);
            return self.fragment(
                origin,
                key,
                offset,
                header.more_fragments(),
                data,
                payload.incomplete,
                false,
                on_packet,
            );
        }
        if let Some(e) = auth_error {
            return self.undecodable(matches!(e, ip_auth::HeaderSliceError::Len(_)));
        }
        if payload.ip_number == IpNumber::TCP {
            self.tcp(
                origin,
                payload.payload,
                payload.incomplete,
                false,
                on_packet,
            );
        } else {
            self.not_tcp(payload.incomplete);
        }
    }

    fn ipv6(
        &mut self,
        frame: u64,
        ts: Timestamp,
        bytes: &[u8],
        on_packet: &mut dyn FnMut(&TcpPacket<'_>),
    ) {
        let (slice, ext_error) = match LaxIpv6Slice::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                return self.undecodable(matches!(e, ipv6::HeaderSliceError::Len(_)));
            }
        };
        let header = slice.header();
        let origin = Origin {
            frame,
            ts,
            src: IpAddr::V6(header.source_addr()),
            dst: IpAddr::V6(header.destination_addr()),
        };
        let payload = slice.payload();
        if slice.is_payload_fragmented() {
            // etherparse keeps parsing extension headers after a Fragment header, which for a
            // non-first fragment reads payload bytes as headers; find the Fragment header and
            // take everything after it instead.
            let mut at = IPV6_HEADER;
            let mut fragment = None;
            for ext in slice.extensions().clone() {
                let len = match &ext {
                    Ipv6ExtensionSlice::HopByHop(s)
                    | Ipv6ExtensionSlice::Routing(s)
                    | Ipv6ExtensionSlice::DestinationOptions(s) => s.slice().len(),
                    Ipv6ExtensionSlice::Authentication(s) => s.slice().len(),
                    Ipv6ExtensionSlice::Fragment(s) => s.slice().len(),
                };
                at.bump_by(len);
                if let Ipv6ExtensionSlice::Fragment(f) = ext {
                    if f.is_fragmenting_payload() {
                        fragment = Some(f);
                        break;
                    }
                }
            }
            if let Some(f) = fragment {
                let declared = IPV6_HEADER.saturating_add(usize::from(header.payload_length()));
                let end = if header.payload_length() == 0 {
                    bytes.len()
                } else {
                    declared.min(bytes.len())
                };
                let data = bytes.get(at..end).unwrap_or_default();
                let key = FragKey {
                    src: origin.src,
                    dst: origin.dst,
                    id: f.identification(),
                    protocol: f.next_header().0,
                };
                let offset = usize::from(f.fragment_offset().value()).checked_mul(8);
                return self.fragment(
                    origin,
                    key,
                    offset,
                    f.more_fragments(),
                    data,
                    payload.incomplete,
                    true,
                    on_packet,
                );
            }
        }
        if let Some((e, _)) = ext_error {
            use etherparse::err::ipv6_exts::HeaderSliceError;
            return self.undecodable(matches!(e, HeaderSliceError::Len(_)));
        }
        if payload.ip_number == IpNumber::TCP {
            self.tcp(
                origin,
                payload.payload,
                payload.incomplete,
                false,
                on_packet,
            );
        } else {
            self.not_tcp(payload.incomplete);
        }
    }

    fn not_tcp(&mut self, truncated: bool) {
        self.stats.non_tcp_packets.bump();
        if truncated {
            self.stats.truncated_packets.bump();
        }
    }

    /// One IP fragment: hands it to the reassembler and decodes the datagram it completes.
    #[allow(clippy::too_many_arguments)]
    fn fragment(
        &mut self,
        origin: Origin,
        key: FragKey,
        offset: Option<usize>,
        more: bool,
        data: &[u8],
        truncated: bool,
        ipv6: bool,
        on_packet: &mut dyn FnMut(&TcpPacket<'_>),
    ) {
        self.stats.ip_fragments_seen.bump();
        let offset = match offset {
            Some(offset) if !truncated => offset,
            _ => {
                // A fragment cut by the snapshot length would leave a hole for ever.
                if truncated {
                    self.stats.truncated_packets.bump();
                }
                self.stats.ip_fragments_dropped.bump();
                return;
            }
        };
        let added = self.defrag.add(key, offset, more, data, origin.ts);
        self.stats.ip_fragments_dropped = self
            .stats
            .ip_fragments_dropped
            .saturating_add(added.dropped);
        let Some(done) = added.completed else {
            return;
        };
        self.stats.ip_fragments_reassembled = self
            .stats
            .ip_fragments_reassembled
            .saturating_add(done.fragments);
        self.stats.ip_datagrams_reassembled.bump();
        let (protocol, payload) = if ipv6 {
            // Extension headers after the Fragment header belong to the reassembled part.
            let (_, protocol, payload, error) =
                Ipv6ExtensionsSlice::from_slice_lax(IpNumber(key.protocol), &done.data);
            if error.is_some() {
                return;
            }
            (protocol, payload)
        } else {
            (IpNumber(key.protocol), done.data.as_slice())
        };
        if protocol == IpNumber::TCP {
            let conflicts = done.conflicting_bytes.saturate();
            let earlier = done.earlier.as_deref();
            self.tcp(origin, payload, false, true, &mut |p: &TcpPacket<'_>| {
                // The other copy first, as the earlier fragments had the segment's payload:
                // the payload is the datagram's tail in both copies, which are as long.
                let copy = earlier.and_then(|e| e.get(e.len().saturating_sub(p.payload.len())..));
                if let Some(copy) = copy {
                    on_packet(&TcpPacket {
                        payload: copy,
                        fragment_conflicts: conflicts,
                        fragment_copy: true,
                        ..*p
                    });
                }
                on_packet(&TcpPacket {
                    fragment_conflicts: conflicts,
                    ..*p
                })
            });
        }
    }

    /// A TCP segment in `bytes` (the IP payload); `truncated` when the capture cut it.
    fn tcp(
        &mut self,
        origin: Origin,
        bytes: &[u8],
        truncated: bool,
        reassembled: bool,
        on_packet: &mut dyn FnMut(&TcpPacket<'_>),
    ) {
        let Ok(header) = TcpHeaderSlice::from_slice(bytes) else {
            if !reassembled {
                self.undecodable(truncated);
            }
            return;
        };
        // INVARIANT: from_slice checked that the data offset covers at least the fixed header
        // and that `bytes` holds the whole header, so the flags byte (13 of the 20 fixed ones)
        // is present and none of these reads can be short.
        let header_len = header.slice().len();
        let options = bytes.get(TCP_FIXED_HEADER..header_len).unwrap_or_default();
        let payload = bytes.get(header_len..).unwrap_or_default();
        let flags = TcpFlags(bytes.get(TCP_FLAGS_BYTE).copied().unwrap_or(0));
        if truncated {
            self.stats.truncated_packets.bump();
        }
        if reassembled {
            self.stats.reassembled_tcp_packets.bump();
        } else {
            self.stats.tcp_packets.bump();
        }
        let packet = TcpPacket {
            frame: origin.frame,
            ts: origin.ts,
            src: SocketAddr::new(origin.src, header.source_port()),
            dst: SocketAddr::new(origin.dst, header.destination_port()),
            seq: header.sequence_number(),
            ack: header.acknowledgment_number(),
            flags,
            window: header.window_size(),
            options,
            payload,
            payload_truncated: truncated,
            reassembled,
            fragment_conflicts: 0,
            fragment_copy: false,
        };
        on_packet(&packet);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use proptest::prelude::*;

    use super::*;

    /// What the general path (`LaxIpv4Slice`) makes of `bytes` when it would hand a whole,
    /// unfragmented TCP segment on: the addresses and the segment.
    fn general(bytes: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, &[u8])> {
        let (slice, auth_error) = LaxIpv4Slice::from_slice(bytes).ok()?;
        let header = slice.header();
        let payload = slice.payload();
        let plain = !header.is_fragmenting_payload()
            && auth_error.is_none()
            && payload.ip_number == IpNumber::TCP
            && !payload.incomplete;
        plain.then(|| {
            (
                header.source_addr(),
                header.destination_addr(),
                payload.payload,
            )
        })
    }

    /// A packet that is usually, but not always, a plain IPv4 TCP one.
    fn packet() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::sample::select(vec![0x45u8, 0x45, 0x45, 0x46, 0x44, 0x55, 0x4f]),
            0usize..80,
            prop::sample::select(vec![
                0u16, 0x4000, 0, 0x4000, 0x2000, 0x0001, 0x6000, 0x8000,
            ]),
            prop::sample::select(vec![6u8, 6, 6, 17, 51, 0]),
            prop::collection::vec(any::<u8>(), 0..90),
            0usize..10,
        )
            .prop_map(|(first, total, frag, proto, mut rest, pad)| {
                rest.resize(rest.len().max(20), 0);
                rest[0] = first;
                rest[2..4].copy_from_slice(&u16::try_from(total).unwrap().to_be_bytes());
                rest[6..8].copy_from_slice(&frag.to_be_bytes());
                rest[9] = proto;
                rest.extend(std::iter::repeat_n(0xee, pad));
                rest
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn the_fast_path_agrees_with_the_general_one(bytes in packet()) {
            // A few dozen of the cases take the fast path; the rest go the general way.
            if let Some(fast) = plain_ipv4_tcp(&bytes) {
                prop_assert_eq!(Some(fast), general(&bytes));
            }
        }
    }

    #[test]
    fn the_fast_path_takes_the_common_case_and_trims_padding() {
        let mut bytes = vec![
            0x45, 0, 0, 44, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 172, 16, 0, 2,
        ];
        bytes.extend([0x55; 24]);
        bytes.extend([0; 6]); // Ethernet padding
        let (src, dst, segment) = plain_ipv4_tcp(&bytes).unwrap();
        assert_eq!(
            (src, dst),
            (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(172, 16, 0, 2))
        );
        assert_eq!(segment, &[0x55; 24]);
        assert_eq!(general(&bytes), Some((src, dst, segment)));
        // More fragments: the general path.
        bytes[6] = 0x20;
        assert_eq!(plain_ipv4_tcp(&bytes), None);
    }
}
