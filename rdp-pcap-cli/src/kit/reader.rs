//! The test reader: a whole pcap or pcapng file in memory, parsed by `pcap-parser`, as a list
//! of frames and the TLS key logs of its Decryption Secrets Blocks. Unlike
//! [`crate::capture`], it neither decodes nor bounds anything: it is for captures a test made
//! or picked, to check what a writer wrote or to take a recorded capture apart.

use pcap_parser::nom::Err as NomErr;
use pcap_parser::{
    parse_block_be, parse_block_le, parse_pcap_frame, parse_pcap_frame_be,
    parse_pcap_frame_modified, parse_pcap_header, Block, Linktype, OptionCode, PcapError,
    SecretsType,
};
use rdp_wire::Timestamp;

use super::writer::InterfaceOptions;
use crate::capture::CaptureProblem;

/// One packet record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Capture time (a Simple Packet Block has none: 0).
    pub ts: Timestamp,
    /// The interface's LINKTYPE_*.
    pub link: Linktype,
    /// The interface id within its pcapng section (0 in a classic pcap).
    pub interface: u32,
    /// The captured bytes, from the link header on.
    pub data: Vec<u8>,
    /// The packet's length on the wire.
    pub orig_len: u32,
    /// Where the record starts in the file.
    pub offset: usize,
}

/// What a capture file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contents {
    /// Every packet record, in file order.
    pub frames: Vec<Frame>,
    /// The secrets of every Decryption Secrets Block of type TLS key log, in file order.
    pub tls_key_logs: Vec<Vec<u8>>,
    /// A pcapng (else a classic pcap).
    pub pcapng: bool,
    /// Nanosecond (`true`) or microsecond timestamps (classic pcap; `true` for pcapng).
    pub nanos: bool,
    /// Where each record ends (the pcap file header and every pcapng block included), and
    /// whether it holds a packet: the places a cut leaves whole records only.
    pub record_ends: Vec<(usize, bool)>,
}

/// Reads a whole pcap or pcapng file. A file that ends inside a record is
/// [`CaptureProblem::Truncated`]; anything `pcap-parser` rejects is
/// [`CaptureProblem::Corrupt`] or [`CaptureProblem::NotACapture`].
pub fn read(bytes: &[u8]) -> Result<Contents, CaptureProblem> {
    match read_lenient(bytes) {
        (contents, None) => Ok(contents),
        (_, Some(problem)) => Err(problem),
    }
}

/// [`read`] for captures that may be damaged (public ones are, at times): what precedes the
/// damage, and the problem that stopped reading.
pub fn read_lenient(bytes: &[u8]) -> (Contents, Option<CaptureProblem>) {
    let mut out = Contents::default();
    let stop = match bytes.get(..4) {
        None | Some([]) => Err(CaptureProblem::Empty),
        Some([0x0a, 0x0d, 0x0d, 0x0a]) => read_pcapng(bytes, &mut out),
        Some(_) => read_pcap(bytes, &mut out),
    };
    (out, stop.err())
}

fn read_pcap(bytes: &[u8], out: &mut Contents) -> Result<(), CaptureProblem> {
    let (mut rem, header) = parse_pcap_header(bytes).map_err(|_| not_a_capture(bytes))?;
    let parse = if header.is_modified_format() {
        parse_pcap_frame_modified
    } else if header.is_bigendian() {
        parse_pcap_frame_be
    } else {
        parse_pcap_frame
    };
    let nanos = header.is_nanosecond_precision();
    out.nanos = nanos;
    out.record_ends
        .push((bytes.len().saturating_sub(rem.len()), false));
    while !rem.is_empty() {
        let offset = bytes.len().saturating_sub(rem.len());
        let (next, rec) = parse(rem).map_err(|e| problem(e, offset, rem.len()))?;
        let frac = u64::from(rec.ts_usec).saturating_mul(if nanos { 1 } else { 1000 });
        out.frames.push(Frame {
            ts: Timestamp::from_secs_nanos(i64::from(rec.ts_sec), frac),
            link: header.network,
            interface: 0,
            data: rec.data.to_vec(),
            orig_len: rec.origlen,
            offset,
        });
        rem = next;
        out.record_ends
            .push((bytes.len().saturating_sub(rem.len()), true));
    }
    Ok(())
}

