//! Full-batch GD training steps per second of one MLP (D = 16, depth 3, P = 256, ReLU,
//! muP), the setting bench/run.sh compares with PyTorch on one thread: the steady-state
//! rate, setup left out as PyTorch's timing leaves it out.
//! Usage: bench_train [width] [steps] [cpu|gpu] [every] [seeds] [workers]
//! (`every`: record every this many steps, 0 or absent: only the first and the last;
//! `seeds`: the ensemble's S, trained as one batched run, default 1; `workers`: the CPU
//! run split over this many threads by hidden units, default 1: the rate is then the
//! first worker's, in its CPU time, and the wall rate is printed beside it). On the GPU
//! it also prints the kernels launched per training step.

use scaling_playground::backend::{Device, Gpu, GpuOptions};
use scaling_playground::nn::train::train_split_threads;
use scaling_playground::nn::train_on;
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

use common::{StepClock, train_config};

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
    let mut cfg = train_config(width, steps);
    if let Some(every) = args.get(3).and_then(|a| a.parse().ok())
        && every > 0
    {
        cfg.observe.every = every;
    }
    if let Some(seeds) = args.get(4).and_then(|a| a.parse().ok()) {
        cfg.seeds = seeds;
    }
    let data = cfg.data.load().expect("data");
    // CPU: the steady-state rate in thread CPU time (other jobs on a shared machine do
    // not count), between the loop's first and last progress ticks, so that setup is
    // left out as in bench/torch_train.py. GPU: wall time of the whole run (the CPU
    // waits for it; its ticks only say when work was recorded).
    let gpu = match &device {
        Device::Gpu(g) => Some(g.clone()),
        Device::Cpu => None,
    };
    let on_gpu = gpu.is_some();
    let launched = gpu.as_ref().map_or(0, Gpu::kernel_launches);
    let clock = StepClock::default();
    let w = Instant::now();
    let workers: usize = args.get(5).and_then(|a| a.parse().ok()).unwrap_or(1);
    let res = if workers > 1 && !on_gpu {
        let mut all = train_split_threads(&cfg, &data, workers, &clock).expect("train");
        let wall = steps as f64 / w.elapsed().as_secs_f64();
        println!("# split over {workers} threads: {wall:.1} steps/s wall, setup included");
        all.swap_remove(0)
    } else {
        train_on(device, &cfg, &data, &clock).expect("train")
    };
    if let Some(g) = &gpu {
        // every kernel of the run (the records' too) over its steps
        let per_step = (g.kernel_launches() - launched) as f64 / steps as f64;
        println!(
            "# {per_step:.1} kernel launches per step ({} seeds)",
            cfg.seeds
        );
    }
    let rate = if on_gpu {
        steps as f64 / w.elapsed().as_secs_f64()
    } else {
        clock
            .steps_per_second()
            .expect("at least two progress ticks")
    };
    println!(
        "train_width{width}_s{}[{}] {rate:.1} steps/s (final loss {:.4e})",
        cfg.seeds,
        match &res.backend.adapter {
            Some(a) => format!("gpu:{}", a.replace(' ', "_")),
            None => "cpu".into(),
        },
        res.train_loss.last().unwrap()[0]
    );
}
