//! Output formats: readable text, JSON lines, one JSON document, CSV.
//!
//! A [`Reporter`] receives connection records in order, a capture report after each input, and
//! the run's [`Summary`] at the end; it writes as it goes (text, JSON lines, CSV) or at the end
//! (JSON). [`Tally`] wraps any reporter and counts what passes through, for the summary and
//! for `--fail-on`.

mod compact;
pub mod csv;
pub mod json;
pub mod text;

use rdp_wire::Bump as _;
use std::collections::BTreeMap;
use std::io::{self, Write};

use rdp_wire::analyzer::{FindingCode, Severity, VerdictCode};

use crate::record::{CaptureReport, ConnectionRecord, InputProblem};

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One readable block per connection, a line per capture, a summary table at the end.
    Text,
    /// One JSON object per line: `connection`, `finding`, `capture`, then one `summary`.
    Jsonl,
    /// One JSON document with the same content.
    Json,
    /// One row per connection, for spreadsheets (see docs/output.md for the columns).
    Csv,
}

/// What the whole run found, for the closing summary.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Inputs analysed (fully or in part).
    pub inputs: u64,
    /// Inputs with a problem (not readable, or only in part).
    pub inputs_with_problems: u64,
    /// Inputs that could not be read at all (among `inputs_with_problems`, not in `inputs`).
    pub inputs_not_read: u64,
    /// Files in the directories given that were not captures (a README beside them): skipped.
    pub skipped_files: u64,
    /// Connections reported.
    pub connections: u64,
    /// Connections per verdict code, in [`VerdictCode::ALL`] order.
    pub verdicts: Vec<(VerdictCode, u64)>,
    /// Findings per code (per-connection and capture-wide), in [`FindingCode::ALL`] order.
    pub findings: Vec<(FindingCode, u64)>,
    /// The worst severity of any verdict or finding.
    pub worst: Option<Severity>,
}

/// Receives what the pipeline produces, in order.
pub trait Reporter {
    /// One connection, in order of first packet.
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()>;
    /// After each capture's connections (its capture-wide findings are in `rep.findings`).
    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()>;
    /// An input that could not be read at all.
    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()>;
    /// At the end of the run.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;

    /// How this reporter's output for a connection can be made ahead, on another thread, when
    /// it is a function of the record alone (JSON lines); `None` (the default) when only
    /// [`Reporter::connection`] can write it. See `crate::ahead`.
    fn render(&self) -> Option<Render> {
        None
    }

    /// One connection, in order of first packet, whose output [`Reporter::render`] made:
    /// `out`. By default as [`Reporter::connection`].
    fn rendered(&mut self, rec: &ConnectionRecord, out: &[u8]) -> io::Result<()> {
        let _ = out;
        self.connection(rec)
    }
}

/// A reporter's output for one connection, appended to the buffer (see [`Reporter::render`]).
pub type Render = fn(&ConnectionRecord, &mut Vec<u8>) -> io::Result<()>;

/// Makes the reporter for a format, writing to `out`; `color` adds ANSI colours to text.
pub fn reporter<'w>(
    format: Format,
    out: Box<dyn Write + 'w>,
    color: bool,
) -> Box<dyn Reporter + 'w> {
    match format {
        Format::Text => Box::new(text::TextReporter::new(out, color)),
        Format::Jsonl => Box::new(JsonLines {
            out,
            pending: Vec::with_capacity(JSONL_CHUNK.saturating_add(16 * 1024)),
        }),
        Format::Json => Box::new(JsonDocument {
            out,
            connections: 0,
            buf: Vec::new(),
            findings: Vec::new(),
            captures: Vec::new(),
            problems: Vec::new(),
        }),
        Format::Csv => Box::new(csv::CsvReporter::new(out)),
    }
}

/// Counts what passes through to the inner reporter and hands it the [`Summary`] at the end.
pub struct Tally<'w> {
    inner: Box<dyn Reporter + 'w>,
    summary: Summary,
    verdicts: BTreeMap<&'static str, u64>,
    findings: BTreeMap<&'static str, u64>,
}

