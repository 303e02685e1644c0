//! Rounding of `f64` that does what Rust documents, whatever C library is linked.
//!
//! Why this exists: the cephes library that `special-fun` compiles for the value models
//! (`value/bgnbd.rs`, `value/gamma_gamma.rs`) exports C functions under the C library's
//! names (`round`, `floor`, `exp`, `log`, `pow`, …), and in the linked binary they replace
//! the C library's. Most agree with it; cephes' `round` does not: it rounds halves to even,
//! so `f64::round` in kulanz gives `0.5 → 0` and `2.5 → 2` where Rust documents `1` and
//! `3`. Figures shown to people (rates, NPS, retention) use this instead.

/// `x` rounded to the nearest integer, halves away from zero (what `f64::round`
/// documents), without calling the C library.
pub fn round_half_away(x: f64) -> f64 {
    // From 2^52 on every f64 is an integer already; NaN and infinities stay as they are.
    if !x.is_finite() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    // The cast truncates towards zero, and the fraction of such an `x` is exact.
    let whole = x as i64 as f64;
    let fraction = x - whole;
    if fraction >= 0.5 {
        whole + 1.0
    } else if fraction <= -0.5 {
        whole - 1.0
    } else {
        whole
    }
}

/// `x` rounded to `decimals` decimal places, halves away from zero.
pub fn round_to(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    round_half_away(x * scale) / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_go_away_from_zero() {
        for (x, r) in [
            (0.5, 1.0),
            (1.5, 2.0),
            (2.5, 3.0),
            (-0.5, -1.0),
            (-2.5, -3.0),
            (0.49999999999999994, 0.0),
            (2.4, 2.0),
            (-2.6, -3.0),
            (0.0, 0.0),
            (1e300, 1e300),
        ] {
            assert_eq!(round_half_away(x), r, "{x}");
        }
        assert!(round_half_away(f64::NAN).is_nan());
        assert_eq!(round_to(6.25, 1), 6.3);
        assert_eq!(round_to(0.03125, 4), 0.0313);
    }
}
