//! One entry point for every computation: a [`RunConfig`] tagged by `kind` (the JSON
//! the CLI's `run` reads, the page's link carries and the results echo), dispatched by
//! [`run`] to the engine that computes it.
//!
//! Each engine adds its variant here: its config type, its result type in
//! [`RunOutput`], and its CSV tables in [`RunOutput::csv`].

use crate::config::TrainConfig;
use crate::error::Result;
use crate::experiments::{
    CoordCheckConfig, CoordCheckResult, RichnessConfig, RichnessResult, ShardOutput,
    TransferConfig, TransferResult, WidthConvergenceConfig, WidthConvergenceResult,
};
use crate::nn::TrainResult;
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

/// Every kind of computation, tagged by `kind`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunConfig {
    /// Train a finite-width ensemble.
    Train(TrainConfig),
    /// Finite networks of growing width against the DMFT.
    WidthConvergence(WidthConvergenceConfig),
    /// Learning-rate grid across widths or depths, per parameterisation.
    Transfer(TransferConfig),
    /// Per-layer activation size and change against width, per parameterisation.
    CoordCheck(CoordCheckConfig),
    /// gamma0 from lazy to rich: loss curves and kernel-target alignment.
    Richness(RichnessConfig),
    /// Bayesian networks: Langevin sampling against the NNGP and muP saddle-point limits.
    Bayes(crate::statics::BayesConfig),
    /// NNGP and NTK of given inputs.
    Kernel(crate::theory::runs::KernelConfig),
    /// Lazy (kernel-regression) GD dynamics of a training setup.
    Lazy(TrainConfig),
    /// DMFT of a training setup.
    Dmft(crate::theory::dmft::DmftConfig),
    /// Layer-time limit of deep ResNets at initialisation.
    DepthLimit(crate::theory::depth::DepthLimitConfig),
}

impl RunConfig {
    /// The `kind` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            RunConfig::Train(_) => "train",
            RunConfig::WidthConvergence(_) => "width_convergence",
            RunConfig::Transfer(_) => "transfer",
            RunConfig::CoordCheck(_) => "coord_check",
            RunConfig::Richness(_) => "richness",
            RunConfig::Bayes(_) => "bayes",
            RunConfig::Kernel(_) => "kernel",
            RunConfig::Lazy(_) => "lazy",
            RunConfig::Dmft(_) => "dmft",
            RunConfig::DepthLimit(_) => "depth_limit",
        }
    }

    /// Estimated peak memory and work, before anything is allocated.
    pub fn cost(&self) -> crate::budget::Cost {
        match self {
            RunConfig::Train(c) => crate::budget::train_cost(c),
            RunConfig::WidthConvergence(c) => {
                crate::budget::sweep_cost(c.cells(), |k| c.cell_config(k).ok()).then(
                    crate::budget::dmft_cost(&c.base, c.dmft.samples, c.dmft.iterations),
                )
            }
            RunConfig::Kernel(c) => crate::budget::kernel_cost(c.x.len(), c.hidden_layers),
            RunConfig::Lazy(c) => crate::budget::lazy_cost(c),
            RunConfig::Dmft(c) => crate::budget::dmft_cost(&c.train, c.samples, c.iterations),
            RunConfig::DepthLimit(c) => {
                let depth = c.depths.iter().copied().max().unwrap_or(1);
                crate::budget::kernel_cost(c.x.len(), depth)
            }
            RunConfig::Transfer(c) => {
                crate::budget::sweep_cost(c.cells(), |k| c.cell_config(k).ok())
            }
            RunConfig::CoordCheck(c) => {
                crate::budget::sweep_cost(c.cells(), |k| c.cell_config(k).ok())
            }
            RunConfig::Richness(c) => {
                crate::budget::sweep_cost(c.cells(), |k| c.cell_config(k).ok())
            }
            RunConfig::Bayes(c) => crate::budget::sweep_cost(c.widths.len(), |k| {
                Some(crate::config::TrainConfig {
                    data: c.data.clone(),
                    model: crate::config::ModelConfig {
                        width: c.widths[k],
                        ..Default::default()
                    },
                    steps: c.burn_in + c.steps,
                    seeds: c.seeds,
                    observe: crate::config::ObserveConfig {
                        every: c.every.max(1),
                        kernels: true,
                        ..Default::default()
                    },
                    ..Default::default()
                })
            }),
        }
    }

    /// Validate, then refuse configs whose estimated memory exceeds `limit` bytes.
    pub fn check_budget(&self, limit: u64) -> Result<()> {
        self.validate()?;
        self.cost().check(limit)
    }

    /// Range-check every field.
    pub fn validate(&self) -> Result<()> {
        match self {
            RunConfig::Train(c) | RunConfig::Lazy(c) => c.validate(),
            RunConfig::WidthConvergence(c) => c.validate(),
            RunConfig::Transfer(c) => c.validate(),
            RunConfig::CoordCheck(c) => c.validate(),
            RunConfig::Richness(c) => c.validate(),
            RunConfig::Bayes(c) => c.validate(),
            RunConfig::Kernel(c) => c.validate(),
            RunConfig::Dmft(c) => c.validate(),
            RunConfig::DepthLimit(c) => c.validate(),
        }
    }
}

