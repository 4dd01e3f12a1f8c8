//! `--merge`: the files of one invocation read as one capture, their packets in timestamp order
//! (a k-way merge, as `mergecap` does), so that a connection split across the files of a ring
//! buffer (`tcpdump -C`/`-G`, `dumpcap -b`) is one connection with one verdict.
//!
//! # Opening files only when the merge reaches them
//! Each file is first read up to its first TCP segment, for that segment's time ([`prepare`]).
//! The merge then opens a file when its first time is due: when no open file has an earlier
//! segment left. Each open file is decoded on a thread of its own ([`crate::decoder`]), in small
//! batches (`MERGE_BATCHES`); a file is closed when its last segment has been merged. The
//! files of a ring buffer follow each other in time, so one or two are open at once however
//! many there are; files whose times overlap are open together, as they must be.
//!
//! Like `mergecap`, the merge takes each file to be in time order: it compares the next segment
//! of each open file, so a segment that comes earlier in time after later ones in its file is
//! merged in its file's order. Segments of equal times come in the order the files were given.
//!
//! # Frame numbers
//! A merged segment's frame number carries its file ([`tag_frame`]): a record then names the
//! file of the connection's first packet and that packet's frame number in that file, which is
//! what the user opens in Wireshark.

use rdp_wire::Bump as _;
use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read};

use rdp_wire::Timestamp;

use crate::capture::{self, CaptureFormat, CaptureStats, CaptureSummary, TcpPacket};
use crate::decoder::{self, Batch, BatchLimits, Decoder, StopReader};
use crate::input::{self, Compression, Input};
use crate::output::{Output, RunState};
use crate::pipeline::Options;
use crate::record::CaptureReport;
use crate::report::Reporter;
use crate::session::{tag_frame, Session};

/// Batches of each open file: 64 KiB of payload or 512 segments, two queued, so that each open
/// file holds under half a mebibyte of decoded segments (plus its capture reader's buffer).
pub(crate) const MERGE_BATCHES: BatchLimits = BatchLimits {
    payload: 64 * 1024,
    segments: 512,
    queued: 2,
};

/// One input to merge, read up to its first TCP segment.
#[derive(Debug)]
pub struct Prepared {
    input: Input,
    name: String,
    /// The first TCP segment's time; `None` for standard input (opened at once, since it
    /// cannot be read twice) and for a file read to its end already (below).
    first_ts: Option<Timestamp>,
    /// A file without TCP segments was read whole while looking for the first: its summary.
    done: Option<(Option<Compression>, CaptureSummary)>,
}

/// Reads each file up to its first TCP segment. Files that cannot be opened come back as
/// `(name, message)` problems, in order; the others are ready for [`analyze`].
pub fn prepare(inputs: Vec<Input>) -> (Vec<Prepared>, Vec<(String, String)>) {
    let mut ready = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        let name = input.name();
        let Input::File(path) = &input else {
            ready.push(Prepared {
                input,
                name,
                first_ts: None,
                done: None,
            });
            continue;
        };
        let opened = std::fs::File::open(path).and_then(input::decompress);
        let (compression, reader) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                problems.push((name, input::io_message(&e)));
                continue;
            }
        };
        let mut first = None;
        let stopped = Cell::new(false);
        let reader = StopReader {
            inner: reader,
            stopped: &stopped,
        };
        let summary = capture::read_capture(reader, &mut |pkt: &TcpPacket<'_>| {
            if first.is_none() {
                first = Some(pkt.ts);
                stopped.set(true);
            }
        });
        let done = first.is_none().then_some((compression, summary));
        ready.push(Prepared {
            input,
            name,
            first_ts: first,
            done,
        });
    }
    (ready, problems)
}

/// The name of the merged capture: the files joined by ` + `, shortened past three.
pub fn merged_name(names: &[String]) -> String {
    match names {
        [first, .., last] if names.len() > 3 => {
            format!("{first} + {} more + {last}", names.len().saturating_sub(2))
        }
        _ => names.join(" + "),
    }
}

/// One file being merged.
struct Open<'scope> {
    decoder: Decoder<'scope>,
    batch: Batch,
    /// The next segment of `batch`.
    next: usize,
}

