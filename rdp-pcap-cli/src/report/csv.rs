//! CSV: one row per connection (RFC 4180), for Excel and Power BI, then a second table of the
//! capture-wide findings. The columns are documented in `docs/output.md`; the summary is in the
//! other formats.
//!
//! Cells are safe to open in a spreadsheet: every one goes through the printable filter
//! (control characters as `\xNN`), and one that starts with `=`, `+`, `-` or `@` (or began with
//! a TAB or CR before the filter) gets a leading `'`, so that Excel, LibreOffice and Google
//! Sheets show it as text instead of evaluating it (OWASP, "CSV Injection"): a cookie or a
//! client name is chosen by whoever connects.

use std::io::{self, Write};

use rdp_wire::analyzer::Confirm;
use rdp_wire::Side;

use super::json::{endpoint, methods, rfc3339, round_ms};
use super::{Reporter, Summary};
use crate::record::{CaptureReport, ConnectionRecord, InputProblem};

/// The header row.
pub const COLUMNS: &[&str] = &[
    "id",
    "capture",
    "client",
    "server",
    "start",
    "duration_ms",
    "verdict",
    "severity",
    "summary",
    "phase",
    "findings",
    "cookie",
    "requested_protocols",
    "selected_protocol",
    "failure_code",
    "tls_version",
    "tls_cipher_suite",
    "tls_alerts",
    "cert_subject",
    "cert_not_after",
    "cert_self_signed",
    "client_name",
    "client_build",
    "encryption_method",
    "encryption_level",
    "end_by",
    "end_how",
    "client_bytes",
    "server_bytes",
    "links",
    "fix",
    "via",
];

/// The header row of the capture-findings table, written after the connections (after an
/// empty line) when a capture had any.
pub const FINDING_COLUMNS: &[&str] = &[
    "capture",
    "finding",
    "severity",
    "summary",
    "connections",
    "fix",
];

/// Writes CSV rows.
pub struct CsvReporter<'w> {
    out: Box<dyn Write + 'w>,
    header_written: bool,
    /// Capture-wide findings, rows ready to write after the last connection. One row per
    /// finding (its connection list joined), so they grow with the findings, not with the
    /// connections.
    findings: Vec<Vec<String>>,
}

impl std::fmt::Debug for CsvReporter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsvReporter")
    }
}

impl<'w> CsvReporter<'w> {
    /// A reporter writing to `out`.
    pub fn new(out: Box<dyn Write + 'w>) -> Self {
        CsvReporter {
            out,
            header_written: false,
            findings: Vec::new(),
        }
    }

    fn row(&mut self, fields: &[String]) -> io::Result<()> {
        let line: Vec<String> = fields.iter().map(|f| cell(f)).collect();
        self.out.write_all(line.join(",").as_bytes())?;
        self.out.write_all(b"\r\n")
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.header_written = true;
            let names: Vec<String> = COLUMNS.iter().map(|c| (*c).to_string()).collect();
            self.row(&names)?;
        }
        Ok(())
    }
}

