//! The serde `Config` of a training setup, shared by the finite-width engine, the theory
//! engine and every experiment. One JSON object describes data, network,
//! parameterisation, optimiser, steps, seeds and observables; it round-trips through the
//! CLI's JSON files, the page's URL and the results.
//!
//! Every field has a default, so `{}` is a valid config (a small two-layer muP network on
//! a Gaussian teacher task). [`TrainConfig::validate`] range-checks every field and names
//! the field on failure.

use crate::data::DataConfig;
use crate::error::{Error, Result, check_positive, check_range};
use serde::{Deserialize, Serialize};

/// Largest width, depth, step count and ensemble size a config may ask for. Work and
/// memory are budgeted separately (see [`crate::budget`]); these only bound the fields.
pub const MAX_WIDTH: usize = 65_536;
pub const MAX_DEPTH: usize = 256;
pub const MAX_STEPS: usize = 1_000_000;
pub const MAX_SEEDS: usize = 4096;

/// Pointwise nonlinearity phi.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Relu,
    Tanh,
    Erf,
    Gelu,
    Linear,
}

impl Activation {
    pub const ALL: [Activation; 5] = [
        Activation::Relu,
        Activation::Tanh,
        Activation::Erf,
        Activation::Gelu,
        Activation::Linear,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Erf => "erf",
            Activation::Gelu => "gelu",
            Activation::Linear => "linear",
        }
    }

    /// Parse a name as used on the command line.
    pub fn from_name(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| Error::config("activation", "one of relu, tanh, erf, gelu, linear"))
    }
}

/// Network architecture.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// `h^1 = a_0 W^0 x`, `h^{l+1} = a_l W^l phi(h^l)` for `l = 1..L-1`,
    /// `f = a_L W^L phi(h^L)`: `depth = L` hidden layers, `L + 1` weight matrices.
    #[default]
    Mlp,
    /// `h^1 = a_0 W^0 x`, `h^{l+1} = h^l + (beta / L^alpha) a_l W^l phi(h^l)` for
    /// `l = 1..L`, `f = a_{L+1} W^{L+1} phi(h^{L+1})`: `depth = L` residual blocks,
    /// `L + 2` weight matrices; alpha = 1/2 under depth-muP.
    Resnet,
}

impl Arch {
    /// Number of weight matrices: `L + 1` for an MLP with `L = depth` hidden layers,
    /// `L + 2` for a ResNet with `L` blocks (input, blocks, readout).
    pub fn weight_matrices(self, depth: usize) -> usize {
        match self {
            Arch::Mlp => depth + 1,
            Arch::Resnet => depth + 2,
        }
    }
}

/// Network shape and activation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    pub arch: Arch,
    /// Hidden width N.
    pub width: usize,
    /// Hidden layers L (MLP) or residual blocks L (ResNet).
    pub depth: usize,
    pub activation: Activation,
    /// Residual branch strength beta (ResNet only).
    pub beta: f64,
    /// Train the centred output f(t) - f(0), as the DMFT comparisons do.
    pub centered: bool,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            arch: Arch::Mlp,
            width: 256,
            depth: 1,
            activation: Activation::Relu,
            beta: 1.0,
            centered: false,
        }
    }
}

fn one() -> f64 {
    1.0
}

/// Deserialize a unit variant of an internally tagged enum from an object that holds
/// nothing but the tag. Serde's derive ignores the other fields of such a variant even
/// under `deny_unknown_fields` (`{"kind": "sp", "anything": 1}` would pass, its field
/// dropped); this refuses them. The serialised form is unchanged (`{"kind": "sp"}`).
pub(crate) fn no_fields<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<(), D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoFields {}
    NoFields::deserialize(d).map(|NoFields {}| ())
}

/// How weights are scaled with width N: multiplier N^{-a_l}, init std N^{-b_l} and
/// learning rate eta N^{-c} (Yang & Hu's abc-parameterisation), with an output multiplier
/// 1/gamma0 and a learning-rate factor gamma0^2 (the richness knob of mean-field theory).
/// The input layer's fan-in D does not scale with N; it always carries 1/sqrt(D).
/// See [`crate::nn::param`] for the exponents of each preset.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Parameterization {
    /// Standard (PyTorch default, no LR scaling): a = 0, b = 1/2 past the input, c = 0.
    #[serde(deserialize_with = "no_fields")]
    Sp,
    /// NTK: a = 1/2 past the input, b = 0, c = 0.
    Ntk {
        #[serde(default = "one")]
        gamma0: f64,
    },
    /// Mean-field / muP: hidden a = 1/2, readout a = 1 (f = w.phi / (gamma0 N)), b = 0,
    /// learning rate eta gamma0^2 N on every weight.
    Mup {
        #[serde(default = "one")]
        gamma0: f64,
    },
    /// Depth-muP: muP plus residual branches scaled beta / sqrt(N L) (ResNet only).
    DepthMup {
        #[serde(default = "one")]
        gamma0: f64,
    },
    /// Raw exponents, one per weight matrix (input first, readout last), and one global
    /// learning-rate exponent c. `depth_alpha` scales residual branches by L^-alpha.
    Abc {
        a: Vec<f64>,
        b: Vec<f64>,
        c: f64,
        #[serde(default = "one")]
        gamma0: f64,
        #[serde(default)]
        depth_alpha: f64,
    },
}

