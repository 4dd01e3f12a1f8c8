//! The capture writer: pcapng (draft-ietf-opsawg-pcapng-03: Section Header, Interface
//! Description, Enhanced Packet and Decryption Secrets Blocks) or classic pcap
//! (draft-ietf-opsawg-pcap-04), little-endian as the writing tools on x86 produce.

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
/// Enhanced Packet Block type (pcapng 4.3).
const EPB: u32 = 6;
/// Decryption Secrets Block type (pcapng 4.7).
const DSB: u32 = 0x0000_000a;
/// Secrets type of an NSS key log (pcapng 4.7: `TLSK`).
pub const SECRETS_TLS_KEY_LOG: u32 = 0x544c_534b;
/// The interface options the writer gives every interface: `if_tsresol` = 9 (nanoseconds,
/// pcapng 4.2 option code 9), padding, then `opt_endofopt`.
const IDB_OPTIONS: [u8; 12] = [9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0];

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
    /// pcapng: the link type of each interface described so far, by interface id.
    interfaces: Vec<Linktype>,
}

impl<W: Write> CaptureWriter<W> {
    /// Starts a file: writes the pcap file header or the pcapng Section Header Block.
    /// Frames longer than `snaplen` are cut as a capture would (0: never).
    pub fn new(mut out: W, format: Format, snaplen: u32) -> io::Result<Self> {
        match format {
            Format::Pcapng => {
                let mut body = [0u8; 16];
                put(&mut body, 0, &BYTE_ORDER_MAGIC.to_le_bytes());
                put(&mut body, 4, &1u16.to_le_bytes());
                // Minor version 0; section length -1: not given.
                put(&mut body, 8, &u64::MAX.to_le_bytes());
                block_to(&mut out, SHB, &[&body])?;
            }
            Format::Pcap(link, resolution) => {
                let magic: u32 = match resolution {
                    Resolution::Micro => 0xa1b2_c3d4,
                    Resolution::Nano => 0xa1b2_3c4d,
                };
                let mut header = [0u8; 24];
                put(&mut header, 0, &magic.to_le_bytes());
                put(&mut header, 4, &2u16.to_le_bytes());
                put(&mut header, 6, &4u16.to_le_bytes());
                put(&mut header, 16, &snaplen.to_le_bytes());
                put(&mut header, 20, &linktype_u32(link)?.to_le_bytes());
                out.write_all(&header)?;
            }
        }
        Ok(CaptureWriter {
            out,
            format,
            snaplen,
            interfaces: Vec::new(),
        })
    }

    /// Describes a new pcapng interface of type `link` (snapshot length `snaplen`) and
    /// returns its id, for [`CaptureWriter::record`]: several interfaces of one link type
    /// are how Packet Monitor logs one packet at several components.
    pub fn interface(&mut self, link: Linktype, snaplen: u32) -> io::Result<u32> {
        if self.format != Format::Pcapng {
            return Err(unsupported("interfaces"));
        }
        let id =
            u32::try_from(self.interfaces.len()).map_err(|_| unsupported("2^32 interfaces"))?;
        let link16 = u16::try_from(link.0).map_err(|_| invalid("link type beyond 16 bits"))?;
        let mut head = [0u8; 8];
        put(&mut head, 0, &link16.to_le_bytes());
        put(&mut head, 4, &snaplen.to_le_bytes());
        block_to(&mut self.out, IDB, &[&head, &IDB_OPTIONS])?;
        self.interfaces.push(link);
        Ok(id)
    }

    /// One packet, cut at the snapshot length; in a pcapng, on the first interface of its
    /// link type (described now if none is).
    pub fn packet(&mut self, p: &Packet) -> io::Result<()> {
        let orig = u32::try_from(p.frame.len()).unwrap_or(u32::MAX);
        let interface = match self.format {
            Format::Pcap(link, _) if link == p.link => 0,
            Format::Pcap(..) => return Err(invalid("a second link type in a classic pcap")),
            Format::Pcapng => match self.interfaces.iter().position(|l| *l == p.link) {
                Some(i) => u32::try_from(i).unwrap_or(u32::MAX),
                None => self.interface(p.link, self.snaplen)?,
            },
        };
        self.record(interface, p.ts, &p.frame, orig)
    }

