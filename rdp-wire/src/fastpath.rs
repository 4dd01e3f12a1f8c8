//! Fast-path PDU framing (MS-RDPBCGR 2.2.8.1.2 TS_FP_INPUT_PDU, 2.2.9.1.2 TS_FP_UPDATE_PDU).
//!
//! After the connection sequence, both sides may send fast-path PDUs instead of TPKT frames on
//! the same stream. The first byte tells them apart: TPKT starts with 3, a fast-path PDU has
//! action bits `0` in its two low bits.
//!
//! ```text
//! +--------------------+---------+-----------+------------------
//! | header: action(2)  | length1 | [length2] | body ...
//! | numEvents/reserved |         |           |
//! | (4), flags (2)     |         |           |
//! +--------------------+---------+-----------+------------------
//! length = length1 if its high bit is clear, else ((length1 & 0x7f) << 8) | length2;
//! it counts the whole PDU, header included.
//! ```

use crate::parse::need;
use crate::values::open_flags;
use crate::Error;

/// `FASTPATH_INPUT_ACTION_FASTPATH` / `FASTPATH_OUTPUT_ACTION_FASTPATH`: the two low bits of
/// the header.
pub const ACTION_FASTPATH: u8 = 0;

open_flags! {
    /// The two high bits of the fast-path header (MS-RDPBCGR 2.2.8.1.2, 2.2.9.1.2).
    pub struct FastPathFlags(u8) {
        /// The PDU carries a secure checksum (FIPS / salted MAC).
        SECURE_CHECKSUM = 0x1 => "SECURE_CHECKSUM",
        /// The PDU is encrypted (Standard RDP Security).
        ENCRYPTED = 0x2 => "ENCRYPTED",
    }
}

/// One fast-path PDU.
///
/// Invariants: the action bits were `0`; the declared length covers at least the header and
/// equals the bytes of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FastPathPdu<'a> {
    /// The header byte.
    pub header: u8,
    /// The body after the header and length bytes.
    pub body: &'a [u8],
}

impl FastPathPdu<'_> {
    /// The flags from the header's two high bits.
    pub fn flags(&self) -> FastPathFlags {
        FastPathFlags(self.header >> 6)
    }
}

/// Whether `first` can start a fast-path PDU.
pub fn is_fastpath_header(first: u8) -> bool {
    first & 0x03 == ACTION_FASTPATH
}

/// Probes buffered bytes for a fast-path PDU: its total length, or [`Error::Incomplete`]
/// while the length bytes are not all there.
pub fn frame_len(input: &[u8]) -> Result<usize, Error> {
    let Some(&header) = input.first() else {
        return Err(need(input, 2));
    };
    if !is_fastpath_header(header) {
        return Err(Error::UnexpectedValue {
            what: "fast-path action",
            value: u32::from(header),
        });
    }
    let Some(&length1) = input.get(1) else {
        return Err(need(input, 2));
    };
    let (length, header_len) = if length1 & 0x80 == 0 {
        (usize::from(length1), 2usize)
    } else {
        let Some(&length2) = input.get(2) else {
            return Err(need(input, 3));
        };
        (
            usize::from(u16::from_be_bytes([length1 & 0x7f, length2])),
            3usize,
        )
    };
    if length <= header_len {
        return Err(Error::InvalidLength {
            what: "fast-path pdu",
            length,
        });
    }
    Ok(length)
}

/// Splits one complete fast-path PDU off the front of `input`.
pub fn parse_frame(input: &[u8]) -> Result<(FastPathPdu<'_>, &[u8]), Error> {
    let length = frame_len(input)?;
    if input.len() < length {
        return Err(need(input, length));
    }
    let (frame, rest) = input.split_at(length);
    // INVARIANT: frame_len checked length > header length (2, or 3 with the long form), so
    // the last arm is never taken; it answers what a short header would.
    let (header, body) = match frame {
        [header, length1, _, body @ ..] if length1 & 0x80 != 0 => (*header, body),
        [header, _, body @ ..] => (*header, body),
        _ => return Err(need(input, 2)),
    };
    Ok((FastPathPdu { header, body }, rest))
}

/// Who sent `segment`, when it is made of whole fast-path PDUs only (at least one, the last
/// ending exactly where the segment ends): the four middle bits of the header are `numEvents`
/// in a client's `fpInputHeader` (MS-RDPBCGR 2.2.8.1.2: 1 to 15, or 0 when more than 15 events
/// follow, which clients rarely batch) and reserved, always 0, in a server's `fpOutputHeader`
/// (2.2.9.1.2). Every header of the segment must agree; otherwise `None`.
pub fn sender_of_segment(segment: &[u8]) -> Option<crate::Side> {
    let mut rest = segment;
    let mut input = None;
    while !rest.is_empty() {
        let (pdu, after) = parse_frame(rest).ok()?;
        let is_input = pdu.header & 0x3c != 0;
        if input.is_some_and(|i| i != is_input) {
            return None;
        }
        input = Some(is_input);
        rest = after;
    }
    input.map(|i| {
        if i {
            crate::Side::Client
        } else {
            crate::Side::Server
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Server fast-path update, `lab/rdp-standard-security.pcap` frame 49 (header 0x80:
    /// encrypted; two-byte length form, 14 bytes).
    const UPDATE: &[u8] = b"\x80\x80\x0e\xdc\x51\x19\xb0\x2d\xb0\x69\x3d\xc1\x2f\xea";

    #[test]
    fn the_sender_of_whole_pdus() {
        use crate::Side;
        assert_eq!(sender_of_segment(UPDATE), Some(Side::Server));
        // One input event (numEvents 1), twice.
        let input = [0x44, 0x04, 9, 9, 0x44, 0x04, 9, 9];
        assert_eq!(sender_of_segment(&input), Some(Side::Client));
        // A PDU cut by the segment's end, mixed headers, nothing.
        assert_eq!(sender_of_segment(&UPDATE[..10]), None);
        let mut mixed = UPDATE.to_vec();
        mixed.extend_from_slice(&input[..4]);
        assert_eq!(sender_of_segment(&mixed), None);
        assert_eq!(sender_of_segment(&[]), None);
    }

    #[test]
    fn long_and_short_lengths() {
        let (pdu, rest) = parse_frame(UPDATE).unwrap();
        assert_eq!(pdu.body.len(), 11);
        assert_eq!(pdu.body.first(), Some(&0xdc));
        assert_eq!(pdu.flags(), FastPathFlags::ENCRYPTED);
        assert!(rest.is_empty());
        let (pdu, _) = parse_frame(&[0x44, 0x04, 9, 9]).unwrap();
        assert_eq!(pdu.body, &[9, 9]);
    }

    #[test]
    fn every_prefix_is_incomplete() {
        for cut in 0..UPDATE.len() {
            assert!(
                matches!(parse_frame(&UPDATE[..cut]), Err(Error::Incomplete { .. })),
                "{cut}"
            );
        }
    }

    #[test]
    fn impossible_lengths_and_tpkt() {
        assert!(matches!(
            frame_len(&[0x00, 0x02]),
            Err(Error::InvalidLength { .. })
        ));
        assert!(matches!(
            frame_len(&[0x00, 0x80, 0x03]),
            Err(Error::InvalidLength { .. })
        ));
        assert!(matches!(
            frame_len(&[0x03, 0x00]),
            Err(Error::UnexpectedValue { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..16)) {
            let _ = parse_frame(&data);
        }
    }
}
