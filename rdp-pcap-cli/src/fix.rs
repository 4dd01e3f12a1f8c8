//! The fix a report prints for one connection: the explanation's advice, made to fit the facts.
//!
//! `explain.rs` holds the advice as text for any connection. A report quotes one fix per verdict
//! and finding, chosen and filled in for the connection at hand:
//!
//! - a negotiation failure gets the fix for the failure code the server actually sent (its row
//!   in the value table `explain/values/rdp-neg-failure.md`, which the explanation lists as one
//!   fix per code, each starting `Code N:`), and a code MS-RDPBCGR does not define gets advice
//!   that says so;
//! - every other code gets the explanation's first fix;
//! - commands name the connection's own server and port: the placeholders `{server}` and
//!   `{port}` in a fix become `10.0.0.5` and `13389` in a report, and `host` and the usual port
//!   in `rdp-pcap explain`.
//!
//! - a connection that belongs to a scan (finding `scanner`) gets the scan's fix for its
//!   verdict too (the advice for a failing client does not fit a scanner), and which one
//!   depends on the client: from a public address (not RFC 1918, loopback, link-local,
//!   RFC 6598 shared or RFC 4193 unique local) the first, which is about the exposure of RDP
//!   to the Internet; from an internal address the second, which is about finding the host.
//!
//! - a connection to an RD Gateway (HTTPS, `via` kind `rd-gateway`) gets the explanation's fix
//!   that begins with [`GATEWAY_FIX_PREFIX`] where it has one: the TLS that failed is the
//!   gateway's (IIS and HTTP.sys over Schannel, its SSL certificate bound in RD Gateway
//!   Manager), and advice about an RDP host's RDP-Tcp listener, Security Layer or
//!   SSLCertificateSHA1Hash would send the admin to the wrong server. A code without such a
//!   fix keeps its first one.
//!
//! A fix is written through [`Fix`]'s `Display`, without a `String` per connection.

use std::fmt;
use std::net::IpAddr;

use rdp_wire::analyzer::{Confirm, TunnelKind, VerdictCode, RDP_DEFAULT_PORT};
use rdp_wire::x224::FailureCode;

use crate::explain;
use crate::record::ConnectionRecord;

/// The placeholders a fix may hold, without their braces: `{server}` (the server's address,
/// `host` in `rdp-pcap explain`) and `{port}` (the server's TCP port). `explain/README.md`
/// says where each value comes from; a fix naming another `{word}` fails a test.
pub const PLACEHOLDERS: &[&str] = &["server", "port"];

/// What a fix is filled in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The server's address; `None` writes `host`.
    pub server: Option<IpAddr>,
    /// The server's TCP port.
    pub port: u16,
    /// The client's address, when the fix is for one connection.
    pub client: Option<IpAddr>,
    /// The connection is HTTPS to an RD Gateway: its fixes are the gateway's where the
    /// explanation has one (see the module doc).
    pub gateway: bool,
}

impl Target {
    /// The placeholders as `rdp-pcap explain` shows them: `host` and `port`.
    pub fn generic(port: u16) -> Self {
        Target {
            server: None,
            port,
            client: None,
            gateway: false,
        }
    }

    /// The server of a connection: through a proxy tunnel, its target (the RDP server, not
    /// the proxy); a target named by a host name writes `host`.
    pub fn of(rec: &ConnectionRecord) -> Self {
        if let Some(t) = rec.via() {
            if let Some(port) = t.target_port {
                let server = t
                    .target
                    .as_deref()
                    .and_then(|s| s.parse::<std::net::SocketAddr>().ok())
                    .map(|a| a.ip());
                return Target {
                    server,
                    port,
                    client: Some(rec.endpoints.client.ip()),
                    gateway: false,
                };
            }
        }
        Target {
            server: Some(rec.endpoints.server.ip()),
            port: rec.endpoints.server.port(),
            client: Some(rec.endpoints.client.ip()),
            gateway: rec.via().is_some_and(|t| t.kind == TunnelKind::RdGateway),
        }
    }
}

