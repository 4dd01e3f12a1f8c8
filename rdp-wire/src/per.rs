//! A cursor over a bounded body encoded with the ALIGNED variant of PER (X.691), as T.124 GCC
//! and the T.125 MCS domain PDUs use it. Running out of bytes is a truncated `what`, never
//! "incomplete": the caller's frame already bounds the body.

use crate::Error;

/// Reads PER-encoded fields from the front of a bounded body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PerReader<'a> {
    /// The bytes not read yet.
    pub(crate) input: &'a [u8],
    /// The structure being read, for [`Error::Truncated`].
    pub(crate) what: &'static str,
}

impl<'a> PerReader<'a> {
    /// A reader over `input`, naming `what` in errors.
    pub(crate) fn new(input: &'a [u8], what: &'static str) -> Self {
        PerReader { input, what }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        let (first, rest) = self
            .input
            .split_first()
            .ok_or(Error::Truncated { what: self.what })?;
        self.input = rest;
        Ok(*first)
    }

    /// A big-endian 16-bit value.
    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        let hi = self.u8()?;
        let lo = self.u8()?;
        Ok(u16::from_be_bytes([hi, lo]))
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let (head, rest) = self
            .input
            .split_at_checked(n)
            .ok_or(Error::Truncated { what: self.what })?;
        self.input = rest;
        Ok(head)
    }

    /// A length determinant (X.691 10.9.3.6 and 10.9.3.7): one octet below 128, two octets
    /// below 16384. Fragmented lengths (0xC0..) do not occur in RDP and are refused.
    pub(crate) fn length(&mut self) -> Result<usize, Error> {
        let first = self.u8()?;
        if first & 0x80 == 0 {
            Ok(usize::from(first))
        } else if first & 0x40 == 0 {
            let second = self.u8()?;
            Ok(usize::from(u16::from_be_bytes([first & 0x3f, second])))
        } else {
            Err(Error::UnexpectedValue {
                what: "fragmented per length",
                value: u32::from(first),
            })
        }
    }

    /// A semi-constrained INTEGER: a length determinant, then that many big-endian octets
    /// (at most four).
    pub(crate) fn integer(&mut self) -> Result<u32, Error> {
        let len = self.length()?;
        if len > 4 {
            return Err(Error::InvalidLength {
                what: "per integer",
                length: len,
            });
        }
        let bytes = self.take(len)?;
        Ok(bytes
            .iter()
            .fold(0u32, |acc, b| acc.wrapping_shl(8) | u32::from(*b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_integers() {
        let mut r = PerReader::new(&[0x05, 0x81, 0x02, 0x02, 0x01, 0x00], "test");
        assert_eq!(r.length(), Ok(5));
        assert_eq!(r.length(), Ok(0x102));
        assert_eq!(r.integer(), Ok(0x100));
        assert_eq!(r.u8(), Err(Error::Truncated { what: "test" }));
        assert!(PerReader::new(&[0xc1], "t").length().is_err());
        assert!(PerReader::new(&[0x05, 1, 2, 3, 4, 5], "t")
            .integer()
            .is_err());
    }
}
