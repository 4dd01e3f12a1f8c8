//! The subcommands around the analysis: what a mistyped one gets, and that none of them takes
//! the place of `rdp-pcap FILE`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;

use common::{rdp_pcap, samples_dir};

#[test]
fn a_mistyped_subcommand_is_an_error_with_a_suggestion() {
    for (typed, meant) in [("explian", "explain"), ("analyse", "analyze")] {
        let run = rdp_pcap(&[typed]);
        assert_eq!(run.status, 2, "{typed}");
        assert!(run.stdout.is_empty(), "{typed}: {}", run.stdout);
        assert!(
            run.stderr
                .contains(&format!("unrecognized subcommand '{typed}'")),
            "{typed}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains(&format!("a similar subcommand exists: '{meant}'")),
            "{typed}: {}",
            run.stderr
        );
        // Also with more arguments after it.
        let run = rdp_pcap(&[typed, "tls-cipher-mismatch"]);
        assert_eq!(run.status, 2, "{typed}");
        assert!(
            run.stderr.contains("a similar subcommand exists"),
            "{typed}"
        );
    }
}

#[test]
fn a_missing_file_is_still_a_missing_file() {
    // A path, a name with an extension, and a word close to no subcommand.
    for name in ["/nonexistent/explian", "explian.pcap", "nosuchcapture"] {
        let run = rdp_pcap(&[name]);
        assert_eq!(run.status, 2, "{name}");
        assert_eq!(
            run.stderr,
            format!("rdp-pcap: {name}: no such file or directory\n")
        );
    }
}

#[test]
fn a_file_named_like_a_mistyped_subcommand_is_analysed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        samples_dir().join("cipher-mismatch.pcap"),
        dir.path().join("explian"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rdp-pcap"))
        .args(["--format", "jsonl", "explian"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("tls-cipher-mismatch"), "{stdout}");
}

#[test]
fn the_implicit_analyze_still_works() {
    let sample = samples_dir().join("cipher-mismatch.pcap");
    let sample = sample.to_str().unwrap();
    let run = rdp_pcap(&[sample]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.contains("tls-cipher-mismatch"));
    let run = rdp_pcap(&["--format", "jsonl", sample]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.connections().len(), 1);
}