impl std::fmt::Debug for Tally<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tally")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl<'w> Tally<'w> {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn Reporter + 'w>) -> Self {
        Tally {
            inner,
            summary: Summary::default(),
            verdicts: BTreeMap::new(),
            findings: BTreeMap::new(),
        }
    }

    /// Records how many files of the directories given were skipped as not captures.
    pub fn skipped_files(&mut self, n: u64) {
        self.summary.skipped_files = n;
    }

    /// The summary so far.
    pub fn summary(&self) -> Summary {
        let mut s = self.summary.clone();
        s.verdicts = VerdictCode::ALL
            .iter()
            .filter_map(|c| self.verdicts.get(c.as_str()).map(|n| (*c, *n)))
            .collect();
        s.findings = FindingCode::ALL
            .iter()
            .filter_map(|c| self.findings.get(c.as_str()).map(|n| (*c, *n)))
            .collect();
        s
    }

    /// One connection, its verdict and its findings.
    fn count(&mut self, rec: &ConnectionRecord) {
        self.summary.connections.bump();
        *self.verdicts.entry(rec.verdict.code.as_str()).or_default() += 1;
        self.severity(rec.verdict.severity);
        for f in &rec.findings {
            self.finding(f.code);
        }
    }

    fn severity(&mut self, severity: Severity) {
        self.summary.worst = self.summary.worst.max(Some(severity));
    }

    fn finding(&mut self, code: FindingCode) {
        *self.findings.entry(code.as_str()).or_default() += 1;
        self.severity(code.severity());
    }
}

impl Reporter for Tally<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        self.count(rec);
        self.inner.connection(rec)
    }

    fn render(&self) -> Option<Render> {
        self.inner.render()
    }

    fn rendered(&mut self, rec: &ConnectionRecord, out: &[u8]) -> io::Result<()> {
        self.count(rec);
        self.inner.rendered(rec, out)
    }

    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()> {
        self.summary.inputs.bump();
        if !rep.problems.is_empty() {
            self.summary.inputs_with_problems.bump();
        }
        for f in &rep.findings {
            self.finding(f.finding.code);
        }
        self.inner.capture(rep)
    }

    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        self.summary.inputs_with_problems.bump();
        self.summary.inputs_not_read.bump();
        self.inner.input_problem(problem)
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        let summary = self.summary();
        self.inner.finish(&summary)
    }
}

/// Passes everything to `inner` until the reader of the report goes away (a closed pipe), and
/// nothing after that: the run goes on to its end, so that the exit status of `--fail-on`
/// still covers every connection (`rdp-pcap --fail-on error big.pcap | head` exits 1 when a
/// failure comes after what `head` read). Any other write error is passed on.
pub struct UntilPipeCloses<'w> {
    inner: Box<dyn Reporter + 'w>,
    closed: bool,
}

impl std::fmt::Debug for UntilPipeCloses<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UntilPipeCloses")
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl<'w> UntilPipeCloses<'w> {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn Reporter + 'w>) -> Self {
        UntilPipeCloses {
            inner,
            closed: false,
        }
    }

    fn pass(&mut self, write: impl FnOnce(&mut dyn Reporter) -> io::Result<()>) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match write(self.inner.as_mut()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

impl Reporter for UntilPipeCloses<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        self.pass(|r| r.connection(rec))
    }
    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()> {
        self.pass(|r| r.capture(rep))
    }
    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        self.pass(|r| r.input_problem(problem))
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.pass(|r| r.finish(summary))
    }
    fn render(&self) -> Option<Render> {
        self.inner.render()
    }
    fn rendered(&mut self, rec: &ConnectionRecord, out: &[u8]) -> io::Result<()> {
        self.pass(|r| r.rendered(rec, out))
    }
}

/// Lines are written to `out` in pieces of at least this many bytes.
const JSONL_CHUNK: usize = 256 * 1024;

struct JsonLines<'w> {
    out: Box<dyn Write + 'w>,
    /// Lines written by [`compact`] and not yet passed to `out`. A line is hundreds of small
    /// pieces, and passing each through `dyn Write` and `BufWriter` cost a seventh of the time
    /// of a capture of short connections; whole chunks also go through the `BufWriter` without
    /// a copy.
    pending: Vec<u8>,
}

