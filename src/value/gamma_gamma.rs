//! The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV", and Hardie's
//! note 025): a customer's order values are Gamma(p, ν) around their own mean, and
//! ν ~ Gamma(q, γ) across customers. It assumes spend is independent of purchase
//! frequency, and is fitted on customers with at least one repeat purchase.
//!
//! The likelihood is the one `lifetimes` uses (without the constant Γ(x)-terms), so the
//! reported log-likelihoods compare directly.

use super::special::{digamma, ln_gamma as lgamma};
use serde::{Deserialize, Serialize};

/// Fitted Gamma-Gamma parameters (`v` is the paper's γ, named as in `lifetimes`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

impl GammaGamma {
    /// The part of a customer's log-likelihood that depends only on `x`.
    pub fn ll_frequency_terms(&self, x: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        lgamma(p * x + q) - lgamma(p * x) - lgamma(q) + q * v.ln() + p * x * x.ln()
    }

    /// The rest: `m` is the customer's mean repeat-order value.
    pub fn ll_customer_terms(&self, x: f64, m: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        (p * x - 1.0) * m.ln() - (p * x + q) * (x * m + v).ln()
    }

    /// [`Self::ll_frequency_terms`] for `k` customers, adding its gradient with respect to
    /// (p, q, v) to `grad`; `psi_q` is ψ(q).
    pub fn ll_frequency_terms_grad(&self, x: f64, k: f64, psi_q: f64, grad: &mut [f64; 3]) -> f64 {
        let GammaGamma { p, q, v } = *self;
        let psi_pxq = digamma(p * x + q);
        grad[0] += k * x * (psi_pxq - digamma(p * x) + x.ln());
        grad[1] += k * (psi_pxq - psi_q + v.ln());
        grad[2] += k * q / v;
        k * self.ll_frequency_terms(x)
    }

    /// [`Self::ll_customer_terms`] with `ln m` from the caller (it is fixed for the fit),
    /// adding its gradient with respect to (p, q, v) to `grad`.
    pub fn ll_customer_terms_grad(&self, x: f64, m: f64, ln_m: f64, grad: &mut [f64; 3]) -> f64 {
        let GammaGamma { p, q, v } = *self;
        let ln_xmv = (x * m + v).ln();
        grad[0] += x * (ln_m - ln_xmv);
        grad[1] -= ln_xmv;
        grad[2] -= (p * x + q) / (x * m + v);
        (p * x - 1.0) * ln_m - (p * x + q) * ln_xmv
    }

    /// One customer's log-likelihood; `x` ≥ 1 repeat purchases of mean value `m` > 0.
    pub fn log_likelihood(&self, x: f64, m: f64) -> f64 {
        self.ll_frequency_terms(x) + self.ll_customer_terms(x, m)
    }

    /// Mean order value across customers, E(M); defined only for q > 1.
    pub fn population_mean(&self) -> f64 {
        self.v * self.p / (self.q - 1.0)
    }

    /// Expected value of a customer's next order given `x` repeat purchases of mean `m`:
    /// a weighted mean of the population mean and their own (eq. 5 of the note). With no
    /// repeat purchase (`x` = 0) it is the population mean.
    pub fn expected_spend(&self, x: f64, m: f64) -> f64 {
        let weight = self.p * x / (self.p * x + self.q - 1.0);
        (1.0 - weight) * self.population_mean() + weight * m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hardie's note 025 CDNOW estimates.
    const NOTE: GammaGamma = GammaGamma {
        p: 6.25,
        q: 3.74,
        v: 15.44,
    };

    #[test]
    fn no_repeat_purchase_means_the_population_mean() {
        let mean = NOTE.population_mean();
        assert!((mean - 35.22).abs() < 0.05, "{mean}");
        assert_eq!(NOTE.expected_spend(0.0, 0.0), mean);
    }

    #[test]
    fn more_orders_pull_towards_the_customer_own_mean() {
        let few = NOTE.expected_spend(1.0, 100.0);
        let many = NOTE.expected_spend(20.0, 100.0);
        assert!(few < many && many < 100.0, "{few} {many}");
    }

    #[test]
    fn the_gradient_is_the_slope_of_the_likelihood() {
        for (x, m) in [(1.0, 20.0), (4.0, 35.5), (20.0, 7.0)] {
            let mut grad = [0.0; 3];
            let value = NOTE.ll_frequency_terms_grad(x, 1.0, digamma(NOTE.q), &mut grad)
                + NOTE.ll_customer_terms_grad(x, m, m.ln(), &mut grad);
            assert!((value - NOTE.log_likelihood(x, m)).abs() < 1e-12);
            let h = 1e-6;
            let moved = |i: usize, d: f64| {
                let mut p = [NOTE.p, NOTE.q, NOTE.v];
                p[i] += d;
                let [p, q, v] = p;
                GammaGamma { p, q, v }.log_likelihood(x, m)
            };
            for (i, g) in grad.iter().enumerate() {
                let numeric = (moved(i, h) - moved(i, -h)) / (2.0 * h);
                assert!(
                    (g - numeric).abs() < 1e-6 * (1.0 + g.abs()),
                    "{i}: {g} {numeric}"
                );
            }
        }
    }

    #[test]
    fn the_likelihood_is_finite_for_huge_amounts() {
        assert!(NOTE.log_likelihood(3.0, 1e12).is_finite());
    }
}
