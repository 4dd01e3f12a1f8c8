//! Verdict rules checked on captures built with the kit: each test names the behaviour, builds
//! the connection that shows it, and reads the verdict the binary reports (`verdict.rs` and
//! `docs/output.md` state the rules).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;

use rdp_pcap::fuzzing::synth;
use rdp_pcap::kit::Conversation;
use rdp_wire::Side;
use serde_json::Value;

/// `body` as one TLS record of `content_type`, record version TLS 1.0.
fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 0x03, 0x01];
    out.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A ServerHello choosing TLS 1.0 and TLS_RSA_WITH_3DES_EDE_CBC_SHA (0x000a, one of the suites
/// the ClientHello offers), no session id, no extensions (RFC 2246 7.4.1.3).
fn server_hello_tls10() -> Vec<u8> {
    let mut body = vec![0x03, 0x01];
    body.extend_from_slice(&[0x33; 32]);
    body.extend_from_slice(&[0x00, 0x00, 0x0a, 0x00]);
    let mut msg = vec![0x02, 0x00, 0x00, u8::try_from(body.len()).unwrap()];
    msg.extend_from_slice(&body);
    record(0x16, &msg)
}

/// An RDP connection from client port `port` that selects TLS, up to the server's TLS 1.0
/// ServerHello.
fn until_tls10_server_hello(port: u16) -> Conversation {
    let mut c = Conversation::new(
        format!("10.0.0.2:{port}").parse().unwrap(),
        "10.0.0.1:3389".parse().unwrap(),
    );
    c.handshake()
        .send(Side::Client, synth::CONNECTION_REQUEST)
        .send(Side::Server, synth::CONNECTION_CONFIRM_SSL)
        .send(
            Side::Client,
            &record(0x16, &synth::client_hello_with_suites(20)),
        )
        .send(Side::Server, &server_hello_tls10());
    c
}

/// An RDP connection that selects TLS; the server chooses TLS 1.0, and the client answers 2 ms
/// later with a fatal alert of `description`, then resets.
fn client_alert_after_tls10(description: u8) -> Vec<u8> {
    let mut c = until_tls10_server_hello(50000);
    c.wait(2_000_000)
        .send(Side::Client, &record(0x15, &[0x02, description]))
        .rst(Side::Client);
    c.into_packets().to_pcapng(None)
}

fn verdict_of(name: &str, capture: &[u8]) -> Value {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("verdict_rules");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, capture).unwrap();
    let run = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
    let conns = run.connections();
    assert_eq!(conns.len(), 1, "{name}: {conns:?}");
    conns[0]["verdict"].clone()
}

/// A client alert naming a certificate problem right after a ServerHello that chose an old
/// version is the client rejecting the certificate, not the version.
#[test]
fn a_certificate_alert_after_an_old_version_is_a_certificate_rejection() {
    // bad_certificate (42), unknown_ca (48), certificate_expired (45), access_denied (49).
    for description in [42, 48, 45, 49] {
        let verdict = verdict_of(
            &format!("cert-alert-{description}.pcapng"),
            &client_alert_after_tls10(description),
        );
        assert_eq!(
            verdict["code"], "tls-handshake-failed",
            "{description}: {verdict}"
        );
        let summary = verdict["summary"].as_str().unwrap();
        assert!(
            summary.contains("rejected the server's certificate"),
            "{description}: {summary}"
        );
    }
}

/// The refusal of an old version the rule was made for still is one: a client's fatal
/// handshake_failure or insufficient_security within a second of a TLS 1.0 ServerHello.
#[test]
fn a_handshake_failure_after_an_old_version_is_a_version_refusal() {
    // handshake_failure (40), insufficient_security (71).
    for description in [40, 71] {
        let verdict = verdict_of(
            &format!("version-alert-{description}.pcapng"),
            &client_alert_after_tls10(description),
        );
        assert_eq!(
            verdict["code"], "tls-version-rejected",
            "{description}: {verdict}"
        );
        let summary = verdict["summary"].as_str().unwrap();
        assert!(
            summary.contains("refuses that version"),
            "{description}: {summary}"
        );
    }
}