impl JsonLines<'_> {
    fn write_line(&mut self, value: &impl serde::Serialize) -> io::Result<()> {
        push_line(&mut self.pending, value)?;
        self.line_added()
    }

    /// Passes the pending lines on once they make a chunk.
    fn line_added(&mut self) -> io::Result<()> {
        if self.pending.len() >= JSONL_CHUNK {
            self.write_pending()?;
        }
        Ok(())
    }

    fn write_pending(&mut self) -> io::Result<()> {
        let result = self.out.write_all(&self.pending);
        self.pending.clear();
        result
    }

    fn line(&mut self, value: &serde_json::Value) -> io::Result<()> {
        self.write_line(value)
    }
}

/// Appends `value` as one JSON line, newline included (nothing on an error).
fn push_line(out: &mut Vec<u8>, value: &impl serde::Serialize) -> io::Result<()> {
    let start = out.len();
    if let Err(e) = compact::to_vec(out, value) {
        out.truncate(start);
        return Err(e.into());
    }
    out.push(b'\n');
    Ok(())
}

/// A connection's JSON line ([`Reporter::render`] of JSON lines).
fn connection_line(rec: &ConnectionRecord, out: &mut Vec<u8>) -> io::Result<()> {
    push_line(out, &json::connection_json(rec))
}

impl Reporter for JsonLines<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        self.write_line(&json::connection_json(rec))
    }

    fn render(&self) -> Option<Render> {
        Some(connection_line)
    }

    fn rendered(&mut self, _: &ConnectionRecord, out: &[u8]) -> io::Result<()> {
        self.pending.extend_from_slice(out);
        self.line_added()
    }

    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()> {
        for f in &rep.findings {
            self.line(&json::capture_finding(&rep.capture, f))?;
        }
        self.line(&json::capture(rep))
    }

    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        self.line(&json::input_error(problem))
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.line(&json::summary(summary))?;
        self.write_pending()?;
        self.out.flush()
    }
}

/// `--format json`: one pretty-printed document, the same bytes `serde_json::to_writer_pretty`
/// gives for the whole of it, but written as it goes. Connections are written as they come, so
/// memory does not grow with them; the capture objects, capture findings and input errors (a
/// few per input) are kept for the end of the document.
struct JsonDocument<'w> {
    out: Box<dyn Write + 'w>,
    /// Connections written so far (the document's head is written before the first).
    connections: u64,
    /// One connection, pretty-printed before it is indented.
    buf: Vec<u8>,
    findings: Vec<serde_json::Value>,
    captures: Vec<serde_json::Value>,
    problems: Vec<serde_json::Value>,
}

/// The document up to the first connection.
const JSON_HEAD: &str = "{\n  \"schema_version\": ";

impl JsonDocument<'_> {
    /// Writes `pretty` (a pretty-printed value) as if it were nested `depth` levels deep: every
    /// line after the first indented by two spaces per level. JSON strings hold no raw line
    /// breaks, so every line break in `pretty` is one the printer made.
    fn write_nested(out: &mut dyn Write, pretty: &[u8], depth: usize) -> io::Result<()> {
        let indent = "  ".repeat(depth);
        let mut lines = pretty.split(|b| *b == b'\n');
        if let Some(first) = lines.next() {
            out.write_all(first)?;
        }
        for line in lines {
            out.write_all(b"\n")?;
            out.write_all(indent.as_bytes())?;
            out.write_all(line)?;
        }
        Ok(())
    }

    fn write_value(&mut self, value: &impl serde::Serialize, depth: usize) -> io::Result<()> {
        self.buf.clear();
        serde_json::to_writer_pretty(&mut self.buf, value)?;
        Self::write_nested(&mut self.out, &self.buf, depth)
    }

    fn start(&mut self) -> io::Result<()> {
        write!(
            self.out,
            "{JSON_HEAD}{},\n  \"connections\": [",
            json::SCHEMA_VERSION
        )
    }
}

