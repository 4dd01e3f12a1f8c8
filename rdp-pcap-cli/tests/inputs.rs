//! The inputs people have: compressed captures (gzip, zstd, xz), directories of captures with
//! other files beside them, and ring-buffer files read as one capture with `--merge`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{captures_below, rdp_pcap, samples_dir};
use rdp_pcap::fuzzing::synth::compress::{gzip, xz, zstd};
use rdp_pcap::fuzzing::synth::pcap_records;
use rdp_pcap::kit::{self, Linktype, Packet};
use rdp_wire::Timestamp;
use serde_json::Value;

/// A directory of its own under the system's temporary directory, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("rdp-pcap-inputs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

type Compressor = fn(&[u8]) -> Vec<u8>;

/// Each format's name, file name extension and compressor.
const FORMATS: [(&str, &str, Compressor); 3] = [
    ("gzip", "gz", gzip),
    ("zstd", "zst", zstd),
    ("xz", "xz", xz),
];

fn sample(name: &str) -> PathBuf {
    samples_dir().join(name)
}

/// The JSON lines of a run with every `capture` name replaced by `X`, and the `compression`
/// of the capture objects taken out (and returned).
fn normalized(stdout: &str) -> (Vec<Value>, Vec<Value>) {
    let mut compressions = Vec::new();
    let lines = stdout
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if let Some(obj) = v.as_object_mut() {
                if obj.contains_key("capture") {
                    obj.insert("capture".into(), Value::from("X"));
                }
                if obj.get("type") == Some(&Value::from("capture")) {
                    compressions.push(obj.remove("compression").unwrap());
                }
            }
            v
        })
        .collect();
    (lines, compressions)
}

#[test]
fn every_lab_capture_compressed_each_way_gives_the_same_report() {
    let mut captures = captures_below(&samples_dir());
    if let Some(corpus) = common::corpus() {
        captures.extend(captures_below(&corpus.join("lab")));
    }
    let dir = TempDir::new("lab");
    let mut checked = 0;
    for capture in &captures {
        let bytes = std::fs::read(capture).unwrap();
        let plain = rdp_pcap(&[Path::new("--format=jsonl"), capture]);
        let (want, plain_compression) = normalized(&plain.stdout);
        assert_eq!(plain_compression, vec![Value::Null]);
        let file_name = capture.file_name().unwrap().to_str().unwrap();
        for (name, ext, compress) in FORMATS {
            let packed = dir.write(&format!("{file_name}.{ext}"), &compress(&bytes));
            let run = rdp_pcap(&[Path::new("--format=jsonl"), &packed]);
            assert_eq!(
                run.status,
                plain.status,
                "{}: {}",
                packed.display(),
                run.stderr
            );
            assert_eq!(
                run.stderr,
                plain.stderr.replace(
                    &capture.display().to_string(),
                    &packed.display().to_string(),
                )
            );
            let (got, compression) = normalized(&run.stdout);
            assert_eq!(compression, vec![Value::from(name)]);
            assert_eq!(got, want, "{}", packed.display());
            // The report names the input as given.
            assert!(run.stdout.contains(&format!(
                "\"capture\":{}",
                Value::from(packed.display().to_string())
            )));
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked}");
}

/// Files made by the tools themselves (gzip 1.12, zstd 1.5.4 with and without `--check`, xz
/// 5.4.1 with CRC64 and SHA-256 checks), each in two pieces concatenated, as `cat` or a
/// parallel compressor leaves them: the same report as the plain capture.
#[test]
fn files_from_the_tools_in_several_pieces_read_whole() {
    let plain = rdp_pcap(&[Path::new("--format=jsonl"), &sample("nla-ok.pcap")]);
    let (want, _) = normalized(&plain.stdout);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for (name, file) in [
        ("gzip", "nla-ok.two-members.pcap.gz"),
        ("zstd", "nla-ok.two-frames.pcap.zst"),
        ("xz", "nla-ok.two-streams.pcap.xz"),
    ] {
        let run = rdp_pcap(&[Path::new("--format=jsonl"), &data.join(file)]);
        assert_eq!(run.status, 0, "{file}: {}", run.stderr);
        let (got, compression) = normalized(&run.stdout);
        assert_eq!(compression, vec![Value::from(name)]);
        assert_eq!(got, want, "{file}");
    }
}

#[test]
fn the_text_report_says_the_capture_was_compressed() {
    let dir = TempDir::new("text");
    let bytes = std::fs::read(sample("cipher-mismatch.pcap")).unwrap();
    let packed = dir.write("x.pcap.gz", &gzip(&bytes));
    let run = rdp_pcap(&[packed.as_os_str()]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("== {}: pcap (gzip), 12 packets", packed.display())),
        "{}",
        run.stdout
    );
}

