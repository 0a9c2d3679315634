//! Discrete-time DMFT of full-batch GD in the mean-field / muP network (docs/theory.md
//! section 3): the N -> infinity limit of the finite engine's `param = mup`,
//! `model.centered = true`, `optimizer = gd` runs, step for step.
//!
//! Single-site process of hidden layer `l = 1..L` (`Phi^0 = X X^T / D`, `G^{L+1} = 1`),
//! for points `mu` and steps `t`, with strictly causal sums `s < t` unless noted:
//!
//! ```text
//! h^l(t) = u^l(t) + sum_{s<t} [ R^{l-1}(t,s) + (eta gamma0 / P) Phi^{l-1}(t,s) Delta(s) ] g^l(s)
//! z^l(t) = r^l(t) + sum_{s<=t} B^l(t,s) phi(h^l(s)) + (eta gamma0 / P) sum_{s<t} G^{l+1}(t,s) Delta(s) phi(h^l(s))
//! g^l    = phi'(h^l) z^l,     u^l ~ GP(0, Phi^{l-1}),   r^l ~ GP(0, G^{l+1})
//! R^l(t,s) = < d phi(h^l(t)) / d r^l(s) >,   B^l(t,s) = < d g^{l+1}(t) / d u^{l+1}(s) >
//! f(t)   = < z^L(t) phi(h^L(t)) > / gamma0  (minus its t = 0 value: centred output)
//! Delta(t) = y - f(t),   loss(t) = (1/2P) |Delta(t)|^2
//! ```
//!
//! (`Delta(s)` acts as a diagonal matrix on the point index.) The responses are those of
//! docs/theory.md section 3.2: the papers' factor `eta gamma0 / P` in front of the
//! responses is part of `R` and `B` here. `B^l` has an equal-time part
//! `B^l(t,t) = diag < phi''(h^{l+1}(t)) z^{l+1}(t) >`: the backward pass at step t sees
//! the same weights as the forward pass, which gradient independence would drop.
//!
//! The output is read from the fields, which is exact in discrete time; integrating
//! `Delta(t+1) = Delta(t) - (eta/P) NTK(t) Delta(t)` is only first order in eta, and
//! with ReLU (whose phi'' is a delta at the kink) that error is what made the NTK form
//! disagree with finite networks (docs/theory.md section 3.6). `NTK(t) = G^1(t,t) o Phi^0 +
//! sum_l G^{l+1}(t,t) o Phi^l(t,t)` is still reported.
//!
//! Solvers: [`two_layer`] (L = 1, any activation, one causal sweep), [`deep`] (L >= 2,
//! Monte Carlo with responses and damped iteration), [`linear`] (phi = identity, closed
//! form, no sampling).

pub mod deep;
pub mod linear;
pub mod products;
pub mod two_layer;

use crate::backend::{BackendReport, Device, DeviceChoice};
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::config::{Activation, Arch, OptimizerConfig, Parameterization, TrainConfig};
use crate::error::{Error, Result, check_range};
use crate::kind::Kind;
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

/// Largest number of training points a DMFT may use.
pub const MAX_POINTS: usize = 512;
/// Largest `P (T + 1)` of the deep solvers (their kernels are `[P(T+1)]^2`).
pub const MAX_PT: usize = 2048;
/// Largest estimated work (flops) of one solve.
pub const MAX_WORK: f64 = 5e12;
/// Largest number of Monte Carlo samples.
pub const MAX_SAMPLES: usize = 1 << 20;

/// Default cap on the deep solvers' fixed-point iterations: room for `T` up to ~190.
pub const DEFAULT_ITERATIONS: usize = 200;

/// A DMFT computation: the training setup plus the solver's knobs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DmftConfig {
    /// Data, activation, depth, gamma0 (`param.gamma0`), eta (`optimizer.lr`, GD),
    /// steps T, seed, and `observe.every` for the recorded kernels.
    pub train: TrainConfig,
    /// Monte Carlo samples S of the single-site process.
    pub samples: usize,
    /// Most fixed-point iterations (deep solvers). The deep iteration settles causally,
    /// about one step per iteration, and stops once every step has settled (about
    /// `T + 5` iterations), so this is a cap; fewer end with a warning naming the
    /// settled steps.
    pub iterations: usize,
    /// Mixing weight of the new iterate: `K <- damping K_new + (1 - damping) K_old`
    /// (1 = undamped, the default: with common random numbers the iteration is a
    /// deterministic causal map that converges undamped in the tested regimes; use
    /// 0.6-0.8 if the history oscillates).
    pub damping: f64,
}

