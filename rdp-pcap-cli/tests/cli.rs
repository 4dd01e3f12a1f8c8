//! The command line as a user meets it: formats, exit statuses, explanations, and the text
//! report of the bundled samples as snapshots (reviewed as a user reads them).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{rdp_pcap, samples_dir};

fn sample(name: &str) -> String {
    samples_dir().join(name).display().to_string()
}

/// The text report with the samples folder's absolute path removed, so snapshots are stable.
fn text_report(name: &str) -> String {
    let run = rdp_pcap(&["--color", "never", &sample(name)]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    run.stdout
        .replace(&samples_dir().display().to_string(), "samples")
}

#[test]
fn snapshot_negotiation_failure() {
    insta::assert_snapshot!(text_report("neg-failure-hybrid-required.pcap"));
}

#[test]
fn snapshot_cipher_mismatch() {
    insta::assert_snapshot!(text_report("cipher-mismatch.pcap"));
}

#[test]
fn snapshot_standard_security() {
    insta::assert_snapshot!(text_report("rdp-standard-security.pcap"));
}

#[test]
fn snapshot_nla_session() {
    insta::assert_snapshot!(text_report("nla-ok.pcap"));
}

#[test]
fn fail_on_sets_status_1_only_at_or_above_the_threshold() {
    let failure = sample("neg-failure-hybrid-required.pcap");
    assert_eq!(rdp_pcap(&["--fail-on", "error", &failure]).status, 1);
    assert_eq!(rdp_pcap(&["--fail-on", "never", &failure]).status, 0);
    assert_eq!(rdp_pcap(&[failure.as_str()]).status, 0);
    // A working session on NLA has only info verdicts and findings at most.
    let nla = sample("nla-ok.pcap");
    assert_eq!(rdp_pcap(&["--fail-on", "error", &nla]).status, 0);
    // Standard RDP Security works but is a warning.
    let std = sample("rdp-standard-security.pcap");
    assert_eq!(rdp_pcap(&["--fail-on", "error", &std]).status, 0);
    assert_eq!(rdp_pcap(&["--fail-on", "warning", &std]).status, 1);
}

#[test]
fn input_problems_win_over_fail_on_and_the_rest_is_analysed() {
    let run = rdp_pcap(&[
        "--format",
        "jsonl",
        "--fail-on",
        "error",
        "/nonexistent.pcap",
        &sample("neg-failure-hybrid-required.pcap"),
    ]);
    assert_eq!(run.status, 2);
    assert_eq!(
        run.stderr,
        "rdp-pcap: /nonexistent.pcap: no such file or directory\n"
    );
    let lines = run.json_lines();
    assert_eq!(lines[0]["type"], "input-error");
    assert_eq!(run.connections().len(), 1);
    assert_eq!(lines.last().unwrap()["type"], "summary");
    assert_eq!(lines.last().unwrap()["inputs_with_problems"], 1);
}

#[test]
fn a_file_that_is_not_a_capture_is_one_clear_line() {
    let readme = samples_dir().join("README.md");
    let run = rdp_pcap(&[readme.as_os_str()]);
    assert_eq!(run.status, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a pcap or pcapng capture"),
        "{}",
        run.stderr
    );
}

#[test]
fn directory_argument_analyses_every_sample() {
    let run = rdp_pcap(&["--format", "jsonl", samples_dir().to_str().unwrap()]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let summary = run.json_lines().pop().unwrap();
    assert_eq!(summary["inputs"], 6);
    assert_eq!(summary["connections"], 6);
    let verdicts = &summary["verdicts"];
    assert_eq!(verdicts["established"], 4);
    assert_eq!(verdicts["negotiation-failure"], 1);
    assert_eq!(verdicts["tls-cipher-mismatch"], 1);
}

#[test]
fn one_or_two_threads_give_the_same_report() {
    let dir = samples_dir().display().to_string();
    let one = rdp_pcap(&["--format", "jsonl", "--threads", "1", &dir]);
    let two = rdp_pcap(&["--format", "jsonl", "--threads", "2", &dir]);
    let default = rdp_pcap(&["--format", "jsonl", &dir]);
    assert_eq!(one.status, 0, "{}", one.stderr);
    assert!(one.stdout.lines().count() > 5);
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(one.stdout, default.stdout);
    let bad = rdp_pcap(&["--threads", "3", &dir]);
    assert_eq!(bad.status, 2);
    assert!(bad.stderr.contains("--threads"), "{}", bad.stderr);
}

#[test]
fn csv_has_a_header_and_one_row_per_connection() {
    let run = rdp_pcap(&["--format", "csv", samples_dir().to_str().unwrap()]);
    assert_eq!(run.status, 0);
    let rows: Vec<&str> = run.stdout.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 7);
    assert!(rows[0].starts_with("id,capture,client,server,start,duration_ms,verdict,"));
    assert!(rows
        .iter()
        .any(|r| r.contains(",negotiation-failure,error,")));
    // Summaries hold commas, so they are quoted.
    assert!(rows[1].contains(",\""));
}

#[test]
fn json_document_holds_everything() {
    let run = rdp_pcap(&["--format", "json", samples_dir().to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["connections"].as_array().unwrap().len(), 6);
    assert_eq!(doc["captures"].as_array().unwrap().len(), 6);
    assert_eq!(doc["summary"]["connections"], 6);
}

#[test]
fn explain_lists_and_explains() {
    let run = rdp_pcap(&["explain"]);
    assert_eq!(run.status, 0);
    assert!(run.stdout.contains("tls-cipher-mismatch"));
    let run = rdp_pcap(&["explain", "auth-failed"]);
    assert_eq!(run.status, 0);
    assert!(run.stdout.contains("How to fix"));
    let run = rdp_pcap(&["explain", "no-such-code"]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("unknown code"));
}

#[test]
fn color_always_paints_the_verdict() {
    let run = rdp_pcap(&[
        "--color",
        "always",
        &sample("neg-failure-hybrid-required.pcap"),
    ]);
    assert!(run.stdout.contains("\x1b[1;31mnegotiation-failure\x1b[0m"));
    let run = rdp_pcap(&[
        "--color",
        "auto",
        &sample("neg-failure-hybrid-required.pcap"),
    ]);
    assert!(!run.stdout.contains('\x1b'), "not a terminal: no colour");
}

/// The real binary reading a capture from standard input (`-`), as in `tcpdump -w - | rdp-pcap -`.
#[test]
fn stdin_dash_reads_the_capture() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let bytes = std::fs::read(samples_dir().join("neg-failure-hybrid-required.pcap")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdp-pcap"))
        .args(["--format", "jsonl", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["capture"], "-");
    assert_eq!(first["verdict"]["code"], "negotiation-failure");
}

/// A closed pipe (`rdp-pcap ... | head -1`) ends the run quietly, without a panic.
#[test]
fn closed_stdout_is_not_a_crash() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdp-pcap"))
        .arg(samples_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn timeline_lists_the_handshake_in_order() {
    let run = rdp_pcap(&[
        "--format",
        "jsonl",
        "--timeline",
        &sample("cipher-mismatch.pcap"),
    ]);
    let conn = &run.connections()[0];
    let events: Vec<&str> = conn["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let pos = |what: &str| events.iter().position(|e| *e == what).unwrap();
    assert!(pos("X.224 Connection Request") < pos("X.224 Connection Confirm"));
    assert!(pos("X.224 Connection Confirm") < pos("TLS ClientHello"));
    assert!(pos("TLS ClientHello") < pos("TLS alert fatal handshake_failure"));
    assert!(events.contains(&"MCS Disconnect Provider Ultimatum"));
    let without = rdp_pcap(&["--format", "jsonl", &sample("cipher-mismatch.pcap")]);
    assert!(without.connections()[0]["timeline"].is_null());
}

/// A capture that starts after the X.224 negotiation (the first 7 packets of `tls-ok.pcap`
/// dropped: SYN to the ACK of the Connection Confirm) still judges the TLS handshake and the
/// session that follow.
#[test]
fn capture_starting_after_the_negotiation() {
    let bytes = std::fs::read(samples_dir().join("tls-ok.pcap")).unwrap();
    let (header, mut records) = bytes.split_at(24);
    let mut cut = header.to_vec();
    let mut index = 0;
    while records.len() >= 16 {
        let caplen =
            usize::try_from(u32::from_le_bytes(records[8..12].try_into().unwrap())).unwrap();
        let (record, rest) = records.split_at(16 + caplen);
        index += 1;
        if index > 7 {
            cut.extend_from_slice(record);
        }
        records = rest;
    }
    let path = std::env::temp_dir().join(format!("rdp-pcap-midstream-{}.pcap", std::process::id()));
    std::fs::write(&path, &cut).unwrap();
    let run = rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
    std::fs::remove_file(&path).unwrap();
    let conns = run.connections();
    assert_eq!(conns.len(), 1, "{}", run.stdout);
    let c = &conns[0];
    assert_eq!(c["mid_stream"], true);
    assert_eq!(c["x224"], serde_json::Value::Null);
    assert_eq!(c["client"], "127.0.0.1:48738");
    assert_eq!(
        c["verdict"]["code"], "established",
        "{}",
        c["verdict"]["summary"]
    );
    assert!(c["verdict"]["summary"]
        .as_str()
        .unwrap()
        .contains("negotiation not in the capture"));
}
