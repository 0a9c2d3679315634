//! Posterior sampling of finite networks with the finite engine's Langevin optimiser.
//!
//! # The update and its stationary law
//!
//! [`crate::nn::train`] with `OptimizerConfig::Langevin { lr: eta, temperature: T,
//! weight_decay: None }` updates every raw weight matrix `W^l` as
//!
//! ```text
//! W <- (1 - eta T) W - eta s_l dL/dW + sqrt(2 eta T) xi,      xi ~ N(0, 1),
//! L  = (1/2P) sum_mu (f_mu - y_mu)^2                            (the mean loss)
//! ```
//!
//! with `s_l` the layer's learning-rate scale ([`crate::nn::param`]): `gamma0^2 N` under
//! muP, `gamma0^2` under NTK, the same for every layer. This is the Euler–Maruyama step
//! (time step `eta`) of `dW = -(s dL/dW + T W) dt + sqrt(2 T) dB`, whose stationary law is
//!
//! ```text
//! p(W) ∝ exp( -(s / T) L(W) - |W|^2 / 2 ),
//! ```
//!
//! up to O(eta) discretisation corrections. The leading one is exact to remove: in the
//! prior directions the step is an autoregression `W <- (1 - eta lambda) W + sqrt(2 eta T)
//! xi` with stationary variance `2 T / (lambda (2 - eta lambda))`, which is 1 (the prior)
//! for
//!
//! ```text
//! lambda = (1 - sqrt(1 - 2 eta T)) / eta = T (1 + eta T / 2 + ...)
//! ```
//!
//! rather than `lambda = T` (variance `1 / (1 - eta T / 2)`, a relative bias `eta T / 2`
//! on every kernel, measurable in the deep linear overlaps). With `exact_prior` (the
//! default) the run passes this `lambda` as `weight_decay`; the remaining bias, in the
//! `P` stiff directions that the loss pins, is O(eta) on fluctuations that are themselves
//! O(1/N) under muP.
//!
//! # Mapping to docs/theory.md section 5.1
//!
//! docs/theory.md writes the Gibbs measure `exp(-beta gamma^2 L_sum - |W|^2/2)` with the
//! summed loss `L_sum = (1/2) sum_mu (f_mu - y_mu)^2 = P L` and the output scale `gamma`
//! (`f = w . phi / (gamma sqrt N)`):
//! - muP (`Mup { gamma0 }`): `f = w . phi / (gamma0 N)`, so `gamma = gamma0 sqrt N` and
//!   `s = gamma0^2 N = gamma^2`;
//! - NTK (`Ntk { gamma0 }`): `f = w . phi / (gamma0 sqrt N)`, so `gamma = gamma0` is fixed
//!   as `N` grows and `s = gamma0^2 = gamma^2`.
//!
//! In both cases `(s / T) L = (gamma^2 / (T P)) L_sum`, so the engine samples theory's
//! Gibbs measure at
//!
//! ```text
//! beta = 1 / (T P),        i.e.  T = 1 / (beta P).
//! ```
//!
//! The prior `|W|^2 / 2` (unit variance) is the muP/NTK initialisation law, so the chain
//! starts in the prior. Outputs are not centred (the posterior is over the raw network).
//! SP is excluded: its init variance `1/N` is not the prior the decay `lambda = T` imposes.
//!
//! # Estimators
//!
//! After `burn_in` steps, every `every`-th state is recorded. Per seed, training outputs
//! and feature kernels `Phi^l = phi(h^l) . phi(h^l) / N` are averaged over the recorded
//! states; the estimate is the mean over seeds and its error bar the standard error over
//! seeds (independent chains, so time correlations do not bias it). Test outputs are
//! only available at the final state ([`crate::nn::TrainResult::test_outputs`]), so test
//! predictions average the final states of the seeds.

use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::config::{
    Activation, ModelConfig, ObserveConfig, OptimizerConfig, Parameterization, TrainConfig,
};
use crate::data::Dataset;
use crate::error::{Error, Result, check_positive, check_range};
use crate::nn::kind::train_cost_shaped;
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

/// A Langevin sampling run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LangevinConfig {
    /// Hidden width N.
    pub width: usize,
    /// Hidden layers L.
    pub depth: usize,
    pub activation: Activation,
    /// `Mup { gamma0 }` (gamma = gamma0 sqrt N) or `Ntk { gamma0 }` (gamma = gamma0).
    pub param: Parameterization,
    /// Inverse temperature beta of the summed loss (docs/theory.md section 5.1).
    pub beta: f64,
    /// Base learning rate eta (the Langevin time step).
    pub lr: f64,
    /// Steps discarded before averaging.
    pub burn_in: usize,
    /// Steps after the burn-in.
    pub steps: usize,
    /// Record every this many steps.
    pub every: usize,
    /// Independent chains.
    pub seeds: usize,
    pub seed: u64,
    /// Correct the weight decay so that the discrete chain's prior has unit variance.
    pub exact_prior: bool,
}

