//! Zero-copy parsers for the RDP connection sequence, and an analyzer that turns the two byte
//! streams of one connection into events and a verdict.
//!
//! # Scope
//! - [`tpkt`]: the TPKT frame (T.123 / RFC 1006) that carries every X.224 and MCS PDU.
//! - [`x224`]: X.224 TPDUs and the RDP security negotiation inside the Connection Request and
//!   Connection Confirm (MS-RDPBCGR 2.2.1.1 and 2.2.1.2).
//! - [`fastpath`]: fast-path input and output PDU framing (MS-RDPBCGR 2.2.8.1.2, 2.2.9.1.2).
//! - [`tls`]: TLS records, handshake messages, alerts, cipher suites and JA3/JA4 fingerprints.
//! - [`x509`]: an owned summary of a server certificate.
//! - [`mcs`]: T.125 MCS Connect-Initial/Connect-Response (BER) and the domain PDUs (PER).
//! - [`gcc`]: the T.124 GCC Conference Create Request/Response and the client and server data
//!   blocks inside them (MS-RDPBCGR 2.2.1.3 and 2.2.1.4).
//! - [`rdp`]: Standard RDP Security PDUs carried in MCS Send Data (security header, Security
//!   Exchange, Client Info, licensing) and the Set Error Info PDU.
//! - [`names`]: name tables for keyboard layouts, client builds, RDP versions and encryption.
//! - [`printable`]: the one filter that makes text from the wire safe to print.
//! - [`analyzer`]: feed it the reassembled bytes of both directions (and the TCP open/close
//!   events) of one connection; ask it for the facts, the timeline, the verdict and the
//!   findings. It holds the per-connection TLS tracker ([`analyzer::TlsTracker`], whose
//!   [`analyzer::TlsFacts`] say how far the handshake went) and the caches a caller may lend it
//!   ([`analyzer::Caches`]).
//!
//! The crate does no I/O and never prints. Parsed views borrow the input; only the analyzer's
//! reports own their data.
//!
//! # Layers
//! Read the crate from the bottom up; each layer uses only those below it:
//! 1. **Vocabulary**, at the crate root: [`Side`], [`Timestamp`] and [`Endpoints`], which every
//!    layer and every tool around the crate (capture readers, reassemblers, reports) speaks of,
//!    [`Bump`] and [`Saturate`], the saturating counter and integer conversion every count and
//!    length goes through, and the one [`Error`]. None of them knows a protocol.
//! 2. **Stateless parsers**: [`tpkt`], [`x224`], [`fastpath`], [`mcs`], [`gcc`], [`rdp`],
//!    [`tls`], [`x509`], the proxy preambles before RDP ([`tunnel`]) and the [`names`] tables. Each reads the bytes it is given and returns
//!    a view or a value; none keeps state between calls (no `thread_local!`, no memo) and none
//!    knows the analyzer.
//! 3. **Diagnosis**, the [`analyzer`]: the state of one connection (which decoder each
//!    direction is in, how far TLS went), its facts, timeline, verdict and findings, the
//!    capture-wide findings, and the caches whose lifetime the caller chooses.
//!
//! `tests/layers.rs` checks the rule on the source: a module outside `analyzer/` that names the
//! analyzer, or any module with a `thread_local!`, fails the build's tests.
//!
//! # Start here
//! Most users want the [`analyzer`]: report what TCP did and hand it each direction's bytes in
//! order; it decodes X.224, TLS and MCS as they come and says what happened.
//!
//! ```
//! use rdp_wire::analyzer::{Analyzer, VerdictCode};
//! use rdp_wire::{Side, Timestamp};
//!
//! // An X.224 Connection Request (cookie "alice", requesting TLS) answered by
//! // RDP_NEG_FAILURE HYBRID_REQUIRED_BY_SERVER: bytes from a real capture.
//! let request = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x01\x00\x00\x00";
//! let confirm = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x00\x00\x00\x03\x00\x08\x00\x05\x00\x00\x00";
//! let ms = |n: i64| Timestamp(1_764_410_677_000_000_000 + n * 1_000_000);
//!
//! let mut conn = Analyzer::new();
//! conn.syn(ms(0));
//! conn.syn_ack(ms(0));
//! conn.data(Side::Client, ms(1), request);
//! conn.data(Side::Server, ms(48), confirm);
//! conn.fin(Side::Client, ms(49));
//!
//! let verdict = conn.verdict();
//! assert_eq!(verdict.code, VerdictCode::NegotiationFailure);
//! assert!(verdict.summary.contains("HYBRID_REQUIRED_BY_SERVER"));
//! assert_eq!(conn.facts().x224.as_ref().unwrap().cookie.as_deref(), Some("alice"));
//! ```
//!
//! `examples/analyze_streams.rs` does the same with the timeline and findings, and says how a
//! tool that follows many connections shares one [`analyzer::Caches`] among them. The parsers
//! underneath are public too, for tools that only want one layer: each module's documentation
//! cites the specification section of every PDU it decodes.
//!
//! # Framing contract
//! Every framed PDU has a cheap probe that answers either the frame length or
//! [`Error::Incomplete`] with the number of bytes still missing; the body parser then runs on
//! the exact slice, where a short field is [`Error::Truncated`], never "incomplete". Every prefix
//! of a valid frame is therefore incomplete, and no input makes a parser panic.
//!
//! # Reading style
//! One idiom for every parser, so that new ones (CredSSP, NTLM, Kerberos ...) read like the
//! old: the frame probes peek at header bytes; everything inside a frame is a nom 8 function
//! `fn(&[u8]) -> IResult<&[u8], T, Error>`, for fixed little-endian layouts (`le_u16`,
//! `le_u32`, `take`) and ASN.1 alike (the BER and PER readers are such functions), run on the
//! exact body by one boundary helper that turns running out of bytes into
//! [`Error::Truncated`] naming the structure. A short field is never read as 0. The private
//! module `parse` (`src/parse.rs`) holds the helpers and a worked example.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::arithmetic_side_effects)]
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

pub mod analyzer;
mod error;
pub mod fastpath;
mod flow;
#[doc(hidden)]
pub mod fuzzing;
pub mod gcc;
pub mod mcs;
pub mod names;
mod parse;
mod per;
pub mod printable;
pub mod rdp;
pub mod tls;
pub mod tpkt;
pub mod tunnel;
mod values;
pub mod x224;
pub mod x509;

#[cfg(test)]
mod testdata;

pub use error::Error;
pub use flow::{Endpoints, Side, Timestamp};
pub use values::{Bump, FlagName, Joined, Saturate};
