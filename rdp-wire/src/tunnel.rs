//! Proxy tunnels in front of RDP: the preambles of SOCKS4 and SOCKS4a, SOCKS5 (RFC 1928, with
//! the username/password sub-negotiation of RFC 1929) and HTTP CONNECT (RFC 9110 9.3.6).
//!
//! A client that reaches its RDP server through a proxy first asks the proxy for a tunnel to
//! the target, the proxy answers, and from then on both directions carry the RDP connection
//! unchanged. The analyzer reads each message of that preamble here, then decodes what
//! follows as usual.
//!
//! ```text
//! SOCKS4 (a)  client: 04 | CD | DSTPORT(2, BE) | DSTIP(4) | USERID .. 00 [| DOMAIN .. 00]
//!             proxy:  00 | CD (0x5a granted) | DSTPORT(2) | DSTIP(4)
//! SOCKS5      client: 05 | NMETHODS | METHODS ..               (RFC 1928 section 3)
//!             proxy:  05 | METHOD                              (0xff: none acceptable)
//!   RFC 1929  client: 01 | ULEN | UNAME .. | PLEN | PASSWD ..  (when METHOD is 0x02)
//!             proxy:  01 | STATUS                              (0x00: success)
//!             client: 05 | CMD | 00 | ATYP | DST.ADDR | DST.PORT   (section 4)
//!             proxy:  05 | REP | 00 | ATYP | BND.ADDR | BND.PORT   (section 6; REP 0: succeeded)
//! HTTP        client: CONNECT host:port HTTP/1.1 CRLF headers CRLF CRLF
//!             proxy:  HTTP/1.1 200 Connection established CRLF headers CRLF CRLF
//! ```
//!
//! Framing is two-step like every framed PDU of this crate: [`message_len`] is the probe
//! (the message length, or [`Error::Incomplete`]), then the `parse_*` function of the message
//! runs on the exact slice. The password of RFC 1929 is framed and skipped, never returned.

use core::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use nom::bytes::complete::{tag, take, take_until, take_while1};
use nom::number::complete::{be_u16, u8 as byte};
use nom::Parser;

use crate::parse::{bounded, fail, need, PResult};
use crate::values::open_enum;
use crate::Error;

/// The longest HTTP request or response head (request line and headers) read before the
/// preamble is taken for something else: real CONNECT heads are a few hundred bytes, and the
/// end-of-head search runs over at most this many bytes.
pub const MAX_HTTP_HEAD: usize = 8192;

/// The longest SOCKS4 USERID or SOCKS4a domain name accepted (the fields are NUL-terminated,
/// without a length: a bound keeps the search finite).
pub const MAX_SOCKS4_FIELD: usize = 255;

/// SOCKS protocol versions (the first byte of most messages).
const SOCKS4_VERSION: u8 = 4;
const SOCKS5_VERSION: u8 = 5;
/// RFC 1929 section 2: the version of the username/password sub-negotiation.
const USERPASS_VERSION: u8 = 1;

open_enum! {
    /// SOCKS commands (SOCKS4 `CD` of a request, RFC 1928 section 4 `CMD`).
    pub struct SocksCommand(u8) {
        /// CONNECT: a TCP tunnel to the target.
        CONNECT = 0x01 => "CONNECT",
        /// BIND: the proxy listens for a connection from the target.
        BIND = 0x02 => "BIND",
        /// UDP ASSOCIATE (SOCKS5 only).
        UDP_ASSOCIATE = 0x03 => "UDP ASSOCIATE",
    }
}

open_enum! {
    /// The SOCKS4 reply code `CD`.
    pub struct Socks4Status(u8) {
        /// Request granted.
        GRANTED = 0x5a => "request granted",
        /// Request rejected or failed.
        REJECTED = 0x5b => "request rejected or failed",
        /// Rejected: the proxy cannot reach the client's identd.
        NO_IDENTD = 0x5c => "rejected: identd not reachable",
        /// Rejected: identd reports a different user id.
        IDENTD_MISMATCH = 0x5d => "rejected: identd user id mismatch",
    }
}

