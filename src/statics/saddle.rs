//! The muP (mean-field) limit of a Bayesian two-layer network: the kernel saddle point
//! of Lauditi, Bordelon & Pehlevan (2025), docs/theory.md section 5.3.
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
//! Eliminating `PhiHat` through its stationarity condition leaves the fixed point
//! `Phi = T(Phi) = <phi phi^T>_{PhiHat(Phi)}`. Its Jacobian has large negative
//! eigenvalues (`a` is sensitive to the small eigenvalues of `Phi + I/beta`), so plain
//! damped iteration oscillates; the solver uses Anderson acceleration (depth `memory`,
//! mixing `mixing`) on the training block of `Phi`, and continuation in `gamma0`: the
//! target is reached in `stages` equal steps, each solved to `tol` starting from the
//! previous solution (at the target `gamma0`, the tilt evaluated at the NNGP kernel can
//! be too strong for the expectation to exist; the self-consistent kernel tames it).
//!
//! The tilted average is self-normalised importance sampling. Fields are written as
//! `h = A z` with `A A^T = C` over training and test points (rank `r`, so `P > D` is
//! fine) and `z` is drawn from a Gaussian proposal `q = N(mu, L L^T)` on `R^r` with
//! fixed common random numbers `z = mu + L xi`, the `xi` standardised to sample mean 0
//! and sample covariance `I` exactly. Weights
//!
//! ```text
//! log w_i = log N(z_i; 0, I) - log q(z_i) - phi_i^T PhiHat phi_i .
//! ```
//!
//! With the proposal frozen, `T` is a smooth deterministic map. With `adaptive`, after
//! each stage's solve the proposal is moment-matched to the tilted law at the solution
//! (its covariance widened by `1.3 widen` so that the next stage's stronger tilt stays
//! covered) and the stage is solved again; at the target this is repeated six times, the
//! last four fits widened by `widen` only. Widening keeps the proposal's tails heavier than
//! the tilted law's (for ReLU the tilt is quadratic in the fields on part of the space, and
//! an exactly moment-matched Gaussian would give weights of infinite variance). With
//! `widen = 1` and a linear network the tilted law is Gaussian, the final weights are
//! constant and the solution exact. `replicas` independent solves give error bars. With a `base` kernel (the exact `E_{N(0,C)} phi
//! phi^T`, i.e. the NNGP Gram matrix) the control variate
//!
//! ```text
//! Phi ≈ base + sum_i w_i phi_i phi_i^T - sum_i w0_i phi_i phi_i^T      (w0: weights without the tilt)
//! ```
//!
//! removes the sampling error of the untilted part: exact at `gamma0 = 0`, with an error
//! that scales with the size of the tilt. The history records every evaluation of `T`:
//! the stage's `gamma0`, the relative residual `|T(Phi) - Phi| / |Phi|`, the action `S`
//! and the effective sample size `1 / sum w_i^2`.

use super::nngp_posterior::{GpPosterior, gp_regression};
use crate::config::Activation;
use crate::data::{Dataset, gram};
use crate::error::{Error, Result, check_positive, check_range};
use crate::linalg::{
    cholesky, cholesky_logdet, cholesky_solve, cholesky_solve_columns, forward_substitute,
    frobenius, identity, psd_factor,
};
use crate::progress::{Progress, tick};
use crate::rng::{Stream, normals, stream};
use serde::{Deserialize, Serialize};

/// Options of the saddle-point solver.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SaddleConfig {
    /// Monte-Carlo samples of the fields for the tilted averages.
    pub samples: usize,
    /// Most evaluations of the fixed-point map, all stages together.
    pub iterations: usize,
    /// Continuation stages: gamma0 rises to its target in this many equal steps.
    pub stages: usize,
    /// Anderson mixing parameter in (0, 1] (the damping of the underlying iteration).
    pub mixing: f64,
    /// Anderson depth (0: plain damped iteration).
    pub memory: usize,
    /// Each stage stops when the relative residual falls below this.
    pub tol: f64,
    /// Adapt the Gaussian proposal to the tilted law.
    pub adaptive: bool,
    /// Use the exact untilted kernel as a control variate when one is given.
    pub control_variate: bool,
    /// Variance factor of the final proposal fit (> 1 keeps the proposal's tails heavier
    /// than the tilted law's, which the weights need to have finite variance for ReLU;
    /// 1 makes the linear network exact).
    pub widen: f64,
    /// Independent solves (different samples) averaged; their spread gives error bars.
    pub replicas: usize,
    /// Seed of the Monte-Carlo samples (replica k uses seed + k).
    pub seed: u64,
}

