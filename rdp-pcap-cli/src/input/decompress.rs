//! Compressed captures: gzip, zstd and xz, recognised by their magic bytes (as tshark and
//! Wireshark recognise them, whatever the file is called) and decompressed while reading.
//!
//! # Streaming and memory
//! [`open`] puts a decoder between the raw bytes and the capture reader; nothing is decompressed
//! ahead of what the capture reader asks for, so a file that expands to terabytes costs the
//! time of reading it, never the memory. What a decoder keeps is bounded by its format's
//! window: 32 KiB for gzip (RFC 1952 over RFC 1951 deflate); for zstd the frame's window, which
//! a frame declares (RFC 8878 section 3.1.1.1.2) and which is refused above [`MAX_WINDOW`]
//! (libzstd's and the `zstd` tool's default limit, `ZSTD_WINDOWLOG_LIMIT_DEFAULT`); for xz the
//! dictionary and the decoder's tables, refused above [`MAX_WINDOW`] too (`xz -9` needs 65 MiB).
//! Beyond those, each decoder buffers one read of the compressed input.
//!
//! # Streams made of pieces
//! As `gzip -d`, `zstd -d` and `xz -d` do: a gzip file may hold several members (RFC 1952
//! section 2.2: `cat a.gz b.gz`, pigz), a zstd file several frames and skippable frames
//! (RFC 8878 section 3: `cat`, pzstd), an xz file several streams with stream padding between
//! them (the .xz file format 1.2.1, section 2.2). Each is decoded in turn; bytes after the last
//! one that start no new one are corrupt data.
//!
//! # Errors
//! A stream that ends early or is corrupt ends the input with an I/O error carrying a
//! [`CaptureProblem::CompressedTruncated`] or [`CaptureProblem::CompressedCorrupt`]: the capture
//! reader reports that problem, with everything decoded before it analysed, as for a capture cut
//! short. Integrity checks are verified where the format has them (gzip CRC-32 and length, the
//! zstd content checksum when the frame carries one, the xz block checks).

use rdp_wire::Saturate as _;
use std::fmt;
use std::io::{self, Read};

use crate::capture::CaptureProblem;

/// The most memory a zstd window or an xz decoder may take: 128 MiB.
pub const MAX_WINDOW: u64 = 1 << MAX_WINDOW_LOG;
/// [`MAX_WINDOW`] as a power of two: zstd's `ZSTD_d_windowLogMax`.
const MAX_WINDOW_LOG: u32 = 27;

/// A compression format an input can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// gzip (RFC 1952): `.gz`, what `tcpdump -w - | gzip` and Wireshark's "compress with gzip"
    /// write.
    Gzip,
    /// Zstandard (RFC 8878): `.zst`.
    Zstd,
    /// xz (the .xz file format of XZ Utils): `.xz`.
    Xz,
}

/// gzip member header ID1 ID2 (RFC 1952 section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Zstandard frame magic 0xFD2FB528, little-endian (RFC 8878 section 3.1.1).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// xz stream header magic (the .xz file format, section 2.1.1.1).
const XZ_MAGIC: [u8; 6] = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
/// Bytes read to tell the format.
pub const SNIFF_LEN: usize = XZ_MAGIC.len();

impl Compression {
    /// Every format, in the order the docs list them.
    pub const ALL: [Compression; 3] = [Compression::Gzip, Compression::Zstd, Compression::Xz];

    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
        }
    }

    /// The file name extension the format's tool gives.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::Gzip => "gz",
            Compression::Zstd => "zst",
            Compression::Xz => "xz",
        }
    }

    /// The format whose magic bytes `head` starts with (a Zstandard skippable frame counts as
    /// zstd: pzstd starts its files with one).
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&GZIP_MAGIC) {
            Some(Compression::Gzip)
        } else if head.starts_with(&ZSTD_MAGIC) || is_skippable_frame_magic(head) {
            Some(Compression::Zstd)
        } else if head.starts_with(&XZ_MAGIC) {
            Some(Compression::Xz)
        } else {
            None
        }
    }
}

