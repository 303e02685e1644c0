//! What would change the answer, computed from the compiled policy alone: the best
//! gesture within the deciding role's own limit, and how close the customer is to the
//! next value band. Pure functions, so their invariants are tested as properties
//! (`tests/engine_properties.rs`).

use super::compiled::Segment;
use rust_decimal::Decimal;

/// A gesture the rule allows, with its amount after the guards and the rule's minimum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    /// Index into the policy's gestures.
    pub gesture: usize,
    /// After the guards: the most the guards let through.
    pub amount: Decimal,
    /// The formula's `min`: the rule never means less than this.
    pub min: Option<Decimal>,
}

/// The first of `options` (in order of preference) that, capped at `limit`, still gives
/// something: a monetary gesture, above zero, and not below the rule's minimum. The
/// amount is never above `limit` nor above what the guards allowed, and the gesture is
/// always one of `options`.
pub fn within_authority(
    options: &[Choice],
    limit: Decimal,
    monetary: impl Fn(usize) -> bool,
) -> Option<Choice> {
    options.iter().find_map(|o| {
        if !monetary(o.gesture) {
            return None;
        }
        let amount = o.amount.min(limit);
        let fits = amount > Decimal::ZERO && o.min.is_none_or(|m| amount >= m);
        fits.then_some(Choice { amount, ..*o })
    })
}

/// The index of the next band up when `value` is within 5% below its minimum
/// (segments highest first, the customer's at `current`).
pub fn near_band(segments: &[Segment], current: usize, value: Decimal) -> Option<usize> {
    let next = current.checked_sub(1)?;
    let min = segments.get(next)?.min;
    // value ≥ 95% of the next band's minimum, without a division.
    (value < min && value * Decimal::ONE_HUNDRED >= min * Decimal::new(95, 0)).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_option_is_capped_at_the_limit_and_skips_what_would_fall_below_the_minimum() {
        let options = [
            Choice {
                gesture: 0,
                amount: d("450"),
                min: Some(d("200")),
            },
            Choice {
                gesture: 1,
                amount: d("580"),
                min: None,
            },
        ];
        let pick = within_authority(&options, d("130"), |_| true).unwrap();
        assert_eq!((pick.gesture, pick.amount), (1, d("130")));
        assert!(within_authority(&options, d("0"), |_| true).is_none());
        assert!(within_authority(&options, d("130"), |g| g == 0).is_none());
    }

    #[test]
    fn a_value_within_five_percent_below_the_next_band_is_near_it() {
        let s = |min: &str| Segment {
            id: String::new(),
            min: d(min),
        };
        let bands = [s("5000"), s("1500"), s("0")];
        assert_eq!(near_band(&bands, 1, d("4750")), Some(0));
        assert_eq!(near_band(&bands, 1, d("4749.99")), None);
        assert_eq!(near_band(&bands, 0, d("9000")), None);
        assert_eq!(near_band(&bands, 2, d("1430")), Some(1));
    }
}
