//! A BFGS quasi-Newton minimiser for smooth functions with an analytic gradient: the
//! method `lifetimes` uses through scipy (with autograd's gradients), and the fits' first
//! choice. Nelder–Mead (`nelder_mead.rs`) stays as the fallback when this one stops early.
//!
//! Textbook form (Nocedal & Wright, algorithm 6.1): the inverse Hessian approximation
//! starts as the identity scaled after the first step (eq. 6.20), each step is found by
//! backtracking until the Armijo condition holds, and an update that would lose positive
//! definiteness (yᵀs ≤ 0) is skipped. It stops on a small gradient, or on a gradient
//! nearly as small once the value no longer changes beyond rounding. Why not a crate: the fits have 3–4 parameters and
//! this is 100 lines; `argmin` would bring a framework for it.

use super::nelder_mead::Minimum;

/// Stopping rules.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub max_iterations: usize,
    /// Converged when every gradient component is at most this...
    pub g_tol: f64,
    /// ...or at most this once a step no longer changes `f` beyond rounding: the value is
    /// then flat to f64 precision (its rounding noise keeps larger data sets from ever
    /// reaching `g_tol`), so the point is the optimum to about √ε.
    pub g_tol_flat: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_iterations: 500,
            g_tol: 1e-10,
            g_tol_flat: 1e-6,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimise `f` from `x0`; `f(x, g)` returns the value at `x` and writes the gradient
/// into `g`. A non-finite value makes the line search step back.
pub fn minimize(f: impl Fn(&[f64], &mut [f64]) -> f64, x0: &[f64], opts: Options) -> Minimum {
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    // Row-major n × n inverse Hessian approximation.
    let mut h: Vec<f64> = (0..n * n)
        .map(|i| if i % (n + 1) == 0 { 1.0 } else { 0.0 })
        .collect();
    let (mut x_new, mut g_new) = (vec![0.0; n], vec![0.0; n]);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < opts.max_iterations && fx.is_finite() {
        if g.iter().all(|v| v.abs() <= opts.g_tol) {
            converged = true;
            break;
        }
        iterations += 1;
        let mut p: Vec<f64> = h.chunks(n).map(|row| -dot(row, &g)).collect();
        let mut slope = dot(&g, &p);
        if slope >= 0.0 {
            // Not a descent direction (rounding): restart from steepest descent.
            p = g.iter().map(|v| -v).collect();
            slope = -dot(&g, &g);
            h.iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = if i % (n + 1) == 0 { 1.0 } else { 0.0 });
        }
        let mut t = 1.0;
        let mut f_new = f64::INFINITY;
        for _ in 0..60 {
            x_new
                .iter_mut()
                .zip(x.iter().zip(&p))
                .for_each(|(xn, (xi, pi))| *xn = xi + t * pi);
            f_new = f(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= fx + 1e-4 * t * slope {
                break;
            }
            t *= 0.5;
        }
        if !(f_new.is_finite() && f_new <= fx) {
            // No step decreases f: at the optimum to rounding, or stuck.
            converged = g.iter().all(|v| v.abs() <= opts.g_tol_flat);
            break;
        }
        let flat = (fx - f_new).abs() <= 4.0 * f64::EPSILON * fx.abs().max(1.0);
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let ys = dot(&y, &s);
        if ys > 1e-300 {
            if iterations == 1 {
                let scale = ys / dot(&y, &y);
                h.iter_mut().for_each(|v| *v *= scale);
            }
            // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, written out with Hy.
            let rho = 1.0 / ys;
            let hy: Vec<f64> = h.chunks(n).map(|row| dot(row, &y)).collect();
            let yhy = dot(&y, &hy);
            for i in 0..n {
                for j in 0..n {
                    let (si, sj) = (s.get(i).copied(), s.get(j).copied());
                    let (hyi, hyj) = (hy.get(i).copied(), hy.get(j).copied());
                    if let (Some(si), Some(sj), Some(hyi), Some(hyj), Some(hij)) =
                        (si, sj, hyi, hyj, h.get_mut(i * n + j))
                    {
                        *hij += (1.0 + rho * yhy) * rho * si * sj - rho * (hyi * sj + si * hyj);
                    }
                }
            }
        }
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;
        if flat && g.iter().all(|v| v.abs() <= opts.g_tol_flat) {
            converged = true;
            break;
        }
    }
    Minimum {
        x,
        value: fx,
        iterations,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_rosenbrock() {
        let rosenbrock = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let m = minimize(rosenbrock, &[-1.2, 1.0], Options::default());
        assert!(m.converged, "{m:?}");
        assert!(
            (m.x[0] - 1.0).abs() < 1e-8 && (m.x[1] - 1.0).abs() < 1e-8,
            "{m:?}"
        );
    }

    #[test]
    fn a_function_that_is_nowhere_finite_does_not_converge() {
        let m = minimize(|_, _| f64::NAN, &[0.0], Options::default());
        assert!(!m.converged);
    }
}
