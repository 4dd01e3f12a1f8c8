//! Driving pcap-parser: choosing the reader from the magic number, keeping its buffer fed,
//! and turning its "incomplete" into more data, a bigger buffer, or a fatal problem.

use rdp_wire::Bump as _;
use rdp_wire::Saturate as _;
use std::io::{self, Read};

use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapError, PcapNGReader};

use super::blocks::State;
use super::{CaptureFormat, CaptureProblem, TcpPacket};

/// Whether `head`, shorter than a magic number, could be the start of one.
pub(super) fn is_magic_prefix(head: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 7] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0x34, 0xcd, 0xb2, 0xa1],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0xa1, 0xb2, 0xcd, 0x34],
        SHB_TYPE,
    ];
    head.len() < 4 && MAGICS.iter().any(|m| m.starts_with(head))
}

/// Bytes kept from the start of the input to choose the reader.
const HEAD_LEN: usize = 12;
/// pcapng Section Header Block type; a palindrome, so it reads the same in both byte orders.
const SHB_TYPE: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// The Section Header Block byte-order magic 0x1A2B3C4D as a little-endian writer stores it.
const BOM_LE: [u8; 4] = [0x4d, 0x3c, 0x2b, 0x1a];
/// ... and as a big-endian writer stores it.
const BOM_BE: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];
/// Bounded retries of a read that says "interrupted", so a broken reader cannot spin forever.
const MAX_INTERRUPTS: u32 = 1000;
/// Buffer refills without a record in between before giving up; 2 + log2(max_record /
/// buffer_size) always suffice for a
/// consistent file (see `drive`), the margin is for safety.
const MAX_STALLS: u32 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Magic {
    Pcap { nanos: bool, big_endian: bool },
    PcapModifiedBigEndian,
    PcapNg,
}

pub(super) fn sniff(head: &[u8]) -> Option<Magic> {
    let magic: [u8; 4] = head.get(..4)?.try_into().ok()?;
    match magic {
        // 0xa1b2c3d4 (µs), 0xa1b2cd34 (modified, µs), 0xa1b23c4d (ns) in either byte order
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x34, 0xcd, 0xb2, 0xa1] => Some(Magic::Pcap {
            nanos: false,
            big_endian: false,
        }),
        [0x4d, 0x3c, 0xb2, 0xa1] => Some(Magic::Pcap {
            nanos: true,
            big_endian: false,
        }),
        [0xa1, 0xb2, 0xc3, 0xd4] => Some(Magic::Pcap {
            nanos: false,
            big_endian: true,
        }),
        [0xa1, 0xb2, 0x3c, 0x4d] => Some(Magic::Pcap {
            nanos: true,
            big_endian: true,
        }),
        [0xa1, 0xb2, 0xcd, 0x34] => Some(Magic::PcapModifiedBigEndian),
        SHB_TYPE => match head.get(8..12) {
            Some(bom) if bom != BOM_LE && bom != BOM_BE => None,
            _ => Some(Magic::PcapNg),
        },
        _ => None,
    }
}

/// The input, read in whole buffers: pcap-parser takes a short read for the end of the file,
/// so each `read` fills the buffer unless the input really ends. Errors are kept here and
/// reported as the end of input; the caller reports them after parsing stops.
pub(super) struct Source<R> {
    inner: R,
    /// The first bytes, read before picking the reader: HEAD_LEN, or a whole first pcapng
    /// Section Header Block (see `extend_head`).
    head: Vec<u8>,
    head_pos: usize,
    head_len: usize,
    eof: bool,
    pub(super) error: Option<io::Error>,
    delivered: u64,
}

impl<R: Read> Source<R> {
    pub(super) fn new(inner: R) -> Self {
        Source {
            inner,
            head: Vec::new(),
            head_pos: 0,
            head_len: 0,
            eof: false,
            error: None,
            delivered: 0,
        }
    }

    /// Reads the first bytes into `head` (served again by `read`); returns how many.
    pub(super) fn read_head(&mut self) -> usize {
        let mut head = vec![0u8; HEAD_LEN];
        let n = self.fill(&mut head);
        head.truncate(n);
        self.head = head;
        self.head_pos = 0;
        self.head_len = n;
        n
    }

