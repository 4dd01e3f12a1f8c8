//! The capture writer: pcapng (draft-ietf-opsawg-pcapng-03: Section Header, Interface
//! Description, Enhanced, Simple and obsolete Packet, Decryption Secrets Blocks) or classic pcap
//! (draft-ietf-opsawg-pcap-04). Little-endian as the writing tools on x86 produce, unless a
//! file or section asks for big-endian, as captures written on SPARC or POWER hosts are.

use std::io::{self, Write};

use pcap_parser::Linktype;
use rdp_wire::Timestamp;

use super::conversation::Packet;

/// Section Header Block type (pcapng 4.1).
const SHB: u32 = 0x0a0d_0d0a;
/// Its byte-order magic.
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
/// Interface Description Block type (pcapng 4.2).
const IDB: u32 = 1;
/// The obsolete Packet Block type (pcapng appendix A).
const PB: u32 = 2;
/// Simple Packet Block type (pcapng 4.4).
const SPB: u32 = 3;
/// Enhanced Packet Block type (pcapng 4.3).
const EPB: u32 = 6;
/// Decryption Secrets Block type (pcapng 4.7).
const DSB: u32 = 0x0000_000a;
/// Secrets type of an NSS key log (pcapng 4.7: `TLSK`).
pub const SECRETS_TLS_KEY_LOG: u32 = 0x544c_534b;
/// Interface option codes (pcapng 4.2): `opt_endofopt`, `if_tsresol`, `if_tsoffset`.
const OPT_ENDOFOPT: u16 = 0;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;
const NANOS_PER_SEC: u128 = 1_000_000_000;

/// The byte order of a classic pcap file or of one pcapng section (pcap 4, pcapng 4.1: the
/// writer's native order, which the magic number tells the reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ByteOrder {
    /// Least significant byte first (x86, ARM).
    #[default]
    Little,
    /// Most significant byte first (SPARC, POWER, network order).
    Big,
}

impl ByteOrder {
    fn u16(self, v: u16) -> [u8; 2] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }

    fn u32(self, v: u32) -> [u8; 4] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }

    fn u64(self, v: u64) -> [u8; 8] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }
}

/// The timestamp options of a pcapng interface (pcapng 4.2), which say how the readers turn
/// a packet's 64-bit timestamp into a time: `units` per second counted from `tsoffset`
/// seconds past the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InterfaceOptions {
    /// `if_tsresol`: 10^-n seconds, or 2^-n when the top bit is set; absent means
    /// microseconds (6).
    pub tsresol: Option<u8>,
    /// `if_tsoffset`: seconds added to every timestamp of the interface; absent means 0.
    pub tsoffset: Option<i64>,
}

impl InterfaceOptions {
    /// What [`CaptureWriter::interface`] gives every interface: nanoseconds, no offset.
    pub const NANOS: InterfaceOptions = InterfaceOptions {
        tsresol: Some(9),
        tsoffset: None,
    };

    /// Timestamp units per second, if `u64` holds them.
    pub(super) fn units_per_sec(self) -> Option<u64> {
        match self.tsresol {
            None => Some(1_000_000),
            Some(r) if r & 0x80 != 0 => 1u64.checked_shl(u32::from(r & 0x7f)),
            Some(r) => 10u64.checked_pow(u32::from(r)),
        }
    }

    /// `ts` in this interface's units past its offset: what an Enhanced Packet Block holds.
    fn ticks(self, ts: Timestamp) -> io::Result<u64> {
        let units = self
            .units_per_sec()
            .ok_or_else(|| invalid("a resolution finer than 2^-63 s"))?;
        let offset = i128::from(self.tsoffset.unwrap_or(0)).saturating_mul(1_000_000_000);
        let since = i128::from(ts.as_nanos()).saturating_sub(offset);
        let since = u128::try_from(since)
            .map_err(|_| invalid("a time before 1970 or the interface's offset"))?;
        since
            .checked_mul(u128::from(units))
            .and_then(|n| n.checked_div(NANOS_PER_SEC))
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| invalid("a time beyond 64 bits of units"))
    }
}

