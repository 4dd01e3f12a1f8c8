//! TPKT (T.123 section 8, RFC 1006 section 6).
