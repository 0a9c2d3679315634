//! Full-batch GD training steps per second of one MLP (D = 16, depth 3, P = 256, ReLU,
//! muP), the setting bench/run.sh compares with PyTorch on one thread.
//! Usage: bench_train [width] [steps] [cpu|gpu]

use scaling_playground::backend::{Device, Gpu, GpuOptions};
use scaling_playground::config::{
    Activation, ModelConfig, ObserveConfig, OptimizerConfig, Parameterization, TrainConfig,
};
use scaling_playground::data::DataConfig;
use scaling_playground::nn::train_on;
use scaling_playground::progress::Silent;
use std::time::Instant;

/// Seconds this thread has run on a CPU (Linux `CLOCK_THREAD_CPUTIME_ID`), so that other
/// jobs on a shared machine do not count; wall-clock seconds elsewhere.
fn cpu_seconds() -> f64 {
    #[cfg(target_os = "linux")]
    {
        #[repr(C)]
        struct Timespec {
            sec: i64,
            nsec: i64,
        }
        unsafe extern "C" {
            fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
        }
        const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
        let mut ts = Timespec { sec: 0, nsec: 0 };
        // SAFETY: clock_gettime writes one timespec (two i64 on 64-bit Linux).
        if unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.sec as f64 + ts.nsec as f64 * 1e-9;
        }
    }
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

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
    let cfg = TrainConfig {
        data: DataConfig::Teacher {
            teacher: Default::default(),
            dim: 16,
            train: 256,
            test: 0,
            noise: 0.0,
            seed: 1,
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
            every: steps,
            test_loss: false,
            ..Default::default()
        },
    };
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