impl Open<'_> {
    /// The time of the next segment, fetching the next batch when this one is used up;
    /// `None` once the file has no more.
    fn next_ts(&mut self) -> Option<Timestamp> {
        loop {
            if let Some((seg, ..)) = self.batch.segments.get(self.next) {
                return Some(seg.ts);
            }
            let batch = self.decoder.batches.recv().ok()?;
            let used = std::mem::replace(&mut self.batch, batch);
            let _ = self.decoder.spare.try_send(used.cleared(&MERGE_BATCHES));
            self.next = 0;
        }
    }
}

/// What each file gave: its compression and summary, in the order given.
type Finished = Vec<Option<(Option<Compression>, CaptureSummary)>>;

/// Analyses the prepared files as one capture, handing records to `reporter` as they are
/// ready; returns the merged capture's report (an error only when writing the report failed).
/// Problems of one file (cut short, corrupt, a thread that cannot start) are that file's, in
/// the report's `problems` as `name: problem`; the merge goes on with the others.
pub fn analyze(
    files: Vec<Prepared>,
    options: &Options,
    run: &mut RunState,
    reporter: &mut dyn Reporter,
) -> io::Result<CaptureReport> {
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    let name = merged_name(&names);
    let caches = std::mem::take(&mut run.caches);
    let mut out = Output::new(run, reporter);
    let mut sink = |rec| out.record(rec);
    let mut session = Session::merged(
        &name,
        names.clone(),
        &options.ports,
        options.timeline,
        caches,
        &mut sink,
    );
    let mut extra: Vec<(usize, String)> = Vec::new();
    let (finished, _) = merge(files, &mut session, &mut extra);
    let summaries: Vec<(Option<Compression>, &CaptureSummary)> =
        finished.iter().flatten().map(|(c, s)| (*c, s)).collect();
    let analysed = session.finish(combined(summaries.iter().map(|(_, s)| *s)));
    let mut report = out.finish(&name, analysed)?;
    report.merged_from.clone_from(&names);
    report.format = joined(summaries.iter().filter_map(|(_, s)| match s.format {
        CaptureFormat::Unknown => None,
        CaptureFormat::Pcap { .. } => Some("pcap"),
        CaptureFormat::PcapNg { .. } => Some("pcapng"),
    }));
    let compressions: Vec<Option<Compression>> = summaries.iter().map(|(c, _)| *c).collect();
    report.compression = match compressions.first() {
        Some(first) if compressions.iter().all(|c| c == first) => *first,
        _ => None,
    };
    let mut problems: Vec<(usize, String)> = Vec::new();
    for (index, result) in finished.iter().enumerate() {
        if let Some((_, summary)) = result {
            problems.extend(summary.problems.iter().map(|p| (index, p.to_string())));
        }
    }
    problems.extend(extra);
    // Stable: each file's problems in the order met.
    problems.sort_by_key(|(index, _)| *index);
    report.problems = problems
        .into_iter()
        .map(|(index, p)| match names.get(index) {
            Some(file) => format!("{file}: {p}"),
            None => p,
        })
        .collect();
    Ok(report)
}

/// The distinct values joined by `+`, in order of first appearance.
fn joined<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut seen: Vec<&str> = Vec::new();
    for v in values {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    (!seen.is_empty()).then(|| seen.join("+"))
}

