//! TPKT: the frame that carries X.224 over TCP (T.123 section 8, RFC 1006 section 6).
//!
//! ```text
//!  0        1        2        3
//! +--------+--------+--------+--------+----------------------+
//! |version | reserved|   length (BE)  |  X.224 TPDU ...      |
//! |  = 3   |         | incl. header   |                      |
//! +--------+--------+--------+--------+----------------------+
//! ```
//!
//! Framing is two-step: [`frame_len`] is the cheap probe a reassembler calls on buffered bytes
//! ("need N more bytes" or the frame length), then [`parse_frame`] runs on the exact frame.

use crate::parse::need;
use crate::Error;

/// Length of the TPKT header.
pub const HEADER_LEN: usize = 4;
/// The only TPKT version (T.123 section 8).
pub const VERSION: u8 = 3;
/// The smallest legal frame: the header plus the smallest X.224 TPDU (a Data TPDU header, 3
/// bytes).
pub const MIN_FRAME_LEN: usize = 7;
/// The largest frame the 16-bit length field can describe.
pub const MAX_FRAME_LEN: usize = 65535;

/// One TPKT frame (T.123 section 8).
///
/// Invariants: `version == 3`; the declared length is in
/// [`MIN_FRAME_LEN`]`..=`[`MAX_FRAME_LEN`] and equals `HEADER_LEN + payload.len()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tpkt<'a> {
    /// The reserved byte (0 on the wire from every known peer; kept as evidence).
    pub reserved: u8,
    /// The X.224 TPDU carried by the frame.
    pub payload: &'a [u8],
}

/// Probes buffered stream bytes for a TPKT frame.
///
/// Returns the total frame length (header included) when the header is valid, even if fewer
/// bytes are buffered; [`Error::Incomplete`] while the header itself is incomplete.
/// A wrong version byte or an impossible length is an error as soon as it can be seen, so a
/// prefix of a valid frame is never an error.
pub fn frame_len(input: &[u8]) -> Result<usize, Error> {
    if let Some(&version) = input.first() {
        if version != VERSION {
            return Err(Error::UnexpectedValue {
                what: "tpkt version",
                value: u32::from(version),
            });
        }
    }
    let (Some(&hi), Some(&lo)) = (input.get(2), input.get(3)) else {
        return Err(need(input, HEADER_LEN));
    };
    let length = usize::from(u16::from_be_bytes([hi, lo]));
    if length < MIN_FRAME_LEN {
        return Err(Error::InvalidLength {
            what: "tpkt",
            length,
        });
    }
    Ok(length)
}

/// Splits one complete TPKT frame off the front of `input`.
///
/// Returns [`Error::Incomplete`] when the frame is not complete yet, and the frame plus the
/// bytes after it otherwise.
pub fn parse_frame(input: &[u8]) -> Result<(Tpkt<'_>, &[u8]), Error> {
    let length = frame_len(input)?;
    if input.len() < length {
        return Err(need(input, length));
    }
    let (frame, rest) = input.split_at(length);
    // INVARIANT: frame_len checked length >= MIN_FRAME_LEN > HEADER_LEN, so the else branch
    // is never taken; it answers what a short header would.
    let Some((&[_, reserved, _, _], payload)) = frame.split_first_chunk::<HEADER_LEN>() else {
        return Err(need(input, HEADER_LEN));
    };
    Ok((Tpkt { reserved, payload }, rest))
}

/// Whether `input` starts like a TPKT frame (version 3, reserved 0, plausible length).
///
/// A cheap content test for classifying a stream; it reads at most four bytes.
pub fn looks_like_tpkt(input: &[u8]) -> bool {
    matches!(input.get(1), Some(0)) && frame_len(input).is_ok() && input.len() >= HEADER_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    /// X.224 Connection Request from `lab/tls-ok.pcap`, frame 4 (client 127.0.0.1:48738).
    const TLS_OK_CR: &[u8] = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x01\x00\x00\x00";

    #[test]
    fn real_frame() {
        assert_eq!(frame_len(TLS_OK_CR), Ok(43));
        let (tpkt, rest) = parse_frame(TLS_OK_CR).unwrap();
        assert_eq!(tpkt.payload.len(), 39);
        assert_eq!(tpkt.payload.first(), Some(&0x26));
        assert!(rest.is_empty());
        assert!(looks_like_tpkt(TLS_OK_CR));
    }

    #[test]
    fn two_frames_back_to_back() {
        let mut two = TLS_OK_CR.to_vec();
        two.extend_from_slice(TLS_OK_CR);
        let (_, rest) = parse_frame(&two).unwrap();
        assert_eq!(rest, TLS_OK_CR);
    }

    #[test]
    fn every_prefix_is_incomplete() {
        for cut in 0..TLS_OK_CR.len() {
            let prefix = &TLS_OK_CR[..cut];
            match parse_frame(prefix) {
                Err(Error::Incomplete { needed }) => assert!(needed >= 1, "cut {cut}"),
                other => panic!("prefix of {cut} bytes gave {other:?}"),
            }
        }
    }

    #[test]
    fn wrong_version_is_an_error_at_once() {
        assert!(matches!(
            frame_len(&[0x16]),
            Err(Error::UnexpectedValue { .. })
        ));
        assert!(!looks_like_tpkt(b"\x16\x03\x01\x00\x10"));
    }

    #[test]
    fn impossible_lengths() {
        assert_eq!(
            frame_len(&[3, 0, 0, 6]),
            Err(Error::InvalidLength {
                what: "tpkt",
                length: 6
            })
        );
        assert_eq!(
            frame_len(&[3, 0, 0, 0]),
            Err(Error::InvalidLength {
                what: "tpkt",
                length: 0
            })
        );
        // 65535 with three bytes of payload: a valid header, so "need more".
        assert_eq!(
            parse_frame(&[3, 0, 0xff, 0xff, 1, 2, 3]).unwrap_err(),
            Error::Incomplete { needed: 65528 }
        );
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = parse_frame(&data);
            let _ = looks_like_tpkt(&data);
        }
    }
}
