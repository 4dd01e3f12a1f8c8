//! MCS, GCC and Standard RDP Security parsers against the shared capture corpus, compared with
//! what Zeek, Suricata and tshark report for the same captures.
//!
//! The corpus is read from `../shared/corpus` (never copied). When it is missing the tests skip
//! with a note, unless `CI=true`, where they fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rdp_wire::gcc::{
    parse_client_data, parse_conference_create_request, parse_conference_create_response,
    parse_server_data, CertChainVersion, ClientSettings, ClusterFlags, EarlyCapabilityFlags,
    ServerSettings,
};
use rdp_wire::mcs::{parse_connect_pdu, parse_domain_pdu, ConnectPdu, DomainPdu, McsResult};
use rdp_wire::names::{EncryptionLevel, EncryptionMethods};
use rdp_wire::rdp::{parse_security_pdu, parse_share_pdu, SecurityPayload};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus")).to_path_buf();
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("corpus folder {} is missing", dir.display());
    }
    eprintln!("note: {} is missing; skipping corpus test", dir.display());
    None
}

/// One X.224 Data TPDU payload (after TPKT + `02 f0 80`), with the sender's TCP port and the
/// server port.
#[derive(Debug)]
struct Tpdu {
    from_client: bool,
    stream: (u16, u16),
    data: Vec<u8>,
}

/// The raw link-layer frames of a pcap or pcapng file (those before any damage).
fn frames(path: &Path) -> Vec<Vec<u8>> {
    let (contents, _) = rdp_pcap::kit::read_lenient(&std::fs::read(path).unwrap());
    contents.frames.into_iter().map(|f| f.data).collect()
}

/// X.224 Data payloads of every TPKT on TCP port `server_port`, in capture order, with a
/// minimal per-direction reassembly that drops data it cannot frame (TLS, fast-path).
fn tpdus(path: &Path, server_port: u16) -> Vec<Tpdu> {
    let mut buffers: HashMap<(u16, u16), Vec<u8>> = HashMap::new();
    let mut out = Vec::new();
    for frame in frames(path) {
        let Ok(p) = etherparse::SlicedPacket::from_ethernet(&frame) else {
            continue;
        };
        let Some(etherparse::TransportSlice::Tcp(tcp)) = p.transport else {
            continue;
        };
        let (src, dst) = (tcp.source_port(), tcp.destination_port());
        if src != server_port && dst != server_port {
            continue;
        }
        let payload = tcp.payload();
        if payload.is_empty() {
            continue;
        }
        let key = (src, dst);
        let buf = buffers.entry(key).or_default();
        if buf.is_empty() && !payload.starts_with(&[3, 0]) {
            continue;
        }
        buf.extend_from_slice(payload);
        while buf.len() >= 4 {
            if !buf.starts_with(&[3, 0]) {
                buf.clear();
                break;
            }
            let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
            if len < 4 {
                buf.clear();
                break;
            }
            if buf.len() < len {
                break;
            }
            let tpkt: Vec<u8> = buf.drain(..len).collect();
            if tpkt.len() >= 7 && tpkt[5] == 0xf0 {
                out.push(Tpdu {
                    from_client: dst == server_port,
                    stream: key,
                    data: tpkt[7..].to_vec(),
                });
            }
        }
    }
    out
}

/// Client settings, server settings and MCS result of the first Connect-Initial/Response
/// pair on the stream whose client port is `client_port` (any when `None`).
fn settings(path: &Path, client_port: Option<u16>) -> (ClientSettings, ServerSettings, McsResult) {
    let mut client = None;
    let mut server = None;
    for t in tpdus(path, 3389) {
        let port = if t.from_client {
            t.stream.0
        } else {
            t.stream.1
        };
        if client_port.is_some_and(|p| p != port) {
            continue;
        }
        match parse_connect_pdu(&t.data) {
            Ok(ConnectPdu::Initial(ci)) if client.is_none() => {
                let req = parse_conference_create_request(ci.user_data).unwrap();
                let data = parse_client_data(req.user_data).unwrap();
                client = ClientSettings::from_client_data(&data);
            }
            Ok(ConnectPdu::Response(cr)) if server.is_none() => {
                let rsp = parse_conference_create_response(cr.user_data).unwrap();
                let data = parse_server_data(rsp.user_data).unwrap();
                server = Some((ServerSettings::from_server_data(&data), cr.result));
            }
            _ => {}
        }
    }
    let (server, result) = server.expect("no connect-response");
    (client.expect("no connect-initial"), server, result)
}

