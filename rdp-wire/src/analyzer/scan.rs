//! Scans: connections that belong to a scan rather than to someone connecting (issue 14).
//!
//! Two kinds of evidence:
//!
//! - **One connection** shows a probe by itself ([`probe`]): a Standard RDP Security MCS
//!   Connect Initial offering a single encryption method from a client that leaves right after
//!   the server's Connect Response (nmap's `rdp-enum-encryption` reads the server's settings
//!   that way, one method per connection; no RDP client offers a single method and then
//!   leaves), or a BlueKeep probe (the static channel `MS_T120`, CVE-2019-0708) on a connection
//!   that ends before a session. Such a connection gets the `scanner` finding and its verdict
//!   summary says it is a scan.
//! - **A source's connections** show a scan together ([`ScanTracker`]): within
//!   [`SCAN_WINDOW_MS`], [`SCAN_MIN_CONNECTIONS`] short connections from one client address to
//!   two targets or more (any servers and ports; [`SCAN_MIN_CONNECTIONS_ONE_TARGET`] to one), or [`SCAN_MIN_PROBE_SETTINGS`] short connections to one server each
//!   with other settings (requested protocols, offered encryption methods: the
//!   `rdp-enum-encryption` series), or [`SCAN_MIN_BLUEKEEP`] BlueKeep probes. That is the
//!   capture-wide `scanner` finding, listing the connections.
//!
//! A connection is **short** when it ended before the session began ([`short`]): TCP only (the
//! client sent no byte: a port scan's SYN, or a connect-and-close), the X.224 negotiation only
//! (the client sent nothing after its Connection Request and the connection was closed), or
//! closed by the client right after the server's MCS Connect Response. Connections that reached
//! a session or authentication (verdicts `established`, `auth-failed`) are never short: a brute
//! force runs the whole connection sequence each time, and `brute-force` is its finding
//! (`lab/bruteforce.pcap`: 15 complete connections, no scan). Nor are connections whose
//! client spoke something other than RDP (a fuzzer, another protocol's scanner): what they
//! are is not this tool's to say, and `not-rdp` says what they are not.
//!
//! The thresholds keep people out. A person's client that fails makes a connection, perhaps a
//! few retries, and a fallback (mstsc asks for HYBRID|SSL, is refused, asks for SSL or RDP: two
//! short connections with different settings at most before one that goes on); ten short
//! connections in a minute, or three settings tried on one server, is a tool.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use super::facts::{ConnectionFacts, McsFacts};
use super::findings::{finding, CaptureFinding, FindingCode};
use super::verdict::{format_ms, VerdictCode};
use crate::{Bump as _, Saturate as _};
use crate::{Side, Timestamp};

/// A scan: at least this many short connections from one client address ...
pub const SCAN_MIN_CONNECTIONS: usize = 10;
/// ... within this window (milliseconds); the same window decides the other two rules.
pub const SCAN_WINDOW_MS: f64 = 60_000.0;
/// ... to at least two targets (server address and port), or this many to one: a client
/// reconnecting to a server that is restarting makes a few refused or cut connections a
/// minute to that one server (mstsc's automatic reconnection gives up after 20 attempts), a
/// tool hammering one server makes more.
pub const SCAN_MIN_CONNECTIONS_ONE_TARGET: usize = 30;
/// Or at least this many short connections from one client to one server, each with other
/// negotiation settings (requested protocols and offered encryption methods): a client falling
/// back makes two such connections at most before one that goes on; nmap's rdp-enum-encryption
/// makes nine (five protocol requests, four encryption methods).
pub const SCAN_MIN_PROBE_SETTINGS: usize = 3;
/// Or at least this many BlueKeep probes (`MS_T120` requested) from one client address.
pub const SCAN_MIN_BLUEKEEP: usize = 2;
/// Connections listed per `scanner` finding; the summary counts them all.
pub const SCAN_MAX_LISTED: usize = 10_000;
/// Server addresses counted by name per finding (the rest are counted).
const MAX_SERVERS_NAMED: usize = 1_024;
/// Window entries kept per client: past this many, the window holds a scan already (this is
/// far above [`SCAN_MIN_CONNECTIONS`]) and its oldest entries are let go.
const WINDOW_CAP: usize = 4_096;
/// Clients kept before the first look for idle ones.
const MIN_SEAL_CLIENTS: usize = 1_024;
/// Clients followed at once: a flood from more addresses than this within a window (spoofed
/// sources) is not a scan by one source, and its newcomers are not followed until a window
/// has passed, so that such a flood costs a bounded table (a few MiB), not one per address.
pub const SCAN_MAX_CLIENTS: usize = 65_536;

