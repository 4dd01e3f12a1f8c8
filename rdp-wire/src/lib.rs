//! Zero-copy parsers for the RDP connection sequence, and an analyzer that turns the two byte
//! streams of one connection into events and a verdict.
//!
//! # Scope
//! - [`tpkt`]: the TPKT frame (T.123 / RFC 1006) that carries every X.224 and MCS PDU.
//! - [`x224`]: X.224 TPDUs and the RDP security negotiation inside the Connection Request and
//!   Connection Confirm (MS-RDPBCGR 2.2.1.1 and 2.2.1.2).
//! - [`fastpath`]: fast-path input and output PDU framing (MS-RDPBCGR 2.2.8.1.2, 2.2.9.1.2).
//! - [`tls`]: TLS records, handshake messages, alerts, cipher suites, JA3/JA4 fingerprints and a
//!   per-connection tracker that turns both directions into [`tls::TlsFacts`].
//! - [`x509`]: an owned summary of a server certificate.
//! - [`mcs`]: T.125 MCS Connect-Initial/Connect-Response (BER) and the domain PDUs (PER).
//! - [`gcc`]: the T.124 GCC Conference Create Request/Response and the client and server data
//!   blocks inside them (MS-RDPBCGR 2.2.1.3 and 2.2.1.4).
//! - [`rdp`]: Standard RDP Security PDUs carried in MCS Send Data (security header, Security
//!   Exchange, Client Info, licensing) and the Set Error Info PDU.
//! - [`names`]: name tables for keyboard layouts, client builds, RDP versions and encryption.
//! - [`analyzer`]: feed it the reassembled bytes of both directions (and the TCP open/close
//!   events) of one connection; ask it for the facts and the verdict.
//!
//! The crate does no I/O and never prints. Parsed views borrow the input; only the analyzer's
//! reports own their data.
//!
//! # Framing contract
//! Every framed PDU has a cheap probe that answers either the frame length or
//! [`Error::Incomplete`] with the number of bytes still missing; the body parser then runs on
//! the exact slice, where a short field is [`Error::Truncated`], never "incomplete". Every prefix
//! of a valid frame is therefore incomplete, and no input makes a parser panic.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::arithmetic_side_effects)]
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

pub mod analyzer;
mod error;
pub mod fastpath;
pub mod gcc;
pub mod mcs;
pub mod names;
mod parse;
pub mod rdp;
pub mod tls;
pub mod tpkt;
mod values;
pub mod x224;
pub mod x509;

#[cfg(test)]
mod testdata;

pub use error::Error;