impl Default for LangevinConfig {
    fn default() -> Self {
        LangevinConfig {
            width: 256,
            depth: 1,
            activation: Activation::Relu,
            param: Parameterization::Mup { gamma0: 1.0 },
            beta: 10.0,
            lr: 0.5,
            burn_in: 1000,
            steps: 2000,
            every: 10,
            seeds: 8,
            seed: 0,
            exact_prior: true,
        }
    }
}

impl LangevinConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("width", self.width, 1, crate::config::MAX_WIDTH)?;
        check_range("depth", self.depth, 1, crate::config::MAX_DEPTH)?;
        match self.param {
            Parameterization::Mup { gamma0 } | Parameterization::Ntk { gamma0 } => {
                check_positive("param.gamma0", gamma0)?
            }
            _ => return Err(Error::config("param.kind", "mup or ntk")),
        }
        check_positive("beta", self.beta)?;
        check_positive("lr", self.lr)?;
        check_range("steps", self.steps, 1, crate::config::MAX_STEPS)?;
        check_range("burn_in", self.burn_in, 0, crate::config::MAX_STEPS)?;
        check_range("every", self.every, 1, crate::config::MAX_STEPS)?;
        check_range("seeds", self.seeds, 2, crate::config::MAX_SEEDS)?;
        if 2.0 * self.lr * self.temperature(1) >= 1.0 {
            return Err(Error::config("lr", "2 lr T < 1 (a smaller time step)"));
        }
        Ok(())
    }

    /// The engine temperature `T = 1 / (beta P)` for `p` training points.
    pub fn temperature(&self, p: usize) -> f64 {
        1.0 / (self.beta * p as f64)
    }

    /// The weight decay `(1 - sqrt(1 - 2 eta T)) / eta` whose discrete prior has unit
    /// variance.
    pub fn weight_decay(&self, p: usize) -> f64 {
        let et = self.lr * self.temperature(p);
        (1.0 - (1.0 - 2.0 * et).sqrt()) / self.lr
    }

    /// The finite-engine training config that samples this posterior on `p` points.
    pub fn train_config(&self, p: usize) -> TrainConfig {
        TrainConfig {
            model: ModelConfig {
                width: self.width,
                depth: self.depth,
                activation: self.activation,
                centered: false,
                ..Default::default()
            },
            param: self.param.clone(),
            optimizer: OptimizerConfig::Langevin {
                lr: self.lr,
                temperature: self.temperature(p),
                weight_decay: self.exact_prior.then(|| self.weight_decay(p)),
            },
            steps: self.burn_in + self.steps,
            seeds: self.seeds,
            seed: self.seed,
            observe: ObserveConfig {
                every: self.every,
                test_loss: false,
                outputs: true,
                kernels: true,
                ntk: false,
                coords: false,
                divergence_threshold: 1e6,
            },
            ..Default::default()
        }
    }

    /// Numbers in a [`LangevinResult`] on `P` training and `P_test` test points with
    /// `C` outputs: means and standard errors of the outputs, kernels `[P x P]` (mean,
    /// standard error and one per seed, per layer), and the recorded losses.
    pub fn result_numbers(&self, p: f64, pt: f64, c: f64) -> f64 {
        let records = crate::nn::kind::record_count(self.burn_in + self.steps, self.every) as f64;
        let layers = self.depth as f64;
        2.0 * (p + pt) * c + layers * (2.0 + self.seeds as f64) * p * p + 2.0 * records
    }

    /// Memory and work of [`sample`] on data of shape `(D, C, P, P_test)`: the training
    /// run ([`train_cost_shaped`], observing outputs and kernels at every record) and
    /// the averages built from its result.
    pub fn sample_cost(&self, shape: (u64, u64, u64, u64)) -> Cost {
        let (_, c, p, pt) = shape;
        let mut cost = train_cost_shaped(&self.train_config(p as usize), shape);
        let numbers = self.result_numbers(p as f64, pt as f64, c as f64);
        cost.bytes = cost.bytes.saturating_add(saturate(8.0 * numbers));
        cost.json_bytes = saturate(JSON_BYTES_PER_NUMBER * numbers);
        cost
    }
}