impl Default for DmftConfig {
    fn default() -> Self {
        let mut train = TrainConfig::default();
        train.model.centered = true;
        DmftConfig {
            train,
            samples: 2000,
            iterations: DEFAULT_ITERATIONS,
            damping: 1.0,
        }
    }
}

impl DmftConfig {
    /// Range-check every field and whether the solvers can take the setup (see
    /// [`check_solvable`]); errors name the field path (`train.model.arch`).
    pub fn validate(&self) -> Result<()> {
        self.train.validate().map_err(|e| e.within("train"))?;
        check_range("samples", self.samples, 1, MAX_SAMPLES)?;
        check_range("iterations", self.iterations, 1, 1000)?;
        check_range("damping", self.damping, 1e-3, 1.0)?;
        check_solvable(&self.train, self.samples, self.iterations).map_err(|e| e.within("train"))
    }
}

/// Whether the DMFT solvers take a training setup with `samples` Monte Carlo samples
/// and at most `iterations` fixed-point iterations: full-batch GD on an MLP, at most
/// [`MAX_POINTS`] training points, `P (T + 1) <= MAX_PT` for the deep and deep linear
/// solvers, and work within [`MAX_WORK`]. Checked from the config alone, before any data
/// is made; errors name fields relative to the training setup (`model.arch`).
pub fn check_solvable(train: &TrainConfig, samples: usize, iterations: usize) -> Result<()> {
    if !matches!(train.optimizer, OptimizerConfig::Gd { .. }) {
        return Err(Error::config(
            "optimizer.kind",
            "gd (the DMFT describes full-batch gradient descent)",
        ));
    }
    if train.model.arch != Arch::Mlp {
        return Err(Error::config(
            "model.arch",
            "mlp (the DMFT solvers cover MLPs)",
        ));
    }
    let (_, _, p, pt) = crate::budget::data_shape(train);
    let (p, pt) = (p as usize, pt as usize);
    check_range("data (training points)", p, 1, MAX_POINTS)?;
    let depth = train.model.depth;
    let n = p * (train.steps + 1);
    if depth > 1 && n > MAX_PT {
        return Err(Error::config(
            "steps",
            format!(
                "P (T + 1) <= {MAX_PT} for the deep DMFT (P = {p} training points, T = {} steps)",
                train.steps
            ),
        ));
    }
    let work = solve_work(
        train.model.activation,
        depth,
        p,
        pt,
        train.steps,
        samples,
        iterations,
    );
    if work > MAX_WORK {
        return Err(Error::Budget(format!(
            "the DMFT of this setup needs an estimated {work:.2e} flops > {MAX_WORK:.0e}; use fewer samples, steps or points"
        )));
    }
    Ok(())
}

/// Estimated flops of the solver that takes this setup, the initial kernels by
/// quadrature included (the same estimates the solvers check against [`MAX_WORK`]).
pub fn solve_work(
    act: Activation,
    depth: usize,
    p: usize,
    pt: usize,
    steps: usize,
    samples: usize,
    iterations: usize,
) -> f64 {
    let n_all = (p + pt) as f64;
    let n_deep = (p * (steps + 1)) as f64;
    let init = crate::theory::kernels::kernel_work(act, p + pt, depth);
    init + match (depth, act == Activation::Linear) {
        (1, true) => 8.0 * steps as f64 * n_all * n_all,
        (1, false) => 6.0 * samples as f64 * steps as f64 * (n_all * p as f64 + n_all),
        (_, true) => 12.0 * n_deep.powi(3) * (depth * iterations) as f64,
        _ => deep::marching_work(p, steps, samples, depth, iterations),
    }
}

impl Kind for DmftConfig {
    type Output = DmftResult;

