//! Macros for open value sets: wire values that may hold numbers this crate does not know.
//!
//! A closed Rust `enum` would reject or lose an unknown value; these newtypes keep it, name the
//! ones the spec defines, and print the rest as hexadecimal numbers.

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

            /// The names of the bits set: named bits first, then each unknown bit as `0x..`.
            pub fn names(self) -> Vec<String> {
                let mut out: Vec<String> = Self::NAMED
                    .iter()
                    .filter(|(bit, _)| *bit != 0 && self.0 & *bit == *bit)
                    .map(|(_, label)| (*label).to_string())
                    .collect();
                let unknown = self.unknown_bits();
                let mut i = 0u32;
                while i < <$ty>::BITS {
                    let bit = (1 as $ty).checked_shl(i).unwrap_or(0);
                    if unknown & bit != 0 {
                        out.push(format!("{bit:#x}"));
                    }
                    i = i.saturating_add(1);
                }
                out
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                let names = self.names();
                if names.is_empty() {
                    f.write_str("0")
                } else {
                    f.write_str(&names.join("|"))
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{}({:#x}: {})", stringify!($name), self.0, self)
            }
        }
    };
}

pub(crate) use open_enum;
pub(crate) use open_flags;
