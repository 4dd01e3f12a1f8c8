//! Zeek's RDP baselines (`../shared/corpus/zeek/*/baseline.*.rdp.log`) against our output, field
//! by field, matched on the connection 4-tuple.
//!
//! Zeek writes names where we write values or other names; the mapping is explicit below. Where
//! `zeek/FEATURES.md` documents a Zeek bug we follow the specification (cluster flags are not an
//! rdp.log field, so none applies to the columns compared here).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use serde_json::Value;

/// The rows of a Zeek TSV log as field name -> value maps.
fn zeek_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let fields: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .map(|f| f.split('\t').collect())
        .unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            fields
                .iter()
                .map(|f| f.to_string())
                .zip(l.split('\t').map(str::to_string))
                .collect()
        })
        .collect()
}

/// Zeek's value for "unset" and our `null` are the same thing.
fn unset(v: &str) -> bool {
    v == "-"
}

/// Zeek escapes a backslash in strings.
fn zeek_string(v: &str) -> String {
    v.replace("\\\\", "\\")
}

fn check(name: &str, row: &BTreeMap<String, String>, c: &Value, failures: &mut Vec<String>) {
    let mut expect = |field: &str, ok: bool, ours: &Value| {
        if !ok {
            failures.push(format!("{name}: {field} zeek {:?} ours {ours}", row[field]));
        }
    };
    let x = &c["x224"];
    let mcs = &c["mcs"];
    let client = &mcs["client"];
    let server = &mcs["server"];

    let cookie = &row["cookie"];
    let ours = x["cookie"].as_str().unwrap_or("");
    expect(
        "cookie",
        cookie == "(empty)" && ours.is_empty() || zeek_string(cookie) == ours,
        &x["cookie"],
    );

    // result: a failure code, "encrypted" (TLS selected), "Success" (MCS rt-successful) or unset.
    let result = row["result"].as_str();
    let ok = match result {
        "-" => mcs["result"].is_null() && x["failure_code"].is_null(),
        "encrypted" => x["selected_protocol"].as_str().is_some_and(|p| p != "RDP"),
        "Success" => mcs["result"] == "rt-successful",
        code => x["failure_code"] == code,
    };
    expect("result", ok, &mcs["result"]);

    let protocol = &row["security_protocol"];
    expect(
        "security_protocol",
        unset(protocol) && x["selected_protocol"].is_null()
            || x["selected_protocol"] == protocol.as_str(),
        &x["selected_protocol"],
    );

    let channels: Vec<String> = client["channels"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    let zeek_channels = &row["client_channels"];
    expect(
        "client_channels",
        unset(zeek_channels) && channels.is_empty()
            || zeek_channels
                .split(',')
                .eq(channels.iter().map(String::as_str)),
        &client["channels"],
    );

    // Keyboard: Zeek writes "English - United States" where we write "English (United States)";
    // for an unknown layout it guesses the language from the low word, as we do.
    let keyboard = &row["keyboard_layout"];
    let ours = client["keyboard_layout"].as_str().unwrap_or("");
    let zeek_language = keyboard.split([' ', '(']).next().unwrap_or("");
    expect(
        "keyboard_layout",
        unset(keyboard) && ours.is_empty() || ours.starts_with(zeek_language),
        &client["keyboard_layout"],
    );

    // Zeek names the client build by RDP client version; we keep the build number.
    let build = &row["client_build"];
    let ours = client["client_build"].as_u64();
    let zeek_build = match build.as_str() {
        "-" => None,
        "RDP 6.0" => Some(6000),
        "RDP 8.1" => Some(9600),
        other => panic!("{name}: add the build number for {other:?}"),
    };
    expect("client_build", ours == zeek_build, &client["client_build"]);

    for (field, ours) in [
        ("client_name", &client["client_name"]),
        ("client_dig_product_id", &client["client_dig_product_id"]),
    ] {
        let z = &row[field];
        let ok = unset(z) && ours.is_null() || z == "(empty)" && ours == "" || ours == z.as_str();
        expect(field, ok, ours);
    }
    for (field, ours) in [
        ("desktop_width", &client["desktop_width"]),
        ("desktop_height", &client["desktop_height"]),
    ] {
        let z = &row[field];
        expect(
            field,
            unset(z) && ours.is_null() || ours.as_u64() == z.parse().ok(),
            ours,
        );
    }
    let depth = &row["requested_color_depth"];
    expect(
        "requested_color_depth",
        unset(depth) && client["color_depth"].is_null()
            || client["color_depth"]
                .as_u64()
                .map(|d| format!("{d}bit"))
                .as_deref()
                == Some(depth.as_str()),
        &client["color_depth"],
    );

    let cert = &server["certificate"];
    let cert_type = match row["cert_type"].as_str() {
        "-" => Value::Null,
        "RSA" => Value::from("proprietary"),
        "X.509" => Value::from("x509"),
        other => panic!("{name}: unknown cert_type {other}"),
    };
    expect("cert_type", cert["type"] == cert_type, &cert["type"]);
    let count: u64 = row["cert_count"].parse().unwrap();
    expect(
        "cert_count",
        cert["count"].as_u64().unwrap_or(0) == count,
        &cert["count"],
    );
    let permanent = match row["cert_permanent"].as_str() {
        "-" => Value::Null,
        "T" => Value::Bool(true),
        _ => Value::Bool(false),
    };
    expect(
        "cert_permanent",
        cert["permanent"] == permanent,
        &cert["permanent"],
    );

    let level = match row["encryption_level"].as_str() {
        "-" => Value::Null,
        "High" => Value::from("HIGH"),
        "Client compatible" => Value::from("CLIENT_COMPATIBLE"),
        "Low" => Value::from("LOW"),
        "None" => Value::from("NONE"),
        "FIPS" => Value::from("FIPS"),
        other => panic!("{name}: unknown encryption_level {other}"),
    };
    expect(
        "encryption_level",
        server["encryption_level"] == level,
        &server["encryption_level"],
    );
    let method = match row["encryption_method"].as_str() {
        "-" => Value::Null,
        "40bit" => Value::from("40BIT"),
        "56bit" => Value::from("56BIT"),
        "128bit" => Value::from("128BIT"),
        "FIPS" => Value::from("FIPS"),
        other => panic!("{name}: unknown encryption_method {other}"),
    };
    expect(
        "encryption_method",
        server["encryption_method"] == method,
        &server["encryption_method"],
    );
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn zeek_rdp_logs_match() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut compared = 0usize;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(corpus.join("zeek")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let trace = dir.file_name().unwrap().to_string_lossy().to_string();
        let Some(log) = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(".rdp.log"))
        else {
            continue;
        };
        let pcap = dir.join(format!("{trace}.pcap"));
        let run = common::rdp_pcap(&[
            std::ffi::OsStr::new("--format"),
            "jsonl".as_ref(),
            pcap.as_os_str(),
        ]);
        let conns = run.connections();
        for row in zeek_rows(&std::fs::read_to_string(&log).unwrap()) {
            let client = format!("{}:{}", row["id.orig_h"], row["id.orig_p"]);
            let server = format!("{}:{}", row["id.resp_h"], row["id.resp_p"]);
            let Some(c) = conns
                .iter()
                .find(|c| c["client"] == client.as_str() && c["server"] == server.as_str())
            else {
                failures.push(format!("{trace}: no connection {client} -> {server}"));
                continue;
            };
            compared += 1;
            check(&format!("{trace} {client}"), &row, c, &mut failures);
        }
    }
    assert!(compared >= 7, "only {compared} rdp.log rows compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Zeek's `rdp-invalid-length` trace: a client that sends no TPKT, and a confirm whose
/// RDP_NEG_RSP declares length 0. No panic, a clear verdict, and the bad length named.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn zeek_invalid_length_is_reported_clearly() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let pcap = corpus.join("zeek/rdp-invalid-length/rdp-invalid-length.pcap");
    let run = common::rdp_pcap(&[
        std::ffi::OsStr::new("--format"),
        "jsonl".as_ref(),
        pcap.as_os_str(),
    ]);
    assert_eq!(run.status, 0);
    let conns = run.connections();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["verdict"]["code"], "not-rdp");
    let anomalies = conns[0]["anomalies"].to_string();
    assert!(
        anomalies.contains("RDP_NEG_RSP declares length 0"),
        "{anomalies}"
    );
}

