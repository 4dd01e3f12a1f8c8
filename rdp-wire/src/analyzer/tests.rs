use super::*;
use crate::x224::{FailureCode, Protocols};

/// `lab/nla-ok.pcap` frame 4: cookie alice, RDP_NEG_REQ SSL|HYBRID.
const CR_SSL_HYBRID: &[u8] = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x03\x00\x00\x00";
/// `lab/neg-nla-vs-xrdp.pcap` frame 6: RDP_NEG_RSP selecting SSL.
const CC_SSL: &[u8] =
    b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x01\x00\x00\x00";
/// `lab/neg-failure-hybrid-required.pcap` frame 6: RDP_NEG_FAILURE HYBRID_REQUIRED_BY_SERVER.
const CC_HYBRID_REQUIRED: &[u8] =
    b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x00\x00\x00\x03\x00\x08\x00\x05\x00\x00\x00";
/// The first bytes of the ClientHello of `lab/tls-ok.pcap` frame 8.
const CLIENT_HELLO_START: &[u8] = b"\x16\x03\x01\x01\x36\x01\x00\x01\x32\x03\x03";

fn t(ms: i64) -> Timestamp {
    Timestamp(1_764_410_000_000_000_000 + ms * 1_000_000)
}

fn opened() -> Analyzer {
    let mut a = Analyzer::new();
    a.syn(t(0));
    a.syn_ack(t(0));
    a
}

#[test]
fn negotiation_then_tls() {
    let mut a = opened();
    a.data(Side::Client, t(1), CR_SSL_HYBRID);
    a.data(Side::Server, t(2), CC_SSL);
    a.data(Side::Client, t(3), CLIENT_HELLO_START);
    let x = a.facts().x224.clone().unwrap();
    assert_eq!(x.cookie.as_deref(), Some("alice"));
    assert_eq!(x.requested_protocols, Some(Protocols(3)));
    assert!(matches!(
        x.confirm,
        Some(Confirm::Selected {
            protocol: Protocols::SSL,
            ..
        })
    ));
    assert_eq!(a.facts().last_handshake_at, Some(t(2)));
    assert_eq!(a.facts().side(Side::Client).bytes_after_handshake, 11);
    assert!(a.facts().anomalies.is_empty(), "{:?}", a.facts().anomalies);
    assert_eq!(a.verdict().code, VerdictCode::Incomplete);
    assert!(a.is_rdp());
    let kinds: Vec<_> = a.events().iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Syn,
            EventKind::SynAck,
            EventKind::ConnectionRequest,
            EventKind::ConnectionConfirm
        ]
    );
}

#[test]
fn content_is_concluded_once_tls_is_established_or_decoding_stopped() {
    use crate::testdata::{hex, CIPHER_MISMATCH_CLIENT_HELLO, TLS12_SERVER_HELLO};
    let mut a = opened();
    a.data(Side::Client, t(1), CR_SSL_HYBRID);
    a.data(Side::Server, t(2), CC_SSL);
    a.data(Side::Client, t(3), &hex(CIPHER_MISMATCH_CLIENT_HELLO));
    a.data(Side::Server, t(4), &hex(TLS12_SERVER_HELLO));
    let ccs_finished = [0x14, 3, 3, 0, 1, 1, 0x16, 3, 3, 0, 3, 9, 9, 9];
    a.data(Side::Client, t(5), &ccs_finished);
    assert!(!a.content_concluded(Side::Client) && !a.content_concluded(Side::Server));
    a.data(Side::Server, t(6), &ccs_finished);
    assert!(a.tls().unwrap().handshake_complete);
    assert!(a.content_concluded(Side::Client) && a.content_concluded(Side::Server));

    // A direction whose decoding stopped at a gap is concluded; the other is not.
    let mut b = opened();
    b.data(Side::Client, t(1), &CR_SSL_HYBRID[..10]);
    b.gap(Side::Client, t(2), 100);
    assert!(b.content_concluded(Side::Client));
    assert!(!b.content_concluded(Side::Server));
}

#[test]
fn frames_split_byte_by_byte() {
    let mut a = opened();
    for (i, b) in CR_SSL_HYBRID.iter().enumerate() {
        a.data(Side::Client, t(1), std::slice::from_ref(b));
        assert_eq!(a.facts().x224.is_some(), i + 1 == CR_SSL_HYBRID.len());
    }
    // Confirm and a following record in one chunk.
    let mut chunk = CC_SSL.to_vec();
    chunk.extend_from_slice(b"\x15\x03\x03\x00\x02\x02\x32");
    a.data(Side::Server, t(2), &chunk);
    assert!(a.facts().x224.as_ref().unwrap().confirm.is_some());
    assert!(a.facts().anomalies.is_empty());
}

