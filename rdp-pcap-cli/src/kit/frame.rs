//! Link, IP and transport headers for one packet, built by etherparse's `PacketBuilder` so that
//! lengths and checksums are right by construction (RFC 791, RFC 8200, RFC 9293, RFC 768).

use std::net::{IpAddr, SocketAddr};

use etherparse::{
    IpHeaders, Ipv4Header, Ipv6Header, PacketBuilder, PacketBuilderStep, TcpHeader, VlanId,
};
use pcap_parser::Linktype;

/// TCP flag bits (RFC 9293 3.1), as the flags byte holds them.
pub mod tcp_flags {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// The acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// The urgent pointer field is significant.
    pub const URG: u8 = 0x20;
}

/// The MAC address the kit gives the client (locally administered, RFC 7042 2.1).
pub const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
/// The MAC address the kit gives the server.
pub const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

/// What carries the IP packet: the framing of every packet of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Link {
    /// Ethernet II (LINKTYPE_ETHERNET), as most captures hold.
    #[default]
    Ethernet,
    /// Ethernet II with one IEEE 802.1Q tag of this VLAN id (the low 12 bits are used).
    Vlan(u16),
    /// The bare IP packet (LINKTYPE_RAW), as Packet Monitor's TCP/IP component and tunnels
    /// log it.
    RawIp,
}

impl Link {
    /// The LINKTYPE_* value of a capture interface carrying such frames.
    pub fn linktype(self) -> Linktype {
        match self {
            Link::Ethernet | Link::Vlan(_) => Linktype::ETHERNET,
            Link::RawIp => Linktype::RAW,
        }
    }
}

/// One TCP segment (RFC 9293 3.1) from `src` to `dst`, without TCP options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (written whatever the flags say).
    pub ack: u32,
    /// The flags byte ([`tcp_flags`]).
    pub flags: u8,
    /// Receive window (unscaled).
    pub window: u16,
    /// The data.
    pub payload: &'a [u8],
}

impl TcpSegment<'_> {
    /// The segment as a frame of `link`, from `src_mac` to `dst_mac` (unused for
    /// [`Link::RawIp`]). A payload too long for one IP packet gives what etherparse could
    /// write; the [`crate::kit::Conversation`] never asks for one.
    pub fn frame(&self, link: Link, src_mac: [u8; 6], dst_mac: [u8; 6]) -> Vec<u8> {
        let mut tcp = TcpHeader::new(self.src.port(), self.dst.port(), self.seq, self.window);
        tcp.acknowledgment_number = self.ack;
        tcp.fin = self.flags & tcp_flags::FIN != 0;
        tcp.syn = self.flags & tcp_flags::SYN != 0;
        tcp.rst = self.flags & tcp_flags::RST != 0;
        tcp.psh = self.flags & tcp_flags::PSH != 0;
        tcp.ack = self.flags & tcp_flags::ACK != 0;
        tcp.urg = self.flags & tcp_flags::URG != 0;
        tcp.ece = self.flags & 0x40 != 0;
        tcp.cwr = self.flags & 0x80 != 0;
        let step = ip_step(link, src_mac, dst_mac, self.src.ip(), self.dst.ip()).tcp_header(tcp);
        let mut frame = Vec::with_capacity(step.size(self.payload.len()));
        // INVARIANT: the only failure is a payload beyond the IP length field, which leaves
        // the headers written so far: a frame a hostile test may want anyway.
        let _ = step.write_to_vec(&mut frame, self.payload);
        frame
    }
}

/// One UDP datagram (RFC 768) from `src` to `dst` as a frame of `link`.
pub fn udp_frame(
    link: Link,
    src: SocketAddr,
    dst: SocketAddr,
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    payload: &[u8],
) -> Vec<u8> {
    let step = ip_step(link, src_mac, dst_mac, src.ip(), dst.ip()).udp(src.port(), dst.port());
    let mut frame = Vec::with_capacity(step.size(payload.len()));
    // INVARIANT: as in `TcpSegment::frame`.
    let _ = step.write_to_vec(&mut frame, payload);
    frame
}

/// The builder up to the IP header: IPv4 (TTL 64, Don't Fragment) when both addresses are
/// IPv4, else IPv6 (hop limit 64; an IPv4 address becomes IPv4-mapped, RFC 4291 2.5.5.2).
fn ip_step(
    link: Link,
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: IpAddr,
    dst: IpAddr,
) -> PacketBuilderStep<IpHeaders> {
    let ip = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => IpHeaders::Ipv4(
            Ipv4Header {
                source: s.octets(),
                destination: d.octets(),
                time_to_live: 64,
                ..Ipv4Header::default()
            },
            Default::default(),
        ),
        (s, d) => IpHeaders::Ipv6(
            Ipv6Header {
                source: v6(s),
                destination: v6(d),
                hop_limit: 64,
                ..Ipv6Header::default()
            },
            Default::default(),
        ),
    };
    match link {
        Link::Ethernet => PacketBuilder::ethernet2(src_mac, dst_mac).ip(ip),
        Link::Vlan(id) => {
            let id = VlanId::try_new(id & 0x0fff).unwrap_or_default();
            PacketBuilder::ethernet2(src_mac, dst_mac)
                .single_vlan(id)
                .ip(ip)
        }
        Link::RawIp => PacketBuilder::ip(ip),
    }
}

fn v6(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}