    /// Reads more into `head` until it holds `want` bytes or the input ends; returns how many
    /// it holds. The buffer doubles as bytes arrive rather than taking `want` (a length read
    /// from the input) at once, so a header that lies about its length costs only what is
    /// there.
    fn extend_head(&mut self, want: usize) -> usize {
        let mut head = std::mem::take(&mut self.head);
        while head.len() < want && !self.eof {
            let old = head.len();
            head.resize(old.saturating_mul(2).max(HEAD_LEN).min(want), 0);
            let got = head.get_mut(old..).map_or(0, |space| self.fill(space));
            head.truncate(old.saturating_add(got));
        }
        self.head = head;
        self.head_len = self.head.len();
        self.head_len
    }

    fn head(&self) -> &[u8] {
        self.head.get(..self.head_len).unwrap_or_default()
    }

    fn fill(&mut self, buf: &mut [u8]) -> usize {
        let mut filled = 0usize;
        let mut interrupts = 0u32;
        while filled < buf.len() && !self.eof {
            let Some(space) = buf.get_mut(filled..) else {
                break;
            };
            let room = space.len();
            match self.inner.read(space) {
                Ok(0) => self.eof = true,
                Ok(n) => filled = filled.saturating_add(n.min(room)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted && interrupts < MAX_INTERRUPTS => {
                    interrupts.bump();
                }
                Err(e) => {
                    self.error = Some(e);
                    self.eof = true;
                }
            }
        }
        filled
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0usize;
        if let Some(head) = self.head.get(self.head_pos..self.head_len) {
            let n = head.len().min(buf.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), head.get(..n)) {
                dst.copy_from_slice(src);
                filled = n;
                self.head_pos.bump_by(n);
            }
        }
        if let Some(rest) = buf.get_mut(filled..) {
            filled.bump_by(self.fill(rest));
        }
        self.delivered = self.delivered.saturating_add(filled.saturate());
        Ok(filled)
    }
}

/// Picks the reader from the magic number and runs it; returns the fatal problem, if any.
pub(super) fn start<R: Read>(
    input: &mut Source<R>,
    head_len: usize,
    state: &mut State,
    on_packet: &mut dyn FnMut(&TcpPacket<'_>),
) -> Option<CaptureProblem> {
    let head = input.head();
    if head_len == 0 {
        return if input.error.is_some() {
            None
        } else {
            Some(CaptureProblem::Empty)
        };
    }
    let mut magic = [0u8; 4];
    for (dst, src) in magic.iter_mut().zip(head) {
        *dst = *src;
    }
    let limits = state.limits.clone();
    let mut capacity = limits.buffer_size.clamp(64, limits.max_record.max(64));
    match sniff(head) {
        None if is_magic_prefix(head) => Some(CaptureProblem::Truncated {
            offset: 0,
            bytes: head_len.saturate(),
        }),
        None => Some(CaptureProblem::NotACapture {
            magic: u32::from_be_bytes(magic),
        }),
        Some(Magic::PcapModifiedBigEndian) => Some(CaptureProblem::Corrupt {
            offset: 0,
            reason: "big-endian modified pcap (magic 0xa1b2cd34) is not supported".into(),
        }),
        Some(Magic::Pcap { nanos, big_endian }) => {
            state.format = CaptureFormat::Pcap { nanos, big_endian };
            match LegacyPcapReader::new(capacity, &mut *input) {
                Ok(mut reader) => drive(&mut reader, capacity, state, on_packet),
                Err(e) => Some(header_problem(&e, input.delivered)),
            }
        }
        Some(Magic::PcapNg) => {
            state.format = CaptureFormat::PcapNg { sections: 0 };
            // The reader parses the first Section Header Block from its first buffer: make
            // room for it.
            match probe_pcapng(head, false) {
                Probe::Length(len) if len > limits.max_record => {
                    return Some(CaptureProblem::RecordTooLarge {
                        offset: 0,
                        length: len.saturate(),
                        limit: limits.max_record.saturate(),
                    });
                }
                Probe::Length(len) => {
                    // Only a block whose bytes are all there sizes the buffer.
                    let present = input.extend_head(len);
                    if present < len {
                        return Some(CaptureProblem::Truncated {
                            offset: 0,
                            bytes: present.saturate(),
                        });
                    }
                    capacity = capacity.max(len);
                }
                Probe::Bad(reason) => return Some(CaptureProblem::Corrupt { offset: 0, reason }),
                Probe::Short => {}
            }
            match PcapNGReader::new(capacity, &mut *input) {
                Ok(mut reader) => drive(&mut reader, capacity, state, on_packet),
                Err(e) => Some(header_problem(&e, input.delivered)),
            }
        }
    }
}

fn header_problem(e: &PcapError<&[u8]>, delivered: u64) -> CaptureProblem {
    match e {
        PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::Eof => {
            CaptureProblem::Truncated {
                offset: 0,
                bytes: delivered,
            }
        }
        other => CaptureProblem::Corrupt {
            offset: 0,
            reason: format!("invalid file header: {}", describe(other)),
        },
    }
}

fn describe(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("record does not parse ({kind:?})")
        }
        PcapError::HeaderNotRecognized => "header not recognised".into(),
        PcapError::BufferTooSmall => "record larger than the buffer".into(),
        PcapError::ReadError => "read error".into(),
        PcapError::Eof | PcapError::UnexpectedEof | PcapError::Incomplete(_) => {
            "unexpected end of data".into()
        }
    }
}