    fn validate(&self) -> Result<()> {
        DmftConfig::validate(self)
    }

    fn cost(&self) -> Cost {
        dmft_cost(&self.train, self.samples, self.iterations)
    }

    fn run(&self, progress: &dyn Progress) -> Result<DmftResult> {
        solve(self, progress)
    }

    fn csv(&self, out: &DmftResult) -> Vec<(String, String)> {
        dmft_csv(out)
    }
}

/// Memory and work of the solver that takes a training setup ([`solve`]), with `S =
/// samples`, `P` training and `P_test` test points, `n = P + P_test`, depth `L`, `T`
/// steps and `m = P (T + 1)` grid points of the deep solvers (f64 throughout):
///
/// - the problem: the data and their joint input kernel `[n x n]`;
/// - two-layer, linear ([`linear::two_layer`]): `A [n x n]`, and `A Phi^0`,
///   `A Phi^0 A^T` at a record;
/// - two-layer, sampled ([`two_layer`]): the input kernel's factor and the exact
///   kernels at initialisation (up to 8 `[n x n]` while they are computed, 5 kept);
///   noises, fields, `phi`, `phi' z` `[S x n]`; the sample kernels and corrections
///   `[n x P]`;
/// - deep, linear ([`linear::deep`]): kernels, responses `[m x m]` per layer
///   (`4 L + 2`), and about 16 `[m x m]` products while a layer is updated;
/// - deep, sampled ([`deep`]): kernels and responses `[m x m]` per layer, twice (the
///   whole grid and the iteration's horizon), the sweeps' causal operators, the Stein
///   regression's moments and factors (`8 L + 8` in all); sources, fields and the
///   antithetic sweeps' fields `[m x S]` (11 at once);
/// - the result: losses `[T + 1]`, outputs `[(T + 1) x P]`, per record `2 L + 1`
///   kernels `[P x P]`, the test outputs, and its JSON.
///
/// Work as [`solve_work`] (the deep sampled solver's marching, [`deep::marching_work`]).
pub fn dmft_cost(cfg: &TrainConfig, samples: usize, iterations: usize) -> Cost {
    let mut cost = dmft_cost_shaped(cfg, crate::budget::data_shape(cfg), samples, iterations);
    cost.json_bytes = cost
        .json_bytes
        .saturating_add(saturate(crate::budget::payload_json_bytes(&cfg.data)));
    cost
}

/// [`dmft_cost`] with the data's `(D, C, P, P_test)` given (`cfg`'s data is not read),
/// the record's JSON without the config's data.
pub fn dmft_cost_shaped(
    cfg: &TrainConfig,
    shape: (u64, u64, u64, u64),
    samples: usize,
    iterations: usize,
) -> Cost {
    let (d, _, p, pt) = shape;
    let depth = cfg.model.depth;
    let linear = cfg.model.activation == Activation::Linear;
    let (d, p, pt, s) = (d as f64, p as f64, pt as f64, samples as f64);
    let n = p + pt;
    let t = cfg.steps as f64 + 1.0;
    let m = p * t;
    let l = depth as f64;
    let problem = crate::budget::dataset_bytes(shape) + 8.0 * (n * n + n * d);
    let working = match (depth, linear) {
        (1, true) => 3.0 * n * n,
        (1, false) => (9.0 * n * n + 2.0 * s * n).max(6.0 * n * n + 4.0 * s * n) + 8.0 * n * p,
        (_, true) => (4.0 * l + 18.0) * m * m,
        _ => (8.0 * l + 8.0) * m * m + 11.0 * m * s,
    };
    let records = crate::nn::kind::record_count(cfg.steps, cfg.observe.every) as f64;
    let history = if depth == 1 { 1.0 } else { iterations as f64 };
    let result = t * (1.0 + p) + records * (1.0 + (2.0 * l + 1.0) * p * p) + pt + history;
    let work = solve_work(
        cfg.model.activation,
        depth,
        p as usize,
        pt as usize,
        cfg.steps,
        samples,
        iterations,
    );
    Cost {
        bytes: saturate(problem + 8.0 * (working + result)),
        cell_bytes: 0,
        json_bytes: saturate(JSON_BYTES_PER_NUMBER * result),
        flops: work,
    }
}

