//! The JSON shapes of the reports (`--format jsonl` and `--format json`).
//!
//! Key names are the output contract (see `docs/output.md`): a part that was not seen is
//! `null`, never omitted.

use std::net::SocketAddr;

use rdp_wire::analyzer::{Confirm, ConnectionFacts, McsFacts, Timestamp, X224Facts};
use rdp_wire::gcc::{ClientSettings, ServerSettings};
use rdp_wire::names::{EncryptionMethods, RdpVersion};
use rdp_wire::tls::{AlertEvent, TlsFacts};
use rdp_wire::x224::Protocols;
use rdp_wire::x509::CertificateSummary;
use serde_json::{json, Value};

use rdp_wire::analyzer::{CaptureFinding, Finding};

use super::Summary;
use crate::record::{CaptureReport, ConnectionRecord, InputProblem};

/// Version of the JSON schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// `ip:port`, IPv6 in brackets.
pub fn endpoint(addr: &SocketAddr) -> String {
    addr.to_string()
}

/// RFC 3339 UTC with microseconds: `2026-11-29T10:03:46.123456Z`.
pub fn rfc3339(ts: Timestamp) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts.0))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| format!("@{}ns", ts.0))
}

/// Rounds milliseconds to microsecond precision for stable output.
pub fn round_ms(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

fn x224(x: &X224Facts) -> Value {
    let (selected, response_flags, failure, confirm) = match x.confirm {
        Some(Confirm::Selected { protocol, flags }) => (
            json!(protocol.protocol_names().join("|")),
            json!(flags.names()),
            Value::Null,
            json!("RDP_NEG_RSP"),
        ),
        Some(Confirm::Failure { code }) => (
            Value::Null,
            Value::Null,
            json!(code.to_string()),
            json!("RDP_NEG_FAILURE"),
        ),
        Some(Confirm::Legacy) => (Value::Null, Value::Null, Value::Null, json!("legacy")),
        None => (Value::Null, Value::Null, Value::Null, Value::Null),
    };
    json!({
        "cookie": x.cookie,
        "routing_token": x.routing_token,
        "requested_protocols": x.requested_protocols.map(|p| p.protocol_names()),
        "request_flags": x.request_flags.map(|f| f.names()),
        "correlation_id": x.correlation_id,
        "confirm": confirm,
        "selected_protocol": selected,
        "response_flags": response_flags,
        "failure_code": failure,
    })
}

/// Where an instant falls in the TLS handshake, for alerts.
pub fn tls_phase(tls: &TlsFacts, at_ns: i128) -> &'static str {
    let before = |t: Option<i128>| t.is_none_or(|t| at_ns < t);
    if tls.client_hello_ts.is_none() && tls.server_hello_ts.is_none() {
        "no-handshake-seen"
    } else if before(tls.client_hello_ts) {
        "before-client-hello"
    } else if before(tls.server_hello_ts) {
        "after-client-hello"
    } else if before(tls.established_ts) {
        "after-server-hello"
    } else {
        "after-handshake"
    }
}

fn ms_from(start: Timestamp, at_ns: i128) -> f64 {
    let at = Timestamp(i64::try_from(at_ns).unwrap_or(start.0));
    round_ms(at.millis_since(start))
}

fn certificate(c: &CertificateSummary) -> Value {
    json!({
        "subject": c.subject,
        "issuer": c.issuer,
        "san": c.san,
        "serial": c.serial,
        "not_before": c.not_before_rfc3339,
        "not_after": c.not_after_rfc3339,
        "key_type": c.key_type,
        "key_bits": c.key_bits,
        "curve": c.curve,
        "signature": c.signature_algorithm,
        "self_signed": c.self_signed,
        "sha256": c.sha256,
        "eku": c.eku,
    })
}

fn alert(tls: &TlsFacts, a: &AlertEvent, start: Timestamp) -> Value {
    json!({
        "from": a.side.as_str(),
        "level": a.level.map(|l| l.to_string()),
        "description": a.description.map(|d| d.to_string()),
        "encrypted": a.encrypted,
        "at_ms": ms_from(start, a.ts_ns),
        "phase": tls_phase(tls, a.ts_ns),
    })
}

/// The `tls` object.
pub fn tls(t: &TlsFacts, start: Timestamp) -> Value {
    let hello = t.client_hello_ts.is_some();
    let names = |v: &[rdp_wire::tls::ProtocolVersion]| -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    };
    json!({
        "client_versions": hello.then(|| names(&t.client_versions)),
        "client_cipher_suites": hello.then(|| {
            t.client_cipher_suites.iter().map(ToString::to_string).collect::<Vec<_>>()
        }),
        "sni": t.sni,
        "alpn": t.alpn,
        "supported_groups": t.supported_groups.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "ja4": t.ja4,
        "ja4_r": t.ja4_r,
        "ja3": t.ja3,
        "version": t.version.map(|v| v.to_string()),
        "cipher_suite": t.cipher_suite.map(|c| c.to_string()),
        "key_exchange_group": t.key_exchange_group.map(|g| g.to_string()),
        "hello_retry_request": t.hello_retry_request,
        "ja3s": t.ja3s,
        "certificate": t.certificates.first().map(certificate),
        "chain_length": (!t.certificates.is_empty()).then_some(t.chain_length),
        "alerts": t.alerts.iter().map(|a| alert(t, a, start)).collect::<Vec<_>>(),
        "handshake_complete": t.handshake_complete,
        "client_app_records": t.client_app_records,
        "server_app_records": t.server_app_records,
        "clear_text_from": t.non_tls_from.map(|s| s.as_str()),
    })
}

