//! Small glue between nom and this crate's [`Error`].

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

/// The bytes still missing for `input` to hold `want` bytes, as an `Incomplete` error.
pub(crate) fn need(input: &[u8], want: usize) -> Error {
    Error::Incomplete {
        needed: want.saturating_sub(input.len()).max(1),
    }
}
