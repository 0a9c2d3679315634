//! Resource budgets: the memory and work of a config, estimated before anything is
//! allocated, so that an oversized config is refused up front with the limit named
//! instead of crashing a browser tab or the machine.

use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::nn::param::num_weight_matrices;
use serde::{Deserialize, Serialize};

/// Default memory budget of the page (a browser tab; wasm32 memory tops out at 4 GiB).
pub const PAGE_MEMORY_BYTES: u64 = 1 << 30;
/// Default memory budget of the CLI (`--max-memory` overrides it).
pub const CLI_MEMORY_BYTES: u64 = 16 << 30;

/// Estimated peak memory and arithmetic work of a computation.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Default)]
pub struct Cost {
    /// Peak bytes held at once.
    pub bytes: u64,
    /// Floating-point operations, roughly.
    pub flops: f64,
}

impl Cost {
    /// The larger memory and the summed work of two parts run one after the other.
    pub fn then(self, other: Cost) -> Cost {
        Cost {
            bytes: self.bytes.max(other.bytes),
            flops: self.flops + other.flops,
        }
    }

    /// Refuse a cost above `limit` bytes, naming both.
    pub fn check(&self, limit: u64) -> Result<()> {
        if self.bytes > limit {
            return Err(Error::Budget(format!(
                "this config needs about {} of memory, over the limit of {}; reduce width, depth, seeds or data size",
                human(self.bytes),
                human(limit)
            )));
        }
        Ok(())
    }
}

/// `1.5 GiB`-style sizes.
pub fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", units[u])
}

/// Memory and work of training one ensemble: weights, gradients and optimiser state
/// (f32), activations of the training and test passes, recorded observables (f64).
pub fn train_cost(cfg: &TrainConfig) -> Cost {
    let m = &cfg.model;
    let (d, c, p_train, p_test) = data_shape(cfg);
    let (d, c, p_train, p_test) = (d as f64, c as f64, p_train as f64, p_test as f64);
    let n = m.width as f64;
    let s = cfg.seeds as f64;
    let layers = num_weight_matrices(m.arch, m.depth) as f64;
    let params = n * d + (layers - 2.0).max(0.0) * n * n + c * n;
    let state = match cfg.optimizer {
        crate::config::OptimizerConfig::Adam { .. } => 4.0,
        crate::config::OptimizerConfig::Langevin { .. } => 3.0,
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
        flops: 6.0 * cfg.steps as f64 * s * p_train * params,
    }
}

/// f64 bytes to u64, saturating (estimates of absurd configs exceed 2^64).
pub fn saturate(bytes: f64) -> u64 {
    if bytes >= u64::MAX as f64 {
        u64::MAX
    } else {
        bytes.max(0.0) as u64
    }
}

/// Cost of a sweep whose cells are training runs: the largest cell's memory (cells run
/// one at a time per worker) and the summed work.
pub fn sweep_cost(cells: usize, cell: impl Fn(usize) -> Option<TrainConfig>) -> Cost {
    (0..cells)
        .filter_map(cell)
        .map(|c| train_cost(&c))
        .fold(Cost::default(), Cost::then)
}

/// NNGP/NTK of `p` inputs through `layers` layers: a few `[P x P]` matrices per layer.
pub fn kernel_cost(p: usize, layers: usize) -> Cost {
    let p2 = (p * p) as f64;
    Cost {
        bytes: saturate(8.0 * 4.0 * p2 * (layers as f64 + 1.0)),
        flops: 1e3 * p2 * layers as f64,
    }
}

/// Lazy dynamics: the `[P x P]` NTK, its test block and the trajectories.
pub fn lazy_cost(cfg: &TrainConfig) -> Cost {
    let (_, _, p, pt) = data_shape(cfg);
    let (p, pt, t) = (p as f64, pt as f64, cfg.steps as f64 + 1.0);
    Cost {
        bytes: saturate(8.0 * (4.0 * p * p + pt * p + (p + pt) * t)),
        flops: t * (p * p + pt * p),
    }
}

/// DMFT of a training setup with `samples` single-site samples: per layer, S sampled
/// trajectories of length `P (T + 1)` (fields, gradients, noises) and the `[PT x PT]`
/// kernels, responses and their square roots; work `O(S n^2 + n^3)` per layer and
/// iteration on the `n = P (h + 1)` steps up to the iteration's horizon `h`. The
/// two-layer solver is one sweep; the deep one marches (horizon `WINDOW` steps past
/// the settled ones, about one more step per iteration), so its estimate sums the
/// horizons of `min(iterations, T + WINDOW + 1)` iterations.
pub fn dmft_cost(cfg: &TrainConfig, samples: usize, iterations: usize) -> Cost {
    let (_, _, p, _) = data_shape(cfg);
    let pt = p as f64 * (cfg.steps as f64 + 1.0);
    let layers = cfg.model.depth as f64;
    let s = samples as f64;
    let flops = if cfg.model.depth <= 1 {
        s * pt * pt + pt * pt * pt
    } else {
        crate::theory::dmft::deep::marching_work(
            p as usize,
            cfg.steps,
            samples,
            cfg.model.depth,
            iterations,
        )
    };
    Cost {
        bytes: saturate(8.0 * layers * (6.0 * s * pt + 8.0 * pt * pt)),
        flops,
    }
}

/// `(D, C, P_train, P_test)` of a config's data without loading it (upper bounds for
/// CSV, whose shape is only known after parsing).
pub fn data_shape(cfg: &TrainConfig) -> (u64, u64, u64, u64) {
    use crate::data::DataConfig as D;
    match &cfg.data {
        D::Teacher {
            dim, train, test, ..
        } => (*dim as u64, 1, *train as u64, *test as u64),
        D::Sine { train, test, .. } => (2, 1, *train as u64, *test as u64),
        D::Spirals { train, test, .. } => (3, 2, *train as u64, *test as u64),
        D::Digits {
            train,
            test,
            classes,
            ..
        } => {
            let c = if classes.is_empty() {
                10
            } else {
                classes.len()
            };
            (64, c as u64, *train as u64, *test as u64)
        }
        D::Csv { text, .. } => {
            let cols = text.lines().next().map_or(1, |h| h.split(',').count()) as u64;
            let rows = text.lines().count() as u64;
            (cols, 1, rows, 0)
        }
        D::Inline { x, y, x_test, .. } => (
            x.first().map_or(1, Vec::len) as u64,
            y.first().map_or(1, Vec::len) as u64,
            x.len() as u64,
            x_test.len() as u64,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            .check(PAGE_MEMORY_BYTES)
            .unwrap_err()
            .to_string();
        assert!(e.contains("1.0 GiB"), "{e}");
        assert!(
            train_cost(&TrainConfig::default())
                .check(PAGE_MEMORY_BYTES)
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
