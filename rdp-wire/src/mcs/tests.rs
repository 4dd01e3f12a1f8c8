#![allow(
    clippy::arithmetic_side_effects,
    clippy::as_conversions,
    clippy::cast_possible_truncation
)]

use super::*;
use crate::testdata::*;
use crate::Error;
use proptest::prelude::*;

#[test]
fn connect_initial_rdesktop() {
    let bytes = hex(STD_CONNECT_INITIAL);
    assert_eq!(connect_pdu_len(&bytes), Ok((101, bytes.len())));
    let ci = parse_connect_initial(&bytes).unwrap();
    assert_eq!(ci.calling_domain_selector, &[1]);
    assert_eq!(ci.called_domain_selector, &[1]);
    assert!(ci.upward_flag);
    // tshark: targetParameters maxChannelIds 34, maxUserIds 2, maxTokenIds 0, numPriorities 1,
    // minThroughput 0, maxHeight 1, maxMCSPDUsize 65535, protocolVersion 2.
    assert_eq!(
        ci.target_parameters,
        DomainParameters {
            max_channel_ids: 34,
            max_user_ids: 2,
            max_token_ids: 0,
            num_priorities: 1,
            min_throughput: 0,
            max_height: 1,
            max_mcspdu_size: 65535,
            protocol_version: 2,
        }
    );
    assert_eq!(ci.minimum_parameters.max_mcspdu_size, 1056);
    assert_eq!(ci.maximum_parameters.max_user_ids, 64535);
    assert_eq!(ci.user_data.len(), 0x14b);
    assert!(ci.anomalies.is_empty());
    assert!(matches!(
        parse_connect_pdu(&bytes),
        Ok(ConnectPdu::Initial(_))
    ));
}

#[test]
fn connect_response_xrdp() {
    let bytes = hex(STD_CONNECT_RESPONSE);
    let cr = parse_connect_response(&bytes).unwrap();
    assert_eq!(cr.result, McsResult::SUCCESSFUL);
    assert_eq!(cr.result.to_string(), "rt-successful");
    assert_eq!(cr.called_connect_id, 0);
    assert_eq!(cr.domain_parameters.max_channel_ids, 22);
    assert_eq!(cr.domain_parameters.max_user_ids, 3);
    assert_eq!(cr.domain_parameters.max_mcspdu_size, 65528);
    assert_eq!(cr.user_data.len(), 0x1e3);
    assert!(matches!(
        parse_connect_pdu(&bytes),
        Ok(ConnectPdu::Response(_))
    ));
    // A response is not an initial.
    assert!(matches!(
        parse_connect_initial(&bytes),
        Err(Error::UnexpectedValue { .. })
    ));
}

#[test]
fn connect_every_prefix_is_incomplete() {
    for frame in [
        hex(STD_CONNECT_INITIAL),
        hex(STD_CONNECT_RESPONSE),
        hex(FIPS_CONNECT_INITIAL),
    ] {
        for n in 0..frame.len() {
            let prefix = &frame[..n];
            match parse_connect_pdu(prefix) {
                Err(Error::Incomplete { needed }) => {
                    assert!(needed >= 1 && needed <= frame.len() - n)
                }
                other => panic!("prefix {n}: {other:?}"),
            }
        }
    }
}

#[test]
fn connect_truncated_and_impossible_lengths() {
    // Outer length shrunk by one: the userData OCTET STRING now runs past the body.
    let mut bytes = hex(STD_CONNECT_INITIAL);
    bytes[4] -= 1;
    let short = &bytes[..bytes.len() - 1];
    assert!(matches!(
        parse_connect_initial(short),
        Err(Error::InvalidLength { .. })
    ));
    // A body cut inside the domain parameters.
    let cut = [
        0x7f, 0x65, 0x0a, 0x04, 0x01, 0x01, 0x04, 0x01, 0x01, 0x01, 0x01, 0xff, 0x30,
    ];
    assert!(matches!(
        parse_connect_initial(&cut),
        Err(Error::Truncated { .. })
    ));
    // Indefinite and oversized length forms.
    assert!(matches!(
        connect_pdu_len(&[0x7f, 0x65, 0x80, 0]),
        Err(Error::InvalidLength { .. })
    ));
    assert!(matches!(
        connect_pdu_len(&[0x7f, 0x65, 0x85, 0, 0, 0, 0, 1]),
        Err(Error::InvalidLength { .. })
    ));
    assert!(matches!(
        connect_pdu_len(&[0x7f, 0x67, 0x00]),
        Err(Error::UnexpectedValue { .. })
    ));
    assert!(matches!(
        connect_pdu_len(&[0x30, 0x65, 0x00]),
        Err(Error::UnexpectedValue { .. })
    ));
    // Bytes after the declared end are an anomaly, not an error.
    let mut long = hex(STD_CONNECT_RESPONSE);
    long.push(0);
    let cr = parse_connect_response(&long).unwrap();
    assert_eq!(cr.anomalies, vec!["bytes after the mcs connect pdu"]);
}

