//! Drive the connection analyzer from bytes you reassembled yourself.
//!
//! A sensor, a proxy or a test harness that already has the two TCP byte streams of one
//! connection can ask `rdp-wire` what happened without any capture file: report the TCP events
//! and hand over the payload of each direction in order, in whatever chunks you have.
//!
//! A tool that follows many connections keeps one `rdp_wire::analyzer::Caches` per thread and
//! feeds every analyzer with `data_cached(.., &mut caches)` instead of `data`: certificates and
//! ClientHello fingerprints seen before are then looked up rather than computed again.
//!
//! Run it with `cargo run -p rdp-wire --example analyze_streams`. The bytes below are the first
//! packets of `samples/neg-failure-hybrid-required.pcap`: a TLS-only client meeting an
//! NLA-only server.

use rdp_wire::analyzer::Analyzer;
use rdp_wire::{Side, Timestamp};

/// X.224 Connection Request: cookie `alice`, RDP_NEG_REQ requesting PROTOCOL_SSL.
const CONNECTION_REQUEST: &[u8] = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x01\x00\x00\x00";
/// X.224 Connection Confirm: RDP_NEG_FAILURE HYBRID_REQUIRED_BY_SERVER.
const CONNECTION_CONFIRM: &[u8] =
    b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x00\x00\x00\x03\x00\x08\x00\x05\x00\x00\x00";

/// Capture time in nanoseconds since the UNIX epoch, `ms` milliseconds into the connection.
fn at(ms: i64) -> Timestamp {
    Timestamp(1_764_410_677_744_652_000 + ms * 1_000_000)
}

fn main() {
    let mut conn = Analyzer::new();
    // The TCP handshake (skip these, and call `mid_stream()`, if you did not see it).
    conn.syn(at(0));
    conn.syn_ack(at(0));
    // Payload in order, per direction; chunks may split or join frames anywhere.
    let (head, tail) = CONNECTION_REQUEST.split_at(10);
    conn.data(Side::Client, at(1), head);
    conn.data(Side::Client, at(1), tail);
    conn.data(Side::Server, at(48), CONNECTION_CONFIRM);
    // The client gives up.
    conn.fin(Side::Client, at(49));

    let verdict = conn.verdict();
    println!(
        "verdict:  {} ({})",
        verdict.code.as_str(),
        verdict.severity.as_str()
    );
    println!("summary:  {}", verdict.summary);
    println!("phase:    {}", verdict.phase.as_str());
    if let Some(x224) = &conn.facts().x224 {
        println!("cookie:   {}", x224.cookie.as_deref().unwrap_or("-"));
    }
    for finding in conn.findings(Some(3390)) {
        println!("finding:  {} {}", finding.code.as_str(), finding.summary);
    }
    // The events and the TLS handshake milestones (none here), in time order.
    for entry in conn.timeline() {
        println!(
            "event:    {:>8.3} ms  {:<6} {}",
            entry.at.millis_since(at(0)),
            entry.side.map_or("both", |s| s.as_str()),
            entry.what
        );
    }
}
