//! Full-batch GD training steps per second of one MLP (D = 16, depth 3, P = 256, ReLU,
//! muP), the setting bench/run.sh compares with PyTorch on one thread.
//! Usage: bench_train [width] [steps] [cpu|gpu]

use scaling_playground::backend::{Device, Gpu, GpuOptions};
use scaling_playground::nn::train_on;
use scaling_playground::progress::Silent;
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

use common::{cpu_seconds, train_config};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let width: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(64);
    let steps: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let device = match args.get(2).map(String::as_str) {
        Some("gpu") => match Gpu::acquire(&GpuOptions {
            allow_software: true,
            ..Default::default()
        }) {
            Ok(g) => Device::Gpu(g),
            Err(e) => {
                println!("# no gpu: {e}");
                return;
            }
        },
        _ => Device::Cpu,
    };
    let cfg = train_config(width, steps);
    let data = cfg.data.load().expect("data");
    // Thread CPU time on the CPU (other jobs on a shared machine do not count), wall
    // time on the GPU (the CPU waits for it).
    let on_gpu = matches!(device, Device::Gpu(_));
    let (t, w) = (cpu_seconds(), Instant::now());
    let res = train_on(device, &cfg, &data, &Silent).expect("train");
    let s = if on_gpu {
        w.elapsed().as_secs_f64()
    } else {
        cpu_seconds() - t
    };
    println!(
        "train_width{width}[{}] {:.1} steps/s (final loss {:.4e})",
        res.backend.replace(' ', "_"),
        steps as f64 / s,
        res.train_loss.last().unwrap()[0]
    );
}