/// The k-way merge: every segment of every file to `session`, in time order. Returns each
/// file's compression and summary, and the most files that were open at once; problems that
/// are no file's summary's go to `extra`.
fn merge(
    files: Vec<Prepared>,
    session: &mut Session<'_>,
    extra: &mut Vec<(usize, String)>,
) -> (Finished, usize) {
    let mut finished: Finished = files.iter().map(|_| None).collect();
    // Files not opened yet, by their first segment's time (standard input first).
    let mut pending: BinaryHeap<Reverse<(Timestamp, usize)>> = BinaryHeap::new();
    let mut inputs: Vec<Option<Input>> = Vec::new();
    for (index, file) in files.into_iter().enumerate() {
        match file.done {
            Some(done) => {
                if let Some(slot) = finished.get_mut(index) {
                    *slot = Some(done);
                }
                inputs.push(None);
            }
            None => {
                pending.push(Reverse((file.first_ts.unwrap_or(Timestamp::MIN), index)));
                inputs.push(Some(file.input));
            }
        }
    }
    let most_open = std::thread::scope(|scope| {
        let mut open: Vec<Option<Open<'_>>> = inputs.iter().map(|_| None).collect();
        let mut compressions: Vec<Option<Compression>> = inputs.iter().map(|_| None).collect();
        // Open files by their next segment's time.
        let mut heads: BinaryHeap<Reverse<(Timestamp, usize)>> = BinaryHeap::new();
        let mut stopped = false;
        let mut most_open = 0usize;
        loop {
            let head = heads.peek().map(|Reverse((ts, _))| *ts);
            if let Some(&Reverse((first, index))) = pending.peek() {
                if head.is_none_or(|head| first <= head) {
                    pending.pop();
                    let input = inputs.get_mut(index).and_then(Option::take);
                    match input.map(|input| start(scope, &input)) {
                        Some(Ok((compression, mut file))) => {
                            if let Some(slot) = compressions.get_mut(index) {
                                *slot = compression;
                            }
                            match file.next_ts() {
                                Some(ts) => {
                                    heads.push(Reverse((ts, index)));
                                    if let Some(slot) = open.get_mut(index) {
                                        *slot = Some(file);
                                    }
                                    most_open = most_open.max(heads.len());
                                }
                                None => close(file, compression, index, &mut finished),
                            }
                        }
                        Some(Err(message)) => extra.push((index, message)),
                        None => {}
                    }
                    continue;
                }
            }
            let Some(Reverse((_, index))) = heads.pop() else {
                break;
            };
            let Some(file) = open.get_mut(index).and_then(Option::as_mut) else {
                continue;
            };
            if let Some(seg) = file.batch.segment(file.next) {
                let seg = TcpPacket {
                    frame: tag_frame(index, seg.frame),
                    ..seg
                };
                if !session.push(&seg) {
                    stopped = true;
                    break;
                }
            }
            file.next.bump();
            match file.next_ts() {
                Some(ts) => heads.push(Reverse((ts, index))),
                None => {
                    if let Some(file) = open.get_mut(index).and_then(Option::take) {
                        let compression = compressions.get(index).copied().flatten();
                        close(file, compression, index, &mut finished);
                    }
                }
            }
        }
        if stopped {
            // Dropping the open files' queues stops their threads; the scope joins them.
            open.clear();
        }
        most_open
    });
    (finished, most_open)
}

/// Opens one input and starts decoding it on a thread of `scope`.
fn start<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    input: &Input,
) -> Result<(Option<Compression>, Open<'scope>), String> {
    let raw: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(io::stdin()),
        Input::File(path) => {
            Box::new(std::fs::File::open(path).map_err(|e| input::io_message(&e))?)
        }
    };
    let (compression, reader) = input::decompress(raw).map_err(|e| input::io_message(&e))?;
    let decoder = decoder::spawn_decoder(scope, reader, MERGE_BATCHES)
        .ok_or_else(|| "cannot start a thread to decode it".to_string())?;
    Ok((
        compression,
        Open {
            decoder,
            batch: Batch::default(),
            next: 0,
        },
    ))
}

/// A file whose segments have all been merged: its summary, once its thread ends.
fn close(file: Open<'_>, compression: Option<Compression>, index: usize, finished: &mut Finished) {
    let Open { decoder, .. } = file;
    drop(decoder.batches);
    let summary = match decoder.thread.join() {
        Ok(summary) => summary,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    if let Some(slot) = finished.get_mut(index) {
        *slot = Some((compression, summary));
    }
}

/// One summary for the merged files: their counters added up (the problems are reported per
/// file, with the file's name).
fn combined<'a>(summaries: impl Iterator<Item = &'a CaptureSummary>) -> CaptureSummary {
    let mut stats = CaptureStats::default();
    let mut format = CaptureFormat::Unknown;
    for s in summaries {
        if format == CaptureFormat::Unknown {
            format = s.format;
        }
        add_stats(&mut stats, &s.stats);
    }
    CaptureSummary {
        format,
        stats,
        problems: Vec::new(),
        tls_key_logs: Vec::new(),
        first_ts: None,
        last_ts: None,
    }
}

