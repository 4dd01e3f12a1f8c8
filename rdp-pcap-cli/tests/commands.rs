//! The subcommands around the analysis: what a mistyped one gets, completion scripts and the
//! manual page, and that none of them takes the place of `rdp-pcap FILE`.
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
    for (typed, meant) in [
        ("explian", "explain"),
        ("analyse", "analyze"),
        ("complitions", "completions"),
    ] {
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

/// The long options of `rdp-pcap analyze`, read from its help.
fn analyze_options() -> Vec<String> {
    let help = rdp_pcap(&["analyze", "--help"]).stdout;
    let options: Vec<String> = help
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .flat_map(|l| l.split([' ', ',']))
        .filter_map(|w| w.strip_prefix("--"))
        .map(str::to_string)
        .collect();
    assert!(options.len() >= 7, "{options:?}\n{help}");
    options
}

#[test]
fn completion_scripts_name_the_subcommands_and_options() {
    let options = analyze_options();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = rdp_pcap(&["completions", shell]);
        assert_eq!(run.status, 0, "{shell}: {}", run.stderr);
        assert!(run.stderr.is_empty(), "{shell}: {}", run.stderr);
        assert!(run.stdout.len() > 1000, "{shell}: {}", run.stdout);
        for subcommand in ["analyze", "explain", "completions", "man"] {
            assert!(run.stdout.contains(subcommand), "{shell}: {subcommand}");
        }
        for option in &options {
            // fish writes `-l format`, the others `--format`.
            assert!(
                run.stdout.contains(&format!("--{option}"))
                    || run.stdout.contains(&format!("-l {option}")),
                "{shell}: --{option}"
            );
        }
    }
    let run = rdp_pcap(&["completions", "tcsh"]);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.contains("invalid value 'tcsh'"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_manual_page_has_every_option_of_analyze() {
    let run = rdp_pcap(&["man"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let page = run.stdout;
    assert!(page.contains(".TH rdp-pcap 1"), "{page}");
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SUBCOMMANDS"] {
        assert!(
            page.contains(&format!(".SH {section}\n")),
            "{section}\n{page}"
        );
    }
    // Roff escapes the dashes.
    assert!(
        page.contains("\\fBrdp\\-pcap\\fR [OPTIONS] FILE..."),
        "{page}"
    );
    for option in analyze_options() {
        let roff = format!("\\fB\\-\\-{}\\fR", option.replace('-', "\\-"));
        assert!(page.contains(&roff), "--{option}\n{page}");
    }
    for subcommand in ["analyze", "explain", "completions", "man"] {
        assert!(
            page.contains(&format!("rdp\\-pcap\\-{subcommand}(1)")),
            "{subcommand}"
        );
    }
}

#[test]
fn man_dir_writes_a_page_for_each_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let run = rdp_pcap(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "rdp-pcap-analyze.1",
            "rdp-pcap-completions.1",
            "rdp-pcap-explain.1",
            "rdp-pcap-man.1",
            "rdp-pcap.1"
        ]
    );
    let main = std::fs::read_to_string(dir.path().join("rdp-pcap.1")).unwrap();
    assert_eq!(main, rdp_pcap(&["man"]).stdout);
    let analyze = std::fs::read_to_string(dir.path().join("rdp-pcap-analyze.1")).unwrap();
    assert!(analyze.contains("\\fBrdp\\-pcap analyze\\fR"), "{analyze}");
    // A folder that cannot be written to is one line and status 2.
    let missing = dir.path().join("missing");
    let run = rdp_pcap(&["man", "--dir", missing.to_str().unwrap()]);
    assert_eq!(run.status, 2);
    assert_eq!(
        run.stderr,
        format!(
            "rdp-pcap: {}: no such file or directory\n",
            missing.display()
        )
    );
}
