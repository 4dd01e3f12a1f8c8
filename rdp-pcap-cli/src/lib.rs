//! The `rdp-pcap` command as a library: capture reading, TCP reassembly, analysis and reports.
//!
//! `main.rs` is a thin wrapper; everything here is testable without a terminal.
#![forbid(unsafe_code)]

pub mod capture;
pub mod reassembly;
