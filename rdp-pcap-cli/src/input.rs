//! Which inputs a command line names: files, directories of captures, or standard input.

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
    /// The name reports use ([`display_name`]).
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => display_name(p),
            Input::Stdin => "-".to_string(),
        }
    }
}

/// A path as reports and problem lines show it: as given, through the printable filter (a file
/// name may hold any character but `/` and NUL).
pub fn display_name(path: &Path) -> String {
    rdp_wire::printable::printable_string(path.display().to_string())
}

/// Whether the file at `path` starts with a pcap or pcapng magic number.
fn is_capture_file(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && crate::capture::looks_like_capture(&magic)
}

/// Expands the command-line arguments: `-` is standard input, a directory stands for every
/// capture file directly in it (by content, sorted by name; other files are skipped), anything
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
                            display_name(arg),
                            "directory holds no pcap or pcapng file".to_string(),
                        )));
                    }
                    out.extend(files.into_iter().map(|p| Ok(Input::File(p))));
                }
                Err(e) => out.push(Err((display_name(arg), io_message(&e)))),
            },
            Ok(_) => out.push(Ok(Input::File(arg.clone()))),
            Err(e) => out.push(Err((display_name(arg), io_message(&e)))),
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