/// The declared length of the record at the start of the buffer.
#[derive(Debug, PartialEq, Eq)]
enum Probe {
    /// The whole record, headers included, is this many bytes.
    Length(usize),
    /// Not enough bytes to tell.
    Short,
    /// The length fields are impossible.
    Bad(String),
}

/// Probes the record at the start of `data`, `consumed` bytes into the file, as the format
/// and byte order read so far say.
fn probe(state: &State, data: &[u8], consumed: usize) -> Probe {
    match state.format {
        // The legacy reader hands out the file header first, without parsing the buffer.
        CaptureFormat::Pcap { .. } if consumed == 0 => Probe::Short,
        CaptureFormat::Pcap { big_endian, .. } => probe_pcap(data, big_endian, state.modified),
        CaptureFormat::PcapNg { .. } => probe_pcapng(data, state.big_endian),
        CaptureFormat::Unknown => Probe::Short,
    }
}

/// Probes a pcapng block: type (4), total length (4) in the section's byte order; a Section
/// Header Block states its own byte order in the 4 bytes after.
fn probe_pcapng(data: &[u8], big_endian: bool) -> Probe {
    let (Some(block_type), Some(len)) = (data.get(0..4), data.get(4..8)) else {
        return Probe::Short;
    };
    let big_endian = if block_type == SHB_TYPE {
        match data.get(8..12) {
            None => return Probe::Short,
            Some(bom) if bom == BOM_LE => false,
            Some(bom) if bom == BOM_BE => true,
            Some(_) => return Probe::Bad("section header with an unknown byte-order magic".into()),
        }
    } else {
        big_endian
    };
    let Ok(len) = <[u8; 4]>::try_from(len) else {
        return Probe::Short;
    };
    let len = if big_endian {
        u32::from_be_bytes(len)
    } else {
        u32::from_le_bytes(len)
    };
    if len < 12 {
        return Probe::Bad(format!("block length {len} is below the 12-byte minimum"));
    }
    if len % 4 != 0 {
        return Probe::Bad(format!("block length {len} is not a multiple of 4"));
    }
    Probe::Length(len.saturate())
}

/// Probes a classic pcap record: 16-byte header (24 in the modified format) whose third
/// field is the captured length.
fn probe_pcap(data: &[u8], big_endian: bool, modified: bool) -> Probe {
    let Some(Ok(caplen)) = data.get(8..12).map(<[u8; 4]>::try_from) else {
        return Probe::Short;
    };
    let caplen = if big_endian {
        u32::from_be_bytes(caplen)
    } else {
        u32::from_le_bytes(caplen)
    };
    let header: usize = if modified { 24 } else { 16 };
    usize::try_from(caplen)
        .ok()
        .and_then(|c| c.checked_add(header))
        .map_or(Probe::Length(usize::MAX), Probe::Length)
}

