//! The one reading style of this crate: nom 8 over byte slices, with this crate's [`Error`].
//!
//! Every parser reads the same way, whatever the encoding, so that the next ones (CredSSP,
//! NTLM, Kerberos, Set Error Info ...) look like the ones already here:
//!
//! - **Frame probes** ([`crate::tpkt::frame_len`], `tls::probe_record`, `mcs::connect_pdu_len`)
//!   peek at the few header bytes present with `get`/`first_chunk` and answer a frame length or
//!   [`Error::Incomplete`] (built by [`need`]). They are the only code that may say
//!   "incomplete", and the only code that reads bytes without nom.
//! - **Fixed-layout little-endian PDUs** (GCC data blocks, RDP security and share headers,
//!   licensing, X.224 negotiation structures) are nom functions `fn(&[u8]) -> PResult<T>`
//!   chaining `le_u16`, `le_u32`, `u8`, `take` from `nom::number::complete` and
//!   `nom::bytes::complete`; big-endian fields (TPKT, X.224 fixed part, TLS) use `be_u16` and
//!   friends the same way.
//! - **ASN.1** uses the same nom functions: BER in `mcs::ber` (`length`, `tlv`, `integer`,
//!   ...), ALIGNED PER in `per` (`length`, `integer`), each `fn(&[u8]) -> PResult<T>`. X.509
//!   certificates are DER and go to `x509-parser`, itself built on nom.
//! - **The body boundary** is [`bounded`] (or [`exact`] when the structure must fill its body):
//!   it runs the nom parser on the exact slice the frame gave and turns nom's end-of-input into
//!   [`Error::Truncated`] naming the structure. A short read is never a default 0.
//! - **A length that does not fit** is [`within`]: [`Error::InvalidLength`] naming the field,
//!   as a nom failure so that [`bounded`] passes it on unchanged. Other impossible values are
//!   returned with [`fail`].
//! - **Lists of fixed-size items** whose total length was first checked to be a whole number of
//!   items (TLS cipher suites and other u16 lists, alert pairs, UTF-16 text) iterate with
//!   `chunks_exact`: no partial item can exist, and it is the fastest loop on the hot path.
//! - **Counters** bump with [`crate::Bump`] (saturating) rather than scattered
//!   `saturating_add(1)`.
//!
//! ```ignore
//! use nom::number::complete::{le_u16, le_u32};
//! use crate::parse::{bounded, within, PResult};
//!
//! /// LICENSE_ERROR_MESSAGE (MS-RDPBCGR 2.2.1.12.1.3): two u32, a blob type and a
//! /// length-prefixed blob.
//! fn error_message(i: &[u8]) -> PResult<'_, (u32, u32, u16, &[u8])> {
//!     let (i, code) = le_u32(i)?;
//!     let (i, transition) = le_u32(i)?;
//!     let (i, blob_type) = le_u16(i)?;
//!     let (i, blob_len) = le_u16(i)?;
//!     let (i, blob) = within("license error blob", usize::from(blob_len))(i)?;
//!     Ok((i, (code, transition, blob_type, blob)))
//! }
//! // 11 bytes of a 12-byte header: `Error::Truncated { what: "license error message" }`.
//! let short = [7, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0];
//! assert!(bounded("license error message", &short, error_message).is_err());
//! ```
//! (The example is `ignore`d because this module is private; the same bytes are a unit test
//! below.)

use crate::Saturate as _;
use nom::bytes::complete::take;
use nom::error::ErrorKind;
use nom::{IResult, Parser};

use crate::Error;

/// nom's result type with this crate's error.
pub(crate) type PResult<'a, O> = IResult<&'a [u8], O, Error>;