/// An RDP version word: its name and value, `RDP 5.0+ (0x00080004)`.
pub fn rdp_version(v: RdpVersion) -> String {
    match v.name() {
        Some(name) => format!("{name} ({:#010x})", v.0),
        None => format!("{:#010x}", v.0),
    }
}

/// Encryption methods by name; `["NONE"]` when no bit is set.
pub fn methods(m: EncryptionMethods) -> Vec<String> {
    if m.bits() == 0 {
        vec!["NONE".to_string()]
    } else {
        m.names()
    }
}

fn client_settings(c: &ClientSettings) -> Value {
    json!({
        "version": rdp_version(c.version),
        "desktop_width": c.desktop_width,
        "desktop_height": c.desktop_height,
        "color_depth": c.color_depth,
        "keyboard_layout": c.keyboard_layout_name.map_or_else(
            || format!("{:#010x}", c.keyboard_layout),
            str::to_string,
        ),
        "keyboard_layout_id": format!("{:#010x}", c.keyboard_layout),
        "client_build": c.client_build,
        "client_build_name": c.client_build_name,
        "client_name": c.client_name,
        "client_product_id": c.client_product_id,
        "client_dig_product_id": c.client_dig_product_id,
        "early_capability_flags": c.early_capability_flags.map(|f| f.names()),
        "connection_type": c.connection_type.map(|t| t.to_string()),
        "server_selected_protocol": c.server_selected_protocol.map(|p| Protocols(p).protocol_names()),
        "encryption_methods": c.encryption_methods.map(methods),
        "channels": c.channels.iter().map(|ch| json!({
            "name": ch.name,
            "options": ch.options.names(),
        })).collect::<Vec<_>>(),
        "cluster_flags": c.cluster_flags.map(|f| f.names()),
        "redirected_session_id": c.redirected_session_id,
        "monitor_count": c.monitor_count,
        "unknown_blocks": c.unknown_blocks,
    })
}

fn server_settings(s: &ServerSettings) -> Value {
    json!({
        "version": s.version.map(rdp_version),
        "client_requested_protocols": s.client_requested_protocols.map(|p| Protocols(p).protocol_names()),
        "encryption_method": s.encryption_method.map(|m| methods(m).join("|")),
        "encryption_level": s.encryption_level.map(|l| l.to_string()),
        "certificate": s.certificate.as_ref().map(|c| json!({
            "type": c.kind.to_string(),
            "key_bits": c.key_bits,
            "count": c.count,
            "permanent": c.permanent,
        })),
        "io_channel": s.io_channel,
        "channels": s.channels,
        "message_channel": s.message_channel,
        "unknown_blocks": s.unknown_blocks,
    })
}

/// The `mcs` object.
pub fn mcs(m: &McsFacts) -> Value {
    json!({
        "client": m.client.as_ref().map(client_settings),
        "server": m.server.as_ref().map(server_settings),
        "result": m.result.map(|r| r.to_string()),
        "users_attached": m.users_attached,
        "channels_joined": m.channels_joined,
        "security_exchange": m.security_exchange_at.is_some(),
        "client_info": m.client_info_at.map(|_| json!({
            "encrypted": m.client_info_encrypted,
            "user_name": m.user_name,
            "domain": m.domain,
        })),
        "licensing": (m.license_pdus > 0).then(|| json!({
            "pdus": m.license_pdus,
            "error_code": m.license_error.map(|e| e.error_code.to_string()),
            "state_transition": m.license_error.map(|e| e.state_transition.to_string()),
        })),
        "demand_active": m.demand_active_at.is_some(),
        "confirm_active": m.confirm_active_at.is_some(),
        "error_info": m.error_info.map(|e| e.to_string()),
        "disconnect": m.disconnect.map(|d| json!({
            "from": d.from.as_str(),
            "reason": d.reason.to_string(),
            "in_clear_inside_tls": d.in_clear_inside_tls,
        })),
    })
}

fn end(rec: &ConnectionRecord) -> Value {
    let f: &ConnectionFacts = &rec.facts;
    match f.close {
        Some(c) => json!({
            "by": c.by.as_str(),
            "how": c.kind.as_str(),
            "ms_after_last_handshake": f.ms_after_last_handshake(c.at).map(round_ms),
            "flow": rec.flow_end.as_str(),
        }),
        None => json!({
            "by": Value::Null,
            "how": "open",
            "ms_after_last_handshake": Value::Null,
            "flow": rec.flow_end.as_str(),
        }),
    }
}

