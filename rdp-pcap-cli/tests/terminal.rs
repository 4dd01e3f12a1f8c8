//! The binary on a terminal: standard output and standard error on a pseudo-terminal, as when a
//! person runs it, with a capture large enough for the progress display.
//!
//! These run the real binary (the defects they guard against were in `main.rs`), and kill it
//! after a generous time limit: they detect hangs, they do not time anything.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rdp_pcap::kit::{self, CaptureWriter, Format, Linktype, Resolution};
use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};

/// Far longer than a run takes (about a second here, in a debug build); a run that has not
/// ended by then never will.
const TIME_LIMIT: Duration = Duration::from_secs(120);

/// A pseudo-terminal: the side the test reads, and the side the binary writes to.
struct Pty {
    master: File,
    slave: OwnedFd,
}

fn open_pty() -> Pty {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap()
        .into();
    // A terminal of a usual size (a new one has none).
    let size = rustix::termios::Winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(&slave, size).unwrap();
    Pty {
        master: File::from(master),
        slave,
    }
}

/// A capture of just over the progress threshold: a recorded TLS connection, then Ethernet
/// frames of a type nobody decodes, which are skipped quickly even in a debug build.
fn big_capture(dir: &Path) -> PathBuf {
    let sample = std::fs::read(common::samples_dir().join("tls-ok.pcap")).unwrap();
    let frames = kit::read(&sample).unwrap().frames;
    let path = dir.join("big.pcap");
    let format = Format::Pcap(Linktype::ETHERNET, Resolution::Micro);
    let file = std::io::BufWriter::new(File::create(&path).unwrap());
    let mut out = CaptureWriter::new(file, format, 65_535).unwrap();
    for f in &frames {
        out.record(0, f.ts, &f.data, f.orig_len).unwrap();
    }
    // The last record's timestamp, so that the padding follows the connection in time.
    let ts = frames.last().unwrap().ts;
    let frame_len: u32 = 60_000;
    let mut frame = vec![0u8; usize::try_from(frame_len).unwrap()];
    frame[..12].copy_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
    frame[12..14].copy_from_slice(&0x88b5u16.to_be_bytes()); // IEEE local experimental
    let mut size = u64::try_from(sample.len()).unwrap();
    while size <= rdp_pcap::cli::PROGRESS_MIN_BYTES + (1 << 20) {
        out.record(0, ts, &frame, frame_len).unwrap();
        size += 16 + u64::from(frame_len);
    }
    out.into_inner().flush().unwrap();
    path
}

/// What a run on the terminal did: its status, and every byte it wrote to the terminal.
struct TermRun {
    status: ExitStatus,
    screen: String,
}

/// Runs the binary with `args`, standard output and standard error on one pseudo-terminal and
/// standard input from `stdin_file` through a pipe (or nothing); kills it and fails after
/// [`TIME_LIMIT`].
fn run_on_terminal(args: &[&str], stdin_file: Option<&Path>) -> TermRun {
    let Pty { mut master, slave } = open_pty();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rdp-pcap"));
    command
        .args(args)
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave))
        .stdin(if stdin_file.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = command.spawn().unwrap();
    // The parent's copies of the terminal's far side close here, so that reading the near side
    // ends when the child has exited.
    drop(command);
    let feeder = stdin_file.map(|path| {
        let mut pipe = child.stdin.take().unwrap();
        let mut file = File::open(path).unwrap();
        // A child that stopped reading makes this fail with a closed pipe: not our concern.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut file, &mut pipe);
        })
    });
    let drain = std::thread::spawn(move || {
        let mut screen = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        // Linux reports EIO once no process holds the far side open.
        while let Ok(n @ 1..) = master.read(&mut buf) {
            screen.extend_from_slice(&buf[..n]);
        }
        screen
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "rdp-pcap {args:?} on a terminal had not ended after {} s: killed",
                TIME_LIMIT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(feeder) = feeder {
        feeder.join().unwrap();
    }
    let screen = String::from_utf8_lossy(&drain.join().unwrap()).into_owned();
    TermRun { status, screen }
}

#[test]
fn a_large_capture_on_a_terminal_ends_and_shows_its_progress() {
    let dir = tempfile::tempdir().unwrap();
    let capture = big_capture(dir.path());
    let total = indicatif::HumanBytes(std::fs::metadata(&capture).unwrap().len());
    let capture = capture.to_str().unwrap();
    for threads in ["1", "2"] {
        let run = run_on_terminal(&["--threads", threads, capture], None);
        assert!(
            run.status.success(),
            "{threads}: {}\n{}",
            run.status,
            run.screen
        );
        // The bar: bytes read out of the file's size.
        assert!(
            run.screen.contains(&format!("/{total} ")),
            "{threads}: {}",
            run.screen
        );
        assert!(run.screen.contains(" MiB/s"), "{threads}: {}", run.screen);
        // The report, on the same terminal, in colour (`--color auto`).
        assert!(
            run.screen.contains("\x1b[1;32mestablished\x1b[0m"),
            "{threads}: {}",
            run.screen
        );
        assert!(
            run.screen.contains("Summary: 1 connection in 1 input"),
            "{threads}: {}",
            run.screen
        );
    }
}

#[test]
fn standard_input_on_a_terminal_ends_and_shows_bytes_read() {
    let dir = tempfile::tempdir().unwrap();
    let capture = big_capture(dir.path());
    for threads in ["1", "2"] {
        let run = run_on_terminal(&["--threads", threads, "-"], Some(&capture));
        assert!(
            run.status.success(),
            "{threads}: {}\n{}",
            run.status,
            run.screen
        );
        // Bytes read and the rate, with no total (the size of a pipe is unknown).
        assert!(
            run.screen.contains("standard input"),
            "{threads}: {}",
            run.screen
        );
        assert!(run.screen.contains(" MiB/s"), "{threads}: {}", run.screen);
        assert!(
            run.screen.contains("Summary: 1 connection in 1 input"),
            "{threads}: {}",
            run.screen
        );
    }
}