open_enum! {
    /// SOCKS5 authentication methods (RFC 1928 section 3).
    pub struct Socks5Method(u8) {
        /// No authentication required.
        NO_AUTH = 0x00 => "no authentication",
        /// GSSAPI (RFC 1961).
        GSSAPI = 0x01 => "GSSAPI",
        /// Username/password (RFC 1929).
        USERNAME_PASSWORD = 0x02 => "username/password",
        /// No acceptable methods: the client must close.
        NO_ACCEPTABLE = 0xff => "no acceptable methods",
    }
}

open_enum! {
    /// The SOCKS5 reply field `REP` (RFC 1928 section 6).
    pub struct Socks5Reply(u8) {
        /// Succeeded.
        SUCCEEDED = 0x00 => "succeeded",
        /// General SOCKS server failure.
        GENERAL_FAILURE = 0x01 => "general SOCKS server failure",
        /// Connection not allowed by ruleset.
        NOT_ALLOWED = 0x02 => "connection not allowed by ruleset",
        /// Network unreachable.
        NETWORK_UNREACHABLE = 0x03 => "network unreachable",
        /// Host unreachable.
        HOST_UNREACHABLE = 0x04 => "host unreachable",
        /// Connection refused: the target answered the proxy's SYN with a reset.
        CONNECTION_REFUSED = 0x05 => "connection refused",
        /// TTL expired.
        TTL_EXPIRED = 0x06 => "TTL expired",
        /// Command not supported.
        COMMAND_NOT_SUPPORTED = 0x07 => "command not supported",
        /// Address type not supported.
        ADDRESS_TYPE_NOT_SUPPORTED = 0x08 => "address type not supported",
    }
}

/// Which message of a preamble is expected next: the caller keeps the state of each direction
/// and asks for the message it expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// A SOCKS4 or SOCKS4a request.
    Socks4Request,
    /// A SOCKS4 reply (8 bytes).
    Socks4Reply,
    /// A SOCKS5 version identifier/method selection message.
    Socks5Greeting,
    /// The proxy's METHOD selection.
    Socks5MethodSelection,
    /// An RFC 1929 username/password request.
    Socks5AuthRequest,
    /// An RFC 1929 status answer.
    Socks5AuthStatus,
    /// A SOCKS5 request.
    Socks5Request,
    /// A SOCKS5 reply.
    Socks5Reply,
    /// An HTTP CONNECT request head.
    HttpConnect,
    /// An HTTP response head.
    HttpResponse,
}

/// A tunnel's destination address, as the client named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address.
    V6(Ipv6Addr),
    /// A name to be resolved by the proxy (SOCKS4a, SOCKS5 ATYP 3, an HTTP authority), raw.
    Name(&'a [u8]),
}

/// A tunnel's destination: host and port. Displayed as `host:port` (`[v6]:port`), a name
/// passed through [`crate::printable`] so that it is safe to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// The host.
    pub host: Host<'a>,
    /// The port; `None` for an HTTP authority without one.
    pub port: Option<u16>,
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host {
            Host::V4(a) => write!(f, "{a}")?,
            Host::V6(a) => write!(f, "[{a}]")?,
            Host::Name(n) => f.write_str(&crate::printable::printable_bytes(n))?,
        }
        match self.port {
            Some(p) => write!(f, ":{p}"),
            None => Ok(()),
        }
    }
}

/// A client's request for a tunnel: SOCKS4/4a, SOCKS5 or HTTP CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelRequest<'a> {
    /// The command (HTTP CONNECT reads as [`SocksCommand::CONNECT`]).
    pub command: SocksCommand,
    /// Where to.
    pub target: Target<'a>,
}

/// Probes buffered bytes for the message `expected`: its length, or [`Error::Incomplete`].
///
/// A byte that cannot start or continue that message is an error as soon as it is seen, so a
/// prefix of a valid message is never an error.
pub fn message_len(expected: Message, input: &[u8]) -> Result<usize, Error> {
    message_len_resumed(expected, input, 0)
}

