//! GPU throughput natively over Vulkan: the WGSL SGEMM at 2048^3 and 4096^3 (vec4 and
//! scalar operand loads) and the time of one full-batch training step of a width-4096
//! MLP (D = 16, depth 3, P = 256, ReLU, muP, one seed, resident on the GPU), each set
//! against the card's fp32 peak; the batched ensemble (S = 1, 8, 32 seeds of one width
//! trained as one product per layer: time per seed-step); and the lr-transfer-width
//! preset's sweep at widths 64..4096 with every cell on the GPU (wall time, GFLOP/s).
//!
//! Usage: bench_gpu [--peak TFLOPS] [--quick] [--allow-software]
//!   --peak TFLOPS     fp32 peak of the card (default 67, an H200 SXM)
//!   --quick           small sizes (256^3, 512^3, width 256, a 2-width sweep of 3
//!                     rates): an end-to-end check that
//!                     runs on a software adapter (implies --allow-software)
//!   --allow-software  accept Mesa lavapipe / SwiftShader

use scaling_playground::backend::{
    Device, DeviceChoice, DeviceKind, Gemm, Gpu, GpuOptions, select,
};
use scaling_playground::nn::train_on;
use scaling_playground::presets::preset;
use scaling_playground::progress::Silent;
use scaling_playground::run::{RunConfig, RunOutput};
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

use common::train_config;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let allow_software = quick || args.iter().any(|a| a == "--allow-software");
    let peak_tflops: f64 = args
        .iter()
        .position(|a| a == "--peak")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(67.0);
    let g = match Gpu::acquire(&GpuOptions {
        allow_software,
        ..Default::default()
    }) {
        Ok(g) => g,
        Err(e) => {
            println!("no GPU: {e}");
            std::process::exit(2);
        }
    };
    println!("adapter: {}", g.name());
    println!("fp32 peak: {peak_tflops} TFLOP/s");
    let peak = peak_tflops * 1e12;
    let dev = Device::Gpu(g.clone());
    let sizes: &[usize] = if quick { &[256, 512] } else { &[2048, 4096] };
    for &n in sizes {
        for vec4 in [true, false] {
            Gpu::set_matmul_vec4(vec4);
            let flops = 2.0 * (n as f64).powi(3);
            let secs = time_sgemm(&dev, n, if quick { 2 } else { 10 });
            let rate = flops / secs;
            println!(
                "sgemm {n}^3 {:<6} {:9.2} GFLOP/s  {:5.1}% of peak  ({:.3} ms)",
                if vec4 { "vec4" } else { "scalar" },
                rate / 1e9,
                100.0 * rate / peak,
                secs * 1e3
            );
        }
    }
    Gpu::set_matmul_vec4(true);
    let width = if quick { 256 } else { 4096 };
    let (per_step, flops) = time_train_step(&dev, width, if quick { 4 } else { 20 });
    println!(
        "train step width {width} (D 16, depth 3, P 256, GD): {:.3} ms  {:.2} GFLOP/s  \
         {:.1}% of peak",
        per_step * 1e3,
        flops / per_step / 1e9,
        100.0 * flops / per_step / peak
    );
    for (w, seeds) in if quick {
        vec![(64, [1, 4, 8])]
    } else {
        vec![(256, [1, 8, 32]), (1024, [1, 8, 32])]
    } {
        for s in seeds {
            let (per_step, flops) = time_train_step_seeds(&dev, w, s, if quick { 4 } else { 20 });
            println!(
                "ensemble width {w}, S = {s:>2}: {:.3} ms per step, {:.3} ms per seed-step, {:.2} GFLOP/s",
                per_step * 1e3,
                per_step * 1e3 / s as f64,
                flops / per_step / 1e9
            );
        }
    }
    sweep(&g, quick, peak);
    if let Some(why) = g.lost() {
        println!("GPU FAILED during the benchmark: {why}");
        std::process::exit(1);
    }
}

