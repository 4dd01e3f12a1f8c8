//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use rdp_pcap::kit::{Frame, Linktype};
use rdp_wire::Endpoints;

/// `../shared/corpus` beside the project root.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

/// The corpus folder, or `None` (with a note) when it is missing outside CI. Under CI
/// (`CI=true`) a missing corpus fails the test: the conformance checks must run there.
pub fn corpus() -> Option<PathBuf> {
    let dir = corpus_dir();
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "the shared corpus is missing at {} (required under CI)",
            dir.display()
        );
    }
    eprintln!("note: {} is missing; corpus tests skipped", dir.display());
    None
}

/// The bundled samples folder.
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

/// Output of one run of the command.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON lines of stdout.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad json line {l:?}: {e}")))
            .collect()
    }

    /// The `connection` objects.
    pub fn connections(&self) -> Vec<serde_json::Value> {
        self.json_lines()
            .into_iter()
            .filter(|v| v["type"] == "connection")
            .collect()
    }
}

/// Runs `rdp-pcap` in-process with `args` (program name excluded).
pub fn rdp_pcap<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let mut argv: Vec<OsString> = vec![OsString::from("rdp-pcap")];
    argv.extend(args.iter().map(|a| a.as_ref().to_os_string()));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = rdp_pcap::cli::run(argv, &mut out, &mut err);
    Run {
        status,
        stdout: String::from_utf8(out).expect("utf-8 stdout"),
        stderr: String::from_utf8(err).expect("utf-8 stderr"),
    }
}

/// Every file below `dir` (recursively) that starts with a pcap or pcapng magic, sorted.
pub fn captures_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let head: Vec<u8> = std::fs::read(&path).unwrap().into_iter().take(4).collect();
                if rdp_pcap::capture::looks_like_capture(&head) {
                    out.push(path);
                }
            }
        }
    }
    out.sort();
    out
}

/// The TCP endpoints of a frame: (source, destination).
pub fn addresses(frame: &Frame) -> Option<(SocketAddr, SocketAddr)> {
    let sliced = match frame.link {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(&frame.data).ok()?,
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(&frame.data).ok()?,
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => {
            SlicedPacket::from_ip(&frame.data).ok()?
        }
        Linktype::NULL | Linktype::LOOP => SlicedPacket::from_ip(frame.data.get(4..)?).ok()?,
        _ => return None,
    };
    let (src, dst): (IpAddr, IpAddr) = match sliced.net? {
        NetSlice::Ipv4(ip) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        NetSlice::Ipv6(ip) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        _ => return None,
    };
    let Some(TransportSlice::Tcp(tcp)) = sliced.transport else {
        return None;
    };
    Some((
        SocketAddr::new(src, tcp.source_port()),
        SocketAddr::new(dst, tcp.destination_port()),
    ))
}

/// Where a frame goes: `Some(true)` from the client, `Some(false)` from the server, `None`
/// when it is not of the connection `e`.
pub fn from_client(frame: &Frame, e: Endpoints) -> Option<bool> {
    match addresses(frame)? {
        (s, d) if s == e.client && d == e.server => Some(true),
        (s, d) if s == e.server && d == e.client => Some(false),
        _ => None,
    }
}

/// The TCP payload bytes a frame carries (0 when it is not TCP).
pub fn tcp_payload_len(frame: &Frame) -> usize {
    tcp_payload(frame).map_or(0, <[u8]>::len)
}

/// The TCP payload of a frame, if it is TCP.
pub fn tcp_payload(frame: &Frame) -> Option<&[u8]> {
    let sliced = match frame.link {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(&frame.data).ok(),
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(&frame.data).ok(),
        Linktype::NULL | Linktype::LOOP => SlicedPacket::from_ip(frame.data.get(4..)?).ok(),
        _ => SlicedPacket::from_ip(&frame.data).ok(),
    };
    match sliced?.transport? {
        TransportSlice::Tcp(tcp) => Some(tcp.payload()),
        _ => None,
    }
}

/// The key logs (`NAME.keys`, beside `NAME.pcap`) of the corpus's `lab` and `lab2`, in order.
pub fn lab_key_logs(corpus: &Path) -> Vec<PathBuf> {
    let mut keys = Vec::new();
    for dir in ["lab", "lab2"] {
        let mut here: Vec<PathBuf> = std::fs::read_dir(corpus.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "keys"))
            .collect();
        here.sort();
        keys.extend(here);
    }
    keys
}
