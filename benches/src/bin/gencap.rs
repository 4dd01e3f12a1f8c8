//! `gencap`: writes a large capture made of copies of recorded RDP connections.
//!
//! ```text
//! gencap -o OUT.pcap [--size 200M | --connections N] [--spacing-ms MS] [TEMPLATE.pcap[=WEIGHT]...]
//! ```
//! Without templates, the default mix of [`rdp_benches::default_mix`] is used (the lab corpus
//! when `../shared/corpus/lab` exists, else `samples/`). Sizes take K, M, G suffixes (binary).
#![forbid(unsafe_code)]

use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

use rdp_benches::{default_mix, generate, load_mix, workspace_root, Plan};

const USAGE: &str = "usage: gencap -o OUT.pcap [--size 200M | --connections N] [--spacing-ms MS] \
                     [TEMPLATE.pcap[=WEIGHT]...]";

fn parse_size(s: &str) -> Option<u64> {
    let (digits, shift) = match s.as_bytes().last()? {
        b'K' | b'k' => (s.get(..s.len().saturating_sub(1))?, 10),
        b'M' | b'm' => (s.get(..s.len().saturating_sub(1))?, 20),
        b'G' | b'g' => (s.get(..s.len().saturating_sub(1))?, 30),
        _ => (s, 0),
    };
    digits.parse::<u64>().ok()?.checked_shl(shift)
}

fn run() -> Result<(), String> {
    let mut out: Option<PathBuf> = None;
    let mut plan = Plan::default();
    let mut mix: Vec<(PathBuf, u32)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().ok_or_else(|| format!("{what} needs a value"));
        match arg.as_str() {
            "-o" | "--output" => out = Some(PathBuf::from(value("-o")?)),
            "--size" => {
                let v = value("--size")?;
                plan.target_bytes = parse_size(&v).ok_or_else(|| format!("bad size {v:?}"))?;
            }
            "--connections" => {
                let v = value("--connections")?;
                plan.target_connections = v.parse().map_err(|_| format!("bad count {v:?}"))?;
                if plan.target_bytes == Plan::default().target_bytes {
                    plan.target_bytes = u64::MAX;
                }
            }
            "--spacing-ms" => {
                let v = value("--spacing-ms")?;
                let ms: u64 = v.parse().map_err(|_| format!("bad spacing {v:?}"))?;
                plan.spacing_ns = ms.saturating_mul(1_000_000);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            t => {
                let (path, weight) = match t.rsplit_once('=') {
                    Some((p, w)) => (p, w.parse().map_err(|_| format!("bad weight in {t:?}"))?),
                    None => (t, 1),
                };
                mix.push((PathBuf::from(path), weight));
            }
        }
    }
    let out = out.ok_or_else(|| USAGE.to_string())?;
    if mix.is_empty() {
        mix = default_mix(&workspace_root());
    }
    let templates = load_mix(&mix).map_err(|e| e.to_string())?;
    let file = std::fs::File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let stats = generate(&templates, &plan, &mut writer).map_err(|e| e.to_string())?;
    eprintln!(
        "gencap: wrote {} bytes, {} packets, {} connections ({} copies of {} templates) to {}",
        stats.bytes,
        stats.packets,
        stats.connections,
        stats.copies,
        templates.len(),
        out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gencap: {e}");
            ExitCode::from(2)
        }
    }
}