/// A fix from the explanations with its placeholders filled in.
#[derive(Debug, Clone, Copy)]
pub struct Fix {
    text: &'static str,
    target: Target,
}

impl Fix {
    /// `text` (from the explanations) for `target`.
    pub fn new(text: &'static str, target: Target) -> Self {
        Fix { text, target }
    }
}

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.text;
        // A byte search for `{`, then a look at what follows: other braces (PowerShell blocks)
        // are text.
        while let Some(at) = rest.find('{') {
            let (before, from) = rest.split_at(at);
            f.write_str(before)?;
            rest = if let Some(after) = from.strip_prefix("{port}") {
                write!(f, "{}", self.target.port)?;
                after
            } else if let Some(after) = from.strip_prefix("{server}") {
                match self.target.server {
                    Some(ip) => write!(f, "{ip}")?,
                    None => f.write_str("host")?,
                }
                after
            } else {
                f.write_str("{")?;
                from.get(1..).unwrap_or_default()
            };
        }
        f.write_str(rest)
    }
}

impl serde::Serialize for Fix {
    /// As one string, filled in first: a JSON writer scans a whole string for characters to
    /// escape much faster than it escapes the pieces of a `Display`. Fixes already filled in
    /// are remembered per thread (`FILLED` of them): most fixes name no placeholder and are
    /// the same for every server, and the connections of a capture mostly share their server.
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        /// A fix filled in: its text, the target it was filled for (`None` when the text names
        /// no placeholder), and the result.
        type Filled = (&'static str, Option<Target>, String);
        thread_local! {
            static MEMO: std::cell::RefCell<(Vec<Filled>, usize)> =
                const { std::cell::RefCell::new((Vec::new(), 0)) };
        }
        MEMO.with_borrow_mut(|(memo, next)| {
            let found = memo.iter().position(|(text, target, _)| {
                std::ptr::eq(*text, self.text) && target.is_none_or(|t| t == self.target)
            });
            let at = match found {
                Some(at) => at,
                None => {
                    use std::fmt::Write as _;
                    let mut filled = String::with_capacity(self.text.len().saturating_add(16));
                    // Writing to a String cannot fail.
                    let _ = write!(filled, "{self}");
                    let target = (filled != self.text).then_some(self.target);
                    let entry = (self.text, target, filled);
                    // Round robin over a few slots.
                    let at = *next;
                    *next = next.saturating_add(1) % FILLED;
                    match memo.get_mut(at) {
                        Some(slot) => *slot = entry,
                        None => memo.push(entry),
                    }
                    at
                }
            };
            let filled = memo.get(at).map_or("", |(_, _, filled)| filled.as_str());
            ser.serialize_str(filled)
        })
    }
}

/// Fixes remembered filled in, per thread.
const FILLED: usize = 8;

/// The fix `rdp-pcap explain` shows for `code` when no connection is at hand: the usual port
/// (3390 for `nonstandard-port`, whose point is another port).
pub fn example_port(code: &str) -> u16 {
    if code == "nonstandard-port" {
        3390
    } else {
        RDP_DEFAULT_PORT
    }
}

/// Said when a negotiation failure carries a code MS-RDPBCGR does not define.
const UNKNOWN_FAILURE_FIX: &str = "The server answered with a failure code MS-RDPBCGR does \
    not define: compare the client's requested protocols with the server's security layer \
    (SecurityLayer and UserAuthentication under the RDP-Tcp key, or xrdp's security_layer) and \
    look for a proxy or load balancer between them that answers for the server.";

/// The value table of RDP_NEG_FAILURE failure codes, `explain/values/rdp-neg-failure.md`: its
/// rows are also the `Code N: ` fixes of the `negotiation-failure` explanation.
pub const FAILURE_CODES: &str = "rdp-neg-failure";

