//! Writes synthetic hostile captures (pcap, Ethernet, IPv4, TCP) for the robustness tests
//! (`tests/hostile.rs`) and the peak-memory script (`benches/peak-memory.sh`, through the
//! `synth-captures` example). Packets, sequence numbers and files come from [`crate::kit`];
//! what is here is the scenarios, and a writer whose one clock runs across connections so
//! that their packets interleave.
#![allow(clippy::arithmetic_side_effects, missing_docs)]

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};

use rdp_wire::{Side, Timestamp};

pub use crate::kit::tcp_flags::{ACK, FIN, PSH, RST, SYN};
use crate::kit::{self, CaptureWriter, Conversation, Format, Linktype, Resolution};

/// A classic pcap file (microsecond timestamps, LINKTYPE_ETHERNET) being written, with one
/// clock for every connection written to it.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: CaptureWriter<W>,
    /// Capture time of the next packet, microseconds since the epoch.
    pub ts_us: u64,
    /// Added to `ts_us` after each packet.
    pub step_us: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header; packets longer than `snaplen` are cut as a capture would.
    pub fn new(out: W, snaplen: u32) -> io::Result<Self> {
        let format = Format::Pcap(Linktype::ETHERNET, Resolution::Micro);
        Ok(PcapWriter {
            out: CaptureWriter::new(out, format, snaplen)?,
            ts_us: 1_767_225_600_000_000,
            step_us: 10,
        })
    }

    /// One record holding `frame`, cut at the snapshot length.
    pub fn frame(&mut self, frame: &[u8]) -> io::Result<()> {
        let orig = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let ts = Timestamp::from_nanos(i128::from(self.ts_us) * 1000);
        self.out.record(0, ts, frame, orig)?;
        self.ts_us += self.step_us;
        Ok(())
    }

    /// The packets `conv` built since the last call, on this writer's clock.
    pub fn put(&mut self, conv: &mut Conversation) -> io::Result<()> {
        conv.take_packets()
            .iter()
            .try_for_each(|p| self.frame(&p.frame))
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out.into_inner()
    }
}

/// A client address numbered `i` (10.x.y.z, ports from 1024), distinct for every `i` below 2^32.
pub fn client_addr(i: u32) -> SocketAddrV4 {
    let port = 1024 + u16::try_from(i % 60_000).unwrap_or(0);
    let host = i / 60_000;
    SocketAddrV4::new(Ipv4Addr::from(0x0a00_0000 | (host + 2)), port)
}

/// The server every synthetic client talks to.
pub fn server_addr() -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(10, 255, 0, 1), 3389)
}

fn side(from_client: bool) -> Side {
    if from_client {
        Side::Client
    } else {
        Side::Server
    }
}

/// One TCP connection whose sequence numbers are tracked for the caller (by a
/// [`kit::Conversation`], on each call), written to a [`PcapWriter`].
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    pub client: SocketAddrV4,
    pub server: SocketAddrV4,
    /// Next sequence number of each side.
    pub client_seq: u32,
    pub server_seq: u32,
}

impl Conn {
    pub fn new(i: u32) -> Self {
        Conn {
            client: client_addr(i),
            server: server_addr(),
            client_seq: 1_000_000u32.wrapping_mul(i | 1),
            server_seq: 7_000_000u32.wrapping_mul(i | 1),
        }
    }

    /// Builds packets with a conversation in this connection's state, keeps the sequence
    /// numbers it ends with and writes the packets.
    fn with<W: Write>(
        &mut self,
        w: &mut PcapWriter<W>,
        build: impl FnOnce(&mut Conversation),
    ) -> io::Result<()> {
        let mut conv = Conversation::new(self.client.into(), self.server.into());
        conv.next_seq = [self.client_seq, self.server_seq];
        build(&mut conv);
        [self.client_seq, self.server_seq] = conv.next_seq;
        w.put(&mut conv)
    }

    pub fn syn<W: Write>(&mut self, w: &mut PcapWriter<W>) -> io::Result<()> {
        self.with(w, |c| {
            c.syn();
        })
    }