/// How a short connection ended before the session (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Short {
    /// The client sent no byte.
    TcpOnly,
    /// The client sent its Connection Request and nothing after it.
    NegotiationOnly,
    /// The client left right after the server's MCS Connect Response.
    AfterConnectResponse,
}

/// Whether the client asked for the static channel `MS_T120` (BlueKeep, CVE-2019-0708).
pub(crate) fn requests_ms_t120(f: &ConnectionFacts) -> bool {
    f.mcs
        .as_ref()
        .and_then(|m| m.client.as_ref())
        .is_some_and(|c| {
            c.channels
                .iter()
                .any(|ch| ch.name.eq_ignore_ascii_case("MS_T120"))
        })
}

/// Whether the client left (closed first) right after the server's successful MCS Connect
/// Response, having sent nothing more of the connection sequence.
fn left_after_connect_response(f: &ConnectionFacts, m: &McsFacts) -> bool {
    f.close.is_some_and(|c| c.by == Side::Client)
        && super::verdict::client_left_after_connect_response(m).is_some()
}

/// How the connection ended before the session, if it is short (see the module doc).
pub(crate) fn short(f: &ConnectionFacts, verdict: VerdictCode) -> Option<Short> {
    if matches!(
        verdict,
        VerdictCode::Established | VerdictCode::AuthFailed | VerdictCode::NotRdp
    ) {
        return None;
    }
    let client = f.side(Side::Client);
    let ended = f.close.is_some() || verdict == VerdictCode::TcpUnanswered;
    if client.bytes == 0 && !f.mid_stream && f.syn_at.is_some() && ended {
        return Some(Short::TcpOnly);
    }
    if let Some(m) = f.mcs.as_ref() {
        if left_after_connect_response(f, m) {
            return Some(Short::AfterConnectResponse);
        }
    }
    let requested = f.x224.as_ref().is_some_and(|x| x.request_at.is_some());
    let no_connect_initial = f
        .mcs
        .as_ref()
        .is_none_or(|m| m.connect_initial_at.is_none());
    if requested && no_connect_initial && client.bytes_after_handshake == 0 && f.close.is_some() {
        return Some(Short::NegotiationOnly);
    }
    None
}

/// Why this connection alone is a probe, if it is one (see the module doc): the evidence, in
/// a phrase that ends the `scanner` finding and the verdict summary.
pub(crate) fn probe(f: &ConnectionFacts, verdict: VerdictCode) -> Option<String> {
    if requests_ms_t120(f) && verdict != VerdictCode::Established && f.close.is_some() {
        return Some(
            "the client asked for the static channel MS_T120 and the connection ended before a session: a BlueKeep (CVE-2019-0708) scan"
                .to_string(),
        );
    }
    let m = f.mcs.as_ref()?;
    let methods = m.client.as_ref()?.encryption_methods?;
    if methods.bits().count_ones() == 1 && short(f, verdict) == Some(Short::AfterConnectResponse) {
        return Some(format!(
            "the client offered the single encryption method {methods} and left right after the server's MCS Connect Response, as nmap's rdp-enum-encryption does: a scan of the server's security settings"
        ));
    }
    None
}

/// The negotiation settings of a short connection: requested protocols (`None` for a request
/// without RDP_NEG_REQ) and offered encryption methods (`None` without a Connect Initial).
type Settings = (Option<u32>, Option<u32>);

fn settings(f: &ConnectionFacts, kind: Short) -> Option<Settings> {
    if kind == Short::TcpOnly {
        return None;
    }
    let requested = f
        .x224
        .as_ref()
        .and_then(|x| x.requested_protocols)
        .map(|p| p.bits());
    let methods = f
        .mcs
        .as_ref()
        .and_then(|m| m.client.as_ref())
        .and_then(|c| c.encryption_methods)
        .map(|m| m.bits());
    Some((requested, methods))
}