/// [`message_len`] for a caller that already probed the first `searched` bytes of `input`
/// without finding the end of an HTTP head: the search for its empty line resumes there, so
/// a head fed a byte at a time costs its length, not its square. Other messages ignore
/// `searched` (their probes read a few bytes).
pub fn message_len_resumed(
    expected: Message,
    input: &[u8],
    searched: usize,
) -> Result<usize, Error> {
    match expected {
        Message::Socks4Request => socks4_request_len(input),
        Message::Socks4Reply => fixed_len(input, &[0], 8, "socks4 reply version"),
        Message::Socks5Greeting => {
            version(input, SOCKS5_VERSION, "socks5 version")?;
            let n = input.get(1).ok_or_else(|| need(input, 2))?;
            if *n == 0 {
                return Err(Error::InvalidLength {
                    what: "socks5 method list",
                    length: 0,
                });
            }
            Ok(2usize.saturating_add(usize::from(*n)))
        }
        Message::Socks5MethodSelection => fixed_len(input, &[SOCKS5_VERSION], 2, "socks5 version"),
        Message::Socks5AuthRequest => {
            version(input, USERPASS_VERSION, "socks5 auth version")?;
            let ulen = input.get(1).ok_or_else(|| need(input, 2))?;
            let plen_at = 2usize.saturating_add(usize::from(*ulen));
            let plen = input
                .get(plen_at)
                .ok_or_else(|| need(input, plen_at.saturating_add(1)))?;
            Ok(plen_at.saturating_add(1).saturating_add(usize::from(*plen)))
        }
        Message::Socks5AuthStatus => {
            fixed_len(input, &[USERPASS_VERSION], 2, "socks5 auth version")
        }
        Message::Socks5Request | Message::Socks5Reply => {
            version(input, SOCKS5_VERSION, "socks5 version")?;
            let atyp = input.get(3).ok_or_else(|| need(input, 4))?;
            let addr = match *atyp {
                1 => 4,
                4 => 16,
                3 => {
                    let n = input.get(4).ok_or_else(|| need(input, 5))?;
                    1usize.saturating_add(usize::from(*n))
                }
                other => {
                    return Err(Error::UnexpectedValue {
                        what: "socks5 address type",
                        value: u32::from(other),
                    })
                }
            };
            Ok(4usize.saturating_add(addr).saturating_add(2))
        }
        Message::HttpConnect => http_head_len(input, b"CONNECT ", searched),
        Message::HttpResponse => http_head_len(input, b"HTTP/", searched),
    }
}

fn version(input: &[u8], expected: u8, what: &'static str) -> Result<(), Error> {
    match input.first() {
        Some(&v) if v != expected => Err(Error::UnexpectedValue {
            what,
            value: u32::from(v),
        }),
        _ => Ok(()),
    }
}

/// A fixed-length message whose first byte is one of `versions`.
fn fixed_len(
    input: &[u8],
    versions: &[u8],
    len: usize,
    what: &'static str,
) -> Result<usize, Error> {
    match input.first() {
        Some(v) if !versions.contains(v) => Err(Error::UnexpectedValue {
            what,
            value: u32::from(*v),
        }),
        _ => Ok(len),
    }
}

/// SOCKS4: 8 fixed bytes, a NUL-terminated USERID, and for SOCKS4a (DSTIP 0.0.0.x, x != 0) a
/// NUL-terminated domain name.
fn socks4_request_len(input: &[u8]) -> Result<usize, Error> {
    version(input, SOCKS4_VERSION, "socks4 version")?;
    let head = input.get(..8).ok_or_else(|| need(input, 8))?;
    let socks4a = matches!(head.get(4..8), Some([0, 0, 0, x]) if *x != 0);
    let rest = input.get(8..).unwrap_or_default();
    let user = nul_field(rest, "socks4 user id")?;
    if !socks4a {
        return Ok(8usize.saturating_add(user));
    }
    let after_user = rest.get(user..).unwrap_or_default();
    let domain = nul_field(after_user, "socks4a domain")?;
    Ok(8usize.saturating_add(user).saturating_add(domain))
}