impl Default for SaddleConfig {
    fn default() -> Self {
        SaddleConfig {
            samples: 20_000,
            iterations: 1000,
            stages: 16,
            mixing: 0.5,
            memory: 6,
            tol: 1e-10,
            adaptive: true,
            control_variate: true,
            widen: 1.5,
            replicas: 1,
            seed: 0,
        }
    }
}

impl SaddleConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("saddle.samples", self.samples, 100, 2_000_000)?;
        check_range("saddle.iterations", self.iterations, 1, 100_000)?;
        check_range("saddle.stages", self.stages, 1, 10_000)?;
        check_range("saddle.mixing", self.mixing, 1e-6, 1.0)?;
        check_range("saddle.memory", self.memory, 0, 50)?;
        check_positive("saddle.tol", self.tol)?;
        check_range("saddle.widen", self.widen, 1.0, 10.0)?;
        check_range("saddle.replicas", self.replicas, 1, 64)?;
        Ok(())
    }

    /// Numbers in a [`SaddleResult`] on `P` training and `P_test` test points with `C`
    /// outputs: the kernels `[P x P]` (`phi`, `phi_hat`, `phi_se`), the test blocks, the
    /// posterior and the history (5 numbers per evaluation, at most `iterations`).
    pub fn result_numbers(&self, p: f64, pt: f64, c: f64) -> f64 {
        3.0 * p * p + pt * p + 2.0 * pt + p * c + p + 2.0 * pt * c + 5.0 * self.iterations as f64
    }

    /// Peak bytes of [`solve`] on `P` training and `P_test` test points (`n = P +
    /// P_test`) of dimension `D` with `C` outputs, f64 throughout: the inputs and their
    /// Gram matrix `[n x n]`; its eigendecomposition (two more) or, after it, the
    /// factor `A [n x r]` (`r = min(D, n)`), and per sample the standardised draws and
    /// proposal points (`2 r`), the activations `phi [n]` and the log weights; the kernel
    /// rows `[n x P]` of the evaluations and the Anderson history `[P x P]`; and the
    /// replicas' results.
    pub fn solve_bytes(&self, p: f64, pt: f64, d: f64, c: f64) -> f64 {
        let n = p + pt;
        let r = d.min(n);
        let m = self.samples as f64;
        let eigen = 2.0 * n * n + n * r;
        let sampling = n * r
            + m * (2.0 * r + n + 5.0)
            + 4.0 * n * p
            + 2.0 * r * r
            + (2.0 * self.memory as f64 + 6.0) * p * p;
        let results = self.replicas as f64 * self.result_numbers(p, pt, c);
        8.0 * (n * d + n * n + eigen.max(sampling) + results)
    }
}

/// One evaluation of the fixed-point map.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SaddleStep {
    pub iteration: usize,
    /// gamma0 of the continuation stage.
    pub gamma0: f64,
    /// `|T(Phi) - Phi| / |Phi|` (Frobenius, training block).
    pub rel_change: f64,
    /// The action S at (Phi, PhiHat(Phi)).
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
    /// The last stage reached `tol` (in every replica).
    pub converged: bool,
    /// Standard errors over replicas of `phi` and of `posterior.mean_test` (zeros for
    /// one replica).
    pub phi_se: Vec<f64>,
    pub mean_test_se: Vec<f64>,
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
    Ok(cholesky_solve_columns(&l, p, y, outputs))
}

/// The Monte-Carlo machinery: fields over all points, the proposal and its samples.
struct Sampler<'a> {
    act: Activation,
    p: usize,
    pt: usize,
    n: usize,
    r: usize,
    m: usize,
    /// `h = A z`, `A [n x r]`.
    a_mat: Vec<f64>,
    xi: Vec<f64>,
    base: Option<&'a [f64]>,
    y: &'a [f64],
    outputs: usize,
    ridge: f64,
    // Proposal.
    mu: Vec<f64>,
    cov: Vec<f64>,
    // Samples under the proposal.
    z: Vec<f64>,
    phis: Vec<f64>,
    lw0: Vec<f64>,
    /// Control-variate offset `base - sum_i w0_i phi_i phi_i^T` (rows, test diagonal).
    cv_rows: Vec<f64>,
    cv_diag: Vec<f64>,
}

