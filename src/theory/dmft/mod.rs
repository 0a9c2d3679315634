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

use crate::backend::{Device, DeviceChoice};
use crate::config::{Activation, Arch, OptimizerConfig, Parameterization, TrainConfig};
use crate::error::{Error, Result, check_range};
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
    pub fn validate(&self) -> Result<()> {
        self.train.validate()?;
        check_range("samples", self.samples, 1, MAX_SAMPLES)?;
        check_range("iterations", self.iterations, 1, 1000)?;
        check_range("damping", self.damping, 1e-3, 1.0)?;
        if !matches!(self.train.optimizer, OptimizerConfig::Gd { .. }) {
            return Err(Error::config(
                "train.optimizer.kind",
                "gd (the DMFT describes full-batch gradient descent)",
            ));
        }
        if self.train.model.arch != Arch::Mlp {
            return Err(Error::config(
                "train.model.arch",
                "mlp (the DMFT solvers cover MLPs)",
            ));
        }
        Ok(())
    }
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
    /// Where the Monte Carlo products ran ("cpu", "gpu: <adapter> (Vulkan)", or
    /// "cpu (fallback to cpu: why)"); empty for the closed forms.
    #[serde(default)]
    pub backend: String,
    /// Kernel estimates (and Stein covariances) of the deep solver computed on a GPU, by
    /// compensated products ([`products`] module); 0 on the CPU.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub device_kernel_estimates: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The numbers every solver needs, extracted and checked once.
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
        check_range("train.data (training points)", p, 1, MAX_POINTS)?;
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
    let mut res = match (pr.depth, linear) {
        (1, true) => linear::two_layer(pr, progress),
        (1, false) => two_layer::solve(pr, dev, progress),
        (_, true) => linear::deep(pr, progress),
        _ => deep::solve(pr, dev, progress),
    }?;
    if !linear {
        res.backend = dev.backend();
        res.device_kernel_estimates = dev.compensated_on_device;
    }
    res.warnings.append(&mut dev.warnings);
    check_finite(res, pr.threshold)
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
