//! Link-layer headers: from a captured frame to the bytes of its IP packet.
//!
//! Link types are the tcpdump.org LINKTYPE_* numbers (<https://www.tcpdump.org/linktypes.html>).
//! Only what is needed to find IPv4/IPv6 is decoded; everything else is "not IP".

/// LINKTYPE_NULL: BSD loopback, a 4-byte address family in the capturing host's byte order.
pub(super) const LINKTYPE_NULL: u16 = 0;
/// LINKTYPE_ETHERNET: IEEE 802.3 / Ethernet II.
pub(super) const LINKTYPE_ETHERNET: u16 = 1;
/// DLT_RAW as OpenBSD and some other BSDs write it into pcap files.
pub(super) const LINKTYPE_RAW_BSD12: u16 = 12;
/// DLT_RAW as some BSDs write it into pcap files.
pub(super) const LINKTYPE_RAW_BSD14: u16 = 14;
/// LINKTYPE_RAW: the frame is an IP packet, version in the first nibble.
pub(super) const LINKTYPE_RAW: u16 = 101;
/// LINKTYPE_LOOP: OpenBSD loopback, a 4-byte address family in network byte order.
pub(super) const LINKTYPE_LOOP: u16 = 108;
/// LINKTYPE_LINUX_SLL: Linux "cooked" capture v1 (`tcpdump -i any`), 16-byte header.
pub(super) const LINKTYPE_LINUX_SLL: u16 = 113;
/// LINKTYPE_IPV4: the frame is an IPv4 packet.
pub(super) const LINKTYPE_IPV4: u16 = 228;
/// LINKTYPE_IPV6: the frame is an IPv6 packet.
pub(super) const LINKTYPE_IPV6: u16 = 229;
/// LINKTYPE_LINUX_SLL2: Linux "cooked" capture v2, 20-byte header.
pub(super) const LINKTYPE_LINUX_SLL2: u16 = 276;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_QINQ_OLD2: u16 = 0x9200;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
/// Linux ARPHRD_NETLINK: an SLL frame that carries netlink messages, not Ethernet payloads.
const ARPHRD_NETLINK: u16 = 824;
/// A frame with more stacked tags than this is not worth following.
const MAX_TAGS: usize = 8;

/// What a frame carries, as far as this reader cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Network<'a> {
    /// An IP packet (IPv4 or IPv6, told apart by its first nibble), up to the end of the frame.
    Ip(&'a [u8]),
    /// A well-formed frame that does not carry IP (ARP, LLDP, netlink ...).
    NotIp,
    /// The link header is cut short or inconsistent.
    Malformed,
    /// The link type is not one this reader decodes.
    UnknownLinkType,
}

/// Whether frames of this link type can be decoded.
pub(super) fn is_supported(linktype: u16) -> bool {
    matches!(
        linktype,
        LINKTYPE_NULL
            | LINKTYPE_ETHERNET
            | LINKTYPE_RAW_BSD12
            | LINKTYPE_RAW_BSD14
            | LINKTYPE_RAW
            | LINKTYPE_LOOP
            | LINKTYPE_LINUX_SLL
            | LINKTYPE_IPV4
            | LINKTYPE_IPV6
            | LINKTYPE_LINUX_SLL2
    )
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    let s = b.get(at..end)?;
    Some(u16::from_be_bytes(s.try_into().ok()?))
}

fn bytes4(b: &[u8]) -> Option<[u8; 4]> {
    b.get(..4)?.try_into().ok()
}

/// Strips the link header of `frame` (link type `linktype`) and returns what it carries.
pub(super) fn network_layer(linktype: u16, frame: &[u8]) -> Network<'_> {
    match linktype {
        LINKTYPE_ETHERNET => match (be16(frame, 12), frame.get(14..)) {
            (Some(ethertype), Some(rest)) => by_ethertype(ethertype, rest),
            _ => Network::Malformed,
        },
        LINKTYPE_LINUX_SLL => {
            // packet type (2), ARPHRD (2), address length (2), address (8), protocol (2)
            match (be16(frame, 2), be16(frame, 14), frame.get(16..)) {
                (Some(ARPHRD_NETLINK), Some(_), Some(_)) => Network::NotIp,
                (Some(_), Some(protocol), Some(rest)) => by_ethertype(protocol, rest),
                _ => Network::Malformed,
            }
        }
        LINKTYPE_LINUX_SLL2 => {
            // protocol (2), reserved (2), interface index (4), ARPHRD (2), packet type (1),
            // address length (1), address (8)
            match (be16(frame, 0), be16(frame, 8), frame.get(20..)) {
                (Some(_), Some(ARPHRD_NETLINK), Some(_)) => Network::NotIp,
                (Some(protocol), Some(_), Some(rest)) => by_ethertype(protocol, rest),
                _ => Network::Malformed,
            }
        }
        LINKTYPE_NULL => match (bytes4(frame), frame.get(4..)) {
            (Some(family), Some(rest)) => {
                // The family is in the byte order of the machine that wrote the file, which the
                // file does not say; the families are small numbers, so a value with its high
                // half set must be byte-swapped.
                let le = u32::from_le_bytes(family);
                let family = if le & 0xffff_0000 != 0 {
                    le.swap_bytes()
                } else {
                    le
                };
                by_address_family(family, rest)
            }
            _ => Network::Malformed,
        },
        LINKTYPE_LOOP => match (bytes4(frame), frame.get(4..)) {
            (Some(family), Some(rest)) => by_address_family(u32::from_be_bytes(family), rest),
            _ => Network::Malformed,
        },
        LINKTYPE_RAW | LINKTYPE_RAW_BSD12 | LINKTYPE_RAW_BSD14 | LINKTYPE_IPV4 | LINKTYPE_IPV6 => {
            if frame.is_empty() {
                Network::Malformed
            } else {
                Network::Ip(frame)
            }
        }
        _ => Network::UnknownLinkType,
    }
}