impl Default for Parameterization {
    fn default() -> Self {
        Parameterization::Mup { gamma0: 1.0 }
    }
}

impl Parameterization {
    /// The output-scale / richness parameter gamma0 (1 for SP).
    pub fn gamma0(&self) -> f64 {
        match self {
            Parameterization::Sp => 1.0,
            Parameterization::Ntk { gamma0 }
            | Parameterization::Mup { gamma0 }
            | Parameterization::DepthMup { gamma0 }
            | Parameterization::Abc { gamma0, .. } => *gamma0,
        }
    }

    /// Short name used in tables and legends.
    pub fn name(&self) -> &'static str {
        match self {
            Parameterization::Sp => "sp",
            Parameterization::Ntk { .. } => "ntk",
            Parameterization::Mup { .. } => "mup",
            Parameterization::DepthMup { .. } => "depth_mup",
            Parameterization::Abc { .. } => "abc",
        }
    }

    /// The same kind of parameterisation with a different gamma0 (SP keeps 1).
    pub fn with_gamma0(&self, g: f64) -> Self {
        let mut p = self.clone();
        match &mut p {
            Parameterization::Sp => {}
            Parameterization::Ntk { gamma0 }
            | Parameterization::Mup { gamma0 }
            | Parameterization::DepthMup { gamma0 }
            | Parameterization::Abc { gamma0, .. } => *gamma0 = g,
        }
        p
    }
}

/// The optimiser and its base learning rate eta (scaled per layer by the
/// parameterisation).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Full-batch gradient descent, W <- W - eta_l dL/dW.
    Gd { lr: f64 },
    /// Minibatch SGD with `batch_size` points drawn without replacement each step.
    Sgd { lr: f64, batch_size: usize },
    /// Adam (full batch). With `mup_scaling` the per-layer rate is eta N^{a_l - 1} past
    /// the input layer and eta for the input layer (Yang et al. 2022, Table 3).
    Adam {
        lr: f64,
        #[serde(default = "beta1")]
        beta1: f64,
        #[serde(default = "beta2")]
        beta2: f64,
        #[serde(default = "adam_eps")]
        eps: f64,
        #[serde(default = "yes")]
        mup_scaling: bool,
    },
    /// Langevin dynamics at temperature T with weight decay lambda (full batch):
    /// W <- W - eta_l dL/dW - eta lambda W + sqrt(2 eta T) xi, xi ~ N(0, 1).
    /// With lambda = T the stationary law is exp(-s_l L / T - |W|^2 / 2) to first order
    /// in eta, s_l the layer's learning-rate scale (gamma^2 under mean-field); the exact
    /// discrete-time prior needs lambda = (1 - sqrt(1 - 2 eta T)) / eta, which
    /// `statics::langevin` uses.
    Langevin {
        lr: f64,
        temperature: f64,
        #[serde(default)]
        weight_decay: Option<f64>,
    },
}

fn beta1() -> f64 {
    0.9
}
fn beta2() -> f64 {
    0.999
}
fn adam_eps() -> f64 {
    1e-8
}
fn yes() -> bool {
    true
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig::Gd { lr: 0.5 }
    }
}

impl OptimizerConfig {
    /// The base learning rate eta.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Gd { lr }
            | OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::Langevin { lr, .. } => *lr,
        }
    }

    /// The same optimiser with another base learning rate.
    pub fn with_lr(&self, eta: f64) -> Self {
        let mut o = self.clone();
        match &mut o {
            OptimizerConfig::Gd { lr }
            | OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::Langevin { lr, .. } => *lr = eta,
        }
        o
    }

    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Gd { .. } => "gd",
            OptimizerConfig::Sgd { .. } => "sgd",
            OptimizerConfig::Adam { .. } => "adam",
            OptimizerConfig::Langevin { .. } => "langevin",
        }
    }
}

/// Which observables to record along training, and how often.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ObserveConfig {
    /// Record every `every` steps (and always at step 0 and the last step).
    pub every: usize,
    /// Test loss (needs a test split).
    pub test_loss: bool,
    /// Outputs f on the training set, per seed.
    pub outputs: bool,
    /// Feature kernels Phi^l = phi(h^l) phi(h^l)^T / N and gradient kernels G^l, per seed.
    pub kernels: bool,
    /// Empirical NTK (learning-rate weighted), per seed.
    pub ntk: bool,
    /// Per-layer mean |h^l| and mean |h^l(t) - h^l(0)| (coordinate check).
    pub coords: bool,
    /// A seed whose training loss exceeds this, or whose loss, output or any hidden
    /// layer's pre-activations are NaN or Inf, is marked diverged at that record; a run
    /// whose every seed diverged stops.
    pub divergence_threshold: f64,
}