    pub fn syn_ack<W: Write>(&mut self, w: &mut PcapWriter<W>) -> io::Result<()> {
        self.with(w, |c| {
            c.syn_ack();
        })
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake<W: Write>(&mut self, w: &mut PcapWriter<W>) -> io::Result<()> {
        self.with(w, |c| {
            c.handshake();
        })
    }

    /// Payload from one side, in order, in one segment.
    pub fn send<W: Write>(
        &mut self,
        w: &mut PcapWriter<W>,
        from_client: bool,
        payload: &[u8],
    ) -> io::Result<()> {
        self.with(w, |c| {
            c.send(side(from_client), payload);
        })
    }

    /// Payload from one side at `offset` bytes past the next expected one (out of order when
    /// positive); sequence numbers are not advanced.
    pub fn send_at<W: Write>(
        &mut self,
        w: &mut PcapWriter<W>,
        from_client: bool,
        offset: u32,
        payload: &[u8],
    ) -> io::Result<()> {
        self.with(w, |c| {
            c.segment_at(side(from_client), PSH | ACK, offset, payload);
        })
    }

    /// A FIN from one side.
    pub fn fin<W: Write>(&mut self, w: &mut PcapWriter<W>, from_client: bool) -> io::Result<()> {
        self.with(w, |c| {
            c.fin(side(from_client));
        })
    }

    /// A RST from one side.
    pub fn rst<W: Write>(&mut self, w: &mut PcapWriter<W>, from_client: bool) -> io::Result<()> {
        self.with(w, |c| {
            c.rst(side(from_client));
        })
    }
}

/// An X.224 Connection Request with cookie `mstshash=synth` requesting SSL|HYBRID
/// (MS-RDPBCGR 2.2.1.1).
pub const CONNECTION_REQUEST: &[u8] = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=synth\r\n\x01\x00\x08\x00\x03\x00\x00\x00";

/// An X.224 Connection Confirm selecting PROTOCOL_SSL (MS-RDPBCGR 2.2.1.2).
pub const CONNECTION_CONFIRM_SSL: &[u8] =
    b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x01\x00\x00\x00";

/// The start of a TLS 1.2 ClientHello record that declares `record_len` bytes of fragment
/// (only the first bytes of which follow).
pub fn client_hello_head(record_len: u16) -> Vec<u8> {
    let mut v = vec![0x16, 0x03, 0x01];
    v.extend_from_slice(&record_len.to_be_bytes());
    let body = u32::from(record_len).saturating_sub(4).to_be_bytes();
    v.extend_from_slice(&[0x01, body[1], body[2], body[3], 0x03, 0x03]);
    v.extend_from_slice(&[0x5a; 32]);
    v
}

/// `n` connections, each a bare SYN to the RDP port (never answered).
pub fn syn_flood<W: Write>(out: W, n: u32) -> io::Result<W> {
    let mut w = PcapWriter::new(out, 65535)?;
    w.step_us = 1;
    for i in 0..n {
        Conn::new(i).syn(&mut w)?;
    }
    Ok(w.into_inner())
}

/// A SYN flood of `n` connections while one RDP connection, opened first, stays active: its
/// client sends a byte every 1000 SYNs, so it is never the least recently active flow.
pub fn syn_flood_beside_live_connection<W: Write>(out: W, n: u32) -> io::Result<W> {
    let mut w = PcapWriter::new(out, 65535)?;
    w.step_us = 1;
    let mut live = Conn::new(u32::MAX);
    live.handshake(&mut w)?;
    live.send(&mut w, true, CONNECTION_REQUEST)?;
    live.send(&mut w, false, CONNECTION_CONFIRM_SSL)?;
    for i in 0..n {
        Conn::new(i).syn(&mut w)?;
        if i % 1000 == 999 {
            live.send(&mut w, true, &[0x17])?;
        }
    }
    Ok(w.into_inner())
}

/// `n` TLS connections opened in turn, each left half-open after the X.224 exchange and the
/// first part of a ClientHello; the steps of all connections interleave.
pub fn half_open_tls<W: Write>(out: W, n: u32) -> io::Result<W> {
    let mut w = PcapWriter::new(out, 65535)?;
    w.step_us = 1;
    let mut conns: Vec<Conn> = (0..n).map(Conn::new).collect();
    let hello = client_hello_head(4000);
    for c in &mut conns {
        c.syn(&mut w)?;
    }
    for c in &mut conns {
        c.syn_ack(&mut w)?;
    }
    for c in &mut conns {
        c.send(&mut w, true, CONNECTION_REQUEST)?;
    }
    for c in &mut conns {
        c.send(&mut w, false, CONNECTION_CONFIRM_SSL)?;
    }
    for c in &mut conns {
        c.send(&mut w, true, &hello)?;
    }
    Ok(w.into_inner())
}

/// One RDP connection: handshake, the `steps` (`true` for the client's bytes), then both FINs.
pub fn one_connection<W: Write>(out: W, steps: &[(bool, &[u8])]) -> io::Result<W> {
    let mut w = PcapWriter::new(out, 65535)?;
    let mut c = Conn::new(7);
    c.handshake(&mut w)?;
    for (from_client, payload) in steps {
        c.send(&mut w, *from_client, payload)?;
    }
    c.fin(&mut w, true)?;
    c.fin(&mut w, false)?;
    Ok(w.into_inner())
}

/// A connection whose client stream of `segments` x `seg_len` bytes arrives as a burst in a
/// scrambled order with every third segment sent twice, the copy overlapping the next
/// segment by half and carrying different bytes.
pub fn ooo_burst<W: Write>(out: W, segments: u32, seg_len: u32) -> io::Result<W> {
    let mut w = PcapWriter::new(out, 65535)?;
    w.step_us = 1;
    let mut c = Conn::new(11);
    c.handshake(&mut w)?;
    c.send(&mut w, true, CONNECTION_REQUEST)?;
    c.send(&mut w, false, CONNECTION_CONFIRM_SSL)?;
    let len = usize::try_from(seg_len).unwrap_or(0);
    let data: Vec<u8> = (0..len)
        .map(|i| u8::try_from(i % 251).unwrap_or(0))
        .collect();
    let other = vec![0xee; len];
    // A fixed permutation: i -> i * 7919 mod segments (7919 is prime, coprime to the count
    // unless it divides it).
    let step = if segments % 7919 == 0 { 1 } else { 7919 };
    for k in 0..segments {
        let i = u32::try_from(u64::from(k) * step % u64::from(segments.max(1))).unwrap_or(0);
        c.send_at(&mut w, true, i * seg_len, &data)?;
        if k % 3 == 0 {
            c.send_at(&mut w, true, i * seg_len + seg_len / 2, &other)?;
        }
    }
    c.client_seq = c.client_seq.wrapping_add(segments * seg_len);
    c.fin(&mut w, true)?;
    c.fin(&mut w, false)?;
    Ok(w.into_inner())
}

/// `flows` connections opened one after the other, each sending `pieces` one-byte segments
/// per direction, every one beyond a hole: the first byte of each direction is never sent,
/// and the pieces sit at offsets 1, 3, 5 ... so no two of them touch. Every piece waits in
/// the out-of-order buffer until the capture ends, where the buffers are cheapest in bytes and
/// dearest in bookkeeping (with 256 pieces and 65,536 connections, 33.5 million pieces).
pub fn ooo_tiny_pieces<W: Write>(out: W, flows: u32, pieces: u32) -> io::Result<W> {
    let mut w = PcapWriter::new(out, 65535)?;
    w.step_us = 1;
    for i in 0..flows {
        let mut c = Conn::new(i);
        c.handshake(&mut w)?;
        for k in 0..pieces {
            let offset = k.wrapping_mul(2).wrapping_add(1);
            c.send_at(&mut w, true, offset, &[0x17])?;
            c.send_at(&mut w, false, offset, &[0x17])?;
        }
    }
    Ok(w.into_inner())
}

/// An X.224 Connection Request carrying the cookie `mstshash=USER` and an RDP_NEG_REQ for
/// SSL|HYBRID (MS-RDPBCGR 2.2.1.1).
pub fn connection_request(user: &str) -> Vec<u8> {
    let cookie = format!("Cookie: mstshash={user}\r\n");
    // The TPDU after the length indicator: code, DST-REF, SRC-REF, class (6 bytes), the
    // cookie, the 8-byte RDP_NEG_REQ.
    let li = 6 + cookie.len() + 8;
    let total = u16::try_from(4 + 1 + li).unwrap_or(u16::MAX);
    let mut v = vec![0x03, 0x00];
    v.extend_from_slice(&total.to_be_bytes());
    v.push(u8::try_from(li).unwrap_or(u8::MAX));
    v.extend_from_slice(&[0xe0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(cookie.as_bytes());
    v.extend_from_slice(&[0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]);
    v
}

/// One connection attempt of [`x224_attempts`]: who connects where, as which user.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub client: SocketAddrV4,
    pub server: SocketAddrV4,
    pub user: String,
}

/// One short connection per attempt, `step_us` apart: SYN, SYN-ACK, the X.224 Connection
/// Request (with the attempt's cookie), then the server's RST, as a server that drops
/// unwanted clients (or a guessing tool that moves on) would show.
pub fn x224_attempts<W: Write>(
    out: W,
    attempts: impl IntoIterator<Item = Attempt>,
    step_us: u64,
) -> io::Result<W> {
    let mut w = PcapWriter::new(out, 65535)?;
    w.step_us = (step_us / 4).max(1);
    for (i, a) in (0u32..).zip(attempts) {
        let mut c = Conn {
            client: a.client,
            server: a.server,
            client_seq: 1_000_000u32.wrapping_mul(i | 1),
            server_seq: 7_000_000u32.wrapping_mul(i | 1),
        };
        c.syn(&mut w)?;
        c.syn_ack(&mut w)?;
        c.send(&mut w, true, &connection_request(&a.user))?;
        c.rst(&mut w, false)?;
    }
    Ok(w.into_inner())
}

/// Password guessing: `n` attempts from one client address (ports from 1024 on, reused past
/// 60,000 connections) to one server, each with a different user name (`u0`, `u1`, ...),
/// spread evenly over `span_ms`.
pub fn brute_force<W: Write>(out: W, n: u32, span_ms: u64) -> io::Result<W> {
    let client = client_addr(0);
    let attempts = (0..n).map(move |i| Attempt {
        client: SocketAddrV4::new(*client.ip(), 1024 + u16::try_from(i % 60_000).unwrap_or(0)),
        server: server_addr(),
        user: format!("u{i}"),
    });
    x224_attempts(out, attempts, span_ms * 1000 / u64::from(n.max(1)))
}

/// A guessing flood from many addresses: `n` clients (11.0.0.0, 11.0.0.1, ...) each make one
/// attempt on the server with a user name of their own, spread evenly over `span_ms`.
pub fn x224_from_many_clients<W: Write>(out: W, n: u32, span_ms: u64) -> io::Result<W> {
    let attempts = (0..n).map(|i| Attempt {
        client: SocketAddrV4::new(Ipv4Addr::from(0x0b00_0000 + i), 40_000),
        server: server_addr(),
        user: format!("user{i}"),
    });
    x224_attempts(out, attempts, span_ms * 1000 / u64::from(n.max(1)))
}

/// A sweep: one client address makes one attempt on each of `n` servers (12.0.0.0,
/// 12.0.0.1, ... on port 3389), each with a user name of its own, spread evenly over
/// `span_ms`.
pub fn x224_to_many_servers<W: Write>(out: W, n: u32, span_ms: u64) -> io::Result<W> {
    let client = client_addr(0);
    let attempts = (0..n).map(move |i| Attempt {
        client: SocketAddrV4::new(*client.ip(), 1024 + u16::try_from(i % 60_000).unwrap_or(0)),
        server: SocketAddrV4::new(Ipv4Addr::from(0x0c00_0000 + i), 3389),
        user: format!("user{i}"),
    });
    x224_attempts(out, attempts, span_ms * 1000 / u64::from(n.max(1)))
}

/// Password spraying: one client address tries `servers` servers (10.255.1.1, 10.255.1.2, ...
/// on port 3389) in turn, `per_server` times each, every attempt with the user name of the
/// round (`admin` first, then `admin1`, ...), `step_ms` apart.
pub fn password_spray<W: Write>(
    out: W,
    servers: u32,
    per_server: u32,
    step_ms: u64,
) -> io::Result<W> {
    let client = client_addr(0);
    let attempts = (0..per_server).flat_map(move |round| {
        (0..servers).map(move |s| Attempt {
            client: SocketAddrV4::new(
                *client.ip(),
                1024 + u16::try_from((round * servers + s) % 60_000).unwrap_or(0),
            ),
            server: SocketAddrV4::new(Ipv4Addr::from(0x0aff_0101 + s), 3389),
            user: if round == 0 {
                "admin".to_string()
            } else {
                format!("admin{round}")
            },
        })
    });
    x224_attempts(out, attempts, step_ms * 1000)
}

/// A TLS 1.2 ClientHello handshake message (header included) offering `suites` cipher suites
/// (the values 0x0001, 0x0002, ... in order; GREASE values among them), with SNI
/// `rdp.example`, supported_groups, signature_algorithms and supported_versions. At most
/// 32,700 suites fit the 64 KiB a handshake message may have.
pub fn client_hello_with_suites(suites: u16) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0);
    body.extend_from_slice(&suites.saturating_mul(2).to_be_bytes());
    for s in 1..=suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]);
    let mut ext = Vec::new();
    let sni = b"rdp.example";
    let sni_len = u16::try_from(sni.len()).unwrap_or(0);
    ext.extend_from_slice(&[0, 0]);
    ext.extend_from_slice(&(sni_len + 5).to_be_bytes());
    ext.extend_from_slice(&(sni_len + 3).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&sni_len.to_be_bytes());
    ext.extend_from_slice(sni);
    // supported_groups: x25519, secp256r1, secp384r1.
    ext.extend_from_slice(&[0, 0x0a, 0, 8, 0, 6, 0, 0x1d, 0, 0x17, 0, 0x18]);
    // signature_algorithms: rsa_pss_rsae_sha256, rsa_pkcs1_sha256.
    ext.extend_from_slice(&[0, 0x0d, 0, 6, 0, 4, 0x08, 0x04, 0x04, 0x01]);
    // supported_versions: TLS 1.3, TLS 1.2.
    ext.extend_from_slice(&[0, 0x2b, 0, 5, 4, 3, 4, 3, 3]);
    body.extend_from_slice(&u16::try_from(ext.len()).unwrap_or(0).to_be_bytes());
    body.extend_from_slice(&ext);
    let len = u32::try_from(body.len()).unwrap_or(0).to_be_bytes();
    let mut msg = vec![0x01, len[1], len[2], len[3]];
    msg.extend_from_slice(&body);
    msg
}