impl Reporter for JsonDocument<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        if self.connections == 0 {
            self.start()?;
            self.out.write_all(b"\n    ")?;
        } else {
            self.out.write_all(b",\n    ")?;
        }
        self.connections.bump();
        self.write_value(&json::connection_json(rec), 2)
    }

    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()> {
        self.findings.extend(
            rep.findings
                .iter()
                .map(|f| json::capture_finding(&rep.capture, f)),
        );
        self.captures.push(json::capture(rep));
        Ok(())
    }

    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        self.problems.push(json::input_error(problem));
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if self.connections == 0 {
            self.start()?;
            self.out.write_all(b"],\n  \"findings\": ")?;
        } else {
            self.out.write_all(b"\n  ],\n  \"findings\": ")?;
        }
        let findings = serde_json::Value::Array(std::mem::take(&mut self.findings));
        self.write_value(&findings, 1)?;
        self.out.write_all(b",\n  \"captures\": ")?;
        let captures = serde_json::Value::Array(std::mem::take(&mut self.captures));
        self.write_value(&captures, 1)?;
        self.out.write_all(b",\n  \"input_errors\": ")?;
        let problems = serde_json::Value::Array(std::mem::take(&mut self.problems));
        self.write_value(&problems, 1)?;
        self.out.write_all(b",\n  \"summary\": ")?;
        self.write_value(&json::summary(summary), 1)?;
        self.out.write_all(b"\n}\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::pipeline::{self, Options, RunState};

    /// Reports `captures` (samples) with `format`; also returns the records and capture reports.
    fn run(
        format: Format,
        captures: &[&str],
    ) -> (Vec<u8>, Vec<ConnectionRecord>, Vec<CaptureReport>, Summary) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples");
        let mut out = Vec::new();
        let mut records = Vec::new();
        let mut reports = Vec::new();
        let summary;
        {
            struct Keep<'a, 'w> {
                inner: Tally<'w>,
                records: &'a mut Vec<ConnectionRecord>,
                reports: &'a mut Vec<CaptureReport>,
            }
            impl Reporter for Keep<'_, '_> {
                fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
                    self.records.push(rec.clone());
                    self.inner.connection(rec)
                }
                fn capture(&mut self, rep: &CaptureReport) -> io::Result<()> {
                    // A capture finding for every capture, to see them written too.
                    let mut rep = rep.clone();
                    rep.findings.push(rdp_wire::analyzer::CaptureFinding {
                        finding: rdp_wire::analyzer::Finding {
                            code: FindingCode::CertReused,
                            severity: Severity::Warning,
                            summary: "a \"quoted\" summary".into(),
                        },
                        connections: vec![0, 1],
                    });
                    self.reports.push(rep.clone());
                    self.inner.capture(&rep)
                }
                fn input_problem(&mut self, p: &InputProblem) -> io::Result<()> {
                    self.inner.input_problem(p)
                }
                fn finish(&mut self, s: &Summary) -> io::Result<()> {
                    self.inner.finish(s)
                }
            }
            let mut keep = Keep {
                inner: Tally::new(reporter(format, Box::new(&mut out), false)),
                records: &mut records,
                reports: &mut reports,
            };
            let mut state = RunState::default();
            let options = Options::new(&[]);
            for name in captures {
                let bytes = std::fs::read(dir.join(name)).unwrap();
                let rep =
                    pipeline::analyze(name, &bytes[..], &options, &mut state, &mut keep).unwrap();
                keep.capture(&rep).unwrap();
            }
            keep.input_problem(&InputProblem {
                input: "missing.pcap".into(),
                message: "no such file or directory".into(),
            })
            .unwrap();
            summary = keep.inner.summary();
            keep.finish(&summary).unwrap();
        }
        (out, records, reports, summary)
    }

    /// The streamed document is byte for byte what pretty-printing the whole document at once
    /// gives.
    #[test]
    fn json_document_streams_the_same_bytes() {
        for captures in [
            &["cipher-mismatch.pcap", "nla-ok.pcap", "tls-ok.pcap"][..],
            &["README.md"][..],
            &[][..],
        ] {
            let (streamed, records, reports, summary) = run(Format::Json, captures);
            let doc = serde_json::json!({
                "schema_version": json::SCHEMA_VERSION,
                "connections": records.iter().map(json::connection).collect::<Vec<_>>(),
                "findings": reports
                    .iter()
                    .flat_map(|r| r.findings.iter().map(|f| json::capture_finding(&r.capture, f)))
                    .collect::<Vec<_>>(),
                "captures": reports.iter().map(json::capture).collect::<Vec<_>>(),
                "input_errors": [json::input_error(&InputProblem {
                    input: "missing.pcap".into(),
                    message: "no such file or directory".into(),
                })],
                "summary": json::summary(&summary),
            });
            let mut whole = serde_json::to_vec_pretty(&doc).unwrap();
            whole.push(b'\n');
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                String::from_utf8(whole).unwrap(),
                "{captures:?}"
            );
        }
    }
}