/// The length of a NUL-terminated field, the NUL included; incomplete until the NUL.
fn nul_field(input: &[u8], what: &'static str) -> Result<usize, Error> {
    let window = input.get(..=MAX_SOCKS4_FIELD).unwrap_or(input);
    match window.iter().position(|b| *b == 0) {
        Some(i) => Ok(i.saturating_add(1)),
        None if window.len() > MAX_SOCKS4_FIELD => Err(Error::InvalidLength {
            what,
            length: window.len(),
        }),
        None => Err(Error::Incomplete { needed: 1 }),
    }
}

/// An HTTP head starting with `start`, up to and including the empty line; the first
/// `searched` bytes are known not to hold its end.
fn http_head_len(input: &[u8], start: &[u8], searched: usize) -> Result<usize, Error> {
    let shown = input.len().min(start.len());
    if input.get(..shown) != start.get(..shown) {
        return Err(Error::UnexpectedValue {
            what: "http head start",
            value: input.first().map_or(0, |b| u32::from(*b)),
        });
    }
    let window = input.get(..MAX_HTTP_HEAD).unwrap_or(input);
    // The end may straddle the bytes searched before: back up three.
    let from = searched.saturating_sub(3).min(window.len());
    let tail = window.get(from..).unwrap_or_default();
    match tail.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => Ok(from.saturating_add(i).saturating_add(4)),
        None if window.len() >= MAX_HTTP_HEAD => Err(Error::InvalidLength {
            what: "http head",
            length: window.len(),
        }),
        None => Err(Error::Incomplete { needed: 1 }),
    }
}

/// A SOCKS4 or SOCKS4a request (the exact message [`message_len`] framed). The USERID is not
/// returned: it names a user of the proxy, and nothing in the report needs it.
pub fn parse_socks4_request(msg: &[u8]) -> Result<TunnelRequest<'_>, Error> {
    let (rest, (_, command, port, ip)) =
        bounded("socks4 request", msg, (byte, byte, be_u16, take(4usize)))?;
    let (rest, _user) = bounded("socks4 user id", rest, nul_terminated)?;
    let host = match ip {
        [0, 0, 0, x] if *x != 0 => Host::Name(bounded("socks4a domain", rest, nul_terminated)?.1),
        [a, b, c, d] => Host::V4(Ipv4Addr::new(*a, *b, *c, *d)),
        _ => {
            return Err(Error::Truncated {
                what: "socks4 request",
            })
        }
    };
    Ok(TunnelRequest {
        command: SocksCommand(command),
        target: Target {
            host,
            port: Some(port),
        },
    })
}

fn nul_terminated(i: &[u8]) -> PResult<'_, &[u8]> {
    let (i, field) = take_until(&b"\0"[..]).parse(i)?;
    let (i, _) = take(1usize).parse(i)?;
    Ok((i, field))
}

/// A SOCKS4 reply: the status (0x5a granted).
pub fn parse_socks4_reply(msg: &[u8]) -> Result<Socks4Status, Error> {
    let (_, (_, status)) = bounded("socks4 reply", msg, (byte, byte))?;
    Ok(Socks4Status(status))
}

/// A SOCKS5 greeting: the methods the client offers.
pub fn parse_socks5_greeting(msg: &[u8]) -> Result<&[u8], Error> {
    let (_, methods) = bounded("socks5 greeting", msg, |i| {
        let (i, _) = byte(i)?;
        let (i, n) = byte(i)?;
        take(usize::from(n)).parse(i)
    })?;
    Ok(methods)
}

/// The proxy's method selection.
pub fn parse_socks5_method(msg: &[u8]) -> Result<Socks5Method, Error> {
    let (_, (_, method)) = bounded("socks5 method selection", msg, (byte, byte))?;
    Ok(Socks5Method(method))
}

