//! Output formats: readable text, JSON lines, one JSON document.
//!
//! A [`Reporter`] receives connection records in order and a capture summary after each input;
//! it writes as it goes (text, JSON lines) or at the end (JSON).

pub mod json;
pub mod text;

use std::io::{self, Write};

use crate::record::{CaptureReport, ConnectionRecord, InputProblem};

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One readable block per connection, then a summary per capture.
    Text,
    /// One JSON object per line: `connection` objects, then a `capture` object per input.
    Jsonl,
    /// One JSON document with the same content.
    Json,
}

/// Receives what the pipeline produces, in order.
pub trait Reporter {
    /// One connection, in order of first packet.
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()>;
    /// After each capture's connections.
    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()>;
    /// An input that could not be read at all.
    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()>;
    /// At the end of the run.
    fn finish(&mut self) -> io::Result<()>;
}

/// Makes the reporter for a format, writing to `out`.
pub fn reporter<'w>(format: Format, out: Box<dyn Write + 'w>) -> Box<dyn Reporter + 'w> {
    match format {
        Format::Text => Box::new(text::TextReporter::new(out)),
        Format::Jsonl => Box::new(JsonLines { out }),
        Format::Json => Box::new(JsonDocument {
            out,
            connections: Vec::new(),
            captures: Vec::new(),
            problems: Vec::new(),
        }),
    }
}

struct JsonLines<'w> {
    out: Box<dyn Write + 'w>,
}

impl Reporter for JsonLines<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &json::connection(rec))?;
        self.out.write_all(b"\n")
    }

    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &json::capture(rep))?;
        self.out.write_all(b"\n")
    }

    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        let value = serde_json::json!({
            "type": "input-error",
            "capture": problem.input,
            "message": problem.message,
        });
        serde_json::to_writer(&mut self.out, &value)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

struct JsonDocument<'w> {
    out: Box<dyn Write + 'w>,
    connections: Vec<serde_json::Value>,
    captures: Vec<serde_json::Value>,
    problems: Vec<serde_json::Value>,
}

impl Reporter for JsonDocument<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        self.connections.push(json::connection(rec));
        Ok(())
    }

    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()> {
        self.captures.push(json::capture(rep));
        Ok(())
    }

    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        self.problems.push(serde_json::json!({
            "capture": problem.input,
            "message": problem.message,
        }));
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        let doc = serde_json::json!({
            "schema_version": json::SCHEMA_VERSION,
            "connections": std::mem::take(&mut self.connections),
            "captures": std::mem::take(&mut self.captures),
            "input_errors": std::mem::take(&mut self.problems),
        });
        serde_json::to_writer_pretty(&mut self.out, &doc)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
