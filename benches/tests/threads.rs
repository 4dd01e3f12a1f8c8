//! One thread or two, the same report: on a generated capture of a few hundred connections,
//! enough for the records rendered on the decoding thread (`rdp_pcap::ahead`) to meet its
//! bound, both while the capture is read and when the connections still open at its end are
//! reported all at once.

#![allow(clippy::expect_used, clippy::indexing_slicing)]

use rdp_benches::{default_mix, generate, load_mix, workspace_root, Plan};
use rdp_pcap::pipeline::{analyze, Options, RunState};
use rdp_pcap::report::{reporter, Format};

/// The report of `capture` in `format` on `threads` threads.
fn report(capture: &[u8], format: Format, threads: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut rep = reporter(format, Box::new(&mut out), false);
        let options = Options {
            threads,
            ..Options::new(&[])
        };
        let mut run = RunState::default();
        let capture_report = analyze("gen", capture, &options, &mut run, rep.as_mut())
            .expect("a report written to memory");
        rep.capture(&capture_report).expect("written to memory");
    }
    out
}

#[test]
fn one_thread_or_two_give_the_same_report() {
    let mix = load_mix(&default_mix(&workspace_root())).expect("the samples of the mix");
    let plan = Plan {
        target_bytes: 6 << 20,
        // Close together, so that many connections are open when the capture is cut.
        spacing_ns: 2_000_000,
        ..Plan::default()
    };
    let mut whole = Vec::new();
    let stats = generate(&mix, &plan, &mut whole).expect("written to memory");
    assert!(stats.connections > 200, "{stats:?}");
    // Cut in the middle of a record: the connections open there are reported at the end.
    let cut = &whole[..whole.len() - whole.len() / 3 + 7];
    for capture in [&whole[..], cut] {
        for format in [Format::Jsonl, Format::Json, Format::Csv, Format::Text] {
            let one = report(capture, format, 1);
            let two = report(capture, format, 2);
            assert!(one.len() > 100_000, "{format:?}: {}", one.len());
            assert!(one == two, "{format:?}: the reports differ");
        }
    }
}