enum Step {
    Consume(usize),
    Done,
    More,
    Corrupt(String),
}

/// Runs a pcap-parser reader to the end of the input or the first fatal problem.
///
/// INVARIANT relied on for termination: when pcap-parser wants more data, either the input is
/// exhausted (Truncated), or the probe's declared length is already buffered (Corrupt), or
/// the buffer is doubled (up to the declared length's need) and refilled, after which the
/// input holds more of the record or ends. So each record costs at most
/// 2 + log2(max_record / buffer_size) refills (8 with the defaults).
fn drive<P: PcapReaderIterator + ?Sized>(
    reader: &mut P,
    mut capacity: usize,
    state: &mut State,
    on_packet: &mut dyn FnMut(&TcpPacket<'_>),
) -> Option<CaptureProblem> {
    let max_record = state.limits.max_record.max(capacity);
    let mut stalls = 0u32;
    loop {
        let offset = reader.consumed().saturate();
        let probe = probe(state, reader.data(), reader.consumed());
        match &probe {
            Probe::Bad(reason) => {
                return Some(CaptureProblem::Corrupt {
                    offset,
                    reason: reason.clone(),
                })
            }
            Probe::Length(len) if *len > max_record => {
                return Some(CaptureProblem::RecordTooLarge {
                    offset,
                    length: (*len).saturate(),
                    limit: max_record.saturate(),
                })
            }
            _ => {}
        }
        let step = match reader.next() {
            Ok((used, block)) => {
                state.block(block, on_packet);
                Step::Consume(used)
            }
            Err(PcapError::Eof) => Step::Done,
            Err(
                PcapError::Incomplete(_)
                | PcapError::BufferTooSmall
                | PcapError::UnexpectedEof
                | PcapError::ReadError,
            ) => Step::More,
            Err(e) => Step::Corrupt(describe(&e)),
        };
        match step {
            Step::Consume(0) => {
                return Some(CaptureProblem::Corrupt {
                    offset,
                    reason: "empty record".into(),
                })
            }
            Step::Consume(used) => {
                // No shift here: `refill` moves the unread tail to the front when more data is
                // needed, once per buffer instead of whenever half the buffer was consumed.
                reader.consume_noshift(used);
                stalls = 0;
            }
            Step::Done => return None,
            Step::Corrupt(reason) => return Some(CaptureProblem::Corrupt { offset, reason }),
            Step::More => {
                let available = reader.data().len();
                if reader.reader_exhausted() {
                    return if available == 0 {
                        None
                    } else {
                        Some(CaptureProblem::Truncated {
                            offset,
                            bytes: available.saturate(),
                        })
                    };
                }
                if let Probe::Length(len) = probe {
                    if available >= len {
                        return Some(CaptureProblem::Corrupt {
                            offset,
                            reason: format!("record contents overrun its length of {len} bytes"),
                        });
                    }
                    if len > capacity {
                        // Double, never jump to the declared length: a record that claims
                        // 16 MiB in a file of a few bytes then costs twice the bytes actually
                        // there, not 16 MiB. Each refill fills the buffer or ends the input,
                        // so at most log2(max_record / buffer_size) extra refills (well under
                        // MAX_STALLS) reach a record of any accepted length.
                        let wanted = capacity.saturating_mul(2).min(max_record);
                        if !reader.grow(wanted) {
                            return Some(CaptureProblem::RecordTooLarge {
                                offset,
                                length: len.saturate(),
                                limit: capacity.saturate(),
                            });
                        }
                        capacity = wanted;
                    }
                }
                stalls.bump();
                if stalls > MAX_STALLS {
                    return Some(CaptureProblem::Corrupt {
                        offset,
                        reason: "no progress reading a record".into(),
                    });
                }
                if reader.refill().is_err() {
                    return None;
                }
            }
        }
    }
}
