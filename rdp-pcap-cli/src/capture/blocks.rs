//! Capture records: pcap headers and records, pcapng blocks, interfaces and timestamps, and
//! the per-packet bookkeeping (frame numbers, counters, problems).

use rdp_wire::Bump as _;
use rdp_wire::Saturate as _;
use std::collections::HashMap;

use pcap_parser::pcapng::{Block, OptionCode, SecretsType};
use pcap_parser::PcapBlockOwned;

use super::copies::Copies;
use super::defrag::{DefragLimits, Defragmenter};
use super::{
    link, CaptureFormat, CaptureLimits, CaptureProblem, CaptureStats, CaptureSummary, TcpPacket,
};
use rdp_wire::Timestamp;

/// The obsolete pcapng Packet Block (type 2), superseded by the EPB but still readable.
const OBSOLETE_PACKET_BLOCK: u32 = 2;

/// How an interface stamps its packets (pcapng `if_tsresol`): units per second as a power of
/// ten or of two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TsResolution {
    /// 10^exponent units per second, exponent <= 19 (fits u64).
    Decimal(u64),
    /// 2^shift units per second, shift <= 63.
    Binary(u32),
}

impl TsResolution {
    const MICROS: TsResolution = TsResolution::Decimal(1_000_000);
    const NANOS: TsResolution = TsResolution::Decimal(1_000_000_000);

    pub(super) fn from_tsresol(tsresol: u8) -> Option<Self> {
        let exponent = u32::from(tsresol & 0x7f);
        if tsresol & 0x80 == 0 {
            10u64.checked_pow(exponent).map(TsResolution::Decimal)
        } else if exponent <= 63 {
            Some(TsResolution::Binary(exponent))
        } else {
            None
        }
    }

    /// Splits a count of units into whole seconds and nanoseconds.
    pub(super) fn split(self, units: u64) -> (u64, u32) {
        let billion = 1_000_000_000u128;
        let (secs, nanos) = match self {
            TsResolution::Decimal(per_sec) => {
                // INVARIANT: per_sec >= 1, so the checked divisions cannot fail.
                let per_sec = per_sec.max(1);
                let frac = u128::from(units.checked_rem(per_sec).unwrap_or(0));
                (
                    units.checked_div(per_sec).unwrap_or(0),
                    frac.saturating_mul(billion)
                        .checked_div(u128::from(per_sec))
                        .unwrap_or(0),
                )
            }
            TsResolution::Binary(shift) => {
                let shift = shift.min(63);
                let mask = (1u64 << shift).saturating_sub(1);
                let frac = u128::from(units & mask);
                (units >> shift, frac.saturating_mul(billion) >> shift)
            }
        };
        (secs, nanos.min(999_999_999).saturate())
    }
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    linktype: u16,
    snaplen: u32,
    resolution: TsResolution,
    /// `if_tsoffset`: seconds added to every timestamp.
    offset_secs: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ProblemKey {
    LinkType(u64, u32, u16),
    Interface(u64, u32),
}

/// Reading state shared by the block handlers and the decoders.
pub(super) struct State {
    pub(super) limits: CaptureLimits,
    pub(super) format: CaptureFormat,
    pub(super) stats: CaptureStats,
    problems: Vec<CaptureProblem>,
    problem_index: HashMap<ProblemKey, usize>,
    tls_key_logs: Vec<Vec<u8>>,
    key_log_bytes: usize,
    key_log_overflow: bool,
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
    /// Current pcapng section's byte order, or the pcap file's.
    pub(super) big_endian: bool,
    /// Classic pcap in the modified (Kuznetzov) format: 24-byte record headers.
    pub(super) modified: bool,
    /// Interfaces of the current section (one for classic pcap).
    interfaces: Vec<Interface>,
    /// Recent packets of a section with several interfaces, to drop their copies (made at the
    /// first packet of such a section).
    copies: Option<Copies>,
    pub(super) defrag: Defragmenter,
}

impl State {
    pub(super) fn new(limits: &CaptureLimits) -> Self {
        let timeout = i64::from(limits.fragment_timeout_secs).saturating_mul(1_000_000_000);
        State {
            limits: limits.clone(),
            format: CaptureFormat::Unknown,
            stats: CaptureStats::default(),
            problems: Vec::new(),
            problem_index: HashMap::new(),
            tls_key_logs: Vec::new(),
            key_log_bytes: 0,
            key_log_overflow: false,
            first_ts: None,
            last_ts: None,
            big_endian: false,
            modified: false,
            interfaces: Vec::new(),
            copies: None,
            defrag: Defragmenter::new(DefragLimits {
                max_datagrams: limits.max_pending_datagrams,
                max_bytes: limits.max_pending_fragment_bytes,
                max_fragments: limits.max_fragments_per_datagram,
                timeout_nanos: timeout,
            }),
        }
    }