/// How an explanation's fix for a connection to an RD Gateway begins (see the module doc).
pub const GATEWAY_FIX_PREFIX: &str = "RD Gateway";

/// The explanation's fix for `code`, or for a negotiation failure with `failure`, the fix for
/// that failure code (its row in [`FAILURE_CODES`]); for a `gateway`, its gateway fix first.
fn choose(code: &str, failure: Option<FailureCode>, gateway: bool) -> Option<&'static str> {
    // Codes from the reports are spelled as the explanations spell them: no case folding.
    let fixes = explain::get(code)?.fixes;
    let Some(failure) = failure else {
        let gateway_fix = fixes
            .iter()
            .find(|fix| gateway && fix.starts_with(GATEWAY_FIX_PREFIX));
        return gateway_fix.or(fixes.first()).copied();
    };
    Some(
        explain::value_table(FAILURE_CODES)
            .and_then(|table| table.get(failure.0))
            .map(|row| row.fix)
            .filter(|fix| !fix.is_empty())
            .unwrap_or(UNKNOWN_FAILURE_FIX),
    )
}

/// Whether `ip` is reachable from the Internet: not private (RFC 1918), loopback, link-local,
/// shared (RFC 6598, carrier-grade NAT), unspecified or broadcast, nor (IPv6) unique local
/// (RFC 4193) or link-local; an IPv4-mapped IPv6 address is judged as its IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            let shared = a == 100 && (64..128).contains(&b);
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || shared)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments().first().copied().unwrap_or_default();
            let unique_local = first & 0xfe00 == 0xfc00;
            let link_local = first & 0xffc0 == 0xfe80;
            !(v6.is_loopback() || v6.is_unspecified() || unique_local || link_local)
        }
    }
}

/// The `scanner` explanation's fix for a scan from `client`: exposure first for a public or
/// unknown source (the first fix), the internal host for an internal one (the second).
fn scanner_fix(client: Option<IpAddr>) -> Option<&'static str> {
    let fixes = explain::get(SCANNER)?.fixes;
    match client {
        Some(ip) if !is_public(ip) => fixes.get(1).or(fixes.first()).copied(),
        _ => fixes.first().copied(),
    }
}

/// The finding code of scans.
const SCANNER: &str = "scanner";

/// The fix for a connection's verdict; `None` for a verdict with nothing to fix (`info`).
/// A connection that belongs to a scan gets the scan's fix (see the module doc).
pub fn for_verdict(rec: &ConnectionRecord) -> Option<Fix> {
    if rec
        .findings
        .iter()
        .any(|f| f.code == rdp_wire::analyzer::FindingCode::Scanner)
    {
        let target = Target::of(rec);
        return scanner_fix(target.client).map(|text| Fix::new(text, target));
    }
    if rec.verdict.severity == rdp_wire::analyzer::Severity::Info {
        return None;
    }
    let failure = match rec.facts.x224.as_ref().and_then(|x| x.confirm) {
        Some(Confirm::Failure { code }) if rec.verdict.code == VerdictCode::NegotiationFailure => {
            Some(code)
        }
        _ => None,
    };
    let target = Target::of(rec);
    choose(rec.verdict.code.as_str(), failure, target.gateway).map(|text| Fix::new(text, target))
}