/// suricata-verify `rdp-protocol` (RDP-003): the values its `test.yaml` checks, in our names
/// (Suricata's `rdp.client.version: "v5"` is our RDP 5.0+ version word, `build: "Windows XP"`
/// is build 2600, `capabilities[0]: "support_errinfo_pdf"` is RNS_UD_CS_SUPPORT_ERRINFO_PDU (SUPPORT_ERRINFO_PDU) and
/// `id` is the client's dig product id).
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn suricata_rdp_003() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let pcap = corpus.join("suricata/rdp-protocol/RDP-003.pcap");
    let run = common::rdp_pcap(&[
        std::ffi::OsStr::new("--format"),
        "jsonl".as_ref(),
        pcap.as_os_str(),
    ]);
    let conns = run.connections();
    assert_eq!(conns.len(), 1, "{}", run.stdout);
    let c = &conns[0];
    let client = &c["mcs"]["client"];
    assert_eq!(c["x224"]["cookie"], "A70067");
    assert!(client["version"].as_str().unwrap().starts_with("RDP 5.0+"));
    assert_eq!(client["client_build_name"], "Windows XP");
    assert_eq!(client["desktop_height"], 864);
    assert_eq!(client["client_name"], "ISD2-KM84178");
    assert_eq!(client["early_capability_flags"][0], "SUPPORT_ERRINFO_PDU");
    assert_eq!(client["client_dig_product_id"], "55274-OEM-0011903-00107");
    let channels: Vec<&str> = client["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ch| ch["name"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["rdpdr", "cliprdr", "rdpsnd"]);
}
