//! Decoding a capture on a second thread while the first one analyses it.
//!
//! [`decode_on_thread`] runs [`capture::read_capture`] on a thread of its own: reading the file
//! (the kernel's copy from the page cache), framing pcap and pcapng records, decoding link, IP
//! and TCP headers and putting IP fragments back together. The TCP segments it finds are handed
//! to the calling thread in batches, in capture order, and the calling thread reassembles,
//! analyses and reports them exactly as it would have on its own. Measured on a 200 MiB capture,
//! the decoding thread's part is about a third of the work (`docs/performance.md`).
//!
//! A batch owns a copy of its segments' payloads: the capture reader reuses its buffer for the
//! next records, and the copy of a buffer that was just read is cheap next to the kernel's.
//!
//! Memory: at most [`BATCHES`] batches queued, one being filled and one being analysed, and no
//! others (used ones are filled again): each holds at most [`BATCH_SEGMENTS`] segment headers
//! (152 bytes each) and [`BATCH_PAYLOAD`] bytes of payload and SYN options plus one segment's,
//! which is at most 64 KiB (an IP packet) but for records captured before TCP segmentation
//! offload (an IP length of 0, up to the 16 MiB record limit): under 4 MiB in all for ordinary
//! captures.

use std::cell::Cell;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::{Scope, ScopedJoinHandle};

use crate::capture::{self, CaptureSummary, TcpPacket};

/// A reader that ends as soon as `stopped` is set.
pub(crate) struct StopReader<'s, R> {
    pub(crate) inner: R,
    pub(crate) stopped: &'s Cell<bool>,
}

impl<R: Read> Read for StopReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stopped.get() {
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

/// Payload bytes after which a batch is handed over.
pub const BATCH_PAYLOAD: usize = 256 * 1024;
/// Segments after which a batch is handed over.
pub const BATCH_SEGMENTS: usize = 2048;
/// Batches queued between the threads.
pub const BATCHES: usize = 4;

/// How large batches grow and how many wait between the threads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchLimits {
    /// Payload bytes after which a batch is handed over.
    pub(crate) payload: usize,
    /// Segments after which a batch is handed over.
    pub(crate) segments: usize,
    /// Batches queued.
    pub(crate) queued: usize,
}

impl BatchLimits {
    /// One capture decoded beside the analysis.
    pub(crate) const ONE: BatchLimits = BatchLimits {
        payload: BATCH_PAYLOAD,
        segments: BATCH_SEGMENTS,
        queued: BATCHES,
    };
}

/// Decoded segments and their payloads.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Each segment with an empty payload and no options ([`TcpPacket::with_payload`]), and
    /// where its options and payload are in `payload`: `start..options_end` and
    /// `options_end..end`.
    pub(crate) segments: Vec<(TcpPacket<'static>, usize, usize, usize)>,
    pub(crate) payload: Vec<u8>,
}

impl Batch {
    /// Copies the segment: its payload, and a SYN's TCP options (the reassembler reads the
    /// window scale a SYN announces, RFC 7323 2.2; no other segment's options are read past
    /// the capture reader, so they are not copied).
    fn push(&mut self, pkt: &TcpPacket<'_>) {
        let start = self.payload.len();
        if pkt.flags.syn() {
            self.payload.extend_from_slice(pkt.options);
        }
        let options_end = self.payload.len();
        self.payload.extend_from_slice(pkt.payload);
        let header = pkt.with_payload(&[]);
        self.segments
            .push((header, start, options_end, self.payload.len()));
    }

    fn is_full(&self, limits: &BatchLimits) -> bool {
        self.payload.len() >= limits.payload || self.segments.len() >= limits.segments
    }

    /// The segment at `index`, with its payload.
    pub(crate) fn segment(&self, index: usize) -> Option<TcpPacket<'_>> {
        let (header, start, options_end, end) = self.segments.get(index)?;
        Some(TcpPacket {
            options: self.payload.get(*start..*options_end).unwrap_or_default(),
            payload: self.payload.get(*options_end..*end).unwrap_or_default(),
            ..*header
        })
    }

    /// The batch emptied for reuse; a payload buffer that one outsized segment grew is let go.
    pub(crate) fn cleared(mut self, limits: &BatchLimits) -> Self {
        self.segments.clear();
        self.payload.clear();
        if self.payload.capacity() > limits.payload.saturating_mul(2) {
            self.payload = Vec::new();
        }
        self
    }
}

