//! A connection's timeline: the analyzer's events and the TLS handshake milestones, merged in
//! time order, in words.
//!
//! The events ([`Event`]) are recorded as they happen; the TLS milestones are kept by the TLS
//! tracker as times in its facts (first ClientHello, ServerHello, each side's ChangeCipherSpec,
//! handshake complete, every alert). [`Analyzer::timeline`](super::Analyzer::timeline) puts
//! them together, so that a report only prints it.

use crate::{Side, Timestamp};

use super::tls::TlsFacts;
use super::Event;

/// One entry of a connection's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// When.
    pub at: Timestamp,
    /// Who sent it (`None` for a state both sides reached: `TLS handshake complete`).
    pub side: Option<Side>,
    /// What, in words (`X.224 Connection Request`, `TLS ServerHello (TLS1.2)`,
    /// `TLS alert fatal handshake_failure`, ...).
    pub what: String,
}

/// `events` (in the order they were recorded) and the milestones of `tls`, sorted by time;
/// entries at the same instant keep the order events first, then ClientHello, ServerHello,
/// ChangeCipherSpec (client, server), handshake complete, alerts.
pub(super) fn merge(events: &[Event], tls: Option<&TlsFacts>) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = events
        .iter()
        .map(|e| TimelineEntry {
            at: e.at,
            side: Some(e.side),
            what: e.kind.to_string(),
        })
        .collect();
    if let Some(t) = tls {
        let mut add = |at: Option<Timestamp>, side: Option<Side>, what: String| {
            if let Some(at) = at {
                out.push(TimelineEntry { at, side, what });
            }
        };
        add(
            t.client_hello_at,
            Some(Side::Client),
            "TLS ClientHello".to_string(),
        );
        let chosen = t.version.map(|v| format!(" ({v})")).unwrap_or_default();
        add(
            t.server_hello_at,
            Some(Side::Server),
            format!("TLS ServerHello{chosen}"),
        );
        add(
            t.client_ccs_at,
            Some(Side::Client),
            "TLS ChangeCipherSpec".to_string(),
        );
        add(
            t.server_ccs_at,
            Some(Side::Server),
            "TLS ChangeCipherSpec".to_string(),
        );
        add(t.established_at, None, "TLS handshake complete".to_string());
        for alert in &t.alerts {
            let what = match (alert.level, alert.description) {
                _ if alert.encrypted => "TLS alert (encrypted)".to_string(),
                (Some(l), Some(d)) => format!("TLS alert {l} {d}"),
                _ => "TLS alert".to_string(),
            };
            add(Some(alert.at), Some(alert.side), what);
        }
    }
    // Stable: entries at the same instant keep their order.
    out.sort_by_key(|e| e.at);
    out
}
