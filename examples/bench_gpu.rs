//! GPU throughput natively over Vulkan: the WGSL SGEMM at 2048^3 and 4096^3 (vec4 and
//! scalar operand loads) and the time of one full-batch training step of a width-4096
//! MLP (D = 16, depth 3, P = 256, ReLU, muP, one seed, resident on the GPU), each set
//! against the card's fp32 peak.
//!
//! Usage: bench_gpu [--peak TFLOPS] [--quick] [--allow-software]
//!   --peak TFLOPS     fp32 peak of the card (default 67, an H200 SXM)
//!   --quick           small sizes (256^3, 512^3, width 256): an end-to-end check that
//!                     runs on a software adapter (implies --allow-software)
//!   --allow-software  accept Mesa lavapipe / SwiftShader

use scaling_playground::backend::{Device, Gemm, Gpu, GpuOptions, select};
use scaling_playground::nn::train_on;
use scaling_playground::progress::Silent;
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

/// Seconds per training step of the resident engine and its flops: the difference of
/// a `steps + 1`-step and a 1-step run (setup and the final readback cancel).
fn time_train_step(dev: &Device, width: usize, steps: usize) -> (f64, f64) {
    let cfg = |steps: usize| train_config(width, steps);
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
    let flops = select::train_step_flops(1, 256, 16, width, 3);
    (per_step, flops)
}
