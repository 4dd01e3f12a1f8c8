//! A compact JSON serializer for the hot path of `--format jsonl`: one connection object per
//! line, appended to a `Vec<u8>`.
//!
//! It writes byte for byte what `serde_json::to_writer` (compact) writes, numbers included
//! (they go through [`serde_json::ser::CompactFormatter`]); the tests below compare the two on
//! every connection of `samples/` and of the lab corpus. What it does differently:
//! - strings are scanned for bytes that need escaping eight at a time (a word-wide test for
//!   `"`, `\` and control characters) and copied in one piece when there are none, where
//!   serde_json looks up every byte in a table;
//! - struct field names (the keys of every object of `report/json.rs`) are names in the
//!   program and are copied without a scan;
//! - `collect_str` (values shown through `Display`) escapes the output as it is written,
//!   without a `String` in between;
//! - everything is appended to a `Vec<u8>`: no `io::Write` layer, no error paths for writes.
//!
//! Map keys must be strings, chars or integers (quoted), as in serde_json; anything else is an
//! error.

use rdp_wire::Bump as _;
use serde::ser::{self, Serialize};
use serde_json::ser::{CompactFormatter, Formatter as _};

/// Errors are serde_json's own: they only come from a `Serialize` implementation
/// (`Error::custom`) or a map key that is not a string.
pub type Error = serde_json::Error;

type Result<T = ()> = std::result::Result<T, Error>;

/// Appends `value` as compact JSON to `out`.
pub fn to_vec<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result {
    value.serialize(Serializer { out, clean: false })
}

/// `b` repeated in every byte of a word.
const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// Whether any byte of `w` is below 0x20, `"` or `\` (exact: the classic "has zero byte" and
/// "has byte less than" word tests, which have no false negatives and whose false positives
/// can only follow a true positive in the same word).
fn word_needs_escape(w: u64) -> bool {
    const LOW: u64 = splat(0x01);
    const HIGH: u64 = splat(0x80);
    let control = w.wrapping_sub(splat(0x20)) & !w & HIGH;
    let q = w ^ splat(b'"');
    let quote = q.wrapping_sub(LOW) & !q & HIGH;
    let b = w ^ splat(b'\\');
    let backslash = b.wrapping_sub(LOW) & !b & HIGH;
    control | quote | backslash != 0
}

fn byte_needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_escape(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x09 => out.extend_from_slice(b"\\t"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x0d => out.extend_from_slice(b"\\r"),
        _ => {
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hi, lo]);
        }
    }
}

/// Appends the contents of a JSON string (without the quotes).
fn push_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Most strings need no escaping: test them a word at a time, the last partial word padded
    // with a byte that needs none, and copy them whole.
    let mut words = bytes.chunks_exact(8);
    // INVARIANT: `chunks_exact(8)` yields 8-byte chunks only, so the conversion cannot fail.
    let mut clean = words.by_ref().all(|chunk| {
        !word_needs_escape(u64::from_ne_bytes(
            <[u8; 8]>::try_from(chunk).unwrap_or([0; 8]),
        ))
    });
    if clean {
        // Built with shifts rather than copied into a padded array: a copy of a few bytes is
        // a call to memcpy, which cost more than the whole test.
        let last = words
            .remainder()
            .iter()
            .rev()
            .fold(splat(b'a'), |w, b| (w << 8) | u64::from(*b));
        clean = !word_needs_escape(last);
    }
    if clean {
        out.extend_from_slice(bytes);
        return;
    }
    // Runs of clean bytes between the escapes, each found a word at a time: a long string
    // with a few quotes or backslashes in it (a fix quoting a registry path) costs little more
    // than a clean one.
    let mut run = 0usize;
    while let Some(at) = next_escape(bytes, run) {
        out.extend_from_slice(bytes.get(run..at).unwrap_or_default());
        push_escape(out, bytes.get(at).copied().unwrap_or(b'\\'));
        run = at.saturating_add(1);
    }
    out.extend_from_slice(bytes.get(run..).unwrap_or_default());
}

