//! Pieces the benchmark examples share (`#[path]`-included by each; not an example).
#![allow(dead_code)] // each example uses its own subset

use scaling_playground::config::{
    Activation, ModelConfig, ObserveConfig, OptimizerConfig, Parameterization, TrainConfig,
};
use scaling_playground::data::DataConfig;
use scaling_playground::progress::Progress;
use std::sync::Mutex;
use std::time::Instant;

/// A [`Progress`] that notes this thread's CPU time at every training tick, for the
/// steady-state rate: steps between the first and the last tick of the loop over the
/// time between them. That leaves out what PyTorch's timing leaves out too (building the
/// data and the weights, the first forward pass, the final record). CPU runs only: a
/// GPU's ticks come when its work is recorded, not done.
#[derive(Default)]
pub struct StepClock(Mutex<Vec<(u64, f64)>>);

impl Progress for StepClock {
    fn update(&self, stage: &str, done: u64, total: u64) {
        if stage == "train" && done < total {
            self.0.lock().unwrap().push((done, cpu_seconds()));
        }
    }
}

impl StepClock {
    /// Steps per second between the first and the last tick (None below two ticks).
    pub fn steps_per_second(&self) -> Option<f64> {
        let ticks = self.0.lock().unwrap();
        let (&(d0, t0), &(d1, t1)) = (ticks.first()?, ticks.last()?);
        (d1 > d0).then(|| (d1 - d0) as f64 / (t1 - t0))
    }
}

/// Seconds this thread has run on a CPU (Linux `CLOCK_THREAD_CPUTIME_ID`), so that other
/// jobs on a shared machine do not count; wall-clock seconds elsewhere.
pub fn cpu_seconds() -> f64 {
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

/// The training benchmark's setting (bench/run.sh, bench/torch_train.py and
/// bench/wasm_train.mjs use the same): D = 16, depth-3 ReLU MLP of `width` under muP,
/// P = 256 teacher points, full-batch GD, one seed, recorded only at the end.
pub fn train_config(width: usize, steps: usize) -> TrainConfig {
    TrainConfig {
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
    }
}
