//! Parsing-fidelity rules checked on captures built with the kit (issue 14): each test names
//! the behaviour, builds the connection that shows it from real bytes (lifted from
//! `../shared/corpus/lab` captures with tshark) or from the specification's layouts, and reads
//! what the binary reports (`analyzer/` documents each rule, `docs/output.md` the output).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;

use rdp_pcap::kit::Conversation;
use rdp_wire::Side;
use serde_json::Value;

/// Hex to bytes.
fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A kit conversation between the lab's usual addresses.
fn conversation() -> Conversation {
    let mut c = Conversation::new(
        "10.0.0.2:45994".parse().unwrap(),
        "10.0.0.1:3389".parse().unwrap(),
    );
    c.handshake();
    c
}

/// Writes `capture` and runs `rdp-pcap ARGS FILE`.
fn run(name: &str, capture: &[u8], args: &[&str]) -> common::Run {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wire_rules");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, capture).unwrap();
    let mut argv: Vec<&str> = args.to_vec();
    argv.push(path.to_str().unwrap());
    common::rdp_pcap(&argv)
}

/// The one connection of `capture`, as JSON.
fn connection(name: &str, capture: &[u8]) -> Value {
    let conns = run(name, capture, &["--format", "jsonl"]).connections();
    assert_eq!(conns.len(), 1, "{name}: {conns:?}");
    conns[0].clone()
}

fn finding<'a>(conn: &'a Value, code: &str) -> Option<&'a Value> {
    conn["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
}

// ---------------------------------------------------------------------------------------------
// Standard RDP Security with encryption level NONE.

/// `lab/rdp-standard-security.pcap` frames 4 to 27 (rdesktop to xrdp): Connection Request
/// (cookie dave, SSL|HYBRID), Connection Confirm selecting PROTOCOL_RDP, MCS Connect Initial,
/// Connect Response, Erect Domain, Attach User, Channel Joins (user 1009, I/O 1003, five static
/// channels 1004-1008). Frame 9, the Connect Response, is changed the way an xrdp with
/// `crypt_level=none` answers: its SC_SECURITY block (MS-RDPBCGR 2.2.1.4.3) is 12 bytes,
/// encryptionMethod 0 and encryptionLevel 0 without server random or certificate, and the
/// lengths around it (GCC user data 0x2c, BER octet string 0x43, Connect-Response 0x69,
/// TPKT 0x75) follow.
const STANDARD_SECURITY_SEQUENCE: [(Side, &str); 20] = [
    (Side::Client, "0300002a25e00000000000436f6f6b69653a206d737473686173683d646176650d0a0100080003000000"),
    (Side::Server, "030000130ed000001234000201080000000000"),
    (Side::Client, "030001ca02f0807f658201be0401010401010101ff30200202002202020002020200000202000102020000020200010202ffff020200023020020200010202000102020001020200010202000002020001020204200202000230200202ffff0202fc170202ffff0202000102020000020200010202ffff020200020482014b000500147c00018142000800100001c00044756361813401c0d8000400080090012c0101ca03aa09040000280a000076006d000000000000000000000000000000000000000000000000000000000004000000000000000c0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001ca01000000000010000b0001000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000004c00c000d0000000000000002c00c00030000000000000003c0440005000000636c697072647200c0a00000726470736e640000c0000000736e646462670000c0000000726470647200000080800000647264796e766300c0000000"),
    (Side::Server, "0300007502f0807f668200690a0100020100301a020116020103020100020101020100020101020300fff802010204820043000500147c00012a14760a01010001c0004d63446e802c010c0c000400080003000000030c1400eb030500ec03ed03ee03ef03f0030000020c0c000000000000000000"),
    (Side::Client, "0300000c02f0800400010001"),
    (Side::Client, "0300000802f08028"),
    (Side::Server, "0300000b02f0802e000008"),
    (Side::Client, "0300000c02f08038000803f1"),
    (Side::Server, "0300000f02f0803e00000803f103f1"),
    (Side::Client, "0300000c02f08038000803eb"),
    (Side::Server, "0300000f02f0803e00000803eb03eb"),
    (Side::Client, "0300000c02f08038000803ec"),
    (Side::Server, "0300000f02f0803e00000803ec03ec"),
    (Side::Client, "0300000c02f08038000803ed"),
    (Side::Server, "0300000f02f0803e00000803ed03ed"),
    (Side::Client, "0300000c02f08038000803ee"),
    (Side::Server, "0300000f02f0803e00000803ee03ee"),
    (Side::Client, "0300000c02f08038000803ef"),
    (Side::Server, "0300000f02f0803e00000803ef03ef"),
    (Side::Client, "0300000c02f08038000803f0"),
];

