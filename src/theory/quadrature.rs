//! Gauss-Hermite quadrature and Gaussian expectations in one and two dimensions.
//!
//! Nodes and weights are computed here (Newton's method on the orthonormal Hermite
//! polynomials, started from the classical asymptotic guesses), so no table is shipped.
//! With physicists' nodes `x_i` and weights `w_i` (weight function `exp(-x^2)`):
//!
//! ```text
//! E_{z ~ N(0,1)} F(z)            ~ pi^{-1/2}  sum_i w_i F(sqrt2 x_i)
//! E_{(u,v) ~ N(0, [[k11,k12],[k12,k22]])} F(u, v)
//!                                 ~ pi^{-1}   sum_ij w_i w_j F(a z_i, b z_i + c z_j)
//! ```
//!
//! with `z = sqrt2 x`, `a = sqrt(k11)`, `b = k12 / a`, `c = sqrt(k22 - b^2)` (a Cholesky
//! factor of the covariance). Exact for polynomials of degree `< 2n` in each variable;
//! smooth activations (erf, tanh, GELU) converge fast, kinks (ReLU) only algebraically,
//! which is why ReLU uses its closed form.

use std::f64::consts::PI;

/// Gauss-Hermite rule with `n` nodes for the weight `exp(-x^2)`.
#[derive(Clone, Debug)]
pub struct GaussHermite {
    /// Nodes `x_i`, ascending.
    pub nodes: Vec<f64>,
    /// Weights `w_i`, summing to `sqrt(pi)`.
    pub weights: Vec<f64>,
}

/// Default number of nodes for the kernels (per dimension).
pub const DEFAULT_NODES: usize = 96;

impl GaussHermite {
    /// Compute the rule by Newton iteration on the orthonormal Hermite polynomial
    /// `p_n` (recursion `p_j = x sqrt(2/j) p_{j-1} - sqrt((j-1)/j) p_{j-2}`,
    /// `p_0 = pi^{-1/4}`), with `p_n' = sqrt(2n) p_{n-1}` and `w = 2 / p_n'(x)^2`.
    /// `n` is clamped to `1..=200`.
    pub fn new(n: usize) -> Self {
        let n = n.clamp(1, 200);
        let mut x = vec![0.0; n];
        let mut w = vec![0.0; n];
        let m = n.div_ceil(2);
        let nf = n as f64;
        let mut z = 0.0f64;
        for i in 0..m {
            // Initial guesses for the i-th largest root.
            z = match i {
                0 => (2.0 * nf + 1.0).sqrt() - 1.85575 * (2.0 * nf + 1.0).powf(-1.0 / 6.0),
                1 => z - 1.14 * nf.powf(0.426) / z,
                2 => 1.86 * z - 0.86 * x[0],
                3 => 1.91 * z - 0.91 * x[1],
                _ => 2.0 * z - x[i - 2],
            };
            let mut dp = 1.0;
            for _ in 0..100 {
                let (p, pm1) = hermite_orthonormal(n, z);
                dp = (2.0 * nf).sqrt() * pm1;
                let dz = p / dp;
                z -= dz;
                if dz.abs() <= 1e-15 * z.abs().max(1.0) {
                    break;
                }
            }
            let (_, pm1) = hermite_orthonormal(n, z);
            dp = if pm1 != 0.0 {
                (2.0 * nf).sqrt() * pm1
            } else {
                dp
            };
            x[i] = z;
            w[i] = 2.0 / (dp * dp);
            x[n - 1 - i] = -z;
            w[n - 1 - i] = w[i];
        }
        // Ascending order.
        x.reverse();
        w.reverse();
        GaussHermite {
            nodes: x,
            weights: w,
        }
    }

    /// `E_{z ~ N(0, var)} F(z)`.
    pub fn expect1(&self, var: f64, f: impl Fn(f64) -> f64) -> f64 {
        let s = (2.0 * var.max(0.0)).sqrt();
        let tot: f64 = self
            .nodes
            .iter()
            .zip(&self.weights)
            .map(|(x, w)| w * f(s * x))
            .sum();
        tot / PI.sqrt()
    }

    /// `E F(u, v)` for `(u, v) ~ N(0, [[k11, k12], [k12, k22]])`.
    /// Degenerate covariances (zero variances, |correlation| = 1) are handled by the
    /// Cholesky factor with the negative remainder clamped to zero.
    pub fn expect2(&self, k11: f64, k12: f64, k22: f64, f: impl Fn(f64, f64) -> f64) -> f64 {
        let a = k11.max(0.0).sqrt();
        let (b, c) = if a > 0.0 {
            let b = k12 / a;
            (b, (k22 - b * b).max(0.0).sqrt())
        } else {
            (0.0, k22.max(0.0).sqrt())
        };
        let r2 = std::f64::consts::SQRT_2;
        let mut tot = 0.0;
        for (xi, wi) in self.nodes.iter().zip(&self.weights) {
            let z1 = r2 * xi;
            let (u, vb) = (a * z1, b * z1);
            let inner: f64 = self
                .nodes
                .iter()
                .zip(&self.weights)
                .map(|(xj, wj)| wj * f(u, vb + c * r2 * xj))
                .sum();
            tot += wi * inner;
        }
        tot / PI
    }
}

/// `(p_n(x), p_{n-1}(x))` of the orthonormal Hermite polynomials.
fn hermite_orthonormal(n: usize, x: f64) -> (f64, f64) {
    let mut p_prev = 0.0;
    let mut p = PI.powf(-0.25);
    for j in 1..=n {
        let jf = j as f64;
        let next = x * (2.0 / jf).sqrt() * p - ((jf - 1.0) / jf).sqrt() * p_prev;
        p_prev = p;
        p = next;
    }
    (p, p_prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_of_the_standard_normal() {
        let gh = GaussHermite::new(40);
        let s: f64 = gh.weights.iter().sum();
        assert!((s - PI.sqrt()).abs() < 1e-12);
        assert!((gh.expect1(1.0, |z| z * z) - 1.0).abs() < 1e-12);
        assert!((gh.expect1(2.0, |z| z.powi(4)) - 12.0).abs() < 1e-10);
        assert!((gh.expect1(1.0, |z| z.powi(6)) - 15.0).abs() < 1e-10);
        let e = gh.expect2(2.0, 0.7, 1.5, |u, v| u * v);
        assert!((e - 0.7).abs() < 1e-12);
        let e = gh.expect2(2.0, 0.7, 1.5, |u, v| u * u * v * v);
        assert!((e - (2.0 * 1.5 + 2.0 * 0.49)).abs() < 1e-10);
    }

    #[test]
    fn large_rules_are_accurate() {
        for n in [64, 96, 150] {
            let gh = GaussHermite::new(n);
            let s: f64 = gh.weights.iter().sum();
            assert!((s - PI.sqrt()).abs() < 1e-11, "n = {n}: {s}");
            // E cos(z) = exp(-1/2)
            assert!((gh.expect1(1.0, f64::cos) - (-0.5f64).exp()).abs() < 1e-13);
        }
    }
}