/// The index of the first byte at or after `from` that needs an escape.
fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at.saturating_add(8)) {
        // INVARIANT: `get(at..at + 8)` gave exactly 8 bytes, so the conversion cannot fail.
        let word = u64::from_ne_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]));
        if word_needs_escape(word) {
            break;
        }
        at.bump_by(8);
    }
    let rest = bytes.get(at..)?;
    rest.iter()
        .position(|b| byte_needs_escape(*b))
        .map(|i| at.saturating_add(i))
}

// The writers below are out of line on purpose: a connection's line is a hundred fields, each
// written once per connection, and every field inlining its own copy of them made the report
// code too big to stay in the instruction cache between connections.

#[inline(never)]
fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    push_escaped(out, s);
    out.push(b'"');
}

/// A string known to need no escaping, quoted.
#[inline(never)]
fn push_clean(out: &mut Vec<u8>, s: &str) {
    debug_assert!(!s.bytes().any(byte_needs_escape), "{s:?}");
    out.reserve(s.len().saturating_add(2));
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

#[inline(never)]
fn push_u64(out: &mut Vec<u8>, v: u64) -> Result {
    number(out, |o| CompactFormatter.write_u64(o, v))
}

#[inline(never)]
fn push_i64(out: &mut Vec<u8>, v: i64) -> Result {
    number(out, |o| CompactFormatter.write_i64(o, v))
}

/// Numbers are written by serde_json's own formatter, so they come out exactly as
/// serde_json writes them; writes to a `Vec` cannot fail.
fn number(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Result {
    write(out).map_err(ser::Error::custom)
}

struct Serializer<'a> {
    out: &'a mut Vec<u8>,
    /// The value is a [`CLEAN_STR`] newtype's string: written without the escape scan.
    clean: bool,
}

/// The name of a newtype struct around a string that needs no escaping (a name from one of
/// the program's tables, checked by the tests that build those tables): this serializer
/// copies it as it is, serde_json (to which a newtype is its content) escapes it as usual, to
/// the same text.
pub(crate) const CLEAN_STR: &str = "$rdp_pcap::clean_str";

impl Serializer<'_> {
    fn number(self, write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Result {
        number(self.out, write)
    }
}

/// The integer methods of a serializer: every width through the 64- or 128-bit one, written
/// by serde_json's formatter and passed to `self.$write`.
macro_rules! integers {
    ($write:ident) => {
        fn serialize_i8(self, v: i8) -> Result {
            self.serialize_i64(i64::from(v))
        }

        fn serialize_i16(self, v: i16) -> Result {
            self.serialize_i64(i64::from(v))
        }

        fn serialize_i32(self, v: i32) -> Result {
            self.serialize_i64(i64::from(v))
        }

        fn serialize_i64(self, v: i64) -> Result {
            self.$write(|o| CompactFormatter.write_i64(o, v))
        }

        fn serialize_i128(self, v: i128) -> Result {
            self.$write(|o| CompactFormatter.write_i128(o, v))
        }

        fn serialize_u8(self, v: u8) -> Result {
            self.serialize_u64(u64::from(v))
        }

        fn serialize_u16(self, v: u16) -> Result {
            self.serialize_u64(u64::from(v))
        }

        fn serialize_u32(self, v: u32) -> Result {
            self.serialize_u64(u64::from(v))
        }

        fn serialize_u64(self, v: u64) -> Result {
            self.$write(|o| CompactFormatter.write_u64(o, v))
        }

        fn serialize_u128(self, v: u128) -> Result {
            self.$write(|o| CompactFormatter.write_u128(o, v))
        }
    };
}

/// An object or array being written: whether the next element is the first.
pub struct Compound<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Compound<'_> {
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.out.push(b',');
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.comma();
        value.serialize(Serializer {
            out: self.out,
            clean: false,
        })
    }

    /// A struct field: the key is a name in the program, never escaped (checked in debug
    /// builds).
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.key(key);
        value.serialize(Serializer {
            out: self.out,
            clean: false,
        })
    }

    /// A struct field's key, with the comma before it and the colon after it.
    #[inline(never)]
    fn key(&mut self, key: &'static str) {
        debug_assert!(!key.bytes().any(byte_needs_escape), "{key:?}");
        self.out.reserve(key.len().saturating_add(4));
        self.comma();
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }
}