/// `n` TLS connections left open after a ClientHello offering `suites` cipher suites (sent in
/// 16 KiB handshake records, one per segment): every connection's facts stay live until the
/// end of the capture.
pub fn big_client_hellos<W: Write>(out: W, n: u32, suites: u16) -> io::Result<W> {
    let mut w = PcapWriter::new(out, 65535)?;
    w.step_us = 1;
    let hello = client_hello_with_suites(suites);
    let records: Vec<Vec<u8>> = hello
        .chunks(16 * 1024)
        .map(|chunk| {
            let mut r = vec![0x16, 0x03, 0x01];
            r.extend_from_slice(&u16::try_from(chunk.len()).unwrap_or(0).to_be_bytes());
            r.extend_from_slice(chunk);
            r
        })
        .collect();
    for i in 0..n {
        let mut c = Conn::new(i);
        c.syn(&mut w)?;
        c.syn_ack(&mut w)?;
        c.send(&mut w, true, CONNECTION_REQUEST)?;
        c.send(&mut w, false, CONNECTION_CONFIRM_SSL)?;
        for r in &records {
            c.send(&mut w, true, r)?;
        }
    }
    Ok(w.into_inner())
}

/// A pcapng file: a section header, one Ethernet interface, one good Enhanced Packet Block
/// (a SYN), then a block whose total length claims `claimed` bytes.
pub fn pcapng_absurd_block(claimed: u32) -> Vec<u8> {
    // The time and sequence number the hand-written block had (2025-09-30T07:50:04.4416Z).
    let mut c = Conversation::new(client_addr(3).into(), server_addr().into())
        .with_clock(Timestamp(1_759_218_604_441_600_000), 0);
    c.next_seq = [3_000_000, 21_000_000];
    c.syn();
    let mut v = c.into_packets().to_pcapng(None);
    // The absurd block: an EPB header claiming `claimed` bytes, followed by a few bytes.
    v.extend_from_slice(&6u32.to_le_bytes());
    v.extend_from_slice(&claimed.to_le_bytes());
    v.extend_from_slice(&[0; 24]);
    v
}

