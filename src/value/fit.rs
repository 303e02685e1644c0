//! Maximum-likelihood fits of both models on the logarithms of the parameters (so they
//! stay positive): BFGS with the analytic gradient, as `lifetimes` does through scipy and
//! autograd, and Nelder–Mead from the start when BFGS stops short of its tolerance.
//!
//! Three things keep the fit fast and well-conditioned on large stores:
//! - the ln Γ terms depend only on the frequency `x`, so they are computed once per
//!   distinct `x` and weighted by how many customers share it;
//! - the rest of the BG/NBD likelihood is computed once per distinct (x, t_x, T), with
//!   `ln a` once per evaluation and `ln(b + x − 1)` once per distinct `x`;
//! - times are scaled so the longest age is 10, and order values so their mean is 1; both
//!   models are scale-equivariant (α scales with time, ν with money), so the parameters are
//!   scaled back afterwards and the log-likelihood is computed on the original data.

use super::bfgs;
use super::bgnbd::{BgNbd, Rfm};
use super::gamma_gamma::GammaGamma;
use super::model::FitStats;
use super::nelder_mead::{self, Minimum};
use super::special::digamma;
use super::ValueError;
use std::collections::{BTreeMap, HashMap};

/// Fewest customers a BG/NBD fit accepts.
pub const MIN_CUSTOMERS: usize = 20;
/// Fewest repeat customers a Gamma-Gamma fit accepts.
pub const MIN_REPEAT_CUSTOMERS: usize = 10;

/// Fit BG/NBD on every customer (those without repeat purchases included).
pub fn fit_bgnbd(data: &[Rfm]) -> Result<(BgNbd, FitStats), ValueError> {
    const MODEL: &str = "BG/NBD";
    if data.len() < MIN_CUSTOMERS {
        return Err(ValueError::TooFewCustomers {
            model: MODEL,
            found: data.len(),
            needed: MIN_CUSTOMERS,
        });
    }
    if !data.iter().any(|c| c.x > 0.0) {
        return Err(ValueError::NotConverged {
            model: MODEL,
            reason: "no customer has a repeat purchase, so drop-out cannot be estimated".into(),
        });
    }
    let max_t = data.iter().map(|c| c.t).fold(0.0, f64::max);
    let scale = if max_t > 0.0 { 10.0 / max_t } else { 1.0 };
    let scaled: Vec<Rfm> = data
        .iter()
        .map(|c| Rfm {
            x: c.x,
            t_x: c.t_x * scale,
            t: c.t * scale,
        })
        .collect();
    let groups = count_by_x(data.iter().map(|c| c.x));
    let distinct = distinct_customers(&scaled);
    drop(scaled);
    let n = data.len() as f64;
    let objective = |theta: &[f64]| {
        let Some(m) = params_bgnbd(theta) else {
            return f64::INFINITY;
        };
        let freq: f64 = groups
            .iter()
            .map(|(x, k)| k * m.ll_frequency_terms(*x))
            .sum();
        let ln_a = m.a.ln();
        let (mut cust, mut x, mut ln_b_x1) = (0.0, f64::NAN, f64::NAN);
        // INVARIANT: `distinct` is sorted by x, so ln(b + x − 1) changes once per x.
        for (c, k) in &distinct {
            if c.x != x {
                x = c.x;
                ln_b_x1 = (m.b + x - 1.0).ln();
            }
            cust += k * m.ll_customer_terms_given(*c, ln_a, ln_b_x1);
        }
        -(freq + cust) / n
    };
    let with_gradient = |theta: &[f64], g: &mut [f64]| {
        let Some(m) = params_bgnbd(theta) else {
            return f64::INFINITY;
        };
        let mut grad = [0.0; 4];
        let psi = [digamma(m.r), digamma(m.a + m.b), digamma(m.b)];
        let mut ll = 0.0;
        for (x, k) in &groups {
            ll += m.ll_frequency_terms_grad(*x, *k, psi, &mut grad);
        }
        let ln_a = m.a.ln();
        let (mut x, mut ln_b_x1) = (f64::NAN, f64::NAN);
        // INVARIANT: `distinct` is sorted by x, so ln(b + x − 1) changes once per x.
        for (c, k) in &distinct {
            if c.x != x {
                x = c.x;
                ln_b_x1 = (m.b + x - 1.0).ln();
            }
            ll += m.ll_customer_terms_grad(*c, ln_a, ln_b_x1, *k, &mut grad);
        }
        // d/dθ = p · d/dp for θ = ln p; the objective is the mean negative likelihood.
        let p = [m.r, m.alpha, m.a, m.b];
        for ((gi, d), pi) in g.iter_mut().zip(grad).zip(p) {
            *gi = -d * pi / n;
        }
        -ll / n
    };
    let found = optimum(with_gradient, objective, 4);
    let model = params_bgnbd(&found.x)
        .map(|m| BgNbd {
            alpha: m.alpha / scale,
            ..m
        })
        .ok_or_else(|| not_converged(MODEL, "parameters left the valid range"))?;
    if !found.converged {
        return Err(not_converged(
            MODEL,
            "the optimizer did not meet its tolerance",
        ));
    }
    let log_likelihood: f64 = data.iter().map(|c| model.log_likelihood(*c)).sum();
    check_finite(
        MODEL,
        &[model.r, model.alpha, model.a, model.b, log_likelihood],
    )?;
    Ok((
        model,
        FitStats {
            log_likelihood,
            customers: data.len(),
            iterations: found.iterations,
        },
    ))
}

