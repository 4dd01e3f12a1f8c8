//! Reports are safe to print and to open: strings an attacker puts in a capture (cookies,
//! client and channel names, certificate names, SNI, file names) cannot drive a terminal or a
//! spreadsheet in any format; a report that cannot be written says so; `--format json` streams.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::{rdp_pcap, samples_dir};
use rdp_pcap::fuzzing::synth;
use rdp_wire::printable::is_unsafe;

/// `bytes` with every occurrence of `from` replaced by `to` (the same length: the capture's
/// lengths stay right; checksums are not checked).
fn patch(bytes: &[u8], from: &[u8], to: &[u8]) -> (Vec<u8>, usize) {
    assert_eq!(from.len(), to.len(), "a patch keeps the length");
    let mut out = bytes.to_vec();
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    (out, n)
}

/// A sample with patches applied, each of which must hit.
fn patched(sample: &str, patches: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut bytes = std::fs::read(samples_dir().join(sample)).unwrap();
    for (from, to) in patches {
        let (out, n) = patch(&bytes, from, to);
        assert!(
            n > 0,
            "{sample}: {:?} not found",
            String::from_utf8_lossy(from)
        );
        bytes = out;
    }
    bytes
}

/// A fresh directory under the target folder.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The hostile captures: the samples with attacker-chosen strings where a client or server
/// puts names, written under a hostile file name.
fn hostile_captures() -> (PathBuf, Vec<PathBuf>) {
    let dir = scratch("hostile-strings");
    // Standard RDP Security: the cookie, the client name (UTF-16) and a channel name in clear.
    let std = patched(
        "rdp-standard-security.pcap",
        &[
            (b"mstshash=dave", b"mstshash=\x1b[2J"),
            (b"v\x00m\x00\x00\x00\x00\x00", b"\x1b\x00]\x000\x00;\x00"),
            (b"cliprdr\x00", b"\x1b[8m\x9b\xc2\x9b\x00"),
        ],
    );
    // TLS 1.2: the cookie, the SNI and the certificate's names in clear.
    let tls = patched(
        "tls12-ok.pcap",
        &[
            (b"mstshash=bob", b"mstshash=\xe2\x80\xae"),
            (b"127.0.0.1", b"\x1b]8;;x\x07\xc2\x9b"),
            (b"rdp-lab-good", b"\x1b]0;pwn\x07\xe2\x80\xaex"),
        ],
    );
    let a = dir.join("std\x1b[31m\u{202e}.pcap");
    let b = dir.join("tls\x07\x1b]0;title\x07.pcap");
    std::fs::write(&a, std).unwrap();
    std::fs::write(&b, tls).unwrap();
    (dir, vec![a, b])
}

/// The first unsafe character of `text` and its surroundings, if any. With `color`, the
/// report's own SGR sequences are allowed (and only those).
fn first_unsafe(text: &str, color: bool) -> Option<String> {
    let mut text = text.replace("\r\n", "\n");
    if color {
        for sgr in ["\x1b[1;31m", "\x1b[1;33m", "\x1b[1;32m", "\x1b[0m"] {
            text = text.replace(sgr, "");
        }
    }
    let at = text.find(|c: char| c != '\n' && is_unsafe(c))?;
    let around: String = text[at..].chars().take(40).collect();
    Some(format!("{around:?}"))
}

/// Every string value in a JSON value.
fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, v)| {
            out.push(k.clone());
            strings(v, out);
        }),
        _ => {}
    }
}

