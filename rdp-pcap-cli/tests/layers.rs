//! The layering rule of the CLI, checked on its sources: the capture reader and the TCP
//! reassembler know no RDP. They may speak `rdp-wire`'s root vocabulary (`Side`, `Timestamp`,
//! `Endpoints`), its saturating counter and conversion (`Bump`, `Saturate`) and its value-set
//! macros, and nothing else of it: no parser, no analyzer.
//! What a flow carries is the observer's business (`session.rs`), which gives the reassembler
//! its orientation hints.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

/// The crate name as it appears in paths, spelt so that this file does not mention it.
const CRATE: &str = concat!("rdp", "_wire");

/// What the protocol-neutral layers may name from it: the root vocabulary, the counter every
/// layer bumps, the integer conversion every layer clamps with, and the macros for open value
/// sets (flag words, code points), which know no protocol (the capture reader's `TcpFlags` is
/// made with `open_flags!`).
const VOCABULARY: [&str; 7] = [
    "Side",
    "Timestamp",
    "Endpoints",
    "Bump",
    "Saturate",
    "open_flags",
    "open_enum",
];

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

/// The modules of the analysis, one per job: reading, decoding on a second thread, reassembly,
/// the session, the output, and the ways in.
const JOBS: [&str; 7] = [
    "capture",
    "decoder",
    "reassembly",
    "session",
    "output",
    "pipeline",
    "merge",
];

/// The code of a source file without comments and without its inline unit tests (everything
/// from `#[cfg(test)] mod tests {` on).
fn code(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod tests {"))
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .map(|line| line.split("//").next().unwrap_or("").to_string())
        .collect()
}

/// The files of module `name` of `dir` (`name.rs` and everything under `name/`, tests aside).
fn module_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut files = vec![dir.join(format!("{name}.rs"))];
    if let Ok(entries) = std::fs::read_dir(dir.join(name)) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n != "tests.rs") {
                files.push(path);
            }
        }
    }
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// Which of `names` the files name through `prefix` (`crate::` or `super::`).
fn uses(files: &[PathBuf], prefix: &str, names: &[&str], own: &str) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        for line in code(file) {
            for name in names {
                let needle = format!("{prefix}{name}");
                let named = line.match_indices(&needle).any(|(at, _)| {
                    let after = line[at + needle.len()..].chars().next();
                    !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if *name != own && named && !found.contains(&name.to_string()) {
                    found.push(name.to_string());
                }
            }
        }
    }
    found
}

/// A cycle in `edges` (module, the modules it names), if any, as a path.
fn cycle(edges: &[(String, Vec<String>)]) -> Option<Vec<String>> {
    fn visit(
        at: &str,
        edges: &[(String, Vec<String>)],
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == at) {
            let mut found = path[start..].to_vec();
            found.push(at.to_string());
            return Some(found);
        }
        if done.iter().any(|m| m == at) {
            return None;
        }
        path.push(at.to_string());
        let next = edges.iter().find(|(m, _)| m == at).map(|(_, n)| n.clone());
        for n in next.unwrap_or_default() {
            if let Some(found) = visit(&n, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.push(at.to_string());
        None
    }
    let mut done = Vec::new();
    edges
        .iter()
        .find_map(|(m, _)| visit(m, edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_analysis_modules_import_each_other_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges: Vec<(String, Vec<String>)> = JOBS
        .iter()
        .map(|job| {
            let files = module_files(&src, job);
            assert!(!files.is_empty(), "no source for {job}");
            (job.to_string(), uses(&files, "crate::", &JOBS, job))
        })
        .collect();
    assert_eq!(
        cycle(&edges),
        None,
        "modules that import each other: {edges:?}"
    );
}

#[test]
fn the_capture_reader_parts_import_each_other_one_way() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/capture");
    let parts = ["blocks", "copies", "decode", "defrag", "link", "reader"];
    let edges: Vec<(String, Vec<String>)> = parts
        .iter()
        .map(|part| {
            let file = dir.join(format!("{part}.rs"));
            (part.to_string(), uses(&[file], "super::", &parts, part))
        })
        .collect();
    assert_eq!(
        cycle(&edges),
        None,
        "capture parts that import each other: {edges:?}"
    );
}

#[test]
fn the_cycle_check_finds_cycles() {
    let edge = |m: &str, to: &[&str]| (m.to_string(), to.iter().map(|s| s.to_string()).collect());
    let ok = [edge("a", &["b"]), edge("b", &["c"]), edge("c", &[])];
    assert_eq!(cycle(&ok), None);
    let circle = [edge("a", &["b"]), edge("b", &["c"]), edge("c", &["a"])];
    assert_eq!(
        cycle(&circle),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