/// The I/O channel and a static channel (cliprdr) of the sequence above.
const IO_CHANNEL: u16 = 0x03eb;
const CLIPRDR_CHANNEL: u16 = 0x03ec;

/// `payload` in an MCS Send Data Request (client) or Indication (server) from user 1009 on
/// `channel` (T.125, PER; priority high, begin and end), in an X.224 Data TPDU and TPKT.
fn send_data(side: Side, channel: u16, payload: &[u8]) -> Vec<u8> {
    let choice = if side == Side::Client { 0x64 } else { 0x68 };
    let mut mcs = vec![choice, 0x00, 0x08];
    mcs.extend_from_slice(&channel.to_be_bytes());
    mcs.push(0x70);
    let len = u16::try_from(payload.len()).unwrap();
    if len < 0x80 {
        mcs.push(u8::try_from(len).unwrap());
    } else {
        mcs.extend_from_slice(&(len | 0x8000).to_be_bytes());
    }
    mcs.extend_from_slice(payload);
    let mut out = vec![0x03, 0x00];
    out.extend_from_slice(&u16::try_from(mcs.len() + 7).unwrap().to_be_bytes());
    out.extend_from_slice(&[0x02, 0xf0, 0x80]);
    out.extend_from_slice(&mcs);
    out
}

