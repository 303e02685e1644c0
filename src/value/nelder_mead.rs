//! A Nelder–Mead simplex minimiser, written here rather than taken from a crate.
//!
//! Why: the fits minimise smooth functions of 3–4 log-parameters, which is what the
//! `lifetimes` reference does through scipy; `argmin` would bring a framework and several
//! math crates for one 80-line algorithm. This is the textbook method (Nelder & Mead 1965,
//! coefficients as in Gao & Han's "standard" choice: reflection 1, expansion 2,
//! contraction 0.5, shrink 0.5) with one restart from the best point, the usual guard
//! against a simplex that collapsed before reaching the minimum.

/// Where the minimiser stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// Stopping rules.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Largest number of iterations per run (the restart gets as many again).
    pub max_iterations: usize,
    /// Stop when every vertex value is within `f_tol` of the best one...
    pub f_tol: f64,
    /// ...and every vertex coordinate within `x_tol` of the best vertex.
    pub x_tol: f64,
    /// Size of the first simplex along each axis.
    pub step: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_iterations: 20_000,
            f_tol: 1e-12,
            x_tol: 1e-9,
            step: 0.5,
        }
    }
}

/// Minimise `f` from `x0`. A non-finite value counts as +∞, so the simplex walks away
/// from regions where the likelihood is undefined.
pub fn minimize(f: impl Fn(&[f64]) -> f64, x0: &[f64], opts: Options) -> Minimum {
    let f = |x: &[f64]| {
        let v = f(x);
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    };
    let first = run(&f, x0, opts);
    let second = run(&f, &first.x, opts);
    Minimum {
        iterations: first.iterations + second.iterations,
        converged: first.converged && second.converged,
        ..second
    }
}

fn run(f: &impl Fn(&[f64]) -> f64, x0: &[f64], opts: Options) -> Minimum {
    let n = x0.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    simplex.push((x0.to_vec(), f(x0)));
    for i in 0..n {
        let mut x = x0.to_vec();
        if let Some(xi) = x.get_mut(i) {
            *xi += opts.step;
        }
        let v = f(&x);
        simplex.push((x, v));
    }
    let mut iterations = 0;
    let mut converged = false;
    while iterations < opts.max_iterations {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        if done(&simplex, opts) {
            converged = true;
            break;
        }
        iterations += 1;
        // INVARIANT: the simplex has n + 1 >= 2 vertices, sorted best first.
        let Some((worst, f_worst)) = simplex.last().cloned() else {
            break;
        };
        let f_best = simplex.first().map_or(f64::INFINITY, |v| v.1);
        let f_second_worst = simplex.get(n.saturating_sub(1)).map_or(f_worst, |v| v.1);
        let centroid: Vec<f64> = (0..n)
            .map(|j| {
                simplex
                    .iter()
                    .take(n)
                    .map(|(x, _)| x.get(j).copied().unwrap_or(0.0))
                    .sum::<f64>()
                    / n as f64
            })
            .collect();
        let towards = |t: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&worst)
                .map(|(c, w)| c + t * (c - w))
                .collect()
        };
        let reflected = towards(1.0);
        let f_reflected = f(&reflected);
        let replacement = if f_reflected < f_best {
            let expanded = towards(2.0);
            let f_expanded = f(&expanded);
            if f_expanded < f_reflected {
                Some((expanded, f_expanded))
            } else {
                Some((reflected, f_reflected))
            }
        } else if f_reflected < f_second_worst {
            Some((reflected, f_reflected))
        } else {
            // Contract outside when the reflection helped a little, inside otherwise.
            let (t, bound) = if f_reflected < f_worst {
                (0.5, f_reflected)
            } else {
                (-0.5, f_worst)
            };
            let contracted = towards(t);
            let f_contracted = f(&contracted);
            (f_contracted <= bound).then_some((contracted, f_contracted))
        };
        match replacement {
            Some(vertex) => {
                if let Some(last) = simplex.last_mut() {
                    *last = vertex;
                }
            }
            None => shrink(f, &mut simplex),
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, value) = simplex.swap_remove(0);
    Minimum {
        x,
        value,
        iterations,
        converged,
    }
}

fn done(simplex: &[(Vec<f64>, f64)], opts: Options) -> bool {
    let Some((best, f_best)) = simplex.first() else {
        return true;
    };
    simplex.iter().all(|(x, v)| {
        (v - f_best).abs() <= opts.f_tol * (1.0 + f_best.abs())
            && x.iter()
                .zip(best)
                .all(|(a, b)| (a - b).abs() <= opts.x_tol * (1.0 + b.abs()))
    })
}

fn shrink(f: &impl Fn(&[f64]) -> f64, simplex: &mut [(Vec<f64>, f64)]) {
    let Some((best, _)) = simplex.first().cloned() else {
        return;
    };
    for (x, v) in simplex.iter_mut().skip(1) {
        for (xi, bi) in x.iter_mut().zip(&best) {
            *xi = bi + 0.5 * (*xi - bi);
        }
        *v = f(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let rosen = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = minimize(rosen, &[-1.2, 1.0], Options::default());
        assert!(m.converged);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-6 && (m.x[1] - 1.0).abs() < 1e-6,
            "{m:?}"
        );
    }

    #[test]
    fn walks_away_from_undefined_regions() {
        // ln is undefined below zero; the minimum of x - ln x is at 1.
        let m = minimize(|x: &[f64]| x[0] - x[0].ln(), &[3.0], Options::default());
        assert!((m.x[0] - 1.0).abs() < 1e-6, "{m:?}");
    }

    #[test]
    fn reports_an_unmet_tolerance() {
        let opts = Options {
            max_iterations: 3,
            ..Options::default()
        };
        let m = minimize(|x: &[f64]| x[0] * x[0] + x[1] * x[1], &[5.0, 5.0], opts);
        assert!(!m.converged);
    }
}
