#![allow(
    clippy::arithmetic_side_effects,
    clippy::as_conversions,
    clippy::cast_possible_truncation
)]

use super::*;
use crate::mcs::{parse_connect_initial, parse_connect_response};
use crate::names::{ChannelOptions, EncryptionLevel, EncryptionMethods};
use crate::testdata::*;
use crate::Error;
use proptest::prelude::*;

fn client_user_data(frame: &[&str]) -> Vec<u8> {
    parse_connect_initial(&hex(frame))
        .unwrap()
        .user_data
        .to_vec()
}

fn server_user_data(frame: &[&str]) -> Vec<u8> {
    parse_connect_response(&hex(frame))
        .unwrap()
        .user_data
        .to_vec()
}

#[test]
fn rdesktop_client_data() {
    let ud = client_user_data(STD_CONNECT_INITIAL);
    let req = parse_conference_create_request(&ud).unwrap();
    assert_eq!(req.key, b"Duca");
    assert!(req.anomalies.is_empty(), "{:?}", req.anomalies);
    let data = parse_client_data(req.user_data).unwrap();
    let core = data.core.as_ref().unwrap();
    // tshark: version 0x00080004, 400x300, colorDepth 0xca01, KLID 0x409, build 2600, name "vm".
    assert_eq!(core.version.to_string(), "RDP 5.0+");
    assert_eq!((core.desktop_width, core.desktop_height), (400, 300));
    assert_eq!(core.keyboard_layout, 0x409);
    assert_eq!(core.client_build, 2600);
    assert_eq!(core.client_name(), "vm");
    assert_eq!(core.high_color_depth, Some(0x10));
    let settings = ClientSettings::from_client_data(&data).unwrap();
    assert_eq!(settings.color_depth, Some(16));
    assert_eq!(
        settings.keyboard_layout_name,
        Some("English (United States)")
    );
    assert_eq!(settings.client_build_name, Some("Windows XP"));
    assert_eq!(settings.encryption_methods, Some(EncryptionMethods(0x3)));
    // CS_CLUSTER flags 0x0d: REDIRECTION_SUPPORTED and version bits 0x0c (REDIRECTION_VERSION4).
    // (Zeek derives its booleans from RedirectedSessionID instead of Flags; the spec is followed.)
    let cluster = settings.cluster_flags.unwrap();
    assert!(cluster.contains(ClusterFlags::REDIRECTION_SUPPORTED));
    assert_eq!(cluster.redirection_version(), 3);
    assert_eq!(settings.redirected_session_id, None);
    let names: Vec<_> = settings.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["cliprdr", "rdpsnd", "snddbg", "rdpdr", "drdynvc"]);
    // rdesktop writes the channel options big-endian (bytes 80 80 00 00): kept as sent, flagged.
    assert_eq!(settings.channels[3].options, ChannelOptions(0x0000_8080));
    assert_eq!(
        settings.anomalies,
        vec!["channel options look byte-swapped"]
    );
    assert!(settings.unknown_blocks.is_empty());
}

#[test]
fn freerdp_client_data() {
    let ud = client_user_data(FIPS_CONNECT_INITIAL);
    let req = parse_conference_create_request(&ud).unwrap();
    let data = parse_client_data(req.user_data).unwrap();
    let s = ClientSettings::from_client_data(&data).unwrap();
    assert!(!s.client_name.is_empty());
    assert_eq!(s.encryption_methods, Some(EncryptionMethods(0x1b)));
    assert_eq!(
        s.encryption_methods.unwrap().to_string(),
        "40BIT|128BIT|56BIT|FIPS"
    );
    let names: Vec<_> = s.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["rdpdr", "rdpsnd", "cliprdr", "drdynvc"]);
    assert_eq!(
        s.channels[0].options.to_string(),
        "INITIALIZED|ENCRYPT_RDP|COMPRESS_RDP"
    );
    assert!(s.anomalies.is_empty());
}

