//! Macros for open value sets: wire values that may hold numbers this crate does not know.
//!
//! A closed Rust `enum` would reject or lose an unknown value; these newtypes keep it, name the
//! ones the spec defines, and print the rest as hexadecimal numbers.

/// One bit of a flag word, as the reports name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagName {
    /// A bit the specification names.
    Named(&'static str),
    /// A bit this crate does not know, printed as `0x..`.
    Unknown(u64),
}

impl core::fmt::Display for FlagName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FlagName::Named(name) => f.write_str(name),
            FlagName::Unknown(bit) => write!(f, "{bit:#x}"),
        }
    }
}

/// Flag names joined by `|`, as the reports print a flag word, written without allocating.
#[derive(Debug, Clone)]
pub struct Joined<I>(pub I);

impl<I: Iterator<Item = FlagName> + Clone> core::fmt::Display for Joined<I> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, name) in self.0.clone().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            name.fmt(f)?;
        }
        Ok(())
    }
}

/// Defines a newtype over an integer with named constants.
///
/// `name()` gives the spec name of a known value; `Display` prints that name or `0x..` for an
/// unknown value, so nothing is ever lost.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($ty:ty) {
            $( $(#[$cmeta:meta])* $konst:ident = $val:literal => $label:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name(pub $ty);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: $name = $name($val); )*

            /// Every value with a name, in declaration order.
            pub const KNOWN: &'static [$name] = &[$( $name($val), )*];

            /// The spec name of this value, or `None` for a value this crate does not know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $val => Some($label), )*
                    _ => None,
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(
                        f,
                        "{:#0width$x}",
                        self.0,
                        width = core::mem::size_of::<$ty>().saturating_mul(2).saturating_add(2)
                    ),
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{}({:#x})", stringify!($name), self.0)?;
                if let Some(n) = self.name() {
                    write!(f, " {n}")?;
                }
                Ok(())
            }
        }
    };
}

/// Defines a newtype over an integer flag word with named bits.
///
/// Unknown bits are kept: `names()` lists the named bits set, then each unknown bit as `0x..`.
/// `Display` joins the names with `|` (`0` when no bit is set); `Debug` adds the word as
/// hexadecimal, zero-padded to the width of the integer. Exported so that flag words outside
/// this crate (the TCP flags byte in `rdp-pcap-cli`) are defined the same way, not copied.
///
/// ```
/// rdp_wire::open_flags! {
///     /// The TCP flags byte (RFC 9293 section 3.1), two of its bits named.
///     pub struct TcpFlags(u8) {
///         /// Synchronize sequence numbers.
///         SYN = 0x02 => "SYN",
///         /// Acknowledgment field is significant.
///         ACK = 0x10 => "ACK",
///     }
/// }
///
/// // Byte 13 of the TCP header of a SYN/ACK: `12`.
/// let syn_ack = TcpFlags(0x12);
/// assert!(syn_ack.contains(TcpFlags::SYN) && syn_ack.contains(TcpFlags::ACK));
/// assert_eq!(syn_ack.to_string(), "SYN|ACK");
/// assert_eq!(format!("{syn_ack:?}"), "TcpFlags(0x12: SYN|ACK)");
/// // A FIN/ACK (`11`): FIN has no name here, so it is kept as a number.
/// assert_eq!(TcpFlags(0x11).to_string(), "ACK|0x1");
/// assert_eq!(TcpFlags(0).to_string(), "0");
/// ```
#[macro_export]
macro_rules! open_flags {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($ty:ty) {
            $( $(#[$cmeta:meta])* $konst:ident = $val:literal => $label:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        $vis struct $name(pub $ty);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: $name = $name($val); )*

            /// Every named bit with its name, in declaration order.
            pub const NAMED: &'static [($ty, &'static str)] = &[$( ($val, $label), )*];

            /// The raw flag word.
            pub fn bits(self) -> $ty {
                self.0
            }

            /// Whether every bit of `other` is set.
            pub fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Bits set that have no name here.
            pub fn unknown_bits(self) -> $ty {
                let mut known: $ty = 0;
                for (bit, _) in Self::NAMED {
                    known |= *bit;
                }
                self.0 & !known
            }

            /// The bits set, without allocating: named bits first (in declaration order),
            /// then each unknown bit.
            pub fn name_iter(self) -> impl Iterator<Item = $crate::FlagName> + Clone {
                let value = self.0;
                let unknown = self.unknown_bits();
                Self::NAMED
                    .iter()
                    .filter(move |(bit, _)| *bit != 0 && value & *bit == *bit)
                    .map(|(_, label)| $crate::FlagName::Named(label))
                    .chain((0..<$ty>::BITS).filter_map(move |i| {
                        let bit = (1 as $ty).checked_shl(i).unwrap_or(0);
                        (unknown & bit != 0).then(|| $crate::FlagName::Unknown(u64::from(bit)))
                    }))
            }

            /// The names of the bits set: named bits first, then each unknown bit as `0x..`.
            pub fn names(self) -> Vec<String> {
                self.name_iter().map(|n| n.to_string()).collect()
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                if self.name_iter().next().is_none() {
                    f.write_str("0")
                } else {
                    $crate::Joined(self.name_iter()).fmt(f)
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(
                    f,
                    "{}({:#0width$x}: {})",
                    stringify!($name),
                    self.0,
                    self,
                    width = core::mem::size_of::<$ty>().saturating_mul(2).saturating_add(2)
                )
            }
        }
    };
}

pub(crate) use open_enum;
pub(crate) use open_flags;

/// Lower-case hex of `bytes`, two digits a byte: the crate's one hex encoder (certificate
/// digests and serials, fingerprint hashes, correlation ids). Digits are pushed directly:
/// per-byte `format!` calls once made fingerprints the dearest part of a connection's analysis.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            s.extend(DIGITS.get(usize::from(nibble)).map(|d| char::from(*d)));
        }
    }
    s
}