impl Default for ObserveConfig {
    fn default() -> Self {
        ObserveConfig {
            every: 1,
            test_loss: true,
            outputs: false,
            kernels: false,
            ntk: false,
            coords: false,
            divergence_threshold: 1e6,
        }
    }
}

/// One finite-width training setup: the unit every engine and experiment shares.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub data: DataConfig,
    pub model: ModelConfig,
    pub param: Parameterization,
    pub optimizer: OptimizerConfig,
    /// Number of optimiser steps T.
    pub steps: usize,
    /// Ensemble size S: independent initialisations trained together.
    pub seeds: usize,
    /// Master seed; data, initial weights and noise all derive from it.
    pub seed: u64,
    pub observe: ObserveConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            data: DataConfig::default(),
            model: ModelConfig::default(),
            param: Parameterization::default(),
            optimizer: OptimizerConfig::default(),
            steps: 100,
            seeds: 4,
            seed: 0,
            observe: ObserveConfig::default(),
        }
    }
}

impl TrainConfig {
    /// Range-check every field; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        self.data.validate()?;
        self.validate_setup(self.data.train_size())
    }

    /// The same setup without its data (the default task in its place): the many cell
    /// configs of a sweep are built from this when only their settings and the data's
    /// shape matter, so that no data is cloned or parsed per cell.
    pub fn without_data(&self) -> TrainConfig {
        TrainConfig {
            data: DataConfig::default(),
            model: self.model.clone(),
            param: self.param.clone(),
            optimizer: self.optimizer.clone(),
            observe: self.observe.clone(),
            ..*self
        }
    }

    /// Range-check every field but the data (checked once per sweep, not per cell);
    /// `train_points` is the data's training set size (bounds SGD's batch).
    pub fn validate_setup(&self, train_points: usize) -> Result<()> {
        let m = &self.model;
        check_range("model.width", m.width, 1, MAX_WIDTH)?;
        check_range("model.depth", m.depth, 1, MAX_DEPTH)?;
        if !m.beta.is_finite() || m.beta < 0.0 {
            return Err(Error::config("model.beta", "a finite number >= 0"));
        }
        check_range("steps", self.steps, 0, MAX_STEPS)?;
        check_range("seeds", self.seeds, 1, MAX_SEEDS)?;
        let g = self.param.gamma0();
        check_positive("param.gamma0", g)?;
        match &self.param {
            Parameterization::DepthMup { .. } if m.arch != Arch::Resnet => {
                return Err(Error::config(
                    "param.kind",
                    "depth_mup only with model.arch = resnet",
                ));
            }
            Parameterization::Abc {
                a,
                b,
                c,
                depth_alpha,
                ..
            } => {
                let n = m.arch.weight_matrices(m.depth);
                if a.len() != n {
                    return Err(Error::config(
                        "param.a",
                        format!("{n} exponents (one per weight matrix), got {}", a.len()),
                    ));
                }
                if b.len() != n {
                    return Err(Error::config(
                        "param.b",
                        format!("{n} exponents (one per weight matrix), got {}", b.len()),
                    ));
                }
                for (i, v) in a.iter().enumerate() {
                    check_range(&format!("param.a[{i}]"), *v, -4.0, 4.0)?;
                }
                for (i, v) in b.iter().enumerate() {
                    check_range(&format!("param.b[{i}]"), *v, -4.0, 4.0)?;
                }
                check_range("param.c", *c, -4.0, 4.0)?;
                check_range("param.depth_alpha", *depth_alpha, 0.0, 4.0)?;
            }
            _ => {}
        }
        let o = &self.optimizer;
        let lr = o.lr();
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(Error::config("optimizer.lr", "a finite number >= 0"));
        }
        match o {
            OptimizerConfig::Sgd { batch_size, .. } => {
                check_range("optimizer.batch_size", *batch_size, 1, train_points.max(1))?;
            }
            OptimizerConfig::Adam {
                beta1, beta2, eps, ..
            } => {
                check_range("optimizer.beta1", *beta1, 0.0, 0.999_999)?;
                check_range("optimizer.beta2", *beta2, 0.0, 0.999_999_9)?;
                check_positive("optimizer.eps", *eps)?;
            }
            OptimizerConfig::Langevin {
                temperature,
                weight_decay,
                ..
            } => {
                if !(temperature.is_finite() && *temperature >= 0.0) {
                    return Err(Error::config(
                        "optimizer.temperature",
                        "a finite number >= 0",
                    ));
                }
                if let Some(wd) = weight_decay
                    && !(wd.is_finite() && *wd >= 0.0)
                {
                    return Err(Error::config(
                        "optimizer.weight_decay",
                        "a finite number >= 0",
                    ));
                }
            }
            OptimizerConfig::Gd { .. } => {}
        }
        check_range("observe.every", self.observe.every, 1, MAX_STEPS)?;
        check_positive(
            "observe.divergence_threshold",
            self.observe.divergence_threshold,
        )?;
        Ok(())
    }
}
