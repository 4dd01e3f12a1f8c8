//! Which inputs a command line names: files, directories of captures, or standard input.

mod decompress;

pub use decompress::{open as decompress, Compression, MAX_WINDOW};

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One input to analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file (named on the command line or found in a directory).
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Input {
    /// The name reports use.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".to_string(),
        }
    }
}

/// Whether the file at `path` holds a capture, compressed or not, by its first bytes.
fn is_capture_file(path: &Path) -> bool {
    let Ok(file) = fs::File::open(path) else {
        return false;
    };
    let Ok((_, mut reader)) = decompress(file) else {
        return false;
    };
    let mut head = [0u8; 12];
    let mut got = 0usize;
    while let Some(space) = head.get_mut(got..).filter(|s| !s.is_empty()) {
        match reader.read(space) {
            Ok(0) | Err(_) => break,
            Ok(n) => got = got.saturating_add(n),
        }
    }
    crate::capture::looks_like_capture(head.get(..got).unwrap_or_default())
}

/// Expands the command-line arguments: `-` is standard input, a directory stands for every
/// capture file directly in it (by content, compressed or not, sorted by name; other files are
/// skipped), anything
/// else is a file. Problems (a missing path, an unreadable directory) come back as
/// `(name, message)` pairs, in order with the inputs.
pub fn expand(args: &[PathBuf]) -> Vec<Result<Input, (String, String)>> {
    let mut out = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            out.push(Ok(Input::Stdin));
            continue;
        }
        match fs::metadata(arg) {
            Ok(meta) if meta.is_dir() => match fs::read_dir(arg) {
                Ok(entries) => {
                    let mut files: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_file() && is_capture_file(p))
                        .collect();
                    files.sort();
                    if files.is_empty() {
                        out.push(Err((
                            arg.display().to_string(),
                            "directory holds no pcap or pcapng file".to_string(),
                        )));
                    }
                    out.extend(files.into_iter().map(|p| Ok(Input::File(p))));
                }
                Err(e) => out.push(Err((arg.display().to_string(), io_message(&e)))),
            },
            Ok(_) => out.push(Ok(Input::File(arg.clone()))),
            Err(e) => out.push(Err((arg.display().to_string(), io_message(&e)))),
        }
    }
    out
}

/// An I/O error as one lower-case phrase.
pub fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let text = e.to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => "i/o error".to_string(),
            }
        }
    }
}