/// A pcap file whose only record header claims `claimed` bytes, followed by 64 bytes and the
/// end of the file.
pub fn pcap_lying_record(claimed: u32) -> Vec<u8> {
    let mut v = PcapWriter::new(Vec::new(), 65535)
        .map(PcapWriter::into_inner)
        .unwrap_or_default();
    v.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(&claimed.to_le_bytes());
    v.extend_from_slice(&claimed.to_le_bytes());
    v.extend_from_slice(&[0; 64]);
    v
}

/// The components a packet passes on the host Packet Monitor runs on, as pcapng interfaces:
/// the network adapter, a filter driver and a vSwitch port (Ethernet), then TCP/IP, which
/// logs the IP packet alone (LINKTYPE_RAW).
pub const PKTMON_COMPONENTS: [u16; 4] = [1, 1, 1, 101];

/// A classic pcap of Ethernet frames (either byte order, micro- or nanoseconds) rewritten as
/// `pktmon etl2pcap` would have written it had Packet Monitor captured it: a pcapng with one
/// interface per component (`PKTMON_COMPONENTS`), every packet written once per component it
/// passed (2, 3, 4, 2, 3, 4 ... times), 2.3 µs apart, the first at the packet's own time. A
/// packet from the first packet's sender is received (adapter first, TCP/IP last), one from
/// the other end is sent (TCP/IP first). `None` when `pcap` is not such a file.
pub fn pktmon_copies(pcap: &[u8]) -> Option<Vec<u8>> {
    let contents = kit::read(pcap).ok()?;
    if contents.pcapng || contents.frames.iter().any(|f| f.link != Linktype::ETHERNET) {
        return None;
    }
    let mut w = CaptureWriter::new(Vec::new(), Format::Pcapng, 0).ok()?;
    for linktype in PKTMON_COMPONENTS {
        w.interface(Linktype(i32::from(linktype)), 0).ok()?;
    }
    let mut first_sender = None;
    for (index, f) in contents.frames.iter().enumerate() {
        let frame = f.data.as_slice();
        let sender = tcp_sender(frame);
        let received = *first_sender.get_or_insert_with(|| sender.clone()) == sender;
        let path: [usize; 4] = if received { [0, 1, 2, 3] } else { [3, 2, 1, 0] };
        let copies = 2 + index % 3;
        let is_ip = matches!(frame.get(12..14), Some([0x08, 0x00] | [0x86, 0xdd]));
        for (k, component) in path.iter().take(copies).enumerate() {
            let (data, origlen) = if PKTMON_COMPONENTS.get(*component) == Some(&101) {
                if !is_ip {
                    continue;
                }
                (frame.get(14..)?, f.orig_len.saturating_sub(14))
            } else {
                (frame, f.orig_len)
            };
            let t = Timestamp(f.ts.0.saturating_add(2_300 * i64::try_from(k).ok()?));
            w.record(u32::try_from(*component).ok()?, t, data, origlen)
                .ok()?;
        }
    }
    Some(w.into_inner())
}

