//! Links between records: which connection retries which.
//!
//! Clients retry a failed connection at once and often differently: mstsc falls back to TLS
//! without CredSSP after `HYBRID_REQUIRED_BY_SERVER` is refused, FreeRDP retries with other
//! security after a negotiation failure, users click "Connect" again. Seen alone, the retry
//! looks like a second, unrelated connection; linked, the report says "the client retried
//! without NLA 3 ms later".
//!
//! A connection is a retry of an earlier one when it comes from the same client address (any
//! port) to the same server address and port, the earlier one failed (an `error` verdict or
//! `closed-early`), and it starts at most [`RETRY_WINDOW_MS`] after the earlier one's last
//! packet. That is a heuristic (`basis: heuristic`): two users behind one NAT address can look
//! the same. A success ends the chain; a retry that fails again is what the next retry links to.
//!
//! Memory: one entry per client/server pair whose last connection failed within the window,
//! at most [`MAX_TRACKED`]; records come in order of first packet, so entries are let go in the
//! order they were made once the window has passed them.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use rdp_wire::analyzer::{Severity, VerdictCode};
use rdp_wire::tls::ProtocolVersion;
use rdp_wire::x224::Protocols;
use rdp_wire::Timestamp;

use crate::record::{ConnectionRecord, Link, LinkBasis, LinkRel};

/// How long after a failed connection's last packet a new one from the same client to the
/// same server still counts as its retry. Automatic retries come within milliseconds, a user
/// clicking "Connect" again within seconds; past this, the new attempt is its own story.
pub const RETRY_WINDOW_MS: f64 = 10_000.0;

/// Pairs followed at once; past this, the oldest is let go (a flood of failures from spoofed
/// addresses must not grow memory).
pub const MAX_TRACKED: usize = 65_536;

/// What is remembered of a failed connection.
#[derive(Debug, Clone, Copy)]
struct Failure {
    id: u64,
    start: Timestamp,
    last: Timestamp,
    requested: Option<Protocols>,
    max_version: Option<ProtocolVersion>,
}

/// Finds retries among the records of one capture, in order of first packet.
#[derive(Debug, Default)]
pub struct RetryTracker {
    failures: HashMap<(IpAddr, SocketAddr), Failure, foldhash::fast::RandomState>,
    /// Pairs in the order their failure was recorded (with that failure's id), to let them go.
    order: VecDeque<((IpAddr, SocketAddr), u64)>,
}

/// Whether a verdict is a failure worth retrying.
fn failed(rec: &ConnectionRecord) -> bool {
    rec.verdict.severity == Severity::Error || rec.verdict.code == VerdictCode::ClosedEarly
}

/// The highest TLS version a ClientHello offered.
fn max_version(rec: &ConnectionRecord) -> Option<ProtocolVersion> {
    rec.tls
        .as_ref()
        .and_then(|t| t.client_versions.iter().copied().max_by_key(|v| v.0))
}

/// What the retry changed, in a few words.
fn change(before: &Failure, rec: &ConnectionRecord) -> Option<String> {
    let requested = rec.facts.x224.as_ref().and_then(|x| x.requested_protocols);
    match (before.requested, requested) {
        (Some(a), Some(b)) if a.uses_tls() && !b.uses_tls() => {
            return Some("with Standard RDP Security only".to_string())
        }
        (Some(a), Some(b)) if a.uses_credssp() && !b.uses_credssp() => {
            return Some("without NLA".to_string())
        }
        (Some(a), Some(b)) if !a.uses_credssp() && b.uses_credssp() => {
            return Some("with NLA".to_string())
        }
        (Some(a), Some(b)) if !a.uses_tls() && b.uses_tls() => return Some("with TLS".to_string()),
        (Some(a), Some(b)) if a != b => {
            return Some(format!(
                "requesting {} instead of {}",
                b.protocol_names().join("|"),
                a.protocol_names().join("|")
            ))
        }
        _ => {}
    }
    match (before.max_version, max_version(rec)) {
        (Some(a), Some(b)) if a != b => Some(format!("offering up to {b} instead of {a}")),
        _ => None,
    }
}

impl RetryTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// The link to the connection `rec` retries, if any; then remembers `rec` if it failed
    /// (or forgets its pair if it worked). `rec.id` must be set.
    pub fn observe(&mut self, rec: &ConnectionRecord) -> Option<Link> {
        let key = (rec.endpoints.client.ip(), rec.endpoints.server);
        self.let_go(rec.start);
        let link = self.failures.get(&key).and_then(|before| {
            let after = rec.start.millis_since(before.last);
            (rec.start > before.start && after <= RETRY_WINDOW_MS).then(|| Link {
                rel: LinkRel::RetryOf,
                id: before.id,
                basis: LinkBasis::Heuristic,
                after_ms: Some(if after > 0.0 { after } else { 0.0 }),
                change: change(before, rec),
            })
        });
        if failed(rec) {
            if self.order.len() >= MAX_TRACKED.saturating_mul(2) {
                self.pop_oldest();
            }
            self.failures.insert(
                key,
                Failure {
                    id: rec.id,
                    start: rec.start,
                    last: rec.last,
                    requested: rec.facts.x224.as_ref().and_then(|x| x.requested_protocols),
                    max_version: max_version(rec),
                },
            );
            self.order.push_back((key, rec.id));
            while self.failures.len() > MAX_TRACKED {
                self.pop_oldest();
            }
        } else {
            self.failures.remove(&key);
        }
        link
    }

    /// Forgets the pairs whose failure ended more than the window before `now`, oldest first
    /// (amortised O(1) per record).
    fn let_go(&mut self, now: Timestamp) {
        while let Some((key, id)) = self.order.front().copied() {
            let stale = match self.failures.get(&key) {
                Some(f) if f.id == id => now.millis_since(f.last) > RETRY_WINDOW_MS,
                // Replaced by a later failure, or forgotten after a success.
                _ => true,
            };
            if !stale {
                break;
            }
            self.order.pop_front();
            if self.failures.get(&key).is_some_and(|f| f.id == id) {
                self.failures.remove(&key);
            }
        }
    }

    fn pop_oldest(&mut self) {
        if let Some((key, id)) = self.order.pop_front() {
            if self.failures.get(&key).is_some_and(|f| f.id == id) {
                self.failures.remove(&key);
            }
        }
    }
}
