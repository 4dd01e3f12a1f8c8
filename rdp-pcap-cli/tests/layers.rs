//! The layering rule of the CLI, checked on its sources: the capture reader and the TCP
//! reassembler know no RDP. They may speak `rdp-wire`'s root vocabulary (`Side`, `Timestamp`,
//! `Endpoints`) and use its value-set macros, and nothing else of it: no parser, no analyzer.
//! What a flow carries is the observer's business (`session.rs`), which gives the reassembler
//! its orientation hints.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

/// The crate name as it appears in paths, spelt so that this file does not mention it.
const CRATE: &str = concat!("rdp", "_wire");

/// What the protocol-neutral layers may name from it: the root vocabulary, and the macros for
/// open value sets (flag words, code points), which know no protocol (the capture reader's
/// `TcpFlags` is made with `open_flags!` once rdp-wire exports it).
const VOCABULARY: [&str; 5] = ["Side", "Timestamp", "Endpoints", "open_flags", "open_enum"];

/// The sources of the protocol-neutral layers: `capture.rs`, `capture/` and `reassembly/`.
fn neutral_sources() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.join("capture.rs")];
    for dir in ["capture", "reassembly"] {
        let mut in_dir: Vec<PathBuf> = std::fs::read_dir(src.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        in_dir.sort();
        files.extend(in_dir);
    }
    files
}

/// Every mention of the crate in `line` that names something outside [`VOCABULARY`]: a
/// module path (`x224::...`), a group holding one (`{Side, tls}`), or, in code, the bare
/// crate (`use`, `extern crate`).
fn violations(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in line.match_indices(CRATE) {
        let before = line.get(..at).and_then(|b| b.chars().last());
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // part of a longer name
        }
        let rest = line.get(at + CRATE.len()..).unwrap_or("");
        let Some(path) = rest.strip_prefix("::") else {
            if !line.trim_start().starts_with("//") {
                let what: String = rest.chars().take(20).collect();
                found.push(format!("{CRATE}{what}"));
            }
            continue;
        };
        let names: Vec<&str> = match path.strip_prefix('{') {
            Some(group) => group
                .split('}')
                .next()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect(),
            None => {
                let end = path
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(path.len());
                vec![&path[..end]]
            }
        };
        for name in names {
            if !VOCABULARY.contains(&name) {
                found.push(format!("{CRATE}::{name}"));
            }
        }
    }
    found
}

#[test]
fn capture_reader_and_reassembler_know_no_rdp() {
    let files = neutral_sources();
    assert!(files.len() > 5, "sources not found: {files:?}");
    let mut broken = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            for what in violations(line) {
                broken.push(format!("{}:{}: {what}", file.display(), number + 1));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "the capture reader and the reassembler may use only {CRATE}::{{{}}}:\n{}",
        VOCABULARY.join(", "),
        broken.join("\n")
    );
}

#[test]
fn the_check_sees_what_it_forbids() {
    let x = |s: &str| s.replace("W", CRATE);
    assert!(violations(&x("use W::{Side, Timestamp};")).is_empty());
    assert!(violations(&x("pub use W::Side;")).is_empty());
    assert!(violations(&x("W::open_flags! {")).is_empty());
    assert!(violations(&x("let t = W::Timestamp(0); // my_W::x224")).is_empty());
    assert_eq!(violations(&x("W::x224::looks_like(p)")), [x("W::x224")]);
    assert_eq!(
        violations(&x("use W::{Side, tls::TlsFacts};")),
        [x("W::tls::TlsFacts")]
    );
    assert_eq!(
        violations(&x("use W::analyzer::Analyzer;")),
        [x("W::analyzer")]
    );
    assert_eq!(violations(&x("extern crate W;")), [x("W;")]);
    assert!(violations(&x("/// the clock of W, no path")).is_empty());
    assert_eq!(violations(&x("/// see W::tls")), [x("W::tls")]);
}
