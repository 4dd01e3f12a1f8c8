//! `rdp-pcap`: explains why Remote Desktop connections fail, from packet captures.
#![forbid(unsafe_code)]

fn main() {
    let terminal = rdp_pcap::cli::Terminal::detect();
    // Unlocked handles: each write takes the lock for its own time only. The progress bar is
    // drawn on standard error from the decoding thread; a lock held here for the whole run
    // would leave that thread waiting for ever, and this one waiting for its segments.
    let status = rdp_pcap::cli::run_on(
        std::env::args_os().collect(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
        terminal,
    );
    std::process::exit(status);
}