/// One evaluation of the map at a training kernel.
struct Eval {
    rows: Vec<f64>,
    diag: Vec<f64>,
    weights: Vec<f64>,
    ess: f64,
    action: f64,
}

impl<'a> Sampler<'a> {
    /// The fields `h = A z` over training then test points (`A A^T = X X^T / D`, rank
    /// `r`), `m = samples` standardised draws `xi` from the seed's stream, and the
    /// samples of the standard normal proposal.
    fn new(
        act: Activation,
        data: &'a Dataset,
        base: Option<&'a [f64]>,
        cfg: &SaddleConfig,
        ridge: f64,
    ) -> Result<Self> {
        let (p, pt, d) = (data.p_train(), data.p_test(), data.dim);
        let n = p + pt;
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
        let mut sampler = Sampler {
            act,
            p,
            pt,
            n,
            r,
            m,
            a_mat,
            xi,
            base,
            y: &data.y_train,
            outputs: data.outputs,
            ridge,
            mu: vec![0.0; r],
            cov: identity(r),
            z: vec![0.0; m * r],
            phis: vec![0.0; m * n],
            lw0: vec![0.0; m],
            cv_rows: vec![],
            cv_diag: vec![],
        };
        sampler.resample()?;
        Ok(sampler)
    }
}

impl Sampler<'_> {
    /// Draw the samples of the current proposal.
    fn resample(&mut self) -> Result<()> {
        let (r, n, m) = (self.r, self.n, self.m);
        let lq = cholesky(&self.cov, r)?;
        // log det L = (1/2) log det (L L^T)
        let logdet_l = 0.5 * cholesky_logdet(&lq, r);
        for s in 0..m {
            let xs = &self.xi[s * r..(s + 1) * r];
            let zs = &mut self.z[s * r..(s + 1) * r];
            for i in 0..r {
                zs[i] = self.mu[i] + (0..=i).map(|k| lq[i * r + k] * xs[k]).sum::<f64>();
            }
            let zz: f64 = zs.iter().map(|v| v * v).sum();
            let xx: f64 = xs.iter().map(|v| v * v).sum();
            self.lw0[s] = -0.5 * zz + 0.5 * xx + logdet_l;
            let ph = &mut self.phis[s * n..(s + 1) * n];
            for (j, out) in ph.iter_mut().enumerate() {
                let h: f64 = (0..r).map(|k| self.a_mat[j * r + k] * zs[k]).sum();
                *out = self.act.phi(h);
            }
        }
        if let Some(b) = self.base {
            let (p, pt) = (self.p, self.pt);
            let w0 = normalise(&self.lw0);
            let mut rows = vec![0.0; n * p];
            let mut diag = vec![0.0; pt];
            set_base(b, n, p, pt, &mut rows, &mut diag);
            accumulate(&self.phis, &w0, n, p, pt, &mut rows, &mut diag, -1.0, 1.0);
            self.cv_rows = rows;
            self.cv_diag = diag;
        }
        Ok(())
    }

    /// Evaluate `T` at the training kernel `phi` with richness `g`.
    fn eval(&self, phi: &[f64], g: f64) -> Result<Eval> {
        let (p, pt, n, m) = (self.p, self.pt, self.n, self.m);
        let a = solve_targets(phi, p, self.ridge, self.y, self.outputs)?;
        let half_g2 = 0.5 * g * g;
        let lw: Vec<f64> = (0..m)
            .map(|s| {
                let ph = &self.phis[s * n..s * n + p];
                let t: f64 = a
                    .iter()
                    .map(|ac| {
                        let u: f64 = ac.iter().zip(ph).map(|(x, y)| x * y).sum();
                        u * u
                    })
                    .sum::<f64>();
                self.lw0[s] + half_g2 * t
            })
            .collect();
        let weights = normalise(&lw);
        let ess = 1.0 / weights.iter().map(|v| v * v).sum::<f64>() / m as f64;
        let log_e = logsumexp(&lw) - (m as f64).ln();
        let quad: f64 = a
            .iter()
            .enumerate()
            .map(|(c, ac)| {
                let phi_a: f64 = (0..p)
                    .map(|i| ac[i] * (0..p).map(|j| phi[i * p + j] * ac[j]).sum::<f64>())
                    .sum();
                let ya: f64 = (0..p).map(|i| self.y[i * self.outputs + c] * ac[i]).sum();
                phi_a + ya
            })
            .sum();
        let action = half_g2 * quad - log_e;
        if !action.is_finite() || !ess.is_finite() {
            return Err(Error::Numerical(format!(
                "saddle point: importance weights degenerate (gamma0 = {g})"
            )));
        }
        let (mut rows, mut diag) = if self.base.is_some() {
            (self.cv_rows.clone(), self.cv_diag.clone())
        } else {
            (vec![0.0; n * p], vec![0.0; pt])
        };
        accumulate(
            &self.phis, &weights, n, p, pt, &mut rows, &mut diag, 1.0, 1.0,
        );
        // Symmetrise the training block.
        for i in 0..p {
            for j in 0..i {
                let v = 0.5 * (rows[i * p + j] + rows[j * p + i]);
                rows[i * p + j] = v;
                rows[j * p + i] = v;
            }
        }
        Ok(Eval {
            rows,
            diag,
            weights,
            ess,
            action,
        })
    }

    /// Moment-match the proposal to the weighted samples.
    fn adapt(&mut self, weights: &[f64], widen: f64) -> Result<()> {
        let r = self.r;
        let mut mean = vec![0.0; r];
        for (zs, &ws) in self.z.chunks(r).zip(weights) {
            for (m, v) in mean.iter_mut().zip(zs) {
                *m += ws * v;
            }
        }
        let mut c = vec![0.0; r * r];
        for (s, &ws) in weights.iter().enumerate() {
            let zs = &self.z[s * r..(s + 1) * r];
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
            c[i * r + i] += 1e-9;
        }
        for v in c.iter_mut() {
            *v *= widen;
        }
        self.mu = mean;
        self.cov = c;
        self.resample()
    }
}