fn read_pcapng(bytes: &[u8], out: &mut Contents) -> Result<(), CaptureProblem> {
    out.pcapng = true;
    out.nanos = true;
    // Per interface of the current section: link type, units per second, offset in seconds.
    let mut interfaces: Vec<(Linktype, u64, i64)> = Vec::new();
    let mut big_endian = false;
    let mut rem = bytes;
    while !rem.is_empty() {
        let offset = bytes.len().saturating_sub(rem.len());
        let parsed = if big_endian {
            parse_block_be(rem)
        } else {
            parse_block_le(rem)
        };
        let (next, block) = parsed.map_err(|e| problem(e, offset, rem.len()))?;
        let end = bytes.len().saturating_sub(next.len());
        out.record_ends.push((end, block.is_data_block()));
        match block {
            Block::SectionHeader(shb) => {
                big_endian = shb.big_endian();
                interfaces.clear();
            }
            Block::InterfaceDescription(idb) => {
                // Not `idb.ts_resolution()`: pcap-parser 0.17 refuses every binary
                // resolution (it compares the byte, flag bit included, with 63).
                let resolution = InterfaceOptions {
                    tsresol: Some(idb.if_tsresol),
                    tsoffset: None,
                };
                let units = resolution.units_per_sec().unwrap_or(1_000_000);
                // Nor `idb.ts_offset()`: it reads `if_tsoffset` little-endian in every
                // section.
                let offset = idb
                    .options
                    .iter()
                    .filter(|o| o.code == OptionCode::IfTsoffset)
                    .find_map(|o| o.as_bytes().ok()?.get(..8)?.try_into().ok())
                    .map_or(0, |b: [u8; 8]| {
                        if big_endian {
                            i64::from_be_bytes(b)
                        } else {
                            i64::from_le_bytes(b)
                        }
                    });
                interfaces.push((idb.linktype, units, offset));
            }
            Block::EnhancedPacket(epb) => {
                let (link, units, secs) = interfaces
                    .get(usize::try_from(epb.if_id).unwrap_or(usize::MAX))
                    .copied()
                    .ok_or_else(|| corrupt(offset, "a packet on an undescribed interface"))?;
                let ticks = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let nanos =
                    u128::from(ticks % units.max(1)) * 1_000_000_000 / u128::from(units.max(1));
                let whole = i64::try_from(ticks / units.max(1)).unwrap_or(i64::MAX);
                out.frames.push(Frame {
                    ts: Timestamp::from_secs_nanos(
                        whole.saturating_add(secs),
                        u64::try_from(nanos).unwrap_or(0),
                    ),
                    link,
                    interface: epb.if_id,
                    data: cut(epb.data, epb.caplen),
                    orig_len: epb.origlen,
                    offset,
                });
            }
            Block::SimplePacket(spb) => {
                let (link, _, _) = interfaces
                    .first()
                    .copied()
                    .ok_or_else(|| corrupt(offset, "a packet before any interface"))?;
                out.frames.push(Frame {
                    ts: Timestamp(0),
                    link,
                    interface: 0,
                    // The block's data is padded to 32 bits: the original length ends it.
                    data: cut(spb.data, spb.origlen),
                    orig_len: spb.origlen,
                    offset,
                });
            }
            // pcap-parser hands an unknown block's type over as read little-endian, whatever
            // the section's byte order.
            Block::Unknown(pb)
                if (if big_endian {
                    pb.block_type.swap_bytes()
                } else {
                    pb.block_type
                }) == OBSOLETE_PACKET_BLOCK =>
            {
                if let Some(last) = out.record_ends.last_mut() {
                    last.1 = true;
                }
                let frame = obsolete_packet(pb.data, big_endian, &interfaces)
                    .ok_or_else(|| corrupt(offset, "a short or misplaced Packet Block"))?;
                out.frames.push(Frame { offset, ..frame });
            }
            Block::DecryptionSecrets(dsb) if dsb.secrets_type == SecretsType::TlsKeyLog => {
                out.tls_key_logs.push(cut(dsb.data, dsb.secrets_len));
            }
            _ => {}
        }
        rem = next;
    }
    Ok(())
}

/// The obsolete Packet Block (pcapng appendix A), which old writers still produce.
const OBSOLETE_PACKET_BLOCK: u32 = 2;

/// A Packet Block's body: interface id (16 bits), drops count (16 bits), timestamp (high,
/// low), captured length, packet length, data.
fn obsolete_packet(
    body: &[u8],
    big_endian: bool,
    interfaces: &[(Linktype, u64, i64)],
) -> Option<Frame> {
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = body.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let id_bytes: [u8; 2] = body.get(..2)?.try_into().ok()?;
    let id = if big_endian {
        u16::from_be_bytes(id_bytes)
    } else {
        u16::from_le_bytes(id_bytes)
    };
    let (link, units, secs) = *interfaces.get(usize::from(id))?;
    let ticks = (u64::from(u32_at(4)?) << 32) | u64::from(u32_at(8)?);
    let caplen = u32_at(12)?;
    Some(Frame {
        ts: ticks_to_time(ticks, units, secs),
        link,
        interface: u32::from(id),
        data: cut(body.get(20..)?, caplen),
        orig_len: u32_at(16)?,
        offset: 0,
    })
}

/// `ticks` of `units` per second after `secs` seconds past the epoch (pcapng 4.2
/// `if_tsresol`, `if_tsoffset`).
fn ticks_to_time(ticks: u64, units: u64, secs: i64) -> Timestamp {
    let units = units.max(1);
    let frac = u128::from(ticks % units) * 1_000_000_000 / u128::from(units);
    let whole = i64::try_from(ticks / units).unwrap_or(i64::MAX);
    Timestamp::from_secs_nanos(whole.saturating_add(secs), u64::try_from(frac).unwrap_or(0))
}

/// The first `len` bytes of padded block data.
fn cut(data: &[u8], len: u32) -> Vec<u8> {
    let n = usize::try_from(len).unwrap_or(usize::MAX).min(data.len());
    data.get(..n).unwrap_or(data).to_vec()
}

fn problem(e: NomErr<PcapError<&[u8]>>, offset: usize, left: usize) -> CaptureProblem {
    match e {
        NomErr::Incomplete(_) => CaptureProblem::Truncated {
            offset: u64::try_from(offset).unwrap_or(u64::MAX),
            bytes: u64::try_from(left).unwrap_or(u64::MAX),
        },
        NomErr::Error(e) | NomErr::Failure(e) => corrupt(offset, &format!("{e:?}")),
    }
}

fn corrupt(offset: usize, reason: &str) -> CaptureProblem {
    CaptureProblem::Corrupt {
        offset: u64::try_from(offset).unwrap_or(u64::MAX),
        reason: reason.to_string(),
    }
}

fn not_a_capture(bytes: &[u8]) -> CaptureProblem {
    let mut magic = [0u8; 4];
    for (d, s) in magic.iter_mut().zip(bytes) {
        *d = *s;
    }
    CaptureProblem::NotACapture {
        magic: u32::from_be_bytes(magic),
    }
}