/// A counter of things a capture controls (packets, records, anomalies, guesses): bumped by one
/// it stops at its largest value instead of wrapping, so hostile input can pin it at the maximum
/// but never overflow it or panic. Every counter of the workspace goes through it.
///
/// ```
/// use rdp_wire::Bump;
/// let mut seen = u8::MAX - 1;
/// seen.bump();
/// seen.bump();
/// assert_eq!(seen, u8::MAX);
/// let mut bytes = 10u64;
/// bytes.bump_by(u64::MAX);
/// assert_eq!(bytes, u64::MAX);
/// ```
pub trait Bump: Sized {
    /// Adds one, saturating.
    fn bump(&mut self);
    /// Adds `n`, saturating.
    fn bump_by(&mut self, n: Self);
}

macro_rules! impl_bump {
    ($($t:ty),*) => {$(
        impl Bump for $t {
            #[inline]
            fn bump(&mut self) {
                *self = self.saturating_add(1);
            }
            #[inline]
            fn bump_by(&mut self, n: Self) {
                *self = self.saturating_add(n);
            }
        }
    )*};
}

impl_bump!(u8, u16, u32, u64, usize);

/// An integer carried into another integer type, clamped to that type's range instead of
/// failing: a value too large becomes the target's maximum, a negative one its minimum (0 for
/// an unsigned target). Lengths and counts that a capture controls cross between `usize`,
/// `u64`, `u32` and the signed stream offsets this way, so that a hostile size pins a report at
/// the largest value it can hold rather than wrapping, panicking or reading as 0. Every such
/// conversion of the workspace goes through it, as every counter goes through [`Bump`].
///
/// The target type is the one the context expects (`let n: u64 = len.saturate();`).
///
/// ```
/// use rdp_wire::Saturate;
/// // The TPKT length of `03 00 01 2c`, 300 bytes, does not fit a byte: it stops at 255.
/// let length = u16::from_be_bytes([0x01, 0x2c]);
/// let small: u8 = length.saturate();
/// assert_eq!(small, u8::MAX);
/// // A negative stream offset is 0 as a length, never a huge one.
/// let offset: u64 = (-3_i64).saturate();
/// assert_eq!(offset, 0);
/// // A value in range is unchanged.
/// let bytes: u64 = 1460_usize.saturate();
/// assert_eq!(bytes, 1460);
/// ```
pub trait Saturate<T> {
    /// `self` in `T`, clamped to `T::MIN..=T::MAX`.
    fn saturate(self) -> T;
}

impl<T, U> Saturate<T> for U
where
    T: TryFrom<U> + limits::Limits,
    U: Copy + PartialOrd + Default,
{
    #[inline]
    fn saturate(self) -> T {
        match T::try_from(self) {
            Ok(value) => value,
            // `Default` is the integers' zero: only a negative value falls below the range.
            Err(_) if self < U::default() => T::MIN,
            Err(_) => T::MAX,
        }
    }
}

/// The range of each integer type, sealed: `Saturate` clamps to it.
mod limits {
    /// The smallest and largest value of an integer type.
    pub trait Limits {
        /// The smallest value.
        const MIN: Self;
        /// The largest value.
        const MAX: Self;
    }

    macro_rules! impl_limits {
        ($($t:ty),*) => {$(
            impl Limits for $t {
                const MIN: Self = <$t>::MIN;
                const MAX: Self = <$t>::MAX;
            }
        )*};
    }

    impl_limits!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);
}

#[cfg(test)]
mod tests {
    use super::Saturate;

    #[test]
    fn saturate_clamps_at_both_edges() {
        // Unsigned into narrower unsigned: the top clamps, the rest is kept.
        assert_eq!(Saturate::<u8>::saturate(255_u16), 255);
        assert_eq!(Saturate::<u8>::saturate(256_u16), u8::MAX);
        assert_eq!(Saturate::<u32>::saturate(u64::MAX), u32::MAX);
        assert_eq!(Saturate::<u16>::saturate(usize::MAX), u16::MAX);
        // Signed into unsigned: negatives are 0, the top clamps.
        assert_eq!(Saturate::<u64>::saturate(-1_i64), 0);
        assert_eq!(Saturate::<u64>::saturate(i64::MIN), 0);
        assert_eq!(
            Saturate::<u64>::saturate(i64::MAX),
            9_223_372_036_854_775_807
        );
        assert_eq!(Saturate::<usize>::saturate(0_i64), 0);
        assert_eq!(Saturate::<u32>::saturate(i128::MAX), u32::MAX);
        // Unsigned into signed: the top clamps at the signed maximum.
        assert_eq!(Saturate::<i64>::saturate(u64::MAX), i64::MAX);
        assert_eq!(Saturate::<i64>::saturate(usize::MAX), i64::MAX);
        assert_eq!(Saturate::<i32>::saturate(i32::MAX.unsigned_abs()), i32::MAX);
        assert_eq!(Saturate::<i32>::saturate(2_147_483_648_u32), i32::MAX);
        // Signed into narrower signed: both edges clamp.
        assert_eq!(Saturate::<i8>::saturate(-129_i16), i8::MIN);
        assert_eq!(Saturate::<i8>::saturate(128_i16), i8::MAX);
        assert_eq!(Saturate::<i32>::saturate(i64::MIN), i32::MIN);
        // Widening never changes a value.
        assert_eq!(Saturate::<u64>::saturate(u32::MAX), 4_294_967_295);
        assert_eq!(Saturate::<i64>::saturate(i32::MIN), -2_147_483_648);
        assert_eq!(Saturate::<u64>::saturate(usize::MAX), u64::MAX);
    }
}
