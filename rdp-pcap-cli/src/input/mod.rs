//! Which inputs a command line names: files, directories of captures, or standard input.

mod decompress;

pub use decompress::{open as decompress, Compression, MAX_WINDOW};

use rdp_wire::Bump as _;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use rdp_wire::analyzer::Count;

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
            Input::File(p) => display_name(p),
            Input::Stdin => "-".to_string(),
        }
    }
}

/// An input, or a problem finding it: `(name, message)`.
pub type Item = Result<Input, (String, String)>;

/// What the command-line arguments stand for.
#[derive(Debug, Default)]
pub struct Expanded {
    /// The inputs in order, and the problems (`(name, message)`) met finding them, in order
    /// with the inputs.
    pub items: Vec<Item>,
    /// Files in the directories that are not captures (a README beside them), skipped.
    pub skipped_files: u64,
}

/// File name endings that say "capture", before any compression ending.
const CAPTURE_EXTENSIONS: [&str; 3] = ["pcap", "pcapng", "cap"];

/// A path as reports and problem lines show it: as given, through the printable filter (a file
/// name may hold any character but `/` and NUL).
pub fn display_name(path: &Path) -> String {
    rdp_wire::printable::printable_string(path.display().to_string())
}

/// Whether a file name says it holds a capture: `.pcap`, `.pcapng` or `.cap`, maybe followed by
/// a compression ending (`.pcap.gz`, `.pcapng.zst`, `.cap.xz`), in any case.
pub fn name_says_capture(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy().to_ascii_lowercase();
    let name = Compression::ALL
        .iter()
        .find_map(|c| name.strip_suffix(&format!(".{}", c.extension())))
        .unwrap_or(&name);
    CAPTURE_EXTENSIONS.iter().any(|ext| {
        name.strip_suffix(ext)
            .is_some_and(|rest| rest.ends_with('.'))
    })
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

/// What a directory walk found, before sorting.
#[derive(Default)]
struct Walk {
    found: Vec<(PathBuf, Item)>,
    skipped_files: u64,
    /// Subdirectories not entered (without `--recursive`).
    subdirectories: u64,
}

impl Walk {
    /// Looks at one directory entry (not following a symbolic link to a directory); returns
    /// the subdirectory to enter, if it is one and `recursive`.
    fn entry(&mut self, path: PathBuf, recursive: bool) -> Option<PathBuf> {
        let problem = |path: &Path, message: String| {
            let name = display_name(path);
            Err((name, message))
        };
        let link = match fs::symlink_metadata(&path) {
            Ok(meta) => meta.file_type().is_symlink(),
            Err(e) => {
                // Gone since the directory was listed: it said capture or not, we cannot tell.
                if name_says_capture(path.as_os_str()) {
                    let found = problem(&path, io_message(&e));
                    self.found.push((path, found));
                }
                return None;
            }
        };
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) => {
                let message = if link && e.kind() == std::io::ErrorKind::NotFound {
                    "broken symbolic link".to_string()
                } else {
                    io_message(&e)
                };
                let found = problem(&path, message);
                self.found.push((path, found));
                return None;
            }
        };
        if meta.is_dir() {
            // A link to a directory is not followed: no loops, and no capture read twice.
            if recursive && !link {
                return Some(path);
            }
            self.subdirectories.bump();
            return None;
        }
        let named = path.file_name().is_some_and(name_says_capture);
        if named && !meta.is_file() {
            // A pipe or a device: reading it could wait for ever.
            let found = problem(&path, "not a regular file".to_string());
            self.found.push((path, found));
        } else if named || (meta.is_file() && is_capture_file(&path)) {
            self.found.push((path.clone(), Ok(Input::File(path))));
        } else {
            self.skipped_files.bump();
        }
        None
    }
}

/// The captures in directory `dir` (and below it with `recursive`).
fn walk_directory(dir: &Path, recursive: bool, out: &mut Expanded) {
    let mut walk = Walk::default();
    let mut pending = vec![dir.to_path_buf()];
    let mut unreadable = Vec::new();
    while let Some(d) = pending.pop() {
        match fs::read_dir(&d) {
            Ok(entries) => {
                for entry in entries {
                    match entry {
                        Ok(entry) => {
                            if let Some(sub) = walk.entry(entry.path(), recursive) {
                                pending.push(sub);
                            }
                        }
                        Err(e) => unreadable.push((d.clone(), io_message(&e))),
                    }
                }
            }
            Err(e) => unreadable.push((d.clone(), io_message(&e))),
        }
    }
    for (d, message) in unreadable {
        let name = display_name(&d);
        walk.found.push((d, Err((name, message))));
    }
    out.skipped_files.bump_by(walk.skipped_files);
    if walk.found.is_empty() {
        let mut message = "no capture file in this directory".to_string();
        let mut notes = Vec::new();
        if walk.skipped_files > 0 {
            notes.push(format!(
                "{} skipped",
                Count(walk.skipped_files, "other file")
            ));
        }
        if walk.subdirectories > 0 && !recursive {
            notes.push(format!(
                "{} {} not read without --recursive",
                walk.subdirectories,
                if walk.subdirectories == 1 {
                    "subdirectory"
                } else {
                    "subdirectories"
                }
            ));
        }
        if !notes.is_empty() {
            message = format!("{message} ({})", notes.join("; "));
        }
        out.items.push(Err((display_name(dir), message)));
        return;
    }
    // Sorted by path: the order does not depend on the file system's.
    walk.found.sort_by(|a, b| a.0.cmp(&b.0));
    out.items
        .extend(walk.found.into_iter().map(|(_, item)| item));
}

/// Expands the command-line arguments: `-` is standard input; a directory stands for the
/// captures in it (and in its subdirectories with `recursive`, symbolic links to directories
/// not followed), sorted by path: every file whose content is a capture, compressed or not,
/// and every file whose name says capture (`.pcap`, `.pcapng`, `.cap`, maybe compressed), which
/// is then reported if it cannot be read; other files are skipped and counted, and a broken
/// symbolic link is a problem. Anything else is a file. Problems (a missing path, an
/// unreadable directory, a directory without captures) come back as `(name, message)` pairs,
/// in order with the inputs.
pub fn expand(args: &[PathBuf], recursive: bool) -> Expanded {
    let mut out = Expanded::default();
    for arg in args {
        if arg.as_os_str() == "-" {
            out.items.push(Ok(Input::Stdin));
            continue;
        }
        match fs::metadata(arg) {
            Ok(meta) if meta.is_dir() => walk_directory(arg, recursive, &mut out),
            Ok(_) => out.items.push(Ok(Input::File(arg.clone()))),
            Err(e) => out.items.push(Err((display_name(arg), io_message(&e)))),
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