/// An RFC 1929 request: the user name. The password is read past and never returned.
pub fn parse_socks5_auth_request(msg: &[u8]) -> Result<&[u8], Error> {
    let (_, user) = bounded("socks5 auth request", msg, |i| {
        let (i, _) = byte(i)?;
        let (i, ulen) = byte(i)?;
        let (i, user) = take(usize::from(ulen)).parse(i)?;
        let (i, plen) = byte(i)?;
        let (i, _password) = take(usize::from(plen)).parse(i)?;
        Ok((i, user))
    })?;
    Ok(user)
}

/// An RFC 1929 status: 0 is success, anything else a failure.
pub fn parse_socks5_auth_status(msg: &[u8]) -> Result<u8, Error> {
    let (_, (_, status)) = bounded("socks5 auth status", msg, (byte, byte))?;
    Ok(status)
}

/// A SOCKS5 request or reply: the command (or reply code) and the address.
fn socks5_message<'a>(what: &'static str, msg: &'a [u8]) -> Result<(u8, Target<'a>), Error> {
    let (_, (code, target)) = bounded(what, msg, |i: &'a [u8]| -> PResult<'a, (u8, Target<'a>)> {
        let (i, (_, code, _, atyp)) = (byte, byte, byte, byte).parse(i)?;
        let (i, host) = match atyp {
            1 => {
                let (i, a) = take(4usize).parse(i)?;
                match a {
                    [a, b, c, d] => (i, Host::V4(Ipv4Addr::new(*a, *b, *c, *d))),
                    _ => return fail(Error::Truncated { what }),
                }
            }
            4 => {
                let (i, a) = take(16usize).parse(i)?;
                match <[u8; 16]>::try_from(a) {
                    Ok(a) => (i, Host::V6(Ipv6Addr::from(a))),
                    Err(_) => return fail(Error::Truncated { what }),
                }
            }
            3 => {
                let (i, n) = byte(i)?;
                let (i, name) = take(usize::from(n)).parse(i)?;
                (i, Host::Name(name))
            }
            other => {
                return fail(Error::UnexpectedValue {
                    what: "socks5 address type",
                    value: u32::from(other),
                })
            }
        };
        let (i, port) = be_u16(i)?;
        Ok((
            i,
            (
                code,
                Target {
                    host,
                    port: Some(port),
                },
            ),
        ))
    })?;
    Ok((code, target))
}

/// A SOCKS5 request.
pub fn parse_socks5_request(msg: &[u8]) -> Result<TunnelRequest<'_>, Error> {
    let (command, target) = socks5_message("socks5 request", msg)?;
    Ok(TunnelRequest {
        command: SocksCommand(command),
        target,
    })
}

/// A SOCKS5 reply: the reply code (the bound address says nothing about the target).
pub fn parse_socks5_reply(msg: &[u8]) -> Result<Socks5Reply, Error> {
    Ok(Socks5Reply(socks5_message("socks5 reply", msg)?.0))
}

/// An HTTP CONNECT request head: its authority (`host:port`, RFC 9110 9.3.6).
pub fn parse_http_connect(head: &[u8]) -> Result<TunnelRequest<'_>, Error> {
    let (_, authority) = bounded("http connect", head, |i| {
        let (i, _) = tag(&b"CONNECT "[..]).parse(i)?;
        take_while1(|b: u8| b != b' ' && b != b'\r').parse(i)
    })?;
    // The port is after the last colon, unless that colon is inside an IPv6 literal.
    let split = authority
        .iter()
        .rposition(|b| *b == b':')
        .filter(|i| !authority.get(*i..).unwrap_or_default().contains(&b']'));
    let (host, port) = match split {
        Some(i) => {
            let host = authority.get(..i).unwrap_or_default();
            let digits = authority.get(i.saturating_add(1)..).unwrap_or_default();
            (host, parse_port(digits))
        }
        None => (authority, None),
    };
    let host = host
        .strip_prefix(b"[")
        .and_then(|h| h.strip_suffix(b"]"))
        .and_then(|h| core::str::from_utf8(h).ok())
        .and_then(|h| h.parse::<Ipv6Addr>().ok())
        .map(Host::V6)
        .or_else(|| {
            core::str::from_utf8(host)
                .ok()
                .and_then(|h| h.parse::<Ipv4Addr>().ok())
                .map(Host::V4)
        })
        .unwrap_or(Host::Name(host));
    Ok(TunnelRequest {
        command: SocksCommand::CONNECT,
        target: Target { host, port },
    })
}

