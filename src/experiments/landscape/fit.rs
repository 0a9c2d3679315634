//! Power-law fits and the parabola that refines a grid optimum.

use super::LrOutcome;
use serde::{Deserialize, Serialize};

/// A least-squares fit `y = prefactor x^slope` in log-log.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PowerLaw {
    pub slope: f64,
    /// Standard error of the slope from the residuals (0 with two points).
    pub slope_se: f64,
    pub prefactor: f64,
    /// Points in the fit.
    pub points: usize,
}

/// Fit `ln y = ln a + slope ln x` by least squares; `None` with fewer than two points
/// or one distinct `x`.
pub fn fit_power_law(x: &[f64], y: &[f64]) -> Option<PowerLaw> {
    let pts: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| **a > 0.0 && **b > 0.0 && a.is_finite() && b.is_finite())
        .map(|(a, b)| (a.ln(), b.ln()))
        .collect();
    let n = pts.len();
    if n < 2 {
        return None;
    }
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let icept = my - slope * mx;
    let ssr: f64 = pts
        .iter()
        .map(|p| (p.1 - icept - slope * p.0).powi(2))
        .sum();
    let slope_se = if n > 2 {
        (ssr / (n - 2) as f64 / sxx).sqrt()
    } else {
        0.0
    };
    Some(PowerLaw {
        slope,
        slope_se,
        prefactor: icept.exp(),
        points: n,
    })
}

/// The optimum near grid index `b`: the vertex, in `ln lr`, of the parabola through
/// the best rate and its two neighbours, scored by `ln` of the steps to the threshold
/// (or of the final loss, when the best did not reach it), clipped to the neighbours.
/// The grid value itself when a neighbour is missing, diverged, scored differently
/// or the parabola opens downwards.
pub fn refine(lrs: &[f64], outcomes: &[Option<LrOutcome>], b: usize) -> f64 {
    let by_steps = outcomes[b]
        .as_ref()
        .is_some_and(|o| o.steps_to_threshold.is_some());
    let score = |i: usize| -> Option<f64> {
        let o = outcomes.get(i)?.as_ref()?;
        if o.diverged_at.is_some() {
            return None;
        }
        let v = if by_steps {
            o.steps_to_threshold?
        } else {
            if o.steps_to_threshold.is_some() {
                return None;
            }
            o.final_loss?
        };
        (v > 0.0 && v.is_finite()).then(|| v.ln())
    };
    if b == 0 || b + 1 >= lrs.len() {
        return lrs[b];
    }
    let (Some(y0), Some(y1), Some(y2)) = (score(b - 1), score(b), score(b + 1)) else {
        return lrs[b];
    };
    let (x0, x1, x2) = (lrs[b - 1].ln(), lrs[b].ln(), lrs[b + 1].ln());
    // Lagrange parabola through the three points: y = A x^2 + B x + C.
    let d = (x0 - x1) * (x0 - x2) * (x1 - x2);
    let a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / d;
    let bq = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / d;
    if a.is_nan() || a <= 0.0 {
        return lrs[b];
    }
    (-bq / (2.0 * a)).clamp(x0, x2).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_law_of_exact_data() {
        let x = [0.1, 1.0, 10.0, 100.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| 3.0 * v.powf(-1.5)).collect();
        let f = fit_power_law(&x, &y).unwrap();
        assert!((f.slope + 1.5).abs() < 1e-12);
        assert!((f.prefactor - 3.0).abs() < 1e-12);
        assert!(f.slope_se < 1e-12);
        assert!(fit_power_law(&[1.0], &[1.0]).is_none());
    }

    #[test]
    fn parabola_finds_the_vertex_of_a_quadratic_score() {
        // steps = exp((ln lr - ln 0.3)^2) + 10: minimum at lr = 0.3
        let lrs = [0.125, 0.25, 0.5, 1.0];
        let outcomes: Vec<Option<LrOutcome>> = lrs
            .iter()
            .map(|&lr: &f64| {
                Some(LrOutcome {
                    steps_to_threshold: Some((10.0 * (lr.ln() - 0.3f64.ln()).powi(2)).exp()),
                    final_loss: Some(1e-3),
                    diverged_at: None,
                })
            })
            .collect();
        let r = refine(&lrs, &outcomes, 1);
        assert!((r - 0.3).abs() < 1e-9, "{r}");
        // a diverged neighbour leaves the grid value
        let mut o = outcomes.clone();
        o[2] = Some(LrOutcome {
            steps_to_threshold: None,
            final_loss: None,
            diverged_at: Some(3),
        });
        assert_eq!(refine(&lrs, &o, 1), 0.25);
    }
}