/// Classic pcap timestamp resolution, which its magic number tells (pcap 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Magic 0xa1b2c3d4: microseconds.
    Micro,
    /// Magic 0xa1b23c4d: nanoseconds.
    Nano,
}

/// Which file format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// pcapng: interfaces are described as packets of a new link type come, all with
    /// nanosecond timestamps; TLS key logs may be embedded.
    Pcapng,
    /// Classic pcap of one link type, which the file header names.
    Pcap(Linktype, Resolution),
}

/// A capture file being written to `W`.
///
/// ```
/// use rdp_pcap::kit::{CaptureWriter, Format, Packet};
/// use rdp_wire::Timestamp;
/// use pcap_parser::Linktype;
///
/// let mut w = CaptureWriter::new(Vec::new(), Format::Pcapng, 0)?;
/// w.tls_key_log(b"CLIENT_RANDOM 00 11\n")?;
/// w.packet(&Packet::raw(Timestamp(1_000_000_000), Linktype::ETHERNET, vec![0; 60]))?;
/// let bytes = w.into_inner();
/// // A 28-byte SHB, a 40-byte DSB, a 32-byte IDB, a 92-byte EPB.
/// assert_eq!(bytes.len(), 28 + 40 + 32 + 92);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct CaptureWriter<W: Write> {
    out: W,
    format: Format,
    snaplen: u32,
    /// The byte order of the file (classic pcap) or of the current section (pcapng).
    order: ByteOrder,
    /// pcapng: the link type and options of each interface of the current section, by
    /// interface id.
    interfaces: Vec<(Linktype, InterfaceOptions)>,
}

impl<W: Write> CaptureWriter<W> {
    /// Starts a little-endian file: writes the pcap file header or the pcapng Section
    /// Header Block. Frames longer than `snaplen` are cut as a capture would (0: never).
    pub fn new(out: W, format: Format, snaplen: u32) -> io::Result<Self> {
        Self::with_byte_order(out, format, snaplen, ByteOrder::Little)
    }

