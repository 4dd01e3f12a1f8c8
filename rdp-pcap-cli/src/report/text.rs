//! The readable report: one block per connection, a line per capture.

use std::io::{self, Write};

use rdp_wire::analyzer::{
    format_ms, CloseKind, Confirm, ConnectionFacts, Count, Severity, VerdictCode, X224Facts,
};
use rdp_wire::x224::NegRequestFlags;

use rdp_wire::analyzer::TlsFacts;
use rdp_wire::printable::Quoted;
use rdp_wire::Side;

use super::json::{endpoint, rfc3339};
use super::{Reporter, Summary};
use crate::fix;
use crate::record::{CaptureReport, ConnectionRecord, InputProblem, LinkRel};

/// Writes the text report.
pub struct TextReporter<'w> {
    out: Box<dyn Write + 'w>,
    color: bool,
    /// The current input's `== NAME` line was written (before its first connection).
    announced: bool,
}

/// ANSI colour for a severity.
fn paint(color: bool, severity: Severity, text: &str) -> String {
    if !color {
        return text.to_string();
    }
    let code = match severity {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Info => "1;32",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

impl std::fmt::Debug for TextReporter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TextReporter")
    }
}

impl<'w> TextReporter<'w> {
    /// A reporter writing to `out`, with ANSI colours when `color`.
    pub fn new(out: Box<dyn Write + 'w>, color: bool) -> Self {
        TextReporter {
            out,
            color,
            announced: false,
        }
    }
}