/// Skippable frames have the magic 0x184D2A5?, little-endian (RFC 8878 section 3.1.2).
fn is_skippable_frame_magic(head: &[u8]) -> bool {
    matches!(head, [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..])
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads the first bytes of `reader` to tell whether it is compressed, and returns the format
/// and a reader of the capture bytes: decompressed while read, or the input as it is. An I/O
/// error reading those first bytes is returned as is.
pub fn open<'a, R: Read + Send + 'a>(
    mut reader: R,
) -> io::Result<(Option<Compression>, Box<dyn Read + Send + 'a>)> {
    let mut head = [0u8; SNIFF_LEN];
    let got = read_full(&mut reader, &mut head)?;
    let head = head.get(..got).unwrap_or_default().to_vec();
    let compression = Compression::sniff(&head);
    let whole = Tracked {
        inner: io::Cursor::new(head).chain(reader),
        failed: false,
    };
    let out: Box<dyn Read + Send + 'a> = match compression {
        None => Box::new(whole.inner),
        Some(c @ Compression::Gzip) => Box::new(Decompressed::new(
            c,
            flate2::read::MultiGzDecoder::new(whole),
        )),
        Some(c @ Compression::Zstd) => {
            let mut decoder = zstd::stream::read::Decoder::new(whole)?;
            decoder.window_log_max(MAX_WINDOW_LOG)?;
            Box::new(Decompressed::new(c, decoder))
        }
        Some(c @ Compression::Xz) => {
            let stream = liblzma::stream::Stream::new_stream_decoder(
                MAX_WINDOW,
                liblzma::stream::CONCATENATED,
            )
            .map_err(io::Error::from)?;
            Box::new(Decompressed::new(
                c,
                liblzma::read::XzDecoder::new_stream(whole, stream),
            ))
        }
    };
    Ok((compression, out))
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0usize;
    while let Some(space) = buf.get_mut(filled..).filter(|s| !s.is_empty()) {
        match reader.read(space) {
            Ok(0) => break,
            Ok(n) => filled = filled.saturating_add(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The compressed bytes, remembering whether reading them failed: a decoder's error is then
/// the input's own error, not a decoding problem.
struct Tracked<R> {
    inner: R,
    failed: bool,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf);
        if result
            .as_ref()
            .is_err_and(|e| e.kind() != io::ErrorKind::Interrupted)
        {
            self.failed = true;
        }
        result
    }
}

/// A decoder over [`Tracked`] bytes.
trait Decoder: Read {
    /// Reading the compressed bytes failed.
    fn source_failed(&self) -> bool;
}

impl<R: Read> Decoder for flate2::read::MultiGzDecoder<Tracked<R>> {
    fn source_failed(&self) -> bool {
        self.get_ref().failed
    }
}

impl<R: Read> Decoder for liblzma::read::XzDecoder<Tracked<R>> {
    fn source_failed(&self) -> bool {
        self.get_ref().failed
    }
}

impl<R: Read> Decoder for zstd::stream::read::Decoder<'_, io::BufReader<Tracked<R>>> {
    fn source_failed(&self) -> bool {
        self.get_ref().get_ref().failed
    }
}

/// Decompressed bytes, counted, with decoder errors turned into capture problems.
struct Decompressed<D> {
    compression: Compression,
    decoder: D,
    /// Decompressed bytes delivered so far.
    out: u64,
}

impl<D: Decoder> Decompressed<D> {
    fn new(compression: Compression, decoder: D) -> Self {
        Decompressed {
            compression,
            decoder,
            out: 0,
        }
    }

    fn problem(&self, e: io::Error) -> io::Error {
        if self.decoder.source_failed() || e.kind() == io::ErrorKind::Interrupted {
            return e;
        }
        // All three decoders say "unexpected end of file" when the input ends inside a stream.
        let problem = if e.kind() == io::ErrorKind::UnexpectedEof {
            CaptureProblem::CompressedTruncated {
                compression: self.compression,
                decompressed: self.out,
            }
        } else {
            CaptureProblem::CompressedCorrupt {
                compression: self.compression,
                decompressed: self.out,
                reason: reason(&e),
            }
        };
        io::Error::new(io::ErrorKind::InvalidData, problem)
    }
}

impl<D: Decoder> Read for Decompressed<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.decoder.read(buf) {
            Ok(n) => {
                self.out = self.out.saturating_add(n.saturate());
                Ok(n)
            }
            Err(e) => Err(self.problem(e)),
        }
    }
}