/// BSD address families as DLT_NULL / DLT_LOOP carry them: AF_INET is 2 everywhere, AF_INET6
/// is 24 (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (macOS).
fn by_address_family(family: u32, rest: &[u8]) -> Network<'_> {
    match family {
        2 | 24 | 28 | 30 if rest.is_empty() => Network::Malformed,
        2 | 24 | 28 | 30 => Network::Ip(rest),
        _ => Network::NotIp,
    }
}

/// Follows an ethertype through VLAN tags (802.1Q, 802.1ad QinQ and the older 0x9100/0x9200
/// tags), PPPoE session frames and MPLS label stacks down to IP.
fn by_ethertype(mut ethertype: u16, mut rest: &[u8]) -> Network<'_> {
    for _ in 0..MAX_TAGS {
        match ethertype {
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 if rest.is_empty() => return Network::Malformed,
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => return Network::Ip(rest),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD | ETHERTYPE_QINQ_OLD2 => {
                // TCI (2), inner ethertype (2)
                match (be16(rest, 2), rest.get(4..)) {
                    (Some(inner), Some(after)) => {
                        ethertype = inner;
                        rest = after;
                    }
                    _ => return Network::Malformed,
                }
            }
            ETHERTYPE_PPPOE_SESSION => {
                // version/type (1), code (1), session id (2), length (2), PPP protocol (2)
                return match (be16(rest, 6), rest.get(8..)) {
                    (Some(PPP_IPV4 | PPP_IPV6), Some([])) => Network::Malformed,
                    (Some(PPP_IPV4 | PPP_IPV6), Some(ip)) => Network::Ip(ip),
                    (Some(_), Some(_)) => Network::NotIp,
                    _ => Network::Malformed,
                };
            }
            ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => return by_mpls(rest),
            _ => return Network::NotIp,
        }
    }
    Network::Malformed
}

/// An MPLS label stack (RFC 3032): 4-byte entries until the bottom-of-stack bit; what follows
/// is IP when its first nibble says 4 or 6 (MPLS does not name its payload).
fn by_mpls(mut rest: &[u8]) -> Network<'_> {
    for _ in 0..MAX_TAGS {
        let (Some(entry), Some(after)) = (bytes4(rest), rest.get(4..)) else {
            return Network::Malformed;
        };
        rest = after;
        let [_, _, third, _] = entry;
        if third & 0x01 != 0 {
            return match rest.first().map(|b| b >> 4) {
                Some(4 | 6) => Network::Ip(rest),
                Some(_) => Network::NotIp,
                None => Network::Malformed,
            };
        }
    }
    Network::Malformed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_plain_and_tagged() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(network_layer(LINKTYPE_ETHERNET, &f), Network::Ip(&[0x45]));
        // QinQ: 0x88a8 then 0x8100 then IPv6
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x86, 0xdd, 0x60]);
        assert_eq!(network_layer(LINKTYPE_ETHERNET, &f), Network::Ip(&[0x60]));
        // tag cut short
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0x00, 0, 1, 0x08]);
        assert_eq!(network_layer(LINKTYPE_ETHERNET, &f), Network::Malformed);
        // ARP
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x06, 0, 1]);
        assert_eq!(network_layer(LINKTYPE_ETHERNET, &f), Network::NotIp);
        assert_eq!(
            network_layer(LINKTYPE_ETHERNET, &[0; 13]),
            Network::Malformed
        );
    }

    #[test]
    fn endless_tags_are_malformed() {
        let mut f = vec![0u8; 12];
        for _ in 0..20 {
            f.extend_from_slice(&[0x81, 0x00, 0, 1]);
        }
        f.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(network_layer(LINKTYPE_ETHERNET, &f), Network::Malformed);
    }

    #[test]
    fn null_in_either_byte_order_and_loop() {
        assert_eq!(
            network_layer(LINKTYPE_NULL, &[2, 0, 0, 0, 0x45]),
            Network::Ip(&[0x45])
        );
        assert_eq!(
            network_layer(LINKTYPE_NULL, &[0, 0, 0, 30, 0x60]),
            Network::Ip(&[0x60])
        );
        assert_eq!(
            network_layer(LINKTYPE_NULL, &[7, 0, 0, 0, 0x45]),
            Network::NotIp
        );
        assert_eq!(
            network_layer(LINKTYPE_LOOP, &[0, 0, 0, 24, 0x60]),
            Network::Ip(&[0x60])
        );
        assert_eq!(network_layer(LINKTYPE_LOOP, &[0, 0, 0]), Network::Malformed);
    }

    #[test]
    fn pppoe_and_mpls() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0x64, 0x11, 0, 0, 1, 0, 10, 0x00, 0x21, 0x45]);
        assert_eq!(network_layer(LINKTYPE_ETHERNET, &f), Network::Ip(&[0x45]));
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0x47, 0, 0, 0x10, 64, 0, 0, 0x21, 64, 0x45]);
        assert_eq!(network_layer(LINKTYPE_ETHERNET, &f), Network::Ip(&[0x45]));
    }

    #[test]
    fn unknown_link_type() {
        assert!(!is_supported(147));
        assert_eq!(network_layer(147, &[0x45]), Network::UnknownLinkType);
    }
}
