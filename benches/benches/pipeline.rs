//! The whole pipeline (capture reading, reassembly, analysis, JSON lines to `io::sink()`) on
//! a capture generated in memory from `samples/` (about 8 MiB, a few hundred connections), on
//! one thread and with the capture decoded on a second one.
//!
//! `cargo bench -p rdp-benches --bench pipeline`
#![forbid(unsafe_code)]
#![allow(missing_docs)]

use std::hint::black_box;
use std::io;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rdp_benches::{generate, load_mix, workspace_root, Plan};
use rdp_pcap::pipeline::{analyze, Options, RunState};
use rdp_pcap::report::{self, Format};

fn capture() -> Vec<u8> {
    // samples/ only, so that the benchmark is the same with or without the lab corpus.
    let samples = workspace_root().join("samples");
    let mix = [
        ("tls-ok.pcap", 5),
        ("nla-ok.pcap", 2),
        ("rdp-standard-security.pcap", 1),
        ("cipher-mismatch.pcap", 2),
        ("neg-failure-hybrid-required.pcap", 3),
    ]
    .map(|(f, w)| (samples.join(f), w));
    let plan = Plan {
        target_bytes: 8 << 20,
        ..Plan::default()
    };
    let mut out = Vec::new();
    match load_mix(&mix).and_then(|t| generate(&t, &plan, &mut out).map_err(Into::into)) {
        Ok(_) => out,
        Err(e) => {
            eprintln!("cannot generate the capture: {e}");
            Vec::new()
        }
    }
}

fn pipeline(c: &mut Criterion) {
    let data = capture();
    let options = Options::new(&[]);
    let two_threads = Options {
        threads: 2,
        ..Options::new(&[])
    };
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Bytes(u64::try_from(data.len()).unwrap_or(0)));
    g.sample_size(20);
    g.bench_function("jsonl_to_sink", |b| {
        b.iter(|| {
            let mut reporter = report::reporter(Format::Jsonl, Box::new(io::sink()), false);
            let mut run = RunState::default();
            let rep = analyze(
                "bench",
                black_box(&data[..]),
                &options,
                &mut run,
                &mut *reporter,
            );
            black_box(rep.map(|r| r.connections_reported))
        })
    });
    // The default on two cores: decoding on a second thread, analysis on this one.
    g.bench_function("jsonl_to_sink_two_threads", |b| {
        b.iter(|| {
            let mut reporter = report::reporter(Format::Jsonl, Box::new(io::sink()), false);
            let mut run = RunState::default();
            let rep = analyze(
                "bench",
                black_box(&data[..]),
                &two_threads,
                &mut run,
                &mut *reporter,
            );
            black_box(rep.map(|r| r.connections_reported))
        })
    });
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