/// Posterior averages of a Langevin run, with standard errors over seeds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct LangevinResult {
    /// Engine temperature T = 1 / (beta P).
    pub temperature: f64,
    /// Recorded states per seed after the burn-in.
    pub records: usize,
    /// Seeds that did not diverge (the averages use these).
    pub seeds_used: usize,
    /// Posterior mean of f on the training points `[P x C]` and its standard error.
    pub mean_train: Vec<f64>,
    pub se_train: Vec<f64>,
    /// Mean of f over the final states of the seeds on the test points `[P_test x C]`.
    pub mean_test: Vec<f64>,
    pub se_test: Vec<f64>,
    /// Posterior mean of the feature kernels `[layer][P x P]` and standard errors.
    pub kernels: Vec<Vec<f64>>,
    pub kernels_se: Vec<Vec<f64>>,
    /// Per-seed time averages of the kernels `[layer][seed][P x P]`.
    pub seed_kernels: Vec<Vec<Vec<f64>>>,
    /// Recorded steps and the mean training loss over seeds (burn-in included).
    pub steps: Vec<usize>,
    pub train_loss: Vec<f64>,
}

/// Mean and standard error over rows.
pub fn mean_se(rows: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let s = rows.len();
    let len = rows.first().map_or(0, Vec::len);
    let mut mean = vec![0.0; len];
    for r in rows {
        for (m, v) in mean.iter_mut().zip(r) {
            *m += v / s as f64;
        }
    }
    let mut se = vec![0.0; len];
    if s > 1 {
        for r in rows {
            for ((e, v), m) in se.iter_mut().zip(r).zip(&mean) {
                *e += (v - m) * (v - m);
            }
        }
        for e in se.iter_mut() {
            *e = (*e / ((s - 1) * s) as f64).sqrt();
        }
    }
    (mean, se)
}

/// Sample the posterior of `cfg` on `data` and average.
pub fn sample(
    cfg: &LangevinConfig,
    data: &Dataset,
    progress: &dyn Progress,
) -> Result<LangevinResult> {
    cfg.validate()?;
    let p = data.p_train();
    let tc = cfg.train_config(p);
    let res = crate::nn::train(&tc, data, progress)?;
    let ok: Vec<usize> = (0..cfg.seeds)
        .filter(|&s| res.diverged_at.get(s).is_none_or(Option::is_none))
        .collect();
    if ok.len() < 2 {
        return Err(Error::Numerical(
            "Langevin sampling diverged (lower the learning rate)".into(),
        ));
    }
    let kept: Vec<usize> = (0..res.steps.len())
        .filter(|&i| res.steps[i] >= cfg.burn_in)
        .collect();
    if kept.is_empty() {
        return Err(Error::Numerical(
            "no states recorded after the burn-in".into(),
        ));
    }
    let k = kept.len() as f64;
    // Training outputs, time-averaged per seed.
    let per_seed_train: Vec<Vec<f64>> = ok
        .iter()
        .map(|&s| {
            let len = res.outputs[kept[0]][s].len();
            let mut acc = vec![0.0; len];
            for &i in &kept {
                for (a, v) in acc.iter_mut().zip(&res.outputs[i][s]) {
                    *a += v / k;
                }
            }
            acc
        })
        .collect();
    let (mean_train, se_train) = mean_se(&per_seed_train);
    let test_rows: Vec<Vec<f64>> = ok
        .iter()
        .filter_map(|&s| res.test_outputs.get(s).cloned())
        .collect();
    let (mean_test, se_test) = if test_rows.is_empty() {
        (vec![], vec![])
    } else {
        mean_se(&test_rows)
    };
    // Kernels: res.kernels[record].phi[layer][seed]; records align with res.steps.
    let layers = res.kernels.first().map_or(0, |kk| kk.phi.len());
    let mut kernels = Vec::new();
    let mut kernels_se = Vec::new();
    let mut seed_kernels = Vec::new();
    for l in 0..layers {
        let per_seed: Vec<Vec<f64>> = ok
            .iter()
            .map(|&s| {
                let mut acc = vec![0.0; p * p];
                for &i in &kept {
                    for (a, v) in acc.iter_mut().zip(&res.kernels[i].phi[l][s]) {
                        *a += v / k;
                    }
                }
                acc
            })
            .collect();
        let (m, e) = mean_se(&per_seed);
        kernels.push(m);
        kernels_se.push(e);
        seed_kernels.push(per_seed);
    }
    Ok(LangevinResult {
        temperature: cfg.temperature(p),
        records: kept.len(),
        seeds_used: ok.len(),
        mean_train,
        se_train,
        mean_test,
        se_test,
        kernels,
        kernels_se,
        seed_kernels,
        steps: res.steps.clone(),
        train_loss: res.mean_train_loss(),
    })
}

/// Mean and standard error over seeds of a scalar functional of the per-seed kernels of
/// `layer` (for example `y^T Phi y`).
pub fn functional(r: &LangevinResult, layer: usize, f: impl Fn(&[f64]) -> f64) -> (f64, f64) {
    let rows: Vec<Vec<f64>> = r.seed_kernels[layer].iter().map(|k| vec![f(k)]).collect();
    let (m, e) = mean_se(&rows);
    (m[0], e[0])
}
