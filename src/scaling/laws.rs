//! The scaling laws read off loss curves (docs/theory.md section 7.4): power-law fits,
//! the predicted bottleneck exponents, and the compute-optimal envelope over `C = N t`.
//!
//! With `L ~ t^-r_t` (time bottleneck), `L ~ N^-r_N` (model bottleneck) and `L ~ P^-r_P`
//! (data bottleneck),
//!
//! ```text
//! r_t = beta                          (random features; feature learning with beta >= 1)
//! r_t = 2 beta / (1 + beta)           (feature learning, beta < 1: hard tasks)
//! r_N = alpha min(beta, 1)            r_P = alpha min(beta, 2)
//! ```
//!
//! For a hard task the loss is `~ t^-r_t + N^-r_N` and at fixed compute `C = N t` the
//! two terms balance: `N* ~ C^(r_t / (r_t + r_N))`, `L* ~ C^-(r_t r_N / (r_t + r_N))`.
//! For an easy task (`beta >= 1`) a third term, `N^-1 t^-(1 - 1/alpha)` (the finite
//! projection's variance while it trains), outlasts `N^-alpha` on the frontier, which
//! balances it against `t^-beta` instead: `L* ~ C^-(alpha beta / (alpha beta + 1))`,
//! `N* ~ C^((alpha beta - alpha + 1) / (alpha beta + 1))`, reached only at large `C`.

use serde::{Deserialize, Serialize};

/// A power law `y = prefactor x^-exponent` fitted by least squares in log-log.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fit {
    /// The exponent, positive for a falling curve (`y ~ x^-exponent`).
    pub exponent: f64,
    pub prefactor: f64,
    /// The smallest and largest `x` fitted.
    pub range: [f64; 2],
    /// Points in the fit.
    pub points: usize,
}

/// Least squares of `ln y` on `ln x` over the points with `x, y > 0` and finite (at least
/// two distinct `x`), `None` otherwise.
pub fn power_fit(xs: &[f64], ys: &[f64]) -> Option<Fit> {
    let pts: Vec<(f64, f64)> = xs
        .iter()
        .zip(ys)
        .filter(|(x, y)| x.is_finite() && y.is_finite() && **x > 0.0 && **y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    let lo = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min).exp();
    let hi = pts
        .iter()
        .map(|p| p.0)
        .fold(f64::NEG_INFINITY, f64::max)
        .exp();
    Some(Fit {
        exponent: -slope,
        prefactor: (my - slope * mx).exp(),
        range: [lo, hi],
        points: pts.len(),
    })
}

/// The fit over the points with `lo <= x <= hi`.
pub fn power_fit_within(xs: &[f64], ys: &[f64], lo: f64, hi: f64) -> Option<Fit> {
    let (x, y): (Vec<f64>, Vec<f64>) = xs
        .iter()
        .zip(ys)
        .filter(|(x, _)| **x >= lo * (1.0 - 1e-12) && **x <= hi * (1.0 + 1e-12))
        .map(|(x, y)| (*x, *y))
        .unzip();
    power_fit(&x, &y)
}

/// The predicted exponents of a task.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Predicted {
    /// `L ~ t^-time` (time bottleneck).
    pub time: f64,
    /// `L ~ N^-width` (model bottleneck, `t, P -> infinity`).
    pub width: f64,
    /// `L ~ P^-data` (data bottleneck, `t, N -> infinity`).
    pub data: f64,
    /// `L* ~ C^-compute_loss` on the compute-optimal frontier.
    pub compute_loss: f64,
    /// `N* ~ C^compute_width`.
    pub compute_width: f64,
}

/// The exponents for capacity `alpha`, source `beta` and richness `gamma0` (any
/// `gamma0 > 0` is the rich regime: the exponents are those of the late-time limit).
pub fn predicted(alpha: f64, beta: f64, gamma0: f64) -> Predicted {
    let time = if gamma0 > 0.0 && beta < 1.0 {
        2.0 * beta / (1.0 + beta)
    } else {
        beta
    };
    let width = alpha * beta.min(1.0);
    let data = alpha * beta.min(2.0);
    let (compute_loss, compute_width) = if beta < 1.0 {
        (time * width / (time + width), time / (time + width))
    } else {
        let ab = alpha * beta;
        (ab / (ab + 1.0), (ab - alpha + 1.0) / (ab + 1.0))
    };
    Predicted {
        time,
        width,
        data,
        compute_loss,
        compute_width,
    }
}

/// The lower envelope of loss curves `L_j(t)` of widths `N_j` over compute `C = N t`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Compute `C = N t` (log-spaced, 10 per decade).
    pub compute: Vec<f64>,
    /// `L*(C) = min_j L_j(C / N_j)`.
    pub loss: Vec<f64>,
    /// The width that attains it, `N*(C)`.
    pub width: Vec<f64>,
    /// `L* ~ C^-exponent` and `N* ~ C^-exponent` (a negative exponent: `N*` grows) over
    /// the compute where `N*` is neither the smallest nor the largest width.
    pub loss_fit: Option<Fit>,
    pub width_fit: Option<Fit>,
}