    pub(super) fn finish(mut self, stop: Option<CaptureProblem>) -> CaptureSummary {
        let pending = self.defrag.finish();
        self.stats.ip_fragments_dropped.bump_by(pending);
        if let Some(stop) = stop {
            self.problems.push(stop);
        }
        if let CaptureFormat::PcapNg { sections } = &mut self.format {
            *sections = self.stats.sections;
        }
        CaptureSummary {
            format: self.format,
            stats: self.stats,
            problems: self.problems,
            tls_key_logs: self.tls_key_logs,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
        }
    }

    fn section(&self) -> u64 {
        self.stats.sections.saturating_sub(1)
    }

    /// Lists a non-fatal problem, or counts it when the list is full.
    fn note(&mut self, problem: CaptureProblem) {
        if self.problems.len() < self.limits.max_problems {
            self.problems.push(problem);
        } else {
            self.stats.problems_suppressed.bump();
        }
    }

    /// Adds one packet to the problem listed under `key`, listing `fresh` the first time.
    fn note_packet(&mut self, key: ProblemKey, fresh: CaptureProblem) {
        if let Some(index) = self.problem_index.get(&key) {
            if let Some(
                CaptureProblem::UnknownLinkType { packets, .. }
                | CaptureProblem::UnknownInterface { packets, .. },
            ) = self.problems.get_mut(*index)
            {
                packets.bump();
            }
        } else if self.problems.len() < self.limits.max_problems {
            self.problem_index.insert(key, self.problems.len());
            self.problems.push(fresh);
        } else {
            self.stats.problems_suppressed.bump();
        }
    }

    fn u32_at(&self, data: &[u8], at: usize) -> Option<u32> {
        let end = at.checked_add(4)?;
        let bytes: [u8; 4] = data.get(at..end)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    }