/// The packet records of `capture` (a pcap file) `times` times over, after its file header.
fn repeated(capture: &[u8], times: usize) -> Vec<u8> {
    let mut out = capture[..24].to_vec();
    for _ in 0..times {
        out.extend_from_slice(&capture[24..]);
    }
    out
}

/// The connections before the damage are analysed; the damage is one line and status 2.
#[test]
fn a_compressed_capture_cut_short_or_corrupt_is_one_problem_line() {
    let dir = TempDir::new("damaged");
    let bytes = repeated(&std::fs::read(sample("tls-ok.pcap")).unwrap(), 4);
    for (name, ext, compress) in FORMATS {
        let packed = compress(&bytes);
        // zstd hands out a block (up to 128 KiB) once it is whole, and `zstd -d` leaves
        // nothing of a cut-short block either: cut a stream of several frames instead.
        let pieces = match name {
            "zstd" => bytes.chunks(32 * 1024).flat_map(zstd).collect(),
            _ => packed.clone(),
        };
        // Cut in the middle: half of the packets or so are there.
        let cut = dir.write(&format!("cut.pcap.{ext}"), &pieces[..pieces.len() / 2]);
        let run = rdp_pcap(&[Path::new("--format=jsonl"), &cut]);
        assert_eq!(run.status, 2, "{name}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!(
                "rdp-pcap: {}: {name} stream cut short after ",
                cut.display()
            )),
            "{}",
            run.stderr
        );
        assert!(!run.connections().is_empty(), "{name}");
        let capture = run
            .json_lines()
            .into_iter()
            .find(|v| v["type"] == "capture")
            .unwrap();
        assert!(capture["packets"].as_u64().unwrap() > 10, "{capture}");
        assert_eq!(capture["compression"], name);

        // The end of the stream (a checksum, or the xz stream footer) changed: everything is
        // decoded, then the check fails.
        let mut flipped = packed.clone();
        let at = flipped.len() - 2;
        flipped[at] ^= 0x55;
        let corrupt = dir.write(&format!("corrupt.pcap.{ext}"), &flipped);
        let run = rdp_pcap(&[Path::new("--format=jsonl"), &corrupt]);
        assert_eq!(run.status, 2, "{name}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!(
                "rdp-pcap: {}: corrupt {name} stream after ",
                corrupt.display()
            )),
            "{}",
            run.stderr
        );
        assert!(!run.connections().is_empty(), "{name}");

        // Bytes changed in the middle: whatever notices first (the decoder or the capture
        // reader) says so in one line.
        let mut garbled = packed.clone();
        let mid = garbled.len() / 2;
        for b in &mut garbled[mid..mid + 16] {
            *b ^= 0xa5;
        }
        let garbled = dir.write(&format!("garbled.pcap.{ext}"), &garbled);
        let run = rdp_pcap(&[Path::new("--format=jsonl"), &garbled]);
        assert_eq!(run.status, 2, "{name}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}

/// A compressed stream whose decoder would need gigabytes is refused before anything is
/// allocated; an endless one is read as it goes (the unit tests of `input::decompress`).
#[test]
fn streams_that_want_too_much_memory_are_refused() {
    let dir = TempDir::new("bomb");
    // A zstd frame header declaring a 2 GiB window.
    let zst = dir.write(
        "big-window.pcap.zst",
        &[0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x01, 0x00, 0x00],
    );
    let run = rdp_pcap(&[zst.as_os_str()]);
    assert_eq!(run.status, 2);
    assert_eq!(
        run.stderr,
        format!(
            "rdp-pcap: {}: corrupt zstd stream after 0 decompressed bytes: a frame's window is \
             over the limit of 134217728 bytes\n",
            zst.display()
        )
    );
    // An xz stream whose block header declares a 2 GiB LZMA2 dictionary.
    let xz = dir.write("big-dict.pcap.xz", &xz_with_dictionary(&xz(b"abc"), 38));
    let run = rdp_pcap(&[xz.as_os_str()]);
    assert_eq!(run.status, 2);
    assert_eq!(
        run.stderr,
        format!(
            "rdp-pcap: {}: corrupt xz stream after 0 decompressed bytes: it needs more than \
             134217728 bytes of memory to decompress\n",
            xz.display()
        )
    );
}

/// `packed` (one xz stream of one block with the LZMA2 filter alone, as XzEncoder writes it)
/// with the block header's dictionary size byte set to `dict` and its CRC32 made right (the .xz
/// file format, sections 3.1 and 5.3.1).
fn xz_with_dictionary(packed: &[u8], dict: u8) -> Vec<u8> {
    let mut out = packed.to_vec();
    // Stream header: 12 bytes. Block header: size byte, flags, then filter flags: ID 0x21,
    // properties size 1, the dictionary byte.
    let start = 12;
    let size = (usize::from(out[start]) + 1) * 4;
    assert_eq!(&out[start + 2..start + 4], &[0x21, 0x01]);
    out[start + 4] = dict;
    let mut crc = flate2::Crc::new();
    crc.update(&out[start..start + size - 4]);
    out[start + size - 4..start + size].copy_from_slice(&crc.sum().to_le_bytes());
    out
}

/// The real binary reading a compressed capture from standard input.
#[test]
fn compressed_standard_input_is_recognised() {
    use std::process::{Command, Stdio};
    let bytes = std::fs::read(sample("neg-failure-hybrid-required.pcap")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdp-pcap"))
        .args(["--format", "jsonl", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&zstd(&bytes))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["verdict"]["code"], "negotiation-failure");
    let capture = lines.iter().find(|v| v["type"] == "capture").unwrap();
    assert_eq!(capture["capture"], "-");
    assert_eq!(capture["compression"], "zstd");
}

/// A compressed capture in a directory is found by its content, whatever its name.
#[test]
fn compressed_directory_members_are_captures() {
    let dir = TempDir::new("members");
    let bytes = std::fs::read(sample("tls-ok.pcap")).unwrap();
    dir.write("ring.gz", &gzip(&bytes));
    dir.write("ring2", &xz(&bytes));
    dir.write("notes.gz", &gzip(b"no capture\n"));
    let run = rdp_pcap(&[Path::new("--format=jsonl"), &dir.0]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.connections().len(), 2);
}

/// The `capture` names of the capture objects and the `input-error` objects, in order.
fn inputs_and_errors(run: &common::Run) -> (Vec<String>, Vec<(String, String)>) {
    let lines = run.json_lines();
    let captures = lines
        .iter()
        .filter(|v| v["type"] == "capture")
        .map(|v| v["capture"].as_str().unwrap().to_string())
        .collect();
    let errors = lines
        .iter()
        .filter(|v| v["type"] == "input-error")
        .map(|v| {
            (
                v["capture"].as_str().unwrap().to_string(),
                v["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (captures, errors)
}

fn summary_of(run: &common::Run) -> Value {
    run.json_lines().pop().unwrap()
}

/// `analyze samples/` reads the six captures, skips the README beside them, and says so.
#[test]
fn the_samples_directory_is_read_and_its_readme_counted() {
    let run = rdp_pcap(&[Path::new("--format=jsonl"), &samples_dir()]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let summary = summary_of(&run);
    assert_eq!(summary["inputs"], 6);
    assert_eq!(summary["skipped_files"], 1);
    let text = rdp_pcap(&[samples_dir()]);
    assert_eq!(text.status, 0);
    assert!(
        text.stdout
            .contains("Summary: 6 connections in 6 inputs; 1 other file skipped\n"),
        "{}",
        text.stdout
    );
    // Files named on the command line are never "skipped".
    let one = rdp_pcap(&[Path::new("--format=jsonl"), &sample("tls-ok.pcap")]);
    assert_eq!(summary_of(&one)["skipped_files"], 0);
}

/// A directory with captures by content and by name, compressed ones, other files, broken
/// ones and a subdirectory.
fn mixed_directory(dir: &TempDir) {
    let neg = std::fs::read(sample("neg-failure-hybrid-required.pcap")).unwrap();
    let cipher = std::fs::read(sample("cipher-mismatch.pcap")).unwrap();
    dir.write("a.pcap", &neg);
    dir.write("c.PCAP.GZ", &gzip(&cipher));
    // A ring-buffer file as `tcpdump -C` names it: a capture by content.
    dir.write("ring1", &neg);
    dir.write("ring2.zst", &zstd(&cipher));
    dir.write("README.md", b"# captures of the outage\n");
    dir.write("notes.txt.gz", &gzip(b"not a capture\n"));
    // Names that say capture, contents that are not.
    dir.write("bad.pcap", b"this is no capture at all\n");
    dir.write("empty.cap", b"");
    dir.write("sub/d.pcapng.xz", &xz(&neg));
    dir.write("sub/deeper/e.pcap", &cipher);
    dir.write("sub/other.json", b"{}");
}

#[test]
fn a_directory_reads_captures_by_content_and_name_and_counts_the_rest() {
    let dir = TempDir::new("mixed");
    mixed_directory(&dir);
    let run = rdp_pcap(&[Path::new("--format=jsonl"), &dir.0]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    let (captures, errors) = inputs_and_errors(&run);
    let at = |name: &str| dir.0.join(name).display().to_string();
    // Sorted by path; the two broken files are analysed and reported as not captures.
    assert_eq!(
        captures,
        [
            "a.pcap",
            "bad.pcap",
            "c.PCAP.GZ",
            "empty.cap",
            "ring1",
            "ring2.zst"
        ]
        .map(at)
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        run.stderr,
        format!(
            "rdp-pcap: {}: not a pcap or pcapng capture (first bytes 0x74686973)\n\
             rdp-pcap: {}: the input is empty\n",
            at("bad.pcap"),
            at("empty.cap")
        )
    );
    let summary = summary_of(&run);
    assert_eq!(summary["skipped_files"], 2, "README.md, notes.txt.gz");
    assert_eq!(summary["connections"], 4);

    // With --recursive, the subdirectories too, in path order.
    let run = rdp_pcap(&[Path::new("--format=jsonl"), Path::new("-r"), &dir.0]);
    assert_eq!(run.status, 2);
    let (captures, _) = inputs_and_errors(&run);
    assert_eq!(
        captures,
        [
            "a.pcap",
            "bad.pcap",
            "c.PCAP.GZ",
            "empty.cap",
            "ring1",
            "ring2.zst",
            "sub/d.pcapng.xz",
            "sub/deeper/e.pcap"
        ]
        .map(at)
    );
    assert_eq!(summary_of(&run)["skipped_files"], 3);
    assert_eq!(summary_of(&run)["connections"], 6);
}

#[cfg(unix)]
#[test]
fn broken_links_are_problems_and_directory_links_are_not_followed() {
    use std::os::unix::fs::symlink;
    let dir = TempDir::new("links");
    let neg = std::fs::read(sample("neg-failure-hybrid-required.pcap")).unwrap();
    dir.write("top/a.pcap", &neg);
    dir.write("top/sub/b.pcap", &neg);
    symlink(dir.0.join("nowhere.pcap"), dir.0.join("top/gone.pcap")).unwrap();
    symlink(dir.0.join("nowhere"), dir.0.join("top/gone")).unwrap();
    // A loop back to the top, and a link to a capture (followed: it is a file).
    symlink(dir.0.join("top"), dir.0.join("top/sub/loop")).unwrap();
    symlink(dir.0.join("top/a.pcap"), dir.0.join("top/sub/c.pcap")).unwrap();
    // A pipe named like a capture is not opened (that would wait for a writer).
    let fifo = std::process::Command::new("mkfifo")
        .arg(dir.0.join("top/live.pcap"))
        .status()
        .unwrap();
    assert!(fifo.success());
    let top = dir.0.join("top");
    let run = rdp_pcap(&[Path::new("--format=jsonl"), Path::new("-r"), &top]);
    assert_eq!(run.status, 2);
    let at = |name: &str| top.join(name).display().to_string();
    let (captures, errors) = inputs_and_errors(&run);
    assert_eq!(captures, ["a.pcap", "sub/b.pcap", "sub/c.pcap"].map(at));
    assert_eq!(
        errors,
        [
            (at("gone"), "broken symbolic link".to_string()),
            (at("gone.pcap"), "broken symbolic link".to_string()),
            (at("live.pcap"), "not a regular file".to_string())
        ]
    );
    assert_eq!(run.stderr.lines().count(), 3, "{}", run.stderr);
}

/// A directory with nothing to analyse is an input problem (status 2), not an empty success:
/// a check that read nothing must not pass for one that found nothing wrong.
#[test]
fn a_directory_without_captures_is_a_problem_that_says_why() {
    let dir = TempDir::new("empty");
    dir.write("only-readme/README.md", b"notes");
    dir.write(
        "nested/sub/x.pcap",
        &std::fs::read(sample("tls-ok.pcap")).unwrap(),
    );
    std::fs::create_dir_all(dir.0.join("nothing")).unwrap();
    for (name, message) in [
        ("nothing", "no capture file in this directory"),
        (
            "only-readme",
            "no capture file in this directory (1 other file skipped)",
        ),
        (
            "nested",
            "no capture file in this directory (1 subdirectory not read without --recursive)",
        ),
    ] {
        let path = dir.0.join(name);
        let run = rdp_pcap(&[path.as_os_str()]);
        assert_eq!(run.status, 2, "{name}");
        assert_eq!(
            run.stderr,
            format!("rdp-pcap: {}: {message}\n", path.display())
        );
    }
    let run = rdp_pcap(&[Path::new("--recursive"), &dir.0.join("nested")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
}

#[test]
fn names_that_say_capture() {
    use rdp_pcap::input::name_says_capture;
    for yes in [
        "x.pcap",
        "x.pcapng",
        "x.cap",
        "X.PCAP",
        "x.pcap.gz",
        "x.pcapng.zst",
        "x.cap.xz",
        "a.b.Pcap.GZ",
    ] {
        assert!(name_says_capture(yes.as_ref()), "{yes}");
    }
    for no in [
        "x",
        "pcap",
        "x.gz",
        "x.pcap.bz2",
        "x.txt",
        "x.pcap1",
        "xpcap",
    ] {
        assert!(!name_says_capture(no.as_ref()), "{no}");
    }
}

/// The connection objects with `capture` and `first_frame` taken out (and returned apart).
fn connections_apart(run: &common::Run) -> (Vec<Value>, Vec<(String, u64)>) {
    let mut places = Vec::new();
    let conns = run
        .connections()
        .into_iter()
        .map(|mut c| {
            let obj = c.as_object_mut().unwrap();
            let capture = obj.remove("capture").unwrap();
            let frame = obj.remove("first_frame").unwrap();
            places.push((
                capture.as_str().unwrap().to_string(),
                frame.as_u64().unwrap(),
            ));
            c
        })
        .collect();
    (conns, places)
}

fn verdicts(run: &common::Run) -> Vec<String> {
    run.connections()
        .iter()
        .map(|c| c["verdict"]["code"].as_str().unwrap().to_string())
        .collect()
}

/// One connection split across three files at packet boundaries, as a ring buffer leaves it:
/// with `--merge` it is the same connection with the same verdict as in the whole capture,
/// found in the first file at frame 1; without, three fragments.
#[test]
fn merge_joins_a_connection_split_across_files() {
    let dir = TempDir::new("merge-split");
    let whole = sample("nla-ok.pcap");
    let (header, records) = pcap_records(&std::fs::read(&whole).unwrap());
    let n = records.len();
    let cuts = [0, n / 4, n / 2, n];
    let parts: Vec<PathBuf> = (0..3)
        .map(|i| {
            let body = records[cuts[i]..cuts[i + 1]].concat();
            dir.write(&format!("ring{i}.pcap"), &[header.clone(), body].concat())
        })
        .collect();
    let reference = rdp_pcap(&[Path::new("--format=jsonl"), &whole]);
    let (want, _) = connections_apart(&reference);
    assert_eq!(want.len(), 1);

    let mut args = vec![PathBuf::from("--format=jsonl"), PathBuf::from("--merge")];
    args.extend(parts.iter().cloned());
    let merged = rdp_pcap(&args);
    assert_eq!(merged.status, 0, "{}", merged.stderr);
    let (got, places) = connections_apart(&merged);
    assert_eq!(got, want);
    assert_eq!(places, [(parts[0].display().to_string(), 1)]);
    let capture = merged
        .json_lines()
        .into_iter()
        .find(|v| v["type"] == "capture")
        .unwrap();
    let names: Vec<String> = parts.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(capture["capture"], names.join(" + "));
    assert_eq!(capture["merged_from"], serde_json::json!(names));
    assert_eq!(capture["packets"], n);
    assert_eq!(summary_of(&merged)["inputs"], 1);

    // Without --merge: three captures of a piece each; the first piece ends before the
    // session is established, the later two are picked up mid-stream on port 3390 with no
    // X.224 request to say RDP, so they are seen and not reported.
    let separate = rdp_pcap(&args[..1].iter().chain(&parts).collect::<Vec<_>>());
    assert_eq!(separate.status, 0, "{}", separate.stderr);
    assert_eq!(summary_of(&separate)["inputs"], 3);
    assert_eq!(verdicts(&reference), ["established"]);
    assert_eq!(verdicts(&separate), ["incomplete"]);
    let seen: u64 = separate
        .json_lines()
        .iter()
        .filter(|v| v["type"] == "capture")
        .map(|v| v["connections_seen"].as_u64().unwrap())
        .sum();
    assert_eq!(seen, 3);

    // The directory, merged: the same as the files.
    let from_dir = rdp_pcap(&[
        Path::new("--format=jsonl"),
        Path::new("--merge"),
        dir.0.as_path(),
    ]);
    assert_eq!(connections_apart(&from_dir).0, want);
}

/// Two connections at once, their packets dealt round-robin to three files (each in time
/// order): merged, the same verdicts and facts as the capture they were dealt from, each
/// connection found in the file and at the frame of its first packet, whatever the order the
/// files are given in.
#[test]
fn merge_interleaves_files_in_time_order() {
    let dir = TempDir::new("merge-dealt");
    let frames = |name: &str| {
        kit::read(&std::fs::read(sample(name)).unwrap())
            .unwrap()
            .frames
    };
    let (tls, neg) = (
        frames("tls-ok.pcap"),
        frames("neg-failure-hybrid-required.pcap"),
    );
    // The negotiation failure starts a little after the TLS session does.
    let offset = tls[0].ts.nanos_since(neg[0].ts) + 1_500_000;
    let mut all: Vec<Packet> = tls
        .iter()
        .map(|f| Packet::raw(f.ts, f.link, f.data.clone()))
        .chain(
            neg.iter()
                .map(|f| Packet::raw(Timestamp(f.ts.0 + offset), f.link, f.data.clone())),
        )
        .collect();
    all.sort_by_key(|p| p.ts);
    let pcap = |packets: &[Packet]| kit::to_pcap(Linktype::ETHERNET, packets).unwrap();
    let whole = dir.write("whole.pcap", &pcap(&all));
    let parts: Vec<PathBuf> = (0..3)
        .map(|i| {
            let part: Vec<Packet> = all.iter().skip(i).step_by(3).cloned().collect();
            dir.write(&format!("part{i}.pcap"), &pcap(&part))
        })
        .collect();
    let reference = rdp_pcap(&[Path::new("--format=jsonl"), &whole]);
    assert_eq!(reference.status, 0);
    let (want, want_places) = connections_apart(&reference);
    assert_eq!(want.len(), 2);

    for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
        let mut args = vec![PathBuf::from("--format=jsonl"), PathBuf::from("--merge")];
        args.extend(order.iter().map(|i| parts[*i].clone()));
        let merged = rdp_pcap(&args);
        assert_eq!(merged.status, 0, "{}", merged.stderr);
        let (got, places) = connections_apart(&merged);
        assert_eq!(got, want, "{order:?}");
        // Frame F of the whole capture is frame (F - 1) / 3 + 1 of part (F - 1) % 3.
        let expected: Vec<(String, u64)> = want_places
            .iter()
            .map(|(_, f)| {
                let part = &parts[usize::try_from((f - 1) % 3).unwrap()];
                (part.display().to_string(), (f - 1) / 3 + 1)
            })
            .collect();
        assert_eq!(places, expected, "{order:?}");
    }

    // Separately, each part holds every third packet: nothing like the two connections.
    let mut args = vec![PathBuf::from("--format=jsonl")];
    args.extend(parts.iter().cloned());
    let separate = rdp_pcap(&args);
    assert!(separate.connections().len() > 2);
    assert_ne!(verdicts(&separate), verdicts(&reference));
}

/// A file cut short is that file's problem, named for it; the merge goes on with the others.
#[test]
fn merge_reports_a_broken_file_and_goes_on() {
    let dir = TempDir::new("merge-broken");
    let (header, records) = pcap_records(&std::fs::read(sample("nla-ok.pcap")).unwrap());
    let n = records.len();
    let first = dir.write(
        "a.pcap",
        &[header.clone(), records[..n / 2].concat()].concat(),
    );
    let mut second = [header.clone(), records[n / 2..].concat()].concat();
    second.truncate(second.len() - 10);
    let second = dir.write("b.pcap.gz", &gzip(&second));
    let missing = dir.0.join("c.pcap");
    let run = rdp_pcap(&[
        Path::new("--format=jsonl"),
        Path::new("--merge"),
        &first,
        &second,
        &missing,
    ]);
    assert_eq!(run.status, 2);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert_eq!(
        lines[0],
        format!("rdp-pcap: {}: no such file or directory", missing.display())
    );
    assert!(
        lines[1].starts_with(&format!(
            "rdp-pcap: {}: capture cut short: ",
            second.display()
        )),
        "{}",
        lines[1]
    );
    assert_eq!(verdicts(&run), ["established"]);
    let capture = run
        .json_lines()
        .into_iter()
        .find(|v| v["type"] == "capture")
        .unwrap();
    assert_eq!(capture["packets"], n - 1);
    // Only the second was compressed: the merged capture names no one compression.
    assert_eq!(capture["compression"], Value::Null);
}
