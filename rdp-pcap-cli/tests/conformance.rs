//! Conformance against the lab captures' ground truth (`../shared/corpus/lab/*.expect.json`) and
//! a no-crash run over every capture of the shared corpus.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use serde_json::Value;

/// An `ip:port` endpoint as (address, port).
///
/// Our output writes IPv6 endpoints as `[::1]:3389` (RFC 3986 section 3.2.2, as the output
/// contract requires); the lab expectations write `::1:3389`. Both mean the same endpoint:
/// the port is what follows the last colon.
fn endpoint(v: &Value) -> Option<(std::net::IpAddr, u16)> {
    let text = v.as_str()?;
    let (ip, port) = text.rsplit_once(':')?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    Some((ip.parse().ok()?, port.parse().ok()?))
}

/// Certificate signature names: our output uses the RFC 4055/3279 names
/// (`sha256WithRSAEncryption`); the lab expectations use the shorter names
/// (`sha256WithRSA`). Both name the same OID.
fn signature_name(v: &Value) -> Option<String> {
    v.as_str()
        .map(|s| s.trim_end_matches("Encryption").to_string())
}

fn check_tls(at: &str, g: &Value, w: &Value, failures: &mut Vec<String>) {
    if w.is_null() || g.is_null() {
        if w.is_null() != g.is_null() {
            failures.push(format!("{at}: tls {g} != expected {w}"));
        }
        return;
    }
    let offered = g["client_cipher_suites"].as_array().map(Vec::len);
    if offered.map(|n| u64::try_from(n).unwrap()) != w["client_cipher_suites"].as_u64() {
        failures.push(format!(
            "{at}: {offered:?} suites offered, expected {}",
            w["client_cipher_suites"]
        ));
    }
    for key in ["client_versions", "version", "cipher_suite"] {
        if g[key] != w[key] {
            failures.push(format!("{at}: tls.{key} {} != expected {}", g[key], w[key]));
        }
    }
    match (&g["certificate"], &w["certificate"]) {
        (_, Value::Null) => {}
        (Value::Null, wc) => failures.push(format!("{at}: no certificate, expected {wc}")),
        (gc, wc) => {
            for key in ["not_before", "not_after", "key_bits"] {
                if gc[key] != wc[key] {
                    failures.push(format!(
                        "{at}: certificate.{key} {} != expected {}",
                        gc[key], wc[key]
                    ));
                }
            }
            if signature_name(&gc["signature"]) != signature_name(&wc["signature"]) {
                failures.push(format!(
                    "{at}: certificate.signature {} != expected {}",
                    gc["signature"], wc["signature"]
                ));
            }
        }
    }
    let got: Vec<Value> = g["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            if a["encrypted"] == true {
                serde_json::json!({"from": a["from"], "encrypted": true})
            } else {
                serde_json::json!({"from": a["from"], "level": a["level"], "description": a["description"]})
            }
        })
        .collect();
    if Value::Array(got.clone()) != w["alerts"] {
        failures.push(format!("{at}: alerts {got:?} != expected {}", w["alerts"]));
    }
}