/// One connection of a client's window.
#[derive(Debug, Clone)]
struct Entry {
    /// The client's count of entries before this one.
    seq: u64,
    at: Timestamp,
    id: u64,
    server: SocketAddr,
    kind: Option<Short>,
    settings: Option<Settings>,
    bluekeep: bool,
}

/// Why a client's connections are a scan.
#[derive(Debug, Clone, Copy, Default)]
struct Reasons {
    many: bool,
    settings: usize,
    bluekeep: bool,
}

/// What a scanning client's finding says, gathered as its connections are listed.
#[derive(Debug, Clone, Default)]
struct Found {
    ids: Vec<u64>,
    connections: u64,
    /// Per [`Short`] kind: TCP only, negotiation only, after the Connect Response.
    kinds: [u64; 3],
    bluekeep: u64,
    servers: BTreeSet<SocketAddr>,
    servers_not_named: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    reasons: Reasons,
}

impl Found {
    fn list(&mut self, e: &Entry) {
        self.connections.bump();
        if self.ids.len() < SCAN_MAX_LISTED {
            self.ids.push(e.id);
        }
        match e.kind {
            Some(Short::TcpOnly) => self.kinds[0].bump(),
            Some(Short::NegotiationOnly) => self.kinds[1].bump(),
            Some(Short::AfterConnectResponse) => self.kinds[2].bump(),
            None => {}
        }
        if e.bluekeep {
            self.bluekeep.bump();
        }
        if !self.servers.contains(&e.server) {
            if self.servers.len() < MAX_SERVERS_NAMED {
                self.servers.insert(e.server);
            } else {
                self.servers_not_named.bump();
            }
        }
        self.first = Some(self.first.map_or(e.at, |f| f.min(e.at)));
        self.last = Some(self.last.map_or(e.at, |l| l.max(e.at)));
    }

    fn finding(self, client: IpAddr) -> CaptureFinding {
        let mut how = Vec::new();
        for (n, what) in [
            (self.kinds[0], "TCP only"),
            (self.kinds[1], "X.224 negotiation only"),
            (self.kinds[2], "left after the MCS Connect Response"),
            (self.bluekeep, "BlueKeep probes"),
        ] {
            if n > 0 {
                how.push(format!("{n} {what}"));
            }
        }
        let mut why = Vec::new();
        if self.reasons.many {
            why.push(format!(
                "{SCAN_MIN_CONNECTIONS} or more short connections to several targets (or {SCAN_MIN_CONNECTIONS_ONE_TARGET} to one) within {}",
                format_ms(SCAN_WINDOW_MS)
            ));
        }
        if self.reasons.settings > 0 {
            why.push(format!(
                "{} different protocol or encryption settings tried on one server, as nmap's rdp-enum-encryption does",
                self.reasons.settings
            ));
        }
        if self.reasons.bluekeep {
            why.push("repeated BlueKeep (CVE-2019-0708) probes".to_string());
        }
        let named: u64 = self.servers.len().saturate();
        let servers = named.saturating_add(self.servers_not_named);
        let span = match (self.first, self.last) {
            (Some(first), Some(last)) => format_ms(last.millis_since(first)),
            _ => format_ms(0.0),
        };
        CaptureFinding {
            finding: finding(
                FindingCode::Scanner,
                format!(
                    "{client} made {} connections that ended before a session ({}) to {servers} server address{} within {span}: {}; a scan, not someone connecting",
                    self.connections,
                    how.join(", "),
                    if servers == 1 { "" } else { "es" },
                    why.join("; ")
                ),
            ),
            connections: self.ids,
        }
    }
}

/// Per server and settings, how many entries of a window; per server, how many settings; per
/// target (server address and port), how many entries.
#[derive(Debug, Clone, Default)]
struct Tried {
    settings: HashMap<(SocketAddr, Settings), u32>,
    per_server: HashMap<SocketAddr, u32>,
    targets: HashMap<SocketAddr, u32>,
}

impl Tried {
    fn count(&mut self, e: &Entry) {
        self.targets.entry(e.server).or_insert(0).bump();
        if let Some(s) = e.settings {
            let n = self.settings.entry((e.server, s)).or_insert(0);
            if *n == 0 {
                self.per_server.entry(e.server).or_insert(0).bump();
            }
            n.bump();
        }
    }
}

