//! Verdicts on the public captures of `../shared/corpus/public`, each defended by what
//! `INDEX.md` says the capture contains (read there with tshark).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use serde_json::Value;

fn connections(relative: &str, extra: &[&str]) -> Option<(common::Run, Vec<Value>)> {
    let corpus = common::corpus()?;
    let path = corpus.join("public").join(relative);
    let mut args: Vec<String> = vec!["--format".into(), "jsonl".into()];
    args.extend(extra.iter().map(|a| (*a).to_string()));
    args.push(path.display().to_string());
    let run = common::rdp_pcap(&args);
    let conns = run.connections();
    Some((run, conns))
}

fn verdicts(conns: &[Value]) -> Vec<&str> {
    conns
        .iter()
        .map(|c| c["verdict"]["code"].as_str().unwrap())
        .collect()
}

fn has_finding(conn: &Value, code: &str) -> bool {
    conn["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == code)
}

/// A port scan: one SYN to 3389 answered by RST/ACK.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn ndpi_tcp_scan_is_a_refused_connection() {
    let Some((run, conns)) = connections("nDPI/tcp_scan.pcapng", &[]) else {
        return;
    };
    assert_eq!(run.status, 0);
    assert_eq!(verdicts(&conns), ["tcp-refused"]);
    assert_eq!(conns[0]["server"], "192.168.1.2:3389");
}

/// req 0x01 (SSL only) answered by NEG_FAILURE 5, then the client resets.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn wireshark_no_nla_rejected() {
    let Some((_, conns)) = connections("wireshark-rdp/rdp-no-nla-rejected1.pcapng", &[]) else {
        return;
    };
    assert_eq!(verdicts(&conns), ["negotiation-failure"]);
    assert_eq!(
        conns[0]["x224"]["failure_code"],
        "HYBRID_REQUIRED_BY_SERVER"
    );
}

/// NEG_FAILURE 2 (SSL_NOT_ALLOWED_BY_SERVER), then a retry with PROTOCOL_RDP: a full
/// Standard RDP Security session (128-bit RC4, client compatible).
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn wireshark_no_tls_accepted() {
    let Some((_, conns)) = connections("wireshark-rdp/rdp-no-tls-accepted1.pcapng", &[]) else {
        return;
    };
    assert_eq!(verdicts(&conns), ["negotiation-failure", "established"]);
    assert_eq!(
        conns[0]["x224"]["failure_code"],
        "SSL_NOT_ALLOWED_BY_SERVER"
    );
    assert!(has_finding(&conns[1], "standard-rdp-security"));
    assert_eq!(conns[1]["standard_security"]["encryption_method"], "128BIT");
    assert_eq!(
        conns[1]["standard_security"]["encryption_level"],
        "CLIENT_COMPATIBLE"
    );
    assert_eq!(conns[1]["mcs"]["client"]["client_name"], "IT-HELP-CLIENT");
    assert_eq!(conns[1]["mcs"]["client"]["client_build"], 22621);
}

/// NLA inside TLS 1.2: the server's TSRequest carries an error and the client resets; the
/// retry with SSL only gets NEG_FAILURE 5.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn wireshark_nla_ntlm_rejected() {
    let Some((_, conns)) = connections("wireshark-rdp/rdp-nla-ntlm-rejected1.pcapng", &[]) else {
        return;
    };
    assert_eq!(verdicts(&conns), ["auth-failed", "negotiation-failure"]);
    assert_eq!(conns[0]["x224"]["selected_protocol"], "HYBRID_EX");
    assert_eq!(conns[0]["tls"]["version"], "TLS1.2");
    assert_eq!(
        conns[0]["tls"]["cipher_suite"],
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    );
}

