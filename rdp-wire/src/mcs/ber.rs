//! The BER subset T.125 uses for the MCS Connect PDUs (X.690): definite lengths in short or long
//! form, INTEGER/ENUMERATED as unsigned 32-bit values, BOOLEAN, OCTET STRING, SEQUENCE.

use nom::bytes::complete::take;
use nom::number::complete::be_u8;

use crate::parse::{be_uint, fail, PResult};
use crate::Error;

/// Longest long-form length accepted: four length octets already describe 4 GiB.
const MAX_LENGTH_OCTETS: u8 = 4;

/// A BER definite length (X.690 8.1.3). The indefinite form (0x80) is not allowed in DER-like
/// MCS encodings and is refused.
pub(crate) fn length(input: &[u8]) -> PResult<'_, usize> {
    let (input, first) = be_u8(input)?;
    if first < 0x80 {
        return Ok((input, usize::from(first)));
    }
    let count = first & 0x7f;
    if count == 0 {
        return fail(Error::UnexpectedValue {
            what: "ber indefinite length",
            value: 0x80,
        });
    }
    if count > MAX_LENGTH_OCTETS {
        return fail(Error::InvalidLength {
            what: "ber length octets",
            length: usize::from(count),
        });
    }
    let (input, octets) = take(usize::from(count))(input)?;
    match usize::try_from(be_uint(octets)) {
        Ok(v) => Ok((input, v)),
        Err(_) => fail(Error::InvalidLength {
            what: "ber length",
            length: usize::MAX,
        }),
    }
}

/// One TLV with a single-octet `tag`; the value must fit in what is left of the body.
pub(crate) fn tlv<'a>(input: &'a [u8], tag: u8, what: &'static str) -> PResult<'a, &'a [u8]> {
    let (input, found) = be_u8(input)?;
    if found != tag {
        return fail(Error::UnexpectedValue {
            what,
            value: u32::from(found),
        });
    }
    let (input, len) = length(input)?;
    if len > input.len() {
        return fail(Error::InvalidLength { what, length: len });
    }
    take(len)(input)
}

/// The value octets of an INTEGER or ENUMERATED as an unsigned 32-bit number. MCS values are
/// never negative; leading zero octets (needed when the top bit is set) are accepted.
fn unsigned(value: &[u8], what: &'static str) -> Result<u32, nom::Err<Error>> {
    let significant = match value.iter().position(|b| *b != 0) {
        Some(i) => value.get(i..).unwrap_or_default(),
        None => &[],
    };
    if value.is_empty() || significant.len() > 4 {
        return fail(Error::InvalidLength {
            what,
            length: value.len(),
        });
    }
    Ok(be_uint(significant))
}

/// An INTEGER (tag 0x02).
pub(crate) fn integer(input: &[u8]) -> PResult<'_, u32> {
    let (input, value) = tlv(input, 0x02, "ber integer")?;
    Ok((input, unsigned(value, "ber integer")?))
}

/// An ENUMERATED (tag 0x0a).
pub(crate) fn enumerated(input: &[u8]) -> PResult<'_, u32> {
    let (input, value) = tlv(input, 0x0a, "ber enumerated")?;
    Ok((input, unsigned(value, "ber enumerated")?))
}

/// A BOOLEAN (tag 0x01): one octet, any non-zero value is true.
pub(crate) fn boolean(input: &[u8]) -> PResult<'_, bool> {
    let (input, value) = tlv(input, 0x01, "ber boolean")?;
    match value {
        [b] => Ok((input, *b != 0)),
        _ => fail(Error::InvalidLength {
            what: "ber boolean",
            length: value.len(),
        }),
    }
}

/// An OCTET STRING (tag 0x04), borrowed.
pub(crate) fn octet_string(input: &[u8]) -> PResult<'_, &[u8]> {
    tlv(input, 0x04, "ber octet string")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(length(&[0x05]), Ok((&[][..], 5)));
        assert_eq!(length(&[0x81, 0xc8]), Ok((&[][..], 200)));
        assert_eq!(length(&[0x82, 0x01, 0xbe]), Ok((&[][..], 0x1be)));
        assert!(matches!(
            length(&[0x80]),
            Err(nom::Err::Failure(Error::UnexpectedValue { .. }))
        ));
        assert!(matches!(
            length(&[0x85, 0, 0, 0, 0, 1]),
            Err(nom::Err::Failure(Error::InvalidLength { .. }))
        ));
        assert!(length(&[0x82, 0x01]).is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(integer(&[0x02, 0x01, 0x22]), Ok((&[][..], 0x22)));
        assert_eq!(
            integer(&[0x02, 0x03, 0x00, 0xff, 0xff]),
            Ok((&[][..], 0xffff))
        );
        assert_eq!(
            integer(&[0x02, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff]),
            Ok((&[][..], 0xffff_ffff))
        );
        assert!(integer(&[0x02, 0x05, 0x01, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(integer(&[0x02, 0x00]).is_err());
        assert!(integer(&[0x02, 0x03, 0x00]).is_err());
        assert!(integer(&[0x04, 0x01, 0x00]).is_err());
    }
}
