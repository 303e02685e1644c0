//! Integers as JSON Schema reads them: `"type": "integer"` is any number without a
//! fraction, so `5.0` is one, and a client (or a generated one) may send it. serde's
//! integers refuse it; these deserializers take it, for the integer fields of request
//! bodies (`#[serde(deserialize_with = ...)]`), so the document's `integer` is the rule.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::marker::PhantomData;

struct Integer<T>(PhantomData<T>);

impl<T: TryFrom<i64>> Visitor<'_> for Integer<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::try_from(v)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &"an integer in range"))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        i64::try_from(v)
            .ok()
            .and_then(|v| T::try_from(v).ok())
            .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &"an integer in range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        // INVARIANT: the cast is exact, for `v` has no fraction and is inside i64's range
        // (2^63 is exactly representable; `as` would saturate, the bound refuses first).
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        if v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
            return self.visit_i64(v as i64);
        }
        Err(E::invalid_type(de::Unexpected::Float(v), &self))
    }
}

/// An integer field, `5.0` taken as `5`.
pub fn integer<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(Integer(PhantomData))
}

/// An optional integer field (absent or `null` is `None`), `5.0` taken as `5`.
pub fn optional_integer<'de, D: Deserializer<'de>, T: TryFrom<i64>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    struct Optional<T>(PhantomData<T>);
    impl<'de, T: TryFrom<i64>> Visitor<'de> for Optional<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            integer(d).map(Some)
        }
    }
    d.deserialize_option(Optional(PhantomData))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::integer")]
        n: i64,
        #[serde(default, deserialize_with = "super::optional_integer")]
        m: Option<u32>,
    }

    fn read(v: serde_json::Value) -> Result<Body, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn a_number_without_a_fraction_is_an_integer() {
        let b = read(json!({"n": 5.0, "m": 7.0})).unwrap();
        assert_eq!((b.n, b.m), (5, Some(7)));
        let b = read(json!({"n": -3, "m": null})).unwrap();
        assert_eq!((b.n, b.m), (-3, None));
        assert_eq!(read(json!({"n": 1})).unwrap().m, None);
    }

    #[test]
    fn fractions_other_types_and_out_of_range_numbers_are_refused() {
        for bad in [
            json!({"n": 5.5}),
            json!({"n": "5"}),
            json!({"n": 1e300}),
            json!({"n": 1, "m": -1}),
            json!({"n": 1, "m": 4294967296u64}),
        ] {
            assert!(read(bad.clone()).is_err(), "{bad}");
        }
        assert!(read(json!({"n": 5.5}))
            .unwrap_err()
            .contains("expected an integer"));
    }
}