    /// [`CaptureWriter::new`] in byte order `order`: of the whole file for a classic pcap,
    /// of the first section for a pcapng.
    ///
    /// ```
    /// use rdp_pcap::kit::{ByteOrder, CaptureWriter, Format, Resolution};
    /// use pcap_parser::Linktype;
    ///
    /// let format = Format::Pcap(Linktype::ETHERNET, Resolution::Nano);
    /// let w = CaptureWriter::with_byte_order(Vec::new(), format, 65_535, ByteOrder::Big)?;
    /// // The nanosecond magic, most significant byte first (pcap 4).
    /// assert_eq!(w.into_inner()[..4], [0xa1, 0xb2, 0x3c, 0x4d]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_byte_order(
        out: W,
        format: Format,
        snaplen: u32,
        order: ByteOrder,
    ) -> io::Result<Self> {
        let mut w = CaptureWriter {
            out,
            format,
            snaplen,
            order,
            interfaces: Vec::new(),
        };
        match format {
            Format::Pcapng => w.section(order)?,
            Format::Pcap(link, resolution) => {
                let magic: u32 = match resolution {
                    Resolution::Micro => 0xa1b2_c3d4,
                    Resolution::Nano => 0xa1b2_3c4d,
                };
                let mut header = [0u8; 24];
                put(&mut header, 0, &order.u32(magic));
                put(&mut header, 4, &order.u16(2));
                put(&mut header, 6, &order.u16(4));
                put(&mut header, 16, &order.u32(snaplen));
                put(&mut header, 20, &order.u32(linktype_u32(link)?));
                w.out.write_all(&header)?;
            }
        }
        Ok(w)
    }

    /// Starts a new pcapng section (pcapng 4.1) in byte order `order`: every block after it
    /// is written in that order, and its interfaces are numbered from 0 again (the ones of
    /// the sections before are gone, as for the readers).
    pub fn section(&mut self, order: ByteOrder) -> io::Result<()> {
        if self.format != Format::Pcapng {
            return Err(unsupported("sections"));
        }
        self.order = order;
        self.interfaces.clear();
        let mut body = [0u8; 16];
        put(&mut body, 0, &order.u32(BYTE_ORDER_MAGIC));
        put(&mut body, 4, &order.u16(1));
        // Minor version 0; section length -1: not given.
        put(&mut body, 8, &u64::MAX.to_le_bytes());
        self.block(SHB, &body)
    }

    /// Describes a new pcapng interface of type `link` (snapshot length `snaplen`,
    /// nanosecond timestamps) and returns its id, for [`CaptureWriter::record`]: several
    /// interfaces of one link type are how Packet Monitor logs one packet at several
    /// components.
    pub fn interface(&mut self, link: Linktype, snaplen: u32) -> io::Result<u32> {
        self.interface_with(link, snaplen, InterfaceOptions::NANOS)
    }

    /// [`CaptureWriter::interface`] with the timestamp options `options` (pcapng 4.2): no
    /// option at all (microseconds), a coarser or binary resolution, an offset. The packets
    /// recorded on it are converted to its units.
    ///
    /// ```
    /// use rdp_pcap::kit::{self, ByteOrder, CaptureWriter, Format, InterfaceOptions};
    /// use rdp_wire::Timestamp;
    /// use pcap_parser::Linktype;
    ///
    /// let mut w = CaptureWriter::with_byte_order(Vec::new(), Format::Pcapng, 0, ByteOrder::Big)?;
    /// // 2^-20 s units, counted from 100 s past the epoch.
    /// let options = InterfaceOptions { tsresol: Some(0x80 | 20), tsoffset: Some(100) };
    /// let id = w.interface_with(Linktype::RAW, 0, options)?;
    /// w.record(id, Timestamp::from_secs_nanos(103, 500_000_000), &[0x45; 20], 20)?;
    /// let bytes = w.into_inner();
    /// // The Enhanced Packet Block's timestamp: 3.5 s of 2^-20 s, high word then low word.
    /// assert_eq!(bytes[28 + 44 + 12..][..8], [0, 0, 0, 0, 0, 0x38, 0, 0]);
    /// let back = kit::read(&bytes).unwrap();
    /// assert_eq!(back.frames[0].ts, Timestamp::from_secs_nanos(103, 500_000_000));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn interface_with(
        &mut self,
        link: Linktype,
        snaplen: u32,
        options: InterfaceOptions,
    ) -> io::Result<u32> {
        if self.format != Format::Pcapng {
            return Err(unsupported("interfaces"));
        }
        let id =
            u32::try_from(self.interfaces.len()).map_err(|_| unsupported("2^32 interfaces"))?;
        let link16 = u16::try_from(link.0).map_err(|_| invalid("link type beyond 16 bits"))?;
        let order = self.order;
        let mut body = Vec::with_capacity(32);
        body.extend_from_slice(&order.u16(link16));
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&order.u32(snaplen));
        let mut option = |code: u16, value: &[u8]| {
            body.extend_from_slice(&order.u16(code));
            // INVARIANT: the values below are 0, 1 or 8 bytes long.
            body.extend_from_slice(&order.u16(u16::try_from(value.len()).unwrap_or(0)));
            body.extend_from_slice(value);
            let padded = value.len().next_multiple_of(4);
            body.extend_from_slice(
                [0u8; 3]
                    .get(..padded.saturating_sub(value.len()))
                    .unwrap_or_default(),
            );
        };
        if let Some(r) = options.tsresol {
            option(IF_TSRESOL, &[r]);
        }
        if let Some(secs) = options.tsoffset {
            option(
                IF_TSOFFSET,
                &order.u64(u64::from_le_bytes(secs.to_le_bytes())),
            );
        }
        if options.tsresol.is_some() || options.tsoffset.is_some() {
            option(OPT_ENDOFOPT, &[]);
        }
        self.block(IDB, &body)?;
        self.interfaces.push((link, options));
        Ok(id)
    }

    /// One packet, cut at the snapshot length; in a pcapng, on the first interface of its
    /// link type (described now, with nanoseconds, if none is).
    pub fn packet(&mut self, p: &Packet) -> io::Result<()> {
        let orig = u32::try_from(p.frame.len()).unwrap_or(u32::MAX);
        let interface = match self.format {
            Format::Pcap(link, _) if link == p.link => 0,
            Format::Pcap(..) => return Err(invalid("a second link type in a classic pcap")),
            Format::Pcapng => match self.interfaces.iter().position(|(l, _)| *l == p.link) {
                Some(i) => u32::try_from(i).unwrap_or(u32::MAX),
                None => self.interface(p.link, self.snaplen)?,
            },
        };
        self.record(interface, p.ts, &p.frame, orig)
    }

    /// The escape hatch for records as written by other tools: `data` (cut at the snapshot
    /// length) on `interface` (ignored in a classic pcap), claiming `orig_len` bytes on the
    /// wire. In a pcapng, an Enhanced Packet Block whose timestamp is in the interface's
    /// units; an interface not described (which readers must survive) counts nanoseconds.
    pub fn record(
        &mut self,
        interface: u32,
        ts: Timestamp,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let cut = self.cut(data);
        let incl = u32::try_from(cut.len()).map_err(|_| invalid("a frame beyond 4 GiB"))?;
        let order = self.order;
        match self.format {
            Format::Pcap(_, resolution) => {
                let secs =
                    u32::try_from(ts.secs()).map_err(|_| invalid("a time beyond 1970-2106"))?;
                let frac = match resolution {
                    Resolution::Micro => ts.subsec_nanos() / 1000,
                    Resolution::Nano => ts.subsec_nanos(),
                };
                let mut head = [0u8; 16];
                put(&mut head, 0, &order.u32(secs));
                put(&mut head, 4, &order.u32(frac));
                put(&mut head, 8, &order.u32(incl));
                put(&mut head, 12, &order.u32(orig_len));
                self.out.write_all(&head)?;
                self.out.write_all(cut)
            }
            Format::Pcapng => {
                let units = self.ticks(interface, ts)?;
                let mut head = [0u8; 20];
                put(&mut head, 0, &order.u32(interface));
                put(&mut head, 4, &order.u32(high(units)));
                put(&mut head, 8, &order.u32(low(units)));
                put(&mut head, 12, &order.u32(incl));
                put(&mut head, 16, &order.u32(orig_len));
                block_to(&mut self.out, order, EPB, &[&head, cut])
            }
        }
    }

    /// A Simple Packet Block (pcapng 4.4): `data` (cut at the snapshot length) claiming
    /// `orig_len` bytes, on interface 0, with no timestamp (readers keep the time of the
    /// packet before). pcapng only.
    pub fn simple_packet(&mut self, data: &[u8], orig_len: u32) -> io::Result<()> {
        if self.format != Format::Pcapng {
            return Err(unsupported("simple packets"));
        }
        let cut = self.cut(data);
        let order = self.order;
        block_to(&mut self.out, order, SPB, &[&order.u32(orig_len), cut])
    }

    /// An obsolete Packet Block (pcapng appendix A), as old writers still produce: like
    /// [`CaptureWriter::record`], with a 16-bit interface id and a drops count of 0.
    /// pcapng only.
    pub fn obsolete_packet(
        &mut self,
        interface: u16,
        ts: Timestamp,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        if self.format != Format::Pcapng {
            return Err(unsupported("packet blocks"));
        }
        let units = self.ticks(u32::from(interface), ts)?;
        let cut = self.cut(data);
        let incl = u32::try_from(cut.len()).map_err(|_| invalid("a frame beyond 4 GiB"))?;
        let order = self.order;
        let mut head = [0u8; 20];
        put(&mut head, 0, &order.u16(interface));
        put(&mut head, 4, &order.u32(high(units)));
        put(&mut head, 8, &order.u32(low(units)));
        put(&mut head, 12, &order.u32(incl));
        put(&mut head, 16, &order.u32(orig_len));
        block_to(&mut self.out, order, PB, &[&head, cut])
    }

    /// A Decryption Secrets Block holding `key_log`, NSS key log text (`CLIENT_RANDOM ...`
    /// lines), as `editcap --inject-secrets` writes it and Wireshark reads it to decrypt the
    /// TLS sessions of the file (the tool's reader returns it in
    /// `CaptureSummary::tls_key_logs`). pcapng only.
    pub fn tls_key_log(&mut self, key_log: &[u8]) -> io::Result<()> {
        self.decryption_secrets(SECRETS_TLS_KEY_LOG, key_log)
    }

    /// A Decryption Secrets Block (pcapng 4.7) of any secrets type (`TLSK`
    /// [`SECRETS_TLS_KEY_LOG`], `WGKL` WireGuard keys, ...). pcapng only.
    pub fn decryption_secrets(&mut self, secrets_type: u32, secrets: &[u8]) -> io::Result<()> {
        if self.format != Format::Pcapng {
            return Err(unsupported("decryption secrets"));
        }
        let len = u32::try_from(secrets.len()).map_err(|_| invalid("secrets beyond 4 GiB"))?;
        let order = self.order;
        let mut head = [0u8; 8];
        put(&mut head, 0, &order.u32(secrets_type));
        put(&mut head, 4, &order.u32(len));
        block_to(&mut self.out, order, DSB, &[&head, secrets])
    }

    /// A pcapng block of any type around `body` (padded to 32 bits), in the section's byte
    /// order, for block types the writer has no method for.
    pub fn block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        if self.format != Format::Pcapng {
            return Err(unsupported("blocks"));
        }
        block_to(&mut self.out, self.order, block_type, &[body])
    }

    /// Bytes as they are, for files no writer would produce (records that lie about their
    /// length, blocks cut short).
    pub fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    /// The underlying writer (flushed when it buffers).
    pub fn into_inner(mut self) -> W {
        let _ = self.out.flush();
        self.out
    }

    /// `data` cut at the snapshot length.
    fn cut<'d>(&self, data: &'d [u8]) -> &'d [u8] {
        match usize::try_from(self.snaplen) {
            Ok(n) if n > 0 && n < data.len() => data.get(..n).unwrap_or(data),
            _ => data,
        }
    }

    /// `ts` in the units of pcapng interface `interface` of the current section.
    fn ticks(&self, interface: u32, ts: Timestamp) -> io::Result<u64> {
        let options = usize::try_from(interface)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .map_or(InterfaceOptions::NANOS, |(_, o)| *o);
        options.ticks(ts)
    }
}

