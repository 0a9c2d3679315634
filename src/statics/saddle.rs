//! The muP (mean-field) limit of a Bayesian two-layer network: the kernel saddle point
//! of Lauditi, Bordelon & Pehlevan (2025), theory.md section 5.
//!
//! Network `h = W x / sqrt(D)`, `f = w . phi(h) / (gamma0 N)`, Gibbs measure
//! `exp(-beta gamma0^2 N (1/2) sum_mu (f_mu - y_mu)^2 - |W|^2/2 - |w|^2/2)`.
//! Integrating out `w` and writing the density of the feature kernel
//! `Phi = phi(h) . phi(h) / N` by a large deviation over `N` iid neurons
//! `h_i ~ N(0, C)`, `C = X X^T / D`, gives `p(Phi) ~ exp(-N S)` at the saddle of
//!
//! ```text
//! S[Phi, PhiHat] = -Tr(Phi PhiHat) + (gamma0^2/2) sum_c y_c^T (Phi + I/beta)^{-1} y_c
//!                  - log E_{h ~ N(0, C)} exp(-phi(h)^T PhiHat phi(h)),
//! ```
//!
//! min over `Phi`, max over `PhiHat`. Its stationarity conditions are
//!
//! ```text
//! PhiHat = -(gamma0^2 / 2) sum_c a_c a_c^T,     a_c = (Phi + I/beta)^{-1} y_c
//! Phi    = < phi(h) phi(h)^T >_PhiHat,          the average under  N(h; 0, C) exp(-phi^T PhiHat phi) / Z
//! ```
//!
//! and the posterior mean predictor is `f(x) = Phi(x, X) (Phi + I/beta)^{-1} y`, with
//! `Phi(x, X)` the same tilted average over the joint Gaussian of test and training
//! fields (the tilt depends on the training fields only). At `gamma0 -> 0` the tilt
//! vanishes, `Phi` is the NNGP kernel and `f` is NNGP regression.
//!
//! # Solver
//!
//! Damped fixed-point iteration of the two stationarity conditions:
//! `PhiHat` from the current `Phi` exactly, then `Phi <- (1 - alpha) Phi + alpha
//! <phi phi^T>_PhiHat`. `gamma0` is ramped linearly from 0 over the first `ramp`
//! iterations (continuation: the tilt at the target `gamma0` evaluated at the NNGP
//! kernel can be too strong for the expectation to exist, the self-consistent kernel
//! tames it).
//!
//! The tilted average is self-normalised importance sampling. Fields are written as
//! `h = A z` with `A A^T = C` over training and test points (rank `r`, so `P > D` is
//! fine) and `z` is drawn from a Gaussian proposal `q = N(mu, L L^T)` on `R^r`, fixed
//! common random numbers `z = mu + L xi`, `xi ~ N(0, I)`, so that the iteration is a
//! deterministic map once the proposal is frozen. Weights
//!
//! ```text
//! log w_i = log N(z_i; 0, I) - log q(z_i) - phi_i^T PhiHat phi_i .
//! ```
//!
//! With `adaptive`, `(mu, L L^T)` follow the weighted mean and covariance of `z` (damped)
//! during the ramp and a few iterations after it, then freeze: for a linear network the
//! tilted law is Gaussian and the weights become constant. With a `base` kernel (the exact
//! `E_{N(0,C)} phi phi^T`, i.e. the NNGP Gram matrix) the control variate
//!
//! ```text
//! Phi ≈ base + sum_i w_i phi_i phi_i^T - sum_i w0_i phi_i phi_i^T      (w0: weights without the tilt)
//! ```
//!
//! removes the sampling error of the untilted part: exact at `gamma0 = 0`, and the error
//! scales with the size of the tilt. The history records, per iteration, the ramped
//! `gamma0`, the relative change of `Phi`, the action `S` and the effective sample size
//! `1 / sum w_i^2`.

use super::linalg::{cholesky, cholesky_solve, frobenius, psd_factor};
use super::nngp_posterior::{GpPosterior, gp_regression};
use crate::config::Activation;
use crate::data::{Dataset, gram};
use crate::error::{Error, Result, check_positive, check_range};
use crate::progress::{Progress, tick};
use crate::rng::{Stream, normals, stream};
use serde::{Deserialize, Serialize};

