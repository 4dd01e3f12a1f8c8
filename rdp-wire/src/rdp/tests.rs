#![allow(
    clippy::arithmetic_side_effects,
    clippy::as_conversions,
    clippy::cast_possible_truncation
)]

use super::*;
use crate::mcs::{parse_domain_pdu, DomainPdu};
use crate::testdata::*;
use proptest::prelude::*;

fn user_data(frame: &[&str]) -> Vec<u8> {
    match parse_domain_pdu(&hex(frame)).unwrap() {
        DomainPdu::SendDataRequest(s) | DomainPdu::SendDataIndication(s) => s.user_data.to_vec(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn security_exchange() {
    let ud = user_data(STD_SECURITY_EXCHANGE);
    let pdu = parse_security_pdu(&ud, false).unwrap();
    assert_eq!(pdu.header.flags, SecurityFlags::SEC_EXCHANGE_PKT);
    let SecurityPayload::SecurityExchange(x) = pdu.payload else {
        panic!()
    };
    // RSA-2048 modulus (256 bytes) + 8 bytes of padding.
    assert_eq!((x.length, x.encrypted_client_random.len()), (264, 264));
    let mut bad = ud.clone();
    bad[4..8].copy_from_slice(&0x1000u32.to_le_bytes());
    assert!(matches!(
        parse_security_pdu(&bad, false),
        Err(Error::InvalidLength { .. })
    ));
    assert!(matches!(
        parse_security_pdu(&ud[..6], false),
        Err(Error::Truncated { .. })
    ));
}

#[test]
fn encrypted_client_info() {
    let ud = user_data(STD_CLIENT_INFO_ENCRYPTED);
    let pdu = parse_security_pdu(&ud, false).unwrap();
    assert_eq!(pdu.header.flags.to_string(), "SEC_ENCRYPT|SEC_INFO_PKT");
    assert_eq!(pdu.header.data_signature.map(<[u8]>::len), Some(8));
    assert!(matches!(pdu.payload, SecurityPayload::Encrypted(b) if b.len() == ud.len() - 12));
    let ud = user_data(FIPS_CLIENT_INFO_ENCRYPTED);
    let pdu = parse_security_pdu(&ud, true).unwrap();
    assert_eq!(
        pdu.header.fips,
        Some(FipsHeader {
            length: 0x10,
            version: 1,
            pad_len: 2
        })
    );
    assert!(pdu
        .header
        .flags
        .contains(SecurityFlags::SEC_SECURE_CHECKSUM));
    assert!(matches!(
        parse_security_pdu(&ud[..10], true),
        Err(Error::Truncated { .. })
    ));
}

#[test]
fn license_error_alert() {
    let ud = user_data(STD_LICENSE_ERROR);
    let pdu = parse_security_pdu(&ud, false).unwrap();
    assert!(pdu.header.flags.contains(SecurityFlags::SEC_LICENSE_PKT));
    let SecurityPayload::License(l) = pdu.payload else {
        panic!()
    };
    assert_eq!(l.msg_type.to_string(), "ERROR_ALERT");
    let e = l.error.unwrap();
    assert_eq!(e.error_code.to_string(), "STATUS_VALID_CLIENT");
    assert_eq!(e.state_transition.to_string(), "ST_NO_TRANSITION");
    let mut bad = ud.clone();
    bad[6] = 0x02; // wMsgSize 2 < preamble
    assert!(matches!(
        parse_security_pdu(&bad, false),
        Err(Error::InvalidLength { .. })
    ));
    bad[6] = 0xff; // past the end
    assert!(matches!(
        parse_security_pdu(&bad, false),
        Err(Error::InvalidLength { .. })
    ));
    assert!(matches!(
        parse_license_pdu(&[0xff, 0x03, 0x08, 0x00, 0, 0, 0, 0]),
        Err(Error::Truncated { .. })
    ));
}

/// A Client Info in clear, as sent inside TLS: domain "LAB", user "alice", password "S3cret!".
fn client_info_unicode() -> Vec<u8> {
    let utf16 = |s: &str| {
        s.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    let (d, u, p) = (utf16("LAB"), utf16("alice"), utf16("S3cret!"));
    let mut v = vec![0x40, 0x00, 0x00, 0x00]; // SEC_INFO_PKT
    v.extend_from_slice(&0x409u32.to_le_bytes());
    v.extend_from_slice(&0x0000_0133u32.to_le_bytes()); // MOUSE|DISABLECTRLALTDEL|UNICODE|MAXIMIZESHELL|ENABLEWINDOWSKEY
    for cb in [d.len(), u.len(), p.len(), 0, 0] {
        v.extend_from_slice(&(cb as u16).to_le_bytes());
    }
    for s in [d, u, p, vec![], vec![]] {
        v.extend_from_slice(&s);
        v.extend_from_slice(&[0, 0]);
    }
    v
}

#[test]
fn client_info_in_clear_hides_the_password() {
    let bytes = client_info_unicode();
    let pdu = parse_security_pdu(&bytes, false).unwrap();
    let SecurityPayload::ClientInfo(info) = &pdu.payload else {
        panic!()
    };
    assert_eq!(
        (info.domain.as_str(), info.user_name.as_str()),
        ("LAB", "alice")
    );
    assert_eq!(info.code_page, 0x409);
    assert!(info.flags.contains(InfoFlags::INFO_UNICODE));
    assert!(info.anomalies.is_empty());
    let debug = format!("{pdu:?}");
    assert!(
        !debug.contains("S3cret") && !debug.contains("S\\0"),
        "{debug}"
    );
    // ANSI strings.
    let mut ansi = vec![
        0x40, 0, 0, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 0, 0,
    ];
    ansi.extend_from_slice(b"D\0bob\0x\0\0\0");
    let SecurityPayload::ClientInfo(info) = parse_security_pdu(&ansi, false).unwrap().payload
    else {
        panic!()
    };
    assert_eq!(
        (info.domain.as_str(), info.user_name.as_str()),
        ("D", "bob")
    );
    // User name length past the end.
    let mut bad = bytes.clone();
    bad[16] = 0xf0;
    assert!(matches!(
        parse_security_pdu(&bad, false),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        parse_client_info(&bytes[4..15]),
        Err(Error::Truncated { .. })
    ));
}

#[test]
fn set_error_info() {
    // Share Control (totalLength 22, PDUTYPE_DATAPDU v1, source 0) + Share Data header with
    // pduType2 SET_ERROR_INFO and errorInfo ERRINFO_LOGOFF_BY_USER.
    let pdu = [
        0x16, 0x00, 0x17, 0x00, 0x00, 0x00, 0xea, 0x03, 0x01, 0x00, 0x00, 0x01, 0x08, 0x00, 0x2f,
        0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00,
    ];
    let s = parse_share_pdu(&pdu).unwrap();
    assert_eq!(s.pdu_type, ShareControlPduType::DATA);
    assert_eq!(s.version, 1);
    assert_eq!(s.data.map(|d| d.share_id), Some(0x0001_03ea));
    assert_eq!(
        s.error_info.map(|e| e.to_string()),
        Some("ERRINFO_LOGOFF_BY_USER".into())
    );
    assert!(matches!(
        parse_share_pdu(&pdu[..21]),
        Err(Error::InvalidLength { .. })
    ));
    let mut short = pdu;
    short[0] = 20;
    assert!(matches!(
        parse_share_pdu(&short[..20]),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        parse_share_pdu(&[0x04, 0, 0x17, 0, 0, 0]),
        Err(Error::InvalidLength { .. })
    ));
    assert_eq!(ErrorInfo(0x10c9).to_string(), "ERRINFO_UNKNOWNPDUTYPE2");
    assert_eq!(
        ErrorInfo(0x0107).to_string(),
        "ERRINFO_LICENSE_CLIENT_ENDED_PROTOCOL"
    );
    assert_eq!(ErrorInfo(0x9999).to_string(), "0x00009999");
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), fips in any::<bool>()) {
        let _ = parse_security_pdu(&bytes, fips);
        let _ = parse_share_pdu(&bytes);
        let _ = parse_client_info(&bytes);
        let _ = parse_license_pdu(&bytes);
    }
}

/// Every cut of a real Set Error Info PDU, with `totalLength` following the cut, names the
/// structure it cut short: no field is ever read as a default 0.
#[test]
fn every_cut_names_the_truncated_structure() {
    let pdu = [
        0x16, 0x00, 0x17, 0x00, 0x00, 0x00, 0xea, 0x03, 0x01, 0x00, 0x00, 0x01, 0x08, 0x00, 0x2f,
        0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00,
    ];
    for cut in 0..pdu.len() {
        let mut short = pdu[..cut].to_vec();
        if let Some(len) = short.first_mut() {
            *len = cut as u8;
        }
        let what = match cut {
            0..=5 => "share control header",
            6..=17 => "share data header",
            _ => "set error info pdu",
        };
        assert_eq!(
            parse_share_pdu(&short),
            Err(Error::Truncated { what }),
            "cut {cut}"
        );
    }
    // The license error message of a real capture, cut inside its fixed fields.
    let ud = user_data(STD_LICENSE_ERROR);
    let SecurityPayload::License(l) = parse_security_pdu(&ud, false).unwrap().payload else {
        panic!()
    };
    for cut in 0..12 {
        let mut msg = vec![0xff, 0x03];
        msg.extend_from_slice(&(4 + cut as u16).to_le_bytes());
        msg.extend_from_slice(&l.body[..cut]);
        assert_eq!(
            parse_license_pdu(&msg),
            Err(Error::Truncated {
                what: "license error message"
            }),
            "cut {cut}"
        );
    }
}