fn parse_port(digits: &[u8]) -> Option<u16> {
    core::str::from_utf8(digits).ok()?.parse().ok()
}

/// An HTTP response head: the status code and the reason phrase (raw; print it through
/// [`crate::printable`]).
pub fn parse_http_response(head: &[u8]) -> Result<(u16, &[u8]), Error> {
    let (_, (code, reason)) = bounded("http response", head, |i| {
        let (i, _) = tag(&b"HTTP/"[..]).parse(i)?;
        let (i, _) = take_until(&b" "[..]).parse(i)?;
        let (i, _) = tag(&b" "[..]).parse(i)?;
        let (i, digits) = take(3usize).parse(i)?;
        let Some(code) = parse_port(digits) else {
            return fail(Error::UnexpectedValue {
                what: "http status code",
                value: 0,
            });
        };
        let (i, reason) = take_until(&b"\r\n"[..]).parse(i)?;
        Ok((i, (code, reason.strip_prefix(b" ").unwrap_or(reason))))
    })?;
    Ok((code, reason))
}

/// Whether a client's first bytes start a tunnel preamble, and which: the first message to
/// expect from that client. A cheap content test on at most two bytes (an HTTP method on
/// eight): SOCKS4 `04 01` (CONNECT), SOCKS5 `05 n` (n >= 1 methods), `CONNECT `.
pub fn looks_like_tunnel_request(stream: &[u8]) -> Option<Message> {
    match stream {
        [SOCKS4_VERSION, 0x01, ..] => Some(Message::Socks4Request),
        [SOCKS5_VERSION, 1..=9, ..] => Some(Message::Socks5Greeting),
        _ if stream.starts_with(b"CONNECT ") => Some(Message::HttpConnect),
        _ => None,
    }
}