#[test]
fn capture_strings_cannot_drive_a_terminal_or_a_spreadsheet_in_any_format() {
    let (_dir, files) = hostile_captures();
    let missing = files[0].with_file_name("gone\x1b[2J\u{2066}.pcap");
    let mut inputs: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    inputs.push(missing.display().to_string());
    for (args, color) in [
        (vec!["--color", "never"], false),
        (vec!["--color", "always"], true),
        (vec!["--color", "never", "--timeline"], false),
        (vec!["--format", "jsonl"], false),
        (vec!["--format", "json"], false),
        (vec!["--format", "csv"], false),
    ] {
        let mut argv: Vec<String> = args.iter().map(|a| (*a).to_string()).collect();
        argv.extend(inputs.iter().cloned());
        let run = rdp_pcap(&argv);
        assert_eq!(run.status, 2, "{args:?}: the missing file");
        if let Some(bad) = first_unsafe(&run.stdout, color) {
            panic!("{args:?}: unsafe character in the report: {bad}");
        }
        if let Some(bad) = first_unsafe(&run.stderr, false) {
            panic!("{args:?}: unsafe character on stderr: {bad}");
        }
        // The JSON formats escape control characters themselves; the values they carry must
        // be safe too, for a consumer that prints them.
        let values: Vec<serde_json::Value> = match args[1] {
            "jsonl" => run.json_lines(),
            "json" => vec![serde_json::from_str(&run.stdout).unwrap()],
            _ => Vec::new(),
        };
        let mut all = Vec::new();
        values.iter().for_each(|v| strings(v, &mut all));
        for s in &all {
            assert!(first_unsafe(s, false).is_none(), "{args:?}: {s:?}");
        }
        // The strings are there, escaped.
        let out = &run.stdout;
        let text = args[1] != "jsonl" && args[1] != "json";
        let shown = |s: &str| {
            if text {
                s.to_string()
            } else {
                // In JSON a backslash is written twice.
                s.replace('\\', "\\\\")
            }
        };
        let mut expected = vec![
            "\\x1b[2J",                   // the cookie
            "pwn\\x07\\u{202e}x",         // the certificate's subject
            "\\u{202e}",                  // the second cookie
            "std\\x1b[31m\\u{202e}.pcap", // a file name
        ];
        if args[1] != "csv" {
            expected.push("\\x1b]8;;x\\x07\\u{9b}"); // the SNI (not a CSV column)
        }
        for expected in expected {
            assert!(
                out.contains(&shown(expected)),
                "{args:?}: {expected} missing"
            );
        }
        if args[1] == "never" || args[1] == "always" {
            // The client name and the channel name (text only; the JSON has them too).
            assert!(out.contains("\"\\x1b]0;\""), "client name");
            assert!(out.contains("\\x1b[8m\\x9b\\u{9b}"), "channel name");
        }
        assert!(
            run.stderr.contains("gone\\x1b[2J\\u{2066}.pcap"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn cookies_are_quoted_as_typed() {
    let dir = scratch("cookie-as-typed");
    let path = dir.join("x.pcap");
    std::fs::write(
        &path,
        patched(
            "rdp-standard-security.pcap",
            &[(b"mstshash=dave", b"mstshash=I\\T\\")],
        ),
    )
    .unwrap();
    let run = rdp_pcap(&["--color", "never", path.to_str().unwrap()]);
    assert!(run.stdout.contains("cookie \"I\\T\\\";"), "{}", run.stdout);
    let run = rdp_pcap(&["--format", "jsonl", path.to_str().unwrap()]);
    assert_eq!(run.connections()[0]["x224"]["cookie"], "I\\T\\");
}

#[test]
fn csv_cells_cannot_be_formulas() {
    let dir = scratch("csv-formula");
    let path = dir.join("x.pcap");
    std::fs::write(
        &path,
        patched(
            "rdp-standard-security.pcap",
            &[
                (b"mstshash=dave", b"mstshash=@SUM"),
                (b"v\x00m\x00\x00\x00", b"=\x001\x00\x00\x00"),
            ],
        ),
    )
    .unwrap();
    let run = rdp_pcap(&["--format", "csv", path.to_str().unwrap()]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let header: Vec<&str> = run.stdout.lines().next().unwrap().split(',').collect();
    let row = run.stdout.lines().nth(1).unwrap();
    let cells: Vec<&str> = row.split(',').collect();
    let col = |name: &str| cells[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("cookie"), "'@SUM");
    assert_eq!(col("client_name"), "'=1");
    // No cell anywhere starts a formula.
    for line in run.stdout.lines() {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(!cell.starts_with(['=', '+', '@', '\t', '\r']), "{cell:?}");
        }
    }
}

/// A writer that accepts `room` bytes, then fails with `kind`.
struct Failing {
    room: usize,
    kind: io::ErrorKind,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.room == 0 {
            return Err(self.kind.into());
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn run_into(out: &mut dyn Write, args: &[&str]) -> (i32, String) {
    let mut argv: Vec<std::ffi::OsString> = vec!["rdp-pcap".into()];
    argv.extend(args.iter().map(std::ffi::OsString::from));
    let mut err = Vec::new();
    let status = rdp_pcap::cli::run(argv, out, &mut err);
    (status, String::from_utf8(err).unwrap())
}

#[test]
fn a_report_that_cannot_be_written_is_an_error_and_a_closed_pipe_is_not() {
    let samples = samples_dir().display().to_string();
    for format in ["text", "jsonl", "json", "csv"] {
        // Disk full, at once and after some output (the final flush too).
        for room in [0, 100, 1_000] {
            let mut full = Failing {
                room,
                kind: io::ErrorKind::StorageFull,
            };
            let (status, err) = run_into(&mut full, &["--format", format, &samples]);
            assert_eq!(status, 2, "{format} {room}");
            assert!(
                err.starts_with("rdp-pcap: cannot write: ") && err.lines().count() == 1,
                "{format} {room}: {err}"
            );
        }
        // A closed pipe: silent, and the status of what was read.
        let mut closed = Failing {
            room: 100,
            kind: io::ErrorKind::BrokenPipe,
        };
        let (status, err) = run_into(&mut closed, &["--format", format, &samples]);
        assert_eq!((status, err.as_str()), (0, ""), "{format}");
    }
}

#[test]
fn fail_on_holds_when_the_reader_goes_away_first() {
    // The negotiation failure comes after the healthy sessions: with the pipe closed at the
    // first byte, the run must still see it.
    let dir = scratch("fail-on-closed-pipe");
    for (i, name) in [
        "tls-ok.pcap",
        "nla-ok.pcap",
        "neg-failure-hybrid-required.pcap",
    ]
    .iter()
    .enumerate()
    {
        std::fs::copy(samples_dir().join(name), dir.join(format!("{i}-{name}"))).unwrap();
    }
    let dir = dir.display().to_string();
    for format in ["text", "jsonl", "json", "csv"] {
        let mut closed = Failing {
            room: 0,
            kind: io::ErrorKind::BrokenPipe,
        };
        let (status, err) = run_into(
            &mut closed,
            &["--format", format, "--fail-on", "error", &dir],
        );
        assert_eq!((status, err.as_str()), (1, ""), "{format}");
        let mut full = Failing {
            room: 0,
            kind: io::ErrorKind::StorageFull,
        };
        let (status, _) = run_into(&mut full, &["--format", format, "--fail-on", "error", &dir]);
        assert_eq!(status, 2, "{format}: a write error is never a success");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn the_binary_reports_a_full_disk() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdp-pcap"))
        .arg(samples_dir())
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "rdp-pcap: cannot write: no space left on device (os error 28)\n"
    );
}

/// Counts the bytes written to it.
struct Counting(Arc<AtomicU64>);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .fetch_add(u64::try_from(buf.len()).unwrap(), Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Notes how many report bytes had been written when the capture was read to its end.
struct NoteAtEnd<R> {
    inner: R,
    written: Arc<AtomicU64>,
    at_end: Arc<AtomicU64>,
}

impl<R: io::Read> io::Read for NoteAtEnd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.at_end
                .store(self.written.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// `--format json` writes connections while the capture is read (it held them all until the
/// end: 12 KB each, 2.4 GB for 200,000 unanswered SYNs).
#[test]
fn json_document_is_written_while_the_capture_is_read() {
    // 5,000 refused connections: each closes, and can be written, as soon as it is read.
    let mut w = synth::PcapWriter::new(Vec::new(), 65_535).unwrap();
    for i in 0..5_000 {
        let mut c = synth::Conn::new(i);
        c.syn(&mut w).unwrap();
        c.rst(&mut w, false).unwrap();
    }
    let flood = w.into_inner();
    let written = Arc::new(AtomicU64::new(0));
    let at_end = Arc::new(AtomicU64::new(0));
    let reader = NoteAtEnd {
        inner: &flood[..],
        written: written.clone(),
        at_end: at_end.clone(),
    };
    let mut reporter = rdp_pcap::report::reporter(
        rdp_pcap::report::Format::Json,
        Box::new(Counting(written.clone())),
        false,
    );
    let options = rdp_pcap::pipeline::Options::new(&[]);
    let mut run = rdp_pcap::pipeline::RunState::default();
    rdp_pcap::pipeline::analyze("flood", reader, &options, &mut run, reporter.as_mut()).unwrap();
    let before_end = at_end.load(Ordering::Relaxed);
    reporter
        .finish(&rdp_pcap::report::Summary::default())
        .unwrap();
    let total = written.load(Ordering::Relaxed);
    assert!(
        before_end > total / 2,
        "{before_end} of {total} bytes written before the capture ended"
    );
}