fn names(c: &ClientSettings) -> Vec<&str> {
    c.channels.iter().map(|c| c.name.as_str()).collect()
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn zeek_rdp_proprietary_encryption() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("zeek/rdp-proprietary-encryption/rdp-proprietary-encryption.pcap");
    // rdp.log conn2: FROG-POND, RDP 6.0 (build 6000), English - United States, 1152x864, 32bit,
    // RSA 1 T, High, 128bit; channels rdpdr,rdpsnd,drdynvc,cliprdr.
    let (c, s, result) = settings(&path, Some(1312));
    assert_eq!(result, McsResult::SUCCESSFUL);
    assert_eq!(c.client_name, "FROG-POND");
    assert_eq!(
        (c.client_build, c.client_build_name),
        (6000, Some("Windows Vista"))
    );
    assert_eq!(c.keyboard_layout, 1033);
    assert_eq!(c.keyboard_layout_name, Some("English (United States)"));
    assert_eq!(
        (c.desktop_width, c.desktop_height, c.color_depth),
        (1152, 864, Some(32))
    );
    assert_eq!(c.version.0, 0x0008_0004);
    assert_eq!(names(&c), ["rdpdr", "rdpsnd", "drdynvc", "cliprdr"]);
    let opts: Vec<u32> = c.channels.iter().map(|c| c.options.0).collect();
    assert_eq!(opts, [0x8080_0000, 0xc000_0000, 0xc080_0000, 0xc0a0_0000]);
    // rdp-client-security-data.out: encryption_methods=27 (40, 128, 56 bit and FIPS).
    assert_eq!(c.encryption_methods, Some(EncryptionMethods(27)));
    // rdp-client-cluster-data.out prints Flags 0x0d but derives "Redirection Supported: 0" from
    // RedirectedSessionID (a Zeek bug). Per MS-RDPBCGR 2.2.1.3.5 bit 0x01 of Flags is
    // REDIRECTION_SUPPORTED, and bits 2..5 give the version (3 = REDIRECTION_VERSION4).
    let flags = c.cluster_flags.unwrap();
    assert_eq!(flags.0, 0x0d);
    assert!(flags.contains(ClusterFlags::REDIRECTION_SUPPORTED));
    assert_eq!(flags.redirection_version(), 3);
    assert_eq!(s.encryption_method, Some(EncryptionMethods::BIT128));
    assert_eq!(s.encryption_level, Some(EncryptionLevel::HIGH));
    let cert = s.certificate.unwrap();
    assert_eq!(
        (cert.kind, cert.count, cert.permanent),
        (CertChainVersion::PROPRIETARY, 1, true)
    );
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn zeek_rdp_x509() {
    let Some(dir) = corpus() else { return };
    // rdp.log: JOHN-PC-LAPTOP, RDP 8.1 (build 9600), 1920x1080 16bit,
    // dig product id 3c571ed0-3415-474b-ae94-74e151b, X.509 2 F, Client compatible, 128bit.
    let (c, s, result) = settings(&dir.join("zeek/rdp-x509/rdp-x509.pcap"), None);
    assert_eq!(result, McsResult::SUCCESSFUL);
    assert_eq!(c.client_name, "JOHN-PC-LAPTOP");
    assert_eq!(
        (c.client_build, c.client_build_name),
        (9600, Some("Windows 8.1"))
    );
    assert_eq!(
        (c.desktop_width, c.desktop_height, c.color_depth),
        (1920, 1080, Some(16))
    );
    assert_eq!(
        c.client_dig_product_id.as_deref(),
        Some("3c571ed0-3415-474b-ae94-74e151b")
    );
    assert_eq!(c.keyboard_layout_name, Some("English (United States)"));
    assert_eq!(names(&c), ["rdpdr", "rdpsnd", "cliprdr", "drdynvc"]);
    assert_eq!(s.encryption_method, Some(EncryptionMethods::BIT128));
    assert_eq!(s.encryption_level, Some(EncryptionLevel::CLIENT_COMPATIBLE));
    assert_eq!(s.server_random_len, Some(32));
    let cert = s.certificate.unwrap();
    assert_eq!(
        (cert.kind, cert.count, cert.permanent),
        (CertChainVersion::X509, 2, false)
    );
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn zeek_rdp_unknown_keyboard() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("zeek/rdp-unknown-keyboard/rdp-unknown-keyboard.pcap");
    let t = tpdus(&path, 3389)
        .into_iter()
        .find(|t| t.data.starts_with(&[0x7f, 0x65]))
        .unwrap();
    let Ok(ConnectPdu::Initial(ci)) = parse_connect_pdu(&t.data) else {
        panic!()
    };
    let data = parse_client_data(
        parse_conference_create_request(ci.user_data)
            .unwrap()
            .user_data,
    )
    .unwrap();
    let c = ClientSettings::from_client_data(&data).unwrap();
    // Zeek: "Thai (Best Guess for 263198)": 0x0004041E is no known layout, its language is Thai.
    assert_eq!(c.keyboard_layout, 263_198);
    assert_eq!(
        rdp_wire::names::keyboard_layout_name(c.keyboard_layout),
        None
    );
    assert_eq!(c.keyboard_layout_name, Some("Thai"));
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn zeek_rdp_invalid_length_is_an_error_not_a_panic() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("zeek/rdp-invalid-length/rdp-invalid-length.pcap");
    let mut seen = 0;
    for frame in frames(&path) {
        let Ok(p) = etherparse::SlicedPacket::from_ethernet(&frame) else {
            continue;
        };
        let Some(etherparse::TransportSlice::Tcp(tcp)) = p.transport else {
            continue;
        };
        let payload = tcp.payload();
        if payload.is_empty() {
            continue;
        }
        seen += 1;
        // Neither "ECODH..." nor the Connection Confirm is an MCS PDU.
        assert!(parse_connect_pdu(payload).is_err());
        let _ = parse_domain_pdu(payload);
        let _ = parse_security_pdu(payload, false);
    }
    assert!(seen >= 2);
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn suricata_rdp_003() {
    let Some(dir) = corpus() else { return };
    // test.yaml: client version v5, build "Windows XP", desktop_height 864, client_name
    // ISD2-KM84178, capabilities[0] support_errinfo_pdu, channels rdpdr, cliprdr, rdpsnd.
    let (c, s, _) = settings(&dir.join("suricata/rdp-protocol/RDP-003.pcap"), None);
    assert_eq!(c.version.to_string(), "RDP 5.0+");
    assert_eq!(c.client_build_name, Some("Windows XP"));
    assert_eq!(c.desktop_height, 864);
    assert_eq!(c.client_name, "ISD2-KM84178");
    assert!(c
        .early_capability_flags
        .unwrap()
        .contains(EarlyCapabilityFlags::SUPPORT_ERRINFO_PDU));
    assert_eq!(
        c.client_dig_product_id.as_deref(),
        Some("55274-OEM-0011903-00107")
    );
    assert_eq!(names(&c), ["rdpdr", "cliprdr", "rdpsnd"]);
    // tshark: ServerData Encryption: 56-bit RC4 (Client Compatible).
    assert_eq!(s.encryption_method, Some(EncryptionMethods::BIT56));
    assert_eq!(s.encryption_level, Some(EncryptionLevel::CLIENT_COMPATIBLE));
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn ndpi_rdp3() {
    let Some(dir) = corpus() else { return };
    // INDEX.md / tshark: build 2600, version 4.8, name SEPTU, 128-bit RC4 Client Compatible.
    let (c, s, _) = settings(&dir.join("public/nDPI/rdp3.pcap"), None);
    assert_eq!(
        (c.client_build, c.version.0, c.client_name.as_str()),
        (2600, 0x0008_0004, "SEPTU")
    );
    assert_eq!(s.encryption_method, Some(EncryptionMethods::BIT128));
    assert_eq!(s.encryption_level, Some(EncryptionLevel::CLIENT_COMPATIBLE));
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn wireshark_rdp_no_tls_accepted() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("public/wireshark-rdp/rdp-no-tls-accepted1.pcapng");
    // INDEX.md / tshark: build 22621, version 16.8 (0x00080010), IT-HELP-CLIENT, 128-bit RC4
    // Client Compatible, disconnectProviderUltimatum at the end.
    let (c, s, _) = settings(&path, None);
    assert_eq!(c.client_build_name, Some("Windows 11 22H2"));
    assert_eq!(c.version.to_string(), "RDP 10.11");
    assert_eq!(c.client_name, "IT-HELP-CLIENT");
    assert_eq!(s.encryption_method, Some(EncryptionMethods::BIT128));
    assert_eq!(s.encryption_level, Some(EncryptionLevel::CLIENT_COMPATIBLE));
    let ultimatum = tpdus(&path, 3389)
        .iter()
        .filter_map(|t| match parse_domain_pdu(&t.data) {
            Ok(DomainPdu::DisconnectProviderUltimatum(d)) => Some(d.reason.to_string()),
            _ => None,
        })
        .next();
    assert!(ultimatum.is_some());
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn lab_standard_security() {
    let Some(dir) = corpus() else { return };
    // expect.json: encryption_method 128BIT / encryption_level HIGH; SCENARIOS: RSA-2048.
    let (_, s, _) = settings(&dir.join("lab/rdp-standard-security.pcap"), None);
    assert_eq!(
        s.encryption_method.map(|m| m.to_string()).as_deref(),
        Some("128BIT")
    );
    assert_eq!(
        s.encryption_level.map(|m| m.to_string()).as_deref(),
        Some("HIGH")
    );
    assert_eq!(s.certificate.and_then(|c| c.key_bits), Some(2048));
    // expect.json: FIPS / FIPS.
    let (_, s, _) = settings(&dir.join("lab/rdp-standard-security-fips.pcap"), None);
    assert_eq!(
        s.encryption_method.map(|m| m.to_string()).as_deref(),
        Some("FIPS")
    );
    assert_eq!(
        s.encryption_level.map(|m| m.to_string()).as_deref(),
        Some("FIPS")
    );
    // SCENARIOS: server:MCS-DisconnectProviderUltimatum(rn-user-requested).
    let path = dir.join("lab/rdp-security-mac-error.pcap");
    let reasons: Vec<String> = tpdus(&path, 3389)
        .iter()
        .filter(|t| !t.from_client)
        .filter_map(|t| match parse_domain_pdu(&t.data) {
            Ok(DomainPdu::DisconnectProviderUltimatum(d)) => Some(d.reason.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, ["rn-user-requested"]);
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn freerdp_sample_clear_text_pdus() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("public/FreeRDP-pcap/sample.pcap");
    let mut info = None;
    let mut license = None;
    let mut error_info = None;
    let mut encryption = None;
    for t in tpdus(&path, 3389) {
        if let Ok(ConnectPdu::Response(cr)) = parse_connect_pdu(&t.data) {
            let rsp = parse_conference_create_response(cr.user_data).unwrap();
            let s = ServerSettings::from_server_data(&parse_server_data(rsp.user_data).unwrap());
            encryption = Some((s.encryption_method, s.encryption_level));
        }
        let sd = match parse_domain_pdu(&t.data) {
            Ok(DomainPdu::SendDataRequest(s) | DomainPdu::SendDataIndication(s)) => s,
            _ => continue,
        };
        if let Ok(pdu) = parse_security_pdu(sd.user_data, false) {
            match pdu.payload {
                SecurityPayload::ClientInfo(i) if info.is_none() => info = Some(i),
                SecurityPayload::License(l) if license.is_none() => {
                    license = l.error.map(|e| e.error_code.to_string())
                }
                _ => {}
            }
        }
        if let Ok(share) = parse_share_pdu(sd.user_data) {
            if let Some(e) = share.error_info {
                error_info.get_or_insert(e.to_string());
            }
        }
    }
    // tshark: ServerData Encryption: None (None); Error Alert; ClientInfo with SEC_INFO_PKT.
    assert_eq!(
        encryption,
        Some((Some(EncryptionMethods(0)), Some(EncryptionLevel::NONE)))
    );
    let info = info.expect("client info");
    // Cookie mstshash=Administrator; INFO_UNICODE|INFO_AUTOLOGON (the password is never exposed).
    assert_eq!(
        (info.domain.as_str(), info.user_name.as_str()),
        ("", "Administrator")
    );
    assert!(info
        .flags
        .contains(rdp_wire::rdp::InfoFlags::INFO_AUTOLOGON));
    assert_eq!(license.as_deref(), Some("STATUS_VALID_CLIENT"));
    assert_eq!(error_info.as_deref(), Some("ERRINFO_NONE"));
}

/// Every TPKT payload of every capture in the corpus goes through every parser of this
/// module without a panic (the boofuzz capture holds 300 fuzzed streams).
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn whole_corpus_never_panics() {
    let Some(dir) = corpus() else { return };
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                files.push(p);
            }
        }
    }
    let mut parsed = 0usize;
    for f in files {
        for port in [3389u16, 3390, 13389] {
            for t in tpdus(&f, port) {
                if let Ok(ConnectPdu::Initial(ci)) = parse_connect_pdu(&t.data) {
                    if let Ok(req) = parse_conference_create_request(ci.user_data) {
                        let _ = parse_client_data(req.user_data)
                            .map(|d| ClientSettings::from_client_data(&d));
                    }
                } else if let Ok(ConnectPdu::Response(cr)) = parse_connect_pdu(&t.data) {
                    if let Ok(rsp) = parse_conference_create_response(cr.user_data) {
                        let _ = parse_server_data(rsp.user_data)
                            .map(|d| ServerSettings::from_server_data(&d));
                    }
                }
                if let Ok(DomainPdu::SendDataRequest(s) | DomainPdu::SendDataIndication(s)) =
                    parse_domain_pdu(&t.data)
                {
                    let _ = parse_security_pdu(s.user_data, false);
                    let _ = parse_security_pdu(s.user_data, true);
                    let _ = parse_share_pdu(s.user_data);
                }
                parsed += 1;
            }
        }
    }
    assert!(parsed > 100, "{parsed}");
}
