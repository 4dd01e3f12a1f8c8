//! Entry points for the fuzz targets in `fuzz/` and for the regression tests that replay what
//! they found (`rdp-wire/tests/fuzz_regressions.rs`). Not part of the public API.
//!
//! Each function drives one parser (or the analyzer) the way the crate itself uses it, and
//! checks the invariants the crate promises beyond "no panic": a framed PDU's every prefix is
//! incomplete, counters add up to what was fed, bounded lists stay within their bounds. A
//! broken invariant panics, which the fuzzer reports like a crash.
//!
//! The structured inputs ([`AnalyzerOp`], [`TlsOp`]) derive `arbitrary::Arbitrary` when the
//! `arbitrary` feature is on (only the fuzz crate turns it on).
#![allow(clippy::panic, missing_docs)]

use crate::analyzer::tls::{self as session, TlsTracker};
use crate::analyzer::{Analyzer, MAX_ANOMALIES, MAX_EVENTS};
use crate::tls::handshake::{
    parse_certificate_list, parse_certificate_request, parse_client_hello, parse_handshake,
    parse_server_hello, parse_server_key_exchange_ecdhe,
};
use crate::tls::record::{parse_record, probe_record, MAX_RECORD_LEN};
use crate::tls::{alert, fingerprint, ContentType, HandshakeReassembler, HandshakeType};
use crate::{fastpath, gcc, mcs, rdp, tpkt, x224, x509, Error};
use crate::{Bump as _, Saturate as _, Side, Timestamp};

/// A frame probe or parser reduced to the length it found.
type Probe = fn(&[u8]) -> Result<usize, Error>;

/// Checks the streaming contract on a frame of `len` bytes that the parser accepted: for a few
/// proper prefixes (all of them for short frames), the probe answers `Incomplete` or the same
/// declared length, and the parser (when given) answers `Incomplete`, never an error.
fn check_prefixes(what: &str, data: &[u8], len: usize, probe: Probe, parse: Option<Probe>) {
    let cuts: Vec<usize> = if len <= 64 {
        (0..len).collect()
    } else {
        vec![0, 1, 2, 3, 4, len / 2, len.saturating_sub(1)]
    };
    for cut in cuts {
        let prefix = data.get(..cut).unwrap_or_default();
        match probe(prefix) {
            Err(Error::Incomplete { needed }) if needed > 0 => {}
            Ok(n) if n == len => {}
            other => {
                panic!("{what}: probe of a {cut}-byte prefix of a {len}-byte frame gave {other:?}")
            }
        }
        if let Some(parse) = parse {
            match parse(prefix) {
                Err(Error::Incomplete { needed }) if needed > 0 => {}
                other => {
                    panic!("{what}: parser on a {cut}-byte prefix of a {len}-byte frame gave {other:?}")
                }
            }
        }
    }
}

/// TPKT framing, then the X.224 TPDU inside (and the raw input as a TPDU).
pub fn tpkt_x224(data: &[u8]) {
    if let Ok((frame, rest)) = tpkt::parse_frame(data) {
        let len = data.len().saturating_sub(rest.len());
        assert_eq!(
            tpkt::frame_len(data).ok(),
            Some(len),
            "tpkt probe and parser disagree"
        );
        assert!(len <= tpkt::MAX_FRAME_LEN, "tpkt frame over the maximum");
        check_prefixes(
            "tpkt",
            data,
            len,
            tpkt::frame_len,
            Some(|d| tpkt::parse_frame(d).map(|(f, _)| f.payload.len())),
        );
        let _ = x224::parse_tpdu(frame.payload);
    }
    let _ = x224::parse_tpdu(data);
    let _ = x224::looks_like_connection_request(data);
    let _ = x224::sender_by_content(data);
    if let Ok(cr) = x224::parse_connection_request(data) {
        let _ = format!("{cr:?}");
    }
    if let Ok(cc) = x224::parse_connection_confirm(data) {
        let _ = format!("{cc:?}");
    }
}

