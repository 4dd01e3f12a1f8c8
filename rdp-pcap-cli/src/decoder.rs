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
//! With an [`Ahead`] (JSON lines), the thread also renders the finished connections' lines: it
//! is the one that waits for the other, and it renders while it would wait (`crate::ahead`).
//!
//! Memory: at most [`BATCHES`] batches queued, one being filled and one being analysed, and no
//! others (used ones are filled again): each holds at most [`BATCH_SEGMENTS`] segment headers
//! (152 bytes each) and [`BATCH_PAYLOAD`] bytes of payload and SYN options plus one segment's,
//! which is at most 64 KiB (an IP packet) but for records captured before TCP segmentation
//! offload (an IP length of 0, up to the 16 MiB record limit): under 4 MiB in all for ordinary
//! captures.

use std::cell::Cell;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::thread::{Scope, ScopedJoinHandle};

use crate::ahead::{Ahead, HangUp, Leaving};
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

/// Reads and decodes the capture in `reader` on a new thread and calls `on_segment` here with
/// `state` for every TCP segment, in capture order; then `finish` with `state` and the
/// capture's summary, while the thread still runs to render what `finish` hands to `ahead`
/// (see [`crate::ahead`]: with `ahead`, the thread also renders the records handed over while
/// the segments are analysed).
///
/// `on_segment` returns `false` to stop early (the report can no longer be written): the
/// thread then stops reading, and the summary is that of the part read. Returns `state` back,
/// having read nothing, when the thread cannot be started (`ahead` is then told its renderer
/// has left). A panic of the thread is passed on.
pub fn decode_on_thread<R: Read + Send, S, T>(
    reader: R,
    ahead: Option<&Ahead>,
    state: S,
    on_segment: impl FnMut(&mut S, &TcpPacket<'_>) -> bool,
    finish: impl FnOnce(S, CaptureSummary) -> T,
) -> Result<T, S> {
    decode_with(reader, BatchLimits::ONE, ahead, state, on_segment, finish)
}

/// A capture being decoded on a thread of its own: its batches arrive on `batches`, used ones
/// go back on `spare`, and `thread` ends with what it was given to do after the last batch
/// (for [`spawn_decoder`], return the capture's summary); dropping `batches` stops it.
pub(crate) struct Decoder<'scope, X = CaptureSummary> {
    pub(crate) batches: Receiver<Batch>,
    pub(crate) spare: SyncSender<Batch>,
    pub(crate) thread: ScopedJoinHandle<'scope, X>,
}

/// Starts decoding `reader` on a new thread of `scope`; `None`, having read nothing, when the
/// thread cannot be started.
pub(crate) fn spawn_decoder<'scope, R: Read + Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    reader: R,
    limits: BatchLimits,
) -> Option<Decoder<'scope>> {
    spawn_then(scope, reader, limits, None, |summary| summary)
}

/// [`spawn_decoder`], rendering records for `ahead` too, and ending with `then`.
fn spawn_then<'scope, R: Read + Send + 'scope, X: Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    reader: R,
    limits: BatchLimits,
    ahead: Option<&'scope Ahead>,
    then: impl FnOnce(CaptureSummary) -> X + Send + 'scope,
) -> Option<Decoder<'scope, X>> {
    let (full_tx, full_rx) = sync_channel::<Batch>(limits.queued);
    let (spare_tx, spare_rx) = sync_channel::<Batch>(limits.queued.saturating_add(2));
    let thread = std::thread::Builder::new()
        .name("rdp-pcap-decode".into())
        .spawn_scoped(scope, move || {
            // Told when this thread ends, by a return or a panic.
            let _leaving = ahead.map(Leaving);
            then(decode(reader, limits, full_tx, &spare_rx, ahead))
        })
        .ok()?;
    Some(Decoder {
        batches: full_rx,
        spare: spare_tx,
        thread,
    })
}

/// The decoding thread: the capture in batches to `full`, reusing those that come back on
/// `spare`, until the capture ends or `full` is closed; `full` is dropped at the end, which
/// tells the analysing thread there are no more. With `ahead`, records are rendered as well.
fn decode<R: Read>(
    reader: R,
    limits: BatchLimits,
    full: SyncSender<Batch>,
    spare: &Receiver<Batch>,
    ahead: Option<&Ahead>,
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
            if !hand_over(&full, std::mem::replace(&mut batch, next), ahead) {
                stopped.set(true);
            }
        }
    });
    if !stopped.get() && !batch.segments.is_empty() {
        hand_over(&full, batch, ahead);
    }
    summary
}

