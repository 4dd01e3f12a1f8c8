use nom::error::{ErrorKind, ParseError};

/// Every way a parse can fail.
///
/// `Incomplete` is the only variant that means "wait for more bytes"; it is produced only by the
/// outer frame probes. All other variants mean the bytes are not what they claim to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The outer frame is not complete yet.
    #[error("need {needed} more bytes")]
    Incomplete {
        /// How many more bytes are needed at least.
        needed: usize,
    },
    /// A field inside a bounded body runs past the end of that body.
    #[error("truncated {what}")]
    Truncated {
        /// The structure being parsed.
        what: &'static str,
    },
    /// A declared length is impossible (too small, too large, or inconsistent with another).
    #[error("invalid {what} length {length}")]
    InvalidLength {
        /// The structure whose length field is wrong.
        what: &'static str,
        /// The declared length.
        length: usize,
    },
    /// A field holds a value this structure cannot have.
    #[error("unexpected {what} {value:#x}")]
    UnexpectedValue {
        /// The field.
        what: &'static str,
        /// The value found.
        value: u32,
    },
    /// Bytes left over after a structure that must fill its body exactly.
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes {
        /// The structure.
        what: &'static str,
        /// How many bytes were left.
        count: usize,
    },
    /// Protected bytes that do not authenticate under the keys given (the wrong keys, another
    /// record's sequence number, or altered bytes).
    #[error("{what} failed authentication")]
    Authentication {
        /// What was being opened.
        what: &'static str,
    },
    /// A nom combinator failed where no more specific error applies.
    #[error("malformed input ({kind:?})")]
    Malformed {
        /// The combinator that failed.
        kind: ErrorKind,
    },
}

impl<I> ParseError<I> for Error {
    fn from_error_kind(_input: I, kind: ErrorKind) -> Self {
        Error::Malformed { kind }
    }

    fn append(_input: I, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}
