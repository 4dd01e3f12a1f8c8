//! The other copy of bytes a retransmission or an IP fragment overlap carried differently
//! (RFC 9293 section 3.10.7.4 leaves a receiver free to keep either copy; RFC 791 section 3.2
//! likewise for fragments). The copy the reassembler kept drives the analysis; the other one
//! is read here only for what findings and anomalies need, so that a benign first copy cannot
//! hide a probe behind it, nor a second one rewrite what was negotiated without a word.

use super::Analyzer;
use crate::mcs::{self, ConnectPdu};
use crate::x224::{self, RequestToken, Tpdu};
use crate::{gcc, tpkt, Side};

/// What differs between a Connection Request kept and another copy of it: each field as
/// `name: first vs copy`, the cookie in backquotes.
fn request_differences(
    first: &super::facts::X224Facts,
    copy: &x224::ConnectionRequest<'_>,
) -> Vec<String> {
    let mut out = Vec::new();
    let copy_cookie = match copy.token {
        Some(RequestToken::Cookie(name)) => Some(crate::printable::printable_bytes(name)),
        _ => None,
    };
    if first.cookie != copy_cookie {
        let show = |c: &Option<String>| c.as_ref().map_or("none".to_string(), |c| format!("`{c}`"));
        out.push(format!(
            "cookie {} vs {}",
            show(&first.cookie),
            show(&copy_cookie)
        ));
    }
    let copy_protocols = copy.negotiation.map(|n| n.requested_protocols);
    if first.requested_protocols != copy_protocols {
        let show = |p: Option<x224::Protocols>| {
            p.map_or("none (legacy request)".to_string(), |p| {
                p.protocol_names().join("|")
            })
        };
        out.push(format!(
            "requested protocols {} vs {}",
            show(first.requested_protocols),
            show(copy_protocols)
        ));
    }
    out
}

impl Analyzer {
    /// Reads `copy`, bytes of `side`'s stream that conflict with the bytes already kept (the
    /// first copy won), for what findings look at: an MCS Connect Initial in it that asks for
    /// the static channel `MS_T120` is noted (`bluekeep-probe` then fires as for the kept
    /// copy). Only whole TPKT frames from the copy's first byte on are read.
    ///
    /// Returns what differs, when the copy is an X.224 Connection Request and the kept one
    /// was seen (the cookie, as in ``cookie `alice` vs `admin` ``, and the requested
    /// protocols); `None` otherwise, for the caller to name the offset and length instead.
    pub fn conflicting_copy(&mut self, side: Side, copy: &[u8]) -> Option<String> {
        let mut differences = None;
        let mut rest = copy;
        while let Ok((frame, after)) = tpkt::parse_frame(rest) {
            rest = after;
            match x224::parse_tpdu(frame.payload) {
                Ok(Tpdu::ConnectionRequest(cr)) if side == Side::Client => {
                    let first = self.facts.x224.as_ref().filter(|x| x.request_at.is_some());
                    if let Some(first) = first {
                        let d = request_differences(first, &cr);
                        if !d.is_empty() {
                            differences = Some(d.join(", "));
                        }
                    }
                }
                Ok(Tpdu::Data(dt)) if side == Side::Client => {
                    self.copy_connect_initial(dt.user_data)
                }
                _ => {}
            }
        }
        differences
    }

    /// The channel names of an MCS Connect Initial in a conflicting copy, when one asks for
    /// `MS_T120` (the one name findings look for in it).
    fn copy_connect_initial(&mut self, data: &[u8]) {
        let Ok(ConnectPdu::Initial(ci)) = mcs::parse_connect_pdu(data) else {
            return;
        };
        let client = gcc::parse_conference_create_request(ci.user_data)
            .and_then(|req| gcc::parse_client_data(req.user_data));
        let Some(settings) = client
            .ok()
            .and_then(|data| gcc::ClientSettings::from_client_data(&data))
        else {
            return;
        };
        for channel in settings.channels {
            if channel.name.eq_ignore_ascii_case("MS_T120")
                && !self.facts.conflicting_copy_channels.contains(&channel.name)
            {
                self.facts.conflicting_copy_channels.push(channel.name);
            }
        }
    }
}
