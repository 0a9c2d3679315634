//! Adam steps per second of the bench transformer (`bench/transformer_bench.json`: 4
//! heads, depth 2, context 16, batch 16, one seed, the character corpus) at a given
//! width, on the CPU in this thread, the setting bench/run.sh compares with PyTorch on
//! one thread (`bench/torch_transformer.py`): the steady-state rate, setup left out as
//! PyTorch's timing leaves it out.
//! Usage: bench_transformer [width] [steps]

use scaling_playground::backend::DeviceChoice;
use scaling_playground::transformer::config::TransformerConfig;
use scaling_playground::transformer::train::{RunOptions, train_members};

#[path = "common/mod.rs"]
mod common;

use common::StepClock;

/// The benchmark's config with `width` and `steps` set, the loss recorded only at the
/// first and the last step.
fn bench_config(width: usize, steps: usize) -> TransformerConfig {
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../bench/transformer_bench.json")).expect("json");
    let o = v.as_object_mut().expect("an object");
    o.remove("kind");
    o["model"]["width"] = width.into();
    o["steps"] = steps.into();
    o["observe"]["every"] = steps.into();
    serde_json::from_value(v).expect("a transformer config")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let width: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(64);
    let steps: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let cfg = bench_config(width, steps);
    // the rate in thread CPU time between the loop's first and last progress ticks (the
    // CPU backend computes in the calling thread)
    let clock = StepClock::default();
    let (lrs, opts) = ([cfg.optimizer.lr()], RunOptions::default());
    let res = train_members(DeviceChoice::Cpu, &cfg, &lrs, &opts, &clock).expect("train");
    let rate = clock
        .steps_per_second()
        .expect("at least two progress ticks");
    println!(
        "transformer_width{width}[cpu] {rate:.1} steps/s (final loss {:.4})",
        res.train_loss.last().expect("a record")[0]
    );
}