/// A decoder's error in a few lower-case words.
fn reason(e: &io::Error) -> String {
    if let Some(inner) = e.get_ref() {
        if let Some(lzma) = inner.downcast_ref::<liblzma::stream::Error>() {
            if matches!(lzma, liblzma::stream::Error::MemLimit) {
                return format!("it needs more than {MAX_WINDOW} bytes of memory to decompress");
            }
        }
        if e.to_string().contains("Frame requires too much memory") {
            return format!("a frame's window is over the limit of {MAX_WINDOW} bytes");
        }
    }
    let text = e.to_string();
    if text == "corrupt gzip stream does not have a matching checksum" {
        return "its checksum does not match its content".to_string();
    }
    lower_first(&text)
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "unknown error".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::as_conversions
    )]

    use super::*;

    const TEXT: &[u8] = b"\xd4\xc3\xb2\xa1 not really a capture, but bytes to compress and back";

    use crate::fuzzing::synth::compress::{gzip, xz, zstd};

    fn decompress(bytes: &[u8]) -> (Option<Compression>, io::Result<Vec<u8>>) {
        let (c, mut r) = open(bytes).unwrap();
        let mut out = Vec::new();
        let result = r.read_to_end(&mut out).map(|_| out);
        (c, result)
    }

    fn problem(e: io::Error) -> CaptureProblem {
        *e.into_inner()
            .unwrap()
            .downcast::<CaptureProblem>()
            .unwrap()
    }

    #[test]
    fn sniffs_by_magic_bytes() {
        assert_eq!(Compression::sniff(&gzip(b"x")), Some(Compression::Gzip));
        assert_eq!(Compression::sniff(&zstd(b"x")), Some(Compression::Zstd));
        assert_eq!(Compression::sniff(&xz(b"x")), Some(Compression::Xz));
        assert_eq!(
            Compression::sniff(&[0x5e, 0x2a, 0x4d, 0x18, 0, 0, 0, 0]),
            Some(Compression::Zstd)
        );
        assert_eq!(Compression::sniff(TEXT), None);
        assert_eq!(Compression::sniff(&[0x1f]), None);
        assert_eq!(Compression::sniff(&[]), None);
    }

    #[test]
    fn uncompressed_input_is_passed_through_whole() {
        for len in [0, 1, 5, 6, 7, TEXT.len()] {
            let (c, out) = decompress(&TEXT[..len]);
            assert_eq!(c, None);
            assert_eq!(out.unwrap(), &TEXT[..len]);
        }
    }

    #[test]
    fn every_format_round_trips() {
        for (c, packed) in [
            (Compression::Gzip, gzip(TEXT)),
            (Compression::Zstd, zstd(TEXT)),
            (Compression::Xz, xz(TEXT)),
        ] {
            let (got, out) = decompress(&packed);
            assert_eq!(got, Some(c));
            assert_eq!(out.unwrap(), TEXT, "{c}");
        }
    }

    #[test]
    fn concatenated_members_frames_and_streams_are_read_in_turn() {
        let (a, b) = (&TEXT[..20], &TEXT[20..]);
        for packed in [
            [gzip(a), gzip(b)].concat(),
            [zstd(a), zstd(b)].concat(),
            [xz(a), xz(b)].concat(),
            // xz stream padding: zero bytes in fours between streams.
            [xz(a), vec![0; 8], xz(b)].concat(),
            // A skippable frame first (as pzstd writes), and one between frames.
            [
                vec![0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3],
                zstd(a),
                vec![0x5f, 0x2a, 0x4d, 0x18, 0, 0, 0, 0],
                zstd(b),
            ]
            .concat(),
        ] {
            let (_, out) = decompress(&packed);
            assert_eq!(out.unwrap(), TEXT);
        }
    }

    #[test]
    fn a_stream_cut_short_is_a_truncated_problem() {
        for packed in [gzip(TEXT), zstd(TEXT), xz(TEXT)] {
            for cut in 7..packed.len() {
                let (c, out) = decompress(&packed[..cut]);
                let e = out.expect_err("cut short");
                match problem(e) {
                    CaptureProblem::CompressedTruncated { compression, .. } => {
                        assert_eq!(Some(compression), c)
                    }
                    other => panic!("{c:?} cut at {cut}: {other}"),
                }
            }
        }
    }

    #[test]
    fn corrupt_streams_and_trailing_garbage_are_corrupt_problems() {
        for packed in [gzip(TEXT), zstd(TEXT), xz(TEXT)] {
            // Trailing bytes that start nothing.
            let mut trailing = packed.clone();
            trailing.extend_from_slice(&[b'g'; 64]);
            let (_, out) = decompress(&trailing);
            let p = problem(out.unwrap_err());
            assert!(matches!(p, CaptureProblem::CompressedCorrupt { .. }), "{p}");
            // The last byte of the content (or of its checksum) changed.
            let mut flipped = packed.clone();
            let at = packed.len() - 2;
            flipped[at] ^= 0x55;
            let (_, out) = decompress(&flipped);
            let p = problem(out.unwrap_err());
            assert!(matches!(p, CaptureProblem::CompressedCorrupt { .. }), "{p}");
        }
    }

    #[test]
    fn a_zstd_window_over_the_limit_is_refused_before_any_allocation() {
        // Frame header: magic, descriptor 0x00 (window descriptor present, no checksum, no
        // content size), window descriptor 0xa8: exponent 21, a window of 2^(10 + 21) bytes.
        let packed = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x01, 0x00, 0x00];
        let (_, out) = decompress(&packed);
        let p = problem(out.unwrap_err());
        assert!(
            p.to_string()
                .contains("a frame's window is over the limit of 134217728 bytes"),
            "{p}"
        );
    }

    /// The same compressed piece over and over, without end.
    struct Endless {
        piece: Vec<u8>,
        pos: usize,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.piece.len() {
                self.pos = 0;
            }
            let n = buf.len().min(self.piece.len() - self.pos);
            buf[..n].copy_from_slice(&self.piece[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    /// A compression bomb without end (a member, frame or stream of a mebibyte of zeros,
    /// repeated): the first bytes come out as they are read, so a decoder that expanded the
    /// whole input first would never return.
    #[test]
    fn an_endless_bomb_is_decompressed_as_it_is_read() {
        let zeros = vec![0u8; 1 << 20];
        for piece in [gzip(&zeros), zstd(&zeros), xz(&zeros)] {
            assert!(piece.len() < 1 << 14, "{}", piece.len());
            let (_, r) = open(Endless { piece, pos: 0 }).unwrap();
            let mut got = 0u64;
            let mut buf = vec![0u8; 64 * 1024];
            let mut r = r.take(24 << 20);
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                assert!(buf[..n].iter().all(|b| *b == 0));
                got += n as u64;
            }
            assert_eq!(got, 24 << 20);
        }
    }

    /// A read error of the input itself passes through: it is no decoding problem.
    #[test]
    fn read_errors_pass_through() {
        struct Failing(Vec<u8>, bool);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.1 {
                    return Err(io::Error::other("disk on fire"));
                }
                self.1 = true;
                let n = self.0.len().min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                Ok(n)
            }
        }
        let packed = gzip(&[7u8; 100_000]);
        let (_, mut r) = open(Failing(packed[..64].to_vec(), false)).unwrap();
        let e = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "disk on fire");
    }
}