/// An NLA logon that fails inside CredSSP failed during authentication: the summary says so and
/// no longer adds "session ended right after authentication", which described a session that
/// never began.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn a_failed_nla_logon_is_described_as_failing_during_authentication() {
    let path = common::corpus_dir().join("lab/nla-wrong-password.pcap");
    let run = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
    let conns = run.connections();
    let failed: Vec<&Value> = conns
        .iter()
        .filter(|c| c["verdict"]["code"] == "auth-failed")
        .collect();
    assert!(!failed.is_empty(), "{conns:?}");
    for c in failed {
        let summary = c["verdict"]["summary"].as_str().unwrap();
        assert!(
            summary.contains("did not get past authentication"),
            "{summary}"
        );
        assert!(!summary.contains("after authentication"), "{summary}");
    }
}

/// A server that takes a session without NLA does not require it, even when the client did not
/// offer NLA: `nla-not-enforced` names it (a server that requires NLA refuses such a request
/// with HYBRID_REQUIRED_BY_SERVER).
#[test]
fn a_session_accepted_without_nla_shows_the_server_does_not_require_it() {
    let path = common::samples_dir().join("tls12-ok.pcap");
    let run = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
    let conns = run.connections();
    assert!(!conns.is_empty());
    for c in &conns {
        assert_eq!(c["verdict"]["code"], "established", "{c}");
        let findings = c["findings"].as_array().unwrap();
        let nla = findings
            .iter()
            .find(|f| f["code"] == "nla-not-enforced")
            .unwrap_or_else(|| panic!("{findings:?}"));
        let summary = nla["summary"].as_str().unwrap();
        assert!(summary.contains("did not offer NLA"), "{summary}");
    }
    // A client refused with HYBRID_REQUIRED_BY_SERVER met a server that does require NLA.
    let path = common::samples_dir().join("neg-failure-hybrid-required.pcap");
    let run = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
    for c in run.connections() {
        let findings = c["findings"].as_array().unwrap();
        assert!(
            findings.iter().all(|f| f["code"] != "nla-not-enforced"),
            "{findings:?}"
        );
    }
}

/// A capture whose clock steps 10 s back between the ServerHello and the client's fatal alert
/// (merged captures, a clock corrected mid-capture): the alert came after the ServerHello in
/// stream order, and that is its phase, in JSON and text; no time is negative.
#[test]
fn an_alert_after_a_clock_step_back_keeps_its_place_in_the_handshake() {
    let mut c = until_tls10_server_hello(50001);
    c.wait(-10_000_000_000)
        .send(Side::Client, &record(0x15, &[0x02, 42]))
        .rst(Side::Client);
    let capture = c.into_packets().to_pcapng(None);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("verdict_rules");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("clock-step-back.pcapng");
    std::fs::write(&path, &capture).unwrap();

    let run = common::rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
    let conns = run.connections();
    assert_eq!(conns.len(), 1, "{conns:?}");
    let alert = &conns[0]["tls"]["alerts"][0];
    assert_eq!(alert["phase"], "after-server-hello", "{alert}");
    assert!(alert["at_ms"].as_f64().unwrap() >= 0.0, "{alert}");
    assert_eq!(
        conns[0]["verdict"]["code"], "tls-handshake-failed",
        "{}",
        conns[0]
    );
    assert!(!run.stdout.contains(":-"), "{}", run.stdout);

    let text = common::rdp_pcap(&["--timeline", path.to_str().unwrap()]).stdout;
    assert!(text.contains("(after server hello)"), "{text}");
    assert!(!text.contains("before client hello"), "{text}");
    let negative = text
        .split(" -")
        .skip(1)
        .any(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    assert!(!negative, "{text}");
}

/// A server that closes after the Connection Request, in a capture whose clock steps back
/// between the two: the close came after the request in stream order, so the summary does not
/// say "before the request arrived".
#[test]
fn a_close_after_a_clock_step_back_is_not_before_the_request() {
    let mut c = Conversation::new(
        "10.0.0.2:50002".parse().unwrap(),
        "10.0.0.1:3389".parse().unwrap(),
    );
    c.handshake()
        .send(Side::Client, synth::CONNECTION_REQUEST)
        .wait(-5_000_000_000)
        .fin(Side::Server)
        .fin(Side::Client);
    let verdict = verdict_of("close-step-back.pcapng", &c.into_packets().to_pcapng(None));
    assert_eq!(verdict["code"], "no-negotiation-response", "{verdict}");
    let summary = verdict["summary"].as_str().unwrap();
    assert!(summary.contains("after the request"), "{summary}");
    assert!(!summary.contains("before"), "{summary}");
}
