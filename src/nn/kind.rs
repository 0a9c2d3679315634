//! The `train` kind: one finite-width ensemble trained as its [`TrainConfig`] says.

use super::train::{TrainResult, loss_csv, train};
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, data_shape, saturate};
use crate::config::{OptimizerConfig, TrainConfig};
use crate::error::Result;
use crate::kind::Kind;
use crate::progress::Progress;

impl Kind for TrainConfig {
    type Output = TrainResult;

    fn validate(&self) -> Result<()> {
        TrainConfig::validate(self)
    }

    fn cost(&self) -> Cost {
        train_cost(self)
    }

    fn run(&self, progress: &dyn Progress) -> Result<TrainResult> {
        let data = self.data.load()?;
        train(self, &data, progress)
    }

    fn csv(&self, out: &TrainResult) -> Vec<(String, String)> {
        vec![("loss".into(), loss_csv(out))]
    }
}

/// Memory and work of training one ensemble: weights, gradients and optimiser state
/// (f32), activations of the training and test passes, recorded observables (f64),
/// and the recorded numbers' JSON.
pub fn train_cost(cfg: &TrainConfig) -> Cost {
    train_cost_shaped(cfg, data_shape(cfg))
}

/// [`train_cost`] with the data's `(D, C, P_train, P_test)` given (a sweep works it out
/// once for all its cells).
pub fn train_cost_shaped(cfg: &TrainConfig, shape: (u64, u64, u64, u64)) -> Cost {
    let m = &cfg.model;
    let (d, c, p_train, p_test) = shape;
    let (d, c, p_train, p_test) = (d as f64, c as f64, p_train as f64, p_test as f64);
    let n = m.width as f64;
    let s = cfg.seeds as f64;
    let layers = m.arch.weight_matrices(m.depth) as f64;
    let params = n * d + (layers - 2.0).max(0.0) * n * n + c * n;
    let state = match cfg.optimizer {
        OptimizerConfig::Adam { .. } => 4.0,
        OptimizerConfig::Langevin { .. } => 3.0,
        _ => 2.0,
    };
    let hidden = layers - 1.0;
    let mut activations = 4.0 * hidden * n * (p_train + p_test);
    if cfg.observe.coords {
        activations += hidden * n * p_train;
    }
    let records = (cfg.steps / cfg.observe.every.max(1) + 2) as f64;
    let mut observed = 2.0 * records * s; // losses
    if cfg.observe.outputs {
        observed += records * s * p_train * c;
    }
    if cfg.observe.kernels {
        observed += 2.0 * records * hidden * s * p_train * p_train;
    }
    if cfg.observe.ntk {
        observed += records * s * p_train * p_train;
    }
    let bytes = 4.0 * s * (state * params + activations)
        + 8.0 * observed
        + 8.0 * (p_train + p_test) * (d + c);
    Cost {
        bytes: saturate(bytes),
        cell_bytes: 0,
        json_bytes: saturate(JSON_BYTES_PER_NUMBER * observed),
        flops: 6.0 * cfg.steps as f64 * s * p_train * params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::PAGE_MEMORY_BYTES;
    use crate::config::ModelConfig;

    #[test]
    fn a_huge_network_is_refused_with_the_limit_named() {
        let cfg = TrainConfig {
            model: ModelConfig {
                width: 65_536,
                depth: 8,
                ..Default::default()
            },
            seeds: 64,
            ..Default::default()
        };
        let e = train_cost(&cfg)
            .check(PAGE_MEMORY_BYTES, 1, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("1.0 GiB"), "{e}");
        assert!(
            train_cost(&TrainConfig::default())
                .check(PAGE_MEMORY_BYTES, 1, true)
                .is_ok()
        );
    }

    #[test]
    fn estimate_is_close_for_weights() {
        // width 1024, depth 3 MLP, 1 seed, GD: ~2M hidden weights x 2 (w + grad) x 4 B
        let cfg = TrainConfig {
            model: ModelConfig {
                width: 1024,
                depth: 3,
                ..Default::default()
            },
            seeds: 1,
            ..Default::default()
        };
        let b = train_cost(&cfg).bytes as f64;
        let weights = 2.0 * 1024.0 * 1024.0 * 2.0 * 4.0;
        assert!(b > weights && b < 1.5 * weights, "{b} vs {weights}");
    }
}