/// Fit Gamma-Gamma on `(x, m)`: repeat purchases and mean repeat-order value, for
/// customers with `x` ≥ 1 and `m` > 0 (the caller filters).
pub fn fit_gamma_gamma(data: &[(f64, f64)]) -> Result<(GammaGamma, FitStats), ValueError> {
    const MODEL: &str = "Gamma-Gamma";
    if data.len() < MIN_REPEAT_CUSTOMERS {
        return Err(ValueError::TooFewCustomers {
            model: MODEL,
            found: data.len(),
            needed: MIN_REPEAT_CUSTOMERS,
        });
    }
    let mean_m = data.iter().map(|(_, m)| m).sum::<f64>() / data.len() as f64;
    let scale = if mean_m > 0.0 { 1.0 / mean_m } else { 1.0 };
    let scaled: Vec<(f64, f64)> = data.iter().map(|(x, m)| (*x, m * scale)).collect();
    let ln_m: Vec<f64> = scaled.iter().map(|(_, m)| m.ln()).collect();
    let groups = count_by_x(data.iter().map(|(x, _)| *x));
    let n = data.len() as f64;
    let objective = |theta: &[f64]| {
        let [p, q, v] = [0, 1, 2].map(|i| theta.get(i).copied().unwrap_or(f64::NAN).exp());
        let m = GammaGamma { p, q, v };
        let freq: f64 = groups
            .iter()
            .map(|(x, k)| k * m.ll_frequency_terms(*x))
            .sum();
        let cust: f64 = scaled
            .iter()
            .map(|(x, mv)| m.ll_customer_terms(*x, *mv))
            .sum();
        -(freq + cust) / n
    };
    let with_gradient = |theta: &[f64], g: &mut [f64]| {
        let [p, q, v] = [0, 1, 2].map(|i| theta.get(i).copied().unwrap_or(f64::NAN).exp());
        let m = GammaGamma { p, q, v };
        let mut grad = [0.0; 3];
        let psi_q = digamma(q);
        let mut ll = 0.0;
        for (x, k) in &groups {
            ll += m.ll_frequency_terms_grad(*x, *k, psi_q, &mut grad);
        }
        for ((x, mv), lm) in scaled.iter().zip(&ln_m) {
            ll += m.ll_customer_terms_grad(*x, *mv, *lm, &mut grad);
        }
        for ((gi, d), pi) in g.iter_mut().zip(grad).zip([p, q, v]) {
            *gi = -d * pi / n;
        }
        -ll / n
    };
    let found = optimum(with_gradient, objective, 3);
    let [p, q, v] = [0, 1, 2].map(|i| found.x.get(i).copied().unwrap_or(f64::NAN).exp());
    let model = GammaGamma { p, q, v: v / scale };
    if !found.converged {
        return Err(not_converged(
            MODEL,
            "the optimizer did not meet its tolerance",
        ));
    }
    let log_likelihood: f64 = data.iter().map(|(x, m)| model.log_likelihood(*x, *m)).sum();
    check_finite(MODEL, &[model.p, model.q, model.v, log_likelihood])?;
    if model.q <= 1.0 {
        // E(M) = pν/(q-1) does not exist: spend is too dispersed to predict.
        return Err(not_converged(
            MODEL,
            &format!("q = {:.4} ≤ 1, so mean spend is undefined", model.q),
        ));
    }
    Ok((
        model,
        FitStats {
            log_likelihood,
            customers: data.len(),
            iterations: found.iterations,
        },
    ))
}

/// BFGS from the origin (all parameters 1); Nelder–Mead from the origin when BFGS does not
/// meet its tolerance. Iterations count both.
fn optimum(
    with_gradient: impl Fn(&[f64], &mut [f64]) -> f64,
    value: impl Fn(&[f64]) -> f64,
    dimensions: usize,
) -> Minimum {
    let start = vec![0.0; dimensions];
    let quasi_newton = bfgs::minimize(with_gradient, &start, bfgs::Options::default());
    if quasi_newton.converged {
        return quasi_newton;
    }
    let simplex = nelder_mead::minimize(value, &start, nelder_mead::Options::default());
    Minimum {
        iterations: quasi_newton.iterations + simplex.iterations,
        ..simplex
    }
}