/// The proxy preambles before RDP: for each message a direction can expect, the probe and
/// the parser agree, every proper prefix of a framed message is incomplete (the probe never
/// errs on one), and the parser runs on the exact slice.
pub fn tunnel(data: &[u8]) {
    use crate::tunnel::{self, Message};
    const ALL: [Message; 10] = [
        Message::Socks4Request,
        Message::Socks4Reply,
        Message::Socks5Greeting,
        Message::Socks5MethodSelection,
        Message::Socks5AuthRequest,
        Message::Socks5AuthStatus,
        Message::Socks5Request,
        Message::Socks5Reply,
        Message::HttpConnect,
        Message::HttpResponse,
    ];
    let _ = tunnel::looks_like_tunnel_request(data);
    let _ = tunnel::undecided_tunnel_request(data);
    for msg in ALL {
        let Ok(len) = tunnel::message_len(msg, data) else {
            continue;
        };
        let Some(frame) = data.get(..len) else {
            continue;
        };
        for cut in 0..len.min(64) {
            let prefix = data.get(..cut).unwrap_or_default();
            match tunnel::message_len(msg, prefix) {
                Err(Error::Incomplete { .. }) => {}
                Ok(n) if n == len => {}
                other => panic!("{msg:?}: probe of a {cut}-byte prefix of {len} gave {other:?}"),
            }
            // A search resumed where an earlier probe stopped finds the same end.
            assert_eq!(
                tunnel::message_len_resumed(msg, data, cut).ok(),
                Some(len),
                "{msg:?}: resumed at {cut}"
            );
        }
        let _ = match msg {
            Message::Socks4Request => {
                tunnel::parse_socks4_request(frame).map(|r| r.target.to_string())
            }
            Message::Socks5Request => {
                tunnel::parse_socks5_request(frame).map(|r| r.target.to_string())
            }
            Message::HttpConnect => tunnel::parse_http_connect(frame).map(|r| r.target.to_string()),
            Message::Socks4Reply => tunnel::parse_socks4_reply(frame).map(|s| s.to_string()),
            Message::Socks5Greeting => {
                tunnel::parse_socks5_greeting(frame).map(|m| format!("{m:?}"))
            }
            Message::Socks5MethodSelection => {
                tunnel::parse_socks5_method(frame).map(|m| m.to_string())
            }
            Message::Socks5AuthRequest => {
                tunnel::parse_socks5_auth_request(frame).map(|u| format!("{u:?}"))
            }
            Message::Socks5AuthStatus => {
                tunnel::parse_socks5_auth_status(frame).map(|s| s.to_string())
            }
            Message::Socks5Reply => tunnel::parse_socks5_reply(frame).map(|r| r.to_string()),
            Message::HttpResponse => tunnel::parse_http_response(frame).map(|(c, _)| c.to_string()),
        };
    }
}

/// Fast-path framing.
pub fn fastpath(data: &[u8]) {
    if let Ok((pdu, rest)) = fastpath::parse_frame(data) {
        let len = data.len().saturating_sub(rest.len());
        assert_eq!(
            fastpath::frame_len(data).ok(),
            Some(len),
            "fast-path probe and parser disagree"
        );
        check_prefixes(
            "fastpath",
            data,
            len,
            fastpath::frame_len,
            Some(|d| fastpath::parse_frame(d).map(|(f, _)| f.body.len())),
        );
        let _ = pdu.flags();
    }
    let _ = fastpath::sender_of_segment(data);
}

fn gcc_client(user_data: &[u8]) {
    if let Ok(req) = gcc::parse_conference_create_request(user_data) {
        client_data(req.user_data);
    }
}

fn client_data(data: &[u8]) {
    if let Ok(cd) = gcc::parse_client_data(data) {
        let _ = gcc::ClientSettings::from_client_data(&cd);
        if let Some(core) = &cd.core {
            let _ = (core.client_name(), core.ime_file_name());
            let _ = (core.client_dig_product_id(), core.requested_color_depth());
        }
    }
}

fn server_data(data: &[u8]) {
    if let Ok(sd) = gcc::parse_server_data(data) {
        let _ = gcc::ServerSettings::from_server_data(&sd);
    }
}

fn gcc_server(user_data: &[u8]) {
    if let Ok(rsp) = gcc::parse_conference_create_response(user_data) {
        server_data(rsp.user_data);
    }
}

fn security(data: &[u8]) {
    for fips in [false, true] {
        if let Ok(pdu) = rdp::parse_security_pdu(data, fips) {
            let _ = format!("{pdu:?}");
        }
    }
}