#[test]
fn negotiation_failure() {
    let mut a = opened();
    a.data(Side::Client, t(1), CR_SSL_HYBRID);
    a.data(Side::Server, t(2), CC_HYBRID_REQUIRED);
    a.fin(Side::Client, t(3));
    let v = a.verdict();
    assert_eq!(v.code, VerdictCode::NegotiationFailure);
    assert_eq!(v.severity, Severity::Error);
    assert!(
        v.summary.contains("HYBRID_REQUIRED_BY_SERVER"),
        "{}",
        v.summary
    );
    assert!(matches!(
        a.facts().x224.as_ref().unwrap().confirm,
        Some(Confirm::Failure {
            code: FailureCode::HYBRID_REQUIRED_BY_SERVER
        })
    ));
}

#[test]
fn client_leaves_after_confirm_is_a_mismatch() {
    let mut a = opened();
    a.data(Side::Client, t(1), CR_SSL_HYBRID);
    a.data(Side::Server, t(5), CC_SSL);
    a.fin(Side::Client, t(6));
    // The server's late alert does not change who left first.
    a.data(Side::Server, t(8), b"\x15\x03\x03\x00\x02\x02\x32");
    a.rst(Side::Client, t(8));
    let v = a.verdict();
    assert_eq!(v.code, VerdictCode::SecurityMismatch, "{}", v.summary);
    assert!(v.summary.contains("selected SSL"), "{}", v.summary);
    assert_eq!(a.facts().close.unwrap().by, Side::Client);
}

#[test]
fn client_going_on_is_not_a_mismatch() {
    let mut a = opened();
    a.data(Side::Client, t(1), CR_SSL_HYBRID);
    a.data(Side::Server, t(2), CC_SSL);
    a.data(Side::Client, t(3), CLIENT_HELLO_START);
    a.fin(Side::Client, t(4));
    assert_eq!(a.verdict().code, VerdictCode::Incomplete);
}

#[test]
fn server_closes_without_confirm() {
    // `lab/tcp-accept-close.pcap`: server FIN before the request arrives, then RST.
    let mut a = opened();
    a.fin(Side::Server, t(1));
    a.data(Side::Client, t(2), CR_SSL_HYBRID);
    a.rst(Side::Server, t(2));
    let v = a.verdict();
    assert_eq!(v.code, VerdictCode::NoNegotiationResponse);
    assert!(v.summary.contains("server closed"), "{}", v.summary);
}

#[test]
fn refused_and_unanswered() {
    let mut a = Analyzer::new();
    a.syn(t(0));
    a.rst(Side::Server, t(0));
    assert_eq!(a.verdict().code, VerdictCode::TcpRefused);

    let mut a = Analyzer::new();
    a.syn(t(0));
    a.syn(t(1000));
    a.syn(t(3000));
    let v = a.verdict();
    assert_eq!(v.code, VerdictCode::TcpUnanswered);
    assert!(v.summary.starts_with("3 SYNs"), "{}", v.summary);
}

