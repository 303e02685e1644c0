//! The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):
//! while alive, a customer buys at a Poisson rate λ ~ Gamma(r, α); after each purchase
//! they drop out with probability p ~ Beta(a, b).
//!
//! Formulas follow the paper and the `lifetimes` library (whose numbers the tests check),
//! including its log-sum-exp form of the likelihood and its fallback for an overflowing
//! ₂F₁. The special functions are the pure-Rust ones of [`super::special`].

use super::special::{digamma, hyp2f1, ln_gamma as lgamma};
use serde::{Deserialize, Serialize};

/// One customer as the model sees them: `x` repeat purchases, the last at `t_x`, observed
/// for `t` time units since the first purchase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rfm {
    pub x: f64,
    pub t_x: f64,
    pub t: f64,
}

/// Fitted BG/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl BgNbd {
    /// The terms of the log-likelihood that depend only on `x`, so the fit can compute
    /// them once per distinct frequency rather than once per customer.
    pub fn ll_frequency_terms(&self, x: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        lgamma(r + x) - lgamma(r) + r * alpha.ln() + lgamma(a + b) + lgamma(b + x)
            - lgamma(b)
            - lgamma(a + b + x)
    }

    /// The rest of one customer's log-likelihood (eq. 6 of the paper, in log-sum-exp form).
    pub fn ll_customer_terms(&self, c: Rfm) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let a3 = -(r + c.x) * (alpha + c.t).ln();
        if c.x <= 0.0 {
            return a3;
        }
        let a4 = a.ln() - (b + c.x - 1.0).ln() - (r + c.x) * (c.t_x + alpha).ln();
        let m = a3.max(a4);
        m + ((a3 - m).exp() + (a4 - m).exp()).ln()
    }

    /// [`Self::ll_customer_terms`] with `ln a` and `ln(b + x − 1)` from the caller, who
    /// computes them once per evaluation and per distinct `x` rather than per customer,
    /// and one logarithm fewer (`ln(eᵘ + eᵛ) = max + ln(1 + e^−|u−v|)`): the fit's inner
    /// loop.
    pub fn ll_customer_terms_given(&self, c: Rfm, ln_a: f64, ln_b_x1: f64) -> f64 {
        let a3 = -(self.r + c.x) * (self.alpha + c.t).ln();
        if c.x <= 0.0 {
            return a3;
        }
        let a4 = ln_a - ln_b_x1 - (self.r + c.x) * (c.t_x + self.alpha).ln();
        a3.max(a4) + (-(a3 - a4).abs()).exp().ln_1p()
    }

    /// [`Self::ll_frequency_terms`] for `k` customers, adding its gradient with respect to
    /// (r, α, a, b) to `grad`: the BFGS fit's. `psi` is (ψ(r), ψ(a + b), ψ(b)), the same for
    /// every `x`.
    pub fn ll_frequency_terms_grad(
        &self,
        x: f64,
        k: f64,
        psi: [f64; 3],
        grad: &mut [f64; 4],
    ) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let [psi_r, psi_ab, psi_b] = psi;
        let psi_abx = digamma(a + b + x);
        grad[0] += k * (digamma(r + x) - psi_r + alpha.ln());
        grad[1] += k * r / alpha;
        grad[2] += k * (psi_ab - psi_abx);
        grad[3] += k * (psi_ab + digamma(b + x) - psi_b - psi_abx);
        k * self.ll_frequency_terms(x)
    }

    /// [`Self::ll_customer_terms_given`] for `k` customers, adding its gradient with
    /// respect to (r, α, a, b) to `grad`.
    pub fn ll_customer_terms_grad(
        &self,
        c: Rfm,
        ln_a: f64,
        ln_b_x1: f64,
        k: f64,
        grad: &mut [f64; 4],
    ) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let l3 = (alpha + c.t).ln();
        let a3 = -(r + c.x) * l3;
        if c.x <= 0.0 {
            grad[0] -= k * l3;
            grad[1] -= k * (r + c.x) / (alpha + c.t);
            return k * a3;
        }
        let l4 = (c.t_x + alpha).ln();
        let a4 = ln_a - ln_b_x1 - (r + c.x) * l4;
        // The two terms' shares of their sum, from the same exponential as the value.
        let e = (-(a3 - a4).abs()).exp();
        let (w3, w4) = if a3 >= a4 {
            (1.0 / (1.0 + e), e / (1.0 + e))
        } else {
            (e / (1.0 + e), 1.0 / (1.0 + e))
        };
        grad[0] -= k * (w3 * l3 + w4 * l4);
        grad[1] -= k * (r + c.x) * (w3 / (alpha + c.t) + w4 / (alpha + c.t_x));
        grad[2] += k * w4 / a;
        grad[3] -= k * w4 / (b + c.x - 1.0);
        k * (a3.max(a4) + e.ln_1p())
    }

    /// One customer's log-likelihood.
    pub fn log_likelihood(&self, c: Rfm) -> f64 {
        self.ll_frequency_terms(c.x) + self.ll_customer_terms(c)
    }

    /// P(alive) at the end of observation. A customer who never came back is alive by
    /// the model's assumption (dropping out only happens after a purchase): 1.
    pub fn p_alive(&self, c: Rfm) -> f64 {
        if c.x <= 0.0 {
            return 1.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let log_div =
            (r + c.x) * ((alpha + c.t) / (alpha + c.t_x)).ln() + (a / (b + c.x - 1.0)).ln();
        1.0 / (1.0 + log_div.exp())
    }

    /// Expected purchases in the next `horizon` time units, given the history (eq. 10).
    pub fn expected_purchases(&self, c: Rfm, horizon: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let (ha, hb, hc) = (r + c.x, b + c.x, a + b + c.x - 1.0);
        let z = horizon / (alpha + c.t + horizon);
        let mut ln_hyp = hyp2f1(ha, hb, hc, z).ln();
        if !ln_hyp.is_finite() {
            // Euler's transformation (A&S 15.3.3): the same value, without the series that
            // overflowed (or converged too slowly for heavy buyers and long horizons).
            ln_hyp = hyp2f1(hc - ha, hc - hb, hc, z).ln() + (hc - ha - hb) * (1.0 - z).ln();
        }
        let first = (a + b + c.x - 1.0) / (a - 1.0);
        let second =
            1.0 - (ln_hyp + (r + c.x) * ((alpha + c.t) / (alpha + horizon + c.t)).ln()).exp();
        let denominator = if c.x > 0.0 {
            1.0 + (a / (b + c.x - 1.0)) * ((alpha + c.t) / (alpha + c.t_x)).powf(r + c.x)
        } else {
            1.0
        };
        first * second / denominator
    }
}