    fn u16_at(&self, data: &[u8], at: usize) -> Option<u16> {
        let end = at.checked_add(2)?;
        let bytes: [u8; 2] = data.get(at..end)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        })
    }

    pub(super) fn block(
        &mut self,
        block: PcapBlockOwned<'_>,
        on_packet: &mut dyn FnMut(&TcpPacket<'_>),
    ) {
        match block {
            PcapBlockOwned::LegacyHeader(header) => {
                self.big_endian = header.is_bigendian();
                self.modified = header.is_modified_format();
                let nanos = header.is_nanosecond_precision();
                self.format = CaptureFormat::Pcap {
                    nanos,
                    big_endian: self.big_endian,
                };
                self.stats.interfaces = 1;
                self.interfaces = vec![Interface {
                    // The upper 16 bits of the field carry FCS information, not the type.
                    linktype: (header.network.0 & 0xffff).saturate(),
                    snaplen: header.snaplen,
                    resolution: if nanos {
                        TsResolution::NANOS
                    } else {
                        TsResolution::MICROS
                    },
                    offset_secs: 0,
                }];
            }
            PcapBlockOwned::Legacy(record) => {
                let resolution = self
                    .interfaces
                    .first()
                    .map_or(TsResolution::MICROS, |i| i.resolution);
                let frac = u64::from(record.ts_usec);
                let nanos = if resolution == TsResolution::NANOS {
                    frac
                } else {
                    frac.saturating_mul(1000)
                };
                // Seconds are unsigned in the file (good until 2106).
                let ts = Timestamp::from_secs_nanos(i64::from(record.ts_sec), nanos);
                self.packet(0, Some(ts), record.data, on_packet);
            }
            PcapBlockOwned::NG(block) => self.ng_block(block, on_packet),
        }
    }

    fn ng_block(&mut self, block: Block<'_>, on_packet: &mut dyn FnMut(&TcpPacket<'_>)) {
        match block {
            Block::SectionHeader(shb) => {
                self.stats.sections.bump();
                self.big_endian = shb.big_endian();
                self.interfaces.clear();
                self.copies = None;
            }
            Block::InterfaceDescription(idb) => {
                self.stats.interfaces.bump();
                let interface = self.interfaces.len().saturate();
                if self.interfaces.len() >= self.limits.max_interfaces {
                    if self.interfaces.len() == self.limits.max_interfaces {
                        self.note(CaptureProblem::TooManyInterfaces {
                            section: self.section(),
                            limit: self.limits.max_interfaces.saturate(),
                        });
                        // Keep a placeholder so the warning is given once per section.
                        self.interfaces.push(Interface {
                            linktype: u16::MAX,
                            snaplen: 0,
                            resolution: TsResolution::MICROS,
                            offset_secs: 0,
                        });
                    }
                    return;
                }
                let resolution = TsResolution::from_tsresol(idb.if_tsresol).unwrap_or_else(|| {
                    self.note(CaptureProblem::BadTimestampResolution {
                        section: self.section(),
                        interface,
                        tsresol: idb.if_tsresol,
                    });
                    TsResolution::MICROS
                });
                // pcap-parser reads if_tsoffset little-endian whatever the section says.
                let offsets = || {
                    idb.options
                        .iter()
                        .filter(|o| o.code == OptionCode::IfTsoffset)
                };
                let offset =
                    offsets().find_map(|o| <[u8; 8]>::try_from(o.as_bytes().ok()?.get(..8)?).ok());
                if offset.is_none() {
                    // An absent if_tsoffset is 0 (pcapng section 4.2); one too short to hold
                    // its 8 bytes is named, not read as 0 in silence.
                    if let Some(short) = offsets().next() {
                        self.note(CaptureProblem::ShortTimestampOffset {
                            section: self.section(),
                            interface,
                            length: short.len,
                        });
                    }
                }
                let offset_secs = offset.map_or(0, |b| {
                    if self.big_endian {
                        i64::from_be_bytes(b)
                    } else {
                        i64::from_le_bytes(b)
                    }
                });
                self.interfaces.push(Interface {
                    linktype: (idb.linktype.0 & 0xffff).saturate(),
                    snaplen: idb.snaplen,
                    resolution,
                    offset_secs,
                });
            }
            Block::EnhancedPacket(epb) => {
                let caplen = epb.caplen.saturate();
                let data = epb.data.get(..caplen).unwrap_or(epb.data);
                let ts = self.ng_timestamp(epb.if_id, epb.ts_high, epb.ts_low);
                self.packet(epb.if_id, ts, data, on_packet);
            }
            Block::SimplePacket(spb) => {
                // No timestamp and no captured length: the original length, limited by the
                // block and by interface 0's snapshot length.
                let mut len: usize = spb.origlen.saturate();
                if let Some(snaplen) = self
                    .interfaces
                    .first()
                    .and_then(|i| usize::try_from(i.snaplen).ok())
                    .filter(|s| *s != 0)
                {
                    len = len.min(snaplen);
                }
                let data = spb.data.get(..len).unwrap_or(spb.data);
                self.packet(0, None, data, on_packet);
            }
            Block::DecryptionSecrets(dsb) => {
                self.stats.decryption_secrets_blocks.bump();
                if dsb.secrets_type == SecretsType::TlsKeyLog {
                    let len = dsb.secrets_len.saturate();
                    let secrets = dsb.data.get(..len).unwrap_or(dsb.data);
                    let total = self.key_log_bytes.saturating_add(secrets.len());
                    if total <= self.limits.max_key_log_bytes {
                        self.key_log_bytes = total;
                        self.tls_key_logs.push(secrets.to_vec());
                    } else if !self.key_log_overflow {
                        self.key_log_overflow = true;
                        self.note(CaptureProblem::KeyLogTooLarge {
                            limit: self.limits.max_key_log_bytes.saturate(),
                        });
                    }
                }
            }
            Block::Unknown(unknown) => {
                // pcap-parser reads an unknown block's type little-endian in every section.
                let block_type = if self.big_endian {
                    unknown.block_type.swap_bytes()
                } else {
                    unknown.block_type
                };
                if block_type == OBSOLETE_PACKET_BLOCK {
                    self.obsolete_packet_block(unknown.data, on_packet);
                } else {
                    self.stats.ignored_blocks.bump();
                }
            }
            _ => self.stats.ignored_blocks.bump(),
        }
    }

    /// The obsolete Packet Block (pcapng draft, block type 2): interface id (2), drops count
    /// (2), timestamp high (4), low (4), captured length (4), packet length (4), data.
    fn obsolete_packet_block(&mut self, body: &[u8], on_packet: &mut dyn FnMut(&TcpPacket<'_>)) {
        // The packet length is not used, but a body too short to hold it is a short header,
        // not a packet without data.
        let fields = (
            self.u16_at(body, 0),
            self.u32_at(body, 4),
            self.u32_at(body, 8),
            self.u32_at(body, 12),
            self.u32_at(body, 16),
        );
        let (Some(if_id), Some(high), Some(low), Some(caplen), Some(_)) = fields else {
            // Still a packet record: number it, as tshark would.
            self.stats.packets.bump();
            self.stats.undecodable_packets.bump();
            return;
        };
        let if_id = u32::from(if_id);
        // INVARIANT: the packet length field ends at 20, so the body holds 20 bytes.
        let rest = body.get(20..).unwrap_or_default();
        let caplen = caplen.saturate();
        let data = rest.get(..caplen).unwrap_or(rest);
        let ts = self.ng_timestamp(if_id, high, low);
        self.packet(if_id, ts, data, on_packet);
    }

    fn ng_timestamp(&self, if_id: u32, high: u32, low: u32) -> Option<Timestamp> {
        let interface = self.interfaces.get(usize::try_from(if_id).ok()?)?;
        let units = (u64::from(high) << 32) | u64::from(low);
        let (secs, nanos) = interface.resolution.split(units);
        let secs: i64 = secs.saturate();
        let secs = secs.saturating_add(interface.offset_secs);
        Some(Timestamp::from_secs_nanos(secs, u64::from(nanos)))
    }

    /// One packet record on interface `if_id`. A record without a timestamp (SPB) takes the
    /// previous record's, so time never runs backwards because of it.
    fn packet(
        &mut self,
        if_id: u32,
        ts: Option<Timestamp>,
        data: &[u8],
        on_packet: &mut dyn FnMut(&TcpPacket<'_>),
    ) {
        self.stats.packets.bump();
        self.stats.bytes = self.stats.bytes.saturating_add(data.len().saturate());
        let frame = self.stats.packets;
        let ts = ts.or(self.last_ts).unwrap_or_default();
        self.first_ts = Some(self.first_ts.map_or(ts, |t| t.min(ts)));
        self.last_ts = Some(self.last_ts.map_or(ts, |t| t.max(ts)));

        let section = self.section();
        let Some(interface) = usize::try_from(if_id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .copied()
        else {
            self.stats.undecodable_packets.bump();
            self.note_packet(
                ProblemKey::Interface(section, if_id),
                CaptureProblem::UnknownInterface {
                    section,
                    interface: if_id,
                    packets: 1,
                },
            );
            return;
        };
        if !link::is_supported(interface.linktype) {
            self.stats.unknown_linktype_packets.bump();
            self.note_packet(
                ProblemKey::LinkType(section, if_id, interface.linktype),
                CaptureProblem::UnknownLinkType {
                    section,
                    interface: if_id,
                    linktype: interface.linktype,
                    packets: 1,
                },
            );
            return;
        }
        match link::network_layer(interface.linktype, data) {
            link::Network::Ip(ip) => {
                if self.interfaces.len() > 1
                    && self
                        .copies
                        .get_or_insert_with(Copies::new)
                        .is_copy(if_id, ts, ip)
                {
                    self.stats.duplicate_packets.bump();
                    return;
                }
                self.ip(frame, ts, ip, on_packet)
            }
            link::Network::NotIp => {
                self.stats.non_tcp_packets.bump();
            }
            link::Network::Malformed | link::Network::UnknownLinkType => {
                self.stats.undecodable_packets.bump();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use crate::capture::{read_capture, CaptureProblem};

    /// A little-endian pcapng block: type, total length, body, total length.
    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let total = u32::try_from(body.len() + 12).unwrap();
        let mut b = kind.to_le_bytes().to_vec();
        b.extend_from_slice(&total.to_le_bytes());
        b.extend_from_slice(body);
        b.extend_from_slice(&total.to_le_bytes());
        b
    }

    /// A section whose one interface (Ethernet) carries an `if_tsoffset` option of `offset`.
    fn section_with_tsoffset(offset: &[u8]) -> Vec<u8> {
        let mut shb = 0x1a2b_3c4d_u32.to_le_bytes().to_vec();
        shb.extend_from_slice(&[1, 0, 0, 0]); // version 1.0
        shb.extend_from_slice(&[0xff; 8]); // section length unknown
        let mut idb = vec![1, 0, 0, 0]; // LINKTYPE_ETHERNET, reserved
        idb.extend_from_slice(&0_u32.to_le_bytes()); // snaplen
        idb.extend_from_slice(&14_u16.to_le_bytes()); // if_tsoffset
        idb.extend_from_slice(&u16::try_from(offset.len()).unwrap().to_le_bytes());
        idb.extend_from_slice(offset);
        idb.resize(idb.len().next_multiple_of(4), 0);
        idb.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
        let mut file = block(0x0a0d_0d0a, &shb);
        file.extend(block(1, &idb));
        file
    }

    #[test]
    fn a_short_if_tsoffset_is_named_not_read_as_zero() {
        let file = section_with_tsoffset(&[0x10, 0, 0, 0]);
        let summary = read_capture(file.as_slice(), &mut |_| {});
        assert!(
            summary.problems.iter().any(|p| matches!(
                p,
                CaptureProblem::ShortTimestampOffset {
                    section: 0,
                    interface: 0,
                    length: 4
                }
            )),
            "{:?}",
            summary.problems
        );

        let file = section_with_tsoffset(&3600_i64.to_le_bytes());
        let summary = read_capture(file.as_slice(), &mut |_| {});
        assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    }
}
