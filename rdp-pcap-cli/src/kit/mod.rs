//! The capture kit: builds captures for tests, benches and fuzz seeds, writes them as pcapng
//! (with the TLS key log in a Decryption Secrets Block) or classic pcap, and reads them back.
//! One writer and one test reader for the whole workspace: `fuzzing::synth` (the hostile
//! captures), the `gencap` benchmark generator and the integration tests all go through it.
//!
//! - [`Conversation`]: one TCP connection that keeps its sequence numbers and clock; its
//!   packets are built by etherparse's `PacketBuilder` (Ethernet II, 802.1Q, raw IP; IPv4,
//!   IPv6; TCP, and UDP through [`udp_frame`]).
//! - [`Packets`]: the list a test edits before writing: drop a segment, keep one direction,
//!   cut after packet N, duplicate or reorder. [`Packet::raw`] is the escape hatch for frames
//!   no builder makes (bad lengths, IP fragments, odd link types).
//! - [`CaptureWriter`]: pcapng (Section Header, Interface Description, Enhanced Packet and
//!   Decryption Secrets Blocks; for the reader's tests also several sections, big-endian
//!   ones, [`InterfaceOptions`] `if_tsresol` / `if_tsoffset`, Simple and obsolete Packet
//!   Blocks, any block, raw bytes) or classic pcap (micro- or nanoseconds, either
//!   [`ByteOrder`]), little-endian unless asked.
//! - [`read`]: a pcap or pcapng file (either byte order) as frames and key logs, on
//!   `pcap-parser`, for tests. The tool itself reads with [`crate::capture`].
//!
//! A TLS session whose second ClientHello segment the capture missed, written with the key
//! log and read back:
//!
//! ```
//! use rdp_pcap::kit::{self, Conversation};
//! use rdp_wire::Side;
//!
//! let client = "10.0.0.2:50000".parse().unwrap();
//! let server = "10.0.0.1:3389".parse().unwrap();
//! let mut c = Conversation::new(client, server).with_mss(512);
//! c.handshake()
//!     .send(Side::Client, &[0x16, 0x03, 0x01, 0x04, 0x00]) // a 1,024-byte handshake record
//!     .send(Side::Client, &[0x01; 1024])                   // in two segments
//!     .rst(Side::Server);
//! let packets = c.into_packets();
//! let second = packets.nth_data(Side::Client, 2).unwrap();
//! let bytes = packets.without(second).to_pcapng(Some(b"CLIENT_RANDOM 00 11\n"));
//!
//! let back = kit::read(&bytes).unwrap();
//! assert_eq!(back.frames.len(), 6);
//! assert_eq!(back.tls_key_logs, [b"CLIENT_RANDOM 00 11\n".to_vec()]);
//! ```

mod conversation;
mod frame;
mod reader;
mod writer;

/// The LINKTYPE_* newtype the kit's API speaks (`pcap-parser`'s).
pub use pcap_parser::Linktype;

pub use conversation::{Conversation, Packet, Packets, DEFAULT_START, MAX_SEGMENT};
pub use frame::{tcp_flags, udp_frame, Link, TcpSegment, CLIENT_MAC, SERVER_MAC};
pub use reader::{read, read_lenient, Contents, Frame};
pub use writer::{
    to_pcap, ByteOrder, CaptureWriter, Format, InterfaceOptions, Resolution, SECRETS_TLS_KEY_LOG,
};

#[cfg(test)]
mod tests;