#[test]
fn erect_domain_request_forms() {
    // rdesktop writes 00 01 00 01: two plain 16-bit integers.
    let DomainPdu::ErectDomainRequest(e) = parse_domain_pdu(&hex(STD_ERECT_DOMAIN)).unwrap() else {
        panic!()
    };
    assert_eq!((e.sub_height, e.sub_interval), (1, 1));
    assert_eq!(e.anomalies.len(), 1);
    // xfreerdp writes PER integers 01 00 01 00.
    let DomainPdu::ErectDomainRequest(e) = parse_domain_pdu(&hex(FIPS_ERECT_DOMAIN)).unwrap()
    else {
        panic!()
    };
    assert_eq!((e.sub_height, e.sub_interval), (0, 0));
    assert!(e.anomalies.is_empty());
    assert!(matches!(
        parse_domain_pdu(&[0x04, 0x01]),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        parse_domain_pdu(&[0x04, 0x05, 0, 0, 0, 0, 0]),
        Err(Error::InvalidLength { .. })
    ));
}

#[test]
fn attach_and_join() {
    assert_eq!(
        parse_domain_pdu(&hex(STD_ATTACH_USER_REQUEST)),
        Ok(DomainPdu::AttachUserRequest)
    );
    let DomainPdu::AttachUserConfirm(c) = parse_domain_pdu(&hex(STD_ATTACH_USER_CONFIRM)).unwrap()
    else {
        panic!()
    };
    assert_eq!(c.result, McsResult::SUCCESSFUL);
    assert_eq!(c.initiator, Some(1009));
    let DomainPdu::ChannelJoinRequest(j) =
        parse_domain_pdu(&hex(STD_CHANNEL_JOIN_REQUEST)).unwrap()
    else {
        panic!()
    };
    assert_eq!((j.initiator, j.channel_id), (1009, 1009));
    let join = hex(STD_CHANNEL_JOIN_CONFIRM);
    let pdu = parse_domain_pdu(&join).unwrap();
    assert_eq!(pdu.pdu_type().to_string(), "channelJoinConfirm");
    let DomainPdu::ChannelJoinConfirm(c) = pdu else {
        panic!()
    };
    assert_eq!(
        (c.result, c.initiator, c.requested, c.channel_id),
        (McsResult::SUCCESSFUL, 1009, 1009, Some(1009))
    );
    // PER bit-field result: rt-no-such-channel (3) = 0 in b0 bit 0, 011 in the top of b1.
    let DomainPdu::ChannelJoinConfirm(c) =
        parse_domain_pdu(&[0x3c, 0x60, 0, 8, 0x03, 0xf1]).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (c.result.to_string(), c.channel_id),
        ("rt-no-such-channel".to_string(), None)
    );
    // rt-user-rejected (15) straddles both octets.
    let DomainPdu::AttachUserConfirm(c) = parse_domain_pdu(&[0x2d, 0xe0]).unwrap() else {
        panic!()
    };
    assert_eq!(c.result, McsResult::USER_REJECTED);
    assert_eq!(c.initiator, None);
    assert!(matches!(
        parse_domain_pdu(&[0x2e, 0x00, 0x00]),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        parse_domain_pdu(&[0x38, 0x00, 0x08, 0x03]),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        parse_domain_pdu(&[]),
        Err(Error::Truncated { .. })
    ));
}