/// Seconds per `n^3` product: `reps` products recorded back to back, then one wait.
fn time_sgemm(dev: &Device, n: usize, reps: usize) -> f64 {
    let a: Vec<f32> = (0..n * n)
        .map(|i| ((i * 7 % 13) as f32 - 6.0) / 13.0)
        .collect();
    let b: Vec<f32> = (0..n * n)
        .map(|i| ((i * 5 % 11) as f32 - 5.0) / 11.0)
        .collect();
    let (ta, tb) = (dev.upload(&a), dev.upload(&b));
    let mut tc = dev.zeros(n * n);
    let flag = dev.zeros(4);
    let g = Gemm::new(1, n, n, n);
    // warm up (pipelines, bind groups, clocks), then wait for the device
    dev.gemm(&g, &ta, &tb, &mut tc);
    let _ = dev.download(&flag);
    let t = Instant::now();
    for _ in 0..reps {
        dev.gemm(&g, &ta, &tb, &mut tc);
    }
    // a tiny download waits for everything submitted before it
    let _ = dev.download(&flag);
    let secs = t.elapsed().as_secs_f64() / reps as f64;
    // spot check one entry against the host
    let c = dev.download(&tc);
    let (i, j) = (n / 3, n / 2);
    let want: f64 = (0..n)
        .map(|l| a[i * n + l] as f64 * b[l * n + j] as f64)
        .sum();
    let got = c[i * n + j] as f64;
    assert!(
        (got - want).abs() <= 1e-3 * (1.0 + want.abs()),
        "sgemm {n}: C[{i},{j}] = {got}, want {want}"
    );
    secs
}

/// The lr-transfer-width preset at widths 64..4096 (quick: 64 and 128, 3 rates), every
/// cell trained on the GPU one after another: wall time and the sweep's GFLOP/s.
fn sweep(g: &Gpu, quick: bool, peak: f64) {
    let Some(RunConfig::Transfer(mut c)) = preset("lr-transfer-width") else {
        panic!("lr-transfer-width is a transfer preset");
    };
    c.widths = if quick {
        vec![64, 128]
    } else {
        vec![64, 128, 256, 512, 1024, 2048, 4096]
    };
    if quick {
        c.lrs.truncate(3);
    }
    let (p, d, depth, steps) = (256, 16, c.base.model.depth, c.base.steps);
    let flops: f64 = c
        .widths
        .iter()
        .map(|&w| select::train_step_flops(1, p, d, w, depth) * steps as f64)
        .sum::<f64>()
        * (c.lrs.len() * c.params.len()) as f64;
    let cfg = RunConfig::Transfer(c);
    let t = Instant::now();
    let out = pollster::block_on(cfg.run_shard_async(0, 1, DeviceChoice::Gpu, Ok(g), &Silent))
        .expect("sweep");
    let secs = t.elapsed().as_secs_f64();
    let RunOutput::Shard(sh) = out else {
        panic!("a shard")
    };
    let on_gpu = sh
        .cells
        .iter()
        .filter(|c| c.backend.device == DeviceKind::Gpu)
        .count();
    println!(
        "lr-transfer-width sweep, {} cells ({on_gpu} on the GPU): {secs:.1} s, {:.2} GFLOP/s, {:.1}% of peak",
        sh.cells.len(),
        flops / secs / 1e9,
        100.0 * flops / secs / peak
    );
}

/// [`time_train_step`] for an ensemble of `seeds` networks of one width.
fn time_train_step_seeds(dev: &Device, width: usize, seeds: usize, steps: usize) -> (f64, f64) {
    let cfg = |steps: usize| {
        let mut c = train_config(width, steps);
        c.seeds = seeds;
        c
    };
    step_time(
        dev,
        &cfg,
        steps,
        select::train_step_flops(seeds, 256, 16, width, 3),
    )
}

/// Seconds per training step of the resident engine and its flops: the difference of
/// a `steps + 1`-step and a 1-step run (setup and the final readback cancel).
fn time_train_step(dev: &Device, width: usize, steps: usize) -> (f64, f64) {
    step_time(
        dev,
        &|steps| train_config(width, steps),
        steps,
        select::train_step_flops(1, 256, 16, width, 3),
    )
}

fn step_time(
    dev: &Device,
    cfg: &dyn Fn(usize) -> scaling_playground::config::TrainConfig,
    steps: usize,
    flops: f64,
) -> (f64, f64) {
    let data = cfg(1).data.load().expect("data");
    let run = |steps: usize| {
        let t = Instant::now();
        let res = train_on(dev.clone(), &cfg(steps), &data, &Silent).expect("train");
        assert_eq!(
            res.backend.device,
            scaling_playground::backend::DeviceKind::Gpu,
            "ran on {:?}",
            res.backend
        );
        t.elapsed().as_secs_f64()
    };
    run(1); // warm up
    let one = run(1);
    let many = run(steps + 1);
    let per_step = ((many - one) / steps as f64).max(1e-9);
    (per_step, flops)
}