fn params_bgnbd(theta: &[f64]) -> Option<BgNbd> {
    let [r, alpha, a, b] = [0, 1, 2, 3].map(|i| theta.get(i).copied().unwrap_or(f64::NAN).exp());
    let all = [r, alpha, a, b];
    all.iter()
        .all(|v| v.is_finite() && *v > 0.0)
        .then_some(BgNbd { r, alpha, a, b })
}

/// Customers sharing (x, t_x, T), each with how many they are, sorted by x: one
/// likelihood term per group. With ages in whole days, every customer who never returned
/// shares the group of their T, which more than halves the terms on CDNOW.
fn distinct_customers(scaled: &[Rfm]) -> Vec<(Rfm, f64)> {
    let mut counts: HashMap<(u64, u64, u64), f64> = HashMap::new();
    for c in scaled {
        *counts
            .entry((c.x.to_bits(), c.t_x.to_bits(), c.t.to_bits()))
            .or_default() += 1.0;
    }
    let mut out: Vec<(Rfm, f64)> = counts
        .into_iter()
        .map(|((x, t_x, t), k)| {
            let [x, t_x, t] = [x, t_x, t].map(f64::from_bits);
            (Rfm { x, t_x, t }, k)
        })
        .collect();
    // Sorted, so the sum and so the fit do not depend on the hash map's order.
    out.sort_unstable_by(|(a, _), (b, _)| {
        (a.x, a.t_x, a.t)
            .partial_cmp(&(b.x, b.t_x, b.t))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    out
}

/// Customers per distinct frequency (frequencies are whole numbers).
fn count_by_x(xs: impl Iterator<Item = f64>) -> Vec<(f64, f64)> {
    let mut counts: BTreeMap<u64, f64> = BTreeMap::new();
    for x in xs {
        *counts.entry(x as u64).or_default() += 1.0;
    }
    counts.into_iter().map(|(x, k)| (x as f64, k)).collect()
}

fn not_converged(model: &'static str, reason: &str) -> ValueError {
    ValueError::NotConverged {
        model,
        reason: reason.to_string(),
    }
}

fn check_finite(model: &'static str, values: &[f64]) -> Result<(), ValueError> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(not_converged(model, "the optimum is not a finite point"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_little_history_is_refused_clearly() {
        let one = [Rfm {
            x: 0.0,
            t_x: 0.0,
            t: 10.0,
        }];
        let e = fit_bgnbd(&one).unwrap_err();
        assert_eq!(
            e.to_string(),
            "too few customers to fit BG/NBD: 1, at least 20 needed"
        );
        let none_returned = vec![
            Rfm {
                x: 0.0,
                t_x: 0.0,
                t: 10.0
            };
            50
        ];
        assert!(matches!(
            fit_bgnbd(&none_returned),
            Err(ValueError::NotConverged { .. })
        ));
    }

    /// 20,000 customers in whole days over 78 weeks, from a small xorshift generator: a
    /// data set large enough that the likelihood's rounding keeps BFGS's gradient above its
    /// strict tolerance, which once sent both fits to the slow Nelder–Mead fallback.
    #[test]
    fn a_large_data_set_is_fitted_by_bfgs_without_the_fallback() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut uniform = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut rfm, mut spend) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            let rate = [0.005, 0.02, 0.05, 0.15][(uniform() * 4.0) as usize];
            let drop_out = [0.1, 0.3, 0.6][(uniform() * 3.0) as usize];
            let first = (uniform() * 500.0).floor();
            let (mut t, mut last, mut x) = (first, first, 0.0);
            loop {
                t += (-(1.0 - uniform()).ln() / rate).ceil();
                if t > 546.0 || uniform() < drop_out {
                    break;
                }
                (last, x) = (t, x + 1.0);
            }
            rfm.push(Rfm {
                x,
                t_x: (last - first) / 7.0,
                t: (546.0 - first) / 7.0,
            });
            if x > 0.0 {
                spend.push((x, 10.0 + 90.0 * uniform()));
            }
        }
        let (_, bg) = fit_bgnbd(&rfm).unwrap();
        let (_, gg) = fit_gamma_gamma(&spend).unwrap();
        assert!(bg.iterations < 100 && gg.iterations < 100, "{bg:?} {gg:?}");
    }

    #[test]
    fn identical_spend_is_refused_not_fitted_to_nonsense() {
        // Every customer spends exactly 10: no spread across customers to estimate.
        let same = vec![(2.0, 10.0); 40];
        assert!(fit_gamma_gamma(&same).is_err());
    }
}
