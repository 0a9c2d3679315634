//! Named, ready-to-run configs: one click in the page, `run --preset NAME` in the CLI.

use crate::config::*;
use crate::data::{DataConfig, Teacher};
use crate::run::RunConfig;

/// `(name, the claim it shows)` for every preset: the talk's experiments, the statics
/// comparison, and a plain training run.
pub fn list() -> Vec<(&'static str, &'static str)> {
    let mut v = crate::experiments::presets::list();
    v.push((
        "bayes",
        "Langevin-sampled networks approach the muP saddle point at fixed gamma0 and the NNGP posterior at fixed gamma (talk: 'New Results on muP/MF Statics')",
    ));
    v.push((
        "train-mlp",
        "A muP MLP learns a linear teacher: the loss of 4 seeds falls together.",
    ));
    v
}

/// The config of a preset, by name.
pub fn preset(name: &str) -> Option<RunConfig> {
    if let Some(c) = crate::experiments::presets::preset(name) {
        return Some(c);
    }
    match name {
        "bayes" => Some(crate::statics::bayes_preset()),
        "train-mlp" => Some(RunConfig::Train(TrainConfig {
            data: DataConfig::Teacher {
                teacher: Teacher::Linear,
                dim: 16,
                train: 64,
                test: 64,
                noise: 0.0,
                seed: 0,
            },
            model: ModelConfig {
                width: 256,
                depth: 2,
                activation: Activation::Tanh,
                ..Default::default()
            },
            param: Parameterization::Mup { gamma0: 1.0 },
            optimizer: OptimizerConfig::Gd { lr: 0.5 },
            steps: 200,
            seeds: 4,
            ..Default::default()
        })),
        _ => None,
    }
}
