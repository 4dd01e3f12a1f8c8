//! The ALIGNED variant of PER (X.691) as T.124 GCC and the T.125 MCS domain PDUs use it, as nom
//! functions over a bounded body (see [`crate::parse`]): run them under
//! [`bounded`](crate::parse::bounded), which turns running out of bytes into a truncated
//! structure, never "incomplete": the caller's frame already bounds the body.

use nom::bytes::complete::take;
use nom::number::complete::u8 as byte;

use crate::parse::{be_uint, fail, PResult};
use crate::Error;

/// A length determinant (X.691 10.9.3.6 and 10.9.3.7): one octet below 128, two octets
/// below 16384. Fragmented lengths (0xC0..) do not occur in RDP and are refused.
pub(crate) fn length(input: &[u8]) -> PResult<'_, usize> {
    let (input, first) = byte(input)?;
    if first & 0x80 == 0 {
        Ok((input, usize::from(first)))
    } else if first & 0x40 == 0 {
        let (input, second) = byte(input)?;
        Ok((
            input,
            usize::from(u16::from_be_bytes([first & 0x3f, second])),
        ))
    } else {
        fail(Error::UnexpectedValue {
            what: "fragmented per length",
            value: u32::from(first),
        })
    }
}

/// A semi-constrained INTEGER (X.691 10.8): a length determinant, then that many big-endian
/// octets (at most four).
pub(crate) fn integer(input: &[u8]) -> PResult<'_, u32> {
    let (input, len) = length(input)?;
    if len > 4 {
        return fail(Error::InvalidLength {
            what: "per integer",
            length: len,
        });
    }
    let (input, octets) = take(len)(input)?;
    Ok((input, be_uint(octets)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::bounded;

    #[test]
    fn lengths_and_integers() {
        let input = [0x05, 0x81, 0x02, 0x02, 0x01, 0x00];
        let (rest, (short, long, int)) =
            bounded("test", &input, (length, length, integer)).unwrap();
        assert_eq!((short, long, int), (5, 0x102, 0x100));
        assert_eq!(
            bounded("test", rest, byte),
            Err(Error::Truncated { what: "test" })
        );
        assert!(bounded("t", &[0xc1], length).is_err());
        assert!(bounded("t", &[0x05, 1, 2, 3, 4, 5], integer).is_err());
        // A two-octet length cut after its first octet is a truncation, not a default.
        assert_eq!(
            bounded("t", &[0x81], length),
            Err(Error::Truncated { what: "t" })
        );
    }
}