fn check_capture(expect_path: &std::path::Path, failures: &mut Vec<String>) {
    let expect: Value =
        serde_json::from_str(&std::fs::read_to_string(expect_path).unwrap()).unwrap();
    let capture = expect_path.with_file_name(expect["capture"].as_str().unwrap());
    let name = capture.file_name().unwrap().to_string_lossy().to_string();
    let mut args: Vec<String> = vec!["analyze".into(), "--format".into(), "jsonl".into()];
    args.extend(
        expect["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string()),
    );
    args.push(capture.display().to_string());
    let run = common::rdp_pcap(&args);
    if run.status != 0 {
        failures.push(format!(
            "{name}: exit status {} ({})",
            run.status,
            run.stderr.trim()
        ));
    }
    let got = run.connections();
    let want = expect["connections"].as_array().unwrap();
    if got.len() != want.len() {
        failures.push(format!(
            "{name}: {} connections, expected {}",
            got.len(),
            want.len()
        ));
        return;
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let at = format!("{name} connection {i}");
        for key in ["client", "server"] {
            if endpoint(&g[key]) != endpoint(&w[key]) {
                failures.push(format!("{at}: {key} {} != expected {}", g[key], w[key]));
            }
        }
        match (&g["x224"], &w["x224"]) {
            (Value::Null, Value::Null) => {}
            (Value::Null, _) | (_, Value::Null) => {
                failures.push(format!(
                    "{at}: x224 {} != expected {}",
                    g["x224"], w["x224"]
                ));
            }
            (gx, wx) => {
                for (key, expected) in wx.as_object().unwrap() {
                    if &gx[key] != expected {
                        failures.push(format!(
                            "{at}: x224.{key} {} != expected {expected}",
                            gx[key]
                        ));
                    }
                }
            }
        }
        check_tls(&at, &g["tls"], &w["tls"], failures);
        if g["standard_security"] != w["standard_security"] {
            failures.push(format!(
                "{at}: standard_security {} != expected {}",
                g["standard_security"], w["standard_security"]
            ));
        }
        let accepted: Vec<&str> = w["verdict"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let code = g["verdict"]["code"].as_str().unwrap_or("?");
        if !accepted.contains(&code) {
            failures.push(format!(
                "{at}: verdict {code} ({}) not among {accepted:?}",
                g["verdict"]["summary"]
            ));
        }
        let findings: Vec<&str> = g["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect();
        for wanted in w["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
        {
            if !findings.contains(&wanted) {
                failures.push(format!("{at}: finding {wanted} missing (got {findings:?})"));
            }
        }
    }
    let capture_findings: Vec<String> = run
        .json_lines()
        .iter()
        .filter(|v| v["type"] == "finding")
        .filter_map(|v| v["code"].as_str().map(str::to_string))
        .collect();
    for wanted in expect["capture_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
    {
        if !capture_findings.iter().any(|c| c == wanted) {
            failures.push(format!(
                "{name}: capture finding {wanted} missing (got {capture_findings:?})"
            ));
        }
    }
}

#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn lab_expectations() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut expects: Vec<_> = std::fs::read_dir(corpus.join("lab"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".expect.json"))
        .collect();
    expects.sort();
    assert!(
        expects.len() >= 20,
        "only {} expectation files",
        expects.len()
    );
    let mut failures = Vec::new();
    for path in &expects {
        check_capture(path, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every capture of the corpus is analysed without a panic, and every problem it reports is one
/// of the documented input errors.
#[test]
#[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
fn whole_corpus_runs_cleanly() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let captures = common::captures_below(&corpus);
    assert!(
        captures.len() >= 40,
        "only {} captures found",
        captures.len()
    );
    for capture in captures {
        let run = common::rdp_pcap(&[
            std::ffi::OsStr::new("--format"),
            "jsonl".as_ref(),
            capture.as_os_str(),
        ]);
        assert!(
            run.status == 0 || run.status == 2,
            "{}: status {}",
            capture.display(),
            run.status
        );
        for line in run.stderr.lines() {
            let documented = ["capture cut short", "corrupt capture", "unknown link type"]
                .iter()
                .any(|m| line.contains(m));
            assert!(
                documented,
                "{}: undocumented problem: {line}",
                capture.display()
            );
        }
        let lines = run.json_lines();
        assert_eq!(
            lines.last().unwrap()["type"],
            "summary",
            "{}",
            capture.display()
        );
        // Password guessing is reported only where the lab's ground truth has it (the healthy
        // captures, the scans and the fuzzing runs have none).
        let guessing = |codes: Vec<&str>| -> Vec<String> {
            codes
                .into_iter()
                .filter(|c| ["brute-force", "password-spray"].contains(c))
                .map(str::to_string)
                .collect()
        };
        let expect_path = capture.with_file_name(format!(
            "{}.expect.json",
            capture.file_name().unwrap().to_string_lossy()
        ));
        let expected: Value = std::fs::read_to_string(&expect_path)
            .map_or(Value::Null, |text| serde_json::from_str(&text).unwrap());
        let wanted = guessing(
            expected["capture_findings"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default(),
        );
        let got = guessing(
            lines
                .iter()
                .filter(|l| l["type"] == "finding")
                .filter_map(|l| l["code"].as_str())
                .collect(),
        );
        assert_eq!(got, wanted, "{}", capture.display());
        assert!(
            lines.iter().any(|l| l["type"] == "capture"),
            "{}",
            capture.display()
        );
    }
}
