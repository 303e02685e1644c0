//! Canonical JSON straight from a `Serialize` value: the bytes `audit::canonical` writes for
//! `serde_json::to_value(v)` (object keys sorted at every level, no whitespace), without
//! building the `Value` tree first.
//!
//! Why: the audit hash of every decision covers its canonical form. Building it through
//! `serde_json::Value` (a `BTreeMap` and a `String` per key, a `Value` per field, then a
//! second walk to write and a third to drop) was about a sixth of the server's time under
//! load (docs/performance.md). The bytes must stay exactly the same, or older audit links
//! would stop verifying; `tests` below and `tests/audit_form.rs` compare both paths.
//!
//! What `to_value` does is mirrored case by case: numbers are formatted by serde_json,
//! `f32` is widened to `f64` first, non-finite floats are `null`, bytes are an array of
//! numbers, enum variants with data are one-key objects, map keys may be strings,
//! integers, bools, chars or unit variants, and a repeated key keeps its last value. Anything `to_value` would refuse is
//! an error here, and the caller falls back to the `Value` path.

use serde::ser::{self, Serialize};
use std::fmt::Display;

/// `value`'s canonical JSON appended to `out`.
pub fn write<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Error> {
    // Sized for a decision's form (about 3 KB, 150 keys), so the stacks do not grow
    // step by step: that was 15 allocations per decision (valgrind's dhat).
    let mut scratch = Scratch {
        keys: Vec::with_capacity(1024),
        entries: Vec::with_capacity(64),
        body: Vec::with_capacity(4096),
        map_key: String::with_capacity(32),
    };
    value.serialize(Canonical {
        out,
        scratch: &mut scratch,
    })
}

/// Why a value has no canonical form (the same values `serde_json::to_value` refuses).
#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Error {}
impl ser::Error for Error {
    fn custom<M: Display>(msg: M) -> Self {
        Error(msg.to_string())
    }
}

/// `s` as a JSON string, as serde_json writes it. serde_json escapes only `"`, `\` and
/// the control characters below 0x20; a string without them (nearly every key and value
/// of a decision) is copied as it is, without setting up a serde_json writer.
fn string(s: &str, out: &mut Vec<u8>) -> Result<(), Error> {
    // A fold, not `all`: without the early exit the check runs many bytes at a time.
    let plain = s.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
    });
    if plain {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(out, s).map_err(ser::Error::custom)
    }
}

type Range = std::ops::Range<usize>;

/// One `"key":value` of an open object.
struct Entry {
    /// The key's first 8 bytes, big-endian, zero-padded. Ordering by it orders by the key
    /// whenever two prefixes differ (a shorter key reads as padded with the smallest byte),
    /// so the full keys are compared only on a tie.
    prefix: u64,
    /// The raw (unescaped) key in `Scratch::keys`.
    key: Range,
    /// `"key":value` in the output.
    bytes: Range,
}

fn prefix(key: &[u8]) -> u64 {
    let mut p = [0u8; 8];
    let n = key.len().min(8);
    p[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(p)
}

/// Byte order of two entries' keys (the order `BTreeMap<String, _>` keeps).
fn order(keys: &[u8], a: &Entry, b: &Entry) -> std::cmp::Ordering {
    a.prefix.cmp(&b.prefix).then_with(|| {
        let key = |r: &Range| keys.get(r.clone()).unwrap_or_default();
        key(&a.key).cmp(key(&b.key))
    })
}

/// Buffers shared by every object of one `write`, so an object allocates nothing of its
/// own. They are stacks: an object's keys and entries go on top and are taken off at its
/// `end`, and an object nested in a value is opened and ended while its parent waits
/// with that value's key pending.
#[derive(Default)]
struct Scratch {
    /// The raw (unescaped) keys of the open objects, one after another.
    keys: Vec<u8>,
    /// The open objects' entries.
    entries: Vec<Entry>,
    /// An object's body while it is rewritten sorted.
    body: Vec<u8>,
    /// A map key turned into a string (`MapKey`).
    map_key: String,
}

struct Canonical<'a> {
    out: &'a mut Vec<u8>,
    scratch: &'a mut Scratch,
}

/// An object being written. Entries go straight to the output, `"key":value` after
/// `"key":value`; at `end`, if their keys are not already in order (or one repeats), the
/// object's bytes are rewritten sorted. This replaced a buffer per object, copied into
/// its parent at every level: 98k instructions per decision's form against 88k then, and
/// 41k for the stored JSON (callgrind, docs/performance.md); the shared `Scratch` took
/// away the two vectors each object still allocated.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    scratch: &'a mut Scratch,
    /// Where this object's `{` is in `out`.
    start: usize,
    /// Where this object's keys and entries begin in the scratch stacks.
    keys_base: usize,
    entries_base: usize,
    /// The key written last, waiting for its value: its prefix, raw range and where its
    /// `"key":` starts in the output.
    pending_key: Option<(u64, Range, usize)>,
    /// Every key so far greater than the one before it.
    in_order: bool,
    /// `Some(variant)` for a struct variant: the object is wrapped as `{"variant": {...}}`.
    variant: Option<&'static str>,
}

