//! The readable report: one block per connection, a line per capture.

use std::io::{self, Write};

use rdp_wire::analyzer::{format_ms, CloseKind, Confirm, ConnectionFacts, Side};

use rdp_wire::tls::TlsFacts;

use super::json::{endpoint, rfc3339, tls_phase};
use super::Reporter;
use crate::record::{CaptureReport, ConnectionRecord, InputProblem};

/// Writes the text report.
pub struct TextReporter<'w> {
    out: Box<dyn Write + 'w>,
}

impl std::fmt::Debug for TextReporter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TextReporter")
    }
}

impl<'w> TextReporter<'w> {
    /// A reporter writing to `out`.
    pub fn new(out: Box<dyn Write + 'w>) -> Self {
        TextReporter { out }
    }
}

fn negotiation(f: &ConnectionFacts) -> Option<String> {
    let x = f.x224.as_ref()?;
    let mut parts = Vec::new();
    if let Some(cookie) = &x.cookie {
        parts.push(format!("cookie {cookie:?}"));
    }
    if let Some(token) = &x.routing_token {
        parts.push(format!("routing token {token:?}"));
    }
    if x.request_at.is_some() {
        parts.push(match x.requested_protocols {
            Some(p) => format!("requested {}", p.protocol_names().join("|")),
            None => "legacy request (no RDP_NEG_REQ)".to_string(),
        });
    }
    parts.push(match x.confirm {
        Some(Confirm::Selected { protocol, flags }) => {
            let flags = flags.names();
            if flags.is_empty() {
                format!("selected {}", protocol.protocol_names().join("|"))
            } else {
                format!(
                    "selected {} ({})",
                    protocol.protocol_names().join("|"),
                    flags.join(", ")
                )
            }
        }
        Some(Confirm::Failure { code }) => format!("refused: {code}"),
        Some(Confirm::Legacy) => "legacy confirm: Standard RDP Security".to_string(),
        None => "no confirm".to_string(),
    });
    Some(parts.join("; "))
}

fn tls_lines(t: &TlsFacts, start: rdp_wire::analyzer::Timestamp) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    if t.client_hello_ts.is_some() {
        let versions: Vec<String> = t.client_versions.iter().map(ToString::to_string).collect();
        let mut hello = format!(
            "client offers {} with {} cipher suites",
            versions.join(", "),
            t.client_cipher_suites.len()
        );
        if let Some(sni) = &t.sni {
            hello.push_str(&format!(", SNI {sni}"));
        }
        if let Some(ja4) = &t.ja4 {
            hello.push_str(&format!(", JA4 {ja4}"));
        }
        lines.push(("tls", hello));
    } else {
        lines.push(("tls", "no ClientHello seen".to_string()));
    }
    match (t.version, t.cipher_suite) {
        (Some(v), Some(c)) => lines.push(("", format!("server chose {v} with {c}"))),
        _ => lines.push(("", "no ServerHello".to_string())),
    }
    if let Some(c) = t.certificates.first() {
        let key = match (c.key_bits, &c.curve) {
            (_, Some(curve)) => format!("{} {curve}", c.key_type),
            (Some(bits), None) => format!("{} {bits}", c.key_type),
            (None, None) => c.key_type.clone(),
        };
        lines.push((
            "certificate",
            format!(
                "{}{}, valid {} to {}, {key}, {}",
                c.subject,
                if c.self_signed { " (self-signed)" } else { "" },
                c.not_before_rfc3339,
                c.not_after_rfc3339,
                c.signature_algorithm
            ),
        ));
        if !c.self_signed {
            lines.push(("", format!("issued by {}", c.issuer)));
        }
    }
    for a in &t.alerts {
        let at = rdp_wire::analyzer::Timestamp(i64::try_from(a.ts_ns).unwrap_or(start.0));
        let what = match (a.level, a.description) {
            _ if a.encrypted => "encrypted alert".to_string(),
            (Some(l), Some(d)) => format!("{l} {d}"),
            _ => "alert".to_string(),
        };
        lines.push((
            "alert",
            format!(
                "{} {what} at {} ({})",
                a.side.as_str(),
                format_ms(at.millis_since(start)),
                tls_phase(t, a.ts_ns).replace('-', " ")
            ),
        ));
    }
    if let Some(side) = t.non_tls_from {
        lines.push((
            "",
            format!("the {side} sent clear-text bytes where TLS records were expected"),
        ));
    }
    if t.handshake_complete {
        lines.push((
            "",
            format!(
                "handshake complete; then {} client and {} server records",
                t.client_app_records, t.server_app_records
            ),
        ));
    }
    lines
}

