//! Native wall time of the DMFT solvers (plain main, `cargo bench --bench dmft`), each
//! solved to convergence (the iteration count is a cap, see `DEFAULT_ITERATIONS`):
//! two-layer ReLU with P = 16, T = 100, S = 4096, and depth-3 tanh with P = 16, T = 40,
//! S = 1500 (the causal marching solver settles one step per sweep, ~T + 5 sweeps).
//!
//! Measured on the shared 2-core dev machine (contended, single thread): two-layer
//! 0.23 s; depth-3 ~50 s, converged in 46 iterations (bench/README.md).

use scaling_playground::config::{Activation, OptimizerConfig, Parameterization, TrainConfig};
use scaling_playground::data::{DataConfig, Teacher};
use scaling_playground::progress::Silent;
use scaling_playground::theory::dmft::{self, DmftConfig};
use std::time::Instant;

fn cfg(act: Activation, depth: usize, p: usize, steps: usize, samples: usize) -> DmftConfig {
    let mut train = TrainConfig {
        data: DataConfig::Teacher {
            teacher: Teacher::SingleIndex,
            dim: 16,
            train: p,
            test: 0,
            noise: 0.0,
            seed: 1,
        },
        param: Parameterization::Mup { gamma0: 1.0 },
        optimizer: OptimizerConfig::Gd { lr: 0.25 },
        steps,
        ..Default::default()
    };
    train.model.activation = act;
    train.model.depth = depth;
    train.model.centered = true;
    train.observe.every = 10;
    DmftConfig {
        train,
        samples,
        iterations: dmft::DEFAULT_ITERATIONS,
        damping: 1.0,
    }
}

fn main() {
    let only_fast = std::env::args().any(|a| a == "--fast");
    let c = cfg(Activation::Relu, 1, 16, 100, 4096);
    let t0 = Instant::now();
    let r = dmft::solve(&c, &Silent).expect("two-layer DMFT");
    println!(
        "two-layer relu DMFT  P=16 T=100 S=4096:            {:8.3} s  (loss {:.4} -> {:.4})",
        t0.elapsed().as_secs_f64(),
        r.loss[0],
        r.loss[100]
    );
    if only_fast {
        return;
    }
    let c = cfg(Activation::Tanh, 3, 16, 40, 1500);
    let t0 = Instant::now();
    let r = dmft::solve(&c, &Silent).expect("deep DMFT");
    println!(
        "depth-3 tanh DMFT    P=16 T=40 S=1500:             {:8.3} s  (loss {:.4} -> {:.4}, {} iterations, last change {:.1e})",
        t0.elapsed().as_secs_f64(),
        r.loss[0],
        r.loss[40],
        r.history.len(),
        r.history.last().copied().unwrap_or(f64::NAN)
    );
}
