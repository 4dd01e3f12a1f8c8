//! The layering rule of `rdp-wire`, checked on its source: the parsers sit below the analyzer
//! and never reach up into it, and no module keeps hidden per-thread state.
//!
//! - Outside `src/analyzer/`, no module names the analyzer (`crate::analyzer`,
//!   `super::analyzer`, `analyzer::`), in code or in documentation. Two files are exempt:
//!   `lib.rs`, the crate root that declares every module and shows embedders the way in, and
//!   `fuzzing.rs`, which drives every layer for the fuzz targets.
//! - No module's code uses `thread_local!` (but `fuzzing.rs`'s): a cache belongs to the caller
//!   (`analyzer::Caches`), who decides how long it lives and whom it serves.
//!
//! A failure names each file and line that breaks a rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

/// Names of the analyzer a module below it may not mention.
const ANALYZER_NAMES: [&str; 3] = ["crate::analyzer", "super::analyzer", "analyzer::"];

/// Files below `dir`, sorted, as paths relative to `root` with `/` separators.
fn rust_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(root, &path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            let rel = path.strip_prefix(root).unwrap();
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
}

/// What breaks the rules in the file `rel` (relative to `src/`) whose text is `text`: one line
/// per offence, `src/FILE:LINE: RULE: TEXT`.
fn offences(rel: &str, text: &str) -> Vec<String> {
    let in_analyzer = rel.starts_with("analyzer/");
    let exempt = rel == "fuzzing.rs";
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if !in_analyzer && !exempt && rel != "lib.rs" {
            if let Some(name) = ANALYZER_NAMES.iter().find(|name| line.contains(*name)) {
                out.push(format!(
                    "src/{rel}:{n}: a module below the analyzer names it (`{name}`): {}",
                    line.trim()
                ));
            }
        }
        // A comment may speak of the macro; only code uses it.
        let code = !line.trim_start().starts_with("//");
        if !exempt && code && line.contains("thread_local!") {
            out.push(format!(
                "src/{rel}:{n}: hidden per-thread state (`thread_local!`): caches are the \
                 caller's (analyzer::Caches): {}",
                line.trim()
            ));
        }
    }
    out
}

#[test]
fn parsers_never_name_the_analyzer_and_keep_no_thread_state() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    assert!(
        files.iter().any(|(rel, _)| rel == "tls/record.rs")
            && files.iter().any(|(rel, _)| rel == "analyzer/tls.rs"),
        "the source tree was not found where expected: {files:?}"
    );
    let broken: Vec<String> = files
        .iter()
        .flat_map(|(rel, path)| offences(rel, &fs::read_to_string(path).unwrap()))
        .collect();
    assert!(
        broken.is_empty(),
        "the layering rule of rdp-wire is broken (see tests/layers.rs):\n{}",
        broken.join("\n")
    );
}

/// The checker itself finds what it is meant to find, and only that.
#[test]
fn the_checker_names_file_and_line() {
    let parser = "use crate::Error;\nuse crate::analyzer::TlsFacts;\n";
    assert_eq!(
        offences("tls/record.rs", parser),
        [
            "src/tls/record.rs:2: a module below the analyzer names it (`crate::analyzer`): \
          use crate::analyzer::TlsFacts;"
        ]
    );
    let memo = "thread_local! {\n    static MEMO: u8 = 0;\n}\n";
    let found = offences("x509.rs", memo);
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("src/x509.rs:1: hidden per-thread state"));
    assert_eq!(offences("analyzer/tls.rs", memo).len(), 1);
    assert!(offences("x509.rs", "/// no `thread_local!` here\n").is_empty());
    // Below the analyzer, a doc link to it is a dependency too.
    assert_eq!(
        offences("gcc/mod.rs", "//! see [`super::analyzer`]\n").len(),
        1
    );
    // The analyzer may name itself; the crate root and the fuzzing driver may name anything.
    assert!(offences("analyzer/mod.rs", parser).is_empty());
    assert!(offences("lib.rs", parser).is_empty());
    assert!(offences("fuzzing.rs", parser).is_empty());
    assert!(offences("fuzzing.rs", memo).is_empty());
}