    /// The escape hatch for records as written by other tools: `data` (cut at the snapshot
    /// length) on `interface` (ignored in a classic pcap), claiming `orig_len` bytes on the
    /// wire.
    pub fn record(
        &mut self,
        interface: u32,
        ts: Timestamp,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let cut = match usize::try_from(self.snaplen) {
            Ok(n) if n > 0 && n < data.len() => data.get(..n).unwrap_or(data),
            _ => data,
        };
        let incl = u32::try_from(cut.len()).map_err(|_| invalid("a frame beyond 4 GiB"))?;
        match self.format {
            Format::Pcap(_, resolution) => {
                let secs =
                    u32::try_from(ts.secs()).map_err(|_| invalid("a time beyond 1970-2106"))?;
                let frac = match resolution {
                    Resolution::Micro => ts.subsec_nanos() / 1000,
                    Resolution::Nano => ts.subsec_nanos(),
                };
                let mut head = [0u8; 16];
                put(&mut head, 0, &secs.to_le_bytes());
                put(&mut head, 4, &frac.to_le_bytes());
                put(&mut head, 8, &incl.to_le_bytes());
                put(&mut head, 12, &orig_len.to_le_bytes());
                self.out.write_all(&head)?;
                self.out.write_all(cut)
            }
            Format::Pcapng => {
                let units =
                    u64::try_from(ts.as_nanos()).map_err(|_| invalid("a time before 1970"))?;
                let mut head = [0u8; 20];
                put(&mut head, 0, &interface.to_le_bytes());
                put(&mut head, 4, &high(units).to_le_bytes());
                put(&mut head, 8, &low(units).to_le_bytes());
                put(&mut head, 12, &incl.to_le_bytes());
                put(&mut head, 16, &orig_len.to_le_bytes());
                block_to(&mut self.out, EPB, &[&head, cut])
            }
        }
    }

    /// A Decryption Secrets Block holding `key_log`, NSS key log text (`CLIENT_RANDOM ...`
    /// lines), as `editcap --inject-secrets` writes it and Wireshark reads it to decrypt the
    /// TLS sessions of the file (the tool's reader returns it in
    /// `CaptureSummary::tls_key_logs`). pcapng only.
    pub fn tls_key_log(&mut self, key_log: &[u8]) -> io::Result<()> {
        if self.format != Format::Pcapng {
            return Err(unsupported("decryption secrets"));
        }
        let len = u32::try_from(key_log.len()).map_err(|_| invalid("secrets beyond 4 GiB"))?;
        let mut head = [0u8; 8];
        put(&mut head, 0, &SECRETS_TLS_KEY_LOG.to_le_bytes());
        put(&mut head, 4, &len.to_le_bytes());
        block_to(&mut self.out, DSB, &[&head, key_log])
    }

    /// A pcapng block of any type around `body` (padded to 32 bits), for block types the
    /// writer has no method for.
    pub fn block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        if self.format != Format::Pcapng {
            return Err(unsupported("blocks"));
        }
        block_to(&mut self.out, block_type, &[body])
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
fn block_to(out: &mut impl Write, block_type: u32, parts: &[&[u8]]) -> io::Result<()> {
    let body = parts.iter().try_fold(0usize, |n, p| n.checked_add(p.len()));
    let padded = body.and_then(|n| n.checked_next_multiple_of(4));
    let total = padded
        .and_then(|n| n.checked_add(12))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| invalid("a block beyond 4 GiB"))?;
    out.write_all(&block_type.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    for p in parts {
        out.write_all(p)?;
    }
    let pad = padded.unwrap_or(0).saturating_sub(body.unwrap_or(0));
    out.write_all([0u8; 3].get(..pad).unwrap_or_default())?;
    out.write_all(&total.to_le_bytes())
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