/// `dmft_loss`: `step,loss`; `dmft_history`: `iteration,change`.
pub fn dmft_csv(r: &DmftResult) -> Vec<(String, String)> {
    let mut s = String::from("step,loss\n");
    for (t, l) in r.loss.iter().enumerate() {
        s.push_str(&format!("{t},{l}\n"));
    }
    let mut h = String::from("iteration,change\n");
    for (i, c) in r.history.iter().enumerate() {
        h.push_str(&format!("{i},{c}\n"));
    }
    vec![("dmft_loss".into(), s), ("dmft_history".into(), h)]
}

/// What a DMFT solve returns.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct DmftResult {
    /// `loss[t] = (1/2P) |Delta(t)|^2`, `t = 0..=T`, before update t like the finite engine.
    pub loss: Vec<f64>,
    /// `outputs[t]`: centred `f(t)` on the training set `[P]`, `t = 0..=T`.
    pub outputs: Vec<Vec<f64>>,
    /// `phi[record][layer]`: equal-time `Phi^l(t,t)` `[P x P]`, layer 0 = first hidden.
    pub phi: Vec<Vec<Vec<f64>>>,
    /// `g[record][layer]`: equal-time `G^l(t,t)` `[P x P]`.
    pub g: Vec<Vec<Vec<f64>>>,
    /// `ntk[record]`: `NTK(t)` `[P x P]`, normalised like the finite engine's.
    pub ntk: Vec<Vec<f64>>,
    /// Steps of the records (every `observe.every`, and the last).
    pub record_steps: Vec<usize>,
    /// Relative change of the kernels per iteration (one entry for one-sweep solvers).
    pub history: Vec<f64>,
    /// Non-fatal problems (non-convergence, ignored settings).
    pub warnings: Vec<String>,
    /// Final centred `f(T)` on the test points (two-layer solvers; empty otherwise).
    pub test_outputs: Vec<f64>,
    /// Where the Monte Carlo products ran, and why not on a GPU that was asked for or
    /// failed mid-solve (the closed forms run on the CPU).
    #[serde(default)]
    pub backend: BackendReport,
    /// Kernel estimates (and Stein covariances) of the deep solver computed on a GPU, by
    /// compensated products ([`products`] module); 0 on the CPU.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub device_kernel_estimates: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The numbers every solver needs, extracted and checked once.
#[derive(Clone)]
pub(crate) struct Problem {
    pub p: usize,
    pub pt: usize,
    /// Joint input kernel of training then test points, `[(P + P_test)^2]`.
    pub kx_all: Vec<f64>,
    pub y: Vec<f64>,
    pub eta: f64,
    pub gamma0: f64,
    pub steps: usize,
    pub every: usize,
    pub act: Activation,
    pub depth: usize,
    pub seed: u64,
    pub samples: usize,
    pub iterations: usize,
    pub damping: f64,
    /// A loss above this (observe.divergence_threshold) counts as divergence.
    pub threshold: f64,
    pub warnings: Vec<String>,
}

impl Problem {
    pub fn new(cfg: &DmftConfig) -> Result<Self> {
        cfg.validate()?;
        let tc = &cfg.train;
        let data = tc.data.load()?;
        let (p, pt) = (data.p_train(), data.p_test());
        check_range("train.data (training points)", p, 1, MAX_POINTS)?; // CSV: known once parsed
        let mut warnings = vec![];
        if data.outputs > 1 {
            warnings.push(format!(
                "{} outputs: the DMFT follows the first output only",
                data.outputs
            ));
        }
        if !matches!(tc.param, Parameterization::Mup { .. }) {
            warnings.push(format!(
                "param {} is read as muP with gamma0 = {}",
                tc.param.name(),
                tc.param.gamma0()
            ));
        }
        if !tc.model.centered {
            warnings.push("the DMFT output is centred (f - f(0)); model.centered is false".into());
        }
        let mut x = data.x_train.clone();
        x.extend_from_slice(&data.x_test);
        let kx_all = crate::data::gram(&x, &x, data.dim);
        Ok(Problem {
            p,
            pt,
            kx_all,
            y: data.y_scalar(),
            eta: tc.optimizer.lr(),
            gamma0: tc.param.gamma0(),
            steps: tc.steps,
            every: tc.observe.every.max(1),
            act: tc.model.activation,
            depth: tc.model.depth,
            seed: tc.seed,
            samples: cfg.samples,
            iterations: cfg.iterations,
            damping: cfg.damping,
            threshold: tc.observe.divergence_threshold,
            warnings,
        })
    }