/// Successful sessions: NLA with Kerberos, TLS without NLA, two SharpRDP sessions.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn public_sessions_are_established() {
    for (capture, n) in [
        ("wireshark-rdp/rdp-nla-kerberos-auth1.pcapng", 1),
        ("wireshark-rdp/rdp-no-nla-accepted1.pcapng", 1),
        ("PCAP-ATTACK/LM_rdp_sharprdp.pcapng", 2),
    ] {
        let Some((run, conns)) = connections(capture, &[]) else {
            return;
        };
        assert_eq!(run.status, 0, "{capture}");
        assert_eq!(verdicts(&conns), vec!["established"; n], "{capture}");
    }
}

/// The 2017 session: TLS 1.0 with RSA key exchange; the file itself is cut short.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn intro_traffic_analysis_tls10_session() {
    let Some((run, conns)) = connections("Intro_Traffic_Analysis/rdp.pcap", &[]) else {
        return;
    };
    assert_eq!(run.status, 2, "the capture is cut short: {}", run.stderr);
    assert!(run.stderr.contains("capture cut short"), "{}", run.stderr);
    assert_eq!(verdicts(&conns), ["established"]);
    let c = &conns[0];
    assert_eq!(c["x224"]["cookie"], "IEUser");
    assert_eq!(c["tls"]["version"], "TLS1.0");
    assert_eq!(c["tls"]["cipher_suite"], "TLS_RSA_WITH_AES_128_CBC_SHA");
    assert_eq!(
        c["tls"]["client_cipher_suites"].as_array().unwrap().len(),
        4
    );
    assert!(has_finding(c, "tls-legacy-version"));
    assert!(
        has_finding(c, "tls-weak-cipher"),
        "RSA key exchange: no forward secrecy"
    );
}

/// Legacy client: cookie without RDP_NEG_REQ, confirm without RDP_NEG_RSP, Standard RDP
/// Security (128-bit RC4, client compatible), client SEPTU build 2600.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn ndpi_rdp3_legacy_standard_security() {
    let Some((_, conns)) = connections("nDPI/rdp3.pcap", &[]) else {
        return;
    };
    assert_eq!(conns.len(), 1);
    let c = &conns[0];
    assert_eq!(c["x224"]["cookie"], "Administr");
    assert_eq!(c["x224"]["requested_protocols"], Value::Null);
    assert_eq!(c["x224"]["confirm"], "legacy");
    assert!(has_finding(c, "standard-rdp-security"));
    assert_eq!(c["mcs"]["client"]["client_name"], "SEPTU");
    assert_eq!(c["mcs"]["client"]["client_build"], 2600);
    assert_eq!(c["standard_security"]["encryption_method"], "128BIT");
    assert_eq!(c["anomalies"], serde_json::json!([]));
}

/// NLA negotiation to HYBRID_EX and a TLS 1.2 handshake (suite 0xc030), the rest encrypted
/// and the capture short: nothing more can be concluded.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn ndpi_rdp_hybrid_ex_negotiation() {
    let Some((_, conns)) = connections("nDPI/rdp.pcap", &[]) else {
        return;
    };
    assert_eq!(conns.len(), 1);
    let c = &conns[0];
    assert_eq!(
        c["x224"]["requested_protocols"],
        serde_json::json!(["SSL", "HYBRID", "HYBRID_EX"])
    );
    assert_eq!(c["x224"]["selected_protocol"], "HYBRID_EX");
    assert_eq!(
        c["tls"]["cipher_suite"],
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    );
    assert_eq!(
        c["tls"]["client_cipher_suites"].as_array().unwrap().len(),
        22
    );
}

/// A decrypted FreeRDP recording: SSL selected but no TLS records; MCS, Client Info and
/// licensing in clear.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn freerdp_decrypted_recording() {
    let Some((_, conns)) = connections("FreeRDP-pcap/sample.pcap", &[]) else {
        return;
    };
    assert_eq!(verdicts(&conns), ["established"]);
    let c = &conns[0];
    assert_eq!(c["x224"]["cookie"], "Administrator");
    assert_eq!(c["mcs"]["client_info"]["user_name"], "Administrator");
    assert_eq!(c["mcs"]["licensing"]["error_code"], "STATUS_VALID_CLIENT");
}