/// One cell: made printable, neutralised against formulas, quoted when it holds a comma or a
/// quote (RFC 4180 section 2; the filter leaves no line break to quote).
fn cell(field: &str) -> String {
    let text = rdp_wire::printable::printable(field);
    let formula = text.starts_with(['=', '+', '-', '@']) || field.starts_with(['\t', '\r']);
    let text = if formula {
        format!("'{text}")
    } else {
        text.into_owned()
    };
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The row for one connection, in [`COLUMNS`] order.
pub fn fields(rec: &ConnectionRecord) -> Vec<String> {
    let f = &rec.facts;
    let x = f.x224.as_ref();
    let tls = rec.tls.as_ref();
    let cert = tls.and_then(|t| t.certificates.first());
    let client = f.mcs.as_ref().and_then(|m| m.client.as_ref());
    let std = f.standard_security();
    let malformed = x.is_some_and(|x| x.malformed_confirm);
    let (selected, failure) = match x.and_then(|x| x.confirm) {
        Some(_) if malformed => (String::new(), String::new()),
        Some(Confirm::Selected { protocol, .. }) => {
            (protocol.protocol_names().join("|"), String::new())
        }
        Some(Confirm::Failure { code }) => (String::new(), code.to_string()),
        Some(Confirm::Legacy) => ("RDP".to_string(), String::new()),
        None => (String::new(), String::new()),
    };
    let alerts: Vec<String> = tls
        .map(|t| {
            t.alerts
                .iter()
                .map(|a| match (a.level, a.description) {
                    _ if a.encrypted => format!("{} encrypted", a.side),
                    (Some(l), Some(d)) => format!("{} {l} {d}", a.side),
                    _ => format!("{} alert", a.side),
                })
                .collect()
        })
        .unwrap_or_default();
    vec![
        rec.id.to_string(),
        rec.capture.clone(),
        endpoint(&rec.endpoints.client),
        endpoint(&rec.endpoints.server),
        rfc3339(rec.start),
        round_ms(rec.last.millis_since(rec.start)).to_string(),
        rec.verdict.code.as_str().to_string(),
        rec.verdict.severity.as_str().to_string(),
        rec.verdict.summary.clone(),
        rec.verdict.phase.as_str().to_string(),
        rec.findings
            .iter()
            .map(|f| f.code.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        opt(x.and_then(|x| x.cookie.clone())),
        opt(x
            .and_then(|x| x.requested_protocols)
            .map(|p| p.protocol_names().join("|"))),
        selected,
        failure,
        opt(tls.and_then(|t| t.version)),
        opt(tls.and_then(|t| t.cipher_suite)),
        alerts.join(";"),
        opt(cert.map(|c| c.subject.clone())),
        opt(cert.map(|c| c.not_after_rfc3339.clone())),
        opt(cert.map(|c| c.self_signed)),
        opt(client.map(|c| c.client_name.clone())),
        opt(client.map(|c| c.client_build)),
        opt(std.map(|s| methods(s.encryption_method).join("|"))),
        opt(std.map(|s| s.encryption_level)),
        opt(f.close.map(|c| c.by.as_str())),
        f.close.map_or("open", |c| c.kind.as_str()).to_string(),
        f.side(Side::Client).bytes.to_string(),
        f.side(Side::Server).bytes.to_string(),
        rec.links
            .iter()
            .map(|l| format!("{}:{}", l.rel.as_str(), l.id))
            .collect::<Vec<_>>()
            .join(";"),
        opt(crate::fix::for_verdict(rec)),
        opt(rec.via_text()),
    ]
}

impl Reporter for CsvReporter<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        self.header()?;
        self.row(&fields(rec))
    }

    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()> {
        let target = crate::fix::Target::generic(rdp_wire::analyzer::RDP_DEFAULT_PORT);
        for f in &rep.findings {
            let ids: Vec<String> = f.connections.iter().map(ToString::to_string).collect();
            self.findings.push(vec![
                rep.capture.clone(),
                f.finding.code.as_str().to_string(),
                f.finding.severity.as_str().to_string(),
                f.finding.summary.clone(),
                ids.join(";"),
                opt(crate::fix::for_finding(f.finding.code.as_str(), target)),
            ]);
        }
        Ok(())
    }

    fn input_problem(&mut self, _problem: &InputProblem) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.header()?;
        let findings = std::mem::take(&mut self.findings);
        if !findings.is_empty() {
            self.out.write_all(b"\r\n")?;
            let names: Vec<String> = FINDING_COLUMNS.iter().map(|c| (*c).to_string()).collect();
            self.row(&names)?;
            for row in &findings {
                self.row(row)?;
            }
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn formulas_and_controls_are_neutralised() {
        assert_eq!(
            cell("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2+3"), "'-2+3");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tcmd"), "'\\x09cmd");
        assert_eq!(cell("\r=1"), "'\\x0d=1");
        assert_eq!(cell("a\nb\x1b[2J"), "a\\x0ab\\x1b[2J");
        assert_eq!(cell("IT-HELP\\A"), "IT-HELP\\A");
        assert_eq!(cell("1.5"), "1.5");
    }
}