impl<'a> Object<'a> {
    fn new(
        out: &'a mut Vec<u8>,
        scratch: &'a mut Scratch,
        variant: Option<&'static str>,
    ) -> Result<Self, Error> {
        if let Some(v) = variant {
            out.push(b'{');
            string(v, out)?;
            out.push(b':');
        }
        let start = out.len();
        out.push(b'{');
        Ok(Object {
            start,
            keys_base: scratch.keys.len(),
            entries_base: scratch.entries.len(),
            out,
            scratch,
            pending_key: None,
            in_order: true,
            variant,
        })
    }

    fn key(&mut self, k: &str) -> Result<(), Error> {
        if self.scratch.entries.len() > self.entries_base || self.pending_key.is_some() {
            self.out.push(b',');
        }
        let raw = self.scratch.keys.len();
        self.scratch.keys.extend_from_slice(k.as_bytes());
        let at = self.out.len();
        string(k, self.out)?;
        self.out.push(b':');
        self.pending_key = Some((prefix(k.as_bytes()), raw..self.scratch.keys.len(), at));
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        let (prefix, key, at) = self
            .pending_key
            .take()
            .ok_or_else(|| Error("a map value without its key".into()))?;
        v.serialize(Canonical {
            out: &mut *self.out,
            scratch: &mut *self.scratch,
        })?;
        let entry = Entry {
            prefix,
            key,
            bytes: at..self.out.len(),
        };
        if self.in_order && self.scratch.entries.len() > self.entries_base {
            if let Some(before) = self.scratch.entries.last() {
                self.in_order = order(&self.scratch.keys, before, &entry).is_lt();
            }
        }
        self.scratch.entries.push(entry);
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        let Object {
            out,
            scratch,
            start,
            keys_base,
            entries_base,
            in_order,
            variant,
            ..
        } = self;
        if !in_order {
            let Scratch {
                keys,
                entries,
                body,
                ..
            } = scratch;
            let mine = entries.get_mut(entries_base..).unwrap_or_default();
            // Stable, so among equal keys the last written stays last: a map keeps that
            // one, like `BTreeMap::insert` does.
            mine.sort_by(|a, b| order(keys, a, b));
            let base = start + 1;
            body.clear();
            body.extend_from_slice(out.get(base..).unwrap_or_default());
            out.truncate(base);
            let mut first = true;
            for (i, e) in mine.iter().enumerate() {
                if mine
                    .get(i + 1)
                    .is_some_and(|next| order(keys, e, next).is_eq())
                {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                let bytes = e.bytes.start - base..e.bytes.end - base;
                out.extend_from_slice(body.get(bytes).unwrap_or_default());
            }
        }
        scratch.entries.truncate(entries_base);
        scratch.keys.truncate(keys_base);
        out.push(b'}');
        if variant.is_some() {
            out.push(b'}');
        }
        Ok(())
    }
}

/// An array being written straight to the output.
struct Array<'a> {
    out: &'a mut Vec<u8>,
    scratch: &'a mut Scratch,
    first: bool,
    /// `Some(variant)` for a tuple variant: `{"variant": [...]}`.
    variant: Option<&'static str>,
}

impl<'a> Array<'a> {
    fn new(
        out: &'a mut Vec<u8>,
        scratch: &'a mut Scratch,
        variant: Option<&'static str>,
    ) -> Result<Self, Error> {
        if let Some(v) = variant {
            out.push(b'{');
            string(v, out)?;
            out.push(b':');
        }
        out.push(b'[');
        Ok(Array {
            out,
            scratch,
            first: true,
            variant,
        })
    }

    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        v.serialize(Canonical {
            out: &mut *self.out,
            scratch: &mut *self.scratch,
        })
    }

    fn end(self) -> Result<(), Error> {
        self.out.push(b']');
        if self.variant.is_some() {
            self.out.push(b'}');
        }
        Ok(())
    }
}

/// Numbers are written by serde_json itself, so they are formatted exactly as the `Value`
/// path formats them (serde_json has changed its float formatting between versions).
fn number<T: Serialize>(v: T, out: &mut Vec<u8>) -> Result<(), Error> {
    serde_json::to_writer(out, &v).map_err(ser::Error::custom)
}

macro_rules! number_ser {
    ($($name:ident: $t:ty),*) => {$(
        fn $name(self, v: $t) -> Result<(), Error> {
            number(v, self.out)
        }
    )*};
}