/// One client's connections of the last [`SCAN_WINDOW_MS`] that may belong to a scan.
#[derive(Debug, Clone, Default)]
struct ClientWindow {
    window: VecDeque<Entry>,
    /// The `seq` of the next entry.
    next_seq: u64,
    /// Entries from this `seq` on are not listed in `found` yet.
    listed_from: u64,
    /// The latest time added: an earlier one (out of order, a clock stepping back) is counted
    /// as made then, so the window never looks back.
    last: Option<Timestamp>,
    /// The settings of the window's entries, from the client's second entry on.
    tried: Option<Box<Tried>>,
    bluekeep: usize,
    found: Option<Box<Found>>,
}

impl ClientWindow {
    fn push(&mut self, mut e: Entry) {
        if let Some(last) = self.last {
            e.at = e.at.max(last);
        }
        self.last = Some(e.at);
        e.seq = self.next_seq;
        self.next_seq.bump();
        // Most clients make one connection: the settings are counted from the second one on
        // (the first counted then), which spares a flood from many addresses two tables each.
        if self.tried.is_none() && !self.window.is_empty() {
            let mut tried = Box::<Tried>::default();
            for old in &self.window {
                tried.count(old);
            }
            self.tried = Some(tried);
        }
        if let Some(tried) = self.tried.as_mut() {
            tried.count(&e);
        }
        if e.bluekeep {
            self.bluekeep = self.bluekeep.saturating_add(1);
        }
        let (at, server) = (e.at, e.server);
        self.window.push_back(e);
        while let Some(front) = self.window.front() {
            if at.millis_since(front.at) <= SCAN_WINDOW_MS && self.window.len() <= WINDOW_CAP {
                break;
            }
            if let Some(old) = self.window.pop_front() {
                self.forget(&old);
            }
        }
        let targets = self.tried.as_ref().map_or(1, |t| t.targets.len());
        let reasons = Reasons {
            many: self.window.len() >= SCAN_MIN_CONNECTIONS
                && (targets >= 2 || self.window.len() >= SCAN_MIN_CONNECTIONS_ONE_TARGET),
            settings: self
                .tried
                .as_ref()
                .and_then(|t| t.per_server.get(&server))
                .map_or(0, |n| (*n).saturate()),
            bluekeep: self.bluekeep >= SCAN_MIN_BLUEKEEP,
        };
        let settings = reasons.settings >= SCAN_MIN_PROBE_SETTINGS;
        if reasons.many || settings || reasons.bluekeep {
            let found = self.found.get_or_insert_with(Box::default);
            found.reasons.many |= reasons.many;
            if settings {
                found.reasons.settings = found.reasons.settings.max(reasons.settings);
            }
            found.reasons.bluekeep |= reasons.bluekeep;
            // The entries not listed yet are the newest: list them, each once.
            let unlisted = self.next_seq.saturating_sub(self.listed_from);
            let unlisted: usize = unlisted.saturate();
            let from = self.window.len().saturating_sub(unlisted);
            for e in self.window.range(from..) {
                found.list(e);
            }
            self.listed_from = self.next_seq;
        }
    }

    fn forget(&mut self, old: &Entry) {
        if let Some(tried) = self.tried.as_mut() {
            if let std::collections::hash_map::Entry::Occupied(mut n) =
                tried.targets.entry(old.server)
            {
                *n.get_mut() = n.get().saturating_sub(1);
                if *n.get() == 0 {
                    n.remove();
                }
            }
        }
        if let (Some(s), Some(tried)) = (old.settings, self.tried.as_mut()) {
            if let std::collections::hash_map::Entry::Occupied(mut n) =
                tried.settings.entry((old.server, s))
            {
                *n.get_mut() = n.get().saturating_sub(1);
                if *n.get() == 0 {
                    n.remove();
                    if let std::collections::hash_map::Entry::Occupied(mut k) =
                        tried.per_server.entry(old.server)
                    {
                        *k.get_mut() = k.get().saturating_sub(1);
                        if *k.get() == 0 {
                            k.remove();
                        }
                    }
                }
            }
        }
        if old.bluekeep {
            self.bluekeep = self.bluekeep.saturating_sub(1);
        }
    }
}