fn add_stats(total: &mut CaptureStats, s: &CaptureStats) {
    let CaptureStats {
        packets,
        bytes,
        tcp_packets,
        non_tcp_packets,
        undecodable_packets,
        unknown_linktype_packets,
        truncated_packets,
        ip_fragments_seen,
        ip_fragments_reassembled,
        ip_fragments_dropped,
        ip_datagrams_reassembled,
        reassembled_tcp_packets,
        sections,
        interfaces,
        decryption_secrets_blocks,
        ignored_blocks,
        problems_suppressed,
        duplicate_packets,
    } = s;
    for (sum, add) in [
        (&mut total.packets, packets),
        (&mut total.bytes, bytes),
        (&mut total.tcp_packets, tcp_packets),
        (&mut total.non_tcp_packets, non_tcp_packets),
        (&mut total.undecodable_packets, undecodable_packets),
        (
            &mut total.unknown_linktype_packets,
            unknown_linktype_packets,
        ),
        (&mut total.truncated_packets, truncated_packets),
        (&mut total.ip_fragments_seen, ip_fragments_seen),
        (
            &mut total.ip_fragments_reassembled,
            ip_fragments_reassembled,
        ),
        (&mut total.ip_fragments_dropped, ip_fragments_dropped),
        (
            &mut total.ip_datagrams_reassembled,
            ip_datagrams_reassembled,
        ),
        (&mut total.reassembled_tcp_packets, reassembled_tcp_packets),
        (&mut total.duplicate_packets, duplicate_packets),
        (&mut total.sections, sections),
        (&mut total.interfaces, interfaces),
        (
            &mut total.decryption_secrets_blocks,
            decryption_secrets_blocks,
        ),
        (&mut total.ignored_blocks, ignored_blocks),
        (&mut total.problems_suppressed, problems_suppressed),
    ] {
        *sum = sum.saturating_add(*add);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    use crate::fuzzing::synth::pcap_records;

    /// A ring buffer of 40 files, one after the other in time: never more than one open at
    /// once (the next one opens when the last segment of the one before has been merged).
    #[test]
    fn files_that_follow_each_other_are_opened_one_at_a_time() {
        let capture = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/nla-ok.pcap"),
        )
        .unwrap();
        let (header, records) = pcap_records(&capture);
        let dir = std::env::temp_dir().join(format!("rdp-pcap-merge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let per_file = records.len().div_ceil(40);
        let mut inputs = Vec::new();
        for (i, chunk) in records.chunks(per_file).enumerate() {
            let path = dir.join(format!("ring{i:02}.pcap"));
            std::fs::write(&path, [header.clone(), chunk.concat()].concat()).unwrap();
            inputs.push(Input::File(path));
        }
        let count = inputs.len();
        assert!(count >= 30, "{count}");
        // Given in reverse: the merge orders them by time all the same.
        inputs.reverse();
        let (files, problems) = prepare(inputs);
        assert!(problems.is_empty());
        let options = Options::new(&[]);
        let mut verdicts = Vec::new();
        let mut sink = |rec: Box<crate::record::ConnectionRecord>| {
            verdicts.push((
                rec.verdict.code.as_str(),
                rec.capture.clone(),
                rec.first_frame,
            ));
            true
        };
        let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
        let mut session = Session::merged(
            "ring",
            names,
            &options.ports,
            options.timeline,
            rdp_wire::analyzer::Caches::new(),
            &mut sink,
        );
        let mut extra = Vec::new();
        let (finished, most_open) = merge(files, &mut session, &mut extra);
        let _ = session.finish(combined(finished.iter().flatten().map(|(_, s)| s)));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(extra.is_empty(), "{extra:?}");
        assert_eq!(most_open, 1);
        let first = dir.join("ring00.pcap").display().to_string();
        assert_eq!(verdicts, [("established", first, 1)]);
    }

    #[test]
    fn merged_names_stay_short() {
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        assert_eq!(merged_name(&names[..1]), "a");
        assert_eq!(merged_name(&names[..3]), "a + b + c");
        assert_eq!(merged_name(&names), "a + 3 more + e");
    }
}