/// MCS connect and domain PDUs, the GCC blocks inside, and the RDP security PDUs inside Send
/// Data; each parser is also run on the raw input.
pub fn mcs_gcc(data: &[u8]) {
    match mcs::parse_connect_pdu(data) {
        Ok(mcs::ConnectPdu::Initial(ci)) => gcc_client(ci.user_data),
        Ok(mcs::ConnectPdu::Response(cr)) => gcc_server(cr.user_data),
        Err(_) => {}
    }
    if let Ok((_, len)) = mcs::connect_pdu_len(data) {
        if len <= data.len() && len <= 64 {
            check_prefixes(
                "mcs connect",
                data,
                len,
                |d| mcs::connect_pdu_len(d).map(|(_, n)| n),
                None,
            );
        }
    }
    if let Ok(pdu) = mcs::parse_domain_pdu(data) {
        let _ = pdu.pdu_type();
        if let mcs::DomainPdu::SendDataRequest(sd) | mcs::DomainPdu::SendDataIndication(sd) = pdu {
            security(sd.user_data);
            let _ = rdp::parse_share_pdu(sd.user_data);
        }
    }
    gcc_client(data);
    gcc_server(data);
    client_data(data);
    server_data(data);
    let _ = gcc::parse_server_certificate(data);
    for block in gcc::data_blocks(data).take(64) {
        let _ = format!("{block:?}");
    }
    security(data);
    let _ = rdp::parse_client_info(data);
    let _ = rdp::parse_license_pdu(data);
    let _ = rdp::parse_share_pdu(data);
}

fn handshake_message(t: HandshakeType, body: &[u8]) {
    match t {
        HandshakeType::CLIENT_HELLO => {
            if let Ok(hello) = parse_client_hello(body) {
                let (ja3, ja4) = (fingerprint::ja3(&hello), fingerprint::ja4(&hello));
                let _ = fingerprint::ja4_original(&hello);
                // Twice: once filling the cache, once found in it.
                let mut cache = crate::analyzer::FingerprintCache::default();
                for _ in 0..2 {
                    let (memo_ja4, memo_ja3) = cache.client_fingerprints(&hello);
                    assert_eq!((&memo_ja4, &memo_ja3), (&ja4, &ja3), "fingerprint memo");
                }
                let _ = hello.offered_versions();
            }
        }
        HandshakeType::SERVER_HELLO => {
            if let Ok(hello) = parse_server_hello(body) {
                let _ = fingerprint::ja3s(&hello);
                #[cfg(feature = "foxio-licensed")]
                let _ = fingerprint::ja4s(&hello);
                let _ = hello.selected_version();
            }
        }
        HandshakeType::CERTIFICATE => {
            let _ = parse_certificate_list(body);
        }
        HandshakeType::SERVER_KEY_EXCHANGE => {
            let _ = parse_server_key_exchange_ecdhe(body);
        }
        HandshakeType::CERTIFICATE_REQUEST => {
            let _ = parse_certificate_request(body);
        }
        _ => {}
    }
}

/// TLS records one after another, handshake messages reassembled across them, alerts; the
/// handshake parsers also run on the raw input.
pub fn tls_records(data: &[u8]) {
    let mut rest = data;
    let mut reassembler = HandshakeReassembler::new();
    while let Ok((record, tail)) = parse_record(rest) {
        let len = rest.len().saturating_sub(tail.len());
        assert_eq!(
            probe_record(rest).ok(),
            Some(len),
            "record probe and parser disagree"
        );
        assert!(len <= MAX_RECORD_LEN, "record over the maximum");
        check_prefixes(
            "tls record",
            rest,
            len,
            probe_record,
            Some(|d| parse_record(d).map(|(r, _)| r.fragment.len())),
        );
        match record.content_type {
            ContentType::HANDSHAKE => {
                let pushed = reassembler.push(record.fragment, handshake_message);
                assert!(
                    reassembler.pending()
                        <= crate::tls::handshake::MAX_HANDSHAKE_LEN
                            .saturating_add(crate::tls::handshake::HANDSHAKE_HEADER_LEN),
                    "handshake reassembly buffer over its bound"
                );
                if pushed.is_err() {
                    reassembler.clear();
                }
            }
            ContentType::ALERT => {
                let _ = alert::parse_alerts(record.fragment);
            }
            _ => {}
        }
        rest = tail;
    }
    if let Ok(((t, body), _)) = parse_handshake(data) {
        handshake_message(t, body);
    }
    for t in [
        HandshakeType::CLIENT_HELLO,
        HandshakeType::SERVER_HELLO,
        HandshakeType::CERTIFICATE,
        HandshakeType::SERVER_KEY_EXCHANGE,
        HandshakeType::CERTIFICATE_REQUEST,
    ] {
        handshake_message(t, data);
    }
    let _ = alert::parse_alerts(data);
}