/// Every packet of `packets` as a classic pcap (microseconds, no snapshot length cut); every
/// packet must be of link type `link`.
pub fn to_pcap(link: Linktype, packets: &[Packet]) -> io::Result<Vec<u8>> {
    let mut w = CaptureWriter::new(Vec::new(), Format::Pcap(link, Resolution::Micro), 65_535)?;
    for p in packets {
        w.packet(p)?;
    }
    Ok(w.into_inner())
}

/// One pcapng block: type, total length, the parts, padding to 32 bits, total length again.
fn block_to(
    out: &mut impl Write,
    order: ByteOrder,
    block_type: u32,
    parts: &[&[u8]],
) -> io::Result<()> {
    let body = parts.iter().try_fold(0usize, |n, p| n.checked_add(p.len()));
    let padded = body.and_then(|n| n.checked_next_multiple_of(4));
    let total = padded
        .and_then(|n| n.checked_add(12))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| invalid("a block beyond 4 GiB"))?;
    out.write_all(&order.u32(block_type))?;
    out.write_all(&order.u32(total))?;
    for p in parts {
        out.write_all(p)?;
    }
    let pad = padded.unwrap_or(0).saturating_sub(body.unwrap_or(0));
    out.write_all([0u8; 3].get(..pad).unwrap_or_default())?;
    out.write_all(&order.u32(total))
}

/// Copies `bytes` into `buf` at `at` (a no-op past the end: the callers' offsets are fixed).
fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at.saturating_add(bytes.len())) {
        dst.copy_from_slice(bytes);
    }
}

fn high(units: u64) -> u32 {
    u32::try_from(units >> 32).unwrap_or(u32::MAX)
}

fn low(units: u64) -> u32 {
    u32::try_from(units & 0xffff_ffff).unwrap_or(0)
}

fn linktype_u32(link: Linktype) -> io::Result<u32> {
    u32::try_from(link.0).map_err(|_| invalid("a negative link type"))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("cannot write {what}"))
}

fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("a classic pcap has no {what}"),
    )
}