/// The source address and port of an Ethernet frame carrying TCP over IPv4 (without options)
/// or IPv6 (without extension headers); empty for anything else.
fn tcp_sender(frame: &[u8]) -> Vec<u8> {
    let (addr, port) = match frame.get(12..14) {
        Some([0x08, 0x00]) => (frame.get(26..30), frame.get(34..36)),
        Some([0x86, 0xdd]) => (frame.get(22..38), frame.get(54..56)),
        _ => (None, None),
    };
    [addr.unwrap_or_default(), port.unwrap_or_default()].concat()
}

/// A pcap file in pieces: its file header and its records (each record header and data),
/// as [`kit::read`] finds them. A record cut short ends the list.
pub fn pcap_records(capture: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let header = capture.get(..24).unwrap_or_default().to_vec();
    let (contents, _) = kit::read_lenient(capture);
    let records = contents
        .frames
        .iter()
        .filter_map(|f| {
            let end = f.offset.checked_add(16)?.checked_add(f.data.len())?;
            capture.get(f.offset..end).map(<[u8]>::to_vec)
        })
        .collect();
    (header, records)
}

/// Compressed forms of test inputs, as the tools write them (see `input::decompress`).
pub mod compress {
    use std::io::{Read as _, Write as _};

    /// As `gzip` writes it.
    pub fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = enc.write_all(data);
        enc.finish().unwrap_or_default()
    }

    /// As the `zstd` tool writes it: with the content checksum.
    pub fn zstd(data: &[u8]) -> Vec<u8> {
        let Ok(mut enc) = zstd::stream::write::Encoder::new(Vec::new(), 3) else {
            return Vec::new();
        };
        let _ = enc.include_checksum(true);
        let _ = enc.write_all(data);
        enc.finish().unwrap_or_default()
    }

    /// As `xz` writes it (preset 6).
    pub fn xz(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = liblzma::read::XzEncoder::new(data, 6).read_to_end(&mut out);
        out
    }
}
