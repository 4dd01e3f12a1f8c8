//! The per-connection analyzer.