/// Whether a client's first bytes are too few to tell whether they start a tunnel preamble
/// (one byte `04` or `05`, a proper prefix of `CONNECT `): a caller waits for more before
/// classifying the stream.
pub fn undecided_tunnel_request(stream: &[u8]) -> bool {
    matches!(stream, [SOCKS4_VERSION] | [SOCKS5_VERSION])
        || (!stream.is_empty() && stream.len() < 8 && b"CONNECT ".starts_with(stream))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    /// curl --socks4a: CONNECT to rdp.example:3389, user id "u" (0.0.0.1 marks SOCKS4a).
    const SOCKS4A_REQUEST: &[u8] = b"\x04\x01\x0d\x3d\x00\x00\x00\x01u\x00rdp.example\x00";
    /// SOCKS4 CONNECT to 10.0.0.1:3389 with an empty user id.
    const SOCKS4_REQUEST: &[u8] = b"\x04\x01\x0d\x3d\x0a\x00\x00\x01\x00";
    /// RFC 1928 section 4: CONNECT to 10.0.0.1:3389.
    const SOCKS5_REQUEST_V4: &[u8] = b"\x05\x01\x00\x01\x0a\x00\x00\x01\x0d\x3d";
    /// CONNECT to the name rdp.example:3389.
    const SOCKS5_REQUEST_NAME: &[u8] = b"\x05\x01\x00\x03\x0brdp.example\x0d\x3d";
    /// RFC 1929: user alice, password s3cret.
    const SOCKS5_AUTH: &[u8] = b"\x01\x05alice\x06s3cret";

    #[test]
    fn every_prefix_is_incomplete_and_the_whole_is_framed() {
        let cases: &[(Message, &[u8])] = &[
            (Message::Socks4Request, SOCKS4A_REQUEST),
            (Message::Socks4Request, SOCKS4_REQUEST),
            (Message::Socks4Reply, b"\x00\x5a\x00\x00\x00\x00\x00\x00"),
            (Message::Socks5Greeting, b"\x05\x02\x00\x02"),
            (Message::Socks5MethodSelection, b"\x05\x02"),
            (Message::Socks5AuthRequest, SOCKS5_AUTH),
            (Message::Socks5AuthStatus, b"\x01\x00"),
            (Message::Socks5Request, SOCKS5_REQUEST_V4),
            (Message::Socks5Request, SOCKS5_REQUEST_NAME),
            (
                Message::Socks5Reply,
                b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00",
            ),
            (
                Message::HttpConnect,
                b"CONNECT 10.0.0.1:3389 HTTP/1.1\r\nHost: 10.0.0.1:3389\r\n\r\n",
            ),
            (
                Message::HttpResponse,
                b"HTTP/1.1 200 Connection established\r\n\r\n",
            ),
        ];
        for (msg, bytes) in cases {
            for n in 0..bytes.len() {
                match message_len(*msg, &bytes[..n]) {
                    Err(Error::Incomplete { .. }) => {}
                    Ok(len) => assert!(len > n, "{msg:?} {n}"),
                    other => panic!("{msg:?} prefix {n}: {other:?}"),
                }
            }
            let mut more = bytes.to_vec();
            more.extend_from_slice(b"\x03\x00\x00\x13");
            assert_eq!(message_len(*msg, &more), Ok(bytes.len()), "{msg:?}");
        }
    }

    /// A head searched piece by piece finds the same end as one searched whole, also when the
    /// empty line straddles two pieces.
    #[test]
    fn a_resumed_search_finds_the_same_end() {
        let head = b"HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\nrest";
        let whole = message_len(Message::HttpResponse, head);
        for n in 1..head.len() {
            let mut searched = 0;
            let mut found = None;
            for end in (n..=head.len()).step_by(n).chain([head.len()]) {
                match message_len_resumed(Message::HttpResponse, &head[..end], searched) {
                    Ok(len) => {
                        found = Some(len);
                        break;
                    }
                    Err(Error::Incomplete { .. }) => searched = end,
                    Err(e) => panic!("{e}"),
                }
            }
            assert_eq!(found.ok_or(Error::Incomplete { needed: 1 }), whole, "{n}");
        }
    }

    #[test]
    fn socks4_and_4a_targets() {
        let r = parse_socks4_request(SOCKS4_REQUEST).unwrap();
        assert_eq!(r.command, SocksCommand::CONNECT);
        assert_eq!(r.target.to_string(), "10.0.0.1:3389");
        let r = parse_socks4_request(SOCKS4A_REQUEST).unwrap();
        assert_eq!(r.target.to_string(), "rdp.example:3389");
        assert_eq!(
            parse_socks4_reply(b"\x00\x5b\x00\x00\x00\x00\x00\x00"),
            Ok(Socks4Status::REJECTED)
        );
    }

    #[test]
    fn socks5_messages() {
        assert_eq!(
            parse_socks5_greeting(b"\x05\x02\x00\x02"),
            Ok(&b"\x00\x02"[..])
        );
        assert_eq!(
            parse_socks5_method(b"\x05\x02"),
            Ok(Socks5Method::USERNAME_PASSWORD)
        );
        assert_eq!(parse_socks5_auth_request(SOCKS5_AUTH), Ok(&b"alice"[..]));
        assert_eq!(parse_socks5_auth_status(b"\x01\x01"), Ok(1));
        let r = parse_socks5_request(SOCKS5_REQUEST_V4).unwrap();
        assert_eq!(r.target.to_string(), "10.0.0.1:3389");
        let r = parse_socks5_request(SOCKS5_REQUEST_NAME).unwrap();
        assert_eq!(r.target.to_string(), "rdp.example:3389");
        let mut v6 = b"\x05\x01\x00\x04".to_vec();
        v6.extend_from_slice(&[0; 15]);
        v6.extend_from_slice(b"\x01\x0d\x3d");
        assert_eq!(message_len(Message::Socks5Request, &v6), Ok(v6.len()));
        assert_eq!(
            parse_socks5_request(&v6).unwrap().target.to_string(),
            "[::1]:3389"
        );
        assert_eq!(
            parse_socks5_reply(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00"),
            Ok(Socks5Reply::CONNECTION_REFUSED)
        );
    }

    #[test]
    fn impossible_values_are_errors() {
        assert!(matches!(
            message_len(Message::Socks5Request, b"\x05\x01\x00\x09"),
            Err(Error::UnexpectedValue { .. })
        ));
        assert!(matches!(
            message_len(Message::Socks5Greeting, b"\x05\x00"),
            Err(Error::InvalidLength { .. })
        ));
        assert!(matches!(
            message_len(Message::Socks4Reply, b"\x03"),
            Err(Error::UnexpectedValue { .. })
        ));
        // A user id that never ends.
        let mut long = b"\x04\x01\x0d\x3d\x0a\x00\x00\x01".to_vec();
        long.extend_from_slice(&[b'a'; 300]);
        assert!(matches!(
            message_len(Message::Socks4Request, &long),
            Err(Error::InvalidLength { .. })
        ));
        // An HTTP head that never ends.
        let mut head = b"CONNECT a:1 HTTP/1.1\r\n".to_vec();
        head.extend_from_slice(&[b'x'; MAX_HTTP_HEAD]);
        assert!(matches!(
            message_len(Message::HttpConnect, &head),
            Err(Error::InvalidLength { .. })
        ));
        assert!(message_len(Message::HttpResponse, b"SSH-2.0").is_err());
        // Truncated bodies.
        assert!(parse_socks5_request(&SOCKS5_REQUEST_V4[..7]).is_err());
        assert!(parse_socks4_request(&SOCKS4_REQUEST[..8]).is_err());
    }

    #[test]
    fn http_connect_authorities() {
        let r = parse_http_connect(b"CONNECT 10.0.0.1:3389 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.target.host, Host::V4(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(r.target.port, Some(3389));
        let r = parse_http_connect(b"CONNECT [2001:db8::1]:3389 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.target.to_string(), "[2001:db8::1]:3389");
        let r = parse_http_connect(b"CONNECT rdp\x1b[31m.example:3389 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.target.to_string(), "rdp\\x1b[31m.example:3389");
        assert_eq!(
            parse_http_response(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"),
            Ok((407, &b"Proxy Authentication Required"[..]))
        );
        assert_eq!(
            parse_http_response(b"HTTP/1.0 200 OK\r\n\r\n"),
            Ok((200, &b"OK"[..]))
        );
    }

    #[test]
    fn first_bytes() {
        assert_eq!(
            looks_like_tunnel_request(SOCKS4_REQUEST),
            Some(Message::Socks4Request)
        );
        assert_eq!(
            looks_like_tunnel_request(b"\x05\x01\x00"),
            Some(Message::Socks5Greeting)
        );
        assert_eq!(
            looks_like_tunnel_request(b"CONNECT a:1 HTTP/1.1"),
            Some(Message::HttpConnect)
        );
        assert_eq!(looks_like_tunnel_request(b"\x03\x00\x00\x2b"), None);
        assert!(undecided_tunnel_request(b"CONN"));
        assert!(undecided_tunnel_request(b"\x05"));
        assert!(!undecided_tunnel_request(b"CONNECT "));
        assert!(!undecided_tunnel_request(b"GET"));
        assert!(!undecided_tunnel_request(b""));
        assert_eq!(looks_like_tunnel_request(b"\x16\x03\x01"), None);
    }
}