/// Solve the two-layer muP saddle point for `data` (training and test points), network
/// activation `act`, richness `gamma0` and inverse temperature `beta` (`f64::INFINITY`
/// allowed). `base`, if given, is the exact untilted Gram matrix `E phi phi^T` over the
/// training then test points (`[n x n]`, `n = P + P_test`; the NNGP kernel of one hidden
/// layer), used as a control variate. One replica; see [`solve`].
pub fn solve_once(
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
    let n = data.p_train() + data.p_test();
    if let Some(b) = base
        && b.len() != n * n
    {
        return Err(Error::Data("base kernel has the wrong shape".into()));
    }
    let base = if cfg.control_variate { base } else { None };
    let mut sampler = Sampler::new(act, data, base, cfg, 1.0 / beta)?;
    let solved = continuation(&mut sampler, gamma0, cfg, progress)?;
    solution(data, gamma0, beta, solved)
}

/// The fixed point at the target `gamma0` and what led there.
struct Solved {
    /// The training block of `Phi` `[P x P]`.
    phi: Vec<f64>,
    /// The map evaluated at `phi` (its test rows and diagonal give `Phi(x, X)`).
    last: Eval,
    history: Vec<SaddleStep>,
    converged: bool,
}

/// Continuation in `gamma0` (module doc): from the untilted kernel (at `g = 0` the map
/// does not depend on `Phi`: one evaluation gives it), stage `k` of `stages` solves at
/// `g = gamma0 k / stages` with [`anderson`], starting from the previous stage's
/// solution. With `adaptive`, each stage then refits the proposal to its tilted law and
/// solves again (six times at the target). Intermediate fits are widened further
/// (variance x 1.3) so the next stage's stronger tilt stays covered, and intermediate
/// solves only need to be good starting points (`tol` at least `1e-6`). Stops early once
/// `iterations` evaluations are spent; converged if the last solve reached `tol` at the
/// target.
fn continuation(
    sampler: &mut Sampler,
    gamma0: f64,
    cfg: &SaddleConfig,
    progress: &dyn Progress,
) -> Result<Solved> {
    let p = sampler.p;
    let mut last = sampler.eval(&identity(p), 0.0)?;
    let mut phi: Vec<f64> = last.rows[..p * p].to_vec();
    let mut history = Vec::new();
    let mut converged = false;
    let mut evals = 0usize;
    for stage in 1..=cfg.stages {
        let g = gamma0 * stage as f64 / cfg.stages as f64;
        let last_stage = stage == cfg.stages;
        let adapts = match (cfg.adaptive && g > 0.0, last_stage) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => 6,
        };
        let loose = cfg.tol.max(1e-6);
        let tol = if adapts == 0 && last_stage {
            cfg.tol
        } else {
            loose
        };
        let (x, e, ok) = anderson(
            sampler,
            &phi,
            g,
            tol,
            cfg,
            &mut evals,
            &mut history,
            progress,
        )?;
        phi = x;
        last = e;
        converged = ok;
        for k in 0..adapts {
            let tol = if last_stage && k + 1 == adapts {
                cfg.tol
            } else {
                loose
            };
            let widen = if last_stage && k >= 2 {
                cfg.widen
            } else {
                1.3 * cfg.widen
            };
            sampler.adapt(&last.weights, widen)?;
            let (x, e, ok) = anderson(
                sampler,
                &phi,
                g,
                tol,
                cfg,
                &mut evals,
                &mut history,
                progress,
            )?;
            phi = x;
            last = e;
            converged = ok;
        }
        if evals >= cfg.iterations {
            break;
        }
    }
    converged = converged && history.last().is_some_and(|h| h.gamma0 == gamma0);
    Ok(Solved {
        phi,
        last,
        history,
        converged,
    })
}

