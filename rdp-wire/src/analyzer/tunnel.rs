//! The proxy preamble in front of RDP: a client that asks a SOCKS4/4a, SOCKS5 or HTTP CONNECT
//! proxy for a tunnel, and the proxy's answer. Each direction reads its messages in order
//! ([`crate::tunnel`] frames and parses them); once a direction's part is done, its decoder
//! starts again at [`Mode::Start`] and the RDP that follows is decoded as usual. A refused
//! tunnel ends the server direction's decoding (what follows is the proxy's error page).
//!
//! Only the start of a connection whose TCP handshake was seen is read as a SOCKS request
//! (a fast-path input PDU of one event starts with `04`, like SOCKS4, and a capture picked up
//! mid-stream may start with one); `CONNECT ` is unambiguous and is read anywhere at the start.

use crate::tunnel::{self, Message, Socks4Status, Socks5Method, Socks5Reply};
use crate::Error;
use crate::{Side, Timestamp};

use super::facts::{TunnelAnswer, TunnelFacts, TunnelKind};
use super::{Analyzer, EventKind, Mode, Step};

impl Analyzer {
    /// At a direction's first bytes: the client's tunnel request, or the proxy's answer to it.
    /// `None` when the bytes are not a tunnel preamble (RDP is classified as usual).
    pub(super) fn tunnel_start(&mut self, side: Side, bytes: &[u8]) -> Option<Step> {
        match side {
            Side::Client => {
                if self.facts.tunnel.is_some() || self.facts.x224.is_some() {
                    return None;
                }
                if tunnel::undecided_tunnel_request(bytes)
                    && (!self.facts.mid_stream || bytes.first() == Some(&b'C'))
                {
                    return Some(Step::NeedMore);
                }
                let msg = tunnel::looks_like_tunnel_request(bytes)?;
                if self.facts.mid_stream && msg != Message::HttpConnect {
                    return None;
                }
                if !matches!(
                    tunnel::message_len(msg, bytes),
                    Ok(_) | Err(Error::Incomplete { .. })
                ) {
                    return None;
                }
                let (kind, answer) = match msg {
                    Message::Socks4Request => (TunnelKind::Socks4, Message::Socks4Reply),
                    Message::HttpConnect => (TunnelKind::HttpConnect, Message::HttpResponse),
                    _ => (TunnelKind::Socks5, Message::Socks5MethodSelection),
                };
                self.facts.tunnel = Some(Box::new(TunnelFacts {
                    kind,
                    target: None,
                    target_port: None,
                    username_password: false,
                    requested_at: None,
                    answer: None,
                    basis: None,
                }));
                self.tunnel_expect = [Some(msg), Some(answer)];
            }
            Side::Server => {
                self.tunnel_expect.get(1).copied().flatten()?;
            }
        }
        self.decoder_mut(side).mode = Mode::Tunnel;
        Some(Step::Switched)
    }

    /// One message of the preamble on `side`, or the end of that side's part of it. Out of
    /// line: a tunnel's few messages, kept out of `Analyzer::consume`'s per-record path.
    #[inline(never)]
    pub(super) fn tunnel_message(&mut self, side: Side, at: Timestamp, bytes: &[u8]) -> Step {
        let slot = side.index();
        let Some(expected) = self.tunnel_expect.get(slot).copied().flatten() else {
            self.decoder_mut(side).mode = Mode::Start;
            return Step::Switched;
        };
        // After the method selection, an RFC 1929 exchange (version 1) or the request itself
        // (version 5) follows: the first byte tells which, without the other direction.
        let expected = match (expected, bytes.first()) {
            (Message::Socks5AuthRequest, Some(5)) => Message::Socks5Request,
            (Message::Socks5AuthStatus, Some(5)) => Message::Socks5Reply,
            (e, _) => e,
        };
        let searched = self.tunnel_searched.get(slot).copied().unwrap_or(0);
        match tunnel::message_len_resumed(expected, bytes, searched) {
            Ok(len) if bytes.len() >= len => {
                if let Some(s) = self.tunnel_searched.get_mut(slot) {
                    *s = 0;
                }
                let msg = bytes.get(..len).unwrap_or_default();
                let next = self.tunnel_read(side, at, expected, msg);
                if let Some(e) = self.tunnel_expect.get_mut(slot) {
                    *e = next;
                }
                if next.is_none() {
                    let refused = self
                        .facts
                        .tunnel
                        .as_ref()
                        .and_then(|t| t.answer.as_ref())
                        .is_some_and(|a| !a.granted);
                    self.decoder_mut(side).mode = if side == Side::Server && refused {
                        Mode::Opaque
                    } else {
                        Mode::Start
                    };
                }
                Step::Consumed(len)
            }
            Ok(_) | Err(Error::Incomplete { .. }) => {
                if let Some(s) = self.tunnel_searched.get_mut(slot) {
                    *s = bytes.len();
                }
                Step::NeedMore
            }
            Err(e) => {
                // Not the message the preamble needs here: decode the bytes as they are.
                self.facts.anomaly(format!(
                    "{} proxy preamble: {e}; the bytes are decoded as RDP",
                    side.as_str()
                ));
                if let Some(slot) = self.tunnel_expect.get_mut(slot) {
                    *slot = None;
                }
                self.decoder_mut(side).mode = Mode::Start;
                Step::Switched
            }
        }
    }

