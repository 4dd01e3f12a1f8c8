//! The JSON shapes of the reports (`--format jsonl` and `--format json`).
//!
//! Key names are the output contract (see `docs/output.md`): a part that was not seen is
//! `null`, never omitted.

use std::net::SocketAddr;

use rdp_wire::analyzer::{Confirm, ConnectionFacts, Timestamp, X224Facts};
use serde_json::{json, Value};

use crate::record::{CaptureReport, ConnectionRecord};

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
        "end": end(rec),
        "verdict": {
            "code": rec.verdict.code.as_str(),
            "severity": rec.verdict.severity.as_str(),
            "summary": rec.verdict.summary,
        },
        "findings": [],
        "anomalies": anomalies,
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