    /// Training block of the input kernel `[P x P]`.
    pub fn kx(&self) -> Vec<f64> {
        let n = self.p + self.pt;
        let mut k = vec![0.0; self.p * self.p];
        for i in 0..self.p {
            k[i * self.p..(i + 1) * self.p].copy_from_slice(&self.kx_all[i * n..i * n + self.p]);
        }
        k
    }

    pub fn is_record(&self, t: usize) -> bool {
        t.is_multiple_of(self.every) || t == self.steps
    }

    pub fn loss(&self, delta: &[f64]) -> f64 {
        delta.iter().map(|d| d * d).sum::<f64>() / (2.0 * self.p as f64)
    }

    /// Flops of the largest Monte Carlo product (a kernel estimate over all samples):
    /// the work between two host synchronisations, for the device choice.
    pub fn product_flops(&self) -> f64 {
        let n = if self.depth == 1 {
            self.p + self.pt
        } else {
            self.p * (self.steps + 1)
        };
        2.0 * self.samples as f64 * (n * n) as f64
    }

    /// Check the estimated work against [`MAX_WORK`].
    pub fn budget(&self, what: &str, work: f64) -> Result<()> {
        if work > MAX_WORK {
            return Err(Error::Budget(format!(
                "{what}: estimated {work:.2e} flops > {MAX_WORK:.0e}; use fewer samples, \
                 steps or points"
            )));
        }
        Ok(())
    }
}

/// phi''(x), with 0 for ReLU (its delta at the kink is dropped) and linear.
#[cfg(test)]
pub(crate) fn ddphi(act: Activation, x: f64) -> f64 {
    match act {
        Activation::Tanh => {
            let t = x.tanh();
            -2.0 * t * (1.0 - t * t)
        }
        Activation::Erf => -2.0 * x * std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp(),
        Activation::Gelu => {
            let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
            pdf * (2.0 - x * x)
        }
        Activation::Relu | Activation::Linear => 0.0,
    }
}

/// Solve the DMFT of `cfg`: two-layer sweep for depth 1, closed form for linear
/// activations, Monte Carlo iteration otherwise. The Monte Carlo products run on the
/// device [`crate::backend::select`] picks (CPU unless the problem is large and a
/// hardware GPU exists, or `SCALING_PLAYGROUND_DEVICE` says otherwise).
pub fn solve(cfg: &DmftConfig, progress: &dyn Progress) -> Result<DmftResult> {
    solve_with(DeviceChoice::Auto, cfg, progress)
}

/// Solve with the Monte Carlo products on the device picked for `choice`; a device
/// that is not the one asked for, or that fails mid-solve, is noted in `warnings`.
pub fn solve_with(
    choice: DeviceChoice,
    cfg: &DmftConfig,
    progress: &dyn Progress,
) -> Result<DmftResult> {
    let pr = Problem::new(cfg)?;
    if pr.act == Activation::Linear {
        return solve_problem(&pr, None, false, progress);
    }
    let mut dev = products::Products::select(choice, pr.product_flops());
    solve_problem(&pr, Some(&mut dev), false, progress)
}

/// Solve with the Monte Carlo products on `device` (closed forms ignore it). A GPU that
/// fails mid-solve is replaced by the CPU and `warnings` says so.
pub fn solve_on(device: Device, cfg: &DmftConfig, progress: &dyn Progress) -> Result<DmftResult> {
    let pr = Problem::new(cfg)?;
    let mut dev = products::Products::on(device);
    solve_problem(&pr, Some(&mut dev), false, progress)
}