/// Sends `batch`; `false` if the analysing thread takes no more. With `ahead`, the records
/// waiting are rendered first, and while the queue is full: the thread waits only when there
/// is nothing to render.
fn hand_over(full: &SyncSender<Batch>, batch: Batch, ahead: Option<&Ahead>) -> bool {
    let Some(ahead) = ahead else {
        return full.send(batch).is_ok();
    };
    ahead.render_waiting();
    let mut batch = batch;
    loop {
        let seen = ahead.taken();
        match full.try_send(batch) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(back)) => {
                batch = back;
                ahead.render_until_taken(seen);
            }
        }
    }
}

/// [`decode_on_thread`] with other batch limits.
fn decode_with<R: Read + Send, S, T>(
    reader: R,
    limits: BatchLimits,
    ahead: Option<&Ahead>,
    mut state: S,
    mut on_segment: impl FnMut(&mut S, &TcpPacket<'_>) -> bool,
    finish: impl FnOnce(S, CaptureSummary) -> T,
) -> Result<T, S> {
    std::thread::scope(|scope| {
        let Some(ahead) = ahead else {
            let Some(decoder) = spawn_decoder(scope, reader, limits) else {
                return Err(state);
            };
            consume(
                decoder.batches,
                &mut |seg| on_segment(&mut state, seg),
                |used| {
                    let _ = decoder.spare.try_send(used);
                },
                None,
            );
            let summary = match decoder.thread.join() {
                Ok(summary) => summary,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            return Ok(finish(state, summary));
        };
        let then = |summary| {
            ahead.hand_summary(summary);
            ahead.serve();
        };
        let Some(decoder) = spawn_then(scope, reader, limits, Some(ahead), then) else {
            // Nobody will render: the analysing thread does (`Ahead::take`).
            drop(Leaving(ahead));
            return Err(state);
        };
        // Told when this ends, by a return or a panic: the thread must not wait for batches
        // to be taken or records handed over.
        let hang_up = HangUp(ahead);
        consume(
            decoder.batches,
            &mut |seg| on_segment(&mut state, seg),
            |used| {
                let _ = decoder.spare.try_send(used);
            },
            Some(ahead),
        );
        let Some(summary) = ahead.summary() else {
            // The thread left without the summary: it panicked.
            match decoder.thread.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(()) => std::panic::resume_unwind(Box::new(
                    "the decoding thread ended without the capture's summary",
                )),
            }
        };
        let done = finish(state, summary);
        drop(hang_up);
        if let Err(panic) = decoder.thread.join() {
            std::panic::resume_unwind(panic);
        }
        Ok(done)
    })
}

/// Hands every segment of every batch to `on_segment` until the batches end or it says stop,
/// then lets go of `batches` (which tells the decoder) and tells `ahead`; used batches go back
/// through `recycle`.
fn consume(
    batches: Receiver<Batch>,
    on_segment: &mut impl FnMut(&TcpPacket<'_>) -> bool,
    mut recycle: impl FnMut(Batch),
    ahead: Option<&Ahead>,
) {
    'batches: for batch in batches.iter() {
        if let Some(ahead) = ahead {
            ahead.batch_taken();
        }
        // Over the headers, not by index: this loop runs once per segment of the capture.
        for (header, start, options_end, end) in &batch.segments {
            let seg = TcpPacket {
                options: batch.payload.get(*start..*options_end).unwrap_or_default(),
                payload: batch.payload.get(*options_end..*end).unwrap_or_default(),
                ..*header
            };
            if !on_segment(&seg) {
                break 'batches;
            }
        }
        recycle(batch);
    }
    drop(batches);
    if let Some(ahead) = ahead {
        ahead.hang_up();
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
                let summary = decode_with(
                    &bytes[..],
                    limits,
                    None,
                    (),
                    |(), seg| {
                        got.push(format!("{seg:?}"));
                        true
                    },
                    |(), summary| summary,
                )
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
        let summary = decode_with(
            Endless { bytes, pos: 0 },
            limits,
            None,
            (),
            |(), _| {
                seen += 1;
                seen < 3
            },
            |(), summary| summary,
        )
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
