//! Parser and analyzer benchmarks on real bytes from `samples/` (and one lab certificate in
//! `benches/data/`). Throughput is in input bytes.
//!
//! `cargo bench -p rdp-benches --bench parsers`
#![forbid(unsafe_code)]
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rdp_benches::{workspace_root, TcpSegment, Template};
use rdp_wire::analyzer::{Analyzer, Caches};
use rdp_wire::{Side, Timestamp};

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

fn segments(name: &str) -> Vec<TcpSegment> {
    let path = workspace_root().join("samples").join(name);
    match Template::load(&path) {
        Ok(t) => t.tcp_segments(),
        Err(e) => {
            eprintln!("cannot load {}: {e}", path.display());
            Vec::new()
        }
    }
}

/// The first client payload satisfying `pick`.
fn client_payload(name: &str, pick: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    segments(name)
        .into_iter()
        .find(|s| s.from_client && pick(&s.payload))
        .map(|s| s.payload)
        .unwrap_or_default()
}

fn bytes(v: &[u8]) -> Throughput {
    Throughput::Bytes(u64::try_from(v.len()).unwrap_or(u64::MAX))
}

fn x224_request(c: &mut Criterion) {
    // The X.224 Connection Request of samples/tls-ok.pcap (cookie, RDP_NEG_REQ), TPKT included.
    let frame = client_payload("tls-ok.pcap", |p| p.get(5) == Some(&0xe0));
    let mut g = c.benchmark_group("x224");
    g.throughput(bytes(&frame));
    g.bench_function("connection_request", |b| {
        b.iter(|| {
            let parsed = rdp_wire::tpkt::parse_frame(black_box(&frame))
                .and_then(|(tpkt, _)| rdp_wire::x224::parse_connection_request(tpkt.payload));
            black_box(parsed.is_ok())
        })
    });
    g.finish();
}

fn mcs_connect_initial(c: &mut Criterion) {
    // The MCS Connect Initial (BER tag 0x7f65) of samples/rdp-standard-security.pcap, after
    // its TPKT (4 bytes) and X.224 Data (3 bytes) headers.
    let frame = client_payload("rdp-standard-security.pcap", |p| {
        p.get(5) == Some(&0xf0) && p.get(7..9) == Some(&[0x7f, 0x65][..])
    });
    let mcs = frame.get(7..).unwrap_or_default().to_vec();
    let mut g = c.benchmark_group("mcs");
    g.throughput(bytes(&mcs));
    g.bench_function("connect_initial", |b| {
        b.iter(|| black_box(rdp_wire::mcs::parse_connect_initial(black_box(&mcs)).is_ok()))
    });
    g.finish();
}

fn gcc_client_data(c: &mut Criterion) {
    // The GCC Conference Create Request and client data blocks inside the MCS Connect Initial
    // of samples/rdp-standard-security.pcap (core, security, network, cluster, ...).
    let frame = client_payload("rdp-standard-security.pcap", |p| {
        p.get(5) == Some(&0xf0) && p.get(7..9) == Some(&[0x7f, 0x65][..])
    });
    let mcs = frame.get(7..).unwrap_or_default().to_vec();
    let user_data = rdp_wire::mcs::parse_connect_initial(&mcs)
        .map(|ci| ci.user_data.to_vec())
        .unwrap_or_default();
    let mut g = c.benchmark_group("gcc");
    g.throughput(bytes(&user_data));
    g.bench_function("conference_create_request_and_client_data", |b| {
        b.iter(|| {
            let req = rdp_wire::gcc::parse_conference_create_request(black_box(&user_data));
            black_box(
                req.and_then(|r| rdp_wire::gcc::parse_client_data(r.user_data))
                    .is_ok(),
            )
        })
    });
    g.finish();
}

fn client_hello(c: &mut Criterion) {
    // The ClientHello of samples/tls-ok.pcap (xfreerdp, 31 cipher suites): the handshake body
    // after the 5-byte record header and the 4-byte handshake header.
    let record = client_payload("tls-ok.pcap", |p| p.starts_with(&[0x16, 0x03]));
    let body = record.get(9..).unwrap_or_default().to_vec();
    let mut g = c.benchmark_group("tls");
    g.throughput(bytes(&body));
    g.bench_function("client_hello_parse", |b| {
        b.iter(|| black_box(rdp_wire::tls::handshake::parse_client_hello(black_box(&body)).is_ok()))
    });
    g.bench_function("client_hello_parse_ja4_ja3", |b| {
        b.iter(|| {
            let hello = rdp_wire::tls::handshake::parse_client_hello(black_box(&body));
            black_box(hello.map(|h| {
                (
                    rdp_wire::tls::fingerprint::ja4(&h),
                    rdp_wire::tls::fingerprint::ja3(&h),
                )
            }))
        })
    });
    // What the tracker does: the same client's fingerprints are remembered after the first.
    g.bench_function("client_hello_parse_fingerprints_remembered", |b| {
        let mut cache = rdp_wire::analyzer::FingerprintCache::default();
        b.iter(|| {
            let hello = rdp_wire::tls::handshake::parse_client_hello(black_box(&body));
            black_box(hello.map(|h| cache.client_fingerprints(&h)))
        })
    });
    g.finish();
}