#[test]
fn http_is_not_rdp() {
    let mut a = opened();
    a.data(Side::Client, t(1), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let v = a.verdict();
    assert_eq!(v.code, VerdictCode::NotRdp);
    assert!(v.summary.contains("HTTP"), "{}", v.summary);
    assert!(!a.is_rdp());
    assert_eq!(a.facts().foreign.as_ref().unwrap().prefix.len(), 27);
}

#[test]
fn gap_stops_decoding_of_that_side() {
    let mut a = opened();
    a.data(Side::Client, t(1), &CR_SSL_HYBRID[..10]);
    a.gap(Side::Client, t(2), 100);
    a.data(Side::Client, t(3), &CR_SSL_HYBRID[10..]);
    assert!(a.facts().x224.is_none());
    assert_eq!(a.facts().side(Side::Client).gap_bytes, 100);
    assert_eq!(a.facts().anomalies.len(), 1);
}

#[test]
fn malformed_tpkt_is_an_anomaly() {
    let mut a = opened();
    a.data(Side::Client, t(1), b"\x03\x00\x00\x02");
    assert_eq!(a.facts().anomalies.len(), 1);
    assert_eq!(a.verdict().code, VerdictCode::NotRdp);
}

proptest::proptest! {
    #[test]
    fn random_streams_never_panic(
        client in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        server in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        split in 0usize..200,
    ) {
        let mut a = opened();
        let (c1, c2) = client.split_at(split.min(client.len()));
        a.data(Side::Client, t(1), c1);
        a.data(Side::Server, t(2), &server);
        a.data(Side::Client, t(3), c2);
        let _ = a.verdict();
    }

    #[test]
    fn any_chunking_gives_the_same_facts(cut1 in 0usize..44, cut2 in 0usize..44) {
        let (lo, hi) = (cut1.min(cut2), cut1.max(cut2));
        let mut stream = CR_SSL_HYBRID.to_vec();
        let mut whole = opened();
        whole.data(Side::Client, t(1), &stream);
        let mut parts = opened();
        stream.truncate(43);
        parts.data(Side::Client, t(1), &stream[..lo]);
        parts.data(Side::Client, t(1), &stream[lo..hi]);
        parts.data(Side::Client, t(1), &stream[hi..]);
        proptest::prop_assert_eq!(whole.facts(), parts.facts());
    }
}

#[test]
fn into_parts_moves_what_the_accessors_show() {
    let mut a = opened();
    a.data(Side::Client, t(1), CR_SSL_HYBRID);
    a.data(Side::Server, t(2), CC_SSL);
    a.data(Side::Client, t(3), CLIENT_HELLO_START);
    let (facts, tls, events) = (a.facts().clone(), a.tls().cloned(), a.events().to_vec());
    assert!(tls.is_some());
    assert_eq!(a.into_parts(), (facts, tls, events));
}

#[test]
fn mid_stream_garbage_is_incomplete_not_foreign() {
    // The first bytes of a connection picked up in the middle are the middle of a record.
    let mut a = Analyzer::new();
    a.mid_stream();
    a.data(Side::Client, t(1), b"\x8f\x12\x00\x33 some encrypted bytes");
    a.data(Side::Server, t(2), b"\x17\x03\x03\x00\x05hello");
    let v = a.verdict();
    assert_eq!(v.code, VerdictCode::Incomplete, "{}", v.summary);
    assert!(
        v.summary.contains("middle of the connection"),
        "{}",
        v.summary
    );
}

/// `frame` (an MCS PDU) in a TPKT and an X.224 Data TPDU (`02 f0 80`), as it travels.
fn tpkt_data(mcs: &[u8]) -> Vec<u8> {
    let len = u16::try_from(mcs.len() + 7).unwrap().to_be_bytes();
    let mut out = vec![0x03, 0x00, len[0], len[1], 0x02, 0xf0, 0x80];
    out.extend_from_slice(mcs);
    out
}

/// An RDP_NEG_REQ for PROTOCOL_RDP (the cookie of `CR_SSL_HYBRID`) and its RDP_NEG_RSP.
const CR_RDP: &[u8] = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x00\x00\x00\x00";
const CC_RDP: &[u8] =
    b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x00\x00\x00\x00";

/// Standard RDP Security up to the server's Connect Response (real rdesktop/xrdp bytes).
fn up_to_connect_response() -> Analyzer {
    let mut a = opened();
    a.data(Side::Client, t(1), CR_RDP);
    a.data(Side::Server, t(2), CC_RDP);
    a.data(
        Side::Client,
        t(3),
        &tpkt_data(&crate::testdata::hex(crate::testdata::STD_CONNECT_INITIAL)),
    );
    a.data(
        Side::Server,
        t(5),
        &tpkt_data(&crate::testdata::hex(crate::testdata::STD_CONNECT_RESPONSE)),
    );
    assert!(a
        .facts()
        .mcs
        .as_ref()
        .unwrap()
        .connect_response_at
        .is_some());
    a
}

/// A client that leaves right after the server's Connect Response (as nmap's
/// rdp-enum-encryption does) closed early of its own accord: not the server's protocol error.
#[test]
fn client_leaving_after_the_connect_response_is_not_a_protocol_error() {
    let mut a = up_to_connect_response();
    a.fin(Side::Client, t(6));
    let v = a.verdict();
    assert_eq!(v.code, VerdictCode::ClosedEarly, "{}", v.summary);
    assert!(
        v.summary
            .contains("after the server's MCS Connect Response"),
        "{}",
        v.summary
    );
}

/// The server closing at the same point, or the client leaving after it went on, stays a
/// protocol error.
#[test]
fn server_closing_after_the_connect_response_is_still_a_protocol_error() {
    let mut a = up_to_connect_response();
    a.fin(Side::Server, t(6));
    assert_eq!(a.verdict().code, VerdictCode::ProtocolError);

    let mut a = up_to_connect_response();
    a.data(
        Side::Client,
        t(6),
        &tpkt_data(&crate::testdata::hex(crate::testdata::STD_ERECT_DOMAIN)),
    );
    a.fin(Side::Client, t(7));
    assert_eq!(a.verdict().code, VerdictCode::ProtocolError);
}