/// Options of the saddle-point solver.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SaddleConfig {
    /// Monte-Carlo samples of the fields for the tilted averages.
    pub samples: usize,
    /// Most fixed-point iterations.
    pub iterations: usize,
    /// Iterations over which gamma0 rises linearly from 0 to its target.
    pub ramp: usize,
    /// Damping alpha in (0, 1] of the kernel update.
    pub damping: f64,
    /// Stop when the relative change of Phi falls below this (after the proposal froze).
    pub tol: f64,
    /// Adapt the Gaussian proposal to the tilted law (then freeze it).
    pub adaptive: bool,
    /// Use the exact untilted kernel as a control variate when one is given.
    pub control_variate: bool,
    /// Seed of the Monte-Carlo samples.
    pub seed: u64,
}

impl Default for SaddleConfig {
    fn default() -> Self {
        SaddleConfig {
            samples: 20_000,
            iterations: 300,
            ramp: 20,
            damping: 0.5,
            tol: 1e-9,
            adaptive: true,
            control_variate: true,
            seed: 0,
        }
    }
}

impl SaddleConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("saddle.samples", self.samples, 100, 2_000_000)?;
        check_range("saddle.iterations", self.iterations, 1, 100_000)?;
        check_range("saddle.ramp", self.ramp, 0, 100_000)?;
        check_range("saddle.damping", self.damping, 1e-6, 1.0)?;
        check_positive("saddle.tol", self.tol)?;
        Ok(())
    }
}

/// One iteration of the solver.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SaddleStep {
    pub iteration: usize,
    /// gamma0 used at this iteration (ramped).
    pub gamma0: f64,
    /// `|Phi_new - Phi| / |Phi|` (Frobenius, training block).
    pub rel_change: f64,
    /// The action S at the current (Phi, PhiHat(Phi)).
    pub action: f64,
    /// Effective sample size of the importance weights, as a fraction of the samples.
    pub ess_fraction: f64,
}

/// The solution of the saddle point.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SaddleResult {
    pub gamma0: f64,
    pub beta: f64,
    /// Feature kernel on the training points, `[P x P]`.
    pub phi: Vec<f64>,
    /// Conjugate kernel `PhiHat = -(gamma0^2/2) sum_c a_c a_c^T`, `[P x P]`.
    pub phi_hat: Vec<f64>,
    /// Test-train kernel `Phi(x, X)`, `[P_test x P]`.
    pub phi_cross: Vec<f64>,
    /// Test diagonal `Phi(x, x)`, `[P_test]`.
    pub phi_test_diag: Vec<f64>,
    /// Predictor `Phi(x, X) (Phi + I/beta)^{-1} y` on training and test points; the
    /// variances are those of `f` times `N` (the posterior of `f` concentrates as 1/N).
    pub posterior: GpPosterior,
    pub history: Vec<SaddleStep>,
    /// The relative change fell below `tol`.
    pub converged: bool,
}