/// UTF-16LE of `text` with its terminator.
fn utf16z(text: &str) -> Vec<u8> {
    text.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// A Client Info PDU for user `dave` without encryption (MS-RDPBCGR 2.2.1.11.1.1): the basic
/// security header with SEC_INFO_PKT only, then TS_INFO_PACKET (INFO_MOUSE | INFO_UNICODE |
/// INFO_LOGONNOTIFY | INFO_DISABLECTRLALTDEL, empty domain, password, shell and directory).
fn client_info_in_clear() -> Vec<u8> {
    let mut pdu = vec![0x40, 0x00, 0x00, 0x00];
    pdu.extend_from_slice(&0u32.to_le_bytes());
    pdu.extend_from_slice(&0x0000_0053u32.to_le_bytes());
    for cb in [0u16, 8, 0, 0, 0] {
        pdu.extend_from_slice(&cb.to_le_bytes());
    }
    pdu.extend_from_slice(&utf16z(""));
    pdu.extend_from_slice(&utf16z("dave"));
    for _ in 0..3 {
        pdu.extend_from_slice(&utf16z(""));
    }
    pdu
}

/// The server's licensing answer when no licence is needed (MS-RDPBCGR 2.2.1.12.1.3): basic
/// security header SEC_LICENSE_PKT, ERROR_ALERT with STATUS_VALID_CLIENT, ST_NO_TRANSITION.
const LICENSE_VALID_CLIENT: &str = "80000000ff031000070000000200000004000000";

/// A Demand Active PDU with no capability sets (2.2.1.13.1: Share Control Header
/// PDUTYPE_DEMANDACTIVEPDU, shareId, source descriptor "RDP", sessionId), without security
/// header.
const DEMAND_ACTIVE: &str = "1a001100ea03ea03010004000400524450000000000000000000";

/// A Confirm Active PDU with no capability sets (2.2.1.13.2), without security header.
const CONFIRM_ACTIVE: &str = "1a001300f103ea030100ea03060004004d535453430000000000";

/// A static virtual channel PDU (CHANNEL_PDU_HEADER, 2.2.6.1.1: length, CHANNEL_FLAG_FIRST |
/// CHANNEL_FLAG_LAST) of `len` bytes: its first two bytes, read as security flags, are
/// `len`: 0x48 is SEC_INFO_PKT | SEC_ENCRYPT, 0x81 SEC_LICENSE_PKT | SEC_EXCHANGE_PKT.
fn channel_pdu(len: u32) -> Vec<u8> {
    let mut pdu = len.to_le_bytes().to_vec();
    pdu.extend_from_slice(&3u32.to_le_bytes());
    pdu.extend(std::iter::repeat_n(0x5a, usize::try_from(len).unwrap()));
    pdu
}

/// A whole session under Standard RDP Security with ENCRYPTION_LEVEL_NONE: the real
/// connection sequence above, the Client Info and licensing PDUs with their basic security
/// header, then capability exchange, virtual channel traffic both ways and fast-path updates
/// without any, as MS-RDPBCGR 5.3.2 and 2.2.8.1.1.2 lay them out.
fn standard_security_level_none() -> Vec<u8> {
    let mut c = conversation();
    for (side, bytes) in STANDARD_SECURITY_SEQUENCE {
        c.send(side, &hex(bytes));
    }
    c.send(Side::Server, &hex("0300000f02f0803e00000803f003f0"));
    c.send(
        Side::Client,
        &send_data(Side::Client, IO_CHANNEL, &client_info_in_clear()),
    );
    c.send(
        Side::Server,
        &send_data(Side::Server, IO_CHANNEL, &hex(LICENSE_VALID_CLIENT)),
    );
    c.send(
        Side::Server,
        &send_data(Side::Server, IO_CHANNEL, &hex(DEMAND_ACTIVE)),
    );
    c.send(
        Side::Client,
        &send_data(Side::Client, IO_CHANNEL, &hex(CONFIRM_ACTIVE)),
    );
    for _ in 0..50 {
        c.send(
            Side::Client,
            &send_data(Side::Client, CLIPRDR_CHANNEL, &channel_pdu(0x48)),
        );
        c.send(
            Side::Server,
            &send_data(Side::Server, CLIPRDR_CHANNEL, &channel_pdu(0x81)),
        );
        // A fast-path update without FASTPATH_OUTPUT_ENCRYPTED (2.2.9.1.2).
        c.send(
            Side::Server,
            &[0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        );
    }
    c.fin(Side::Client).fin(Side::Server);
    c.into_packets().to_pcapng(None)
}

/// Encryption level NONE: only the Client Info and licensing PDUs carry a security header;
/// share and virtual channel PDUs are not read as one (no anomalies, a clear-text Client
/// Info), and the finding says there is no encryption at all rather than "legacy encryption".
#[test]
fn standard_security_without_encryption_reads_pdus_without_security_headers() {
    let conn = connection("std-security-none.pcapng", &standard_security_level_none());
    assert_eq!(conn["verdict"]["code"], "established", "{conn}");
    // rdesktop's own Connect Initial has one oddity (its channel options); nothing else.
    let anomalies = conn["anomalies"].as_array().unwrap();
    assert!(
        anomalies.iter().all(|a| a
            .as_str()
            .unwrap()
            .starts_with("client mcs connect initial")),
        "{anomalies:?}"
    );
    let mcs = &conn["mcs"];
    assert_eq!(mcs["client_info"]["encrypted"], false, "{mcs}");
    assert_eq!(mcs["client_info"]["user_name"], "dave", "{mcs}");
    let std = finding(&conn, "standard-rdp-security").expect("standard-rdp-security");
    let summary = std["summary"].as_str().unwrap();
    assert!(!summary.contains("legacy encryption"), "{summary}");
    assert!(summary.contains("no encryption at all"), "{summary}");
    assert!(summary.contains("encryption NONE, level NONE"), "{summary}");
}

// ---------------------------------------------------------------------------------------------
// TLS 1.3: the client's encrypted alert right after the server's flight.

/// `lab/tls-ok.pcap` frame 4: Connection Request, cookie alice, SSL.
const TLS_OK_REQUEST: &str =
    "0300002b26e00000000000436f6f6b69653a206d737473686173683d616c6963650d0a0100080001000000";
/// `lab/tls-ok.pcap` frame 6: Connection Confirm selecting SSL.
const TLS_OK_CONFIRM: &str = "030000130ed000001234000201080001000000";
/// `lab/tls-ok.pcap` frame 8: FreeRDP's ClientHello (TLS 1.0 to 1.3, 31 suites).
const TLS_OK_CLIENT_HELLO: &str = "1603010136010001320303016576d83575270145e65e81edd854c3c35ba633b5ab22b4771b350573be1033208993e431d54c3b9af6811eff3fc0a339d783790f3dcdac331c8c3f8e4b5382a5003e130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000ab0000000e000c0000093132372e302e302e31000b000403000102000a00160014001d0017001e0019001801000101010201030104002300000016000000170000000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300260024001d0020bb9a7711bafe886e84e6ec388a45a5acd43e719cdf083ca964ae4e07fd4c2918";
/// `lab/tls-ok.pcap` frame 9: xrdp's ServerHello (TLS 1.3, TLS_AES_256_GCM_SHA384), the
/// compatibility ChangeCipherSpec and four encrypted records (EncryptedExtensions,
/// Certificate, CertificateVerify, Finished).
const TLS_OK_SERVER_FLIGHT: &str = "160303007a0200007603032fbe2424bbae319e1719e214fab72007bfe6621a1324e17add19e0a783ab85a1208993e431d54c3b9af6811eff3fc0a339d783790f3dcdac331c8c3f8e4b5382a5130200002e002b0002030400330024001d0020a435742f57556207d33c20e67545c9ce1fad32f313f5405851f070c98a03b3421403030001011703030017bc118e7304e7d9fe9cf5a712bc95967d4cf6aa35524b5517030303729e89d68a8f3ba253c6366c14815e36d1e25b0084e5aff1e4a698dc953fd1266477e68d218376bab6482174f9023bd6fe5223a63312559acf888afbe7e67b77c1ad51a17d803567608ee25f0a079852ecec820b8cd04d8e3e538de7812ff61b93cc128be24d4936532e69e7c933652725990c321c7a321151d839a2927ed9c6e50249df163b951d7ff304a94dec1755dbec22f2609c23b92c1d946cb56da2490a916f797ec452b44e354692680952f7fd387f73f3035f41fdd4e0abb2d4c565f4a6601faeb513e35461bc19021a898b41e5b4cd9d107c30fdabdf2879a8531c06924e1232a2d736c5e52c7acbbae0f4a41d4f313ba92b6d918d5e831cf342aefa91450923600b58a773d5a448048e149dd8a535ee0366b42b9d5311a42880396a4739133dc6b04c716751cae7923e66a85b79b0332116a3fa95b8a055d48a111c25017295420d7b4697a0e532055242840c0473dd812751ff45314dc7e0a36594798f0ff8b9855a17a90da434dee9643e57804bc6f9a284f676bd844e8194899830d6f410a403b5cba77d195f7e923fd75fecde30448324a0ab9ef5d9b447b59dc73a0e7cf6171277c9ccd32491f39d4e5af79f69f19301dfe22cb93f1bcb26358a131b51d103089fd2f6814fdbdafe5c70edc0188b9575c864a37869a84c92d1040d768849ef65e4dead3e2d22cc6a2b68a10913f29508eeb95a8a650e4043c2fc05a7db075bbcd8342c5d8925277b951bc7209a1fcab3076369c05d77528c43560204767d15d08145036d3ea3e73fe7f31bd8a320e2d3db074f86a9902dd4c91f4285fe80cc1899e3fafd797260bbf94e8ad7958225b2226f94dd9781306695914adfa599f7d9e15561c50c34cd539533c20174e7e8f09b16338de0e467e18cd02a8693af2c4b8d557391287e4fc817bb89daf15e96c24a991ac3110ea72a281cc75a54613bd0535c1ba6907b91b1fbb622f1aa58b11728c9f0995399a96c682a9174e02955b4d560ed4197fef3d58e944c7f07c43bcaf6a59d0b9a313c37c1320687bfaa8cc13ee5a9bbdf5f0bb1d674afc18a3d221ed54fef8e88c35c3bd3340c0c0cd7e7a5e829b288f0cac8304e781dba12c5966c8fd5b1cf5864c9c69f046a9980b91c0d48227714223f33fca41d341e225af514bd2e587aa1b061ae6fb1cd872544ee4e911679759d3f876a094463bcb9fac6c03faf8fc9f677294d3baffe11f7fce643beadf17981b07c338cfced1703030119e7a8a26d90db002968d1195d1e0843c6a51822e59539a5be62ab612e8d1f681dfc701caf14a2a4ff234bd755a4fee7274b89fe0f9443c9c7f1b0e664ee274e723755f95c1be19e44e981ceff3f3c26f72120c07f9e0a339b41394b4afa018d26e8e1f33d6dc8e40c8251073b3b1e1b48ab9ba0d1f7ccbc3114af471dd829a7bc6a04e81490ffb15336ac1fad7aa87bb463d2dbefbf3cba8ccf0895eb8f5e8db3e7b31f980cbaf24294acfb16eb0a99720abb625b907a9413ec3d01df2a009543348c26fc8bfe42333387b838323db8a1120dc0080a030105d7d51ec0a454773a7312477d0c04b16d9e3627906f68d1a7f0c22894a0a392822421b327f0cfd621f7f5f3a0b324342eaadad369ca186bfdc72f6ea30ced7578731703030045c2807a3c46c6afdd39850a018774641f3ad41301bcbb9b6ba852848fbfe490bfed6c7aa1f8906c5ff6d11405f695703e87b79b5b399207f897ec0a80857ccc5cde213181af";
/// `lab/tls-ok.pcap` frame 10: the client's ChangeCipherSpec and its Finished (69 bytes:
/// 48 of verify_data, 4 of header, 1 of content type, 16 of tag).
const TLS_OK_CLIENT_FINISHED: &str = "1403030001011703030045235a047f596aea7e1ff864cf63e5ec69d4fe6607db68c0322043ecc41d4899e34e343eb88863e2c0969113a3b4d4ab34fe7e6557cb2fe964d74375308130814804434710ab";

/// The real TLS 1.3 handshake up to the server's flight; then the client sends `client`
/// 3 ms later and closes.
fn tls13_client_answers(client: &[u8]) -> Vec<u8> {
    let mut c = conversation();
    c.send(Side::Client, &hex(TLS_OK_REQUEST))
        .send(Side::Server, &hex(TLS_OK_CONFIRM))
        .send(Side::Client, &hex(TLS_OK_CLIENT_HELLO))
        .send(Side::Server, &hex(TLS_OK_SERVER_FLIGHT))
        .wait(3_000_000)
        .send(Side::Client, client)
        .fin(Side::Client)
        .fin(Side::Server);
    c.into_packets().to_pcapng(None)
}

/// RFC 8446 5.2, 6: after the server's encrypted flight, a client record of 19 bytes (2 of
/// alert, 1 of content type, 16 of AEAD tag) is its encrypted alert, not its Finished (53 or
/// 69 bytes): followed by a close, the handshake failed (the client refused the flight,
/// typically the certificate), it did not complete and close early.
#[test]
fn tls13_client_encrypted_alert_after_the_server_flight_is_a_handshake_failure() {
    // The client's compatibility ChangeCipherSpec, then a 19-byte application_data record.
    let mut alert = hex("140303000101");
    alert.extend_from_slice(&[0x17, 0x03, 0x03, 0x00, 0x13]);
    alert.extend_from_slice(&[0xa5; 19]);
    let conn = connection("tls13-client-alert.pcapng", &tls13_client_answers(&alert));
    let verdict = &conn["verdict"];
    assert_eq!(verdict["code"], "tls-handshake-failed", "{verdict}");
    let summary = verdict["summary"].as_str().unwrap();
    assert!(summary.contains("encrypted alert"), "{summary}");
    assert!(summary.contains("refused the server's flight"), "{summary}");
    assert_eq!(conn["tls"]["handshake_complete"], false);
    let alerts = conn["tls"]["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["from"], "client");
    assert_eq!(alerts[0]["encrypted"], true);

    // The real Finished (69 bytes) completes the handshake: a client that then leaves
    // closed early, as before.
    let conn = connection(
        "tls13-client-finished.pcapng",
        &tls13_client_answers(&hex(TLS_OK_CLIENT_FINISHED)),
    );
    assert_eq!(
        conn["verdict"]["code"], "closed-early",
        "{}",
        conn["verdict"]
    );
    assert_eq!(conn["tls"]["handshake_complete"], true);
}

// ---------------------------------------------------------------------------------------------
// Decoder limits are not failures.

/// `body` as TLS 1.2 records of `content_type`, at most 16 KiB each.
fn records(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(16 * 1024) {
        out.extend_from_slice(&[content_type, 0x03, 0x03]);
        out.extend_from_slice(&u16::try_from(chunk.len()).unwrap().to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

/// A ServerHello choosing TLS 1.2 and TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (0xc030, offered
/// by the ClientHello above), no session id, no extensions (RFC 5246 7.4.1.3).
fn server_hello_tls12() -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x33; 32]);
    body.extend_from_slice(&[0x00, 0xc0, 0x30, 0x00]);
    let mut msg = vec![0x02, 0x00, 0x00, u8::try_from(body.len()).unwrap()];
    msg.extend_from_slice(&body);
    msg
}

/// A healthy TLS 1.2 session whose server sends a Certificate message of `cert_len` bytes
/// (over the tracker's 64 KiB limit for one handshake message when large), then
/// ServerHelloDone; both sides finish the handshake and a session follows for 30 s.
fn tls12_session_with_certificate_of(cert_len: usize) -> Vec<u8> {
    let mut c = conversation();
    c.send(Side::Client, &hex(TLS_OK_REQUEST))
        .send(Side::Server, &hex(TLS_OK_CONFIRM))
        .send(Side::Client, &hex(TLS_OK_CLIENT_HELLO));
    let mut flight = server_hello_tls12();
    let len = u32::try_from(cert_len).unwrap().to_be_bytes();
    flight.extend_from_slice(&[0x0b, len[1], len[2], len[3]]);
    flight.extend(std::iter::repeat_n(0x30, cert_len));
    flight.extend_from_slice(&[0x0e, 0x00, 0x00, 0x00]);
    c.send(Side::Server, &records(0x16, &flight));
    // ClientKeyExchange, ChangeCipherSpec, encrypted Finished; the server's CCS and Finished.
    let mut client = records(0x16, &[0x10, 0x00, 0x00, 0x02, 0x01, 0x04]);
    client.extend_from_slice(&records(0x14, &[0x01]));
    client.extend_from_slice(&records(0x16, &[0x77; 40]));
    c.send(Side::Client, &client);
    let mut server = records(0x14, &[0x01]);
    server.extend_from_slice(&records(0x16, &[0x66; 40]));
    c.send(Side::Server, &server);
    for _ in 0..30 {
        c.wait(1_000_000_000)
            .send(Side::Client, &records(0x17, &[0x11; 100]))
            .send(Side::Server, &records(0x17, &[0x22; 1000]));
    }
    c.fin(Side::Client).fin(Side::Server);
    c.into_packets().to_pcapng(None)
}

/// A 120 KB certificate message is over the tracker's limit: it is skipped and named by the
/// `decoder-limit` finding (info), and the verdict is the one the rest of the connection
/// supports (a 30 s session: `established`), not a handshake failure.
#[test]
fn a_certificate_over_the_decoder_limit_is_a_caveat_not_a_failure() {
    let conn = connection(
        "decoder-limit-cert.pcapng",
        &tls12_session_with_certificate_of(120 * 1024),
    );
    assert_eq!(
        conn["verdict"]["code"], "established",
        "{}",
        conn["verdict"]
    );
    assert_eq!(conn["tls"]["handshake_complete"], true);
    let limit = finding(&conn, "decoder-limit").expect("decoder-limit");
    assert_eq!(limit["severity"], "info");
    let summary = limit["summary"].as_str().unwrap();
    assert!(summary.contains("122880 bytes"), "{summary}");
    assert!(summary.contains("65536"), "{summary}");
    // The same session with a certificate the decoder takes has no such finding.
    let conn = connection(
        "decoder-limit-none.pcapng",
        &tls12_session_with_certificate_of(2000),
    );
    assert_eq!(
        conn["verdict"]["code"], "established",
        "{}",
        conn["verdict"]
    );
    assert!(finding(&conn, "decoder-limit").is_none());
}

// ---------------------------------------------------------------------------------------------
// Anomalies, not truths.

/// A Connection Confirm with RDP_NEG_RSP selecting `protocol`, with `length` in its header
/// (MS-RDPBCGR 2.2.1.2.1: always 8); `lab/tls-ok.pcap` frame 6's layout.
fn confirm(protocol: u8, length: u8) -> Vec<u8> {
    vec![
        0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x01, length, 0x00,
        protocol, 0x00, 0x00, 0x00,
    ]
}

/// The request, then `confirms` from the server, then the client closes 2 ms later.
fn negotiation_with(confirms: &[Vec<u8>]) -> Vec<u8> {
    let mut c = conversation();
    c.send(Side::Client, &hex(TLS_OK_REQUEST));
    for confirm in confirms {
        c.send(Side::Server, confirm);
    }
    c.wait(2_000_000).fin(Side::Client).fin(Side::Server);
    c.into_packets().to_pcapng(None)
}

/// A second Connection Confirm that contradicts the first is named by the verdict; the
/// first stays the fact.
#[test]
fn a_second_different_connection_confirm_is_a_caveat() {
    let conn = connection(
        "second-confirm.pcapng",
        &negotiation_with(&[confirm(1, 8), confirm(0, 8)]),
    );
    assert_eq!(conn["x224"]["selected_protocol"], "SSL", "{}", conn["x224"]);
    let summary = conn["verdict"]["summary"].as_str().unwrap();
    assert!(summary.contains("caveat: a second Connection Confirm (selecting RDP) contradicts the first (selecting SSL)"), "{summary}");
    assert!(finding(&conn, "standard-rdp-security").is_none());
    // The same confirm twice (a retransmission the capture shows twice) is no caveat.
    let conn = connection(
        "same-confirm.pcapng",
        &negotiation_with(&[confirm(1, 8), confirm(1, 8)]),
    );
    let summary = conn["verdict"]["summary"].as_str().unwrap();
    assert!(!summary.contains("caveat"), "{summary}");
}

/// An RDP_NEG_RSP whose length is not 8 selects nothing: no `standard-rdp-security` (or any
/// finding drawn from the selection) comes from it, and the verdict names it.
#[test]
fn a_negotiation_response_of_wrong_length_is_a_caveat_not_standard_security() {
    let conn = connection(
        "neg-rsp-length.pcapng",
        &negotiation_with(&[confirm(0, 16)]),
    );
    assert_eq!(conn["x224"]["confirm"], "malformed", "{}", conn["x224"]);
    assert!(finding(&conn, "standard-rdp-security").is_none(), "{conn}");
    assert!(finding(&conn, "nla-not-enforced").is_none(), "{conn}");
    let summary = conn["verdict"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("after a malformed Connection Confirm"),
        "{summary}"
    );
    assert!(summary.contains("caveat: the Connection Confirm carries a malformed negotiation structure (RDP_NEG_RSP declares length 16"), "{summary}");
}

/// An RDP_NEG_RSP selecting a protocol the client never requested is a caveat the verdict
/// names.
#[test]
fn a_selection_never_requested_is_a_caveat() {
    // The request asks for SSL only; the server "selects" HYBRID.
    let conn = connection(
        "neg-rsp-unrequested.pcapng",
        &negotiation_with(&[confirm(2, 8)]),
    );
    let summary = conn["verdict"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("caveat: the server selected HYBRID although the client requested SSL"),
        "{summary}"
    );
}

/// A ServerHello choosing a suite the ClientHello never offered, and a second ServerHello,
/// are caveats the verdict names; the first ServerHello stays the fact.
#[test]
fn server_hellos_that_contradict_the_offer_are_caveats() {
    let mut c = conversation();
    c.send(Side::Client, &hex(TLS_OK_REQUEST))
        .send(Side::Server, &hex(TLS_OK_CONFIRM))
        .send(Side::Client, &hex(TLS_OK_CLIENT_HELLO));
    let mut never_offered = server_hello_tls12();
    // TLS_RSA_WITH_NULL_MD5 (0x0001): no RDP client offers it.
    never_offered[2 + 4 + 32 + 1] = 0x00;
    never_offered[2 + 4 + 32 + 2] = 0x01;
    c.send(Side::Server, &records(0x16, &never_offered))
        .send(Side::Server, &records(0x16, &server_hello_tls12()))
        .wait(2_000_000)
        .send(Side::Client, &records(0x15, &[0x02, 47]))
        .fin(Side::Client);
    let conn = connection(
        "server-hello-caveats.pcapng",
        &c.into_packets().to_pcapng(None),
    );
    assert_eq!(
        conn["tls"]["cipher_suite"], "TLS_RSA_WITH_NULL_MD5",
        "{}",
        conn["tls"]
    );
    let summary = conn["verdict"]["summary"].as_str().unwrap();
    assert!(
        summary.contains(
            "the ServerHello chose TLS_RSA_WITH_NULL_MD5, which the ClientHello did not offer"
        ),
        "{summary}"
    );
    assert!(summary.contains("a second ServerHello"), "{summary}");
    // A suite no client can use gives no tls-weak-cipher finding.
    assert!(finding(&conn, "tls-weak-cipher").is_none(), "{conn}");
}

// ---------------------------------------------------------------------------------------------
// Decoding: fragmented alerts, SSL 2.0 compatible hellos.

/// RFC 5246 6.2.1: a fatal alert split over two records is one alert: the server's
/// handshake_failure after the ClientHello is still a cipher mismatch.
#[test]
fn a_fatal_alert_split_over_two_records_is_decoded() {
    let mut c = conversation();
    c.send(Side::Client, &hex(TLS_OK_REQUEST))
        .send(Side::Server, &hex(TLS_OK_CONFIRM))
        .send(Side::Client, &hex(TLS_OK_CLIENT_HELLO))
        .send(Side::Server, &records(0x15, &[0x02]))
        .send(Side::Server, &records(0x15, &[40]))
        .fin(Side::Server);
    let conn = connection("split-alert.pcapng", &c.into_packets().to_pcapng(None));
    assert_eq!(
        conn["verdict"]["code"], "tls-cipher-mismatch",
        "{}",
        conn["verdict"]
    );
    let alerts = conn["tls"]["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["description"], "handshake_failure");
    assert_eq!(conn["anomalies"].as_array().map(Vec::len), Some(0));
}

/// RFC 5246 appendix E.2: an SSL 2.0 compatible ClientHello (two-byte header with the high
/// bit set, msg_type 1) for TLS 1.0, answered by a TLS ServerHello: the offer is decoded and
/// the handshake tracked as usual (here the client then refuses the certificate).
#[test]
fn an_sslv2_compatible_client_hello_is_decoded() {
    // TLS 1.0; TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA and the SSL 2.0
    // kind SSL_CK_DES_192_EDE3_CBC_WITH_MD5; no session id; a 16-byte challenge.
    let hello = hex(
        "802201030100090000001000002f00000a0700c0111213141516171819 1a1b1c1d1e1f20"
            .replace(' ', "")
            .as_str(),
    );
    let mut server_hello = vec![0x03, 0x01];
    server_hello.extend_from_slice(&[0x44; 32]);
    server_hello.extend_from_slice(&[0x00, 0x00, 0x2f, 0x00]);
    let mut msg = vec![0x02, 0x00, 0x00, u8::try_from(server_hello.len()).unwrap()];
    msg.extend_from_slice(&server_hello);
    let mut c = conversation();
    c.send(Side::Client, &hex(TLS_OK_REQUEST))
        .send(Side::Server, &hex(TLS_OK_CONFIRM))
        .send(Side::Client, &hello)
        .send(Side::Server, &records(0x16, &msg))
        .wait(2_000_000)
        .send(Side::Client, &records(0x15, &[0x02, 48]))
        .fin(Side::Client);
    let conn = connection("sslv2-hello.pcapng", &c.into_packets().to_pcapng(None));
    let tls = &conn["tls"];
    assert_eq!(
        tls["client_versions"],
        serde_json::json!(["TLS1.0"]),
        "{tls}"
    );
    assert_eq!(
        tls["client_cipher_suites"],
        serde_json::json!([
            "TLS_RSA_WITH_AES_128_CBC_SHA",
            "TLS_RSA_WITH_3DES_EDE_CBC_SHA"
        ]),
        "{tls}"
    );
    assert_eq!(tls["version"], "TLS1.0");
    assert_eq!(tls["cipher_suite"], "TLS_RSA_WITH_AES_128_CBC_SHA");
    assert_eq!(
        conn["verdict"]["code"], "tls-handshake-failed",
        "{}",
        conn["verdict"]
    );
    assert!(conn["tls"]["clear_text_from"].is_null());
}

// ---------------------------------------------------------------------------------------------
// Client flags in the text report.

/// Restricted Admin mode and Remote Credential Guard (RDP_NEG_REQ flags, MS-RDPBCGR
/// 2.2.1.1.1) appear with their meaning on the text report's negotiation line.
#[test]
fn restricted_admin_and_remote_credential_guard_show_in_the_text_report() {
    for (flags, words) in [
        (0x01u8, "Restricted Admin mode required"),
        (0x02, "Remote Credential Guard required"),
    ] {
        let mut request = hex(TLS_OK_REQUEST);
        // RDP_NEG_REQ: type 1, flags, length 8, requestedProtocols; flags is the 7th byte
        // from the end.
        let at = request.len() - 7;
        request[at] = flags;
        let mut c = conversation();
        c.send(Side::Client, &request)
            .send(Side::Server, &hex(TLS_OK_CONFIRM))
            .wait(2_000_000)
            .fin(Side::Client);
        let out = run(
            &format!("neg-flags-{flags}.pcapng"),
            &c.into_packets().to_pcapng(None),
            &["--color", "never"],
        )
        .stdout;
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with("negotiation"))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(line.contains(words), "{line}");
    }
}