impl<'a> ser::Serializer for Canonical<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    number_ser!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        // `to_value` keeps only what fits an i64 or a u64.
        if i64::try_from(v).is_ok() || u64::try_from(v).is_ok() {
            number(v, self.out)
        } else {
            Err(Error("number out of range".into()))
        }
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        if u64::try_from(v).is_ok() {
            number(v, self.out)
        } else {
            Err(Error("number out of range".into()))
        }
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // `to_value` stores an f32 as the f64 it widens to, and writes that.
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        // serde_json writes a non-finite float as `null`, as `to_value` stores it.
        number(v, self.out)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        string(v.encode_utf8(&mut [0; 4]), self.out)
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        string(v, self.out)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        let mut a = Array::new(self.out, self.scratch, None)?;
        for b in v {
            a.element(b)?;
        }
        a.end()
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Error> {
        string(v, self.out)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.out.push(b'{');
        string(variant, self.out)?;
        self.out.push(b':');
        v.serialize(Canonical {
            out: &mut *self.out,
            scratch: &mut *self.scratch,
        })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Array<'a>, Error> {
        Array::new(self.out, self.scratch, None)
    }
    fn serialize_tuple(self, _: usize) -> Result<Array<'a>, Error> {
        Array::new(self.out, self.scratch, None)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Array<'a>, Error> {
        Array::new(self.out, self.scratch, None)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Array<'a>, Error> {
        Array::new(self.out, self.scratch, Some(variant))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Object<'a>, Error> {
        Object::new(self.out, self.scratch, None)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Object<'a>, Error> {
        Object::new(self.out, self.scratch, None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Object<'a>, Error> {
        Object::new(self.out, self.scratch, Some(variant))
    }
}

macro_rules! array_impl {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for Array<'_> {
            type Ok = ();
            type Error = Error;
            fn $m<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                self.element(v)
            }
            fn end(self) -> Result<(), Error> {
                Array::end(self)
            }
        }
    )*};
}
array_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), Error> {
        // The key's text goes into a buffer kept in the scratch, taken out while in use.
        let mut text = std::mem::take(&mut self.scratch.map_key);
        text.clear();
        let written = k
            .serialize(MapKey(&mut text))
            .and_then(|()| self.key(&text));
        self.scratch.map_key = text;
        written
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.value(v)
    }
    fn end(self) -> Result<(), Error> {
        Object::end(self)
    }
}

macro_rules! object_impl {
    ($($tr:ident),*) => {$(
        impl ser::$tr for Object<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                k: &'static str,
                v: &T,
            ) -> Result<(), Error> {
                self.key(k)?;
                self.value(v)
            }
            fn end(self) -> Result<(), Error> {
                Object::end(self)
            }
        }
    )*};
}
object_impl!(SerializeStruct, SerializeStructVariant);

/// A map key as `serde_json::to_value` turns it into a string, written into the string
/// given.
struct MapKey<'a>(&'a mut String);

macro_rules! key_to_string {
    ($($name:ident: $t:ty),*) => {$(
        fn $name(self, v: $t) -> Result<(), Error> {
            use std::fmt::Write;
            write!(self.0, "{v}").map_err(ser::Error::custom)
        }
    )*};
}

fn no_key<T>() -> Result<T, Error> {
    Err(Error("key must be a string".into()))
}