impl BgNbd {
    /// Expected repeat purchases of a new customer in their first `t` time units, E[X(t)]
    /// (eq. 7 of the paper; `lifetimes`' `expected_number_of_purchases_up_to_time`): what
    /// the tracking curve sums over customers.
    pub fn expected_purchases_new(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let hyp = hyp2f1(r, b, a + b - 1.0, t / (alpha + t));
        (a + b - 1.0) / (a - 1.0) * (1.0 - hyp * (alpha / (alpha + t)).powf(r))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The paper's CDNOW estimates (per week); other modules' tests use them too.
    pub(crate) const PAPER: BgNbd = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };

    #[test]
    fn a_customer_who_never_returned_is_alive() {
        let c = Rfm {
            x: 0.0,
            t_x: 0.0,
            t: 38.86,
        };
        assert_eq!(PAPER.p_alive(c), 1.0);
        assert!(PAPER.expected_purchases(c, 39.0) > 0.0);
    }

    #[test]
    fn the_paper_example_customer() {
        // FHL 2005, section 5: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in
        // the next 39 weeks (0.0 of the paper's rounding aside).
        let c = Rfm {
            x: 2.0,
            t_x: 30.43,
            t: 38.86,
        };
        let e = PAPER.expected_purchases(c, 39.0);
        assert!((e - 1.226).abs() < 0.002, "{e}");
    }

    #[test]
    fn a_long_silence_lowers_p_alive() {
        let recent = Rfm {
            x: 5.0,
            t_x: 38.0,
            t: 39.0,
        };
        let silent = Rfm { t_x: 5.0, ..recent };
        assert!(PAPER.p_alive(recent) > 0.85);
        assert!(PAPER.p_alive(silent) < 0.2);
        assert!(PAPER.expected_purchases(silent, 39.0) < PAPER.expected_purchases(recent, 39.0));
    }

    #[test]
    fn the_fit_loop_term_is_the_customer_term() {
        for (x, t_x, t) in [(0.0, 0.0, 38.86), (2.0, 30.43, 38.86), (40.0, 1.0, 300.0)] {
            let c = Rfm { x, t_x, t };
            let given = PAPER.ll_customer_terms_given(c, PAPER.a.ln(), (PAPER.b + x - 1.0).ln());
            let plain = PAPER.ll_customer_terms(c);
            assert!(
                (given - plain).abs() <= 1e-13 * plain.abs(),
                "{given} {plain}"
            );
        }
    }

    #[test]
    fn the_gradient_is_the_slope_of_the_likelihood() {
        let ll = |m: &BgNbd, c: Rfm| m.log_likelihood(c);
        for c in [
            Rfm {
                x: 0.0,
                t_x: 0.0,
                t: 38.86,
            },
            Rfm {
                x: 2.0,
                t_x: 30.43,
                t: 38.86,
            },
            Rfm {
                x: 12.0,
                t_x: 5.0,
                t: 60.0,
            },
        ] {
            let m = PAPER;
            let mut grad = [0.0; 4];
            let psi = [digamma(m.r), digamma(m.a + m.b), digamma(m.b)];
            let value = m.ll_frequency_terms_grad(c.x, 1.0, psi, &mut grad)
                + m.ll_customer_terms_grad(c, m.a.ln(), (m.b + c.x - 1.0).ln(), 1.0, &mut grad);
            assert!((value - ll(&m, c)).abs() < 1e-12);
            let h = 1e-6;
            let moved = |i: usize, d: f64| {
                let mut p = [m.r, m.alpha, m.a, m.b];
                p[i] += d;
                let [r, alpha, a, b] = p;
                ll(&BgNbd { r, alpha, a, b }, c)
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
    fn heavy_buyers_do_not_overflow() {
        let c = Rfm {
            x: 400.0,
            t_x: 700.0,
            t: 730.0,
        };
        let e = PAPER.expected_purchases(c, 365.0);
        assert!(e.is_finite() && e > 0.0, "{e}");
    }
}
