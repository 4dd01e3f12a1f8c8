//! Writes the synthetic hostile captures used by `benches/peak-memory.sh` into a folder.
//!
//! `cargo run --release -p rdp-pcap-cli --example synth-captures -- DIR [SYN_FLOOD_CONNECTIONS]
//! [TINY_PIECE_CONNECTIONS]` (defaults 1,000,000 and 65,536: the latter writes 2.4 GB).
//!
//! `... --example synth-captures -- pktmon IN.pcap OUT.pcapng` rewrites a pcap of Ethernet
//! frames as Windows' `pktmon etl2pcap` would have written it, every packet once per network
//! stack component (`synth::pktmon_copies`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use rdp_pcap::fuzzing::synth;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: synth-captures DIR [N [M]]"));
    if dir.as_os_str() == "pktmon" {
        let usage = "usage: synth-captures pktmon IN.pcap OUT.pcapng";
        let input = std::fs::read(args.next().expect(usage))?;
        let copies = synth::pktmon_copies(&input).expect("a pcap of Ethernet frames");
        return std::fs::write(args.next().expect(usage), copies);
    }
    let flood: u32 = args
        .next()
        .map_or(1_000_000, |n| n.parse().expect("a count"));
    let tiny: u32 = args.next().map_or(65_536, |n| n.parse().expect("a count"));
    std::fs::create_dir_all(&dir)?;
    let file = |name: &str| BufWriter::new(File::create(dir.join(name)).unwrap());
    synth::syn_flood(file(&format!("syn-flood-{flood}.pcap")), flood)?;
    synth::syn_flood_beside_live_connection(
        file(&format!("syn-flood-{flood}-beside-live.pcap")),
        flood,
    )?;
    synth::half_open_tls(file("half-open-tls-10000.pcap"), 10_000)?;
    synth::ooo_burst(file("ooo-burst.pcap"), 20_000, 1000)?;
    synth::ooo_tiny_pieces(file(&format!("ooo-tiny-pieces-{tiny}.pcap")), tiny, 256)?;
    for n in [40_000, 1_000_000] {
        synth::brute_force(file(&format!("brute-force-{n}-in-50s.pcap")), n, 50_000)?;
    }
    synth::x224_from_many_clients(
        file("x224-from-1000000-clients-in-50s.pcap"),
        1_000_000,
        50_000,
    )?;
    synth::x224_to_many_servers(
        file("x224-to-1000000-servers-in-50s.pcap"),
        1_000_000,
        50_000,
    )?;
    synth::big_client_hellos(file("client-hello-32000-suites-x1000.pcap"), 1000, 32_000)?;
    std::fs::write(
        dir.join("absurd-block.pcapng"),
        synth::pcapng_absurd_block(0xffff_fff0),
    )?;
    std::fs::write(
        dir.join("record-claiming-16MiB.pcap"),
        synth::pcap_lying_record(16 * 1024 * 1024 - 16),
    )?;
    Ok(())
}