/// Key log text: every line counted once, by what it is; the same text again replaces every
/// secret it kept and adds none; `Debug` shows counts, never a run of hex that could be a
/// secret or a client random.
pub fn keylog(data: &[u8]) {
    use crate::tls::keylog::KeyLog;
    let mut log = KeyLog::new();
    let stats = log.add(data);
    let newlines: u64 = data.iter().filter(|b| **b == b'\n').count().saturate();
    let want_lines = if data.is_empty() {
        0
    } else if data.ends_with(b"\n") {
        newlines
    } else {
        newlines.saturating_add(1)
    };
    assert_eq!(stats.lines, want_lines, "lines miscounted");
    let sorted = stats
        .secrets
        .saturating_add(stats.comments)
        .saturating_add(stats.ignored)
        .saturating_add(stats.unknown_label)
        .saturating_add(stats.malformed);
    assert_eq!(sorted, stats.lines, "a line counted twice or not at all");
    assert!(stats.replaced <= stats.secrets, "more replaced than kept");
    assert_eq!(
        stats.first_malformed_line.is_some(),
        stats.malformed > 0,
        "first malformed line"
    );
    assert!(
        stats.first_malformed_line <= Some(stats.lines),
        "malformed past the end"
    );
    let kept: u64 = log.len().saturate();
    assert_eq!(
        kept,
        stats.secrets.saturating_sub(stats.replaced),
        "secrets kept"
    );
    let again = log.add(data);
    assert_eq!(
        again.secrets, stats.secrets,
        "second reading kept other secrets"
    );
    assert_eq!(
        again.replaced, again.secrets,
        "second reading added a secret"
    );
    assert_eq!(log.len(), usize::try_from(kept).unwrap_or(usize::MAX));
    let shown = format!("{log:?} {stats:?}");
    let mut run = 0usize;
    for c in shown.chars() {
        run = if c.is_ascii_hexdigit() {
            run.saturating_add(1)
        } else {
            0
        };
        assert!(run < 16, "Debug shows a hex run: {shown}");
    }
}

/// TLS 1.3 records opened under a fixed secret (the lab's `tls-ok` client application
/// traffic secret, so that its real record in the seeds opens): an error leaves no plaintext
/// and the sequence number where it was; an opened record's plaintext is shorter than the
/// record by at least its header, tag and content type. The rest of the input is opened as
/// the following records.
pub fn tls13_open(data: &[u8]) {
    use crate::tls::cipher_suites::CipherSuite;
    use crate::tls::protection::Tls13Protection;
    const SECRET: [u8; 48] = [
        0x88, 0x1f, 0xe1, 0x20, 0x09, 0x27, 0x1b, 0x00, 0xc4, 0xdb, 0xa6, 0xba, 0x8f, 0x0d, 0x87,
        0xf4, 0x7c, 0x33, 0x36, 0xd6, 0x60, 0x68, 0x96, 0x0e, 0x0e, 0x14, 0xdc, 0x2c, 0x07, 0x72,
        0xdf, 0xe0, 0xe9, 0xc4, 0x3c, 0xd4, 0xf9, 0xcc, 0x36, 0x2f, 0x76, 0x14, 0x79, 0xaa, 0x81,
        0xbd, 0xd6, 0x6e,
    ];
    let Ok(mut p) = Tls13Protection::new(CipherSuite::TLS_AES_256_GCM_SHA384, &SECRET) else {
        panic!("the fixed secret is refused");
    };
    let mut out = Vec::new();
    let mut rest = data;
    while let Ok((_, tail)) = parse_record(rest) {
        let len = rest.len().saturating_sub(tail.len());
        let record = rest.get(..len).unwrap_or_default();
        let seq = p.seq();
        match p.open(record, &mut out) {
            Ok(_) => {
                assert_eq!(
                    p.seq(),
                    seq.saturating_add(1),
                    "sequence number not advanced"
                );
                assert!(out.len().saturating_add(22) <= len, "plaintext too long");
            }
            Err(_) => {
                assert!(out.is_empty(), "plaintext left after an error");
                assert_eq!(p.seq(), seq, "sequence number moved on an error");
            }
        }
        rest = tail;
    }
    let _ = p.open(data, &mut out);
    let _ = p.key_update();
}

/// The certificate summary; the cached summary is the same, first and second time.
pub fn x509(data: &[u8]) {
    let direct = x509::summarize_certificate(data);
    if let Ok(summary) = &direct {
        let _ = format!("{summary:?}");
    }
    let mut cache = crate::analyzer::CertificateCache::default();
    for _ in 0..2 {
        assert_eq!(
            cache.summarize(data).ok(),
            direct.clone().ok(),
            "cached certificate summary differs"
        );
    }
}

/// One direction of a connection, as the structured fuzz inputs name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum FuzzSide {
    Client,
    Server,
}