/// The result at the solved kernel: `PhiHat = -(gamma0^2/2) sum_c a_c a_c^T` with
/// `a_c = (Phi + I/beta)^{-1} y_c`, and the predictor `Phi(x, X) (Phi + I/beta)^{-1} y`
/// with variances scaled by `1 / gamma0^2`.
fn solution(data: &Dataset, gamma0: f64, beta: f64, solved: Solved) -> Result<SaddleResult> {
    let (p, pt) = (data.p_train(), data.p_test());
    let Solved {
        phi,
        last,
        history,
        converged,
    } = solved;
    let ridge = 1.0 / beta;
    let a = solve_targets(&phi, p, ridge, &data.y_train, data.outputs)?;
    let mut phi_hat = vec![0.0; p * p];
    for ac in &a {
        for i in 0..p {
            for j in 0..p {
                phi_hat[i * p + j] -= 0.5 * gamma0 * gamma0 * ac[i] * ac[j];
            }
        }
    }
    let phi_cross = last.rows[p * p..].to_vec();
    let test_diag = last.diag;
    let posterior = gp_regression(
        &phi,
        &phi_cross,
        &test_diag,
        &data.y_train,
        data.outputs,
        ridge,
        1.0 / (gamma0 * gamma0).max(1e-300),
    )?;
    Ok(SaddleResult {
        gamma0,
        beta,
        phi,
        phi_hat,
        phi_cross,
        phi_test_diag: test_diag,
        posterior,
        history,
        converged,
        phi_se: vec![0.0; p * p],
        mean_test_se: vec![0.0; pt * data.outputs],
    })
}

/// [`solve_once`] for `cfg.replicas` independent sample sets (seeds `seed + k`): the
/// kernels are averaged, the predictor recomputed from the averaged kernels, and the
/// spread over replicas gives standard errors. The history is that of the first replica.
pub fn solve(
    act: Activation,
    data: &Dataset,
    gamma0: f64,
    beta: f64,
    base: Option<&[f64]>,
    cfg: &SaddleConfig,
    progress: &dyn Progress,
) -> Result<SaddleResult> {
    let k = cfg.replicas.max(1);
    let runs: Vec<SaddleResult> = (0..k)
        .map(|i| {
            let c = SaddleConfig {
                seed: cfg.seed.wrapping_add(i as u64),
                ..cfg.clone()
            };
            solve_once(act, data, gamma0, beta, base, &c, progress)
        })
        .collect::<Result<_>>()?;
    if k == 1 {
        return Ok(runs.into_iter().next().unwrap_or_else(|| unreachable!()));
    }
    let avg = |f: &dyn Fn(&SaddleResult) -> &Vec<f64>| -> (Vec<f64>, Vec<f64>) {
        let rows: Vec<Vec<f64>> = runs.iter().map(|r| f(r).clone()).collect();
        super::langevin::mean_se(&rows)
    };
    let (phi, phi_se) = avg(&|r| &r.phi);
    let (phi_cross, _) = avg(&|r| &r.phi_cross);
    let (diag, _) = avg(&|r| &r.phi_test_diag);
    let (_, mean_test_se) = avg(&|r| &r.posterior.mean_test);
    let (phi_hat, _) = avg(&|r| &r.phi_hat);
    let posterior = gp_regression(
        &phi,
        &phi_cross,
        &diag,
        &data.y_train,
        data.outputs,
        1.0 / beta,
        1.0 / (gamma0 * gamma0).max(1e-300),
    )?;
    let converged = runs.iter().all(|r| r.converged);
    let first = runs.into_iter().next().unwrap_or_else(|| unreachable!());
    Ok(SaddleResult {
        phi,
        phi_hat,
        phi_cross,
        phi_test_diag: diag,
        posterior,
        converged,
        phi_se,
        mean_test_se,
        ..first
    })
}

