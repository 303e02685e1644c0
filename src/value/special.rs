//! The special functions the value models need, in pure Rust: ln Γ, its derivative ψ
//! (for the fits' gradients) and the Gauss hypergeometric function ₂F₁ on `0 ≤ z < 1`.
//!
//! Why not a C library: the Cephes binding used before printed "log domain error" on
//! standard output and replaced the C library's `round`. ln Γ is `libm`'s port of the
//! musl/FreeBSD `lgamma` (errors below 1e-15 relative for positive arguments).
//! ₂F₁ is summed as its power series (Abramowitz & Stegun 15.1.1): every argument the
//! models pass has `c > 0` and `0 ≤ z < 1`, where the series converges. Like scipy's
//! `hyp2f1`, it answers +∞ when the sum overflows; the caller then uses Euler's
//! transformation (A&S 15.3.3), as `lifetimes` does. The tests check published closed
//! forms (A&S 15.1.3–15.1.8) and values computed with scipy.

/// ln Γ(x); for x > 0 (the models never pass anything else), NaN otherwise.
pub fn ln_gamma(x: f64) -> f64 {
    if x > 0.0 {
        libm::lgamma(x)
    } else {
        f64::NAN
    }
}

/// ψ(x) = d ln Γ(x) / dx for x > 0, NaN otherwise: the gradients of the fits. The
/// recurrence ψ(x) = ψ(x + 1) − 1/x lifts `x` to at least 10, where the asymptotic series
/// (A&S 6.3.18) to x⁻¹⁴ is exact to double precision.
pub fn digamma(x: f64) -> f64 {
    if !(x > 0.0 && x.is_finite()) {
        return f64::NAN;
    }
    let (mut x, mut shift) = (x, 0.0);
    while x < 10.0 {
        shift -= 1.0 / x;
        x += 1.0;
    }
    let inv2 = 1.0 / (x * x);
    let series = inv2
        * (1.0 / 12.0
            - inv2
                * (1.0 / 120.0
                    - inv2
                        * (1.0 / 252.0
                            - inv2
                                * (1.0 / 240.0
                                    - inv2
                                        * (1.0 / 132.0
                                            - inv2 * (691.0 / 32760.0 - inv2 / 12.0))))));
    shift + x.ln() - 0.5 / x - series
}

/// Most terms summed before giving up: far more than any argument the models pass needs
/// (the terms shrink at least like `z^n` once `n` exceeds `a`, `b` and `c`).
const MAX_TERMS: usize = 200_000;

/// ₂F₁(a, b; c; z) for `c > 0` and `0 ≤ z < 1`, by its power series: +∞ when the sum
/// overflows `f64`, NaN outside the domain or when the series has not converged within
/// [`MAX_TERMS`] terms.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    if !(c > 0.0 && (0.0..1.0).contains(&z) && a.is_finite() && b.is_finite()) {
        return f64::NAN;
    }
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for k in 0..MAX_TERMS {
        let n = k as f64;
        let ratio = (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        term *= ratio;
        sum += term;
        if !sum.is_finite() {
            return f64::INFINITY;
        }
        if term == 0.0 {
            // A non-positive integer `a` or `b`: the series is a polynomial and has ended.
            return sum;
        }
        // The tail after this term is at most `|term| q / (1 - q)` once the ratio of
        // successive terms stays below `q` < 1: the ratio tends to `z`, from above when
        // a + b - c - 1 > 0 (so the current ratio bounds it) and from below otherwise.
        let q = ratio.abs().max(z);
        if q < 1.0 && term.abs() * q / (1.0 - q) <= 1e-16 * sum.abs() {
            return sum;
        }
    }
    f64::NAN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(ours: f64, exact: f64, tol: f64) {
        let rel = ((ours - exact) / exact).abs();
        assert!(rel <= tol, "ours {ours}, exact {exact}, relative {rel:e}");
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        // Γ(n) = (n-1)!, Γ(1/2) = √π, and scipy's gammaln at three awkward arguments.
        close(ln_gamma(1.0).exp(), 1.0, 1e-15);
        close(ln_gamma(5.0), 24f64.ln(), 1e-15);
        close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-15);
        close(ln_gamma(171.0), 706.573_062_245_787_4, 1e-15);
        close(ln_gamma(1e-8), 18.420_680_738_180_21, 1e-14);
        close(ln_gamma(0.243), 1.318_043_584_699_669_9, 1e-14);
        assert!(ln_gamma(0.0).is_nan() && ln_gamma(-1.5).is_nan());
    }

    #[test]
    fn digamma_matches_known_values() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2 (A&S 6.3.2, 6.3.3); ψ(10) and ψ(0.243) from scipy.
        let euler = 0.577_215_664_901_532_9;
        close(digamma(1.0), -euler, 1e-14);
        close(digamma(0.5), -euler - 2.0 * 2f64.ln(), 1e-14);
        close(digamma(10.0), 2.251_752_589_066_721, 1e-14);
        close(digamma(0.243), -4.351_093_864_423_211, 1e-14);
        assert!(digamma(0.0).is_nan());
    }

    #[test]
    fn hyp2f1_matches_closed_forms() {
        for z in [0.0, 0.1, 0.5, 0.9, 0.99] {
            // A&S 15.1.3: F(1, 1; 2; z) = -ln(1 - z) / z.
            let log = if z == 0.0 {
                1.0
            } else {
                -(1.0f64 - z).ln() / z
            };
            close(hyp2f1(1.0, 1.0, 2.0, z), log, 1e-14);
            // A&S 15.1.8: F(a, b; b; z) = (1 - z)^-a.
            close(hyp2f1(0.7, 3.2, 3.2, z), (1.0f64 - z).powf(-0.7), 1e-14);
            // A&S 15.1.6: F(1/2, 1/2; 3/2; z²) = arcsin(z) / z.
            let asin = if z == 0.0 { 1.0 } else { z.asin() / z };
            close(hyp2f1(0.5, 0.5, 1.5, z * z), asin, 1e-14);
        }
        // A polynomial: F(-2, b; c; z) = 1 - 2bz/c + b(b+1)z²/(c(c+1)).
        close(
            hyp2f1(-2.0, 3.0, 4.0, 0.5),
            1.0 - 2.0 * 3.0 * 0.5 / 4.0 + 3.0 * 4.0 * 0.25 / 20.0,
            1e-15,
        );
    }

    #[test]
    fn hyp2f1_matches_scipy_where_the_models_use_it() {
        // scipy.special.hyp2f1 (scipy 1.17) at BG/NBD arguments (r + x, b + x; a + b + x - 1; z)
        // with the paper's CDNOW estimates.
        close(
            hyp2f1(2.243, 4.426, 5.219, 39.0 / (4.414 + 38.86 + 39.0)),
            3.298_245_489_971_323_6,
            1e-13,
        );
        close(
            hyp2f1(0.243, 2.426, 2.219, 0.9),
            1.947_631_169_818_600_6,
            1e-13,
        );
    }

    #[test]
    fn hyp2f1_overflows_to_infinity_and_refuses_outside_its_domain() {
        assert_eq!(hyp2f1(400.0, 400.0, 401.0, 0.9), f64::INFINITY);
        assert!(hyp2f1(1.0, 1.0, 2.0, 1.0).is_nan());
        assert!(hyp2f1(1.0, 1.0, -2.0, 0.5).is_nan());
    }
}
