//! The `train` kind: one finite-width ensemble trained as its [`TrainConfig`] says.

use super::train::{TrainResult, loss_csv, train};
use crate::budget::{
    Cost, JSON_BYTES_PER_NUMBER, data_shape, dataset_bytes, payload_json_bytes, saturate,
};
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

/// Memory and work of training one ensemble (see [`train_cost_shaped`]), the record's
/// JSON including the config's data.
pub fn train_cost(cfg: &TrainConfig) -> Cost {
    let mut cost = train_cost_shaped(cfg, data_shape(cfg));
    cost.json_bytes = cost
        .json_bytes
        .saturating_add(saturate(payload_json_bytes(&cfg.data)));
    cost
}

/// Steps at which `observe.every` records: multiples of `every` and the last step.
pub fn record_count(steps: usize, every: usize) -> usize {
    let every = every.max(1);
    steps / every + 1 + usize::from(!steps.is_multiple_of(every))
}

/// [`train_cost`] with the data's `(D, C, P, P_test)` given (a sweep works it out once
/// for all its cells), `S` seeds, width `N`, `H` hidden representations (`L` for an MLP,
/// `L + 1` for a ResNet) and `W` weights per seed:
///
/// - the loaded data, `8 (P + P_test)(D + C)`, and its f32 copies on the device;
/// - weights `[S x W]` (f32) and the optimiser's state: Adam's `m`, `v`, Langevin's
///   noise (one more each);
/// - one workspace per point set (the `P` training points, the `P_test` test points and
///   an SGD batch of `B < P`): `h, phi, phi', dL/dh [S x q x N]` per hidden
///   representation, `f, dL/df [S x q x C]` and a gradient `[S x W]`, f32;
/// - `observe.coords`: the fields at initialisation `[H x S x P x N]` (f32);
///   `kernels` or `ntk`: while recording, every layer's `phi` and `df/dh` downloaded
///   (f32) and their Gram matrices `[S x P x P]` (f64);
/// - the result (f64): per record, the losses `[S]`, outputs `[S x P x C]`, kernels
///   `2 H [S x P x P]`, NTK `[S x P x P]`, coordinates `2 (H + 1) [S]` as observed; the
///   final test outputs `[S x P_test x C]`; and its JSON.
pub fn train_cost_shaped(cfg: &TrainConfig, shape: (u64, u64, u64, u64)) -> Cost {
    let m = &cfg.model;
    let obs = &cfg.observe;
    let data = dataset_bytes(shape);
    let (d, c, p, pt) = shape;
    let (d, c, p, pt) = (d as f64, c as f64, p as f64, pt as f64);
    let n = m.width as f64;
    let s = cfg.seeds as f64;
    let layers = m.arch.weight_matrices(m.depth) as f64;
    let hidden = layers - 1.0;
    let weights = n * d + (layers - 2.0) * n * n + c * n;
    let (state, batch) = match cfg.optimizer {
        OptimizerConfig::Adam { .. } => (2.0, 0.0),
        OptimizerConfig::Langevin { .. } => (1.0, 0.0),
        OptimizerConfig::Sgd { batch_size, .. } if (batch_size as f64) < p => {
            (0.0, batch_size as f64)
        }
        _ => (0.0, 0.0),
    };
    let workspace = |q: f64| {
        if q > 0.0 {
            4.0 * s * (4.0 * hidden * n * q + 2.0 * c * q + weights)
        } else {
            0.0
        }
    };
    let device = 4.0 * s * weights * (1.0 + state)
        + workspace(p)
        + workspace(pt)
        + workspace(batch)
        + 4.0 * ((p + pt) * d + p * c + batch * (d + c) + s * (p + pt + batch) * c);
    let mut observing = 0.0;
    if obs.coords {
        observing += 4.0 * (hidden + 1.0) * s * p * n;
    }
    if obs.kernels || obs.ntk {
        observing += 4.0 * 2.0 * hidden * s * p * n + 8.0 * 2.0 * hidden * s * p * p;
    }
    let records = record_count(cfg.steps, obs.every) as f64;
    let tested = if obs.test_loss && pt > 0.0 { 2.0 } else { 1.0 };
    let mut observed = records * (1.0 + tested * s) + s * pt * c;
    if obs.outputs {
        observed += records * s * p * c;
    }
    if obs.kernels {
        observed += records * 2.0 * hidden * s * p * p;
    }
    if obs.ntk {
        observed += records * s * p * p;
    }
    if obs.coords {
        observed += records * 2.0 * (hidden + 1.0) * s;
    }
    Cost {
        bytes: saturate(data + 8.0 * pt * c + device + observing + 8.0 * observed),
        cell_bytes: 0,
        json_bytes: saturate(JSON_BYTES_PER_NUMBER * observed),
        flops: 6.0 * cfg.steps as f64 * s * if batch > 0.0 { batch } else { p } * weights,
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
        // width 1024, depth 3 MLP, 1 seed, GD, no test split: ~2M hidden weights x 2
        // (w + grad) x 4 B; a test split adds its workspace's gradient.
        let mut cfg = TrainConfig {
            model: ModelConfig {
                width: 1024,
                depth: 3,
                ..Default::default()
            },
            seeds: 1,
            ..Default::default()
        };
        cfg.data = crate::data::DataConfig::Teacher {
            teacher: Default::default(),
            dim: 16,
            train: 16,
            test: 0,
            noise: 0.0,
            seed: 0,
        };
        let b = train_cost(&cfg).bytes as f64;
        let weights = 2.0 * 1024.0 * 1024.0 * 2.0 * 4.0;
        assert!(b > weights && b < 1.5 * weights, "{b} vs {weights}");
        if let crate::data::DataConfig::Teacher { test, .. } = &mut cfg.data {
            *test = 16;
        }
        let with_test = train_cost(&cfg).bytes as f64;
        assert!(
            with_test > 1.45 * weights && with_test < 2.0 * weights,
            "{with_test}"
        );
    }
}
