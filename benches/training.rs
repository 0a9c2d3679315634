//! Native training throughput: full-batch GD steps per second of an MLP with D = 16,
//! depth 3, P = 256, at widths 64 and 1024 (one seed, one thread).
//!
//! `cargo bench --bench training` prints one line per width.

use scaling_playground::config::*;
use scaling_playground::data::{DataConfig, Teacher};
use scaling_playground::nn::train;
use scaling_playground::progress::Silent;
use std::time::Instant;

fn config(width: usize, steps: usize) -> TrainConfig {
    TrainConfig {
        data: DataConfig::Teacher {
            teacher: Teacher::Linear,
            dim: 16,
            train: 256,
            test: 0,
            noise: 0.0,
            seed: 0,
        },
        model: ModelConfig {
            width,
            depth: 3,
            activation: Activation::Relu,
            ..Default::default()
        },
        param: Parameterization::Mup { gamma0: 1.0 },
        optimizer: OptimizerConfig::Gd { lr: 0.1 },
        steps,
        seeds: 1,
        seed: 0,
        observe: ObserveConfig {
            every: steps.max(1),
            test_loss: false,
            ..Default::default()
        },
    }
}

fn main() {
    for (width, steps) in [(64usize, 2000usize), (1024, 40)] {
        let cfg = config(width, steps);
        let data = cfg.data.load().expect("data");
        // warm-up
        train(&config(width, 2), &data, &Silent).expect("train");
        let t = Instant::now();
        train(&cfg, &data, &Silent).expect("train");
        let secs = t.elapsed().as_secs_f64();
        println!(
            "mlp D=16 depth=3 P=256 width={width:5}: {:9.1} GD steps/s ({steps} steps in {secs:.2} s)",
            steps as f64 / secs
        );
    }
}