/// The `connection` object.
pub fn connection(rec: &ConnectionRecord) -> Value {
    let f = &rec.facts;
    let client = f.side(rdp_wire::analyzer::Side::Client);
    let server = f.side(rdp_wire::analyzer::Side::Server);
    let mut anomalies = f.anomalies.clone();
    if let Some(t) = &rec.tls {
        anomalies.extend(t.anomalies.iter().map(|a| format!("tls: {a}")));
    }
    if f.anomalies_dropped > 0 {
        anomalies.push(format!("{} more anomalies not listed", f.anomalies_dropped));
    }
    json!({
        "type": "connection",
        "id": rec.id,
        "capture": rec.capture,
        "client": endpoint(&rec.client),
        "server": endpoint(&rec.server),
        "start": rfc3339(rec.start),
        "duration_ms": round_ms(rec.last.millis_since(rec.start)),
        "first_frame": rec.first_frame,
        "mid_stream": f.mid_stream,
        "tcp": {
            "syn": f.syn_at.is_some(),
            "syn_count": f.syn_count,
            "syn_ack": f.syn_ack_at.is_some(),
            "client_packets": rec.packets[0],
            "server_packets": rec.packets[1],
            "client_bytes": client.bytes,
            "server_bytes": server.bytes,
            "client_bytes_lost": client.gap_bytes,
            "server_bytes_lost": server.gap_bytes,
        },
        "x224": f.x224.as_ref().map(x224),
        "tls": rec.tls.as_ref().map(|t| tls(t, rec.start)),
        "mcs": f.mcs.as_ref().map(mcs),
        "standard_security": f.standard_security().map(|s| json!({
            "encryption_method": methods(s.encryption_method).join("|"),
            "encryption_level": s.encryption_level.to_string(),
        })),
        "end": end(rec),
        "verdict": {
            "code": rec.verdict.code.as_str(),
            "severity": rec.verdict.severity.as_str(),
            "summary": rec.verdict.summary,
        },
        "phase": rec.verdict.phase.as_str(),
        "timeline": (!rec.events.is_empty()).then(|| {
            rec.events
                .iter()
                .map(|e| json!({
                    "at_ms": round_ms(e.at.millis_since(rec.start)),
                    "from": e.side.map(|s| s.as_str()),
                    "event": e.what,
                }))
                .collect::<Vec<_>>()
        }),
        "findings": rec.findings.iter().map(finding).collect::<Vec<_>>(),
        "anomalies": anomalies,
    })
}

fn finding(f: &Finding) -> Value {
    json!({"code": f.code.as_str(), "severity": f.severity.as_str(), "summary": f.summary})
}

/// A capture-wide `finding` object.
pub fn capture_finding(capture: &str, f: &CaptureFinding) -> Value {
    json!({
        "type": "finding",
        "capture": capture,
        "code": f.finding.code.as_str(),
        "severity": f.finding.severity.as_str(),
        "summary": f.finding.summary,
        "connections": f.connections,
    })
}

/// An `input-error` object.
pub fn input_error(problem: &InputProblem) -> Value {
    json!({"type": "input-error", "capture": problem.input, "message": problem.message})
}

/// The closing `summary` object.
pub fn summary(s: &Summary) -> Value {
    let verdicts: serde_json::Map<String, Value> = s
        .verdicts
        .iter()
        .map(|(c, n)| (c.as_str().to_string(), json!(n)))
        .collect();
    let findings: serde_json::Map<String, Value> = s
        .findings
        .iter()
        .map(|(c, n)| (c.as_str().to_string(), json!(n)))
        .collect();
    json!({
        "type": "summary",
        "schema_version": SCHEMA_VERSION,
        "inputs": s.inputs,
        "inputs_with_problems": s.inputs_with_problems,
        "connections": s.connections,
        "verdicts": verdicts,
        "findings": findings,
        "worst_severity": s.worst.map(|w| w.as_str()),
    })
}

/// The `capture` object: what one input held and what could not be used.
pub fn capture(rep: &CaptureReport) -> Value {
    let counters: serde_json::Map<String, Value> = rep
        .counters
        .iter()
        .map(|(k, v)| ((*k).to_string(), json!(v)))
        .collect();
    json!({
        "type": "capture",
        "capture": rep.capture,
        "format": rep.format,
        "packets": rep.packets,
        "bytes": rep.bytes,
        "tcp_packets": rep.tcp_packets,
        "other_packets": rep.other_packets,
        "unusable_packets": rep.unusable_packets,
        "truncated_packets": rep.truncated_packets,
        "bytes_lost": rep.bytes_lost,
        "connections_seen": rep.connections_seen,
        "connections_reported": rep.connections_reported,
        "connections_evicted": rep.connections_evicted,
        "counters": counters,
        "problems": rep.problems,
    })
}