/// `ln L` interpolated linearly in `ln t` (`None` outside the times).
fn interp(times: &[f64], loss: &[f64], t: f64) -> Option<f64> {
    if times.is_empty() || t < times[0] || t > times[times.len() - 1] {
        return None;
    }
    let i = times.partition_point(|&x| x < t);
    if i == 0 {
        return Some(loss[0]);
    }
    let (t0, t1) = (times[i - 1], times[i]);
    let (l0, l1) = (loss[i - 1], loss[i]);
    if !(l0 > 0.0 && l1 > 0.0) {
        return None;
    }
    let f = (t.ln() - t0.ln()) / (t1.ln() - t0.ln());
    Some((l0.ln() + f * (l1.ln() - l0.ln())).exp())
}

/// The envelope of curves `(N_j, L_j)` sampled at `times` (increasing, > 0).
pub fn envelope(times: &[f64], curves: &[(f64, Vec<f64>)]) -> Envelope {
    if curves.len() < 2 || times.len() < 2 {
        return Envelope::default();
    }
    let n_lo = curves.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
    let n_hi = curves.iter().map(|c| c.0).fold(0.0, f64::max);
    let (c_lo, c_hi) = (n_lo * times[0], n_hi * times[times.len() - 1]);
    let decades = (c_hi / c_lo).log10();
    let count = (decades * 10.0).floor() as usize + 1;
    let mut env = Envelope::default();
    let mut interior = (vec![], vec![], vec![]);
    for i in 0..count {
        let c = c_lo * 10f64.powf(i as f64 / 10.0);
        let mut best: Option<(f64, f64)> = None;
        for (n, loss) in curves {
            if let Some(l) = interp(times, loss, c / n)
                && best.is_none_or(|b| l < b.0)
            {
                best = Some((l, *n));
            }
        }
        if let Some((l, n)) = best {
            env.compute.push(c);
            env.loss.push(l);
            env.width.push(n);
            if n > n_lo && n < n_hi {
                interior.0.push(c);
                interior.1.push(l);
                interior.2.push(n);
            }
        }
    }
    // a law needs at least two interior widths (else N* is one constant width)
    let mut distinct = interior.2.clone();
    distinct.dedup();
    if distinct.len() >= 2 {
        env.loss_fit = power_fit(&interior.0, &interior.1);
        env.width_fit = power_fit(&interior.0, &interior.2);
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fit recovers an exact power law; the predicted exponents reduce to the papers'
    /// closed forms (compute-optimal `L* ~ C^-(alpha beta / (1 + alpha))`,
    /// `N* ~ C^(1 / (1 + alpha))` for random features with beta < 2, and
    /// `L* ~ C^-(2 alpha beta / (alpha (1 + beta) + 2))` with feature learning and beta < 1).
    #[test]
    fn fits_and_predictions() {
        let xs: Vec<f64> = (1..20).map(|i| i as f64 * 3.0).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x.powf(-0.7)).collect();
        let f = power_fit(&xs, &ys).unwrap();
        assert!((f.exponent - 0.7).abs() < 1e-12 && (f.prefactor - 2.0).abs() < 1e-12);
        let (a, b) = (1.5, 0.5);
        let lazy = predicted(a, b, 0.0);
        assert!((lazy.compute_loss - a * b / (1.0 + a)).abs() < 1e-12);
        assert!((lazy.compute_width - 1.0 / (1.0 + a)).abs() < 1e-12);
        let rich = predicted(a, b, 1.0);
        assert!((rich.time - 2.0 / 3.0).abs() < 1e-12);
        assert!((rich.compute_loss - 2.0 * a * b / (a * (1.0 + b) + 2.0)).abs() < 1e-12);
        assert_eq!(predicted(a, 1.5, 1.0).time, 1.5);
        // an easy task: the model bottleneck saturates at alpha, the data one at 2 alpha
        let easy = predicted(2.0, 1.5, 0.0);
        assert_eq!((easy.width, easy.data), (2.0, 3.0));
        assert!(
            (easy.compute_loss - 0.75).abs() < 1e-12 && (easy.compute_width - 0.5).abs() < 1e-12
        );
    }

    /// The envelope of `L_N(t) = t^-1 + N^-2` follows the balance of the two terms:
    /// `N* ~ C^(1/3)`, `L* ~ C^(-2/3)` (fitted within 0.05 on a grid of 4 widths per
    /// octave).
    #[test]
    fn envelope_of_two_bottlenecks() {
        let times: Vec<f64> = (0..=80).map(|i| 10f64.powf(i as f64 / 10.0)).collect();
        let curves: Vec<(f64, Vec<f64>)> = (0..=40)
            .map(|j| {
                let n = 2f64.powf(j as f64 / 4.0);
                (n, times.iter().map(|t| 1.0 / t + n.powf(-2.0)).collect())
            })
            .collect();
        let e = envelope(&times, &curves);
        let lf = e.loss_fit.unwrap();
        let wf = e.width_fit.unwrap();
        assert!((lf.exponent - 2.0 / 3.0).abs() < 0.05, "{lf:?}");
        assert!((wf.exponent + 1.0 / 3.0).abs() < 0.05, "{wf:?}");
    }
}
