//! Fixtures shared by the test binaries (each area's `main.rs` includes this file):
//! the GPU adapter if there is one, relative gaps, a rayon pool of a given size, and
//! small tasks.
#![allow(dead_code)] // each binary uses a part

use scaling_playground::backend::{Gpu, GpuOptions};
use scaling_playground::data::{DataConfig, Teacher};

/// The GPU (software adapters such as lavapipe included), or `None` with a line saying
/// that the GPU cases of `what` are skipped and why.
pub fn gpu(what: &str) -> Option<Gpu> {
    match Gpu::acquire(&GpuOptions {
        allow_software: true,
        ..Default::default()
    }) {
        Ok(g) => Some(g),
        Err(e) => {
            println!("SKIPPING {what}: no usable GPU adapter ({e})");
            None
        }
    }
}

/// `max_i |a_i - b_i| / |b_i|`.
pub fn max_rel_gap(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "curves of different lengths");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs())
        .fold(0.0, f64::max)
}

/// `|a - b|_F / |b|_F`.
pub fn frob_rel(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

/// Run `f` in a rayon pool of `threads` threads (results must not depend on it).
pub fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Gaussian inputs in `dim` dimensions with a `teacher`, `train` and `test` points.
pub fn teacher(teacher: Teacher, dim: usize, train: usize, test: usize, seed: u64) -> DataConfig {
    DataConfig::Teacher {
        teacher,
        dim,
        train,
        test,
        noise: 0.0,
        seed,
    }
}