/// Gathers each client's short connections and BlueKeep probes and finds scans (see the
/// module doc).
///
/// # Order and memory
/// Connections come in order of first packet, which is the time each is counted at; one
/// earlier than its client's latest is counted at the latest (see `ClientWindow::last`).
/// Per client, the connections of the last [`SCAN_WINDOW_MS`] (at most `WINDOW_CAP`), and
/// for a scanning client its finding (at most [`SCAN_MAX_LISTED`] ids). Clients whose last
/// connection is a window before the latest are let go (their findings kept) once twice as
/// many clients as the last look kept are there, so each connection costs O(log clients)
/// plus O(1) amortised. At most [`SCAN_MAX_CLIENTS`] clients are followed at once.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScanTracker {
    clients: BTreeMap<IpAddr, ClientWindow>,
    sealed: BTreeMap<IpAddr, Box<Found>>,
    latest: Option<Timestamp>,
    seal_at: usize,
    /// When the last look for idle clients was made with [`SCAN_MAX_CLIENTS`] followed.
    full_since: Option<Timestamp>,
}

impl ScanTracker {
    /// Counts connection `id` if it is short or a BlueKeep probe.
    pub(crate) fn add(
        &mut self,
        id: u64,
        client: SocketAddr,
        server: SocketAddr,
        f: &ConnectionFacts,
        verdict: VerdictCode,
    ) {
        let kind = short(f, verdict);
        let bluekeep = requests_ms_t120(f);
        if kind.is_none() && !bluekeep {
            return;
        }
        let Some(at) = f.first_at.or(f.syn_at) else {
            return;
        };
        let latest = self.latest.map_or(at, |l| l.max(at));
        self.latest = Some(latest);
        let ip = client.ip();
        if self.clients.len() >= SCAN_MAX_CLIENTS && !self.clients.contains_key(&ip) {
            // Full: look for idle clients once per window of capture time, else let the
            // newcomer go (see SCAN_MAX_CLIENTS).
            if self
                .full_since
                .is_some_and(|t| latest.millis_since(t) <= SCAN_WINDOW_MS)
            {
                return;
            }
            self.seal_idle(latest);
            self.full_since = Some(latest);
            if self.clients.len() >= SCAN_MAX_CLIENTS {
                return;
            }
        }
        let state = match self.clients.entry(ip) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(ClientWindow {
                // Most clients make one connection: room for one.
                window: VecDeque::with_capacity(1),
                found: self.sealed.remove(&ip),
                ..ClientWindow::default()
            }),
        };
        state.push(Entry {
            seq: 0,
            at,
            id,
            server,
            kind,
            settings: kind.and_then(|k| settings(f, k)),
            bluekeep,
        });
        if self.clients.len() >= self.seal_at.max(MIN_SEAL_CLIENTS) {
            self.seal_idle(latest);
            // Amortised: the next look comes after as many new clients as are kept now.
            self.seal_at = self.clients.len().saturating_mul(2);
        }
    }

    /// Lets go of the clients whose last connection is a window before `latest`.
    fn seal_idle(&mut self, latest: Timestamp) {
        let idle: Vec<IpAddr> = self
            .clients
            .iter()
            .filter(|(_, c)| {
                c.last
                    .is_none_or(|l| latest.millis_since(l) > SCAN_WINDOW_MS)
            })
            .map(|(ip, _)| *ip)
            .collect();
        for ip in idle {
            if let Some(found) = self.clients.remove(&ip).and_then(|c| c.found) {
                self.sealed.insert(ip, found);
            }
        }
    }

    /// One `scanner` finding per scanning client, by client address.
    pub(crate) fn finish(self) -> Vec<CaptureFinding> {
        let mut all = self.sealed;
        for (ip, c) in self.clients {
            if let Some(found) = c.found {
                all.insert(ip, found);
            }
        }
        all.into_iter()
            .map(|(ip, found)| found.finding(ip))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::analyzer::facts::{Close, CloseKind, X224Facts};
    use crate::x224::Protocols;

    const T0: i64 = 1_764_410_000_000_000_000;

    fn at(ms: i64) -> Timestamp {
        Timestamp(T0 + ms * 1_000_000)
    }

    /// A connection that sent its Connection Request for `protocols` at `ms` and was closed.
    fn negotiation_only(ms: i64, protocols: u32) -> ConnectionFacts {
        let mut sides = [crate::analyzer::facts::SideStats::default(); 2];
        sides[0].bytes = 43;
        ConnectionFacts {
            sides,
            syn_at: Some(at(ms)),
            first_at: Some(at(ms)),
            x224: Some(X224Facts {
                request_at: Some(at(ms)),
                requested_protocols: Some(Protocols(protocols)),
                ..Default::default()
            }),
            close: Some(Close {
                by: Side::Client,
                kind: CloseKind::Fin,
                at: at(ms + 2),
            }),
            ..Default::default()
        }
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// Adds `n` negotiation-only connections from `client`, `gap_ms` apart from `start_ms`, to
    /// server `10.0.0.<i % servers + 1>`, requesting `protocols(i)`.
    fn add_many(
        t: &mut ScanTracker,
        first_id: u64,
        client: &str,
        (n, start_ms, gap_ms): (u64, i64, i64),
        servers: u64,
        protocols: impl Fn(u64) -> u32,
    ) {
        for i in 0..n {
            let f = negotiation_only(start_ms + i64::try_from(i).unwrap() * gap_ms, protocols(i));
            let server = addr(&format!("10.0.0.{}:3389", i % servers + 1));
            t.add(
                first_id + i,
                addr(client),
                server,
                &f,
                VerdictCode::SecurityMismatch,
            );
        }
    }

    #[test]
    fn short_connections_are_those_that_ended_before_a_session() {
        let f = negotiation_only(0, 3);
        assert_eq!(
            short(&f, VerdictCode::SecurityMismatch),
            Some(Short::NegotiationOnly)
        );
        // A session, an authentication or another protocol is never short.
        for v in [
            VerdictCode::Established,
            VerdictCode::AuthFailed,
            VerdictCode::NotRdp,
        ] {
            assert_eq!(short(&f, v), None);
        }
        // Still open when the capture ends: not known to be short.
        let open = ConnectionFacts {
            close: None,
            ..negotiation_only(0, 3)
        };
        assert_eq!(short(&open, VerdictCode::Incomplete), None);
        // The client went on after the confirm.
        let mut went_on = negotiation_only(0, 3);
        went_on.sides[0].bytes_after_handshake = 300;
        went_on.sides[0].bytes = 343;
        assert_eq!(short(&went_on, VerdictCode::ClosedEarly), None);
        // A SYN scan: no byte, closed.
        let syn = ConnectionFacts {
            syn_at: Some(at(0)),
            first_at: Some(at(0)),
            close: Some(Close {
                by: Side::Client,
                kind: CloseKind::Rst,
                at: at(1),
            }),
            ..Default::default()
        };
        assert_eq!(short(&syn, VerdictCode::Incomplete), Some(Short::TcpOnly));
    }

    /// Ten short connections within a minute are a scan; nine are not, nor are ten spread over
    /// more than a minute.
    #[test]
    fn ten_short_connections_within_a_minute() {
        let mut t = ScanTracker::default();
        add_many(&mut t, 0, "198.51.100.1:1", (9, 0, 1_000), 9, |_| 3);
        add_many(&mut t, 100, "198.51.100.2:1", (10, 0, 7_000), 10, |_| 3);
        assert!(t.finish().is_empty());

        let mut t = ScanTracker::default();
        add_many(&mut t, 0, "198.51.100.1:1", (10, 0, 6_000), 10, |_| 3);
        let found = t.finish();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].connections, (0..10).collect::<Vec<u64>>());
        assert_eq!(found[0].finding.code, FindingCode::Scanner);
        assert!(found[0].finding.summary.contains("10 server addresses"));
    }

    /// A client reconnecting to one server (restarting: refused) is not a scan at a dozen a
    /// minute; thirty a minute to one server is.
    #[test]
    fn one_target_needs_more_connections() {
        let mut t = ScanTracker::default();
        add_many(&mut t, 0, "198.51.100.1:1", (20, 0, 3_000), 1, |_| 3);
        assert!(t.finish().is_empty());

        let mut t = ScanTracker::default();
        add_many(&mut t, 0, "198.51.100.1:1", (30, 0, 1_000), 1, |_| 3);
        let found = t.finish();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].connections.len(), 30);
    }

    /// Three settings tried on one server is the rdp-enum-encryption series; two (a client
    /// falling back) are not, nor three settings spread over three servers.
    #[test]
    fn three_settings_on_one_server() {
        let mut t = ScanTracker::default();
        add_many(&mut t, 0, "198.51.100.1:1", (2, 0, 100), 1, |i| {
            [3, 1][usize::try_from(i).unwrap()]
        });
        add_many(&mut t, 10, "198.51.100.2:1", (3, 0, 100), 3, |i| {
            u32::try_from(i).unwrap()
        });
        assert!(t.finish().is_empty());

        let mut t = ScanTracker::default();
        add_many(&mut t, 0, "198.51.100.1:1", (4, 0, 100), 1, |i| {
            u32::try_from(i % 3).unwrap()
        });
        let found = t.finish();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].connections, vec![0, 1, 2, 3]);
        assert!(
            found[0]
                .finding
                .summary
                .contains("3 different protocol or encryption settings"),
            "{}",
            found[0].finding.summary
        );
    }

    /// Connections whose times run backwards (a clock stepping back, or records out of order)
    /// are counted at their client's latest time: no negative span, no panic.
    #[test]
    fn times_running_backwards() {
        let mut t = ScanTracker::default();
        for i in 0..12u64 {
            let f = negotiation_only(60_000 - i64::try_from(i).unwrap() * 5_000, 3);
            t.add(
                i,
                addr("198.51.100.1:1"),
                addr(&format!("10.0.0.{}:3389", i % 3 + 1)),
                &f,
                VerdictCode::SecurityMismatch,
            );
        }
        let found = t.finish();
        assert_eq!(found.len(), 1);
        assert!(
            found[0].finding.summary.contains("within 0.0 ms"),
            "{}",
            found[0].finding.summary
        );
    }

    /// Clients are let go once idle, their findings kept; one that comes back keeps its
    /// finding, and many clients making one connection each do not stay.
    #[test]
    fn idle_clients_are_let_go_and_findings_kept() {
        let mut t = ScanTracker::default();
        add_many(&mut t, 0, "198.51.100.1:1", (10, 0, 100), 10, |_| 3);
        for i in 0..3_000u32 {
            let client = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            let f = negotiation_only(120_000 + i64::from(i) * 100, 3);
            t.add(
                100 + u64::from(i),
                SocketAddr::new(IpAddr::V4(client), 1),
                addr("10.0.0.1:3389"),
                &f,
                VerdictCode::SecurityMismatch,
            );
        }
        assert!(t.clients.len() < 3_000, "{}", t.clients.len());
        add_many(&mut t, 5_000, "198.51.100.1:1", (1, 500_000, 100), 1, |_| 3);
        let found = t.finish();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].connections, (0..10).collect::<Vec<u64>>());
    }

    /// A flood from more addresses than are followed keeps the table at its cap, and the
    /// table makes room once a window has passed.
    #[test]
    fn a_flood_from_many_addresses_is_bounded() {
        let mut t = ScanTracker::default();
        let n = u32::try_from(SCAN_MAX_CLIENTS).unwrap() + 1_000;
        for i in 0..n {
            let client = std::net::Ipv4Addr::from(0x0b00_0000 + i);
            let f = negotiation_only(i64::from(i) / 100, 3);
            t.add(
                u64::from(i),
                SocketAddr::new(IpAddr::V4(client), 1),
                addr("10.0.0.1:3389"),
                &f,
                VerdictCode::SecurityMismatch,
            );
        }
        assert!(t.clients.len() <= SCAN_MAX_CLIENTS, "{}", t.clients.len());
        add_many(
            &mut t,
            900_000,
            "198.51.100.1:1",
            (10, 200_000, 100),
            10,
            |_| 3,
        );
        assert_eq!(t.finish().len(), 1);
    }

    /// A flood from one client keeps a bounded window and a bounded list.
    #[test]
    fn a_flood_from_one_client_is_bounded() {
        let mut t = ScanTracker::default();
        add_many(&mut t, 0, "198.51.100.1:1", (20_000, 0, 0), 1, |_| 3);
        let c = t.clients.values().next().unwrap();
        assert!(c.window.len() <= WINDOW_CAP);
        let found = t.finish();
        assert_eq!(found[0].connections.len(), SCAN_MAX_LISTED);
        assert!(found[0].finding.summary.contains("made 20000 connections"));
    }
}
