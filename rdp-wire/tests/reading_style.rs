//! The reading style of `src/parse.rs` holds in every parser file: no second field reader
//! beside nom, and no byte read that falls back to 0 when the input is short.
//!
//! A source scan, so that a new parser (CredSSP, NTLM, Kerberos, ...) that brings back a
//! hand-rolled cursor or a zero default fails here, with the file and line named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

/// What a parser file must not contain, and why.
const FORBIDDEN: &[(&str, &str)] = &[
    (
        "copied().unwrap_or",
        "a byte read that defaults when the input is short",
    ),
    (
        "fn u16_le(",
        "a zero-defaulting field helper; use nom's le_u16 under bounded",
    ),
    (
        "fn u32_le(",
        "a zero-defaulting field helper; use nom's le_u32 under bounded",
    ),
    (
        "struct Le<",
        "a second little-endian cursor; use nom's le_* functions",
    ),
    (
        "struct PerReader",
        "a second PER cursor; use the nom functions of per.rs",
    ),
];

/// Files that are not parsers: the analyzer (diagnosis over parsed values), the stateful TLS
/// tracker and fingerprint memo, the fuzzing glue and test data.
fn is_parser_file(relative: &Path) -> bool {
    let s = relative.to_string_lossy().replace('\\', "/");
    !(s.starts_with("analyzer/")
        || s == "tls/session.rs"
        || s == "tls/fingerprint.rs"
        || s == "fuzzing.rs"
        || s == "testdata.rs"
        || s.ends_with("/tests.rs"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn parsers_read_one_way_and_never_default_a_short_read() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut broken = Vec::new();
    let mut scanned = 0;
    for path in &files {
        let relative = path.strip_prefix(&src).unwrap();
        if !is_parser_file(relative) {
            continue;
        }
        scanned += 1;
        let text = fs::read_to_string(path).unwrap();
        // Unit tests at the end of a file may build inputs any way they like.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            for (pattern, why) in FORBIDDEN {
                if line.contains(pattern) {
                    broken.push(format!(
                        "{}:{}: {why}: {}",
                        relative.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(scanned > 20, "only {scanned} parser files found");
    assert!(broken.is_empty(), "\n{}", broken.join("\n"));
}