#[test]
fn xrdp_server_data() {
    let ud = server_user_data(STD_CONNECT_RESPONSE);
    let rsp = parse_conference_create_response(&ud).unwrap();
    assert_eq!(rsp.key, b"McDn");
    assert_eq!(rsp.result, Some(GccResult::SUCCESS));
    assert_eq!(rsp.node_id, Some(31219));
    // xrdp (like Windows) writes the fixed connectPDU length 0x2a: tolerated silently.
    assert!(rsp.anomalies.is_empty(), "{:?}", rsp.anomalies);
    let data = parse_server_data(rsp.user_data).unwrap();
    let s = ServerSettings::from_server_data(&data);
    assert_eq!(s.version.map(|v| v.0), Some(0x0008_0004));
    assert_eq!(s.client_requested_protocols, Some(3));
    assert_eq!(s.encryption_method, Some(EncryptionMethods::BIT128));
    assert_eq!(s.encryption_level, Some(EncryptionLevel::HIGH));
    assert_eq!(s.server_random_len, Some(32));
    let cert = s.certificate.unwrap();
    assert_eq!(cert.kind, CertChainVersion::PROPRIETARY);
    assert_eq!(cert.key_bits, Some(2048));
    assert_eq!((cert.count, cert.permanent), (1, true));
    assert_eq!(s.io_channel, Some(1003));
    assert_eq!(s.channels, vec![1004, 1005, 1006, 1007, 1008]);
    let Some(CertificateBody::Proprietary(p)) = data
        .security
        .and_then(|s| s.server_certificate)
        .map(|c| c.body)
    else {
        panic!()
    };
    assert_eq!(
        (p.public_key.keylen, p.public_key.pub_exp, p.signature.len()),
        (264, 65537, 72)
    );
}

#[test]
fn fips_server_data() {
    let ud = server_user_data(FIPS_CONNECT_RESPONSE);
    let rsp = parse_conference_create_response(&ud).unwrap();
    let s = ServerSettings::from_server_data(&parse_server_data(rsp.user_data).unwrap());
    assert_eq!(s.encryption_method.unwrap().to_string(), "FIPS");
    assert_eq!(s.encryption_level.unwrap().to_string(), "FIPS");
    assert_eq!(s.channels, vec![1004, 1005, 1006, 1007]);
}