impl ser::Serializer for MapKey<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    key_to_string!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16,
        serialize_i32: i32, serialize_i64: i64, serialize_i128: i128, serialize_u8: u8,
        serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128,
        serialize_char: char);
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        // Every key of a flattened struct comes here: no formatter for a plain copy.
        self.0.push_str(v);
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        no_key()
    }
    fn serialize_f64(self, _: f64) -> Result<(), Error> {
        no_key()
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        no_key()
    }
    fn serialize_none(self) -> Result<(), Error> {
        no_key()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Error> {
        no_key()
    }
    fn serialize_unit(self) -> Result<(), Error> {
        no_key()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        no_key()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Error> {
        self.0.push_str(v);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        no_key()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        no_key()
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        no_key()
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        no_key()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        no_key()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        no_key()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        no_key()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        no_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::{BTreeMap, HashMap};

    fn both<T: Serialize>(v: &T) -> (Vec<u8>, Vec<u8>) {
        let mut direct = Vec::new();
        write(v, &mut direct).unwrap();
        let via_value = crate::store::audit::canonical(&serde_json::to_value(v).unwrap());
        (direct, via_value)
    }

    #[derive(Serialize)]
    enum E {
        Unit,
        New(u8),
        Tuple(i32, String),
        Struct { z: bool, a: Option<f32> },
    }

    #[derive(Serialize)]
    struct Inner {
        zeta: f64,
        alpha: Vec<E>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        none: Option<u8>,
    }

    #[derive(Serialize)]
    struct Outer {
        b: String,
        #[serde(flatten)]
        inner: Inner,
        a: BTreeMap<u32, &'static str>,
        m: HashMap<&'static str, i64>,
        bytes: serde_bytes_like::Bytes,
        unit: (),
        tuple: (u8, char),
        big: u64,
        neg: i128,
    }

    mod serde_bytes_like {
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    #[test]
    fn same_bytes_as_the_value_path() {
        let v = Outer {
            b: "quote \" backslash \\ newline \n ü €".into(),
            inner: Inner {
                zeta: 0.1 + 0.2,
                alpha: vec![
                    E::Unit,
                    E::New(7),
                    E::Tuple(-3, "x".into()),
                    E::Struct {
                        z: true,
                        a: Some(0.1),
                    },
                ],
                skipped: None,
                none: None,
            },
            a: [(10, "ten"), (2, "two")].into_iter().collect(),
            m: [("z", -1), ("a", i64::MIN), ("é", 0)].into_iter().collect(),
            bytes: serde_bytes_like::Bytes(vec![0, 255]),
            unit: (),
            tuple: (1, 'q'),
            big: u64::MAX,
            neg: -5,
        };
        let (direct, via_value) = both(&v);
        assert_eq!(
            String::from_utf8(direct).unwrap(),
            String::from_utf8(via_value).unwrap()
        );
    }

    /// Objects with entries in any order, repeated keys and keys that need escaping,
    /// nested: the path that rewrites an object in place must give the `Value` path's bytes.
    #[derive(Debug, Clone)]
    enum Node {
        Int(i64),
        Text(String),
        Obj(Vec<(String, Node)>),
        Arr(Vec<Node>),
    }

    impl serde::Serialize for Node {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::{SerializeMap, SerializeSeq};
            match self {
                Node::Int(i) => s.serialize_i64(*i),
                Node::Text(t) => s.serialize_str(t),
                Node::Obj(entries) => {
                    let mut m = s.serialize_map(Some(entries.len()))?;
                    for (k, v) in entries {
                        m.serialize_entry(k, v)?;
                    }
                    m.end()
                }
                Node::Arr(items) => {
                    let mut a = s.serialize_seq(Some(items.len()))?;
                    for v in items {
                        a.serialize_element(v)?;
                    }
                    a.end()
                }
            }
        }
    }

    fn node() -> impl proptest::strategy::Strategy<Value = Node> {
        use proptest::prelude::*;
        // Keys and texts with what serde_json escapes (quote, backslash, control characters)
        // and what it does not (DEL, non-ASCII, U+2028), for the copy-as-is path of `string`.
        let key = prop::sample::select(vec![
            "a", "b", "zz", "é", "q\"x", "A", "", "t\tab", "\u{7f}", "\u{2028}", "b\\",
        ]);
        let leaf = prop_oneof![
            any::<i64>().prop_map(Node::Int),
            "[a-z\\\"\n\u{1}\u{1f}\u{7f}é\u{2028}]{0,6}".prop_map(Node::Text),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec((key.clone().prop_map(String::from), inner.clone()), 0..6)
                    .prop_map(Node::Obj),
                prop::collection::vec(inner, 0..4).prop_map(Node::Arr),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_order_of_keys_gives_the_value_paths_bytes(n in node()) {
            let (direct, via_value) = both(&n);
            proptest::prop_assert_eq!(
                String::from_utf8(direct).unwrap(),
                String::from_utf8(via_value).unwrap()
            );
        }
    }

    #[test]
    fn non_finite_floats_are_null_and_keys_sort_bytewise() {
        let m: HashMap<&str, f64> = [("b", f64::NAN), ("B", f64::INFINITY), ("a", 1e300)]
            .into_iter()
            .collect();
        let (direct, via_value) = both(&m);
        assert_eq!(direct, via_value);
        assert_eq!(direct, br#"{"B":null,"a":1e+300,"b":null}"#);
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        struct Twice;
        impl Serialize for Twice {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("k", &1)?;
                m.serialize_entry("a", &0)?;
                m.serialize_entry("k", &2)?;
                m.end()
            }
        }
        let (direct, via_value) = both(&Twice);
        assert_eq!(direct, via_value);
        assert_eq!(direct, br#"{"a":0,"k":2}"#);
    }

    #[test]
    fn what_to_value_refuses_is_an_error() {
        let m: HashMap<Vec<u8>, u8> = [(vec![1], 1)].into_iter().collect();
        assert!(serde_json::to_value(&m).is_err());
        assert!(write(&m, &mut Vec::new()).is_err());
        assert!(serde_json::to_value(u128::MAX).is_err());
        assert!(write(&u128::MAX, &mut Vec::new()).is_err());
    }
}