/// The boofuzz load test: 1225 SYNs to 3389, 300 negotiations selecting PROTOCOL_RDP, most
/// ended by a server reset; the capture stops at 10 000 packets.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn boofuzz_fuzzing_run() {
    let Some((run, conns)) = connections("boofuzz_nova/rdp.pcap", &[]) else {
        return;
    };
    assert_eq!(run.status, 0);
    assert_eq!(conns.len(), 1225);
    let negotiated = conns
        .iter()
        .filter(|c| c["x224"]["confirm"] == "RDP_NEG_RSP")
        .count();
    assert!(negotiated >= 300, "{negotiated}");
    let server_resets = conns
        .iter()
        .filter(|c| c["end"]["by"] == "server" && c["end"]["how"] == "rst")
        .count();
    assert!(server_resets > conns.len() / 2, "{server_resets}");
}

/// RD Gateway over HTTPS on 443: HTTP inside TLS, not TPKT: nothing to report.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn rd_gateway_is_not_reported() {
    let Some((run, conns)) = connections(
        "wireshark-rdp/rdp-rdg-no-kdc-proxy-ntlm-downgrade-failure.pcapng",
        &[],
    ) else {
        return;
    };
    assert_eq!(run.status, 0);
    assert!(conns.is_empty());
    // Asked for with --port 443, each connection is HTTPS as an RD Gateway speaks: marked as
    // such (the ClientHello names the gateway, it-help-gw), judged on its TLS alone, never
    // claimed as an RDP session nor as not RDP.
    let (_, conns) = connections(
        "wireshark-rdp/rdp-rdg-no-kdc-proxy-ntlm-downgrade-failure.pcapng",
        &["--port", "443"],
    )
    .unwrap();
    assert!(!conns.is_empty());
    for c in &conns {
        assert_eq!(c["via"]["kind"], "rd-gateway", "{c}");
        assert_eq!(c["via"]["basis"], "port 443", "{c}");
        assert_eq!(c["verdict"]["code"], "incomplete", "{c}");
    }
}

/// TLS version captures on 443, analysed with `--port 443`: SSL 3.0 (not RDP, so without
/// findings), a server choosing TLS 1.0
/// against a TLS 1.2 client, and a plaintext protocol_version alert; then a connection picked
/// up after its handshake whose lone 31-byte alert record is encrypted, not 13 alerts.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn tls_version_captures_on_443() {
    let Some((_, conns)) = connections("arkime/openssl-ssl3.pcap", &["--port", "443"]) else {
        return;
    };
    assert_eq!(conns[0]["tls"]["version"], "SSL3.0");
    // TLS without an X.224 exchange is not RDP: the TLS facts are reported, but no RDP
    // security finding is made of a server that may not be an RDP server at all. On 443 it is
    // HTTPS as an RD Gateway speaks (issue 14): `incomplete` with `via` rd-gateway.
    assert_eq!(conns[0]["verdict"]["code"], "incomplete");
    assert_eq!(conns[0]["via"]["kind"], "rd-gateway");
    assert!(!has_finding(&conns[0], "tls-legacy-version"));
    assert_eq!(conns[0]["findings"], serde_json::json!([]));

    let (_, conns) = connections("arkime/openssl-tls1_2-tls1.pcap", &["--port", "443"]).unwrap();
    assert_eq!(
        conns[0]["tls"]["client_versions"],
        serde_json::json!(["TLS1.2"])
    );
    assert_eq!(conns[0]["tls"]["version"], "TLS1.0");

    let (_, conns) = connections("nDPI/tls_alert.pcap", &["--port", "443"]).unwrap();
    assert_eq!(conns.len(), 2);
    let alert = &conns[0]["tls"]["alerts"][0];
    assert_eq!(alert["from"], "server");
    assert_eq!(alert["level"], "fatal");
    assert_eq!(alert["description"], "protocol_version");
    let alerts = conns[1]["tls"]["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["encrypted"], true);
}