/// The result of a [`RunConfig`], serialised without a tag (the config beside it says
/// which it is).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)]
pub enum RunOutput {
    Train(TrainResult),
    WidthConvergence(WidthConvergenceResult),
    Transfer(TransferResult),
    CoordCheck(CoordCheckResult),
    Richness(RichnessResult),
    /// One shard of a sweep (`run --shard i/n`), for `merge`.
    Shard(ShardOutput),
    Bayes(crate::statics::BayesResult),
    Kernel(crate::theory::runs::KernelResult),
    Lazy(crate::theory::lazy::LazyResult),
    Dmft(crate::theory::dmft::DmftResult),
    DepthLimit(crate::theory::depth::DepthLimitResult),
}

/// A config and its result, as written by the CLI and exported by the page.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub version: u32,
    pub config: RunConfig,
    pub result: RunOutput,
}

/// Schema version of configs, links and results.
pub const SCHEMA_VERSION: u32 = 1;

/// Run a config to completion.
pub fn run(cfg: &RunConfig, progress: &dyn Progress) -> Result<RunOutput> {
    cfg.validate()?;
    Ok(match cfg {
        RunConfig::Train(c) => {
            let data = c.data.load()?;
            RunOutput::Train(crate::nn::train(c, &data, progress)?)
        }
        RunConfig::WidthConvergence(_)
        | RunConfig::Transfer(_)
        | RunConfig::CoordCheck(_)
        | RunConfig::Richness(_) => crate::experiments::run(cfg, progress)?,
        RunConfig::Bayes(c) => RunOutput::Bayes(crate::statics::bayes::run(c, progress)?),
        RunConfig::Kernel(c) => RunOutput::Kernel(crate::theory::runs::kernel(c)?),
        RunConfig::Lazy(c) => RunOutput::Lazy(crate::theory::lazy::solve(c, progress)?),
        RunConfig::Dmft(c) => RunOutput::Dmft(crate::theory::dmft::solve(c, progress)?),
        RunConfig::DepthLimit(c) => {
            RunOutput::DepthLimit(crate::theory::depth::solve(c, progress)?)
        }
    })
}

impl RunOutput {
    /// CSV tables of the result: `(file stem, CSV text)` pairs.
    pub fn csv(&self) -> Vec<(String, String)> {
        match self {
            RunOutput::Train(r) => vec![("loss".into(), crate::nn::train::loss_csv(r))],
            RunOutput::Bayes(r) => r.csv(),
            RunOutput::Kernel(r) => crate::theory::runs::kernel_csv(r),
            RunOutput::Lazy(r) => crate::theory::runs::lazy_csv(r),
            RunOutput::Dmft(r) => crate::theory::runs::dmft_csv(r),
            RunOutput::DepthLimit(r) => crate::theory::runs::depth_csv(r),
            _ => crate::experiments::csv(self),
        }
    }
}
