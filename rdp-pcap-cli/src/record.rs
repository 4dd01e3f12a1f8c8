//! What the pipeline hands to the reports: one owned record per connection and one summary per
//! capture file.

use rdp_wire::analyzer::{ConnectionFacts, Finding, TlsFacts, TunnelFacts, Verdict};
use rdp_wire::{Endpoints, Timestamp};

/// How the reassembler stopped following a connection: its own type, carried unchanged.
pub use crate::reassembly::FlowEnd;

/// One entry of a connection's timeline, for `--timeline`: the analyzer's own.
pub use rdp_wire::analyzer::TimelineEntry;

/// How one record points at another (`links` in the JSON formats; docs/output.md).
///
/// This is the one way records refer to each other: a retry to the connection it retries, and,
/// as the analysis learns them, redirections, side transports and tunnels.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// What the other record is to this one.
    pub rel: LinkRel,
    /// The other record's id (`id` of its record, in the same run).
    pub id: u64,
    /// How sure the link is.
    pub basis: LinkBasis,
    /// Milliseconds from the other record's last packet to this one's first (0 when they
    /// overlap), when time is what links them.
    pub after_ms: Option<f64>,
    /// What changed, in a few words (`without NLA`), when known.
    pub change: Option<String>,
}

/// What a linked record is to the one that links to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkRel {
    /// This connection retries the linked one, which failed: same client address, same
    /// server, started within [`crate::links::RETRY_WINDOW_MS`] of its end.
    RetryOf,
}

impl LinkRel {
    /// The name reports print.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkRel::RetryOf => "retry-of",
        }
    }
}

/// How a link was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkBasis {
    /// The protocol says so (a redirection cookie, a ticket, a tunnel's target).
    Exact,
    /// Addresses and timing make it likely.
    Heuristic,
}

impl LinkBasis {
    /// `"exact"` or `"heuristic"`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkBasis::Exact => "exact",
            LinkBasis::Heuristic => "heuristic",
        }
    }
}

/// One reported connection.
#[derive(Debug, Clone)]
pub struct ConnectionRecord {
    /// Sequential over the whole run, in order of first packet within each capture.
    pub id: u64,
    /// The capture file the connection came from (as given on the command line); with
    /// `--merge`, the file that holds its first packet.
    pub capture: String,
    /// The side that opened the connection and the side that accepted it.
    pub endpoints: Endpoints,
    /// Frame number of the first packet in the file named by `capture`.
    pub first_frame: u64,
    /// First packet.
    pub start: Timestamp,
    /// Last packet.
    pub last: Timestamp,
    /// Packets per side (client, server).
    pub packets: [u64; 2],
    /// How the reassembler stopped following it.
    pub flow_end: FlowEnd,
    /// What the analyzer learnt.
    pub facts: ConnectionFacts,
    /// What the TLS layer saw; `None` when no TLS record was seen or expected.
    pub tls: Option<TlsFacts>,
    /// The timeline (empty unless `--timeline` was asked for).
    pub events: Vec<TimelineEntry>,
    /// The verdict.
    pub verdict: Verdict,
    /// Security findings on this connection.
    pub findings: Vec<Finding>,
    /// Other records this one points at (a retry to the connection it retries).
    pub links: Vec<Link>,
}

impl ConnectionRecord {
    /// The proxy tunnel the connection went through (`via` in the reports), if any.
    pub fn via(&self) -> Option<&TunnelFacts> {
        self.facts.tunnel.as_deref()
    }

    /// The tunnel in one line, as the text and CSV reports print it: `socks5 10.0.0.1:3389`,
    /// then `(refused: ...)` or `(no answer from the proxy)` when it was not opened.
    pub fn via_text(&self) -> Option<String> {
        let t = self.via()?;
        if let Some(basis) = t.basis {
            return Some(format!(
                "{} (suggested by {basis}; HTTPS, the RDP inside is encrypted)",
                t.kind.as_str()
            ));
        }
        let target = t.target.as_deref().unwrap_or("?");
        let outcome = match &t.answer {
            Some(a) if a.granted => String::new(),
            Some(a) => format!(
                " (refused: {})",
                a.refused.as_deref().unwrap_or("no reason given")
            ),
            None => " (no answer from the proxy in the capture)".to_string(),
        };
        Some(format!("{} {target}{outcome}", t.kind.as_str()))
    }
}

/// A problem with an input: it could not be read, or only in part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    /// The input as named on the command line (or found in a directory).
    pub input: String,
    /// One lower-case sentence.
    pub message: String,
}

/// What one capture file held, and what of it could not be used.
#[derive(Debug, Clone, Default)]
pub struct CaptureReport {
    /// The input name.
    pub capture: String,
    /// `pcap` or `pcapng`, when recognised.
    pub format: Option<String>,
    /// With `--merge`, the files read as this one capture, in the order given; else empty.
    pub merged_from: Vec<String>,
    /// The compression the capture was read through, if any.
    pub compression: Option<crate::input::Compression>,
    /// Packet records read.
    pub packets: u64,
    /// Bytes of packet data read.
    pub bytes: u64,
    /// TCP packets decoded.
    pub tcp_packets: u64,
    /// Packets that were not TCP (UDP, ARP, ...): not used, but not an error either.
    pub other_packets: u64,
    /// Packets that could not be decoded (bad headers, unknown link type).
    pub unusable_packets: u64,
    /// Packets cut short by the capture's snapshot length.
    pub truncated_packets: u64,
    /// Stream bytes the capture missed (sequence gaps), over all connections.
    pub bytes_lost: u64,
    /// TCP connections seen.
    pub connections_seen: u64,
    /// Connections reported (RDP by content or on a reported port).
    pub connections_reported: u64,
    /// Connections dropped to stay within the live-connection cap.
    pub connections_evicted: u64,
    /// Other counters worth showing (name, value), only the non-zero ones.
    pub counters: Vec<(&'static str, u64)>,
    /// Problems reading the file, one sentence each.
    pub problems: Vec<String>,
    /// Findings across the capture's connections (brute force, certificate reuse).
    pub findings: Vec<rdp_wire::analyzer::CaptureFinding>,
    /// The server ports of the connections not reported, with how many each, busiest first
    /// (at most 5): where to look with `--port` when a capture holds no RDP.
    pub unreported_ports: Vec<(u16, u64)>,
}