/// [`solve_on`] the CPU with the deep solver's Monte Carlo sample blocks
/// ([`deep::sample_blocks`]) dealt to `workers` workers, each keeping its own blocks'
/// fields and causal operators, their sums combined in block order: the numbers are the
/// same for every `workers` (and equal [`solve_on`] the CPU), bit for bit. The other
/// solvers do not split.
pub fn solve_split(
    cfg: &DmftConfig,
    workers: usize,
    progress: &dyn Progress,
) -> Result<DmftResult> {
    let pr = Problem::new(cfg)?;
    let mut dev = products::Products::on(Device::Cpu);
    if split_blocks(cfg) == 0 {
        return solve_problem(&pr, Some(&mut dev), false, progress);
    }
    let res = deep::solve_split(&pr, &mut dev, progress, workers)?;
    sampled_result(res, &mut dev, pr.threshold)
}

/// Sample blocks ([`deep::sample_blocks`]) that a solve of `cfg` can deal to workers
/// ([`solve_split`], the page's workers): those of the deep Monte Carlo solver (depth
/// `>= 2`, a nonlinear activation); 0 for the other solvers, which do not split.
pub fn split_blocks(cfg: &DmftConfig) -> usize {
    let m = &cfg.train.model;
    if m.depth > 1 && m.activation != Activation::Linear {
        deep::sample_blocks(cfg.samples).len()
    } else {
        0
    }
}

/// A Monte Carlo solver's result with where its products ran (`dev`), the device's
/// warnings, and the divergence check ([`check_finite`]).
pub(crate) fn sampled_result(
    mut res: DmftResult,
    dev: &mut products::Products,
    threshold: f64,
) -> Result<DmftResult> {
    res.backend = dev.backend();
    res.device_kernel_estimates = dev.compensated_on_device;
    res.warnings.append(&mut dev.warnings);
    check_finite(res, threshold)
}

/// Solve by Monte Carlo even where a closed form exists (linear activations): the
/// two-layer sampler for depth 1, the deep sampler otherwise. For checking one against
/// the other.
pub fn solve_monte_carlo(cfg: &DmftConfig, progress: &dyn Progress) -> Result<DmftResult> {
    let pr = Problem::new(cfg)?;
    let mut dev = products::Products::select(DeviceChoice::Auto, pr.product_flops());
    solve_problem(&pr, Some(&mut dev), true, progress)
}

fn solve_problem(
    pr: &Problem,
    dev: Option<&mut products::Products>,
    monte_carlo: bool,
    progress: &dyn Progress,
) -> Result<DmftResult> {
    let linear = pr.act == Activation::Linear && !monte_carlo;
    let mut cpu = products::Products::on(Device::Cpu);
    let dev = dev.unwrap_or(&mut cpu);
    let res = match (pr.depth, linear) {
        (1, true) => linear::two_layer(pr, progress),
        (1, false) => two_layer::solve(pr, dev, progress),
        (_, true) => linear::deep(pr, progress),
        _ => deep::solve(pr, dev, progress),
    }?;
    if linear {
        let mut res = res;
        res.warnings.append(&mut dev.warnings);
        return check_finite(res, pr.threshold);
    }
    sampled_result(res, dev, pr.threshold)
}

/// Never hand back silent NaN: a loss that is not finite or exceeds the divergence
/// threshold is an error naming the step.
pub(crate) fn check_finite(res: DmftResult, threshold: f64) -> Result<DmftResult> {
    if let Some(t) = res
        .loss
        .iter()
        .position(|l| !(l.is_finite() && *l <= threshold))
    {
        return Err(Error::Numerical(format!(
            "DMFT diverged at step {t}: loss {:.3e} (eta * gamma0 too large?)",
            res.loss[t]
        )));
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_derivatives_match_finite_differences() {
        for act in [Activation::Tanh, Activation::Erf, Activation::Gelu] {
            for &x in &[-1.3, -0.2, 0.4, 2.0] {
                let e = 1e-5;
                let fd = (act.dphi(x + e) - act.dphi(x - e)) / (2.0 * e);
                assert!((fd - ddphi(act, x)).abs() < 1e-7, "{act:?} {x}");
            }
        }
    }
}
