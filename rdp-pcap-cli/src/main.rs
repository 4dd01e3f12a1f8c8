//! `rdp-pcap`: explains why Remote Desktop connections fail, from packet captures.
#![forbid(unsafe_code)]

use std::io::IsTerminal;

fn main() {
    let terminal = rdp_pcap::cli::Terminal {
        stdout: std::io::stdout().is_terminal(),
        stderr: std::io::stderr().is_terminal(),
    };
    let status = rdp_pcap::cli::run_on(
        std::env::args_os().collect(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
        terminal,
    );
    std::process::exit(status);
}