/// Anderson-accelerated fixed-point iteration `Phi = T(Phi)` at richness `g` from
/// `phi0`. Returns the last iterate, the evaluation of `T` there and whether the
/// relative residual reached `tol`. A step that leaves `Phi + I/beta` indefinite is
/// retried as a damped step with the history cleared.
#[allow(clippy::too_many_arguments)]
fn anderson(
    s: &Sampler,
    phi0: &[f64],
    g: f64,
    tol: f64,
    cfg: &SaddleConfig,
    evals: &mut usize,
    history: &mut Vec<SaddleStep>,
    progress: &dyn Progress,
) -> Result<(Vec<f64>, Eval, bool)> {
    let p = s.p;
    let d = p * p;
    let mut x = phi0.to_vec();
    let mut e = s.eval(&x, g)?;
    let mut dx: Vec<Vec<f64>> = Vec::new();
    let mut df: Vec<Vec<f64>> = Vec::new();
    let mut prev: Option<(Vec<f64>, Vec<f64>)> = None;
    let mut mix = cfg.mixing;
    loop {
        let f: Vec<f64> = (0..d).map(|i| e.rows[i] - x[i]).collect();
        let rel = frobenius(&f) / frobenius(&x).max(1e-300);
        history.push(SaddleStep {
            iteration: *evals,
            gamma0: g,
            rel_change: rel,
            action: e.action,
            ess_fraction: e.ess,
        });
        *evals += 1;
        tick(progress, "saddle", *evals as u64, cfg.iterations as u64)?;
        if rel < tol {
            return Ok((x, e, true));
        }
        if *evals >= cfg.iterations {
            return Ok((x, e, false));
        }
        if let Some((px, pf)) = &prev {
            dx.push((0..d).map(|i| x[i] - px[i]).collect());
            df.push((0..d).map(|i| f[i] - pf[i]).collect());
            if dx.len() > cfg.memory {
                dx.remove(0);
                df.remove(0);
            }
        }
        // Least squares min |f - DF gamma|.
        let k = df.len();
        let mut step: Vec<f64> = (0..d).map(|i| x[i] + mix * f[i]).collect();
        if k > 0 {
            let mut gram = vec![0.0; k * k];
            let mut rhs = vec![0.0; k];
            for a in 0..k {
                for b in 0..k {
                    gram[a * k + b] = df[a].iter().zip(&df[b]).map(|(u, v)| u * v).sum();
                }
                rhs[a] = df[a].iter().zip(&f).map(|(u, v)| u * v).sum();
            }
            let tr: f64 = (0..k).map(|a| gram[a * k + a]).sum::<f64>() / k as f64;
            for a in 0..k {
                gram[a * k + a] += 1e-10 * tr.max(1e-300);
            }
            if let Ok(l) = cholesky(&gram, k) {
                let gam = cholesky_solve(&l, k, &rhs);
                for (a, ga) in gam.iter().enumerate() {
                    for i in 0..d {
                        step[i] -= ga * (dx[a][i] + mix * df[a][i]);
                    }
                }
            }
        }
        // Symmetrise and try the step; fall back to a damped step on failure.
        for i in 0..p {
            for j in 0..i {
                let v = 0.5 * (step[i * p + j] + step[j * p + i]);
                step[i * p + j] = v;
                step[j * p + i] = v;
            }
        }
        match s.eval(&step, g) {
            Ok(ne) => {
                prev = Some((x, f));
                x = step;
                e = ne;
            }
            Err(_) => {
                dx.clear();
                df.clear();
                prev = None;
                mix *= 0.5;
                if mix < 1e-6 {
                    return Err(Error::Numerical(
                        "saddle point: iteration left the positive definite cone".into(),
                    ));
                }
                let damped: Vec<f64> = (0..d).map(|i| x[i] + mix * f[i]).collect();
                e = s.eval(&damped, g)?;
                x = damped;
            }
        }
    }
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
    // xi <- L^{-1} xi, draw by draw.
    for row in xi.chunks_mut(r) {
        forward_substitute(&l, r, row);
    }
    Ok(())
}