/// Reads and decodes the capture in `reader` on a new thread and calls `on_segment` here for
/// every TCP segment, in capture order; returns the capture's summary once every segment has
/// been handed over.
///
/// `on_segment` returns `false` to stop early (the report can no longer be written): the
/// thread then stops reading, and the summary is that of the part read. Returns `None`, having
/// read nothing, when the thread cannot be started. A panic of the thread is passed on.
pub fn decode_on_thread<R: Read + Send>(
    reader: R,
    on_segment: impl FnMut(&TcpPacket<'_>) -> bool,
) -> Option<CaptureSummary> {
    decode_with(reader, BatchLimits::ONE, on_segment)
}

/// A capture being decoded on a thread of its own: its batches arrive on `batches`, used ones
/// go back on `spare`, and `thread` ends with the capture's summary once the last batch is sent
/// (or once `batches` is dropped, which stops it).
pub(crate) struct Decoder<'scope> {
    pub(crate) batches: Receiver<Batch>,
    pub(crate) spare: SyncSender<Batch>,
    pub(crate) thread: ScopedJoinHandle<'scope, CaptureSummary>,
}

/// Starts decoding `reader` on a new thread of `scope`; `None`, having read nothing, when the
/// thread cannot be started.
pub(crate) fn spawn_decoder<'scope, R: Read + Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    reader: R,
    limits: BatchLimits,
) -> Option<Decoder<'scope>> {
    let (full_tx, full_rx) = sync_channel::<Batch>(limits.queued);
    let (spare_tx, spare_rx) = sync_channel::<Batch>(limits.queued.saturating_add(2));
    let thread = std::thread::Builder::new()
        .name("rdp-pcap-decode".into())
        .spawn_scoped(scope, move || decode(reader, limits, &full_tx, &spare_rx))
        .ok()?;
    Some(Decoder {
        batches: full_rx,
        spare: spare_tx,
        thread,
    })
}

/// The decoding thread: the capture in batches to `full`, reusing those that come back on
/// `spare`, until the capture ends or `full` is closed.
fn decode<R: Read>(
    reader: R,
    limits: BatchLimits,
    full: &SyncSender<Batch>,
    spare: &Receiver<Batch>,
) -> CaptureSummary {
    let stopped = Cell::new(false);
    let reader = StopReader {
        inner: reader,
        stopped: &stopped,
    };
    let mut batch = Batch::default();
    let summary = capture::read_capture(reader, &mut |pkt: &TcpPacket<'_>| {
        if stopped.get() {
            return;
        }
        batch.push(pkt);
        if batch.is_full(&limits) {
            let next = spare
                .try_recv()
                .map(|b| b.cleared(&limits))
                .unwrap_or_default();
            if full.send(std::mem::replace(&mut batch, next)).is_err() {
                stopped.set(true);
            }
        }
    });
    if !stopped.get() && !batch.segments.is_empty() {
        let _ = full.send(batch);
    }
    summary
}