fn end(f: &ConnectionFacts, flow_end: &str) -> String {
    match f.close {
        Some(c) => {
            let how = if c.kind == CloseKind::Fin {
                "FIN"
            } else {
                "RST"
            };
            match f.ms_after_last_handshake(c.at) {
                Some(ms) => format!(
                    "{} {how}, {} after the last handshake message",
                    c.by.as_str(),
                    format_ms(ms)
                ),
                None => format!("{} {how}", c.by.as_str()),
            }
        }
        None => format!("still open ({flow_end})"),
    }
}

impl Reporter for TextReporter<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        let f = &rec.facts;
        let out = &mut self.out;
        writeln!(
            out,
            "#{}  {} → {}  {} ({})",
            rec.id,
            endpoint(&rec.client),
            endpoint(&rec.server),
            rec.verdict.code.as_str(),
            rec.verdict.severity.as_str()
        )?;
        writeln!(out, "    {}", rec.verdict.summary)?;
        writeln!(
            out,
            "    capture      {}, frame {}, {}, lasting {}",
            rec.capture,
            rec.first_frame,
            rfc3339(rec.start),
            format_ms(rec.last.millis_since(rec.start))
        )?;
        let client = f.side(Side::Client);
        let server = f.side(Side::Server);
        let handshake = match (f.syn_at.is_some(), f.syn_ack_at.is_some(), f.mid_stream) {
            (_, _, true) => "picked up mid-stream",
            (true, true, _) => "handshake seen",
            (true, false, _) => "SYN not answered by SYN-ACK",
            _ => "no SYN seen",
        };
        writeln!(
            out,
            "    tcp          {handshake}; client sent {} bytes in {} packets, server {} bytes in {} packets",
            client.bytes, rec.packets[0], server.bytes, rec.packets[1]
        )?;
        if client.gap_bytes > 0 || server.gap_bytes > 0 {
            writeln!(
                out,
                "    missing      client {} bytes, server {} bytes not in the capture",
                client.gap_bytes, server.gap_bytes
            )?;
        }
        if let Some(n) = negotiation(f) {
            writeln!(out, "    negotiation  {n}")?;
        }
        if let Some(foreign) = &f.foreign {
            let shown: String = foreign
                .prefix
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        char::from(b)
                    } else {
                        '.'
                    }
                })
                .collect();
            writeln!(
                out,
                "    foreign      {} sent {}: {shown:?}",
                foreign.side.as_str(),
                foreign.looks_like
            )?;
        }
        if let Some(t) = &rec.tls {
            for (label, line) in tls_lines(t, rec.start) {
                writeln!(out, "    {label:<12} {line}")?;
            }
        }
        writeln!(out, "    end          {}", end(f, rec.flow_end.as_str()))?;
        for anomaly in &f.anomalies {
            writeln!(out, "    anomaly      {anomaly}")?;
        }
        for anomaly in rec.tls.iter().flat_map(|t| &t.anomalies) {
            writeln!(out, "    anomaly      tls: {anomaly}")?;
        }
        if f.anomalies_dropped > 0 {
            writeln!(
                out,
                "    anomaly      ({} more not listed)",
                f.anomalies_dropped
            )?;
        }
        writeln!(out)
    }

    fn capture(&mut self, rep: &CaptureReport) -> io::Result<()> {
        let out = &mut self.out;
        writeln!(
            out,
            "== {}: {}, {} packets ({} TCP), {} TCP connections, {} reported",
            rep.capture,
            rep.format.as_deref().unwrap_or("unknown format"),
            rep.packets,
            rep.tcp_packets,
            rep.connections_seen,
            rep.connections_reported
        )?;
        let mut lost = Vec::new();
        if rep.unusable_packets > 0 {
            lost.push(format!(
                "{} packets could not be decoded",
                rep.unusable_packets
            ));
        }
        if rep.truncated_packets > 0 {
            lost.push(format!(
                "{} packets cut short by the snapshot length",
                rep.truncated_packets
            ));
        }
        if rep.bytes_lost > 0 {
            lost.push(format!("{} stream bytes missing", rep.bytes_lost));
        }
        if rep.connections_evicted > 0 {
            lost.push(format!(
                "{} connections dropped at the table cap",
                rep.connections_evicted
            ));
        }
        if !lost.is_empty() {
            writeln!(out, "   not used: {}", lost.join("; "))?;
        }
        for problem in &rep.problems {
            writeln!(out, "   problem: {problem}")?;
        }
        writeln!(out)
    }

    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        writeln!(
            self.out,
            "== {}: not analysed: {}\n",
            problem.input, problem.message
        )
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
