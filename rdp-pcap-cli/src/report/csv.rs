//! CSV: one row per connection (RFC 4180), for Excel and Power BI. The columns are documented
//! in `docs/output.md`; capture-wide findings and the summary are in the other formats.

use std::io::{self, Write};

use rdp_wire::analyzer::{Confirm, Side};

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
];

/// Writes CSV rows.
pub struct CsvReporter<'w> {
    out: Box<dyn Write + 'w>,
    header_written: bool,
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
        }
    }

    fn row(&mut self, fields: &[String]) -> io::Result<()> {
        let line: Vec<String> = fields.iter().map(|f| quote(f)).collect();
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

/// Quotes a field when it holds a comma, a quote or a line break (RFC 4180 section 2).
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
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
    let (selected, failure) = match x.and_then(|x| x.confirm) {
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
        endpoint(&rec.client),
        endpoint(&rec.server),
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
    ]
}

impl Reporter for CsvReporter<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        self.header()?;
        self.row(&fields(rec))
    }

    fn capture(&mut self, _rep: &CaptureReport) -> io::Result<()> {
        Ok(())
    }

    fn input_problem(&mut self, _problem: &InputProblem) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.header()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
