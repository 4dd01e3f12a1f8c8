//! Replays, under stable `cargo test`, every capture the `pipeline` fuzz target found
//! (`fuzz/regressions/pipeline/`) and its seed corpus (`fuzz/seeds/pipeline/`) through
//! `rdp_pcap::fuzzing::pipeline`, as the fuzz target does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

#[test]
fn pipeline() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut n = 0;
    for dir in ["regressions", "seeds"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join("pipeline")) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            eprintln!("{}", path.display());
            rdp_pcap::fuzzing::pipeline(&std::fs::read(&path).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "no seeds for the pipeline target");
}
