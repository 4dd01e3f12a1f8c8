//! `rdp-pcap`: explains why Remote Desktop connections fail, from packet captures.
#![forbid(unsafe_code)]

fn main() {
    let status = rdp_pcap::cli::run(
        std::env::args_os().collect(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(status);
}
