//! Replays, under stable `cargo test`, every input the fuzzers found (`fuzz/regressions/<target>/`,
//! one file per crash, hang or oversized allocation, named after what it broke) and the seed
//! corpus (`fuzz/seeds/<target>/`), through the same `rdp_wire::fuzzing` functions the fuzz
//! targets call. Structured inputs are decoded with `arbitrary` exactly as libfuzzer-sys does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use arbitrary::{Arbitrary, Unstructured};
use rdp_wire::fuzzing;

/// Runs `f` on every file of `fuzz/regressions/<target>` and `fuzz/seeds/<target>`; returns how
/// many it ran.
fn replay(target: &str, f: impl Fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut n = 0;
    for dir in ["regressions", "seeds"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).unwrap();
            eprintln!("{}", path.display());
            f(&data);
            n += 1;
        }
    }
    n
}

fn structured<'a, T: Arbitrary<'a>>(data: &'a [u8]) -> Option<T> {
    T::arbitrary_take_rest(Unstructured::new(data)).ok()
}

#[test]
fn tpkt_x224() {
    assert!(
        replay("tpkt_x224", fuzzing::tpkt_x224) > 0,
        "no seeds for tpkt_x224"
    );
}

#[test]
fn fastpath() {
    assert!(
        replay("fastpath", fuzzing::fastpath) > 0,
        "no seeds for fastpath"
    );
}

#[test]
fn tunnel() {
    assert!(replay("tunnel", fuzzing::tunnel) > 0, "no seeds for tunnel");
    // Without a fuzzer at hand: every seed with each byte replaced by a few telling values
    // (0, 0xff, CR, LF, a version byte), a byte dropped, or a byte repeated.
    let mutated = |data: &[u8]| {
        for i in 0..data.len() {
            for b in [0x00, 0xff, b'\r', b'\n', 0x01, 0x03, 0x04, 0x05] {
                let mut m = data.to_vec();
                m[i] = b;
                fuzzing::tunnel(&m);
            }
            let mut m = data.to_vec();
            m.remove(i);
            fuzzing::tunnel(&m);
            let mut m = data.to_vec();
            m.insert(i, data[i]);
            fuzzing::tunnel(&m);
        }
    };
    assert!(replay("tunnel", mutated) > 0);
}

#[test]
fn mcs_gcc() {
    assert!(
        replay("mcs_gcc", fuzzing::mcs_gcc) > 0,
        "no seeds for mcs_gcc"
    );
}

#[test]
fn tls_records() {
    assert!(
        replay("tls_records", fuzzing::tls_records) > 0,
        "no seeds for tls_records"
    );
}

#[test]
fn keylog() {
    assert!(replay("keylog", fuzzing::keylog) > 0, "no seeds for keylog");
}

#[test]
fn tls13_open() {
    assert!(
        replay("tls13_open", fuzzing::tls13_open) > 0,
        "no seeds for tls13_open"
    );
}

#[test]
fn x509() {
    assert!(replay("x509", fuzzing::x509) > 0, "no seeds for x509");
}

#[test]
fn tls_tracker() {
    let n = replay("tls_tracker", |data| {
        if let Some(ops) = structured::<Vec<fuzzing::TlsOp<'_>>>(data) {
            fuzzing::tls_tracker(&ops);
        }
    });
    assert!(n > 0, "no seeds for tls_tracker");
}

#[test]
fn analyzer() {
    let n = replay("analyzer", |data| {
        if let Some(ops) = structured::<Vec<fuzzing::AnalyzerOp<'_>>>(data) {
            fuzzing::analyzer(&ops);
        }
    });
    assert!(n > 0, "no seeds for analyzer");
}
