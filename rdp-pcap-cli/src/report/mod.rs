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
}

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
            connections: Vec::new(),
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
        self.summary.connections = self.summary.connections.saturating_add(1);
        *self.verdicts.entry(rec.verdict.code.as_str()).or_default() += 1;
        self.severity(rec.verdict.severity);
        for f in &rec.findings {
            self.finding(f.code);
        }
        self.inner.connection(rec)
    }

    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()> {
        self.summary.inputs = self.summary.inputs.saturating_add(1);
        if !rep.problems.is_empty() {
            self.summary.inputs_with_problems = self.summary.inputs_with_problems.saturating_add(1);
        }
        for f in &rep.findings {
            self.finding(f.finding.code);
        }
        self.inner.capture(rep)
    }

    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        self.summary.inputs_with_problems = self.summary.inputs_with_problems.saturating_add(1);
        self.inner.input_problem(problem)
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        let summary = self.summary();
        self.inner.finish(&summary)
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
        let start = self.pending.len();
        if let Err(e) = compact::to_vec(&mut self.pending, value) {
            self.pending.truncate(start);
            return Err(e.into());
        }
        self.pending.push(b'\n');
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

impl Reporter for JsonLines<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        self.write_line(&json::connection_json(rec))
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

struct JsonDocument<'w> {
    out: Box<dyn Write + 'w>,
    connections: Vec<serde_json::Value>,
    findings: Vec<serde_json::Value>,
    captures: Vec<serde_json::Value>,
    problems: Vec<serde_json::Value>,
}

impl Reporter for JsonDocument<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        self.connections.push(json::connection(rec));
        Ok(())
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
        let doc = serde_json::json!({
            "schema_version": json::SCHEMA_VERSION,
            "connections": std::mem::take(&mut self.connections),
            "findings": std::mem::take(&mut self.findings),
            "captures": std::mem::take(&mut self.captures),
            "input_errors": std::mem::take(&mut self.problems),
            "summary": json::summary(summary),
        });
        serde_json::to_writer_pretty(&mut self.out, &doc)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
