//! The `rdp-pcap` command as a library: capture reading, TCP reassembly, analysis and reports.
//!
//! `main.rs` is a thin wrapper around [`cli::run`]; everything here is testable without a
//! terminal.
#![forbid(unsafe_code)]

pub mod ahead;
pub mod capture;
pub mod cli;
pub mod decoder;
pub mod explain;
pub mod fix;
#[doc(hidden)]
pub mod fuzzing;
pub mod input;
pub mod kit;
pub mod links;
pub mod merge;
pub mod output;
pub mod pipeline;
pub mod reassembly;
pub mod record;
pub mod report;
pub mod session;