/// Escapes `Display` output as it is written.
struct Escaper<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        push_escaped(self.0, s);
        Ok(())
    }
}

impl<'a> ser::Serializer for Serializer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result {
        push_i64(self.out, i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result {
        push_i64(self.out, i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result {
        push_i64(self.out, i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result {
        push_i64(self.out, v)
    }

    fn serialize_i128(self, v: i128) -> Result {
        self.number(|o| CompactFormatter.write_i128(o, v))
    }

    fn serialize_u8(self, v: u8) -> Result {
        push_u64(self.out, u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result {
        push_u64(self.out, u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result {
        push_u64(self.out, u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result {
        push_u64(self.out, v)
    }

    fn serialize_u128(self, v: u128) -> Result {
        self.number(|o| CompactFormatter.write_u128(o, v))
    }

    fn serialize_f32(self, v: f32) -> Result {
        if v.is_finite() {
            number(self.out, |o| CompactFormatter.write_f32(o, v))
        } else {
            self.serialize_unit()
        }
    }

    fn serialize_f64(self, v: f64) -> Result {
        if v.is_finite() {
            number(self.out, |o| CompactFormatter.write_f64(o, v))
        } else {
            self.serialize_unit()
        }
    }

    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }

    fn serialize_str(self, v: &str) -> Result {
        if self.clean {
            push_clean(self.out, v);
        } else {
            push_str(self.out, v);
        }
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result {
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            ser::SerializeSeq::serialize_element(&mut seq, b)?;
        }
        ser::SerializeSeq::end(seq)
    }

    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result {
        let clean = self.clean || name == CLEAN_STR;
        value.serialize(Serializer {
            out: self.out,
            clean,
        })
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.out.push(b'{');
        push_str(self.out, variant);
        self.out.push(b':');
        value.serialize(Serializer {
            out: self.out,
            clean: false,
        })?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>> {
        self.out.push(b'[');
        Ok(Compound {
            out: self.out,
            first: true,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        self.out.push(b'{');
        push_str(self.out, variant);
        self.out.extend_from_slice(b":[");
        Ok(Compound {
            out: self.out,
            first: true,
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>> {
        self.out.push(b'{');
        Ok(Compound {
            out: self.out,
            first: true,
        })
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        self.out.push(b'{');
        push_str(self.out, variant);
        self.out.extend_from_slice(b":{");
        Ok(Compound {
            out: self.out,
            first: true,
        })
    }

    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result {
        use std::fmt::Write as _;
        self.out.push(b'"');
        write!(Escaper(self.out), "{value}").map_err(ser::Error::custom)?;
        self.out.push(b'"');
        Ok(())
    }
}

/// The array-like compounds: elements, then the closing bytes.
macro_rules! sequence_like {
    ($($trait:ident :: $method:ident => $close:literal),* $(,)?) => {
        $(impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
                self.element(value)
            }

            fn end(self) -> Result {
                self.out.extend_from_slice($close);
                Ok(())
            }
        })*
    };
}

sequence_like!(
    SerializeSeq::serialize_element => b"]",
    SerializeTuple::serialize_element => b"]",
    SerializeTupleStruct::serialize_field => b"]",
    SerializeTupleVariant::serialize_field => b"]}",
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.comma();
        key.serialize(KeySerializer { out: self.out })?;
        self.out.push(b':');
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(Serializer {
            out: self.out,
            clean: false,
        })
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result {
        self.serialize_key(key)?;
        self.serialize_value(value)
    }

    fn end(self) -> Result {
        self.out.push(b'}');
        Ok(())
    }
}

/// The struct-like compounds: fields with static names, then the closing bytes.
macro_rules! struct_like {
    ($($trait:ident => $close:literal),* $(,)?) => {
        $(impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result {
                self.field(key, value)
            }

            fn end(self) -> Result {
                self.out.extend_from_slice($close);
                Ok(())
            }
        })*
    };
}

struct_like!(SerializeStruct => b"}", SerializeStructVariant => b"}}");

/// Map keys: strings as they are, chars and integers quoted, anything else refused (as
/// serde_json does).
struct KeySerializer<'a> {
    out: &'a mut Vec<u8>,
}

fn key_must_be_a_string() -> Error {
    ser::Error::custom("key must be a string")
}

impl KeySerializer<'_> {
    fn quoted(self, write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Result {
        self.out.push(b'"');
        number(self.out, write)?;
        self.out.push(b'"');
        Ok(())
    }
}

impl ser::Serializer for KeySerializer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result {
        push_str(self.out, v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result {
        v.serialize(self)
    }

    fn serialize_bool(self, v: bool) -> Result {
        self.serialize_str(if v { "true" } else { "false" })
    }

    integers!(quoted);

    fn serialize_f32(self, _: f32) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_f64(self, _: f64) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_none(self) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_unit(self) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_must_be_a_string())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_must_be_a_string())
    }

    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result {
        use std::fmt::Write as _;
        self.out.push(b'"');
        write!(Escaper(self.out), "{value}").map_err(ser::Error::custom)?;
        self.out.push(b'"');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use serde_json::json;

    fn ours<T: Serialize + ?Sized>(v: &T) -> String {
        let mut out = Vec::new();
        to_vec(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// What `report::json` writes as [`CLEAN_STR`]: every name of these tables.
    #[test]
    fn static_names_need_no_escaping() {
        use rdp_wire::tls::{CipherSuite, NamedGroup, ProtocolVersion};
        let mut names = 0;
        for v in 0..=u16::MAX {
            for name in [
                CipherSuite(v).name(),
                NamedGroup(v).name(),
                ProtocolVersion(v).name(),
            ]
            .into_iter()
            .flatten()
            {
                assert!(!name.bytes().any(byte_needs_escape), "{name:?}");
                names += 1;
            }
        }
        assert!(names > 300, "{names}");
    }

    #[test]
    fn a_clean_string_comes_out_as_serde_json_writes_it() {
        struct Clean(&'static str);
        impl Serialize for Clean {
            fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_newtype_struct(CLEAN_STR, self.0)
            }
        }
        let v = vec![Clean("TLS_AES_128_GCM_SHA256"), Clean("x25519")];
        assert_eq!(ours(&v), serde_json::to_string(&v).unwrap());
        assert_eq!(ours(&v), r#"["TLS_AES_128_GCM_SHA256","x25519"]"#);
    }

    #[test]
    fn strings_escape_like_serde_json() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "plain".into(),
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into(),
            "quote \" backslash \\ slash / del \u{7f}".into(),
            "tab\tnewline\ncr\rbs\u{8}ff\u{c}nul\u{0}esc\u{1b}unit\u{1f}".into(),
            "ünïcödé ✓ 𝄞 at every offset".into(),
        ];
        // Every single byte value that is a char, at every position of a 17-byte string (so
        // both the word loop and the tail see it).
        for c in (0u8..=0x7f).map(char::from) {
            for pos in 0..17 {
                let mut s: String = "abcdefghijklmnopq".into();
                s.replace_range(pos..=pos, &c.to_string());
                cases.push(s);
            }
        }
        for s in &cases {
            assert_eq!(ours(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn word_test_is_exact() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut w = [b'a'; 8];
                w[pos] = b;
                assert_eq!(
                    word_needs_escape(u64::from_ne_bytes(w)),
                    byte_needs_escape(b),
                    "{b:#04x} at {pos}"
                );
            }
        }
        // Bytes with the high bit set (UTF-8) next to ones below 0x20.
        let w = u64::from_ne_bytes([0xff, 0x80, 0x1f, 0xc3, 0xa9, b'a', 0x7f, 0x20]);
        assert!(word_needs_escape(w));
        let w = u64::from_ne_bytes([0xff, 0x80, 0x21, 0xc3, 0xa9, b'a', 0x7f, 0x20]);
        assert!(!word_needs_escape(w));
    }

    #[test]
    fn values_match_serde_json() {
        let v = json!({
            "n": null, "t": true, "f": false,
            "u": 18446744073709551615u64, "i": -9223372036854775808i64,
            "floats": [0.0, -0.0, 1.5, 50.424, 1e-7, 1e21, 123456789.125, 0.1],
            "nested": {"a": [], "b": {}, "c": [{"d": "e\n"}]},
        });
        assert_eq!(ours(&v), serde_json::to_string(&v).unwrap());
        assert_eq!(ours(&f64::NAN), "null");
        assert_eq!(ours(&f64::INFINITY), "null");
        assert_eq!(ours(&Some(3u8)), "3");
        assert_eq!(ours(&'"'), "\"\\\"\"");
        assert_eq!(ours(&format_args!("a\tb {}", 7)), "\"a\\tb 7\"");
        let mut map = std::collections::BTreeMap::new();
        map.insert(7u16, "x");
        assert_eq!(ours(&map), serde_json::to_string(&map).unwrap());
        let mut bad = std::collections::BTreeMap::new();
        bad.insert(vec![1u8], 1u8);
        assert!(to_vec(&mut Vec::new(), &bad).is_err());
    }

    /// Serializes every connection record both ways and compares.
    struct Compare(usize);

    impl crate::report::Reporter for Compare {
        fn connection(&mut self, rec: &crate::record::ConnectionRecord) -> std::io::Result<()> {
            let view = crate::report::json::connection_json(rec);
            assert_eq!(ours(&view), serde_json::to_string(&view).unwrap());
            self.0 += 1;
            Ok(())
        }
        fn capture(&mut self, _: &crate::record::CaptureReport) -> std::io::Result<()> {
            Ok(())
        }
        fn input_problem(&mut self, _: &crate::record::InputProblem) -> std::io::Result<()> {
            Ok(())
        }
        fn finish(&mut self, _: &crate::report::Summary) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    #[cfg_attr(shared_corpus_missing, ignore = "../shared/corpus is missing")]
    fn connection_lines_match_serde_json_on_real_captures() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut captures = Vec::new();
        for dir in [root.join("samples"), root.join("../shared/corpus/lab")] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries {
                let path = e.unwrap().path();
                let name = path.to_string_lossy().to_string();
                if name.ends_with(".pcap") || name.ends_with(".pcapng") {
                    captures.push(path);
                }
            }
        }
        let mut compare = Compare(0);
        for path in &captures {
            for timeline in [false, true] {
                let options = crate::pipeline::Options {
                    timeline,
                    ..crate::pipeline::Options::new(&[])
                };
                let file = std::fs::File::open(path).unwrap();
                let mut run = crate::pipeline::RunState::default();
                let name = path.display().to_string();
                crate::pipeline::analyze(&name, file, &options, &mut run, &mut compare).unwrap();
            }
        }
        assert!(compare.0 >= 10, "only {} connections compared", compare.0);
    }

    #[test]
    fn derived_shapes_match_serde_json() {
        #[derive(serde::Serialize)]
        enum E {
            Unit,
            New(u8),
            Tuple(u8, &'static str),
            Struct { a: u8 },
        }
        #[derive(serde::Serialize)]
        struct S<'a> {
            name: &'a str,
            list: Vec<E>,
            tuple: (u8, f64),
            bytes: &'a [u8],
        }
        let s = S {
            name: "n",
            list: vec![E::Unit, E::New(1), E::Tuple(2, "x"), E::Struct { a: 3 }],
            tuple: (4, 0.5),
            bytes: &[1, 2],
        };
        assert_eq!(ours(&s), serde_json::to_string(&s).unwrap());
    }
}