/// [`decode_on_thread`] with other batch limits.
fn decode_with<R: Read + Send>(
    reader: R,
    limits: BatchLimits,
    mut on_segment: impl FnMut(&TcpPacket<'_>) -> bool,
) -> Option<CaptureSummary> {
    std::thread::scope(|scope| {
        let decoder = spawn_decoder(scope, reader, limits)?;
        consume(decoder.batches, &mut on_segment, |used| {
            let _ = decoder.spare.try_send(used);
        });
        match decoder.thread.join() {
            Ok(summary) => Some(summary),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Hands every segment of every batch to `on_segment` until the batches end or it says stop
/// (dropping `batches` then tells the decoder); used batches go back through `recycle`.
fn consume(
    batches: Receiver<Batch>,
    on_segment: &mut impl FnMut(&TcpPacket<'_>) -> bool,
    mut recycle: impl FnMut(Batch),
) {
    for batch in batches.iter() {
        // Over the headers, not by index: this loop runs once per segment of the capture.
        for (header, start, options_end, end) in &batch.segments {
            let seg = TcpPacket {
                options: batch.payload.get(*start..*options_end).unwrap_or_default(),
                payload: batch.payload.get(*options_end..*end).unwrap_or_default(),
                ..*header
            };
            if !on_segment(&seg) {
                return;
            }
        }
        recycle(batch);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use std::io;

    pub(crate) fn sample(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../samples")
            .join(name);
        std::fs::read(path).unwrap()
    }

    /// Every segment as the one-thread reader hands it out, payload included.
    fn direct(bytes: &[u8]) -> (Vec<String>, CaptureSummary) {
        let mut out = Vec::new();
        let summary = capture::read_capture(bytes, &mut |pkt: &TcpPacket<'_>| {
            // As a batch holds it: TCP options for a SYN only.
            let options = if pkt.flags.syn() { pkt.options } else { &[] };
            out.push(format!(
                "{:?}",
                TcpPacket {
                    options,
                    ..pkt.with_payload(pkt.payload)
                }
            ));
        });
        (out, summary)
    }

    #[test]
    fn same_segments_in_the_same_order_as_on_one_thread() {
        for name in ["tls-ok.pcap", "nla-ok.pcap", "rdp-standard-security.pcap"] {
            let bytes = sample(name);
            let (want, want_summary) = direct(&bytes);
            assert!(want.len() > 20, "{name}");
            // One batch, and batches of one and of seven segments (the samples are small).
            for max_segments in [BATCH_SEGMENTS, 1, 7] {
                let mut got = Vec::new();
                let limits = BatchLimits {
                    segments: max_segments,
                    ..BatchLimits::ONE
                };
                let summary = decode_with(&bytes[..], limits, |seg| {
                    got.push(format!("{seg:?}"));
                    true
                })
                .unwrap();
                assert_eq!(got, want, "{name} {max_segments}");
                let summary = format!("{summary:?}");
                assert_eq!(summary, format!("{want_summary:?}"), "{name}");
            }
        }
    }

    /// A capture without end: the file header of `bytes`, then its records over and over.
    pub(crate) struct Endless {
        pub(crate) bytes: Vec<u8>,
        pub(crate) pos: usize,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pos >= self.bytes.len() {
                self.pos = 24;
            }
            let n = buf.len().min(self.bytes.len() - self.pos);
            buf[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    #[test]
    fn stopping_early_ends_the_decoder() {
        let bytes = sample("tls-ok.pcap");
        let mut seen = 0usize;
        // Without the stop this would never return.
        let limits = BatchLimits {
            segments: 1,
            ..BatchLimits::ONE
        };
        let summary = decode_with(Endless { bytes, pos: 0 }, limits, |_| {
            seen += 1;
            seen < 3
        })
        .unwrap();
        assert_eq!(seen, 3);
        assert!(summary.stats.packets >= 3);
    }

    #[test]
    fn batches_are_handed_over_when_full() {
        let mut batch = Batch::default();
        let payload = vec![7u8; 1000];
        let pkt = TcpPacket {
            frame: 1,
            ts: rdp_wire::Timestamp::from_secs_nanos(1, 2),
            src: "10.0.0.1:50000".parse().unwrap(),
            dst: "10.0.0.2:3389".parse().unwrap(),
            seq: 1,
            ack: 2,
            flags: capture::TcpFlags(0x18),
            window: 0,
            options: &[],
            payload: &payload,
            payload_truncated: false,
            reassembled: false,
            fragment_conflicts: 0,
            fragment_copy: false,
        };
        let mut pushed = 0;
        while !batch.is_full(&BatchLimits::ONE) {
            batch.push(&pkt);
            pushed += 1;
        }
        assert_eq!(pushed, BATCH_PAYLOAD.div_ceil(1000));
        let (seg, start, options_end, end) = batch.segments[5];
        // Not a SYN: its options are not copied.
        assert_eq!(start, options_end);
        assert_eq!(&batch.payload[options_end..end], &payload[..]);
        assert_eq!(seg.ts.as_nanos(), 1_000_000_002);
        assert!(seg.flags.ack() && !seg.flags.syn());
        let batch = batch.cleared(&BatchLimits::ONE);
        assert!(batch.segments.is_empty() && batch.payload.is_empty());
        // The memory bound in the module docs.
        assert!(std::mem::size_of::<(TcpPacket<'static>, usize, usize, usize)>() <= 152);
    }
}