/// Runs a complete-mode parser over a bounded body: running out of bytes is a truncated
/// `what`, never "incomplete".
pub(crate) fn bounded<'a, O, P>(
    what: &'static str,
    input: &'a [u8],
    mut parser: P,
) -> Result<(&'a [u8], O), Error>
where
    P: Parser<&'a [u8], Output = O, Error = Error>,
{
    match parser.parse(input) {
        Ok(done) => Ok(done),
        Err(nom::Err::Incomplete(_)) => Err(Error::Truncated { what }),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(match e {
            Error::Malformed {
                kind: ErrorKind::Eof,
            } => Error::Truncated { what },
            other => other,
        }),
    }
}

/// Like [`bounded`], and the parser must consume the whole body.
pub(crate) fn exact<'a, O, P>(what: &'static str, input: &'a [u8], parser: P) -> Result<O, Error>
where
    P: Parser<&'a [u8], Output = O, Error = Error>,
{
    let (rest, out) = bounded(what, input, parser)?;
    if rest.is_empty() {
        Ok(out)
    } else {
        Err(Error::TrailingBytes {
            what,
            count: rest.len(),
        })
    }
}

/// A nom failure carrying `e`: it stops the parse and [`bounded`] hands it on unchanged.
pub(crate) fn fail<T>(e: Error) -> Result<T, nom::Err<Error>> {
    Err(nom::Err::Failure(e))
}

/// Takes `len` bytes that a length field announced; a length past the end of the input is
/// [`Error::InvalidLength`] of `what`, not a truncation: the length itself is wrong.
pub(crate) fn within<'a>(
    what: &'static str,
    len: usize,
) -> impl FnMut(&'a [u8]) -> PResult<'a, &'a [u8]> {
    move |input: &'a [u8]| {
        if len > input.len() {
            return fail(Error::InvalidLength { what, length: len });
        }
        take(len)(input)
    }
}

/// A 32-bit length or count field as a `usize`; on a target where it does not fit, `usize::MAX`,
/// which every bound check then refuses.
pub(crate) fn usize_of(value: u32) -> usize {
    value.saturate()
}

/// The unsigned big-endian number in at most four octets (BER and PER integer contents, the
/// GCC tag). Callers bound the length first; longer input keeps its low 32 bits.
pub(crate) fn be_uint(octets: &[u8]) -> u32 {
    octets
        .iter()
        .fold(0u32, |acc, b| acc.wrapping_shl(8) | u32::from(*b))
}

/// The bytes still missing for `input` to hold `want` bytes, as an `Incomplete` error.
pub(crate) fn need(input: &[u8], want: usize) -> Error {
    Error::Incomplete {
        needed: want.saturating_sub(input.len()).max(1),
    }
}

#[cfg(test)]
mod tests {
    use nom::number::complete::{le_u16, le_u32};

    use super::*;

    /// The example of the module documentation.
    fn error_message(i: &[u8]) -> PResult<'_, (u32, u32, u16, &[u8])> {
        let (i, code) = le_u32(i)?;
        let (i, transition) = le_u32(i)?;
        let (i, blob_type) = le_u16(i)?;
        let (i, blob_len) = le_u16(i)?;
        let (i, blob) = within("license error blob", usize::from(blob_len))(i)?;
        Ok((i, (code, transition, blob_type, blob)))
    }

    /// STATUS_VALID_CLIENT / ST_NO_TRANSITION with an empty BB_ERROR_BLOB, as servers end
    /// licensing (MS-RDPBCGR 4.1.12).
    const VALID_CLIENT: [u8; 12] = [7, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0];

    #[test]
    fn the_documented_idiom() {
        assert_eq!(
            bounded("license error message", &VALID_CLIENT, error_message),
            Ok((&[][..], (7, 2, 4, &[][..])))
        );
        assert_eq!(
            bounded("license error message", &VALID_CLIENT[..11], error_message),
            Err(Error::Truncated {
                what: "license error message"
            })
        );
        let mut long_blob = VALID_CLIENT;
        long_blob[10] = 1;
        assert_eq!(
            bounded("license error message", &long_blob, error_message),
            Err(Error::InvalidLength {
                what: "license error blob",
                length: 1
            })
        );
        assert_eq!(
            exact(
                "license error message",
                &[VALID_CLIENT, [0; 12]].concat(),
                error_message
            ),
            Err(Error::TrailingBytes {
                what: "license error message",
                count: 12
            })
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(be_uint(&[0x01, 0x00]), 0x100);
        assert_eq!(be_uint(&[]), 0);
        assert_eq!(usize_of(7), 7);
    }
}