impl From<FuzzSide> for Side {
    fn from(s: FuzzSide) -> Side {
        match s {
            FuzzSide::Client => Side::Client,
            FuzzSide::Server => Side::Server,
        }
    }
}

/// One call on a [`TlsTracker`]. Byte strings borrow the fuzz input (`arbitrary` takes their
/// lengths from its end), so that mutations of stream bytes stay cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum TlsOp<'a> {
    /// Stream bytes of one side, in any chunking.
    Feed(FuzzSide, &'a [u8]),
    /// A capture gap.
    Gap(FuzzSide, u64),
}

/// A [`TlsTracker`] fed arbitrary chunks of both directions.
pub fn tls_tracker(ops: &[TlsOp<'_>]) {
    let mut tracker = TlsTracker::new();
    let mut ts = crate::Timestamp(0);
    for op in ops {
        ts = crate::Timestamp(ts.0.saturating_add(1_000));
        match op {
            TlsOp::Feed(side, bytes) => {
                let _ = tracker.feed((*side).into(), ts, bytes);
            }
            TlsOp::Gap(side, len) => tracker.gap((*side).into(), *len),
        }
    }
    let facts = tracker.facts();
    assert!(
        facts.alerts.len() <= session::MAX_ALERTS,
        "tls alerts over their bound"
    );
    assert!(
        facts.anomalies.len() <= MAX_ANOMALIES,
        "tls anomalies over their bound"
    );
    let _ = format!("{facts:?}");
}

/// One call on an [`Analyzer`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum AnalyzerOp<'a> {
    Syn,
    SynAck,
    MidStream,
    Data(FuzzSide, &'a [u8]),
    Gap(FuzzSide, u64),
    Fin(FuzzSide),
    Rst(FuzzSide),
    /// Ask for the verdict in the middle of the connection.
    Verdict,
    Facts,
    Tls,
}

/// An [`Analyzer`] driven by a sequence of TCP events and stream bytes; checks that the facts
/// count exactly the bytes and gaps fed, and that bounded lists stay bounded.
pub fn analyzer(ops: &[AnalyzerOp<'_>]) {
    let mut a = Analyzer::new();
    let mut at = 1_700_000_000_000_000_000_i64;
    let mut fed = [0u64; 2];
    let mut gaps = [0u64; 2];
    let index = |s: FuzzSide| usize::from(s == FuzzSide::Server);
    for op in ops {
        at = at.saturating_add(1_000_000);
        let ts = Timestamp(at);
        match op {
            AnalyzerOp::Syn => a.syn(ts),
            AnalyzerOp::SynAck => a.syn_ack(ts),
            AnalyzerOp::MidStream => a.mid_stream(),
            AnalyzerOp::Data(side, bytes) => {
                a.data((*side).into(), ts, bytes);
                if let Some(n) = fed.get_mut(index(*side)) {
                    n.bump_by(bytes.len().saturate());
                }
            }
            AnalyzerOp::Gap(side, len) => {
                a.gap((*side).into(), ts, *len);
                if let Some(n) = gaps.get_mut(index(*side)) {
                    *n = n.saturating_add(*len);
                }
            }
            AnalyzerOp::Fin(side) => a.fin((*side).into(), ts),
            AnalyzerOp::Rst(side) => a.rst((*side).into(), ts),
            AnalyzerOp::Verdict => {
                let _ = a.verdict();
            }
            AnalyzerOp::Facts => {
                let _ = format!("{:?}", a.facts());
            }
            AnalyzerOp::Tls => {
                let _ = format!("{:?}", a.tls());
            }
        }
    }
    let verdict = a.verdict();
    assert!(!verdict.summary.is_empty(), "empty verdict summary");
    let facts = a.facts();
    for side in [FuzzSide::Client, FuzzSide::Server] {
        let stats = facts.side(side.into());
        let i = index(side);
        assert_eq!(Some(&stats.bytes), fed.get(i), "{side:?} bytes miscounted");
        assert_eq!(
            Some(&stats.gap_bytes),
            gaps.get(i),
            "{side:?} gap bytes miscounted"
        );
        assert!(
            stats.bytes_after_handshake <= stats.bytes,
            "more bytes after the handshake than in all"
        );
    }
    assert!(a.events().len() <= MAX_EVENTS, "events over their bound");
    assert!(
        facts.anomalies.len() <= MAX_ANOMALIES,
        "anomalies over their bound"
    );
    let _ = a.is_rdp();
    if let Some(tls) = a.tls() {
        assert!(
            tls.alerts.len() <= session::MAX_ALERTS,
            "tls alerts over their bound"
        );
    }
}