#[test]
fn data_block_lengths() {
    assert!(matches!(
        parse_client_data(&[0x01, 0xc0, 0x03, 0x00]),
        Err(Error::InvalidLength { .. })
    ));
    assert!(matches!(
        parse_client_data(&[0x01, 0xc0, 0x10, 0x00, 0]),
        Err(Error::InvalidLength { .. })
    ));
    assert!(matches!(
        parse_client_data(&[0x01, 0xc0, 0x10]),
        Err(Error::Truncated { .. })
    ));
    // CS_CORE shorter than its mandatory part.
    assert!(matches!(
        parse_client_data(&[0x01, 0xc0, 0x08, 0x00, 4, 0, 8, 0]),
        Err(Error::Truncated { .. })
    ));
    // CS_NET claiming more channels than present.
    assert!(matches!(
        parse_client_data(&[0x03, 0xc0, 0x08, 0x00, 0xff, 0xff, 0xff, 0xff]),
        Err(Error::InvalidLength { .. })
    ));
    // Unknown blocks are skipped and listed.
    let d = parse_client_data(&[
        0x07, 0xc0, 0x06, 0x00, 1, 2, 0x0a, 0xc0, 0x08, 0, 5, 0, 0, 0,
    ])
    .unwrap();
    assert_eq!(d.unknown_blocks, vec![0xc007]);
    assert_eq!(d.multitransport.map(|m| m.flags), Some(5));
    // Server certificate blob length past the end.
    let sec = [
        0x02, 0x0c, 0x14, 0x00, 2, 0, 0, 0, 3, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert!(matches!(
        parse_server_data(&sec),
        Err(Error::InvalidLength { .. })
    ));
    let none = [0x02, 0x0c, 0x0c, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
    let s = ServerSettings::from_server_data(&parse_server_data(&none).unwrap());
    assert_eq!(s.encryption_level, Some(EncryptionLevel::NONE));
    assert_eq!(s.certificate, None);
}

#[test]
fn core_optional_fields() {
    let ud = client_user_data(FIPS_CONNECT_INITIAL);
    let req = parse_conference_create_request(&ud).unwrap();
    let mut blocks = req.user_data.to_vec();
    // Cut CS_CORE in the middle of serialNumber: earlier optional fields stay, the partial
    // one is an anomaly.
    let core_len = u16::from_le_bytes([blocks[2], blocks[3]]) as usize;
    let keep = 4 + 128 + 2 + 2 + 2;
    blocks[2..4].copy_from_slice(&(keep as u16).to_le_bytes());
    blocks.drain(keep..core_len);
    let d = parse_client_data(&blocks).unwrap();
    let core = d.core.unwrap();
    assert!(core.post_beta2_color_depth.is_some() && core.client_product_id.is_some());
    assert_eq!(core.serial_number, None);
    assert_eq!(
        d.anomalies,
        vec!["partial optional field at the end of a data block"]
    );
}

/// Every cut of the real CS_CORE block of a capture, with the block length following the cut:
/// inside the mandatory fields it is a truncated "client core data", never a field read as 0;
/// inside the optional ones, the fields before the cut are kept and the rest are absent.
#[test]
fn every_cut_of_client_core_data() {
    let ud = client_user_data(FIPS_CONNECT_INITIAL);
    let req = parse_conference_create_request(&ud).unwrap();
    let blocks = req.user_data;
    let core_len = u16::from_le_bytes([blocks[2], blocks[3]]) as usize;
    let whole = parse_client_data(&blocks[..core_len])
        .unwrap()
        .core
        .unwrap();
    for body in 0..core_len - 4 {
        let mut cut = blocks[..4 + body].to_vec();
        cut[2..4].copy_from_slice(&((4 + body) as u16).to_le_bytes());
        match parse_client_data(&cut) {
            Err(e) => {
                assert!(body < 128, "cut {body}: {e:?}");
                assert_eq!(
                    e,
                    Error::Truncated {
                        what: "client core data"
                    }
                );
            }
            Ok(d) => {
                assert!(body >= 128, "cut {body}");
                let core = d.core.unwrap();
                assert_eq!(core.client_build, whole.client_build);
                if body < 130 {
                    assert_eq!(core.post_beta2_color_depth, None, "cut {body}");
                } else {
                    assert_eq!(core.post_beta2_color_depth, whole.post_beta2_color_depth);
                }
            }
        }
    }
}

/// Every cut of the real server data blocks of a capture inside a mandatory field names the
/// block it cut short.
#[test]
fn every_cut_of_server_data_blocks() {
    let ud = server_user_data(STD_CONNECT_RESPONSE);
    let rsp = parse_conference_create_response(&ud).unwrap();
    for block in data_blocks(rsp.user_data) {
        let block = block.unwrap();
        let (what, mandatory) = match block.block_type {
            0x0c01 => ("server core data", 4),
            0x0c02 => ("server security data", 8),
            0x0c03 => ("server network data", 4),
            _ => continue,
        };
        for body in 0..mandatory {
            let mut cut = block.block_type.to_le_bytes().to_vec();
            cut.extend_from_slice(&((4 + body) as u16).to_le_bytes());
            cut.extend_from_slice(&block.body[..body]);
            assert_eq!(
                parse_server_data(&cut),
                Err(Error::Truncated { what }),
                "{what} cut at {body}"
            );
        }
    }
}

#[test]
fn t124_lenient() {
    let ud = client_user_data(STD_CONNECT_INITIAL);
    // Wrong OID and a connectPDU length promising more than is there: anomalies only.
    let mut odd = ud.clone();
    odd[6] = 0x02;
    odd[7] = 0xbf;
    odd[8] = 0xff;
    let req = parse_conference_create_request(&odd).unwrap();
    assert_eq!(
        req.anomalies,
        [
            "t124 identifier is not 0.0.20.124.0.1",
            "t124 connectPDU length is larger than the data"
        ]
    );
    // An unusual layout (extra octet before the key) is found by the key.
    let mut shifted = ud[..17].to_vec();
    shifted.push(0x00);
    shifted.extend_from_slice(&ud[17..]);
    let req = parse_conference_create_request(&shifted).unwrap();
    assert_eq!(
        req.user_data,
        parse_conference_create_request(&ud).unwrap().user_data
    );
    // No key at all.
    assert!(parse_conference_create_request(&ud[..20]).is_err());
    assert!(matches!(
        parse_conference_create_request(&[0, 5]),
        Err(Error::Truncated { .. })
    ));
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_conference_create_request(&bytes);
        let _ = parse_conference_create_response(&bytes);
        if let Ok(d) = parse_client_data(&bytes) {
            let _ = ClientSettings::from_client_data(&d);
        }
        if let Ok(d) = parse_server_data(&bytes) {
            let _ = ServerSettings::from_server_data(&d);
        }
        let _ = parse_server_certificate(&bytes);
    }

    #[test]
    fn mutated_blocks_never_panic(pos in 0usize..1000, val in any::<u8>()) {
        let ud = server_user_data(STD_CONNECT_RESPONSE);
        let mut bytes = parse_conference_create_response(&ud).unwrap().user_data.to_vec();
        let i = pos % bytes.len();
        bytes[i] = val;
        let _ = parse_server_data(&bytes);
        let ud = client_user_data(FIPS_CONNECT_INITIAL);
        let mut bytes = parse_conference_create_request(&ud).unwrap().user_data.to_vec();
        let i = pos % bytes.len();
        bytes[i] = val;
        let _ = parse_client_data(&bytes);
    }
}