#[test]
fn disconnect_provider_ultimatum() {
    let ultimatum = hex(MAC_ERROR_ULTIMATUM);
    let pdu = parse_domain_pdu(&ultimatum).unwrap();
    let DomainPdu::DisconnectProviderUltimatum(d) = pdu else {
        panic!()
    };
    assert_eq!(d.reason.to_string(), "rn-user-requested");
    let DomainPdu::DisconnectProviderUltimatum(d) = parse_domain_pdu(&[0x20, 0x80]).unwrap() else {
        panic!()
    };
    assert_eq!(d.reason, DisconnectReason::PROVIDER_INITIATED);
    let DomainPdu::DisconnectProviderUltimatum(d) = parse_domain_pdu(&[0x22, 0x00]).unwrap() else {
        panic!()
    };
    assert_eq!(d.reason, DisconnectReason::CHANNEL_PURGED);
    assert!(matches!(
        parse_domain_pdu(&[0x21]),
        Err(Error::Truncated { .. })
    ));
}

#[test]
fn send_data() {
    let exchange = hex(STD_SECURITY_EXCHANGE);
    let DomainPdu::SendDataRequest(s) = parse_domain_pdu(&exchange).unwrap() else {
        panic!()
    };
    assert_eq!((s.initiator, s.channel_id), (1009, 1003));
    assert_eq!(s.priority, DataPriority::HIGH);
    assert!(s.begin && s.end);
    assert_eq!(s.user_data.len(), 0x110);
    let license = hex(STD_LICENSE_ERROR);
    let DomainPdu::SendDataIndication(s) = parse_domain_pdu(&license).unwrap() else {
        panic!()
    };
    assert_eq!(s.user_data.len(), 0x14);
    // Length past the end, truncated header, fragmented length.
    assert!(matches!(
        parse_domain_pdu(&[0x64, 0, 8, 3, 0xeb, 0x70, 0x05, 1]),
        Err(Error::InvalidLength { .. })
    ));
    assert!(matches!(
        parse_domain_pdu(&[0x64, 0, 8, 3, 0xeb, 0x70, 0x81]),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        parse_domain_pdu(&[0x68, 0, 8, 3, 0xeb, 0x70, 0xc1]),
        Err(Error::UnexpectedValue { .. })
    ));
    let bytes = hex(STD_SECURITY_EXCHANGE);
    for n in 0..bytes.len() {
        assert!(parse_domain_pdu(&bytes[..n]).is_err(), "prefix {n}");
    }
}

/// Every cut of the real domain PDUs of a capture names the PDU it cut short: no field is
/// ever read as 0.
#[test]
fn every_cut_of_domain_pdus_is_truncated() {
    for (frame, what) in [
        (STD_ATTACH_USER_CONFIRM, "mcs attach user confirm"),
        (STD_CHANNEL_JOIN_REQUEST, "mcs channel join request"),
        (STD_CHANNEL_JOIN_CONFIRM, "mcs channel join confirm"),
        (MAC_ERROR_ULTIMATUM, "mcs disconnect provider ultimatum"),
        (STD_SECURITY_EXCHANGE, "mcs send data request"),
    ] {
        let pdu = hex(frame);
        assert!(parse_domain_pdu(&pdu).is_ok(), "{what}");
        assert_eq!(
            parse_domain_pdu(&[]),
            Err(Error::Truncated {
                what: "mcs domain pdu"
            })
        );
        // The Send Data user data length is checked as a length, not as a truncation.
        let header = if what == "mcs send data request" {
            8
        } else {
            pdu.len()
        };
        for cut in 1..header {
            assert_eq!(
                parse_domain_pdu(&pdu[..cut]),
                Err(Error::Truncated { what }),
                "{what} cut at {cut}"
            );
        }
    }
}

#[test]
fn other_choices() {
    assert_eq!(
        parse_domain_pdu(&[0x30]),
        Ok(DomainPdu::Other(DomainMcsPduType::DETACH_USER_REQUEST))
    );
    assert_eq!(DomainMcsPduType(63).to_string(), "0x3f");
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_connect_pdu(&bytes);
        let _ = parse_domain_pdu(&bytes);
    }

    #[test]
    fn mutated_connect_pdus_never_panic(pos in 0usize..600, val in any::<u8>()) {
        let mut bytes = hex(STD_CONNECT_RESPONSE);
        let i = pos % bytes.len();
        bytes[i] = val;
        let _ = parse_connect_pdu(&bytes);
    }
}