fn certificate(c: &mut Criterion) {
    // The xrdp lab server certificate (RSA 2048, self-signed), from the lab's tls12-ok.pcap.
    let der = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/rdp-lab-good.der"))
        .unwrap_or_default();
    let mut g = c.benchmark_group("x509");
    g.throughput(bytes(&der));
    g.bench_function("summarize_certificate", |b| {
        b.iter(|| black_box(rdp_wire::x509::summarize_certificate(black_box(&der)).is_ok()))
    });
    g.finish();
}

/// Feeds one recorded connection to a fresh analyzer, as the pipeline would after
/// reassembly (the sample is in order, without losses).
/// One connection through an analyzer, fed as the pipeline feeds it: with the caches of the
/// run lent (`None`: without, every certificate summarised and fingerprint computed again).
fn analyze_connection(segs: &[TcpSegment], mut caches: Option<&mut Caches>) -> Analyzer {
    let mut a = Analyzer::new();
    let base = 1_764_410_000_000_000_000i64;
    for s in segs {
        let at = Timestamp(base.saturating_add(i64::try_from(s.rel_ns).unwrap_or(0)));
        let side = if s.from_client {
            Side::Client
        } else {
            Side::Server
        };
        if s.flags & SYN != 0 {
            if s.flags & ACK == 0 {
                a.syn(at);
            } else {
                a.syn_ack(at);
            }
        }
        match caches.as_deref_mut() {
            Some(caches) => a.data_cached(side, at, &s.payload, caches),
            None => a.data(side, at, &s.payload),
        }
        if s.flags & FIN != 0 {
            a.fin(side, at);
        }
        if s.flags & RST != 0 {
            a.rst(side, at);
        }
    }
    a
}

fn analyzer(c: &mut Criterion) {
    let segs = segments("tls-ok.pcap");
    let total: usize = segs.iter().map(|s| s.payload.len()).sum();
    let mut g = c.benchmark_group("analyzer");
    g.throughput(Throughput::Bytes(u64::try_from(total).unwrap_or(0)));
    // The connections of a capture share their servers: the pipeline lends every analyzer the
    // run's caches, so the ClientHello's fingerprints are remembered, as they were when the
    // caches were thread-locals.
    let mut caches = Caches::new();
    g.bench_function("tls_ok_connection", |b| {
        b.iter(|| {
            let a = analyze_connection(black_box(&segs), Some(&mut caches));
            black_box(a.verdict())
        })
    });
    g.bench_function("tls_ok_connection_no_caches", |b| {
        b.iter(|| {
            let a = analyze_connection(black_box(&segs), None);
            black_box(a.verdict())
        })
    });
    g.finish();
}

/// A key log of `sessions` TLS 1.3 sessions as OpenSSL writes it: five lines each (four traffic
/// secrets and the exporter secret), 48-byte secrets, randoms from a fixed xorshift.
fn tls13_key_log(sessions: usize) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut hex = |bytes: usize| {
        let mut out = String::with_capacity(bytes * 2);
        for _ in 0..bytes / 8 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let _ = write!(out, "{state:016x}");
        }
        out
    };
    let mut text = String::new();
    for _ in 0..sessions {
        let random = hex(32);
        for label in [
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "EXPORTER_SECRET",
            "SERVER_TRAFFIC_SECRET_0",
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0",
        ] {
            let _ = writeln!(text, "{label} {random} {}", hex(48));
        }
    }
    text.into_bytes()
}

fn keylog(c: &mut Criterion) {
    let text = tls13_key_log(100_000);
    let mut g = c.benchmark_group("keylog");
    g.sample_size(10);
    g.throughput(bytes(&text));
    g.bench_function("tls13_100k_sessions", |b| {
        b.iter(|| {
            let mut log = rdp_wire::tls::keylog::KeyLog::new();
            black_box(log.add(black_box(&text)))
        })
    });
    g.finish();
}

/// The client application traffic secret of the lab's `tls-ok.keys` (TLS_AES_256_GCM_SHA384).
const TLS_OK_CTS0: &str = "881fe12009271b00c4dba6ba8f0d87f47c3336d66068960e0e14dc2c0772dfe0e9c43cd4f9cc362f761479aa81bdd66e";

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .filter_map(|i| h.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

fn tls13_protection(c: &mut Criterion) {
    use rdp_wire::tls::cipher_suites::CipherSuite;
    use rdp_wire::tls::protection::Tls13Protection;
    let secret = unhex(TLS_OK_CTS0);
    // The client's first application record of samples/tls-ok.pcap: the MCS Connect Initial.
    let record = client_payload("tls-ok.pcap", |p| p.starts_with(&[0x17, 0x03, 0x03, 0x01]));
    let mut g = c.benchmark_group("tls13");
    g.bench_function("keys_from_secret_aes256gcm_sha384", |b| {
        b.iter(|| {
            black_box(Tls13Protection::new(
                CipherSuite::TLS_AES_256_GCM_SHA384,
                black_box(&secret),
            ))
        })
    });
    let Ok(fresh) = Tls13Protection::new(CipherSuite::TLS_AES_256_GCM_SHA384, &secret) else {
        return;
    };
    let mut out = Vec::with_capacity(record.len());
    g.throughput(bytes(&record));
    g.bench_function("open_record_aes256gcm", |b| {
        b.iter(|| {
            let mut p = fresh.clone();
            black_box(p.open(black_box(&record), &mut out).is_ok())
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    keylog,
    tls13_protection,
    x224_request,
    mcs_connect_initial,
    gcc_client_data,
    client_hello,
    certificate,
    analyzer
);
criterion_main!(benches);