/// The fix for a finding `code` on a connection (or, with [`Target::generic`], across a
/// capture).
pub fn for_finding(code: &str, target: Target) -> Option<Fix> {
    if code == SCANNER {
        return scanner_fix(target.client).map(|text| Fix::new(text, target));
    }
    choose(code, None, target.gateway).map(|text| Fix::new(text, target))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn placeholders_are_filled_and_other_braces_kept() {
        let target = Target {
            server: Some("10.0.0.5".parse().unwrap()),
            port: 13389,
            client: None,
            gateway: false,
        };
        let fix = Fix::new(
            "`Test-NetConnection {server} -Port {port}`; `ForEach-Object { $_ }` on {port}",
            target,
        );
        assert_eq!(
            fix.to_string(),
            "`Test-NetConnection 10.0.0.5 -Port 13389`; `ForEach-Object { $_ }` on 13389"
        );
        let generic = Fix::new("{server}:{port}", Target::generic(3389));
        assert_eq!(generic.to_string(), "host:3389");
    }

    #[test]
    fn every_negotiation_failure_code_has_its_own_fix() {
        for n in 1..=6u32 {
            let fix = choose("negotiation-failure", Some(FailureCode(n)), false).unwrap();
            assert!(!fix.starts_with("Code"), "{fix}");
            assert_ne!(fix, UNKNOWN_FAILURE_FIX, "code {n}");
        }
        let three = choose(
            "negotiation-failure",
            Some(FailureCode::SSL_CERT_NOT_ON_SERVER),
            false,
        );
        assert!(three.unwrap().contains("certificate"));
        assert_eq!(
            choose("negotiation-failure", Some(FailureCode(77)), false),
            Some(UNKNOWN_FAILURE_FIX)
        );
    }

    #[test]
    fn public_addresses_are_those_outside_private_and_local_ranges() {
        for public in [
            "203.0.113.9",
            "8.8.8.8",
            "100.128.0.1",
            "2001:db8::1",
            "::ffff:1.2.3.4",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for internal in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
    }

    /// A scan from the Internet is told about the exposure first; from inside, about the host.
    #[test]
    fn a_scan_from_a_public_address_is_told_about_exposure_first() {
        let target = |client: &str| Target {
            server: Some("10.0.0.5".parse().unwrap()),
            port: 3389,
            client: Some(client.parse().unwrap()),
            gateway: false,
        };
        let public = for_finding(SCANNER, target("203.0.113.9"))
            .unwrap()
            .to_string();
        assert!(public.contains("reachable from it"), "{public}");
        assert!(public.contains("10.0.0.5 port 3389"), "{public}");
        let internal = for_finding(SCANNER, target("10.9.9.9"))
            .unwrap()
            .to_string();
        assert!(
            internal.starts_with("When the source is an internal address"),
            "{internal}"
        );
        let capture_wide = for_finding(SCANNER, Target::generic(3389))
            .unwrap()
            .to_string();
        assert!(capture_wide.contains("reachable from it"), "{capture_wide}");
    }

    /// A connection to an RD Gateway gets the gateway's fix where the explanation has one,
    /// the first fix otherwise; a direct connection never gets the gateway's.
    #[test]
    fn a_gateway_gets_the_gateway_fix_where_there_is_one() {
        let target = |gateway| Target {
            server: Some("10.0.0.5".parse().unwrap()),
            port: 443,
            client: Some("10.9.9.9".parse().unwrap()),
            gateway,
        };
        for code in [
            "tls-cipher-mismatch",
            "tls-version-rejected",
            "tls-handshake-failed",
            "tls-not-started",
        ] {
            let gateway = for_finding(code, target(true)).unwrap().to_string();
            assert!(
                gateway.starts_with("RD Gateway (HTTPS on 443)"),
                "{code}: {gateway}"
            );
            let direct = for_finding(code, target(false)).unwrap().to_string();
            assert!(!direct.starts_with(GATEWAY_FIX_PREFIX), "{code}: {direct}");
        }
        let other = for_finding("tls-weak-cipher", target(true))
            .unwrap()
            .to_string();
        assert_eq!(other, choose("tls-weak-cipher", None, false).unwrap());
    }

    #[test]
    fn no_fix_names_a_port_other_than_through_its_placeholder() {
        for e in explain::all() {
            for fix in e.fixes {
                assert!(
                    !fix.contains("3389") && !fix.contains("3390"),
                    "{}: {fix}",
                    e.code
                );
            }
        }
    }
}