/// Log-sum-exp of a slice.
fn logsumexp(v: &[f64]) -> f64 {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Normalised weights from log weights.
fn normalise(lw: &[f64]) -> Vec<f64> {
    let l = logsumexp(lw);
    lw.iter().map(|x| (x - l).exp()).collect()
}

/// `a_c = (Phi + ridge I)^{-1} y_c` for every output.
fn solve_targets(
    phi: &[f64],
    p: usize,
    ridge: f64,
    y: &[f64],
    outputs: usize,
) -> Result<Vec<Vec<f64>>> {
    let mut m = phi.to_vec();
    for i in 0..p {
        m[i * p + i] += ridge;
    }
    let l = cholesky(&m, p)?;
    Ok((0..outputs)
        .map(|c| {
            let yc: Vec<f64> = (0..p).map(|mu| y[mu * outputs + c]).collect();
            cholesky_solve(&l, p, &yc)
        })
        .collect())
}

/// Solve the two-layer muP saddle point for `data` (training and test points), network
/// activation `act`, richness `gamma0` and inverse temperature `beta` (`f64::INFINITY`
/// allowed). `base`, if given, is the exact untilted Gram matrix `E phi phi^T` over the
/// training then test points (`[n x n]`, `n = P + P_test`; the NNGP kernel of one hidden
/// layer), used as a control variate.
pub fn solve(
    act: Activation,
    data: &Dataset,
    gamma0: f64,
    beta: f64,
    base: Option<&[f64]>,
    cfg: &SaddleConfig,
    progress: &dyn Progress,
) -> Result<SaddleResult> {
    cfg.validate()?;
    check_range("gamma0", gamma0, 0.0, 1e3)?;
    if beta.is_nan() || beta <= 0.0 {
        return Err(Error::config("beta", "a positive number or infinity"));
    }
    let (p, pt, c_out, d) = (data.p_train(), data.p_test(), data.outputs, data.dim);
    let n = p + pt;
    if let Some(b) = base
        && b.len() != n * n
    {
        return Err(Error::Data("base kernel has the wrong shape".into()));
    }
    let ridge = 1.0 / beta;
    let y = &data.y_train;
    // Fields h = A z over all points.
    let mut x_all = data.x_train.clone();
    x_all.extend_from_slice(&data.x_test);
    let c_full = gram(&x_all, &x_all, d);
    let (a_mat, r) = psd_factor(&c_full, n, 1e-12);
    if r == 0 {
        return Err(Error::Data("all inputs are zero".into()));
    }
    let m = cfg.samples;
    let mut xi = normals(&mut stream(cfg.seed, Stream::Theory, 0x5add1e, 0), m * r);
    standardise(&mut xi, m, r)?;
    // Proposal N(mu, L L^T) on z.
    let mut mu = vec![0.0; r];
    let mut cov: Vec<f64> = vec![0.0; r * r];
    for i in 0..r {
        cov[i * r + i] = 1.0;
    }
    let mut lq = cov.clone();
    let adapt_until = cfg.ramp + 10;
    let use_cv = cfg.control_variate && base.is_some();

    // Kernel blocks: rows over all n points, columns over the P training points, plus
    // the test diagonal.
    let mut phi_rows = vec![0.0; n * p];
    let mut test_diag = vec![0.0; pt];
    let mut history = Vec::new();
    let mut converged = false;

    // Buffers per sample.
    let mut z = vec![0.0; m * r];
    let mut phis = vec![0.0; m * n];
    let mut lw0 = vec![0.0; m];
    let mut lw = vec![0.0; m];

    for it in 0..cfg.iterations {
        let g = if cfg.ramp == 0 {
            gamma0
        } else {
            gamma0 * ((it as f64) / cfg.ramp as f64).min(1.0)
        };
        // Samples under the current proposal.
        let logdet_l: f64 = (0..r).map(|i| lq[i * r + i].ln()).sum();
        for s in 0..m {
            let xs = &xi[s * r..(s + 1) * r];
            let zs = &mut z[s * r..(s + 1) * r];
            for i in 0..r {
                zs[i] = mu[i] + (0..=i).map(|k| lq[i * r + k] * xs[k]).sum::<f64>();
            }
            let zz: f64 = zs.iter().map(|v| v * v).sum();
            let xx: f64 = xs.iter().map(|v| v * v).sum();
            lw0[s] = -0.5 * zz + 0.5 * xx + logdet_l;
            let ph = &mut phis[s * n..(s + 1) * n];
            for (j, out) in ph.iter_mut().enumerate() {
                let h: f64 = (0..r).map(|k| a_mat[j * r + k] * zs[k]).sum();
                *out = act.phi(h);
            }
        }
        if it == 0 {
            // Start from the untilted kernel.
            let w0 = normalise(&lw0);
            accumulate(
                &phis,
                &w0,
                n,
                p,
                pt,
                &mut phi_rows,
                &mut test_diag,
                1.0,
                0.0,
            );
            if use_cv {
                set_base(base.unwrap_or(&[]), n, p, pt, &mut phi_rows, &mut test_diag);
            }
        }
        let phi_train: Vec<f64> = phi_rows[..p * p].to_vec();
        let a = solve_targets(&phi_train, p, ridge, y, c_out)?;
        // Tilt t = -phi^T PhiHat phi = (g^2/2) sum_c (a_c . phi_train)^2.
        let half_g2 = 0.5 * g * g;
        for s in 0..m {
            let ph = &phis[s * n..s * n + p];
            let t: f64 = a
                .iter()
                .map(|ac| {
                    let u: f64 = ac.iter().zip(ph).map(|(x, y)| x * y).sum();
                    u * u
                })
                .sum::<f64>()
                * half_g2;
            lw[s] = lw0[s] + t;
        }
        let w = normalise(&lw);
        let ess = 1.0 / w.iter().map(|v| v * v).sum::<f64>() / m as f64;
        let log_e = logsumexp(&lw) - (m as f64).ln();
        let quad: f64 = a
            .iter()
            .enumerate()
            .map(|(c, ac)| {
                let phi_a: f64 = (0..p)
                    .map(|i| ac[i] * (0..p).map(|j| phi_train[i * p + j] * ac[j]).sum::<f64>())
                    .sum();
                let ya: f64 = (0..p).map(|i| y[i * c_out + c] * ac[i]).sum();
                phi_a + ya
            })
            .sum();
        let action = half_g2 * quad - log_e;
        if !action.is_finite() || !ess.is_finite() {
            return Err(Error::Numerical(format!(
                "saddle point: importance weights degenerate at iteration {it} (gamma0 = {g})"
            )));
        }
        // New kernel estimate.
        let mut new_rows = vec![0.0; n * p];
        let mut new_diag = vec![0.0; pt];
        accumulate(&phis, &w, n, p, pt, &mut new_rows, &mut new_diag, 1.0, 0.0);
        if use_cv {
            let w0 = normalise(&lw0);
            accumulate(
                &phis,
                &w0,
                n,
                p,
                pt,
                &mut new_rows,
                &mut new_diag,
                -1.0,
                1.0,
            );
            let b = base.unwrap_or(&[]);
            for i in 0..n {
                for j in 0..p {
                    new_rows[i * p + j] += b[i * n + j];
                }
            }
            for i in 0..pt {
                new_diag[i] += b[(p + i) * n + p + i];
            }
        }
        let diff: Vec<f64> = (0..p * p).map(|i| new_rows[i] - phi_rows[i]).collect();
        let rel_change = frobenius(&diff) / frobenius(&phi_train).max(1e-300);
        let alpha = cfg.damping;
        for (o, v) in phi_rows.iter_mut().zip(&new_rows) {
            *o = (1.0 - alpha) * *o + alpha * v;
        }
        for (o, v) in test_diag.iter_mut().zip(&new_diag) {
            *o = (1.0 - alpha) * *o + alpha * v;
        }
        // Symmetrise the training block.
        for i in 0..p {
            for j in 0..i {
                let v = 0.5 * (phi_rows[i * p + j] + phi_rows[j * p + i]);
                phi_rows[i * p + j] = v;
                phi_rows[j * p + i] = v;
            }
        }
        history.push(SaddleStep {
            iteration: it,
            gamma0: g,
            rel_change,
            action,
            ess_fraction: ess,
        });
        if cfg.adaptive && it < adapt_until && g > 0.0 {
            adapt(&z, &w, r, alpha, &mut mu, &mut cov);
            lq = cholesky(&cov, r)?;
        }
        let frozen = !cfg.adaptive || it >= adapt_until;
        if frozen && it >= cfg.ramp && rel_change < cfg.tol {
            converged = true;
            break;
        }
        tick(progress, "saddle", it as u64, cfg.iterations as u64)?;
    }

    let phi_train: Vec<f64> = phi_rows[..p * p].to_vec();
    let a = solve_targets(&phi_train, p, ridge, y, c_out)?;
    let mut phi_hat = vec![0.0; p * p];
    for ac in &a {
        for i in 0..p {
            for j in 0..p {
                phi_hat[i * p + j] -= 0.5 * gamma0 * gamma0 * ac[i] * ac[j];
            }
        }
    }
    let phi_cross = phi_rows[p * p..].to_vec();
    let posterior = gp_regression(
        &phi_train,
        &phi_cross,
        &test_diag,
        y,
        c_out,
        ridge,
        1.0 / (gamma0 * gamma0).max(1e-300),
    )?;
    Ok(SaddleResult {
        gamma0,
        beta,
        phi: phi_train,
        phi_hat,
        phi_cross,
        phi_test_diag: test_diag,
        posterior,
        history,
        converged,
    })
}

/// `rows[i, j] = keep * rows[i, j] + sign * sum_s w_s phi_s[i] phi_s[j]` for `j < P`,
/// and the test diagonal likewise.
#[allow(clippy::too_many_arguments)]
fn accumulate(
    phis: &[f64],
    w: &[f64],
    n: usize,
    p: usize,
    pt: usize,
    rows: &mut [f64],
    diag: &mut [f64],
    sign: f64,
    keep: f64,
) {
    for v in rows.iter_mut() {
        *v *= keep;
    }
    for v in diag.iter_mut() {
        *v *= keep;
    }
    for (s, &ws) in w.iter().enumerate() {
        if ws == 0.0 {
            continue;
        }
        let ph = &phis[s * n..(s + 1) * n];
        let sw = sign * ws;
        for i in 0..n {
            let f = sw * ph[i];
            if f == 0.0 {
                continue;
            }
            let row = &mut rows[i * p..(i + 1) * p];
            for (o, v) in row.iter_mut().zip(&ph[..p]) {
                *o += f * v;
            }
        }
        for i in 0..pt {
            diag[i] += sw * ph[p + i] * ph[p + i];
        }
    }
}

/// Overwrite the kernel blocks with those of the exact base kernel.
fn set_base(b: &[f64], n: usize, p: usize, pt: usize, rows: &mut [f64], diag: &mut [f64]) {
    for i in 0..n {
        for j in 0..p {
            rows[i * p + j] = b[i * n + j];
        }
    }
    for i in 0..pt {
        diag[i] = b[(p + i) * n + p + i];
    }
}

/// Make the `m` draws `xi [m x r]` have sample mean exactly 0 and sample covariance
/// exactly `I` (moment-matched common random numbers): Gaussian expectations of
/// quadratic functions of the fields are then exact, which removes the sampling error
/// of the linear network entirely and reduces it for the others.
fn standardise(xi: &mut [f64], m: usize, r: usize) -> Result<()> {
    let mut mean = vec![0.0; r];
    for s in 0..m {
        for k in 0..r {
            mean[k] += xi[s * r + k] / m as f64;
        }
    }
    let mut c = vec![0.0; r * r];
    for s in 0..m {
        let row = &mut xi[s * r..(s + 1) * r];
        for k in 0..r {
            row[k] -= mean[k];
        }
        for i in 0..r {
            for j in 0..=i {
                c[i * r + j] += row[i] * row[j] / m as f64;
            }
        }
    }
    for i in 0..r {
        for j in 0..i {
            c[j * r + i] = c[i * r + j];
        }
    }
    let l = cholesky(&c, r)?;
    // xi <- L^{-1} xi (forward substitution per draw).
    for s in 0..m {
        let row = &mut xi[s * r..(s + 1) * r];
        for i in 0..r {
            let mut v = row[i];
            for k in 0..i {
                v -= l[i * r + k] * row[k];
            }
            row[i] = v / l[i * r + i];
        }
    }
    Ok(())
}

/// Damped moment matching of the proposal to the weighted samples `z`.
fn adapt(z: &[f64], w: &[f64], r: usize, alpha: f64, mu: &mut [f64], cov: &mut [f64]) {
    let mut mean = vec![0.0; r];
    for (s, &ws) in w.iter().enumerate() {
        for k in 0..r {
            mean[k] += ws * z[s * r + k];
        }
    }
    let mut c = vec![0.0; r * r];
    for (s, &ws) in w.iter().enumerate() {
        let zs = &z[s * r..(s + 1) * r];
        for i in 0..r {
            let di = ws * (zs[i] - mean[i]);
            for j in 0..=i {
                c[i * r + j] += di * (zs[j] - mean[j]);
            }
        }
    }
    for i in 0..r {
        for j in 0..i {
            c[j * r + i] = c[i * r + j];
        }
    }
    for k in 0..r {
        mu[k] = (1.0 - alpha) * mu[k] + alpha * mean[k];
    }
    for i in 0..r * r {
        cov[i] = (1.0 - alpha) * cov[i] + alpha * c[i];
    }
    for i in 0..r {
        cov[i * r + i] += 1e-9;
    }
}