fn negotiation(f: &ConnectionFacts) -> Option<String> {
    let x = f.x224.as_ref()?;
    let mut parts = Vec::new();
    if let Some(cookie) = &x.cookie {
        parts.push(format!("cookie {}", Quoted(cookie)));
    }
    if let Some(token) = &x.routing_token {
        parts.push(format!("routing token {}", Quoted(token)));
    }
    if x.request_at.is_some() {
        parts.push(match x.requested_protocols {
            Some(p) => format!("requested {}", p.protocol_names().join("|")),
            None => "legacy request (no RDP_NEG_REQ)".to_string(),
        });
        parts.extend(request_flags(x));
    }
    parts.push(match x.confirm {
        Some(_) if x.malformed_confirm => {
            "malformed confirm (its negotiation structure is not 8 bytes): selection unknown"
                .to_string()
        }
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

/// The RDP_NEG_REQ flags that change what the connection means (MS-RDPBCGR 2.2.1.1.1), in
/// words: a Restricted Admin or Remote Credential Guard logon sends no reusable credentials to
/// the server, which an admin reading a failure (or an audit) must know; unknown bits by value.
fn request_flags(x: &X224Facts) -> Vec<String> {
    let Some(flags) = x.request_flags else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if flags.contains(NegRequestFlags::RESTRICTED_ADMIN_MODE_REQUIRED) {
        out.push(
            "Restricted Admin mode required (RESTRICTED_ADMIN_MODE_REQUIRED: the client sends no reusable credentials; the session runs as the server's computer account on the network)"
                .to_string(),
        );
    }
    if flags.contains(NegRequestFlags::REDIRECTED_AUTHENTICATION_MODE_REQUIRED) {
        out.push(
            "Remote Credential Guard required (REDIRECTED_AUTHENTICATION_MODE_REQUIRED: Kerberos requests are redirected to the client; no credentials reach the server)"
                .to_string(),
        );
    }
    if flags.contains(NegRequestFlags::CORRELATION_INFO_PRESENT) {
        out.push(match &x.correlation_id {
            Some(id) => format!("correlation id {id} (CORRELATION_INFO_PRESENT)"),
            None => "CORRELATION_INFO_PRESENT without a readable RDP_CORRELATION_INFO".to_string(),
        });
    }
    let known = NegRequestFlags::RESTRICTED_ADMIN_MODE_REQUIRED.0
        | NegRequestFlags::REDIRECTED_AUTHENTICATION_MODE_REQUIRED.0
        | NegRequestFlags::CORRELATION_INFO_PRESENT.0;
    let unknown = flags.0 & !known;
    if unknown != 0 {
        out.push(format!(
            "request flags 0x{unknown:02x} MS-RDPBCGR does not define"
        ));
    }
    out
}

fn tls_lines(t: &TlsFacts, start: rdp_wire::Timestamp) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    if t.client_hello_at.is_some() {
        let versions: Vec<String> = t.client_versions.iter().map(ToString::to_string).collect();
        let mut hello = format!(
            "client offers {} with {}",
            versions.join(", "),
            Count::of(t.client_cipher_suites_offered(), "cipher suite")
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
        let at = a.at;
        let what = match (a.level, a.description) {
            _ if a.encrypted => "encrypted alert".to_string(),
            (Some(l), Some(d)) => format!("{l} {d}"),
            _ => "alert".to_string(),
        };
        lines.push((
            "alert",
            format!(
                "{} {what} {} into the connection ({})",
                a.side.as_str(),
                format_ms(at.millis_since(start)),
                a.phase.reported(t).replace('-', " ")
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
                "handshake complete; then {} and {}",
                Count(t.client_app_records, "client record"),
                Count(t.server_app_records, "server record")
            ),
        ));
    }
    lines
}

/// `items` joined by `, ` in lines of at most `width` characters after the 17-column label
/// (an item longer than that gets a line of its own).
fn wrapped(items: &[String], width: usize) -> Vec<String> {
    let room = width.saturating_sub(17);
    let mut lines = Vec::new();
    let mut line = String::new();
    for (i, item) in items.iter().enumerate() {
        let sep = if i + 1 < items.len() { "," } else { "" };
        if !line.is_empty() && line.len() + 1 + item.len() + sep.len() > room {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(item);
        line.push_str(sep);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Connections a capture finding lists in the text report; the rest are counted (the JSON
/// formats list them all).
const MAX_LISTED_CONNECTIONS: usize = 20;

/// `#1, #2, #3` (and how many more).
fn connection_list(ids: &[u64]) -> String {
    let mut list: Vec<String> = ids
        .iter()
        .take(MAX_LISTED_CONNECTIONS)
        .map(|id| format!("#{id}"))
        .collect();
    if ids.len() > MAX_LISTED_CONNECTIONS {
        list.push(format!(
            "and {} more",
            ids.len().saturating_sub(MAX_LISTED_CONNECTIONS)
        ));
    }
    list.join(", ")
}

fn mcs_lines(m: &rdp_wire::analyzer::McsFacts) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    if let Some(c) = &m.client {
        let channels: Vec<&str> = c.channels.iter().map(|ch| ch.name.as_str()).collect();
        lines.push((
            "client",
            format!(
                "{}, build {}{}, {}x{} at {} bpp, keyboard {}, channels {}",
                Quoted(&c.client_name),
                c.client_build,
                c.client_build_name
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                c.desktop_width,
                c.desktop_height,
                c.color_depth
                    .map_or_else(|| "?".to_string(), |d| d.to_string()),
                c.keyboard_layout_name.unwrap_or("unknown"),
                if channels.is_empty() {
                    "none".to_string()
                } else {
                    channels.join(", ")
                }
            ),
        ));
    }
    if let Some(s) = &m.server {
        let mut text = Vec::new();
        if let (Some(method), Some(level)) = (s.encryption_method, s.encryption_level) {
            text.push(format!(
                "encryption {} at level {level}",
                super::json::methods(method).join("|")
            ));
        }
        if let Some(c) = &s.certificate {
            text.push(format!(
                "{} certificate{}{}",
                c.kind,
                c.key_bits.map(|b| format!(" RSA {b}")).unwrap_or_default(),
                if c.permanent { "" } else { " (temporary)" }
            ));
        }
        if !text.is_empty() {
            lines.push(("server", text.join(", ")));
        }
    }
    let mut seq = Vec::new();
    if let Some(r) = m.result {
        seq.push(format!("connect {r}"));
    }
    if m.users_attached > 0 || m.channels_joined > 0 {
        seq.push(format!(
            "{} attached, {} joined",
            Count(u64::from(m.users_attached), "user"),
            Count(u64::from(m.channels_joined), "channel")
        ));
    }
    if m.security_exchange_at.is_some() {
        seq.push("security exchange".to_string());
    }
    if m.client_info_at.is_some() {
        seq.push(match (&m.user_name, m.client_info_encrypted) {
            (Some(user), _) => format!("client info for user {}", Quoted(user)),
            (None, true) => "client info (encrypted)".to_string(),
            (None, false) => "client info".to_string(),
        });
    }
    if let Some(e) = m.license_error {
        seq.push(format!("licensing {}", e.error_code));
    } else if m.license_pdus > 0 {
        seq.push("licensing".to_string());
    }
    if m.demand_active_at.is_some() {
        seq.push("demand active".to_string());
    }
    if let Some(e) = m.error_info {
        seq.push(format!("error info {e}"));
    }
    if let Some(d) = m.disconnect {
        seq.push(format!("{} sent disconnect ultimatum {}", d.from, d.reason));
    }
    if !seq.is_empty() {
        lines.push(("mcs", seq.join("; ")));
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

/// The first line of the closing summary: what was analysed, and what could not be.
fn summary_line(s: &Summary) -> String {
    let partial = s.inputs_with_problems.saturating_sub(s.inputs_not_read);
    let mut line = if s.inputs == 0 {
        "nothing analysed".to_string()
    } else {
        format!(
            "{} in {}",
            Count(s.connections, "connection"),
            Count(s.inputs, "input")
        )
    };
    if partial > 0 {
        line.push_str(&format!(", {partial} of them read only in part"));
    }
    if s.inputs_not_read > 0 {
        line.push_str(&format!(
            "; {} could not be read",
            Count(s.inputs_not_read, "input")
        ));
    }
    if s.skipped_files > 0 {
        line.push_str(&format!(
            "; {} skipped",
            Count(s.skipped_files, "other file")
        ));
    }
    line
}

impl Reporter for TextReporter<'_> {
    fn connection(&mut self, rec: &ConnectionRecord) -> io::Result<()> {
        let f = &rec.facts;
        let out = &mut self.out;
        let color = self.color;
        if !self.announced {
            self.announced = true;
            writeln!(out, "== {}\n", rec.capture)?;
        }
        writeln!(
            out,
            "#{}  {} → {}  {}  {}",
            rec.id,
            endpoint(&rec.endpoints.client),
            endpoint(&rec.endpoints.server),
            paint(color, rec.verdict.severity, rec.verdict.code.as_str()),
            rec.verdict.summary
        )?;
        writeln!(
            out,
            "    capture      {}, frame {}, {}, lasting {}",
            rec.capture,
            rec.first_frame,
            rfc3339(rec.start),
            format_ms(rec.last.millis_since(rec.start))
        )?;
        for link in &rec.links {
            match link.rel {
                LinkRel::RetryOf => writeln!(
                    out,
                    "    retry        of #{}, {}: {}",
                    link.id,
                    match link.after_ms {
                        Some(ms) if ms > 0.0 => format!("{} after it ended", format_ms(ms)),
                        _ => "as it ended".to_string(),
                    },
                    // No change seen is not "the same request": junk or a bare TCP connection
                    // has no request to compare.
                    match &link.change {
                        Some(change) => format!("the client retried {change}"),
                        None => "the client tried again".to_string(),
                    }
                )?,
            }
        }
        let client = f.side(Side::Client);
        let server = f.side(Side::Server);
        let handshake = match (f.syn_at.is_some(), f.syn_ack_at.is_some(), f.mid_stream) {
            (_, _, true) => "picked up mid-stream".to_string(),
            (true, true, _) => "handshake seen".to_string(),
            // A client that sent more than SYNs had the SYN-ACK: the capture missed it.
            (true, false, _) if rec.packets[0] > u64::from(f.syn_count) || server.bytes > 0 => {
                format!(
                    "{} seen, the SYN-ACK not in the capture",
                    Count(u64::from(f.syn_count), "SYN")
                )
            }
            (true, false, _) => format!(
                "{} not answered by a SYN-ACK",
                Count(u64::from(f.syn_count), "SYN")
            ),
            _ => "no SYN seen".to_string(),
        };
        writeln!(
            out,
            "    tcp          {handshake}; client sent {} in {}, server {} in {}",
            Count(client.bytes, "byte"),
            Count(rec.packets[0], "packet"),
            Count(server.bytes, "byte"),
            Count(rec.packets[1], "packet")
        )?;
        if client.gap_bytes > 0 || server.gap_bytes > 0 {
            writeln!(
                out,
                "    missing      client {}, server {} not in the capture",
                Count(client.gap_bytes, "byte"),
                Count(server.gap_bytes, "byte")
            )?;
        }
        if let Some(via) = rec.via_text() {
            writeln!(out, "    via          {via}")?;
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
                "    foreign      {} sent {}: {}",
                foreign.side.as_str(),
                foreign.looks_like,
                Quoted(&shown)
            )?;
        }
        if let Some(t) = &rec.tls {
            for (label, line) in tls_lines(t, rec.start) {
                writeln!(out, "    {label:<12} {line}")?;
            }
            // The fix asks the admin to compare these with `Get-TlsCipherSuite`.
            if rec.verdict.code == VerdictCode::TlsCipherMismatch {
                let names: Vec<String> = t
                    .client_cipher_suites
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                for (i, line) in wrapped(&names, 100).iter().enumerate() {
                    let label = if i == 0 { "offered" } else { "" };
                    writeln!(out, "    {label:<12} {line}")?;
                }
            }
        }
        if let Some(m) = &f.mcs {
            for (label, line) in mcs_lines(m) {
                writeln!(out, "    {label:<12} {line}")?;
            }
        }
        writeln!(out, "    end          {}", end(f, rec.flow_end.as_str()))?;
        if let Some(fix) = fix::for_verdict(rec) {
            writeln!(out, "    fix          {fix}")?;
        }
        for finding in &rec.findings {
            writeln!(
                out,
                "    {:<12} {}: {}",
                "finding",
                paint(color, finding.severity, finding.code.as_str()),
                finding.summary
            )?;
            if let Some(fix) = fix::for_finding(finding.code.as_str(), fix::Target::of(rec)) {
                writeln!(out, "    {:<12}   fix: {fix}", "")?;
            }
        }
        for e in &rec.events {
            writeln!(
                out,
                "    {:<12} {:>10}  {:<6} {}",
                "timeline",
                format_ms(e.at.millis_since(rec.start)),
                e.side.map_or("", |s| s.as_str()),
                e.what
            )?;
        }
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
        let color = self.color;
        let out = &mut self.out;
        self.announced = false;
        for f in &rep.findings {
            writeln!(
                out,
                "!! {}: {} (connections {})",
                paint(color, f.finding.severity, f.finding.code.as_str()),
                f.finding.summary,
                connection_list(&f.connections)
            )?;
            let target = fix::Target::generic(rdp_wire::analyzer::RDP_DEFAULT_PORT);
            if let Some(fix) = fix::for_finding(f.finding.code.as_str(), target) {
                writeln!(out, "   fix: {fix}")?;
            }
            writeln!(out)?;
        }
        writeln!(
            out,
            "== {}: {}, {} ({} TCP), {}, {} reported",
            rep.capture,
            match rep.compression {
                Some(c) => format!(
                    "{} ({c})",
                    rep.format.as_deref().unwrap_or("unknown format")
                ),
                None => rep
                    .format
                    .as_deref()
                    .unwrap_or("unknown format")
                    .to_string(),
            },
            Count(rep.packets, "packet"),
            rep.tcp_packets,
            Count(rep.connections_seen, "TCP connection"),
            rep.connections_reported
        )?;
        let mut lost = Vec::new();
        if rep.unusable_packets > 0 {
            lost.push(format!(
                "{} that could not be decoded",
                Count(rep.unusable_packets, "packet")
            ));
        }
        if rep.truncated_packets > 0 {
            lost.push(format!(
                "{} cut short by the snapshot length",
                Count(rep.truncated_packets, "packet")
            ));
        }
        if let Some((_, n)) = rep.counters.iter().find(|(k, _)| *k == "duplicate_packets") {
            lost.push(format!(
                "{n} copies of packets already captured at another interface"
            ));
        }
        if rep.bytes_lost > 0 {
            lost.push(format!("{} missing", Count(rep.bytes_lost, "stream byte")));
        }
        if rep.connections_evicted > 0 {
            lost.push(format!(
                "{} dropped at the table cap",
                Count(rep.connections_evicted, "connection")
            ));
        }
        if !lost.is_empty() {
            writeln!(out, "   not used: {}", lost.join("; "))?;
        }
        for problem in &rep.problems {
            writeln!(out, "   problem: {problem}")?;
        }
        if rep.connections_reported == 0 {
            if let Some((top, _)) = rep.unreported_ports.first() {
                let ports: Vec<String> = rep
                    .unreported_ports
                    .iter()
                    .map(|(port, n)| format!("{port} ({})", Count(*n, "connection")))
                    .collect();
                writeln!(
                    out,
                    "   no RDP found; the busiest server ports are {}: `--port {top}` reports the connections to a port even without RDP",
                    ports.join(", ")
                )?;
            }
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

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let color = self.color;
        let out = &mut self.out;
        writeln!(out, "Summary: {}", summary_line(summary))?;
        for (code, n) in &summary.verdicts {
            let name = format!("{:<26}", code.as_str());
            writeln!(out, "  {} {n:>6}", paint(color, code.severity(), &name))?;
        }
        if !summary.findings.is_empty() {
            writeln!(out, "Findings:")?;
            for (code, n) in &summary.findings {
                let name = format!("{:<26}", code.as_str());
                writeln!(out, "  {} {n:>6}", paint(color, code.severity(), &name))?;
            }
        }
        if summary.connections > 0 || !summary.findings.is_empty() {
            writeln!(
                out,
                "(rdp-pcap explain CODE says what a code means and how to fix it)"
            )?;
        }
        out.flush()
    }
}