    /// Reads one framed message; returns the message expected next on that side (`None`: the
    /// side's part of the preamble is over).
    fn tunnel_read(
        &mut self,
        side: Side,
        at: Timestamp,
        expected: Message,
        msg: &[u8],
    ) -> Option<Message> {
        let result = match expected {
            Message::Socks4Request => tunnel::parse_socks4_request(msg).map(|r| {
                self.tunnel_request(at, &r.target);
                None
            }),
            Message::Socks5Greeting => {
                tunnel::parse_socks5_greeting(msg).map(|_| Some(Message::Socks5AuthRequest))
            }
            Message::Socks5AuthRequest => tunnel::parse_socks5_auth_request(msg).map(|_| {
                if let Some(t) = self.facts.tunnel.as_mut() {
                    t.username_password = true;
                }
                Some(Message::Socks5Request)
            }),
            Message::Socks5Request => tunnel::parse_socks5_request(msg).map(|r| {
                self.tunnel_request(at, &r.target);
                None
            }),
            Message::HttpConnect => tunnel::parse_http_connect(msg).map(|r| {
                self.tunnel_request(at, &r.target);
                None
            }),
            Message::Socks4Reply => tunnel::parse_socks4_reply(msg).map(|s| {
                let refused = (s != Socks4Status::GRANTED).then(|| format!("SOCKS4 reply {s}"));
                self.tunnel_answer(at, refused, false);
                None
            }),
            Message::Socks5MethodSelection => tunnel::parse_socks5_method(msg).map(|m| {
                if m == Socks5Method::NO_ACCEPTABLE {
                    self.tunnel_answer(
                        at,
                        Some("SOCKS5: no acceptable authentication method".to_string()),
                        false,
                    );
                    None
                } else {
                    Some(Message::Socks5AuthStatus)
                }
            }),
            Message::Socks5AuthStatus => tunnel::parse_socks5_auth_status(msg).map(|s| {
                if s == 0 {
                    Some(Message::Socks5Reply)
                } else {
                    self.tunnel_answer(
                        at,
                        Some(format!(
                            "SOCKS5 username/password authentication failed (status {s})"
                        )),
                        false,
                    );
                    None
                }
            }),
            Message::Socks5Reply => tunnel::parse_socks5_reply(msg).map(|r| {
                let refused = (r != Socks5Reply::SUCCEEDED).then(|| format!("SOCKS5 reply {r}"));
                self.tunnel_answer(at, refused, r == Socks5Reply::CONNECTION_REFUSED);
                None
            }),
            Message::HttpResponse => tunnel::parse_http_response(msg).map(|(code, reason)| {
                let refused = !(200..300).contains(&code);
                let text = refused
                    .then(|| format!("HTTP {code} {}", crate::printable::printable_bytes(reason)));
                self.tunnel_answer(at, text, false);
                None
            }),
        };
        match result {
            Ok(next) => next,
            Err(e) => {
                self.facts
                    .anomaly(format!("{} proxy preamble: {e}", side.as_str()));
                None
            }
        }
    }

    fn tunnel_request(&mut self, at: Timestamp, target: &tunnel::Target<'_>) {
        self.event(at, Side::Client, EventKind::TunnelRequest);
        if let Some(t) = self.facts.tunnel.as_mut() {
            t.target = Some(crate::printable::printable_string(target.to_string()));
            t.target_port = target.port;
            t.requested_at = Some(at);
        }
    }

    fn tunnel_answer(&mut self, at: Timestamp, refused: Option<String>, connection_refused: bool) {
        let granted = refused.is_none();
        self.event(at, Side::Server, EventKind::TunnelAnswer { granted });
        if let Some(t) = self.facts.tunnel.as_mut() {
            t.answer = Some(TunnelAnswer {
                at,
                granted,
                refused: refused.map(crate::printable::printable_string),
                connection_refused,
            });
        }
    }
}

/// The HTTPS port an RD Gateway listens on by default (MS-TSGU 1.3: HTTP transport over TLS).
pub const RD_GATEWAY_PORT: u16 = 443;

impl Analyzer {
    /// Tells the analyzer the server's TCP port, once the connection is over: a client that
    /// started TLS directly (no X.224 Connection Request, no proxy preamble) on port
    /// [`RD_GATEWAY_PORT`], or offering the ALPN protocol `http/1.1` or `h2`, speaks HTTPS,
    /// the transport of an RD Gateway (MS-TSGU 2.1: `RDG_OUT_DATA`/`RDG_IN_DATA` requests or a
    /// websocket, all inside TLS). The connection is then marked as such (`via` kind
    /// `rd-gateway`, with what suggested it) and its verdict judges the TLS handshake only:
    /// the RDP inside is encrypted, and nothing of it is claimed. Direct RDP never starts with
    /// TLS: Microsoft clients always send the X.224 request first (MS-RDPBCGR 1.3.1.1).
    pub fn note_server_port(&mut self, port: u16) {
        if self.facts.x224.is_some() || self.facts.tunnel.is_some() {
            return;
        }
        let Some(t) = self.tls().filter(|t| t.client_hello_at.is_some()) else {
            return;
        };
        let alpn = t.alpn.iter().find(|p| *p == "http/1.1" || *p == "h2");
        let basis = match (port == RD_GATEWAY_PORT, alpn.map(String::as_str)) {
            (true, _) => "port 443",
            (false, Some("h2")) => "ALPN h2",
            (false, Some(_)) => "ALPN http/1.1",
            (false, None) => return,
        };
        self.facts.tunnel = Some(Box::new(TunnelFacts {
            kind: TunnelKind::RdGateway,
            target: None,
            target_port: None,
            username_password: false,
            requested_at: None,
            answer: None,
            basis: Some(basis),
        }));
    }
}
